//! What a pass over Windows event logs established (the web server's and the domain
//! controllers' Security logs, the System log), and how it joined the access logs: filled by
//! `why401-events`, judged by the doctor.
//!
//! Every failure table is built from the events that say why a logon failed: 4625 (a logon
//! refused on the machine that logged it), 4771 (Kerberos pre-authentication refused by a KDC)
//! and 4776 (NTLM credentials refused by the machine that checked them).

use serde::Serialize;

use crate::logs::{KeyCount, PairStats, Scattered, SourceStats};

/// One event log read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventInput {
    /// The input as named on the command line (a file of a directory or glob expanded).
    pub path: String,
    /// `evtx` or `xml` (an Event Viewer or `wevtutil qe /f:xml` export).
    pub format: String,
    /// Records read from it (every event, whatever its id).
    pub records: u64,
    /// Records or chunks that could not be read (each is in [`EventSummary::problems`], the
    /// first ones with their place).
    pub unreadable: u64,
    /// The computers whose events it holds (`System/Computer`), the first few.
    pub computers: Vec<String>,
}

/// A chunk or record that could not be read, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordProblem {
    /// The input, as in [`EventInput::path`].
    pub file: String,
    /// Where in it: `chunk 3`, `record 1712`, or `event 12` (the 1-based position of an
    /// `<Event>` element of an XML export).
    pub place: String,
    /// What the reader said.
    pub error: String,
}

/// Events of one id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IdCount {
    /// The event id (`4625`).
    pub id: u32,
    /// What it is, from the catalogue; empty for ids why401 does not read.
    pub name: String,
    /// Records with this id in the time window.
    pub count: u64,
    /// whether why401 reads it (the others are counted and left alone).
    pub read: bool,
}

/// A reason logons failed, as the events give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    /// The status that says why: the 4625 `SubStatus` when it says more than `Status`
    /// (`0xC000006A`), a 4776 or 4771 status (`0x18`), written as the catalogue writes it.
    pub code: String,
    /// Its short meaning: `wrong password`, `account disabled`, `pre-authentication failed`.
    pub reason: String,
    /// Failures with this reason.
    pub count: u64,
}

/// An account's failures by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountFailures {
    /// The account, `DOMAIN\user` as the event names it (`user` alone when it names no domain).
    pub user: String,
    /// Its failure events.
    pub failures: u64,
    /// Why, most frequent first.
    pub reasons: Vec<Reason>,
    /// Where they came from (client address, else workstation), most failures first.
    pub sources: Vec<KeyCount>,
    /// Time of its first failure, Unix seconds.
    pub first: i64,
    /// Time of its last failure, Unix seconds.
    pub last: i64,
}

/// One place bad passwords for a locked account came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Culprit {
    /// The client address, or the workstation name when the event carries no address (4776).
    pub source: String,
    /// The workstation the events name, when one does.
    pub workstation: Option<String>,
    /// The process that asked for the logon (4625 `ProcessName`, e.g. `w3wp.exe` for IIS).
    pub process: Option<String>,
    /// The computer that logged the failures (a web server, a domain controller).
    pub logged_by: String,
    /// Failures from it in the lockout window before the lockout.
    pub failures: u64,
    /// The events they came from: `4625`, `4771`, `4776`.
    pub events: Vec<u32>,
    /// The last of them, Unix seconds.
    pub last: i64,
    /// The user agents of the access log's refused requests of this account from this address
    /// (when access logs were given): a phone's mail app, a mapped drive, a service.
    pub agents: Vec<KeyCount>,
}

/// An account locked out (4740), and who sent the bad passwords before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LockoutEvent {
    /// The locked account (`TargetUserName`, with its domain when named).
    pub user: String,
    /// When, Unix seconds (the first lockout of the account when it locked more than once).
    pub time: i64,
    /// How many times it was locked out in the window.
    pub count: u64,
    /// The domain controller that logged it.
    pub dc: String,
    /// 4740's Caller Computer Name: the machine the bad passwords reached the DC through (a
    /// web server, a workstation); empty when Windows did not know it.
    pub caller: String,
    /// Where the bad passwords came from, most failures first, from the failures for the
    /// account in the [`LockoutEvent::WINDOW`] before the lockout.
    pub culprits: Vec<Culprit>,
    /// When it was unlocked (4767), Unix seconds, if it was.
    pub unlocked: Option<i64>,
    /// Processes that used the account's password explicitly (4648) in the window before the
    /// lockout: `svc.exe on APP01 (for FILES01)`. A service or scheduled task with a saved,
    /// old password shows here.
    pub explicit: Vec<String>,
}

