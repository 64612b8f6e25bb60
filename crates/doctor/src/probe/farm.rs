//! Every address behind one name (`--each-address`): a node that answers unlike the others.

use why401_evidence::{Backend, ProbeEvidence};

use crate::{Finding, FindingId};

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    backend_differs(&ev.backends, out);
}

/// What a node's answer comes to, for comparison: its status, or that it was not reached.
fn verdict(b: &Backend) -> String {
    match (b.status, &b.error) {
        (Some(s), _) => s.to_string(),
        (None, Some(_)) => "unreachable".into(),
        (None, None) => "no answer".into(),
    }
}

fn backend_differs(backends: &[Backend], out: &mut Vec<Finding>) {
    if backends.len() < 2 {
        return;
    }
    let first = verdict(&backends[0]);
    if backends.iter().all(|b| verdict(b) == first) {
        return;
    }
    // Name the odd ones out: the nodes whose answer fewer nodes share.
    let count = |v: &str| backends.iter().filter(|b| verdict(b) == v).count();
    let mut odd: Vec<&Backend> = backends
        .iter()
        .filter(|b| {
            let v = verdict(b);
            backends
                .iter()
                .any(|o| verdict(o) != v && count(&verdict(o)) > count(&v))
        })
        .collect();
    if odd.is_empty() {
        // An even split: every node is "odd"; name the refusing ones.
        odd = backends
            .iter()
            .filter(|b| !matches!(b.status, Some(200..=399)))
            .collect();
    }
    let names: Vec<&str> = odd.iter().map(|b| b.address.as_str()).collect();
    let mut f = Finding::new(FindingId::BACKEND_DIFFERS)
        .title(format!(
            "{} of {} addresses answer{} unlike the rest: {}",
            names.len(),
            backends.len(),
            if names.len() == 1 { "s" } else { "" },
            names.join(", ")
        ))
        .confidence(0.9);
    for b in backends {
        let mut line = format!("{} → {}", b.address, verdict(b));
        if let Some(m) = &b.mechanism {
            line.push_str(&format!(" (Negotiate carried {m})"));
        }
        if let Some(c) = b.challenges.first() {
            line.push_str(&format!(" — WWW-Authenticate: {}", describe(c)));
        }
        if let Some(e) = &b.error {
            line.push_str(&format!(" — {e}"));
        }
        f = f.evidence(line);
    }
    out.push(f.fix_first(format!(
        "look at {} first: same request, same credentials, another answer",
        names.join(", ")
    )));
}

/// A challenge as a reader needs it: a Negotiate token decoded to what it says (a server's
/// KRB-ERROR names why it refused the ticket: a stale keytab is KRB_AP_ERR_BADKEYVER), anything
/// else shortened.
fn describe(challenge: &str) -> String {
    use why401_wire::spnego::{self, MechToken};
    let decoded = challenge
        .strip_prefix("Negotiate ")
        .and_then(|t| why401_wire::b64::decode_any(t.trim()).ok())
        .and_then(|(bytes, _)| spnego::decode(&bytes).ok());
    match decoded.as_ref().and_then(|d| d.mech_token()) {
        Some(MechToken::KerberosError { error }) => {
            let name = why401_catalogue::catalogue()
                .code_by_value(why401_catalogue::CodeKind::Kerberos, u64::from(error.code))
                .map(|c| format!(" ({})", c.title))
                .unwrap_or_default();
            format!("Negotiate with the server's KRB-ERROR {}{name}", error.code)
        }
        Some(MechToken::KerberosApRep) => {
            "Negotiate with an AP-REP (the server accepted the ticket)".into()
        }
        _ if challenge.chars().count() > 80 => {
            format!("{}…", challenge.chars().take(80).collect::<String>())
        }
        _ => challenge.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(address: &str, status: Option<u16>) -> Backend {
        Backend {
            address: address.into(),
            status,
            challenges: if status == Some(401) {
                vec!["Negotiate".into()]
            } else {
                Vec::new()
            },
            mechanism: None,
            error: status.is_none().then(|| "connection refused".into()),
        }
    }

    fn run(backends: &[Backend]) -> Vec<Finding> {
        let mut out = Vec::new();
        backend_differs(backends, &mut out);
        out
    }

    #[test]
    fn the_node_that_answers_otherwise_is_named() {
        let f = run(&[
            node("10.0.0.11", Some(200)),
            node("10.0.0.12", Some(401)),
            node("10.0.0.13", Some(200)),
        ]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "backend-differs");
        assert!(
            f[0].title
                .contains("1 of 3 addresses answers unlike the rest: 10.0.0.12"),
            "{}",
            f[0].title
        );
        assert!(
            f[0].evidence
                .iter()
                .any(|e| e == "10.0.0.12 → 401 — WWW-Authenticate: Negotiate")
        );
    }

    #[test]
    fn an_even_split_names_the_refusing_nodes_and_agreement_is_silent() {
        let f = run(&[node("10.0.0.11", Some(200)), node("10.0.0.12", Some(401))]);
        assert!(f[0].title.ends_with("10.0.0.12"), "{}", f[0].title);
        let f = run(&[node("10.0.0.11", Some(200)), node("10.0.0.12", None)]);
        assert!(f[0].evidence.iter().any(|e| e.contains("unreachable")));
        assert!(run(&[node("a", Some(401)), node("b", Some(401))]).is_empty());
        assert!(run(&[node("a", Some(401))]).is_empty());
    }
}
