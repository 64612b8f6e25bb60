#![no_main]
//! Linting any text as an Apache configuration or .htaccess never panics.
use libfuzzer_sys::fuzz_target;
use why401_lint::{Input, lint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = lint(&[Input::text("httpd.conf", format!("<Directory /x>\n{text}\n</Directory>\n"))]);
    let _ = lint(&[Input::text("site/.htaccess", text)]);
});
