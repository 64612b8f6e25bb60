//! A small HTTP/1.1 server harness on loopback (hyper), with state per TCP connection so that
//! connection-bound handshakes (NTLM, Negotiate) work as on IIS.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::windows::Acceptor;

/// What a connection remembers between requests.
#[derive(Default)]
pub(crate) struct ConnState {
    /// The NTLM or Negotiate acceptor in the middle of a handshake.
    pub acceptor: Option<Acceptor>,
}

/// A request as handlers see it.
pub(crate) struct Req {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub conn: Arc<Mutex<ConnState>>,
}

impl Req {
    /// The first header `name`.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("/")
    }
}

/// A response to send.
pub(crate) struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub(crate) fn new(status: u16) -> Self {
        Resp {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub(crate) fn body(mut self, content_type: &str, body: impl Into<String>) -> Self {
        self.headers
            .push(("Content-Type".into(), content_type.into()));
        self.body = body.into();
        self
    }
}

/// A request handler.
pub(crate) type Handler = Arc<dyn Fn(&Req) -> Resp + Send + Sync>;

/// Binds an ephemeral loopback port and serves `handler` on it until the runtime stops.
pub(crate) async fn start(handler: Handler) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            let state = Arc::new(Mutex::new(ConnState::default()));
            tokio::spawn(async move {
                let service = service_fn(move |req: hyper::Request<Incoming>| {
                    let handler = handler.clone();
                    let state = state.clone();
                    async move {
                        let (parts, body) = req.into_parts();
                        let _ = body.collect().await;
                        let req = Req {
                            method: parts.method.to_string(),
                            target: parts
                                .uri
                                .path_and_query()
                                .map(|p| p.to_string())
                                .unwrap_or_else(|| parts.uri.to_string()),
                            headers: parts
                                .headers
                                .iter()
                                .map(|(n, v)| {
                                    (
                                        n.to_string(),
                                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                                    )
                                })
                                .collect(),
                            conn: state,
                        };
                        let resp = handler(&req);
                        let mut builder = hyper::Response::builder().status(resp.status);
                        for (n, v) in &resp.headers {
                            builder = builder.header(n.as_str(), v.as_str());
                        }
                        Ok::<_, Infallible>(
                            builder
                                .body(Full::new(Bytes::from(resp.body)))
                                .unwrap_or_default(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(addr)
}
