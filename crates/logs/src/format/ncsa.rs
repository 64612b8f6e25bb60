//! NCSA common/combined logs and any layout given as the server's own format string: nginx
//! `log_format` (`$remote_addr - $remote_user [$time_local] "$request" …`) or Apache
//! `LogFormat` (`%h %l %u %t \"%r\" %>s %b …`). The string is compiled once into literals and
//! fields; a line is then read left to right with `memchr`.

use crate::acc::Record;
use crate::time;

/// What a field of the format is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    RemoteAddr,
    ForwardedFor,
    RemoteUser,
    /// `[$time_local]` / `%t`: `27/Nov/2026:00:09:02 +0000`.
    TimeLocal,
    /// `$time_iso8601` / RFC 3339.
    TimeIso,
    /// `$msec`: Unix seconds with a fraction.
    TimeEpoch,
    /// `$request` / `%r`: `GET /path HTTP/1.1`.
    Request,
    Method,
    Uri,
    Status,
    UserAgent,
    Skip,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(Vec<u8>),
    Var(Var),
}

/// A compiled access-log layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    toks: Vec<Tok>,
    /// The format string it came from.
    pub source: String,
    /// The layout is NCSA combined (or common): read by the fixed-shape reader.
    fast: Option<bool>,
}

/// nginx's and Apache's `combined` (the default of both).
pub const COMBINED_NGINX: &str = r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;
/// NCSA common.
pub const COMMON_APACHE: &str = r#"%h %l %u %t "%r" %>s %b"#;

impl Layout {
    /// nginx and Apache `combined`.
    pub fn combined() -> Layout {
        Layout::nginx(COMBINED_NGINX).expect("the built-in format compiles")
    }

    /// Reads a format string, nginx (`$var`) or Apache (`%x`) style, whichever it is.
    pub fn parse(format: &str) -> Result<Layout, String> {
        if format.contains('$') {
            Layout::nginx(format)
        } else {
            Layout::apache(format)
        }
    }

