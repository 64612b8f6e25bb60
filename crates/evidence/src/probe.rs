//! What a live probe observed beyond the exchanges themselves: DNS, TLS, redirects, cookies held
//! back, sibling URLs, what the user gave. Plain data, no behaviour.

use serde::Serialize;

use crate::{Exchange, Leg};

/// Name resolution of the target host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DnsRecord {
    /// The host name resolved (IPv6 literals without brackets).
    pub host: String,
    /// The addresses it resolved to, in the order they are tried.
    pub addresses: Vec<String>,
    /// The CNAME chain, first alias first; the last name is canonical (the Kerberos SPN uses it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cnames: Vec<String>,
    /// The addresses came from `--resolve`, not from DNS.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub pinned: bool,
}

/// One certificate of the chain.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CertRecord {
    /// The subject's distinguished name, as x509-parser prints it (`CN=…, O=…`).
    pub subject: String,
    /// The issuer's distinguished name; a TLS-inspection product shows itself here.
    pub issuer: String,
    /// Start of the validity period, Unix seconds.
    pub not_before: i64,
    /// End of the validity period, Unix seconds.
    pub not_after: i64,
    /// The subjectAltName DNS names and IPv4 addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// The TLS session with the target (or the proxy tunnel's far end).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TlsRecord {
    /// The negotiated protocol, as rustls names it (`TLSv1_3`); empty when the handshake failed.
    pub version: String,
    /// The chain as presented, leaf first.
    pub chain: Vec<CertRecord>,
    /// Whether the chain verified against the trust store.
    pub verified: bool,
    /// Why the chain did not verify; recorded with `--insecure` too, where the connection goes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verify_error: Option<String>,
}

/// Why the target could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReachKind {
    /// The host name did not resolve, or resolved to no address.
    Dns,
    /// The TCP connection was refused: nothing listens on that port.
    Refused,
    /// The TLS handshake failed, a rejected certificate included.
    Tls,
    /// Resolving, connecting, the TLS handshake or the response took longer than the timeout.
    Timeout,
    /// Anything else: a reset connection, an unreachable network, a broken HTTP response.
    Other,
}

/// A failure to reach the target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReachFailure {
    /// Which step failed, for the rules.
    pub kind: ReachKind,
    /// What the network layer said, e.g. `10.0.0.5:443: connection refused`.
    pub detail: String,
    /// What was being reached: the target or the proxy.
    pub what: String,
}

/// A redirect that was followed (or stopped at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedirectHop {
    /// The redirect status: 301, 302, 303, 307 or 308.
    pub status: u16,
    /// The URL that answered with the redirect.
    pub from: String,
    /// Its `Location`, resolved against `from`.
    pub to: String,
    /// Scheme, host or port changed.
    pub cross_origin: bool,
    /// Credentials the previous request carried were not sent on (as curl and browsers do).
    pub credentials_dropped: bool,
}

/// A cookie the jar held that a request did not carry, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WithheldCookie {
    /// The cookie's name; its value is never recorded.
    pub name: String,
    /// The URL of the request that went without it.
    pub url: String,
    /// The browser rule that held it back, in words (expired, domain or path mismatch,
    /// SameSite, …).
    pub reason: String,
}

/// A credential-free look at a sibling URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sibling {
    /// `https`, `http`, `trailing-slash`, `no-trailing-slash`, `host-alias`.
    pub variant: String,
    /// The variant URL probed.
    pub url: String,
    /// The status it answered with; `None` when it could not be asked (see `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The challenge header values, as received.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<String>,
    /// Why it could not be reached or asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What the user gave the probe, as far as rules care.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Given {
    /// The user name of `-u`, without a `DOMAIN\` prefix (a UPN `user@domain` stays whole).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The `DOMAIN` of `-u DOMAIN\user`, for NTLM and Negotiate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Whether `-u` gave credentials; a password always comes with them, typed or prompted.
    pub password: bool,
    /// Whether `--bearer` gave a token.
    pub bearer: bool,
    /// The user's own `Authorization` header value, if any.
    #[serde(skip)]
    pub authorization: Option<String>,
    /// Whether `--proxy-user` gave credentials for the proxy.
    pub proxy_credentials: bool,
    /// `--auth-type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced_scheme: Option<String>,
    /// Scopes the token should grant (`--expect-scope`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expect_scopes: Vec<String>,
    /// The audience the token should name (`--expect-audience`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_audience: Option<String>,
    /// The issuer the token should come from (`--expect-issuer`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect_issuer: Option<String>,
    /// The request looks like an API call (Accept JSON, a non-GET method, a body) rather than a page.
    pub api: bool,
    /// `--location-trusted`: credentials follow redirects to other origins (never from https
    /// down to http).
    pub location_trusted: bool,
}

