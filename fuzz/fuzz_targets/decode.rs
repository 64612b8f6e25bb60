#![no_main]
//! The whole `decode` pipeline — recognition, every parser, every rule — never panics.
use libfuzzer_sys::fuzz_target;
use why401_doctor::decode::{Context, decode_text};

fuzz_target!(|data: &str| {
    let ctx = Context { now: 1_800_000_000, leeway: 60, ..Context::default() };
    let _ = decode_text(data, &ctx);
});
