//! Challenges (`WWW-Authenticate`, `Proxy-Authenticate`) and credentials (`Authorization`).

use why401_catalogue::Severity;
use why401_wire::bearer::{BearerChallenge, BearerErrorCode};
use why401_wire::challenge::{self, Challenge};
use why401_wire::digest::DigestChallenge;
use why401_wire::entra::ClaimsChallenge;
use why401_wire::{basic, credentials, jwt as wire_jwt};

use super::{Context, Item, jwt, secret, windows};
use crate::{Finding, FindingId};

/// Auth schemes of the IANA registry and common practice.
const SCHEMES: &[&str] = &[
    "Basic",
    "Bearer",
    "Digest",
    "DPoP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "Kerberos",
    "OAuth",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
    "AWS4-HMAC-SHA256",
    "PrivateToken",
    "Concealed",
];

/// Whether `word` is an auth scheme name decode knows.
pub(super) fn is_known_scheme(word: &str) -> bool {
    SCHEMES.iter().any(|s| s.eq_ignore_ascii_case(word))
}

/// What auth parameters mean, for the field notes.
const PARAMS: &[(&str, &str)] = &[
    (
        "realm",
        "the protection space; credentials for one realm are not sent to another",
    ),
    (
        "charset",
        "the encoding the server expects user names and passwords in",
    ),
    (
        "nonce",
        "the server's one-time value the Digest response is computed over",
    ),
    ("opaque", "echoed back unchanged by the client"),
    ("algorithm", "the hash the Digest response uses"),
    (
        "qop",
        "quality of protection: auth (headers) or auth-int (headers and body)",
    ),
    (
        "stale",
        "true: the nonce expired but the credentials were right — retry with the new nonce",
    ),
    ("userhash", "true: the client may send the user name hashed"),
    ("domain", "the URIs this Digest realm covers"),
    ("error", "the OAuth 2 error code (RFC 6750 §3.1)"),
    (
        "error_description",
        "the server's own words about the error",
    ),
    ("error_uri", "a page that explains the error"),
    ("scope", "the scopes the resource requires"),
    (
        "acr_values",
        "the authentication context (e.g. MFA) the resource requires (RFC 9470)",
    ),
    (
        "max_age",
        "how recent, in seconds, the user's authentication must be (RFC 9470)",
    ),
    (
        "algs",
        "the signature algorithms accepted for DPoP proofs (RFC 9449)",
    ),
    (
        "resource_metadata",
        "where this resource's OAuth metadata is published (RFC 9728)",
    ),
    (
        "authorization_uri",
        "the Entra ID / Azure AD endpoint to get a token from",
    ),
    (
        "resource_id",
        "the Entra ID application the token must be issued for (its audience)",
    ),
    ("trusted_issuers", "the token issuers this resource accepts"),
    (
        "claims",
        "the claims the next token must carry, base64 JSON (Entra ID Continuous Access Evaluation or an authentication context)",
    ),
    (
        "client_id",
        "the Entra ID application that answered (the resource's app id)",
    ),
];

fn param_note(name: &str) -> Option<&'static str> {
    PARAMS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, d)| *d)
}

/// Decides whether a bare `Scheme rest` is credentials (else a challenge).
pub(super) fn looks_like_credentials(scheme: &str, rest: &str) -> bool {
    if rest.is_empty() {
        return false;
    }
    let parsed = challenge::parse_one(&format!("{scheme} {rest}"));
    let first = parsed.challenges.first();
    if scheme.eq_ignore_ascii_case("Digest") {
        return first
            .is_some_and(|c| c.param("username").is_some() || c.param("response").is_some());
    }
    if scheme.eq_ignore_ascii_case("NTLM") || scheme.eq_ignore_ascii_case("Negotiate") {
        // A CHALLENGE (type 2) or a SPNEGO response comes from the server.
        return !windows::is_server_token(rest);
    }
    // A token68 (or something meant as one) is credentials; `realm=`/`error=` is a challenge.
    first.is_none_or(|c| c.params.is_empty())
}

