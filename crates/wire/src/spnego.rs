//! Negotiate tokens (RFC 4559): SPNEGO (RFC 4178) wrapping Kerberos (RFC 4120/4121) or NTLM.
//!
//! The SPNEGO and Kerberos structures are decoded with `picky-krb`. The GSS-API framing
//! (`[APPLICATION 0]`, mechanism OID, token id) is read here: picky's own `ApplicationTag0`
//! deserializer unwraps on bad input, and this crate never panics on a token.

use serde::Serialize;

use picky_asn1::wrapper::{ExplicitContextTag0, ObjectIdentifierAsn1};
use picky_krb::gss_api::{NegTokenInit, NegTokenTarg1};
use picky_krb::messages::{ApReq, KrbError};

use crate::ntlm;

const OID_SPNEGO: &str = "1.3.6.1.5.5.2";
const OID_KRB5: &str = "1.2.840.113554.1.2.2";
const OID_MS_KRB5: &str = "1.2.840.48018.1.2.2";
const OID_NTLMSSP: &str = "1.3.6.1.4.1.311.2.2.10";
const OID_NEGOEX: &str = "1.3.6.1.4.1.311.2.2.30";
const OID_IAKERB: &str = "1.3.6.1.5.2.5";
const OID_KRB5_USER2USER: &str = "1.2.840.113554.1.2.2.3";

/// A security mechanism named in a SPNEGO token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mech {
    /// Kerberos V5 (RFC 4121), OID 1.2.840.113554.1.2.2.
    Kerberos,
    /// Microsoft's historical Kerberos OID (1.2.840.48018.1.2.2), which Windows lists first.
    MsKerberos,
    /// NTLM (MS-NLMP) inside Negotiate, OID 1.3.6.1.4.1.311.2.2.10.
    Ntlmssp,
    /// NEGOEX (MS-NEGOEX), Microsoft's extended negotiation (PKU2U, cloud Kerberos), OID
    /// 1.3.6.1.4.1.311.2.2.30.
    NegoEx,
    /// IAKerb: Kerberos relayed through the acceptor when the client cannot reach a KDC, OID
    /// 1.3.6.1.5.2.5.
    Iakerb,
    /// Kerberos user-to-user: the ticket is encrypted in the service's TGT session key instead of
    /// its long-term key, OID 1.2.840.113554.1.2.2.3.
    KerberosUserToUser,
    /// Any other mechanism, by its dotted OID.
    Other(String),
}

impl Mech {
    fn from_oid(oid: &str) -> Mech {
        match oid {
            OID_KRB5 => Mech::Kerberos,
            OID_MS_KRB5 => Mech::MsKerberos,
            OID_NTLMSSP => Mech::Ntlmssp,
            OID_NEGOEX => Mech::NegoEx,
            OID_IAKERB => Mech::Iakerb,
            OID_KRB5_USER2USER => Mech::KerberosUserToUser,
            other => Mech::Other(other.to_string()),
        }
    }

    /// A readable name.
    pub fn name(&self) -> String {
        match self {
            Mech::Kerberos => "Kerberos (1.2.840.113554.1.2.2)".into(),
            Mech::MsKerberos => "MS-Kerberos (1.2.840.48018.1.2.2)".into(),
            Mech::Ntlmssp => "NTLMSSP (1.3.6.1.4.1.311.2.2.10)".into(),
            Mech::NegoEx => "NegoEx (1.3.6.1.4.1.311.2.2.30)".into(),
            Mech::Iakerb => "IAKerb (1.3.6.1.5.2.5)".into(),
            Mech::KerberosUserToUser => "Kerberos user-to-user (1.2.840.113554.1.2.2.3)".into(),
            Mech::Other(oid) => oid.clone(),
        }
    }

    /// Whether this is a Kerberos mechanism.
    pub fn is_kerberos(&self) -> bool {
        matches!(
            self,
            Mech::Kerberos | Mech::MsKerberos | Mech::Iakerb | Mech::KerberosUserToUser
        )
    }
}

/// SPNEGO `negState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NegState {
    /// `accept-completed` (0): the acceptor authenticated the client; no further leg.
    AcceptCompleted,
    /// `accept-incomplete` (1): another leg is needed.
    AcceptIncomplete,
    /// `reject` (2): the acceptor refused the authentication.
    Reject,
    /// `request-mic` (3): the acceptor wants the client's `mechListMIC` (first reply only).
    RequestMic,
    /// A value RFC 4178 §4.2.2 does not define (0xff for an empty ENUMERATED); carries it.
    Unknown(u8),
}

