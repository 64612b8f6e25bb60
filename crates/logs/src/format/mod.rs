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
    /// IIS W3C; the layout in force at the start of the input (its first `#Fields`, or the one
    /// assumed for a fragment without it); later `#Fields` lines switch it.
    Iis(iis::Layout),
    /// NCSA common/combined or any nginx `log_format` / Apache `LogFormat` string.
    Ncsa(ncsa::Layout),
    /// JSON lines, with where each field is found.
    Json(json::Mapping),
    /// nginx or Apache error log: read for reasons, not counted as requests.
    ErrorLog,
}

/// The name of an IIS W3C input in reports.
pub const IIS_NAME: &str = "iis-w3c";
/// ... and of one whose times are the server's local clock (`date-local`/`time-local`).
pub const IIS_LOCAL_NAME: &str = "iis-w3c (local time)";

impl Format {
    /// A short name for reports.
    pub fn name(&self) -> String {
        match self {
            Format::Iis(l) if l.local_time() => IIS_LOCAL_NAME.into(),
            Format::Iis(_) => IIS_NAME.into(),
            Format::Ncsa(l) if l.source == ncsa::COMBINED_NGINX => "combined".into(),
            Format::Ncsa(_) => "custom".into(),
            Format::Json(m) => format!("json-{}", m.preset),
            Format::ErrorLog => "error-log".into(),
        }
    }
}

/// Why the inputs cannot be read as asked.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// `--format` names no format and is no valid format string.
    #[error("--format: {0}")]
    Format(String),
    /// `--fields` (a W3C field list) cannot be used.
    #[error("--fields: {0}")]
    Fields(String),
    /// An input whose format is not known; `why` says what was asked and what was seen.
    #[error("{path}: {why}")]
    Unrecognised {
        /// The input as named.
        path: String,
        /// What was asked and what was seen.
        why: String,
    },
}

/// What `--format` and `--fields` ask for, decided before any input is opened.
#[derive(Debug, Clone)]
pub enum Choice {
    /// Recognise each input from its first lines.
    Sniff,
    /// IIS W3C: each input's layout comes from its own `#Fields` lines; lines before the first
    /// (a rotated file's fragment) are read with `start` (`--fields`), or IIS's default.
    Iis {
        /// The layout of lines before any `#Fields`; `None` picks IIS's default.
        start: Option<iis::Layout>,
    },
    /// One format for every input.
    Fixed(Format),
}

impl Choice {
    /// From `--format` (names in any case, or a format string), `--field` (JSON) and
    /// `--fields` (W3C, which alone means `--format iis`).
    pub fn new(
        format: Option<&str>,
        json_fields: &[String],
        w3c_fields: Option<&str>,
    ) -> Result<Choice, FormatError> {
        let start = match w3c_fields {
            None => None,
            Some(f) => {
                let l = iis::Layout::parse(f);
                if !l.usable() {
                    return Err(FormatError::Fields(format!(
                        "{f:?} has no sc-status, the one field an analysis cannot do without"
                    )));
                }
                Some(l)
            }
        };
        let Some(name) = format else {
            return Ok(match start {
                Some(_) => Choice::Iis { start },
                None => Choice::Sniff,
            });
        };
        // Names are matched in any case; a format string is kept as given (`$remote_addr`).
        let lower = name.to_ascii_lowercase();
        if matches!(lower.as_str(), "iis" | "w3c") {
            return Ok(Choice::Iis { start });
        }
        if start.is_some() {
            return Err(FormatError::Fields(format!(
                "it lists the fields of an IIS W3C log, which --format {name} is not"
            )));
        }
        let mut fmt =
            match lower.as_str() {
                "combined" => Format::Ncsa(ncsa::Layout::combined()),
                "common" => Format::Ncsa(
                    ncsa::Layout::parse(ncsa::COMMON_APACHE).map_err(FormatError::Format)?,
                ),
                "json" | "caddy" | "traefik" | "why401-gate" => {
                    let preset = if lower == "json" { "generic" } else { &lower };
                    Format::Json(json::Mapping::preset(preset).ok_or_else(|| {
                        FormatError::Format(format!("no JSON preset named {preset}"))
                    })?)
                }
                _ => Format::Ncsa(ncsa::Layout::parse(name).map_err(FormatError::Format)?),
            };
        if let Format::Json(m) = &mut fmt {
            for spec in json_fields {
                m.set(spec).map_err(FormatError::Format)?;
            }
        }
        Ok(Choice::Fixed(fmt))
    }

    /// The format of the input `path`, whose first decoded bytes are `head`.
    pub fn for_input(&self, path: &str, head: &[u8]) -> Result<Format, FormatError> {
        let unrecognised = |why: String| FormatError::Unrecognised {
            path: path.into(),
            why,
        };
        match self {
            Choice::Fixed(f) => Ok(f.clone()),
            Choice::Sniff => detect(head).ok_or_else(|| unrecognised(sniff_failure(head))),
            Choice::Iis { start } => iis_start(head, start.as_ref())
                .map(Format::Iis)
                .map_err(|why| unrecognised(why.into())),
        }
    }
}

