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

/// A deviation from RFC 9110 §11 (or the scheme's own RFC) in a challenge header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "lint", rename_all = "kebab-case")]
pub enum ChallengeLint {
    /// The header field was present but empty.
    EmptyField,
    /// A `;` where a space or comma belongs, e.g. `Basic; realm="x"`.
    SemicolonSeparator {
        /// The scheme the `;` follows; empty when it came before any scheme.
        scheme: String,
    },
    /// A parameter value with spaces that is not quoted, e.g. `realm=My Realm`.
    UnquotedValueWithSpaces {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter whose value needs quoting.
        param: String,
        /// The value as read, up to the next comma or `;`, spaces included.
        value: String,
    },
    /// A parameter value in single quotes, e.g. `realm='x'`: the quotes become part of the value.
    SingleQuotedValue {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter whose value is in single quotes.
        param: String,
    },
    /// A quoted-string that never closes.
    UnterminatedQuotedString {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter whose value runs to the end of the field.
        param: String,
    },
    /// A control character inside a value.
    ControlCharacter {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter whose value holds the character.
        param: String,
    },
    /// The same parameter twice in one challenge; clients disagree on which one wins.
    DuplicateParameter {
        /// The scheme of the challenge with the repeated parameter.
        scheme: String,
        /// The repeated parameter's name (as first sent).
        param: String,
    },
    /// A parameter before any scheme, e.g. `realm="x"` alone.
    ParameterWithoutScheme {
        /// The orphaned parameter's name; it and its value are dropped.
        param: String,
    },
    /// A scheme or parameter name with characters a token does not allow.
    InvalidToken {
        /// The scheme or parameter name as sent.
        text: String,
    },
    /// Parameters not separated by a comma, e.g. `realm="a" nonce="b"`.
    MissingComma {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter that follows the previous one without a comma.
        param: String,
    },
    /// Several challenges in one field, e.g. `NTLM, Basic realm=""`: valid, but some clients
    /// only read the first one; one field per challenge is safer.
    SeveralChallengesInOneField {
        /// The schemes of that field's challenges, in order.
        schemes: Vec<String>,
    },
    /// Basic or Digest without the `realm` the RFC requires.
    MissingRealm {
        /// `Basic` or `Digest`, as the server spelled it.
        scheme: String,
    },
    /// `realm=""`: a realm that tells the user nothing.
    EmptyRealm {
        /// The scheme whose realm is empty.
        scheme: String,
    },
    /// Digest without a `nonce`: no client can answer it.
    MissingNonce,
    /// Basic with a `charset` other than UTF-8 (RFC 7617 §2.1 allows only "UTF-8").
    BadCharset {
        /// The `charset` the server sent.
        value: String,
    },
    /// Text the parser could not place and skipped.
    Unparsable {
        /// The skipped text, up to the next comma.
        text: String,
    },
    /// A comma right after the scheme, e.g. `Basic, realm="x"`: only a space may follow a scheme
    /// (RFC 9110 §11.1), so the comma ends that challenge and the parameter belongs to none.
    CommaAfterScheme {
        /// The scheme the comma follows.
        scheme: String,
        /// The orphaned parameter's name; it and its value are dropped.
        param: String,
        /// The orphaned parameter's value, unquoted.
        value: String,
    },
    /// An unquoted value with characters a token does not allow (or none at all), e.g.
    /// `realm=\f\o\o` or `a=`; strict clients reject the challenge.
    InvalidTokenValue {
        /// The scheme of the challenge the parameter belongs to.
        scheme: String,
        /// The parameter whose value needs quoting.
        param: String,
        /// The value as read: empty for `a=`.
        value: String,
    },
    /// `realm=foo`: RFC 9110 §11.5 has senders use only the quoted-string form for realm.
    UnquotedRealm {
        /// The scheme of the challenge with the unquoted realm.
        scheme: String,
        /// The realm as sent, without quotes.
        value: String,
    },
    /// The field value was folded over several lines (obs-fold, RFC 9112 §5.2); joined with a
    /// space, as recipients must, but senders must not fold and many clients reject it.
    ObsFold,
    /// A CR, LF or NUL outside a line fold; read as a space, as RFC 9110 §5.5 allows recipients.
    ForbiddenCharacter,
}

