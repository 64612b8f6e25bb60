//! The gateway as the reverse proxy, over real HTTP on loopback: what the upstream receives
//! (the identity the gateway states and none the client claimed, none of the gateway's own
//! credentials), bodies streamed both ways, HTTP/2 on either side, TLS, an upgrade spliced
//! through, 502 for an upstream that is down, Bearer JWTs checked against a JWKS, and the
//! metrics and the admin's explain endpoint.

use std::net::SocketAddr;

use axum::body::Body;
use base64::Engine;
use http::{Request, StatusCode, Version};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sha2::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use why401_gate::store::Store;
use why401_gate::{Config, password, server};

/// An upstream that answers with what it received: method, URI, version, headers, and the
/// body's length and SHA-256.
async fn upstream() -> SocketAddr {
    async fn seen(req: Request<Body>) -> axum::response::Response {
        let (parts, body) = req.into_parts();
        let bytes = body.collect().await.unwrap().to_bytes();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
            .collect();
        let j = serde_json::json!({
            "method": parts.method.as_str(),
            "uri": parts.uri.to_string(),
            "version": format!("{:?}", parts.version),
            "headers": headers,
            "length": bytes.len(),
            "sha256": hex::encode(sha2::Sha256::digest(&bytes)),
        });
        axum::response::Response::builder()
            .header("content-type", "application/json")
            .header("set-cookie", "app=1; Path=/")
            .body(Body::from(j.to_string()))
            .unwrap()
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(seen);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// An upstream that switches protocols on `Upgrade: websocket` and then echoes every byte
/// (the splice is what is tested, not the WebSocket framing).
async fn upgrading_upstream() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut b = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if s.read(&mut b).await.unwrap() == 0 {
                        return;
                    }
                    head.push(b[0]);
                }
                let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
                assert!(head.contains("upgrade: websocket"), "{head}");
                assert!(head.contains("connection: upgrade"), "{head}");
                assert!(head.contains("remote-user: alice"), "{head}");
                s.write_all(
                    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
                )
                .await
                .unwrap();
                let mut buf = [0u8; 1024];
                loop {
                    let n = s.read(&mut buf).await.unwrap_or(0);
                    if n == 0 || s.write_all(&buf[..n]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// A gateway with `config` (its `UPSTREAM` replaced), users alice (admins) and bob.
async fn gate(config: &str) -> (tempfile::TempDir, SocketAddr, Store) {
    gate_with(config, None).await
}

async fn gate_with(
    config: &str,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> (tempfile::TempDir, SocketAddr, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("gate.db")).await.unwrap();
    store
        .add(
            "alice",
            &password::hash("correct horse battery staple"),
            Some("alice@example.test"),
            &["admins".into()],
        )
        .await
        .unwrap();
    store
        .add(
            "bob",
            &password::hash("tricky mule forty lantern"),
            None,
            &[],
        )
        .await
        .unwrap();
    std::fs::write(dir.path().join("jwks.json"), JWKS.get().map_or("", |j| j)).unwrap();
    let config = Config::parse(config, "gate.toml").unwrap();
    let audit = why401_gate::audit::Audit::open(&dir.path().join("audit.jsonl")).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let g = server::Gate::start(config, store.clone(), Some(audit), dir.path())
        .await
        .unwrap();
    tokio::spawn(server::serve(g, listener, tls));
    (dir, addr, store)
}

static JWKS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn config(upstream: &str, extra: &str) -> String {
    format!(
        r#"
# The tests' client is on loopback and is not a proxy here: nothing it forwards is believed.
[server]
trusted_proxies = ["192.0.2.1/32"]


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
paths = ["/api/write"]
api = true
scopes = ["notes.write"]
policy = "one_factor"

[[access.rule]]
paths = ["/api/"]
api = true
policy = "one_factor"

[[access.rule]]
policy = "one_factor"

[[route]]
upstream = "{upstream}"
{extra}
{admin}
"#,
        // `admins` is the app's group here, not the gateway's (whose members always give a
        // second factor, which Basic cannot carry), unless a test says otherwise.
        admin = if extra.contains("[admin]") {
            ""
        } else {
            "[admin]\ngroup = \"gate-operators\""
        }
    )
}

const ALICE: &str = "Basic YWxpY2U6Y29ycmVjdCBob3JzZSBiYXR0ZXJ5IHN0YXBsZQ==";
const BOB: &str = "Basic Ym9iOnRyaWNreSBtdWxlIGZvcnR5IGxhbnRlcm4=";

/// One request through a fresh HTTP/1.1 client.
async fn send(req: Request<Body>) -> (http::response::Parts, bytes::Bytes) {
    let client: Client<_, Body> = Client::builder(TokioExecutor::new())
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let resp = client.request(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts, body.collect().await.unwrap().to_bytes())
}

fn get(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut r = Request::get(format!("http://{addr}{path}"));
    for (k, v) in headers {
        r = r.header(*k, *v);
    }
    r.body(Body::empty()).unwrap()
}

fn header<'a>(seen: &'a serde_json::Value, name: &str) -> Vec<&'a str> {
    seen["headers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h[0].as_str().unwrap().eq_ignore_ascii_case(name))
        .map(|h| h[1].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_upstream_gets_the_gateways_identity_and_none_the_client_claimed() {
    let up = upstream().await;
    let (_d, addr, _s) = gate(&config(&format!("http://{up}"), "")).await;
    let (parts, body) = send(get(
        addr,
        "/notes?x=1",
        &[
            ("Authorization", ALICE),
            ("Remote-User", "root"),
            ("Remote_User", "root"),
            ("X-Remote-User", "root"),
            ("Remote-Groups", "admins"),
            ("X-Forwarded-User", "root"),
            ("X-Forwarded-For", "203.0.113.9"),
            (
                "Cookie",
                "theme=dark; __Host-why401-session=stolen; lang=en",
            ),
            ("Connection", "keep-alive, X-Secret-Hop"),
            ("X-Secret-Hop", "1"),
            ("X-Original-URL", "/admin/"),
            ("X-HTTP-Method-Override", "DELETE"),
        ],
    ))
    .await;
    assert_eq!(parts.status, StatusCode::OK);
    let seen: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(seen["uri"], "/notes?x=1");
    assert_eq!(header(&seen, "remote-user"), ["alice"]);
    assert_eq!(header(&seen, "remote-groups"), ["admins"]);
    assert_eq!(header(&seen, "remote-email"), ["alice@example.test"]);
    assert!(header(&seen, "remote_user").is_empty(), "{seen}");
    assert!(header(&seen, "x-remote-user").is_empty(), "{seen}");
    assert!(header(&seen, "x-forwarded-user").is_empty(), "{seen}");
    // The client is not a trusted proxy: its X-Forwarded-For is replaced, not appended to.
    assert_eq!(header(&seen, "x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(header(&seen, "x-forwarded-proto"), ["http"]);
    assert_eq!(
        header(&seen, "x-forwarded-host"),
        [addr.to_string().as_str()]
    );
    assert_eq!(header(&seen, "host"), [addr.to_string().as_str()]);
    // The password the gateway checked, and its session cookie, stay with the gateway.
    assert!(header(&seen, "authorization").is_empty(), "{seen}");
    assert_eq!(header(&seen, "cookie"), ["theme=dark; lang=en"]);
    // Hop-by-hop headers, and those Connection names, are not passed on.
    assert!(header(&seen, "x-secret-hop").is_empty(), "{seen}");
    // Another path or method than the request line's is never passed on.
    assert!(header(&seen, "x-original-url").is_empty(), "{seen}");
    assert!(header(&seen, "x-http-method-override").is_empty(), "{seen}");
    // Two Authorization headers: refused, not one judged and the other passed on.
    let (p, _) = send(get(
        addr,
        "/notes",
        &[("Authorization", BOB), ("Authorization", ALICE)],
    ))
    .await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    // Only WebSocket is upgraded: an h2c upgrade is an ordinary request to the app.
    let (p, b) = send(get(
        addr,
        "/notes",
        &[
            ("Authorization", ALICE),
            ("Connection", "Upgrade, HTTP2-Settings"),
            ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAARAAAAAAAIAAAAA"),
        ],
    ))
    .await;
    assert_eq!(p.status, StatusCode::OK);
    let plain: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert!(header(&plain, "upgrade").is_empty(), "{plain}");
    assert!(header(&plain, "http2-settings").is_empty(), "{plain}");
    let rid = parts.headers["x-request-id"].to_str().unwrap();
    assert_eq!(header(&seen, "x-request-id"), [rid]);
    // The upstream's own headers come back.
    assert_eq!(parts.headers["set-cookie"], "app=1; Path=/");
}

#[tokio::test]
async fn refusals_are_the_gateways_and_never_reach_the_upstream() {
    let up = upstream().await;
    let (_d, addr, _s) = gate(&config(&format!("http://{up}"), "")).await;
    // A browser: to the login page on this host.
    let (p, _) = send(get(
        addr,
        "/notes",
        &[("Accept", "text/html"), ("Sec-Fetch-Mode", "navigate")],
    ))
    .await;
    assert_eq!(p.status, StatusCode::FOUND);
    assert_eq!(
        p.headers["location"],
        format!("http://{addr}/.why401/login?rd=%2Fnotes").as_str()
    );
    // A route marked api: 401 and a problem document, even for a browser's Accept.
    let (p, b) = send(get(addr, "/api/notes", &[("Accept", "text/html")])).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert_eq!(p.headers["content-type"], "application/problem+json");
    assert!(String::from_utf8_lossy(&b).contains("no-credentials-sent"));
    // Authenticated, not allowed: 403.
    let (p, b) = send(get(addr, "/admin/x", &[("Authorization", BOB)])).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(String::from_utf8_lossy(&b).contains("gate-policy-denied"));
    // A bypass rule needs no one.
    let (p, _) = send(get(addr, "/public/x", &[])).await;
    assert_eq!(p.status, StatusCode::OK);
}

#[tokio::test]
async fn bodies_stream_both_ways() {
    let up = upstream().await;
    let (_d, addr, _s) = gate(&config(&format!("http://{up}"), "")).await;
    // 8 MB in 64 KB chunks, with no Content-Length: chunked all the way.
    let chunk = vec![7u8; 64 * 1024];
    let chunks: Vec<Result<hyper::body::Frame<bytes::Bytes>, std::io::Error>> = (0..128)
        .map(|_| Ok(hyper::body::Frame::data(bytes::Bytes::from(chunk.clone()))))
        .collect();
    let body = Body::new(http_body_util::StreamBody::new(futures_stream(chunks)));
    let req = Request::post(format!("http://{addr}/upload"))
        .header("Authorization", ALICE)
        .body(body)
        .unwrap();
    let (p, b) = send(req).await;
    assert_eq!(p.status, StatusCode::OK);
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(seen["length"], 8 * 1024 * 1024);
    let mut h = sha2::Sha256::new();
    for _ in 0..128 {
        h.update(&chunk);
    }
    assert_eq!(seen["sha256"], hex::encode(h.finalize()));
}

/// A stream of frames, without pulling in a futures crate for it.
fn futures_stream<T: Send + Unpin + 'static>(
    items: Vec<T>,
) -> impl futures_core::Stream<Item = T> + Send + 'static {
    struct It<T>(std::vec::IntoIter<T>);
    impl<T> futures_core::Stream for It<T>
    where
        T: Unpin,
    {
        type Item = T;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<T>> {
            std::task::Poll::Ready(self.0.next())
        }
    }
    It(items.into_iter())
}

#[tokio::test]
async fn http2_on_both_sides() {
    let up = upstream().await;
    let (_d, addr, _s) = gate(&config(&format!("http://{up}"), "http2 = true")).await;
    // The client speaks HTTP/2 with prior knowledge (h2c); so does the gateway to the upstream.
    let client: Client<_, Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build(hyper_util::client::legacy::connect::HttpConnector::new());
    let req = Request::get(format!("http://{addr}/notes"))
        .version(Version::HTTP_2)
        .header("Authorization", ALICE)
        .body(Body::empty())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_2);
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(seen["version"], "HTTP/2.0");
    assert_eq!(header(&seen, "remote-user"), ["alice"]);
    // HTTP/2 has no Host header: the :authority becomes the upstream's Host.
    assert_eq!(header(&seen, "host"), [addr.to_string().as_str()]);
}

#[tokio::test]
async fn https_with_alpn_h2() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let up = upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), cert.cert.pem()).unwrap();
    std::fs::write(dir.path().join("key.pem"), cert.signing_key.serialize_pem()).unwrap();
    let acceptor =
        server::tls_acceptor(&dir.path().join("cert.pem"), &dir.path().join("key.pem")).unwrap();
    let (_d, addr, _s) = gate_with(&config(&format!("http://{up}"), ""), Some(acceptor)).await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build(connector);
    let req = Request::get(format!("https://localhost:{}/notes", addr.port()))
        .header("Authorization", ALICE)
        .body(Body::empty())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.version(), Version::HTTP_2, "ALPN chose h2");
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(header(&seen, "x-forwarded-proto"), ["https"]);
    // A browser on HTTPS is sent to the HTTPS login page.
    let req = Request::get(format!("https://localhost:{}/notes", addr.port()))
        .header("Accept", "text/html")
        .body(Body::empty())
        .unwrap();
    let resp = client.request(req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert!(
        resp.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("https://localhost:{}/.why401/login", addr.port()))
    );
}

