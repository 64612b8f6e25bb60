//! Connections: DNS, TCP, the proxy's CONNECT tunnel, TLS, and an HTTP/1.1 client bound to
//! one connection (hyper's per-connection client), because NTLM and Negotiate authenticate the
//! connection, not the request.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;
use why401_evidence::{ReachKind, ResponseRecord, TlsRecord};

use crate::tls;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open HTTP/1.1 connection.
pub struct Conn {
    /// The probe's number for it, recorded on each exchange, so the evidence shows which legs
    /// shared a connection (NTLM breaks when they do not).
    pub id: u32,
    /// hyper's sender for this one connection: every request on it reuses the socket.
    pub sender: SendRequest<Full<Bytes>>,
    /// Requests go to a proxy in absolute form (plain http through a proxy).
    pub absolute_form: bool,
    /// It goes through the proxy, plain or tunnelled by `CONNECT`.
    pub via_proxy: bool,
    /// The handshake and the chain the server presented, for https.
    pub tls: Option<TlsRecord>,
}

/// Why a connection could not be made.
#[derive(Debug)]
pub enum ConnectError {
    /// Not reachable: DNS, refused, timeout, TLS.
    Reach {
        /// Which step failed, as the reach rules tell them apart.
        kind: ReachKind,
        /// The underlying error, with the address or host it concerns.
        detail: String,
        /// Who could not be reached: `the server` or `the proxy`.
        what: String,
        /// What a failed or timed-out TLS handshake saw (the chain, the verifier's complaint).
        tls: Option<TlsRecord>,
    },
    /// The proxy refused the CONNECT with this response (407 most often).
    ProxyRefused {
        /// The proxy's answer to the CONNECT, with its `Proxy-Authenticate` challenges.
        response: ResponseRecord,
    },
}

/// The most bytes of a body kept as evidence.
const BODY_KEEP: usize = 64 * 1024;
/// The most bytes of a body read (beyond that the connection is dropped).
const BODY_READ: usize = 4 * 1024 * 1024;

/// `--resolve HOST:PORT:ADDR[,ADDR…]` (curl's flag): connections to `host:port` go to these
/// addresses, without asking DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The host name, lower-cased (IPv6 literals without brackets).
    pub host: String,
    /// The port the pin applies to.
    pub port: u16,
    /// Where connections go, in order.
    pub addrs: Vec<std::net::IpAddr>,
}

impl Pin {
    /// Reads `HOST:PORT:ADDR[,ADDR…]`; an IPv6 address may be bracketed (`[::1]`). The error
    /// says what is wrong, in words.
    pub fn parse(value: &str) -> Result<Pin, String> {
        let (host, rest) = match value.strip_prefix('[') {
            Some(v6) => {
                let (h, r) = v6
                    .split_once("]:")
                    .ok_or("an IPv6 host is written [addr]:PORT:ADDR")?;
                (h, r)
            }
            None => value.split_once(':').ok_or("the form is HOST:PORT:ADDR")?,
        };
        let (port, addrs) = rest.split_once(':').ok_or("the form is HOST:PORT:ADDR")?;
        if host.is_empty() {
            return Err("no host before the first colon".into());
        }
        let port: u16 = port
            .parse()
            .map_err(|_| format!("{port:?} is not a port number"))?;
        let addrs = addrs
            .split(',')
            .map(|a| {
                let bare = a.trim().trim_start_matches('[').trim_end_matches(']');
                bare.parse()
                    .map_err(|_| format!("{a:?} is not an IP address"))
            })
            .collect::<Result<Vec<std::net::IpAddr>, String>>()?;
        Ok(Pin {
            host: host.to_ascii_lowercase(),
            port,
            addrs,
        })
    }

    /// Whether this pin is for `host:port`.
    pub fn is_for(&self, host: &str, port: u16) -> bool {
        self.port == port && self.host.eq_ignore_ascii_case(host)
    }

    /// The pinned addresses for `host:port`, if a pin names them.
    pub fn find<'a>(pins: &'a [Pin], host: &str, port: u16) -> Option<&'a Pin> {
        pins.iter().find(|p| p.is_for(host, port))
    }
}

