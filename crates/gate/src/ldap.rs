//! The directory users already have: Active Directory or OpenLDAP over LDAP (ldap3).
//!
//! A password is checked by binding as the user (the gateway never reads a hash). Before that,
//! the gateway's service account finds the user's entry and reads its state: an account the
//! directory has disabled, locked, expired or whose password expired is refused without a
//! bind, so the gateway does not add to the directory's bad-password count. A bind that fails
//! says why in Active Directory's diagnostic text (`…AcceptSecurityContext error, data 775…`):
//! the data code is kept, and the catalogue explains it in the audit log and `gate explain`.
//! Groups come from `memberOf` or from a group search. Service-account connections are pooled
//! (deadpool); each has the config's timeout; TLS is LDAPS or StartTLS with rustls. Any failure
//! to reach or read the directory fails closed (503), never open.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapConnSettings, Scope, SearchEntry, ldap_escape};

use crate::login::Refusal;

/// Which directory: its attributes and default filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Active Directory: `sAMAccountName`, `userAccountControl`, `memberOf`.
    ActiveDirectory,
    /// OpenLDAP (and other RFC 4519 directories): `uid`, `pwdAccountLockedTime`.
    OpenLdap,
}

/// How groups are found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Groups {
    /// The user entry's `memberOf` values (each group's first RDN value is its name).
    MemberOf,
    /// A search under `base` with `filter` (`{dn}` is the user's DN, `{user}` the name); the
    /// group's name is its `attribute`.
    Search {
        /// Where the groups are.
        base: String,
        /// The filter; AD's nested groups: `(member:1.2.840.113556.1.4.1941:={dn})`.
        filter: String,
        /// The attribute naming a group.
        attribute: String,
    },
}

/// `[ldap]`, checked.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `ldap://host:port` or `ldaps://host:port`.
    pub url: String,
    /// Upgrade `ldap://` with StartTLS.
    pub start_tls: bool,
    /// A PEM file of CAs to trust for the directory's certificate (relative to the config's
    /// directory); `None`: the system's roots.
    pub ca_file: Option<String>,
    /// The service account that searches.
    pub bind_dn: String,
    /// The file holding its password (relative to the config's directory); else
    /// `WHY401_LDAP_BIND_PASSWORD`.
    pub bind_password_file: Option<String>,
    /// Where users are.
    pub base_dn: String,
    /// The filter finding a user; `{user}` is the name typed, escaped (RFC 4515).
    pub user_filter: String,
    /// Which directory.
    pub kind: Kind,
    /// How groups are found.
    pub groups: Groups,
    /// The attribute holding the user's address.
    pub mail_attribute: String,
    /// The attribute holding the user's name as the gateway reports it (`sAMAccountName`,
    /// `uid`).
    pub name_attribute: String,
    /// Every operation's and connection's limit.
    pub timeout: Duration,
    /// Service-account connections kept.
    pub pool_size: usize,
}

/// What the directory said of a login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The user as the directory names them, their groups, their address.
    Accepted {
        /// The name.
        name: String,
        /// The groups.
        groups: Vec<String>,
        /// The address.
        email: Option<String>,
    },
    /// Refused, and why.
    Refused(Refusal),
}

/// The directory could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("the directory {url}: {what}")]
pub struct DirectoryError {
    url: String,
    what: String,
}

struct Manager {
    settings: Arc<Settings>,
    tls: Option<Arc<rustls::ClientConfig>>,
    password: String,
}

impl Manager {
    async fn connect(&self) -> Result<Ldap, String> {
        let mut s = LdapConnSettings::new()
            .set_conn_timeout(self.settings.timeout)
            .set_starttls(self.settings.start_tls);
        if let Some(tls) = &self.tls {
            s = s.set_config(tls.clone());
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(s, &self.settings.url)
            .await
            .map_err(|e| e.to_string())?;
        ldap3::drive!(conn);
        ldap.with_timeout(self.settings.timeout)
            .simple_bind(&self.settings.bind_dn, &self.password)
            .await
            .map_err(|e| e.to_string())?
            .success()
            .map_err(|e| format!("the service account's bind was refused: {e}"))?;
        Ok(ldap)
    }
}

impl deadpool::managed::Manager for Manager {
    type Type = Ldap;
    type Error = String;

