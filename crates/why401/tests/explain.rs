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
