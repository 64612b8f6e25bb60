//! The gateway's HTTP side: the decision endpoints a proxy in front of an app asks (nginx
//! `auth_request`, Traefik `forwardAuth`, Caddy `forward_auth`), on axum.
//!
//! - `/.why401/authz/auth-request`: for nginx's `auth_request`, which reads only the status:
//!   2xx lets the request through (with `Remote-User`/`Remote-Groups` for `auth_request_set`),
//!   401 and 403 refuse it. nginx cannot follow a redirect from there, so the documented
//!   snippet sends 401 and 403 to a named location that asks the next endpoint for the full
//!   answer.
//! - `/.why401/authz/forward-auth`: the full answer (302/303 to the login page for a browser,
//!   401 with challenges and a problem document for an API client, 403, 503), which Traefik
//!   and Caddy hand to the client as it is.
//!
//! The original request comes from `X-Original-URL`/`X-Original-Method` (nginx) or
//! `X-Forwarded-Proto/Host/Uri/Method` (Traefik, Caddy), and the client's address from
//! `X-Forwarded-For`/`X-Real-IP`, believed only from a trusted proxy; from anyone else the
//! endpoints refuse to decide (400), since they cannot know what is asked.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use axum::routing::{any, get};
use hmac::{KeyInit, Mac};
use http::{HeaderMap, Method, StatusCode, header};

use crate::answer::{Answer, BearerError, Client, Schemes};
use crate::audit::{Audit, Entry, Kind};
use crate::check::Check;
use crate::config::Config;
use crate::login::{self, Login, Refusal};
use crate::policy::{Action, Identity, Request};
use crate::store::{Store, StoreError};

/// The running gateway: its configuration, its store and what it remembers.
pub struct Gate {
    /// The configuration it started with.
    pub config: Config,
    /// The user store.
    pub store: Store,
    /// The audit log, when there is one.
    pub audit: Option<Audit>,
    cache: BasicCache,
    /// The client to upstreams and to the JWKS URL.
    pub(crate) client: crate::proxy::HttpClient,
    /// The Bearer token checker, when `[bearer]` is configured.
    keys: Option<crate::bearer::Keys>,
    /// What the gateway counts, for `/.why401/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// When remembered sessions and credentials may be used.
    pub(crate) fresh: Arc<crate::fresh::Freshness>,
    /// Verified sessions, by token hash.
    pub(crate) sessions: Remembered<crate::web::KnownSession>,
    /// Seals and opens TOTP secrets.
    pub sealer: crate::factors::Sealer,
    /// Tells of lockouts, unusual sign-ins and factor changes.
    pub notifier: crate::notify::Notifier,
    /// The directory, when `[ldap]` is configured.
    pub directory: Option<Arc<crate::ldap::Directory>>,
    /// The country database, when `[geo]` is configured.
    pub geo: Option<crate::geo::Geo>,
    /// The sign-ins known to be usual.
    pub(crate) known: crate::risk::Known,
    /// The PostgreSQL audit trail, when the store is there.
    trail: Option<crate::audit::Trail>,
}

impl Gate {
    /// A gateway over `store`, configured by `config`, writing its decisions to `audit`; the
    /// keys of `[bearer]`, if configured, are read from `base` (the config's directory) or
    /// fetched, and a gateway that cannot get them does not start.
    pub async fn start(
        config: Config,
        store: Store,
        audit: Option<Audit>,
        base: &std::path::Path,
    ) -> Result<Arc<Gate>, String> {
        let client = crate::proxy::HttpClient::new();
        let keys = match &config.bearer {
            Some(b) => Some(
                crate::bearer::Keys::load(b, base, client.clone())
                    .await
                    .map_err(|e| format!("[bearer] {e}"))?,
            ),
            None => None,
        };
        let directory = match &config.ldap {
            Some(l) => Some(Arc::new(crate::ldap::Directory::new(l.clone(), base)?)),
            None => None,
        };
        let trail = store
            .is_postgres()
            .then(|| crate::audit::Trail::start(store.clone()));
        let geo = match &config.geo {
            Some(f) => Some(crate::geo::Geo::open(&base.join(f))?),
            None => None,
        };
        let key_file = crate::factors::key_path(&config.mfa, base, &store);
        let sealer = crate::factors::Sealer::load(&key_file).map_err(|e| format!("[mfa] {e}"))?;
        let ttl = config.server.basic_cache;
        let fresh = crate::fresh::Freshness::watch(store.clone()).await;
        let metrics = crate::metrics::Metrics::new();
        let notifier = crate::notify::Notifier::start(
            config.notify.clone(),
            client.clone(),
            metrics.notified.clone(),
        );
        Ok(Arc::new(Gate {
            config,
            store,
            audit,
            cache: BasicCache::new(ttl),
            client,
            keys,
            metrics,
            fresh,
            sessions: Remembered::new(std::time::Duration::from_secs(30)),
            sealer,
            notifier,
            directory,
            geo,
            known: Default::default(),
            trail,
        }))
    }

    /// The challenges the gateway makes: Basic when it takes Basic, Bearer with the `scopes` a
    /// rule needs when it takes tokens.
    fn schemes(&self, scopes: &[String]) -> Schemes {
        let realm = &self.config.server.realm;
        Schemes {
            basic: self.config.server.basic.then(|| realm.clone()),
            bearer: self.keys.as_ref().map(|_| (realm.clone(), scopes.to_vec())),
        }
    }

    /// Whether `who` is in a group that always gives a second factor (`[mfa] groups`, and
    /// `[admin] group`).
    pub fn second_factor_group(&self, who: &Identity) -> bool {
        self.config.second_factor_group(who).is_some()
    }

