//! Probe output: the verdict, the ranked findings, the timeline of every leg; `--verbose`
//! adds each head (secrets redacted); and the JSON of `docs/json.md`.

use std::fmt::Write;

use serde_json::{Value, json};
use why401_doctor::probe::{Diagnosis, Outcome};
use why401_evidence::{Exchange, Headers, Leg, ProbeEvidence};
use why401_wire::{b64, challenge, credentials};

use crate::Options;
use crate::style::{self, paint};

/// The text report.
pub fn probe(
    ev: &ProbeEvidence,
    d: &Diagnosis,
    verbose: bool,
    show_secrets: bool,
    opts: Options,
) -> String {
    let mut out = String::new();
    let (mark, style_, word) = match d.outcome {
        Outcome::Authorized => ("✓", style::HELP, "access granted"),
        Outcome::Unauthorized => (
            "✗",
            style::severity(why401_doctor::Severity::Error),
            "unauthorized",
        ),
        Outcome::Forbidden => (
            "✗",
            style::severity(why401_doctor::Severity::Error),
            "forbidden",
        ),
        Outcome::Error => (
            "✗",
            style::severity(why401_doctor::Severity::Error),
            "not reached",
        ),
    };
    let head = match (
        d.outcome,
        d.findings.iter().find(|f| f.id == "access-granted"),
    ) {
        (Outcome::Authorized, Some(f)) => f.title.clone(),
        _ => format!("{word}: {}", ev.target),
    };
    let _ = writeln!(
        out,
        "{} {}\n",
        paint(style_, mark),
        paint(style::BOLD, &head)
    );
    let shown: Vec<_> = d
        .findings
        .iter()
        .filter(|f| f.id != "access-granted")
        .cloned()
        .collect();
    out.push_str(&crate::findings(
        &shown,
        d.outcome != Outcome::Authorized,
        opts,
    ));
    if !ev.exchanges.is_empty() {
        let _ = writeln!(out, "{}", paint(style::ACCENT, "timeline"));
        for (i, e) in ev.exchanges.iter().enumerate() {
            let _ = writeln!(out, "  {}", timeline_row(i + 1, e));
            if verbose {
                heads(&mut out, e, show_secrets);
            }
        }
        kdc_rows(&mut out, ev, verbose);
    }
    kerberos_block(&mut out, ev);
    if verbose {
        extras(&mut out, ev);
    }
    out
}

/// What Kerberos used and would have used: the SPN rule and each client family's SPN, the
/// ticket (never its key), delegation, the cache.
fn kerberos_block(out: &mut String, ev: &ProbeEvidence) {
    let Some(n) = ev
        .negotiate
        .as_ref()
        .filter(|n| n.credentials_from.is_some())
    else {
        return;
    };
    let _ = writeln!(out, "{}", paint(style::ACCENT, "kerberos"));
    let _ = writeln!(
        out,
        "  credentials from {}{}",
        n.credentials_from.as_deref().unwrap_or_default(),
        n.kdc_found_by
            .as_ref()
            .map(|k| format!("; KDC by {k}"))
            .unwrap_or_default()
    );
    if let Some(c) = &n.ticket_cache {
        let _ = writeln!(
            out,
            "  cache {} — {}{}",
            c.path,
            c.principal,
            c.tgt_expires
                .as_ref()
                .map(|t| format!(
                    ", TGT until {t}{}",
                    if c.expired { " (expired)" } else { "" }
                ))
                .unwrap_or_default()
        );
    }
    let _ = writeln!(out, "  SPN {} ({})", n.spn, n.spn_rule);
    for c in n.spn_by_client.iter().skip(1) {
        let known = match c.known_to_kdc {
            Some(true) => " — the KDC knows it",
            Some(false) => " — unknown to the KDC",
            None => "",
        };
        let _ = writeln!(out, "    {}: {} ({}){known}", c.clients, c.spn, c.rule);
    }
    if let Some(t) = &n.ticket {
        let _ = writeln!(
            out,
            "  ticket {} — {}, kvno {}, {} to {}{} — flags: {}",
            t.server,
            t.etype,
            t.kvno.map_or("?".into(), |k| k.to_string()),
            t.start,
            t.end,
            if t.from_cache { ", from the cache" } else { "" },
            t.flags.join(", ")
        );
    }
    if let Some(d) = &n.delegation {
        let _ = writeln!(out, "  delegation {d}");
    }
}

