//! `why401 lab`: local servers that reproduce each classic 401, probed by the real probe and
//! diagnosed by the real doctor — the tour of why401 and its self-test.
//!
//! What it is for: in-process servers on loopback (ephemeral ports) — Basic, Digest SHA-256,
//! Bearer/JWT (jsonwebtoken), NTLM and Negotiate (sspi's acceptor), a cross-origin redirect, a
//! login page, a cookie with the wrong Path, an IIS 401.2 detailed error page, a 407 proxy —
//! and the table of scenario → expected finding → found.
//!
//! What it is not: a test double for the real peers (nginx, Apache, squid, pyspnego), which
//! the integration tests run separately.
//!
//! The scenarios, and how to try each by hand against a running lab:
//!
//! ```
//! use why401_lab::{Lab, commands};
//!
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let lab = runtime.block_on(Lab::start())?; // loopback, ephemeral ports
//! let scenarios = commands(&lab);
//! assert_eq!(scenarios.len(), 19);
//! let (name, title, command) = &scenarios[0];
//! assert_eq!((*name, *title), ("basic-no-credentials", "Basic site, no credentials"));
//! assert_eq!(*command, format!("why401 http://{}/basic", lab.a));
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! [`run`] probes them all and says whether each was diagnosed as expected:
//!
//! ```
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! let (_lab, outcomes) = runtime.block_on(why401_lab::run())?;
//! let basic = outcomes.iter().find(|o| o.scenario == "basic-no-credentials").unwrap();
//! assert_eq!(basic.found.as_deref(), Some("no-credentials-sent"));
//! assert!(outcomes.iter().all(|o| o.ok));
//! # Ok::<(), std::io::Error>(())
//! ```

/// The lab's one account: Basic, Digest, NTLM and Negotiate all accept it (the domain matters
/// to NTLM and Negotiate only).
mod account {
    /// The Windows domain of the account.
    pub(crate) const DOMAIN: &str = "CORP";
    /// The user name.
    pub(crate) const USER: &str = "alice";
    /// Its password (the lab's, printed by `why401 lab --serve`; nothing real).
    pub(crate) const PASSWORD: &str = "s3cret";
}
mod app;
mod scenarios;
mod server;
mod windows;

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use why401_doctor::probe::{Diagnosis, diagnose};

pub use scenarios::{Lab, Scenario};

/// One scenario's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// The scenario's stable name (`ntlm-wrong-password`).
    pub scenario: &'static str,
    /// What the scenario reproduces, in words, for the table.
    pub title: &'static str,
    /// The finding id the doctor must rank first.
    pub expected: &'static str,
    /// The top finding id, if any.
    pub found: Option<String>,
    /// `found` is `expected`: the probe and the doctor got this classic 401 right.
    pub ok: bool,
    /// The doctor's whole verdict, so a failed scenario can show every finding it got (not in
    /// the JSON).
    #[serde(skip)]
    pub diagnosis: Diagnosis,
}

/// Starts every server and probes every scenario.
pub async fn run() -> std::io::Result<(Lab, Vec<Outcome>)> {
    let lab = Lab::start().await?;
    let mut out = Vec::new();
    for s in scenarios::all() {
        let spec = (s.spec)(&lab);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let ev = why401_probe::run(&spec, now).await;
        let diagnosis = diagnose(&ev);
        let found = diagnosis.findings.first().map(|f| f.id.clone());
        out.push(Outcome {
            scenario: s.name,
            title: s.title,
            expected: s.expect,
            ok: found.as_deref() == Some(s.expect),
            found,
            diagnosis,
        });
    }
    Ok((lab, out))
}

/// The scenarios and how to try each by hand, for `--serve`.
pub fn commands(lab: &Lab) -> Vec<(&'static str, &'static str, String)> {
    scenarios::all()
        .into_iter()
        .map(|s| (s.name, s.title, (s.command)(lab)))
        .collect()
}
