//! The Security events of an `.evtx` chunk read straight from its BinXML, without rendering.
//!
//! Hand-written because no crate does it: the evtx crate builds and renders every record (to
//! XML or JSON) before anything can look at it, and a Security log is mostly events no rule
//! reads (4634, 4672, 5156…). Here a record costs its event id and time, read from the
//! substitution values of its template instance; only the events [`is_security_read`] are
//! decoded further, and only the `Data` fields [`WANTED`]. The layout is MS-EVEN6 §2.2.
//!
//! Whatever this reader does not know (a record that is not one template instance, a System
//! event, a value type it does not render, anything out of bounds) makes it give the chunk up:
//! [`chunk`] returns `None` and the caller reads that chunk through the evtx crate, which
//! reports corruption where it is. So this reader never guesses and never loses a record.

use std::borrow::Cow;

use evtx::EvtxChunkHeader;

use crate::evtx::Item;
use crate::record::{Raw, Record, is_security_read, may_read, reads};

/// The size of an EVTX chunk header; the first record follows it.
const CHUNK_HEADER: usize = 512;
/// The size of a record header (magic, size, record id, time).
const RECORD_HEADER: usize = 24;
/// A template definition's header before its BinXML: next offset, GUID, data size.
const TEMPLATE_HEADER: usize = 24;

// BinXML tokens (MS-EVEN6 §2.2.13). The 0x40 bit means "more data follows" and is masked.
const EOF: u8 = 0x00;
const OPEN_START: u8 = 0x01;
const CLOSE_START: u8 = 0x02;
const CLOSE_EMPTY: u8 = 0x03;
const END_ELEMENT: u8 = 0x04;
const VALUE: u8 = 0x05;
const ATTRIBUTE: u8 = 0x06;
const CDATA: u8 = 0x07;
const CHAR_REF: u8 = 0x08;
const ENTITY_REF: u8 = 0x09;
const PI_TARGET: u8 = 0x0a;
const PI_DATA: u8 = 0x0b;
const TEMPLATE_INSTANCE: u8 = 0x0c;
const SUBSTITUTION: u8 = 0x0d;
const OPTIONAL_SUBSTITUTION: u8 = 0x0e;
const FRAGMENT_HEADER: u8 = 0x0f;

// Value types (MS-EVEN6 §2.2.16).
const NULL: u8 = 0x00;
const STRING: u8 = 0x01;
const FILETIME: u8 = 0x11;
const BINXML: u8 = 0x21;

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

/// Reads every record of a chunk into `out`, in order; `None` when the chunk holds anything
/// this reader leaves to the evtx crate (then `out` holds a partial result to discard).
pub(crate) fn chunk(data: &[u8], header: &EvtxChunkHeader, out: &mut Vec<Item>) -> Option<()> {
    let mut reader = Reader {
        data,
        templates: Vec::new(),
        outer: Vec::new(),
        inner: Vec::new(),
    };
    let live_end = (header.free_space_offset as usize).min(data.len());
    let mut at = CHUNK_HEADER;
    while at < live_end {
        let head = data.get(at..at + RECORD_HEADER)?;
        if head[..4] != *b"\x2a\x2a\0\0" {
            return None;
        }
        let size = u32_at(head, 4)? as usize;
        let record_id = u64_at(head, 8)?;
        // A record header whose time is past what the crate reads is its to report.
        unix_seconds(u64_at(head, 16)?)?;
        let end = at.checked_add(size)?;
        if size < RECORD_HEADER + 4 || end > live_end || u32_at(data, end - 4)? as usize != size {
            return None;
        }
        out.push(reader.record(at + RECORD_HEADER, end - 4, record_id)?);
        if record_id == header.last_event_record_id {
            break;
        }
        at = end;
    }
    Some(())
}

/// One substitution value of a template instance: where its bytes are, and its type.
#[derive(Clone, Copy)]
struct Value {
    at: usize,
    size: usize,
    ty: u8,
}

