//! Kerberos V5 client messages for a probe that already holds a ticket (RFC 4120): the TGS
//! exchange, the AP-REQ inside GSS-API and SPNEGO (RFC 4121 §4.1, RFC 4178), the AP-REP check
//! that is mutual authentication, and the KRB-CRED a delegated TGT travels in. The ASN.1 types
//! and the RFC 3961 ciphers are picky-krb's; what is written here is the protocol logic, because
//! sspi's Kerberos client only starts from a password and MIT's needs the C library. Pure: time,
//! nonces and sequence numbers come in as arguments, so every message is reproducible in a test.

use picky_asn1::bit_string::BitString;
use picky_asn1::date::GeneralizedTime;
use picky_asn1::restricted_string::IA5String;
use picky_asn1::wrapper::{
    Asn1SequenceOf, BitStringAsn1, ExplicitContextTag0, ExplicitContextTag1, ExplicitContextTag2,
    ExplicitContextTag3, ExplicitContextTag4, ExplicitContextTag5, ExplicitContextTag6,
    ExplicitContextTag7, ExplicitContextTag8, ExplicitContextTag9, GeneralizedTimeAsn1,
    IntegerAsn1, OctetStringAsn1, Optional,
};
use picky_krb::crypto::{ChecksumSuite, Cipher, CipherSuite};
use picky_krb::data_types::{
    Authenticator, AuthenticatorInner, Checksum, EncApRepPart, EncKrbCredPart, EncKrbCredPartInner,
    EncryptedData, EncryptionKey, KerberosStringAsn1, KerberosTime, KrbCredInfo, PaData,
    PrincipalName, Realm, Ticket,
};
use picky_krb::messages::{
    ApRep, ApReq, ApReqInner, EncTgsRepPart, KdcReq, KdcReqBody, KrbCred, KrbCredInner, TgsRep,
    TgsReq,
};
use serde::Serialize;

use crate::spnego::{self, KrbErrorInfo};

/// RFC 4120 §7.5.7 key usages used here.
mod usage {
    pub(super) const TGS_REQ_AUTH_CKSUM: i32 = 6;
    pub(super) const TGS_REQ_AUTH: i32 = 7;
    pub(super) const TGS_REP_SESSION_KEY: i32 = 8;
    pub(super) const AP_REQ_AUTH: i32 = 11;
    pub(super) const AP_REP: i32 = 12;
    pub(super) const KRB_CRED: i32 = 14;
}

/// Ticket flags and KDC options share RFC 4120's bit numbering (bit 0 is the most significant
/// bit of the first octet); as a `u32` bit `n` is `1 << (31 - n)`, which is also how MIT's
/// ccache stores ticket flags.
pub mod flags {
    /// Bit 1: the ticket may be forwarded (the TGT must be, for delegation).
    pub const FORWARDABLE: u32 = 1 << 30;
    /// Bit 2: the ticket was forwarded.
    pub const FORWARDED: u32 = 1 << 29;
    /// Bit 13: the KDC trusts the service to receive a delegated TGT (AD: "Trust this computer
    /// for delegation"); Windows clients delegate only to such services.
    pub const OK_AS_DELEGATE: u32 = 1 << 18;
    /// KDC option bit 15: the KDC may answer with the principal's canonical name.
    pub const CANONICALIZE: u32 = 1 << 16;
    /// KDC option bit 27: a renewable ticket is fine when the requested lifetime is too long.
    pub const RENEWABLE_OK: u32 = 1 << 4;
}

/// GSS-API context flags carried in the authenticator checksum (RFC 4121 §4.1.1.1).
pub mod gss_flags {
    /// A TGT is delegated (the KRB-CRED follows).
    pub const DELEG: u32 = 1;
    /// The client wants the server to prove itself (an AP-REP).
    pub const MUTUAL: u32 = 2;
    /// Replay detection.
    pub const REPLAY: u32 = 4;
    /// Out-of-sequence detection.
    pub const SEQUENCE: u32 = 8;
    /// Confidentiality (sealing).
    pub const CONF: u32 = 16;
    /// Integrity (signing).
    pub const INTEG: u32 = 32;
}

/// The Kerberos V5 GSS-API mechanism, `1.2.840.113554.1.2.2` (RFC 1964), in DER.
const KRB5_OID_DER: [u8; 11] = [
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02,
];
/// SPNEGO, `1.3.6.1.5.5.2` (RFC 4178), in DER.
const SPNEGO_OID_DER: [u8; 8] = [0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02];

/// A session key. Kept in memory to do the protocol, never serialized, never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionKey {
    /// The RFC 3961 encryption type.
    pub etype: i64,
    value: Vec<u8>,
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SessionKey({}, {} bytes, redacted)",
            spnego::etype_name(self.etype),
            self.value.len()
        )
    }
}

