//! `why401 logs`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use std::path::Path;
use why401_doctor::Severity;
use why401_doctor::logs::Thresholds;

use why401_evidence::events::EventSummary;
use why401_evidence::logs::LogSummary;
use why401_logs::{Caps, Input, Options, Window, analyze};

use super::exit;
use crate::cli::LogsArgs;
use crate::output;

pub(super) fn run(args: LogsArgs) -> Result<ExitCode> {
    let given: Vec<Input> = if args.inputs.is_empty() {
        vec![Input::Stdin]
    } else {
        args.inputs.iter().map(|p| Input::Path(p.clone())).collect()
    };
    // Event logs go to their own reader; everything else is an access or error log.
    let expanded = why401_logs::analyze::expand(&given)?;
    let (events, inputs): (Vec<Input>, Vec<Input>) = expanded
        .files
        .into_iter()
        .partition(|i| matches!(i, Input::Path(p) if why401_events::is_event_log(Path::new(p))));
    if args.follow && inputs.contains(&Input::Stdin) {
        bail!("--follow needs files, not stdin");
    }
    if args.follow && !events.is_empty() {
        bail!("--follow reads access logs as they grow; give event logs without it");
    }
    if args.match_window < 0 {
        bail!("--match-window must be 0 seconds or more");
    }
    let since = args.since.as_deref().map(parse_time).transpose()?;
    let until = args.until.as_deref().map(parse_time).transpose()?;
    let opts = Options {
        format: args.format.clone(),
        fields: args.fields.clone(),
        w3c_fields: args.w3c_fields.clone(),
        window: Window { since, until },
        chunk_size: args.chunk_size,
        caps: Caps {
            // Every logon failure line is kept for the join when there are events to join.
            logons: if events.is_empty() { 0 } else { 4_000_000 },
            ..Caps::default()
        },
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
    let total: u64 = inputs
        .iter()
        .chain(&events)
        .filter_map(|i| match i {
            Input::Path(p) => std::fs::metadata(p).ok(),
            Input::Stdin => None,
        })
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
    let mut pass = if inputs.is_empty() {
        None
    } else {
        Some(analyze(&inputs, &opts, &progress)?)
    };
    if events.is_empty() {
        let Some(mut pass) = pass.take() else {
            bail!("no input");
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if !args.follow {
            let mut summary = pass.into_summary();
            summary.unreadable.extend(expanded.unreadable);
            warn_input_problems(&summary)?;
            return report(Some(&summary), None, &thresholds, &args);
        }
        let summary = pass.summary();
        warn_input_problems(&summary)?;
        report(Some(&summary), None, &thresholds, &args)?;
        loop {
            std::thread::sleep(Duration::from_secs(2));
            if pass.poll(&opts)? {
                if std::io::stdout().is_terminal() {
                    output::print("\x1b[2J\x1b[H")?;
                } else {
                    output::print("\n---\n")?;
                }
                report(Some(&pass.summary()), None, &thresholds, &args)?;
            }
        }
    }
    let (access, dropped) = pass
        .as_ref()
        .map(|p| p.logon_failures())
        .unwrap_or_default();
    let summary = pass.map(|p| {
        let mut s = p.into_summary();
        s.unreadable.extend(expanded.unreadable.iter().cloned());
        s
    });
    let mut ev_pass = why401_events::Pass::new(why401_events::Options {
        filter: why401_events::Filter {
            since,
            until,
            user: args.user.clone(),
            ip: args.ip.clone(),
        },
        threads: 0,
        window_secs: args.match_window,
    });
    for e in &events {
        if let Input::Path(p) = e {
            ev_pass
                .read_path(Path::new(p), p)
                .map_err(|e| anyhow::anyhow!(e))?;
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // The events on the access logs' time axis, so that both share the chart.
    let axis = summary.as_ref().and_then(|s| {
        (!s.series.requests.is_empty()).then_some((
            s.series.start,
            s.series.bucket_secs,
            s.series.requests.len(),
        ))
    });
    let ev = ev_pass.finish(&access, axis);
    if dropped > 0 {
        output::warning(&format!(
            "{dropped} logon-failure lines past the first {} were not joined with events",
            access.len()
        ))?;
    }
    if let Some(s) = &summary {
        warn_input_problems(s)?;
    } else {
        for u in &expanded.unreadable {
            output::warning(&format!("{}: not read: {}", u.path, u.error))?;
        }
    }
    report(summary.as_ref(), Some(&ev), &thresholds, &args)
}

fn report(
    summary: Option<&LogSummary>,
    events: Option<&EventSummary>,
    thresholds: &Thresholds,
    args: &LogsArgs,
) -> Result<ExitCode> {
    let findings = match events {
        Some(ev) => why401_doctor::events::diagnose(ev, summary, thresholds),
        None => why401_doctor::logs::diagnose(summary.expect("logs or events"), thresholds),
    };
    let empty = LogSummary::default();
    if let Some(path) = &args.html {
        std::fs::write(
            path,
            why401_render::logs_html(summary.unwrap_or(&empty), events, &findings),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        #[derive(serde::Serialize)]
        struct Doc<'a> {
            version: u32,
            summary: Option<&'a LogSummary>,
            #[serde(skip_serializing_if = "Option::is_none")]
            events: Option<&'a EventSummary>,
            findings: &'a [why401_doctor::Finding],
            thresholds: &'a Thresholds,
        }
        output::json(&Doc {
            version: 1,
            summary,
            events,
            findings: &findings,
            thresholds,
        })?;
    } else {
        let opts = output::options();
        let text = match (summary, events) {
            (Some(s), None) => why401_render::logs(s, &findings, opts),
            (Some(s), Some(ev)) => {
                why401_render::logs(s, &findings, opts)
                    + "\n"
                    + &why401_render::events(ev, None, opts)
            }
            (None, Some(ev)) => why401_render::events(ev, Some(&findings), opts),
            (None, None) => String::new(),
        };
        output::print(&text)?;
    }
    // Input not read in full (or an entry of a directory not read) makes every count a lower
    // bound: neither "nothing wrong" (0) nor "this is what happened" (1) holds, so it is
    // unreadable input (2), whatever was found in what was read (as `decode` does with input
    // it cannot read). So is an event log with chunks or records that could not be read.
    let unreadable = summary.is_some_and(|s| s.requests == 0 && s.unparsed > 0 || input_problem(s))
        || events.is_some_and(|e| e.unreadable > 0);
    if unreadable {
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
