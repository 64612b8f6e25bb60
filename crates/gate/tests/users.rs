//! Users in the SQLite store: passwords hashed with Argon2id and checked through `login`, the
//! refusals told apart for the audit log only, imported htpasswd hashes upgraded at the next
//! login, and the password policy.

use proptest::prelude::*;
use why401_gate::htpasswd::{self, Line};
use why401_gate::lockout::Limits;
use why401_gate::login::{self, Login, Refusal};
use why401_gate::password::{self, Kind, Policy};
use why401_gate::store::{Store, StoreError};

/// A login from 192.0.2.1 within the default lockout limits.
async fn log_in(s: &Store, user: &str, pw: &str) -> Login {
    login::check(ctx(s, &Limits::default()), user, pw, "192.0.2.1")
        .await
        .unwrap()
}

async fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("data/gate.db")).await.unwrap();
    (dir, s)
}

#[tokio::test]
async fn a_login_is_accepted_with_the_groups_and_every_refusal_is_told_apart() {
    let (dir, s) = store().await;
    s.add(
        "Alice",
        &password::hash("a long passphrase"),
        None,
        &["admins".into()],
    )
    .await
    .unwrap();
    let accepted = log_in(&s, "alice", "a long passphrase").await;
    let Login::Accepted(who) = accepted else {
        panic!("{accepted:?}")
    };
    assert_eq!(
        (who.user.as_str(), who.groups),
        ("Alice", vec!["admins".to_string()])
    );
    assert_eq!(
        log_in(&s, "alice", "a long passphrasE").await,
        Login::Refused(Refusal::WrongPassword)
    );
    assert_eq!(
        log_in(&s, "mallory", "a long passphrase").await,
        Login::Refused(Refusal::UnknownUser)
    );
    // Spaces around a name, or a control character in it: nobody's (a directory would take
    // ` alice` for alice while the lockout counted it apart).
    for name in [" alice", "alice ", "al\u{0}ice"] {
        assert_eq!(
            log_in(&s, name, "a long passphrase").await,
            Login::Refused(Refusal::UnknownUser),
            "{name:?}"
        );
    }
    s.set_disabled("ALICE", true).await.unwrap();
    assert_eq!(
        log_in(&s, "alice", "a long passphrase").await,
        Login::Refused(Refusal::Disabled)
    );
    // One user per name, whatever its case; unknown users are named.
    assert!(matches!(
        s.add("alice", "x", None, &[]).await,
        Err(StoreError::Exists(_))
    ));
    assert!(matches!(
        s.set_disabled("nobody", true).await,
        Err(StoreError::NoUser(_))
    ));
    // The store is readable by its owner only: it holds password hashes.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("data/gate.db"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn imported_hashes_are_verified_then_upgraded_to_argon2id_at_the_first_login() {
    let (_dir, s) = store().await;
    // Written by Apache's htpasswd 2.4 (`htpasswd -bnB carol carol-pass-123`, `-bnm dave`).
    let bcrypt = "$2y$05$PkRJF33Q0WBCdXQjbzVQ4.D.NdqsFQeFNixGwcb8fhTXcq1HJR4VG";
    let apr1 = "$apr1$/549IOm5$UcMMs8lnjiGHjAjZwsnZ90";
    for (name, hash) in [("carol", bcrypt), ("dave", apr1)] {
        s.add(name, hash, None, &[]).await.unwrap();
    }
    assert_eq!(
        s.user("carol").await.unwrap().unwrap().hash_kind,
        Some(Kind::Bcrypt)
    );
    // A wrong password leaves the old hash alone.
    assert_eq!(
        log_in(&s, "dave", "not dave's").await,
        Login::Refused(Refusal::WrongPassword)
    );
    assert_eq!(
        s.user("dave").await.unwrap().unwrap().hash,
        apr1.to_string()
    );
    for (name, pw) in [("carol", "carol-pass-123"), ("dave", "dave-pass-456")] {
        let before = s.user(name).await.unwrap().unwrap();
        assert!(matches!(log_in(&s, name, pw).await, Login::Accepted(_)));
        let after = s.user(name).await.unwrap().unwrap();
        assert_eq!(after.hash_kind, Some(Kind::Argon2id), "{name}");
        // An upgrade is not a password change.
        assert_eq!(after.password_changed, before.password_changed);
        assert!(matches!(log_in(&s, name, pw).await, Login::Accepted(_)));
    }
}