/// The Kerberos AP-REQ a client sent: which service ticket it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApReqInfo {
    /// The ticket's realm (`CORP.EXAMPLE`).
    pub realm: String,
    /// The service principal name the ticket is for (`HTTP/web.corp.example`).
    pub spn: String,
    /// The ticket's encryption type number and name.
    pub ticket_etype: i64,
    /// The RFC 3961 name of `ticket_etype`, e.g. `aes256-cts-hmac-sha1-96`; `unknown` otherwise.
    pub ticket_etype_name: &'static str,
    /// The key version number the ticket is encrypted under (`kvno`); a mismatch with the
    /// service's keytab is a classic failure. Absent when the ticket omits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kvno: Option<i64>,
}

/// A KRB-ERROR: the acceptor or KDC refused, with a code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KrbErrorInfo {
    /// The RFC 4120 §7.5.9 error code; what it means is the catalogue's to say.
    pub code: u32,
    /// The realm of the service that sent the error (`realm`, RFC 4120 §5.9.1).
    pub realm: String,
    /// The service principal that sent the error (`sname`), components joined with `/`.
    pub spn: String,
    /// The server's clock (`stime`), as `YYYYMMDDhhmmssZ`.
    pub server_time: String,
    /// The server's free text about the error (`e-text`), when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e_text: Option<String>,
}

/// What a mechanism token inside Negotiate turned out to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MechToken {
    /// An NTLM message (MS-NLMP) riding inside Negotiate.
    Ntlm {
        /// The NEGOTIATE, CHALLENGE or AUTHENTICATE message.
        message: ntlm::Message,
    },
    /// A Kerberos AP-REQ (token id `01 00`): the client presents a service ticket.
    KerberosApReq {
        /// What the ticket says: realm, SPN, encryption type, key version.
        ap_req: ApReqInfo,
    },
    /// A Kerberos AP-REP (token id `02 00`): the service accepted the ticket and proved itself;
    /// its content is encrypted and not read.
    KerberosApRep,
    /// A KRB-ERROR (token id `03 00`): the service refused.
    KerberosError {
        /// The error code, the refusing principal and the server's clock.
        error: KrbErrorInfo,
    },
    /// A token that could not be read, kept by size and reason.
    Undecoded {
        /// The token's length in bytes.
        len: usize,
        /// Why it could not be read: the decoder's error or the unsupported mechanism.
        reason: String,
    },
}

/// A decoded Negotiate token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "form", rename_all = "kebab-case")]
pub enum NegotiateToken {
    /// SPNEGO NegTokenInit: the client lists mechanisms and sends an optimistic token.
    Init {
        /// `mechTypes`: the mechanisms the client offers, most preferred first.
        mech_types: Vec<Mech>,
        /// `mechToken`: the optimistic token for the first mechanism, when sent.
        #[serde(skip_serializing_if = "Option::is_none")]
        mech_token: Option<MechToken>,
        /// Whether a `mechListMIC` is present: the checksum over the mechanism list that guards
        /// against a downgrade (RFC 4178 §5).
        mic: bool,
        /// The `mechListMIC` bytes (for NTLM an NTLMSSP_MESSAGE_SIGNATURE), for checks.
        #[serde(skip)]
        mech_list_mic: Option<Vec<u8>>,
    },
    /// SPNEGO NegTokenResp (NegTokenTarg): the next leg, either way.
    Response {
        /// `negState`; the RFC lets it be absent after the first reply (RFC 4178 §4.2.2).
        #[serde(skip_serializing_if = "Option::is_none")]
        state: Option<NegState>,
        /// `supportedMech`: the mechanism the acceptor chose (first reply only).
        #[serde(skip_serializing_if = "Option::is_none")]
        supported_mech: Option<Mech>,
        /// `responseToken`: the chosen mechanism's token for this leg.
        #[serde(skip_serializing_if = "Option::is_none")]
        response_token: Option<MechToken>,
        /// Whether a `mechListMIC` is present.
        mic: bool,
        /// The `mechListMIC` bytes (for NTLM an NTLMSSP_MESSAGE_SIGNATURE), for checks.
        #[serde(skip)]
        mech_list_mic: Option<Vec<u8>>,
    },
    /// A bare mechanism token with no SPNEGO wrapper (raw NTLMSSP or a raw Kerberos GSS token).
    Raw {
        /// The NTLMSSP message or Kerberos token, decoded as far as it goes.
        token: MechToken,
    },
}

