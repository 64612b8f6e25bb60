//! The accumulator: what one chunk of log lines adds up to, mergeable in file order.
//!
//! Every line costs a status count and a time-bucket count. Only denials (401/403/407) pay for
//! the tables, and only successes from a client in the middle of an NTLM/Negotiate handshake
//! pay a hash lookup — that split is what keeps the scan near memory speed.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::errorlog::Reasons;
use crate::heavy::{Merge, TopK};

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
const PAIR_WORDS: usize = 1024;

#[inline]
fn has_bit(bits: &[u64; PAIR_WORDS], h: u64) -> bool {
    bits[(h >> 6) as usize % PAIR_WORDS] & (1 << (h & 63)) != 0
}

#[inline]
fn set_bit(bits: &mut [u64; PAIR_WORDS], h: u64) {
    bits[(h >> 6) as usize % PAIR_WORDS] |= 1 << (h & 63);
}

#[inline]
fn hash_of(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = rustc_hash::FxHasher::default();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

#[inline]
fn bucket(ip: &[u8]) -> usize {
    (hash_of(&[ip]) >> 20) as usize % OPEN_BUCKETS
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
    /// Hash of the client IP and of the (IP, user) pair key.
    ip: u64,
    pair: u64,
    time: i64,
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
            urls: TopK::new(16),
            agents: TopK::new(16),
            codes: TopK::new(16),
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

    fn merge(&mut self, o: Minutes) {
        for (i, c) in o.v.into_iter().enumerate() {
            if c != [0; 3] {
                let s = self.slot(o.base + i as i64);
                for k in 0..3 {
                    s[k] += c[k];
                }
            }
        }
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
    pub ips: TopK<()>,
    pub urls: TopK<()>,
    pub agents: TopK<()>,
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
    pending: FxHashMap<Box<[u8]>, Vec<Leg>>,
    open: usize,
    /// Open legs per client-hash bucket: a success looks a client up only when its bucket has
    /// any (most successes come from clients with nothing open).
    open_by_hash: Box<[u16; OPEN_BUCKETS]>,
    /// Hashes of the (ip, user) pairs failing in this chunk: a success looks its pair up only
    /// when its bit is set.
    failing_pairs: Box<[u64; PAIR_WORDS]>,
    /// The same for the client IPs failing in this chunk.
    failing_ips: Box<[u64; PAIR_WORDS]>,
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
            ips: TopK::new(caps.table),
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
            pending: FxHashMap::default(),
            open: 0,
            open_by_hash: Box::new([0; OPEN_BUCKETS]),
            failing_pairs: Box::new([0; PAIR_WORDS]),
            failing_ips: Box::new([0; PAIR_WORDS]),
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
                self.success(r, buf);
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
            match self.pending.get_mut(r.ip) {
                Some(legs) => legs.push(leg),
                None => {
                    self.pending.insert(r.ip.into(), vec![leg]);
                }
            }
            self.open += 1;
            let b = bucket(r.ip);
            self.open_by_hash[b] = self.open_by_hash[b].saturating_add(1);
            if self.pending.len() > 200_000 {
                self.sweep(r.time, buf);
            }
            return;
        }
        self.failure(r, loc);
    }

    /// A success: earlier handshake legs of this client were noise.
    #[inline]
    fn success(&mut self, r: &Record, buf: &[u8]) {
        // A pair (and an IP) counts its successes from its first failure on, as one sequential
        // read sees them. A pair that failed earlier in this chunk is counted here; any other
        // success is kept by hash, and the merge counts it if the pair failed in an earlier chunk.
        let mut seen = Success {
            ip: 0,
            pair: 0,
            time: r.time,
            flags: 0,
        };
        if !r.ip.is_empty() {
            seen.ip = hash_of(&[r.ip]);
            seen.flags |= Success::IP;
            if has_bit(&self.failing_ips, seen.ip)
                && let Some(e) = self.sources.get_mut(r.ip)
            {
                e.payload.successes += 1;
                seen.flags |= Success::IP_COUNTED;
            }
        }
        if !r.user.is_empty() {
            let mut buf = [0u8; 256];
            let owned;
            let key = match pair_key_into(r.ip, r.user, &mut buf) {
                Some(k) => k,
                None => {
                    owned = pair_key(r.ip, r.user);
                    &owned
                }
            };
            seen.pair = hash_of(&[key]);
            seen.flags |= Success::PAIR;
            if has_bit(&self.failing_pairs, seen.pair)
                && let Some(e) = self.pairs.get_mut(key)
            {
                e.payload.successes += 1;
                seen.flags |= Success::PAIR_COUNTED;
            }
        }
        self.successes.push(seen);
        if self.open == 0 {
            return;
        }
        let b = bucket(r.ip);
        if self.open_by_hash[b] == 0 {
            return;
        }
        let Some(legs) = self.pending.get_mut(r.ip) else {
            return;
        };
        if legs.is_empty() {
            return;
        }
        let legs = std::mem::take(legs);
        self.open -= legs.len();
        self.open_by_hash[b] = self.open_by_hash[b].saturating_sub(legs.len() as u16);
        for leg in legs {
            if r.time == i64::MIN || leg.time == i64::MIN || r.time - leg.time <= HANDSHAKE_WINDOW {
                self.noise_leg(&leg);
            } else {
                self.expire(r.ip, leg, buf);
            }
        }
    }

    fn noise_leg(&mut self, leg: &Leg) {
        self.noise += 1;
        self.codes
            .entry((401, leg.substatus, leg.win32))
            .or_default()[1] += 1;
    }

    /// A leg nobody followed up: a real failure after all.
    fn expire(&mut self, ip: &[u8], leg: Leg, buf: &[u8]) {
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
        self.failure(&r, leg.loc);
    }

    fn sweep(&mut self, now: i64, buf: &[u8]) {
        let stale: Vec<Box<[u8]>> = self
            .pending
            .iter()
            .filter(|(_, legs)| {
                legs.last().is_some_and(|l| now - l.time > HANDSHAKE_WINDOW) || legs.is_empty()
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some(legs) = self.pending.remove(&k) {
                self.open -= legs.len();
                let b = bucket(&k);
                self.open_by_hash[b] = self.open_by_hash[b].saturating_sub(legs.len() as u16);
                for leg in legs {
                    self.expire(&k, leg, buf);
                }
            }
        }
    }

    /// The chunk is done: open legs copy their text out of it, empty entries go.
    pub fn end_chunk(&mut self, buf: &[u8]) {
        self.pending.retain(|_, legs| !legs.is_empty());
        for legs in self.pending.values_mut() {
            for leg in legs {
                leg.uri.own(buf);
                leg.agent.own(buf);
            }
        }
    }

    /// A real failure: into every table.
    fn failure(&mut self, r: &Record, loc: Loc) {
        if r.time != i64::MIN {
            self.minutes.slot(r.time.div_euclid(60))[2] += 1;
        }
        self.plus_for_space |= r.plus_for_space;
        self.ips.hit(r.ip);
        self.urls.hit(r.uri);
        self.agents.hit(r.agent);
        if !r.user.is_empty() {
            self.users.hit(r.user);
            let mut buf = [0u8; 256];
            let owned;
            let key = match pair_key_into(r.ip, r.user, &mut buf) {
                Some(k) => k,
                None => {
                    owned = pair_key(r.ip, r.user);
                    &owned
                }
            };
            set_bit(&mut self.failing_pairs, hash_of(&[key]));
            let e = self.pairs.hit(key);
            let p = &mut e.payload;
            p.first = min_time(p.first, r.time);
            p.last = p.last.max(r.time);
            if r.time != i64::MIN {
                p.hour(r.time.div_euclid(3600) as i32);
            }
            p.example.get_or_insert(loc);
        }
        set_bit(&mut self.failing_ips, hash_of(&[r.ip]));
        let s = self.sources.hit(r.ip);
        let sp = &mut s.payload;
        sp.first = min_time(sp.first, r.time);
        sp.last = sp.last.max(r.time);
        if !r.user.is_empty() {
            sp.user(r.user, hash_of(&[r.user]));
        }
        if is_lockout(r.win32) && !r.user.is_empty() {
            let l = self.lockouts.hit(r.user);
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
            h.urls.hit(r.uri);
            h.agents.hit(r.agent);
            let mut code = [0u8; 24];
            h.codes
                .hit(code_key(r.status, r.substatus, r.win32, &mut code));
        }
    }

    /// Absorbs the chunk that follows this one in the file.
    pub fn merge(&mut self, mut next: Acc) {
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
        self.minutes.merge(std::mem::take(&mut next.minutes));
        for (k, v) in next.codes {
            let c = self.codes.entry(k).or_default();
            c[0] += v[0];
            c[1] += v[1];
        }
        // The next chunk's successes meet the failures and open legs before it (here).
        if !next.successes.is_empty() {
            self.absorb_successes(&next.successes);
        }
        self.users.merge(next.users);
        self.ips.merge(next.ips);
        self.urls.merge(next.urls);
        self.agents.merge(next.agents);
        self.pairs.merge(next.pairs);
        self.sources.merge(next.sources);
        self.lockouts.merge(next.lockouts);
        for (h, m) in next.hours {
            self.hours.entry(h).or_default().merge(m);
        }
        self.noise += next.noise;
        self.plus_for_space |= next.plus_for_space;
        self.unparsed += next.unparsed;
        for b in next.bad {
            if self.bad.len() < BAD_EXAMPLES {
                self.bad.push(b);
            }
        }
        for (k, v) in next.reasons {
            *self.reasons.entry(k).or_default() += v;
        }
        for (ip, legs) in next.pending {
            self.open += legs.len();
            let b = bucket(&ip);
            self.open_by_hash[b] = self.open_by_hash[b].saturating_add(legs.len() as u16);
            self.pending.entry(ip).or_default().extend(legs);
        }
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
        let mut failing_ips: FxHashMap<u64, ()> = self
            .sources
            .iter()
            .map(|(k, _)| (hash_of(&[k]), ()))
            .collect();
        let failing_pairs: FxHashMap<u64, ()> = self
            .pairs
            .iter()
            .map(|(k, _)| (hash_of(&[k]), ()))
            .collect();
        let mut open: FxHashMap<u64, Box<[u8]>> = self
            .pending
            .iter()
            .filter(|(_, legs)| !legs.is_empty())
            .map(|(ip, _)| (hash_of(&[ip]), ip.clone()))
            .collect();
        let mut ip_hits: FxHashMap<u64, u64> = FxHashMap::default();
        let mut pair_hits: FxHashMap<u64, u64> = FxHashMap::default();
        for s in next {
            if s.flags & (Success::IP | Success::IP_COUNTED) == Success::IP
                && failing_ips.contains_key(&s.ip)
            {
                *ip_hits.entry(s.ip).or_default() += 1;
            }
            if s.flags & (Success::PAIR | Success::PAIR_COUNTED) == Success::PAIR
                && failing_pairs.contains_key(&s.pair)
            {
                *pair_hits.entry(s.pair).or_default() += 1;
            }
            if s.flags & Success::IP != 0
                && !open.is_empty()
                && let Some(ip) = open.remove(&s.ip)
                && self.settle(&ip, s.time)
            {
                failing_ips.insert(s.ip, ());
            }
        }
        if !ip_hits.is_empty() {
            for (k, e) in self.sources.iter_mut() {
                if let Some(n) = ip_hits.get(&hash_of(&[k])) {
                    e.payload.successes += n;
                }
            }
        }
        if !pair_hits.is_empty() {
            for (k, e) in self.pairs.iter_mut() {
                if let Some(n) = pair_hits.get(&hash_of(&[k])) {
                    e.payload.successes += n;
                }
            }
        }
    }

    /// Settles the open legs of `ip` against a success at `time`; true when some were real
    /// failures.
    fn settle(&mut self, ip: &[u8], time: i64) -> bool {
        let legs = self.pending.remove(ip).unwrap_or_default();
        self.open -= legs.len();
        let b = bucket(ip);
        self.open_by_hash[b] = self.open_by_hash[b].saturating_sub(legs.len() as u16);
        let mut expired = false;
        for leg in legs {
            if time == i64::MIN || leg.time == i64::MIN || time - leg.time <= HANDSHAKE_WINDOW {
                self.noise_leg(&leg);
            } else {
                self.expire(ip, leg, &[]);
                expired = true;
            }
        }
        expired
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
        for (ip, legs) in std::mem::take(&mut self.pending) {
            for leg in legs {
                self.expire(&ip, leg, &[]);
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

/// `status substatus win32` written into `out` without allocating.
fn code_key(status: u16, substatus: u32, win32: u64, out: &mut [u8; 24]) -> &[u8] {
    use std::io::Write;
    let mut cur = std::io::Cursor::new(&mut out[..]);
    let _ = write!(cur, "{status} {substatus} {win32}");
    let n = cur.position() as usize;
    &out[..n]
}
