//! `why401 explain`, end to end through the real binary.

use assert_cmd::Command;
use predicates::prelude::*;

fn explain(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("why401")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("explain")
        .args(args)
        .assert()
}

#[test]
fn iis_substatus() {
    explain(&["401.2"])
        .success()
        .stdout(predicate::str::starts_with("IIS substatus 401.2"))
        .stdout(predicate::str::contains("401 2 5"));
}

#[test]
fn log_triple_without_quotes_is_normal_first_leg() {
    explain(&["401", "2", "5"])
        .success()
        .stdout(predicate::str::contains(
            "normal: anonymous first leg of an NTLM/Negotiate handshake",
        ))
        .stdout(predicate::str::contains("ERROR_ACCESS_DENIED"));
}

#[test]
fn log_triple_with_hresult_decimal() {
    explain(&["401 1 2148074254"])
        .success()
        .stdout(predicate::str::contains("SEC_E_NO_CREDENTIALS"))
        .stdout(predicate::str::contains("sc-substatus 1"));
    explain(&["401 1 1326"])
        .success()
        .stdout(predicate::str::contains(
            "fault: logon failure: unknown user name or bad password",
        ));
}

#[test]
fn every_code_form() {
    for (q, expect) in [
        ("2148074254", "SEC_E_NO_CREDENTIALS"),
        ("0x8009030E", "SEC_E_NO_CREDENTIALS"),
        ("0xC000006D", "STATUS_LOGON_FAILURE"),
        ("52e", "LDAP data code 52e"),
        ("1909", "ERROR_ACCOUNT_LOCKED_OUT"),
        ("KRB_AP_ERR_SKEW", "Kerberos error 37"),
        ("-2146893044", "SEC_E_LOGON_DENIED"),
        ("credentials-rejected", "error[credentials-rejected]"),
    ] {
        explain(&[q])
            .success()
            .stdout(predicate::str::contains(expect));
    }
}

#[test]
fn unknown_exits_2_with_suggestions() {
    explain(&["credential-rejected"])
        .code(2)
        .stderr(predicate::str::contains(
            "did you mean: credentials-rejected",
        ));
}

#[test]
fn json_and_list() {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["explain", "--json", "0xC0000234"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["version"], 1);
    assert_eq!(j["result"]["entry"]["name"], "STATUS_ACCOUNT_LOCKED_OUT");
    explain(&["--list"])
        .success()
        .stdout(predicate::str::contains("iis-401.50x-ip-restriction"))
        .stdout(predicate::str::contains("hresult:0x80090346"));
}

#[test]
fn kerberos_codes_as_windows_events_and_mit_print_them() {
    for q in [
        "0x18",
        "Failure Code: 0x18",
        "Failure Code:\t\t0x18",
        "Result Code: 0x18",
        "-1765328360",
        "KRB5KDC_ERR_PREAUTH_FAILED",
        "KDC_ERR_PREAUTH_FAILED",
    ] {
        explain(&[q]).success().stdout(predicate::str::starts_with(
            "Kerberos error 24 = 0x18 (KDC_ERR_PREAUTH_FAILED)",
        ));
    }
    // Pasted without quotes, the words arrive as separate arguments.
    explain(&["Failure", "Code:", "0x25"])
        .success()
        .stdout(predicate::str::contains("KRB_AP_ERR_SKEW"));
    explain(&["KRB5KRB_AP_ERR_SKEW"])
        .success()
        .stdout(predicate::str::contains("Kerberos error 37 = 0x25"));
    // MIT's (and RFC 4556's) own spelling of a name leads to the entry, which shows it.
    explain(&["KRB5KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED"])
        .success()
        .stdout(predicate::str::starts_with(
            "Kerberos error 65 = 0x41 (KDC_ERR_KEY_TOO_WEAK)",
        ))
        .stdout(predicate::str::contains(
            "also written: KDC_ERR_DH_KEY_PARAMETERS_NOT_ACCEPTED",
        ));
    for (q, name) in [
        ("0x6", "KDC_ERR_C_PRINCIPAL_UNKNOWN"),
        ("0x7", "KDC_ERR_S_PRINCIPAL_UNKNOWN"),
        ("0x12", "KDC_ERR_CLIENT_REVOKED"),
        ("0x17", "KDC_ERR_KEY_EXPIRED"),
        ("0x25", "KRB_AP_ERR_SKEW"),
    ] {
        explain(&[q])
            .success()
            .stdout(predicate::str::contains(name));
    }
}

