//! The log formats, how each is recognised, and the per-chunk scan that feeds the accumulator.

pub mod iis;
pub mod json;
pub mod ncsa;

use crate::acc::{Acc, Loc, Record};
use crate::errorlog::Reasons;
use crate::split;

/// A log format, configured.
#[derive(Debug, Clone)]
pub enum Format {
    /// IIS W3C; the layout of the file's first `#Fields` directive (later ones switch it).
    Iis(iis::Layout),
    Ncsa(ncsa::Layout),
    Json(json::Mapping),
    /// nginx or Apache error log: read for reasons, not counted as requests.
    ErrorLog,
}

impl Format {
    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            Format::Iis(_) => "iis-w3c".into(),
            Format::Ncsa(l) if l.source == ncsa::COMBINED_NGINX => "combined".into(),
            Format::Ncsa(_) => "custom".into(),
            Format::Json(m) => format!("json-{}", m.preset),
            Format::ErrorLog => "error-log".into(),
        }
    }
}

/// Recognises the format from the first lines of a file.
pub fn detect(head: &[u8]) -> Option<Format> {
    let mut fields = None;
    for line in head.split(|&b| b == b'\n').take(64) {
        let line = trim_cr(line);
        if line.is_empty() {
            continue;
        }
        if let Some(f) = line.strip_prefix(b"#Fields:") {
            fields = Some(iis::Layout::parse(&String::from_utf8_lossy(f)));
            break;
        }
        if line.starts_with(b"#Software:")
            || line.starts_with(b"#Version:")
            || line.starts_with(b"#Date:")
        {
            continue;
        }
        if crate::errorlog::parse_line(line).is_some() || is_error_log(line) {
            return Some(Format::ErrorLog);
        }
        if line.first() == Some(&b'{') {
            let caddy = memchr::memmem::find(line, b"\"request\":{").is_some()
                && memchr::memmem::find(line, b"\"ts\":").is_some();
            let traefik = memchr::memmem::find(line, b"\"DownstreamStatus\"").is_some();
            let preset = if caddy {
                "caddy"
            } else if traefik {
                "traefik"
            } else {
                "generic"
            };
            return json::Mapping::preset(preset).map(Format::Json);
        }
        let combined = ncsa::Layout::combined();
        if combined
            .parse_line(line, &mut ncsa::TimeCache::default())
            .is_ok()
        {
            return Some(Format::Ncsa(combined));
        }
        let common = ncsa::Layout::parse(ncsa::COMMON_APACHE).ok()?;
        if common
            .parse_line(line, &mut ncsa::TimeCache::default())
            .is_ok()
        {
            return Some(Format::Ncsa(common));
        }
        return None;
    }
    fields.filter(iis::Layout::usable).map(Format::Iis)
}

