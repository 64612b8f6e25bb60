//! MIT Kerberos keytab files (the format `ktutil`, `kadmin ktadd`, `msktutil` and Windows'
//! `ktpass` write): which principals, key version numbers and encryption types a service holds.
//! Written here because no maintained crate reads them; the layout is MIT's
//! `doc/formats/keytab_file_format.rst`. Key bytes are never kept: only their length.

use serde::Serialize;

/// One key of a keytab.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeytabEntry {
    /// The principal's name components (`HTTP`, `web.corp.example`).
    pub components: Vec<String>,
    /// The principal's realm (`CORP.EXAMPLE`).
    pub realm: String,
    /// The principal name type (RFC 4120 §6.2: 1 = principal, 3 = service host); absent in
    /// version 1 files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_type: Option<u32>,
    /// When the key was written, Unix seconds.
    pub timestamp: u32,
    /// The key version number: a ticket encrypted under another kvno fails with
    /// KRB_AP_ERR_BADKEYVER / KRB_AP_ERR_MODIFIED.
    pub kvno: u32,
    /// The encryption type number (RFC 3961/3962: 17, 18 = AES, 23 = RC4-HMAC).
    pub enctype: u16,
    /// The key's length in bytes (the key itself is never read out).
    pub key_len: usize,
}

impl KeytabEntry {
    /// `HTTP/web.corp.example@CORP.EXAMPLE`.
    pub fn principal(&self) -> String {
        format!("{}@{}", self.components.join("/"), self.realm)
    }
}

/// A keytab read whole: its format version and its keys, in file order (holes skipped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Keytab {
    /// 1 (native byte order, written as little-endian here) or 2 (big-endian, what MIT writes).
    pub version: u8,
    /// The keys.
    pub entries: Vec<KeytabEntry>,
}

/// Why a keytab could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeytabError {
    /// The file does not start with 0x05 0x01 or 0x05 0x02.
    #[error("not a keytab (it does not start with 0x05 0x01 or 0x05 0x02)")]
    NotKeytab,
    /// The file ends inside an entry; carries the byte offset where the entry starts.
    #[error("the keytab is cut short in the entry at byte {0}")]
    Truncated(usize),
}

/// Whether `bytes` start like a keytab.
pub fn is_keytab(bytes: &[u8]) -> bool {
    matches!(bytes, [0x05, 0x01 | 0x02, ..])
}

/// Reads a keytab.
pub fn decode(bytes: &[u8]) -> Result<Keytab, KeytabError> {
    if !is_keytab(bytes) {
        return Err(KeytabError::NotKeytab);
    }
    let version = bytes[1];
    let mut r = Reader {
        bytes,
        at: 2,
        big: version == 2,
    };
    let mut entries = Vec::new();
    while r.at < bytes.len() {
        let start = r.at;
        let size = r.u32().ok_or(KeytabError::Truncated(start))? as i32;
        if size == 0 {
            break; // MIT ends a keytab that was preallocated with zeros
        }
        let len = size.unsigned_abs() as usize;
        let body = bytes
            .get(r.at..r.at + len)
            .ok_or(KeytabError::Truncated(start))?;
        r.at += len;
        if size < 0 {
            continue; // a hole left by a deleted entry
        }
        entries.push(entry(body, version).ok_or(KeytabError::Truncated(start))?);
    }
    Ok(Keytab { version, entries })
}

