//! `why401 logs`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use why401_doctor::Severity;
use why401_doctor::logs::Thresholds;
use why401_logs::{Input, Options, Window, analyze};

use super::exit;
use crate::cli::LogsArgs;
use crate::output;

pub(super) fn run(args: LogsArgs) -> Result<ExitCode> {
    let inputs: Vec<Input> = if args.inputs.is_empty() {
        vec![Input::Stdin]
    } else {
        args.inputs.iter().map(|p| Input::Path(p.clone())).collect()
    };
    if args.follow && inputs.contains(&Input::Stdin) {
        bail!("--follow needs files, not stdin");
    }
    let opts = Options {
        format: args.format.clone(),
        fields: args.fields.clone(),
        w3c_fields: args.w3c_fields.clone(),
        window: Window {
            since: args.since.as_deref().map(parse_time).transpose()?,
            until: args.until.as_deref().map(parse_time).transpose()?,
        },
        chunk_size: args.chunk_size,
        ..Options::default()
    };
    let thresholds = Thresholds {
        brute_force: args.brute_force,
        brute_force_rate: args.brute_force_rate,
        spray_users: args.spray_users,
        stuffing_sources: args.stuffing_sources,
        stuffing_users: args.stuffing_users,
        stuck_hours: args.stuck_hours,
        regression_factor: args.regression_factor,
    };
    let total: u64 = args
        .inputs
        .iter()
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    let bar = (std::io::stderr().is_terminal() && total > 64 << 20).then(|| {
        let b = indicatif::ProgressBar::new(total);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bar:40} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let mut pass = analyze(&inputs, &opts, &progress)?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if !args.follow {
        let summary = pass.into_summary();
        warn_input_problems(&summary)?;
        return report(&summary, &thresholds, &args);
    }
    let summary = pass.summary();
    warn_input_problems(&summary)?;
    let code = report(&summary, &thresholds, &args)?;
    if args.follow {
        loop {
            std::thread::sleep(Duration::from_secs(2));
            if pass.poll(&opts)? {
                if std::io::stdout().is_terminal() {
                    output::print("\x1b[2J\x1b[H")?;
                } else {
                    output::print("\n---\n")?;
                }
                report(&pass.summary(), &thresholds, &args)?;
            }
        }
    }
    Ok(code)
}

fn report(
    summary: &why401_evidence::logs::LogSummary,
    thresholds: &Thresholds,
    args: &LogsArgs,
) -> Result<ExitCode> {
    let findings = why401_doctor::logs::diagnose(summary, thresholds);
    if let Some(path) = &args.html {
        std::fs::write(path, why401_render::logs_html(summary, &findings))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            version: u32,
            summary: &'a why401_evidence::logs::LogSummary,
            findings: &'a [why401_doctor::Finding],
            thresholds: &'a Thresholds,
        }
        output::json(&Doc {
            version: 1,
            summary,
            findings: &findings,
            thresholds,
        })?;
    } else {
        output::print(&why401_render::logs(summary, &findings, output::options()))?;
    }
    // Input not read in full (or an entry of a directory not read) makes every count a lower
    // bound: neither "nothing wrong" (0) nor "this is what happened" (1) holds, so it is
    // unreadable input (2), whatever was found in what was read (as `decode` does with input
    // it cannot read).
    if summary.requests == 0 && summary.unparsed > 0 || input_problem(summary) {
        return Ok(ExitCode::from(exit::USAGE));
    }
    let problem = findings
        .iter()
        .any(|f| f.severity != Severity::Info && f.id != "unparsed-lines");
    Ok(ExitCode::from(if problem {
        exit::PROBLEM
    } else {
        exit::OK
    }))
}

/// Whether some input was not read in full, or some entry of a directory given not at all.
fn input_problem(summary: &why401_evidence::logs::LogSummary) -> bool {
    summary.inputs.iter().any(|i| i.ended_early.is_some()) || !summary.unreadable.is_empty()
}

/// Says on stderr which inputs were not read in full, and how far they were read, and which
/// entries of the directories given were not read at all.
fn warn_input_problems(summary: &why401_evidence::logs::LogSummary) -> Result<()> {
    for u in &summary.unreadable {
        output::warning(&format!("{}: not read: {}", u.path, u.error))?;
    }
    for i in &summary.inputs {
        if let Some(why) = &i.ended_early {
            output::warning(&format!(
                "{}: ended early, after {} lines ({} bytes of log text): {why}; only those lines are counted",
                i.path, i.lines, i.bytes
            ))?;
        }
    }
    Ok(())
}

/// RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD hh:mm[:ss]` (UTC), or Unix seconds.
fn parse_time(s: &str) -> Result<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let b = s.trim().as_bytes();
    if let Some(t) = why401_logs::time::rfc3339(b) {
        return Ok(t);
    }
    if b.len() >= 10
        && let Some(day) = why401_logs::time::iso_date(&b[..10])
    {
        let clock = match &b[10..] {
            [] => 0,
            [b' ' | b'T', rest @ ..] if rest.len() == 5 => {
                why401_logs::time::clock(&[rest, b":00"].concat()).unwrap_or(0)
            }
            [b' ' | b'T', rest @ ..] => {
                why401_logs::time::clock(rest).context("the time of day is not hh:mm[:ss]")?
            }
            _ => bail!("{s:?}: not a time"),
        };
        return Ok(day * 86_400 + clock);
    }
    bail!("{s:?}: give RFC 3339, YYYY-MM-DD[ hh:mm[:ss]] (UTC) or Unix seconds")
}
