//! Driving a pass: open every input (files, globs, directories, `.gz`, `.zst`, stdin), split
//! plain files into line-aligned chunks scanned on every core, merge the chunks in file order,
//! and fold the result into a [`LogSummary`].

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use why401_evidence::logs::{InputInfo, LogSummary};

use crate::acc::{Acc, Caps, Window};
use crate::errorlog::Reasons;
use crate::format::{self, Format, iis};
use crate::summary;

/// Why a pass could not run.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: no such file, directory or glob match")]
    NotFound(String),
    #[error(transparent)]
    Format(#[from] format::FormatError),
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// An input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(String),
    Stdin,
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
    pub window: Window,
    pub caps: Caps,
    /// Chunk size for parallel scanning (bytes); 0 picks one.
    pub chunk_size: usize,
}

/// Expands globs and directories into files, in a stable order.
pub fn expand(inputs: &[Input]) -> Result<Vec<Input>, LogError> {
    let mut out = Vec::new();
    for i in inputs {
        match i {
            Input::Stdin => out.push(Input::Stdin),
            Input::Path(p) if p == "-" => out.push(Input::Stdin),
            Input::Path(p) => {
                let path = Path::new(p);
                if path.is_dir() {
                    let mut files: Vec<PathBuf> = walk(path);
                    files.sort();
                    out.extend(
                        files
                            .into_iter()
                            .map(|f| Input::Path(f.display().to_string())),
                    );
                } else if path.exists() {
                    out.push(Input::Path(p.clone()));
                } else {
                    let matches: Vec<PathBuf> = glob::glob(p)
                        .map(|g| g.flatten().filter(|f| f.is_file()).collect())
                        .unwrap_or_default();
                    if matches.is_empty() {
                        return Err(LogError::NotFound(p.clone()));
                    }
                    out.extend(
                        matches
                            .into_iter()
                            .map(|f| Input::Path(f.display().to_string())),
                    );
                }
            }
        }
    }
    Ok(out)
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out
}

fn forced_format(opts: &Options) -> Result<format::Choice, LogError> {
    Ok(format::Choice::new(
        opts.format.as_deref(),
        &opts.fields,
        opts.w3c_fields.as_deref(),
    )?)
}

/// What a file (or stdin) is, decided from its head.
enum Kind {
    Plain,
    Gzip,
    Zstd,
}

fn kind_of(path: &str, head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b]) || path.ends_with(".gz") {
        Kind::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || path.ends_with(".zst") {
        Kind::Zstd
    } else {
        Kind::Plain
    }
}

/// Where a followed file was read up to.
#[derive(Debug, Clone)]
struct Tail {
    path: PathBuf,
    offset: u64,
    format: Format,
    file_id: usize,
    chunks: usize,
}

/// The result of a pass, before it is folded into a summary (kept for `--follow`).
pub struct Pass {
    pub acc: Acc,
    tails: Vec<Tail>,
    pub inputs: Vec<InputInfo>,
    /// Per input: line offsets of its chunks, to turn chunk-relative line numbers into real ones.
    pub offsets: Vec<Vec<u64>>,
    pub names: Vec<String>,
    pub reasons_events: u64,
}

impl Pass {
    /// Reads what was appended to the plain files since the last look (`--follow`); true when
    /// anything new arrived. A file that shrank (rotated) is read again from the start.
    pub fn poll(&mut self, opts: &Options) -> Result<bool, LogError> {
        let mut grew = false;
        for t in &mut self.tails {
            let file = File::open(&t.path).map_err(io(&t.path))?;
            let size = file.metadata().map_err(io(&t.path))?.len();
            if size < t.offset {
                t.offset = 0;
            }
            if size == t.offset {
                continue;
            }
            let mut buf = vec![0u8; (size - t.offset) as usize];
            read_exact_at(&file, &mut buf, t.offset).map_err(io(&t.path))?;
            let Some(cut) = memchr::memrchr(b'\n', &buf).map(|i| i + 1) else {
                continue;
            };
            let out = format::scan(
                &t.format,
                &buf[..cut],
                t.file_id,
                t.chunks,
                || Acc::new(opts.caps, opts.window),
                None,
            );
            if let (Some(l), Format::Iis(_)) = (out.last_layout.clone(), &t.format) {
                t.format = Format::Iis(l);
            }
            let info = &mut self.inputs[t.file_id];
            info.bytes += cut as u64;
            info.lines += out.lines;
            info.unparsed += out.prefix.unparsed + out.rest.unparsed;
            if let Some(offs) = self.offsets.get_mut(t.file_id) {
                offs.push(info.lines - out.lines);
            }
            self.acc.merge(out.prefix);
            self.acc.merge(out.rest);
            t.offset += cut as u64;
            t.chunks += 1;
            grew = true;
        }
        Ok(grew)
    }

