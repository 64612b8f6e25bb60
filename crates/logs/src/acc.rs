//! The accumulator: what one chunk of log lines adds up to, mergeable in file order.
//!
//! Every line costs a status count and a time-bucket count. Only denials (401/403/407) pay for
//! the tables, and only successes from a client in the middle of an NTLM/Negotiate handshake
//! pay a hash lookup — that split is what keeps the scan near memory speed.
//!
//! This file is the accumulator itself (a line in, the tables, the merge); the per-key payloads
//! are in `payload`, the handshake legs in `legs`, the crediting of successes in `successes`,
//! the per-minute series in `minutes`.

mod legs;
mod minutes;
mod payload;
mod successes;

use rustc_hash::FxHashMap;

use crate::errorlog::Reasons;
use crate::heavy::{Merge, Table, TopK, key_hash};
use legs::{Leg, OPEN_BUCKETS, is_handshake_leg};
use minutes::Minutes;
use payload::{LockP, MixAcc, PairP, SourceP, code_key, pair_hash, pair_key, pair_key_into};
pub(crate) use payload::{earliest, latest};
use successes::Success;

/// A parsed log line, borrowed from the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Record<'a> {
    /// Unix seconds; `None` when the line carries no time.
    pub time: Option<i64>,
    /// The client address (IIS `c-ip`, nginx `$remote_addr`).
    pub ip: &'a [u8],
    /// Empty when no user (`-`).
    pub user: &'a [u8],
    /// The request method.
    pub method: &'a [u8],
    /// The request path, without its query.
    pub uri: &'a [u8],
    /// The HTTP status.
    pub status: u16,
    /// IIS `sc-substatus` (0 elsewhere).
    pub substatus: u32,
    /// IIS `sc-win32-status` (0 elsewhere): a Win32 error or NTSTATUS.
    pub win32: u64,
    /// The User-Agent.
    pub agent: &'a [u8],
    /// IIS writes spaces in `cs(User-Agent)` as `+`.
    pub plus_for_space: bool,
}

impl Record<'_> {
    /// The line's time, if it carries one.
    #[inline]
    pub fn when(&self) -> Option<i64> {
        self.time
    }
}

/// Where a line is, before line numbers are made absolute at merge time.
#[derive(Debug, Clone, Copy)]
pub struct Loc {
    pub file: usize,
    pub chunk: usize,
    pub line: u64,
}

/// Account lockout: Win32 1909, or NTSTATUS 0xC0000234 as some modules log it.
fn is_lockout(win32: u64) -> bool {
    win32 == 1909 || win32 == 0xC000_0234
}

/// Win32 statuses IIS logs for a refused Windows logon (with substatus 1): wrong password,
/// locked out, disabled, password expired, account expired, must change password, account
/// restriction, logon hours, workstation, logon type not granted, and SEC_E_LOGON_DENIED.
pub fn is_logon_failure(status: u16, substatus: u32, win32: u64) -> bool {
    status == 401
        && substatus == 1
        && matches!(
            win32,
            1326 | 1909 | 1331 | 1330 | 1793 | 1907 | 1327 | 1328 | 1329 | 1385 | 0x8009_030C
        )
}

/// A logon-failure line kept for the join with event logs.
#[derive(Debug, Clone)]
pub struct LogonLine {
    pub time: i64,
    pub loc: Loc,
    pub ip: Box<[u8]>,
    pub user: Box<[u8]>,
    pub agent: Box<[u8]>,
    pub win32: u64,
}

/// A sample of an unparsable line.
#[derive(Debug, Clone)]
pub struct BadLine {
    pub loc: Loc,
    pub reason: &'static str,
    pub text: String,
}

/// How many unparsable lines are kept as examples.
pub(crate) const BAD_EXAMPLES: usize = 10;

