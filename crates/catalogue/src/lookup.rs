//! Resolving what a user typed — `401.2`, `401 1 2148074254`, `0xC000006D`, `52e`,
//! `KRB_AP_ERR_SKEW`, `Failure Code: 0x18`, `-1765328360`, `credentials-rejected`, a pasted LDAP
//! error — to catalogue entries.

use serde::Serialize;

use crate::{
    Catalogue, Code, CodeKind, EventInfo, EventMessage, FindingInfo, LogTriple, LogonType,
    catalogue,
};

/// One catalogue entry a query resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Match<'a> {
    /// A code of any kind: HTTP, IIS substatus, Win32, HRESULT, NTSTATUS, LDAP or Kerberos.
    Code(&'a Code),
    /// A finding id.
    Finding(&'a FindingInfo),
    /// A Windows event id (`4625`, `event 4740`).
    Event(&'a EventInfo),
    /// A `%%` message string of an event (`%%2313`).
    Message(&'a EventMessage),
    /// A LogonType of 4624/4625 (`logon type 3`).
    LogonType(&'a LogonType),
}

impl Match<'_> {
    /// How to ask for exactly this entry: `win32:5`, `credentials-rejected`.
    pub fn query(&self) -> String {
        match self {
            Match::Code(c) => c.key(),
            Match::Finding(f) => f.id.clone(),
            Match::Event(e) => format!("event:{}", e.id),
            Match::Message(m) => m.id.clone(),
            Match::LogonType(t) => format!("logon-type:{}", t.number),
        }
    }

    /// The one-line title.
    pub fn title(&self) -> &str {
        match self {
            Match::Code(c) => &c.title,
            Match::Finding(f) => &f.title,
            Match::Event(e) => &e.title,
            Match::Message(m) => &m.text,
            Match::LogonType(t) => &t.name,
        }
    }
}

/// What a query resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "resolved", rename_all = "kebab-case")]
pub enum Lookup<'a> {
    /// Exactly one entry.
    One {
        /// The entry the query names.
        entry: Match<'a>,
    },
    /// An IIS log's `status substatus [win32]`, e.g. `401 1 2148074254`.
    LogTriple {
        /// Each part resolved, and what the three mean together.
        triple: LogTriple<'a>,
    },
    /// Several entries the query could name, e.g. a number that is a code of more than one kind.
    Ambiguous {
        /// Every entry the query could name, in the order they matched (finding ids first).
        candidates: Vec<Match<'a>>,
    },
}

/// Why a query resolved to nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// Nothing left to look up once whitespace, quotes and `HTTP `/`Error ` prefixes are removed.
    #[error("nothing to explain")]
    Empty,
    /// No entry matches.
    #[error("`{input}` is not a code or finding id why401 knows")]
    Unknown {
        /// The query as typed, trimmed.
        input: String,
        /// Up to five near spellings (finding ids, code names, codes), closest first by Jaro–Winkler
        /// similarity.
        suggestions: Vec<String>,
    },
}

/// Resolves a query against the compiled-in catalogue.
pub fn lookup(input: &str) -> Result<Lookup<'static>, LookupError> {
    lookup_in(catalogue(), input)
}

fn lookup_in<'a>(cat: &'a Catalogue, input: &str) -> Result<Lookup<'a>, LookupError> {
    let trimmed = input.trim();
    let (only, value) = match event_field(trimmed) {
        Some((kind, value)) => (kind, value),
        None => (None, trimmed),
    };
    let q = normalise(value);
    if q.is_empty() {
        return Err(LookupError::Empty);
    }
    if only.is_none()
        && let Some(t) = triple(cat, &q)
    {
        return Ok(Lookup::LogTriple { triple: t });
    }
    let mut found = candidates(cat, &q);
    if let Some(kind) = only {
        found.retain(|m| matches!(m, Match::Code(c) if c.kind == kind));
    }
    match found.len() {
        0 => Err(LookupError::Unknown {
            input: trimmed.to_string(),
            suggestions: suggest(cat, &q, only),
        }),
        1 => Ok(Lookup::One { entry: found[0] }),
        _ => Ok(Lookup::Ambiguous { candidates: found }),
    }
}

