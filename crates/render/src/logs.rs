//! `logs` output: a one-screen text summary with the findings first, and a self-contained HTML
//! report (inline SVG, every log-derived value escaped: logs are attacker-controlled).

use std::fmt::Write;

use comfy_table::{Table, presets::UTF8_FULL_CONDENSED};
use why401_doctor::time::{duration, timestamp};
use why401_doctor::{Finding, Severity};
use why401_evidence::events::EventSummary;
use why401_evidence::logs::{KeyCount, LogSummary};

use crate::Options;
use crate::style::{self, paint};

pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn pct(a: u64, b: u64) -> String {
    if b == 0 {
        "0%".into()
    } else {
        format!("{:.1}%", a as f64 * 100.0 / b as f64)
    }
}

pub(crate) fn table(header: &[&str], width: usize) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_header(header.iter().copied())
        .set_width(width as u16);
    t.set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
    t
}

/// A time of the log, or a dash for lines that carried none.
fn when(t: Option<i64>) -> String {
    t.map_or_else(|| "—".into(), timestamp)
}

fn headline(s: &LogSummary) -> String {
    let span = match (s.first, s.last) {
        (Some(a), Some(b)) if s.local_time => {
            let local = |t| {
                let t = timestamp(t);
                t.strip_suffix(" UTC").map(str::to_string).unwrap_or(t)
            };
            format!(
                "{} → {} server local time, not UTC ({})",
                local(a),
                local(b),
                duration(b - a)
            )
        }
        (Some(a), Some(b)) => format!("{} → {} ({})", timestamp(a), timestamp(b), duration(b - a)),
        _ => "no timestamps".into(),
    };
    format!(
        "{} input{}, {} request{}, {span}",
        s.inputs.len(),
        if s.inputs.len() == 1 { "" } else { "s" },
        thousands(s.requests),
        if s.requests == 1 { "" } else { "s" }
    )
}

/// Inputs that were not read whole, one sentence each: every count is then a lower bound.
fn input_problems(s: &LogSummary) -> Vec<String> {
    let mut out: Vec<String> = s
        .inputs
        .iter()
        .filter_map(|i| {
            let why = i.ended_early.as_ref()?;
            Some(format!(
                "{} ended early after {} lines ({} bytes of text): {why}; its counts are a lower bound",
                i.path,
                thousands(i.lines),
                thousands(i.bytes)
            ))
        })
        .collect();
    out.extend(
        s.unreadable
            .iter()
            .map(|u| format!("{} could not be read: {}", u.path, u.error)),
    );
    out
}

