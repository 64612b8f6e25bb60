//! Error logs as evidence: nginx `auth_basic` and Apache `mod_auth_basic`/`mod_auth_digest`
//! messages say *why* a 401 happened (wrong password, unknown user, no credentials). They are
//! indexed by second and client, then joined to the access lines.

use rustc_hash::FxHashMap;

use crate::time;

/// nginx `password mismatch`, Apache AH01617 (Basic) and AH01792 (Digest): the user exists, the
/// password is wrong.
pub const WRONG_PASSWORD: &str = "wrong password";
/// nginx `user … was not found`, Apache AH01618 (Basic) and AH01790 (Digest): no such user in
/// the password file.
pub const UNKNOWN_USER: &str = "unknown user";
/// nginx `no user/password was provided`: the request carried no credentials.
pub const NO_CREDENTIALS: &str = "no credentials sent";
/// Apache AH01614/AH01787: the client answered in a scheme the location does not use (Basic sent
/// to a Digest location, or the reverse).
pub const WRONG_SCHEME: &str = "wrong authentication scheme";

/// One explained failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// When the error log says it happened, Unix seconds (a line without a readable time is no
    /// event).
    pub time: i64,
    /// The client address the message names.
    pub ip: Vec<u8>,
    /// The request URI the message names, without its query.
    pub uri: Vec<u8>,
    /// The user the message names (empty when none).
    pub user: Vec<u8>,
    /// One of the reasons above.
    pub reason: &'static str,
}

/// Reads one error-log line, nginx or Apache; `None` when it is not an auth message.
pub fn parse_line(line: &[u8]) -> Option<Event> {
    if line.first() == Some(&b'[') {
        apache(line)
    } else {
        nginx(line)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

fn between<'a>(hay: &'a [u8], open: &[u8], close: &[u8]) -> Option<&'a [u8]> {
    let i = find(hay, open)? + open.len();
    let j = find(&hay[i..], close)? + i;
    Some(&hay[i..j])
}

/// `2026/11/27 00:09:02 [error] 1#1: *3 user "alice": password mismatch, client: 127.0.0.1, server: , request: "GET /basic/ HTTP/1.1", host: "…"`
fn nginx(line: &[u8]) -> Option<Event> {
    if line.len() < 20 || line[4] != b'/' || line[7] != b'/' {
        return None;
    }
    let days = time::days_from_civil(
        time::digits(line, 4)? as i64,
        time::digits(&line[5..], 2)?,
        time::digits(&line[8..], 2)?,
    );
    let t = days * 86_400 + time::clock(&line[11..19])?;
    let (reason, user) = if find(line, b"password mismatch").is_some() {
        (
            WRONG_PASSWORD,
            between(line, b"user \"", b"\"").unwrap_or_default(),
        )
    } else if find(line, b"was not found in").is_some() {
        (
            UNKNOWN_USER,
            between(line, b"user \"", b"\"").unwrap_or_default(),
        )
    } else if find(line, b"no user/password was provided").is_some() {
        (NO_CREDENTIALS, &b""[..])
    } else {
        return None;
    };
    let ip = between(line, b"client: ", b",")?;
    let request = between(line, b"request: \"", b"\"").unwrap_or_default();
    let uri = request.split(|&b| b == b' ').nth(1).unwrap_or_default();
    Some(Event {
        time: t,
        ip: ip.to_vec(),
        uri: uri.to_vec(),
        user: user.to_vec(),
        reason,
    })
}

