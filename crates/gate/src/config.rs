//! The gateway's configuration: TOML, every value checked before the gateway starts, and every
//! error reported with its file, line and column, as a compiler reports them (a gateway that
//! starts with half a policy lets the other half through).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::password;
use crate::policy::{Action, HostPattern, Network, PathPattern, Policy, Rule, Subject, TimeWindow};

/// The configuration the demo runs, and `gate check` reads without `--config`.
pub const DEMO: &str = include_str!("demo.toml");

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from (`gate.toml`, or `embedded:demo.toml`).
    pub file: String,
    /// The access policy.
    pub policy: Policy,
    /// The SQLite database, as the config names it (relative to the config file's directory);
    /// `None`: the default place.
    pub sqlite: Option<String>,
    /// A PostgreSQL URL for users, factors and the audit trail, instead of SQLite.
    pub postgres: Option<String>,
    /// A Redis URL for sessions, lockout counters, TOTP replay marks and explain records.
    pub redis: Option<String>,
    /// What a new password must meet.
    pub password: password::Policy,
    /// How the gateway serves.
    pub server: Server,
    /// How long browser sessions last.
    pub sessions: Sessions,
    /// Lockout and throttling thresholds.
    pub lockout: crate::lockout::Limits,
    /// The audit log, as the config names it (relative to the config file's directory);
    /// `None`: `audit.jsonl` next to the store.
    pub audit: Option<String>,
    /// Where allowed requests go when the gateway is the reverse proxy: first match wins;
    /// none: the gateway only answers the decision endpoints.
    pub routes: Vec<Route>,
    /// Bearer tokens (JWT) accepted, and how they are checked; `None`: no Bearer.
    pub bearer: Option<Bearer>,
    /// Who may read the admin endpoints (`/.why401/admin/…`, `/.why401/metrics`).
    pub admin: Admin,
    /// Second factors: who must give one, how they enrol.
    pub mfa: Mfa,
    /// Where lockouts, unusual sign-ins and factor changes are told.
    pub notify: crate::notify::Targets,
    /// The directory users come from, when there is one.
    pub ldap: Option<crate::ldap::Settings>,
    /// The MaxMind-format country database (relative to the config's directory).
    pub geo: Option<String>,
    /// What an unusual sign-in gets.
    pub unusual: crate::risk::Unusual,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLdap {
    url: Spanned<String>,
    #[serde(default)]
    start_tls: bool,
    ca_file: Option<String>,
    bind_dn: String,
    bind_password_file: Option<String>,
    base_dn: String,
    directory: Option<Spanned<String>>,
    user_filter: Option<Spanned<String>>,
    groups: Option<Spanned<String>>,
    group_base_dn: Option<String>,
    group_filter: Option<String>,
    group_name_attribute: Option<String>,
    mail_attribute: Option<String>,
    name_attribute: Option<String>,
    timeout_seconds: Option<u64>,
    pool_size: Option<usize>,
}

/// Second factors (`[mfa]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mfa {
    /// Groups whose members give a second factor wherever a rule asks for a password (the
    /// admin group always does).
    pub groups: Vec<String>,
    /// The issuer an authenticator app shows beside the account (default `why401`).
    pub issuer: String,
    /// A user who has no second factor and is asked for one may enrol one right after the
    /// password (default true); false: only `why401 gate totp enroll` enrols.
    pub enroll_on_login: bool,
    /// WebAuthn user verification (a PIN or biometric on the authenticator): `required`
    /// (passkeys; default) or `preferred` (security keys that may only test presence).
    pub user_verification_required: bool,
    /// The key that seals TOTP secrets (relative to the config's directory); `None`:
    /// `gate.key` beside the store. `WHY401_GATE_KEY` overrides both.
    pub key_file: Option<String>,
}

