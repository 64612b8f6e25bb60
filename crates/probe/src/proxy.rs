//! Proxy settings as `-x` and the `*_PROXY` / `NO_PROXY` environment give them, read strictly:
//! a value the probe cannot use is an error naming it, never a probe as if it were not set.

use std::net::IpAddr;

use url::{Host, Url};

use crate::spec::UserCredentials;

/// Reads a proxy as `-x` or `HTTPS_PROXY` give it: `host:port` or `http://[user:pass@]host:port`.
/// The error says why, in words, without repeating the value.
pub fn parse_proxy(value: &str) -> Result<Url, String> {
    let with_scheme = if value.contains("://") {
        value.to_string()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&with_scheme).map_err(|e| format!("not a proxy URL ({e})"))?;
    if url.scheme() != "http" {
        // The tunnel code speaks plain HTTP CONNECT; probing "through" a SOCKS or TLS proxy
        // that way would test a different path than the user's.
        return Err(format!(
            "{} proxies are not supported: why401 talks to HTTP proxies (http://host:port)",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("no proxy host in it".into());
    }
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("a proxy URL has no path, query or fragment (http://host:port)".into());
    }
    Ok(url)
}

/// The credentials in a proxy URL's userinfo (`http://user:pass@proxy:3128`), percent-decoded.
pub fn credentials_in(url: &Url) -> Option<UserCredentials> {
    if url.username().is_empty() {
        return None;
    }
    Some(UserCredentials::new(
        &percent_decode(url.username()),
        url.password().map(percent_decode).unwrap_or_default(),
    ))
}

fn percent_decode(s: &str) -> String {
    let hex = |c: &u8| (*c as char).to_digit(16);
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (b.get(i + 1).and_then(hex), b.get(i + 2).and_then(hex))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `value` with any userinfo (`user:pass@`) replaced by `***`, for error messages. Everything
/// up to the last `@` counts as userinfo, so a password holding `/` or `@` is hidden too.
pub fn redact(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), value),
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}***@{host}"),
        None => value.to_string(),
    }
}

/// One `NO_PROXY` entry: where the probe goes direct.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Bypass {
    /// `*`: every host.
    All,
    /// A host and its subdomains (`example.com`, `.example.com`, `*.example.com`), lower-case.
    Domain {
        /// The domain without a leading `.` or `*.`.
        name: String,
        /// Only this port bypasses the proxy, when one was given.
        port: Option<u16>,
    },
    /// An IP address (`prefix` = its full length) or a CIDR range (`10.0.0.0/8`).
    Net {
        /// The network's (or the host's) address.
        addr: IpAddr,
        /// How many leading bits must match: 32 or 128 for a single address.
        prefix: u8,
        /// Only this port bypasses the proxy, when one was given.
        port: Option<u16>,
    },
}

impl Bypass {
    /// Reads one entry; the error says why it is not a host, domain, IP address or range.
    pub fn parse(entry: &str) -> Result<Bypass, String> {
        let e = entry.trim();
        if e == "*" {
            return Ok(Bypass::All);
        }
        let bad = || {
            format!(
                "entry `{e}` is not a host name, a .domain suffix, an IP address or a CIDR range \
                 (with an optional :port)"
            )
        };
        let (host, port) = split_port(e).ok_or_else(bad)?;
        if let Some((ip, len)) = host.split_once('/') {
            let addr: IpAddr = ip.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = len
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?;
            return Ok(Bypass::Net { addr, prefix, port });
        }
        if let Ok(addr) = host.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            return Ok(Bypass::Net { addr, prefix, port });
        }
        let name = host
            .strip_prefix("*.")
            .unwrap_or(host)
            .trim_start_matches('.');
        let is_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
        if !is_name {
            return Err(bad());
        }
        Ok(Bypass::Domain {
            name: name.to_ascii_lowercase(),
            port,
        })
    }

    /// Whether requests to `url` go direct.
    pub fn matches(&self, url: &Url) -> bool {
        let port_ok = |p: &Option<u16>| p.is_none() || *p == url.port_or_known_default();
        match (self, url.host()) {
            (Bypass::All, _) => true,
            (Bypass::Domain { name, port }, Some(Host::Domain(h))) => {
                let h = h.to_ascii_lowercase();
                port_ok(port) && (h == *name || h.ends_with(&format!(".{name}")))
            }
            (Bypass::Net { addr, prefix, port }, Some(Host::Ipv4(ip))) => {
                port_ok(port) && in_range(IpAddr::V4(ip), *addr, *prefix)
            }
            (Bypass::Net { addr, prefix, port }, Some(Host::Ipv6(ip))) => {
                port_ok(port) && in_range(IpAddr::V6(ip), *addr, *prefix)
            }
            _ => false,
        }
    }
}

