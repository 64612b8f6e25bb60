//! Cookies (RFC 6265 and 6265bis): `Set-Cookie` read with its lints, and the matcher that
//! says whether a browser would send a cookie to a URL at a time — and if not, why.
//!
//! Attribute parsing (date formats in `Expires` especially) is the `cookie` crate's; the
//! storage and sending rules, which that crate does not model, are here.

use std::fmt;

use serde::Serialize;

/// `SameSite` (RFC 6265bis §4.1.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum SameSite {
    /// `Strict`: sent with same-site requests only.
    Strict,
    /// `Lax`: also sent with cross-site top-level navigations by a safe method (GET); what
    /// browsers assume when `SameSite` is unset.
    Lax,
    /// `None`: sent with cross-site requests too; browsers require `Secure` with it.
    None,
}

/// A `Set-Cookie` as received: attributes normalised, the value kept (redact when showing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetCookie {
    /// The cookie-name; a `__Secure-` or `__Host-` prefix carries rules of its own
    /// (RFC 6265bis §4.1.3).
    pub name: String,
    /// The cookie-value: often a session secret, so never serialised.
    #[serde(skip)]
    pub value: String,
    /// Absolute expiry (Unix seconds) from `Expires`, if present and readable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<i64>,
    /// `Max-Age` in seconds (wins over `Expires`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
    /// `Domain`, lower-cased, leading dot removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `Path` when it starts with `/`; `None` means the default-path of the URL that set it
    /// (RFC 6265 §5.1.4).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// `Secure`: sent only over https, and rejected when set over plain http.
    pub secure: bool,
    /// `HttpOnly`: hidden from page scripts; no effect on whether the cookie is sent.
    pub http_only: bool,
    /// `SameSite`, when present and valid; unset means browsers treat the cookie as Lax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub same_site: Option<SameSite>,
    /// `Partitioned` (CHIPS): stored separately per top-level site.
    pub partitioned: bool,
    /// What browsers would reject or mistreat; empty for a clean cookie.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lints: Vec<CookieLint>,
}

/// Something about a `Set-Cookie` that makes browsers reject or mistreat it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "lint", rename_all = "kebab-case")]
pub enum CookieLint {
    /// `SameSite=None` without `Secure`: browsers reject the cookie.
    SameSiteNoneWithoutSecure,
    /// A `SameSite` value other than Strict, Lax or None: treated as Lax (or ignored).
    InvalidSameSite {
        /// The `SameSite` value as sent.
        value: String,
    },
    /// `__Secure-` without `Secure`.
    SecurePrefixWithoutSecure,
    /// `__Host-` without `Secure`, with `Domain`, or with a `Path` other than `/`.
    HostPrefixViolation {
        /// Which rule is broken: `without Secure`, `with a Domain attribute` or `without Path=/`.
        reason: &'static str,
    },
    /// An `Expires` date browsers cannot read: the cookie becomes a session cookie.
    UnreadableExpires {
        /// The `Expires` value as sent.
        value: String,
    },
    /// `Max-Age` that is not an integer.
    InvalidMaxAge {
        /// The `Max-Age` value as sent.
        value: String,
    },
    /// A lifetime beyond 400 days: browsers cap it (RFC 6265bis §5.6).
    LifetimeCapped {
        /// The lifetime asked for, in whole days (from `Max-Age`, else `Expires`).
        days: i64,
    },
    /// An attribute name no browser knows.
    UnknownAttribute {
        /// The attribute name as sent.
        name: String,
    },
    /// `Path` that does not start with `/`: ignored, the default path is used.
    RelativePath {
        /// The `Path` value as sent.
        value: String,
    },
}

