//! The accumulator: what one chunk of log lines adds up to, mergeable in file order.
//!
//! Every line costs a status count and a time-bucket count. Only denials (401/403/407) pay for
//! the tables, and only successes from a client in the middle of an NTLM/Negotiate handshake
//! pay a hash lookup — that split is what keeps the scan near memory speed.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::errorlog::Reasons;
use crate::heavy::{Key, Merge, Table, TopK, key_hash};

/// A parsed log line, borrowed from the buffer.
#[derive(Debug, Clone, Copy, Default)]
pub struct Record<'a> {
    /// Unix seconds (`i64::MIN` when the line carries no time).
    pub time: i64,
    pub ip: &'a [u8],
    /// Empty when no user (`-`).
    pub user: &'a [u8],
    pub method: &'a [u8],
    pub uri: &'a [u8],
    pub status: u16,
    pub substatus: u32,
    pub win32: u64,
    pub agent: &'a [u8],
    /// IIS writes spaces in `cs(User-Agent)` as `+`.
    pub plus_for_space: bool,
}

/// Where a line is, before line numbers are made absolute at merge time.
#[derive(Debug, Clone, Copy)]
pub struct Loc {
    pub file: usize,
    pub chunk: usize,
    pub line: u64,
}

/// The legs a client passes on the way to a success: IIS's `401 2 5` and `401 1 2148074254`
/// (NTLM/Negotiate), and elsewhere a 401 to a request without credentials (the challenge).
pub fn is_handshake_leg(status: u16, substatus: u32, win32: u64, user: &[u8]) -> bool {
    status == 401
        && ((substatus == 2 && win32 == 5)
            || (substatus == 1 && win32 == 2_148_074_254)
            // A log without IIS's codes (nginx, Apache, JSON): a 401 to a request without
            // credentials, the challenge every browser gets on its first Basic/Digest request.
            || (substatus == 0 && win32 == 0 && user.is_empty()))
}

/// Account lockout: Win32 1909, or NTSTATUS 0xC0000234 as some modules log it.
fn is_lockout(win32: u64) -> bool {
    win32 == 1909 || win32 == 0xC000_0234
}

const OPEN_BUCKETS: usize = 4096;

/// The hash of an (IP, user) pair from the [`key_hash`] of each: a success computes it without
/// writing the pair's key (only a failure stores the key, `ip \0 user`).
#[inline]
fn pair_hash(ip: u64, user: u64) -> u64 {
    (ip.rotate_left(23) ^ user)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(26)
}

/// The open-legs bucket of a client, from its [`key_hash`].
#[inline]
fn bucket(ip_hash: u64) -> usize {
    (ip_hash >> 20) as usize % OPEN_BUCKETS
}

/// Seconds within which a success turns earlier handshake legs into noise.
pub const HANDSHAKE_WINDOW: i64 = 60;

/// Payload per (ip, user) pair.
#[derive(Debug, Clone, Default)]
pub struct PairP {
    pub successes: u64,
    pub first: i64,
    pub last: i64,
    /// Hours (since the epoch) with a failure, sorted, distinct.
    pub hours: Vec<i32>,
    pub example: Option<Loc>,
}

impl PairP {
    #[inline]
    fn hour(&mut self, h: i32) {
        match self.hours.last() {
            Some(&l) if l == h => {}
            Some(&l) if l < h => self.hours.push(h),
            None => self.hours.push(h),
            _ => {
                if let Err(i) = self.hours.binary_search(&h) {
                    self.hours.insert(i, h);
                }
            }
        }
    }
}

impl Merge for PairP {
    fn merge(&mut self, o: Self) {
        self.successes += o.successes;
        self.first = min_time(self.first, o.first);
        self.last = self.last.max(o.last);
        // Chunks merge in time order: usually the other's hours all come after ours.
        if o.hours
            .first()
            .is_some_and(|f| self.hours.last().is_none_or(|l| f > l))
        {
            self.hours.extend(o.hours);
        } else if !o.hours.is_empty() {
            self.hours.extend(o.hours);
            self.hours.sort_unstable();
            self.hours.dedup();
        }
        self.example = self.example.or(o.example);
    }
}

/// One success line, as the merge needs it.
#[derive(Debug, Clone, Copy)]
pub struct Success {
    /// The client IP's [`key_hash`] and the (IP, user) pair's [`pair_hash`].
    ip: u64,
    pair: u64,
    time: i64,
    /// Its line in the chunk.
    line: u64,
    flags: u8,
}

