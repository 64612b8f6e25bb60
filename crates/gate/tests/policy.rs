//! The access policy read from TOML and asked about requests: first match, the default, the
//! login a subject rule needs, each miss named, and config errors where they are.

use std::net::IpAddr;

use jiff::Timestamp;
use proptest::prelude::*;
use why401_gate::policy::{Action, Criterion, Identity, Request};
use why401_gate::{Config, ConfigError};

const CONFIG: &str = r#"
[networks]
internal = ["10.0.0.0/8", "192.168.0.0/16"]

[access]
default_policy = "deny"

[[access.rule]]
name = "health"
paths = ["/healthz"]
methods = ["GET", "HEAD"]
policy = "bypass"

[[access.rule]]
name = "public"
hosts = ["www.example.com"]
policy = "bypass"

[[access.rule]]
name = "admins"
hosts = ["*.example.com"]
paths = ["glob:/admin/**"]
networks = ["internal"]
subjects = ["group:admins"]
policy = "two_factor"

[[access.rule]]
name = "office-hours"
hosts = ["reports.example.com"]
times = [{ days = "mon-fri", hours = "08:00-18:00", tz = "Europe/Paris" }]
policy = "one_factor"

[[access.rule]]
name = "api"
paths = ["regex:^/api/v[0-9]+/"]
subjects = ["user:svc-backup", "group:api"]
policy = "one_factor"
"#;

fn config() -> Config {
    Config::parse(CONFIG, "gate.toml").unwrap()
}

fn ask(
    c: &Config,
    host: &str,
    path: &str,
    ip: &str,
    at: &str,
    who: Option<&Identity>,
) -> why401_gate::Decision {
    c.policy.decide(&Request {
        host,
        path,
        method: "GET",
        ip: ip.parse::<IpAddr>().unwrap(),
        at: at.parse::<Timestamp>().unwrap(),
        who,
        country: None,
        device: None,
    })
}

const MONDAY_NOON_PARIS: &str = "2026-12-07T11:00:00Z";
const SUNDAY: &str = "2026-12-06T11:00:00Z";

#[test]
fn the_first_rule_that_matches_decides_and_the_misses_before_it_are_named() {
    let c = config();
    let alice = Identity {
        user: "alice".into(),
        groups: vec!["admins".into()],
        ..Default::default()
    };
    let d = ask(
        &c,
        "app.example.com",
        "/admin/users",
        "10.1.2.3",
        SUNDAY,
        Some(&alice),
    );
    assert_eq!(
        (d.action, d.rule, d.needs_identity),
        (Action::TwoFactor, Some(2), false)
    );
    assert_eq!(
        d.misses.iter().map(|m| m.criterion).collect::<Vec<_>>(),
        [Criterion::Path, Criterion::Host]
    );
    assert_eq!(d.misses[0].why, "path /admin/users is not under /healthz");
    assert_eq!(c.policy.rules[2].at, "gate.toml:19");

    // From outside, the admins' rule misses on its network, and nothing else matches.
    let d = ask(
        &c,
        "app.example.com",
        "/admin/users",
        "198.51.100.7",
        SUNDAY,
        Some(&alice),
    );
    assert_eq!((d.action, d.rule), (Action::Deny, None));
    let m = d.misses.iter().find(|m| m.rule == 2).unwrap();
    assert_eq!(m.criterion, Criterion::Network);
    assert_eq!(
        m.why,
        "198.51.100.7 is not in internal (10.0.0.0/8, 192.168.0.0/16)"
    );
    // An IPv4 client on an IPv6 socket is that IPv4 client.
    let d = ask(
        &c,
        "app.example.com",
        "/admin/x",
        "::ffff:10.9.9.9",
        SUNDAY,
        Some(&alice),
    );
    assert_eq!(d.rule, Some(2));
}