/// How Negotiate went, when the server offered it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NegotiateRecord {
    /// The SPN a Kerberos ticket would have been for (`HTTP/canonical.host`).
    pub spn: String,
    /// `kerberos` or `ntlm`: what actually travelled.
    pub mechanism: String,
    /// Why Kerberos was not used, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback_reason: Option<String>,
    /// Whether the server's final token (SPNEGO's accept-completed with the acceptor's
    /// mechListMIC, or Kerberos' AP-REP) verified: mutual authentication. `None` when the
    /// handshake did not get that far.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_verified: Option<bool>,
    /// Why it did not verify, or why it could not be checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_verify_error: Option<String>,
    /// Where the Kerberos credentials came from: `password` (AS exchange) or `ccache` (the
    /// user's tickets, after `kinit`); absent when no Kerberos attempt was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_from: Option<String>,
    /// How the SPN was built (the rule), for the record.
    pub spn_rule: String,
    /// The SPN each client family would ask for, and whether the KDC knows it (when checked).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spn_by_client: Vec<SpnCandidate>,
    /// How the KDC was found (`--kdc`, `[realms] in /etc/krb5.conf`, `DNS SRV ...`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kdc_found_by: Option<String>,
    /// Why no KDC was found for the realm (no `--kdc`, no `[realms]` entry, no SRV record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kdc_not_found: Option<String>,
    /// The user's credential cache, when the ticket path was taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_cache: Option<TicketCacheRecord>,
    /// The service ticket presented, when one was obtained.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<TicketRecord>,
    /// `--delegation` and what came of it (`none`, `sent a forwarded TGT`, why not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delegation: Option<String>,
}

/// One way to build the SPN, and what the KDC said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpnCandidate {
    /// The clients that build it this way (`Chrome, Edge, Windows (SSPI)`).
    pub clients: String,
    /// The SPN (`HTTP/web.corp.example`).
    pub spn: String,
    /// The rule (`canonical name after CNAMEs, no port`).
    pub rule: String,
    /// Whether the KDC issued a ticket for it; `None` when not asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub known_to_kdc: Option<bool>,
}

/// The user's Kerberos credential cache (never keys or tickets).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TicketCacheRecord {
    /// The file and how it was found (`/tmp/krb5cc_1000 (KRB5CCNAME)`).
    pub path: String,
    /// The cache's default principal (`alice@LAB.TEST`).
    pub principal: String,
    /// When its TGT expires (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tgt_expires: Option<String>,
    /// The TGT has expired.
    pub expired: bool,
    /// What is wrong with the cache, in plain words (missing, unreadable, no TGT, expired).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// A service ticket as the client sees it: never the key, never the encrypted part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TicketRecord {
    /// `HTTP/web.corp.example@CORP.EXAMPLE`.
    pub server: String,
    /// `alice@CORP.EXAMPLE`.
    pub client: String,
    /// The ticket's encryption type (the service key's).
    pub etype: String,
    /// The service key version the ticket is encrypted under.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvno: Option<i64>,
    /// Ticket flags by name (`forwardable`, `ok-as-delegate`, ...).
    pub flags: Vec<String>,
    /// Valid from (RFC 3339).
    pub start: String,
    /// Valid until (RFC 3339).
    pub end: String,
    /// Taken from the cache rather than asked of the KDC now.
    pub from_cache: bool,
}

/// One exchange with a Kerberos KDC (RFC 4120 §3.1, §3.3): what was asked, what came back.
/// Never keys, never the encrypted parts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KdcExchange {
    /// The KDC as found (`tcp://kdc.corp.example:88`).
    pub kdc: String,
    /// `AS-REQ` (a TGT from the password) or `TGS-REQ` (a service ticket).
    pub request: String,
    /// The principal asked for (`krbtgt/LAB.TEST@LAB.TEST`, `HTTP/web@LAB.TEST`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The encryption types the client offered (for KDC_ERR_ETYPE_NOSUPP).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub offered_etypes: Vec<String>,
    /// For a KRB-ERROR: the KDC's clock minus ours, in seconds, when it answered (positive: the
    /// KDC is ahead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clock_offset_s: Option<i64>,
    /// `AS-REP`, `TGS-REP`, `KRB-ERROR`, or `none`.
    pub reply: String,
    /// Why no reply came (refused, timed out, not resolved), when none did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unanswered: Option<String>,
    /// For a KRB-ERROR: its RFC 4120 §7.5.9 code (the catalogue names it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<u32>,
    /// For a KRB-ERROR: the KDC's own words (`e-text`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_text: Option<String>,
    /// For a KRB-ERROR: the KDC's clock (`stime`, `YYYYMMDDhhmmssZ`), for skew.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_time: Option<String>,
    /// For a KRB-ERROR: the principal it concerns (`sname`), realm included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// Wall time of the exchange.
    pub elapsed_ms: f64,
    /// Asked only to compare another form of the SPN (which client families would succeed), not
    /// part of the attempt: never the cause of a failure.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub comparison: bool,
}

