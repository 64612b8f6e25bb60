//! Second factors: TOTP (RFC 6238: SHA-1, 6 digits, 30 s, one step either way, each code good
//! once), WebAuthn credentials (webauthn-rs: passkeys, or security keys when user verification
//! is only preferred) and recovery codes (random, shown once, stored hashed, each good once).
//!
//! A TOTP secret is the one credential the gateway must be able to read back, so it is sealed
//! (XChaCha20-Poly1305) under the gateway's key: `WHY401_GATE_KEY` (32 bytes, base64) or the key
//! file beside the store, made on first use, readable by its owner only. Every instance that
//! shares a store needs the same key.

use std::path::Path;

use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::Digest;

/// The factor kinds, as stored.
pub const TOTP: &str = "totp";
/// A WebAuthn credential.
pub const WEBAUTHN: &str = "webauthn";
/// A recovery code (as a session's `second_factor`; not a stored factor).
pub const RECOVERY: &str = "recovery";

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// Why the gateway's key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// `WHY401_GATE_KEY` is set but is not 32 bytes of base64.
    #[error("WHY401_GATE_KEY must be 32 bytes in base64 (make one with `openssl rand -base64 32`)")]
    BadEnv,
    /// The key file could not be read or made, or is not 32 bytes.
    #[error("the gateway's key file {0}: {1}")]
    File(String, String),
}

/// Seals and opens TOTP secrets under the gateway's key.
#[derive(Clone)]
pub struct Sealer {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// The key from `WHY401_GATE_KEY`, else from `file` (made, 0600, if missing).
    pub fn load(file: &Path) -> Result<Sealer, KeyError> {
        if let Ok(v) = std::env::var("WHY401_GATE_KEY") {
            let key = base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .map_err(|_| KeyError::BadEnv)?;
            return Sealer::from_key(&key).ok_or(KeyError::BadEnv);
        }
        let err =
            |e: &dyn std::fmt::Display| KeyError::File(file.display().to_string(), e.to_string());
        if !file.exists() {
            // Written whole to a file of its own, then linked into place: two instances
            // starting at once never read a half-written key, and the second takes the first's.
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).expect("the system's random source");
            let text = base64::engine::general_purpose::STANDARD.encode(key);
            let tmp = file.with_extension(format!("new.{}", new_id()));
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let written = options.open(&tmp).and_then(|mut f| {
                use std::io::Write;
                f.write_all(format!("{text}\n").as_bytes())?;
                f.sync_all()
            });
            let linked = written.and_then(|()| std::fs::hard_link(&tmp, file));
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {}
                // Another process made it first: read theirs.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(err(&e)),
            }
        }
        let text = std::fs::read_to_string(file).map_err(|e| err(&e))?;
        let key = base64::engine::general_purpose::STANDARD
            .decode(text.trim())
            .map_err(|e| err(&e))?;
        Sealer::from_key(&key).ok_or_else(|| err(&"not 32 bytes of base64"))
    }

    /// A sealer for a 32-byte key.
    pub fn from_key(key: &[u8]) -> Option<Sealer> {
        (key.len() == 32).then(|| Sealer {
            cipher: XChaCha20Poly1305::new_from_slice(key).expect("a 32-byte key"),
        })
    }

    /// `nonce || ciphertext` of `secret`, bound to `factor_id` (a sealed secret copied to
    /// another factor's row does not open).
    pub fn seal(&self, factor_id: &str, secret: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).expect("the system's random source");
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                chacha20poly1305::aead::Payload {
                    msg: secret,
                    aad: factor_id.as_bytes(),
                },
            )
            .expect("sealing cannot fail for a short secret");
        [nonce.as_slice(), &sealed].concat()
    }

    /// The secret sealed in `sealed` for `factor_id`; `None` if it does not open (another key,
    /// another row, damaged).
    pub fn open(&self, factor_id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < 24 {
            return None;
        }
        let (nonce, body) = sealed.split_at(24);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                chacha20poly1305::aead::Payload {
                    msg: body,
                    aad: factor_id.as_bytes(),
                },
            )
            .ok()
    }
}

