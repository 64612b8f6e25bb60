#![no_main]
//! Reading a "Copy as cURL" command line never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    let _ = why401_probe::curl::parse(data);
});
