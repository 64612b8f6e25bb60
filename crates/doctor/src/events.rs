//! Rules over Windows events: who locks an account out, the attacks the log detectors find
//! (over failure events by source and account), the KDC's and the Kerberos client's errors,
//! NTLM where Kerberos was expected, accounts refused for their state. With access logs given
//! too, what both found about one thing is one finding with both sources' evidence.

use why401_evidence::events::{EventSummary, KerberosIssue, LockoutEvent};
use why401_evidence::logs::LogSummary;

use crate::logs::{Failures, Thresholds, account_key, attacks};
use crate::time::{duration, timestamp};
use crate::{Finding, FindingId, Severity, rank};

/// Runs the event rules, and the log rules when `logs` is given, as one ranked list.
pub fn diagnose(ev: &EventSummary, logs: Option<&LogSummary>, t: &Thresholds) -> Vec<Finding> {
    let mut out = Vec::new();
    unreadable(ev, &mut out);
    let view = Failures {
        pairs: &ev.user_ip,
        sources: &ev.sources,
        scattered: &ev.scattered,
        distinct_sources: ev.distinct_failing_sources,
        approximate: false,
        example: "first event",
        unit: "failure events",
    };
    let mut from_events = attacks(&view, t);
    // Keyed by account, as the log's lockouts are.
    let mut lockouts: Vec<(String, Finding)> = ev
        .lockouts
        .iter()
        .take(10)
        .map(|l| (account_key(&l.user), lockout(l)))
        .collect();
    if let Some(s) = logs {
        // The log's findings, with what the events add to the same thing.
        let mut log = crate::logs::parts(s, t);
        from_events.retain(
            |(key, f)| match log.attacks.iter_mut().find(|(k, _)| k == key) {
                Some((_, g)) => {
                    let first = f.evidence.first().cloned().unwrap_or_default();
                    g.evidence.push(format!("the Security log agrees: {first}"));
                    false
                }
                None => true,
            },
        );
        // The reasons the Security log gave for each attacking client's refused requests.
        if let Some(c) = &ev.correlation {
            for (key, g) in &mut log.attacks {
                let Some(ip) = key.split(' ').nth(1) else {
                    continue;
                };
                let why: Vec<String> = c
                    .by_client
                    .iter()
                    .filter(|e| e.key == ip)
                    .map(|e| format!("{} × {}", e.count, e.reason))
                    .collect();
                if !why.is_empty() {
                    g.evidence
                        .push(format!("the Security log says why: {}", why.join(", ")));
                }
            }
        }
        // A lockout the access log shows (1909) is the same one the DC logged: keep the
        // event's finding, which names the source, with the log's lines.
        log.lockouts.retain(|(l, _)| {
            let key = account_key(&l.user);
            match lockouts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, f)) => {
                    f.evidence.push(format!(
                        "the access log: {} refused as locked out, from {} (first: {})",
                        l.count,
                        l.sources.join(", "),
                        l.example
                    ));
                    false
                }
                None => true,
            }
        });
        out.extend(log.other);
        out.extend(log.attacks.into_iter().map(|(_, f)| f));
        out.extend(log.lockouts.into_iter().map(|(_, f)| f));
    }
    out.extend(
        from_events
            .into_iter()
            .map(|(_, f)| f.evidence("seen in: the Windows Security log (4625, 4771, 4776)")),
    );
    out.extend(lockouts.into_iter().map(|(_, f)| f));
    for k in ev.kerberos.iter().take(20) {
        out.push(kerberos(k));
    }
    ntlm(ev, &mut out);
    for a in ev.account_states.iter().take(10) {
        let (code, reason) = (&a.code, a.state.replace('-', " "));
        let mut f = Finding::new(FindingId::ACCOUNT_STATE)
            .title(format!(
                "{}: {} logons refused, {reason} ({code})",
                a.user, a.count
            ))
            .evidence(span(a.first, a.last))
            .severity(Severity::Error)
            .confidence(0.9);
        if !a.sources.is_empty() {
            f = f.evidence(format!("from: {}", a.sources.join(", ")));
        }
        if !a.processes.is_empty() {
            f = f.evidence(format!("asked by: {}", a.processes.join(", ")));
        }
        if !a.logon_types.is_empty() {
            f = f.evidence(format!("logon type: {}", a.logon_types.join(", ")));
        }
        out.push(f);
    }
    rank(&mut out);
    out
}