/// Where a template puts what the analysis reads: substitution indices, or literal text.
#[derive(Default)]
struct Schema {
    event_id: Option<Slot>,
    time: Option<u16>,
    /// `Provider/@Name`.
    provider: Option<Slot>,
    computer: Option<Slot>,
    /// The substitutions standing for element content not read here: where the nested
    /// `EventData` (a BinXML value) of a Security event sits.
    content: Vec<u16>,
    /// `Data` elements, by `Name` (none for unnamed ones), in order.
    data: Vec<(Option<String>, Slot)>,
}

#[derive(Clone)]
enum Slot {
    /// A substitution's index, and whether it is optional.
    Sub(u16, bool),
    Text(String),
}

struct Reader<'a> {
    data: &'a [u8],
    /// The chunk's templates read so far, by the offset of their definition.
    templates: Vec<(usize, Schema)>,
    /// The substitution values of the record's template instance and of a nested one (reused).
    outer: Vec<Value>,
    inner: Vec<Value>,
}

impl<'a> Reader<'a> {
    /// One record's BinXML, `data[start..end]`: a fragment header and one template instance.
    fn record(&mut self, start: usize, end: usize, record_id: u64) -> Option<Item> {
        let d = self.data;
        let mut outer = std::mem::take(&mut self.outer);
        let result = (|| {
            let at = if d.get(start) == Some(&FRAGMENT_HEADER) {
                start + 4
            } else {
                start
            };
            let (template, after) = self.instance(at, end, &mut outer)?;
            if after != end && d.get(after) != Some(&EOF) {
                return None;
            }
            let schema = &self.schema(template)?.1;
            let id = match schema.event_id.as_ref()? {
                Slot::Sub(i, _) => number(d, *outer.get(usize::from(*i))?)?,
                Slot::Text(t) => t.trim().parse().ok()?,
            };
            let id = u32::try_from(id).ok()?;
            let time = {
                let v = outer.get(usize::from(schema.time?))?;
                if v.ty != FILETIME || v.size != 8 {
                    return None;
                }
                unix_seconds(u64_at(d, v.at)?).filter(|&t| t >= 0)?
            };
            if !may_read(id) {
                return Some(Item::Other(id, Some(time)));
            }
            if !is_security_read(id) {
                // A System log's low ids mean something only from their source; the events
                // read there are left to the crate.
                let provider = match schema.provider.as_ref()? {
                    Slot::Sub(i, _) => text(d, *outer.get(usize::from(*i))?)?,
                    Slot::Text(t) => Cow::Owned(t.clone()),
                };
                if reads(id, &provider) {
                    return None;
                }
                return Some(Item::Other(id, Some(time)));
            }
            let computer = match schema.computer.as_ref()? {
                Slot::Sub(i, _) => text(d, *outer.get(usize::from(*i))?)?,
                Slot::Text(t) => Cow::Owned(t.clone()),
            };
            let mut fields = Vec::with_capacity(WANTED.len());
            self.fields(template, &outer, &mut fields)?;
            let content = self.schema(template)?.1.content.clone();
            for i in content {
                let v = *outer.get(usize::from(i))?;
                if v.ty != BINXML {
                    continue;
                }
                let mut inner = std::mem::take(&mut self.inner);
                let nested = (|| {
                    let mut at = v.at;
                    if d.get(at) == Some(&FRAGMENT_HEADER) {
                        at += 4;
                    }
                    let (template, after) = self.instance(at, v.at + v.size, &mut inner)?;
                    if after > v.at + v.size {
                        return None;
                    }
                    self.fields(template, &inner, &mut fields)
                })();
                self.inner = inner;
                nested?;
            }
            let raw = Raw {
                id,
                record_id,
                time: Some(time),
                computer: &computer,
                provider: "Microsoft-Windows-Security-Auditing",
                data: fields,
            };
            if raw.counted_only() {
                return Some(Item::Other(id, Some(time)));
            }
            Some(Item::Read(Box::new(Record::build(&raw, time))))
        })();
        self.outer = outer;
        result
    }