    /// The country of `ip`, when `[geo]` knows it.
    pub fn country(&self, ip: IpAddr) -> Option<String> {
        self.geo.as_ref().and_then(|g| g.country(ip))
    }

    /// Tells of an unusual sign-in.
    pub(crate) fn notify_unusual(&self, user: &str, ip: IpAddr, reason: &str) {
        self.notifier.send(crate::notify::Event {
            event: crate::notify::Kind::UnusualSignIn,
            time: jiff::Timestamp::now().to_string(),
            user: user.to_string(),
            address: Some(ip.to_string()),
            detail: reason.to_string(),
        });
    }

    /// Remembers that `user` completed a sign-in from `ip` (the next from its network and
    /// country is usual).
    pub(crate) async fn signed_in_from(&self, user: &str, ip: IpAddr) -> Result<(), StoreError> {
        let country = self.country(ip);
        self.known
            .remember(&self.store, user, ip, country.as_deref())
            .await
    }

    /// Where logins are checked.
    pub fn login(&self) -> login::Ctx<'_> {
        login::Ctx {
            store: &self.store,
            limits: &self.config.lockout,
            notify: &self.notifier,
            directory: self.directory.as_deref(),
        }
    }

    /// Tells of a change to `user`'s second factors (ASVS 5 §6.3.7).
    pub fn notify_factor_change(&self, user: &str, detail: &str) {
        self.notifier.send(crate::notify::Event {
            event: crate::notify::Kind::FactorChanged,
            time: jiff::Timestamp::now().to_string(),
            user: user.to_string(),
            address: None,
            detail: detail.to_string(),
        });
    }

    /// Writes `e` to the audit log (the file, and the PostgreSQL trail when the store is
    /// there) and keeps it as an explain record in Redis when sessions are there; `false` when
    /// the log could not take it (the caller fails closed).
    pub async fn record(&self, e: &Entry) -> bool {
        self.metrics.decided(e);
        // Serialised once, for the file, the trail and the explain record alike.
        let line = serde_json::to_string(e).expect("an entry serialises");
        let file = self
            .audit
            .as_ref()
            .is_none_or(|a| a.write_line(&line).is_ok());
        // The explain record is for the explain endpoint of whichever instance is asked, not
        // the log itself (a Redis that fails here fails the request's own lookups too): kept
        // without waiting.
        if self.store.shares_sessions() {
            let (store, id, l) = (self.store.clone(), e.request_id.clone(), line.clone());
            tokio::spawn(async move {
                let _ = store.put_explain(&id, &l).await;
            });
        }
        let trail = match &self.trail {
            // The file log holds it: the trail follows (see `audit::Trail`).
            Some(t) if self.audit.is_some() => {
                t.append_detached(crate::audit::TrailLine::of(e, line))
            }
            Some(t) => t.append(crate::audit::TrailLine::of(e, line)).await,
            None => true,
        };
        file && trail
    }
}

/// The gateway's routes.
pub fn router(gate: Arc<Gate>) -> Router {
    Router::new()
        .route("/.why401/healthz", get(|| async { "ok\n" }))
        .route("/.why401/authz/auth-request", any(auth_request))
        .route("/.why401/authz/forward-auth", any(forward_auth))
        .route(
            "/.why401/login",
            get(crate::web::login_page).post(crate::web::login_submit),
        )
        .route("/.why401/logout", axum::routing::post(crate::web::logout))
        .route(
            "/.why401/second-factor",
            get(crate::mfa::page_get).post(crate::mfa::page_post),
        )
        .route(
            "/.why401/second-factor/enrol",
            axum::routing::post(crate::mfa::enrol_post),
        )
        .route("/.why401/second-factor/add-app", get(crate::mfa::add_app))
        .route("/.why401/factors", get(crate::mfa::manage_get))
        .route(
            "/.why401/factors/remove",
            axum::routing::post(crate::mfa::manage_post),
        )
        .route(
            "/.why401/factors/recovery",
            axum::routing::post(crate::mfa::manage_post),
        )
        .route("/.why401/webauthn.js", get(crate::mfa::script))
        .route(
            "/.why401/webauthn/register/start",
            axum::routing::post(crate::mfa::register_start),
        )
        .route(
            "/.why401/webauthn/register/finish",
            axum::routing::post(crate::mfa::register_finish),
        )
        .route(
            "/.why401/webauthn/login/start",
            axum::routing::post(crate::mfa::login_start),
        )
        .route(
            "/.why401/webauthn/login/finish",
            axum::routing::post(crate::mfa::login_finish),
        )
        .route("/.why401/metrics", get(crate::metrics::endpoint))
        .route(
            "/.why401/admin/explain/{request_id}",
            get(crate::metrics::explain_endpoint),
        )
        .fallback(proxy)
        .with_state(gate)
}

/// Whether the connection a request came on is TLS (the gateway's own HTTPS listener).
#[derive(Debug, Clone, Copy)]
pub struct Tls(pub bool);

/// The client certificate the gateway verified on the connection (a managed device): its
/// subject.
#[derive(Debug, Clone)]
pub struct ClientCert(pub Option<Arc<str>>);

/// Serves `gate` on `listener` until the process ends: HTTP/1.1 and HTTP/2 (h2c with prior
/// knowledge on plain TCP; ALPN over TLS when `tls` is given), with upgrades (WebSocket).
pub async fn serve(
    gate: Arc<Gate>,
    listener: tokio::net::TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use hyper_util::server::conn::auto;
    let app = router(gate);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(a) => a,
            // Out of descriptors and the like: wait, rather than spin or stop serving.
            Err(_) => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // A client has 30 s to send its request head (slowloris).
            builder
                .http1()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(std::time::Duration::from_secs(30));
            match tls {
                Some(acceptor) => {
                    let Ok(Ok(s)) = tokio::time::timeout(
                        std::time::Duration::from_secs(10),
                        acceptor.accept(stream),
                    )
                    .await
                    else {
                        return;
                    };
                    // rustls verified it against [server] client_ca, if one was sent.
                    let device: Option<Arc<str>> = s
                        .get_ref()
                        .1
                        .peer_certificates()
                        .and_then(|c| c.first())
                        .map(|c| device_name(c.as_ref()).into());
                    let service = connection_service(app, peer, true, device);
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(s), service)
                        .await;
                }
                None => {
                    let service = connection_service(app, peer, false, None);
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                }
            }
        });
    }
}

