//! NTLM messages and Negotiate (SPNEGO / Kerberos) tokens.

use why401_catalogue::{CodeKind, Severity, catalogue};
use why401_wire::b64;
use why401_wire::ntlm::{self, AvPair, LmKind, Message, ResponseKind};
use why401_wire::spnego::{self, MechToken, NegotiateToken};

use super::{Context, Item, secret};
use crate::time::{relative, timestamp};
use crate::{Finding, FindingId};

/// Whether a Negotiate/NTLM token68 comes from the server (a CHALLENGE or a SPNEGO response).
pub(super) fn is_server_token(token: &str) -> bool {
    let Ok((bytes, _)) = b64::decode_any(token.trim()) else {
        return false;
    };
    if ntlm::is_ntlm(&bytes) {
        return matches!(ntlm::decode(&bytes), Ok(Message::Challenge(_)));
    }
    match spnego::decode(&bytes) {
        Ok(NegotiateToken::Response { response_token, .. }) => !matches!(
            response_token,
            Some(MechToken::Ntlm {
                message: Message::Authenticate(_)
            }) | Some(MechToken::KerberosApReq { .. })
        ),
        _ => false,
    }
}

/// Decodes a base64 NTLM or Negotiate token; `scheme` is the auth scheme it came with, if any.
pub(super) fn negotiate_token(
    token: &str,
    ctx: &Context,
    findings: &mut Vec<Finding>,
    scheme: Option<&str>,
) -> Result<Item, String> {
    let (bytes, _) = b64::decode_any(token.trim()).map_err(|e| format!("not base64: {e}"))?;
    if ntlm::is_ntlm(&bytes) {
        let msg = ntlm::decode(&bytes).map_err(|e| e.to_string())?;
        let item = ntlm_item(&msg, secret(token, ctx), ctx, findings);
        if scheme.is_some_and(|s| s.eq_ignore_ascii_case("Negotiate"))
            && !matches!(msg, Message::Challenge(_))
        {
            fallback(
                &msg,
                findings,
                "raw NTLMSSP inside Negotiate (no SPNEGO wrapper)",
            );
        }
        return Ok(item);
    }
    let tok = spnego::decode(&bytes).map_err(|e| e.to_string())?;
    let mut item = Item::new("SPNEGO token", secret(token, ctx));
    match &tok {
        NegotiateToken::Init {
            mech_types,
            mech_token,
            mic,
            ..
        } => {
            item.noted("form", "NegTokenInit", "the client's opening token");
            item.noted(
                "mechanisms",
                mech_types
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
                "what the client offers, preferred first",
            );
            item.field("mechListMIC", if *mic { "present" } else { "absent" });
            if let Some(t) = mech_token {
                item.children.push(mech_item(t, ctx, findings));
            }
            if (!mech_types.iter().any(|m| m.is_kerberos()) || tok.is_ntlm_fallback())
                && let Some(m) = tok.ntlm()
            {
                fallback(
                    m,
                    findings,
                    &format!(
                        "NegTokenInit offers {}",
                        mech_types
                            .iter()
                            .map(|m| m.name())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
        NegotiateToken::Response {
            state,
            supported_mech,
            response_token,
            mic,
            ..
        } => {
            item.noted("form", "NegTokenResp", "a later leg of the handshake");
            if let Some(s) = state {
                item.noted("negState", format!("{s:?}"), neg_state_note(*s));
                if *s == spnego::NegState::Reject {
                    findings.push(
                        Finding::new(FindingId::CREDENTIALS_REJECTED)
                            .title("the server rejected the Negotiate handshake (negState reject)")
                            .evidence("NegTokenResp negState = reject")
                            .confidence(0.7),
                    );
                }
            }
            if let Some(m) = supported_mech {
                item.field("supportedMech", m.name());
            }
            item.field("mechListMIC", if *mic { "present" } else { "absent" });
            if let Some(t) = response_token {
                item.children.push(mech_item(t, ctx, findings));
            }
            if tok.is_ntlm_fallback()
                && let Some(m) = tok.ntlm()
            {
                fallback(m, findings, "NegTokenResp carries NTLM");
            }
        }
        NegotiateToken::Raw { token: t } => {
            item.what = "Kerberos GSS-API token".into();
            item.children.push(mech_item(t, ctx, findings));
        }
    }
    Ok(item)
}

fn neg_state_note(s: spnego::NegState) -> &'static str {
    match s {
        spnego::NegState::AcceptCompleted => "the server accepted: authentication finished",
        spnego::NegState::AcceptIncomplete => "another leg is needed",
        spnego::NegState::Reject => "the server refused",
        spnego::NegState::RequestMic => "the server wants a mechListMIC",
        spnego::NegState::Unknown(_) => "unknown state",
    }
}

fn mech_item(t: &MechToken, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    match t {
        MechToken::Ntlm { message } => ntlm_item(message, "(inside SPNEGO)".into(), ctx, findings),
        MechToken::KerberosApReq { ap_req } => {
            let mut item = Item::new("Kerberos AP-REQ", "(inside SPNEGO)");
            item.noted("service principal", &ap_req.spn, "the SPN the client got a ticket for; the server's keytab/account must hold its key");
            item.field("realm", &ap_req.realm);
            let weak = matches!(ap_req.ticket_etype, 1 | 3 | 23 | 24);
            item.noted(
                "ticket encryption",
                format!("{} ({})", ap_req.ticket_etype_name, ap_req.ticket_etype),
                if weak {
                    "weak (DES/RC4): disabled on current Windows domains"
                } else {
                    "AES: fine"
                },
            );
            if let Some(k) = ap_req.kvno {
                item.noted(
                    "key version",
                    k.to_string(),
                    "must match the kvno in the server's keytab",
                );
            }
            item
        }
        MechToken::KerberosApRep => {
            let mut item = Item::new("Kerberos AP-REP", "(inside SPNEGO)");
            item.field(
                "meaning",
                "the server proved its identity back: mutual authentication completed",
            );
            item
        }
        MechToken::KerberosError { error } => {
            let mut item = Item::new("Kerberos KRB-ERROR", "(inside SPNEGO)");
            // The wire keeps the number; the catalogue names it.
            let meaning = catalogue().code_by_value(CodeKind::Kerberos, u64::from(error.code));
            let name = meaning.map_or("unknown Kerberos error", |c| c.name.as_str());
            item.noted(
                "error",
                format!("{name} ({})", error.code),
                meaning.map(|c| c.title.clone()).unwrap_or_default(),
            );
            item.field("server principal", &error.spn);
            item.field("realm", &error.realm);
            item.noted("server time", &error.server_time, "the acceptor's clock");
            if let Some(t) = &error.e_text {
                item.field("e-text", t);
            }
            let id = if error.code == 37 {
                FindingId::CLOCK_SKEW
            } else {
                FindingId::KERBEROS_ERROR
            };
            let mut f = Finding::new(id)
                .title(format!(
                    "Kerberos refused: {} — {}",
                    name,
                    meaning
                        .map(|c| c.title.as_str())
                        .unwrap_or("see the error code")
                ))
                .evidence(format!(
                    "KRB-ERROR {} ({}) from {} in {}",
                    name, error.code, error.spn, error.realm
                ))
                .evidence(format!("server time {}", error.server_time))
                .confidence(0.85);
            if let Some(c) = meaning {
                for step in c.fixes.iter().rev() {
                    f = f.fix_first(step.clone());
                }
            }
            findings.push(f);
            item
        }
        MechToken::Undecoded { len, reason } => {
            let mut item = Item::new("mechanism token", format!("{len} bytes"));
            item.noted(
                "not decoded",
                reason,
                "an unusual mechanism or a damaged token",
            );
            item
        }
    }
}

fn ntlm_item(msg: &Message, shown: String, ctx: &Context, findings: &mut Vec<Finding>) -> Item {
    match msg {
        Message::Negotiate(n) => {
            let mut item = Item::new("NTLM NEGOTIATE (type 1)", shown);
            item.noted(
                "meaning",
                "the client opens NTLM",
                "leg 1 of 3, all on one connection",
            );
            item.field("flags", ntlm::flag_names(n.flags).join(" "));
            if let Some(d) = &n.domain {
                item.field("domain", d);
            }
            if let Some(w) = &n.workstation {
                item.field("workstation", w);
            }
            if let Some(v) = n.version {
                item.noted(
                    "version",
                    v.to_string(),
                    windows_name(v.major, v.minor, v.build),
                );
            }
            item
        }
        Message::Challenge(c) => {
            let mut item = Item::new("NTLM CHALLENGE (type 2)", shown);
            item.noted(
                "meaning",
                "the server's challenge",
                "leg 2 of 3; the client must answer on the same connection",
            );
            item.noted(
                "target name",
                &c.target_name,
                "the domain (or server) the user must belong to",
            );
            item.field("server challenge", &c.server_challenge);
            item.field("flags", ntlm::flag_names(c.flags).join(" "));
            for p in &c.target_info {
                av_field(&mut item, p, ctx);
            }
            if let Some(v) = c.version {
                item.noted(
                    "server version",
                    v.to_string(),
                    windows_name(v.major, v.minor, v.build),
                );
            }
            item
        }
        Message::Authenticate(a) => {
            let mut item = Item::new("NTLM AUTHENTICATE (type 3)", shown);
            item.noted("meaning", "the client's answer", "leg 3 of 3");
            item.field("domain", &a.domain);
            item.field("user", &a.user);
            item.field("workstation", &a.workstation);
            let (resp, note) = match a.response {
                ResponseKind::Anonymous => ("anonymous", "no credentials at all"),
                ResponseKind::NtlmV1 => (
                    "NTLMv1",
                    "crackable: should be disabled (LmCompatibilityLevel 5)",
                ),
                ResponseKind::NtlmV1Ess => (
                    "NTLMv1 with extended session security",
                    "still v1 strength: should be disabled",
                ),
                ResponseKind::NtlmV2 => ("NTLMv2", "the current form"),
            };
            item.noted(
                "response",
                format!("{resp} ({} bytes, hash masked)", a.nt_response_len),
                note,
            );
            item.field("LM response", format!("{:?}", a.lm));
            item.noted(
                "MIC",
                if a.mic { "present" } else { "absent" },
                "message integrity code over all three legs",
            );
            if let Some(t) = a.client_timestamp {
                item.noted(
                    "timestamp",
                    format!("{} ({})", timestamp(t), relative(t, ctx.now)),
                    "from the NTLMv2 blob",
                );
            }
            for p in &a.target_info {
                av_field(&mut item, p, ctx);
            }
            if let Some(v) = a.version {
                item.noted(
                    "client version",
                    v.to_string(),
                    windows_name(v.major, v.minor, v.build),
                );
            }
            if a.response == ResponseKind::NtlmV1
                || a.response == ResponseKind::NtlmV1Ess
                || a.lm == LmKind::Lm
            {
                findings.push(
                    Finding::new(FindingId::NTLMV1_IN_USE)
                        .title(format!(
                            "the client answered with {resp}{}",
                            if a.lm == LmKind::Lm {
                                " and an LM response"
                            } else {
                                ""
                            }
                        ))
                        .evidence(format!(
                            "NT response of {} bytes; LM response {:?}",
                            a.nt_response_len, a.lm
                        ))
                        .confidence(0.8),
                );
            }
            item
        }
    }
}

fn av_field(item: &mut Item, p: &AvPair, ctx: &Context) {
    match p {
        AvPair::Timestamp(t) => item.noted(
            p.name(),
            format!(
                "{} ({} by your clock)",
                timestamp(*t),
                relative(*t, ctx.now)
            ),
            "the server's clock when it answered",
        ),
        AvPair::Flags(f) => item.noted(
            p.name(),
            format!("0x{f:08x}"),
            match (f & 0x2 != 0, f & 0x1 != 0) {
                (true, _) => "MIC present",
                (false, true) => "account authentication constrained",
                _ => "",
            },
        ),
        AvPair::TargetName(s) => item.noted(p.name(), s, "the SPN the client targeted"),
        AvPair::ChannelBindings(h) => item.noted(
            p.name(),
            h,
            if h.bytes().all(|b| b == b'0') {
                "no channel binding (Extended Protection would refuse)"
            } else {
                "TLS channel binding present"
            },
        ),
        AvPair::NbComputerName(s)
        | AvPair::NbDomainName(s)
        | AvPair::DnsComputerName(s)
        | AvPair::DnsDomainName(s)
        | AvPair::DnsTreeName(s) => item.field(p.name(), s),
        AvPair::SingleHost(len) => item.field(p.name(), format!("{len} bytes")),
        AvPair::Unknown { id, len } => item.field(format!("AV pair {id}"), format!("{len} bytes")),
    }
}

fn windows_name(major: u8, minor: u8, build: u16) -> String {
    let name = match (major, minor, build) {
        (10, 0, b) if b >= 26100 => "Windows 11 24H2 / Server 2025",
        (10, 0, b) if b >= 22000 => "Windows 11 / Server 2022",
        (10, 0, 20348) => "Windows Server 2022",
        (10, 0, 17763) => "Windows Server 2019 / Windows 10 1809",
        (10, 0, 14393) => "Windows Server 2016 / Windows 10 1607",
        (10, 0, _) => "Windows 10 / Server 2016+",
        (6, 3, _) => "Windows 8.1 / Server 2012 R2",
        (6, 2, _) => "Windows 8 / Server 2012",
        (6, 1, _) => "Windows 7 / Server 2008 R2",
        (6, 0, _) => "Windows Vista / Server 2008",
        (5, 1, _) | (5, 2, _) => "Windows XP / Server 2003",
        _ => "not a known Windows version (Samba or a library)",
    };
    name.to_string()
}

/// Kerberos was not used: NTLM travels inside Negotiate.
fn fallback(msg: &Message, findings: &mut Vec<Finding>, how: &str) {
    let mut f = Finding::new(FindingId::KERBEROS_FALLBACK_TO_NTLM)
        .evidence(format!("{how}: Kerberos was not used"))
        .confidence(0.75)
        .severity(Severity::Warning);
    if let Message::Authenticate(a) = msg {
        match a.target_info.iter().find_map(|p| match p {
            AvPair::TargetName(s) if !s.is_empty() => Some(s.clone()),
            _ => None,
        }) {
            Some(spn) => {
                f = f
                    .title(format!("Kerberos fell back to NTLM: the client found no ticket for {spn}"))
                    .evidence(format!("MsvAvTargetName = {spn}: the SPN the client would have needed"))
                    .fix_first(format!("check the SPN: `setspn -Q {spn}` must list exactly one account (the app pool identity or the computer)"));
            }
            None => {
                f = f.evidence(format!(
                    "user {}\\{} authenticated with NTLM",
                    a.domain, a.user
                ))
            }
        }
    }
    findings.push(f);
}