    /// The wanted `Data` fields of the template at `template`, with their values.
    fn fields(
        &mut self,
        template: usize,
        values: &[Value],
        out: &mut Vec<(Option<&'static str>, Cow<'a, str>)>,
    ) -> Option<()> {
        let d = self.data;
        for (name, slot) in &self.schema(template)?.1.data {
            let Some(name) = name
                .as_deref()
                .and_then(|n| WANTED.iter().find(|w| w.eq_ignore_ascii_case(n)))
            else {
                continue;
            };
            let value = match slot {
                Slot::Sub(i, optional) => {
                    let v = *values.get(usize::from(*i))?;
                    // An optional substitution left empty drops its element.
                    if *optional && v.ty == NULL {
                        continue;
                    }
                    text(d, v)?
                }
                Slot::Text(t) => Cow::Owned(t.clone()),
            };
            out.push((Some(*name), value));
        }
        Some(())
    }

    /// A template instance at `at` (just past its token): its substitution values into `values`,
    /// and the offset of its template's definition and the position after the instance.
    fn instance(
        &mut self,
        at: usize,
        end: usize,
        values: &mut Vec<Value>,
    ) -> Option<(usize, usize)> {
        let d = self.data.get(..end)?;
        if d.get(at) != Some(&TEMPLATE_INSTANCE) {
            return None;
        }
        let template = u32_at(d, at + 6)? as usize;
        let mut p = at + 10;
        // A template used for the first time in the chunk is defined here, inline.
        if template == p {
            let size = u32_at(d, p + 20)? as usize;
            p = p.checked_add(TEMPLATE_HEADER + size)?;
        }
        let count = u32_at(d, p)? as usize;
        p += 4;
        let descriptors = d.get(p..p.checked_add(count.checked_mul(4)?)?)?;
        p += descriptors.len();
        values.clear();
        for desc in descriptors.chunks_exact(4) {
            let size = usize::from(u16::from_le_bytes([desc[0], desc[1]]));
            if !well_formed(desc[2], d.get(p..p + size)?) {
                return None;
            }
            values.push(Value {
                at: p,
                size,
                ty: desc[2],
            });
            p += size;
        }
        (p <= end).then_some((template, p))
    }

    /// The schema of the template defined at `at`, read on first use.
    fn schema(&mut self, at: usize) -> Option<&(usize, Schema)> {
        if let Some(i) = self.templates.iter().position(|(o, _)| *o == at) {
            return self.templates.get(i);
        }
        let size = u32_at(self.data, at + 20)? as usize;
        let start = at + TEMPLATE_HEADER;
        let schema = compile(self.data, start, start.checked_add(size)?)?;
        self.templates.push((at, schema));
        self.templates.last()
    }
}

