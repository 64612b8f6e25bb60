//! Fiddler session archives: a zip holding, per session N, `raw/N_c.txt` (the request bytes),
//! `raw/N_s.txt` (the response bytes) and `raw/N_m.xml` (timers and flags: the client and
//! egress ports that say which connection carried it). Sessions are read one at a time, in
//! number order; the wire bytes make every leg [`Trust::RawWire`].

use std::io::{Read, Seek};

use why401_evidence::capture::{CaptureFormat, CaptureInfo, CapturedLeg, Trust};
use why401_evidence::{Exchange, Headers, Leg, RequestRecord, ResponseRecord};

use crate::{BODY_KEPT, Sink};

/// Bytes of one session part read at most (a huge response body is cut, and counted).
const PART_MAX: u64 = 16 << 20;

/// Reads the archive, handing each session to `sink`.
pub fn read<R: Read + Seek>(reader: R, sink: &mut dyn Sink) -> Result<CaptureInfo, String> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut sessions: Vec<(u64, String)> = zip
        .file_names()
        .filter_map(|n| {
            let n = n.ok()?;
            let rest = n.strip_prefix("raw/")?.strip_suffix("_c.txt")?;
            Some((rest.parse::<u64>().ok()?, rest.to_string()))
        })
        .collect();
    sessions.sort();
    let mut info = CaptureInfo::new(
        CaptureFormat::Saz,
        "Fiddler",
        "raw request and response bytes",
        Trust::RawWire,
    );
    if sessions.is_empty() {
        return Err("a zip without raw/N_c.txt sessions: not a Fiddler SAZ".into());
    }
    for (n, (_, name)) in sessions.iter().enumerate() {
        info.entries += 1;
        let part = |zip: &mut zip::ZipArchive<R>, suffix: &str| -> Option<Vec<u8>> {
            let mut f = zip.by_name(&format!("raw/{name}{suffix}")).ok()?;
            let mut buf = Vec::new();
            (&mut f).take(PART_MAX).read_to_end(&mut buf).ok()?;
            Some(buf)
        };
        let Some(request) = part(&mut zip, "_c.txt") else {
            info.skipped.push(format!(
                "session {name}: raw/{name}_c.txt could not be read"
            ));
            continue;
        };
        let response = part(&mut zip, "_s.txt");
        let meta = part(&mut zip, "_m.xml");
        match session(n, &request, response.as_deref(), meta.as_deref()) {
            Ok(leg) => sink.leg(leg),
            Err(e) => info.skipped.push(format!("session {name}: {e}")),
        }
    }
    Ok(info)
}

/// One session's parts as a leg.
fn session(
    entry: usize,
    request: &[u8],
    response: Option<&[u8]>,
    meta: Option<&[u8]>,
) -> Result<CapturedLeg, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut headers);
    let done = req
        .parse(request)
        .map_err(|e| format!("the request is not HTTP: {e}"))?;
    if done.is_partial() {
        return Err("the request's headers are cut short".into());
    }
    let method = req.method.unwrap_or_default().to_string();
    let target = req.path.unwrap_or_default().to_string();
    let request_headers = to_headers(req.headers);
    let url = if target.contains("://") || method == "CONNECT" {
        target
    } else {
        let host = why401_evidence::header(&request_headers, "host").unwrap_or_default();
        format!("http://{host}{target}")
    };
    let body_len = match done {
        httparse::Status::Complete(n) => request.len() - n,
        httparse::Status::Partial => 0,
    };
    let (response, error) = match response.filter(|r| !r.is_empty()) {
        Some(bytes) => match parse_response(bytes) {
            Ok(r) => (Some(r), None),
            Err(e) => (None, Some(e)),
        },
        None => (None, Some("no response in the session".into())),
    };
    let (started, connection_id, via_proxy) = meta.map(metadata).unwrap_or_default();
    let auth = crate::sent_auth(&request_headers, &[]);
    Ok(CapturedLeg {
        entry,
        started_ms: started.as_deref().and_then(crate::iso_millis),
        started,
        exchange: Exchange {
            leg: Leg::Initial,
            connection: 0,
            request: RequestRecord {
                method,
                url,
                headers: request_headers,
                body_len,
            },
            response,
            error,
            auth,
            elapsed_ms: 0.0,
            via_proxy,
        },
        trust: Trust::RawWire,
        hidden_headers: Vec::new(),
        from_cache: None,
        resource_type: None,
        connection_id,
        transfer_size: None,
    })
}

