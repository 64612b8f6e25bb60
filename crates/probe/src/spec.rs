//! What to probe: the request as the user gave it, with curl's and HTTPie's habits.
//!
//! A spec is checked before anything is sent ([`ProbeSpec::check`]): a method, header, cookie
//! or proxy the probe could not send as given is refused here by name, so the request on the
//! wire is always the one the evidence records.

use std::ffi::OsString;
use std::fmt;
use std::time::Duration;

use url::Url;

use crate::proxy::{self, Bypass};

/// Why a request as the user gave it cannot be sent as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    /// A `-H` line with no colon; holds the line as given.
    #[error("header {0:?}: a header is 'Name: value'")]
    HeaderSyntax(String),
    /// A header name that is not an RFC 9110 token (a space, a slash, an empty name).
    #[error("header name {name:?} is not valid: {why}")]
    HeaderName {
        /// The name as the user typed it.
        name: String,
        /// The offending character and its byte offset, in words.
        why: String,
    },
    /// A header value holding a control character, which would break the request apart.
    #[error("header {name}: the value {why}")]
    HeaderValue {
        /// The header whose value was refused.
        name: String,
        /// The control character and its byte offset, in words.
        why: String,
    },
    /// A `-X` method that cannot go on a request line.
    #[error("method {method:?} is not valid: {why}")]
    Method {
        /// The method as given.
        method: String,
        /// The first character that is not allowed in a token, or that it is empty.
        why: String,
    },
    /// A `-H Host:` naming another host than the URL's: the probe writes `Host` from the URL.
    #[error(
        "header Host: {value:?}: the probe sends the URL's host ({url_host}) and cannot send \
         another; probe a URL with that host name instead"
    )]
    Host {
        /// The user's `Host` value.
        value: String,
        /// `host[:port]` of the URL, which is what goes on the wire.
        url_host: String,
    },
    /// A `-b` pair that cannot go in a `Cookie` header (no name, or a control character).
    #[error("cookie {name:?}: {why}")]
    Cookie {
        /// The cookie's name (empty when the pair had none).
        name: String,
        /// What is wrong with the pair.
        why: String,
    },
    /// A `--bearer` token that cannot go in an `Authorization` header; holds why.
    #[error("the bearer token {0}")]
    Bearer(String),
    /// `--bearer` and `-H 'Authorization: …'` both given: one request carries one
    /// `Authorization`, and silently dropping either would probe something the user did not ask.
    #[error(
        "--bearer and -H 'Authorization: …' both give the request's credentials: keep one \
         (--bearer TOKEN is -H 'Authorization: Bearer TOKEN')"
    )]
    TwoAuthorizations,
    /// A server or proxy user name with a control character (Digest quotes it into a header).
    #[error("the {what} user name {why}")]
    User {
        /// `server` (`-u`) or `proxy` (`--proxy-user`).
        what: &'static str,
        /// The control character and where it is.
        why: String,
    },
    /// A `-x` value that is not an HTTP proxy URL (a SOCKS proxy, a bad port).
    #[error("--proxy {value}: {why}")]
    Proxy {
        /// The value as given, userinfo replaced by `***`.
        value: String,
        /// Why it cannot be used.
        why: String,
    },
    /// A proxy environment variable the probe read and cannot use; `value` is redacted when it
    /// holds userinfo.
    #[error("{var}={value}: {why}")]
    ProxyEnv {
        /// The variable as it was found (`https_proxy`, `NO_PROXY`...): lower case wins.
        var: String,
        /// Its value, userinfo replaced by `***`.
        value: String,
        /// Why it cannot be used (not UTF-8, not a proxy URL, a bad `NO_PROXY` entry).
        why: String,
    },
}

/// Reads `-H 'Name: value'` (surrounding spaces trimmed) and checks it can be sent.
pub fn header_line(line: &str) -> Result<(String, String), SpecError> {
    let (n, v) = line
        .split_once(':')
        .ok_or_else(|| SpecError::HeaderSyntax(line.to_string()))?;
    let (n, v) = (n.trim(), v.trim());
    check_header(n, v)?;
    Ok((n.to_string(), v.to_string()))
}

