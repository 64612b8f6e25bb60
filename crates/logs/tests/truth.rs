//! `why401 logs` against logs whose true counts are known: the seeded generator writes both.
//! Small chunks force many chunk boundaries (handshakes split across them, a `#Fields` change
//! inside one), and compressed copies go through the streaming path.

use std::io::Write;

use serde_json::Value;
use why401_doctor::logs::Thresholds;
use why401_evidence::logs::LogSummary;
use why401_loggen::{Config, Format, generate};
use why401_logs::{Input, Options, analyze};

fn write(format: Format, size: u64) -> (tempfile::TempDir, std::path::PathBuf, Value) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("access.log");
    let truth = generate(
        &Config {
            format,
            size,
            seed: 7,
            days: 7,
        },
        std::fs::File::create(&path).unwrap(),
    );
    (dir, path, truth)
}

fn run(path: &std::path::Path, chunk: usize) -> LogSummary {
    let opts = Options {
        chunk_size: chunk,
        ..Options::default()
    };
    analyze(&[Input::Path(path.display().to_string())], &opts, &|_| {})
        .unwrap()
        .into_summary()
}

fn check(s: &LogSummary, t: &Value) {
    assert_eq!(s.requests, t["requests"].as_u64().unwrap(), "requests");
    assert_eq!(
        s.unparsed,
        t["unparsed"].as_u64().unwrap(),
        "unparsed lines"
    );
    assert_eq!(
        s.auth_denials,
        t["auth_denials"].as_u64().unwrap(),
        "401/403/407"
    );
    assert_eq!(
        s.handshake_noise,
        t["handshake_noise"].as_u64().unwrap(),
        "handshake noise"
    );
    assert_eq!(
        s.real_failures,
        t["real_failures"].as_u64().unwrap(),
        "real failures"
    );
    for (status, n) in t["by_status"].as_object().unwrap() {
        let got = s
            .by_status
            .iter()
            .find(|(st, _)| st.to_string() == *status)
            .map(|(_, c)| *c);
        assert_eq!(got, n.as_u64(), "status {status}");
    }
    for (code, n) in t["by_code"].as_object().unwrap() {
        let got = s
            .by_code
            .iter()
            .find(|c| format!("{} {} {}", c.status, c.substatus, c.win32) == *code)
            .map(|c| c.count);
        assert_eq!(got, n.as_u64(), "code {code}");
    }
    for (kind, table) in [("top_users", &s.by_user), ("top_ips", &s.by_ip)] {
        for pair in t[kind].as_array().unwrap().iter().take(3) {
            let (key, n) = (pair[0].as_str().unwrap(), pair[1].as_u64().unwrap());
            assert_eq!(
                table.iter().find(|k| k.key == key).map(|k| k.count),
                Some(n),
                "{kind} {key}"
            );
        }
    }
    assert!(!s.approximate);
}

#[test]
fn iis_counts_are_exact_across_chunk_boundaries_and_a_layout_change() {
    let (_d, path, truth) = write(Format::Iis, 6 << 20);
    for chunk in [0, 256 << 10, 64 << 10] {
        check(&run(&path, chunk), &truth);
    }
}

#[test]
fn ncsa_and_json_counts_are_exact() {
    let (_d, path, truth) = write(Format::Ncsa, 4 << 20);
    check(&run(&path, 128 << 10), &truth);
    let (_d, path, truth) = write(Format::Json, 1 << 20);
    check(&run(&path, 0), &truth);
}

#[test]
fn gzip_and_zstd_read_the_same() {
    let (dir, path, truth) = write(Format::Iis, 2 << 20);
    let raw = std::fs::read(&path).unwrap();
    let gz = dir.path().join("access.log.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    e.write_all(&raw).unwrap();
    e.finish().unwrap();
    check(&run(&gz, 0), &truth);
    let zst = dir.path().join("access.log.zst");
    std::fs::write(&zst, zstd::encode_all(&raw[..], 1).unwrap()).unwrap();
    check(&run(&zst, 0), &truth);
}

fn incidents(format: Format) {
    let (_d, path, truth) = write(format, 8 << 20);
    let s = run(&path, 0);
    let findings = why401_doctor::logs::diagnose(&s, &Thresholds::default());
    let has = |id: &str, needle: &str| {
        findings.iter().any(|f| {
            f.id == id
                && (f.title.contains(needle) || f.evidence.iter().any(|e| e.contains(needle)))
        })
    };
    // Only the injected incidents: every finding of these kinds names its injected source.
    let only = |id: &str, needle: &str| {
        findings
            .iter()
            .filter(|f| f.id == id)
            .all(|f| f.title.contains(needle))
    };
    let inj = &truth["injected"];
    let brute = inj["brute_force"]["ip"].as_str().unwrap();
    let spray = inj["password_spray"]["ip"].as_str().unwrap();
    assert!(has("brute-force", brute), "{findings:#?}");
    assert!(only("brute-force", brute), "{findings:#?}");
    assert!(has("password-spray", spray), "{findings:#?}");
    assert!(only("password-spray", spray), "{findings:#?}");
    assert!(has("credential-stuffing", "sources"), "{findings:#?}");
    if format == Format::Iis {
        // Only IIS logs the win32 status that says "locked out".
        assert!(has("account-lockout", "jsmith"), "{findings:#?}");
    }
    assert!(only("account-lockout", "jsmith"), "{findings:#?}");
    assert!(has("stuck-client", "svc-backup"), "{findings:#?}");
    assert!(only("stuck-client", "svc-backup"), "{findings:#?}");
    assert!(has("unparsed-lines", ":"), "{findings:#?}");
    if format == Format::Iis {
        assert!(has("handshake-noise", "handshake"), "{findings:#?}");
    }
    let regression = findings
        .iter()
        .find(|f| f.id == "auth-regression")
        .expect("auth-regression");
    assert!(
        regression
            .evidence
            .iter()
            .any(|e| e.contains("/api/v2/orders") || e.contains("OrderSync")),
        "{regression:#?}"
    );
}

#[test]
fn the_injected_incidents_are_found_and_nothing_else() {
    incidents(Format::Iis);
}

#[test]
fn the_injected_incidents_are_found_in_ncsa_too() {
    incidents(Format::Ncsa);
}
