#![no_main]
//! SPNEGO / Kerberos token decoding never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = why401_wire::spnego::decode(data);
});
