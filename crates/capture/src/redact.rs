//! A share-safe copy of a capture: credentials, cookies, and tokens in URLs and bodies replaced by
//! placeholders that the readers recognise as hidden (`[redacted by why401: N bytes]`). HARs and
//! NetLogs are rewritten entry by entry (event by event), never whole in memory.

use std::io::{Read, Write};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use why401_wire::token::is_secret_param;

use crate::Kind;

/// Headers whose values are secrets.
const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-xsrf-token",
    "ocp-apim-subscription-key",
];

/// What was replaced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Redacted {
    /// Header values.
    pub headers: usize,
    /// Cookie values (HAR `cookies` arrays).
    pub cookies: usize,
    /// Query or form parameters and tokens in URLs and bodies.
    pub tokens: usize,
    /// Entries (or events) written.
    pub items: usize,
    /// The capture ended early (cut short): the copy holds its complete entries, closed.
    pub truncated: bool,
}

fn placeholder(len: usize) -> String {
    format!("[redacted by why401: {len} bytes]")
}

/// A header value with its secret replaced; the scheme of an Authorization is kept.
fn header_value(v: &str) -> String {
    match v.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !rest.is_empty() =>
        {
            format!("{scheme} {}", placeholder(rest.len()))
        }
        _ => placeholder(v.len()),
    }
}

fn is_secret_header(name: &str) -> bool {
    SECRET_HEADERS.iter().any(|h| name.eq_ignore_ascii_case(h))
}

/// A URL (or a query/form string) with secret parameters replaced.
fn url(s: &str, n: &mut Redacted) -> String {
    let Some((head, query)) = s.split_once(['?', '#']) else {
        return s.to_string();
    };
    let sep = &s[head.len()..head.len() + 1];
    format!("{head}{sep}{}", form(query, n))
}

fn form(query: &str, n: &mut Redacted) -> String {
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if is_secret_param(k) && !v.is_empty() => {
                n.tokens += 1;
                format!("{k}={}", placeholder(v.len()).replace(' ', "%20"))
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `scheme://user:password@host` with the user information replaced, wherever it appears.
fn userinfo(s: &str, n: &mut Redacted) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(at) => {
                n.tokens += 1;
                out.push_str(&placeholder(at).replace(' ', "_"));
                out.push_str(&tail[at..end]);
            }
            None => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// JWTs (three base64url parts, the first `eyJ`) anywhere in a text.
fn jwts(text: &str, n: &mut Redacted) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        if candidate.matches('.').count() >= 2 && candidate.len() > 30 {
            n.tokens += 1;
            out.push_str(&placeholder(candidate.len()));
        } else {
            out.push_str(candidate);
        }
        rest = &tail[end..];
        if end == 0 {
            out.push_str(&rest[..3.min(rest.len())]);
            rest = &rest[3.min(rest.len())..];
        }
    }
    out.push_str(rest);
    out
}

/// Redacts one HAR entry or NetLog event in place.
pub fn value(v: &mut Value, n: &mut Redacted) {
    match v {
        Value::Object(map) => {
            // {name, value} pairs: headers, cookies, query and form parameters.
            let name = map.get("name").and_then(Value::as_str).map(str::to_string);
            if let (Some(name), Some(Value::String(val))) = (&name, map.get_mut("value")) {
                if is_secret_header(name) {
                    n.headers += 1;
                    *val = header_value(val);
                } else if is_secret_param(name) && !val.is_empty() {
                    n.tokens += 1;
                    *val = placeholder(val.len());
                }
            }
            for (k, child) in map.iter_mut() {
                match (k.as_str(), child) {
                    ("cookies", Value::Array(cookies)) => {
                        for c in cookies.iter_mut() {
                            if let Some(Value::String(val)) = c.get_mut("value")
                                && !val.starts_with("[redacted")
                            {
                                n.cookies += 1;
                                *val = placeholder(val.len());
                            }
                        }
                    }
                    ("url" | "redirectURL" | "location", Value::String(s)) => {
                        *s = jwts(&url(s, n), n);
                    }
                    ("text", Value::String(s)) => {
                        let looks_form = !s.contains(' ') && s.contains('=');
                        *s = jwts(&if looks_form { form(s, n) } else { s.clone() }, n);
                    }
                    (_, child) => value(child, n),
                }
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                // NetLog and some HARs: headers as "Name: value" strings.
                if let Value::String(s) = item
                    && let Some((name, val)) = s.split_once(':')
                    && is_secret_header(name.trim())
                {
                    n.headers += 1;
                    *s = format!("{name}: {}", header_value(val.trim()));
                    continue;
                }
                value(item, n);
            }
        }
        Value::String(s) if s.starts_with("http://") || s.starts_with("https://") => {
            *s = jwts(&url(&userinfo(s, n), n), n);
        }
        // A command line or a message naming a URL with user:password@ in it.
        Value::String(s) if s.contains("://") => *s = userinfo(s, n),
        _ => {}
    }
}

