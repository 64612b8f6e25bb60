//! JWTs: every header field and claim in plain words, and the token judged against the
//! clock and the user's expectations.

use serde_json::Value;
use why401_catalogue::Severity;
use why401_wire::jwt::{self, Jws, Jwt, JwtProblem};

use super::{Context, Item, secret};
use crate::time::{relative, timestamp};
use crate::{Finding, FindingId};

/// What header fields and claims mean.
const MEANINGS: &[(&str, &str)] = &[
    ("alg", "signature algorithm"),
    ("typ", "token type (at+jwt = access token, RFC 9068)"),
    (
        "kid",
        "which of the issuer's keys signed it (look it up in the JWKS)",
    ),
    ("x5t", "thumbprint of the signing certificate"),
    ("enc", "content encryption (JWE)"),
    ("iss", "issuer: who made the token"),
    ("sub", "subject: who the token is about"),
    ("aud", "audience: which API the token is for"),
    ("exp", "expires"),
    ("nbf", "not valid before"),
    ("iat", "issued at"),
    ("auth_time", "when the user signed in"),
    ("jti", "unique token id"),
    ("scope", "granted scopes"),
    ("scp", "granted scopes (Microsoft/Okta)"),
    ("roles", "app roles (application permissions)"),
    (
        "azp",
        "authorized party: the client the token was issued to",
    ),
    ("appid", "Entra ID v1: the client application id"),
    ("client_id", "the OAuth client the token was issued to"),
    ("tid", "Entra ID tenant"),
    ("oid", "Entra ID object id of the user or service principal"),
    ("upn", "user principal name"),
    ("preferred_username", "the user's sign-in name"),
    ("ver", "token format version (Entra ID 1.0 or 2.0)"),
    ("acr", "authentication context class (e.g. MFA level)"),
    ("amr", "authentication methods used (pwd, mfa, otp, ...)"),
    ("nonce", "OpenID Connect nonce: this is an ID token"),
    ("at_hash", "access-token hash: this is an ID token"),
    (
        "cnf",
        "confirmation: the key the token is bound to (DPoP / mTLS)",
    ),
];

/// What an Entra ID claim's value says, where the catalogue knows more than the claim's name.
fn entra_note(name: &str, v: &Value) -> Option<String> {
    let cat = why401_catalogue::catalogue();
    let text = v.as_str().unwrap_or_default();
    match name {
        "aud" | "appid" | "azp" => {
            let app = cat.app(text)?;
            Some(format!(
                "{}: {}",
                meaning(name).unwrap_or_default(),
                app.name
            ))
        }
        "iss" if text.starts_with("https://sts.windows.net/") => Some(
            "Entra ID v1 issuer (sts.windows.net/{tenant}/): an API expecting v2 tokens refuses it (accessTokenAcceptedVersion)".into(),
        ),
        "iss" if text.starts_with("https://login.microsoftonline.com/") && text.ends_with("/v2.0") => {
            Some("Entra ID v2 issuer (login.microsoftonline.com/{tenant}/v2.0)".into())
        }
        "amr" => {
            let methods: Vec<&str> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Some(if methods.contains(&"mfa") {
                "authentication methods: MFA was done".into()
            } else {
                "authentication methods: no MFA (a policy that requires it refuses this token)".into()
            })
        }
        "xms_cc" => Some(
            "client capabilities: cp1 = the client handles CAE claims challenges (and may get long-lived tokens)".into(),
        ),
        "idtyp" => Some(format!(
            "token for {}",
            if text == "app" { "an application (no user)" } else { "a user" }
        )),
        "acrs" => Some("authentication contexts the sign-in met (conditional access step-up)".into()),
        "wids" => Some("the user's Entra directory roles (template ids)".into()),
        _ => None,
    }
}

/// An Entra ID access token in one line: resource, tenant, version, permission kind.
fn entra_summary(j: &Jws) -> Option<(String, String)> {
    let iss = j.str_claim("iss")?;
    if !(iss.contains("sts.windows.net") || iss.contains("login.microsoftonline.com")) {
        return None;
    }
    let cat = why401_catalogue::catalogue();
    let aud = j.str_claim("aud").unwrap_or_default();
    let resource = cat.app(aud).map_or(aud.to_string(), |a| a.name.clone());
    let version = j.str_claim("ver").unwrap_or_default();
    let kind = if j.claims.contains_key("scp") {
        "delegated permissions (scp): a user's token"
    } else if j.claims.contains_key("roles") {
        "application permissions (roles): an app's own token"
    } else {
        "no permissions"
    };
    let tenant = j.str_claim("tid").unwrap_or_default();
    Some((
        format!("access token for {resource}, tenant {tenant}, v{version}"),
        kind.to_string(),
    ))
}

