//! Kerberos scenarios on the real binary against the throwaway MIT realm `scripts/peers.sh`
//! makes (LAB.TEST: an MIT KDC, a second KDC ten minutes ahead under libfaketime, Apache with
//! mod_auth_gssapi, dnsmasq with CNAMEs). Each checks the top finding and the exit code.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

mod common;
use common::{json_of, kinit, peer};

fn port() -> String {
    peer("WHY401_APACHE_GSSAPI_URL")
        .rsplit(':')
        .next()
        .unwrap()
        .to_string()
}

fn top(j: &Value) -> String {
    j["findings"][0]["id"].as_str().unwrap_or("").to_string()
}

/// The probe with the user's tickets (`--negotiate`, no `-u`) from `cache`.
fn probe_cache(cache: &Path, args: &[&str]) -> (i32, Value) {
    probe_cache_with(Path::new(&peer("WHY401_KRB5_CONFIG")), cache, args)
}

/// [`probe_cache`] with another krb5.conf.
fn probe_cache_with(krb5_config: &Path, cache: &Path, args: &[&str]) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .args(["--negotiate", "--json", "--no-siblings"])
            .env("KRB5_CONFIG", krb5_config)
            .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
            .env_remove("WHY401_PASSWORD")
            .output()
            .unwrap(),
    )
}

/// The probe from a password, with `krb5_config`.
fn probe_password(krb5_config: &str, user: &str, args: &[&str]) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .args(["-u", user, "--json", "--no-siblings"])
            .env("KRB5_CONFIG", krb5_config)
            .env("WHY401_PASSWORD", "s3cret")
            .output()
            .unwrap(),
    )
}

fn pinned(host: &str) -> (String, String) {
    let p = port();
    (
        format!("http://{host}:{p}/krb/"),
        format!("{host}:{p}:127.0.0.1"),
    )
}

#[test]
#[ignore = "needs the MIT KDC and Apache mod_auth_gssapi on loopback: run by scripts/test.sh"]
fn kerberos_from_the_users_ccache_with_mutual_auth_and_delegation() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "cc", &["-f"]);
    let (url, pin) = pinned("web.lab.test");

    // The TGT from kinit; one TGS exchange; the AP-REP checked.
    let (code, j) = probe_cache(&cache, &[&url, "--resolve", &pin]);
    assert_eq!(code, 0, "{j}");
    let n = &j["negotiate"];
    assert_eq!(n["mechanism"], "kerberos", "{j}");
    assert_eq!(n["credentials_from"], "ccache", "{j}");
    assert_eq!(n["server_verified"], true, "mutual authentication: {j}");
    assert_eq!(n["ticket_cache"]["principal"], "alice@LAB.TEST", "{j}");
    assert_eq!(n["ticket"]["server"], "HTTP/web.lab.test@LAB.TEST", "{j}");
    assert!(
        n["ticket"]["flags"]
            .as_array()
            .unwrap()
            .contains(&"ok-as-delegate".into()),
        "{j}"
    );
    let kdc: Vec<_> = j["kdc"].as_array().unwrap().iter().collect();
    assert_eq!(kdc.len(), 1, "{j}");
    assert_eq!(
        (&kdc[0]["request"], &kdc[0]["reply"]),
        (&"TGS-REQ".into(), &"TGS-REP".into())
    );
    assert_eq!(
        n["delegation"], "none: no TGT sent (--delegation none)",
        "{j}"
    );

    // --delegation policy: HTTP/web.lab.test is ok-as-delegate, so the forwarded TGT goes, and
    // mod_auth_gssapi stores it where GssapiDelegCcacheDir says.
    let stored = Path::new(&peer("WHY401_GSS_DELEG_DIR")).join("alice@LAB.TEST");
    let _ = std::fs::remove_file(&stored);
    let (code, j) = probe_cache(&cache, &[&url, "--resolve", &pin, "--delegation", "policy"]);
    assert_eq!(code, 0, "{j}");
    assert!(
        j["negotiate"]["delegation"]
            .as_str()
            .unwrap()
            .contains("a forwarded TGT of alice@LAB.TEST was sent"),
        "{j}"
    );
    let klist = Command::new("klist")
        .arg("-f")
        .arg("-c")
        .arg(&stored)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&klist.stdout);
    assert!(
        listed.contains("krbtgt/LAB.TEST@LAB.TEST"),
        "Apache stored the delegated TGT: {listed}"
    );

    // A TGT kinit made without -f cannot be forwarded: said, not sent.
    let plain = kinit(dir.path(), "plain", &[]);
    let (_, j) = probe_cache(&plain, &[&url, "--resolve", &pin, "--delegation", "always"]);
    assert!(
        j["negotiate"]["delegation"]
            .as_str()
            .unwrap()
            .contains("not forwardable"),
        "{j}"
    );

    // curl's own spelling of the same thing, through `why401 curl`.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["curl", "--json", "--no-siblings", "--"])
        .args(["curl", "--negotiate", "-u", ":", "--resolve", &pin, &url])
        .env("KRB5_CONFIG", peer("WHY401_KRB5_CONFIG"))
        .env("KRB5CCNAME", format!("FILE:{}", cache.display()))
        .env_remove("WHY401_PASSWORD")
        .output()
        .unwrap();
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{j}");
    assert_eq!(j["negotiate"]["credentials_from"], "ccache", "{j}");
}

