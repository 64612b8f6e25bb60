//! Inputs the user gave are honoured or refused, never silently changed: bad headers, methods,
//! `--cacert` files and proxy variables are exit 2 naming them, with nothing sent; a closed
//! output pipe ends quietly; bytes that are not UTF-8 are decoded and named.

mod common;

use std::io::{BufRead, BufReader, ErrorKind};
use std::net::TcpListener;
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use common::{Reply, ScriptedServer, tls_with_ca};
use why401_wire::b64;

const PROXY_VARS: [&str; 8] = [
    "http_proxy",
    "HTTP_PROXY",
    "https_proxy",
    "HTTPS_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
];

/// The binary with no proxy from the test's own environment and no colour.
fn why401() -> Command {
    let mut c = Command::cargo_bin("why401").unwrap();
    c.env("NO_COLOR", "1");
    for v in PROXY_VARS {
        c.env_remove(v);
    }
    c
}

/// A loopback listener nobody answers on: it proves whether the probe connected at all.
struct Silent(TcpListener);

impl Silent {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Silent(l)
    }

    fn url(&self, scheme: &str) -> String {
        format!(
            "{scheme}://127.0.0.1:{}/",
            self.0.local_addr().unwrap().port()
        )
    }

    /// Whether a connection is waiting: the kernel completes the handshake before `accept`.
    fn was_connected(&self) -> bool {
        match self.0.accept() {
            Ok(_) => true,
            Err(e) if e.kind() == ErrorKind::WouldBlock => false,
            Err(e) => panic!("accept: {e}"),
        }
    }
}

/// Runs `cmd`, expects exit 2 and returns stderr. Callers pass `--timeout 1` so that a build
/// that wrongly probes fails fast instead of waiting on the silent listener.
fn refused(mut cmd: Command) -> String {
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

#[test]
fn the_silent_listener_does_see_a_probe() {
    // The control for the tests below: a request that can be sent does connect.
    let target = Silent::new();
    let out = why401()
        .args([&target.url("http"), "--no-siblings", "--timeout", "0.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(target.was_connected());
}

#[test]
fn an_invalid_header_or_method_is_refused_before_anything_is_sent() {
    let target = Silent::new();
    let url = target.url("http");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["-H", "X Bad: 1"], "header name \"X Bad\" is not valid"),
        (
            vec!["-H", "X-Ok: a\u{1}b"],
            "header X-Ok: the value has the control character",
        ),
        (
            vec!["-H", "no colon"],
            "header \"no colon\": a header is 'Name: value'",
        ),
        (
            vec!["-H", "Host: elsewhere.example"],
            "Host: \"elsewhere.example\"",
        ),
        (vec!["-X", "GE T"], "method \"GE T\" is not valid"),
        (
            vec!["-X", "GET\r\nX-Injected: 1"],
            "method \"GET\\r\\nX-INJECTED: 1\" is not valid",
        ),
        (vec!["-b", "sid=a\u{7f}b"], "cookie \"sid\""),
        (
            vec!["--bearer", "abc\u{1b}def"],
            "the bearer token has the control character",
        ),
        (
            vec!["--bearer", "abc", "-H", "Authorization: Basic YWxpY2U6cHc="],
            "--bearer and -H 'Authorization: …' both give the request's credentials",
        ),
    ];
    for (args, message) in cases {
        let mut cmd = why401();
        cmd.arg(&url)
            .args(&args)
            .args(["--no-siblings", "--timeout", "1"]);
        let stderr = refused(cmd);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!target.was_connected(), "{args:?} connected");
    }
    // The same through "Copy as cURL", on stdin and as arguments.
    let mut cmd = why401();
    cmd.args(["curl", "--no-siblings", "--timeout", "1"])
        .write_stdin(format!("curl '{url}' -H 'accept: */*' -H 'Bad Name: v'"));
    assert!(refused(cmd).contains("header name \"Bad Name\" is not valid"));
    let mut cmd = why401();
    cmd.args([
        "curl",
        "--no-siblings",
        "--timeout",
        "1",
        "--",
        "curl",
        &url,
        "-X",
        "A B",
    ]);
    assert!(refused(cmd).contains("method \"A B\" is not valid"));
    assert!(!target.was_connected());
}

