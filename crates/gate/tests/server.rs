//! The decision endpoints over real HTTP on loopback: a browser sent to log in with a return URL
//! only to allowed hosts, an API client given 401 with the challenge, Basic verified once and
//! then remembered until the password changes, 403 for the refused, the client's address taken
//! only from a trusted proxy, and 503 when the store fails.

use std::net::SocketAddr;

mod common;

use common::ask;
use why401_gate::password;
use why401_gate::store::Store;

const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"
realm = "apps"

# `admins` is the app's group here, not the gateway's (whose members always give a second
# factor, which Basic cannot carry).
[admin]
group = "gate-operators"

[networks]
office = ["10.0.0.0/8"]

[[access.rule]]
paths = ["/public/"]
policy = "bypass"

[[access.rule]]
paths = ["/admin/"]
subjects = ["group:admins"]
policy = "one_factor"

[[access.rule]]
paths = ["/admin/"]
policy = "deny"

[[access.rule]]
paths = ["/office/"]
networks = ["office"]
policy = "one_factor"

[[access.rule]]
paths = ["/app/"]
policy = "one_factor"
"#;

async fn start() -> (tempfile::TempDir, SocketAddr, Store) {
    common::gate(
        CONFIG,
        &[
            ("alice", "correct horse battery staple", &["admins"]),
            ("bob", "tricky mule forty lantern", &[]),
        ],
    )
    .await
}

const FA: &str = "/.why401/authz/forward-auth";
const NAV: [(&str, &str); 2] = [
    ("Accept", "text/html,*/*;q=0.8"),
    ("Sec-Fetch-Mode", "navigate"),
];