#[test]
#[ignore = "needs the MIT KDC and Apache mod_auth_gssapi on loopback: run by scripts/test.sh"]
fn an_expired_or_missing_ticket_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "short", &["-l", "1s"]);
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let (url, pin) = pinned("web.lab.test");
    let (code, j) = probe_cache(&cache, &[&url, "--resolve", &pin]);
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-ticket-expired"),
        "{j}"
    );
    assert_eq!(j["negotiate"]["ticket_cache"]["expired"], true, "{j}");

    let (code, j) = probe_cache(&dir.path().join("none"), &[&url, "--resolve", &pin]);
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-no-ticket"), "{j}");
    assert!(
        j["findings"][0]["evidence"][0]
            .as_str()
            .unwrap()
            .contains("run kinit"),
        "{j}"
    );
}

#[test]
#[ignore = "needs the MIT KDC, Apache mod_auth_gssapi and dnsmasq on loopback: run by scripts/test.sh"]
fn an_spn_built_from_an_alias_is_named_with_the_one_that_exists() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "cc", &[]);
    let dns = peer("WHY401_DNSMASQ");
    let p = port();

    // www.lab.test is a CNAME of web.lab.test, which has the SPN: canonicalization makes it
    // work, and the evidence says that the name as typed would not have.
    let www = format!("http://www.lab.test:{p}/krb/");
    let (code, j) = probe_cache(&cache, &[&www, "--dns-server", &dns]);
    assert_eq!(code, 0, "{j}");
    let n = &j["negotiate"];
    assert_eq!(n["spn"], "HTTP/web.lab.test", "{j}");
    let typed = n["spn_by_client"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["spn"] == "HTTP/www.lab.test")
        .unwrap_or_else(|| panic!("the alias as typed is a candidate: {j}"));
    assert_eq!(typed["known_to_kdc"], false, "{j}");
    assert!(
        j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "kerberos-spn-unknown"),
        "a comparison is not a failure: {j}"
    );

    // alias.lab.test has the principal but is a CNAME of host.lab.test, which has none.
    let alias = format!("http://alias.lab.test:{p}/krb/");
    let (code, j) = probe_cache(&cache, &[&alias, "--dns-server", &dns]);
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-spn-alias"), "{j}");
    let title = j["findings"][0]["title"].as_str().unwrap();
    assert!(
        title.contains("HTTP/host.lab.test") && title.contains("HTTP/alias.lab.test"),
        "both names: {title}"
    );

    // From a password too: a second context asks the KDC about the other name.
    let (code, j) = probe_password(
        &peer("WHY401_KRB5_CONFIG"),
        "alice@LAB.TEST",
        &[&alias, "--dns-server", &dns],
    );
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-spn-alias"), "{j}");
    assert!(
        j["kdc"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["comparison"] == true && k["reply"] == "TGS-REP"),
        "{j}"
    );
}

