#![no_main]
//! Authorization parsing and redaction never panic.
use libfuzzer_sys::fuzz_target;
use why401_wire::credentials;

fuzz_target!(|data: &str| {
    let c = credentials::parse(data);
    let _ = c.redacted();
    let _ = credentials::intended_token(&c);
});