/// The text summary.
pub fn logs(s: &LogSummary, findings: &[Finding], opts: Options) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint(style::BOLD, &format!("why401 logs — {}", headline(s)))
    );
    let _ = writeln!(
        out,
        "  401/403/407: {} ({} of requests) — handshake noise {} — real failures {}{}",
        thousands(s.auth_denials),
        pct(s.auth_denials, s.requests),
        thousands(s.handshake_noise),
        thousands(s.real_failures),
        if s.approximate {
            " — tables are estimates (heavy hitters)"
        } else {
            ""
        }
    );
    if s.local_time {
        // The log's date-local/time-local fields carry no zone: every time shown is that clock.
        out.push_str(
            "  times are the server's local clock (date-local/time-local): read \"UTC\" below as that clock\n",
        );
    }
    if s.unparsed > 0 || s.filtered_out > 0 {
        let _ = writeln!(
            out,
            "  unparsed lines: {} — outside --since/--until: {}",
            thousands(s.unparsed),
            thousands(s.filtered_out)
        );
    }
    for line in input_problems(s) {
        let _ = writeln!(
            out,
            "  {}: {line}",
            paint(style::severity(Severity::Warning), "warning")
        );
    }
    out.push('\n');
    out.push_str(&crate::findings(findings, false, opts));

    if !s.by_code.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            paint(
                style::ACCENT,
                "Denials by status, substatus and win32 status"
            )
        );
        let mut t = table(&["status", "count", "handshake", "meaning"], opts.width);
        for c in s.by_code.iter().take(12) {
            t.add_row(vec![
                format!("{} {} {}", c.status, c.substatus, c.win32),
                thousands(c.count),
                thousands(c.handshake),
                c.meaning.clone(),
            ]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    if !s.reasons.is_empty() {
        let _ = writeln!(out, "{}", paint(style::ACCENT, "Why, from the error log"));
        let mut t = table(&["reason", "401s"], opts.width);
        for r in &s.reasons {
            t.add_row(vec![r.reason.clone(), thousands(r.count)]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    for (title, rows) in [
        ("Failing users", &s.by_user),
        ("Failing client IPs", &s.by_ip),
        ("Failing URLs", &s.by_url),
        ("Failing user agents", &s.by_agent),
    ] {
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{}", paint(style::ACCENT, title));
        let mut t = table(&["", "failures"], opts.width);
        for kc in rows.iter().take(6) {
            t.add_row(vec![shorten(&kc.key, 70), thousands(kc.count)]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    if !s.user_ip.is_empty() {
        let _ = writeln!(out, "{}", paint(style::ACCENT, "User × client IP"));
        let mut t = table(
            &["user", "client IP", "failures", "successes", "first → last"],
            opts.width,
        );
        for p in s.user_ip.iter().take(8) {
            t.add_row(vec![
                p.user.clone(),
                p.ip.clone(),
                thousands(p.failures),
                thousands(p.successes),
                format!("{} → {}", when(p.first), when(p.last)),
            ]);
        }
        let _ = writeln!(out, "{t}\n");
    }
    if !s.series.requests.is_empty() {
        let _ = writeln!(
            out,
            "{} (one column per {})",
            paint(style::ACCENT, "Over time"),
            duration(s.series.bucket_secs)
        );
        let _ = writeln!(out, "  requests  {}", spark(&s.series.requests));
        let _ = writeln!(out, "  401s      {}", spark(&s.series.unauthorized));
        let _ = writeln!(out, "  failures  {}", spark(&s.series.failures));
    }
    out
}

pub(crate) fn spark(v: &[u64]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = v.iter().copied().max().unwrap_or(0).max(1);
    v.iter()
        .map(|&x| {
            if x == 0 {
                ' '
            } else {
                BARS[((x * 7) / max) as usize]
            }
        })
        .collect()
}

fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() > n {
        format!("{}…", s.chars().take(n).collect::<String>())
    } else {
        s.to_string()
    }
}

/// HTML-escapes text taken from a log.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn html_table(
    out: &mut String,
    id: &str,
    title: &str,
    header: &[&str],
    rows: Vec<Vec<String>>,
) {
    let _ = write!(
        out,
        "<section id=\"{id}\"><h2>{}</h2><table><thead><tr>",
        esc(title)
    );
    for h in header {
        let _ = write!(out, "<th>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for r in rows {
        out.push_str("<tr>");
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(&c));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></section>\n");
}

fn key_rows(v: &[KeyCount]) -> Vec<Vec<String>> {
    v.iter()
        .map(|k| vec![k.key.clone(), thousands(k.count)])
        .collect()
}

/// The chart: requests and failures per bucket, as inline SVG.
/// One line of a chart: its values, colour, dash pattern and name.
type Line<'a> = (&'a [u64], &'a str, &'a str, &'a str);

fn chart(s: &LogSummary, events: Option<&EventSummary>) -> String {
    let ser = &s.series;
    let mut lines: Vec<Line> = Vec::new();
    let (start, bucket) = if ser.requests.is_empty() {
        match events {
            Some(ev) => (ev.series.start, ev.series.bucket_secs),
            None => return String::new(),
        }
    } else {
        lines.push((&ser.requests, "#2563eb", "", "requests"));
        lines.push((&ser.unauthorized, "#dc2626", "", "401 responses"));
        lines.push((
            &ser.failures,
            "#f59e0b",
            " stroke-dasharray=\"4 3\"",
            "real failures",
        ));
        (ser.start, ser.bucket_secs)
    };
    // The events share the access log's axis (the pass put them on it), or have their own.
    if let Some(ev) = events
        && ev.series.start == start
        && ev.series.bucket_secs == bucket
        && !ev.series.failures.is_empty()
    {
        lines.push((&ev.series.failures, "#7c3aed", "", "logon failure events"));
        lines.push((
            &ev.series.lockouts,
            "#111827",
            " stroke-dasharray=\"2 2\"",
            "lockouts (4740)",
        ));
    }
    let n = lines.iter().map(|l| l.0.len()).max().unwrap_or(0);
    if n == 0 {
        return String::new();
    }
    let (w, h) = (960.0, 220.0);
    let max = lines
        .iter()
        .flat_map(|l| l.0.iter().copied())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let x = |i: usize| {
        if n == 1 {
            w / 2.0
        } else {
            40.0 + i as f64 * (w - 50.0) / (n - 1) as f64
        }
    };
    let y = |v: u64| h - 20.0 - v as f64 * (h - 40.0) / max;
    let line = |v: &[u64]| {
        v.iter()
            .enumerate()
            .map(|(i, &c)| format!("{:.1},{:.1}", x(i), y(c)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut out = format!(
        "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"requests and failures over time\">"
    );
    let _ = write!(
        out,
        "<line x1=\"40\" y1=\"{}\" x2=\"{w}\" y2=\"{}\" stroke=\"#999\"/>",
        h - 20.0,
        h - 20.0
    );
    for (points, color, dash, title) in &lines {
        let _ = write!(
            out,
            "<polyline fill=\"none\" stroke=\"{color}\"{dash} stroke-width=\"2\" points=\"{}\"><title>{title}</title></polyline>",
            line(points)
        );
    }
    let _ = write!(
        out,
        "<text x=\"40\" y=\"14\" font-size=\"12\">max {} per {}</text>",
        thousands(max as u64),
        esc(&duration(bucket))
    );
    let _ = write!(
        out,
        "<text x=\"40\" y=\"{}\" font-size=\"11\">{}</text>",
        h - 4.0,
        esc(&timestamp(start))
    );
    let end = start + bucket * n as i64;
    let _ = write!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
        w - 2.0,
        h - 4.0,
        esc(&timestamp(end))
    );
    out.push_str("</svg><p>");
    for (_, color, dash, title) in &lines {
        let mark = if dash.is_empty() { "—" } else { "- -" };
        let _ = write!(out, "<span style=\"color:{color}\">{mark} {title}</span> ");
    }
    out.push_str("</p>");
    out
}

/// The start of a self-contained HTML report: the head with its styles, the body opened.
pub(crate) fn html_head(title: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<meta name=\"viewport\" content=\"width=device-width\"><style>{STYLE}</style></head><body>",
        esc(title)
    )
}

/// The reports' styles.
const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}h1{font-size:20px}h2{font-size:16px;margin-top:28px}\
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}th{background:#f4f4f5}\
td:nth-child(2){font-variant-numeric:tabular-nums}.finding{border-left:4px solid #dc2626;padding:6px 12px;margin:10px 0;background:#fef2f2}\
.finding.warning{border-color:#f59e0b;background:#fffbeb}.finding.info{border-color:#2563eb;background:#eff6ff}.id{font-family:monospace}\
.kpi{display:inline-block;margin-right:28px}.kpi b{font-size:20px;display:block}";

/// One finding as an HTML block: its id, title, evidence and first fix, all escaped.
pub(crate) fn finding_html(out: &mut String, f: &Finding) {
    let class = match f.severity {
        why401_doctor::Severity::Error => "error",
        why401_doctor::Severity::Warning => "warning",
        why401_doctor::Severity::Info => "info",
    };
    let _ = write!(
        out,
        "<div class=\"finding {class}\"><span class=\"id\">{}</span>: <b>{}</b><ul>",
        esc(&f.id),
        esc(&f.title)
    );
    for e in &f.evidence {
        let _ = write!(out, "<li>{}</li>", esc(e));
    }
    out.push_str("</ul>");
    if let Some(first) = f.fix.first() {
        let _ = write!(out, "<p>help: {}</p>", esc(first));
    }
    out.push_str("</div>");
}

/// The self-contained HTML report: the access logs' summary `s` (empty when only event logs
/// were given), the events when any were given, on one time axis.
pub fn logs_html(
    s: &LogSummary,
    events: Option<&EventSummary>,
    freb: Option<&why401_evidence::freb::FrebSummary>,
    findings: &[Finding],
) -> String {
    let mut out = html_head("why401 logs report");
    let access = !s.inputs.is_empty() || (events.is_none() && freb.is_none());
    let title = match (access, events, freb) {
        (false, Some(ev), _) => crate::events::headline(ev),
        (false, None, Some(f)) => format!("{} Failed Request Tracing files", f.traces),
        _ => headline(s),
    };
    let _ = write!(out, "<h1>why401 logs — {}</h1>", esc(&title));
    if access {
        access_kpis(&mut out, s);
    }
    out.push_str("<section id=\"findings\"><h2>Findings</h2>");
    if findings.is_empty() {
        out.push_str("<p>Nothing to report.</p>");
    }
    for f in findings {
        finding_html(&mut out, f);
    }
    out.push_str("</section><section id=\"over-time\"><h2>Over time</h2>");
    out.push_str(&chart(s, events));
    out.push_str("</section>\n");
    if let Some(ev) = events {
        crate::events::events_html(&mut out, ev);
    }
    if let Some(f) = freb {
        crate::events::freb_html(&mut out, f);
    }
    if access {
        access_tables(&mut out, s);
    }
    out.push_str("</body></html>\n");
    out
}

fn access_kpis(out: &mut String, s: &LogSummary) {
    let _ = write!(
        out,
        "<div id=\"kpis\"><span class=\"kpi\" id=\"kpi-requests\"><b>{}</b>requests</span><span class=\"kpi\" id=\"kpi-denials\"><b>{}</b>401/403/407</span>\
<span class=\"kpi\" id=\"kpi-noise\"><b>{}</b>handshake noise</span><span class=\"kpi\" id=\"kpi-real\"><b>{}</b>real failures</span>\
<span class=\"kpi\" id=\"kpi-unparsed\"><b>{}</b>unparsed lines</span></div>",
        thousands(s.requests),
        thousands(s.auth_denials),
        thousands(s.handshake_noise),
        thousands(s.real_failures),
        thousands(s.unparsed)
    );
    let problems = input_problems(s);
    if !problems.is_empty() {
        out.push_str("<section id=\"input-problems\" class=\"finding warning\"><h2>Input not read whole</h2><ul>");
        for line in &problems {
            let _ = write!(out, "<li>{}</li>", esc(line));
        }
        out.push_str("</ul></section>");
    }
}

fn access_tables(out: &mut String, s: &LogSummary) {
    html_table(
        out,
        "codes",
        "Denials by status, substatus and win32 status",
        &["status", "count", "handshake legs", "meaning"],
        s.by_code
            .iter()
            .map(|c| {
                vec![
                    format!("{} {} {}", c.status, c.substatus, c.win32),
                    thousands(c.count),
                    thousands(c.handshake),
                    c.meaning.clone(),
                ]
            })
            .collect(),
    );
    if !s.reasons.is_empty() {
        html_table(
            out,
            "reasons",
            "Why, from the error log",
            &["reason", "401s"],
            s.reasons
                .iter()
                .map(|r| vec![r.reason.clone(), thousands(r.count)])
                .collect(),
        );
    }
    html_table(
        out,
        "users",
        "Failing users",
        &["user", "failures"],
        key_rows(&s.by_user),
    );
    html_table(
        out,
        "ips",
        "Failing client IPs",
        &["client IP", "failures"],
        key_rows(&s.by_ip),
    );
    html_table(
        out,
        "urls",
        "Failing URLs",
        &["URL", "failures"],
        key_rows(&s.by_url),
    );
    html_table(
        out,
        "agents",
        "Failing user agents",
        &["user agent", "failures"],
        key_rows(&s.by_agent),
    );
    html_table(
        out,
        "user-ip",
        "User × client IP",
        &[
            "user",
            "client IP",
            "failures",
            "successes",
            "first",
            "last",
        ],
        s.user_ip
            .iter()
            .take(50)
            .map(|p| {
                vec![
                    p.user.clone(),
                    p.ip.clone(),
                    thousands(p.failures),
                    thousands(p.successes),
                    when(p.first),
                    when(p.last),
                ]
            })
            .collect(),
    );
    html_table(
        out,
        "status",
        "Requests by status",
        &["status", "requests"],
        s.by_status
            .iter()
            .map(|(st, n)| vec![st.to_string(), thousands(*n)])
            .collect(),
    );
    if !s.unparsed_examples.is_empty() {
        html_table(
            out,
            "unparsed",
            "Unparsed lines (first examples)",
            &["where", "why", "line"],
            s.unparsed_examples
                .iter()
                .map(|u| {
                    vec![
                        format!("{}:{}", u.file, u.line),
                        u.reason.clone(),
                        u.text.clone(),
                    ]
                })
                .collect(),
        );
    }
    html_table(
        out,
        "inputs",
        "Inputs",
        &["file", "format", "bytes", "lines", "unparsed"],
        s.inputs
            .iter()
            .map(|i| {
                vec![
                    i.path.clone(),
                    i.format.clone(),
                    thousands(i.bytes),
                    thousands(i.lines),
                    thousands(i.unparsed),
                ]
            })
            .collect(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_are_not_called_utc() {
        let mut s = LogSummary {
            first: Some(1_795_738_142),
            last: Some(1_795_741_742),
            ..LogSummary::default()
        };
        assert!(headline(&s).contains("2026-11-27 00:09:02 UTC → 2026-11-27 01:09:02 UTC (1h"));
        s.local_time = true;
        let h = headline(&s);
        assert!(
            h.contains("2026-11-27 00:09:02 → 2026-11-27 01:09:02 server local time, not UTC"),
            "{h}"
        );
        let text = logs(&s, &[], Options::default());
        assert!(
            text.contains("times are the server's local clock"),
            "{text}"
        );
    }

    #[test]
    fn log_text_is_escaped_in_html() {
        let mut s = LogSummary::default();
        s.by_agent.push(KeyCount {
            key: "<script>alert(1)</script>".into(),
            count: 3,
        });
        s.by_user.push(KeyCount {
            key: "a\"onmouseover=\"x".into(),
            count: 1,
        });
        let html = logs_html(&s, None, None, &[]);
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(html.contains("a&quot;onmouseover=&quot;x"));
    }

    #[test]
    fn inputs_not_read_whole_are_said_in_text_and_html() {
        use why401_evidence::logs::{InputInfo, Unreadable};
        let mut s = LogSummary::default();
        assert!(!logs(&s, &[], Options::default()).contains("warning:"));
        s.inputs.push(InputInfo {
            path: "u_ex261201.log.gz".into(),
            format: "iis-w3c".into(),
            bytes: 1_020_228,
            lines: 9_980,
            unparsed: 0,
            ended_early: Some("incomplete deflate stream".into()),
        });
        s.unreadable.push(Unreadable {
            path: "logs/<loop>".into(),
            error: "a link back to an ancestor directory".into(),
        });
        // Styles are ANSI sequences here (the binary strips them off a terminal): drop them.
        let text = logs(&s, &[], Options::default());
        let mut plain = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                chars.by_ref().find(|&c| c == 'm');
            } else {
                plain.push(c);
            }
        }
        let text = plain;
        assert!(
            text.contains("warning: u_ex261201.log.gz ended early after 9,980 lines (1,020,228 bytes of text): incomplete deflate stream"),
            "{text}"
        );
        assert!(
            text.contains("warning: logs/<loop> could not be read"),
            "{text}"
        );
        let html = logs_html(&s, None, None, &[]);
        assert!(html.contains("id=\"input-problems\""), "{html}");
        assert!(
            html.contains("logs/&lt;loop&gt; could not be read"),
            "{html}"
        );
    }

    #[test]
    fn numbers_are_readable() {
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(thousands(12), "12");
        assert_eq!(spark(&[0, 1, 7]), " ▂█");
    }
}
