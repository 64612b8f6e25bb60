//! `why401 gate` as a user runs it: `check` on the demo policy and on a config of one's own, a
//! bad configuration refused with every error where it is, the users and their passwords, an
//! htpasswd import, and the gateway behind a real nginx with curl and the probe as clients.

use assert_cmd::Command;
use serde_json::Value;

/// `why401 gate ARGS` with a store of its own (none of the user's data is read).
fn gate(args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    gate_env(args, &dir.path().join("gate.db"), "")
}

#[test]
fn check_names_the_rule_the_misses_before_it_and_the_answer() {
    // The embedded demo: /admin/ is for group:admins, everyone else is refused there.
    let (code, out, _) = gate(&[
        "check",
        "--url",
        "http://127.0.0.1/admin/x",
        "--user",
        "bob",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bob (no group) is not group:admins"), "{out}");
    assert!(
        out.contains("match no-admin-for-others  embedded:demo.toml:23  deny"),
        "{out}"
    );
    assert!(
        out.contains("=> 403 Forbidden: bob is authenticated but not allowed"),
        "{out}"
    );

    let (code, out, _) = gate(&["check", "--url", "http://127.0.0.1/admin/x", "--json"]);
    assert_eq!(code, 1);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["needs_identity"], true);
    assert_eq!(j["rules"][0]["missed_on"], "path");
    assert_eq!(j["rules"][1]["name"], "admin");

    let (code, out, _) = gate(&["check", "--url", "http://127.0.0.1/healthz"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("=> let through without authentication"),
        "{out}"
    );
}

#[test]
fn check_reads_a_config_and_its_time_windows() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        "[[access.rule]]\nname = \"office\"\nhosts = [\"reports.example.com\"]\ntimes = [{ days = \"mon-fri\", hours = \"08:00-18:00\", tz = \"Europe/Paris\" }]\npolicy = \"bypass\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let url = "https://reports.example.com/q1";
    let (code, out, _) = gate(&[
        "check",
        "--config",
        cfg,
        "--url",
        url,
        "--at",
        "2026-12-07T09:30:00+01:00",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = gate(&[
        "check",
        "--config",
        cfg,
        "--url",
        url,
        "--at",
        "2026-12-07T07:30:00+01:00",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is outside mon-fri 08:00-18:00 Europe/Paris"),
        "{out}"
    );
    assert!(
        out.contains("no rule matched: default_policy = deny"),
        "{out}"
    );
}

#[test]
fn a_bad_config_is_refused_with_every_error_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        "[[access.rule]]\npaths = [\"x\"]\nnetworks = [\"lan\"]\npolicy = \"deny\"\n",
    )
    .unwrap();
    let (code, out, err) = gate(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--url",
        "http://a/",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty());
    let name = cfg.display().to_string();
    assert!(
        err.contains(&format!("{name}:2:10: \"x\": a path starts with `/`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:3:13: \"lan\" is not a network")),
        "{err}"
    );
    assert!(
        err.contains("2 errors: the gateway would refuse to start"),
        "{err}"
    );
}

/// `why401 gate --store STORE ARGS`, `stdin` on its standard input.
fn gate_env(args: &[&str], store: &std::path::Path, stdin: &str) -> (i32, String, String) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("gate")
        .arg("--store")
        .arg(store)
        .args(args)
        .env_remove("WHY401_GATE_PASSWORD")
        .write_stdin(stdin)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn users_are_added_with_a_policy_checked_password_and_their_groups_used_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("gate.db");
    // Never from argv: without a terminal, stdin or the environment, there is no password.
    let (code, _, err) = gate_env(&["user", "add", "alice"], &store, "");
    assert_eq!(code, 2);
    assert!(
        err.contains("use --password-stdin, set WHY401_GATE_PASSWORD"),
        "{err}"
    );
    let (code, _, err) = gate_env(
        &["user", "add", "alice", "--password-stdin"],
        &store,
        "Summer2026!\n",
    );
    assert_eq!(code, 2);
    assert!(
        err.contains("the password is refused: at least 12 characters are needed"),
        "{err}"
    );
    assert!(!store.exists(), "nothing is written for a refused password");
    let (code, out, err) = gate_env(
        &[
            "user",
            "add",
            "alice",
            "--group",
            "admins",
            "--password-stdin",
        ],
        &store,
        "a kettle, two owls and the night train\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added alice"), "{out}");
    let (code, out, _) = gate_env(&["user", "list"], &store, "");
    assert_eq!(code, 0);
    assert!(
        out.contains("alice  groups: admins  hash: argon2id"),
        "{out}"
    );
    // The password is not in the store as text, nor in the listing.
    let bytes = std::fs::read(&store).unwrap();
    assert!(!String::from_utf8_lossy(&bytes).contains("kettle"));
    let (_, out, _) = gate_env(&["user", "list", "--json"], &store, "");
    assert!(!out.contains("argon2id$"), "{out}");
    // check takes the user's groups from the store.
    let (code, out, _) = gate_env(
        &[
            "check",
            "--url",
            "http://127.0.0.1/admin/",
            "--user",
            "ALICE",
        ],
        &store,
        "",
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("as alice (groups admins)"), "{out}");
    let (code, out, _) = gate_env(
        &[
            "user", "groups", "alice", "--remove", "admins", "--add", "ops",
        ],
        &store,
        "",
    );
    assert_eq!((code, out.as_str()), (0, "alice: ops\n"));
    let (code, _, _) = gate_env(&["user", "disable", "alice"], &store, "");
    assert_eq!(code, 0);
    let (_, out, _) = gate_env(&["user", "list"], &store, "");
    assert!(out.starts_with("alice (disabled)"), "{out}");
    let (code, _, err) = gate_env(&["user", "enable", "nobody"], &store, "");
    assert_eq!(code, 2);
    assert!(err.contains("no user \"nobody\""), "{err}");
}

