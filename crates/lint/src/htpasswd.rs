//! Apache htpasswd (`user:hash`) and htdigest (`user:realm:md5(user:realm:password)`) files, as
//! Apache's `mod_authn_file` and nginx's `auth_basic_user_file` read them: one entry per line,
//! the first entry for a user wins, `#` starts a comment (nginx; Apache skips such lines as
//! unknown users).

use serde::Serialize;
use why401_doctor::{Finding, FindingId};

use crate::{FileRead, Kind, LintFinding, LintReport, Source};

/// How a password is stored, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Hash {
    /// No hash at all (`{PLAIN}pw`, or a bare password Apache accepts only on Windows/NetWare).
    Plain,
    /// `{SHA}`: one unsalted SHA-1.
    Sha1,
    /// `{SSHA}`: one salted SHA-1.
    Ssha,
    /// 13 characters of traditional DES crypt: only the first 8 characters of the password count.
    DesCrypt,
    /// `$apr1$`: Apache's MD5, 1,000 rounds.
    Apr1,
    /// `$1$`: MD5-crypt, 1,000 rounds.
    Md5Crypt,
    /// `$5$` / `$6$`: SHA-crypt (rounds configurable, 5,000 by default).
    ShaCrypt,
    /// `$2a$`/`$2b$`/`$2y$`: bcrypt.
    Bcrypt,
    /// `$y$`/`$7$`: yescrypt / scrypt.
    Yescrypt,
    /// `$argon2…`.
    Argon2,
    /// Anything else.
    Unknown,
}

impl Hash {
    /// Reads the scheme of a stored password.
    pub fn of(stored: &str) -> Hash {
        let s = stored;
        if s.starts_with("{PLAIN}") {
            Hash::Plain
        } else if s.starts_with("{SHA}") {
            Hash::Sha1
        } else if s.starts_with("{SSHA}") {
            Hash::Ssha
        } else if s.starts_with("$apr1$") {
            Hash::Apr1
        } else if s.starts_with("$1$") {
            Hash::Md5Crypt
        } else if s.starts_with("$5$") || s.starts_with("$6$") {
            Hash::ShaCrypt
        } else if s.starts_with("$2a$") || s.starts_with("$2b$") || s.starts_with("$2y$") {
            Hash::Bcrypt
        } else if s.starts_with("$y$") || s.starts_with("$7$") {
            Hash::Yescrypt
        } else if s.starts_with("$argon2") {
            Hash::Argon2
        } else if s.len() == 13
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
        {
            Hash::DesCrypt
        } else if s.starts_with('$') || s.starts_with('{') {
            Hash::Unknown
        } else {
            Hash::Plain
        }
    }

    /// Why this scheme is weak, or `None` when it is not.
    pub fn weakness(self) -> Option<&'static str> {
        match self {
            Hash::Plain => Some("stored in clear: anyone who reads the file has the password"),
            Hash::Sha1 => Some(
                "{SHA} is one unsalted SHA-1: equal passwords have equal hashes and a GPU tries billions per second",
            ),
            Hash::Ssha => Some("{SSHA} is one salted SHA-1: far too fast to resist guessing"),
            Hash::DesCrypt => Some(
                "traditional DES crypt uses only the first 8 characters of the password and is cracked in minutes",
            ),
            Hash::Apr1 => Some("$apr1$ is MD5 with 1,000 rounds: fast to guess on a GPU"),
            Hash::Md5Crypt => Some("$1$ is MD5-crypt with 1,000 rounds: fast to guess on a GPU"),
            _ => None,
        }
    }

    /// Whether nginx hands this hash to the C library's `crypt_r()` (it checks `{PLAIN}`,
    /// `{SHA}`, `{SSHA}` and `$apr1$` itself), so that it works only where libc knows the scheme.
    pub fn needs_libc(self) -> bool {
        matches!(
            self,
            Hash::Bcrypt | Hash::ShaCrypt | Hash::Yescrypt | Hash::Md5Crypt | Hash::DesCrypt
        )
    }

    /// The scheme's common name.
    pub fn name(self) -> &'static str {
        match self {
            Hash::Plain => "plain text",
            Hash::Sha1 => "{SHA}",
            Hash::Ssha => "{SSHA}",
            Hash::DesCrypt => "DES crypt",
            Hash::Apr1 => "$apr1$ (Apache MD5)",
            Hash::Md5Crypt => "$1$ (MD5-crypt)",
            Hash::ShaCrypt => "SHA-crypt ($5$/$6$)",
            Hash::Bcrypt => "bcrypt",
            Hash::Yescrypt => "yescrypt",
            Hash::Argon2 => "Argon2",
            Hash::Unknown => "an unknown scheme",
        }
    }
}

