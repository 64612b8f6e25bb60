//! What a live probe observed: every leg of the exchange, DNS, TLS, redirects, cookies held back,
//! sibling URLs — recorded by the probe, read by the rules. Plain data, no behaviour.

use serde::Serialize;

pub mod logs;

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

/// Name resolution of the target host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DnsRecord {
    pub host: String,
    pub addresses: Vec<String>,
    /// The CNAME chain, first alias first; the last name is canonical (the Kerberos SPN uses it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cnames: Vec<String>,
}

/// One certificate of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertRecord {
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// The TLS session with the target (or the proxy tunnel's far end).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TlsRecord {
    pub version: String,
    /// The chain as presented, leaf first.
    pub chain: Vec<CertRecord>,
    /// Whether the chain verified against the trust store.
    pub verified: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_error: Option<String>,
}

/// Why the target could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    Dns,
    Refused,
    Tls,
    Timeout,
    Other,
}

/// A failure to reach the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReachFailure {
    pub kind: ReachKind,
    pub detail: String,
    /// What was being reached: the target or the proxy.
    pub what: String,
}

/// A redirect that was followed (or stopped at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectHop {
    pub status: u16,
    pub from: String,
    pub to: String,
    /// Scheme, host or port changed.
    pub cross_origin: bool,
    /// Credentials the previous request carried were not sent on (as curl and browsers do).
    pub credentials_dropped: bool,
}

/// A cookie the jar held that a request did not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithheldCookie {
    pub name: String,
    pub url: String,
    pub reason: String,
}

/// A credential-free look at a sibling URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sibling {
    /// `https`, `http`, `trailing-slash`, `no-trailing-slash`, `host-alias`.
    pub variant: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The challenge header values, as received.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the user gave the probe, as far as rules care.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Given {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub password: bool,
    pub bearer: bool,
    /// The user's own `Authorization` header value, if any.
    #[serde(skip)]
    pub authorization: Option<String>,
    pub proxy_credentials: bool,
    /// `--auth-type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_scheme: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expect_scopes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_audience: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_issuer: Option<String>,
    /// The request looks like an API call (Accept JSON, a non-GET method, a body) rather than a page.
    pub api: bool,
    pub location_trusted: bool,
}

/// How Negotiate went, when the server offered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NegotiateRecord {
    /// The SPN a Kerberos ticket would have been for (`HTTP/canonical.host`).
    pub spn: String,
    /// `kerberos` or `ntlm`: what actually travelled.
    pub mechanism: String,
    /// Why Kerberos was not used, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
}

/// Everything one probe observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeEvidence {
    pub target: String,
    /// The local clock when the probe ran, Unix seconds.
    pub now: i64,
    pub given: Given,
    pub exchanges: Vec<Exchange>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<ReachFailure>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<RedirectHop>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld_cookies: Vec<WithheldCookie>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<Sibling>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negotiate: Option<NegotiateRecord>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Redirects stopped at `--max-redirs`.
    pub redirect_limit_hit: bool,
}

impl ProbeEvidence {
    /// The exchanges of the main path (siblings excluded).
    pub fn path(&self) -> impl Iterator<Item = &Exchange> {
        self.exchanges
            .iter()
            .filter(|e| !matches!(e.leg, Leg::Sibling { .. }))
    }

    /// The last exchange of the main path that got a response.
    pub fn last(&self) -> Option<&Exchange> {
        self.path().filter(|e| e.response.is_some()).last()
    }

    /// The final status, if the target answered.
    pub fn final_status(&self) -> Option<u16> {
        self.last().and_then(Exchange::status)
    }
}
