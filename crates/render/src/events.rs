//! The Windows events part of `logs` output: what was read, why logons failed, how the access
//! log's 401.1 lines met their events, lockouts and their sources, the KDC's errors, NTLM use,
//! accounts refused for their state. Text (comfy-table) and HTML sections; every value from
//! the logs escaped in HTML.

use std::fmt::Write;

use why401_doctor::Finding;
use why401_doctor::time::{duration, timestamp};
use why401_evidence::events::EventSummary;

use crate::Options;
use crate::logs::{esc, html_table, pct, spark, table, thousands};
use crate::style::{self, paint};

/// One line on the event logs read.
pub(crate) fn headline(ev: &EventSummary) -> String {
    let span = match (ev.first, ev.last) {
        (Some(a), Some(b)) => format!("{} → {} ({})", timestamp(a), timestamp(b), duration(b - a)),
        _ => "no events in the window".into(),
    };
    let computers: Vec<String> = ev
        .inputs
        .iter()
        .flat_map(|i| i.computers.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    format!(
        "{} event records from {}{}, {span}",
        thousands(ev.records),
        plural(ev.inputs.len() as u64, "file", "files"),
        if computers.is_empty() {
            String::new()
        } else {
            format!(" ({})", computers.join(", "))
        }
    )
}

/// A titled table, when it has rows.
fn titled(out: &mut String, title: &str, header: &[&str], rows: Vec<Vec<String>>, width: usize) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "{}", paint(style::ACCENT, title));
    let mut t = table(header, width);
    for r in rows {
        t.add_row(r);
    }
    let _ = writeln!(out, "{t}\n");
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The text section. With `findings`, the report is the events alone: a title line and the
/// findings first, as `logs` prints them.
pub fn events(ev: &EventSummary, findings: Option<&[Finding]>, opts: Options) -> String {
    let mut out = String::new();
    let title = format!("why401 logs — {}", headline(ev));
    if findings.is_some() {
        let _ = writeln!(out, "{}", paint(style::BOLD, &title));
    } else {
        let _ = writeln!(
            out,
            "{}",
            paint(style::ACCENT, &format!("Windows events — {}", headline(ev)))
        );
    }
    let _ = writeln!(
        out,
        "  logon failures: {} — lockouts: {} — unreadable chunks/records: {}{}",
        thousands(ev.failures),
        thousands(ev.lockouts.iter().map(|l| l.count).sum()),
        thousands(ev.unreadable),
        if ev.filtered_out > 0 {
            format!(
                " — left out by --since/--until/--user/--ip: {}",
                thousands(ev.filtered_out)
            )
        } else {
            String::new()
        }
    );
    for p in ev.problems.iter().take(5) {
        let _ = writeln!(
            out,
            "  {}: {} {} could not be read: {}",
            paint(style::severity(why401_doctor::Severity::Warning), "warning"),
            p.file,
            p.place,
            p.error
        );
    }
    out.push('\n');
    if let Some(f) = findings {
        out.push_str(&crate::findings(f, false, opts));
    }
    if let Some(c) = &ev.correlation {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style::ACCENT,
                &format!(
                    "401.1 lines and their events (±{} s): {} of {} matched ({}), {} unmatched",
                    c.window_secs,
                    thousands(c.matched),
                    thousands(c.logon_lines),
                    pct(c.matched, c.logon_lines),
                    thousands(c.unmatched)
                )
            )
        );
        if c.matched_without_address > 0 {
            let _ = writeln!(
                out,
                "  {} matched by a 4776 (account and time; it carries no address)",
                thousands(c.matched_without_address)
            );
        }
        for w in &c.unmatched_why {
            let _ = writeln!(out, "  unmatched, {}: {}", w.key, thousands(w.count));
        }
        if let Some(n) = &c.note {
            let _ = writeln!(out, "  {n}");
        }
        if !c.by_user.is_empty() {
            let mut t = table(
                &["account (access log)", "reason (Security log)", "401.1"],
                opts.width,
            );
            for e in c.by_user.iter().take(10) {
                t.add_row(vec![e.key.clone(), e.reason.clone(), thousands(e.count)]);
            }
            let _ = writeln!(out, "{t}");
            let mut t = table(&["client", "reason (Security log)", "401.1"], opts.width);
            for e in c.by_client.iter().take(10) {
                t.add_row(vec![e.key.clone(), e.reason.clone(), thousands(e.count)]);
            }
            let _ = writeln!(out, "{t}");
        }
        out.push('\n');
    }
    titled(
        &mut out,
        "Why logons failed (4625, 4771, 4776)",
        &["status", "reason", "events"],
        ev.reasons
            .iter()
            .take(10)
            .map(|r| vec![r.code.clone(), r.reason.clone(), thousands(r.count)])
            .collect(),
        opts.width,
    );
    titled(
        &mut out,
        "Failing accounts (events)",
        &["account", "failures", "why", "from"],
        ev.by_user
            .iter()
            .take(8)
            .map(|a| {
                vec![
                    a.user.clone(),
                    thousands(a.failures),
                    a.reasons
                        .iter()
                        .take(2)
                        .map(|r| format!("{} {} ({})", r.code, r.reason, r.count))
                        .collect::<Vec<_>>()
                        .join("; "),
                    a.sources
                        .iter()
                        .take(3)
                        .map(|s| s.key.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
        opts.width,
    );
    titled(
        &mut out,
        "Lockouts (4740) and where the bad passwords came from",
        &["account", "locked at", "DC / caller", "sources"],
        ev.lockouts
            .iter()
            .take(10)
            .map(|l| {
                vec![
                    l.user.clone(),
                    timestamp(l.time),
                    format!(
                        "{} / {}",
                        l.dc,
                        if l.caller.is_empty() {
                            "—"
                        } else {
                            &l.caller
                        }
                    ),
                    l.culprits
                        .iter()
                        .take(3)
                        .map(|c| format!("{} ({})", c.source, c.failures))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect(),
        opts.width,
    );
    titled(
        &mut out,
        "Kerberos (KDC and client events)",
        &["what", "code", "name", "events"],
        ev.kerberos
            .iter()
            .take(10)
            .map(|k| {
                vec![
                    k.kind.clone(),
                    k.code.clone(),
                    k.target.clone(),
                    thousands(k.count),
                ]
            })
            .collect(),
        opts.width,
    );
    let n = &ev.ntlm;
    if n.network_logons > 0 {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style::ACCENT,
                &format!(
                    "Network logons (4624 type 3): {} — Kerberos {} — NTLM {} ({}) — NTLMv1 {}",
                    thousands(n.network_logons),
                    thousands(n.kerberos),
                    thousands(n.ntlm),
                    pct(n.ntlm, n.network_logons),
                    thousands(n.ntlm_v1)
                )
            )
        );
        out.push('\n');
    }
    titled(
        &mut out,
        "Refused for the account's state",
        &["account", "state", "status", "refusals"],
        ev.account_states
            .iter()
            .take(10)
            .map(|a| {
                vec![
                    a.user.clone(),
                    a.state.clone(),
                    a.code.clone(),
                    thousands(a.count),
                ]
            })
            .collect(),
        opts.width,
    );
    if !ev.series.failures.is_empty() {
        let _ = writeln!(
            out,
            "{} (one column per {})",
            paint(style::ACCENT, "Events over time"),
            duration(ev.series.bucket_secs)
        );
        let _ = writeln!(out, "  failures  {}", spark(&ev.series.failures));
        let _ = writeln!(out, "  lockouts  {}", spark(&ev.series.lockouts));
    }
    let mut ids: Vec<String> = ev
        .by_id
        .iter()
        .take(12)
        .map(|i| format!("{} × {}", i.id, thousands(i.count)))
        .collect();
    if ev.by_id.len() > 12 {
        ids.push(format!("{} more ids", ev.by_id.len() - 12));
    }
    if !ids.is_empty() {
        let _ = writeln!(out, "  event ids: {}", ids.join(", "));
    }
    out
}

/// The HTML sections of the events.
pub(crate) fn events_html(out: &mut String, ev: &EventSummary) {
    let _ = write!(
        out,
        "<section id=\"events\"><h2>Windows events</h2><p>{}</p>",
        esc(&headline(ev))
    );
    if let Some(c) = &ev.correlation {
        let _ = write!(
            out,
            "<p id=\"match-rate\">401.1 lines matched with their event (±{} s): <b>{} of {}</b> ({}); unmatched {}.</p>",
            c.window_secs,
            thousands(c.matched),
            thousands(c.logon_lines),
            esc(&pct(c.matched, c.logon_lines)),
            thousands(c.unmatched)
        );
        if let Some(n) = &c.note {
            let _ = write!(out, "<p class=\"finding warning\">{}</p>", esc(n));
        }
        html_table(
            out,
            "why-by-user",
            "Why each account's 401.1 happened",
            &["account", "reason (Security log)", "401.1 lines"],
            c.by_user
                .iter()
                .map(|e| vec![e.key.clone(), e.reason.clone(), thousands(e.count)])
                .collect(),
        );
        html_table(
            out,
            "why-by-client",
            "Why each client's 401.1 happened",
            &["client", "reason (Security log)", "401.1 lines"],
            c.by_client
                .iter()
                .map(|e| vec![e.key.clone(), e.reason.clone(), thousands(e.count)])
                .collect(),
        );
        html_table(
            out,
            "unmatched",
            "401.1 lines without an event",
            &["why", "lines"],
            c.unmatched_why
                .iter()
                .map(|w| vec![w.key.clone(), thousands(w.count)])
                .collect(),
        );
    }
    html_table(
        out,
        "event-reasons",
        "Why logons failed (4625, 4771, 4776)",
        &["status", "reason", "events"],
        ev.reasons
            .iter()
            .map(|r| vec![r.code.clone(), r.reason.clone(), thousands(r.count)])
            .collect(),
    );
    html_table(
        out,
        "lockouts",
        "Lockouts (4740)",
        &["account", "locked at", "DC", "caller", "sources"],
        ev.lockouts
            .iter()
            .map(|l| {
                vec![
                    l.user.clone(),
                    timestamp(l.time),
                    l.dc.clone(),
                    l.caller.clone(),
                    l.culprits
                        .iter()
                        .map(|c| {
                            let agents: Vec<String> =
                                c.agents.iter().map(|a| a.key.clone()).collect();
                            format!(
                                "{} ({} failures) {}",
                                c.source,
                                c.failures,
                                agents.join("; ")
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(" | "),
                ]
            })
            .collect(),
    );
    html_table(
        out,
        "kerberos",
        "Kerberos",
        &["what", "code", "name", "events", "clients", "detail"],
        ev.kerberos
            .iter()
            .map(|k| {
                vec![
                    k.kind.clone(),
                    k.code.clone(),
                    k.target.clone(),
                    thousands(k.count),
                    k.clients.join(", "),
                    k.detail.clone().unwrap_or_default(),
                ]
            })
            .collect(),
    );
    html_table(
        out,
        "account-states",
        "Refused for the account's state",
        &["account", "state", "status", "refusals", "from"],
        ev.account_states
            .iter()
            .map(|a| {
                vec![
                    a.user.clone(),
                    a.state.clone(),
                    a.code.clone(),
                    thousands(a.count),
                    a.sources.join(", "),
                ]
            })
            .collect(),
    );
    html_table(
        out,
        "event-ids",
        "Events by id",
        &["id", "records", "what"],
        ev.by_id
            .iter()
            .map(|i| vec![i.id.to_string(), thousands(i.count), i.name.clone()])
            .collect(),
    );
    html_table(
        out,
        "event-inputs",
        "Event logs read",
        &["file", "format", "records", "unreadable", "computers"],
        ev.inputs
            .iter()
            .map(|i| {
                vec![
                    i.path.clone(),
                    i.format.clone(),
                    thousands(i.records),
                    thousands(i.unreadable),
                    i.computers.join(", "),
                ]
            })
            .collect(),
    );
    html_table(
        out,
        "event-problems",
        "Chunks and records not read",
        &["file", "where", "error"],
        ev.problems
            .iter()
            .map(|p| vec![p.file.clone(), p.place.clone(), p.error.clone()])
            .collect(),
    );
    out.push_str("</section>\n");
}

/// The text section of IIS Failed Request Tracing files. With `findings`, the report is the
/// traces alone: a title line and the findings first.
pub fn freb(
    s: &why401_evidence::freb::FrebSummary,
    findings: Option<&[Finding]>,
    opts: Options,
) -> String {
    let mut out = String::new();
    let line = format!(
        "{} Failed Request Tracing file(s){}",
        thousands(s.traces),
        if s.unreadable.is_empty() {
            String::new()
        } else {
            format!(", {} unreadable", s.unreadable.len())
        }
    );
    if let Some(f) = findings {
        let _ = writeln!(out, "{}", paint(style::BOLD, &format!("why401 — {line}")));
        out.push('\n');
        out.push_str(&crate::findings(f, false, opts));
    } else {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style::ACCENT,
                &format!("IIS Failed Request Tracing — {line}")
            )
        );
    }
    if !s.examples.is_empty() {
        let mut t = table(&["status", "traces", "set by", "error", "URL"], opts.width);
        for (e, n) in s.examples.iter().zip(&s.example_counts) {
            t.add_row(vec![
                e.status.clone(),
                thousands(*n),
                format!(
                    "{}{}",
                    e.module.clone().unwrap_or_default(),
                    e.notification
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default()
                ),
                e.error_code.clone().unwrap_or_default(),
                e.url.clone(),
            ]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    out
}

/// The HTML section of Failed Request Tracing files.
pub(crate) fn freb_html(out: &mut String, s: &why401_evidence::freb::FrebSummary) {
    let _ = write!(
        out,
        "<section id=\"freb\"><h2>IIS Failed Request Tracing</h2><p>{} traces</p>",
        thousands(s.traces)
    );
    html_table(
        out,
        "freb-traces",
        "Failing requests, one row per status, module and error",
        &[
            "status",
            "traces",
            "module",
            "notification",
            "error",
            "URL",
            "file",
        ],
        s.examples
            .iter()
            .zip(&s.example_counts)
            .map(|(e, n)| {
                vec![
                    e.status.clone(),
                    thousands(*n),
                    e.module.clone().unwrap_or_default(),
                    e.notification.clone().unwrap_or_default(),
                    format!(
                        "{} {}",
                        e.error_code.clone().unwrap_or_default(),
                        e.error_text.clone().unwrap_or_default()
                    ),
                    e.url.clone(),
                    e.file.clone(),
                ]
            })
            .collect(),
    );
    out.push_str("</section>\n");
}
