//! A cookie jar with a browser's rules (via `why401_wire::cookie`): what the user gave
//! (`-b`, a Netscape cookie file), what responses set, what each request carries — and which
//! cookies it holds back, with the reason.

use url::Url;
use why401_evidence::WithheldCookie;
use why401_wire::cookie::{self, Origin, Request, SetCookie};

struct Stored {
    cookie: SetCookie,
    scheme: String,
    host: String,
    path: String,
    at: i64,
}

/// The cookies of one probe.
#[derive(Default)]
pub struct Jar {
    stored: Vec<Stored>,
    /// `-b 'a=b'` pairs: sent to the original origin, as curl sends them.
    given: Vec<(String, String)>,
    given_origin: Option<(String, String, u16)>,
}

/// A `(scheme, host, port)` triple.
pub fn origin(url: &Url) -> (String, String, u16) {
    (
        url.scheme().to_string(),
        url.host_str().unwrap_or("").to_ascii_lowercase(),
        url.port_or_known_default().unwrap_or(0),
    )
}

impl Jar {
    /// A jar with the user's cookies for `target`.
    pub fn new(
        given: Vec<(String, String)>,
        netscape: Option<&str>,
        target: &Url,
    ) -> (Jar, Vec<String>) {
        let mut jar = Jar {
            stored: Vec::new(),
            given,
            given_origin: Some(origin(target)),
        };
        let mut problems = Vec::new();
        if let Some(text) = netscape {
            for (n, line) in text.lines().enumerate() {
                match netscape_line(line) {
                    Ok(Some(s)) => jar.stored.push(s),
                    Ok(None) => {}
                    Err(e) => problems.push(format!("cookie file line {}: {e}", n + 1)),
                }
            }
        }
        (jar, problems)
    }

    /// Stores a `Set-Cookie` received from `url`.
    pub fn store(&mut self, value: &str, url: &Url, now: i64) {
        let Ok(cookie) = cookie::parse_set_cookie(value, now) else {
            return;
        };
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        // A newer cookie replaces one of the same name, domain and path.
        self.stored.retain(|s| {
            !(s.cookie.name == cookie.name
                && s.cookie.domain == cookie.domain
                && s.cookie.path == cookie.path
                && s.host == host)
        });
        self.stored.push(Stored {
            cookie,
            scheme: url.scheme().into(),
            host,
            path: url.path().into(),
            at: now,
        });
    }

    /// The `Cookie` header for a request to `url`, and the cookies held back from it.
    pub fn header_for(&self, url: &Url, now: i64) -> (Option<String>, Vec<WithheldCookie>) {
        let mut pairs: Vec<String> = Vec::new();
        if self.given_origin.as_ref() == Some(&origin(url)) {
            pairs.extend(self.given.iter().map(|(n, v)| format!("{n}={v}")));
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let mut withheld = Vec::new();
        let req = Request {
            scheme: url.scheme(),
            host: &host,
            path: url.path(),
            now,
            cross_site: false,
            top_level_safe_navigation: true,
        };
        for s in &self.stored {
            let o = Origin {
                scheme: &s.scheme,
                host: &s.host,
                path: &s.path,
                at: s.at,
            };
            match s.cookie.sent_with(o, req) {
                Ok(()) => pairs.push(format!("{}={}", s.cookie.name, s.cookie.value)),
                Err(reason) if related(&host, s.cookie.domain.as_deref().unwrap_or(&s.host)) => {
                    withheld.push(WithheldCookie {
                        name: s.cookie.name.clone(),
                        url: url.to_string(),
                        reason: reason.to_string(),
                    })
                }
                Err(_) => {}
            }
        }
        ((!pairs.is_empty()).then(|| pairs.join("; ")), withheld)
    }
}

/// Whether two hosts belong to the same site, loosely (the last two labels match), so a
/// cookie held back from an unrelated site is not reported.
fn related(a: &str, b: &str) -> bool {
    fn tail(h: &str) -> Vec<&str> {
        h.rsplit('.').take(2).collect()
    }
    a == b || tail(a) == tail(b)
}

/// One line of a Netscape cookie file (`curl -c`, browser exports).
fn netscape_line(line: &str) -> Result<Option<Stored>, String> {
    let (line, http_only) = match line.strip_prefix("#HttpOnly_") {
        Some(rest) => (rest, true),
        None => (line, false),
    };
    if line.trim().is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() < 7 {
        return Err(format!(
            "{} fields, 7 expected (domain, subdomains, path, secure, expiry, name, value)",
            f.len()
        ));
    }
    let expires: i64 = f[4]
        .trim()
        .parse()
        .map_err(|_| format!("expiry {:?} is not a number", f[4]))?;
    let subdomains = f[1].eq_ignore_ascii_case("TRUE");
    let domain = f[0].trim_start_matches('.').to_ascii_lowercase();
    let secure = f[3].eq_ignore_ascii_case("TRUE");
    let cookie = SetCookie {
        name: f[5].to_string(),
        value: f[6].trim_end_matches(['\r', '\n']).to_string(),
        expires: (expires != 0).then_some(expires),
        max_age: None,
        domain: subdomains.then(|| domain.clone()),
        path: Some(f[2].to_string()),
        secure,
        http_only,
        same_site: None,
        partitioned: false,
        lints: Vec::new(),
    };
    let scheme = if secure { "https" } else { "http" };
    Ok(Some(Stored {
        cookie,
        scheme: scheme.into(),
        host: domain,
        path: f[2].to_string(),
        at: 0,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000;

    #[test]
    fn netscape_file_and_withheld_reasons() {
        let file = "# Netscape HTTP Cookie File\n#HttpOnly_app.example.com\tFALSE\t/app\tTRUE\t0\tsid\tabc\n.example.com\tTRUE\t/\tFALSE\t1000\told\tx\n";
        let (jar, problems) = Jar::new(
            vec![],
            Some(file),
            &Url::parse("http://app.example.com/").unwrap(),
        );
        assert!(problems.is_empty());
        let (header, withheld) =
            jar.header_for(&Url::parse("http://app.example.com/api").unwrap(), NOW);
        assert_eq!(header, None);
        let reasons: Vec<&str> = withheld.iter().map(|w| w.reason.as_str()).collect();
        assert_eq!(withheld.len(), 2, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("Path=/app")));
        assert!(reasons.iter().any(|r| r.contains("expired")));
        let (header, _) =
            jar.header_for(&Url::parse("https://app.example.com/app/x").unwrap(), NOW);
        assert_eq!(header.as_deref(), Some("sid=abc"));
    }

    #[test]
    fn set_cookie_then_secure_over_http() {
        let (mut jar, _) = Jar::new(
            vec![("a".into(), "1".into())],
            None,
            &Url::parse("http://h.test/").unwrap(),
        );
        jar.store(
            "session=s1; Path=/; Secure",
            &Url::parse("https://h.test/login").unwrap(),
            NOW,
        );
        let (header, withheld) = jar.header_for(&Url::parse("http://h.test/api").unwrap(), NOW);
        assert_eq!(header.as_deref(), Some("a=1"));
        assert_eq!(withheld[0].name, "session");
        assert!(withheld[0].reason.contains("plain http"));
        assert!(
            Jar::new(
                vec![],
                Some("bad line"),
                &Url::parse("http://h.test/").unwrap()
            )
            .1[0]
                .contains("fields")
        );
    }
}
