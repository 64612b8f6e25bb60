//! `why401 explain`.

use std::process::ExitCode;

use anyhow::Result;
use serde_json::json;
use why401_catalogue::{LookupError, catalogue, lookup};

use super::exit;
use crate::cli::ExplainArgs;
use crate::output;

pub(super) fn run(args: ExplainArgs) -> Result<ExitCode> {
    if args.list {
        if args.json {
            let cat = catalogue();
            output::json(&json!({"version": 1, "findings": cat.findings, "codes": cat.codes}))?;
        } else {
            output::print(&why401_render::list())?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let query = args.query.join(" ");
    match lookup(&query) {
        Ok(found) => {
            if args.json {
                output::json(&json!({"version": 1, "query": query, "result": found}))?;
            } else {
                output::print(&why401_render::explain(&found, output::options()))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let suggestions = match &e {
                LookupError::Unknown { suggestions, .. } => suggestions.clone(),
                LookupError::Empty => Vec::new(),
            };
            if args.json {
                output::json(
                    &json!({"version": 1, "query": query, "error": e.to_string(), "suggestions": suggestions}),
                )?;
            } else {
                // One write: eprintln! would panic on a closed stderr.
                let mut text = e.to_string();
                if !suggestions.is_empty() {
                    text += &format!("\n  did you mean: {}", suggestions.join(", "));
                }
                text += "\n  `why401 explain --list` lists everything why401 knows";
                output::error(&text)?;
            }
            Ok(ExitCode::from(exit::USAGE))
        }
    }
}