/// The KDC exchanges Kerberos made between the HTTP legs, one line each; `verbose` adds what
/// each message said (the encryption types offered, the KDC's clock), never keys or tickets.
fn kdc_rows(out: &mut String, ev: &ProbeEvidence, verbose: bool) {
    for k in &ev.kdc {
        let mut line = format!(
            "  {} {}{} → {} — {} — {:.1} ms",
            paint(style::DIM, "kdc"),
            k.request,
            k.service
                .as_ref()
                .map(|s| format!(" for {s}"))
                .unwrap_or_default(),
            k.reply,
            k.kdc,
            k.elapsed_ms
        );
        if k.comparison {
            line.push_str(" — comparison only");
        }
        if let Some(why) = &k.unanswered {
            line.push_str(&format!(" — {why}"));
        }
        if let Some(code) = k.error_code {
            line.push_str(&format!(" — error {code}"));
            if let Some(t) = &k.e_text {
                line.push_str(&format!(" ({t})"));
            }
            if let Some(p) = &k.principal {
                line.push_str(&format!(" about {p}"));
            }
        }
        let _ = writeln!(out, "{line}");
        if verbose {
            if !k.offered_etypes.is_empty() {
                let _ = writeln!(out, "      etypes offered: {}", k.offered_etypes.join(", "));
            }
            if let Some(t) = &k.server_time {
                let _ = writeln!(
                    out,
                    "      KDC clock (stime): {t}{}",
                    k.clock_offset_s
                        .map(|o| format!(", {o:+} s from this machine"))
                        .unwrap_or_default()
                );
            }
        }
    }
}

pub(crate) fn timeline_row(n: usize, e: &Exchange) -> String {
    let status = match (&e.response, &e.error) {
        (Some(r), _) => format!("{} {}", r.status, r.reason()),
        (None, Some(err)) => format!("— {err}"),
        (None, None) => "—".into(),
    };
    let sent = match &e.auth {
        Some(a) => format!("sent {}", a.scheme),
        None => "no credentials".into(),
    };
    let offered = e
        .response
        .as_ref()
        .map(|r| {
            challenge::parse(
                r.headers_named("www-authenticate")
                    .chain(r.headers_named("proxy-authenticate")),
            )
            .schemes()
            .join(", ")
        })
        .filter(|s| !s.is_empty())
        .map(|s| format!(" → asks {s}"))
        .unwrap_or_default();
    let leg = match &e.leg {
        Leg::Initial => String::new(),
        Leg::Auth { scheme, step } => format!(" [{scheme} leg {}]", step + 1),
        Leg::StaleRetry => " [stale nonce retry]".into(),
        Leg::Redirect => " [redirect]".into(),
        Leg::Sibling { variant } => format!(" [{variant}]"),
    };
    format!(
        "#{n:<2} {:<6} {} — {status} — {sent}{offered}{leg} — conn {}{} — {:.1} ms",
        e.request.method,
        e.request.url,
        e.connection,
        if e.via_proxy { " via proxy" } else { "" },
        e.elapsed_ms
    )
}

/// A header value as it may be shown.
pub fn shown_header(name: &str, value: &str, show_secrets: bool) -> String {
    if show_secrets {
        return value.to_string();
    }
    match name.to_ascii_lowercase().as_str() {
        "authorization" | "proxy-authorization" => credentials::parse(value).redacted(),
        "cookie" => value
            .split(';')
            .map(|p| match p.split_once('=') {
                Some((n, _)) => format!("{}=…(redacted)", n.trim()),
                None => p.trim().to_string(),
            })
            .collect::<Vec<_>>()
            .join("; "),
        "set-cookie" => match value.split_once(';') {
            Some((pair, attrs)) => format!(
                "{}=…(redacted);{attrs}",
                pair.split('=').next().unwrap_or("")
            ),
            None => format!("{}=…(redacted)", value.split('=').next().unwrap_or("")),
        },
        "x-api-key" | "api-key" | "x-auth-token" => b64::redact(value),
        _ => value.to_string(),
    }
}

pub(crate) fn redacted(headers: &Headers, show_secrets: bool) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(n, v)| (n.clone(), shown_header(n, v, show_secrets)))
        .collect()
}

pub(crate) fn heads(out: &mut String, e: &Exchange, show_secrets: bool) {
    let _ = writeln!(
        out,
        "      {} {}",
        paint(style::DIM, ">"),
        paint(
            style::DIM,
            &format!("{} {}", e.request.method, e.request.url)
        )
    );
    for (n, v) in redacted(&e.request.headers, show_secrets) {
        let _ = writeln!(out, "      {} {n}: {v}", paint(style::DIM, ">"));
    }
    if let Some(r) = &e.response {
        let _ = writeln!(
            out,
            "      {} {} {} {}",
            paint(style::DIM, "<"),
            r.version,
            r.status,
            r.reason()
        );
        for (n, v) in redacted(&r.headers, show_secrets) {
            let _ = writeln!(out, "      {} {n}: {v}", paint(style::DIM, "<"));
        }
        if r.body_len > 0 {
            let _ = writeln!(
                out,
                "      {} ({} bytes of body)",
                paint(style::DIM, "<"),
                r.body_len
            );
        }
        if let Some(why) = &r.body_incomplete {
            let _ = writeln!(out, "      {} ({why})", paint(style::DIM, "<"));
        }
    }
}

