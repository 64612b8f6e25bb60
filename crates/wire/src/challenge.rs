//! Challenges: `WWW-Authenticate` and `Proxy-Authenticate` (RFC 9110 §11.6.1, §11.7.1).
//!
//! The grammar is ambiguous (commas separate challenges *and* parameters), and real servers
//! bend it. The parser is tolerant: it recovers what a browser would, and reports every
//! deviation as a [`ChallengeLint`] so the doctor can say what the server got wrong. Where the
//! grammar decides, it wins over guessing: `Basic, realm="x"` is a Basic challenge without
//! parameters followed by a parameter that belongs to no challenge, because only a space may
//! follow a scheme (RFC 9110 §11.1). Julian Reschke's WWW-Authenticate test cases, which browsers
//! are measured against, are run in `tests/greenbytes.rs`.

use std::fmt;

use serde::Serialize;

use crate::syntax::{self, Cursor};

mod lint;
pub use lint::ChallengeLint;

/// One `auth-param`: `name=value`, the value unquoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthParam {
    /// The parameter name as sent; names are case-insensitive (see [`Challenge::param`]).
    pub name: String,
    /// The value with its quoting undone: a quoted-string's escapes resolved, a token as is.
    pub value: String,
}

/// One challenge: a scheme with either a token68 or parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Challenge {
    /// The scheme as the server spelled it (compare with [`Challenge::is`]).
    pub scheme: String,
    /// The `token68` form of the challenge's data (RFC 9110 §11.2), e.g. an NTLM or Negotiate
    /// blob; a parsed challenge carries this or `params`, never both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token68: Option<String>,
    /// The `auth-param`s in the order sent, duplicates kept ([`Challenge::param`] reads the first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<AuthParam>,
}

impl Challenge {
    /// A challenge with only a scheme.
    pub fn new(scheme: impl Into<String>) -> Self {
        Challenge {
            scheme: scheme.into(),
            token68: None,
            params: Vec::new(),
        }
    }

    /// Adds a parameter (builder style).
    pub fn with_param(mut self, name: &str, value: &str) -> Self {
        self.params.push(AuthParam {
            name: name.into(),
            value: value.into(),
        });
        self
    }

    /// Whether the scheme is `scheme` (schemes are case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first parameter named `name` (names are case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }

    /// The `realm` parameter.
    pub fn realm(&self) -> Option<&str> {
        self.param("realm")
    }
}

/// Parameters whose canonical form is an unquoted token (RFC 7616 `algorithm`, `stale`,
/// `userhash`); every other value is written as a quoted-string, which is always allowed.
fn canonically_unquoted(name: &str) -> bool {
    ["algorithm", "stale", "userhash"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(name))
}

impl fmt::Display for Challenge {
    /// The canonical form: `Scheme token68` or `Scheme a="b", c=d`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        if let Some(t) = &self.token68 {
            write!(f, " {t}")?;
        }
        for (i, p) in self.params.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { ", " })?;
            if canonically_unquoted(&p.name) && syntax::is_token(&p.value) {
                write!(f, "{}={}", p.name, p.value)?;
            } else {
                write!(f, "{}={}", p.name, syntax::quote(&p.value))?;
            }
        }
        Ok(())
    }
}

/// The challenges found in one or more header fields, and what was wrong with them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Challenges {
    /// Every challenge of every field, in the order received.
    pub challenges: Vec<Challenge>,
    /// Every deviation found, in the order met; empty for a well-formed header.
    pub lints: Vec<ChallengeLint>,
}

impl Challenges {
    /// The first challenge of `scheme`.
    pub fn find(&self, scheme: &str) -> Option<&Challenge> {
        self.challenges.iter().find(|c| c.is(scheme))
    }

    /// The schemes offered, in order.
    pub fn schemes(&self) -> Vec<&str> {
        self.challenges.iter().map(|c| c.scheme.as_str()).collect()
    }