/// The service for one connection: each request told its peer, whether the connection is TLS
/// and which device's certificate it showed.
fn connection_service(
    app: Router,
    peer: SocketAddr,
    is_tls: bool,
    device: Option<Arc<str>>,
) -> impl hyper::service::Service<
    http::Request<hyper::body::Incoming>,
    Response = Response,
    Error = std::convert::Infallible,
    Future = impl std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send,
> + Clone {
    hyper::service::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(Tls(is_tls));
        req.extensions_mut().insert(ClientCert(device.clone()));
        // HTTP/2 carries the host as :authority, which hyper puts in the URI: give it as Host
        // too, so that every handler reads the host one way.
        if !req.headers().contains_key(header::HOST)
            && let Some(a) = req.uri().authority()
            && let Ok(v) = http::HeaderValue::from_str(a.as_str())
        {
            req.headers_mut().insert(header::HOST, v);
        }
        let app = app.clone();
        async move {
            use tower::ServiceExt;
            app.oneshot(req.map(Body::new)).await
        }
    })
}

/// A device's name from its certificate: the subject (`CN=laptop-42,O=Example`), else its
/// SHA-256 fingerprint.
fn device_name(der: &[u8]) -> String {
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => c.subject().to_string(),
        Err(_) => {
            use sha2::Digest;
            format!("sha256:{}", hex::encode(sha2::Sha256::digest(der)))
        }
    }
}

/// The TLS acceptor for a certificate chain and key in PEM files (HTTP/2 and HTTP/1.1 offered
/// by ALPN).
pub fn tls_acceptor(
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    tls_acceptor_with_devices(certificate, key, None)
}

/// [`tls_acceptor`], asking clients for a certificate signed by `client_ca` (PEM): optional
/// (a client without one is served, and is no managed device), verified when sent (a
/// certificate the CA did not sign ends the handshake).
pub fn tls_acceptor_with_devices(
    certificate: &std::path::Path,
    key: &std::path::Path,
    client_ca: Option<&std::path::Path>,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(certificate)
        .and_then(|i| i.collect::<Result<_, _>>())
        .map_err(|e| format!("{}: {e}", certificate.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", certificate.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?;
    let config = match client_ca {
        None => config.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            let cas: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
                .and_then(|i| i.collect::<Result<_, _>>())
                .map_err(|e| format!("{}: {e}", ca.display()))?;
            for c in cas {
                roots.add(c).map_err(|e| format!("{}: {e}", ca.display()))?;
            }
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Arc::new(rustls::crypto::ring::default_provider()),
            )
            .allow_unauthenticated()
            .build()
            .map_err(|e| format!("{}: {e}", ca.display()))?;
            config.with_client_cert_verifier(verifier)
        }
    };
    let mut config = config
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Entries remembered for a short time, each with the [`crate::fresh`] epoch it was made in:
/// used only while that epoch is current and the entry is younger than its time to live.
pub(crate) struct Remembered<V> {
    ttl: std::time::Duration,
    entries: Mutex<HashMap<[u8; 32], (Instant, u64, V)>>,
}

/// Entries kept at most; past it, the expired ones go, then all.
const CACHE_MAX: usize = 10_000;

impl<V: Clone> Remembered<V> {
    pub(crate) fn new(ttl: std::time::Duration) -> Remembered<V> {
        Remembered {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The entry for `id`, if made in `epoch` and still young.
    pub(crate) fn get(&self, id: &[u8; 32], epoch: u64) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id)
            .filter(|(t, e, _)| *e == epoch && t.elapsed() < self.ttl)
            .map(|(_, _, v)| v.clone())
    }

    pub(crate) fn put(&self, id: [u8; 32], epoch: u64, v: V) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX {
            let ttl = self.ttl;
            entries.retain(|_, (t, _, _)| t.elapsed() < ttl);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(id, (Instant::now(), epoch, v));
    }

    pub(crate) fn forget(&self, id: &[u8; 32]) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// Verified Basic credentials, remembered for a short time so that a slow hash is paid once
/// (Caddy's `hash_cache`, Authelia's `scheme_basic_cache_lifespan`). The key is an HMAC of the
/// user and password under a key made at start, so the table holds no password and nothing an
/// attacker could test passwords against. An entry is used only in the [`crate::fresh`] epoch
/// it was made in: a password change, a disable, a lock or a throttle (here or by another
/// process) ends it.
struct BasicCache {
    key: [u8; 32],
    remembered: Remembered<Identity>,
}

impl BasicCache {
    fn new(ttl: std::time::Duration) -> BasicCache {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the system's random source");
        BasicCache {
            key,
            remembered: Remembered::new(ttl),
        }
    }

    fn id(&self, user: &str, password: &str) -> [u8; 32] {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&self.key)
            .expect("HMAC takes any key length");
        mac.update(user.as_bytes());
        mac.update(&[0]);
        mac.update(password.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// A new request id: 16 random bytes, hex.
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the system's random source");
    hex::encode(b)
}

/// The request judged: the one a proxy asks about, or the one the gateway itself received.
pub(crate) struct Original {
    pub(crate) method: Method,
    pub(crate) url: url::Url,
    /// The host, lowercase, without brackets, port or trailing dot.
    pub(crate) host: String,
    /// The host and port as the client wrote them (for `X-Forwarded-Host`).
    pub(crate) authority: String,
    /// The path, percent-decoded and with its dot segments resolved.
    pub(crate) path: String,
    pub(crate) client: IpAddr,
    /// The managed device the client is on: the subject of the client certificate the gateway
    /// verified, or that a trusted proxy says it verified (`X-SSL-Client-Verify: SUCCESS`,
    /// `X-SSL-Client-S-DN`, as nginx's `$ssl_client_verify` and `$ssl_client_s_dn` give them).
    pub(crate) device: Option<String>,
}

/// The original request from a trusted proxy's headers; `Err`: why there is none. Each
/// endpoint reads the headers of its own proxy only: nginx's `X-Original-*` (which Traefik and
/// Caddy pass on from the client untouched), or the `X-Forwarded-*` that Traefik and Caddy set
/// (and that the nginx snippet sets for the full answer).
fn original(
    gate: &Gate,
    peer: SocketAddr,
    headers: &HeaderMap,
    source: Source,
) -> Result<Original, &'static str> {
    if !gate.trusts(peer.ip()) {
        return Err("the decision endpoints answer only the proxies in [server] trusted_proxies");
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let (url, method) = match source {
        Source::Original => (
            h("x-original-url").ok_or("no X-Original-URL")?.to_string(),
            h("x-original-method").unwrap_or("GET"),
        ),
        Source::Forwarded => {
            let (Some(proto), Some(host)) = (h("x-forwarded-proto"), h("x-forwarded-host")) else {
                return Err("no X-Forwarded-Proto and X-Forwarded-Host");
            };
            let uri = h("x-forwarded-uri").unwrap_or("/");
            if !uri.starts_with('/') {
                return Err("X-Forwarded-Uri is not a path");
            }
            (
                format!("{proto}://{host}{uri}"),
                h("x-forwarded-method").unwrap_or("GET"),
            )
        }
    };
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|_| "the original method is not a method")?;
    judged(gate, peer, headers, &url, method, None)
}

/// The request as judged from its URL, method and the client's address.
fn judged(
    gate: &Gate,
    peer: SocketAddr,
    headers: &HeaderMap,
    url: &str,
    method: Method,
    own_device: Option<&str>,
) -> Result<Original, &'static str> {
    if !plain_target(raw_path(url)) {
        return Err(
            "the path is ambiguous (an empty, . or .. segment, a \\, or an encoded letter, digit or -._~): refused rather than judged as one path and served as another",
        );
    }
    let url = url::Url::parse(url).map_err(|_| "the original URL does not parse")?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err("the original URL is not a plain http(s) URL");
    }
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or("the original URL has no host")?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let path = normalised_path(url.path()).ok_or(
        "the original path is ambiguous (an encoded /, \\ or NUL, a ;, or not UTF-8): refused rather than guessed",
    )?;
    let client = client_address(gate, peer, headers)
        .ok_or("X-Forwarded-For has an entry that is no address")?;
    let authority = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let device = own_device.map(String::from).or_else(|| {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
        (gate.config.server.trust_client_cert_headers
            && gate.trusts(peer.ip())
            && h("x-ssl-client-verify") == Some("SUCCESS"))
        .then(|| {
            h("x-ssl-client-s-dn")
                .unwrap_or("a certificate the proxy verified")
                .to_string()
        })
    });
    Ok(Original {
        method,
        url,
        host,
        authority,
        path,
        client,
        device,
    })
}

