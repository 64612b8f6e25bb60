//! `why401 gate check` as a user runs it: the demo policy without a config, a config of one's
//! own, the exit statuses, and a bad configuration refused with every error where it is.

use assert_cmd::Command;
use serde_json::Value;

fn gate(args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("why401")
        .unwrap()
        .arg("gate")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn check_names_the_rule_the_misses_before_it_and_the_answer() {
    // The embedded demo: /admin/ is for group:admins, everyone else is refused there.
    let (code, out, _) = gate(&[
        "check",
        "--url",
        "http://127.0.0.1/admin/x",
        "--user",
        "bob",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bob (no group) is not group:admins"), "{out}");
    assert!(
        out.contains("match no-admin-for-others  embedded:demo.toml:23  deny"),
        "{out}"
    );
    assert!(
        out.contains("=> 403 Forbidden: bob is authenticated but not allowed"),
        "{out}"
    );

    let (code, out, _) = gate(&["check", "--url", "http://127.0.0.1/admin/x", "--json"]);
    assert_eq!(code, 1);
    let j: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["needs_identity"], true);
    assert_eq!(j["rules"][0]["missed_on"], "path");
    assert_eq!(j["rules"][1]["name"], "admin");

    let (code, out, _) = gate(&["check", "--url", "http://127.0.0.1/healthz"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("=> let through without authentication"),
        "{out}"
    );
}

#[test]
fn check_reads_a_config_and_its_time_windows() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        "[[access.rule]]\nname = \"office\"\nhosts = [\"reports.example.com\"]\ntimes = [{ days = \"mon-fri\", hours = \"08:00-18:00\", tz = \"Europe/Paris\" }]\npolicy = \"bypass\"\n",
    )
    .unwrap();
    let cfg = cfg.to_str().unwrap();
    let url = "https://reports.example.com/q1";
    let (code, out, _) = gate(&[
        "check",
        "--config",
        cfg,
        "--url",
        url,
        "--at",
        "2026-12-07T09:30:00+01:00",
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = gate(&[
        "check",
        "--config",
        cfg,
        "--url",
        url,
        "--at",
        "2026-12-07T07:30:00+01:00",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("is outside mon-fri 08:00-18:00 Europe/Paris"),
        "{out}"
    );
    assert!(
        out.contains("no rule matched: default_policy = deny"),
        "{out}"
    );
}

#[test]
fn a_bad_config_is_refused_with_every_error_where_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        "[[access.rule]]\npaths = [\"x\"]\nnetworks = [\"lan\"]\npolicy = \"deny\"\n",
    )
    .unwrap();
    let (code, out, err) = gate(&[
        "check",
        "--config",
        cfg.to_str().unwrap(),
        "--url",
        "http://a/",
    ]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty());
    let name = cfg.display().to_string();
    assert!(
        err.contains(&format!("{name}:2:10: \"x\": a path starts with `/`")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}:3:13: \"lan\" is not a network")),
        "{err}"
    );
    assert!(
        err.contains("2 errors: the gateway would refuse to start"),
        "{err}"
    );
}
