//! `why401 lab`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::json;

use super::exit;
use crate::cli::LabArgs;
use crate::output;

pub(super) fn run(args: LabArgs) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let (lab, results) = why401_lab::run()
            .await
            .context("starting the lab servers on loopback")?;
        let all_ok = results.iter().all(|r| r.ok);
        if args.json {
            output::json(&json!({"version": 1, "scenarios": results, "ok": all_ok}))?;
        } else {
            output::print(&table(&results))?;
        }
        if args.serve {
            let mut text = String::from("\nThe lab is running (Ctrl-C to stop). Try:\n");
            for (name, title, cmd) in why401_lab::commands(&lab) {
                let _ = writeln!(text, "\n  # {name}: {title}\n  {cmd}");
            }
            output::print(&text)?;
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
        }
        Ok(ExitCode::from(if all_ok {
            exit::OK
        } else {
            exit::PROBLEM
        }))
    })
}

fn table(results: &[why401_lab::Outcome]) -> String {
    let ok = anstyle::AnsiColor::Green.on_default().bold();
    let bad = anstyle::AnsiColor::Red.on_default().bold();
    let mut out = format!(
        "{:<26} {:<54} {:<28} {:<28}\n",
        "scenario", "what", "expected", "found"
    );
    for r in results {
        let mark = if r.ok {
            format!("{ok}✓{ok:#}")
        } else {
            format!("{bad}✗{bad:#}")
        };
        let _ = writeln!(
            out,
            "{:<26} {:<54} {:<28} {:<28} {mark}",
            r.scenario,
            r.title,
            r.expected,
            r.found.as_deref().unwrap_or("(nothing)")
        );
    }
    let passed = results.iter().filter(|r| r.ok).count();
    let _ = writeln!(
        out,
        "\n{passed}/{} scenarios diagnosed as expected",
        results.len()
    );
    for r in results.iter().filter(|r| !r.ok) {
        let _ = writeln!(
            out,
            "\n{}: found {:?}",
            r.scenario,
            r.diagnosis
                .findings
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
        );
    }
    out
}