/// The request the gateway itself received, as the reverse proxy: its scheme is the
/// listener's (or a trusted proxy's `X-Forwarded-Proto`), its host the `Host` header or the
/// HTTP/2 `:authority`.
fn direct(
    gate: &Gate,
    peer: SocketAddr,
    tls: bool,
    parts: &http::request::Parts,
) -> Result<Original, &'static str> {
    let trusted = gate.trusts(peer.ip());
    let forwarded = |name: &str| {
        trusted
            .then(|| parts.headers.get(name).and_then(|v| v.to_str().ok()))
            .flatten()
    };
    let scheme = match forwarded("x-forwarded-proto") {
        Some(p) if p.eq_ignore_ascii_case("https") => "https",
        Some(_) => "http",
        None if tls => "https",
        None => "http",
    };
    let host = forwarded("x-forwarded-host")
        .or_else(|| {
            parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
        })
        .or_else(|| parts.uri.authority().map(|a| a.as_str()))
        .ok_or("the request names no host")?;
    let authority: http::uri::Authority = host.parse().map_err(|_| "the Host is not a host")?;
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    if !pq.starts_with('/') {
        return Err("the request target is not a path (the gateway is not a forward proxy)");
    }
    judged(
        gate,
        peer,
        &parts.headers,
        &format!("{scheme}://{authority}{pq}"),
        parts.method.clone(),
        parts
            .extensions
            .get::<ClientCert>()
            .and_then(|c| c.0.as_deref()),
    )
}

/// The raw path of a request target or URL: after `scheme://authority`, before `?` or `#`.
fn raw_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let p = &rest[rest.find('/').unwrap_or(rest.len())..];
    &p[..p.find(['?', '#']).unwrap_or(p.len())]
}

