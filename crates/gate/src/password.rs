//! Passwords: hashed with Argon2id (its parameters in the PHC string, so a change of them
//! rehashes at the next login), imported htpasswd hashes (bcrypt, Apache's `$apr1$` MD5)
//! verified until that login upgrades them, and the policy a new password must meet.
//!
//! The policy follows NIST SP 800-63B and OWASP ASVS 5 (§6.2): length over composition. A new
//! password needs at least 12 characters after Unicode normalisation (NFKC), any printable
//! character counts, up to 256 are accepted and none is cut off, and a strength estimate
//! (zxcvbn, with the user's own name and address as known words) must reach a minimum score,
//! and the password must not be one of the 90,778 of the bundled breached-password list
//! ([`crate::breached`]: RockYou, zxcvbn's and Django's common passwords).
//! Composition rules ("an upper case letter, a digit and a symbol") are off by default: both
//! documents advise against them, because they push users to predictable patterns
//! (`Password1!`) and do not make guessing harder; a site whose auditors demand them can turn
//! them on (`[password] composition = true`), knowing that trade-off.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// The password as hashed: NFKC-normalised, so that the same password typed on two keyboards
/// (a composed `é` or `e` and a combining accent) is the same password.
pub fn normalise(password: &str) -> String {
    password.nfkc().collect()
}

/// The current Argon2id hasher: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
fn argon2() -> Argon2<'static> {
    Argon2::default()
}

/// A new PHC string for `password`.
pub fn hash(password: &str) -> String {
    argon2()
        .hash_password(normalise(password).as_bytes())
        .expect("Argon2 hashes any password with its default parameters")
        .to_string()
}

/// The kinds of stored hash the gateway verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `$argon2id$`: the gateway's own.
    Argon2id,
    /// `$2y$`, `$2b$`, `$2a$`: htpasswd -B.
    Bcrypt,
    /// `$apr1$`: htpasswd -m (Apache's MD5-crypt), weak: upgraded at the next login.
    Apr1,
}

impl Kind {
    /// The kind of `stored`, or why the gateway does not take it.
    pub fn of(stored: &str) -> Result<Kind, String> {
        if stored.starts_with("$argon2id$") {
            Ok(Kind::Argon2id)
        } else if ["$2y$", "$2b$", "$2a$"]
            .iter()
            .any(|p| stored.starts_with(p))
        {
            Ok(Kind::Bcrypt)
        } else if stored.starts_with("$apr1$") {
            Ok(Kind::Apr1)
        } else if stored.starts_with("{SHA}") {
            Err("{SHA} is one unsalted SHA-1: set a new password (htpasswd -B, or why401 gate user passwd)".into())
        } else if stored.starts_with("$argon2") {
            Err("Argon2i/Argon2d: only Argon2id is taken".into())
        } else if stored.starts_with("$1$")
            || stored.starts_with("$5$")
            || stored.starts_with("$6$")
        {
            Err("a crypt(3) hash from the system's libc: set a new password".into())
        } else {
            Err("not a hash the gateway verifies (Argon2id, bcrypt or $apr1$); plain text and DES crypt are refused".into())
        }
    }
}

/// What verifying a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The password is right.
    pub ok: bool,
    /// Right, but stored with another algorithm or older parameters: store [`hash`] of it.
    pub rehash: bool,
}

/// Checks `password` against `stored`. An unknown or malformed hash is a wrong password (never
/// a way in), with `Err` saying why for the audit log.
pub fn verify(stored: &str, password: &str) -> Result<Verified, String> {
    match Kind::of(stored)? {
        Kind::Argon2id => {
            let parsed =
                PasswordHash::new(stored).map_err(|e| format!("a malformed Argon2id hash: {e}"))?;
            let ok = argon2()
                .verify_password(normalise(password).as_bytes(), &parsed)
                .is_ok();
            let current = argon2::Params::DEFAULT;
            let stale = argon2::Params::try_from(&parsed).map_or(true, |p| {
                (p.m_cost(), p.t_cost(), p.p_cost())
                    != (current.m_cost(), current.t_cost(), current.p_cost())
            }) || parsed.version != Some(argon2::Version::V0x13.into());
            Ok(Verified { ok, rehash: stale })
        }
        // htpasswd hashed the bytes as typed.
        Kind::Bcrypt => Ok(Verified {
            ok: crypt3_rs::crypt::bcrypt::verify(password, stored),
            rehash: true,
        }),
        Kind::Apr1 => Ok(Verified {
            ok: crypt3_rs::crypt::apr1::verify(password, stored),
            rehash: true,
        }),
    }
    .map(|v| Verified {
        rehash: v.ok && v.rehash,
        ..v
    })
}

