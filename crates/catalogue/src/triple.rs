//! What an IIS log's `sc-status sc-substatus sc-win32-status` triple means: each part resolved,
//! and the few words that sum the three up. `explain` and the logs table both take the meaning
//! from here, so they cannot disagree.

use serde::Serialize;

use crate::{Catalogue, Code, CodeKind, Combo};

/// `status substatus win32` as IIS logs them, each part resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogTriple<'a> {
    /// `sc-status`: the HTTP status.
    pub status: u16,
    /// `sc-substatus`; 0 when the status has none.
    pub substatus: u32,
    /// `sc-win32-status` as logged (decimal), when the triple has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win32: Option<String>,
    /// The HTTP status's catalogue entry, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<&'a Code>,
    /// The `status.substatus` entry (`401.2`); `None` for substatus 0 or an unknown one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub substatus_code: Option<&'a Code>,
    /// The `sc-win32-status` entry: a Win32 error, else an HRESULT or NTSTATUS logged in decimal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub win32_code: Option<&'a Code>,
    /// What the three mean together, when the combination is a known one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combo: Option<&'a Combo>,
    /// The triple in a few words: the combination's title when it is known, else the titles of
    /// the parts that say something (empty when none is known).
    pub meaning: String,
}

impl Catalogue {
    /// Resolves `status substatus win32`; `win32` is `None` when the line has no such field.
    pub fn log_triple(&self, status: u16, substatus: u32, win32: Option<u64>) -> LogTriple<'_> {
        let substatus_code = (substatus != 0)
            .then(|| self.code(CodeKind::IisSubstatus, &format!("{status}.{substatus}")))
            .flatten();
        let win32_code = win32.and_then(|w| self.win32_status(w));
        let combo = win32.and_then(|w| self.combo(status, substatus, &w.to_string()));
        let status_code = self.code(CodeKind::Http, &status.to_string());
        LogTriple {
            status,
            substatus,
            win32: win32.map(|w| w.to_string()),
            status_code,
            substatus_code,
            win32_code,
            combo,
            meaning: summary(status_code, substatus_code, win32_code, combo),
        }
    }

    /// What a logged `status substatus win32` means, in a few words: the one place the logs
    /// table and `explain` take it from.
    pub fn triple_meaning(&self, status: u16, substatus: u32, win32: u64) -> String {
        self.log_triple(status, substatus, Some(win32)).meaning
    }
}

fn summary(
    status: Option<&Code>,
    substatus: Option<&Code>,
    win32: Option<&Code>,
    combo: Option<&Combo>,
) -> String {
    if let Some(c) = combo {
        return c.title.clone();
    }
    // sc-win32-status 0 is "no error": it adds nothing to what the statuses say.
    let win32 = win32.filter(|c| c.value() != Some(0));
    match (substatus, win32) {
        (Some(s), Some(w)) => format!("{} — {}", s.title, w.title),
        (Some(s), None) => s.title.clone(),
        (None, Some(w)) => w.title.clone(),
        (None, None) => status.map(|c| c.title.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use crate::catalogue;

    #[test]
    fn a_known_combination_is_summed_up_by_its_title() {
        let c = catalogue();
        assert!(c.triple_meaning(401, 2, 5).contains("first leg"));
        assert!(c.triple_meaning(401, 1, 1326).contains("logon failure"));
        for combo in &c.combos {
            let w: u64 = combo.win32.parse().expect("combos log win32 in decimal");
            assert_eq!(
                c.triple_meaning(combo.status, combo.substatus, w),
                combo.title
            );
        }
    }

    #[test]
    fn otherwise_the_parts_that_say_something() {
        let c = catalogue();
        let sub = c.code(crate::CodeKind::IisSubstatus, "401.3").unwrap();
        let w = c.code(crate::CodeKind::Win32, "1331").unwrap();
        assert_eq!(
            c.triple_meaning(401, 3, 1331),
            format!("{} — {}", sub.title, w.title)
        );
        // win32 0 is no reason; the substatus alone speaks.
        let listing = c.code(crate::CodeKind::IisSubstatus, "403.14").unwrap();
        assert_eq!(c.triple_meaning(403, 14, 0), listing.title);
        // An NTSTATUS logged as a decimal still resolves.
        assert_eq!(
            c.triple_meaning(401, 0, 0xC000006D),
            c.code(crate::CodeKind::Ntstatus, "0xC000006D")
                .unwrap()
                .title
        );
        // Nothing but the HTTP status known.
        assert_eq!(
            c.triple_meaning(401, 0, 0),
            c.code(crate::CodeKind::Http, "401").unwrap().title
        );
        assert_eq!(c.triple_meaning(299, 0, 0), "");
    }
}
