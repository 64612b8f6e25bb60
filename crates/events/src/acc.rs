//! The events of a pass, kept compact (names interned, one small row per failure, logon or
//! lockout) and folded into an [`EventSummary`] once every input is read: the web server's
//! log and the domain controller's come in any order, and a lockout's culprits are the
//! failures before it in time, not in reading order.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use why401_evidence::events::{
    AccessFailure, AccountFailures, AccountState, Culprit, EventSeries, EventSummary, IdCount,
    KerberosIssue, LockoutEvent, NtlmUse, Reason,
};
use why401_evidence::logs::{KeyCount, PairStats, Scattered, SourceStats};

use crate::correlate;
use crate::reason;
use crate::record::{Record, user_key};

/// What to keep: `--since`/`--until`, `--user`, `--ip`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Events before this time (Unix seconds) are left out.
    pub since: Option<i64>,
    /// Events at or after this time are left out.
    pub until: Option<i64>,
    /// Only events of this account (any domain, any case).
    pub user: Option<String>,
    /// Only events from this client address (IPv4-mapped forms match).
    pub ip: Option<String>,
}

impl Filter {
    /// Whether `r` (of a read id) is kept.
    pub fn keeps(&self, r: &Record) -> bool {
        if self.since.is_some_and(|s| r.time < s) || self.until.is_some_and(|u| r.time >= u) {
            return false;
        }
        if let Some(u) = &self.user
            && user_key(&r.user) != user_key(u)
        {
            return false;
        }
        if let Some(ip) = &self.ip
            && crate::record::address(ip) != r.ip
        {
            return false;
        }
        true
    }

    /// Whether an event at `time` of an id not read is kept (only the time applies).
    pub fn keeps_time(&self, time: Option<i64>) -> bool {
        match time {
            Some(t) => !(self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u)),
            None => true,
        }
    }
}

/// Interned names: most events repeat a few hundred accounts, addresses and computers.
#[derive(Debug, Default, Clone)]
struct Names {
    map: HashMap<String, u32>,
    v: Vec<String>,
}

impl Names {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.map.get(s) {
            return i;
        }
        let i = self.v.len() as u32;
        self.v.push(s.to_string());
        self.map.insert(s.to_string(), i);
        i
    }

    fn get(&self, i: u32) -> &str {
        &self.v[i as usize]
    }
}

/// A logon failure event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Fail {
    pub time: i64,
    /// The computer that logged it.
    pub computer: u32,
    pub record: u64,
    pub file: u32,
    pub id: u16,
    /// `DOMAIN\user` as shown.
    pub account: u32,
    /// The matching key: the user name, lower case.
    pub user: u32,
    /// Address, else workstation.
    pub source: u32,
    pub ip: u32,
    pub workstation: u32,
    pub process: u32,
    /// The status that says why, and whether it is a Kerberos code.
    pub why: u32,
    pub kerberos: bool,
    /// 4625's LogonType (0 for the others).
    pub logon_type: u8,
}

#[derive(Debug, Clone, Copy)]
struct Logon {
    time: i64,
    user: u32,
    source: u32,
}

#[derive(Debug, Clone, Copy)]
struct Lock {
    time: i64,
    account: u32,
    user: u32,
    dc: u32,
    caller: u32,
}

#[derive(Debug, Default, Clone)]
struct Issue {
    /// The name as first seen (the key is its lower case).
    name: String,
    code: String,
    count: u64,
    clients: BTreeSet<String>,
    accounts: BTreeSet<String>,
    events: BTreeSet<u32>,
    first: i64,
    last: i64,
    /// (time, file#record) of the earliest.
    example: Option<(i64, String)>,
    detail: Option<String>,
}

#[derive(Debug, Default, Clone)]
struct Ntlm {
    logons: u64,
    kerberos: u64,
    ntlm: u64,
    v1: u64,
    accounts: HashMap<u32, u64>,
    clients: HashMap<u32, u64>,
    v1_who: HashMap<String, u64>,
    servers: BTreeSet<String>,
}