#[test]
fn old_argon2_parameters_are_rehashed_and_unusable_hashes_never_let_in() {
    // The same password hashed with a lighter cost: right, and to be stored again.
    let light = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8 * 1024, 1, 1, None).unwrap(),
    );
    use argon2::password_hash::PasswordHasher;
    let old = light.hash_password(b"some passphrase").unwrap().to_string();
    let v = password::verify(&old, "some passphrase").unwrap();
    assert!(v.ok && v.rehash);
    let v = password::verify(&password::hash("some passphrase"), "some passphrase").unwrap();
    assert!(v.ok && !v.rehash);
    for bad in [
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=",
        "plain",
        "$1$abc$def",
        "$argon2i$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA",
    ] {
        assert!(password::verify(bad, "plain").is_err(), "{bad}");
    }
    assert!(password::verify("$argon2id$v=19$garbage", "x").is_err());
}

#[test]
fn the_same_password_typed_two_ways_is_one_password() {
    // A composed é, and e with a combining acute accent.
    let h = password::hash("caf\u{e9} au lait, deux sucres");
    assert!(
        password::verify(&h, "cafe\u{301} au lait, deux sucres")
            .unwrap()
            .ok
    );
}

#[test]
fn the_policy_refuses_for_every_reason_and_accepts_length_over_composition() {
    let p = Policy::default();
    let refused = |pw: &str| p.refusals(pw, "alice", &["alice@example.com"]);
    assert!(refused("correct horse battery staple").is_empty());
    // Length counts characters after normalisation, not bytes.
    assert!(
        refused("éééééééééé")
            .iter()
            .any(|r| r.contains("at least 12 characters"))
    );
    assert!(
        refused(&"long ".repeat(60))
            .iter()
            .any(|r| r.contains("at most 256"))
    );
    assert!(
        refused("tab\tinside a passphrase")
            .iter()
            .any(|r| r.contains("control characters"))
    );
    assert!(
        refused("alice-the-admin-2026")
            .iter()
            .any(|r| r.contains("user name"))
    );
    assert!(
        refused("zzzzzzzzzzzzzzzz")
            .iter()
            .any(|r| r.contains("too easy to guess")),
        "{:?}",
        refused("zzzzzzzzzzzzzzzz")
    );
    assert_eq!(
        refused("password1234"),
        ["it is in a list of passwords from public breaches that attackers try first"]
    );
    // The bundled breached list, whatever the strength estimate says; in any case.
    let lenient = Policy {
        min_score: 0,
        ..Policy::default()
    };
    for known in [
        "manchesterunited",
        "1qaz2wsx3edc4rfv",
        "ManchesterUnited",
        "friends4ever",
    ] {
        assert!(
            lenient
                .refusals(known, "alice", &[])
                .iter()
                .any(|r| r.contains("public breaches")),
            "{known}"
        );
    }
    assert!(
        Policy {
            breached: false,
            ..lenient.clone()
        }
        .refusals("manchesterunited", "alice", &[])
        .is_empty()
    );
    // 64 characters and any printable Unicode are accepted, nothing cut off.
    let long = "Tröpfchen über der Brücke, 雨の日 und ein Ostwind, der die Türen klappern lässt";
    assert!(refused(long).is_empty(), "{:?}", refused(long));
    let h = password::hash(long);
    assert!(!password::verify(&h, &long[..long.len() - 1]).unwrap().ok);
    // Composition rules only where a site turns them on.
    let strict = Policy {
        composition: true,
        ..Policy::default()
    };
    assert!(
        !strict
            .refusals("correct horse battery staple", "alice", &[])
            .is_empty()
    );
    assert!(
        strict
            .refusals("Correct horse battery staple 7!", "alice", &[])
            .is_empty()
    );
    assert!(
        Policy {
            min_length: 6,
            ..Policy::default()
        }
        .validate()
        .is_err()
    );
    assert!(
        Policy {
            max_length: 32,
            ..Policy::default()
        }
        .validate()
        .is_err()
    );
}

