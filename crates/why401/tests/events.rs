//! `why401 logs` with Windows event logs: the public `.evtx` samples counted as `evtx_dump` (the
//! evtx crate's own CLI) counts them, a corrupt chunk reported where it is, and a generated IIS
//! log with the events behind it joined through the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command as Std;

use assert_cmd::Command;
use serde_json::Value;
use why401_loggen::{Config, Format, Sinks, generate_joined};

fn why401(args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("logs")
        .args(args)
        .arg("--json")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let j = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{stderr}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap_or(-1), j, stderr)
}

/// Records per event id as `evtx_dump -o jsonl` prints them.
fn evtx_dump(path: &Path) -> BTreeMap<u64, u64> {
    let out = Std::new("evtx_dump")
        .args(["-o", "jsonl", "-t", "1"])
        .arg(path)
        .output()
        .expect("evtx_dump is installed (scripts/peers.sh: cargo install evtx)");
    let mut by_id = BTreeMap::new();
    for line in out.stdout.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        let id = &v["Event"]["System"]["EventID"];
        let id = id
            .as_u64()
            .or_else(|| id["#text"].as_u64())
            .or_else(|| id.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or_else(|| {
                panic!(
                    "an EventID in {line:?}",
                    line = String::from_utf8_lossy(line)
                )
            });
        *by_id.entry(id).or_default() += 1;
    }
    by_id
}

#[test]
#[ignore = "reads the public .evtx samples in ../shared/fixtures and runs evtx_dump (scripts/test.sh)"]
fn shared_fixtures_evtx_counts_equal_evtx_dumps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/evtx");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("../shared/fixtures is present")
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        let (code, j, stderr) = why401(&[f.to_str().unwrap()]);
        let ours: BTreeMap<u64, u64> = j["events"]["by_id"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| (i["id"].as_u64().unwrap(), i["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(ours, evtx_dump(&f), "{name}: records per event id");
        if name == "sample_with_a_bad_chunk_magic.evtx" {
            // The corrupt chunks are counted, named and make the run exit 2.
            assert_eq!(code, 2, "{name}: {stderr}");
            let problems = j["events"]["problems"].as_array().unwrap();
            assert!(j["events"]["unreadable"].as_u64().unwrap() >= 1);
            assert!(
                problems
                    .iter()
                    .all(|p| p["file"].as_str().unwrap().ends_with(&name)
                        && p["place"].as_str().unwrap().starts_with("chunk ")),
                "{problems:?}"
            );
        } else {
            assert!(code == 0 || code == 1, "{name}: exit {code}: {stderr}");
            assert_eq!(j["events"]["unreadable"], 0, "{name}");
        }
    }
}

/// A generated IIS log and the Windows events behind it, in a directory.
fn generated() -> (tempfile::TempDir, Value) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("events")).unwrap();
    let open = |n: &str| std::fs::File::create(dir.path().join("events").join(n)).unwrap();
    let (mut web, mut dc, mut system) = (
        open("WEB01-Security.xml"),
        open("DC01-Security.xml"),
        open("System.xml"),
    );
    let truth = generate_joined(
        &Config {
            format: Format::Iis,
            size: 2 << 20,
            seed: 11,
            days: 7,
        },
        std::fs::File::create(dir.path().join("u_ex.log")).unwrap(),
        Some(Sinks {
            web: &mut web,
            dc: &mut dc,
            system: &mut system,
        }),
    );
    (dir, truth)
}

