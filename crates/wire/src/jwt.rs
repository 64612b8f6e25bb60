//! JSON Web Tokens (RFC 7519), decoded without verification, and judged against a clock.
//!
//! Decoded by hand rather than with `jsonwebtoken`: that crate refuses `alg: none` and unknown
//! algorithms before showing anything, and those are exactly the tokens a user needs to see.
//! Signature verification lives with the gateway, which has keys.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::b64;

/// A decoded compact token: signed (JWS, three parts) or encrypted (JWE, five parts).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Jwt {
    /// A JWS (RFC 7515 compact serialisation): header and claims readable, signature unchecked.
    Signed(Jws),
    /// A JWE: only the protected header is readable without the recipient's key.
    Encrypted {
        /// The JOSE protected header (`alg`, `enc`, `kid`…): the one part readable without a key.
        header: Map<String, Value>,
    },
}

/// A signed token: header, claims and the size of the signature.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Jws {
    /// The JOSE header (RFC 7515 §4): `alg`, `typ`, `kid`…
    pub header: Map<String, Value>,
    /// The claims (RFC 7519 §4): `iss`, `sub`, `aud`, `exp`…, as written, unverified.
    pub claims: Map<String, Value>,
    /// Bytes of signature (0 for `alg: none`).
    pub signature_len: usize,
}

/// Why a string is not a readable JWT.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Neither 3 nor 5 dot-separated parts; carries the count found.
    #[error("a JWT has 3 dot-separated parts (5 if encrypted); this has {0}")]
    PartCount(usize),
    /// A part is not base64url (RFC 7515 §2).
    #[error("the {part} is not base64url: {detail}")]
    Base64 {
        /// Which part: `header`, `payload` or `signature`.
        part: &'static str,
        /// The base64 decoder's message.
        detail: String,
    },
    /// The header or payload decodes, but not to JSON.
    #[error("the {part} is not JSON: {detail}")]
    Json {
        /// `header` or `payload`.
        part: &'static str,
        /// serde_json's message, with the position.
        detail: String,
    },
    /// The header or payload is JSON but not an object (an array, a string…).
    #[error("the {part} is JSON but not an object")]
    NotObject {
        /// `header` or `payload`.
        part: &'static str,
    },
}

/// Decodes a compact JWT. `Bearer ` prefixes and surrounding quotes/whitespace are tolerated.
pub fn decode(token: &str) -> Result<Jwt, JwtError> {
    let token = token.trim().trim_matches('"');
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {
            let header = object(parts[0], "header")?;
            let claims = object(parts[1], "payload")?;
            let signature_len = b64::decode_url(parts[2].trim_end_matches('='))
                .map_err(|e| JwtError::Base64 {
                    part: "signature",
                    detail: e.to_string(),
                })?
                .len();
            Ok(Jwt::Signed(Jws {
                header,
                claims,
                signature_len,
            }))
        }
        5 => Ok(Jwt::Encrypted {
            header: object(parts[0], "header")?,
        }),
        n => Err(JwtError::PartCount(n)),
    }
}

/// Whether `s` looks like a compact JWT (so a caller can choose to decode it).
pub fn looks_like_jwt(s: &str) -> bool {
    let s = s.trim();
    let dots = s.bytes().filter(|&b| b == b'.').count();
    (dots == 2 || dots == 4)
        && s.starts_with("eyJ")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.=".contains(&b))
}

fn object(segment: &str, part: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = b64::decode_url(segment.trim_end_matches('=')).map_err(|e| JwtError::Base64 {
        part,
        detail: e.to_string(),
    })?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(JwtError::NotObject { part }),
        Err(e) => Err(JwtError::Json {
            part,
            detail: e.to_string(),
        }),
    }
}

impl Jws {
    /// The `alg` header.
    pub fn alg(&self) -> Option<&str> {
        self.header.get("alg").and_then(Value::as_str)
    }

    /// A string claim.
    pub fn str_claim(&self, name: &str) -> Option<&str> {
        self.claims.get(name).and_then(Value::as_str)
    }

