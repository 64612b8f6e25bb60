//! One URL's authentication handshake: where it stands between legs (a state machine), each leg
//! sent and recorded, and the answer to each 401 and 407.

use std::time::Instant;

use url::Url;
use why401_evidence::{
    AuthSource, Exchange, Leg, ReachFailure, RequestRecord, ResponseRecord, SentAuth,
};
use why401_wire::challenge::{self, Challenges};
use why401_wire::digest::DigestChallenge;
use why401_wire::{b64, credentials};

use super::{MAX_LEGS, Outcome, Probe, digest_for, sent, to_http};
use crate::auth::{self, WindowsContext};
use crate::net::{self, ConnectError};
use crate::spec::{ProbeSpec, Scheme, UserCredentials};

/// Where one URL's authentication stands between legs: what the next 401 means depends on it.
pub(super) enum AuthState<'a> {
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
    /// One URL: the request, then as many legs as the handshake takes.
    pub(super) async fn handshake(
        &mut self,
        url: &Url,
        method: &str,
        body: &[u8],
        first_leg: Leg,
    ) -> Outcome {
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
            _ => {
                self.check_final_token(hs, &www);
                Next::Stop
            }
        })
    }

    /// The server's last Negotiate token, sent with its 200 (SPNEGO accept-completed with the
    /// acceptor's mechListMIC, or the Kerberos AP-REP), fed to the context: that is the mutual
    /// authentication a Windows client does. What came of it is recorded, never silently dropped.
    fn check_final_token(&mut self, hs: &mut Handshake<'_>, www: &Challenges) {
        let AuthState::Windows {
            scheme, context, ..
        } = &mut hs.auth
        else {
            return;
        };
        if context.done || !context.is_negotiate() {
            return;
        }
        let token = www.find(scheme.name()).and_then(|c| c.token68.clone());
        context.server_token = Some(match token {
            None => Err(
                "the server sent no final Negotiate token with its answer, so its side \
                         of the handshake (the mechListMIC) could not be checked"
                    .to_string(),
            ),
            Some(t) => match b64::decode_any(&t) {
                Err(_) => Err(format!("the server's final token is not base64: {t}")),
                Ok((bytes, _)) => context
                    .step(Some(&bytes))
                    .map(|_| ())
                    .map_err(|e| format!("the server's final token did not verify: {e}")),
            },
        });
        if let Some(Err(why)) = &context.server_token {
            let why = why.clone();
            self.note_error(why);
        }
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
        if !hs.allowed {
            return Next::Stop;
        }
        let Some(creds) = spec.credentials.as_ref() else {
            return self.ticket_answer(hs, www);
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
                let kdc = self.kdc_override();
                let mut context = match WindowsContext::new(scheme, creds, &spn, kdc.as_deref()) {
                    Ok(c) => c,
                    Err(e) => {
                        self.note_error(format!("{}: {e}", scheme.name()));
                        return Next::Stop;
                    }
                };
                match context.step(None) {
                    Ok(token) => {
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
                        // A Kerberos leg that failed at the KDC: what the KDC said is evidence.
                        self.note_error(format!("{}: {e}", scheme.name()));
                        self.record_negotiate(&context);
                        Next::Stop
                    }
                }
            }
        }
    }

    /// `--negotiate` without `-u`: answer Negotiate with the user's own Kerberos tickets.
    fn ticket_answer<'h>(&mut self, hs: &mut Handshake<'h>, www: &Challenges) -> Next
    where
        'a: 'h,
    {
        if hs.authorization.is_some() || www.find(Scheme::Negotiate.name()).is_none() {
            return Next::Stop;
        }
        let spn = format!("HTTP/{}", self.canonical_host);
        let Some(mut context) = self.ticket_context(&spn) else {
            return Next::Stop;
        };
        match context.step(None) {
            Ok(token) => {
                hs.auth = AuthState::Windows {
                    scheme: Scheme::Negotiate,
                    context: Box::new(context),
                    step: 1,
                };
                hs.send_answer(
                    Scheme::Negotiate,
                    format!("Negotiate {}", b64::encode(&token)),
                    Leg::Auth {
                        scheme: "Negotiate".into(),
                        step: 1,
                    },
                )
            }
            Err(e) => {
                self.note_error(format!("Negotiate: {e}"));
                self.record_negotiate(&context);
                Next::Stop
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
}
