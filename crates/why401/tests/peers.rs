//! The probe against real servers that are not ours: nginx `auth_basic`, Apache
//! `mod_auth_digest`, squid `proxy_auth`, pyspnego's NTLM acceptor. `scripts/test.sh` starts
//! them on loopback and exports their URLs; without them these tests fail, loudly.

mod common;

use assert_cmd::Command;
use serde_json::Value;

use common::{json_of, peer};

/// Runs `why401 ARGS --json` and returns (exit code, JSON).
fn probe(args: &[&str]) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args(args)
            .arg("--json")
            .arg("--no-siblings")
            .output()
            .unwrap(),
    )
}

fn ids(j: &Value) -> Vec<String> {
    j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_string())
        .collect()
}

fn top(j: &Value) -> String {
    ids(j).first().cloned().unwrap_or_default()
}

#[test]
#[ignore = "needs nginx (auth_basic) on loopback: run by scripts/test.sh"]
fn nginx_auth_basic() {
    let base = peer("WHY401_NGINX_URL");
    let url = format!("{base}/basic/");

    let (code, j) = probe(&[&url]);
    assert_eq!((code, top(&j).as_str()), (1, "no-credentials-sent"), "{j}");

    let (code, j) = probe(&[&url, "-u", "alice:wrong"]);
    assert_eq!((code, top(&j).as_str()), (1, "credentials-rejected"), "{j}");

    let (code, j) = probe(&[&url, "-u", "alice:s3cret"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["outcome"], "authorized");
    assert!(ids(&j).contains(&"access-granted".to_string()), "{j}");
    assert_eq!(
        top(&j),
        "basic-over-http",
        "the warning stays even when access is granted: {j}"
    );

    // The password comes from the environment as well as from -u USER:PASS.
    let out = Command::cargo_bin("why401")
        .unwrap()
        .args([&url, "-u", "alice", "--json"])
        .env("WHY401_PASSWORD", "s3cret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));

    let (code, j) = probe(&[&format!("{base}/no-challenge")]);
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "missing-www-authenticate"),
        "{j}"
    );
}

#[test]
#[ignore = "needs Apache httpd (mod_auth_digest) on loopback: run by scripts/test.sh"]
fn apache_mod_auth_digest() {
    let url = format!("{}/digest/", peer("WHY401_APACHE_URL"));

    let (code, j) = probe(&[&url, "-u", "alice:s3cret"]);
    assert_eq!(code, 0, "{j}");
    let granted = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "access-granted")
        .unwrap();
    assert!(
        granted["title"].as_str().unwrap().contains("with Digest"),
        "{j}"
    );

    let (code, j) = probe(&[&url, "-u", "alice:wrong"]);
    assert_eq!((code, top(&j).as_str()), (1, "credentials-rejected"), "{j}");

    let (code, j) = probe(&[&url, "-H", "Authorization: Basic YWxpY2U6czNjcmV0"]);
    assert_eq!((code, top(&j).as_str()), (1, "scheme-mismatch"), "{j}");
}

#[test]
#[ignore = "needs squid (proxy_auth) and nginx on loopback: run by scripts/test.sh"]
fn squid_proxy_auth() {
    let target = format!("{}/basic/", peer("WHY401_NGINX_URL"));
    let proxy = peer("WHY401_SQUID_URL");

    let (code, j) = probe(&[&target, "-x", &proxy, "-u", "alice:s3cret"]);
    assert_eq!((code, top(&j).as_str()), (1, "proxy-auth-required"), "{j}");
    assert!(
        j["exchanges"][0]["response"]["headers"]
            .to_string()
            .contains("Proxy-Authenticate"),
        "{j}"
    );

    // With the proxy's credentials the request reaches nginx, which then wants its own.
    let (code, j) = probe(&[&target, "-x", &proxy, "--proxy-user", "proxyuser:proxypass"]);
    assert_eq!((code, top(&j).as_str()), (1, "no-credentials-sent"), "{j}");
    let (code, j) = probe(&[
        &target,
        "-x",
        &proxy,
        "--proxy-user",
        "proxyuser:proxypass",
        "-u",
        "alice:s3cret",
    ]);
    assert_eq!(code, 0, "{j}");
}

