#![no_main]
//! The whole `decode` pipeline — bytes to text, recognition, every parser, every rule — never
//! panics. Bytes, as the binary reads them: input that is not UTF-8 is part of the contract.
use libfuzzer_sys::fuzz_target;
use why401_doctor::decode::{Context, decode_bytes};

fuzz_target!(|data: &[u8]| {
    let ctx = Context { now: 1_800_000_000, leeway: 60, ..Context::default() };
    let _ = decode_bytes(data, &ctx);
});
