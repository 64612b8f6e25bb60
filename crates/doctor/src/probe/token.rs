//! Bearer tokens: the token judged against the local clock and the server's `Date`, and what
//! the server's Bearer challenge says.

use why401_wire::bearer::{BearerChallenge, BearerErrorCode};
use why401_wire::{challenge, credentials, jwt};

use super::{last, quoted};
use crate::decode::{Context, Expectations, decode_text};
use crate::time::{duration, timestamp};
use crate::{Finding, FindingId, Severity};
use why401_evidence::ProbeEvidence;

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some((e, r)) = last(ev) else { return };
    let sent_bearer = e
        .request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| credentials::parse(v))
        .filter(|c| c.is("Bearer") || c.is("DPoP"));
    let server_date = r
        .header("date")
        .and_then(|d| httpdate::parse_http_date(d).ok())
        .map(unix);
    let explained = r
        .headers_named("www-authenticate")
        .flat_map(|v| challenge::parse_one(v).challenges)
        .filter_map(|c| BearerChallenge::from_challenge(&c))
        .any(|b| b.error.is_some());
    if let Some(c) = &sent_bearer
        && let Some(t) = credentials::intended_token(c)
    {
        judge_token(ev, t, server_date, r.status, explained, out);
    }
    if let Some(t) = sent_bearer.as_ref().and_then(credentials::intended_token) {
        microsoft_resource(ev, t, out);
    }
    microsoft_answer(ev, e, r, out);
    // What the server said about the token, on the final response.
    for v in r.headers_named("www-authenticate") {
        for ch in challenge::parse_one(v).challenges {
            let Some(b) = BearerChallenge::from_challenge(&ch) else {
                continue;
            };
            if let Some(t) = sent_bearer.as_ref().and_then(credentials::intended_token) {
                against_challenge(ev, t, &b, out);
            }
            let d = decode_text(
                &quoted("WWW-Authenticate", v),
                &Context {
                    now: ev.now,
                    ..Context::default()
                },
            );
            for f in d
                .findings
                .into_iter()
                .filter(|f| f.id != "malformed-challenge" && f.id != "weak-digest-algorithm")
            {
                let mut f = f.evidence(format!(
                    "on {} {} → {}",
                    e.request.method, e.request.url, r.status
                ));
                // Which kind of permission the token carries, next to the scope the API asked
                // for: a delegated scope is never in an application token, and the reverse.
                if f.id == "insufficient-scope"
                    && let Some(kind) = sent_bearer
                        .as_ref()
                        .and_then(credentials::intended_token)
                        .and_then(permission_kind)
                {
                    f = f.evidence(kind);
                }
                out.push(
                    if sent_bearer.is_none() && f.id == "server-rejected-token" {
                        f.confidence(0.5)
                    } else {
                        f
                    },
                );
            }
            if r.status == 401 && b.error == Some(BearerErrorCode::InsufficientScope) {
                out.push(
                    Finding::new(FindingId::SHOULD_BE_403)
                        .title("the server answers insufficient_scope with 401; RFC 6750 §3.1 says 403")
                        .severity(Severity::Error)
                        .evidence(format!("{} {} with {}", r.version, r.status, quoted("WWW-Authenticate", v)))
                        .evidence("a 401 tells clients to re-authenticate; a new token with the same scopes will fail the same way")
                        .confidence(0.9),
                );
            }
        }
    }
}

/// An Entra ID (Azure AD) tenant in an authority URL or issuer: the path segment after the host.
fn tenant_of(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    let host = u.host_str()?;
    if !(host.ends_with("microsoftonline.com") || host == "sts.windows.net") {
        return None;
    }
    u.path_segments()?
        .next()
        .filter(|t| !t.is_empty())
        .map(|t| t.to_ascii_lowercase())
}