    /// An nginx `log_format`.
    pub fn nginx(format: &str) -> Result<Layout, String> {
        let mut toks = Vec::new();
        let mut lit = Vec::new();
        let b = format.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'$' {
                let braced = b.get(i + 1) == Some(&b'{');
                let start = if braced { i + 2 } else { i + 1 };
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                if j == start {
                    return Err(format!("`$` without a variable name at byte {i}"));
                }
                let name = &format[start..j];
                if braced {
                    if b.get(j) != Some(&b'}') {
                        return Err(format!("`${{{name}` is not closed"));
                    }
                    j += 1;
                }
                push_var(&mut toks, &mut lit, nginx_var(name));
                i = j;
            } else {
                lit.push(b[i]);
                i += 1;
            }
        }
        finish(toks, lit, format)
    }

    /// An Apache `LogFormat` (quotes may be written `\"` as in httpd.conf).
    pub fn apache(format: &str) -> Result<Layout, String> {
        let format_unescaped = format.replace("\\\"", "\"");
        let b = format_unescaped.as_bytes();
        let mut toks = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] != b'%' {
                lit.push(b[i]);
                i += 1;
                continue;
            }
            i += 1;
            if b.get(i) == Some(&b'%') {
                lit.push(b'%');
                i += 1;
                continue;
            }
            // Modifiers: `<`, `>`, status conditions like `!200,304`.
            while i < b.len()
                && (b[i] == b'<'
                    || b[i] == b'>'
                    || b[i] == b'!'
                    || b[i] == b','
                    || b[i].is_ascii_digit())
            {
                i += 1;
            }
            let mut arg = "";
            if b.get(i) == Some(&b'{') {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'}')
                    .ok_or("`%{` is not closed")?
                    + i;
                arg = std::str::from_utf8(&b[i + 1..end]).unwrap_or("");
                i = end + 1;
            }
            let Some(&letter) = b.get(i) else {
                return Err("`%` at the end of the format".into());
            };
            i += 1;
            let var = match (letter, arg.to_ascii_lowercase().as_str()) {
                (b'h' | b'a', _) => Var::RemoteAddr,
                (b'u', _) => Var::RemoteUser,
                (b't', "") => Var::TimeLocal,
                (b't', a) if a.contains("%y") || a.contains("%f") || a.starts_with("%y-") => {
                    Var::TimeIso
                }
                (b't', "sec") => Var::TimeEpoch,
                (b'r', _) => Var::Request,
                (b'm', _) => Var::Method,
                (b'U', _) => Var::Uri,
                (b's', _) => Var::Status,
                (b'i', "user-agent") => Var::UserAgent,
                (b'i', "x-forwarded-for") => Var::ForwardedFor,
                (c, _) if c.is_ascii_alphabetic() => Var::Skip,
                (c, _) => return Err(format!("unknown directive %{}", c as char)),
            };
            if var == Var::TimeLocal {
                // Apache writes %t with its brackets.
                lit.push(b'[');
                push_var(&mut toks, &mut lit, var);
                lit.push(b']');
            } else {
                push_var(&mut toks, &mut lit, var);
            }
        }
        finish(toks, lit, format)
    }

    /// Reads one line (for tests and one-off lines: the scan has the quotes already).
    pub fn parse_line<'a>(
        &self,
        line: &'a [u8],
        cache: &mut TimeCache,
    ) -> Result<Record<'a>, &'static str> {
        let mut quotes = [0u32; QUOTES_KEPT];
        let mut n = 0;
        for i in memchr::memchr_iter(b'"', line).take(QUOTES_KEPT) {
            quotes[n] = i as u32;
            n += 1;
        }
        self.read(line, &quotes[..n], cache)
    }

    /// Reads one line; `quotes` are the offsets of its first `"` (up to [`QUOTES_KEPT`]), as
    /// the splitter found them.
    #[inline]
    pub fn read<'a>(
        &self,
        line: &'a [u8],
        quotes: &[u32],
        cache: &mut TimeCache,
    ) -> Result<Record<'a>, &'static str> {
        if let Some(with_agent) = self.fast
            && let Some(r) = fast(line, quotes, with_agent, cache)
        {
            return Ok(r);
        }
        self.general(line, cache)
    }

    /// The reader of any layout. An unusual line of a default layout (escaped quotes, a user
    /// name with a space) comes here too.
    fn general<'a>(
        &self,
        line: &'a [u8],
        cache: &mut TimeCache,
    ) -> Result<Record<'a>, &'static str> {
        let mut r = Record::default();
        let mut p = 0;
        let mut forwarded: &[u8] = b"";
        let mut has_status = false;
        for (k, tok) in self.toks.iter().enumerate() {
            match tok {
                Tok::Lit(l) => {
                    if !line[p..].starts_with(l) {
                        return Err("the line does not match the log format");
                    }
                    p += l.len();
                }
                Tok::Var(v) => {
                    let quoted =
                        k > 0 && matches!(&self.toks[k - 1], Tok::Lit(l) if l.ends_with(b"\""));
                    let end = match self.toks.get(k + 1) {
                        Some(Tok::Lit(next)) if quoted && next[0] == b'"' => {
                            closing_quote(line, p).ok_or("unterminated quoted field")?
                        }
                        Some(Tok::Lit(next)) if next.len() == 1 => {
                            memchr::memchr(next[0], &line[p..])
                                .map(|i| p + i)
                                .ok_or("the line does not match the log format")?
                        }
                        // The whole separator: a field may hold its first character (`a, b` before ` "`).
                        Some(Tok::Lit(next)) => find_lit(line, p, next)
                            .ok_or("the line does not match the log format")?,
                        _ => line.len(),
                    };
                    let value = &line[p..end];
                    p = end;
                    match v {
                        Var::RemoteAddr => r.ip = value,
                        Var::ForwardedFor => forwarded = dash(value),
                        Var::RemoteUser => r.user = dash(value),
                        Var::TimeLocal => {
                            r.time = Some(
                                cache
                                    .ncsa(value)
                                    .ok_or("the time is not dd/Mon/yyyy:hh:mm:ss zone")?,
                            )
                        }
                        Var::TimeIso => {
                            r.time = Some(time::rfc3339(value).ok_or("the time is not RFC 3339")?)
                        }
                        Var::TimeEpoch => {
                            let secs = value.split(|&b| b == b'.').next().unwrap_or_default();
                            r.time = Some(
                                std::str::from_utf8(secs)
                                    .ok()
                                    .and_then(|s| s.parse().ok())
                                    .ok_or("the time is not Unix seconds")?,
                            );
                        }
                        Var::Request => {
                            let mut parts = value.splitn(3, |&b| b == b' ');
                            r.method = parts.next().unwrap_or_default();
                            r.uri = strip_query(parts.next().unwrap_or_default());
                        }
                        Var::Method => r.method = value,
                        Var::Uri => r.uri = strip_query(value),
                        Var::Status => {
                            r.status = parse_status(value).ok_or("the status is not a number")?;
                            has_status = true;
                        }
                        Var::UserAgent => r.agent = dash(value),
                        Var::Skip => {}
                    }
                }
            }
        }
        if !has_status {
            return Err("no status in the line");
        }
        if !forwarded.is_empty() {
            r.ip = forwarded.split(|&b| b == b',').next().unwrap_or(forwarded);
        }
        Ok(r)
    }
}

