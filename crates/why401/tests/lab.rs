//! `why401 lab`: every classic 401 reproduced and diagnosed as expected, by the real binary.

use assert_cmd::Command;

#[test]
fn every_scenario_is_diagnosed_as_expected() {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["lab", "--json"])
        .output()
        .unwrap();
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scenarios = j["scenarios"].as_array().unwrap();
    assert!(scenarios.len() >= 16);
    for s in scenarios {
        assert_eq!(s["found"], s["expected"], "{}: {s}", s["scenario"]);
    }
    assert_eq!(j["ok"], true);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_table_shows_each_scenario() {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .env("NO_COLOR", "1")
        .arg("lab")
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("ntlm-wrong-password"), "{text}");
    assert!(
        text.contains("19/19 scenarios diagnosed as expected"),
        "{text}"
    );
}