/// Everything kept while reading.
#[derive(Debug, Default, Clone)]
pub(crate) struct Acc {
    names: Names,
    files: Vec<String>,
    pub(crate) records: u64,
    pub(crate) filtered: u64,
    first: Option<i64>,
    last: Option<i64>,
    by_id: HashMap<u32, u64>,
    pub(crate) fails: Vec<Fail>,
    logons: Vec<Logon>,
    locks: Vec<Lock>,
    unlocks: Vec<(i64, u32)>,
    /// 4648: (time, account key, "process on computer (for server)").
    explicit: Vec<(i64, u32, u32)>,
    issues: BTreeMap<(&'static str, String), Issue>,
    ntlm: Ntlm,
}

impl Acc {
    /// Starts reading `file` (its name, for `file#record` examples); returns its index.
    pub(crate) fn file(&mut self, name: &str) -> u32 {
        self.files.push(name.to_string());
        (self.files.len() - 1) as u32
    }

    /// A record of an id not read, kept by the filter: counted.
    pub(crate) fn other(&mut self, id: u32, time: Option<i64>) {
        self.records += 1;
        *self.by_id.entry(id).or_default() += 1;
        self.seen(time);
    }

    /// A record left out by the filter.
    pub(crate) fn filtered(&mut self) {
        self.records += 1;
        self.filtered += 1;
    }

    fn seen(&mut self, time: Option<i64>) {
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
    }

    /// A record of an id read, kept by the filter.
    pub(crate) fn add(&mut self, r: &Record, file: u32) {
        self.records += 1;
        *self.by_id.entry(r.id).or_default() += 1;
        self.seen(Some(r.time));
        let example = || format!("{}#{}", self.files[file as usize], r.record_id);
        match r.id {
            4625 | 4771 | 4776 if r.is_failure() => {
                let f = Fail {
                    time: r.time,
                    computer: self.names.id(&r.computer),
                    record: r.record_id,
                    file,
                    id: r.id as u16,
                    account: self.names.id(&r.account()),
                    user: self.names.id(&r.user.to_lowercase()),
                    source: self.names.id(r.source()),
                    ip: self.names.id(&r.ip),
                    workstation: self.names.id(&r.workstation),
                    process: self.names.id(&r.process),
                    why: r.why(),
                    kerberos: r.id == 4771,
                    logon_type: r.logon_type.min(255) as u8,
                };
                self.fails.push(f);
                if r.id == 4771 {
                    self.kerberos_status(r, example());
                }
            }
            4624 if r.logon_type == 3 && !r.user.is_empty() => {
                let l = Logon {
                    time: r.time,
                    user: self.names.id(&r.user.to_lowercase()),
                    source: self.names.id(r.source()),
                };
                self.logons.push(l);
                self.network_logon(r);
            }
            4740 => {
                let l = Lock {
                    time: r.time,
                    account: self.names.id(&r.account()),
                    user: self.names.id(&r.user.to_lowercase()),
                    dc: self.names.id(&r.computer),
                    caller: self.names.id(&r.workstation),
                };
                self.locks.push(l);
            }
            4648 if !r.user.is_empty() => {
                let what = match (r.process.is_empty(), r.service.is_empty()) {
                    (false, false) => {
                        format!("{} on {} (for {})", r.process, r.computer, r.service)
                    }
                    (false, true) => format!("{} on {}", r.process, r.computer),
                    (true, false) => format!("a process on {} (for {})", r.computer, r.service),
                    (true, true) => format!("a process on {}", r.computer),
                };
                let (user, what) = (self.names.id(&r.user.to_lowercase()), self.names.id(&what));
                self.explicit.push((r.time, user, what));
            }
            4767 => {
                let u = self.names.id(&r.user.to_lowercase());
                self.unlocks.push((r.time, u));
            }
            4768 | 4769 => self.kerberos_status(r, example()),
            4 => self.issue(
                "ticket-rejected",
                "KRB_AP_ERR_MODIFIED".into(),
                r,
                example(),
            ),
            11 => self.issue("duplicate-spn", "KDC 11".into(), r, example()),
            14 | 16 | 26 | 27 => {
                self.issue("etype-unsupported", format!("KDC {}", r.id), r, example())
            }
            _ => {}
        }
    }

    fn kerberos_status(&mut self, r: &Record, example: String) {
        let kind = match r.status {
            0x6 => "client-unknown",
            0x7 => "spn-unknown",
            0xE => "etype-unsupported",
            0x25 => "clock-skew",
            _ => return,
        };
        self.issue(kind, format!("0x{:X}", r.status), r, example);
    }