fn meaning(name: &str) -> Option<&'static str> {
    MEANINGS.iter().find(|(n, _)| *n == name).map(|(_, m)| *m)
}

fn alg_note(alg: &str) -> &'static str {
    match alg {
        "none" => "NONE: unsigned, anyone could have written it",
        a if a.starts_with("HS") => "HMAC with a shared secret",
        a if a.starts_with("RS") => "RSA PKCS#1 v1.5 signature",
        a if a.starts_with("PS") => "RSA-PSS signature",
        a if a.starts_with("ES") => "ECDSA signature",
        "EdDSA" | "Ed25519" => "Edwards-curve signature",
        _ => "unrecognised algorithm",
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(show).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

/// Decodes a JWT.
pub(super) fn jwt(token: &str, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    let shown = if ctx.show_secrets {
        token.to_string()
    } else {
        without_signature(token)
    };
    match jwt::decode(token) {
        Ok(Jwt::Signed(j)) => signed(&j, shown, ctx, findings),
        Ok(Jwt::Encrypted { header }) => {
            let mut item = Item::new("JWE (encrypted JWT)", shown);
            for (k, v) in &header {
                match meaning(k) {
                    Some(m) => item.noted(format!("header.{k}"), show(v), m),
                    None => item.field(format!("header.{k}"), show(v)),
                }
            }
            findings.push(Finding::new(FindingId::TOKEN_ENCRYPTED).confidence(0.4));
            item
        }
        Err(e) => {
            let mut item = Item::new("JWT", secret(token, ctx));
            item.noted(
                "problem",
                e.to_string(),
                "the token was probably truncated or altered in transit",
            );
            findings.push(
                Finding::new(FindingId::MALFORMED_CREDENTIALS)
                    .title(format!("the token is not a readable JWT: {e}"))
                    .confidence(0.8),
            );
            item
        }
    }
}

/// `header.payload.` — the signature dropped, as the output contract redacts tokens.
fn without_signature(token: &str) -> String {
    match token.rsplit_once('.') {
        Some((head, sig)) if !sig.is_empty() => format!("{head}.(signature redacted)"),
        _ => token.to_string(),
    }
}

fn signed(j: &Jws, shown: String, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    let mut item = Item::new("JWT", shown);
    for (k, v) in &j.header {
        let note = if k == "alg" {
            Some(alg_note(&show(v)))
        } else {
            meaning(k)
        };
        match note {
            Some(n) => item.noted(format!("header.{k}"), show(v), n),
            None => item.field(format!("header.{k}"), show(v)),
        }
    }
    for (k, v) in &j.claims {
        if matches!(k.as_str(), "exp" | "nbf" | "iat" | "auth_time")
            && let Some(t) = j.time_claim(k)
        {
            let m = meaning(k).unwrap_or_default();
            item.noted(
                k,
                format!("{} ({})", timestamp(t), relative(t, ctx.now)),
                format!("{m}; {t}"),
            );
            continue;
        }
        match entra_note(k, v).or_else(|| meaning(k).map(String::from)) {
            Some(m) => item.noted(k, show(v), m),
            None => item.field(k, show(v)),
        }
    }
    if let Some(summary) = entra_summary(j) {
        item.noted("Entra ID", summary.0, summary.1);
    }
    item.field("signature", format!("{} bytes", j.signature_len));
    judge(j, ctx, findings);
    item
}

fn judge(j: &Jws, ctx: &Context, findings: &mut Vec<Finding>) {
    let subject = j
        .str_claim("sub")
        .or(j.str_claim("upn"))
        .unwrap_or("the token");
    for p in j.problems(ctx.now, ctx.leeway) {
        let f = match p {
            JwtProblem::AlgNone => Finding::new(FindingId::JWT_ALG_NONE)
                .evidence("header.alg = none")
                .confidence(0.9),
            JwtProblem::MissingAlg => Finding::new(FindingId::MALFORMED_CREDENTIALS)
                .title("the JWT header has no alg")
                .confidence(0.7),
            JwtProblem::EmptySignature => Finding::new(FindingId::MALFORMED_CREDENTIALS)
                .title(format!(
                    "the JWT says alg={} but carries no signature",
                    j.alg().unwrap_or("?")
                ))
                .evidence("the third part is empty: the token was cut off")
                .confidence(0.8),
            JwtProblem::Expired { exp, ago } => Finding::new(FindingId::TOKEN_EXPIRED)
                .title(format!(
                    "the token expired {} ago",
                    crate::time::duration(ago)
                ))
                .evidence(format!("exp = {exp} = {}", timestamp(exp)))
                .evidence(format!("now (local clock) = {}", timestamp(ctx.now)))
                .evidence(lifetime(j))
                .confidence(0.95),
            JwtProblem::NotYetValid { nbf, in_secs } => {
                Finding::new(FindingId::TOKEN_NOT_YET_VALID)
                    .title(format!(
                        "the token is not valid for another {}",
                        crate::time::duration(in_secs)
                    ))
                    .evidence(format!("nbf = {nbf} = {}", timestamp(nbf)))
                    .evidence(format!("now (local clock) = {}", timestamp(ctx.now)))
                    .confidence(0.9)
            }
            JwtProblem::IssuedInFuture { iat, ahead } => Finding::new(FindingId::CLOCK_SKEW)
                .title(format!(
                    "the token was issued {} in the future: the issuer's clock runs ahead",
                    crate::time::duration(ahead)
                ))
                .evidence(format!("iat = {iat} = {}", timestamp(iat)))
                .evidence(format!("now (local clock) = {}", timestamp(ctx.now)))
                .confidence(0.7),
            JwtProblem::NoExpiry => Finding::new(FindingId::TOKEN_WITHOUT_EXPIRY)
                .evidence(format!("no exp claim in {subject}'s token"))
                .confidence(0.3),
            JwtProblem::NotNumericDate { claim } => Finding::new(FindingId::MALFORMED_CREDENTIALS)
                .title(format!(
                    "`{claim}` is not a NumericDate (seconds since 1970)"
                ))
                .evidence(format!(
                    "{claim} = {}",
                    j.claims.get(claim).map(show).unwrap_or_default()
                ))
                .confidence(0.7),
            JwtProblem::LooksLikeIdToken => Finding::new(FindingId::ID_TOKEN_AS_ACCESS_TOKEN)
                .evidence(
                    "the token carries nonce/at_hash, which only OpenID Connect ID tokens have",
                )
                .confidence(0.5),
        };
        findings.push(f);
    }
    expectations(j, ctx, findings);
}

fn lifetime(j: &Jws) -> String {
    match (j.time_claim("iat"), j.time_claim("exp")) {
        (Some(iat), Some(exp)) => format!(
            "issued {} for a lifetime of {}",
            timestamp(iat),
            crate::time::duration(exp - iat)
        ),
        _ => "no iat claim: the token's lifetime is unknown".into(),
    }
}

fn expectations(j: &Jws, ctx: &Context, findings: &mut Vec<Finding>) {
    if let Some(want) = &ctx.expect.audience {
        let auds = j.audiences();
        // Microsoft's resources are known by app id and by URI: either names the same one.
        let cat = why401_catalogue::catalogue();
        let want_app = cat.app(want);
        let same_app =
            |a: &String| want_app.is_some_and(|w| cat.app(a).is_some_and(|x| x.id == w.id));
        let name = |a: &str| match cat.app(a) {
            Some(app) => format!("{a} ({})", app.name),
            None => a.to_string(),
        };
        if !auds.iter().any(|a| a == want || same_app(a)) {
            findings.push(
                Finding::new(FindingId::TOKEN_AUDIENCE_MISMATCH)
                    .title(format!(
                        "the token is for {}, not {}",
                        if auds.is_empty() {
                            "no audience".into()
                        } else {
                            auds.iter().map(|a| name(a)).collect::<Vec<_>>().join(", ")
                        },
                        name(want)
                    ))
                    .evidence(format!(
                        "aud = {}",
                        if auds.is_empty() {
                            "(absent)".into()
                        } else {
                            auds.join(", ")
                        }
                    ))
                    .evidence(format!("expected (--expect-audience) = {want}"))
                    .confidence(0.9),
            );
        }
    }
    if let Some(want) = &ctx.expect.issuer {
        let iss = j.str_claim("iss").unwrap_or("(absent)");
        if iss.trim_end_matches('/') != want.trim_end_matches('/') {
            let mut f = Finding::new(FindingId::TOKEN_ISSUER_MISMATCH)
                .title(format!("the token was issued by {iss}, not {want}"))
                .evidence(format!("iss = {iss}"))
                .evidence(format!("expected (--expect-issuer) = {want}"))
                .confidence(0.9);
            // Entra ID's two token versions for the same tenant: the API's app registration
            // decides which one it gets.
            let version = |i: &str| {
                if i.starts_with("https://sts.windows.net/") {
                    Some(1)
                } else if i.starts_with("https://login.microsoftonline.com/")
                    && i.trim_end_matches('/').ends_with("/v2.0")
                {
                    Some(2)
                } else {
                    None
                }
            };
            let tenant = |i: &str| i.split('/').nth(3).map(str::to_ascii_lowercase);
            if let (Some(have), Some(want_v)) = (version(iss), version(want))
                && have != want_v
                && tenant(iss) == tenant(want)
            {
                f = f
                    .title(format!(
                        "the token is an Entra ID v{have} token, the API expects v{want_v} tokens (same tenant)"
                    ))
                    .fix_first(format!(
                        "In the API's app registration (Manifest), set \"accessTokenAcceptedVersion\": {} (v{} tokens are issued to it), or make the API accept the v{have} issuer {iss}.",
                        if want_v == 2 { "2" } else { "null or 1" },
                        want_v
                    ));
            }
            findings.push(f);
        }
    }
    let granted = j.scopes();
    let roles = j.roles();
    let missing: Vec<&String> = ctx
        .expect
        .scopes
        .iter()
        .filter(|s| !granted.contains(s) && !roles.contains(s))
        .collect();
    // Delegated permissions travel in scp (a user's token), application permissions in roles
    // (an app's own token): an API checks one or the other.
    let kind = match (granted.is_empty(), roles.is_empty()) {
        (false, _) => {
            "a delegated token (scp: the permissions the user consented to the app using on their behalf)"
        }
        (true, false) => {
            "an application token (roles: the app's own permissions, no user; it never carries scp)"
        }
        (true, true) => "a token with neither scp nor roles",
    };
    if !missing.is_empty() {
        let missing_list = missing
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        findings.push(
            Finding::new(FindingId::INSUFFICIENT_SCOPE)
                .title(format!("the token lacks {missing_list}"))
                .evidence(format!(
                    "granted: {}",
                    if granted.is_empty() {
                        "(no scope/scp claim)".into()
                    } else {
                        granted.join(" ")
                    }
                ))
                .evidence(format!(
                    "roles: {}",
                    if roles.is_empty() {
                        "(none)".into()
                    } else {
                        roles.join(" ")
                    }
                ))
                .evidence(format!("this is {kind}"))
                .evidence(format!(
                    "expected (--expect-scope): {}",
                    ctx.expect.scopes.join(" ")
                ))
                .severity(Severity::Error)
                .confidence(0.9),
        );
    }
    // Present, but as an application permission: an API that checks scp refuses it.
    let as_role: Vec<&String> = ctx
        .expect
        .scopes
        .iter()
        .filter(|s| roles.contains(s) && !granted.contains(s))
        .collect();
    if !as_role.is_empty() && granted.is_empty() {
        let list = as_role
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        findings.push(
            Finding::new(FindingId::INSUFFICIENT_SCOPE)
                .title(format!(
                    "{list} is in the token as an application permission (roles), not a delegated scope (scp)"
                ))
                .evidence(format!("roles: {}", roles.join(" ")))
                .evidence(format!("this is {kind}"))
                .fix_first("If the API acts for a signed-in user, get a delegated token (authorization code or on-behalf-of flow) with that scope; if it is meant for daemons, the API must check roles, not scp.")
                .severity(Severity::Warning)
                .confidence(0.5),
        );
    }
}
