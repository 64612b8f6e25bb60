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
//!
//! Reading what a server offers, and answering its Digest challenge (the numbers are RFC 7616
//! §3.9.1's SHA-256 example):
//!
//! ```
//! use why401_wire::challenge;
//! use why401_wire::digest::{self, DigestChallenge, RequestFacts};
//!
//! let offered = challenge::parse_one(
//!     r#"Basic realm="Intranet", Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v""#,
//! );
//! assert_eq!(offered.schemes(), ["Basic", "Digest"]);
//! assert_eq!(offered.find("basic").and_then(|c| c.realm()), Some("Intranet"));
//! // Valid, but some clients read only the first challenge of a field, so it is a lint.
//! let lints: Vec<_> = offered.lints.iter().map(|l| l.code()).collect();
//! assert_eq!(lints, ["several-challenges-in-one-field"]);
//!
//! let digest = DigestChallenge::from_challenge(offered.find("Digest").unwrap())?;
//! let request = RequestFacts { method: "GET", uri: "/dir/index.html", body: b"" };
//! let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
//! let answer = digest::respond(&digest, "Mufasa", "Circle of Life", request, cnonce, 1);
//! assert_eq!(
//!     answer.response,
//!     "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
//! );
//! assert!(answer.to_header_value().starts_with(r#"Digest username="Mufasa", realm="#));
//! # Ok::<(), digest::DigestError>(())
//! ```

pub mod b64;
pub mod basic;
pub mod bearer;
pub mod ccache;
pub mod challenge;
pub mod cookie;
pub mod credentials;
pub mod digest;
pub mod entra;
pub mod iis;
pub mod jwt;
pub mod keytab;
pub mod krb5;
pub mod ntlm;
pub mod spnego;
mod syntax;
pub mod token;

pub use challenge::{AuthParam, Challenge, ChallengeLint, Challenges};
pub use credentials::{Credentials, CredentialsLint};
