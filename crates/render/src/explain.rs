//! `explain` pages: a code, a finding, or an IIS log triple, like `rustc --explain`.

use std::fmt::Write;

use why401_catalogue::{Code, CodeKind, FindingInfo, LogTriple, Lookup, Match, catalogue};

use crate::Options;
use crate::findings::wrap;
use crate::style::{self, paint};

/// Renders what a query resolved to.
pub fn explain(l: &Lookup, opts: Options) -> String {
    let mut out = String::new();
    match l {
        Lookup::One {
            entry: Match::Code(c),
        } => code(&mut out, c, opts),
        Lookup::One {
            entry: Match::Finding(f),
        } => finding(&mut out, f, opts),
        Lookup::One {
            entry: Match::Event(e),
        } => event(&mut out, e, opts),
        Lookup::One {
            entry: Match::Message(m),
        } => {
            let _ = writeln!(
                out,
                "{} {}",
                paint(style::BOLD, &format!("Event message {}", m.id)),
                m.text
            );
            para(
                &mut out,
                "A parameter string of msobjs.dll: events store the id (FailureReason, \
                 ImpersonationLevel, ElevatedToken) and Event Viewer shows this text in its place.",
                "  ",
                opts,
            );
        }
        Lookup::One {
            entry: Match::LogonType(t),
        } => {
            let _ = writeln!(
                out,
                "{} {}",
                paint(style::BOLD, &format!("Logon type {}", t.number)),
                t.name
            );
            para(&mut out, &t.meaning, "  ", opts);
        }
        Lookup::LogTriple { triple } => log_triple(&mut out, triple, opts),
        Lookup::Ambiguous { candidates } => {
            let _ = writeln!(
                out,
                "{}",
                paint(style::BOLD, "several entries match; ask for one of them:")
            );
            for c in candidates {
                let _ = writeln!(out, "  why401 explain {:<24} {}", c.query(), c.title());
            }
        }
    }
    out
}

fn event(out: &mut String, e: &why401_catalogue::EventInfo, opts: Options) {
    let _ = writeln!(
        out,
        "{} {}",
        paint(
            style::BOLD,
            &format!(
                "Event {} ({} log{})",
                e.id,
                e.log,
                e.provider
                    .as_deref()
                    .map(|p| format!(", {p}"))
                    .unwrap_or_default()
            )
        ),
        e.title
    );
    out.push('\n');
    para(out, &e.meaning, "  ", opts);
    if !e.read {
        let _ = writeln!(out, "\n  why401 logs counts it and leaves it alone.");
    }
    if !e.findings.is_empty() {
        heading(out, "Findings that read it");
        for id in &e.findings {
            let title = catalogue()
                .finding(id)
                .map(|f| f.title.as_str())
                .unwrap_or("");
            let _ = writeln!(out, "  {id:<30} {title}");
        }
    }
}

fn heading(out: &mut String, text: &str) {
    let _ = writeln!(out, "\n{}", paint(style::ACCENT, text));
}

/// Writes `text` wrapped, paragraph by paragraph. The data files wrap their prose by hand;
/// single line breaks inside a paragraph are joined so the terminal width decides, while
/// indented lines (examples) keep their shape.
fn para(out: &mut String, text: &str, indent: &str, opts: Options) {
    for (i, p) in text.trim().split("\n\n").enumerate() {
        if i > 0 {
            out.push('\n');
        }
        if p.lines().any(|l| l.starts_with([' ', '\t'])) {
            for l in p.lines() {
                let _ = writeln!(out, "{indent}{l}");
            }
            continue;
        }
        let joined = p.lines().map(str::trim).collect::<Vec<_>>().join(" ");
        for line in wrap(&joined, opts.width.saturating_sub(indent.len())) {
            let _ = writeln!(out, "{indent}{line}");
        }
    }
}

fn numbered(out: &mut String, items: &[String], opts: Options) {
    for (i, s) in items.iter().enumerate() {
        let lines = wrap(s, opts.width.saturating_sub(6));
        for (j, line) in lines.iter().enumerate() {
            if j == 0 {
                let _ = writeln!(out, "  {:>2}. {line}", i + 1);
            } else {
                let _ = writeln!(out, "      {line}");
            }
        }
    }
}

fn code(out: &mut String, c: &Code, opts: Options) {
    let _ = writeln!(
        out,
        "{} {} {}",
        paint(
            style::BOLD,
            &format!("{} {}", c.kind.label(), display_code(c))
        ),
        paint(style::DIM, &format!("({})", c.name)),
        paint(style::BOLD, &format!("— {}", c.title))
    );
    if !c.aliases.is_empty() {
        let _ = writeln!(
            out,
            "{} {}",
            paint(style::DIM, "also written:"),
            c.aliases.join(", ")
        );
    }
    if c.normal {
        let _ = writeln!(
            out,
            "{} this is expected in normal operation, not a fault by itself",
            paint(style::HELP, "note:")
        );
    }
    out.push('\n');
    para(out, &c.meaning, "", opts);
    if !c.causes.is_empty() {
        heading(out, "Likely causes");
        numbered(out, &c.causes, opts);
    }
    if !c.fixes.is_empty() {
        heading(out, "What to do");
        numbered(out, &c.fixes, opts);
    }
    see_also(out, &c.findings, &c.references);
}

/// The code and the other form it is met in: an HRESULT's decimal as IIS logs it, a Kerberos
/// error's hex as Windows events print it.
fn display_code(c: &Code) -> String {
    match (&c.decimal, c.kind, c.value()) {
        (Some(d), _, _) => format!("{} = {d}", c.code),
        (None, CodeKind::Kerberos, Some(v)) => format!("{} = {v:#X}", c.code),
        (None, CodeKind::Aadsts, _) => format!("AADSTS{}", c.code),
        _ => c.code.clone(),
    }
}

