//! Helpers for the tests of `why401 gate`: the CLI with a store of its own, the gateway
//! started as a user starts it, curl, a browser script, the configs the tests share.

use assert_cmd::Command;
use serde_json::Value;

/// `why401 gate --store STORE ARGS`, `stdin` on its standard input.
pub(crate) fn gate_env(
    args: &[&str],
    store: &std::path::Path,
    stdin: &str,
) -> (i32, String, String) {
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

/// A free port on loopback (bound then released).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Stops a child process when dropped, with SIGTERM: nginx's master then stops its workers
/// (SIGKILL would leave them running, holding the test's output open).
pub(crate) struct Child(pub(crate) std::process::Child);

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

pub(crate) fn curl(args: &[&str]) -> (u16, String, String) {
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

/// A store in `dir` with alice (admins) and bob (staff), added through the CLI.
pub(crate) fn users(dir: &std::path::Path) -> std::path::PathBuf {
    let store = dir.join("gate.db");
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
    store
}

/// Starts `why401 gate --config CFG --store STORE`; its address once it listens.
pub(crate) fn start_gate(cfg: &std::path::Path, store: &std::path::Path) -> (Child, String) {
    start_gate_env(cfg, store, &[])
}

/// [`start_gate`] with more environment variables.
pub(crate) fn start_gate_env(
    cfg: &std::path::Path,
    store: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, String) {
    use std::io::BufRead;
    let mut gate = Child(
        std::process::Command::new(assert_cmd::cargo::cargo_bin("why401"))
            .args([
                "gate",
                "--config",
                cfg.to_str().unwrap(),
                "--store",
                store.to_str().unwrap(),
            ])
            .envs(env.iter().copied())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut first = String::new();
    std::io::BufReader::new(gate.0.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let addr = first
        .split("listening on ")
        .nth(1)
        .and_then(|r| r.split("://").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("{first}"))
        .to_string();
    (gate, addr)
}

/// Signs in on the login page at `base` as a browser from `origin` does (the CSRF cookie and
/// field, the Origin header); the session token. `password` and `rd` are form-encoded.
pub(crate) fn form_login(base: &str, origin: &str, user: &str, password: &str, rd: &str) -> String {
    let (status, head, body) = curl(&[&format!("{base}/.why401/login?rd={rd}")]);
    assert_eq!(status, 200, "{head}{body}");
    let csrf = cookie_set(&head, "__host-why401-csrf");
    let (status, head, _) = curl(&[
        "-H",
        &format!("Cookie: __Host-why401-csrf={csrf}"),
        "-H",
        &format!("Origin: {origin}"),
        "--data",
        &format!("username={user}&password={password}&csrf={csrf}&rd={rd}"),
        &format!("{base}/.why401/login"),
    ]);
    assert_eq!(status, 303, "{head}");
    let back = rd.replace("%2F", "/");
    assert!(head.contains(&format!("location: {back}")), "{head}");
    cookie_set(&head, "__host-why401-session")
}

/// The reverse proxy's policy for the peer tests: `/public/` open, `/admin/` for admins, `/api/`
/// an API, the rest for anyone signed in; the app at `upstream`.
pub(crate) fn proxy_config(upstream: &str, server: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n{server}\n[[access.rule]]\npaths = [\"/public/\"]\npolicy = \"bypass\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\nsubjects = [\"group:admins\"]\npolicy = \"one_factor\"\n\n[[access.rule]]\npaths = [\"/admin/\"]\npolicy = \"deny\"\n\n[[access.rule]]\npaths = [\"/api/\"]\napi = true\npolicy = \"one_factor\"\n\n[[access.rule]]\npolicy = \"one_factor\"\n\n[[route]]\nupstream = \"{upstream}\"\n{APP_ADMINS}"
    )
}

/// `admins` is the app's group in these tests, not the gateway's `[admin] group` (whose members
/// always give a second factor, which Basic cannot carry).
pub(crate) const APP_ADMINS: &str = "\n[admin]\ngroup = \"gate-operators\"\n";

/// Runs scripts/capture/SCRIPT (Chromium, driven by playwright-core) against `base` as `user`,
/// the password on its standard input; what it saw.
pub(crate) fn browser(script: &str, base: &str, user: &str, password: &str) -> Value {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/capture")
        .join(script);
    let mut child = std::process::Command::new("node")
        .arg(&script)
        .args([base, user])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node runs (scripts/test.sh installs nodejs and playwright-core)");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(format!("{password}\n").as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The value of the cookie `name` (lowercase: the tests' `curl` lowercases the head) that the
/// answer's `head` sets.
pub(crate) fn cookie_set(head: &str, name: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix(&format!("set-cookie: {name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie set: {head}"))
        .to_string()
}
