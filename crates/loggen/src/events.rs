//! The Windows events behind a generated IIS log, with their truth: the web server's Security
//! log (a `wevtutil qe /f:xml` export: one `<Event>` per line, no root), the domain
//! controller's (an Event Viewer "Save as XML" file: an `<Events>` root) and a System log
//! export (the KDC's and a Kerberos client's events).
//!
//! Every refused Windows logon of the IIS log (`401 1 1326`, `401 1 1909`, …) gets its 4625 on
//! WEB01 at the same second, from the same address, and the DC's 4776; except that the
//! Security logs start twelve hours after the IIS log (their lines cannot match: outside the
//! events' range), and that failure auditing was off on WEB01 for one hour (those lines match
//! the DC's 4776 only: account and time, no address). Successful NTLM handshakes give 4624
//! type 3 logons (a few from an NTLMv1 client), some plain requests Kerberos ones. On top,
//! events with no IIS line: a laptop locking `mbrown` out through Kerberos (4771, 4740), a
//! service whose password expired (`svc-report`, 4625 type 5), browsers asking for an SPN
//! nobody holds (4769 0x7), a client with a skewed clock (4771 0x25), a duplicate SPN (KDC
//! event 11), a KDC without a key for the requested types (KDC event 27) and a Kerberos client
//! whose ticket was rejected (event 4).

use std::collections::BTreeMap;
use std::io::Write;

use serde_json::json;

use crate::{Line, civil};

/// Where the events go.
pub struct Sinks<'a> {
    /// WEB01's Security log.
    pub web: &'a mut dyn Write,
    /// DC01's Security log.
    pub dc: &'a mut dyn Write,
    /// The System log export.
    pub system: &'a mut dyn Write,
}

/// Writes the events of one IIS log as it is generated, and counts what is true of them.
pub(crate) struct Events<'a> {
    out: Sinks<'a>,
    records: [u64; 3],
    /// The Security logs begin here (the older part rolled over).
    start: i64,
    /// WEB01 audited no logon failures in this hour.
    audit_off: (i64, i64),
    /// Event-only scenarios, by the time they begin, not yet written.
    pending: Vec<(i64, Scenario)>,
    dc_open: bool,
    by_id: BTreeMap<u32, u64>,
    logon_lines: u64,
    matched: u64,
    without_address: u64,
    outside: u64,
    ntlm: [u64; 4],
    jsmith_locked: bool,
}

#[derive(Debug, Clone, Copy)]
enum Scenario {
    LaptopLockout,
    ExpiredService,
    Kerberos,
}

const WEB: usize = 0;
const DC: usize = 1;
const SYSTEM: usize = 2;

/// The win32 statuses of an IIS 401.1 that are a refused Windows logon, and the 4625
/// Status/SubStatus Windows writes for each.
fn statuses(win32: u64) -> Option<(u32, u32)> {
    Some(match win32 {
        1326 => (0xC000_006D, 0xC000_006A),
        1909 => (0xC000_0234, 0),
        1331 => (0xC000_006E, 0xC000_0072),
        1330 => (0xC000_006E, 0xC000_0071),
        1793 => (0xC000_006E, 0xC000_0193),
        1907 => (0xC000_0224, 0),
        _ => return None,
    })
}

impl<'a> Events<'a> {
    pub(crate) fn new(out: Sinks<'a>, start: i64) -> Self {
        let mut e = Events {
            out,
            records: [0; 3],
            start: start + 12 * 3600,
            audit_off: (start + 6 * 86_400 + 3 * 3600, start + 6 * 86_400 + 4 * 3600),
            pending: vec![
                (start + 86_400 + 9 * 3600, Scenario::LaptopLockout),
                (start + 2 * 86_400 + 6 * 3600, Scenario::ExpiredService),
                (start + 3 * 86_400 + 14 * 3600, Scenario::Kerberos),
            ],
            dc_open: false,
            by_id: BTreeMap::new(),
            logon_lines: 0,
            matched: 0,
            without_address: 0,
            outside: 0,
            ntlm: [0; 4],
            jsmith_locked: false,
        };
        let _ = e.out.dc.write_all(
            b"<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\r\n<Events>\r\n",
        );
        e.dc_open = true;
        e
    }

