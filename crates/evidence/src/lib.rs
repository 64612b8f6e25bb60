//! The evidence model: the typed values every why401 source records and every rule reads.
//!
//! What it is for: one vocabulary between the sources (the live probe, server logs, and next
//! browser captures, configuration files and Windows event logs) and the doctor's rules. A source
//! depends on this crate to say what it saw; the doctor depends on it to judge; neither depends on
//! the other, so a new source never needs the rules and a new rule never needs I/O.
//!
//! What it is not: no parsing (that is `why401-wire` and the sources), no judgement (that is
//! `why401-doctor`), no meanings of codes (that is `why401-catalogue`). Plain data with a few
//! accessors; everything serialises to the JSON of `docs/json.md`.
//!
//! ```
//! use why401_evidence::{Exchange, Leg, RequestRecord, ResponseRecord};
//!
//! let challenge = Exchange {
//!     leg: Leg::Initial,
//!     connection: 0,
//!     request: RequestRecord {
//!         method: "GET".into(),
//!         url: "https://intranet.example/".into(),
//!         headers: vec![],
//!         body_len: 0,
//!     },
//!     response: Some(ResponseRecord {
//!         status: 401,
//!         version: "HTTP/1.1".into(),
//!         headers: vec![("WWW-Authenticate".into(), "Negotiate".into())],
//!         body: String::new(),
//!         body_len: 0,
//!         body_incomplete: None,
//!     }),
//!     error: None,
//!     auth: None,
//!     elapsed_ms: 1.5,
//!     via_proxy: false,
//! };
//! assert_eq!(challenge.status(), Some(401));
//! let r = challenge.response.as_ref().unwrap();
//! assert_eq!(r.header("www-authenticate"), Some("Negotiate"));
//! ```

pub mod capture;
pub mod events;
mod exchange;
pub mod freb;
pub mod logs;
mod probe;

pub use exchange::*;
pub use probe::*;
