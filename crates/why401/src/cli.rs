//! The command line, as clap derive structs.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// Finds why an HTTP request gets 401 Unauthorized, and says how to fix it.
#[derive(Debug, Parser)]
#[command(name = "why401", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain a code or finding: 401.2, "401 1 2148074254", 0xC000006D, 52e, KRB_AP_ERR_SKEW, a finding id
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Decode an auth header or token: WWW-Authenticate, Authorization, Set-Cookie, a JWT, NTLM or SPNEGO
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    /// Print shell completions
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
    /// Print the man page (roff)
    Man,
}

const EXPLAIN_EXAMPLES: &str = "Examples:
  why401 explain 401.2
  why401 explain 401 1 2148074254     (status, substatus, win32 status from an IIS log line)
  why401 explain 0xC000006D
  why401 explain 'data 52e'
  why401 explain credentials-rejected
  why401 explain --list";

const DECODE_EXAMPLES: &str = "Examples:
  why401 decode 'WWW-Authenticate: Basic; realm=\"intranet\"'
  why401 decode eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln --expect-audience api://orders
  curl -sI https://example.com | why401 decode        (several lines: several headers)";

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// What to explain (several words are read together, so `401 2 5` needs no quotes)
    #[arg(required_unless_present = "list")]
    pub query: Vec<String>,
    /// List every code and finding id
    #[arg(long)]
    pub list: bool,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// A header line or token; several words are one line; none or `-` reads stdin (one header per line)
    pub input: Vec<String>,
    /// Show passwords and whole tokens
    #[arg(long)]
    pub show_secrets: bool,
    /// The audience the token must carry (aud)
    #[arg(long, value_name = "AUD")]
    pub expect_audience: Option<String>,
    /// The issuer the token must come from (iss)
    #[arg(long, value_name = "ISS")]
    pub expect_issuer: Option<String>,
    /// A scope or role the token must carry (repeatable, or space-separated)
    #[arg(long, value_name = "SCOPE")]
    pub expect_scope: Vec<String>,
    /// Clock tolerance for exp/nbf/iat, in seconds
    #[arg(long, default_value_t = 60, value_name = "SECS")]
    pub leeway: i64,
    /// Judge times as of this moment instead of now (Unix seconds or RFC 3339)
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

/// Rewrites the arguments before clap sees them (room for `why401 URL` = `why401 probe URL`).
pub fn normalise_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    args.into_iter().collect()
}

/// The clap command, for completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn cli_is_well_formed() {
        super::command().debug_assert();
    }
}
