//! Seeded generation of realistic access logs — IIS W3C (with a `#Fields` change halfway), NCSA
//! combined, JSON lines — with a mix of successes, NTLM handshakes, failures and injected
//! incidents (brute force, spray, stuffing, lockout, a stuck service, a regression, broken
//! lines), and their true counts, computed line by line with the plainest possible algorithm,
//! so `why401 logs` can be checked for exact agreement and timed on the same file.
//!
//! ```
//! use why401_loggen::{Config, Format, generate, size};
//!
//! let cfg = Config { format: Format::Ncsa, size: size("20K").unwrap(), seed: 401, days: 7 };
//! let mut log = Vec::new();
//! let truth = generate(&cfg, &mut log);
//! let count = |key: &str| truth[key].as_u64().unwrap();
//!
//! // Every line is a request or one of the deliberately broken lines, and the truth counts both.
//! let lines = log.split(|b| *b == b'\n').filter(|l| !l.is_empty()).count() as u64;
//! assert_eq!(lines, count("requests") + count("unparsed"));
//! // Two days into the week, one address tries 500 passwords on one account: brute force.
//! assert_eq!(truth["injected"]["brute_force"]["failures"], 500);
//! assert!(count("auth_denials") >= 500);
//!
//! // The same seed writes the same log.
//! let mut again = Vec::new();
//! generate(&cfg, &mut again);
//! assert_eq!(log, again);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::io::{BufWriter, Write};

mod events;

pub use events::Sinks;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use serde_json::json;

/// Which log to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// IIS W3C extended, with `sc-substatus` and `sc-win32-status` (so `401 1 1326`), user
    /// names as `CORP\user`, and the `#Fields` layout changing halfway through.
    Iis,
    /// NCSA combined, as nginx and Apache write it: a 401 is only a 401, no substatus.
    Ncsa,
    /// One JSON object per line (`time`, `remote_addr`, `remote_user`, `status`...).
    Json,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which server's log to imitate.
    pub format: Format,
    /// Approximate size in bytes.
    pub size: u64,
    /// Seeds the random choices: the same seed, format, size and days give the same bytes.
    pub seed: u64,
    /// Days the log spans.
    pub days: i64,
}

/// Parses sizes like `200M`, `1G`, `10G`, `512` (bytes); anything else is refused, never read as
/// some default.
pub fn size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('G' | 'g') => (&s[..s.len() - 1], 1u64 << 30),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('K' | 'k') => (&s[..s.len() - 1], 1 << 10),
        _ => (s, 1),
    };
    match num.parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok((n * mult as f64) as u64),
        _ => Err(format!(
            "{s:?} is not a size (200M, 1G, 10G, 512K or bytes)"
        )),
    }
}

/// One request, before formatting.
#[derive(Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) t: i64,
    pub(crate) ip: &'a str,
    pub(crate) user: &'a str,
    method: &'a str,
    uri: &'a str,
    pub(crate) status: u16,
    pub(crate) sub: u32,
    pub(crate) win32: u64,
    agent: &'a str,
}