/// Where the gateway's key is: `[mfa] key_file` (relative to the config's directory `base`),
/// else `gate.key` beside a SQLite store, or beside the config for PostgreSQL.
pub fn key_path(
    mfa: &crate::config::Mfa,
    base: &Path,
    store: &crate::store::Store,
) -> std::path::PathBuf {
    match &mfa.key_file {
        Some(f) => base.join(f),
        None if store.is_postgres() => base.join("gate.key"),
        None => store.dir().join("gate.key"),
    }
}

/// Adds a TOTP factor with a new secret for `user`; its id and the secret (to show once).
pub async fn add_totp(
    store: &crate::store::Store,
    sealer: &Sealer,
    user: &str,
    label: &str,
    confirmed: bool,
) -> Result<(String, [u8; 20]), crate::store::StoreError> {
    let id = new_id();
    let secret = new_secret();
    let sealed = sealer.seal(&id, &secret);
    store
        .add_factor(&crate::store::NewFactor {
            id: &id,
            user,
            kind: TOTP,
            label,
            secret: Some(&sealed),
            credential: None,
            confirmed,
        })
        .await?;
    Ok((id, secret))
}

/// New recovery codes for `user`, replacing any left, stored hashed; the codes, to show once.
pub async fn replace_recovery_codes(
    store: &crate::store::Store,
    user: &str,
) -> Result<Vec<String>, crate::store::StoreError> {
    let codes = new_recovery_codes();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    store.set_recovery_codes(user, &hashes).await?;
    Ok(codes)
}

/// A random id for a factor or a ceremony.
pub fn new_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the system's random source");
    hex::encode(b)
}

/// A new TOTP secret: 160 bits, as RFC 4226 §4 recommends.
pub fn new_secret() -> [u8; 20] {
    let mut b = [0u8; 20];
    getrandom::fill(&mut b).expect("the system's random source");
    b
}

fn totp(secret: &[u8], issuer: &str, user: &str) -> Option<totp_rs::Totp> {
    // An issuer or account name with `:` cannot be written in the otpauth label.
    totp_rs::Builder::new()
        .with_secret(secret.to_vec())
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(user.replace(':', " "))
        .build()
        .ok()
}

/// The `otpauth://totp/…` URI an authenticator app reads (from a QR code or pasted).
pub fn otpauth(secret: &[u8], issuer: &str, user: &str) -> String {
    totp(secret, issuer, user)
        .and_then(|t| t.to_url().ok())
        .unwrap_or_default()
}

/// The secret in base32, for typing into an app by hand.
pub fn base32(secret: &[u8]) -> String {
    totp_rs::Secret::from(secret.to_vec()).to_base32()
}

/// The secret of a base32 key (as an app's "enter a key" shows it); `None` if it is not base32.
pub fn from_base32(key: &str) -> Option<Vec<u8>> {
    totp_rs::Secret::try_from_base32(key.trim())
        .ok()
        .map(|s| s.as_bytes().to_vec())
}

/// The time step a `code` is right for at `now` (one step of skew either way); `None`: wrong.
/// The caller refuses a step already used.
pub fn check_totp(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, "why401", "user")?.check(&code, now)
}

/// The code for `secret` at `now` (for tests and the CLI's check).
pub fn totp_code(secret: &[u8], now: u64) -> String {
    totp(secret, "why401", "user")
        .map(|t| t.generate(now).to_string())
        .unwrap_or_default()
}

/// New recovery codes, as shown to the user (`xxxx-xxxx-xxxx-xxxx`, base32: 80 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 10];
            getrandom::fill(&mut b).expect("the system's random source");
            let s = base32(&b).to_ascii_lowercase();
            format!("{}-{}-{}-{}", &s[0..4], &s[4..8], &s[8..12], &s[12..16])
        })
        .collect()
}

/// What is stored of a recovery code: the SHA-256 of its letters, case and dashes aside. 80
/// random bits need no slow hash: nobody guesses them from the hash.
pub fn recovery_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(sha2::Sha256::digest(format!("why401 recovery code {norm}")))
}

/// Whether `code` looks like a recovery code rather than a TOTP code.
pub fn is_recovery_code(code: &str) -> bool {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).count() == 16
}

