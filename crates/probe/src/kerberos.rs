//! Kerberos from the user's own tickets, as `curl --negotiate -u :` does after `kinit`: MIT's
//! configuration (`KRB5_CONFIG`, `/etc/krb5.conf`), the credential cache (`KRB5CCNAME`), where
//! the KDC is (`--kdc`, `[realms]`, DNS SRV), and the TGS exchange for the service ticket.
//!
//! MIT's profile format is read here by hand: no maintained crate parses it, and only a handful
//! of its relations matter to a client (`default_realm`, `[realms] kdc`, `[domain_realm]`,
//! `dns_canonicalize_hostname`, `rdns`, `default_ccache_name`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use why401_evidence::{TicketCacheRecord, TicketRecord};
use why401_wire::ccache;
use why401_wire::krb5::{self, Credential, Krb5Error, Now, Principal};

use crate::kdc::Kdc;

/// The relations of an MIT profile a client uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Krb5Conf {
    /// The files read, in order.
    pub files: Vec<String>,
    /// `[libdefaults] default_realm`.
    pub default_realm: Option<String>,
    /// `[realms] REALM = { kdc = ... }`, every `kdc` in order.
    pub kdcs: BTreeMap<String, Vec<String>>,
    /// `[domain_realm]`: `.corp.example = CORP.EXAMPLE` (domain) or `host = REALM`.
    pub domain_realm: Vec<(String, String)>,
    /// `[libdefaults] dns_canonicalize_hostname` (`true`, `false`, `fallback`; MIT's default true).
    pub dns_canonicalize_hostname: Option<String>,
    /// `[libdefaults] rdns` (MIT's default true).
    pub rdns: Option<bool>,
    /// `[libdefaults] default_ccache_name`.
    pub default_ccache_name: Option<String>,
    /// `[libdefaults] dns_lookup_kdc` (MIT's default: true).
    pub dns_lookup_kdc: Option<bool>,
}

impl Krb5Conf {
    /// The files `KRB5_CONFIG` names (colon-separated), else `/etc/krb5.conf`; missing files
    /// are skipped, as MIT does.
    pub fn load() -> Self {
        let list = std::env::var("KRB5_CONFIG").unwrap_or_else(|_| "/etc/krb5.conf".into());
        let mut conf = Krb5Conf::default();
        for path in list.split(':').filter(|p| !p.is_empty()) {
            if let Ok(text) = std::fs::read_to_string(path) {
                conf.files.push(path.to_string());
                conf.read(&text);
            }
        }
        conf
    }

    /// Reads one profile's text into `self` (earlier files win for single values, as in MIT).
    pub fn read(&mut self, text: &str) {
        let mut section = String::new();
        // The open `name = {` groups, outermost first.
        let mut groups: Vec<String> = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                section = line
                    .trim_matches(|c| c == '[' || c == ']')
                    .trim()
                    .to_string();
                groups.clear();
                continue;
            }
            if line.starts_with('}') {
                groups.pop();
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            if value == "{" {
                groups.push(key.to_string());
                continue;
            }
            let value = value.trim_matches('"').to_string();
            match (section.as_str(), groups.as_slice(), key) {
                ("libdefaults", [], "default_realm") => {
                    self.default_realm.get_or_insert(value);
                }
                ("libdefaults", [], "dns_canonicalize_hostname") => {
                    self.dns_canonicalize_hostname.get_or_insert(value);
                }
                ("libdefaults", [], "rdns") => {
                    self.rdns.get_or_insert(value.eq_ignore_ascii_case("true"));
                }
                ("libdefaults", [], "default_ccache_name") => {
                    self.default_ccache_name.get_or_insert(value);
                }
                ("libdefaults", [], "dns_lookup_kdc") => {
                    self.dns_lookup_kdc
                        .get_or_insert(value.eq_ignore_ascii_case("true"));
                }
                ("realms", [realm], "kdc") => {
                    self.kdcs.entry(realm.clone()).or_default().push(value);
                }
                ("domain_realm", [], _) => self.domain_realm.push((key.to_lowercase(), value)),
                _ => {}
            }
        }
    }

    /// The realm of `host` by `[domain_realm]` (an exact host, then the longest `.domain`),
    /// else `default_realm`.
    pub fn realm_for_host(&self, host: &str) -> Option<String> {
        let host = host.to_lowercase();
        if let Some((_, r)) = self.domain_realm.iter().find(|(k, _)| *k == host) {
            return Some(r.clone());
        }
        self.domain_realm
            .iter()
            .filter(|(k, _)| k.starts_with('.') && host.ends_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(_, r)| r.clone())
            .or_else(|| self.default_realm.clone())
    }
}