/// How to reach a target.
pub struct Route<'a> {
    /// The URL whose origin to connect to.
    pub target: &'a Url,
    /// The proxy to go through, already cleared against `NO_PROXY`.
    pub proxy: Option<&'a Url>,
    /// `Proxy-Authorization` for the CONNECT, if any.
    pub proxy_authorization: Option<&'a str>,
    /// Finish a TLS handshake whose chain does not verify (the failure is still recorded).
    pub insecure: bool,
    /// Extra trusted roots (PEM), on top of the system's and Mozilla's.
    pub cacert: Option<&'a [u8]>,
    /// The limit on each step: resolving, connecting, the CONNECT, the TLS handshake.
    pub timeout: Duration,
    /// `--resolve` pins: hosts reached without DNS.
    pub pins: &'a [Pin],
    /// `--dns-server`: the resolver to ask instead of the system's.
    pub dns_server: Option<SocketAddr>,
}

fn host_port(url: &Url) -> (String, u16) {
    let host = url
        .host_str()
        .unwrap_or("")
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    (host, url.port_or_known_default().unwrap_or(80))
}

/// Resolves `host:port`: through the system's resolver (hosts file included), or by asking
/// `dns_server` (`--dns-server`) directly.
pub async fn resolve(
    host: &str,
    port: u16,
    timeout: Duration,
    dns_server: Option<SocketAddr>,
) -> Result<Vec<SocketAddr>, (ReachKind, String)> {
    if let Some(server) = dns_server {
        let ips = crate::dns::addresses(host, server, timeout).await?;
        return Ok(ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, port))
            .collect());
    }
    match tokio::time::timeout(timeout, tokio::net::lookup_host((host, port))).await {
        Err(_) => Err((ReachKind::Timeout, format!("resolving {host} timed out"))),
        Ok(Err(e)) => Err((ReachKind::Dns, format!("{host}: {e}"))),
        Ok(Ok(addrs)) => {
            let v: Vec<SocketAddr> = addrs.collect();
            if v.is_empty() {
                Err((ReachKind::Dns, format!("{host}: no addresses")))
            } else {
                Ok(v)
            }
        }
    }
}

async fn tcp(
    host: &str,
    port: u16,
    what: &str,
    timeout: Duration,
    pins: &[Pin],
    dns_server: Option<SocketAddr>,
) -> Result<TcpStream, ConnectError> {
    let reach = |kind, detail| ConnectError::Reach {
        kind,
        detail,
        what: what.to_string(),
        tls: None,
    };
    let addrs = match Pin::find(pins, host, port) {
        Some(pin) => pin
            .addrs
            .iter()
            .map(|a| SocketAddr::new(*a, port))
            .collect(),
        None => resolve(host, port, timeout, dns_server)
            .await
            .map_err(|(k, d)| reach(k, d))?,
    };
    let mut last = String::new();
    for addr in addrs {
        match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = format!("{addr}: connection refused");
            }
            Ok(Err(e)) => last = format!("{addr}: {e}"),
            Err(_) => {
                return Err(reach(
                    ReachKind::Timeout,
                    format!("connecting to {addr} timed out after {timeout:?}"),
                ));
            }
        }
    }
    let kind = if last.contains("refused") {
        ReachKind::Refused
    } else {
        ReachKind::Other
    };
    Err(reach(kind, last))
}