#[test]
fn a_subject_rule_asks_an_anonymous_request_to_log_in_and_judges_a_known_user() {
    let c = config();
    let d = ask(&c, "app.example.com", "/admin/", "10.0.0.1", SUNDAY, None);
    assert_eq!(
        (d.action, d.rule, d.needs_identity),
        (Action::TwoFactor, Some(2), true)
    );
    let bob = Identity {
        user: "bob".into(),
        groups: vec!["staff".into()],
        ..Default::default()
    };
    let d = ask(
        &c,
        "app.example.com",
        "/admin/",
        "10.0.0.1",
        SUNDAY,
        Some(&bob),
    );
    assert_eq!((d.action, d.rule), (Action::Deny, None));
    let m = d.misses.iter().find(|m| m.rule == 2).unwrap();
    assert_eq!(
        (m.criterion, m.why.as_str()),
        (Criterion::Subject, "bob (groups staff) is not group:admins")
    );
    // Users are compared as Windows and LDAP compare them.
    let svc = Identity {
        user: "SVC-Backup".into(),
        groups: vec![],
        ..Default::default()
    };
    let d = ask(
        &c,
        "x.internal",
        "/api/v2/items",
        "10.0.0.1",
        SUNDAY,
        Some(&svc),
    );
    assert_eq!((d.action, d.rule), (Action::OneFactor, Some(4)));
    let d = ask(
        &c,
        "x.internal",
        "/api/v2x/items",
        "10.0.0.1",
        SUNDAY,
        Some(&svc),
    );
    assert_eq!(d.rule, None);
}

#[test]
fn time_windows_are_in_their_zone_and_a_wildcard_is_only_subdomains() {
    let c = config();
    let d = ask(
        &c,
        "reports.example.com",
        "/",
        "192.0.2.1",
        MONDAY_NOON_PARIS,
        None,
    );
    assert_eq!((d.action, d.rule), (Action::OneFactor, Some(3)));
    // 07:30 in Paris (06:30 UTC): before hours.
    let d = ask(
        &c,
        "reports.example.com",
        "/",
        "192.0.2.1",
        "2026-12-07T06:30:00Z",
        None,
    );
    assert_eq!(d.rule, None);
    let m = d.misses.iter().find(|m| m.rule == 3).unwrap();
    assert_eq!(m.criterion, Criterion::Time);
    assert!(
        m.why.contains("mon-fri 08:00-18:00 Europe/Paris"),
        "{}",
        m.why
    );
    let d = ask(&c, "reports.example.com", "/", "192.0.2.1", SUNDAY, None);
    assert_eq!(d.rule, None);
    // `*.example.com` is not example.com itself.
    let d = ask(&c, "example.com", "/admin/", "10.0.0.1", SUNDAY, None);
    assert_eq!(
        d.misses.iter().find(|m| m.rule == 2).unwrap().criterion,
        Criterion::Host
    );
}

#[test]
fn windows_over_midnight_belong_to_the_day_they_start() {
    let c = Config::parse(
        "[[access.rule]]\ntimes = [{ days = \"fri\", hours = \"22:00-06:00\" }]\npolicy = \"bypass\"\n",
        "night.toml",
    )
    .unwrap();
    let at = |t: &str| ask(&c, "h", "/", "192.0.2.1", t, None).rule;
    assert_eq!(at("2026-12-11T23:00:00Z"), Some(0)); // Friday night
    assert_eq!(at("2026-12-12T05:59:00Z"), Some(0)); // Saturday morning, same window
    assert_eq!(at("2026-12-12T06:00:00Z"), None);
    assert_eq!(at("2026-12-12T23:00:00Z"), None); // Saturday night
    assert_eq!(at("2026-12-11T05:00:00Z"), None); // Friday morning: Thursday's window
}

#[test]
fn the_default_is_deny_unless_the_config_says_otherwise() {
    let c = Config::parse("", "empty.toml").unwrap();
    let d = ask(&c, "h", "/", "192.0.2.1", SUNDAY, None);
    assert_eq!((d.action, d.rule), (Action::Deny, None));
    let c = Config::parse("[access]\ndefault_policy = \"one_factor\"\n", "x").unwrap();
    assert_eq!(
        ask(&c, "h", "/", "192.0.2.1", SUNDAY, None).action,
        Action::OneFactor
    );
}

fn errors(text: &str) -> Vec<ConfigError> {
    Config::parse(text, "gate.toml").unwrap_err()
}