impl LockoutEvent {
    /// How far back before a lockout failures are taken as its cause: AD's default
    /// observation window is 30 minutes at most; an hour covers a longer one too.
    pub const WINDOW: i64 = 3600;
}

/// A Kerberos problem the KDC or the Kerberos client logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KerberosIssue {
    /// What kind: `spn-unknown` (4769 0x7), `clock-skew` (0x25), `etype-unsupported` (0xE and
    /// the KDC's encryption-type events), `duplicate-spn` (KDC event 11), `ticket-rejected`
    /// (System event 4, KRB_AP_ERR_MODIFIED), `client-unknown` (0x6), `preauth-failed` (0x18).
    pub kind: String,
    /// The status as logged (`0x7`), or the event id for events without one (`KDC 11`).
    pub code: String,
    /// The service or name concerned: the SPN asked for, the duplicate name, the target name.
    pub target: String,
    /// Events of this kind for this target.
    pub count: u64,
    /// Client addresses (or the server the error came from), the first few.
    pub clients: Vec<String>,
    /// Accounts concerned, the first few.
    pub accounts: Vec<String>,
    /// The event ids it came from.
    pub events: Vec<u32>,
    /// Time of the first one, Unix seconds.
    pub first: i64,
    /// Time of the last one, Unix seconds.
    pub last: i64,
    /// One of them, `file#record`.
    pub example: String,
    /// What the event's text adds (an encryption type list, the account a duplicate name is
    /// on), when it has more.
    pub detail: Option<String>,
}

/// Which protocol network logons (4624 type 3) used.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NtlmUse {
    /// Network logons of user accounts (anonymous logons and machine accounts left out).
    pub network_logons: u64,
    /// Of those, by Kerberos.
    pub kerberos: u64,
    /// Of those, by NTLM (`AuthenticationPackageName` NTLM, or Negotiate that chose NTLM).
    pub ntlm: u64,
    /// Of the NTLM ones, NTLM version 1 (`LmPackageName` `NTLM V1` or `LM`).
    pub ntlm_v1: u64,
    /// Accounts that logged on with NTLM, most first.
    pub accounts: Vec<KeyCount>,
    /// Client addresses (or workstations) that did, most first.
    pub clients: Vec<KeyCount>,
    /// Accounts and clients that used NTLMv1, most first (`account from client`).
    pub v1: Vec<KeyCount>,
    /// The computers that logged these logons.
    pub servers: Vec<String>,
}

/// Logons refused for the state of the account rather than a wrong password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountState {
    /// The account.
    pub user: String,
    /// `disabled`, `expired`, `password-expired`, `must-change-password`, `locked-out`,
    /// `logon-hours`, `workstation-restriction`, `logon-type-not-granted`.
    pub state: String,
    /// The status that says so (`0xC0000072`).
    pub code: String,
    /// Refusals.
    pub count: u64,
    /// Time of the first, Unix seconds.
    pub first: i64,
    /// Time of the last, Unix seconds.
    pub last: i64,
    /// Where the attempts came from (address, else workstation), the first few.
    pub sources: Vec<String>,
    /// The processes that asked (a service, `w3wp.exe`), the first few.
    pub processes: Vec<String>,
    /// The logon types asked for, with their names: `5 (Service)`, `3 (Network)`.
    pub logon_types: Vec<String>,
}

/// A reason and how often it explained a key's refused requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explained {
    /// An account or a client address, as the access log wrote it.
    pub key: String,
    /// The reason, as in [`Reason`]: `0xC000006A wrong password`.
    pub reason: String,
    /// Access-log lines it explained.
    pub count: u64,
}