    /// Folds the pass into a summary; the pass stays usable for more input (`--follow`), so
    /// the handshakes still open are settled on a copy.
    pub fn summary(&self) -> LogSummary {
        if !self.acc.has_open() {
            return summary::build(&self.acc, &self.inputs, &self.offsets, &self.names);
        }
        let mut acc = self.acc.clone();
        acc.finish();
        summary::build(&acc, &self.inputs, &self.offsets, &self.names)
    }

    /// Folds the pass into a summary, consuming it.
    pub fn into_summary(mut self) -> LogSummary {
        self.acc.finish();
        summary::build(&self.acc, &self.inputs, &self.offsets, &self.names)
    }
}

/// Runs a pass over `inputs`; `progress` is told how many bytes were read so far.
pub fn analyze(
    inputs: &[Input],
    opts: &Options,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Pass, LogError> {
    let inputs = expand(inputs)?;
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
            choice => choice.for_input(&name, &head_text(&name, &head)?)?,
        };
        if let Format::ErrorLog = fmt {
            let data = read_all(&input, &name, &head)?;
            reasons.add_text(&data);
            infos.push(InputInfo {
                path: name.clone(),
                format: fmt.name(),
                bytes: data.len() as u64,
                lines: bytecount(&data),
                unparsed: 0,
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
    })
}

fn bytecount(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
        + u64::from(!data.is_empty() && !data.ends_with(b"\n"))
}

fn read_head(input: &Input) -> Result<(String, Vec<u8>), LogError> {
    match input {
        Input::Stdin => Ok(("(stdin)".into(), Vec::new())),
        Input::Path(p) => {
            let path = Path::new(p);
            let f = File::open(path).map_err(io(path))?;
            let mut head = vec![0; 64 * 1024];
            let n = f.read_at(&mut head, 0).map_err(io(path))?;
            head.truncate(n);
            Ok((p.clone(), head))
        }
    }
}

/// The first decoded bytes of an input, for detection.
fn head_text(name: &str, head: &[u8]) -> Result<Vec<u8>, LogError> {
    if name == "(stdin)" {
        return Ok(Vec::new());
    }
    let path = Path::new(name);
    let mut out = vec![0; 64 * 1024];
    let n = match kind_of(name, head) {
        Kind::Plain => return Ok(head.to_vec()),
        Kind::Gzip => read_up_to(
            &mut flate2::read::MultiGzDecoder::new(File::open(path).map_err(io(path))?),
            &mut out,
        ),
        Kind::Zstd => read_up_to(
            &mut zstd::stream::read::Decoder::new(File::open(path).map_err(io(path))?)
                .map_err(io(path))?,
            &mut out,
        ),
    };
    out.truncate(n);
    Ok(out)
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
}

fn open_stream(input: &Input, name: &str, head: &[u8]) -> Result<Box<dyn Read>, LogError> {
    let path = Path::new(name);
    Ok(match input {
        Input::Stdin => Box::new(std::io::stdin()),
        Input::Path(_) => {
            let f = File::open(path).map_err(io(path))?;
            match kind_of(name, head) {
                Kind::Plain => Box::new(f),
                Kind::Gzip => Box::new(flate2::read::MultiGzDecoder::new(f)),
                Kind::Zstd => Box::new(zstd::stream::read::Decoder::new(f).map_err(io(path))?),
            }
        }
    })
}

fn read_all(input: &Input, name: &str, head: &[u8]) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::new();
    open_stream(input, name, head)?
        .read_to_end(&mut out)
        .map_err(io(Path::new(name)))?;
    Ok(out)
}

