#![no_main]
//! WWW-Authenticate parsing never panics, and formatting what it parsed parses back the same.
use libfuzzer_sys::fuzz_target;
use why401_wire::challenge;

fuzz_target!(|data: &str| {
    let once = challenge::parse(data.split('\n'));
    let again = challenge::parse_one(&once.to_header_value());
    assert_eq!(once.challenges, again.challenges);
});