/// Fields of Windows security events whose value is a code, and the kind the value always is
/// (`None`: the field is pasted with its label, but its value may be of more than one kind).
const EVENT_FIELDS: &[(&str, Option<CodeKind>)] = &[
    // 4769 and 4771 print `Failure Code: 0x18`, 4768 `Result Code: 0x18`: RFC 4120 codes in hex.
    ("failure code", Some(CodeKind::Kerberos)),
    ("result code", Some(CodeKind::Kerberos)),
    // 4625's Sub Status is always an NTSTATUS.
    ("sub status", Some(CodeKind::Ntstatus)),
    // 4625's Status is an NTSTATUS, but 4771's XML names its Kerberos code Status too.
    ("status", None),
    // 4776's Error Code is an NTSTATUS; the IIS error page's is an HRESULT.
    ("error code", None),
    // The IIS 500.19 page: `HRESULT: 0x80070021`.
    ("hresult", Some(CodeKind::Hresult)),
];

/// `Failure Code: 0x18` as copied from an event (often with tabs after the colon): the kind its
/// label implies, and the value.
fn event_field(s: &str) -> Option<(Option<CodeKind>, &str)> {
    let (label, value) = s.split_once(':')?;
    let label = label.split_whitespace().collect::<Vec<_>>().join(" ");
    let value = value.trim();
    let (_, kind) = EVENT_FIELDS
        .iter()
        .find(|(l, _)| l.eq_ignore_ascii_case(&label))?;
    (!value.is_empty()).then_some((*kind, value))
}

/// Strips what people paste around a code: `HTTP `, `Error `, `(0x…)` punctuation, quotes.
fn normalise(input: &str) -> String {
    let mut s = input
        .trim()
        .trim_matches(['"', '\'', '`', '(', ')', '.', ','])
        .to_string();
    for prefix in ["http error ", "http ", "error ", "status ", "code "] {
        if s.len() > prefix.len()
            && s.get(..prefix.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
        {
            s = s[prefix.len()..].trim().to_string();
        }
    }
    s
}

/// `401 2 5`, `401 1 2148074254`, `401 2`: parts of an IIS log line.
fn triple<'a>(cat: &'a Catalogue, q: &str) -> Option<LogTriple<'a>> {
    let parts: Vec<&str> = q.split_whitespace().collect();
    if !(2..=3).contains(&parts.len())
        || !parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let status: u16 = parts[0].parse().ok().filter(|s| (100..600).contains(s))?;
    let substatus: u32 = parts[1].parse().ok()?;
    let win32 = match parts.get(2) {
        Some(w) => Some(w.parse::<u64>().ok()?),
        None => None,
    };
    Some(cat.log_triple(status, substatus, win32))
}

/// Every entry the query can name: a finding id, `kind:code`, a symbolic name, an IIS
/// substatus, an LDAP data code, a number.
fn candidates<'a>(cat: &'a Catalogue, q: &str) -> Vec<Match<'a>> {
    let mut found: Vec<Match<'a>> = Vec::new();
    let mut add = |m: Match<'a>| {
        if !found.contains(&m) {
            found.push(m);
        }
    };
    let lower = q.to_ascii_lowercase();
    if let Some(f) = cat.finding(&lower) {
        add(Match::Finding(f));
    }
    // `kind:code`, the exact form `--list` prints.
    if let Some((kind, code)) = lower.split_once(':') {
        for c in cat
            .codes
            .iter()
            .filter(|c| c.key().eq_ignore_ascii_case(&format!("{kind}:{code}")))
        {
            add(Match::Code(c));
        }
    }
    for c in named(cat, q) {
        add(Match::Code(c));
    }
    if let Some(c) = cat.code(CodeKind::IisSubstatus, &lower) {
        add(Match::Code(c));
    }
    if let Some(data) = ldap_data(&lower)
        && let Some(c) = cat.code(CodeKind::Ldap, data)
    {
        add(Match::Code(c));
    }
    for c in numeric(cat, &lower) {
        add(Match::Code(c));
    }
    for m in windows(cat, &lower) {
        add(m);
    }
    // `AADSTS50076`, or an error_description pasted whole ("AADSTS700082: The refresh token
    // has expired…"): the first code named.
    if let Some(code) = first_aadsts(q)
        && let Some(c) = cat.code_by_value(CodeKind::Aadsts, u64::from(code))
    {
        add(Match::Code(c));
    }
    found
}

