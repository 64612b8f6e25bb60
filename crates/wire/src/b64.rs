//! Base64 as auth formats use it (standard for Basic/NTLM/SPNEGO, URL-safe unpadded for JWT),
//! decoded leniently with the deviation reported, and the redaction every output uses.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// Which alphabet and padding a decoded value used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flavor {
    /// RFC 4648 §4 alphabet (`+`, `/`) with `=` padding, as Basic, NTLM and SPNEGO send it.
    Standard,
    /// The §4 alphabet without the `=` padding, which strict decoders refuse.
    StandardUnpadded,
    /// RFC 4648 §5 URL-safe alphabet (`-`, `_`) with padding.
    UrlSafe,
    /// The §5 URL-safe alphabet without padding, as JWT segments use it (RFC 7515 §2).
    UrlSafeUnpadded,
}

/// Why a value is not base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base64Error {
    /// Not a single character to decode.
    #[error("empty")]
    Empty,
    /// A character outside the alphabet: the character and its byte offset in the input.
    #[error("invalid character {0:?} at offset {1}")]
    InvalidCharacter(char, usize),
    /// A symbol count no base64 can have, usually a value cut short; carries that count.
    #[error("invalid length {0} (truncated?)")]
    InvalidLength(usize),
}

/// Decodes `s` as standard base64 (RFC 4648 §4) with padding, as Basic requires.
pub fn decode_standard(s: &str) -> Result<Vec<u8>, Base64Error> {
    if s.is_empty() {
        return Err(Base64Error::Empty);
    }
    STANDARD.decode(s).map_err(|e| map_error(s, e))
}

/// Decodes `s` in whichever flavor fits, and says which.
pub fn decode_any(s: &str) -> Result<(Vec<u8>, Flavor), Base64Error> {
    if s.is_empty() {
        return Err(Base64Error::Empty);
    }
    let tries = [
        (STANDARD, Flavor::Standard),
        (STANDARD_NO_PAD, Flavor::StandardUnpadded),
        (URL_SAFE, Flavor::UrlSafe),
        (URL_SAFE_NO_PAD, Flavor::UrlSafeUnpadded),
    ];
    for (engine, flavor) in tries {
        if let Ok(bytes) = engine.decode(s) {
            return Ok((bytes, flavor));
        }
    }
    // Report the error of the likeliest flavor.
    let engine = if s.contains(['-', '_']) {
        URL_SAFE_NO_PAD
    } else {
        STANDARD
    };
    Err(engine
        .decode(s)
        .map_err(|e| map_error(s, e))
        .err()
        .unwrap_or(Base64Error::InvalidLength(s.len())))
}

/// Decodes base64url without padding (RFC 7515 §2), as JWT segments use it.
pub fn decode_url(s: &str) -> Result<Vec<u8>, Base64Error> {
    URL_SAFE_NO_PAD.decode(s).map_err(|e| map_error(s, e))
}

/// Encodes with the standard alphabet and padding.
pub fn encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Encodes base64url without padding.
pub fn encode_url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn map_error(s: &str, e: base64::DecodeError) -> Base64Error {
    match e {
        base64::DecodeError::InvalidByte(at, _)
        | base64::DecodeError::InvalidLastSymbol { offset: at, .. } => {
            let c = s.get(at..).and_then(|r| r.chars().next()).unwrap_or('?');
            Base64Error::InvalidCharacter(c, at)
        }
        base64::DecodeError::InvalidLength(n) => Base64Error::InvalidLength(n),
        _ => Base64Error::InvalidLength(s.len()),
    }
}

/// A secret shortened to its first four characters: `YWxp…(redacted)`.
pub fn redact(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    if secret.chars().count() <= 4 {
        "…(redacted)".to_string()
    } else {
        format!("{head}…(redacted)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn flavors() {
        assert_eq!(
            decode_any("YWI=").unwrap(),
            (b"ab".to_vec(), Flavor::Standard)
        );
        assert_eq!(
            decode_any("YWI").unwrap(),
            (b"ab".to_vec(), Flavor::StandardUnpadded)
        );
        assert_eq!(decode_any("-_8").unwrap().1, Flavor::UrlSafeUnpadded);
        assert!(matches!(
            decode_standard("ab$c"),
            Err(Base64Error::InvalidCharacter('$', 2))
        ));
    }

    #[test]
    fn redaction_keeps_four_characters() {
        assert_eq!(redact("YWxhZGRpbjpvcGVu"), "YWxh…(redacted)");
        assert_eq!(redact("abc"), "…(redacted)");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = decode_any(&s);
            let _ = decode_standard(&s);
            let _ = decode_url(&s);
            let _ = redact(&s);
        }

        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode_url(&encode_url(&bytes)).unwrap(), bytes.clone());
            if !bytes.is_empty() {
                prop_assert_eq!(decode_standard(&encode(&bytes)).unwrap(), bytes);
            }
        }
    }
}
