//! `why401 lint` as a compiler would say it: `error[id]: headline`, `--> file:line:col`, the
//! line with a caret under the place, then the evidence and the fix.

use std::fmt::Write;

use why401_catalogue::Severity;
use why401_lint::{LintReport, Location};

use crate::Options;
use crate::findings::{headline, help, wrap};
use crate::style::{self, paint};

/// The report as text.
pub fn lint(report: &LintReport, opts: Options) -> String {
    let mut out = String::new();
    for f in &report.findings {
        headline(&mut out, &f.finding);
        if let Some(at) = &f.at {
            snippet(&mut out, at, style::severity(f.finding.severity));
        }
        for e in &f.finding.evidence {
            for (j, line) in wrap(e, opts.width.saturating_sub(10)).iter().enumerate() {
                let head = if j == 0 { "= note:" } else { "       " };
                let _ = writeln!(out, "   {} {line}", paint(style::DIM, head));
            }
        }
        for also in &f.also {
            let _ = writeln!(
                out,
                "   {} {}:{}:{}: {}",
                paint(style::DIM, "= see:"),
                also.file,
                also.line,
                also.column,
                also.quote.trim()
            );
        }
        help(
            &mut out,
            &f.finding.fix,
            "   ",
            opts.width.saturating_sub(12),
        );
        out.push('\n');
    }
    for n in report.notes.iter().take(3) {
        let _ = writeln!(
            out,
            "{}{} {}: {}",
            paint(style::DIM, "note"),
            paint(style::BOLD, ":"),
            n.file,
            n.problem
        );
    }
    if report.notes.len() > 3 {
        let _ = writeln!(
            out,
            "{}{} {} more like these (--json lists them)",
            paint(style::DIM, "note"),
            paint(style::BOLD, ":"),
            report.notes.len() - 3
        );
    }
    for p in &report.problems {
        let _ = writeln!(
            out,
            "{}{} {}: {}",
            paint(style::severity(Severity::Error), "error"),
            paint(style::BOLD, ":"),
            p.file,
            p.problem
        );
    }
    let count = |s: Severity| {
        report
            .findings
            .iter()
            .filter(|f| f.finding.severity == s)
            .count()
    };
    let _ = writeln!(
        out,
        "{} error(s), {} warning(s), {} note(s) in {} file(s){}",
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        report.files.len(),
        if report.problems.is_empty() {
            String::new()
        } else {
            format!("; {} input(s) could not be read", report.problems.len())
        }
    );
    out
}

/// ` --> file:line:col`, the line, and a caret under the word at the column.
fn snippet(out: &mut String, at: &Location, color: anstyle::Style) {
    let num = at.line.to_string();
    let pad = " ".repeat(num.len());
    let _ = writeln!(
        out,
        "{pad}{} {}:{}:{}",
        paint(style::ACCENT, "-->"),
        at.file,
        at.line,
        at.column
    );
    let _ = writeln!(out, "{pad} {}", paint(style::ACCENT, "|"));
    let quote = at.quote.replace('\t', " ");
    let _ = writeln!(
        out,
        "{} {} {quote}",
        paint(style::ACCENT, &num),
        paint(style::ACCENT, "|")
    );
    let start = at.column.saturating_sub(1);
    let width = quote
        .chars()
        .skip(start)
        .take_while(|c| !c.is_whitespace() && *c != ';')
        .count()
        .max(1);
    let _ = writeln!(
        out,
        "{pad} {} {}{}",
        paint(style::ACCENT, "|"),
        " ".repeat(start),
        paint(color, &"^".repeat(width))
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_lint::{Input, lint as run};

    #[test]
    fn points_at_the_line_like_a_compiler() {
        let r = run(&[Input::text(
            "site.conf",
            "server {\n    listen 443 ssl;\n    add_header WWW-Authenticate Basic;\n}\n",
        )]);
        let out = crate::findings::tests::strip(&lint(&r, Options::default()));
        assert!(
            out.starts_with(
                "error[nginx-auth-header-not-always]: add_header WWW-Authenticate without `always`"
            ),
            "{out}"
        );
        assert!(out.contains(" --> site.conf:3:5\n  |\n3 |     add_header WWW-Authenticate Basic;\n  |     ^^^^^^^^^^\n"), "{out}");
        assert!(
            out.contains("1 error(s), 0 warning(s), 0 note(s) in 1 file(s)"),
            "{out}"
        );
    }
}
