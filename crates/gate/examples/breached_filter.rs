//! Builds a breached-password filter for why401 gate from password lists.
//!
//! usage: cargo run --release -p why401-gate --example breached_filter -- OUT LIST...
//!
//! Each LIST has one password a line, or one SHA-1 in hex (Have I Been Pwned's `HASH:COUNT`
//! lines). `scripts/breached-filter.sh` fetches the public lists the bundled filter is made of
//! and runs this.

use std::process::ExitCode;

use why401_gate::breached::{Breached, key, key_of_sha1_hex};
use why401_gate::password::normalise;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, lists)) = args.split_first().filter(|(_, l)| !l.is_empty()) else {
        eprintln!("usage: breached_filter OUT LIST...");
        return ExitCode::from(2);
    };
    let mut keys = Vec::new();
    for list in lists {
        let bytes = match std::fs::read(list) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("{list}: {e}");
                return ExitCode::FAILURE;
            }
        };
        // Lists are not all UTF-8 (RockYou has Latin-1 lines): those lines are skipped, and
        // counted.
        let (mut taken, mut skipped) = (0usize, 0usize);
        for line in bytes.split(|b| *b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                continue;
            }
            match std::str::from_utf8(line) {
                Ok(l) => {
                    keys.push(key_of_sha1_hex(l).unwrap_or_else(|| key(&normalise(l))));
                    taken += 1;
                }
                Err(_) => skipped += 1,
            }
        }
        eprintln!("{list}: {taken} passwords, {skipped} lines not UTF-8 skipped");
    }
    let filter = match Breached::build(keys) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("building the filter: {e}");
            return ExitCode::FAILURE;
        }
    };
    let bytes = filter.to_bytes();
    if let Err(e) = std::fs::write(out, &bytes) {
        eprintln!("{out}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!(
        "{out}: {} distinct passwords in {} bytes",
        filter.passwords,
        bytes.len()
    );
    ExitCode::SUCCESS
}
