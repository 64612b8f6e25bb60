//! Windows event logs, read for why logons failed: `.evtx` files (the evtx crate) and Event
//! Viewer / `wevtutil qe /f:xml` exports, from a web server's Security log, a domain
//! controller's, and the System log's Kerberos and KDC events.
//!
//! What it is for: the Security log's reason behind every IIS 401.1 (4625's Status and
//! SubStatus), who locks an account out (4740 and the failures before it), what the KDC saw
//! (4768/4769/4771, KDC events 11/14/16/26/27, the Kerberos client's event 4), which network
//! logons used NTLM; and the join of an access log's logon failures with those events.
//!
//! What it is not: no judgement (the doctor's `events` rules read the [`EventSummary`]), no
//! output.
//!
//! ```
//! use why401_events::{Options, read_bytes};
//!
//! let export = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>\
//!   <Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID>\
//!   <TimeCreated SystemTime='2026-11-25T10:00:01.622556400Z'/><EventRecordID>12</EventRecordID>\
//!   <Computer>WEB01</Computer></System><EventData><Data Name='TargetUserName'>jsmith</Data>\
//!   <Data Name='TargetDomainName'>CORP</Data><Data Name='Status'>0xc000006d</Data>\
//!   <Data Name='SubStatus'>0xc000006a</Data><Data Name='IpAddress'>10.1.2.3</Data></EventData></Event>";
//! let mut pass = why401_events::Pass::new(Options::default());
//! read_bytes(&mut pass, "Security.xml", export.as_bytes());
//! let summary = pass.finish(&[], None);
//! assert_eq!(summary.failures, 1);
//! assert_eq!(summary.reasons[0].code, "0xC000006A");
//! assert_eq!(summary.reasons[0].reason, "wrong password");
//! assert_eq!(summary.by_user[0].user, "CORP\\jsmith");
//! ```

mod acc;
mod binxml;
mod correlate;
pub mod evtx;
pub mod freb;
pub mod reason;
pub mod record;
pub mod xml;

use std::io::Read;
use std::path::Path;

use why401_evidence::events::{AccessFailure, EventInput, EventSummary, RecordProblem};

use acc::Acc;
pub use acc::Filter;
use record::{Record, reads};

/// How many chunk or record problems are kept with their place (all are counted).
const PROBLEM_EXAMPLES: usize = 20;

/// How to read.
#[derive(Debug, Clone)]
pub struct Options {
    /// What to keep.
    pub filter: Filter,
    /// Threads for `.evtx` chunks (0: as many as cores).
    pub threads: usize,
    /// An access-log line and an event match within this many seconds.
    pub window_secs: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            filter: Filter::default(),
            threads: 0,
            window_secs: 2,
        }
    }
}

/// The kinds of event log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A binary `.evtx` file (starts `ElfFile\0`).
    Evtx,
    /// An XML export: `<Event …>` elements, with or without an `<Events>` root.
    Xml,
}

/// What the first bytes of a file say it is, if an event log.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    // UTF-16 exports: look at the ASCII bytes only.
    let ascii: Vec<u8> = if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        head.iter().copied().filter(|b| *b != 0).skip(2).collect()
    } else {
        head.strip_prefix(&[0xEF, 0xBB, 0xBF])
            .unwrap_or(head)
            .to_vec()
    };
    let text = String::from_utf8_lossy(&ascii);
    let t = text.trim_start();
    let t = match t.strip_prefix("<?xml") {
        Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r).trim_start(),
        None => t,
    };
    (t.starts_with("<Events") || t.starts_with("<Event ") || t.starts_with("<Event>"))
        .then_some(Format::Xml)
}

/// A pass over event logs: read every input into it, then [`Pass::finish`].
pub struct Pass {
    opts: Options,
    acc: Acc,
    inputs: Vec<EventInput>,
    problems: Vec<RecordProblem>,
    unreadable: u64,
}

impl Pass {
    /// An empty pass.
    pub fn new(opts: Options) -> Self {
        Pass {
            opts,
            acc: Acc::default(),
            inputs: Vec::new(),
            problems: Vec::new(),
            unreadable: 0,
        }
    }

    fn problem(&mut self, file: &str, place: String, error: String) {
        self.unreadable += 1;
        if let Some(i) = self.inputs.last_mut() {
            i.unreadable += 1;
        }
        if self.problems.len() < PROBLEM_EXAMPLES {
            self.problems.push(RecordProblem {
                file: file.to_string(),
                place,
                error,
            });
        }
    }

    fn record(&mut self, r: &Record, file: u32) {
        if let Some(i) = self.inputs.last_mut()
            && i.computers.len() < 5
            && !r.computer.is_empty()
            && !i.computers.contains(&r.computer)
        {
            i.computers.push(r.computer.clone());
        }
        if self.opts.filter.keeps(r) {
            self.acc.add(r, file);
        } else {
            self.acc.filtered();
        }
    }

    fn other(&mut self, id: u32, time: Option<i64>) {
        if self.opts.filter.keeps_time(time)
            && self.opts.filter.user.is_none()
            && self.opts.filter.ip.is_none()
        {
            self.acc.other(id, time);
        } else {
            self.acc.filtered();
        }
    }

