//! `why401 har` output: a line about the capture (what it is, how many flows failed and why,
//! what it hides), then each failing flow with its ranked findings and its timeline.

use std::fmt::Write;

use serde_json::{Value, json};
use why401_doctor::Finding;
use why401_doctor::capture::FlowDiagnosis;
use why401_doctor::probe::Outcome;
use why401_evidence::capture::{CaptureFlow, CaptureInfo};

use crate::Options;
use crate::probe::{exchange_json, heads, timeline_row};
use crate::style::{self, paint};

/// Later flows just like a shown one (the same requests, answers and credentials): one case
/// seen again, as a polling loop repeats its failure.
#[derive(Debug, Clone, Default)]
pub struct Similar {
    /// How many.
    pub count: usize,
    /// The first of their numbers.
    pub flows: Vec<usize>,
}

/// One capture's report: its description, the flows to show (with their diagnoses) and the
/// findings about the capture as a whole.
pub struct CaptureReport<'a> {
    /// The file read.
    pub path: &'a str,
    /// What the capture is.
    pub info: &'a CaptureInfo,
    /// Flows in the capture.
    pub flows: usize,
    /// Flows that failed.
    pub failed: usize,
    /// Failing flows by their first finding.
    pub reasons: &'a std::collections::BTreeMap<String, usize>,
    /// The flows to show, with their verdicts (failing ones, or the ones asked for), each with
    /// the later flows of the same case.
    pub shown: &'a [(CaptureFlow, FlowDiagnosis, Similar)],
    /// Failing flows not shown (beyond the limit), counted.
    pub not_shown: usize,
    /// Findings about the whole capture (cache hits that hide a 401).
    pub capture_findings: &'a [Finding],
}

