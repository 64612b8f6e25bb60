//! The probe's main path: send the request, answer challenges leg by leg on one connection,
//! follow redirects with browsers' credential rules, and record every step.

use bytes::Bytes;
use http_body_util::Full;
use url::Url;
use why401_evidence::{
    AuthSource, Backend, DnsRecord, Given, KdcExchange, Leg, NegotiateRecord, ProbeEvidence,
    ReachFailure, ReachKind, RedirectHop, RequestRecord, ResponseRecord, SentAuth, SpnCandidate,
};
use why401_wire::digest::{DigestChallenge, RequestFacts};

use crate::auth::{self, TicketLeg, WindowsContext};
use crate::jar::{Jar, origin};
use crate::net::{self, Conn, ConnectError, Route};
use crate::spec::{ProbeSpec, UserCredentials};

mod handshake;

/// The most legs of one handshake.
const MAX_LEGS: usize = 8;

/// Runs the probe. Never fails: what went wrong is evidence.
pub async fn run(spec: &ProbeSpec, now: i64) -> ProbeEvidence {
    let mut p = Probe::new(spec, now);
    p.resolve_target().await;
    p.prepare_kerberos().await;
    if p.ev.reach.is_none() {
        p.main_path().await;
    }
    if spec.siblings && p.ev.reach.is_none() && matches!(p.ev.final_status(), Some(401 | 403)) {
        p.ev.siblings = crate::siblings::look(spec, &p.ev).await;
    }
    if spec.each_address {
        p.ev.backends = each_address(spec, &p.ev, now).await;
    }
    p.ev
}

