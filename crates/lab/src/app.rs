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

/// An Entra-shaped access token for `aud` (a Microsoft resource), as Microsoft Graph tokens
/// look to a client: v1 issuer, a tenant, delegated scopes. Signed with the lab's key (the lab's
/// Microsoft-style APIs judge the audience, not the signature).
pub(crate) fn entra_token(aud: &str) -> String {
    #[derive(serde::Serialize)]
    struct Entra<'a> {
        aud: &'a str,
        iss: &'a str,
        tid: &'a str,
        appid: &'a str,
        scp: &'a str,
        ver: &'a str,
        exp: i64,
        nbf: i64,
        iat: i64,
    }
    let iat = now();
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &Entra {
            aud,
            iss: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/",
            tid: "72f988bf-86f1-41af-91ab-2d7cd011db47",
            appid: "04b07795-8ddb-461a-bbee-02f9e1bf7b46",
            scp: "User.Read Sites.Read.All",
            ver: "1.0",
            exp: iat + 3600,
            nbf: iat,
            iat,
        },
        &EncodingKey::from_secret(SECRET),
    )
    .unwrap_or_default()
}

/// Microsoft Graph's answer to a token Continuous Access Evaluation revoked (the challenge and
/// body Learn's "Claims challenges" and Graph's error pages show).
fn graph_cae() -> Resp {
    Resp::new(401)
        .header(
            "WWW-Authenticate",
            r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=""#,
        )
        .header("request-id", "7f3c2b1e-lab0-4c1d-9d2e-0123456789ab")
        .header("client-request-id", "7f3c2b1e-lab0-4c1d-9d2e-0123456789ab")
        .body(
            "application/json",
            r#"{"error":{"code":"InvalidAuthenticationToken","message":"Continuous access evaluation resulted in challenge with result: InteractionRequired and code: TokenIssuedBeforeRevocationTimestamp","innerError":{"date":"2026-12-06T10:00:00","request-id":"7f3c2b1e-lab0-4c1d-9d2e-0123456789ab","client-request-id":"7f3c2b1e-lab0-4c1d-9d2e-0123456789ab"}}}"#,
        )
}

/// An Entra-like token endpoint refusing by conditional access (AADSTS53003, as Entra writes it).
fn entra_blocked() -> Resp {
    Resp::new(400).body(
        "application/json; charset=utf-8",
        r#"{"error":"interaction_required","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Trace ID: 0d1e2f3a-lab0-4b5c-8d9e-112233445566 Correlation ID: 9a8b7c6d-lab0-4e5f-a1b2-665544332211 Timestamp: 2026-12-06 10:00:00Z","error_codes":[53003],"timestamp":"2026-12-06 10:00:00Z","trace_id":"0d1e2f3a-lab0-4b5c-8d9e-112233445566","correlation_id":"9a8b7c6d-lab0-4e5f-a1b2-665544332211","suberror":"message_only"}"#,
    )
}

/// SharePoint Online's refusal of a token issued for another resource: its challenge names its
/// own app id, `x-ms-diagnostics` the audience it did not accept.
fn sharepoint(req: &Req) -> Resp {
    let aud = req
        .header("authorization")
        .map(credentials::parse)
        .and_then(|c| c.token68)
        .and_then(|t| why401_wire::jwt::decode(&t).ok())
        .and_then(|j| match j {
            why401_wire::jwt::Jwt::Signed(j) => j.audiences().first().cloned(),
            _ => None,
        })
        .unwrap_or_default();
    Resp::new(401)
        .header(
            "WWW-Authenticate",
            r#"Bearer realm="72f988bf-86f1-41af-91ab-2d7cd011db47",client_id="00000003-0000-0ff1-ce00-000000000000",trusted_issuers="00000001-0000-0000-c000-000000000000@*,https://sts.windows.net/*/",authorization_uri="https://login.windows.net/common/oauth2/authorize""#,
        )
        .header(
            "x-ms-diagnostics",
            format!(r#"2000003;reason="Invalid audience Uri '{aud}'.";category="invalid_client""#),
        )
        .header("SPRequestGuid", "a1b2c3d4-lab0-4000-8000-0000000000aa")
        .body("application/json", r#"{"error_description":"Invalid issuer or signature."}"#)
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
        "/ms/graph/v1.0/me" => graph_cae(),
        "/ms/oauth2/v2.0/token" => entra_blocked(),
        "/ms/sharepoint/_api/web" => sharepoint(req),
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
