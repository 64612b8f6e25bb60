//! Second factors over real HTTP: a rule that asks for one sends a signed-in browser to the
//! second-factor page; a user without one enrols a TOTP secret there (QR code, key, a first code
//! to confirm it) and gets recovery codes once; a code is good once; a recovery code is good
//! once; wrong codes lock the account as wrong passwords do; `[mfa] groups` and the admin
//! group give one wherever a password is asked; a rule's `step_up_minutes` asks again; Basic
//! gets 403 `step-up-required`. Everything lands in the audit log with its cause.

mod common;

use std::net::SocketAddr;

use common::{HOST, ORIGIN, Reply, ask, cookie_value, request, session_of, set_cookie, sign_in};
use why401_gate::factors;
use why401_gate::store::Store;

const CONFIG: &str = r#"
[mfa]
groups = ["finance"]

[lockout]
account_failures = 5

[[access.rule]]
name = "payroll"
paths = ["/app/payroll/"]
policy = "two_factor"
step_up_minutes = 5

[[access.rule]]
name = "reports"
paths = ["/app/report"]
policy = "two_factor"

[[access.rule]]
paths = ["/app/"]
policy = "one_factor"
"#;

const PW: &str = "correct horse battery staple";

async fn start(config: &str) -> (tempfile::TempDir, SocketAddr, Store) {
    common::gate(
        config,
        &[
            ("alice", PW, &["staff"]),
            ("fiona", PW, &["finance"]),
            ("root", PW, &["admins"]),
        ],
    )
    .await
}

/// Signs `user` in; the session cookie (`name=value`).
async fn session(addr: SocketAddr, user: &str) -> String {
    let r = sign_in(addr, user, PW, None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    session_of(&r)
}

/// The forward-auth decision for a browser with `cookie` on `path`.
async fn decide(addr: SocketAddr, cookie: &str, path: &str) -> Reply {
    ask(
        addr,
        "/.why401/authz/forward-auth",
        &[
            ("X-Original-URL", &format!("https://{HOST}{path}")),
            ("Accept", "text/html"),
            ("Cookie", cookie),
        ],
    )
    .await
}

/// GETs a page of the gateway with the session; the reply and its CSRF token.
async fn page(addr: SocketAddr, cookie: &str, path: &str) -> (Reply, String) {
    let r = ask(addr, path, &[("Host", HOST), ("Cookie", cookie)]).await;
    let csrf = set_cookie(&r, "__Host-why401-csrf")
        .map(|c| cookie_value(c).to_string())
        .unwrap_or_default();
    (r, csrf)
}

/// POSTs a form of the gateway's pages, with the session and the CSRF token.
async fn post(addr: SocketAddr, cookie: &str, csrf: &str, path: &str, form: &str) -> Reply {
    request(
        addr,
        "POST",
        path,
        &[
            ("Host", HOST),
            ("Origin", ORIGIN),
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &format!("{cookie}; __Host-why401-csrf={csrf}")),
        ],
        &format!("csrf={csrf}&{form}"),
    )
    .await
}

