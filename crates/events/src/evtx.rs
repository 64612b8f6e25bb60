//! `.evtx` files: the evtx crate finds and reads the chunks; worker threads read each chunk's
//! records from their BinXML ([`binxml`]), or, for a chunk that reader leaves alone (a System
//! log's, a damaged one), render them through the crate and reduce the JSON; each record
//! becomes a [`Record`] (or only its id and time, for the events not read), so the serial
//! consumer only counts.

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use std::collections::BTreeMap;
use std::sync::{Arc, mpsc};

use evtx::err::EvtxError;
use evtx::{EvtxChunk, EvtxChunkData, EvtxParser, ParserSettings};
use serde::Deserialize;

use crate::binxml;
use crate::record::{Raw, Record, may_read, reads};

/// One record, reduced in the worker.
#[derive(Debug, PartialEq)]
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
/// `all_times`: every record's time is wanted (a --since/--until to apply); else the records
/// the crate renders give theirs only at each chunk's ends, which is all the first and last
/// times need.
pub fn read(
    path: &Path,
    threads: usize,
    all_times: bool,
    sink: &mut dyn FnMut(Item),
) -> Result<(), String> {
    let settings = ParserSettings::default().num_threads(threads).indent(false);
    let mut parser = EvtxParser::from_path(path)
        .map_err(|e| format!("not a readable .evtx file: {}", chain(&e)))?
        .with_configuration(settings.clone());
    let settings = Arc::new(settings);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("worker threads: {e}"))?;
    let in_flight_max = 2 * pool.current_num_threads();
    // The crate finds the chunks, in record order (a log that wrapped around starts at its
    // oldest), and reads them on this thread; the workers read their records; the results are
    // given to `sink` in chunk order.
    let mut chunks = parser.chunks();
    let (tx, rx) = mpsc::channel::<(u64, Vec<Item>)>();
    let mut done: BTreeMap<u64, Vec<Item>> = BTreeMap::new();
    let (mut sent, mut next, mut exhausted) = (0u64, 0u64, false);
    loop {
        while !exhausted && sent - next < in_flight_max as u64 {
            let seq = sent;
            sent += 1;
            match chunks.next() {
                None => {
                    exhausted = true;
                    sent -= 1;
                }
                Some(Err(e)) => {
                    done.insert(seq, vec![Item::Problem(place(&e), chain(&e))]);
                }
                Some(Ok(chunk)) => {
                    let (tx, settings) = (tx.clone(), Arc::clone(&settings));
                    pool.spawn(move || {
                        let items = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            records(&chunk, settings, all_times)
                        }))
                        .unwrap_or_else(|_| {
                            let at = chunk.number.map_or("file".into(), |n| format!("chunk {n}"));
                            vec![Item::Problem(at, "the chunk's reader failed".into())]
                        });
                        let _ = tx.send((seq, items));
                    });
                }
            }
        }
        if let Some(items) = done.remove(&next) {
            next += 1;
            items.into_iter().for_each(&mut *sink);
            continue;
        }
        if exhausted && next == sent {
            return Ok(());
        }
        let (seq, items) = rx
            .recv()
            .map_err(|_| "the worker threads stopped".to_string())?;
        done.insert(seq, items);
    }
}

/// A chunk's records: read from their BinXML where [`binxml::chunk`] can, else rendered by the
/// evtx crate and classified from its JSON.
fn records(chunk: &EvtxChunkData, settings: Arc<ParserSettings>, all_times: bool) -> Vec<Item> {
    let mut items = Vec::with_capacity(128);
    if binxml::chunk(&chunk.data, &chunk.header, &mut items).is_some() {
        return items;
    }
    items.clear();
    rendered(chunk, settings, all_times, &mut items);
    items
}

/// A chunk's records through the evtx crate's renderer.
pub(crate) fn rendered(
    chunk: &EvtxChunkData,
    settings: Arc<ParserSettings>,
    all_times: bool,
    items: &mut Vec<Item>,
) {
    let here = chunk.number.map_or("file".into(), |n| format!("chunk {n}"));
    let mut parsed = match EvtxChunk::new(&chunk.data, &chunk.header, settings) {
        Ok(parsed) => parsed,
        Err(e) => {
            items.push(Item::Problem(here, chain(&e)));
            return;
        }
    };
    let last = chunk.header.last_event_record_id;
    for record in parsed.iter() {
        match record.and_then(|r| r.into_json_bytes()) {
            Ok(r) => {
                let edge = items.is_empty() || r.event_record_id == last;
                items.push(classify(&r.data, r.event_record_id, all_times || edge));
            }
            Err(e) => {
                // Errors of a chunk read alone name no chunk.
                let at = Some(place(&e))
                    .filter(|p| p != "file")
                    .unwrap_or(here.clone());
                items.push(Item::Problem(at, chain(&e)));
            }
        }
    }
}