/// An nginx or Apache error-log line of any kind (not only auth messages).
fn is_error_log(line: &[u8]) -> bool {
    let nginx = line.len() > 20
        && line[4] == b'/'
        && line[7] == b'/'
        && line[10] == b' '
        && memchr::memchr(b'[', line) == Some(20);
    let apache = line.first() == Some(&b'[')
        && memchr::memmem::find(line, b"] [").is_some()
        && memchr::memmem::find(line, b"[pid ").is_some();
    nginx || apache
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// What a chunk's scan reports besides its accumulators.
#[derive(Debug)]
pub struct ChunkOut {
    /// Lines before the chunk's first `#Fields` (IIS), parsed with the layout assumed at its start.
    pub prefix: Acc,
    pub rest: Acc,
    /// Bytes of the chunk up to the first directive (where `rest` starts).
    pub prefix_len: usize,
    /// The IIS layout in force at the end of the chunk, if a directive changed it.
    pub last_layout: Option<iis::Layout>,
    pub lines: u64,
    pub prefix_lines: u64,
}

/// Scans whole lines of `buf` (a chunk of file `file`, numbered `chunk`).
pub fn scan(
    format: &Format,
    buf: &[u8],
    file: usize,
    chunk: usize,
    mut acc_new: impl FnMut() -> Acc,
    reasons: Option<&Reasons>,
) -> ChunkOut {
    let mut prefix = acc_new();
    let mut rest: Option<Acc> = None;
    let mut prefix_len = buf.len();
    let mut layout = match format {
        Format::Iis(l) => Some(l.clone()),
        _ => None,
    };
    let mut changed = false;
    let mut iis_cache = iis::DayCache::default();
    let mut ncsa_cache = ncsa::TimeCache::default();
    let mut line_no: u64 = 0;
    let mut prefix_lines = 0;
    let base = buf.as_ptr() as usize;
    // The splitter notes, in the same pass, the fields' spaces of a W3C line (and its quotes,
    // so that a line with quoted values is read the careful way) and the quotes of an NCSA one.
    let (sep, also, keep) = match format {
        Format::Iis(_) => (b' ', Some(b'"'), split::MAX_SEPS),
        Format::Ncsa(_) => (b'"', None, ncsa::QUOTES_KEPT),
        _ => (b' ', None, 0),
    };
    split::for_each_line(buf, sep, also, keep, |raw, seps| {
        line_no += 1;
        let line = trim_cr(raw);
        let loc = Loc {
            file,
            chunk,
            line: line_no,
        };
        if line.first() == Some(&b'#') {
            if let (Some(f), Format::Iis(_)) = (line.strip_prefix(b"#Fields:"), format) {
                if rest.is_none() {
                    prefix_len = raw.as_ptr() as usize - base;
                    prefix_lines = line_no - 1;
                    rest = Some(acc_new());
                }
                layout = Some(iis::Layout::parse(&String::from_utf8_lossy(f)));
                changed = true;
            }
            return;
        }
        if line.is_empty() {
            return;
        }
        let acc = rest.as_mut().unwrap_or(&mut prefix);
        acc.lines += 1;
        match format {
            Format::Iis(_) => match layout
                .as_ref()
                .map(|l| iis::parse(l, line, seps, &mut iis_cache))
            {
                Some(Ok(r)) => acc.record(&r, loc, reasons, buf),
                Some(Err(why)) => acc.bad_line(loc, why, line),
                None => acc.bad_line(loc, "no #Fields directive before this line", line),
            },
            Format::Ncsa(l) => match l.read(line, seps, &mut ncsa_cache) {
                Ok(r) => acc.record(&r, loc, reasons, buf),
                Err(why) => acc.bad_line(loc, why, line),
            },
            Format::Json(m) => match m.parse_line(line) {
                Ok(f) => {
                    let r = Record {
                        time: f.time,
                        ip: f.ip.as_bytes(),
                        user: f.user.as_bytes(),
                        method: f.method.as_bytes(),
                        uri: f.uri.as_bytes(),
                        status: f.status,
                        substatus: 0,
                        win32: 0,
                        agent: f.agent.as_bytes(),
                        plus_for_space: false,
                    };
                    acc.record(&r, loc, reasons, buf)
                }
                Err(why) => acc.bad_line(loc, why, line),
            },
            Format::ErrorLog => {}
        }
    });
    if rest.is_none() {
        prefix_lines = line_no;
    }
    prefix.end_chunk(buf);
    let mut rest = rest.unwrap_or_else(&mut acc_new);
    rest.end_chunk(buf);
    ChunkOut {
        rest,
        prefix,
        prefix_len,
        last_layout: if changed { layout } else { None },
        lines: line_no,
        prefix_lines,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_each_format() {
        assert!(matches!(detect(b"#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Fields: date time cs-method cs-uri-stem sc-status\r\n"), Some(Format::Iis(_))));
        assert!(matches!(detect(br#"127.0.0.1 - - [27/Nov/2026:00:09:02 +0000] "GET / HTTP/1.1" 401 179 "-" "curl/7.88.1""#), Some(Format::Ncsa(_))));
        assert!(matches!(
            detect(br#"127.0.0.1 - - [27/Nov/2026:00:09:02 +0000] "GET / HTTP/1.1" 401 179"#),
            Some(Format::Ncsa(_))
        ));
        assert!(
            matches!(detect(br#"{"ts":1,"request":{"remote_ip":"1"},"status":200}"#), Some(Format::Json(m)) if m.preset == "caddy")
        );
        assert!(matches!(
            detect(b"2026/11/27 00:09:02 [notice] 1#1: start worker processes"),
            Some(Format::ErrorLog)
        ));
        assert!(detect(b"hello world").is_none());
    }
}