    /// A NumericDate claim (`exp`, `nbf`, `iat`, `auth_time`); fractions are truncated.
    pub fn time_claim(&self, name: &str) -> Option<i64> {
        match self.claims.get(name)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            _ => None,
        }
    }

    /// The audiences: `aud` as a string or an array.
    pub fn audiences(&self) -> Vec<String> {
        strings(self.claims.get("aud"))
    }

    /// Granted scopes: `scope` (space-separated string, RFC 8693), or `scp` (string or array, Microsoft/Okta).
    pub fn scopes(&self) -> Vec<String> {
        let mut out = Vec::new();
        for name in ["scope", "scp"] {
            match self.claims.get(name) {
                Some(Value::String(s)) => out.extend(s.split_whitespace().map(String::from)),
                v @ Some(Value::Array(_)) => out.extend(strings(v)),
                _ => {}
            }
        }
        out
    }

    /// App roles (`roles`), as Entra ID puts them in app-only tokens.
    pub fn roles(&self) -> Vec<String> {
        strings(self.claims.get("roles"))
    }

    /// Problems with the token's own form and lifetime, judged at `now` (Unix seconds) with
    /// `leeway` seconds of tolerance.
    pub fn problems(&self, now: i64, leeway: i64) -> Vec<JwtProblem> {
        let mut out = Vec::new();
        match self.alg() {
            Some(a) if a.eq_ignore_ascii_case("none") => out.push(JwtProblem::AlgNone),
            None => out.push(JwtProblem::MissingAlg),
            _ if self.signature_len == 0 => out.push(JwtProblem::EmptySignature),
            _ => {}
        }
        for name in ["exp", "nbf", "iat"] {
            if self.claims.get(name).is_some_and(|v| !v.is_number()) {
                out.push(JwtProblem::NotNumericDate { claim: name });
            }
        }
        match self.time_claim("exp") {
            Some(exp) if now > exp + leeway => out.push(JwtProblem::Expired {
                exp,
                ago: now - exp,
            }),
            Some(_) => {}
            None => out.push(JwtProblem::NoExpiry),
        }
        if let Some(nbf) = self.time_claim("nbf")
            && nbf > now + leeway
        {
            out.push(JwtProblem::NotYetValid {
                nbf,
                in_secs: nbf - now,
            });
        }
        if let Some(iat) = self.time_claim("iat")
            && iat > now + leeway
        {
            out.push(JwtProblem::IssuedInFuture {
                iat,
                ahead: iat - now,
            });
        }
        if self.claims.contains_key("nonce") || self.claims.contains_key("at_hash") {
            out.push(JwtProblem::LooksLikeIdToken);
        }
        out
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    }
}