impl SessionKey {
    /// A key of `etype` with `value`.
    pub fn new(etype: i64, value: Vec<u8>) -> Self {
        SessionKey { etype, value }
    }

    fn suite(&self) -> Result<CipherSuite, Krb5Error> {
        usize::try_from(self.etype)
            .ok()
            .and_then(|e| CipherSuite::try_from(e).ok())
            .ok_or(Krb5Error::UnsupportedEtype(self.etype))
    }

    fn cipher(&self) -> Result<Box<dyn Cipher>, Krb5Error> {
        Ok(self.suite()?.cipher())
    }

    fn encrypt(&self, usage: i32, plain: &[u8]) -> Result<EncryptedData, Krb5Error> {
        let cipher = self
            .cipher()?
            .encrypt(&self.value, usage, plain)
            .map_err(|e| Krb5Error::Crypto(e.to_string()))?;
        Ok(EncryptedData {
            etype: ExplicitContextTag0::from(int_asn1(self.etype)),
            kvno: Optional::from(None),
            cipher: ExplicitContextTag2::from(OctetStringAsn1::from(cipher)),
        })
    }

    fn decrypt(&self, usage: i32, data: &EncryptedData) -> Result<Vec<u8>, Krb5Error> {
        let etype = spnego::int(&data.etype.0.0);
        if etype != self.etype {
            return Err(Krb5Error::Protocol(format!(
                "the reply is encrypted with {} but the session key is {}",
                spnego::etype_name(etype),
                spnego::etype_name(self.etype)
            )));
        }
        self.cipher()?
            .decrypt(&self.value, usage, &data.cipher.0.0)
            .map_err(|e| Krb5Error::Crypto(e.to_string()))
    }

    /// The keyed checksum RFC 3961 pairs with this key's encryption type.
    fn checksum(&self, usage: i32, payload: &[u8]) -> Result<Checksum, Krb5Error> {
        let suite = self.cipher()?.checksum_type();
        let cksumtype: i64 = match suite {
            ChecksumSuite::HmacSha196Aes256 => 16,
            ChecksumSuite::HmacSha196Aes128 => 15,
            ChecksumSuite::HmacSha1Des3Kd => 12,
        };
        let sum = suite
            .hasher()
            .checksum(&self.value, usage, payload)
            .map_err(|e| Krb5Error::Crypto(e.to_string()))?;
        Ok(Checksum {
            cksumtype: ExplicitContextTag0::from(int_asn1(cksumtype)),
            checksum: ExplicitContextTag1::from(OctetStringAsn1::from(sum)),
        })
    }
}

/// A principal: name type, components, realm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// RFC 4120 §6.2 name type (1 principal, 2 service instance).
    pub name_type: i64,
    /// `["HTTP", "web.corp.example"]`.
    pub components: Vec<String>,
    /// `CORP.EXAMPLE`.
    pub realm: String,
}

impl Principal {
    /// A service principal `SERVICE/host@REALM` (NT-SRV-INST).
    pub fn service(spn: &str, realm: &str) -> Self {
        Principal {
            name_type: 2,
            components: spn.split('/').map(str::to_string).collect(),
            realm: realm.to_string(),
        }
    }

    /// `HTTP/web.corp.example@CORP.EXAMPLE`.
    pub fn display(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }

    /// The name without the realm, `HTTP/web.corp.example`.
    pub fn name(&self) -> String {
        self.components.join("/")
    }

    fn to_asn1(&self) -> Result<PrincipalName, Krb5Error> {
        Ok(PrincipalName {
            name_type: ExplicitContextTag0::from(int_asn1(self.name_type)),
            name_string: ExplicitContextTag1::from(Asn1SequenceOf::from(
                self.components
                    .iter()
                    .map(|c| kstring(c))
                    .collect::<Result<Vec<_>, _>>()?,
            )),
        })
    }

    fn from_asn1(p: &PrincipalName, realm: &Realm) -> Self {
        Principal {
            name_type: spnego::int(&p.name_type.0.0),
            components: p
                .name_string
                .0
                .0
                .iter()
                .map(|s| String::from_utf8_lossy(s.as_bytes()).into_owned())
                .collect(),
            realm: String::from_utf8_lossy(realm.as_bytes()).into_owned(),
        }
    }
}

/// A ticket and what goes with it: the session key, flags and times (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// Whose ticket it is.
    pub client: Principal,
    /// The service it is for (`krbtgt/REALM` for a TGT).
    pub server: Principal,
    /// The session key shared with that service.
    pub key: SessionKey,
    /// The ticket, DER (`[APPLICATION 1]`), opaque to the client.
    pub ticket: Vec<u8>,
    /// Ticket flags (see [`flags`]).
    pub flags: u32,
    /// When the client authenticated.
    pub auth_time: i64,
    /// When the ticket becomes valid.
    pub start_time: i64,
    /// When it expires.
    pub end_time: i64,
    /// Until when it can be renewed; 0 when it cannot.
    pub renew_till: i64,
}

