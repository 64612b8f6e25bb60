//! A plain HTTP/1.1 client for the gateway's tests: one request per connection, the answer's
//! status, headers (every one, in order) and body.

#![allow(dead_code)]

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use why401_gate::store::Store;
use why401_gate::{Config, password, server};

pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: String,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A GET.
pub(crate) async fn ask(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    request(addr, "GET", path, headers, "").await
}

/// Any request; a body is sent with its Content-Length.
pub(crate) async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    // The forward-auth endpoint reads what Traefik and Caddy send: a test's X-Original-URL
    // (nginx's way) is sent to it as X-Forwarded-Proto, -Host and -Uri, unless the test sends
    // those itself.
    let forwarded = headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("x-forwarded-host"));
    let mut translated: Vec<(String, String)> = Vec::new();
    for (k, v) in headers {
        if path == "/.why401/authz/forward-auth"
            && !forwarded
            && k.eq_ignore_ascii_case("x-original-url")
        {
            // Split by hand, not parsed: a URL parser would resolve the dot segments and
            // decode what the tests send raw, as a proxy's $request_uri is.
            let (scheme, rest) = v.split_once("://").unwrap();
            let at = rest.find('/').unwrap_or(rest.len());
            let (host, uri) = (rest[..at].to_string(), rest[at..].to_string());
            let uri = if uri.is_empty() { "/".to_string() } else { uri };
            translated.push(("X-Forwarded-Proto".into(), scheme.into()));
            translated.push(("X-Forwarded-Host".into(), host));
            translated.push(("X-Forwarded-Uri".into(), uri));
        } else {
            translated.push((k.to_string(), v.to_string()));
        }
    }
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in &translated {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A gateway on loopback with `config` and `users` (name, password, groups), its store and its
/// audit log (`audit.jsonl`) in the directory returned.
pub(crate) async fn gate(
    config: &str,
    users: &[(&str, &str, &[&str])],
) -> (tempfile::TempDir, SocketAddr, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("gate.db")).await.unwrap();
    for (name, pw, groups) in users {
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        store
            .add(name, &password::hash(pw), None, &groups)
            .await
            .unwrap();
    }
    let config = Config::parse(config, "gate.toml").unwrap();
    let audit = why401_gate::audit::Audit::open(&dir.path().join("audit.jsonl")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gate = server::Gate::start(config, store.clone(), Some(audit), dir.path())
        .await
        .unwrap();
    tokio::spawn(server::serve(gate, listener, None));
    (dir, addr, store)
}

pub(crate) const HOST: &str = "app.example.com";
pub(crate) const ORIGIN: &str = "https://app.example.com";

/// The value of `name` among a response's Set-Cookie headers.
pub(crate) fn set_cookie<'a>(r: &'a Reply, name: &str) -> Option<&'a str> {
    r.all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with(&format!("{name}=")))
}

pub(crate) fn cookie_value(set: &str) -> &str {
    set.split(';').next().unwrap().split_once('=').unwrap().1
}

/// Loads the login page, posts the form; the response.
pub(crate) async fn sign_in(
    addr: SocketAddr,
    user: &str,
    pw: &str,
    extra_cookie: Option<&str>,
) -> Reply {
    sign_in_with(addr, user, pw, extra_cookie, &[]).await
}

/// [`sign_in`], the POST with `extra` headers too (a trusted proxy's `X-Forwarded-For`).
pub(crate) async fn sign_in_with(
    addr: SocketAddr,
    user: &str,
    pw: &str,
    extra_cookie: Option<&str>,
    extra: &[(&str, &str)],
) -> Reply {
    let page = ask(
        addr,
        "/.why401/login?rd=%2Fapp%2Freport%3Fq%3D1",
        &[("Host", HOST)],
    )
    .await;
    assert_eq!(page.status, 200);
    let csrf_set = set_cookie(&page, "__Host-why401-csrf").unwrap();
    let csrf = cookie_value(csrf_set);
    assert!(
        page.body
            .contains(&format!("name=\"csrf\" value=\"{csrf}\""))
    );
    let mut cookies = format!("__Host-why401-csrf={csrf}");
    if let Some(c) = extra_cookie {
        cookies.push_str(&format!("; {c}"));
    }
    let form = format!(
        "username={user}&password={}&csrf={csrf}&rd=%2Fapp%2Freport%3Fq%3D1",
        pw.replace(' ', "+")
    );
    let mut headers = vec![
        ("Host", HOST),
        ("Origin", ORIGIN),
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookies.as_str()),
    ];
    headers.extend_from_slice(extra);
    request(addr, "POST", "/.why401/login", &headers, &form).await
}

/// The session cookie a login's answer set, as a `Cookie` header's value; empty when none.
pub(crate) fn session_of(r: &Reply) -> String {
    set_cookie(r, "__Host-why401-session")
        .map(|c| format!("__Host-why401-session={}", cookie_value(c)))
        .unwrap_or_default()
}