/// Walks a template definition's tokens, `data[start..end]`, noting where the event id, the
/// time, the computer and the `Data` fields are.
fn compile(data: &[u8], start: usize, end: usize) -> Option<Schema> {
    let d = data.get(..end)?;
    let mut schema = Schema::default();
    let mut stack: Vec<String> = Vec::new();
    let mut attribute: Option<String> = None;
    // Per open `Data` element: its `Name`, and whether it had content.
    let mut data_name: Option<String> = None;
    let mut data_filled = false;
    let mut p = start;
    while p < end {
        let token = *d.get(p)?;
        p += 1;
        match token & !0x40 {
            EOF => break,
            FRAGMENT_HEADER => p += 3,
            OPEN_START => {
                // Dependency id (u16) and data size (u32), then the name.
                p += 6;
                let (name, next) = name(d, p)?;
                p = next;
                if token & 0x40 != 0 {
                    p += 4;
                }
                if name == "Data" {
                    data_name = None;
                    data_filled = false;
                }
                stack.push(name);
                attribute = None;
            }
            CLOSE_START => attribute = None,
            CLOSE_EMPTY | END_ELEMENT => {
                attribute = None;
                let closed_data = place(&stack) == Some("Data");
                stack.pop()?;
                if closed_data && !data_filled {
                    schema
                        .data
                        .push((data_name.take(), Slot::Text(String::new())));
                }
            }
            VALUE => {
                if *d.get(p)? != STRING {
                    return None;
                }
                let chars = usize::from(u16_at(d, p + 1)?);
                let text = utf16(d.get(p + 3..p + 3 + 2 * chars)?)?;
                p += 3 + 2 * chars;
                match (place(&stack), attribute.as_deref()) {
                    // Texts in a row make one value.
                    (Some("Data"), Some("Name")) => {
                        data_name.get_or_insert_default().push_str(&text)
                    }
                    (Some("Data"), None) => {
                        if std::mem::replace(&mut data_filled, true) {
                            return None;
                        }
                        schema.data.push((data_name.take(), Slot::Text(text)));
                    }
                    (Some("EventID"), None) => set(&mut schema.event_id, Slot::Text(text))?,
                    (Some("Provider"), Some("Name")) => {
                        set(&mut schema.provider, Slot::Text(text))?
                    }
                    (Some("Computer"), None) => set(&mut schema.computer, Slot::Text(text))?,
                    _ => {}
                }
            }
            ATTRIBUTE => {
                let (name, next) = name(d, p)?;
                p = next;
                if name == "Name" && place(&stack) == Some("Data") {
                    data_name = None;
                }
                attribute = Some(name);
            }
            SUBSTITUTION | OPTIONAL_SUBSTITUTION => {
                let index = u16_at(d, p)?;
                let slot = Slot::Sub(index, token == OPTIONAL_SUBSTITUTION);
                p += 3;
                match (place(&stack), attribute.as_deref()) {
                    (Some("TimeCreated"), Some("SystemTime")) => {
                        schema.time.replace(index).is_none().then_some(())?
                    }
                    (Some("Provider"), Some("Name")) => set(&mut schema.provider, slot)?,
                    (Some("EventID"), None) => set(&mut schema.event_id, slot)?,
                    (Some("Computer"), None) => set(&mut schema.computer, slot)?,
                    (Some("Data"), None) => {
                        if std::mem::replace(&mut data_filled, true) {
                            return None;
                        }
                        schema.data.push((data_name.take(), slot));
                    }
                    (_, None) => schema.content.push(index),
                    _ => {}
                }
            }
            CDATA | PI_DATA => p += 2 + 2 * usize::from(u16_at(d, p)?),
            CHAR_REF => p += 2,
            ENTITY_REF | PI_TARGET => p = name(d, p)?.1,
            _ => return None,
        }
    }
    Some(schema)
}

/// Fills a slot of the schema; `None` when it is filled already (a value in pieces, which
/// the crate joins and this reader leaves to it).
fn set(slot: &mut Option<Slot>, value: Slot) -> Option<()> {
    slot.replace(value).is_none().then_some(())
}

/// The element open at the end of `stack`, when it is one read: `System`'s children, and
/// `EventData`'s `Data` (other elements, and these anywhere else, are not what they seem).
fn place(stack: &[String]) -> Option<&str> {
    let [.., parent, element] = stack else {
        return None;
    };
    match (parent.as_str(), element.as_str()) {
        ("System", e @ ("Provider" | "EventID" | "TimeCreated" | "Computer")) => Some(e),
        ("EventData", "Data") => Some("Data"),
        _ => None,
    }
}