fn finding(out: &mut String, f: &FindingInfo, opts: Options) {
    let _ = writeln!(
        out,
        "{}{} {}",
        paint(
            style::severity(f.severity),
            &format!("{}[{}]", style::severity_label(f.severity), f.id)
        ),
        paint(style::BOLD, ":"),
        paint(style::BOLD, &f.title)
    );
    out.push('\n');
    para(out, &f.explanation, "", opts);
    if let Some(bad) = &f.bad {
        heading(out, "Problem");
        for l in bad.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
    if let Some(good) = &f.good {
        heading(out, "Fixed");
        for l in good.lines() {
            let _ = writeln!(out, "    {l}");
        }
    }
    if !f.fixes.is_empty() {
        heading(out, "What to do");
        numbered(out, &f.fixes, opts);
    }
    if !f.codes.is_empty() {
        heading(out, "Related codes");
        for k in &f.codes {
            let title = catalogue()
                .codes
                .iter()
                .find(|c| &c.key() == k)
                .map(|c| c.title.as_str())
                .unwrap_or("");
            let _ = writeln!(out, "  {k:<24} {title}");
        }
    }
    see_also(out, &f.see_also, &f.references);
}

fn see_also(out: &mut String, findings: &[String], refs: &[String]) {
    if !findings.is_empty() {
        heading(out, "See also");
        for id in findings {
            let title = catalogue()
                .finding(id)
                .map(|f| f.title.as_str())
                .unwrap_or("");
            let _ = writeln!(out, "  why401 explain {id:<28} {title}");
        }
    }
    if !refs.is_empty() {
        heading(out, "References");
        for r in refs {
            let _ = writeln!(out, "  {r}");
        }
    }
}

fn log_triple(out: &mut String, t: &LogTriple, opts: Options) {
    let logged = match &t.win32 {
        Some(w) => format!("{} {} {w}", t.status, t.substatus),
        None => format!("{} {}", t.status, t.substatus),
    };
    let _ = writeln!(
        out,
        "{} {}",
        paint(style::BOLD, "IIS log status:"),
        paint(style::BOLD, &logged)
    );
    // The headline is the triple's meaning, the same words the logs table prints.
    if let Some(combo) = t.combo {
        let label = if combo.normal {
            paint(style::HELP, "normal:")
        } else {
            paint(style::severity(why401_catalogue::Severity::Error), "fault:")
        };
        let _ = writeln!(out, "{label} {}\n", paint(style::BOLD, &t.meaning));
        para(out, &combo.meaning, "", opts);
    } else if !t.meaning.is_empty() {
        let _ = writeln!(
            out,
            "{} {}",
            paint(style::HELP, "meaning:"),
            paint(style::BOLD, &t.meaning)
        );
    }
    heading(out, &format!("sc-status {}", t.status));
    match t.status_code {
        Some(c) => para(out, &c.title, "  ", opts),
        None => para(out, "an HTTP status why401 has no entry for", "  ", opts),
    }
    heading(out, &format!("sc-substatus {}", t.substatus));
    match t.substatus_code {
        Some(c) => para(
            out,
            &format!("{} {} — {}", c.code, c.title, c.meaning),
            "  ",
            opts,
        ),
        None if t.substatus == 0 => para(out, "0: no substatus", "  ", opts),
        None => para(
            out,
            &format!(
                "{}.{} is not an IIS substatus why401 knows",
                t.status, t.substatus
            ),
            "  ",
            opts,
        ),
    }
    if let Some(w) = &t.win32 {
        heading(out, &format!("sc-win32-status {w}"));
        match t.win32_code {
            Some(c) => para(
                out,
                &format!("{} {} ({}) — {}", c.code, c.name, c.title, c.meaning),
                "  ",
                opts,
            ),
            None => para(
                out,
                "not a Win32, HRESULT or NTSTATUS code why401 knows",
                "  ",
                opts,
            ),
        }
    }
    let fixes: Vec<String> = if t.combo.is_some_and(|c| c.normal) {
        Vec::new()
    } else {
        t.win32_code
            .filter(|c| !c.fixes.is_empty())
            .or(t.substatus_code)
            .map(|c| c.fixes.clone())
            .unwrap_or_default()
    };
    if !fixes.is_empty() {
        heading(out, "What to do");
        numbered(out, &fixes, opts);
    }
    let mut related: Vec<String> = t.combo.map(|c| c.findings.clone()).unwrap_or_default();
    for c in [t.substatus_code, t.win32_code].into_iter().flatten() {
        for f in &c.findings {
            if !related.contains(f) {
                related.push(f.clone());
            }
        }
    }
    see_also(out, &related, &[]);
}

/// Everything the catalogue holds, one line each.
pub fn list() -> String {
    let cat = catalogue();
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint(style::ACCENT, "Findings"));
    for f in &cat.findings {
        let _ = writeln!(out, "  {:<34} {}", f.id, f.title);
    }
    let mut codes: Vec<&Code> = cat.codes.iter().collect();
    codes.sort_by_key(|c| c.kind);
    let mut kind = None;
    for c in codes {
        if kind != Some(c.kind) {
            kind = Some(c.kind);
            let _ = writeln!(out, "\n{}", paint(style::ACCENT, c.kind.label()));
        }
        let _ = writeln!(out, "  {:<26} {:<38} {}", c.key(), c.name, c.title);
    }
    let _ = writeln!(out, "\n{}", paint(style::ACCENT, "Windows events"));
    for e in &cat.events {
        let _ = writeln!(out, "  event:{:<20} {:<38} {}", e.id, e.log, e.title);
    }
    out
}