impl Success {
    /// The line has a client IP / a user.
    const IP: u8 = 1;
    const PAIR: u8 = 2;
    /// Already counted in its chunk (its IP / pair had failed earlier there).
    const IP_COUNTED: u8 = 4;
    const PAIR_COUNTED: u8 = 8;
}

/// Payload per source IP.
#[derive(Debug, Clone, Default)]
pub struct SourceP {
    pub successes: u64,
    /// Hashes of the distinct users it failed on (up to the cap).
    pub user_hashes: Vec<u64>,
    /// Distinct users beyond the cap (a lower bound of the rest).
    pub users_over: u64,
    /// The first few user names, for the report.
    pub sample: Vec<Box<[u8]>>,
    pub first: i64,
    pub last: i64,
}

/// How many distinct users a source counts exactly.
const SOURCE_USERS_KEPT: usize = 256;
/// How many user names a source keeps for the report.
const SOURCE_SAMPLE: usize = 10;

impl SourceP {
    #[inline]
    fn user(&mut self, user: &[u8], h: u64) {
        if self.user_hashes.contains(&h) {
            return;
        }
        if self.user_hashes.len() < SOURCE_USERS_KEPT {
            self.user_hashes.push(h);
            if self.sample.len() < SOURCE_SAMPLE {
                self.sample.push(user.into());
            }
        } else {
            self.users_over += 1;
        }
    }

    /// Distinct users it failed on (exact up to the cap).
    pub fn users(&self) -> u64 {
        self.user_hashes.len() as u64 + self.users_over
    }
}

impl Merge for SourceP {
    fn merge(&mut self, o: Self) {
        self.successes += o.successes;
        for h in o.user_hashes {
            if self.user_hashes.contains(&h) {
                continue;
            }
            if self.user_hashes.len() < SOURCE_USERS_KEPT {
                self.user_hashes.push(h);
            } else {
                self.users_over += 1;
            }
        }
        for u in o.sample {
            if self.sample.len() < SOURCE_SAMPLE && !self.sample.contains(&u) {
                self.sample.push(u);
            }
        }
        self.users_over += o.users_over;
        self.first = min_time(self.first, o.first);
        self.last = self.last.max(o.last);
    }
}

/// Payload per locked-out user.
#[derive(Debug, Clone, Default)]
pub struct LockP {
    pub first: i64,
    pub last: i64,
    pub sources: FxHashSet<Box<[u8]>>,
    pub example: Option<Loc>,
}

impl Merge for LockP {
    fn merge(&mut self, o: Self) {
        self.first = min_time(self.first, o.first);
        self.last = self.last.max(o.last);
        if self.sources.len() < 8 {
            self.sources.extend(o.sources.into_iter().take(8));
        }
        self.example = self.example.or(o.example);
    }
}

pub(crate) fn min_time(a: i64, b: i64) -> i64 {
    match (a, b) {
        (0, x) | (x, 0) => x,
        (x, y) => x.min(y),
    }
}

/// Failures of one hour, to name what changed when the rate steps up.
#[derive(Debug, Clone)]
pub struct MixAcc {
    pub failures: u64,
    pub urls: TopK<()>,
    pub agents: TopK<()>,
    pub codes: TopK<()>,
}

impl Default for MixAcc {
    fn default() -> Self {
        MixAcc {
            failures: 0,
            urls: TopK::new(32),
            agents: TopK::new(32),
            // Few distinct codes exist (status × substatus × win32): keep them all.
            codes: TopK::new(256),
        }
    }
}

impl Merge for MixAcc {
    fn merge(&mut self, o: Self) {
        self.failures += o.failures;
        self.urls.merge(o.urls);
        self.agents.merge(o.agents);
        self.codes.merge(o.codes);
    }
}

/// Text a leg keeps: a range of the chunk being scanned (no copy for the many legs that turn
/// out to be noise), made owned when the chunk ends with the leg still open.
#[derive(Debug, Clone)]
enum Text {
    Range(u32, u32),
    Owned(Box<[u8]>),
}

impl Text {
    fn of(s: &[u8], buf: &[u8]) -> Text {
        let (b, p) = (buf.as_ptr() as usize, s.as_ptr() as usize);
        if p >= b && p + s.len() <= b + buf.len() && buf.len() <= u32::MAX as usize {
            Text::Range((p - b) as u32, s.len() as u32)
        } else {
            Text::Owned(s.into())
        }
    }

