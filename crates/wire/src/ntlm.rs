//! NTLM messages (MS-NLMP §2.2): NEGOTIATE, CHALLENGE and AUTHENTICATE, decoded by hand.
//!
//! Hand-written because `sspi` keeps its message structs private and the layout is fixed and
//! small. Every field read is bounds-checked: a truncated or hostile message gives an
//! [`NtlmError`], never a panic.

use std::fmt;

use serde::Serialize;

/// `NTLMSSP\0`.
pub const SIGNATURE: &[u8; 8] = b"NTLMSSP\0";

/// The negotiate flags of MS-NLMP §2.2.2.5, by name.
pub const FLAGS: &[(u32, &str)] = &[
    (0x0000_0001, "NEGOTIATE_UNICODE"),
    (0x0000_0002, "NEGOTIATE_OEM"),
    (0x0000_0004, "REQUEST_TARGET"),
    (0x0000_0010, "NEGOTIATE_SIGN"),
    (0x0000_0020, "NEGOTIATE_SEAL"),
    (0x0000_0040, "NEGOTIATE_DATAGRAM"),
    (0x0000_0080, "NEGOTIATE_LM_KEY"),
    (0x0000_0200, "NEGOTIATE_NTLM"),
    (0x0000_0800, "ANONYMOUS"),
    (0x0000_1000, "NEGOTIATE_OEM_DOMAIN_SUPPLIED"),
    (0x0000_2000, "NEGOTIATE_OEM_WORKSTATION_SUPPLIED"),
    (0x0000_8000, "NEGOTIATE_ALWAYS_SIGN"),
    (0x0001_0000, "TARGET_TYPE_DOMAIN"),
    (0x0002_0000, "TARGET_TYPE_SERVER"),
    (0x0008_0000, "NEGOTIATE_EXTENDED_SESSIONSECURITY"),
    (0x0010_0000, "NEGOTIATE_IDENTIFY"),
    (0x0040_0000, "REQUEST_NON_NT_SESSION_KEY"),
    (0x0080_0000, "NEGOTIATE_TARGET_INFO"),
    (0x0200_0000, "NEGOTIATE_VERSION"),
    (0x2000_0000, "NEGOTIATE_128"),
    (0x4000_0000, "NEGOTIATE_KEY_EXCH"),
    (0x8000_0000, "NEGOTIATE_56"),
];

const NEGOTIATE_UNICODE: u32 = 0x0000_0001;
const NEGOTIATE_ANONYMOUS: u32 = 0x0000_0800;
const NEGOTIATE_EXTENDED_SESSIONSECURITY: u32 = 0x0008_0000;
const NEGOTIATE_VERSION: u32 = 0x0200_0000;

/// Names of the flags set in `flags`; unknown bits as hex.
pub fn flag_names(flags: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut known = 0;
    for &(bit, name) in FLAGS {
        known |= bit;
        if flags & bit != 0 {
            names.push(name.to_string());
        }
    }
    if flags & !known != 0 {
        names.push(format!("0x{:08x}", flags & !known));
    }
    names
}

/// Why bytes are not a readable NTLM message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NtlmError {
    /// The bytes do not start with `NTLMSSP\0`.
    #[error("not an NTLM message (no NTLMSSP signature)")]
    NoSignature,
    /// A `MessageType` other than 1, 2 or 3; carries it.
    #[error("NTLM message type {0} is unknown (1, 2 or 3 expected)")]
    UnknownType(u32),
    /// A field points past the end of the message.
    #[error("the NTLM message is truncated: {what} needs bytes {start}..{end}, only {len} present")]
    Truncated {
        /// The field being read, e.g. `target info`.
        what: &'static str,
        /// Byte offset where the field starts.
        start: usize,
        /// Byte offset where the field would end (exclusive).
        end: usize,
        /// The message's length in bytes.
        len: usize,
    },
}

/// The `VERSION` structure: the sender's Windows version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Version {
    /// `ProductMajorVersion`, e.g. 10 for Windows 10 and Server 2016 and later.
    pub major: u8,
    /// `ProductMinorVersion`: 0 for Windows 10 and 11, 3 for Windows 8.1.
    pub minor: u8,
    /// `ProductBuild`, e.g. 17763 for Windows Server 2019.
    pub build: u16,
    /// `NTLMRevisionCurrent`: 15 (`NTLMSSP_REVISION_W2K3`) on every current Windows.
    pub revision: u8,
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} build {} (NTLM revision {})",
            self.major, self.minor, self.build, self.revision
        )
    }
}

