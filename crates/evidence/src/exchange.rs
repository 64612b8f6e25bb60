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
    /// The method sent (`GET`, `POST`; `CONNECT` for a refused proxy tunnel).
    pub method: String,
    /// The absolute URL requested; for a CONNECT, the tunnel's `host:port`.
    pub url: String,
    /// Headers sent; secrets are redacted at rendering time, not here.
    pub headers: Headers,
    /// Bytes of request body sent.
    pub body_len: usize,
}

/// A response as it came back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseRecord {
    /// The HTTP status code, e.g. 401.
    pub status: u16,
    /// The protocol version of the response, as hyper names it (`HTTP/1.1`).
    pub version: String,
    /// Headers received, in order, duplicates kept.
    pub headers: Headers,
    /// The start of the body (up to 64 KiB), lossily decoded.
    pub body: String,
    /// Bytes of body the source read (it may stop early on a huge body); `body` keeps the start.
    pub body_len: usize,
    /// Why the body was not read to its end (longer than the source reads, or the connection
    /// broke off mid-body); `None` when it was read whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body_incomplete: Option<String>,
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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Leg {
    /// The request as the user gave it.
    Initial,
    /// An answer to a challenge, in `scheme`.
    Auth {
        /// The scheme answered: `Basic`, `Digest`, `NTLM`, `Negotiate`.
        scheme: String,
        /// Which answer in that scheme's handshake, from 1: NTLM's AUTHENTICATE is step 2.
        step: u8,
    },
    /// A Digest retry after `stale=true`.
    StaleRetry,
    /// A redirect followed.
    Redirect,
    /// A credential-free request to a sibling URL, for comparison only.
    Sibling {
        /// Which variant of the URL, as [`crate::Sibling::variant`] names them.
        variant: String,
    },
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
    /// Seen in a browser capture: the browser (or a script) put them there.
    Captured,
}

/// Credentials a request carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentAuth {
    /// The header that carried them: `Authorization` or `Proxy-Authorization`.
    pub header: String,
    /// The scheme of the credentials (`Basic`, `Bearer`, `NTLM`, …).
    pub scheme: String,
    /// Who put them on the request.
    pub source: AuthSource,
}

/// One request/response pair (or a request that got no response).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exchange {
    /// Why the request was sent.
    pub leg: Leg,
    /// Which TCP connection carried it (0, 1, …): NTLM must stay on one.
    pub connection: u32,
    /// The request as it went on the wire.
    pub request: RequestRecord,
    /// The response; `None` when none came (then `error` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<ResponseRecord>,
    /// What went wrong: no response, a request that could not be built, or why the handshake could
    /// not go on (set even when a response came).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The credentials the request carried and who added them; `None` when it carried none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth: Option<SentAuth>,
    /// Milliseconds from sending the request to having read the response; 0 when not measured
    /// (a request never sent, a refused CONNECT).
    pub elapsed_ms: f64,
    /// Sent through a proxy.
    pub via_proxy: bool,
}

impl Exchange {
    /// A first leg as a capture or a test records it: `method url` with `request_headers`,
    /// answered `status` with `response_headers` (HTTP/1.1, no body); the credentials are the
    /// caller's to set.
    pub fn answered(
        method: &str,
        url: &str,
        request_headers: Headers,
        status: u16,
        response_headers: Headers,
    ) -> Self {
        Exchange {
            leg: Leg::Initial,
            connection: 0,
            request: RequestRecord {
                method: method.into(),
                url: url.into(),
                headers: request_headers,
                body_len: 0,
            },
            response: Some(ResponseRecord {
                status,
                version: "HTTP/1.1".into(),
                headers: response_headers,
                body: String::new(),
                body_len: 0,
                body_incomplete: None,
            }),
            error: None,
            auth: None,
            elapsed_ms: 0.0,
            via_proxy: false,
        }
    }

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
            body_incomplete: None,
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
