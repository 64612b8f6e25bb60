//! Values an exporter hid: NetLog's `[N bytes were stripped]`, other tools' placeholders
//! (`[REDACTED]`, `[Authorization redacted]`, `********`). They are recognised as hidden and taken
//! out of the headers, so that no rule ever parses a placeholder as a token or a password.

use why401_evidence::Headers;

/// A header whose value was hidden.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HiddenHeader {
    /// The header's name.
    pub name: String,
    /// The scheme when the exporter kept it (`Bearer [REDACTED]`).
    pub scheme: Option<String>,
}

impl HiddenHeader {
    /// In words, for the leg's `hidden_headers`.
    pub fn describe(&self) -> String {
        match &self.scheme {
            Some(s) => format!("{} ({s}, value hidden)", self.name),
            None => self.name.clone(),
        }
    }
}

/// Counts what it hid across a capture.
#[derive(Debug, Default)]
pub struct Hider {
    /// Header values that were placeholders.
    pub stripped: usize,
    /// Legs whose header block was larger than the headers shown.
    pub gaps: usize,
    /// Names of the headers hidden, each once.
    names: Vec<String>,
}

/// Whether `value` is a placeholder for a hidden value rather than the value.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    (v.starts_with('[') && v.ends_with(']') && lower.contains("stripped"))
        || lower.contains("redacted")
        || matches!(
            lower.as_str(),
            "[hidden]"
                | "<hidden>"
                | "hidden"
                | "[filtered]"
                | "[removed]"
                | "<secret>"
                | "[secret]"
        )
        || (v.len() >= 3 && v.chars().all(|c| c == '*'))
}

impl Hider {
    /// `headers` without the hidden values; each hidden one is added to `hidden`.
    pub fn clean(&mut self, headers: Headers, hidden: &mut Vec<HiddenHeader>) -> Headers {
        let mut out = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let (scheme, rest) = match value.trim().split_once(' ') {
                Some((s, r))
                    if !is_placeholder(s)
                        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
                {
                    (Some(s.to_string()), r)
                }
                _ => (None, value.as_str()),
            };
            if is_placeholder(&value) || (scheme.is_some() && is_placeholder(rest)) {
                self.stripped += 1;
                if !self.names.iter().any(|n| n.eq_ignore_ascii_case(&name)) {
                    self.names.push(name.clone());
                }
                let scheme = scheme.filter(|_| is_placeholder(rest));
                hidden.push(HiddenHeader { name, scheme });
                continue;
            }
            out.push((name, value));
        }
        out
    }

    /// What was hidden across the capture, in words.
    pub fn report(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.stripped > 0 {
            out.push(format!(
                "{} header value{} replaced by placeholders ({})",
                self.stripped,
                if self.stripped == 1 { "" } else { "s" },
                self.names.join(", ")
            ));
        }
        if self.gaps > 0 {
            out.push(format!(
                "{} request{} whose header block is larger than the headers listed: headers left out by the exporter",
                self.gaps,
                if self.gaps == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_recognised_and_values_are_not() {
        for p in [
            "[REDACTED]",
            "[Authorization redacted]",
            "[38 bytes were stripped]",
            "********",
            "<redacted>",
        ] {
            assert!(is_placeholder(p), "{p}");
        }
        for v in [
            "Basic YWxpY2U6c2VjcmV0",
            "Negotiate TlRMTVNTUAAB",
            "*/*",
            "session=abc",
        ] {
            assert!(!is_placeholder(v), "{v}");
        }
        let mut h = Hider::default();
        let mut hidden = Vec::new();
        let kept = h.clean(
            vec![
                ("Authorization".into(), "Bearer [REDACTED]".into()),
                ("Cookie".into(), "[12 bytes were stripped]".into()),
                ("Accept".into(), "*/*".into()),
            ],
            &mut hidden,
        );
        assert_eq!(kept, vec![("Accept".to_string(), "*/*".to_string())]);
        assert_eq!(hidden[0].scheme.as_deref(), Some("Bearer"));
        assert_eq!(hidden[1].scheme, None);
        assert_eq!(h.stripped, 2);
    }
}
