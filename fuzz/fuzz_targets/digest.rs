#![no_main]
//! Reading Digest challenges and responses, and verifying them, never panics.
use libfuzzer_sys::fuzz_target;
use why401_wire::{challenge, credentials, digest};

fuzz_target!(|data: &str| {
    for c in challenge::parse_one(data).challenges {
        let _ = digest::DigestChallenge::from_challenge(&c);
    }
    if let Ok(r) = digest::ReceivedDigest::from_credentials(&credentials::parse(data)) {
        let _ = r.verify("u", "p", "GET", b"");
    }
});
