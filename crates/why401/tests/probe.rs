//! The probe, end to end through the real binary, against scripted servers that misbehave in
//! the ways real ones do: split NTLM handshakes, TLS interception, skewed clocks, stale nonces,
//! login pages, URL variants, silence.

mod common;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use assert_cmd::Command;
use common::{Reply, ScriptedServer, json_of, tls_with_ca};
use serde_json::Value;
use why401_wire::{b64, ntlm};

fn probe(args: &[&str]) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .arg("--json")
            .output()
            .unwrap(),
    )
}

fn ids(j: &Value) -> Vec<String> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[test]
fn ntlm_challenge_with_connection_close_splits_the_handshake() {
    let server = ScriptedServer::start(|r| match r.header("authorization") {
        Some(a) if a.starts_with("NTLM ") => {
            let bytes = b64::decode_standard(&a[5..]).unwrap();
            match ntlm::decode(&bytes) {
                Ok(ntlm::Message::Negotiate(_)) => {
                    let ch = ntlm::encode_challenge(
                        0xe2898215,
                        "CORP",
                        [1; 8],
                        &[ntlm::AvPair::NbDomainName("CORP".into())],
                    );
                    // A load balancer that closes the connection after the challenge.
                    Reply::new(401)
                        .header("WWW-Authenticate", &format!("NTLM {}", b64::encode(&ch)))
                        .header("Connection", "close")
                }
                // The AUTHENTICATE arrives on a new connection: the server no longer knows the challenge.
                _ => Reply::new(401).header("WWW-Authenticate", "NTLM"),
            }
        }
        _ => Reply::new(401).header("WWW-Authenticate", "NTLM"),
    });
    let (code, j) = probe(&[
        &server.url("/"),
        "-u",
        "CORP\\alice:s3cret",
        "--no-siblings",
    ]);
    assert_eq!(code, 1);
    assert!(
        ids(&j).contains(&"ntlm-connection-reset".to_string()),
        "{j}"
    );
    let conns: Vec<&Value> = j["exchanges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["connection"])
        .collect();
    assert_ne!(
        conns[1], conns[2],
        "the third leg had to use a new connection: {j}"
    );
}

#[test]
fn tls_interception_is_named_with_and_without_trust() {
    let (tls, ca_pem) = tls_with_ca("Zscaler Root CA");
    let server = ScriptedServer::start_tls(tls, |_| Reply::new(200));
    let url = format!("https://127.0.0.1:{}/", server.port);

    // Untrusted: the handshake fails, and the chain says why.
    let (code, j) = probe(&[&url, "--no-siblings"]);
    assert_eq!(code, 3, "{j}");
    assert_eq!(j["outcome"], "error");
    let found = ids(&j);
    assert!(
        found.contains(&"tls-failure".to_string())
            && found.contains(&"tls-interception".to_string()),
        "{j}"
    );
    assert!(
        j["tls"]["chain"][1]["subject"]
            .as_str()
            .unwrap()
            .contains("Zscaler"),
        "{j}"
    );

    // Trusted with --cacert: it works, and the interception is still reported.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let (code, j) = probe(&[&url, "--cacert", ca.to_str().unwrap(), "--no-siblings"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(ids(&j)[0], "tls-interception", "{j}");
    assert_eq!(j["tls"]["verified"], true);
}

#[test]
fn server_clock_ahead_expires_a_fresh_token() {
    let exp = now() + 120;
    let token = format!(
        "{}.{}.c2ln",
        b64::encode_url(br#"{"alg":"RS256"}"#),
        b64::encode_url(
            format!(
                r#"{{"iss":"https://idp","aud":"api","exp":{exp},"iat":{}}}"#,
                now() - 60
            )
            .as_bytes()
        )
    );
    let server_date =
        httpdate::fmt_http_date(SystemTime::now() + std::time::Duration::from_secs(600));
    let server = ScriptedServer::start(move |_| {
        Reply::new(401).header("Date", &server_date).header(
            "WWW-Authenticate",
            r#"Bearer error="invalid_token", error_description="The token is expired""#,
        )
    });
    let (code, j) = probe(&[&server.url("/api"), "--bearer", &token, "--no-siblings"]);
    assert_eq!(code, 1);
    let found = ids(&j);
    assert!(found.contains(&"clock-skew".to_string()), "{j}");
    assert!(found.contains(&"server-rejected-token".to_string()), "{j}");
    assert!(
        !j.to_string().contains(&token),
        "the token must be redacted: {j}"
    );
}

#[test]
fn stale_digest_nonce_is_retried_once() {
    let server = ScriptedServer::start(|r| {
        let challenge = |nonce: &str, stale: bool| {
            format!(
                r#"Digest realm="r", qop="auth", algorithm=SHA-256, nonce="{nonce}"{}"#,
                if stale { ", stale=true" } else { "" }
            )
        };
        match r.header("authorization") {
            None => Reply::new(401).header("WWW-Authenticate", &challenge("old", false)),
            Some(a) if a.contains(r#"nonce="old""#) => {
                Reply::new(401).header("WWW-Authenticate", &challenge("new", true))
            }
            Some(_) => Reply::new(200),
        }
    });
    let (code, j) = probe(&[&server.url("/"), "-u", "alice:pw", "--no-siblings"]);
    assert_eq!(code, 0, "{j}");
    assert!(ids(&j).contains(&"stale-nonce".to_string()), "{j}");
    assert_eq!(j["exchanges"][2]["leg"]["kind"], "stale-retry");
}

#[test]
fn html_login_form_instead_of_401() {
    let server = ScriptedServer::start(|_| {
        let mut r = Reply::new(200).header("Content-Type", "text/html");
        r.body = "<html><head><title>Sign in</title></head><form><input type=\"password\" name=\"pw\"></form></html>".into();
        r
    });
    let (code, j) = probe(&[
        &server.url("/api/data"),
        "-H",
        "Accept: application/json",
        "--no-siblings",
    ]);
    assert_eq!(
        code, 1,
        "an API answered with a login page is not access: {j}"
    );
    assert_eq!(ids(&j)[0], "redirected-to-login");
}

#[test]
fn trailing_slash_variant_answers_without_credentials() {
    let server = ScriptedServer::start(|r| match r.target.as_str() {
        "/app/" => Reply::new(200),
        _ => Reply::new(401).header("WWW-Authenticate", r#"Basic realm="old-app""#),
    });
    let (code, j) = probe(&[&server.url("/app")]);
    assert_eq!(code, 1);
    assert!(ids(&j).contains(&"url-variant".to_string()), "{j}");
    let sibling_requests = server
        .requests()
        .iter()
        .filter(|r| r.target == "/app/")
        .count();
    assert_eq!(sibling_requests, 1);
    assert!(
        server
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "siblings never carry credentials"
    );
}

#[test]
fn netscape_cookie_jar_with_wrong_path() {
    let server = ScriptedServer::start(|r| match r.header("cookie") {
        Some(c) if c.contains("sid=") => Reply::new(200),
        _ => Reply::new(401).header("WWW-Authenticate", r#"Cookie realm="app""#),
    });
    let dir = tempfile::tempdir().unwrap();
    let jar = dir.path().join("cookies.txt");
    let mut f = std::fs::File::create(&jar).unwrap();
    writeln!(
        f,
        "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/admin\tFALSE\t0\tsid\tabc"
    )
    .unwrap();
    let (code, j) = probe(&[
        &server.url("/api"),
        "-b",
        jar.to_str().unwrap(),
        "--no-siblings",
    ]);
    assert_eq!(code, 1);
    assert_eq!(ids(&j)[0], "cookie-not-sent", "{j}");
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("Path=/admin"),
        "{j}"
    );
}

#[test]
fn silence_is_a_timeout_and_exit_3() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let _held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(std::time::Duration::from_secs(30));
    });
    let (code, j) = probe(&[
        &format!("http://127.0.0.1:{port}/"),
        "--timeout",
        "0.5",
        "--no-siblings",
    ]);
    assert_eq!(code, 3, "{j}");
    assert_eq!(ids(&j)[0], "timeout");
}

