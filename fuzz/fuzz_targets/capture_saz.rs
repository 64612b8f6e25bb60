#![no_main]
//! Reading any bytes as a Fiddler SAZ (a zip), and writing its redacted copy, never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut c = why401_capture::Collect::default();
    let _ = why401_capture::saz::read(std::io::Cursor::new(data), &mut c);
    let _ = why401_capture::redact::saz_copy(
        std::io::Cursor::new(data),
        std::io::Cursor::new(Vec::new()),
    );
});
