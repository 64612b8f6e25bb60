//! "Copy as cURL": the command lines Chrome, Edge and Firefox copy (bash or cmd.exe quoting),
//! read back into a request.
//!
//! Tokenising is `shell-words` (POSIX rules); cmd.exe's `^` escapes are undone first. Headers
//! and the method are checked as they are read ([`crate::spec::header_line`]), so a request the
//! probe could not send as given is refused before anything is sent.

use crate::spec::{self, SpecError};

/// The request a curl command line describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurlRequest {
    /// The first bare word (or `--url`), unparsed: the caller decides what a URL is.
    pub url: String,
    /// `-X`, or `HEAD` for `-I`; `POST` when only data was given, as curl does.
    pub method: Option<String>,
    /// `-H`, `-A` and `-e`, in order and already checked; a `Cookie` header goes to `cookies`.
    pub headers: Vec<(String, String)>,
    /// Every `-d`/`--data-*` value, joined with `&` as curl joins them.
    pub data: Option<String>,
    /// `-u user[:password]` as given.
    pub user: Option<String>,
    /// `-b` or a `Cookie` header: `name=value; ...`, or a cookie file's path (the last wins).
    pub cookies: Option<String>,
    /// `-k`: go on past a certificate that does not verify.
    pub insecure: bool,
    /// `-x`, as given.
    pub proxy: Option<String>,
    /// `-U user[:password]` for the proxy, as given.
    pub proxy_user: Option<String>,
    /// `-L`. Read so it is not reported as unknown; the probe follows redirects either way.
    pub location: bool,
    /// `--location-trusted`.
    pub location_trusted: bool,
    /// `--max-redirs N`.
    pub max_redirs: Option<u32>,
    /// `--basic`, `--digest`, `--ntlm` or `--negotiate`: the one scheme to answer with.
    pub auth_type: Option<String>,
    /// `--cacert FILE`.
    pub cacert: Option<String>,
    /// `--delegation LEVEL` (none, policy, always), as given.
    pub delegation: Option<String>,
    /// `--resolve HOST:PORT:ADDR` pins, as given (read by the probe's own `--resolve`).
    pub resolve: Vec<String>,
    /// Options that change nothing for the probe (`--compressed`, `-s`, ...).
    pub ignored: Vec<String>,
    /// Options this reader does not know, so the probe does not do what they ask: said aloud.
    pub unknown: Vec<String>,
}

/// Why a command line cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CurlError {
    /// The shell quoting does not close (an unmatched quote); holds the splitter's complaint.
    #[error("cannot split the command line: {0}")]
    Quoting(String),
    /// Options only, nothing to probe.
    #[error("no URL in the curl command")]
    NoUrl,
    /// An option that takes a value came last; holds the option.
    #[error("{0} needs a value")]
    MissingValue(String),
    /// An option's value is not of the kind it takes (`--max-redirs lots`).
    #[error("{flag} {value:?}: {why}")]
    BadValue {
        /// The option as written.
        flag: String,
        /// Its value as written.
        value: String,
        /// What kind of value the option takes.
        why: &'static str,
    },
    /// A header or method the probe could not send as given.
    #[error(transparent)]
    Request(#[from] SpecError),
}

/// Reads a curl command line (with or without the leading `curl`).
pub fn parse(text: &str) -> Result<CurlRequest, CurlError> {
    let text = if looks_like_cmd(text) {
        undo_cmd_quoting(text)
    } else {
        text.replace("\\\r\n", " ").replace("\\\n", " ")
    };
    let words = shell_words::split(&text).map_err(|e| CurlError::Quoting(e.to_string()))?;
    parse_args(&words)
}

