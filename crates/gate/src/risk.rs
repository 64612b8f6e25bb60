//! Unusual sign-ins: a password accepted from a network (an IPv4 /24, an IPv6 /48) or a country
//! never seen for that user. `[risk] unusual` says what then: `notify` (the default: the audit
//! log and the notification hook), `second_factor` (the session gives one before anything
//! that asks for a password; Basic, which cannot, is refused with `step-up-required`) or `deny`.
//! A user's first sign-in has nothing to compare with and is not unusual. A network is
//! remembered once a sign-in from it is complete (after the second factor, when one was asked).

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Mutex;

use crate::store::{Store, StoreError};

/// What an unusual sign-in gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unusual {
    /// Recorded and told, let through.
    #[default]
    Notify,
    /// A second factor before anything that asks for a password.
    SecondFactor,
    /// Refused.
    Deny,
}

/// The network an address is counted in: its /24 (IPv4) or /48 (IPv6).
pub fn network_of(ip: IpAddr) -> String {
    let ip = crate::server::canonical(ip);
    let net = match ip {
        IpAddr::V4(_) => ipnet::IpNet::new(ip, 24),
        IpAddr::V6(_) => ipnet::IpNet::new(ip, 48),
    }
    .expect("a valid prefix length");
    net.trunc().to_string()
}

/// The (user, network, country) sign-ins known to be usual, remembered so that a Basic
/// client's every request does not ask the store.
#[derive(Default)]
pub struct Known {
    seen: Mutex<HashSet<(String, String, String)>>,
    told: Mutex<HashSet<(String, String, String)>>,
}

impl Known {
    /// Why a sign-in of `user` from `ip` (in `country`) is unusual; `None`: it is not, and it
    /// is remembered as usual from now on (an unusual one is remembered by [`Known::remember`]
    /// once its sign-in is complete).
    pub async fn assess(
        &self,
        store: &Store,
        user: &str,
        ip: IpAddr,
        country: Option<&str>,
    ) -> Result<Option<String>, StoreError> {
        let network = network_of(ip);
        let country = country.unwrap_or("");
        let key = (
            user.to_ascii_lowercase(),
            network.clone(),
            country.to_string(),
        );
        if self.lock().contains(&key) {
            return Ok(None);
        }
        let known = store.known_networks(user).await?;
        let new_network = !known.iter().any(|(n, _)| *n == network);
        let new_country = !country.is_empty() && !known.iter().any(|(_, c)| c == country);
        // The first sign-in has nothing to compare with.
        if known.is_empty() || (!new_network && !new_country) {
            store.add_known_network(user, &network, country).await?;
            self.lock().insert(key);
            return Ok(None);
        }
        let place = if country.is_empty() {
            format!("{ip} (network {network})")
        } else {
            format!("{ip} (network {network}, country {country})")
        };
        let what = match (new_network, new_country) {
            (true, true) => "a network and a country",
            (true, false) => "a network",
            _ => "a country",
        };
        Ok(Some(format!(
            "a sign-in of {user} from {place}: {what} never seen for {user}"
        )))
    }

    /// Remembers a complete sign-in of `user` from `ip` (in `country`).
    pub async fn remember(
        &self,
        store: &Store,
        user: &str,
        ip: IpAddr,
        country: Option<&str>,
    ) -> Result<(), StoreError> {
        let network = network_of(ip);
        let country = country.unwrap_or("");
        let key = (
            user.to_ascii_lowercase(),
            network.clone(),
            country.to_string(),
        );
        if self.lock().contains(&key) {
            return Ok(());
        }
        store.add_known_network(user, &network, country).await?;
        self.lock().insert(key);
        Ok(())
    }

    /// True the first time an unusual sign-in of `user` from `ip`'s network and `country` is
    /// seen by this process: it is told once, not at each of a Basic client's requests.
    pub fn tell_once(&self, user: &str, ip: IpAddr, country: Option<&str>) -> bool {
        let key = (
            user.to_ascii_lowercase(),
            network_of(ip),
            country.unwrap_or("").to_string(),
        );
        let mut told = self.told.lock().unwrap_or_else(|p| p.into_inner());
        if told.len() > 100_000 {
            told.clear();
        }
        told.insert(key)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<(String, String, String)>> {
        let mut g = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if g.len() > 100_000 {
            g.clear();
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_are_a_24_or_a_48() {
        assert_eq!(
            network_of("198.51.100.7".parse().unwrap()),
            "198.51.100.0/24"
        );
        assert_eq!(
            network_of("2001:db8:1:2::5".parse().unwrap()),
            "2001:db8:1::/48"
        );
        assert_eq!(
            network_of("::ffff:192.0.2.9".parse().unwrap()),
            "192.0.2.0/24"
        );
    }
}
