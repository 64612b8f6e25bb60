//! Writing to the terminal: colour only when it is one (anstream honours NO_COLOR and
//! CLICOLOR_FORCE), prose wrapped to its width.

use std::io::Write;

use why401_render::Options;

/// Rendering options for stdout.
pub(crate) fn options() -> Options {
    Options {
        width: textwrap::termwidth().clamp(60, 110),
    }
}

/// Writes `text` to stdout, stripping styles when stdout is not a colour terminal.
pub(crate) fn print(text: &str) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// Writes a JSON document to stdout, pretty-printed, through one buffer.
pub(crate) fn json(value: &impl serde::Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()
}

/// Writes bytes to stdout as they are (completions, the man page).
pub(crate) fn raw(bytes: &[u8]) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()
}

/// Whether `e` comes from writing to a pipe whose reader has gone (`why401 … | head -1`).
pub(crate) fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// A `warning:` line on stderr.
pub(crate) fn warning(text: &str) -> std::io::Result<()> {
    let yellow = anstyle::AnsiColor::Yellow.on_default().bold();
    let mut err = anstream::stderr().lock();
    writeln!(err, "{yellow}warning{yellow:#}: {text}")
}

/// An `error:` line on stderr.
pub(crate) fn error(text: &str) -> std::io::Result<()> {
    let red = anstyle::AnsiColor::Red.on_default().bold();
    let mut err = anstream::stderr().lock();
    writeln!(err, "{red}error{red:#}: {text}")
}