#[test]
fn an_htpasswd_file_is_read_line_by_line_and_what_is_not_taken_is_named() {
    let text = "# users\nalice:$2y$05$PkRJF33Q0WBCdXQjbzVQ4.D.NdqsFQeFNixGwcb8fhTXcq1HJR4VG\n\nbob:$apr1$/549IOm5$UcMMs8lnjiGHjAjZwsnZ90\r\nerin:{SHA}abc\nALICE:$apr1$x$y\ndigest:realm:0123456789abcdef\nnocolon\n";
    let lines = htpasswd::read(text);
    let users: Vec<_> = lines
        .iter()
        .filter_map(|l| match l {
            Line::User {
                line, name, kind, ..
            } => Some((*line, name.as_str(), *kind)),
            _ => None,
        })
        .collect();
    assert_eq!(users, [(2, "alice", Kind::Bcrypt), (4, "bob", Kind::Apr1)]);
    let skipped: Vec<_> = lines
        .iter()
        .filter_map(|l| match l {
            Line::Skipped { line, why, .. } => Some((*line, why.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(skipped.len(), 4, "{skipped:?}");
    assert!(skipped[0].0 == 5 && skipped[0].1.contains("unsalted SHA-1"));
    assert!(skipped[1].0 == 6 && skipped[1].1.contains("appears earlier"));
    assert!(skipped[2].0 == 7 && skipped[2].1.contains("htdigest"));
    assert!(skipped[3].0 == 8 && skipped[3].1.contains("not `user:hash`"));
}

proptest! {
    /// Any text is a list of users and named skips; any password gets an answer from the
    /// policy; neither panics.
    #[test]
    fn htpasswd_and_policy_never_panic(text in "(?s).{0,400}", pw in "(?s).{0,300}") {
        for l in htpasswd::read(&text) {
            match l {
                Line::User { line, .. } | Line::Skipped { line, .. } => {
                    prop_assert!(line >= 1 && line <= text.lines().count());
                }
            }
        }
        let _ = Policy::default().refusals(&pw, "user", &[]);
    }
}

/// The hashes Apache's own `htpasswd` writes (bcrypt with -B, `$apr1$` with -m) are verified and
/// upgraded: the migration path from an nginx or Apache password file.
#[tokio::test]
#[ignore = "runs htpasswd (apache2-utils, installed by scripts/test.sh)"]
async fn hashes_written_by_apache_htpasswd_are_imported_and_upgraded() {
    let (_dir, s) = store().await;
    let mut file = String::new();
    for (flag, user, pw) in [
        ("-bnB", "carol", "carol's pass"),
        ("-bnm", "dave", "dave's pass"),
    ] {
        let out = std::process::Command::new("htpasswd")
            .args([flag, user, pw])
            .output()
            .expect("htpasswd (apache2-utils) is installed");
        assert!(out.status.success());
        file.push_str(&String::from_utf8(out.stdout).unwrap());
    }
    let lines = htpasswd::read(&file);
    assert_eq!(lines.len(), 2, "{lines:?}");
    for l in lines {
        let Line::User { name, hash, .. } = l else {
            panic!("{l:?}")
        };
        s.add(&name, &hash, None, &[]).await.unwrap();
    }
    for (user, pw) in [("carol", "carol's pass"), ("dave", "dave's pass")] {
        assert_eq!(
            log_in(&s, user, "wrong").await,
            Login::Refused(Refusal::WrongPassword)
        );
        assert!(matches!(log_in(&s, user, pw).await, Login::Accepted(_)));
        assert_eq!(
            s.user(user).await.unwrap().unwrap().hash_kind,
            Some(Kind::Argon2id)
        );
    }
}

async fn login_from(s: &Store, limits: &Limits, user: &str, pw: &str, from: &str) -> Login {
    login::check(ctx(s, limits), user, pw, from).await.unwrap()
}

#[tokio::test]
async fn an_account_locks_after_its_failures_and_the_lock_doubles_and_survives_a_restart() {
    let (dir, s) = store().await;
    s.add("alice", &password::hash("a long passphrase"), None, &[])
        .await
        .unwrap();
    let limits = Limits::default();
    for i in 0..5 {
        // From different addresses: the account's lock is the account's.
        let from = format!("192.0.2.{i}");
        assert_eq!(
            login_from(&s, &limits, "alice", "wrong", &from).await,
            Login::Refused(Refusal::WrongPassword)
        );
    }
    // Locked: even the right password is refused, as a wrong one is.
    assert_eq!(
        login_from(&s, &limits, "alice", "a long passphrase", "198.51.100.9").await,
        Login::Refused(Refusal::Locked)
    );
    let ban = s.ban("user", "alice").await.unwrap().unwrap();
    assert_eq!((ban.locks, ban.until - ban.since), (1, 60));
    // A restart forgets nothing.
    drop(s);
    let s = Store::open(&dir.path().join("data/gate.db")).await.unwrap();
    assert_eq!(
        login_from(&s, &limits, "alice", "a long passphrase", "198.51.100.9").await,
        Login::Refused(Refusal::Locked)
    );
    // The lock runs out; five more failures lock again, twice as long.
    s.set_ban("user", "alice", ban.since - 120, ban.since - 60, 1, "test")
        .await
        .unwrap();
    for _ in 0..5 {
        login_from(&s, &limits, "alice", "wrong", "192.0.2.50").await;
    }
    let ban = s.ban("user", "alice").await.unwrap().unwrap();
    assert_eq!((ban.locks, ban.until - ban.since), (2, 120));
    // Lifted by hand, and then a right password gets in and clears the count.
    assert_eq!(s.clear_bans(Some("ALICE")).await.unwrap(), 1);
    assert!(matches!(
        login_from(&s, &limits, "alice", "a long passphrase", "192.0.2.50").await,
        Login::Accepted(_)
    ));
    assert_eq!(s.failures("user", "alice", 0).await.unwrap(), 0);
}

#[tokio::test]
async fn an_address_is_throttled_first_and_the_hourly_cap_holds() {
    let (_dir, s) = store().await;
    for u in ["alice", "bob"] {
        s.add(u, &password::hash("a long passphrase"), None, &[])
            .await
            .unwrap();
    }
    let limits = Limits {
        address_failures: 6,
        ..Limits::default()
    };
    // One address guessing at many accounts: throttled before any account is locked.
    for i in 0..6 {
        let r = login_from(&s, &limits, &format!("user{i}"), "guess", "203.0.113.7").await;
        assert_eq!(r, Login::Refused(Refusal::UnknownUser));
    }
    assert!(matches!(
        login_from(&s, &limits, "alice", "a long passphrase", "203.0.113.7").await,
        Login::Throttled(_)
    ));
    // Its victims can still log in from elsewhere.
    assert!(matches!(
        login_from(&s, &limits, "alice", "a long passphrase", "192.0.2.1").await,
        Login::Accepted(_)
    ));
    let bans = s.bans(jiff::Timestamp::now().as_second()).await.unwrap();
    assert_eq!(bans.len(), 1);
    assert_eq!(
        (bans[0].kind.as_str(), bans[0].key.as_str()),
        ("address", "203.0.113.7")
    );

    // At most so many failures an hour for one account, however they are spread.
    let capped = Limits {
        account_failures: 1000,
        account_per_hour: 4,
        ..Limits::default()
    };
    for i in 0..4 {
        login_from(&s, &capped, "bob", "wrong", &format!("198.51.100.{i}")).await;
    }
    assert_eq!(
        login_from(&s, &capped, "bob", "a long passphrase", "198.51.100.99").await,
        Login::Refused(Refusal::Locked)
    );
    let ban = s.ban("user", "bob").await.unwrap().unwrap();
    assert!(ban.until - ban.since > 3500, "{ban:?}");
    assert!(
        Limits {
            account_per_hour: 101,
            ..Limits::default()
        }
        .validate()
        .is_err()
    );
}

/// The bundled filter: every password of a list it was built from is in it (no false
/// negatives), and random strong passwords are almost never (16-bit fingerprints: about one in
/// 65,536, twice for the lower-case lookup).
#[test]
fn the_breached_filter_has_no_false_negatives_and_few_false_alarms() {
    use why401_gate::breached::{BUNDLED, Breached, key};
    assert!(BUNDLED.passwords > 90_000, "{}", BUNDLED.passwords);
    for known in [
        "123456",
        "password",
        "iloveyou",
        "qazwsxedcrfvtgb",
        "tequieromucho",
    ] {
        assert!(BUNDLED.contains(known), "{known}");
    }
    let mut state = 0x9e3779b97f4a7c15u64;
    let mut alarms = 0;
    for _ in 0..100_000 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pw = format!("{state:016x}-{:08x}", state >> 7);
        alarms += usize::from(BUNDLED.contains(&pw));
    }
    assert!(alarms <= 10, "{alarms} false alarms in 100,000");
    // A filter of one's own, written and read back.
    let f = Breached::build(vec![key("hunter2hunter2"), key("hunter2hunter2")]).unwrap();
    assert_eq!(f.passwords, 1);
    let back = Breached::read(&f.to_bytes()).unwrap();
    assert!(back.contains("hunter2hunter2") && back.contains("HUNTER2hunter2"));
    // A descriptor whose segments do not fit its fingerprints (the count length 0 here, and
    // a lookup would read past the two) is refused.
    let mut hostile = b"W401BF16".to_vec();
    hostile.extend_from_slice(&1u32.to_le_bytes()); // passwords
    hostile.extend_from_slice(&7u64.to_le_bytes()); // seed
    hostile.extend_from_slice(&1u32.to_le_bytes()); // segment length
    hostile.extend_from_slice(&0u32.to_le_bytes()); // mask
    hostile.extend_from_slice(&0u32.to_le_bytes()); // segment count length
    hostile.extend_from_slice(&[1, 0, 2, 0]); // two fingerprints
    assert!(Breached::read(&hostile).is_err());
    // Damaged filters are refused, never read out of bounds.
    let bytes = f.to_bytes();
    for cut in [0, 7, 31, bytes.len() - 1] {
        assert!(Breached::read(&bytes[..cut]).is_err(), "cut at {cut}");
    }
}

proptest! {
    /// Any descriptor and fingerprints given as a filter: read or refused, never a panic, and a
    /// filter read answers. (The descriptor's fields are drawn small, so that many pass the
    /// magic and reach the bounds checks.)
    #[test]
    fn a_filter_of_any_bytes_is_read_or_refused(
        seed in any::<u64>(),
        shift in 0u32..6,
        mask in 0u32..40,
        count in 0u32..200,
        fingerprints in proptest::collection::vec(any::<u8>(), 0..300),
        pw in ".{0,40}",
    ) {
        let mut bytes = b"W401BF16".to_vec();
        bytes.extend_from_slice(&1u32.to_le_bytes());
        bytes.extend_from_slice(&seed.to_le_bytes());
        bytes.extend_from_slice(&(1u32 << shift).to_le_bytes());
        bytes.extend_from_slice(&mask.to_le_bytes());
        bytes.extend_from_slice(&count.to_le_bytes());
        bytes.extend_from_slice(&fingerprints);
        if let Ok(f) = why401_gate::breached::Breached::read(&bytes) {
            let _ = f.contains(&pw);
        }
    }
}

static NOBODY: std::sync::LazyLock<why401_gate::notify::Notifier> =
    std::sync::LazyLock::new(why401_gate::notify::Notifier::none);

fn ctx<'a>(store: &'a Store, limits: &'a Limits) -> login::Ctx<'a> {
    login::Ctx {
        store,
        limits,
        notify: &NOBODY,
        directory: None,
    }
}
