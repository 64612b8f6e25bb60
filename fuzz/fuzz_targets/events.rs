#![no_main]
//! Reading any bytes as an event log (an XML export through the streaming reader, or an .evtx
//! file through the BinXML reader and the evtx crate), folding and diagnosing it, never panics.
//! Bytes that are no .evtx file are also tried as the records of one chunk behind a valid file
//! and chunk header, so that the fuzzer reaches the BinXML reader.
use libfuzzer_sys::fuzz_target;

fn one_chunk_file(records: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 4096 + 65536];
    f[..8].copy_from_slice(b"ElfFile\0");
    f[32..36].copy_from_slice(&128u32.to_le_bytes()); // header size
    f[36..38].copy_from_slice(&1u16.to_le_bytes()); // minor version
    f[38..40].copy_from_slice(&3u16.to_le_bytes()); // major version
    f[40..42].copy_from_slice(&4096u16.to_le_bytes()); // header block size
    f[42..44].copy_from_slice(&1u16.to_le_bytes()); // chunk count
    let c = &mut f[4096..];
    c[..8].copy_from_slice(b"ElfChnk\0");
    c[16..24].copy_from_slice(&u64::MAX.to_le_bytes()); // last record number
    c[32..40].copy_from_slice(&u64::MAX.to_le_bytes()); // last record id
    c[40..44].copy_from_slice(&128u32.to_le_bytes());
    let n = records.len().min(65536 - 512);
    c[48..52].copy_from_slice(&((512 + n) as u32).to_le_bytes()); // free space offset
    c[512..512 + n].copy_from_slice(&records[..n]);
    f
}

fuzz_target!(|data: &[u8]| {
    let mut pass = why401_events::Pass::new(why401_events::Options::default());
    why401_events::read_bytes(&mut pass, "fuzz.xml", data);
    let dir = std::env::temp_dir().join(format!("why401-fuzz-events-{}", std::process::id()));
    let path = dir.with_extension("evtx");
    let file = if data.starts_with(b"ElfFile\0") {
        data.to_vec()
    } else {
        one_chunk_file(data)
    };
    if std::fs::write(&path, file).is_ok() {
        let _ = pass.read_path(&path, "fuzz.evtx");
    }
    let s = pass.finish(&[], None);
    let _ = why401_doctor::events::diagnose(&s, None, &Default::default());
});