impl CookieLint {
    /// A stable kebab-case code for this lint.
    pub fn code(&self) -> &'static str {
        match self {
            CookieLint::SameSiteNoneWithoutSecure => "samesite-none-without-secure",
            CookieLint::InvalidSameSite { .. } => "invalid-samesite",
            CookieLint::SecurePrefixWithoutSecure => "secure-prefix-without-secure",
            CookieLint::HostPrefixViolation { .. } => "host-prefix-violation",
            CookieLint::UnreadableExpires { .. } => "unreadable-expires",
            CookieLint::InvalidMaxAge { .. } => "invalid-max-age",
            CookieLint::LifetimeCapped { .. } => "lifetime-capped",
            CookieLint::UnknownAttribute { .. } => "unknown-attribute",
            CookieLint::RelativePath { .. } => "relative-path",
        }
    }

    /// Whether browsers reject the whole cookie because of this.
    pub fn rejects_cookie(&self) -> bool {
        matches!(
            self,
            CookieLint::SameSiteNoneWithoutSecure
                | CookieLint::SecurePrefixWithoutSecure
                | CookieLint::HostPrefixViolation { .. }
        )
    }
}

impl fmt::Display for CookieLint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CookieLint::SameSiteNoneWithoutSecure => {
                write!(
                    f,
                    "SameSite=None without Secure: browsers reject this cookie"
                )
            }
            CookieLint::InvalidSameSite { value } => {
                write!(
                    f,
                    "SameSite={value} is not Strict, Lax or None: browsers treat it as Lax"
                )
            }
            CookieLint::SecurePrefixWithoutSecure => {
                write!(f, "a __Secure- cookie without Secure: browsers reject it")
            }
            CookieLint::HostPrefixViolation { reason } => {
                write!(f, "a __Host- cookie {reason}: browsers reject it")
            }
            CookieLint::UnreadableExpires { value } => {
                write!(
                    f,
                    "Expires={value} cannot be read: the cookie becomes a session cookie"
                )
            }
            CookieLint::InvalidMaxAge { value } => {
                write!(f, "Max-Age={value} is not an integer: ignored")
            }
            CookieLint::LifetimeCapped { days } => {
                write!(
                    f,
                    "lifetime of {days} days: browsers cap cookies at 400 days"
                )
            }
            CookieLint::UnknownAttribute { name } => {
                write!(f, "unknown attribute `{name}`: ignored")
            }
            CookieLint::RelativePath { value } => {
                write!(
                    f,
                    "Path={value} does not start with `/`: ignored, the default path applies"
                )
            }
        }
    }
}

/// Why a `Set-Cookie` cannot be read at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a cookie: {0}")]
pub struct CookieError(String);

