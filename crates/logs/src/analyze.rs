//! Driving a pass: open every input (files, globs, directories, `.gz`, `.zst`, stdin), split
//! plain files into line-aligned chunks scanned on every core, merge the chunks in file order,
//! and fold the result into a [`LogSummary`].
//!
//! This file is the pass itself; `inputs` expands and opens the inputs, `scan` reads one of
//! them (the parallel chunk pipeline, the streaming decoder), `follow` reads what was appended.

mod follow;
mod inputs;
mod scan;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use why401_evidence::events::AccessFailure;
use why401_evidence::logs::{InputInfo, LogSummary, Unreadable};

use crate::acc::{Acc, Caps, Window};
use crate::errorlog::Reasons;
use crate::format::{self, Format};
use crate::summary;
use follow::Tail;
pub use inputs::{Expanded, Input, expand};
use inputs::{Kind, bytecount, head_text, kind_of, read_all, read_head};
use scan::{scan_file, scan_stream};

/// Why a pass could not run.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// An input could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The input as named.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A path that is no file, directory or glob with matches.
    #[error("{0}: no such file, directory or glob match")]
    NotFound(String),
    /// `--format`/`--fields` could not be used, or an input's format could not be told.
    #[error(transparent)]
    Format(#[from] format::FormatError),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// How to read the inputs.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A forced format: `iis`, `combined`, `common`, `json`, `caddy`, `traefik`, or a format string.
    pub format: Option<String>,
    /// `--field name=path` for JSON.
    pub fields: Vec<String>,
    /// `--fields`: the W3C field list of lines before any `#Fields` line (implies IIS).
    pub w3c_fields: Option<String>,
    /// `--since`/`--until`.
    pub window: Window,
    /// How many keys the tables keep.
    pub caps: Caps,
    /// Chunk size for parallel scanning (bytes); 0 picks one.
    pub chunk_size: usize,
}

fn forced_format(opts: &Options) -> Result<format::Choice, LogError> {
    Ok(format::Choice::new(
        opts.format.as_deref(),
        &opts.fields,
        opts.w3c_fields.as_deref(),
    )?)
}

/// The result of a pass, before it is folded into a summary (kept for `--follow`).
pub struct Pass {
    /// Everything counted so far, merged in input order.
    pub acc: Acc,
    tails: Vec<Tail>,
    /// Each input read, in order.
    pub inputs: Vec<InputInfo>,
    /// Per input: line offsets of its chunks, to turn chunk-relative line numbers into real ones.
    pub offsets: Vec<Vec<u64>>,
    /// Input names by file id, for `file:line` examples.
    pub names: Vec<String>,
    /// Explained failures found in the error logs given.
    pub reasons_events: u64,
    /// What the walk of the directories given met and could not read.
    pub unreadable: Vec<Unreadable>,
}

impl Pass {
    fn fold(&self, acc: &Acc) -> LogSummary {
        summary::build(
            acc,
            &self.inputs,
            &self.offsets,
            &self.names,
            &self.unreadable,
        )
    }

    /// Folds the pass into a summary; the pass stays usable for more input (`--follow`), so
    /// the handshakes still open are settled on a copy.
    pub fn summary(&self) -> LogSummary {
        if !self.acc.has_open() {
            return self.fold(&self.acc);
        }
        let mut acc = self.acc.clone();
        acc.finish();
        self.fold(&acc)
    }

    /// The logon-failure lines kept (when `caps.logons` asked for them), at their real
    /// `file:line`, and how many more there were past the cap.
    pub fn logon_failures(&self) -> (Vec<AccessFailure>, u64) {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        let lines = self
            .acc
            .logons
            .iter()
            .map(|l| AccessFailure {
                time: l.time,
                ip: text(&l.ip),
                user: text(&l.user),
                agent: if self.acc.plus_for_space {
                    text(&l.agent).replace('+', " ")
                } else {
                    text(&l.agent)
                },
                win32: l.win32,
                at: summary::place(Some(l.loc), &self.offsets, &self.names),
            })
            .collect();
        (lines, self.acc.logons_dropped)
    }

