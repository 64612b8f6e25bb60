//! Rules over a log summary: attacks (brute force, spray, stuffing), lockouts, stuck clients,
//! regressions — and the handshake noise that is none of these.

use serde::Serialize;
use why401_evidence::logs::{
    KeyCount, Lockout, LogSummary, Mix, PairStats, Scattered, SourceStats,
};

use crate::time::{duration, timestamp};
use crate::{Finding, FindingId, Severity, rank};

/// Detector thresholds, with the defaults `why401 logs --help` documents.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Thresholds {
    /// Failures of one source against one account to call it brute force.
    pub brute_force: u64,
    /// ... at this many attempts per minute at least (slower is a stuck client).
    pub brute_force_rate: f64,
    /// Distinct accounts one source fails on to call it a password spray.
    pub spray_users: u64,
    /// Distinct sources, each failing only a few times, to call it credential stuffing.
    pub stuffing_sources: u64,
    /// ... and the distinct accounts those sources must have tried between them.
    pub stuffing_users: u64,
    /// Hours one client must keep failing (and never succeed) to call it stuck.
    pub stuck_hours: u32,
    /// How many times the 401 rate must rise to call it a regression.
    pub regression_factor: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            brute_force: 20,
            brute_force_rate: 1.0,
            spray_users: 10,
            stuffing_sources: 20,
            stuffing_users: 20,
            stuck_hours: 2,
            regression_factor: 3.0,
        }
    }
}

/// Runs every log rule.
pub fn diagnose(s: &LogSummary, t: &Thresholds) -> Vec<Finding> {
    let p = parts(s, t);
    let mut out = p.other;
    out.extend(p.attacks.into_iter().map(|(_, f)| f));
    out.extend(p.lockouts.into_iter().map(|(_, f)| f));
    rank(&mut out);
    out
}

/// The log rules' findings before ranking, the ones another source may speak to kept with
/// what they are about: the attacks by key (as [`attacks`] keys them), the lockouts with their
/// summary row.
pub(crate) struct Parts<'a> {
    pub attacks: Vec<(String, Finding)>,
    pub lockouts: Vec<(&'a Lockout, Finding)>,
    pub other: Vec<Finding>,
}

/// Runs every log rule, unranked, as [`Parts`].
pub(crate) fn parts<'a>(s: &'a LogSummary, t: &Thresholds) -> Parts<'a> {
    let mut other = Vec::new();
    unparsed(s, &mut other);
    noise(s, &mut other);
    regression(s, t, &mut other);
    Parts {
        attacks: attacks(&Failures::of_log(s), t),
        lockouts: s.lockouts.iter().take(5).map(|l| (l, lockout(l))).collect(),
        other,
    }
}

/// What the attack detectors read: failures by (source, account) and by source, from an
/// access log (sources are client addresses) or from Windows events (addresses, else
/// workstations).
pub(crate) struct Failures<'a> {
    pub pairs: &'a [PairStats],
    pub sources: &'a [SourceStats],
    pub scattered: &'a Scattered,
    pub distinct_sources: u64,
    pub approximate: bool,
    /// How an example is introduced: `first line` or `first event`.
    pub example: &'static str,
    /// What a failure is, counted: `failures` or `failure events`.
    pub unit: &'static str,
}

impl<'a> Failures<'a> {
    pub(crate) fn of_log(s: &'a LogSummary) -> Self {
        Failures {
            pairs: &s.user_ip,
            sources: &s.sources,
            scattered: &s.scattered,
            distinct_sources: s.distinct_failing_ips,
            approximate: s.approximate,
            example: "first line",
            unit: "failures",
        }
    }
}

/// Brute force, spray, stuffing and stuck clients, each with the key of what it is about
/// (`brute-force 203.0.113.7 admin`), so that what two sources found about one thing can be
/// told as one finding.
pub(crate) fn attacks(v: &Failures, t: &Thresholds) -> Vec<(String, Finding)> {
    let mut out = Vec::new();
    brute_force(v, t, &mut out);
    spray(v, t, &mut out);
    stuffing(v, t, &mut out);
    stuck(v, t, &mut out);
    out
}

/// The account without its domain, lower case: `CORP\JSmith` and `jsmith` are one account.
pub(crate) fn account_key(user: &str) -> String {
    let u = user.rsplit('\\').next().unwrap_or(user);
    u.split('@').next().unwrap_or(u).to_lowercase()
}