/// Reads curl arguments already split (as from `why401 curl -- ARGS`).
pub fn parse_args(words: &[String]) -> Result<CurlRequest, CurlError> {
    let mut req = CurlRequest::default();
    let mut it = words.iter().peekable();
    if it.peek().is_some_and(|w| {
        w.as_str() == "curl" || w.ends_with("/curl") || w.eq_ignore_ascii_case("curl.exe")
    }) {
        it.next();
    }
    let value = |it: &mut std::iter::Peekable<std::slice::Iter<String>>,
                 flag: &str|
     -> Result<String, CurlError> {
        it.next()
            .cloned()
            .ok_or_else(|| CurlError::MissingValue(flag.to_string()))
    };
    while let Some(w) = it.next() {
        // `--flag=value` form.
        let (flag, inline) = match w.split_once('=') {
            Some((f, v)) if w.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (w.clone(), None),
        };
        let take = |it: &mut std::iter::Peekable<std::slice::Iter<String>>| match &inline {
            Some(v) => Ok(v.clone()),
            None => value(it, &flag),
        };
        match flag.as_str() {
            "-H" | "--header" => {
                let (n, v) = spec::header_line(&take(&mut it)?)?;
                if n.eq_ignore_ascii_case("cookie") {
                    req.cookies = Some(v);
                } else {
                    req.headers.push((n, v));
                }
            }
            "-X" | "--request" => {
                let m = take(&mut it)?;
                spec::check_method(&m)?;
                req.method = Some(m);
            }
            "-d" | "--data" | "--data-raw" | "--data-binary" | "--data-ascii"
            | "--data-urlencode" => {
                let d = take(&mut it)?;
                req.data = Some(match req.data.take() {
                    Some(prev) => format!("{prev}&{d}"),
                    None => d,
                });
            }
            "-u" | "--user" => req.user = Some(take(&mut it)?),
            "-b" | "--cookie" => req.cookies = Some(take(&mut it)?),
            "-k" | "--insecure" => req.insecure = true,
            "-x" | "--proxy" => req.proxy = Some(take(&mut it)?),
            "-U" | "--proxy-user" => req.proxy_user = Some(take(&mut it)?),
            "-L" | "--location" => req.location = true,
            "--max-redirs" => {
                let v = take(&mut it)?;
                req.max_redirs = Some(v.parse().map_err(|_| CurlError::BadValue {
                    flag: flag.clone(),
                    value: v,
                    why: "a number of redirects is expected",
                })?);
            }
            "--url" => req.url = take(&mut it)?,
            "-A" | "--user-agent" => {
                let v = take(&mut it)?;
                spec::check_header("User-Agent", &v)?;
                req.headers.push(("User-Agent".into(), v));
            }
            "-e" | "--referer" => {
                let v = take(&mut it)?;
                spec::check_header("Referer", &v)?;
                req.headers.push(("Referer".into(), v));
            }
            "-I" | "--head" => req.method = Some("HEAD".into()),
            "--location-trusted" => req.location_trusted = true,
            "--basic" | "--digest" | "--ntlm" | "--negotiate" => {
                req.auth_type = Some(flag.trim_start_matches('-').to_string());
            }
            // `--anyauth` is what the probe does anyway: answer the best scheme offered.
            "--compressed" | "-s" | "--silent" | "-S" | "--show-error" | "-v" | "--verbose"
            | "-i" | "--include" | "-g" | "--globoff" | "--http1.1" | "--http2" | "-f"
            | "--fail" | "--anyauth" => req.ignored.push(flag.clone()),
            // The probe keeps its own per-step --timeout.
            "-o" | "--output" | "-m" | "--max-time" | "--connect-timeout" | "-w"
            | "--write-out" => {
                req.ignored.push(flag.clone());
                let _ = take(&mut it)?;
            }
            "--cacert" => req.cacert = Some(take(&mut it)?),
            "--delegation" => req.delegation = Some(take(&mut it)?),
            "--resolve" => req.resolve.push(take(&mut it)?),
            f if f.starts_with('-') && f.len() > 1 => req.unknown.push(f.to_string()),
            _ if req.url.is_empty() => req.url = w.clone(),
            // A second URL: curl would fetch it too; the probe does not.
            _ => req.unknown.push(w.clone()),
        }
    }
    if req.url.is_empty() {
        return Err(CurlError::NoUrl);
    }
    if req.method.is_none() && req.data.is_some() {
        req.method = Some("POST".into());
    }
    Ok(req)
}

/// Chrome's "Copy as cURL (cmd)" quotes with `^"` and escapes with `^`.
fn looks_like_cmd(text: &str) -> bool {
    text.contains("^\"") || text.contains("^\r\n") || text.contains(" ^\n")
}