/// Writes a redacted copy of a HAR or NetLog read from `reader` to `out`.
pub fn json(kind: Kind, reader: impl Read, out: &mut dyn Write) -> Result<Redacted, String> {
    let array_key = match kind {
        Kind::Har => "entries",
        Kind::Netlog => "events",
        Kind::Saz => return Err("a SAZ is redacted with saz_copy".into()),
    };
    let mut n = Redacted::default();
    let mut de = serde_json::Deserializer::from_reader(crate::skip_bom(reader));
    let mut w = Writer {
        out,
        n: &mut n,
        array_key,
        error: None,
    };
    let r = ObjectSeed {
        w: &mut w,
        depth: 0,
    }
    .deserialize(&mut de);
    match r {
        Ok(()) => {}
        // Cut short inside the entries: they were closed with `]`; close the objects around.
        Err(e) if e.is_eof() && w.n.items > 0 => {
            w.put(if kind == Kind::Har { b"}}" } else { b"}" });
            w.n.truncated = true;
        }
        Err(e) => {
            return Err(format!(
                "the capture could not be read to its end ({e}); the copy is incomplete"
            ));
        }
    }
    if let Some(e) = w.error {
        return Err(format!("writing the copy: {e}"));
    }
    Ok(n)
}

struct Writer<'a> {
    out: &'a mut dyn Write,
    n: &'a mut Redacted,
    array_key: &'static str,
    error: Option<std::io::Error>,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        if self.error.is_none()
            && let Err(e) = self.out.write_all(bytes)
        {
            self.error = Some(e);
        }
    }
}

/// An object whose `array_key` member (at the top or inside `log`) is streamed.
struct ObjectSeed<'w, 'a> {
    w: &'w mut Writer<'a>,
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ObjectSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        self.w.put(b"{");
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if !first {
                self.w.put(b",");
            }
            first = false;
            let k = serde_json::to_string(&key).unwrap_or_default();
            self.w.put(k.as_bytes());
            self.w.put(b":");
            if key == self.w.array_key {
                map.next_value_seed(ArraySeed { w: &mut *self.w })?;
            } else if key == "log" && self.depth == 0 {
                map.next_value_seed(ObjectSeed {
                    w: &mut *self.w,
                    depth: 1,
                })?;
            } else {
                let mut v: Value = map.next_value()?;
                value(&mut v, self.w.n);
                let s = serde_json::to_string(&v).unwrap_or_default();
                self.w.put(s.as_bytes());
            }
        }
        self.w.put(b"}");
        Ok(())
    }
}

struct ArraySeed<'w, 'a> {
    w: &'w mut Writer<'a>,
}

impl<'de> DeserializeSeed<'de> for ArraySeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ArraySeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        self.w.put(b"[");
        let mut first = true;
        loop {
            let item = match seq.next_element::<Value>() {
                Ok(Some(v)) => v,
                Ok(None) => break,
                Err(e) => {
                    // A cut-short capture: close what was written so the copy is valid JSON.
                    self.w.put(b"]");
                    return Err(e);
                }
            };
            let mut item = item;
            value(&mut item, self.w.n);
            self.w.n.items += 1;
            if !first {
                self.w.put(b",\n");
            }
            first = false;
            let s = serde_json::to_string(&item).unwrap_or_default();
            self.w.put(s.as_bytes());
        }
        self.w.put(b"]");
        Ok(())
    }
}

