//! SARIF 2.1.0 (OASIS), so lint findings show in code-scanning UIs. Written as serde values of
//! our own: the format is a small, stable subset here (one run, rules, results with physical
//! locations), and the crates for it track older schema drafts.

use serde_json::{Value, json};
use why401_catalogue::{Severity, catalogue};

use crate::LintReport;

/// The report as a SARIF 2.1.0 log.
pub fn to_sarif(report: &LintReport, version: &str) -> Value {
    let mut rule_ids: Vec<&str> = report
        .findings
        .iter()
        .map(|f| f.finding.id.as_str())
        .collect();
    rule_ids.sort_unstable();
    rule_ids.dedup();
    let rules: Vec<Value> = rule_ids
        .iter()
        .map(|id| {
            let info = catalogue().finding(id);
            json!({
                "id": id,
                "shortDescription": {"text": info.map(|i| i.title.clone()).unwrap_or_default()},
                "fullDescription": {"text": info.map(|i| i.explanation.trim().to_string()).unwrap_or_default()},
                "help": {"text": info.map(|i| i.fixes.join("\n")).unwrap_or_default()},
                "helpUri": format!("https://example.invalid/why401/explain/{id}"),
            })
        })
        .collect();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let level = match f.finding.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                _ => "note",
            };
            let mut text = f.finding.title.clone();
            for e in &f.finding.evidence {
                text.push('\n');
                text.push_str(e);
            }
            let loc = |l: &crate::Location| {
                json!({"physicalLocation": {
                    "artifactLocation": {"uri": l.file},
                    "region": {"startLine": l.line, "startColumn": l.column, "snippet": {"text": l.quote}},
                }})
            };
            let mut r = json!({
                "ruleId": f.finding.id,
                "ruleIndex": rule_ids.iter().position(|r| *r == f.finding.id).unwrap_or(0),
                "level": level,
                "message": {"text": text},
            });
            if let Some(at) = &f.at {
                r["locations"] = json!([loc(at)]);
            }
            if !f.also.is_empty() {
                r["relatedLocations"] = Value::Array(
                    f.also
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            let mut v = loc(l);
                            v["id"] = json!(i + 1);
                            v
                        })
                        .collect(),
                );
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "why401",
                "version": version,
                "informationUri": "https://example.invalid/why401",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, lint};

    #[test]
    fn results_point_at_rules_and_lines() {
        let r = lint(&[Input::text(
            "nginx.conf",
            "server {\n listen 443 ssl;\n add_header WWW-Authenticate Basic;\n}\n",
        )]);
        let s = to_sarif(&r, "0.1.0");
        assert_eq!(s["version"], "2.1.0");
        let res = &s["runs"][0]["results"][0];
        assert_eq!(res["ruleId"], "nginx-auth-header-not-always");
        assert_eq!(res["level"], "error");
        let region = &res["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(3), Some(2))
        );
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            s["runs"][0]["tool"]["driver"]["rules"][idx]["id"],
            "nginx-auth-header-not-always"
        );
    }
}
