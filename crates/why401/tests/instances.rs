//! Two `why401 gate` processes behind one name, sharing PostgreSQL (users, factors, the audit
//! trail) and Redis (sessions, lockout counters, TOTP replay marks, explain records): a session
//! made on one is good on the other, a lockout caused through one is enforced by the other, a
//! TOTP code used on one is refused on the other, a decision of one is explained by the other's
//! CLI; a rolling restart loses no session; Redis stopped makes both answer 503 (fail closed),
//! every decision still in the audit trail, and both recover when it is back. Real
//! `redis-server` and PostgreSQL, started by scripts/test.sh; curl as the client.

use std::path::{Path, PathBuf};

mod common;

use common::gate::*;

const HOST: &str = "app.example.com";

/// A fresh PostgreSQL database for one test, on the suite's server; its URL.
fn pg_database(name: &str) -> String {
    let base = common::peer("WHY401_POSTGRES_URL");
    let db = format!("why401_{name}_{}", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        let out = std::process::Command::new("psql")
            .args([&base, "-q", "-c", &sql])
            .output()
            .expect("psql is installed (scripts/test.sh installs postgresql)");
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    format!("{}/{db}", base.rsplit_once('/').unwrap().0)
}

/// Redis database `n` of the suite's server, emptied.
fn redis_database(n: u8) -> String {
    let url = format!("{}/{n}", common::peer("WHY401_REDIS_URL"));
    redis_cli(&url, &["FLUSHDB"]);
    url
}

fn redis_cli(url: &str, args: &[&str]) -> String {
    let out = std::process::Command::new("redis-cli")
        .args(["-u", url])
        .args(args)
        .output()
        .expect("redis-cli is installed (scripts/test.sh installs redis-server)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The rows of the PostgreSQL audit trail with `request_id`, once the trail has caught up with
/// the instance's file log (it follows within milliseconds; a second at most is waited).
fn trail_rows(pg: &str, request_id: &str) -> usize {
    let count = || -> usize {
        let out = std::process::Command::new("psql")
            .args([
                pg,
                "-tA",
                "-c",
                &format!("SELECT count(*) FROM audit WHERE request_id = '{request_id}'"),
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    for _ in 0..20 {
        let n = count();
        if n > 0 {
            // A line written twice would show by now too.
            std::thread::sleep(std::time::Duration::from_millis(100));
            return count();
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    0
}

/// A config shared by the instances, in `dir`; users alice and bob added through the CLI.
fn setup(dir: &Path, pg: &str, redis: &str) -> PathBuf {
    let cfg = dir.join("gate.toml");
    std::fs::write(
        &cfg,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\n\n[store]\npostgres = \"{pg}\"\nredis = \"{redis}\"\n\n[lockout]\naccount_failures = 3\naddress_failures = 1000\n\n[[access.rule]]\npaths = [\"/secure/\"]\npolicy = \"two_factor\"\n\n[[access.rule]]\npolicy = \"one_factor\"\n\n[[route]]\nupstream = \"builtin:echo\"\n"
        ),
    )
    .unwrap();
    for (user, pw) in [
        ("alice", "correct horse battery staple"),
        ("bob", "tricky mule forty lantern"),
    ] {
        let (code, _, err) = gate_env(
            &[
                "--config",
                cfg.to_str().unwrap(),
                "user",
                "add",
                user,
                "--password-stdin",
            ],
            &dir.join("unused.db"),
            &format!("{pw}\n"),
        );
        assert_eq!(code, 0, "{err}");
    }
    cfg
}

/// Starts an instance on `cfg` (its file audit log beside `local`, its own).
fn instance(cfg: &Path, local: &Path) -> (Child, String) {
    start_gate(cfg, &local.join("gate.db"))
}

/// GET `path` on the instance at `addr` as the app's host, with `extra` curl arguments.
fn get(addr: &str, path: &str, extra: &[&str]) -> (u16, String, String) {
    let mut args = vec![
        "-H",
        "Host: app.example.com",
        "-H",
        "X-Forwarded-Proto: https",
    ];
    args.extend_from_slice(extra);
    let url = format!("http://{addr}{path}");
    args.push(&url);
    curl(&args)
}

fn request_id(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_string()
}

/// Signs `user` in through the login form of the instance at `addr`; the session cookie.
fn sign_in(addr: &str, user: &str, password: &str) -> String {
    let (status, head, _) = get(addr, "/.why401/login?rd=%2Fapp", &[]);
    assert_eq!(status, 200);
    let csrf = cookie_set(&head, "__host-why401-csrf");
    let (status, head, _) = get(
        addr,
        "/.why401/login",
        &[
            "-H",
            &format!("Cookie: __Host-why401-csrf={csrf}"),
            "-H",
            &format!("Origin: https://{HOST}"),
            "--data",
            &format!(
                "username={user}&password={}&csrf={csrf}&rd=%2Fapp",
                password.replace(' ', "+")
            ),
        ],
    );
    assert_eq!(status, 303, "{head}");
    let token = cookie_set(&head, "__host-why401-session");
    format!("Cookie: __Host-why401-session={token}")
}

/// Gives a TOTP code on the second-factor page of the instance at `addr` for the session
/// `cookie`; the status.
fn give_code(addr: &str, cookie: &str, code: &str) -> u16 {
    let (status, head, _) = get(addr, "/.why401/second-factor", &["-H", cookie]);
    assert_eq!(status, 200, "{head}");
    let csrf = cookie_set(&head, "__host-why401-csrf");
    get(
        addr,
        "/.why401/second-factor",
        &[
            "-H",
            &format!("{cookie}; __Host-why401-csrf={csrf}"),
            "-H",
            &format!("Origin: https://{HOST}"),
            "--data",
            &format!("code={code}&csrf={csrf}&rd=%2Fsecure%2F"),
        ],
    )
    .0
}

#[test]
#[ignore = "runs redis-server, PostgreSQL and curl (scripts/test.sh starts them)"]
fn two_instances_share_sessions_lockouts_totp_replay_and_explain_records() {
    let dir = tempfile::tempdir().unwrap();
    let pg = pg_database("share");
    let redis = redis_database(1);
    let cfg = setup(dir.path(), &pg, &redis);
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let (_a, a) = instance(&cfg, &a_dir);
    let (_b, b) = instance(&cfg, &b_dir);

    // A session made on A is good on B.
    let cookie = sign_in(&a, "alice", "correct horse battery staple");
    let (status, _, body) = get(&b, "/app", &["-H", &cookie]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("remote-user: alice"), "{body}");
    // Logged out on B: ended on A too.
    let (status, _, _) = get(&b, "/.why401/logout", &["-H", &cookie, "-X", "POST"]);
    assert_eq!(status, 303);
    // A notices within its poll of the shared change counter (250 ms).
    std::thread::sleep(std::time::Duration::from_millis(600));
    let (status, _, _) = get(
        &a,
        "/app",
        &["-H", &cookie, "-H", "Accept: application/json"],
    );
    assert_eq!(status, 401);

    // A name with a NUL in it (argv cannot carry one: it goes in the Basic header's base64):
    // PostgreSQL's text holds no NUL, and the line still reaches the trail, once.
    let nul = format!(
        "Authorization: Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "ev\0il:x")
    );
    let (status, head, _) = get(&a, "/app", &["-H", &nul]);
    assert_eq!(status, 401);
    assert_eq!(
        trail_rows(&pg, &request_id(&head)),
        1,
        "the NUL line is in the trail"
    );
    // A lockout caused through A is enforced by B (3 failures here).
    for _ in 0..3 {
        let (status, _, _) = get(&a, "/app", &["-u", "bob:wrong password"]);
        assert_eq!(status, 401);
    }
    let (status, head, _) = get(&b, "/app", &["-u", "bob:tricky mule forty lantern"]);
    assert_eq!(status, 401, "locked on B: {head}");
    let rid = request_id(&head);
    assert_eq!(trail_rows(&pg, &rid), 1, "in the trail once");
    // B's decision, explained by the CLI from the shared records (not from a file of B's).
    let (code, out, err) = gate_env(
        &["--config", cfg.to_str().unwrap(), "explain", &rid],
        &dir.path().join("elsewhere.db"),
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("locked"), "{out}");
    let (code, out, _) = gate_env(
        &["--config", cfg.to_str().unwrap(), "bans", "list"],
        &dir.path().join("elsewhere.db"),
        "",
    );
    assert_eq!(code, 0);
    assert!(out.contains("bob"), "{out}");

    // A TOTP code used on A is refused on B.
    let (code, out, err) = gate_env(
        &["--config", cfg.to_str().unwrap(), "totp", "enroll", "alice"],
        &dir.path().join("elsewhere.db"),
        "",
    );
    assert_eq!(code, 0, "{err}");
    let key = out
        .split("  key: ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    let secret = why401_gate::factors::from_base32(key).unwrap();
    let code = why401_gate::factors::totp_code(&secret, jiff::Timestamp::now().as_second() as u64);
    let on_a = sign_in(&a, "alice", "correct horse battery staple");
    assert_eq!(give_code(&a, &on_a, &code), 303);
    let (status, _, _) = get(&b, "/secure/x", &["-H", &on_a]);
    assert_eq!(status, 200, "the second factor given on A holds on B");
    let on_b = sign_in(&b, "alice", "correct horse battery staple");
    assert_eq!(give_code(&b, &on_b, &code), 401, "the same code, on B");
}

#[test]
#[ignore = "runs redis-server, PostgreSQL and curl (scripts/test.sh starts them)"]
fn a_rolling_restart_loses_no_session() {
    let dir = tempfile::tempdir().unwrap();
    let pg = pg_database("rolling");
    let redis = redis_database(2);
    let cfg = setup(dir.path(), &pg, &redis);
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    let (a_proc, a) = instance(&cfg, &a_dir);
    let (b_proc, b) = instance(&cfg, &b_dir);
    let cookie = sign_in(&a, "alice", "correct horse battery staple");
    // A restarts while B serves; then B restarts while the new A serves.
    drop(a_proc);
    assert_eq!(get(&b, "/app", &["-H", &cookie]).0, 200);
    let (_a2, a2) = instance(&cfg, &a_dir);
    assert_eq!(get(&a2, "/app", &["-H", &cookie]).0, 200);
    drop(b_proc);
    assert_eq!(get(&a2, "/app", &["-H", &cookie]).0, 200);
    let (_b2, b2) = instance(&cfg, &b_dir);
    assert_eq!(get(&b2, "/app", &["-H", &cookie]).0, 200);
}

#[test]
#[ignore = "runs redis-server, PostgreSQL and curl (scripts/test.sh starts them)"]
fn redis_stopped_is_a_503_on_both_every_decision_logged_and_both_recover() {
    let dir = tempfile::tempdir().unwrap();
    // A Redis of this test's own (it is stopped), keeping its data across the restart.
    let port = free_port();
    let rdir = dir.path().join("redis");
    std::fs::create_dir_all(&rdir).unwrap();
    let start_redis = || {
        Child(
            std::process::Command::new("redis-server")
                .args([
                    "--port",
                    &port.to_string(),
                    "--bind",
                    "127.0.0.1",
                    "--dir",
                    rdir.to_str().unwrap(),
                    "--appendonly",
                    "yes",
                    "--appendfsync",
                    "always",
                    "--save",
                    "",
                ])
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("redis-server is installed"),
        )
    };
    let wait = || {
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("redis-server did not start");
    };
    let mut redis = Some(start_redis());
    wait();
    let pg = pg_database("redis_down");
    let cfg = setup(dir.path(), &pg, &format!("redis://127.0.0.1:{port}"));
    let (_a, a) = instance(&cfg, &dir.path().join("a"));
    let (_b, b) = instance(&cfg, &dir.path().join("b"));
    let cookie = sign_in(&a, "alice", "correct horse battery staple");
    assert_eq!(get(&b, "/app", &["-H", &cookie]).0, 200);

    drop(redis.take());
    // Past what the instances remember (the change counter is polled every 250 ms, 2 s stale).
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let mut ids = Vec::new();
    for addr in [&a, &b] {
        for extra in [
            vec!["-H", cookie.as_str()],
            vec!["-u", "bob:tricky mule forty lantern"],
        ] {
            let (status, head, body) = get(addr, "/app", &extra);
            assert_eq!(status, 503, "{head}{body}");
            ids.push(request_id(&head));
        }
    }
    // Every one of those decisions is in the trail, once.
    for id in &ids {
        assert_eq!(trail_rows(&pg, id), 1, "{id}");
    }

    let _redis = start_redis();
    wait();
    let mut back = false;
    for _ in 0..50 {
        if get(&a, "/app", &["-H", &cookie]).0 == 200 && get(&b, "/app", &["-H", &cookie]).0 == 200
        {
            back = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(back, "both recover, with the session Redis kept");
}