#[test]
#[ignore = "needs the pyspnego NTLM acceptor on loopback: run by scripts/test.sh"]
fn pyspnego_ntlm_acceptor() {
    let url = format!("{}/", peer("WHY401_PYSPNEGO_URL"));

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:s3cret"]);
    assert_eq!(code, 0, "{j}");
    let exchanges = j["exchanges"].as_array().unwrap();
    assert_eq!(
        exchanges.len(),
        3,
        "anonymous, NEGOTIATE, AUTHENTICATE: {j}"
    );
    assert!(
        exchanges
            .iter()
            .all(|e| e["connection"] == exchanges[0]["connection"]),
        "one connection for the whole handshake: {j}"
    );
    assert!(
        j["findings"]
            .to_string()
            .contains("access granted with NTLM"),
        "{j}"
    );

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:wrong"]);
    assert_eq!((code, top(&j).as_str()), (1, "credentials-rejected"), "{j}");
    let evidence = j["findings"][0]["evidence"].to_string();
    assert!(
        evidence.contains("NTLM CHALLENGE"),
        "the decoded CHALLENGE is shown: {j}"
    );
}

#[test]
#[ignore = "needs the pyspnego Negotiate acceptor on loopback: run by scripts/test.sh"]
fn pyspnego_negotiate_acceptor_checks_the_mech_list_mic() {
    // pyspnego's SPNEGO acceptor checks the mechListMIC as Windows does; with a MIC it cannot
    // verify it refuses a right password (BadMICError), which the probe would then call wrong.
    let url = format!("{}/", peer("WHY401_PYSPNEGO_NEGOTIATE_URL"));

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:s3cret"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["negotiate"]["mechanism"], "ntlm", "{j}");
    let exchanges = j["exchanges"].as_array().unwrap();
    assert_eq!(
        exchanges.len(),
        3,
        "anonymous, NegTokenInit, NegTokenResp: {j}"
    );
    assert!(
        exchanges
            .iter()
            .all(|e| e["connection"] == exchanges[0]["connection"]),
        "one connection for the whole handshake: {j}"
    );
    assert_eq!(exchanges[2]["response"]["status"], 200, "{j}");
    assert_eq!(j["negotiate"]["server_verified"], true, "mutual: {j}");

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:wrong"]);
    assert_eq!((code, top(&j).as_str()), (1, "credentials-rejected"), "{j}");

    // The server's final token altered: access is granted, and the evidence says its
    // mechListMIC did not verify instead of passing over it.
    let corrupt = format!("{}/corrupt-final/", peer("WHY401_PYSPNEGO_NEGOTIATE_URL"));
    let (code, j) = probe(&[&corrupt, "-u", "CORP\\alice:s3cret"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["negotiate"]["server_verified"], false, "{j}");
    assert!(
        j["negotiate"]["server_verify_error"]
            .as_str()
            .is_some_and(|e| e.contains("did not verify")),
        "{j}"
    );
}

#[test]
#[ignore = "needs Apache httpd with mod_auth_gssapi and gss-ntlmssp on loopback: run by scripts/test.sh"]
fn apache_mod_auth_gssapi_negotiate_over_ntlm() {
    // MIT GSSAPI's SPNEGO with gss-ntlmssp behind it: another acceptor than pyspnego's.
    let url = format!("{}/negotiate/", peer("WHY401_APACHE_GSSAPI_URL"));

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:s3cret", "--auth-type", "negotiate"]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["negotiate"]["mechanism"], "ntlm", "{j}");
    assert_eq!(j["negotiate"]["server_verified"], true, "mutual: {j}");
    let last = j["exchanges"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["response"]["status"], 200, "{j}");
    assert_eq!(last["credentials"]["scheme"], "Negotiate", "{j}");

    let (code, j) = probe(&[&url, "-u", "CORP\\alice:wrong", "--auth-type", "negotiate"]);
    assert_eq!((code, top(&j).as_str()), (1, "credentials-rejected"), "{j}");
}

#[test]
#[ignore = "needs dnsmasq on loopback: run by scripts/test.sh"]
fn dns_server_each_address_and_the_cname_chain() {
    // dnsmasq says alias.test is a CNAME of farm.test, which has two addresses: 127.0.0.1 takes
    // alice's password, 127.0.0.2 (a node with an old password store) refuses it.
    let dns = peer("WHY401_DNSMASQ");
    let good = common::ScriptedServer::start(common::farm_node(true));
    let _stale = common::ScriptedServer::start_at(
        &format!("127.0.0.2:{}", good.port),
        common::farm_node(false),
    );
    let url = format!("http://alias.test:{}/", good.port);

    let (code, j) = probe(&[
        &url,
        "-u",
        "alice:s3cret",
        "--dns-server",
        &dns,
        "--each-address",
    ]);
    assert_eq!(code, 1, "{j}");
    assert_eq!(j["dns"]["cnames"], serde_json::json!(["farm.test"]), "{j}");
    let mut addresses: Vec<String> = j["dns"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    addresses.sort();
    assert_eq!(addresses, ["127.0.0.1", "127.0.0.2"], "{j}");
    assert_eq!(top(&j), "backend-differs", "{j}");
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .ends_with("127.0.0.2"),
        "{j}"
    );

    // A resolver that does not answer is said plainly.
    let (code, j) = probe(&[&url, "--dns-server", "127.0.0.1:9", "--timeout", "2"]);
    assert_eq!(code, 3, "{j}");
    assert!(
        matches!(j["reach"]["kind"].as_str(), Some("timeout" | "dns")),
        "{j}"
    );
    assert!(
        j["reach"]["detail"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1:9"),
        "the resolver asked is named: {j}"
    );
}

/// Runs the probe with the throwaway realm's krb5.conf, the password from the environment.
fn probe_kerberos(url: &str, pin: &str, user: &str, password: &str) -> (i32, Value) {
    probe_kerberos_with(&peer("WHY401_KRB5_CONFIG"), url, pin, user, password)
}

/// The same, with another krb5.conf.
fn probe_kerberos_with(
    krb5_config: &str,
    url: &str,
    pin: &str,
    user: &str,
    password: &str,
) -> (i32, Value) {
    json_of(
        Command::cargo_bin("why401")
            .unwrap()
            .args([url, "--resolve", pin, "-u", user, "--json", "--no-siblings"])
            .env("KRB5_CONFIG", krb5_config)
            .env("WHY401_PASSWORD", password)
            .output()
            .unwrap(),
    )
}

#[test]
#[ignore = "needs the MIT KDC and Apache mod_auth_gssapi on loopback: run by scripts/test.sh"]
fn kerberos_from_a_password_against_an_mit_kdc_and_mod_auth_gssapi() {
    let base = peer("WHY401_APACHE_GSSAPI_URL");
    let port = base.rsplit(':').next().unwrap();
    let url = format!("http://web.lab.test:{port}/krb/");
    let pin = format!("web.lab.test:{port}:127.0.0.1");

    // AS exchange (after the KDC asks for pre-authentication), TGS exchange for
    // HTTP/web.lab.test, AP-REQ inside SPNEGO; the server's AP-REP is checked.
    let (code, j) = probe_kerberos(&url, &pin, "alice@LAB.TEST", "s3cret");
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["negotiate"]["mechanism"], "kerberos", "{j}");
    assert_eq!(j["negotiate"]["spn"], "HTTP/web.lab.test", "{j}");
    assert_eq!(
        j["negotiate"]["server_verified"], true,
        "mutual authentication: {j}"
    );
    let kdc: Vec<(String, String)> = j["kdc"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["request"].as_str().unwrap().to_string(),
                k["reply"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kdc,
        [
            ("AS-REQ".to_string(), "KRB-ERROR".to_string()),
            ("AS-REQ".to_string(), "AS-REP".to_string()),
            ("TGS-REQ".to_string(), "TGS-REP".to_string()),
        ],
        "{j}"
    );

    // A wrong password is the KDC's refusal, named as such.
    let (code, j) = probe_kerberos(&url, &pin, "alice@LAB.TEST", "wrong");
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-preauth-failed"),
        "{j}"
    );
    assert_eq!(
        j["kdc"].as_array().unwrap().last().unwrap()["error_code"],
        24,
        "{j}"
    );

    // A host name nobody registered an SPN for: the TGS exchange fails, and says for what.
    let other = format!("http://other.lab.test:{port}/krb/");
    let other_pin = format!("other.lab.test:{port}:127.0.0.1");
    let (code, j) = probe_kerberos(&other, &other_pin, "alice@LAB.TEST", "s3cret");
    assert_eq!((code, top(&j).as_str()), (1, "kerberos-spn-unknown"), "{j}");
    assert!(
        j["findings"][0]["title"]
            .as_str()
            .unwrap()
            .contains("HTTP/other.lab.test@LAB.TEST"),
        "{j}"
    );

    // The realm's KDC down (krb5.conf names a closed port): not a password problem, and said so,
    // although Negotiate then tried NTLM and the server refused that.
    let conf = std::fs::read_to_string(peer("WHY401_KRB5_CONFIG")).unwrap();
    let down = tempfile::NamedTempFile::new().unwrap();
    let kdc_line = conf
        .lines()
        .find(|l| l.trim().starts_with("kdc ="))
        .unwrap();
    std::fs::write(down.path(), conf.replace(kdc_line, "    kdc = 127.0.0.1:9")).unwrap();
    let (code, j) = probe_kerberos_with(
        down.path().to_str().unwrap(),
        &url,
        &pin,
        "alice@LAB.TEST",
        "s3cret",
    );
    assert_eq!(
        (code, top(&j).as_str()),
        (1, "kerberos-kdc-unreachable"),
        "{j}"
    );
    assert!(
        j["negotiate"]["fallback_reason"]
            .as_str()
            .is_some_and(|r| r.contains("127.0.0.1:9")),
        "the fallback names the KDC that did not answer: {j}"
    );
}

#[test]
#[ignore = "needs squid (CONNECT) on loopback: run by scripts/test.sh"]
fn squid_connect_tunnel_to_https() {
    let proxy = peer("WHY401_SQUID_URL");
    let (tls, ca_pem) = common::tls_with_ca("Lab Test CA");
    let server = common::ScriptedServer::start_tls(tls, |r| match r.header("authorization") {
        Some(_) => common::Reply::new(200),
        None => common::Reply::new(401).header("WWW-Authenticate", r#"Basic realm="tls-lab""#),
    });
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let cacert = ca.to_str().unwrap();

    // The tunnel itself is refused without proxy credentials.
    let (code, j) = probe(&[&url, "-x", &proxy, "--cacert", cacert]);
    assert_eq!((code, top(&j).as_str()), (1, "proxy-auth-required"), "{j}");
    assert_eq!(j["exchanges"][0]["request"]["method"], "CONNECT", "{j}");

    // With them, TLS runs through the tunnel and the server's Basic is answered inside it.
    let (code, j) = probe(&[
        &url,
        "-x",
        &proxy,
        "--proxy-user",
        "proxyuser:proxypass",
        "--cacert",
        cacert,
        "-u",
        "alice:s3cret",
    ]);
    assert_eq!(code, 0, "{j}");
    assert_eq!(j["tls"]["verified"], true, "{j}");
}
