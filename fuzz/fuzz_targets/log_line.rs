#![no_main]
//! Every log-line reader is total: an nginx `log_format` or Apache `LogFormat` string (first
//! line of the input) and a line read with it, an IIS `#Fields` directive and a line, a JSON
//! line with each preset, an error-log line, format sniffing, and the head of an input read
//! as IIS (directives, a fragment without `#Fields`): errors, never panics.
use libfuzzer_sys::fuzz_target;
use why401_logs::{errorlog, format};

fuzz_target!(|data: &[u8]| {
    let (head, line) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[..0]),
    };
    let head_str = String::from_utf8_lossy(head);
    if let Ok(layout) = format::ncsa::Layout::parse(&head_str) {
        let _ = layout.parse_line(line, &mut Default::default());
    }
    let _ = format::ncsa::Layout::combined().parse_line(data, &mut Default::default());
    let iis = format::iis::Layout::parse(&head_str);
    let _ = format::iis::parse_line(&iis, line, &mut Default::default());
    for preset in ["generic", "caddy", "traefik"] {
        let _ = format::json::Mapping::preset(preset)
            .expect("a preset")
            .parse_line(data);
    }
    let _ = errorlog::parse_line(data);
    let _ = format::detect(data);
    let _ = format::Choice::Sniff.for_input("fuzz", data);
    let _ = format::Choice::Iis { start: None }.for_input("fuzz", data);
    let _ = format::iis::Layout::default_for(data.split(|&b| b == b'\n'));
});
