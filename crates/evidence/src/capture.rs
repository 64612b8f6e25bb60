//! What a browser capture (a HAR, a Chrome/Edge NetLog, a Fiddler SAZ) shows: its requests as
//! [`Exchange`]s grouped into flows, how far each can be trusted, and what only a browser
//! records (cache hits, the auth controller's decisions, cookies it refused). Plain data.

use serde::Serialize;

use crate::Exchange;

/// The kind of capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaptureFormat {
    /// HTTP Archive 1.1/1.2 (DevTools of Chrome, Edge, Firefox, Safari; Fiddler, Playwright…).
    Har,
    /// Chrome/Edge NetLog (`chrome://net-export`, `--log-net-log`).
    Netlog,
    /// Fiddler session archive.
    Saz,
}

/// How much a leg of a capture can be trusted to show what went on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trust {
    /// Values hidden by the exporter (sanitized HAR, default NetLog): what is absent may have
    /// been sent.
    Sanitized,
    /// What the browser chose to show (a HAR): headers as DevTools saw them; a browser auth
    /// handshake's intermediate legs are not in it.
    BrowserView,
    /// The bytes on the wire (a SAZ, a NetLog with credentials).
    RawWire,
}

/// The capture as a whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureInfo {
    /// What kind of file it is.
    pub format: CaptureFormat,
    /// The tool that wrote it, with its version (`WebInspector 537.36`, `Firefox 128.0`).
    pub creator: String,
    /// The browser, when the file names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub browser: Option<String>,
    /// The export or capture mode in words (`sanitized`, `with sensitive data`,
    /// `IncludeSensitive`…).
    pub mode: String,
    /// The trust of its legs, as a whole.
    pub trust: Trust,
    /// Entries (HAR entries, NetLog requests, SAZ sessions) read.
    pub entries: usize,
    /// Where reading stopped before the end of the file (a truncated export) and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Entries that could not be used, with why (counted, never silent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// What the exporter hid, in words (header values stripped, legs left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
}

/// One request of a capture with what the capture says about it beyond the exchange.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CapturedLeg {
    /// Its position in the capture, from 0 (HAR entry, NetLog request, SAZ session order).
    pub entry: usize,
    /// When it started, as the capture wrote it (ISO 8601 in HARs).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    /// When it started, Unix milliseconds, when the capture's time could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_ms: Option<i64>,
    /// The request and its response.
    pub exchange: Exchange,
    /// How far it can be trusted.
    pub trust: Trust,
    /// Names of headers whose values the exporter hid (`Authorization`, `Cookie`…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden_headers: Vec<String>,
    /// Served without the network: `memory`, `disk`, `service-worker`, `prefetch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_cache: Option<String>,
    /// What the browser fetched it as (`document`, `xhr`, `fetch`, `preflight`, `script`…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The capture's id of the connection it went on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// Bytes the browser says went over the network for it, every auth leg included (Chrome's
    /// `_transferSize`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer_size: Option<i64>,
}

impl CapturedLeg {
    /// A leg with only its exchange known: nothing hidden, nothing from a cache, no time.
    pub fn new(entry: usize, exchange: Exchange, trust: Trust) -> Self {
        CapturedLeg {
            entry,
            started: None,
            started_ms: None,
            exchange,
            trust,
            hidden_headers: Vec::new(),
            from_cache: None,
            resource_type: None,
            connection_id: None,
            transfer_size: None,
        }
    }

    /// Whether it is a CORS preflight: so marked by the browser, or an `OPTIONS` asking
    /// `Access-Control-Request-Method`.
    pub fn is_preflight(&self) -> bool {
        self.resource_type.as_deref() == Some("preflight")
            || self.exchange.request.method == "OPTIONS"
                && crate::header(
                    &self.exchange.request.headers,
                    "access-control-request-method",
                )
                .is_some()
    }
}

impl CaptureInfo {
    /// What is known of a capture before it is read: its kind, who wrote it, how far it can be
    /// trusted; the readers fill in the rest as they go.
    pub fn new(format: CaptureFormat, creator: &str, mode: &str, trust: Trust) -> Self {
        CaptureInfo {
            format,
            creator: creator.to_string(),
            browser: None,
            mode: mode.to_string(),
            trust,
            entries: 0,
            stopped: None,
            skipped: Vec::new(),
            hidden: Vec::new(),
        }
    }
}

/// What Chrome's HTTP auth controller decided, from a NetLog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize)]
pub struct AuthDecision {
    /// The URL being authenticated.
    pub url: String,
    /// For the proxy (407) rather than the server.
    pub proxy: bool,
    /// The scheme of the handler Chrome made (`negotiate`, `ntlm`, `basic`, `digest`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheme: Option<String>,
    /// Whether the handler may use the logged-on user's credentials without asking
    /// (`allows_default_credentials`: the site is in the intranet zone or the allowlist).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allows_default_credentials: Option<bool>,
    /// How a challenge was judged (`accept`, `reject`, `stale`, `invalid`, `different_realm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// The SPN the security library was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spn: Option<String>,
    /// Delegation asked for (`delegated`, `by_kdc_policy`) or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation: Option<String>,
    /// The security library's status (`net_error`, SSPI/GSSAPI status) when it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The mechanism the security context settled on (Kerberos, NTLM).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<String>,
}

/// A cookie the browser would not send or store, and why (a NetLog's cookie inclusion status).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RefusedCookie {
    /// The cookie's name; its value is never recorded.
    pub name: String,
    /// The URL of the request.
    pub url: String,
    /// `send` or `store`.
    pub operation: String,
    /// Chrome's exclusion reasons (`EXCLUDE_SAMESITE_NONE_INSECURE`…).
    pub reasons: Vec<String>,
}

/// A navigation or fetch with its redirects and auth restarts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaptureFlow {
    /// Its number in the capture, from 1.
    pub index: usize,
    /// Its legs in order.
    pub legs: Vec<CapturedLeg>,
    /// The auth controller's decisions on the way (NetLog).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub auth: Vec<AuthDecision>,
    /// Cookies the browser refused on the way (NetLog).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused_cookies: Vec<RefusedCookie>,
}

impl CaptureFlow {
    /// The last leg that got a response.
    pub fn last(&self) -> Option<&CapturedLeg> {
        self.legs
            .iter()
            .rev()
            .find(|l| l.exchange.response.is_some())
    }

    /// The status of the last leg that got a response.
    pub fn final_status(&self) -> Option<u16> {
        self.last().and_then(|l| l.exchange.status())
    }
}