    /// The canonical header value: every challenge, comma-separated.
    pub fn to_header_value(&self) -> String {
        self.challenges
            .iter()
            .map(Challenge::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Parses every field of a `WWW-Authenticate` (or `Proxy-Authenticate`) header.
pub fn parse<'a>(fields: impl IntoIterator<Item = &'a str>) -> Challenges {
    let mut out = Challenges::default();
    for field in fields {
        parse_field(field, &mut out);
    }
    for c in &out.challenges {
        lint_scheme_rules(c, &mut out.lints);
    }
    out
}

/// Parses one field value.
pub fn parse_one(field: &str) -> Challenges {
    parse([field])
}

fn parse_field(field: &str, out: &mut Challenges) {
    let (text, line_flaws) = syntax::unfold(field);
    if line_flaws.folds > 0 {
        out.lints.push(ChallengeLint::ObsFold);
    }
    if line_flaws.stray > 0 {
        out.lints.push(ChallengeLint::ForbiddenCharacter);
    }
    let field = text.as_ref();
    // Only SP and HTAB are whitespace in HTTP (RFC 9110 §5.6.3); other control characters are
    // content, reported by the token checks.
    if field.trim_matches([' ', '\t']).is_empty() {
        out.lints.push(ChallengeLint::EmptyField);
        return;
    }
    let mut cur = Cursor::new(field);
    let first_new = out.challenges.len();
    // Index into out.challenges of the challenge parameters attach to, if any.
    let mut current: Option<usize> = None;
    // A scheme followed directly by a comma: its challenge is over, and parameters up to the
    // next scheme belong to no challenge.
    let mut closed_by_comma: Option<String> = None;
    // Whether a comma (or the scheme's space) came since the last item.
    let mut separated = true;
    loop {
        cur.skip_ows();
        match cur.peek() {
            None => break,
            Some(b',') => {
                cur.pos += 1;
                separated = true;
                continue;
            }
            Some(b';') => {
                cur.pos += 1;
                let scheme = current
                    .map(|i| out.challenges[i].scheme.clone())
                    .unwrap_or_default();
                out.lints.push(ChallengeLint::SemicolonSeparator { scheme });
                separated = true;
                continue;
            }
            _ => {}
        }
        let word = cur.loose_token();
        if word.is_empty() {
            // A stray `=` or `"`: skip to the next comma.
            let text = cur.until_comma();
            out.lints
                .push(ChallengeLint::Unparsable { text: text.into() });
            continue;
        }
        let after_word = cur.pos;
        cur.skip_ows();
        if cur.peek() == Some(b'=') {
            cur.pos += 1;
            if let Some(scheme) = &closed_by_comma {
                // The parameter is dropped, so the flaws of its value do not matter.
                let mut ignored = Vec::new();
                let value = read_value(&mut cur, scheme, word, &mut ignored);
                out.lints.push(ChallengeLint::CommaAfterScheme {
                    scheme: scheme.clone(),
                    param: word.to_string(),
                    value,
                });
                continue;
            }
            // A parameter needs a challenge to belong to, and one that did not take a token68.
            let Some(idx) = current.filter(|&i| out.challenges[i].token68.is_none()) else {
                out.lints.push(ChallengeLint::ParameterWithoutScheme {
                    param: word.to_string(),
                });
                skip_value(&mut cur);
                continue;
            };
            let scheme = out.challenges[idx].scheme.clone();
            if !separated {
                out.lints.push(ChallengeLint::MissingComma {
                    scheme: scheme.clone(),
                    param: word.to_string(),
                });
            }
            if !syntax::is_token(word) {
                out.lints.push(ChallengeLint::InvalidToken {
                    text: word.to_string(),
                });
            }
            let value = read_value(&mut cur, &scheme, word, &mut out.lints);
            let challenge = &mut out.challenges[idx];
            if challenge.param(word).is_some() {
                out.lints.push(ChallengeLint::DuplicateParameter {
                    scheme,
                    param: word.to_string(),
                });
            }
            challenge.params.push(AuthParam {
                name: word.to_string(),
                value,
            });
            separated = false;
            continue;
        }
        // A scheme starts a new challenge.
        cur.pos = after_word;
        if !syntax::is_token(word) {
            out.lints.push(ChallengeLint::InvalidToken {
                text: word.to_string(),
            });
        }
        let mut challenge = Challenge::new(word);
        let spaced = cur.skip_ows() > 0;
        if spaced && let Some(t68) = try_token68(&mut cur) {
            challenge.token68 = Some(t68.to_string());
        }
        // `challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]`: the parameter list
        // opens only after a space, so `Basic , realm="x"` has a realm (an empty list element
        // first) and `Basic, realm="x"` does not.
        closed_by_comma = (!spaced && cur.peek() == Some(b',')).then(|| word.to_string());
        out.challenges.push(challenge);
        current = Some(out.challenges.len() - 1);
        separated = true;
    }
    let in_field = &out.challenges[first_new..];
    if in_field.len() > 1 {
        out.lints.push(ChallengeLint::SeveralChallengesInOneField {
            schemes: in_field.iter().map(|c| c.scheme.clone()).collect(),
        });
    }
}

/// After a scheme and its space: a token68 if what follows is one, up to a comma or the end.
fn try_token68<'a>(cur: &mut Cursor<'a>) -> Option<&'a str> {
    let start = cur.pos;
    let bytes = cur.text.as_bytes();
    let mut p = start;
    while p < bytes.len() && syntax::is_token68_char(bytes[p]) {
        p += 1;
    }
    if p == start {
        return None;
    }
    let body_end = p;
    while p < bytes.len() && bytes[p] == b'=' {
        p += 1;
    }
    let equals = p - body_end;
    let mut q = p;
    while q < bytes.len() && matches!(bytes[q], b' ' | b'\t') {
        q += 1;
    }
    let at_boundary = q == bytes.len() || bytes[q] == b',';
    // `name=value` or `name="value"` is a parameter, not a token68.
    let looks_like_param = equals == 1 && !at_boundary;
    if at_boundary && !looks_like_param {
        cur.pos = p;
        Some(&cur.text[start..p])
    } else {
        None
    }
}