/// The key an enrolment page shows, as bytes.
fn key_on(page: &Reply) -> Vec<u8> {
    let b32 = page
        .body
        .split("<code id=\"totp-secret\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .unwrap_or_else(|| panic!("no key on the page: {}", page.body));
    factors::from_base32(b32).unwrap()
}

fn now() -> u64 {
    jiff::Timestamp::now().as_second() as u64
}

/// The audit log's lines, parsed.
fn audit(dir: &tempfile::TempDir) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.path().join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Enrols a TOTP secret for the signed-in user through the pages; the secret and the recovery
/// codes shown.
async fn enrol(addr: SocketAddr, cookie: &str) -> (Vec<u8>, Vec<String>) {
    let (p, csrf) = page(addr, cookie, "/.why401/second-factor?rd=%2Fapp%2Freport").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("<svg"), "a QR code: {}", p.body);
    assert!(p.body.contains("id=\"passkey-register\""), "{}", p.body);
    let csp = p.header("content-security-policy").unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    let secret = key_on(&p);
    let factor = p
        .body
        .split("name=\"factor\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    // A wrong first code does not confirm it; the same key is shown again.
    let wrong = (factors::totp_code(&secret, now()).parse::<u32>().unwrap() + 1) % 1_000_000;
    let r = post(
        addr,
        cookie,
        &csrf,
        "/.why401/second-factor/enrol",
        &format!("factor={factor}&code={wrong:06}&rd=%2Fapp%2Freport"),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(key_on(&r), secret);
    let csrf = cookie_value(set_cookie(&r, "__Host-why401-csrf").unwrap()).to_string();
    let code = factors::totp_code(&secret, now());
    let r = post(
        addr,
        cookie,
        &csrf,
        "/.why401/second-factor/enrol",
        &format!("factor={factor}&code={code}&rd=%2Fapp%2Freport"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let codes: Vec<String> = r
        .body
        .split("<pre id=\"recovery-codes\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or_else(|| panic!("no recovery codes: {}", r.body))
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(codes.len(), factors::RECOVERY_CODES);
    (secret, codes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_enrols_totp_after_the_password_and_each_code_is_good_once() {
    let (dir, addr, store) = start(CONFIG).await;
    let cookie = session(addr, "alice").await;
    // A password is enough for /app/; a two_factor rule sends the browser to the second-factor
    // page on the app's host, with the way back.
    assert_eq!(decide(addr, &cookie, "/app/home").await.status, 200);
    let r = decide(addr, &cookie, "/app/report").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("https://app.example.com/.why401/second-factor?rd=%2Fapp%2Freport")
    );
    // The login page, for a browser with a session (nginx's error_page sends it there), goes on
    // to the second-factor page.
    let (r, _) = page(addr, &cookie, "/.why401/login?rd=%2Fapp%2Freport").await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("/.why401/second-factor?rd=%2Fapp%2Freport")
    );

    let (secret, codes) = enrol(addr, &cookie).await;
    assert_eq!(decide(addr, &cookie, "/app/report").await.status, 200);
    let stored = store.factors("alice").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].confirmed);
    // The secret is sealed in the store, not written as it is.
    let raw = stored[0].secret.clone().unwrap();
    assert!(!raw.windows(secret.len()).any(|w| w == secret.as_slice()));
    assert_eq!(store.recovery_codes_left("alice").await.unwrap(), 10);

    // A new session: the code just used is refused (the same time step), the next one is
    // taken.
    let second = session(addr, "alice").await;
    assert_eq!(decide(addr, &second, "/app/report").await.status, 302);
    let (p, csrf) = page(addr, &second, "/.why401/second-factor?rd=%2Fapp%2Freport").await;
    assert!(
        p.body.contains("autocomplete=\"one-time-code\""),
        "{}",
        p.body
    );
    let used = factors::totp_code(&secret, now());
    let r = post(
        addr,
        &second,
        &csrf,
        "/.why401/second-factor",
        &format!("code={used}&rd=%2Fapp%2Freport"),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(r.body.contains("used already"), "{}", r.body);
    let csrf = cookie_value(set_cookie(&r, "__Host-why401-csrf").unwrap()).to_string();
    let next = factors::totp_code(&secret, now() + 30);
    let r = post(
        addr,
        &second,
        &csrf,
        "/.why401/second-factor",
        &format!("code={next}&rd=%2Fapp%2Freport"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/app/report"));
    assert_eq!(decide(addr, &second, "/app/report").await.status, 200);

    // A recovery code, once.
    let third = session(addr, "alice").await;
    let (_, csrf) = page(addr, &third, "/.why401/second-factor").await;
    let r = post(
        addr,
        &third,
        &csrf,
        "/.why401/second-factor",
        &format!("code={}&rd=%2Fapp%2Freport", codes[0].to_uppercase()),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(store.recovery_codes_left("alice").await.unwrap(), 9);
    let fourth = session(addr, "alice").await;
    let (_, csrf) = page(addr, &fourth, "/.why401/second-factor").await;
    let r = post(
        addr,
        &fourth,
        &csrf,
        "/.why401/second-factor",
        &format!("code={}", codes[0]),
    )
    .await;
    assert_eq!(r.status, 401, "{}", r.body);

    // The audit log says which code was refused and why.
    let lines = audit(&dir);
    let refusals: Vec<&str> = lines.iter().filter_map(|l| l["refusal"].as_str()).collect();
    assert_eq!(refusals, ["wrong-code", "code-reused", "wrong-code"]);
    let explained = why401_gate::audit::explain(
        &serde_json::from_value::<Vec<why401_gate::audit::Entry>>(serde_json::Value::Array(
            lines
                .into_iter()
                .filter(|l| l["refusal"] == "code-reused")
                .collect(),
        ))
        .unwrap(),
    );
    assert!(explained.contains("used before"), "{explained}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_lock_the_account_as_wrong_passwords_do() {
    let (_dir, addr, store) = start(CONFIG).await;
    let cookie = session(addr, "alice").await;
    let (secret, _) = enrol(addr, &cookie).await;
    // Five wrong codes (the limit here), each pair from a new sign-in with the right password:
    // a right password does not clear the count of wrong second factors.
    let mut other = session(addr, "alice").await;
    for i in 0..5 {
        if i % 2 == 1 {
            other = session(addr, "alice").await;
        }
        let (_, csrf) = page(addr, &other, "/.why401/second-factor").await;
        let r = post(addr, &other, &csrf, "/.why401/second-factor", "code=000000").await;
        assert_eq!(r.status, 401);
    }
    let bans = store
        .bans(jiff::Timestamp::now().as_second())
        .await
        .unwrap();
    assert!(
        bans.iter()
            .any(|b| b.kind == "user" && b.key == "alice (second factor)"),
        "{bans:?}"
    );
    // Locked: even the right code is refused now, after yet another right password.
    let other = session(addr, "alice").await;
    let (_, csrf) = page(addr, &other, "/.why401/second-factor").await;
    let code = factors::totp_code(&secret, now() + 30);
    let r = post(
        addr,
        &other,
        &csrf,
        "/.why401/second-factor",
        &format!("code={code}"),
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Too many failed attempts"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_admins_give_a_second_factor_and_step_up_asks_again() {
    let (_dir, addr, store) = start(CONFIG).await;
    // fiona (finance, an [mfa] group) and root (admins, the admin group): a one_factor rule
    // asks them for a second factor; alice (staff) passes with her password.
    for user in ["fiona", "root"] {
        let cookie = session(addr, user).await;
        let r = decide(addr, &cookie, "/app/home").await;
        assert_eq!(r.status, 302, "{user}");
        assert!(
            r.header("location")
                .unwrap()
                .contains("/.why401/second-factor?rd=%2Fapp%2Fhome")
        );
        // With Basic there is nowhere to give it: 403 step-up-required, no challenge.
        let basic = format!(
            "Basic {}",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                format!("{user}:{PW}")
            )
        );
        let r = ask(
            addr,
            "/.why401/authz/forward-auth",
            &[
                ("X-Original-URL", "https://app.example.com/app/home"),
                ("Authorization", &basic),
            ],
        )
        .await;
        assert_eq!(r.status, 403, "{}", r.body);
        assert!(r.body.contains("step-up-required"), "{}", r.body);
        assert!(r.header("www-authenticate").is_none());
    }
    let alice = session(addr, "alice").await;
    assert_eq!(decide(addr, &alice, "/app/home").await.status, 200);

    // Step-up: payroll wants a second factor from the last 5 minutes.
    let cookie = session(addr, "fiona").await;
    enrol(addr, &cookie).await;
    assert_eq!(decide(addr, &cookie, "/app/payroll/run").await.status, 200);
    let token = cookie.split_once('=').unwrap().1;
    store
        .age_session(&why401_gate::web::token_hash(token), 6 * 60)
        .await
        .unwrap();
    // Still signed in, still past the one-factor rules' second factor; payroll asks again.
    assert_eq!(decide(addr, &cookie, "/app/home").await.status, 200);
    let r = decide(addr, &cookie, "/app/payroll/run").await;
    assert_eq!(r.status, 302);
    assert!(r.header("location").unwrap().contains("second-factor"));
    // An API client with that session: 403 with the reason, not a redirect.
    let r = ask(
        addr,
        "/.why401/authz/forward-auth",
        &[
            ("X-Original-URL", "https://app.example.com/app/payroll/run"),
            ("Accept", "application/json"),
            ("Cookie", &cookie),
        ],
    )
    .await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("within 5 minutes"), "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_enrolment_at_login_a_user_with_no_factor_is_told_to_ask_an_admin() {
    let config = CONFIG.replace("[mfa]\n", "[mfa]\nenroll_on_login = false\n");
    let (_dir, addr, store) = start(&config).await;
    let cookie = session(addr, "alice").await;
    let (p, _) = page(addr, &cookie, "/.why401/second-factor?rd=%2Fapp%2Freport").await;
    assert_eq!(p.status, 403);
    assert!(p.body.contains("why401 gate totp enroll"), "{}", p.body);
    assert!(store.factors("alice").await.unwrap().is_empty());
    // A forged enrolment POST is refused too.
    let (_, csrf) = page(addr, &cookie, "/.why401/login").await;
    let r = post(
        addr,
        &cookie,
        &csrf,
        "/.why401/second-factor/enrol",
        "factor=x&code=123456",
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(store.factors("alice").await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_factor_pages_need_a_session_and_a_recent_second_factor() {
    let (_dir, addr, _store) = start(CONFIG).await;
    // No session: to the login page.
    let r = ask(addr, "/.why401/second-factor", &[("Host", HOST)]).await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/.why401/login"));
    let r = request(
        addr,
        "POST",
        "/.why401/webauthn/register/start",
        &[
            ("Host", HOST),
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
        ],
        "{}",
    )
    .await;
    assert_eq!(r.status, 403, "no CSRF token: {}", r.body);
    // With a session and a second factor: the factors page lists it.
    let cookie = session(addr, "alice").await;
    enrol(addr, &cookie).await;
    let (p, csrf) = page(addr, &cookie, "/.why401/factors").await;
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.body.contains("authenticator app (totp)"), "{}", p.body);
    assert!(p.body.contains("10 recovery codes left"), "{}", p.body);
    // A WebAuthn ceremony starts for this host (the options name it as the relying party).
    let r = request(
        addr,
        "POST",
        "/.why401/webauthn/register/start",
        &[
            ("Host", HOST),
            ("Origin", ORIGIN),
            ("Content-Type", "application/json"),
            ("X-Why401-Csrf", &csrf),
            ("Cookie", &format!("{cookie}; __Host-why401-csrf={csrf}")),
        ],
        "{}",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["options"]["publicKey"]["rp"]["id"], HOST);
    assert_eq!(
        v["options"]["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    // A made-up answer to it is refused, and the ceremony is used up.
    let bogus = serde_json::json!({
        "ceremony": v["ceremony"],
        "credential": {
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": {"attestationObject": "AAAA", "clientDataJSON": "AAAA"},
            "extensions": {}
        }
    });
    let finish = |body: String| {
        let cookie = cookie.clone();
        let csrf = csrf.clone();
        async move {
            request(
                addr,
                "POST",
                "/.why401/webauthn/register/finish",
                &[
                    ("Host", HOST),
                    ("Origin", ORIGIN),
                    ("Content-Type", "application/json"),
                    ("X-Why401-Csrf", &csrf),
                    ("Cookie", &format!("{cookie}; __Host-why401-csrf={csrf}")),
                ],
                &body,
            )
            .await
        }
    };
    let r = finish(bogus.to_string()).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("did not verify"), "{}", r.body);
    let r = finish(bogus.to_string()).await;
    assert_eq!(r.status, 400);
    assert!(r.body.contains("unknown, expired or used"), "{}", r.body);
}

/// A webhook that fails its first `fail` deliveries and then takes them; what it took.
async fn webhook(
    fail: usize,
) -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
) {
    use std::sync::{Arc, Mutex};
    let got: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let tries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (g, t) = (got.clone(), tries.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |body: String| {
            let (g, t) = (g.clone(), t.clone());
            async move {
                if t.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < fail {
                    return http::StatusCode::SERVICE_UNAVAILABLE;
                }
                g.lock().unwrap().push(serde_json::from_str(&body).unwrap());
                http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lockouts_and_factor_changes_are_told_to_the_webhook_and_the_command() {
    // The webhook fails twice first: the retries deliver each event anyway, and no request
    // waited for them.
    let (url, got) = webhook(2).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.jsonl");
    let config = format!(
        "{CONFIG}\n[notify]\nwebhook = \"{url}\"\ncommand = [\"sh\", \"-c\", \"cat >> '{}'; echo >> '{}'\"]\nretries = 3\n",
        file.display(),
        file.display()
    );
    let (_dir, addr, _store) = start(&config).await;
    let cookie = session(addr, "alice").await;
    enrol(addr, &cookie).await;
    for _ in 0..5 {
        let r = sign_in(addr, "alice", "not her password", None).await;
        assert_eq!(r.status, 200);
    }
    let mut events = Vec::new();
    for _ in 0..100 {
        events = got.lock().unwrap().clone();
        if events.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["factor-changed", "lockout"], "{events:?}");
    assert_eq!(events[0]["user"], "alice");
    assert!(
        events[1]["detail"]
            .as_str()
            .unwrap()
            .contains("alice is locked"),
        "{events:?}"
    );
    // The command got the same events, one JSON document each.
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = std::fs::read_to_string(&file)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        if lines.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[1].contains("\"event\":\"lockout\""), "{lines:?}");
}

#[test]
fn gate_check_says_when_a_group_or_a_step_up_asks_for_a_second_factor() {
    use why401_gate::check::Check;
    use why401_gate::{Config, Identity, Request};
    let config = Config::parse(CONFIG, "gate.toml").unwrap();
    let report = |user: &str, groups: &[&str], path: &str| {
        let who = Identity {
            user: user.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..Default::default()
        };
        let request = Request {
            host: HOST,
            path,
            method: "GET",
            ip: "127.0.0.1".parse().unwrap(),
            at: jiff::Timestamp::now(),
            who: Some(&who),
            country: None,
            device: None,
        };
        let decision = config.policy.decide(&request);
        Check::new(&config, &request, &decision)
    };
    let c = report("alice", &["staff"], "/app/home");
    assert!(c.passes, "{c}");
    let c = report("fiona", &["finance"], "/app/home");
    assert!(!c.passes);
    assert!(
        c.answer.contains("members of finance always give one"),
        "{c}"
    );
    let c = report("root", &["admins"], "/app/home");
    assert!(c.answer.contains("members of admins"), "{c}");
    let c = report("alice", &["staff"], "/app/payroll/run");
    assert!(c.answer.contains("within the last 5 minutes"), "{c}");
}