/// Where the KDC of a realm was found, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KdcLocation {
    /// `tcp://host:port`, in the order to try.
    pub urls: Vec<String>,
    /// `--kdc`, `krb5.conf [realms]` or `DNS SRV _kerberos._tcp.REALM`.
    pub how: String,
}

/// `host[:port]` (or a `tcp://` URL) as a KDC URL.
pub fn kdc_url(spec: &str) -> String {
    let spec = spec.trim();
    if spec.contains("://") {
        return spec.to_string();
    }
    let has_port = match spec.rsplit_once(':') {
        Some((h, p)) => p.parse::<u16>().is_ok() && (!h.contains(':') || h.ends_with(']')),
        None => false,
    };
    if has_port {
        format!("tcp://{spec}")
    } else {
        format!("tcp://{spec}:88")
    }
}

/// The KDC for `realm`: `--kdc` first, then `[realms]`, then DNS SRV (`_kerberos._tcp.REALM`).
pub async fn locate(
    realm: &str,
    conf: &Krb5Conf,
    flag: Option<&str>,
    dns_server: Option<std::net::SocketAddr>,
) -> Result<KdcLocation, String> {
    if let Some(k) = flag {
        return Ok(KdcLocation {
            urls: vec![kdc_url(k)],
            how: "--kdc".into(),
        });
    }
    if let Some(list) = conf.kdcs.get(realm).filter(|l| !l.is_empty()) {
        return Ok(KdcLocation {
            urls: list.iter().map(|k| kdc_url(k)).collect(),
            how: format!("[realms] in {}", conf.files.join(":")),
        });
    }
    if conf.dns_lookup_kdc == Some(false) {
        return Err(format!(
            "no KDC for realm {realm}: no --kdc, no [realms] {realm} kdc in {}, and dns_lookup_kdc = false forbids DNS SRV",
            conf.files.join(":")
        ));
    }
    let srv = crate::dns::srv(&format!("_kerberos._tcp.{realm}."), dns_server).await;
    if !srv.is_empty() {
        let mut urls = Vec::new();
        let mut targets = Vec::new();
        for (host, port) in srv {
            targets.push(format!("{host}:{port}"));
            // The targets are names; with --dns-server the same resolver answers for them (the
            // system's would not know a split-horizon name).
            match dns_server {
                Some(server) => {
                    if let Ok(addrs) =
                        crate::dns::addresses(&host, server, Duration::from_secs(2)).await
                    {
                        urls.extend(
                            addrs
                                .into_iter()
                                .map(|a| format!("tcp://{}", std::net::SocketAddr::new(a, port))),
                        );
                    }
                }
                None => urls.push(format!("tcp://{host}:{port}")),
            }
        }
        return Ok(KdcLocation {
            urls,
            how: format!("DNS SRV _kerberos._tcp.{realm} → {}", targets.join(", ")),
        });
    }
    Err(format!(
        "no KDC for realm {realm}: no --kdc, no [realms] {realm} kdc in {}, no DNS SRV record _kerberos._tcp.{realm}",
        if conf.files.is_empty() {
            "any krb5.conf (KRB5_CONFIG, /etc/krb5.conf)".to_string()
        } else {
            conf.files.join(":")
        }
    ))
}

/// The credential cache MIT would use: `ccname` (the value of `KRB5CCNAME`), else
/// `default_ccache_name`, else `/tmp/krb5cc_UID`. Only `FILE:` caches (and `DIR:` collections'
/// primary) are readable here.
pub fn cache_path(conf: &Krb5Conf, ccname: Option<&str>) -> Result<(PathBuf, String), String> {
    let uid = uid();
    let (name, from) = match ccname {
        Some(n) if !n.is_empty() => (n.to_string(), "KRB5CCNAME"),
        _ => match &conf.default_ccache_name {
            Some(n) => (n.clone(), "default_ccache_name"),
            None => (format!("FILE:/tmp/krb5cc_{uid}"), "MIT's default"),
        },
    };
    let name = name
        .replace("%{uid}", &uid.to_string())
        .replace("%{TEMP}", "/tmp");
    let (kind, rest) = match name.split_once(':') {
        Some((k, r)) if !k.contains('/') => (k.to_ascii_uppercase(), r.to_string()),
        _ => ("FILE".to_string(), name.clone()),
    };
    match kind.as_str() {
        "FILE" => Ok((PathBuf::from(rest), from.to_string())),
        "DIR" => {
            let dir = PathBuf::from(rest.trim_start_matches(':'));
            let primary = std::fs::read_to_string(dir.join("primary"))
                .map(|p| p.trim().to_string())
                .unwrap_or_else(|_| "tkt".into());
            Ok((dir.join(primary), from.to_string()))
        }
        other => Err(format!(
            "{from} names a {other}: cache ({name}); why401 reads FILE: caches: \
             run `KRB5CCNAME=FILE:/tmp/krb5cc_{uid} kinit` and probe again"
        )),
    }
}

