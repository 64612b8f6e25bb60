//! The challenge parser: unit cases, each known deviation, and properties over arbitrary input.

use super::*;
use proptest::prelude::*;

fn codes(c: &Challenges) -> Vec<&'static str> {
    c.lints.iter().map(ChallengeLint::code).collect()
}

#[test]
fn basic_with_realm_and_charset() {
    let c = parse_one(r#"Basic realm="Intranet", charset="UTF-8""#);
    assert_eq!(c.challenges.len(), 1);
    assert!(c.challenges[0].is("basic"));
    assert_eq!(c.challenges[0].realm(), Some("Intranet"));
    assert_eq!(c.challenges[0].param("CHARSET"), Some("UTF-8"));
    assert!(c.lints.is_empty(), "{:?}", c.lints);
}

#[test]
fn several_challenges_in_one_field_and_across_fields() {
    let c = parse([
        r#"Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple""#,
        "Negotiate",
        "NTLM",
    ]);
    assert_eq!(c.schemes(), ["Newauth", "Basic", "Negotiate", "NTLM"]);
    assert_eq!(c.challenges[0].param("title"), Some(r#"Login to "apps""#));
    assert_eq!(c.challenges[0].param("type"), Some("1"));
    assert_eq!(codes(&c), ["several-challenges-in-one-field"]);
}

#[test]
fn token68_versus_parameters() {
    let c = parse_one("Negotiate YIIBhgYGKwYBBQUCoIIBejCCAXag==, Bearer realm=x");
    assert_eq!(
        c.challenges[0].token68.as_deref(),
        Some("YIIBhgYGKwYBBQUCoIIBejCCAXag==")
    );
    assert_eq!(c.challenges[1].realm(), Some("x"));
    let c = parse_one("NTLM TlRMTVNTUAACAAAA");
    assert_eq!(c.challenges[0].token68.as_deref(), Some("TlRMTVNTUAACAAAA"));
    let c = parse_one("Foo a=b");
    assert_eq!(c.challenges[0].token68, None);
    assert_eq!(c.challenges[0].param("a"), Some("b"));
    let c = parse_one("Foo abc=");
    assert_eq!(c.challenges[0].token68.as_deref(), Some("abc="));
}

#[test]
fn ntlm_and_basic_with_empty_realm_in_one_field() {
    let c = parse_one(r#"NTLM,Basic realm="""#);
    assert_eq!(c.schemes(), ["NTLM", "Basic"]);
    assert_eq!(
        codes(&c),
        ["several-challenges-in-one-field", "empty-realm"]
    );
}

#[test]
fn semicolon_after_scheme() {
    let c = parse_one(r#"Basic; realm="x""#);
    assert_eq!(c.challenges.len(), 1);
    assert_eq!(c.challenges[0].realm(), Some("x"));
    assert_eq!(codes(&c), ["semicolon-separator"]);
}

#[test]
fn unquoted_realm_with_spaces() {
    let c = parse_one("Basic realm=My Company Realm");
    assert_eq!(c.challenges[0].realm(), Some("My Company Realm"));
    assert_eq!(codes(&c), ["unquoted-value-with-spaces"]);
}

#[test]
fn duplicate_params_and_missing_comma() {
    let c = parse_one(r#"Digest realm="a" realm="b", nonce="n""#);
    assert_eq!(codes(&c), ["missing-comma", "duplicate-parameter"]);
    assert_eq!(c.challenges[0].realm(), Some("a"));
}

#[test]
fn empty_and_param_only_fields() {
    assert_eq!(codes(&parse_one("  ")), ["empty-field"]);
    let c = parse_one(r#"realm="x""#);
    assert!(c.challenges.is_empty());
    assert_eq!(codes(&c), ["parameter-without-scheme"]);
}

#[test]
fn digest_rules() {
    let c = parse_one("Digest algorithm=MD5");
    assert_eq!(codes(&c), ["missing-realm", "missing-nonce"]);
}

#[test]
fn single_quotes_and_unterminated() {
    let c = parse_one("Basic realm='x'");
    assert_eq!(codes(&c), ["single-quoted-value"]);
    let c = parse_one(r#"Basic realm="x"#);
    assert_eq!(codes(&c), ["unterminated-quoted-string"]);
    assert_eq!(c.challenges[0].realm(), Some("x"));
}

#[test]
fn canonical_format() {
    let c = parse_one(r#"digest REALM=api ,nonce="abc",   algorithm=SHA-256, stale=true"#);
    assert_eq!(
        c.to_header_value(),
        r#"digest REALM="api", nonce="abc", algorithm=SHA-256, stale=true"#
    );
}

#[test]
fn comma_right_after_the_scheme_ends_the_challenge() {
    // Only a space opens the parameter list (RFC 9110 §11.1): `realm` belongs to no challenge.
    let c = parse_one(r#"Basic, realm="foo""#);
    assert_eq!(c.schemes(), ["Basic"]);
    assert_eq!(c.challenges[0].realm(), None);
    assert_eq!(codes(&c), ["comma-after-scheme", "missing-realm"]);
    assert!(c.lints[0].drops_text());
    assert!(
        c.lints[0]
            .to_string()
            .contains(r#"write `Basic realm="foo"`"#)
    );
    // Every later parameter up to the next scheme is dropped too.
    let c = parse_one(r#"Basic,realm="foo", charset="UTF-8", Bearer realm="api""#);
    assert_eq!(c.schemes(), ["Basic", "Bearer"]);
    assert_eq!(c.challenges[0].params, []);
    assert_eq!(c.challenges[1].realm(), Some("api"));
    assert_eq!(
        codes(&c),
        [
            "comma-after-scheme",
            "comma-after-scheme",
            "several-challenges-in-one-field",
            "missing-realm"
        ]
    );
    // With the space, the comma is an empty list element and the realm is Basic's.
    let c = parse_one(r#"Basic , realm="foo""#);
    assert_eq!(c.challenges[0].realm(), Some("foo"));
    assert_eq!(codes(&c), Vec::<&str>::new());
    // A scheme without parameters followed by another challenge is fine.
    let c = parse_one(r#"Newauth, Basic realm="basic""#);
    assert_eq!(c.schemes(), ["Newauth", "Basic"]);
    assert_eq!(c.challenges[1].realm(), Some("basic"));
    assert_eq!(codes(&c), ["several-challenges-in-one-field"]);
}

#[test]
fn token_values_with_non_tchar_characters_are_flagged() {
    let c = parse_one(r"Basic realm=\f\o\o");
    assert_eq!(c.challenges[0].realm(), Some(r"\f\o\o"));
    assert_eq!(codes(&c), ["invalid-token-value"]);
    assert!(c.lints[0].is_harmful());
    assert!(c.lints[0].to_string().contains(r#"realm="\\f\\o\\o""#));
    let c = parse_one(r#"Newauth realm="x", a=b=c, d=e/f, g=(h)"#);
    assert_eq!(c.challenges[0].param("a"), Some("b=c"));
    assert_eq!(
        codes(&c),
        [
            "invalid-token-value",
            "invalid-token-value",
            "invalid-token-value"
        ]
    );
    // An empty unquoted value is no token either.
    let c = parse_one(r#"Newauth realm="x", a="#);
    assert_eq!(c.challenges[0].param("a"), Some(""));
    assert_eq!(codes(&c), ["invalid-token-value"]);
    assert!(c.lints[0].to_string().contains(r#"a="""#));
    // Every tchar is fine unquoted.
    let c = parse_one(r#"Newauth realm="x", a=!#$%&'*+-.^_`|~09AZaz"#);
    assert_eq!(codes(&c), Vec::<&str>::new());
}

#[test]
fn unquoted_realm_is_a_warning_but_still_read() {
    let c = parse_one("Basic realm=foo");
    assert_eq!(c.challenges[0].realm(), Some("foo"));
    assert_eq!(codes(&c), ["unquoted-realm"]);
    assert!(c.lints[0].is_harmful());
    assert!(c.lints[0].to_string().contains(r#"realm="foo""#));
    // Other parameters may be tokens; a realm with spaces or quotes gets its own lint only.
    let c = parse_one(r#"Digest REALM=api, nonce=abc, algorithm=SHA-256"#);
    assert_eq!(codes(&c), ["unquoted-realm"]);
    assert_eq!(
        codes(&parse_one("Basic realm='foo'")),
        ["single-quoted-value"]
    );
    assert_eq!(
        codes(&parse_one("Basic realm=My Realm")),
        ["unquoted-value-with-spaces"]
    );
}

#[test]
fn obs_fold_is_joined_and_reported() {
    let c = parse_one("Basic\r\n realm=\"foo\"");
    assert_eq!(c.challenges[0].realm(), Some("foo"));
    assert_eq!(codes(&c), ["obs-fold"]);
    assert!(c.lints[0].is_harmful());
    // A bare LF fold, a fold between parameters and one inside a quoted-string.
    let c = parse_one("Digest realm=\"a\n\t b\",\r\n\tnonce=\"n\"");
    assert_eq!(c.challenges[0].realm(), Some("a b"));
    assert_eq!(c.challenges[0].param("nonce"), Some("n"));
    assert_eq!(codes(&c), ["obs-fold"]);
    // A line break not followed by whitespace is no fold: read as a space, and reported.
    let c = parse_one("Basic realm=\"a\rb\"");
    assert_eq!(c.challenges[0].realm(), Some("a b"));
    assert_eq!(codes(&c), ["forbidden-character"]);
    assert_eq!(
        codes(&parse_one("\r\n")),
        ["forbidden-character", "empty-field"]
    );
}

fn arb_token() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,8}"
}

fn arb_challenge() -> impl Strategy<Value = Challenge> {
    let params = proptest::collection::vec((arb_token(), "[ -~]{0,12}"), 0..4);
    let t68 = proptest::option::of("[A-Za-z0-9+/]{1,20}={0,2}");
    (arb_token(), t68, params).prop_map(|(scheme, token68, params)| {
        let mut c = Challenge::new(scheme);
        if let Some(t) = token68 {
            c.token68 = Some(t);
        } else {
            let mut seen: Vec<String> = Vec::new();
            for (name, value) in params {
                if !seen.iter().any(|s| s.eq_ignore_ascii_case(&name)) {
                    seen.push(name.clone());
                    c.params.push(AuthParam { name, value });
                }
            }
        }
        c
    })
}

#[test]
fn fuzz_regressions() {
    // A vertical tab is not HTTP whitespace: it is a (bad) scheme, and stays one when formatted.
    let once = parse_one("\u{b},");
    assert_eq!(
        once.challenges,
        parse_one(&once.to_header_value()).challenges
    );
    // A `;` after a trimmed value with multi-byte text before it.
    let c = parse_one("A b=\u{e28}\u{e28} ;c=\"d\"");
    assert_eq!(c.challenges[0].param("b"), Some("\u{e28}\u{e28}"));
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC*") {
        let _ = parse_one(&s);
    }

    #[test]
    fn never_panics_on_header_like_text(s in "[A-Za-z ,;=\"\\\\'\t]{0,40}") {
        let c = parse_one(&s);
        let _ = c.to_header_value();
    }

    #[test]
    fn format_then_parse_round_trips(cs in proptest::collection::vec(arb_challenge(), 1..4)) {
        let header = Challenges { challenges: cs.clone(), lints: vec![] }.to_header_value();
        let parsed = parse_one(&header);
        prop_assert_eq!(parsed.challenges, cs);
    }

    #[test]
    fn folding_at_separators_changes_nothing_but_the_lint(
        cs in proptest::collection::vec(arb_challenge(), 1..4),
        fold in prop_oneof!["\r\n ", "\r\n\t", "\n ", "\r\n \t "],
    ) {
        // Values without whitespace, so every space in the canonical form is a separator.
        let cs: Vec<Challenge> = cs
            .into_iter()
            .map(|mut c| {
                for p in &mut c.params {
                    p.value.retain(|ch| ch != ' ');
                }
                c
            })
            .collect();
        let header = Challenges { challenges: cs, lints: vec![] }.to_header_value();
        let flat = parse_one(&header);
        let folded = parse_one(&header.replace(' ', &fold));
        prop_assert_eq!(&folded.challenges, &flat.challenges);
        let mut expected = flat.lints.clone();
        if header.contains(' ') {
            expected.insert(0, ChallengeLint::ObsFold);
        }
        prop_assert_eq!(folded.lints, expected);
    }

    #[test]
    fn several_fields_format_as_one_that_parses_the_same(
        s in "[A-Za-z0-9 ,;=\"'\\\\\t\r\n\u{b}\u{e9}]{0,60}"
    ) {
        // What the fuzz target checks: fields split at LF, formatted as one field.
        let once = parse(s.split('\n'));
        let again = parse_one(&once.to_header_value());
        prop_assert_eq!(once.challenges, again.challenges);
    }

    #[test]
    fn parse_is_idempotent_through_format_with_breaks_and_quotes(
        s in "[A-Za-z0-9 ,;=\"'\\\\\t\r\n]{0,40}"
    ) {
        let once = parse_one(&s);
        let again = parse_one(&once.to_header_value());
        prop_assert_eq!(once.challenges, again.challenges);
    }

    #[test]
    fn parse_is_idempotent_through_format(s in "[A-Za-z0-9 ,=\"]{0,40}") {
        let once = parse_one(&s);
        let again = parse_one(&once.to_header_value());
        prop_assert_eq!(once.challenges, again.challenges);
    }
}
