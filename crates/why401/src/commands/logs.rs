//! `why401 logs`.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use std::path::Path;
use why401_doctor::Severity;
use why401_doctor::logs::Thresholds;

use why401_evidence::events::EventSummary;
use why401_evidence::freb::FrebSummary;
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
    // IIS Failed Request Tracing files (their folder's freb.xsl is left alone) and event logs
    // go to their own readers; everything else is an access or error log.
    let mut traces = Vec::new();
    let mut events = Vec::new();
    let mut inputs = Vec::new();
    for i in expanded.files {
        match &i {
            Input::Path(p) if p.to_ascii_lowercase().ends_with("freb.xsl") => {}
            Input::Path(p) => match kind(Path::new(p)) {
                Kind::Trace => traces.push(p.clone()),
                Kind::Events => events.push(i),
                Kind::Log => inputs.push(i),
            },
            Input::Stdin => inputs.push(i),
        }
    }
    if args.follow && inputs.contains(&Input::Stdin) {
        bail!("--follow needs files, not stdin");
    }
    if args.follow && !(events.is_empty() && traces.is_empty()) {
        bail!("--follow reads access logs as they grow; give event logs and traces without it");
    }
    let freb = (!traces.is_empty()).then(|| read_traces(&traces));
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
    if events.is_empty() && (freb.is_none() || pass.is_none()) {
        let Some(mut pass) = pass.take() else {
            let sources = Sources {
                freb: freb.as_ref(),
                ..Sources::default()
            };
            if freb.is_none() {
                bail!("no input");
            }
            return report(&sources, &thresholds, &args);
        };
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        if !args.follow {
            let mut summary = pass.into_summary();
            summary.unreadable.extend(expanded.unreadable);
            warn_input_problems(&summary)?;
            let sources = Sources {
                logs: Some(&summary),
                ..Sources::default()
            };
            return report(&sources, &thresholds, &args);
        }
        let summary = pass.summary();
        warn_input_problems(&summary)?;
        let sources = Sources {
            logs: Some(&summary),
            ..Sources::default()
        };
        report(&sources, &thresholds, &args)?;
        loop {
            std::thread::sleep(Duration::from_secs(2));
            if pass.poll(&opts)? {
                if std::io::stdout().is_terminal() {
                    output::print("\x1b[2J\x1b[H")?;
                } else {
                    output::print("\n---\n")?;
                }
                let summary = pass.summary();
                let sources = Sources {
                    logs: Some(&summary),
                    ..Sources::default()
                };
                report(&sources, &thresholds, &args)?;
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
    let ev = (!events.is_empty()).then(|| ev_pass.finish(&access, axis));
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
    let sources = Sources {
        logs: summary.as_ref(),
        events: ev.as_ref(),
        freb: freb.as_ref(),
    };
    report(&sources, &thresholds, &args)
}

/// What one run read.
#[derive(Default)]
struct Sources<'a> {
    logs: Option<&'a LogSummary>,
    events: Option<&'a EventSummary>,
    freb: Option<&'a FrebSummary>,
}

/// What a file is, by its first bytes (read once).
enum Kind {
    /// An IIS Failed Request Tracing file.
    Trace,
    /// A Windows event log.
    Events,
    /// An access or error log (the logs pass tells which, and refuses what is neither).
    Log,
}

fn kind(path: &Path) -> Kind {
    let mut head = [0u8; 1024];
    let n = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
        .unwrap_or(0);
    let head = &head[..n];
    if why401_events::freb::is_trace(head) {
        Kind::Trace
    } else if why401_events::sniff(head).is_some() {
        Kind::Events
    } else {
        Kind::Log
    }
}

/// Reads the traces; one that cannot be read is kept with why.
fn read_traces(paths: &[String]) -> FrebSummary {
    let mut traces = Vec::new();
    let mut bad = Vec::new();
    for p in paths {
        match std::fs::read(p)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_string()))
            .and_then(|t| why401_events::freb::read(&t, p))
        {
            Ok(t) => traces.push(t),
            Err(e) => bad.push((p.clone(), e)),
        }
    }
    why401_events::freb::summarize(traces, bad)
}

fn report(sources: &Sources, thresholds: &Thresholds, args: &LogsArgs) -> Result<ExitCode> {
    let (summary, events) = (sources.logs, sources.events);
    let mut findings = match (events, summary) {
        (Some(ev), _) => why401_doctor::events::diagnose(ev, summary, thresholds),
        (None, Some(s)) => why401_doctor::logs::diagnose(s, thresholds),
        (None, None) => Vec::new(),
    };
    if let Some(f) = sources.freb {
        findings.extend(why401_doctor::freb::diagnose(f));
        why401_doctor::rank(&mut findings);
    }
    let empty = LogSummary::default();
    if let Some(path) = &args.html {
        std::fs::write(
            path,
            why401_render::logs_html(summary.unwrap_or(&empty), events, sources.freb, &findings),
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
            #[serde(skip_serializing_if = "Option::is_none")]
            freb: Option<&'a FrebSummary>,
            findings: &'a [why401_doctor::Finding],
            thresholds: &'a Thresholds,
        }
        output::json(&Doc {
            version: 1,
            summary,
            events,
            freb: sources.freb,
            findings: &findings,
            thresholds,
        })?;
    } else {
        let opts = output::options();
        let mut text = match (summary, events, sources.freb) {
            (Some(s), _, _) => why401_render::logs(s, &findings, opts),
            (None, Some(ev), _) => why401_render::events(ev, Some(&findings), opts),
            (None, None, Some(f)) => why401_render::freb(f, Some(&findings), opts),
            (None, None, None) => String::new(),
        };
        if let (Some(_), Some(ev)) = (summary, events) {
            text = text + "\n" + &why401_render::events(ev, None, opts);
        }
        if let Some(f) = sources.freb
            && (summary.is_some() || events.is_some())
        {
            text = text + "\n" + &why401_render::freb(f, None, opts);
        }
        output::print(&text)?;
    }
    // Input not read in full (or an entry of a directory not read) makes every count a lower
    // bound: neither "nothing wrong" (0) nor "this is what happened" (1) holds, so it is
    // unreadable input (2), whatever was found in what was read (as `decode` does with input
    // it cannot read). So is an event log with chunks or records that could not be read.
    let unreadable = summary.is_some_and(|s| s.requests == 0 && s.unparsed > 0 || input_problem(s))
        || events.is_some_and(|e| e.unreadable > 0)
        || sources.freb.is_some_and(|f| !f.unreadable.is_empty());
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
