//! Rules over browser captures: the probe's rules on each flow, then what only a capture shows
//! (what the exporter hid, preflights, prompt and redirect loops, the browser's own auth
//! decisions, tokens in URLs, cache hits hiding a 401, cookies the browser refused).

use std::collections::HashSet;

use serde::Serialize;
use why401_evidence::capture::{CaptureFlow, CaptureFormat, CaptureInfo, CapturedLeg, Trust};
use why401_evidence::{
    Given, Leg, NegotiateRecord, ProbeEvidence, RedirectHop, WithheldCookie, header,
};
use why401_wire::challenge;

use crate::probe::{self, Outcome, url_host};
use crate::{Finding, FindingId, Severity, rank};

/// The verdict on one flow of a capture.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowDiagnosis {
    /// The flow's number in the capture.
    pub flow: usize,
    /// How the flow ended.
    pub outcome: Outcome,
    /// Ranked: the first is the most likely root cause.
    pub findings: Vec<Finding>,
}

impl FlowDiagnosis {
    /// Whether the flow is worth showing: failed, or a credential leaked into its URL even if
    /// it worked.
    pub fn notable(&self) -> bool {
        self.failed() || self.findings.iter().any(|f| f.id == "token-in-url")
    }

    /// Whether the flow failed for an auth reason (what `why401 har` reports): refused, or an
    /// error-level finding (a preflight refused, a redirect loop). A request that got no response
    /// (blocked, offline) is not an auth failure by itself.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Unauthorized | Outcome::Forbidden)
            || self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

/// The flow as the probe's rules read it.
pub fn evidence(flow: &CaptureFlow) -> ProbeEvidence {
    let first = flow.legs.first();
    let mut redirects = Vec::new();
    for pair in flow.legs.windows(2) {
        let (a, b) = (&pair[0].exchange, &pair[1].exchange);
        if b.leg != Leg::Redirect {
            continue;
        }
        let status = a.status().unwrap_or(0);
        let cross_origin = origin(&a.request.url) != origin(&b.request.url);
        redirects.push(RedirectHop {
            status,
            from: a.request.url.clone(),
            to: b.request.url.clone(),
            cross_origin,
            credentials_dropped: cross_origin
                && a.auth.as_ref().is_some_and(|x| x.header == "Authorization")
                && b.auth.is_none(),
        });
    }
    let negotiate = flow
        .auth
        .iter()
        .rev()
        .find(|d| d.spn.is_some())
        .map(|d| NegotiateRecord {
            spn: d.spn.clone().unwrap_or_default(),
            mechanism: d.mechanism.clone().unwrap_or_default(),
            fallback_reason: d.status.clone(),
            spn_rule: "as the browser asked its security library for it (NetLog)".into(),
            ..NegotiateRecord::default()
        });
    ProbeEvidence {
        target: first
            .map(|l| l.exchange.request.url.clone())
            .unwrap_or_default(),
        now: first.and_then(|l| l.started_ms).unwrap_or(0) / 1000,
        given: Given::default(),
        exchanges: flow.legs.iter().map(|l| l.exchange.clone()).collect(),
        redirects,
        withheld_cookies: flow
            .refused_cookies
            .iter()
            .filter(|c| c.operation == "send")
            .map(|c| WithheldCookie {
                name: c.name.clone(),
                url: c.url.clone(),
                reason: c.reasons.join(", "),
            })
            .collect(),
        negotiate,
        ..ProbeEvidence::default()
    }
}

/// `scheme://host:port` of a URL, for same-origin checks.
fn origin(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    Some(format!(
        "{}://{}:{}",
        u.scheme(),
        u.host_str()?,
        u.port_or_known_default()?
    ))
}

/// Findings that are about the capture as a whole, gathered across flows.
#[derive(Debug, Default)]
pub struct Memory {
    /// URLs the network answered with 401/407 (bounded).
    refused: HashSet<String>,
    /// URLs served 2xx from a cache or a service worker, with the flow and where from.
    cached: Vec<(String, usize, String)>,
}

/// URLs remembered at most, so a capture of any size is judged in bounded memory.
const MEMORY_MAX: usize = 100_000;

impl Memory {
    /// Remembers what `flow` says about URLs (once per flow).
    pub fn observe(&mut self, flow: &CaptureFlow) {
        for l in &flow.legs {
            let Some(status) = l.exchange.status() else {
                continue;
            };
            let url = strip_query(&l.exchange.request.url);
            match (&l.from_cache, status) {
                (None, 401 | 407) if self.refused.len() < MEMORY_MAX => {
                    self.refused.insert(url);
                }
                (Some(from), 200..=299) if self.cached.len() < MEMORY_MAX => {
                    self.cached.push((url, flow.index, from.clone()))
                }
                _ => {}
            }
        }
    }