impl NegotiateToken {
    /// The mechanism token carried, if any.
    pub fn mech_token(&self) -> Option<&MechToken> {
        match self {
            NegotiateToken::Init { mech_token, .. } => mech_token.as_ref(),
            NegotiateToken::Response { response_token, .. } => response_token.as_ref(),
            NegotiateToken::Raw { token } => Some(token),
        }
    }

    /// The NTLM message inside, if NTLM is what travels.
    pub fn ntlm(&self) -> Option<&ntlm::Message> {
        match self.mech_token()? {
            MechToken::Ntlm { message } => Some(message),
            _ => None,
        }
    }

    /// Whether this client token shows Kerberos was not used: NTLM rides inside Negotiate.
    pub fn is_ntlm_fallback(&self) -> bool {
        matches!(
            self.ntlm(),
            Some(ntlm::Message::Negotiate(_) | ntlm::Message::Authenticate(_))
        )
    }
}

/// Why bytes are not a readable Negotiate token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpnegoError {
    /// No bytes at all.
    #[error("empty token")]
    Empty,
    /// A first byte that starts none of GSS-API framing (0x60), NegTokenInit (0xa0),
    /// NegTokenResp (0xa1) or NTLMSSP; carries it.
    #[error("not a SPNEGO, Kerberos or NTLM token (first byte 0x{0:02x})")]
    Unrecognized(u8),
    /// The DER framing read here is broken; says how (`truncated length`, `bad OID`…).
    #[error("malformed DER: {0}")]
    Der(&'static str),
    /// A GSS-API initial token for a mechanism other than SPNEGO or Kerberos; carries its OID.
    #[error("unexpected GSS-API mechanism {0}")]
    UnknownMechanism(String),
    /// picky-krb could not decode a structure (or panicked on it, contained).
    #[error("could not decode the {what}: {detail}")]
    Decode {
        /// The structure: `NegTokenInit`, `NegTokenResp`, `AP-REQ` or `KRB-ERROR`.
        what: &'static str,
        /// picky's message, or `malformed ASN.1` for a contained panic.
        detail: String,
    },
}

/// Decodes a Negotiate token (the bytes after base64).
pub fn decode(bytes: &[u8]) -> Result<NegotiateToken, SpnegoError> {
    let first = *bytes.first().ok_or(SpnegoError::Empty)?;
    if ntlm::is_ntlm(bytes) {
        return Ok(NegotiateToken::Raw {
            token: mech_token(bytes),
        });
    }
    match first {
        0x60 => {
            let (oid, inner) = gss_frame(bytes)?;
            match oid.as_str() {
                OID_SPNEGO => decode_init(inner),
                OID_KRB5 | OID_MS_KRB5 => Ok(NegotiateToken::Raw {
                    token: mech_token(bytes),
                }),
                other => Err(SpnegoError::UnknownMechanism(other.to_string())),
            }
        }
        0xa0 => decode_init(bytes),
        0xa1 => decode_response(bytes),
        b => Err(SpnegoError::Unrecognized(b)),
    }
}

fn decode_init(bytes: &[u8]) -> Result<NegotiateToken, SpnegoError> {
    let init: ExplicitContextTag0<NegTokenInit> = der("NegTokenInit", bytes)?;
    let init = init.0;
    let mech_types = init
        .mech_types
        .0
        .map(|m| {
            m.0.0
                .iter()
                .map(|o| Mech::from_oid(&oid_string(o)))
                .collect()
        })
        .unwrap_or_default();
    let mech_token = init.mech_token.0.map(|t| mech_token(&t.0.0));
    Ok(NegotiateToken::Init {
        mech_types,
        mech_token,
        mic: init.mech_list_mic.0.is_some(),
        mech_list_mic: init.mech_list_mic.0.map(|m| m.0.0),
    })
}

