//! Julian Reschke's test cases for the `WWW-Authenticate` header field, the reference browsers are
//! measured against: "Test Cases for the HTTP WWW-Authenticate header field",
//! <http://test.greenbytes.de/tech/tc/httpauth/>. All 32 cases are here, under the suite's names,
//! with the suite's header values (the same values Mozilla's `test_authentication.js` and KDE
//! KIO's `httpauthenticationtest.cpp` run). For each: the fields as raw bytes, whether the suite
//! holds the header valid, what our parser reads (schemes in order, the realm of each) and the
//! lints it reports. Our parser never rejects a header: it reads what a browser would and calls
//! the header invalid by reporting a harmful lint ([`ChallengeLint::is_harmful`]). Where our
//! answer differs from the suite's verdict or from what browsers show, `differs` says why.

use why401_wire::challenge::{self, ChallengeLint};

/// How the suite judges a header value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Follows the grammar; a client should use it.
    Valid,
    /// Breaks the grammar or the scheme's rules; accepting it is at best a warning.
    Invalid,
}
use Verdict::{Invalid, Valid};

/// One case of the suite and our answer to it.
struct Case {
    name: &'static str,
    /// One entry per header field, as bytes: two cases differ only in the realm's encoding.
    fields: &'static [&'static [u8]],
    /// The suite's verdict, from its case descriptions and how it grades browsers (where it
    /// counts accepting a header as a warning, the header is invalid).
    suite: Verdict,
    /// The challenges we read: scheme as sent, and its realm.
    parsed: &'static [(&'static str, Option<&'static str>)],
    /// The codes of the lints we report, in order.
    lints: &'static [&'static str],
    /// Why our answer deliberately differs from the suite's verdict or the browsers' reading.
    differs: Option<&'static str>,
}