/// What a new password must meet.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Fewest characters, after normalisation.
    pub min_length: usize,
    /// Most characters accepted (never cut off); at least 64.
    pub max_length: usize,
    /// The lowest zxcvbn score accepted, 0 to 4.
    pub min_score: u8,
    /// Demand a lower case letter, an upper case letter, a digit and a symbol.
    pub composition: bool,
    /// Refuse the passwords of the bundled list of breached and common ones
    /// ([`crate::breached`]).
    pub breached: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            min_length: 12,
            max_length: 256,
            min_score: 3,
            composition: false,
            breached: true,
        }
    }
}

impl Policy {
    /// Checks the policy's own values; the message says what to write.
    pub fn validate(&self) -> Result<(), String> {
        if self.min_length < 8 {
            return Err(format!(
                "min_length = {}: at least 8 (NIST SP 800-63B), 12 advised",
                self.min_length
            ));
        }
        if self.max_length < 64.max(self.min_length) {
            return Err(format!(
                "max_length = {}: at least 64 must be accepted (NIST SP 800-63B)",
                self.max_length
            ));
        }
        if self.min_score > 4 {
            return Err(format!(
                "min_score = {}: zxcvbn scores run from 0 to 4",
                self.min_score
            ));
        }
        Ok(())
    }

    /// Every reason `password` is refused for `user` (and the user's other `known` words,
    /// such as an e-mail address); empty: accepted.
    pub fn refusals(&self, password: &str, user: &str, known: &[&str]) -> Vec<String> {
        let p = normalise(password);
        let n = p.chars().count();
        let mut why = Vec::new();
        if n < self.min_length {
            why.push(format!(
                "at least {} characters are needed ({n} given)",
                self.min_length
            ));
        }
        if n > self.max_length {
            why.push(format!(
                "at most {} characters are accepted ({n} given)",
                self.max_length
            ));
        }
        if p.chars().any(char::is_control) {
            why.push("control characters (a tab, a line break) are not accepted".into());
        }
        if !user.is_empty() && p.to_lowercase().contains(&user.to_lowercase()) {
            why.push("it contains the user name".into());
        }
        if self.breached && crate::breached::BUNDLED.contains(&p) {
            why.push(
                "it is in a list of passwords from public breaches that attackers try first".into(),
            );
        }
        if self.composition {
            let classes = [
                p.chars().any(char::is_lowercase),
                p.chars().any(char::is_uppercase),
                p.chars().any(|c| c.is_ascii_digit()),
                p.chars().any(|c| !c.is_alphanumeric()),
            ];
            if classes.iter().any(|c| !c) {
                why.push("this site demands a lower case letter, an upper case letter, a digit and a symbol".into());
            }
        }
        if why.is_empty() && n <= 256 {
            let mut inputs = vec![user];
            inputs.extend_from_slice(known);
            let estimate = zxcvbn::zxcvbn(&p, &inputs);
            let score = u8::from(estimate.score());
            if score < self.min_score {
                let hint = estimate
                    .feedback()
                    .and_then(|f| f.warning())
                    .map(|w| format!(": {w}"))
                    .unwrap_or_default();
                why.push(format!(
                    "too easy to guess (strength {score} of 4, {} needed){hint}; a few unrelated words make a strong one",
                    self.min_score
                ));
            }
        }
        why
    }
}