impl<'a> Line<'a> {
    /// The same request by `user`, answered `status substatus win32`.
    fn answered(self, user: &'a str, (status, sub, win32): (u16, u32, u64)) -> Line<'a> {
        Line {
            user,
            status,
            sub,
            win32,
            ..self
        }
    }

    /// A password guess against Outlook on the web, refused (`401 1 1326`).
    fn owa_guess(t: i64, ip: &'a str, user: &'a str, agent: &'a str) -> Line<'a> {
        Line {
            t,
            ip,
            user,
            method: "POST",
            uri: "/owa/auth.owa",
            status: 401,
            sub: 1,
            win32: 1326,
            agent,
        }
    }
}

/// The reference count: one line at a time, nothing clever.
#[derive(Default)]
struct Truth {
    requests: u64,
    unparsed: u64,
    by_status: BTreeMap<u16, u64>,
    by_code: BTreeMap<String, u64>,
    denials: u64,
    noise: u64,
    users: HashMap<String, u64>,
    ips: HashMap<String, u64>,
    pending: HashMap<String, Vec<(i64, String)>>,
    /// User names are written `CORP\\user` (IIS).
    domain: bool,
    injected: serde_json::Map<String, serde_json::Value>,
}

impl Truth {
    fn add(&mut self, l: &Line) {
        self.requests += 1;
        *self.by_status.entry(l.status).or_default() += 1;
        let denied = matches!(l.status, 401 | 403 | 407);
        if !denied {
            if l.status < 400
                && let Some(legs) = self.pending.remove(l.ip)
            {
                for (t, code) in legs {
                    if l.t - t <= 60 {
                        self.noise += 1;
                    } else {
                        self.real(l.ip, "", &code);
                    }
                }
            }
            return;
        }
        self.denials += 1;
        // Only IIS logs substatus and win32 status.
        let (sub, win32) = if self.domain {
            (l.sub, l.win32)
        } else {
            (0, 0)
        };
        let code = format!("{} {} {}", l.status, sub, win32);
        *self.by_code.entry(code.clone()).or_default() += 1;
        // NTLM/Negotiate legs, and (logs without IIS's codes) a challenged anonymous request.
        let handshake = l.status == 401
            && ((sub == 2 && win32 == 5)
                || (sub == 1 && win32 == 2_148_074_254)
                || (sub == 0 && win32 == 0 && l.user.is_empty()));
        if handshake {
            self.pending
                .entry(l.ip.to_string())
                .or_default()
                .push((l.t, code));
            return;
        }
        self.real(l.ip, l.user, &code);
    }

    fn real(&mut self, ip: &str, user: &str, _code: &str) {
        *self.ips.entry(ip.to_string()).or_default() += 1;
        if !user.is_empty() {
            let name = if self.domain {
                format!("CORP\\{user}")
            } else {
                user.to_string()
            };
            *self.users.entry(name).or_default() += 1;
        }
    }

    fn finish(&mut self) {
        for (ip, legs) in std::mem::take(&mut self.pending) {
            for (_, code) in legs {
                self.real(&ip, "", &code);
            }
        }
    }

    fn top(m: &HashMap<String, u64>, n: usize) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = m.iter().map(|(k, c)| (k.clone(), *c)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }
}

pub(crate) const AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
    "MSRPC",
    "curl/8.5.0",
    "python-requests/2.32.3",
    "Go-http-client/1.1",
];
const METHODS: &[&str] = &[
    "GET",
    "GET",
    "GET",
    "GET",
    "POST",
    "GET",
    "HEAD",
    "RPC_IN_DATA",
    "PROPFIND",
];

struct Writer<W: Write> {
    out: W,
    format: Format,
    layout: usize,
    written: u64,
}

/// The two IIS layouts: the default, and one with more fields after an IIS restart.
const IIS_FIELDS: [&str; 2] = [
    "date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
    "date time s-sitename s-computername s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs-version cs(User-Agent) cs(Cookie) cs(Referer) cs-host sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken",
];

impl<W: Write> Writer<W> {
    fn header(&mut self) {
        if self.format == Format::Iis {
            let text = format!(
                "#Software: Microsoft Internet Information Services 10.0\r\n#Version: 1.0\r\n#Date: 2026-11-20 00:00:00\r\n#Fields: {}\r\n",
                IIS_FIELDS[self.layout]
            );
            self.raw(text.as_bytes());
        }
    }

    fn raw(&mut self, b: &[u8]) {
        self.out.write_all(b).expect("write");
        self.written += b.len() as u64;
    }

