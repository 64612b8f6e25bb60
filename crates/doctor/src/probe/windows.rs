//! NTLM and Negotiate: Kerberos that fell back to NTLM, handshakes split over connections.

use why401_catalogue::{CodeKind, catalogue};

use crate::{Finding, FindingId, Severity};
use why401_evidence::{Leg, ProbeEvidence};

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    ticket_cache(ev, out);
    kdc_refused(ev, out);
    ticket_rejected(ev, out);
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
        .filter(|k| !k.comparison)
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
        // No KDC was even found for the realm: nothing could be asked.
        if let Some(n) = &ev.negotiate
            && let Some(why) = &n.kdc_not_found
            && ev.kdc.iter().all(|k| k.comparison)
        {
            out.push(
                Finding::new(FindingId::KERBEROS_KDC_UNREACHABLE)
                    .title("no KDC was found for the realm, so Kerberos never started")
                    .evidence(why.clone())
                    .evidence(match n.mechanism.as_str() {
                        "ntlm" => "Negotiate then fell back to NTLM",
                        _ => "no Kerberos ticket could be asked for",
                    })
                    .fix_first("name the KDC: --kdc HOST[:PORT], a [realms] entry in krb5.conf, or the DNS SRV record _kerberos._tcp.REALM (Active Directory publishes it)")
                    .confidence(0.95),
            );
        }
        return;
    };
    let code = k.error_code.unwrap_or_default();
    let name = catalogue()
        .code_by_value(CodeKind::Kerberos, u64::from(code))
        .map(|c| c.title.clone())
        .unwrap_or_else(|| format!("Kerberos error {code}"));
    let user = ev
        .given
        .user
        .clone()
        .or_else(|| {
            ev.negotiate
                .as_ref()
                .and_then(|n| n.ticket_cache.as_ref())
                .map(|c| c.principal.clone())
        })
        .unwrap_or_default();
    let asked = k.principal.clone().unwrap_or_else(|| "the SPN".into());
    let (id, title) = match code {
        24 => (
            FindingId::KERBEROS_PREAUTH_FAILED,
            format!("the KDC refused {user}'s password (pre-authentication failed)"),
        ),
        6 => (
            FindingId::KERBEROS_CLIENT_UNKNOWN,
            format!("the KDC does not know {user}"),
        ),
        7 => {
            if let Some(f) = spn_alias(ev, k) {
                out.push(f);
                return;
            }
            (
                FindingId::KERBEROS_SPN_UNKNOWN,
                format!("the KDC has no principal {asked}"),
            )
        }
        8 => (
            FindingId::KERBEROS_DUPLICATE_SPN,
            format!("more than one account holds {asked}"),
        ),
        14 => (
            FindingId::KERBEROS_ETYPE_UNSUPPORTED,
            format!(
                "the KDC has no key for {} of an encryption type the client offered",
                k.service.as_deref().unwrap_or(&asked)
            ),
        ),
        32 => (
            FindingId::KERBEROS_TICKET_EXPIRED,
            format!(
                "the KDC says the ticket presented for {} has expired",
                k.request
            ),
        ),
        37 => (
            FindingId::KERBEROS_CLOCK_SKEW,
            match k.clock_offset_s {
                Some(off) => format!(
                    "this machine's clock and the KDC's differ by {} ({}), more than Kerberos allows",
                    human_offset(off),
                    if off > 0 {
                        "the KDC is ahead"
                    } else {
                        "the KDC is behind"
                    }
                ),
                None => {
                    "the clocks of this machine and the KDC differ more than Kerberos allows".into()
                }
            },
        ),
        _ => (
            FindingId::KERBEROS_ERROR,
            format!("the KDC refused with Kerberos error {code}: {name}"),
        ),
    };
    let mut f = Finding::new(id)
        .title(title)
        .confidence(if code == 37 { 0.96 } else { 0.9 });
    if code == 37 {
        if ev
            .kdc
            .iter()
            .any(|x| x.reply == "AS-REP" || x.reply == "TGS-REP")
        {
            f = f.evidence(
                "the client then retried with the KDC's time (as Windows does) and got tickets dated by the KDC's clock",
            );
        }
        if let Some(e) = server_krb_error(ev) {
            f = f.evidence(format!(
                "the web server, on its own clock, then refused the ticket: KRB-ERROR {}{}",
                e.code,
                if e.code == 33 {
                    " (ticket not yet valid)"
                } else {
                    ""
                }
            ));
        }
    }
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
        f = f.evidence(format!(
            "the KDC's clock: {t}{}",
            k.clock_offset_s
                .map(|o| format!(" (KDC minus this machine: {o:+} s)"))
                .unwrap_or_default()
        ));
    }
    if code == 14 && !k.offered_etypes.is_empty() {
        f = f.evidence(format!(
            "the client offered: {}; the KDC holds none of them for the principal",
            k.offered_etypes.join(", ")
        ));
    }
    if code == 7 {
        f = spn_evidence(ev, f);
    }
    out.push(f);
}