/// A name reference at `at`: the name, from the chunk's string table, and the position after
/// the reference (past the name itself when it is stored right there).
fn name(d: &[u8], at: usize) -> Option<(String, usize)> {
    let offset = u32_at(d, at)? as usize;
    let chars = usize::from(u16_at(d, offset + 6)?);
    let name = utf16(d.get(offset + 8..offset + 8 + 2 * chars)?)?;
    let next = if offset == at + 4 {
        at + 4 + 10 + 2 * chars
    } else {
        at + 4
    };
    Some((name, next))
}

/// Whether a substitution value of type `ty` is what its type says, as the evtx crate reads
/// values: a known type, of its size.
fn well_formed(ty: u8, b: &[u8]) -> bool {
    let n = b.len();
    match ty {
        NULL | 0x02 | 0x0e | BINXML => true,
        STRING | 0x81 => n.is_multiple_of(2),
        0x03 | 0x04 => n == 1,
        0x05 | 0x06 => n == 2,
        0x07 | 0x08 | 0x0b | 0x0d | 0x14 => n == 4,
        0x09 | 0x0a | 0x0c | FILETIME | 0x15 => n == 8,
        0x0f | 0x12 => n == 16,
        0x10 => n == 4 || n == 8,
        // A SID: revision, count of sub-authorities, authority (6 bytes), the sub-authorities.
        0x13 => n >= 8 && n == 8 + 4 * usize::from(b[1]),
        0x83 | 0x84 => true,
        0x85 | 0x86 => n.is_multiple_of(2),
        0x87 | 0x88 | 0x8b | 0x8d | 0x94 => n.is_multiple_of(4),
        0x89 | 0x8a | 0x8c | 0x91 | 0x95 => n.is_multiple_of(8),
        0x8f | 0x92 => n.is_multiple_of(16),
        _ => false,
    }
}

/// An integer value (an event id).
fn number(d: &[u8], v: Value) -> Option<u64> {
    let b = d.get(v.at..v.at + v.size)?;
    match (v.ty, v.size) {
        (0x04, 1) => Some(u64::from(b[0])),
        (0x06, 2) => Some(u64::from(u16_at(b, 0)?)),
        (0x08, 4) => Some(u64::from(u32_at(b, 0)?)),
        (0x0a, 8) => u64_at(b, 0),
        _ => None,
    }
}

/// A value as the evtx crate renders it into JSON text, for the types Security events put in
/// the fields read; `None` for any other type.
fn text(d: &[u8], v: Value) -> Option<Cow<'_, str>> {
    let b = d.get(v.at..v.at + v.size)?;
    let n = |len: usize| (v.size == len).then_some(());
    Some(match v.ty {
        NULL => Cow::Borrowed(""),
        STRING => {
            if !b.len().is_multiple_of(2) {
                return None;
            }
            Cow::Owned(utf16(b)?)
        }
        // The crate drops every NUL of an ANSI string (and decodes it as Windows-1252,
        // which is ASCII's superset: other bytes are left to it).
        0x02 if b.is_ascii() => Cow::Owned(
            b.iter()
                .filter(|&&c| c != 0)
                .map(|&c| char::from(c))
                .collect(),
        ),
        0x03 => Cow::Owned((b[0] as i8).to_string()),
        0x04 => Cow::Owned(b[0].to_string()),
        0x05 => Cow::Owned(i16::from_le_bytes(b.try_into().ok()?).to_string()),
        0x06 => Cow::Owned(u16::from_le_bytes(b.try_into().ok()?).to_string()),
        0x07 => Cow::Owned(i32::from_le_bytes(b.try_into().ok()?).to_string()),
        0x08 => Cow::Owned(u32::from_le_bytes(b.try_into().ok()?).to_string()),
        0x09 => Cow::Owned(i64::from_le_bytes(b.try_into().ok()?).to_string()),
        0x0a => Cow::Owned(u64::from_le_bytes(b.try_into().ok()?).to_string()),
        0x0d => {
            n(4)?;
            match i32::from_le_bytes(b.try_into().ok()?) {
                0 => Cow::Borrowed("false"),
                1 => Cow::Borrowed("true"),
                raw => Cow::Owned(raw.to_string()),
            }
        }
        0x10 | 0x14 if v.size == 4 => Cow::Owned(format!("0x{:x}", u32_at(b, 0)?)),
        0x10 | 0x15 if v.size == 8 => Cow::Owned(format!("0x{:x}", u64_at(b, 0)?)),
        _ => return None,
    })
}