/// Checks a header can go on the wire exactly as given: the name a token (RFC 9110 §5.1), the
/// value without control characters. Non-ASCII values go as their UTF-8 bytes, as with curl.
pub fn check_header(name: &str, value: &str) -> Result<(), SpecError> {
    // The verdicts are the `http` crate's, which builds the request: what passes here cannot
    // fail there.
    if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(SpecError::HeaderName {
            name: name.to_string(),
            why: not_a_token(name, "a header name"),
        });
    }
    if http::HeaderValue::from_str(value).is_err() {
        return Err(SpecError::HeaderValue {
            name: name.to_string(),
            why: control_character(value),
        });
    }
    Ok(())
}

/// Checks `-X METHOD` is a method the request line can carry (a token, RFC 9110 §9.1).
pub fn check_method(method: &str) -> Result<(), SpecError> {
    match http::Method::from_bytes(method.as_bytes()) {
        Ok(_) => Ok(()),
        Err(_) => Err(SpecError::Method {
            method: method.to_string(),
            why: not_a_token(method, "a method"),
        }),
    }
}

/// Why `s` is not a token: empty, or its first character that is not a tchar.
fn not_a_token(s: &str, what: &str) -> String {
    let tchar = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    match s.char_indices().find(|(_, c)| !tchar(*c)) {
        _ if s.is_empty() => format!("{what} cannot be empty"),
        Some((i, c)) => format!(
            "it has {c:?} at byte {i}; {what} is one word of letters, digits and !#$%&'*+-.^_`|~"
        ),
        None => format!("{what} is one word of letters, digits and !#$%&'*+-.^_`|~"),
    }
}

/// Names the first character a field value cannot hold.
fn control_character(value: &str) -> String {
    match value
        .char_indices()
        .find(|(_, c)| c.is_ascii_control() && *c != '\t')
    {
        Some((i, c)) => format!(
            "has the control character {c:?} at byte {i}; a header value cannot hold control \
             characters (a line break would end the header)"
        ),
        None => "cannot be sent in a header".into(),
    }
}

/// A user's credentials. `Debug` never shows the password.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The account name, without a `DOMAIN\` prefix.
    pub user: String,
    /// `DOMAIN` of `DOMAIN\user`, for NTLM and Negotiate. A UPN (`user@REALM`) is not split:
    /// it stays whole in `user`, as Windows accepts it.
    pub domain: Option<String>,
    /// In clear, as the handshakes need it; kept out of `Debug` and of the evidence.
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
    /// SPNEGO (RFC 4559): Kerberos when a ticket can be had, else NTLM inside it.
    Negotiate,
    /// Bare NTLM (MS-NLMP): three legs that authenticate the connection, not the request.
    Ntlm,
    /// RFC 7616 Digest: a hash of the password over the server's nonce.
    Digest,
    /// RFC 7617 Basic: user and password in base64, readable by anyone on the path.
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
    /// The target; its origin is where the user's credentials may go.
    pub url: Url,
    /// The method as it goes on the request line; [`ProbeSpec::get`] sets `GET`.
    pub method: String,
    /// Extra headers, in order, as given with `-H`.
    pub headers: Vec<(String, String)>,
    /// The request body (`-d`), sent again on every leg of a handshake.
    pub body: Option<Vec<u8>>,
    /// `-u`: used to answer the server's Negotiate, NTLM, Digest or Basic challenge.
    pub credentials: Option<UserCredentials>,
    /// `--bearer`: sent as `Authorization: Bearer` from the first request (refused together with
    /// a `-H Authorization`).
    pub bearer: Option<String>,
    /// `-b 'a=b; c=d'` pairs.
    pub cookies: Vec<(String, String)>,
    /// Lines of a Netscape cookie jar file.
    pub cookie_jar: Option<String>,
    /// The HTTP proxy, from `-x` or the environment; https goes through it by `CONNECT`.
    pub proxy: Option<Url>,
    /// `--proxy-user` or the proxy URL's userinfo: answers a proxy's Basic 407.
    pub proxy_credentials: Option<UserCredentials>,
    /// Where requests go direct (`NO_PROXY`).
    pub no_proxy: Vec<Bypass>,
    /// `-k`: go on when the chain does not verify (the verifier's complaint is still recorded).
    pub insecure: bool,
    /// Extra trusted roots (PEM).
    pub cacert: Option<Vec<u8>>,
    /// `--resolve HOST:PORT:ADDR`: names reached at these addresses, without DNS.
    pub resolve: Vec<crate::net::Pin>,
    /// `--each-address`: probe every address the target's name resolves to, and compare.
    pub each_address: bool,
    /// `--dns-server ADDR[:PORT]`: the resolver to ask instead of the system's.
    pub dns_server: Option<std::net::SocketAddr>,
    /// Redirects to follow before stopping (the evidence says when the limit was hit).
    pub max_redirs: u32,
    /// `--location-trusted`: credentials follow redirects to other origins (never https → http).
    pub location_trusted: bool,
    /// `--auth-type`: answer only this scheme instead of the strongest one offered.
    pub forced_scheme: Option<Scheme>,
    /// `--expect-scope`: scopes the token must grant, passed on for the token rules.
    pub expect_scopes: Vec<String>,
    /// `--expect-audience`: the `aud` the token must carry.
    pub expect_audience: Option<String>,
    /// `--expect-issuer`: the `iss` the token must carry.
    pub expect_issuer: Option<String>,
    /// The limit on each step (resolving, connecting, the TLS handshake, each response), not
    /// on the whole probe.
    pub timeout: Duration,
    /// Probe sibling URLs (http↔https, trailing slash, certificate names) without credentials.
    pub siblings: bool,
    /// Kerberos: the user's tickets, the KDC, delegation.
    pub kerberos: KerberosSpec,
}

