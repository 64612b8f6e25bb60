//! Access rules: first match wins, `default_policy` when none does (deny unless the config says
//! otherwise). A rule matches on host, path, method, source network, time window and subject;
//! every miss is kept with the criterion that failed, so `gate check` and `gate explain` can say
//! why a request got the answer it got and what would be needed.
//!
//! Semantics follow Authelia's access control, which gateway users know: a rule with subjects
//! that matches on everything else, for a request whose user is not known yet, asks for a
//! login (the subject can only be judged once the user is known), it does not fall through.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use jiff::Timestamp;
use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use regex::Regex;

/// What a rule grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// No authentication.
    Bypass,
    /// A password (or a token, or a session from one).
    OneFactor,
    /// A password and a second factor.
    TwoFactor,
    /// Nobody, authenticated or not.
    Deny,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Bypass => "bypass",
            Action::OneFactor => "one_factor",
            Action::TwoFactor => "two_factor",
            Action::Deny => "deny",
        })
    }
}

/// A host pattern: exact (`app.example.com`) or a wildcard for any subdomain (`*.example.com`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    /// An exact host name.
    Exact(String),
    /// The suffix, with its leading dot: `.example.com`.
    Subdomains(String),
}

impl HostPattern {
    /// Reads `app.example.com` or `*.example.com`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err("an empty host".into());
        }
        if let Some(rest) = s.strip_prefix("*.") {
            if rest.is_empty() || rest.contains('*') {
                return Err(format!("{s:?}: a wildcard is only `*.` before a domain"));
            }
            return Ok(HostPattern::Subdomains(format!(".{rest}")));
        }
        if s.contains('*') {
            return Err(format!("{s:?}: a wildcard is only `*.` before a domain"));
        }
        Ok(HostPattern::Exact(s))
    }

    /// `host` is lowercase, without its port.
    pub fn matches(&self, host: &str) -> bool {
        match self {
            HostPattern::Exact(h) => h == host,
            HostPattern::Subdomains(suffix) => {
                host.len() > suffix.len() && host.ends_with(suffix.as_str())
            }
        }
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostPattern::Exact(h) => f.write_str(h),
            HostPattern::Subdomains(s) => write!(f, "*{s}"),
        }
    }
}

/// A path pattern: a prefix (`/api/`), a glob (`glob:/admin/**`) or a regex (`regex:^/v[0-9]+/`).
#[derive(Debug, Clone)]
pub enum PathPattern {
    /// A path prefix.
    Prefix(String),
    /// A glob over the path (`*` stays within a segment, `**` crosses them).
    Glob(glob::Pattern),
    /// A regular expression searched in the path.
    Regex(Regex),
}

impl PathPattern {
    /// Reads `/prefix`, `glob:…` or `regex:…`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some(g) = s.strip_prefix("glob:") {
            return glob::Pattern::new(g)
                .map(PathPattern::Glob)
                .map_err(|e| format!("glob {g:?}: {e}"));
        }
        if let Some(r) = s.strip_prefix("regex:") {
            return Regex::new(r)
                .map(PathPattern::Regex)
                .map_err(|e| format!("regex {r:?}: {e}"));
        }
        if !s.starts_with('/') {
            return Err(format!(
                "{s:?}: a path starts with `/` (or is `glob:…` or `regex:…`)"
            ));
        }
        Ok(PathPattern::Prefix(s.to_string()))
    }

    /// `path` is the request's path, without its query, percent-decoding already refused or
    /// normalised by the caller.
    pub fn matches(&self, path: &str) -> bool {
        match self {
            PathPattern::Prefix(p) => path.starts_with(p.as_str()),
            PathPattern::Glob(g) => g.matches_with(
                path,
                glob::MatchOptions {
                    case_sensitive: true,
                    require_literal_separator: true,
                    require_literal_leading_dot: false,
                },
            ),
            PathPattern::Regex(r) => r.is_match(path),
        }
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathPattern::Prefix(p) => f.write_str(p),
            PathPattern::Glob(g) => write!(f, "glob:{}", g.as_str()),
            PathPattern::Regex(r) => write!(f, "regex:{}", r.as_str()),
        }
    }
}

/// A network criterion: a CIDR, or a named list from the config's `[networks]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Network {
    /// What the rule said (`internal`, `10.0.0.0/8`).
    pub name: String,
    /// Its networks.
    pub nets: Vec<IpNet>,
}