fn decode_response(bytes: &[u8]) -> Result<NegotiateToken, SpnegoError> {
    let resp: NegTokenTarg1 = der("NegTokenResp", bytes)?;
    let resp = resp.0;
    let state = resp.neg_result.0.map(|r| {
        // ENUMERATED: 0a 01 NN.
        match r.0.0.last().copied() {
            Some(0) => NegState::AcceptCompleted,
            Some(1) => NegState::AcceptIncomplete,
            Some(2) => NegState::Reject,
            Some(3) => NegState::RequestMic,
            other => NegState::Unknown(other.unwrap_or(0xff)),
        }
    });
    Ok(NegotiateToken::Response {
        state,
        supported_mech: resp
            .supported_mech
            .0
            .map(|m| Mech::from_oid(&oid_string(&m.0))),
        response_token: resp.response_token.0.map(|t| mech_token(&t.0.0)),
        mic: resp.mech_list_mic.0.is_some(),
        mech_list_mic: resp.mech_list_mic.0.map(|m| m.0.0),
    })
}

/// The raw `mechToken` of a NegTokenInit (GSS-framed or bare), for a mechanism to read itself.
pub fn mech_token_bytes(bytes: &[u8]) -> Result<Option<Vec<u8>>, SpnegoError> {
    let inner = match bytes.first() {
        Some(0x60) => match gss_frame(bytes)? {
            (oid, inner) if oid == OID_SPNEGO => inner,
            (oid, _) => return Err(SpnegoError::UnknownMechanism(oid)),
        },
        Some(_) => bytes,
        None => return Err(SpnegoError::Empty),
    };
    let init: ExplicitContextTag0<NegTokenInit> = der("NegTokenInit", inner)?;
    Ok(init.0.mech_token.0.map(|t| t.0.0))
}

/// The raw `responseToken` of a NegTokenResp, or the token itself when the server sent a bare
/// Kerberos GSS token (`60 …`) without SPNEGO.
pub fn response_token_bytes(bytes: &[u8]) -> Result<Option<Vec<u8>>, SpnegoError> {
    match bytes.first() {
        Some(0x60) => Ok(Some(bytes.to_vec())),
        Some(0xa1) => {
            let resp: NegTokenTarg1 = der("NegTokenResp", bytes)?;
            Ok(resp.0.response_token.0.map(|t| t.0.0))
        }
        Some(&b) => Err(SpnegoError::Unrecognized(b)),
        None => Err(SpnegoError::Empty),
    }
}

/// The Kerberos message inside a GSS-API Kerberos token (RFC 4121 §4.1): checks the mechanism
/// OID and the two-byte token id (`01 00` AP-REQ, `02 00` AP-REP, `03 00` KRB-ERROR).
pub fn krb5_inner(bytes: &[u8], tok_id: [u8; 2]) -> Result<&[u8], SpnegoError> {
    let (oid, inner) = gss_frame(bytes)?;
    if oid != OID_KRB5 && oid != OID_MS_KRB5 {
        return Err(SpnegoError::UnknownMechanism(oid));
    }
    match inner {
        [a, b, rest @ ..] if [*a, *b] == tok_id => Ok(rest),
        _ => Err(SpnegoError::Der("unexpected Kerberos token id")),
    }
}

/// Decodes a mechanism token: NTLMSSP, or a Kerberos GSS token (AP-REQ, AP-REP, KRB-ERROR).
fn mech_token(bytes: &[u8]) -> MechToken {
    if ntlm::is_ntlm(bytes) {
        return match ntlm::decode(bytes) {
            Ok(message) => MechToken::Ntlm { message },
            Err(e) => MechToken::Undecoded {
                len: bytes.len(),
                reason: e.to_string(),
            },
        };
    }
    let undecoded = |reason: String| MechToken::Undecoded {
        len: bytes.len(),
        reason,
    };
    let (oid, inner) = match gss_frame(bytes) {
        Ok(f) => f,
        Err(e) => return undecoded(e.to_string()),
    };
    if oid != OID_KRB5 && oid != OID_MS_KRB5 {
        return undecoded(format!("mechanism {oid}"));
    }
    let (tok_id, msg) = match inner {
        [a, b, rest @ ..] => ([*a, *b], rest),
        _ => return undecoded("no Kerberos token id".into()),
    };
    match tok_id {
        [0x01, 0x00] => match der::<ApReq>("AP-REQ", msg) {
            Ok(ap) => MechToken::KerberosApReq {
                ap_req: ap_req_info(&ap),
            },
            Err(e) => undecoded(e.to_string()),
        },
        [0x02, 0x00] => MechToken::KerberosApRep,
        [0x03, 0x00] => match der::<KrbError>("KRB-ERROR", msg) {
            Ok(err) => MechToken::KerberosError {
                error: krb_error_info(&err),
            },
            Err(e) => undecoded(e.to_string()),
        },
        other => undecoded(format!(
            "Kerberos token id {:02x}{:02x}",
            other[0], other[1]
        )),
    }
}

