//! Property tests of the event readers: any bytes never panic, and an XML export cut at any
//! byte still yields every event complete before the cut, with the cut one reported.

use proptest::prelude::*;
use why401_events::xml::{Item, read};

/// An export of `n` events, wevtutil's shape; with the byte offset where each event ends.
fn export(n: usize) -> (String, Vec<usize>) {
    let mut s = String::new();
    let mut ends = Vec::new();
    for i in 0..n {
        s.push_str(&format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><TimeCreated SystemTime='2026-11-25T10:00:{:02}.622556400Z'/><EventRecordID>{i}</EventRecordID><Computer>WEB01</Computer></System><EventData><Data Name='TargetUserName'>user{i}</Data><Data Name='SubStatus'>0xc000006a</Data><Data Name='IpAddress'>10.0.0.{}</Data></EventData></Event>",
            i % 60,
            i % 250
        ));
        ends.push(s.len());
        s.push_str("\r\n");
    }
    (s, ends)
}

fn run(bytes: &[u8]) -> (Vec<u64>, Vec<(String, String)>) {
    let (mut ids, mut bad) = (Vec::new(), Vec::new());
    read(bytes, &mut |i| match i {
        Item::Event(r) => ids.push(r.record_id),
        Item::Problem(p, e) => bad.push((p, e)),
    })
    .unwrap();
    (ids, bad)
}

proptest! {
    #[test]
    fn any_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = run(&bytes);
        let mut pass = why401_events::Pass::new(why401_events::Options::default());
        why401_events::read_bytes(&mut pass, "x.xml", &bytes);
        let _ = pass.finish(&[], None);
    }

    #[test]
    fn xml_fragments_never_panic(parts in proptest::collection::vec(
        prop_oneof![
            Just("<Event>".to_string()), Just("</Event>".to_string()), Just("<Events>".to_string()),
            Just("<System><EventID>4625</EventID></System>".to_string()),
            Just("<EventData><Data Name='Status'>0x18</Data></EventData>".to_string()),
            "[ -~]{0,20}",
        ], 0..30)) {
        let _ = run(parts.concat().as_bytes());
    }

    #[test]
    fn a_cut_export_keeps_every_complete_event(n in 1usize..40, cut_frac in 0.0f64..1.0) {
        let (text, ends) = export(n);
        let cut = (text.len() as f64 * cut_frac) as usize;
        let (ids, bad) = run(&text.as_bytes()[..cut]);
        let complete = ends.iter().filter(|e| **e <= cut).count();
        prop_assert_eq!(ids, (0..complete as u64).collect::<Vec<_>>());
        // The event the cut fell in is reported, unless the cut fell between events (or
        // before its tag was whole enough to be one).
        let tail = &text[if complete == 0 { 0 } else { ends[complete - 1] }..cut];
        prop_assert_eq!(bad.len(), usize::from(tail.contains("<Event")));
    }
}

proptest! {
    #[test]
    fn any_text_read_as_a_trace_never_panics(s in ".{0,400}", parts in proptest::collection::vec(
        prop_oneof![
            Just("<failedRequest statusCode=\"401.2\">".to_string()), Just("</failedRequest>".to_string()),
            Just("<Event><RenderingInfo><Opcode>MODULE_SET_RESPONSE_ERROR_STATUS</Opcode></RenderingInfo>".to_string()),
            Just("<EventData><Data Name=\"ErrorCode\">99999999999999999999</Data></EventData></Event>".to_string()),
            "[ -~]{0,20}",
        ], 0..20)) {
        let _ = why401_events::freb::read(&s, "x");
        if let Ok(t) = why401_events::freb::read(&parts.concat(), "y") {
            let _ = why401_events::freb::summarize(vec![t], vec![]);
        }
    }
}
