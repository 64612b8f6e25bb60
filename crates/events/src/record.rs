//! One event, reduced to the fields the analysis reads, whatever file it came from.
//!
//! Both readers (`.evtx` through the evtx crate's JSON, XML exports through roxmltree) hand
//! over the same thing: the `System` header and the `EventData` values, named (`<Data
//! Name="TargetUserName">`) and in order (the System log's Kerberos and KDC events carry
//! unnamed values). [`Record::build`] keeps only what a rule reads.

use std::borrow::Cow;

/// Whether the analysis reads events of `id` from `provider`; every other event is counted by
/// id and left alone.
pub fn reads(id: u32, provider: &str) -> bool {
    match id {
        _ if is_security_read(id) => true,
        // Low ids mean nothing without their source: event 11 of a disk driver is not the KDC's.
        4 => is_kerberos_client(provider),
        11 | 14 | 16 | 26 | 27 => is_kdc(provider),
        _ => false,
    }
}

/// The Security log's events the analysis reads (their ids are the Security auditing
/// provider's alone).
pub fn is_security_read(id: u32) -> bool {
    matches!(
        id,
        4624 | 4625 | 4648 | 4740 | 4767 | 4768 | 4769 | 4771 | 4776
    )
}

/// Whether an event of `id` may be read, before its source is known: the Security events, and
/// the System ids whose source then decides.
pub fn may_read(id: u32) -> bool {
    is_security_read(id) || matches!(id, 4 | 11 | 14 | 16 | 26 | 27)
}

/// The Kerberos client's source, as the System log names it.
pub fn is_kerberos_client(provider: &str) -> bool {
    provider.eq_ignore_ascii_case("Microsoft-Windows-Security-Kerberos")
        || provider.eq_ignore_ascii_case("Kerberos")
}

/// The KDC's source, as the System log names it.
pub fn is_kdc(provider: &str) -> bool {
    provider.eq_ignore_ascii_case("Microsoft-Windows-Kerberos-Key-Distribution-Center")
        || provider.eq_ignore_ascii_case("KDC")
        || provider.eq_ignore_ascii_case("Kerberos-Key-Distribution-Center")
}

/// What a reader found in one event, before reduction.
#[derive(Debug, Default)]
pub struct Raw<'a> {
    /// `System/EventID`.
    pub id: u32,
    /// `System/EventRecordID`.
    pub record_id: u64,
    /// `System/TimeCreated/@SystemTime`, Unix seconds.
    pub time: Option<i64>,
    /// `System/Computer`.
    pub computer: &'a str,
    /// `System/Provider/@Name` (or `@EventSourceName` when the name is missing).
    pub provider: &'a str,
    /// `EventData/Data`, named ones by name, all of them in order (values owned where the
    /// reader had to make them, e.g. from a JSON number).
    pub data: Vec<(Option<&'a str>, Cow<'a, str>)>,
}

impl<'a> Raw<'a> {
    /// The value of the `Data` element named `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.data
            .iter()
            .find(|(n, _)| n.is_some_and(|n| n.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v.as_ref())
    }

    /// Whether the event is only counted, not read: a 4624 whose `LogonType` is a number other
    /// than 3. Only network logons say which protocol a web server's clients got; every
    /// reader applies this one rule, so that the counts do not depend on the file's format.
    pub fn counted_only(&self) -> bool {
        self.id == 4624
            && self
                .get("LogonType")
                .and_then(|t| t.trim().parse::<u32>().ok())
                .is_some_and(|t| t != 3)
    }

    /// The `i`-th `Data` value, named or not.
    pub fn nth(&self, i: usize) -> Option<&str> {
        self.data.get(i).map(|(_, v)| v.as_ref())
    }
}