fn ap_req_info(ap: &ApReq) -> ApReqInfo {
    let ticket = &ap.0.ticket.0.0;
    let (etype, kvno) = ticket_enc(ticket);
    ApReqInfo {
        realm: kstring(ticket.realm.0.as_bytes()),
        spn: principal(&ticket.sname.0),
        ticket_etype: etype,
        ticket_etype_name: etype_name(etype),
        kvno,
    }
}

/// A ticket's encryption type and key version, from its clear part.
fn ticket_enc(ticket: &picky_krb::data_types::TicketInner) -> (i64, Option<i64>) {
    let enc = &ticket.enc_part.0;
    (
        int(&enc.etype.0.0),
        enc.kvno.0.as_ref().map(|k| int(&k.0.0)),
    )
}

/// A KRB-ERROR as a KDC sends it (RFC 4120 §5.9.1, `[APPLICATION 30]`, no GSS framing).
pub fn decode_krb_error(bytes: &[u8]) -> Result<KrbErrorInfo, SpnegoError> {
    let e: KrbError = der("KRB-ERROR", bytes)?;
    Ok(krb_error_info(&e))
}

fn krb_error_info(e: &KrbError) -> KrbErrorInfo {
    let e = &e.0;
    let t = &e.stime.0.0;
    KrbErrorInfo {
        code: e.error_code.0,
        realm: kstring(e.realm.0.as_bytes()),
        spn: principal(&e.sname.0),
        server_time: format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}Z",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        e_text: e.e_text.0.as_ref().map(|t| kstring(t.0.as_bytes())),
    }
}

fn principal(p: &picky_krb::data_types::PrincipalName) -> String {
    p.name_string
        .0
        .0
        .iter()
        .map(|s| kstring(s.as_bytes()))
        .collect::<Vec<_>>()
        .join("/")
}

fn kstring(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

pub(crate) fn int(bytes: &[u8]) -> i64 {
    // DER INTEGER, big-endian two's complement; at most 8 bytes are meaningful here.
    let neg = bytes.first().is_some_and(|b| b & 0x80 != 0);
    bytes
        .iter()
        .rev()
        .take(8)
        .rev()
        .fold(if neg { -1i64 } else { 0 }, |acc, &b| (acc << 8) | b as i64)
}

fn oid_string(o: &ObjectIdentifierAsn1) -> String {
    (&o.0).into()
}

/// What a Kerberos `Ticket` says in clear (RFC 4120 §5.3): the encryption type and the key
/// version of the service key it is encrypted under. The encrypted part is never opened.
pub fn ticket_key(bytes: &[u8]) -> Result<(i64, Option<i64>), SpnegoError> {
    let t: picky_krb::data_types::Ticket = der("Ticket", bytes)?;
    Ok(ticket_enc(&t.0))
}

pub(crate) fn der<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, SpnegoError> {
    // picky's deserializers are written for well-formed input; contain any panic they raise
    // on a hostile token so that decoding stays total.
    match std::panic::catch_unwind(|| picky_asn1_der::from_bytes::<T>(bytes)) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(SpnegoError::Decode {
            what,
            detail: e.to_string(),
        }),
        Err(_) => Err(SpnegoError::Decode {
            what,
            detail: "malformed ASN.1".into(),
        }),
    }
}

/// Reads `[APPLICATION 0] { OID, inner... }` and returns the OID and the bytes after it.
fn gss_frame(bytes: &[u8]) -> Result<(String, &[u8]), SpnegoError> {
    let (tag, body, _) = tlv(bytes)?;
    if tag != 0x60 {
        return Err(SpnegoError::Der("not a GSS-API initial context token"));
    }
    let (tag, oid_bytes, rest) = tlv(body)?;
    if tag != 0x06 {
        return Err(SpnegoError::Der("no mechanism OID"));
    }
    let oid = oid_from_der(oid_bytes).ok_or(SpnegoError::Der("bad OID"))?;
    Ok((oid, rest))
}