/// One AV_PAIR of the target information (MS-NLMP §2.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "av", content = "value", rename_all = "kebab-case")]
pub enum AvPair {
    /// `MsvAvNbComputerName`: the server's NetBIOS computer name.
    NbComputerName(String),
    /// `MsvAvNbDomainName`: the server's NetBIOS domain name.
    NbDomainName(String),
    /// `MsvAvDnsComputerName`: the server's fully qualified DNS name.
    DnsComputerName(String),
    /// `MsvAvDnsDomainName`: the DNS name of the server's domain.
    DnsDomainName(String),
    /// `MsvAvDnsTreeName`: the DNS name of the server's forest.
    DnsTreeName(String),
    /// `MsvAvFlags`: 0x1 account authentication constrained, 0x2 MIC present, 0x4 untrusted SPN source.
    Flags(u32),
    /// `MsvAvTimestamp`: the server's clock, as Unix seconds.
    Timestamp(i64),
    /// `MsvAvSingleHost` (MS-NLMP §2.2.2.2): only its length in bytes; the content is not decoded.
    SingleHost(usize),
    /// `MsvAvTargetName`: the SPN the client targeted (e.g. `HTTP/web.corp.example`).
    TargetName(String),
    /// `MsvAvChannelBindings`: MD5 of the TLS channel bindings (all zero = none).
    ChannelBindings(String),
    /// An `AvId` this decoder does not know, or a known one whose value has an unexpected length
    /// (or a zero timestamp).
    Unknown {
        /// The `AvId`: the pair's type number (MS-NLMP §2.2.2.1).
        id: u16,
        /// The `AvLen`: length of the value in bytes.
        len: usize,
    },
}

impl AvPair {
    /// The MS-NLMP name of the pair.
    pub fn name(&self) -> &'static str {
        match self {
            AvPair::NbComputerName(_) => "MsvAvNbComputerName",
            AvPair::NbDomainName(_) => "MsvAvNbDomainName",
            AvPair::DnsComputerName(_) => "MsvAvDnsComputerName",
            AvPair::DnsDomainName(_) => "MsvAvDnsDomainName",
            AvPair::DnsTreeName(_) => "MsvAvDnsTreeName",
            AvPair::Flags(_) => "MsvAvFlags",
            AvPair::Timestamp(_) => "MsvAvTimestamp",
            AvPair::SingleHost(_) => "MsvAvSingleHost",
            AvPair::TargetName(_) => "MsvAvTargetName",
            AvPair::ChannelBindings(_) => "MsvAvChannelBindings",
            AvPair::Unknown { .. } => "unknown",
        }
    }
}

/// The client's opening message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Negotiate {
    /// `NegotiateFlags` the client asks for (MS-NLMP §2.2.2.5); [`flag_names`] names them.
    pub flags: u32,
    /// `DomainName`, when the client supplied it (OEM code page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// `Workstation`: the client's computer name, when supplied (OEM code page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workstation: Option<String>,
    /// The client's Windows version, when `NEGOTIATE_VERSION` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

/// The server's CHALLENGE: who the server is, its nonce and its clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChallengeMessage {
    /// `NegotiateFlags` the server agreed to (MS-NLMP §2.2.2.5); [`flag_names`] names them.
    pub flags: u32,
    /// `TargetName`: the server's domain or computer name (the `TARGET_TYPE_*` flag says which).
    pub target_name: String,
    /// The 8-byte server challenge, hex.
    pub server_challenge: String,
    /// `TargetInfo`: AV pairs naming the server, its domain and forest, and its clock.
    pub target_info: Vec<AvPair>,
    /// The server's Windows version, when `NEGOTIATE_VERSION` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