/// Whether a raw request path is one every app and proxy reads alike, so that the path the
/// rules judge is the path the app serves (the app gets the raw one): no `\`, no empty, `.` or
/// `..` segment (`/public//../admin`, `/admin/x/../../public`: resolved differently, or not at
/// all, by nginx, Express, axum, Tomcat), no percent-encoded unreserved character (`%61dmin`,
/// `%2e%2e`: RFC 3986 says to decode them, and some routers do not). Anything else is refused
/// with 400 rather than judged as one path and served as another.
pub fn plain_target(raw: &str) -> bool {
    if !raw.starts_with('/') || raw.contains('\\') {
        return false;
    }
    let segments: Vec<&str> = raw.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let dots = segments
        .iter()
        .enumerate()
        .any(|(i, s)| (s.is_empty() && i != last) || *s == "." || *s == "..");
    if dots {
        return false;
    }
    let b = raw.as_bytes();
    !b.iter().enumerate().any(|(i, &c)| {
        c == b'%'
            && b.get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .is_some_and(|d| d.is_ascii_alphanumeric() || b"-._~".contains(&d))
    })
}

/// The path the rules judge: percent-decoded, dot segments resolved again after decoding. A
/// path an app could read otherwise is refused (`None`): an encoded `/`, `\` or NUL, a `;`
/// (Tomcat and Jetty path parameters: `/public/..;/admin/`), a backslash, a control character,
/// bytes that are not UTF-8.
pub fn normalised_path(raw: &str) -> Option<String> {
    let lower = raw.to_ascii_lowercase();
    if ["%2f", "%5c", "%00"].iter().any(|e| lower.contains(e))
        || raw.contains(';')
        || raw.contains('\\')
    {
        return None;
    }
    let decoded = String::from_utf8(percent_decode(raw.as_bytes())?).ok()?;
    if decoded.chars().any(char::is_control) || !decoded.starts_with('/') {
        return None;
    }
    // Runs of `/` are one, as nginx (merge_slashes), Apache and Tomcat read them.
    let mut out: Vec<&str> = Vec::new();
    for seg in decoded.split('/').skip(1) {
        match seg {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let trailing = decoded.ends_with('/') || decoded.ends_with("/.") || decoded.ends_with("/..");
    let mut path = format!("/{}", out.join("/"));
    if trailing && !path.ends_with('/') {
        path.push('/');
    }
    Some(path)
}

fn percent_decode(b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Which proxy's headers an endpoint reads.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    /// nginx: `X-Original-URL`, `X-Original-Method`.
    Original,
    /// Traefik, Caddy (and the nginx snippet's full answer): `X-Forwarded-*`.
    Forwarded,
}

impl Gate {
    /// Whether `ip` is one of the trusted proxies.
    pub(crate) fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.config
            .server
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&ip))
    }
}

/// The client's address: for a trusted proxy, the right-most entry of `X-Forwarded-For` that
/// is not a trusted proxy (an `ip:port` or a bracketed IPv6 entry read as its address), else
/// `X-Real-IP`, else the peer. `None` when an entry the walk reaches is no address (`unknown`, a
/// name): the chain cannot be followed, and guessing past it would believe the client.
pub fn client_address(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> Option<IpAddr> {
    if !gate.trusts(peer.ip()) {
        return Some(canonical(peer.ip()));
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    for e in entries.iter().rev() {
        let ip = forwarded_entry(e)?;
        if !gate.trusts(ip) {
            return Some(canonical(ip));
        }
    }
    if let Some(real) = headers.get("x-real-ip").and_then(|v| v.to_str().ok()) {
        return forwarded_entry(real.trim()).map(canonical);
    }
    Some(canonical(peer.ip()))
}

/// One `X-Forwarded-For` entry: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn forwarded_entry(e: &str) -> Option<IpAddr> {
    if let Ok(ip) = e.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(sa) = e.parse::<SocketAddr>() {
        return Some(sa.ip());
    }
    e.strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .and_then(|r| r.parse().ok())
}

/// An IPv4 address seen on an IPv6 socket is that IPv4 address.
pub(crate) fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// What the credentials of a request gave.
enum Credentials {
    None,
    Accepted(Identity),
    /// Refused: the user claimed, and why when the store knows.
    Refused(Option<String>, Option<Refusal>),
    /// Not checked: the address is throttled until then (Unix seconds).
    Throttled(Option<String>, i64),
    /// A Bearer token refused, and why.
    TokenRefused(crate::bearer::Refused),
}

/// The identity the request's `Authorization` proves.
async fn credentials(
    gate: &Gate,
    headers: &HeaderMap,
    address: IpAddr,
    host: &str,
) -> Result<Credentials, StoreError> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    if let (Some(first), second) = (all.next(), all.next())
        && (second.is_some() || first.to_str().is_err())
    {
        // Two Authorization headers (one judged, the other passed on to an app that trusts
        // it), or one that is not text: refused, never read past.
        return Ok(Credentials::Refused(None, None));
    }
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        // A browser's session, if it has a valid one.
        return Ok(
            match crate::web::session_identity(gate, headers, host).await? {
                Some(who) => Credentials::Accepted(who),
                None => Credentials::None,
            },
        );
    };
    let Some((scheme, token)) = auth.trim().split_once(' ') else {
        return Ok(Credentials::Refused(None, None));
    };
    if scheme.eq_ignore_ascii_case("bearer")
        && let Some(keys) = &gate.keys
    {
        return Ok(match keys.verify(token.trim()).await {
            Ok(who) => Credentials::Accepted(who),
            Err(why) => Credentials::TokenRefused(why),
        });
    }
    if !scheme.eq_ignore_ascii_case("basic") || !gate.config.server.basic {
        // Schemes the gateway does not take are refused, with the challenges it does.
        return Ok(Credentials::Refused(None, None));
    }
    let Ok(basic) = why401_wire::basic::decode(token.trim()) else {
        return Ok(Credentials::Refused(None, None));
    };
    let id = gate.cache.id(&basic.user, &basic.password);
    // The epoch before the store is read: a change during the check makes the entry stale.
    let epoch = gate.fresh.current(&gate.store);
    if let Some(who) = epoch.and_then(|e| gate.cache.remembered.get(&id, e)) {
        return Ok(Credentials::Accepted(who));
    }
    // One check per credential at a time: clients that send the same credential at once (a
    // pool of connections at start) wait for the first check and take what it remembered,
    // instead of each paying the hash in turn.
    let _one = login::serialised(format!("basic {}", hex::encode(id))).await;
    let epoch = gate.fresh.current(&gate.store);
    if let Some(who) = epoch.and_then(|e| gate.cache.remembered.get(&id, e)) {
        return Ok(Credentials::Accepted(who));
    }
    let address = address.to_string();
    match login::check(gate.login(), &basic.user, &basic.password, &address).await? {
        Login::Accepted(who) => {
            if let Some(e) = epoch {
                gate.cache.remembered.put(id, e, who.clone());
            }
            Ok(Credentials::Accepted(who))
        }
        Login::Refused(why) => Ok(Credentials::Refused(Some(basic.user), Some(why))),
        Login::Throttled(until) => Ok(Credentials::Throttled(Some(basic.user), until)),
    }
}

