#![no_main]
//! Any bytes read as a breached-password filter: refused, or read and asked without a panic
//! (a descriptor that does not fit its fingerprints must never index out of them).
use libfuzzer_sys::fuzz_target;
use why401_gate::breached::Breached;

fuzz_target!(|data: &[u8]| {
    let mut bytes = b"W401BF16".to_vec();
    bytes.extend_from_slice(data);
    for b in [data, &bytes[..]] {
        if let Ok(f) = Breached::read(b) {
            let _ = f.contains("correct horse battery staple");
            let _ = f.contains(&String::from_utf8_lossy(data));
        }
    }
});
