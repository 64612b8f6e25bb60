//! Chrome/Edge NetLogs (`chrome://net-export`, `--log-net-log`), read event by event. Event and
//! source types are integers whose meaning changes between versions: they are mapped only
//! through the file's own `constants`. A file cut short (the browser killed before it closed the
//! log) is read as netlog-viewer repairs it: every complete event is used and the requests still
//! open at the cut are handed on with what they had.
//!
//! A `URL_REQUEST` source is one request with every leg the network stack sent for it: the auth
//! restarts and redirects, each a `…SEND_REQUEST_HEADERS` and a `…READ_RESPONSE_HEADERS`. The
//! auth controller's and the security library's events (`AUTH_*`) are tied to the request they
//! serve through `source_dependency` links.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, BufReader, Read};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;
use why401_evidence::capture::{
    AuthDecision, CaptureFormat, CaptureInfo, CapturedLeg, RefusedCookie, Trust,
};
use why401_evidence::{
    AuthSource, Exchange, Headers, Leg, RequestRecord, ResponseRecord, SentAuth,
};

use crate::Sink;
use crate::hidden::{HiddenHeader, Hider};

/// Requests kept open at most; beyond, the oldest is handed on as it stands (long-lived ones,
/// event streams and sockets never ending in the log, would otherwise pile up).
const OPEN_MAX: usize = 1024;

/// Reads a NetLog from `reader`, handing each request's legs to `sink` when it ends.
pub fn read(reader: impl Read, sink: &mut dyn Sink) -> CaptureInfo {
    let mut st = State {
        sink,
        info: CaptureInfo::new(CaptureFormat::Netlog, "Chrome NetLog", "", Trust::RawWire),
        types: Vec::new(),
        net_errors: HashMap::new(),
        sources: Vec::new(),
        begin: 1,
        end: 2,
        declared_mode: None,
        tick_offset: None,
        open: HashMap::new(),
        order: Vec::new(),
        owner: HashMap::new(),
        owner_limit: 100_000,
        hider: Hider::default(),
        raw_bytes: false,
        events: 0,
        unknown_types: 0,
        orphans: HashMap::new(),
        orphan_count: 0,
    };
    let mut r = BufReader::with_capacity(1 << 20, crate::skip_bom(reader));
    // Chrome writes `{"constants":{…},` on the first line, `"events": [` on the second, then one
    // event per line: such a file is read line by line, each event parsed in place. Any other
    // layout (pretty-printed, re-saved) goes through the streaming parser.
    let mut head = Vec::new();
    let _ = r.read_until(b'\n', &mut head);
    let second = head.len();
    let _ = r.read_until(b'\n', &mut head);
    let first_line = std::str::from_utf8(&head[..second])
        .unwrap_or_default()
        .trim_end();
    let second_line = std::str::from_utf8(&head[second..])
        .unwrap_or_default()
        .trim();
    if let (Some(constants), true) = (
        first_line
            .strip_prefix("{\"constants\":")
            .and_then(|c| c.strip_suffix(',')),
        second_line == "\"events\": [" || second_line == "\"events\":[",
    ) && let Ok(c) = serde_json::from_str::<Value>(constants)
    {
        st.constants(c);
        lines(&mut st, r);
        return st.finish();
    }
    let mut de = serde_json::Deserializer::from_reader(std::io::Cursor::new(head).chain(r));
    if let Err(e) = (Top { st: &mut st }).deserialize(&mut de) {
        st.info.stopped = Some(if e.is_eof() {
            format!(
                "the log ends in the middle (line {}, column {}): the browser did not close it; the {} complete events before are read, as netlog-viewer repairs such a file",
                e.line(),
                e.column(),
                st.events
            )
        } else {
            format!(
                "not valid NetLog JSON at line {}, column {}: {e}; the {} complete events before are read",
                e.line(),
                e.column(),
                st.events
            )
        });
    }
    st.finish()
}

struct Req {
    method: String,
    url: String,
    started_ms: Option<i64>,
    /// Legs done.
    legs: Vec<CapturedLeg>,
    /// The leg sent, waiting for its response.
    pending: Option<(RequestRecord, Vec<HiddenHeader>, Option<i64>)>,
    auth: Vec<AuthDecision>,
    cookies: Vec<RefusedCookie>,
    from_cache: bool,
    socket: Option<i64>,
    /// The request's net error, when it ended with one.
    net_error: Option<i64>,
    /// The event count when `REQUEST_ALIVE` ended; `None` while it is alive. Chrome logs that
    /// end before the last events of a redirect or an auth restart, and reuses the source for
    /// the next hop: a request is handed on only once quiet for a while after its end.
    ended_at: Option<usize>,
}