/// The text report.
pub fn capture(r: &CaptureReport<'_>, verbose: bool, show_secrets: bool, opts: Options) -> String {
    let mut out = String::new();
    let i = r.info;
    let _ = writeln!(
        out,
        "{} {} — {}{}, {} entries, {} flows, {} failed",
        paint(style::BOLD, r.path),
        paint(style::BOLD, &format!("{:?}", i.format).to_ascii_uppercase()),
        i.creator,
        i.browser
            .as_ref()
            .filter(|b| !i.creator.contains(b.as_str()))
            .map(|b| format!(" ({b})"))
            .unwrap_or_default(),
        i.entries,
        r.flows,
        r.failed
    );
    if !r.reasons.is_empty() {
        let mut by: Vec<(&String, &usize)> = r.reasons.iter().collect();
        by.sort_by(|a, b| b.1.cmp(a.1));
        let _ = writeln!(
            out,
            "  failed because: {}",
            by.iter()
                .map(|(id, n)| format!("{id} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(out, "  mode: {}", i.mode);
    // What the capture hides, where reading stopped, what was skipped: labelled warnings.
    let warn = |out: &mut String, label: &str, line: &str| {
        let _ = writeln!(
            out,
            "  {} {line}",
            paint(style::severity(why401_doctor::Severity::Warning), label)
        );
    };
    for h in &i.hidden {
        warn(&mut out, "hidden:", h);
    }
    if let Some(s) = &i.stopped {
        warn(&mut out, "stopped:", s);
    }
    for s in i.skipped.iter().take(10) {
        warn(&mut out, "skipped:", s);
    }
    if i.skipped.len() > 10 {
        let _ = writeln!(out, "  … and {} more skipped", i.skipped.len() - 10);
    }
    out.push('\n');
    if !r.capture_findings.is_empty() {
        out.push_str(&crate::findings(r.capture_findings, false, opts));
    }
    for (flow, d, similar) in r.shown {
        let first = flow.legs.first().map(|l| &l.exchange);
        let word = match d.outcome {
            Outcome::Authorized => "ok",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::Error => "no response",
        };
        let _ = writeln!(
            out,
            "{} flow {} — {} {} — {word}{}",
            paint(
                if d.outcome == Outcome::Authorized {
                    style::HELP
                } else {
                    style::severity(why401_doctor::Severity::Error)
                },
                if d.outcome == Outcome::Authorized {
                    "✓"
                } else {
                    "✗"
                }
            ),
            flow.index,
            first.map(|e| e.request.method.as_str()).unwrap_or_default(),
            first.map(|e| e.request.url.as_str()).unwrap_or_default(),
            flow.final_status()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        if similar.count > 0 {
            let _ = writeln!(
                out,
                "  {} more flow{} just like it: {}{}",
                similar.count,
                if similar.count == 1 { "" } else { "s" },
                similar
                    .flows
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                if similar.count > similar.flows.len() {
                    ", …"
                } else {
                    ""
                }
            );
        }
        out.push_str(&crate::findings(
            &d.findings,
            d.outcome != Outcome::Authorized,
            opts,
        ));
        let _ = writeln!(out, "{}", paint(style::ACCENT, "  timeline"));
        for (n, l) in flow.legs.iter().enumerate() {
            let mut extra = Vec::new();
            if let Some(c) = &l.from_cache {
                extra.push(format!("from {c}"));
            }
            if !l.hidden_headers.is_empty() {
                extra.push(format!("hidden: {}", l.hidden_headers.join(", ")));
            }
            let _ = writeln!(
                out,
                "    {}{} [entry {}{}]",
                timeline_row(n + 1, &l.exchange),
                if extra.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", extra.join("; "))
                },
                l.entry,
                l.started
                    .as_ref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default()
            );
            if verbose {
                heads(&mut out, &l.exchange, show_secrets);
            }
        }
        for a in &flow.auth {
            let _ = writeln!(
                out,
                "    auth: {}{}{}{}{}",
                a.scheme.as_deref().unwrap_or("handler"),
                a.allows_default_credentials
                    .map(|b| format!(
                        ", default credentials {}",
                        if b { "allowed" } else { "not allowed" }
                    ))
                    .unwrap_or_default(),
                a.challenge
                    .as_ref()
                    .map(|c| format!(", challenge {c}"))
                    .unwrap_or_default(),
                a.spn
                    .as_ref()
                    .map(|s| format!(", SPN {s}"))
                    .unwrap_or_default(),
                a.status
                    .as_ref()
                    .map(|s| format!(", {s}"))
                    .unwrap_or_default()
            );
        }
        out.push('\n');
    }
    if r.not_shown > 0 {
        let _ = writeln!(
            out,
            "… {} more failing flows (--flow N or --url PATTERN to see one, --json for all)",
            r.not_shown
        );
    }
    if r.failed == 0 {
        let _ = writeln!(
            out,
            "{} no flow failed with 401, 403 or 407{}",
            paint(style::HELP, "✓"),
            if r.info.trust == why401_evidence::capture::Trust::Sanitized {
                " (the capture hides credentials and cookies: see above)"
            } else {
                ""
            }
        );
    }
    out
}

/// One flow in the JSON contract: the probe's exchange shape, plus what the capture says.
pub fn flow_json(
    flow: &CaptureFlow,
    d: &FlowDiagnosis,
    similar: &Similar,
    show_secrets: bool,
) -> Value {
    let legs: Vec<Value> = flow
        .legs
        .iter()
        .map(|l| {
            let mut v = exchange_json(&l.exchange, show_secrets);
            for (k, x) in [
                ("entry", json!(l.entry)),
                ("started", json!(l.started)),
                ("connection_id", json!(l.connection_id)),
                ("trust", json!(l.trust)),
                ("hidden_headers", json!(l.hidden_headers)),
                ("from_cache", json!(l.from_cache)),
                ("resource_type", json!(l.resource_type)),
                ("transfer_size", json!(l.transfer_size)),
            ] {
                v[k] = x;
            }
            v
        })
        .collect();
    json!({
        "flow": flow.index,
        "target": flow.legs.first().map(|l| l.exchange.request.url.clone()),
        "outcome": d.outcome,
        "findings": d.findings,
        "exchanges": legs,
        "auth": flow.auth,
        "refused_cookies": flow.refused_cookies,
        "similar": {"count": similar.count, "flows": similar.flows},
    })
}

/// The self-contained HTML report of a capture: its description, the capture-wide findings,
/// then each failing case with its findings and timeline. Every value from the capture is
/// escaped; secrets are redacted as in the text report.
pub fn capture_html(r: &CaptureReport<'_>, show_secrets: bool) -> String {
    use crate::logs::{esc, finding_html, html_head};
    let i = r.info;
    let mut out = html_head(&format!("why401 har — {}", r.path));
    let _ = write!(
        out,
        "<h1>why401 har — {}</h1><p>{} {}{}: {} entries, {} flows, <b>{} failed</b>; mode: {}</p>",
        esc(r.path),
        esc(&format!("{:?}", i.format).to_ascii_uppercase()),
        esc(&i.creator),
        i.browser
            .as_ref()
            .map(|b| format!(" ({})", esc(b)))
            .unwrap_or_default(),
        i.entries,
        r.flows,
        r.failed,
        esc(&i.mode)
    );
    if !r.reasons.is_empty() {
        out.push_str("<p>failed because: ");
        for (id, n) in r.reasons {
            let _ = write!(out, "<span class=\"id\">{}</span> ×{n} ", esc(id));
        }
        out.push_str("</p>");
    }
    for (label, lines) in [("hidden", &i.hidden), ("skipped", &i.skipped)] {
        if !lines.is_empty() {
            let _ = write!(out, "<div class=\"finding warning\"><b>{label}</b><ul>");
            for l in lines {
                let _ = write!(out, "<li>{}</li>", esc(l));
            }
            out.push_str("</ul></div>");
        }
    }
    if let Some(s) = &i.stopped {
        let _ = write!(
            out,
            "<div class=\"finding warning\"><b>stopped</b>: {}</div>",
            esc(s)
        );
    }
    for f in r.capture_findings {
        finding_html(&mut out, f);
    }
    for (flow, d, similar) in r.shown {
        let first = flow.legs.first().map(|l| &l.exchange);
        let _ = write!(
            out,
            "<section id=\"flow-{}\"><h2>flow {} — {} {} — {:?}{}</h2>",
            flow.index,
            flow.index,
            esc(first.map(|e| e.request.method.as_str()).unwrap_or_default()),
            esc(first.map(|e| e.request.url.as_str()).unwrap_or_default()),
            d.outcome,
            if similar.count > 0 {
                format!(" (and {} more like it)", similar.count)
            } else {
                String::new()
            }
        );
        for f in &d.findings {
            finding_html(&mut out, f);
        }
        out.push_str("<table><tr><th>#</th><th>request</th><th>answer</th><th>credentials</th><th>capture</th></tr>");
        for (n, l) in flow.legs.iter().enumerate() {
            let e = &l.exchange;
            let auth = e
                .auth
                .as_ref()
                .map(|a| {
                    let value = why401_evidence::header(&e.request.headers, &a.header)
                        .map(|v| crate::shown_header(&a.header, v, show_secrets))
                        .unwrap_or_else(|| format!("{} (value hidden)", a.scheme));
                    format!("{}: {value}", a.header)
                })
                .unwrap_or_else(|| "none".into());
            let mut notes = Vec::new();
            if let Some(c) = &l.from_cache {
                notes.push(format!("from {c}"));
            }
            notes.extend(l.hidden_headers.iter().map(|h| format!("hidden: {h}")));
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                n + 1,
                esc(&e.request.method),
                esc(&e.request.url),
                e.response
                    .as_ref()
                    .map(|r| format!("{} {}", r.status, r.reason()))
                    .or_else(|| e.error.as_ref().map(|x| esc(x)))
                    .unwrap_or_default(),
                esc(&auth),
                esc(&notes.join("; "))
            );
        }
        out.push_str("</table></section>\n");
    }
    if r.failed == 0 {
        out.push_str("<p>No flow failed with 401, 403 or 407.</p>");
    }
    out.push_str("</body></html>\n");
    out
}
