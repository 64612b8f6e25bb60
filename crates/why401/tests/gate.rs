//! `why401 gate` as a user runs it: `check` on the demo policy and on a config of one's own, a
//! bad configuration refused with every error where it is, the users and their passwords, an
//! htpasswd import, and the gateway behind a real nginx with curl and the probe as clients.

use assert_cmd::Command;
use serde_json::Value;

mod common;

use common::gate::*;

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
    // alice is in admins, the gateway's admin group: her password is not enough there.
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("as alice (groups admins)"), "{out}");
    assert!(out.contains("members of admins always give one"), "{out}");
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

/// The first ```LANG block of docs/gate.md: what users copy, run as it is.
fn gate_doc_block(lang: &str) -> String {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/gate.md"))
        .unwrap();
    doc.split(&format!("```{lang}\n"))
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap_or_else(|| panic!("no ```{lang} block in docs/gate.md"))
        .to_string()
}

/// Starts nginx in `p` with `servers` in its http block; waits for `port`.
fn start_nginx(p: &std::path::Path, servers: &str, port: u16) -> Child {
    for d in ["logs", "tmp"] {
        std::fs::create_dir_all(p.join(d)).unwrap();
    }
    let conf = format!(
        "worker_processes 1;\nerror_log {p}/logs/error.log;\npid {p}/nginx.pid;\nevents {{}}\nhttp {{\n  access_log off;\n  client_body_temp_path {p}/tmp/body;\n  proxy_temp_path {p}/tmp/proxy;\n  fastcgi_temp_path {p}/tmp/fastcgi;\n  uwsgi_temp_path {p}/tmp/uwsgi;\n  scgi_temp_path {p}/tmp/scgi;\n{servers}}}\n",
        p = p.display()
    );
    std::fs::write(p.join("nginx.conf"), &conf).unwrap();
    let nginx = Child(
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
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
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
    nginx
}

/// Through the proxy at `base` to an app that answers `app: user=[…] groups=[…]` and `end`:
/// alice with a Remote-User of her own gets hers, an anonymous request on a bypass path gets
/// none, and bob at /admin/ gets 403 without a redirect; bob's problem document.
fn identities_through(base: &str, end: &str) -> String {
    let (status, _, body) = curl(&[
        "-u",
        "alice:correct horse battery staple",
        "-H",
        "Remote-User: root",
        &format!("{base}/admin/x"),
    ]);
    assert_eq!(
        (status, body),
        (200, format!("app: user=[alice] groups=[admins]{end}"))
    );
    let (status, _, body) = curl(&["-H", "Remote-User: root", &format!("{base}/public/x")]);
    assert_eq!(
        (status, body),
        (200, format!("app: user=[] groups=[]{end}"))
    );
    let (status, head, body) = curl(&[
        "-u",
        "bob:tricky mule forty lantern",
        "-H",
        "Accept: text/html",
        &format!("{base}/admin/x"),
    ]);
    assert_eq!(status, 403, "{head}{body}");
    assert!(!head.contains("location:"), "{head}");
    body
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
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[access.rule]]\npaths = [\"/public/\"]\npolicy = \"bypass\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\nsubjects = [\"group:admins\"]\npolicy = \"one_factor\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\npolicy = \"deny\"\n\n[[access.rule]]\npolicy = \"one_factor\"\n{APP_ADMINS}",
        ),
    )
    .unwrap();
    let (_gate, gate_addr) = start_gate(&cfg, &store);

    // docs/gate.md's locations, verbatim, with the gateway's and the app's addresses.
    let snippet = gate_doc_block("nginx");
    let (front, app) = (free_port(), free_port());
    let snippet = snippet
        .replace("127.0.0.1:9401", &gate_addr)
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{app}"));
    let p = dir.path();
    let _nginx = start_nginx(
        p,
        &format!(
            "  server {{\n    listen 127.0.0.1:{app};\n    location / {{ return 200 \"app: user=[$http_remote_user] groups=[$http_remote_groups]\\n\"; }}\n  }}\n  server {{\n    listen 127.0.0.1:{front};\n{snippet}\n  }}\n"
        ),
        front,
    );
    let base = format!("http://127.0.0.1:{front}");

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
    // Through, as alice, the app told who she is; a client's own Remote-User never reaches it;
    // bob is authenticated and not allowed: 403, no redirect.
    let body = identities_through(&base, "\n");
    assert!(
        body.contains("\"finding\":\"gate-policy-denied\""),
        "{body}"
    );
    // A browser signs in on the app's host through nginx, and its session lets it through.
    let session = form_login(
        &base,
        &format!("http://127.0.0.1:{front}"),
        "alice",
        "correct+horse+battery+staple",
        "%2Fapp%2Fhome",
    );
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
    // The running gateway sees a change made by another process within its poll of the store's
    // change counter (250 ms).
    std::thread::sleep(std::time::Duration::from_millis(600));
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
    assert_eq!(status, 404, "nginx keeps /.why401/authz/ to itself");

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

