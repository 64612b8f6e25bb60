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

/// A Negotiate 401 after the KDC refused with `code`: which finding comes first.
fn kdc_refusal(code: u32, request: &str) -> Diagnosis {
    let mut ev = ProbeEvidence {
        target: "http://web.corp.example/".into(),
        ..Default::default()
    };
    ev.exchanges
        .push(exchange(401, &[("WWW-Authenticate", "Negotiate")], None));
    ev.kdc.push(why401_evidence::KdcExchange {
        kdc: "tcp://dc01.corp.example:88".into(),
        request: request.into(),
        reply: "KRB-ERROR".into(),
        error_code: Some(code),
        principal: Some("HTTP/web.corp.example@CORP.EXAMPLE".into()),
        server_time: Some("20261206101000Z".into()),
        clock_offset_s: Some(-421),
        offered_etypes: vec!["aes256-cts-hmac-sha1-96".into()],
        ..Default::default()
    });
    diagnose(&ev)
}

#[test]
fn each_kdc_refusal_has_its_own_finding() {
    for (code, request, id) in [
        (8, "TGS-REQ", "kerberos-duplicate-spn"),
        (14, "AS-REQ", "kerberos-etype-unsupported"),
        (32, "TGS-REQ", "kerberos-ticket-expired"),
        (37, "AS-REQ", "kerberos-clock-skew"),
        (7, "TGS-REQ", "kerberos-spn-unknown"),
        (24, "AS-REQ", "kerberos-preauth-failed"),
        (68, "AS-REQ", "kerberos-error"),
    ] {
        let d = kdc_refusal(code, request);
        assert_eq!(ids(&d)[0], id, "code {code}: {:?}", d.findings);
    }
    let skew = kdc_refusal(37, "AS-REQ");
    assert!(
        skew.findings[0].title.contains("-7 min 1 s") && skew.findings[0].title.contains("behind"),
        "{}",
        skew.findings[0].title
    );
    // A comparison (another SPN form asked only to compare) is never the cause.
    let mut ev = ProbeEvidence::default();
    ev.exchanges.push(exchange(200, &[], None));
    ev.kdc.push(why401_evidence::KdcExchange {
        request: "TGS-REQ".into(),
        reply: "KRB-ERROR".into(),
        error_code: Some(7),
        comparison: true,
        ..Default::default()
    });
    assert!(!ids(&diagnose(&ev)).contains(&"kerberos-spn-unknown"));
}