/// Lines of `head` worth looking at to tell a format: not blank, `\r` trimmed.
fn head_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head.split(|&b| b == b'\n')
        .map(trim_cr)
        .filter(|l| !l.is_empty())
        .take(64)
}

/// The layout an input read as IIS W3C starts with: its `#Fields`, when one comes before the
/// first data line (every other directive is skipped); else `given`, or IIS's default.
fn iis_start(head: &[u8], given: Option<&iis::Layout>) -> Result<iis::Layout, &'static str> {
    for line in head_lines(head) {
        if let Some(f) = line.strip_prefix(b"#Fields:") {
            let l = iis::Layout::parse(&String::from_utf8_lossy(f));
            return if l.usable() {
                Ok(l)
            } else {
                Err(
                    "its #Fields directive has no sc-status, the one field an analysis cannot do without",
                )
            };
        }
        if line.first() != Some(&b'#') {
            return Ok(given
                .cloned()
                .unwrap_or_else(|| iis::Layout::default_for(fragment(head))));
        }
    }
    Ok(given
        .cloned()
        .unwrap_or_else(|| iis::Layout::parse(iis::DEFAULT_FIELDS)))
}

/// The data lines of `head` before its first `#Fields` line.
fn fragment(head: &[u8]) -> impl Iterator<Item = &[u8]> {
    head_lines(head)
        .take_while(|l| !l.starts_with(b"#Fields:"))
        .filter(|l| l.first() != Some(&b'#'))
}

/// Why sniffing found nothing: an unusable `#Fields` line, or a fragment of an IIS log (no
/// `#Fields` line), is named as such.
fn sniff_failure(head: &[u8]) -> String {
    if let Err(why) = iis_start(head, None) {
        return why.into();
    }
    let layout = iis::Layout::default_for(fragment(head));
    let iis_fragment = fragment(head).any(|line| {
        iis::parse_line(&layout, line, &mut Default::default()).is_ok_and(|r| r.time.is_some())
    });
    if iis_fragment {
        "cannot tell the log format from its first lines, which read as IIS W3C without the #Fields line (a rotated file's fragment?): use --format iis, with --fields 'date time ...' if the site logs other fields than IIS's default".into()
    } else {
        "cannot tell the log format from its first lines (use --format)".into()
    }
}