#[test]
fn unresolvable_host_is_a_dns_failure() {
    let (code, j) = probe(&[
        "http://no-such-host.invalid/",
        "--timeout",
        "3",
        "--no-siblings",
    ]);
    assert_eq!(code, 3, "{j}");
    assert_eq!(ids(&j)[0], "dns-failure");
}

#[test]
fn problem_details_body_is_read() {
    let server = ScriptedServer::start(|_| {
        let mut r = Reply::new(401)
            .header("Content-Type", "application/problem+json")
            .header("WWW-Authenticate", r#"Bearer realm="api""#);
        r.body = r#"{"type":"https://example.com/probs/no-tenant","title":"Tenant not enabled for this API","status":401}"#.into();
        r
    });
    let (_, j) = probe(&[&server.url("/api"), "--no-siblings"]);
    let p = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "problem-details")
        .expect("problem-details");
    assert!(
        p["title"].as_str().unwrap().contains("Tenant not enabled"),
        "{j}"
    );
}

#[test]
fn copy_as_curl_probes_the_same_request() {
    let server = ScriptedServer::start(|r| match r.header("x-api-key") {
        Some("k1") => Reply::new(200),
        _ => Reply::new(401).header("WWW-Authenticate", r#"ApiKey realm="api""#),
    });
    let cmd = format!(
        "curl '{}' -H 'accept: application/json' -H 'x-api-key: k1' --compressed",
        server.url("/v1/items")
    );
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["curl", "--json", "--no-siblings"])
        .write_stdin(cmd)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let sent = server.requests();
    assert_eq!(sent[0].header("accept"), Some("application/json"));
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([
            "curl",
            "--json",
            "--no-siblings",
            "--",
            "curl",
            &server.url("/v1/items"),
            "-H",
            "x-api-key: wrong",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The API key header is redacted in the JSON.
    assert!(!String::from_utf8_lossy(&out.stdout).contains("wrong\""));
}

#[test]
fn password_is_never_taken_silently_from_nowhere() {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["http://127.0.0.1:1/", "-u", "alice"])
        .env_remove("WHY401_PASSWORD")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--password-stdin"));
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([
            "http://127.0.0.1:1/",
            "-u",
            "alice",
            "--password-stdin",
            "--json",
        ])
        .write_stdin("s3cret\n")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(3),
        "reached the probe with a password from stdin"
    );
}

