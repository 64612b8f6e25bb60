//! Pure parsers and encoders of the formats HTTP authentication puts on the wire.
//!
//! What it is for: turning header values and tokens — challenges (`WWW-Authenticate`,
//! `Proxy-Authenticate`), credentials (`Authorization`), Basic, Digest, Bearer errors, JWTs,
//! NTLM messages, SPNEGO/Kerberos tokens and cookies — into typed values, and back.
//! Every parser is total: bad input gives an error value or a named [`lint`](challenge::ChallengeLint),
//! never a panic. Deviations that real servers and clients commit are reported as lints so
//! the doctor can name them.
//!
//! What it is not: no I/O, no clock (callers pass "now"), no knowledge of what a finding
//! means (that is `why401-catalogue`) and no judgement of causes (that is `why401-doctor`).

pub mod b64;
pub mod basic;
pub mod bearer;
pub mod challenge;
pub mod cookie;
pub mod credentials;
pub mod digest;
pub mod iis;
pub mod jwt;
pub mod ntlm;
pub mod spnego;
mod syntax;
pub mod token;

pub use challenge::{AuthParam, Challenge, ChallengeLint, Challenges};
pub use credentials::{Credentials, CredentialsLint};
