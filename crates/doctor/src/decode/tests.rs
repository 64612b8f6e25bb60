use super::*;
use proptest::prelude::*;
use why401_wire::{b64, ntlm};

const NOW: i64 = 1_795_000_000;

fn ctx() -> Context {
    Context {
        now: NOW,
        leeway: 60,
        ..Context::default()
    }
}

fn ids(d: &Decoded) -> Vec<&str> {
    d.findings.iter().map(|f| f.id.as_str()).collect()
}

fn jwt(header: &str, claims: &str) -> String {
    format!(
        "{}.{}.c2ln",
        b64::encode_url(header.as_bytes()),
        b64::encode_url(claims.as_bytes())
    )
}

#[test]
fn header_line_with_semicolon_is_a_malformed_challenge() {
    let d = decode_text(r#"WWW-Authenticate: Basic; realm="intranet""#, &ctx());
    assert_eq!(d.items[0].what, "WWW-Authenticate");
    assert_eq!(ids(&d), ["malformed-challenge"]);
    assert!(d.findings[0].fix[0].contains(r#"Basic realm="intranet""#));
}

#[test]
fn comma_after_scheme_is_malformed_and_not_fixed_by_dropping_the_realm() {
    let d = decode_text(r#"WWW-Authenticate: Basic, realm="intranet""#, &ctx());
    assert_eq!(ids(&d), ["malformed-challenge"]);
    let f = &d.findings[0];
    assert!(
        f.evidence
            .iter()
            .any(|e| e.starts_with("[comma-after-scheme]")
                && e.contains(r#"write `Basic realm="intranet"`"#)),
        "{:?}",
        f.evidence
    );
    // The canonical form would be a bare `Basic`: no fix may suggest that.
    assert!(
        f.fix.iter().all(|s| !s.starts_with("send it as")),
        "{:?}",
        f.fix
    );
}

#[test]
fn unquoted_realm_is_malformed_with_the_quoted_fix() {
    let d = decode_text("WWW-Authenticate: Basic realm=intranet", &ctx());
    assert_eq!(ids(&d), ["malformed-challenge"]);
    assert!(d.findings[0].fix[0].contains(r#"Basic realm="intranet""#));
}

#[test]
fn expired_jwt_in_bearer_says_by_how_much() {
    let t = jwt(
        r#"{"alg":"RS256","kid":"k1"}"#,
        &format!(
            r#"{{"iss":"https://idp","aud":"api","exp":{},"iat":{}}}"#,
            NOW - 3 * 3600,
            NOW - 4 * 3600
        ),
    );
    let d = decode_text(&format!("Authorization: Bearer {t}"), &ctx());
    assert_eq!(ids(&d), ["token-expired"]);
    assert_eq!(d.findings[0].title, "the token expired 3h 0m ago");
    let jwt_item = &d.items[0].children[0];
    assert_eq!(jwt_item.what, "JWT");
    assert!(jwt_item.input.ends_with("(signature redacted)"));
    assert!(!d.items[0].input.contains(&t), "the token must be redacted");
}

#[test]
fn bearer_bearer_and_expectations() {
    let t = jwt(
        r#"{"alg":"none"}"#,
        &format!(
            r#"{{"aud":["a"],"iss":"x","scp":"read","exp":{}}}"#,
            NOW + 600
        ),
    );
    let mut c = ctx();
    c.expect = Expectations {
        audience: Some("api://orders".into()),
        issuer: Some("y".into()),
        scopes: vec!["write".into()],
    };
    let d = decode_text(&format!("Bearer Bearer {t}"), &c);
    let got = ids(&d);
    for want in [
        "malformed-credentials",
        "jwt-alg-none",
        "token-audience-mismatch",
        "token-issuer-mismatch",
        "insufficient-scope",
    ] {
        assert!(got.contains(&want), "{want} missing from {got:?}");
    }
}

#[test]
fn basic_credentials_hide_the_password() {
    let d = decode_text("Authorization: Basic YWxpY2U6czNjcmV0", &ctx());
    let f = &d.items[0].fields;
    assert!(f.iter().any(|f| f.name == "user" && f.value == "\"alice\""));
    assert!(
        f.iter()
            .any(|f| f.name == "password" && f.value.starts_with("(6 characters"))
    );
    assert!(d.findings.is_empty());
    let shown = decode_text(
        "YWxpY2U6czNjcmV0",
        &Context {
            show_secrets: true,
            ..ctx()
        },
    );
    assert!(
        shown.items[0]
            .fields
            .iter()
            .any(|f| f.name == "password" && f.value == "s3cret")
    );
}

#[test]
fn bearer_error_challenges() {
    let d = decode_text(
        r#"WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="The access token expired""#,
        &ctx(),
    );
    assert_eq!(ids(&d), ["server-rejected-token"]);
    assert!(d.findings[0].title.contains("The access token expired"));
    let d = decode_text(
        r#"Bearer error="insufficient_scope", scope="orders:write""#,
        &ctx(),
    );
    assert_eq!(ids(&d), ["insufficient-scope"]);
    let d = decode_text(
        r#"Bearer error="insufficient_user_authentication", acr_values="mfa""#,
        &ctx(),
    );
    assert_eq!(ids(&d), ["step-up-required"]);
}

#[test]
fn entra_claims_challenges() {
    // Microsoft Graph's CAE challenge, as Learn's "Claims challenges" page quotes it.
    let d = decode_text(
        r#"WWW-Authenticate: Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwgInZhbHVlIjoiMTYwNDEwNjY1MSJ9fX0=""#,
        &ctx(),
    );
    // Graph's empty realm is only a note after it.
    assert_eq!(ids(&d), ["token-revoked-cae", "malformed-challenge"]);
    assert_eq!(d.findings[1].severity, crate::Severity::Info);
    let f = &d.findings[0];
    assert!(f.title.contains("2020-10-31 01:10:51 UTC"), "{}", f.title);
    assert!(
        f.evidence.iter().any(|e| e.contains(r#""nbf""#)),
        "{:?}",
        f.evidence
    );
    // An authentication context (conditional access step-up) is a step-up, not a revocation.
    let acrs =
        why401_wire::b64::encode(br#"{"access_token":{"acrs":{"essential":true,"value":"c1"}}}"#);
    let d = decode_text(
        &format!(r#"Bearer error="insufficient_claims", claims="{acrs}""#),
        &ctx(),
    );
    assert_eq!(ids(&d), ["step-up-required"]);
    assert!(d.findings[0].title.contains("c1"));
}

#[test]
fn an_entra_access_token_is_named() {
    let t = jwt(
        r#"{"alg":"RS256","typ":"JWT"}"#,
        r#"{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","roles":["User.Read.All"],"tid":"72f988bf-86f1-41af-91ab-2d7cd011db47","ver":"1.0","idtyp":"app","exp":4102444800}"#,
    );
    let d = decode_text(&format!("Authorization: Bearer {t}"), &ctx());
    let jwt = &d.items[0].children[0];
    let field = |name: &str| jwt.fields.iter().find(|f| f.name == name).unwrap();
    assert!(
        field("aud")
            .note
            .as_deref()
            .unwrap()
            .ends_with("Microsoft Graph")
    );
    assert!(
        field("appid")
            .note
            .as_deref()
            .unwrap()
            .ends_with("Microsoft Azure CLI")
    );
    assert!(field("iss").note.as_deref().unwrap().contains("v1 issuer"));
    let summary = field("Entra ID");
    assert!(
        summary
            .value
            .starts_with("access token for Microsoft Graph"),
        "{}",
        summary.value
    );
    assert!(
        summary
            .note
            .as_deref()
            .unwrap()
            .starts_with("application permissions")
    );
}

#[test]
fn delegated_and_application_permissions_are_told_apart() {
    let app_token = jwt(
        r#"{"alg":"RS256"}"#,
        r#"{"aud":"https://graph.microsoft.com","iss":"https://sts.windows.net/t/","roles":["Sites.Read.All"],"exp":4102444800}"#,
    );
    let mut c = ctx();
    c.expect.scopes = vec!["Sites.Read.All".into()];
    let d = decode_text(&format!("Authorization: Bearer {app_token}"), &c);
    assert_eq!(ids(&d), ["insufficient-scope"]);
    assert!(
        d.findings[0]
            .title
            .contains("application permission (roles)"),
        "{}",
        d.findings[0].title
    );
    c.expect.scopes = vec!["Mail.Send".into()];
    let d = decode_text(&format!("Authorization: Bearer {app_token}"), &c);
    assert!(
        d.findings[0]
            .evidence
            .iter()
            .any(|e| e.starts_with("this is an application token")),
        "{:?}",
        d.findings[0].evidence
    );
}

#[test]
fn a_graph_token_expected_for_sharepoint_names_both() {
    let t = jwt(
        r#"{"alg":"RS256"}"#,
        r#"{"aud":"00000003-0000-0000-c000-000000000000","exp":4102444800}"#,
    );
    let mut c = ctx();
    c.expect.audience = Some("https://contoso.sharepoint.com".into());
    let d = decode_text(&format!("Authorization: Bearer {t}"), &c);
    assert_eq!(ids(&d), ["token-audience-mismatch"]);
    let title = &d.findings[0].title;
    assert!(
        title.contains("(Microsoft Graph)") && title.contains("SharePoint Online)"),
        "{title}"
    );
    // Graph by URI is Graph by app id: no mismatch.
    c.expect.audience = Some("https://graph.microsoft.com".into());
    let d = decode_text(&format!("Authorization: Bearer {t}"), &c);
    assert!(ids(&d).is_empty(), "{:?}", ids(&d));
}

#[test]
fn an_entra_v1_token_for_an_api_that_expects_v2() {
    let t = jwt(
        r#"{"alg":"RS256"}"#,
        r#"{"aud":"api://orders","iss":"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/","exp":4102444800}"#,
    );
    let mut c = ctx();
    c.expect.issuer =
        Some("https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0".into());
    let d = decode_text(&format!("Authorization: Bearer {t}"), &c);
    assert_eq!(ids(&d), ["token-issuer-mismatch"]);
    assert!(
        d.findings[0].title.contains("v1 token, the API expects v2"),
        "{}",
        d.findings[0].title
    );
    assert!(d.findings[0].fix[0].contains("accessTokenAcceptedVersion"));
}

#[test]
fn entra_token_errors_and_api_error_bodies() {
    // A token endpoint's conditional-access refusal, as Entra writes it (pretty-printed).
    let d = decode_text(
        r#"{
  "error": "interaction_required",
  "error_description": "AADSTS53003: Access has been blocked by Conditional Access policies. The access policy does not allow token issuance. Trace ID: 0c1 Correlation ID: 9f2 Timestamp: 2026-12-06 10:00:00Z",
  "error_codes": [53003],
  "timestamp": "2026-12-06 10:00:00Z",
  "trace_id": "0c1",
  "correlation_id": "9f2",
  "suberror": "message_only"
}"#,
        &ctx(),
    );
    assert_eq!(ids(&d), ["conditional-access-blocked"]);
    assert!(
        d.findings[0].title.starts_with("AADSTS53003"),
        "{}",
        d.findings[0].title
    );
    assert!(
        d.findings[0]
            .evidence
            .iter()
            .any(|e| e == "correlation_id: 9f2")
    );
    // Microsoft Graph's body for an expired token.
    let d = decode_text(
        r#"{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired.","innerError":{"date":"2026-12-06T10:00:00","request-id":"8e1","client-request-id":"8e1"}}}"#,
        &ctx(),
    );
    assert_eq!(ids(&d), ["server-rejected-token"]);
    assert!(
        d.findings[0]
            .evidence
            .iter()
            .any(|e| e == "request-id: 8e1")
    );
}

#[test]
fn ntlm_challenge_shows_server_clock() {
    let m = ntlm::encode_challenge(
        0xe2898215,
        "CORP",
        [1; 8],
        &[
            ntlm::AvPair::NbDomainName("CORP".into()),
            ntlm::AvPair::Timestamp(NOW - 600),
        ],
    );
    let d = decode_text(
        &format!("WWW-Authenticate: NTLM {}", b64::encode(&m)),
        &ctx(),
    );
    let ch = &d.items[0].children[0].children[0];
    assert_eq!(ch.what, "NTLM CHALLENGE (type 2)");
    assert!(
        ch.fields
            .iter()
            .any(|f| f.name == "MsvAvTimestamp" && f.value.contains("10m ago"))
    );
}

#[test]
fn raw_ntlm_inside_negotiate_is_a_fallback() {
    let t = b64::encode(&ntlm::encode_negotiate(0xe2088297));
    let d = decode_text(&format!("Authorization: Negotiate {t}"), &ctx());
    assert_eq!(ids(&d), ["kerberos-fallback-to-ntlm"]);
    // The same token under NTLM is just NTLM.
    let d = decode_text(&format!("Authorization: NTLM {t}"), &ctx());
    assert!(d.findings.is_empty());
}

/// Kerberos GSS tokens carrying a KRB-ERROR for HTTP/web.corp.example in CORP.EXAMPLE, as an
/// acceptor answers in `WWW-Authenticate: Negotiate`: error-code 70, and 30 (unassigned).
const KRB_ERROR_70: &str = "YG0GCSqGSIb3EgECAgMAfl4wXKADAgEFoQMCAR6kERgPMjAyNDAxMDExMjAwMDBapQMCAQCmAwIBRqkOGwxDT1JQLkVYQU1QTEWqIzAhoAMCAQKhGjAYGwRIVFRQGxB3ZWIuY29ycC5leGFtcGxl";
const KRB_ERROR_30: &str = "YG0GCSqGSIb3EgECAgMAfl4wXKADAgEFoQMCAR6kERgPMjAyNDAxMDExMjAwMDBapQMCAQCmAwIBHqkOGwxDT1JQLkVYQU1QTEWqIzAhoAMCAQKhGjAYGwRIVFRQGxB3ZWIuY29ycC5leGFtcGxl";

fn krb_error_field(d: &Decoded) -> &Field {
    fn find(items: &[Item]) -> Option<&Item> {
        items.iter().find_map(|i| {
            (i.what == "Kerberos KRB-ERROR")
                .then_some(i)
                .or_else(|| find(&i.children))
        })
    }
    let krb = find(&d.items).unwrap_or_else(|| panic!("no KRB-ERROR in {:#?}", d.items));
    krb.fields
        .iter()
        .find(|f| f.name == "error")
        .expect("error field")
}

#[test]
fn a_krb_error_is_named_by_the_catalogue() {
    let d = decode_text(
        &format!("WWW-Authenticate: Negotiate {KRB_ERROR_70}"),
        &ctx(),
    );
    let f = krb_error_field(&d);
    assert_eq!(f.value, "KDC_ERR_CANT_VERIFY_CERTIFICATE (70)");
    assert_eq!(f.note.as_deref(), Some("Can't verify certificate."));
    assert_eq!(ids(&d), ["kerberos-error"]);
    assert!(
        d.findings[0]
            .title
            .contains("KDC_ERR_CANT_VERIFY_CERTIFICATE"),
        "{}",
        d.findings[0].title
    );
    // A number the catalogue has no entry for is shown as such, not dropped.
    let d = decode_text(
        &format!("WWW-Authenticate: Negotiate {KRB_ERROR_30}"),
        &ctx(),
    );
    assert_eq!(krb_error_field(&d).value, "unknown Kerberos error (30)");
}

#[test]
fn set_cookie_lints() {
    let d = decode_text("Set-Cookie: sid=abc; SameSite=None; Path=/", &ctx());
    assert_eq!(ids(&d), ["cookie-insecure-samesite-none"]);
    let d = decode_text("Set-Cookie: __Host-sid=abc; Secure; Path=/app", &ctx());
    assert_eq!(ids(&d), ["cookie-prefix-violation"]);
}

#[test]
fn unknown_input_is_an_error_not_a_panic() {
    let d = decode_text("Content-Type: text/html", &ctx());
    assert!(d.items.is_empty());
    assert_eq!(d.errors.len(), 1);
    let d = decode_text("hello world\nBasic realm=x", &ctx());
    assert_eq!(
        d.errors,
        ["line 1: cannot tell what `hello world` is: not a header, a challenge or a token"]
    );
    assert_eq!(d.items.len(), 1);
}

#[test]
fn latin1_realm_decodes_with_a_warning_naming_the_byte() {
    let d = decode_bytes(b"WWW-Authenticate: Basic realm=\"Soci\xe9t\xe9\"", &ctx());
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    assert_eq!(d.items[0].what, "WWW-Authenticate");
    assert!(d.items[0].input.contains("Société"), "{}", d.items[0].input);
    assert_eq!(ids(&d), ["non-utf8-bytes"]);
    assert_eq!(
        d.findings[0].title,
        "2 bytes are not UTF-8 (the first, 0xE9, at offset 35); read as ISO-8859-1"
    );
    assert_eq!(d.findings[0].severity, crate::Severity::Warning);
    // Several lines: the line is named and offsets count within it.
    let d = decode_bytes(
        b"WWW-Authenticate: Basic realm=\"a\"\r\nWWW-Authenticate: Basic realm=\"\xe9\"\r\n",
        &ctx(),
    );
    assert_eq!(d.items.len(), 2);
    assert_eq!(
        d.findings[0].title,
        "line 2: byte 0xE9 at offset 31 is not UTF-8; read as ISO-8859-1 'é'"
    );
    // All UTF-8: the same as decode_text.
    let t = "WWW-Authenticate: Basic realm=\"Société\"";
    assert_eq!(decode_bytes(t.as_bytes(), &ctx()), decode_text(t, &ctx()));
}

proptest! {
    #[test]
    fn bytes_never_panic(b in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = decode_bytes(&b, &ctx());
    }

    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let _ = decode_text(&s, &ctx());
    }

    #[test]
    fn never_panics_on_header_shapes(name in prop::sample::select(vec!["WWW-Authenticate", "Authorization", "Set-Cookie", "Cookie", "Proxy-Authenticate"]),
                                     scheme in prop::sample::select(vec!["Basic", "Bearer", "Digest", "NTLM", "Negotiate", "DPoP", ""]),
                                     rest in "[A-Za-z0-9+/=,;\" ._-]{0,80}") {
        let _ = decode_text(&format!("{name}: {scheme} {rest}"), &ctx());
        let _ = decode_text(&format!("{scheme} {rest}"), &ctx());
    }
}
