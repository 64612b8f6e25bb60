//! NTLM/Negotiate (and Basic/Digest challenge) handshake legs: a 401 that is the normal first
//! step of a login waits, by client, for that client's success; within the handshake window it
//! was noise, otherwise (or when nothing follows) a real failure. Legs open at a chunk's end are
//! settled by the next chunk's successes at the merge, so the count is that of one read.

use super::{Acc, Loc, Record};
use crate::heavy::key_hash;

/// The legs a client passes on the way to a success: IIS's `401 2 5` and `401 1 2148074254`
/// (NTLM/Negotiate), and elsewhere a 401 to a request without credentials (the challenge).
pub(super) fn is_handshake_leg(status: u16, substatus: u32, win32: u64, user: &[u8]) -> bool {
    status == 401
        && ((substatus == 2 && win32 == 5)
            || (substatus == 1 && win32 == 2_148_074_254)
            // A log without IIS's codes (nginx, Apache, JSON): a 401 to a request without
            // credentials, the challenge every browser gets on its first Basic/Digest request.
            || (substatus == 0 && win32 == 0 && user.is_empty()))
}

pub(super) const OPEN_BUCKETS: usize = 4096;

/// The open-legs bucket of a client, from its [`key_hash`].
#[inline]
pub(super) fn bucket(ip_hash: u64) -> usize {
    (ip_hash >> 20) as usize % OPEN_BUCKETS
}

/// Seconds within which a success turns earlier handshake legs into noise.
pub(super) const HANDSHAKE_WINDOW: i64 = 60;

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
pub(super) struct Leg {
    time: Option<i64>,
    substatus: u32,
    win32: u64,
    uri: Text,
    agent: Text,
    plus: bool,
    loc: Loc,
}

impl Acc {
    /// A leg opens: it waits for its client's success.
    #[inline]
    pub(super) fn open_leg(&mut self, r: &Record, time: Option<i64>, loc: Loc, buf: &[u8]) {
        let leg = Leg {
            time,
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
            self.sweep(time, loc.line, buf);
        }
    }

    /// The chunk `buf` is done: legs still open copy their text out of it, empty entries go.
    pub(super) fn keep_open_legs(&mut self, buf: &[u8]) {
        self.pending.retain(|_, legs| !legs.is_empty());
        for legs in self.pending.values_mut() {
            for leg in legs {
                leg.uri.own(buf);
                leg.agent.own(buf);
            }
        }
    }

    /// `n` more legs of the client with this hash wait for its success.
    pub(super) fn opened(&mut self, ip_hash: u64, n: usize) {
        self.open += n;
        let b = bucket(ip_hash);
        self.open_by_hash[b] = self.open_by_hash[b].saturating_add(n as u16);
    }

    /// `n` legs of the client with this hash are settled.
    pub(super) fn closed(&mut self, ip_hash: u64, n: usize) {
        self.open -= n;
        let b = bucket(ip_hash);
        self.open_by_hash[b] = self.open_by_hash[b].saturating_sub(n as u16);
    }

    /// A leg meets its client's success at `time`: noise within the handshake window (or when
    /// either has no time to tell), a real failure otherwise (`at` as for [`Acc::expire`]).
    pub(super) fn settle_leg(
        &mut self,
        ip: &[u8],
        leg: Leg,
        time: Option<i64>,
        buf: &[u8],
        at: Option<u64>,
    ) {
        match (time, leg.time) {
            (Some(t), Some(l)) if t - l > HANDSHAKE_WINDOW => self.expire(ip, leg, buf, at),
            _ => self.noise_leg(&leg),
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
    pub(super) fn expire(&mut self, ip: &[u8], leg: Leg, buf: &[u8], at: Option<u64>) {
        // The time goes to `failure` as the leg's `Option`; the record's own field is not read.
        let r = Record {
            ip,
            user: b"",
            method: b"",
            uri: leg.uri.get(buf),
            status: 401,
            substatus: leg.substatus,
            win32: leg.win32,
            agent: leg.agent.get(buf),
            plus_for_space: leg.plus,
            ..Record::default()
        };
        self.failure(&r, leg.time, leg.loc, at);
    }

    /// Too many clients have legs open: those whose last leg is older than the handshake
    /// window at `now` were never followed up. (A leg without a time is never stale: a success
    /// would have made it noise.)
    pub(super) fn sweep(&mut self, now: Option<i64>, line: u64, buf: &[u8]) {
        let stale: Vec<(u64, Box<[u8]>)> = self
            .pending
            .iter()
            .filter(|(_, _, legs)| {
                legs.last().is_some_and(|l| match (now, l.time) {
                    (Some(now), Some(t)) => now - t > HANDSHAKE_WINDOW,
                    _ => false,
                }) || legs.is_empty()
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

    /// Whether handshake legs are waiting for a success.
    pub fn has_open(&self) -> bool {
        self.open > 0
    }

    /// Settles the open legs of `ip` (whose hash is `h`) against a success at `time`: noise
    /// within the handshake window, real failures otherwise.
    pub(super) fn settle(&mut self, h: u64, ip: &[u8], time: Option<i64>) {
        let legs = self.pending.remove(h, ip).unwrap_or_default();
        self.closed(h, legs.len());
        for leg in legs {
            self.settle_leg(ip, leg, time, &[], None);
        }
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
