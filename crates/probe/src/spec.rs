//! What to probe: the request as the user gave it, with curl's and HTTPie's habits.

use std::fmt;
use std::time::Duration;

use url::Url;

/// A user's credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: String,
    /// `DOMAIN` of `DOMAIN\user` (or the realm of `user@REALM`), for NTLM and Negotiate.
    pub domain: Option<String>,
    pub password: String,
}

impl fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .field("domain", &self.domain)
            .field("password", &"(redacted)")
            .finish()
    }
}

impl UserCredentials {
    /// Splits `DOMAIN\user` (the domain goes to NTLM/Negotiate); `user@domain` stays whole,
    /// as Windows accepts UPNs as they are.
    pub fn new(user_spec: &str, password: String) -> Self {
        match user_spec.split_once('\\') {
            Some((d, u)) if !d.is_empty() => UserCredentials {
                user: u.to_string(),
                domain: Some(d.to_string()),
                password,
            },
            _ => UserCredentials {
                user: user_spec.to_string(),
                domain: None,
                password,
            },
        }
    }

    /// The name as Basic and Digest send it: `DOMAIN\user` when a domain was given.
    pub fn full_name(&self) -> String {
        match &self.domain {
            Some(d) => format!("{d}\\{}", self.user),
            None => self.user.clone(),
        }
    }
}

/// An auth scheme the probe can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scheme {
    Negotiate,
    Ntlm,
    Digest,
    Basic,
}

impl Scheme {
    /// Browsers' order of preference.
    pub const PREFERENCE: [Scheme; 4] = [
        Scheme::Negotiate,
        Scheme::Ntlm,
        Scheme::Digest,
        Scheme::Basic,
    ];

    /// The name on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Negotiate => "Negotiate",
            Scheme::Ntlm => "NTLM",
            Scheme::Digest => "Digest",
            Scheme::Basic => "Basic",
        }
    }

    /// Reads `--auth-type`.
    pub fn parse(s: &str) -> Option<Scheme> {
        Scheme::PREFERENCE
            .into_iter()
            .find(|x| x.name().eq_ignore_ascii_case(s))
    }
}

/// Everything a probe needs.
#[derive(Debug, Clone)]
pub struct ProbeSpec {
    pub url: Url,
    pub method: String,
    /// Extra headers, in order, as given with `-H`.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub credentials: Option<UserCredentials>,
    pub bearer: Option<String>,
    /// `-b 'a=b; c=d'` pairs.
    pub cookies: Vec<(String, String)>,
    /// Lines of a Netscape cookie jar file.
    pub cookie_jar: Option<String>,
    pub proxy: Option<Url>,
    pub proxy_credentials: Option<UserCredentials>,
    /// Hosts (or suffixes) that bypass the proxy.
    pub no_proxy: Vec<String>,
    pub insecure: bool,
    /// Extra trusted roots (PEM).
    pub cacert: Option<Vec<u8>>,
    pub max_redirs: u32,
    pub location_trusted: bool,
    pub forced_scheme: Option<Scheme>,
    pub expect_scopes: Vec<String>,
    pub expect_audience: Option<String>,
    pub expect_issuer: Option<String>,
    pub timeout: Duration,
    /// Probe sibling URLs (http↔https, trailing slash, certificate names) without credentials.
    pub siblings: bool,
}

impl ProbeSpec {
    /// A GET of `url` with defaults.
    pub fn get(url: Url) -> Self {
        ProbeSpec {
            url,
            method: "GET".into(),
            headers: Vec::new(),
            body: None,
            credentials: None,
            bearer: None,
            cookies: Vec::new(),
            cookie_jar: None,
            proxy: None,
            proxy_credentials: None,
            no_proxy: Vec::new(),
            insecure: false,
            cacert: None,
            max_redirs: 10,
            location_trusted: false,
            forced_scheme: None,
            expect_scopes: Vec::new(),
            expect_audience: None,
            expect_issuer: None,
            timeout: Duration::from_secs(10),
            siblings: true,
        }
    }

    /// The user's own header `name`, if given.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the request looks like an API call rather than a page load.
    pub fn is_api(&self) -> bool {
        let accept = self.header("accept").unwrap_or("").to_ascii_lowercase();
        accept.contains("json")
            || accept.contains("xml") && !accept.contains("html")
            || self.bearer.is_some()
            || self
                .header("authorization")
                .is_some_and(|a| a.trim_start().to_ascii_lowercase().starts_with("bearer"))
            || self.header("x-requested-with").is_some()
            || (self.method != "GET" && self.method != "HEAD")
    }

    /// Applies `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (any case) when no `-x` was given.
    pub fn proxy_from_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        let get = |name: &str| {
            env(name)
                .or_else(|| env(&name.to_ascii_uppercase()))
                .filter(|v| !v.is_empty())
        };
        if self.no_proxy.is_empty()
            && let Some(np) = get("no_proxy")
        {
            self.no_proxy = np
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if self.proxy.is_some() {
            return;
        }
        let var = if self.url.scheme() == "https" {
            "https_proxy"
        } else {
            "http_proxy"
        };
        if let Some(p) = get(var).or_else(|| get("all_proxy")) {
            let p = if p.contains("://") {
                p
            } else {
                format!("http://{p}")
            };
            self.proxy = Url::parse(&p).ok();
        }
    }

    /// The proxy for `url`, unless `NO_PROXY` exempts the host.
    pub fn proxy_for(&self, url: &Url) -> Option<&Url> {
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let exempt = self.no_proxy.iter().any(|p| {
            let p = p.trim_start_matches('.').to_ascii_lowercase();
            p == "*" || host == p || host.ends_with(&format!(".{p}"))
        });
        if exempt { None } else { self.proxy.as_ref() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_user() {
        let c = UserCredentials::new("CORP\\alice", "pw".into());
        assert_eq!(
            (c.user.as_str(), c.domain.as_deref()),
            ("alice", Some("CORP"))
        );
        assert_eq!(c.full_name(), "CORP\\alice");
        assert!(!format!("{c:?}").contains("pw"));
        assert_eq!(
            UserCredentials::new("alice@corp.example", "x".into()).domain,
            None
        );
    }

    #[test]
    fn proxy_environment() {
        let mut s = ProbeSpec::get(Url::parse("https://api.corp.example/x").unwrap());
        s.proxy_from_env(|k| match k {
            "HTTPS_PROXY" => Some("proxy.corp:3128".into()),
            "NO_PROXY" => Some("localhost, .internal".into()),
            _ => None,
        });
        assert_eq!(
            s.proxy.as_ref().unwrap().as_str(),
            "http://proxy.corp:3128/"
        );
        assert!(s.proxy_for(&s.url).is_some());
        assert!(
            s.proxy_for(&Url::parse("http://db.internal/").unwrap())
                .is_none()
        );
    }
}
