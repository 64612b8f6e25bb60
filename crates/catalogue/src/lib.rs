//! What the codes and findings of HTTP authentication mean, kept as data.
//!
//! What it is for: the knowledge why401 explains with — HTTP statuses, IIS substatus codes,
//! Win32 errors, HRESULTs (SEC_E_*), NTSTATUS, LDAP "data" codes, Kerberos errors, the known
//! TLS-inspection CAs, and every finding id with its title, explanation and fixes. It lives in
//! TOML files under `data/`, compiled in with `include_str!` and read once.
//!
//! What it is not: no parsing of wire formats (`why401-wire`), no rules deciding which finding
//! applies (`why401-doctor`), no output formatting (`why401-render`).

use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

mod lookup;

pub use lookup::{LogTriple, Lookup, LookupError, Match, lookup};

/// The family a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum CodeKind {
    Http,
    IisSubstatus,
    Win32,
    Hresult,
    Ntstatus,
    Ldap,
    Kerberos,
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
        }
    }
}

/// One code and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Code {
    pub kind: CodeKind,
    /// Canonical form: `401.1`, `1326`, `0x8009030E`, `0xC000006D`, `52e`, `37`.
    pub code: String,
    /// Symbolic name: `ERROR_LOGON_FAILURE`, `KRB_AP_ERR_SKEW`.
    pub name: String,
    pub title: String,
    pub meaning: String,
    #[serde(default)]
    pub causes: Vec<String>,
    #[serde(default)]
    pub fixes: Vec<String>,
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
    /// The numeric value, where the code is a number (not for IIS substatus or LDAP).
    pub fn value(&self) -> Option<u64> {
        match self.kind {
            CodeKind::Http | CodeKind::Win32 | CodeKind::Kerberos => self.code.parse().ok(),
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
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

/// Where a finding is seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Request,
    Token,
    Server,
    Logs,
    Config,
    Reach,
}

/// A finding id and everything the catalogue says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingInfo {
    pub id: String,
    pub group: Group,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    #[serde(default)]
    pub fixes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub good: Option<String>,
    #[serde(default)]
    pub references: Vec<String>,
    /// Related codes as `kind:code`.
    #[serde(default)]
    pub codes: Vec<String>,
}

/// A certificate issuer that marks TLS interception.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspectionCa {
    pub vendor: String,
    pub product: String,
    /// Case-insensitive substring of the issuer that identifies it.
    #[serde(rename = "match")]
    pub pattern: String,
    #[serde(default)]
    pub note: String,
}

/// A known combination of status, substatus and win32 status as IIS logs them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combo {
    pub status: u16,
    pub substatus: u32,
    /// As logged: decimal.
    pub win32: String,
    pub normal: bool,
    pub title: String,
    pub meaning: String,
    #[serde(default)]
    pub findings: Vec<String>,
}

/// Everything the catalogue knows.
#[derive(Debug)]
pub struct Catalogue {
    pub codes: Vec<Code>,
    pub findings: Vec<FindingInfo>,
    pub inspection_cas: Vec<InspectionCa>,
    pub combos: Vec<Combo>,
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

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| {
    // The files are part of the build; a test (below) proves they parse, so a failure here
    // is a build defect, not bad user input.
    let codes: CodesFile =
        toml::from_str(include_str!("../data/codes.toml")).expect("data/codes.toml");
    let findings: FindingsFile =
        toml::from_str(include_str!("../data/findings.toml")).expect("data/findings.toml");
    let cas: CasFile = toml::from_str(include_str!("../data/inspection_cas.toml"))
        .expect("data/inspection_cas.toml");
    let combos: CombosFile =
        toml::from_str(include_str!("../data/combos.toml")).expect("data/combos.toml");
    Catalogue {
        codes: codes.code,
        findings: findings.finding,
        inspection_cas: cas.ca,
        combos: combos.combo,
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
