//! Scanning one input: a plain file is mapped, cut into line-aligned chunks scanned on every
//! core and merged in file order as they arrive; a compressed file or stdin is decoded block
//! by block, each block scanned as a chunk.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, PoisonError};

use why401_evidence::logs::InputInfo;

use super::inputs::{Input, open_stream, read_up_to};
use super::{LogError, Options, io};
use crate::acc::Acc;
use crate::errorlog::Reasons;
use crate::format::{self, Format, iis};

/// A plain file: line-aligned chunks scanned in parallel, merged in order.
pub(super) fn scan_file(
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
    let merged = Merged::default();
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
                    merged.wait_for(i, window);
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
        let mut done = 0;
        for (i, out, assumed_layout) in rx.iter() {
            ready.insert(i, (out, assumed_layout));
            while let Some((mut out, assumed_layout)) = ready.remove(&done) {
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
                done += 1;
                merged.advance(done);
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
        ended_early: None,
    };
    let last = match (layout, fmt) {
        (Some(l), Format::Iis(_)) => Format::Iis(l),
        _ => fmt.clone(),
    };
    Ok((acc, info, offsets, last))
}

/// How many chunks of a file have been merged, for the workers that wait to scan a chunk no
/// further than `window` ahead of the merge: a condition variable, so a waiting worker sleeps
/// until the merge moves rather than polling.
#[derive(Default)]
struct Merged {
    count: Mutex<usize>,
    moved: Condvar,
}

impl Merged {
    /// Blocks until chunk `i` is less than `window` chunks ahead of the merge.
    fn wait_for(&self, i: usize, window: usize) {
        // A poisoned lock only means another worker panicked; the count it guards is still
        // right, and the panic surfaces when the scope joins.
        let mut count = self.count.lock().unwrap_or_else(PoisonError::into_inner);
        while i >= *count + window {
            count = self
                .moved
                .wait(count)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// The merge has taken `count` chunks: wakes the workers waiting for it.
    fn advance(&self, count: usize) {
        *self.count.lock().unwrap_or_else(PoisonError::into_inner) = count;
        self.moved.notify_all();
    }
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

/// A compressed file or stdin: blocks decoded in order, each scanned as a chunk. A stream that
/// breaks (truncated, corrupt) ends there: its whole lines before the break are counted, and
/// the input says it ended early.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_stream(
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
    let ended_early = loop {
        let (n, broken) = read_up_to(&mut stream, &mut block);
        let eof = n < block.len() || broken.is_some();
        bytes += n as u64;
        carry.extend_from_slice(&block[..n]);
        if first && !carry.is_empty() {
            first = false;
            if name == "(stdin)" {
                fmt = super::forced_format(opts)?.for_input(name, &carry)?;
            }
        }
        let cut = if eof && broken.is_none() {
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
            // What is left in `carry` is the line the break cut in two: not a line, and not
            // among the bytes read.
            if broken.is_some() {
                bytes -= carry.len() as u64;
            }
            break broken.map(|e| e.to_string());
        }
    };
    Ok((
        acc,
        InputInfo {
            path: name.into(),
            format: fmt.name(),
            bytes,
            lines,
            unparsed,
            ended_early,
        },
        offsets,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{Pass, analyze};
    use std::io::{Read, Write};
    use std::time::Duration;

    /// NCSA lines varied enough that their compressed form is not tiny.
    fn ncsa(lines: usize) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..lines {
            let (ip, url, status) = (i % 251, i * 7919 % 100_003, [200, 401, 302][i % 3]);
            writeln!(out, "10.0.{}.{ip} - bob [27/Nov/2026:10:{:02}:00 +0000] \"GET /x/{url} HTTP/1.1\" {status} 12 \"-\" \"curl/8\"", i % 7, i % 60).unwrap();
        }
        out
    }

    fn gzip(text: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(text).unwrap();
        gz.finish().unwrap()
    }

    /// As the `zstd` tool writes it: with the content checksum, so a flipped byte shows.
    fn zstd(text: &[u8]) -> Vec<u8> {
        let mut z = zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
        z.include_checksum(true).unwrap();
        z.write_all(text).unwrap();
        z.finish().unwrap()
    }

    fn pass(name: &str, data: &[u8]) -> Result<Pass, LogError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, data).unwrap();
        analyze(
            &[Input::Path(path.display().to_string())],
            &Options::default(),
            &|_| {},
        )
    }

    /// The whole lines a decoder gives before it fails on `data`.
    fn lines_before_the_break(mut decoder: impl Read) -> u64 {
        let mut out = Vec::new();
        assert!(
            decoder.read_to_end(&mut out).is_err(),
            "the stream is broken"
        );
        memchr::memchr_iter(b'\n', &out).count() as u64
    }

    #[test]
    fn a_truncated_gzip_or_zstd_ends_early_with_its_lines_before_the_cut_counted() {
        let text = ncsa(40_000);
        for (name, whole) in [
            ("access.log.gz", gzip(&text)),
            ("access.log.zst", zstd(&text)),
        ] {
            let cut = &whole[..whole.len() / 2];
            let want = if name.ends_with(".gz") {
                lines_before_the_break(flate2::read::MultiGzDecoder::new(cut))
            } else {
                lines_before_the_break(zstd::stream::read::Decoder::new(cut).unwrap())
            };
            assert!(
                want > 0 && want < 40_000,
                "{name}: the cut is mid-file ({want})"
            );
            let p = pass(name, cut).unwrap();
            let input = &p.inputs[0];
            assert!(
                input
                    .ended_early
                    .as_deref()
                    .is_some_and(|e| e.contains("incomplete")),
                "{name}: {input:?}"
            );
            assert_eq!(input.lines, want, "{name}: every whole line before the cut");
            let whole_lines = memchr::memchr_iter(b'\n', &text)
                .nth(want as usize - 1)
                .unwrap()
                + 1;
            assert_eq!(
                input.bytes, whole_lines as u64,
                "{name}: the bytes of those lines, not of the cut one"
            );
            let s = p.into_summary();
            assert_eq!(
                (s.requests, s.unparsed),
                (want, 0),
                "{name}: the cut line is not a line"
            );
        }
    }

    #[test]
    fn a_flipped_byte_in_a_gzip_or_zstd_is_reported() {
        let text = ncsa(40_000);
        for (name, mut data) in [
            ("access.log.gz", gzip(&text)),
            ("access.log.zst", zstd(&text)),
        ] {
            let mid = data.len() / 2;
            data[mid] ^= 0x10;
            let p = pass(name, &data).unwrap();
            let input = &p.inputs[0];
            assert!(input.ended_early.is_some(), "{name}: {input:?}");
            assert!(input.lines <= 40_000, "{name}");
        }
        let whole = pass("access.log.gz", &gzip(&text)).unwrap();
        assert_eq!(
            (
                whole.inputs[0].ended_early.as_deref(),
                whole.inputs[0].lines
            ),
            (None, 40_000),
            "an intact file is read to its end"
        );
    }

    #[test]
    fn a_gzip_broken_before_its_first_line_is_an_error_naming_it() {
        let mut data = gzip(&ncsa(10));
        data.truncate(12);
        match pass("access.log.gz", &data) {
            Err(LogError::Io { path, source }) => {
                assert!(path.ends_with("access.log.gz"), "{path}");
                assert_eq!(source.kind(), std::io::ErrorKind::UnexpectedEof);
            }
            Err(e) => panic!("{e}"),
            Ok(p) => panic!("read as {:?}", p.inputs),
        }
    }

    #[test]
    fn a_worker_waits_until_its_chunk_is_within_the_window() {
        let merged = Merged::default();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                merged.wait_for(5, 2);
                tx.send(()).unwrap();
            });
            let short = Duration::from_millis(50);
            assert!(rx.recv_timeout(short).is_err(), "chunk 5 is 5 ahead of 0");
            merged.advance(3);
            assert!(
                rx.recv_timeout(short).is_err(),
                "chunk 5 is still 2 ahead of 3"
            );
            merged.advance(4);
            assert!(
                rx.recv_timeout(Duration::from_secs(10)).is_ok(),
                "1 ahead of 4"
            );
        });
    }

    #[test]
    fn chunks_end_after_a_newline_and_cover_the_data() {
        let data = b"aaaa\nbb\ncccccc\nd";
        let bounds = line_aligned(data, 3);
        // Each chunk runs at least `chunk` bytes, then to the end of its line.
        assert_eq!(bounds, [(0, 5), (5, 15), (15, 16)]);
    }
}
