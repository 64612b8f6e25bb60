//! The probe's main path: send the request, answer challenges leg by leg on one connection,
//! follow redirects with browsers' credential rules, and record every step.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use url::Url;
use why401_evidence::{
    AuthSource, DnsRecord, Exchange, Given, Leg, NegotiateRecord, ProbeEvidence, ReachFailure,
    ReachKind, RedirectHop, RequestRecord, ResponseRecord, SentAuth,
};
use why401_wire::challenge::{self, Challenges};
use why401_wire::digest::{DigestChallenge, RequestFacts};
use why401_wire::{b64, credentials};

use crate::auth::{self, WindowsContext};
use crate::jar::{Jar, origin};
use crate::net::{self, Conn, ConnectError, Route};
use crate::spec::{ProbeSpec, Scheme, UserCredentials};

/// The most bytes of a body kept as evidence.
const BODY_KEEP: usize = 64 * 1024;
/// The most bytes of a body read (beyond that the connection is dropped).
const BODY_READ: usize = 4 * 1024 * 1024;
/// The most legs of one handshake.
const MAX_LEGS: usize = 8;

/// Runs the probe. Never fails: what went wrong is evidence.
pub async fn run(spec: &ProbeSpec, now: i64) -> ProbeEvidence {
    let mut p = Probe::new(spec, now);
    p.resolve_target().await;
    if p.ev.reach.is_none() {
        p.main_path().await;
    }
    if spec.siblings && p.ev.reach.is_none() && matches!(p.ev.final_status(), Some(401 | 403)) {
        p.ev.siblings = crate::siblings::look(spec, &p.ev).await;
    }
    p.ev
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
        }
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
        let (addrs, cnames) = tokio::join!(
            net::resolve(&host, port, self.spec.timeout),
            crate::dns::cname_chain(&host)
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

    /// One URL: the request, then as many legs as the handshake takes.
    async fn handshake(&mut self, url: &Url, method: &str, body: &[u8], first_leg: Leg) -> Outcome {
        let allowed = self.credentials_allowed(url);
        let mut leg = first_leg;
        // Credentials the user put on the request themselves go from the start.
        let mut authorization: Option<(String, SentAuth)> = None;
        if allowed {
            if let Some(t) = &self.spec.bearer {
                authorization = Some((
                    format!("Bearer {t}"),
                    sent("Authorization", "Bearer", AuthSource::Bearer),
                ));
            } else if let Some(a) = self.spec.header("authorization") {
                let scheme = credentials::parse(a).scheme;
                authorization = Some((
                    a.to_string(),
                    sent("Authorization", &scheme, AuthSource::UserHeader),
                ));
            }
        }
        let mut proxy_authorization: Option<String> = None;
        let mut windows: Option<WindowsContext> = None;
        let mut answered: Option<Scheme> = None;
        let mut stale_retried = false;
        let mut proxy_tried = false;
        let mut digest_nc = 0u32;
        for _ in 0..MAX_LEGS {
            let conn = match self.connection(url, proxy_authorization.as_deref()).await {
                Ok(c) => c,
                Err(ConnectError::Reach {
                    kind,
                    detail,
                    what,
                    tls,
                }) => {
                    if tls.is_some() {
                        self.ev.tls = tls;
                    }
                    self.ev.reach = Some(ReachFailure { kind, detail, what });
                    return Outcome::Unreachable;
                }
                Err(ConnectError::ProxyRefused { response }) => {
                    let status = response.status;
                    let challenges = challenge::parse(response.headers_named("proxy-authenticate"));
                    self.ev.exchanges.push(Exchange {
                        leg: leg.clone(),
                        connection: self.next_conn.saturating_sub(1),
                        request: RequestRecord {
                            method: "CONNECT".into(),
                            url: format!(
                                "{}:{}",
                                url.host_str().unwrap_or(""),
                                url.port_or_known_default().unwrap_or(443)
                            ),
                            headers: proxy_authorization
                                .iter()
                                .map(|a| ("Proxy-Authorization".to_string(), a.clone()))
                                .collect(),
                            body_len: 0,
                        },
                        response: Some(response),
                        error: None,
                        auth: proxy_authorization
                            .as_ref()
                            .map(|_| sent("Proxy-Authorization", "Basic", AuthSource::Proxy)),
                        elapsed_ms: 0.0,
                        via_proxy: true,
                    });
                    match (&self.spec.proxy_credentials, status, proxy_tried) {
                        (Some(pc), 407, false) if challenges.find("Basic").is_some() => {
                            proxy_authorization = Some(auth::basic_header(pc));
                            proxy_tried = true;
                            leg = Leg::Auth {
                                scheme: "Basic".into(),
                                step: 1,
                            };
                            continue;
                        }
                        _ => return Outcome::Done,
                    }
                }
            };
            let (conn_id, via_proxy, absolute) = (conn.id, conn.via_proxy, conn.absolute_form);
            let (req, record) = self.build_request(
                url,
                method,
                body,
                absolute,
                authorization.as_ref().map(|a| a.0.as_str()),
                proxy_authorization.as_deref(),
                allowed,
            );
            let started = Instant::now();
            let result = self.send(req).await;
            let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
            let auth_sent = authorization.as_ref().map(|a| a.1.clone()).or_else(|| {
                proxy_authorization
                    .as_ref()
                    .map(|_| sent("Proxy-Authorization", "Basic", AuthSource::Proxy))
            });
            let response = match result {
                Ok(r) => r,
                Err((kind, detail)) => {
                    self.ev.exchanges.push(Exchange {
                        leg,
                        connection: conn_id,
                        request: record,
                        response: None,
                        error: Some(detail.clone()),
                        auth: auth_sent,
                        elapsed_ms,
                        via_proxy,
                    });
                    // A connection closed mid-handshake is evidence, not the end: say so and stop.
                    if self.ev.path().filter(|e| e.response.is_some()).count() == 0 {
                        self.ev.reach = Some(ReachFailure {
                            kind,
                            detail,
                            what: "the server".into(),
                        });
                        return Outcome::Unreachable;
                    }
                    return Outcome::Done;
                }
            };
            for sc in response.headers_named("set-cookie") {
                self.jar.store(sc, url, self.ev.now);
            }
            let status = response.status;
            let www = challenge::parse(response.headers_named("www-authenticate"));
            let proxy_challenges = challenge::parse(response.headers_named("proxy-authenticate"));
            let conn_closes = response
                .header("connection")
                .is_some_and(|c| c.eq_ignore_ascii_case("close"));
            self.ev.exchanges.push(Exchange {
                leg: leg.clone(),
                connection: conn_id,
                request: record,
                response: Some(response),
                error: None,
                auth: auth_sent,
                elapsed_ms,
                via_proxy,
            });
            if conn_closes {
                self.conn = None;
            }

            // 407 from a plain-http proxy: answer it once with the proxy credentials.
            if status == 407 {
                match &self.spec.proxy_credentials {
                    Some(pc) if !proxy_tried && proxy_challenges.find("Basic").is_some() => {
                        proxy_authorization = Some(auth::basic_header(pc));
                        proxy_tried = true;
                        leg = Leg::Auth {
                            scheme: "Basic".into(),
                            step: 1,
                        };
                        continue;
                    }
                    _ => return Outcome::Done,
                }
            }
            if status != 401 {
                if let Some(w) = &windows {
                    self.record_negotiate(w);
                }
                return Outcome::Done;
            }
            // A Windows handshake in progress: feed the server's token back.
            if let Some(w) = windows.as_mut() {
                let scheme = answered.expect("windows implies a scheme");
                let token = www.find(scheme.name()).and_then(|c| c.token68.clone());
                let Some(token) = token.filter(|_| !w.done) else {
                    self.record_negotiate(w);
                    return Outcome::Done;
                };
                let Ok((bytes, _)) = b64::decode_any(&token) else {
                    return Outcome::Done;
                };
                match w.step(Some(&bytes)) {
                    Ok(next) if !next.is_empty() => {
                        let step = match &leg {
                            Leg::Auth { step, .. } => step + 1,
                            _ => 2,
                        };
                        authorization = Some((
                            format!("{} {}", scheme.name(), b64::encode(&next)),
                            sent("Authorization", scheme.name(), AuthSource::Answered),
                        ));
                        leg = Leg::Auth {
                            scheme: scheme.name().into(),
                            step,
                        };
                        continue;
                    }
                    Ok(_) => {
                        self.record_negotiate(w);
                        return Outcome::Done;
                    }
                    Err(e) => {
                        self.record_negotiate(w);
                        if let Some(last) = self.ev.exchanges.last_mut() {
                            last.error = Some(format!(
                                "{} could not answer the server's token: {e}",
                                scheme.name()
                            ));
                        }
                        return Outcome::Done;
                    }
                }
            }
            // Digest `stale=true` after our answer: the nonce expired, retry once.
            if answered == Some(Scheme::Digest)
                && !stale_retried
                && let Some(dc) = www
                    .find("Digest")
                    .and_then(|c| DigestChallenge::from_challenge(c).ok())
                    .filter(|d| d.stale)
            {
                let creds = self
                    .spec
                    .credentials
                    .as_ref()
                    .expect("answered implies credentials");
                digest_nc += 1;
                authorization = Some((
                    digest_for(&dc, creds, url, method, body, digest_nc),
                    sent("Authorization", "Digest", AuthSource::Answered),
                ));
                stale_retried = true;
                leg = Leg::StaleRetry;
                continue;
            }
            if answered.is_some() || !allowed {
                return Outcome::Done;
            }
            let Some(creds) = self.spec.credentials.as_ref() else {
                return Outcome::Done;
            };
            if authorization
                .as_ref()
                .is_some_and(|a| a.1.source != AuthSource::Answered)
            {
                // The user's own credentials were refused; do not pile ours on top.
                return Outcome::Done;
            }
            let Some(scheme) = auth::choose(&www, self.spec.forced_scheme) else {
                return Outcome::Done;
            };
            answered = Some(scheme);
            let value = match scheme {
                Scheme::Basic => auth::basic_header(creds),
                Scheme::Digest => {
                    let Some(dc) = www
                        .find("Digest")
                        .and_then(|c| DigestChallenge::from_challenge(c).ok())
                    else {
                        return Outcome::Done;
                    };
                    digest_nc += 1;
                    digest_for(&dc, creds, url, method, body, digest_nc)
                }
                Scheme::Ntlm | Scheme::Negotiate => {
                    let spn = format!("HTTP/{}", self.canonical_host);
                    let mut w = match WindowsContext::new(scheme, creds, &spn) {
                        Ok(w) => w,
                        Err(e) => {
                            if let Some(last) = self.ev.exchanges.last_mut() {
                                last.error = Some(format!("{}: {e}", scheme.name()));
                            }
                            return Outcome::Done;
                        }
                    };
                    let first = match w.step(None) {
                        Ok(t) => t,
                        Err(e) => {
                            if let Some(last) = self.ev.exchanges.last_mut() {
                                last.error = Some(format!("{}: {e}", scheme.name()));
                            }
                            return Outcome::Done;
                        }
                    };
                    windows = Some(w);
                    format!("{} {}", scheme.name(), b64::encode(&first))
                }
            };
            authorization = Some((
                value,
                sent("Authorization", scheme.name(), AuthSource::Answered),
            ));
            leg = Leg::Auth {
                scheme: scheme.name().into(),
                step: 1,
            };
        }
        Outcome::Done
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
        let fallback_reason = (mechanism == "ntlm").then(|| {
            if ip_literal {
                return format!(
                    "the URL names the server by IP address ({}): Kerberos needs a host name to build the SPN, so every client falls back to NTLM",
                    self.canonical_host
                );
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
        self.ev.negotiate = Some(NegotiateRecord {
            spn: format!("HTTP/{}", self.canonical_host),
            mechanism,
            fallback_reason,
        });
    }

    /// The open connection for `url`, or a new one.
    async fn connection(
        &mut self,
        url: &Url,
        proxy_auth: Option<&str>,
    ) -> Result<&mut Conn, ConnectError> {
        let key = origin(url);
        let reusable = match &mut self.conn {
            Some((c, k)) if *k == key => c.sender.ready().await.is_ok(),
            _ => false,
        };
        if !reusable {
            let route = Route {
                target: url,
                proxy: self.spec.proxy_for(url),
                proxy_authorization: proxy_auth,
                insecure: self.spec.insecure,
                cacert: self.spec.cacert.as_deref(),
                timeout: self.spec.timeout,
            };
            let id = self.next_conn;
            self.next_conn += 1;
            let conn = net::connect(&route, id).await?;
            if conn.tls.is_some() && self.ev.tls.is_none() {
                self.ev.tls = conn.tls.clone();
            }
            self.conn = Some((conn, key));
        }
        Ok(&mut self.conn.as_mut().expect("just set").0)
    }

    #[allow(clippy::too_many_arguments)]
    fn build_request(
        &mut self,
        url: &Url,
        method: &str,
        body: &[u8],
        absolute: bool,
        authorization: Option<&str>,
        proxy_authorization: Option<&str>,
        allowed: bool,
    ) -> (http::Request<Full<Bytes>>, RequestRecord) {
        let target = if absolute {
            url.as_str().to_string()
        } else {
            request_target(url)
        };
        let mut headers: Vec<(String, String)> = vec![("Host".into(), host_header(url))];
        let user_has = |n: &str| self.spec.header(n).is_some();
        if !user_has("user-agent") {
            headers.push((
                "User-Agent".into(),
                format!("why401/{}", env!("CARGO_PKG_VERSION")),
            ));
        }
        if !user_has("accept") {
            headers.push(("Accept".into(), "*/*".into()));
        }
        for (n, v) in &self.spec.headers {
            let lower = n.to_ascii_lowercase();
            // Credentials never follow a redirect to another origin (curl >= 7.83, browsers).
            if lower == "authorization" || lower == "host" || (lower == "cookie" && !allowed) {
                continue;
            }
            headers.push((n.clone(), v.clone()));
        }
        let (cookie, withheld) = self.jar.header_for(url, self.ev.now);
        self.ev.withheld_cookies.extend(withheld);
        if let Some(c) = cookie {
            headers.push(("Cookie".into(), c));
        }
        if let Some(a) = authorization {
            headers.push(("Authorization".into(), a.to_string()));
        }
        if let (Some(p), true) = (proxy_authorization, absolute) {
            headers.push(("Proxy-Authorization".into(), p.to_string()));
        }
        if !body.is_empty() && !user_has("content-length") {
            headers.push(("Content-Length".into(), body.len().to_string()));
        }
        let mut builder = http::Request::builder().method(method).uri(&target);
        for (n, v) in &headers {
            builder = builder.header(n.as_str(), v.as_str());
        }
        let req = builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .unwrap_or_else(|_| http::Request::new(Full::new(Bytes::new())));
        let record = RequestRecord {
            method: method.to_string(),
            url: url.to_string(),
            headers,
            body_len: body.len(),
        };
        (req, record)
    }

    async fn send(
        &mut self,
        req: http::Request<Full<Bytes>>,
    ) -> Result<ResponseRecord, (ReachKind, String)> {
        let timeout = self.spec.timeout;
        let Some((conn, _)) = self.conn.as_mut() else {
            return Err((ReachKind::Other, "no connection".into()));
        };
        let exchange = async {
            let resp = conn
                .sender
                .send_request(req)
                .await
                .map_err(|e| (ReachKind::Other, describe_hyper(&e)))?;
            let (parts, body) = resp.into_parts();
            let headers: Vec<(String, String)> = parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        title_case(n.as_str()),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let bytes = match Limited::new(body, BODY_READ).collect().await {
                Ok(c) => c.to_bytes(),
                Err(_) => Bytes::new(),
            };
            Ok(ResponseRecord {
                status: parts.status.as_u16(),
                version: format!("{:?}", parts.version),
                headers,
                body: String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEEP)]).into_owned(),
                body_len: bytes.len(),
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(r) => r,
            Err(_) => {
                self.conn = None;
                Err((
                    ReachKind::Timeout,
                    format!("no response within {}", fmt_duration(timeout)),
                ))
            }
        }
    }
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
    let uri = request_target(url);
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

/// `/path?query` as sent in origin-form.
pub fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn title_case(name: &str) -> String {
    if name.eq_ignore_ascii_case("www-authenticate") {
        return "WWW-Authenticate".into();
    }
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn describe_hyper(e: &hyper::Error) -> String {
    if e.is_incomplete_message() {
        "the server closed the connection before answering".into()
    } else if e.is_canceled() || e.is_closed() {
        "the connection was closed".into()
    } else {
        e.to_string()
    }
}

fn fmt_duration(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A URL with any password removed, for display.
pub fn redact_url(u: &Url) -> String {
    let mut u = u.clone();
    if u.password().is_some() {
        let _ = u.set_password(Some("(redacted)"));
    }
    u.to_string()
}

/// The challenges of a response (WWW-Authenticate).
pub fn challenges_of(r: &ResponseRecord) -> Challenges {
    challenge::parse(r.headers_named("www-authenticate"))
}
