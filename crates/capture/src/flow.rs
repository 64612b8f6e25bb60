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
/// Legs of one flow at most: browsers stop following redirects at 20 and give up an auth
/// handshake long before; beyond, a flow is handed on and the next leg starts another.
const MAX_LEGS: usize = 32;

/// Groups legs into flows and hands each finished flow to `done`.
pub struct Flows<F: FnMut(CaptureFlow)> {
    open: Vec<Open>,
    next_index: usize,
    seen: usize,
    done: F,
    /// Notes (NetLog) waiting for the leg of their URL: (url, auth decision, refused cookie).
    pending: Vec<Note>,
}

type Note = (String, Option<AuthDecision>, Option<RefusedCookie>);

/// Notes waiting at most.
const PENDING_MAX: usize = 10_000;

struct Open {
    flow: CaptureFlow,
    last_seen: usize,
    last_ms: Option<i64>,
    connections: Vec<String>,
    /// Where the last leg redirects to, resolved once (every later leg is compared with it).
    redirect_to: Option<String>,
}

/// Where `leg` redirects to, resolved against its URL.
fn redirect_target(leg: &CapturedLeg) -> Option<String> {
    let r = leg.exchange.response.as_ref()?;
    if !matches!(r.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let loc = r.header("location")?;
    let to = url::Url::parse(&leg.exchange.request.url)
        .ok()
        .and_then(|base| base.join(loc).ok())
        .map(String::from)
        .unwrap_or_else(|| loc.to_string());
    Some(to)
}

impl<F: FnMut(CaptureFlow)> Flows<F> {
    /// Flows handed to `done` as they finish.
    pub fn new(done: F) -> Self {
        Flows {
            open: Vec::new(),
            next_index: 1,
            seen: 0,
            done,
            pending: Vec::new(),
        }
    }

    /// Keeps an auth decision or a refused cookie (from a NetLog) for the flow that receives the
    /// next leg to `url` (a reader notes a request's decisions before its legs).
    fn attach(&mut self, url: &str, auth: Option<AuthDecision>, cookie: Option<RefusedCookie>) {
        if self.pending.len() < PENDING_MAX {
            self.pending.push((url.to_string(), auth, cookie));
        }
    }

    /// Moves the notes waiting for `url` into `flow`.
    fn take_notes(pending: &mut Vec<Note>, url: &str, flow: &mut CaptureFlow) {
        if pending.is_empty() {
            return;
        }
        pending.retain_mut(|(u, auth, cookie)| {
            if u != url {
                return true;
            }
            flow.auth.extend(auth.take());
            flow.refused_cookies.extend(cookie.take());
            false
        });
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

/// How `next` continues a flow whose last leg is `prev` (redirecting to `redirect_to`), if it
/// does.
fn continues(prev: &CapturedLeg, redirect_to: Option<&str>, next: &CapturedLeg) -> Option<Leg> {
    let (p, n) = (&prev.exchange, &next.exchange);
    let r = p.response.as_ref()?;
    match r.status {
        301 | 302 | 303 | 307 | 308 => (redirect_to? == n.request.url).then_some(Leg::Redirect),
        // An auth restart carries credentials (or a value the capture hid): the same URL
        // asked again without them is a new request, as a polling page makes.
        401 | 407 => (p.request.url == n.request.url
            && p.request.method == n.request.method
            && (n.auth.is_some() || !next.hidden_headers.is_empty()))
        .then(|| Leg::Auth {
            scheme: n
                .auth
                .as_ref()
                .map(|a| a.scheme.clone())
                .unwrap_or_else(|| "none".into()),
            step: match &p.leg {
                Leg::Auth { step, .. } => step.saturating_add(1),
                _ => 1,
            },
        }),
        200..=299 if prev.is_preflight() => (p.request.url == n.request.url
            && header(&p.request.headers, "access-control-request-method")
                .is_none_or(|m| m.eq_ignore_ascii_case(&n.request.method)))
        .then_some(Leg::Initial),
        _ => None,
    }
}

/// What makes two flows the same case for the doctor: per leg the method, the URL without its
/// query values (the parameter names stay: a token in the URL is a finding), the status, the
/// credentials' scheme, what the capture hid or served from cache, and the response headers the
/// rules read. A polling loop that fails a thousand times is one case seen a thousand times.
pub fn signature(flow: &CaptureFlow) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    for l in &flow.legs {
        let e = &l.exchange;
        e.request.method.hash(&mut h);
        let url = &e.request.url;
        match url.split_once('?') {
            Some((path, query)) => {
                path.hash(&mut h);
                for pair in query.split('&') {
                    pair.split('=').next().hash(&mut h);
                }
            }
            None => url.hash(&mut h),
        }
        e.status().hash(&mut h);
        e.error.is_some().hash(&mut h);
        e.auth.as_ref().map(|a| (&a.header, &a.scheme)).hash(&mut h);
        l.hidden_headers.hash(&mut h);
        l.from_cache.hash(&mut h);
        l.resource_type.hash(&mut h);
        e.leg.hash(&mut h);
        for (n, v) in &e.request.headers {
            if n.eq_ignore_ascii_case("access-control-request-method")
                || n.eq_ignore_ascii_case("accept")
            {
                (n.to_ascii_lowercase(), v).hash(&mut h);
            }
        }
        if let Some(r) = &e.response {
            for (n, v) in &r.headers {
                let n = n.to_ascii_lowercase();
                match n.as_str() {
                    "www-authenticate" | "proxy-authenticate" | "content-type" | "date"
                    | "server" | "x-powered-by" | "cache-control" => {
                        // A Date only matters for clock rules: minutes, not seconds.
                        let v = if n == "date" {
                            v.get(..22).unwrap_or(v)
                        } else {
                            v.as_str()
                        };
                        (n, v).hash(&mut h);
                    }
                    "location" => (n, v.split('?').next()).hash(&mut h),
                    // Cookies: the names and attributes, never the values.
                    "set-cookie" => (
                        n,
                        v.split_once('=').map(|(k, _)| k),
                        v.split_once(';').map(|(_, a)| a),
                    )
                        .hash(&mut h),
                    _ => {}
                }
            }
            r.body.get(..256).unwrap_or(&r.body).hash(&mut h);
        }
    }
    flow.auth.hash(&mut h);
    flow.refused_cookies.hash(&mut h);
    h.finish()
}

/// Whether a flow whose last status is `status` can still grow: a redirect, a challenge, or a
/// preflight answered yes.
fn may_continue(status: Option<u16>, flow: &CaptureFlow) -> bool {
    match status {
        _ if flow.legs.len() >= MAX_LEGS => false,
        Some(301 | 302 | 303 | 307 | 308 | 401 | 407) => true,
        Some(200..=299) => flow.legs.last().is_some_and(CapturedLeg::is_preflight),
        _ => false,
    }
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
                .is_some_and(|prev| continues(prev, o.redirect_to.as_deref(), &leg).is_some())
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
                leg.exchange.leg =
                    continues(prev, o.redirect_to.as_deref(), &leg).expect("checked above");
                leg.exchange.connection = conn(o, &leg);
                o.last_seen = self.seen;
                o.last_ms = leg.started_ms.or(o.last_ms);
                o.redirect_to = redirect_target(&leg);
                let last = leg.exchange.status();
                Self::take_notes(&mut self.pending, &leg.exchange.request.url, &mut o.flow);
                o.flow.legs.push(leg);
                // A flow whose last answer nothing follows (not a redirect, a challenge or a
                // preflight's yes) is done now.
                if !may_continue(last, &self.open[i].flow) {
                    let o = self.open.remove(i);
                    (self.done)(o.flow);
                }
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
                    redirect_to: redirect_target(&leg),
                };
                self.next_index += 1;
                leg.exchange.leg = Leg::Initial;
                leg.exchange.connection = conn(&mut o, &leg);
                let last = leg.exchange.status();
                Self::take_notes(&mut self.pending, &leg.exchange.request.url, &mut o.flow);
                o.flow.legs.push(leg);
                if may_continue(last, &o.flow) {
                    self.open.push(o);
                } else {
                    (self.done)(o.flow);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use why401_evidence::Exchange;
    use why401_evidence::capture::Trust;

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
        let mut e = Exchange::answered(method, url, headers(req), status, headers(resp));
        e.auth = crate::sent_auth(&e.request.headers, &[]);
        CapturedLeg::new(0, e, Trust::RawWire)
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