/// `text` as a QR code for a terminal: two rows of modules per line, in half blocks.
pub fn qr_terminal(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(q) => q
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
        Err(e) => format!("(no QR code: {e})"),
    }
}

/// `text` as a QR code in SVG, for the enrolment page.
pub fn qr_svg(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(q) => q
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// The WebAuthn relying party for `host` (the request's host, without port): credentials are
/// scoped to it. `https://host` on any port is accepted, and `http://localhost` as browsers
/// treat it as secure.
pub fn relying_party(host: &str) -> Option<webauthn_rs::Webauthn> {
    let origin = url::Url::parse(&format!("https://{host}")).ok()?;
    let mut b = webauthn_rs::WebauthnBuilder::new(host, &origin)
        .ok()?
        .rp_name("why401 gate")
        .allow_any_port(true);
    if host == "localhost" {
        b = b.append_allowed_origin(&url::Url::parse("http://localhost").ok()?);
    }
    b.build().ok()
}

/// The WebAuthn user handle for `user`: stable, and not the name itself.
pub fn user_handle(user: &str) -> webauthn_rs::prelude::Uuid {
    let d = sha2::Sha256::digest(format!("why401 user {}", user.to_lowercase()));
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    webauthn_rs::prelude::Uuid::from_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vector_and_skew() {
        // RFC 6238 appendix B, SHA-1: T = 59 s gives 94287082 (8 digits); 6 digits: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(totp_code(secret, 59), "287082");
        assert_eq!(check_totp(secret, "287082", 59), Some(1));
        // One step either way is accepted, two are not.
        assert_eq!(check_totp(secret, "287082", 59 + 30), Some(1));
        assert_eq!(check_totp(secret, "287082", 59 + 60), None);
        assert_eq!(check_totp(secret, "28708", 59), None);
        assert_eq!(check_totp(secret, "28708x", 59), None);
        assert_eq!(check_totp(secret, "287 082", 59), Some(1));
    }

    #[test]
    fn instances_starting_at_once_share_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gate.key");
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| Sealer::load(&file).unwrap().seal("x", b"secret")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let one = Sealer::load(&file).unwrap();
        for sealed in keys {
            assert_eq!(one.open("x", &sealed).as_deref(), Some(&b"secret"[..]));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn sealing_is_bound_to_the_key_and_the_row() {
        let s = Sealer::from_key(&[7u8; 32]).unwrap();
        let sealed = s.seal("a", b"secret");
        assert_eq!(s.open("a", &sealed).as_deref(), Some(&b"secret"[..]));
        assert_eq!(s.open("b", &sealed), None);
        let other = Sealer::from_key(&[8u8; 32]).unwrap();
        assert_eq!(other.open("a", &sealed), None);
        assert_eq!(s.open("a", &sealed[..10]), None);
        assert!(Sealer::from_key(&[1u8; 31]).is_none());
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalised() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let set: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(set.len(), RECOVERY_CODES);
        let c = &codes[0];
        assert!(is_recovery_code(c));
        assert!(!is_recovery_code("123456"));
        assert_eq!(
            recovery_hash(c),
            recovery_hash(&c.to_uppercase().replace('-', " "))
        );
    }

    proptest::proptest! {
        /// Whatever a client types as a code, or a damaged row holds, nothing panics and
        /// nothing opens.
        #[test]
        fn hostile_codes_and_sealed_bytes_never_panic(code in ".{0,40}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = check_totp(b"12345678901234567890", &code, 1_700_000_000);
            let _ = is_recovery_code(&code);
            let _ = recovery_hash(&code);
            let _ = from_base32(&code);
            let s = Sealer::from_key(&[3u8; 32]).unwrap();
            proptest::prop_assert_eq!(s.open("a", &bytes), None);
        }
    }

    #[test]
    fn otpauth_uri_names_issuer_and_user() {
        let uri = otpauth(b"12345678901234567890", "why401", "alice");
        assert!(uri.starts_with("otpauth://totp/why401:alice?"), "{uri}");
        assert!(
            uri.contains("secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"),
            "{uri}"
        );
        assert!(qr_terminal(&uri).contains('▀'));
        assert!(qr_svg(&uri).starts_with("<?xml") || qr_svg(&uri).starts_with("<svg"));
    }
}
