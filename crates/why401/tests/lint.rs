//! `why401 lint` against the real nginx: each fixture mistake is served by nginx (started by
//! scripts/peers.sh), linted, and probed, so that the symptom each rule predicts is seen on the
//! wire, and seen gone on the fixed configuration.

use std::process::Command as StdCommand;

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{json_of, peer};

/// `why401 lint FILE --json`.
fn lint(args: &[&str]) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .arg("lint")
            .args(args)
            .arg("--json")
            .output()
            .unwrap(),
    )
}

/// (id, line) of every finding at warning or above.
fn found(j: &Value) -> Vec<(String, u64)> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["at"]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// `why401 URL ARGS --json`: (exit code, final status, finding ids).
fn probe(url: &str, args: &[&str]) -> (i32, u64, Vec<String>) {
    let (code, j) = json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .arg(url)
            .args(args)
            .args(["--json", "--no-siblings", "-k"])
            .env("WHY401_PASSWORD", "s3cret")
            .output()
            .unwrap(),
    );
    let status = j["exchanges"]
        .as_array()
        .and_then(|e| e.last())
        .and_then(|e| e["response"]["status"].as_u64())
        .unwrap_or(0);
    let ids = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect();
    (code, status, ids)
}

#[test]
#[ignore = "needs the nginx serving the lint fixtures: run by scripts/test.sh"]
fn each_nginx_rule_predicts_what_the_real_nginx_does() {
    let conf = peer("WHY401_LINT_NGINX_CONF");
    let dir = std::path::Path::new(&conf).parent().unwrap();
    let bad_conf = dir.join("bad.conf");
    let good_conf = dir.join("good.conf");
    let (bad, good) = (peer("WHY401_LINT_BAD_URL"), peer("WHY401_LINT_GOOD_URL"));

    // nginx itself accepts both files (it serves them); -t says so too.
    let t = StdCommand::new("nginx")
        .args(["-t", "-p"])
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));

    let (code, j) = lint(&[bad_conf.to_str().unwrap()]);
    assert_eq!(code, 1, "{j}");
    let got = found(&j);
    for want in [
        ("basic-over-http", 4),
        ("nginx-auth-header-not-always", 9),
        ("missing-htpasswd-file", 16),
        ("nginx-return-before-auth", 23),
        ("nginx-satisfy-any-open", 28),
        ("nginx-add-header-inheritance", 37),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1)),
            "{want:?} not in {got:?}"
        );
    }
    let (code, j) = lint(&[good_conf.to_str().unwrap()]);
    assert_eq!((code, found(&j)), (0, vec![]), "{j}");

    // add_header without `always`: the 401 carries no challenge; with it, it does.
    let (_, status, ids) = probe(&format!("{bad}/noalways/"), &[]);
    assert_eq!(status, 401);
    assert!(ids.contains(&"missing-www-authenticate".into()), "{ids:?}");
    let (_, status, ids) = probe(&format!("{good}/noalways/"), &[]);
    assert_eq!(status, 401);
    assert!(!ids.contains(&"missing-www-authenticate".into()), "{ids:?}");

    // A missing user file: the right password gets 403; with the file, 200.
    let (_, status, _) = probe(&format!("{bad}/nofile/"), &["-u", "alice"]);
    assert_eq!(status, 403);
    let (code, status, _) = probe(&format!("{good}/nofile/"), &["-u", "alice"]);
    assert_eq!((code, status), (0, 200));

    // `return` before the access phase, and satisfy any + allow all: served without a password.
    let (_, status, _) = probe(&format!("{bad}/health"), &[]);
    assert_eq!(status, 200);
    let (_, status, _) = probe(&format!("{bad}/open/"), &[]);
    assert_eq!(status, 200);
    let (_, status, _) = probe(&format!("{good}/open/"), &[]);
    assert_eq!(status, 401);

    // A location's own add_header drops the server's challenge; repeating it restores it.
    let (_, status, ids) = probe(&format!("{bad}/inherit/"), &[]);
    assert_eq!(status, 401);
    assert!(ids.contains(&"missing-www-authenticate".into()), "{ids:?}");
    let (_, _, ids) = probe(&format!("{good}/inherit/"), &[]);
    assert!(!ids.contains(&"missing-www-authenticate".into()), "{ids:?}");
}

