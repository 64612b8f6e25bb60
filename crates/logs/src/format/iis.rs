//! IIS W3C extended log format: space-separated fields in the order of the last `#Fields:`
//! directive, `-` for empty, `+` for spaces inside `cs(User-Agent)`, times in UTC.
//!
//! No crate parses W3C logs; this is the whole format.

use crate::acc::Record;
use crate::time;

/// Where each field this analysis reads sits in a line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Layout {
    pub fields: Vec<String>,
    date: Option<usize>,
    time: Option<usize>,
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
        let mut l = Layout {
            date: pos(&["date"]),
            time: pos(&["time"]),
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

    /// Whether the layout has what an analysis needs (a status).
    pub fn usable(&self) -> bool {
        self.status.is_some()
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

/// Parses one data line with `layout`; `seps` are the offsets of its spaces (from
/// [`crate::split`]).
#[inline(always)]
pub fn parse<'a>(
    layout: &Layout,
    line: &'a [u8],
    seps: &[u32],
    cache: &mut DayCache,
) -> Result<Record<'a>, &'static str> {
    if seps.len() < layout.last {
        return Err("fewer fields than the #Fields directive lists");
    }
    // `seps` holds at least `last` entries (checked above): every field up to `last` exists.
    let field = |k: usize| field(line, seps, k);
    let status = parse_status(field(layout.status.ok_or("no sc-status in #Fields")?))
        .ok_or("sc-status is not a number")?;
    let time = match (layout.date, layout.time) {
        (Some(d), Some(t)) => {
            let date = field(d);
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
            cache.day * 86_400 + time::clock(field(t)).ok_or("time is not hh:mm:ss")?
        }
        _ => i64::MIN,
    };
    let num = |idx: Option<usize>| match idx {
        Some(i) => number(field(i)),
        None => Ok(0),
    };
    let get = |idx: Option<usize>| match idx {
        Some(i) => dash(field(i)),
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
    let seps: Vec<u32> = memchr::memchr_iter(b' ', line).map(|i| i as u32).collect();
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
        assert_eq!(r.time, 1_795_738_142);
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

    proptest! {
        #[test]
        fn never_panics(line in "[ -~]{0,200}") {
            let l = Layout::parse(FIELDS);
            let mut c = DayCache::default();
            let _ = parse_line(&l, line.as_bytes(), &mut c);
        }
    }
}
