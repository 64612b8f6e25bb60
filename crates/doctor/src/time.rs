//! Times and durations in the words a person reads: `2026-11-26 10:00:00 UTC`, `3h 12m ago`.

use time::OffsetDateTime;
use time::macros::format_description;

/// Unix seconds as `YYYY-MM-DD hh:mm:ss UTC`.
pub fn timestamp(unix: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(unix) {
        Ok(t) => t
            .format(format_description!(
                "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
            ))
            .unwrap_or_else(|_| unix.to_string()),
        Err(_) => format!("{unix} (out of range)"),
    }
}

/// A duration in seconds as `3h 12m`, `45s`, `2d 4h`, `1y 20d`.
pub fn duration(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (y, d, h, m, sec) = (
        s / 31_536_000,
        s % 31_536_000 / 86_400,
        s % 86_400 / 3_600,
        s % 3_600 / 60,
        s % 60,
    );
    match (y, d, h, m) {
        (0, 0, 0, 0) => format!("{sec}s"),
        (0, 0, 0, _) if sec == 0 => format!("{m}m"),
        (0, 0, 0, _) => format!("{m}m {sec}s"),
        (0, 0, _, _) => format!("{h}h {m}m"),
        (0, _, _, _) => format!("{d}d {h}h"),
        _ => format!("{y}y {d}d"),
    }
}

/// `t` relative to `now`: `3h 12m ago`, `in 5m`, `now`.
pub fn relative(t: i64, now: i64) -> String {
    match t - now {
        0 => "now".to_string(),
        d if d < 0 => format!("{} ago", duration(-d)),
        d => format!("in {}", duration(d)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readable() {
        assert_eq!(timestamp(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(duration(45), "45s");
        assert_eq!(duration(300), "5m");
        assert_eq!(duration(11_520), "3h 12m");
        assert_eq!(duration(-90_000), "1d 1h");
        assert_eq!(relative(100, 160), "1m ago");
        assert_eq!(relative(160, 100), "in 1m");
        assert_eq!(timestamp(i64::MAX), format!("{} (out of range)", i64::MAX));
    }
}
