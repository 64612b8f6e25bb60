#![no_main]
//! Reading any text as an IIS Failed Request Tracing file, summing and diagnosing it, never
//! panics.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(t) = why401_events::freb::read(data, "fuzz.xml") {
        let s = why401_events::freb::summarize(vec![t], vec![]);
        let _ = why401_doctor::freb::diagnose(&s);
    }
});