/// Recognises the format from the first lines of a file.
pub fn detect(head: &[u8]) -> Option<Format> {
    for line in head_lines(head) {
        if let Some(f) = line.strip_prefix(b"#Fields:") {
            return Some(iis::Layout::parse(&String::from_utf8_lossy(f)))
                .filter(iis::Layout::usable)
                .map(Format::Iis);
        }
        // W3C directives (`#Software`, `#Version`, `#Date`, `#Start-Date`, `#Remark`, ...)
        // may come before `#Fields`; no other format starts lines with `#`.
        if line.first() == Some(&b'#') {
            continue;
        }
        if crate::errorlog::parse_line(line).is_some() || is_error_log(line) {
            return Some(Format::ErrorLog);
        }
        if line.first() == Some(&b'{') {
            let caddy = memchr::memmem::find(line, b"\"request\":{").is_some()
                && memchr::memmem::find(line, b"\"ts\":").is_some();
            let traefik = memchr::memmem::find(line, b"\"DownstreamStatus\"").is_some();
            let gate = memchr::memmem::find(line, b"\"request_id\":").is_some()
                && (memchr::memmem::find(line, b"\"kind\":\"authz\"").is_some()
                    || memchr::memmem::find(line, b"\"kind\":\"login\"").is_some());
            let preset = if gate {
                "why401-gate"
            } else if caddy {
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
    None
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
    /// The lines from the first directive on.
    pub rest: Acc,
    /// Bytes of the chunk up to the first directive (where `rest` starts).
    pub prefix_len: usize,
    /// The IIS layout in force at the end of the chunk, if a directive changed it.
    pub last_layout: Option<iis::Layout>,
    /// Lines in the chunk, directives included.
    pub lines: u64,
    /// Of those, the lines in `prefix`.
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
        // why401 gate's audit log: a refused form login counts as the 401 it was.
        let audit = br#"{"time":"2026-12-06T18:25:00Z","request_id":"23ad","kind":"login","status":200,"auth_status":401,"result":"refused","user":"bob","address":"10.1.2.3","refusal":"wrong-password"}"#;
        let Some(Format::Json(m)) = detect(audit) else {
            panic!("the audit log is recognised")
        };
        assert_eq!(m.preset, "why401-gate");
        let f = m.parse_line(audit).unwrap();
        assert_eq!(
            (f.status, f.user.as_str(), f.ip.as_str()),
            (401, "bob", "10.1.2.3")
        );
        assert!(matches!(
            detect(b"2026/11/27 00:09:02 [notice] 1#1: start worker processes"),
            Some(Format::ErrorLog)
        ));
        assert!(detect(b"hello world").is_none());
    }

    const DEFAULT_LINE: &[u8] =
        b"2026-11-27 00:09:02 10.0.0.5 GET / - 443 - 10.1.2.3 curl/8 - 401 2 5 0\r\n";

    fn layout(f: Result<Format, FormatError>) -> iis::Layout {
        match f {
            Ok(Format::Iis(l)) => l,
            other => panic!("not IIS: {other:?}"),
        }
    }

    #[test]
    fn any_directive_may_come_before_fields() {
        let head = b"#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Start-Date: 2026-11-27 00:00:00\r\n#Remark: after a restart\r\n#End-Date: 2026-11-27 00:00:00\r\n\r\n#Date: 2026-11-27 00:00:00\r\n#Fields: date time c-ip sc-status\r\n2026-11-27 00:09:02 10.1.2.3 401\r\n";
        let Some(Format::Iis(l)) = detect(head) else {
            panic!("not detected as IIS")
        };
        assert_eq!(l, iis::Layout::parse("date time c-ip sc-status"));
        let iis = Choice::new(Some("iis"), &[], None).unwrap();
        assert_eq!(layout(iis.for_input("u_ex.log", head)), l);
    }

    #[test]
    fn format_names_are_read_in_any_case() {
        for name in ["IIS", "Iis", "W3C", "w3c"] {
            assert!(
                matches!(
                    Choice::new(Some(name), &[], None),
                    Ok(Choice::Iis { start: None })
                ),
                "{name}"
            );
        }
        for name in ["Combined", "COMMON"] {
            assert!(
                matches!(
                    Choice::new(Some(name), &[], None),
                    Ok(Choice::Fixed(Format::Ncsa(_)))
                ),
                "{name}"
            );
        }
        for name in ["JSON", "Caddy", "TRAEFIK"] {
            let Ok(Choice::Fixed(Format::Json(m))) = Choice::new(Some(name), &[], None) else {
                panic!("{name}")
            };
            let want = match name {
                "JSON" => "generic".to_string(),
                _ => name.to_ascii_lowercase(),
            };
            assert_eq!(m.preset, want);
        }
        // A format string keeps its case: nginx variables are lower case, `%U` is not `%u`.
        assert!(matches!(
            Choice::new(Some("%h %l %u %t \"%r\" %>s %b"), &[], None),
            Ok(Choice::Fixed(Format::Ncsa(_)))
        ));
    }

    #[test]
    fn a_fragment_is_read_with_the_default_or_the_given_fields() {
        let iis = Choice::new(Some("iis"), &[], None).unwrap();
        assert_eq!(
            layout(iis.for_input("frag.log", DEFAULT_LINE)),
            iis::Layout::parse(iis::DEFAULT_FIELDS)
        );
        // Only directives in the head (the data further on): IIS's current default.
        assert_eq!(
            layout(iis.for_input("frag.log", b"#Remark: nothing yet\n")),
            iis::Layout::parse(iis::DEFAULT_FIELDS)
        );
        // --fields alone means IIS, and is the layout until a #Fields line says otherwise.
        let given = Choice::new(None, &[], Some("date time c-ip sc-status")).unwrap();
        let start = layout(given.for_input("frag.log", b"2026-11-27 00:09:02 10.1.2.3 401\n"));
        assert_eq!(start, iis::Layout::parse("date time c-ip sc-status"));
        assert_eq!(
            layout(given.for_input("u_ex.log", b"#Fields: date time sc-status\n")),
            iis::Layout::parse("date time sc-status")
        );
        // Sniffing does not guess the layout, but says what it saw.
        let err = Choice::Sniff
            .for_input("frag.log", DEFAULT_LINE)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("frag.log: ") && err.contains("use --format iis"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_what_was_asked() {
        let err = |r: Result<Choice, FormatError>| r.unwrap_err().to_string();
        assert!(
            err(Choice::new(None, &[], Some("date time"))).starts_with("--fields: "),
            "a layout without sc-status is refused"
        );
        assert!(
            err(Choice::new(
                Some("combined"),
                &[],
                Some("date time sc-status")
            ))
            .starts_with("--fields: ")
        );
        assert!(err(Choice::new(Some("$nonsense ["), &[], None)).starts_with("--format: "));
        // With --format given, the message never says "use --format".
        let iis = Choice::new(Some("iis"), &[], None).unwrap();
        let e = iis
            .for_input(
                "u_ex.log",
                b"#Start-Date: 2026-11-27\n#Fields: date time cs-method\n",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("has no sc-status") && !e.contains("use --format"),
            "{e}"
        );
        let e = Choice::Sniff
            .for_input("x.log", b"#Fields: date time cs-method\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no sc-status"), "{e}");
        let e = Choice::Sniff
            .for_input("x.log", b"hello world\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.log: cannot tell the log format from its first lines (use --format)"
        );
    }

    #[test]
    fn local_time_is_in_the_name() {
        let l = iis::Layout::parse("date-local time-local sc-status");
        assert_eq!(Format::Iis(l).name(), IIS_LOCAL_NAME);
        assert_eq!(
            Format::Iis(iis::Layout::parse("date time sc-status")).name(),
            IIS_NAME
        );
    }
}
