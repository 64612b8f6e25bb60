//! Credentials: `Authorization` and `Proxy-Authorization` (RFC 9110 §11.6.2, §11.7.2).
//!
//! `credentials = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`. Clients get this wrong in
//! characteristic ways (`Bearer Bearer x`, quotes around a token, a pasted newline); each is a
//! [`CredentialsLint`].

use std::fmt;

use serde::Serialize;

use crate::challenge::{self, AuthParam, Challenge};
use crate::syntax;

/// A parsed `Authorization` value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credentials {
    /// The scheme as the client spelled it; empty when the whole value was empty.
    pub scheme: String,
    /// What follows a single-token scheme (Basic, Bearer, NTLM, Negotiate, DPoP, Kerberos) or any
    /// valid token68; for those schemes kept as sent even when malformed, stray words and quotes
    /// included, so the lints can point at them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token68: Option<String>,
    /// The `auth-param`s of a parameter scheme such as Digest, in the order sent.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<AuthParam>,
    /// Every deviation found; empty when the value is well-formed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lints: Vec<CredentialsLint>,
}

/// A deviation from the credentials grammar or the scheme's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "lint", rename_all = "kebab-case")]
pub enum CredentialsLint {
    /// The value is empty.
    Empty,
    /// Leading or trailing whitespace, or a line break (a pasted value).
    SurroundingWhitespace,
    /// More than one space between the scheme and the token.
    ExtraSpaces,
    /// The scheme appears twice: `Bearer Bearer eyJ…`.
    RepeatedScheme {
        /// The scheme, as the client spelled it before repeating it.
        scheme: String,
    },
    /// The token is wrapped in quotes: `Bearer "eyJ…"`.
    QuotedToken,
    /// Whitespace inside the token.
    WhitespaceInToken,
    /// Characters outside ASCII.
    NonAscii,
    /// Characters a token68 does not allow (e.g. `%`, `,`, or a URL-encoded token).
    InvalidToken68 {
        /// The last word of the token, unquoted and redacted to its first four characters.
        text: String,
    },
    /// A scheme that needs a token (Basic, Bearer, NTLM, Negotiate) came without one.
    MissingToken {
        /// The scheme that came alone.
        scheme: String,
    },
    /// The scheme name is not a token.
    InvalidScheme,
}

impl CredentialsLint {
    /// A stable kebab-case code for this lint.
    pub fn code(&self) -> &'static str {
        match self {
            CredentialsLint::Empty => "empty",
            CredentialsLint::SurroundingWhitespace => "surrounding-whitespace",
            CredentialsLint::ExtraSpaces => "extra-spaces",
            CredentialsLint::RepeatedScheme { .. } => "repeated-scheme",
            CredentialsLint::QuotedToken => "quoted-token",
            CredentialsLint::WhitespaceInToken => "whitespace-in-token",
            CredentialsLint::NonAscii => "non-ascii",
            CredentialsLint::InvalidToken68 { .. } => "invalid-token68",
            CredentialsLint::MissingToken { .. } => "missing-token",
            CredentialsLint::InvalidScheme => "invalid-scheme",
        }
    }
}

impl fmt::Display for CredentialsLint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CredentialsLint::*;
        match self {
            Empty => write!(f, "the Authorization value is empty"),
            SurroundingWhitespace => write!(
                f,
                "leading/trailing whitespace or a line break around the value (a pasted newline?)"
            ),
            ExtraSpaces => write!(f, "more than one space between the scheme and the token"),
            RepeatedScheme { scheme } => write!(
                f,
                "the scheme appears twice (`{scheme} {scheme} …`): the token already carried the prefix"
            ),
            QuotedToken => write!(f, "the token is wrapped in quotes; send it bare"),
            WhitespaceInToken => {
                write!(f, "whitespace inside the token (wrapped or concatenated?)")
            }
            NonAscii => write!(f, "characters outside ASCII in the value"),
            InvalidToken68 { text } => write!(
                f,
                "`{text}` holds characters a token68 cannot carry (URL-encoded? JSON-quoted?)"
            ),
            MissingToken { scheme } => write!(f, "`{scheme}` with no token after it"),
            InvalidScheme => write!(f, "the scheme name is not a valid token"),
        }
    }
}

/// Schemes that carry a single token68.
const TOKEN_SCHEMES: &[&str] = &["Basic", "Bearer", "NTLM", "Negotiate", "DPoP", "Kerberos"];

impl Credentials {
    /// Whether the scheme is `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first parameter named `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    /// The value with the secret part redacted: `Basic YWxp…(redacted)`.
    pub fn redacted(&self) -> String {
        let mut out = self.scheme.clone();
        if let Some(t) = &self.token68 {
            // Keep stray words (`Bearer Bearer …`) visible; redact the token itself.
            let mut words: Vec<&str> = t.split_whitespace().collect();
            let last = words.pop().unwrap_or_default();
            for w in words {
                out.push(' ');
                out.push_str(w);
            }
            out.push(' ');
            out.push_str(&crate::b64::redact(last));
        }
        for (i, p) in self.params.iter().enumerate() {
            out.push_str(if i == 0 { " " } else { ", " });
            let secret = ["response", "cnonce"]
                .iter()
                .any(|n| p.name.eq_ignore_ascii_case(n));
            let value = if secret {
                crate::b64::redact(&p.value)
            } else {
                p.value.clone()
            };
            out.push_str(&format!("{}={}", p.name, syntax::quote(&value)));
        }
        out
    }
}

impl fmt::Display for Credentials {
    /// The canonical (unredacted) form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let as_challenge = Challenge {
            scheme: self.scheme.clone(),
            token68: self.token68.clone(),
            params: self.params.clone(),
        };
        as_challenge.fmt(f)
    }
}

