//! One module per command; each returns the process exit status.

mod decode;
mod explain;
mod gate;
mod har;
mod lab;
mod lint;
mod logs;
mod probe;

use std::process::ExitCode;

use anyhow::Result;

use crate::cli::{Cli, Command, command};
use crate::output;

/// Exit statuses of the output contract.
pub(crate) mod exit {
    /// Access granted, or nothing wrong in the input.
    pub(crate) const OK: u8 = 0;
    /// An auth problem was diagnosed.
    pub(crate) const PROBLEM: u8 = 1;
    /// Bad usage or unreadable input.
    pub(crate) const USAGE: u8 = 2;
}

/// Runs the parsed command line.
pub(crate) fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Probe(args) => probe::run_probe(args),
        Command::Curl(args) => probe::run_curl(args),
        Command::Logs(args) => logs::run(args),
        Command::Lint(args) => lint::run(args),
        Command::Har(args) => har::run(args),
        Command::Lab(args) => lab::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Gate(args) => gate::run(args),
        // Both render into memory first: clap_complete panics when its writer fails.
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut command(), "why401", &mut script);
            output::raw(&script)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command()).render(&mut page)?;
            output::raw(&page)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