fn unreadable(ev: &EventSummary, out: &mut Vec<Finding>) {
    if ev.unreadable == 0 {
        return;
    }
    let mut f = Finding::new(FindingId::UNPARSED_LINES)
        .title(format!(
            "{} of the event logs could not be read and {} counted aside",
            plural(ev.unreadable, "chunk or record", "chunks or records"),
            if ev.unreadable == 1 { "was" } else { "were" }
        ))
        .severity(Severity::Warning)
        .confidence(0.9);
    // The catalogue's steps are about log lines; these are about event logs.
    f.fix = vec![
        "Everything else in the files was read; the counts are lower bounds.".into(),
        "Get a clean copy from the machine: Event Viewer > Save All Events As… (.evtx), or `wevtutil epl Security Security.evtx`; a log copied while Windows was writing it can have torn chunks.".into(),
    ];
    for p in ev.problems.iter().take(5) {
        f = f.evidence(format!("{} {}: {}", p.file, p.place, p.error));
    }
    out.push(f);
}

fn lockout(l: &LockoutEvent) -> Finding {
    let who = account_key(&l.user);
    let mut f = Finding::new(FindingId::LOCKOUT_SOURCE).severity(Severity::Error);
    let via = if l.caller.is_empty() {
        String::new()
    } else {
        format!(", through {}", l.caller)
    };
    match l.culprits.first() {
        Some(c) => {
            let agent = c
                .agents
                .first()
                .map(|a| format!(" ({})", a.key))
                .unwrap_or_default();
            f = f
                .title(format!(
                    "{} was locked out at {}{via}: the bad passwords came from {}{agent}",
                    l.user,
                    timestamp(l.time),
                    c.source
                ))
                .confidence(0.9);
        }
        None => {
            f = f
                .title(format!(
                    "{} was locked out at {}{via}; no failure events for it in the hour before",
                    l.user,
                    timestamp(l.time)
                ))
                .confidence(0.6);
        }
    }
    f = f.evidence(format!(
        "4740 on {} for account {who}{}{}",
        l.dc,
        if l.caller.is_empty() {
            String::new()
        } else {
            format!(", Caller Computer Name {}", l.caller)
        },
        if l.count > 1 {
            format!(", locked out {} times", l.count)
        } else {
            String::new()
        }
    ));
    for c in l.culprits.iter().take(5) {
        let mut line = format!(
            "{}: {} before the lockout (events {}, logged by {}), last at {}",
            c.source,
            plural(c.failures, "failure", "failures"),
            c.events
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("/"),
            c.logged_by,
            timestamp(c.last)
        );
        if let Some(w) = &c.workstation
            && *w != c.source
        {
            line.push_str(&format!(", workstation {w}"));
        }
        if let Some(p) = &c.process {
            line.push_str(&format!(", process {p}"));
        }
        f = f.evidence(line);
        for a in &c.agents {
            f = f.evidence(format!(
                "  its refused requests in the access log: {} × {}",
                a.count, a.key
            ));
        }
    }
    if l.culprits.is_empty() {
        f = f.evidence(format!(
            "give the Security log of {} (and of the DC with the PDC emulator role) to see the failures",
            if l.caller.is_empty() {
                "the machine the logons came through"
            } else {
                &l.caller
            }
        ));
    }
    for e in &l.explicit {
        f = f.evidence(format!(
            "4648: {e} used the account's password explicitly before the lockout"
        ));
    }
    if let Some(u) = l.unlocked {
        f = f.evidence(format!("unlocked (4767) at {}", timestamp(u)));
    }
    f
}