impl Credential {
    /// Whether this is a ticket-granting ticket (`krbtgt/...`).
    pub fn is_tgt(&self) -> bool {
        self.server.components.first().map(String::as_str) == Some("krbtgt")
    }

    /// The ticket's encryption type and key version, read from its clear part.
    pub fn ticket_key(&self) -> Option<(i64, Option<i64>)> {
        spnego::ticket_key(&self.ticket).ok()
    }

    fn ticket_asn1(&self) -> Result<Ticket, Krb5Error> {
        spnego::der("Ticket", &self.ticket).map_err(|e| Krb5Error::Decode(e.to_string()))
    }
}

/// A moment, Unix seconds and microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// Seconds since 1970.
    pub secs: i64,
    /// Microseconds within the second (0..=999999).
    pub usec: u32,
}

/// Why a Kerberos step failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Krb5Error {
    /// The peer answered with a KRB-ERROR.
    #[error("KRB-ERROR {}", .0.code)]
    Refused(KrbErrorInfo),
    /// An encryption type picky-krb has no cipher for (RC4-HMAC, DES).
    #[error("encryption type {0} ({name}) is not supported by why401's Kerberos client (AES and DES3 are)", name = spnego::etype_name(*.0))]
    UnsupportedEtype(i64),
    /// Encryption or decryption failed (for a reply: the wrong key, or a tampered message).
    #[error("cryptography: {0}")]
    Crypto(String),
    /// A message that could not be read.
    #[error("could not decode: {0}")]
    Decode(String),
    /// A message that is well-formed but wrong (nonce, times, mechanism).
    #[error("{0}")]
    Protocol(String),
}

fn der_err(e: impl std::fmt::Display) -> Krb5Error {
    Krb5Error::Decode(e.to_string())
}

fn int_asn1(v: i64) -> IntegerAsn1 {
    IntegerAsn1::from_bytes_be_signed(v.to_be_bytes().to_vec())
}

fn uint_asn1(v: u32) -> IntegerAsn1 {
    IntegerAsn1::from_bytes_be_unsigned(v.to_be_bytes().to_vec())
}

fn kstring(s: &str) -> Result<KerberosStringAsn1, Krb5Error> {
    IA5String::from_string(s.to_string())
        .map(KerberosStringAsn1::from)
        .map_err(|_| Krb5Error::Protocol(format!("{s:?} is not an IA5 (ASCII) string")))
}

fn flags_asn1(bits: u32) -> BitStringAsn1 {
    BitStringAsn1::from(BitString::with_bytes(bits.to_be_bytes().to_vec()))
}

fn flags_from(b: &BitStringAsn1) -> u32 {
    let bytes = b.0.payload_view();
    let mut f = [0u8; 4];
    for (i, byte) in bytes.iter().take(4).enumerate() {
        f[i] = *byte;
    }
    u32::from_be_bytes(f)
}

/// A Kerberos time from Unix seconds; out-of-range times clamp to 1970 or 9999.
fn ktime(secs: i64) -> KerberosTime {
    let t = time::OffsetDateTime::from_unix_timestamp(secs.clamp(0, 253_402_300_799))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let d = GeneralizedTime::new(
        t.year() as u16,
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
    )
    .unwrap_or_else(|| GeneralizedTime::new(1970, 1, 1, 0, 0, 0).expect("the epoch is a date"));
    GeneralizedTimeAsn1::from(d)
}

/// Unix seconds of a Kerberos time; 0 when the date is impossible.
pub(crate) fn unix(t: &KerberosTime) -> i64 {
    let d = &t.0;
    time::Month::try_from(d.month())
        .ok()
        .and_then(|m| time::Date::from_calendar_date(i32::from(d.year()), m, d.day()).ok())
        .and_then(|date| date.with_hms(d.hour(), d.minute(), d.second()).ok())
        .map(|dt| dt.assume_utc().unix_timestamp())
        .unwrap_or(0)
}

fn authenticator(
    client: &Principal,
    cksum: Option<Checksum>,
    now: Now,
    seq: Option<u32>,
) -> Result<Authenticator, Krb5Error> {
    Ok(Authenticator::from(AuthenticatorInner {
        authenticator_vno: ExplicitContextTag0::from(int_asn1(5)),
        crealm: ExplicitContextTag1::from(kstring(&client.realm)?),
        cname: ExplicitContextTag2::from(client.to_asn1()?),
        cksum: Optional::from(cksum.map(ExplicitContextTag3::from)),
        cusec: ExplicitContextTag4::from(int_asn1(i64::from(now.usec.min(999_999)))),
        ctime: ExplicitContextTag5::from(ktime(now.secs)),
        subkey: Optional::from(None),
        seq_number: Optional::from(seq.map(|s| ExplicitContextTag7::from(uint_asn1(s)))),
        authorization_data: Optional::from(None),
    }))
}

