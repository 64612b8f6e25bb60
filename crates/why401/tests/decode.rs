//! `why401 decode`, end to end through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;
use why401_wire::b64;

fn why401() -> Command {
    let mut c = Command::cargo_bin("why401").unwrap();
    c.env("NO_COLOR", "1");
    c
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn jwt(claims: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64::encode_url(br#"{"alg":"RS256","typ":"at+jwt"}"#),
        b64::encode_url(claims.as_bytes())
    )
}

#[test]
fn expired_jwt_exit_1_and_says_by_how_much() {
    let t = jwt(&format!(
        r#"{{"iss":"https://idp.example","aud":"api://orders","exp":{},"iat":{}}}"#,
        now() - 7200,
        now() - 10800
    ));
    why401()
        .args(["decode", &t])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error[token-expired]: the token expired 2h 0m ago",
        ))
        .stdout(predicate::str::contains("c2lnbmF0dXJl").not());
}

#[test]
fn show_secrets_prints_the_token() {
    let t = jwt(&format!(r#"{{"exp":{}}}"#, now() + 3600));
    why401()
        .args(["decode", "--show-secrets", &t])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("c2lnbmF0dXJl"));
}

#[test]
fn expectations() {
    let t = jwt(&format!(
        r#"{{"aud":"api://billing","scp":"read","exp":{}}}"#,
        now() + 3600
    ));
    why401()
        .args([
            "decode",
            &t,
            "--expect-audience",
            "api://orders",
            "--expect-scope",
            "write",
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "error[token-audience-mismatch]: the token is for api://billing, not api://orders",
        ))
        .stdout(predicate::str::contains("insufficient-scope"));
}

#[test]
fn several_headers_on_stdin() {
    let input = "HTTP/1.1 401 Unauthorized\nWWW-Authenticate: NTLM,Basic realm=\"\"\nSet-Cookie: sid=1; SameSite=None\n";
    // The status line is not an auth header: reported, and the exit says the input was partly unreadable.
    why401()
        .arg("decode")
        .write_stdin(input)
        .assert()
        .code(2)
        .stdout(predicate::str::contains("several-challenges-in-one-field"))
        .stdout(predicate::str::contains("cookie-insecure-samesite-none"))
        .stdout(predicate::str::contains("line 1:"));
}

#[test]
fn basic_without_colon_and_bad_base64() {
    why401()
        .args(["decode", "Authorization: Basic YWxpY2U="])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("no `:` between user and password"));
    why401()
        .args(["decode", "Authorization: Basic !!!"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("not base64"));
}

#[test]
fn unrecognised_input_exits_2() {
    why401()
        .args(["decode", "hello there"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains("cannot tell what"));
}

#[test]
fn json_output_is_the_documented_envelope() {
    let out = why401()
        .args([
            "decode",
            "--json",
            r#"WWW-Authenticate: Bearer error="invalid_token", error_description="expired""#,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["version"], 1);
    assert_eq!(j["outcome"], "problem");
    assert_eq!(j["findings"][0]["id"], "server-rejected-token");
    assert_eq!(j["findings"][0]["severity"], "error");
    assert!(j["findings"][0]["confidence"].as_f64().unwrap() > 0.5);
}

#[test]
fn completions_and_man_page() {
    why401()
        .args(["completions", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("why401"));
    why401()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::contains(".TH why401"));
    // --help lists only commands that work.
    why401()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("explain"))
        .stdout(predicate::str::contains("decode"));
}

#[test]
fn a_keytab_written_by_ktutil_is_decoded_without_its_keys() {
    // MIT ktutil wrote it (addent -password, kvno 3, AES-256 and AES-128), from "lab-secret".
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/ktutil-http-web-corp-example-kvno3.keytab");
    let bytes = std::fs::read(&path).unwrap();
    for out in [
        Command::cargo_bin("why401")
            .unwrap()
            .args(["decode", "--json"])
            .arg(&path)
            .output()
            .unwrap(),
        Command::cargo_bin("why401")
            .unwrap()
            .args(["decode", "--json"])
            .write_stdin(bytes.clone())
            .output()
            .unwrap(),
    ] {
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let keytab = &j["items"][0];
        assert_eq!(keytab["what"], "Kerberos keytab");
        let entries = keytab["children"].as_array().unwrap();
        assert_eq!(entries.len(), 2, "{j}");
        let text = j.to_string();
        assert!(
            text.contains("HTTP/web.corp.example@CORP.EXAMPLE"),
            "{text}"
        );
        assert!(text.contains("18 (aes256-cts-hmac-sha1-96)"), "{text}");
        assert!(text.contains("17 (aes128-cts-hmac-sha1-96)"), "{text}");
        assert!(text.contains("\"3\""), "kvno 3: {text}");
        // The last entry's 16-byte AES-128 key sits just before its 32-bit kvno: never shown.
        let key = &bytes[bytes.len() - 16 - 4..bytes.len() - 4];
        assert!(!text.contains(&hex(key)), "key bytes leaked");
    }
    // Cut short: said, with where, and exit 2.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("decode")
        .write_stdin(bytes[..bytes.len() - 10].to_vec())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(said.contains("cut short in the entry at byte 95"), "{said}");
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn a_credential_cache_written_by_kinit_is_decoded_without_its_keys() {
    // kinit alice@LAB.TEST against a throwaway MIT KDC, then `kvno HTTP/web.lab.test`: the TGT,
    // a service ticket and MIT's fast_avail configuration entry. The realm is gone.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kinit-alice-lab-test-tgt-and-http.ccache");
    let run = |at: &str| {
        let out = Command::cargo_bin("why401")
            .unwrap()
            .args(["decode", "--json", "--at", at])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let j = run("2026-12-06T09:00:00Z");
    let cc = &j["items"][0];
    assert_eq!(cc["what"], "Kerberos credential cache");
    let text = j.to_string();
    assert!(text.contains("alice@LAB.TEST"), "{text}");
    let tickets: Vec<&serde_json::Value> = cc["children"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["what"] == "ticket")
        .collect();
    assert_eq!(tickets.len(), 2, "{text}");
    assert_eq!(tickets[0]["input"], "krbtgt/LAB.TEST@LAB.TEST");
    assert_eq!(tickets[1]["input"], "HTTP/web.lab.test@LAB.TEST");
    assert!(text.contains("initial"), "{text}");
    assert!(text.contains("valid for 23h"), "{text}");
    assert!(text.contains("ticket kvno"), "{text}");
    assert!(text.contains("MIT's own bookkeeping"), "{text}");
    // Two days later the same tickets are expired, and it says so.
    let text = run("2026-12-08T09:00:00Z").to_string();
    assert!(text.contains("expired 1d 0h ago: kinit again"), "{text}");
}