fn extras(out: &mut String, ev: &ProbeEvidence) {
    if let Some(dns) = &ev.dns {
        let _ = writeln!(
            out,
            "\n{} {} → {}",
            paint(style::ACCENT, "dns"),
            dns.host,
            dns.addresses.join(", ")
        );
        if dns.pinned {
            let _ = writeln!(out, "    pinned by --resolve: DNS was not asked");
        }
        if !dns.cnames.is_empty() {
            let _ = writeln!(out, "    CNAME chain: {}", dns.cnames.join(" → "));
        }
    }
    if let Some(tls) = &ev.tls {
        let _ = writeln!(
            out,
            "{} {} ({})",
            paint(style::ACCENT, "tls"),
            tls.version,
            if tls.verified {
                "verified".to_string()
            } else {
                format!(
                    "NOT verified: {}",
                    tls.verify_error.clone().unwrap_or_default()
                )
            }
        );
        for c in &tls.chain {
            let _ = writeln!(out, "    {}  ← issued by {}", c.subject, c.issuer);
        }
    }
    for s in &ev.siblings {
        let _ = writeln!(
            out,
            "{} {} ({}): {}",
            paint(style::ACCENT, "sibling"),
            s.url,
            s.variant,
            s.status
                .map(|x| x.to_string())
                .or(s.error.clone())
                .unwrap_or_default()
        );
    }
}

/// One exchange in the JSON contract (the probe's and each captured leg's), secrets redacted
/// unless `show_secrets`.
pub(crate) fn exchange_json(e: &Exchange, show_secrets: bool) -> Value {
    json!({
        "leg": e.leg,
        "connection": e.connection,
        "via_proxy": e.via_proxy,
        "elapsed_ms": (e.elapsed_ms * 1000.0).round() / 1000.0,
        "credentials": e.auth,
        "request": {
            "method": e.request.method,
            "url": e.request.url,
            "headers": redacted(&e.request.headers, show_secrets),
            "body_len": e.request.body_len,
        },
        "response": e.response.as_ref().map(|r| {
            let mut resp = json!({
                "status": r.status,
                "version": r.version,
                "headers": redacted(&r.headers, show_secrets),
                "body_len": r.body_len,
            });
            if let Some(why) = &r.body_incomplete {
                resp["body_incomplete"] = json!(why);
            }
            resp
        }),
        "error": e.error,
    })
}

/// The JSON document of `docs/json.md`.
pub fn probe_json(ev: &ProbeEvidence, d: &Diagnosis, show_secrets: bool) -> Value {
    let exchanges: Vec<Value> = ev
        .exchanges
        .iter()
        .map(|e| exchange_json(e, show_secrets))
        .collect();
    json!({
        "version": 1,
        "target": ev.target,
        "outcome": d.outcome,
        "findings": d.findings,
        "exchanges": exchanges,
        "redirects": ev.redirects,
        "dns": ev.dns,
        "tls": ev.tls,
        "proxy": ev.proxy,
        "negotiate": ev.negotiate,
        "siblings": ev.siblings,
        "reach": ev.reach,
        "backends": ev.backends,
        "kdc": ev.kdc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::KdcExchange;

    #[test]
    fn kdc_exchanges_are_timeline_rows() {
        let ev = ProbeEvidence {
            kdc: vec![KdcExchange {
                kdc: "tcp://dc01.corp.example:88".into(),
                request: "AS-REQ".into(),
                reply: "KRB-ERROR".into(),
                unanswered: None,
                error_code: Some(24),
                e_text: Some("PREAUTH_FAILED".into()),
                server_time: Some("20261206080956Z".into()),
                principal: Some("krbtgt/CORP.EXAMPLE@CORP.EXAMPLE".into()),
                elapsed_ms: 1.25,
                ..KdcExchange::default()
            }],
            ..ProbeEvidence::default()
        };
        let mut out = String::new();
        kdc_rows(&mut out, &ev, false);
        assert!(
            out.contains("AS-REQ → KRB-ERROR — tcp://dc01.corp.example:88 — 1.2 ms — error 24 (PREAUTH_FAILED) about krbtgt/CORP.EXAMPLE@CORP.EXAMPLE"),
            "{out}"
        );
    }
}