    fn issue(&mut self, kind: &'static str, code: String, r: &Record, example: String) {
        let target = match kind {
            "client-unknown" => r.account(),
            "clock-skew" => r.source().to_string(),
            _ => r.service.clone(),
        };
        let e = self
            .issues
            .entry((kind, target.to_lowercase()))
            .or_insert_with(|| Issue {
                name: target.clone(),
                first: r.time,
                last: r.time,
                ..Issue::default()
            });
        e.code = code;
        e.count += 1;
        e.first = e.first.min(r.time);
        e.last = e.last.max(r.time);
        let client = if r.id == 4 {
            r.workstation.clone()
        } else {
            r.source().to_string()
        };
        if !client.is_empty() && e.clients.len() < 8 {
            e.clients.insert(client);
        }
        if !r.user.is_empty() && e.accounts.len() < 8 {
            e.accounts.insert(r.account());
        }
        e.events.insert(r.id);
        // The earliest event is the example; its text says what the name alone does not.
        if e.example.as_ref().is_none_or(|(t, _)| r.time < *t) {
            e.example = Some((r.time, example));
            if !r.detail.is_empty() {
                e.detail = Some(r.detail.clone());
            }
        }
        if kind == "clock-skew" && e.detail.is_none() && !r.service.is_empty() {
            e.detail = Some(format!("service asked for: {}", r.service));
        }
    }

    fn network_logon(&mut self, r: &Record) {
        // Machine accounts and anonymous logons are not people failing to get Kerberos.
        if r.user.ends_with('$') || r.user.eq_ignore_ascii_case("ANONYMOUS LOGON") {
            return;
        }
        let n = &mut self.ntlm;
        n.logons += 1;
        if !n.servers.contains(&r.computer) {
            n.servers.insert(r.computer.clone());
        }
        let ntlm = r.package.eq_ignore_ascii_case("NTLM")
            || r.lm
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("NTLM"))
            || r.lm.eq_ignore_ascii_case("LM");
        if r.package.eq_ignore_ascii_case("Kerberos") {
            n.kerberos += 1;
        } else if ntlm {
            n.ntlm += 1;
            // Counted by interned name: most logons repeat a few accounts and clients.
            let (account, source) = (self.names.id(&r.account()), self.names.id(r.source()));
            let n = &mut self.ntlm;
            *n.accounts.entry(account).or_default() += 1;
            *n.clients.entry(source).or_default() += 1;
            if r.lm.eq_ignore_ascii_case("NTLM V1") || r.lm.eq_ignore_ascii_case("LM") {
                n.v1 += 1;
                *n.v1_who
                    .entry(format!("{} from {} ({})", r.account(), r.source(), r.lm))
                    .or_default() += 1;
            }
        }
    }

    /// Folds what was read into a summary; `access` are the access logs' logon failures (empty
    /// when none were given), `axis` the access logs' series (start, bucket width) when there
    /// is one.
    pub(crate) fn finish(
        mut self,
        access: &[AccessFailure],
        window_secs: i64,
        axis: Option<(i64, i64, usize)>,
    ) -> EventSummary {
        // One order, whatever the order of the inputs.
        self.fails.sort_unstable_by(|a, b| {
            (
                a.time,
                self.names.get(a.computer),
                a.record,
                a.id,
                self.names.get(a.account),
            )
                .cmp(&(
                    b.time,
                    self.names.get(b.computer),
                    b.record,
                    b.id,
                    self.names.get(b.account),
                ))
        });
        self.logons
            .sort_unstable_by_key(|l| (l.time, l.user, l.source));
        let keep = self.counted();
        // The join first: the failures an access log shows were judged there, with every
        // request of the client that succeeded after; the attack detectors here read the
        // failures it does not show (a DC's 4771s, logons through other servers).
        let (correlation, matched) = if access.is_empty() {
            (None, vec![false; self.fails.len()])
        } else {
            let (c, used) = correlate::run(access, &self.fails, |i| self.names.get(i), window_secs);
            (Some(c), used)
        };
        let pick = |also: &dyn Fn(usize) -> bool| -> Vec<Fail> {
            self.fails
                .iter()
                .enumerate()
                .filter(|(i, _)| keep[*i] && also(*i))
                .map(|(_, f)| *f)
                .collect()
        };
        let counted = pick(&|_| true);
        let unseen = pick(&|i| !matched[i]);
        let mut s = EventSummary {
            records: self.records,
            filtered_out: self.filtered,
            first: self.first,
            last: self.last,
            correlation,
            ..EventSummary::default()
        };
        s.by_id = self.id_table();
        s.failures = counted.len() as u64;
        s.reasons = self.reasons(&counted);
        s.by_user = self.by_user(&counted);
        let (pairs, sources, scattered, distinct) = self.detector_tables(&unseen);
        s.user_ip = pairs;
        s.sources = sources;
        s.scattered = scattered;
        s.distinct_failing_sources = distinct;
        s.by_source = top(
            counted
                .iter()
                .map(|f| self.names.get(f.source).to_string())
                .filter(|k| !k.is_empty()),
            20,
        );
        s.lockouts = self.lockouts(&counted, access);
        s.kerberos = self.kerberos();
        s.ntlm = self.ntlm_use();
        s.account_states = self.account_states(&counted);
        s.series = self.series(&counted, axis);
        s
    }