impl ChallengeLint {
    /// A stable kebab-case code for this lint.
    pub fn code(&self) -> &'static str {
        match self {
            ChallengeLint::EmptyField => "empty-field",
            ChallengeLint::SemicolonSeparator { .. } => "semicolon-separator",
            ChallengeLint::UnquotedValueWithSpaces { .. } => "unquoted-value-with-spaces",
            ChallengeLint::SingleQuotedValue { .. } => "single-quoted-value",
            ChallengeLint::UnterminatedQuotedString { .. } => "unterminated-quoted-string",
            ChallengeLint::ControlCharacter { .. } => "control-character",
            ChallengeLint::DuplicateParameter { .. } => "duplicate-parameter",
            ChallengeLint::ParameterWithoutScheme { .. } => "parameter-without-scheme",
            ChallengeLint::InvalidToken { .. } => "invalid-token",
            ChallengeLint::MissingComma { .. } => "missing-comma",
            ChallengeLint::SeveralChallengesInOneField { .. } => "several-challenges-in-one-field",
            ChallengeLint::MissingRealm { .. } => "missing-realm",
            ChallengeLint::EmptyRealm { .. } => "empty-realm",
            ChallengeLint::MissingNonce => "missing-nonce",
            ChallengeLint::BadCharset { .. } => "bad-charset",
            ChallengeLint::Unparsable { .. } => "unparsable",
            ChallengeLint::CommaAfterScheme { .. } => "comma-after-scheme",
            ChallengeLint::InvalidTokenValue { .. } => "invalid-token-value",
            ChallengeLint::UnquotedRealm { .. } => "unquoted-realm",
            ChallengeLint::ObsFold => "obs-fold",
            ChallengeLint::ForbiddenCharacter => "forbidden-character",
        }
    }

    /// Whether the deviation can make a client fail (as opposed to merely being unusual).
    pub fn is_harmful(&self) -> bool {
        !matches!(
            self,
            ChallengeLint::SeveralChallengesInOneField { .. } | ChallengeLint::EmptyRealm { .. }
        )
    }

    /// Whether the parser dropped text the server sent, so the parsed challenges (and their
    /// canonical form) are not all the server meant.
    pub fn drops_text(&self) -> bool {
        matches!(
            self,
            ChallengeLint::ParameterWithoutScheme { .. }
                | ChallengeLint::CommaAfterScheme { .. }
                | ChallengeLint::Unparsable { .. }
        )
    }
}

