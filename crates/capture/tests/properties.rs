//! Property tests of every capture reader: any bytes never panic, and a capture cut at any byte
//! still yields every entry (event) complete before the cut.

use proptest::prelude::*;
use why401_capture::flow::Flows;
use why401_capture::{Collect, Kind, har, netlog, redact, saz};

/// A HAR of `n` entries, each on its own line; with the byte offset where each entry ends.
fn har_text(n: usize) -> (String, Vec<usize>) {
    let mut s = String::from(
        "{\"log\":{\"version\":\"1.2\",\"creator\":{\"name\":\"WebInspector\",\"version\":\"537.36\"},\"entries\":[\n",
    );
    let mut ends = Vec::new();
    for i in 0..n {
        if i > 0 {
            s.push_str(",\n");
        }
        s.push_str(&format!(
            "{{\"startedDateTime\":\"2026-12-06T10:00:{:02}.000Z\",\"request\":{{\"method\":\"GET\",\"url\":\"https://a.test/{i}\",\"headers\":[{{\"name\":\"Accept\",\"value\":\"*/*\"}}]}},\"response\":{{\"status\":{},\"headers\":[{{\"name\":\"WWW-Authenticate\",\"value\":\"Basic realm=\\\"r\\\"\"}}],\"content\":{{\"text\":\"x\"}}}}}}",
            i % 60,
            if i % 2 == 0 { 401 } else { 200 }
        ));
        ends.push(s.len());
    }
    s.push_str("\n]}}\n");
    (s, ends)
}

/// A NetLog of `n` requests (each: start, headers sent, headers read, end), one event per line;
/// with the byte offset where each READ_RESPONSE_HEADERS event ends.
fn netlog_text(n: usize) -> (String, Vec<usize>) {
    let mut s = String::from(
        "{\"constants\":{\"logEventTypes\":{\"REQUEST_ALIVE\":2,\"URL_REQUEST_START_JOB\":7,\"HTTP_TRANSACTION_SEND_REQUEST_HEADERS\":150,\"HTTP_TRANSACTION_READ_RESPONSE_HEADERS\":160},\"logSourceType\":{\"URL_REQUEST\":1},\"logEventPhase\":{\"PHASE_BEGIN\":1,\"PHASE_END\":2,\"PHASE_NONE\":0},\"timeTickOffset\":\"1765015200000\",\"logCaptureMode\":\"IncludeSensitive\"},\n\"events\": [\n",
    );
    let mut ends = Vec::new();
    for i in 0..n {
        let id = 100 + i;
        let ev = |t: u32, phase: u32, params: &str| {
            format!(
                "{{\"params\":{params},\"phase\":{phase},\"source\":{{\"id\":{id},\"start_time\":\"{i}\",\"type\":1}},\"time\":\"{i}\",\"type\":{t}}},\n"
            )
        };
        s.push_str(&ev(2, 1, "{}"));
        s.push_str(&ev(
            7,
            1,
            &format!("{{\"method\":\"GET\",\"url\":\"https://a.test/{i}\"}}"),
        ));
        s.push_str(&ev(
            150,
            0,
            "{\"headers\":[\"Host: a.test\",\"Authorization: Basic YTpi\"],\"line\":\"GET / HTTP/1.1\\r\\n\"}",
        ));
        s.push_str(&ev(
            160,
            0,
            "{\"headers\":[\"HTTP/1.1 401 Unauthorized\",\"WWW-Authenticate: Basic realm=\\\"r\\\"\"]}",
        ));
        ends.push(s.len() - 2); // the event's closing brace, before ",\n"
        s.push_str(&ev(2, 2, "{}"));
    }
    s.push_str("{}]}\n");
    (s, ends)
}

fn read_har(bytes: &[u8]) -> usize {
    let mut c = Collect::default();
    har::read(bytes, &mut c);
    c.legs.len()
}

fn read_netlog(bytes: &[u8]) -> usize {
    let mut c = Collect::default();
    netlog::read(bytes, &mut c);
    c.legs
        .iter()
        .filter(|l| l.exchange.response.is_some())
        .count()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut flows = Vec::new();
        let mut sink = Flows::new(|f| flows.push(f));
        let info = har::read(&data[..], &mut sink);
        let _ = netlog::read(&data[..], &mut sink);
        let _ = saz::read(std::io::Cursor::new(&data), &mut sink);
        sink.finish();
        for f in &flows {
            let _ = why401_doctor::capture::diagnose(&info, f);
        }
        for kind in [Kind::Har, Kind::Netlog] {
            let _ = redact::json(kind, &data[..], &mut Vec::new());
        }
    }

    #[test]
    fn json_shaped_text_never_panics(text in "[\\[\\]{}\":,a-z0-9 \\-]{0,300}") {
        let wrapped = format!("{{\"log\":{{\"entries\":[{text}");
        let _ = read_har(wrapped.as_bytes());
        let wrapped = format!("{{\"constants\":{{}},\"events\":[{text}");
        let _ = read_netlog(wrapped.as_bytes());
    }

    #[test]
    fn a_har_cut_anywhere_keeps_its_complete_entries(n in 1usize..12, cut in 0.0f64..1.0) {
        let (text, ends) = har_text(n);
        let at = (text.len() as f64 * cut) as usize;
        let complete = ends.iter().filter(|e| **e <= at).count();
        prop_assert_eq!(read_har(&text.as_bytes()[..at]), complete);
        prop_assert_eq!(read_har(text.as_bytes()), n);
    }

    #[test]
    fn a_netlog_cut_anywhere_keeps_its_complete_events(n in 1usize..10, cut in 0.0f64..1.0) {
        let (text, ends) = netlog_text(n);
        let at = (text.len() as f64 * cut) as usize;
        let complete = ends.iter().filter(|e| **e <= at).count();
        prop_assert_eq!(read_netlog(&text.as_bytes()[..at]), complete);
        prop_assert_eq!(read_netlog(text.as_bytes()), n);
    }
}
