//! The gateway's answers, made in one place so that they are right every time: a browser
//! without a session is sent to the login page (302 for GET and HEAD, 303 otherwise), an API
//! client gets 401 with a well-formed `WWW-Authenticate` for every scheme the route takes and
//! an RFC 9457 problem document, an authenticated user who is not allowed gets 403 and never a
//! login redirect, and a store that fails gets 503. Every denial names its finding id (the ids
//! `why401 probe` diagnoses) and its request id.

use http::{HeaderMap, Method, StatusCode, header};
use serde::Serialize;

/// Who is asking, as far as the answer is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Client {
    /// A top-level navigation in a browser: it can follow a redirect to a login page.
    Browser,
    /// Anything else (XHR/fetch, curl, a service): it needs a 401 it can act on.
    Api,
}

impl Client {
    /// Tells a browser navigation from an API client: a browser navigation accepts HTML, sends
    /// no `Authorization`, is not XHR, and (when the browser says) is in `navigate` mode. A
    /// route marked `api` has only API clients.
    pub fn of(headers: &HeaderMap, api_route: bool) -> Client {
        let get = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
        let html = get(header::ACCEPT).is_some_and(accepts_html);
        let xhr = headers
            .get("x-requested-with")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("XMLHttpRequest"));
        let mode = headers.get("sec-fetch-mode").and_then(|v| v.to_str().ok());
        let navigate = mode.is_none_or(|m| m.eq_ignore_ascii_case("navigate"));
        if api_route || !html || xhr || !navigate || headers.contains_key(header::AUTHORIZATION) {
            Client::Api
        } else {
            Client::Browser
        }
    }
}

/// Whether an `Accept` value takes `text/html` (with a non-zero q), before `application/json`.
fn accepts_html(accept: &str) -> bool {
    let mut html = None;
    let mut json = None;
    for item in accept.split(',') {
        let mut parts = item.split(';');
        let kind = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match kind.as_str() {
            "text/html" | "application/xhtml+xml" => html = Some(html.unwrap_or(0.0f32).max(q)),
            "application/json" | "application/problem+json" => json = Some(q),
            _ => {}
        }
    }
    match (html, json) {
        (Some(h), Some(j)) => h > 0.0 && h >= j,
        (Some(h), None) => h > 0.0,
        _ => false,
    }
}

/// The schemes a route takes, for its challenges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schemes {
    /// `Basic realm=…`: the realm.
    pub basic: Option<String>,
    /// `Bearer realm=…, scope=…`: the realm and the scopes the route needs.
    pub bearer: Option<(String, Vec<String>)>,
}

/// A quoted-string (RFC 9110 §5.6.4).
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        // Control characters cannot be sent in a header: dropped.
        if !c.is_control() {
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// What a Bearer token was refused for, as RFC 6750 §3.1 names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// `invalid_token`, with a description.
    InvalidToken(String),
    /// `insufficient_scope`: the scopes needed.
    InsufficientScope(Vec<String>),
}

impl Schemes {
    /// The `WWW-Authenticate` values: one per scheme, Basic with `charset="UTF-8"` (RFC 7617),
    /// Bearer with its realm, scope and, after a refused token, its error.
    pub fn challenges(&self, bearer_error: Option<&BearerError>) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(realm) = &self.basic {
            out.push(format!("Basic realm={}, charset=\"UTF-8\"", quoted(realm)));
        }
        if let Some((realm, scopes)) = &self.bearer {
            let mut c = format!("Bearer realm={}", quoted(realm));
            let scope = match bearer_error {
                Some(BearerError::InsufficientScope(s)) => s.clone(),
                _ => scopes.clone(),
            };
            if !scope.is_empty() {
                c.push_str(&format!(", scope={}", quoted(&scope.join(" "))));
            }
            match bearer_error {
                Some(BearerError::InvalidToken(d)) => {
                    c.push_str(&format!(
                        ", error=\"invalid_token\", error_description={}",
                        quoted(d)
                    ));
                }
                Some(BearerError::InsufficientScope(_)) => {
                    c.push_str(", error=\"insufficient_scope\"");
                }
                None => {}
            }
            out.push(c);
        }
        out
    }
}

/// An RFC 9457 problem document with the finding and the request it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `urn:why401:finding:ID`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The finding's title.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What to do, in words the same for every cause a client must not tell apart.
    pub detail: String,
    /// The finding id `why401 explain` and `why401 probe` know.
    pub finding: String,
    /// The request id, for `why401 gate explain`.
    pub request_id: String,
}

/// An answer: status, headers and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// Headers, in order; a name may repeat (one `WWW-Authenticate` per scheme).
    pub headers: Vec<(header::HeaderName, String)>,
    /// The body.
    pub body: Vec<u8>,
    /// The finding its problem document names (none for a redirect to the login page).
    pub finding: Option<String>,
}