/// Table capacities (keys kept per table; more are counted but may be cut from the tail).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    /// Keys kept per single-key table (users, client IPs, URLs, agents, codes).
    pub table: usize,
    /// (client IP, user) pairs kept: brute force and stuffing are judged on these.
    pub pairs: usize,
    /// Logon-failure lines (`401 1 1326` and the like) kept whole, to be joined with the
    /// Windows events that say why; 0 keeps none (no event logs given).
    pub logons: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            table: 4096,
            pairs: 16_384,
            logons: 0,
        }
    }
}

/// Optional time window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    /// `--since`: lines before this time (Unix seconds) are counted as filtered out.
    pub since: Option<i64>,
    /// `--until`: lines at or after this time (Unix seconds) are counted as filtered out.
    pub until: Option<i64>,
}

/// What a chunk adds up to.
#[derive(Debug, Clone)]
pub struct Acc {
    pub lines: u64,
    pub requests: u64,
    pub filtered: u64,
    pub status: Vec<u64>,
    /// The earliest and latest time of a counted line, when any carried one.
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub minutes: Minutes,
    pub codes: FxHashMap<(u16, u32, u64), [u64; 2]>,
    pub users: TopK<()>,
    pub urls: TopK<()>,
    pub agents: TopK<()>,
    /// Keyed `ip \0 user` but hashed with [`pair_hash`]: looked up with `hit_hashed` only.
    pub pairs: TopK<PairP>,
    pub sources: TopK<SourceP>,
    pub lockouts: TopK<LockP>,
    pub hours: FxHashMap<i64, MixAcc>,
    pub noise: u64,
    pub unparsed: u64,
    pub bad: Vec<BadLine>,
    /// Logon-failure lines, in file order, up to `caps.logons`.
    pub logons: Vec<LogonLine>,
    /// Logon-failure lines past the cap: counted, not kept.
    pub logons_dropped: u64,
    logons_cap: usize,
    pub reasons: FxHashMap<&'static str, u64>,
    /// Open handshake legs by client. Entries are emptied, not removed, so a busy client does
    /// not allocate on every handshake; `open` counts the legs.
    pending: Table<Vec<Leg>>,
    open: usize,
    /// Open legs per client-hash bucket: a success looks a client up only when its bucket has
    /// any (most successes come from clients with nothing open).
    open_by_hash: Box<[u16; OPEN_BUCKETS]>,
    /// The line of the first failure of each client IP and (ip, user) pair in this chunk, by
    /// key hash: at the chunk's end, its successes after that line count for them.
    first_fail_ip: FxHashMap<u64, u64>,
    first_fail_pair: FxHashMap<u64, u64>,
    /// Every success of the chunk, in order, by key hash: the merge reads them against the
    /// chunks before (settling their open legs, counting successes of their failing pairs and
    /// IPs). A list, not a map: appending stays in cache on the hot path, and the merge's
    /// lookups go to small tables.
    successes: Vec<Success>,
    /// Agents were logged IIS-style, spaces as `+` (decoded when shown).
    pub plus_for_space: bool,
    window: Window,
}

impl Acc {
    pub fn new(caps: Caps, window: Window) -> Self {
        Acc {
            lines: 0,
            requests: 0,
            filtered: 0,
            status: vec![0; 1000],
            first: None,
            last: None,
            minutes: Minutes::default(),
            codes: FxHashMap::default(),
            users: TopK::new(caps.table),
            urls: TopK::new(caps.table),
            agents: TopK::new(caps.table),
            pairs: TopK::new(caps.pairs),
            sources: TopK::new(caps.table),
            lockouts: TopK::new(caps.table),
            hours: FxHashMap::default(),
            noise: 0,
            unparsed: 0,
            bad: Vec::new(),
            logons: Vec::new(),
            logons_dropped: 0,
            logons_cap: caps.logons,
            reasons: FxHashMap::default(),
            pending: Table::default(),
            open: 0,
            open_by_hash: Box::new([0; OPEN_BUCKETS]),
            first_fail_ip: FxHashMap::default(),
            first_fail_pair: FxHashMap::default(),
            successes: Vec::new(),
            plus_for_space: false,
            window,
        }
    }

