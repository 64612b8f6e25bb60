//! MIT credential caches (`FILE:` ccaches, the format `kinit` writes and `KRB5CCNAME` names):
//! the default principal and each ticket's service, flags and times. Written here because no
//! maintained crate reads them; the layout is MIT's `doc/formats/ccache_file_format.rst`
//! (versions 3 and 4, big-endian). Session keys and tickets are kept in memory for the probe to
//! use ([`CcacheCredential::credential`]), never serialized and never shown; the tickets'
//! encrypted parts are never opened.

use serde::Serialize;

use crate::{krb5, spnego};

/// A principal as the ccache stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CcachePrincipal {
    /// RFC 4120 §6.2 name type.
    pub name_type: u32,
    /// The realm.
    pub realm: String,
    /// The name components.
    pub components: Vec<String>,
}

impl CcachePrincipal {
    /// `HTTP/web.corp.example@CORP.EXAMPLE`.
    pub fn display(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }
}

/// One cached credential: a ticket for a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CcacheCredential {
    /// Whose ticket it is.
    pub client: CcachePrincipal,
    /// The service it is for (`krbtgt/REALM@REALM` for the TGT).
    pub server: CcachePrincipal,
    /// The session key's encryption type (the key itself is not kept).
    pub session_etype: u16,
    /// When the client authenticated, Unix seconds.
    pub auth_time: u32,
    /// When the ticket starts to be valid (0: at `auth_time`).
    pub start_time: u32,
    /// When it expires.
    pub end_time: u32,
    /// Until when it can be renewed (0: not renewable).
    pub renew_till: u32,
    /// The ticket flags (RFC 4120 §5.3 bit order: 0x40000000 forwardable … 0x00040000
    /// ok-as-delegate, 0x00010000 enc-pa-rep of RFC 6806); [`flag_names`] names them.
    pub flags: u32,
    /// The ticket's own encryption type and kvno, read from its clear part (absent when the
    /// ticket could not be read, as for MIT's configuration entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_etype: Option<i64>,
    /// The service key version the ticket is encrypted under, when the ticket says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket_kvno: Option<i64>,
    /// An MIT configuration entry (`X-CACHECONF:`), not a ticket.
    pub config: bool,
    /// The session key (not serialized; its `Debug` is redacted).
    #[serde(skip)]
    pub key: krb5::SessionKey,
    /// The ticket, DER (not serialized: a bearer credential while it lasts).
    #[serde(skip)]
    pub ticket: Vec<u8>,
}

impl CcacheCredential {
    /// This entry as a credential the Kerberos client can use.
    pub fn credential(&self) -> krb5::Credential {
        let principal = |p: &CcachePrincipal| krb5::Principal {
            name_type: i64::from(p.name_type),
            components: p.components.clone(),
            realm: p.realm.clone(),
        };
        krb5::Credential {
            client: principal(&self.client),
            server: principal(&self.server),
            key: self.key.clone(),
            ticket: self.ticket.clone(),
            flags: self.flags,
            auth_time: i64::from(self.auth_time),
            start_time: i64::from(if self.start_time == 0 {
                self.auth_time
            } else {
                self.start_time
            }),
            end_time: i64::from(self.end_time),
            renew_till: i64::from(self.renew_till),
        }
    }
}

/// A credential cache read whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ccache {
    /// 3 or 4.
    pub version: u8,
    /// The KDC's clock minus ours, seconds, when the cache recorded it (version 4 header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kdc_offset: Option<i64>,
    /// Whose cache it is.
    pub default_principal: CcachePrincipal,
    /// The cached credentials, in file order.
    pub credentials: Vec<CcacheCredential>,
}

/// Why a ccache could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CcacheError {
    /// Not 0x05 0x03 or 0x05 0x04 at the start (versions 1 and 2 are native-endian and older
    /// than any supported MIT release).
    #[error("not an MIT credential cache of version 3 or 4")]
    NotCcache,
    /// The file ends inside a structure; carries the byte offset where it starts.
    #[error("the credential cache is cut short at byte {0}")]
    Truncated(usize),
}

/// Whether `bytes` start like a version 3 or 4 ccache.
pub fn is_ccache(bytes: &[u8]) -> bool {
    matches!(bytes, [0x05, 0x03 | 0x04, ..])
}

/// The names of the set ticket flags, most significant first.
pub fn flag_names(flags: u32) -> Vec<&'static str> {
    const NAMES: [(u32, &str); 15] = [
        (0x4000_0000, "forwardable"),
        (0x2000_0000, "forwarded"),
        (0x1000_0000, "proxiable"),
        (0x0800_0000, "proxy"),
        (0x0400_0000, "may-postdate"),
        (0x0200_0000, "postdated"),
        (0x0100_0000, "invalid"),
        (0x0080_0000, "renewable"),
        (0x0040_0000, "initial"),
        (0x0020_0000, "pre-authent"),
        (0x0010_0000, "hw-authent"),
        (0x0008_0000, "transited-policy-checked"),
        (0x0004_0000, "ok-as-delegate"),
        (0x0001_0000, "enc-pa-rep"),
        (0x0000_8000, "anonymous"),
    ];
    NAMES
        .iter()
        .filter(|(bit, _)| flags & bit != 0)
        .map(|(_, n)| *n)
        .collect()
}