    fn start(&mut self, name: &str, format: &str) -> u32 {
        self.inputs.push(EventInput {
            path: name.to_string(),
            format: format.to_string(),
            records: 0,
            unreadable: 0,
            computers: Vec::new(),
        });
        self.acc.file(name)
    }

    /// Reads the event log at `path` (named `name` in output).
    pub fn read_path(&mut self, path: &Path, name: &str) -> Result<(), String> {
        let mut head = [0u8; 512];
        let mut f = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
        let n = f.read(&mut head).map_err(|e| format!("{name}: {e}"))?;
        match sniff(&head[..n]) {
            Some(Format::Evtx) => {
                let file = self.start(name, "evtx");
                let before = self.acc.records;
                let threads = self.opts.threads;
                let all_times =
                    self.opts.filter.since.is_some() || self.opts.filter.until.is_some();
                let result = evtx::read(path, threads, all_times, &mut |item| match item {
                    evtx::Item::Read(r) => self.record(&r, file),
                    evtx::Item::Other(id, t) => self.other(id, t),
                    evtx::Item::Problem(place, e) => self.problem(name, place, e),
                });
                self.finish_input(before);
                result.map_err(|e| format!("{name}: {e}"))
            }
            Some(Format::Xml) => {
                drop(f);
                let f = std::fs::File::open(path).map_err(|e| format!("{name}: {e}"))?;
                self.read_xml(name, f).map_err(|e| format!("{name}: {e}"))
            }
            None => Err(format!(
                "{name}: not an event log (neither an .evtx file nor an XML export of events)"
            )),
        }
    }

    fn read_xml(&mut self, name: &str, input: impl Read) -> std::io::Result<()> {
        let file = self.start(name, "xml");
        let before = self.acc.records;
        let r = xml::read(input, &mut |item| match item {
            xml::Item::Event(raw) => {
                let Some(time) = raw.time else {
                    self.problem(
                        name,
                        format!("record {}", raw.record_id),
                        "no TimeCreated/@SystemTime".into(),
                    );
                    return;
                };
                if reads(raw.id, raw.provider) && !raw.counted_only() {
                    let r = Record::build(raw, time);
                    self.record(&r, file);
                } else {
                    self.other(raw.id, Some(time));
                }
            }
            xml::Item::Problem(place, e) => self.problem(name, place, e),
        });
        self.finish_input(before);
        r
    }

    fn finish_input(&mut self, before: u64) {
        let n = self.acc.records - before;
        if let Some(i) = self.inputs.last_mut() {
            i.records = n;
        }
    }

    /// Folds the pass into a summary, joined with `access` (the access logs' logon failures;
    /// empty when none were given). `axis` is the access logs' series (start, bucket seconds,
    /// buckets), so that both share the time axis.
    pub fn finish(self, access: &[AccessFailure], axis: Option<(i64, i64, usize)>) -> EventSummary {
        let mut s = self.acc.finish(access, self.opts.window_secs, axis);
        s.inputs = self.inputs;
        s.problems = self.problems;
        s.unreadable = self.unreadable;
        s
    }
}

/// Reads an XML export held in memory (tests, stdin).
pub fn read_bytes(pass: &mut Pass, name: &str, bytes: &[u8]) {
    // Reading from memory cannot fail.
    let _ = pass.read_xml(name, bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: u32, time: &str, computer: &str, data: &[(&str, &str)]) -> String {
        let data: String = data
            .iter()
            .map(|(k, v)| format!("<Data Name='{k}'>{v}</Data>"))
            .collect();
        format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>{id}</EventID><TimeCreated SystemTime='{time}'/><EventRecordID>1</EventRecordID><Computer>{computer}</Computer></System><EventData>{data}</EventData></Event>\n"
        )
    }

    #[test]
    fn a_lockout_names_the_process_that_used_the_old_password() {
        let text = [
            event(
                4648,
                "2026-12-06T09:59:00Z",
                "APP01",
                &[
                    ("TargetUserName", "svc-sync"),
                    ("TargetDomainName", "CORP"),
                    ("TargetServerName", "FILES01"),
                    ("ProcessName", "C:\\Tools\\sync.exe"),
                ],
            ),
            event(
                4771,
                "2026-12-06T09:59:30Z",
                "DC01",
                &[
                    ("TargetUserName", "svc-sync"),
                    ("Status", "0x18"),
                    ("IpAddress", "::ffff:10.4.4.4"),
                ],
            ),
            event(
                4740,
                "2026-12-06T10:00:00Z",
                "DC01",
                &[
                    ("TargetUserName", "svc-sync"),
                    ("TargetDomainName", "APP01"),
                ],
            ),
        ]
        .concat();
        let mut pass = Pass::new(Options::default());
        read_bytes(&mut pass, "Security.xml", text.as_bytes());
        let s = pass.finish(&[], None);
        let l = &s.lockouts[0];
        assert_eq!(l.caller, "APP01");
        assert_eq!(l.culprits[0].source, "10.4.4.4");
        assert_eq!(l.explicit, ["sync.exe on APP01 (for FILES01)"]);
    }
}