/// Decodes a challenge header.
pub(super) fn challenges(
    header: &str,
    value: &str,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) -> Item {
    let parsed = challenge::parse_one(value);
    let mut item = Item::new(header, value);
    item.field(
        "schemes offered",
        if parsed.challenges.is_empty() {
            "none".into()
        } else {
            parsed.schemes().join(", ")
        },
    );
    for c in &parsed.challenges {
        item.children.push(one_challenge(c, ctx, findings));
    }
    if parsed.challenges.is_empty() {
        findings.push(
            Finding::new(FindingId::MISSING_WWW_AUTHENTICATE)
                .title(format!("{header} carries no challenge at all"))
                .evidence(format!("{header}: {value}"))
                .confidence(0.8),
        );
    }
    let harmful: Vec<_> = parsed.lints.iter().filter(|l| l.is_harmful()).collect();
    let harmless: Vec<_> = parsed.lints.iter().filter(|l| !l.is_harmful()).collect();
    if !harmful.is_empty() {
        let mut f = Finding::new(FindingId::MALFORMED_CHALLENGE)
            .title(format!(
                "the {header} header does not follow RFC 9110 §11 syntax"
            ))
            .evidence(format!("{header}: {value}"))
            .confidence(0.7);
        for l in harmful {
            f = f.evidence(format!("[{}] {l}", l.code()));
        }
        // The canonical form lacks what the parser had to drop, so it is no fix then; the
        // lint itself says how to write the dropped part.
        if !parsed.lints.iter().any(|l| l.drops_text()) {
            f = f.fix_first(format!(
                "send it as: {header}: {}",
                parsed.to_header_value()
            ));
        }
        findings.push(f);
    }
    if !harmless.is_empty() {
        let mut f = Finding::new(FindingId::MALFORMED_CHALLENGE)
            .title(format!("the {header} header is valid but unusual"))
            .severity(Severity::Info)
            .confidence(0.3);
        for l in harmless {
            f = f.evidence(format!("[{}] {l}", l.code()));
        }
        findings.push(f);
    }
    item
}

fn one_challenge(c: &Challenge, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    let mut item = Item::new(format!("{} challenge", c.scheme), c.to_string());
    item.noted("scheme", &c.scheme, scheme_note(&c.scheme));
    for p in &c.params {
        match param_note(&p.name) {
            Some(n) => item.noted(&p.name, &p.value, n),
            None => item.field(&p.name, &p.value),
        }
    }
    if let Some(t) = &c.token68 {
        if c.is("NTLM") || c.is("Negotiate") {
            match windows::negotiate_token(t, ctx, findings, Some(&c.scheme)) {
                Ok(child) => item.children.push(child),
                Err(e) => item.noted("token", t, e),
            }
        } else {
            item.field("token68", t);
        }
    }
    if c.is("Digest") {
        digest_challenge(c, &mut item, findings);
    }
    if let Some(b) = BearerChallenge::from_challenge(c) {
        bearer_challenge(&b, c, findings);
    }
    item
}

fn scheme_note(scheme: &str) -> &'static str {
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => "user name and password, base64-encoded (not encrypted): RFC 7617",
        "digest" => "a hash of the password over a server nonce: RFC 7616",
        "bearer" => "an OAuth 2 access token: RFC 6750",
        "dpop" => "an access token bound to a key, with a signed proof per request: RFC 9449",
        "negotiate" => "SPNEGO: Kerberos when a ticket is available, otherwise NTLM: RFC 4559",
        "ntlm" => "Windows challenge/response, bound to one TCP connection: MS-NLMP",
        _ => "an authentication scheme",
    }
}

fn digest_challenge(c: &Challenge, item: &mut Item, findings: &mut Vec<Finding>) {
    match DigestChallenge::from_challenge(c) {
        Ok(d) => {
            if d.algorithm.is_md5() {
                findings.push(
                    Finding::new(FindingId::WEAK_DIGEST_ALGORITHM)
                        .title(format!("Digest with {} only", d.algorithm))
                        .evidence(format!("algorithm={} (MD5 when absent)", d.algorithm))
                        .severity(Severity::Info)
                        .confidence(0.3),
                );
            }
            if d.qop.is_empty() {
                findings.push(
                    Finding::new(FindingId::WEAK_DIGEST_ALGORITHM)
                        .title("Digest without qop: the legacy RFC 2069 computation")
                        .evidence("no qop parameter: no client nonce, no replay protection")
                        .severity(Severity::Info)
                        .confidence(0.3),
                );
            }
            if d.stale {
                findings.push(
                    Finding::new(FindingId::STALE_NONCE)
                        .evidence("stale=true: the nonce expired; the credentials themselves were accepted")
                        .confidence(0.7),
                );
            }
        }
        Err(e) => item.noted(
            "problem",
            e.to_string(),
            "no client can answer this challenge",
        ),
    }
}

