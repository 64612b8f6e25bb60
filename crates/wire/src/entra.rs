//! What the Microsoft identity platform (Entra ID) and the Microsoft 365 APIs say when they refuse
//! a request: the Continuous Access Evaluation claims challenge, the token endpoint's error
//! (with its `AADSTS` codes), Microsoft Graph's error body, SharePoint's `x-ms-diagnostics`.
//!
//! Shapes as Microsoft documents them (Learn: "Claims challenges, claims requests and client
//! capabilities", "Microsoft identity platform error codes", "Microsoft Graph error responses")
//! and as public threads quote them.
//!
//! ```
//! use why401_wire::entra::{ClaimsChallenge, TokenError, aadsts_codes};
//!
//! // Graph's CAE challenge: the token was revoked; come back with a token issued after nbf.
//! let c = ClaimsChallenge::parse("eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=").unwrap();
//! assert_eq!(c.not_before, Some(1_604_106_651));
//!
//! let e = TokenError::parse(br#"{"error":"invalid_grant","error_description":"AADSTS50076: Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'. Trace ID: 0d1e Correlation ID: 9a2b Timestamp: 2026-12-06 10:00:00Z","error_codes":[50076],"suberror":"basic_action"}"#).unwrap();
//! assert_eq!(e.codes, [50076]);
//! assert_eq!(aadsts_codes("see AADSTS700082 and AADSTS50173"), [700082, 50173]);
//! ```

use serde::Serialize;
use serde_json::Value;

use crate::b64;

/// A `claims` value of a Bearer challenge (`error="insufficient_claims"`) or a token error: the
/// claims the next token must carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ClaimsChallenge {
    /// The decoded JSON, as text.
    pub json: String,
    /// `access_token.nbf.value`: tokens issued before this time (Unix seconds) are no longer
    /// accepted. Continuous Access Evaluation revoked the session (password change, user
    /// disabled, location or risk change) and the client must get a new token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    /// `access_token.acrs.value(s)`: the authentication contexts (conditional access step-up,
    /// `c1`…) the token must satisfy.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auth_contexts: Vec<String>,
    /// Other claims asked for, by name.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<String>,
}

impl ClaimsChallenge {
    /// Reads a `claims` value: base64 (standard or URL-safe, padded or not) of JSON, or the
    /// JSON itself (token endpoints send it plain).
    pub fn parse(value: &str) -> Option<Self> {
        let value = value.trim();
        let json: Value = if value.starts_with('{') {
            serde_json::from_str(value).ok()?
        } else {
            let (bytes, _) = b64::decode_any(value).ok()?;
            serde_json::from_slice(&bytes).ok()?
        };
        let token = json.get("access_token")?.as_object()?;
        let mut c = ClaimsChallenge {
            json: json.to_string(),
            ..Self::default()
        };
        for (name, want) in token {
            match name.as_str() {
                "nbf" => {
                    c.not_before = want.get("value").and_then(|v| match v {
                        Value::String(s) => s.parse().ok(),
                        Value::Number(n) => n.as_i64(),
                        _ => None,
                    })
                }
                "acrs" => {
                    let values = want
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|a| {
                            a.iter()
                                .filter_map(Value::as_str)
                                .map(String::from)
                                .collect()
                        })
                        .or_else(|| {
                            want.get("value")
                                .and_then(Value::as_str)
                                .map(|s| vec![s.to_string()])
                        });
                    c.auth_contexts = values.unwrap_or_default();
                }
                other => c.other.push(other.to_string()),
            }
        }
        Some(c)
    }
}

/// The `AADSTSnnnnn` codes in a text (an `error_description`, a sign-in page), in order, once each.
pub fn aadsts_codes(text: &str) -> Vec<u32> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("AADSTS") {
        rest = &rest[i + 6..];
        let n = rest.bytes().take_while(u8::is_ascii_digit).count();
        if let Ok(code) = rest[..n].parse::<u32>()
            && n > 0
            && !out.contains(&code)
        {
            out.push(code);
        }
        rest = &rest[n..];
    }
    out
}

