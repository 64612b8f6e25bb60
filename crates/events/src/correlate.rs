//! The join: each logon failure of an access log (IIS `401 1 1326`) with the event that says
//! why, logged by the server for the same account, from the same client, within a few seconds.
//!
//! Both sides are put in one canonical order first and matched greedily, one event per line,
//! nearest in time: the result does not depend on the order the files were given in.

use std::collections::{BTreeMap, HashMap};

use why401_evidence::events::{AccessFailure, Correlation, Explained, Reason};
use why401_evidence::logs::KeyCount;

use crate::acc::Fail;
use crate::reason;
use crate::record::{address, user_key};

/// Why an access-log line found no event.
const OUTSIDE: &str = "outside the events' time range";
const NO_EVENT: &str = "no failure event for the account";
const OTHER_TIME: &str = "the account's failure events are at other times";
const OTHER_ADDRESS: &str = "the account's events at that time came from another address";
const TAKEN: &str = "more refused requests than failure events for the account at that time";

/// Matches `access` with the 4625/4776 of `fails`; `name` reads an interned name. Returns the
/// correlation and, per failure, whether a line matched it.
pub(crate) fn run<'a>(
    access: &[AccessFailure],
    fails: &[Fail],
    name: impl Fn(u32) -> &'a str,
    window: i64,
) -> (Correlation, Vec<bool>) {
    let mut lines: Vec<&AccessFailure> = access.iter().collect();
    lines.sort_by(|a, b| {
        (a.time, &a.ip, &a.user, &a.at, a.win32).cmp(&(b.time, &b.ip, &b.user, &b.at, b.win32))
    });
    // The events a line may match, per account; `fails` is in canonical order already.
    let mut by_user: HashMap<String, Vec<usize>> = HashMap::new();
    let mut range: Option<(i64, i64)> = None;
    for (i, f) in fails.iter().enumerate() {
        if f.id != 4625 && f.id != 4776 {
            continue;
        }
        by_user.entry(name(f.user).to_string()).or_default().push(i);
        range = Some(range.map_or((f.time, f.time), |(a, b)| (a.min(f.time), b.max(f.time))));
    }
    let mut used = vec![false; fails.len()];
    let mut c = Correlation {
        window_secs: window,
        logon_lines: lines.len() as u64,
        ..Correlation::default()
    };
    let mut why: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut reasons: HashMap<(bool, u32), u64> = HashMap::new();
    let mut by_user_reason: HashMap<(String, String), u64> = HashMap::new();
    let mut by_client_reason: HashMap<(String, String), u64> = HashMap::new();
    for line in lines {
        let user = user_key(&line.user);
        let ip = address(&line.ip);
        let candidates = by_user.get(&user).map(Vec::as_slice).unwrap_or(&[]);
        let near = |i: &&usize| (fails[**i].time - line.time).abs() <= window;
        // A 4625 from the line's address (or from no address) first, then a 4776 (which has
        // none), nearest in time; ties by canonical order.
        let pick = |want_4625: bool| {
            candidates
                .iter()
                .filter(near)
                .filter(|i| !used[**i])
                .filter(|i| {
                    let f = &fails[**i];
                    if want_4625 {
                        f.id == 4625 && (name(f.ip).is_empty() || name(f.ip) == ip)
                    } else {
                        f.id == 4776
                    }
                })
                .min_by_key(|i| ((fails[**i].time - line.time).abs(), **i))
                .copied()
        };
        let hit = pick(true)
            .map(|i| (i, true))
            .or_else(|| pick(false).map(|i| (i, false)));
        match hit {
            Some((i, with_address)) => {
                used[i] = true;
                c.matched += 1;
                if !with_address {
                    c.matched_without_address += 1;
                }
                let f = &fails[i];
                *reasons.entry((f.kerberos, f.why)).or_default() += 1;
                let label = reason::label(f.kerberos, f.why);
                *by_user_reason
                    .entry((line.user.clone(), label.clone()))
                    .or_default() += 1;
                *by_client_reason
                    .entry((line.ip.clone(), label))
                    .or_default() += 1;
            }
            None => {
                c.unmatched += 1;
                let w = match range {
                    Some((a, b)) if line.time < a - window || line.time > b + window => OUTSIDE,
                    None => OUTSIDE,
                    _ if candidates.is_empty() => NO_EVENT,
                    _ if !candidates.iter().any(|i| near(&i)) => OTHER_TIME,
                    _ if candidates.iter().filter(near).all(|i| {
                        let f = &fails[*i];
                        f.id == 4625 && !name(f.ip).is_empty() && name(f.ip) != ip
                    }) =>
                    {
                        OTHER_ADDRESS
                    }
                    _ => TAKEN,
                };
                *why.entry(w).or_default() += 1;
            }
        }
    }
    c.unmatched_why = why
        .into_iter()
        .map(|(k, count)| KeyCount {
            key: k.to_string(),
            count,
        })
        .collect();
    c.unmatched_why
        .sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
    if c.logon_lines > 0 && c.matched == 0 {
        c.note = Some(if range.is_none() {
            "no 4625 or 4776 in the event logs given: logon failure auditing is off on the web \
             server (auditpol /get /subcategory:Logon must show Failure), or these are another \
             server's Security logs"
                .into()
        } else {
            "no line matched: check that the Security log is the web server's and that the \
             access log's times are UTC (IIS writes UTC unless the fields are date-local/time-local)"
                .into()
        });
    }
    let mut rv: Vec<Reason> = reasons
        .into_iter()
        .map(|((k, code), count)| {
            let (code, reason) = reason::of(k, code);
            Reason {
                code,
                reason,
                count,
            }
        })
        .collect();
    rv.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    c.reasons = rv;
    c.by_user = explained(by_user_reason);
    c.by_client = explained(by_client_reason);
    (c, used)
}

fn explained(m: HashMap<(String, String), u64>) -> Vec<Explained> {
    let mut v: Vec<Explained> = m
        .into_iter()
        .map(|((key, reason), count)| Explained { key, reason, count })
        .collect();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.key.cmp(&b.key))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    v.truncate(50);
    v
}