    /// Which failures the tables count: a 4776 for a logon that a server logged as a 4625
    /// too (same account, within two seconds) is the same attempt, counted once: the DC's
    /// check of an NTLM logon passed through by a web server, or a server's check of its own
    /// local account.
    fn counted(&self) -> Vec<bool> {
        let mut by_user: HashMap<u32, Vec<i64>> = HashMap::new();
        for f in self.fails.iter().filter(|f| f.id == 4625) {
            by_user.entry(f.user).or_default().push(f.time);
        }
        self.fails
            .iter()
            .map(|f| {
                f.id != 4776
                    || !by_user
                        .get(&f.user)
                        .is_some_and(|v| v.iter().any(|t| (t - f.time).abs() <= 2))
            })
            .collect()
    }

    fn id_table(&self) -> Vec<IdCount> {
        let mut v: Vec<IdCount> = self
            .by_id
            .iter()
            .map(|(&id, &count)| {
                let info = why401_catalogue::catalogue().event(id);
                IdCount {
                    id,
                    name: info.map(|e| e.title.clone()).unwrap_or_default(),
                    count,
                    read: info.is_some_and(|e| e.read),
                }
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.id.cmp(&b.id)));
        v
    }

    fn reason(&self, f: &Fail) -> (String, String) {
        reason::of(f.kerberos, f.why)
    }

    fn reasons(&self, fails: &[Fail]) -> Vec<Reason> {
        let mut m: HashMap<(bool, u32), u64> = HashMap::new();
        for f in fails {
            *m.entry((f.kerberos, f.why)).or_default() += 1;
        }
        let mut v: Vec<Reason> = m
            .into_iter()
            .map(|((k, why), count)| {
                let (code, reason) = reason::of(k, why);
                Reason {
                    code,
                    reason,
                    count,
                }
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
        v
    }

    fn by_user(&self, fails: &[Fail]) -> Vec<AccountFailures> {
        let mut m: HashMap<u32, Vec<&Fail>> = HashMap::new();
        for f in fails {
            m.entry(f.account).or_default().push(f);
        }
        let mut v: Vec<AccountFailures> = m
            .into_iter()
            .map(|(account, fs)| {
                let mut reasons: HashMap<(String, String), u64> = HashMap::new();
                for f in &fs {
                    *reasons.entry(self.reason(f)).or_default() += 1;
                }
                let mut reasons: Vec<Reason> = reasons
                    .into_iter()
                    .map(|((code, reason), count)| Reason {
                        code,
                        reason,
                        count,
                    })
                    .collect();
                reasons.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
                AccountFailures {
                    user: self.names.get(account).to_string(),
                    failures: fs.len() as u64,
                    reasons,
                    sources: top(
                        fs.iter()
                            .map(|f| self.names.get(f.source).to_string())
                            .filter(|k| !k.is_empty()),
                        5,
                    ),
                    first: fs.iter().map(|f| f.time).min().unwrap_or(0),
                    last: fs.iter().map(|f| f.time).max().unwrap_or(0),
                }
            })
            .collect();
        v.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.user.cmp(&b.user)));
        v.truncate(50);
        v
    }

