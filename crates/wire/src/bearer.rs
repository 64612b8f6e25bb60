//! Bearer challenges (RFC 6750 §3), step-up (RFC 9470), DPoP (RFC 9449) and protected
//! resource metadata (RFC 9728): what an OAuth 2 resource server says when it refuses a token.

use serde::Serialize;

use crate::challenge::Challenge;

/// The `error` code of a Bearer or DPoP challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BearerErrorCode {
    /// 400: the request is malformed (RFC 6750 §3.1).
    InvalidRequest,
    /// 401: the token is expired, revoked, malformed or invalid.
    InvalidToken,
    /// 403: the token lacks the scope the resource needs.
    InsufficientScope,
    /// 401: a stronger or fresher authentication is required (RFC 9470).
    InsufficientUserAuthentication,
    /// 401: the DPoP proof is invalid (RFC 9449 §7.1).
    InvalidDpopProof,
    /// 401: the server wants a DPoP nonce in the proof (RFC 9449 §9).
    UseDpopNonce,
    /// Anything else.
    Other(String),
}

impl BearerErrorCode {
    fn parse(s: &str) -> Self {
        match s {
            "invalid_request" => Self::InvalidRequest,
            "invalid_token" => Self::InvalidToken,
            "insufficient_scope" => Self::InsufficientScope,
            "insufficient_user_authentication" => Self::InsufficientUserAuthentication,
            "invalid_dpop_proof" => Self::InvalidDpopProof,
            "use_dpop_nonce" => Self::UseDpopNonce,
            other => Self::Other(other.to_string()),
        }
    }

    /// The wire form.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidToken => "invalid_token",
            Self::InsufficientScope => "insufficient_scope",
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
            Self::InvalidDpopProof => "invalid_dpop_proof",
            Self::UseDpopNonce => "use_dpop_nonce",
            Self::Other(s) => s,
        }
    }

    /// The status RFC 6750 §3.1 assigns to the code, where it assigns one.
    pub fn expected_status(&self) -> Option<u16> {
        match self {
            Self::InvalidRequest => Some(400),
            Self::InsufficientScope => Some(403),
            Self::Other(_) => None,
            _ => Some(401),
        }
    }
}

/// Everything a Bearer (or DPoP) challenge can say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BearerChallenge {
    /// `Bearer` or `DPoP`.
    pub scheme: String,
    /// The protection space the token is checked against (RFC 6750 §3), when the server names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// Why the token was refused (RFC 6750 §3.1); absent when the request carried no token at all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<BearerErrorCode>,
    /// The server's human-readable explanation of `error`, meant for developers, not end users.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
    /// A URI of a page that explains `error` (RFC 6750 §3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_uri: Option<String>,
    /// Scopes the resource requires (space-separated on the wire).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<String>,
    /// RFC 9470: the authentication context classes the resource demands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
    /// RFC 9470: the maximum age of the authentication, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u64>,
    /// RFC 9449: the JWS algorithms accepted for DPoP proofs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub algs: Vec<String>,
    /// RFC 9728: where the protected resource metadata lives.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_metadata: Option<String>,
    /// Entra ID / Azure AD style hints (`authorization_uri`, `resource_id`, ...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extra: Vec<(String, String)>,
}

impl BearerChallenge {
    /// Reads a `Bearer` or `DPoP` challenge; `None` for other schemes.
    pub fn from_challenge(c: &Challenge) -> Option<Self> {
        if !(c.is("Bearer") || c.is("DPoP")) {
            return None;
        }
        let list = |name| -> Vec<String> {
            c.param(name)
                .map(|v| v.split_whitespace().map(String::from).collect())
                .unwrap_or_default()
        };
        let known = [
            "realm",
            "error",
            "error_description",
            "error_uri",
            "scope",
            "acr_values",
            "max_age",
            "algs",
            "resource_metadata",
        ];
        Some(BearerChallenge {
            scheme: c.scheme.clone(),
            realm: c.realm().map(String::from),
            error: c.param("error").map(BearerErrorCode::parse),
            error_description: c.param("error_description").map(String::from),
            error_uri: c.param("error_uri").map(String::from),
            scope: list("scope"),
            acr_values: list("acr_values"),
            max_age: c.param("max_age").and_then(|v| v.parse().ok()),
            algs: list("algs"),
            resource_metadata: c.param("resource_metadata").map(String::from),
            extra: c
                .params
                .iter()
                .filter(|p| !known.iter().any(|k| k.eq_ignore_ascii_case(&p.name)))
                .map(|p| (p.name.clone(), p.value.clone()))
                .collect(),
        })
    }

    /// Whether this is a DPoP challenge rather than plain Bearer.
    pub fn is_dpop(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("DPoP")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::challenge::parse_one;

    fn bearer(h: &str) -> BearerChallenge {
        BearerChallenge::from_challenge(&parse_one(h).challenges[0]).unwrap()
    }

    #[test]
    fn rfc6750_examples() {
        let b = bearer(
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        );
        assert_eq!(b.error, Some(BearerErrorCode::InvalidToken));
        assert_eq!(
            b.error_description.as_deref(),
            Some("The access token expired")
        );
        assert_eq!(b.error.unwrap().expected_status(), Some(401));
        let b = bearer(r#"Bearer error="insufficient_scope", scope="read:orders write:orders""#);
        assert_eq!(b.scope, ["read:orders", "write:orders"]);
        assert_eq!(b.error.unwrap().expected_status(), Some(403));
    }

    #[test]
    fn rfc9470_step_up() {
        let b = bearer(
            r#"Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR""#,
        );
        assert_eq!(
            b.error,
            Some(BearerErrorCode::InsufficientUserAuthentication)
        );
        assert_eq!(b.acr_values, ["myACR"]);
        let b = bearer(r#"Bearer error="insufficient_user_authentication", max_age="5""#);
        assert_eq!(b.max_age, Some(5));
    }

    #[test]
    fn rfc9449_dpop() {
        let b = bearer(
            r#"DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof""#,
        );
        assert!(b.is_dpop());
        assert_eq!(b.error, Some(BearerErrorCode::UseDpopNonce));
        let b = bearer(r#"DPoP algs="ES256 PS256""#);
        assert_eq!(b.algs, ["ES256", "PS256"]);
    }

    #[test]
    fn entra_hints_are_kept() {
        let b = bearer(
            r#"Bearer authorization_uri="https://login.microsoftonline.com/x/oauth2/authorize", resource_id="00000003-0000-0000-c000-000000000000""#,
        );
        assert_eq!(b.extra.len(), 2);
        assert!(
            BearerChallenge::from_challenge(&parse_one("Basic realm=x").challenges[0]).is_none()
        );
    }
}
