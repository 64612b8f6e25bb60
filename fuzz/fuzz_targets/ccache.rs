#![no_main]
//! Reading an MIT credential cache never panics, whatever follows its magic bytes.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = why401_wire::ccache::decode(data);
    let mut with_magic = vec![0x05, 0x04];
    with_magic.extend_from_slice(data);
    let _ = why401_wire::ccache::decode(&with_magic);
});
