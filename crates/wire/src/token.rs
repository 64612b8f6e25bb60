//! Recognising an opaque token by its shape: a JWT, an NTLM message, a SPNEGO or Kerberos
//! token, or the base64 of a Basic `user:password`.

use serde::Serialize;

use crate::{b64, jwt, ntlm};

/// Query and form parameters whose values are credentials (OAuth's `access_token`, `code`,
/// API keys, SAML responses): a URL carrying one leaks it to logs, history and Referer.
pub const SECRET_PARAMS: &[&str] = &[
    "access_token",
    "id_token",
    "refresh_token",
    "token",
    "code",
    "api_key",
    "apikey",
    "key",
    "password",
    "passwd",
    "client_secret",
    "sig",
    "assertion",
    "samlresponse",
];

/// Whether query or form parameter `name` carries a credential.
pub fn is_secret_param(name: &str) -> bool {
    SECRET_PARAMS.iter().any(|p| name.eq_ignore_ascii_case(p))
}

/// `text` with the values of secret parameters in any URL or query string it holds (`?code=…`,
/// `&access_token=…`, `#id_token=…`) replaced by `…(redacted)`: for output that quotes URLs.
pub fn redact_url_secrets(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('=') {
        return text.into();
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        if matches!(b[i], b'?' | b'&' | b'#' | b';') {
            let name_start = i + 1;
            let mut j = name_start;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] == b'-') {
                j += 1;
            }
            if j < b.len() && b[j] == b'=' && is_secret_param(&text[name_start..j]) {
                let value_start = j + 1;
                let mut k = value_start;
                while k < b.len()
                    && !matches!(
                        b[k],
                        b'&' | b'#' | b'"' | b'\'' | b' ' | b'\n' | b'\t' | b')' | b'<'
                    )
                {
                    k += 1;
                }
                if k > value_start {
                    out.push_str(&text[last..value_start]);
                    out.push_str("…(redacted)");
                    last = k;
                }
                i = k;
                continue;
            }
        }
        i += 1;
    }
    if last == 0 {
        return text.into();
    }
    out.push_str(&text[last..]);
    out.into()
}

/// What a bare token most likely is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TokenKind {
    /// A compact JWS (three dot-separated parts).
    Jwt,
    /// A compact JWE (five parts).
    Jwe,
    /// Base64 of an NTLMSSP message.
    Ntlm,
    /// Base64 of a GSS-API / SPNEGO token.
    Spnego,
    /// Base64 of text with a colon: Basic credentials.
    BasicPair,
    /// Nothing recognisable: not base64, or the base64 of none of the above.
    Unknown,
}

/// Classifies a bare token (no scheme).
pub fn classify(token: &str) -> TokenKind {
    let t = token.trim();
    if jwt::looks_like_jwt(t) {
        return if t.matches('.').count() == 4 {
            TokenKind::Jwe
        } else {
            TokenKind::Jwt
        };
    }
    let Ok((bytes, _)) = b64::decode_any(t) else {
        return TokenKind::Unknown;
    };
    if ntlm::is_ntlm(&bytes) {
        TokenKind::Ntlm
    } else if matches!(bytes.first(), Some(0x60 | 0xa0 | 0xa1)) && bytes.len() > 8 {
        TokenKind::Spnego
    } else if std::str::from_utf8(&bytes)
        .is_ok_and(|s| s.contains(':') && !s.chars().any(char::is_control))
    {
        TokenKind::BasicPair
    } else {
        TokenKind::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        assert_eq!(
            classify("TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="),
            TokenKind::Ntlm
        );
        assert_eq!(classify("YIIBhgYGKwYBBQUCoIIBejCCAXag"), TokenKind::Spnego);
        assert_eq!(
            classify("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="),
            TokenKind::BasicPair
        );
        assert_eq!(
            classify("eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."),
            TokenKind::Jwt
        );
        assert_eq!(classify("%%%"), TokenKind::Unknown);
        assert_eq!(classify(""), TokenKind::Unknown);
    }
}

#[cfg(test)]
mod secret_param_tests {
    use super::redact_url_secrets;

    #[test]
    fn secrets_in_urls_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_url_secrets("GET https://a.test/cb?code=SplxlOBe&state=xyz → 302"),
            "GET https://a.test/cb?code=…(redacted)&state=xyz → 302"
        );
        assert_eq!(
            redact_url_secrets("\"url\":\"https://a.test/#id_token=eyJx.y.z\""),
            "\"url\":\"https://a.test/#id_token=…(redacted)\""
        );
        assert_eq!(redact_url_secrets("a=b&keyring=1"), "a=b&keyring=1");
        assert_eq!(redact_url_secrets("é?key=ü&x=1"), "é?key=…(redacted)&x=1");
    }
}