fn read_value(
    cur: &mut Cursor,
    scheme: &str,
    param: &str,
    lints: &mut Vec<ChallengeLint>,
) -> String {
    cur.skip_ows();
    match cur.peek() {
        Some(b'"') => {
            let (value, flaws) = cur.quoted();
            if flaws.unterminated {
                lints.push(ChallengeLint::UnterminatedQuotedString {
                    scheme: scheme.into(),
                    param: param.into(),
                });
            }
            if flaws.control {
                lints.push(ChallengeLint::ControlCharacter {
                    scheme: scheme.into(),
                    param: param.into(),
                });
            }
            value
        }
        _ => {
            let start = cur.pos;
            let raw = cur.until_comma().trim_end_matches([' ', '\t']);
            // A `;` ends the value too (`realm=x; charset=UTF-8`), reported where it is met.
            let raw = match raw.find(';') {
                Some(i) => {
                    cur.pos = start + i;
                    raw[..i].trim_end_matches([' ', '\t'])
                }
                None => raw,
            };
            let quoted_badly = raw.len() >= 2 && raw.starts_with('\'') && raw.ends_with('\'');
            let spaced = raw.contains([' ', '\t']);
            let control = raw.chars().any(|c| c.is_control() && c != '\t');
            if control {
                lints.push(ChallengeLint::ControlCharacter {
                    scheme: scheme.into(),
                    param: param.into(),
                });
            }
            // One lint for the value's form: the most specific, which says how to write it.
            if quoted_badly {
                lints.push(ChallengeLint::SingleQuotedValue {
                    scheme: scheme.into(),
                    param: param.into(),
                });
            } else if spaced {
                lints.push(ChallengeLint::UnquotedValueWithSpaces {
                    scheme: scheme.into(),
                    param: param.into(),
                    value: raw.into(),
                });
            } else if control {
                // Reported above; quoting would not make it valid.
            } else if !syntax::is_token(raw) {
                lints.push(ChallengeLint::InvalidTokenValue {
                    scheme: scheme.into(),
                    param: param.into(),
                    value: raw.into(),
                });
            } else if param.eq_ignore_ascii_case("realm") {
                lints.push(ChallengeLint::UnquotedRealm {
                    scheme: scheme.into(),
                    value: raw.into(),
                });
            }
            raw.to_string()
        }
    }
}

fn skip_value(cur: &mut Cursor) {
    cur.skip_ows();
    if cur.peek() == Some(b'"') {
        cur.quoted();
    } else {
        cur.until_comma();
    }
}

fn lint_scheme_rules(c: &Challenge, lints: &mut Vec<ChallengeLint>) {
    let needs_realm = c.is("Basic") || c.is("Digest");
    match c.realm() {
        None if needs_realm => lints.push(ChallengeLint::MissingRealm {
            scheme: c.scheme.clone(),
        }),
        Some("") => lints.push(ChallengeLint::EmptyRealm {
            scheme: c.scheme.clone(),
        }),
        _ => {}
    }
    if c.is("Digest") && c.param("nonce").is_none() {
        lints.push(ChallengeLint::MissingNonce);
    }
    if c.is("Basic")
        && let Some(cs) = c.param("charset")
        && !cs.eq_ignore_ascii_case("UTF-8")
    {
        lints.push(ChallengeLint::BadCharset { value: cs.into() });
    }
}

#[cfg(test)]
mod tests;
