//! Turning findings, decoded items and catalogue entries into text for people and JSON for
//! programs.
//!
//! What it is for: the rustc-diagnostic look of findings (headline, evidence, `help:` steps),
//! the field tables of `decode`, the pages of `explain`, and the JSON envelope of
//! `docs/json.md`. Text is styled with ANSI codes; the binary strips them when stdout is not
//! a terminal or `NO_COLOR` is set.
//!
//! What it is not: no decisions (that is `why401-doctor`), no I/O: every function returns a
//! `String`.
//!
//! A finding, as `why401` prints it:
//!
//! ```
//! use why401_doctor::{Finding, FindingId};
//! use why401_render::{Options, findings};
//!
//! let f = Finding::new(FindingId::NO_CREDENTIALS_SENT)
//!     .title("no credentials were sent; the server asks for Basic")
//!     .evidence(r#"WWW-Authenticate: Basic realm="x""#);
//! let text = findings(&[f], true, Options { width: 80 });
//! // error[no-credentials-sent]: no credentials were sent; the server asks for Basic
//! //   | WWW-Authenticate: Basic realm="x"
//! //   = help: 1. Read the WWW-Authenticate header(s) to see which schemes and realm…
//! //   = help: 2. … (the rest of the catalogue's fixes)
//! // (with ANSI styles around the label, the bar and `help:`)
//! assert!(text.contains("error[no-credentials-sent]"));
//! assert!(text.contains(r#" WWW-Authenticate: Basic realm="x""#));
//! assert!(text.contains("= help:"));
//! ```

mod capture;
mod decode;
mod events;
mod explain;
mod findings;
mod lint;
mod logs;
mod probe;
mod style;

pub use capture::{CaptureReport, Similar, capture, capture_html, flow_json};
pub use decode::decoded;
pub use events::{events, freb};
pub use explain::{explain, list};
pub use findings::findings;
pub use lint::lint;
pub use logs::{esc, logs, logs_html};
pub use probe::{probe, probe_json, shown_header};

/// Rendering options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Wrap prose at this many columns.
    pub width: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { width: 100 }
    }
}
