//! A finding: a catalogue id made specific by the evidence that triggered it.

use serde::Serialize;
use why401_catalogue::{Severity, catalogue};

use crate::FindingId;

/// One diagnosed cause or problem, as the output contract describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable catalogue id (`credentials-rejected`).
    pub id: String,
    /// Error, warning or note: the catalogue's, unless the rule or the outcome changes it
    /// (once access is granted, `diagnose` lowers errors to warnings).
    pub severity: Severity,
    /// The headline, specific to this case.
    pub title: String,
    /// What proves it: quoted header lines, decoded fields, times.
    pub evidence: Vec<String>,
    /// What to do, in order.
    pub fix: Vec<String>,
    /// How sure the rule is that this is the cause, 0 to 1.
    pub confidence: f32,
}

impl Finding {
    /// A finding with the catalogue's title, severity and fixes for `id`.
    pub fn new(id: FindingId) -> Self {
        let id = id.as_str();
        match catalogue().finding(id) {
            Some(info) => Finding {
                id: id.to_string(),
                severity: info.severity,
                title: info.title.clone(),
                evidence: Vec::new(),
                fix: info.fixes.clone(),
                confidence: 0.5,
            },
            // `FindingId::ALL` is checked against the catalogue by a test; this keeps a release
            // build honest if the data and the code ever disagree.
            None => {
                debug_assert!(false, "finding id {id} is not in the catalogue");
                Finding {
                    id: id.to_string(),
                    severity: Severity::Warning,
                    title: id.to_string(),
                    evidence: Vec::new(),
                    fix: Vec::new(),
                    confidence: 0.5,
                }
            }
        }
    }

    /// Replaces the headline with a case-specific one.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Adds a line of evidence.
    pub fn evidence(mut self, line: impl Into<String>) -> Self {
        self.evidence.push(line.into());
        self
    }

    /// Puts a case-specific step before the catalogue's fixes.
    pub fn fix_first(mut self, step: impl Into<String>) -> Self {
        self.fix.insert(0, step.into());
        self
    }

    /// Sets the confidence.
    pub fn confidence(mut self, c: f32) -> Self {
        self.confidence = c.clamp(0.0, 1.0);
        self
    }

    /// Overrides the catalogue severity.
    pub fn severity(mut self, s: Severity) -> Self {
        self.severity = s;
        self
    }
}

/// Orders findings so the most likely root cause comes first: errors before warnings before
/// notes, then by confidence. Equal findings keep the order the rules produced them in.
pub fn rank(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(b.confidence.total_cmp(&a.confidence))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_puts_errors_and_confidence_first() {
        let mut f = vec![
            Finding::new(FindingId::BASIC_OVER_HTTP)
                .severity(Severity::Warning)
                .confidence(0.9),
            Finding::new(FindingId::CREDENTIALS_REJECTED)
                .severity(Severity::Error)
                .confidence(0.6),
            Finding::new(FindingId::NO_CREDENTIALS_SENT)
                .severity(Severity::Error)
                .confidence(0.9),
        ];
        rank(&mut f);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "no-credentials-sent",
                "credentials-rejected",
                "basic-over-http"
            ]
        );
    }
}
