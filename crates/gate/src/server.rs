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

use crate::answer::{Answer, Client, Schemes};
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
}

impl Gate {
    /// A gateway over `store`, configured by `config`, writing its decisions to `audit`.
    pub fn new(config: Config, store: Store, audit: Option<Audit>) -> Arc<Gate> {
        let ttl = config.server.basic_cache;
        Arc::new(Gate {
            config,
            store,
            audit,
            cache: BasicCache::new(ttl),
        })
    }

    /// Writes `e` to the audit log; `false` when it could not be written.
    pub fn record(&self, e: &Entry) -> bool {
        self.audit.as_ref().is_none_or(|a| a.write(e).is_ok())
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
        .with_state(gate)
}

/// Serves `gate` on `listener` until the process ends.
pub async fn serve(gate: Arc<Gate>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(gate).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

/// Verified Basic credentials, remembered for a short time so that a slow hash is paid once
/// (Caddy's `hash_cache`, Authelia's `scheme_basic_cache_lifespan`). The key is an HMAC of the
/// user and password under a key made at start, so the table holds no password and nothing an
/// attacker could test passwords against; an entry is used only while the user's stored hash
/// is the one it was verified against and the account is enabled, so a password change or a
/// disable ends it at once.
struct BasicCache {
    key: [u8; 32],
    ttl: std::time::Duration,
    entries: Mutex<HashMap<[u8; 32], (Instant, String)>>,
}

/// Entries kept at most; past it, the expired ones go, then all.
const CACHE_MAX: usize = 10_000;

impl BasicCache {
    fn new(ttl: std::time::Duration) -> BasicCache {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the system's random source");
        BasicCache {
            key,
            ttl,
            entries: Mutex::new(HashMap::new()),
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

    fn get(&self, id: &[u8; 32]) -> Option<String> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(id)
            .filter(|(t, _)| t.elapsed() < self.ttl)
            .map(|(_, hash)| hash.clone())
    }

    fn put(&self, id: [u8; 32], hash: String) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX {
            let ttl = self.ttl;
            entries.retain(|_, (t, _)| t.elapsed() < ttl);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(id, (Instant::now(), hash));
    }

    fn forget(&self, id: &[u8; 32]) {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

/// A new request id: 16 random bytes, hex.
pub fn request_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the system's random source");
    hex::encode(b)
}

/// The request the proxy asks about.
struct Original {
    method: Method,
    url: url::Url,
    client: IpAddr,
}

/// The original request from a trusted proxy's headers; `Err`: why there is none.
fn original(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> Result<Original, &'static str> {
    let trusted = |ip: IpAddr| {
        let ip = canonical(ip);
        gate.config
            .server
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&ip))
    };
    if !trusted(peer.ip()) {
        return Err("the decision endpoints answer only the proxies in [server] trusted_proxies");
    }
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let url = match h("x-original-url") {
        Some(u) => u.to_string(),
        None => {
            let (Some(proto), Some(host)) = (h("x-forwarded-proto"), h("x-forwarded-host")) else {
                return Err("no X-Original-URL, nor X-Forwarded-Proto and X-Forwarded-Host");
            };
            format!("{proto}://{host}{}", h("x-forwarded-uri").unwrap_or("/"))
        }
    };
    let url = url::Url::parse(&url).map_err(|_| "the original URL does not parse")?;
    let method = h("x-original-method")
        .or(h("x-forwarded-method"))
        .unwrap_or("GET");
    let method =
        Method::from_bytes(method.as_bytes()).map_err(|_| "the original method is not a method")?;
    let client = client_address(gate, peer, headers);
    Ok(Original {
        method,
        url,
        client,
    })
}

/// The client's address for a request to the gateway's own pages: from a trusted proxy's
/// `X-Forwarded-For` or `X-Real-IP`, else the peer.
pub fn client_address(gate: &Gate, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    let trusted = |ip: IpAddr| {
        let ip = canonical(ip);
        gate.config
            .server
            .trusted_proxies
            .iter()
            .any(|n| n.contains(&ip))
    };
    if !trusted(peer.ip()) {
        return canonical(peer.ip());
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>()
        .iter()
        .rev()
        .filter_map(|a| a.parse::<IpAddr>().ok())
        .find(|ip| !trusted(*ip))
        .or_else(|| {
            headers
                .get("x-real-ip")
                .and_then(|v| v.to_str().ok())
                .and_then(|a| a.trim().parse().ok())
        })
        .map_or(canonical(peer.ip()), canonical)
}

/// An IPv4 address seen on an IPv6 socket is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
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
}

/// The identity the request's `Authorization` proves.
async fn credentials(
    gate: &Gate,
    headers: &HeaderMap,
    address: IpAddr,
) -> Result<Credentials, StoreError> {
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        // A browser's session, if it has a valid one.
        return Ok(match crate::web::session_identity(gate, headers).await? {
            Some(who) => Credentials::Accepted(who),
            None => Credentials::None,
        });
    };
    let Some((scheme, token)) = auth.trim().split_once(' ') else {
        return Ok(Credentials::Refused(None, None));
    };
    if !scheme.eq_ignore_ascii_case("basic") || !gate.config.server.basic {
        // Schemes the gateway does not take are refused, with the challenges it does.
        return Ok(Credentials::Refused(None, None));
    }
    let Ok(basic) = why401_wire::basic::decode(token.trim()) else {
        return Ok(Credentials::Refused(None, None));
    };
    let id = gate.cache.id(&basic.user, &basic.password);
    let address = address.to_string();
    // A remembered credential counts only while the account is not locked nor the address
    // throttled: else the login check says so.
    let open = crate::lockout::before(&gate.store, &basic.user, &address).await?
        == crate::lockout::Gate::Open;
    if let Some(hash) = gate.cache.get(&id).filter(|_| open) {
        match gate.store.user(&basic.user).await? {
            Some(u) if u.hash == hash && !u.disabled => {
                return Ok(Credentials::Accepted(Identity {
                    user: u.name,
                    groups: u.groups,
                }));
            }
            _ => gate.cache.forget(&id),
        }
    }
    let limits = &gate.config.lockout;
    match login::check(&gate.store, limits, &basic.user, &basic.password, &address).await? {
        Login::Accepted(who) => {
            if let Some(u) = gate.store.user(&who.user).await? {
                gate.cache.put(id, u.hash);
            }
            Ok(Credentials::Accepted(who))
        }
        Login::Refused(why) => Ok(Credentials::Refused(Some(basic.user), Some(why))),
        Login::Throttled(until) => Ok(Credentials::Throttled(Some(basic.user), until)),
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
    decide(&gate, peer, &headers, Mode::StatusOnly).await
}

async fn forward_auth(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    decide(&gate, peer, &headers, Mode::Full).await
}

/// The login page's URL with the return URL. By default the login page is on the app's own
/// host (`/.why401/login`, so that the session cookie can be a host-only `__Host-` cookie) and
/// the return URL is only a path. A central login page (`[server] login_url`) gets an
/// absolute return URL, only into the login page's own host or `redirect_domains` (no open
/// redirect).
fn login_url(gate: &Gate, back: &url::Url) -> String {
    let s = &gate.config.server;
    let path = match back.query() {
        Some(q) => format!("{}?{q}", back.path()),
        None => back.path().to_string(),
    };
    let Some(central) = &s.login_url else {
        let mut login = back.clone();
        login.set_path("/.why401/login");
        login.set_query(None);
        login.set_fragment(None);
        login.query_pairs_mut().append_pair("rd", &path);
        return login.to_string();
    };
    let mut login = central.clone();
    let host = back.host_str().unwrap_or("").to_ascii_lowercase();
    let allowed = matches!(back.scheme(), "http" | "https")
        && (Some(host.as_str()) == login.host_str()
            || s.redirect_domains
                .iter()
                .any(|d| host == *d || host.ends_with(&format!(".{d}"))));
    if allowed {
        login.query_pairs_mut().append_pair("rd", back.as_str());
    }
    login.to_string()
}

async fn decide(gate: &Gate, peer: SocketAddr, headers: &HeaderMap, mode: Mode) -> Response {
    let rid = request_id();
    let orig = match original(gate, peer, headers) {
        Ok(o) => o,
        Err(why) => return plain(StatusCode::BAD_REQUEST, why, &rid),
    };
    let schemes = Schemes {
        basic: gate
            .config
            .server
            .basic
            .then(|| gate.config.server.realm.clone()),
        bearer: None,
    };
    let creds = match credentials(gate, headers, orig.client).await {
        Ok(c) => c,
        Err(_) => return respond(Answer::unavailable(&rid), mode),
    };
    let who = match &creds {
        Credentials::Accepted(w) => Some(w),
        _ => None,
    };
    let host = orig.url.host_str().unwrap_or("").to_ascii_lowercase();
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let request = Request {
        host,
        path: orig.url.path(),
        method: orig.method.as_str(),
        ip: orig.client,
        at: jiff::Timestamp::now(),
        who,
    };
    let decision = gate.config.policy.decide(&request);
    let (result, answer) = match (decision.action, &creds) {
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
        (_, Credentials::None) => {
            let client = Client::of(headers, false);
            let login = login_url(gate, &orig.url);
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
        (Action::OneFactor, Credentials::Accepted(_)) => ("allow", None),
        (Action::TwoFactor, Credentials::Accepted(_)) => (
            "deny",
            Some(Answer::forbidden(
                "step-up-required",
                "this resource needs a second factor, which Basic authentication cannot give: sign in on the login page",
                None,
                &rid,
            )),
        ),
    };
    let finding = answer.as_ref().and_then(|a| {
        serde_json::from_slice::<serde_json::Value>(&a.body)
            .ok()
            .and_then(|v| v["finding"].as_str().map(String::from))
    });
    let status = answer.as_ref().map_or(200, |a| a.status.as_u16());
    let entry = Entry {
        time: request.at.to_string(),
        request_id: rid.clone(),
        kind: Kind::Authz,
        status,
        result: result.to_string(),
        finding,
        user: match &creds {
            Credentials::Accepted(w) => Some(w.user.clone()),
            Credentials::Refused(u, _) | Credentials::Throttled(u, _) => {
                u.as_ref().map(|u| u.chars().take(256).collect())
            }
            Credentials::None => None,
        },
        address: orig.client.to_string(),
        refusal: match &creds {
            Credentials::Refused(_, r) => *r,
            _ => None,
        },
        check: Some(Check::new(
            &gate.config.file,
            &gate.config.policy,
            &request,
            &decision,
        )),
    };
    if !gate.record(&entry) {
        // Nothing is decided that the audit log does not show.
        return respond(Answer::unavailable(&rid), mode);
    }
    match answer {
        Some(a) => respond(a, mode),
        None => allowed(who, &rid),
    }
}

/// 200 with the identity for the proxy to pass on.
fn allowed(who: Option<&Identity>, rid: &str) -> Response {
    let mut r = Response::builder()
        .status(StatusCode::OK)
        .header("x-request-id", rid)
        .header(header::CACHE_CONTROL, "no-store");
    if let Some(w) = who {
        r = r
            .header("remote-user", header_safe(&w.user))
            .header("remote-groups", header_safe(&w.groups.join(",")));
    }
    r.body(Body::empty()).expect("a valid response")
}

/// A value safe in a header: control characters (a CR, an LF) dropped.
fn header_safe(s: &str) -> String {
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
    if mode == Mode::StatusOnly && a.status.is_redirection() {
        a.status = StatusCode::UNAUTHORIZED;
    }
    let mut r = Response::builder().status(a.status);
    for (k, v) in &a.headers {
        r = r.header(k, v);
    }
    r.body(Body::from(a.body)).expect("a valid response")
}
