#![no_main]
//! Any text read as the gateway's configuration, and any request asked of the policy it gives,
//! never panics; every error points inside the text.
use libfuzzer_sys::fuzz_target;
use why401_gate::{Config, Identity, Request};

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let cut = (split as usize * rest.len() / 256).min(rest.len());
    let (text, req) = rest.split_at(cut);
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let config = match Config::parse(text, "fuzz.toml") {
        Ok(c) => c,
        Err(errors) => {
            assert!(errors.iter().all(|e| e.line <= text.lines().count() + 1));
            return;
        }
    };
    let req = String::from_utf8_lossy(req);
    let mut parts = req.splitn(4, '\n');
    let (host, path, user) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("/"),
        parts.next(),
    );
    let who = user.map(|u| Identity {
        user: u.to_string(),
        groups: parts.next().map(|g| g.split(',').map(String::from).collect()).unwrap_or_default(),
        ..Default::default()
    });
    let ip = std::net::IpAddr::from([req.len() as u8, 0, 0, 1]);
    let at = jiff::Timestamp::from_second(1_700_000_000 + req.len() as i64 * 3_600).unwrap();
    let _ = config.policy.decide(&Request { host, path, method: "GET", ip, at, who: who.as_ref() });
});
