//! IIS W3C extended log format: fields in the order of the last `#Fields:` directive, `-` for
//! empty, `+` for spaces inside `cs(User-Agent)`, times in UTC (or the server's clock, for
//! `date-local`/`time-local`).
//!
//! IIS writes one space between fields and never quotes; other W3C writers (IIS Advanced
//! Logging, appliances) quote values that hold spaces and pad with runs of spaces or tabs. The
//! splitter records every space and quote of a line: a line with exactly one per field boundary
//! is read from those offsets as it is (the hot path, unchanged); any other is split again
//! here, quote by quote.
//!
//! No crate parses W3C logs; this is the whole format.

use crate::acc::Record;
use crate::time;

/// The fields current IIS (8.5 and later) writes when nobody changed `logExtFileFlags`, in the
/// order IIS writes them: IIS 7's default plus `cs(Referer)`. A fragment of a rotated file
/// without its `#Fields` line is read with these.
pub const DEFAULT_FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

/// IIS 7.0 and 7.5's default (Microsoft Learn, `<logFile>` of `<siteDefaults>`: Date, Time,
/// ClientIP, UserName, ServerIP, Method, UriStem, UriQuery, TimeTaken, HttpStatus, Win32Status,
/// ServerPort, UserAgent, HttpSubStatus): 14 fields, no `cs(Referer)`.
pub const DEFAULT_FIELDS_IIS7: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) sc-status sc-substatus sc-win32-status time-taken";

/// The most fields read from a line split the slow way (quotes, runs of spaces).
const MAX_FIELDS: usize = 128;

/// Where each field this analysis reads sits in a line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    /// The field names in line order, as the `#Fields` directive (or `--fields`) gives them.
    pub fields: Vec<String>,
    date: Option<usize>,
    time: Option<usize>,
    /// `date` and `time` are `date-local` and `time-local`: the server's clock, not UTC.
    local_time: bool,
    ip: Option<usize>,
    forwarded: Option<usize>,
    user: Option<usize>,
    method: Option<usize>,
    uri: Option<usize>,
    status: Option<usize>,
    substatus: Option<usize>,
    win32: Option<usize>,
    agent: Option<usize>,
    /// The highest index read.
    last: usize,
    /// The spaces of a line holding exactly the listed fields one space apart (the fast path);
    /// `usize::MAX` when the splitter cannot record that many.
    seps: usize,
}

impl Layout {
    /// Reads the text after `#Fields:`.
    pub fn parse(directive: &str) -> Layout {
        let fields: Vec<String> = directive.split_whitespace().map(String::from).collect();
        let pos = |names: &[&str]| {
            fields
                .iter()
                .position(|f| names.iter().any(|n| f.eq_ignore_ascii_case(n)))
        };
        // UTC fields win; the local ones are read only without them (IIS Advanced Logging,
        // or a site configured for local time only).
        let (date, time, local_time) = match (pos(&["date"]), pos(&["time"])) {
            (Some(d), Some(t)) => (Some(d), Some(t), false),
            utc => match (pos(&["date-local"]), pos(&["time-local"])) {
                (Some(d), Some(t)) => (Some(d), Some(t), true),
                _ => (utc.0, utc.1, false),
            },
        };
        let mut l = Layout {
            date,
            time,
            local_time,
            ip: pos(&["c-ip"]),
            forwarded: pos(&["x-forwarded-for", "cs(x-forwarded-for)", "OriginalIP"]),
            user: pos(&["cs-username"]),
            method: pos(&["cs-method"]),
            uri: pos(&["cs-uri-stem"]),
            status: pos(&["sc-status"]),
            substatus: pos(&["sc-substatus"]),
            win32: pos(&["sc-win32-status"]),
            agent: pos(&["cs(User-Agent)"]),
            last: 0,
            seps: match fields.len().saturating_sub(1) {
                n if n < crate::split::MAX_SEPS => n,
                _ => usize::MAX,
            },
            fields,
        };
        l.last = [
            l.date,
            l.time,
            l.ip,
            l.forwarded,
            l.user,
            l.method,
            l.uri,
            l.status,
            l.substatus,
            l.win32,
            l.agent,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0);
        l
    }

