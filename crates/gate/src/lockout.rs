//! Lockout and throttling (ASVS 5 §6.3.1, §6.1.1): failed logins counted per account and per
//! source address in sliding windows, kept in the store so that a restart forgets nothing.
//!
//! - An address with too many failures (default 20 in 15 minutes) is throttled for a while
//!   (default 15 minutes): its logins are not even checked. This comes first, so that one
//!   address guessing at many accounts, or at one, is stopped before it can lock anybody out.
//! - An account with too many failures (default 5 in 15 minutes) is soft-locked: for 1 minute,
//!   then twice as long at each lock in a row (at most 1 hour), and never more than 100 failed
//!   attempts an hour. A locked account's logins are refused like a wrong password, with the
//!   same work and the same answer, so a client cannot tell it is locked; the audit log and
//!   `gate bans list` can.
//! - A successful login clears the account's failures (not the address's); a lock within a
//!   day of the last one counts as one more in a row.

use serde::{Deserialize, Serialize};

use crate::store::{Store, StoreError};

/// The thresholds, from `[lockout]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// The sliding window failures are counted in, in minutes.
    pub window_minutes: u64,
    /// Failures of one account in the window that lock it.
    pub account_failures: u64,
    /// The first lock, in seconds; each lock in a row lasts twice the one before.
    pub lock_seconds: u64,
    /// The longest lock, in minutes.
    pub max_lock_minutes: u64,
    /// Failed attempts an hour one account can ever get (ASVS: at most 100).
    pub account_per_hour: u64,
    /// Failures from one address in the window that throttle it.
    pub address_failures: u64,
    /// How long a throttled address waits, in minutes.
    pub address_ban_minutes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            window_minutes: 15,
            account_failures: 5,
            lock_seconds: 60,
            max_lock_minutes: 60,
            account_per_hour: 100,
            address_failures: 20,
            address_ban_minutes: 15,
        }
    }
}

impl Limits {
    /// Checks the values; the message says what to write.
    pub fn validate(&self) -> Result<(), String> {
        if self.account_per_hour == 0 || self.account_per_hour > 100 {
            return Err(format!(
                "account_per_hour = {}: from 1 to 100 (ASVS 5 §6.3.1)",
                self.account_per_hour
            ));
        }
        if self.account_failures == 0 || self.address_failures == 0 || self.window_minutes == 0 {
            return Err(
                "window_minutes, account_failures and address_failures must be at least 1".into(),
            );
        }
        Ok(())
    }
}

/// Whether a login may be checked at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// It may.
    Open,
    /// The address is throttled until (Unix seconds).
    AddressThrottled(i64),
    /// The account is locked until (Unix seconds).
    AccountLocked(i64),
}

/// The key an address's failures are counted under: the address, or for IPv6 its /64 (one
/// host's share of a network: counting per /128 would let it never be throttled).
pub fn address_key(address: &str) -> String {
    match address.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) if v6.to_ipv4_mapped().is_none() => {
            ipnet::Ipv6Net::new(v6, 64)
                .map(|n| n.trunc().to_string())
                .unwrap_or_else(|_| address.to_string())
        }
        _ => address.to_string(),
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// Whether `user` may try to log in from `address` now.
pub async fn before(store: &Store, user: &str, address: &str) -> Result<Gate, StoreError> {
    let t = now();
    let address = &address_key(address);
    if let Some(b) = store.ban("address", address).await?
        && b.until > t
    {
        return Ok(Gate::AddressThrottled(b.until));
    }
    if let Some(b) = store.ban("user", user).await?
        && b.until > t
    {
        return Ok(Gate::AccountLocked(b.until));
    }
    Ok(Gate::Open)
}

/// Counts a failed login of `user` from `address`, and locks or throttles what crossed its
/// threshold; a new lock or throttle is told to `notify`.
pub async fn failed(
    store: &Store,
    limits: &Limits,
    user: &str,
    address: &str,
    notify: &crate::notify::Notifier,
) -> Result<(), StoreError> {
    let t = now();
    let client = address;
    let address = &address_key(address);
    let tell = |detail: String| {
        notify.send(crate::notify::Event {
            event: crate::notify::Kind::Lockout,
            time: jiff::Timestamp::now().to_string(),
            user: user.to_string(),
            address: Some(client.to_string()),
            detail,
        })
    };
    let address_was_open = store
        .ban("address", address)
        .await?
        .is_none_or(|b| b.until < t);
    let window = t - (limits.window_minutes * 60) as i64;
    store.add_failure("user", user, t).await?;
    store.add_failure("address", address, t).await?;
    if store.failures("address", address, window).await? >= limits.address_failures {
        let until = t + (limits.address_ban_minutes * 60) as i64;
        store
            .set_ban(
                "address",
                address,
                t,
                until,
                1,
                "too many failed logins from this address",
            )
            .await?;
        if address_was_open {
            tell(format!(
                "logins from {address} are throttled for {} minutes after too many failures",
                limits.address_ban_minutes
            ));
        }
    }
    let account_was_open = |b: &Option<crate::store::Ban>| b.as_ref().is_none_or(|b| b.until < t);
    // After a lock, it takes as many failures again to lock again.
    let previous = store.ban("user", user).await?;
    let since = previous.as_ref().map_or(window, |b| b.until.max(window));
    let in_window = store.failures("user", user, since).await?;
    let in_hour = store.failures("user", user, t - 3600).await?;
    if in_hour >= limits.account_per_hour {
        // The hourly cap: locked until the oldest failure of the hour leaves it.
        let oldest = store
            .oldest_failure("user", user, t - 3600)
            .await?
            .unwrap_or(t);
        store
            .set_ban(
                "user",
                user,
                t,
                oldest + 3600,
                1,
                "the hourly limit of failed logins",
            )
            .await?;
        if account_was_open(&previous) {
            tell(format!(
                "the account {user} is locked: the hourly limit of failed logins was reached"
            ));
        }
    } else if in_window >= limits.account_failures {
        // A lock within a day of the last one is a lock in a row.
        let locks = previous
            .as_ref()
            .filter(|b| t - b.until < 86_400)
            .map_or(1, |b| b.locks + 1);
        let secs = limits
            .lock_seconds
            .saturating_mul(1u64 << (locks - 1).clamp(0, 20))
            .min(limits.max_lock_minutes * 60);
        store
            .set_ban(
                "user",
                user,
                t,
                t + secs as i64,
                locks,
                "too many failed logins for this account",
            )
            .await?;
        if account_was_open(&previous) {
            tell(format!(
                "the account {user} is locked for {} after {in_window} failed logins",
                minutes(secs)
            ));
        }
    }
    Ok(())
}

/// The key wrong second factors of `user` are counted and locked under: its own, so that a
/// right password (which clears the account's failures) does not clear them. `gate bans clear
/// USER` lifts both.
pub fn second_factor_key(user: &str) -> String {
    format!("{user} (second factor)")
}

/// A successful login of `user`: its failures are cleared.
pub async fn succeeded(store: &Store, user: &str) -> Result<(), StoreError> {
    store.clear_failures("user", user).await
}

fn minutes(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s / 60),
    }
}
