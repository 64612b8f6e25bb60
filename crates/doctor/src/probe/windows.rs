//! NTLM and Negotiate: Kerberos that fell back to NTLM, handshakes split over connections.

use why401_catalogue::{CodeKind, catalogue};

use crate::{Finding, FindingId, Severity};
use why401_evidence::{Leg, ProbeEvidence};

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    kdc_refused(ev, out);
    fallback(ev, out);
    split_handshake(ev, out);
}

fn fallback(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(n) = &ev.negotiate else { return };
    if n.mechanism != "ntlm" {
        return;
    }
    let mut f = Finding::new(FindingId::KERBEROS_FALLBACK_TO_NTLM)
        .title(format!("Negotiate fell back to NTLM: no Kerberos ticket for {}", n.spn))
        .evidence(format!("the server offered Negotiate; the SPNEGO token carried NTLM, not a Kerberos AP-REQ for {}", n.spn))
        .severity(Severity::Warning)
        .confidence(0.8);
    if let Some(reason) = &n.fallback_reason {
        f = f.evidence(reason.clone());
    }
    if let Some(dns) = &ev.dns
        && let Some(canonical) = dns.cnames.last()
    {
        f = f.evidence(format!(
            "{} is an alias (CNAME {}): Kerberos asks for the canonical name's SPN, {}",
            dns.host,
            dns.cnames.join(" → "),
            n.spn
        ));
        f = f.fix_first(format!(
            "register the SPN of the canonical name: setspn -S HTTP/{canonical} <service account>"
        ));
    }
    out.push(f.fix_first(format!(
        "check that exactly one account holds the SPN: setspn -Q {}",
        n.spn
    )));
}

/// NTLM authenticates the connection: every leg must travel on one.
fn split_handshake(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let legs: Vec<_> = ev
        .path()
        .filter(|e| matches!(&e.leg, Leg::Auth { scheme, .. } if scheme.eq_ignore_ascii_case("NTLM") || scheme.eq_ignore_ascii_case("Negotiate")))
        .collect();
    if legs.len() < 2 {
        // A single leg followed by a dead connection is still a split handshake.
        if let Some(e) = legs.first()
            && e.response.as_ref().is_some_and(|r| {
                r.header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("close"))
            })
        {
            out.push(
                    Finding::new(FindingId::NTLM_CONNECTION_RESET)
                        .title("the server closed the connection in the middle of the NTLM handshake")
                        .evidence("the 401 carrying the NTLM CHALLENGE came with `Connection: close`: the AUTHENTICATE must go on a new connection, which the server cannot tie to the challenge")
                        .confidence(0.85),
                );
        }
        return;
    }
    let first = legs[0].connection;
    if let Some(moved) = legs.iter().find(|e| e.connection != first) {
        out.push(
            Finding::new(FindingId::NTLM_CONNECTION_RESET)
                .title("the NTLM handshake was split over two connections")
                .evidence(format!("leg 1 on connection {first}, a later leg on connection {}", moved.connection))
                .evidence("NTLM authenticates a TCP connection; a load balancer, proxy or keep-alive timeout that changes it breaks the handshake")
                .confidence(0.85),
        );
    }
    if legs
        .iter()
        .any(|e| e.response.as_ref().is_some_and(|r| r.version.contains('2')))
    {
        out.push(
            Finding::new(FindingId::NTLM_CONNECTION_RESET)
                .title("NTLM over HTTP/2: the handshake cannot be tied to one connection")
                .evidence(
                    "the server answered the NTLM legs over HTTP/2, where requests are multiplexed",
                )
                .confidence(0.7),
        );
    }
}

/// What the KDC refused, from its KRB-ERROR (the normal "pre-authentication required" step aside),
/// or that no KDC answered at all.
fn kdc_refused(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    if let Some((k, why)) = ev
        .kdc
        .iter()
        .find_map(|k| Some((k, k.unanswered.as_deref()?)))
    {
        let realm = ev
            .given
            .user
            .as_deref()
            .and_then(|u| u.rsplit_once('@'))
            .map(|(_, r)| r);
        out.push(
            Finding::new(FindingId::KERBEROS_KDC_UNREACHABLE)
                .title(format!(
                    "the KDC{} did not answer, so Kerberos never started",
                    realm.map(|r| format!(" for {r}")).unwrap_or_default()
                ))
                .evidence(format!("{} to {}: no reply: {why}", k.request, k.kdc))
                .evidence(match ev.negotiate.as_ref().map(|n| n.mechanism.as_str()) {
                    Some("ntlm") => {
                        "Negotiate then fell back to NTLM, which this server's answer refused"
                            .to_string()
                    }
                    _ => "no ticket could be asked for".to_string(),
                })
                .confidence(0.95),
        );
        return;
    }
    let Some(k) = ev.kdc.iter().rev().find(|k| k.failed()) else {
        return;
    };
    let code = k.error_code.unwrap_or_default();
    let name = catalogue()
        .code_by_value(CodeKind::Kerberos, u64::from(code))
        .map(|c| c.title.clone())
        .unwrap_or_else(|| format!("Kerberos error {code}"));
    let user = ev.given.user.clone().unwrap_or_default();
    let (id, title) = match code {
        24 => (
            FindingId::KERBEROS_PREAUTH_FAILED,
            format!("the KDC refused {user}'s password (pre-authentication failed)"),
        ),
        6 => (
            FindingId::KERBEROS_CLIENT_UNKNOWN,
            format!("the KDC does not know {user}"),
        ),
        7 => (
            FindingId::KERBEROS_SPN_UNKNOWN,
            format!(
                "the KDC has no principal {}",
                k.principal.as_deref().unwrap_or("for the SPN")
            ),
        ),
        _ => (
            FindingId::KERBEROS_ERROR,
            format!("the KDC refused with Kerberos error {code}: {name}"),
        ),
    };
    let mut f = Finding::new(id).title(title).confidence(0.9);
    f = f.evidence(format!(
        "{} → {} {code} ({name}) from {}",
        k.request, k.reply, k.kdc
    ));
    if let Some(p) = &k.principal {
        f = f.evidence(format!("about: {p}"));
    }
    if let Some(t) = &k.e_text {
        f = f.evidence(format!("the KDC's words: {t}"));
    }
    if let Some(t) = &k.server_time {
        f = f.evidence(format!("the KDC's clock: {t}"));
    }
    out.push(f);
}