    /// IIS's default layout for data lines met before any `#Fields` (a rotated file's
    /// fragment): IIS 7's when the first line with 14 or 15 fields has 14, else IIS 8.5 and
    /// later's. (A first line cut short or garbled does not decide.)
    pub fn default_for<'a>(lines: impl IntoIterator<Item = &'a [u8]>) -> Layout {
        let mut bounds = [(0, 0); MAX_FIELDS];
        let iis7 = lines
            .into_iter()
            .map(|line| split_fields(line, 16, &mut bounds))
            .find(|&n| n == 14 || n == 15)
            == Some(14);
        Layout::parse(if iis7 {
            DEFAULT_FIELDS_IIS7
        } else {
            DEFAULT_FIELDS
        })
    }

    /// Whether the layout has what an analysis needs (a status).
    pub fn usable(&self) -> bool {
        self.status.is_some()
    }

    /// Whether times are the server's local clock (`date-local`/`time-local`), not UTC.
    pub fn local_time(&self) -> bool {
        self.local_time
    }
}

/// Per-chunk cache: the day of the last `date` seen.
#[derive(Debug, Default)]
pub struct DayCache {
    date: [u8; 10],
    day: i64,
}

fn dash(f: &[u8]) -> &[u8] {
    if f == b"-" { b"" } else { f }
}

/// Parses one data line with `layout`; `seps` are the offsets of its spaces and quotes (from
/// [`crate::split`]).
#[inline(always)]
pub fn parse<'a>(
    layout: &Layout,
    line: &'a [u8],
    seps: &[u32],
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    // The common line: the listed fields one space apart, no quote. Anything else (runs of
    // blanks, quoted values, missing or extra fields) is split again.
    // The count alone can mislead: quotes (recorded as offsets) and tabs (not recorded) may
    // balance out, so the offsets must all be spaces.
    if seps.len() == layout.seps && seps.iter().all(|&s| line.get(s as usize) == Some(&b' ')) {
        read(layout, Spaced { line, seps }, cache)
    } else {
        parse_uneven(layout, line, seps, cache)
    }
}

/// A line with more or fewer offsets than the layout has fields. Most often its fields are
/// still one space apart and unquoted, only more or fewer than listed (a chunk scanned with the
/// layout of before a `#Fields` change, then read again; a broken line): the offsets are its
/// fields then, which is much cheaper than splitting it byte by byte.
#[cold]
#[inline(never)]
fn parse_uneven<'a>(
    layout: &Layout,
    line: &'a [u8],
    seps: &[u32],
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    let plain = seps.len() < crate::split::MAX_SEPS
        && seps.first() != Some(&0)
        && seps.last().is_none_or(|&s| s as usize + 1 < line.len())
        && seps.windows(2).all(|w| w[1] > w[0] + 1)
        && seps.iter().all(|&s| line.get(s as usize) == Some(&b' '))
        && memchr::memchr(b'\t', line).is_none();
    if !plain {
        return parse_split(layout, line, cache);
    }
    if seps.len() < layout.last {
        return Err("fewer fields than the #Fields directive lists");
    }
    read(layout, Spaced { line, seps }, cache)
}

/// The slow way: fields separated by runs of spaces or tabs, quoted values kept whole.
fn parse_split<'a>(
    layout: &Layout,
    line: &'a [u8],
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    if layout.last >= MAX_FIELDS {
        return Err("a field this analysis reads is past the 128th of the #Fields directive");
    }
    let mut bounds = [(0u32, 0u32); MAX_FIELDS];
    let n = split_fields(line, layout.last + 1, &mut bounds);
    if n <= layout.last {
        return Err("fewer fields than the #Fields directive lists");
    }
    read(
        layout,
        Split {
            line,
            bounds: &bounds[..n],
        },
        cache,
    )
}