    fn line(&mut self, l: &Line, rng: &mut SmallRng) {
        let (days, secs) = (l.t.div_euclid(86_400), l.t.rem_euclid(86_400));
        let (y, m, d) = civil(days);
        let (hh, mm, ss) = (secs / 3600, secs % 3600 / 60, secs % 60);
        let s = match self.format {
            Format::Iis => {
                let user = if l.user.is_empty() {
                    "-".to_string()
                } else {
                    format!("CORP\\{}", l.user)
                };
                let agent = l.agent.replace(' ', "+");
                let taken = rng.random_range(0..900u32);
                if self.layout == 0 {
                    format!(
                        "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} 10.0.0.10 {} {} - 443 {user} {} {agent} - {} {} {} {taken}\r\n",
                        l.method, l.uri, l.ip, l.status, l.sub, l.win32
                    )
                } else {
                    format!(
                        "{y:04}-{m:02}-{d:02} {hh:02}:{mm:02}:{ss:02} W3SVC1 WEB01 10.0.0.10 {} {} - 443 {user} {} HTTP/1.1 {agent} - - intranet.corp.example {} {} {} {} {} {taken}\r\n",
                        l.method,
                        l.uri,
                        l.ip,
                        l.status,
                        l.sub,
                        l.win32,
                        rng.random_range(200..9000u32),
                        rng.random_range(200..2000u32)
                    )
                }
            }
            Format::Ncsa => {
                let user = if l.user.is_empty() { "-" } else { l.user };
                let month = [
                    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                    "Dec",
                ][m as usize - 1];
                format!(
                    "{} - {user} [{d:02}/{month}/{y:04}:{hh:02}:{mm:02}:{ss:02} +0000] \"{} {}?id={} HTTP/1.1\" {} {} \"-\" \"{}\"\n",
                    l.ip,
                    l.method,
                    l.uri,
                    rng.random_range(0..1000u32),
                    l.status,
                    rng.random_range(100..9000u32),
                    l.agent
                )
            }
            Format::Json => {
                json!({
                    "time": format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z"),
                    "remote_addr": l.ip, "remote_user": l.user, "method": l.method, "uri": l.uri,
                    "status": l.status, "http_user_agent": l.agent
                })
                .to_string()
                    + "\n"
            }
        };
        self.raw(s.as_bytes());
    }
}

/// Days since the epoch to (year, month, day) (H. Hinnant's `civil_from_days`).
pub(crate) fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Writes the log to `out` and returns the true counts (JSON).
pub fn generate(cfg: &Config, out: impl Write) -> serde_json::Value {
    generate_joined(cfg, out, None)
}

/// Writes the log to `out` and, for an IIS log, the Windows events behind it to `events`
/// (see [`Sinks`]); returns the true counts, the events' under `"events"`. The log is the same
/// bytes as [`generate`] writes.
pub fn generate_joined(cfg: &Config, out: impl Write, events: Option<Sinks>) -> serde_json::Value {
    let target = cfg.size;
    let mut rng = SmallRng::seed_from_u64(cfg.seed);
    let iis = cfg.format == Format::Iis;
    let ips: Vec<String> = (0..2000)
        .map(|i| format!("10.{}.{}.{}", 1 + i / 60000, (i / 250) % 250, 1 + i % 250))
        .collect();
    let users: Vec<String> = (0..5000).map(|i| format!("user{i:04}")).collect();
    let urls: Vec<String> = (0..200)
        .map(|i| format!("/app{}/page{}.aspx", i % 12, i))
        .collect();
    let start: i64 = 1_795_132_800; // 2026-11-20 00:00:00 UTC
    let mut ev = match events {
        Some(sinks) if iis => Some(events::Events::new(sinks, start)),
        _ => None,
    };
    let span = cfg.days * 86_400;
    // Lines are ~180 bytes; time advances evenly so the log fills the span.
    let expected_lines = (target / 190).max(1000);
    let step = span as f64 / expected_lines as f64;

    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, out),
        format: cfg.format,
        layout: 0,
        written: 0,
    };
    let mut truth = Truth {
        domain: iis,
        ..Truth::default()
    };
    w.header();

    let brute = ("203.0.113.66", "administrator", start + 2 * 86_400);
    let spray = ("198.51.100.23", start + 3 * 86_400);
    let stuffing_at = start + 4 * 86_400;
    let stuck = (
        "10.20.30.40",
        "svc-backup",
        start + 86_400,
        start + 86_400 + 8 * 3600,
    );
    let lockout = ("jsmith", "10.1.2.3", start + 5 * 86_400);
    let regression_at = start + (span as f64 * 0.7) as i64;
    let (mut brute_done, mut spray_done, mut stuff_done, mut lock_done) =
        (false, false, false, false);
    let mut next_stuck = stuck.2;
    let mut garbage_left = 37u32;
    let mut switched = false;
    let mut clock = start as f64;

    let emit = |w: &mut Writer<_>,
                truth: &mut Truth,
                rng: &mut SmallRng,
                ev: &mut Option<events::Events>,
                l: Line,
                handshake_ok: bool| {
        w.line(&l, rng);
        truth.add(&l);
        if let Some(e) = ev {
            e.line(&l, handshake_ok);
        }
    };

    while w.written < target {
        // Time follows the bytes written, so every incident lands at its planned share of the span.
        clock =
            clock.max(start as f64 + span as f64 * w.written as f64 / target as f64) + step * 0.01;
        let t = clock as i64;
        if iis && !switched && w.written >= target / 2 {
            // An app-pool recycle with new logging fields: a new header mid-file.
            switched = true;
            w.layout = 1;
            w.header();
        }
        if garbage_left > 0 && rng.random_range(0..(expected_lines / 40).max(1)) == 0 {
            garbage_left -= 1;
            truth.unparsed += 1;
            let junk = [
                "\u{0}\u{1}garbage binary\u{7f}",
                "truncated line 2026-11-2",
                "<html>oops</html>",
                "2026-11-21 10:00:00 ONLY A FEW FIELDS",
            ];
            let s =
                junk[rng.random_range(0..junk.len())].to_string() + if iis { "\r\n" } else { "\n" };
            w.raw(s.as_bytes());
            continue;
        }
        if !brute_done && t >= brute.2 {
            brute_done = true;
            for i in 0..500 {
                let l = Line::owa_guess(t + i / 2, brute.0, brute.1, "python-requests/2.32.3");
                emit(&mut w, &mut truth, &mut rng, &mut ev, l, false);
            }
            truth.injected.insert(
                "brute_force".into(),
                json!({"ip": brute.0, "user": brute.1, "failures": 500}),
            );
            continue;
        }
        if !spray_done && t >= spray.1 {
            spray_done = true;
            for (i, u) in users.iter().take(60).enumerate() {
                for k in 0..2 {
                    let l = Line::owa_guess(
                        t + i as i64 * 3 + k,
                        spray.0,
                        u,
                        "Mozilla/5.0 (compatible)",
                    );
                    emit(&mut w, &mut truth, &mut rng, &mut ev, l, false);
                }
            }
            truth.injected.insert(
                "password_spray".into(),
                json!({"ip": spray.0, "accounts": 60, "failures": 120}),
            );
            continue;
        }
        if !stuff_done && t >= stuffing_at {
            stuff_done = true;
            let mut n = 0;
            for i in 0..300 {
                let ip = format!("198.18.{}.{}", i / 200, 1 + i % 200);
                for k in 0..2 {
                    let u = format!("leaked{:03}", (i * 7 + k * 13) % 400);
                    let l = Line::owa_guess(t + i as i64, &ip, &u, "Mozilla/5.0");
                    emit(&mut w, &mut truth, &mut rng, &mut ev, l, false);
                    n += 1;
                }
            }
            truth.injected.insert(
                "credential_stuffing".into(),
                json!({"sources": 300, "failures": n}),
            );
            continue;
        }
        if !lock_done && t >= lockout.2 {
            lock_done = true;
            // Ten bad passwords, then the account is locked (1909) for five more tries.
            for i in 0..15 {
                let l = Line {
                    t: t + i,
                    ip: lockout.1,
                    user: lockout.0,
                    method: "GET",
                    uri: "/mail/",
                    status: 401,
                    sub: 1,
                    win32: if i < 10 { 1326 } else { 1909 },
                    agent: AGENTS[3],
                };
                emit(&mut w, &mut truth, &mut rng, &mut ev, l, false);
            }
            truth.injected.insert(
                "account_lockout".into(),
                json!({"user": lockout.0, "lockout_lines": 5}),
            );
            continue;
        }
        // IIS logs a bad password as `401 1 1326`; elsewhere a 401 is only a 401.
        let bad_password = if iis { (401, 1, 1326) } else { (401, 0, 0) };
        if t >= next_stuck && next_stuck <= stuck.3 {
            next_stuck += 300;
            let (status, sub, win32) = bad_password;
            let l = Line {
                t,
                ip: stuck.0,
                user: stuck.1,
                method: "GET",
                uri: "/backup/status",
                status,
                sub,
                win32,
                agent: "Go-http-client/1.1",
            };
            emit(&mut w, &mut truth, &mut rng, &mut ev, l, false);
            continue;
        }
        // A client is mostly one person's machine: its own user fails now and then (a typo, an
        // expired password), and now and then someone else signs in on it.
        let client = rng.random_range(0..ips.len());
        let ip = &ips[client];
        let owner = &users[client % users.len()];
        let user = if rng.random_range(0..20u32) == 0 {
            &users[rng.random_range(0..users.len())]
        } else {
            owner
        };
        let uri = &urls[rng.random_range(0..urls.len())];
        let agent = AGENTS[rng.random_range(0..AGENTS.len())];
        let method = METHODS[rng.random_range(0..METHODS.len())];
        let roll = rng.random_range(0..1000u32);
        let regressed = t >= regression_at && roll < 150;
        let hit = Line {
            t,
            ip,
            user,
            method,
            uri,
            status: 200,
            sub: 0,
            win32: 0,
            agent,
        };
        if regressed {
            let l = Line {
                method: "POST",
                uri: "/api/v2/orders",
                agent: "OrderSync/2.0",
                ..hit
            };
            emit(
                &mut w,
                &mut truth,
                &mut rng,
                &mut ev,
                l.answered(user, bad_password),
                false,
            );
        } else if iis && roll < 250 {
            // A full NTLM handshake: anonymous, NEGOTIATE, AUTHENTICATE.
            for (user, code) in [
                ("", (401, 2, 5)),
                ("", (401, 1, 2_148_074_254)),
                (user, (200, 0, 0)),
            ] {
                let done = code.0 == 200;
                emit(
                    &mut w,
                    &mut truth,
                    &mut rng,
                    &mut ev,
                    hit.answered(user, code),
                    done,
                );
            }
        } else if !iis && roll < 60 {
            // A browser's first visit to a Basic site: the challenge, then the credentials.
            for (user, code) in [("", (401, 0, 0)), (user, (200, 0, 0))] {
                emit(
                    &mut w,
                    &mut truth,
                    &mut rng,
                    &mut ev,
                    hit.answered(user, code),
                    false,
                );
            }
        } else if (iis && roll < 290) || (!iis && (250..280).contains(&roll)) {
            // Background failures: bad passwords, an ACL, an anonymous request nobody followed
            // up. Lockouts are not background: the injected one is the only one.
            let (sub, win32) = if iis {
                [(1, 1326), (1, 1326), (3, 5), (2, 5)][rng.random_range(0..4)]
            } else {
                (0, 0)
            };
            let user = if sub == 2 { "" } else { owner.as_str() };
            emit(
                &mut w,
                &mut truth,
                &mut rng,
                &mut ev,
                hit.answered(user, (401, sub, win32)),
                false,
            );
        } else if (290..300).contains(&roll) {
            let code = (403, if iis { 14 } else { 0 }, 0);
            emit(
                &mut w,
                &mut truth,
                &mut rng,
                &mut ev,
                hit.answered(user, code),
                false,
            );
        } else {
            let status = [200, 200, 200, 200, 304, 302, 404, 500][rng.random_range(0..8)];
            emit(
                &mut w,
                &mut truth,
                &mut rng,
                &mut ev,
                hit.answered(user, (status, 0, 0)),
                false,
            );
        }
    }
    w.out.flush().expect("flush");
    truth.finish();
    let events_truth = ev.map(events::Events::finish);
    let t = &truth;
    let mut doc = json!({
        "format": format!("{:?}", cfg.format).to_lowercase(),
        "seed": cfg.seed,
        "bytes": w.written,
        "requests": t.requests,
        "unparsed": t.unparsed,
        "by_status": t.by_status.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "by_code": t.by_code,
        "auth_denials": t.denials,
        "handshake_noise": t.noise,
        "real_failures": t.denials - t.noise,
        "top_users": Truth::top(&t.users, 10),
        "top_ips": Truth::top(&t.ips, 10),
        "distinct_failing_users": t.users.len(),
        "distinct_failing_ips": t.ips.len(),
        "regression_at": regression_at,
        "injected": t.injected,
    });
    if let Some(e) = events_truth {
        doc["events"] = e;
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::size;

    #[test]
    fn sizes_are_read_or_refused() {
        assert_eq!(size("1G"), Ok(1 << 30));
        assert_eq!(size("200M"), Ok(200 << 20));
        assert_eq!(size("0.5k"), Ok(512));
        assert_eq!(size("512"), Ok(512));
        for bad in ["1T", "", "G", "-1M", "lots"] {
            assert!(size(bad).is_err(), "{bad}");
        }
    }
}
