//! The IIS "Detailed Error" page (IIS 7 and later): the substatus, the HRESULT and the
//! details table that IIS shows to local requests (or everyone, with `errorMode="Detailed"`).
//!
//! The page is localised, so the language-independent parts lead: the
//! `IIS70Error=status,substatus,hresult,build` link and the `NNN.N` in the heading. The details
//! table is read by row position names in English when present.

use serde::Serialize;

/// What an IIS detailed error page says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DetailedError {
    /// The HTTP status code, e.g. 401, from the `IIS70Error` link or else the heading.
    pub status: u16,
    /// The IIS substatus, the `2` of `401.2`: it narrows the status to one cause.
    pub substatus: u32,
    /// The HRESULT, e.g. `0x80070005`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hresult: Option<String>,
    /// The IIS (Windows) build from the link, e.g. `14393`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build: Option<String>,
    /// The heading: `HTTP Error 401.2 - Unauthorized`.
    pub heading: String,
    /// The sentence under the heading.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The details table: Module, Notification, Handler, Error Code, Requested URL, Physical
    /// Path, Logon Method, Logon User (in the page's language).
    pub details: Vec<(String, String)>,
}

impl DetailedError {
    /// A detail by (English) name.
    pub fn detail(&self, name: &str) -> Option<&str> {
        self.details
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The Win32 code inside an `0x8007xxxx` HRESULT (HRESULT_FROM_WIN32).
    pub fn win32(&self) -> Option<u32> {
        let h = self
            .hresult
            .as_deref()?
            .trim_start_matches("0x")
            .trim_start_matches("0X");
        let v = u32::from_str_radix(h, 16).ok()?;
        (v & 0xFFFF_0000 == 0x8007_0000).then_some(v & 0xFFFF)
    }
}

/// Reads an IIS detailed error page; `None` when `html` is not one.
pub fn parse_detailed_error(html: &str) -> Option<DetailedError> {
    let link = find_link(html);
    let heading = between(html, "<h3>", "</h3>").map(text).unwrap_or_default();
    let (status, substatus) = match &link {
        Some((s, sub, _, _)) => (*s, *sub),
        None => status_in(&heading)?,
    };
    if !(heading.contains(&format!("{status}.{substatus}")) || link.is_some()) {
        return None;
    }
    let details = table_rows(html);
    Some(DetailedError {
        status,
        substatus,
        hresult: link.as_ref().and_then(|l| l.2.clone()).or_else(|| {
            details
                .iter()
                .find(|(n, _)| n == "Error Code")
                .map(|(_, v)| v.clone())
        }),
        build: link.and_then(|l| l.3),
        heading,
        summary: between(html, "<h4>", "</h4>")
            .map(text)
            .filter(|s| !s.is_empty()),
        details,
    })
}

/// `IIS70Error=401,2,0x80070005,14393` in the "more information" link.
fn find_link(html: &str) -> Option<(u16, u32, Option<String>, Option<String>)> {
    let i = html.find("IIS70Error=")?;
    let rest = &html[i + "IIS70Error=".len()..];
    let end = rest
        .find(|c: char| c == '"' || c == '\'' || c == '&' || c == '>' || c.is_whitespace())
        .unwrap_or(rest.len());
    let mut parts = rest[..end].split(',');
    let status = parts.next()?.parse().ok()?;
    let sub = parts.next()?.parse().ok()?;
    let hresult = parts
        .next()
        .filter(|h| h.starts_with("0x") || h.starts_with("0X"))
        .map(String::from);
    let build = parts.next().map(String::from);
    Some((status, sub, hresult, build))
}

/// `401.2` in a heading, whatever the language around it.
fn status_in(heading: &str) -> Option<(u16, u32)> {
    let b = heading.as_bytes();
    for i in 0..b.len().saturating_sub(4) {
        if b[i..i + 3].iter().all(u8::is_ascii_digit)
            && b[i + 3] == b'.'
            && (i == 0 || !b[i - 1].is_ascii_digit())
        {
            let digits: String = heading[i + 4..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let (Ok(s), Ok(sub)) = (heading[i..i + 3].parse(), digits.parse()) {
                return Some((s, sub));
            }
        }
    }
    None
}

fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let i = s.find(open)? + open.len();
    let j = s[i..].find(close)? + i;
    Some(&s[i..j])
}

/// Tag-free, entity-decoded, whitespace-collapsed text.
fn text(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&raquo;", "»");
    decoded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `<tr><th>Name</th><td>Value</td></tr>` rows.
fn table_rows(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find("<th>") {
        let after = &rest[i + 4..];
        let Some(j) = after.find("</th>") else { break };
        let name = text(&after[..j]);
        let tail = &after[j + 5..];
        let value = between(tail, "<td>", "</td>").map(text).unwrap_or_default();
        if !name.is_empty() && out.len() < 32 {
            out.push((name, value));
        }
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The structure of IIS 10's detailed error page (the lab serves the same file).
    const PAGE: &str = include_str!("../../lab/data/iis-401.2.html");

    #[test]
    fn reads_the_page() {
        let e = parse_detailed_error(PAGE).unwrap();
        assert_eq!((e.status, e.substatus), (401, 2));
        assert_eq!(e.hresult.as_deref(), Some("0x80070005"));
        assert_eq!(e.build.as_deref(), Some("17763"));
        assert_eq!(
            e.detail("Requested URL"),
            Some("http://127.0.0.1:80/iis/reports/")
        );
        assert_eq!(e.heading, "HTTP Error 401.2 - Unauthorized");
        assert_eq!(e.detail("Module"), Some("IIS Web Core"));
        assert_eq!(e.detail("Logon Method"), Some("Not yet determined"));
        assert_eq!(e.win32(), Some(5));
    }

    #[test]
    fn localised_heading_without_link() {
        let e = parse_detailed_error("<h3>Ошибка HTTP 401.3 — Unauthorized</h3>").unwrap();
        assert_eq!((e.status, e.substatus), (401, 3));
        assert!(parse_detailed_error("<h3>Welcome</h3>").is_none());
        assert!(parse_detailed_error("<p>nothing here</p>").is_none());
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,300}") {
            let _ = parse_detailed_error(&s);
            let _ = parse_detailed_error(&format!("<h3>{s}</h3><th>{s}</th><td>{s}"));
            let _ = parse_detailed_error(&format!("IIS70Error={s}"));
        }
    }
}
