//! Folding an accumulator into the [`LogSummary`] the doctor judges and the renderers show.

use why401_evidence::logs::{
    CodeCount, InputInfo, KeyCount, Lockout, LogSummary, Mix, PairStats, ReasonCount, Scattered,
    Series, SourceStats, Unparsed, Unreadable,
};

use crate::acc::{Acc, Loc, earliest, latest};
use crate::heavy::{Merge, TopK};

/// How many rows the tables keep.
const ROWS: usize = 25;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn keys<P: Default + Merge>(t: &TopK<P>, n: usize) -> Vec<KeyCount> {
    t.top(n)
        .into_iter()
        .map(|(k, e)| KeyCount {
            key: if k.is_empty() {
                "(none)".into()
            } else {
                text(k)
            },
            count: e.count,
        })
        .collect()
}

/// IIS writes the spaces of a user agent as `+`.
fn agents(keys: Vec<KeyCount>, plus: bool) -> Vec<KeyCount> {
    if !plus {
        return keys;
    }
    keys.into_iter()
        .map(|k| KeyCount {
            key: k.key.replace('+', " "),
            count: k.count,
        })
        .collect()
}

pub(crate) fn place(loc: Option<Loc>, offsets: &[Vec<u64>], names: &[String]) -> String {
    let Some(l) = loc else { return String::new() };
    let base = offsets
        .get(l.file)
        .and_then(|o| o.get(l.chunk))
        .copied()
        .unwrap_or(0);
    format!(
        "{}:{}",
        names.get(l.file).map(String::as_str).unwrap_or("?"),
        base + l.line
    )
}

/// Picks a bucket so the span has at most ~120 of them.
pub fn bucket_for(span: i64) -> i64 {
    [60, 300, 900, 3600, 6 * 3600, 86_400, 7 * 86_400]
        .into_iter()
        .find(|b| span / b <= 120)
        .unwrap_or(7 * 86_400)
}

/// Builds the summary.
pub(crate) fn build(
    acc: &Acc,
    inputs: &[InputInfo],
    offsets: &[Vec<u64>],
    names: &[String],
    unreadable: &[Unreadable],
) -> LogSummary {
    let by_status: Vec<(u16, u64)> = acc
        .status
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(s, n)| (s as u16, *n))
        .collect();
    let mut by_code: Vec<CodeCount> = acc
        .codes
        .iter()
        .map(|(&(status, substatus, win32), c)| CodeCount {
            status,
            substatus,
            win32,
            count: c[0],
            handshake: c[1],
            meaning: why401_catalogue::catalogue().triple_meaning(status, substatus, win32),
        })
        .collect();
    by_code.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.status, a.substatus, a.win32).cmp(&(b.status, b.substatus, b.win32)))
    });
    let denials: u64 = by_code.iter().map(|c| c.count).sum();

    let user_ip = acc
        .pairs
        .top(200)
        .into_iter()
        .map(|(k, e)| {
            let split = k.iter().position(|&b| b == 0).unwrap_or(k.len());
            PairStats {
                ip: text(&k[..split]),
                user: text(k.get(split + 1..).unwrap_or_default()),
                failures: e.count,
                successes: e.payload.successes,
                first: e.payload.first,
                last: e.payload.last,
                failing_hours: e.payload.hours.len() as u32,
                example: place(e.payload.example, offsets, names),
            }
        })
        .collect();
    let sources = acc
        .sources
        .top(500)
        .into_iter()
        .map(|(k, e)| {
            let mut sample: Vec<String> = e.payload.sample.iter().map(|u| text(u)).collect();
            sample.sort();
            SourceStats {
                ip: text(k),
                failures: e.count,
                successes: e.payload.successes,
                users: e.payload.users(),
                sample_users: sample,
                first: e.payload.first,
                last: e.payload.last,
            }
        })
        .collect();
    let scattered = scattered(acc);
    let lockouts = acc
        .lockouts
        .top(100)
        .into_iter()
        .map(|(k, e)| {
            let mut sources: Vec<String> = e.payload.sources.iter().map(|s| text(s)).collect();
            sources.sort();
            Lockout {
                user: text(k),
                count: e.count,
                first: e.payload.first,
                last: e.payload.last,
                failures_before: acc
                    .users
                    .get(k)
                    .map(|u| u.count.saturating_sub(e.count))
                    .unwrap_or(0),
                sources,
                example: place(e.payload.example, offsets, names),
            }
        })
        .collect();
    let mut reasons: Vec<ReasonCount> = acc
        .reasons
        .iter()
        .map(|(r, n)| ReasonCount {
            reason: r.to_string(),
            count: *n,
        })
        .collect();
    reasons.sort_by_key(|r| std::cmp::Reverse(r.count));

    let series = series(acc);
    let mut mix: Vec<Mix> = acc
        .hours
        .iter()
        .map(|(h, m)| Mix {
            start: h * 3600,
            failures: m.failures,
            urls: keys(&m.urls, 5),
            agents: agents(keys(&m.agents, 5), acc.plus_for_space),
            codes: keys(&m.codes, 5),
            approximate: m.urls.evicted || m.agents.evicted || m.codes.evicted,
        })
        .collect();
    mix.sort_by_key(|m| m.start);

    let unparsed_examples = acc
        .bad
        .iter()
        .map(|b| Unparsed {
            file: names.get(b.loc.file).cloned().unwrap_or_default(),
            line: offsets
                .get(b.loc.file)
                .and_then(|o| o.get(b.loc.chunk))
                .copied()
                .unwrap_or(0)
                + b.loc.line,
            reason: b.reason.to_string(),
            text: b.text.clone(),
        })
        .collect();

    LogSummary {
        inputs: inputs.to_vec(),
        unreadable: unreadable.to_vec(),
        lines: acc.requests + acc.unparsed + acc.filtered,
        requests: acc.requests,
        unparsed: acc.unparsed,
        unparsed_examples,
        filtered_out: acc.filtered,
        local_time: inputs
            .iter()
            .any(|i| i.format == crate::format::IIS_LOCAL_NAME),
        first: acc.first,
        last: acc.last,
        by_status,
        auth_denials: denials,
        handshake_noise: acc.noise,
        real_failures: denials - acc.noise,
        by_code,
        by_user: keys(&acc.users, ROWS),
        by_ip: keys(&acc.sources, ROWS),
        by_url: keys(&acc.urls, ROWS),
        by_agent: agents(keys(&acc.agents, ROWS), acc.plus_for_space),
        user_ip,
        sources,
        scattered,
        lockouts,
        reasons,
        distinct_failing_ips: acc.sources.len() as u64,
        distinct_failing_users: acc.users.len() as u64,
        series,
        mix,
        approximate: acc.users.evicted
            || acc.urls.evicted
            || acc.agents.evicted
            || acc.pairs.evicted
            || acc.sources.evicted
            || acc.lockouts.evicted,
    }
}

