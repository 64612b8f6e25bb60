//! Basic (RFC 7617): `base64(user-id ":" password)`, UTF-8.

use std::fmt;

use serde::Serialize;

use crate::b64::{self, Base64Error};

/// Decoded Basic credentials. `Debug` and `Display` never show the password.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct BasicCredentials {
    /// The user-id: everything before the first `:` (RFC 7617 §2), or the whole text when there
    /// is no colon.
    pub user: String,
    /// Everything after the first `:`; never serialised and hidden from `Debug`.
    #[serde(skip)]
    pub password: String,
    /// What is wrong with them, if anything.
    pub lints: Vec<BasicLint>,
}

impl fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicCredentials")
            .field("user", &self.user)
            .field("password", &"(redacted)")
            .field("lints", &self.lints)
            .finish()
    }
}

/// A flaw in decoded Basic credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "lint", rename_all = "kebab-case")]
pub enum BasicLint {
    /// No `:` at all: the client sent only a user name (or the password alone).
    NoColon,
    /// Empty user-id.
    EmptyUser,
    /// Empty password.
    EmptyPassword,
    /// Control characters (RFC 7617 §2 forbids them), e.g. a newline pasted with the password.
    ControlCharacters {
        /// Whether the control characters are in the user-id (`true`) or the password (`false`).
        in_user: bool,
    },
    /// Not valid UTF-8: decoded as ISO-8859-1, as old clients encode.
    NotUtf8,
    /// Base64 without padding (`=`): some servers refuse it.
    MissingPadding,
    /// A `DOMAIN\user` or `user@domain` name: fine for IIS Basic, wrong for most others.
    DomainQualifiedUser,
}

impl fmt::Display for BasicLint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BasicLint::NoColon => write!(f, "no `:` between user and password"),
            BasicLint::EmptyUser => write!(f, "the user name is empty"),
            BasicLint::EmptyPassword => write!(f, "the password is empty"),
            BasicLint::ControlCharacters { in_user: true } => {
                write!(f, "control characters (a newline?) in the user name")
            }
            BasicLint::ControlCharacters { in_user: false } => {
                write!(f, "control characters (a newline?) in the password")
            }
            BasicLint::NotUtf8 => write!(
                f,
                "not UTF-8 (read as ISO-8859-1); RFC 7617 servers expect UTF-8"
            ),
            BasicLint::MissingPadding => {
                write!(f, "base64 without `=` padding; strict servers refuse it")
            }
            BasicLint::DomainQualifiedUser => {
                write!(
                    f,
                    "domain-qualified user name (IIS and AD accept it; most others do not)"
                )
            }
        }
    }
}

/// Why a Basic token cannot be decoded at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BasicError {
    /// Not standard base64, padded or not: RFC 7617 allows no other alphabet.
    #[error("the Basic token is not base64: {0}")]
    NotBase64(#[from] Base64Error),
}

/// Decodes a Basic token68.
pub fn decode(token: &str) -> Result<BasicCredentials, BasicError> {
    let mut lints = Vec::new();
    let bytes = match b64::decode_standard(token) {
        Ok(b) => b,
        Err(e) => match b64::decode_any(token) {
            Ok((b, b64::Flavor::StandardUnpadded)) => {
                lints.push(BasicLint::MissingPadding);
                b
            }
            _ => return Err(e.into()),
        },
    };
    let text = match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            lints.push(BasicLint::NotUtf8);
            e.into_bytes().iter().map(|&b| b as char).collect()
        }
    };
    let (user, password) = match text.split_once(':') {
        Some((u, p)) => (u.to_string(), p.to_string()),
        None => {
            lints.push(BasicLint::NoColon);
            (text.clone(), String::new())
        }
    };
    if user.is_empty() {
        lints.push(BasicLint::EmptyUser);
    }
    if password.is_empty() && !lints.contains(&BasicLint::NoColon) {
        lints.push(BasicLint::EmptyPassword);
    }
    if user.chars().any(char::is_control) {
        lints.push(BasicLint::ControlCharacters { in_user: true });
    }
    if password.chars().any(char::is_control) {
        lints.push(BasicLint::ControlCharacters { in_user: false });
    }
    if user.contains('\\') || user.contains('@') {
        lints.push(BasicLint::DomainQualifiedUser);
    }
    Ok(BasicCredentials {
        user,
        password,
        lints,
    })
}

/// Encodes `user:password` as a Basic token68 (UTF-8).
pub fn encode(user: &str, password: &str) -> String {
    b64::encode(format!("{user}:{password}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc7617_examples() {
        // RFC 7617 §2 and §2.1.
        assert_eq!(
            encode("Aladdin", "open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(encode("test", "123\u{a3}"), "dGVzdDoxMjPCow==");
        let c = decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ==").unwrap();
        assert_eq!(
            (c.user.as_str(), c.password.as_str()),
            ("Aladdin", "open sesame")
        );
        assert!(c.lints.is_empty());
        assert!(!format!("{c:?}").contains("sesame"));
    }

    #[test]
    fn user_id_ends_at_first_colon() {
        let c = decode(&encode("a", "b:c")).unwrap();
        assert_eq!((c.user.as_str(), c.password.as_str()), ("a", "b:c"));
    }

    #[test]
    fn flaws() {
        assert_eq!(
            decode(&b64::encode(b"alice")).unwrap().lints,
            [BasicLint::NoColon]
        );
        assert_eq!(
            decode(&encode("alice", "pw\n")).unwrap().lints,
            [BasicLint::ControlCharacters { in_user: false }]
        );
        assert_eq!(
            decode(&b64::encode(b"j\xf6rg:x")).unwrap().lints,
            [BasicLint::NotUtf8]
        );
        assert_eq!(decode(&b64::encode(b"j\xf6rg:x")).unwrap().user, "jörg");
        assert_eq!(decode("YTpi").unwrap().lints, [] as [BasicLint; 0]);
        assert_eq!(decode("YTpiYw").unwrap().lints, [BasicLint::MissingPadding]);
        assert!(decode("not base64!").is_err());
        assert_eq!(
            decode(&encode("CORP\\alice", "x")).unwrap().lints,
            [BasicLint::DomainQualifiedUser]
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = decode(&s);
        }

        #[test]
        fn round_trips(user in "[^:\\p{Cc}]{1,20}", password in "[^\\p{Cc}]{1,20}") {
            let c = decode(&encode(&user, &password)).unwrap();
            prop_assert_eq!(c.user, user);
            prop_assert_eq!(c.password, password);
        }
    }
}
