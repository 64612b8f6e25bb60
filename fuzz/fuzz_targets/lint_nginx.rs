#![no_main]
//! Linting any text as an nginx configuration (and as an `nginx -T` dump) never panics.
use libfuzzer_sys::fuzz_target;
use why401_lint::{Input, lint};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = lint(&[Input::text("nginx.conf", text.clone())]);
    let dump = format!("# configuration file /a.conf:\n{text}\n# configuration file /b.conf:\ninclude /a.conf;\n");
    let _ = lint(&[Input::text("-", dump)]);
    let _ = why401_lint::nginx::outline(&text);
});