/// How many `"` of a line the splitter records for the fast reader (a combined line has six).
pub const QUOTES_KEPT: usize = 16;

/// NCSA common/combined read by position: `ip - user [time] "request" status bytes "ref" "agent"`,
/// from the positions of its quotes. Only a line of exactly that shape (no escaped quote, the
/// usual `-` ident, nothing after the last field) is read here; `None` sends any other to the
/// general reader, which also produces the error message. Both read a line alike (a test
/// checks).
#[inline]
fn fast<'a>(
    line: &'a [u8],
    quotes: &[u32],
    with_agent: bool,
    cache: &mut TimeCache,
) -> Option<Record<'a>> {
    let q = |k: usize| quotes[k] as usize;
    if quotes.len() != if with_agent { 6 } else { 2 } {
        return None;
    }
    // `ip - user [dd/Mon/yyyy:hh:mm:ss +zzzz] "`: the first quote fixes where the time is.
    let req_start = q(0) + 1;
    let sp3 = req_start.checked_sub(31)?;
    if line.get(sp3..sp3 + 2) != Some(b" [") || line.get(sp3 + 28..sp3 + 31) != Some(b"] \"") {
        return None;
    }
    // Exactly three spaces before the time, as the general reader splits them.
    let head = &line[..sp3];
    let sp1 = head.iter().position(|&b| b == b' ')?;
    if head.get(sp1 + 1..sp1 + 3) != Some(b"- ") {
        return None;
    }
    let sp2 = sp1 + 2;
    if head[sp2 + 1..].contains(&b' ') {
        return None;
    }
    let time = cache.ncsa(&line[sp3 + 2..sp3 + 28])?;
    // `"request" status bytes`: a three-digit status between single spaces.
    let req_end = q(1);
    if line[req_end - 1] == b'\\'
        || line.get(req_end + 1) != Some(&b' ')
        || line.get(req_end + 5) != Some(&b' ')
    {
        return None;
    }
    let status = parse_status(&line[req_end + 2..req_end + 5])?;
    let request = &line[req_start..req_end];
    let mut r = Record {
        time: Some(time),
        ip: &line[..sp1],
        user: dash(&line[sp2 + 1..sp3]),
        status,
        ..Record::default()
    };
    let m = request
        .iter()
        .position(|&b| b == b' ')
        .unwrap_or(request.len());
    r.method = &request[..m];
    let rest = request.get(m + 1..).unwrap_or_default();
    // The path ends at the first space, or before it at the query.
    r.uri = &rest[..memchr::memchr2(b' ', b'?', rest).unwrap_or(rest.len())];
    if with_agent {
        // `bytes "referer" "agent"` and the end of the line.
        let (ref_end, start, end) = (q(3), q(4) + 1, q(5));
        if line[q(2) - 1] != b' '
            || line[ref_end - 1] == b'\\'
            || start != ref_end + 3
            || line[ref_end + 1] != b' '
            || end != line.len() - 1
            || line[end - 1] == b'\\'
        {
            return None;
        }
        r.agent = dash(&line[start..end]);
    }
    Some(r)
}

fn push_var(toks: &mut Vec<Tok>, lit: &mut Vec<u8>, v: Var) {
    if !lit.is_empty() {
        toks.push(Tok::Lit(std::mem::take(lit)));
    }
    toks.push(Tok::Var(v));
}

