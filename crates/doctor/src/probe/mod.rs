//! Rules over a live probe's evidence: what went wrong, ranked, with the proof.

mod access;
mod farm;
mod navigation;
mod reach;

pub(crate) use reach::url_host;
mod server;
mod token;
mod windows;

use serde::Serialize;

use crate::{Finding, Severity, rank};
use why401_evidence::{Exchange, ProbeEvidence, ResponseRecord};

/// How the probe ended, as the output contract names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The final status is none of 401, 407, 403 and no login page was reached: authentication
    /// did not stop the request (a 404 or a 500 lands here too).
    Authorized,
    /// The final response was 401 or 407, or a redirect to a login page.
    Unauthorized,
    /// The final response was 403: authenticated, but not allowed.
    Forbidden,
    /// No final response: the target could not be reached or the exchange broke off.
    Error,
}

/// The verdict on one probe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnosis {
    /// How the probe ended, judged from the final response and the findings.
    pub outcome: Outcome,
    /// Ranked: the first is the most likely root cause.
    pub findings: Vec<Finding>,
}

/// Runs every rule over `ev`.
pub fn diagnose(ev: &ProbeEvidence) -> Diagnosis {
    let mut findings = Vec::new();
    reach::rules(ev, &mut findings);
    farm::rules(ev, &mut findings);
    if ev.reach.is_none() {
        access::rules(ev, &mut findings);
        token::rules(ev, &mut findings);
        navigation::rules(ev, &mut findings);
        windows::rules(ev, &mut findings);
        server::rules(ev, &mut findings);
    }
    let outcome = outcome(ev, &findings);
    if outcome == Outcome::Authorized {
        findings.push(access::granted(ev));
        // Once access is granted nothing is an error any more; what remains are warnings.
        for f in &mut findings {
            if f.severity == Severity::Error {
                f.severity = Severity::Warning;
            }
        }
    }
    dedupe(&mut findings);
    rank(&mut findings);
    Diagnosis { outcome, findings }
}

fn outcome(ev: &ProbeEvidence, findings: &[Finding]) -> Outcome {
    if ev.reach.is_some() {
        return Outcome::Error;
    }
    match ev.final_status() {
        None => Outcome::Error,
        Some(401 | 407) => Outcome::Unauthorized,
        Some(403) => Outcome::Forbidden,
        Some(_) if findings.iter().any(|f| f.id == "redirected-to-login") => Outcome::Unauthorized,
        // With --each-address the target is every node: one that refuses is an intermittent
        // 401 for the users its connections land on, whatever the first node said.
        Some(_)
            if ev
                .backends
                .iter()
                .any(|b| matches!(b.status, Some(401 | 407))) =>
        {
            Outcome::Unauthorized
        }
        Some(_) if ev.backends.iter().any(|b| b.status == Some(403)) => Outcome::Forbidden,
        Some(_) => Outcome::Authorized,
    }
}

/// Keeps the first of findings with the same id and title (rules may meet the same fact twice).
fn dedupe(findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    findings.retain(|f| seen.insert((f.id.clone(), f.title.clone())));
}

/// `Name: value`, for evidence.
fn quoted(name: &str, value: &str) -> String {
    format!("{name}: {value}")
}

/// The status line as a person reads it.
fn status_line(r: &ResponseRecord) -> String {
    format!("{} {} {}", r.version, r.status, r.reason())
}

/// The final exchange and its response, when the target answered.
fn last(ev: &ProbeEvidence) -> Option<(&Exchange, &ResponseRecord)> {
    let e = ev.last()?;
    Some((e, e.response.as_ref()?))
}

#[cfg(test)]
mod tests;
