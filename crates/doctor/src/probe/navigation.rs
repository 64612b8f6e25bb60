//! Where the request went: redirects that shed credentials, login pages instead of a 401,
//! cookies held back, sibling URLs that behave differently.

use why401_wire::challenge;

use super::{last, status_line};
use crate::{Finding, FindingId, Severity};
use why401_evidence::{ProbeEvidence, ResponseRecord};

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    dropped_on_redirect(ev, out);
    login_page(ev, out);
    cookies(ev, out);
    variants(ev, out);
}

fn refused(ev: &ProbeEvidence) -> bool {
    matches!(ev.final_status(), Some(401 | 403))
}

fn dropped_on_redirect(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(hop) = ev.redirects.iter().find(|h| h.credentials_dropped) else {
        return;
    };
    if !refused(ev) {
        return;
    }
    let mut f = Finding::new(FindingId::AUTH_DROPPED_ON_REDIRECT)
        .title(format!("the {} redirect to {} crossed origins, and the credentials stayed behind", hop.status, hop.to))
        .evidence(format!("{} → {} ({})", hop.from, hop.to, hop.status))
        .evidence("clients send Authorization only to the origin (scheme, host, port) it was given for: curl ≥ 7.83, browsers, requests")
        .confidence(0.9);
    if let Some((_, r)) = last(ev) {
        f = f.evidence(format!("then: {}", status_line(r)));
    }
    out.push(
        f.fix_first(format!("call the final URL directly: why401 {} …", hop.to))
            .fix_first(format!(
                "to prove it, send credentials across the redirect: why401 {} --location-trusted …",
                ev.target
            )),
    );
}

/// Words in a URL that mark a login page.
const LOGIN_WORDS: &[&str] = &[
    "login",
    "logon",
    "signin",
    "sign-in",
    "sign_in",
    "sso",
    "oauth",
    "saml",
    "authorize",
    "auth/",
    "account/",
];

fn is_login_url(url: &str) -> bool {
    let u = url.to_ascii_lowercase();
    LOGIN_WORDS.iter().any(|w| u.contains(w))
        || u.contains("returnurl=")
        || u.contains("redirect_uri=")
}

fn is_login_page(r: &ResponseRecord) -> bool {
    let body = r.body.to_ascii_lowercase();
    r.is_html()
        && (body.contains("type=\"password\"")
            || body.contains("type='password'")
            || body.contains("type=password"))
}

fn login_page(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some((e, r)) = last(ev) else { return };
    let to_login = ev.redirects.iter().find(|h| is_login_url(&h.to));
    let page = is_login_page(r) && (200..300).contains(&r.status);
    if to_login.is_none() && !page {
        return;
    }
    // A person opening a web page is expected to land on a login form; an API client is not.
    let severity = if ev.given.api
        || e.request
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    {
        Severity::Error
    } else {
        Severity::Warning
    };
    let mut f = Finding::new(FindingId::REDIRECTED_TO_LOGIN)
        .title(match to_login {
            Some(h) => format!(
                "the request was redirected to a login page ({}) instead of getting a 401",
                h.to
            ),
            None => "the server answered with an HTML login form instead of a 401".into(),
        })
        .severity(severity)
        .confidence(0.85);
    for h in &ev.redirects {
        f = f.evidence(format!("{} → {} ({})", h.from, h.to, h.status));
    }
    if page {
        let title = r
            .body
            .split_once("<title>")
            .and_then(|(_, rest)| rest.split_once("</title>"))
            .map(|(t, _)| t.trim().to_string())
            .unwrap_or_default();
        f = f.evidence(format!(
            "{} with an HTML form holding a password field{}",
            status_line(r),
            if title.is_empty() {
                String::new()
            } else {
                format!(" (<title>{title}</title>)")
            }
        ));
    }
    out.push(f);
}

fn cookies(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    if ev.withheld_cookies.is_empty() {
        return;
    }
    let ended_badly = refused(ev) || ev.redirects.iter().any(|h| is_login_url(&h.to));
    let mut seen = std::collections::HashSet::new();
    for w in &ev.withheld_cookies {
        if !seen.insert((&w.name, &w.reason)) {
            continue;
        }
        out.push(
            Finding::new(FindingId::COOKIE_NOT_SENT)
                .title(format!("cookie `{}` was not sent: {}", w.name, w.reason))
                .evidence(format!(
                    "the cookie jar holds `{}`, but the request to {} went without it",
                    w.name, w.url
                ))
                .severity(if ended_badly {
                    Severity::Error
                } else {
                    Severity::Warning
                })
                .confidence(if ended_badly { 0.93 } else { 0.4 }),
        );
    }
}

fn variants(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some((_, r)) = last(ev) else { return };
    if !refused(ev) {
        return;
    }
    let realm = |values: &mut dyn Iterator<Item = &str>| -> Option<String> {
        let c = challenge::parse(values);
        c.challenges
            .iter()
            .find_map(|c| c.realm().map(String::from))
    };
    let main_realm = realm(&mut r.headers_named("www-authenticate"));
    for s in &ev.siblings {
        let Some(status) = s.status else { continue };
        let sibling_realm = realm(&mut s.challenges.iter().map(String::as_str));
        let (title, confidence) = if (200..400).contains(&status) && !(300..400).contains(&status) {
            (
                format!(
                    "{} answers {status} without credentials, while {} refuses",
                    s.url, ev.target
                ),
                0.6,
            )
        } else if status == 401 && sibling_realm.is_some() && sibling_realm != main_realm {
            (
                format!(
                    "{} belongs to realm {:?}, {} to {:?}: credentials saved for one are not sent to the other",
                    s.url,
                    sibling_realm.clone().unwrap_or_default(),
                    ev.target,
                    main_realm.clone().unwrap_or_default()
                ),
                0.5,
            )
        } else {
            continue;
        };
        out.push(
            Finding::new(FindingId::URL_VARIANT)
                .title(title)
                .evidence(format!(
                    "{} ({}): {status}{}",
                    s.url,
                    s.variant,
                    s.challenges
                        .first()
                        .map(|c| format!(", WWW-Authenticate: {c}"))
                        .unwrap_or_default()
                ))
                .evidence("looked at without credentials, for comparison only")
                .severity(Severity::Warning)
                .confidence(confidence),
        );
    }
}
