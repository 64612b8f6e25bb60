//! Rules over IIS Failed Request Tracing: each distinct 401 trace (status, module, error code)
//! becomes the `iis-401.x` finding of its substatus, with the module that set it, the
//! notification, the HRESULT in words and what authentication did.

use why401_catalogue::{CodeKind, catalogue};
use why401_evidence::freb::{FrebSummary, FrebTrace};

use crate::time::timestamp;
use crate::{Finding, FindingId, Severity, rank};

/// The finding of a 401 substatus.
fn id_of(sub: u32) -> Option<FindingId> {
    Some(match sub {
        1 => FindingId::IIS_401_1_LOGON_FAILED,
        2 => FindingId::IIS_401_2_CONFIG,
        3 => FindingId::IIS_401_3_ACL,
        4 => FindingId::IIS_401_4_FILTER,
        5 => FindingId::IIS_401_5_APP,
        7 => FindingId::IIS_401_7_URL_AUTHORIZATION,
        501..=504 => FindingId::IIS_401_50X_IP_RESTRICTION,
        _ => return None,
    })
}

/// Runs the trace rules.
pub fn diagnose(s: &FrebSummary) -> Vec<Finding> {
    let mut out = Vec::new();
    if !s.unreadable.is_empty() {
        let mut f = Finding::new(FindingId::UNPARSED_LINES)
            .title(format!(
                "{} trace file(s) could not be read",
                s.unreadable.len()
            ))
            .severity(Severity::Warning)
            .confidence(0.9);
        for (file, why) in s.unreadable.iter().take(5) {
            f = f.evidence(format!("{file}: {why}"));
        }
        out.push(f);
    }
    for (t, count) in s.examples.iter().zip(&s.example_counts) {
        if t.http_status != 401 {
            continue;
        }
        let Some(id) = id_of(t.substatus) else {
            continue;
        };
        out.push(trace(id, t, *count));
    }
    rank(&mut out);
    out
}

fn trace(id: FindingId, t: &FrebTrace, count: u64) -> Finding {
    let cat = catalogue();
    let meaning = cat
        .code(CodeKind::IisSubstatus, &t.status)
        .map(|c| c.title.clone())
        .unwrap_or_default();
    let mut f = Finding::new(id)
        .title(format!(
            "{} {} answered {}{}{}",
            t.verb,
            t.url,
            t.status,
            if meaning.is_empty() {
                String::new()
            } else {
                format!(": {meaning}")
            },
            if count > 1 {
                format!(" ({count} traces)")
            } else {
                String::new()
            }
        ))
        .confidence(0.95);
    if let Some(m) = &t.module {
        f = f.evidence(format!(
            "set by {m}{}",
            t.notification
                .as_deref()
                .map(|n| format!(" in {n}"))
                .unwrap_or_default()
        ));
    }
    if let Some(code) = &t.error_code {
        let known = cat
            .code(CodeKind::Hresult, code)
            .map(|c| format!("{}: {}", c.name, c.title));
        // The trace's own text ends with the code again: `Access is denied. (0x80070005)`.
        let text = known
            .or_else(|| {
                t.error_text.as_ref().map(|x| {
                    x.trim_end()
                        .strip_suffix(&format!("({code})"))
                        .unwrap_or(x)
                        .trim()
                        .to_string()
                })
            })
            .unwrap_or_default();
        f = f.evidence(format!("error code {code} {text}"));
    }
    for a in t
        .auth
        .iter()
        .filter(|a| a.values.iter().any(|(_, v)| !v.is_empty()))
    {
        let values: Vec<String> = a
            .values
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        f = f.evidence(format!("{}: {}", a.event, values.join(", ")));
    }
    let users: Vec<String> = t.users.iter().map(|(k, v)| format!("{k} {v}")).collect();
    if !users.is_empty() {
        f = f.evidence(users.join(", "));
    }
    f = f.evidence(format!(
        "{}{}",
        t.file,
        t.time
            .map(|x| format!(" at {}", timestamp(x)))
            .unwrap_or_default()
    ));
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_401_2_trace_is_the_config_finding_with_its_module() {
        let t = FrebTrace {
            file: "fr000001.xml".into(),
            url: "http://web01:80/secure/".into(),
            verb: "GET".into(),
            status: "401.2".into(),
            http_status: 401,
            substatus: 2,
            authentication_type: "anonymous".into(),
            users: vec![],
            failure_reason: "STATUS_CODE".into(),
            time_taken: 3,
            time: Some(0),
            module: Some("IIS Web Core".into()),
            notification: Some("AUTHENTICATE_REQUEST".into()),
            error_code: Some("0x80070005".into()),
            error_text: None,
            auth: vec![],
        };
        let s = FrebSummary {
            traces: 3,
            examples: vec![t],
            example_counts: vec![3],
            ..FrebSummary::default()
        };
        let f = diagnose(&s);
        assert_eq!(f[0].id, "iis-401.2-config");
        assert!(f[0].title.contains("(3 traces)"), "{}", f[0].title);
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e == "set by IIS Web Core in AUTHENTICATE_REQUEST"),
            "{:?}",
            f[0].evidence
        );
    }
}