/// Judges a Basic sign-in of `who` from `ip` for unusualness: an unusual one is told once,
/// remembered when `[risk] unusual = "notify"` lets it through as usual, else marked on `who`
/// for the policy.
async fn basic_unusual(
    gate: &Gate,
    who: &mut Identity,
    ip: IpAddr,
    country: Option<&str>,
) -> Result<(), StoreError> {
    match gate
        .known
        .assess(&gate.store, &who.user, ip, country)
        .await?
    {
        None => Ok(()),
        Some(reason) => {
            if gate.known.tell_once(&who.user, ip, country) {
                gate.notify_unusual(&who.user, ip, &reason);
            }
            if gate.config.unusual == crate::risk::Unusual::Notify {
                gate.known
                    .remember(&gate.store, &who.user, ip, country)
                    .await?;
            } else {
                who.unusual = Some(reason);
            }
            Ok(())
        }
    }
}

/// Whether the answer may be a redirect (forward-auth) or only a status (nginx auth_request).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    StatusOnly,
    Full,
}

async fn auth_request(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    decide(&gate, peer, &headers, Mode::StatusOnly, Source::Original).await
}

async fn forward_auth(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    decide(&gate, peer, &headers, Mode::Full, Source::Forwarded).await
}

/// Whether `who` gave a second factor, within `step_up` of `now` when a rule asks for that.
fn second_factor_recent(who: &Identity, step_up: Option<std::time::Duration>, now: i64) -> bool {
    match (who.second_factor_at, step_up) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(at), Some(within)) => now - at <= within.as_secs() as i64,
    }
}

/// The second-factor page's URL on the app's host, with the path to go back to.
fn second_factor_url(back: &url::Url, path: &str) -> String {
    let mut u = url::Url::parse(&login_url(back, path)).expect("a URL made from a URL");
    u.set_path("/.why401/second-factor");
    u.to_string()
}

/// The login page's URL: `/.why401/login` on the app's own host (so that the session cookie
/// can be a host-only `__Host-` cookie), with the path to go back to as `rd` (a path only, so
/// there is no open redirect to make).
fn login_url(back: &url::Url, path: &str) -> String {
    let mut login = back.clone();
    login.set_path("/.why401/login");
    login.set_query(None);
    login.set_fragment(None);
    let rd = match back.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    };
    login.query_pairs_mut().append_pair("rd", &rd);
    login.to_string()
}

async fn decide(
    gate: &Gate,
    peer: SocketAddr,
    headers: &HeaderMap,
    mode: Mode,
    source: Source,
) -> Response {
    let started = Instant::now();
    let orig = match original(gate, peer, headers, source) {
        Ok(o) => o,
        Err(why) => return plain(StatusCode::BAD_REQUEST, why, &request_id()),
    };
    let v = judge(gate, &orig, headers).await;
    let r = match v.answer {
        Some(a) => respond(a, mode),
        None => allowed(v.who.as_ref(), &v.rid),
    };
    gate.metrics.took("decision", started.elapsed());
    r
}

/// The reverse proxy: everything outside `/.why401/`.
async fn proxy(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    tls: Option<axum::Extension<Tls>>,
    req: http::Request<Body>,
) -> Response {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let orig = match direct(&gate, peer, tls.is_some_and(|t| t.0.0), &parts) {
        Ok(o) => o,
        Err(why) => return plain(StatusCode::BAD_REQUEST, why, &request_id()),
    };
    if gate.config.routes.is_empty() {
        return plain(
            StatusCode::NOT_FOUND,
            "this gateway has no [[route]]: it answers the decision endpoints under /.why401/authz/ only",
            &request_id(),
        );
    }
    let v = judge(&gate, &orig, &parts.headers).await;
    if let Some(a) = v.answer {
        return respond(a, Mode::Full);
    }
    let Some(route) = crate::proxy::route(&gate, &orig) else {
        return plain(
            StatusCode::NOT_FOUND,
            "no [[route]] of the gateway takes this host and path",
            &v.rid,
        );
    };
    gate.metrics.took("decision", started.elapsed());
    let req = http::Request::from_parts(parts, body);
    crate::proxy::forward(&gate, route, &orig, peer, req, v.who.as_ref(), &v.rid).await
}

/// What the gateway decided about one request.
pub(crate) struct Verdict {
    /// Its request id.
    pub(crate) rid: String,
    /// The refusal; `None`: allowed.
    pub(crate) answer: Option<Answer>,
    /// Who it is, when known and allowed.
    pub(crate) who: Option<Identity>,
}