    /// The events of one IIS line (called for every line, in time order).
    pub(crate) fn line(&mut self, l: &Line, handshake_ok: bool) {
        // Which clients are old (NTLMv1) and which plain requests were Kerberos logons is
        // decided from the line, never from the generator's random stream: the IIS log is the
        // same with or without its events.
        let legacy = l.ip.ends_with(".97");
        let kerberos = (l.t + l.ip.len() as i64).rem_euclid(16) == 0;
        self.advance(l.t);
        let logon_failure = l.status == 401 && l.sub == 1 && statuses(l.win32).is_some();
        if logon_failure && !l.user.is_empty() {
            self.logon_lines += 1;
            if l.t < self.start {
                self.outside += 1;
                return;
            }
            let (status, sub) = statuses(l.win32).unwrap_or((0, 0));
            let audited = !(self.audit_off.0..self.audit_off.1).contains(&l.t);
            if audited {
                self.failure_4625(l.t, l.user, l.ip, status, sub, 3, "w3wp.exe");
                self.matched += 1;
            } else {
                self.matched += 1;
                self.without_address += 1;
            }
            // The DC checks the password IIS passed on (NTLM/Basic): 4776, Workstation WEB01.
            let code = if sub != 0 { sub } else { status };
            self.event(
                DC,
                4776,
                l.t,
                "DC01.corp.example",
                SECURITY,
                &[
                    (
                        "PackageName",
                        "MICROSOFT_AUTHENTICATION_PACKAGE_V1_0".into(),
                    ),
                    ("TargetUserName", l.user.into()),
                    ("Workstation", "WEB01".into()),
                    ("Status", format!("0x{code:x}")),
                ],
            );
            if l.win32 == 1909 && l.user == "jsmith" && !self.jsmith_locked {
                self.lockout(l.t, "jsmith", "WEB01");
            }
            return;
        }
        if l.t < self.start || l.user.is_empty() || l.status >= 400 {
            return;
        }
        if handshake_ok {
            // The NTLM handshake's third leg logged on.
            let lm = if legacy { "NTLM V1" } else { "NTLM V2" };
            self.logon_4624(l.t, l.user, l.ip, "NTLM", lm);
            self.ntlm[0] += 1;
            self.ntlm[1] += 1;
            if legacy {
                self.ntlm[3] += 1;
            }
        } else if kerberos {
            self.logon_4624(l.t, l.user, l.ip, "Kerberos", "-");
            self.ntlm[0] += 1;
            self.ntlm[2] += 1;
        }
    }