/// The sources that failed only a few times and never succeeded after, over the whole table:
/// the top rows alone would hide a botnet whose every address tries twice. (A client with a
/// typo fails a few times too, but then gets in.)
fn scattered(acc: &Acc) -> Scattered {
    let mut out = Scattered::default();
    let mut users = rustc_hash::FxHashSet::default();
    for (_, e) in acc
        .sources
        .iter()
        .filter(|(_, e)| e.count <= Scattered::MAX_FAILURES && e.payload.successes == 0)
    {
        out.sources += 1;
        out.failures += e.count;
        users.extend(e.payload.user_hashes.iter().copied());
        out.users += e.payload.users_over;
        out.first = earliest(out.first, e.payload.first);
        out.last = latest(out.last, e.payload.last);
    }
    out.users += users.len() as u64;
    out
}

fn series(acc: &Acc) -> Series {
    if acc.minutes.v.is_empty() {
        return Series::default();
    }
    let start_min = acc.minutes.base;
    let span = acc.minutes.v.len() as i64 * 60;
    let bucket = bucket_for(span);
    let start = (start_min * 60).div_euclid(bucket) * bucket;
    let n = ((start_min * 60 + span - start) / bucket + 1) as usize;
    let mut s = Series {
        start,
        bucket_secs: bucket,
        requests: vec![0; n],
        unauthorized: vec![0; n],
        failures: vec![0; n],
    };
    for (i, c) in acc.minutes.v.iter().enumerate() {
        let t = (start_min + i as i64) * 60;
        let b = ((t - start) / bucket) as usize;
        if b < n {
            s.requests[b] += c[0] as u64;
            s.unauthorized[b] += c[1] as u64;
            s.failures[b] += c[2] as u64;
        }
    }
    while s.requests.last() == Some(&0) && s.failures.last() == Some(&0) && s.requests.len() > 1 {
        s.requests.pop();
        s.unauthorized.pop();
        s.failures.pop();
    }
    s
}
