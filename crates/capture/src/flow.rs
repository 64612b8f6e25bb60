//! Legs into flows: a navigation or fetch with the redirects it followed, the auth restarts the
//! browser made and the CORS preflight before it. Streaming: a flow is handed on as soon as no
//! later leg can continue it (a window of legs and of time), so a capture of any length is
//! grouped in bounded memory.

use why401_evidence::capture::{AuthDecision, CaptureFlow, CapturedLeg, RefusedCookie};
use why401_evidence::{Leg, header};

use crate::Sink;

/// How many legs a flow may wait for its continuation.
const WINDOW_LEGS: usize = 256;
/// How long (ms) a flow may wait for its continuation.
const WINDOW_MS: i64 = 120_000;
/// Open flows at most; the oldest is handed on first.
const OPEN_MAX: usize = 128;

/// Groups legs into flows and hands each finished flow to `done`.
pub struct Flows<F: FnMut(CaptureFlow)> {
    open: Vec<Open>,
    next_index: usize,
    seen: usize,
    done: F,
}

struct Open {
    flow: CaptureFlow,
    last_seen: usize,
    last_ms: Option<i64>,
    connections: Vec<String>,
}

impl<F: FnMut(CaptureFlow)> Flows<F> {
    /// Flows handed to `done` as they finish.
    pub fn new(done: F) -> Self {
        Flows {
            open: Vec::new(),
            next_index: 1,
            seen: 0,
            done,
        }
    }

    /// Attaches auth decisions and refused cookies (from a NetLog) to the flow holding `url`'s
    /// latest leg, if one is open.
    fn attach(&mut self, url: &str, auth: Option<AuthDecision>, cookie: Option<RefusedCookie>) {
        if let Some(o) = self
            .open
            .iter_mut()
            .rev()
            .find(|o| o.flow.legs.iter().any(|l| l.exchange.request.url == url))
        {
            o.flow.auth.extend(auth);
            o.flow.refused_cookies.extend(cookie);
        }
    }

    /// Hands on every flow still open.
    pub fn finish(mut self) {
        for o in std::mem::take(&mut self.open) {
            (self.done)(o.flow);
        }
    }

    fn close_stale(&mut self, now_ms: Option<i64>) {
        let seen = self.seen;
        let mut i = 0;
        while i < self.open.len() {
            let o = &self.open[i];
            let stale = seen.saturating_sub(o.last_seen) > WINDOW_LEGS
                || matches!((now_ms, o.last_ms), (Some(n), Some(l)) if n - l > WINDOW_MS);
            if stale {
                let o = self.open.remove(i);
                (self.done)(o.flow);
            } else {
                i += 1;
            }
        }
        while self.open.len() > OPEN_MAX {
            let o = self.open.remove(0);
            (self.done)(o.flow);
        }
    }
}

/// How `next` continues a flow whose last leg is `prev`, if it does.
fn continues(prev: &CapturedLeg, next: &CapturedLeg) -> Option<Leg> {
    let (p, n) = (&prev.exchange, &next.exchange);
    let r = p.response.as_ref()?;
    match r.status {
        301 | 302 | 303 | 307 | 308 => {
            let loc = r.header("location")?;
            let to = url::Url::parse(&p.request.url)
                .ok()
                .and_then(|base| base.join(loc).ok())?;
            (to.as_str() == n.request.url || loc == n.request.url).then_some(Leg::Redirect)
        }
        401 | 407 => {
            (p.request.url == n.request.url && p.request.method == n.request.method).then(|| {
                Leg::Auth {
                    scheme: n
                        .auth
                        .as_ref()
                        .map(|a| a.scheme.clone())
                        .unwrap_or_else(|| "none".into()),
                    step: match &p.leg {
                        Leg::Auth { step, .. } => step.saturating_add(1),
                        _ => 1,
                    },
                }
            })
        }
        200..=299 if is_preflight(prev) => (p.request.url == n.request.url
            && header(&p.request.headers, "access-control-request-method")
                .is_none_or(|m| m.eq_ignore_ascii_case(&n.request.method)))
        .then_some(Leg::Initial),
        _ => None,
    }
}

/// Whether a leg is a CORS preflight.
pub fn is_preflight(leg: &CapturedLeg) -> bool {
    leg.resource_type.as_deref() == Some("preflight")
        || leg.exchange.request.method == "OPTIONS"
            && header(
                &leg.exchange.request.headers,
                "access-control-request-method",
            )
            .is_some()
}

