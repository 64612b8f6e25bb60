//! `.evtx` files through the evtx crate: its worker threads parse each chunk and render each
//! record's JSON, and, in the same closure, reduce it to a [`Record`] (or only its id, for the
//! events not read), so the serial consumer only counts.

use std::borrow::Cow;
use std::path::Path;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use evtx::err::EvtxError;
use evtx::{EvtxParser, ParserSettings, RenderedChunkItem};
use serde::Deserialize;

use crate::record::{Raw, Record, is_security_read, may_read, reads};

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
/// `all_times`: every record's time is wanted (a --since/--until to apply); else the events not
/// read give theirs only at each chunk's ends, which is all the first and last times need.
pub fn read(
    path: &Path,
    threads: usize,
    all_times: bool,
    sink: &mut dyn FnMut(Item),
) -> Result<(), String> {
    let settings = ParserSettings::default().num_threads(threads).indent(false);
    let mut parser = EvtxParser::from_path(path)
        .map_err(|e| format!("not a readable .evtx file: {}", chain(&e)))?
        .with_configuration(settings);
    // The crate's chunk renderer (what evtx_dump itself runs: compiled templates, a chunk's
    // records into one buffer, on its worker threads) writes the JSON; here only the events
    // read are parsed, borrowed (most of a Security log is 4624/4634/4672/5156…). Its
    // `chunks_json_bytes` is marked CLI-internal, so the crate's version is pinned exactly.
    for chunk in parser.chunks_json_bytes(false) {
        for item in &chunk.items {
            if let RenderedChunkItem::Failed(e) = item {
                sink(Item::Problem(place(e), chain(e)));
            }
        }
        let last = chunk.records().count().saturating_sub(1);
        for (i, (id, json)) in chunk.records().enumerate() {
            sink(classify(json, id, all_times || i == 0 || i == last));
        }
    }
    Ok(())
}

/// One rendered record: only its id and time for the events not read; a Security event read
/// through [`scan`]; anything else (System events, an escaped or nested value) parsed.
fn classify(json: &[u8], record_id: u64, want_time: bool) -> Item {
    let event = event_id(json);
    if let Some(event) = event
        && !may_read(event)
    {
        return Item::Other(event, if want_time { system_time(json) } else { None });
    }
    let time = system_time(json);
    match event {
        Some(event) if let Some(item) = scan(json, event, record_id, time) => item,
        _ => match serde_json::from_slice::<Doc>(json) {
            Ok(doc) => doc.reduce(record_id, time.unwrap_or(0)),
            Err(e) => Item::Problem(format!("record {record_id}"), format!("rendered JSON: {e}")),
        },
    }
}

/// Byte patterns of the evtx crate's compact JSON, each searched with a prebuilt finder.
static EVENT_ID: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"EventID\":"));
static TEXT: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"#text\":"));
static SYSTEM_TIME: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"SystemTime\":\""));
static COMPUTER: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"Computer\":\""));
static LOGON_TYPE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"LogonType\":"));
static EVENT_DATA: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\"EventData\":{"));

