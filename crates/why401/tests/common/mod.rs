//! Test support: a scripted HTTP/1.1 listener on loopback that records what real clients
//! (curl) send and answers as a test script says, keeping connections alive so that
//! connection-bound handshakes (NTLM) work.

#![allow(dead_code)]

pub(crate) mod gate;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub connection: usize,
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A response the script returns: status, headers, body.
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub(crate) fn new(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub(crate) fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// A listener answering with `script` until the test ends.
pub(crate) struct ScriptedServer {
    pub port: u16,
    pub seen: Arc<Mutex<Vec<Recorded>>>,
}

impl ScriptedServer {
    pub(crate) fn start(script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_with(None, script)
    }

    /// An https listener presenting `tls`'s certificate.
    pub(crate) fn start_tls(
        tls: Arc<rustls::ServerConfig>,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::start_with(Some(tls), script)
    }

    /// A plain-http listener on `addr` (`127.0.0.2:8080`): a second node of a farm on loopback.
    pub(crate) fn start_at(
        addr: &str,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::listen(
            TcpListener::bind(addr).expect("bind loopback"),
            None,
            script,
        )
    }

    fn start_with(
        tls: Option<Arc<rustls::ServerConfig>>,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        Self::listen(
            TcpListener::bind("127.0.0.1:0").expect("bind loopback"),
            tls,
            script,
        )
    }

    fn listen(
        listener: TcpListener,
        tls: Option<Arc<rustls::ServerConfig>>,
        script: impl Fn(&Recorded) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let seen2 = seen.clone();
        thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(stream) = stream else { continue };
                let seen = seen2.clone();
                let script = script.clone();
                let tls = tls.clone();
                thread::spawn(move || match tls {
                    None => serve(stream, n, &*script, &seen),
                    Some(config) => {
                        let Ok(conn) = rustls::ServerConnection::new(config) else {
                            return;
                        };
                        serve(rustls::StreamOwned::new(conn, stream), n, &*script, &seen)
                    }
                });
            }
        });
        ScriptedServer { port, seen }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}

fn serve<S: Read + Write>(
    stream: S,
    connection: usize,
    script: &dyn Fn(&Recorded) -> Reply,
    seen: &Mutex<Vec<Recorded>>,
) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (
            parts.next().unwrap_or("").to_string(),
            parts.next().unwrap_or("").to_string(),
        );
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((n, v)) = h.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        let len: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        let _ = reader.read_exact(&mut body);
        let rec = Recorded {
            connection,
            method,
            target,
            headers,
        };
        let reply = script(&rec);
        seen.lock().unwrap().push(rec);
        let mut resp = format!(
            "HTTP/1.1 {} X\r\nContent-Length: {}\r\n",
            reply.status,
            reply.body.len()
        );
        for (n, v) in &reply.headers {
            resp.push_str(&format!("{n}: {v}\r\n"));
        }
        resp.push_str("\r\n");
        resp.push_str(&reply.body);
        if reader
            .get_mut()
            .write_all(resp.as_bytes())
            .and_then(|_| reader.get_mut().flush())
            .is_err()
        {
            return;
        }
    }
}

/// Runs curl (which must be installed: the test script installs it) with `args`.
pub(crate) fn curl(args: &[&str]) -> std::process::Output {
    Command::new("curl")
        .args(["-s", "-o", "/dev/null", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl must be installed (scripts/test.sh installs it)")
}

/// Where fixtures live.
pub(crate) fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Writes `content` to the fixture `name` when WHY401_UPDATE_FIXTURES is set; always returns
/// the committed fixture so tests check what is in the repository.
pub(crate) fn fixture(name: &str, captured: &str) -> String {
    let path = fixtures().join(name);
    if std::env::var_os("WHY401_UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, captured).unwrap();
    }
    std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "fixture {} missing: run with WHY401_UPDATE_FIXTURES=1",
            path.display()
        )
    })
}

/// A CA named `ca_name` and a leaf for 127.0.0.1/localhost it signed: (server config, CA PEM).
pub(crate) fn tls_with_ca(ca_name: &str) -> (Arc<rustls::ServerConfig>, String) {
    let (leaf, leaf_key, ca_cert) = leaf_and_ca(ca_name);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca_cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
        )
        .unwrap();
    (Arc::new(config), ca_cert.pem())
}

/// A certificate for localhost and 127.0.0.1, its key, and the CA (named `ca_name`) that
/// signed it.
pub(crate) fn leaf_and_ca(
    ca_name: &str,
) -> (rcgen::Certificate, rcgen::KeyPair, rcgen::Certificate) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params
        .distinguished_name
        .push(DnType::CommonName, ca_name);
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    (leaf, leaf_key, ca_cert)
}

/// A farm node answering Basic for realm "farm": alice:s3cret is let in when `takes_password`,
/// else refused (a node with an old password store).
pub(crate) fn farm_node(
    takes_password: bool,
) -> impl Fn(&Recorded) -> Reply + Send + Sync + 'static {
    move |r: &Recorded| match r.header("authorization") {
        Some("Basic YWxpY2U6czNjcmV0") if takes_password => Reply::new(200),
        _ => Reply::new(401).header("WWW-Authenticate", r#"Basic realm="farm""#),
    }
}

/// What a peer that `scripts/test.sh` started exported; a missing peer fails loudly.
pub(crate) fn peer(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: these tests need the real servers that `bash scripts/test.sh` starts"
        )
    })
}

/// The exit code and JSON of a `why401 … --json` run.
pub(crate) fn json_of(out: std::process::Output) -> (i32, serde_json::Value) {
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// `kinit alice@LAB.TEST` (password s3cret) against the suite's MIT KDC into a cache of the
/// test's own (`FILE:dir/name`), with `extra` options.
pub(crate) fn kinit(dir: &std::path::Path, name: &str, extra: &[&str]) -> std::path::PathBuf {
    let cache = dir.join(name);
    assert_cmd::Command::new("kinit")
        .args(extra)
        .arg("alice@LAB.TEST")
        .env("KRB5_CONFIG", peer("WHY401_KRB5_CONFIG"))
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .write_stdin("s3cret\n")
        .assert()
        .success();
    cache
}