    fn advance(&mut self, t: i64) {
        while let Some(i) = self.pending.iter().position(|(at, _)| *at <= t) {
            let (at, s) = self.pending.remove(i);
            match s {
                Scenario::LaptopLockout => {
                    // A laptop with mbrown's old password tries Kerberos eight times.
                    for k in 0..8 {
                        self.event(
                            DC,
                            4771,
                            at + k * 20,
                            "DC01.corp.example",
                            SECURITY,
                            &[
                                ("TargetUserName", "mbrown".into()),
                                ("TargetSid", "S-1-5-21-1-2-3-1107".into()),
                                ("ServiceName", "krbtgt/CORP.EXAMPLE".into()),
                                ("TicketOptions", "0x40810010".into()),
                                ("Status", "0x18".into()),
                                ("PreAuthType", "2".into()),
                                ("IpAddress", "::ffff:10.9.8.7".into()),
                                ("IpPort", "52114".into()),
                            ],
                        );
                    }
                    self.lockout(at + 7 * 20, "mbrown", "LAPTOP-42");
                }
                Scenario::ExpiredService => {
                    // A Windows service on WEB01 runs as svc-report, whose password expired.
                    for k in 0..16 {
                        self.failure_4625(
                            at + k * 900,
                            "svc-report",
                            "",
                            0xC000_006E,
                            0xC000_0071,
                            5,
                            "services.exe",
                        );
                    }
                }
                Scenario::Kerberos => {
                    for k in 0..60i64 {
                        self.event(
                            DC,
                            4769,
                            at + k * 30,
                            "DC01.corp.example",
                            SECURITY,
                            &[
                                ("TargetUserName", format!("user{:04}@CORP.EXAMPLE", k % 30)),
                                ("TargetDomainName", "CORP.EXAMPLE".into()),
                                ("ServiceName", "HTTP/intranet.corp.example".into()),
                                ("ServiceSid", "S-1-0-0".into()),
                                ("TicketOptions", "0x40810000".into()),
                                ("TicketEncryptionType", "0xffffffff".into()),
                                (
                                    "IpAddress",
                                    format!("::ffff:10.0.{}.{}", k % 30, 10 + k % 7),
                                ),
                                ("IpPort", "0".into()),
                                ("Status", "0x7".into()),
                            ],
                        );
                    }
                    for k in 0..5 {
                        self.event(
                            DC,
                            4771,
                            at + 100 + k * 60,
                            "DC01.corp.example",
                            SECURITY,
                            &[
                                ("TargetUserName", "kiosk".into()),
                                ("ServiceName", "krbtgt/CORP.EXAMPLE".into()),
                                ("Status", "0x25".into()),
                                ("IpAddress", "::ffff:10.7.7.7".into()),
                            ],
                        );
                    }
                    for k in 0..3 {
                        self.classic(
                            at + 200 + k * 600,
                            "DC01.corp.example",
                            "Microsoft-Windows-Kerberos-Key-Distribution-Center",
                            "KDC",
                            11,
                            &["HTTP/intranet.corp.example", "DS_SERVICE_PRINCIPAL_NAME"],
                        );
                    }
                    self.classic(
                        at + 300,
                        "DC01.corp.example",
                        "Microsoft-Windows-Kerberos-Key-Distribution-Center",
                        "KDC",
                        27,
                        &["HTTP/legacy.corp.example", "svc-legacy", "9", "18 17", "23"],
                    );
                    for k in 0..2 {
                        self.classic(
                            at + 400 + k * 60,
                            "WS-0042.corp.example",
                            "Microsoft-Windows-Security-Kerberos",
                            "Kerberos",
                            4,
                            &[
                                "web02$",
                                "CORP.EXAMPLE",
                                "HTTP/intranet.corp.example",
                                "CORP.EXAMPLE",
                            ],
                        );
                    }
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn failure_4625(
        &mut self,
        t: i64,
        user: &str,
        ip: &str,
        status: u32,
        sub: u32,
        logon_type: u32,
        process: &str,
    ) {
        let reason = match sub {
            0xC000_0071 => "%%2309",
            0xC000_0072 => "%%2310",
            0xC000_0193 => "%%2305",
            _ if status == 0xC000_0234 => "%%2307",
            _ => "%%2313",
        };
        self.event(
            WEB,
            4625,
            t,
            "WEB01.corp.example",
            SECURITY,
            &[
                ("SubjectUserSid", "S-1-5-18".into()),
                ("SubjectUserName", "WEB01$".into()),
                ("SubjectDomainName", "CORP".into()),
                ("SubjectLogonId", "0x3e7".into()),
                ("TargetUserSid", "S-1-0-0".into()),
                ("TargetUserName", user.into()),
                ("TargetDomainName", "CORP".into()),
                ("Status", format!("0x{status:x}")),
                ("FailureReason", reason.into()),
                ("SubStatus", format!("0x{sub:x}")),
                ("LogonType", logon_type.to_string()),
                ("LogonProcessName", "Advapi  ".into()),
                ("AuthenticationPackageName", "Negotiate".into()),
                ("WorkstationName", "WEB01".into()),
                ("TransmittedServices", "-".into()),
                ("LmPackageName", "-".into()),
                ("KeyLength", "0".into()),
                ("ProcessId", "0x1a2c".into()),
                (
                    "ProcessName",
                    format!("C:\\Windows\\System32\\inetsrv\\{process}"),
                ),
                (
                    "IpAddress",
                    if ip.is_empty() { "-".into() } else { ip.into() },
                ),
                ("IpPort", if ip.is_empty() { "-" } else { "51234" }.into()),
            ],
        );
    }

    fn logon_4624(&mut self, t: i64, user: &str, ip: &str, package: &str, lm: &str) {
        self.event(
            WEB,
            4624,
            t,
            "WEB01.corp.example",
            SECURITY,
            &[
                ("TargetUserName", user.into()),
                ("TargetDomainName", "CORP".into()),
                ("LogonType", "3".into()),
                ("LogonProcessName", package.into()),
                ("AuthenticationPackageName", package.into()),
                ("WorkstationName", "-".into()),
                ("LmPackageName", lm.into()),
                ("ProcessName", "-".into()),
                ("IpAddress", ip.into()),
                ("IpPort", "50111".into()),
                ("ImpersonationLevel", "%%1833".into()),
            ],
        );
    }

    fn lockout(&mut self, t: i64, user: &str, caller: &str) {
        if user == "jsmith" {
            self.jsmith_locked = true;
        }
        self.event(
            DC,
            4740,
            t,
            "DC01.corp.example",
            SECURITY,
            &[
                ("TargetUserName", user.into()),
                ("TargetDomainName", caller.into()),
                ("TargetSid", "S-1-5-21-1-2-3-1105".into()),
                ("SubjectUserSid", "S-1-5-18".into()),
                ("SubjectUserName", "DC01$".into()),
                ("SubjectDomainName", "CORP".into()),
                ("SubjectLogonId", "0x3e7".into()),
            ],
        );
    }

    fn event(
        &mut self,
        log: usize,
        id: u32,
        t: i64,
        computer: &str,
        provider: (&str, &str),
        data: &[(&str, String)],
    ) {
        let mut body = String::new();
        for (name, value) in data {
            body.push_str(&format!("<Data Name='{name}'>{}</Data>", xml(value)));
        }
        self.write(log, id, t, computer, provider, "", &body);
    }

    /// A classic System event: unnamed values, the id with its qualifiers.
    fn classic(
        &mut self,
        t: i64,
        computer: &str,
        provider: &str,
        source: &str,
        id: u32,
        data: &[&str],
    ) {
        let body: String = data
            .iter()
            .map(|v| format!("<Data>{}</Data>", xml(v)))
            .collect();
        let attrs = format!(" EventSourceName='{source}'");
        self.write(SYSTEM, id, t, computer, (provider, ""), &attrs, &body);
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        log: usize,
        id: u32,
        t: i64,
        computer: &str,
        (provider, guid): (&str, &str),
        provider_attrs: &str,
        body: &str,
    ) {
        self.records[log] += 1;
        *self.by_id.entry(id).or_default() += 1;
        let (y, m, d) = civil(t.div_euclid(86_400));
        let s = t.rem_euclid(86_400);
        let time = format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:09}Z",
            s / 3600,
            s % 3600 / 60,
            s % 60,
            (self.records[log] % 10_000_000) * 100
        );
        let guid = if guid.is_empty() {
            String::new()
        } else {
            format!(" Guid='{guid}'")
        };
        let channel = if log == SYSTEM { "System" } else { "Security" };
        let text = format!(
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='{provider}'{guid}{provider_attrs}/><EventID>{id}</EventID><Version>0</Version><Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='{time}'/><EventRecordID>{}</EventRecordID><Correlation/><Execution ProcessID='736' ThreadID='5412'/><Channel>{channel}</Channel><Computer>{computer}</Computer><Security/></System><EventData>{body}</EventData></Event>\r\n",
            self.records[log]
        );
        // The DC's file is Event Viewer's shape: double quotes.
        let text = if log == DC {
            text.replace('\'', "\"")
        } else {
            text
        };
        let out: &mut dyn Write = match log {
            WEB => self.out.web,
            DC => self.out.dc,
            _ => self.out.system,
        };
        out.write_all(text.as_bytes()).expect("write events");
    }

    /// Writes what is left and returns the truth.
    pub(crate) fn finish(mut self) -> serde_json::Value {
        self.advance(i64::MAX);
        if self.dc_open {
            self.out
                .dc
                .write_all(b"</Events>\r\n")
                .expect("write events");
        }
        let _ = (
            self.out.web.flush(),
            self.out.dc.flush(),
            self.out.system.flush(),
        );
        json!({
            "records": {"web": self.records[WEB], "dc": self.records[DC], "system": self.records[SYSTEM]},
            "by_id": self.by_id.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
            "correlation": {
                "logon_lines": self.logon_lines,
                "matched": self.matched,
                "matched_without_address": self.without_address,
                "unmatched": self.outside,
                "outside_range": self.outside,
            },
            "lockouts": [
                {"user": "jsmith", "source": "10.1.2.3", "caller": "WEB01", "agent": crate::AGENTS[3]},
                {"user": "mbrown", "source": "10.9.8.7", "caller": "LAPTOP-42"},
            ],
            "account_state": {"user": "CORP\\svc-report", "state": "password-expired", "code": "0xC0000071", "count": 16},
            "kerberos": {
                "spn_unknown": {"target": "http/intranet.corp.example", "count": 60},
                "clock_skew": {"target": "10.7.7.7", "count": 5},
                "duplicate_spn": {"target": "http/intranet.corp.example", "count": 3},
                "etype": {"target": "http/legacy.corp.example", "count": 1},
                "ticket_rejected": {"target": "http/intranet.corp.example", "count": 2},
            },
            "ntlm": {"network_logons": self.ntlm[0], "ntlm": self.ntlm[1], "kerberos": self.ntlm[2], "ntlm_v1": self.ntlm[3]},
        })
    }
}

const SECURITY: (&str, &str) = (
    "Microsoft-Windows-Security-Auditing",
    "{54849625-5478-4994-A5BA-3E3B0328C30D}",
);

fn xml(v: &str) -> String {
    v.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}
