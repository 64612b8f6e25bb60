//! The probe's main path: send the request, answer challenges leg by leg on one connection,
//! follow redirects with browsers' credential rules, and record every step.

use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
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

/// Where one URL's authentication stands between legs: what the next 401 means depends on it.
enum AuthState<'a> {
    /// Nothing of ours was sent yet (the user's own `Authorization` or `--bearer` may have been).
    Unanswered,
    /// Answered in Basic: another 401 is the verdict.
    Basic,
    /// Answered in Digest: `nc` counts our uses of the nonce; `stale=true` earns one retry.
    Digest {
        creds: &'a UserCredentials,
        nc: u32,
        stale_retried: bool,
    },
    /// An NTLM or Negotiate context, fed the server's token at each leg (`step` 1, 2, …).
    Windows {
        scheme: Scheme,
        context: Box<WindowsContext>,
        step: u8,
    },
}

/// The proxy's side: a 407 is answered once, in Basic, with `--proxy-user`.
enum ProxyAuth {
    NotAsked,
    Answered(String),
}

impl ProxyAuth {
    fn header(&self) -> Option<&str> {
        match self {
            ProxyAuth::NotAsked => None,
            ProxyAuth::Answered(h) => Some(h),
        }
    }
}

/// One URL's handshake: the state, and what goes on the next request.
struct Handshake<'a> {
    url: &'a Url,
    method: &'a str,
    body: &'a [u8],
    /// Credentials may go to this URL (same origin, or `--location-trusted`).
    allowed: bool,
    leg: Leg,
    authorization: Option<(String, SentAuth)>,
    proxy: ProxyAuth,
    auth: AuthState<'a>,
}

/// After a response: send another leg, or this URL is done.
enum Next {
    Leg,
    Stop,
}

impl<'a> Handshake<'a> {
    /// The first leg: the user's own credentials go from the start, where they may go.
    fn new(
        spec: &ProbeSpec,
        url: &'a Url,
        method: &'a str,
        body: &'a [u8],
        leg: Leg,
        allowed: bool,
    ) -> Self {
        let authorization = match (&spec.bearer, spec.header("authorization")) {
            _ if !allowed => None,
            (Some(t), _) => Some((
                format!("Bearer {t}"),
                sent("Authorization", "Bearer", AuthSource::Bearer),
            )),
            (None, Some(a)) => Some((
                a.to_string(),
                sent(
                    "Authorization",
                    &credentials::parse(a).scheme,
                    AuthSource::UserHeader,
                ),
            )),
            (None, None) => None,
        };
        Handshake {
            url,
            method,
            body,
            allowed,
            leg,
            authorization,
            proxy: ProxyAuth::NotAsked,
            auth: AuthState::Unanswered,
        }
    }

    /// The answer to a 407 (from a CONNECT or a plain-http request through the proxy), written
    /// once: Basic with `--proxy-user`, at most once per URL.
    fn answer_proxy(&mut self, spec: &ProbeSpec, challenges: &Challenges) -> Next {
        match (&spec.proxy_credentials, &self.proxy) {
            (Some(pc), ProxyAuth::NotAsked) if challenges.find("Basic").is_some() => {
                self.proxy = ProxyAuth::Answered(auth::basic_header(pc));
                self.leg = Leg::Auth {
                    scheme: "Basic".into(),
                    step: 1,
                };
                Next::Leg
            }
            _ => Next::Stop,
        }
    }

    /// Puts our answer in `scheme` on the next request.
    fn send_answer(&mut self, scheme: Scheme, value: String, leg: Leg) -> Next {
        self.authorization = Some((
            value,
            sent("Authorization", scheme.name(), AuthSource::Answered),
        ));
        self.leg = leg;
        Next::Leg
    }

