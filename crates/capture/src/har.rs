//! HAR 1.1/1.2 read entry by entry: `log.entries` is found by a byte scan ([`crate::scan`]) and
//! each entry parsed from its slice and handed on, so a file of any size is read in bounded
//! memory; a file without `log.entries` is only parsed to say why. Tolerant of
//! what real exports contain: a UTF-8 BOM, a file cut short (every complete entry is read, the
//! stop is reported), headers as `{name, value}` objects, as `"Name: value"` strings or as one
//! object, numeric dates, missing fields.
//!
//! Our own serde types rather than the `har` crate: it rejects files missing "required" fields
//! and drops the `_`-prefixed fields browsers add (`_fromCache`, `_transferSize`…), which carry
//! evidence here.

use std::fmt;
use std::io::Read;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use why401_evidence::capture::{CaptureFormat, CaptureInfo, CapturedLeg, Trust};
use why401_evidence::{Exchange, Headers, Leg, RequestRecord, ResponseRecord};

use crate::hidden::{HiddenHeader, Hider};
use crate::scan::{Item, Scanner};
use crate::{BODY_KEPT, Sink};

/// Reads a HAR from `reader`, handing each entry to `sink` as a leg. Returns what the capture
/// says about itself.
pub fn read(reader: impl Read, sink: &mut dyn Sink) -> CaptureInfo {
    let mut state = State {
        sink,
        info: CaptureInfo::new(CaptureFormat::Har, "", "", Trust::BrowserView),
        hider: Hider::default(),
        secrets_seen: false,
    };
    let mut scanner = Scanner::new(crate::skip_bom(reader));
    if let Ok(Some(head)) = scanner.find_array(&["log", "entries"]) {
        state.head(&head);
        let mut bad = 0usize;
        loop {
            match scanner.next_item() {
                Ok(Item::Value) => match serde_json::from_slice::<RawEntry>(scanner.item()) {
                    Ok(e) => state.entry(e),
                    Err(e) => {
                        bad += 1;
                        let n = state.info.entries + bad;
                        if bad <= 5 {
                            state
                                .info
                                .skipped
                                .push(format!("entry {n}: not a HAR entry ({e})"));
                        } else if bad == 6 {
                            state
                                .info
                                .skipped
                                .push("… more entries of unexpected shape (not listed)".into());
                        }
                    }
                },
                Ok(Item::End) => break,
                Ok(Item::Eof) => {
                    state.info.stopped = Some(format!(
                        "the file ends in the middle (byte {}): it was cut short; the {} complete entries before are read",
                        scanner.offset(),
                        state.info.entries
                    ));
                    break;
                }
                Err(e) => {
                    state.info.stopped = Some(format!(
                        "reading stopped at byte {}: {e}; the {} complete entries before are read",
                        scanner.offset(),
                        state.info.entries
                    ));
                    break;
                }
            }
        }
        return state.finish();
    }
    // No top-level `log.entries`: say why (not JSON, cut short before any entry, or JSON of
    // another shape). Nothing was handed on.
    let rest = scanner.into_rest();
    state.info.stopped = Some(match serde_json::from_reader::<_, IgnoredAny>(rest) {
        Err(e) if e.is_eof() => format!(
            "the file ends in the middle (line {}, column {}) before its first entry: it was cut short",
            e.line(),
            e.column()
        ),
        Err(e) => format!(
            "not valid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
        Ok(_) => "no \"log\" object with \"entries\" at the top of the file: not a HAR (a HAR is {\"log\": {\"entries\": […]}})".into(),
    });
    state.finish()
}

struct State<'s> {
    sink: &'s mut dyn Sink,
    info: CaptureInfo,
    hider: Hider,
    /// An Authorization, Cookie or Set-Cookie value was seen somewhere.
    secrets_seen: bool,
}