/// One DER TLV: (tag, contents, rest).
fn tlv(b: &[u8]) -> Result<(u8, &[u8], &[u8]), SpnegoError> {
    let (&tag, rest) = b.split_first().ok_or(SpnegoError::Der("truncated tag"))?;
    let (&l0, rest) = rest
        .split_first()
        .ok_or(SpnegoError::Der("truncated length"))?;
    let (len, rest) = if l0 < 0x80 {
        (l0 as usize, rest)
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return Err(SpnegoError::Der("bad length"));
        }
        (
            rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | b as usize),
            &rest[n..],
        )
    };
    if rest.len() < len {
        return Err(SpnegoError::Der("truncated contents"));
    }
    Ok((tag, &rest[..len], &rest[len..]))
}

fn oid_from_der(b: &[u8]) -> Option<String> {
    let (&first, rest) = b.split_first()?;
    let mut parts = vec![(first / 40) as u64, (first % 40) as u64];
    let mut acc: u64 = 0;
    for &byte in rest {
        acc = acc.checked_mul(128)? | (byte & 0x7f) as u64;
        if byte & 0x80 == 0 {
            parts.push(acc);
            acc = 0;
        }
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// RFC 3961/3962/8009 encryption type names.
pub fn etype_name(etype: i64) -> &'static str {
    match etype {
        1 => "des-cbc-crc",
        3 => "des-cbc-md5",
        17 => "aes128-cts-hmac-sha1-96",
        18 => "aes256-cts-hmac-sha1-96",
        19 => "aes128-cts-hmac-sha256-128",
        20 => "aes256-cts-hmac-sha384-192",
        23 => "rc4-hmac",
        24 => "rc4-hmac-exp",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Wraps `inner` in DER `tag len`.
    fn wrap(tag: u8, inner: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if inner.len() < 128 {
            v.push(inner.len() as u8);
        } else {
            v.extend_from_slice(&[0x82, (inner.len() >> 8) as u8, inner.len() as u8]);
        }
        v.extend_from_slice(inner);
        v
    }

    const SPNEGO_OID: &[u8] = &[0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];
    const NTLM_OID: &[u8] = &[
        0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a,
    ];
    const KRB_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];
    const MS_KRB_OID: &[u8] = &[
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x82, 0xf7, 0x12, 0x01, 0x02, 0x02,
    ];

    /// A NegTokenInit as Windows sends it when it has no Kerberos ticket: NTLMSSP only, with
    /// an NTLM NEGOTIATE as the optimistic token.
    fn init_with_ntlm() -> Vec<u8> {
        let mech_list = wrap(0xa0, &wrap(0x30, NTLM_OID));
        let token = wrap(0xa2, &wrap(0x04, &ntlm::encode_negotiate(0xe2088297)));
        let seq = wrap(0x30, &[mech_list, token].concat());
        wrap(0x60, &[SPNEGO_OID.to_vec(), wrap(0xa0, &seq)].concat())
    }

    #[test]
    fn negtokeninit_carrying_ntlm_is_a_fallback() {
        let t = decode(&init_with_ntlm()).unwrap();
        let NegotiateToken::Init { mech_types, .. } = &t else {
            panic!("{t:?}")
        };
        assert_eq!(mech_types, &[Mech::Ntlmssp]);
        assert!(t.is_ntlm_fallback());
    }

    #[test]
    fn oids_decode() {
        assert_eq!(oid_from_der(&MS_KRB_OID[2..]).as_deref(), Some(OID_MS_KRB5));
        assert_eq!(oid_from_der(&KRB_OID[2..]).as_deref(), Some(OID_KRB5));
        assert_eq!(oid_from_der(&NTLM_OID[2..]).as_deref(), Some(OID_NTLMSSP));
    }

    #[test]
    fn negtokenresp_states() {
        // accept-incomplete, NTLMSSP, an NTLM CHALLENGE as the response token.
        let ch = ntlm::encode_challenge(0xe2898215, "CORP", [9; 8], &[]);
        let body = [
            wrap(0xa0, &[0x0a, 0x01, 0x01]),
            wrap(0xa1, NTLM_OID),
            wrap(0xa2, &wrap(0x04, &ch)),
        ]
        .concat();
        let t = decode(&wrap(0xa1, &wrap(0x30, &body))).unwrap();
        let NegotiateToken::Response {
            state,
            supported_mech,
            ..
        } = &t
        else {
            panic!("{t:?}")
        };
        assert_eq!(*state, Some(NegState::AcceptIncomplete));
        assert_eq!(supported_mech.as_ref(), Some(&Mech::Ntlmssp));
        assert!(matches!(t.ntlm(), Some(ntlm::Message::Challenge(_))));
        assert!(!t.is_ntlm_fallback());
        // accept-completed with nothing else.
        let t = decode(&wrap(0xa1, &wrap(0x30, &wrap(0xa0, &[0x0a, 0x01, 0x00])))).unwrap();
        assert!(matches!(
            t,
            NegotiateToken::Response {
                state: Some(NegState::AcceptCompleted),
                ..
            }
        ));
    }

    #[test]
    fn raw_ntlm_inside_negotiate() {
        let t = decode(&ntlm::encode_negotiate(0x207)).unwrap();
        assert!(t.is_ntlm_fallback());
    }

    /// A KRB-ERROR (RFC 4120 §5.9.1) with `code` inside a Kerberos GSS token, as an acceptor
    /// sends it back in a Negotiate response.
    fn krb_error_token(code: u8) -> Vec<u8> {
        let int = |v: u8| wrap(0x02, &[v]);
        let general = |s: &str| wrap(0x1b, s.as_bytes());
        let sname = wrap(
            0x30,
            &[
                wrap(0xa0, &int(2)),
                wrap(
                    0xa1,
                    &wrap(
                        0x30,
                        &[general("HTTP"), general("web.corp.example")].concat(),
                    ),
                ),
            ]
            .concat(),
        );
        let body = [
            wrap(0xa0, &int(5)),
            wrap(0xa1, &int(30)),
            wrap(0xa4, &wrap(0x18, b"20240101120000Z")),
            wrap(0xa5, &int(0)),
            wrap(0xa6, &int(code)),
            wrap(0xa9, &general("CORP.EXAMPLE")),
            wrap(0xaa, &sname),
        ]
        .concat();
        let error = wrap(0x7e, &wrap(0x30, &body));
        wrap(0x60, &[KRB_OID.to_vec(), vec![0x03, 0x00], error].concat())
    }

    #[test]
    fn a_krb_error_keeps_its_code_and_where_it_came_from() {
        let MechToken::KerberosError { error } = mech_token(&krb_error_token(24)) else {
            panic!("not a KRB-ERROR")
        };
        assert_eq!(
            error,
            KrbErrorInfo {
                code: 24,
                realm: "CORP.EXAMPLE".into(),
                spn: "HTTP/web.corp.example".into(),
                server_time: "20240101120000Z".into(),
                e_text: None,
            }
        );
    }

    #[test]
    fn errors() {
        assert_eq!(decode(&[]), Err(SpnegoError::Empty));
        assert_eq!(decode(&[0x42]), Err(SpnegoError::Unrecognized(0x42)));
        let full = init_with_ntlm();
        for n in 0..full.len() {
            assert!(decode(&full[..n]).is_err(), "prefix of {n} bytes");
        }
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = decode(&bytes);
        }

        #[test]
        fn never_panics_on_framed_noise(first in prop::sample::select(vec![0x60u8, 0xa0, 0xa1]), body in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = decode(&wrap(first, &body));
            let _ = decode(&wrap(0x60, &[SPNEGO_OID.to_vec(), wrap(0xa0, &body)].concat()));
            let _ = decode(&wrap(0x60, &[KRB_OID.to_vec(), vec![1, 0], body.clone()].concat()));
            let _ = decode(&wrap(0x60, &[KRB_OID.to_vec(), vec![3, 0], body].concat()));
        }

        #[test]
        fn mutated_init_never_panics(i in 0usize..64, b in any::<u8>()) {
            let mut t = init_with_ntlm();
            let i = i % t.len();
            t[i] = b;
            let _ = decode(&t);
        }
    }
}
