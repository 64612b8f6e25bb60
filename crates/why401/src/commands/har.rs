//! `why401 har`: browser captures (HAR, NetLog, SAZ) read as flows and diagnosed.

use std::collections::{BTreeMap, HashMap};
use std::process::ExitCode;

use anyhow::{Context as _, Result, bail};
use why401_capture::flow::{Flows, signature};
use why401_capture::{Kind, redact};
use why401_doctor::capture::{FlowDiagnosis, Memory, diagnose};
use why401_evidence::capture::{CaptureFlow, CaptureFormat, CaptureInfo, Trust};

use why401_render::Similar;

use crate::cli::HarArgs;
use crate::output;

/// Cases (failing flows of one signature) kept in detail at most; the rest are counted.
const KEEP_MAX: usize = 10_000;
/// Flow signatures remembered with their verdict at most.
const SEEN_MAX: usize = 200_000;

/// One case: the first flow of a signature, and the later flows just like it.
struct Group {
    flow: CaptureFlow,
    similar: Similar,
}

/// The verdict on a flow signature, kept so that flows just like it are not judged again.
struct Case {
    failed: bool,
    notable: bool,
    /// The first finding's id.
    top: Option<String>,
    /// Its group among those shown, once one is kept.
    group: Option<usize>,
}

pub(super) fn run(args: HarArgs) -> Result<ExitCode> {
    if let Some(out) = &args.redact_out {
        redact_copy(&args.input, out)?;
    }
    let head = sniff_path(&args.input)?;
    // While reading, flows are judged with what is known of the capture so far (its kind); the
    // ones kept are judged again once the whole capture is known (a sanitized export is only
    // recognised at its end).
    let provisional = match head {
        Kind::Har => CaptureInfo::new(CaptureFormat::Har, "", "", Trust::BrowserView),
        Kind::Netlog => CaptureInfo::new(CaptureFormat::Netlog, "", "", Trust::RawWire),
        Kind::Saz => CaptureInfo::new(CaptureFormat::Saz, "", "", Trust::RawWire),
    };
    let mut memory = Memory::default();
    let mut groups: Vec<Group> = Vec::new();
    // Each case (flow signature) is judged once.
    let mut seen: HashMap<u64, Case> = HashMap::new();
    let (mut flows, mut failed, mut not_kept) = (0usize, 0usize, 0usize);
    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    let url_filter = args.url.as_deref();
    let info = {
        let mut sink = Flows::new(|flow: CaptureFlow| {
            flows += 1;
            memory.observe(&flow);
            let asked = args.flow == Some(flow.index)
                || url_filter
                    .is_some_and(|p| flow.legs.iter().any(|l| l.exchange.request.url.contains(p)));
            let filtered = args.flow.is_some() || url_filter.is_some();
            // A flow asked for by number is shown as itself, never folded into its case.
            let sig = (args.flow != Some(flow.index)).then(|| signature(&flow));
            let mut fresh = None;
            let case: &mut Case = match sig.and_then(|s| seen.get_mut(&s)) {
                Some(c) => c,
                None => {
                    let d = diagnose(&provisional, &flow);
                    fresh.insert(Case {
                        failed: d.failed(),
                        notable: d.notable(),
                        top: d.findings.first().map(|f| f.id.clone()),
                        group: None,
                    })
                }
            };
            if case.failed {
                failed += 1;
                if let Some(top) = &case.top {
                    match reasons.get_mut(top) {
                        Some(n) => *n += 1,
                        None => {
                            reasons.insert(top.clone(), 1);
                        }
                    }
                }
            }
            let wanted = if filtered {
                asked && (case.notable || args.all || args.flow.is_some())
            } else {
                case.notable || args.all
            };
            if wanted {
                match case.group {
                    Some(g) => {
                        let similar = &mut groups[g].similar;
                        similar.count += 1;
                        if similar.flows.len() < 20 {
                            similar.flows.push(flow.index);
                        }
                    }
                    None if groups.len() < KEEP_MAX => {
                        groups.push(Group {
                            flow,
                            similar: Similar::default(),
                        });
                        case.group = Some(groups.len() - 1);
                    }
                    None => not_kept += 1,
                }
            }
            if let (Some(sig), Some(case)) = (sig, fresh)
                && seen.len() < SEEN_MAX
            {
                seen.insert(sig, case);
            }
        });
        let info = why401_capture::read_path(&args.input, &mut sink)
            .with_context(|| format!("reading {}", args.input))?;
        sink.finish();
        info
    };
    if info.entries == 0
        && let Some(why) = &info.stopped
    {
        bail!("{}: nothing could be read: {why}", args.input);
    }
    let judged: Vec<(CaptureFlow, FlowDiagnosis, Similar)> = groups
        .into_iter()
        .map(|g| {
            let d = diagnose(&info, &g.flow);
            (g.flow, d, g.similar)
        })
        .collect();
    let capture_findings = memory.findings();
    let shown = |text: &str| shown_with(args.show_secrets, text).into_owned();
    let failed_total = failed;
    // The report of the first `limit` cases (the rest counted as not shown).
    let report = |limit: usize| {
        let shown = &judged[..judged.len().min(limit)];
        why401_render::CaptureReport {
            path: &args.input,
            info: &info,
            flows,
            failed: failed_total,
            reasons: &reasons,
            shown,
            not_shown: judged.len() - shown.len() + not_kept,
            capture_findings: &capture_findings,
        }
    };
    if let Some(path) = &args.html {
        let report = report(usize::MAX);
        std::fs::write(
            path,
            shown(&why401_render::capture_html(&report, args.show_secrets)).as_bytes(),
        )
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if args.json {
        let flows_json: Vec<serde_json::Value> = judged
            .iter()
            .map(|(f, d, similar)| why401_render::flow_json(f, d, similar, args.show_secrets))
            .collect();
        let doc = serde_json::json!({
            "version": 1,
            "capture": info,
            "flows_total": flows,
            "failed": failed_total,
            "reasons": reasons,
            "capture_findings": capture_findings,
            "flows": flows_json,
            "flows_not_included": not_kept,
        });
        let text = serde_json::to_string_pretty(&doc)?;
        output::print(&format!("{}\n", shown(&text)))?;
    } else {
        let limit = if args.flow.is_some() || args.url.is_some() {
            usize::MAX
        } else {
            args.limit
        };
        let report = report(limit);
        let text =
            why401_render::capture(&report, args.verbose, args.show_secrets, output::options());
        output::print(&shown(&text))?;
    }
    let problem = failed_total > 0 || !capture_findings.is_empty();
    Ok(ExitCode::from(if problem {
        super::exit::PROBLEM
    } else {
        super::exit::OK
    }))
}

/// The output as it may be shown: tokens in quoted URLs (`?code=…`, `#access_token=…`)
/// redacted, unless `--show-secrets`. Captured URLs reach titles, evidence and timelines alike,
/// so the whole text is filtered once here.
fn shown_with(show_secrets: bool, text: &str) -> std::borrow::Cow<'_, str> {
    if show_secrets {
        text.into()
    } else {
        why401_wire::token::redact_url_secrets(text)
    }
}

