#![no_main]
//! Reading any text as an htpasswd or htdigest file never panics.
use libfuzzer_sys::fuzz_target;
use why401_lint::{Input, lint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = lint(&[Input::text("htpasswd", text.clone())]);
    let _ = lint(&[Input::text("htdigest", text)]);
});
