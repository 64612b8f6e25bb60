//! `why401 gate`: the gateway's tools.

use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use why401_gate::check::Check;
use why401_gate::{Config, Identity, Request};

use super::exit;
use crate::cli::{GateArgs, GateCheckArgs, GateCommand};
use crate::output;

pub(crate) fn run(args: GateArgs) -> Result<ExitCode> {
    match args.command {
        GateCommand::Check(a) => check(a),
    }
}

/// The configuration named, or the embedded demo; errors printed as a compiler prints them.
fn config(path: Option<&std::path::Path>) -> Result<Result<Config, ExitCode>> {
    let Some(path) = path else {
        return Ok(Ok(Config::demo()));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    match Config::parse(&text, &path.display().to_string()) {
        Ok(c) => Ok(Ok(c)),
        Err(errors) => {
            for e in &errors {
                output::error(&e.to_string())?;
            }
            output::error(&format!(
                "{}: {} error{}: the gateway would refuse to start",
                path.display(),
                errors.len(),
                if errors.len() == 1 { "" } else { "s" }
            ))?;
            Ok(Err(ExitCode::from(exit::USAGE)))
        }
    }
}

fn check(a: GateCheckArgs) -> Result<ExitCode> {
    let config = match config(a.config.as_deref())? {
        Ok(c) => c,
        Err(code) => return Ok(code),
    };
    let url = url::Url::parse(&a.url).with_context(|| format!("--url {:?}", a.url))?;
    let host = url
        .host_str()
        .ok_or_else(|| anyhow!("--url {:?} has no host", a.url))?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let at = match &a.at {
        Some(t) => t.parse::<jiff::Timestamp>().with_context(|| {
            format!("--at {t:?}: write RFC 3339, e.g. 2026-12-07T09:30:00+01:00")
        })?,
        None => jiff::Timestamp::now(),
    };
    let who = a.user.map(|user| Identity {
        user,
        groups: a.groups,
    });
    let method = a.method.to_ascii_uppercase();
    let request = Request {
        host: &host,
        path: url.path(),
        method: &method,
        ip: a.ip,
        at,
        who: who.as_ref(),
    };
    let decision = config.policy.decide(&request);
    let report = Check::new(&config.file, &config.policy, &request, &decision);
    if a.json {
        output::json(&report)?;
    } else {
        output::print(&format!("{report}\n"))?;
    }
    Ok(ExitCode::from(if report.passes {
        exit::OK
    } else {
        exit::PROBLEM
    }))
}
