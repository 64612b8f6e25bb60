//! The browser side: the login page and logout, server-rendered, no JavaScript, and the
//! session cookie they set.
//!
//! The page is served at `/.why401/login` on the app's own host (nginx sends `/.why401/` to the
//! gateway; in front of Traefik or Caddy the same), so the cookie can be `__Host-why401-session`:
//! host-only, `Secure`, `HttpOnly`, `SameSite=Lax`, path `/`. The cookie holds a random token;
//! the store keeps only its SHA-256. A login always makes a new session (the one the browser
//! came with, if any, is ended: no session fixation). The form is protected against CSRF twice:
//! a token in a `__Host-` cookie that the form must repeat, and the `Origin` (or
//! `Sec-Fetch-Site`) of the POST must be this host. It works with password managers
//! (`autocomplete` names) and paste, and says the same thing for every refused login.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Query, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};
use sha2::Digest;

use crate::login::{self, Login};
use crate::policy::Identity;
use crate::server::{Gate, client_address};
use crate::store::StoreError;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "__Host-why401-session";
pub(crate) const CSRF_COOKIE: &str = "__Host-why401-csrf";

/// The SHA-256 of a session token, hex: what the store keeps.
pub fn token_hash(token: &str) -> String {
    hex::encode(token_digest(token))
}

/// The SHA-256 of a session token: the key it is remembered under, and (hex) what the store
/// keeps.
pub(crate) fn token_digest(token: &str) -> [u8; 32] {
    sha2::Sha256::digest(token.as_bytes()).into()
}

pub(crate) fn random_token() -> String {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b).expect("the system's random source");
    hex::encode(b)
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// The identity of a valid session cookie; `None` for no cookie, an unknown, idle, expired or
/// disabled user's session (those are ended).
/// `host` is the request's host (lowercase, without port): a session is good only on the host
/// it was made on.
pub async fn session_identity(
    gate: &Gate,
    headers: &HeaderMap,
    host: &str,
) -> Result<Option<Identity>, StoreError> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let id = token_digest(token);
    let hash = hex::encode(id);
    let now = jiff::Timestamp::now().as_second();
    let limits = gate.config.sessions;
    // The epoch before the store is read: a change during the read makes the entry stale.
    let epoch = gate.fresh.current(&gate.store);
    let known = match epoch.and_then(|e| gate.sessions.get(&id, e)) {
        Some(k) => k,
        None => {
            let Some(s) = gate.store.session(&hash).await? else {
                return Ok(None);
            };
            let Some(u) = gate.store.user(&s.user).await? else {
                gate.store.end_session(&hash).await?;
                return Ok(None);
            };
            if u.disabled {
                gate.store.end_session(&hash).await?;
                return Ok(None);
            }
            let k = KnownSession {
                host: s.host,
                created: s.created,
                last_seen: s.last_seen,
                who: Identity {
                    user: u.name,
                    groups: u.groups,
                    email: u.email,
                    scopes: None,
                    second_factor_at: (s.second_factor_at > 0).then_some(s.second_factor_at),
                    unusual: (!s.unusual.is_empty()).then_some(s.unusual),
                },
            };
            if let Some(e) = epoch {
                gate.sessions.put(id, e, k.clone());
            }
            k
        }
    };
    let idle = now - known.last_seen > limits.idle.as_secs() as i64;
    let old = now - known.created > limits.absolute.as_secs() as i64;
    if idle || old {
        gate.sessions.forget(&id);
        gate.store.end_session(&hash).await?;
        return Ok(None);
    }
    if known.host != host {
        // Replayed on another host (by the app it was sent to): ended, not only refused.
        gate.sessions.forget(&id);
        gate.store.end_session(&hash).await?;
        return Ok(None);
    }
    // Marked used at most once a minute: a write per request would cost more than the check.
    if now - known.last_seen >= 60 {
        gate.store.touch_session(&hash).await?;
        if let Some(e) = epoch {
            gate.sessions.put(
                id,
                e,
                KnownSession {
                    last_seen: now,
                    ..known.clone()
                },
            );
        }
    }
    Ok(Some(known.who))
}

/// A session as verified against the store, remembered for the next requests.
#[derive(Debug, Clone)]
pub(crate) struct KnownSession {
    host: String,
    created: i64,
    last_seen: i64,
    who: Identity,
}