/// UTF-16LE text up to its first NUL, as the evtx crate reads strings; `None` if invalid.
fn utf16(b: &[u8]) -> Option<String> {
    let units = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .take_while(|&u| u != 0);
    char::decode_utf16(units)
        .collect::<Result<String, _>>()
        .ok()
}

/// Windows FILETIME (100 ns since 1601) to Unix seconds, rounded down; `None` past the
/// evtx crate's range of times (up to 9999-12-30T22:00 UTC).
fn unix_seconds(filetime: u64) -> Option<i64> {
    let t = (filetime / 10_000_000) as i64 - 11_644_473_600;
    (t <= 253_402_207_200).then_some(t)
}

fn u16_at(d: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(d.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(d: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(d.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(d: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(d.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use evtx::{EvtxChunkData, ParserSettings};
    use proptest::prelude::*;

    use super::*;
    use crate::evtx::rendered;

    /// A BinXML writer for test chunks: names stored inline, at the offset they are used.
    struct W(Vec<u8>);

    impl W {
        fn u8(&mut self, v: u8) -> &mut Self {
            self.0.push(v);
            self
        }
        fn u16(&mut self, v: u16) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn u32(&mut self, v: u32) -> &mut Self {
            self.0.extend_from_slice(&v.to_le_bytes());
            self
        }
        fn utf16(&mut self, s: &str) -> &mut Self {
            s.encode_utf16().for_each(|u| {
                self.u16(u);
            });
            self
        }
        fn name(&mut self, s: &str) -> &mut Self {
            let at = self.0.len() as u32 + 4;
            self.u32(at)
                .u32(0)
                .u16(0)
                .u16(s.encode_utf16().count() as u16);
            self.utf16(s).u16(0)
        }
        fn open(&mut self, name: &str, attributes: bool) -> &mut Self {
            let token = if attributes { 0x41 } else { 0x01 };
            self.u8(token).u16(0xffff).u32(0).name(name);
            if attributes {
                self.u32(0);
            }
            self
        }
        fn attribute(&mut self, name: &str) -> &mut Self {
            self.u8(ATTRIBUTE).name(name)
        }
        fn text(&mut self, s: &str) -> &mut Self {
            self.u8(VALUE)
                .u8(STRING)
                .u16(s.encode_utf16().count() as u16);
            self.utf16(s)
        }
        fn sub(&mut self, index: u16, ty: u8) -> &mut Self {
            self.u8(SUBSTITUTION).u16(index).u8(ty)
        }
        /// A template instance, its definition inline unless `defined` says where it is.
        fn instance(&mut self, defined: Option<u32>, body: impl Fn(&mut W)) -> u32 {
            self.u8(FRAGMENT_HEADER).u8(1).u8(1).u8(0);
            self.u8(TEMPLATE_INSTANCE).u8(1).u32(7);
            let here = self.0.len() as u32 + 4;
            let at = defined.unwrap_or(here);
            self.u32(at);
            if defined.is_none() {
                let size_at = self.0.len() + 20;
                self.u32(0).u32(0).u32(0).u32(0).u32(0).u32(0);
                let start = self.0.len();
                self.u8(FRAGMENT_HEADER).u8(1).u8(1).u8(0);
                body(self);
                self.u8(EOF);
                let size = (self.0.len() - start) as u32;
                self.0[size_at..size_at + 4].copy_from_slice(&size.to_le_bytes());
            }
            at
        }
        fn values(&mut self, values: &[(u8, Vec<u8>)]) {
            self.u32(values.len() as u32);
            for (ty, v) in values {
                self.u16(v.len() as u16).u8(*ty).u8(0);
            }
            for (_, v) in values {
                self.0.extend_from_slice(v);
            }
        }
    }

    fn utf16z(s: &str) -> Vec<u8> {
        s.encode_utf16()
            .chain([0])
            .flat_map(|u| u.to_le_bytes())
            .collect()
    }

    /// A chunk of Security events as Windows writes them: a System template whose last
    /// substitution is the `EventData`, itself a template instance (MS-EVEN6 §2.2.12).
    /// Each event: id, LogonType, Status, user.
    fn chunk(events: &[(u16, u32, u32, &str)]) -> Vec<u8> {
        let mut w = W(vec![0; CHUNK_HEADER]);
        let (mut system, mut data) = (None, None);
        let first_id = 100;
        let mut last_offset = 0;
        for (i, &(id, logon_type, status, user)) in events.iter().enumerate() {
            let start = w.0.len();
            last_offset = start;
            let record_id = first_id + i as u64;
            w.0.extend_from_slice(b"\x2a\x2a\0\0");
            w.u32(0);
            w.0.extend_from_slice(&record_id.to_le_bytes());
            let filetime = (1_700_000_000 + 11_644_473_600 + i as u64) * 10_000_000 + 1234;
            w.0.extend_from_slice(&filetime.to_le_bytes());
            system = Some(w.instance(system, |w| {
                w.open("Event", true).attribute("xmlns");
                w.text("http://schemas.microsoft.com/win/2004/08/events/event");
                w.u8(CLOSE_START).open("System", false).u8(CLOSE_START);
                w.open("Provider", true).attribute("Name").sub(0, STRING);
                w.u8(CLOSE_EMPTY);
                w.open("EventID", false)
                    .u8(CLOSE_START)
                    .sub(1, 0x06)
                    .u8(END_ELEMENT);
                w.open("TimeCreated", true).attribute("SystemTime");
                w.sub(2, FILETIME).u8(CLOSE_EMPTY);
                w.open("EventRecordID", false).u8(CLOSE_START).sub(3, 0x0a);
                w.u8(END_ELEMENT);
                w.open("Computer", false).u8(CLOSE_START).sub(4, STRING);
                w.u8(END_ELEMENT).u8(END_ELEMENT);
                w.sub(5, BINXML).u8(END_ELEMENT);
            }));
            let mut nested = W(Vec::new());
            // The nested stream's offsets are the chunk's: it is written where it will be.
            let values_len = 4 + 6 * 4;
            let provider = utf16z("Microsoft-Windows-Security-Auditing");
            let computer = utf16z("WEB01.corp.example");
            let nested_at = w.0.len() + values_len + provider.len() + 2 + 8 + 8 + computer.len();
            nested.0 = vec![0; nested_at];
            data = Some(nested.instance(data, |w| {
                w.open("EventData", false).u8(CLOSE_START);
                for (n, (name, ty)) in [
                    ("TargetUserName", STRING),
                    ("Status", 0x14),
                    ("LogonType", 0x08),
                    ("IpAddress", STRING),
                ]
                .into_iter()
                .enumerate()
                {
                    w.open("Data", true)
                        .attribute("Name")
                        .text(name)
                        .u8(CLOSE_START);
                    w.sub(n as u16, ty).u8(END_ELEMENT);
                }
                w.u8(END_ELEMENT);
            }));
            nested.values(&[
                (STRING, utf16z(user)),
                (0x14, status.to_le_bytes().to_vec()),
                (0x08, logon_type.to_le_bytes().to_vec()),
                (STRING, utf16z("192.0.2.7")),
            ]);
            nested.u8(EOF);
            w.values(&[
                (STRING, provider),
                (0x06, id.to_le_bytes().to_vec()),
                (FILETIME, filetime.to_le_bytes().to_vec()),
                (0x0a, record_id.to_le_bytes().to_vec()),
                (STRING, computer),
                (BINXML, nested.0[nested_at..].to_vec()),
            ]);
            w.u8(EOF);
            let size = (w.0.len() + 4 - start) as u32;
            w.u32(size);
            w.0[start + 4..start + 8].copy_from_slice(&size.to_le_bytes());
        }
        let end = w.0.len() as u32;
        let last_id = first_id + events.len() as u64 - 1;
        let h = &mut w.0;
        h[..8].copy_from_slice(b"ElfChnk\0");
        h[8..16].copy_from_slice(&first_id.to_le_bytes());
        h[16..24].copy_from_slice(&last_id.to_le_bytes());
        h[24..32].copy_from_slice(&first_id.to_le_bytes());
        h[32..40].copy_from_slice(&last_id.to_le_bytes());
        h[40..44].copy_from_slice(&128u32.to_le_bytes());
        h[44..48].copy_from_slice(&(last_offset as u32).to_le_bytes());
        h[48..52].copy_from_slice(&end.to_le_bytes());
        w.0.resize(65536, 0);
        w.0
    }

    fn both(bytes: Vec<u8>) -> (Option<Vec<Item>>, Vec<Item>) {
        let Ok(chunk) = EvtxChunkData::new(bytes, false) else {
            return (None, Vec::new());
        };
        let mut fast = Vec::new();
        let fast = super::chunk(&chunk.data, &chunk.header, &mut fast).map(|()| fast);
        let mut slow = Vec::new();
        let settings = Arc::new(ParserSettings::default().indent(false));
        rendered(&chunk, settings, true, &mut slow);
        (fast, slow)
    }

    const EVENTS: [(u16, u32, u32, &str); 5] = [
        (4625, 3, 0xC000_006D, "alice"),
        (4634, 3, 0, "bob"),
        (4624, 3, 0, "carol"),
        (4624, 2, 0, "dave"),
        (4625, 3, 0xC000_0072, "Ève"),
    ];

    #[test]
    fn a_security_chunk_is_read_as_the_crate_renders_it() {
        let (fast, slow) = both(chunk(&EVENTS));
        let fast = fast.expect("the chunk is read from its BinXML");
        assert_eq!(fast, slow);
        let read: Vec<_> = fast
            .iter()
            .filter_map(|i| match i {
                Item::Read(r) => Some((r.id, r.user.clone(), r.status)),
                _ => None,
            })
            .collect();
        assert_eq!(read.len(), 3, "{fast:?}");
        assert_eq!(read[0].0, 4625);
        assert!(matches!(fast[1], Item::Other(4634, Some(1_700_000_001))));
        assert!(matches!(fast[3], Item::Other(4624, Some(1_700_000_003))));
        let Item::Read(last) = &fast[4] else {
            panic!("{:?}", fast[4])
        };
        assert_eq!((last.record_id, last.time), (104, 1_700_000_004));
    }

    proptest! {
        /// A damaged chunk never makes the reader panic or read past it, and what the reader
        /// takes, it reads as the crate renders it. (`PROPTEST_CASES=1000000` passes.)
        #[test]
        fn a_damaged_chunk_is_read_as_the_crate_reads_it_or_left_to_it(
            flips in proptest::collection::vec((512usize..2500, any::<u8>()), 1..6),
        ) {
            let mut bytes = chunk(&EVENTS);
            for (at, b) in flips {
                bytes[at] = b;
            }
            let (fast, slow) = both(bytes);
            if let Some(fast) = fast {
                // The crate may refuse a record for a value no rule reads: it is read here.
                prop_assert_eq!(fast.len(), slow.len(), "{:?} {:?}", fast, slow);
                for (a, b) in fast.iter().zip(&slow) {
                    if !matches!(b, Item::Problem(..)) {
                        prop_assert_eq!(a, b);
                    }
                }
            }
        }
    }
}
