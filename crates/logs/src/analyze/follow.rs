//! `--follow`: the plain files of a pass read again from where the pass left them.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use super::{LogError, Options, Pass, io};
use crate::acc::Acc;
use crate::format::{self, Format};

/// Where a followed file was read up to.
#[derive(Debug, Clone)]
pub(super) struct Tail {
    pub(super) path: PathBuf,
    pub(super) offset: u64,
    pub(super) format: Format,
    pub(super) file_id: usize,
    pub(super) chunks: usize,
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