/// A plain file: line-aligned chunks scanned in parallel, merged in order.
fn scan_file(
    path: &Path,
    fmt: &Format,
    file_id: usize,
    opts: &Options,
    reasons: Option<&Reasons>,
    read: &AtomicU64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Acc, InputInfo, Vec<u64>, Format), LogError> {
    let file = File::open(path).map_err(io(path))?;
    let size = file.metadata().map_err(io(path))?.len();
    // The file is mapped, not read: no copy, and each chunk's pages are handed back once it is
    // scanned, so memory stays bounded on files larger than RAM.
    let map = if size == 0 {
        None
    } else {
        // SAFETY: the map is read-only; a log that shrinks while being read is the one risk,
        // as with any reader of a file being truncated.
        let m = unsafe { memmap2::MmapOptions::new().map(&file) }.map_err(io(path))?;
        Some(m)
    };
    let data: &[u8] = map.as_deref().unwrap_or_default();
    let threads = rayon::current_num_threads().max(1);
    // Few, large chunks: each chunk's tables are merged in order, and that part is sequential.
    let chunk = if opts.chunk_size > 0 {
        opts.chunk_size as u64
    } else {
        (size / (threads as u64 * 2)).clamp(4 << 20, 32 << 20)
    };
    let bounds = line_aligned(data, chunk as usize);
    if let Some(m) = &map {
        // Finding the line ends faulted in a run of pages (a whole large folio) at every
        // boundary: on a 10 GB file that is tens of MB mapped for the whole run. Drop them.
        release(m, 0, data.len());
    }
    let mut acc = Acc::new(opts.caps, opts.window);
    let mut layout = match fmt {
        Format::Iis(l) => Some(l.clone()),
        _ => None,
    };
    let mut offsets = Vec::with_capacity(bounds.len());
    let mut lines = 0u64;
    let mut unparsed = 0u64;
    // Workers scan chunks ahead; this thread merges them in file order as they arrive, so
    // the (sequential) merging overlaps the scanning. At most `window` chunks are in flight,
    // which bounds memory.
    let window = threads + 1;
    let next = std::sync::atomic::AtomicUsize::new(0);
    let merged = std::sync::atomic::AtomicUsize::new(0);
    let assumed_start = layout.clone();
    // Layouts announced by `#Fields` directives, by the chunk they appear in: a worker starts a
    // chunk with the last one announced before it (a guess the merge checks).
    let directives: std::sync::Mutex<std::collections::BTreeMap<usize, iis::Layout>> =
        Default::default();
    let (tx, rx) = std::sync::mpsc::channel::<(usize, format::ChunkOut, Option<iis::Layout>)>();
    // Merged chunks' accumulators, emptied with their tables' allocations kept, for the chunks
    // still to scan: tables that start at full size do not fault in fresh pages as they grow.
    let pool: std::sync::Mutex<Vec<Acc>> = Default::default();
    let fresh = || {
        pool.lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| Acc::new(opts.caps, opts.window))
    };
    std::thread::scope(|scope| -> Result<(), LogError> {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next, merged, bounds, data, map, assumed_start, directives, fresh) = (
                &next,
                &merged,
                &bounds,
                data,
                &map,
                &assumed_start,
                &directives,
                &fresh,
            );
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bounds.len() {
                        break;
                    }
                    while i >= merged.load(Ordering::Acquire) + window {
                        std::thread::sleep(std::time::Duration::from_micros(200));
                    }
                    let (s, e) = bounds[i];
                    if let Some(m) = map {
                        // One call maps the whole chunk: page faults one by one cost more than the scan.
                        let _ = m.advise_range(memmap2::Advice::PopulateRead, s, e - s);
                    }
                    let announced = directives
                        .lock()
                        .ok()
                        .and_then(|d| d.range(..i).next_back().map(|(_, l)| l.clone()));
                    let assumed = match (announced.as_ref().or(assumed_start.as_ref()), fmt) {
                        (Some(l), Format::Iis(_)) => Format::Iis(l.clone()),
                        _ => fmt.clone(),
                    };
                    let out = format::scan(&assumed, &data[s..e], file_id, i, fresh, reasons);
                    if let (Some(l), Ok(mut d)) = (&out.last_layout, directives.lock()) {
                        d.insert(i, l.clone());
                    }
                    progress(read.fetch_add((e - s) as u64, Ordering::Relaxed) + (e - s) as u64);
                    let assumed_layout = match assumed {
                        Format::Iis(l) => Some(l),
                        _ => None,
                    };
                    if tx.send((i, out, assumed_layout)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        let mut ready = std::collections::BTreeMap::new();
        // Chunks are merged in order, so everything before the merged chunk's end is done with,
        // including the page it shares with the next chunk.
        let mut released = 0;
        for (i, out, assumed_layout) in rx.iter() {
            ready.insert(i, (out, assumed_layout));
            while let Some((mut out, assumed_layout)) =
                ready.remove(&merged.load(Ordering::Acquire))
            {
                let (s, e) = bounds[offsets.len()];
                // Chunks were read with the file's first layout; a directive earlier in the
                // file may have changed it: read the chunk's first lines again then (rare).
                if let (Some(current), Some(assumed_layout)) = (&layout, &assumed_layout)
                    && current != assumed_layout
                    && out.prefix_lines > 0
                {
                    let redo = format::scan(
                        &Format::Iis(current.clone()),
                        &data[s..s + out.prefix_len],
                        file_id,
                        offsets.len(),
                        || Acc::new(opts.caps, opts.window),
                        reasons,
                    );
                    out.prefix = redo.prefix;
                }
                offsets.push(lines);
                lines += out.lines;
                unparsed += out.prefix.unparsed + out.rest.unparsed;
                // Only accumulators that held lines have grown tables worth keeping.
                let rest_used = out.rest.lines > 0;
                acc.absorb(&mut out.prefix);
                acc.absorb(&mut out.rest);
                if let Ok(mut p) = pool.lock() {
                    if rest_used {
                        p.push(out.rest);
                    }
                    p.push(out.prefix);
                }
                if let Some(l) = out.last_layout {
                    layout = Some(l);
                }
                if let Some(m) = &map {
                    released = release(m, released, e);
                }
                merged.fetch_add(1, Ordering::Release);
            }
        }
        Ok(())
    })?;
    let info = InputInfo {
        path: path.display().to_string(),
        format: String::new(),
        bytes: size,
        lines,
        unparsed,
    };
    let last = match (layout, fmt) {
        (Some(l), Format::Iis(_)) => Format::Iis(l),
        _ => fmt.clone(),
    };
    Ok((acc, info, offsets, last))
}

