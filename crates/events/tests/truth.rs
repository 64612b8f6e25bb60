//! Event logs whose truth is known, joined with the IIS log they belong to: the seeded
//! generator writes the log, WEB01's and DC01's Security logs and a System log, and what each
//! holds. Correlation counts must be exact, each injected cause found.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use why401_doctor::logs::Thresholds;
use why401_events::{Options, Pass};
use why401_evidence::events::{AccessFailure, EventSummary};
use why401_loggen::{Config, Format, Sinks, generate_joined};
use why401_logs::{Caps, Input};

struct Set {
    _dir: tempfile::TempDir,
    log: std::path::PathBuf,
    events: Vec<std::path::PathBuf>,
    truth: Value,
}

fn write(size: u64) -> Set {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("u_ex261120.log");
    let names = ["WEB01-Security.xml", "DC01-Security.xml", "System.xml"];
    let (mut web, mut dc, mut system) = (Vec::new(), Vec::new(), Vec::new());
    let truth = generate_joined(
        &Config {
            format: Format::Iis,
            size,
            seed: 7,
            days: 7,
        },
        std::fs::File::create(&log).unwrap(),
        Some(Sinks {
            web: &mut web,
            dc: &mut dc,
            system: &mut system,
        }),
    );
    let mut events = Vec::new();
    for (name, bytes) in names.iter().zip([web, dc, system]) {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        events.push(p);
    }
    Set {
        _dir: dir,
        log,
        events,
        truth,
    }
}

fn access(log: &Path) -> (why401_evidence::logs::LogSummary, Vec<AccessFailure>) {
    let opts = why401_logs::Options {
        caps: Caps {
            logons: 1_000_000,
            ..Caps::default()
        },
        ..why401_logs::Options::default()
    };
    let pass =
        why401_logs::analyze(&[Input::Path(log.display().to_string())], &opts, &|_| {}).unwrap();
    let (lines, dropped) = pass.logon_failures();
    assert_eq!(dropped, 0);
    (pass.into_summary(), lines)
}

fn events(paths: &[std::path::PathBuf], access: &[AccessFailure]) -> EventSummary {
    let mut pass = Pass::new(Options::default());
    for p in paths {
        pass.read_path(p, &p.file_name().unwrap().to_string_lossy())
            .unwrap();
    }
    pass.finish(access, None)
}