/// The host a request to the login page came to: lowercase, without port or trailing dot.
pub(crate) fn request_host(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.parse::<http::uri::Authority>().ok())
        .map(|a| {
            a.host()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim_end_matches('.')
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// A return path the login page may send a browser to: a path on this host, never another
/// site (`//evil.example`, `/\evil.example`, `https://…`).
pub fn safe_return(rd: Option<&str>) -> String {
    match rd {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && !p.chars().any(|c| c.is_control() || c == '\\') =>
        {
            p.to_string()
        }
        _ => "/".to_string(),
    }
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>body{{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}}button{{margin-top:1rem;padding:.5rem 1rem;font:inherit}}.error{{color:#b00020}}</style></head><body>{body}</body></html>\n"
    )
}

/// Headers every page of the gateway carries: no caching, no framing, no scripts.
pub(crate) fn html(status: StatusCode, body: String, set_cookies: &[String]) -> Response {
    let mut r = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'")
        .header("x-frame-options", "DENY")
        // `same-origin`, not `no-referrer`: with `no-referrer` a browser sends `Origin: null` on
        // the form's POST, and the Origin check refuses every real login.
        .header("referrer-policy", "same-origin");
    for c in set_cookies {
        r = r.header(header::SET_COOKIE, c);
    }
    r.body(Body::from(body)).expect("a valid response")
}

pub(crate) fn set_cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; Secure; HttpOnly; SameSite=Lax")
}

fn clear_cookie(name: &str) -> String {
    format!("{name}=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn login_form(rd: &str, csrf: &str, error: Option<&str>, user: &str) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1>{error}<form method=\"post\" action=\"/.why401/login\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"rd\" value=\"{rd}\">\
             <label for=\"username\">User name</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" required value=\"{user}\">\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\">Sign in</button></form>",
            rd = escape(rd),
            user = escape(user),
        ),
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct LoginQuery {
    rd: Option<String>,
}

/// `GET /.why401/login`. A browser that has a session already was sent here because a
/// second factor is needed (nginx's `auth_request` can only say 401): it goes on to the
/// second-factor page.
pub(crate) async fn login_page(
    State(gate): State<Arc<Gate>>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if let Ok(Some(_)) = session_identity(&gate, &headers, &request_host(&headers)).await {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("rd", &safe_return(q.rd.as_deref()))
            .finish();
        return Response::builder()
            .status(StatusCode::FOUND)
            .header(header::LOCATION, format!("/.why401/second-factor?{q}"))
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::empty())
            .expect("a valid response");
    }
    let csrf = random_token();
    html(
        StatusCode::OK,
        login_form(&safe_return(q.rd.as_deref()), &csrf, None, ""),
        &[set_cookie(CSRF_COOKIE, &csrf)],
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    rd: Option<String>,
}

/// Whether the POST comes from a page of this host: the CSRF cookie repeated in the form, and
/// an `Origin` (or `Sec-Fetch-Site`) that is this host when the browser sends one.
pub(crate) fn same_origin(headers: &HeaderMap, csrf: &str) -> bool {
    let cookie_ok = cookie(headers, CSRF_COOKIE).is_some_and(|c| {
        c.len() == csrf.len()
            && c.bytes()
                .zip(csrf.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }) && !csrf.is_empty();
    let host = headers
        .get(header::HOST)
        .or_else(|| headers.get("x-forwarded-host"))
        .and_then(|v| v.to_str().ok());
    let origin_ok = match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) => url::Url::parse(o).ok().is_some_and(|u| {
            let with_port = match u.port() {
                Some(p) => format!("{}:{p}", u.host_str().unwrap_or("")),
                None => u.host_str().unwrap_or("").to_string(),
            };
            host.is_some_and(|h| h.eq_ignore_ascii_case(&with_port))
        }),
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|s| s == "same-origin" || s == "none"),
    };
    cookie_ok && origin_ok
}

/// `POST /.why401/login`.
pub(crate) async fn login_submit(
    State(gate): State<Arc<Gate>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LoginForm>,
) -> Response {
    let rd = safe_return(form.rd.as_deref());
    let refused = |csrf: String| {
        html(
            StatusCode::OK,
            login_form(
                &rd,
                &csrf,
                Some("The user name or password is not right."),
                &form.username,
            ),
            &[set_cookie(CSRF_COOKIE, &csrf)],
        )
    };
    let rid = crate::server::request_id();
    let address = client_address(&gate, peer, &headers)
        .map_or_else(|| peer.ip().to_string(), |a| a.to_string());
    let record = |status: u16, result: &str, refusal: Option<crate::login::Refusal>| {
        let e = crate::audit::Entry {
            time: jiff::Timestamp::now().to_string(),
            request_id: rid.clone(),
            kind: crate::audit::Kind::Login,
            status,
            // The page answers 200 either way; a refused login is a 401 to the log's readers.
            auth_status: if result == "refused" { 401 } else { status },
            result: result.to_string(),
            finding: refusal.map(|r| match r {
                crate::login::Refusal::UnusualSignIn => "gate-unusual-sign-in".to_string(),
                _ => "credentials-rejected".to_string(),
            }),
            user: Some(form.username.chars().take(256).collect()),
            address: address.clone(),
            refusal,
            check: None,
        };
        let gate = &gate;
        async move { gate.record(&e).await }
    };
    if !same_origin(&headers, &form.csrf) {
        record(403, "forbidden", None).await;
        let csrf = random_token();
        return html(
            StatusCode::FORBIDDEN,
            login_form(
                &rd,
                &csrf,
                Some("This form expired or came from another site. Please sign in again."),
                "",
            ),
            &[set_cookie(CSRF_COOKIE, &csrf)],
        );
    }
    let started = std::time::Instant::now();
    let checked = login::check(gate.login(), &form.username, &form.password, &address).await;
    gate.metrics.took("login", started.elapsed());
    match checked {
        Ok(Login::Accepted(who)) => {
            // A sign-in from a network or country never seen for this user: told, and what
            // `[risk] unusual` says.
            let ip = address.parse::<std::net::IpAddr>().unwrap_or(peer.ip());
            let country = gate.country(ip);
            let unusual = match gate
                .known
                .assess(&gate.store, &who.user, ip, country.as_deref())
                .await
            {
                Ok(u) => u,
                Err(_) => {
                    record(503, "unavailable", None).await;
                    return unavailable();
                }
            };
            if let Some(why) = &unusual {
                gate.notify_unusual(&who.user, ip, why);
                if gate.config.unusual == crate::risk::Unusual::Deny {
                    if !record(200, "refused", Some(crate::login::Refusal::UnusualSignIn)).await {
                        return unavailable();
                    }
                    let csrf = random_token();
                    return html(
                        StatusCode::FORBIDDEN,
                        login_form(
                            &rd,
                            &csrf,
                            Some(
                                "This sign-in comes from a network or country your account has not signed in from, and is refused. Ask your administrator.",
                            ),
                            &form.username,
                        ),
                        &[set_cookie(CSRF_COOKIE, &csrf)],
                    );
                }
            }
            // Unusual and let through as usual: its network is known from now on. Asked for a
            // second factor: known once it is given. (A usual one is known already.)
            let unusual = match (unusual, gate.config.unusual) {
                (Some(why), crate::risk::Unusual::SecondFactor) => why,
                (Some(_), _) => {
                    if gate.signed_in_from(&who.user, ip).await.is_err() {
                        return unavailable();
                    }
                    String::new()
                }
                (None, _) => String::new(),
            };
            // A new session at every login; the one the browser came with is ended.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                let old = token_digest(old);
                gate.sessions.forget(&old);
                let _ = gate.store.end_session(&hex::encode(old)).await;
            }
            let token = random_token();
            let agent = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .chars()
                .take(200)
                .collect::<String>();
            if gate
                .store
                .add_session(
                    &token_hash(&token),
                    &who.user,
                    &request_host(&headers),
                    &address,
                    &agent,
                    &unusual,
                )
                .await
                .is_err()
                || !record(303, "accepted", None).await
            {
                return unavailable();
            }
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(header::LOCATION, rd)
                .header(header::CACHE_CONTROL, "no-store")
                .header(header::SET_COOKIE, set_cookie(SESSION_COOKIE, &token))
                .header(header::SET_COOKIE, clear_cookie(CSRF_COOKIE))
                .body(Body::empty())
                .expect("a valid response")
        }
        Ok(Login::Throttled(until)) => {
            if !record(429, "throttled", None).await {
                return unavailable();
            }
            let minutes = ((until - jiff::Timestamp::now().as_second()) as f64 / 60.0)
                .ceil()
                .max(1.0);
            let csrf = random_token();
            let mut r = html(
                StatusCode::TOO_MANY_REQUESTS,
                login_form(
                    &rd,
                    &csrf,
                    Some(&format!(
                        "Too many failed sign-ins from your network. Please try again in {minutes} minute{}.",
                        if minutes == 1.0 { "" } else { "s" }
                    )),
                    &form.username,
                ),
                &[set_cookie(CSRF_COOKIE, &csrf)],
            );
            r.headers_mut().insert(
                header::RETRY_AFTER,
                http::HeaderValue::from(
                    ((until - jiff::Timestamp::now().as_second()).max(1)) as u64,
                ),
            );
            r
        }
        Ok(Login::Refused(why)) => {
            if !record(200, "refused", Some(why)).await {
                return unavailable();
            }
            refused(random_token())
        }
        Err(_) => {
            record(503, "unavailable", None).await;
            unavailable()
        }
    }
}

pub(crate) fn unavailable() -> Response {
    let mut r = html(
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            "Unavailable",
            "<h1>Sign-in is unavailable</h1><p>The gateway cannot check passwords right now. Please try again in a moment.</p>",
        ),
        &[],
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, http::HeaderValue::from_static("5"));
    r
}

/// `POST /.why401/logout`: the session ended in the store, the cookie cleared.
pub(crate) async fn logout(State(gate): State<Arc<Gate>>, headers: HeaderMap) -> Response {
    // A cross-site POST cannot log anyone out (SameSite=Lax keeps the cookie off it anyway).
    let cross = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|s| s == "cross-site");
    if !cross && let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let id = token_digest(token);
        gate.sessions.forget(&id);
        let _ = gate.store.end_session(&hex::encode(id)).await;
    }
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, "/.why401/login")
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::SET_COOKIE, clear_cookie(SESSION_COOKIE))
        .body(Body::empty())
        .expect("a valid response")
}