impl State<'_> {
    /// The log's own fields before its entries (the creator, the browser), from the bytes that
    /// precede the entries array.
    fn head(&mut self, head: &[u8]) {
        let mut doc = head.to_vec();
        doc.extend_from_slice(b"[]}}");
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&doc) else {
            return;
        };
        let named = |k: &str| {
            let n = v.get("log")?.get(k)?;
            let name = n.get("name").and_then(|x| x.as_str()).unwrap_or_default();
            let version = n
                .get("version")
                .and_then(|x| x.as_str())
                .unwrap_or_default();
            Some(format!("{name} {version}").trim().to_string())
        };
        if let Some(c) = named("creator") {
            self.info.creator = c;
        }
        self.info.browser = named("browser").filter(|b| !b.is_empty());
    }

    fn entry(&mut self, raw: RawEntry) {
        let index = self.info.entries;
        self.info.entries += 1;
        let Some(req) = raw.request else {
            self.info.skipped.push(format!("entry {index}: no request"));
            return;
        };
        let mut leg_hidden: Vec<HiddenHeader> = Vec::new();
        let mut sw = false;
        let request_headers = self.hider.clean(req.headers.0, &mut leg_hidden);
        let response = raw.response.map(|r| {
            let headers = self.hider.clean(r.headers.0, &mut leg_hidden);
            sw |= r.via_service_worker == Some(true);
            let text = r
                .content
                .as_ref()
                .and_then(|c| c.text.clone())
                .unwrap_or_default();
            let size = r
                .content
                .as_ref()
                .and_then(|c| c.size)
                .filter(|s| *s >= 0)
                .map(|s| s as usize)
                .unwrap_or(text.0.len());
            (
                r.status,
                r.http_version,
                headers,
                text,
                size,
                r.transfer_size,
                r.headers_size,
                r.error,
            )
        });
        let mut gap_note = None;
        // HTTP/1.1 request headers as sent are `headersSize` bytes: a gap to the headers shown
        // is headers the exporter left out (Chrome's sanitized export drops Cookie and
        // Authorization but keeps counting them). Other writers count differently.
        if self.chrome()
            && let Some(size) = req.headers_size.filter(|s| *s > 0)
            && req.http_version.to_ascii_uppercase().starts_with("HTTP/1")
        {
            let shown = req.method.len()
                + req.url.len()
                + req.http_version.len()
                + 4
                + request_headers
                    .iter()
                    .map(|(n, v)| n.len() + v.len() + 4)
                    .sum::<usize>()
                + 2;
            let gap = size - shown as i64;
            // The request line's target is the path, not the absolute URL: allow for that; the
            // smallest hidden header ("Cookie: a=b") is 13 bytes, an Authorization 20 or more.
            if gap > 24 {
                self.hider.gaps += 1;
                gap_note = Some(format!("{gap} bytes of request headers"));
            }
        }
        self.secrets_seen |= request_headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        }) || response.as_ref().is_some_and(|r| {
            r.2.iter()
                .any(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        });
        let auth = crate::sent_auth(&request_headers, &leg_hidden);
        let from_cache = raw
            .from_cache
            .filter(|c| !c.is_empty())
            .or_else(|| {
                raw.service_worker_source
                    .filter(|s| !s.is_empty() && s != "network")
                    .map(|_| "service-worker".to_string())
            })
            .or_else(|| {
                (raw.from_service_worker == Some(true) || sw).then(|| "service-worker".to_string())
            });
        let (response, transfer, error) = match response {
            // Chrome writes status 0 for requests that got no response (blocked, failed).
            Some((0, _, _, _, _, transfer, _, err)) => (
                None,
                transfer,
                Some(err.unwrap_or_else(|| "no response (status 0 in the HAR)".into())),
            ),
            Some((status, version, headers, text, size, transfer, _, err)) => (
                Some(ResponseRecord {
                    status: status.clamp(0, u16::MAX as i64) as u16,
                    version: if version.is_empty() {
                        "HTTP/1.1".into()
                    } else {
                        version.to_ascii_uppercase()
                    },
                    headers,
                    body: text.0,
                    body_len: size,
                    body_incomplete: text
                        .1
                        .then(|| format!("the capture keeps the first {BODY_KEPT} bytes")),
                }),
                transfer,
                err,
            ),
            None => (None, None, Some("no response in the HAR".into())),
        };
        let leg = CapturedLeg {
            entry: index,
            started_ms: raw.started.as_ref().and_then(|s| s.millis()),
            started: raw.started.map(|s| s.text()),
            exchange: Exchange {
                leg: Leg::Initial,
                connection: 0,
                request: RequestRecord {
                    method: req.method,
                    url: req.url,
                    headers: request_headers,
                    body_len: req.body_size.filter(|s| *s > 0).unwrap_or(0) as usize,
                },
                response,
                error,
                auth,
                elapsed_ms: raw.time.unwrap_or(0.0).max(0.0),
                via_proxy: false,
            },
            trust: if leg_hidden.is_empty() && gap_note.is_none() {
                Trust::BrowserView
            } else {
                Trust::Sanitized
            },
            hidden_headers: leg_hidden
                .iter()
                .map(HiddenHeader::describe)
                .chain(gap_note)
                .collect(),
            from_cache,
            resource_type: raw.resource_type,
            connection_id: raw
                .connection_id
                .or(raw.connection)
                .map(|c| c.0)
                .filter(|c| !c.is_empty()),
            transfer_size: transfer,
        };
        self.sink.leg(leg);
    }

    /// Written by Chrome's or Edge's DevTools.
    fn chrome(&self) -> bool {
        let creator = self.info.creator.to_ascii_lowercase();
        creator.contains("webinspector") || creator.contains("chrome") || creator.contains("edge")
    }

    fn finish(mut self) -> CaptureInfo {
        let chrome = self.chrome();
        let sanitized = self.hider.stripped > 0 || self.hider.gaps > 0;
        self.info.mode = if chrome && !self.secrets_seen && self.info.entries > 0 {
            "sanitized: no Cookie, Authorization or Set-Cookie anywhere (Chrome 130+'s default export, or none were used)".into()
        } else if sanitized {
            "values hidden".into()
        } else {
            "with what the browser showed".into()
        };
        if chrome && !self.secrets_seen && self.info.entries > 0 {
            self.info.trust = Trust::Sanitized;
            self.info.hidden.push("Cookie, Authorization and Set-Cookie headers: a DevTools export since Chrome 130 leaves them out unless \"Export HAR (with sensitive data)\" is chosen".into());
        }
        self.info.hidden.extend(self.hider.report());
        self.info.hidden.push("the legs of a browser auth handshake: a HAR shows the first request's headers and the final response, not the 401/407 legs in between nor the Authorization the browser added".into());
        self.info
    }
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default, rename = "startedDateTime")]
    started: Option<When>,
    #[serde(default)]
    time: Option<f64>,
    #[serde(default)]
    request: Option<RawRequest>,
    #[serde(default)]
    response: Option<RawResponse>,
    #[serde(default)]
    connection: Option<Text>,
    /// Newer Chrome: the socket id here, the remote port in `connection`.
    #[serde(default, rename = "_connectionId")]
    connection_id: Option<Text>,
    #[serde(default, rename = "_fromCache")]
    from_cache: Option<String>,
    #[serde(default, rename = "_resourceType")]
    resource_type: Option<String>,
    #[serde(default, rename = "_serviceWorkerResponseSource")]
    service_worker_source: Option<String>,
    #[serde(default, rename = "_fromServiceWorker")]
    from_service_worker: Option<bool>,
}