/// Opens connection `id` along `route`.
pub async fn connect(route: &Route<'_>, id: u32) -> Result<Conn, ConnectError> {
    let (host, port) = host_port(route.target);
    let https = route.target.scheme() == "https";
    let mut stream: Box<dyn Stream> = match route.proxy {
        None => Box::new(
            tcp(
                &host,
                port,
                "the server",
                route.timeout,
                route.pins,
                route.dns_server,
            )
            .await?,
        ),
        Some(proxy) => {
            let (ph, pp) = host_port(proxy);
            let mut s = tcp(
                &ph,
                pp,
                "the proxy",
                route.timeout,
                route.pins,
                route.dns_server,
            )
            .await?;
            if https {
                tunnel(
                    &mut s,
                    &host,
                    port,
                    route.proxy_authorization,
                    route.timeout,
                )
                .await?;
            }
            Box::new(s)
        }
    };
    let mut tls_record = None;
    if https {
        let (config, seen) =
            tls::client_config(route.insecure, route.cacert).map_err(|detail| {
                ConnectError::Reach {
                    kind: ReachKind::Tls,
                    detail,
                    what: "the server".into(),
                    tls: None,
                }
            })?;
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| {
            ConnectError::Reach {
                kind: ReachKind::Tls,
                detail: format!("{host}: {e}"),
                what: "the server".into(),
                tls: None,
            }
        })?;
        let connector = tokio_rustls::TlsConnector::from(config);
        let result = tokio::time::timeout(route.timeout, connector.connect(name, stream)).await;
        let record = |version: String| {
            let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            TlsRecord {
                version,
                chain: seen.chain.iter().filter_map(tls::describe).collect(),
                verified: seen.error.is_none(),
                verify_error: seen.error.clone(),
            }
        };
        match result {
            Err(_) => {
                return Err(ConnectError::Reach {
                    kind: ReachKind::Timeout,
                    detail: "the TLS handshake timed out".into(),
                    what: "the server".into(),
                    tls: Some(record(String::new())),
                });
            }
            Ok(Err(e)) => {
                return Err(ConnectError::Reach {
                    kind: ReachKind::Tls,
                    detail: e.to_string(),
                    what: "the server".into(),
                    tls: Some(record(String::new())),
                });
            }
            Ok(Ok(tls_stream)) => {
                let version = tls_stream
                    .get_ref()
                    .1
                    .protocol_version()
                    .map(|v| format!("{v:?}"))
                    .unwrap_or_default();
                tls_record = Some(record(version));
                stream = Box::new(tls_stream);
            }
        }
    }
    let (sender, conn) = hyper::client::conn::http1::Builder::new()
        .title_case_headers(true)
        .handshake(TokioIo::new(stream))
        .await
        .map_err(|e| ConnectError::Reach {
            kind: ReachKind::Other,
            detail: e.to_string(),
            what: "the server".into(),
            tls: None,
        })?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(Conn {
        id,
        sender,
        absolute_form: route.proxy.is_some() && !https,
        via_proxy: route.proxy.is_some(),
        tls: tls_record,
    })
}

/// `CONNECT host:port` through an HTTP proxy; the tunnel is ready when this returns Ok.
async fn tunnel(
    s: &mut TcpStream,
    host: &str,
    port: u16,
    auth: Option<&str>,
    timeout: Duration,
) -> Result<(), ConnectError> {
    let authority = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let mut req =
        format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: why401\r\n");
    if let Some(a) = auth {
        req.push_str(&format!("Proxy-Authorization: {a}\r\n"));
    }
    req.push_str("\r\n");
    let proxy_err = |detail: String| ConnectError::Reach {
        kind: ReachKind::Other,
        detail,
        what: "the proxy".into(),
        tls: None,
    };
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| proxy_err(e.to_string()))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let read = async {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = s.read(&mut buf).await?;
            if n == 0 || head.len() > 64 * 1024 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    match tokio::time::timeout(timeout, read).await {
        Err(_) => {
            return Err(ConnectError::Reach {
                kind: ReachKind::Timeout,
                detail: "the proxy did not answer CONNECT".into(),
                what: "the proxy".into(),
                tls: None,
            });
        }
        Ok(Err(e)) => return Err(proxy_err(e.to_string())),
        Ok(Ok(())) => {}
    }
    let end = head
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(head.len());
    let text = String::from_utf8_lossy(&head[..end]).to_string();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if (200..300).contains(&status) {
        return Ok(());
    }
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let body = String::from_utf8_lossy(&head[end..]).to_string();
    Err(ConnectError::ProxyRefused {
        response: ResponseRecord {
            status,
            version: status_line
                .split_whitespace()
                .next()
                .unwrap_or("HTTP/1.1")
                .to_string(),
            headers,
            body_len: body.len(),
            body,
            // The proxy's refusal is read up to its blank line and what came with it.
            body_incomplete: None,
        },
    })
}

/// Sends `req` on `conn` and reads the response (the body up to 4 MiB, 64 KiB of it kept), within
/// `timeout`. On a timeout the connection must not be reused: the caller drops it.
pub async fn send(
    conn: &mut Conn,
    req: http::Request<Full<Bytes>>,
    timeout: Duration,
) -> Result<ResponseRecord, (ReachKind, String)> {
    let exchange = async {
        let resp = conn
            .sender
            .send_request(req)
            .await
            .map_err(|e| (ReachKind::Other, describe_hyper(&e)))?;
        let (parts, body) = resp.into_parts();
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    title_case(n.as_str()),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let (bytes, body_incomplete) = read_body(body).await;
        Ok(ResponseRecord {
            status: parts.status.as_u16(),
            version: format!("{:?}", parts.version),
            headers,
            body: String::from_utf8_lossy(&bytes[..bytes.len().min(BODY_KEEP)]).into_owned(),
            body_len: bytes.len(),
            body_incomplete,
        })
    };
    match tokio::time::timeout(timeout, exchange).await {
        Ok(r) => r,
        Err(_) => Err((
            ReachKind::Timeout,
            format!("no response within {:.1} s", timeout.as_secs_f64()),
        )),
    }
}