impl fmt::Display for ChallengeLint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ChallengeLint::*;
        match self {
            EmptyField => write!(f, "the header is present but empty: no challenge at all"),
            SemicolonSeparator { scheme } => write!(
                f,
                "`{scheme};` — parameters are separated by a space after the scheme and by commas, never by `;`"
            ),
            UnquotedValueWithSpaces {
                scheme,
                param,
                value,
            } => write!(
                f,
                "{scheme} {param}={value} — a value with spaces must be a quoted-string: {param}={}",
                syntax::quote(value)
            ),
            SingleQuotedValue { scheme, param } => write!(
                f,
                "{scheme} {param}='…' — single quotes are not quotes in HTTP; they become part of the value"
            ),
            UnterminatedQuotedString { scheme, param } => {
                write!(
                    f,
                    "{scheme} {param}=\"… — the quoted-string is never closed"
                )
            }
            ControlCharacter { scheme, param } => {
                write!(f, "{scheme} {param} holds a control character")
            }
            DuplicateParameter { scheme, param } => write!(
                f,
                "{scheme} has `{param}` twice; clients disagree on which one counts"
            ),
            ParameterWithoutScheme { param } => {
                write!(f, "`{param}=` appears before any auth scheme")
            }
            InvalidToken { text } => write!(f, "`{text}` is not a valid token (RFC 9110 §5.6.2)"),
            MissingComma { scheme, param } => write!(
                f,
                "{scheme}: no comma before `{param}`; parameters are separated by commas"
            ),
            SeveralChallengesInOneField { schemes } => write!(
                f,
                "several challenges in one header field ({}); valid, but some clients read only the first — send one field per challenge",
                schemes.join(", ")
            ),
            MissingRealm { scheme } => write!(f, "{scheme} without a realm (required by its RFC)"),
            EmptyRealm { scheme } => write!(f, "{scheme} realm=\"\" tells the user nothing"),
            MissingNonce => write!(f, "Digest without a nonce: no client can answer it"),
            BadCharset { value } => write!(
                f,
                "Basic charset=\"{value}\": RFC 7617 allows only \"UTF-8\""
            ),
            Unparsable { text } => write!(f, "could not parse `{text}`; skipped"),
            CommaAfterScheme {
                scheme,
                param,
                value,
            } => write!(
                f,
                "`{scheme}, {param}=…` — a comma right after the scheme ends the challenge, so `{param}` belongs to none; write `{scheme} {param}={}`",
                syntax::quote(value)
            ),
            InvalidTokenValue {
                scheme,
                param,
                value,
            } if value.is_empty() => write!(
                f,
                "{scheme} {param}= has no value; an empty value must be written {param}=\"\""
            ),
            InvalidTokenValue {
                scheme,
                param,
                value,
            } => write!(
                f,
                "{scheme} {param}={value} — unquoted, the value may hold only token characters (RFC 9110 §5.6.2); quote it: {param}={}",
                syntax::quote(value)
            ),
            UnquotedRealm { scheme, value } => write!(
                f,
                "{scheme} realm={value} — senders must quote the realm (RFC 9110 §11.5): realm={}",
                syntax::quote(value)
            ),
            ObsFold => write!(
                f,
                "the value is folded over several lines (obs-fold); read as one line, but senders must not fold (RFC 9112 §5.2) and many clients reject it"
            ),
            ForbiddenCharacter => write!(
                f,
                "the value holds a CR, LF or NUL; read as a space, but RFC 9110 §5.5 lets a client reject the whole response instead"
            ),
        }
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codes(c: &Challenges) -> Vec<&'static str> {
        c.lints.iter().map(ChallengeLint::code).collect()
    }

    #[test]
    fn basic_with_realm_and_charset() {
        let c = parse_one(r#"Basic realm="Intranet", charset="UTF-8""#);
        assert_eq!(c.challenges.len(), 1);
        assert!(c.challenges[0].is("basic"));
        assert_eq!(c.challenges[0].realm(), Some("Intranet"));
        assert_eq!(c.challenges[0].param("CHARSET"), Some("UTF-8"));
        assert!(c.lints.is_empty(), "{:?}", c.lints);
    }

    #[test]
    fn several_challenges_in_one_field_and_across_fields() {
        let c = parse([
            r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
            "Negotiate",
            "NTLM",
        ]);
        assert_eq!(c.schemes(), ["Newauth", "Basic", "Negotiate", "NTLM"]);
        assert_eq!(c.challenges[0].param("title"), Some(r#"Login to "apps""#));
        assert_eq!(c.challenges[0].param("type"), Some("1"));
        assert_eq!(codes(&c), ["several-challenges-in-one-field"]);
    }

    #[test]
    fn token68_versus_parameters() {
        let c = parse_one("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==, Bearer realm=x");
        assert_eq!(
            c.challenges[0].token68.as_deref(),
            Some("YIIBhgYGKwYBBQUCoIIBejCCAXag==")
        );
        assert_eq!(c.challenges[1].realm(), Some("x"));
        let c = parse_one("NTLM TlRMTVNTUAACAAAA");
        assert_eq!(c.challenges[0].token68.as_deref(), Some("TlRMTVNTUAACAAAA"));
        let c = parse_one("Foo a=b");
        assert_eq!(c.challenges[0].token68, None);
        assert_eq!(c.challenges[0].param("a"), Some("b"));
        let c = parse_one("Foo abc=");
        assert_eq!(c.challenges[0].token68.as_deref(), Some("abc="));
    }

    #[test]
    fn ntlm_and_basic_with_empty_realm_in_one_field() {
        let c = parse_one(r#"NTLM,Basic realm="""#);
        assert_eq!(c.schemes(), ["NTLM", "Basic"]);
        assert_eq!(
            codes(&c),
            ["several-challenges-in-one-field", "empty-realm"]
        );
    }

    #[test]
    fn semicolon_after_scheme() {
        let c = parse_one(r#"Basic; realm="x""#);
        assert_eq!(c.challenges.len(), 1);
        assert_eq!(c.challenges[0].realm(), Some("x"));
        assert_eq!(codes(&c), ["semicolon-separator"]);
    }

    #[test]
    fn unquoted_realm_with_spaces() {
        let c = parse_one("Basic realm=My Company Realm");
        assert_eq!(c.challenges[0].realm(), Some("My Company Realm"));
        assert_eq!(codes(&c), ["unquoted-value-with-spaces"]);
    }

    #[test]
    fn duplicate_params_and_missing_comma() {
        let c = parse_one(r#"Digest realm="a" realm="b", nonce="n""#);
        assert_eq!(codes(&c), ["missing-comma", "duplicate-parameter"]);
        assert_eq!(c.challenges[0].realm(), Some("a"));
    }

    #[test]
    fn empty_and_param_only_fields() {
        assert_eq!(codes(&parse_one("  ")), ["empty-field"]);
        let c = parse_one(r#"realm="x""#);
        assert!(c.challenges.is_empty());
        assert_eq!(codes(&c), ["parameter-without-scheme"]);
    }

    #[test]
    fn digest_rules() {
        let c = parse_one("Digest algorithm=MD5");
        assert_eq!(codes(&c), ["missing-realm", "missing-nonce"]);
    }

    #[test]
    fn single_quotes_and_unterminated() {
        let c = parse_one("Basic realm='x'");
        assert_eq!(codes(&c), ["single-quoted-value"]);
        let c = parse_one(r#"Basic realm="x"#);
        assert_eq!(codes(&c), ["unterminated-quoted-string"]);
        assert_eq!(c.challenges[0].realm(), Some("x"));
    }

    #[test]
    fn canonical_format() {
        let c = parse_one(r#"digest REALM=api ,nonce="abc",   algorithm=SHA-256, stale=true"#);
        assert_eq!(
            c.to_header_value(),
            r#"digest REALM="api", nonce="abc", algorithm=SHA-256, stale=true"#
        );
    }

    #[test]
    fn comma_right_after_the_scheme_ends_the_challenge() {
        // Only a space opens the parameter list (RFC 9110 §11.1): `realm` belongs to no challenge.
        let c = parse_one(r#"Basic, realm="foo""#);
        assert_eq!(c.schemes(), ["Basic"]);
        assert_eq!(c.challenges[0].realm(), None);
        assert_eq!(codes(&c), ["comma-after-scheme", "missing-realm"]);
        assert!(c.lints[0].drops_text());
        assert!(
            c.lints[0]
                .to_string()
                .contains(r#"write `Basic realm="foo"`"#)
        );
        // Every later parameter up to the next scheme is dropped too.
        let c = parse_one(r#"Basic,realm="foo", charset="UTF-8", Bearer realm="api""#);
        assert_eq!(c.schemes(), ["Basic", "Bearer"]);
        assert_eq!(c.challenges[0].params, []);
        assert_eq!(c.challenges[1].realm(), Some("api"));
        assert_eq!(
            codes(&c),
            [
                "comma-after-scheme",
                "comma-after-scheme",
                "several-challenges-in-one-field",
                "missing-realm"
            ]
        );
        // With the space, the comma is an empty list element and the realm is Basic's.
        let c = parse_one(r#"Basic , realm="foo""#);
        assert_eq!(c.challenges[0].realm(), Some("foo"));
        assert_eq!(codes(&c), Vec::<&str>::new());
        // A scheme without parameters followed by another challenge is fine.
        let c = parse_one(r#"Newauth, Basic realm="basic""#);
        assert_eq!(c.schemes(), ["Newauth", "Basic"]);
        assert_eq!(c.challenges[1].realm(), Some("basic"));
        assert_eq!(codes(&c), ["several-challenges-in-one-field"]);
    }

    #[test]
    fn token_values_with_non_tchar_characters_are_flagged() {
        let c = parse_one(r"Basic realm=\f\o\o");
        assert_eq!(c.challenges[0].realm(), Some(r"\f\o\o"));
        assert_eq!(codes(&c), ["invalid-token-value"]);
        assert!(c.lints[0].is_harmful());
        assert!(c.lints[0].to_string().contains(r#"realm="\\f\\o\\o""#));
        let c = parse_one(r#"Newauth realm="x", a=b=c, d=e/f, g=(h)"#);
        assert_eq!(c.challenges[0].param("a"), Some("b=c"));
        assert_eq!(
            codes(&c),
            [
                "invalid-token-value",
                "invalid-token-value",
                "invalid-token-value"
            ]
        );
        // An empty unquoted value is no token either.
        let c = parse_one(r#"Newauth realm="x", a="#);
        assert_eq!(c.challenges[0].param("a"), Some(""));
        assert_eq!(codes(&c), ["invalid-token-value"]);
        assert!(c.lints[0].to_string().contains(r#"a="""#));
        // Every tchar is fine unquoted.
        let c = parse_one(r#"Newauth realm="x", a=!#$%&'*+-.^_`|~09AZaz"#);
        assert_eq!(codes(&c), Vec::<&str>::new());
    }

    #[test]
    fn unquoted_realm_is_a_warning_but_still_read() {
        let c = parse_one("Basic realm=foo");
        assert_eq!(c.challenges[0].realm(), Some("foo"));
        assert_eq!(codes(&c), ["unquoted-realm"]);
        assert!(c.lints[0].is_harmful());
        assert!(c.lints[0].to_string().contains(r#"realm="foo""#));
        // Other parameters may be tokens; a realm with spaces or quotes gets its own lint only.
        let c = parse_one(r#"Digest REALM=api, nonce=abc, algorithm=SHA-256"#);
        assert_eq!(codes(&c), ["unquoted-realm"]);
        assert_eq!(
            codes(&parse_one("Basic realm='foo'")),
            ["single-quoted-value"]
        );
        assert_eq!(
            codes(&parse_one("Basic realm=My Realm")),
            ["unquoted-value-with-spaces"]
        );
    }

    #[test]
    fn obs_fold_is_joined_and_reported() {
        let c = parse_one("Basic\r\n realm=\"foo\"");
        assert_eq!(c.challenges[0].realm(), Some("foo"));
        assert_eq!(codes(&c), ["obs-fold"]);
        assert!(c.lints[0].is_harmful());
        // A bare LF fold, a fold between parameters and one inside a quoted-string.
        let c = parse_one("Digest realm=\"a\n\t b\",\r\n\tnonce=\"n\"");
        assert_eq!(c.challenges[0].realm(), Some("a b"));
        assert_eq!(c.challenges[0].param("nonce"), Some("n"));
        assert_eq!(codes(&c), ["obs-fold"]);
        // A line break not followed by whitespace is no fold: read as a space, and reported.
        let c = parse_one("Basic realm=\"a\rb\"");
        assert_eq!(c.challenges[0].realm(), Some("a b"));
        assert_eq!(codes(&c), ["forbidden-character"]);
        assert_eq!(
            codes(&parse_one("\r\n")),
            ["forbidden-character", "empty-field"]
        );
    }

    fn arb_token() -> impl Strategy<Value = String> {
        "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}"
    }

    fn arb_challenge() -> impl Strategy<Value = Challenge> {
        let params = proptest::collection::vec((arb_token(), "[ -~]{0,12}"), 0..4);
        let t68 = proptest::option::of("[A-Za-z0-9+/]{1,20}={0,2}");
        (arb_token(), t68, params).prop_map(|(scheme, token68, params)| {
            let mut c = Challenge::new(scheme);
            if let Some(t) = token68 {
                c.token68 = Some(t);
            } else {
                let mut seen: Vec<String> = Vec::new();
                for (name, value) in params {
                    if !seen.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
                        seen.push(name.clone());
                        c.params.push(AuthParam { name, value });
                    }
                }
            }
            c
        })
    }

    #[test]
    fn fuzz_regressions() {
        // A vertical tab is not HTTP whitespace: it is a (bad) scheme, and stays one when formatted.
        let once = parse_one("\u{b},");
        assert_eq!(
            once.challenges,
            parse_one(&once.to_header_value()).challenges
        );
        // A `;` after a trimmed value with multi-byte text before it.
        let c = parse_one("A b=\u{e28}\u{e28} ;c=\"d\"");
        assert_eq!(c.challenges[0].param("b"), Some("\u{e28}\u{e28}"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            let _ = parse_one(&s);
        }

        #[test]
        fn never_panics_on_header_like_text(s in "[A-Za-z ,;=\"\\\\'\t]{0,40}") {
            let c = parse_one(&s);
            let _ = c.to_header_value();
        }

        #[test]
        fn format_then_parse_round_trips(cs in proptest::collection::vec(arb_challenge(), 1..4)) {
            let header = Challenges { challenges: cs.clone(), lints: vec![] }.to_header_value();
            let parsed = parse_one(&header);
            prop_assert_eq!(parsed.challenges, cs);
        }

        #[test]
        fn folding_at_separators_changes_nothing_but_the_lint(
            cs in proptest::collection::vec(arb_challenge(), 1..4),
            fold in prop_oneof!["\r\n ", "\r\n\t", "\n ", "\r\n \t "],
        ) {
            // Values without whitespace, so every space in the canonical form is a separator.
            let cs: Vec<Challenge> = cs
                .into_iter()
                .map(|mut c| {
                    for p in &mut c.params {
                        p.value.retain(|ch| ch != ' ');
                    }
                    c
                })
                .collect();
            let header = Challenges { challenges: cs, lints: vec![] }.to_header_value();
            let flat = parse_one(&header);
            let folded = parse_one(&header.replace(' ', &fold));
            prop_assert_eq!(&folded.challenges, &flat.challenges);
            let mut expected = flat.lints.clone();
            if header.contains(' ') {
                expected.insert(0, ChallengeLint::ObsFold);
            }
            prop_assert_eq!(folded.lints, expected);
        }

        #[test]
        fn several_fields_format_as_one_that_parses_the_same(
            s in "[A-Za-z0-9 ,;=\"'\\\\\t\r\n\u{b}\u{e9}]{0,60}"
        ) {
            // What the fuzz target checks: fields split at LF, formatted as one field.
            let once = parse(s.split('\n'));
            let again = parse_one(&once.to_header_value());
            prop_assert_eq!(once.challenges, again.challenges);
        }

        #[test]
        fn parse_is_idempotent_through_format_with_breaks_and_quotes(
            s in "[A-Za-z0-9 ,;=\"'\\\\\t\r\n]{0,40}"
        ) {
            let once = parse_one(&s);
            let again = parse_one(&once.to_header_value());
            prop_assert_eq!(once.challenges, again.challenges);
        }

        #[test]
        fn parse_is_idempotent_through_format(s in "[A-Za-z0-9 ,=\"]{0,40}") {
            let once = parse_one(&s);
            let again = parse_one(&once.to_header_value());
            prop_assert_eq!(once.challenges, again.challenges);
        }
    }
}