/// `[Fri Nov 27 00:09:02.969208 2026] [auth_basic:error] [pid 1:tid 2] [client 127.0.0.1:5555] AH01617: user alice: authentication failure for "/basic/": Password Mismatch`
fn apache(line: &[u8]) -> Option<Event> {
    let stamp = between(line, b"[", b"]")?;
    // `Fri Nov 27 00:09:02.969208 2026`
    let parts: Vec<&[u8]> = stamp
        .split(|&b| b == b' ')
        .filter(|p| !p.is_empty())
        .collect();
    if parts.len() < 5 {
        return None;
    }
    let days = time::days_from_civil(
        time::digits(parts[4], 4)? as i64,
        time::month(parts[1])?,
        std::str::from_utf8(parts[2]).ok()?.parse().ok()?,
    );
    let t = days * 86_400 + time::clock(parts[3])?;
    let client = between(line, b"[client ", b"]")?;
    let ip = match client.iter().rposition(|&b| b == b':') {
        // IPv6 clients are written bare; only strip a port after an IPv4 address or a bracket.
        Some(i) if client.iter().filter(|&&b| b == b':').count() == 1 => &client[..i],
        _ => client,
    };
    let (reason, user, uri): (&'static str, &[u8], &[u8]) = if find(line, b"AH01617").is_some() {
        (
            WRONG_PASSWORD,
            between(line, b"user ", b":").unwrap_or_default(),
            between(line, b"for \"", b"\"").unwrap_or_default(),
        )
    } else if find(line, b"AH01618").is_some() {
        let rest = between(line, b"AH01618: user ", b"\n")
            .unwrap_or_else(|| &line[find(line, b"AH01618: user ").unwrap_or(0) + 14..]);
        let user = rest.split(|&b| b == b' ').next().unwrap_or_default();
        (UNKNOWN_USER, user, after_colon(rest))
    } else if find(line, b"AH01790").is_some() {
        (
            UNKNOWN_USER,
            between(line, b"user `", b"'").unwrap_or_default(),
            after_colon(line),
        )
    } else if find(line, b"AH01792").is_some() {
        (
            WRONG_PASSWORD,
            between(line, b"user ", b":").unwrap_or_default(),
            after_colon(line),
        )
    } else if find(line, b"AH01614").is_some() || find(line, b"AH01787").is_some() {
        (WRONG_SCHEME, &b""[..], after_colon(line))
    } else {
        return None;
    };
    Some(Event {
        time: t,
        ip: ip.to_vec(),
        uri: uri.to_vec(),
        user: user.to_vec(),
        reason,
    })
}

/// The text after the last `: ` (where Apache puts the URI).
fn after_colon(s: &[u8]) -> &[u8] {
    match memchr::memmem::rfind(s, b": ") {
        Some(i) => s[i + 2..]
            .split(|&b| b == b'\n' || b == b'\r')
            .next()
            .unwrap_or_default(),
        None => b"",
    }
}

