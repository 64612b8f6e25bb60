#![no_main]
//! Reading any bytes as a HAR, then grouping and diagnosing its flows, never panics.
use libfuzzer_sys::fuzz_target;
use why401_capture::flow::Flows;

fuzz_target!(|data: &[u8]| {
    let mut flows = Vec::new();
    let mut sink = Flows::new(|f| flows.push(f));
    let info = why401_capture::har::read(data, &mut sink);
    sink.finish();
    for f in &flows {
        let _ = why401_doctor::capture::diagnose(&info, f);
    }
});