fn finish(mut toks: Vec<Tok>, lit: Vec<u8>, source: &str) -> Result<Layout, String> {
    if !lit.is_empty() {
        toks.push(Tok::Lit(lit));
    }
    if !toks.contains(&Tok::Var(Var::Status)) {
        return Err(format!("the format has no status field: {source}"));
    }
    // Two fields in a row cannot be told apart.
    for w in toks.windows(2) {
        if let [Tok::Var(a), Tok::Var(b)] = w {
            return Err(format!(
                "fields {a:?} and {b:?} touch with nothing between them"
            ));
        }
    }
    let mut layout = Layout {
        toks,
        source: source.to_string(),
        fast: None,
    };
    // The default layouts of nginx and Apache get the fixed-shape reader.
    let norm: String = source
        .replace("\\\"", "\"")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    layout.fast = match norm.as_str() {
        COMBINED_NGINX
        | r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#
        | r#"%h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i""# => Some(true),
        r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent"#
        | COMMON_APACHE
        | r#"%h %l %u %t "%r" %>s %O"# => Some(false),
        _ => None,
    };
    Ok(layout)
}

fn nginx_var(name: &str) -> Var {
    match name {
        "remote_addr" | "binary_remote_addr" | "realip_remote_addr" => Var::RemoteAddr,
        "http_x_forwarded_for" | "proxy_add_x_forwarded_for" => Var::ForwardedFor,
        "remote_user" => Var::RemoteUser,
        "time_local" => Var::TimeLocal,
        "time_iso8601" => Var::TimeIso,
        "msec" => Var::TimeEpoch,
        "request" => Var::Request,
        "request_method" => Var::Method,
        "request_uri" | "uri" | "document_uri" => Var::Uri,
        "status" => Var::Status,
        "http_user_agent" => Var::UserAgent,
        _ => Var::Skip,
    }
}

/// The position of `lit` in `line` at or after `from`: `memchr` for its first byte, then a
/// check of the rest (separators are a few bytes; a `memmem` searcher costs more to set up).
#[inline]
fn find_lit(line: &[u8], from: usize, lit: &[u8]) -> Option<usize> {
    let mut p = from;
    loop {
        let i = memchr::memchr(lit[0], &line[p..])? + p;
        if line[i..].starts_with(lit) {
            return Some(i);
        }
        p = i + 1;
    }
}

/// The position of the `"` closing a field that starts at `from`, honouring `\"`.
fn closing_quote(line: &[u8], from: usize) -> Option<usize> {
    let mut p = from;
    loop {
        let i = memchr::memchr(b'"', &line[p..])? + p;
        // Count the backslashes before it: an odd number escapes it.
        let slashes = line[..i].iter().rev().take_while(|&&b| b == b'\\').count();
        if slashes % 2 == 0 {
            return Some(i);
        }
        p = i + 1;
    }
}

fn dash(v: &[u8]) -> &[u8] {
    if v == b"-" { b"" } else { v }
}

fn strip_query(uri: &[u8]) -> &[u8] {
    match memchr::memchr(b'?', uri) {
        Some(i) => &uri[..i],
        None => uri,
    }
}

#[inline]
fn parse_status(s: &[u8]) -> Option<u16> {
    if s.len() != 3 {
        return None;
    }
    let v = time::digits(s, 3)?;
    (100..=999).contains(&v).then_some(v as u16)
}

/// Per-chunk cache of the last NCSA date and zone.
#[derive(Debug, Default)]
pub struct TimeCache {
    key: [u64; 4],
    base: i64,
}