#[test]
#[ignore = "runs htpasswd (apache2-utils, installed by scripts/test.sh)"]
fn an_htpasswd_file_written_by_apache_is_imported_and_what_is_not_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("htpasswd");
    let run = |args: &[&str]| {
        let s = std::process::Command::new("htpasswd")
            .args(args)
            .status()
            .expect("htpasswd (apache2-utils) is installed");
        assert!(s.success());
    };
    run(&["-bcB", file.to_str().unwrap(), "carol", "carol's pass"]);
    run(&["-bm", file.to_str().unwrap(), "dave", "dave's pass"]);
    run(&["-bs", file.to_str().unwrap(), "erin", "erin's pass"]);
    let store = dir.path().join("gate.db");
    let (code, out, err) = gate_env(
        &["user", "import", file.to_str().unwrap(), "--group", "staff"],
        &store,
        "",
    );
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("imported 2 users"), "{out}");
    assert!(
        err.contains(":3: erin: {SHA} is one unsalted SHA-1"),
        "{err}"
    );
    let (_, out, _) = gate_env(&["user", "list"], &store, "");
    assert!(
        out.contains("carol  groups: staff  hash: bcrypt (upgraded to argon2id at the next login)"),
        "{out}"
    );
    assert!(out.contains("dave  groups: staff  hash: apr1"), "{out}");
}

