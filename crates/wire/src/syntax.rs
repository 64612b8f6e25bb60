//! The RFC 9110 building blocks shared by the challenge and credentials parsers: tokens,
//! token68, quoted strings, optional whitespace. Byte-oriented: every delimiter is ASCII, so
//! slicing a `&str` at a delimiter always lands on a character boundary.

use std::borrow::Cow;

/// `tchar` of RFC 9110 §5.6.2.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `s` is a non-empty RFC 9110 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

/// Whether `s` is an RFC 9110 `token68`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub(crate) fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty() && body.bytes().all(is_token68_char)
}

/// A character of the body of a `token68`.
pub(crate) fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

/// Formats `value` as a quoted-string, escaping `"` and `\`.
pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// What [`unfold`] found and replaced in a field value.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LineFlaws {
    /// Line folds (obs-fold: a line break followed by SP or HTAB) joined with one SP.
    pub folds: usize,
    /// Other CR, LF or NUL characters, each replaced by SP.
    pub stray: usize,
}

/// Makes one line of a field value as RFC 9112 §5.2 and RFC 9110 §5.5 tell recipients to: each
/// obs-fold (optional SP/HTAB, a line break — CRLF, or a bare LF, which §2.2 lets recipients
/// accept — then at least one SP/HTAB) becomes one SP, and every other CR, LF or NUL becomes SP.
/// Parsers read the result, so no parsed value ever holds a line break: formatting a parse can
/// then never produce a fold that would be read differently.
pub(crate) fn unfold(value: &str) -> (Cow<'_, str>, LineFlaws) {
    let mut flaws = LineFlaws::default();
    if !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0)) {
        return (Cow::Borrowed(value), flaws);
    }
    let bytes = value.as_bytes();
    let is_ws = |i: usize| matches!(bytes.get(i), Some(b' ' | b'\t'));
    let mut out = String::with_capacity(value.len());
    // `value[..copied]` is in `out`. Every byte handled here is ASCII, so slicing at it always
    // lands on a character boundary.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !matches!(b, b'\r' | b'\n' | 0) {
            i += 1;
            continue;
        }
        out.push_str(&value[copied..i]);
        let break_len = match (b, bytes.get(i + 1)) {
            (b'\r', Some(b'\n')) => 2,
            (b'\n', _) => 1,
            _ => 0,
        };
        if break_len > 0 && is_ws(i + break_len) {
            flaws.folds += 1;
            out.truncate(out.trim_end_matches([' ', '\t']).len());
            i += break_len;
            while is_ws(i) {
                i += 1;
            }
        } else {
            flaws.stray += 1;
            i += 1;
        }
        out.push(' ');
        copied = i;
    }
    out.push_str(&value[copied..]);
    (Cow::Owned(out), flaws)
}

/// A reading position over one header field value.
pub(crate) struct Cursor<'a> {
    pub text: &'a str,
    pub pos: usize,
}

/// What reading a quoted-string found besides its value.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QuotedFlaws {
    /// The closing quote never came.
    pub unterminated: bool,
    /// A control character (other than HTAB) appeared inside.
    pub control: bool,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor { text, pos: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Skips spaces and tabs; returns how many were skipped.
    pub(crate) fn skip_ows(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// Reads a run of bytes up to the next delimiter (whitespace, `,`, `=`, `;`, `"`). The run
    /// may hold characters a token does not allow; callers check with [`is_token`].
    pub(crate) fn loose_token(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if matches!(b, b' ' | b'\t' | b',' | b'=' | b';' | b'"') {
                break;
            }
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// Reads a quoted-string starting at the opening quote; unescapes `\x` to `x`.
    pub(crate) fn quoted(&mut self) -> (String, QuotedFlaws) {
        debug_assert_eq!(self.peek(), Some(b'"'));
        self.pos += 1;
        let mut flaws = QuotedFlaws::default();
        let mut value = String::new();
        let rest = &self.text[self.pos..];
        let mut chars = rest.char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '"' => {
                    self.pos += i + 1;
                    return (value, flaws);
                }
                '\\' => match chars.next() {
                    Some((_, escaped)) => value.push(escaped),
                    None => break,
                },
                c if c.is_control() && c != '\t' => {
                    flaws.control = true;
                    value.push(c);
                }
                c => value.push(c),
            }
        }
        flaws.unterminated = true;
        self.pos = self.text.len();
        (value, flaws)
    }

    /// Reads up to (not including) the next `,` or the end.
    pub(crate) fn until_comma(&mut self) -> &'a str {
        let start = self.pos;
        while let Some(b) = self.peek() {
            if b == b',' {
                break;
            }
            self.pos += 1;
        }
        &self.text[start..self.pos]
    }

    /// The rest of the text from the cursor.
    #[cfg(test)]
    pub(crate) fn rest(&self) -> &'a str {
        &self.text[self.pos.min(self.text.len())..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn unfold_leaves_one_line_and_is_idempotent(s in "[a\u{e9} \t\r\n\u{0}\\\\\"]{0,30}") {
            let (once, _) = unfold(&s);
            prop_assert!(!once.contains(['\r', '\n', '\0']));
            let (twice, flaws) = unfold(&once);
            prop_assert_eq!(&twice, &once);
            prop_assert_eq!(flaws, LineFlaws::default());
            if !s.contains(['\r', '\n', '\0']) {
                prop_assert_eq!(once.as_ref(), s.as_str());
            }
        }
    }

    #[test]
    fn token68_allows_trailing_equals_only() {
        assert!(is_token68("YWxhZGRpbjpvcGVuc2VzYW1l"));
        assert!(is_token68("abc=="));
        assert!(!is_token68("a=b"));
        assert!(!is_token68("=="));
        assert!(!is_token68("a b"));
    }

    #[test]
    fn quoted_string_unescapes_and_reports_flaws() {
        let mut c = Cursor::new(r#""a\"b\\c" rest"#);
        assert_eq!(c.quoted(), (r#"a"b\c"#.to_string(), QuotedFlaws::default()));
        assert_eq!(c.rest(), " rest");
        let mut c = Cursor::new("\"never closed");
        let (v, f) = c.quoted();
        assert_eq!(v, "never closed");
        assert!(f.unterminated);
    }

    #[test]
    fn unfold_joins_folds_and_blanks_stray_breaks() {
        assert_eq!(unfold("Basic realm=\"x\"").1, LineFlaws::default());
        let (text, flaws) = unfold("Basic \r\n realm=\"foo\"");
        assert_eq!(text, "Basic realm=\"foo\"");
        assert_eq!(flaws, LineFlaws { folds: 1, stray: 0 });
        let (text, flaws) = unfold("Basic\n\t\trealm=\"f\u{f6}o\",\r\n\tcharset=\"UTF-8\"");
        assert_eq!(text, "Basic realm=\"f\u{f6}o\", charset=\"UTF-8\"");
        assert_eq!(flaws.folds, 2);
        let (text, flaws) = unfold("a\rb\nc\0d\r\ne\u{e9}\r");
        assert_eq!(text, "a b c d  e\u{e9} ");
        assert_eq!(flaws, LineFlaws { folds: 0, stray: 6 });
    }

    #[test]
    fn quote_round_trips() {
        let s = r#"he said "hi" \o/"#;
        let mut c = Cursor::new(Box::leak(quote(s).into_boxed_str()));
        assert_eq!(c.quoted().0, s);
    }
}