/// How the access logs' logon failures met the events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Correlation {
    /// A line and an event match when they are this many seconds apart at most.
    pub window_secs: i64,
    /// Access-log lines that are logon failures (401 with a logon-failure `sc-win32-status`:
    /// 1326, 1909, 1331, 1330, 1793, 1907, 1327, 1328, 1329, 0x8009030C).
    pub logon_lines: u64,
    /// Of those, lines that found their event (same account, same client address when the
    /// event has one, within the window; each event explains one line).
    pub matched: u64,
    /// Of those, lines matched by a 4776 (which has no client address: account and time only).
    pub matched_without_address: u64,
    /// Lines that found none.
    pub unmatched: u64,
    /// Why lines found none, with counts: `outside the events' time range`, `no failure event
    /// for the account`, `the account's events came from another address`, ...
    pub unmatched_why: Vec<KeyCount>,
    /// Said when no line could match at all, and the likely cause (auditing of logon failures
    /// off, the Security log of another server).
    pub note: Option<String>,
    /// Matched lines per reason, most first.
    pub reasons: Vec<Reason>,
    /// Per account: the reasons its refused requests had.
    pub by_user: Vec<Explained>,
    /// Per client address: the reasons its refused requests had.
    pub by_client: Vec<Explained>,
}

/// A logon failure of an access log (IIS `401 1 1326`), kept to be matched with events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessFailure {
    /// Unix seconds.
    pub time: i64,
    /// The client address as logged.
    pub ip: String,
    /// The account as logged (`CORP\jsmith`).
    pub user: String,
    /// The user agent, IIS's `+` turned back into spaces.
    pub agent: String,
    /// `sc-win32-status` as logged.
    pub win32: u64,
    /// The line, `file:line`.
    pub at: String,
}

/// Event failures per time bucket, on the access logs' axis when both were given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventSeries {
    /// Unix seconds of the first bucket.
    pub start: i64,
    /// Width of each bucket in seconds.
    pub bucket_secs: i64,
    /// Logon failure events (4625, 4771, 4776) per bucket.
    pub failures: Vec<u64>,
    /// Lockouts (4740) per bucket.
    pub lockouts: Vec<u64>,
}

/// Everything an event pass established.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EventSummary {
    /// Every event log read, in order.
    pub inputs: Vec<EventInput>,
    /// Chunks and records that could not be read: the first few, with their place.
    pub problems: Vec<RecordProblem>,
    /// How many could not be read in all.
    pub unreadable: u64,
    /// Every record read.
    pub records: u64,
    /// Records outside --since/--until, or not of --user/--ip.
    pub filtered_out: u64,
    /// Time of the earliest event in the window, Unix seconds.
    pub first: Option<i64>,
    /// Time of the latest event in the window, Unix seconds.
    pub last: Option<i64>,
    /// Records per event id, most first; ids why401 does not read are counted too.
    pub by_id: Vec<IdCount>,
    /// Logon failure events (4625, 4771, 4776 with a failure status).
    pub failures: u64,
    /// Their reasons, most first.
    pub reasons: Vec<Reason>,
    /// Accounts with the most failure events, with reasons and sources.
    pub by_user: Vec<AccountFailures>,
    /// Sources (address, else workstation) with the most failure events.
    pub by_source: Vec<KeyCount>,
    /// (source, account) pairs with the most failure events: what the detectors read.
    pub user_ip: Vec<PairStats>,
    /// Sources with the most failure events and the accounts each tried.
    pub sources: Vec<SourceStats>,
    /// Sources that failed only a few times each and never logged on after.
    pub scattered: Scattered,
    /// How many sources had a failure event.
    pub distinct_failing_sources: u64,
    /// Accounts locked out (4740), earliest first.
    pub lockouts: Vec<LockoutEvent>,
    /// Kerberos problems, most events first.
    pub kerberos: Vec<KerberosIssue>,
    /// How network logons authenticated.
    pub ntlm: NtlmUse,
    /// Logons refused for the account's state, by account.
    pub account_states: Vec<AccountState>,
    /// Failures and lockouts over time.
    pub series: EventSeries,
    /// The join with the access logs, when both were given.
    pub correlation: Option<Correlation>,
}
