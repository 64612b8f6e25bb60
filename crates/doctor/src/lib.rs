//! Evidence in, ranked findings out.
//!
//! What it is for: the rules that turn what was observed — decoded headers and tokens, a
//! recorded exchange, log statistics — into [`Finding`]s with catalogue ids, specific evidence
//! and fixes, ranked so the first is the most likely root cause.
//!
//! What it is not: no I/O and no clock of its own (callers pass "now"), no parsing of wire
//! formats (that is `why401-wire`), no output formatting (that is `why401-render`).

pub mod decode;
mod finding;
mod id;
pub mod logs;
pub mod probe;
pub mod time;

pub use finding::{Finding, rank};
pub use id::FindingId;
pub use why401_catalogue::Severity;
