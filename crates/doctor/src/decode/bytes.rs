//! Input as bytes. A header field value may carry bytes that are not UTF-8 (RFC 9110 §5.5
//! obs-text; most often an ISO-8859-1 realm or user name). Each such byte is read as the
//! ISO-8859-1 character of the same value and reported, so the rest of the line still decodes.

use crate::{Finding, FindingId};

/// A byte of the input that is not part of valid UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct NonUtf8Byte {
    /// Where it is, counted from 0 in its line.
    pub offset: usize,
    pub byte: u8,
}

/// `bytes` as text: valid UTF-8 as it is, every other byte as its ISO-8859-1 character, and
/// where those bytes were.
pub(super) fn latin1_fallback(bytes: &[u8]) -> (String, Vec<NonUtf8Byte>) {
    let mut text = String::with_capacity(bytes.len());
    let mut odd = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match std::str::from_utf8(&bytes[at..]) {
            Ok(rest) => {
                text.push_str(rest);
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                // `valid_up_to` bytes are UTF-8 by the error's own word.
                text.push_str(&String::from_utf8_lossy(&bytes[at..at + good]));
                // A bad sequence is `error_len` bytes, or runs to the end when cut short.
                let bad = e.error_len().unwrap_or(bytes.len() - at - good);
                for (i, &b) in bytes[at + good..at + good + bad].iter().enumerate() {
                    text.push(char::from(b));
                    odd.push(NonUtf8Byte {
                        offset: at + good + i,
                        byte: b,
                    });
                }
                at += good + bad;
            }
        }
    }
    (text, odd)
}

/// How many bytes a finding lists before it says "and N more".
const LISTED: usize = 8;

/// The `non-utf8-bytes` finding for one line (`line` counted from 1 when the input has several).
pub(super) fn finding(line: Option<usize>, odd: &[NonUtf8Byte]) -> Finding {
    let prefix = line.map(|n| format!("line {n}: ")).unwrap_or_default();
    let title = match odd {
        [one] => format!(
            "{prefix}byte 0x{:02X} at offset {} is not UTF-8; read as ISO-8859-1 {}",
            one.byte,
            one.offset,
            shown(one.byte)
        ),
        [first, ..] => format!(
            "{prefix}{} bytes are not UTF-8 (the first, 0x{:02X}, at offset {}); read as ISO-8859-1",
            odd.len(),
            first.byte,
            first.offset
        ),
        [] => format!("{prefix}every byte is UTF-8"),
    };
    let mut f = Finding::new(FindingId::NON_UTF8_BYTES)
        .title(title)
        .confidence(0.9);
    for b in odd.iter().take(LISTED) {
        f = f.evidence(format!(
            "offset {}: byte 0x{:02X}, read as {} (U+{:04X})",
            b.offset,
            b.byte,
            shown(b.byte),
            b.byte
        ));
    }
    if odd.len() > LISTED {
        f = f.evidence(format!("… and {} more", odd.len() - LISTED));
    }
    f
}

/// The ISO-8859-1 character of `b`, quoted, or named when it is a C1 control (0x80–0x9F).
fn shown(b: u8) -> String {
    let c = char::from(b);
    if c.is_control() {
        "a control character".to_string()
    } else {
        format!("'{c}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_passes_and_other_bytes_are_latin1() {
        assert_eq!(
            latin1_fallback("Société".as_bytes()),
            ("Société".into(), vec![])
        );
        let (text, odd) = latin1_fallback(b"realm=\"Soci\xe9t\xe9\"");
        assert_eq!(text, "realm=\"Société\"");
        assert_eq!(
            odd,
            [
                NonUtf8Byte {
                    offset: 11,
                    byte: 0xE9
                },
                NonUtf8Byte {
                    offset: 13,
                    byte: 0xE9
                }
            ]
        );
        // A UTF-8 sequence cut short at the end, and one broken in the middle.
        let (text, odd) = latin1_fallback(b"a\xc3");
        assert_eq!((text.as_str(), odd.len()), ("aÃ", 1));
        let (text, odd) = latin1_fallback(b"\xe2\x82x\xc3\xa9");
        assert_eq!(text, "â\u{82}xé");
        assert_eq!(
            odd.iter().map(|b| b.offset).collect::<Vec<_>>(),
            [0, 1],
            "only the broken sequence's bytes"
        );
    }

    #[test]
    fn the_finding_names_each_byte() {
        let (_, odd) = latin1_fallback(b"Basic realm=\"Soci\xe9t\xe9\"");
        let f = finding(None, &odd[..1]);
        assert_eq!(f.id, "non-utf8-bytes");
        assert_eq!(
            f.title,
            "byte 0xE9 at offset 17 is not UTF-8; read as ISO-8859-1 'é'"
        );
        let f = finding(Some(2), &odd);
        assert_eq!(
            f.title,
            "line 2: 2 bytes are not UTF-8 (the first, 0xE9, at offset 17); read as ISO-8859-1"
        );
        assert_eq!(
            f.evidence,
            [
                "offset 17: byte 0xE9, read as 'é' (U+00E9)",
                "offset 19: byte 0xE9, read as 'é' (U+00E9)"
            ]
        );
        let (_, many) = latin1_fallback(&[0x85; 10]);
        let f = finding(None, &many);
        assert_eq!(f.evidence.len(), LISTED + 1);
        assert_eq!(
            f.evidence[0],
            "offset 0: byte 0x85, read as a control character (U+0085)"
        );
        assert_eq!(f.evidence[LISTED], "… and 2 more");
    }
}