#[tokio::test]
async fn an_upgrade_is_spliced_through_and_only_when_allowed() {
    let up = upgrading_upstream().await;
    let (_d, addr, _s) = gate(&config(&format!("http://{up}"), "")).await;
    let handshake = |auth: &str| {
        format!(
            "GET /ws HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n"
        )
    };
    // Without credentials: the gateway's 401, no upgrade.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(handshake("").as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = s.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 401"));
    // With them: 101, then bytes both ways.
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(handshake(&format!("Authorization: {ALICE}\r\n")).as_bytes())
        .await
        .unwrap();
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut b).await.unwrap(), 1);
        head.push(b[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("upgrade: websocket"),
        "{head}"
    );
    for msg in [&b"ping"[..], b"and a longer frame of bytes"] {
        s.write_all(msg).await.unwrap();
        let mut got = vec![0u8; msg.len()];
        s.read_exact(&mut got).await.unwrap();
        assert_eq!(got, msg);
    }
}

#[tokio::test]
async fn an_upstream_that_is_down_is_a_502_with_its_finding() {
    // A port that was just free.
    let free = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let (_d, addr, _s) = gate(&config(&format!("http://{free}"), "")).await;
    let (p, b) = send(get(addr, "/notes", &[("Authorization", ALICE)])).await;
    assert_eq!(p.status, StatusCode::BAD_GATEWAY);
    let doc: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(doc["finding"], "gate-upstream-unreachable");
    // Which upstream, and why, is the operator's to read, not the client's.
    let text = String::from_utf8_lossy(&b);
    assert!(
        !text.contains(&free.to_string()) && !text.contains("127.0.0.1"),
        "{text}"
    );
}

