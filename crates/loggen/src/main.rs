//! `why401-loggen`: writes a seeded access log and its true counts (see the library docs).

use std::fs::File;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use why401_loggen::{Config, Format, generate, size};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    Iis,
    Ncsa,
    Json,
}

/// Writes a seeded access log and its true counts.
#[derive(Debug, Parser)]
#[command(name = "why401-loggen")]
struct Args {
    #[arg(long, value_enum)]
    format: Kind,
    /// Approximate size, e.g. 200M, 1G, 10G.
    #[arg(long, default_value = "100M", value_parser = size)]
    size: u64,
    #[arg(long, default_value_t = 401)]
    seed: u64,
    /// Days the log spans.
    #[arg(long, default_value_t = 7)]
    days: i64,
    #[arg(long)]
    out: PathBuf,
    /// Where to write the true counts (JSON).
    #[arg(long)]
    truth: PathBuf,
}

fn main() {
    let args = Args::parse();
    let format = match args.format {
        Kind::Iis => Format::Iis,
        Kind::Ncsa => Format::Ncsa,
        Kind::Json => Format::Json,
    };
    let cfg = Config {
        format,
        size: args.size,
        seed: args.seed,
        days: args.days,
    };
    let file = File::create(&args.out).expect("create the output file");
    let truth = generate(&cfg, file);
    std::fs::write(
        &args.truth,
        serde_json::to_string_pretty(&truth).expect("json"),
    )
    .expect("write the truth file");
}
