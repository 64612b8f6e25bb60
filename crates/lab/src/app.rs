//! The lab's web application: one route per classic 401, each behaving as real servers do.

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, errors::ErrorKind};
use serde::{Deserialize, Serialize};
use why401_wire::digest::{NonceCounter, NonceVerdict, ReceivedDigest};
use why401_wire::{b64, basic, credentials};

use crate::account::{PASSWORD, USER};
use crate::server::{Handler, Req, Resp};
use crate::windows::{Acceptor, Step};

/// The audience lab tokens are issued for.
pub(crate) const AUDIENCE: &str = "api://lab";
pub(crate) const ISSUER: &str = "https://idp.lab.why401";
const REALM: &str = "lab@why401";
const SECRET: &[u8] = b"why401 lab signing key - not a secret";

/// JWT claims the lab issues and checks.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub scope: String,
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A token the lab's API accepts (or judges), issued `offset` seconds from now (a clock ahead
/// is a positive offset) for `lifetime` seconds.
pub(crate) fn token(scope: &str, offset: i64, lifetime: i64) -> String {
    let iat = now() + offset;
    let claims = Claims {
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
        sub: USER.into(),
        exp: iat + lifetime,
        nbf: iat,
        iat,
        scope: scope.into(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap_or_default()
}

/// Builds the handler; `other_origin` is the base URL of the second lab origin.
pub(crate) fn handler(other_origin: String) -> Handler {
    let nonces = Arc::new(Mutex::new(NonceCounter::default()));
    Arc::new(move |req: &Req| route(req, &other_origin, &nonces))
}

fn route(req: &Req, other: &str, nonces: &Mutex<NonceCounter>) -> Resp {
    match req.path() {
        "/basic" => basic(req),
        "/digest" => digest(req, nonces),
        "/no-challenge" => Resp::new(401).body("application/json", r#"{"error":"unauthorized"}"#),
        "/api/orders" => bearer(req, None, 403),
        "/api/orders/export" => bearer(req, Some("orders:export"), 403),
        "/api/admin" => bearer(req, Some("admin"), 401),
        "/moved" => Resp::new(302).header("Location", format!("{other}/basic")),
        "/api/reports" => Resp::new(302).header("Location", "/login?ReturnUrl=%2Fapi%2Freports"),
        "/login" => Resp::new(200).body(
            "text/html; charset=utf-8",
            r#"<!doctype html><html><head><title>Sign in - Lab Portal</title></head><body><form method="post" action="/login"><input name="username"><input type="password" name="password"><button>Sign in</button></form></body></html>"#,
        ),
        "/start" => Resp::new(302)
            .header("Set-Cookie", "session=lab-session-7f3a; Path=/app; HttpOnly")
            .header("Location", "/api/session"),
        "/api/session" => match req.header("cookie").filter(|c| c.contains("session=")) {
            Some(_) => Resp::new(200).body("application/json", r#"{"user":"alice"}"#),
            None => Resp::new(401).body("application/json", r#"{"error":"not signed in"}"#),
        },
        // A sign-in loop: the portal sends the browser to the "identity provider", which sends it
        // back without anything the portal recognises, and again (browsers stop after 20).
        "/portal" => Resp::new(302).header("Location", "/oauth/authorize?return=%2Fportal"),
        "/oauth/authorize" => Resp::new(302).header("Location", "/portal"),
        "/iis/reports/" | "/iis/reports" => iis_401_2(),
        "/ntlm" => windows(req, false),
        "/negotiate" => windows(req, true),
        _ => Resp::new(404).body("text/plain", "no such lab route\n"),
    }
}

fn basic(req: &Req) -> Resp {
    let ok = req
        .header("authorization")
        .map(credentials::parse)
        .filter(|c| c.is("Basic"))
        .and_then(|c| c.token68)
        .and_then(|t| basic::decode(&t).ok())
        .is_some_and(|b| b.user == USER && b.password == PASSWORD);
    if ok {
        Resp::new(200).body("text/plain", "hello alice\n")
    } else {
        Resp::new(401).header(
            "WWW-Authenticate",
            format!(r#"Basic realm="{REALM}", charset="UTF-8""#),
        )
    }
}

fn digest(req: &Req, nonces: &Mutex<NonceCounter>) -> Resp {
    let mut counter = nonces.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(d) = req
        .header("authorization")
        .map(credentials::parse)
        .and_then(|c| ReceivedDigest::from_credentials(&c).ok())
    {
        let fresh = counter.check(&d.nonce, d.nc);
        if d.verify(USER, PASSWORD, &req.method, b"") && fresh == NonceVerdict::Fresh {
            return Resp::new(200).body("text/plain", "hello alice\n");
        }
    }
    let nonce = b64::encode(&random16());
    counter.issue(&nonce);
    Resp::new(401).header(
        "WWW-Authenticate",
        format!(r#"Digest realm="{REALM}", qop="auth", algorithm=SHA-256, nonce="{nonce}", opaque="lab-opaque""#),
    )
}

fn random16() -> [u8; 16] {
    let mut b = [0u8; 16];
    let _ = getrandom::fill(&mut b);
    b
}

fn bearer(req: &Req, needed_scope: Option<&str>, scope_status: u16) -> Resp {
    let challenge = |extra: &str| format!(r#"Bearer realm="lab"{extra}"#);
    let Some(token) = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
    else {
        return Resp::new(401).header("WWW-Authenticate", challenge(""));
    };
    let mut v = Validation::new(Algorithm::HS256);
    v.set_audience(&[AUDIENCE]);
    v.set_issuer(&[ISSUER]);
    v.validate_nbf = true;
    v.leeway = 60;
    match jsonwebtoken::decode::<Claims>(token.trim(), &DecodingKey::from_secret(SECRET), &v) {
        Ok(data) => match needed_scope {
            Some(s) if !data.claims.scope.split_whitespace().any(|x| x == s) => Resp::new(
                scope_status,
            )
            .header(
                "WWW-Authenticate",
                challenge(&format!(
                    r#", error="insufficient_scope", error_description="requires {s}", scope="{s}""#
                )),
            ),
            _ => Resp::new(200).body("application/json", r#"{"orders":[]}"#),
        },
        Err(e) => {
            let why = match e.kind() {
                ErrorKind::ExpiredSignature => "The token expired",
                ErrorKind::ImmatureSignature => "The token is not valid yet",
                ErrorKind::InvalidAudience => "The token is for another audience",
                ErrorKind::InvalidIssuer => "The token is from another issuer",
                ErrorKind::InvalidSignature => "The token signature is invalid",
                _ => "The token is malformed",
            };
            Resp::new(401).header(
                "WWW-Authenticate",
                challenge(&format!(
                    r#", error="invalid_token", error_description="{why}""#
                )),
            )
        }
    }
}

/// What IIS 10 sends when no authentication method it has enabled fits (401.2).
fn iis_401_2() -> Resp {
    Resp::new(401)
        .header("Server", "Microsoft-IIS/10.0")
        .header("X-Powered-By", "ASP.NET")
        .body("text/html", include_str!("../data/iis-401.2.html"))
}

fn windows(req: &Req, negotiate: bool) -> Resp {
    let scheme = if negotiate { "Negotiate" } else { "NTLM" };
    let challenge = || Resp::new(401).header("WWW-Authenticate", scheme);
    let Some(token) = req
        .header("authorization")
        .and_then(|a| a.strip_prefix(scheme))
        .map(str::trim)
    else {
        return challenge();
    };
    let Ok((bytes, _)) = b64::decode_any(token) else {
        return challenge();
    };
    let mut state = req.conn.lock().unwrap_or_else(|e| e.into_inner());
    if state.acceptor.is_none() {
        match Acceptor::new(negotiate) {
            Ok(a) => state.acceptor = Some(a),
            Err(e) => return Resp::new(500).body("text/plain", e),
        }
    }
    let step = state.acceptor.as_mut().map(|a| a.step(&bytes));
    match step {
        Some(Step::Continue(t)) => {
            Resp::new(401).header("WWW-Authenticate", format!("{scheme} {}", b64::encode(&t)))
        }
        Some(Step::Done(t)) => {
            state.acceptor = None;
            let r = Resp::new(200).body("text/plain", "hello CORP\\alice\n");
            if t.is_empty() {
                r
            } else {
                r.header("WWW-Authenticate", format!("{scheme} {}", b64::encode(&t)))
            }
        }
        Some(Step::Denied) | None => {
            state.acceptor = None;
            challenge()
        }
    }
}

/// Answers everything with 407, as a corporate proxy does before you log in.
pub(crate) fn proxy_handler() -> Handler {
    Arc::new(|_req: &Req| {
        Resp::new(407)
            .header("Proxy-Authenticate", r#"Basic realm="corp-proxy""#)
            .header("Via", "1.1 corp-proxy (lab)")
            .body(
                "text/html",
                "<html><body><h1>407 Proxy Authentication Required</h1></body></html>",
            )
    })
}