const CASES: &[Case] = &[
    // Basic
    Case {
        name: "simplebasic",
        fields: &[br#"Basic realm="foo""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasiclf",
        fields: &[b"Basic\r\n realm=\"foo\""],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &["obs-fold"],
        differs: Some(
            "we join the fold and read realm foo as the suite expects, but report obs-fold as harmful: \
             RFC 9112 §5.2 forbids senders to fold, and clients that do not unfold (IE 11 missed the \
             realm; hyper rejects the response) fail on it",
        ),
    },
    Case {
        name: "simplebasicucase",
        fields: &[br#"BASIC REALM="foo""#],
        suite: Valid,
        parsed: &[("BASIC", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasictok",
        fields: &[b"Basic realm=foo"],
        suite: Invalid,
        parsed: &[("Basic", Some("foo"))],
        lints: &["unquoted-realm"],
        differs: Some(
            "browsers accept the token form silently (the suite counts that as a warning); we read \
             realm foo as they do, and report unquoted-realm because RFC 9110 §11.5 has senders \
             quote the realm",
        ),
    },
    Case {
        name: "simplebasictokbs",
        fields: &[br"Basic realm=\f\o\o"],
        suite: Invalid,
        parsed: &[("Basic", Some(r"\f\o\o"))],
        lints: &["invalid-token-value"],
        differs: Some(
            "browsers disagree (most accept the value, legacy Edge ignored the challenge); we keep \
             the value as sent, backslashes included, so the report shows what the server wrote, \
             and call the header invalid: a backslash is not a token character",
        ),
    },
    Case {
        name: "simplebasicsq",
        fields: &[b"Basic realm='foo'"],
        suite: Invalid,
        parsed: &[("Basic", Some("'foo'"))],
        lints: &["single-quoted-value"],
        differs: None,
    },
    Case {
        name: "simplebasicpct",
        fields: &[br#"Basic realm="foo%20bar""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo%20bar"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasiccomma",
        fields: &[br#"Basic , realm="foo""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasiccomma2",
        fields: &[br#"Basic, realm="foo""#],
        suite: Invalid,
        parsed: &[("Basic", None)],
        lints: &["comma-after-scheme", "missing-realm"],
        differs: None,
    },
    Case {
        name: "simplebasicnorealm",
        fields: &[b"Basic"],
        suite: Invalid,
        parsed: &[("Basic", None)],
        lints: &["missing-realm"],
        differs: None,
    },
    Case {
        name: "simplebasic2realms",
        fields: &[br#"Basic realm="foo", realm="bar""#],
        suite: Invalid,
        parsed: &[("Basic", Some("foo"))],
        lints: &["duplicate-parameter"],
        differs: None,
    },
    Case {
        name: "simplebasicwsrealm",
        fields: &[br#"Basic realm = "foo""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasicrealmsqc",
        fields: &[br#"Basic realm="\f\o\o""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasicrealmsqc2",
        fields: &[br#"Basic realm="\"foo\"""#],
        suite: Valid,
        parsed: &[("Basic", Some(r#""foo""#))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasicnewparam1",
        fields: &[br#"Basic realm="foo", bar="xyz",, a=b,,,c=d"#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasicnewparam2",
        fields: &[br#"Basic bar="xyz", realm="foo""#],
        suite: Valid,
        parsed: &[("Basic", Some("foo"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "simplebasicrealmiso88591",
        fields: &[b"Basic realm=\"foo-\xe4\""],
        suite: Valid,
        parsed: &[("Basic", Some("foo-\u{fffd}"))],
        lints: &[],
        differs: Some(
            "browsers read field bytes as ISO-8859-1 and show foo-\u{e4}; the probe reads them as \
             UTF-8 (an invalid byte becomes U+FFFD) before the parser sees them; the syntax is valid \
             either way",
        ),
    },
    Case {
        name: "simplebasicrealmutf8",
        fields: &[b"Basic realm=\"foo-\xc3\xa4\""],
        suite: Valid,
        parsed: &[("Basic", Some("foo-\u{e4}"))],
        lints: &[],
        differs: Some(
            "browsers that read field bytes as ISO-8859-1 (Firefox) show foo-\u{c3}\u{a4}; the \
             probe reads UTF-8, so the realm is foo-\u{e4}",
        ),
    },
    Case {
        name: "simplebasicrealmrfc2047",
        fields: &[br#"Basic realm="=?ISO-8859-1?Q?foo-=E4?=""#],
        suite: Valid,
        // RFC 2047 encoded words do not apply inside quoted-strings: the realm is the text itself.
        parsed: &[("Basic", Some("=?ISO-8859-1?Q?foo-=E4?="))],
        lints: &[],
        differs: None,
    },
    // Multiple challenges
    Case {
        name: "multibasicunknown",
        fields: &[br#"Basic realm="basic", Newauth realm="newauth""#],
        suite: Valid,
        parsed: &[("Basic", Some("basic")), ("Newauth", Some("newauth"))],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    Case {
        name: "multibasicunknownnoparam",
        fields: &[br#"Basic realm="basic", Newauth"#],
        suite: Valid,
        parsed: &[("Basic", Some("basic")), ("Newauth", None)],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    Case {
        name: "multibasicunknown2",
        fields: &[br#"Newauth realm="newauth", Basic realm="basic""#],
        suite: Valid,
        parsed: &[("Newauth", Some("newauth")), ("Basic", Some("basic"))],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    Case {
        name: "multibasicunknown2np",
        fields: &[br#"Newauth, Basic realm="basic""#],
        suite: Valid,
        parsed: &[("Newauth", None), ("Basic", Some("basic"))],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    Case {
        name: "multibasicunknown2mf",
        fields: &[br#"Newauth realm="newauth""#, br#"Basic realm="basic""#],
        suite: Valid,
        parsed: &[("Newauth", Some("newauth")), ("Basic", Some("basic"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "multibasicempty",
        fields: &[br#",Basic realm="basic""#],
        suite: Valid,
        parsed: &[("Basic", Some("basic"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "multibasicqs",
        fields: &[
            br#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        ],
        suite: Valid,
        parsed: &[("Newauth", Some("apps")), ("Basic", Some("simple"))],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    Case {
        name: "multidisgscheme",
        fields: &[br#"Newauth realm="Newauth Realm", basic=foo, Basic realm="Basic Realm""#],
        suite: Valid,
        parsed: &[
            ("Newauth", Some("Newauth Realm")),
            ("Basic", Some("Basic Realm")),
        ],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    // Unknown schemes
    Case {
        name: "unknown",
        fields: &[br#"Newauth param="value""#],
        suite: Valid,
        parsed: &[("Newauth", None)],
        lints: &[],
        differs: None,
    },
    Case {
        name: "parametersnotrequired",
        fields: &[b"A, B"],
        suite: Valid,
        parsed: &[("A", None), ("B", None)],
        lints: &["several-challenges-in-one-field"],
        differs: None,
    },
    // Disguised parameters
    Case {
        name: "disguisedrealm",
        fields: &[br#"Basic foo="realm=nottherealm", realm="basic""#],
        suite: Valid,
        parsed: &[("Basic", Some("basic"))],
        lints: &[],
        differs: None,
    },
    Case {
        name: "disguisedrealm2",
        fields: &[br#"Basic nottherealm="nottherealm", realm="basic""#],
        suite: Valid,
        parsed: &[("Basic", Some("basic"))],
        lints: &[],
        differs: None,
    },
    // Parsing errors
    Case {
        name: "missingquote",
        fields: &[br#"Basic realm="basic"#],
        suite: Invalid,
        parsed: &[("Basic", Some("basic"))],
        lints: &["unterminated-quoted-string"],
        differs: None,
    },
];

/// What one case gives, or why it does not match the table.
fn check(case: &Case) -> Result<(), String> {
    // As the probe reads header bytes: UTF-8, an invalid byte becoming U+FFFD.
    let fields: Vec<String> = case
        .fields
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let parsed = challenge::parse(fields.iter().map(String::as_str));
    let got: Vec<(&str, Option<&str>)> = parsed
        .challenges
        .iter()
        .map(|c| (c.scheme.as_str(), c.realm()))
        .collect();
    if got != case.parsed {
        return Err(format!("read {got:?}, expected {:?}", case.parsed));
    }
    let codes: Vec<&str> = parsed.lints.iter().map(ChallengeLint::code).collect();
    if codes != case.lints {
        return Err(format!("lints {codes:?}, expected {:?}", case.lints));
    }
    let ours = if parsed.lints.iter().any(ChallengeLint::is_harmful) {
        Invalid
    } else {
        Valid
    };
    if ours != case.suite && case.differs.is_none() {
        return Err(format!(
            "we call it {ours:?}, the suite {:?}, and the table does not say why",
            case.suite
        ));
    }
    Ok(())
}

#[test]
fn every_greenbytes_case_reads_as_the_table_says() {
    let failures: Vec<String> = CASES
        .iter()
        .filter_map(|case| check(case).err().map(|e| format!("{}: {e}", case.name)))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_table_holds_the_whole_suite_once() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "a case appears twice");
    assert_eq!(CASES.len(), 32, "the suite has 32 cases");
    let invalid = CASES.iter().filter(|c| c.suite == Invalid).count();
    assert_eq!(invalid, 7, "the suite holds 7 headers invalid");
}

#[test]
fn the_check_catches_a_wrong_row() {
    // The table's test must be able to fail: a wrong realm, a missing lint and an unexplained
    // verdict are each reported.
    let wrong_realm = Case {
        parsed: &[("Basic", Some("bar"))],
        ..CASES[0]
    };
    assert!(check(&wrong_realm).unwrap_err().contains("read"));
    let missing_lint = Case {
        lints: &[],
        ..CASES[3]
    };
    assert!(check(&missing_lint).unwrap_err().contains("lints"));
    let unexplained = Case {
        differs: None,
        ..CASES[1]
    };
    assert!(
        check(&unexplained)
            .unwrap_err()
            .contains("does not say why")
    );
}
