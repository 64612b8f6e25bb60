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