/// Writes a redacted copy of a SAZ: each session's request and response header blocks with
/// secret headers replaced, secret URL parameters and JWTs in the first line and bodies replaced.
pub fn saz_copy<R: Read + std::io::Seek, W: Write + std::io::Seek>(
    reader: R,
    out: W,
) -> Result<Redacted, String> {
    let mut zip = zip::ZipArchive::new(reader).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut writer = zip::ZipWriter::new(out);
    let mut n = Redacted::default();
    let options = zip::write::SimpleFileOptions::default();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).map_err(|e| e.to_string())?;
        let name = f
            .name()
            .map_err(|e| format!("an entry's name cannot be read: {e}"))?
            .to_string();
        if f.is_dir() {
            writer
                .add_directory(&name, options)
                .map_err(|e| e.to_string())?;
            continue;
        }
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        if name.ends_with("_c.txt") || name.ends_with("_s.txt") {
            bytes = raw_message(&bytes, &mut n);
            n.items += usize::from(name.ends_with("_c.txt"));
        }
        writer
            .start_file(&name, options)
            .map_err(|e| e.to_string())?;
        writer.write_all(&bytes).map_err(|e| e.to_string())?;
    }
    writer.finish().map_err(|e| e.to_string())?;
    Ok(n)
}

/// A raw HTTP message with its secrets replaced (headers, URL parameters, JWTs in the body).
fn raw_message(bytes: &[u8], n: &mut Redacted) -> Vec<u8> {
    let split = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
        .unwrap_or(bytes.len());
    let head = String::from_utf8_lossy(&bytes[..split]);
    let mut out = String::new();
    for (i, line) in head.split_inclusive("\r\n").enumerate() {
        let body = line.trim_end_matches("\r\n");
        let end = &line[body.len()..];
        if i == 0 {
            out.push_str(&jwts(&url(body, n), n));
        } else if let Some((name, val)) = body.split_once(':')
            && is_secret_header(name.trim())
        {
            n.headers += 1;
            out.push_str(&format!("{name}: {}", header_value(val.trim())));
        } else {
            out.push_str(body);
        }
        out.push_str(end);
    }
    let mut result = out.into_bytes();
    let rest = &bytes[split..];
    match std::str::from_utf8(rest) {
        Ok(text) => result.extend_from_slice(jwts(text, n).as_bytes()),
        Err(_) => result.extend_from_slice(rest),
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_har_copy_keeps_everything_but_the_secrets() {
        let har = r#"{"log":{"version":"1.2","creator":{"name":"x"},"entries":[{"_custom":1,"request":{"method":"GET","url":"https://a.test/cb?code=abcdef123456&state=s","headers":[{"name":"Authorization","value":"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln"},{"name":"Accept","value":"*/*"}],"cookies":[{"name":"sid","value":"s3cr3t"}]},"response":{"status":401,"headers":["Set-Cookie: sid=s3cr3t"],"content":{"text":"token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlc2ln end"}}}]}}"#;
        let mut out = Vec::new();
        let n = json(Kind::Har, har.as_bytes(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("s3cr3t")
                && !text.contains("abcdef123456")
                && !text.contains("c2lnbmF0dXJlc2ln"),
            "{text}"
        );
        assert!(text.contains("Bearer [redacted by why401"), "{text}");
        assert!(
            text.contains("\"_custom\":1") && text.contains("state=s"),
            "{text}"
        );
        assert_eq!((n.items, n.headers, n.cookies), (1, 2, 1));
        // The copy reads back, its placeholders recognised as hidden.
        let mut c = crate::Collect::default();
        let info = crate::har::read(text.as_bytes(), &mut c);
        assert!(info.stopped.is_none(), "{info:?}");
        assert_eq!(c.legs[0].exchange.auth.as_ref().unwrap().scheme, "Bearer");
        assert!(!c.legs[0].hidden_headers.is_empty());
    }
}