fn n(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

#[test]
fn the_join_and_every_injected_cause_match_the_truth() {
    let set = write(3 << 20);
    let t = &set.truth["events"];
    let (log, lines) = access(&set.log);
    let ev = events(&set.events, &lines);

    // Every record read, every id counted.
    assert_eq!(
        ev.records,
        n(&t["records"]["web"]) + n(&t["records"]["dc"]) + n(&t["records"]["system"])
    );
    assert_eq!(ev.unreadable, 0);
    for (id, count) in t["by_id"].as_object().unwrap() {
        let got = ev.by_id.iter().find(|i| i.id.to_string() == *id);
        assert_eq!(got.map(|i| i.count), Some(n(count)), "event {id}");
    }

    // The join: exact counts, and why the unmatched did not match.
    let c = ev.correlation.as_ref().expect("correlation");
    let tc = &t["correlation"];
    assert_eq!(c.logon_lines, n(&tc["logon_lines"]), "401.1 lines");
    assert_eq!(c.matched, n(&tc["matched"]), "matched");
    assert_eq!(
        c.matched_without_address,
        n(&tc["matched_without_address"]),
        "matched by a 4776"
    );
    assert_eq!(c.unmatched, n(&tc["unmatched"]), "unmatched");
    assert_eq!(
        c.unmatched_why
            .iter()
            .find(|w| w.key == "outside the events' time range")
            .map(|w| w.count),
        Some(n(&tc["outside_range"]))
    );
    let brute = c
        .by_user
        .iter()
        .find(|e| e.key == "CORP\\administrator")
        .unwrap();
    assert_eq!(brute.reason, "0xC000006A wrong password");
    assert_eq!(brute.count, 500);

    // Each lockout's source, and for the one through IIS the user agent of the device.
    for want in t["lockouts"].as_array().unwrap() {
        let user = want["user"].as_str().unwrap();
        let l = ev
            .lockouts
            .iter()
            .find(|l| l.user.ends_with(user))
            .unwrap_or_else(|| panic!("lockout of {user}"));
        assert_eq!(l.caller, want["caller"].as_str().unwrap());
        assert_eq!(l.culprits.len(), 1, "{:?}", l.culprits);
        assert_eq!(l.culprits[0].source, want["source"].as_str().unwrap());
        if let Some(agent) = want["agent"].as_str() {
            assert_eq!(l.culprits[0].agents[0].key, agent);
        }
    }

    // The service with the expired password.
    let st = &t["account_state"];
    let a = ev
        .account_states
        .iter()
        .find(|a| a.user == st["user"].as_str().unwrap())
        .expect("account state");
    assert_eq!(a.state, st["state"].as_str().unwrap());
    assert_eq!(a.code, st["code"].as_str().unwrap());
    assert_eq!(a.count, n(&st["count"]));

    // What the KDC and the Kerberos client said.
    for (kind, key) in [
        ("spn-unknown", "spn_unknown"),
        ("clock-skew", "clock_skew"),
        ("duplicate-spn", "duplicate_spn"),
        ("etype-unsupported", "etype"),
        ("ticket-rejected", "ticket_rejected"),
    ] {
        let want = &t["kerberos"][key];
        let k = ev
            .kerberos
            .iter()
            .find(|k| k.kind == kind)
            .unwrap_or_else(|| panic!("{kind}"));
        assert_eq!(k.target.to_lowercase(), want["target"].as_str().unwrap());
        assert_eq!(k.count, n(&want["count"]), "{kind}");
    }

    // Network logons.
    let tn = &t["ntlm"];
    assert_eq!(ev.ntlm.network_logons, n(&tn["network_logons"]));
    assert_eq!(ev.ntlm.ntlm, n(&tn["ntlm"]));
    assert_eq!(ev.ntlm.kerberos, n(&tn["kerberos"]));
    assert_eq!(ev.ntlm.ntlm_v1, n(&tn["ntlm_v1"]));

    // The findings, both sources together.
    let f = why401_doctor::events::diagnose(&ev, Some(&log), &Thresholds::default());
    let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
    for want in [
        "lockout-source",
        "account-state",
        "brute-force",
        "password-spray",
        "credential-stuffing",
        "stuck-client",
        "kerberos-spn-unknown",
        "kerberos-clock-skew",
        "kerberos-duplicate-spn",
        "kerberos-etype-unsupported",
        "kerberos-ticket-rejected",
        "ntlm-instead-of-kerberos",
        "ntlmv1-in-use",
    ] {
        assert!(ids.contains(&want), "{want} missing: {ids:?}");
    }
    // One finding per thing both sources saw.
    assert_eq!(ids.iter().filter(|i| **i == "brute-force").count(), 1);
    assert!(!ids.contains(&"account-lockout"), "{ids:?}");
    let b = f.iter().find(|f| f.id == "brute-force").unwrap();
    assert!(
        b.evidence
            .iter()
            .any(|e| e == "the Security log says why: 500 × 0xC000006A wrong password"),
        "{:?}",
        b.evidence
    );
}

#[test]
fn events_alone_find_the_attacks_the_log_would() {
    let set = write(2 << 20);
    let ev = events(&set.events, &[]);
    assert!(ev.correlation.is_none());
    let f = why401_doctor::events::diagnose(&ev, None, &Thresholds::default());
    let brute = f
        .iter()
        .find(|f| f.id == "brute-force")
        .expect("brute force from 4625s");
    assert!(brute.title.contains("203.0.113.66"), "{}", brute.title);
    let spray = f
        .iter()
        .find(|f| f.id == "password-spray")
        .expect("spray from 4625s");
    assert!(spray.title.contains("198.51.100.23"), "{}", spray.title);
    // The DC's 4776s name WEB01 as their workstation: the server passing logons on is no
    // attacker.
    assert!(
        !f.iter().any(|f| f.title.starts_with("WEB01 ")),
        "{:?}",
        f.iter().map(|f| &f.title).collect::<Vec<_>>()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// The order the files are given in, and the order of the access log's lines, change
    /// nothing.
    #[test]
    fn the_order_of_inputs_does_not_change_the_result(
        order in Just(vec![0usize, 1, 2]).prop_shuffle(),
        seed in any::<u64>(),
    ) {
        static SET: std::sync::OnceLock<(Set, Vec<AccessFailure>, EventSummary)> = std::sync::OnceLock::new();
        let (set, lines, reference) = SET.get_or_init(|| {
            let set = write(1 << 20);
            let (_, lines) = access(&set.log);
            let reference = events(&set.events, &lines);
            (set, lines, reference)
        });
        let files: Vec<_> = order.iter().map(|i| set.events[*i].clone()).collect();
        let mut shuffled = lines.clone();
        // A seeded shuffle of the lines.
        let mut x = seed | 1;
        for i in (1..shuffled.len()).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            shuffled.swap(i, (x % (i as u64 + 1)) as usize);
        }
        let mut got = events(&files, &shuffled);
        // Which file came first is the only thing that may differ: the inputs list.
        got.inputs = reference.inputs.clone();
        prop_assert_eq!(&got, reference);
    }
}
