//! One HTTP exchange as it went on the wire: the request, the response, why the leg was sent and
//! who put credentials on it. Every source that sees traffic (the probe today, browser captures
//! next) records it in these types, so one set of rules reads them all.

use serde::Serialize;

/// A header as sent or received (order and duplicates kept).
pub type Headers = Vec<(String, String)>;

/// The first value of header `name` (case-insensitive).
pub fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of header `name`.
pub fn headers_named<'a>(
    headers: &'a Headers,
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A request as it went on the wire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRecord {
    pub method: String,
    pub url: String,
    /// Headers sent; secrets are redacted at rendering time, not here.
    pub headers: Headers,
    pub body_len: usize,
}

/// A response as it came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseRecord {
    pub status: u16,
    pub version: String,
    pub headers: Headers,
    /// The start of the body (up to 64 KiB), lossily decoded.
    pub body: String,
    pub body_len: usize,
}

impl ResponseRecord {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every value of header `name`.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        headers_named(&self.headers, name)
    }

    /// The standard reason phrase of the status (`Unauthorized`), empty for unregistered codes.
    /// The phrase the server sent is not kept: HTTP/2 has none and HTTP/1.1 lets it say anything.
    pub fn reason(&self) -> &'static str {
        http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("")
    }

    /// Whether the body is HTML.
    pub fn is_html(&self) -> bool {
        self.header("content-type")
            .is_some_and(|c| c.to_ascii_lowercase().contains("html"))
            || self
                .body
                .trim_start()
                .get(..15)
                .is_some_and(|s| s.to_ascii_lowercase().starts_with("<!doctype html"))
    }
}

/// Why a leg was sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Leg {
    /// The request as the user gave it.
    Initial,
    /// An answer to a challenge, in `scheme`.
    Auth { scheme: String, step: u8 },
    /// A Digest retry after `stale=true`.
    StaleRetry,
    /// A redirect followed.
    Redirect,
    /// A credential-free request to a sibling URL, for comparison only.
    Sibling { variant: String },
}

/// Who put the credentials on a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthSource {
    /// The user's own header (`-H 'Authorization: …'`).
    UserHeader,
    /// `--bearer`.
    Bearer,
    /// Computed by why401 from `-u` in answer to a challenge.
    Answered,
    /// For the proxy (`--proxy-user`).
    Proxy,
}

/// Credentials a request carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentAuth {
    pub header: String,
    pub scheme: String,
    pub source: AuthSource,
}

/// One request/response pair (or a request that got no response).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    pub leg: Leg,
    /// Which TCP connection carried it (0, 1, …): NTLM must stay on one.
    pub connection: u32,
    pub request: RequestRecord,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<SentAuth>,
    pub elapsed_ms: f64,
    /// Sent through a proxy.
    pub via_proxy: bool,
}

impl Exchange {
    /// The response status, if any.
    pub fn status(&self) -> Option<u16> {
        self.response.as_ref().map(|r| r.status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16) -> ResponseRecord {
        ResponseRecord {
            status,
            version: "HTTP/1.1".into(),
            headers: vec![],
            body: String::new(),
            body_len: 0,
        }
    }

    #[test]
    fn reason_phrases_are_the_registered_ones() {
        assert_eq!(response(401).reason(), "Unauthorized");
        assert_eq!(response(407).reason(), "Proxy Authentication Required");
        assert_eq!(response(511).reason(), "Network Authentication Required");
        assert_eq!(response(421).reason(), "Misdirected Request");
        assert_eq!(response(599).reason(), "");
        assert_eq!(response(42).reason(), "");
    }
}
