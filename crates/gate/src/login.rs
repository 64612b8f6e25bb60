//! Checking a user name and password against the store: the one path every way in (the login
//! form, Basic) goes through. Unknown user, wrong password and disabled account cost the same
//! Argon2id verification and give the client the same answer (ASVS 5 §6.3.8); the difference
//! is kept for the audit log and `explain`.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde::Serialize;

use crate::lockout::{self, Limits};
use crate::password;
use crate::policy::Identity;
use crate::store::{Store, StoreError};

/// Why a login was refused: for the audit log and `gate explain`, never for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Refusal {
    /// No such user.
    UnknownUser,
    /// The password is wrong.
    WrongPassword,
    /// The account is disabled.
    Disabled,
    /// The stored hash cannot be verified (malformed, or a kind the gateway refuses).
    UnusableHash,
    /// The account is locked after too many failures: refused like a wrong password.
    Locked,
    /// The second factor's code was wrong (TOTP or recovery code).
    WrongCode,
    /// A TOTP code right for its time, used before: a replay (RFC 6238 §5.2).
    CodeReused,
    /// The WebAuthn assertion or registration did not verify.
    WebauthnFailed,
    /// A second factor is needed and the user has none, and may not enrol one at login.
    NoSecondFactor,
    /// The directory has locked the account (AD data 775, OpenLDAP `pwdAccountLockedTime`).
    DirectoryLocked,
    /// The password expired in the directory (AD data 532).
    PasswordExpired,
    /// The account expired in the directory (AD data 701, `accountExpires`).
    AccountExpired,
    /// The directory wants the password changed first (AD data 773).
    MustChangePassword,
    /// Outside the account's logon hours (AD data 530).
    LogonHours,
    /// Not allowed from this workstation (AD data 531).
    Workstation,
    /// A sign-in from a network or country never seen for the user, and `[risk] unusual =
    /// "deny"`.
    UnusualSignIn,
}

impl Refusal {
    /// The Active Directory bind `data` code this refusal is, when it comes from a directory
    /// (the catalogue explains it: `why401 explain 775`).
    pub fn directory_code(self) -> Option<&'static str> {
        Some(match self {
            Refusal::DirectoryLocked => "775",
            Refusal::PasswordExpired => "532",
            Refusal::AccountExpired => "701",
            Refusal::MustChangePassword => "773",
            Refusal::LogonHours => "530",
            Refusal::Workstation => "531",
            _ => return None,
        })
    }
}

/// Where logins are checked, and what they count against.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    /// The store: local users, and the lockout.
    pub store: &'a Store,
    /// The lockout's thresholds.
    pub limits: &'a Limits,
    /// Who is told of lockouts.
    pub notify: &'a crate::notify::Notifier,
    /// The directory, when `[ldap]` is configured.
    pub directory: Option<&'a crate::ldap::Directory>,
}

/// What a login attempt gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Login {
    /// The user, with their groups.
    Accepted(Identity),
    /// Refused, and why.
    Refused(Refusal),
    /// Not checked: the address is throttled until then (Unix seconds).
    Throttled(i64),
}

/// A hash of a password nobody has, verified for unknown users so that they take as long as
/// known ones.
static DECOY: LazyLock<String> = LazyLock::new(|| password::hash("why401 decoy: no user has it"));

/// Checks `name` and `password` from `address`, within the lockout `limits`. A right password
/// stored in an older form (bcrypt, `$apr1$`, older Argon2 parameters) is stored again as
/// Argon2id with today's parameters.
pub async fn check(
    ctx: Ctx<'_>,
    name: &str,
    password: &str,
    address: &str,
) -> Result<Login, StoreError> {
    let Ctx {
        store,
        limits,
        notify,
        directory,
    } = ctx;
    // A name with spaces around it, or control characters, is nobody's: a directory would
    // match ` alice` to alice (RFC 4518) while the lockout counted it apart.
    if name.trim() != name || name.chars().any(char::is_control) {
        decoy(password).await;
        let key = name.trim();
        lockout::failed(store, limits, key, address, notify).await?;
        return Ok(Login::Refused(Refusal::UnknownUser));
    }
    // One check at a time per address and per account: concurrent guesses cannot all pass
    // the lockout before any failure is counted. (Address first, then account: one order.)
    let _address = serialised(format!("address {}", lockout::address_key(address))).await;
    let _account = serialised(format!("user {}", name.to_lowercase())).await;
    match lockout::before(store, name, address).await? {
        lockout::Gate::AddressThrottled(until) => return Ok(Login::Throttled(until)),
        lockout::Gate::AccountLocked(_) => {
            // The same work as a check, and the failure still counts towards the hourly cap.
            decoy(password).await;
            lockout::failed(store, limits, name, address, notify).await?;
            return Ok(Login::Refused(Refusal::Locked));
        }
        lockout::Gate::Open => {}
    }
    let outcome = verify(store, directory, name, password).await?;
    match &outcome {
        Login::Accepted(who) => lockout::succeeded(store, &who.user).await?,
        _ => lockout::failed(store, limits, name, address, notify).await?,
    }
    Ok(outcome)
}