/// How the client answered: which response algorithm its bytes show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ResponseKind {
    /// No NT response: anonymous.
    Anonymous,
    /// A 24-byte NT response: NTLMv1 (crackable; should be disabled).
    NtlmV1,
    /// NTLMv1 with extended session security ("NTLM2 session response"): still v1-strength.
    NtlmV1Ess,
    /// NTLMv2: a 16-byte proof and a blob.
    NtlmV2,
}

/// What the LM response field carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LmKind {
    /// An empty `LmChallengeResponse`.
    Absent,
    /// 24 zero bytes (clients send this when the server gave a timestamp).
    Zeros,
    /// LMv2 alongside NTLMv2.
    LmV2,
    /// A real LM (or NTLMv1 copy) response: the weakest hash on the wire.
    Lm,
    /// The client challenge padded with zeros (extended session security).
    ClientChallenge,
}

/// The client's AUTHENTICATE: who it claims to be and how it proved it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Authenticate {
    /// `NegotiateFlags` (MS-NLMP §2.2.2.5); 0 when the message is too short to hold them (old
    /// clients).
    pub flags: u32,
    /// `DomainName`: the domain the user claims to belong to; may be empty.
    pub domain: String,
    /// `UserName`: the account the client authenticates as, as sent.
    pub user: String,
    /// `Workstation`: the client's computer name.
    pub workstation: String,
    /// The NT response algorithm, judged from `NtChallengeResponse`'s length and the flags.
    pub response: ResponseKind,
    /// What `LmChallengeResponse` carries.
    pub lm: LmKind,
    /// Length of `NtChallengeResponse` in bytes: 0 anonymous, 24 NTLMv1, more for NTLMv2.
    pub nt_response_len: usize,
    /// The NTLMv2 blob's timestamp (the client's clock, or the server's echoed), Unix seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_timestamp: Option<i64>,
    /// AV pairs echoed inside the NTLMv2 blob (with the client's additions: target name, bindings).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub target_info: Vec<AvPair>,
    /// Whether a MIC (message integrity code) is present.
    pub mic: bool,
    /// The client's Windows version, when `NEGOTIATE_VERSION` is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
    /// Whether an encrypted session key is carried.
    pub session_key: bool,
}

/// Any NTLM message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Message {
    /// Type 1, `NEGOTIATE_MESSAGE`, from the client.
    Negotiate(Negotiate),
    /// Type 2, `CHALLENGE_MESSAGE`, from the server.
    Challenge(ChallengeMessage),
    /// Type 3, `AUTHENTICATE_MESSAGE`, from the client.
    Authenticate(Authenticate),
}

/// Whether `bytes` start with the NTLMSSP signature.
pub fn is_ntlm(bytes: &[u8]) -> bool {
    bytes.starts_with(SIGNATURE)
}

