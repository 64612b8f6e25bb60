//! The probe's link to a Kerberos KDC: TCP (RFC 4120 §7.2.2, each message framed by its 4-byte
//! length), with a timeout, recording every exchange. sspi's Kerberos client (from a password)
//! hands its AS/TGS requests here; the ticket path ([`crate::kerberos`]) sends its own.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sspi::generator::NetworkRequest;
use sspi::network_client::{NetworkClient, NetworkProtocol};
use sspi::{Error, ErrorKind};

use why401_evidence::KdcExchange;
use why401_wire::spnego;

/// Sends KDC requests over TCP, reads the framed replies, and records each exchange.
#[derive(Debug, Clone)]
pub struct Kdc {
    /// The limit on connecting and on each read or write.
    pub timeout: Duration,
    /// Every exchange so far, for the evidence.
    pub log: Arc<Mutex<Vec<KdcExchange>>>,
    /// Exchanges made only to compare (another SPN form), recorded as such.
    pub comparison: bool,
}

impl Kdc {
    /// A client with `timeout` and an empty log.
    pub fn new(timeout: Duration) -> Self {
        Kdc {
            timeout,
            log: Arc::default(),
            comparison: false,
        }
    }

    /// The same link and log, its exchanges marked as comparisons (another SPN form asked only
    /// to compare, never the cause of a failure).
    pub fn for_comparison(&self) -> Kdc {
        Kdc {
            comparison: true,
            ..self.clone()
        }
    }

    /// The exchanges recorded so far.
    pub fn exchanges(&self) -> Vec<KdcExchange> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// The message kind by its `[APPLICATION n]` tag (RFC 4120 §5.10).
fn kind(message: &[u8]) -> &'static str {
    match message.first() {
        Some(0x6a) => "AS-REQ",
        Some(0x6b) => "AS-REP",
        Some(0x6c) => "TGS-REQ",
        Some(0x6d) => "TGS-REP",
        Some(0x7e) => "KRB-ERROR",
        _ => "unknown",
    }
}

/// The KDC's clock `stime` (`YYYYMMDDhhmmssZ`) minus ours, in seconds.
fn clock_offset(stime: &str) -> Option<i64> {
    let f = time::macros::format_description!("[year][month][day][hour][minute][second]Z");
    let kdc = time::PrimitiveDateTime::parse(stime, &f).ok()?.assume_utc();
    Some(
        (kdc - time::OffsetDateTime::now_utc())
            .as_seconds_f64()
            .round() as i64,
    )
}

fn unreachable(what: String) -> Error {
    Error::new(ErrorKind::NoAuthenticatingAuthority, what)
}

impl NetworkClient for Kdc {
    fn send(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        let body = request.data.get(4..).unwrap_or_default();
        if request.protocol != NetworkProtocol::Tcp {
            let why = format!(
                "the KDC at {} is not a tcp:// address; why401 talks to KDCs over TCP",
                request.url
            );
            self.record(
                request.url.as_str(),
                body,
                &Err(why.clone()),
                Instant::now(),
            );
            return Err(unreachable(why));
        }
        // sspi's TCP requests carry their length prefix already; replies go back with it.
        self.send_message(request.url.as_str(), body)
            .map(|reply| {
                let mut framed = (reply.len() as u32).to_be_bytes().to_vec();
                framed.extend_from_slice(&reply);
                framed
            })
            .map_err(unreachable)
    }
}

impl Kdc {
    /// Sends one KDC message (no length prefix) to `url` (`tcp://host:port`), returns the reply
    /// (no prefix), and records the exchange.
    pub fn send_message(&self, url: &str, message: &[u8]) -> Result<Vec<u8>, String> {
        let started = Instant::now();
        let result = self.exchange(url, message);
        self.record(url, message, &result, started);
        result
    }

    fn record(
        &self,
        url: &str,
        message: &[u8],
        result: &Result<Vec<u8>, String>,
        started: Instant,
    ) {
        let summary = why401_wire::krb5::request_summary(message);
        let mut record = KdcExchange {
            kdc: url.to_string(),
            request: kind(message).to_string(),
            service: summary.as_ref().and_then(|s| s.service.clone()),
            offered_etypes: summary
                .map(|s| {
                    s.etypes
                        .into_iter()
                        .map(|e| spnego::etype_name(e).to_string())
                        .collect()
                })
                .unwrap_or_default(),
            clock_offset_s: None,
            comparison: self.comparison,
            reply: "none".into(),
            unanswered: None,
            error_code: None,
            e_text: None,
            server_time: None,
            principal: None,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        match result {
            Ok(body) => {
                record.reply = kind(body).to_string();
                if let Ok(e) = spnego::decode_krb_error(body) {
                    record.error_code = Some(e.code);
                    record.e_text = e.e_text;
                    record.clock_offset_s = clock_offset(&e.server_time);
                    record.server_time = Some(e.server_time);
                    record.principal = Some(format!("{}@{}", e.spn, e.realm));
                }
            }
            Err(e) => record.unanswered = Some(e.clone()),
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(record);
        }
    }

    fn exchange(&self, url: &str, message: &[u8]) -> Result<Vec<u8>, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("KDC {url}: {e}"))?;
        if parsed.scheme() != "tcp" {
            return Err(format!(
                "the KDC at {url} is not a tcp:// address; why401 talks to KDCs over TCP"
            ));
        }
        let host = parsed
            .host_str()
            .unwrap_or_default()
            .trim_matches(['[', ']']);
        let port = parsed.port().unwrap_or(88);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("KDC {host}:{port}: {e}"))?;
        let mut last = format!("KDC {host}:{port}: no address");
        for addr in addrs {
            let mut s = match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => s,
                Err(e) => {
                    last = format!("KDC {addr}: {e}");
                    continue;
                }
            };
            let _ = s.set_read_timeout(Some(self.timeout));
            let _ = s.set_write_timeout(Some(self.timeout));
            let mut framed = (message.len() as u32).to_be_bytes().to_vec();
            framed.extend_from_slice(message);
            s.write_all(&framed)
                .map_err(|e| format!("KDC {addr}: {e}"))?;
            let mut len = [0u8; 4];
            s.read_exact(&mut len)
                .map_err(|e| format!("KDC {addr}: no reply: {e}"))?;
            let n = u32::from_be_bytes(len) as usize;
            if n > 1 << 20 {
                return Err(format!("KDC {addr}: a reply of {n} bytes"));
            }
            let mut reply = vec![0u8; n];
            s.read_exact(&mut reply)
                .map_err(|e| format!("KDC {addr}: reply cut short: {e}"))?;
            return Ok(reply);
        }
        Err(last)
    }
}
