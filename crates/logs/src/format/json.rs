//! JSON lines (one object per line), with field-name presets for Caddy and Traefik and
//! `--field name=path.to.field` overrides. Decoded with serde_json.

use serde_json::Value;

use crate::time;

/// The fields an analysis reads.
pub const NAMES: [&str; 7] = ["time", "ip", "user", "method", "uri", "status", "agent"];

/// Where each field lives in an object: dotted paths, tried in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    paths: Vec<(&'static str, Vec<String>)>,
    /// The preset it started from (`generic`, `caddy`, `traefik`), for the input's format name.
    pub preset: &'static str,
}

fn paths(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Mapping {
    /// A preset by name: `caddy`, `traefik`, `why401-gate` (the gateway's audit log), or
    /// `generic` (common names).
    pub fn preset(name: &str) -> Option<Mapping> {
        let m = match name {
            "caddy" => vec![
                ("time", paths(&["ts"])),
                (
                    "ip",
                    paths(&[
                        "request.client_ip",
                        "request.remote_ip",
                        "request.remote_addr",
                    ]),
                ),
                ("user", paths(&["user_id"])),
                ("method", paths(&["request.method"])),
                ("uri", paths(&["request.uri"])),
                ("status", paths(&["status"])),
                ("agent", paths(&["request.headers.User-Agent"])),
            ],
            "traefik" => vec![
                ("time", paths(&["StartUTC", "time"])),
                ("ip", paths(&["ClientHost", "ClientAddr"])),
                ("user", paths(&["ClientUsername"])),
                ("method", paths(&["RequestMethod"])),
                ("uri", paths(&["RequestPath"])),
                ("status", paths(&["DownstreamStatus", "OriginStatus"])),
                ("agent", paths(&["request_User-Agent"])),
            ],
            // why401 gate's audit log: one line per decision and login.
            "why401-gate" => vec![
                ("time", paths(&["time"])),
                ("ip", paths(&["address"])),
                ("user", paths(&["user"])),
                ("method", paths(&["check.request.method"])),
                ("uri", paths(&["check.request.path"])),
                ("status", paths(&["auth_status", "status"])),
            ],
            "generic" => vec![
                (
                    "time",
                    paths(&["time", "timestamp", "@timestamp", "ts", "date"]),
                ),
                (
                    "ip",
                    paths(&[
                        "remote_addr",
                        "client_ip",
                        "clientip",
                        "ip",
                        "remote_ip",
                        "c-ip",
                    ]),
                ),
                (
                    "user",
                    paths(&["remote_user", "user", "username", "cs-username"]),
                ),
                ("method", paths(&["method", "request_method", "verb"])),
                (
                    "uri",
                    paths(&["uri", "path", "request_uri", "url", "cs-uri-stem"]),
                ),
                (
                    "status",
                    paths(&["status", "status_code", "response", "sc-status"]),
                ),
                (
                    "agent",
                    paths(&["user_agent", "http_user_agent", "agent", "useragent"]),
                ),
            ],
            _ => return None,
        };
        Some(Mapping {
            paths: m,
            preset: match name {
                "caddy" => "caddy",
                "traefik" => "traefik",
                "why401-gate" => "why401-gate",
                _ => "generic",
            },
        })
    }

    /// Overrides one field's path (`status=response.code`).
    pub fn set(&mut self, spec: &str) -> Result<(), String> {
        let (name, path) = spec
            .split_once('=')
            .ok_or_else(|| format!("--field {spec:?}: NAME=path.in.object"))?;
        let name = NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("--field {name:?}: one of {}", NAMES.join(", ")))?;
        match self.paths.iter_mut().find(|(n, _)| n == name) {
            Some((_, p)) => *p = vec![path.trim().to_string()],
            None => self.paths.push((name, vec![path.trim().to_string()])),
        }
        Ok(())
    }

    fn get<'v>(&self, obj: &'v Value, name: &str) -> Option<&'v Value> {
        let (_, ps) = self.paths.iter().find(|(n, _)| *n == name)?;
        ps.iter().find_map(|p| lookup(obj, p))
    }

    /// Reads one line into owned fields (JSON values may need unescaping).
    pub fn parse_line(&self, line: &[u8]) -> Result<Fields, &'static str> {
        let v: Value = serde_json::from_slice(line).map_err(|_| "not a JSON object")?;
        if !v.is_object() {
            return Err("not a JSON object");
        }
        let text = |name: &str| self.get(&v, name).map(scalar).unwrap_or_default();
        let status = self.get(&v, "status").and_then(|s| match s {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.parse().ok(),
            _ => None,
        });
        let status = status
            .filter(|s| (100..1000).contains(s))
            .ok_or("no status field (use --field status=…)")? as u16;
        let time = match self.get(&v, "time") {
            Some(Value::Number(n)) => n.as_f64().map(|f| f as i64),
            Some(Value::String(s)) => {
                time::rfc3339(s.as_bytes()).or_else(|| time::ncsa(s.as_bytes()))
            }
            _ => None,
        };
        let uri = text("uri");
        let uri = uri.split('?').next().unwrap_or_default().to_string();
        Ok(Fields {
            time,
            ip: strip_port(&text("ip")),
            user: text("user"),
            method: text("method"),
            uri,
            status,
            agent: text("agent"),
        })
    }
}

