//! The command line, as clap derive structs.

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;

/// Finds why an HTTP request gets 401 Unauthorized, and says how to fix it.
#[derive(Debug, Parser)]
#[command(name = "why401", version, about, long_about = None, max_term_width = 100)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Probe a URL: drive the real request and handshake, name the root cause (also: why401 URL)
    #[command(after_help = PROBE_EXAMPLES)]
    Probe(ProbeArgs),
    /// Probe a request copied from a browser ("Copy as cURL"): why401 curl -- ARGS, or on stdin
    Curl(CurlArgs),
    /// Read server access logs (IIS W3C, nginx/Apache, JSON lines; plain, .gz, .zst, stdin): every 401, decoded
    #[command(after_help = LOGS_EXAMPLES)]
    Logs(LogsArgs),
    /// Read server auth configuration (nginx or nginx -T, Apache and .htaccess, IIS applicationHost.config and web.config, htpasswd) for the causes of 401s before users meet them
    #[command(after_help = LINT_EXAMPLES)]
    Lint(LintArgs),
    /// Diagnose every 401/403/407 in a browser capture: a HAR, a Chrome/Edge NetLog, a Fiddler SAZ
    #[command(after_help = HAR_EXAMPLES)]
    Har(HarArgs),
    /// Start local servers that reproduce each classic 401 and diagnose them: the tour and the self-test
    Lab(LabArgs),
    /// Explain a code or finding: 401.2, "401 1 2148074254", 0xC000006D, 52e, KRB_AP_ERR_SKEW, "Failure Code: 0x18", a finding id
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain(ExplainArgs),
    /// Decode an auth header or token: WWW-Authenticate, Authorization, Set-Cookie, a JWT, NTLM or SPNEGO
    #[command(after_help = DECODE_EXAMPLES)]
    Decode(DecodeArgs),
    /// The authenticating gateway: serve it, check which access rule a request meets and why, manage its users
    #[command(after_help = GATE_EXAMPLES)]
    Gate(GateArgs),
    /// Print shell completions
    Completions {
        /// The shell to complete for
        shell: Shell,
    },
    /// Print the man page (roff)
    Man,
}

const PROBE_EXAMPLES: &str = "Examples:
  why401 https://intranet.example/reports/ -u 'CORP\\alice'     (the password is prompted for)
  why401 https://api.example/v1/orders --bearer @token.txt --expect-scope orders.read
  why401 http://app.example/ -x http://proxy:3128 --proxy-user bob --json
Passwords: after -u USER (prompted), --password-stdin, or WHY401_PASSWORD; -u USER:PASS works but lands in shell history.";

