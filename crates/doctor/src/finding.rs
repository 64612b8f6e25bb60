//! A finding: a catalogue id made specific by the evidence that triggered it.

use serde::Serialize;
use why401_catalogue::{Severity, catalogue};

/// One diagnosed cause or problem, as the output contract describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// Stable catalogue id (`credentials-rejected`).
    pub id: String,
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
    pub fn new(id: &str) -> Self {
        match catalogue().finding(id) {
            Some(info) => Finding {
                id: id.to_string(),
                severity: info.severity,
                title: info.title.clone(),
                evidence: Vec::new(),
                fix: info.fixes.clone(),
                confidence: 0.5,
            },
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
            Finding::new("basic-over-http")
                .severity(Severity::Warning)
                .confidence(0.9),
            Finding::new("credentials-rejected")
                .severity(Severity::Error)
                .confidence(0.6),
            Finding::new("no-credentials-sent")
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

    #[test]
    fn every_id_the_doctor_names_is_in_the_catalogue() {
        // Scan this crate's sources for literal finding ids and check each one.
        fn scan(dir: &std::path::Path, n: &mut usize) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    scan(&path, n);
                    continue;
                }
                let src = std::fs::read_to_string(&path).unwrap();
                for part in src.split("Finding::new(\"").skip(1) {
                    let id = &part[..part.find('"').unwrap()];
                    assert!(
                        catalogue().finding(id).is_some(),
                        "{}: unknown finding id {id}",
                        path.display()
                    );
                    *n += 1;
                }
            }
        }
        let mut n = 0;
        scan(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut n,
        );
        assert!(n > 10, "only {n} ids found");
    }
}
