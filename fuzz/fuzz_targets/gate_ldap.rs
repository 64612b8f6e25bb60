#![no_main]
//! Any text a directory sends back: a bind error's diagnostic (its AD `data` code) and a group's
//! DN (its first RDN's value, escapes undone) are read without a panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let _ = why401_gate::ldap::bind_refusal(&s);
    let _ = why401_gate::ldap::first_rdn_value(&s);
});
