//! Resolving what a user typed — `401.2`, `401 1 2148074254`, `0xC000006D`, `52e`,
//! `KRB_AP_ERR_SKEW`, `credentials-rejected`, a pasted LDAP error — to catalogue entries.

use serde::Serialize;

use crate::{Catalogue, Code, CodeKind, Combo, FindingInfo, catalogue};

/// One catalogue entry a query resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Match<'a> {
    Code(&'a Code),
    Finding(&'a FindingInfo),
}

impl Match<'_> {
    /// How to ask for exactly this entry: `win32:5`, `credentials-rejected`.
    pub fn query(&self) -> String {
        match self {
            Match::Code(c) => c.key(),
            Match::Finding(f) => f.id.clone(),
        }
    }

    /// The one-line title.
    pub fn title(&self) -> &str {
        match self {
            Match::Code(c) => &c.title,
            Match::Finding(f) => &f.title,
        }
    }
}

/// `status substatus win32` as pasted from an IIS log line, each part resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogTriple<'a> {
    pub status: u16,
    pub substatus: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win32: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<&'a Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substatus_code: Option<&'a Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win32_code: Option<&'a Code>,
    /// What the three mean together, when the combination is a known one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combo: Option<&'a Combo>,
}

/// What a query resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "resolved", rename_all = "kebab-case")]
pub enum Lookup<'a> {
    One { entry: Match<'a> },
    LogTriple { triple: LogTriple<'a> },
    Ambiguous { candidates: Vec<Match<'a>> },
}

/// Why a query resolved to nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    #[error("nothing to explain")]
    Empty,
    #[error("`{input}` is not a code or finding id why401 knows")]
    Unknown {
        input: String,
        suggestions: Vec<String>,
    },
}

/// Resolves a query against the compiled-in catalogue.
pub fn lookup(input: &str) -> Result<Lookup<'static>, LookupError> {
    lookup_in(catalogue(), input)
}

fn lookup_in<'a>(cat: &'a Catalogue, input: &str) -> Result<Lookup<'a>, LookupError> {
    let q = normalise(input);
    if q.is_empty() {
        return Err(LookupError::Empty);
    }
    if let Some(t) = triple(cat, &q) {
        return Ok(Lookup::LogTriple { triple: t });
    }
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
    for c in cat.codes.iter().filter(|c| c.name.eq_ignore_ascii_case(&q)) {
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
    match found.len() {
        0 => Err(LookupError::Unknown {
            input: input.trim().to_string(),
            suggestions: suggest(cat, &q),
        }),
        1 => Ok(Lookup::One { entry: found[0] }),
        _ => Ok(Lookup::Ambiguous { candidates: found }),
    }
}

/// Strips what people paste around a code: `HTTP `, `Error `, `(0x…)` punctuation, quotes.
fn normalise(input: &str) -> String {
    let mut s = input
        .trim()
        .trim_matches(['"', '\'', '`', '(', ')', '.', ','])
        .to_string();
    for prefix in ["http error ", "http ", "error ", "status ", "code "] {
        if s.len() > prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
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
    let win32 = parts
        .get(2)
        .map(|w| w.trim_start_matches('0').to_string())
        .map(|w| if w.is_empty() { "0".into() } else { w });
    let win32_code = win32
        .as_deref()
        .and_then(|w| w.parse().ok())
        .and_then(|v| cat.win32_status(v));
    let substatus_code = if substatus == 0 {
        None
    } else {
        cat.code(CodeKind::IisSubstatus, &format!("{status}.{substatus}"))
    };
    Some(LogTriple {
        status,
        substatus,
        combo: win32
            .as_deref()
            .and_then(|w| cat.combo(status, substatus, w)),
        win32,
        status_code: cat.code(CodeKind::Http, &status.to_string()),
        substatus_code,
        win32_code,
    })
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

/// Every code whose number the query can be read as: decimal, `0x` hex, or bare 8-digit hex.
fn numeric<'a>(cat: &'a Catalogue, q: &str) -> Vec<&'a Code> {
    let q = q.trim_end_matches(['l', 'u']);
    let values: Vec<(u64, bool)> = if let Some(h) = q.strip_prefix("0x") {
        u64::from_str_radix(h, 16)
            .ok()
            .map(|v| vec![(v, true)])
            .unwrap_or_default()
    } else if q.bytes().all(|b| b.is_ascii_digit()) && !q.is_empty() {
        let mut v: Vec<(u64, bool)> = q.parse().ok().map(|v| vec![(v, false)]).unwrap_or_default();
        // Negative HRESULTs as .NET prints them are handled below; IIS logs unsigned decimals.
        if q.len() == 8 {
            v.extend(u64::from_str_radix(q, 16).ok().map(|x| (x, true)));
        }
        v
    } else if q.len() == 8 && q.bytes().all(|b| b.is_ascii_hexdigit()) {
        u64::from_str_radix(q, 16)
            .ok()
            .map(|v| vec![(v, true)])
            .unwrap_or_default()
    } else if let Some(neg) = q.strip_prefix('-').and_then(|n| n.parse::<i64>().ok()) {
        // -2146893044 is how .NET and PowerShell print 0x8009030C.
        vec![((-neg) as u32 as u64, true)]
    } else {
        Vec::new()
    };
    let mut out = Vec::new();
    for (v, from_hex) in values {
        for c in &cat.codes {
            let hit = match c.kind {
                CodeKind::Hresult | CodeKind::Ntstatus => c.value() == Some(v),
                CodeKind::Win32 => c.value() == Some(v) && (!from_hex || v < 0x1_0000),
                CodeKind::Http | CodeKind::Kerberos => !from_hex && c.value() == Some(v),
                CodeKind::IisSubstatus | CodeKind::Ldap => false,
            };
            if hit && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The closest ids, names and codes to a query that matched nothing.
fn suggest(cat: &Catalogue, q: &str) -> Vec<String> {
    let q = q.to_ascii_lowercase();
    let mut scored: Vec<(f64, String)> = cat
        .findings
        .iter()
        .map(|f| f.id.clone())
        .chain(cat.codes.iter().map(|c| c.name.clone()))
        .chain(cat.codes.iter().map(|c| c.code.clone()))
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
    }
}
