//! The inputs of a pass: paths, globs and directories expanded into files, and each file (or
//! stdin) opened as what it is, plain, `.gz` or `.zst`, recognised from its first bytes.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use why401_evidence::logs::Unreadable;

use super::{LogError, io};

/// An input as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A file, directory or glob (`-` is stdin).
    Path(String),
    /// Standard input.
    Stdin,
}

/// The inputs as files to read, and what was met on the way that could not be read.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The files (and stdin) to read, in order.
    pub files: Vec<Input>,
    /// Entries of the directories walked (and glob matches) that could not be read: dangling
    /// links, links back to an ancestor, directories that cannot be listed.
    pub unreadable: Vec<Unreadable>,
}

/// Expands globs and directories into files, in a stable order.
pub fn expand(inputs: &[Input]) -> Result<Expanded, LogError> {
    let mut out = Vec::new();
    let mut unreadable = Vec::new();
    for i in inputs {
        match i {
            Input::Stdin => out.push(Input::Stdin),
            Input::Path(p) if p == "-" => out.push(Input::Stdin),
            Input::Path(p) => {
                let path = Path::new(p);
                if path.is_dir() {
                    out.extend(
                        walk(path, &mut unreadable)
                            .into_iter()
                            .map(|f| Input::Path(f.display().to_string())),
                    );
                } else if path.exists() {
                    out.push(Input::Path(p.clone()));
                } else {
                    let mut matches: Vec<PathBuf> = Vec::new();
                    let unreadable_before = unreadable.len();
                    for m in glob::glob(p).into_iter().flatten() {
                        match m {
                            Ok(f) if f.is_file() => matches.push(f),
                            Ok(_) => {}
                            Err(e) => unreadable.push(Unreadable {
                                path: e.path().display().to_string(),
                                error: e.error().to_string(),
                            }),
                        }
                    }
                    if matches.is_empty() && unreadable.len() == unreadable_before {
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
    Ok(Expanded {
        files: out,
        unreadable,
    })
}

/// The files under `dir`, sorted, each once. Links are followed (log directories often link to
/// where the logs really are), but not back to an ancestor: that loop, and every entry that
/// cannot be read (a dangling link, a directory that cannot be listed), goes to `unreadable`.
/// A file reached twice (through a link to it or to a directory holding it) is read once,
/// under the first of its names.
fn walk(dir: &Path, unreadable: &mut Vec<Unreadable>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).follow_links(true) {
        match entry {
            Ok(e) if e.file_type().is_file() => {
                let id = e.metadata().ok().map(|m| (m.dev(), m.ino()));
                files.push((e.into_path(), id));
            }
            // Directories are walked into; sockets, pipes and devices are not logs.
            Ok(_) => {}
            Err(e) => unreadable.push(Unreadable {
                path: e.path().unwrap_or(dir).display().to_string(),
                error: match (e.loop_ancestor(), e.io_error()) {
                    (Some(ancestor), _) => {
                        format!("a link back to {}, not followed", ancestor.display())
                    }
                    (None, Some(io)) => io.to_string(),
                    (None, None) => e.to_string(),
                },
            }),
        }
    }
    files.sort();
    let mut seen = std::collections::HashSet::new();
    files
        .into_iter()
        .filter(|(_, id)| id.is_none_or(|id| seen.insert(id)))
        .map(|(path, _)| path)
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(e: &Expanded, root: &Path) -> Vec<String> {
        e.files
            .iter()
            .map(|f| match f {
                Input::Path(p) => p.strip_prefix(&*root.to_string_lossy()).unwrap_or(p).into(),
                Input::Stdin => "-".into(),
            })
            .collect()
    }

    #[test]
    fn a_walk_follows_links_once_and_reports_loops_and_dangling_links() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a.log"), "x\n").unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/b.log"), "y\n").unwrap();
        // A loop: sub/up is the directory that holds sub.
        symlink("..", root.join("sub/up")).unwrap();
        // A dangling link: tests run as root, so permissions cannot make a file unreadable.
        symlink("nowhere.log", root.join("gone.log")).unwrap();
        // The same file under a second name, and a directory linked from elsewhere.
        symlink("a.log", root.join("again.log")).unwrap();
        std::fs::create_dir(root.join("elsewhere")).unwrap();
        std::fs::write(root.join("elsewhere/c.log"), "z\n").unwrap();
        symlink("elsewhere", root.join("linked")).unwrap();

        let e = expand(&[Input::Path(root.display().to_string())]).unwrap();
        assert_eq!(
            names(&e, root),
            ["/a.log", "/elsewhere/c.log", "/sub/b.log"],
            "each file once, under its first name"
        );
        let mut bad: Vec<(String, &str)> = e
            .unreadable
            .iter()
            .map(|u| {
                (
                    u.path.replace(&*root.to_string_lossy(), ""),
                    u.error.as_str(),
                )
            })
            .collect();
        bad.sort();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert_eq!(bad[0].0, "/gone.log");
        assert!(bad[0].1.contains("No such file"), "{bad:?}");
        assert_eq!(bad[1].0, "/sub/up");
        assert!(bad[1].1.contains("link back to"), "{bad:?}");
    }

    #[test]
    fn a_glob_that_matches_nothing_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        let glob = format!("{}/*.log", dir.path().display());
        assert!(matches!(
            expand(&[Input::Path(glob)]),
            Err(LogError::NotFound(_))
        ));
    }
}