/// An explained failure as indexed: (uri, user, reason).
type Explained = (Vec<u8>, Vec<u8>, &'static str);

/// Error-log events by (second, client), for the access pass to look up.
#[derive(Debug, Default)]
pub struct Reasons {
    by_key: FxHashMap<(i64, Vec<u8>), Vec<Explained>>,
    /// Explained failures read from the error logs.
    pub events: u64,
}

impl Reasons {
    /// Indexes every auth message of `text`.
    pub fn add_text(&mut self, text: &[u8]) {
        for line in text.split(|&b| b == b'\n') {
            if let Some(e) = parse_line(line) {
                self.events += 1;
                self.by_key
                    .entry((e.time, e.ip))
                    .or_default()
                    .push((e.uri, e.user, e.reason));
            }
        }
    }

    /// Why the 401 of `user` at `ip` for `uri` at `time` happened, if the error log said (±1 s).
    /// The user must agree: the access log names the user the client claimed to be.
    pub fn explain(&self, time: i64, ip: &[u8], uri: &[u8], user: &[u8]) -> Option<&'static str> {
        for t in [time, time - 1, time + 1] {
            if let Some(v) = self.by_key.get(&(t, ip.to_vec())) {
                let hit = v.iter().find(|(u, who, _)| {
                    (u.is_empty() || u.as_slice() == uri) && who.as_slice() == user
                });
                if let Some((_, _, r)) = hit {
                    return Some(r);
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn nginx_messages() {
        let e = parse_line(br#"2026/11/27 00:09:02 [error] 2031#2031: *3 user "alice": password mismatch, client: 127.0.0.1, server: , request: "GET /basic/ HTTP/1.1", host: "127.0.0.1:34189""#).unwrap();
        assert_eq!(
            (
                e.reason,
                e.user.as_slice(),
                e.uri.as_slice(),
                e.ip.as_slice()
            ),
            (
                WRONG_PASSWORD,
                &b"alice"[..],
                &b"/basic/"[..],
                &b"127.0.0.1"[..]
            )
        );
        assert_eq!(e.time, 1_795_738_142);
        let e = parse_line(br#"2026/11/27 00:09:02 [error] 2031#2031: *4 user "mallory" was not found in "/tmp/x/htpasswd", client: 127.0.0.1, server: , request: "GET /basic/ HTTP/1.1", host: "h""#).unwrap();
        assert_eq!(
            (e.reason, e.user.as_slice()),
            (UNKNOWN_USER, &b"mallory"[..])
        );
        let e = parse_line(br#"2026/11/27 00:09:02 [error] 2031#2031: *5 no user/password was provided for basic authentication, client: 127.0.0.1, server: , request: "GET /basic/ HTTP/1.1", host: "h""#).unwrap();
        assert_eq!(e.reason, NO_CREDENTIALS);
        assert!(parse_line(b"2026/11/27 00:09:02 [notice] 1#1: signal process started").is_none());
    }

    #[test]
    fn apache_messages() {
        let e = parse_line(br#"[Fri Nov 27 00:09:02.969208 2026] [auth_basic:error] [pid 20673:tid 20673] [client 127.0.0.1:53412] AH01617: user alice: authentication failure for "/basic/": Password Mismatch"#).unwrap();
        assert_eq!(
            (
                e.reason,
                e.user.as_slice(),
                e.uri.as_slice(),
                e.ip.as_slice(),
                e.time
            ),
            (
                WRONG_PASSWORD,
                &b"alice"[..],
                &b"/basic/"[..],
                &b"127.0.0.1"[..],
                1_795_738_142
            )
        );
        let e = parse_line(b"[Fri Nov 27 00:09:02.969208 2026] [auth_basic:error] [pid 1:tid 1] [client 127.0.0.1:53412] AH01618: user mallory not found: /basic/").unwrap();
        assert_eq!(
            (e.reason, e.user.as_slice(), e.uri.as_slice()),
            (UNKNOWN_USER, &b"mallory"[..], &b"/basic/"[..])
        );
        let e = parse_line(b"[Fri Nov 27 00:09:02.1 2026] [auth_digest:error] [pid 1:tid 1] [client 127.0.0.1:1] AH01790: user `mallory' in realm `apache-lab' not found: /digest/").unwrap();
        assert_eq!(
            (e.reason, e.user.as_slice(), e.uri.as_slice()),
            (UNKNOWN_USER, &b"mallory"[..], &b"/digest/"[..])
        );
        let e = parse_line(b"[Fri Nov 27 00:09:02.1 2026] [auth_digest:error] [pid 1:tid 1] [client 127.0.0.1:1] AH01792: user alice: password mismatch: /digest/").unwrap();
        assert_eq!(
            (e.reason, e.user.as_slice()),
            (WRONG_PASSWORD, &b"alice"[..])
        );
    }

    #[test]
    fn join_by_second_and_client() {
        let mut r = Reasons::default();
        r.add_text(br#"2026/11/27 00:09:02 [error] 1#1: *3 user "alice": password mismatch, client: 10.0.0.1, server: , request: "GET /a HTTP/1.1", host: "h""#);
        r.add_text(br#"2026/11/27 00:09:02 [error] 1#1: *4 no user/password was provided for basic authentication, client: 10.0.0.1, server: , request: "GET /a HTTP/1.1", host: "h""#);
        assert_eq!(
            r.explain(1_795_738_143, b"10.0.0.1", b"/a", b"alice"),
            Some(WRONG_PASSWORD)
        );
        assert_eq!(
            r.explain(1_795_738_143, b"10.0.0.1", b"/a", b""),
            Some(NO_CREDENTIALS)
        );
        assert_eq!(r.explain(1_795_738_142, b"10.0.0.2", b"/a", b"alice"), None);
        assert_eq!(r.explain(1_795_738_142, b"10.0.0.1", b"/b", b"alice"), None);
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_line(s.as_bytes());
            let _ = parse_line(format!("[{s}] [client {s}] AH01618: user {s}").as_bytes());
            let _ = parse_line(format!("2026/11/27 00:09:02 {s} client: {s}").as_bytes());
        }
    }
}