fn kerberos(k: &KerberosIssue) -> Finding {
    let (id, title) = match k.kind.as_str() {
        "spn-unknown" => (
            FindingId::KERBEROS_SPN_UNKNOWN,
            format!(
                "the KDC has no account with the SPN {} ({} × 4769 status {})",
                k.target, k.count, k.code
            ),
        ),
        "clock-skew" => (
            FindingId::KERBEROS_CLOCK_SKEW,
            format!(
                "the clock of {} is too far from the KDC's ({} × status {})",
                k.target, k.count, k.code
            ),
        ),
        "etype-unsupported" => (
            FindingId::KERBEROS_ETYPE_UNSUPPORTED,
            format!(
                "no common encryption type for {} ({} × {})",
                k.target, k.count, k.code
            ),
        ),
        "duplicate-spn" => (
            FindingId::KERBEROS_DUPLICATE_SPN,
            format!(
                "two accounts hold the name {} (KDC event 11, {} times)",
                k.target, k.count
            ),
        ),
        "ticket-rejected" => (
            FindingId::KERBEROS_TICKET_REJECTED,
            format!(
                "the server could not decrypt tickets for {} (KRB_AP_ERR_MODIFIED, {} times)",
                k.target, k.count
            ),
        ),
        _ => (
            FindingId::KERBEROS_CLIENT_UNKNOWN,
            format!(
                "the KDC does not know the account {} ({} × status {})",
                k.target, k.count, k.code
            ),
        ),
    };
    let mut f = Finding::new(id)
        .title(title)
        .evidence(format!(
            "events {}, {}",
            k.events
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("/"),
            span(k.first, k.last)
        ))
        .confidence(0.85);
    if !k.clients.is_empty() {
        f = f.evidence(format!("from: {}", k.clients.join(", ")));
    }
    if !k.accounts.is_empty() {
        f = f.evidence(format!("accounts: {}", k.accounts.join(", ")));
    }
    if let Some(d) = &k.detail {
        f = f.evidence(d.clone());
    }
    f.evidence(format!("first event: {}", k.example))
}

