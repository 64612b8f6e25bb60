//! TLS with rustls, recording the chain the server presented — also when it does not verify,
//! because an untrusted chain from an inspection CA is itself the diagnosis.

use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use why401_evidence::CertRecord;
use x509_parser::prelude::*;

/// What the verifier saw during one handshake.
#[derive(Debug, Default)]
pub struct Seen {
    /// The certificates the server presented, its own first, as sent.
    pub chain: Vec<CertificateDer<'static>>,
    /// Why the chain did not verify, kept also when `--insecure` let the handshake go on.
    pub error: Option<String>,
}

#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    insecure: bool,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        match verdict {
            Ok(v) => Ok(v),
            Err(e) => {
                seen.error = Some(e.to_string());
                if self.insecure {
                    Ok(ServerCertVerified::assertion())
                } else {
                    Err(e)
                }
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Why a `--cacert` file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CaCertError {
    /// The path does not exist.
    #[error("no such file")]
    NotFound,
    /// The file exists but this user may not read it.
    #[error("permission denied")]
    PermissionDenied,
    /// Any other read error (a directory, an I/O failure).
    #[error("cannot read it: {0}")]
    Unreadable(std::io::Error),
    /// Binary DER where PEM was expected: the usual mistake with a CA exported from Windows.
    #[error(
        "it looks like a DER certificate, not PEM; convert it with \
         `openssl x509 -inform der -in FILE -out FILE.pem`"
    )]
    Der,
    /// Text with no `BEGIN CERTIFICATE` block (a key, a CSR, an empty file).
    #[error("no PEM certificate in it (a certificate starts with -----BEGIN CERTIFICATE-----)")]
    NoCertificate,
    /// A PEM block whose base64 or framing is broken; holds the PEM reader's complaint.
    #[error("the PEM in it is damaged: {0}")]
    BadPem(String),
    /// A well-formed PEM block whose certificate rustls will not take as a trust anchor.
    #[error("certificate {index} in it is not a valid certificate: {why}")]
    BadCertificate {
        /// Its place in the file, counted from 1.
        index: usize,
        /// Why it cannot be a root.
        why: String,
    },
}

/// Reads a `--cacert` file and checks every certificate in it can be trusted as a root, so a
/// file the probe could not use is refused before anything is sent.
pub fn read_cacert(path: &std::path::Path) -> Result<Vec<u8>, CaCertError> {
    let pem = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CaCertError::NotFound,
        std::io::ErrorKind::PermissionDenied => CaCertError::PermissionDenied,
        _ => CaCertError::Unreadable(e),
    })?;
    parse_cacert(&pem)?;
    Ok(pem)
}

/// The certificates of a PEM bundle, each checked as a trust anchor (certificates counted
/// from 1, as a reader of the file counts them).
pub fn parse_cacert(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, CaCertError> {
    let mut certs = Vec::new();
    for (n, cert) in CertificateDer::pem_slice_iter(pem).enumerate() {
        let cert = cert.map_err(|e| CaCertError::BadPem(e.to_string()))?;
        // What `RootCertStore::add` does with it later; an error there would drop it silently.
        RootCertStore::empty()
            .add(cert.clone())
            .map_err(|e| CaCertError::BadCertificate {
                index: n + 1,
                why: e.to_string(),
            })?;
        certs.push(cert);
    }
    if certs.is_empty() {
        // A DER certificate is an ASN.1 SEQUENCE: 0x30 followed by a length.
        return Err(if pem.first() == Some(&0x30) {
            CaCertError::Der
        } else {
            CaCertError::NoCertificate
        });
    }
    Ok(certs)
}

/// The trust store: the system's roots, Mozilla's (webpki-roots) and `--cacert`.
fn roots(cacert: Option<&[u8]>) -> Result<Arc<RootCertStore>, CaCertError> {
    static SYSTEM: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    let system = SYSTEM.get_or_init(|| {
        let mut store = RootCertStore::empty();
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = store.add(cert);
        }
        Arc::new(store)
    });
    match cacert {
        None => Ok(system.clone()),
        Some(pem) => {
            let mut store = (**system).clone();
            for cert in parse_cacert(pem)? {
                // Cannot fail: parse_cacert tried each one in a store.
                let _ = store.add(cert);
            }
            Ok(Arc::new(store))
        }
    }
}

/// A client config for one handshake, and where it records what it saw.
pub fn client_config(
    insecure: bool,
    cacert: Option<&[u8]>,
) -> Result<(Arc<ClientConfig>, Arc<Mutex<Seen>>), String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = roots(cacert).map_err(|e| format!("--cacert: {e}"))?;
    let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let verifier = Arc::new(RecordingVerifier {
        inner,
        insecure,
        seen: seen.clone(),
    });
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((Arc::new(config), seen))
}

/// Reads the fields rules care about from a DER certificate.
pub fn describe(der: &CertificateDer<'_>) -> Option<CertRecord> {
    let (_, cert) = X509Certificate::from_der(der.as_ref()).ok()?;
    let names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|n| match n {
                    GeneralName::DNSName(d) => Some(d.to_string()),
                    GeneralName::IPAddress(ip) if ip.len() == 4 => {
                        Some(std::net::Ipv4Addr::new(ip[0], ip[1], ip[2], ip[3]).to_string())
                    }
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(CertRecord {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ca_pem(name: &str) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.self_signed(&key).unwrap().pem()
    }

    #[test]
    fn a_bundle_of_pem_certificates_is_read() {
        let bundle = format!("# two roots\n{}\n{}", ca_pem("A"), ca_pem("B"));
        assert_eq!(parse_cacert(bundle.as_bytes()).unwrap().len(), 2);
        assert!(roots(Some(bundle.as_bytes())).is_ok());
    }

    #[test]
    fn what_is_not_a_usable_certificate_is_named() {
        let why = |pem: &[u8]| parse_cacert(pem).unwrap_err().to_string();
        assert!(why(b"hello\n").starts_with("no PEM certificate in it"));
        assert!(why(b"").starts_with("no PEM certificate in it"));
        let key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(why(key_only).starts_with("no PEM certificate in it"));
        let der =
            rustls::pki_types::CertificateDer::from_pem_slice(ca_pem("D").as_bytes()).unwrap();
        assert!(why(der.as_ref()).starts_with("it looks like a DER certificate"));
        let damaged = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n";
        assert!(
            why(damaged).starts_with("the PEM in it is damaged"),
            "{}",
            why(damaged)
        );
        let not_x509 = format!(
            "{}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            ca_pem("C")
        );
        assert!(
            why(not_x509.as_bytes()).starts_with("certificate 2 in it is not a valid certificate"),
            "{}",
            why(not_x509.as_bytes())
        );
        // The TLS config refuses it too rather than trusting only the system's roots.
        let e = client_config(false, Some(b"hello")).unwrap_err();
        assert!(e.starts_with("--cacert: no PEM certificate"), "{e}");
    }

    #[test]
    fn the_file_is_named_by_why_it_cannot_be_read() {
        let dir = std::env::temp_dir().join(format!("why401-cacert-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        assert!(matches!(read_cacert(&missing), Err(CaCertError::NotFound)));
        assert!(matches!(read_cacert(&dir), Err(CaCertError::Unreadable(_))));
        let good = dir.join("ca.pem");
        std::fs::write(&good, ca_pem("G")).unwrap();
        assert!(read_cacert(&good).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