    async fn create(&self) -> Result<Ldap, String> {
        self.connect().await
    }

    async fn recycle(
        &self,
        ldap: &mut Ldap,
        _: &deadpool::managed::Metrics,
    ) -> deadpool::managed::RecycleResult<String> {
        if ldap.is_closed() {
            return Err(deadpool::managed::RecycleError::message("closed"));
        }
        Ok(())
    }
}

/// The directory: its settings and the service account's pooled connections.
pub struct Directory {
    settings: Arc<Settings>,
    pool: deadpool::managed::Pool<Manager>,
    tls: Option<Arc<rustls::ClientConfig>>,
}

impl std::fmt::Debug for Directory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Directory({})", self.settings.url)
    }
}

impl Directory {
    /// Prepares the directory of `settings` (files relative to `base`); nothing is connected
    /// yet, but the service account's password and the CA file must be there.
    pub fn new(settings: Settings, base: &Path) -> Result<Directory, String> {
        let password = match &settings.bind_password_file {
            Some(f) => std::fs::read_to_string(base.join(f))
                .map_err(|e| format!("[ldap] bind_password_file {f}: {e}"))?
                .trim_end_matches(['\r', '\n'])
                .to_string(),
            None => std::env::var("WHY401_LDAP_BIND_PASSWORD").map_err(|_| {
                "[ldap] the service account's password: set bind_password_file or WHY401_LDAP_BIND_PASSWORD".to_string()
            })?,
        };
        let tls = match &settings.ca_file {
            Some(f) => {
                use rustls::pki_types::CertificateDer;
                use rustls::pki_types::pem::PemObject;
                let mut roots = rustls::RootCertStore::empty();
                let certs: Vec<CertificateDer<'static>> =
                    CertificateDer::pem_file_iter(base.join(f))
                        .map_err(|e| format!("[ldap] ca_file {f}: {e}"))?
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("[ldap] ca_file {f}: {e}"))?;
                for c in certs {
                    roots
                        .add(c)
                        .map_err(|e| format!("[ldap] ca_file {f}: {e}"))?;
                }
                Some(Arc::new(
                    rustls::ClientConfig::builder_with_provider(Arc::new(
                        rustls::crypto::ring::default_provider(),
                    ))
                    .with_safe_default_protocol_versions()
                    .map_err(|e| e.to_string())?
                    .with_root_certificates(roots)
                    .with_no_client_auth(),
                ))
            }
            None => None,
        };
        let settings = Arc::new(settings);
        let pool = deadpool::managed::Pool::builder(Manager {
            settings: settings.clone(),
            tls: tls.clone(),
            password,
        })
        .max_size(settings.pool_size.max(1))
        .wait_timeout(Some(settings.timeout))
        .create_timeout(Some(settings.timeout))
        .recycle_timeout(Some(settings.timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .map_err(|e| e.to_string())?;
        Ok(Directory {
            settings,
            pool,
            tls,
        })
    }

    fn error(&self, what: impl std::fmt::Display) -> DirectoryError {
        DirectoryError {
            url: self.settings.url.clone(),
            what: what.to_string(),
        }
    }

    /// Checks `name` and `password` against the directory.
    pub async fn verify(&self, name: &str, password: &str) -> Result<Verdict, DirectoryError> {
        // An empty password would be an unauthenticated bind (RFC 4513 §5.1.2), which many
        // directories answer with success: never sent.
        if password.is_empty() || name.is_empty() || name.len() > 256 {
            return Ok(Verdict::Refused(Refusal::WrongPassword));
        }
        let s = &self.settings;
        let filter = s.user_filter.replace("{user}", &ldap_escape(name));
        let mut attrs = vec![
            s.name_attribute.as_str(),
            s.mail_attribute.as_str(),
            "memberOf",
        ];
        attrs.extend(match s.kind {
            Kind::ActiveDirectory => [
                "userAccountControl",
                "msDS-User-Account-Control-Computed",
                "lockoutTime",
                "accountExpires",
            ]
            .as_slice(),
            Kind::OpenLdap => ["pwdAccountLockedTime", "pwdReset"].as_slice(),
        });
        let mut conn = self.pool.get().await.map_err(|e| self.error(e))?;
        let found = conn
            .with_timeout(s.timeout)
            .search(&s.base_dn, Scope::Subtree, &filter, attrs)
            .await
            .and_then(|r| r.success())
            .map_err(|e| self.error(format!("searching for the user: {e}")));
        let (entries, _) = match found {
            Ok(r) => r,
            Err(e) => {
                // A connection that failed is not put back.
                let _ = deadpool::managed::Object::take(conn);
                return Err(e);
            }
        };
        let entries: Vec<SearchEntry> = entries.into_iter().map(SearchEntry::construct).collect();
        let entry = match entries.as_slice() {
            [] => return Ok(Verdict::Refused(Refusal::UnknownUser)),
            [one] => one.clone(),
            // Two entries for one name: which one typed the password is not known.
            _ => return Ok(Verdict::Refused(Refusal::UnknownUser)),
        };
        if let Some(r) = state(s.kind, &entry, jiff::Timestamp::now()) {
            return Ok(Verdict::Refused(r));
        }
        // The user's own bind, on its own connection: the pooled ones stay the service
        // account's.
        match self.bind_as(&entry.dn, password).await? {
            None => {}
            // A password policy's lockout still running: the bind was refused for it.
            Some(Refusal::WrongPassword)
                if s.kind == Kind::OpenLdap
                    && entry
                        .attrs
                        .get("pwdAccountLockedTime")
                        .is_some_and(|v| !v.is_empty()) =>
            {
                return Ok(Verdict::Refused(Refusal::DirectoryLocked));
            }
            Some(r) => return Ok(Verdict::Refused(r)),
        }
        let groups = match &s.groups {
            Groups::MemberOf => entry
                .attrs
                .get("memberOf")
                .map(|v| v.iter().filter_map(|dn| first_rdn_value(dn)).collect())
                .unwrap_or_default(),
            Groups::Search {
                base,
                filter,
                attribute,
            } => {
                let f = filter
                    .replace("{dn}", &ldap_escape(entry.dn.as_str()))
                    .replace("{user}", &ldap_escape(name));
                let r = conn
                    .with_timeout(s.timeout)
                    .search(base, Scope::Subtree, &f, vec![attribute.as_str()])
                    .await
                    .and_then(|r| r.success())
                    .map_err(|e| self.error(format!("searching for the user's groups: {e}")));
                match r {
                    Ok((groups, _)) => groups
                        .into_iter()
                        .map(SearchEntry::construct)
                        .filter_map(|g| g.attrs.get(attribute).and_then(|v| v.first().cloned()))
                        .collect(),
                    Err(e) => {
                        let _ = deadpool::managed::Object::take(conn);
                        return Err(e);
                    }
                }
            }
        };
        let mut groups: Vec<String> = groups;
        groups.sort_by_key(|g| g.to_lowercase());
        groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let attr = |a: &str| entry.attrs.get(a).and_then(|v| v.first().cloned());
        Ok(Verdict::Accepted {
            name: attr(&s.name_attribute).unwrap_or_else(|| name.to_string()),
            groups,
            email: attr(&s.mail_attribute),
        })
    }

    /// Binds as `dn` with `password` on a new connection; `None`: accepted.
    async fn bind_as(&self, dn: &str, password: &str) -> Result<Option<Refusal>, DirectoryError> {
        let s = &self.settings;
        let mut settings = LdapConnSettings::new()
            .set_conn_timeout(s.timeout)
            .set_starttls(s.start_tls);
        if let Some(tls) = &self.tls {
            settings = settings.set_config(tls.clone());
        }
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &s.url)
            .await
            .map_err(|e| self.error(e))?;
        ldap3::drive!(conn);
        let r = ldap
            .with_timeout(s.timeout)
            .simple_bind(dn, password)
            .await
            .map_err(|e| self.error(e))?;
        let _ = ldap.unbind().await;
        Ok(match r.rc {
            0 => None,
            // invalidCredentials: AD says why in its diagnostic text.
            49 => Some(bind_refusal(&r.text).unwrap_or(Refusal::WrongPassword)),
            // Other result codes (unwillingToPerform, …): the directory refused the bind.
            _ => Some(Refusal::WrongPassword),
        })
    }
}