#[test]
#[ignore = "needs the nginx serving the lint fixtures: run by scripts/test.sh"]
fn an_nginx_t_dump_on_stdin_is_linted_file_by_file() {
    let conf = peer("WHY401_LINT_NGINX_CONF");
    let dir = std::path::Path::new(&conf).parent().unwrap();
    let dump = StdCommand::new("nginx")
        .args(["-T", "-p"])
        .arg(dir)
        .arg("-c")
        .arg(&conf)
        .output()
        .unwrap();
    assert!(dump.status.success());
    let (code, j) = json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args(["lint", "-", "--json"])
            .write_stdin(dump.stdout)
            .output()
            .unwrap(),
    );
    assert_eq!(code, 1, "{j}");
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "nginx-auth-header-not-always")
        .unwrap_or_else(|| panic!("{j}"));
    assert_eq!(f["at"]["file"], dir.join("bad.conf").to_str().unwrap());
    assert_eq!(f["at"]["line"], 9);
    let files: Vec<&str> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(
        files.contains(&dir.join("good.conf").to_str().unwrap()),
        "{files:?}"
    );
}

#[test]
fn sarif_and_severity_filter_from_a_fixture() {
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/lint/nginx/bad.conf"
    );
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["lint", fixture, "--sarif"])
        .output()
        .unwrap();
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(
        results
            .iter()
            .any(|r| r["ruleId"] == "nginx-satisfy-any-open"
                && r["locations"][0]["physicalLocation"]["region"]["startLine"] == 28)
    );
    // Only errors: the warnings go, the exit stays 1.
    let (code, j) = lint(&[fixture, "--severity", "error"]);
    assert_eq!(code, 1);
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "error"),
        "{j}"
    );
    // An unreadable input is exit 2 and named.
    let (code, j) = lint(&["/nonexistent/why401.conf"]);
    assert_eq!(code, 2, "{j}");
    assert_eq!(j["problems"][0]["file"], "/nonexistent/why401.conf");
}

