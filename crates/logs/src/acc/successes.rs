//! Successes, and what they are credited to: on the hot path a success is only noted by key
//! hash; whether it counts for a failing IP and (IP, user) pair (it does when they failed
//! before it, in log order) is read at the chunk's end and, against earlier chunks, at the merge.

use rustc_hash::FxHashMap;

use super::legs::bucket;
use super::payload::pair_hash;
use super::{Acc, Loc, Record};
use crate::heavy::{Key, key_hash};

/// One success line, as the merge needs it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Success {
    /// The client IP's [`key_hash`] and the (IP, user) pair's [`pair_hash`].
    ip: u64,
    pair: u64,
    /// Unix seconds when [`Success::TIMED`] is set; read through [`Success::time`]. (A flag,
    /// not an `Option`: one is noted per success line, and 8 more bytes each is measurable.)
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
    /// The line carried a time.
    const TIMED: u8 = 16;

    /// The line's time, if it carried one.
    fn time(&self) -> Option<i64> {
        (self.flags & Success::TIMED != 0).then_some(self.time)
    }
}

impl Acc {
    /// A success: earlier handshake legs of this client were noise. It is only noted here
    /// (by key hash): whether it counts for its IP and pair, which needs their first failure,
    /// is read at the chunk's end ([`Acc::end_chunk`]) and at the merge, off the hot path.
    #[inline]
    pub(super) fn success(&mut self, r: &Record, time: Option<i64>, loc: Loc, buf: &[u8]) {
        let mut seen = Success {
            ip: 0,
            pair: 0,
            time: time.unwrap_or_default(),
            line: loc.line,
            flags: if time.is_some() { Success::TIMED } else { 0 },
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
            self.settle_leg(r.ip, leg, time, buf, Some(loc.line));
        }
        // The emptied list goes back to its client: its next handshake does not allocate.
        if let Some(slot) = self.pending.get_mut(seen.ip, r.ip) {
            *slot = legs;
        }
    }

    /// Counts each success of the chunk for its IP and pair when they failed earlier in the
    /// chunk, and marks it counted (the merge counts the others against earlier chunks).
    pub(super) fn count_local_successes(&mut self) {
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

    /// Reads the next chunk's successes, in order, as one sequential read would have met them
    /// after this chunk: a success counts for its pair and IP when they failed before it (here,
    /// or earlier in that chunk, which it counted itself), and a client's first success settles
    /// the legs left open here: noise when it came within the handshake window, real failures
    /// otherwise (from then on the client is failing).
    pub(super) fn absorb_successes(&mut self, next: &[Success]) {
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
                self.settle(s.ip, ip.as_bytes(), s.time());
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
}