#[test]
fn token_from_another_entra_tenant() {
    let token = format!(
        "{}.{}.c2ln",
        b64::encode_url(br#"{"alg":"RS256"}"#),
        b64::encode_url(
            format!(
                r#"{{"iss":"https://sts.windows.net/22222222-2222-2222-2222-222222222222/","tid":"22222222-2222-2222-2222-222222222222","aud":"api://orders","exp":{}}}"#,
                now() + 3600
            )
            .as_bytes()
        )
    );
    let server = ScriptedServer::start(|_| {
        Reply::new(401).header(
            "WWW-Authenticate",
            r#"Bearer authorization_uri="https://login.microsoftonline.com/11111111-1111-1111-1111-111111111111/oauth2/authorize", resource_id="api://billing", error="invalid_token""#,
        )
    });
    let (code, j) = probe(&[&server.url("/api"), "--bearer", &token, "--no-siblings"]);
    assert_eq!(code, 1);
    let found = ids(&j);
    assert!(found.contains(&"token-issuer-mismatch".to_string()), "{j}");
    assert!(
        found.contains(&"token-audience-mismatch".to_string()),
        "{j}"
    );
}

#[test]
fn credentials_never_follow_a_redirect_down_to_plain_http() {
    let plain =
        ScriptedServer::start(|_| Reply::new(401).header("WWW-Authenticate", r#"Basic realm="x""#));
    let target = plain.url("/landing");
    let (tls, ca_pem) = tls_with_ca("Lab Test CA");
    let secure =
        ScriptedServer::start_tls(tls, move |_| Reply::new(302).header("Location", &target));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let url = format!("https://127.0.0.1:{}/start", secure.port);
    let (code, j) = probe(&[
        &url,
        "--cacert",
        ca.to_str().unwrap(),
        "-u",
        "alice:s3cret",
        "--location-trusted",
        "--no-siblings",
    ]);
    assert_eq!(code, 1, "{j}");
    assert!(
        plain
            .requests()
            .iter()
            .all(|r| r.header("authorization").is_none()),
        "no credentials over plain http, even with --location-trusted"
    );
    assert_eq!(ids(&j)[0], "auth-dropped-on-redirect", "{j}");
}

#[test]
fn a_body_too_long_to_read_is_kept_in_part_and_said_so() {
    // A 5 MiB 401 page: the probe reads 4 MiB, keeps the start, and says the rest was not read,
    // instead of recording an empty body.
    let server = ScriptedServer::start(|_| {
        let mut r = Reply::new(401).header("WWW-Authenticate", r#"Basic realm="big""#);
        r.body = "<p>denied</p>".repeat(5 * 1024 * 1024 / 13 + 1);
        r
    });
    let (code, j) = probe(&[&server.url("/"), "--no-siblings"]);
    assert_eq!(code, 1, "{j}");
    let response = &j["exchanges"][0]["response"];
    assert_eq!(response["status"], 401);
    assert_eq!(response["body_len"], 4 * 1024 * 1024, "{response}");
    assert!(
        response["body_incomplete"]
            .as_str()
            .is_some_and(|w| w.contains("longer than 4 MiB")),
        "{response}"
    );
    // A short body is read whole, and says nothing.
    let small = ScriptedServer::start(|_| {
        let mut r = Reply::new(401).header("WWW-Authenticate", r#"Basic realm="small""#);
        r.body = "<p>denied</p>".into();
        r
    });
    let (_, j) = probe(&[&small.url("/"), "--no-siblings"]);
    let response = &j["exchanges"][0]["response"];
    assert_eq!(response["body_len"], 13);
    assert!(response.get("body_incomplete").is_none(), "{response}");
}

#[test]
fn resolve_pins_a_name_to_an_address_without_dns() {
    // `.test` is reserved (RFC 6761): it never resolves, so only --resolve can reach it.
    let server = ScriptedServer::start(|r| match r.header("host") {
        Some(h) if h.starts_with("intranet.test:") => Reply::new(200),
        _ => Reply::new(421),
    });
    let url = format!("http://intranet.test:{}/", server.port);
    let pin = format!("intranet.test:{}:127.0.0.1", server.port);
    let (code, j) = probe(&[&url, "--resolve", &pin, "--no-siblings"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["dns"]["pinned"], true, "{j}");
    assert_eq!(j["dns"]["addresses"][0], "127.0.0.1", "{j}");
    assert_eq!(
        server.requests()[0].header("host"),
        Some(format!("intranet.test:{}", server.port).as_str()),
        "the request names the host the user asked for"
    );
    // A pin for another port does not apply; a malformed one is refused before anything is sent.
    let other = format!("intranet.test:{}:127.0.0.1", server.port.wrapping_add(1));
    let (code, _) = probe(&[&url, "--resolve", &other, "--no-siblings", "--timeout", "2"]);
    assert_eq!(code, 3);
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([&url, "--resolve", "intranet.test:80", "--no-siblings"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resolve \"intranet.test:80\""));
}

#[test]
fn each_address_names_the_node_that_refuses() {
    // Two nodes behind one name: 127.0.0.1 takes alice's password, 127.0.0.2 (its password
    // store out of date) refuses it. Pinned with --resolve, as a farm behind DNS round robin.
    let good = ScriptedServer::start(common::farm_node(true));
    let stale = ScriptedServer::start_at(
        &format!("127.0.0.2:{}", good.port),
        common::farm_node(false),
    );
    let url = format!("http://farm.test:{}/", good.port);
    let pin = format!("farm.test:{}:127.0.0.1,127.0.0.2", good.port);
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([&url, "-u", "alice", "--resolve", &pin, "--each-address"])
        .args(["--no-siblings", "--json"])
        .env("WHY401_PASSWORD", "s3cret")
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(1), "one node refuses: {j}");
    assert_eq!(j["outcome"], "unauthorized", "{j}");
    assert_eq!(ids(&j)[0], "backend-differs", "{j}");
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .ends_with("127.0.0.2"),
        "{j}"
    );
    let backends = j["backends"].as_array().unwrap();
    assert_eq!(backends.len(), 2, "{j}");
    assert_eq!(
        (&backends[0]["status"], &backends[1]["status"]),
        (&Value::from(200), &Value::from(401)),
        "{j}"
    );
    assert!(!stale.requests().is_empty(), "the second node was asked");
    // Without --each-address the first node answers and all looks well.
    let (code, j) = probe(&[
        &url,
        "-u",
        "alice:s3cret",
        "--resolve",
        &pin,
        "--no-siblings",
    ]);
    assert_eq!(code, 0, "{j}");
    assert!(j["backends"].as_array().unwrap().is_empty());
}

#[test]
fn insufficient_scope_says_which_kind_of_permission_the_token_carries() {
    // An app-only (client credentials) token sent where a delegated scope is wanted.
    let token = format!(
        "eyJhbGciOiJIUzI1NiJ9.{}.c2ln",
        b64::encode_url(
            format!(
                r#"{{"aud":"https://graph.microsoft.com","roles":["Mail.Read"],"exp":{}}}"#,
                now() + 3600
            )
            .as_bytes()
        )
    );
    let server = ScriptedServer::start(|_| {
        Reply::new(403).header(
            "WWW-Authenticate",
            r#"Bearer error="insufficient_scope", scope="Mail.Send""#,
        )
    });
    let (code, j) = probe(&[
        &server.url("/me/sendMail"),
        "--bearer",
        &token,
        "--no-siblings",
    ]);
    assert_eq!(code, 1);
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "insufficient-scope")
        .unwrap_or_else(|| panic!("{j}"));
    assert!(
        f["evidence"].as_array().unwrap().iter().any(|e| e
            .as_str()
            .unwrap()
            .starts_with("the token is an application token: roles Mail.Read")),
        "{f}"
    );
}