#[test]
#[ignore = "needs the MIT KDCs (one under libfaketime) and Apache on loopback: run by scripts/test.sh"]
fn clock_skew_etype_and_a_stale_keytab_are_named() {
    // The KDC ten minutes ahead: KRB_AP_ERR_SKEW with the offset from its stime.
    let (url, pin) = pinned("web.lab.test");
    let (code, j) = probe_password(
        &peer("WHY401_KRB5_CONFIG_SKEW"),
        "alice@LAB.TEST",
        &[&url, "--resolve", &pin],
    );
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-clock-skew"), "{j}");
    let offset = j["kdc"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["error_code"] == 37)
        .and_then(|k| k["clock_offset_s"].as_i64())
        .unwrap_or_else(|| panic!("the skew's offset: {j}"));
    assert!((590..=610).contains(&offset), "{offset}");

    // carol's only key is aes256-sha2, which the client does not offer.
    let (code, j) = probe_password(
        &peer("WHY401_KRB5_CONFIG"),
        "carol@LAB.TEST",
        &[&url, "--resolve", &pin],
    );
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-etype-unsupported"),
        "{j}"
    );

    // stale.lab.test was re-keyed after Apache's keytab was written: the KDC's ticket is kvno 3,
    // the keytab holds kvno 2, and decode says so.
    let (url, pin) = pinned("stale.lab.test");
    let (code, j) = probe_password(
        &peer("WHY401_KRB5_CONFIG"),
        "alice@LAB.TEST",
        &[&url, "--resolve", &pin],
    );
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-ticket-rejected"),
        "{j}"
    );
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("key version 3"),
        "{j}"
    );
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args(["decode", &peer("WHY401_KRB5_KEYTAB"), "--json"])
        .output()
        .unwrap();
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    let stale = d["items"][0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["input"] == "HTTP/stale.lab.test@LAB.TEST")
        .unwrap_or_else(|| panic!("{d}"));
    let kvno = stale["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "kvno")
        .unwrap();
    assert_eq!(kvno["value"], "2", "{d}");
}

#[test]
#[ignore = "needs the MIT KDC and Apache mod_auth_gssapi on two loopback addresses: run by scripts/test.sh"]
fn one_backend_with_a_stale_keytab_is_found_with_each_address() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "cc", &[]);
    let p = port();
    let url = format!("http://farm.lab.test:{p}/farm/");
    let pin = format!("farm.lab.test:{p}:127.0.0.1,127.0.0.2");
    let (code, j) = probe_cache(&cache, &[&url, "--resolve", &pin, "--each-address"]);
    assert_eq!((code, top(&j).as_str()), (1, "backend-differs"), "{j}");
    let backends = j["backends"].as_array().unwrap();
    let status = |addr: &str| {
        backends
            .iter()
            .find(|b| b["address"] == addr)
            .map(|b| b["status"].clone())
            .unwrap_or_else(|| panic!("{addr}: {j}"))
    };
    assert_eq!(status("127.0.0.1"), 200, "{j}");
    assert_eq!(status("127.0.0.2"), 401, "{j}");
}