/// A Security event's fields straight from the renderer's JSON: `"EventData":{"Name":"value",
/// …}` with plain string, number or null values. Hand-written because it is the hot path: a
/// full JSON parse of the events read cost twice the crate's own rendering, and these records
/// have one fixed, flat shape. `None` (a value with an escape, a nested value, a field
/// missing) sends the record to the full parse.
fn scan(json: &[u8], id: u32, record_id: u64, time: Option<i64>) -> Option<Item> {
    if !is_security_read(id) {
        return None;
    }
    let time = time?;
    // Counted, not read further: only network logons (type 3) say which protocol a web
    // server's clients got.
    if id == 4624 && logon_type(json)? != 3 {
        return Some(Item::Other(id, Some(time)));
    }
    let computer = {
        let at = COMPUTER.find(json)? + COMPUTER.needle().len();
        plain_string(json, at)?.0
    };
    let mut p = EVENT_DATA.find(json)? + EVENT_DATA.needle().len();
    let mut data = Vec::with_capacity(WANTED.len());
    loop {
        match *json.get(p)? {
            b'}' => break,
            b',' => p += 1,
            b'"' => {}
            _ => return None,
        }
        let key_end = p + 1 + memchr::memchr(b'"', json.get(p + 1..)?)?;
        let key = &json[p + 1..key_end];
        if json.get(key_end + 1) != Some(&b':') {
            return None;
        }
        p = key_end + 2;
        // The fields no rule reads are stepped over, not decoded.
        let Some(key) = WANTED.iter().find(|w| w.as_bytes() == key) else {
            p = skip_value(json, p)?;
            continue;
        };
        let value: Cow<'_, str> = match *json.get(p)? {
            b'"' => {
                let (v, end) = string(json, p + 1)?;
                p = end;
                v
            }
            b'n' if json[p..].starts_with(b"null") => {
                p += 4;
                Cow::Borrowed("")
            }
            b'-' | b'0'..=b'9' | b't' | b'f' => {
                let n = json[p..]
                    .iter()
                    .take_while(|b| !matches!(b, b',' | b'}'))
                    .count();
                let v = std::str::from_utf8(&json[p..p + n]).ok()?;
                p += n;
                Cow::Borrowed(v)
            }
            _ => return None,
        };
        data.push((Some(*key), value));
    }
    let raw = Raw {
        id,
        record_id,
        time: Some(time),
        computer,
        provider: "Microsoft-Windows-Security-Auditing",
        data,
    };
    Some(Item::Read(Box::new(Record::build(&raw, time))))
}

/// The EventData fields [`Record::build`] reads from Security events.
const WANTED: [&str; 15] = [
    "TargetUserName",
    "TargetDomainName",
    "IpAddress",
    "WorkstationName",
    "LogonType",
    "AuthenticationPackageName",
    "LmPackageName",
    "Status",
    "SubStatus",
    "ProcessName",
    "TargetServerName",
    "ServiceName",
    "TicketEncryptionType",
    "Workstation",
    "PackageName",
];

/// The position after the flat JSON value (string, number, literal) at `p`; `None` for a
/// nested one.
fn skip_value(json: &[u8], mut p: usize) -> Option<usize> {
    if *json.get(p)? == b'"' {
        p += 1;
        loop {
            let i = memchr::memchr2(b'"', b'\\', json.get(p..)?)?;
            if json[p + i] == b'"' {
                return Some(p + i + 1);
            }
            p += i + 2;
        }
    }
    let n = json[p..]
        .iter()
        .take_while(|b| !matches!(b, b',' | b'}' | b'{' | b'['))
        .count();
    match json.get(p + n)? {
        b',' | b'}' => Some(p + n),
        _ => None,
    }
}

/// EventData's `LogonType` (a number or a string of digits).
fn logon_type(json: &[u8]) -> Option<u32> {
    let at = LOGON_TYPE.find(json)? + LOGON_TYPE.needle().len();
    let rest = json.get(at..)?;
    let rest = rest.strip_prefix(b"\"").unwrap_or(rest);
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[..n]).ok()?.parse().ok()
}

/// The JSON string starting at `at` (after its opening quote) when it has no escape: the text
/// and the position after its closing quote.
fn plain_string(json: &[u8], at: usize) -> Option<(&str, usize)> {
    let rest = json.get(at..)?;
    let end = memchr::memchr2(b'"', b'\\', rest)?;
    if rest[end] != b'"' {
        return None;
    }
    Some((std::str::from_utf8(&rest[..end]).ok()?, at + end + 1))
}