/// An OAuth 2 token endpoint's error (`login.microsoftonline.com/…/oauth2/v2.0/token`), with
/// Entra's additions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenError {
    /// `error`: `invalid_grant`, `interaction_required`, `invalid_client`…
    pub error: String,
    /// `error_description`, without its trailing trace lines.
    pub description: String,
    /// The AADSTS codes: `error_codes`, else those named in the description.
    pub codes: Vec<u32>,
    /// `suberror`: `basic_action`, `additional_action`, `message_only`, `consent_required`,
    /// `user_password_expired`, `bad_token`, `token_expired`, `protection_policy_required`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suberror: Option<String>,
    /// `claims`, decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims: Option<ClaimsChallenge>,
    /// `trace_id`, `correlation_id`, `timestamp`: what Microsoft support asks for.
    pub ids: Vec<(String, String)>,
}

impl TokenError {
    /// Reads a token endpoint's JSON error body; `None` when it is not one.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let error = v.get("error")?.as_str()?.to_string();
        let full = v
            .get("error_description")
            .and_then(Value::as_str)
            .unwrap_or("");
        let mut codes: Vec<u32> = v
            .get("error_codes")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|c| c.as_u64())
                    .map(|c| c as u32)
                    .collect()
            })
            .unwrap_or_default();
        if codes.is_empty() {
            codes = aadsts_codes(full);
        }
        let description = full
            .split("\r\n")
            .next()
            .unwrap_or(full)
            .split(" Trace ID:")
            .next()
            .unwrap_or(full)
            .trim()
            .to_string();
        let ids = ["trace_id", "correlation_id", "timestamp", "error_uri"]
            .iter()
            .filter_map(|k| {
                v.get(*k)
                    .and_then(Value::as_str)
                    .map(|s| (k.to_string(), s.to_string()))
            })
            .collect();
        Some(TokenError {
            error,
            description,
            codes,
            suberror: v.get("suberror").and_then(Value::as_str).map(String::from),
            claims: v
                .get("claims")
                .and_then(Value::as_str)
                .and_then(ClaimsChallenge::parse),
            ids,
        })
    }
}

/// A Microsoft Graph (or Outlook REST, SharePoint REST in JSON) error body:
/// `{"error": {"code": "InvalidAuthenticationToken", "message": "…", "innerError": {…}}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiError {
    /// `error.code`: `InvalidAuthenticationToken`, `Authorization_RequestDenied`,
    /// `ErrorAccessDenied`, `accessDenied`, `-2147024891, System.UnauthorizedAccessException`…
    pub code: String,
    /// `error.message` (SharePoint: `error.message.value`).
    pub message: String,
    /// `innerError`'s `request-id`, `client-request-id`, `date`: what support asks for.
    pub ids: Vec<(String, String)>,
}

