//! What the server's answer itself shows: a 401 without a challenge, a malformed challenge,
//! Basic over plain http, an IIS detailed error page, an RFC 9457 problem document, a clock
//! that disagrees with ours.

use why401_catalogue::{CodeKind, catalogue};
use why401_wire::{b64, challenge, iis, ntlm};

use super::{last, quoted, status_line};
use crate::decode::{Context, decode_text};
use crate::time::{duration, timestamp};
use crate::{Finding, FindingId, Severity};
use why401_evidence::{ProbeEvidence, ResponseRecord};

/// Beyond this, clocks disagree enough to break Kerberos (5 minutes by default).
const SKEW_TOLERANCE: i64 = 300;

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some((e, r)) = last(ev) else { return };
    if r.status == 401 && r.headers_named("www-authenticate").next().is_none() {
        let mut f = Finding::new(FindingId::MISSING_WWW_AUTHENTICATE)
            .title(format!(
                "{} {} answered 401 without a WWW-Authenticate challenge",
                e.request.method, e.request.url
            ))
            .evidence(status_line(r))
            .evidence(format!(
                "headers received: {}",
                r.headers
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .confidence(0.8);
        if let Some(body) = first_line(&r.body) {
            f = f.evidence(format!("body: {body}"));
        }
        out.push(f);
    }
    if r.status == 401 {
        for v in r.headers_named("www-authenticate") {
            let d = decode_text(
                &quoted("WWW-Authenticate", v),
                &Context {
                    now: ev.now,
                    ..Context::default()
                },
            );
            out.extend(
                d.findings
                    .into_iter()
                    .filter(|f| f.id == "malformed-challenge" || f.id == "weak-digest-algorithm"),
            );
        }
    }
    basic_over_http(ev, out);
    iis_page(r, out);
    problem_details(r, out);
    clocks(ev, out);
}

fn first_line(body: &str) -> Option<String> {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty())?;
    Some(if line.chars().count() > 120 {
        format!("{}…", line.chars().take(120).collect::<String>())
    } else {
        line.to_string()
    })
}

fn basic_over_http(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    for e in ev.path() {
        let Some(r) = &e.response else { continue };
        if !e.request.url.starts_with("http://") {
            continue;
        }
        let offered = challenge::parse(r.headers_named("www-authenticate"));
        if offered.find("Basic").is_none() {
            continue;
        }
        let host = url::Url::parse(&e.request.url)
            .ok()
            .and_then(|u| u.host_str().map(String::from))
            .unwrap_or_default();
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        out.push(
            Finding::new(FindingId::BASIC_OVER_HTTP)
                .title(format!(
                    "{} offers Basic over plain http: the password crosses the network readable",
                    host
                ))
                .evidence(format!(
                    "{} {} → {}",
                    e.request.method,
                    e.request.url,
                    quoted(
                        "WWW-Authenticate",
                        offered
                            .find("Basic")
                            .map(|c| c.to_string())
                            .unwrap_or_default()
                            .as_str()
                    )
                ))
                .severity(Severity::Warning)
                .confidence(if loopback { 0.2 } else { 0.6 }),
        );
        return;
    }
}

fn iis_page(r: &ResponseRecord, out: &mut Vec<Finding>) {
    if !r.is_html() {
        return;
    }
    let Some(page) = iis::parse_detailed_error(&r.body) else {
        return;
    };
    let id = match (page.status, page.substatus) {
        (401, 1) => FindingId::IIS_401_1_LOGON_FAILED,
        (401, 2) => FindingId::IIS_401_2_CONFIG,
        (401, 3) => FindingId::IIS_401_3_ACL,
        (401, 4) => FindingId::IIS_401_4_FILTER,
        (401, 5) => FindingId::IIS_401_5_APP,
        (401, 7) => FindingId::IIS_401_7_URL_AUTHORIZATION,
        (401, 501..=504) => FindingId::IIS_401_50X_IP_RESTRICTION,
        _ => return,
    };
    let code = catalogue().code(
        CodeKind::IisSubstatus,
        &format!("{}.{}", page.status, page.substatus),
    );
    let mut f = Finding::new(id)
        .title(format!(
            "IIS says {}: {}",
            page.heading,
            code.map(|c| c.title.as_str()).unwrap_or("")
        ))
        .evidence(format!("IIS detailed error page: {}", page.heading))
        // The server names the cause itself.
        .severity(Severity::Error)
        .confidence(0.95);
    if let Some(s) = &page.summary {
        f = f.evidence(s.clone());
    }
    for (name, value) in &page.details {
        f = f.evidence(format!("{name}: {value}"));
    }
    if let Some(h) = &page.hresult {
        let meaning = page
            .win32()
            .and_then(|w| catalogue().code_by_value(CodeKind::Win32, w as u64))
            .map(|c| format!("HRESULT_FROM_WIN32({}) = {} — {}", c.code, c.name, c.title))
            .or_else(|| {
                u64::from_str_radix(h.trim_start_matches("0x"), 16)
                    .ok()
                    .and_then(|v| catalogue().win32_status(v))
                    .map(|c| format!("{} — {}", c.name, c.title))
            });
        if let Some(m) = meaning {
            f = f.evidence(format!("error code {h}: {m}"));
        }
    }
    if let Some(b) = &page.build {
        f = f.evidence(format!("IIS on Windows build {b}"));
    }
    out.push(f);
}