impl Answer {
    fn problem(
        status: StatusCode,
        finding: &str,
        title: &str,
        detail: &str,
        request_id: &str,
    ) -> Answer {
        let p = Problem {
            kind: format!("urn:why401:finding:{finding}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.to_string(),
            finding: finding.to_string(),
            request_id: request_id.to_string(),
        };
        Answer {
            status,
            headers: vec![
                (header::CONTENT_TYPE, "application/problem+json".into()),
                (header::CACHE_CONTROL, "no-store".into()),
                (
                    header::HeaderName::from_static("x-request-id"),
                    request_id.into(),
                ),
            ],
            body: serde_json::to_vec(&p).expect("a problem document serialises"),
            finding: Some(p.finding),
        }
    }

    /// No credentials: a browser is sent to `login` (the login page with its return URL); an
    /// API client gets 401 with the challenges.
    pub fn log_in(
        client: Client,
        method: &Method,
        login: Option<&str>,
        schemes: &Schemes,
        request_id: &str,
    ) -> Answer {
        if let (Client::Browser, Some(login)) = (client, login) {
            // 303 makes a POST's retry a GET of the login page; 302 keeps GET and HEAD.
            let status = if method == Method::GET || method == Method::HEAD {
                StatusCode::FOUND
            } else {
                StatusCode::SEE_OTHER
            };
            return Answer {
                status,
                headers: vec![
                    (header::LOCATION, login.to_string()),
                    (header::CACHE_CONTROL, "no-store".into()),
                    (
                        header::HeaderName::from_static("x-request-id"),
                        request_id.into(),
                    ),
                ],
                body: Vec::new(),
                finding: None,
            };
        }
        let mut a = Answer::problem(
            StatusCode::UNAUTHORIZED,
            "no-credentials-sent",
            "authentication is required",
            "send credentials with one of the schemes in WWW-Authenticate",
            request_id,
        );
        a.challenge(schemes, None);
        a
    }

    /// A user who gave a password, where a (recent) second factor is needed: a browser with a
    /// session is sent to `page` (the second-factor page with its return URL); anyone else
    /// gets 403 `step-up-required` (a password sent again cannot help).
    pub fn second_factor(
        client: Client,
        method: &Method,
        page: Option<&str>,
        detail: &str,
        request_id: &str,
    ) -> Answer {
        if let (Client::Browser, Some(page)) = (client, page) {
            let mut a = Answer::log_in(client, method, Some(page), &Schemes::default(), request_id);
            a.finding = Some("step-up-required".into());
            return a;
        }
        Answer::forbidden("step-up-required", detail, None, request_id)
    }

    /// Credentials that did not authenticate: the challenges again. Unknown user, wrong
    /// password, disabled and locked-out accounts all get this same answer.
    pub fn rejected(schemes: &Schemes, bearer: Option<&BearerError>, request_id: &str) -> Answer {
        let mut a = Answer::problem(
            StatusCode::UNAUTHORIZED,
            "credentials-rejected",
            "the credentials were not accepted",
            "check the user name and password (or the token) and try again",
            request_id,
        );
        a.challenge(schemes, bearer);
        a
    }

    /// A Bearer token refused: 401 with `error="invalid_token"` and why (RFC 6750 §3.1). A
    /// token's fault is the client's to know (expired, wrong audience), unlike a password's.
    pub fn token_refused(
        schemes: &Schemes,
        why: &crate::bearer::Refused,
        request_id: &str,
    ) -> Answer {
        let mut a = Answer::problem(
            StatusCode::UNAUTHORIZED,
            why.finding,
            "the token was not accepted",
            &why.description,
            request_id,
        );
        a.challenge(
            schemes,
            Some(&BearerError::InvalidToken(why.description.clone())),
        );
        a
    }

    /// Authenticated, and not allowed: 403, never a login redirect.
    pub fn forbidden(
        finding: &str,
        detail: &str,
        schemes: Option<(&Schemes, &BearerError)>,
        request_id: &str,
    ) -> Answer {
        let mut a = Answer::problem(
            StatusCode::FORBIDDEN,
            finding,
            "access is not allowed",
            detail,
            request_id,
        );
        if let Some((s, e)) = schemes {
            // Only the Bearer challenge carries `insufficient_scope`: a Basic one on a 403
            // would ask for a password that cannot help.
            let bearer_only = Schemes {
                basic: None,
                bearer: s.bearer.clone(),
            };
            a.challenge(&bearer_only, Some(e));
        }
        a
    }

    /// Too many failed logins from the client's address: 429 until `retry_after` seconds have
    /// passed. (An address is told; an account's lock is not, see [`Answer::rejected`].)
    pub fn throttled(retry_after: i64, request_id: &str) -> Answer {
        let mut a = Answer::problem(
            StatusCode::TOO_MANY_REQUESTS,
            "gate-throttled",
            "too many failed logins from this address",
            "wait, then try again; logins from this address are not checked until then",
            request_id,
        );
        a.headers
            .push((header::RETRY_AFTER, retry_after.max(1).to_string()));
        a
    }

    /// The store failed: 503, the gateway fails closed.
    pub fn unavailable(request_id: &str) -> Answer {
        let mut a = Answer::problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "gate-store-unavailable",
            "the gateway cannot check credentials right now",
            "try again shortly; nothing is let through while the user store is unreachable",
            request_id,
        );
        a.headers.push((header::RETRY_AFTER, "5".into()));
        a
    }

    fn challenge(&mut self, schemes: &Schemes, bearer: Option<&BearerError>) {
        for c in schemes.challenges(bearer) {
            self.headers.push((header::WWW_AUTHENTICATE, c));
        }
    }
}