/// What the server's Bearer challenge says the token must be (Entra ID's `authorization_uri`
/// and `resource_id`), against what the token is.
fn against_challenge(ev: &ProbeEvidence, token: &str, b: &BearerChallenge, out: &mut Vec<Finding>) {
    let Ok(jwt::Jwt::Signed(j)) = jwt::decode(token) else {
        return;
    };
    let extra = |name: &str| {
        b.extra
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    };
    if let Some(authority) = extra("authorization_uri") {
        let want = tenant_of(&authority);
        let have = j
            .str_claim("tid")
            .map(str::to_ascii_lowercase)
            .or_else(|| j.str_claim("iss").and_then(tenant_of));
        if let (Some(want), Some(have)) = (want, have) {
            let both_ids = want.len() == 36 && have.len() == 36;
            if both_ids && want != have {
                out.push(
                    Finding::new(FindingId::TOKEN_ISSUER_MISMATCH)
                        .title(format!(
                            "the token comes from tenant {have}, but the API trusts tenant {want}"
                        ))
                        .evidence(format!(
                            "WWW-Authenticate: … authorization_uri=\"{authority}\""
                        ))
                        .evidence(format!(
                            "token iss = {}, tid = {}",
                            j.str_claim("iss").unwrap_or("?"),
                            j.str_claim("tid").unwrap_or("?")
                        ))
                        .evidence(format!("sent to {}", ev.target))
                        .severity(Severity::Error)
                        .confidence(0.9),
                );
            }
        }
    }
    // A Microsoft API's challenge names its own application (`client_id`): a token issued for
    // another Microsoft application is for the wrong resource.
    let cat = why401_catalogue::catalogue();
    if let Some(api) = extra("client_id").as_deref().and_then(|id| cat.app(id)) {
        let auds = j.audiences();
        let named: Vec<&why401_catalogue::App> = auds.iter().filter_map(|a| cat.app(a)).collect();
        if let Some(other) = named.first()
            && !named.iter().any(|a| a.id == api.id)
        {
            out.push(
                Finding::new(FindingId::TOKEN_AUDIENCE_MISMATCH)
                    .title(format!(
                        "the token is for {}, but the API is {}",
                        other.name, api.name
                    ))
                    .evidence(format!(
                        "WWW-Authenticate: … client_id=\"{}\" ({})",
                        api.id, api.name
                    ))
                    .evidence(format!("token aud = {}", auds.join(", ")))
                    .fix_first(format!(
                        "Request the token for {} (its resource {}), not for {}.",
                        api.name,
                        api.resources
                            .first()
                            .map_or(api.id.as_str(), String::as_str),
                        other.name
                    ))
                    .severity(Severity::Error)
                    .confidence(0.92),
            );
        }
    }
    if let Some(resource) = extra("resource_id").or_else(|| extra("resource")) {
        let auds = j.audiences();
        let matches = auds.iter().any(|a| {
            a == &resource
                || a.trim_start_matches("api://") == resource.trim_start_matches("api://")
        });
        if !auds.is_empty() && !matches {
            out.push(
                Finding::new(FindingId::TOKEN_AUDIENCE_MISMATCH)
                    .title(format!(
                        "the token is for {}, but the API is {resource}",
                        auds.join(", ")
                    ))
                    .evidence(format!("WWW-Authenticate: … resource_id=\"{resource}\""))
                    .evidence(format!("token aud = {}", auds.join(", ")))
                    .severity(Severity::Error)
                    .confidence(0.9),
            );
        }
    }
}

/// A token for one Microsoft resource sent to another: Graph's token to SharePoint, Exchange's
/// to Graph. Both are named through the catalogue's first-party applications.
fn microsoft_resource(ev: &ProbeEvidence, token: &str, out: &mut Vec<Finding>) {
    let Ok(jwt::Jwt::Signed(j)) = jwt::decode(token) else {
        return;
    };
    let Ok(target) = url::Url::parse(&ev.target) else {
        return;
    };
    let cat = why401_catalogue::catalogue();
    let origin = format!("{}://{}", target.scheme(), target.host_str().unwrap_or(""));
    let Some(api) = cat.app(&origin) else {
        return;
    };
    let auds = j.audiences();
    let named: Vec<&why401_catalogue::App> = auds.iter().filter_map(|a| cat.app(a)).collect();
    if auds.is_empty() || named.iter().any(|a| a.id == api.id) || named.is_empty() {
        return;
    }
    out.push(
        Finding::new(FindingId::TOKEN_AUDIENCE_MISMATCH)
            .title(format!(
                "the token is for {}, but it was sent to {} ({origin})",
                named[0].name, api.name
            ))
            .evidence(format!("token aud = {}", auds.join(", ")))
            .evidence(format!(
                "{} accepts tokens issued for itself ({})",
                api.name,
                api.resources
                    .first()
                    .map_or(api.id.as_str(), String::as_str)
            ))
            .fix_first(format!(
                "Request the token for {}: scope {}/.default (v2) or resource {} (v1), not {}.",
                api.name,
                api.resources
                    .first()
                    .map_or(api.id.as_str(), |r| r.trim_end_matches('/')),
                api.resources
                    .first()
                    .map_or(api.id.as_str(), String::as_str),
                named[0].name
            ))
            .severity(Severity::Error)
            .confidence(0.9),
    );
}

