//! `decode` output: every item as a field table, nested items indented.

use std::fmt::Write;

use why401_doctor::decode::{Decoded, Item};

use crate::Options;
use crate::style::{self, paint};

/// Renders decoded items, then the findings.
pub fn decoded(d: &Decoded, opts: Options) -> String {
    let mut out = String::new();
    for item in &d.items {
        render_item(&mut out, item, 0, opts);
        out.push('\n');
    }
    for e in &d.errors {
        let _ = writeln!(
            out,
            "{}: {e}\n",
            paint(style::severity(why401_doctor::Severity::Error), "error")
        );
    }
    if d.findings.is_empty() && !d.items.is_empty() {
        let _ = writeln!(
            out,
            "{} nothing wrong found in what was decoded",
            paint(style::HELP, "ok:")
        );
    } else {
        out.push_str(&crate::findings(&d.findings, false, opts));
    }
    out
}

fn render_item(out: &mut String, item: &Item, depth: usize, opts: Options) {
    let pad = "  ".repeat(depth);
    let _ = writeln!(
        out,
        "{pad}{} {}",
        paint(style::BOLD, &item.what),
        paint(style::DIM, &shorten(&item.input, 80))
    );
    let name_w = item
        .fields
        .iter()
        .map(|f| f.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(24);
    for f in &item.fields {
        let _ = write!(out, "{pad}  {:<name_w$}  {}", f.name, f.value);
        if let Some(n) = &f.note
            && !n.is_empty()
        {
            let used = pad.len() + 2 + name_w + 2 + f.value.chars().count();
            if used + n.chars().count() + 3 > opts.width {
                let _ = write!(
                    out,
                    "\n{pad}  {:<name_w$}  {}",
                    "",
                    paint(style::NOTE, &format!("↳ {n}"))
                );
            } else {
                let _ = write!(out, "  {}", paint(style::NOTE, &format!("— {n}")));
            }
        }
        out.push('\n');
    }
    for child in &item.children {
        render_item(out, child, depth + 1, opts);
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() > max {
        format!("{}…", s.chars().take(max).collect::<String>())
    } else {
        s.to_string()
    }
}
