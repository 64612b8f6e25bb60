//! What a pass over server logs established: counts, tables, a time series, and the per-source
//! and per-account facts the detectors read. Filled by `why401-logs`, judged by the doctor.

use serde::Serialize;

/// A key and how often it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyCount {
    pub key: String,
    pub count: u64,
}

/// A status / substatus / win32-status combination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeCount {
    pub status: u16,
    pub substatus: u32,
    pub win32: u64,
    pub count: u64,
    /// Of those, the legs of NTLM/Negotiate handshakes that then succeeded.
    pub handshake: u64,
    /// The combination in plain words, from the catalogue.
    pub meaning: String,
}

/// One input file (or stdin).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputInfo {
    pub path: String,
    pub format: String,
    pub bytes: u64,
    pub lines: u64,
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
    pub file: String,
    pub line: u64,
    pub reason: String,
    pub text: String,
}

/// A source IP and the accounts it failed against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceStats {
    pub ip: String,
    pub failures: u64,
    pub successes: u64,
    /// Distinct accounts it failed on (exact up to the cap, then a lower bound).
    pub users: u64,
    pub sample_users: Vec<String>,
    /// Its first and last failure; `None` when its lines carry no time.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// One source failing against one account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairStats {
    pub ip: String,
    pub user: String,
    pub failures: u64,
    pub successes: u64,
    /// Its first and last failure; `None` when its lines carry no time.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Hours (of the span) in which it failed at least once.
    pub failing_hours: u32,
    /// A sample line, `file:line`.
    pub example: String,
}

/// An account locked out (win32 1909 / NTSTATUS 0xC0000234).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lockout {
    pub user: String,
    pub count: u64,
    /// Its first and last lockout line; `None` when they carry no time.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Failures for the account before its first lockout line.
    pub failures_before: u64,
    pub sources: Vec<String>,
    pub example: String,
}

/// Requests and failures over time.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Series {
    /// Unix seconds of the first bucket.
    pub start: i64,
    pub bucket_secs: i64,
    pub requests: Vec<u64>,
    /// 401 responses per bucket (handshake legs included).
    pub unauthorized: Vec<u64>,
    /// 401/403/407 that were not handshake legs.
    pub failures: Vec<u64>,
}

/// What the failures looked like in one stretch of time (for naming what changed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mix {
    pub start: i64,
    pub failures: u64,
    pub urls: Vec<KeyCount>,
    pub agents: Vec<KeyCount>,
    pub codes: Vec<KeyCount>,
    /// The hour's tables reached their bound: its top URLs and agents are the frequent ones,
    /// their counts lower bounds.
    pub approximate: bool,
}

/// How a 401 was explained by the error log (nginx, Apache) when one was given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

/// The failing sources that tried only a few times each (at most [`Scattered::MAX_FAILURES`])
/// and never succeeded after, counted over every source, not only the top rows: credential
/// stuffing hides there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scattered {
    pub sources: u64,
    pub failures: u64,
    /// Distinct accounts they failed on (exact up to a few hundred per source).
    pub users: u64,
    /// Their first and last failure; `None` when none carried a time.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl Scattered {
    pub const MAX_FAILURES: u64 = 5;
}

/// Everything a log pass established.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogSummary {
    pub inputs: Vec<InputInfo>,
    /// Entries of the directories walked (and glob matches) that could not be read: dangling
    /// links, links back to an ancestor, directories that cannot be listed.
    pub unreadable: Vec<Unreadable>,
    pub lines: u64,
    pub requests: u64,
    pub unparsed: u64,
    pub unparsed_examples: Vec<Unparsed>,
    /// Lines outside --since/--until.
    pub filtered_out: u64,
    /// The times are an input's local clock (IIS `date-local`/`time-local`), not UTC: `first`,
    /// `last` and every time below are that clock's readings, written as if UTC.
    pub local_time: bool,
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub by_status: Vec<(u16, u64)>,
    /// 401 + 403 + 407 lines.
    pub auth_denials: u64,
    /// NTLM/Negotiate handshake legs (401 2 5, 401 1 2148074254) followed by success.
    pub handshake_noise: u64,
    /// Denials that are not handshake noise.
    pub real_failures: u64,
    pub by_code: Vec<CodeCount>,
    pub by_user: Vec<KeyCount>,
    pub by_ip: Vec<KeyCount>,
    pub by_url: Vec<KeyCount>,
    pub by_agent: Vec<KeyCount>,
    pub user_ip: Vec<PairStats>,
    pub sources: Vec<SourceStats>,
    pub scattered: Scattered,
    pub lockouts: Vec<Lockout>,
    pub reasons: Vec<ReasonCount>,
    pub distinct_failing_ips: u64,
    pub distinct_failing_users: u64,
    pub series: Series,
    pub mix: Vec<Mix>,
    /// Some tables are heavy-hitter estimates: the most frequent keys are right, the tail is cut.
    pub approximate: bool,
}