    /// Notes an unparsable line.
    pub fn bad_line(&mut self, loc: Loc, reason: &'static str, line: &[u8]) {
        self.unparsed += 1;
        if self.bad.len() < BAD_EXAMPLES {
            let text = String::from_utf8_lossy(&line[..line.len().min(300)]).into_owned();
            self.bad.push(BadLine { loc, reason, text });
        }
    }

    /// Counts one request read from `buf` (the chunk being scanned). `reasons` is the
    /// error-log index, when error logs were given.
    #[inline]
    pub fn record(&mut self, r: &Record, loc: Loc, reasons: Option<&Reasons>, buf: &[u8]) {
        let time = r.when();
        if let Some(t) = time {
            if self.window.since.is_some_and(|s| t < s) || self.window.until.is_some_and(|u| t >= u)
            {
                self.filtered += 1;
                return;
            }
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        self.requests += 1;
        self.status[(r.status as usize).min(999)] += 1;
        if let Some(t) = time {
            let s = self.minutes.slot(t.div_euclid(60));
            s[0] += 1;
            if r.status == 401 {
                s[1] += 1;
            }
        }
        let denied = matches!(r.status, 401 | 403 | 407);
        if !denied {
            if r.status < 400 {
                self.success(r, time, loc, buf);
            }
            return;
        }
        let code = self
            .codes
            .entry((r.status, r.substatus, r.win32))
            .or_default();
        code[0] += 1;
        // The error log is joined by time: a line without one cannot be explained by it.
        if let Some(rs) = reasons
            && let Some(t) = time
            && let Some(why) = rs.explain(t, r.ip, r.uri, r.user)
        {
            *self.reasons.entry(why).or_default() += 1;
        }
        if is_handshake_leg(r.status, r.substatus, r.win32, r.user) && !r.ip.is_empty() {
            self.open_leg(r, time, loc, buf);
            return;
        }
        self.failure(r, time, loc, Some(loc.line));
    }

    /// The chunk is done: its successes count for the IPs and pairs that failed before them
    /// in it, open legs copy their text out of it, empty entries go.
    pub fn end_chunk(&mut self, buf: &[u8]) {
        self.count_local_successes();
        self.keep_open_legs(buf);
    }

    /// A real failure: into every table. `time` is the line's ([`Record::when`]; `r.time` is
    /// not read). `at`: the line of this chunk from which the failure is known (none when
    /// merging chunks).
    fn failure(&mut self, r: &Record, time: Option<i64>, loc: Loc, at: Option<u64>) {
        if let Some(t) = time {
            self.minutes.slot(t.div_euclid(60))[2] += 1;
            if self.logons_cap > 0 && is_logon_failure(r.status, r.substatus, r.win32) {
                self.logon_line(r, t, loc);
            }
        }
        self.plus_for_space |= r.plus_for_space;
        let hip = key_hash(r.ip);
        // Each key is hashed once for the whole-log tables and the hour's.
        let (huri, hagent) = (key_hash(r.uri), key_hash(r.agent));
        self.urls.hit_hashed(huri, r.uri);
        self.agents.hit_hashed(hagent, r.agent);
        let hu = key_hash(r.user);
        if !r.user.is_empty() {
            self.users.hit_hashed(hu, r.user);
            let mut buf = [0u8; 256];
            let owned;
            let key = match pair_key_into(r.ip, r.user, &mut buf) {
                Some(k) => k,
                None => {
                    owned = pair_key(r.ip, r.user);
                    &owned
                }
            };
            let hp = pair_hash(hip, hu);
            if let Some(at) = at {
                self.first_fail_pair.entry(hp).or_insert(at);
            }
            let e = self.pairs.hit_hashed(hp, key);
            let p = &mut e.payload;
            p.first = earliest(p.first, time);
            p.last = latest(p.last, time);
            if let Some(t) = time {
                p.hour(t.div_euclid(3600) as i32);
            }
            p.example.get_or_insert(loc);
        }
        if let Some(at) = at {
            self.first_fail_ip.entry(hip).or_insert(at);
        }
        let s = self.sources.hit_hashed(hip, r.ip);
        let sp = &mut s.payload;
        sp.first = earliest(sp.first, time);
        sp.last = latest(sp.last, time);
        if !r.user.is_empty() {
            sp.user(r.user, hu);
        }
        if is_lockout(r.win32) && !r.user.is_empty() {
            let l = self.lockouts.hit_hashed(hu, r.user);
            l.payload.first = earliest(l.payload.first, time);
            l.payload.last = latest(l.payload.last, time);
            if l.payload.sources.len() < 8 {
                l.payload.sources.insert(r.ip.into());
            }
            l.payload.example.get_or_insert(loc);
        }
        if let Some(t) = time {
            let h = self.hours.entry(t.div_euclid(3600)).or_default();
            h.failures += 1;
            h.urls.hit_hashed(huri, r.uri);
            h.agents.hit_hashed(hagent, r.agent);
            let mut code = [0u8; 48];
            h.codes
                .hit(code_key(r.status, r.substatus, r.win32, &mut code));
        }
    }

    #[cold]
    fn logon_line(&mut self, r: &Record, time: i64, loc: Loc) {
        if self.logons.len() >= self.logons_cap {
            self.logons_dropped += 1;
            return;
        }
        self.logons.push(LogonLine {
            time,
            loc,
            ip: r.ip.into(),
            user: r.user.into(),
            agent: r.agent.into(),
            win32: r.win32,
        });
    }

    /// Absorbs the chunk that follows this one in the file.
    pub fn merge(&mut self, mut next: Acc) {
        self.absorb(&mut next);
    }

    /// Absorbs the chunk that follows this one in the file and leaves it as [`Acc::new`]
    /// made it, its tables' allocations kept for the next chunk: a fresh chunk's tables grow
    /// from nothing, and every growth faults in fresh pages.
    pub fn absorb(&mut self, next: &mut Acc) {
        // Legs left open here are settled by the next chunk's first success of their client;
        // what is still open stays open, next to the next chunk's own.
        self.lines += next.lines;
        self.requests += next.requests;
        self.filtered += next.filtered;
        for (a, b) in self.status.iter_mut().zip(&next.status) {
            *a += b;
        }
        self.first = earliest(self.first, next.first);
        self.last = latest(self.last, next.last);
        self.minutes.absorb(&mut next.minutes);
        for (k, v) in next.codes.drain() {
            let c = self.codes.entry(k).or_default();
            c[0] += v[0];
            c[1] += v[1];
        }
        // The next chunk's successes meet the failures and open legs before it (here).
        if !next.successes.is_empty() {
            self.absorb_successes(&next.successes);
        }
        self.users.absorb(&mut next.users);
        self.urls.absorb(&mut next.urls);
        self.agents.absorb(&mut next.agents);
        self.pairs.absorb(&mut next.pairs);
        self.sources.absorb(&mut next.sources);
        self.lockouts.absorb(&mut next.lockouts);
        for (h, m) in next.hours.drain() {
            self.hours.entry(h).or_default().merge(m);
        }
        self.noise += next.noise;
        self.plus_for_space |= next.plus_for_space;
        self.unparsed += next.unparsed;
        // Chunks are absorbed in file order, so the lines stay in it; the cap holds for the
        // whole pass.
        let room = self.logons_cap.saturating_sub(self.logons.len());
        let take = next.logons.len().min(room);
        self.logons_dropped += next.logons_dropped + (next.logons.len() - take) as u64;
        self.logons.extend(next.logons.drain(..take));
        next.logons.clear();
        for b in next.bad.drain(..) {
            if self.bad.len() < BAD_EXAMPLES {
                self.bad.push(b);
            }
        }
        for (k, v) in next.reasons.drain() {
            *self.reasons.entry(k).or_default() += v;
        }
        for (h, ip, legs) in next.pending.drain() {
            self.opened(h, legs.len());
            self.pending
                .put(h, ip, legs, |mine, legs| mine.extend(legs));
        }
        next.reset();
    }

    /// Back to what [`Acc::new`] made, keeping every allocation.
    fn reset(&mut self) {
        self.lines = 0;
        self.requests = 0;
        self.filtered = 0;
        self.status.fill(0);
        self.first = None;
        self.last = None;
        self.minutes.base = 0;
        self.minutes.v.clear();
        self.codes.clear();
        for t in [&mut self.users, &mut self.urls, &mut self.agents] {
            t.clear();
        }
        self.pairs.clear();
        self.sources.clear();
        self.lockouts.clear();
        self.hours.clear();
        self.noise = 0;
        self.unparsed = 0;
        self.bad.clear();
        self.logons.clear();
        self.logons_dropped = 0;
        self.reasons.clear();
        self.pending.clear();
        self.open = 0;
        self.open_by_hash.fill(0);
        self.first_fail_ip.clear();
        self.first_fail_pair.clear();
        self.successes.clear();
        self.plus_for_space = false;
    }

    /// Absorbs the pass over another file: handshakes do not continue across files.
    pub fn merge_file(&mut self, next: Acc) {
        self.finish();
        self.merge(next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u64) -> Loc {
        Loc {
            file: 0,
            chunk: 0,
            line,
        }
    }

    /// A wrong password of bob from 10.0.0.1, at `time` (`None`: the line has none).
    fn failure(time: Option<i64>) -> Record<'static> {
        Record {
            time,
            ip: b"10.0.0.1",
            user: b"bob",
            status: 401,
            substatus: 1,
            win32: 1326,
            ..Record::default()
        }
    }

    #[test]
    fn lines_without_a_time_leave_first_and_last_to_the_timed_ones() {
        let mut acc = Acc::new(Caps::default(), Window::default());
        acc.record(&failure(None), at(1), None, b"");
        acc.record(&failure(Some(1_000)), at(2), None, b"");
        acc.record(&failure(None), at(3), None, b"");
        acc.end_chunk(b"");
        assert_eq!((acc.first, acc.last), (Some(1_000), Some(1_000)));
        let (_, pair) = acc.pairs.iter().next().expect("bob's pair failed");
        assert_eq!((pair.count, pair.payload.first), (3, Some(1_000)));
        assert_eq!(pair.payload.last, Some(1_000));
        let (_, source) = acc.sources.iter().next().expect("10.0.0.1 failed");
        assert_eq!(
            (source.payload.first, source.payload.last),
            (Some(1_000), Some(1_000))
        );
    }

    #[test]
    fn no_time_at_all_is_none_and_the_epoch_is_a_time() {
        let mut acc = Acc::new(Caps::default(), Window::default());
        acc.record(&failure(None), at(1), None, b"");
        acc.end_chunk(b"");
        let (_, pair) = acc.pairs.iter().next().expect("bob's pair failed");
        assert_eq!(
            (acc.first, pair.payload.first, pair.payload.last),
            (None, None, None)
        );
        let mut epoch = Acc::new(Caps::default(), Window::default());
        epoch.record(&failure(Some(0)), at(1), None, b"");
        epoch.merge(acc);
        assert_eq!((epoch.first, epoch.last), (Some(0), Some(0)));
    }

    #[test]
    fn an_untimed_leg_is_noise_when_its_client_then_succeeds() {
        let mut acc = Acc::new(Caps::default(), Window::default());
        let leg = Record {
            user: b"",
            substatus: 2,
            win32: 5,
            ..failure(None)
        };
        let ok = Record {
            status: 200,
            substatus: 0,
            win32: 0,
            ..failure(None)
        };
        acc.record(&leg, at(1), None, b"");
        acc.record(&ok, at(2), None, b"");
        acc.end_chunk(b"");
        acc.finish();
        assert_eq!((acc.noise, acc.sources.len()), (1, 0));
    }
}
