//! The reverse proxy: the gateway in front of an app, with nothing else in between. A request
//! is judged exactly as the decision endpoints judge it; an allowed one goes to its route's
//! upstream, streamed both ways (HTTP/1.1 or HTTP/2 to the upstream, WebSocket and other
//! upgrades spliced through), with:
//!
//! - the hop-by-hop headers dropped (RFC 9110 §7.6.1: `Connection` and what it names,
//!   `Keep-Alive`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade` unless upgrading,
//!   `Proxy-*`);
//! - every identity header the client sent dropped (`Remote-User` and its kin, in any spelling,
//!   `_` for `-` included, since CGI and WSGI apps read both as `REMOTE_USER`), then the
//!   gateway's own set: `Remote-User`, `Remote-Groups`, `Remote-Email`;
//! - the gateway's own credentials dropped (its session and CSRF cookies, a Basic
//!   `Authorization` it checked); a Bearer token goes on, as the API it is for may read it;
//! - `X-Forwarded-For` (appended to only when the peer is a trusted proxy), `-Proto`, `-Host`
//!   and `X-Request-Id` set.
//!
//! The original `Host` goes to the upstream as it came (as Traefik and Caddy do; nginx's
//! `proxy_set_header Host $host`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::response::Response;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Request, StatusCode, Uri, Version};
use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

use crate::config::{Route, Upstream};
use crate::policy::Identity;
use crate::server::{Gate, Original};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// The gateway's HTTP client: to upstreams and to the JWKS URL. Connections are pooled;
/// HTTPS upstreams are verified against the system's roots (and `SSL_CERT_FILE`) and Mozilla's.
#[derive(Clone)]
pub struct HttpClient {
    /// HTTP/1.1, or HTTP/2 when TLS's ALPN picks it.
    h1: Client<Connector, Body>,
    /// HTTP/2 only: prior knowledge over plain TCP (`http2 = true` on a route).
    h2: Client<Connector, Body>,
}

impl Default for HttpClient {
    fn default() -> Self {
        HttpClient::new()
    }
}

impl HttpClient {
    /// A client with the system's and Mozilla's roots.
    pub fn new() -> HttpClient {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for c in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(c);
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(http);
        HttpClient {
            h1: Client::builder(TokioExecutor::new()).build(connector.clone()),
            h2: Client::builder(TokioExecutor::new())
                .http2_only(true)
                .build(connector),
        }
    }

    /// GET `url`, at most `max` bytes, within `timeout`.
    pub async fn get_bytes(
        &self,
        url: &str,
        timeout: Duration,
        max: usize,
    ) -> Result<Vec<u8>, String> {
        let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
        let req = Request::get(uri)
            .header(header::ACCEPT, "application/json")
            .body(Body::empty())
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(timeout, self.h1.request(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("answered {}", resp.status()));
        }
        let body = http_body_util::Limited::new(resp.into_body(), max);
        let bytes = tokio::time::timeout(timeout, body.collect())
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        Ok(bytes.to_bytes().to_vec())
    }

    /// POSTs `body` (JSON) to `url` within `timeout`; `Err` unless the answer is 2xx.
    pub async fn post_json(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), String> {
        let uri: Uri = url.parse().map_err(|e| format!("{e}"))?;
        let req = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::USER_AGENT, "why401-gate")
            .body(Body::from(body))
            .map_err(|e| e.to_string())?;
        let resp = tokio::time::timeout(timeout, self.h1.request(req))
            .await
            .map_err(|_| "timed out".to_string())?
            .map_err(|e| e.to_string())?;
        if !resp.status().is_success() {
            return Err(format!("answered {}", resp.status()));
        }
        Ok(())
    }
}

/// The route for `orig`, first match.
pub(crate) fn route<'a>(gate: &'a Gate, orig: &Original) -> Option<&'a Route> {
    gate.config.routes.iter().find(|r| {
        (r.hosts.is_empty() || r.hosts.iter().any(|h| h.matches(&orig.host)))
            && (r.paths.is_empty() || r.paths.iter().any(|p| p.matches(&orig.path)))
    })
}

/// Headers never passed on (RFC 9110 §7.6.1), besides those `Connection` names.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
];