fn ntlm(ev: &EventSummary, out: &mut Vec<Finding>) {
    let n = &ev.ntlm;
    let list = |v: &[why401_evidence::logs::KeyCount]| {
        v.iter()
            .take(5)
            .map(|k| format!("{} ({})", k.key, k.count))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if n.network_logons >= 10 && n.ntlm * 5 >= n.network_logons {
        let pct = n.ntlm as f64 * 100.0 / n.network_logons as f64;
        out.push(
            Finding::new(FindingId::NTLM_INSTEAD_OF_KERBEROS)
                .title(format!(
                    "{pct:.0}% of network logons to {} used NTLM ({} of {}; {} Kerberos)",
                    n.servers.join(", "),
                    n.ntlm,
                    n.network_logons,
                    n.kerberos
                ))
                .evidence(format!("accounts: {}", list(&n.accounts)))
                .evidence(format!("clients: {}", list(&n.clients)))
                .confidence(if n.kerberos > 0 { 0.7 } else { 0.6 }),
        );
    }
    if n.ntlm_v1 > 0 {
        out.push(
            Finding::new(FindingId::NTLMV1_IN_USE)
                .title(format!(
                    "{} network logons used NTLMv1 (LmPackageName NTLM V1 or LM)",
                    n.ntlm_v1
                ))
                .evidence(format!("who: {}", list(&n.v1)))
                .confidence(0.95),
        );
    }
}

fn span(first: i64, last: i64) -> String {
    if first == last {
        timestamp(first)
    } else {
        format!(
            "{} → {} ({})",
            timestamp(first),
            timestamp(last),
            duration(last - first)
        )
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::events::{AccountState, Culprit, NtlmUse};
    use why401_evidence::logs::{KeyCount, Lockout, PairStats};

    fn ids(f: &[Finding]) -> Vec<&str> {
        f.iter().map(|f| f.id.as_str()).collect()
    }

    fn summary() -> EventSummary {
        EventSummary {
            lockouts: vec![LockoutEvent {
                user: "CORP\\jsmith".into(),
                time: 1000,
                count: 1,
                dc: "DC01".into(),
                caller: "WEB01".into(),
                culprits: vec![Culprit {
                    source: "10.1.2.3".into(),
                    workstation: None,
                    process: Some("w3wp.exe".into()),
                    logged_by: "WEB01".into(),
                    failures: 10,
                    events: vec![4625],
                    last: 990,
                    agents: vec![KeyCount {
                        key: "Outlook-iOS/709".into(),
                        count: 10,
                    }],
                }],
                unlocked: None,
                explicit: vec![],
            }],
            account_states: vec![AccountState {
                user: "CORP\\svc-report".into(),
                state: "password-expired".into(),
                code: "0xC0000071".into(),
                count: 96,
                first: 0,
                last: 8 * 3600,
                sources: vec!["10.5.5.5".into()],
                processes: vec!["w3wp.exe".into()],
                logon_types: vec!["3 (Network)".into()],
            }],
            ntlm: NtlmUse {
                network_logons: 100,
                kerberos: 20,
                ntlm: 80,
                ntlm_v1: 3,
                servers: vec!["WEB01".into()],
                ..NtlmUse::default()
            },
            user_ip: vec![PairStats {
                ip: "203.0.113.66".into(),
                user: "CORP\\administrator".into(),
                failures: 500,
                successes: 0,
                first: Some(0),
                last: Some(250),
                failing_hours: 1,
                example: "Security.evtx#10".into(),
            }],
            ..EventSummary::default()
        }
    }

    #[test]
    fn events_alone_name_the_source_the_state_and_ntlm() {
        let f = diagnose(&summary(), None, &Thresholds::default());
        let got = ids(&f);
        for want in [
            "lockout-source",
            "account-state",
            "ntlm-instead-of-kerberos",
            "ntlmv1-in-use",
            "brute-force",
        ] {
            assert!(got.contains(&want), "{want} missing: {got:?}");
        }
        let l = f.iter().find(|f| f.id == "lockout-source").unwrap();
        assert!(
            l.title.contains("10.1.2.3 (Outlook-iOS/709)"),
            "{}",
            l.title
        );
        let s = f.iter().find(|f| f.id == "account-state").unwrap();
        assert!(
            s.title.contains("password expired (0xC0000071)"),
            "{}",
            s.title
        );
    }

    #[test]
    fn what_both_sources_found_is_one_finding() {
        let mut log = LogSummary::default();
        log.user_ip.push(PairStats {
            ip: "203.0.113.66".into(),
            user: "administrator".into(),
            failures: 500,
            successes: 0,
            first: Some(0),
            last: Some(250),
            failing_hours: 1,
            example: "u_ex.log:7".into(),
        });
        log.lockouts.push(Lockout {
            user: "CORP\\jsmith".into(),
            count: 5,
            first: Some(995),
            last: Some(1000),
            failures_before: 10,
            sources: vec!["10.1.2.3".into()],
            example: "u_ex.log:99".into(),
        });
        let f = diagnose(&summary(), Some(&log), &Thresholds::default());
        let brute: Vec<_> = f.iter().filter(|f| f.id == "brute-force").collect();
        assert_eq!(brute.len(), 1, "{brute:?}");
        assert!(
            brute[0]
                .evidence
                .iter()
                .any(|e| e.starts_with("the Security log agrees: 500 failure events")),
            "{:?}",
            brute[0].evidence
        );
        assert!(!ids(&f).contains(&"account-lockout"), "{:?}", ids(&f));
        let l = f.iter().find(|f| f.id == "lockout-source").unwrap();
        assert!(
            l.evidence.iter().any(|e| e.contains("u_ex.log:99")),
            "{:?}",
            l.evidence
        );
    }
}
