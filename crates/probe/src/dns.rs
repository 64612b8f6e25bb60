//! The CNAME chain of the target host. A Kerberos client asks for a ticket to
//! `HTTP/<canonical name>`, so an alias that points elsewhere changes the SPN — a classic
//! cause of the fallback to NTLM.

use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::proto::rr::{RData, RecordType};

/// The aliases `host` goes through, in order; empty for IP literals, `localhost`, or when DNS
/// does not answer within a second (the probe never waits on this).
pub(crate) async fn cname_chain(host: &str) -> Vec<String> {
    if host.parse::<std::net::IpAddr>().is_ok()
        || host.eq_ignore_ascii_case("localhost")
        || !host.contains('.')
    {
        return Vec::new();
    }
    let Ok(builder) = TokioResolver::builder_tokio() else {
        return Vec::new();
    };
    let mut builder = builder;
    builder.options_mut().timeout = Duration::from_millis(800);
    builder.options_mut().attempts = 1;
    let resolver = builder.build();
    let Ok(resolver) = resolver else {
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
