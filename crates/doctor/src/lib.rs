//! Evidence in, ranked findings out.
//!
//! What it is for: the rules that turn what was observed — decoded headers and tokens, a
//! recorded exchange, log statistics — into [`Finding`]s with catalogue ids, specific evidence
//! and fixes, ranked so the first is the most likely root cause.
//!
//! What it is not: no I/O and no clock of its own (callers pass "now"), no parsing of wire
//! formats (that is `why401-wire`), no output formatting (that is `why401-render`).
//!
//! A probe that sent nothing and got a Basic challenge back:
//!
//! ```
//! use why401_doctor::probe::{Outcome, diagnose};
//! use why401_evidence::{Exchange, Leg, ProbeEvidence, RequestRecord, ResponseRecord};
//!
//! let url = "https://intranet.example/reports";
//! let ev = ProbeEvidence {
//!     target: url.into(),
//!     exchanges: vec![Exchange {
//!         leg: Leg::Initial,
//!         connection: 0,
//!         request: RequestRecord {
//!             method: "GET".into(),
//!             url: url.into(),
//!             headers: vec![],
//!             body_len: 0,
//!         },
//!         response: Some(ResponseRecord {
//!             status: 401,
//!             version: "HTTP/1.1".into(),
//!             headers: vec![("WWW-Authenticate".into(), r#"Basic realm="x""#.into())],
//!             body: String::new(),
//!             body_len: 0,
//!             body_incomplete: None,
//!         }),
//!         error: None,
//!         auth: None, // no Authorization header went out
//!         elapsed_ms: 3.0,
//!         via_proxy: false,
//!     }],
//!     ..Default::default()
//! };
//!
//! let diagnosis = diagnose(&ev);
//! assert_eq!(diagnosis.outcome, Outcome::Unauthorized);
//! // The first finding is the most likely root cause.
//! assert_eq!(diagnosis.findings[0].id, "no-credentials-sent");
//! ```

pub mod capture;
pub mod decode;
pub mod events;
mod finding;
pub mod freb;
mod id;
pub mod logs;
pub mod probe;
pub mod time;

pub use finding::{Finding, rank};
pub use id::FindingId;
pub use why401_catalogue::Severity;