/// Parses an `Authorization` value. Total: every input gives credentials, with lints.
pub fn parse(value: &str) -> Credentials {
    let mut lints = Vec::new();
    let trimmed = value.trim_matches(|c: char| c.is_ascii_whitespace());
    if trimmed.len() != value.len() {
        lints.push(CredentialsLint::SurroundingWhitespace);
    }
    if trimmed.is_empty() {
        lints.push(CredentialsLint::Empty);
        return Credentials {
            scheme: String::new(),
            token68: None,
            params: vec![],
            lints,
        };
    }
    if !trimmed.is_ascii() {
        lints.push(CredentialsLint::NonAscii);
    }
    let (scheme, rest) = match trimmed.find([' ', '\t']) {
        Some(i) => (&trimmed[..i], &trimmed[i..]),
        None => (trimmed, ""),
    };
    if !syntax::is_token(scheme) {
        lints.push(CredentialsLint::InvalidScheme);
    }
    let spaces = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    if spaces > 1 {
        lints.push(CredentialsLint::ExtraSpaces);
    }
    let rest = rest.trim_start_matches([' ', '\t']);
    let mut creds = Credentials {
        scheme: scheme.to_string(),
        token68: None,
        params: vec![],
        lints,
    };
    let token_scheme = TOKEN_SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(scheme));
    if rest.is_empty() {
        if token_scheme {
            creds.lints.push(CredentialsLint::MissingToken {
                scheme: scheme.into(),
            });
        }
        return creds;
    }
    if syntax::is_token68(rest) {
        creds.token68 = Some(rest.to_string());
        return creds;
    }
    if token_scheme {
        creds.token68 = Some(rest.to_string());
        lint_token(&mut creds, rest);
        return creds;
    }
    // Parameters (Digest and the like): the challenge grammar, read as one challenge.
    let parsed = challenge::parse_one(&format!("{scheme} {rest}"));
    if let Some(first) = parsed.challenges.into_iter().next() {
        creds.params = first.params;
        creds.token68 = first.token68;
    }
    creds
}

fn lint_token(creds: &mut Credentials, rest: &str) {
    let mut words = rest.split_whitespace();
    let first = words.next().unwrap_or_default();
    if first.eq_ignore_ascii_case(&creds.scheme)
        || first.eq_ignore_ascii_case(&format!("{}:", creds.scheme))
    {
        creds.lints.push(CredentialsLint::RepeatedScheme {
            scheme: creds.scheme.clone(),
        });
    } else if rest.contains(char::is_whitespace) {
        creds.lints.push(CredentialsLint::WhitespaceInToken);
    }
    let unquoted = rest.trim_matches(['"', '\'']);
    if unquoted.len() != rest.len() {
        creds.lints.push(CredentialsLint::QuotedToken);
    }
    let last = rest
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .trim_matches(['"', '\'']);
    if !last.is_empty() && !syntax::is_token68(last) && last.is_ascii() {
        creds.lints.push(CredentialsLint::InvalidToken68 {
            text: crate::b64::redact(last),
        });
    }
}

/// The token a lint-ridden token68 most likely meant: the last word, unquoted.
pub fn intended_token(creds: &Credentials) -> Option<&str> {
    let t = creds.token68.as_deref()?;
    Some(
        t.split_whitespace()
            .last()
            .unwrap_or(t)
            .trim_matches(['"', '\'']),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes(c: &Credentials) -> Vec<&'static str> {
        c.lints.iter().map(CredentialsLint::code).collect()
    }

    #[test]
    fn basic_token() {
        let c = parse("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert!(c.is("basic"));
        assert_eq!(c.token68.as_deref(), Some("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
        assert!(c.lints.is_empty());
        assert_eq!(c.redacted(), "Basic QWxh…(redacted)");
    }

    #[test]
    fn bearer_bearer() {
        let c = parse("Bearer Bearer eyJhbGciOi.x.y");
        assert_eq!(codes(&c), ["repeated-scheme"]);
        assert_eq!(intended_token(&c), Some("eyJhbGciOi.x.y"));
    }

    #[test]
    fn quoted_and_whitespace() {
        assert_eq!(codes(&parse("Bearer \"abc\"")), ["quoted-token"]);
        assert_eq!(codes(&parse("Bearer abc\n")), ["surrounding-whitespace"]);
        assert_eq!(codes(&parse("Bearer  abc")), ["extra-spaces"]);
        assert_eq!(codes(&parse("Bearer ab cd")), ["whitespace-in-token"]);
        assert_eq!(codes(&parse("Bearer")), ["missing-token"]);
        assert_eq!(codes(&parse("Bearer abc%3D")), ["invalid-token68"]);
        assert_eq!(codes(&parse("")), ["empty"]);
    }

    #[test]
    fn digest_params() {
        let c = parse(
            r#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nc=00000001, qop=auth, response="8ca523f5e9506fed4657c9700eebdbec""#,
        );
        assert!(c.lints.is_empty());
        assert_eq!(c.param("username"), Some("Mufasa"));
        assert_eq!(c.param("nc"), Some("00000001"));
        assert!(c.redacted().contains("response=\"8ca5…(redacted)\""));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let c = parse(&s);
            let _ = c.redacted();
            let _ = intended_token(&c);
        }

        #[test]
        fn token68_round_trips(scheme in "[A-Za-z]{1,10}", t in "[A-Za-z0-9+/._~-]{1,40}={0,2}") {
            let c = parse(&format!("{scheme} {t}"));
            prop_assert_eq!(c.token68.as_deref(), Some(t.as_str()));
            prop_assert!(c.lints.is_empty());
            prop_assert_eq!(parse(&c.to_string()), c);
        }
    }
}
