//! `why401 gate` in front of the directory users already have: a real OpenLDAP `slapd` (Debian's)
//! on loopback, reached with StartTLS and a CA of the test's own. A password is checked by a
//! bind, groups come from a group search or from `memberOf`, a locked account is refused
//! without a bind and `gate explain` says so with the directory's code, the directory gone is a
//! 503 (fail closed) until it is back.

use serde_json::Value;

mod common;

use common::gate::*;

const BASE: &str = "dc=example,dc=org";
const SERVICE_PW: &str = "gate service secret";

/// Starts slapd with a database of its own in `dir`, StartTLS with the test's CA, the ppolicy
/// and memberof overlays; its port once it answers. The entries: the gateway's service account,
/// carol (staff, finance), dave (locked by the directory), erin (no group).
fn start_slapd(dir: &std::path::Path, port: u16) -> Child {
    let (leaf, key, ca) = common::leaf_and_ca("why401 directory test CA");
    std::fs::write(dir.join("slapd-cert.pem"), leaf.pem()).unwrap();
    std::fs::write(dir.join("slapd-key.pem"), key.serialize_pem()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::create_dir_all(dir.join("db")).unwrap();
    let d = dir.display();
    let conf = format!(
        "include /etc/ldap/schema/core.schema\n\
         include /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         moduleload ppolicy\n\
         moduleload memberof\n\
         pidfile {d}/slapd.pid\n\
         TLSCertificateFile {d}/slapd-cert.pem\n\
         TLSCertificateKeyFile {d}/slapd-key.pem\n\
         database mdb\n\
         maxsize 10485760\n\
         suffix \"{BASE}\"\n\
         rootdn \"cn=admin,{BASE}\"\n\
         rootpw admin-secret\n\
         directory {d}/db\n\
         overlay ppolicy\n\
         overlay memberof\n\
         access to attrs=userPassword by anonymous auth by * none\n\
         access to * by users read by * none\n"
    );
    std::fs::write(dir.join("slapd.conf"), conf).unwrap();
    let ldif = format!(
        "dn: {BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,{BASE}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{BASE}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: cn=gate,{BASE}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: gate\nuserPassword: {SERVICE_PW}\n\n\
         dn: uid=carol,ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: carol\ncn: Carol\nsn: C\nmail: carol@example.org\nuserPassword: carol's long passphrase\n\n\
         dn: uid=dave,ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: dave\ncn: Dave\nsn: D\nuserPassword: dave's long passphrase\npwdAccountLockedTime: 000001010000Z\n\n\
         dn: uid=erin,ou=people,{BASE}\nobjectClass: inetOrgPerson\nuid: erin\ncn: Erin\nsn: E\nuserPassword: erin's long passphrase\n\n\
         dn: cn=staff,ou=groups,{BASE}\nobjectClass: groupOfNames\ncn: staff\nmember: uid=carol,ou=people,{BASE}\n\n\
         dn: cn=finance,ou=groups,{BASE}\nobjectClass: groupOfNames\ncn: finance\nmember: uid=carol,ou=people,{BASE}\nmember: uid=dave,ou=people,{BASE}\n"
    );
    // Loaded offline with slapadd (as slapd's own tools do), then served. slapadd does not run
    // overlays, so memberOf is written as the overlay would keep it.
    let ldif = ldif
        .replace(
            "userPassword: carol's long passphrase\n",
            &format!("userPassword: carol's long passphrase\nmemberOf: cn=staff,ou=groups,{BASE}\nmemberOf: cn=finance,ou=groups,{BASE}\n"),
        );
    std::fs::write(dir.join("data.ldif"), &ldif).unwrap();
    let out = std::process::Command::new("/usr/sbin/slapadd")
        .args([
            "-f",
            &format!("{d}/slapd.conf"),
            "-l",
            &format!("{d}/data.ldif"),
        ])
        .output()
        .expect("slapadd is installed (scripts/test.sh installs slapd)");
    assert!(
        out.status.success(),
        "slapadd: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let slapd = Child(
        std::process::Command::new("/usr/sbin/slapd")
            .args([
                "-f",
                &format!("{d}/slapd.conf"),
                "-h",
                &format!("ldap://127.0.0.1:{port}/"),
                "-d",
                "0",
            ])
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("slapd is installed (scripts/test.sh installs it)"),
    );
    wait_for(port, "slapd");
    slapd
}

fn wait_for(port: u16, what: &str) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("{what} did not start on {port}");
}

fn config(port: u16, groups: &str) -> String {
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[[access.rule]]\npaths = [\"/finance/\"]\nsubjects = [\"group:finance\"]\npolicy = \"one_factor\"\n\n[[access.rule]]\npaths = [\"/finance/\"]\npolicy = \"deny\"\n\n[[access.rule]]\npolicy = \"one_factor\"\n\n[[route]]\nupstream = \"builtin:echo\"\n\n\
         [ldap]\nurl = \"ldap://localhost:{port}\"\nstart_tls = true\nca_file = \"ca.pem\"\ndirectory = \"openldap\"\n\
         bind_dn = \"cn=gate,{BASE}\"\nbind_password_file = \"ldap.secret\"\nbase_dn = \"ou=people,{BASE}\"\n{groups}\ntimeout_seconds = 2\n"
    )
}

