//! Bearer tokens: JWT access tokens (RFC 9068) checked against the keys of a JWKS, with the
//! algorithms the configuration allows and nothing else, `iss`, `aud`, `exp` and `nbf` (with a
//! leeway for clock skew), and the scopes each rule needs (RFC 6750 §3.1: `insufficient_scope`
//! is a 403, not a 401).
//!
//! The keys come from a file or an `https://` URL. A token signed with a key id the set does not
//! have makes the gateway fetch the set again (the issuer rotated its keys), at most once every
//! 30 seconds, so tokens with made-up key ids cannot make it hammer the issuer.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::config::Bearer;
use crate::policy::Identity;

/// Why a token was refused: the RFC 6750 description the client is given, and the finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The finding id (`token-expired`, `token-audience-mismatch`, …).
    pub finding: &'static str,
    /// The `error_description`.
    pub description: String,
}

fn refused(finding: &'static str, description: impl Into<String>) -> Refused {
    Refused {
        finding,
        description: description.into(),
    }
}

/// Where the keys come from.
#[derive(Debug, Clone)]
enum Source {
    File(PathBuf),
    Url(String),
}

/// The token checker: the configuration and the keys it has.
pub struct Keys {
    config: Bearer,
    source: Source,
    /// The keys, and when an unknown key id last made the gateway fetch them again.
    set: RwLock<(JwkSet, Option<Instant>)>,
    client: crate::proxy::HttpClient,
}

/// How long after a fetch another is allowed for an unknown key id.
const REFETCH: Duration = Duration::from_secs(30);

impl Keys {
    /// The keys of `config.jwks` (a file, relative to `base`, or an `https://` URL), read now:
    /// a gateway that cannot check tokens does not start.
    pub async fn load(
        config: &Bearer,
        base: &std::path::Path,
        client: crate::proxy::HttpClient,
    ) -> Result<Keys, String> {
        let source = if config.jwks.starts_with("https://") {
            Source::Url(config.jwks.clone())
        } else {
            Source::File(base.join(&config.jwks))
        };
        let set = fetch(&source, &client).await?;
        Ok(Keys {
            config: config.clone(),
            source,
            // The load at start is not a refetch: a rotation right after it is followed.
            set: RwLock::new((set, None)),
            client,
        })
    }

    /// The identity `token` proves, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Identity, Refused> {
        let (alg, kid) = header(token)?;
        if !self.config.algorithms.contains(&alg) {
            return Err(refused(
                "server-rejected-token",
                format!("the algorithm {alg:?} is not accepted"),
            ));
        }
        let key = match self.key(kid.as_deref(), alg) {
            Some(k) => k,
            None => {
                self.refresh().await;
                self.key(kid.as_deref(), alg).ok_or_else(|| {
                    refused(
                        "server-rejected-token",
                        "the token is signed with a key the issuer's key set does not have",
                    )
                })?
            }
        };
        let mut v = Validation::new(alg);
        v.algorithms = vec![alg];
        v.set_issuer(&[&self.config.issuer]);
        v.set_audience(&self.config.audience);
        v.leeway = self.config.leeway.as_secs();
        v.validate_nbf = true;
        v.required_spec_claims = ["exp", "iss", "aud"].map(String::from).into();
        let data =
            jsonwebtoken::decode::<serde_json::Value>(token, &key, &v).map_err(|e| {
                match e.kind() {
                    ErrorKind::ExpiredSignature => {
                        refused("token-expired", "the token has expired")
                    }
                    ErrorKind::ImmatureSignature => {
                        refused("token-not-yet-valid", "the token is not valid yet (nbf)")
                    }
                    ErrorKind::InvalidAudience => refused(
                        "token-audience-mismatch",
                        "the token is not for this audience",
                    ),
                    ErrorKind::InvalidIssuer => refused(
                        "token-issuer-mismatch",
                        "the token is not from the expected issuer",
                    ),
                    ErrorKind::InvalidSignature => refused(
                        "server-rejected-token",
                        "the token's signature does not verify",
                    ),
                    ErrorKind::MissingRequiredClaim(c) => refused(
                        "server-rejected-token",
                        format!("the token has no {c} claim"),
                    ),
                    _ => refused("server-rejected-token", "the token is malformed"),
                }
            })?;
        let claims = data.claims;
        let user = claims
            .get(&self.config.user_claim)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                refused(
                    "server-rejected-token",
                    format!("the token has no {} claim", self.config.user_claim),
                )
            })?;
        let groups = strings(claims.get(&self.config.groups_claim));
        // `scope` (RFC 9068: a space-separated string) or `scp` (Entra ID, Okta: a list or a
        // string).
        let scopes = match claims.get("scope") {
            Some(s) => strings(Some(s)),
            None => strings(claims.get("scp")),
        };
        Ok(Identity {
            user: user.to_string(),
            groups,
            email: claims
                .get("email")
                .and_then(|v| v.as_str())
                .map(String::from),
            scopes: Some(scopes),
            second_factor_at: second_factor_at(&claims),
            unusual: None,
        })
    }

    /// The key for `kid` (or, for a token without one, the only key of the algorithm's type).
    fn key(&self, kid: Option<&str>, alg: Algorithm) -> Option<DecodingKey> {
        let set = self.set.read().unwrap_or_else(|e| e.into_inner());
        let jwk = match kid {
            Some(k) => set.0.find(k)?,
            None => {
                let mut fit = set.0.keys.iter().filter(|k| fits(k, alg));
                let one = fit.next()?;
                if fit.next().is_some() {
                    return None;
                }
                one
            }
        };
        DecodingKey::from_jwk(jwk).ok()
    }

    /// Fetches the key set again, unless it was fetched less than [`REFETCH`] ago.
    async fn refresh(&self) {
        let due = {
            let mut set = self.set.write().unwrap_or_else(|e| e.into_inner());
            let due = set.1.is_none_or(|t| t.elapsed() >= REFETCH);
            if due {
                set.1 = Some(Instant::now());
            }
            due
        };
        if due && let Ok(new) = fetch(&self.source, &self.client).await {
            self.set.write().unwrap_or_else(|e| e.into_inner()).0 = new;
        }
    }
}