/// `+10 min 3 s`, `-42 s`.
fn human_offset(s: i64) -> String {
    let sign = if s < 0 { "-" } else { "+" };
    let a = s.unsigned_abs();
    match (a / 60, a % 60) {
        (0, sec) => format!("{sign}{sec} s"),
        (m, 0) => format!("{sign}{m} min"),
        (m, sec) => format!("{sign}{m} min {sec} s"),
    }
}

/// What the SPN was built from, and what each client family would ask.
fn spn_evidence(ev: &ProbeEvidence, mut f: Finding) -> Finding {
    let Some(n) = &ev.negotiate else { return f };
    let host = super::reach::host(ev);
    f = f.evidence(format!(
        "SPN asked: {} (rule: {}); URL host: {host}",
        n.spn, n.spn_rule
    ));
    if let Some(dns) = ev.dns.as_ref().filter(|d| !d.cnames.is_empty()) {
        f = f.evidence(format!(
            "CNAME chain: {} → {}",
            dns.host,
            dns.cnames.join(" → ")
        ));
    }
    for c in &n.spn_by_client {
        f = f.evidence(format!(
            "{}: {} ({}){}",
            c.clients,
            c.spn,
            c.rule,
            match c.known_to_kdc {
                Some(true) => ": the KDC issues tickets for it",
                Some(false) => ": unknown to the KDC",
                None => "",
            }
        ));
    }
    f.evidence(
        "Windows clients then fall back to NTLM without a word (or fail where NTLM is disabled)",
    )
}

/// KDC_ERR_S_PRINCIPAL_UNKNOWN for the SPN asked while another way of naming the server has a
/// principal: an alias problem, naming both.
fn spn_alias(ev: &ProbeEvidence, k: &why401_evidence::KdcExchange) -> Option<Finding> {
    let n = ev.negotiate.as_ref()?;
    let other = n
        .spn_by_client
        .iter()
        .find(|c| c.spn != n.spn && c.known_to_kdc == Some(true))?;
    let f = Finding::new(FindingId::KERBEROS_SPN_ALIAS)
        .title(format!(
            "{} is unknown to the KDC, but {} exists: the SPN was built from the wrong name of this server",
            n.spn, other.spn
        ))
        .evidence(format!(
            "{} → {} {} from {}",
            k.request,
            k.reply,
            k.error_code.unwrap_or_default(),
            k.kdc
        ))
        .fix_first(format!(
            "register {} on the account that holds {} (setspn -S {} <account>; on MIT add it to the keytab), or have clients use the name {} is built from",
            n.spn, other.spn, n.spn, other.spn
        ))
        .confidence(0.93);
    Some(spn_evidence(ev, f))
}

/// The KRB-ERROR a server sent inside a Negotiate answer, if any.
fn server_krb_error(ev: &ProbeEvidence) -> Option<why401_wire::spnego::KrbErrorInfo> {
    ev.path()
        .filter_map(|e| e.response.as_ref())
        .flat_map(|r| r.headers_named("www-authenticate"))
        .filter_map(|v| v.strip_prefix("Negotiate "))
        .filter_map(|t| why401_wire::b64::decode_any(t.trim()).ok())
        .filter_map(|(bytes, _)| why401_wire::spnego::decode(&bytes).ok())
        .find_map(|d| match d.mech_token() {
            Some(why401_wire::spnego::MechToken::KerberosError { error }) => Some(error.clone()),
            _ => None,
        })
}