impl Default for Mfa {
    fn default() -> Self {
        Mfa {
            groups: Vec::new(),
            issuer: "why401".into(),
            enroll_on_login: true,
            user_verification_required: true,
            key_file: None,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawMfa {
    #[serde(default)]
    groups: Vec<String>,
    issuer: Option<String>,
    enroll_on_login: Option<bool>,
    user_verification: Option<Spanned<String>>,
    key_file: Option<String>,
}

/// A route of the reverse proxy: the requests it takes and the upstream they go to.
#[derive(Debug, Clone)]
pub struct Route {
    /// Hosts (any matches); empty: any.
    pub hosts: Vec<HostPattern>,
    /// Paths (any matches); empty: any.
    pub paths: Vec<PathPattern>,
    /// Where they go.
    pub upstream: Upstream,
    /// Speak HTTP/2 to the upstream (prior knowledge for `http://`; for `https://` ALPN
    /// chooses either way).
    pub http2: bool,
}

/// An upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// An HTTP or HTTPS origin: scheme, host and port, no path.
    Url(url::Url),
    /// `builtin:echo`: the gateway answers with the request as the upstream would see it
    /// (the demo's app, and a way to look at the identity headers).
    Echo,
}

/// How Bearer tokens are checked (RFC 6750 with RFC 9068's JWT profile).
#[derive(Debug, Clone)]
pub struct Bearer {
    /// The JWKS: a file (relative to the config's directory) or an `https://` URL.
    pub jwks: String,
    /// The `iss` required.
    pub issuer: String,
    /// The `aud` values accepted (any of them).
    pub audience: Vec<String>,
    /// The algorithms accepted; nothing else is tried, whatever the token's header says.
    pub algorithms: Vec<jsonwebtoken::Algorithm>,
    /// The clock skew allowed on `exp` and `nbf`.
    pub leeway: std::time::Duration,
    /// The claim naming the user (default `sub`).
    pub user_claim: String,
    /// The claim listing the groups (default `groups`).
    pub groups_claim: String,
}

/// Who may read the admin endpoints.
#[derive(Debug, Clone)]
pub struct Admin {
    /// The group whose members may read `/.why401/admin/explain/…` (default `admins`).
    pub group: String,
    /// Where the admin endpoints and the metrics answer from (default loopback only).
    pub networks: Vec<ipnet::IpNet>,
}

impl Default for Admin {
    fn default() -> Self {
        Admin {
            group: "admins".into(),
            networks: vec![
                "127.0.0.0/8".parse().expect("a CIDR"),
                "::1/128".parse().expect("a CIDR"),
            ],
        }
    }
}

/// A configuration error: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The line, from 1.
    pub line: usize,
    /// The column, in characters, from 1.
    pub column: usize,
    /// What is wrong, and what to write instead where it can say.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    networks: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    access: RawAccess,
    #[serde(default)]
    store: RawStore,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    session: RawSession,
    #[serde(default)]
    audit: RawAudit,
    password: Option<Spanned<password::Policy>>,
    lockout: Option<Spanned<crate::lockout::Limits>>,
    #[serde(default, rename = "route")]
    routes: Vec<Spanned<RawRoute>>,
    bearer: Option<Spanned<RawBearer>>,
    #[serde(default)]
    admin: RawAdmin,
    #[serde(default)]
    mfa: RawMfa,
    #[serde(default)]
    notify: RawNotify,
    ldap: Option<Spanned<RawLdap>>,
    #[serde(default)]
    geo: RawGeo,
    #[serde(default)]
    risk: RawRisk,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawGeo {
    database: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawRisk {
    unusual: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    webhook: Option<Spanned<String>>,
    #[serde(default)]
    command: Vec<String>,
    retries: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    upstream: Spanned<String>,
    #[serde(default)]
    http2: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBearer {
    jwks: String,
    issuer: String,
    #[serde(default)]
    audience: Vec<String>,
    #[serde(default)]
    algorithms: Vec<Spanned<String>>,
    leeway_seconds: Option<u64>,
    user_claim: Option<String>,
    groups_claim: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAdmin {
    group: Option<String>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    #[serde(default)]
    trusted_proxies: Vec<Spanned<String>>,
    realm: Option<String>,
    basic: Option<bool>,
    basic_cache_seconds: Option<u64>,
    tls_certificate: Option<String>,
    tls_key: Option<String>,
    client_ca: Option<String>,
    #[serde(default)]
    trust_client_cert_headers: bool,
}

/// How the gateway serves: where it listens, whom it trusts, where browsers log in.
#[derive(Debug, Clone)]
pub struct Server {
    /// The address it listens on (default 127.0.0.1:9401).
    pub listen: std::net::SocketAddr,
    /// The proxies whose `X-Forwarded-*`, `X-Original-*` and `X-Real-IP` are believed
    /// (default: loopback only). Anyone else's are ignored.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// The realm of the challenges.
    pub realm: String,
    /// Basic authentication is accepted.
    pub basic: bool,
    /// How long a verified Basic credential is remembered.
    pub basic_cache: std::time::Duration,
    /// HTTPS: the certificate chain and its key, PEM files (relative to the config's
    /// directory); `None`: plain HTTP (behind a proxy that terminates TLS, or on loopback).
    pub tls: Option<(String, String)>,
    /// The CA (PEM, relative to the config's directory) of managed devices' client
    /// certificates: asked for on the TLS listener, optional, verified when given.
    pub client_ca: Option<String>,
    /// Believe a trusted proxy's `X-SSL-Client-Verify` and `X-SSL-Client-S-DN` (the proxy
    /// verified the device's certificate, and sets both on every request, overwriting the
    /// client's). Off by default: a proxy that passes the client's own headers on would let
    /// anyone claim a managed device.
    pub trust_client_cert_headers: bool,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: ([127, 0, 0, 1], 9401).into(),
            trusted_proxies: vec![
                "127.0.0.0/8".parse().expect("a CIDR"),
                "::1/128".parse().expect("a CIDR"),
            ],
            realm: "why401".into(),
            basic: true,
            basic_cache: std::time::Duration::from_secs(60),
            tls: None,
            client_ca: None,
            trust_client_cert_headers: false,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSession {
    idle_minutes: Option<u64>,
    absolute_hours: Option<u64>,
}

/// How long a browser session lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sessions {
    /// Ended after this long unused (default 30 minutes).
    pub idle: std::time::Duration,
    /// Ended this long after login, used or not (default 12 hours).
    pub absolute: std::time::Duration,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            idle: std::time::Duration::from_secs(30 * 60),
            absolute: std::time::Duration::from_secs(12 * 3600),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    path: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawStore {
    sqlite: Option<String>,
    postgres: Option<Spanned<String>>,
    redis: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawAccess {
    default_policy: Option<Action>,
    #[serde(default, rename = "rule")]
    rules: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Option<String>,
    #[serde(default)]
    hosts: Vec<Spanned<String>>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    #[serde(default)]
    methods: Vec<Spanned<String>>,
    #[serde(default)]
    networks: Vec<Spanned<String>>,
    #[serde(default)]
    times: Vec<Spanned<RawTime>>,
    #[serde(default)]
    subjects: Vec<Spanned<String>>,
    policy: Action,
    #[serde(default)]
    api: bool,
    #[serde(default)]
    scopes: Vec<String>,
    step_up_minutes: Option<Spanned<u64>>,
    #[serde(default)]
    countries: Vec<Spanned<String>>,
    devices: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTime {
    #[serde(default)]
    days: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    tz: String,
}

/// The methods a rule may name.
const METHODS: [&str; 9] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE",
];

impl Config {
    /// The group `who` is in that always gives a second factor (`[mfa] groups`, and `[admin]
    /// group`), if any.
    pub fn second_factor_group(&self, who: &crate::policy::Identity) -> Option<String> {
        who.groups
            .iter()
            .find(|g| {
                g.eq_ignore_ascii_case(&self.admin.group)
                    || self.mfa.groups.iter().any(|m| m.eq_ignore_ascii_case(g))
            })
            .cloned()
    }

    /// The embedded demo configuration.
    pub fn demo() -> Config {
        Config::parse(DEMO, "embedded:demo.toml").expect("the embedded demo configuration is valid")
    }

    /// Reads and checks `text`, from `file`; every error found, in the order of the file.
    pub fn parse(text: &str, file: &str) -> Result<Config, Vec<ConfigError>> {
        let at = |span: Option<Range<usize>>, message: String| {
            let (line, column) = span.map_or((1, 1), |s| line_column(text, s.start));
            ConfigError {
                file: file.to_string(),
                line,
                column,
                message,
            }
        };
        let raw: Raw = toml::from_str(text)
            .map_err(|e| vec![at(e.span(), e.message().trim_end().to_string())])?;
        let mut errors = Vec::new();
        let mut networks: BTreeMap<String, Network> = BTreeMap::new();
        for (name, cidrs) in &raw.networks {
            let mut nets = Vec::new();
            for c in cidrs {
                match parse_net(c.get_ref()) {
                    Ok(n) => nets.push(n),
                    Err(e) => errors.push(at(Some(c.span()), e)),
                }
            }
            networks.insert(
                name.clone(),
                Network {
                    name: name.clone(),
                    nets,
                },
            );
        }
        let mut rules = Vec::new();
        for (i, spanned) in raw.access.rules.iter().enumerate() {
            let r = spanned.get_ref();
            let (line, _) = line_column(text, spanned.span().start);
            let mut times = Vec::with_capacity(r.times.len());
            for t in &r.times {
                let w = t.get_ref();
                match TimeWindow::parse(&w.days, &w.hours, &w.tz) {
                    Ok(w) => times.push(w),
                    Err(e) => errors.push(at(Some(t.span()), e)),
                }
            }
            if r.policy == Action::Bypass && !r.subjects.is_empty() {
                errors.push(at(
                    Some(spanned.span()),
                    "a bypass rule cannot name subjects: who the user is is not known without a login (write one_factor)".into(),
                ));
            }
            let step_up = r.step_up_minutes.as_ref().and_then(|m| {
                if r.policy != Action::TwoFactor {
                    errors.push(at(
                        Some(m.span()),
                        "step_up_minutes asks for a recent second factor: the rule's policy must be two_factor".into(),
                    ));
                    None
                } else if *m.get_ref() == 0 || *m.get_ref() > 24 * 60 {
                    errors.push(at(
                        Some(m.span()),
                        "step_up_minutes is from 1 to 1440".into(),
                    ));
                    None
                } else {
                    Some(std::time::Duration::from_secs(m.get_ref() * 60))
                }
            });
            let rule = Rule {
                name: r.name.clone().unwrap_or_else(|| format!("rule {}", i + 1)),
                at: format!("{file}:{line}"),
                hosts: each(&r.hosts, &mut errors, &at, HostPattern::parse),
                paths: each(&r.paths, &mut errors, &at, PathPattern::parse),
                methods: each(&r.methods, &mut errors, &at, |s| {
                    let m = s.trim().to_ascii_uppercase();
                    if !METHODS.contains(&m.as_str()) {
                        return Err(format!(
                            "{s:?} is not an HTTP method ({})",
                            METHODS.join(", ")
                        ));
                    }
                    Ok(m)
                }),
                networks: each(&r.networks, &mut errors, &at, |s| match networks.get(s) {
                    Some(n) => Ok(n.clone()),
                    None => Ok(Network {
                        name: s.to_string(),
                        nets: vec![parse_net(s).map_err(|e| {
                            let names: Vec<_> = networks.keys().map(String::as_str).collect();
                            if names.is_empty() {
                                e
                            } else {
                                format!("{e}, nor a network of [networks] ({})", names.join(", "))
                            }
                        })?],
                    }),
                }),
                times,
                subjects: each(&r.subjects, &mut errors, &at, Subject::parse),
                action: r.policy,
                api: r.api,
                scopes: r.scopes.clone(),
                step_up,
                countries: each(&r.countries, &mut errors, &at, |c| {
                    let up = c.trim().to_ascii_uppercase();
                    if up.len() != 2 || !up.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(format!(
                            "{c:?} is not a country code (ISO 3166-1 alpha-2: DE, FR, US)"
                        ));
                    }
                    if raw.geo.database.is_none() {
                        return Err(format!(
                            "countries = [{c:?}] needs [geo] database (a MaxMind-format country file)"
                        ));
                    }
                    Ok(up)
                }),
                managed_device: match &r.devices {
                    None => false,
                    // Verified by the gateway's TLS listener (`[server] client_ca`) or by a
                    // trusted proxy (`X-SSL-Client-Verify`).
                    Some(d) if d.get_ref() == "managed" => true,
                    Some(d) => {
                        errors.push(at(
                            Some(d.span()),
                            format!("devices = {:?}: write \"managed\"", d.get_ref()),
                        ));
                        false
                    }
                },
            };
            rules.push(rule);
        }
        let password = match &raw.password {
            Some(p) => {
                if let Err(e) = p.get_ref().validate() {
                    errors.push(at(Some(p.span()), format!("[password] {e}")));
                }
                p.get_ref().clone()
            }
            None => password::Policy::default(),
        };
        let lockout = match &raw.lockout {
            Some(l) => {
                if let Err(e) = l.get_ref().validate() {
                    errors.push(at(Some(l.span()), format!("[lockout] {e}")));
                }
                l.get_ref().clone()
            }
            None => crate::lockout::Limits::default(),
        };
        let server = server(&raw.server, &mut errors, &at);
        let routes = raw
            .routes
            .iter()
            .filter_map(|r| route(r.get_ref(), &mut errors, &at))
            .collect();
        let bearer = raw.bearer.as_ref().map(|b| bearer(b, &mut errors, &at));
        let mut admin = Admin::default();
        if let Some(g) = &raw.admin.group {
            admin.group = g.clone();
        }
        if !raw.admin.networks.is_empty() {
            admin.networks = each(&raw.admin.networks, &mut errors, &at, |s| {
                match raw.networks.get(s) {
                    Some(list) => list.iter().map(|c| parse_net(c.get_ref())).collect(),
                    None => parse_net(s).map(|n| vec![n]),
                }
            })
            .into_iter()
            .flatten()
            .collect();
        }
        let mut mfa = Mfa {
            groups: raw.mfa.groups.clone(),
            enroll_on_login: raw.mfa.enroll_on_login.unwrap_or(true),
            key_file: raw.mfa.key_file.clone(),
            ..Mfa::default()
        };
        if let Some(i) = &raw.mfa.issuer {
            if i.contains(':') || i.is_empty() {
                errors.push(at(
                    None,
                    "[mfa] issuer cannot be empty or contain `:`".into(),
                ));
            }
            mfa.issuer = i.clone();
        }
        if let Some(uv) = &raw.mfa.user_verification {
            match uv.get_ref().as_str() {
                "required" => mfa.user_verification_required = true,
                "preferred" => mfa.user_verification_required = false,
                other => errors.push(at(
                    Some(uv.span()),
                    format!("user_verification = {other:?}: write \"required\" or \"preferred\""),
                )),
            }
        }
        let notify =
            crate::notify::Targets {
                webhook: raw.notify.webhook.as_ref().and_then(|w| {
                    match url::Url::parse(w.get_ref()) {
                        Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {
                            Some(w.get_ref().clone())
                        }
                        _ => {
                            errors.push(at(
                                Some(w.span()),
                                format!("webhook = {:?}: write an http(s):// URL", w.get_ref()),
                            ));
                            None
                        }
                    }
                }),
                command: raw.notify.command.clone(),
                retries: raw.notify.retries.unwrap_or(3).min(10),
            };
        if let Some(pg) = &raw.store.postgres {
            if raw.store.sqlite.is_some() {
                errors.push(at(
                    Some(pg.span()),
                    "[store] names both sqlite and postgres: one SQL database".into(),
                ));
            }
            if !pg.get_ref().starts_with("postgres://")
                && !pg.get_ref().starts_with("postgresql://")
            {
                errors.push(at(
                    Some(pg.span()),
                    format!("postgres = {:?}: write postgres://USER@HOST[:PORT]/DATABASE (the password from PGPASSWORD)", pg.get_ref()),
                ));
            }
        }
        if let Some(r) = &raw.store.redis
            && !r.get_ref().starts_with("redis://")
            && !r.get_ref().starts_with("rediss://")
        {
            errors.push(at(
                Some(r.span()),
                format!(
                    "redis = {:?}: write redis://HOST[:PORT][/DB] or rediss://…",
                    r.get_ref()
                ),
            ));
        }
        let ldap = raw
            .ldap
            .as_ref()
            .and_then(|l| ldap(l.get_ref(), &mut errors, &at));
        let unusual = match raw
            .risk
            .unusual
            .as_ref()
            .map(|u| (u.get_ref().as_str(), u.span()))
        {
            None | Some(("notify", _)) => crate::risk::Unusual::Notify,
            Some(("second_factor", _)) => crate::risk::Unusual::SecondFactor,
            Some(("deny", _)) => crate::risk::Unusual::Deny,
            Some((other, span)) => {
                errors.push(at(
                    Some(span),
                    format!("unusual = {other:?}: write \"notify\", \"second_factor\" or \"deny\""),
                ));
                crate::risk::Unusual::Notify
            }
        };
        if !errors.is_empty() {
            errors.sort_by_key(|e| (e.line, e.column));
            return Err(errors);
        }
        Ok(Config {
            file: file.to_string(),
            policy: Policy {
                rules,
                default: raw.access.default_policy.unwrap_or(Action::Deny),
            },
            sqlite: raw.store.sqlite,
            postgres: raw.store.postgres.map(|p| p.into_inner()),
            redis: raw.store.redis.map(|r| r.into_inner()),
            audit: raw.audit.path,
            routes,
            bearer,
            admin,
            mfa,
            notify,
            ldap,
            geo: raw.geo.database,
            unusual,
            lockout,
            password,
            server,
            sessions: Sessions {
                idle: raw
                    .session
                    .idle_minutes
                    .map_or(Sessions::default().idle, |m| {
                        std::time::Duration::from_secs(m.clamp(1, 24 * 60) * 60)
                    }),
                absolute: raw
                    .session
                    .absolute_hours
                    .map_or(Sessions::default().absolute, |h| {
                        std::time::Duration::from_secs(h.clamp(1, 24 * 30) * 3600)
                    }),
            },
        })
    }
}

/// The `[ldap]` table, checked; `None` when it has errors (they are in `errors`).
fn ldap(
    raw: &RawLdap,
    errors: &mut Vec<ConfigError>,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
) -> Option<crate::ldap::Settings> {
    use crate::ldap::{Groups, Kind};
    let before = errors.len();
    let url = raw.url.get_ref();
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "ldaps" || u.scheme() == "ldap" => {
            if u.scheme() == "ldap"
                && !raw.start_tls
                && !u
                    .host_str()
                    .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
            {
                errors.push(at(
                    Some(raw.url.span()),
                    format!("url = {url:?}: passwords would cross the network in the clear: use ldaps:// or start_tls = true"),
                ));
            }
            if u.scheme() == "ldaps" && raw.start_tls {
                errors.push(at(
                    Some(raw.url.span()),
                    "start_tls is for ldap:// (ldaps:// is TLS from the start)".into(),
                ));
            }
        }
        _ => errors.push(at(
            Some(raw.url.span()),
            format!("url = {url:?}: write ldaps://HOST[:PORT] or ldap://HOST[:PORT]"),
        )),
    }
    let kind = match raw
        .directory
        .as_ref()
        .map(|d| (d.get_ref().as_str(), d.span()))
    {
        None | Some(("active_directory", _)) => Kind::ActiveDirectory,
        Some(("openldap", _)) => Kind::OpenLdap,
        Some((other, span)) => {
            errors.push(at(
                Some(span),
                format!("directory = {other:?}: write \"active_directory\" or \"openldap\""),
            ));
            Kind::ActiveDirectory
        }
    };
    let (default_filter, default_name) = match kind {
        Kind::ActiveDirectory => (
            "(&(objectCategory=person)(objectClass=user)(sAMAccountName={user}))",
            "sAMAccountName",
        ),
        Kind::OpenLdap => ("(&(objectClass=inetOrgPerson)(uid={user}))", "uid"),
    };
    let user_filter = match &raw.user_filter {
        Some(f) if !f.get_ref().contains("{user}") => {
            errors.push(at(
                Some(f.span()),
                "user_filter must contain {user} (the name typed, escaped)".into(),
            ));
            String::new()
        }
        Some(f) => f.get_ref().clone(),
        None => default_filter.to_string(),
    };
    let groups = match raw
        .groups
        .as_ref()
        .map(|g| (g.get_ref().as_str(), g.span()))
    {
        None | Some(("member_of", _)) => Groups::MemberOf,
        Some(("search", _)) => Groups::Search {
            base: raw
                .group_base_dn
                .clone()
                .unwrap_or_else(|| raw.base_dn.clone()),
            filter: raw
                .group_filter
                .clone()
                .unwrap_or_else(|| "(member={dn})".to_string()),
            attribute: raw
                .group_name_attribute
                .clone()
                .unwrap_or_else(|| "cn".to_string()),
        },
        Some((other, span)) => {
            errors.push(at(
                Some(span),
                format!("groups = {other:?}: write \"member_of\" or \"search\""),
            ));
            Groups::MemberOf
        }
    };
    if errors.len() > before {
        return None;
    }
    Some(crate::ldap::Settings {
        url: url.clone(),
        start_tls: raw.start_tls,
        ca_file: raw.ca_file.clone(),
        bind_dn: raw.bind_dn.clone(),
        bind_password_file: raw.bind_password_file.clone(),
        base_dn: raw.base_dn.clone(),
        user_filter,
        kind,
        groups,
        mail_attribute: raw.mail_attribute.clone().unwrap_or_else(|| "mail".into()),
        name_attribute: raw
            .name_attribute
            .clone()
            .unwrap_or_else(|| default_name.to_string()),
        timeout: std::time::Duration::from_secs(raw.timeout_seconds.unwrap_or(5).clamp(1, 60)),
        pool_size: raw.pool_size.unwrap_or(8).clamp(1, 64),
    })
}

/// The `[server]` table, checked.
fn server(
    raw: &RawServer,
    errors: &mut Vec<ConfigError>,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
) -> Server {
    let mut s = Server::default();
    if let Some(l) = &raw.listen {
        match l.get_ref().parse() {
            Ok(a) => s.listen = a,
            Err(_) => errors.push(at(
                Some(l.span()),
                format!(
                    "listen = {:?}: write ADDRESS:PORT, e.g. 127.0.0.1:9401",
                    l.get_ref()
                ),
            )),
        }
    }
    if !raw.trusted_proxies.is_empty() {
        s.trusted_proxies = each(&raw.trusted_proxies, errors, at, parse_net);
    }
    if let Some(r) = &raw.realm {
        s.realm = r.clone();
    }
    if let Some(b) = raw.basic {
        s.basic = b;
    }
    if let Some(secs) = raw.basic_cache_seconds {
        s.basic_cache = std::time::Duration::from_secs(secs.min(3600));
    }
    match (&raw.tls_certificate, &raw.tls_key) {
        (Some(c), Some(k)) => s.tls = Some((c.clone(), k.clone())),
        (None, None) if raw.client_ca.is_some() => errors.push(at(
            raw.listen.as_ref().map(Spanned::span),
            "[server] client_ca asks devices for certificates on the gateway's TLS listener: name tls_certificate and tls_key too".into(),
        )),
        (None, None) => {}
        _ => errors.push(at(
            raw.listen.as_ref().map(Spanned::span),
            "[server] tls_certificate and tls_key go together: name both files, or neither".into(),
        )),
    }
    s.client_ca = raw.client_ca.clone();
    s.trust_client_cert_headers = raw.trust_client_cert_headers;
    s
}

/// A `[[route]]`, checked.
fn route(
    r: &RawRoute,
    errors: &mut Vec<ConfigError>,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
) -> Option<Route> {
    let upstream = match r.upstream.get_ref().as_str() {
        "builtin:echo" => Upstream::Echo,
        u => match url::Url::parse(u) {
            Ok(url)
                if matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some()
                    && matches!(url.path(), "" | "/")
                    && url.query().is_none()
                    && url.username().is_empty()
                    && url.password().is_none() =>
            {
                Upstream::Url(url)
            }
            _ => {
                errors.push(at(
                    Some(r.upstream.span()),
                    format!(
                        "upstream = {u:?}: write an origin (http://127.0.0.1:8080, https://app.internal) without path or credentials, or builtin:echo"
                    ),
                ));
                return None;
            }
        },
    };
    Some(Route {
        hosts: each(&r.hosts, errors, at, HostPattern::parse),
        paths: each(&r.paths, errors, at, PathPattern::parse),
        upstream,
        http2: r.http2,
    })
}

/// The `[bearer]` table, checked.
fn bearer(
    b: &Spanned<RawBearer>,
    errors: &mut Vec<ConfigError>,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
) -> Bearer {
    use jsonwebtoken::Algorithm;
    let raw = b.get_ref();
    let algorithms = if raw.algorithms.is_empty() {
        vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA]
    } else {
        each(&raw.algorithms, errors, at, |s| {
            match s.parse::<Algorithm>() {
                Ok(Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => Err(format!(
                    "{s}: a shared-secret algorithm cannot be checked against a JWKS of public keys"
                )),
                Ok(a) => Ok(a),
                Err(_) => Err(format!(
                    "{s:?} is not a JWS algorithm (RS256, PS256, ES256, ES384, EdDSA, …)"
                )),
            }
        })
    };
    if raw.audience.is_empty() {
        errors.push(at(
            Some(b.span()),
            "[bearer] audience: name the audience tokens must be for (a token for another API must not get in)".into(),
        ));
    }
    if !raw.jwks.starts_with("https://") && raw.jwks.contains("://") {
        errors.push(at(
            Some(b.span()),
            format!(
                "[bearer] jwks = {:?}: keys are fetched over https:// only, or read from a file",
                raw.jwks
            ),
        ));
    }
    Bearer {
        jwks: raw.jwks.clone(),
        issuer: raw.issuer.clone(),
        audience: raw.audience.clone(),
        algorithms,
        leeway: std::time::Duration::from_secs(raw.leeway_seconds.unwrap_or(60).min(600)),
        user_claim: raw.user_claim.clone().unwrap_or_else(|| "sub".into()),
        groups_claim: raw.groups_claim.clone().unwrap_or_else(|| "groups".into()),
    }
}

/// Each of `items` read by `parse`; the ones it refuses reported where they are.
fn each<T>(
    items: &[Spanned<String>],
    errors: &mut Vec<ConfigError>,
    at: &impl Fn(Option<Range<usize>>, String) -> ConfigError,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match parse(item.get_ref()) {
            Ok(v) => out.push(v),
            Err(e) => errors.push(at(Some(item.span()), e)),
        }
    }
    out
}

/// A CIDR (`10.0.0.0/8`) or one address (`192.0.2.7`, taken as a /32 or /128).
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    if let Ok(n) = s.parse::<ipnet::IpNet>() {
        // `10.1.2.3/8` is a typo for 10.0.0.0/8 or 10.1.2.3/32: refuse to guess which.
        if n.network() != n.addr() {
            return Err(format!(
                "{s:?} has host bits set: write {}/{} (the network) or {}/{} (the host)",
                n.network(),
                n.prefix_len(),
                n.addr(),
                n.max_prefix_len()
            ));
        }
        return Ok(n);
    }
    s.parse::<std::net::IpAddr>()
        .map(ipnet::IpNet::from)
        .map_err(|_| format!("{s:?} is not a network (CIDR such as 10.0.0.0/8) or an address"))
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..text.floor_char_boundary(offset.min(text.len()))];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}