    fn get<'a>(&'a self, buf: &'a [u8]) -> &'a [u8] {
        match self {
            Text::Range(o, l) => buf.get(*o as usize..(*o + *l) as usize).unwrap_or_default(),
            Text::Owned(b) => b,
        }
    }

    fn own(&mut self, buf: &[u8]) {
        if let Text::Range(..) = self {
            *self = Text::Owned(self.get(buf).into());
        }
    }
}

/// A handshake leg waiting for its client's success.
#[derive(Debug, Clone)]
struct Leg {
    time: i64,
    substatus: u32,
    win32: u64,
    uri: Text,
    agent: Text,
    plus: bool,
    loc: Loc,
}

/// Requests per minute: all, 401s, real failures.
#[derive(Debug, Clone, Default)]
pub struct Minutes {
    pub base: i64,
    pub v: Vec<[u32; 3]>,
}

impl Minutes {
    #[inline]
    fn slot(&mut self, minute: i64) -> &mut [u32; 3] {
        if self.v.is_empty() {
            self.base = minute;
        }
        if minute < self.base {
            let shift = (self.base - minute) as usize;
            let mut v = vec![[0u32; 3]; shift];
            v.append(&mut self.v);
            self.v = v;
            self.base = minute;
        }
        let i = (minute - self.base) as usize;
        if i >= self.v.len() {
            self.v.resize(i + 1, [0; 3]);
        }
        &mut self.v[i]
    }

    /// Adds `o` in and empties it (its allocation kept).
    fn absorb(&mut self, o: &mut Minutes) {
        for (i, c) in o.v.drain(..).enumerate() {
            if c != [0; 3] {
                let s = self.slot(o.base + i as i64);
                for k in 0..3 {
                    s[k] += c[k];
                }
            }
        }
        o.base = 0;
    }
}

/// A sample of an unparsable line.
#[derive(Debug, Clone)]
pub struct BadLine {
    pub loc: Loc,
    pub reason: &'static str,
    pub text: String,
}

/// How many unparsable lines are kept as examples.
pub const BAD_EXAMPLES: usize = 10;

/// Table capacities (keys kept per table; more are counted but may be cut from the tail).
#[derive(Debug, Clone, Copy)]
pub struct Caps {
    pub table: usize,
    pub pairs: usize,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            table: 4096,
            pairs: 16_384,
        }
    }
}