/// Splits `line` into at most `want` fields, written to `out` as (start, end) offsets; returns
/// how many. Fields are separated by runs of spaces or tabs; a field that starts with `"` runs
/// to its [closing quote](closing_quote), and the offsets leave the outer quotes out.
fn split_fields(line: &[u8], want: usize, out: &mut [(u32, u32); MAX_FIELDS]) -> usize {
    let blank = |b: u8| b == b' ' || b == b'\t';
    let want = want.min(MAX_FIELDS);
    let (mut n, mut i) = (0, 0);
    while n < want {
        while i < line.len() && blank(line[i]) {
            i += 1;
        }
        if i == line.len() {
            break;
        }
        let closing = if line[i] == b'"' {
            closing_quote(line, i + 1)
        } else {
            None
        };
        out[n] = match closing {
            Some(q) => {
                let field = (i as u32 + 1, q as u32);
                i = q + 1;
                field
            }
            // Unquoted, or a quote never closed: up to the next separator.
            None => {
                let start = i;
                while i < line.len() && !blank(line[i]) {
                    i += 1;
                }
                (start as u32, i as u32)
            }
        };
        n += 1;
    }
    n
}

/// The quote that closes a value opened before `from`: one followed by a separator or the end
/// of the line. A doubled quote (`""`) or an escaped one (`\"`) is part of the value.
fn closing_quote(line: &[u8], from: usize) -> Option<usize> {
    let mut j = from;
    while let Some(q) = memchr::memchr(b'"', line.get(j..)?).map(|q| j + q) {
        match line.get(q + 1) {
            Some(b'"') => j = q + 2,
            _ if q > from && line[q - 1] == b'\\' => j = q + 1,
            None | Some(b' ' | b'\t') => return Some(q),
            Some(_) => j = q + 1,
        }
    }
    None
}

/// Field `k` of a line (empty when the line has fewer).
trait Fields<'a> {
    fn get(&self, k: usize) -> &'a [u8];
}

/// A plain line and its spaces (the splitter's offsets).
struct Spaced<'a, 's> {
    line: &'a [u8],
    seps: &'s [u32],
}

impl<'a> Fields<'a> for Spaced<'a, '_> {
    // A trait method, not a closure: a closure called from several places is not always
    // inlined, and this runs for every field of every line.
    #[inline(always)]
    fn get(&self, k: usize) -> &'a [u8] {
        field(self.line, self.seps, k)
    }
}

/// A line split by [`split_fields`].
struct Split<'a, 'b> {
    line: &'a [u8],
    bounds: &'b [(u32, u32)],
}

impl<'a> Fields<'a> for Split<'a, '_> {
    #[inline(always)]
    fn get(&self, k: usize) -> &'a [u8] {
        self.bounds
            .get(k)
            .and_then(|&(s, e)| self.line.get(s as usize..e as usize))
            .unwrap_or_default()
    }
}