#[test]
fn a_bare_number_of_two_kinds_is_ambiguous_but_its_event_label_is_not() {
    explain(&["0x5"])
        .success()
        .stdout(predicate::str::contains("several entries match"))
        .stdout(predicate::str::contains("win32:5"))
        .stdout(predicate::str::contains("kerberos:5"));
    explain(&["Failure Code: 0x5"])
        .success()
        .stdout(predicate::str::starts_with("Kerberos error 5"));
    // The label names a kind; a value of another kind is not one of its codes.
    explain(&["Failure Code: 0xC000006D"])
        .code(2)
        .stderr(predicate::str::contains("is not a code or finding id"));
}

#[test]
fn logon_failure_statuses_of_4625_and_4776() {
    for (q, name) in [
        ("0xC000018C", "STATUS_TRUSTED_DOMAIN_FAILURE"),
        ("0xC000018D", "STATUS_TRUSTED_RELATIONSHIP_FAILURE"),
        ("0xC0000199", "STATUS_NOLOGON_WORKSTATION_TRUST_ACCOUNT"),
        ("0xC000005E", "STATUS_NO_LOGON_SERVERS"),
        ("0xC00002EE", "STATUS_UNFINISHED_CONTEXT_DELETED"),
        ("Sub Status: 0xC0000064", "STATUS_NO_SUCH_USER"),
        ("Error Code:\t0xC0000371", "STATUS_NO_SECRETS"),
    ] {
        explain(&[q])
            .success()
            .stdout(predicate::str::starts_with("NTSTATUS"))
            .stdout(predicate::str::contains(name))
            .stdout(predicate::str::contains("What to do"));
    }
}

#[test]
fn iis_statuses_beside_a_401() {
    for (q, expect) in [
        ("403.14", "IIS substatus 403.14"),
        ("403.502", "IIS substatus 403.502"),
        ("403.22", "IIS substatus 403.22"),
        ("500.19", "IIS substatus 500.19"),
        ("0x80070021", "HRESULT 0x80070021 = 2147942433"),
        ("HRESULT: 0x8007000d", "HRESULT 0x8007000D = 2147942413"),
    ] {
        explain(&[q])
            .success()
            .stdout(predicate::str::starts_with(expect));
    }
}

#[test]
fn unknown_forms_exit_2_with_suggestions() {
    explain(&["KRB5KDC_ERR_PREAUTH_FAILD"])
        .code(2)
        .stderr(predicate::str::contains("did you mean:"))
        .stderr(predicate::str::contains("KDC_ERR_PREAUTH_FAILED"));
    explain(&["403.99"])
        .code(2)
        .stderr(predicate::str::contains("did you mean:"));
}

/// `explain` and the logs table take a triple's meaning from one place: for every combination
/// the catalogue knows (and some it does not), the page leads with the logs table's words.
#[test]
fn a_triple_means_the_same_in_explain_and_in_logs() {
    let cat = why401_catalogue::catalogue();
    let mut triples: Vec<(u16, u32, u64)> = cat
        .combos
        .iter()
        .map(|c| (c.status, c.substatus, c.win32.parse().unwrap()))
        .collect();
    triples.extend([(401, 3, 1331), (403, 14, 0), (401, 0, 3221225578)]);
    for (status, substatus, win32) in triples {
        let meaning = cat.triple_meaning(status, substatus, win32);
        assert!(!meaning.is_empty(), "{status} {substatus} {win32}");
        let q = format!("{status} {substatus} {win32}");
        let out = Command::cargo_bin("why401")
            .unwrap()
            .env("NO_COLOR", "1")
            .env("COLUMNS", "400")
            .args(["explain", &q])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let headline = text.lines().nth(1).unwrap_or_default();
        assert!(
            headline.ends_with(&meaning)
                && ["normal: ", "fault: ", "meaning: "]
                    .iter()
                    .any(|l| headline.starts_with(l)),
            "{q}: {headline:?} vs {meaning:?}"
        );
        let json = Command::cargo_bin("why401")
            .unwrap()
            .args(["explain", "--json", &q])
            .output()
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(j["result"]["triple"]["meaning"], meaning.as_str(), "{q}");
    }
}