/// Whether `name` claims an identity, a forwarding fact, or another path or method than the
/// request line's: only the gateway may state those. Read
/// with `_` as `-`: CGI, WSGI and PHP apps see `Remote_User` and `Remote-User` as the same
/// `HTTP_REMOTE_USER`.
fn identity_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase().replace('_', "-");
    n.starts_with("remote-")
        || n.starts_with("x-remote-")
        || n.starts_with("x-auth-request-")
        || n.starts_with("x-forwarded-")
        // What some apps take instead of the request line's path or method (Symfony, IIS
        // rewrite, Express, Laravel): the request judged must be the request served.
        || n.starts_with("x-original-")
        // A device's certificate as a proxy in front says it verified it: the gateway's to
        // judge, never the client's to claim to an app.
        || n.starts_with("x-ssl-client-")
        || n.starts_with("x-client-cert")
        || matches!(
            n.as_str(),
            "x-rewrite-url" | "x-http-method-override" | "x-http-method" | "x-method-override"
        )
        || matches!(
            n.as_str(),
            "x-user" | "x-email" | "x-webauth-user" | "x-real-ip" | "forwarded" | "x-request-id"
        )
}

/// Whether the request asks to switch protocols (WebSocket), HTTP/1.1 style.
fn upgrade_of(headers: &HeaderMap) -> Option<HeaderValue> {
    let asks = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    // WebSocket only: after a 101 the bytes are no longer judged, and `Upgrade: h2c` would open
    // an HTTP/2 tunnel to every path of a lenient upstream.
    headers
        .get(header::UPGRADE)
        .filter(|u| asks && u.as_bytes().eq_ignore_ascii_case(b"websocket"))
        .cloned()
}

/// `headers` without the hop-by-hop ones.
fn drop_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|t| HeaderName::from_bytes(t.trim().as_bytes()).ok())
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP {
        headers.remove(n);
    }
    headers.remove(header::UPGRADE);
    headers.remove("http2-settings");
}

/// The request headers the upstream gets.
pub(crate) fn upstream_headers(
    gate: &Gate,
    orig: &Original,
    peer: SocketAddr,
    mut headers: HeaderMap,
    who: Option<&Identity>,
    rid: &str,
) -> HeaderMap {
    let upgrade = upgrade_of(&headers);
    // What the trusted proxy in front already forwarded, before it is dropped with the rest.
    let prior_for: Vec<String> = if gate.trusts(peer.ip()) {
        headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(String::from)
            .collect()
    } else {
        Vec::new()
    };
    drop_hop_by_hop(&mut headers);
    let claimed: Vec<HeaderName> = headers
        .keys()
        .filter(|k| identity_header(k.as_str()))
        .cloned()
        .collect();
    for k in claimed {
        headers.remove(k);
    }
    // The gateway's own credentials stay with the gateway.
    if headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic "))
        })
    {
        headers.remove(header::AUTHORIZATION);
    }
    let cookies: Vec<String> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|c| {
            let name = c.split('=').next().unwrap_or("");
            !name.starts_with("__Host-why401-")
        })
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    headers.remove(header::COOKIE);
    if !cookies.is_empty()
        && let Ok(v) = HeaderValue::from_str(&cookies.join("; "))
    {
        headers.insert(header::COOKIE, v);
    }
    let mut forwarded_for = prior_for;
    forwarded_for.push(crate::server::canonical(peer.ip()).to_string());
    let mut set = |name: &'static str, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(HeaderName::from_static(name), v);
        }
    };
    set("x-forwarded-for", &forwarded_for.join(", "));
    set("x-forwarded-proto", orig.url.scheme());
    set("x-forwarded-host", &orig.authority);
    set("x-real-ip", &orig.client.to_string());
    set("x-request-id", rid);
    if let Some(w) = who {
        set("remote-user", &crate::server::header_safe(&w.user));
        set(
            "remote-groups",
            &crate::server::header_safe(&w.groups.join(",")),
        );
        if let Some(e) = &w.email {
            set("remote-email", &crate::server::header_safe(e));
        }
    }
    // The host judged is the host the app is told: the client's Host, or the trusted
    // proxy's X-Forwarded-Host when there is one (HTTP/2's :authority included).
    if let Ok(h) = HeaderValue::from_str(&orig.authority) {
        headers.insert(header::HOST, h);
    }
    if let Some(u) = upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        headers.insert(header::UPGRADE, u);
    }
    headers
}