impl KdcExchange {
    /// RFC 4120 errors that are steps of a normal exchange, not failures: 25 (pre-authentication
    /// required, answered by the next AS-REQ) and 52 (reply too big for UDP, retried over TCP).
    pub const NORMAL_STEPS: [u32; 2] = [25, 52];

    /// Whether this exchange is where Kerberos failed: no reply, or a KRB-ERROR that is not a
    /// normal step (comparisons never are).
    pub fn failed(&self) -> bool {
        !self.comparison
            && (self.unanswered.is_some()
                || self
                    .error_code
                    .is_some_and(|c| !Self::NORMAL_STEPS.contains(&c)))
    }
}

/// What one address behind the target's name answered (`--each-address`): the same request with
/// the same credentials, pinned to that address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backend {
    /// The address probed.
    pub address: String,
    /// The final status it answered, when it answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The challenges of that final answer (`WWW-Authenticate` values), as received.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub challenges: Vec<String>,
    /// For Negotiate: the mechanism that travelled (`kerberos` or `ntlm`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<String>,
    /// Why it could not be reached, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Everything one probe observed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProbeEvidence {
    /// The URL the user asked for, as the URL parser normalised it.
    pub target: String,
    /// The local clock when the probe ran, Unix seconds.
    pub now: i64,
    /// What the user gave: credentials, forced scheme, expectations of the token.
    pub given: Given,
    /// Every request of the main path, in order: legs of each handshake and the redirects.
    pub exchanges: Vec<Exchange>,
    /// Resolution of the target host; `None` when a proxy resolves it or resolving failed (then
    /// `reach` says why).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dns: Option<DnsRecord>,
    /// The first TLS session with the target; `None` for plain http or when no handshake began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsRecord>,
    /// Why the target (or the proxy) could not be reached; the probe records this rather than
    /// failing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reach: Option<ReachFailure>,
    /// The redirects followed, in order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub redirects: Vec<RedirectHop>,
    /// Cookies the jar held for a related host that a request went without.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld_cookies: Vec<WithheldCookie>,
    /// Credential-free looks at variants of the target URL: the other scheme, the trailing slash
    /// flipped, other names on the certificate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub siblings: Vec<Sibling>,
    /// How Negotiate went, when why401 answered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub negotiate: Option<NegotiateRecord>,
    /// The proxy used for the target, its password redacted; `None` for a direct connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// Redirects stopped at `--max-redirs`.
    pub redirect_limit_hit: bool,
    /// Every exchange with a KDC, in order (Kerberos through Negotiate).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kdc: Vec<KdcExchange>,
    /// `--each-address`: what every address of the target's name answered.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub backends: Vec<Backend>,
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

#[cfg(test)]
mod tests {
    use super::KdcExchange;

    fn exchange(error_code: Option<u32>, unanswered: Option<&str>) -> KdcExchange {
        KdcExchange {
            kdc: "tcp://kdc:88".into(),
            request: "AS-REQ".into(),
            reply: if unanswered.is_some() {
                "none"
            } else {
                "KRB-ERROR"
            }
            .into(),
            unanswered: unanswered.map(String::from),
            error_code,
            e_text: None,
            server_time: None,
            principal: None,
            elapsed_ms: 1.0,
            ..KdcExchange::default()
        }
    }

    #[test]
    fn normal_steps_are_not_failures() {
        assert!(
            !exchange(Some(25), None).failed(),
            "pre-authentication required"
        );
        assert!(!exchange(Some(52), None).failed(), "retry over TCP");
        assert!(!exchange(None, None).failed(), "an AS-REP");
        assert!(exchange(Some(24), None).failed());
        assert!(exchange(None, Some("connection refused")).failed());
    }
}
