//! Pasted Microsoft identity platform and Microsoft 365 answers: a token endpoint's error (its
//! AADSTS codes through the catalogue, its claims, the ids support asks for) and a Graph /
//! SharePoint error body.

use why401_catalogue::{CodeKind, catalogue};
use why401_wire::entra::{ApiError, TokenError};

use super::Item;
use crate::{Finding, FindingId};

/// A JSON body, if it is one of these; its item, with findings pushed.
pub(super) fn body(text: &str, findings: &mut Vec<Finding>) -> Option<Item> {
    let bytes = text.trim().as_bytes();
    if let Some(e) = TokenError::parse(bytes) {
        return Some(token_error(&e, findings));
    }
    let e = ApiError::parse(bytes)?;
    let mut item = Item::new("API error body", format!("{}: {}", e.code, e.message));
    item.noted(
        "code",
        &e.code,
        "the API's error code: InvalidAuthenticationToken (the token itself), Authorization_RequestDenied / ErrorAccessDenied / accessDenied (the token is valid but lacks a permission)",
    );
    item.field("message", &e.message);
    for (k, v) in &e.ids {
        item.noted(k, v, "quote it to Microsoft support with the time");
    }
    let denied = ["denied", "forbidden", "insufficient", "privilege"]
        .iter()
        .any(|w| e.code.to_ascii_lowercase().contains(w));
    let mut f = Finding::new(if denied {
        FindingId::INSUFFICIENT_SCOPE
    } else {
        FindingId::SERVER_REJECTED_TOKEN
    })
    .title(format!("the API refused: {} ({})", e.message, e.code))
    .confidence(0.7);
    for (k, v) in &e.ids {
        f = f.evidence(format!("{k}: {v}"));
    }
    findings.push(f);
    Some(item)
}

fn token_error(e: &TokenError, findings: &mut Vec<Finding>) -> Item {
    let cat = catalogue();
    let mut item = Item::new(
        "token endpoint error",
        format!("{}: {}", e.error, e.description),
    );
    item.noted(
        "error",
        &e.error,
        match e.error.as_str() {
            "interaction_required" => {
                "the user must sign in interactively (MFA, consent, conditional access)"
            }
            "invalid_grant" => "the grant (password, refresh token, code) was refused",
            "invalid_client" => "the client's secret or certificate was refused",
            "unauthorized_client" => "this client may not use this grant type",
            "consent_required" => "nobody consented to the permissions asked for",
            _ => "",
        },
    );
    for code in &e.codes {
        match cat.code_by_value(CodeKind::Aadsts, u64::from(*code)) {
            Some(c) => item.noted(format!("AADSTS{code}"), &c.name, c.title.clone()),
            None => item.field(format!("AADSTS{code}"), "not in the catalogue"),
        }
    }
    if let Some(s) = &e.suberror {
        item.field("suberror", s);
    }
    if let Some(c) = &e.claims {
        item.noted(
            "claims",
            &c.json,
            "send them back to the token endpoint with the next request",
        );
    }
    for (k, v) in &e.ids {
        item.noted(
            k,
            v,
            "quote it to Microsoft support; the sign-in log is found by it",
        );
    }
    let Some(&code) = e.codes.first() else {
        findings.push(
            Finding::new(FindingId::CREDENTIALS_REJECTED)
                .title(format!("the token endpoint refused: {}", e.error))
                .evidence(e.description.clone())
                .confidence(0.5),
        );
        return item;
    };
    let entry = cat.code_by_value(CodeKind::Aadsts, u64::from(code));
    // The catalogue names the finding each code stands for (conditional access for 53003…).
    let id = entry
        .and_then(|c| c.findings.first())
        .and_then(|f| FindingId::ALL.iter().copied().find(|id| id.as_str() == f))
        .unwrap_or(FindingId::CREDENTIALS_REJECTED);
    let what = entry.map_or_else(|| e.description.clone(), |c| c.title.clone());
    let mut f = Finding::new(id)
        .title(format!("AADSTS{code}: {what}"))
        .evidence(format!("{}: {}", e.error, e.description))
        .confidence(0.9);
    if let Some(s) = &e.suberror {
        f = f.evidence(format!("suberror: {s}"));
    }
    for (k, v) in &e.ids {
        f = f.evidence(format!("{k}: {v}"));
    }
    if let Some(c) = entry {
        for step in c.fixes.iter().rev() {
            f = f.fix_first(step.clone());
        }
    }
    findings.push(f);
    item
}
