#![no_main]
//! Set-Cookie parsing and the sending matcher never panic.
use libfuzzer_sys::fuzz_target;
use why401_wire::cookie;

fuzz_target!(|data: &str| {
    if let Ok(c) = cookie::parse_set_cookie(data, 1_800_000_000) {
        let o = cookie::Origin { scheme: "https", host: "a.example.com", path: "/x/y", at: 1_800_000_000 };
        let r = cookie::Request { scheme: "http", host: "b.example.com", path: "/x", now: 1_800_000_100, cross_site: true, top_level_safe_navigation: false };
        let _ = c.sent_with(o, r);
    }
});