impl<F: FnMut(CaptureFlow)> Sink for Flows<F> {
    fn note(&mut self, url: &str, auth: Option<AuthDecision>, cookie: Option<RefusedCookie>) {
        self.attach(url, auth, cookie);
    }

    fn leg(&mut self, mut leg: CapturedLeg) {
        self.seen += 1;
        self.close_stale(leg.started_ms);
        let at = self.open.iter().rposition(|o| {
            o.flow
                .legs
                .last()
                .is_some_and(|prev| continues(prev, &leg).is_some())
        });
        let conn = |o: &mut Open, leg: &CapturedLeg| -> u32 {
            let Some(id) = &leg.connection_id else {
                return 0;
            };
            match o.connections.iter().position(|c| c == id) {
                Some(i) => i as u32,
                None => {
                    o.connections.push(id.clone());
                    (o.connections.len() - 1) as u32
                }
            }
        };
        match at {
            Some(i) => {
                let o = &mut self.open[i];
                let prev = o.flow.legs.last().expect("continued flows have legs");
                leg.exchange.leg = continues(prev, &leg).expect("checked above");
                leg.exchange.connection = conn(o, &leg);
                o.last_seen = self.seen;
                o.last_ms = leg.started_ms.or(o.last_ms);
                o.flow.legs.push(leg);
            }
            None => {
                let mut o = Open {
                    flow: CaptureFlow {
                        index: self.next_index,
                        legs: Vec::new(),
                        auth: Vec::new(),
                        refused_cookies: Vec::new(),
                    },
                    last_seen: self.seen,
                    last_ms: leg.started_ms,
                    connections: Vec::new(),
                };
                self.next_index += 1;
                leg.exchange.leg = Leg::Initial;
                leg.exchange.connection = conn(&mut o, &leg);
                o.flow.legs.push(leg);
                self.open.push(o);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::capture::Trust;
    use why401_evidence::{Exchange, RequestRecord, ResponseRecord};

    pub(crate) fn leg(
        method: &str,
        url: &str,
        req: &[(&str, &str)],
        status: u16,
        resp: &[(&str, &str)],
    ) -> CapturedLeg {
        let headers = |h: &[(&str, &str)]| {
            h.iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let request_headers = headers(req);
        CapturedLeg {
            entry: 0,
            started: None,
            started_ms: None,
            exchange: Exchange {
                leg: Leg::Initial,
                connection: 0,
                auth: crate::sent_auth(&request_headers, &[]),
                request: RequestRecord {
                    method: method.into(),
                    url: url.into(),
                    headers: request_headers,
                    body_len: 0,
                },
                response: Some(ResponseRecord {
                    status,
                    version: "HTTP/1.1".into(),
                    headers: headers(resp),
                    body: String::new(),
                    body_len: 0,
                    body_incomplete: None,
                }),
                error: None,
                elapsed_ms: 1.0,
                via_proxy: false,
            },
            trust: Trust::RawWire,
            hidden_headers: vec![],
            from_cache: None,
            resource_type: None,
            connection_id: None,
            transfer_size: None,
        }
    }

    #[test]
    fn redirects_auth_restarts_and_preflights_make_one_flow_each() {
        let mut out = Vec::new();
        let mut f = Flows::new(|flow| out.push(flow));
        f.leg(leg(
            "GET",
            "http://a.test/x",
            &[],
            302,
            &[("Location", "/login?next=x")],
        ));
        f.leg(leg("GET", "http://b.test/other", &[], 200, &[]));
        f.leg(leg(
            "GET",
            "http://a.test/login?next=x",
            &[],
            401,
            &[("WWW-Authenticate", "Basic realm=\"r\"")],
        ));
        f.leg(leg(
            "GET",
            "http://a.test/login?next=x",
            &[("Authorization", "Basic YTpi")],
            200,
            &[],
        ));
        f.leg(leg(
            "OPTIONS",
            "http://api.test/v1",
            &[("Access-Control-Request-Method", "POST")],
            204,
            &[],
        ));
        f.leg(leg("POST", "http://api.test/v1", &[], 401, &[]));
        f.finish();
        out.sort_by_key(|f| f.index);
        assert_eq!(out.len(), 3, "{out:#?}");
        let kinds: Vec<&Leg> = out[0].legs.iter().map(|l| &l.exchange.leg).collect();
        assert_eq!(
            kinds,
            vec![
                &Leg::Initial,
                &Leg::Redirect,
                &Leg::Auth {
                    scheme: "Basic".into(),
                    step: 1
                }
            ]
        );
        assert_eq!(out[2].legs.len(), 2);
        assert_eq!(out[2].final_status(), Some(401));
    }
}
