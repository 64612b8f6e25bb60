//! Log timestamps to Unix seconds, without allocation: the hot loop reads a handful of
//! digits and caches the day, which changes once a day.

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `n` ASCII digits at the start of `b` as a number.
#[inline(always)]
pub fn digits(b: &[u8], n: usize) -> Option<u32> {
    let mut v = 0u32;
    for &c in b.get(..n)? {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

/// `YYYY-MM-DD` (IIS) to days since the epoch.
pub fn iso_date(b: &[u8]) -> Option<i64> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(b, 4)?, digits(&b[5..], 2)?, digits(&b[8..], 2)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then(|| days_from_civil(y as i64, m, d))
}

/// `hh:mm:ss` (fractions ignored) to seconds of the day.
#[inline(always)]
pub fn clock(b: &[u8]) -> Option<i64> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (digits(b, 2)?, digits(&b[3..], 2)?, digits(&b[6..], 2)?);
    (h < 24 && m < 60 && s < 61).then_some((h * 3600 + m * 60 + s) as i64)
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A month abbreviation (`Nov`) to 1..=12.
pub fn month(b: &[u8]) -> Option<u32> {
    let b = b.get(..3)?;
    MONTHS
        .iter()
        .position(|m| m.eq_ignore_ascii_case(b))
        .map(|i| i as u32 + 1)
}

/// `27/Nov/2026:00:09:02 +0100` (NCSA `%t` / nginx `$time_local`, without brackets) to Unix seconds.
pub fn ncsa(b: &[u8]) -> Option<i64> {
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let days = days_from_civil(digits(&b[7..], 4)? as i64, month(&b[3..6])?, digits(b, 2)?);
    let mut t = days * 86_400 + clock(&b[12..20])?;
    if b.len() >= 26 && b[20] == b' ' {
        let sign = match b[21] {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let off = (digits(&b[22..], 2)? * 3600 + digits(&b[24..], 2)? * 60) as i64;
        t -= sign * off;
    }
    Some(t)
}

/// RFC 3339 / ISO 8601 (`2026-11-27T00:09:02.123Z`, `…+01:00`) to Unix seconds.
pub fn rfc3339(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let mut t = iso_date(&b[..10])? * 86_400 + clock(&b[11..19])?;
    let mut rest = &b[19..];
    if rest.first() == Some(&b'.') {
        let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        rest = &rest[1 + n..];
    }
    match rest.first() {
        Some(b'+') | Some(b'-') if rest.len() >= 6 => {
            let off = (digits(&rest[1..], 2)? * 3600 + digits(&rest[4..], 2)? * 60) as i64;
            t -= if rest[0] == b'+' { off } else { -off };
        }
        _ => {}
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(
            iso_date(b"2026-11-27").unwrap() * 86_400 + clock(b"00:09:02").unwrap(),
            1_795_738_142
        );
        assert_eq!(ncsa(b"27/Nov/2026:00:09:02 +0000"), Some(1_795_738_142));
        assert_eq!(ncsa(b"27/Nov/2026:01:09:02 +0100"), Some(1_795_738_142));
        assert_eq!(rfc3339(b"2026-11-27T00:09:02.5Z"), Some(1_795_738_142));
        assert_eq!(rfc3339(b"2026-11-26T19:09:02-05:00"), Some(1_795_738_142));
        assert_eq!(iso_date(b"2026-13-01"), None);
        assert_eq!(clock(b"25:00:00"), None);
        assert_eq!(ncsa(b"garbage"), None);
    }
}