    /// Folds the pass into a summary, consuming it.
    pub fn into_summary(mut self) -> LogSummary {
        self.acc.finish();
        self.fold(&self.acc)
    }
}

/// Runs a pass over `inputs`; `progress` is told how many bytes were read so far.
pub fn analyze(
    inputs: &[Input],
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Pass, LogError> {
    let Expanded {
        files: inputs,
        unreadable,
    } = expand(inputs)?;
    let forced = forced_format(opts)?;
    // Error logs go first: the access pass joins to them.
    let mut reasons = Reasons::default();
    let mut access: Vec<(Input, Format, Vec<u8>)> = Vec::new();
    let mut infos = Vec::new();
    let mut names = Vec::new();
    for input in inputs {
        let (name, head) = read_head(&input)?;
        let fmt = match &forced {
            format::Choice::Fixed(f) => f.clone(),
            // Stdin is recognised from its first block, when it is read.
            _ if input == Input::Stdin => Format::Ncsa(format::ncsa::Layout::combined()),
            choice => {
                let (text, broken) = head_text(&name, &head)?;
                match (choice.for_input(&name, &text), broken) {
                    (Ok(f), _) => f,
                    // Broken before enough of it decoded to tell: that, not the format, is
                    // what to report. (Told apart, the scan reports where it broke.)
                    (Err(_), Some(source)) => {
                        return Err(LogError::Io { path: name, source });
                    }
                    (Err(e), None) => return Err(e.into()),
                }
            }
        };
        if let Format::ErrorLog = fmt {
            let (data, broken) = read_all(&input, &name, &head)?;
            reasons.add_text(&data);
            infos.push(InputInfo {
                path: name.clone(),
                format: fmt.name(),
                bytes: data.len() as u64,
                lines: bytecount(&data),
                unparsed: 0,
                ended_early: broken.map(|e| e.to_string()),
            });
            names.push(name);
            continue;
        }
        access.push((input, fmt, head));
    }
    let reasons_ref = (reasons.events > 0).then_some(&reasons);
    let mut total = Acc::new(opts.caps, opts.window);
    let mut offsets = Vec::new();
    let mut tails = Vec::new();
    let read = AtomicU64::new(0);
    let base_file = names.len();
    for (i, (input, fmt, head)) in access.into_iter().enumerate() {
        let file_id = base_file + i;
        let name = match &input {
            Input::Stdin => "(stdin)".to_string(),
            Input::Path(p) => p.clone(),
        };
        let (acc, info, offs) = match (&input, kind_of(&name, &head)) {
            (Input::Path(p), Kind::Plain) => {
                let (acc, info, offs, last) = scan_file(
                    Path::new(p),
                    &fmt,
                    file_id,
                    opts,
                    reasons_ref,
                    &read,
                    progress,
                )?;
                tails.push(Tail {
                    path: PathBuf::from(p),
                    offset: info.bytes,
                    format: last,
                    file_id,
                    chunks: offs.len(),
                });
                (acc, info, offs)
            }
            _ => scan_stream(
                &input,
                &name,
                &head,
                &fmt,
                file_id,
                opts,
                reasons_ref,
                &read,
                progress,
            )?,
        };
        total.merge_file(acc);
        let format = if info.format.is_empty() {
            fmt.name()
        } else {
            info.format.clone()
        };
        infos.push(InputInfo {
            path: name.clone(),
            format,
            ..info
        });
        names.push(name);
        offsets.resize(file_id, Vec::new());
        offsets.push(offs);
    }
    offsets.resize(names.len(), Vec::new());
    Ok(Pass {
        acc: total,
        tails,
        inputs: infos,
        offsets,
        names,
        reasons_events: reasons.events,
        unreadable,
    })
}
