//! Findings in the shape of rustc diagnostics.

use std::fmt::Write;

use why401_doctor::Finding;

use crate::Options;
use crate::style::{self, paint};

/// Renders ranked findings; the first is marked as the most likely root cause when
/// `root_cause` is set.
pub fn findings(list: &[Finding], root_cause: bool, opts: Options) -> String {
    let mut out = String::new();
    for (i, f) in list.iter().enumerate() {
        headline(&mut out, f);
        if i == 0 && root_cause && list.len() > 1 {
            let _ = writeln!(
                out,
                "  {} most likely root cause (confidence {:.0}%)",
                paint(style::DIM, "="),
                f.confidence * 100.0
            );
        }
        for e in &f.evidence {
            for (j, line) in wrap(e, opts.width.saturating_sub(4)).iter().enumerate() {
                let bar = if j == 0 { "|" } else { " " };
                let _ = writeln!(out, "  {} {line}", paint(style::ACCENT, bar));
            }
        }
        help(&mut out, &f.fix, "  ", opts.width.saturating_sub(10));
        out.push('\n');
    }
    out
}

/// `error[id]: title`, the first line of a finding wherever it is shown.
pub(crate) fn headline(out: &mut String, f: &Finding) {
    let label = style::severity_label(f.severity);
    let _ = writeln!(
        out,
        "{}{} {}",
        paint(style::severity(f.severity), &format!("{label}[{}]", f.id)),
        paint(style::BOLD, ":"),
        paint(style::BOLD, &f.title)
    );
}

/// The fix steps as `= help:` lines (numbered when there are several), wrapped at `width`.
pub(crate) fn help(out: &mut String, fix: &[String], indent: &str, width: usize) {
    for (n, step) in fix.iter().enumerate() {
        let prefix = if fix.len() > 1 {
            format!("{}. ", n + 1)
        } else {
            String::new()
        };
        for (j, line) in wrap(&format!("{prefix}{step}"), width).iter().enumerate() {
            if j == 0 {
                let _ = writeln!(out, "{indent}{} {line}", paint(style::HELP, "= help:"));
            } else {
                let _ = writeln!(out, "{indent}        {line}");
            }
        }
    }
}

pub(crate) fn wrap(text: &str, width: usize) -> Vec<String> {
    textwrap::wrap(text, width.max(20))
        .into_iter()
        .map(|c| c.into_owned())
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use why401_doctor::FindingId;

    #[test]
    fn shape() {
        let f = vec![
            Finding::new(FindingId::TOKEN_EXPIRED)
                .title("the token expired 3h ago")
                .evidence("exp = 1")
                .confidence(0.9),
            Finding::new(FindingId::BASIC_OVER_HTTP),
        ];
        let out = findings(&f, true, Options::default());
        let plain = strip(&out);
        assert!(plain.starts_with("error[token-expired]: the token expired 3h ago\n  = most likely root cause (confidence 90%)\n  | exp = 1\n  = help: 1. "), "{plain}");
        assert!(plain.contains("[basic-over-http]"));
    }

    pub(crate) fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\u{1b}' {
                for c in chars.by_ref() {
                    if c == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }
}
