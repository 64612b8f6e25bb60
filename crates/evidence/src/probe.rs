//! What a live probe observed beyond the exchanges themselves: DNS, TLS, redirects, cookies held
//! back, sibling URLs, what the user gave. Plain data, no behaviour.

use serde::Serialize;

use crate::{Exchange, Leg};

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
