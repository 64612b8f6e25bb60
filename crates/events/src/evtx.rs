//! `.evtx` files through the evtx crate: its worker threads parse each chunk and render each
//! record's JSON, and, in the same closure, reduce it to a [`Record`] (or only its id, for the
//! events not read), so the serial consumer only counts.

use std::borrow::Cow;
use std::path::Path;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings};
use serde_json::Value;

use crate::record::{Raw, Record, reads};

/// One record, reduced in the worker.
pub enum Item {
    /// An event the analysis reads.
    Read(Box<Record>),
    /// Another event: its id and time.
    Other(u32, Option<i64>),
    /// A chunk or record that could not be read: where, and why.
    Problem(String, String),
}

/// Reads `path`, calling `sink` for every record in file order. An unreadable file header is
/// an error; a bad chunk or record is an [`Item::Problem`] and the reading goes on.
pub fn read(path: &Path, threads: usize, sink: &mut dyn FnMut(Item)) -> Result<(), String> {
    let settings = ParserSettings::default().num_threads(threads).indent(false);
    let mut parser = EvtxParser::from_path(path)
        .map_err(|e| format!("not a readable .evtx file: {}", chain(&e)))?
        .with_configuration(settings);
    for item in parser.serialized_records(|record| {
        let record = record?;
        let id = record.event_record_id;
        let header_time = record.timestamp.as_second();
        let json = record.into_json_value()?;
        Ok(reduce(&json.data, id, header_time))
    }) {
        match item {
            Ok(i) => sink(i),
            Err(e) => sink(Item::Problem(place(&e), chain(&e))),
        }
    }
    Ok(())
}

/// Where an evtx error happened: `chunk N` or `record N`.
fn place(e: &EvtxError) -> String {
    match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => format!("chunk {chunk_id}"),
        EvtxError::FailedToParseRecord { record_id, .. } => format!("record {record_id}"),
        // Other errors name the chunk in their text ("… of chunk 7 (file offset 0x73060)").
        other => {
            let text = chain(other);
            text.find("chunk ")
                .map(|i| &text[i + 6..])
                .map(|rest| {
                    rest.chars()
                        .take_while(char::is_ascii_digit)
                        .collect::<String>()
                })
                .filter(|n| !n.is_empty())
                .map_or_else(|| "file".into(), |n| format!("chunk {n}"))
        }
    }
}

/// An error with its causes, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// A record's JSON (`{"Event": {"System": …, "EventData": …}}`) reduced to an [`Item`].
pub fn reduce(v: &Value, record_id: u64, header_time: i64) -> Item {
    let Some(sys) = v.pointer("/Event/System") else {
        return Item::Problem(format!("record {record_id}"), "no System element".into());
    };
    let Some(id) = sys.get("EventID").and_then(number_or_text) else {
        return Item::Problem(format!("record {record_id}"), "no numeric EventID".into());
    };
    let id = id as u32;
    let time = sys
        .pointer("/TimeCreated/#attributes/SystemTime")
        .and_then(Value::as_str)
        .and_then(|t| why401_logs::time::rfc3339(t.trim().as_bytes()))
        .or(Some(header_time));
    let attr = |name: &str| {
        sys.pointer(&format!("/Provider/#attributes/{name}"))
            .and_then(Value::as_str)
    };
    let provider = attr("Name").or(attr("EventSourceName")).unwrap_or("");
    if !reads(id, provider) {
        return Item::Other(id, time);
    }
    let mut raw = Raw {
        id,
        record_id: sys
            .get("EventRecordID")
            .and_then(number_or_text)
            .unwrap_or(record_id),
        time,
        computer: sys.get("Computer").and_then(Value::as_str).unwrap_or(""),
        provider,
        data: Vec::new(),
    };
    let event = &v["Event"];
    let fields = match event.get("EventData") {
        Some(Value::Object(m)) => Some(m),
        _ => match event.get("UserData") {
            // UserData holds one element whose children are the fields.
            Some(Value::Object(m)) => m.values().next().and_then(Value::as_object),
            _ => None,
        },
    };
    if let Some(m) = fields {
        for (k, val) in m {
            match k.as_str() {
                // Unnamed <Data> elements, in order: `{"#text": [...]}`, or one value.
                "Data" => match val.get("#text").unwrap_or(val) {
                    Value::Array(a) => raw.data.extend(a.iter().map(|x| (None, text(x)))),
                    x => raw.data.push((None, text(x))),
                },
                "Binary" | "#attributes" => {}
                _ => raw.data.push((Some(k.as_str()), text(val))),
            }
        }
    }
    Item::Read(Box::new(Record::build(&raw, time.unwrap_or(header_time))))
}

fn number_or_text(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        Value::Object(o) => o.get("#text").and_then(number_or_text),
        _ => None,
    }
}

fn text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Bool(b) => Cow::Owned(b.to_string()),
        other => Cow::Owned(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evtx_json_shapes_reduce_to_records() {
        let v = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
            "EventID": 4625, "EventRecordID": 99,
            "TimeCreated": {"#attributes": {"SystemTime": "2026-11-25T10:00:01.622556400Z"}},
            "Computer": "WEB01"},
            "EventData": {"TargetUserName": "jsmith", "SubStatus": "0xc000006a", "LogonType": 3}}});
        let Item::Read(r) = reduce(&v, 1, 0) else {
            panic!("read")
        };
        assert_eq!((r.id, r.record_id, r.time), (4625, 99, 1_795_600_801));
        assert_eq!(
            (r.user.as_str(), r.logon_type, r.why()),
            ("jsmith", 3, 0xC000_006A)
        );
    }

    #[test]
    fn classic_system_events_keep_their_unnamed_values_in_order() {
        let v = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Kerberos", "EventSourceName": "Kerberos"}},
            "EventID": {"#attributes": {"Qualifiers": 16384}, "#text": 4},
            "Computer": "CLIENT7"},
            "EventData": {"Data": {"#text": ["web01$", "CORP.EXAMPLE", "HTTP/intranet.corp.example", "CORP.EXAMPLE"]}, "Binary": null}}});
        let Item::Read(r) = reduce(&v, 5, 1_000) else {
            panic!("read")
        };
        assert_eq!(r.time, 1_000);
        assert_eq!(r.service, "HTTP/intranet.corp.example");
        assert_eq!(r.workstation, "web01$");
        // Event 4 of another source is not the Kerberos client's.
        let other = json!({"Event": {"System": {"Provider": {"#attributes": {"Name": "disk"}}, "EventID": 4}}});
        assert!(matches!(reduce(&other, 1, 7), Item::Other(4, Some(7))));
    }
}
