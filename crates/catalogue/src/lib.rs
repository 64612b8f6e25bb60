//! What the codes and findings of HTTP authentication mean, kept as data.
//!
//! What it is for: the knowledge why401 explains with — HTTP statuses, IIS substatus codes,
//! Win32 errors, HRESULTs (SEC_E_*), NTSTATUS, LDAP "data" codes, Kerberos errors, the known
//! TLS-inspection CAs, and every finding id with its title, explanation and fixes. It lives in
//! TOML files under `data/`, compiled in with `include_str!` and read once.
//!
//! What it is not: no parsing of wire formats (`why401-wire`), no rules deciding which finding
//! applies (`why401-doctor`), no output formatting (`why401-render`).
//!
//! Looking up what a user pastes into `why401 explain`, and what an IIS log line means:
//!
//! ```
//! use why401_catalogue::{CodeKind, Lookup, Match, catalogue, lookup};
//!
//! // An IIS substatus, as the detailed error page shows it.
//! let Lookup::One { entry: Match::Code(code) } = lookup("401.2")? else {
//!     panic!("401.2 names one code");
//! };
//! assert_eq!(code.kind, CodeKind::IisSubstatus);
//! assert!(code.title.contains("none of its enabled authentication methods"));
//!
//! // A field copied from Windows security event 4625, label and tab included.
//! let Lookup::One { entry } = lookup("Sub Status:\t0xC000006D")? else {
//!     panic!("0xC000006D names one code");
//! };
//! assert_eq!(entry.query(), "ntstatus:0xC000006D");
//! assert_eq!(entry.title(), "The logon failed: bad user name or password.");
//!
//! // `sc-status sc-substatus sc-win32-status` of an IIS log line, summed up.
//! assert!(catalogue().triple_meaning(401, 1, 1326).contains("logon failure"));
//! # Ok::<(), why401_catalogue::LookupError>(())
//! ```

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

mod lookup;
mod triple;

pub use lookup::{Lookup, LookupError, Match, lookup};
pub use triple::LogTriple;

/// The family a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CodeKind {
    /// An HTTP status code (RFC 9110 §15), e.g. `401`.
    Http,
    /// An IIS substatus, written with its status: `401.2`.
    IisSubstatus,
    /// A Win32 error, in decimal as IIS logs `sc-win32-status`: `1326` (`ERROR_LOGON_FAILURE`).
    Win32,
    /// An HRESULT, in hex: `0x8009030E` (`SEC_E_NO_CREDENTIALS`).
    Hresult,
    /// An NTSTATUS, in hex as Windows security events show it: `0xC000006D`
    /// (`STATUS_LOGON_FAILURE`).
    Ntstatus,
    /// The `data` code of an Active Directory LDAP bind error, in hex: `52e` (the password is wrong).
    Ldap,
    /// A Kerberos error number (RFC 4120 §7.5.9), in decimal: `37` (`KRB_AP_ERR_SKEW`).
    Kerberos,
    /// A Microsoft Entra ID (Azure AD) error, its number without the `AADSTS` prefix: `50076`.
    Aadsts,
}

impl CodeKind {
    /// How the kind is called in prose.
    pub fn label(self) -> &'static str {
        match self {
            CodeKind::Http => "HTTP status",
            CodeKind::IisSubstatus => "IIS substatus",
            CodeKind::Win32 => "Win32 error",
            CodeKind::Hresult => "HRESULT",
            CodeKind::Ntstatus => "NTSTATUS",
            CodeKind::Ldap => "LDAP data code",
            CodeKind::Kerberos => "Kerberos error",
            CodeKind::Aadsts => "Entra ID error",
        }
    }
}

/// One code and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The family, which also fixes how `code` is written.
    pub kind: CodeKind,
    /// Canonical form: `401.1`, `1326`, `0x8009030E`, `0xC000006D`, `52e`, `37`.
    pub code: String,
    /// Symbolic name: `ERROR_LOGON_FAILURE`, `KRB_AP_ERR_SKEW`.
    pub name: String,
    /// Other spellings of the name that lookup accepts: Microsoft's `KDC_ERR_ETYPE_NOTSUPP`
    /// for `KDC_ERR_ETYPE_NOSUPP`, RFC 4556's name for a code RFC 4120 names differently.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// A few words for tables (`wrong password`, `account disabled`): what an event log's
    /// reason column shows. [`Code::short`] falls back to the symbolic name in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short: Option<String>,
    /// One line saying what the code reports: the heading of its `explain` page, and the short
    /// form lists and the logs table show.
    pub title: String,
    /// What the code means for HTTP authentication: where it shows up, what it is mistaken for.
    pub meaning: String,
    /// The usual reasons the code appears.
    #[serde(default)]
    pub causes: Vec<String>,
    /// What to do about it, one step per entry.
    #[serde(default)]
    pub fixes: Vec<String>,
    /// Where the code is defined or explained: RFC sections, KB articles, URLs.
    #[serde(default)]
    pub references: Vec<String>,
    /// Related finding ids.
    #[serde(default)]
    pub findings: Vec<String>,
    /// The code is expected in normal operation (e.g. `401 2 5`, the first NTLM leg).
    #[serde(default)]
    pub normal: bool,
    /// For HRESULTs: the unsigned decimal IIS writes in `sc-win32-status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimal: Option<String>,
}

