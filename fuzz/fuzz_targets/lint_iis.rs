#![no_main]
//! Linting any text as web.config or applicationHost.config never panics.
use libfuzzer_sys::fuzz_target;
use why401_lint::{Input, lint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = lint(&[Input::text("web.config", text.clone())]);
    let _ = lint(&[Input::text("applicationHost.config", text)]);
});