    /// What went on the request as credentials, for the record.
    fn sent_auth(&self) -> Option<SentAuth> {
        self.authorization
            .as_ref()
            .map(|a| a.1.clone())
            .or_else(|| {
                self.proxy
                    .header()
                    .map(|_| sent("Proxy-Authorization", "Basic", AuthSource::Proxy))
            })
    }
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
        let mut hs = Handshake::new(self.spec, url, method, body, first_leg, allowed);
        for _ in 0..MAX_LEGS {
            let next = match self.leg(&mut hs).await {
                Ok(next) => next,
                Err(Outcome::Unreachable) => return Outcome::Unreachable,
                Err(Outcome::Done) => Next::Stop,
            };
            if let Next::Stop = next {
                break;
            }
        }
        if let AuthState::Windows { context, .. } = &hs.auth {
            self.record_negotiate(context);
        }
        Outcome::Done
    }

    /// One leg: connect (or reuse), send, record, and decide on the next leg.
    async fn leg<'h>(&mut self, hs: &mut Handshake<'h>) -> Result<Next, Outcome>
    where
        'a: 'h,
    {
        let url = hs.url;
        let conn = match self.connection(url, hs.proxy.header()).await {
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
                return Err(Outcome::Unreachable);
            }
            Err(ConnectError::ProxyRefused { response }) => {
                let challenges = challenge::parse(response.headers_named("proxy-authenticate"));
                let status = response.status;
                self.record_connect_refusal(hs, response);
                return Ok(match status {
                    407 => hs.answer_proxy(self.spec, &challenges),
                    _ => Next::Stop,
                });
            }
        };
        let (conn_id, via_proxy, absolute) = (conn.id, conn.via_proxy, conn.absolute_form);
        let record = self.request_record(hs, absolute);
        let auth_sent = hs.sent_auth();
        let req = match to_http(&record, net::request_line_target(url, absolute), hs.body) {
            Ok(req) => req,
            Err(e) => {
                // Never send something other than what was asked: record it and stop.
                self.ev.exchanges.push(Exchange {
                    leg: hs.leg.clone(),
                    connection: conn_id,
                    request: record,
                    response: None,
                    error: Some(format!("the request could not be built: {e}")),
                    auth: auth_sent,
                    elapsed_ms: 0.0,
                    via_proxy,
                });
                return Err(Outcome::Done);
            }
        };
        let started = Instant::now();
        let result = self.send(req).await;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        let response = match result {
            Ok(r) => r,
            Err((kind, detail)) => {
                self.ev.exchanges.push(Exchange {
                    leg: hs.leg.clone(),
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
                    return Err(Outcome::Unreachable);
                }
                return Err(Outcome::Done);
            }
        };
        for sc in response.headers_named("set-cookie") {
            self.jar.store(sc, url, self.ev.now);
        }
        let status = response.status;
        let www = challenge::parse(response.headers_named("www-authenticate"));
        let proxy_challenges = challenge::parse(response.headers_named("proxy-authenticate"));
        if response
            .header("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"))
        {
            self.conn = None;
        }
        self.ev.exchanges.push(Exchange {
            leg: hs.leg.clone(),
            connection: conn_id,
            request: record,
            response: Some(response),
            error: None,
            auth: auth_sent,
            elapsed_ms,
            via_proxy,
        });
        Ok(match status {
            407 => hs.answer_proxy(self.spec, &proxy_challenges),
            401 => self.answer(hs, &www),
            _ => Next::Stop,
        })
    }

    /// The next leg after a 401, by where the handshake stands.
    fn answer<'h>(&mut self, hs: &mut Handshake<'h>, www: &Challenges) -> Next
    where
        'a: 'h,
    {
        match &mut hs.auth {
            AuthState::Windows {
                scheme,
                context,
                step,
            } => {
                let scheme = *scheme;
                let token = www.find(scheme.name()).and_then(|c| c.token68.clone());
                let Some(token) = token.filter(|_| !context.done) else {
                    return Next::Stop;
                };
                let Ok((bytes, _)) = b64::decode_any(&token) else {
                    return Next::Stop;
                };
                match context.step(Some(&bytes)) {
                    Ok(next) if !next.is_empty() => {
                        *step += 1;
                        let leg = Leg::Auth {
                            scheme: scheme.name().into(),
                            step: *step,
                        };
                        hs.send_answer(
                            scheme,
                            format!("{} {}", scheme.name(), b64::encode(&next)),
                            leg,
                        )
                    }
                    Ok(_) => Next::Stop,
                    Err(e) => {
                        self.note_error(format!(
                            "{} could not answer the server's token: {e}",
                            scheme.name()
                        ));
                        Next::Stop
                    }
                }
            }
            AuthState::Digest {
                creds,
                nc,
                stale_retried,
            } => {
                // `stale=true` after our answer: the nonce expired, not the password; retry once.
                let Some(dc) = www
                    .find("Digest")
                    .and_then(|c| DigestChallenge::from_challenge(c).ok())
                    .filter(|d| d.stale && !*stale_retried)
                else {
                    return Next::Stop;
                };
                *nc += 1;
                *stale_retried = true;
                let value = digest_for(&dc, creds, hs.url, hs.method, hs.body, *nc);
                hs.send_answer(Scheme::Digest, value, Leg::StaleRetry)
            }
            AuthState::Basic => Next::Stop,
            AuthState::Unanswered => self.first_answer(hs, www),
        }
    }

    /// Our first answer to the server's challenges, in the scheme a browser would pick.
    fn first_answer<'h>(&mut self, hs: &mut Handshake<'h>, www: &Challenges) -> Next
    where
        'a: 'h,
    {
        let spec: &'a ProbeSpec = self.spec;
        let Some(creds) = spec.credentials.as_ref().filter(|_| hs.allowed) else {
            return Next::Stop;
        };
        if hs.authorization.is_some() {
            // The user's own credentials were refused; do not pile ours on top.
            return Next::Stop;
        }
        let Some(scheme) = auth::choose(www, spec.forced_scheme) else {
            return Next::Stop;
        };
        let first = Leg::Auth {
            scheme: scheme.name().into(),
            step: 1,
        };
        match scheme {
            Scheme::Basic => {
                hs.auth = AuthState::Basic;
                hs.send_answer(scheme, auth::basic_header(creds), first)
            }
            Scheme::Digest => {
                let Some(dc) = www
                    .find("Digest")
                    .and_then(|c| DigestChallenge::from_challenge(c).ok())
                else {
                    return Next::Stop;
                };
                let value = digest_for(&dc, creds, hs.url, hs.method, hs.body, 1);
                hs.auth = AuthState::Digest {
                    creds,
                    nc: 1,
                    stale_retried: false,
                };
                hs.send_answer(scheme, value, first)
            }
            Scheme::Ntlm | Scheme::Negotiate => {
                let spn = format!("HTTP/{}", self.canonical_host);
                let started = WindowsContext::new(scheme, creds, &spn)
                    .and_then(|mut w| w.step(None).map(|t| (w, t)));
                match started {
                    Ok((context, token)) => {
                        hs.auth = AuthState::Windows {
                            scheme,
                            context: Box::new(context),
                            step: 1,
                        };
                        hs.send_answer(
                            scheme,
                            format!("{} {}", scheme.name(), b64::encode(&token)),
                            first,
                        )
                    }
                    Err(e) => {
                        self.note_error(format!("{}: {e}", scheme.name()));
                        Next::Stop
                    }
                }
            }
        }
    }

    /// Says on the last exchange why the handshake could not go on.
    fn note_error(&mut self, error: String) {
        if let Some(last) = self.ev.exchanges.last_mut() {
            last.error = Some(error);
        }
    }

    /// A CONNECT the proxy refused, as an exchange of its own.
    fn record_connect_refusal(&mut self, hs: &Handshake<'_>, response: ResponseRecord) {
        let url = hs.url;
        self.ev.exchanges.push(Exchange {
            leg: hs.leg.clone(),
            connection: self.next_conn.saturating_sub(1),
            request: RequestRecord {
                method: "CONNECT".into(),
                url: format!(
                    "{}:{}",
                    url.host_str().unwrap_or(""),
                    url.port_or_known_default().unwrap_or(443)
                ),
                headers: hs
                    .proxy
                    .header()
                    .map(|a| ("Proxy-Authorization".to_string(), a.to_string()))
                    .into_iter()
                    .collect(),
                body_len: 0,
            },
            response: Some(response),
            error: None,
            auth: hs
                .proxy
                .header()
                .map(|_| sent("Proxy-Authorization", "Basic", AuthSource::Proxy)),
            elapsed_ms: 0.0,
            via_proxy: true,
        });
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

    /// The request as it will go on the wire: the user's headers, cookies from the jar,
    /// the handshake's credentials.
    fn request_record(&mut self, hs: &Handshake<'_>, absolute: bool) -> RequestRecord {
        let url = hs.url;
        let mut headers: Vec<(String, String)> = vec![("Host".into(), net::host_header(url))];
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
            if lower == "authorization" || lower == "host" || (lower == "cookie" && !hs.allowed) {
                continue;
            }
            headers.push((n.clone(), v.clone()));
        }
        let (cookie, withheld) = self.jar.header_for(url, self.ev.now);
        self.ev.withheld_cookies.extend(withheld);
        if let Some(c) = cookie {
            headers.push(("Cookie".into(), c));
        }
        if let Some((a, _)) = &hs.authorization {
            headers.push(("Authorization".into(), a.clone()));
        }
        if let (Some(p), true) = (hs.proxy.header(), absolute) {
            headers.push(("Proxy-Authorization".into(), p.to_string()));
        }
        if !hs.body.is_empty() && !user_has("content-length") {
            headers.push(("Content-Length".into(), hs.body.len().to_string()));
        }
        RequestRecord {
            method: hs.method.to_string(),
            url: url.to_string(),
            headers,
            body_len: hs.body.len(),
        }
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
        if matches!(result, Err((ReachKind::Timeout, _))) {
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