fn ap_req(
    cred: &Credential,
    ap_options: u32,
    auth: &Authenticator,
    usage: i32,
) -> Result<ApReq, Krb5Error> {
    let plain = picky_asn1_der::to_vec(auth).map_err(der_err)?;
    Ok(ApReq::from(ApReqInner {
        pvno: ExplicitContextTag0::from(int_asn1(5)),
        msg_type: ExplicitContextTag1::from(int_asn1(14)),
        ap_options: ExplicitContextTag2::from(flags_asn1(ap_options)),
        ticket: ExplicitContextTag3::from(cred.ticket_asn1()?),
        authenticator: ExplicitContextTag4::from(cred.key.encrypt(usage, &plain)?),
    }))
}

/// A TGS-REQ (RFC 4120 §3.3.1) for `service`, authenticated by `tgt`, with KDC `options`
/// (see [`flags`]) and `etypes` in order of preference.
pub fn tgs_req(
    tgt: &Credential,
    service: &Principal,
    options: u32,
    etypes: &[i64],
    nonce: u32,
    now: Now,
) -> Result<Vec<u8>, Krb5Error> {
    let body = KdcReqBody {
        kdc_options: ExplicitContextTag0::from(flags_asn1(options)),
        cname: Optional::from(None),
        realm: ExplicitContextTag2::from(kstring(&service.realm)?),
        sname: Optional::from(Some(ExplicitContextTag3::from(service.to_asn1()?))),
        from: Optional::from(None),
        // What the TGT allows; the KDC caps it anyway.
        till: ExplicitContextTag5::from(ktime(tgt.end_time.max(now.secs + 600))),
        rtime: Optional::from(None),
        nonce: ExplicitContextTag7::from(uint_asn1(nonce)),
        etype: ExplicitContextTag8::from(Asn1SequenceOf::from(
            etypes.iter().map(|&e| int_asn1(e)).collect::<Vec<_>>(),
        )),
        addresses: Optional::from(None),
        enc_authorization_data: Optional::from(None),
        additional_tickets: Optional::from(None),
    };
    // The authenticator binds the request body with a keyed checksum (RFC 4120 §5.5.1).
    let body_der = picky_asn1_der::to_vec(&body).map_err(der_err)?;
    let cksum = tgt.key.checksum(usage::TGS_REQ_AUTH_CKSUM, &body_der)?;
    let auth = authenticator(&tgt.client, Some(cksum), now, None)?;
    let pa = ap_req(tgt, 0, &auth, usage::TGS_REQ_AUTH)?;
    let req = TgsReq::from(KdcReq {
        pvno: ExplicitContextTag1::from(int_asn1(5)),
        msg_type: ExplicitContextTag2::from(int_asn1(12)),
        padata: Optional::from(Some(ExplicitContextTag3::from(Asn1SequenceOf::from(vec![
            PaData {
                padata_type: ExplicitContextTag1::from(int_asn1(1)),
                padata_data: ExplicitContextTag2::from(OctetStringAsn1::from(
                    picky_asn1_der::to_vec(&pa).map_err(der_err)?,
                )),
            },
        ])))),
        req_body: ExplicitContextTag4::from(body),
    });
    picky_asn1_der::to_vec(&req).map_err(der_err)
}

/// Reads the KDC's answer to [`tgs_req`]: the service ticket and its session key, or the
/// KRB-ERROR as [`Krb5Error::Refused`].
pub fn tgs_rep(reply: &[u8], tgt: &Credential, nonce: u32) -> Result<Credential, Krb5Error> {
    if reply.first() == Some(&0x7e) {
        return Err(spnego::decode_krb_error(reply)
            .map(Krb5Error::Refused)
            .unwrap_or_else(der_err));
    }
    let rep: TgsRep = spnego::der("TGS-REP", reply).map_err(der_err)?;
    let plain = tgt
        .key
        .decrypt(usage::TGS_REP_SESSION_KEY, &rep.0.enc_part.0)?;
    let part: EncTgsRepPart = spnego::der("EncTGSRepPart", &plain).map_err(der_err)?;
    let part = part.0;
    let got = spnego::int(&part.nonce.0.0) as u32;
    if got != nonce {
        return Err(Krb5Error::Protocol(format!(
            "the TGS-REP answers nonce {got}, not ours ({nonce}): a replayed or misdirected reply"
        )));
    }
    let realm = &part.srealm.0;
    Ok(Credential {
        client: Principal::from_asn1(&rep.0.cname.0, &rep.0.crealm.0),
        server: Principal::from_asn1(&part.sname.0, realm),
        key: SessionKey::new(
            spnego::int(&part.key.0.key_type.0.0),
            part.key.0.key_value.0.0.clone(),
        ),
        ticket: picky_asn1_der::to_vec(&rep.0.ticket.0).map_err(der_err)?,
        flags: flags_from(&part.flags.0),
        auth_time: unix(&part.auth_time.0),
        start_time: part
            .start_time
            .0
            .as_ref()
            .map(|t| unix(&t.0))
            .unwrap_or_else(|| unix(&part.auth_time.0)),
        end_time: unix(&part.end_time.0),
        renew_till: part.renew_till.0.as_ref().map(|t| unix(&t.0)).unwrap_or(0),
    })
}

