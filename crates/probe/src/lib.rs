//! The live probe: drives the real request and its authentication handshake, and records
//! everything as [`ProbeEvidence`](why401_evidence::ProbeEvidence) for the doctor.
//!
//! What it is for: DNS, TCP, proxies (CONNECT), TLS (the chain recorded), HTTP/1.1 on one
//! connection per handshake, answering Basic, Digest, NTLM and Negotiate challenges, following
//! redirects by hand with browsers' credential rules, keeping cookies, and looking at sibling
//! URLs without credentials.
//!
//! What it is not: no judgement (that is `why401-doctor`), no printing.

pub mod auth;
pub mod curl;
mod dns;
pub mod flow;
pub mod jar;
pub mod net;
pub mod proxy;
pub mod security_context;
mod siblings;
pub mod spec;
pub mod tls;

pub use flow::run;
pub use spec::{ProbeSpec, Scheme, SpecError, UserCredentials};