/// Reads a `Set-Cookie` value, judged as received at `now` (Unix seconds).
pub fn parse_set_cookie(value: &str, now: i64) -> Result<SetCookie, CookieError> {
    let c = cookie::Cookie::parse(value.trim()).map_err(|e| CookieError(e.to_string()))?;
    let mut lints = Vec::new();
    let mut raw_same_site = None;
    let mut raw_expires = None;
    let mut raw_max_age = None;
    let mut raw_path = None;
    for attr in value.split(';').skip(1) {
        let (name, val) = attr.split_once('=').unwrap_or((attr, ""));
        let (name, val) = (name.trim(), val.trim());
        match name.to_ascii_lowercase().as_str() {
            "samesite" => raw_same_site = Some(val.to_string()),
            "expires" => raw_expires = Some(val.to_string()),
            "max-age" => raw_max_age = Some(val.to_string()),
            "path" => raw_path = Some(val.to_string()),
            "domain" | "secure" | "httponly" | "partitioned" | "priority" | "" => {}
            _ => lints.push(CookieLint::UnknownAttribute {
                name: name.to_string(),
            }),
        }
    }
    let same_site = match raw_same_site
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None => None,
        Some("strict") => Some(SameSite::Strict),
        Some("lax") => Some(SameSite::Lax),
        Some("none") => Some(SameSite::None),
        Some(_) => {
            lints.push(CookieLint::InvalidSameSite {
                value: raw_same_site.clone().unwrap_or_default(),
            });
            None
        }
    };
    let expires = c.expires_datetime().map(|t| t.unix_timestamp());
    if let (Some(raw), None) = (&raw_expires, expires) {
        lints.push(CookieLint::UnreadableExpires { value: raw.clone() });
    }
    let max_age = match &raw_max_age {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                lints.push(CookieLint::InvalidMaxAge { value: raw.clone() });
                None
            }
        },
    };
    let path = match raw_path {
        Some(p) if p.starts_with('/') => Some(p),
        Some(p) => {
            lints.push(CookieLint::RelativePath { value: p });
            None
        }
        None => None,
    };
    let secure = c.secure().unwrap_or(false);
    let domain = c
        .domain()
        .map(|d| d.trim_start_matches('.').to_ascii_lowercase())
        .filter(|d| !d.is_empty());
    let name = c.name().to_string();
    if same_site == Some(SameSite::None) && !secure {
        lints.push(CookieLint::SameSiteNoneWithoutSecure);
    }
    if name.starts_with("__Secure-") && !secure {
        lints.push(CookieLint::SecurePrefixWithoutSecure);
    }
    if name.starts_with("__Host-") {
        let reason = if !secure {
            Some("without Secure")
        } else if domain.is_some() {
            Some("with a Domain attribute")
        } else if path.as_deref() != Some("/") {
            Some("without Path=/")
        } else {
            None
        };
        if let Some(reason) = reason {
            lints.push(CookieLint::HostPrefixViolation { reason });
        }
    }
    let lifetime = max_age.or(expires.map(|e| e - now));
    if let Some(secs) = lifetime {
        let days = secs / 86_400;
        if days > 400 {
            lints.push(CookieLint::LifetimeCapped { days });
        }
    }
    Ok(SetCookie {
        name,
        value: c.value().to_string(),
        expires,
        max_age,
        domain,
        path,
        secure,
        http_only: c.http_only().unwrap_or(false),
        same_site,
        partitioned: c.partitioned().unwrap_or(false),
        lints,
    })
}

/// Where a cookie came from: the response that set it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// The scheme of the URL that set the cookie: a `Secure` cookie from `http` is rejected.
    pub scheme: &'a str,
    /// The host of the URL that set the cookie, without port: a host-only cookie goes back to it
    /// alone.
    pub host: &'a str,
    /// The path of the URL that set the cookie; its directory is the default `Path`.
    pub path: &'a str,
    /// When it was received (Unix seconds).
    pub at: i64,
}

/// A request the cookie might go with.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The request URL's scheme: `Secure` cookies need `https` (or a loopback host).
    pub scheme: &'a str,
    /// The request URL's host, without port.
    pub host: &'a str,
    /// The request URL's path; a query or fragment is ignored.
    pub path: &'a str,
    /// When the request is sent (Unix seconds); expiry is judged against it.
    pub now: i64,
    /// The request is cross-site (the page's site differs from the target's).
    pub cross_site: bool,
    /// A top-level navigation with a safe method (Lax cookies go along).
    pub top_level_safe_navigation: bool,
}

/// Why a browser would not send (or not even store) a cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum NotSent {
    /// The browser rejected the cookie when it arrived.
    Rejected {
        /// The lint that made the browser reject it.
        lint: CookieLint,
    },
    /// `Domain` does not cover the host that set it: rejected.
    ForeignDomain {
        /// The cookie's `Domain`, normalised.
        domain: String,
        /// The host that sent the `Set-Cookie`.
        set_by: String,
    },
    /// `Secure` set over plain http: rejected.
    SecureFromInsecureOrigin,
    /// The cookie's lifetime (`Max-Age` from its arrival, else `Expires`) ended before the
    /// request.
    Expired {
        /// When it expired, in Unix seconds.
        at: i64,
        /// Seconds from its expiry to the request.
        ago: i64,
    },
    /// Host-only cookie (no `Domain`) and another host.
    HostOnly {
        /// The host that set the cookie, the only one it goes to.
        set_by: String,
        /// The request's host.
        host: String,
    },
    /// The request's host is outside the cookie's `Domain` (RFC 6265 §5.1.3).
    DomainMismatch {
        /// The cookie's `Domain`, normalised.
        domain: String,
        /// The request's host.
        host: String,
    },
    /// The request path is outside the cookie's path (RFC 6265 §5.1.4).
    PathMismatch {
        /// The cookie's `Path`, or its default-path when it has none.
        path: String,
        /// The request's path.
        request_path: String,
    },
    /// `Secure` cookie, plain http request.
    SecureOverHttp,
    /// `SameSite=Strict` and the request is cross-site.
    SameSiteStrict,
    /// `SameSite=Lax`, or unset (read as Lax), and the request is cross-site but not a top-level
    /// navigation by a safe method.
    SameSiteLax,
}