/// One rendered record: only its id and time for the events not read; the others parsed.
fn classify(json: &[u8], record_id: u64, want_time: bool) -> Item {
    let event = event_id(json);
    if let Some(event) = event
        && !may_read(event)
    {
        return Item::Other(event, if want_time { system_time(json) } else { None });
    }
    let time = system_time(json);
    match serde_json::from_slice::<Doc>(json) {
        Ok(doc) => doc.reduce(record_id, time.unwrap_or(0)),
        Err(e) => Item::Problem(format!("record {record_id}"), format!("rendered JSON: {e}")),
    }
}

/// Byte patterns of the evtx crate's compact JSON, each searched with a prebuilt finder.
static EVENT_ID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"EventID\":"));
static TEXT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"#text\":"));
static SYSTEM_TIME: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"SystemTime\":\""));

/// `TimeCreated/@SystemTime` of a rendered record, found without parsing it.
fn system_time(json: &[u8]) -> Option<i64> {
    let at = SYSTEM_TIME.find(json)? + SYSTEM_TIME.needle().len();
    let rest = json.get(at..)?;
    let end = memchr::memchr(b'"', rest)?;
    why401_logs::time::rfc3339(&rest[..end])
}

/// A record's rendered JSON, borrowed: only what [`Record::build`] reads, no tree of values
/// (the evtx crate's own `into_json_value` builds one, and that, not rendering, was most of the
/// time).
#[derive(Deserialize)]
struct Doc<'a> {
    #[serde(rename = "Event", borrow)]
    event: Ev<'a>,
}

#[derive(Deserialize)]
struct Ev<'a> {
    #[serde(rename = "System", borrow)]
    system: Sys<'a>,
    #[serde(rename = "EventData", borrow, default)]
    data: Option<Fields<'a>>,
    /// UserData holds one element whose children are the fields.
    #[serde(rename = "UserData", borrow, default)]
    user_data: Option<std::collections::BTreeMap<Cow<'a, str>, Fields<'a>>>,
}

#[derive(Deserialize)]
struct Sys<'a> {
    #[serde(rename = "Provider", borrow, default)]
    provider: Option<Attrs<'a>>,
    #[serde(rename = "EventID")]
    id: Num,
    #[serde(rename = "TimeCreated", borrow, default)]
    time: Option<Attrs<'a>>,
    #[serde(rename = "Computer", borrow, default)]
    computer: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Attrs<'a> {
    #[serde(rename = "#attributes", borrow, default)]
    a: Option<AttrMap<'a>>,
}

#[derive(Deserialize)]
struct AttrMap<'a> {
    #[serde(rename = "Name", borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(rename = "EventSourceName", borrow, default)]
    source: Option<Cow<'a, str>>,
    #[serde(rename = "SystemTime", borrow, default)]
    time: Option<Cow<'a, str>>,
}

/// A number written as a number, a string of digits, or `{"#text": …}` (with Qualifiers).
struct Num(Option<u64>);

impl<'de> Deserialize<'de> for Num {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Num;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Num, E> {
                Ok(Num(Some(v)))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Num, E> {
                Ok(Num(u64::try_from(v).ok()))
            }
            fn visit_str<E>(self, v: &str) -> Result<Num, E> {
                Ok(Num(v.trim().parse().ok()))
            }
            fn visit_unit<E>(self) -> Result<Num, E> {
                Ok(Num(None))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Num, A::Error> {
                let mut n = None;
                while let Some(k) = m.next_key::<Cow<'de, str>>()? {
                    if k == "#text" {
                        n = m.next_value::<Num>()?.0;
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Num(n))
            }
        }
        d.deserialize_any(V)
    }
}

