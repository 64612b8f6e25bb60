//! Checking a user name and password against the store: the one path every way in (the login
//! form, Basic) goes through. Unknown user, wrong password and disabled account cost the same
//! Argon2id verification and give the client the same answer (ASVS 5 §6.3.8); the difference
//! is kept for the audit log and `explain`.

use std::sync::LazyLock;

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
    store: &Store,
    limits: &Limits,
    name: &str,
    password: &str,
    address: &str,
) -> Result<Login, StoreError> {
    match lockout::before(store, name, address).await? {
        lockout::Gate::AddressThrottled(until) => return Ok(Login::Throttled(until)),
        lockout::Gate::AccountLocked(_) => {
            // The same work as a check, and the failure still counts towards the hourly cap.
            let _ = password::verify(&DECOY, password);
            lockout::failed(store, limits, name, address).await?;
            return Ok(Login::Refused(Refusal::Locked));
        }
        lockout::Gate::Open => {}
    }
    let outcome = verify(store, name, password).await?;
    match &outcome {
        Login::Accepted(who) => lockout::succeeded(store, &who.user).await?,
        _ => lockout::failed(store, limits, name, address).await?,
    }
    Ok(outcome)
}

/// The password check alone.
async fn verify(store: &Store, name: &str, password: &str) -> Result<Login, StoreError> {
    let Some(user) = store.user(name).await? else {
        let _ = password::verify(&DECOY, password);
        return Ok(Login::Refused(Refusal::UnknownUser));
    };
    let verified = match password::verify(&user.hash, password) {
        Ok(v) => v,
        Err(_) => {
            let _ = password::verify(&DECOY, password);
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
        store
            .set_hash(&user.name, &password::hash(password), false)
            .await?;
    }
    Ok(Login::Accepted(Identity {
        user: user.name,
        groups: user.groups,
    }))
}
