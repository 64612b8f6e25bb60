#![no_main]
//! Basic decoding never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = why401_wire::basic::decode(data);
});