    /// The tables the log detectors read (brute force, spray, stuffing, stuck client), built
    /// from failure events by source (address, else workstation) and account.
    fn detector_tables(
        &self,
        fails: &[Fail],
    ) -> (Vec<PairStats>, Vec<SourceStats>, Scattered, u64) {
        #[derive(Default)]
        struct P {
            failures: u64,
            first: i64,
            last: i64,
            hours: HashSet<i64>,
            example: String,
            account: u32,
        }
        #[derive(Default)]
        struct S {
            failures: u64,
            first: i64,
            last: i64,
            users: BTreeSet<u32>,
        }
        let mut pairs: HashMap<(u32, u32), P> = HashMap::new();
        let mut srcs: HashMap<u32, S> = HashMap::new();
        // A source that is itself one of the computers whose log was read (a 4776's Workstation
        // naming the web server) is a server passing its clients' logons on, not a client.
        let servers: HashSet<String> = fails
            .iter()
            .map(|f| short_name(self.names.get(f.computer)))
            .collect();
        for f in fails.iter().filter(|f| {
            let src = self.names.get(f.source);
            !src.is_empty() && !servers.contains(&short_name(src))
        }) {
            let p = pairs.entry((f.source, f.user)).or_insert_with(|| P {
                first: f.time,
                example: format!("{}#{}", self.files[f.file as usize], f.record),
                account: f.account,
                ..P::default()
            });
            p.failures += 1;
            p.last = f.time;
            p.hours.insert(f.time.div_euclid(3600));
            let s = srcs.entry(f.source).or_insert_with(|| S {
                first: f.time,
                ..S::default()
            });
            s.failures += 1;
            s.last = f.time;
            s.users.insert(f.user);
        }
        // Successes after the first failure: network logons of the pair, of the source.
        let mut pair_ok: HashMap<(u32, u32), u64> = HashMap::new();
        let mut src_ok: HashMap<u32, u64> = HashMap::new();
        for l in &self.logons {
            if let Some(p) = pairs.get(&(l.source, l.user))
                && l.time >= p.first
            {
                *pair_ok.entry((l.source, l.user)).or_default() += 1;
            }
            if let Some(s) = srcs.get(&l.source)
                && l.time >= s.first
            {
                *src_ok.entry(l.source).or_default() += 1;
            }
        }
        let mut pv: Vec<PairStats> = pairs
            .iter()
            .map(|(&(src, user), p)| PairStats {
                ip: self.names.get(src).to_string(),
                user: self.names.get(p.account).to_string(),
                failures: p.failures,
                successes: pair_ok.get(&(src, user)).copied().unwrap_or(0),
                first: Some(p.first),
                last: Some(p.last),
                failing_hours: p.hours.len() as u32,
                example: p.example.clone(),
            })
            .collect();
        pv.sort_by(|a, b| {
            b.failures
                .cmp(&a.failures)
                .then_with(|| a.ip.cmp(&b.ip))
                .then_with(|| a.user.cmp(&b.user))
        });
        pv.truncate(200);
        let mut scattered = Scattered::default();
        let mut scattered_users: BTreeSet<u32> = BTreeSet::new();
        for (src, s) in &srcs {
            if s.failures <= Scattered::MAX_FAILURES && !src_ok.contains_key(src) {
                scattered.sources += 1;
                scattered.failures += s.failures;
                scattered_users.extend(&s.users);
                scattered.first = Some(scattered.first.map_or(s.first, |f| f.min(s.first)));
                scattered.last = Some(scattered.last.map_or(s.last, |l| l.max(s.last)));
            }
        }
        scattered.users = scattered_users.len() as u64;
        let mut sv: Vec<SourceStats> = srcs
            .iter()
            .map(|(&src, s)| {
                let mut sample: Vec<String> = s
                    .users
                    .iter()
                    .take(8)
                    .map(|u| self.names.get(*u).to_string())
                    .collect();
                sample.sort();
                SourceStats {
                    ip: self.names.get(src).to_string(),
                    failures: s.failures,
                    successes: src_ok.get(&src).copied().unwrap_or(0),
                    users: s.users.len() as u64,
                    sample_users: sample,
                    first: Some(s.first),
                    last: Some(s.last),
                }
            })
            .collect();
        sv.sort_by(|a, b| b.failures.cmp(&a.failures).then_with(|| a.ip.cmp(&b.ip)));
        sv.truncate(200);
        (pv, sv, scattered, srcs.len() as u64)
    }

