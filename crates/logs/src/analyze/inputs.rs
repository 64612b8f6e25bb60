//! The inputs of a pass: paths, globs and directories expanded into files, and each file (or
//! stdin) opened as what it is, plain, `.gz` or `.zst`, recognised from its first bytes.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::{LogError, io};

/// An input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Path(String),
    Stdin,
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

/// What a file (or stdin) is, decided from its head.
pub(super) enum Kind {
    Plain,
    Gzip,
    Zstd,
}

pub(super) fn kind_of(path: &str, head: &[u8]) -> Kind {
    if head.starts_with(&[0x1f, 0x8b]) || path.ends_with(".gz") {
        Kind::Gzip
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) || path.ends_with(".zst") {
        Kind::Zstd
    } else {
        Kind::Plain
    }
}

pub(super) fn bytecount(data: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', data).count() as u64
        + u64::from(!data.is_empty() && !data.ends_with(b"\n"))
}

pub(super) fn read_head(input: &Input) -> Result<(String, Vec<u8>), LogError> {
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

/// The first decoded bytes of an input, for detection, and the error that cut them short (a
/// compressed file broken within its first 64 KiB).
pub(super) fn head_text(
    name: &str,
    head: &[u8],
) -> Result<(Vec<u8>, Option<std::io::Error>), LogError> {
    if name == "(stdin)" {
        return Ok((Vec::new(), None));
    }
    let path = Path::new(name);
    let mut out = vec![0; 64 * 1024];
    let (n, broken) = match kind_of(name, head) {
        Kind::Plain => return Ok((head.to_vec(), None)),
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
    Ok((out, broken))
}

/// Fills `buf` from `r` as far as the input goes: the bytes read, and the error that stopped
/// the read before the end of the input, if one did (a truncated or corrupt compressed stream).
pub(super) fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<std::io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

pub(super) fn open_stream(
    input: &Input,
    name: &str,
    head: &[u8],
) -> Result<Box<dyn Read>, LogError> {
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

/// The whole input, and the error that ended it early, if one did: then only its whole lines
/// are kept.
pub(super) fn read_all(
    input: &Input,
    name: &str,
    head: &[u8],
) -> Result<(Vec<u8>, Option<std::io::Error>), LogError> {
    let mut out = Vec::new();
    // `read_to_end` keeps what it read before an error.
    let broken = open_stream(input, name, head)?.read_to_end(&mut out).err();
    if broken.is_some() {
        out.truncate(memchr::memrchr(b'\n', &out).map_or(0, |i| i + 1));
    }
    Ok((out, broken))
}