impl Code {
    /// A few words for tables: `short`, else the symbolic name without its prefix, in lower
    /// case (`STATUS_NO_SUCH_USER` → `no such user`).
    pub fn short(&self) -> String {
        if let Some(s) = &self.short {
            return s.clone();
        }
        let name = [
            "STATUS_",
            "ERROR_",
            "KDC_ERR_",
            "KRB_AP_ERR_",
            "KRB_ERR_",
            "SEC_E_",
        ]
        .iter()
        .find_map(|p| self.name.strip_prefix(p))
        .unwrap_or(&self.name);
        name.replace('_', " ").to_lowercase()
    }

    /// The numeric value, where the code is a number (not for IIS substatus or LDAP).
    pub fn value(&self) -> Option<u64> {
        match self.kind {
            CodeKind::Http | CodeKind::Win32 | CodeKind::Kerberos | CodeKind::Aadsts => {
                self.code.parse().ok()
            }
            CodeKind::Hresult | CodeKind::Ntstatus => u64::from_str_radix(
                self.code.trim_start_matches("0x").trim_start_matches("0X"),
                16,
            )
            .ok(),
            CodeKind::IisSubstatus | CodeKind::Ldap => None,
        }
    }

    /// `kind:code`, the form findings use to refer to codes.
    pub fn key(&self) -> String {
        format!("{}:{}", kind_slug(self.kind), self.code)
    }
}

fn kind_slug(k: CodeKind) -> &'static str {
    match k {
        CodeKind::Http => "http",
        CodeKind::IisSubstatus => "iis-substatus",
        CodeKind::Win32 => "win32",
        CodeKind::Hresult => "hresult",
        CodeKind::Ntstatus => "ntstatus",
        CodeKind::Ldap => "ldap",
        CodeKind::Kerberos => "kerberos",
        CodeKind::Aadsts => "aadsts",
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The request fails because of it: a root cause. Sorts first.
    Error,
    /// Wrong or risky, and may explain trouble, but does not by itself make the request fail.
    Warning,
    /// Worth knowing, not a fault (access granted, the normal legs of a handshake).
    Info,
}

/// Where a finding is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    /// The client's request: credentials missing, malformed, refused or lost on a redirect;
    /// cookies not sent.
    Request,
    /// A token's content: lifetime, audience, issuer, scope, signature, clock skew.
    Token,
    /// The server's answer: missing or malformed challenges, wrong statuses, IIS substatus causes.
    Server,
    /// Patterns across a server's log: brute force, spraying, lockouts, regressions.
    Logs,
    /// Server configuration: authentication providers, app-pool identities, channel binding,
    /// password files.
    Config,
    /// Reaching the server at all: DNS, TCP, TLS, timeouts, captive portals.
    Reach,
    /// What only a browser capture shows (preflights, prompt loops, cache hits, the browser's
    /// own auth decisions), and what the capture hides.
    Capture,
}

/// A finding id and everything the catalogue says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingInfo {
    /// The stable kebab-case id (`credentials-rejected`) of JSON output and `why401 explain`;
    /// renaming one is a breaking change.
    pub id: String,
    /// Where the finding is seen, for grouping in output.
    pub group: Group,
    /// The default severity; a rule may report a case at another.
    pub severity: Severity,
    /// The headline in general terms, in lower case: `the server refused the credentials that were
    /// sent`; a rule's finding carries a case-specific one.
    pub title: String,
    /// Paragraphs for `why401 explain`: what is going on and how to confirm it.
    pub explanation: String,
    /// What to do, one step per entry.
    #[serde(default)]
    pub fixes: Vec<String>,
    /// An example of the problem as seen on the wire or in a log (ShellCheck's "bad" example).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad: Option<String>,
    /// The corrected example, or a command that works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    /// Where to read more: RFC sections, KB articles, URLs.
    #[serde(default)]
    pub references: Vec<String>,
    /// Related codes as `kind:code`.
    #[serde(default)]
    pub codes: Vec<String>,
    /// Findings this one goes with, both ways: a configuration finding and the finding the probe
    /// or the logs report for its effect.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub see_also: Vec<String>,
}