    fn lockouts(&self, fails: &[Fail], access: &[AccessFailure]) -> Vec<LockoutEvent> {
        let mut by_user: BTreeMap<u32, Vec<&Lock>> = BTreeMap::new();
        for l in &self.locks {
            by_user.entry(l.user).or_default().push(l);
        }
        let mut out: Vec<LockoutEvent> = by_user
            .into_values()
            .map(|mut ls| {
                ls.sort_by_key(|l| (l.time, self.names.get(l.dc).to_string()));
                let first = ls[0];
                // Every failure of the account in the window before any of its lockouts.
                let mut seen = HashSet::new();
                let mut culprits: BTreeMap<u32, Culprit> = BTreeMap::new();
                for l in &ls {
                    for (i, f) in fails.iter().enumerate().filter(|(_, f)| {
                        f.user == l.user
                            && f.time <= l.time
                            && f.time >= l.time - LockoutEvent::WINDOW
                    }) {
                        if !seen.insert(i) {
                            continue;
                        }
                        let c = culprits.entry(f.source).or_insert_with(|| Culprit {
                            source: self.names.get(f.source).to_string(),
                            workstation: None,
                            process: None,
                            logged_by: self.names.get(f.computer).to_string(),
                            failures: 0,
                            events: Vec::new(),
                            last: f.time,
                            agents: Vec::new(),
                        });
                        c.failures += 1;
                        c.last = c.last.max(f.time);
                        let ws = self.names.get(f.workstation);
                        if c.workstation.is_none() && !ws.is_empty() {
                            c.workstation = Some(ws.to_string());
                        }
                        let p = self.names.get(f.process);
                        if c.process.is_none() && !p.is_empty() {
                            c.process = Some(p.to_string());
                        }
                        if !c.events.contains(&(f.id as u32)) {
                            c.events.push(f.id as u32);
                            c.events.sort_unstable();
                        }
                    }
                }
                let user = self.names.get(first.user);
                let mut culprits: Vec<Culprit> = culprits.into_values().collect();
                for c in &mut culprits {
                    // The access log's refused requests of the account from that address, in
                    // the window before the first lockout.
                    c.agents = top(
                        access
                            .iter()
                            .filter(|a| {
                                a.ip == c.source
                                    && user_key(&a.user) == user
                                    && a.time <= ls.last().map_or(first.time, |l| l.time)
                                    && a.time >= first.time - LockoutEvent::WINDOW
                            })
                            .map(|a| a.agent.clone()),
                        3,
                    );
                }
                culprits.sort_by(|a, b| b.failures.cmp(&a.failures).then(a.source.cmp(&b.source)));
                let unlocked = self
                    .unlocks
                    .iter()
                    .filter(|(t, u)| *u == first.user && *t >= first.time)
                    .map(|(t, _)| *t)
                    .min();
                let mut explicit: Vec<String> = self
                    .explicit
                    .iter()
                    .filter(|(t, u, _)| {
                        *u == first.user
                            && ls
                                .iter()
                                .any(|l| *t <= l.time && *t >= l.time - LockoutEvent::WINDOW)
                    })
                    .map(|(_, _, w)| self.names.get(*w).to_string())
                    .collect();
                explicit.sort();
                explicit.dedup();
                explicit.truncate(5);
                LockoutEvent {
                    explicit,
                    user: self.names.get(first.account).to_string(),
                    time: first.time,
                    count: ls.len() as u64,
                    dc: self.names.get(first.dc).to_string(),
                    caller: self.names.get(first.caller).to_string(),
                    culprits,
                    unlocked,
                }
            })
            .collect();
        out.sort_by(|a, b| a.time.cmp(&b.time).then(a.user.cmp(&b.user)));
        out
    }

