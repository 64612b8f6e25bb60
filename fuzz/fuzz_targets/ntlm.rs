#![no_main]
//! NTLM message decoding never panics, whatever the bytes after the signature.
use libfuzzer_sys::fuzz_target;
use why401_wire::ntlm;

fuzz_target!(|data: &[u8]| {
    let _ = ntlm::decode(data);
    let mut m = ntlm::SIGNATURE.to_vec();
    m.extend_from_slice(data);
    let _ = ntlm::decode(&m);
});