/// Chunk boundaries of about `chunk` bytes, each ending after a newline (or at the end).
fn line_aligned(data: &[u8], chunk: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut s = 0;
    while s < data.len() {
        let target = (s + chunk.max(1)).min(data.len());
        let e = if target >= data.len() {
            data.len()
        } else {
            memchr::memchr(b'\n', &data[target..]).map_or(data.len(), |i| target + i + 1)
        };
        out.push((s, e));
        s = e;
    }
    out
}

/// Hands the pages of `from..to` back to the kernel (they stay in the page cache) and returns
/// where the next release starts: `from` is page-aligned, the page holding `to` is kept.
fn release(map: &memmap2::Mmap, from: usize, to: usize) -> usize {
    const PAGE: usize = 4096;
    let to = to / PAGE * PAGE;
    if to > from {
        // SAFETY: a read-only, file-backed map: dropped pages are read again from the file if
        // touched, never zero-filled.
        let _ = unsafe {
            map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, from, to - from)
        };
    }
    to.max(from)
}

fn read_exact_at(file: &File, buf: &mut [u8], mut off: u64) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        let n = file.read_at(&mut buf[done..], off)?;
        if n == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the file shrank while reading",
            ));
        }
        done += n;
        off += n as u64;
    }
    Ok(())
}

/// A compressed file or stdin: blocks decoded in order, each scanned as a chunk.
#[allow(clippy::too_many_arguments)]
fn scan_stream(
    input: &Input,
    name: &str,
    head: &[u8],
    fmt: &Format,
    file_id: usize,
    opts: &Options,
    reasons: Option<&Reasons>,
    read: &AtomicU64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(Acc, InputInfo, Vec<u64>), LogError> {
    let mut stream = open_stream(input, name, head)?;
    let mut acc = Acc::new(opts.caps, opts.window);
    let mut fmt = fmt.clone();
    let mut carry: Vec<u8> = Vec::new();
    let mut block = vec![0u8; 8 << 20];
    let mut offsets = Vec::new();
    let (mut lines, mut bytes, mut unparsed) = (0u64, 0u64, 0u64);
    let mut first = true;
    loop {
        let n = read_up_to(&mut stream, &mut block);
        let eof = n < block.len();
        bytes += n as u64;
        carry.extend_from_slice(&block[..n]);
        if first && !carry.is_empty() {
            first = false;
            if name == "(stdin)" {
                fmt = forced_format(opts)?.for_input(name, &carry)?;
            }
        }
        let cut = if eof {
            carry.len()
        } else {
            memchr::memrchr(b'\n', &carry).map_or(0, |i| i + 1)
        };
        if cut > 0 {
            let out = format::scan(
                &fmt,
                &carry[..cut],
                file_id,
                offsets.len(),
                || Acc::new(opts.caps, opts.window),
                reasons,
            );
            offsets.push(lines);
            lines += out.lines;
            unparsed += out.prefix.unparsed + out.rest.unparsed;
            acc.merge(out.prefix);
            acc.merge(out.rest);
            if let (Some(l), Format::Iis(_)) = (out.last_layout, &fmt) {
                fmt = Format::Iis(l);
            }
            carry.drain(..cut);
        }
        progress(read.fetch_add(n as u64, Ordering::Relaxed) + n as u64);
        if eof {
            break;
        }
    }
    Ok((
        acc,
        InputInfo {
            path: name.into(),
            format: fmt.name(),
            bytes,
            lines,
            unparsed,
        },
        offsets,
    ))
}
