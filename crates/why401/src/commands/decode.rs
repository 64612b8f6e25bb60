//! `why401 decode`.

use std::ffi::OsString;
use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use why401_doctor::Severity;
use why401_doctor::decode::{Context, Expectations, decode_bytes};

use super::exit;
use crate::cli::DecodeArgs;
use crate::output;

pub(super) fn run(args: DecodeArgs) -> Result<ExitCode> {
    let name = match args.input.as_slice() {
        [one] if one != "-" => one.to_string_lossy().into_owned(),
        _ => "(stdin)".to_string(),
    };
    // Bytes, not text: the doctor reads what is not UTF-8 as ISO-8859-1 and says where.
    let input = if args.input.is_empty() || (args.input.len() == 1 && args.input[0] == "-") {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .context("reading stdin")?;
        b
    } else if let [one] = args.input.as_slice()
        && std::path::Path::new(one).is_file()
    {
        // A file: a keytab, or a file of header lines.
        std::fs::read(one).with_context(|| format!("reading {}", one.to_string_lossy()))?
    } else {
        let words = args
            .input
            .into_iter()
            .map(arg_bytes)
            .collect::<Result<Vec<_>>>()?;
        words.join(&b' ')
    };
    if input.trim_ascii().is_empty() {
        bail!("nothing to decode: give a header line or token, or pipe them on stdin");
    }
    // An IIS Failed Request Tracing file: read by the events source, judged by its rules.
    if why401_events::freb::is_trace(&input) {
        return trace(&input, &name, args.json);
    }
    let ctx = Context {
        now: match &args.at {
            Some(at) => parse_time(at)?,
            None => now(),
        },
        leeway: args.leeway,
        show_secrets: args.show_secrets,
        expect: Expectations {
            audience: args.expect_audience,
            issuer: args.expect_issuer,
            scopes: args
                .expect_scope
                .iter()
                .flat_map(|s| s.split_whitespace())
                .map(String::from)
                .collect(),
        },
    };
    let decoded = decode_bytes(&input, &ctx);
    let problem = decoded
        .findings
        .iter()
        .any(|f| f.severity != Severity::Info);
    let code = if !decoded.errors.is_empty() {
        exit::USAGE
    } else if problem {
        exit::PROBLEM
    } else {
        exit::OK
    };
    if args.json {
        let outcome = match code {
            exit::OK => "ok",
            exit::PROBLEM => "problem",
            _ => "error",
        };
        output::json(&json!({
            "version": 1,
            "outcome": outcome,
            "items": decoded.items,
            "findings": decoded.findings,
            "errors": decoded.errors,
        }))?;
    } else {
        output::print(&why401_render::decoded(&decoded, output::options()))?;
    }
    Ok(ExitCode::from(code))
}

/// `why401 decode fr000001.xml`: the trace's finding, and its request, module and events.
fn trace(input: &[u8], name: &str, json_out: bool) -> Result<ExitCode> {
    let text = std::str::from_utf8(input).context("the trace is not UTF-8 text")?;
    let t = why401_events::freb::read(text, name).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let summary = why401_events::freb::summarize(vec![t], vec![]);
    let findings = why401_doctor::freb::diagnose(&summary);
    if json_out {
        output::json(&json!({
            "version": 1,
            "outcome": if findings.is_empty() { "ok" } else { "problem" },
            "trace": summary.examples.first(),
            "findings": findings,
        }))?;
    } else {
        output::print(&why401_render::freb(
            &summary,
            Some(&findings),
            output::options(),
        ))?;
    }
    Ok(ExitCode::from(
        if findings.iter().any(|f| f.severity != Severity::Info) {
            exit::PROBLEM
        } else {
            exit::OK
        },
    ))
}

/// An argument's bytes as the shell passed them.
#[cfg(unix)]
fn arg_bytes(arg: OsString) -> Result<Vec<u8>> {
    Ok(std::os::unix::ffi::OsStringExt::into_vec(arg))
}

/// Windows passes UTF-16: only unpaired surrogates are not text, and those are refused rather
/// than replaced.
#[cfg(not(unix))]
fn arg_bytes(arg: OsString) -> Result<Vec<u8>> {
    arg.into_string()
        .map(String::into_bytes)
        .map_err(|a| anyhow::anyhow!("the argument {a:?} is not valid Unicode"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn parse_time(s: &str) -> Result<i64> {
    if let Ok(n) = s.parse::<i64>() {
        return Ok(n);
    }
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .with_context(|| {
            format!("--at {s:?}: give Unix seconds or an RFC 3339 time like 2026-11-26T10:00:00Z")
        })?;
    Ok(t.unix_timestamp())
}