/// Reads a ccache.
pub fn decode(bytes: &[u8]) -> Result<Ccache, CcacheError> {
    if !is_ccache(bytes) {
        return Err(CcacheError::NotCcache);
    }
    let version = bytes[1];
    let mut r = Reader { bytes, at: 2 };
    let mut kdc_offset = None;
    if version == 4 {
        let len = r.u16().ok_or(CcacheError::Truncated(2))? as usize;
        let header = r.take(len).ok_or(CcacheError::Truncated(2))?;
        let mut h = Reader {
            bytes: header,
            at: 0,
        };
        while let (Some(tag), Some(n)) = (h.u16(), h.u16()) {
            let Some(data) = h.take(n as usize) else {
                return Err(CcacheError::Truncated(2));
            };
            if tag == 1 && data.len() == 8 {
                let secs = i32::from_be_bytes(data[..4].try_into().unwrap_or_default());
                kdc_offset = Some(i64::from(secs));
            }
        }
    }
    let at = r.at;
    let default_principal = r.principal().ok_or(CcacheError::Truncated(at))?;
    let mut credentials = Vec::new();
    while r.at < bytes.len() {
        let at = r.at;
        credentials.push(r.credential(version).ok_or(CcacheError::Truncated(at))?);
    }
    Ok(Ccache {
        version,
        kdc_offset,
        default_principal,
        credentials,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_be_bytes(self.take(4)?.try_into().ok()?))
    }

    fn data(&mut self) -> Option<&[u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    fn text(&mut self) -> Option<String> {
        Some(String::from_utf8_lossy(self.data()?).into_owned())
    }

    fn principal(&mut self) -> Option<CcachePrincipal> {
        let name_type = self.u32()?;
        let count = self.u32()?;
        let realm = self.text()?;
        // A hostile count cannot make us allocate: each component needs at least 4 bytes.
        let components = (0..count.min(1024))
            .map(|_| self.text())
            .collect::<Option<Vec<_>>>()?;
        (count <= 1024).then_some(CcachePrincipal {
            name_type,
            realm,
            components,
        })
    }

    fn credential(&mut self, version: u8) -> Option<CcacheCredential> {
        let client = self.principal()?;
        let server = self.principal()?;
        let session_etype = self.u16()?;
        if version == 3 {
            self.u16()?; // version 3 writes the enctype twice
        }
        let key = krb5::SessionKey::new(i64::from(session_etype), self.data()?.to_vec());
        let (auth_time, start_time, end_time, renew_till) =
            (self.u32()?, self.u32()?, self.u32()?, self.u32()?);
        let _is_skey = self.u8()?;
        let flags = self.u32()?;
        for _ in 0..self.u32()?.min(1024) {
            self.u16()?;
            self.data()?; // addresses
        }
        for _ in 0..self.u32()?.min(1024) {
            self.u16()?;
            self.data()?; // authorization data
        }
        let ticket = self.data()?.to_vec();
        self.data()?; // the second ticket (user-to-user)
        let config = server.realm == "X-CACHECONF:";
        let (ticket_etype, ticket_kvno) = match spnego::ticket_key(&ticket) {
            Ok((e, k)) if !config => (Some(e), k),
            _ => (None, None),
        };
        Some(CcacheCredential {
            client,
            server,
            session_etype,
            auth_time,
            start_time,
            end_time,
            renew_till,
            flags,
            ticket_etype,
            ticket_kvno,
            config,
            key,
            ticket,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn flags_are_named_in_rfc_order() {
        assert_eq!(flag_names(0x4040_0000), ["forwardable", "initial"]);
        assert_eq!(flag_names(0x0004_0000), ["ok-as-delegate"]);
        assert!(flag_names(0).is_empty());
    }

    #[test]
    fn other_files_are_not_ccaches() {
        assert_eq!(decode(b"\x05\x02rest"), Err(CcacheError::NotCcache));
        assert_eq!(decode(b""), Err(CcacheError::NotCcache));
        assert_eq!(decode(b"\x05\x04"), Err(CcacheError::Truncated(2)));
    }

    proptest! {
        #[test]
        fn any_bytes_after_the_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut cc = vec![0x05, 0x04];
            cc.extend(&tail);
            let _ = decode(&cc);
            cc[1] = 0x03;
            let _ = decode(&cc);
        }
    }
}