fn unparsed(s: &LogSummary, out: &mut Vec<Finding>) {
    if s.unparsed == 0 {
        return;
    }
    let mut f = Finding::new(FindingId::UNPARSED_LINES)
        .title(format!(
            "{} could not be read and were counted aside",
            plural(s.unparsed, "line")
        ))
        .severity(Severity::Warning)
        .confidence(0.9);
    for e in s.unparsed_examples.iter().take(5) {
        let text: String = e.text.chars().take(120).collect();
        f = f.evidence(format!("{}:{}: {} — {text}", e.file, e.line, e.reason));
    }
    out.push(f);
}

fn noise(s: &LogSummary, out: &mut Vec<Finding>) {
    if s.handshake_noise == 0 {
        return;
    }
    let mut f = Finding::new(FindingId::HANDSHAKE_NOISE)
        .title(format!(
            "{} of the {} denials are handshake legs that then succeeded: not failures",
            s.handshake_noise, s.auth_denials
        ))
        .evidence(format!(
            "real failures: {} of {} denials",
            s.real_failures, s.auth_denials
        ))
        .severity(Severity::Info)
        .confidence(0.6);
    for c in s.by_code.iter().filter(|c| c.handshake > 0) {
        let what = if c.substatus == 0 && c.win32 == 0 {
            "challenges to requests without credentials, answered with them".to_string()
        } else {
            format!("{} {} {}", c.status, c.substatus, c.win32)
        };
        f = f.evidence(format!(
            "{what}: {} lines, {} of them handshake legs",
            c.count, c.handshake
        ));
    }
    out.push(f);
}