/// A certificate issuer that marks TLS interception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionCa {
    /// The company behind the product, e.g. `Gen Digital (Norton)`.
    pub vendor: String,
    /// The product that intercepts TLS, e.g. `Norton 360 / Norton AntiVirus Web/Mail Shield`.
    pub product: String,
    /// Case-insensitive substring of the issuer that identifies it.
    #[serde(rename = "match")]
    pub pattern: String,
    /// What the product does to HTTPS and which clients notice; may be empty.
    #[serde(default)]
    pub note: String,
}

/// A known combination of status, substatus and win32 status as IIS logs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combo {
    /// `sc-status`: the HTTP status IIS sent.
    pub status: u16,
    /// `sc-substatus`: the IIS substatus, the `2` of `401.2`.
    pub substatus: u32,
    /// As logged: decimal.
    pub win32: String,
    /// Whether the combination is part of a working handshake (the anonymous first leg, the NTLM
    /// challenge) rather than a fault.
    pub normal: bool,
    /// The combination in a few words: what the logs table and `explain` show as its meaning.
    pub title: String,
    /// What the three mean together, and when the line matters.
    pub meaning: String,
    /// Related finding ids.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// A Windows event why401 knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInfo {
    /// The event id (`4625`).
    pub id: u32,
    /// The log it is written to: `Security` or `System`.
    pub log: String,
    /// The source that gives a System event's id its meaning (ids below 4096 are reused by
    /// every source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// What it records, as Event Viewer's task names it.
    pub title: String,
    /// What it says about a 401, and where to look.
    pub meaning: String,
    /// Whether `why401 logs` analyses it (the others are counted by id).
    pub read: bool,
    /// Related finding ids.
    #[serde(default)]
    pub findings: Vec<String>,
}

/// A `LogonType` of events 4624/4625.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogonType {
    /// The number the event writes (`type` in the data file).
    #[serde(rename(deserialize = "type"))]
    pub number: u32,
    /// Its name (`Network`).
    pub name: String,
    /// What makes such a logon.
    pub meaning: String,
}

/// A `%%` parameter string of msobjs.dll, as events write FailureReason and friends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventMessage {
    /// `%%2313`.
    pub id: String,
    /// The text Event Viewer shows in its place.
    pub text: String,
}

/// A Kerberos encryption type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Etype {
    /// The number (`23`; events write it in hex, `0x17`).
    pub value: u32,
    /// Its name (`RC4-HMAC`).
    pub name: String,
    /// RC4 and DES: deprecated, disabled by default or on the way out.
    pub weak: bool,
}

/// A Microsoft first-party application (Entra ID), so a token's `aud`, `appid` or a challenge's
/// `client_id` can be named.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct App {
    /// The application id, lower case.
    pub id: String,
    /// Its name (`Microsoft Graph`).
    pub name: String,
    /// The resource URIs it is known by (v1 tokens' `aud`); `*` stands for one DNS label.
    pub resources: Vec<String>,
    /// `resource` (an API), `client` (a first-party client) or `both`.
    pub kind: String,
}

impl App {
    /// Whether `aud` (an app id or a resource URI, any case, with or without a trailing `/`)
    /// names this application.
    pub fn matches(&self, aud: &str) -> bool {
        let aud = aud.trim().trim_end_matches('/').to_ascii_lowercase();
        if aud == self.id {
            return true;
        }
        self.resources.iter().any(|r| {
            let r = r.trim_end_matches('/').to_ascii_lowercase();
            match r.split_once('*') {
                // One DNS label: `https://*.sharepoint.com`.
                Some((pre, post)) => {
                    aud.len() > pre.len() + post.len()
                        && aud.starts_with(pre)
                        && aud.ends_with(post)
                        && !aud[pre.len()..aud.len() - post.len()].contains(['.', '/'])
                }
                None => aud == r,
            }
        })
    }
}

#[derive(Deserialize)]
struct AppsFile {
    app: Vec<App>,
}

