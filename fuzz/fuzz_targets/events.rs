#![no_main]
//! Reading any bytes as an event log (an XML export through the streaming reader, or an .evtx
//! file through the evtx crate), folding and diagnosing it, never panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut pass = why401_events::Pass::new(why401_events::Options::default());
    why401_events::read_bytes(&mut pass, "fuzz.xml", data);
    let dir = std::env::temp_dir().join(format!("why401-fuzz-events-{}", std::process::id()));
    let path = dir.with_extension("evtx");
    if data.starts_with(b"ElfFile\0") && std::fs::write(&path, data).is_ok() {
        let _ = pass.read_path(&path, "fuzz.evtx");
    }
    let s = pass.finish(&[], None);
    let _ = why401_doctor::events::diagnose(&s, None, &Default::default());
});