#[test]
fn a_non_ascii_header_value_and_an_unusual_method_are_sent_as_given() {
    // The checks refuse only what cannot be sent: these go out as given.
    let server = ScriptedServer::start(|_| Reply::new(200));
    let out = why401()
        .args([
            &server.url("/dav/"),
            "-X",
            "PROPFIND",
            "-H",
            "X-Display-Name: José",
            "-H",
            &format!("Host: 127.0.0.1:{}", server.port),
            "--no-siblings",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let sent = server.requests();
    assert_eq!(
        (sent[0].method.as_str(), sent[0].target.as_str()),
        ("PROPFIND", "/dav/")
    );
    assert_eq!(sent[0].header("x-display-name"), Some("José"));
}

#[test]
fn an_unusable_cacert_is_refused_by_name_and_why() {
    let target = Silent::new();
    let url = target.url("https");
    let dir = tempfile::tempdir().unwrap();
    let (_, ca_pem) = tls_with_ca("Inputs Test CA");
    let der = b64::decode_standard(
        &ca_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>(),
    )
    .unwrap();
    let files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.txt",
            b"just some text\n".to_vec(),
            "no PEM certificate in it",
        ),
        ("ca.der", der, "it looks like a DER certificate, not PEM"),
        (
            "damaged.pem",
            b"-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----\n".to_vec(),
            "the PEM in it is damaged",
        ),
        (
            "bundle.pem",
            format!("{ca_pem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .into_bytes(),
            "certificate 2 in it is not a valid certificate",
        ),
    ];
    let mut cases = vec![(dir.path().join("missing.pem"), "no such file")];
    for (name, content, why) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        cases.push((path, why));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let locked = dir.path().join("locked.pem");
        std::fs::write(&locked, &ca_pem).unwrap();
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        // Root reads it anyway; then there is nothing to test.
        if std::fs::read(&locked).is_err() {
            cases.push((locked, "permission denied"));
        }
    }
    for (path, why) in cases {
        let mut cmd = why401();
        cmd.arg(&url)
            .arg("--cacert")
            .arg(&path)
            .args(["--no-siblings", "--timeout", "1"]);
        let stderr = refused(cmd);
        let want = format!("--cacert {}: {why}", path.display());
        assert!(stderr.contains(&want), "want {want:?} in {stderr}");
        assert!(!target.was_connected(), "{} connected", path.display());
    }
    // `--cacert` in a copied curl command is used too, not skipped.
    let mut cmd = why401();
    let notes = dir.path().join("notes.txt");
    cmd.args([
        "curl",
        "--no-siblings",
        "--timeout",
        "1",
        "--",
        "curl",
        &url,
        "--cacert",
    ])
    .arg(&notes);
    assert!(refused(cmd).contains("no PEM certificate in it"));
    assert!(!target.was_connected());
}

