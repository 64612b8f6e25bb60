//! The JSON outputs are a contract (`docs/json.md`): each command's shape is pinned by a snapshot
//! (`tests/snapshots/`), so a change to it is a reviewed diff (`cargo insta review`), never an
//! accident. Values that differ from run to run (ports, timings, temporary paths) are replaced
//! before the comparison; everything else is compared as written.

mod common;

use assert_cmd::Command;
use common::{Reply, ScriptedServer};
use serde_json::Value;

/// Runs the binary and parses its JSON, with each `(from, to)` of `replace` applied to the text.
fn json(args: &[&str], env: &[(&str, &str)], replace: &[(&str, &str)]) -> (i32, Value) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(args)
        .envs(env.iter().copied())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let mut text = String::from_utf8(out.stdout).unwrap();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let value = serde_json::from_str(&text).unwrap_or_else(|e| {
        panic!("{e}: {text}{}", String::from_utf8_lossy(&out.stderr));
    });
    (out.status.code().unwrap_or(-1), value)
}

#[test]
fn probe_basic_handshake() {
    let server = ScriptedServer::start(|r| match r.header("authorization") {
        Some("Basic YWxpY2U6czNjcmV0") => Reply::new(200),
        _ => Reply::new(401).header("WWW-Authenticate", r#"Basic realm="contract""#),
    });
    let url = server.url("/reports/");
    let (code, j) = json(
        &[&url, "-u", "alice", "--json", "--no-siblings"],
        &[("WHY401_PASSWORD", "s3cret")],
        &[(&format!("127.0.0.1:{}", server.port), "127.0.0.1:PORT")],
    );
    assert_eq!(code, 0);
    insta::assert_json_snapshot!(j, {
        ".exchanges[].elapsed_ms" => "[ms]",
        ".dns.addresses" => "[addresses]",
    });
}

#[test]
fn probe_wrong_password() {
    let server = ScriptedServer::start(|_| {
        Reply::new(401).header("WWW-Authenticate", r#"Basic realm="contract""#)
    });
    let url = server.url("/");
    let (code, j) = json(
        &[&url, "-u", "alice", "--json", "--no-siblings"],
        &[("WHY401_PASSWORD", "wrong")],
        &[(&format!("127.0.0.1:{}", server.port), "127.0.0.1:PORT")],
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(j, {
        ".exchanges[].elapsed_ms" => "[ms]",
        ".dns.addresses" => "[addresses]",
    });
}

#[test]
fn explain_iis_substatus() {
    let (code, j) = json(&["explain", "401.2", "--json"], &[], &[]);
    assert_eq!(code, 0);
    insta::assert_json_snapshot!(j);
}

#[test]
fn explain_a_sample_of_aadsts_codes() {
    // MFA required, conditional access, consent, an expired refresh token, a wrong password,
    // and one pasted as Entra's error_description.
    let mut pages = Vec::new();
    for q in [
        "AADSTS50076",
        "53003",
        "AADSTS65001",
        "AADSTS700082: The refresh token has expired due to inactivity.",
        "aadsts:50126",
    ] {
        let (code, j) = json(&["explain", q, "--json"], &[], &[]);
        assert_eq!(code, 0, "{q}: {j}");
        pages.push(j);
    }
    insta::assert_json_snapshot!(pages);
}

#[test]
fn explain_log_triple() {
    let (code, j) = json(&["explain", "401 1 2148074254", "--json"], &[], &[]);
    assert_eq!(code, 0);
    insta::assert_json_snapshot!(j);
}

#[test]
fn explain_kerberos_failure_code() {
    let (code, j) = json(&["explain", "Failure Code: 0x18", "--json"], &[], &[]);
    assert_eq!(code, 0);
    insta::assert_json_snapshot!(j);
}

#[test]
fn decode_two_challenges() {
    let (code, j) = json(
        &[
            "decode",
            r#"WWW-Authenticate: Basic realm="intranet", Bearer error="invalid_token", error_description="expired""#,
            "--json",
        ],
        &[],
        &[],
    );
    assert_eq!(code, 1);
    insta::assert_json_snapshot!(j);
}

#[test]
fn logs_iis_sample() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("u_ex261201.log");
    std::fs::write(
        &path,
        "#Software: Microsoft Internet Information Services 10.0\n\
         #Version: 1.0\n\
         #Date: 2026-12-01 08:00:00\n\
         #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n\
         2026-12-01 08:00:01 10.0.0.5 GET /reports/ - 443 - 10.1.2.3 Mozilla/5.0 - 401 2 5 3\n\
         2026-12-01 08:00:01 10.0.0.5 GET /reports/ - 443 - 10.1.2.3 Mozilla/5.0 - 401 1 2148074254 1\n\
         2026-12-01 08:00:01 10.0.0.5 GET /reports/ - 443 CORP\\alice 10.1.2.3 Mozilla/5.0 - 200 0 0 12\n\
         2026-12-01 08:00:05 10.0.0.5 GET /reports/ - 443 CORP\\bob 10.1.2.9 Mozilla/5.0 - 401 1 1326 4\n\
         2026-12-01 08:00:06 10.0.0.5 GET /admin/ - 443 CORP\\bob 10.1.2.9 Mozilla/5.0 - 401 3 5 2\n",
    )
    .unwrap();
    let (code, j) = json(
        &["logs", path.to_str().unwrap(), "--json"],
        &[],
        &[(dir.path().to_str().unwrap(), "[dir]")],
    );
    // Three real failures set off no detector: the tables say it all, the exit status is 0.
    assert_eq!(code, 0);
    insta::assert_json_snapshot!(j);
}
