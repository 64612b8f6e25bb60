//! The live probe: drives the real request and its authentication handshake, and records
//! everything as [`ProbeEvidence`](why401_evidence::ProbeEvidence) for the doctor.
//!
//! What it is for: DNS, TCP, proxies (CONNECT), TLS (the chain recorded), HTTP/1.1 on one
//! connection per handshake, answering Basic, Digest, NTLM and Negotiate challenges, following
//! redirects by hand with browsers' credential rules, keeping cookies, and looking at sibling
//! URLs without credentials.
//!
//! What it is not: no judgement (that is `why401-doctor`), no printing.
//!
//! A request is a [`ProbeSpec`], checked before anything is sent:
//!
//! ```
//! use url::Url;
//! use why401_probe::{ProbeSpec, UserCredentials};
//!
//! let mut spec = ProbeSpec::get(Url::parse("https://intranet.example/reports/")?);
//! spec.credentials = Some(UserCredentials::new(r"CORP\alice", "s3cret".into()));
//! spec.headers.push(("Accept".into(), "application/json".into()));
//! spec.check()?; // every header, cookie and name can go on the wire as given
//! assert!(spec.is_api()); // a 401 here is judged as an API's, not a page's
//! assert_eq!(spec.credentials.as_ref().map(|c| c.full_name()), Some(r"CORP\alice".into()));
//!
//! // A header that would split the request is refused by name, before anything is sent.
//! spec.headers.push(("X-Trace".into(), "a\r\nb".into()));
//! assert!(spec.check().unwrap_err().to_string().starts_with("header X-Trace: the value"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`run`] never fails: a target that cannot be reached is evidence like any other.
//!
//! ```
//! use url::Url;
//! use why401_evidence::ReachKind;
//! use why401_probe::ProbeSpec;
//!
//! // A loopback port nothing listens on any more.
//! let closed = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
//! let mut spec = ProbeSpec::get(Url::parse(&format!("http://{closed}/"))?);
//! spec.siblings = false;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let evidence = runtime.block_on(why401_probe::run(&spec, 0));
//! assert_eq!(evidence.reach.map(|r| r.kind), Some(ReachKind::Refused));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod curl;
mod dns;
pub mod flow;
pub mod jar;
pub mod kdc;
pub mod kerberos;
pub mod net;
pub mod proxy;
pub mod security_context;
mod siblings;
pub mod spec;
pub mod tls;

pub use flow::run;
pub use spec::{Delegation, KerberosSpec, ProbeSpec, Scheme, SpecError, UserCredentials};