#[test]
fn a_good_cacert_from_a_copied_curl_command_is_trusted() {
    let (tls, ca_pem) = tls_with_ca("Inputs Test CA");
    let server = ScriptedServer::start_tls(tls, |_| Reply::new(200));
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let out = why401()
        .args(["curl", "--no-siblings", "--", "curl", &url, "--cacert"])
        .arg(&ca)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_malformed_proxy_variable_is_refused_by_name_and_redacted() {
    let target = Silent::new();
    let cases = [
        (
            "HTTP_PROXY",
            "http://bob:s3cret@proxy.corp:port",
            "http",
            "not a proxy URL",
        ),
        (
            "http_proxy",
            "http://bob:s3cret@",
            "http",
            "not a proxy URL",
        ),
        (
            "HTTPS_PROXY",
            "proxy.corp:99999",
            "https",
            "not a proxy URL",
        ),
        (
            "ALL_PROXY",
            "socks5://127.0.0.1:1080",
            "http",
            "socks5 proxies are not supported",
        ),
        (
            "all_proxy",
            "http://proxy.corp:3128/pac.js",
            "https",
            "no path",
        ),
        ("NO_PROXY", "localhost,<local>", "http", "entry `<local>`"),
        ("no_proxy", "10.0.0.0/40", "http", "entry `10.0.0.0/40`"),
    ];
    for (var, value, scheme, why) in cases {
        let mut cmd = why401();
        cmd.arg(target.url(scheme))
            .args(["--no-siblings", "--timeout", "1"])
            .env(var, value);
        let stderr = refused(cmd);
        let shown = value.replace("bob:s3cret@", "***@");
        assert!(
            stderr.contains(&format!("{var}={shown}: ")) && stderr.contains(why),
            "{var}={value}: {stderr}"
        );
        assert!(!stderr.contains("s3cret"), "{stderr}");
        assert!(!target.was_connected(), "{var}={value} connected");
    }
    // `-x` decides, so a variable that is not read is not judged.
    let mut cmd = why401();
    cmd.arg(target.url("http"))
        .args(["-x", "ftp://proxy:21", "--no-siblings", "--timeout", "1"])
        .env("HTTP_PROXY", "::");
    assert!(refused(cmd).contains("--proxy ftp://proxy:21: ftp proxies are not supported"));
}

#[test]
fn credentials_in_a_proxy_variable_answer_the_proxy() {
    let want = format!("Basic {}", b64::encode(b"bob:p@ss"));
    let proxy = ScriptedServer::start(move |r| match r.header("proxy-authorization") {
        Some(a) if a == want => Reply::new(200),
        _ => Reply::new(407).header("Proxy-Authenticate", r#"Basic realm="proxy""#),
    });
    let out = why401()
        .args(["http://origin.invalid/x", "--no-siblings"])
        .env(
            "HTTP_PROXY",
            format!("http://bob:p%40ss@127.0.0.1:{}", proxy.port),
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let seen = proxy.requests();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(seen[1].target, "http://origin.invalid/x");
}

/// Runs the binary with stdout a pipe whose reader has already gone.
fn into_closed_pipe(args: &[&str]) -> std::process::Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    StdCommand::new(assert_cmd::cargo::cargo_bin("why401"))
        .args(args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_reader_that_stops_early_ends_the_output_quietly() {
    // `why401 explain --list | head -1`. The JSON list is larger than a pipe's buffer, so its
    // writer is certainly still writing when the reader goes; the text list may fit whole.
    for args in [&["explain", "--list"][..], &["explain", "--list", "--json"]] {
        let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("why401"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty());
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).as_ref()
            ),
            (Some(0), ""),
            "{args:?}"
        );
    }
    // Every command's output: the reader gone before the first byte.
    let jwt = format!(
        "{}.{}.c2ln",
        b64::encode_url(br#"{"alg":"none"}"#),
        b64::encode_url(br#"{"exp":1}"#)
    );
    let commands: [&[&str]; 7] = [
        &["explain", "--list"],
        &["explain", "--list", "--json"],
        &["explain", "401.2"],
        &["decode", &jwt],
        &["decode", "--json", &jwt],
        &["completions", "bash"],
        &["man"],
    ];
    for args in commands {
        let out = into_closed_pipe(args);
        assert_eq!(
            (
                out.status.code(),
                String::from_utf8_lossy(&out.stderr).as_ref()
            ),
            (Some(0), ""),
            "{args:?}"
        );
    }
}

#[test]
fn bytes_that_are_not_utf8_are_decoded_and_named() {
    let line: &[u8] = b"WWW-Authenticate: Basic realm=\"Soci\xe9t\xe9\"";
    let out = why401().arg("decode").write_stdin(line).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{:?}", out.stderr);
    assert!(stdout.contains("realm   Société"), "{stdout}");
    assert!(
        stdout.contains(
            "warning[non-utf8-bytes]: 2 bytes are not UTF-8 (the first, 0xE9, at offset 35)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("offset 37: byte 0xE9, read as 'é' (U+00E9)"));
    #[cfg(unix)]
    {
        use std::ffi::OsString;
        use std::os::unix::ffi::OsStringExt;
        let out = why401()
            .args(["decode", "--json"])
            .arg(OsString::from_vec(b"Basic realm=\"caf\xe9\"".to_vec()))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["findings"][0]["id"], "non-utf8-bytes");
        assert_eq!(
            j["findings"][0]["title"],
            "byte 0xE9 at offset 16 is not UTF-8; read as ISO-8859-1 'é'"
        );
        assert!(j["items"][0]["input"].as_str().unwrap().contains("café"));
    }
}