/// What an AS-REQ or TGS-REQ asks for, read from its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSummary {
    /// The principal asked for (`krbtgt/LAB.TEST@LAB.TEST`, `HTTP/web.lab.test@LAB.TEST`).
    pub service: Option<String>,
    /// The encryption types offered, most preferred first.
    pub etypes: Vec<i64>,
}

/// Reads an AS-REQ or TGS-REQ; `None` for anything else.
pub fn request_summary(request: &[u8]) -> Option<RequestSummary> {
    let req: KdcReq = match request.first() {
        Some(0x6a) => {
            spnego::der::<picky_krb::messages::AsReq>("AS-REQ", request)
                .ok()?
                .0
        }
        Some(0x6c) => spnego::der::<TgsReq>("TGS-REQ", request).ok()?.0,
        _ => return None,
    };
    let body = req.req_body.0;
    Some(RequestSummary {
        service: body
            .sname
            .0
            .map(|s| Principal::from_asn1(&s.0, &body.realm.0).display()),
        etypes: body.etype.0.0.iter().map(|e| spnego::int(&e.0)).collect(),
    })
}

/// The first Negotiate token for `cred` (a service ticket): SPNEGO NegTokenInit offering
/// Kerberos, whose optimistic token is the GSS-API AP-REQ (RFC 4121 §4.1) with `gss` flags (see
/// [`gss_flags`]) and, when delegating, the KRB-CRED from [`krb_cred`].
pub fn negotiate_token(
    cred: &Credential,
    gss: u32,
    deleg: Option<&[u8]>,
    now: Now,
    seq: u32,
) -> Result<Vec<u8>, Krb5Error> {
    // The authenticator checksum of RFC 4121 §4.1.1: Lgth (16), Bnd (no channel bindings: zeros),
    // Flags, then DlgOpt/Dlgth/Deleg when a TGT is delegated. All little-endian.
    let mut value = Vec::with_capacity(28 + deleg.map_or(0, <[u8]>::len));
    value.extend_from_slice(&16u32.to_le_bytes());
    value.extend_from_slice(&[0u8; 16]);
    let gss = if deleg.is_some() {
        gss | gss_flags::DELEG
    } else {
        gss & !gss_flags::DELEG
    };
    value.extend_from_slice(&gss.to_le_bytes());
    if let Some(d) = deleg {
        let len = u16::try_from(d.len())
            .map_err(|_| Krb5Error::Protocol("the delegated credential is over 64 KiB".into()))?;
        value.extend_from_slice(&1u16.to_le_bytes());
        value.extend_from_slice(&len.to_le_bytes());
        value.extend_from_slice(d);
    }
    let cksum = Checksum {
        cksumtype: ExplicitContextTag0::from(int_asn1(0x8003)),
        checksum: ExplicitContextTag1::from(OctetStringAsn1::from(value)),
    };
    let auth = authenticator(&cred.client, Some(cksum), now, Some(seq))?;
    // ap-options mutual-required (bit 2) when the GSS caller asked for mutual authentication.
    let ap_options = if gss & gss_flags::MUTUAL != 0 {
        1 << 29
    } else {
        0
    };
    let ap = picky_asn1_der::to_vec(&ap_req(cred, ap_options, &auth, usage::AP_REQ_AUTH)?)
        .map_err(der_err)?;
    // GSS-API framing: [APPLICATION 0] { krb5 OID, TOK_ID 01 00, AP-REQ }.
    let mut inner = KRB5_OID_DER.to_vec();
    inner.extend_from_slice(&[0x01, 0x00]);
    inner.extend_from_slice(&ap);
    let mech_token = der_tlv(0x60, &inner);
    // NegTokenInit { mechTypes [0] SEQUENCE { krb5 }, mechToken [2] OCTET STRING }.
    let mech_types = der_tlv(0xa0, &der_tlv(0x30, &KRB5_OID_DER));
    let token = der_tlv(0xa2, &der_tlv(0x04, &mech_token));
    let init = der_tlv(0xa0, &der_tlv(0x30, &[mech_types, token].concat()));
    Ok(der_tlv(0x60, &[SPNEGO_OID_DER.to_vec(), init].concat()))
}