/// Everything the catalogue knows.
#[derive(Debug)]
pub struct Catalogue {
    /// Every code of every kind, from `codes.toml`, `iis.toml` and `kerberos.toml`.
    pub codes: Vec<Code>,
    /// Every finding id, from `findings.toml`.
    pub findings: Vec<FindingInfo>,
    /// Known TLS-inspection issuers, from `inspection_cas.toml`, in match order (most specific
    /// first).
    pub inspection_cas: Vec<InspectionCa>,
    /// Known IIS `status substatus win32` triples, from `combos.toml`.
    pub combos: Vec<Combo>,
    /// Windows events, from `events.toml`.
    pub events: Vec<EventInfo>,
    /// Logon types, from `events.toml`.
    pub logon_types: Vec<LogonType>,
    /// `%%` message strings, from `events.toml`.
    pub messages: Vec<EventMessage>,
    /// Kerberos encryption types, from `events.toml`.
    pub etypes: Vec<Etype>,
    /// Microsoft first-party applications, from `apps.toml`.
    pub apps: Vec<App>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventsFile {
    event: Vec<EventInfo>,
    logon_type: Vec<LogonType>,
    message: Vec<EventMessage>,
    etype: Vec<Etype>,
}

#[derive(Deserialize)]
struct CodesFile {
    code: Vec<Code>,
}

#[derive(Deserialize)]
struct FindingsFile {
    finding: Vec<FindingInfo>,
}

#[derive(Deserialize)]
struct CasFile {
    ca: Vec<InspectionCa>,
}

#[derive(Deserialize)]
struct CombosFile {
    combo: Vec<Combo>,
}

/// The files that hold `[[code]]` tables, by name (for the panic message) and content.
const CODE_FILES: [(&str, &str); 4] = [
    ("data/codes.toml", include_str!("../data/codes.toml")),
    ("data/iis.toml", include_str!("../data/iis.toml")),
    ("data/kerberos.toml", include_str!("../data/kerberos.toml")),
    ("data/aadsts.toml", include_str!("../data/aadsts.toml")),
];

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    // The files are part of the build; a test (below) proves they parse, so a failure here
    // is a build defect, not bad user input.
    let codes: Vec<Code> = CODE_FILES
        .iter()
        .flat_map(|(name, text)| toml::from_str::<CodesFile>(text).expect(name).code)
        .collect();
    let findings: FindingsFile =
        toml::from_str(include_str!("../data/findings.toml")).expect("data/findings.toml");
    let cas: CasFile = toml::from_str(include_str!("../data/inspection_cas.toml"))
        .expect("data/inspection_cas.toml");
    let combos: CombosFile =
        toml::from_str(include_str!("../data/combos.toml")).expect("data/combos.toml");
    let events: EventsFile =
        toml::from_str(include_str!("../data/events.toml")).expect("data/events.toml");
    Catalogue {
        codes,
        findings: findings.finding,
        inspection_cas: cas.ca,
        combos: combos.combo,
        events: events.event,
        logon_types: events.logon_type,
        messages: events.message,
        etypes: events.etype,
        apps: toml::from_str::<AppsFile>(include_str!("../data/apps.toml"))
            .expect("data/apps.toml")
            .app,
    }
});

/// The compiled-in catalogue.
pub fn catalogue() -> &'static Catalogue {
    &CATALOGUE
}

impl Catalogue {
    /// The finding with `id`.
    pub fn finding(&self, id: &str) -> Option<&FindingInfo> {
        self.findings.iter().find(|f| f.id == id)
    }

    /// The code of `kind` written `code` (canonical form, case-insensitive).
    pub fn code(&self, kind: CodeKind, code: &str) -> Option<&Code> {
        self.codes
            .iter()
            .find(|c| c.kind == kind && c.code.eq_ignore_ascii_case(code))
    }

    /// A code of `kind` by numeric value.
    pub fn code_by_value(&self, kind: CodeKind, value: u64) -> Option<&Code> {
        self.codes
            .iter()
            .find(|c| c.kind == kind && c.value() == Some(value))
    }

    /// An IIS `sc-win32-status` value as logged (decimal): a Win32 error, or an HRESULT
    /// written as an unsigned decimal (e.g. 2148074254 = 0x8009030E).
    pub fn win32_status(&self, value: u64) -> Option<&Code> {
        self.code_by_value(CodeKind::Win32, value)
            .or_else(|| self.code_by_value(CodeKind::Hresult, value))
            .or_else(|| self.code_by_value(CodeKind::Ntstatus, value))
    }