fn basic(user: &str, pw: &str) -> String {
    format!("Basic {}", why401_wire::basic::encode(user, pw))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_decision_endpoints_answer_each_case_correctly() {
    let (_dir, addr, store) = start().await;
    let url = |u: &'static str| ("X-Original-URL", u);

    // A browser without credentials: to the login page on the app's host, back to the path.
    let r = ask(
        addr,
        FA,
        &[url("https://app.example.com/app/x?y=1"), NAV[0], NAV[1]],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("https://app.example.com/.why401/login?rd=%2Fapp%2Fx%3Fy%3D1")
    );
    // nginx's auth_request cannot follow a redirect: it gets the 401 its error_page handles.
    let r = ask(
        addr,
        "/.why401/authz/auth-request",
        &[url("https://app.example.com/app/"), NAV[0], NAV[1]],
    )
    .await;
    assert_eq!(r.status, 401);
    // Each endpoint reads its own proxy's headers: X-Original-URL means nothing to the
    // forward-auth endpoint (Traefik and Caddy pass it on from the client).
    let r = common::request(
        addr,
        "GET",
        FA,
        &[
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "app.example.com"),
            ("X-Forwarded-Uri", "/admin/"),
            // A client's own header, passed on by Traefik: a bypass path, not believed here.
            ("X-Original-URL", "https://app.example.com/public/x"),
        ],
        "",
    )
    .await;
    assert_eq!(r.status, 401, "judged as /admin/ from X-Forwarded-Uri");

    // An API client: 401, the challenge, a problem document.
    let r = ask(
        addr,
        FA,
        &[
            url("https://app.example.com/app/x"),
            ("Accept", "application/json"),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.header("www-authenticate"),
        Some("Basic realm=\"apps\", charset=\"UTF-8\"")
    );
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["finding"], "no-credentials-sent");
    assert_eq!(p["request_id"].as_str(), r.header("x-request-id"));

    // Right credentials: through, with the identity for the proxy to pass on.
    let alice = basic("alice", "correct horse battery staple");
    let r = ask(
        addr,
        FA,
        &[
            url("https://app.example.com/admin/"),
            ("Authorization", &alice),
        ],
    )
    .await;
    assert_eq!(
        (r.status, r.header("remote-user"), r.header("remote-groups")),
        (200, Some("alice"), Some("admins"))
    );
    // Authenticated and not allowed: 403, never a redirect, even for a browser.
    let bob = basic("bob", "tricky mule forty lantern");
    let r = ask(
        addr,
        FA,
        &[
            url("https://app.example.com/admin/"),
            ("Authorization", &bob),
            NAV[0],
            NAV[1],
        ],
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.header("location").is_none());
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["finding"], "gate-policy-denied");

    // Unknown user, wrong password, disabled: the same answer.
    let answers = [
        basic("mallory", "correct horse battery staple"),
        basic("alice", "wrong"),
    ];
    let mut bodies = Vec::new();
    for a in &answers {
        let r = ask(
            addr,
            FA,
            &[url("https://app.example.com/app/"), ("Authorization", a)],
        )
        .await;
        assert_eq!(r.status, 401);
        let mut p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        p["request_id"] = "-".into();
        bodies.push((r.header("www-authenticate").map(String::from), p));
    }
    store.set_disabled("bob", true).await.unwrap();
    // A change made elsewhere (here: straight in the store, as the CLI does) is seen within the
    // gateway's poll of the store's change counter.
    tokio::time::sleep(why401_gate::fresh::POLL * 2).await;
    let r = ask(
        addr,
        FA,
        &[url("https://app.example.com/app/"), ("Authorization", &bob)],
    )
    .await;
    let mut p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    p["request_id"] = "-".into();
    bodies.push((r.header("www-authenticate").map(String::from), p));
    assert!(bodies.windows(2).all(|w| w[0] == w[1]), "{bodies:?}");
    assert_eq!(bodies[0].1["finding"], "credentials-rejected");

    // A bypass rule needs nothing.
    let r = ask(addr, FA, &[url("https://app.example.com/public/a.css")]).await;
    assert_eq!(r.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_is_remembered_until_the_password_changes_and_the_client_is_the_proxy_s_word() {
    let (_dir, addr, store) = start().await;
    let url = ("X-Original-URL", "https://app.example.com/app/");
    let alice = basic("alice", "correct horse battery staple");
    for _ in 0..3 {
        let r = ask(addr, FA, &[url, ("Authorization", &alice)]).await;
        assert_eq!(r.status, 200);
    }
    // A new password, set by another process (the CLI), ends the remembered one within the
    // gateway's poll of the store's change counter.
    store
        .set_hash(
            "alice",
            &password::hash("a brand new passphrase here"),
            true,
        )
        .await
        .unwrap();
    tokio::time::sleep(why401_gate::fresh::POLL * 2).await;
    let r = ask(addr, FA, &[url, ("Authorization", &alice)]).await;
    assert_eq!(r.status, 401);

    // The office rule sees the client's address from the trusted proxy's X-Forwarded-For.
    let bob = basic("bob", "tricky mule forty lantern");
    let office = ("X-Original-URL", "https://app.example.com/office/");
    let r = ask(
        addr,
        FA,
        &[
            office,
            ("Authorization", &bob),
            ("X-Forwarded-For", "10.1.2.3"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
    let r = ask(
        addr,
        FA,
        &[
            office,
            ("Authorization", &bob),
            ("X-Forwarded-For", "10.1.2.3, 198.51.100.7"),
        ],
    )
    .await;
    assert_eq!(
        r.status, 403,
        "the right-most untrusted address is the client"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_trusted_proxy_or_a_store_nothing_is_let_through() {
    // Loopback is not trusted here: the endpoint will not decide.
    let (_dir, addr, _store) = common::gate(
        "[server]\ntrusted_proxies = [\"192.0.2.1\"]\n[[access.rule]]\npolicy = \"one_factor\"\n",
        &[],
    )
    .await;
    let r = ask(addr, FA, &[("X-Original-URL", "https://app.example.com/")]).await;
    assert_eq!(r.status, 400);

    // The store's file gone from under a running gateway: 503, fail closed.
    let (dir, addr, store) = start().await;
    drop(dir);
    store.close().await;
    let r = ask(
        addr,
        FA,
        &[
            ("X-Original-URL", "https://app.example.com/app/"),
            (
                "Authorization",
                &basic("alice", "correct horse battery staple"),
            ),
        ],
    )
    .await;
    assert_eq!(r.status, 503);
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["finding"], "gate-store-unavailable");
    assert_eq!(r.header("retry-after"), Some("5"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_is_one_audit_line_with_what_the_client_was_not_told() {
    let (dir, addr, _store) = start().await;
    let url = ("X-Original-URL", "https://app.example.com/app/");
    let mut ids = Vec::new();
    for auth in [
        None,
        Some(basic("alice", "correct horse battery staple")),
        Some(basic("alice", "wrong")),
        Some(basic("mallory", "x")),
    ] {
        let mut h = vec![url];
        if let Some(a) = &auth {
            h.push(("Authorization", a));
        }
        let r = ask(addr, FA, &h).await;
        ids.push(r.header("x-request-id").unwrap().to_string());
    }
    let log = dir.path().join("audit.jsonl");
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.lines().count(), 4, "{lines}");
    let entry = |i: usize| {
        let (found, bad) = why401_gate::audit::find(&log, &ids[i]).unwrap();
        assert_eq!((found.len(), bad), (1, 0));
        found.into_iter().next().unwrap()
    };
    let e = entry(0);
    assert_eq!(
        (e.status, e.result.as_str(), e.finding.as_deref()),
        (401, "login", Some("no-credentials-sent"))
    );
    let e = entry(1);
    assert_eq!(
        (e.status, e.result.as_str(), e.user.as_deref()),
        (200, "allow", Some("alice"))
    );
    assert_eq!(e.check.unwrap().rules.last().unwrap().name, "rule 5");
    for (i, why) in [(2, "wrong-password"), (3, "unknown-user")] {
        let e = entry(i);
        assert_eq!(e.result, "rejected");
        assert_eq!(serde_json::to_value(e.refusal).unwrap(), why);
    }
    // The log holds no password and no credentials.
    assert!(!lines.contains("correct horse") && !lines.contains("Basic "));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_account_looks_like_a_wrong_password_and_a_throttled_address_is_told_to_wait() {
    let (_dir, addr, store) = start().await;
    let url = ("X-Original-URL", "https://app.example.com/app/");
    let answer = |r: &common::Reply| {
        let mut p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        p["request_id"] = "-".into();
        (r.status, r.header("www-authenticate").map(String::from), p)
    };
    let wrong = basic("alice", "wrong");
    let mut first = None;
    for i in 0..5 {
        let from = format!("192.0.2.{i}");
        let r = ask(
            addr,
            FA,
            &[url, ("Authorization", &wrong), ("X-Forwarded-For", &from)],
        )
        .await;
        first.get_or_insert_with(|| answer(&r));
    }
    assert!(store.ban("user", "alice").await.unwrap().is_some());
    let right = basic("alice", "correct horse battery staple");
    let r = ask(
        addr,
        FA,
        &[
            url,
            ("Authorization", &right),
            ("X-Forwarded-For", "192.0.2.9"),
        ],
    )
    .await;
    assert_eq!(
        Some(answer(&r)),
        first,
        "a locked account answers as a wrong password does"
    );

    // Twenty failures from one address: it is told to wait (an address, not an account).
    for i in 0..20 {
        let who = basic(&format!("nobody{i}"), "x");
        ask(
            addr,
            FA,
            &[
                url,
                ("Authorization", &who),
                ("X-Forwarded-For", "203.0.113.7"),
            ],
        )
        .await;
    }
    let bob = basic("bob", "tricky mule forty lantern");
    let r = ask(
        addr,
        FA,
        &[
            url,
            ("Authorization", &bob),
            ("X-Forwarded-For", "203.0.113.7"),
        ],
    )
    .await;
    assert_eq!(r.status, 429);
    let p: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(p["finding"], "gate-throttled");
    let wait: i64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((800..=900).contains(&wait), "{wait}");
    let r = ask(
        addr,
        FA,
        &[
            url,
            ("Authorization", &bob),
            ("X-Forwarded-For", "192.0.2.77"),
        ],
    )
    .await;
    assert_eq!(r.status, 200);
}

#[test]
fn paths_are_judged_decoded_and_ambiguous_ones_refused() {
    use why401_gate::server::normalised_path as n;
    assert_eq!(n("/%61dmin/").as_deref(), Some("/admin/"));
    assert_eq!(n("/x/%2e%2e/admin").as_deref(), Some("/admin"));
    assert_eq!(n("/a/./b/../c/").as_deref(), Some("/a/c/"));
    assert_eq!(n("/caf%C3%A9").as_deref(), Some("/café"));
    // Runs of slashes are one, as nginx reads them, before dot segments are resolved.
    assert_eq!(n("/public//../admin/x").as_deref(), Some("/admin/x"));
    assert_eq!(n("//admin/x").as_deref(), Some("/admin/x"));
    // What the app gets is the raw path: only a plain one is judged at all.
    use why401_gate::server::plain_target as plain;
    for ok in [
        "/",
        "/admin/",
        "/a/b",
        "/caf%C3%A9",
        "/a%20b",
        "/x.y/..z/.w",
    ] {
        assert!(plain(ok), "{ok}");
    }
    for bad in [
        "/public//../admin/x",
        "//admin/x",
        "/admin/x/../../public",
        "/a/./b",
        "/a/..",
        "/%61dmin/",
        "/x/%2e%2e/admin",
        "/x/%2E/",
        "/a\\b",
        "admin",
    ] {
        assert!(!plain(bad), "{bad}");
    }
    for bad in [
        "/a%2Fb",
        "/a%2fb",
        "/a%5Cb",
        "/a%00",
        "/public/..;/admin/",
        "/x;jsessionid=1",
        "/%ff",
        "/a%0a",
        "/%zz",
    ] {
        assert_eq!(n(bad), None, "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_sees_what_the_app_will_serve() {
    let (_dir, addr, _store) = start().await;
    let bob = basic("bob", "tricky mule forty lantern");
    // A path an app may read as another than the rules would judge is refused, not judged:
    // an encoded letter (/%61dmin/), dot segments after a double slash or in the raw path the
    // app gets (nginx's $request_uri is raw).
    for bad in [
        "https://app.example.com/%61dmin/",
        "https://app.example.com/public//../admin/x",
        "https://app.example.com/public/x/../../admin/x",
        "https://app.example.com//admin/x",
        "https://app.example.com/public/%2e%2e/admin/",
        "https://app.example.com/public/..;/admin/",
        "https://app.example.com/a%2F..%2Fadmin/",
    ] {
        let r = ask(
            addr,
            FA,
            &[("X-Original-URL", bad), ("Authorization", &bob)],
        )
        .await;
        assert_eq!(r.status, 400, "{bad}");
    }
    // A trailing dot is the same host; an X-Forwarded-For entry that is no address stops.
    let r = ask(
        addr,
        "/.why401/authz/auth-request",
        &[
            ("X-Original-URL", "https://app.example.com./admin/"),
            ("Authorization", &bob),
        ],
    )
    .await;
    assert_eq!(r.status, 403);
    let r = ask(
        addr,
        FA,
        &[
            ("X-Original-URL", "https://app.example.com/office/"),
            ("Authorization", &bob),
            ("X-Forwarded-For", "10.1.2.3:5555"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "an ip:port entry is its address");
    let r = ask(
        addr,
        FA,
        &[
            ("X-Original-URL", "https://app.example.com/office/"),
            ("Authorization", &bob),
            ("X-Forwarded-For", "10.1.2.3, unknown"),
        ],
    )
    .await;
    assert_eq!(r.status, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subject_rule_makes_an_anonymous_request_log_in_whatever_it_grants() {
    assert!(
        why401_gate::Config::parse(
            "[[access.rule]]\nsubjects = [\"group:x\"]\npolicy = \"bypass\"\n",
            "g.toml"
        )
        .is_err()
    );
    let (_dir, addr, _store) = common::gate(
        "[[access.rule]]\npaths = [\"/fin/\"]\nsubjects = [\"group:finance\"]\npolicy = \"deny\"\n[access]\ndefault_policy = \"one_factor\"\n",
        &[],
    )
    .await;
    let r = ask(
        addr,
        FA,
        &[("X-Original-URL", "https://app.example.com/fin/q")],
    )
    .await;
    assert_eq!(
        r.status, 401,
        "log in first: only then can group:finance be judged"
    );
}