/// The gateway as the reverse proxy in front of a real nginx app: curl and Python `requests`
/// as clients, a browser's form login, a lockout, and a restart that keeps the sessions and
/// the lock.
#[test]
#[ignore = "runs nginx, curl and Python requests (scripts/test.sh installs them)"]
fn reverse_proxy_in_front_of_nginx_with_curl_and_python_requests_and_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let app = free_port();
    let p = dir.path().join("nginx");
    let _nginx = start_nginx(
        &p,
        &format!(
            "  server {{\n    listen 127.0.0.1:{app};\n    location / {{ return 200 \"app: user=[$http_remote_user] groups=[$http_remote_groups] auth=[$http_authorization] xff=[$http_x_forwarded_for] cookie=[$http_cookie]\\n\"; }}\n  }}\n"
        ),
        app,
    );
    let cfg = dir.path().join("gate.toml");
    // The gateway is the edge here: no proxy in front of it is believed.
    std::fs::write(
        &cfg,
        proxy_config(
            &format!("http://127.0.0.1:{app}"),
            "trusted_proxies = [\"192.0.2.1/32\"]\n",
        ),
    )
    .unwrap();
    let (gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");

    // curl: the app is told who, never the password, never a client's own Remote-User.
    let (status, _, body) = curl(&[
        "-u",
        "alice:correct horse battery staple",
        "-H",
        "Remote-User: root",
        "-H",
        "X-Forwarded-For: 198.51.100.1",
        &format!("{base}/admin/x"),
    ]);
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            "app: user=[alice] groups=[admins] auth=[] xff=[127.0.0.1] cookie=[]\n"
        )
    );
    let (status, _, body) = curl(&["-H", "Remote-User: root", &format!("{base}/public/x")]);
    assert_eq!(status, 200);
    assert!(body.starts_with("app: user=[] groups=[]"), "{body}");
    let (status, _, body) = curl(&[
        "-u",
        "bob:tricky mule forty lantern",
        &format!("{base}/admin/x"),
    ]);
    assert_eq!(status, 403);
    assert!(body.contains("gate-policy-denied"), "{body}");

    // Python requests, as API clients are written.
    let script = r#"
