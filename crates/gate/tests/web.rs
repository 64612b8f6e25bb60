//! The browser flow over real HTTP: sent to the login page on the app's own host, the form
//! (CSRF-protected, the same message for every refusal), the `__Host-` session cookie it sets,
//! the session then recognised by the decision endpoint, a new session at each login, the idle
//! and disabled cases, and logout.

mod common;

use std::net::SocketAddr;

use common::{HOST, ORIGIN, ask, cookie_value, request, set_cookie, sign_in};
use why401_gate::store::Store;

const CONFIG: &str = "[[access.rule]]\npaths = [\"/app/\"]\npolicy = \"one_factor\"\n";

async fn start(config: &str) -> (tempfile::TempDir, SocketAddr, Store) {
    common::gate(
        config,
        &[("alice", "correct horse battery staple", &["staff"])],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_signs_in_on_the_app_s_host_and_its_session_lets_it_through() {
    let (_dir, addr, store) = start(CONFIG).await;
    // Without a session: to the login page on the app's own host, back to a path only.
    let r = ask(
        addr,
        "/.why401/authz/forward-auth",
        &[
            ("X-Original-URL", "https://app.example.com/app/report?q=1"),
            ("Accept", "text/html"),
        ],
    )
    .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.header("location"),
        Some("https://app.example.com/.why401/login?rd=%2Fapp%2Freport%3Fq%3D1")
    );

    // The page: no script, not framed, not cached; fields for password managers.
    let page = ask(addr, "/.why401/login?rd=%2Fapp%2F", &[("Host", HOST)]).await;
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    assert!(
        page.body.contains("autocomplete=\"current-password\"") && !page.body.contains("<script")
    );
    assert_eq!(
        set_cookie(&page, "__Host-why401-csrf").map(|c| c.split_once(';').unwrap().1),
        Some(" Path=/; Secure; HttpOnly; SameSite=Lax")
    );

    let r = sign_in(addr, "alice", "correct horse battery staple", None).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.header("location"), Some("/app/report?q=1"));
    let session = set_cookie(&r, "__Host-why401-session").unwrap();
    assert!(
        session.ends_with("; Path=/; Secure; HttpOnly; SameSite=Lax"),
        "{session}"
    );
    let token = cookie_value(session).to_string();
    // Only the token's hash is stored.
    let stored = store.sessions(Some("alice")).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].id, token);

    let cookie = format!("__Host-why401-session={token}");
    let through = |cookie: String| async move {
        ask(
            addr,
            "/.why401/authz/forward-auth",
            &[
                ("X-Original-URL", "https://app.example.com/app/report"),
                ("Accept", "text/html"),
                ("Cookie", &cookie),
            ],
        )
        .await
    };
    let r = through(cookie.clone()).await;
    assert_eq!((r.status, r.header("remote-user")), (200, Some("alice")));
    // The same cookie replayed to another host (by an app that saw it) is no session there.
    let r = ask(
        addr,
        "/.why401/authz/forward-auth",
        &[
            ("X-Original-URL", "https://git.example.com/app/report"),
            ("Cookie", &cookie),
        ],
    )
    .await;
    assert_eq!(r.status, 401);

    // A new login makes a new session and ends the one the browser came with.
    let r = sign_in(addr, "alice", "correct horse battery staple", Some(&cookie)).await;
    let token2 = cookie_value(set_cookie(&r, "__Host-why401-session").unwrap()).to_string();
    assert_ne!(token, token2);
    assert_eq!(through(cookie.clone()).await.status, 302);
    let cookie2 = format!("__Host-why401-session={token2}");
    assert_eq!(through(cookie2.clone()).await.status, 200);

    // A disabled user's session ends (the disable made elsewhere, as the CLI does, is seen
    // within the gateway's poll of the store's change counter).
    store.set_disabled("alice", true).await.unwrap();
    tokio::time::sleep(why401_gate::fresh::POLL * 2).await;
    assert_eq!(through(cookie2.clone()).await.status, 302);
    assert!(store.sessions(Some("alice")).await.unwrap().is_empty());
    store.set_disabled("alice", false).await.unwrap();

    // Logout ends the session and clears the cookie.
    let r = sign_in(addr, "alice", "correct horse battery staple", None).await;
    let cookie3 = format!(
        "__Host-why401-session={}",
        cookie_value(set_cookie(&r, "__Host-why401-session").unwrap())
    );
    let out = request(
        addr,
        "POST",
        "/.why401/logout",
        &[("Host", HOST), ("Cookie", &cookie3), ("Origin", ORIGIN)],
        "",
    )
    .await;
    assert_eq!(out.status, 303);
    assert!(
        set_cookie(&out, "__Host-why401-session")
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(through(cookie3).await.status, 302);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_form_refuses_alike_and_refuses_forged_posts() {
    let (_dir, addr, store) = start(CONFIG).await;
    let wrong = sign_in(addr, "alice", "not her password", None).await;
    let unknown = sign_in(addr, "mallory", "correct horse battery staple", None).await;
    store.set_disabled("alice", true).await.unwrap();
    let disabled = sign_in(addr, "alice", "correct horse battery staple", None).await;
    for r in [&wrong, &unknown, &disabled] {
        assert_eq!(r.status, 200);
        assert!(r.body.contains("The user name or password is not right."));
        assert!(set_cookie(r, "__Host-why401-session").is_none());
    }
    store.set_disabled("alice", false).await.unwrap();
    // The user name typed is kept (escaped), the password never.
    let odd = sign_in(addr, "<b>x</b>", "pw", None).await;
    assert!(odd.body.contains("value=\"&lt;b&gt;x&lt;/b&gt;\""));

    // A POST from another site, or without the CSRF cookie, does not sign in.
    let page = ask(addr, "/.why401/login", &[("Host", HOST)]).await;
    let csrf = cookie_value(set_cookie(&page, "__Host-why401-csrf").unwrap()).to_string();
    let form = format!("username=alice&password=correct+horse+battery+staple&csrf={csrf}&rd=%2F");
    let forged = [
        vec![
            ("Origin", "https://evil.example.net".to_string()),
            ("Cookie", format!("__Host-why401-csrf={csrf}")),
        ],
        vec![("Origin", ORIGIN.to_string())],
        vec![
            ("Origin", ORIGIN.to_string()),
            ("Cookie", "__Host-why401-csrf=other".to_string()),
        ],
        vec![
            ("Sec-Fetch-Site", "cross-site".to_string()),
            ("Cookie", format!("__Host-why401-csrf={csrf}")),
        ],
    ];
    for extra in forged {
        let mut h = vec![
            ("Host", HOST),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ];
        h.extend(extra.iter().map(|(k, v)| (*k, v.as_str())));
        let r = request(addr, "POST", "/.why401/login", &h, &form).await;
        assert_eq!(r.status, 403, "{extra:?}");
        assert!(set_cookie(&r, "__Host-why401-session").is_none());
    }
    // The return path stays on this host.
    for (rd, back) in [
        ("https://evil.example.net/", "/"),
        ("//evil.example.net/", "/"),
        ("/\\evil", "/"),
        ("/app/x", "/app/x"),
    ] {
        assert_eq!(why401_gate::web::safe_return(Some(rd)), back);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends() {
    let (_dir, addr, store) = start(&format!("[session]\nidle_minutes = 1\n{CONFIG}")).await;
    let r = sign_in(addr, "alice", "correct horse battery staple", None).await;
    let token = cookie_value(set_cookie(&r, "__Host-why401-session").unwrap()).to_string();
    // Two minutes without use, written straight into the store.
    let hash = why401_gate::web::token_hash(&token);
    store.age_session(&hash, 120).await.unwrap();
    let r = ask(
        addr,
        "/.why401/authz/forward-auth",
        &[
            ("X-Original-URL", "https://app.example.com/app/"),
            ("Cookie", &format!("__Host-why401-session={token}")),
        ],
    )
    .await;
    assert_eq!(r.status, 401);
    assert!(store.session(&hash).await.unwrap().is_none());
}