fn entry(body: &[u8], version: u8) -> Option<KeytabEntry> {
    let mut r = Reader {
        bytes: body,
        at: 0,
        big: version == 2,
    };
    let mut count = r.u16()? as usize;
    if version == 1 {
        count = count.checked_sub(1)?; // version 1 counts the realm as a component
    }
    let realm = r.text()?;
    let components = (0..count).map(|_| r.text()).collect::<Option<Vec<_>>>()?;
    let name_type = (version == 2).then(|| r.u32()).flatten();
    if version == 2 && name_type.is_none() {
        return None;
    }
    let timestamp = r.u32()?;
    let vno8 = u32::from(r.u8()?);
    let enctype = r.u16()?;
    let key_len = r.u16()? as usize;
    r.skip(key_len)?;
    // A 32-bit kvno follows when the entry has room for it (MIT 1.14+); 0 means "use vno8".
    let kvno = match r.u32() {
        Some(k) if k != 0 => k,
        _ => vno8,
    };
    Some(KeytabEntry {
        components,
        realm,
        name_type,
        timestamp,
        kvno,
        enctype,
        key_len,
    })
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    big: bool,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }

    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn u16(&mut self) -> Option<u16> {
        let b: [u8; 2] = self.take(2)?.try_into().ok()?;
        Some(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn u32(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.take(4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn text(&mut self) -> Option<String> {
        let n = self.u16()? as usize;
        Some(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// One version-2 entry, as MIT writes it.
    fn entry_v2(components: &[&str], realm: &str, kvno: u32, enctype: u16, key: &[u8]) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend((components.len() as u16).to_be_bytes());
        for s in std::iter::once(&realm).chain(components) {
            e.extend((s.len() as u16).to_be_bytes());
            e.extend(s.as_bytes());
        }
        e.extend(1u32.to_be_bytes()); // KRB5_NT_PRINCIPAL
        e.extend(1_795_738_142u32.to_be_bytes());
        e.push((kvno & 0xff) as u8);
        e.extend(enctype.to_be_bytes());
        e.extend((key.len() as u16).to_be_bytes());
        e.extend(key);
        e.extend(kvno.to_be_bytes());
        let mut out = (e.len() as i32).to_be_bytes().to_vec();
        out.extend(e);
        out
    }

    #[test]
    fn entries_holes_and_a_32_bit_kvno() {
        let mut kt = vec![0x05, 0x02];
        kt.extend(entry_v2(
            &["HTTP", "web.corp.example"],
            "CORP.EXAMPLE",
            300,
            18,
            &[7; 32],
        ));
        kt.extend((-8i32).to_be_bytes()); // a hole of 8 bytes
        kt.extend([0; 8]);
        kt.extend(entry_v2(
            &["HTTP", "web.corp.example"],
            "CORP.EXAMPLE",
            2,
            23,
            &[9; 16],
        ));
        let k = decode(&kt).unwrap();
        assert_eq!(k.version, 2);
        assert_eq!(k.entries.len(), 2);
        assert_eq!(
            k.entries[0].principal(),
            "HTTP/web.corp.example@CORP.EXAMPLE"
        );
        assert_eq!(
            (
                k.entries[0].kvno,
                k.entries[0].enctype,
                k.entries[0].key_len
            ),
            (300, 18, 32)
        );
        assert_eq!((k.entries[1].kvno, k.entries[1].enctype), (2, 23));
        let shown = serde_json::to_string(&k).unwrap();
        assert!(!shown.contains("[7,7"), "key bytes never leave: {shown}");
    }

    #[test]
    fn cut_files_and_other_files_are_errors() {
        let mut kt = vec![0x05, 0x02];
        kt.extend(entry_v2(&["host", "a"], "R", 1, 17, &[1; 16]));
        for cut in 3..kt.len() {
            assert_eq!(
                decode(&kt[..cut]),
                Err(KeytabError::Truncated(2)),
                "cut at {cut}"
            );
        }
        assert_eq!(decode(b"\x05\x03"), Err(KeytabError::NotKeytab));
        assert_eq!(decode(b"HTTP/1.1"), Err(KeytabError::NotKeytab));
        assert!(decode(&[0x05, 0x02]).unwrap().entries.is_empty());
    }

    proptest! {
        #[test]
        fn any_bytes_after_the_magic_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..300)) {
            let mut kt = vec![0x05, 0x02];
            kt.extend(&tail);
            let _ = decode(&kt);
            kt[1] = 0x01;
            let _ = decode(&kt);
        }
    }
}