/// DER tag-length-value.
fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u32).to_be_bytes();
        let skip = bytes.iter().take_while(|&&b| b == 0).count();
        out.push(0x80 | (4 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// What the server's final Negotiate token proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerProof {
    /// An AP-REP that decrypted with the session key and echoed our authenticator's time:
    /// the server holds the service key.
    Verified,
    /// The server refused the ticket with a KRB-ERROR inside the token.
    Refused(KrbErrorInfo),
}

/// Checks the server's Negotiate token after our AP-REQ sent at `sent`: SPNEGO NegTokenResp
/// carrying the AP-REP (RFC 4121 §4.1; a bare GSS token is read too).
pub fn check_server_token(
    token: &[u8],
    cred: &Credential,
    sent: Now,
) -> Result<ServerProof, Krb5Error> {
    let decoded = spnego::decode(token).map_err(der_err)?;
    if let Some(spnego::NegState::Reject) = match &decoded {
        spnego::NegotiateToken::Response { state, .. } => *state,
        _ => None,
    } {
        return Err(Krb5Error::Protocol(
            "the server rejected the Kerberos mechanism (negState reject)".into(),
        ));
    }
    if let Some(spnego::MechToken::KerberosError { error }) = decoded.mech_token() {
        return Ok(ServerProof::Refused(error.clone()));
    }
    let inner = spnego::response_token_bytes(token).map_err(der_err)?;
    let Some(inner) = inner else {
        return Err(Krb5Error::Protocol(
            "the server's token carries no AP-REP".into(),
        ));
    };
    let ap = spnego::krb5_inner(&inner, [0x02, 0x00]).map_err(der_err)?;
    let rep: ApRep = spnego::der("AP-REP", ap).map_err(der_err)?;
    let plain = cred.key.decrypt(usage::AP_REP, &rep.0.enc_part.0)?;
    let part: EncApRepPart = spnego::der("EncAPRepPart", &plain).map_err(der_err)?;
    let (ctime, cusec) = (unix(&part.0.ctime.0), spnego::int(&part.0.cusec.0.0));
    if ctime != sent.secs || cusec != i64::from(sent.usec) {
        return Err(Krb5Error::Protocol(format!(
            "the AP-REP echoes {ctime}.{cusec:06}, not our authenticator's {}.{:06}",
            sent.secs, sent.usec
        )));
    }
    Ok(ServerProof::Verified)
}

/// A KRB-CRED (RFC 4120 §5.8) carrying `forwarded` (a forwarded TGT), encrypted in the AP-REQ's
/// session `key`, as GSS-API delegation sends it.
pub fn krb_cred(forwarded: &Credential, key: &SessionKey, now: Now) -> Result<Vec<u8>, Krb5Error> {
    let info = KrbCredInfo {
        key: ExplicitContextTag0::from(EncryptionKey {
            key_type: ExplicitContextTag0::from(int_asn1(forwarded.key.etype)),
            key_value: ExplicitContextTag1::from(OctetStringAsn1::from(
                forwarded.key.value.clone(),
            )),
        }),
        prealm: Optional::from(Some(ExplicitContextTag1::from(kstring(
            &forwarded.client.realm,
        )?))),
        pname: Optional::from(Some(ExplicitContextTag2::from(forwarded.client.to_asn1()?))),
        flags: Optional::from(Some(ExplicitContextTag3::from(flags_asn1(forwarded.flags)))),
        auth_time: Optional::from(Some(ExplicitContextTag4::from(ktime(forwarded.auth_time)))),
        start_time: Optional::from(Some(ExplicitContextTag5::from(ktime(forwarded.start_time)))),
        end_time: Optional::from(Some(ExplicitContextTag6::from(ktime(forwarded.end_time)))),
        renew_till: Optional::from(
            (forwarded.renew_till > 0)
                .then(|| ExplicitContextTag7::from(ktime(forwarded.renew_till))),
        ),
        srealm: Optional::from(Some(ExplicitContextTag8::from(kstring(
            &forwarded.server.realm,
        )?))),
        sname: Optional::from(Some(ExplicitContextTag9::from(forwarded.server.to_asn1()?))),
        caddr: Optional::from(None),
    };
    let part = EncKrbCredPart::from(EncKrbCredPartInner {
        ticket_info: ExplicitContextTag0::from(Asn1SequenceOf::from(vec![info])),
        nonce: Optional::from(None),
        timestamp: Optional::from(Some(ExplicitContextTag2::from(ktime(now.secs)))),
        usec: Optional::from(Some(ExplicitContextTag3::from(int_asn1(i64::from(
            now.usec.min(999_999),
        ))))),
        s_address: Optional::from(None),
        r_address: Optional::from(None),
    });
    let plain = picky_asn1_der::to_vec(&part).map_err(der_err)?;
    let cred = KrbCred::from(KrbCredInner {
        pvno: ExplicitContextTag0::from(int_asn1(5)),
        msg_type: ExplicitContextTag1::from(int_asn1(22)),
        tickets: ExplicitContextTag2::from(Asn1SequenceOf::from(vec![forwarded.ticket_asn1()?])),
        enc_part: ExplicitContextTag3::from(key.encrypt(usage::KRB_CRED, &plain)?),
    });
    picky_asn1_der::to_vec(&cred).map_err(der_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SessionKey {
        SessionKey::new(18, vec![7; 32])
    }

    fn ticket_for(spn: &str) -> Vec<u8> {
        let t = Ticket::from(picky_krb::data_types::TicketInner {
            tkt_vno: ExplicitContextTag0::from(int_asn1(5)),
            realm: ExplicitContextTag1::from(kstring("LAB.TEST").unwrap()),
            sname: ExplicitContextTag2::from(
                Principal::service(spn, "LAB.TEST").to_asn1().unwrap(),
            ),
            enc_part: ExplicitContextTag3::from(EncryptedData {
                etype: ExplicitContextTag0::from(int_asn1(18)),
                kvno: Optional::from(Some(ExplicitContextTag1::from(int_asn1(3)))),
                cipher: ExplicitContextTag2::from(OctetStringAsn1::from(vec![1, 2, 3])),
            }),
        });
        picky_asn1_der::to_vec(&t).unwrap()
    }

    fn cred(spn: &str) -> Credential {
        Credential {
            client: Principal {
                name_type: 1,
                components: vec!["alice".into()],
                realm: "LAB.TEST".into(),
            },
            server: Principal::service(spn, "LAB.TEST"),
            key: key(),
            ticket: ticket_for(spn),
            flags: flags::FORWARDABLE,
            auth_time: 1_790_000_000,
            start_time: 1_790_000_000,
            end_time: 1_790_036_000,
            renew_till: 0,
        }
    }

    /// The AP-REQ inside a Negotiate token, and its authenticator opened with `key()`.
    fn opened(tok: &[u8]) -> (ApReq, Authenticator) {
        let inner = spnego::mech_token_bytes(tok).unwrap().unwrap();
        let ap: ApReq = spnego::der("AP-REQ", spnego::krb5_inner(&inner, [1, 0]).unwrap()).unwrap();
        let plain = key()
            .decrypt(usage::AP_REQ_AUTH, &ap.0.authenticator.0)
            .unwrap();
        let auth = spnego::der("Authenticator", &plain).unwrap();
        (ap, auth)
    }

    const NOW: Now = Now {
        secs: 1_790_000_100,
        usec: 4242,
    };

    #[test]
    fn negotiate_token_is_spnego_with_a_krb5_ap_req_that_decodes() {
        let tok =
            negotiate_token(&cred("HTTP/web.lab.test"), gss_flags::MUTUAL, None, NOW, 9).unwrap();
        let d = spnego::decode(&tok).unwrap();
        let Some(spnego::MechToken::KerberosApReq { ap_req }) = d.mech_token() else {
            panic!("{d:?}")
        };
        assert_eq!(ap_req.spn, "HTTP/web.lab.test");
        assert_eq!((ap_req.ticket_etype, ap_req.kvno), (18, Some(3)));
        // The authenticator decrypts with the session key and carries our checksum and time.
        let (ap, auth) = opened(&tok);
        assert_eq!(unix(&auth.0.ctime.0), NOW.secs);
        let ck = auth.0.cksum.0.unwrap().0;
        assert_eq!(spnego::int(&ck.cksumtype.0.0), 0x8003);
        assert_eq!(ck.checksum.0.0.len(), 24);
        assert_eq!(&ck.checksum.0.0[20..24], &gss_flags::MUTUAL.to_le_bytes());
        assert_eq!(flags_from(&ap.0.ap_options.0), 1 << 29, "mutual-required");
    }

    #[test]
    fn delegation_appends_the_krb_cred_and_sets_deleg() {
        let tgt = cred("krbtgt/LAB.TEST");
        let kc = krb_cred(&tgt, &key(), NOW).unwrap();
        assert_eq!(kc[0], 0x76, "[APPLICATION 22]");
        let tok = negotiate_token(&cred("HTTP/web"), gss_flags::MUTUAL, Some(&kc), NOW, 1).unwrap();
        let (_, auth) = opened(&tok);
        let v = auth.0.cksum.0.unwrap().0.checksum.0.0;
        assert_eq!(u32::from_le_bytes(v[20..24].try_into().unwrap()) & 1, 1);
        assert_eq!(&v[24..26], &[1, 0], "DlgOpt");
        assert_eq!(&v[28..], &kc[..]);
        // The credential decrypts with the session key and names the TGT.
        let c: KrbCred = spnego::der("KRB-CRED", &kc).unwrap();
        let p = key().decrypt(usage::KRB_CRED, &c.0.enc_part.0).unwrap();
        let part: EncKrbCredPart = spnego::der("EncKrbCredPart", &p).unwrap();
        let info = &part.0.ticket_info.0.0[0];
        assert_eq!(
            flags_from(&info.flags.0.as_ref().unwrap().0),
            flags::FORWARDABLE
        );
    }

    #[test]
    fn tgs_req_round_trips_and_a_krb_error_reply_is_refused() {
        let req = tgs_req(
            &cred("krbtgt/LAB.TEST"),
            &Principal::service("HTTP/web.lab.test", "LAB.TEST"),
            flags::CANONICALIZE,
            &[18, 17],
            77,
            NOW,
        )
        .unwrap();
        let r: TgsReq = spnego::der("TGS-REQ", &req).unwrap();
        let body = &r.0.req_body.0;
        assert_eq!(spnego::int(&body.nonce.0.0), 77);
        assert_eq!(flags_from(&body.kdc_options.0), flags::CANONICALIZE);
        // A reply that is not ours fails cleanly, never panics.
        assert!(tgs_rep(&[0x7e, 0x01, 0x00], &cred("krbtgt/X"), 77).is_err());
        assert!(tgs_rep(&[0x6d, 0x80], &cred("krbtgt/X"), 77).is_err());
        let sum = request_summary(&req).unwrap();
        assert_eq!(sum.service.as_deref(), Some("HTTP/web.lab.test@LAB.TEST"));
        assert_eq!(sum.etypes, vec![18, 17]);
        assert_eq!(request_summary(&[0x6c, 0x01]), None);
    }

    #[test]
    fn ap_rep_must_decrypt_and_echo_our_time() {
        let c = cred("HTTP/web");
        let part = EncApRepPart::from(picky_krb::data_types::EncApRepPartInner {
            ctime: ExplicitContextTag0::from(ktime(NOW.secs)),
            cusec: ExplicitContextTag1::from(int_asn1(i64::from(NOW.usec))),
            subkey: Optional::from(None),
            seq_number: Optional::from(None),
        });
        let enc = key()
            .encrypt(usage::AP_REP, &picky_asn1_der::to_vec(&part).unwrap())
            .unwrap();
        let rep = ApRep::from(picky_krb::messages::ApRepInner {
            pvno: ExplicitContextTag0::from(int_asn1(5)),
            msg_type: ExplicitContextTag1::from(int_asn1(15)),
            enc_part: ExplicitContextTag2::from(enc),
        });
        let mut inner = KRB5_OID_DER.to_vec();
        inner.extend_from_slice(&[2, 0]);
        inner.extend_from_slice(&picky_asn1_der::to_vec(&rep).unwrap());
        let gss = der_tlv(0x60, &inner);
        // NegTokenResp { negState accept-completed, supportedMech krb5, responseToken }.
        let resp = der_tlv(
            0xa1,
            &der_tlv(
                0x30,
                &[
                    der_tlv(0xa0, &[0x0a, 0x01, 0x00]),
                    der_tlv(0xa1, &KRB5_OID_DER),
                    der_tlv(0xa2, &der_tlv(0x04, &gss)),
                ]
                .concat(),
            ),
        );
        assert_eq!(
            check_server_token(&resp, &c, NOW),
            Ok(ServerProof::Verified)
        );
        let later = Now {
            secs: NOW.secs + 1,
            usec: NOW.usec,
        };
        assert!(matches!(
            check_server_token(&resp, &c, later),
            Err(Krb5Error::Protocol(_))
        ));
        let mut other = c.clone();
        other.key = SessionKey::new(18, vec![8; 32]);
        assert!(matches!(
            check_server_token(&resp, &other, NOW),
            Err(Krb5Error::Crypto(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn hostile_replies_are_errors_not_panics(
            tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            first in proptest::sample::select(vec![0x6d_u8, 0x7e, 0xa1, 0x60, 0x6a, 0x6c]),
        ) {
            let mut bytes = vec![first];
            bytes.extend_from_slice(&tail);
            let c = cred("krbtgt/LAB.TEST");
            proptest::prop_assert!(tgs_rep(&bytes, &c, 1).is_err());
            let _ = check_server_token(&bytes, &c, NOW);
            let _ = request_summary(&bytes);
        }
    }

    #[test]
    fn rc4_is_named_not_guessed() {
        let mut c = cred("HTTP/web");
        c.key = SessionKey::new(23, vec![0xab; 16]);
        let e = negotiate_token(&c, 0, None, NOW, 1).unwrap_err();
        assert_eq!(e, Krb5Error::UnsupportedEtype(23));
        assert!(e.to_string().contains("rc4-hmac"), "{e}");
        // The key's Debug names its type and length, never its bytes (171 = 0xab).
        let shown = format!("{:?}", c.key);
        assert!(
            shown.contains("SessionKey(rc4-hmac, 16 bytes, redacted)"),
            "{shown}"
        );
        assert!(
            !shown.contains("171") && !shown.to_lowercase().contains("abab"),
            "{shown}"
        );
    }
}
