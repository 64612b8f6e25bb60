//! Event Viewer "Save as XML" files (`<Events><Event>…</Event>…</Events>`) and `wevtutil qe
//! /f:xml` output (`<Event>` elements one after another, no root), read one `<Event>` at a
//! time: the file is never held whole, and one broken event is a counted problem, not the end.
//!
//! The cutting is by hand (find `<Event` … `</Event>`), each event is then parsed by
//! roxmltree: no XML crate streams a document without a root element, and events never nest.
//! PowerShell's `>` writes UTF-16LE with a BOM; such files are decoded block by block.

use std::borrow::Cow;
use std::io::Read;

use crate::record::Raw;

/// The largest event taken (a Security event is a few KB; 4 MB is certainly not one).
const MAX_EVENT: usize = 4 << 20;

/// The first child element of `parent` named `name`.
pub(crate) fn child<'a, 'i>(
    parent: roxmltree::Node<'a, 'i>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'i>> {
    parent
        .children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// What a reader hands over: an event or a problem at a place.
pub enum Item<'a> {
    /// An event parsed from the file.
    Event(&'a Raw<'a>),
    /// Something that could not be read: where (1-based event number or byte offset), and why.
    Problem(String, String),
}

/// Reads every `<Event>` of `input`, calling `sink` for each.
pub fn read(input: impl Read, sink: &mut dyn FnMut(Item)) -> std::io::Result<()> {
    let mut src = Decoded::new(input);
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut start = 0usize;
    let mut n = 0u64;
    let mut eof = false;
    loop {
        // The next event's start, its end, or more input.
        match find_event(&buf[start..]) {
            Found::Event(a, b) => {
                n += 1;
                let slice = &buf[start + a..start + b];
                parse(slice, n, sink);
                start += b;
                continue;
            }
            Found::Open(a) if !eof && buf.len() - (start + a) > MAX_EVENT => {
                n += 1;
                sink(Item::Problem(
                    format!("event {n}"),
                    format!("longer than {} MB without its </Event>", MAX_EVENT >> 20),
                ));
                // Skip past this start tag and look for the next.
                start += a + 6;
                continue;
            }
            Found::Open(a) if eof => {
                n += 1;
                sink(Item::Problem(
                    format!("event {n}"),
                    format!(
                        "cut short: the file ends {} bytes into it, before </Event>",
                        buf.len() - (start + a)
                    ),
                ));
                return Ok(());
            }
            Found::Nothing if eof => return Ok(()),
            Found::Open(a) => {
                buf.drain(..start + a);
                start = 0;
            }
            Found::Nothing => {
                // Keep a tail that may hold the beginning of `<Event`.
                let keep = buf.len().saturating_sub(start).min(8);
                buf.drain(..buf.len() - keep);
                start = 0;
            }
        }
        let before = buf.len();
        buf.resize(before + (1 << 20), 0);
        let got = src.read(&mut buf[before..])?;
        buf.truncate(before + got);
        eof = got == 0;
    }
}

enum Found {
    /// An event from `.0` to `.1` (after `</Event>`).
    Event(usize, usize),
    /// An event starts at `.0` and does not end in the buffer.
    Open(usize),
    Nothing,
}

fn find_event(b: &[u8]) -> Found {
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(&b[from..], b"<Event") {
        let a = from + i;
        // `<Events>` is the root of Event Viewer's files, `<EventData>`, `<EventID>` are inside.
        match b.get(a + 6) {
            Some(b' ' | b'>' | b'\t' | b'\r' | b'\n') => {}
            Some(_) => {
                from = a + 6;
                continue;
            }
            None => return Found::Open(a),
        }
        return match memchr::memmem::find(&b[a..], b"</Event>") {
            Some(j) => Found::Event(a, a + j + 8),
            None => Found::Open(a),
        };
    }
    Found::Nothing
}

fn parse(slice: &[u8], n: u64, sink: &mut dyn FnMut(Item)) {
    let place = || format!("event {n}");
    let Ok(text) = std::str::from_utf8(slice) else {
        sink(Item::Problem(place(), "not UTF-8 text".into()));
        return;
    };
    let doc = match roxmltree::Document::parse(text) {
        Ok(d) => d,
        Err(e) => {
            sink(Item::Problem(place(), format!("not well-formed XML: {e}")));
            return;
        }
    };
    let ev = doc.root_element();
    let Some(system) = child(ev, "System") else {
        sink(Item::Problem(place(), "no <System> element".into()));
        return;
    };
    let text_of = |name: &str| child(system, name).and_then(|c| c.text()).unwrap_or("");
    let Some(id) = text_of("EventID").trim().parse::<u32>().ok() else {
        sink(Item::Problem(place(), "no numeric <EventID>".into()));
        return;
    };
    let provider = child(system, "Provider")
        .map(|p| {
            p.attribute("Name")
                .or(p.attribute("EventSourceName"))
                .unwrap_or("")
        })
        .unwrap_or("");
    let time = child(system, "TimeCreated")
        .and_then(|t| t.attribute("SystemTime"))
        .and_then(|t| why401_logs::time::rfc3339(t.trim().as_bytes()));
    let mut raw = Raw {
        id,
        record_id: text_of("EventRecordID").trim().parse().unwrap_or(0),
        time,
        computer: child(system, "Computer")
            .and_then(|c| c.text())
            .unwrap_or(""),
        provider,
        data: Vec::new(),
    };
    // EventData's <Data Name=…>; UserData holds one element whose children are the fields.
    if let Some(data) = child(ev, "EventData") {
        for d in data.children().filter(|c| c.is_element()) {
            raw.data
                .push((d.attribute("Name"), Cow::Borrowed(d.text().unwrap_or(""))));
        }
    } else if let Some(user) = child(ev, "UserData").and_then(|u| u.first_element_child()) {
        for d in user.children().filter(|c| c.is_element()) {
            raw.data.push((
                Some(d.tag_name().name()),
                Cow::Borrowed(d.text().unwrap_or("")),
            ));
        }
    }
    sink(Item::Event(&raw));
}

