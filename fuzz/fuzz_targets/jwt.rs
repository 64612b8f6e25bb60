#![no_main]
//! JWT decoding and judging never panic.
use libfuzzer_sys::fuzz_target;
use why401_wire::jwt;

fuzz_target!(|data: &str| {
    if let Ok(jwt::Jwt::Signed(j)) = jwt::decode(data) {
        let _ = j.problems(1_800_000_000, 60);
        let _ = (j.audiences(), j.scopes(), j.roles());
    }
});