/// Events after a request's end before it is handed on.
const QUIET_EVENTS: usize = 2000;

struct State<'s> {
    sink: &'s mut dyn Sink,
    info: CaptureInfo,
    /// Event type names by id.
    types: Vec<Option<String>>,
    /// Net error names by number (`constants.netError`).
    net_errors: HashMap<i64, String>,
    /// Source type names by id.
    sources: Vec<Option<String>>,
    begin: u64,
    end: u64,
    declared_mode: Option<String>,
    /// `timeTickOffset`: event times are milliseconds since an arbitrary tick; this added gives
    /// Unix milliseconds.
    tick_offset: Option<i64>,
    open: HashMap<i64, Req>,
    order: Vec<i64>,
    /// Other sources (auth controllers, streams) → the URL_REQUEST they serve.
    owner: HashMap<i64, i64>,
    /// When `owner` grows past this, the links of requests handed on are dropped.
    owner_limit: usize,
    hider: Hider,
    raw_bytes: bool,
    events: usize,
    unknown_types: usize,
    /// Auth events of a controller not yet bound to its request (the controller is created,
    /// then bound): replayed when the link appears.
    orphans: HashMap<i64, Vec<(String, Value)>>,
    orphan_count: usize,
}

/// Orphaned auth events kept at most.
const ORPHANS_MAX: usize = 20_000;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(default, borrow)]
    time: Option<&'a RawValue>,
    #[serde(rename = "type")]
    kind: i64,
    #[serde(borrow)]
    source: EventSource<'a>,
    #[serde(default)]
    phase: i64,
    #[serde(default, borrow)]
    params: Option<&'a RawValue>,
}

#[derive(Deserialize)]
struct EventSource<'a> {
    id: i64,
    #[serde(rename = "type")]
    kind: i64,
    #[serde(default, borrow)]
    start_time: Option<&'a RawValue>,
}

fn invert(map: Option<&Value>) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = Vec::new();
    if let Some(Value::Object(m)) = map {
        for (name, id) in m {
            if let Some(id) = id.as_u64().filter(|i| *i < 100_000) {
                let id = id as usize;
                if out.len() <= id {
                    out.resize(id + 1, None);
                }
                out[id] = Some(name.clone());
            }
        }
    }
    out
}

/// NetLog times are milliseconds as strings (ticks, offset by `timeTickOffset`).
fn ms(v: Option<&RawValue>) -> Option<i64> {
    v?.get().trim_matches('"').parse::<i64>().ok()
}