#[test]
#[ignore = "needs the MIT KDC, Apache mod_auth_gssapi and dnsmasq on loopback: run by scripts/test.sh"]
fn the_kdc_is_found_by_dns_srv_or_named_with_kdc() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "cc", &[]);
    let dns = peer("WHY401_DNSMASQ");
    let conf = std::fs::read_to_string(peer("WHY401_KRB5_CONFIG")).unwrap();
    let kdc_line = conf
        .lines()
        .find(|l| l.trim().starts_with("kdc ="))
        .unwrap()
        .to_string();
    let kdc = kdc_line.split('=').nth(1).unwrap().trim().to_string();
    // A krb5.conf that names no KDC for LAB.TEST and lets MIT ask DNS.
    let srv_conf = dir.path().join("krb5-srv.conf");
    std::fs::write(
        &srv_conf,
        conf.replace(&kdc_line, "")
            .replace("dns_lookup_kdc = false", "dns_lookup_kdc = true"),
    )
    .unwrap();
    let url = format!("http://web.lab.test:{}/krb/", port());
    let srv_conf_str = srv_conf.to_str().unwrap();
    let args = [url.as_str(), "--dns-server", &dns];
    for (who, (code, j)) in [
        ("ccache", probe_cache_with(&srv_conf, &cache, &args)),
        (
            "password",
            probe_password(srv_conf_str, "alice@LAB.TEST", &args),
        ),
    ] {
        assert_eq!(code, 0, "{who}: {j}");
        assert_eq!(j["negotiate"]["mechanism"], "kerberos", "{who}: {j}");
        let found = j["negotiate"]["kdc_found_by"].as_str().unwrap();
        assert!(
            found.starts_with("DNS SRV _kerberos._tcp.LAB.TEST → kdc.lab.test:"),
            "{who}: {found}"
        );
    }

    // --kdc wins over everything, with a krb5.conf that knows nothing.
    let empty = dir.path().join("empty.conf");
    std::fs::write(&empty, "[libdefaults]\n  dns_lookup_kdc = false\n").unwrap();
    let (url, pin) = pinned("web.lab.test");
    let (code, j) = probe_cache_with(&empty, &cache, &[&url, "--resolve", &pin, "--kdc", &kdc]);
    assert_eq!(code, 0, "{j}");
    assert!(
        j["negotiate"]["kdc_found_by"]
            .as_str()
            .unwrap()
            .starts_with("--kdc"),
        "{j}"
    );
    // And without it, the same empty krb5.conf is said to be why no KDC was found.
    let (code, j) = probe_cache_with(&empty, &cache, &[&url, "--resolve", &pin]);
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-kdc-unreachable"),
        "{j}"
    );
    assert!(
        j["findings"][0]["evidence"][0]
            .as_str()
            .unwrap()
            .contains("dns_lookup_kdc = false"),
        "{j}"
    );
}

#[test]
#[ignore = "needs the MIT KDC, Apache mod_auth_gssapi and dnsmasq on loopback: run by scripts/test.sh"]
fn mit_clients_with_rdns_name_the_service_by_its_ptr_record() {
    let dir = tempfile::tempdir().unwrap();
    let cache = kinit(dir.path(), "cc", &[]);
    // MIT's defaults: dns_canonicalize_hostname and rdns true.
    let conf = std::fs::read_to_string(peer("WHY401_KRB5_CONFIG")).unwrap();
    let rdns_conf = dir.path().join("krb5-rdns.conf");
    std::fs::write(&rdns_conf, conf.replace("rdns = false", "rdns = true")).unwrap();
    // rdns.lab.test is 127.0.0.2; a loopback address reverse-resolves to `localhost` (RFC 6761
    // §6.3, which the resolver answers itself), so MIT clients would ask for HTTP/localhost.
    let url = format!("http://rdns.lab.test:{}/krb/", port());
    let dns = peer("WHY401_DNSMASQ");
    let (code, j) = probe_cache_with(&rdns_conf, &cache, &[&url, "--dns-server", &dns]);
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-spn-unknown"), "{j}");
    let mit = j["negotiate"]["spn_by_client"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["clients"].as_str().unwrap().starts_with("MIT"))
        .unwrap_or_else(|| panic!("{j}"))
        .clone();
    assert_eq!(mit["spn"], "HTTP/localhost", "{j}");
    assert!(mit["rule"].as_str().unwrap().contains("PTR"), "{j}");
    assert_eq!(mit["known_to_kdc"], false, "{j}");
    // With rdns = false (the realm's own krb5.conf), MIT keeps the forward name.
    let (_, j) = probe_cache(&cache, &[&url, "--dns-server", &dns]);
    let mit = &j["negotiate"]["spn_by_client"][1];
    assert_eq!(mit["spn"], "HTTP/rdns.lab.test", "{j}");
}
