//! `why401 lint`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use why401_doctor::Severity;
use why401_lint::{Input, lint_with};

use crate::cli::LintArgs;
use crate::output;

pub(super) fn run(args: LintArgs) -> Result<ExitCode> {
    let min = match args.severity.to_ascii_lowercase().as_str() {
        "error" => Severity::Error,
        "warning" => Severity::Warning,
        "info" | "note" => Severity::Info,
        other => bail!("--severity {other:?}: error, warning or info"),
    };
    let mut inputs = Vec::new();
    for name in &args.inputs {
        if name == "-" {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context(
                "reading stdin (lint reads text: a configuration, a dump, a password file)",
            )?;
            inputs.push(Input::text("-", text));
        } else {
            inputs.push(Input::path(name.clone()));
        }
    }
    let opts = why401_lint::Options {
        iis_scope: args.path.clone().or(args.site.clone()),
    };
    let mut report = lint_with(&inputs, &opts);
    report.keep_at_least(min);
    let code = report.exit_code();
    if args.sarif {
        output::json(&why401_lint::sarif::to_sarif(
            &report,
            env!("CARGO_PKG_VERSION"),
        ))?;
    } else if args.json {
        let outcome = match code {
            0 => "ok",
            1 => "problem",
            _ => "error",
        };
        // Serialized straight from the report: a dump's thousands of findings are not copied into
        // a JSON value first.
        #[derive(serde::Serialize)]
        struct Out<'a> {
            version: u8,
            outcome: &'a str,
            files: &'a [why401_lint::FileRead],
            findings: &'a [why401_lint::LintFinding],
            problems: &'a [why401_lint::InputProblem],
            notes: &'a [why401_lint::InputProblem],
        }
        output::json(&Out {
            version: 1,
            outcome,
            files: &report.files,
            findings: &report.findings,
            problems: &report.problems,
            notes: &report.notes,
        })?;
    } else {
        output::print(&why401_render::lint(&report, output::options()))?;
    }
    // The process ends here: freeing a large dump's findings one by one would only cost time.
    std::mem::forget(report);
    Ok(ExitCode::from(code))
}
