use super::*;
use why401_evidence::{
    AuthSource, Exchange, Leg, ProbeEvidence, RedirectHop, RequestRecord, ResponseRecord, SentAuth,
};

fn exchange(status: u16, headers: &[(&str, &str)], auth: Option<SentAuth>) -> Exchange {
    Exchange {
        leg: Leg::Initial,
        connection: 0,
        request: RequestRecord {
            method: "GET".into(),
            url: "https://app.example/x".into(),
            headers: vec![],
            body_len: 0,
        },
        response: Some(ResponseRecord {
            status,
            version: "HTTP/1.1".into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: String::new(),
            body_len: 0,
            body_incomplete: None,
        }),
        error: None,
        auth,
        elapsed_ms: 1.0,
        via_proxy: false,
    }
}

fn ids(d: &Diagnosis) -> Vec<&str> {
    d.findings.iter().map(|f| f.id.as_str()).collect()
}

#[test]
fn granted_access_demotes_errors_to_warnings() {
    let mut ev = ProbeEvidence {
        target: "https://app.example/x".into(),
        ..Default::default()
    };
    ev.exchanges.push(exchange(
        200,
        &[("Date", "Thu, 01 Jan 1970 00:00:00 GMT")],
        None,
    ));
    ev.now = 10_000;
    let d = diagnose(&ev);
    assert_eq!(d.outcome, Outcome::Authorized);
    assert!(
        d.findings.iter().all(|f| f.severity != Severity::Error),
        "{:?}",
        d.findings
    );
    assert_eq!(ids(&d), ["clock-skew", "access-granted"]);
}

#[test]
fn a_dropped_redirect_explains_the_missing_credentials() {
    let mut ev = ProbeEvidence {
        target: "https://a.example/".into(),
        ..Default::default()
    };
    ev.given.password = true;
    ev.exchanges
        .push(exchange(302, &[("Location", "https://b.example/")], None));
    ev.exchanges.push(exchange(
        401,
        &[("WWW-Authenticate", "Basic realm=\"b\"")],
        None,
    ));
    ev.redirects.push(RedirectHop {
        status: 302,
        from: "https://a.example/".into(),
        to: "https://b.example/".into(),
        cross_origin: true,
        credentials_dropped: true,
    });
    let d = diagnose(&ev);
    assert_eq!(d.outcome, Outcome::Unauthorized);
    assert_eq!(ids(&d)[0], "auth-dropped-on-redirect");
    assert!(!ids(&d).contains(&"no-credentials-sent"));
}

#[test]
fn proxy_credentials_are_not_server_credentials() {
    let mut ev = ProbeEvidence {
        target: "http://app.example/".into(),
        ..Default::default()
    };
    let proxy = SentAuth {
        header: "Proxy-Authorization".into(),
        scheme: "Basic".into(),
        source: AuthSource::Proxy,
    };
    ev.exchanges.push(exchange(
        401,
        &[(
            "WWW-Authenticate",
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"",
        )],
        Some(proxy),
    ));
    let d = diagnose(&ev);
    assert_eq!(ids(&d)[0], "no-credentials-sent");
}

#[test]
fn a_refused_basic_answer_is_credentials_rejected_and_a_foreign_scheme_a_mismatch() {
    let answered = SentAuth {
        header: "Authorization".into(),
        scheme: "Basic".into(),
        source: AuthSource::Answered,
    };
    let mut ev = ProbeEvidence {
        target: "https://app.example/x".into(),
        ..Default::default()
    };
    ev.exchanges.push(exchange(
        401,
        &[("WWW-Authenticate", "Basic realm=\"x\"")],
        Some(answered.clone()),
    ));
    assert_eq!(ids(&diagnose(&ev))[0], "credentials-rejected");
    ev.exchanges[0] = exchange(401, &[("WWW-Authenticate", "Negotiate")], Some(answered));
    assert_eq!(ids(&diagnose(&ev))[0], "scheme-mismatch");
}

#[test]
fn an_unreached_target_is_an_error_outcome() {
    let ev = ProbeEvidence {
        target: "https://x.invalid/".into(),
        reach: Some(why401_evidence::ReachFailure {
            kind: why401_evidence::ReachKind::Dns,
            detail: "no such host".into(),
            what: "the server".into(),
        }),
        ..Default::default()
    };
    let d = diagnose(&ev);
    assert_eq!((d.outcome, ids(&d)[0]), (Outcome::Error, "dns-failure"));
}