/// The first `AADSTSnnnnn` of a text (the catalogue does not depend on the wire parsers).
fn first_aadsts(q: &str) -> Option<u32> {
    let i = q.to_ascii_uppercase().find("AADSTS")?;
    let digits: String = q[i + 6..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Windows event ids (`4625`, `event 4625`, `event id 4625`, `event:4625`, `EventID 4625`), `%%`
/// message strings, and logon types (`logon type 3`, `Logon Type: 3`, `logon-type:3`).
fn windows<'a>(cat: &'a Catalogue, q: &str) -> Vec<Match<'a>> {
    let mut out = Vec::new();
    // `%%2313`, or pasted with its label (`FailureReason: %%2313`).
    if let Some(i) = q.find("%%") {
        if let Some(m) = cat.message(q[i..].split_whitespace().next().unwrap_or("")) {
            out.push(Match::Message(m));
        }
        return out;
    }
    let words = q.replace([':', '-'], " ");
    let words: Vec<&str> = words.split_whitespace().collect();
    match words.as_slice() {
        ["logon", "type", n] | ["logontype", n] => {
            if let Some(t) = n.parse().ok().and_then(|n| cat.logon_type(n)) {
                out.push(Match::LogonType(t));
            }
        }
        ["event", "id", n] | ["event", n] | ["eventid", n] => {
            if let Some(e) = n.parse().ok().and_then(|n| cat.event(n)) {
                out.push(Match::Event(e));
            }
        }
        // A bare number names an event only when it is a Security event id (4624…4776): low
        // numbers are too common (HTTP statuses, Win32 errors, Kerberos codes) to guess.
        [n] => {
            if let Some(e) = n
                .parse::<u32>()
                .ok()
                .filter(|n| *n >= 4096)
                .and_then(|n| cat.event(n))
            {
                out.push(Match::Event(e));
            }
        }
        _ => {}
    }
    out
}

/// Codes whose name or alias is `q`; MIT krb5's `KRB5` prefix (`KRB5KDC_ERR_PREAUTH_FAILED`,
/// `KRB5KRB_AP_ERR_SKEW`) names the same Kerberos error.
fn named<'a>(cat: &'a Catalogue, q: &str) -> Vec<&'a Code> {
    let mit = q
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("krb5"))
        .and_then(|_| q.get(4..));
    cat.codes
        .iter()
        .filter(|c| {
            std::iter::once(&c.name).chain(&c.aliases).any(|n| {
                n.eq_ignore_ascii_case(q)
                    || (c.kind == CodeKind::Kerberos
                        && mit.is_some_and(|m| n.eq_ignore_ascii_case(m)))
            })
        })
        .collect()
}

/// The `data 52e` of an AD LDAP bind error (`80090308: LdapErr: …, data 52e, v4563`).
fn ldap_data(q: &str) -> Option<&str> {
    if let Some(i) = q.find("data ") {
        let rest = &q[i + 5..];
        let end = rest
            .find(|c: char| !c.is_ascii_hexdigit())
            .unwrap_or(rest.len());
        return (end > 0).then(|| &rest[..end]);
    }
    (q.len() == 3 && q.bytes().all(|b| b.is_ascii_hexdigit())).then_some(q)
}

/// How a number was written, which decides the kinds it can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Written {
    Decimal,
    /// `0x…`, bare 8-digit hex, or a negative 32-bit value (.NET's HRESULTs).
    Hex,
    /// An MIT krb5 com_err code; the value is the Kerberos error number.
    ComErr,
}

/// MIT krb5's error table base: its com_err codes are this plus the RFC 4120 error number, and
/// the first 128 of the table are the protocol's error codes (`krb5_err.et`).
const KRB5_TABLE_BASE: i64 = -1_765_328_384;

/// Every number the query can be read as.
fn readings(q: &str) -> Vec<(u64, Written)> {
    let q = q.trim_end_matches(['l', 'u']);
    let mut out: Vec<(u64, Written)> = Vec::new();
    if let Some(h) = q.strip_prefix("0x") {
        out.extend(u64::from_str_radix(h, 16).ok().map(|v| (v, Written::Hex)));
    } else if q.bytes().all(|b| b.is_ascii_digit()) && !q.is_empty() {
        out.extend(q.parse().ok().map(|v| (v, Written::Decimal)));
        // IIS logs unsigned decimals; eight digits may also be hex without its 0x.
        if q.len() == 8 {
            out.extend(u64::from_str_radix(q, 16).ok().map(|x| (x, Written::Hex)));
        }
    } else if q.len() == 8 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
        out.extend(u64::from_str_radix(q, 16).ok().map(|v| (v, Written::Hex)));
    } else if let Some(n) = q
        .strip_prefix('-')
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(|n| i32::try_from(-n).ok())
    {
        // -2146893044 is how .NET and PowerShell print 0x8009030C.
        out.push((u64::from(n as u32), Written::Hex));
    }
    // The same 32 bits may be an MIT krb5 com_err code (-1765328360, printed signed).
    let com_err: Vec<(u64, Written)> = out
        .iter()
        .filter_map(|&(v, _)| {
            let signed = i64::from(u32::try_from(v).ok()? as i32);
            let n = signed - KRB5_TABLE_BASE;
            (0..128).contains(&n).then_some((n as u64, Written::ComErr))
        })
        .collect();
    out.extend(com_err);
    out
}