fn to_headers(h: &[httparse::Header<'_>]) -> Headers {
    h.iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

fn parse_response(bytes: &[u8]) -> Result<ResponseRecord, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut resp = httparse::Response::new(&mut headers);
    let n = match resp
        .parse(bytes)
        .map_err(|e| format!("the response is not HTTP: {e}"))?
    {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Err("the response's headers are cut short".into()),
    };
    let headers = to_headers(resp.headers);
    let raw = &bytes[n..];
    let chunked = why401_evidence::header(&headers, "transfer-encoding")
        .is_some_and(|t| t.to_ascii_lowercase().contains("chunked"));
    let body = if chunked { dechunk(raw) } else { raw.to_vec() };
    let encoding = why401_evidence::header(&headers, "content-encoding")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let (text, note) = match encoding.as_str() {
        "gzip" | "x-gzip" => inflate(flate2::read::GzDecoder::new(&body[..])),
        "deflate" => inflate(flate2::read::ZlibDecoder::new(&body[..])),
        "" | "identity" => (body.clone(), None),
        other => (Vec::new(), Some(format!("the body is {other}-compressed"))),
    };
    let kept = &text[..text.len().min(BODY_KEPT)];
    Ok(ResponseRecord {
        status: resp.code.unwrap_or(0),
        version: format!("HTTP/1.{}", resp.version.unwrap_or(1)),
        headers,
        body: String::from_utf8_lossy(kept).into_owned(),
        body_len: body.len(),
        body_incomplete: note.or_else(|| {
            (text.len() > BODY_KEPT)
                .then(|| format!("the capture's first {BODY_KEPT} bytes are kept"))
        }),
    })
}

/// A chunked body's data (what is well-formed of it).
fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&raw[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next()?.trim(), 16).ok());
        let Some(size) = size.filter(|s| *s > 0) else {
            break;
        };
        let start = eol + 2;
        let end = (start + size).min(raw.len());
        out.extend_from_slice(&raw[start..end]);
        raw = raw.get(end + 2..).unwrap_or_default();
    }
    out
}

fn inflate(mut r: impl Read) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    match (&mut r).take(BODY_KEPT as u64 * 4).read_to_end(&mut out) {
        Ok(_) => (out, None),
        Err(e) => (out, Some(format!("the compressed body is damaged: {e}"))),
    }
}

/// From `N_m.xml`: when the client began the request, the connection (the client's port) and
/// whether it came through an upstream gateway.
fn metadata(xml: &[u8]) -> (Option<String>, Option<String>, bool) {
    let text = String::from_utf8_lossy(xml);
    let text = text.trim_start_matches('\u{feff}');
    let Ok(doc) = roxmltree::Document::parse(text) else {
        return (None, None, false);
    };
    let started = doc
        .descendants()
        .find(|n| n.has_tag_name("SessionTimers"))
        .and_then(|t| t.attribute("ClientBeginRequest"))
        .map(str::to_string);
    let flag = |name: &str| {
        doc.descendants()
            .filter(|n| n.has_tag_name("SessionFlag"))
            .find(|n| n.attribute("N") == Some(name))
            .and_then(|n| n.attribute("V"))
            .map(str::to_string)
    };
    // Both sides: the browser's connection to Fiddler and Fiddler's to the server (NTLM is
    // bound to the latter); a change of either is a new connection.
    let connection = match (flag("x-clientport"), flag("x-egressport")) {
        (Some(c), Some(e)) => Some(format!("client port {c}, egress port {e}")),
        (Some(c), None) => Some(format!("client port {c}")),
        (None, Some(e)) => Some(format!("egress port {e}")),
        (None, None) => None,
    };
    let via_proxy = flag("x-overrideGateway").is_some();
    (started, connection, via_proxy)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_with_chunks_and_metadata() {
        let leg = session(
            0,
            b"GET /private HTTP/1.1\r\nHost: intranet.test\r\nAuthorization: NTLM TlRMTVNTUAABAAAA\r\n\r\n",
            Some(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Negotiate\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
            Some(b"\xef\xbb\xbf<?xml version=\"1.0\"?><Session><SessionTimers ClientBeginRequest=\"2025-08-30T11:33:40.0256586-07:00\" /><SessionFlags><SessionFlag N=\"x-clientport\" V=\"64971\" /><SessionFlag N=\"x-egressport\" V=\"64982\" /></SessionFlags></Session>"),
        )
        .unwrap();
        assert_eq!(leg.exchange.request.url, "http://intranet.test/private");
        assert_eq!(leg.exchange.auth.as_ref().unwrap().scheme, "NTLM");
        let r = leg.exchange.response.as_ref().unwrap();
        assert_eq!((r.status, r.body.as_str()), (401, "hello"));
        assert_eq!(
            leg.connection_id.as_deref(),
            Some("client port 64971, egress port 64982")
        );
        assert!(leg.started_ms.is_some());
        assert!(session(0, b"\x00\x01garbage", None, None).is_err());
    }
}
