//! `why401-loggen`: writes a seeded access log and its true counts (see the library docs).

use std::fs::File;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use why401_loggen::{Config, Format, Sinks, generate, generate_joined, size};

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
    /// IIS only: also write the Windows events behind the log into this directory
    /// (WEB01-Security.xml, DC01-Security.xml, System.xml); their truth goes under "events"
    #[arg(long, value_name = "DIR")]
    events: Option<PathBuf>,
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
    let truth = match &args.events {
        Some(dir) => {
            std::fs::create_dir_all(dir).expect("create the events directory");
            let open = |name: &str| {
                std::io::BufWriter::new(
                    File::create(dir.join(name)).expect("create an events file"),
                )
            };
            let (mut web, mut dc, mut system) = (
                open("WEB01-Security.xml"),
                open("DC01-Security.xml"),
                open("System.xml"),
            );
            generate_joined(
                &cfg,
                file,
                Some(Sinks {
                    web: &mut web,
                    dc: &mut dc,
                    system: &mut system,
                }),
            )
        }
        None => generate(&cfg, file),
    };
    std::fs::write(
        &args.truth,
        serde_json::to_string_pretty(&truth).expect("json"),
    )
    .expect("write the truth file");
}