fn problem_details(r: &ResponseRecord, out: &mut Vec<Finding>) {
    let ct = r.header("content-type").unwrap_or("").to_ascii_lowercase();
    if !ct.starts_with("application/problem+json") {
        return;
    }
    let Ok(serde_json::Value::Object(p)) = serde_json::from_str::<serde_json::Value>(&r.body)
    else {
        return;
    };
    let get = |k: &str| p.get(k).and_then(|v| v.as_str()).map(String::from);
    // A why401 gateway names the finding its denial is (`urn:why401:finding:ID`, and `finding`),
    // and the request id its own `gate explain` answers for. Its own findings are taken as
    // they are; the others (no credentials, rejected ones) the probe's rules find themselves.
    let gate = get("finding")
        .filter(|id| get("type").as_deref() == Some(&format!("urn:why401:finding:{id}")));
    if let Some(id) = gate.as_deref()
        && let Some(found) = [
            FindingId::GATE_POLICY_DENIED,
            FindingId::GATE_STORE_UNAVAILABLE,
            FindingId::GATE_THROTTLED,
            FindingId::GATE_UPSTREAM_UNREACHABLE,
            FindingId::STEP_UP_REQUIRED,
            FindingId::GATE_UNUSUAL_SIGN_IN,
        ]
        .into_iter()
        .find(|f| f.as_str() == id)
    {
        let mut f = Finding::new(found)
            .severity(Severity::Error)
            .confidence(0.95)
            .evidence(format!(
                "the why401 gateway answered {}: {}",
                r.status,
                get("detail").unwrap_or_default()
            ));
        if let Some(rid) = get("request_id") {
            f = f.evidence(format!("request id {rid}")).fix_first(format!(
                "ask the gateway why: why401 gate explain {rid} (on the gateway's host)"
            ));
        }
        out.push(f);
        return;
    }
    let title = get("title")
        .or(get("detail"))
        .unwrap_or_else(|| "a problem document".into());
    let mut f = Finding::new(FindingId::PROBLEM_DETAILS)
        .title(format!("the server explains: {title}"))
        .severity(Severity::Info)
        .confidence(0.6);
    for k in [
        "type",
        "title",
        "detail",
        "instance",
        "finding",
        "request_id",
    ] {
        if let Some(v) = get(k) {
            f = f.evidence(format!("{k}: {v}"));
        }
    }
    out.push(f);
}

/// The server's clock (from `Date` and from the NTLM CHALLENGE) against ours.
fn clocks(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let mut seen = None;
    for e in ev.path() {
        let Some(r) = &e.response else { continue };
        if let Some(date) = r
            .header("date")
            .and_then(|d| httpdate::parse_http_date(d).ok())
        {
            let t = date
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            seen = Some(("Date header", t, r.header("date").unwrap_or("").to_string()));
        }
        for v in r.headers_named("www-authenticate") {
            let Some(token) = v
                .strip_prefix("NTLM ")
                .or_else(|| v.strip_prefix("Negotiate "))
            else {
                continue;
            };
            let Ok((bytes, _)) = b64::decode_any(token.trim()) else {
                continue;
            };
            if let Ok(ntlm::Message::Challenge(c)) = ntlm::decode(&bytes)
                && let Some(t) = c.timestamp()
            {
                seen = Some(("NTLM CHALLENGE MsvAvTimestamp", t, timestamp(t)));
            }
        }
    }
    let Some((source, t, raw)) = seen else { return };
    let skew = t - ev.now;
    if skew.abs() <= SKEW_TOLERANCE {
        return;
    }
    out.push(
        Finding::new(FindingId::CLOCK_SKEW)
            .title(format!(
                "the server's clock is {} {} this machine's",
                duration(skew),
                if skew > 0 { "ahead of" } else { "behind" }
            ))
            .evidence(format!("{source}: {raw}"))
            .evidence(format!("local clock: {}", timestamp(ev.now)))
            .evidence(
                "Kerberos tolerates 5 minutes; token lifetimes are judged with the server's clock",
            )
            .severity(Severity::Warning)
            .confidence(0.6),
    );
}
