#![no_main]
//! The whole log pass on arbitrary bytes: no panic, and cutting the file into small chunks
//! (scanned in parallel, merged in order) gives exactly the summary of one sequential read.
use libfuzzer_sys::fuzz_target;
use why401_logs::{Input, Options, analyze};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    // The first byte picks the chunk size; the rest is the log.
    let chunk = 1 + data[0] as usize * 4;
    let dir = std::env::temp_dir().join(format!("why401-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("access.log");
    std::fs::write(&path, &data[1..]).expect("writing the temporary log");
    let run = |chunk_size| {
        let opts = Options {
            chunk_size,
            ..Options::default()
        };
        analyze(&[Input::Path(path.display().to_string())], &opts, &|_| {})
            .map(|p| p.into_summary())
    };
    match (run(usize::MAX / 2), run(chunk)) {
        (Ok(whole), Ok(cut)) => assert_eq!(whole, cut, "chunking changed the summary"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("one read failed, the other did not: {a:?} / {b:?}"),
    }
});