/// How Kerberos is done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KerberosSpec {
    /// `--negotiate` without `-u`: authenticate with the user's own tickets (the MIT credential
    /// cache `kinit` filled), as `curl --negotiate -u :` does.
    pub from_cache: bool,
    /// `--kdc HOST[:PORT]`: the KDC to use instead of krb5.conf or DNS SRV.
    pub kdc: Option<String>,
    /// `--delegation`: whether to send a forwarded TGT to the service.
    pub delegation: Delegation,
}

/// curl's `--delegation`: whether the service receives the user's TGT (for a second hop).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Delegation {
    /// Never delegate (curl's default).
    #[default]
    None,
    /// Delegate only when the KDC marks the service `ok-as-delegate` (trusted for delegation),
    /// as Windows clients and browsers do.
    Policy,
    /// Always delegate.
    Always,
}

impl Delegation {
    /// `none`, `policy` or `always`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Some(Delegation::None),
            "policy" => Some(Delegation::Policy),
            "always" => Some(Delegation::Always),
            _ => None,
        }
    }

    /// The flag's word.
    pub fn name(self) -> &'static str {
        match self {
            Delegation::None => "none",
            Delegation::Policy => "policy",
            Delegation::Always => "always",
        }
    }
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
            kerberos: KerberosSpec::default(),
            resolve: Vec::new(),
            each_address: false,
            dns_server: None,
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

    /// Checks everything the probe will put on the wire can be sent as given (see
    /// [`check_header`], [`check_method`]); call it before [`run`](crate::run).
    pub fn check(&self) -> Result<(), SpecError> {
        check_method(&self.method)?;
        for (n, v) in &self.headers {
            check_header(n, v)?;
            if n.eq_ignore_ascii_case("host") {
                // The probe writes Host from the URL; another one would be dropped.
                let url_host = &self.url[url::Position::BeforeHost..url::Position::AfterPort];
                if !v.eq_ignore_ascii_case(url_host) {
                    return Err(SpecError::Host {
                        value: v.clone(),
                        url_host: url_host.to_string(),
                    });
                }
            }
        }
        for (n, v) in &self.cookies {
            let why = if n.is_empty() {
                Some("a cookie needs a name (name=value)".to_string())
            } else {
                check_header("Cookie", &format!("{n}={v}"))
                    .err()
                    .map(|_| control_character(&format!("{n}={v}")))
            };
            if let Some(why) = why {
                return Err(SpecError::Cookie {
                    name: n.clone(),
                    why,
                });
            }
        }
        if let Some(t) = &self.bearer
            && check_header("Authorization", &format!("Bearer {t}")).is_err()
        {
            return Err(SpecError::Bearer(control_character(t)));
        }
        if self.bearer.is_some() && self.header("authorization").is_some() {
            return Err(SpecError::TwoAuthorizations);
        }
        // Digest quotes the user name into the header; Basic and NTLM encode it.
        for (what, c) in [
            ("server", &self.credentials),
            ("proxy", &self.proxy_credentials),
        ] {
            if let Some(c) = c
                && check_header("Authorization", &c.full_name()).is_err()
            {
                return Err(SpecError::User {
                    what,
                    why: control_character(&c.full_name()),
                });
            }
        }
        Ok(())
    }

    /// Sets the proxy from `-x` (`host:port` or `http://[user:pass@]host:port`). Credentials in
    /// the URL are used when no `--proxy-user` was given.
    pub fn set_proxy(&mut self, value: &str) -> Result<(), SpecError> {
        let url = proxy::parse_proxy(value).map_err(|why| SpecError::Proxy {
            value: proxy::redact(value),
            why,
        })?;
        self.use_proxy(url);
        Ok(())
    }

    fn use_proxy(&mut self, url: Url) {
        if self.proxy_credentials.is_none() {
            self.proxy_credentials = proxy::credentials_in(&url);
        }
        self.proxy = Some(url);
    }

    /// Applies `HTTP_PROXY`/`HTTPS_PROXY`/`ALL_PROXY`/`NO_PROXY` (lower case first, then upper)
    /// when no `-x` was given. A value that is read and cannot be used is an error naming it.
    pub fn proxy_from_env(
        &mut self,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<(), SpecError> {
        let get = |name: &str| -> Result<Option<(String, String)>, SpecError> {
            let upper = name.to_ascii_uppercase();
            let found = [name, upper.as_str()]
                .into_iter()
                .find_map(|var| env(var).filter(|v| !v.is_empty()).map(|v| (var, v)));
            let Some((var, value)) = found else {
                return Ok(None);
            };
            match value.into_string() {
                Ok(v) => Ok(Some((var.to_string(), v))),
                Err(raw) => Err(SpecError::ProxyEnv {
                    var: var.to_string(),
                    value: proxy::redact(&raw.to_string_lossy()),
                    why: "is not valid UTF-8".into(),
                }),
            }
        };
        if self.no_proxy.is_empty()
            && let Some((var, np)) = get("no_proxy")?
        {
            self.no_proxy = np
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(Bypass::parse)
                .collect::<Result<_, _>>()
                .map_err(|why| SpecError::ProxyEnv {
                    var,
                    value: np.clone(),
                    why,
                })?;
        }
        if self.proxy.is_some() {
            return Ok(());
        }
        let var = if self.url.scheme() == "https" {
            "https_proxy"
        } else {
            "http_proxy"
        };
        let found = match get(var)? {
            Some(v) => Some(v),
            None => get("all_proxy")?,
        };
        if let Some((var, value)) = found {
            let url = proxy::parse_proxy(&value).map_err(|why| SpecError::ProxyEnv {
                var,
                value: proxy::redact(&value),
                why,
            })?;
            self.use_proxy(url);
        }
        Ok(())
    }

    /// The proxy for `url`, unless `NO_PROXY` exempts it.
    pub fn proxy_for(&self, url: &Url) -> Option<&Url> {
        if self.no_proxy.iter().any(|b| b.matches(url)) {
            None
        } else {
            self.proxy.as_ref()
        }
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
            "NO_PROXY" => Some("localhost, .internal,10.0.0.0/8".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(
            s.proxy.as_ref().unwrap().as_str(),
            "http://proxy.corp:3128/"
        );
        assert!(s.proxy_for(&s.url).is_some());
        assert!(
            s.proxy_for(&Url::parse("http://db.internal/").unwrap())
                .is_none()
        );
        assert!(
            s.proxy_for(&Url::parse("http://10.9.8.7/").unwrap())
                .is_none()
        );
    }

    fn env_error(url: &str, vars: &[(&str, &str)]) -> SpecError {
        let mut s = ProbeSpec::get(Url::parse(url).unwrap());
        s.proxy_from_env(|k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        })
        .unwrap_err()
    }

    #[test]
    fn a_malformed_proxy_variable_is_named_and_redacted() {
        let e = env_error(
            "http://h/",
            &[("http_proxy", "http://bob:s3cret@proxy:port")],
        );
        let text = e.to_string();
        assert!(
            text.starts_with("http_proxy=http://***@proxy:port: "),
            "{text}"
        );
        assert!(!text.contains("s3cret"), "{text}");
        // ALL_PROXY is read when the scheme's own variable is not set.
        let e = env_error("https://h/", &[("ALL_PROXY", "socks5://127.0.0.1:1080")]);
        assert!(
            e.to_string()
                .starts_with("ALL_PROXY=socks5://127.0.0.1:1080: socks5 proxies"),
            "{e}"
        );
        // The lower-case form wins, as with curl.
        let e = env_error(
            "https://h/",
            &[("https_proxy", "::"), ("HTTPS_PROXY", "proxy:3128")],
        );
        assert!(matches!(e, SpecError::ProxyEnv { ref var, .. } if var == "https_proxy"));
        let e = env_error("http://h/", &[("no_proxy", "localhost,<local>")]);
        assert!(
            e.to_string()
                .starts_with("no_proxy=localhost,<local>: entry `<local>`"),
            "{e}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_proxy_variable_that_is_not_utf8_is_refused() {
        use std::os::unix::ffi::OsStringExt;
        let mut s = ProbeSpec::get(Url::parse("http://h/").unwrap());
        let e = s
            .proxy_from_env(|k| {
                (k == "HTTP_PROXY").then(|| OsString::from_vec(b"pr\xffxy:1".to_vec()))
            })
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "HTTP_PROXY=pr\u{fffd}xy:1: is not valid UTF-8"
        );
    }

    #[test]
    fn an_unused_variable_is_not_judged_and_x_wins() {
        let mut s = ProbeSpec::get(Url::parse("http://h/").unwrap());
        s.set_proxy("http://alice:pw@proxy:3128").unwrap();
        s.proxy_from_env(|k| (k == "http_proxy").then(|| "::bad::".into()))
            .unwrap();
        assert_eq!(s.proxy.as_ref().unwrap().host_str(), Some("proxy"));
        assert_eq!(s.proxy_credentials.as_ref().unwrap().password, "pw");
        let e = s.set_proxy("socks5h://bob:pw@p:1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--proxy socks5h://***@p:1: socks5h proxies are not supported: why401 talks to HTTP \
             proxies (http://host:port)"
        );
    }

    #[test]
    fn headers_and_methods_are_checked_before_sending() {
        assert_eq!(
            header_line(" X-Api-Key :  k1 ").unwrap(),
            ("X-Api-Key".to_string(), "k1".to_string())
        );
        assert_eq!(
            header_line("X-Name: José").unwrap().1,
            "José",
            "non-ASCII values go as UTF-8"
        );
        assert_eq!(
            header_line("no colon"),
            Err(SpecError::HeaderSyntax("no colon".into()))
        );
        let e = header_line("X Bad: 1").unwrap_err();
        assert_eq!(
            e.to_string(),
            "header name \"X Bad\" is not valid: it has ' ' at byte 1; a header name is one word of \
             letters, digits and !#$%&'*+-.^_`|~"
        );
        assert!(matches!(
            header_line(": v"),
            Err(SpecError::HeaderName { .. })
        ));
        let e = header_line("X-A: a\u{1}b").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("header X-A: the value has the control character '\\u{1}' at byte 1"),
            "{e}"
        );
        assert!(check_method("PROPFIND").is_ok());
        let e = check_method("GE T").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("method \"GE T\" is not valid: it has ' ' at byte 2"),
            "{e}"
        );
        assert!(
            check_method("")
                .unwrap_err()
                .to_string()
                .contains("cannot be empty")
        );
    }

    #[test]
    fn the_whole_spec_is_checked() {
        let spec = || ProbeSpec::get(Url::parse("http://h.example:8080/").unwrap());
        assert_eq!(spec().check(), Ok(()));
        let mut s = spec();
        s.method = "GET /x".into();
        assert!(matches!(s.check(), Err(SpecError::Method { .. })));
        let mut s = spec();
        s.headers.push(("Host".into(), "H.example:8080".into()));
        assert_eq!(s.check(), Ok(()), "the URL's own host is fine");
        s.headers.push(("Host".into(), "other.example".into()));
        assert!(
            matches!(s.check(), Err(SpecError::Host { ref url_host, .. }) if url_host == "h.example:8080")
        );
        let mut s = spec();
        s.cookies.push(("sid".into(), "a\rb".into()));
        assert!(matches!(s.check(), Err(SpecError::Cookie { .. })));
        let mut s = spec();
        s.bearer = Some("abc\ndef".into());
        assert!(matches!(s.check(), Err(SpecError::Bearer(_))));
        let mut s = spec();
        s.bearer = Some("abc".into());
        assert_eq!(s.check(), Ok(()));
        s.headers
            .push(("authorization".into(), "Basic YWxpY2U6cHc=".into()));
        assert_eq!(s.check(), Err(SpecError::TwoAuthorizations));
        let mut s = spec();
        s.credentials = Some(UserCredentials::new("al\nice", "pw".into()));
        assert!(matches!(
            s.check(),
            Err(SpecError::User { what: "server", .. })
        ));
    }
}