/// Whether `jwk` is a key of the type `alg` signs with.
fn fits(jwk: &jsonwebtoken::jwk::Jwk, alg: Algorithm) -> bool {
    use jsonwebtoken::jwk::AlgorithmParameters as P;
    matches!(
        (&jwk.algorithm, alg),
        (
            P::RSA(_),
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ) | (P::EllipticCurve(_), Algorithm::ES256 | Algorithm::ES384)
            | (P::OctetKeyPair(_), Algorithm::EdDSA)
    )
}

/// The `alg` and `kid` of a token's header, read without trusting it: `none` is named as such.
fn header(token: &str) -> Result<(Algorithm, Option<String>), Refused> {
    use base64::Engine;
    let head = token
        .split('.')
        .next()
        .and_then(|h| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .ok_or_else(|| refused("server-rejected-token", "the token is not a JWT"))?;
    let alg = head.get("alg").and_then(|a| a.as_str()).unwrap_or("");
    if alg.eq_ignore_ascii_case("none") {
        return Err(refused(
            "jwt-alg-none",
            "an unsigned token (alg none) is never accepted",
        ));
    }
    let alg = alg.parse().map_err(|_| {
        refused(
            "server-rejected-token",
            format!("the algorithm {alg:?} is not accepted"),
        )
    })?;
    let kid = head.get("kid").and_then(|k| k.as_str()).map(String::from);
    Ok((alg, kid))
}

/// A claim as a list of strings: an array of strings, or one space-separated string.
fn strings(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str())
            .map(String::from)
            .collect(),
        Some(serde_json::Value::String(s)) => s.split_whitespace().map(String::from).collect(),
        _ => Vec::new(),
    }
}

/// The key set from its source.
async fn fetch(source: &Source, client: &crate::proxy::HttpClient) -> Result<JwkSet, String> {
    let bytes = match source {
        Source::File(p) => tokio::fs::read(p)
            .await
            .map_err(|e| format!("the JWKS {}: {e}", p.display()))?,
        Source::Url(u) => client
            .get_bytes(u, Duration::from_secs(10), 1 << 20)
            .await
            .map_err(|e| format!("the JWKS {u}: {e}"))?,
    };
    let set: JwkSet =
        serde_json::from_slice(&bytes).map_err(|e| format!("the JWKS does not parse: {e}"))?;
    if set.keys.is_empty() {
        return Err("the JWKS has no keys".into());
    }
    Ok(set)
}

/// The `amr` values (RFC 8176) that are something the user has or is: one of them with
/// another method is a second factor.
const STRONG_AMR: [&str; 11] = [
    "otp", "hwk", "swk", "sc", "fpt", "face", "iris", "retina", "vbm", "sms", "tel",
];

/// When the token's user gave a second factor, by its `amr` (RFC 8176): `mfa`, or a method the
/// user has or is (`otp`, `hwk`, `fpt`, …) beside another; at `auth_time` (OpenID Connect),
/// else `iat`. A token that says neither gave it at no known time (0): a two-factor rule takes
/// it, a step-up does not.
fn second_factor_at(claims: &serde_json::Value) -> Option<i64> {
    let amr = strings(claims.get("amr"));
    let distinct: std::collections::BTreeSet<&str> = amr.iter().map(String::as_str).collect();
    let strong = distinct.iter().any(|m| STRONG_AMR.contains(m));
    if !(distinct.contains("mfa") || (strong && distinct.len() >= 2)) {
        return None;
    }
    Some(
        claims
            .get("auth_time")
            .or_else(|| claims.get("iat"))
            .and_then(|v| v.as_i64())
            .unwrap_or(0),
    )
}