impl State<'_> {
    fn constants(&mut self, c: Value) {
        self.types = invert(c.get("logEventTypes"));
        self.sources = invert(c.get("logSourceType"));
        if let Some(Value::Object(m)) = c.get("netError") {
            self.net_errors = m
                .iter()
                .filter_map(|(name, n)| Some((n.as_i64()?, name.clone())))
                .collect();
        }
        if let Some(p) = c.get("logEventPhase") {
            self.begin = p.get("PHASE_BEGIN").and_then(Value::as_u64).unwrap_or(1);
            self.end = p.get("PHASE_END").and_then(Value::as_u64).unwrap_or(2);
        }
        self.tick_offset = match c.get("timeTickOffset") {
            Some(Value::String(s)) => s.parse::<i64>().ok(),
            Some(Value::Number(n)) => n.as_i64(),
            _ => None,
        };
        self.declared_mode = c
            .get("logCaptureMode")
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(ci) = c.get("clientInfo") {
            let name = ci.get("name").and_then(Value::as_str).unwrap_or("Chrome");
            let version = ci
                .get("version")
                .and_then(Value::as_str)
                .unwrap_or_default();
            self.info.browser = Some(format!("{name} {version}").trim().to_string());
            self.info.creator = format!("{name} NetLog");
        }
    }

    fn name(&self, id: i64) -> Option<&str> {
        self.types.get(usize::try_from(id).ok()?)?.as_deref()
    }

    fn event(&mut self, e: Event<'_>) {
        self.events += 1;
        let Some(name) = self.name(e.kind).map(str::to_string) else {
            self.unknown_types += 1;
            return;
        };
        let source_type = self
            .sources
            .get(usize::try_from(e.source.kind).unwrap_or(usize::MAX))
            .and_then(Option::as_deref)
            .unwrap_or_default()
            .to_string();
        let id = e.source.id;
        // Without the offset the ticks say nothing about the date: left unknown.
        let t = ms(e.time)
            .or_else(|| ms(e.source.start_time))
            .and_then(|t| Some(t + self.tick_offset?));
        let interesting = source_type == "URL_REQUEST"
            || name.starts_with("AUTH")
            || name.contains("SOCKET_BYTES")
            || name == "COOKIE_INCLUSION_STATUS";
        if !interesting {
            return;
        }
        let params: Value = e
            .params
            .and_then(|p| serde_json::from_str(p.get()).ok())
            .unwrap_or(Value::Null);
        if name.starts_with("SOCKET_BYTES") && params.get("bytes").is_some() {
            self.raw_bytes = true;
        }
        // Links: a URL_REQUEST naming another source, or another naming a URL_REQUEST.
        if let Some(dep) = params
            .get("source_dependency")
            .and_then(|d| d.get("id"))
            .and_then(Value::as_i64)
        {
            if source_type == "URL_REQUEST" {
                self.owner.insert(dep, id);
                if let Some(events) = self.orphans.remove(&dep)
                    && let Some(req) = self.open.get_mut(&id)
                {
                    self.orphan_count -= events.len();
                    for (n, p) in events {
                        auth_event(&n, &p, req, &self.net_errors);
                    }
                }
            } else if self.open.contains_key(&dep) {
                self.owner.insert(id, dep);
            }
        }
        let request = if source_type == "URL_REQUEST" {
            Some(id)
        } else {
            self.owner.get(&id).copied()
        };
        let Some(rid) = request else {
            if name.starts_with("AUTH") && self.orphan_count < ORPHANS_MAX {
                self.orphan_count += 1;
                self.orphans.entry(id).or_default().push((name, params));
            }
            return;
        };
        if source_type == "URL_REQUEST" && !self.open.contains_key(&rid) {
            if self.open.len() >= OPEN_MAX
                && let Some(oldest) = self.order.first().copied()
            {
                self.close(oldest, None);
            }
            self.open.insert(
                rid,
                Req {
                    method: String::new(),
                    url: String::new(),
                    started_ms: t,
                    legs: Vec::new(),
                    pending: None,
                    auth: Vec::new(),
                    cookies: Vec::new(),
                    from_cache: false,
                    socket: None,
                    net_error: None,
                    ended_at: None,
                },
            );
            self.order.push(rid);
        }
        if self.events.is_multiple_of(1024) {
            self.sweep();
        }
        let Some(req) = self.open.get_mut(&rid) else {
            return;
        };
        if !(name == "REQUEST_ALIVE" && e.phase == self.end as i64) {
            req.ended_at = None;
        }
        let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
        match name.as_str() {
            "REQUEST_ALIVE" if e.phase == self.begin as i64 => {
                if let Some(u) = s("url") {
                    req.url = u;
                }
            }
            "URL_REQUEST_START_JOB" => {
                if let Some(u) = s("url") {
                    req.url = u;
                }
                if let Some(m) = s("method") {
                    req.method = m;
                }
            }
            "HTTP_TRANSACTION_SEND_REQUEST_HEADERS"
            | "HTTP_TRANSACTION_HTTP2_SEND_REQUEST_HEADERS"
            | "HTTP_TRANSACTION_QUIC_SEND_REQUEST_HEADERS"
            | "HTTP_TRANSACTION_SEND_TUNNEL_HEADERS" => {
                let mut headers = header_list(params.get("headers"));
                // HTTP/2 and QUIC pseudo-headers: the method and URL are the request's.
                headers.retain(|(n, _)| !n.starts_with(':'));
                let mut hidden = Vec::new();
                let headers = self.hider.clean(headers, &mut hidden);
                let tunnel = name.contains("TUNNEL");
                let req = self.open.get_mut(&rid).expect("present");
                req.pending = Some((
                    RequestRecord {
                        method: if tunnel {
                            "CONNECT".into()
                        } else {
                            req.method.clone()
                        },
                        url: req.url.clone(),
                        headers,
                        body_len: 0,
                    },
                    hidden,
                    t,
                ));
            }
            "HTTP_TRANSACTION_READ_RESPONSE_HEADERS"
            | "HTTP_TRANSACTION_READ_TUNNEL_RESPONSE_HEADERS" => {
                let lines: Vec<String> = params
                    .get("headers")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let (version, status) = lines
                    .first()
                    .map(|l| {
                        let mut it = l.split_whitespace();
                        (
                            it.next().unwrap_or("HTTP/1.1").to_string(),
                            it.next().and_then(|s| s.parse::<u16>().ok()).unwrap_or(0),
                        )
                    })
                    .unwrap_or_else(|| ("HTTP/1.1".into(), 0));
                let headers: Headers = lines
                    .iter()
                    .skip(1)
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
                    .collect();
                let mut hidden = Vec::new();
                let headers = self.hider.clean(headers, &mut hidden);
                let req = self.open.get_mut(&rid).expect("present");
                let (request, mut req_hidden, sent) = req.pending.take().unwrap_or_else(|| {
                    (
                        RequestRecord {
                            method: req.method.clone(),
                            url: req.url.clone(),
                            headers: Vec::new(),
                            body_len: 0,
                        },
                        Vec::new(),
                        t,
                    )
                });
                req_hidden.extend(hidden);
                let response = ResponseRecord {
                    status,
                    version,
                    headers,
                    body: String::new(),
                    body_len: 0,
                    body_incomplete: Some("a NetLog does not keep bodies".into()),
                };
                let leg = leg_of(req, request, Some(response), None, req_hidden, sent);
                req.legs.push(leg);
            }
            "COOKIE_INCLUSION_STATUS" => {
                let status = s("status").unwrap_or_default();
                let reasons: Vec<String> = status
                    .split([',', ' '])
                    .map(str::trim)
                    .filter(|r| r.starts_with("EXCLUDE_"))
                    .map(str::to_string)
                    .collect();
                if !reasons.is_empty() {
                    req.cookies.push(RefusedCookie {
                        name: s("name").unwrap_or_default(),
                        url: req.url.clone(),
                        operation: s("operation").unwrap_or_else(|| "send".into()),
                        reasons,
                    });
                }
            }
            "HTTP_CACHE_GET_BACKEND" | "HTTP_CACHE_OPEN_OR_CREATE_ENTRY" => {}
            "URL_REQUEST_DELEGATE_RESPONSE_STARTED" => {}
            "SOCKET_POOL_BOUND_TO_SOCKET" | "HTTP_STREAM_REQUEST_BOUND_TO_JOB" => {
                req.socket = params
                    .get("source_dependency")
                    .and_then(|d| d.get("id"))
                    .and_then(Value::as_i64)
                    .or(req.socket);
            }
            "REQUEST_ALIVE" if e.phase == self.end as i64 && source_type == "URL_REQUEST" => {
                req.ended_at = Some(self.events);
                if let Some(n) = params
                    .get("net_error")
                    .and_then(Value::as_i64)
                    .filter(|n| *n != 0)
                {
                    req.net_error = Some(n);
                }
            }
            n if n.starts_with("AUTH") => {
                auth_event(n, &params, req, &self.net_errors);
            }
            _ => {
                if name.contains("CACHE") && name.contains("READ_INFO") {
                    req.from_cache = true;
                }
            }
        }
    }

    /// Hands on the requests that ended and stayed quiet, and forgets their links.
    fn sweep(&mut self) {
        if self.owner.len() > self.owner_limit {
            let open = &self.open;
            self.owner.retain(|_, r| open.contains_key(r));
            self.owner_limit = (self.owner.len() * 2).max(100_000);
        }
        let now = self.events;
        let quiet: Vec<i64> = self
            .order
            .iter()
            .copied()
            .filter(|r| {
                self.open
                    .get(r)
                    .and_then(|q| q.ended_at)
                    .is_some_and(|at| now - at > QUIET_EVENTS)
            })
            .collect();
        for r in quiet {
            self.close(r, None);
        }
    }

    /// Hands on a request's legs.
    fn close(&mut self, rid: i64, err: Option<i64>) {
        let Some(mut req) = self.open.remove(&rid) else {
            return;
        };
        let err = err.or(req.net_error);
        self.order.retain(|r| *r != rid);
        if let Some((request, hidden, sent)) = req.pending.take() {
            let error = Some(match err {
                Some(n) => format!("no response: {}", net_error(&self.net_errors, n)),
                None => "no response before the log ended".into(),
            });
            let leg = leg_of(&req, request, None, error, hidden, sent);
            req.legs.push(leg);
        }
        if req.legs.is_empty() {
            // A request served without the network (cache, data: URLs) or not begun.
            return;
        }
        let url = req.legs[0].exchange.request.url.clone();
        for leg in &mut req.legs {
            leg.entry = self.info.entries;
        }
        self.info.entries += 1;
        let decisions = std::mem::take(&mut req.auth);
        let cookies = std::mem::take(&mut req.cookies);
        // The decisions first: the flow that takes the request's first leg takes them.
        for d in decisions {
            self.sink.note(&url, Some(d), None);
        }
        for c in cookies {
            self.sink.note(&url, None, Some(c));
        }
        for leg in req.legs {
            self.sink.leg(leg);
        }
    }

    fn finish(mut self) -> CaptureInfo {
        let open: Vec<i64> = self.order.clone();
        for rid in open {
            self.close(rid, None);
        }
        let stripped = self.hider.stripped > 0;
        self.info.mode = match (&self.declared_mode, stripped, self.raw_bytes) {
            (Some(m), _, _) => m.clone(),
            (None, _, true) => "Everything (raw bytes)".into(),
            (None, true, _) => "Default (cookies and credentials stripped)".into(),
            (None, false, _) => "with cookies and credentials".into(),
        };
        if stripped {
            self.info.trust = Trust::Sanitized;
            self.info.hidden.push("cookie and credential values: the default capture mode writes \"[N bytes were stripped]\" for them (choose \"Include cookies and credentials\" in net-export)".into());
        }
        self.info.hidden.extend(self.hider.report());
        if self.unknown_types > 0 {
            self.info.skipped.push(format!(
                "{} events of types the file's constants do not name",
                self.unknown_types
            ));
        }
        if self.types.is_empty() && self.events > 0 {
            self.info.skipped.push(
                "no logEventTypes in constants before the events: event types cannot be named"
                    .into(),
            );
        }
        self.info
    }
}