fn uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0)
}

/// The time now.
pub fn now() -> Now {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Now {
        secs: d.as_secs() as i64,
        usec: d.subsec_micros(),
    }
}

/// RFC 3339 of Unix seconds, for the record.
pub fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// What the cache holds for us: the TGT and, when there, a ticket for the service already.
#[derive(Debug, Clone)]
pub struct CachedTickets {
    /// The record for the evidence.
    pub record: TicketCacheRecord,
    /// The TGT for the realm, when present and current.
    pub tgt: Option<Credential>,
    /// Every current service ticket in the cache.
    pub services: Vec<Credential>,
}

/// Reads the cache ([`cache_path`]) and says what is wrong with it, plainly, in the record's
/// `problem`.
pub fn read_cache(conf: &Krb5Conf, ccname: Option<&str>, at: Now) -> CachedTickets {
    let mut record = TicketCacheRecord::default();
    let (path, from) = match cache_path(conf, ccname) {
        Ok(p) => p,
        Err(why) => {
            record.problem = Some(why);
            return CachedTickets {
                record,
                tgt: None,
                services: Vec::new(),
            };
        }
    };
    record.path = format!("{} ({from})", path.display());
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => {
            record.problem = Some(format!(
                "no Kerberos ticket cache at {} ({e}): run kinit first, or point KRB5CCNAME at the cache",
                path.display()
            ));
            return CachedTickets {
                record,
                tgt: None,
                services: Vec::new(),
            };
        }
    };
    let cache = match ccache::decode(&bytes) {
        Ok(c) => c,
        Err(e) => {
            record.problem = Some(format!("{} is not a readable ccache: {e}", path.display()));
            return CachedTickets {
                record,
                tgt: None,
                services: Vec::new(),
            };
        }
    };
    record.principal = cache.default_principal.display();
    let creds: Vec<Credential> = cache
        .credentials
        .iter()
        .filter(|c| !c.config)
        .map(ccache::CcacheCredential::credential)
        .collect();
    let realm = cache.default_principal.realm.clone();
    let tgt = creds
        .iter()
        .find(|c| c.is_tgt() && c.server.components.get(1) == Some(&realm))
        .cloned();
    match &tgt {
        None => {
            record.problem = Some(format!(
                "the cache {} holds no ticket-granting ticket for {realm}: run kinit {}",
                path.display(),
                record.principal
            ))
        }
        Some(t) => {
            record.tgt_expires = Some(rfc3339(t.end_time));
            if t.end_time <= at.secs {
                record.expired = true;
                record.problem = Some(format!(
                    "the ticket-granting ticket of {} in {} expired at {}: run kinit again (or kinit -R while it is renewable)",
                    record.principal,
                    path.display(),
                    rfc3339(t.end_time)
                ));
            }
        }
    }
    let current = |c: &&Credential| c.end_time > at.secs;
    CachedTickets {
        tgt: tgt.filter(|t| t.end_time > at.secs),
        services: creds
            .iter()
            .filter(|c| !c.is_tgt())
            .filter(current)
            .cloned()
            .collect(),
        record,
    }
}

/// What the record says about a ticket (never its key or encrypted part).
pub fn ticket_record(c: &Credential, from_cache: bool) -> TicketRecord {
    let (etype, kvno) = c.ticket_key().unwrap_or((0, None));
    TicketRecord {
        server: c.server.display(),
        client: c.client.display(),
        etype: why401_wire::spnego::etype_name(etype).to_string(),
        kvno,
        flags: ccache::flag_names(c.flags)
            .into_iter()
            .map(str::to_string)
            .collect(),
        start: rfc3339(c.start_time),
        end: rfc3339(c.end_time),
        from_cache,
    }
}

/// A failed step of the ticket path: the KDC refused, was not reached, or the protocol failed.
#[derive(Debug, Clone)]
pub enum TicketError {
    /// The KDC said no (the exchange is in the log with its code).
    Refused(why401_wire::spnego::KrbErrorInfo),
    /// No reply from any KDC.
    Unreachable(String),
    /// Anything else: decode, crypto, nonce.
    Other(String),
}

