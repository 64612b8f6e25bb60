//! `why401 decode`.

use std::io::Read;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use serde_json::json;
use why401_doctor::Severity;
use why401_doctor::decode::{Context, Expectations, decode_text};

use super::exit;
use crate::cli::DecodeArgs;
use crate::output;

pub fn run(args: DecodeArgs) -> Result<ExitCode> {
    let text = if args.input.is_empty() || args.input == ["-"] {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading stdin")?;
        s
    } else {
        args.input.join(" ")
    };
    if text.trim().is_empty() {
        bail!("nothing to decode: give a header line or token, or pipe them on stdin");
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
    let decoded = decode_text(&text, &ctx);
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