/// Decodes any NTLM message.
pub fn decode(bytes: &[u8]) -> Result<Message, NtlmError> {
    if !is_ntlm(bytes) {
        return Err(NtlmError::NoSignature);
    }
    let r = Reader { b: bytes };
    match r.u32(8, "message type")? {
        1 => decode_negotiate(&r).map(Message::Negotiate),
        2 => decode_challenge(&r).map(Message::Challenge),
        3 => decode_authenticate(&r).map(Message::Authenticate),
        t => Err(NtlmError::UnknownType(t)),
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn slice(&self, start: usize, len: usize, what: &'static str) -> Result<&'a [u8], NtlmError> {
        let end = start.saturating_add(len);
        self.b.get(start..end).ok_or(NtlmError::Truncated {
            what,
            start,
            end,
            len: self.b.len(),
        })
    }

    fn u16(&self, at: usize, what: &'static str) -> Result<u16, NtlmError> {
        let s = self.slice(at, 2, what)?;
        Ok(u16::from_le_bytes([s[0], s[1]]))
    }

    fn u32(&self, at: usize, what: &'static str) -> Result<u32, NtlmError> {
        let s = self.slice(at, 4, what)?;
        Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
    }

    /// A `(Len, MaxLen, BufferOffset)` field pointing into the payload.
    fn field(&self, at: usize, what: &'static str) -> Result<&'a [u8], NtlmError> {
        let len = self.u16(at, what)? as usize;
        let offset = self.u32(at + 4, what)? as usize;
        if len == 0 {
            return Ok(&[]);
        }
        self.slice(offset, len, what)
    }

    /// Like `field`, but absent when the fixed part is too short to hold it (old short messages).
    fn optional_field(&self, at: usize, what: &'static str) -> Result<&'a [u8], NtlmError> {
        if self.b.len() < at + 8 {
            Ok(&[])
        } else {
            self.field(at, what)
        }
    }

    fn version(&self, at: usize, flags: u32, payload_start: usize) -> Option<Version> {
        if flags & NEGOTIATE_VERSION == 0 || payload_start < at + 8 {
            return None;
        }
        let v = self.slice(at, 8, "version").ok()?;
        Some(Version {
            major: v[0],
            minor: v[1],
            build: u16::from_le_bytes([v[2], v[3]]),
            revision: v[7],
        })
    }

    /// The smallest payload offset among the given fields: where the fixed part ends.
    fn payload_start(&self, fields: &[usize]) -> usize {
        fields
            .iter()
            .filter_map(|&at| {
                let len = self.u16(at, "").ok()?;
                let off = self.u32(at + 4, "").ok()? as usize;
                (len > 0).then_some(off)
            })
            .min()
            .unwrap_or(self.b.len())
    }
}

fn text(bytes: &[u8], unicode: bool) -> String {
    if unicode {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        // OEM code page: ASCII is what matters in practice; other bytes as Latin-1.
        bytes.iter().map(|&b| b as char).collect()
    }
}

fn decode_negotiate(r: &Reader) -> Result<Negotiate, NtlmError> {
    let flags = r.u32(12, "negotiate flags")?;
    let domain = r.optional_field(16, "domain name")?;
    let workstation = r.optional_field(24, "workstation")?;
    let payload = r.payload_start(&[16, 24]).min(r.b.len());
    Ok(Negotiate {
        flags,
        domain: (!domain.is_empty()).then(|| text(domain, false)),
        workstation: (!workstation.is_empty()).then(|| text(workstation, false)),
        version: r.version(32, flags, payload),
    })
}

fn decode_challenge(r: &Reader) -> Result<ChallengeMessage, NtlmError> {
    let flags = r.u32(20, "negotiate flags")?;
    let unicode = flags & NEGOTIATE_UNICODE != 0;
    let target_name = text(r.field(12, "target name")?, unicode);
    let server_challenge = hex::encode(r.slice(24, 8, "server challenge")?);
    let target_info = if r.b.len() >= 48 {
        av_pairs(r.field(40, "target info")?)
    } else {
        Vec::new()
    };
    let payload = r.payload_start(&[12, 40]);
    Ok(ChallengeMessage {
        flags,
        target_name,
        server_challenge,
        target_info,
        version: r.version(48, flags, payload),
    })
}

fn decode_authenticate(r: &Reader) -> Result<Authenticate, NtlmError> {
    let lm = r.field(12, "LM response")?;
    let nt = r.field(20, "NT response")?;
    let domain = r.field(28, "domain name")?;
    let user = r.field(36, "user name")?;
    let workstation = r.field(44, "workstation")?;
    let session_key = r.optional_field(52, "session key")?;
    let flags = if r.b.len() >= 64 {
        r.u32(60, "negotiate flags")?
    } else {
        0
    };
    let unicode = flags & NEGOTIATE_UNICODE != 0 || flags == 0;
    let payload = r.payload_start(&[12, 20, 28, 36, 44, 52]);

    let (response, client_timestamp, target_info) = match nt.len() {
        0 => (ResponseKind::Anonymous, None, Vec::new()),
        24 if flags & NEGOTIATE_EXTENDED_SESSIONSECURITY != 0 => {
            (ResponseKind::NtlmV1Ess, None, Vec::new())
        }
        24 => (ResponseKind::NtlmV1, None, Vec::new()),
        n if n >= 16 + 28 => {
            let blob = &nt[16..];
            let ts = u64::from_le_bytes(blob[8..16].try_into().unwrap_or([0; 8]));
            let pairs = av_pairs(&blob[28..]);
            (ResponseKind::NtlmV2, filetime_to_unix(ts), pairs)
        }
        _ => (ResponseKind::NtlmV1, None, Vec::new()),
    };
    let lm_kind = match (lm.len(), response) {
        (0, _) => LmKind::Absent,
        (_, _) if lm.iter().all(|&b| b == 0) => LmKind::Zeros,
        (24, ResponseKind::NtlmV2) => LmKind::LmV2,
        (24, ResponseKind::NtlmV1Ess) if lm[8..].iter().all(|&b| b == 0) => LmKind::ClientChallenge,
        _ => LmKind::Lm,
    };
    let mic_flag = target_info
        .iter()
        .any(|p| matches!(p, AvPair::Flags(f) if f & 0x2 != 0));
    Ok(Authenticate {
        flags,
        domain: text(domain, unicode),
        user: text(user, unicode),
        workstation: text(workstation, unicode),
        response: if flags & NEGOTIATE_ANONYMOUS != 0 && nt.is_empty() {
            ResponseKind::Anonymous
        } else {
            response
        },
        lm: lm_kind,
        nt_response_len: nt.len(),
        client_timestamp,
        target_info,
        mic: mic_flag && payload >= 88,
        version: r.version(64, flags, payload),
        session_key: !session_key.is_empty(),
    })
}

/// Windows FILETIME (100 ns since 1601) to Unix seconds; `None` for zero.
pub fn filetime_to_unix(ft: u64) -> Option<i64> {
    const EPOCH_DIFF_SECS: i64 = 11_644_473_600;
    (ft != 0).then(|| (ft / 10_000_000) as i64 - EPOCH_DIFF_SECS)
}

/// Unix seconds to a Windows FILETIME.
pub fn unix_to_filetime(secs: i64) -> u64 {
    ((secs + 11_644_473_600).max(0) as u64) * 10_000_000
}

/// Reads AV pairs up to `MsvAvEOL` or the end; a truncated pair ends the list.
fn av_pairs(bytes: &[u8]) -> Vec<AvPair> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 4 <= bytes.len() {
        let id = u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let len = u16::from_le_bytes([bytes[at + 2], bytes[at + 3]]) as usize;
        let Some(v) = bytes.get(at + 4..at + 4 + len) else {
            break;
        };
        let s = || text(v, true);
        out.push(match id {
            0 => break,
            1 => AvPair::NbComputerName(s()),
            2 => AvPair::NbDomainName(s()),
            3 => AvPair::DnsComputerName(s()),
            4 => AvPair::DnsDomainName(s()),
            5 => AvPair::DnsTreeName(s()),
            6 if len == 4 => AvPair::Flags(u32::from_le_bytes([v[0], v[1], v[2], v[3]])),
            7 if len == 8 => {
                match filetime_to_unix(u64::from_le_bytes(v.try_into().unwrap_or([0; 8]))) {
                    Some(t) => AvPair::Timestamp(t),
                    None => AvPair::Unknown { id, len },
                }
            }
            8 => AvPair::SingleHost(len),
            9 => AvPair::TargetName(s()),
            10 => AvPair::ChannelBindings(hex::encode(v)),
            _ => AvPair::Unknown { id, len },
        });
        at += 4 + len;
    }
    out
}

impl ChallengeMessage {
    /// The server's clock from `MsvAvTimestamp`, Unix seconds.
    pub fn timestamp(&self) -> Option<i64> {
        self.target_info.iter().find_map(|p| match p {
            AvPair::Timestamp(t) => Some(*t),
            _ => None,
        })
    }
}

impl Authenticate {
    /// The SPN the client targeted (`MsvAvTargetName`), when it said.
    pub fn target_spn(&self) -> Option<&str> {
        self.target_info.iter().find_map(|p| match p {
            AvPair::TargetName(s) if !s.is_empty() => Some(s.as_str()),
            _ => None,
        })
    }

    /// Whether the client sent channel bindings (Extended Protection for Authentication).
    pub fn has_channel_bindings(&self) -> bool {
        self.target_info
            .iter()
            .any(|p| matches!(p, AvPair::ChannelBindings(h) if h.bytes().any(|b| b != b'0')))
    }
}

/// Builds a NEGOTIATE message with `flags` and no domain/workstation (for tests and the lab).
pub fn encode_negotiate(flags: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(32);
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&1u32.to_le_bytes());
    m.extend_from_slice(&flags.to_le_bytes());
    m.extend_from_slice(&[0u8; 8]);
    m.extend_from_slice(&[0, 0, 0, 0, 32, 0, 0, 0]);
    m
}

/// Builds a CHALLENGE message (the lab's NTLM server uses it).
pub fn encode_challenge(
    flags: u32,
    target_name: &str,
    server_challenge: [u8; 8],
    info: &[AvPair],
) -> Vec<u8> {
    let name = utf16(target_name);
    let mut ti = Vec::new();
    for p in info {
        let (id, v): (u16, Vec<u8>) = match p {
            AvPair::NbComputerName(s) => (1, utf16(s)),
            AvPair::NbDomainName(s) => (2, utf16(s)),
            AvPair::DnsComputerName(s) => (3, utf16(s)),
            AvPair::DnsDomainName(s) => (4, utf16(s)),
            AvPair::DnsTreeName(s) => (5, utf16(s)),
            AvPair::Flags(f) => (6, f.to_le_bytes().to_vec()),
            AvPair::Timestamp(t) => (7, unix_to_filetime(*t).to_le_bytes().to_vec()),
            AvPair::TargetName(s) => (9, utf16(s)),
            _ => continue,
        };
        ti.extend_from_slice(&id.to_le_bytes());
        ti.extend_from_slice(&(v.len() as u16).to_le_bytes());
        ti.extend_from_slice(&v);
    }
    ti.extend_from_slice(&[0; 4]);
    let name_off = 56u32;
    let ti_off = name_off + name.len() as u32;
    let mut m = Vec::new();
    m.extend_from_slice(SIGNATURE);
    m.extend_from_slice(&2u32.to_le_bytes());
    push_field(&mut m, name.len(), name_off);
    m.extend_from_slice(&(flags | NEGOTIATE_VERSION).to_le_bytes());
    m.extend_from_slice(&server_challenge);
    m.extend_from_slice(&[0; 8]);
    push_field(&mut m, ti.len(), ti_off);
    m.extend_from_slice(&[10, 0, 0x61, 0x4a, 0, 0, 0, 15]);
    m.extend_from_slice(&name);
    m.extend_from_slice(&ti);
    m
}

fn push_field(m: &mut Vec<u8>, len: usize, offset: u32) {
    m.extend_from_slice(&(len as u16).to_le_bytes());
    m.extend_from_slice(&(len as u16).to_le_bytes());
    m.extend_from_slice(&offset.to_le_bytes());
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// MS-NLMP §4.2.4.3: the CHALLENGE_MESSAGE of the NTLMv2 example.
    const NLMP_CHALLENGE: &str = "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000";
    /// MS-NLMP §4.2.4.3: the AUTHENTICATE_MESSAGE of the NTLMv2 example.
    const NLMP_AUTHENTICATE: &str = concat!(
        "4e544c4d5353500003000000180018006c00000054005400840000000c000c00",
        "480000000800080054000000100010005c00000010001000d8000000358288e2",
        "0501280a0000000f44006f006d00610069006e00550073006500720043004f00",
        "4d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaa",
        "aaaaaaaa68cd0ab851e51c96aabc927bebef6a1c010100000000000000000000",
        "00000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e00",
        "01000c005300650072007600650072000000000000000000c5dad2544fc97990",
        "94ce1ce90bc9d03e"
    );

    #[test]
    fn ms_nlmp_4_2_4_challenge() {
        let Message::Challenge(c) = decode(&hex::decode(NLMP_CHALLENGE).unwrap()).unwrap() else {
            panic!()
        };
        assert_eq!(c.target_name, "Server");
        assert_eq!(c.server_challenge, "0123456789abcdef");
        assert_eq!(c.flags, 0xe28a8233);
        assert!(flag_names(c.flags).contains(&"NEGOTIATE_EXTENDED_SESSIONSECURITY".to_string()));
        assert_eq!(
            c.target_info,
            [
                AvPair::NbDomainName("Domain".into()),
                AvPair::NbComputerName("Server".into())
            ]
        );
        assert_eq!(
            c.version,
            Some(Version {
                major: 6,
                minor: 0,
                build: 6000,
                revision: 15
            })
        );
        assert_eq!(c.timestamp(), None);
    }

    #[test]
    fn ms_nlmp_4_2_4_authenticate() {
        let Message::Authenticate(a) = decode(&hex::decode(NLMP_AUTHENTICATE).unwrap()).unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (a.domain.as_str(), a.user.as_str(), a.workstation.as_str()),
            ("Domain", "User", "COMPUTER")
        );
        assert_eq!(a.response, ResponseKind::NtlmV2);
        assert_eq!(a.lm, LmKind::LmV2);
        assert_eq!(a.nt_response_len, 84);
        assert!(!a.mic);
        assert!(a.session_key);
        assert_eq!(
            a.version,
            Some(Version {
                major: 5,
                minor: 1,
                build: 2600,
                revision: 15
            })
        );
        assert_eq!(a.target_info.len(), 2);
    }

    #[test]
    fn challenge_round_trips_with_timestamp() {
        let info = [
            AvPair::NbDomainName("CORP".into()),
            AvPair::DnsComputerName("web.corp.example".into()),
            AvPair::Timestamp(1_764_000_000),
        ];
        let m = encode_challenge(0xe2898215, "CORP", [1, 2, 3, 4, 5, 6, 7, 8], &info);
        let Message::Challenge(c) = decode(&m).unwrap() else {
            panic!()
        };
        assert_eq!(c.target_name, "CORP");
        assert_eq!(c.server_challenge, "0102030405060708");
        assert_eq!(c.target_info, info);
        assert_eq!(c.timestamp(), Some(1_764_000_000));
    }

    #[test]
    fn ntlmv1_authenticate_is_recognized() {
        // An AUTHENTICATE with 24-byte LM and NT responses and no extended session security.
        let mut m = Vec::new();
        m.extend_from_slice(SIGNATURE);
        m.extend_from_slice(&3u32.to_le_bytes());
        let payload = 64u32;
        push_field(&mut m, 24, payload);
        push_field(&mut m, 24, payload + 24);
        push_field(&mut m, 0, 0);
        push_field(&mut m, 6, payload + 48);
        push_field(&mut m, 0, 0);
        push_field(&mut m, 0, 0);
        m.extend_from_slice(&0x0000_8201u32.to_le_bytes());
        m.extend_from_slice(&[0x11; 48]);
        m.extend_from_slice(&utf16("bob"));
        let Message::Authenticate(a) = decode(&m).unwrap() else {
            panic!()
        };
        assert_eq!(a.response, ResponseKind::NtlmV1);
        assert_eq!(a.lm, LmKind::Lm);
        assert_eq!(a.user, "bob");
    }

    #[test]
    fn truncation_is_an_error() {
        let full = hex::decode(NLMP_AUTHENTICATE).unwrap();
        for n in 0..full.len() {
            let _ = decode(&full[..n]);
        }
        assert!(matches!(
            decode(&full[..100]),
            Err(NtlmError::Truncated { .. })
        ));
        assert_eq!(
            decode(b"NTLMSSP\0\x09\0\0\0"),
            Err(NtlmError::UnknownType(9))
        );
        assert_eq!(decode(b"hello"), Err(NtlmError::NoSignature));
    }

    #[test]
    fn filetime_conversion() {
        // davenport.sourceforge.net: 1055844000 is 0x0090d336b734c301 little-endian.
        assert_eq!(
            unix_to_filetime(1_055_844_000).to_le_bytes(),
            [0x00, 0x90, 0xd3, 0x36, 0xb7, 0x34, 0xc3, 0x01]
        );
        assert_eq!(
            filetime_to_unix(unix_to_filetime(1_055_844_000)),
            Some(1_055_844_000)
        );
    }

    proptest! {
        #[test]
        fn never_panics(tail in proptest::collection::vec(any::<u8>(), 0..200), kind in 0u8..5) {
            let mut m = SIGNATURE.to_vec();
            m.extend_from_slice(&[kind, 0, 0, 0]);
            m.extend_from_slice(&tail);
            let _ = decode(&m);
        }

        #[test]
        fn mutated_vectors_never_panic(i in 0usize..232, b in any::<u8>()) {
            let mut m = hex::decode(NLMP_AUTHENTICATE).unwrap();
            let i = i % m.len();
            m[i] = b;
            let _ = decode(&m);
        }
    }
}