#[test]
fn an_iis_log_and_its_event_logs_are_joined_by_one_command() {
    let (dir, truth) = generated();
    let log = dir.path().join("u_ex.log");
    let events = dir.path().join("events");
    let html = dir.path().join("report.html");
    let (code, j, stderr) = why401(&[
        log.to_str().unwrap(),
        events.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    let c = &j["events"]["correlation"];
    let t = &truth["events"]["correlation"];
    for k in [
        "logon_lines",
        "matched",
        "matched_without_address",
        "unmatched",
    ] {
        assert_eq!(c[k], t[k], "{k}");
    }
    assert_eq!(c["window_secs"], 2);
    let ids: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "lockout-source", "{ids:?}");
    assert!(j["summary"]["requests"].as_u64().unwrap() > 1000);
    // The report holds the events next to the access log, on one time axis.
    let page = std::fs::read_to_string(&html).unwrap();
    for id in [
        "id=\"events\"",
        "id=\"match-rate\"",
        "id=\"why-by-user\"",
        "logon failure events",
        "id=\"codes\"",
    ] {
        assert!(page.contains(id), "{id} missing from the report");
    }

    // --user keeps one account's events; the join then has fewer events to match.
    let (_, j, _) = why401(&[
        log.to_str().unwrap(),
        events.to_str().unwrap(),
        "--user",
        "jsmith",
    ]);
    let users: Vec<&str> = j["events"]["by_user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["CORP\\jsmith"]);
    assert!(j["events"]["filtered_out"].as_u64().unwrap() > 0);

    // Text: the match rate and the reasons per account.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", log.to_str().unwrap(), events.to_str().unwrap()])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("401.1 lines and their events (±2 s)"),
        "{text}"
    );
    assert!(text.contains("0xC000006A wrong password"), "{text}");
}

#[test]
fn event_logs_alone_and_bad_event_input() {
    let (dir, _) = generated();
    let (code, j, stderr) = why401(&[dir.path().join("events").to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(j["summary"].is_null());
    assert!(j["events"]["correlation"].is_null());
    // A cut-short export: every whole event read, the cut one reported, exit 2.
    let web = std::fs::read(dir.path().join("events/WEB01-Security.xml")).unwrap();
    let cut = dir.path().join("cut.xml");
    std::fs::write(&cut, &web[..web.len() / 2]).unwrap();
    let (code, j, _) = why401(&[cut.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert_eq!(j["events"]["unreadable"], 1);
    let p = &j["events"]["problems"][0];
    assert!(p["error"].as_str().unwrap().contains("cut short"), "{p}");
    // --follow is for access logs.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", "--follow", cut.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--follow"));
}

#[test]
fn failed_request_traces_become_iis_401_findings() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/freb");
    let files: Vec<String> = [
        "fr000001.xml",
        "fr000002.xml",
        "fr000003.xml",
        "fr000004.xml",
        "freb.xsl",
    ]
    .iter()
    .map(|f| dir.join(f).display().to_string())
    .collect();
    let args: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, j, stderr) = why401(&args);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(j["freb"]["traces"], 4, "freb.xsl is not a trace");
    let findings = j["findings"].as_array().unwrap();
    let by_id = |id: &str| {
        findings
            .iter()
            .find(|f| f["id"] == id)
            .unwrap_or_else(|| panic!("{id}: {findings:#?}"))
    };
    let f = by_id("iis-401.2-config");
    assert!(f["title"].as_str().unwrap().ends_with("(2 traces)"), "{f}");
    let evidence: Vec<&str> = f["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        evidence.contains(&"set by IIS Web Core in AUTHENTICATE_REQUEST"),
        "{evidence:?}"
    );
    assert!(
        evidence.contains(&"AUTH_REQUEST_AUTH_TYPE: RequestAuthType Anonymous"),
        "{evidence:?}"
    );
    let f = by_id("iis-401.1-logon-failed");
    assert!(
        f["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("error code 0x8007052E")),
        "{f}"
    );
    by_id("iis-401.3-acl");
    // A trace that is not one is named, and makes the run exit 2.
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("fr000009.xml");
    std::fs::write(
        &bad,
        "<?xml version=\"1.0\"?><failedRequest url=\"x\"><Event>",
    )
    .unwrap();
    let (code, j, _) = why401(&[bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        j["freb"]["unreadable"][0][1]
            .as_str()
            .unwrap()
            .contains("not well-formed")
    );
}

#[test]
fn decode_reads_one_failed_request_trace() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/freb/fr000004.xml");
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["decode", file.to_str().unwrap(), "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["findings"][0]["id"], "iis-401.3-acl");
    assert_eq!(j["trace"]["module"], "StaticFileModule");
    assert_eq!(j["trace"]["notification"], "EXECUTE_REQUEST_HANDLER");
}
