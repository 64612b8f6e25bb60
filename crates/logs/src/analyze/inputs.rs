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

/// The first decoded bytes of an input, for detection.
pub(super) fn head_text(name: &str, head: &[u8]) -> Result<Vec<u8>, LogError> {
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

pub(super) fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> usize {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    n
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

pub(super) fn read_all(input: &Input, name: &str, head: &[u8]) -> Result<Vec<u8>, LogError> {
    let mut out = Vec::new();
    open_stream(input, name, head)?
        .read_to_end(&mut out)
        .map_err(io(Path::new(name)))?;
    Ok(out)
}