/// EventData: named values in order, and the unnamed `Data` values (`{"#text": [...]}`).
struct Fields<'a>(Vec<(Option<Cow<'a, str>>, Cow<'a, str>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Fields<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Fields<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("event data")
            }
            fn visit_unit<E>(self) -> Result<Fields<'a>, E> {
                Ok(Fields(Vec::new()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Fields<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'a, str>>()? {
                    match k.as_ref() {
                        "Data" => {
                            for v in m.next_value::<Texts<'a>>()?.0 {
                                out.push((None, v));
                            }
                        }
                        "Binary" | "#attributes" => {
                            m.next_value::<serde::de::IgnoredAny>()?;
                        }
                        _ => {
                            let v = m.next_value::<Texts<'a>>()?.0.into_iter().next();
                            out.push((Some(k), v.unwrap_or(Cow::Borrowed(""))));
                        }
                    }
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A value as text: a string, a number, null, a list of them, or `{"#text": …}`.
struct Texts<'a>(Vec<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for Texts<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Texts<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Borrowed(v)]))
            }
            fn visit_str<E>(self, v: &str) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Owned(v.to_string())]))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Owned(v.to_string())]))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Owned(v.to_string())]))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Owned(v.to_string())]))
            }
            fn visit_bool<E>(self, v: bool) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Owned(v.to_string())]))
            }
            fn visit_unit<E>(self) -> Result<Texts<'a>, E> {
                Ok(Texts(vec![Cow::Borrowed("")]))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> Result<Texts<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(t) = s.next_element::<Texts<'a>>()? {
                    out.extend(t.0);
                }
                Ok(Texts(out))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Texts<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Cow<'a, str>>()? {
                    if k == "#text" {
                        out.extend(m.next_value::<Texts<'a>>()?.0);
                    } else {
                        m.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Texts(out))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

impl Doc<'_> {
    fn reduce(&self, record_id: u64, header_time: i64) -> Item {
        let sys = &self.event.system;
        let Some(id) = sys.id.0.and_then(|n| u32::try_from(n).ok()) else {
            return Item::Problem(format!("record {record_id}"), "no numeric EventID".into());
        };
        let pmap = sys.provider.as_ref().and_then(|a| a.a.as_ref());
        let provider = pmap
            .and_then(|m| m.name.as_deref().or(m.source.as_deref()))
            .unwrap_or("");
        let time = sys
            .time
            .as_ref()
            .and_then(|a| a.a.as_ref())
            .and_then(|m| m.time.as_deref())
            .and_then(|t| why401_logs::time::rfc3339(t.trim().as_bytes()))
            .or(Some(header_time));
        if !reads(id, provider) {
            return Item::Other(id, time);
        }
        let fields = self.event.data.as_ref().or_else(|| {
            self.event
                .user_data
                .as_ref()
                .and_then(|u| u.values().next())
        });
        let raw = Raw {
            id,
            // The record header's id, as the other readers of .evtx files take it.
            record_id,
            time,
            computer: sys.computer.as_deref().unwrap_or(""),
            provider,
            data: fields
                .map(|f| {
                    f.0.iter()
                        .map(|(k, v)| (k.as_deref(), Cow::Borrowed(v.as_ref())))
                        .collect()
                })
                .unwrap_or_default(),
        };
        if raw.counted_only() {
            return Item::Other(id, time);
        }
        Item::Read(Box::new(Record::build(&raw, time.unwrap_or(header_time))))
    }
}

