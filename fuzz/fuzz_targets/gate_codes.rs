#![no_main]
//! Any second-factor code a client types, and any sealed secret a damaged row holds: checked
//! without a panic, and nothing opens that was not sealed under the key.
use libfuzzer_sys::fuzz_target;
use why401_gate::factors;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = factors::check_totp(b"12345678901234567890", &s, 1_700_000_000);
    let _ = factors::is_recovery_code(&s);
    let _ = factors::recovery_hash(&s);
    let _ = factors::from_base32(&s);
    let sealer = factors::Sealer::from_key(&[7u8; 32]).expect("a 32-byte key");
    assert!(sealer.open("factor", data).is_none());
});