    /// `cached-response-hides-401`: a URL served from a cache or a service worker that the
    /// network refused elsewhere in the capture.
    pub fn findings(&self) -> Vec<Finding> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (url, flow, from) in &self.cached {
            if !self.refused.contains(url) || !seen.insert(url.clone()) {
                continue;
            }
            let from = if from == "service-worker" {
                "a service worker".to_string()
            } else {
                format!("the {from} cache")
            };
            out.push(
                Finding::new(FindingId::CACHED_RESPONSE_HIDES_401)
                    .title(format!(
                        "{url} was served from {from} (flow {flow}) while the network answers it with 401: the page looks fine until the cache expires"
                    ))
                    .evidence(format!("flow {flow}: 2xx from {from}"))
                    .evidence(format!("elsewhere in the capture: {url} answered 401/407 from the network"))
                    .confidence(0.7),
            );
        }
        out
    }
}

fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

/// Diagnoses one flow of a capture described by `info`.
pub fn diagnose(info: &CaptureInfo, flow: &CaptureFlow) -> FlowDiagnosis {
    let ev = evidence(flow);
    let d = probe::diagnose(&ev);
    let mut findings = d.findings;
    let mut outcome = d.outcome;
    // What the probe calls "access granted" is the capture's business only for failing flows.
    findings.retain(|f| f.id != "access-granted");
    hidden(info, flow, &mut findings);
    preflight(flow, &mut findings, &mut outcome);
    prompt_loop(flow, &mut findings);
    redirect_loop(flow, &mut findings, &mut outcome);
    integrated(flow, &mut findings);
    token_in_url(flow, &mut findings);
    cookies(flow, &mut findings);
    rank(&mut findings);
    FlowDiagnosis {
        flow: flow.index,
        outcome,
        findings,
    }
}

/// A leg whose credentials the capture may not show: values hidden, or a HAR (which never shows
/// the Authorization a browser adds in an auth handshake).
fn may_hide_credentials(info: &CaptureInfo, leg: &CapturedLeg) -> Option<String> {
    if let Some(h) = leg.hidden_headers.first() {
        return Some(format!("the exporter hid {h}"));
    }
    if leg.trust == Trust::Sanitized || info.trust == Trust::Sanitized {
        return Some(format!("the capture is {}", info.mode));
    }
    if info.format == CaptureFormat::Har {
        return Some(
            "a HAR shows the first request's headers and the final response of a browser auth handshake, not the legs between nor the Authorization the browser added"
                .into(),
        );
    }
    None
}

/// `evidence-hidden-by-exporter`: absence is not evidence when the capture may hide it.
fn hidden(info: &CaptureInfo, flow: &CaptureFlow, findings: &mut Vec<Finding>) {
    let Some(last) = flow.last() else { return };
    let refused = matches!(last.exchange.status(), Some(401 | 407));
    let says_absent = findings
        .iter()
        .any(|f| f.id == "no-credentials-sent" || f.id == "cookie-not-sent");
    let Some(why) = may_hide_credentials(info, last) else {
        return;
    };
    if !(refused || says_absent) || last.exchange.auth.is_some() {
        return;
    }
    findings.retain(|f| f.id != "no-credentials-sent" && f.id != "cookie-not-sent");
    let mut f = Finding::new(FindingId::EVIDENCE_HIDDEN_BY_EXPORTER)
        .title(format!(
            "the capture cannot show whether credentials were sent to {}: {why}",
            last.exchange.request.url
        ))
        .evidence(format!("capture: {} ({})", info.creator, info.mode))
        .confidence(0.8);
    for h in &last.hidden_headers {
        f = f.evidence(format!("hidden: {h}"));
    }
    if let (Some(t), Some(r)) = (last.transfer_size, last.exchange.response.as_ref()) {
        let one = r.body_len as i64 + 200;
        if t > one * 2 {
            f = f.evidence(format!(
                "_transferSize {t} bytes for a {}-byte response: several legs went over the network (a handshake the HAR does not show)",
                r.body_len
            ));
        }
    }
    findings.push(f);
}