/// An event the analysis reads, with the fields its rules need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The event id.
    pub id: u32,
    /// `EventRecordID`, for `file#record` examples.
    pub record_id: u64,
    /// Unix seconds.
    pub time: i64,
    /// The computer that logged it.
    pub computer: String,
    /// The account concerned (`TargetUserName`; 4776's logon account; 4768/4769/4771's
    /// client), without its domain.
    pub user: String,
    /// Its domain (`TargetDomainName`), empty when not named. For 4740 this is the Caller
    /// Computer Name, moved to [`Record::workstation`].
    pub domain: String,
    /// The client address, IPv4-mapped IPv6 turned back into IPv4; empty for `-` and local.
    pub ip: String,
    /// The client's workstation name (`WorkstationName`, 4776 `Workstation`, 4740's caller).
    pub workstation: String,
    /// 4624/4625 `LogonType`.
    pub logon_type: u32,
    /// The authentication package: `NTLM`, `Kerberos`, `Negotiate`.
    pub package: String,
    /// 4624 `LmPackageName`: `NTLM V2`, `NTLM V1`, `LM`, or `-`.
    pub lm: String,
    /// The failure status (4625 `Status`, 4776 `Status`, 4768/4769/4771 `Status`).
    pub status: u32,
    /// 4625 `SubStatus`.
    pub substatus: u32,
    /// 4625/4624 `ProcessName`, the file name only.
    pub process: String,
    /// 4769 `ServiceName`, 4768's, the System events' target or duplicate name.
    pub service: String,
    /// 4768/4769 `TicketEncryptionType`.
    pub etype: Option<u32>,
    /// What the System events say beyond a name (the encryption types of KDC events 14/16/26/27,
    /// the account holding a duplicate name).
    pub detail: String,
}

impl Record {
    /// Reduces `raw` to what the analysis reads.
    pub fn build(raw: &Raw, time: i64) -> Record {
        let mut r = Record {
            id: raw.id,
            record_id: raw.record_id,
            time,
            computer: raw.computer.to_string(),
            ..Record::default()
        };
        let text = |name: &str| clean(raw.get(name).unwrap_or(""));
        match raw.id {
            4624 | 4625 | 4648 => {
                r.user = text("TargetUserName");
                r.domain = text("TargetDomainName");
                r.ip = address(raw.get("IpAddress").unwrap_or(""));
                r.workstation = text("WorkstationName");
                r.logon_type = number(raw.get("LogonType").unwrap_or("")).unwrap_or(0);
                r.package = text("AuthenticationPackageName");
                r.lm = text("LmPackageName");
                r.status = number(raw.get("Status").unwrap_or("")).unwrap_or(0);
                r.substatus = number(raw.get("SubStatus").unwrap_or("")).unwrap_or(0);
                r.process = file_name(raw.get("ProcessName").unwrap_or(""));
                if raw.id == 4648 {
                    r.service = text("TargetServerName");
                }
            }
            4740 => {
                r.user = text("TargetUserName");
                // 4740 puts the Caller Computer Name where other events put the domain.
                r.workstation = text("TargetDomainName");
            }
            4767 => {
                r.user = text("TargetUserName");
                r.domain = text("TargetDomainName");
            }
            4768 | 4769 | 4771 => {
                let (user, domain) = split_account(raw.get("TargetUserName").unwrap_or(""));
                r.user = user;
                r.domain = text("TargetDomainName");
                if r.domain.is_empty() {
                    r.domain = domain;
                }
                r.service = text("ServiceName");
                r.ip = address(raw.get("IpAddress").unwrap_or(""));
                r.status = number(raw.get("Status").unwrap_or("")).unwrap_or(0);
                r.etype = raw.get("TicketEncryptionType").and_then(number);
            }
            4776 => {
                r.user = text("TargetUserName");
                r.workstation = text("Workstation");
                r.package = text("PackageName");
                r.status = number(raw.get("Status").unwrap_or("")).unwrap_or(0);
            }
            4 => {
                // "The Kerberos client received a KRB_AP_ERR_MODIFIED error from the server
                // %1. The target name used was %3. ..." (%2 is the target's domain): by
                // name where a Windows version names them, else by position.
                r.workstation = clean(raw.get("Server").or(raw.nth(0)).unwrap_or(""));
                r.domain = clean(raw.get("TargetDomain").or(raw.nth(1)).unwrap_or(""));
                r.service = clean(raw.get("TargetName").or(raw.nth(2)).unwrap_or(""));
            }
            11 => {
                // "The KDC encountered duplicate names while processing a Kerberos
                // authentication request. The duplicate name is %1 (of type %2)."
                r.service = clean(raw.nth(0).unwrap_or(""));
                let kind = clean(raw.nth(1).unwrap_or(""));
                if !kind.is_empty() {
                    r.detail = format!("name type {kind}");
                }
            }
            14 | 16 | 26 | 27 => {
                // "While processing a[n AS|TGS] request for the target service %1, the account
                // %2 did not have a suitable key for generating a Kerberos ticket (the missing
                // key has an ID of %3). The requested etypes were %4. The accounts available
                // etypes were %5." Encryption types in decimal.
                r.service = clean(raw.nth(0).unwrap_or(""));
                r.user = clean(raw.nth(1).unwrap_or(""));
                let etypes = |i: usize| names(raw.nth(i).unwrap_or(""));
                let mut parts = Vec::new();
                if let Some(id) = raw.nth(2).map(clean).filter(|v| !v.is_empty()) {
                    parts.push(format!("missing key ID {id}"));
                }
                if let Some(req) = etypes(3) {
                    parts.push(format!("requested {req}"));
                }
                if let Some(have) = etypes(4) {
                    parts.push(format!("the account has {have}"));
                }
                r.detail = parts.join("; ");
            }
            _ => {}
        }
        if r.user.contains('\\') || r.user.contains('@') {
            let (user, domain) = split_account(&r.user);
            r.user = user;
            if r.domain.is_empty() {
                r.domain = domain;
            }
        }
        r
    }

