#![no_main]
//! Classifying a bare token never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = why401_wire::token::classify(data);
});