import json, os, requests
base, pw = os.environ["BASE"], os.environ["PW"]
out = {}
r = requests.get(base + "/api/notes")
out["anonymous"] = [r.status_code, r.headers.get("WWW-Authenticate"), r.headers.get("Content-Type"), r.json()["finding"]]
r = requests.get(base + "/api/notes", auth=("alice", "not it"))
out["wrong"] = [r.status_code, r.json()["finding"], bool(r.json()["request_id"])]
r = requests.get(base + "/api/notes", auth=("alice", pw))
out["right"] = [r.status_code, r.text]
r = requests.get(base + "/notes", headers={"Accept": "text/html"}, allow_redirects=False)
out["navigation"] = [r.status_code, r.headers.get("Location")]
print(json.dumps(out))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .env("BASE", &base)
        .env("PW", "correct horse battery staple")
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        j["anonymous"],
        serde_json::json!([
            401,
            "Basic realm=\"why401\", charset=\"UTF-8\"",
            "application/problem+json",
            "no-credentials-sent"
        ])
    );
    assert_eq!(
        j["wrong"],
        serde_json::json!([401, "credentials-rejected", true])
    );
    assert_eq!(j["right"][0], 200);
    assert!(
        j["right"][1]
            .as_str()
            .unwrap()
            .starts_with("app: user=[alice]"),
        "{j}"
    );
    assert_eq!(j["navigation"][0], 302);
    assert_eq!(
        j["navigation"][1],
        format!("{base}/.why401/login?rd=%2Fnotes").as_str()
    );

    // A browser's session: the app sees the user, not the gateway's cookie.
    let session = form_login(
        &base,
        &base,
        "alice",
        "correct+horse+battery+staple",
        "%2Fhome",
    );
    let cookie = format!("Cookie: theme=dark; __Host-why401-session={session}");
    let (status, _, body) = curl(&["-H", &cookie, &format!("{base}/home")]);
    assert_eq!(status, 200);
    assert!(
        body.starts_with("app: user=[alice]") && body.ends_with("cookie=[theme=dark]\n"),
        "{body}"
    );
    // bob locks himself out.
    for _ in 0..5 {
        let (status, _, _) = curl(&["-u", "bob:wrong", &format!("{base}/x")]);
        assert_eq!(status, 401);
    }
    let bob = ["-u", "bob:tricky mule forty lantern"];
    let (status, _, _) = curl(&[bob[0], bob[1], &format!("{base}/x")]);
    assert_eq!(status, 401, "bob is locked");

    // A restart: the session and the lock are in the store, not in memory.
    drop(gate);
    let (_gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");
    let (status, _, body) = curl(&["-H", &cookie, &format!("{base}/home")]);
    assert_eq!(status, 200, "the session outlived the restart");
    assert!(body.starts_with("app: user=[alice]"), "{body}");
    let (status, _, _) = curl(&[bob[0], bob[1], &format!("{base}/x")]);
    assert_eq!(status, 401, "the lock outlived the restart");
    let (code, out, _) = gate_env(&["bans", "list"], &store, "");
    assert_eq!(code, 0);
    assert!(out.contains("bob"), "{out}");
}

/// `gate totp enroll` makes a secret the serving gateway (another process, the same store and
/// key file) accepts a code of, once; `gate factors` lists, renews recovery codes and removes.
#[test]
#[ignore = "runs curl (scripts/test.sh installs it)"]
fn a_totp_enrolled_with_the_cli_is_accepted_by_the_gateway_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let (code, out, err) = gate_env(&["totp", "enroll", "bob"], &store, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("otpauth://totp/why401:bob?"), "{out}");
    assert!(out.contains('▀') || out.contains('▄'), "a QR code: {out}");
    let key = out
        .split("  key: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    let secret = why401_gate::factors::from_base32(key).unwrap();
    let codes: Vec<&str> = out
        .split("shown only now):")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(codes.len(), 10, "{out}");
    // The key that seals the secret is beside the store, the owner's only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("gate.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (code, out, _) = gate_env(&["factors", "list", "bob"], &store, "");
    assert_eq!(code, 0);
    assert!(
        out.contains("totp") && out.contains("10 recovery codes left"),
        "{out}"
    );
    let id = out.split_whitespace().next().unwrap().to_string();

    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        proxy_config("builtin:echo", "").replace(
            "[[access.rule]]\npolicy = \"one_factor\"",
            "[[access.rule]]\npolicy = \"two_factor\"",
        ),
    )
    .unwrap();
    let (_gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");
    let session = form_login(&base, &base, "bob", "tricky+mule+forty+lantern", "%2Fnotes");
    let cookie = format!("__Host-why401-session={session}");
    let give = |code: &str| {
        let (status, head, body) = curl(&[
            "-H",
            &format!("Cookie: {cookie}"),
            &format!("{base}/.why401/second-factor"),
        ]);
        assert_eq!(status, 200, "{head}{body}");
        let csrf = cookie_set(&head, "__host-why401-csrf");
        curl(&[
            "-H",
            &format!("Cookie: {cookie}; __Host-why401-csrf={csrf}"),
            "-H",
            &format!("Origin: {base}"),
            "--data",
            &format!("code={code}&csrf={csrf}&rd=%2Fnotes"),
            &format!("{base}/.why401/second-factor"),
        ])
    };
    let now = jiff::Timestamp::now().as_second() as u64;
    let code = why401_gate::factors::totp_code(&secret, now);
    let (status, head, _) = give(&code);
    assert_eq!(status, 303, "{head}");
    let (status, _, body) = curl(&["-H", &format!("Cookie: {cookie}"), &format!("{base}/notes")]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("remote-user: bob"), "{body}");
    // Once.
    let (status, _, body) = give(&code);
    assert_eq!(status, 401, "{body}");

    let (code, out, _) = gate_env(&["factors", "recovery", "bob"], &store, "");
    assert_eq!(code, 0);
    assert!(!out.contains(codes[0]), "new codes, not the old ones");
    let (code, out, err) = gate_env(&["factors", "remove", "bob", &id], &store, "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed 1 factor"), "{out}");
    let (_, out, _) = gate_env(&["factors", "list", "bob"], &store, "");
    assert!(out.contains("bob has no second factor"), "{out}");
}