    /// The account as `DOMAIN\user`, or `user` when no domain is named.
    pub fn account(&self) -> String {
        if self.domain.is_empty() {
            self.user.clone()
        } else {
            format!("{}\\{}", self.domain, self.user)
        }
    }

    /// Where the attempt came from: the client address, else the workstation.
    pub fn source(&self) -> &str {
        if self.ip.is_empty() {
            &self.workstation
        } else {
            &self.ip
        }
    }

    /// Whether this is a logon failure (4625; 4771; 4776 with a failure status).
    pub fn is_failure(&self) -> bool {
        match self.id {
            4625 => true,
            4771 => true,
            4776 => self.status != 0,
            _ => false,
        }
    }

    /// The status that says why a logon failed: 4625's SubStatus when Status is the generic
    /// 0xC000006D (or SubStatus says more), else Status.
    pub fn why(&self) -> u32 {
        if self.id == 4625 && self.substatus != 0 {
            self.substatus
        } else {
            self.status
        }
    }
}

/// `23 18 17` (decimal, as KDC events write them) → `RC4-HMAC, AES256-CTS-HMAC-SHA1-96, …`.
fn names(list: &str) -> Option<String> {
    let v: Vec<String> = list
        .split([' ', ','])
        .filter(|t| !t.is_empty())
        .map(|t| {
            match t
                .parse::<u32>()
                .ok()
                .and_then(|n| why401_catalogue::catalogue().etype(n))
            {
                Some(e) => e.name.clone(),
                None => t.to_string(),
            }
        })
        .collect();
    (!v.is_empty()).then(|| v.join(", "))
}

/// `-` and surrounding space mean nothing.
fn clean(v: &str) -> String {
    let v = v.trim();
    if v == "-" {
        String::new()
    } else {
        v.to_string()
    }
}

/// `::ffff:10.0.0.5` → `10.0.0.5`; `-`, `::1`, `127.0.0.1` and empty → empty (a local logon
/// has no client to match).
pub fn address(v: &str) -> String {
    let v = v.trim();
    let v = v
        .strip_prefix("::ffff:")
        .or_else(|| v.strip_prefix("::FFFF:"))
        .unwrap_or(v);
    if matches!(v, "" | "-" | "::1" | "127.0.0.1") {
        String::new()
    } else {
        v.to_string()
    }
}