/// Something wrong with a token, independent of what the server expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "kebab-case")]
pub enum JwtProblem {
    /// `alg: none`: an unsigned token any party could have forged.
    AlgNone,
    /// No `alg` header at all.
    MissingAlg,
    /// A signing algorithm but an empty signature (the signature was cut off).
    EmptySignature,
    /// `exp` is past (by `ago` seconds).
    Expired {
        /// The `exp` claim, in Unix seconds.
        exp: i64,
        /// Seconds from `exp` to now.
        ago: i64,
    },
    /// `nbf` is in the future (by `in_secs`).
    NotYetValid {
        /// The `nbf` claim, in Unix seconds.
        nbf: i64,
        /// Seconds from now until `nbf`.
        in_secs: i64,
    },
    /// `iat` is in the future: the issuer's clock runs ahead of ours.
    IssuedInFuture {
        /// The `iat` claim, in Unix seconds.
        iat: i64,
        /// Seconds `iat` is ahead of now: about how far the issuer's clock runs ahead.
        ahead: i64,
    },
    /// No `exp`: the token never expires, which many servers refuse.
    NoExpiry,
    /// A time claim that is not a number (e.g. a string date).
    NotNumericDate {
        /// `exp`, `nbf` or `iat`.
        claim: &'static str,
    },
    /// `nonce`/`at_hash` present: an OpenID Connect ID token, which APIs do not accept as an access token.
    LooksLikeIdToken,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn make(header: &str, claims: &str, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            b64::encode_url(header.as_bytes()),
            b64::encode_url(claims.as_bytes()),
            b64::encode_url(sig)
        )
    }

    #[test]
    fn rfc7519_example() {
        // RFC 7519 §3.1.
        let t = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert!(looks_like_jwt(t));
        let Jwt::Signed(j) = decode(t).unwrap() else {
            panic!("signed")
        };
        assert_eq!(j.alg(), Some("HS256"));
        assert_eq!(j.str_claim("iss"), Some("joe"));
        assert_eq!(j.time_claim("exp"), Some(1300819380));
        assert_eq!(j.signature_len, 32);
        assert_eq!(
            j.problems(1300819380 + 3600, 60),
            [JwtProblem::Expired {
                exp: 1300819380,
                ago: 3600
            }]
        );
        assert_eq!(j.problems(1300819380 + 30, 60), []);
    }

    #[test]
    fn alg_none_and_times() {
        let t = make(
            r#"{"alg":"none"}"#,
            r#"{"nbf":2000,"iat":2000,"exp":3000,"aud":["a","b"],"scp":"read write"}"#,
            b"",
        );
        let Jwt::Signed(j) = decode(&t).unwrap() else {
            panic!()
        };
        assert_eq!(
            j.problems(1000, 0),
            [
                JwtProblem::AlgNone,
                JwtProblem::NotYetValid {
                    nbf: 2000,
                    in_secs: 1000
                },
                JwtProblem::IssuedInFuture {
                    iat: 2000,
                    ahead: 1000
                }
            ]
        );
        assert_eq!(j.audiences(), ["a", "b"]);
        assert_eq!(j.scopes(), ["read", "write"]);
    }

    #[test]
    fn jwe_is_encrypted_not_malformed() {
        // RFC 7516 §A.1 header, five parts.
        let t = "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGeipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDbSv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaVmqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je81860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi6UklfCpIMfIjf7iGdXKHzg.48V1_ALb6US04U3b.5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6jiSdiwkIr3ajwQzaBtQD_A.XFBoMYUZodetZdvTiFvSkQ";
        let Jwt::Encrypted { header } = decode(t).unwrap() else {
            panic!("encrypted")
        };
        assert_eq!(header["enc"], "A256GCM");
    }

    #[test]
    fn errors_say_which_part() {
        assert_eq!(decode("a.b"), Err(JwtError::PartCount(2)));
        assert!(matches!(
            decode("eyJ!.e30.x"),
            Err(JwtError::Base64 { part: "header", .. })
        ));
        assert!(matches!(
            decode(&make("[]", "{}", b"x")),
            Err(JwtError::NotObject { part: "header" })
        ));
        assert!(matches!(
            decode(&make("{}", "{", b"x")),
            Err(JwtError::Json {
                part: "payload",
                ..
            })
        ));
    }

    #[test]
    fn id_token_and_string_dates() {
        let t = make(
            r#"{"alg":"RS256"}"#,
            r#"{"exp":"2030-01-01","nonce":"n"}"#,
            b"sig",
        );
        let Jwt::Signed(j) = decode(&t).unwrap() else {
            panic!()
        };
        let p = j.problems(0, 0);
        assert!(p.contains(&JwtProblem::NotNumericDate { claim: "exp" }));
        assert!(p.contains(&JwtProblem::NoExpiry));
        assert!(p.contains(&JwtProblem::LooksLikeIdToken));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*") {
            if let Ok(Jwt::Signed(j)) = decode(&s) {
                let _ = j.problems(0, 0);
            }
        }

        #[test]
        fn never_panics_on_dotted_base64(a in "[A-Za-z0-9_-]{0,30}", b in "[A-Za-z0-9_-]{0,30}", c in "[A-Za-z0-9_-]{0,10}") {
            let _ = decode(&format!("{a}.{b}.{c}"));
        }

        #[test]
        fn claims_round_trip(exp in any::<i32>(), iss in "[a-z:/.]{0,20}") {
            let claims = serde_json::json!({"exp": exp, "iss": iss});
            let t = make(r#"{"alg":"HS256"}"#, &claims.to_string(), b"s");
            let Jwt::Signed(j) = decode(&t).unwrap() else { panic!() };
            prop_assert_eq!(j.time_claim("exp"), Some(exp as i64));
            prop_assert_eq!(j.str_claim("iss"), Some(iss.as_str()));
        }
    }
}