/// A free port on loopback (bound then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a child process when dropped, with SIGTERM: nginx's master then stops its workers
/// (SIGKILL would leave them running, holding the test's output open).
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let stopped = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if !stopped {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

fn curl(args: &[&str]) -> (u16, String, String) {
    let out = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is installed");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// bob's 403 at /admin/: the problem document.
fn body_of_bob_403(base: &str) -> String {
    let (status, _, body) = curl(&[
        "-u",
        "bob:tricky mule forty lantern",
        &format!("{base}/admin/"),
    ]);
    assert_eq!(status, 403);
    body
}

/// docs/gate.md's nginx snippet, run by a real nginx in front of an app (a second nginx
/// server), with the gateway binary deciding, and curl as the client.
#[test]
#[ignore = "runs nginx and curl (scripts/test.sh installs them)"]
fn nginx_auth_request_in_front_of_an_app() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("gate.db");
    for (user, group, pw) in [
        ("alice", "admins", "correct horse battery staple"),
        ("bob", "staff", "tricky mule forty lantern"),
    ] {
        let (code, _, err) = gate_env(
            &["user", "add", user, "--group", group, "--password-stdin"],
            &store,
            &format!("{pw}\n"),
        );
        assert_eq!(code, 0, "{err}");
    }
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[access.rule]]\npaths = [\"/public/\"]\npolicy = \"bypass\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\nsubjects = [\"group:admins\"]\npolicy = \"one_factor\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\npolicy = \"deny\"\n\n[[access.rule]]\npolicy = \"one_factor\"\n",
    )
    .unwrap();
    let mut gate = Child(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("why401"))
            .args([
                "gate",
                "--config",
                cfg.to_str().unwrap(),
                "--store",
                store.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    std::io::BufReader::new(gate.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let gate_addr = first
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();

    // docs/gate.md's locations, verbatim, with the gateway's and the app's addresses.
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/gate.md"))
        .unwrap();
    let snippet = doc
        .split("```nginx\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    let (front, app) = (free_port(), free_port());
    let snippet = snippet
        .replace("127.0.0.1:9401", &gate_addr)
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{app}"));
    let p = dir.path();
    for d in ["logs", "tmp"] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    let conf = format!(
        "worker_processes 1;\nerror_log {p}/logs/error.log;\npid {p}/nginx.pid;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp/body;\n  proxy_temp_path {p}/tmp/proxy;\n  fastcgi_temp_path {p}/tmp/fastcgi;\n  uwsgi_temp_path {p}/tmp/uwsgi;\n  scgi_temp_path {p}/tmp/scgi;\n  server {{\n    listen 127.0.0.1:{app};\n    location / {{ return 200 \"app: user=[$http_remote_user] groups=[$http_remote_groups]\\n\"; }}\n  }}\n  server {{\n    listen 127.0.0.1:{front};\n{snippet}\n  }}\n}}\n",
        p = p.display()
    );
    std::fs::write(p.join("nginx.conf"), &conf).unwrap();
    let _nginx = Child(
        std::process::Command::new("nginx")
            .args([
                "-p",
                p.to_str().unwrap(),
                "-c",
                p.join("nginx.conf").to_str().unwrap(),
                "-g",
                "daemon off; user root;",
            ])
            .spawn()
            .expect("nginx is installed"),
    );
    let base = format!("http://127.0.0.1:{front}");
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", front)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        up,
        "nginx did not start: {:?}",
        std::fs::read_to_string(p.join("logs/error.log"))
    );

    // An API client without credentials: the gateway's 401, challenge and problem document.
    let (status, head, body) = curl(&[&format!("{base}/app/")]);
    assert_eq!(status, 401, "{head}{body}");
    assert!(
        head.contains("www-authenticate: basic realm=\"why401\", charset=\"utf-8\""),
        "{head}"
    );
    assert!(
        body.contains("\"finding\":\"no-credentials-sent\""),
        "{body}"
    );
    // A browser: sent to the login page.
    let (status, head, _) = curl(&[
        "-H",
        "Accept: text/html",
        "-H",
        "Sec-Fetch-Mode: navigate",
        &format!("{base}/app/"),
    ]);
    assert_eq!(status, 302, "{head}");
    assert!(head.contains("location: http://"), "{head}");
    // Through, as alice, the app told who she is; a client's own Remote-User never reaches it.
    let (status, _, body) = curl(&[
        "-u",
        "alice:correct horse battery staple",
        "-H",
        "Remote-User: root",
        &format!("{base}/admin/"),
    ]);
    assert_eq!(
        (status, body.as_str()),
        (200, "app: user=[alice] groups=[admins]\n")
    );
    let (status, _, body) = curl(&["-H", "Remote-User: root", &format!("{base}/public/x")]);
    assert_eq!((status, body.as_str()), (200, "app: user=[] groups=[]\n"));
    // bob is authenticated and not allowed: 403 with the problem document, no redirect.
    let (status, head, body) = curl(&[
        "-u",
        "bob:tricky mule forty lantern",
        "-H",
        "Accept: text/html",
        &format!("{base}/admin/"),
    ]);
    assert_eq!(status, 403, "{head}{body}");
    assert!(!head.contains("location:"));
    assert!(
        body.contains("\"finding\":\"gate-policy-denied\""),
        "{body}"
    );
    // A browser signs in on the app's host through nginx, and its session lets it through.
    let (status, head, body) = curl(&[&format!("{base}/.why401/login?rd=%2Fapp%2Fhome")]);
    assert_eq!(status, 200, "{head}{body}");
    let csrf = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: __host-why401-csrf="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let (status, head, _) = curl(&[
        "-H",
        &format!("Cookie: __Host-why401-csrf={csrf}"),
        "-H",
        &format!("Origin: http://127.0.0.1:{front}"),
        "--data",
        &format!(
            "username=alice&password=correct+horse+battery+staple&csrf={csrf}&rd=%2Fapp%2Fhome"
        ),
        &format!("{base}/.why401/login"),
    ]);
    assert_eq!(status, 303, "{head}");
    assert!(head.contains("location: /app/home"), "{head}");
    let session = head
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: __host-why401-session="))
        .and_then(|v| v.split(';').next())
        .unwrap()
        .to_string();
    let (status, _, body) = curl(&[
        "-H",
        &format!("Cookie: __Host-why401-session={session}"),
        &format!("{base}/app/home"),
    ]);
    assert_eq!(
        (status, body.as_str()),
        (200, "app: user=[alice] groups=[admins]\n")
    );
    // The session is listed, and revoking the user's sessions ends it.
    let (code, out, _) = gate_env(&["sessions", "list"], &store, "");
    assert_eq!(code, 0);
    assert!(out.contains("  alice  since "), "{out}");
    assert!(
        !out.contains(&session),
        "a session is named by its hash, never its token"
    );
    let (code, out, _) = gate_env(&["sessions", "revoke", "alice"], &store, "");
    assert_eq!((code, out.as_str()), (0, "ended 1 session\n"));
    let (status, _, _) = curl(&[
        "-H",
        &format!("Cookie: __Host-why401-session={session}"),
        &format!("{base}/app/home"),
    ]);
    assert_eq!(status, 401);

    // The decision endpoints are not reachable from outside through nginx.
    let (status, _, _) = curl(&[
        "-H",
        "X-Original-URL: http://x/app/",
        &format!("{base}/.why401/authz/forward-auth"),
    ]);
    assert_eq!(status, 401, "answered as an app path, through auth_request");

    // why401's probe, pointed at the app behind the gateway, names each case, reading the
    // gateway's problem documents.
    let probe = |args: &[&str], password: &str| {
        let out = Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .args(["--json"])
            .env("WHY401_PASSWORD", password)
            .output()
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        (
            j["outcome"].as_str().unwrap_or("").to_string(),
            j["findings"][0]["id"].as_str().unwrap_or("").to_string(),
        )
    };
    let admin = format!("{base}/admin/");
    let found = |o: &str, id: &str| (o.to_string(), id.to_string());
    assert_eq!(
        probe(&[&admin, "-u", "bob"], "tricky mule forty lantern"),
        found("forbidden", "gate-policy-denied")
    );
    assert_eq!(
        probe(&[&admin, "-u", "bob"], "wrong"),
        found("unauthorized", "credentials-rejected")
    );
    assert_eq!(
        probe(&[&admin], ""),
        found("unauthorized", "no-credentials-sent")
    );
    // Through, with Basic over plain HTTP rightly named first.
    assert_eq!(
        probe(&[&admin, "-u", "alice"], "correct horse battery staple"),
        found("authorized", "basic-over-http")
    );

    // gate explain says why, from the audit log, with what the client was not told.
    let rid =
        serde_json::from_str::<serde_json::Value>(&body_of_bob_403(&base)).unwrap()["request_id"]
            .as_str()
            .unwrap()
            .to_string();
    let (code, out, err) = gate_env(&["explain", &rid], &store, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("403 deny [gate-policy-denied]"), "{out}");
    assert!(
        out.contains("bob (groups staff) is not group:admins"),
        "{out}"
    );
    assert!(
        out.contains("=> 403 Forbidden: bob is authenticated but not allowed here"),
        "{out}"
    );
    let (_, head, _) = curl(&["-u", "bob:wrong", &format!("{base}/app/")]);
    let rid = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_string();
    let (code, out, _) = gate_env(&["explain", &rid], &store, "");
    assert_eq!(code, 0);
    assert!(
        out.contains("credentials of bob refused: the password was wrong"),
        "{out}"
    );
    let (code, _, err) = gate_env(&["explain", "0123456789abcdef0123456789abcdef"], &store, "");
    assert_eq!(code, 2);
    assert!(
        err.contains("no request 0123456789abcdef0123456789abcdef in the audit log"),
        "{err}"
    );

    // A wrong password: 401 and the challenge again.
    let (status, head, body) = curl(&["-u", "alice:wrong", &format!("{base}/app/")]);
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: basic"), "{head}");
    assert!(body.contains("credentials-rejected"), "{body}");

    // Four more wrong passwords lock alice; the lock is listed and lifted.
    for _ in 0..4 {
        curl(&["-u", "alice:wrong", &format!("{base}/app/")]);
    }
    let (code, out, _) = gate_env(&["bans", "list"], &store, "");
    assert_eq!(code, 0);
    assert!(out.starts_with("account alice  until "), "{out}");
    let (status, _, _) = curl(&[
        "-u",
        "alice:correct horse battery staple",
        &format!("{base}/app/"),
    ]);
    assert_eq!(status, 401, "locked: refused as a wrong password is");
    let (code, out, _) = gate_env(&["bans", "clear", "alice"], &store, "");
    assert_eq!((code, out.as_str()), (0, "lifted 1 lock or throttle\n"));
    let (status, _, _) = curl(&[
        "-u",
        "alice:correct horse battery staple",
        &format!("{base}/app/"),
    ]);
    assert_eq!(status, 200);

    // why401 logs reads the gateway's own audit log: the refused logins by user, as 401s.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["logs", "--json"])
        .arg(dir.path().join("audit.jsonl"))
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &j["summary"];
    assert_eq!(s["inputs"][0]["format"], "json-why401-gate");
    assert_eq!(s["unparsed"], 0);
    let users: Vec<(String, u64)> = s["by_user"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["key"].as_str().unwrap().to_string(),
                u["count"].as_u64().unwrap(),
            )
        })
        .collect();
    // alice: her wrong passwords, and the refusals while locked; bob: his.
    assert!(
        users.iter().any(|(u, n)| u == "alice" && *n >= 5),
        "{users:?}"
    );
    assert!(users.iter().any(|(u, _)| u == "bob"), "{users:?}");
}