/// What a Microsoft API or token endpoint said besides its challenge: a JSON error body
/// (Graph's `InvalidAuthenticationToken`, a token endpoint's AADSTS code), SharePoint's
/// `x-ms-diagnostics`, and the request ids support asks for.
fn microsoft_answer(
    ev: &ProbeEvidence,
    e: &why401_evidence::Exchange,
    r: &why401_evidence::ResponseRecord,
    out: &mut Vec<Finding>,
) {
    if !matches!(r.status, 400 | 401 | 403) {
        return;
    }
    let on = format!("on {} {} → {}", e.request.method, e.request.url, r.status);
    let ids: Vec<String> = [
        "request-id",
        "client-request-id",
        "x-ms-request-id",
        "x-ms-ags-diagnostic",
        "sprequestguid",
    ]
    .iter()
    .filter_map(|h| r.header(h).map(|v| format!("{h}: {v}")))
    .collect();
    if r.body.trim_start().starts_with('{') {
        let d = decode_text(
            &r.body,
            &Context {
                now: ev.now,
                ..Context::default()
            },
        );
        for mut f in d.findings {
            f = f.evidence(on.clone());
            for id in &ids {
                f = f.evidence(id.clone());
            }
            out.push(f.confidence(0.75));
        }
    }
    if let Some(d) = r
        .header("x-ms-diagnostics")
        .and_then(why401_wire::entra::Diagnostics::parse)
    {
        let mut f = Finding::new(FindingId::SERVER_REJECTED_TOKEN)
            .title(format!("SharePoint refused the token: {}", d.reason))
            .evidence(format!(
                "x-ms-diagnostics: {} ({})",
                d.code,
                d.category.as_deref().unwrap_or("no category")
            ))
            .evidence(on)
            .confidence(0.8);
        for id in &ids {
            f = f.evidence(id.clone());
        }
        out.push(f);
    }
}

/// What permissions a JWT carries: delegated (`scp`, a user's) or application (`roles`).
fn permission_kind(token: &str) -> Option<String> {
    let Ok(jwt::Jwt::Signed(j)) = jwt::decode(token) else {
        return None;
    };
    let (scopes, roles) = (j.scopes(), j.roles());
    Some(match (scopes.is_empty(), roles.is_empty()) {
        (false, _) => format!(
            "the token is a delegated (user) token: scp {}; an application permission the API wants would have to come through the client credentials flow, as roles",
            scopes.join(" ")
        ),
        (true, false) => format!(
            "the token is an application token: roles {}; it never carries delegated scopes, which need a user's token",
            roles.join(" ")
        ),
        (true, true) => return None,
    })
}

fn unix(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn judge_token(
    ev: &ProbeEvidence,
    token: &str,
    server_date: Option<i64>,
    status: u16,
    explained: bool,
    out: &mut Vec<Finding>,
) {
    let ctx = Context {
        now: ev.now,
        leeway: 60,
        show_secrets: false,
        expect: Expectations {
            audience: ev.given.expect_audience.clone(),
            issuer: ev.given.expect_issuer.clone(),
            scopes: ev.given.expect_scopes.clone(),
        },
    };
    let d = decode_text(token, &ctx);
    let mut found: Vec<Finding> = d.findings;
    // The same token as the server's clock sees it.
    if let (Some(date), Ok(jwt::Jwt::Signed(j))) = (server_date, jwt::decode(token)) {
        let skew = date - ev.now;
        if let Some(exp) = j.time_claim("exp") {
            let local_ok = exp + 60 >= ev.now;
            let server_ok = exp + 60 >= date;
            for f in found.iter_mut().filter(|f| f.id == "token-expired") {
                f.evidence.push(format!(
                    "by the server's clock (Date: {}): {}",
                    timestamp(date),
                    if server_ok {
                        "still valid".to_string()
                    } else {
                        format!("expired {} ago", duration(date - exp))
                    }
                ));
            }
            if local_ok && !server_ok {
                found.push(
                    Finding::new(FindingId::CLOCK_SKEW)
                        .title(format!(
                            "the server's clock is {} ahead: to it the token has expired",
                            duration(skew)
                        ))
                        .evidence(format!("exp = {}", timestamp(exp)))
                        .evidence(format!(
                            "local clock {} — server Date {}",
                            timestamp(ev.now),
                            timestamp(date)
                        ))
                        .confidence(0.85)
                        .severity(Severity::Error),
                );
            }
        }
        if let Some(nbf) = j.time_claim("nbf").or(j.time_claim("iat")) {
            for f in found.iter_mut().filter(|f| f.id == "token-not-yet-valid") {
                f.evidence.push(format!(
                    "by the server's clock (Date: {}): {}",
                    timestamp(date),
                    if nbf <= date + 60 {
                        "already valid".to_string()
                    } else {
                        format!("valid in {}", duration(nbf - date))
                    }
                ));
            }
        }
    }
    // A token that is fine but still refused is the server's call; say what it is.
    if status == 401 && !explained && found.iter().all(|f| f.severity == Severity::Info) {
        found.push(
            Finding::new(FindingId::CREDENTIALS_REJECTED)
                .title("the server refused a bearer token that looks valid (not expired, signed)")
                .evidence("check the audience, issuer and signing key the API expects: why401 decode TOKEN --expect-audience AUD")
                .confidence(0.5),
        );
    }
    out.extend(
        found
            .into_iter()
            .map(|f| f.evidence(format!("token sent to {}", ev.target))),
    );
}