impl Network {
    /// Whether `ip` is in one of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4 client seen on an IPv6 socket (`::ffff:10.1.2.3`) is that IPv4 address.
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.nets.iter().any(|n| n.contains(&ip))
    }
}

/// A time window: days of the week and an interval of the day, in a time zone. An interval
/// that ends before it starts runs over midnight (`22:00-06:00`), and then belongs to the day
/// it starts on.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeWindow {
    /// What the config said, for messages.
    pub text: String,
    /// Bit `n` set: weekday `n` (Monday = 0).
    pub days: u8,
    /// Start of the interval of the day.
    pub start: Time,
    /// End of the interval (exclusive); equal to the start: all day.
    pub end: Time,
    /// The time zone the days and hours are in.
    pub tz: TimeZone,
}

impl TimeWindow {
    /// Reads the `days` (`mon-fri`, `sat,sun`), `hours` (`08:00-18:00`) and `tz` (IANA name) of a window; empty means every day, all day, UTC.
    pub fn parse(days: &str, hours: &str, tz: &str) -> Result<Self, String> {
        let tz_zone = if tz.is_empty() || tz.eq_ignore_ascii_case("UTC") {
            TimeZone::UTC
        } else {
            TimeZone::get(tz).map_err(|e| format!("time zone {tz:?}: {e}"))?
        };
        let days_bits = if days.trim().is_empty() {
            0x7f
        } else {
            parse_days(days)?
        };
        let (start, end) = match hours.trim() {
            "" => (Time::midnight(), Time::midnight()),
            h => {
                let (a, b) = h
                    .split_once('-')
                    .ok_or_else(|| format!("hours {h:?}: write `HH:MM-HH:MM`"))?;
                (parse_time(a)?, parse_time(b)?)
            }
        };
        Ok(TimeWindow {
            text: format!(
                "{} {} {}",
                if days.trim().is_empty() {
                    "every day"
                } else {
                    days.trim()
                },
                if hours.trim().is_empty() {
                    "all day"
                } else {
                    hours.trim()
                },
                if tz.is_empty() { "UTC" } else { tz }
            ),
            days: days_bits,
            start,
            end,
            tz: tz_zone,
        })
    }

    /// Whether the instant `at` falls in the window.
    pub fn contains(&self, at: Timestamp) -> bool {
        let local = at.to_zoned(self.tz.clone());
        let day = local.weekday().to_monday_zero_offset() as u8;
        let t = local.time();
        let on = |d: u8| self.days & (1 << d) != 0;
        if self.start == self.end {
            // All day.
            return on(day);
        }
        if self.start < self.end {
            return on(day) && t >= self.start && t < self.end;
        }
        // Over midnight: the evening of an allowed day, or the morning after one.
        let yesterday = (day + 6) % 7;
        (on(day) && t >= self.start) || (on(yesterday) && t < self.end)
    }
}

fn parse_days(s: &str) -> Result<u8, String> {
    let mut bits = 0u8;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        let (a, b) = (weekday(a)?, weekday(b)?);
        let mut d = a;
        loop {
            bits |= 1 << d;
            if d == b {
                break;
            }
            d = (d + 1) % 7;
        }
    }
    if bits == 0 {
        return Err(format!("days {s:?}: no day"));
    }
    Ok(bits)
}

fn weekday(s: &str) -> Result<u8, String> {
    let s = s.trim().to_ascii_lowercase();
    let all = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    names
        .iter()
        .zip(all)
        .find(|(n, _)| s.chars().take(3).eq(n.chars()))
        .map(|(_, d)| d.to_monday_zero_offset() as u8)
        .ok_or_else(|| format!("{s:?} is not a day (mon, tue, …, sun)"))
}

fn parse_time(s: &str) -> Result<Time, String> {
    let s = s.trim();
    if s == "24:00" {
        return Ok(Time::midnight());
    }
    let (h, m) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?}: write HH:MM"))?;
    let h: i8 = h.parse().map_err(|_| format!("{s:?}: write HH:MM"))?;
    let m: i8 = m.parse().map_err(|_| format!("{s:?}: write HH:MM"))?;
    Time::new(h, m, 0, 0).map_err(|e| format!("{s:?}: {e}"))
}

/// A subject: a user or a group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// A user, by name (case-insensitive, as Windows and LDAP compare them).
    User(String),
    /// A group, by name.
    Group(String),
}