/// `--each-address`: the same probe, with the same credentials, pinned to each address the name
/// resolved to in turn (one after the other: a farm's nodes are compared, not loaded).
async fn each_address(spec: &ProbeSpec, ev: &ProbeEvidence, now: i64) -> Vec<Backend> {
    let Some(dns) = &ev.dns else {
        return Vec::new(); // through a proxy, or not resolved: nothing to compare
    };
    let host = dns.host.clone();
    let port = spec.url.port_or_known_default().unwrap_or(80);
    let mut out = Vec::new();
    for address in &dns.addresses {
        let Ok(addr) = address.parse() else { continue };
        let mut one = spec.clone();
        one.each_address = false;
        one.siblings = false;
        one.resolve.retain(|p| !p.is_for(&host, port));
        one.resolve.push(net::Pin {
            host: host.to_ascii_lowercase(),
            port,
            addrs: vec![addr],
        });
        let seen = Box::pin(run(&one, now)).await;
        let last = seen.last().and_then(|e| e.response.as_ref());
        out.push(Backend {
            address: address.clone(),
            status: last.map(|r| r.status),
            challenges: last
                .map(|r| {
                    r.headers_named("www-authenticate")
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            mechanism: seen.negotiate.as_ref().map(|n| n.mechanism.clone()),
            error: seen.reach.as_ref().map(|r| r.detail.clone()),
        });
    }
    out
}

struct Probe<'a> {
    spec: &'a ProbeSpec,
    ev: ProbeEvidence,
    jar: Jar,
    conn: Option<(Conn, (String, String, u16))>,
    next_conn: u32,
    origin0: (String, String, u16),
    /// The host a Kerberos SPN names: the end of the CNAME chain, else the URL's host.
    canonical_host: String,
    /// MIT's configuration, read once when Kerberos may be used.
    krb5_conf: Option<crate::kerberos::Krb5Conf>,
    /// The KDC for the credentials' realm (`--kdc`, krb5.conf, DNS SRV), and the realm.
    kdc_location: Option<(String, Result<crate::kerberos::KdcLocation, String>)>,
    /// `--negotiate` without `-u`: the user's ticket cache as read at the start.
    tickets: Option<crate::kerberos::CachedTickets>,
    /// What the target's first address reverse-resolves to, when krb5.conf's `rdns` makes MIT
    /// clients build the SPN from it.
    rdns_name: Option<String>,
}

/// What one URL's request-and-handshake came to.
enum Outcome {
    Done,
    Unreachable,
}

impl<'a> Probe<'a> {
    fn new(spec: &'a ProbeSpec, now: i64) -> Self {
        // Malformed cookie-file lines are reported by the command before it probes.
        let (jar, _problems) =
            Jar::new(spec.cookies.clone(), spec.cookie_jar.as_deref(), &spec.url);
        let ev = ProbeEvidence {
            target: spec.url.to_string(),
            now,
            given: Given {
                user: spec.credentials.as_ref().map(|c| c.user.clone()),
                domain: spec.credentials.as_ref().and_then(|c| c.domain.clone()),
                password: spec.credentials.is_some(),
                bearer: spec.bearer.is_some(),
                authorization: spec.header("authorization").map(String::from),
                proxy_credentials: spec.proxy_credentials.is_some(),
                forced_scheme: spec.forced_scheme.map(|s| s.name().to_string()),
                expect_scopes: spec.expect_scopes.clone(),
                expect_audience: spec.expect_audience.clone(),
                expect_issuer: spec.expect_issuer.clone(),
                api: spec.is_api(),
                location_trusted: spec.location_trusted,
            },
            proxy: spec.proxy_for(&spec.url).map(redact_url),
            ..ProbeEvidence::default()
        };
        Probe {
            spec,
            ev,
            jar,
            conn: None,
            next_conn: 0,
            origin0: origin(&spec.url),
            canonical_host: spec.url.host_str().unwrap_or("").to_string(),
            krb5_conf: None,
            kdc_location: None,
            tickets: None,
            rdns_name: None,
        }
    }

    /// Reads MIT's configuration, the ticket cache (`--negotiate` without `-u`) and finds the
    /// KDC, once, when Kerberos may be used.
    async fn prepare_kerberos(&mut self) {
        let password_realm = self
            .spec
            .credentials
            .as_ref()
            .and_then(|c| c.user.rsplit_once('@').map(|(_, r)| r.to_string()));
        if !self.spec.kerberos.from_cache && password_realm.is_none() {
            return;
        }
        let conf = crate::kerberos::Krb5Conf::load();
        let realm = if self.spec.kerberos.from_cache {
            let ccname = std::env::var("KRB5CCNAME").ok();
            let tickets =
                crate::kerberos::read_cache(&conf, ccname.as_deref(), crate::kerberos::now());
            let client_realm = tickets
                .record
                .principal
                .rsplit_once('@')
                .map(|(_, r)| r.to_string());
            self.tickets = Some(tickets);
            client_realm.or_else(|| conf.realm_for_host(&self.canonical_host))
        } else {
            password_realm
        };
        if let Some(realm) = realm {
            let found = crate::kerberos::locate(
                &realm,
                &conf,
                self.spec.kerberos.kdc.as_deref(),
                self.spec.dns_server,
            )
            .await;
            self.kdc_location = Some((realm, found));
        }
        // MIT's default (dns_canonicalize_hostname and rdns true) names the service by what the
        // address reverse-resolves to; only DNS, not a --resolve pin, has a say.
        let canonicalize = conf
            .dns_canonicalize_hostname
            .as_deref()
            .is_none_or(|v| v.eq_ignore_ascii_case("true"));
        if canonicalize && conf.rdns.unwrap_or(true) {
            let first = self
                .ev
                .dns
                .as_ref()
                .filter(|d| !d.pinned)
                .and_then(|d| d.addresses.first())
                .and_then(|a| a.parse::<std::net::IpAddr>().ok());
            if let Some(ip) = first {
                self.rdns_name = crate::dns::reverse(ip, self.spec.dns_server).await;
            }
        }
        self.krb5_conf = Some(conf);
    }

    /// The realm a service ticket is asked in: `[domain_realm]` for the host when it says,
    /// else the client's realm (the KDC refers further if it must).
    fn service_realm(&self, client_realm: &str) -> String {
        self.krb5_conf
            .as_ref()
            .filter(|c| !c.domain_realm.is_empty())
            .and_then(|c| c.realm_for_host(&self.canonical_host))
            .unwrap_or_else(|| client_realm.to_string())
    }

    /// A Negotiate context over the user's own tickets (`--negotiate` without `-u`).
    fn ticket_context(&self, spn: &str) -> Option<WindowsContext> {
        let cache = self.tickets.clone()?;
        let client_realm = cache
            .record
            .principal
            .rsplit_once('@')
            .map(|(_, r)| r.to_string())
            .unwrap_or_default();
        let kdcs = match &self.kdc_location {
            Some((_, l)) => l.clone(),
            None => Err("no realm to find a KDC for: the cache names no principal".into()),
        };
        let leg = TicketLeg::new(
            cache,
            kdcs,
            self.service_realm(&client_realm),
            self.spec.kerberos.delegation,
        );
        Some(WindowsContext::from_tickets(leg, spn))
    }

    /// Whether the KDC issues a ticket for `spn` to the user's password: a Negotiate context of
    /// its own whose KDC exchanges go into `log` marked as comparisons. `Some(false)` only for
    /// "principal unknown".
    fn spn_known_by_password(&self, spn: &str, log: &crate::kdc::Kdc) -> Option<bool> {
        let creds = self.spec.credentials.as_ref()?;
        let kdc = self.kdc_override();
        let mut ctx =
            WindowsContext::new(crate::spec::Scheme::Negotiate, creds, spn, kdc.as_deref()).ok()?;
        ctx.kdc = log.for_comparison();
        let worked = ctx.step(None).is_ok() && ctx.mechanism() == "kerberos";
        let unknown = ctx
            .kdc
            .exchanges()
            .iter()
            .any(|k| k.comparison && k.error_code == Some(7) && k.request == "TGS-REQ");
        match (worked, unknown) {
            (true, _) => Some(true),
            (false, true) => Some(false),
            _ => None,
        }
    }

    /// The KDC sspi's Kerberos client should use (the password path), when why401 found it by a
    /// way sspi does not look itself (`--kdc`, DNS SRV); sspi reads `[realms]` on its own.
    fn kdc_override(&self) -> Option<String> {
        self.kdc_location
            .as_ref()
            .and_then(|(_, l)| l.as_ref().ok())
            .filter(|l| !l.how.starts_with("[realms]"))
            .and_then(|l| l.urls.first().cloned())
    }

    /// The SPN each client family would ask for, by its rule.
    fn spn_candidates(&self) -> Vec<SpnCandidate> {
        let typed = self.spec.url.host_str().unwrap_or("").to_string();
        let canonical = self.canonical_host.clone();
        let mut out = vec![SpnCandidate {
            clients: "Chrome, Edge, Firefox, Windows SSPI (and why401)".into(),
            spn: format!("HTTP/{canonical}"),
            rule: "HTTP/ + the canonical name after CNAMEs, no port".into(),
            known_to_kdc: None,
        }];
        let dns_canon = self
            .krb5_conf
            .as_ref()
            .and_then(|c| c.dns_canonicalize_hostname.clone())
            .unwrap_or_else(|| "true".into())
            .to_ascii_lowercase();
        let rdns = self.krb5_conf.as_ref().and_then(|c| c.rdns).unwrap_or(true);
        let (spn, rule) = match dns_canon.as_str() {
            "false" => (
                format!("HTTP/{typed}"),
                "dns_canonicalize_hostname = false: the name as typed".to_string(),
            ),
            "fallback" => (
                format!("HTTP/{typed}"),
                format!(
                    "dns_canonicalize_hostname = fallback: the name as typed first, then HTTP/{canonical}"
                ),
            ),
            _ => match (&self.rdns_name, rdns) {
                (Some(ptr), true) => (
                    format!("HTTP/{ptr}"),
                    "dns_canonicalize_hostname = true, rdns = true: the name the address reverse-resolves to (PTR)".to_string(),
                ),
                (None, true) => (
                    format!("HTTP/{canonical}"),
                    "dns_canonicalize_hostname = true, rdns = true: the canonical name (the address has no PTR record, or the name was pinned)".to_string(),
                ),
                (_, false) => (
                    format!("HTTP/{canonical}"),
                    "dns_canonicalize_hostname = true, rdns = false: the canonical name".to_string(),
                ),
            },
        };
        out.push(SpnCandidate {
            clients: "MIT krb5 clients (curl --negotiate, requests-gssapi, Java on Linux)".into(),
            spn,
            rule,
            known_to_kdc: None,
        });
        if typed != canonical {
            out.push(SpnCandidate {
                clients: "any client given the alias".into(),
                spn: format!("HTTP/{typed}"),
                rule: "HTTP/ + the name as typed in the URL".into(),
                known_to_kdc: None,
            });
        }
        out
    }

    /// DNS for the target (when no proxy resolves it for us), with the CNAME chain.
    async fn resolve_target(&mut self) {
        if self.spec.proxy_for(&self.spec.url).is_some() {
            return;
        }
        let host = self
            .spec
            .url
            .host_str()
            .unwrap_or("")
            .trim_matches(['[', ']'])
            .to_string();
        let port = self.spec.url.port_or_known_default().unwrap_or(80);
        if let Some(pin) = net::Pin::find(&self.spec.resolve, &host, port) {
            // The user chose the address: DNS (and its CNAME chain) is not asked, as with curl.
            self.ev.dns = Some(DnsRecord {
                host,
                addresses: pin.addrs.iter().map(ToString::to_string).collect(),
                cnames: Vec::new(),
                pinned: true,
            });
            return;
        }
        let (addrs, cnames) = tokio::join!(
            net::resolve(&host, port, self.spec.timeout, self.spec.dns_server),
            crate::dns::cname_chain(&host, self.spec.dns_server)
        );
        match addrs {
            Ok(addrs) => {
                if let Some(last) = cnames.last() {
                    self.canonical_host = last.trim_end_matches('.').to_string();
                }
                self.ev.dns = Some(DnsRecord {
                    host,
                    addresses: addrs.iter().map(|a| a.ip().to_string()).collect(),
                    cnames,
                    pinned: false,
                });
            }
            Err((kind, detail)) => {
                self.ev.reach = Some(ReachFailure {
                    kind,
                    detail,
                    what: "the server".into(),
                });
            }
        }
    }

    async fn main_path(&mut self) {
        let mut url = self.spec.url.clone();
        let mut method = self.spec.method.clone();
        let mut body = self.spec.body.clone().unwrap_or_default();
        let mut hops = 0u32;
        loop {
            let leg = if hops == 0 {
                Leg::Initial
            } else {
                Leg::Redirect
            };
            if let Outcome::Unreachable = self.handshake(&url, &method, &body, leg).await {
                return;
            }
            let Some(last) = self.ev.last() else { return };
            let Some(resp) = &last.response else { return };
            let status = resp.status;
            let location = resp.header("location").map(String::from);
            // Credentials the user gave stay behind when the next hop is another origin,
            // whether or not this hop needed them.
            let has_credentials = self.spec.credentials.is_some()
                || self.spec.bearer.is_some()
                || self.spec.header("authorization").is_some();
            let Some(location) = location.filter(|_| matches!(status, 301 | 302 | 303 | 307 | 308))
            else {
                return;
            };
            let Ok(next) = url.join(&location) else {
                return;
            };
            if hops >= self.spec.max_redirs {
                self.ev.redirect_limit_hit = true;
                return;
            }
            let cross = origin(&next) != origin(&url);
            let allowed_next = self.credentials_allowed(&next);
            self.ev.redirects.push(RedirectHop {
                status,
                from: url.to_string(),
                to: next.to_string(),
                cross_origin: cross,
                credentials_dropped: has_credentials && !allowed_next,
            });
            if status == 303 || (matches!(status, 301 | 302) && method == "POST") {
                if method != "HEAD" {
                    method = "GET".into();
                }
                body.clear();
            }
            url = next;
            hops += 1;
        }
    }

    /// Credentials go to the origin the user gave, or anywhere with `--location-trusted` —
    /// but never down to plain http when the user's own URL was https.
    fn credentials_allowed(&self, url: &Url) -> bool {
        let downgrade = self.spec.url.scheme() == "https" && url.scheme() == "http";
        origin(url) == self.origin0 || (self.spec.location_trusted && !downgrade)
    }

    fn record_negotiate(&mut self, w: &WindowsContext) {
        if !w.is_negotiate() {
            return;
        }
        let mechanism = w.mechanism().to_string();
        let ip_literal = self
            .canonical_host
            .trim_matches(['[', ']'])
            .parse::<std::net::IpAddr>()
            .is_ok();
        let spn = format!("HTTP/{}", self.canonical_host);
        // Which SPN each client family would ask for; on the ticket path, the KDC is asked about
        // each one that differs (a TGS exchange each: cheap, and the proof of an alias problem).
        let mut candidates = self.spn_candidates();
        let log = w.kdc.exchanges();
        let for_spn = |k: &KdcExchange| {
            k.service
                .as_deref()
                .is_some_and(|s| s.split('@').next() == Some(spn.as_str()))
        };
        let asked_unknown = log.iter().any(|k| k.error_code == Some(7) && for_spn(k));
        let asked_known = log.iter().any(|k| k.reply == "TGS-REP" && for_spn(k))
            || w.tickets()
                .and_then(|t| t.service.as_ref())
                .is_some_and(|c| c.server.name() == spn);
        let mut checked: Vec<(String, Option<bool>)> = Vec::new();
        for c in &mut candidates {
            if c.spn == spn {
                c.known_to_kdc = if asked_known {
                    Some(true)
                } else if asked_unknown {
                    Some(false)
                } else {
                    None
                };
                continue;
            }
            if let Some((_, k)) = checked.iter().find(|(s, _)| *s == c.spn) {
                c.known_to_kdc = *k;
                continue;
            }
            let known = match w.tickets() {
                Some(t) => t.spn_known(&w.kdc, &c.spn),
                // From a password, only when the SPN asked was unknown: a second context for the
                // other form (its AS and TGS exchanges recorded as comparisons).
                None if asked_unknown => self.spn_known_by_password(&c.spn, &w.kdc),
                None => None,
            };
            checked.push((c.spn.clone(), known));
            c.known_to_kdc = known;
        }
        self.ev.kdc.extend(w.kdc.exchanges());
        let kdc_failure =
            log.iter()
                .rev()
                .find(|k| k.failed())
                .map(|k| match (k.error_code, &k.unanswered) {
                    (Some(code), _) => format!(
                        "the Kerberos attempt failed: the KDC answered {} with error {code}{}",
                        k.request,
                        k.e_text
                            .clone()
                            .map(|t| format!(" ({t})"))
                            .unwrap_or_default()
                    ),
                    (None, why) => format!(
                        "the Kerberos attempt failed: {} to {} got no reply: {}",
                        k.request,
                        k.kdc,
                        why.as_deref().unwrap_or("none")
                    ),
                });
        let fallback_reason = (mechanism == "ntlm").then(|| {
            if let Some(why) = kdc_failure {
                return why;
            }
            if ip_literal {
                return format!(
                    "the URL names the server by IP address ({}): Kerberos needs a host name to build the SPN, so every client falls back to NTLM",
                    self.canonical_host
                );
            }
            if let Some((_, Err(why))) = &self.kdc_location {
                return format!("no Kerberos ticket could be obtained: {why}");
            }
            let realm = self
                .spec
                .credentials
                .as_ref()
                .and_then(|c| c.domain.clone())
                .unwrap_or_else(|| "(no domain given)".into());
            format!(
                "no Kerberos ticket could be obtained: why401 found no KDC for realm {realm} (SSPI_KDC_URL, krb5.conf, DNS SRV _kerberos._tcp)"
            )
        });
        let tickets = w.tickets();
        self.ev.negotiate = Some(NegotiateRecord {
            spn_rule: candidates[0].rule.clone(),
            spn,
            mechanism,
            fallback_reason,
            server_verified: w.server_token.as_ref().map(Result::is_ok),
            server_verify_error: w.server_token.as_ref().and_then(|r| r.clone().err()),
            credentials_from: if tickets.is_some() {
                Some("ccache".into())
            } else if self.kdc_location.is_some() {
                Some("password".into())
            } else {
                None
            },
            spn_by_client: candidates,
            kdc_found_by: self
                .kdc_location
                .as_ref()
                .and_then(|(_, l)| l.as_ref().ok())
                .map(|l| format!("{} ({})", l.how, l.urls.join(", "))),
            kdc_not_found: self
                .kdc_location
                .as_ref()
                .and_then(|(_, l)| l.as_ref().err().cloned()),
            ticket_cache: tickets.map(|t| t.cache.record.clone()),
            ticket: tickets.and_then(|t| t.service.as_ref()).map(|c| {
                let from_cache =
                    tickets.is_some_and(|t| t.cache.services.iter().any(|s| s.server == c.server));
                crate::kerberos::ticket_record(c, from_cache)
            }),
            delegation: tickets.and_then(|t| t.delegation_note.clone()),
        });
    }

    /// The open connection for `url`, or a new one.
    async fn connection(
        &mut self,
        url: &Url,
        proxy_auth: Option<&str>,
    ) -> Result<&mut Conn, ConnectError> {
        let key = origin(url);
        let reusable = match self.conn.take() {
            Some((mut c, k)) if k == key => c.sender.ready().await.is_ok().then_some((c, k)),
            _ => None,
        };
        let open = match reusable {
            Some(open) => open,
            None => {
                let route = Route {
                    target: url,
                    proxy: self.spec.proxy_for(url),
                    proxy_authorization: proxy_auth,
                    insecure: self.spec.insecure,
                    cacert: self.spec.cacert.as_deref(),
                    timeout: self.spec.timeout,
                    pins: &self.spec.resolve,
                    dns_server: self.spec.dns_server,
                };
                let id = self.next_conn;
                self.next_conn += 1;
                let conn = net::connect(&route, id).await?;
                if conn.tls.is_some() && self.ev.tls.is_none() {
                    self.ev.tls = conn.tls.clone();
                }
                (conn, key)
            }
        };
        Ok(&mut self.conn.insert(open).0)
    }

    /// Sends on the open connection; a timeout closes it.
    async fn send(
        &mut self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<ResponseRecord, (ReachKind, String)> {
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err((ReachKind::Other, "no connection".into()));
        };
        let result = net::send(conn, req, self.spec.timeout).await;
        // After a timeout, or a body left unread, the connection is in no state for another leg.
        if matches!(&result, Err((ReachKind::Timeout, _)))
            || matches!(&result, Ok(r) if r.body_incomplete.is_some())
        {
            self.conn = None;
        }
        result
    }
}

/// The recorded request as hyper's request: exactly these headers, or an error (a method or
/// header the user gave that HTTP cannot carry) — never a different request.
fn to_http(
    record: &RequestRecord,
    target: String,
    body: &[u8],
) -> Result<http::Request<Full<Bytes>>, http::Error> {
    let mut builder = http::Request::builder()
        .method(record.method.as_str())
        .uri(target);
    for (n, v) in &record.headers {
        builder = builder.header(n.as_str(), v.as_str());
    }
    builder.body(Full::new(Bytes::copy_from_slice(body)))
}

fn sent(header: &str, scheme: &str, source: AuthSource) -> SentAuth {
    SentAuth {
        header: header.into(),
        scheme: scheme.into(),
        source,
    }
}

fn digest_for(
    dc: &DigestChallenge,
    c: &UserCredentials,
    url: &Url,
    method: &str,
    body: &[u8],
    nc: u32,
) -> String {
    let uri = net::request_target(url);
    auth::digest_header(
        dc,
        c,
        RequestFacts {
            method,
            uri: &uri,
            body,
        },
        nc,
    )
}

/// A URL with any password removed, for display.
pub fn redact_url(u: &Url) -> String {
    let mut u = u.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("(redacted)"));
    }
    u.to_string()
}