#[test]
fn config_errors_say_file_line_and_column_and_every_one_is_reported() {
    let e = errors(
        "[networks]\nlan = [\"10.1.2.3/8\"]\n\n[[access.rule]]\npaths = [\"admin\"]\nnetworks = [\"wan\"]\ntimes = [{ days = \"someday\" }]\nsubjects = [\"admins\"]\nmethods = [\"FETCH\"]\npolicy = \"deny\"\n",
    );
    let got: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(got.len(), 6, "{got:#?}");
    assert!(
        got[0].starts_with("gate.toml:2:8: \"10.1.2.3/8\" has host bits set: write 10.0.0.0/8"),
        "{got:#?}"
    );
    assert!(
        got[1].starts_with("gate.toml:5:10: \"admin\": a path starts with `/`"),
        "{got:#?}"
    );
    assert!(
        got[2].starts_with("gate.toml:6:13: \"wan\" is not a network") && got[2].contains("(lan)"),
        "{got:#?}"
    );
    assert!(
        got[3].starts_with("gate.toml:7:10:") && got[3].contains("\"someday\" is not a day"),
        "{got:#?}"
    );
    assert!(
        got[4].starts_with("gate.toml:8:13: \"admins\": write `user:NAME` or `group:NAME`"),
        "{got:#?}"
    );
    assert!(
        got[5].starts_with("gate.toml:9:12: \"FETCH\" is not an HTTP method"),
        "{got:#?}"
    );

    // Unknown keys and wrong types, from the TOML reader, where they are.
    let e = errors("[access]\ndefault_policy = \"allow\"\n");
    assert_eq!((e[0].line, e[0].column), (2, 18), "{e:?}");
    assert!(e[0].message.contains("unknown variant `allow`"), "{e:?}");
    let e = errors("[[access.rule]]\npolicy = \"bypass\"\npaht = [\"/\"]\n");
    assert_eq!(e[0].line, 3, "{e:?}");
    assert!(e[0].message.contains("unknown field `paht`"), "{e:?}");
    let e = errors(
        "[[access.rule]]\ntimes = [{ hours = \"8-18\", tz = \"Mars/Olympus\" }]\npolicy = \"deny\"\n",
    );
    assert!(e[0].message.contains("Mars/Olympus"), "{e:?}");
}

#[test]
fn the_embedded_demo_configuration_is_valid() {
    let c = Config::demo();
    assert_eq!(c.policy.default, Action::Deny);
    assert!(c.policy.rules.len() >= 3);
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("app.example.com".to_string()),
        Just("example.com".to_string()),
        Just("www.example.com".to_string()),
        Just("reports.example.com".to_string()),
        "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}",
    ]
}

proptest! {
    /// Any text read as a configuration gives a configuration or errors inside the text.
    #[test]
    fn any_text_is_a_config_or_errors_that_point_into_it(text in "(?s).{0,300}") {
        if let Err(errors) = Config::parse(&text, "x.toml") {
            prop_assert!(!errors.is_empty());
            for e in errors {
                prop_assert!(e.line >= 1 && e.line <= text.lines().count().max(1) + 1, "{e}");
            }
        }
    }

    /// Rules after the one that decides change nothing; a rule put in front that matches
    /// everything decides everything.
    #[test]
    fn the_first_match_decides(
        h in host(),
        path in "/[a-z/]{0,20}",
        ip in any::<[u8; 4]>(),
        secs in 1_700_000_000i64..1_900_000_000,
        user in proptest::option::of(("[a-z]{1,6}", proptest::collection::vec("[a-z]{1,6}", 0..3))),
    ) {
        let c = config();
        let who = user.map(|(user, groups)| Identity { user, groups, ..Default::default() });
        let ip = IpAddr::from(ip);
        let at = Timestamp::from_second(secs).unwrap();
        let r = Request { host: &h, path: &path, method: "GET", ip, at, who: who.as_ref(), country: None, device: None };
        let d = c.policy.decide(&r);
        prop_assert!(d.misses.iter().all(|m| Some(m.rule) < d.rule || d.rule.is_none()));
        prop_assert_eq!(d.misses.len(), d.rule.unwrap_or(c.policy.rules.len()));
        if let Some(i) = d.rule {
            let mut shorter = c.policy.clone();
            shorter.rules.truncate(i + 1);
            prop_assert_eq!(&shorter.decide(&r), &d);
        }
        let mut fronted = c.policy.clone();
        let mut all = fronted.rules[0].clone();
        (all.hosts, all.paths, all.methods, all.action) = (vec![], vec![], vec![], Action::Deny);
        fronted.rules.insert(0, all);
        let f = fronted.decide(&r);
        prop_assert_eq!((f.action, f.rule), (Action::Deny, Some(0)));
    }
}