/// Passkeys in Chromium with its virtual authenticator (CDP `WebAuthn.addVirtualAuthenticator`):
/// enrolment after the password with recovery codes shown once, a second passkey on another
/// authenticator from the factors page, and a sign-in with it; the store holds both, and the
/// audit log every step.
#[test]
#[ignore = "runs Chromium and node (scripts/test.sh installs them)"]
fn chromium_registers_passkeys_and_signs_in_with_one() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let (_gate, base) = https_gate(
        dir.path(),
        &store,
        "[[access.rule]]\npaths = [\"/vault/\"]\npolicy = \"two_factor\"\n\n",
    );
    let j = browser(
        "gate_webauthn.js",
        &base,
        "bob",
        "tricky mule forty lantern",
    );
    assert!(
        j["enrol_page"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/.why401/second-factor?rd=%2Fvault%2Fx")),
        "{j}"
    );
    let codes = j["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10, "{j}");
    assert_eq!(j["after_enrol"]["url"], format!("{base}/vault/x").as_str());
    assert!(
        j["after_enrol"]["body"]
            .as_str()
            .unwrap()
            .contains("remote-user: bob"),
        "{j}"
    );
    // The credential is the authenticator's, for this relying party, discoverable.
    let first = j["first_authenticator"].as_array().unwrap();
    assert_eq!(first.len(), 1, "{j}");
    assert_eq!(first[0]["rpId"], "localhost");
    // Two passkeys listed after the second registration.
    assert_eq!(
        j["factors"]["url"],
        format!("{base}/.why401/factors").as_str()
    );
    assert_eq!(
        j["factors"]["list"]
            .as_str()
            .unwrap()
            .matches("(webauthn)")
            .count(),
        2,
        "{j}"
    );
    // Signed in again with the second one; its counter moved.
    assert!(
        j["ask_page"]["url"]
            .as_str()
            .unwrap()
            .contains("/.why401/second-factor?rd=%2Fvault%2Fx"),
        "{j}"
    );
    assert_eq!(
        j["after_passkey"]["url"],
        format!("{base}/vault/x").as_str()
    );
    let second = j["second_authenticator"].as_array().unwrap();
    assert_eq!(second.len(), 1, "{j}");
    assert!(second[0]["signCount"].as_u64().unwrap() >= 1, "{j}");
    // What the CLI sees of them.
    let (code, out, err) = gate_env(&["factors", "list", "bob"], &store, "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("webauthn").count(), 2, "{out}");
    assert!(out.contains("10 recovery codes left"), "{out}");
    // The audit log: two enrolments and a passkey sign-in, each a login line.
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    let results: Vec<String> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["kind"] == "login")
        .map(|v| v["result"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        results,
        ["accepted", "enrolled", "enrolled", "accepted", "accepted"],
        "{audit}"
    );
}

/// Headless Chromium (playwright-core) through the login page of the gateway on HTTPS, to the
/// app, a `fetch()` from the page that gets a 401 problem document (not the login page's
/// HTML), and logout.
#[test]
#[ignore = "runs Chromium through playwright-core (scripts/test.sh installs them)"]
fn chromium_signs_in_fetches_and_signs_out() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let (_gate, base) = https_gate(dir.path(), &store, "");
    let j = browser(
        "gate_browser.js",
        &base,
        "alice",
        "correct horse battery staple",
    );
    let login = format!("{base}/.why401/login?rd=");
    assert!(
        j["first"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{login}%2Fnotes%3Fx%3D1")),
        "{j}"
    );
    assert_eq!(
        j["after_login"]["url"],
        format!("{base}/notes?x=1").as_str()
    );
    let page = j["after_login"]["body"].as_str().unwrap();
    assert!(page.contains("remote-user: alice"), "{page}");
    assert!(!page.contains("why401-session"), "{page}");
    let session = j["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "__Host-why401-session")
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(session["secure"], true);
    assert_eq!(session["httpOnly"], true);
    assert_eq!(session["sameSite"], "Lax");
    assert_eq!(session["path"], "/");
    let f = &j["fetch_without_cookie"];
    assert_eq!(f["status"], 401, "{j}");
    assert_eq!(f["contentType"], "application/problem+json");
    assert_eq!(
        f["wwwAuthenticate"],
        "Basic realm=\"why401\", charset=\"UTF-8\""
    );
    let doc: Value = serde_json::from_str(f["body"].as_str().unwrap()).unwrap();
    assert_eq!(doc["finding"], "no-credentials-sent");
    assert_eq!(j["fetch_with_cookie"]["status"], 200);
    assert!(
        j["after_logout"]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/.why401/login")),
        "{j}"
    );
    assert!(
        !j["after_logout"]["cookies"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "__Host-why401-session"),
        "{j}"
    );
    assert!(
        j["again"]["url"].as_str().unwrap().starts_with(&login),
        "signed out, the app asks again: {j}"
    );
}

/// `why401 probe` pointed at the gateway names each of its answers, reading its problem
/// documents and challenges: no credentials, refused ones, 403 by policy, a Bearer token
/// expired or without the scope, the address throttled, the audit log (its store) failing, the
/// app behind it down.
#[test]
fn the_probe_names_each_of_the_gates_answers() {
    use base64::Engine;
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    // A P-256 key: the JWKS the gateway reads, and the signer of the test's tokens.
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = kp.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    std::fs::write(
        dir.path().join("jwks.json"),
        serde_json::json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1",
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}]})
        .to_string(),
    )
    .unwrap();
    let key = jsonwebtoken::EncodingKey::from_ec_der(kp.serialized_der());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let token = |exp: i64, scope: &str| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("k1".into());
        let claims = serde_json::json!({"iss": "https://issuer.test/", "aud": "notes",
            "sub": "svc", "exp": exp, "scope": scope});
        let t = jsonwebtoken::encode(&h, &claims, &key).unwrap();
        let f = dir.path().join(format!("token-{exp}-{}", scope.len()));
        std::fs::write(&f, t).unwrap();
        format!("@{}", f.display())
    };
    let down = free_port();
    let bearer = "\n[bearer]\njwks = \"jwks.json\"\nissuer = \"https://issuer.test/\"\naudience = [\"notes\"]\n\n[[access.rule]]\npaths = [\"/scoped/\"]\napi = true\nscopes = [\"notes.write\"]\npolicy = \"one_factor\"\n";
    let mut config = proxy_config("builtin:echo", "").replace(
        "[[access.rule]]\npaths = [\"/public/\"]",
        &format!("{bearer}\n[[access.rule]]\npaths = [\"/public/\"]"),
    );
    config = config.replace(
        "[[route]]\nupstream = \"builtin:echo\"\n",
        &format!("[[route]]\npaths = [\"/down/\"]\nupstream = \"http://127.0.0.1:{down}\"\n\n[[route]]\nupstream = \"builtin:echo\"\n"),
    );
    config.push_str(
        "\n[lockout]\naddress_failures = 6\naccount_failures = 100\naccount_per_hour = 100\n\n[mfa]\ngroups = [\"admins\"]\n",
    );
    let cfg = dir.path().join("gate.toml");
    std::fs::write(&cfg, &config).unwrap();
    let (gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");
    let probe = |args: &[&str], password: &str| {
        let out = Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .args(["--json"])
            .env("WHY401_PASSWORD", password)
            .output()
            .unwrap();
        let j: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
        let ids: Vec<String> = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect();
        (j["outcome"].as_str().unwrap_or("").to_string(), ids)
    };
    let api = format!("{base}/api/notes");
    let (o, ids) = probe(&[&api], "");
    assert_eq!(
        (o.as_str(), ids[0].as_str()),
        ("unauthorized", "no-credentials-sent"),
        "{ids:?}"
    );
    let (o, ids) = probe(
        &[&format!("{base}/admin/x"), "-u", "bob"],
        "tricky mule forty lantern",
    );
    assert_eq!(
        (o.as_str(), ids[0].as_str()),
        ("forbidden", "gate-policy-denied"),
        "{ids:?}"
    );
    let scoped = format!("{base}/scoped/x");
    let (o, ids) = probe(&[&scoped, "--bearer", &token(now - 600, "notes.write")], "");
    assert_eq!(o, "unauthorized");
    assert!(ids.iter().any(|i| i == "token-expired"), "{ids:?}");
    let (o, ids) = probe(&[&scoped, "--bearer", &token(now + 600, "notes.read")], "");
    assert_eq!(o, "forbidden");
    assert!(ids.iter().any(|i| i == "insufficient-scope"), "{ids:?}");
    // alice is in admins, an [mfa] group here: her password is right, and she gives a second
    // factor too, which Basic cannot carry.
    let (o, ids) = probe(
        &[&format!("{base}/down/x"), "-u", "alice"],
        "correct horse battery staple",
    );
    assert_eq!(o, "forbidden");
    assert_eq!(ids[0], "step-up-required", "{ids:?}");
    let (o, ids) = probe(
        &[&format!("{base}/down/x"), "-u", "bob"],
        "tricky mule forty lantern",
    );
    assert!(
        ids.iter().any(|i| i == "gate-upstream-unreachable"),
        "{o} {ids:?}"
    );
    // Wrong passwords until the address is throttled (6 failures here).
    let (o, ids) = probe(&[&api, "-u", "alice"], "wrong");
    assert_eq!(
        (o.as_str(), ids[0].as_str()),
        ("unauthorized", "credentials-rejected"),
        "{ids:?}"
    );
    for _ in 0..6 {
        curl(&["-u", "bob:wrong", &api]);
    }
    let (_, ids) = probe(&[&api, "-u", "alice"], "correct horse battery staple");
    assert!(ids.iter().any(|i| i == "gate-throttled"), "{ids:?}");
    drop(gate);

    // The store failing (here the audit log, on a full disk): 503, fail closed.
    std::fs::write(&cfg, format!("{config}\n[audit]\npath = \"/dev/full\"\n")).unwrap();
    let (_gate, addr) = start_gate(&cfg, &store);
    let (_, ids) = probe(&[&format!("http://{addr}/api/notes")], "");
    assert!(ids.iter().any(|i| i == "gate-store-unavailable"), "{ids:?}");
}