/// A JSON line's fields, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    /// Unix seconds (from a number or an RFC 3339 / NCSA string); `None` when absent or unreadable.
    pub time: Option<i64>,
    /// The client address, any port stripped.
    pub ip: String,
    /// The authenticated user, empty when none.
    pub user: String,
    /// The request method.
    pub method: String,
    /// The request path, without its query.
    pub uri: String,
    /// The response status.
    pub status: u16,
    /// The User-Agent.
    pub agent: String,
}

fn lookup<'v>(obj: &'v Value, path: &str) -> Option<&'v Value> {
    let mut cur = obj;
    for part in path.split('.') {
        cur = match cur {
            Value::Object(m) => m.get(part)?,
            Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    // Header values in Caddy are arrays of strings.
    match cur {
        Value::Array(a) if a.len() == 1 => a.first(),
        v => Some(v),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) if s == "-" => String::new(),
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// `1.2.3.4:5678` → `1.2.3.4` (Traefik's ClientAddr); IPv6 in brackets loses its port too.
fn strip_port(ip: &str) -> String {
    if let Some(rest) = ip.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_string();
    }
    match ip.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h.to_string(),
        _ => ip.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn caddy() {
        let m = Mapping::preset("caddy").unwrap();
        let f = m
            .parse_line(br#"{"level":"info","ts":1795738142.5,"logger":"http.log.access","request":{"remote_ip":"10.0.0.9","client_ip":"10.0.0.9","method":"GET","uri":"/api?x=1","headers":{"User-Agent":["curl/8.5"]}},"user_id":"","status":401}"#)
            .unwrap();
        assert_eq!(
            (
                f.time,
                f.ip.as_str(),
                f.uri.as_str(),
                f.status,
                f.agent.as_str()
            ),
            (Some(1_795_738_142), "10.0.0.9", "/api", 401, "curl/8.5")
        );
    }

    #[test]
    fn traefik() {
        let m = Mapping::preset("traefik").unwrap();
        let f = m
            .parse_line(br#"{"ClientAddr":"192.0.2.4:51234","ClientHost":"192.0.2.4","ClientUsername":"-","DownstreamStatus":403,"RequestMethod":"POST","RequestPath":"/admin","StartUTC":"2026-11-27T00:09:02.1Z","request_User-Agent":"Go-http-client/1.1"}"#)
            .unwrap();
        assert_eq!(
            (f.ip.as_str(), f.user.as_str(), f.status, f.time),
            ("192.0.2.4", "", 403, Some(1_795_738_142))
        );
    }

    #[test]
    fn overrides_and_errors() {
        let mut m = Mapping::preset("generic").unwrap();
        m.set("status=resp.code").unwrap();
        assert_eq!(
            m.parse_line(br#"{"resp":{"code":"401"}}"#).unwrap().status,
            401
        );
        assert!(m.set("colour=x").is_err());
        assert_eq!(m.parse_line(b"[1,2]").err(), Some("not a JSON object"));
        assert_eq!(
            m.parse_line(b"{\"status\":200").err(),
            Some("not a JSON object")
        );
        assert!(
            m.parse_line(br#"{"status":200}"#).is_err(),
            "status moved to resp.code"
        );
        assert_eq!(strip_port("[::1]:8080"), "::1");
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = Mapping::preset("generic").unwrap().parse_line(s.as_bytes());
        }
    }
}