/// Optional time window.
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// What a chunk adds up to.
#[derive(Debug, Clone)]
pub struct Acc {
    pub lines: u64,
    pub requests: u64,
    pub filtered: u64,
    pub status: Vec<u64>,
    pub first: i64,
    pub last: i64,
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
            first: 0,
            last: 0,
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
        if r.time != i64::MIN {
            if self.window.since.is_some_and(|s| r.time < s)
                || self.window.until.is_some_and(|u| r.time >= u)
            {
                self.filtered += 1;
                return;
            }
            if self.first == 0 || r.time < self.first {
                self.first = r.time;
            }
            if r.time > self.last {
                self.last = r.time;
            }
        }
        self.requests += 1;
        self.status[(r.status as usize).min(999)] += 1;
        let minute = if r.time == i64::MIN {
            None
        } else {
            Some(r.time.div_euclid(60))
        };
        if let Some(m) = minute {
            let s = self.minutes.slot(m);
            s[0] += 1;
            if r.status == 401 {
                s[1] += 1;
            }
        }
        let denied = matches!(r.status, 401 | 403 | 407);
        if !denied {
            if r.status < 400 {
                self.success(r, loc, buf);
            }
            return;
        }
        let code = self
            .codes
            .entry((r.status, r.substatus, r.win32))
            .or_default();
        code[0] += 1;
        if let Some(rs) = reasons
            && let Some(why) = rs.explain(r.time, r.ip, r.uri, r.user)
        {
            *self.reasons.entry(why).or_default() += 1;
        }
        if is_handshake_leg(r.status, r.substatus, r.win32, r.user) && !r.ip.is_empty() {
            let leg = Leg {
                time: r.time,
                substatus: r.substatus,
                win32: r.win32,
                uri: Text::of(r.uri, buf),
                agent: Text::of(r.agent, buf),
                plus: r.plus_for_space,
                loc,
            };
            let hip = key_hash(r.ip);
            self.pending
                .get_or_insert_with(hip, r.ip, Vec::new)
                .push(leg);
            self.opened(hip, 1);
            if self.pending.len() > 200_000 {
                self.sweep(r.time, loc.line, buf);
            }
            return;
        }
        self.failure(r, loc, Some(loc.line));
    }

    /// A success: earlier handshake legs of this client were noise. It is only noted here
    /// (by key hash): whether it counts for its IP and pair, which needs their first failure,
    /// is read at the chunk's end ([`Acc::end_chunk`]) and at the merge, off the hot path.
    #[inline]
    fn success(&mut self, r: &Record, loc: Loc, buf: &[u8]) {
        let mut seen = Success {
            ip: 0,
            pair: 0,
            time: r.time,
            line: loc.line,
            flags: 0,
        };
        let hip = key_hash(r.ip);
        if !r.ip.is_empty() {
            seen.ip = hip;
            seen.flags |= Success::IP;
        }
        if !r.user.is_empty() {
            seen.pair = pair_hash(hip, key_hash(r.user));
            seen.flags |= Success::PAIR;
        }
        self.successes.push(seen);
        if self.open == 0 || r.ip.is_empty() {
            return;
        }
        let b = bucket(seen.ip);
        if self.open_by_hash[b] == 0 {
            return;
        }
        let Some(legs) = self.pending.get_mut(seen.ip, r.ip) else {
            return;
        };
        if legs.is_empty() {
            return;
        }
        let mut legs = std::mem::take(legs);
        self.closed(seen.ip, legs.len());
        for leg in legs.drain(..) {
            self.settle_leg(r.ip, leg, r.time, buf, Some(loc.line));
        }
        // The emptied list goes back to its client: its next handshake does not allocate.
        if let Some(slot) = self.pending.get_mut(seen.ip, r.ip) {
            *slot = legs;
        }
    }

    /// `n` more legs of the client with this hash wait for its success.
    fn opened(&mut self, ip_hash: u64, n: usize) {
        self.open += n;
        let b = bucket(ip_hash);
        self.open_by_hash[b] = self.open_by_hash[b].saturating_add(n as u16);
    }

    /// `n` legs of the client with this hash are settled.
    fn closed(&mut self, ip_hash: u64, n: usize) {
        self.open -= n;
        let b = bucket(ip_hash);
        self.open_by_hash[b] = self.open_by_hash[b].saturating_sub(n as u16);
    }

    /// A leg meets its client's success at `time`: noise within the handshake window, a real
    /// failure otherwise (`at` as for [`Acc::expire`]).
    fn settle_leg(&mut self, ip: &[u8], leg: Leg, time: i64, buf: &[u8], at: Option<u64>) {
        if time == i64::MIN || leg.time == i64::MIN || time - leg.time <= HANDSHAKE_WINDOW {
            self.noise_leg(&leg);
        } else {
            self.expire(ip, leg, buf, at);
        }
    }

    fn noise_leg(&mut self, leg: &Leg) {
        self.noise += 1;
        self.codes
            .entry((401, leg.substatus, leg.win32))
            .or_default()[1] += 1;
    }

    /// A leg nobody followed up: a real failure after all.
    /// `at`: the line of this chunk where that became known (its successes count from there).
    fn expire(&mut self, ip: &[u8], leg: Leg, buf: &[u8], at: Option<u64>) {
        let r = Record {
            time: leg.time,
            ip,
            user: b"",
            method: b"",
            uri: leg.uri.get(buf),
            status: 401,
            substatus: leg.substatus,
            win32: leg.win32,
            agent: leg.agent.get(buf),
            plus_for_space: leg.plus,
        };
        self.failure(&r, leg.loc, at);
    }

    fn sweep(&mut self, now: i64, line: u64, buf: &[u8]) {
        let stale: Vec<(u64, Box<[u8]>)> = self
            .pending
            .iter()
            .filter(|(_, _, legs)| {
                legs.last().is_some_and(|l| now - l.time > HANDSHAKE_WINDOW) || legs.is_empty()
            })
            .map(|(h, k, _)| (h, k.into()))
            .collect();
        for (h, k) in stale {
            if let Some(legs) = self.pending.remove(h, &k) {
                self.closed(h, legs.len());
                for leg in legs {
                    self.expire(&k, leg, buf, Some(line));
                }
            }
        }
    }

    /// The chunk is done: its successes count for the IPs and pairs that failed before them
    /// in it, open legs copy their text out of it, empty entries go.
    pub fn end_chunk(&mut self, buf: &[u8]) {
        self.count_local_successes();
        self.pending.retain(|_, legs| !legs.is_empty());
        for legs in self.pending.values_mut() {
            for leg in legs {
                leg.uri.own(buf);
                leg.agent.own(buf);
            }
        }
    }

    /// Counts each success of the chunk for its IP and pair when they failed earlier in the
    /// chunk, and marks it counted (the merge counts the others against earlier chunks).
    fn count_local_successes(&mut self) {
        if self.first_fail_ip.is_empty() && self.first_fail_pair.is_empty() {
            return;
        }
        let mut ip_n: FxHashMap<u64, u64> = FxHashMap::default();
        let mut pair_n: FxHashMap<u64, u64> = FxHashMap::default();
        for s in &mut self.successes {
            if s.flags & Success::IP != 0
                && self.first_fail_ip.get(&s.ip).is_some_and(|&l| l < s.line)
            {
                *ip_n.entry(s.ip).or_default() += 1;
                s.flags |= Success::IP_COUNTED;
            }
            if s.flags & Success::PAIR != 0
                && self
                    .first_fail_pair
                    .get(&s.pair)
                    .is_some_and(|&l| l < s.line)
            {
                *pair_n.entry(s.pair).or_default() += 1;
                s.flags |= Success::PAIR_COUNTED;
            }
        }
        self.credit(ip_n, pair_n);
        self.first_fail_ip.clear();
        self.first_fail_pair.clear();
    }

    /// A real failure: into every table. `at`: the line of this chunk from which the failure
    /// is known (none when merging chunks).
    fn failure(&mut self, r: &Record, loc: Loc, at: Option<u64>) {
        if r.time != i64::MIN {
            self.minutes.slot(r.time.div_euclid(60))[2] += 1;
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
            p.first = min_time(p.first, r.time);
            p.last = p.last.max(r.time);
            if r.time != i64::MIN {
                p.hour(r.time.div_euclid(3600) as i32);
            }
            p.example.get_or_insert(loc);
        }
        if let Some(at) = at {
            self.first_fail_ip.entry(hip).or_insert(at);
        }
        let s = self.sources.hit_hashed(hip, r.ip);
        let sp = &mut s.payload;
        sp.first = min_time(sp.first, r.time);
        sp.last = sp.last.max(r.time);
        if !r.user.is_empty() {
            sp.user(r.user, hu);
        }
        if is_lockout(r.win32) && !r.user.is_empty() {
            let l = self.lockouts.hit_hashed(hu, r.user);
            l.payload.first = min_time(l.payload.first, r.time);
            l.payload.last = l.payload.last.max(r.time);
            if l.payload.sources.len() < 8 {
                l.payload.sources.insert(r.ip.into());
            }
            l.payload.example.get_or_insert(loc);
        }
        if r.time != i64::MIN {
            let h = self.hours.entry(r.time.div_euclid(3600)).or_default();
            h.failures += 1;
            h.urls.hit_hashed(huri, r.uri);
            h.agents.hit_hashed(hagent, r.agent);
            let mut code = [0u8; 48];
            h.codes
                .hit(code_key(r.status, r.substatus, r.win32, &mut code));
        }
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
        self.first = min_time(self.first, next.first);
        self.last = self.last.max(next.last);
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
        self.first = 0;
        self.last = 0;
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
        self.reasons.clear();
        self.pending.clear();
        self.open = 0;
        self.open_by_hash.fill(0);
        self.first_fail_ip.clear();
        self.first_fail_pair.clear();
        self.successes.clear();
        self.plus_for_space = false;
    }

    /// Whether handshake legs are waiting for a success.
    pub fn has_open(&self) -> bool {
        self.open > 0
    }

    /// Reads the next chunk's successes, in order, as one sequential read would have met them
    /// after this chunk: a success counts for its pair and IP when they failed before it (here,
    /// or earlier in that chunk, which it counted itself), and a client's first success settles
    /// the legs left open here: noise when it came within the handshake window, real failures
    /// otherwise (from then on the client is failing).
    fn absorb_successes(&mut self, next: &[Success]) {
        // The failing IPs and pairs are this accumulator's tables, asked by hash: a client
        // whose open legs turn out to be real failures below joins them as it is settled.
        let mut open: FxHashMap<u64, Key> = self
            .pending
            .iter()
            .filter(|(_, _, legs)| !legs.is_empty())
            .map(|(h, ip, _)| (h, Key::new(ip)))
            .collect();
        let mut ip_hits: FxHashMap<u64, u64> = FxHashMap::default();
        let mut pair_hits: FxHashMap<u64, u64> = FxHashMap::default();
        for s in next {
            if s.flags & (Success::IP | Success::IP_COUNTED) == Success::IP
                && self.sources.contains_hash(s.ip)
            {
                *ip_hits.entry(s.ip).or_default() += 1;
            }
            if s.flags & (Success::PAIR | Success::PAIR_COUNTED) == Success::PAIR
                && self.pairs.contains_hash(s.pair)
            {
                *pair_hits.entry(s.pair).or_default() += 1;
            }
            if s.flags & Success::IP != 0
                && !open.is_empty()
                && let Some(ip) = open.remove(&s.ip)
            {
                self.settle(s.ip, ip.as_bytes(), s.time);
            }
        }
        self.credit(ip_hits, pair_hits);
    }

    /// Adds successes to the failing IPs and pairs, by key hash.
    fn credit(&mut self, ips: FxHashMap<u64, u64>, pairs: FxHashMap<u64, u64>) {
        for (h, n) in ips {
            if let Some(e) = self.sources.get_mut_by_hash(h) {
                e.payload.successes += n;
            }
        }
        for (h, n) in pairs {
            if let Some(e) = self.pairs.get_mut_by_hash(h) {
                e.payload.successes += n;
            }
        }
    }

    /// Settles the open legs of `ip` (whose hash is `h`) against a success at `time`: noise
    /// within the handshake window, real failures otherwise.
    fn settle(&mut self, h: u64, ip: &[u8], time: i64) {
        let legs = self.pending.remove(h, ip).unwrap_or_default();
        self.closed(h, legs.len());
        for leg in legs {
            self.settle_leg(ip, leg, time, &[], None);
        }
    }

    /// Absorbs the pass over another file: handshakes do not continue across files.
    pub fn merge_file(&mut self, next: Acc) {
        self.finish();
        self.merge(next);
    }

    /// Closes the handshake legs still open at the end of the input: nobody followed them up.
    pub fn finish(&mut self) {
        self.open = 0;
        self.open_by_hash.fill(0);
        let pending: Vec<_> = self.pending.drain().collect();
        for (_, ip, legs) in pending {
            for leg in legs {
                self.expire(ip.as_bytes(), leg, &[], None);
            }
        }
    }
}

