//! What a pass over server logs established: counts, tables, a time series, and the per-source
//! and per-account facts the detectors read. Filled by `why401-logs`, judged by the doctor.

use serde::Serialize;

/// A key and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCount {
    /// What is counted: an account, a client IP, a URL, a user agent or a code; `(none)` when the
    /// field was empty.
    pub key: String,
    /// How many lines had it (real failures, in the failure tables).
    pub count: u64,
}

/// A status / substatus / win32-status combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    /// `sc-status`: 401, 403 or 407.
    pub status: u16,
    /// `sc-substatus`; 0 for formats without IIS's codes.
    pub substatus: u32,
    /// `sc-win32-status` as logged, in decimal (HRESULTs and NTSTATUS too); 0 for formats without
    /// it.
    pub win32: u64,
    /// Denial lines with this combination.
    pub count: u64,
    /// Of those, the legs of NTLM/Negotiate handshakes that then succeeded.
    pub handshake: u64,
    /// The combination in plain words, from the catalogue.
    pub meaning: String,
}

/// One input file (or stdin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    /// The input as named on the command line (a file of a directory or glob expanded), or
    /// `(stdin)`.
    pub path: String,
    /// The format read: `iis-w3c`, `combined`, `custom`, `json-<preset>` or `error-log`.
    pub format: String,
    /// Bytes of log text read from it (after decompression).
    pub bytes: u64,
    /// Lines read from it.
    pub lines: u64,
    /// Of those, lines that could not be read as a request.
    pub unparsed: u64,
    /// Set when the input could not be read to its valid end (a truncated or corrupt `.gz` or
    /// `.zst`, a read error): the decoder's error. `lines` and `bytes` (of decoded text) then
    /// count the whole lines before it; the partial line at the cut is not counted.
    pub ended_early: Option<String>,
}

/// A file or directory entry met while expanding the inputs that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unreadable {
    /// The entry as the walk met it (a link's own path, not its target).
    pub path: String,
    /// Why: the system's error, or the link loop that was not followed.
    pub error: String,
}

/// A line that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unparsed {
    /// The input it came from, named as in [`InputInfo::path`].
    pub file: String,
    /// Its 1-based line number in that input.
    pub line: u64,
    /// Why it could not be read, e.g. `fewer fields than the #Fields directive lists`.
    pub reason: String,
    /// The line itself, cut short when long.
    pub text: String,
}

/// A source IP and the accounts it failed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    /// The client IP as logged.
    pub ip: String,
    /// Its real failures (denials that were not handshake legs).
    pub failures: u64,
    /// Its successful requests (status below 400) after its first failure.
    pub successes: u64,
    /// Distinct accounts it failed on (exact up to the cap, then a lower bound).
    pub users: u64,
    /// A few of those accounts, sorted.
    pub sample_users: Vec<String>,
    /// Time of its first real failure, Unix seconds; `None` when no line carried a time.
    pub first: Option<i64>,
    /// Time of its last real failure, Unix seconds; `None` when no line carried a time.
    pub last: Option<i64>,
}

/// One source failing against one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairStats {
    /// The client IP as logged.
    pub ip: String,
    /// The account name as logged.
    pub user: String,
    /// Real failures of this IP against this account.
    pub failures: u64,
    /// Successful requests of the pair (status below 400) after its first failure.
    pub successes: u64,
    /// Time of the pair's first real failure, Unix seconds; `None` when no line carried a time.
    pub first: Option<i64>,
    /// Time of the pair's last real failure, Unix seconds; `None` when no line carried a time.
    pub last: Option<i64>,
    /// Hours (of the span) in which it failed at least once.
    pub failing_hours: u32,
    /// A sample line, `file:line`.
    pub example: String,
}

/// An account locked out (win32 1909 / NTSTATUS 0xC0000234).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lockout {
    /// The locked-out account as logged.
    pub user: String,
    /// Lockout lines for the account.
    pub count: u64,
    /// Time of its first lockout line, Unix seconds; `None` when no line carried a time.
    pub first: Option<i64>,
    /// Time of its last lockout line, Unix seconds; `None` when no line carried a time.
    pub last: Option<i64>,
    /// Failures for the account before its first lockout line.
    pub failures_before: u64,
    /// Client IPs of its lockout lines (the first few), sorted.
    pub sources: Vec<String>,
    /// One of its lockout lines, `file:line`.
    pub example: String,
}

/// Requests and failures over time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Series {
    /// Unix seconds of the first bucket.
    pub start: i64,
    /// Width of each bucket in seconds, chosen to fit the span (a minute for a short log, up to
    /// a week for a long one).
    pub bucket_secs: i64,
    /// Requests per bucket.
    pub requests: Vec<u64>,
    /// 401 responses per bucket (handshake legs included).
    pub unauthorized: Vec<u64>,
    /// 401/403/407 that were not handshake legs.
    pub failures: Vec<u64>,
}