/// `--negotiate` without `-u`: the cache was missing, unreadable, without a TGT, or expired.
fn ticket_cache(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(c) = ev.negotiate.as_ref().and_then(|n| n.ticket_cache.as_ref()) else {
        return;
    };
    let Some(problem) = &c.problem else { return };
    let id = if c.expired {
        FindingId::KERBEROS_TICKET_EXPIRED
    } else {
        FindingId::KERBEROS_NO_TICKET
    };
    let mut f = Finding::new(id)
        .title(if c.expired {
            format!(
                "the Kerberos ticket of {} expired{}",
                c.principal,
                c.tgt_expires
                    .as_ref()
                    .map(|t| format!(" at {t}"))
                    .unwrap_or_default()
            )
        } else {
            "no Kerberos ticket to present: the credential cache has none".to_string()
        })
        .evidence(problem.clone())
        .confidence(0.95);
    if !c.path.is_empty() {
        f = f.evidence(format!("credential cache: {}", c.path));
    }
    out.push(f);
}

/// A service ticket was obtained and presented, and the server still answered 401.
fn ticket_rejected(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(n) = &ev.negotiate else { return };
    if n.mechanism != "kerberos" || ev.final_status() != Some(401) {
        return;
    }
    // The AP-REQ we sent, as the wire decoder reads it (ticket kvno in clear).
    let sent = ev
        .path()
        .filter_map(|e| why401_evidence::header(&e.request.headers, "authorization"))
        .find_map(|a| {
            let token = a.strip_prefix("Negotiate ")?;
            let (bytes, _) = why401_wire::b64::decode_any(token).ok()?;
            match why401_wire::spnego::decode(&bytes).ok()?.mech_token()? {
                why401_wire::spnego::MechToken::KerberosApReq { ap_req } => Some(ap_req.clone()),
                _ => None,
            }
        });
    let kvno = sent
        .as_ref()
        .and_then(|a| a.kvno)
        .or_else(|| n.ticket.as_ref().and_then(|t| t.kvno));
    let spn = sent
        .as_ref()
        .map(|a| format!("{}@{}", a.spn, a.realm))
        .or_else(|| n.ticket.as_ref().map(|t| t.server.clone()))
        .unwrap_or_else(|| n.spn.clone());
    let mut f = Finding::new(FindingId::KERBEROS_TICKET_REJECTED)
        .title(format!(
            "the server refused a valid Kerberos ticket for {spn}{}",
            kvno.map(|k| format!(" (key version {k})")).unwrap_or_default()
        ))
        .evidence(format!(
            "the KDC issued a ticket for {spn}: {}",
            n.ticket
                .as_ref()
                .map(|t| format!("{}, kvno {}, valid until {}", t.etype, t.kvno.map_or("?".into(), |k| k.to_string()), t.end))
                .or_else(|| sent.as_ref().map(|a| format!("{}, kvno {}", a.ticket_etype_name, a.kvno.map_or("?".into(), |k| k.to_string()))))
                .unwrap_or_default()
        ))
        .evidence("the server answered the AP-REQ with 401: it could not decrypt the ticket with the key it holds for the SPN")
        .confidence(0.95);
    if sent.is_none() && n.ticket.is_none() {
        return;
    }
    // A KRB-ERROR the server sent inside its Negotiate answer says exactly why.
    if let Some(error) = server_krb_error(ev) {
        // A ticket "not yet valid" or "skew" is a clock problem, which has its own finding.
        if matches!(error.code, 33 | 37) || ev.kdc.iter().any(|k| k.error_code == Some(37)) {
            return;
        }
        let name = catalogue()
            .code_by_value(CodeKind::Kerberos, u64::from(error.code))
            .map(|c| c.title.clone())
            .unwrap_or_default();
        f = f.evidence(format!("the server's KRB-ERROR: {} {name}", error.code));
    }
    if let Some(v) = &n.server_verify_error {
        f = f.evidence(v.clone());
    }
    out.push(f);
}