/// `ip \0 user` written into `out`, when it fits.
#[inline]
fn pair_key_into<'a>(ip: &[u8], user: &[u8], out: &'a mut [u8; 256]) -> Option<&'a [u8]> {
    let n = ip.len() + 1 + user.len();
    if n > out.len() {
        return None;
    }
    out[..ip.len()].copy_from_slice(ip);
    out[ip.len()] = 0;
    out[ip.len() + 1..n].copy_from_slice(user);
    Some(&out[..n])
}

/// `ip \0 user`.
pub fn pair_key(ip: &[u8], user: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(ip.len() + user.len() + 1);
    k.extend_from_slice(ip);
    k.push(0);
    k.extend_from_slice(user);
    k
}

/// `status substatus win32` written into `out` without allocating (by hand: `write!` costs
/// more than the rest of a failure's bookkeeping).
fn code_key(status: u16, substatus: u32, win32: u64, out: &mut [u8; 48]) -> &[u8] {
    let mut n = 0;
    for (k, v) in [status as u64, substatus as u64, win32]
        .into_iter()
        .enumerate()
    {
        if k > 0 {
            out[n] = b' ';
            n += 1;
        }
        let mut digits = [0u8; 20];
        let mut d = 0;
        let mut v = v;
        loop {
            digits[d] = b'0' + (v % 10) as u8;
            d += 1;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        for &c in digits[..d].iter().rev() {
            out[n] = c;
            n += 1;
        }
    }
    &out[..n]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn code_keys_read_as_formatted(status: u16, substatus: u32, win32: u64) {
            let mut out = [0u8; 48];
            let want = format!("{status} {substatus} {win32}");
            prop_assert_eq!(code_key(status, substatus, win32, &mut out), want.as_bytes());
        }
    }
}
