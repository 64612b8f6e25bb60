//! Importing an htpasswd file: each `user:hash` line whose hash the gateway verifies (bcrypt,
//! `$apr1$`) becomes a user, upgraded to Argon2id at the next successful login; the others are
//! named with their line and reason, never silently dropped.

use crate::password::Kind;

/// One line of the file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A user to import.
    User {
        /// 1-based.
        line: usize,
        /// The name.
        name: String,
        /// The hash as written.
        hash: String,
        /// Its kind.
        kind: Kind,
    },
    /// A line not imported.
    Skipped {
        /// 1-based.
        line: usize,
        /// The user, when the line names one.
        name: Option<String>,
        /// Why.
        why: String,
    },
}

/// The file's users and skipped lines, in order; blank lines and `#` comments are neither.
pub fn read(text: &str) -> Vec<Line> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let l = raw.trim_end_matches('\r');
        if l.trim().is_empty() || l.trim_start().starts_with('#') {
            continue;
        }
        let Some((name, hash)) = l.split_once(':') else {
            out.push(Line::Skipped {
                line,
                name: None,
                why: "not `user:hash`".into(),
            });
            continue;
        };
        // htdigest lines are `user:realm:hash`.
        if hash.contains(':') {
            out.push(Line::Skipped {
                line,
                name: Some(name.to_string()),
                why: "an htdigest line (user:realm:hash): Digest hashes cannot become passwords"
                    .into(),
            });
            continue;
        }
        if name.is_empty() || name.chars().any(char::is_control) {
            out.push(Line::Skipped {
                line,
                name: None,
                why: "no usable user name".into(),
            });
            continue;
        }
        if !seen.insert(name.to_lowercase()) {
            out.push(Line::Skipped {
                line,
                name: Some(name.to_string()),
                why: "the user appears earlier in the file (Apache uses the first line)".into(),
            });
            continue;
        }
        match Kind::of(hash) {
            Ok(kind) => out.push(Line::User {
                line,
                name: name.to_string(),
                hash: hash.to_string(),
                kind,
            }),
            Err(why) => out.push(Line::Skipped {
                line,
                name: Some(name.to_string()),
                why,
            }),
        }
    }
    out
}
