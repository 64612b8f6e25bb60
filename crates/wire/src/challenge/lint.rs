//! What can be wrong with a challenge header, each deviation named: its code (`unquoted-realm`),
//! whether it can mislead a client, and the sentence the doctor shows.

use std::fmt;

use serde::Serialize;

use crate::syntax;

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
