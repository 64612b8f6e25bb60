//! The gateway's answers: a browser sent to log in, an API client given 401 with well-formed
//! challenges and a problem document, 403 for the authenticated and refused, 503 when the store
//! fails; and the causes a client must not tell apart answered alike.

use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use why401_gate::answer::{Answer, BearerError, Client, Problem, Schemes};
use why401_wire::challenge;

fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for (k, v) in pairs {
        h.append(
            header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    h
}

const CHROME_NAV: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

#[test]
fn browsers_navigate_and_everything_else_is_an_api_client() {
    let nav = headers(&[("accept", CHROME_NAV), ("sec-fetch-mode", "navigate")]);
    assert_eq!(Client::of(&nav, false), Client::Browser);
    // The same browser's fetch(), an XHR, a JSON Accept, curl, a route marked api, credentials.
    for h in [
        headers(&[("accept", "*/*"), ("sec-fetch-mode", "cors")]),
        headers(&[
            ("accept", CHROME_NAV),
            ("x-requested-with", "XMLHttpRequest"),
        ]),
        headers(&[("accept", "application/json, text/html;q=0.5")]),
        headers(&[("accept", "*/*"), ("user-agent", "curl/7.88.1")]),
        headers(&[]),
        headers(&[("accept", CHROME_NAV), ("authorization", "Basic YTpi")]),
        headers(&[("accept", "text/html;q=0")]),
    ] {
        assert_eq!(Client::of(&h, false), Client::Api, "{h:?}");
    }
    assert_eq!(Client::of(&nav, true), Client::Api);
}

fn schemes() -> Schemes {
    Schemes {
        basic: Some("intranet \"apps\"".into()),
        bearer: Some(("api".into(), vec!["orders.read".into()])),
    }
}

fn problem(a: &Answer) -> Problem {
    let ct = a
        .headers
        .iter()
        .find(|(k, _)| k == header::CONTENT_TYPE)
        .unwrap();
    assert_eq!(ct.1, "application/problem+json");
    let v: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
    Problem {
        kind: v["type"].as_str().unwrap().into(),
        title: v["title"].as_str().unwrap().into(),
        status: v["status"].as_u64().unwrap() as u16,
        detail: v["detail"].as_str().unwrap().into(),
        finding: v["finding"].as_str().unwrap().into(),
        request_id: v["request_id"].as_str().unwrap().into(),
    }
}

fn challenges(a: &Answer) -> Vec<String> {
    a.headers
        .iter()
        .filter(|(k, _)| k == header::WWW_AUTHENTICATE)
        .map(|(_, v)| v.clone())
        .collect()
}

#[test]
fn no_credentials_a_browser_logs_in_and_an_api_client_gets_401_with_every_challenge() {
    let login = "https://auth.example.com/.why401/login?rd=https%3A%2F%2Fapp.example.com%2F";
    let a = Answer::log_in(Client::Browser, &Method::GET, Some(login), &schemes(), "r1");
    assert_eq!(a.status, StatusCode::FOUND);
    assert!(a.headers.contains(&(header::LOCATION, login.to_string())));
    let a = Answer::log_in(
        Client::Browser,
        &Method::POST,
        Some(login),
        &schemes(),
        "r1",
    );
    assert_eq!(a.status, StatusCode::SEE_OTHER);

    let a = Answer::log_in(Client::Api, &Method::GET, Some(login), &schemes(), "r2");
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let c = challenges(&a);
    assert_eq!(
        c,
        [
            "Basic realm=\"intranet \\\"apps\\\"\", charset=\"UTF-8\"",
            "Bearer realm=\"api\", scope=\"orders.read\""
        ]
    );
    // Well-formed by our own parser: the schemes and their parameters read back.
    let parsed = challenge::parse(c.iter().map(String::as_str));
    assert!(parsed.lints.is_empty(), "{:?}", parsed.lints);
    assert_eq!(parsed.challenges.len(), 2);
    let p = problem(&a);
    assert_eq!(
        (p.status, p.finding.as_str(), p.request_id.as_str()),
        (401, "no-credentials-sent", "r2")
    );
    assert_eq!(p.kind, "urn:why401:finding:no-credentials-sent");
}

#[test]
fn refused_credentials_are_answered_alike_and_forbidden_is_403_with_the_scope_needed() {
    // Unknown user, wrong password, disabled, locked out: one answer (only the request id varies).
    let a = Answer::rejected(&schemes(), None, "x");
    let b = Answer::rejected(&schemes(), None, "x");
    assert_eq!(a, b);
    assert_eq!(problem(&a).finding, "credentials-rejected");
    let t = Answer::rejected(
        &schemes(),
        Some(&BearerError::InvalidToken("the token expired".into())),
        "x",
    );
    assert!(
        challenges(&t)[1]
            .ends_with("error=\"invalid_token\", error_description=\"the token expired\"")
    );

    let f = Answer::forbidden(
        "insufficient-scope",
        "the token lacks a scope this route needs",
        Some((
            &schemes(),
            &BearerError::InsufficientScope(vec!["orders.write".into()]),
        )),
        "y",
    );
    assert_eq!(f.status, StatusCode::FORBIDDEN);
    // Only the Bearer challenge: a password cannot add a scope.
    assert_eq!(
        challenges(&f),
        ["Bearer realm=\"api\", scope=\"orders.write\", error=\"insufficient_scope\""]
    );
    let f = Answer::forbidden("gate-policy-denied", "no rule lets you in", None, "z");
    assert!(challenges(&f).is_empty());
    assert!(!f.headers.iter().any(|(k, _)| k == header::LOCATION));
    let u = Answer::unavailable("w");
    assert_eq!(
        (u.status, problem(&u).finding.as_str()),
        (StatusCode::SERVICE_UNAVAILABLE, "gate-store-unavailable")
    );
    assert!(u.headers.contains(&(header::RETRY_AFTER, "5".into())));
}