fn plural(n: u64, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn span(first: Option<i64>, last: Option<i64>) -> String {
    match (first, last) {
        (Some(first), Some(last)) => format!(
            "{} → {} ({})",
            timestamp(first),
            timestamp(last),
            duration(last - first)
        ),
        _ => "no timestamps".into(),
    }
}

/// Seconds from first to last, when both are known.
fn elapsed(first: Option<i64>, last: Option<i64>) -> Option<i64> {
    Some(last? - first?)
}

/// Attempts per minute over the pair's failing span (a burst inside one minute counts as one;
/// so do lines without times).
fn rate(p: &PairStats) -> f64 {
    p.failures as f64 / (elapsed(p.first, p.last).unwrap_or(0).max(60) as f64 / 60.0)
}

fn brute_force(s: &Failures, t: &Thresholds, out: &mut Vec<(String, Finding)>) {
    for p in s
        .pairs
        .iter()
        .filter(|p| p.failures >= t.brute_force && rate(p) >= t.brute_force_rate)
        .take(5)
    {
        let rate = rate(p);
        out.push((
            format!("brute-force {} {}", p.ip, account_key(&p.user)),
            Finding::new(FindingId::BRUTE_FORCE)
                .title(format!(
                    "{} failed {} times against account {}",
                    p.ip, p.failures, p.user
                ))
                .evidence(format!(
                    "{} {}, {} successes, {}",
                    p.failures,
                    s.unit,
                    p.successes,
                    span(p.first, p.last)
                ))
                .evidence(format!("{rate:.1} attempts per minute"))
                .evidence(format!("{}: {}", s.example, p.example))
                .severity(Severity::Error)
                .confidence(if p.successes > 0 { 0.85 } else { 0.8 }),
        ));
    }
}

fn spray(s: &Failures, t: &Thresholds, out: &mut Vec<(String, Finding)>) {
    for src in s
        .sources
        .iter()
        .filter(|x| x.users >= t.spray_users)
        .take(3)
    {
        let per_account = src.failures as f64 / src.users.max(1) as f64;
        // A spray tries few passwords per account; many per account is brute force instead.
        if per_account > 5.0 {
            continue;
        }
        out.push((
            format!("password-spray {}", src.ip),
            Finding::new(FindingId::PASSWORD_SPRAY)
                .title(format!(
                    "{} failed against {} different accounts ({:.1} tries each)",
                    src.ip, src.users, per_account
                ))
                .evidence(format!(
                    "{} {}, {} successes, {}",
                    src.failures,
                    s.unit,
                    src.successes,
                    span(src.first, src.last)
                ))
                .evidence(format!("accounts include: {}", src.sample_users.join(", ")))
                .severity(Severity::Error)
                .confidence(0.8),
        ));
    }
}

fn stuffing(s: &Failures, t: &Thresholds, out: &mut Vec<(String, Finding)>) {
    // Many sources, many accounts, each source trying few: a botnet with a leaked list.
    let few = &s.scattered;
    if few.sources < t.stuffing_sources || few.users < t.stuffing_users {
        return;
    }
    let (failures, first, last) = (few.failures, few.first, few.last);
    out.push((
        "credential-stuffing".to_string(),
        Finding::new(FindingId::CREDENTIAL_STUFFING)
            .title(format!(
                "{} sources tried {} accounts, a few attempts each: credential stuffing",
                few.sources, few.users
            ))
            .evidence(format!(
                "{failures} {} from {} sources (at most {} each), {}",
                s.unit,
                few.sources,
                Scattered::MAX_FAILURES,
                span(first, last)
            ))
            .evidence(format!(
                "distinct failing sources: {}{}",
                s.distinct_sources,
                if s.approximate { " (at least)" } else { "" }
            ))
            .severity(Severity::Error)
            .confidence(0.7),
    ));
}

fn lockout(l: &Lockout) -> Finding {
    Finding::new(FindingId::ACCOUNT_LOCKOUT)
        .title(format!(
            "account {} is locked out ({} with 1909 / 0xC0000234)",
            l.user,
            plural(l.count, "refusal")
        ))
        .evidence(format!(
            "{} for the account before or beside the lockout",
            plural(l.failures_before, "failure")
        ))
        .evidence(format!(
            "{} — from {}",
            span(l.first, l.last),
            l.sources.join(", ")
        ))
        .evidence(format!("first lockout line: {}", l.example))
        .severity(Severity::Error)
        .confidence(0.9)
}

fn stuck(s: &Failures, t: &Thresholds, out: &mut Vec<(String, Finding)>) {
    let mut n = 0;
    for p in s.pairs {
        // Without times nothing shows a client failing steadily over hours.
        let Some(secs) = elapsed(p.first, p.last) else {
            continue;
        };
        let hours = secs as f64 / 3600.0;
        if p.successes > 0
            || hours < t.stuck_hours as f64
            || (p.failing_hours as f64) < (t.stuck_hours as f64).max(hours * 0.5)
        {
            continue;
        }
        // Steady, not a burst: a burst of this size is brute force.
        let per_hour = p.failures as f64 / hours.max(1.0);
        if per_hour > 600.0 {
            continue;
        }
        out.push((
            format!("stuck-client {} {}", p.ip, account_key(&p.user)),
            Finding::new(FindingId::STUCK_CLIENT)
                .title(format!(
                    "{} ({}) has failed steadily for {} without one success",
                    p.ip,
                    p.user,
                    duration(secs)
                ))
                .evidence(format!(
                    "{} {} in {} of the hours, {per_hour:.1} per hour",
                    p.failures, s.unit, p.failing_hours
                ))
                .evidence(format!("{}: {}", s.example, p.example))
                .severity(Severity::Warning)
                .confidence(0.75),
        ));
        n += 1;
        if n == 5 {
            break;
        }
    }
}

fn regression(s: &LogSummary, t: &Thresholds, out: &mut Vec<Finding>) {
    let ser = &s.series;
    let n = ser.requests.len();
    if n < 8 {
        return;
    }
    let rate = |a: usize, b: usize| {
        let req: u64 = ser.requests[a..b].iter().sum();
        let fail: u64 = ser.failures[a..b].iter().sum();
        (fail as f64 / req.max(1) as f64, req)
    };
    let mut best: Option<(usize, f64, f64)> = None;
    for k in 3..n - 3 {
        let (before, rb) = rate(0, k);
        let (after, ra) = rate(k, n);
        if rb < 50 || ra < 50 {
            continue;
        }
        let factor = after / before.max(0.001);
        if factor >= t.regression_factor
            && after - before >= 0.05
            && best.is_none_or(|(_, f, _)| factor > f)
        {
            best = Some((k, factor, after - before));
        }
    }
    let Some((k, factor, _)) = best else { return };
    let at = ser.start + k as i64 * ser.bucket_secs;
    let (before, _) = rate(0, k);
    let (after, _) = rate(k, n);
    let mut f = Finding::new(FindingId::AUTH_REGRESSION)
        .title(format!(
            "the failure rate stepped up {factor:.1}× at {}",
            timestamp(at)
        ))
        .evidence(format!(
            "{:.1}% of requests failed before, {:.1}% after",
            before * 100.0,
            after * 100.0
        ))
        .severity(Severity::Warning)
        .confidence(0.7);
    for change in what_changed(&s.mix, at) {
        f = f.evidence(change);
    }
    out.push(f);
}

/// The URL, user agent or status that grew the most across `at`.
fn what_changed(mix: &[Mix], at: i64) -> Vec<String> {
    let (before, after): (Vec<&Mix>, Vec<&Mix>) = mix.iter().partition(|m| m.start < at);
    let share = |ms: &[&Mix], pick: fn(&Mix) -> &Vec<KeyCount>| {
        let total: u64 = ms.iter().map(|m| m.failures).sum();
        let mut map: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
        for m in ms {
            for kc in pick(m) {
                *map.entry(kc.key.clone()).or_default() += kc.count;
            }
        }
        (map, total.max(1))
    };
    let mut out = Vec::new();
    for (label, pick) in [
        ("URL", (|m: &Mix| &m.urls) as fn(&Mix) -> &Vec<KeyCount>),
        ("user agent", |m: &Mix| &m.agents),
        ("status", |m: &Mix| &m.codes),
    ] {
        let (b, bt) = share(&before, pick);
        let (a, at_total) = share(&after, pick);
        let grown = a
            .iter()
            .map(|(k, n)| {
                (
                    k,
                    *n as f64 / at_total as f64 - *b.get(k).unwrap_or(&0) as f64 / bt as f64,
                )
            })
            .max_by(|x, y| x.1.total_cmp(&y.1));
        if let Some((k, d)) = grown.filter(|(_, d)| *d > 0.2) {
            out.push(format!(
                "what changed — {label}: {k} (+{:.0} points of the failures)",
                d * 100.0
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::logs::{CodeCount, Series};

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.id.as_str()).collect()
    }

    #[test]
    fn detectors_fire_on_their_patterns() {
        let mut s = LogSummary::default();
        s.user_ip.push(PairStats {
            ip: "203.0.113.7".into(),
            user: "admin".into(),
            failures: 500,
            successes: 0,
            first: Some(0),
            last: Some(600),
            failing_hours: 1,
            example: "u_ex.log:10".into(),
        });
        s.user_ip.push(PairStats {
            ip: "10.0.0.5".into(),
            user: "svc-backup".into(),
            failures: 120,
            successes: 0,
            first: Some(0),
            last: Some(6 * 3600),
            failing_hours: 6,
            example: "u_ex.log:99".into(),
        });
        s.sources.push(SourceStats {
            ip: "198.51.100.4".into(),
            failures: 40,
            successes: 0,
            users: 40,
            sample_users: vec!["a".into(), "b".into()],
            first: Some(0),
            last: Some(100),
        });
        s.lockouts.push(Lockout {
            user: "bob".into(),
            count: 3,
            first: Some(0),
            last: Some(10),
            failures_before: 12,
            sources: vec!["10.0.0.9".into()],
            example: "x:1".into(),
        });
        s.handshake_noise = 10;
        s.auth_denials = 700;
        s.real_failures = 690;
        s.by_code.push(CodeCount {
            status: 401,
            substatus: 2,
            win32: 5,
            count: 10,
            handshake: 10,
            meaning: String::new(),
        });
        let f = diagnose(&s, &Thresholds::default());
        let got = ids(&f);
        for want in [
            "brute-force",
            "password-spray",
            "account-lockout",
            "stuck-client",
            "handshake-noise",
        ] {
            assert!(got.contains(&want), "{want} missing: {got:?}");
        }
        assert!(!got.contains(&"credential-stuffing"));
        // 120 failures in 6 hours is a client with an old password, not an attack.
        let brute: Vec<_> = f.iter().filter(|f| f.id == "brute-force").collect();
        assert_eq!(brute.len(), 1, "{brute:?}");
        assert!(brute[0].title.contains("203.0.113.7"));

        s.scattered = Scattered {
            sources: 300,
            failures: 600,
            users: 280,
            first: Some(0),
            last: Some(3600),
        };
        let f = diagnose(&s, &Thresholds::default());
        let stuffing = f
            .iter()
            .find(|f| f.id == "credential-stuffing")
            .expect("stuffing");
        assert!(
            stuffing.title.contains("300 sources tried 280 accounts"),
            "{}",
            stuffing.title
        );
    }

    #[test]
    fn regression_names_the_time_and_the_change() {
        let mut s = LogSummary {
            series: Series {
                start: 0,
                bucket_secs: 3600,
                ..Series::default()
            },
            ..LogSummary::default()
        };
        for h in 0..20 {
            s.series.requests.push(1000);
            s.series.unauthorized.push(if h < 10 { 10 } else { 200 });
            s.series.failures.push(if h < 10 { 10 } else { 200 });
            s.mix.push(Mix {
                start: h * 3600,
                failures: if h < 10 { 10 } else { 200 },
                urls: vec![KeyCount {
                    key: if h < 10 {
                        "/a".into()
                    } else {
                        "/api/v2".into()
                    },
                    count: if h < 10 { 10 } else { 200 },
                }],
                agents: vec![],
                codes: vec![],
                approximate: false,
            });
        }
        let f = diagnose(&s, &Thresholds::default());
        let r = f
            .iter()
            .find(|f| f.id == "auth-regression")
            .expect("regression");
        assert!(r.title.contains("1970-01-01 10:00:00 UTC"), "{}", r.title);
        assert!(
            r.evidence.iter().any(|e| e.contains("/api/v2")),
            "{:?}",
            r.evidence
        );
    }
}