/// Every code whose number the query can be read as: decimal, `0x` hex, bare 8-digit hex, a
/// negative HRESULT, an MIT com_err code.
fn numeric<'a>(cat: &'a Catalogue, q: &str) -> Vec<&'a Code> {
    let mut out = Vec::new();
    for (v, written) in readings(q) {
        for c in &cat.codes {
            let same = c.value() == Some(v);
            let hit = match c.kind {
                CodeKind::Hresult | CodeKind::Ntstatus => same && written != Written::ComErr,
                // A hex Win32 error is a small number (0x5); a large hex one is an HRESULT.
                CodeKind::Win32 => {
                    same && match written {
                        Written::Decimal => true,
                        Written::Hex => v < 0x1_0000,
                        Written::ComErr => false,
                    }
                }
                CodeKind::Http => same && written == Written::Decimal,
                // Windows events print Kerberos codes in hex (0x18), RFCs in decimal (24).
                CodeKind::Kerberos => same,
                // `50076` alone: Entra's codes are five to seven digits, no other kind's are.
                CodeKind::Aadsts => same && written == Written::Decimal && v >= 10_000,
                CodeKind::IisSubstatus | CodeKind::Ldap => false,
            };
            if hit && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The closest ids, names and codes to a query that matched nothing; only codes of `only` when
/// the query's label named a kind.
fn suggest(cat: &Catalogue, q: &str, only: Option<CodeKind>) -> Vec<String> {
    let q = q.to_ascii_lowercase();
    let codes = || {
        cat.codes
            .iter()
            .filter(move |c| only.is_none_or(|k| c.kind == k))
    };
    let findings = cat.findings.iter().filter(|_| only.is_none());
    let mut scored: Vec<(f64, String)> = findings
        .map(|f| f.id.clone())
        .chain(codes().map(|c| c.name.clone()))
        .chain(codes().flat_map(|c| c.aliases.iter().cloned()))
        .chain(codes().map(|c| c.code.clone()))
        .map(|cand| (strsim::jaro_winkler(&q, &cand.to_ascii_lowercase()), cand))
        .filter(|(s, _)| *s > 0.75)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(5).map(|(_, s)| s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(q: &str) -> String {
        match lookup(q).unwrap() {
            Lookup::One { entry } => entry.query(),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn windows_events_messages_and_logon_types() {
        let one = |q: &str| match lookup(q) {
            Ok(Lookup::One { entry }) => entry.query(),
            other => panic!("{q}: {other:?}"),
        };
        assert_eq!(one("4625"), "event:4625");
        assert_eq!(one("Event ID 4740"), "event:4740");
        assert_eq!(one("event 11"), "event:11");
        assert_eq!(one("%%2313"), "%%2313");
        assert_eq!(one("FailureReason:\t%%2307"), "%%2307");
        assert_eq!(one("Logon Type: 8"), "logon-type:8");
        // A bare low number is still a code, not an event.
        assert_eq!(one("401"), "http:401");
    }

    #[test]
    fn every_form_a_user_meets() {
        assert_eq!(one("401.2"), "iis-substatus:401.2");
        assert_eq!(one("401.501"), "iis-substatus:401.501");
        assert_eq!(one("2148074254"), "hresult:0x8009030E");
        assert_eq!(one("0x8009030e"), "hresult:0x8009030E");
        assert_eq!(one("0xC000006D"), "ntstatus:0xC000006D");
        assert_eq!(one("c000006d"), "ntstatus:0xC000006D");
        assert_eq!(one("52e"), "ldap:52e");
        assert_eq!(one("1909"), "win32:1909");
        assert_eq!(one("KRB_AP_ERR_SKEW"), "kerberos:37");
        assert_eq!(one("krb_ap_err_skew"), "kerberos:37");
        assert_eq!(one("credentials-rejected"), "credentials-rejected");
        assert_eq!(one("HTTP 407"), "http:407");
        assert_eq!(one("-2146893044"), "hresult:0x8009030C");
        assert_eq!(
            one(
                "80090308: LdapErr: DSID-0C09042F, comment: AcceptSecurityContext error, data 775, v4563"
            ),
            "ldap:775"
        );
        assert_eq!(one("win32:5"), "win32:5");
    }

    #[test]
    fn log_triples() {
        let Lookup::LogTriple { triple } = lookup("401 2 5").unwrap() else {
            panic!()
        };
        assert_eq!(triple.substatus_code.unwrap().code, "401.2");
        assert_eq!(triple.win32_code.unwrap().name, "ERROR_ACCESS_DENIED");
        assert!(triple.combo.unwrap().normal);
        let Lookup::LogTriple { triple } = lookup("401 1 2148074254").unwrap() else {
            panic!()
        };
        assert_eq!(triple.win32_code.unwrap().name, "SEC_E_NO_CREDENTIALS");
        assert_eq!(triple.substatus_code.unwrap().code, "401.1");
        let Lookup::LogTriple { triple } = lookup("401 1 1326").unwrap() else {
            panic!()
        };
        assert!(!triple.combo.unwrap().normal);
        let Lookup::LogTriple { triple } = lookup("401 2").unwrap() else {
            panic!()
        };
        assert_eq!(triple.win32, None);
        assert_eq!(triple.meaning, triple.substatus_code.unwrap().title);
        let Lookup::LogTriple { triple } = lookup("401 1 0001326").unwrap() else {
            panic!()
        };
        assert_eq!(triple.win32.as_deref(), Some("1326"));
    }

    #[test]
    fn a_triple_means_what_the_logs_table_says() {
        let cat = catalogue();
        for combo in &cat.combos {
            let q = format!("{} {} {}", combo.status, combo.substatus, combo.win32);
            let Lookup::LogTriple { triple } = lookup(&q).unwrap() else {
                panic!("{q}")
            };
            let w: u64 = combo.win32.parse().unwrap();
            assert_eq!(
                triple.meaning,
                cat.triple_meaning(combo.status, combo.substatus, w),
                "{q}"
            );
            assert_eq!(triple.combo, Some(combo));
        }
    }

    fn keys(q: &str) -> Vec<String> {
        match lookup(q) {
            Ok(Lookup::Ambiguous { candidates }) => candidates.iter().map(Match::query).collect(),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn kerberos_codes_as_windows_events_print_them() {
        for (q, key) in [
            ("0x6", "kerberos:6"),
            ("0x7", "kerberos:7"),
            ("0x12", "kerberos:18"),
            ("0x17", "kerberos:23"),
            ("0x18", "kerberos:24"),
            ("0x25", "kerberos:37"),
            ("0x44", "kerberos:68"),
        ] {
            assert_eq!(one(q), key, "{q}");
        }
        for q in [
            "Failure Code: 0x18",
            "Failure Code:\t\t0x18",
            "Result Code: 0x18",
            "failure code:0x18",
            "  Failure  Code :  0x18  ",
            "Failure Code: 24",
        ] {
            assert_eq!(one(q), "kerberos:24", "{q:?}");
        }
        // A bare number that is also a Win32 error the catalogue knows stays ambiguous ...
        assert_eq!(keys("0x5"), ["win32:5", "kerberos:5"]);
        assert_eq!(
            keys("0x0"),
            ["win32:0", "ntstatus:0x00000000", "kerberos:0"]
        );
        // ... while the event's label says which it is.
        assert_eq!(one("Failure Code: 0x5"), "kerberos:5");
        assert_eq!(one("Result Code: 0x0"), "kerberos:0");
        assert_eq!(one("Sub Status: 0x0"), "ntstatus:0x00000000");
        // A label that names a kind takes no other kind.
        assert!(matches!(
            lookup("Failure Code: 0xC000006D"),
            Err(LookupError::Unknown { .. })
        ));
        assert!(matches!(
            lookup("Failure Code: 0x7F"),
            Err(LookupError::Unknown { .. })
        ));
    }

    #[test]
    fn every_kerberos_code_in_every_form() {
        let cat = catalogue();
        let krb: Vec<&Code> = cat
            .codes
            .iter()
            .filter(|c| c.kind == CodeKind::Kerberos)
            .collect();
        assert!(krb.len() > 70, "{} Kerberos codes", krb.len());
        for c in krb {
            let v = c.value().expect("Kerberos codes are numbers");
            let key = c.key();
            assert_eq!(one(&format!("Failure Code: {v:#x}")), key);
            assert_eq!(one(&format!("Result Code:\t{v:#X}")), key);
            assert_eq!(one(&c.name), key);
            assert_eq!(one(&format!("KRB5{}", c.name)), key);
            assert_eq!(one(&(KRB5_TABLE_BASE + v as i64).to_string()), key);
            for a in &c.aliases {
                assert_eq!(one(a), key);
                assert_eq!(one(&format!("KRB5{a}")), key);
            }
        }
    }

    #[test]
    fn mit_krb5_numbers_and_names() {
        assert_eq!(one("-1765328360"), "kerberos:24");
        assert_eq!(one("-1765328347"), "kerberos:37");
        assert_eq!(one("KRB5KDC_ERR_PREAUTH_FAILED"), "kerberos:24");
        assert_eq!(one("krb5krb_ap_err_skew"), "kerberos:37");
        // MIT's own spellings where they differ from RFC 4120's.
        assert_eq!(one("KRB5KDC_ERR_KEY_EXP"), "kerberos:23");
        assert_eq!(one("KRB5KDC_ERR_CLIENT_NOT_TRUSTED"), "kerberos:62");
        assert_eq!(
            one("KRB5KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED"),
            "kerberos:65"
        );
        assert_eq!(
            one("KRB5KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTION"),
            "kerberos:93"
        );
        // Past the 128 protocol codes the table holds library errors why401 does not explain.
        assert!(matches!(
            lookup("-1765328256"),
            Err(LookupError::Unknown { .. })
        ));
        // The prefix only names Kerberos errors.
        assert!(matches!(
            lookup("KRB5ERROR_ACCESS_DENIED"),
            Err(LookupError::Unknown { .. })
        ));
    }

    #[test]
    fn event_fields_and_the_iis_error_page() {
        assert_eq!(one("Sub Status: 0xC0000064"), "ntstatus:0xC0000064");
        assert_eq!(one("Status:\t0xC000006D"), "ntstatus:0xC000006D");
        assert_eq!(one("Error Code: 0xC000006A"), "ntstatus:0xC000006A");
        assert_eq!(one("0xC000018C"), "ntstatus:0xC000018C");
        assert_eq!(one("0xc0000199"), "ntstatus:0xC0000199");
        assert_eq!(one("HRESULT: 0x80070021"), "hresult:0x80070021");
        assert_eq!(one("Error Code 0x8007000d"), "hresult:0x8007000D");
        assert_eq!(one("2147942433"), "hresult:0x80070021");
        assert_eq!(one("500.19"), "iis-substatus:500.19");
        assert_eq!(one("403.14"), "iis-substatus:403.14");
        assert_eq!(one("HTTP 403.502"), "iis-substatus:403.502");
        assert!(matches!(
            lookup("Sub Status: 0x18"),
            Err(LookupError::Unknown { .. })
        ));
    }

    #[test]
    fn unknown_suggests() {
        let Err(LookupError::Unknown { suggestions, .. }) = lookup("credential-rejected") else {
            panic!()
        };
        assert_eq!(
            suggestions.first().map(String::as_str),
            Some("credentials-rejected")
        );
        assert_eq!(lookup("   "), Err(LookupError::Empty));
        assert!(matches!(lookup("zzzzzz"), Err(LookupError::Unknown { .. })));
        // Under an event label, only codes of the label's kind are suggested.
        let Err(LookupError::Unknown { suggestions, .. }) =
            lookup("Failure Code: KDC_ERR_PREAUTH_FAILD")
        else {
            panic!()
        };
        assert_eq!(
            suggestions.first().map(String::as_str),
            Some("KDC_ERR_PREAUTH_FAILED")
        );
        let Err(LookupError::Unknown { suggestions, .. }) =
            lookup("Sub Status: STATUS_LOGON_FAILUR")
        else {
            panic!()
        };
        assert!(!suggestions.is_empty());
        assert!(
            suggestions.iter().all(|s| catalogue()
                .codes
                .iter()
                .any(|c| c.kind == CodeKind::Ntstatus && (&c.name == s || &c.code == s))),
            "{suggestions:?}"
        );
    }
}