impl fmt::Display for NotSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotSent::Rejected { lint } => write!(f, "rejected on arrival: {lint}"),
            NotSent::ForeignDomain { domain, set_by } => {
                write!(
                    f,
                    "Domain={domain} does not cover {set_by}, which set it: rejected"
                )
            }
            NotSent::SecureFromInsecureOrigin => {
                write!(f, "a Secure cookie set over plain http: rejected")
            }
            NotSent::Expired { ago, .. } => write!(f, "expired {ago} s ago"),
            NotSent::HostOnly { set_by, host } => {
                write!(
                    f,
                    "host-only cookie of {set_by} (no Domain attribute); {host} is another host"
                )
            }
            NotSent::DomainMismatch { domain, host } => {
                write!(f, "Domain={domain} does not match {host}")
            }
            NotSent::PathMismatch { path, request_path } => {
                write!(f, "Path={path} does not cover {request_path}")
            }
            NotSent::SecureOverHttp => write!(f, "Secure cookie, but the request is plain http"),
            NotSent::SameSiteStrict => write!(f, "SameSite=Strict and the request is cross-site"),
            NotSent::SameSiteLax => {
                write!(
                    f,
                    "SameSite=Lax (or unset) and the request is a cross-site subresource or POST"
                )
            }
        }
    }
}

/// RFC 6265 §5.1.4 default-path of the URL that set the cookie.
pub fn default_path(request_path: &str) -> &str {
    let p = request_path.split(['?', '#']).next().unwrap_or("");
    if !p.starts_with('/') {
        return "/";
    }
    match p.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &p[..i],
    }
}

/// RFC 6265 §5.1.3 domain-match.
pub fn domain_matches(host: &str, domain: &str) -> bool {
    let host = host.to_ascii_lowercase();
    let domain = domain.to_ascii_lowercase();
    host == domain
        || (host.ends_with(&domain)
            && host.as_bytes().get(host.len() - domain.len() - 1) == Some(&b'.')
            && host.parse::<std::net::IpAddr>().is_err())
}

/// RFC 6265 §5.1.4 path-match.
pub fn path_matches(request_path: &str, cookie_path: &str) -> bool {
    let rp = request_path.split(['?', '#']).next().unwrap_or("/");
    let rp = if rp.is_empty() { "/" } else { rp };
    rp == cookie_path
        || (rp.starts_with(cookie_path)
            && (cookie_path.ends_with('/') || rp.as_bytes().get(cookie_path.len()) == Some(&b'/')))
}