/// `cors-preflight-unauthorized`.
fn preflight(flow: &CaptureFlow, findings: &mut Vec<Finding>, outcome: &mut Outcome) {
    let Some(pf) = flow
        .legs
        .iter()
        .find(|l| l.is_preflight() && matches!(l.exchange.status(), Some(401 | 403 | 407)))
    else {
        return;
    };
    let r = pf.exchange.response.as_ref().expect("status checked");
    let method = header(
        &pf.exchange.request.headers,
        "access-control-request-method",
    )
    .unwrap_or("the real method");
    let requested = header(
        &pf.exchange.request.headers,
        "access-control-request-headers",
    )
    .unwrap_or_default();
    let mut f = Finding::new(FindingId::CORS_PREFLIGHT_UNAUTHORIZED)
        .title(format!(
            "the CORS preflight OPTIONS {} was answered {}: the {method} request was never made",
            pf.exchange.request.url, r.status
        ))
        .evidence(format!("OPTIONS {} → {}", pf.exchange.request.url, r.status))
        .evidence("browsers never send credentials (Authorization, cookies) on a preflight: the server must answer OPTIONS without authentication")
        .confidence(0.92);
    if !requested.is_empty() {
        f = f.evidence(format!("Access-Control-Request-Headers: {requested}"));
    }
    findings.retain(|f| f.id != "no-credentials-sent");
    findings.push(f);
    *outcome = if r.status == 403 {
        Outcome::Forbidden
    } else {
        Outcome::Unauthorized
    };
}