/// Judges `orig`: the credentials, the policy, the answer; the audit line is written before
/// the verdict is returned (an unwritable log makes it a 503).
pub(crate) async fn judge(gate: &Gate, orig: &Original, headers: &HeaderMap) -> Verdict {
    let rid = request_id();
    let creds = match credentials(gate, headers, orig.client, &orig.host).await {
        Ok(c) => c,
        Err(_) => {
            // Written when it can be: the store may be down, the log need not be.
            gate.record(&Entry {
                time: jiff::Timestamp::now().to_string(),
                request_id: rid.clone(),
                kind: Kind::Authz,
                status: 503,
                auth_status: 503,
                result: "unavailable".into(),
                finding: Some("gate-store-unavailable".into()),
                user: None,
                address: orig.client.to_string(),
                refusal: None,
                check: None,
            })
            .await;
            return Verdict {
                answer: Some(Answer::unavailable(&rid)),
                rid,
                who: None,
            };
        }
    };
    let country = gate.country(orig.client);
    let mut creds = creds;
    // A password sent with Basic is a sign-in at every request: judged for unusualness here
    // (a browser's was at its login).
    if let Credentials::Accepted(w) = &mut creds
        && w.scopes.is_none()
        && headers.contains_key(header::AUTHORIZATION)
        && basic_unusual(gate, w, orig.client, country.as_deref())
            .await
            .is_err()
    {
        return Verdict {
            answer: Some(Answer::unavailable(&rid)),
            rid,
            who: None,
        };
    }
    let who = match &creds {
        Credentials::Accepted(w) => Some(w),
        _ => None,
    };
    let request = Request {
        host: &orig.host,
        path: &orig.path,
        method: orig.method.as_str(),
        ip: orig.client,
        at: jiff::Timestamp::now(),
        who,
        country: country.as_deref(),
        device: orig.device.as_deref(),
    };
    let decision = gate.config.policy.decide(&request);
    let rule = decision.rule.map(|i| &gate.config.policy.rules[i]);
    let scopes: Vec<String> = rule.map(|r| r.scopes.clone()).unwrap_or_default();
    let schemes = gate.schemes(&scopes);
    // A rule whose subjects need the user: log in first, whatever it grants.
    let action = if decision.needs_identity {
        Action::OneFactor
    } else {
        decision.action
    };
    // Members of `[mfa] groups`, and admins always, give a second factor wherever a rule asks
    // for a password.
    let action = match (action, who) {
        (Action::OneFactor, Some(w)) if gate.second_factor_group(w) => Action::TwoFactor,
        (a, _) => a,
    };
    // An unusual sign-in (a network or country never seen for the user), by `[risk] unusual`.
    let unusual = who.and_then(|w| w.unusual.clone());
    let action = match (action, &unusual, gate.config.unusual) {
        (Action::OneFactor, Some(_), crate::risk::Unusual::SecondFactor) => Action::TwoFactor,
        (a, _, _) => a,
    };
    let step_up = rule.and_then(|r| r.step_up);
    let missing_scopes: Vec<String> = match who.and_then(|w| w.scopes.as_ref()) {
        Some(granted) => scopes
            .iter()
            .filter(|s| !granted.contains(s))
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let (result, answer) = match (action, &creds) {
        (Action::Bypass, _) => ("allow", None),
        (Action::Deny, Credentials::Accepted(_)) | (Action::Deny, Credentials::None) => (
            "deny",
            Some(Answer::forbidden(
                "gate-policy-denied",
                "the gateway's access policy does not allow this request; logging in again will not change that",
                None,
                &rid,
            )),
        ),
        (_, Credentials::Throttled(_, until)) => (
            "throttled",
            Some(Answer::throttled(
                until - jiff::Timestamp::now().as_second(),
                &rid,
            )),
        ),
        (_, Credentials::Refused(..)) => ("rejected", Some(Answer::rejected(&schemes, None, &rid))),
        (_, Credentials::TokenRefused(why)) => {
            ("rejected", Some(Answer::token_refused(&schemes, why, &rid)))
        }
        (_, Credentials::None) => {
            let api = rule.is_some_and(|r| r.api);
            let client = Client::of(headers, api);
            let login = login_url(&orig.url, &orig.path);
            (
                "login",
                Some(Answer::log_in(
                    client,
                    &orig.method,
                    Some(&login),
                    &schemes,
                    &rid,
                )),
            )
        }
        (Action::OneFactor | Action::TwoFactor, Credentials::Accepted(_))
            if !missing_scopes.is_empty() =>
        {
            (
                "deny",
                Some(Answer::forbidden(
                    "insufficient-scope",
                    &format!(
                        "the token does not carry the scope this resource needs: {}",
                        missing_scopes.join(" ")
                    ),
                    Some((&schemes, &BearerError::InsufficientScope(scopes.clone()))),
                    &rid,
                )),
            )
        }
        (Action::OneFactor | Action::TwoFactor, Credentials::Accepted(_))
            if unusual.is_some() && gate.config.unusual == crate::risk::Unusual::Deny =>
        {
            (
                "deny",
                Some(Answer::forbidden(
                    "gate-unusual-sign-in",
                    &format!(
                        "{}: refused by the gateway's risk policy; an administrator can allow it",
                        unusual.as_deref().unwrap_or_default()
                    ),
                    None,
                    &rid,
                )),
            )
        }
        (Action::OneFactor, Credentials::Accepted(_)) => ("allow", None),
        (Action::TwoFactor, Credentials::Accepted(w))
            if second_factor_recent(w, step_up, request.at.as_second()) =>
        {
            ("allow", None)
        }
        (Action::TwoFactor, Credentials::Accepted(w)) => {
            // Only a browser session can go and give one: the page is on this host.
            let session = w.scopes.is_none()
                && headers.get(header::AUTHORIZATION).is_none()
                && crate::web::cookie(headers, crate::web::SESSION_COOKIE).is_some();
            let api = rule.is_some_and(|r| r.api);
            let page = session.then(|| second_factor_url(&orig.url, &orig.path));
            let detail = match (session, step_up, w.second_factor_at) {
                (true, Some(m), Some(_)) => format!(
                    "this resource needs a second factor given within {} minutes: give it again on /.why401/second-factor",
                    m.as_secs() / 60
                ),
                (true, ..) => "this resource needs a second factor: give it on /.why401/second-factor".to_string(),
                (false, Some(m), Some(_)) => format!(
                    "this resource needs a second factor given within {} minutes; the token's is older: sign in again at the identity provider",
                    m.as_secs() / 60
                ),
                (false, ..) => "this resource needs a second factor, which a password sent with Basic (or a token without one in its amr) cannot give: sign in on the login page".to_string(),
            };
            let detail = match &w.unusual {
                Some(why) => format!("{why}; {detail}"),
                None => detail,
            };
            (
                "second-factor",
                Some(Answer::second_factor(
                    Client::of(headers, api),
                    &orig.method,
                    page.as_deref(),
                    &detail,
                    &rid,
                )),
            )
        }
    };
    let finding = answer.as_ref().and_then(|a| a.finding.clone());
    let status = answer.as_ref().map_or(200, |a| a.status.as_u16());
    let entry = Entry {
        time: request.at.to_string(),
        request_id: rid.clone(),
        kind: Kind::Authz,
        status,
        auth_status: status,
        result: result.to_string(),
        finding,
        user: match &creds {
            Credentials::Accepted(w) => Some(w.user.clone()),
            Credentials::Refused(u, _) | Credentials::Throttled(u, _) => {
                u.as_ref().map(|u| u.chars().take(256).collect())
            }
            Credentials::None | Credentials::TokenRefused(_) => None,
        },
        address: orig.client.to_string(),
        refusal: match &creds {
            Credentials::Refused(_, r) => *r,
            _ => None,
        },
        check: Some(Check::new(&gate.config, &request, &decision)),
    };
    if !gate.record(&entry).await {
        // Nothing is decided that the audit log does not show.
        return Verdict {
            answer: Some(Answer::unavailable(&rid)),
            rid,
            who: None,
        };
    }
    let who = match (&answer, creds) {
        (None, Credentials::Accepted(w)) => Some(w),
        _ => None,
    };
    Verdict { rid, answer, who }
}

/// 200 with the identity for the proxy to pass on.
fn allowed(who: Option<&Identity>, rid: &str) -> Response {
    let mut r = Response::builder()
        .status(StatusCode::OK)
        .header("x-request-id", rid)
        .header(header::CACHE_CONTROL, "no-store");
    // Always both, empty for a request let through without a user (a bypass rule): a proxy
    // that copies them then overwrites what the client sent instead of keeping it (Caddy 2.6
    // keeps its `{http.reverse_proxy.header.Remote-User}` placeholder, unexpanded, for a
    // header the answer does not have).
    let (user, groups) = who.map_or((String::new(), String::new()), |w| {
        (header_safe(&w.user), header_safe(&w.groups.join(",")))
    });
    r = r
        .header("remote-user", user)
        .header("remote-groups", groups);
    r.body(Body::empty()).expect("a valid response")
}

/// A value safe in a header: control characters (a CR, an LF) dropped.
pub(crate) fn header_safe(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

fn plain(status: StatusCode, text: &str, rid: &str) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header("x-request-id", rid)
        .body(Body::from(format!("{text}\n")))
        .expect("a valid response")
}

/// An [`Answer`] as a response; for nginx's `auth_request` a redirect becomes the 401 nginx
/// turns into its `error_page`.
fn respond(a: Answer, mode: Mode) -> Response {
    let mut a = a;
    // nginx's auth_request reads 2xx, 401 and 403 only (anything else is its own 500): the
    // rest become the 401 its error_page hands to the full answer.
    if mode == Mode::StatusOnly
        && !matches!(a.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
        && !a.status.is_success()
    {
        a.status = StatusCode::UNAUTHORIZED;
    }
    let mut r = Response::builder().status(a.status);
    for (k, v) in &a.headers {
        r = r.header(k, v);
    }
    r.body(Body::from(a.body)).expect("a valid response")
}

/// `None` when the request's credentials (a session or Basic) are a user of `[admin] group`;
/// else the answer: 401 with the challenges, 403, 429 or 503.
pub(crate) async fn admin_identity(
    gate: &Gate,
    peer: SocketAddr,
    headers: &HeaderMap,
) -> Option<Response> {
    let rid = request_id();
    let Some(address) = client_address(gate, peer, headers) else {
        return Some(plain(
            StatusCode::BAD_REQUEST,
            "X-Forwarded-For has an entry that is no address",
            &rid,
        ));
    };
    // The host a session is bound to, read as the login page read it when it made the session.
    let host = crate::web::request_host(headers);
    let schemes = gate.schemes(&[]);
    let answer = match credentials(gate, headers, address, &host).await {
        Err(_) => Answer::unavailable(&rid),
        Ok(Credentials::Accepted(w)) if w.groups.contains(&gate.config.admin.group) => {
            return None;
        }
        Ok(Credentials::Accepted(_)) => Answer::forbidden(
            "gate-policy-denied",
            "the admin endpoints are for the members of [admin] group",
            None,
            &rid,
        ),
        Ok(Credentials::None) => Answer::log_in(Client::Api, &Method::GET, None, &schemes, &rid),
        Ok(Credentials::Refused(..)) => Answer::rejected(&schemes, None, &rid),
        Ok(Credentials::TokenRefused(why)) => Answer::token_refused(&schemes, &why, &rid),
        Ok(Credentials::Throttled(_, until)) => {
            Answer::throttled(until - jiff::Timestamp::now().as_second(), &rid)
        }
    };
    Some(respond(answer, Mode::Full))
}
