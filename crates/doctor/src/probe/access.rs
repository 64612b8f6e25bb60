//! Whether credentials went out, in which scheme, and what the server made of them; the proxy's
//! own demand for credentials.

use why401_wire::challenge;
use why401_wire::credentials;

use super::{last, quoted, status_line};
use crate::decode::{Context, decode_text};
use crate::{Finding, FindingId, Severity};
use why401_evidence::{AuthSource, Exchange, Leg, ProbeEvidence, ResponseRecord};

/// Schemes the probe answers from `-u`.
const ANSWERABLE: &[&str] = &["Negotiate", "NTLM", "Digest", "Basic"];

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    proxy(ev, out);
    let Some((e, r)) = last(ev) else { return };
    user_header(ev, out);
    if ev.path().any(|x| x.leg == Leg::StaleRetry) {
        out.push(
            Finding::new(FindingId::STALE_NONCE)
                .severity(Severity::Info)
                .evidence("the server answered stale=true: the Digest nonce had expired; why401 retried once with the new nonce")
                .confidence(0.3),
        );
    }
    if r.status != 401 {
        return;
    }
    let offered = challenge::parse(r.headers_named("www-authenticate"));
    if offered.challenges.is_empty() {
        return; // missing-www-authenticate is the server rules' business
    }
    let challenge_lines: Vec<String> = r
        .headers_named("www-authenticate")
        .map(|v| quoted("WWW-Authenticate", v))
        .collect();
    // Proxy credentials say nothing about the server's 401.
    match e.auth.as_ref().filter(|a| a.header == "Authorization") {
        None => no_credentials(ev, e, r, &offered, &challenge_lines, out),
        Some(a) => {
            if offered.find(&a.scheme).is_none() {
                let offered_list = offered.schemes().join(", ");
                let mut f = Finding::new(FindingId::SCHEME_MISMATCH)
                    .title(format!(
                        "{} credentials were sent, but the server offers only {offered_list}",
                        a.scheme
                    ))
                    .evidence(format!("sent: Authorization: {}", redacted_auth(e)))
                    .confidence(0.92);
                for l in &challenge_lines {
                    f = f.evidence(format!("offered: {l}"));
                }
                let answerable = offered
                    .schemes()
                    .into_iter()
                    .find(|s| ANSWERABLE.iter().any(|a| a.eq_ignore_ascii_case(s)));
                if let Some(s) = answerable {
                    f = f.fix_first(format!(
                        "drop the Authorization header and give the password instead: why401 {} -u USER (it answers {s})",
                        ev.target
                    ));
                }
                out.push(f);
            } else if a.scheme.eq_ignore_ascii_case("Bearer") {
                // The token rules say why a bearer token was refused.
            } else {
                rejected(ev, e, r, &challenge_lines, out);
            }
        }
    }
}

fn no_credentials(
    ev: &ProbeEvidence,
    e: &Exchange,
    r: &ResponseRecord,
    offered: &challenge::Challenges,
    challenge_lines: &[String],
    out: &mut Vec<Finding>,
) {
    // Credentials held back by a redirect are the redirect rule's finding; a Kerberos attempt
    // that failed before anything could be sent (the KDC, the ticket cache) is Kerberos'.
    if ev.redirects.iter().any(|h| h.credentials_dropped)
        || ev.kdc.iter().any(|k| !k.comparison)
        || ev
            .negotiate
            .as_ref()
            .is_some_and(|n| n.credentials_from.is_some())
    {
        return;
    }
    let schemes = offered.schemes().join(", ");
    if ev.given.password {
        let answerable = offered
            .schemes()
            .into_iter()
            .any(|s| ANSWERABLE.iter().any(|a| a.eq_ignore_ascii_case(s)));
        if !answerable || ev.given.forced_scheme.is_some() {
            let mut f = Finding::new(FindingId::SCHEME_MISMATCH)
                .title(match &ev.given.forced_scheme {
                    Some(forced) => format!(
                        "--auth-type {forced} was asked for, but the server offers only {schemes}"
                    ),
                    None => {
                        format!("a user and password were given, but the server wants {schemes}")
                    }
                })
                .confidence(0.9);
            for l in challenge_lines {
                f = f.evidence(l.clone());
            }
            if offered.find("Bearer").is_some() {
                f = f.fix_first("get an access token from the identity provider and pass it with --bearer TOKEN");
            }
            out.push(f);
        }
        return;
    }
    let mut f = Finding::new(FindingId::NO_CREDENTIALS_SENT)
        .title(format!(
            "no credentials were sent; the server asks for {schemes}"
        ))
        .evidence(format!(
            "{} {} carried no Authorization header",
            e.request.method, e.request.url
        ))
        .evidence(status_line(r))
        .confidence(0.9);
    for l in challenge_lines {
        f = f.evidence(l.clone());
    }
    let try_it = if offered.find("Bearer").is_some() {
        format!("why401 {} --bearer TOKEN", ev.target)
    } else if offered.find("Negotiate").is_some() || offered.find("NTLM").is_some() {
        format!(
            "why401 {} -u 'DOMAIN\\user'   (the password is prompted for)",
            ev.target
        )
    } else {
        format!(
            "why401 {} -u USER   (the password is prompted for)",
            ev.target
        )
    };
    out.push(f.fix_first(format!("send credentials in the offered scheme: {try_it}")));
}