const LOGS_EXAMPLES: &str = "Examples:
  why401 logs 'C:/inetpub/logs/LogFiles/W3SVC1/u_ex*.log'
  why401 logs /var/log/nginx/access.log* /var/log/nginx/error.log      (error logs say why: wrong password, unknown user)
  why401 logs access.log --format '$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent'
  zcat access.log.gz | why401 logs --json > report.json
  why401 logs u_ex*.log --html report.html --since 2026-11-20
  why401 logs u_ex261127_x.log --format iis     (a fragment without its #Fields line: IIS's default fields)
Detector thresholds (defaults): --brute-force 20 failures of one IP against one account, --spray-users 10 accounts
from one IP, --stuffing-sources 20 and --stuffing-users 20, --stuck-hours 2, --regression-factor 3.";

const HAR_EXAMPLES: &str = "Examples:
  why401 har session.har                      (DevTools > Network > Export HAR)
  why401 har chrome-net-export-log.json       (chrome://net-export with \"Include cookies and credentials\": every leg)
  why401 har capture.saz --flow 3 --verbose   (one flow with its heads, secrets redacted)
  why401 har session.har --redact-out share.har   (a copy safe to attach to a ticket)
Secrets stay redacted unless --show-secrets; nothing leaves the machine.";

const LINT_EXAMPLES: &str = "Examples:
  why401 lint /etc/nginx/nginx.conf            (its includes are followed; the password files it names are read)
  nginx -T | why401 lint -                     (a running server's whole configuration)
  why401 lint /etc/nginx --sarif > lint.sarif  (for code-scanning UIs)
  why401 lint /etc/apache2/apache2.conf       (Include/IncludeOptional followed, .htaccess files judged)
  why401 lint C:/Windows/System32/inetsrv/config/applicationHost.config   (each site's web.config read with it)
  why401 lint /etc/nginx/htpasswd
Exit: 0 clean (notes at most), 1 a finding at warning or above, 2 an input that could not be read.";

const EXPLAIN_EXAMPLES: &str = "Examples:
  why401 explain 401.2
  why401 explain 401 1 2148074254     (status, substatus, win32 status from an IIS log line)
  why401 explain 0xC000006D
  why401 explain 'data 52e'
  why401 explain credentials-rejected
  why401 explain --list";

const GATE_EXAMPLES: &str = "Examples:
  why401 gate check --url https://app.example.com/admin/users --user alice --group admins --ip 10.1.2.3
  why401 gate check --config gate.toml --url https://reports.example.com/ --at 2026-12-07T07:30:00+01:00
  why401 gate check --url http://127.0.0.1/healthz --json     (the embedded demo configuration)
  why401 gate user add alice --group admins                    (the password is prompted for twice)
  why401 gate --config gate.toml user import /etc/nginx/htpasswd --group staff
  why401 gate explain 3f2a9c0d1e5b4a7f8c6d2e1b0a9f8e7d       (the request id a denial carried)
Exit: 0 the request gets through as it is, 1 it is refused or must log in first, 2 a bad configuration.";

/// `why401 gate`.
#[derive(Debug, Args)]
pub(crate) struct GateArgs {
    /// The gateway's configuration (default: the embedded demo configuration)
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<std::path::PathBuf>,
    /// The user store, a SQLite file (default: the config's [store] sqlite, else gate.db next
    /// to the config, else why401/gate.db in the user's data directory)
    #[arg(long, value_name = "FILE", global = true)]
    pub store: Option<std::path::PathBuf>,
    /// Without a command: serve (the decision endpoints for nginx, Traefik and Caddy)
    #[command(subcommand)]
    pub command: Option<GateCommand>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateCommand {
    /// Which access rule a request meets, why each rule before it did not, and what the gateway answers
    Check(GateCheckArgs),
    /// The gateway's users: add, passwd, disable, enable, list, groups, import
    #[command(subcommand)]
    User(GateUserCommand),
    /// Browser sessions: list them, or revoke one (by the id list shows) or all of a user's
    #[command(subcommand)]
    Sessions(GateSessionsCommand),
    /// Locked accounts and throttled addresses: list them, or lift them
    #[command(subcommand)]
    Bans(GateBansCommand),
    /// TOTP (authenticator app) second factors: enrol one for a user
    #[command(subcommand)]
    Totp(GateTotpCommand),
    /// A user's second factors: list, remove, new recovery codes
    #[command(subcommand)]
    Factors(GateFactorsCommand),
    /// Why the gateway answered a request as it did: the rule, the criterion that failed, the refused credentials' cause
    Explain {
        /// The request id (X-Request-Id, or request_id in the problem document)
        request_id: String,
        /// Print JSON (the audit log's lines for it)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateSessionsCommand {
    /// List the sessions, newest first
    List {
        /// Only this user's
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// End a session (the id as list shows it) or every session of a user
    Revoke {
        /// A session id (its first 12 characters are enough) or a user name
        target: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateTotpCommand {
    /// Make a TOTP secret for a user: its otpauth URI and a QR code to scan, and recovery codes if the user has none (all shown once)
    Enroll {
        /// The user name
        user: String,
        /// What the user calls it
        #[arg(long, default_value = "authenticator app")]
        label: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateFactorsCommand {
    /// List a user's second factors
    List {
        /// The user name
        user: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Remove one of a user's second factors (the id list shows; 8 characters are enough)
    Remove {
        /// The user name
        user: String,
        /// The factor's id
        id: String,
    },
    /// Make new recovery codes for a user (the old ones stop working; shown once)
    Recovery {
        /// The user name
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateBansCommand {
    /// List the locks and throttles in force
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Lift the lock of a user, or the throttle of an address, or all of them
    Clear {
        /// A user name or an address (without it: all)
        target: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum GateUserCommand {
    /// Add a user (the password is prompted for twice, or read with --password-stdin or WHY401_GATE_PASSWORD)
    Add {
        /// The user name
        name: String,
        /// A group (repeatable)
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
        /// An address for notifications
        #[arg(long, value_name = "ADDRESS")]
        email: Option<String>,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's password
    Passwd {
        /// The user name
        name: String,
        /// Read the password from the first line of stdin
        #[arg(long)]
        password_stdin: bool,
    },
    /// Refuse a user's logins
    Disable {
        /// The user name
        name: String,
    },
    /// Let a disabled user log in again
    Enable {
        /// The user name
        name: String,
    },
    /// List the users
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show a user's groups, or change them
    Groups {
        /// The user name
        name: String,
        /// A group to add (repeatable)
        #[arg(long, value_name = "GROUP")]
        add: Vec<String>,
        /// A group to remove (repeatable)
        #[arg(long, value_name = "GROUP")]
        remove: Vec<String>,
    },
    /// Import the users of an htpasswd file (bcrypt and $apr1$ hashes, upgraded to Argon2id at each user's next login)
    Import {
        /// The htpasswd file
        file: std::path::PathBuf,
        /// A group for every imported user (repeatable)
        #[arg(long = "group", value_name = "GROUP")]
        groups: Vec<String>,
    },
}

/// `why401 gate check`.
#[derive(Debug, Args)]
pub(crate) struct GateCheckArgs {
    /// The request's URL
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The user, as authenticated (without it: an anonymous request)
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// A group of the user (repeatable; default: the user's groups in the store, if there)
    #[arg(long = "group", value_name = "GROUP", requires = "user")]
    pub groups: Vec<String>,
    /// The client's address, as the gateway trusts it
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub ip: std::net::IpAddr,
    /// The request's method
    #[arg(long, value_name = "METHOD", default_value = "GET")]
    pub method: String,
    /// When (RFC 3339, e.g. 2026-12-07T09:30:00+01:00; default: now), for rules with time windows
    #[arg(long, value_name = "TIME")]
    pub at: Option<String>,
    /// The client's country (ISO 3166-1 alpha-2), for rules with countries
    #[arg(long, value_name = "CC")]
    pub country: Option<String>,
    /// The managed device's certificate subject, for rules with devices = "managed"
    #[arg(long, value_name = "SUBJECT")]
    pub device: Option<String>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

const DECODE_EXAMPLES: &str = "Examples:
  why401 decode 'WWW-Authenticate: Basic; realm=\"intranet\"'
  why401 decode eyJhbGciOiJSUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln --expect-audience api://orders
  curl -sI https://example.com | why401 decode        (several lines: several headers)";

/// Options shared by `probe` and `curl`.
#[derive(Debug, Args)]
pub(crate) struct ProbeOptions {
    /// Credentials: USER, DOMAIN\\USER or USER:PASS (without :PASS the password is prompted for)
    #[arg(short = 'u', long = "user", value_name = "USER[:PASS]")]
    pub user: Option<String>,
    /// Read the password from the first line of stdin
    #[arg(long)]
    pub password_stdin: bool,
    /// A bearer token, or @FILE holding one
    #[arg(long, value_name = "TOKEN|@FILE")]
    pub bearer: Option<String>,
    /// Proxy to use (otherwise HTTP(S)_PROXY / NO_PROXY from the environment)
    #[arg(short = 'x', long, value_name = "URL")]
    pub proxy: Option<String>,
    /// Proxy credentials USER[:PASS] (password prompted, or WHY401_PROXY_PASSWORD)
    #[arg(long, value_name = "USER[:PASS]")]
    pub proxy_user: Option<String>,
    /// Accept any TLS certificate (the chain is still recorded and judged)
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Extra trusted CA certificates (PEM)
    #[arg(long, value_name = "FILE")]
    pub cacert: Option<std::path::PathBuf>,
    /// How many redirects to follow
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_redirs: u32,
    /// Send credentials across redirects to other origins too (to prove a redirect drops them)
    #[arg(long)]
    pub location_trusted: bool,
    /// Reach HOST:PORT at ADDR without asking DNS, as curl's --resolve (repeatable; ADDR may be
    /// a comma-separated list; IPv6 in brackets)
    #[arg(long, value_name = "HOST:PORT:ADDR")]
    pub resolve: Vec<String>,
    /// Probe every address the name resolves to, with the same credentials, and compare (a farm
    /// behind one name: one node with a stale keytab or machine password is an intermittent 401)
    #[arg(long)]
    pub each_address: bool,
    /// Ask this DNS server (ADDR or ADDR:PORT) instead of the system's resolver: for split-horizon
    /// DNS, or to see what another site's clients resolve
    #[arg(long, value_name = "ADDR[:PORT]")]
    pub dns_server: Option<String>,
    /// Answer only with this scheme: basic, digest, ntlm, negotiate
    #[arg(long, value_name = "SCHEME")]
    pub auth_type: Option<String>,
    /// Negotiate (Kerberos) only; without -u, with your own tickets from kinit (the MIT
    /// credential cache: KRB5CCNAME, else the default), as curl --negotiate -u :
    #[arg(long)]
    pub negotiate: bool,
    /// The Kerberos KDC (HOST[:PORT]) instead of krb5.conf [realms] or DNS SRV _kerberos._tcp
    #[arg(long, value_name = "HOST[:PORT]")]
    pub kdc: Option<String>,
    /// Send your TGT to the service for a second hop, as curl: none, policy (only to services
    /// the KDC marks ok-as-delegate), always
    #[arg(long, value_name = "LEVEL", default_value = "none")]
    pub delegation: String,
    /// A scope the token must carry (repeatable)
    #[arg(long, value_name = "SCOPE")]
    pub expect_scope: Vec<String>,
    /// The audience the token must carry
    #[arg(long, value_name = "AUD")]
    pub expect_audience: Option<String>,
    /// The issuer the token must come from
    #[arg(long, value_name = "ISS")]
    pub expect_issuer: Option<String>,
    /// Do not look at sibling URLs (http/https, trailing slash, certificate names)
    #[arg(long)]
    pub no_siblings: bool,
    /// Seconds to wait for each step
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub timeout: f64,
    /// Show the full exchange (secrets redacted)
    #[arg(short = 'v', long)]
    pub verbose: bool,
    /// Show passwords, tokens and cookies in full
    #[arg(long)]
    pub show_secrets: bool,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ProbeArgs {
    /// The URL to probe
    pub url: String,
    /// Extra header 'Name: value' (repeatable)
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Cookies 'a=b; c=d', or a Netscape cookie file
    #[arg(short = 'b', long = "cookie", value_name = "DATA|FILE")]
    pub cookie: Option<String>,
    /// HTTP method
    #[arg(short = 'X', long = "request", value_name = "METHOD")]
    pub method: Option<String>,
    /// Request body, or @FILE
    #[arg(short = 'd', long = "data", value_name = "DATA")]
    pub data: Option<String>,
    #[command(flatten)]
    pub opts: ProbeOptions,
}

#[derive(Debug, Args)]
pub(crate) struct CurlArgs {
    /// The curl arguments (after `--`); none reads the command from stdin
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub args: Vec<String>,
    #[command(flatten)]
    pub opts: ProbeOptions,
}

#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// Log files, globs or directories; none or `-` reads stdin. Error logs are recognised and joined; so are Windows event logs (.evtx, Event Viewer / wevtutil XML exports), whose 4625/4776 say why each 401.1 happened
    pub inputs: Vec<String>,
    /// The format: iis (or w3c), combined, common, json, caddy, traefik, why401-gate (the gateway's audit log), in any case; or the server's own format string
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Where a JSON field lives: NAME=path.in.object (NAME: time, ip, user, method, uri, status, agent)
    #[arg(long = "field", value_name = "NAME=PATH")]
    pub fields: Vec<String>,
    /// IIS W3C: the fields of lines before any #Fields line (a rotated file's fragment), as #Fields lists them; implies --format iis [default: IIS's default fields]
    #[arg(long = "fields", value_name = "'date time ...'")]
    pub w3c_fields: Option<String>,
    /// Only lines at or after this time (RFC 3339, YYYY-MM-DD[ hh:mm[:ss]] UTC, or Unix seconds)
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only lines before this time
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Keep reading what is appended to the files and keep the summary live
    #[arg(long)]
    pub follow: bool,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
    /// Also write a self-contained HTML report
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Failures of one IP against one account that make a brute force
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub brute_force: u64,
    /// ... at this many attempts per minute at least (slower and steady is a stuck client)
    #[arg(long, default_value_t = 1.0, value_name = "PER_MIN")]
    pub brute_force_rate: f64,
    /// Accounts one IP fails on that make a password spray
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub spray_users: u64,
    /// Sources that make credential stuffing
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub stuffing_sources: u64,
    /// Accounts that make credential stuffing
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub stuffing_users: u64,
    /// Hours of steady failure without success that make a stuck client
    #[arg(long, default_value_t = 2, value_name = "H")]
    pub stuck_hours: u32,
    /// How many times the failure rate must rise to call it a regression
    #[arg(long, default_value_t = 3.0, value_name = "F")]
    pub regression_factor: f64,
    /// Event logs: only events of this account (any domain, any case)
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Event logs: only events from this client address
    #[arg(long, value_name = "ADDRESS")]
    pub ip: Option<String>,
    /// A 401.1 line and the event that explains it are at most this many seconds apart (one server's clock)
    #[arg(long, default_value_t = 2, value_name = "SECS")]
    pub match_window: i64,
    /// Bytes per scanned chunk of a plain file (0: chosen from the size); for tuning and tests
    #[arg(long, default_value_t = 0, value_name = "BYTES", hide = true)]
    pub chunk_size: usize,
}

#[derive(Debug, Args)]
pub(crate) struct LabArgs {
    /// Keep the servers running and print their URLs and a command to try on each
    #[arg(long)]
    pub serve: bool,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct HarArgs {
    /// The capture: a HAR, a NetLog (.json) or a SAZ; `-` reads stdin (not a SAZ)
    pub input: String,
    /// Show only flow N (numbers as the report gives them)
    #[arg(long, value_name = "N")]
    pub flow: Option<usize>,
    /// Show only flows with a URL containing PATTERN
    #[arg(long, value_name = "PATTERN")]
    pub url: Option<String>,
    /// Show the flows that worked too
    #[arg(long)]
    pub all: bool,
    /// Failing flows shown in full in the text report
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub limit: usize,
    /// Each leg's request and response heads (secrets redacted)
    #[arg(short, long)]
    pub verbose: bool,
    /// Print credentials, cookies and tokens as captured
    #[arg(long)]
    pub show_secrets: bool,
    /// Write a share-safe copy of the capture to FILE: credentials, cookies and tokens replaced
    #[arg(long, value_name = "FILE")]
    pub redact_out: Option<String>,
    /// Also write a self-contained HTML report
    #[arg(long, value_name = "FILE")]
    pub html: Option<std::path::PathBuf>,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct LintArgs {
    /// Files, directories or globs; `-` reads stdin (an nginx -T dump, a config, a password file)
    #[arg(required = true)]
    pub inputs: Vec<String>,
    /// Only findings at this severity or above: error, warning, info
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub severity: String,
    /// IIS: evaluate only this site (default: every site and application)
    #[arg(long, value_name = "NAME", conflicts_with = "path")]
    pub site: Option<String>,
    /// IIS: evaluate only this application, Site/App
    #[arg(long, value_name = "SITE/APP")]
    pub path: Option<String>,
    /// Print JSON (see docs/json.md)
    #[arg(long, conflicts_with = "sarif")]
    pub json: bool,
    /// Print SARIF 2.1.0 (for code-scanning UIs)
    #[arg(long)]
    pub sarif: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ExplainArgs {
    /// What to explain (several words are read together, so `401 2 5` needs no quotes)
    #[arg(required_unless_present = "list", allow_negative_numbers = true)]
    pub query: Vec<String>,
    /// List every code and finding id
    #[arg(long)]
    pub list: bool,
    /// Print JSON (see docs/json.md)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub(crate) struct DecodeArgs {
    /// A header line or token; several words are one line; none or `-` reads stdin (one header per line)
    // OsString: a header value may hold bytes that are not UTF-8 (an ISO-8859-1 realm).
    pub input: Vec<OsString>,
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

/// `why401 URL …` is `why401 probe URL …`: anything that is not a subcommand starts a probe.
pub(crate) fn normalise_args(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut v: Vec<OsString> = args.into_iter().collect();
    if let Some(first) = v.get(1).and_then(|a| a.to_str()) {
        let known = command().get_subcommands().any(|c| c.get_name() == first)
            || ["help", "-h", "--help", "-V", "--version"].contains(&first);
        if !known {
            v.insert(1, "probe".into());
        }
    }
    v
}

/// The clap command, for completions and the man page.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    #[test]
    fn cli_is_well_formed() {
        super::command().debug_assert();
    }

    #[test]
    fn a_url_means_probe() {
        let args = |v: &[&str]| {
            super::normalise_args(v.iter().map(OsString::from))
                .into_iter()
                .map(|a| a.into_string().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            args(&["why401", "https://x/"]),
            ["why401", "probe", "https://x/"]
        );
        assert_eq!(
            args(&["why401", "-u", "a", "https://x/"]),
            ["why401", "probe", "-u", "a", "https://x/"]
        );
        assert_eq!(
            args(&["why401", "explain", "401.2"]),
            ["why401", "explain", "401.2"]
        );
        assert_eq!(args(&["why401", "--version"]), ["why401", "--version"]);
    }
}