/// A number as events write them: `0xc000006a`, `0x18`, `3`, `%%2313` is not one.
pub fn number(v: &str) -> Option<u32> {
    let v = v.trim();
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else {
        v.parse().ok()
    }
}

/// `C:\Windows\System32\inetsrv\w3wp.exe` → `w3wp.exe`.
fn file_name(v: &str) -> String {
    let v = clean(v);
    v.rsplit(['\\', '/']).next().unwrap_or("").to_string()
}

/// `CORP\jsmith` or `jsmith@CORP.EXAMPLE` → (`jsmith`, `CORP`).
pub fn split_account(v: &str) -> (String, String) {
    let v = v.trim();
    if let Some((d, u)) = v.split_once('\\') {
        (u.to_string(), d.to_string())
    } else if let Some((u, d)) = v.split_once('@') {
        (u.to_string(), d.to_string())
    } else {
        (clean(v), String::new())
    }
}

/// The account name matching ignores: case, the domain, spaces around.
pub fn user_key(v: &str) -> String {
    let (u, _) = split_account(v);
    u.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw<'a>(id: u32, data: &[(&'a str, &'a str)]) -> Raw<'a> {
        Raw {
            id,
            record_id: 7,
            time: Some(0),
            computer: "WEB01.corp.example",
            provider: "Microsoft-Windows-Security-Auditing",
            data: data
                .iter()
                .map(|(n, v)| (Some(*n), Cow::Borrowed(*v)))
                .collect(),
        }
    }

    #[test]
    fn a_4625_keeps_who_where_and_why() {
        let r = Record::build(
            &raw(
                4625,
                &[
                    ("TargetUserName", "jsmith"),
                    ("TargetDomainName", "CORP"),
                    ("Status", "0xc000006d"),
                    ("SubStatus", "0xc000006a"),
                    ("LogonType", "8"),
                    ("IpAddress", "::ffff:10.1.2.3"),
                    ("ProcessName", "C:\\Windows\\System32\\inetsrv\\w3wp.exe"),
                    ("WorkstationName", "-"),
                ],
            ),
            0,
        );
        assert_eq!(r.account(), "CORP\\jsmith");
        assert_eq!(r.ip, "10.1.2.3");
        assert_eq!(r.why(), 0xC000_006A);
        assert_eq!(r.logon_type, 8);
        assert_eq!(r.process, "w3wp.exe");
        assert_eq!(r.workstation, "");
        assert!(r.is_failure());
    }

    #[test]
    fn a_4740_names_its_caller_computer() {
        let r = Record::build(
            &raw(
                4740,
                &[("TargetUserName", "jsmith"), ("TargetDomainName", "WEB01")],
            ),
            0,
        );
        assert_eq!(r.user, "jsmith");
        assert_eq!(r.domain, "");
        assert_eq!(r.workstation, "WEB01");
    }

    #[test]
    fn kerberos_clients_lose_their_realm_and_keep_it_as_domain() {
        let r = Record::build(
            &raw(
                4771,
                &[
                    ("TargetUserName", "mbrown@CORP.EXAMPLE"),
                    ("Status", "0x18"),
                    ("IpAddress", "::ffff:10.9.8.7"),
                ],
            ),
            0,
        );
        assert_eq!(
            (r.user.as_str(), r.domain.as_str()),
            ("mbrown", "CORP.EXAMPLE")
        );
        assert_eq!(r.status, 0x18);
        assert_eq!(r.source(), "10.9.8.7");
    }

    #[test]
    fn numbers_and_addresses_as_events_write_them() {
        assert_eq!(number("0xC0000234"), Some(0xC000_0234));
        assert_eq!(number("3"), Some(3));
        assert_eq!(number("%%2313"), None);
        assert_eq!(address("-"), "");
        assert_eq!(address("::1"), "");
        assert_eq!(address("fe80::1"), "fe80::1");
        assert_eq!(user_key("CORP\\JSmith"), "jsmith");
        assert!(reads(
            11,
            "Microsoft-Windows-Kerberos-Key-Distribution-Center"
        ));
        assert!(!reads(11, "disk"));
    }
}