impl Subject {
    /// Reads `user:NAME` or `group:NAME`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.split_once(':') {
            Some(("user", u)) if !u.is_empty() => Ok(Subject::User(u.to_string())),
            Some(("group", g)) if !g.is_empty() => Ok(Subject::Group(g.to_string())),
            _ => Err(format!("{s:?}: write `user:NAME` or `group:NAME`")),
        }
    }

    fn matches(&self, who: &Identity) -> bool {
        match self {
            Subject::User(u) => who.user.eq_ignore_ascii_case(u),
            Subject::Group(g) => who.groups.iter().any(|x| x.eq_ignore_ascii_case(g)),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::User(u) => write!(f, "user:{u}"),
            Subject::Group(g) => write!(f, "group:{g}"),
        }
    }
}

/// One access rule, as the config wrote it.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Its name, or `rule N`.
    pub name: String,
    /// Where the config defines it (`gate.toml:31`).
    pub at: String,
    /// Hosts (any matches); empty: any host.
    pub hosts: Vec<HostPattern>,
    /// Paths (any matches); empty: any path.
    pub paths: Vec<PathPattern>,
    /// Uppercase; empty: any.
    pub methods: Vec<String>,
    /// Source networks (any matches); empty: anywhere.
    pub networks: Vec<Network>,
    /// Time windows (any matches); empty: any time.
    pub times: Vec<TimeWindow>,
    /// Users and groups (any matches); empty: anyone, even anonymous.
    pub subjects: Vec<Subject>,
    /// What the rule grants.
    pub action: Action,
    /// Its requests are API calls: never a login redirect, always 401 with the challenges.
    pub api: bool,
    /// The scopes a Bearer token needs here (all of them).
    pub scopes: Vec<String>,
    /// A second factor given at most this long ago (a step-up for sensitive paths); `None`:
    /// any time in the session.
    pub step_up: Option<std::time::Duration>,
    /// The client's country (ISO 3166-1 alpha-2, from `[geo]`), any of them; empty: anywhere.
    pub countries: Vec<String>,
    /// Only from a managed device: a client certificate the gateway (or a trusted proxy)
    /// verified against `[server] client_ca`.
    pub managed_device: bool,
}

/// The rules and what applies when none matches.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The rules, in order: the first that matches decides.
    pub rules: Vec<Rule>,
    /// What applies when no rule matches.
    pub default: Action,
}

/// Who is asking, once known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// The user name.
    pub user: String,
    /// The groups the user is in.
    pub groups: Vec<String>,
    /// The user's address, when known (passed on as `Remote-Email`).
    pub email: Option<String>,
    /// The scopes a Bearer token granted; `None`: not a token (a password or a session, which
    /// carry every scope the user's rules give).
    pub scopes: Option<Vec<String>>,
    /// When this authentication last included a second factor (Unix seconds): a session's
    /// TOTP, WebAuthn or recovery code, or a token whose `amr` says so; `None`: a password
    /// only.
    pub second_factor_at: Option<i64>,
    /// Why this sign-in was unusual (a network or country never seen for the user), when it
    /// was ([`crate::risk`]).
    pub unusual: Option<String>,
}

/// What a decision is made on.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// Lowercase, without port.
    pub host: &'a str,
    /// The path, without the query.
    pub path: &'a str,
    /// The method, as sent.
    pub method: &'a str,
    /// The trusted client address.
    pub ip: IpAddr,
    /// When the request arrived.
    pub at: Timestamp,
    /// `None`: not authenticated (yet).
    pub who: Option<&'a Identity>,
    /// The client's country, when `[geo]` knows it.
    pub country: Option<&'a str>,
    /// The verified client certificate's subject (a managed device), when there is one.
    pub device: Option<&'a str>,
}

/// The criterion a rule missed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Criterion {
    /// The host.
    Host,
    /// The path.
    Path,
    /// The method.
    Method,
    /// The source network.
    Network,
    /// The time window.
    Time,
    /// The client's country.
    Country,
    /// The client's device (a managed device's certificate).
    Device,
    /// The user or group.
    Subject,
}

/// A rule passed over, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Miss {
    /// The rule's index in the policy.
    pub rule: usize,
    /// What it missed on.
    pub criterion: Criterion,
    /// In words: `198.51.100.7 is not in internal (10.0.0.0/8, 192.168.0.0/16)`.
    pub why: String,
}