    /// The IIS log combination `status substatus win32`, if it is a known one.
    pub fn combo(&self, status: u16, substatus: u32, win32: &str) -> Option<&Combo> {
        self.combos
            .iter()
            .find(|c| c.status == status && c.substatus == substatus && c.win32 == win32)
    }

    /// The Windows event `id` (Security events, and the System events of `events.toml`).
    pub fn event(&self, id: u32) -> Option<&EventInfo> {
        self.events.iter().find(|e| e.id == id)
    }

    /// A `LogonType` by number.
    pub fn logon_type(&self, number: u32) -> Option<&LogonType> {
        self.logon_types.iter().find(|t| t.number == number)
    }

    /// A `%%` message string (`%%2313`).
    pub fn message(&self, id: &str) -> Option<&EventMessage> {
        self.messages.iter().find(|m| m.id == id.trim())
    }

    /// The Microsoft application an `aud`, `appid` or `client_id` names.
    pub fn app(&self, aud: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.matches(aud))
    }

    /// A Kerberos encryption type by number.
    pub fn etype(&self, value: u32) -> Option<&Etype> {
        self.etypes.iter().find(|e| e.value == value)
    }

    /// The inspection CA whose pattern appears in `issuer`.
    pub fn inspection_ca(&self, issuer: &str) -> Option<&InspectionCa> {
        let issuer = issuer.to_ascii_lowercase();
        self.inspection_cas
            .iter()
            .find(|ca| issuer.contains(&ca.pattern.to_ascii_lowercase()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn data_files_parse_and_are_consistent() {
        let c = catalogue();
        assert!(c.codes.len() > 80, "{} codes", c.codes.len());
        // Every event's findings exist, every id once, every read System event has its source.
        let mut ids = HashSet::new();
        for e in &c.events {
            assert!(ids.insert(e.id), "event {} twice", e.id);
            assert!(
                e.log == "Security" || e.provider.is_some(),
                "event {}",
                e.id
            );
            for f in &e.findings {
                assert!(c.finding(f).is_some(), "event {} names {f}", e.id);
            }
        }
        assert_eq!(
            c.message("%%2313").map(|m| m.text.as_str()),
            Some("Unknown user name or bad password.")
        );
        assert_eq!(c.logon_type(3).map(|t| t.name.as_str()), Some("Network"));
        assert!(c.etype(23).is_some_and(|e| e.weak));
        // Microsoft's applications by id and by resource URI, one label of wildcard.
        let graph = c.app("00000003-0000-0000-C000-000000000000").unwrap();
        assert_eq!(graph.name, "Microsoft Graph");
        assert_eq!(c.app("https://graph.microsoft.com/").unwrap().id, graph.id);
        assert!(c.app("https://contoso.sharepoint.com").is_some());
        assert!(
            c.app("https://a.b.sharepoint.com")
                .is_none_or(|a| a.name != "SharePoint Online")
        );
        let aadsts = c
            .codes
            .iter()
            .filter(|x| x.kind == CodeKind::Aadsts)
            .count();
        assert!(aadsts >= 150, "{aadsts} AADSTS codes");
        let mut seen = HashSet::new();
        for code in &c.codes {
            assert!(seen.insert(code.key()), "duplicate code {}", code.key());
            assert!(
                !code.title.is_empty() && !code.meaning.is_empty(),
                "{}",
                code.key()
            );
            if matches!(
                code.kind,
                CodeKind::Hresult
                    | CodeKind::Ntstatus
                    | CodeKind::Win32
                    | CodeKind::Kerberos
                    | CodeKind::Http
            ) {
                assert!(
                    code.value().is_some(),
                    "{} has no numeric value",
                    code.key()
                );
            }
            if let Some(d) = &code.decimal {
                assert_eq!(
                    d.parse::<u64>().ok(),
                    code.value(),
                    "{} decimal",
                    code.key()
                );
            }
            for f in &code.findings {
                assert!(
                    c.finding(f).is_some(),
                    "{} refers to unknown finding {f}",
                    code.key()
                );
            }
        }
        // An alias is another spelling of one code: never a name of its own elsewhere.
        for code in &c.codes {
            for a in &code.aliases {
                let owners = c
                    .codes
                    .iter()
                    .filter(|o| o.name.eq_ignore_ascii_case(a) || o.aliases.contains(a))
                    .count();
                assert_eq!(owners, 1, "alias {a} of {} is not unique", code.key());
            }
        }
        let keys: HashSet<String> = c.codes.iter().map(Code::key).collect();
        let mut ids = HashSet::new();
        for f in &c.findings {
            assert!(ids.insert(f.id.clone()), "duplicate finding {}", f.id);
            assert!(
                f.id.bytes().all(|b| b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || b == b'-'
                    || b == b'.'
                    || b == b'x'),
                "{}",
                f.id
            );
            assert!(!f.fixes.is_empty(), "{} has no fixes", f.id);
            for k in &f.codes {
                assert!(keys.contains(k), "{} refers to unknown code {k}", f.id);
            }
            for other in &f.see_also {
                let o = c
                    .finding(other)
                    .unwrap_or_else(|| panic!("{} sees also unknown {other}", f.id));
                assert!(
                    o.see_also.contains(&f.id),
                    "{} sees also {other}, which does not see it back",
                    f.id
                );
            }
        }
        for combo in &c.combos {
            for f in &combo.findings {
                assert!(
                    c.finding(f).is_some(),
                    "combo refers to unknown finding {f}"
                );
            }
        }
    }

    #[test]
    fn the_brief_minimum_is_present() {
        let c = catalogue();
        for id in [
            "no-credentials-sent",
            "credentials-rejected",
            "scheme-mismatch",
            "malformed-credentials",
            "token-expired",
            "token-not-yet-valid",
            "clock-skew",
            "token-audience-mismatch",
            "token-issuer-mismatch",
            "insufficient-scope",
            "server-rejected-token",
            "auth-dropped-on-redirect",
            "redirected-to-login",
            "cookie-not-sent",
            "url-variant",
            "proxy-auth-required",
            "tls-interception",
            "kerberos-fallback-to-ntlm",
            "ntlm-connection-reset",
            "missing-www-authenticate",
            "should-be-403",
            "basic-over-http",
            "iis-401.1-logon-failed",
            "iis-401.2-config",
            "iis-401.3-acl",
            "iis-401.4-filter",
            "iis-401.5-app",
            "iis-401.7-url-authorization",
            "iis-401.50x-ip-restriction",
            "brute-force",
            "password-spray",
            "credential-stuffing",
            "handshake-noise",
            "stuck-client",
            "auth-regression",
            "account-lockout",
            "no-auth-method-enabled",
            "anonymous-identity-password",
            "negotiate-provider-order",
            "app-pool-credentials-mismatch",
            "weak-password-hash",
            "missing-htpasswd-file",
            "auth-request-redirect",
        ] {
            assert!(c.finding(id).is_some(), "missing finding {id}");
        }
        for (kind, code) in [
            (CodeKind::IisSubstatus, "401.1"),
            (CodeKind::IisSubstatus, "401.2"),
            (CodeKind::IisSubstatus, "401.3"),
            (CodeKind::IisSubstatus, "401.4"),
            (CodeKind::IisSubstatus, "401.5"),
            (CodeKind::IisSubstatus, "401.7"),
            (CodeKind::IisSubstatus, "401.501"),
            (CodeKind::IisSubstatus, "401.502"),
            (CodeKind::IisSubstatus, "401.503"),
            (CodeKind::IisSubstatus, "401.504"),
            (CodeKind::Http, "401"),
            (CodeKind::Http, "403"),
            (CodeKind::Http, "407"),
            (CodeKind::Http, "511"),
        ] {
            assert!(c.code(kind, code).is_some(), "missing {code}");
        }
        for v in [
            0u64, 5, 64, 121, 1311, 1326, 1327, 1328, 1329, 1330, 1331, 1385, 1793, 1907, 1909,
        ] {
            assert!(
                c.code_by_value(CodeKind::Win32, v).is_some(),
                "missing win32 {v}"
            );
        }
        for v in [
            0x80090302u64,
            0x80090305,
            0x80090308,
            0x8009030C,
            0x8009030E,
            0x80090311,
            0x80090322,
            0x80090324,
            0x80090346,
        ] {
            assert!(
                c.code_by_value(CodeKind::Hresult, v).is_some(),
                "missing hresult {v:#x}"
            );
        }
        for v in [
            0xC000005Eu64,
            0xC0000064,
            0xC000006A,
            0xC000006D,
            0xC000006E,
            0xC000006F,
            0xC0000070,
            0xC0000071,
            0xC0000072,
            0xC0000193,
            0xC0000224,
            0xC0000234,
            0xC0000413,
        ] {
            assert!(
                c.code_by_value(CodeKind::Ntstatus, v).is_some(),
                "missing ntstatus {v:#x}"
            );
        }
        for l in [
            "525", "52e", "530", "531", "532", "533", "701", "773", "775",
        ] {
            assert!(c.code(CodeKind::Ldap, l).is_some(), "missing ldap {l}");
        }
        assert_eq!(
            c.win32_status(2148074254).map(|c| c.name.as_str()),
            Some("SEC_E_NO_CREDENTIALS")
        );
        assert_eq!(
            c.code_by_value(CodeKind::Kerberos, 37)
                .map(|c| c.name.as_str()),
            Some("KRB_AP_ERR_SKEW")
        );
        assert!(c.combo(401, 2, "5").is_some_and(|c| c.normal));
    }

    /// RFC 4120 §7.5.9's table, number and name, as the RFC prints it.
    const RFC_4120: &[(u64, &str)] = &[
        (0, "KDC_ERR_NONE"),
        (1, "KDC_ERR_NAME_EXP"),
        (2, "KDC_ERR_SERVICE_EXP"),
        (3, "KDC_ERR_BAD_PVNO"),
        (4, "KDC_ERR_C_OLD_MAST_KVNO"),
        (5, "KDC_ERR_S_OLD_MAST_KVNO"),
        (6, "KDC_ERR_C_PRINCIPAL_UNKNOWN"),
        (7, "KDC_ERR_S_PRINCIPAL_UNKNOWN"),
        (8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE"),
        (9, "KDC_ERR_NULL_KEY"),
        (10, "KDC_ERR_CANNOT_POSTDATE"),
        (11, "KDC_ERR_NEVER_VALID"),
        (12, "KDC_ERR_POLICY"),
        (13, "KDC_ERR_BADOPTION"),
        (14, "KDC_ERR_ETYPE_NOSUPP"),
        (15, "KDC_ERR_SUMTYPE_NOSUPP"),
        (16, "KDC_ERR_PADATA_TYPE_NOSUPP"),
        (17, "KDC_ERR_TRTYPE_NOSUPP"),
        (18, "KDC_ERR_CLIENT_REVOKED"),
        (19, "KDC_ERR_SERVICE_REVOKED"),
        (20, "KDC_ERR_TGT_REVOKED"),
        (21, "KDC_ERR_CLIENT_NOTYET"),
        (22, "KDC_ERR_SERVICE_NOTYET"),
        (23, "KDC_ERR_KEY_EXPIRED"),
        (24, "KDC_ERR_PREAUTH_FAILED"),
        (25, "KDC_ERR_PREAUTH_REQUIRED"),
        (26, "KDC_ERR_SERVER_NOMATCH"),
        (27, "KDC_ERR_MUST_USE_USER2USER"),
        (28, "KDC_ERR_PATH_NOT_ACCEPTED"),
        (29, "KDC_ERR_SVC_UNAVAILABLE"),
        (31, "KRB_AP_ERR_BAD_INTEGRITY"),
        (32, "KRB_AP_ERR_TKT_EXPIRED"),
        (33, "KRB_AP_ERR_TKT_NYV"),
        (34, "KRB_AP_ERR_REPEAT"),
        (35, "KRB_AP_ERR_NOT_US"),
        (36, "KRB_AP_ERR_BADMATCH"),
        (37, "KRB_AP_ERR_SKEW"),
        (38, "KRB_AP_ERR_BADADDR"),
        (39, "KRB_AP_ERR_BADVERSION"),
        (40, "KRB_AP_ERR_MSG_TYPE"),
        (41, "KRB_AP_ERR_MODIFIED"),
        (42, "KRB_AP_ERR_BADORDER"),
        (44, "KRB_AP_ERR_BADKEYVER"),
        (45, "KRB_AP_ERR_NOKEY"),
        (46, "KRB_AP_ERR_MUT_FAIL"),
        (47, "KRB_AP_ERR_BADDIRECTION"),
        (48, "KRB_AP_ERR_METHOD"),
        (49, "KRB_AP_ERR_BADSEQ"),
        (50, "KRB_AP_ERR_INAPP_CKSUM"),
        (51, "KRB_AP_PATH_NOT_ACCEPTED"),
        (52, "KRB_ERR_RESPONSE_TOO_BIG"),
        (60, "KRB_ERR_GENERIC"),
        (61, "KRB_ERR_FIELD_TOOLONG"),
        (62, "KDC_ERROR_CLIENT_NOT_TRUSTED"),
        (63, "KDC_ERROR_KDC_NOT_TRUSTED"),
        (64, "KDC_ERROR_INVALID_SIG"),
        (65, "KDC_ERR_KEY_TOO_WEAK"),
        (66, "KDC_ERR_CERTIFICATE_MISMATCH"),
        (67, "KRB_AP_ERR_NO_TGT"),
        (68, "KDC_ERR_WRONG_REALM"),
        (69, "KRB_AP_ERR_USER_TO_USER_REQUIRED"),
        (70, "KDC_ERR_CANT_VERIFY_CERTIFICATE"),
        (71, "KDC_ERR_INVALID_CERTIFICATE"),
        (72, "KDC_ERR_REVOKED_CERTIFICATE"),
        (73, "KDC_ERR_REVOCATION_STATUS_UNKNOWN"),
        (74, "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE"),
        (75, "KDC_ERR_CLIENT_NAME_MISMATCH"),
        (76, "KDC_ERR_KDC_NAME_MISMATCH"),
    ];

    /// Numbers defined after RFC 4120: PKINIT (RFC 4556, 8636), FAST (RFC 6113), and MIT
    /// krb5's 43.
    const LATER: &[u64] = &[43, 77, 78, 79, 80, 81, 82, 90, 91, 92, 93];

    #[test]
    fn every_kerberos_error_the_rfc_defines_is_named() {
        let c = catalogue();
        for n in 0..=100u64 {
            let entry = c.code_by_value(CodeKind::Kerberos, n);
            match RFC_4120.iter().find(|(v, _)| *v == n) {
                Some((_, name)) => {
                    let e = entry.unwrap_or_else(|| panic!("Kerberos {n} ({name}) missing"));
                    assert_eq!(&e.name, name, "Kerberos {n}");
                    assert!(!e.causes.is_empty() && !e.fixes.is_empty(), "Kerberos {n}");
                }
                None if LATER.contains(&n) => {
                    assert!(entry.is_some(), "Kerberos {n} missing");
                }
                None => assert!(entry.is_none(), "Kerberos {n} is not a defined error"),
            }
        }
    }

    #[test]
    fn the_4625_and_4776_statuses_microsoft_lists_are_explained() {
        let c = catalogue();
        // Event 4625's Status / Sub Status table, 4776's Error Code table, and the codes an
        // admin meets next to them.
        for v in [
            0x0u64, 0xC000005E, 0xC0000064, 0xC000006A, 0xC000006D, 0xC000006E, 0xC000006F,
            0xC0000070, 0xC0000071, 0xC0000072, 0xC00000DC, 0xC0000133, 0xC000015B, 0xC000018C,
            0xC000018D, 0xC0000192, 0xC0000193, 0xC0000199, 0xC0000224, 0xC0000225, 0xC0000234,
            0xC00002EE, 0xC0000371, 0xC0000413,
        ] {
            let e = c
                .code_by_value(CodeKind::Ntstatus, v)
                .unwrap_or_else(|| panic!("missing ntstatus {v:#x}"));
            assert!(
                !e.meaning.is_empty() && !e.causes.is_empty() && !e.fixes.is_empty(),
                "ntstatus {v:#x} needs meaning, causes and fixes"
            );
        }
    }

    #[test]
    fn the_iis_statuses_beside_a_401() {
        let c = catalogue();
        let mut subs: Vec<String> = (1..=22).map(|n| format!("403.{n}")).collect();
        subs.extend((501..=504).map(|n| format!("403.{n}")));
        subs.extend(
            [
                "401.1", "401.2", "401.3", "401.4", "401.5", "401.7", "500.19",
            ]
            .map(String::from),
        );
        for s in &subs {
            let e = c
                .code(CodeKind::IisSubstatus, s)
                .unwrap_or_else(|| panic!("missing IIS {s}"));
            assert!(!e.causes.is_empty() && !e.fixes.is_empty(), "IIS {s}");
        }
        // IIS documents no 401.6.
        assert!(c.code(CodeKind::IisSubstatus, "401.6").is_none());
        for (hex, decimal) in [(0x80070021u64, 2147942433u64), (0x8007000D, 2147942413)] {
            let e = c
                .code_by_value(CodeKind::Hresult, hex)
                .expect("500.19 HRESULT");
            assert_eq!(c.win32_status(decimal), Some(e));
        }
    }

    #[test]
    fn inspection_cas_match_issuers() {
        let c = catalogue();
        assert!(
            c.inspection_ca("CN=Zscaler Root CA, OU=Zscaler Inc.")
                .is_some()
        );
        assert!(
            c.inspection_ca("CN=ISRG Root X1, O=Internet Security Research Group")
                .is_none()
        );
    }
}