/// GETs `path` through the gateway as `user`; status and body.
fn as_user(base: &str, path: &str, user: &str, pw: &str) -> (u16, String, String) {
    curl(&["-u", &format!("{user}:{pw}"), &format!("{base}{path}")])
}

/// The audit line of the last request with this status.
fn audit_of(dir: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(dir.join("audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "runs slapd and curl (scripts/test.sh installs them)"]
fn an_openldap_directory_checks_passwords_gives_groups_and_explains_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let ldap_port = free_port();
    let mut slapd = Some(start_slapd(dir.path(), ldap_port));
    std::fs::write(dir.path().join("ldap.secret"), format!("{SERVICE_PW}\n")).unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(
        &cfg,
        config(
            ldap_port,
            "groups = \"search\"\ngroup_base_dn = \"ou=groups,dc=example,dc=org\"\ngroup_filter = \"(&(objectClass=groupOfNames)(member={dn}))\"",
        ),
    )
    .unwrap();
    let store = dir.path().join("gate.db");
    let (_gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");

    // carol: her directory password, her directory groups; the app is told.
    let (status, _, body) = as_user(&base, "/finance/q4", "carol", "carol's long passphrase");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("remote-user: carol"), "{body}");
    assert!(body.contains("remote-groups: finance,staff"), "{body}");
    assert!(body.contains("remote-email: carol@example.org"), "{body}");
    // erin has no group: the finance rule refuses her after her password.
    let (status, _, body) = as_user(&base, "/finance/q4", "erin", "erin's long passphrase");
    assert_eq!(status, 403, "{body}");
    // Wrong password, unknown user, a filter injection: 401, each the same to the client.
    for (user, pw) in [
        ("carol", "not her password"),
        ("nobody", "whatever it is"),
        ("*)(uid=*", "carol's long passphrase"),
    ] {
        let (status, head, body) = as_user(&base, "/", user, pw);
        assert_eq!(status, 401, "{user}: {head}{body}");
    }
    // dave's account is locked in the directory: refused without a bind, and explained.
    let (status, head, _) = as_user(&base, "/", "dave", "dave's long passphrase");
    assert_eq!(status, 401);
    let rid = head
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .unwrap()
        .trim()
        .to_string();
    let refusals: Vec<String> = audit_of(dir.path())
        .iter()
        .filter_map(|l| l["refusal"].as_str().map(String::from))
        .collect();
    assert_eq!(
        refusals,
        [
            "wrong-password",
            "unknown-user",
            "unknown-user",
            "directory-locked"
        ]
    );
    let (code, out, err) = gate_env(
        &["--config", cfg.to_str().unwrap(), "explain", &rid],
        &store,
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("LDAP data 775"), "{out}");
    assert!(out.contains("why401 explain ldap:775"), "{out}");
    // The gateway keeps a record of carol (sessions, factors, lockout hang on it), no password.
    let (code, out, _) = gate_env(&["user", "list"], &store, "");
    assert_eq!(code, 0);
    assert!(out.contains("carol"), "{out}");

    // The directory gone: a credential not remembered is a 503 (fail closed), not a 401.
    drop(slapd.take());
    let (status, head, body) = as_user(&base, "/", "erin", "erin's long passphrase");
    assert_eq!(status, 503, "{head}{body}");
    assert!(body.contains("gate-store-unavailable"), "{body}");
    // And back.
    let _slapd = std::process::Command::new("/usr/sbin/slapd")
        .args([
            "-f",
            dir.path().join("slapd.conf").to_str().unwrap(),
            "-h",
            &format!("ldap://127.0.0.1:{ldap_port}/"),
            "-d",
            "0",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .map(Child)
        .unwrap();
    wait_for(ldap_port, "slapd");
    let (status, _, body) = as_user(&base, "/", "erin", "erin's long passphrase");
    assert_eq!(status, 200, "{body}");
}

#[test]
#[ignore = "runs slapd and curl (scripts/test.sh installs them)"]
fn groups_come_from_member_of_and_a_wrong_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ldap_port = free_port();
    let _slapd = start_slapd(dir.path(), ldap_port);
    std::fs::write(dir.path().join("ldap.secret"), SERVICE_PW).unwrap();
    let cfg = dir.path().join("gate.toml");
    std::fs::write(&cfg, config(ldap_port, "groups = \"member_of\"")).unwrap();
    let store = dir.path().join("gate.db");
    let (_gate, addr) = start_gate(&cfg, &store);
    let base = format!("http://{addr}");
    let (status, _, body) = as_user(&base, "/finance/q4", "carol", "carol's long passphrase");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("remote-groups: finance,staff"), "{body}");
    drop(_gate);

    // A CA that did not sign slapd's certificate: StartTLS fails, and so does every login
    // (503), rather than a password crossing an unverified connection.
    let (_, _, other) = common::leaf_and_ca("someone else's CA");
    std::fs::write(dir.path().join("ca.pem"), other.pem()).unwrap();
    let store2 = dir.path().join("gate2.db");
    let (_gate, addr) = start_gate(&cfg, &store2);
    let (status, _, body) = as_user(
        &format!("http://{addr}"),
        "/",
        "carol",
        "carol's long passphrase",
    );
    assert_eq!(status, 503, "{body}");
}
