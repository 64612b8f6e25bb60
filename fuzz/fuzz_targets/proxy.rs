#![no_main]
//! Reading a proxy setting (`-x`, `HTTPS_PROXY`) or a `NO_PROXY` entry never panics, and a
//! bypass entry that reads is matched against any URL without panicking.
use libfuzzer_sys::fuzz_target;
use why401_probe::proxy::{Bypass, parse_proxy, redact};

fuzz_target!(|data: &str| {
    let _ = redact(data);
    if let Ok(url) = parse_proxy(data) {
        let _ = why401_probe::proxy::credentials_in(&url);
    }
    for entry in data.split(',') {
        if let Ok(b) = Bypass::parse(entry)
            && let Ok(url) = url::Url::parse(&format!("http://{}/", entry.trim()))
        {
            let _ = b.matches(&url);
        }
    }
});