#[test]
#[ignore = "needs the Apache serving the lint fixtures: run by scripts/test.sh"]
fn each_apache_rule_predicts_what_the_real_apache_does() {
    let conf = peer("WHY401_LINT_APACHE_CONF");
    let dir = std::path::Path::new(&conf).parent().unwrap();
    let (bad, good) = (
        peer("WHY401_LINT_APACHE_BAD_URL"),
        peer("WHY401_LINT_APACHE_GOOD_URL"),
    );
    // apachectl -t (apache2 -t) accepts both: they are what this Apache runs.
    let t = StdCommand::new("apache2")
        .args(["-t", "-f"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(t.status.success(), "{}", String::from_utf8_lossy(&t.stderr));

    let (code, j) = lint(&[dir.join("bad.conf").to_str().unwrap()]);
    assert_eq!(code, 1, "{j}");
    let got = found(&j);
    for want in [
        ("apache-authtype-without-require", 20),
        ("apache-authmerging-replaced", 33),
        ("apache-mixed-access-syntax", 41),
        ("apache-digest-realm-mismatch", 49),
    ] {
        assert!(
            got.contains(&(want.0.to_string(), want.1)),
            "{want:?} not in {got:?}"
        );
    }
    let htaccess: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["at"]["file"].as_str().unwrap().ends_with(".htaccess"))
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(htaccess.contains(&"apache-htaccess-ignored"), "{j}");
    assert!(htaccess.contains(&"apache-htaccess-not-allowed"), "{j}");
    let (code, j) = lint(&[dir.join("good.conf").to_str().unwrap()]);
    assert_eq!((code, found(&j)), (0, vec![]), "{j}");

    // Each symptom on the wire, and gone once fixed: (path, bad status, good status).
    for (path, bad_status, good_status) in [
        ("/private/", 200, 401),     // .htaccess never read: served to anyone
        ("/fileinfo/", 500, 401),    // auth in .htaccess not allowed
        ("/open/", 500, 401),        // AuthType without Require: AH01627
        ("/merge/admin/", 200, 401), // the inner Require replaced the password
        ("/old/", 403, 401),         // Deny from all wins over Require valid-user
    ] {
        let (_, status, _) = probe(&format!("{bad}{path}"), &[]);
        assert_eq!(status, bad_status, "bad {path}");
        let (_, status, _) = probe(&format!("{good}{path}"), &[]);
        assert_eq!(status, good_status, "good {path}");
    }
    // Digest with the wrong realm: the right password is refused; with the realm fixed, 200.
    let (_, status, ids) = probe(&format!("{bad}/digest/"), &["-u", "alice"]);
    assert_eq!(status, 401, "{ids:?}");
    assert!(ids.contains(&"credentials-rejected".into()), "{ids:?}");
    let (code, status, _) = probe(&format!("{good}/digest/"), &["-u", "alice"]);
    assert_eq!((code, status), (0, 200));
}

#[test]
#[ignore = "needs ../shared/fixtures (IIS Express applicationhost.config): run by scripts/test.sh"]
fn iis_locks_and_rules_over_the_real_iis_express_config_shared_fixtures() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let apphost = std::fs::read_to_string(
        here.join("../../../shared/fixtures/iis/iisexpress-applicationhost.config"),
    )
    .expect("../shared/fixtures/iis is needed here");
    let site = here.join("tests/fixtures/lint/iis");
    let dir = tempfile::tempdir().unwrap();
    // WebSite1 points at our fixture web.config; nothing else changes.
    let pointed = apphost.replace(r"%IIS_SITES_HOME%\WebSite1", site.to_str().unwrap());
    assert_ne!(
        pointed, apphost,
        "WebSite1's physicalPath is in the fixture"
    );
    let locked = dir.path().join("applicationhost.config");
    std::fs::write(&locked, &pointed).unwrap();
    let (code, j) = lint(&[locked.to_str().unwrap()]);
    assert_eq!(code, 1, "{j}");
    let at_web_config: Vec<(String, u64)> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["at"]["file"].as_str().unwrap().ends_with("web.config"))
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_string(),
                f["at"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        at_web_config.contains(&("section-locked".into(), 10)),
        "{j}"
    );
    assert!(
        at_web_config.contains(&("section-locked".into(), 11)),
        "{j}"
    );

    // Unlocked for the site in applicationHost.config: the web.config applies, and its provider
    // list (NTLM only) is what is wrong.
    let unlock = r#"<location path="WebSite1" overrideMode="Allow"><system.webServer><security><authentication><anonymousAuthentication /><windowsAuthentication /></authentication></security></system.webServer></location>
</configuration>"#;
    let unlocked = dir.path().join("unlocked").join("applicationhost.config");
    std::fs::create_dir_all(unlocked.parent().unwrap()).unwrap();
    let last = pointed.rfind("</configuration>").unwrap();
    std::fs::write(&unlocked, format!("{}{unlock}", &pointed[..last])).unwrap();
    let (code, j) = lint(&[unlocked.to_str().unwrap()]);
    assert_eq!(code, 1, "{j}");
    let ids: Vec<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"section-locked"), "{j}");
    assert!(ids.contains(&"negotiate-provider-order"), "{j}");
    // And the real file as it is: nothing to say.
    let (code, j) = lint(&[here
        .join("../../../shared/fixtures/iis/iisexpress-applicationhost.config")
        .to_str()
        .unwrap()]);
    assert_eq!((code, found(&j)), (0, vec![]), "{j}");
}