#[derive(Deserialize)]
struct RawRequest {
    #[serde(default)]
    method: String,
    #[serde(default)]
    url: String,
    #[serde(default, rename = "httpVersion")]
    http_version: String,
    #[serde(default)]
    headers: RawHeaders,
    #[serde(default, rename = "headersSize")]
    headers_size: Option<i64>,
    #[serde(default, rename = "bodySize")]
    body_size: Option<i64>,
}

#[derive(Deserialize)]
struct RawResponse {
    #[serde(default)]
    status: i64,
    #[serde(default, rename = "httpVersion")]
    http_version: String,
    #[serde(default)]
    headers: RawHeaders,
    #[serde(default)]
    content: Option<RawContent>,
    #[serde(default, rename = "headersSize")]
    headers_size: Option<i64>,
    #[serde(default, rename = "_transferSize")]
    transfer_size: Option<i64>,
    #[serde(default, rename = "_error")]
    error: Option<String>,
    #[serde(default, rename = "_fetchedViaServiceWorker")]
    via_service_worker: Option<bool>,
}

#[derive(Deserialize)]
struct RawContent {
    #[serde(default)]
    size: Option<i64>,
    #[serde(default)]
    text: Option<Body>,
}

/// A body's start (up to [`BODY_KEPT`] bytes) and whether more was dropped: the rest of a large
/// body is never held.
#[derive(Clone, Default)]
struct Body(String, bool);

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Body;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a body text")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Body, E> {
                if s.len() <= BODY_KEPT {
                    return Ok(Body(s.to_string(), false));
                }
                let mut end = BODY_KEPT;
                while !s.is_char_boundary(end) {
                    end -= 1;
                }
                Ok(Body(s[..end].to_string(), true))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Body, E> {
                Ok(Body::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// A string field that some writers give as a number (Chrome's `connection`).
struct Text(String);

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a number")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text, E> {
                Ok(Text(s.to_string()))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<Text, E> {
                Ok(Text(n.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text, E> {
                Ok(Text(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `startedDateTime`: ISO 8601 as the spec says, or Unix milliseconds as some writers do.
enum When {
    Iso(String),
    Millis(f64),
}

impl When {
    fn text(&self) -> String {
        match self {
            When::Iso(s) => s.clone(),
            When::Millis(ms) => format!("{ms}"),
        }
    }

    fn millis(&self) -> Option<i64> {
        match self {
            When::Iso(s) => crate::iso_millis(s),
            When::Millis(ms) => Some(*ms as i64),
        }
    }
}

impl<'de> Deserialize<'de> for When {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = When;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<When, E> {
                Ok(When::Iso(s.to_string()))
            }
            fn visit_f64<E: de::Error>(self, n: f64) -> Result<When, E> {
                Ok(When::Millis(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<When, E> {
                Ok(When::Millis(n as f64))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<When, E> {
                Ok(When::Millis(n as f64))
            }
        }
        d.deserialize_any(V)
    }
}

/// Headers in any of the shapes writers use: `[{name, value}]`, `["Name: value"]`, or one
/// object `{"Name": "value"}`. Safari merges repeated headers into one comma-separated value;
/// the challenge parser reads such a list as several challenges.
#[derive(Default)]
struct RawHeaders(Headers);

impl<'de> Deserialize<'de> for RawHeaders {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct One;
        impl<'de> Visitor<'de> for One {
            type Value = Option<(String, String)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a header")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(s.split_once(':')
                    .map(|(n, v)| (n.trim().to_string(), v.trim().to_string())))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let (mut name, mut value) = (None, None);
                while let Some(k) = map.next_key::<String>()? {
                    match k.as_str() {
                        "name" => name = map.next_value::<Option<String>>()?,
                        "value" => value = Some(map.next_value::<Text>()?.0),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(name.map(|n| (n, value.unwrap_or_default())))
            }
        }
        struct OneSeed;
        impl<'de> DeserializeSeed<'de> for OneSeed {
            type Value = Option<(String, String)>;
            fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(One)
            }
        }
        struct All;
        impl<'de> Visitor<'de> for All {
            type Value = RawHeaders;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("headers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawHeaders, A::Error> {
                let mut out = Vec::new();
                while let Some(h) = seq.next_element_seed(OneSeed)? {
                    out.extend(h);
                }
                Ok(RawHeaders(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHeaders, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<String>()? {
                    out.push((k, map.next_value::<Text>()?.0));
                }
                Ok(RawHeaders(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<RawHeaders, E> {
                Ok(RawHeaders::default())
            }
        }
        d.deserialize_any(All)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Collect;

    fn read_str(s: &str) -> (CaptureInfo, Vec<CapturedLeg>) {
        let mut c = Collect::default();
        let info = read(s.as_bytes(), &mut c);
        (info, c.legs)
    }

    const TWO: &str = r#"{"log":{"version":"1.2","creator":{"name":"WebInspector","version":"537.36"},"entries":[
{"startedDateTime":"2026-12-06T10:00:00.000Z","time":12.5,"request":{"method":"GET","url":"https://app.example/a","httpVersion":"HTTP/1.1","headers":[{"name":"Host","value":"app.example"}],"headersSize":40,"bodySize":0},"response":{"status":401,"httpVersion":"HTTP/1.1","headers":[{"name":"WWW-Authenticate","value":"Basic realm=\"x\""}],"content":{"size":0,"mimeType":"text/html"},"_transferSize":900},"connection":"1234","_resourceType":"document"},
{"startedDateTime":1765015201000,"request":{"method":"GET","url":"https://app.example/b","headers":["Authorization: Bearer [REDACTED]","Accept: */*"]},"response":{"status":200,"headers":{"Content-Type":"text/plain"},"content":{"text":"ok"}},"_fromCache":"memory"}
]}}"#;

    #[test]
    fn entries_in_every_header_shape() {
        let (info, legs) = read_str(TWO);
        assert_eq!(info.entries, 2);
        assert!(info.stopped.is_none(), "{info:?}");
        assert_eq!(info.creator, "WebInspector 537.36");
        assert_eq!(legs[0].exchange.status(), Some(401));
        assert_eq!(legs[0].connection_id.as_deref(), Some("1234"));
        assert_eq!(legs[0].transfer_size, Some(900));
        assert_eq!(legs[0].resource_type.as_deref(), Some("document"));
        assert_eq!(legs[1].started_ms, Some(1_765_015_201_000));
        assert_eq!(legs[1].from_cache.as_deref(), Some("memory"));
        // A placeholder is hidden, never read as credentials.
        assert_eq!(legs[1].exchange.auth.as_ref().unwrap().scheme, "Bearer");
        assert_eq!(
            legs[1].hidden_headers,
            vec!["Authorization (Bearer, value hidden)".to_string()]
        );
        assert_eq!(legs[1].trust, Trust::Sanitized);
        let r = legs[1].exchange.response.as_ref().unwrap();
        assert_eq!(r.header("content-type"), Some("text/plain"));
        assert_eq!(r.body, "ok");
    }

    #[test]
    fn a_file_cut_short_keeps_its_complete_entries() {
        let cut = &TWO[..TWO.find("{\"startedDateTime\":1765").unwrap() + 30];
        let (info, legs) = read_str(cut);
        assert_eq!(legs.len(), 1);
        assert!(
            info.stopped.as_deref().unwrap().contains("cut short"),
            "{info:?}"
        );
        let bom = format!("\u{feff}{TWO}");
        assert_eq!(read_str(&bom).1.len(), 2);
    }

    #[test]
    fn a_headers_size_gap_is_hidden_headers() {
        let har = r#"{"log":{"creator":{"name":"WebInspector"},"entries":[{"request":{"method":"GET","url":"https://a.example/","httpVersion":"HTTP/1.1","headers":[{"name":"Host","value":"a.example"}],"headersSize":400},"response":{"status":401,"headers":[]}}]}}"#;
        let (info, legs) = read_str(har);
        assert!(legs[0].hidden_headers[0].contains("bytes of request headers"));
        assert_eq!(info.trust, Trust::Sanitized);
    }
}