/// Sends the allowed request to its route's upstream and streams the answer back.
pub(crate) async fn forward(
    gate: &Gate,
    route: &Route,
    orig: &Original,
    peer: SocketAddr,
    mut req: Request<Body>,
    who: Option<&Identity>,
    rid: &str,
) -> Response {
    let headers = upstream_headers(
        gate,
        orig,
        peer,
        std::mem::take(req.headers_mut()),
        who,
        rid,
    );
    let origin = match &route.upstream {
        Upstream::Echo => return echo(&req, &headers),
        Upstream::Url(u) => u,
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let uri: Uri = match format!("{}{}", origin.as_str().trim_end_matches('/'), path).parse() {
        Ok(u) => u,
        Err(_) => return bad_gateway(rid, "the upstream URL does not parse"),
    };
    let upgrading = headers.contains_key(header::UPGRADE) && req.version() == Version::HTTP_11;
    // The client's side of an upgrade, taken before the request is given away.
    let client_side = upgrading.then(|| hyper::upgrade::on(&mut req));
    let (parts, body) = req.into_parts();
    let mut out = Request::builder()
        .method(parts.method)
        .uri(uri)
        .version(if route.http2 {
            Version::HTTP_2
        } else {
            Version::HTTP_11
        })
        .body(body)
        .expect("a valid request");
    *out.headers_mut() = headers;
    let client = if route.http2 {
        &gate.client.h2
    } else {
        &gate.client.h1
    };
    let mut resp = match client.request(out).await {
        Ok(r) => r,
        Err(e) => {
            // The operator reads which upstream and why; the client only that it failed.
            eprintln!(
                "why401 gate: request {rid}: the upstream {} did not answer: {e}",
                origin.as_str()
            );
            return bad_gateway(rid, "the app behind the gateway did not answer");
        }
    };
    if resp.status() == StatusCode::SWITCHING_PROTOCOLS
        && let Some(client_side) = client_side
    {
        let upstream_side = hyper::upgrade::on(&mut resp);
        tokio::spawn(async move {
            if let (Ok(c), Ok(u)) = (client_side.await, upstream_side.await) {
                let _ =
                    tokio::io::copy_bidirectional(&mut TokioIo::new(c), &mut TokioIo::new(u)).await;
            }
        });
        let (mut parts, _) = resp.into_parts();
        parts
            .headers
            .insert("x-request-id", HeaderValue::from_str(rid).expect("hex"));
        return Response::from_parts(parts, Body::empty());
    }
    let (mut parts, body) = resp.into_parts();
    drop_hop_by_hop(&mut parts.headers);
    // The id the audit line has, for `why401 gate explain` (the upstream was given it too).
    parts
        .headers
        .insert("x-request-id", HeaderValue::from_str(rid).expect("hex"));
    Response::from_parts(parts, Body::new(body))
}

/// The built-in upstream: the request as an upstream sees it, as JSON (a token's or
/// password's value is not echoed, only its scheme).
fn echo(req: &Request<Body>, headers: &HeaderMap) -> Response {
    let shown: Vec<String> = headers
        .iter()
        .map(|(k, v)| {
            let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
            let v = if k == header::AUTHORIZATION {
                format!("{} (value not shown)", v.split(' ').next().unwrap_or(""))
            } else {
                v
            };
            format!("{k}: {v}")
        })
        .collect();
    let body = serde_json::json!({
        "echo": "why401 gate builtin:echo: the request as the upstream app receives it",
        "method": req.method().as_str(),
        "uri": req.uri().to_string(),
        "headers": shown,
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(
            serde_json::to_vec_pretty(&body).expect("JSON serialises"),
        ))
        .expect("a valid response")
}

/// 502: the upstream did not answer. The client is not told which upstream nor why (nginx
/// and Traefik do not either); the gateway's standard error has both, with the request id.
fn bad_gateway(rid: &str, why: &str) -> Response {
    let body = serde_json::json!({
        "type": "urn:why401:finding:gate-upstream-unreachable",
        "title": "the gateway let the request through, and the app behind it did not answer",
        "status": 502,
        "detail": why,
        "finding": "gate-upstream-unreachable",
        "request_id": rid,
    });
    Response::builder()
        .status(StatusCode::BAD_GATEWAY)
        .header(header::CONTENT_TYPE, "application/problem+json")
        .header("x-request-id", rid)
        .body(Body::from(body.to_string()))
        .expect("a valid response")
}