fn rejected(
    ev: &ProbeEvidence,
    e: &Exchange,
    r: &ResponseRecord,
    challenge_lines: &[String],
    out: &mut Vec<Finding>,
) {
    let a = e.auth.as_ref().expect("caller checked");
    let who = match (&ev.given.domain, &ev.given.user) {
        (Some(d), Some(u)) => format!("{d}\\{u}"),
        (None, Some(u)) => u.clone(),
        _ => "the user".into(),
    };
    let title = match a.source {
        AuthSource::UserHeader => format!(
            "the server refused the {} credentials in your Authorization header",
            a.scheme
        ),
        _ => format!("the server refused {who}'s {} credentials", a.scheme),
    };
    let mut f = Finding::new(FindingId::CREDENTIALS_REJECTED)
        .title(title)
        .evidence(format!("sent: Authorization: {}", redacted_auth(e)))
        .evidence(format!("answer: {}", status_line(r)))
        .confidence(0.85);
    for l in challenge_lines.iter().take(3) {
        f = f.evidence(format!("the server challenges again: {}", shorten(l, 160)));
    }
    if (a.scheme.eq_ignore_ascii_case("NTLM") || a.scheme.eq_ignore_ascii_case("Negotiate"))
        && let Some(target) = ntlm_target(ev)
    {
        f = f.evidence(format!("the server's NTLM CHALLENGE names {target}")).fix_first(format!(
            "check the domain part of -u: the server names {target}; log on as DOMAIN\\user of that domain"
        ));
    }
    out.push(f);
}

/// What the server's NTLM CHALLENGE said about itself, decoded.
fn ntlm_target(ev: &ProbeEvidence) -> Option<String> {
    for e in ev.path() {
        let Some(r) = &e.response else { continue };
        for v in r.headers_named("www-authenticate") {
            let d = decode_text(
                &format!("WWW-Authenticate: {v}"),
                &Context {
                    now: ev.now,
                    ..Context::default()
                },
            );
            for item in d
                .items
                .iter()
                .flat_map(|i| i.children.iter())
                .flat_map(|c| c.children.iter())
            {
                if item.what.starts_with("NTLM CHALLENGE") {
                    let field = |n: &str| {
                        item.fields
                            .iter()
                            .find(|f| f.name == n)
                            .map(|f| f.value.clone())
                            .filter(|v| !v.is_empty())
                    };
                    let parts: Vec<String> = [
                        ("target", "target name"),
                        ("DNS domain", "MsvAvDnsDomainName"),
                        ("server", "MsvAvDnsComputerName"),
                    ]
                    .iter()
                    .filter_map(|(label, name)| field(name).map(|v| format!("{label} {v}")))
                    .collect();
                    return (!parts.is_empty()).then(|| parts.join(", "));
                }
            }
        }
    }
    None
}

/// The user's own Authorization header, judged like `decode` does.
fn user_header(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(a) = &ev.given.authorization else {
        return;
    };
    let d = decode_text(
        &format!("Authorization: {a}"),
        &Context {
            now: ev.now,
            leeway: 60,
            ..Context::default()
        },
    );
    out.extend(
        d.findings
            .into_iter()
            .filter(|f| f.id == "malformed-credentials"),
    );
}

fn proxy(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(e) = ev.path().filter(|e| e.status() == Some(407)).last() else {
        return;
    };
    // Only when the proxy's refusal is where things ended.
    if ev.final_status() != Some(407) {
        return;
    }
    let r = e.response.as_ref().expect("status implies a response");
    let wants = challenge::parse(r.headers_named("proxy-authenticate"));
    let proxy = ev
        .proxy
        .clone()
        .map(|p| format!("the proxy {p}"))
        .unwrap_or_else(|| "the proxy".into());
    let sent = e
        .auth
        .as_ref()
        .is_some_and(|a| a.header == "Proxy-Authorization");
    let title = if sent {
        format!("{proxy} refused the proxy credentials")
    } else {
        format!(
            "{proxy} wants its own credentials ({}) — this is not the server's 401",
            if wants.challenges.is_empty() {
                "no Proxy-Authenticate header".into()
            } else {
                wants.schemes().join(", ")
            }
        )
    };
    let mut f = Finding::new(FindingId::PROXY_AUTH_REQUIRED)
        .title(title)
        .evidence(format!(
            "{} {} → {} from the proxy",
            e.request.method,
            e.request.url,
            status_line(r)
        ))
        .confidence(0.95);
    for v in r.headers_named("proxy-authenticate") {
        f = f.evidence(quoted("Proxy-Authenticate", v));
    }
    if !sent {
        f = f.fix_first(format!(
            "give the proxy its credentials: why401 {} -x {} --proxy-user USER",
            ev.target,
            ev.proxy.as_deref().unwrap_or("http://PROXY:PORT")
        ));
    }
    out.push(f);
}

/// The info finding that says access was granted and how.
pub(super) fn granted(ev: &ProbeEvidence) -> Finding {
    let Some((e, r)) = last(ev) else {
        return Finding::new(FindingId::ACCESS_GRANTED);
    };
    let how = match &e.auth {
        Some(a) if a.header == "Authorization" => match (&ev.negotiate, a.scheme.as_str()) {
            (Some(n), "Negotiate") => format!("with Negotiate ({})", n.mechanism),
            _ => format!("with {}", a.scheme),
        },
        _ => "without credentials".into(),
    };
    let legs = ev.path().count();
    Finding::new(FindingId::ACCESS_GRANTED)
        .title(format!("access granted {how}: {}", status_line(r)))
        .evidence(format!(
            "{} {} after {legs} request{}",
            e.request.method,
            e.request.url,
            if legs == 1 { "" } else { "s" }
        ))
        .severity(Severity::Info)
        .confidence(1.0)
}

fn redacted_auth(e: &Exchange) -> String {
    e.request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| credentials::parse(v).redacted())
        .unwrap_or_default()
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s.to_string()
    }
}