/// An ES256 key as a JWK with id `kid`, and its signer.
fn es256_jwk(kid: &str) -> (Value, jsonwebtoken::EncodingKey) {
    use base64::Engine;
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = kp.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    (
        serde_json::json!({"kty": "EC", "crv": "P-256", "kid": kid,
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65])}),
        jsonwebtoken::EncodingKey::from_ec_der(kp.serialized_der()),
    )
}

/// The keys from an `https://` JWKS URL (the issuer's certificate trusted through
/// `SSL_CERT_FILE`): fetched at start, fetched again when a token names a key the set does not
/// have (the issuer rotated its keys), and not again for every made-up key id.
#[test]
fn bearer_keys_come_from_an_https_jwks_url_and_follow_a_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let (k1, sign1) = es256_jwk("k1");
    let (k2, sign2) = es256_jwk("k2");
    let rotated = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tls, ca) = common::tls_with_ca("why401 test issuer");
    std::fs::write(dir.path().join("ca.pem"), &ca).unwrap();
    let flag = rotated.clone();
    let issuer = common::ScriptedServer::start_tls(tls, move |_| {
        let keys = if flag.load(std::sync::atomic::Ordering::SeqCst) {
            vec![k1.clone(), k2.clone()]
        } else {
            vec![k1.clone()]
        };
        let mut r = common::Reply::new(200).header("Content-Type", "application/json");
        r.body = serde_json::json!({ "keys": keys }).to_string();
        r
    });
    let jwks = format!("https://localhost:{}/jwks.json", issuer.port);
    let config = proxy_config("builtin:echo", "").replace(
        "[[access.rule]]\npaths = [\"/public/\"]",
        &format!("[bearer]\njwks = \"{jwks}\"\nissuer = \"https://issuer.test/\"\naudience = [\"notes\"]\nalgorithms = [\"ES256\"]\n\n[[access.rule]]\npaths = [\"/public/\"]"),
    );
    let cfg = dir.path().join("gate.toml");
    std::fs::write(&cfg, config).unwrap();
    let ca_file = dir.path().join("ca.pem");
    let (_gate, addr) = start_gate_env(
        &cfg,
        &store,
        &[("SSL_CERT_FILE", ca_file.to_str().unwrap())],
    );
    assert_eq!(issuer.requests().len(), 1, "the keys are read at start");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let token = |kid: &str, key: &jsonwebtoken::EncodingKey| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(kid.into());
        let claims = serde_json::json!({"iss": "https://issuer.test/", "aud": "notes",
            "sub": "svc", "exp": now + 300});
        format!(
            "Authorization: Bearer {}",
            jsonwebtoken::encode(&h, &claims, key).unwrap()
        )
    };
    let api = format!("http://{addr}/api/notes");
    let (status, _, body) = curl(&["-H", &token("k1", &sign1), &api]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("remote-user: svc"), "{body}");
    // The issuer rotates: a token signed with k2 makes the gateway fetch the set again.
    rotated.store(true, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = curl(&["-H", &token("k2", &sign2), &api]);
    assert_eq!(status, 200, "{body}");
    assert_eq!(issuer.requests().len(), 2);
    // Made-up key ids: refused, and the issuer is not asked again for each.
    for kid in ["k7", "k8", "k9"] {
        let (status, head, _) = curl(&["-H", &token(kid, &sign2), &api]);
        assert_eq!(status, 401);
        assert!(head.contains("error=\"invalid_token\""), "{head}");
    }
    assert_eq!(issuer.requests().len(), 2, "at most one fetch every 30 s");
}

