//! `why401 logs`: every 401 in server access logs, counted, decoded and explained, at the
//! speed of the disk.
//!
//! What it is for: reading IIS W3C (any `#Fields` layout, changing mid-file), NCSA
//! common/combined and custom nginx/Apache formats, JSON lines (Caddy, Traefik, any mapping),
//! plain, `.gz`, `.zst` or stdin; joining nginx/Apache error logs to say *why* a 401 happened;
//! and folding it all into a [`LogSummary`](why401_evidence::logs::LogSummary) for the
//! doctor's detectors. Plain files are split into line-aligned chunks scanned on every core.
//!
//! What it is not: no judgement (brute force, spray, … are `why401_doctor::logs`), no
//! rendering.

mod acc;
pub mod analyze;
pub mod errorlog;
pub mod format;
mod heavy;
pub mod split;
mod summary;
pub mod time;

pub use acc::{Caps, Window};
pub use analyze::{Input, LogError, Options, Pass, analyze};
pub use summary::bucket_for;