/// Reads a record from `fields` (every field up to `layout.last` exists).
#[inline(always)]
fn read<'a>(
    layout: &Layout,
    fields: impl Fields<'a>,
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    let status = parse_status(fields.get(layout.status.ok_or("no sc-status in #Fields")?))
        .ok_or("sc-status is not a number")?;
    let time = match (layout.date, layout.time) {
        (Some(d), Some(t)) => {
            let date = fields.get(d);
            if date.len() != 10 {
                return Err("date is not YYYY-MM-DD");
            }
            // Compared as two words, not with memcmp: this runs on every line.
            let word = |b: &[u8]| {
                (
                    u64::from_le_bytes(b[..8].try_into().unwrap_or_default()),
                    u16::from_le_bytes([b[8], b[9]]),
                )
            };
            if word(date) != word(&cache.date) {
                cache.day = time::iso_date(date).ok_or("date is not YYYY-MM-DD")?;
                cache.date.copy_from_slice(date);
            }
            Some(cache.day * 86_400 + time::clock(fields.get(t)).ok_or("time is not hh:mm:ss")?)
        }
        _ => None,
    };
    let num = |idx: Option<usize>| match idx {
        Some(i) => number(fields.get(i)),
        None => Ok(0),
    };
    let get = |idx: Option<usize>| match idx {
        Some(i) => dash(fields.get(i)),
        None => b"",
    };
    let forwarded = get(layout.forwarded);
    Ok(Record {
        time,
        // Behind a load balancer the client is in X-Forwarded-For (first address).
        ip: if forwarded.is_empty() {
            get(layout.ip)
        } else {
            forwarded.split(|&b| b == b',').next().unwrap_or(forwarded)
        },
        user: get(layout.user),
        method: get(layout.method),
        uri: get(layout.uri),
        status,
        substatus: num(layout.substatus)? as u32,
        win32: num(layout.win32)?,
        agent: get(layout.agent),
        plus_for_space: true,
    })
}

/// Splits `line` and parses it (for tests and one-off lines).
pub fn parse_line<'a>(
    layout: &Layout,
    line: &'a [u8],
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    let seps: Vec<u32> = memchr::memchr2_iter(b' ', b'"', line)
        .take(crate::split::MAX_SEPS)
        .map(|i| i as u32)
        .collect();
    parse(layout, line, &seps, cache)
}

/// Field `k` of `line`, whose spaces are at `seps`.
#[inline(always)]
fn field<'a>(line: &'a [u8], seps: &[u32], k: usize) -> &'a [u8] {
    let start = if k == 0 {
        0
    } else {
        seps.get(k - 1).map_or(line.len(), |&s| s as usize + 1)
    };
    let end = seps.get(k).map_or(line.len(), |&s| s as usize);
    line.get(start..end).unwrap_or_default()
}

/// A decimal `sc-substatus` / `sc-win32-status` (`-` is 0).
#[inline(always)]
fn number(s: &[u8]) -> Result<u64, &'static str> {
    if s.len() > 19 {
        return Err("number too large");
    }
    let mut v: u64 = 0;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return if s == b"-" {
                Ok(0)
            } else {
                Err("sc-substatus / sc-win32-status is not a number")
            };
        }
        v = v * 10 + d as u64;
    }
    Ok(v)
}