/// `why401 gate` with no configuration: the demo. On a fresh data directory it makes `admin`
/// with a random password printed once (standard input is not a terminal), says what to try,
/// and serves the built-in echo app behind the embedded policy; started again, it prints no
/// password.
#[test]
fn the_demo_runs_with_no_configuration_and_shows_its_first_password_once() {
    use std::io::BufRead;
    let home = tempfile::tempdir().unwrap();
    // The demo listens where the embedded configuration says (127.0.0.1:9401); the test reads
    // the address from what it prints. `hints`: a first user is made, and the hints follow.
    let start = |hints: bool| {
        let mut child = Child(
            std::process::Command::new(assert_cmd::cargo::cargo_bin("why401"))
                .arg("gate")
                .env("HOME", home.path())
                .env_remove("XDG_DATA_HOME")
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut out = std::io::BufReader::new(child.0.stdout.take().unwrap());
        let mut text = String::new();
        loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap() == 0 {
                break;
            }
            text.push_str(&line);
            let last = if hints {
                "what the probe says"
            } else {
                "reverse proxy:"
            };
            if line.contains(last) {
                break;
            }
        }
        (child, text)
    };
    let (first, text) = start(true);
    let addr = text
        .split("listening on http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{text}"))
        .to_string();
    let password = text
        .split("first user:  admin, password ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no password shown: {text}"))
        .to_string();
    assert!(password.len() >= 16, "{password}");
    assert!(text.contains("curl -i http://"), "{text}");
    // The echo app behind the policy: admin's password is right, and admins always give a
    // second factor, which Basic cannot carry; nobody without credentials.
    let (status, _, body) = curl(&[
        "-u",
        &format!("admin:{password}"),
        &format!("http://{addr}/hello"),
    ]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("step-up-required"), "{body}");
    assert!(text.contains("why401 gate totp enroll admin"), "{text}");
    let (status, _, body) = curl(&[&format!("http://{addr}/api")]);
    assert_eq!(status, 401);
    assert!(body.contains("no-credentials-sent"), "{body}");
    drop(first);
    // The store is in the data directory; the second start makes no user and shows nothing.
    assert!(home.path().join(".local/share/why401/gate.db").exists());
    let (_second, text) = start(false);
    assert!(!text.contains("password"), "{text}");
    assert!(text.contains("1 user"), "{text}");
}