impl TimeCache {
    /// `27/Nov/2026:00:09:02 +0000` with the day and zone looked up once.
    #[inline]
    pub fn ncsa(&mut self, v: &[u8]) -> Option<i64> {
        if v.len() != 26 {
            return time::ncsa(v);
        }
        // The date (11 bytes) and the zone (6 bytes) decide the base; the clock varies. Compared
        // as words: the last one starts at the seconds, which are shifted out.
        let w = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
        let key = [w(&v[..8]), w(&v[4..12]), w(&v[18..26]) >> 16, 1];
        if key != self.key {
            let midnight = {
                let mut probe = [0u8; 26];
                probe.copy_from_slice(v);
                probe[12..20].copy_from_slice(b"00:00:00");
                time::ncsa(&probe)?
            };
            self.key = key;
            self.base = midnight;
        }
        Some(self.base + time::clock(&v[12..20])?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_fast_reader_takes_the_usual_lines() {
        // So that the property test below compares two readers, not the general one with itself.
        let mut c = TimeCache::default();
        /// What the fast reader made of a line: `user|uri|status|agent`.
        fn read(line: &[u8], agent: bool, c: &mut TimeCache) -> Option<String> {
            let quotes: Vec<u32> = memchr::memchr_iter(b'"', line).map(|i| i as u32).collect();
            let t = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
            fast(line, &quotes, agent, c)
                .map(|r| format!("{}|{}|{}|{}", t(r.user), t(r.uri), r.status, t(r.agent)))
        }
        assert_eq!(
            read(br#"10.0.0.7 - bob [27/Nov/2026:00:09:02 +0000] "POST /login?x=1 HTTP/1.1" 401 381 "https://a/" "Mozilla/5.0 (X11)""#, true, &mut c),
            Some("bob|/login|401|Mozilla/5.0 (X11)".to_string())
        );
        assert_eq!(
            read(
                br#"1.2.3.4 - - [27/Nov/2026:00:09:02 +0000] "GET / HTTP/1.0" 200 5"#,
                false,
                &mut c
            ),
            Some("|/|200|".to_string())
        );
        assert_eq!(
            read(br#"::1 - - [27/Nov/2026:01:09:02 +0100] "GET /dav HTTP/1.1" 207 1 "-" "agent "q"""#, true, &mut c),
            None,
            "escaped quotes are the general reader's"
        );
    }

    #[test]
    fn nginx_combined() {
        let l = Layout::combined();
        let mut c = TimeCache::default();
        let r = l
            .parse_line(br#"127.0.0.1 - alice [27/Nov/2026:00:09:02 +0000] "GET /basic/?x=1 HTTP/1.1" 401 179 "-" "curl/7.88.1""#, &mut c)
            .unwrap();
        assert_eq!(
            (r.ip, r.user, r.method, r.uri, r.status, r.agent),
            (
                &b"127.0.0.1"[..],
                &b"alice"[..],
                &b"GET"[..],
                &b"/basic/"[..],
                401,
                &b"curl/7.88.1"[..]
            )
        );
        assert_eq!(r.time, Some(1_795_738_142));
        let r = l.parse_line(br#"::1 - - [27/Nov/2026:01:09:02 +0100] "PROPFIND /dav HTTP/1.1" 207 1 "-" "agent with \"quotes\"""#, &mut c).unwrap();
        assert_eq!(
            (r.user, r.time, r.agent),
            (
                &b""[..],
                Some(1_795_738_142),
                &br#"agent with \"quotes\""#[..]
            )
        );
    }

    #[test]
    fn apache_formats() {
        let l = Layout::apache(r#"%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\""#)
            .unwrap();
        let mut c = TimeCache::default();
        let r = l.parse_line(br#"10.0.0.7 - bob [27/Nov/2026:00:09:02 +0000] "POST /login HTTP/1.1" 401 381 "https://a/" "Mozilla/5.0 (X11)""#, &mut c).unwrap();
        assert_eq!(
            (r.user, r.status, r.agent),
            (&b"bob"[..], 401, &b"Mozilla/5.0 (X11)"[..])
        );
        let l = Layout::parse(COMMON_APACHE).unwrap();
        assert_eq!(
            l.parse_line(
                br#"1.2.3.4 - - [27/Nov/2026:00:09:02 +0000] "GET / HTTP/1.0" 200 5"#,
                &mut c
            )
            .unwrap()
            .status,
            200
        );
    }

    #[test]
    fn custom_nginx_format_with_forwarded_for_and_iso_time() {
        let l = Layout::nginx(
            r#"$time_iso8601 $http_x_forwarded_for "$request" $status $request_time"#,
        )
        .unwrap();
        let mut c = TimeCache::default();
        let r = l
            .parse_line(
                br#"2026-11-27T00:09:02+00:00 203.0.113.5, 10.0.0.1 "GET /x HTTP/2.0" 403 0.001"#,
                &mut c,
            )
            .unwrap();
        assert_eq!(
            (r.ip, r.status, r.time),
            (&b"203.0.113.5"[..], 403, Some(1_795_738_142))
        );
    }

    #[test]
    fn bad_formats_and_lines() {
        assert!(Layout::nginx("$remote_addr $remote_user").is_err());
        assert!(Layout::nginx("$status$body_bytes_sent").is_err());
        let l = Layout::combined();
        let mut c = TimeCache::default();
        assert!(l.parse_line(b"not a log line", &mut c).is_err());
        assert!(
            l.parse_line(
                br#"1.2.3.4 - - [27/Nov/2026:00:09:02 +0000] "GET / HTTP/1.1" abc 5 "-" "-""#,
                &mut c
            )
            .is_err()
        );
    }

    /// What a reader made of a line, comparable.
    type Read = Result<
        (
            Option<i64>,
            Vec<u8>,
            Vec<u8>,
            Vec<u8>,
            Vec<u8>,
            u16,
            Vec<u8>,
        ),
        &'static str,
    >;

    fn read(l: &Layout, line: &[u8]) -> Read {
        let mut c = TimeCache::default();
        l.parse_line(line, &mut c).map(|r| {
            (
                r.time,
                r.ip.to_vec(),
                r.user.to_vec(),
                r.method.to_vec(),
                r.uri.to_vec(),
                r.status,
                r.agent.to_vec(),
            )
        })
    }

    proptest! {
        /// The fixed-shape reader of the default layouts reads every line as the general one
        /// does (or leaves it to it): users with spaces or quotes, escaped quotes, queries,
        /// odd requests, truncated lines.
        #[test]
        fn the_fast_reader_agrees_with_the_general_one(
            ip in prop::sample::select(vec!["10.0.0.1", "::1", "203.0.113.9", "-"]),
            user in prop::sample::select(vec!["-", "alice", "bob smith", "a\"b", "CORP\\x"]),
            time in prop::sample::select(vec!["27/Nov/2026:00:09:02 +0000", "01/Jan/2026:23:59:59 -0530", "27/Nov/2026:00:09:02", "bad"]),
            request in "[A-Z]{0,6}( /[a-z?=&/\\\"]{0,12}( HTTP/1\\.1)?)?",
            status in prop::sample::select(vec!["200", "401", "99", "4010", "-"]),
            referer in "[a-z:/\\\" ]{0,8}",
            agent in "[a-zA-Z0-9/.() \\\"]{0,20}",
            tail in prop::sample::select(vec!["", "\"", " x", "\r"]),
            common in any::<bool>(),
        ) {
            let line = if common {
                format!("{ip} - {user} [{time}] \"{request}\" {status} 5{tail}")
            } else {
                format!("{ip} - {user} [{time}] \"{request}\" {status} 5 \"{referer}\" \"{agent}\"{tail}")
            };
            let layout = if common { Layout::parse(COMMON_APACHE).unwrap() } else { Layout::combined() };
            prop_assert!(layout.fast.is_some());
            let mut general = layout.clone();
            general.fast = None;
            prop_assert_eq!(read(&layout, line.as_bytes()), read(&general, line.as_bytes()));
        }

        /// The cached reader of `[time]` reads every time as the uncached one does, however
        /// the times of consecutive lines differ.
        #[test]
        fn the_time_cache_is_invisible(
            times in prop::collection::vec(
                // Few dates and zones, so that consecutive times share them and hit the cache.
                (prop::sample::select(vec!["27", "01", "3x"]), prop::sample::select(vec!["Nov", "Dec", "Xyz"]),
                 prop::sample::select(vec!["2026", "2025"]),
                 "[0-2][0-9]:[0-5][0-9]:[0-6][0-9]", prop::sample::select(vec![":", "x"]),
                 prop::sample::select(vec![" +0000", " -0530", "x+0100", " +01:0"])),
                1..40,
            )
        ) {
            let mut c = TimeCache::default();
            for (d, m, y, clock, colon, zone) in times {
                let v = format!("{d}/{m}/{y}{colon}{clock}{zone}");
                prop_assert_eq!(c.ncsa(v.as_bytes()), time::ncsa(v.as_bytes()), "{}", v);
            }
        }

        #[test]
        fn never_panics(line in "[ -~]{0,200}", fmt in "[$a-z_ \"\\[\\]%{}<>]{0,60}") {
            let mut c = TimeCache::default();
            let _ = Layout::combined().parse_line(line.as_bytes(), &mut c);
            if let Ok(l) = Layout::parse(&fmt) {
                let _ = l.parse_line(line.as_bytes(), &mut c);
            }
        }
    }
}