/// OpenLDAP's `pwdAccountLockedTime` for a lock with no end.
const PERMANENT_LOCK: &str = "000001010000Z";

/// The account state an entry shows that refuses a login, if any.
fn state(kind: Kind, e: &SearchEntry, now: jiff::Timestamp) -> Option<Refusal> {
    let int = |a: &str| {
        e.attrs
            .get(a)
            .and_then(|v| v.first())
            .and_then(|v| v.trim().parse::<i64>().ok())
    };
    match kind {
        Kind::ActiveDirectory => {
            let uac = int("userAccountControl").unwrap_or(0);
            let computed = int("msDS-User-Account-Control-Computed").unwrap_or(0);
            if uac & 0x2 != 0 {
                return Some(Refusal::Disabled);
            }
            // UF_LOCKOUT is only reliable in the computed attribute; lockoutTime as well.
            if computed & 0x10 != 0 {
                return Some(Refusal::DirectoryLocked);
            }
            if computed & 0x0080_0000 != 0 {
                return Some(Refusal::PasswordExpired);
            }
            // accountExpires: 100 ns since 1601; 0 and 2^63-1 mean never.
            if let Some(t) = int("accountExpires")
                && t > 0
                && t != i64::MAX
            {
                let unix = t / 10_000_000 - 11_644_473_600;
                if unix <= now.as_second() {
                    return Some(Refusal::AccountExpired);
                }
            }
            None
        }
        Kind::OpenLdap => {
            // 000001010000Z is a lock an administrator set, for good. Any other time is the
            // password policy's lockout, which slapd lifts after pwdLockoutDuration: the bind
            // decides (and a refused bind is then said as the lock).
            if e.attrs
                .get("pwdAccountLockedTime")
                .is_some_and(|v| v.iter().any(|t| t == PERMANENT_LOCK))
            {
                return Some(Refusal::DirectoryLocked);
            }
            None
        }
    }
}