/// Chrome's auth scheme score order: the scheme it answers when several are offered.
const PREFERENCE: &[&str] = &["Negotiate", "NTLM", "Digest", "Basic"];

fn leg_of(
    req: &Req,
    request: RequestRecord,
    response: Option<ResponseRecord>,
    error: Option<String>,
    hidden: Vec<HiddenHeader>,
    sent: Option<i64>,
) -> CapturedLeg {
    let mut auth = crate::sent_auth(&request.headers, &hidden);
    // A credential value stripped by the default mode still shows that one was sent; its
    // scheme is the auth handler's, or the best one the previous answer offered.
    if auth.is_none()
        && let Some(h) = hidden.iter().find(|h| {
            h.name.eq_ignore_ascii_case("authorization")
                || h.name.eq_ignore_ascii_case("proxy-authorization")
        })
    {
        let offered = req
            .legs
            .last()
            .and_then(|l| l.exchange.response.as_ref())
            .map(|r| {
                r.headers
                    .iter()
                    .filter(|(n, _)| {
                        n.eq_ignore_ascii_case("www-authenticate")
                            || n.eq_ignore_ascii_case("proxy-authenticate")
                    })
                    .map(|(_, v)| v.clone())
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .unwrap_or_default();
        let scheme = req
            .auth
            .iter()
            .rev()
            .find_map(|d| d.scheme.clone())
            .map(|s| {
                PREFERENCE
                    .iter()
                    .find(|p| p.eq_ignore_ascii_case(&s))
                    .map(|p| p.to_string())
                    .unwrap_or(s)
            })
            .or_else(|| {
                PREFERENCE
                    .iter()
                    .find(|p| {
                        offered
                            .to_ascii_lowercase()
                            .contains(&p.to_ascii_lowercase())
                    })
                    .map(|p| p.to_string())
            });
        if let Some(scheme) = scheme {
            auth = Some(SentAuth {
                header: h.name.clone(),
                scheme,
                source: AuthSource::Captured,
            });
        }
    }
    CapturedLeg {
        entry: 0,
        started: None,
        started_ms: sent.or(req.started_ms),
        exchange: Exchange {
            leg: Leg::Initial,
            connection: 0,
            request,
            response,
            error,
            auth,
            elapsed_ms: 0.0,
            via_proxy: false,
        },
        trust: if hidden.is_empty() {
            Trust::RawWire
        } else {
            Trust::Sanitized
        },
        hidden_headers: hidden.iter().map(HiddenHeader::describe).collect(),
        from_cache: req.from_cache.then(|| "disk".to_string()),
        resource_type: None,
        connection_id: req.socket.map(|s| format!("socket {s}")),
        transfer_size: None,
    }
}

/// The auth controller's and the security library's events.
fn auth_event(name: &str, p: &Value, req: &mut Req, names: &HashMap<i64, String>) {
    let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    let new = |req: &Req| AuthDecision {
        url: req.url.clone(),
        ..AuthDecision::default()
    };
    match name {
        "AUTH_HANDLER_INIT" => {
            if let (Some(last), Some(adc)) = (
                req.auth.last_mut(),
                p.get("allows_default_credentials").and_then(Value::as_bool),
            ) {
                last.allows_default_credentials = Some(adc);
            }
        }
        "AUTH_HANDLER_CREATE_RESULT" => {
            // The controller's own record (target and URL, no scheme yet) grows into this one.
            let mut d = match req.auth.last() {
                Some(last) if last.scheme.is_none() && last.spn.is_none() => {
                    req.auth.pop().expect("checked")
                }
                _ => new(req),
            };
            d.scheme = s(p.get("scheme"));
            d.allows_default_credentials =
                p.get("allows_default_credentials").and_then(Value::as_bool);
            if let Some(e) = p
                .get("net_error")
                .and_then(Value::as_i64)
                .filter(|e| *e != 0)
            {
                d.status = Some(net_error(names, e));
            }
            if d.scheme.is_some() || d.allows_default_credentials.is_some() {
                req.auth.push(d);
            }
        }
        "AUTH_CONTROLLER" => {
            if let Some(t) = s(p.get("target")) {
                let mut d = new(req);
                d.proxy = t == "proxy";
                if let Some(u) = s(p.get("url")) {
                    d.url = u;
                }
                req.auth.push(d);
            }
        }
        "AUTH_HANDLE_CHALLENGE" => {
            let result = s(p.get("authorization_result")).or_else(|| s(p.get("result")));
            if let Some(last) = req.auth.last_mut() {
                last.challenge = result;
            } else {
                let mut d = new(req);
                d.challenge = result;
                req.auth.push(d);
            }
        }
        "AUTH_LIBRARY_INIT_SEC_CTX" | "AUTH_LIBRARY_ACQUIRE_CREDS" | "AUTH_LIBRARY_IMPORT_NAME" => {
            let mut d = req.auth.last().cloned().unwrap_or_else(|| new(req));
            let context_target = p.get("context").and_then(|c| c.get("target"));
            if let Some(spn) = s(p.get("spn")).or_else(|| s(context_target)) {
                d.spn = Some(spn);
            }
            if let Some(f) = p.get("flags") {
                let delegated = f.get("delegated").and_then(Value::as_bool);
                let by_policy = f.get("delegate_by_kdc_policy").and_then(Value::as_bool);
                d.delegation = match (delegated, by_policy) {
                    (Some(true), _) => Some("delegated".into()),
                    (_, Some(true)) => Some("by_kdc_policy".into()),
                    (Some(false), _) => Some("none".into()),
                    _ => d.delegation,
                };
            }
            if let Some(st) = p.get("status") {
                let err = st.get("net_error").and_then(Value::as_i64).unwrap_or(0);
                let detail = [
                    "security_status",
                    "major_status",
                    "minor_status",
                    "function",
                ]
                .iter()
                .filter_map(|k| {
                    st.get(*k).map(|v| match v.as_i64() {
                        // SSPI's SECURITY_STATUS is logged as a signed int: as Windows writes it.
                        Some(n) if *k == "security_status" && n < 0 => {
                            format!("{k} 0x{:08X}", n as i32 as u32)
                        }
                        _ => format!("{k} {}", v.to_string().trim_matches('"')),
                    })
                })
                .collect::<Vec<_>>()
                .join(", ");
                if err != 0 {
                    d.status = Some(
                        format!("{} {detail}", net_error(names, err))
                            .trim()
                            .to_string(),
                    );
                }
            }
            if let Some(m) = p
                .get("context")
                .and_then(|c| c.get("mechanism"))
                .and_then(|m| m.get("description").or(m.get("oid")).or(Some(m)))
                .and_then(Value::as_str)
            {
                d.mechanism = Some(m.to_string());
            }
            // Replace the handler's decision with what it grew into, or add it.
            match req.auth.last_mut() {
                Some(last) if last.spn.is_none() || last.spn == d.spn => *last = d,
                _ => req.auth.push(d),
            }
        }
        _ => {}
    }
}

/// `net_error N (ERR_NAME)`, named through the file's own `constants.netError` (the numbers are
/// Chrome's, the names whatever that build calls them); the bare number when the file has none.
fn net_error(names: &HashMap<i64, String>, n: i64) -> String {
    match names.get(&n) {
        Some(name) => format!("net_error {n} ({name})"),
        None => format!("net_error {n}"),
    }
}

fn header_list(v: Option<&Value>) -> Headers {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|l| {
                // ":method: GET" keeps its leading colon in the name.
                let (n, v) = if let Some(rest) = l.strip_prefix(':') {
                    let (n, v) = rest.split_once(':')?;
                    (format!(":{n}"), v)
                } else {
                    let (n, v) = l.split_once(':')?;
                    (n.to_string(), v)
                };
                Some((n.trim().to_string(), v.trim().to_string()))
            })
            .collect(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

/// The events of a line-per-event NetLog, after its first two lines.
fn lines(st: &mut State<'_>, mut r: impl BufRead) {
    let mut buf = Vec::new();
    let mut line_no = 2usize;
    let mut bad = 0usize;
    loop {
        buf.clear();
        match r.read_until(b'\n', &mut buf) {
            Ok(0) => {
                st.info.stopped = Some(format!(
                    "the log ends after line {line_no} without closing its events: the browser did not close it; the {} complete events before are read, as netlog-viewer repairs such a file",
                    st.events
                ));
                return;
            }
            Ok(_) => {}
            Err(e) => {
                st.info.stopped = Some(format!("reading stopped at line {line_no}: {e}"));
                return;
            }
        }
        line_no += 1;
        let complete = buf.last() == Some(&b'\n');
        let line = buf.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if line.starts_with(b"]") || line.starts_with(b"{}]") {
            return;
        }
        let event = line.strip_suffix(b",").unwrap_or(line);
        // The last event carries the array's end: `{…}]`, `{…}],` (then polledData), `{…}]}`.
        let (event, last) = match event
            .strip_suffix(b"]}")
            .or_else(|| event.strip_suffix(b"]"))
        {
            Some(e) if e.ends_with(b"}") => (e, true),
            _ => (event, false),
        };
        match serde_json::from_slice::<Event>(event) {
            Ok(e) => {
                st.event(e);
                if last {
                    return;
                }
            }
            Err(_) if !complete => {
                st.info.stopped = Some(format!(
                    "the log ends in the middle of line {line_no}: the browser did not close it; the {} complete events before are read, as netlog-viewer repairs such a file",
                    st.events
                ));
                return;
            }
            Err(e) => {
                bad += 1;
                if bad <= 5 {
                    st.info
                        .skipped
                        .push(format!("line {line_no}: not a NetLog event ({e})"));
                } else if bad == 6 {
                    st.info
                        .skipped
                        .push("… more events of unexpected shape (not listed)".into());
                }
            }
        }
    }
}

struct Top<'a, 's> {
    st: &'a mut State<'s>,
}

impl<'de> DeserializeSeed<'de> for Top<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a NetLog object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "constants" => {
                    let c: Value = map.next_value()?;
                    self.st.constants(c);
                }
                "events" => map.next_value_seed(Events { st: &mut *self.st })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

struct Events<'a, 's> {
    st: &'a mut State<'s>,
}

impl<'de> DeserializeSeed<'de> for Events<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Events<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("the NetLog events")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Each event is taken whole first, so that one of an unexpected shape is counted and
        // skipped rather than ending the read.
        let mut bad = 0usize;
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            match serde_json::from_str::<Event>(raw.get()) {
                Ok(e) => self.st.event(e),
                Err(_) if raw.get() == "null" => {}
                Err(e) => {
                    bad += 1;
                    if bad <= 5 {
                        self.st.info.skipped.push(format!(
                            "event {}: not a NetLog event ({e})",
                            self.st.events + bad
                        ));
                    }
                }
            }
        }
        if bad > 5 {
            self.st
                .info
                .skipped
                .push(format!("… {bad} events of unexpected shape in all"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Flows;

    /// A Windows NetLog of a Negotiate attempt whose SPN the KDC does not know: the request's
    /// legs on its URL_REQUEST source, the auth controller's events on a source of its own bound
    /// to it, the security library's BEGIN (SPN, flags) and END (SSPI status).
    const SPN_UNKNOWN: &str = concat!(
        "{\"constants\":{\"logEventTypes\":{\"REQUEST_ALIVE\":2,\"URL_REQUEST_START_JOB\":7,",
        "\"HTTP_TRANSACTION_SEND_REQUEST_HEADERS\":150,\"HTTP_TRANSACTION_READ_RESPONSE_HEADERS\":160,",
        "\"AUTH_BOUND_TO_CONTROLLER\":170,\"AUTH_CONTROLLER\":171,\"AUTH_HANDLER_CREATE_RESULT\":172,",
        "\"AUTH_LIBRARY_INIT_SEC_CTX\":173},",
        "\"logSourceType\":{\"URL_REQUEST\":1,\"HTTP_AUTH_CONTROLLER\":40},",
        "\"logEventPhase\":{\"PHASE_BEGIN\":1,\"PHASE_END\":2,\"PHASE_NONE\":0},",
        "\"timeTickOffset\":\"1765015200000\",\"logCaptureMode\":\"IncludeSensitive\"},\n",
        "\"events\": [\n",
        "{\"phase\":1,\"source\":{\"id\":9,\"type\":1},\"time\":\"1\",\"type\":2,\"params\":{\"url\":\"http://intranet.corp.example/\"}},\n",
        "{\"phase\":1,\"source\":{\"id\":9,\"type\":1},\"time\":\"1\",\"type\":7,\"params\":{\"method\":\"GET\",\"url\":\"http://intranet.corp.example/\"}},\n",
        "{\"phase\":0,\"source\":{\"id\":9,\"type\":1},\"time\":\"2\",\"type\":150,\"params\":{\"headers\":[\"Host: intranet.corp.example\"]}},\n",
        "{\"phase\":0,\"source\":{\"id\":9,\"type\":1},\"time\":\"3\",\"type\":160,\"params\":{\"headers\":[\"HTTP/1.1 401 Unauthorized\",\"WWW-Authenticate: Negotiate\"]}},\n",
        "{\"phase\":1,\"source\":{\"id\":12,\"type\":40},\"time\":\"3\",\"type\":171,\"params\":{\"target\":\"server\",\"url\":\"http://intranet.corp.example/\"}},\n",
        "{\"phase\":0,\"source\":{\"id\":9,\"type\":1},\"time\":\"3\",\"type\":170,\"params\":{\"source_dependency\":{\"id\":12,\"type\":40}}},\n",
        "{\"phase\":0,\"source\":{\"id\":12,\"type\":40},\"time\":\"3\",\"type\":172,\"params\":{\"scheme\":\"negotiate\",\"allows_default_credentials\":true}},\n",
        "{\"phase\":1,\"source\":{\"id\":12,\"type\":40},\"time\":\"4\",\"type\":173,\"params\":{\"spn\":\"HTTP/intranet.corp.example\",\"flags\":{\"value\":\"0x00000000\",\"delegated\":false,\"mutual\":false}}},\n",
        "{\"phase\":2,\"source\":{\"id\":12,\"type\":40},\"time\":\"5\",\"type\":173,\"params\":{\"status\":{\"net_error\":-343,\"security_status\":-2146893053}}},\n",
        "{\"phase\":2,\"source\":{\"id\":9,\"type\":1},\"time\":\"6\",\"type\":2,\"params\":{\"net_error\":-343}}]}\n",
    );

    #[test]
    fn the_security_library_s_spn_and_status_reach_the_request() {
        let mut flows = Vec::new();
        let mut sink = Flows::new(|f| flows.push(f));
        let info = read(SPN_UNKNOWN.as_bytes(), &mut sink);
        sink.finish();
        assert!(
            info.stopped.is_none() && info.skipped.is_empty(),
            "{info:?}"
        );
        assert_eq!(flows.len(), 1, "{flows:#?}");
        let d = &flows[0].auth[0];
        assert_eq!(d.scheme.as_deref(), Some("negotiate"));
        assert_eq!(d.spn.as_deref(), Some("HTTP/intranet.corp.example"));
        assert_eq!(d.delegation.as_deref(), Some("none"));
        let status = d.status.as_deref().unwrap();
        assert!(
            status.contains("-343") && status.contains("0x80090303"),
            "{status}"
        );
        let diagnosis = why401_doctor::capture::diagnose(&info, &flows[0]);
        let spn = diagnosis
            .findings
            .iter()
            .find(|f| f.id == "kerberos-spn-unknown")
            .expect("the SPN the KDC does not know is the finding");
        assert!(spn.confidence >= 0.85, "{spn:?}");
    }
}