/// The `EventID` of a record's rendered JSON, found without parsing it: `"EventID":4624` or
/// `"EventID":{"#attributes":{…},"#text":4}` (the evtx crate's two shapes).
fn event_id(json: &[u8]) -> Option<u32> {
    let at = EVENT_ID.find(json)? + EVENT_ID.needle().len();
    let rest = json.get(at..)?;
    let digits = if rest.first() == Some(&b'{') {
        // The object holds only `#attributes` (Qualifiers) and `#text`: a short look ahead.
        let near = &rest[..rest.len().min(160)];
        let t = TEXT.find(near)? + TEXT.needle().len();
        &rest[t..]
    } else {
        rest
    };
    let digits = digits.strip_prefix(b"\"").unwrap_or(digits);
    let n = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&digits[..n]).ok()?.parse().ok()
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The reference reader: a record's JSON as a `serde_json::Value` tree reduced to an
    /// [`Item`], the plain way, for checking the borrowed parse against.
    fn reduce(v: &Value, record_id: u64, header_time: i64) -> Item {
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
            record_id,
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
        if raw.counted_only() {
            return Item::Other(id, time);
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

    use serde_json::json;

    #[test]
    fn evtx_json_shapes_reduce_to_records() {
        let v = json!({"Event": {"System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Security-Auditing"}},
            "EventID": 4625, "EventRecordID": 99,
            "TimeCreated": {"#attributes": {"SystemTime": "2026-11-25T10:00:01.622556400Z"}},
            "Computer": "WEB01"},
            "EventData": {"TargetUserName": "jsmith", "SubStatus": "0xc000006a", "LogonType": 3}}});
        let Item::Read(r) = reduce(&v, 99, 0) else {
            panic!("read")
        };
        assert_eq!((r.id, r.record_id, r.time), (4625, 99, 1_795_600_801));
        assert_eq!(
            (r.user.as_str(), r.logon_type, r.why()),
            ("jsmith", 3, 0xC000_006A)
        );
    }

    #[test]
    fn the_borrowed_parse_reads_what_the_value_tree_reads() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Kerberos","EventSourceName":"Kerberos"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":4},"TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T10:00:01.622556400Z"}},"EventRecordID":"77","Computer":"CLIENT7","Security":null},"EventData":{"Data":{"#text":["web01$","CORP.EXAMPLE","HTTP/intranet.corp.example","CORP.EXAMPLE"]},"Binary":null}}}"##;
        let typed = serde_json::from_slice::<Doc>(text).unwrap().reduce(77, 0);
        let tree = reduce(&serde_json::from_slice(text).unwrap(), 77, 0);
        match (typed, tree) {
            (Item::Read(a), Item::Read(b)) => {
                assert_eq!(a, b);
                assert_eq!(a.record_id, 77);
                assert_eq!(a.service, "HTTP/intranet.corp.example");
            }
            _ => panic!("both read"),
        }
    }

    #[test]
    fn a_rendered_security_event_is_read_with_its_escapes_and_only_network_logons_in_full() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}"}},"EventID":4625,"Version":0,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T10:00:01.6225564Z"}},"EventRecordID":9,"Correlation":null,"Execution":{"#attributes":{"ProcessID":4,"ThreadID":80}},"Channel":"Security","Computer":"WEB01","Security":null},"EventData":{"SubjectUserSid":"S-1-5-18","TargetUserName":"jsmith","TargetDomainName":"CORP","Status":"0xc000006d","SubStatus":"0xc000006a","LogonType":3,"ProcessName":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","IpAddress":"10.1.2.3","IpPort":null}}}"##;
        let time = system_time(text);
        assert_eq!(time, Some(1_795_600_801));
        let Item::Read(a) = classify(text, 9, false) else {
            panic!("read")
        };
        // Escapes are decoded (a Windows path).
        assert_eq!(a.process, "w3wp.exe");
        assert_eq!(
            (a.user.as_str(), a.ip.as_str(), a.logon_type, a.why()),
            ("jsmith", "10.1.2.3", 3, 0xC000_006A)
        );
        // A 4624 other than a network logon is counted only, as every reader counts it.
        let interactive = String::from_utf8_lossy(text)
            .replace(r#""EventID":4625"#, r#""EventID":4624"#)
            .replace(r#""LogonType":3"#, r#""LogonType":2"#);
        assert_eq!(
            classify(interactive.as_bytes(), 9, false),
            Item::Other(4624, Some(1_795_600_801))
        );
    }

    #[test]
    fn the_event_id_is_found_without_parsing() {
        assert_eq!(
            event_id(br#"{"Event":{"System":{"EventID":4624,"Version":2}}}"#),
            Some(4624)
        );
        assert_eq!(
            event_id(br##"{"Event":{"System":{"EventID":{"#attributes":{"Qualifiers":16384},"#text":4}}}}"##),
            Some(4)
        );
        assert_eq!(
            event_id(br#"{"Event":{"System":{"EventID":"11"}}}"#),
            Some(11)
        );
        assert_eq!(event_id(br#"{"Event":{}}"#), None);
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

    /// Every chunk of the public samples that the BinXML reader takes gives the very records
    /// the crate's rendering gives; the Security samples are all taken.
    #[test]
    #[ignore = "reads the public .evtx samples in ../shared/fixtures (scripts/test.sh)"]
    fn shared_fixtures_binxml_reader_reads_what_the_rendering_reads() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/evtx");
        let mut files: Vec<_> = std::fs::read_dir(&root)
            .expect("../shared/fixtures is present")
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let settings = Arc::new(ParserSettings::default().indent(false));
        let (mut read, mut security_read, mut records) = (0, 0, 0);
        for f in &files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            let mut parser = EvtxParser::from_path(f).unwrap();
            let (mut taken, mut all) = (0, 0);
            for chunk in parser.chunks().flatten() {
                all += 1;
                let mut fast = Vec::new();
                if binxml::chunk(&chunk.data, &chunk.header, &mut fast).is_none() {
                    continue;
                }
                taken += 1;
                let mut slow = Vec::new();
                rendered(&chunk, Arc::clone(&settings), true, &mut slow);
                assert_eq!(fast.len(), slow.len(), "{name} chunk {:?}", chunk.number);
                for (a, b) in fast.iter().zip(&slow) {
                    assert_eq!(a, b, "{name} chunk {:?}", chunk.number);
                    security_read += usize::from(matches!(a, Item::Read(_)));
                }
                records += fast.len();
            }
            eprintln!("{name}: {taken} of {all} chunks read from their BinXML");
            read += taken;
            if name.to_ascii_lowercase().contains("security") {
                assert_eq!(taken, all, "{name}");
            }
        }
        assert!(
            read >= 50 && security_read >= 100,
            "{read} chunks, {security_read} read"
        );
        eprintln!("{read} chunks, {records} records, {security_read} Security events read");
    }
}
