//! The probe's link to a Kerberos KDC, for sspi's Kerberos client: TCP (RFC 4120 §7.2.2, each
//! message framed by its 4-byte length), with a timeout. sspi finds the KDC (`SSPI_KDC_URL`,
//! `KRB5_CONFIG` / `/etc/krb5.conf` `[realms]`) and hands each AS/TGS request here.

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
}

impl Kdc {
    /// A client with `timeout` and an empty log.
    pub fn new(timeout: Duration) -> Self {
        Kdc {
            timeout,
            log: Arc::default(),
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

fn unreachable(what: String) -> Error {
    Error::new(ErrorKind::NoAuthenticatingAuthority, what)
}

impl NetworkClient for Kdc {
    fn send(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        let started = Instant::now();
        let result = self.exchange(request);
        let mut record = KdcExchange {
            kdc: request.url.to_string(),
            request: kind(request.data.get(4..).unwrap_or_default()).to_string(),
            reply: "none".into(),
            unanswered: None,
            error_code: None,
            e_text: None,
            server_time: None,
            principal: None,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        match &result {
            Ok(reply) => {
                let body = reply.get(4..).unwrap_or_default();
                record.reply = kind(body).to_string();
                if let Ok(e) = spnego::decode_krb_error(body) {
                    record.error_code = Some(e.code);
                    record.e_text = e.e_text;
                    record.server_time = Some(e.server_time);
                    record.principal = Some(format!("{}@{}", e.spn, e.realm));
                }
            }
            Err(e) => record.unanswered = Some(e.description.clone()),
        }
        if let Ok(mut log) = self.log.lock() {
            log.push(record);
        }
        result
    }
}

impl Kdc {
    fn exchange(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
        if request.protocol != NetworkProtocol::Tcp {
            return Err(unreachable(format!(
                "the KDC at {} is not a tcp:// address; why401 talks to KDCs over TCP",
                request.url
            )));
        }
        let host = request.url.host_str().unwrap_or_default();
        let port = request.url.port().unwrap_or(88);
        let addrs = (host, port)
            .to_socket_addrs()
            .map_err(|e| unreachable(format!("KDC {host}:{port}: {e}")))?;
        let mut last = unreachable(format!("KDC {host}:{port}: no address"));
        for addr in addrs {
            let mut s = match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => s,
                Err(e) => {
                    last = unreachable(format!("KDC {addr}: {e}"));
                    continue;
                }
            };
            let _ = s.set_read_timeout(Some(self.timeout));
            let _ = s.set_write_timeout(Some(self.timeout));
            // sspi's TCP requests carry their length prefix already; replies are returned with it.
            s.write_all(&request.data)
                .map_err(|e| unreachable(format!("KDC {addr}: {e}")))?;
            let mut len = [0u8; 4];
            s.read_exact(&mut len)
                .map_err(|e| unreachable(format!("KDC {addr}: no reply: {e}")))?;
            let n = u32::from_be_bytes(len) as usize;
            if n > 1 << 20 {
                return Err(unreachable(format!("KDC {addr}: a reply of {n} bytes")));
            }
            let mut reply = vec![0u8; 4 + n];
            reply[..4].copy_from_slice(&len);
            s.read_exact(&mut reply[4..])
                .map_err(|e| unreachable(format!("KDC {addr}: reply cut short: {e}")))?;
            return Ok(reply);
        }
        Err(last)
    }
}