/// The answer to a request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    /// What is granted.
    pub action: Action,
    /// The rule that decided; `None`: the default policy.
    pub rule: Option<usize>,
    /// The rule matched on all but its subjects, which need the user: log in first.
    pub needs_identity: bool,
    /// The rules passed over before it, in order.
    pub misses: Vec<Miss>,
}

impl Policy {
    /// The first rule that matches `r`, with the misses before it.
    pub fn decide(&self, r: &Request<'_>) -> Decision {
        let mut misses = Vec::new();
        for (i, rule) in self.rules.iter().enumerate() {
            match rule.miss(r) {
                Some((criterion, why)) => misses.push(Miss {
                    rule: i,
                    criterion,
                    why,
                }),
                None if r.who.is_none() && !rule.subjects.is_empty() => {
                    return Decision {
                        action: rule.action,
                        rule: Some(i),
                        needs_identity: true,
                        misses,
                    };
                }
                None => {
                    return Decision {
                        action: rule.action,
                        rule: Some(i),
                        needs_identity: false,
                        misses,
                    };
                }
            }
        }
        Decision {
            action: self.default,
            rule: None,
            needs_identity: false,
            misses,
        }
    }
}

impl Rule {
    /// The first criterion this rule misses `r` on, in words; `None`: it matches (subjects
    /// unjudged when the user is not known).
    fn miss(&self, r: &Request<'_>) -> Option<(Criterion, String)> {
        let list = |v: Vec<String>| v.join(", ");
        if !self.hosts.is_empty() && !self.hosts.iter().any(|h| h.matches(r.host)) {
            let hosts = list(self.hosts.iter().map(ToString::to_string).collect());
            return Some((Criterion::Host, format!("host {} is not {hosts}", r.host)));
        }
        if !self.paths.is_empty() && !self.paths.iter().any(|p| p.matches(r.path)) {
            let paths = list(self.paths.iter().map(ToString::to_string).collect());
            return Some((
                Criterion::Path,
                format!("path {} is not under {paths}", r.path),
            ));
        }
        if !self.methods.is_empty()
            && !self
                .methods
                .iter()
                .any(|m| m.eq_ignore_ascii_case(r.method))
        {
            let methods = list(self.methods.clone());
            return Some((
                Criterion::Method,
                format!("method {} is not {methods}", r.method),
            ));
        }
        if !self.networks.is_empty() && !self.networks.iter().any(|n| n.contains(r.ip)) {
            let nets = list(
                self.networks
                    .iter()
                    .map(|n| {
                        let cidrs = n.nets.iter().map(ToString::to_string).collect::<Vec<_>>();
                        if cidrs.len() == 1 && cidrs[0] == n.name {
                            n.name.clone()
                        } else {
                            format!("{} ({})", n.name, cidrs.join(", "))
                        }
                    })
                    .collect(),
            );
            return Some((Criterion::Network, format!("{} is not in {nets}", r.ip)));
        }
        if !self.times.is_empty() && !self.times.iter().any(|t| t.contains(r.at)) {
            let times = list(self.times.iter().map(|t| t.text.clone()).collect());
            return Some((
                Criterion::Time,
                format!(
                    "{} is outside {times}",
                    r.at.round(jiff::Unit::Second).unwrap_or(r.at)
                ),
            ));
        }
        if !self.countries.is_empty()
            && !r
                .country
                .is_some_and(|c| self.countries.iter().any(|x| x.eq_ignore_ascii_case(c)))
        {
            let list = list(self.countries.clone());
            return Some((
                Criterion::Country,
                match r.country {
                    Some(c) => format!("{} is in {c}, not {list}", r.ip),
                    None => format!("the country of {} is not known, so not {list}", r.ip),
                },
            ));
        }
        if self.managed_device && r.device.is_none() {
            return Some((
                Criterion::Device,
                "no managed device: the connection showed no client certificate the gateway verified".to_string(),
            ));
        }
        if let Some(who) = r.who
            && !self.subjects.is_empty()
            && !self.subjects.iter().any(|s| s.matches(who))
        {
            let subjects = list(self.subjects.iter().map(ToString::to_string).collect());
            let groups = if who.groups.is_empty() {
                "no group".to_string()
            } else {
                format!("groups {}", who.groups.join(", "))
            };
            return Some((
                Criterion::Subject,
                format!("{} ({groups}) is not {subjects}", who.user),
            ));
        }
        None
    }
}
