//! The target (or the proxy) could not be reached; TLS interception.

use why401_catalogue::catalogue;

use crate::time::{relative, timestamp};
use crate::{Finding, FindingId, Severity};
use why401_evidence::{ProbeEvidence, ReachKind};

pub(super) fn rules(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    if let Some(r) = &ev.reach {
        let (id, title) = match r.kind {
            ReachKind::Dns => (
                FindingId::DNS_FAILURE,
                format!("{} could not be resolved", host(ev)),
            ),
            ReachKind::Refused => (
                FindingId::CONNECTION_REFUSED,
                format!("{} refused the connection", r.what),
            ),
            ReachKind::Tls => (
                FindingId::TLS_FAILURE,
                format!("the TLS handshake with {} failed", r.what),
            ),
            ReachKind::Timeout => (
                FindingId::TIMEOUT,
                format!("{} did not answer in time", r.what),
            ),
            ReachKind::Other => (
                FindingId::CONNECTION_REFUSED,
                format!("the connection to {} failed", r.what),
            ),
        };
        let mut f = Finding::new(id)
            .title(title)
            .evidence(r.detail.clone())
            .confidence(0.95);
        if let Some(p) = &ev.proxy {
            f = f.evidence(format!("through the proxy {p}"));
        }
        if let Some(dns) = &ev.dns {
            f = f.evidence(format!(
                "{} resolves to {}",
                dns.host,
                dns.addresses.join(", ")
            ));
        }
        if let Some(tls) = &ev.tls
            && let Some(leaf) = tls.chain.first()
        {
            f = f.evidence(format!(
                "certificate: {} issued by {} (valid {} to {}, {})",
                leaf.subject,
                leaf.issuer,
                timestamp(leaf.not_before),
                timestamp(leaf.not_after),
                if leaf.not_after < ev.now {
                    format!("expired {}", relative(leaf.not_after, ev.now))
                } else {
                    "in date".into()
                }
            ));
        }
        out.push(f);
    }
    interception(ev, out);
}

/// The target URL's host (the whole target when it does not parse).
pub(super) fn host(ev: &ProbeEvidence) -> String {
    url_host(&ev.target)
}

/// A URL's host (the whole text when it does not parse).
pub(crate) fn url_host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(String::from))
        .unwrap_or_else(|| url.to_string())
}

/// A certificate chain issued by a known inspection CA: something between the client and the
/// server decrypts the traffic.
fn interception(ev: &ProbeEvidence, out: &mut Vec<Finding>) {
    let Some(tls) = &ev.tls else { return };
    for cert in &tls.chain {
        let Some(ca) = catalogue()
            .inspection_ca(&cert.issuer)
            .or_else(|| catalogue().inspection_ca(&cert.subject))
        else {
            continue;
        };
        let mut f = Finding::new(FindingId::TLS_INTERCEPTION)
            .title(format!(
                "TLS is intercepted by {} {}",
                ca.vendor, ca.product
            ))
            .evidence(format!("issuer: {}", cert.issuer))
            .evidence(format!(
                "the chain presented for {} is not the server's own",
                host(ev)
            ))
            .confidence(0.8);
        if !ca.note.is_empty() {
            f = f.evidence(ca.note.clone());
        }
        if ev.reach.is_some() {
            f = f.severity(Severity::Error).confidence(0.9);
        }
        out.push(f);
        return;
    }
}
