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
//!
//! ```
//! use why401_logs::{Input, Options, analyze};
//!
//! let dir = std::env::temp_dir().join(format!("why401-logs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let log = dir.join("u_ex261201.log");
//! std::fs::write(
//!     &log,
//!     "#Fields: date time c-ip cs-username cs-method cs-uri-stem sc-status sc-substatus sc-win32-status\n\
//!      2026-12-01 08:00:01 10.1.2.3 - GET /reports/ 401 2 5\n\
//!      2026-12-01 08:00:01 10.1.2.3 CORP\\alice GET /reports/ 200 0 0\n\
//!      2026-12-01 08:00:05 10.1.2.9 CORP\\bob GET /reports/ 401 1 1326\n",
//! )
//! .unwrap();
//! let pass = analyze(&[Input::Path(log.display().to_string())], &Options::default(), &|_| {}).unwrap();
//! let summary = pass.into_summary();
//! assert_eq!(summary.requests, 3);
//! // The anonymous first leg of the NTLM handshake is noise; bob's wrong password is real.
//! assert_eq!((summary.handshake_noise, summary.real_failures), (1, 1));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod acc;
pub mod analyze;
pub mod errorlog;
pub mod format;
mod heavy;
pub mod split;
mod summary;
pub mod time;

pub use acc::{Caps, Window, is_logon_failure};
pub use analyze::{Input, LogError, Options, Pass, analyze};
pub use summary::bucket_for;