impl SetCookie {
    /// Whether a browser that received this cookie from `origin` sends it with `req`.
    /// `Ok(())` when it does; otherwise the first reason it does not.
    pub fn sent_with(&self, origin: Origin, req: Request) -> Result<(), NotSent> {
        if let Some(lint) = self.lints.iter().find(|l| l.rejects_cookie()) {
            return Err(NotSent::Rejected { lint: lint.clone() });
        }
        if self.secure && !origin.scheme.eq_ignore_ascii_case("https") && !is_loopback(origin.host)
        {
            return Err(NotSent::SecureFromInsecureOrigin);
        }
        if let Some(d) = &self.domain
            && !domain_matches(origin.host, d)
        {
            return Err(NotSent::ForeignDomain {
                domain: d.clone(),
                set_by: origin.host.into(),
            });
        }
        let expiry = match self.max_age {
            Some(m) => Some(origin.at.saturating_add(m)),
            None => self.expires,
        };
        if let Some(at) = expiry
            && at <= req.now
        {
            return Err(NotSent::Expired {
                at,
                ago: req.now - at,
            });
        }
        match &self.domain {
            Some(d) if !domain_matches(req.host, d) => {
                return Err(NotSent::DomainMismatch {
                    domain: d.clone(),
                    host: req.host.into(),
                });
            }
            None if !origin.host.eq_ignore_ascii_case(req.host) => {
                return Err(NotSent::HostOnly {
                    set_by: origin.host.into(),
                    host: req.host.into(),
                });
            }
            _ => {}
        }
        let path = self
            .path
            .as_deref()
            .unwrap_or_else(|| default_path(origin.path));
        if !path_matches(req.path, path) {
            return Err(NotSent::PathMismatch {
                path: path.into(),
                request_path: req.path.into(),
            });
        }
        if self.secure && !req.scheme.eq_ignore_ascii_case("https") && !is_loopback(req.host) {
            return Err(NotSent::SecureOverHttp);
        }
        if req.cross_site {
            match self.same_site {
                Some(SameSite::Strict) => return Err(NotSent::SameSiteStrict),
                Some(SameSite::None) => {}
                Some(SameSite::Lax) | None if !req.top_level_safe_navigation => {
                    return Err(NotSent::SameSiteLax);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

fn is_loopback(host: &str) -> bool {
    // Browsers treat http://localhost as a secure context.
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NOW: i64 = 1_790_000_000;

    fn origin() -> Origin<'static> {
        Origin {
            scheme: "https",
            host: "app.example.com",
            path: "/login/form",
            at: NOW,
        }
    }

    fn req(scheme: &'static str, host: &'static str, path: &'static str) -> Request<'static> {
        Request {
            scheme,
            host,
            path,
            now: NOW + 10,
            cross_site: false,
            top_level_safe_navigation: true,
        }
    }

    #[test]
    fn reads_attributes() {
        let c = parse_set_cookie(
            "sid=abc123; Path=/; Domain=.Example.com; Secure; HttpOnly; SameSite=Lax; Max-Age=3600",
            NOW,
        )
        .unwrap();
        assert_eq!(c.name, "sid");
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        assert_eq!(c.max_age, Some(3600));
        assert!(c.secure && c.http_only);
        assert_eq!(c.same_site, Some(SameSite::Lax));
        assert!(c.lints.is_empty());
        assert_eq!(
            c.sent_with(origin(), req("https", "api.example.com", "/v1")),
            Ok(())
        );
    }

    #[test]
    fn expires_and_max_age() {
        let c = parse_set_cookie("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT", NOW).unwrap();
        assert_eq!(c.expires, Some(1_445_412_480));
        assert!(matches!(
            c.sent_with(origin(), req("https", "app.example.com", "/login/x")),
            Err(NotSent::Expired { .. })
        ));
        let c = parse_set_cookie("a=b; Max-Age=5", NOW).unwrap();
        assert!(
            matches!(c.sent_with(origin(), req("https", "app.example.com", "/login")), Err(NotSent::Expired { at, .. }) if at == NOW + 5)
        );
        let c = parse_set_cookie("a=b; Expires=someday", NOW).unwrap();
        assert_eq!(c.lints[0].code(), "unreadable-expires");
    }

    #[test]
    fn path_and_host_rules() {
        let c = parse_set_cookie("a=b", NOW).unwrap();
        // Default path of /login/form is /login.
        assert_eq!(
            c.sent_with(origin(), req("https", "app.example.com", "/login/x")),
            Ok(())
        );
        assert!(matches!(
            c.sent_with(origin(), req("https", "app.example.com", "/api")),
            Err(NotSent::PathMismatch { .. })
        ));
        assert!(matches!(
            c.sent_with(origin(), req("https", "api.example.com", "/login")),
            Err(NotSent::HostOnly { .. })
        ));
        let c = parse_set_cookie("a=b; Path=/api", NOW).unwrap();
        assert!(matches!(
            c.sent_with(origin(), req("https", "app.example.com", "/apix")),
            Err(NotSent::PathMismatch { .. })
        ));
        assert_eq!(
            c.sent_with(origin(), req("https", "app.example.com", "/api/v1")),
            Ok(())
        );
        let c = parse_set_cookie("a=b; Domain=other.org", NOW).unwrap();
        assert!(matches!(
            c.sent_with(origin(), req("https", "other.org", "/")),
            Err(NotSent::ForeignDomain { .. })
        ));
    }

    #[test]
    fn secure_and_samesite() {
        let c = parse_set_cookie("a=b; Secure; Path=/", NOW).unwrap();
        assert_eq!(
            c.sent_with(origin(), req("http", "app.example.com", "/")),
            Err(NotSent::SecureOverHttp)
        );
        assert_eq!(
            c.sent_with(origin(), req("http", "localhost", "/")).err(),
            Some(NotSent::HostOnly {
                set_by: "app.example.com".into(),
                host: "localhost".into()
            })
        );
        let c = parse_set_cookie("a=b; SameSite=None; Path=/", NOW).unwrap();
        assert_eq!(c.lints, [CookieLint::SameSiteNoneWithoutSecure]);
        assert!(matches!(
            c.sent_with(origin(), req("https", "app.example.com", "/")),
            Err(NotSent::Rejected { .. })
        ));
        let c = parse_set_cookie("a=b; SameSite=Strict; Path=/", NOW).unwrap();
        let mut r = req("https", "app.example.com", "/");
        r.cross_site = true;
        assert_eq!(c.sent_with(origin(), r), Err(NotSent::SameSiteStrict));
        let c = parse_set_cookie("a=b; Path=/", NOW).unwrap();
        r.top_level_safe_navigation = false;
        assert_eq!(c.sent_with(origin(), r), Err(NotSent::SameSiteLax));
        assert_eq!(
            parse_set_cookie("a=b; SameSite=Bogus", NOW).unwrap().lints[0].code(),
            "invalid-samesite"
        );
    }

    #[test]
    fn prefixes() {
        assert_eq!(
            parse_set_cookie("__Secure-a=b", NOW).unwrap().lints,
            [CookieLint::SecurePrefixWithoutSecure]
        );
        assert_eq!(
            parse_set_cookie("__Host-a=b; Secure; Path=/; Domain=example.com", NOW)
                .unwrap()
                .lints,
            [CookieLint::HostPrefixViolation {
                reason: "with a Domain attribute"
            }]
        );
        assert_eq!(
            parse_set_cookie("__Host-a=b; Secure", NOW).unwrap().lints,
            [CookieLint::HostPrefixViolation {
                reason: "without Path=/"
            }]
        );
        assert!(
            parse_set_cookie("__Host-a=b; Secure; Path=/", NOW)
                .unwrap()
                .lints
                .is_empty()
        );
    }

    #[test]
    fn matching_helpers() {
        assert_eq!(default_path("/a/b/c"), "/a/b");
        assert_eq!(default_path("/a"), "/");
        assert_eq!(default_path(""), "/");
        assert!(domain_matches("www.example.com", "example.com"));
        assert!(!domain_matches("badexample.com", "example.com"));
        assert!(!domain_matches("1.2.3.4", "3.4"));
        assert!(path_matches("/docs/web", "/docs"));
        assert!(!path_matches("/docs", "/docs/"));
        assert!(path_matches("/docs/", "/docs/"));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC*", host in "[a-z.]{0,12}", path in "[/a-z?]{0,12}") {
            if let Ok(c) = parse_set_cookie(&s, NOW) {
                let o = Origin { scheme: "https", host: &host, path: &path, at: NOW };
                let r = Request { scheme: "http", host: &host, path: &path, now: NOW, cross_site: true, top_level_safe_navigation: false };
                let _ = c.sent_with(o, r);
            }
            let _ = domain_matches(&host, &s);
            let _ = default_path(&s);
        }
    }
}
