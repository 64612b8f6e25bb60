//! `Set-Cookie` and `Cookie` headers.

use why401_catalogue::Severity;
use why401_wire::cookie::{self, CookieLint, SameSite};

use super::{Context, Item, secret};
use crate::time::{relative, timestamp};
use crate::{Finding, FindingId};

/// Decodes a `Set-Cookie` value.
pub(super) fn set_cookie(value: &str, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    let c = match cookie::parse_set_cookie(value, ctx.now) {
        Ok(c) => c,
        Err(e) => {
            let mut item = Item::new("Set-Cookie", value);
            item.noted("problem", e.to_string(), "browsers ignore this header");
            findings.push(
                Finding::new(FindingId::COOKIE_ATTRIBUTE_IGNORED)
                    .title("the Set-Cookie header cannot be read: browsers ignore it")
                    .evidence(format!("Set-Cookie: {value}"))
                    .confidence(0.7),
            );
            return item;
        }
    };
    let mut item = Item::new(
        "Set-Cookie",
        format!("{}={}…", c.name, secret(&c.value, ctx)),
    );
    item.field("name", &c.name);
    item.field("value", secret(&c.value, ctx));
    match (c.max_age, c.expires) {
        (Some(m), _) if m <= 0 => item.noted("Max-Age", m.to_string(), "deletes the cookie"),
        (Some(m), _) => item.noted(
            "Max-Age",
            m.to_string(),
            format!("expires {}", relative(ctx.now + m, ctx.now)),
        ),
        (None, Some(e)) => item.noted("Expires", timestamp(e), relative(e, ctx.now)),
        (None, None) => item.noted("lifetime", "session", "kept until the browser closes"),
    }
    item.noted(
        "Domain",
        c.domain.clone().unwrap_or_else(|| "(none)".into()),
        match &c.domain {
            Some(_) => "sent to this domain and its subdomains",
            None => "host-only: sent only to the exact host that set it",
        },
    );
    item.noted(
        "Path",
        c.path.clone().unwrap_or_else(|| "(default)".into()),
        match &c.path {
            Some(_) => "sent for this path and below",
            None => "defaults to the directory of the URL that set it",
        },
    );
    item.noted(
        "Secure",
        c.secure.to_string(),
        if c.secure {
            "only over https"
        } else {
            "also over plain http"
        },
    );
    item.noted(
        "HttpOnly",
        c.http_only.to_string(),
        if c.http_only {
            "hidden from JavaScript"
        } else {
            "readable by JavaScript"
        },
    );
    item.noted(
        "SameSite",
        c.same_site
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "(unset)".into()),
        match c.same_site {
            Some(SameSite::Strict) => "never sent on cross-site requests",
            Some(SameSite::Lax) | None => {
                "sent cross-site only on top-level GET navigations (unset = Lax in browsers)"
            }
            Some(SameSite::None) => "sent on cross-site requests (needs Secure)",
        },
    );
    if c.partitioned {
        item.noted("Partitioned", "true", "CHIPS: kept per top-level site");
    }
    let expired = match (c.max_age, c.expires) {
        (Some(m), _) => m <= 0,
        (None, Some(e)) => e <= ctx.now,
        _ => false,
    };
    for l in &c.lints {
        let f = match l {
            CookieLint::SameSiteNoneWithoutSecure => {
                Finding::new(FindingId::COOKIE_INSECURE_SAMESITE_NONE).confidence(0.9)
            }
            CookieLint::SecurePrefixWithoutSecure | CookieLint::HostPrefixViolation { .. } => {
                Finding::new(FindingId::COOKIE_PREFIX_VIOLATION).confidence(0.9)
            }
            CookieLint::LifetimeCapped { .. } => Finding::new(FindingId::COOKIE_ATTRIBUTE_IGNORED)
                .severity(Severity::Info)
                .confidence(0.3),
            _ => Finding::new(FindingId::COOKIE_ATTRIBUTE_IGNORED).confidence(0.5),
        };
        findings.push(
            f.title(format!("cookie {}: {l}", c.name))
                .evidence(format!("Set-Cookie: {value}")),
        );
    }
    if expired {
        findings.push(
            Finding::new(FindingId::COOKIE_NOT_SENT)
                .title(format!(
                    "cookie {} is already expired: this Set-Cookie deletes it",
                    c.name
                ))
                .evidence(format!(
                    "Set-Cookie: {}=…; expiry at or before {}",
                    c.name,
                    timestamp(ctx.now)
                ))
                .severity(Severity::Info)
                .confidence(0.4),
        );
    }
    item
}

/// Decodes a `Cookie` request header: the names sent, values redacted.
pub(super) fn cookie_header(value: &str, ctx: &Context) -> Item {
    let mut item = Item::new(
        "Cookie",
        value
            .split(';')
            .map(|p| p.split('=').next().unwrap_or("").trim())
            .collect::<Vec<_>>()
            .join("; "),
    );
    for pair in value.split(';') {
        let (name, v) = pair.split_once('=').unwrap_or((pair, ""));
        item.field(name.trim(), secret(v.trim(), ctx));
    }
    item
}