/// One entry of a password file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// 1-based line.
    pub line: usize,
    /// The user name.
    pub user: String,
    /// htdigest only: the realm.
    pub realm: Option<String>,
    /// The stored password (hash).
    pub stored: String,
}

fn entries_and_bad_lines(src: &Source, kind: Kind) -> (Vec<Entry>, Vec<(usize, &'static str)>) {
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for (i, raw) in src.text.split('\n').enumerate() {
        let n = i + 1;
        let line = raw.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(if kind == Kind::Htdigest { 3 } else { 2 }, ':');
        let user = parts.next().unwrap_or_default();
        let (realm, stored) = if kind == Kind::Htdigest {
            (parts.next(), parts.next())
        } else {
            (None, parts.next())
        };
        let why = match (user, stored) {
            (_, None) => Some(if kind == Kind::Htdigest {
                "not user:realm:hash"
            } else {
                "no ':' between the user and the password hash"
            }),
            ("", _) => Some("an empty user name"),
            (u, Some(s)) if u != u.trim() || s != s.trim() => {
                Some("spaces around the user or the hash: they become part of it")
            }
            (_, Some("")) => Some("an empty password hash"),
            (_, Some(s)) if kind == Kind::Htdigest && !is_md5_hex(s) => {
                Some("the digest is not 32 hexadecimal digits")
            }
            _ => None,
        };
        match why {
            Some(w) => bad.push((n, w)),
            None => entries.push(Entry {
                line: n,
                user: user.to_string(),
                realm: realm.map(str::to_string),
                stored: stored.unwrap_or_default().to_string(),
            }),
        }
    }
    (entries, bad)
}

/// The entries of a password file (malformed lines left out).
pub fn entries(text: &str, kind: Kind) -> Vec<Entry> {
    entries_and_bad_lines(&Source::new("", text), kind).0
}

fn is_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Whether most non-comment lines are `user:hash` with a recognised hash.
pub fn looks_like_htpasswd(text: &str) -> bool {
    let lines = crate::code_lines(text, 50);
    !lines.is_empty()
        && lines.iter().all(|l| {
            l.split_once(':').is_some_and(|(u, h)| {
                !u.is_empty() && !u.contains(' ') && !h.contains(' ') && Hash::of(h) != Hash::Plain
            })
        })
}

/// Whether the lines are `user:realm:32 hex digits`.
pub fn looks_like_htdigest(text: &str) -> bool {
    let lines = crate::code_lines(text, 50);
    !lines.is_empty()
        && lines.iter().all(|l| {
            let parts: Vec<&str> = l.split(':').collect();
            parts.len() == 3 && !parts[0].is_empty() && is_md5_hex(parts[2])
        })
}

/// Checks a password file: weak hashes, duplicate users, malformed lines, CRLF endings.
pub(crate) fn lint(src: &Source, kind: Kind, report: &mut LintReport) {
    report.files.push(FileRead {
        file: src.name.clone(),
        kind,
        lines: src.lines(),
    });
    let (entries, bad) = entries_and_bad_lines(src, kind);
    for (n, why) in bad {
        report.findings.push(LintFinding {
            finding: Finding::new(FindingId::HTPASSWD_MALFORMED_LINE)
                .title(format!(
                    "line {n} of the password file is not an entry: {why}"
                ))
                .confidence(0.95),
            at: Some(src.at(n, 1)),
            also: Vec::new(),
        });
    }
    let mut seen: Vec<(&str, Option<&str>, usize)> = Vec::new();
    for e in &entries {
        if let Some(&(_, _, first)) = seen
            .iter()
            .find(|(u, r, _)| *u == e.user && *r == e.realm.as_deref())
        {
            report.findings.push(LintFinding {
                finding: Finding::new(FindingId::HTPASSWD_DUPLICATE_USER)
                    .title(format!(
                        "{} appears again on line {}: the entry on line {first} is the one checked, this one never is",
                        e.user, e.line
                    ))
                    .confidence(0.95),
                at: Some(src.at(e.line, 1)),
                also: vec![src.at(first, 1)],
            });
        } else {
            seen.push((&e.user, e.realm.as_deref(), e.line));
        }
        if kind == Kind::Htpasswd {
            let hash = Hash::of(&e.stored);
            if let Some(why) = hash.weakness() {
                report.findings.push(LintFinding {
                    finding: Finding::new(FindingId::WEAK_PASSWORD_HASH)
                        .title(format!(
                            "{}'s password is stored as {}",
                            e.user,
                            hash.name()
                        ))
                        .evidence(why)
                        .confidence(0.95),
                    at: Some(src.at(e.line, e.user.chars().count() + 2)),
                    also: Vec::new(),
                });
            }
        }
    }
    if let Some(first_crlf) = src.text.find("\r\n") {
        let n = src.text[..first_crlf].matches('\n').count() + 1;
        report.findings.push(LintFinding {
            finding: Finding::new(FindingId::HTPASSWD_CRLF)
                .title("the password file has Windows (CRLF) line endings")
                .confidence(0.7),
            at: Some(src.at(n, src.line(n).len() + 1)),
            also: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_named_and_judged() {
        for (stored, hash, weak) in [
            ("{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=", Hash::Sha1, true),
            ("{SSHA}abcdef", Hash::Ssha, true),
            ("$apr1$abc$def", Hash::Apr1, true),
            ("rqXexS6ZhobKA", Hash::DesCrypt, true),
            ("$2y$05$abcdefghijklmnopqrstuv", Hash::Bcrypt, false),
            ("$6$salt$hash", Hash::ShaCrypt, false),
            ("{PLAIN}secret", Hash::Plain, true),
            ("secret", Hash::Plain, true),
        ] {
            assert_eq!(Hash::of(stored), hash, "{stored}");
            assert_eq!(hash.weakness().is_some(), weak, "{stored}");
        }
        assert!(Hash::Bcrypt.needs_libc() && !Hash::Apr1.needs_libc());
    }

    #[test]
    fn duplicates_malformed_and_crlf_are_found_with_their_lines() {
        let text = "# users\r\nalice:$2y$05$abcdefghijklmnopqrstuv\r\nbob:{SHA}x\r\nnocolon\r\nalice:$apr1$a$b\r\n";
        let src = Source::new("htpasswd", text);
        let mut r = LintReport::default();
        lint(&src, Kind::Htpasswd, &mut r);
        let got: Vec<(&str, usize)> = r
            .findings
            .iter()
            .map(|f| (f.finding.id.as_str(), f.at.as_ref().unwrap().line))
            .collect();
        assert!(got.contains(&("htpasswd-malformed-line", 4)), "{got:?}");
        assert!(got.contains(&("htpasswd-duplicate-user", 5)), "{got:?}");
        assert!(got.contains(&("weak-password-hash", 3)), "{got:?}");
        assert!(got.contains(&("weak-password-hash", 5)), "{got:?}");
        assert!(got.contains(&("htpasswd-crlf", 1)), "{got:?}");
        let dup = r
            .findings
            .iter()
            .find(|f| f.finding.id == "htpasswd-duplicate-user")
            .unwrap();
        assert_eq!(dup.also[0].line, 2);
    }

    #[test]
    fn files_are_told_apart() {
        assert!(looks_like_htpasswd("alice:$apr1$x$y\nbob:{SHA}z\n"));
        assert!(!looks_like_htpasswd("server { listen 80; }\n"));
        assert!(looks_like_htdigest(
            "alice:Private:0123456789abcdef0123456789abcdef\n"
        ));
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,300}") {
            let mut r = LintReport::default();
            lint(&Source::new("f", text.clone()), Kind::Htpasswd, &mut r);
            lint(&Source::new("f", text), Kind::Htdigest, &mut r);
        }
    }
}