/// The refusal an Active Directory bind error's text names (`…, data 775, v4563`), if any.
pub fn bind_refusal(text: &str) -> Option<Refusal> {
    let code = ad_data_code(text)?;
    Some(match code.as_str() {
        "525" => Refusal::UnknownUser,
        "52e" => Refusal::WrongPassword,
        "530" => Refusal::LogonHours,
        "531" => Refusal::Workstation,
        "532" => Refusal::PasswordExpired,
        "533" => Refusal::Disabled,
        "701" => Refusal::AccountExpired,
        "773" => Refusal::MustChangePassword,
        "775" => Refusal::DirectoryLocked,
        _ => Refusal::WrongPassword,
    })
}

/// The `data` code of an Active Directory bind error's diagnostic text, lowercase.
pub fn ad_data_code(text: &str) -> Option<String> {
    let i = text.find("data ")?;
    let code: String = text[i + 5..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    (!code.is_empty() && code.len() <= 8).then(|| code.to_ascii_lowercase())
}

/// The value of a DN's first RDN (`CN=Domain Admins,OU=…` → `Domain Admins`), escapes undone.
pub fn first_rdn_value(dn: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = dn.chars();
    let mut seen_eq = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let n = chars.next()?;
                if n.is_ascii_hexdigit() {
                    // \XX: a byte in hex (UTF-8 bytes of one character may follow).
                    let m = chars.next()?;
                    let b = u8::from_str_radix(&format!("{n}{m}"), 16).ok()?;
                    let mut bytes = vec![b];
                    let mut peek = chars.clone();
                    while String::from_utf8(bytes.clone()).is_err() && bytes.len() < 4 {
                        if peek.next() != Some('\\') {
                            return None;
                        }
                        let (a, b2) = (peek.next()?, peek.next()?);
                        bytes.push(u8::from_str_radix(&format!("{a}{b2}"), 16).ok()?);
                        chars = peek.clone();
                    }
                    if seen_eq {
                        out.push_str(&String::from_utf8(bytes).ok()?);
                    }
                } else if seen_eq {
                    out.push(n);
                }
            }
            '=' if !seen_eq => seen_eq = true,
            ',' | '+' => break,
            c if seen_eq => out.push(c),
            _ => {}
        }
    }
    let v = out.trim().to_string();
    (seen_eq && !v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_directory_data_codes_name_the_refusal() {
        // The text Windows Server sends with resultCode 49.
        let t = |d: &str| {
            format!(
                "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data {d}, v4563\0"
            )
        };
        assert_eq!(bind_refusal(&t("52e")), Some(Refusal::WrongPassword));
        assert_eq!(bind_refusal(&t("775")), Some(Refusal::DirectoryLocked));
        assert_eq!(bind_refusal(&t("533")), Some(Refusal::Disabled));
        assert_eq!(bind_refusal(&t("701")), Some(Refusal::AccountExpired));
        assert_eq!(bind_refusal(&t("773")), Some(Refusal::MustChangePassword));
        assert_eq!(bind_refusal(&t("532")), Some(Refusal::PasswordExpired));
        assert_eq!(bind_refusal(&t("525")), Some(Refusal::UnknownUser));
        assert_eq!(bind_refusal("Invalid credentials"), None);
        assert_eq!(ad_data_code(&t("52E")), Some("52e".into()));
        // Each is in the catalogue, which explains it.
        for code in [
            "52e", "775", "533", "701", "773", "532", "525", "530", "531",
        ] {
            assert!(
                why401_catalogue::catalogue()
                    .code(why401_catalogue::CodeKind::Ldap, code)
                    .is_some(),
                "{code}"
            );
        }
    }

    #[test]
    fn group_names_come_from_the_first_rdn() {
        assert_eq!(
            first_rdn_value("CN=Domain Admins,CN=Users,DC=example,DC=com").as_deref(),
            Some("Domain Admins")
        );
        assert_eq!(
            first_rdn_value("cn=R\\2CD,ou=groups,dc=example,dc=org").as_deref(),
            Some("R,D")
        );
        assert_eq!(
            first_rdn_value("CN=Caf\\C3\\A9,DC=x").as_deref(),
            Some("Café")
        );
        assert_eq!(first_rdn_value("garbage"), None);
        assert_eq!(first_rdn_value("CN=\\"), None);
    }

    #[test]
    fn active_directory_account_state() {
        let entry = |pairs: &[(&str, &str)]| SearchEntry {
            dn: "CN=x".into(),
            attrs: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
                .collect(),
            bin_attrs: Default::default(),
        };
        let now = jiff::Timestamp::from_second(1_800_000_000).unwrap();
        let ad = Kind::ActiveDirectory;
        assert_eq!(
            state(ad, &entry(&[("userAccountControl", "512")]), now),
            None
        );
        assert_eq!(
            state(ad, &entry(&[("userAccountControl", "514")]), now),
            Some(Refusal::Disabled)
        );
        assert_eq!(
            state(
                ad,
                &entry(&[("msDS-User-Account-Control-Computed", "16")]),
                now
            ),
            Some(Refusal::DirectoryLocked)
        );
        assert_eq!(
            state(
                ad,
                &entry(&[("msDS-User-Account-Control-Computed", "8388608")]),
                now
            ),
            Some(Refusal::PasswordExpired)
        );
        // 2020-01-01 in FILETIME; never (0, i64::MAX).
        assert_eq!(
            state(ad, &entry(&[("accountExpires", "132223104000000000")]), now),
            Some(Refusal::AccountExpired)
        );
        assert_eq!(state(ad, &entry(&[("accountExpires", "0")]), now), None);
        assert_eq!(
            state(
                ad,
                &entry(&[("accountExpires", "9223372036854775807")]),
                now
            ),
            None
        );
        assert_eq!(
            state(
                Kind::OpenLdap,
                &entry(&[("pwdAccountLockedTime", "000001010000Z")]),
                now
            ),
            Some(Refusal::DirectoryLocked)
        );
        // A password policy's lockout (a time): the bind decides.
        assert_eq!(
            state(
                Kind::OpenLdap,
                &entry(&[("pwdAccountLockedTime", "20261206120000Z")]),
                now
            ),
            None
        );
    }

    proptest::proptest! {
        #[test]
        fn hostile_bind_texts_and_dns_never_panic(s in ".{0,120}") {
            let _ = bind_refusal(&s);
            let _ = first_rdn_value(&s);
        }
    }
}