fn undo_cmd_quoting(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' => match chars.next() {
                // `^` at the end of a line continues it.
                Some('\r') => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    out.push(' ');
                }
                Some('\n') => out.push(' '),
                Some(next) => out.push(next),
                None => {}
            },
            // cmd.exe has no single quotes; keep them literal for the POSIX splitter.
            '\'' => out.push_str("'\"'\"'"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chrome_bash() {
        let r = parse(
            "curl 'https://api.example.com/v1/orders?x=1' \\\n  -H 'accept: application/json' \\\n  -H 'authorization: Bearer eyJ.a.b' \\\n  -b 'sid=abc; theme=dark' \\\n  --data-raw '{\"q\":\"it'\\''s\"}' \\\n  --compressed",
        )
        .unwrap();
        assert_eq!(r.url, "https://api.example.com/v1/orders?x=1");
        assert_eq!(r.method.as_deref(), Some("POST"));
        assert_eq!(
            r.headers[1],
            ("authorization".into(), "Bearer eyJ.a.b".into())
        );
        assert_eq!(r.cookies.as_deref(), Some("sid=abc; theme=dark"));
        assert_eq!(r.data.as_deref(), Some("{\"q\":\"it's\"}"));
        assert_eq!(r.ignored, ["--compressed"]);
    }

    #[test]
    fn chrome_cmd() {
        let r = parse("curl ^\"https://intranet.example/reports/^\" ^\r\n  -H ^\"accept: text/html^\" ^\r\n  -H ^\"cookie: a=1^\" ^\r\n  --data-raw ^\"^{^\\^\"k^\\^\":1^}^\" ^\r\n  --compressed").unwrap();
        assert_eq!(r.url, "https://intranet.example/reports/");
        assert_eq!(r.cookies.as_deref(), Some("a=1"));
        assert_eq!(r.data.as_deref(), Some("{\"k\":1}"));
    }

    #[test]
    fn firefox_and_flags() {
        let r = parse("curl --url http://h/ -X PUT -u alice -k --header=X-A:1").unwrap();
        assert_eq!(
            (
                r.url.as_str(),
                r.method.as_deref(),
                r.user.as_deref(),
                r.insecure
            ),
            ("http://h/", Some("PUT"), Some("alice"), true)
        );
        assert_eq!(r.headers, [("X-A".to_string(), "1".to_string())]);
        assert_eq!(parse("curl -H"), Err(CurlError::MissingValue("-H".into())));
        assert_eq!(parse("curl -s"), Err(CurlError::NoUrl));
        let r = parse(
            "curl http://h/ --ntlm --location-trusted --cacert ca.pem -m 2.5 --resolve x http://other/",
        )
        .unwrap();
        assert_eq!(
            (
                r.auth_type.as_deref(),
                r.location_trusted,
                r.cacert.as_deref()
            ),
            (Some("ntlm"), true, Some("ca.pem"))
        );
        assert_eq!(r.ignored, ["-m"]);
        assert_eq!(r.unknown, ["http://other/"]);
        assert_eq!(r.resolve, ["x"]);
        assert!(matches!(
            parse("curl 'unclosed"),
            Err(CurlError::Quoting(_))
        ));
    }

    #[test]
    fn what_cannot_be_sent_is_refused_while_reading() {
        let err = |cmd: &str| parse(cmd).unwrap_err().to_string();
        assert_eq!(
            err("curl http://h/ -H 'no colon'"),
            "header \"no colon\": a header is 'Name: value'"
        );
        let e = err("curl http://h/ -H 'Bad Name: v'");
        assert!(
            e.starts_with("header name \"Bad Name\" is not valid"),
            "{e}"
        );
        let e = err("curl http://h/ -X 'GET /'");
        assert!(e.starts_with("method \"GET /\" is not valid"), "{e}");
        assert_eq!(
            err("curl http://h/ --max-redirs lots"),
            "--max-redirs \"lots\": a number of redirects is expected"
        );
        // Control characters reach us through `why401 curl -- ARGS`, split by the shell.
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(matches!(
            parse_args(&args(&["http://h/", "-H", "X-A: a\nb"])),
            Err(CurlError::Request(SpecError::HeaderValue { .. }))
        ));
        assert!(matches!(
            parse_args(&args(&["http://h/", "-A", "a\rb"])),
            Err(CurlError::Request(SpecError::HeaderValue { .. }))
        ));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