#[inline(always)]
fn parse_status(s: &[u8]) -> Option<u16> {
    if s.len() != 3 {
        return None;
    }
    let v = time::digits(s, 3)?;
    (100..=999).contains(&v).then_some(v as u16)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIELDS: &str = "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken";

    #[test]
    fn a_documented_line() {
        let l = Layout::parse(FIELDS);
        let mut c = DayCache::default();
        let line = b"2026-11-27 00:09:02 10.0.0.5 GET /reports/ q=1 443 CORP\\alice 10.1.2.3 Mozilla/5.0+(Windows+NT+10.0) - 401 1 2148074254 15";
        let r = parse_line(&l, line, &mut c).unwrap();
        assert_eq!((r.status, r.substatus, r.win32), (401, 1, 2_148_074_254));
        assert_eq!(
            (r.user, r.ip, r.uri, r.method),
            (
                &b"CORP\\alice"[..],
                &b"10.1.2.3"[..],
                &b"/reports/"[..],
                &b"GET"[..]
            )
        );
        assert_eq!(r.time, Some(1_795_738_142));
        assert_eq!(r.agent, b"Mozilla/5.0+(Windows+NT+10.0)");
        let r = parse_line(&l, b"2026-11-27 00:09:02 10.0.0.5 RPC_IN_DATA /rpc/rpcproxy.dll - 443 - 10.1.2.3 MSRPC - 401 2 5 0", &mut c).unwrap();
        assert_eq!(
            (r.method, r.user, r.status),
            (&b"RPC_IN_DATA"[..], &b""[..], 401)
        );
    }

    #[test]
    fn bad_lines_say_why() {
        let l = Layout::parse(FIELDS);
        let mut c = DayCache::default();
        assert!(parse_line(&l, b"2026-11-27 00:09:02 truncated", &mut c).is_err());
        assert_eq!(
            parse_line(
                &l,
                b"2026-11-27 00:09:02 1 GET / - 443 - 1 UA - OK 0 0 1",
                &mut c
            )
            .err(),
            Some("sc-status is not a number")
        );
        assert_eq!(
            parse_line(
                &l,
                b"27/11/2026 00:09:02 1 GET / - 443 - 1 UA - 200 0 0 1",
                &mut c
            )
            .err(),
            Some("date is not YYYY-MM-DD")
        );
    }

    #[test]
    fn layouts_find_their_fields() {
        let l = Layout::parse("date time cs-method cs-uri-stem sc-status X-Forwarded-For");
        assert!(l.usable());
        let mut c = DayCache::default();
        let r = parse_line(
            &l,
            b"2026-11-27 00:09:02 GET / 403 203.0.113.9,10.0.0.1",
            &mut c,
        )
        .unwrap();
        assert_eq!(r.ip, b"203.0.113.9");
        assert!(!Layout::parse("date time").usable());
    }

    /// Time, text fields and codes of a record.
    type Carried = (Option<i64>, Vec<Vec<u8>>, (u16, u32, u64));

    /// The fields a record carries, for comparisons.
    fn fields(r: &Record) -> Carried {
        (
            r.time,
            [r.ip, r.user, r.method, r.uri, r.agent]
                .map(<[u8]>::to_vec)
                .to_vec(),
            (r.status, r.substatus, r.win32),
        )
    }

    #[test]
    fn quoted_values_with_spaces_are_one_field() {
        // IIS Advanced Logging quotes the agent and keeps its spaces.
        let l = Layout::parse(FIELDS);
        let mut c = DayCache::default();
        let line = br#"2026-11-27 00:09:02 10.0.0.5 GET /reports/ - 443 CORP\alice 10.1.2.3 "Mozilla/5.0 (Windows NT 10.0; Win64; x64)" "https://intranet/a b" 401 1 1326 15"#;
        let r = parse_line(&l, line, &mut c).unwrap();
        assert_eq!(r.agent, b"Mozilla/5.0 (Windows NT 10.0; Win64; x64)");
        assert_eq!((r.status, r.substatus, r.win32), (401, 1, 1326));
        assert_eq!(r.user, b"CORP\\alice");
        // A quote inside a value does not end it; only one followed by a separator does.
        let line =
            br#"2026-11-27 00:09:02 10.0.0.5 GET / - 443 - 10.1.2.3 "say ""hi"" now" - 200 0 0 1"#;
        let r = parse_line(&l, line, &mut c).unwrap();
        assert_eq!(r.agent, br#"say ""hi"" now"#);
        // Quotes around values without spaces, and around a number.
        let line = br#"2026-11-27 00:09:02 10.0.0.5 "GET" "/x" - 443 "-" 10.1.2.3 "curl/8.5.0" - "403" "0" "5" 1"#;
        let r = parse_line(&l, line, &mut c).unwrap();
        assert_eq!(
            (r.method, r.uri, r.user, r.agent),
            (&b"GET"[..], &b"/x"[..], &b""[..], &b"curl/8.5.0"[..])
        );
        assert_eq!((r.status, r.win32), (403, 5));
        // A quote never closed is an ordinary field: the line still has its 15.
        let line = br#"2026-11-27 00:09:02 10.0.0.5 GET / - 443 - 10.1.2.3 "curl - 200 0 0 1"#;
        assert_eq!(parse_line(&l, line, &mut c).unwrap().agent, b"\"curl");
    }

    #[test]
    fn runs_of_spaces_and_tabs_separate_like_one_space() {
        let l = Layout::parse(FIELDS);
        let mut c = DayCache::default();
        let single = b"2026-11-27 00:09:02 10.0.0.5 GET /reports/ q=1 443 CORP\\alice 10.1.2.3 Mozilla/5.0+(Windows+NT+10.0) - 401 1 2148074254 15";
        let padded = b"  2026-11-27  00:09:02\t10.0.0.5   GET /reports/ q=1 443 CORP\\alice   10.1.2.3 Mozilla/5.0+(Windows+NT+10.0)  -\t\t401 1    2148074254 15 ";
        let want = fields(&parse_line(&l, single, &mut c).unwrap());
        assert_eq!(fields(&parse_line(&l, padded, &mut c).unwrap()), want);
        // Fields past the listed ones (plain, or after a run of blanks) are not read.
        for extra in [&b" extra fields"[..], b"  extra\tfields"] {
            let longer = [&single[..], extra].concat();
            assert_eq!(fields(&parse_line(&l, &longer, &mut c).unwrap()), want);
        }
        // Fewer fields than a read one needs is still an error, not a shifted record.
        assert_eq!(
            parse_line(&l, b"2026-11-27   00:09:02  10.0.0.5 GET", &mut c).err(),
            Some("fewer fields than the #Fields directive lists")
        );
    }

    #[test]
    fn local_times_are_read_when_utc_is_absent() {
        let l =
            Layout::parse("date-local time-local c-ip cs-username cs-method cs-uri-stem sc-status");
        assert!(l.local_time());
        let mut c = DayCache::default();
        let r = parse_line(&l, b"2026-11-27 01:09:02 10.1.2.3 - GET / 401", &mut c).unwrap();
        assert_eq!(r.time, Some(1_795_738_142 + 3600));
        // With both, UTC wins and the times are not local.
        let l = Layout::parse("date-local time-local date time c-ip sc-status");
        assert!(!l.local_time());
        let r = parse_line(
            &l,
            b"2026-11-27 01:09:02 2026-11-27 00:09:02 10.1.2.3 401",
            &mut c,
        )
        .unwrap();
        assert_eq!(r.time, Some(1_795_738_142));
        // A date without its time is no timestamp.
        let l = Layout::parse("date-local c-ip sc-status");
        assert!(!l.local_time());
        let r = parse_line(&l, b"2026-11-27 10.1.2.3 401", &mut c).unwrap();
        assert_eq!(r.time, None);
    }

    #[test]
    fn a_fragment_gets_the_default_of_its_iis_version() {
        let iis10: &[u8] =
            b"2026-11-27 00:09:02 10.0.0.5 GET / - 443 - 10.1.2.3 curl/8 - 401 2 5 0";
        let iis7: &[u8] = b"2026-11-27 00:09:02 10.0.0.5 GET / - 443 - 10.1.2.3 curl/8 401 2 5 0";
        let cut: &[u8] = b"10.1.2.3 curl/8 401 2 5 0";
        assert_eq!(Layout::default_for([iis10]), Layout::parse(DEFAULT_FIELDS));
        assert_eq!(
            Layout::default_for([iis7]),
            Layout::parse(DEFAULT_FIELDS_IIS7)
        );
        assert_eq!(
            Layout::default_for([cut, iis7]),
            Layout::parse(DEFAULT_FIELDS_IIS7),
            "a line cut short does not decide"
        );
        assert_eq!(Layout::default_for([cut]), Layout::parse(DEFAULT_FIELDS));
        let mut c = DayCache::default();
        for line in [iis10, iis7] {
            let r = parse_line(&Layout::default_for([line]), line, &mut c).unwrap();
            assert_eq!(
                (r.status, r.substatus, r.win32, r.agent),
                (401, 2, 5, &b"curl/8"[..])
            );
        }
    }

    /// A realistic single-spaced line in `FIELDS`'s layout.
    fn plain_line() -> impl Strategy<Value = Vec<String>> {
        (
            0u32..86_400,
            "[A-Z_]{3,11}",
            "/[a-z/.]{0,20}",
            prop::sample::select(vec!["-", "CORP\\alice", "bob"]),
            "[A-Za-z0-9/.+();]{1,40}",
            prop::sample::select(vec![200u16, 401, 403]),
            0u8..6,
            prop::sample::select(vec![0u64, 5, 1326, 2148074254]),
        )
            .prop_map(|(t, method, uri, user, agent, status, sub, win32)| {
                let time = format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60);
                [
                    "2026-11-27",
                    &time,
                    "10.0.0.5",
                    &method,
                    &uri,
                    "-",
                    "443",
                    user,
                    "10.1.2.3",
                    &agent,
                    "-",
                    &status.to_string(),
                    &sub.to_string(),
                    &win32.to_string(),
                    "15",
                ]
                .map(String::from)
                .to_vec()
            })
    }

    #[test]
    fn quotes_and_tabs_that_balance_out_are_still_split() {
        // As many quotes (recorded as offsets) as tabs (not recorded): the offset count matches
        // the layout's, but the line is not the plain one-space-apart kind.
        let l = Layout::parse(FIELDS);
        let mut c = DayCache::default();
        let plain = "2026-11-27 00:00:00 10.0.0.5 _AA / - 443 - 10.1.2.3 ( - 200 0 0 15";
        let odd = "\t2026-11-27  00:00:00 10.0.0.5\t\"_AA\"\t/\t-\t443  \"-\"\t10.1.2.3\t( \"-\" 200\t0\t0 15";
        let want = fields(&parse_line(&l, plain.as_bytes(), &mut c).unwrap());
        assert_eq!(
            fields(&parse_line(&l, odd.as_bytes(), &mut c).unwrap()),
            want
        );
    }

    proptest! {
        #[test]
        fn never_panics(line in "[ -~]{0,200}") {
            let l = Layout::parse(FIELDS);
            let mut c = DayCache::default();
            let _ = parse_line(&l, line.as_bytes(), &mut c);
        }

        #[test]
        fn never_panics_on_quotes_and_blanks(line in "[ \t\"a0-9:-]{0,200}", fields in "[ a-z()-]{0,200}") {
            let mut c = DayCache::default();
            let _ = parse_line(&Layout::parse(FIELDS), line.as_bytes(), &mut c);
            let _ = parse_line(&Layout::parse(&fields), line.as_bytes(), &mut c);
            let _ = Layout::default_for([line.as_bytes()]);
        }

        /// The fast path and the splitting path read a plain line alike; padding it with runs
        /// of blanks, or quoting its values, changes nothing either.
        #[test]
        fn every_way_of_writing_a_line_reads_the_same(
            f in plain_line(),
            pads in prop::collection::vec(prop::sample::select(vec![" ", "  ", "\t", " \t "]), 15),
            quote in prop::collection::vec(any::<bool>(), 15),
        ) {
            let l = Layout::parse(FIELDS);
            let mut c = DayCache::default();
            let plain = f.join(" ");
            let want = fields(&parse_line(&l, plain.as_bytes(), &mut c).unwrap());
            let split = parse_split(&l, plain.as_bytes(), &mut c).unwrap();
            prop_assert_eq!(&fields(&split), &want);
            let mut odd = String::new();
            for (i, v) in f.iter().enumerate() {
                odd.push_str(pads[i]);
                // Date and time stay bare: IIS never quotes them.
                if quote[i] && i > 1 {
                    odd.push_str(&format!("\"{v}\""));
                } else {
                    odd.push_str(v);
                }
            }
            let r = parse_line(&l, odd.as_bytes(), &mut c);
            prop_assert!(r.is_ok(), "{odd}: {r:?}");
            prop_assert_eq!(fields(&r.unwrap()), want);
        }
    }
}
