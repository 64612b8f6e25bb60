#![no_main]
//! Reading an IIS detailed error page never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Some(e) = why401_wire::iis::parse_detailed_error(data) {
        let _ = e.win32();
    }
});