impl std::fmt::Display for TicketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TicketError::Refused(e) => write!(
                f,
                "the KDC refused with KRB-ERROR {} for {}@{}{}",
                e.code,
                e.spn,
                e.realm,
                e.e_text
                    .as_ref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default()
            ),
            TicketError::Unreachable(w) => write!(f, "no KDC answered: {w}"),
            TicketError::Other(w) => f.write_str(w),
        }
    }
}

/// A TGS exchange: a ticket for `service` with `tgt`, from the first KDC of `kdcs` that answers.
pub fn tgs(
    kdc: &Kdc,
    kdcs: &[String],
    tgt: &Credential,
    service: &Principal,
    options: u32,
) -> Result<Credential, TicketError> {
    let nonce = {
        let mut b = [0u8; 4];
        let _ = getrandom::fill(&mut b);
        u32::from_be_bytes(b) & 0x7fff_ffff
    };
    let req = krb5::tgs_req(
        tgt,
        service,
        options | krb5::flags::CANONICALIZE | krb5::flags::RENEWABLE_OK,
        &[18, 17],
        nonce,
        now(),
    )
    .map_err(|e| TicketError::Other(e.to_string()))?;
    let mut last = "no KDC address".to_string();
    for url in kdcs {
        match kdc.send_message(url, &req) {
            Ok(reply) => {
                return krb5::tgs_rep(&reply, tgt, nonce).map_err(|e| match e {
                    Krb5Error::Refused(info) => TicketError::Refused(info),
                    other => TicketError::Other(other.to_string()),
                });
            }
            Err(why) => last = why,
        }
    }
    Err(TicketError::Unreachable(last))
}

/// The default timeout for a KDC exchange.
pub const KDC_TIMEOUT: Duration = Duration::from_secs(5);

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = r#"
# a comment
[libdefaults]
    default_realm = LAB.TEST
    dns_canonicalize_hostname = false
    rdns = false
[realms]
    LAB.TEST = {
        kdc = 127.0.0.1:8888
        kdc = kdc2.lab.test
        admin_server = 127.0.0.1:749
    }
    OTHER.TEST = {
        kdc = [::1]:88
    }
[domain_realm]
    .corp.example = CORP.EXAMPLE
    .eu.corp.example = EU.CORP.EXAMPLE
    special.corp.example = LAB.TEST
"#;

    #[test]
    fn reads_mit_profile_relations() {
        let mut c = Krb5Conf::default();
        c.read(CONF);
        assert_eq!(c.default_realm.as_deref(), Some("LAB.TEST"));
        assert_eq!(c.dns_canonicalize_hostname.as_deref(), Some("false"));
        assert_eq!(c.rdns, Some(false));
        assert_eq!(
            c.kdcs.get("LAB.TEST").unwrap(),
            &vec!["127.0.0.1:8888".to_string(), "kdc2.lab.test".into()]
        );
        assert_eq!(
            c.realm_for_host("web.eu.corp.example").unwrap(),
            "EU.CORP.EXAMPLE"
        );
        assert_eq!(
            c.realm_for_host("web.corp.example").unwrap(),
            "CORP.EXAMPLE"
        );
        assert_eq!(
            c.realm_for_host("SPECIAL.corp.example").unwrap(),
            "LAB.TEST"
        );
        assert_eq!(c.realm_for_host("elsewhere.test").unwrap(), "LAB.TEST");
    }

    #[test]
    fn kdc_urls_get_a_port_and_a_scheme() {
        assert_eq!(kdc_url("127.0.0.1:8888"), "tcp://127.0.0.1:8888");
        assert_eq!(kdc_url("kdc.lab.test"), "tcp://kdc.lab.test:88");
        assert_eq!(kdc_url("[::1]:88"), "tcp://[::1]:88");
        assert_eq!(kdc_url("tcp://k:1"), "tcp://k:1");
    }

    #[test]
    fn a_missing_cache_is_said_plainly() {
        let conf = Krb5Conf {
            default_ccache_name: Some("FILE:/nonexistent/why401-cc".into()),
            ..Krb5Conf::default()
        };
        let t = read_cache(&conf, None, now());
        assert!(t.tgt.is_none());
        let p = t.record.problem.unwrap();
        assert!(p.contains("run kinit"), "{p}");
        // KRB5CCNAME wins over the configuration; a cache type why401 cannot read is named.
        let (path, from) = cache_path(&conf, Some("FILE:/tmp/other-cc")).unwrap();
        assert_eq!(
            (path, from.as_str()),
            (PathBuf::from("/tmp/other-cc"), "KRB5CCNAME")
        );
        let kc = Krb5Conf {
            default_ccache_name: Some("KEYRING:persistent:%{uid}".into()),
            ..Krb5Conf::default()
        };
        assert!(cache_path(&kc, None).unwrap_err().contains("FILE:"));
    }
}
