//! The probe's link to a Kerberos KDC, for sspi's Kerberos client: TCP (RFC 4120 §7.2.2, each
//! message framed by its 4-byte length), with a timeout. sspi finds the KDC (`SSPI_KDC_URL`,
//! `KRB5_CONFIG` / `/etc/krb5.conf` `[realms]`) and hands each AS/TGS request here.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use sspi::generator::NetworkRequest;
use sspi::network_client::{NetworkClient, NetworkProtocol};
use sspi::{Error, ErrorKind};

/// Sends KDC requests over TCP and reads the framed replies.
#[derive(Debug, Clone)]
pub struct Kdc {
    /// The limit on connecting and on each read or write.
    pub timeout: Duration,
}

fn unreachable(what: String) -> Error {
    Error::new(ErrorKind::NoAuthenticatingAuthority, what)
}

impl NetworkClient for Kdc {
    fn send(&self, request: &NetworkRequest) -> sspi::Result<Vec<u8>> {
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