fn sniff_path(path: &str) -> Result<Kind> {
    if path == "-" {
        // stdin: read_path sniffs it itself; a HAR is the common case for the provisional pass.
        return Ok(Kind::Har);
    }
    let mut head = [0u8; 256];
    let n = {
        use std::io::Read;
        let mut f = std::fs::File::open(path).with_context(|| format!("opening {path}"))?;
        f.read(&mut head)
            .with_context(|| format!("reading {path}"))?
    };
    why401_capture::sniff(&head[..n]).with_context(|| {
        format!("{path}: not a HAR, a NetLog or a SAZ (a HAR is JSON with \"log\", a NetLog JSON with \"constants\" and \"events\", a SAZ a zip)")
    })
}

/// `--redact-out`: the share-safe copy.
fn redact_copy(input: &str, out: &str) -> Result<()> {
    if input == "-" {
        bail!("--redact-out needs the capture as a file, not stdin");
    }
    if std::path::Path::new(out) == std::path::Path::new(input) {
        bail!("--redact-out {out}: that is the capture itself; write the copy elsewhere");
    }
    let kind = sniff_path(input)?;
    let file = std::fs::File::open(input).with_context(|| format!("opening {input}"))?;
    let target = std::fs::File::create(out).with_context(|| format!("creating {out}"))?;
    let n = match kind {
        Kind::Saz => redact::saz_copy(file, target).map_err(anyhow::Error::msg)?,
        kind => {
            let mut w = std::io::BufWriter::new(target);
            let n = redact::json(kind, std::io::BufReader::new(file), &mut w)
                .map_err(anyhow::Error::msg)?;
            use std::io::Write;
            w.flush().with_context(|| format!("writing {out}"))?;
            n
        }
    };
    eprintln!(
        "why401: wrote {out}: {} items, {} header values, {} cookies and {} tokens replaced by placeholders{}",
        n.items,
        n.headers,
        n.cookies,
        n.tokens,
        if n.truncated {
            " (the capture is cut short: the copy holds its complete entries)"
        } else {
            ""
        }
    );
    Ok(())
}