/// The input as UTF-8: UTF-8 (with or without a BOM) passes through, UTF-16 with a BOM is
/// decoded.
struct Decoded<R> {
    inner: R,
    state: Enc,
    pending: Vec<u8>,
    out: Vec<u8>,
    out_at: usize,
}

#[derive(PartialEq)]
enum Enc {
    Unknown,
    Utf8,
    Utf16Le,
    Utf16Be,
}

impl<R: Read> Decoded<R> {
    fn new(inner: R) -> Self {
        Decoded {
            inner,
            state: Enc::Unknown,
            pending: Vec::new(),
            out: Vec::new(),
            out_at: 0,
        }
    }
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.state == Enc::Unknown {
            let mut head = [0u8; 3];
            let mut got = 0;
            while got < 3 {
                let n = self.inner.read(&mut head[got..])?;
                if n == 0 {
                    break;
                }
                got += n;
            }
            let head = &head[..got];
            self.state = if head.starts_with(&[0xFF, 0xFE]) {
                self.pending.extend_from_slice(&head[2..]);
                Enc::Utf16Le
            } else if head.starts_with(&[0xFE, 0xFF]) {
                self.pending.extend_from_slice(&head[2..]);
                Enc::Utf16Be
            } else if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
                Enc::Utf8
            } else {
                self.out.extend_from_slice(head);
                Enc::Utf8
            };
        }
        if self.out_at < self.out.len() {
            let n = buf.len().min(self.out.len() - self.out_at);
            buf[..n].copy_from_slice(&self.out[self.out_at..self.out_at + n]);
            self.out_at += n;
            return Ok(n);
        }
        if self.state == Enc::Utf8 {
            return self.inner.read(buf);
        }
        // UTF-16: read a block, decode the whole code units, keep an odd byte for later.
        self.out.clear();
        self.out_at = 0;
        let mut block = vec![0u8; buf.len().max(4096)];
        loop {
            let n = self.inner.read(&mut block)?;
            if n == 0 && self.pending.is_empty() {
                return Ok(0);
            }
            self.pending.extend_from_slice(&block[..n]);
            let whole = self.pending.len() / 2 * 2;
            let le = self.state == Enc::Utf16Le;
            let units = self.pending[..whole].chunks_exact(2).map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            // A surrogate pair cut by the block boundary decodes as a replacement character;
            // event text is ASCII in practice (names, codes, addresses).
            let text: String = char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect();
            self.pending.drain(..whole);
            if n == 0 {
                self.pending.clear();
            }
            if !text.is_empty() || n == 0 {
                self.out.extend_from_slice(text.as_bytes());
                break;
            }
        }
        let n = buf.len().min(self.out.len());
        buf[..n].copy_from_slice(&self.out[..n]);
        self.out_at = n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><TimeCreated SystemTime='2026-11-25T10:00:01.1234567Z'/><EventRecordID>12</EventRecordID><Computer>WEB01</Computer></System><EventData><Data Name='TargetUserName'>jsmith</Data><Data Name='SubStatus'>0xc000006a</Data></EventData></Event>";

    type Seen = (u32, u64, Option<i64>, String);

    fn collect(bytes: &[u8]) -> (Vec<Seen>, Vec<(String, String)>) {
        let (mut ev, mut bad) = (Vec::new(), Vec::new());
        read(bytes, &mut |i| match i {
            Item::Event(r) => ev.push((
                r.id,
                r.record_id,
                r.time,
                r.get("TargetUserName").unwrap_or("").to_string(),
            )),
            Item::Problem(p, e) => bad.push((p, e)),
        })
        .unwrap();
        (ev, bad)
    }

    #[test]
    fn rootless_and_rooted_exports_read_the_same() {
        let rootless = format!("{EVENT}\r\n{EVENT}\r\n");
        let rooted =
            format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Events>{EVENT}{EVENT}</Events>");
        let (a, bad_a) = collect(rootless.as_bytes());
        let (b, bad_b) = collect(rooted.as_bytes());
        assert_eq!(a, b);
        assert!(bad_a.is_empty() && bad_b.is_empty());
        assert_eq!(a[0], (4625, 12, Some(1_795_600_801), "jsmith".into()));
    }

    #[test]
    fn utf16_exports_are_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in format!("{EVENT}\r\n").encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (ev, bad) = collect(&bytes);
        assert_eq!(ev.len(), 1, "{bad:?}");
        assert_eq!(ev[0].3, "jsmith");
    }

    #[test]
    fn a_broken_event_is_a_problem_and_the_next_is_read() {
        let text =
            format!("<Event><System><EventID>x</EventID></System></Event>{EVENT}<Event><System>");
        let (ev, bad) = collect(text.as_bytes());
        assert_eq!(ev.len(), 1);
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(bad[0].0, "event 1");
        assert!(bad[1].1.contains("cut short"), "{bad:?}");
    }
}
