//! The payloads the failure tables carry per key (first/last seen, failing hours, distinct
//! users, lockout sources, an hour's mix) and the composite keys they are filed under.

use rustc_hash::FxHashSet;

use super::Loc;
use crate::heavy::{Merge, TopK};

/// The hash of an (IP, user) pair from the [`key_hash`] of each: a success computes it without
/// writing the pair's key (only a failure stores the key, `ip \0 user`).
#[inline]
pub(super) fn pair_hash(ip: u64, user: u64) -> u64 {
    (ip.rotate_left(23) ^ user)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .rotate_left(26)
}

/// Payload per (ip, user) pair.
#[derive(Debug, Clone, Default)]
pub struct PairP {
    pub successes: u64,
    /// Its first and last failure, when its lines carry a time.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// Hours (since the epoch) with a failure, sorted, distinct.
    pub hours: Vec<i32>,
    pub example: Option<Loc>,
}

impl PairP {
    #[inline]
    pub(super) fn hour(&mut self, h: i32) {
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
        self.first = earliest(self.first, o.first);
        self.last = latest(self.last, o.last);
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
    /// Its first and last failure, when its lines carry a time.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

/// How many distinct users a source counts exactly.
const SOURCE_USERS_KEPT: usize = 256;
/// How many user names a source keeps for the report.
const SOURCE_SAMPLE: usize = 10;

impl SourceP {
    #[inline]
    pub(super) fn user(&mut self, user: &[u8], h: u64) {
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
        self.first = earliest(self.first, o.first);
        self.last = latest(self.last, o.last);
    }
}

/// Payload per locked-out user.
#[derive(Debug, Clone, Default)]
pub struct LockP {
    /// Its first and last failure, when its lines carry a time.
    pub first: Option<i64>,
    pub last: Option<i64>,
    pub sources: FxHashSet<Box<[u8]>>,
    pub example: Option<Loc>,
}

impl Merge for LockP {
    fn merge(&mut self, o: Self) {
        self.first = earliest(self.first, o.first);
        self.last = latest(self.last, o.last);
        if self.sources.len() < 8 {
            self.sources.extend(o.sources.into_iter().take(8));
        }
        self.example = self.example.or(o.example);
    }
}

/// The earlier of two times, either of which may be unknown (a line without a time).
#[inline]
pub(crate) fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (t, None) | (None, t) => t,
    }
}

/// The later of two times, either of which may be unknown.
#[inline]
pub(crate) fn latest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    // `None` orders before every `Some`.
    a.max(b)
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

/// `ip \0 user` written into `out`, when it fits.
#[inline]
pub(super) fn pair_key_into<'a>(
    ip: &[u8],
    user: &[u8],
    out: &'a mut [u8; 256],
) -> Option<&'a [u8]> {
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
pub(super) fn pair_key(ip: &[u8], user: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(ip.len() + user.len() + 1);
    k.extend_from_slice(ip);
    k.push(0);
    k.extend_from_slice(user);
    k
}

/// `status substatus win32` written into `out` without allocating (by hand: `write!` costs
/// more than the rest of a failure's bookkeeping).
pub(super) fn code_key(status: u16, substatus: u32, win32: u64, out: &mut [u8; 48]) -> &[u8] {
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