/// `host[:port]`, `[v6][:port]` or a bare IPv6 address (several colons, no port).
fn split_port(e: &str) -> Option<(&str, Option<u16>)> {
    if let Some(rest) = e.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after.strip_prefix(':') {
            Some(p) => Some((host, Some(p.parse().ok()?))),
            None if after.is_empty() || after.starts_with('/') => Some((host, None)),
            None => None,
        };
    }
    match e.split_once(':') {
        Some((host, p)) if !p.contains(':') => Some((host, Some(p.parse().ok()?))),
        _ => Some((e, None)),
    }
}

fn in_range(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    let (ip, net, bits) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    let shift = bits - u32::from(prefix);
    shift >= bits || ip >> shift == net >> shift
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn proxies_that_can_be_used() {
        assert_eq!(
            parse_proxy("proxy.corp:3128").unwrap().as_str(),
            "http://proxy.corp:3128/"
        );
        let p = parse_proxy("http://CORP%5Cbob:p%40ss@proxy:8080/").unwrap();
        let c = credentials_in(&p).unwrap();
        assert_eq!(
            (c.user.as_str(), c.domain.as_deref(), c.password.as_str()),
            ("bob", Some("CORP"), "p@ss")
        );
        assert!(credentials_in(&parse_proxy("proxy:1").unwrap()).is_none());
    }

    #[test]
    fn proxies_that_cannot() {
        for (value, why) in [
            ("proxy:notaport", "not a proxy URL"),
            ("http://", "not a proxy URL"),
            (
                "socks5://127.0.0.1:1080",
                "socks5 proxies are not supported",
            ),
            ("https://proxy:443", "https proxies are not supported"),
            ("http://proxy:3128/path", "no path"),
        ] {
            let got = parse_proxy(value).unwrap_err();
            assert!(got.contains(why), "{value}: {got}");
        }
    }

    #[test]
    fn redaction_hides_all_userinfo() {
        assert_eq!(redact("http://bob:s3/c@et@proxy:x"), "http://***@proxy:x");
        assert_eq!(redact("bob:pw@proxy"), "***@proxy");
        assert_eq!(redact("http://proxy:3128"), "http://proxy:3128");
    }

    #[test]
    fn no_proxy_entries() {
        let b = |e: &str| Bypass::parse(e).unwrap();
        let u = url("http://api.internal.example:8080/x");
        assert!(b("internal.example").matches(&u));
        assert!(b(".internal.example").matches(&u));
        assert!(b("*.internal.example").matches(&u));
        assert!(b("API.internal.example:8080").matches(&u));
        assert!(!b("api.internal.example:80").matches(&u));
        assert!(!b("ternal.example").matches(&u));
        assert!(b("*").matches(&u));
        assert!(b("10.0.0.0/8").matches(&url("http://10.1.2.3/")));
        assert!(!b("10.0.0.0/8").matches(&url("http://11.1.2.3/")));
        assert!(b("0.0.0.0/0").matches(&url("http://11.1.2.3/")));
        assert!(b("127.0.0.1").matches(&url("http://127.0.0.1:9/")));
        assert!(b("::1").matches(&url("http://[::1]:9/")));
        assert!(b("[::1]:9").matches(&url("http://[::1]:9/")));
        assert!(b("fd00::/8").matches(&url("https://[fd12::1]/")));
        assert!(!b("fd00::/8").matches(&url("https://10.0.0.1/")));
        for bad in [
            "<local>",
            "http://x",
            "a b",
            "10.0.0.0/33",
            "host:port",
            "*x",
        ] {
            let why = Bypass::parse(bad).unwrap_err();
            assert!(why.contains(bad), "{bad}: {why}");
        }
    }

    use proptest::prelude::*;

    proptest! {
        #[test]
        fn proxy_values_never_panic_and_redaction_hides_userinfo(
            v in prop_oneof![
                "\\PC{0,60}",
                "(http://)?[a-z]{1,6}:[a-zA-Z0-9%!]{1,8}@[a-z]{1,8}(:[0-9]{1,5})?",
            ]
        ) {
            let shown = redact(&v);
            if let Ok(url) = parse_proxy(&v) {
                prop_assert_eq!(url.scheme(), "http");
                let _ = credentials_in(&url);
                let secret = format!(":{}@", url.password().unwrap_or(""));
                if secret.len() > 2 {
                    prop_assert!(!shown.contains(&secret), "{} shows {}", shown, secret);
                }
            }
        }

        #[test]
        fn no_proxy_entries_never_panic(e in "[a-z0-9.:/*\\[\\] -]{0,40}", host in "[a-z0-9.-]{1,20}") {
            if let Ok(b) = Bypass::parse(&e)
                && let Ok(u) = Url::parse(&format!("http://{host}/"))
            {
                let _ = b.matches(&u);
            }
        }
    }
}