/// What the failures looked like in one stretch of time (for naming what changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mix {
    /// The hour's start, Unix seconds.
    pub start: i64,
    /// Real failures in that hour.
    pub failures: u64,
    /// The hour's URLs with the most real failures, most first.
    pub urls: Vec<KeyCount>,
    /// The hour's user agents with the most real failures, most first.
    pub agents: Vec<KeyCount>,
    /// The hour's most frequent `status substatus win32` of real failures, written `401 1 1326`,
    /// most first.
    pub codes: Vec<KeyCount>,
    /// The hour's tables reached their bound: its top URLs and agents are the frequent ones,
    /// their counts lower bounds.
    pub approximate: bool,
}

/// How a 401 was explained by the error log (nginx, Apache) when one was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    /// What the error log said: `wrong password`, `unknown user`, `no credentials sent` or
    /// `wrong authentication scheme`.
    pub reason: String,
    /// Denials the error log explained so.
    pub count: u64,
}

/// The failing sources that tried only a few times each (at most [`Scattered::MAX_FAILURES`])
/// and never succeeded after, counted over every source, not only the top rows: credential
/// stuffing hides there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scattered {
    /// How many such sources.
    pub sources: u64,
    /// Their failures together.
    pub failures: u64,
    /// Distinct accounts they failed on (exact up to a few hundred per source).
    pub users: u64,
    /// Time of the first of those failures, Unix seconds; `None` when no line carried a time.
    pub first: Option<i64>,
    /// Time of the last of those failures, Unix seconds; `None` when no line carried a time.
    pub last: Option<i64>,
}

impl Scattered {
    /// The most failures a source may have and still count as scattered.
    pub const MAX_FAILURES: u64 = 5;
}

/// Everything a log pass established.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogSummary {
    /// Every input read, in order, error logs included.
    pub inputs: Vec<InputInfo>,
    /// Entries of the directories walked (and glob matches) that could not be read: dangling
    /// links, links back to an ancestor, directories that cannot be listed.
    pub unreadable: Vec<Unreadable>,
    /// Every line counted: `requests` + `unparsed` + `filtered_out`.
    pub lines: u64,
    /// Lines read as a request inside the time window.
    pub requests: u64,
    /// Lines that could not be read as a request.
    pub unparsed: u64,
    /// The first few unparsable lines, at their real `file:line`.
    pub unparsed_examples: Vec<Unparsed>,
    /// Lines outside --since/--until.
    pub filtered_out: u64,
    /// The times are an input's local clock (IIS `date-local`/`time-local`), not UTC: `first`,
    /// `last` and every time below are that clock's readings, written as if UTC.
    pub local_time: bool,
    /// Time of the earliest request in the window, Unix seconds; `None` when no line had a time.
    pub first: Option<i64>,
    /// Time of the latest request in the window, Unix seconds; `None` when no line had a time.
    pub last: Option<i64>,
    /// Requests per HTTP status, in order of status; statuses never seen are left out.
    pub by_status: Vec<(u16, u64)>,
    /// 401 + 403 + 407 lines.
    pub auth_denials: u64,
    /// NTLM/Negotiate handshake legs (401 2 5, 401 1 2148074254) followed by success.
    pub handshake_noise: u64,
    /// Denials that are not handshake noise.
    pub real_failures: u64,
    /// Denials per `status substatus win32`, most frequent first.
    pub by_code: Vec<CodeCount>,
    /// Accounts with the most real failures, most first (the top rows only).
    pub by_user: Vec<KeyCount>,
    /// Client IPs with the most real failures, most first (the top rows only).
    pub by_ip: Vec<KeyCount>,
    /// Request URIs with the most real failures, most first (the top rows only).
    pub by_url: Vec<KeyCount>,
    /// User agents with the most real failures, most first, IIS's `+` turned back into spaces.
    pub by_agent: Vec<KeyCount>,
    /// (client IP, account) pairs with the most real failures, most first.
    pub user_ip: Vec<PairStats>,
    /// Client IPs with the most real failures, most first, with the accounts each failed on.
    pub sources: Vec<SourceStats>,
    /// Failing sources that tried only a few times and never got in: credential stuffing's trace.
    pub scattered: Scattered,
    /// Accounts locked out, most lockout lines first.
    pub lockouts: Vec<Lockout>,
    /// Denials per reason the error logs gave, most frequent first; empty without an error log.
    pub reasons: Vec<ReasonCount>,
    /// How many client IPs had a real failure (a lower bound when `approximate`).
    pub distinct_failing_ips: u64,
    /// How many accounts had a real failure (a lower bound when `approximate`).
    pub distinct_failing_users: u64,
    /// Requests, 401s and real failures over time.
    pub series: Series,
    /// The failures of each hour, in order, for naming what changed.
    pub mix: Vec<Mix>,
    /// Some tables are heavy-hitter estimates: the most frequent keys are right, the tail is cut.
    pub approximate: bool,
}
