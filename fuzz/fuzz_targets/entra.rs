#![no_main]
//! Reading any input as an Entra claims challenge, token error, Graph error or x-ms-diagnostics
//! value never panics.
use libfuzzer_sys::fuzz_target;
use why401_wire::entra::{ApiError, ClaimsChallenge, Diagnostics, TokenError, aadsts_codes};

fuzz_target!(|data: &[u8]| {
    let _ = TokenError::parse(data);
    let _ = ApiError::parse(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = ClaimsChallenge::parse(s);
        let _ = Diagnostics::parse(s);
        let _ = aadsts_codes(s);
    }
});