fn bearer_challenge(b: &BearerChallenge, c: &Challenge, findings: &mut Vec<Finding>) {
    let quoted = format!("WWW-Authenticate: {c}");
    let description = b.error_description.clone().unwrap_or_default();
    match &b.error {
        Some(BearerErrorCode::InvalidToken) => findings.push(
            Finding::new(FindingId::SERVER_REJECTED_TOKEN)
                .title(if description.is_empty() {
                    "the server rejected the token (invalid_token)".to_string()
                } else {
                    format!("the server rejected the token: {description}")
                })
                .evidence(quoted)
                .confidence(0.8),
        ),
        Some(BearerErrorCode::InsufficientScope) => findings.push(
            Finding::new(FindingId::INSUFFICIENT_SCOPE)
                .title(if b.scope.is_empty() {
                    "the token lacks a scope the resource requires".to_string()
                } else {
                    format!(
                        "the token lacks the scope the resource requires: {}",
                        b.scope.join(" ")
                    )
                })
                .evidence(quoted)
                .confidence(0.8),
        ),
        Some(BearerErrorCode::InsufficientUserAuthentication) => {
            let mut f = Finding::new(FindingId::STEP_UP_REQUIRED)
                .evidence(quoted)
                .confidence(0.8);
            if !b.acr_values.is_empty() {
                f = f.evidence(format!("acr_values: {}", b.acr_values.join(" ")));
            }
            if let Some(m) = b.max_age {
                f = f.evidence(format!(
                    "max_age: the sign-in must be at most {} old",
                    crate::time::duration(m as i64)
                ));
            }
            findings.push(f);
        }
        Some(BearerErrorCode::UseDpopNonce) | Some(BearerErrorCode::InvalidDpopProof) => findings
            .push(
                Finding::new(FindingId::DPOP_REQUIRED)
                    .evidence(quoted)
                    .confidence(0.7),
            ),
        Some(BearerErrorCode::InvalidRequest) => findings.push(
            Finding::new(FindingId::MALFORMED_CREDENTIALS)
                .title("the server says the request is malformed (invalid_request)")
                .evidence(quoted)
                .confidence(0.6),
        ),
        Some(BearerErrorCode::Other(code)) if code == "insufficient_claims" => {
            claims_challenge(b, quoted, findings)
        }
        Some(BearerErrorCode::Other(code)) => findings.push(
            Finding::new(FindingId::SERVER_REJECTED_TOKEN)
                .title(format!("the server refused with error={code}"))
                .evidence(quoted)
                .confidence(0.5),
        ),
        None if b.is_dpop() => findings.push(
            Finding::new(FindingId::DPOP_REQUIRED)
                .severity(Severity::Info)
                .evidence(quoted)
                .confidence(0.4),
        ),
        None => {}
    }
}

/// Entra ID's `error="insufficient_claims"` with a `claims` parameter: Continuous Access
/// Evaluation revoked the token (a `nbf` claim), or conditional access wants an authentication
/// context (an `acrs` claim).
fn claims_challenge(b: &BearerChallenge, quoted: String, findings: &mut Vec<Finding>) {
    let claims = b
        .extra
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("claims"))
        .map(|(_, v)| v.as_str());
    let Some(c) = claims.and_then(ClaimsChallenge::parse) else {
        findings.push(
            Finding::new(FindingId::TOKEN_REVOKED_CAE)
                .title(match claims {
                    Some(_) => "the resource wants more claims, and its claims value cannot be read",
                    None => "the resource wants more claims (insufficient_claims) but sent no claims value",
                })
                .evidence(quoted)
                .confidence(0.6),
        );
        return;
    };
    let app = b
        .extra
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("client_id"))
        .map(|(_, v)| v.clone());
    if !c.auth_contexts.is_empty() {
        findings.push(
            Finding::new(FindingId::STEP_UP_REQUIRED)
                .title(format!(
                    "conditional access wants the authentication context {}: sign in again to meet it",
                    c.auth_contexts.join(", ")
                ))
                .evidence(quoted)
                .evidence(format!("claims: {}", c.json))
                .confidence(0.85),
        );
        return;
    }
    let mut f = Finding::new(FindingId::TOKEN_REVOKED_CAE)
        .title(match c.not_before {
            Some(t) => format!(
                "the token was revoked by Continuous Access Evaluation: tokens issued before {} are refused",
                crate::time::timestamp(t)
            ),
            None => "the resource refused the token until it carries the claims it names".into(),
        })
        .evidence(quoted)
        .evidence(format!("claims (decoded): {}", c.json))
        .confidence(0.9);
    if let Some(app) = app {
        let name = why401_catalogue::catalogue()
            .app(&app)
            .map(|a| format!("{} ({app})", a.name))
            .unwrap_or(app);
        f = f.evidence(format!("answered by {name}"));
    }
    findings.push(f);
}