/// docs/gate.md's Caddy site, run by a real Caddy in front of an app (a second Caddy site),
/// with the gateway binary deciding through `forward_auth`, and curl as the client.
#[test]
#[ignore = "runs Caddy and curl (scripts/test.sh installs them)"]
fn caddy_forward_auth_in_front_of_an_app() {
    let dir = tempfile::tempdir().unwrap();
    let store = users(dir.path());
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        proxy_config("builtin:echo", "").replace("[[route]]\nupstream = \"builtin:echo\"\n", ""),
    )
    .unwrap();
    let (_gate, gate_addr) = start_gate(&cfg, &store);
    let site = gate_doc_block("caddy");
    let (front, app) = (free_port(), free_port());
    let site = site
        .replace("app.example.com", &format!("http://127.0.0.1:{front}"))
        .replace("127.0.0.1:9401", &gate_addr)
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{app}"));
    let caddyfile = format!(
        "{{\n  admin off\n  auto_https off\n  storage file_system {data}\n}}\n\nhttp://127.0.0.1:{app} {{\n  respond \"app: user=[{{http.request.header.Remote-User}}] groups=[{{http.request.header.Remote-Groups}}]\" 200\n}}\n\n{site}",
        data = dir.path().join("caddy").display()
    );
    std::fs::write(dir.path().join("Caddyfile"), &caddyfile).unwrap();
    let _caddy = Child(
        std::process::Command::new("caddy")
            .args(["run", "--adapter", "caddyfile", "--config"])
            .arg(dir.path().join("Caddyfile"))
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("caddy is installed"),
    );
    let mut up = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", front)).is_ok()
            && std::net::TcpStream::connect(("127.0.0.1", app)).is_ok()
        {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "caddy did not start:\n{caddyfile}");
    let base = format!("http://127.0.0.1:{front}");

    // An API client: Caddy hands the gateway's 401 to it as it is.
    let (status, head, body) = curl(&[&format!("{base}/api/notes")]);
    assert_eq!(status, 401, "{head}{body}");
    assert!(
        head.contains("www-authenticate: basic realm=\"why401\""),
        "{head}"
    );
    assert!(
        head.contains("content-type: application/problem+json"),
        "{head}"
    );
    assert!(body.contains("no-credentials-sent"), "{body}");
    // A browser: to the login page on the app's host.
    let (status, head, _) = curl(&[
        "-H",
        "Accept: text/html",
        "-H",
        "Sec-Fetch-Mode: navigate",
        &format!("{base}/notes?x=1"),
    ]);
    assert_eq!(status, 302, "{head}");
    assert!(
        head.contains(&format!(
            "location: {base}/.why401/login?rd=%2fnotes%3fx%3d1"
        )),
        "{head}"
    );
    // Through, as alice; a client's own Remote-User never reaches the app, even on a bypass
    // path; bob: authenticated, not allowed: 403, no redirect.
    identities_through(&base, "");
    // The login page through Caddy, and the session it makes.
    let session = form_login(
        &base,
        &base,
        "alice",
        "correct+horse+battery+staple",
        "%2Fhome",
    );
    let (status, _, body) = curl(&[
        "-H",
        &format!("Cookie: __Host-why401-session={session}"),
        &format!("{base}/home"),
    ]);
    assert_eq!(
        (status, body.as_str()),
        (200, "app: user=[alice] groups=[admins]")
    );
    // The decision endpoints are not reachable through Caddy.
    let (status, _, _) = curl(&[
        "-H",
        "X-Forwarded-Host: x",
        &format!("{base}/.why401/authz/forward-auth"),
    ]);
    assert_eq!(status, 401, "answered as an app path, through forward_auth");
}

/// The gateway on HTTPS (a certificate for localhost made here) in front of the echo app, with
/// `rules` before the peer tests' policy; the gateway and its `https://localhost:PORT`.
fn https_gate(dir: &std::path::Path, store: &std::path::Path, rules: &str) -> (Child, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let cfg = dir.join("gate.toml");
    let config = proxy_config(
        "builtin:echo",
        "tls_certificate = \"cert.pem\"\ntls_key = \"key.pem\"\n",
    )
    .replace(
        "[[access.rule]]\npaths = [\"/public/\"]",
        &format!("{rules}[[access.rule]]\npaths = [\"/public/\"]"),
    );
    std::fs::write(&cfg, config).unwrap();
    let (gate, addr) = start_gate(&cfg, store);
    let port = addr.rsplit(':').next().unwrap().to_string();
    (gate, format!("https://localhost:{port}"))
}