impl ApiError {
    /// Reads an error body; `None` when it is not one of these shapes.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let v: Value = serde_json::from_slice(body).ok()?;
        // OData v3 (SharePoint's `odata.error`) or Graph's `error` object.
        let e = v
            .get("error")
            .or_else(|| v.get("odata.error"))?
            .as_object()?;
        let code = match e.get("code")? {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let message = match e.get("message") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Object(m)) => m
                .get("value")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            _ => String::new(),
        };
        let inner = e
            .get("innerError")
            .or_else(|| e.get("innererror"))
            .and_then(Value::as_object);
        let ids = inner
            .map(|m| {
                ["request-id", "client-request-id", "date"]
                    .iter()
                    .filter_map(|k| {
                        m.get(*k)
                            .and_then(Value::as_str)
                            .map(|s| (k.to_string(), s.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Some(ApiError { code, message, ids })
    }
}

/// SharePoint Online's `x-ms-diagnostics` header: `2000003;reason="Invalid audience Uri
/// 'https://contoso.sharepoint.com'.";category="invalid_client"`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diagnostics {
    /// The leading number (`2000003`).
    pub code: String,
    /// `reason`.
    pub reason: String,
    /// `category` (`invalid_client`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
}

impl Diagnostics {
    /// Reads the header's value; `None` when it has no leading code.
    pub fn parse(value: &str) -> Option<Self> {
        let (code, rest) = value.trim().split_once(';').unwrap_or((value.trim(), ""));
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let param = |name: &str| {
            let key = format!("{name}=\"");
            let at = rest.find(&key)? + key.len();
            let end = rest[at..].find("\";").map_or(rest.len() - 1, |e| at + e);
            rest.get(at..end.max(at))
                .map(|s| s.trim_end_matches('"').to_string())
        };
        Some(Diagnostics {
            code: code.to_string(),
            reason: param("reason").unwrap_or_default(),
            category: param("category"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_input_never_panics(s in ".{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = ClaimsChallenge::parse(&s);
            let _ = aadsts_codes(&s);
            let _ = Diagnostics::parse(&s);
            let _ = TokenError::parse(&bytes);
            let _ = ApiError::parse(&bytes);
            let _ = TokenError::parse(s.as_bytes());
        }

        #[test]
        fn every_code_written_is_found(codes in proptest::collection::vec(1u32..10_000_000, 0..5)) {
            let text: String = codes.iter().map(|c| format!("AADSTS{c}: x. ")).collect();
            let mut want = Vec::new();
            for c in &codes {
                if !want.contains(c) {
                    want.push(*c);
                }
            }
            prop_assert_eq!(aadsts_codes(&text), want);
        }
    }

    #[test]
    fn cae_claims_challenges() {
        // Graph's documented revocation challenge, base64 of
        // {"access_token":{"nbf":{"essential":true, "value":"1604106651"}}}.
        let c = ClaimsChallenge::parse(
            "eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=",
        )
        .unwrap();
        assert_eq!(c.not_before, Some(1_604_106_651));
        assert!(c.auth_contexts.is_empty());
        // An authentication-context step-up, sent as plain JSON by a token endpoint.
        let c =
            ClaimsChallenge::parse(r#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#)
                .unwrap();
        assert_eq!(c.auth_contexts, ["c1"]);
        assert!(ClaimsChallenge::parse("not base64 !").is_none());
        assert!(
            ClaimsChallenge::parse("e30").is_none(),
            "{{}} has no access_token"
        );
    }

    #[test]
    fn token_errors_graph_errors_and_diagnostics() {
        let e = TokenError::parse(br#"{"error":"interaction_required","error_description":"AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.\r\nTrace ID: 1a\r\nCorrelation ID: 2b\r\nTimestamp: 2026-12-06 10:00:00Z","error_codes":[53003],"timestamp":"2026-12-06 10:00:00Z","trace_id":"1a","correlation_id":"2b","suberror":"message_only","claims":"{\"access_token\":{\"capolids\":{\"essential\":true,\"values\":[\"0f4a\"]}}}"}"#).unwrap();
        assert_eq!(e.error, "interaction_required");
        assert_eq!(e.codes, [53003]);
        assert!(
            e.description.ends_with("does not allow token issuance."),
            "{}",
            e.description
        );
        assert_eq!(e.claims.unwrap().other, ["capolids"]);
        assert!(
            e.ids
                .iter()
                .any(|(k, v)| k == "correlation_id" && v == "2b")
        );

        let g = ApiError::parse(br#"{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid.","innerError":{"date":"2026-12-06T10:00:00","request-id":"5c1f","client-request-id":"5c1f"}}}"#).unwrap();
        assert_eq!(g.code, "InvalidAuthenticationToken");
        assert_eq!(g.ids[0], ("request-id".into(), "5c1f".into()));
        let sp = ApiError::parse(br#"{"odata.error":{"code":"-2147024891, System.UnauthorizedAccessException","message":{"lang":"en-US","value":"Access denied."}}}"#).unwrap();
        assert_eq!(sp.message, "Access denied.");
        assert!(ApiError::parse(b"<html>").is_none());

        let d = Diagnostics::parse(r#"2000003;reason="Invalid audience Uri 'https://contoso.sharepoint.com'.";category="invalid_client""#).unwrap();
        assert_eq!(d.code, "2000003");
        assert_eq!(
            d.reason,
            "Invalid audience Uri 'https://contoso.sharepoint.com'."
        );
        assert_eq!(d.category.as_deref(), Some("invalid_client"));
        assert!(Diagnostics::parse("reason=x").is_none());
    }
}