/// `auth-prompt-loop`: credentials re-sent for the same realm and refused again.
fn prompt_loop(flow: &CaptureFlow, findings: &mut Vec<Finding>) {
    let answered: Vec<&CapturedLeg> = flow
        .legs
        .iter()
        .filter(|l| {
            l.exchange.auth.as_ref().is_some_and(|a| {
                a.header == "Authorization"
                    && matches!(a.scheme.to_ascii_lowercase().as_str(), "basic" | "digest")
            }) && l.exchange.status() == Some(401)
        })
        .collect();
    if answered.len() < 2 {
        return;
    }
    let realm = |l: &CapturedLeg| {
        let r = l.exchange.response.as_ref()?;
        let c = challenge::parse(r.headers_named("www-authenticate"));
        c.challenges
            .iter()
            .find_map(|c| c.param("realm").map(str::to_string))
    };
    let first = realm(answered[0]);
    if answered.iter().any(|l| realm(l) != first) {
        return;
    }
    let scheme = answered[0]
        .exchange
        .auth
        .as_ref()
        .map(|a| a.scheme.clone())
        .unwrap_or_default();
    findings.push(
        Finding::new(FindingId::AUTH_PROMPT_LOOP)
            .title(format!(
                "{} {scheme} credentials were sent {} times for realm {} and refused each time: the login box kept coming back",
                answered[0].exchange.request.url,
                answered.len(),
                first.as_deref().map(|r| format!("\"{r}\"")).unwrap_or_else(|| "(none)".into())
            ))
            .evidence(format!(
                "entries {}",
                answered
                    .iter()
                    .map(|l| l.entry.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .confidence(0.85),
    );
}

/// Hosts and paths that belong to sign-in.
fn looks_like_login(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    [
        "login",
        "signin",
        "sign-in",
        "logon",
        "/sso",
        "sso.",
        "/oauth",
        "/authorize",
        "/saml",
        "adfs",
        "idp.",
        "okta",
        "auth0",
        "microsoftonline",
        "accounts.google",
        "/cas/",
        "keycloak",
        "/realms/",
    ]
    .iter()
    .any(|k| u.contains(k))
}

/// `sso-redirect-loop`: the redirect chain comes back to a URL it has been through, via a
/// sign-in host.
fn redirect_loop(flow: &CaptureFlow, findings: &mut Vec<Finding>, outcome: &mut Outcome) {
    let urls: Vec<String> = flow
        .legs
        .iter()
        .map(|l| strip_query(&l.exchange.request.url))
        .collect();
    let mut seen = HashSet::new();
    let Some(again) = urls.iter().position(|u| !seen.insert(u.clone())) else {
        return;
    };
    if flow.legs.len() < 3 || !flow.legs.iter().any(|l| l.exchange.leg == Leg::Redirect) {
        return;
    }
    let start = urls.iter().position(|u| *u == urls[again]).unwrap_or(0);
    let cycle = &urls[start..=again];
    if !cycle.iter().any(|u| looks_like_login(u)) {
        return;
    }
    findings.push(
        Finding::new(FindingId::SSO_REDIRECT_LOOP)
            .title(format!(
                "a sign-in redirect loop: {} leads back to itself through {}",
                urls[again],
                cycle
                    .iter()
                    .filter(|u| looks_like_login(u))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .evidence(cycle.join(" → "))
            .confidence(0.85),
    );
    if *outcome == Outcome::Authorized {
        *outcome = Outcome::Unauthorized;
    }
}

/// `integrated-auth-not-attempted`, and what the security library said (NetLog).
fn integrated(flow: &CaptureFlow, findings: &mut Vec<Finding>) {
    // Only when the flow ended refused without the browser ever answering in a Windows scheme:
    // a user who typed the password (or a script that supplied it) got past the prompt.
    let answered_windows = flow.legs.iter().any(|l| {
        l.exchange.auth.as_ref().is_some_and(|a| {
            a.scheme.eq_ignore_ascii_case("ntlm") || a.scheme.eq_ignore_ascii_case("negotiate")
        })
    });
    let refused = matches!(flow.final_status(), Some(401 | 407));
    for d in &flow.auth {
        let scheme = d.scheme.as_deref().unwrap_or_default().to_ascii_lowercase();
        if (scheme == "negotiate" || scheme == "ntlm")
            && d.allows_default_credentials == Some(false)
            && refused
            && !answered_windows
        {
            findings.push(
                Finding::new(FindingId::INTEGRATED_AUTH_NOT_ATTEMPTED)
                    .title(format!(
                        "the server offered {} and the browser did not log on with the Windows session: {} is not allowed to receive default credentials",
                        d.scheme.as_deref().unwrap_or_default(),
                        url_host(&d.url)
                    ))
                    .evidence("NetLog: allows_default_credentials: false")
                    .confidence(0.85),
            );
        }
        // The handler could not be made at all: the browser says so itself.
        if (scheme == "negotiate" || scheme == "ntlm")
            && d.spn.is_none()
            && refused
            && !answered_windows
            && let Some(status) = d
                .status
                .as_deref()
                .filter(|s| s.contains("-339") || s.contains("-343") || s.contains("-342"))
        {
            findings.retain(|f| f.id != "no-credentials-sent");
            findings.push(
                Finding::new(FindingId::INTEGRATED_AUTH_NOT_ATTEMPTED)
                    .title(format!(
                        "the server offered {} and the browser could not use it: {status}",
                        d.scheme.as_deref().unwrap_or_default()
                    ))
                    .evidence(format!("NetLog AUTH_HANDLER_CREATE_RESULT: scheme {scheme}, {status}"))
                    .evidence("ERR_UNSUPPORTED_AUTH_SCHEME: on Linux, Chrome refuses a profile's first Negotiate challenge and loads the GSSAPI library only after it (Local State net.received_http_auth_negotiate_headers; a reload then works); otherwise the scheme is turned off (AuthSchemes policy), the GSSAPI library could not be loaded (GSSAPILibraryName), or the window is private (incognito, a test browser's context), where ambient authentication is off unless AmbientAuthenticationInPrivateModesEnabled allows it")
                    .fix_first("in a normal window, with the GSSAPI library installed (libgssapi_krb5.so.2 on Linux) and the scheme allowed, try again; for automated browsers use a persistent profile")
                    .confidence(0.92),
            );
        }
        if let (Some(spn), Some(status)) = (&d.spn, &d.status) {
            findings.push(
                Finding::new(FindingId::KERBEROS_SPN_UNKNOWN)
                    .title(format!(
                        "the browser asked for a Kerberos ticket for {spn} and the security library answered {status}"
                    ))
                    .evidence(format!("NetLog AUTH_LIBRARY_INIT_SEC_CTX: spn {spn}, status {status}"))
                    .confidence(if status.to_ascii_lowercase().contains("not_found")
                        || status.contains("0x80090303")
                        || status.to_ascii_lowercase().contains("unknown")
                    {
                        0.85
                    } else {
                        0.5
                    }),
            );
        }
        if let Some(del) = &d.delegation
            && del == "none"
        {
            findings.push(
                Finding::new(FindingId::KERBEROS_ERROR)
                    .severity(Severity::Info)
                    .title(format!("the browser did not ask for delegation to {}: a back end behind it (double hop) gets no credentials", url_host(&d.url)))
                    .evidence("NetLog AUTH_LIBRARY_INIT_SEC_CTX flags: delegated false")
                    .confidence(0.3),
            );
        }
    }
}

/// `token-in-url`.
fn token_in_url(flow: &CaptureFlow, findings: &mut Vec<Finding>) {
    for l in &flow.legs {
        let Ok(u) = url::Url::parse(&l.exchange.request.url) else {
            continue;
        };
        let fragment_pairs: Vec<(String, String)> = u
            .fragment()
            .map(|f| {
                url::form_urlencoded::parse(f.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let hit = u
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .chain(fragment_pairs)
            .find(|(k, v)| {
                v.len() >= 8
                    && (why401_wire::token::is_secret_param(k)
                        || v.starts_with("eyJ") && v.matches('.').count() == 2)
            });
        if let Some((k, v)) = hit {
            findings.push(
                Finding::new(FindingId::TOKEN_IN_URL)
                    .title(format!(
                        "a credential travels in the URL ({k}=…): it lands in server logs, proxies, browser history and Referer headers"
                    ))
                    .evidence(format!(
                        "{} {}?{k}={}… ({} characters)",
                        l.exchange.request.method,
                        strip_query(&l.exchange.request.url),
                        v.chars().take(4).collect::<String>(),
                        v.len()
                    ))
                    .confidence(0.8),
            );
            return;
        }
    }
}

/// `third-party-cookie-blocked`: cookies the browser refused to send or store, with Chrome's
/// reasons.
fn cookies(flow: &CaptureFlow, findings: &mut Vec<Finding>) {
    for c in &flow.refused_cookies {
        let third_party = c.reasons.iter().any(|r| {
            let r = r.to_ascii_uppercase();
            r.contains("SAMESITE") || r.contains("THIRD_PARTY") || r.contains("PARTITION")
        });
        if !third_party {
            continue;
        }
        findings.push(
            Finding::new(FindingId::THIRD_PARTY_COOKIE_BLOCKED)
                .title(format!(
                    "the browser refused to {} cookie {} for {}: {}",
                    c.operation,
                    c.name,
                    url_host(&c.url),
                    c.reasons.join(", ")
                ))
                .evidence(format!(
                    "NetLog COOKIE_INCLUSION_STATUS: {}",
                    c.reasons.join(", ")
                ))
                .confidence(0.8),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::capture::AuthDecision;
    use why401_evidence::{AuthSource, Exchange, SentAuth};

    fn leg(
        method: &str,
        url: &str,
        auth: Option<&str>,
        status: u16,
        resp: &[(&str, &str)],
    ) -> CapturedLeg {
        let request = auth
            .map(|a| vec![("Authorization".to_string(), a.to_string())])
            .unwrap_or_default();
        let response = resp
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let mut e = Exchange::answered(method, url, request, status, response);
        e.auth = auth.map(|a| SentAuth {
            header: "Authorization".into(),
            scheme: a.split(' ').next().unwrap().into(),
            source: AuthSource::Captured,
        });
        let mut l = CapturedLeg::new(0, e, Trust::RawWire);
        l.started_ms = Some(1_765_015_200_000);
        l
    }

    fn info(format: CaptureFormat, trust: Trust) -> CaptureInfo {
        let mut i = CaptureInfo::new(format, "test", "test", trust);
        i.entries = 1;
        i
    }

    fn flow(legs: Vec<CapturedLeg>) -> CaptureFlow {
        CaptureFlow {
            index: 1,
            legs,
            auth: vec![],
            refused_cookies: vec![],
        }
    }

    fn top(info: &CaptureInfo, f: &CaptureFlow) -> String {
        diagnose(info, f).findings[0].id.clone()
    }

    const BASIC: (&str, &str) = ("WWW-Authenticate", "Basic realm=\"lab\"");

    #[test]
    fn a_captured_graph_cae_challenge_and_token_endpoint_error() {
        // Graph's answer to a revoked token, as a browser capture holds it.
        let mut graph = leg(
            "GET",
            "https://graph.microsoft.com/v1.0/me",
            Some(
                "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoLm1pY3Jvc29mdC5jb20ifQ.c2ln",
            ),
            401,
            &[(
                "WWW-Authenticate",
                r#"Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=""#,
            )],
        );
        if let Some(r) = graph.exchange.response.as_mut() {
            r.body = r#"{"error":{"code":"InvalidAuthenticationToken","message":"Continuous access evaluation resulted in challenge","innerError":{"request-id":"5c1f"}}}"#.into();
        }
        let d = diagnose(
            &info(CaptureFormat::Har, Trust::BrowserView),
            &flow(vec![graph]),
        );
        assert_eq!(d.findings[0].id, "token-revoked-cae", "{d:#?}");
        // A token endpoint's conditional-access refusal in the same capture.
        let mut token = leg(
            "POST",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            None,
            400,
            &[],
        );
        if let Some(r) = token.exchange.response.as_mut() {
            r.body = r#"{"error":"interaction_required","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies.","error_codes":[53003],"correlation_id":"9f2"}"#.into();
        }
        let d = diagnose(
            &info(CaptureFormat::Har, Trust::BrowserView),
            &flow(vec![token]),
        );
        assert!(
            d.findings
                .iter()
                .any(|f| f.id == "conditional-access-blocked"),
            "{d:#?}"
        );
    }

    #[test]
    fn safari_s_merged_challenges_and_refused_third_party_cookies() {
        // Safari writes repeated headers as one comma-separated value: still two schemes.
        let f = flow(vec![leg(
            "GET",
            "http://intranet.test/",
            Some("Basic YTpi"),
            401,
            &[("WWW-Authenticate", "Negotiate, Basic realm=\"corp\"")],
        )]);
        let d = diagnose(&info(CaptureFormat::Har, Trust::BrowserView), &f);
        assert_eq!(d.findings[0].id, "credentials-rejected", "{d:#?}");
        let mut f = flow(vec![leg(
            "GET",
            "https://app.test/callback",
            None,
            401,
            &[BASIC],
        )]);
        f.refused_cookies
            .push(why401_evidence::capture::RefusedCookie {
                name: "state".into(),
                url: "https://app.test/callback".into(),
                operation: "store".into(),
                reasons: vec!["EXCLUDE_SAMESITE_NONE_INSECURE".into()],
            });
        let d = diagnose(&info(CaptureFormat::Netlog, Trust::RawWire), &f);
        let t = d
            .findings
            .iter()
            .find(|f| f.id == "third-party-cookie-blocked")
            .expect("the refusal is a finding");
        assert!(t.title.contains("store cookie state"), "{}", t.title);
    }

    #[test]
    fn a_har_never_proves_no_credentials_a_raw_capture_does() {
        let f = flow(vec![leg("GET", "http://a.test/", None, 401, &[BASIC])]);
        assert_eq!(
            top(&info(CaptureFormat::Har, Trust::BrowserView), &f),
            "evidence-hidden-by-exporter"
        );
        assert_eq!(
            top(&info(CaptureFormat::Saz, Trust::RawWire), &f),
            "no-credentials-sent"
        );
    }

    #[test]
    fn a_prompt_loop_and_a_preflight() {
        let mut second = leg("GET", "http://a.test/", Some("Basic YTpi"), 401, &[BASIC]);
        second.exchange.leg = Leg::Auth {
            scheme: "Basic".into(),
            step: 2,
        };
        let f = flow(vec![
            leg("GET", "http://a.test/", None, 401, &[BASIC]),
            leg("GET", "http://a.test/", Some("Basic YTpj"), 401, &[BASIC]),
            second,
        ]);
        let d = diagnose(&info(CaptureFormat::Netlog, Trust::RawWire), &f);
        assert!(
            d.findings.iter().any(|f| f.id == "auth-prompt-loop"),
            "{d:#?}"
        );
        let mut pf = leg("OPTIONS", "http://api.test/v1", None, 401, &[BASIC]);
        pf.exchange
            .request
            .headers
            .push(("Access-Control-Request-Method".into(), "POST".into()));
        assert_eq!(
            top(
                &info(CaptureFormat::Har, Trust::BrowserView),
                &flow(vec![pf])
            ),
            "cors-preflight-unauthorized"
        );
    }

    #[test]
    fn loops_tokens_cache_and_the_browser_s_decisions() {
        let mut b = leg(
            "GET",
            "https://login.test/authorize?client_id=x",
            None,
            302,
            &[("Location", "https://app.test/")],
        );
        b.exchange.leg = Leg::Redirect;
        let mut c = leg(
            "GET",
            "https://app.test/",
            None,
            302,
            &[("Location", "https://login.test/authorize?client_id=x")],
        );
        c.exchange.leg = Leg::Redirect;
        let mut d2 = leg(
            "GET",
            "https://login.test/authorize?client_id=x",
            None,
            302,
            &[],
        );
        d2.exchange.leg = Leg::Redirect;
        let f = flow(vec![
            leg(
                "GET",
                "https://app.test/",
                None,
                302,
                &[("Location", "https://login.test/authorize?client_id=x")],
            ),
            b,
            c,
            d2,
        ]);
        let d = diagnose(&info(CaptureFormat::Har, Trust::BrowserView), &f);
        assert!(
            d.findings.iter().any(|f| f.id == "sso-redirect-loop"),
            "{d:#?}"
        );
        let f = flow(vec![leg(
            "GET",
            "https://app.test/cb?code=SplxlOBeZQQYbYS6WxSbIA&state=1",
            None,
            200,
            &[],
        )]);
        let d = diagnose(&info(CaptureFormat::Har, Trust::BrowserView), &f);
        let t = d.findings.iter().find(|f| f.id == "token-in-url").unwrap();
        assert!(
            !t.evidence[0].contains("SplxlOBeZQQYbYS6WxSbIA"),
            "the token is not printed"
        );
        let mut memory = Memory::default();
        let info = info(CaptureFormat::Har, Trust::BrowserView);
        memory.observe(&flow(vec![leg(
            "GET",
            "https://app.test/data",
            None,
            401,
            &[BASIC],
        )]));
        let mut cached = leg("GET", "https://app.test/data", None, 200, &[]);
        cached.from_cache = Some("disk".into());
        let cached = flow(vec![cached]);
        memory.observe(&cached);
        assert!(!diagnose(&info, &cached).failed());
        assert_eq!(memory.findings()[0].id, "cached-response-hides-401");
        let mut f = flow(vec![leg(
            "GET",
            "http://intranet.test/",
            None,
            401,
            &[("WWW-Authenticate", "Negotiate")],
        )]);
        f.auth.push(AuthDecision {
            url: "http://intranet.test/".into(),
            scheme: Some("negotiate".into()),
            allows_default_credentials: Some(false),
            ..AuthDecision::default()
        });
        let d = diagnose(&self::info(CaptureFormat::Netlog, Trust::RawWire), &f);
        assert!(
            d.findings
                .iter()
                .any(|f| f.id == "integrated-auth-not-attempted"),
            "{d:#?}"
        );
    }
}
