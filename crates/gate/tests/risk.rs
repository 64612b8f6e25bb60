//! Conditional access over real HTTP: the client's country from a MaxMind-format database (built
//! here with mmdb-writer) as a rule criterion; a sign-in from a network or country never seen for
//! the user told once to the notification hook and, by `[risk] unusual`, let through, asked for a
//! second factor or refused; a managed device's certificate, as a trusted proxy reports it.

mod common;

use std::net::SocketAddr;

use common::{
    HOST, ORIGIN, Reply, ask, cookie_value, request, session_of, set_cookie, sign_in_with,
};
use why401_gate::factors;
use why401_gate::store::Store;

const PW: &str = "correct horse battery staple";

/// A country database: 198.51.100.0/24 in Germany, 203.0.113.0/24 in France, 192.0.2.0/24 in
/// the United States; the rest unknown.
fn countries(path: &std::path::Path) {
    #[derive(serde::Serialize)]
    struct Iso {
        iso_code: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Record {
        country: Iso,
    }
    let mut w = mmdb_writer::Writer::new("GeoLite2-Country");
    for (net, cc) in [
        ("198.51.100.0/24", "DE"),
        ("203.0.113.0/24", "FR"),
        ("192.0.2.0/24", "US"),
    ] {
        w.insert(
            net.parse::<ipnet::IpNet>().unwrap(),
            &Record {
                country: Iso { iso_code: cc },
            },
        )
        .unwrap();
    }
    std::fs::write(path, w.to_bytes().unwrap()).unwrap();
}

/// A gateway with `risk` and `extra` config, a country database, a notification command that
/// appends each event to `events.jsonl`; alice (staff) and bob (staff).
/// The test's directory (the database, the events) and the gateway's (its store, its audit
/// log).
struct Dirs {
    test: tempfile::TempDir,
    gate: tempfile::TempDir,
}

impl Dirs {
    fn path(&self) -> &std::path::Path {
        self.test.path()
    }
}

async fn start(risk: &str, extra: &str) -> (Dirs, SocketAddr, Store) {
    let dir = tempfile::tempdir().unwrap();
    countries(&dir.path().join("countries.mmdb"));
    let events = dir.path().join("events.jsonl");
    let config = format!(
        r#"
[geo]
database = "{geo}"

[risk]
unusual = "{risk}"

[notify]
command = ["sh", "-c", "cat >> '{events}'; echo >> '{events}'"]

{extra}

[[access.rule]]
name = "germany only"
paths = ["/de/"]
countries = ["DE"]
policy = "one_factor"

[[access.rule]]
paths = ["/de/"]
policy = "deny"

[[access.rule]]
name = "managed devices"
paths = ["/device/"]
devices = "managed"
policy = "one_factor"

[[access.rule]]
paths = ["/device/"]
policy = "deny"

[[access.rule]]
paths = ["/app/"]
policy = "one_factor"
"#,
        geo = dir.path().join("countries.mmdb").display(),
        events = events.display(),
    );
    let (gdir, addr, store) = common::gate(
        &config,
        &[("alice", PW, &["staff"]), ("bob", PW, &["staff"])],
    )
    .await;
    (
        Dirs {
            test: dir,
            gate: gdir,
        },
        addr,
        store,
    )
}

const ALICE: &str = "Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";

/// The forward-auth decision for `path` from client `ip` (the test is the trusted proxy).
async fn from(addr: SocketAddr, ip: &str, path: &str, extra: &[(&str, &str)]) -> Reply {
    let url = format!("https://{HOST}{path}");
    let mut h: Vec<(&str, &str)> = vec![("X-Original-URL", &url), ("X-Forwarded-For", ip)];
    h.extend_from_slice(extra);
    ask(addr, "/.why401/authz/forward-auth", &h).await
}

/// A browser's navigation to /app/x from client `ip` with the session `cookie`.
async fn browse(addr: SocketAddr, ip: &str, cookie: &str) -> Reply {
    from(
        addr,
        ip,
        "/app/x",
        &[("Cookie", cookie), ("Accept", "text/html")],
    )
    .await
}

/// The events the notification command received.
async fn events(dir: &Dirs, at_least: usize) -> Vec<serde_json::Value> {
    let mut got = Vec::new();
    for _ in 0..50 {
        got = std::fs::read_to_string(dir.path().join("events.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if got.len() >= at_least {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_takes_only_the_countries_it_names() {
    let (_dir, addr, _store) = start("notify", "").await;
    let auth = [("Authorization", ALICE)];
    assert_eq!(from(addr, "198.51.100.7", "/de/x", &auth).await.status, 200);
    let r = from(addr, "203.0.113.9", "/de/x", &auth).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = from(addr, "10.1.2.3", "/de/x", &auth).await;
    assert_eq!(r.status, 403, "an unknown country is not Germany");
    // A country is read in either case; a country rule without a database is refused at start.
    let config = why401_gate::Config::parse(
        "[geo]\ndatabase = \"x.mmdb\"\n[[access.rule]]\npaths = [\"/de/\"]\ncountries = [\"de\"]\npolicy = \"one_factor\"\n",
        "gate.toml",
    )
    .unwrap();
    assert_eq!(config.policy.rules[0].countries, ["DE"]);
    let err = why401_gate::Config::parse(
        "[[access.rule]]\ncountries = [\"DE\"]\npolicy = \"one_factor\"\n",
        "gate.toml",
    )
    .unwrap_err();
    assert!(err[0].message.contains("needs [geo] database"), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusual_basic_sign_in_is_told_once_and_can_be_made_to_give_a_second_factor() {
    let (dir, addr, _store) = start("second_factor", "").await;
    let auth = [("Authorization", ALICE)];
    // The first sign-in has nothing to compare with; the same /24 again is usual.
    assert_eq!(
        from(addr, "198.51.100.7", "/app/x", &auth).await.status,
        200
    );
    assert_eq!(
        from(addr, "198.51.100.99", "/app/x", &auth).await.status,
        200
    );
    // France, a network never seen: Basic cannot give the second factor this asks for.
    for _ in 0..2 {
        let r = from(addr, "203.0.113.9", "/app/x", &auth).await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("step-up-required"), "{}", r.body);
        assert!(
            r.body
                .contains("a network and a country never seen for alice"),
            "{}",
            r.body
        );
    }
    // Told once, with the place.
    let got = events(&dir, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["event"], "unusual-sign-in");
    assert_eq!(got[0]["user"], "alice");
    assert_eq!(got[0]["address"], "203.0.113.9");
    assert!(
        got[0]["detail"].as_str().unwrap().contains("country FR"),
        "{got:?}"
    );
    // Still usual from Germany.
    assert_eq!(
        from(addr, "198.51.100.7", "/app/x", &auth).await.status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusual_sign_ins_are_let_through_and_learnt_when_the_policy_only_notifies() {
    let (dir, addr, _store) = start("notify", "").await;
    let auth = [("Authorization", ALICE)];
    assert_eq!(
        from(addr, "198.51.100.7", "/app/x", &auth).await.status,
        200
    );
    assert_eq!(from(addr, "192.0.2.1", "/app/x", &auth).await.status, 200);
    assert_eq!(from(addr, "192.0.2.1", "/app/x", &auth).await.status, 200);
    let got = events(&dir, 1).await;
    assert_eq!(got.len(), 1, "told once: {got:?}");
    assert!(
        got[0]["detail"].as_str().unwrap().contains("country US"),
        "{got:?}"
    );
}

/// Signs `user` in through the form from client `ip`; the reply.
async fn form_from(addr: SocketAddr, ip: &str, user: &str) -> Reply {
    sign_in_with(addr, user, PW, None, &[("X-Forwarded-For", ip)]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusual_browser_sign_in_gives_its_second_factor_then_its_network_is_known() {
    let (dir, addr, store) = start("second_factor", "").await;
    // bob has an authenticator app (sealed with the gateway's key, beside its store).
    let sealer = factors::Sealer::load(&store.dir().join("gate.key")).unwrap();
    let (_, secret) = factors::add_totp(&store, &sealer, "bob", "phone", true)
        .await
        .unwrap();
    let r = form_from(addr, "198.51.100.7", "bob").await;
    assert_eq!(r.status, 303);
    let cookie = session_of(&r);
    assert_eq!(
        browse(addr, "198.51.100.7", &cookie).await.status,
        200,
        "the first: usual"
    );
    // From France: the session asks for the second factor.
    let r = form_from(addr, "203.0.113.9", "bob").await;
    assert_eq!(r.status, 303);
    let cookie = session_of(&r);
    let r = browse(addr, "203.0.113.9", &cookie).await;
    assert_eq!(r.status, 302);
    assert!(
        r.header("location")
            .unwrap()
            .contains("/.why401/second-factor"),
        "{:?}",
        r.headers
    );
    let page = ask(
        addr,
        "/.why401/second-factor",
        &[("Host", HOST), ("Cookie", &cookie)],
    )
    .await;
    let csrf = cookie_value(set_cookie(&page, "__Host-why401-csrf").unwrap()).to_string();
    let code = factors::totp_code(&secret, jiff::Timestamp::now().as_second() as u64);
    let r = request(
        addr,
        "POST",
        "/.why401/second-factor",
        &[
            ("Host", HOST),
            ("Origin", ORIGIN),
            ("X-Forwarded-For", "203.0.113.9"),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &format!("{cookie}; __Host-why401-csrf={csrf}")),
        ],
        &format!("csrf={csrf}&code={code}&rd=%2Fapp%2Fx"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    // Known now: the next sign-in from France is usual.
    let r = form_from(addr, "203.0.113.77", "bob").await;
    let cookie = session_of(&r);
    let r = browse(addr, "203.0.113.77", &cookie).await;
    assert_eq!(r.status, 200);
    let got = events(&dir, 1).await;
    assert_eq!(got.len(), 1, "{got:?}");

    // A user with no second factor, signing in from somewhere unusual, may not enrol one then.
    let r = form_from(addr, "198.51.100.8", "alice").await;
    assert_eq!(r.status, 303);
    let r = form_from(addr, "192.0.2.50", "alice").await;
    let cookie = session_of(&r);
    let page = ask(
        addr,
        "/.why401/second-factor",
        &[("Host", HOST), ("Cookie", &cookie)],
    )
    .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(store.factors("alice").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_refuses_an_unusual_sign_in_with_its_finding() {
    let (dir, addr, _store) = start("deny", "").await;
    let auth = [("Authorization", ALICE)];
    assert_eq!(
        from(addr, "198.51.100.7", "/app/x", &auth).await.status,
        200
    );
    let r = from(addr, "203.0.113.9", "/app/x", &auth).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("gate-unusual-sign-in"), "{}", r.body);
    let r = form_from(addr, "203.0.113.9", "alice").await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("has not signed in from"), "{}", r.body);
    assert!(set_cookie(&r, "__Host-why401-session").is_none());
    // The audit log says why, for gate explain.
    let audit = std::fs::read_to_string(dir.gate.path().join("audit.jsonl")).unwrap();
    assert!(audit.contains("\"refusal\":\"unusual-sign-in\""), "{audit}");
    assert!(
        audit.contains("\"finding\":\"gate-unusual-sign-in\""),
        "{audit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_managed_device_is_one_a_trusted_proxy_verified() {
    // Without the option, the headers are not believed, whoever sends them.
    let (_dir, addr, _store) = start("notify", "").await;
    let auth = ("Authorization", ALICE);
    let r = from(
        addr,
        "198.51.100.7",
        "/device/x",
        &[
            auth,
            ("X-SSL-Client-Verify", "SUCCESS"),
            ("X-SSL-Client-S-DN", "CN=laptop-42,O=Example"),
        ],
    )
    .await;
    assert_eq!(
        r.status, 403,
        "headers believed without trust_client_cert_headers"
    );
    let (_dir, addr, _store) =
        start("notify", "[server]\ntrust_client_cert_headers = true\n").await;
    let r = from(addr, "198.51.100.7", "/device/x", &[auth]).await;
    assert_eq!(r.status, 403, "no certificate");
    let r = from(
        addr,
        "198.51.100.7",
        "/device/x",
        &[
            auth,
            ("X-SSL-Client-Verify", "FAILED:certificate has expired"),
            ("X-SSL-Client-S-DN", "CN=laptop-42"),
        ],
    )
    .await;
    assert_eq!(r.status, 403, "a certificate the proxy did not verify");
    let r = from(
        addr,
        "198.51.100.7",
        "/device/x",
        &[
            auth,
            ("X-SSL-Client-Verify", "SUCCESS"),
            ("X-SSL-Client-S-DN", "CN=laptop-42,O=Example"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
}