/// The password check alone: a local user against their hash; anyone else (and the users the
/// directory made) against the directory, when there is one. A local user of the same name as
/// a directory user wins: that is how a break-glass account is kept.
async fn verify(
    store: &Store,
    directory: Option<&crate::ldap::Directory>,
    name: &str,
    password: &str,
) -> Result<Login, StoreError> {
    let user = store.user(name).await?;
    if let Some(d) = directory
        && user
            .as_ref()
            .is_none_or(|u| u.hash == crate::store::DIRECTORY_HASH)
    {
        return match d.verify(name, password).await? {
            crate::ldap::Verdict::Refused(r) => Ok(Login::Refused(r)),
            crate::ldap::Verdict::Accepted {
                name,
                groups,
                email,
            } => {
                // The directory matched another spelling (an alias, a UPN) of a local user's
                // name: the local account is not the directory's to sign in or to change.
                if store
                    .user(&name)
                    .await?
                    .is_some_and(|u| u.hash != crate::store::DIRECTORY_HASH)
                {
                    return Ok(Login::Refused(Refusal::UnknownUser));
                }
                store
                    .sync_directory_user(&name, email.as_deref(), &groups)
                    .await?;
                // Disabled at the gateway (`gate user disable`), whatever the directory says.
                if store.user(&name).await?.is_some_and(|u| u.disabled) {
                    return Ok(Login::Refused(Refusal::Disabled));
                }
                Ok(Login::Accepted(Identity {
                    user: name,
                    groups,
                    email,
                    scopes: None,
                    second_factor_at: None,
                    unusual: None,
                }))
            }
        };
    }
    let Some(user) = user else {
        decoy(password).await;
        return Ok(Login::Refused(Refusal::UnknownUser));
    };
    let (hash, pw) = (user.hash.clone(), password.to_string());
    let verified = match hashing(move || password::verify(&hash, &pw)).await {
        Ok(v) => v,
        Err(_) => {
            decoy(password).await;
            return Ok(Login::Refused(Refusal::UnusableHash));
        }
    };
    if !verified.ok {
        return Ok(Login::Refused(Refusal::WrongPassword));
    }
    if user.disabled {
        return Ok(Login::Refused(Refusal::Disabled));
    }
    if verified.rehash {
        let pw = password.to_string();
        let new = hashing(move || password::hash(&pw)).await;
        store.set_hash(&user.name, &new, false).await?;
    }
    Ok(Login::Accepted(Identity {
        user: user.name,
        groups: user.groups,
        email: user.email,
        scopes: None,
        second_factor_at: None,
        unusual: None,
    }))
}

/// The work of a verification, for a login that has nothing to verify against.
async fn decoy(password: &str) {
    let pw = password.to_string();
    let _ = hashing(move || password::verify(&DECOY, &pw)).await;
}

/// At most as many Argon2id computations at once as there are cores.
static HASHERS: LazyLock<tokio::sync::Semaphore> = LazyLock::new(|| {
    tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get()))
});

/// Runs `f` (a hash or a verification) on the blocking pool, a few at a time: 19 MiB of
/// Argon2id on the async workers would stall every other request behind a stream of bogus
/// logins.
async fn hashing<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let _permit = HASHERS
        .acquire()
        .await
        .expect("the semaphore is never closed");
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

type Slot = Arc<tokio::sync::Mutex<()>>;

/// The logins in progress, by address and by account.
static IN_FLIGHT: LazyLock<Mutex<HashMap<String, Slot>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// Waits until no other login holds `key`, and holds it until the guard drops.
pub(crate) async fn serialised(key: String) -> tokio::sync::OwnedMutexGuard<()> {
    let slot = {
        let mut map = IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 4096 {
            map.retain(|_, v| Arc::strong_count(v) > 1);
        }
        map.entry(key).or_default().clone()
    };
    slot.lock_owned().await
}
