//! The `why401` binary: argument parsing and wiring. The work happens in the library crates.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

// The log scan builds one table per chunk and thread, then frees it at the merge: mimalloc's
// per-thread free lists took the allocator from about a sixth of the profile to noise.
// `no_thp`: mimalloc asks for transparent huge pages on its regions, and every region it
// purged and reused was then faulted in again as a whole zeroed 2 MB page (a tenth of the
// scan's time went to the kernel's `clear_page`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = cli::Cli::parse_from(cli::normalise_args(std::env::args_os()));
    match commands::run(cli) {
        Ok(code) => code,
        // The reader stopped early (`| head -1`): its choice, not a failure, so end quietly
        // as ripgrep does. Rust ignores SIGPIPE, so every write reports it as this error.
        Err(e) if output::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = output::error(&format!("{e:#}"));
            ExitCode::from(2)
        }
    }
}