/// Reads a body up to `BODY_READ` bytes. What was read is kept even when the rest is not (too
/// long, or the connection broke off), with the reason: a huge or cut 401 page is not an empty one.
async fn read_body(mut body: hyper::body::Incoming) -> (Vec<u8>, Option<String>) {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        let data = match frame {
            Ok(f) => match f.into_data() {
                Ok(d) => d,
                Err(_) => continue, // trailers
            },
            Err(e) => {
                let why = format!(
                    "the body broke off after {} bytes: {}",
                    out.len(),
                    describe_hyper(&e)
                );
                return (out, Some(why));
            }
        };
        let room = BODY_READ - out.len();
        if data.len() > room {
            out.extend_from_slice(&data[..room]);
            let why = format!(
                "the body is longer than {} MiB: only its start was read",
                BODY_READ >> 20
            );
            return (out, Some(why));
        }
        out.extend_from_slice(&data);
    }
    (out, None)
}

/// What goes on the request line: the absolute URL to a proxy (plain http through it), else
/// `/path?query` (origin-form).
pub fn request_line_target(url: &Url, absolute_form: bool) -> String {
    if absolute_form {
        url.as_str().to_string()
    } else {
        request_target(url)
    }
}

/// `/path?query` as sent in origin-form (and as Digest's `uri`).
pub fn request_target(url: &Url) -> String {
    match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    }
}

/// The `Host` header for `url`: the port only when it is not the scheme's default (RFC 9110
/// §7.2; `Url::port` is `None` for the default one).
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// `www-authenticate` as people write it (`WWW-Authenticate`); hyper gives names lower-cased.
fn title_case(name: &str) -> String {
    if name.eq_ignore_ascii_case("www-authenticate") {
        return "WWW-Authenticate".into();
    }
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn describe_hyper(e: &hyper::Error) -> String {
    if e.is_incomplete_message() {
        "the server closed the connection before answering".into()
    } else if e.is_canceled() || e.is_closed() {
        "the connection was closed".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_pins_read_as_curl_writes_them() {
        let p = Pin::parse("Intranet.Example:443:10.0.0.12").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("intranet.example", 443));
        assert_eq!(p.addrs, ["10.0.0.12".parse::<std::net::IpAddr>().unwrap()]);
        let p = Pin::parse("web:80:10.0.0.1,[::1],fe80::1").unwrap();
        assert_eq!(p.addrs.len(), 3);
        let p = Pin::parse("[::1]:8443:::1").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("::1", 8443));
        assert!(Pin::find(std::slice::from_ref(&p), "::1", 8443).is_some());
        assert!(Pin::find(&[p], "::1", 443).is_none());
        for bad in [
            "host",
            "host:80",
            ":80:10.0.0.1",
            "host:http:10.0.0.1",
            "host:80:intranet",
            "host:80:",
            "host:99999:10.0.0.1",
        ] {
            assert!(Pin::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn resolve_pins_never_panic(v in "\\PC{0,40}") {
            let _ = Pin::parse(&v);
        }
    }

    #[test]
    fn host_keeps_a_non_default_port() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(host_header(&u("http://a.example:8080/x")), "a.example:8080");
        assert_eq!(host_header(&u("https://a.example:443/x")), "a.example");
        assert_eq!(host_header(&u("http://[::1]:81/")), "[::1]:81");
        assert_eq!(request_target(&u("http://a/b/c?d=e")), "/b/c?d=e");
        assert_eq!(
            request_line_target(&u("http://a:81/b"), true),
            "http://a:81/b"
        );
        assert_eq!(title_case("proxy-authenticate"), "Proxy-Authenticate");
        assert_eq!(title_case("www-authenticate"), "WWW-Authenticate");
    }
}