#[tokio::test]
async fn the_builtin_echo_shows_what_the_app_receives_and_no_secret() {
    let (_d, addr, _s) = gate(&config("builtin:echo", "")).await;
    let (p, b) = send(get(
        addr,
        "/hello",
        &[("Authorization", ALICE), ("Remote-User", "root")],
    ))
    .await;
    assert_eq!(p.status, StatusCode::OK);
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    let lines: Vec<&str> = seen["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert!(lines.contains(&"remote-user: alice"), "{lines:?}");
    assert!(!lines.iter().any(|l| l.contains("root")), "{lines:?}");
    assert!(!String::from_utf8_lossy(&b).contains("YWxpY2U6"));
}

/// A P-256 key: its JWKS (kid `k1`) and a signer.
fn es256() -> (String, jsonwebtoken::EncodingKey) {
    let kp = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
    let raw = kp.public_key_raw();
    assert_eq!(raw[0], 4, "an uncompressed point");
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig", "alg": "ES256",
        "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
    }]});
    let key = jsonwebtoken::EncodingKey::from_ec_der(kp.serialized_der());
    (jwks.to_string(), key)
}

const BEARER: &str = r#"
[bearer]
jwks = "jwks.json"
issuer = "https://issuer.example.test/"
audience = ["notes-api"]
algorithms = ["ES256"]
leeway_seconds = 30
"#;

