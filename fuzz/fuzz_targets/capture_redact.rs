#![no_main]
//! Writing a redacted copy of any bytes read as a HAR or a NetLog never panics.
use libfuzzer_sys::fuzz_target;
use why401_capture::{Kind, redact};

fuzz_target!(|data: &[u8]| {
    for kind in [Kind::Har, Kind::Netlog] {
        let mut out = Vec::new();
        let _ = redact::json(kind, data, &mut out);
    }
});