/// Decodes credentials.
pub(super) fn credentials(
    header: &str,
    value: &str,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) -> Item {
    let creds = credentials::parse(value);
    let shown = if ctx.show_secrets {
        value.trim().to_string()
    } else {
        creds.redacted()
    };
    let mut item = Item::new(header, shown.clone());
    item.noted("scheme", &creds.scheme, scheme_note(&creds.scheme));
    if !creds.lints.is_empty() {
        let mut f = Finding::new(FindingId::MALFORMED_CREDENTIALS)
            .title(format!("the {header} value is not well formed"))
            .evidence(format!("{header}: {shown}"))
            // A server that cannot parse the header refuses before it judges anything else.
            .confidence(0.97);
        for l in &creds.lints {
            f = f.evidence(format!("[{}] {l}", l.code()));
        }
        if let Some(t) = credentials::intended_token(&creds) {
            f = f.fix_first(format!(
                "send exactly: {header}: {} {}",
                creds.scheme,
                secret(t, ctx)
            ));
        }
        findings.push(f);
    }
    let token = credentials::intended_token(&creds).map(str::to_string);
    if creds.is("Basic") {
        if let Some(t) = token {
            basic_fields(&t, header, &mut item, ctx, findings);
        }
    } else if creds.is("Bearer") || creds.is("DPoP") {
        if let Some(t) = token {
            item.field("token", secret(&t, ctx));
            if wire_jwt::looks_like_jwt(&t) {
                item.children.push(jwt::jwt(&t, ctx, findings));
            } else {
                item.noted("format", "opaque", "not a JWT: only the issuer can tell what it means (token introspection, RFC 7662)");
            }
        }
    } else if creds.is("NTLM") || creds.is("Negotiate") {
        if let Some(t) = token {
            match windows::negotiate_token(&t, ctx, findings, Some(&creds.scheme)) {
                Ok(child) => item.children.push(child),
                Err(e) => {
                    item.noted("token", secret(&t, ctx), e.clone());
                    findings.push(
                        Finding::new(FindingId::MALFORMED_CREDENTIALS)
                            .title(format!("the {} token cannot be decoded", creds.scheme))
                            .evidence(e)
                            .confidence(0.7),
                    );
                }
            }
        }
    } else if creds.is("Digest") {
        for p in &creds.params {
            let v = if p.name.eq_ignore_ascii_case("response") {
                secret(&p.value, ctx)
            } else {
                p.value.clone()
            };
            match param_note(&p.name) {
                Some(n) => item.noted(&p.name, v, n),
                None => item.field(&p.name, v),
            }
        }
        if let Err(e) = why401_wire::digest::ReceivedDigest::from_credentials(&creds) {
            findings.push(
                Finding::new(FindingId::MALFORMED_CREDENTIALS)
                    .title(format!("the Digest response is incomplete: {e}"))
                    .evidence(format!("{header}: {shown}"))
                    .confidence(0.8),
            );
        }
    } else if let Some(t) = token {
        item.field("token", secret(&t, ctx));
    }
    item
}

fn basic_fields(
    token: &str,
    header: &str,
    item: &mut Item,
    ctx: &Context,
    findings: &mut Vec<Finding>,
) {
    match basic::decode(token) {
        Ok(b) => {
            // Debug formatting shows control characters and stray spaces.
            item.field("user", format!("{:?}", b.user));
            let pw = if ctx.show_secrets {
                b.password.clone()
            } else {
                format!("({} characters, redacted; --show-secrets to see)", b.password.chars().count())
            };
            item.field("password", pw);
            if !b.lints.is_empty() {
                let mut f = Finding::new(FindingId::MALFORMED_CREDENTIALS)
                    .title("the Basic credentials decode, but something is off")
                    .confidence(0.6);
                for l in &b.lints {
                    f = f.evidence(l.to_string());
                }
                findings.push(f);
            }
        }
        Err(e) => findings.push(
            Finding::new(FindingId::MALFORMED_CREDENTIALS)
                .title("the Basic token is not base64 of user:password")
                .evidence(format!("{header}: Basic {}", secret(token, ctx)))
                .evidence(e.to_string())
                .fix_first("encode exactly `user:password` in UTF-8 with standard base64, e.g. `printf '%s' 'alice:s3cret' | base64`")
                .confidence(0.9),
        ),
    }
}
