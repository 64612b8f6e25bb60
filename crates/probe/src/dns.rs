//! Name resolution through hickory: the CNAME chain of the target host, and the addresses when
//! the user names the resolver (`--dns-server`). A Kerberos client asks for a ticket to
//! `HTTP/<canonical name>`, so an alias that points elsewhere changes the SPN — a classic cause
//! of the fallback to NTLM.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use why401_evidence::ReachKind;

/// A resolver asking `server` (UDP, then TCP), or the system's configuration when `None`.
fn resolver(server: Option<SocketAddr>, timeout: Duration) -> Option<TokioResolver> {
    let mut builder = match server {
        Some(s) => {
            let mut ns = NameServerConfig::udp_and_tcp(s.ip());
            for c in &mut ns.connections {
                c.port = s.port();
            }
            Resolver::builder_with_config(
                ResolverConfig::from_name_servers(vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => TokioResolver::builder_tokio().ok()?,
    };
    builder.options_mut().timeout = timeout;
    builder.options_mut().attempts = 1;
    builder.build().ok()
}

/// The aliases `host` goes through, in order; empty for IP literals, `localhost`, or when DNS
/// does not answer within a second (the probe never waits on this).
pub(crate) async fn cname_chain(host: &str, server: Option<SocketAddr>) -> Vec<String> {
    if host.parse::<IpAddr>().is_ok()
        || host.eq_ignore_ascii_case("localhost")
        || !host.contains('.')
    {
        return Vec::new();
    }
    let Some(resolver) = resolver(server, Duration::from_millis(800)) else {
        return Vec::new();
    };
    let lookup =
        tokio::time::timeout(Duration::from_secs(1), resolver.lookup(host, RecordType::A)).await;
    let Ok(Ok(lookup)) = lookup else {
        return Vec::new();
    };
    lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::CNAME(c) => Some(c.0.to_utf8().trim_end_matches('.').to_string()),
            _ => None,
        })
        .collect()
}

/// The targets of an SRV record (`_kerberos._tcp.REALM.`), by priority then weight; empty when
/// there is none or DNS does not answer within two seconds.
pub(crate) async fn srv(name: &str, server: Option<SocketAddr>) -> Vec<(String, u16)> {
    let Some(resolver) = resolver(server, Duration::from_millis(1500)) else {
        return Vec::new();
    };
    let lookup = tokio::time::timeout(Duration::from_secs(2), resolver.srv_lookup(name)).await;
    let Ok(Ok(lookup)) = lookup else {
        return Vec::new();
    };
    let mut found: Vec<(u16, std::cmp::Reverse<u16>, String, u16)> = lookup
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(s) => Some((
                s.priority,
                std::cmp::Reverse(s.weight),
                s.target.to_utf8().trim_end_matches('.').to_string(),
                s.port,
            )),
            _ => None,
        })
        .collect();
    found.sort();
    found.into_iter().map(|(_, _, h, p)| (h, p)).collect()
}

/// The name `ip` reverse-resolves to (its PTR record), as MIT's `rdns = true` asks; `None`
/// when there is none or DNS does not answer within a second and a half.
pub(crate) async fn reverse(ip: IpAddr, server: Option<SocketAddr>) -> Option<String> {
    let resolver = resolver(server, Duration::from_millis(1200))?;
    let lookup = tokio::time::timeout(Duration::from_millis(1500), resolver.reverse_lookup(ip))
        .await
        .ok()?
        .ok()?;
    lookup.answers().iter().find_map(|r| match &r.data {
        RData::PTR(p) => Some(p.0.to_utf8().trim_end_matches('.').to_string()),
        _ => None,
    })
}

/// The addresses of `host` as `server` gives them (`--dns-server`), IPv4 and IPv6.
pub(crate) async fn addresses(
    host: &str,
    server: SocketAddr,
    timeout: Duration,
) -> Result<Vec<IpAddr>, (ReachKind, String)> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![ip]);
    }
    let resolver = resolver(Some(server), timeout).ok_or_else(|| {
        (
            ReachKind::Dns,
            format!("the resolver {server} could not be set up"),
        )
    })?;
    match tokio::time::timeout(timeout, resolver.lookup_ip(host)).await {
        Err(_) => Err((
            ReachKind::Timeout,
            format!("{server} did not answer for {host} in time"),
        )),
        Ok(Err(e)) => Err((ReachKind::Dns, format!("{host} (asked {server}): {e}"))),
        Ok(Ok(found)) => {
            let v: Vec<IpAddr> = found.iter().collect();
            if v.is_empty() {
                Err((
                    ReachKind::Dns,
                    format!("{host} (asked {server}): no addresses"),
                ))
            } else {
                Ok(v)
            }
        }
    }
}