    fn kerberos(&self) -> Vec<KerberosIssue> {
        let mut v: Vec<KerberosIssue> = self
            .issues
            .iter()
            .map(|((kind, _), i)| KerberosIssue {
                kind: kind.to_string(),
                code: i.code.clone(),
                target: i.name.clone(),
                count: i.count,
                clients: i.clients.iter().cloned().collect(),
                accounts: i.accounts.iter().cloned().collect(),
                events: i.events.iter().copied().collect(),
                first: i.first,
                last: i.last,
                example: i
                    .example
                    .as_ref()
                    .map(|(_, e)| e.clone())
                    .unwrap_or_default(),
                detail: i.detail.clone(),
            })
            .collect();
        v.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.target.cmp(&b.target))
        });
        v
    }

    fn ntlm_use(&self) -> NtlmUse {
        let n = &self.ntlm;
        let table = |m: &mut dyn Iterator<Item = (String, u64)>| {
            let mut v: Vec<KeyCount> = m.map(|(key, count)| KeyCount { key, count }).collect();
            v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
            v.truncate(20);
            v
        };
        let named = |m: &HashMap<u32, u64>| {
            table(&mut m.iter().map(|(k, c)| (self.names.get(*k).to_string(), *c)))
        };
        NtlmUse {
            network_logons: n.logons,
            kerberos: n.kerberos,
            ntlm: n.ntlm,
            ntlm_v1: n.v1,
            accounts: named(&n.accounts),
            clients: named(&n.clients),
            v1: table(&mut n.v1_who.iter().map(|(k, c)| (k.clone(), *c))),
            servers: n.servers.iter().cloned().collect(),
        }
    }

    fn account_states(&self, fails: &[Fail]) -> Vec<AccountState> {
        let mut m: BTreeMap<(u32, &'static str), (String, Vec<&Fail>)> = BTreeMap::new();
        for f in fails {
            if let Some(state) = reason::account_state(f.kerberos, f.why) {
                m.entry((f.account, state))
                    .or_insert_with(|| (reason::of(f.kerberos, f.why).0, Vec::new()))
                    .1
                    .push(f);
            }
        }
        let mut v: Vec<AccountState> = m
            .into_iter()
            .map(|((account, state), (code, fs))| {
                let set = |pick: fn(&Fail) -> u32| {
                    let mut s: Vec<String> = fs
                        .iter()
                        .map(|f| self.names.get(pick(f)).to_string())
                        .filter(|x| !x.is_empty())
                        .collect::<BTreeSet<_>>()
                        .into_iter()
                        .collect();
                    s.truncate(5);
                    s
                };
                let mut types: Vec<u8> =
                    fs.iter().map(|f| f.logon_type).filter(|t| *t > 0).collect();
                types.sort_unstable();
                types.dedup();
                AccountState {
                    user: self.names.get(account).to_string(),
                    state: state.to_string(),
                    code,
                    logon_types: types.iter().map(|t| logon_type(*t)).collect(),
                    count: fs.len() as u64,
                    first: fs.iter().map(|f| f.time).min().unwrap_or(0),
                    last: fs.iter().map(|f| f.time).max().unwrap_or(0),
                    sources: set(|f| f.source),
                    processes: set(|f| f.process),
                }
            })
            .collect();
        v.sort_by(|a, b| b.count.cmp(&a.count).then(a.user.cmp(&b.user)));
        v
    }

    fn series(&self, fails: &[Fail], axis: Option<(i64, i64, usize)>) -> EventSeries {
        let (start, bucket, n) = match axis {
            Some(a) => a,
            None => {
                let (Some(first), Some(last)) = (self.first, self.last) else {
                    return EventSeries::default();
                };
                // The access logs' bucket widths, so events alone chart as a log would.
                let bucket = why401_logs::bucket_for((last - first).max(1));
                let start = first - first.rem_euclid(bucket);
                (start, bucket, ((last - start) / bucket + 1) as usize)
            }
        };
        let mut s = EventSeries {
            start,
            bucket_secs: bucket,
            failures: vec![0; n],
            lockouts: vec![0; n],
        };
        let slot = |t: i64| {
            let i = (t - start).div_euclid(bucket);
            (0..n as i64).contains(&i).then_some(i as usize)
        };
        for f in fails {
            if let Some(i) = slot(f.time) {
                s.failures[i] += 1;
            }
        }
        for l in &self.locks {
            if let Some(i) = slot(l.time) {
                s.lockouts[i] += 1;
            }
        }
        s
    }
}

/// `3` → `3 (Network)`, through the catalogue.
fn logon_type(t: u8) -> String {
    match why401_catalogue::catalogue().logon_type(u32::from(t)) {
        Some(lt) => format!("{t} ({})", lt.name),
        None => t.to_string(),
    }
}

/// `WEB01.corp.example` → `web01`.
fn short_name(name: &str) -> String {
    name.split('.').next().unwrap_or(name).to_lowercase()
}

/// The most frequent keys, most first (ties by key).
fn top(keys: impl Iterator<Item = String>, n: usize) -> Vec<KeyCount> {
    let mut m: HashMap<String, u64> = HashMap::new();
    for k in keys {
        *m.entry(k).or_default() += 1;
    }
    let mut v: Vec<KeyCount> = m
        .into_iter()
        .map(|(key, count)| KeyCount { key, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    v.truncate(n);
    v
}
