//! Browser captures as evidence: HAR files, Chrome/Edge NetLogs and Fiddler SAZ archives read
//! into the exchange model the probe uses, grouped into flows.
//!
//! What it is for: the `why401 har` source. Each reader streams its file (entry by entry, never
//! the whole capture in memory) and hands [`CapturedLeg`]s to a [`Sink`]; [`flow::Flows`] is the
//! sink that groups them into [`CaptureFlow`]s (a navigation or fetch with its redirects and auth
//! restarts) and hands each on once it can grow no more.
//!
//! What it is not: no judgement (that is the doctor's `capture` rules), no output.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use why401_evidence::capture::{AuthDecision, CaptureInfo, CapturedLeg, RefusedCookie};
use why401_evidence::{AuthSource, Headers, SentAuth, header};

pub mod flow;
pub mod har;
pub mod hidden;
pub mod netlog;
pub mod redact;
pub mod saz;
mod scan;

/// Bytes of a response body kept (enough to tell a login page); the rest is counted, not held.
pub const BODY_KEPT: usize = 4096;

/// Where a reader hands each leg as soon as it is read.
pub trait Sink {
    /// One leg, in capture order.
    fn leg(&mut self, leg: CapturedLeg);

    /// What the browser decided about the request whose first leg (to `url`) comes next
    /// (NetLog): an auth decision, a refused cookie.
    fn note(&mut self, url: &str, auth: Option<AuthDecision>, cookie: Option<RefusedCookie>) {
        let _ = (url, auth, cookie);
    }
}

/// A sink that keeps every leg (tests, small captures).
#[derive(Debug, Default)]
pub struct Collect {
    /// The legs, in order.
    pub legs: Vec<CapturedLeg>,
}

impl Sink for Collect {
    fn leg(&mut self, leg: CapturedLeg) {
        self.legs.push(leg);
    }
}

/// Why a capture could not be read at all.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The path given.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// Not a capture this reads.
    #[error("{0}")]
    Unknown(String),
}

/// The kinds of capture, told apart by content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// HTTP Archive.
    Har,
    /// Chrome/Edge NetLog.
    Netlog,
    /// Fiddler session archive (a zip).
    Saz,
}

/// Tells the kind of capture from its first bytes (after a BOM and whitespace).
pub fn sniff(head: &[u8]) -> Option<Kind> {
    if head.starts_with(b"PK\x03\x04") {
        return Some(Kind::Saz);
    }
    let head = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start();
    if !t.starts_with('{') {
        return None;
    }
    let body: String = t[1..].chars().filter(|c| !c.is_whitespace()).collect();
    if body.starts_with("\"constants\"") || body.starts_with("\"events\"") {
        Some(Kind::Netlog)
    } else if body.starts_with("\"log\"") || t.contains("\"entries\"") || t.contains("\"log\"") {
        Some(Kind::Har)
    } else {
        None
    }
}

/// Reads the capture at `path` (`-` for stdin) into `sink`.
pub fn read_path(path: &str, sink: &mut dyn Sink) -> Result<CaptureInfo, CaptureError> {
    let io = |source| CaptureError::Io {
        path: path.to_string(),
        source,
    };
    let mut reader: BufReader<Box<dyn Read>> = if path == "-" {
        BufReader::with_capacity(1 << 20, Box::new(std::io::stdin()))
    } else {
        BufReader::with_capacity(
            1 << 20,
            Box::new(std::fs::File::open(Path::new(path)).map_err(io)?),
        )
    };
    let head = reader.fill_buf().map_err(io)?.to_vec();
    match sniff(&head) {
        Some(Kind::Har) => Ok(har::read(reader, sink)),
        Some(Kind::Netlog) => Ok(netlog::read(reader, sink)),
        Some(Kind::Saz) => {
            // A zip is read through its central directory at the end: it needs a seekable file.
            if path == "-" {
                let mut bytes = Vec::new();
                reader.read_to_end(&mut bytes).map_err(io)?;
                saz::read(std::io::Cursor::new(bytes), sink)
            } else {
                let file = std::fs::File::open(path).map_err(io)?;
                saz::read(file, sink)
            }
            .map_err(|e| CaptureError::Unknown(format!("{path}: {e}")))
        }
        None => Err(CaptureError::Unknown(format!(
            "{path}: not a HAR, a NetLog or a SAZ (a HAR is JSON with \"log\", a NetLog JSON with \"constants\" and \"events\", a SAZ a zip)"
        ))),
    }
}

/// `reader` without a leading UTF-8 byte order mark.
pub(crate) fn skip_bom<R: Read>(reader: R) -> impl Read {
    let mut r = BufReader::new(reader);
    if let Ok(buf) = r.fill_buf()
        && buf.starts_with(b"\xef\xbb\xbf")
    {
        r.consume(3);
    }
    r
}

/// The credentials a captured request carried: its `Authorization`/`Proxy-Authorization`, or one
/// the exporter hid but whose scheme it kept.
pub(crate) fn sent_auth(headers: &Headers, hidden: &[hidden::HiddenHeader]) -> Option<SentAuth> {
    for name in ["Authorization", "Proxy-Authorization"] {
        let scheme = header(headers, name)
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_string)
            .or_else(|| {
                hidden
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case(name))
                    .and_then(|h| h.scheme.clone())
            });
        if let Some(scheme) = scheme {
            return Some(SentAuth {
                header: name.to_string(),
                scheme,
                source: AuthSource::Captured,
            });
        }
    }
    None
}

/// Unix milliseconds of an RFC 3339 date (`2026-12-06T10:00:00.123Z`, `…+01:00`).
pub(crate) fn iso_millis(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_told_by_content() {
        assert_eq!(sniff(b"\xef\xbb\xbf{\n  \"log\": {"), Some(Kind::Har));
        assert_eq!(
            sniff(b"{\"constants\":{\"logEventTypes\""),
            Some(Kind::Netlog)
        );
        assert_eq!(sniff(b"PK\x03\x04\x14\x00"), Some(Kind::Saz));
        assert_eq!(sniff(b"GET / HTTP/1.1"), None);
        assert_eq!(
            iso_millis("2025-12-06T10:00:00.250Z"),
            Some(1_765_015_200_250)
        );
    }
}