#[tokio::test]
async fn bearer_tokens_are_checked_against_the_jwks() {
    let (jwks, key) = es256();
    JWKS.set(jwks).unwrap();
    let up = upstream().await;
    let (_d, addr, _s) = gate(&format!(
        "{}\n{BEARER}",
        config(&format!("http://{up}"), "")
    ))
    .await;
    let now = jiff::Timestamp::now().as_second();
    let token = |claims: serde_json::Value| {
        let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some("k1".into());
        jsonwebtoken::encode(&h, &claims, &key).unwrap()
    };
    let good = serde_json::json!({
        "iss": "https://issuer.example.test/", "aud": "notes-api", "sub": "svc-backup",
        "exp": now + 300, "nbf": now - 10, "scope": "notes.read notes.write", "groups": ["robots"],
    });
    let call = |path: &'static str, t: String| async move {
        let auth = format!("Bearer {t}");
        send(get(addr, path, &[("Authorization", auth.as_str())])).await
    };
    // Accepted: the token's subject is the user; the token itself goes on to the API.
    let (p, b) = call("/api/write", token(good.clone())).await;
    assert_eq!(p.status, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(header(&seen, "remote-user"), ["svc-backup"]);
    assert_eq!(header(&seen, "remote-groups"), ["robots"]);
    assert_eq!(header(&seen, "authorization").len(), 1);
    // Each refusal: 401, error="invalid_token", the finding that names the cause.
    let mut expired = good.clone();
    expired["exp"] = (now - 120).into();
    let mut early = good.clone();
    early["nbf"] = (now + 600).into();
    let mut other_aud = good.clone();
    other_aud["aud"] = "billing-api".into();
    let mut other_iss = good.clone();
    other_iss["iss"] = "https://evil.example.test/".into();
    let unsigned = format!(
        "{}.{}.",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let hs256 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &good,
        &jsonwebtoken::EncodingKey::from_secret(JWKS.get().unwrap().as_bytes()),
    )
    .unwrap();
    // One signature byte changed (in the middle: the last base64 character also carries
    // padding bits a decoder may ignore).
    let signed = token(good.clone());
    let at = signed.rfind('.').unwrap() + 20;
    let flipped = if &signed[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{flipped}{}", &signed[..at], &signed[at + 1..]);
    for (t, finding) in [
        (token(expired), "token-expired"),
        (token(early), "token-not-yet-valid"),
        (token(other_aud), "token-audience-mismatch"),
        (token(other_iss), "token-issuer-mismatch"),
        (unsigned, "jwt-alg-none"),
        (hs256, "server-rejected-token"),
        (forged, "server-rejected-token"),
        ("not.a.jwt".into(), "server-rejected-token"),
    ] {
        let (p, b) = call("/api/notes", t).await;
        assert_eq!(p.status, StatusCode::UNAUTHORIZED, "{finding}");
        let doc: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(doc["finding"], finding);
        let challenges: Vec<&str> = p
            .headers
            .get_all("www-authenticate")
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        let bearer = challenges
            .iter()
            .find(|c| c.starts_with("Bearer "))
            .unwrap();
        assert!(bearer.contains(r#"error="invalid_token""#), "{bearer}");
        assert!(bearer.contains("error_description="), "{bearer}");
    }
    // Without the scope the route needs: 403 insufficient_scope, naming it.
    let mut read_only = good.clone();
    read_only["scope"] = "notes.read".into();
    let (p, b) = call("/api/write", token(read_only)).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let bearer = p.headers["www-authenticate"].to_str().unwrap();
    assert!(bearer.contains(r#"error="insufficient_scope""#), "{bearer}");
    assert!(bearer.contains(r#"scope="notes.write""#), "{bearer}");
    assert!(String::from_utf8_lossy(&b).contains("insufficient-scope"));
    // No token at all: the Bearer challenge names the scope too.
    let (p, _) = send(get(addr, "/api/write", &[])).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    let all: Vec<&str> = p
        .headers
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        all.contains(&r#"Bearer realm="why401", scope="notes.write""#),
        "{all:?}"
    );
}

#[tokio::test]
async fn metrics_and_the_admin_explain_endpoint() {
    let (_d, addr, _s) = gate(&config("builtin:echo", "[admin]\ngroup = \"admins\"")).await;
    let (p, _) = send(get(addr, "/x", &[("Authorization", BOB)])).await;
    assert_eq!(p.status, StatusCode::OK);
    let (p, _) = send(get(addr, "/admin/x", &[("Authorization", BOB)])).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let rid = p.headers["x-request-id"].to_str().unwrap().to_string();
    let (p, b) = send(get(addr, "/.why401/metrics", &[])).await;
    assert_eq!(p.status, StatusCode::OK);
    let m = String::from_utf8_lossy(&b);
    assert!(
        m.contains(r#"why401_gate_decisions_total{result="allow",finding=""} 1"#),
        "{m}"
    );
    assert!(
        m.contains(r#"why401_gate_decisions_total{result="deny",finding="gate-policy-denied"} 1"#),
        "{m}"
    );
    assert!(m.contains("why401_gate_latency_seconds_bucket"), "{m}");
    // Explain: an admin reads why bob was refused; bob may not; nobody anonymous.
    let path = format!("/.why401/admin/explain/{rid}");
    let (p, b) = send(get(addr, &path, &[("Authorization", ALICE)])).await;
    assert_eq!(p.status, StatusCode::OK);
    let text = String::from_utf8_lossy(&b);
    assert!(text.contains(&rid), "{text}");
    assert!(text.contains("gate-policy-denied"), "{text}");
    assert!(
        text.contains("gate.toml:"),
        "the matching rule's place: {text}"
    );
    let (p, _) = send(get(addr, &path, &[("Authorization", BOB)])).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    let (p, _) = send(get(addr, &path, &[])).await;
    assert_eq!(p.status, StatusCode::UNAUTHORIZED);
    assert!(p.headers.contains_key("www-authenticate"));
}

#[tokio::test]
async fn the_host_judged_is_the_host_the_app_is_told() {
    let up = upstream().await;
    // Loopback is a trusted proxy here: its X-Forwarded-Host is believed, and so it is the
    // Host the app gets, whatever Host the request came with.
    let cfg = config(&format!("http://{up}"), "").replace(
        "trusted_proxies = [\"192.0.2.1/32\"]",
        "trusted_proxies = [\"127.0.0.0/8\"]",
    );
    let (_d, addr, _s) = gate(&cfg).await;
    let (p, b) = send(get(
        addr,
        "/notes",
        &[
            ("Authorization", ALICE),
            ("Host", "admin.example.test"),
            ("X-Forwarded-Host", "www.example.test"),
            ("X-Forwarded-Proto", "https"),
        ],
    ))
    .await;
    assert_eq!(p.status, StatusCode::OK);
    let seen: serde_json::Value = serde_json::from_slice(&b).unwrap();
    assert_eq!(header(&seen, "host"), ["www.example.test"]);
    assert_eq!(header(&seen, "x-forwarded-host"), ["www.example.test"]);
    assert_eq!(header(&seen, "x-forwarded-proto"), ["https"]);
}

/// A CA, and a client certificate it signed for `cn`: the certificate chain and key, PEM.
fn device(ca_name: &str, cn: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.distinguished_name.push(DnType::CommonName, ca_name);
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
    leaf.distinguished_name.push(DnType::CommonName, cn);
    let cert = leaf.signed_by(&key, &issuer).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test]
async fn a_managed_device_shows_a_client_certificate_the_devices_ca_signed() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let server_cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    std::fs::write(dir.path().join("cert.pem"), server_cert.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("key.pem"),
        server_cert.signing_key.serialize_pem(),
    )
    .unwrap();
    let (ca, laptop, laptop_key) = device("Example devices", "laptop-42");
    let (_, stranger, stranger_key) = device("Someone else", "stranger");
    std::fs::write(dir.path().join("devices.pem"), &ca).unwrap();
    let acceptor = server::tls_acceptor_with_devices(
        &dir.path().join("cert.pem"),
        &dir.path().join("key.pem"),
        Some(&dir.path().join("devices.pem")),
    )
    .unwrap();
    let cfg = config("builtin:echo", "").replace(
        "[[access.rule]]\npaths = [\"/public/\"]",
        "[[access.rule]]\nname = \"managed\"\npaths = [\"/managed/\"]\ndevices = \"managed\"\npolicy = \"one_factor\"\n\n[[access.rule]]\npaths = [\"/managed/\"]\npolicy = \"deny\"\n\n[[access.rule]]\npaths = [\"/public/\"]",
    );
    let (_d, addr, _s) = gate_with(&cfg, Some(acceptor)).await;
    let client = |cert: Option<(&str, &str)>| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(server_cert.cert.der().clone()).unwrap();
        let b = rustls::ClientConfig::builder().with_root_certificates(roots);
        let tls = match cert {
            None => b.with_no_client_auth(),
            Some((c, k)) => b
                .with_client_auth_cert(
                    vec![CertificateDer::from_pem_slice(c.as_bytes()).unwrap()],
                    PrivateKeyDer::from_pem_slice(k.as_bytes()).unwrap(),
                )
                .unwrap(),
        };
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_only()
            .enable_http1()
            .build();
        Client::builder(TokioExecutor::new()).build::<_, Body>(connector)
    };
    let get = |path: &str| {
        Request::get(format!("https://localhost:{}{path}", addr.port()))
            .header("Authorization", ALICE)
            .body(Body::empty())
            .unwrap()
    };
    // The laptop's certificate: a managed device.
    let resp = client(Some((&laptop, &laptop_key)))
        .request(get("/managed/x"))
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // No certificate: served, and no managed device.
    let resp = client(None).request(get("/managed/x")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let resp = client(None).request(get("/notes")).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // A certificate another CA signed: the handshake fails.
    assert!(
        client(Some((&stranger, &stranger_key)))
            .request(get("/notes"))
            .await
            .is_err()
    );
}