/// The JSON string starting at `at` (after its opening quote), its escapes decoded (Windows
/// paths are full of `\\`): the text and the position after its closing quote.
fn string(json: &[u8], at: usize) -> Option<(Cow<'_, str>, usize)> {
    if let Some((plain, end)) = plain_string(json, at) {
        return Some((Cow::Borrowed(plain), end));
    }
    let mut out = String::new();
    let mut p = at;
    loop {
        let rest = json.get(p..)?;
        let i = memchr::memchr2(b'"', b'\\', rest)?;
        out.push_str(std::str::from_utf8(&rest[..i]).ok()?);
        if rest[i] == b'"' {
            return Some((Cow::Owned(out), p + i + 1));
        }
        let c = match *rest.get(i + 1)? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'n' => '\n',
            b't' => '\t',
            b'r' => '\r',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let hex = |at: usize| {
                    std::str::from_utf8(rest.get(at..at + 4)?)
                        .ok()
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let hi = hex(i + 2)?;
                if (0xD800..0xDC00).contains(&hi) {
                    // A surrogate pair: `\uD83D\uDE00`.
                    if rest.get(i + 6..i + 8)? != b"\\u" {
                        return None;
                    }
                    let lo = hex(i + 8)?;
                    p += i + 12;
                    out.push(char::from_u32(
                        0x10000 + ((hi - 0xD800) << 10) + (lo.checked_sub(0xDC00)?),
                    )?);
                    continue;
                }
                p += i + 6;
                out.push(char::from_u32(hi)?);
                continue;
            }
            _ => return None,
        };
        out.push(c);
        p += i + 2;
    }
}

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
    #[serde(rename = "EventRecordID", default)]
    record: Option<Num>,
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
            record_id: sys.record.as_ref().and_then(|n| n.0).unwrap_or(record_id),
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
    /// [`Item`], the plain way, for checking the borrowed parse and the scan against.
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
    fn the_borrowed_parse_reads_what_the_value_tree_reads() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Kerberos","EventSourceName":"Kerberos"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":4},"TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T10:00:01.622556400Z"}},"EventRecordID":"77","Computer":"CLIENT7","Security":null},"EventData":{"Data":{"#text":["web01$","CORP.EXAMPLE","HTTP/intranet.corp.example","CORP.EXAMPLE"]},"Binary":null}}}"##;
        let typed = serde_json::from_slice::<Doc>(text).unwrap().reduce(1, 0);
        let tree = reduce(&serde_json::from_slice(text).unwrap(), 1, 0);
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
    fn the_scan_reads_what_the_parse_reads_and_gives_up_on_what_it_cannot() {
        let text = br##"{"Event":{"#attributes":{"xmlns":"x"},"System":{"Provider":{"#attributes":{"Name":"Microsoft-Windows-Security-Auditing","Guid":"{54849625-5478-4994-a5ba-3e3b0328c30d}"}},"EventID":4625,"Version":0,"TimeCreated":{"#attributes":{"SystemTime":"2026-11-25T10:00:01.6225564Z"}},"EventRecordID":9,"Correlation":null,"Execution":{"#attributes":{"ProcessID":4,"ThreadID":80}},"Channel":"Security","Computer":"WEB01","Security":null},"EventData":{"SubjectUserSid":"S-1-5-18","TargetUserName":"jsmith","TargetDomainName":"CORP","Status":"0xc000006d","SubStatus":"0xc000006a","LogonType":3,"ProcessName":"C:\\Windows\\System32\\inetsrv\\w3wp.exe","IpAddress":"10.1.2.3","IpPort":null}}}"##;
        let time = system_time(text);
        assert_eq!(time, Some(1_795_600_801));
        // Escapes are decoded (a Windows path), as the full parse decodes them.
        let Some(Item::Read(a)) = scan(text, 4625, 9, time) else {
            panic!("scanned")
        };
        let Item::Read(b) = serde_json::from_slice::<Doc>(text).unwrap().reduce(9, 0) else {
            panic!("parsed")
        };
        assert_eq!(a, b);
        assert_eq!(a.process, "w3wp.exe");
        assert_eq!(
            string(br#"a\u00e9\"\ud83d\ude00b" "#, 0).map(|(s, end)| (s.into_owned(), end)),
            Some(("a\u{e9}\"\u{1f600}b".to_string(), 23))
        );
        // A nested value is left to the full parse.
        let nested =
            String::from_utf8_lossy(text).replace(r#""IpPort":null"#, r#""IpPort":{"x":1}"#);
        assert!(scan(nested.as_bytes(), 4625, 9, time).is_none());
        assert_eq!(
            (a.user.as_str(), a.ip.as_str(), a.logon_type, a.why()),
            ("jsmith", "10.1.2.3", 3, 0xC000_006A)
        );
        // Classic System events (unnamed values) are not scanned.
        assert!(scan(text, 11, 9, time).is_none());
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
}
