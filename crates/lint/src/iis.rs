//! IIS: `applicationHost.config` and `web.config`, read together as IIS does for each site and
//! application: the schema defaults of the authentication sections, the root
//! `<system.webServer>`, `<location path=…>` from the least to the most specific, then the
//! `web.config` of the site's physical path; and the locks (`overrideModeDefault`,
//! `overrideMode`) that make a `web.config` section a 500.19.
//!
//! XML is read with roxmltree (positions kept); IIS's merge is ours: no crate models it.

use std::collections::HashMap;
use std::path::Path;

use why401_doctor::{Finding, FindingId};

use crate::{FileRead, InputProblem, Kind, LintFinding, LintReport, Location, Source};

const AUTH: &str = "system.webServer/security/authentication";

/// Whether text is an IIS configuration file.
pub fn looks_like_iis(name: &str, text: &str) -> bool {
    let base = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    base == "applicationhost.config"
        || base == "web.config"
        || text.contains("<configuration")
            && (text.contains("<system.webServer") || text.contains("<system.applicationHost"))
}

/// A value and where it was set (`None`: the schema default).
#[derive(Debug, Clone, PartialEq)]
struct Set<T> {
    value: T,
    at: Option<Location>,
}

impl<T> Set<T> {
    fn default(value: T) -> Self {
        Set { value, at: None }
    }
}

/// The authentication settings in effect for a URL, as IIS merges them.
#[derive(Debug, Clone)]
struct Effective {
    anonymous: Set<bool>,
    anon_password: Option<Location>,
    basic: Set<bool>,
    windows: Set<bool>,
    digest: Set<bool>,
    client_cert: Set<bool>,
    providers: Set<Vec<String>>,
    use_kernel_mode: Set<bool>,
    use_app_pool_credentials: Set<bool>,
    token_checking: Set<String>,
    ep_flags: Set<String>,
    ssl_flags: Set<String>,
    deny_unauthorized: Vec<Location>,
    /// URL Authorization rules in effect, parent levels first: (level, rule).
    authorization: Vec<(usize, Rule)>,
    /// How many configuration levels have been applied (root, each location, web.config).
    level: usize,
    /// What applicationHost.config locks inside the authentication sections: (section, lock).
    locks: Vec<(String, Lock)>,
    /// ASP.NET's `system.web/authorization` rules in the order it reads them: the most specific
    /// level first, then its parents'; first match wins.
    aspnet: Vec<(usize, Rule)>,
    /// `system.webServer/modules runAllManagedModulesForAllRequests`.
    run_all_managed: Set<bool>,
    /// ASP.NET's UrlAuthorization module in `system.webServer/modules`.
    aspnet_module: Set<AspNetModule>,
}

/// How ASP.NET's UrlAuthorization module (the one that applies `system.web/authorization`) is
/// registered.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AspNetModule {
    /// `preCondition="managedHandler"` (applicationHost.config's default): only requests that a
    /// managed handler serves; static files are not.
    ManagedOnly,
    /// Re-added without the precondition: every request.
    Every,
    /// `<remove name="UrlAuthorization" />`: `system.web/authorization` is never applied.
    Removed,
}

/// A lock on part of a section, from applicationHost.config.
#[derive(Debug, Clone)]
enum Lock {
    /// `lockAttributes`.
    Attribute(String),
    /// `lockAllAttributesExcept`.
    AttributesExcept(Vec<String>),
    /// `lockElements`.
    Element(String),
    /// `lockAllElementsExcept`.
    ElementsExcept(Vec<String>),
}

impl Lock {
    /// The locks a section element declares.
    fn read(section: roxmltree::Node<'_, '_>) -> Vec<Lock> {
        let list = |name: &str| -> Vec<String> {
            section
                .attribute(name)
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_string)
                .collect()
        };
        let mut out: Vec<Lock> = list("lockAttributes")
            .into_iter()
            .map(Lock::Attribute)
            .chain(list("lockElements").into_iter().map(Lock::Element))
            .collect();
        if section.attribute("lockAllAttributesExcept").is_some() {
            out.push(Lock::AttributesExcept(list("lockAllAttributesExcept")));
        }
        if section.attribute("lockAllElementsExcept").is_some() {
            out.push(Lock::ElementsExcept(list("lockAllElementsExcept")));
        }
        out
    }

    /// What of `section` (as a web.config sets it) this lock refuses, named for the finding.
    fn refuses(&self, section: roxmltree::Node<'_, '_>) -> Option<String> {
        let is = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
        // The lock attributes themselves and namespaces are not settings.
        let attrs = || {
            section
                .attributes()
                .filter(|a| !a.name().starts_with("lock") && a.namespace().is_none())
        };
        let elements = || section.children().filter(|c| c.is_element());
        match self {
            Lock::Attribute(l) => attrs()
                .find(|a| is(a.name(), l))
                .map(|a| format!("{}=\"{}\" (lockAttributes)", a.name(), a.value())),
            Lock::AttributesExcept(keep) => attrs()
                .find(|a| !keep.iter().any(|k| is(k, a.name())))
                .map(|a| format!("{}=\"{}\" (lockAllAttributesExcept)", a.name(), a.value())),
            Lock::Element(l) => elements()
                .find(|c| is(c.tag_name().name(), l))
                .map(|c| format!("<{}> (lockElements)", c.tag_name().name())),
            Lock::ElementsExcept(keep) => elements()
                .find(|c| !keep.iter().any(|k| is(k, c.tag_name().name())))
                .map(|c| format!("<{}> (lockAllElementsExcept)", c.tag_name().name())),
        }
    }
}

/// One `<add>` of IIS URL Authorization.
#[derive(Debug, Clone)]
struct Rule {
    allow: bool,
    users: Vec<String>,
    roles: Vec<String>,
    verbs: Vec<String>,
    at: Location,
}

impl Rule {
    /// Whether this deny rule refuses everyone `allow` lets in (for some verb they share).
    fn covers(&self, allow: &Rule) -> bool {
        let verbs = self.verbs.is_empty()
            || allow.verbs.is_empty()
            || allow
                .verbs
                .iter()
                .any(|v| self.verbs.iter().any(|w| w.eq_ignore_ascii_case(v)));
        let everyone = self.users.iter().any(|u| u == "*");
        let names = |mine: &[String], theirs: &[String]| {
            !theirs.is_empty()
                && theirs
                    .iter()
                    .all(|t| mine.iter().any(|m| m.eq_ignore_ascii_case(t)))
        };
        verbs
            && (everyone
                || names(&self.users, &allow.users) && allow.roles.is_empty()
                || names(&self.roles, &allow.roles) && allow.users.is_empty())
    }
}

impl Default for Effective {
    /// IIS's schema defaults (IIS_schema.xml).
    fn default() -> Self {
        Effective {
            anonymous: Set::default(true),
            anon_password: None,
            basic: Set::default(false),
            windows: Set::default(false),
            digest: Set::default(false),
            client_cert: Set::default(false),
            providers: Set::default(vec!["Negotiate".into(), "NTLM".into()]),
            use_kernel_mode: Set::default(true),
            use_app_pool_credentials: Set::default(false),
            token_checking: Set::default("None".into()),
            ep_flags: Set::default("None".into()),
            ssl_flags: Set::default("None".into()),
            deny_unauthorized: Vec::new(),
            // applicationHost.config's default: <add accessType="Allow" users="*" />.
            authorization: Vec::new(),
            level: 0,
            locks: Vec::new(),
            // The root web.config's <allow users="*" /> is last in ASP.NET's order; the rules
            // read here come before it.
            aspnet: Vec::new(),
            run_all_managed: Set::default(false),
            // applicationHost.config's default: UrlAuthorization with preCondition="managedHandler".
            aspnet_module: Set::default(AspNetModule::ManagedOnly),
        }
    }
}

fn truthy(v: &str) -> bool {
    v.eq_ignore_ascii_case("true")
}

struct Doc<'a> {
    src: &'a Source,
    doc: roxmltree::Document<'a>,
}

impl Doc<'_> {
    fn at(&self, n: roxmltree::Node<'_, '_>) -> Location {
        let (line, col) = self.src.line_col(n.range().start);
        self.src.at(line, col)
    }
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children().find(|c| c.has_tag_name(name))
}

/// The element at a `/`-separated path below `n`.
fn descend<'a, 'i>(n: roxmltree::Node<'a, 'i>, path: &str) -> Option<roxmltree::Node<'a, 'i>> {
    path.split('/').try_fold(n, |n, part| child(n, part))
}

/// What one `<system.webServer>` (or the element holding it) sets, applied over `e`; `locked`
/// says which sections may not be set here, for section-locked.
fn apply(
    d: &Doc<'_>,
    holder: roxmltree::Node<'_, '_>,
    e: &mut Effective,
    locked: Option<&dyn Fn(&str) -> bool>,
    out: &mut Vec<LintFinding>,
) {
    let Some(auth) = descend(holder, AUTH) else {
        return apply_security(d, holder, e);
    };
    for section in auth.children().filter(|c| c.is_element()) {
        let name = section.tag_name().name();
        if let Some(is_locked) = locked
            && is_locked(name)
        {
            out.push(LintFinding {
                finding: Finding::new(FindingId::SECTION_LOCKED)
                    .title(format!(
                        "{name} is set in a web.config while it is locked at a parent level: IIS answers 500.19 (0x80070021) for everything below"
                    ))
                    .evidence("applicationHost.config declares the authentication sections with overrideModeDefault=\"Deny\"; only a <location … overrideMode=\"Allow\"> there (or appcmd unlock config) lets a web.config set them")
                    .confidence(0.9),
                at: Some(d.at(section)),
                also: Vec::new(),
            });
            continue;
        }
        match locked {
            // applicationHost.config: remember what it locks for the levels below.
            None => {
                for lock in Lock::read(section) {
                    e.locks.push((name.to_string(), lock));
                }
            }
            // A web.config: an attribute or element locked above is a 500.19 too.
            Some(_) => {
                if let Some(what) = e
                    .locks
                    .iter()
                    .filter(|(s, _)| s == name)
                    .find_map(|(_, l)| l.refuses(section))
                {
                    out.push(LintFinding {
                        finding: Finding::new(FindingId::SECTION_LOCKED)
                            .title(format!(
                                "{name} {what} is set in a web.config while applicationHost.config locks it: 500.19 for everything below"
                            ))
                            .confidence(0.9),
                        at: Some(d.at(section)),
                        also: Vec::new(),
                    });
                    continue;
                }
            }
        }
        let enabled = section.attribute("enabled").map(|v| Set {
            value: truthy(v),
            at: Some(d.at(section)),
        });
        match name {
            "anonymousAuthentication" => {
                if let Some(v) = enabled {
                    e.anonymous = v;
                }
                if section.attribute("password").is_some_and(|p| !p.is_empty())
                    && section.attribute("userName").is_some_and(|u| !u.is_empty())
                {
                    e.anon_password = Some(d.at(section));
                }
            }
            "basicAuthentication" => {
                if let Some(v) = enabled {
                    e.basic = v;
                }
            }
            "digestAuthentication" => {
                if let Some(v) = enabled {
                    e.digest = v;
                }
            }
            "clientCertificateMappingAuthentication"
            | "iisClientCertificateMappingAuthentication" => {
                if let Some(v) = enabled.filter(|v| v.value) {
                    e.client_cert = v;
                }
            }
            "windowsAuthentication" => {
                if let Some(v) = enabled {
                    e.windows = v;
                }
                let here = || Some(d.at(section));
                if let Some(v) = section.attribute("useKernelMode") {
                    e.use_kernel_mode = Set {
                        value: truthy(v),
                        at: here(),
                    };
                }
                if let Some(v) = section.attribute("useAppPoolCredentials") {
                    e.use_app_pool_credentials = Set {
                        value: truthy(v),
                        at: here(),
                    };
                }
                if let Some(p) = child(section, "providers") {
                    let mut list = e.providers.value.clone();
                    for c in p.children().filter(|c| c.is_element()) {
                        let value = c.attribute("value").unwrap_or_default().to_string();
                        match c.tag_name().name() {
                            "clear" => list.clear(),
                            "remove" => list.retain(|v| !v.eq_ignore_ascii_case(&value)),
                            "add" if !value.is_empty() => list.push(value),
                            _ => {}
                        }
                    }
                    e.providers = Set {
                        value: list,
                        at: Some(d.at(p)),
                    };
                }
                if let Some(ep) = child(section, "extendedProtection") {
                    if let Some(v) = ep.attribute("tokenChecking") {
                        e.token_checking = Set {
                            value: v.into(),
                            at: Some(d.at(ep)),
                        };
                    }
                    if let Some(v) = ep.attribute("flags") {
                        e.ep_flags = Set {
                            value: v.into(),
                            at: Some(d.at(ep)),
                        };
                    }
                }
            }
            _ => {}
        }
    }
    apply_security(d, holder, e);
}

/// `access` (sslFlags) and the IP restrictions that answer 401.
fn apply_security(d: &Doc<'_>, holder: roxmltree::Node<'_, '_>, e: &mut Effective) {
    e.level += 1;
    apply_aspnet(d, holder, e);
    let Some(sec) = descend(holder, "system.webServer/security") else {
        return;
    };
    if let Some(authz) = child(sec, "authorization") {
        for c in authz.children().filter(|c| c.is_element()) {
            match c.tag_name().name() {
                "clear" => e.authorization.clear(),
                "remove" => {
                    let (u, r) = (list(c.attribute("users")), list(c.attribute("roles")));
                    e.authorization
                        .retain(|(_, x)| !(x.users == u && x.roles == r));
                }
                "add" => e.authorization.push((
                    e.level,
                    Rule {
                        allow: !c
                            .attribute("accessType")
                            .is_some_and(|a| a.eq_ignore_ascii_case("Deny")),
                        users: list(c.attribute("users")),
                        roles: list(c.attribute("roles")),
                        verbs: list(c.attribute("verbs")),
                        at: d.at(c),
                    },
                )),
                _ => {}
            }
        }
    }
    if let Some(a) = child(sec, "access")
        && let Some(v) = a.attribute("sslFlags")
    {
        e.ssl_flags = Set {
            value: v.into(),
            at: Some(d.at(a)),
        };
    }
    for name in ["ipSecurity", "dynamicIpSecurity"] {
        if let Some(s) = child(sec, name)
            && s.attribute("denyAction")
                .is_some_and(|v| v.eq_ignore_ascii_case("Unauthorized"))
        {
            e.deny_unauthorized.push(d.at(s));
        }
    }
}

/// A comma-separated list attribute (`users`, `roles`, `verbs`).
fn list(v: Option<&str>) -> Vec<String> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

/// ASP.NET's `system.web/authorization` at this level (its rules go before the parents', as
/// ASP.NET reads them) and whether its module runs for every request (`system.webServer/modules`).
fn apply_aspnet(d: &Doc<'_>, holder: roxmltree::Node<'_, '_>, e: &mut Effective) {
    if let Some(authz) = descend(holder, "system.web/authorization") {
        let here: Vec<(usize, Rule)> = authz
            .children()
            .filter(|c| c.has_tag_name("allow") || c.has_tag_name("deny"))
            .map(|c| {
                (
                    e.level,
                    Rule {
                        allow: c.has_tag_name("allow"),
                        users: list(c.attribute("users")),
                        roles: list(c.attribute("roles")),
                        verbs: list(c.attribute("verbs")),
                        at: d.at(c),
                    },
                )
            })
            .collect();
        e.aspnet.splice(0..0, here);
    }
    if let Some(modules) = descend(holder, "system.webServer/modules") {
        if let Some(v) = modules.attribute("runAllManagedModulesForAllRequests") {
            e.run_all_managed = Set {
                value: truthy(v),
                at: Some(d.at(modules)),
            };
        }
        for c in modules.children().filter(|c| c.is_element()) {
            let name = c.attribute("name").unwrap_or_default();
            if !name.eq_ignore_ascii_case("UrlAuthorization") && !c.has_tag_name("clear") {
                continue;
            }
            let value = match c.tag_name().name() {
                "add"
                    if c.attribute("preCondition")
                        .unwrap_or_default()
                        .contains("managedHandler") =>
                {
                    AspNetModule::ManagedOnly
                }
                "add" => AspNetModule::Every,
                "remove" | "clear" => AspNetModule::Removed,
                _ => continue,
            };
            e.aspnet_module = Set {
                value,
                at: Some(d.at(c)),
            };
        }
    }
}

/// A site (or application) to evaluate.
struct App {
    /// `Site` or `Site/app`.
    path: String,
    pool: Option<String>,
    physical: Option<String>,
    /// The other virtual directories: (URL path below the application, physical path).
    vdirs: Vec<(String, String)>,
    https: bool,
    http: bool,
    at: Location,
}

/// Lints `applicationHost.config` (with the web.config files found on disk under each site) or a
/// web.config alone.
pub(crate) fn lint(
    name: &str,
    text: &str,
    from_disk: bool,
    scope: Option<&str>,
    report: &mut LintReport,
) {
    let src = Source::new(name, text);
    report.files.push(FileRead {
        file: name.to_string(),
        kind: Kind::Iis,
        lines: src.lines(),
    });
    let doc = match roxmltree::Document::parse(&src.text) {
        Ok(d) => d,
        Err(e) => {
            let p = e.pos();
            report.problems.push(InputProblem {
                file: format!("{name}:{}:{}", p.row, p.col),
                problem: format!("not well-formed XML: {e} (IIS answers 500.19 0x8007000d)"),
            });
            return;
        }
    };
    let d = Doc { src: &src, doc };
    let root = d.doc.root_element();
    let mut out = Vec::new();
    if descend(root, "system.applicationHost/sites").is_some() {
        application_host(&d, root, from_disk, scope, &mut out, report);
    } else {
        // A web.config alone: over the schema defaults, and with applicationHost.config's
        // default locks (the authentication sections are Deny out of the box).
        let mut e = Effective::default();
        let locked = |_: &str| true;
        apply(&d, root, &mut e, Some(&locked), &mut out);
        rules(&d, &e, None, &HashMap::new(), &mut out);
        // Its <location path=…> elements, each judged at its path.
        for l in root.children().filter(|c| c.has_tag_name("location")) {
            let mut here = e.clone();
            apply(&d, l, &mut here, Some(&locked), &mut out);
            let app = App {
                path: l.attribute("path").unwrap_or(".").to_string(),
                pool: None,
                physical: None,
                vdirs: Vec::new(),
                https: false,
                http: false,
                at: d.at(l),
            };
            rules(&d, &here, Some(&app), &HashMap::new(), &mut out);
        }
        for f in out
            .iter_mut()
            .filter(|f| f.finding.id == FindingId::SECTION_LOCKED.as_str())
        {
            f.finding
                .title
                .push_str(" — unless applicationHost.config unlocks it");
        }
    }
    dedupe(&mut out);
    report.findings.extend(out);
}

fn dedupe(out: &mut Vec<LintFinding>) {
    let mut seen: Vec<(String, Option<(String, usize)>)> = Vec::new();
    out.retain(|f| {
        let key = (
            f.finding.id.clone(),
            f.at.as_ref().map(|l| (l.file.clone(), l.line)),
        );
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    });
}

fn application_host(
    d: &Doc<'_>,
    root: roxmltree::Node<'_, '_>,
    from_disk: bool,
    scope: Option<&str>,
    out: &mut Vec<LintFinding>,
    report: &mut LintReport,
) {
    // Locks: overrideModeDefault of each authentication section, and the locations that allow.
    let mut deny_default: Vec<String> = Vec::new();
    if let Some(cs) = child(root, "configSections") {
        for s in cs.descendants().filter(|n| n.has_tag_name("section")) {
            if s.attribute("overrideModeDefault") == Some("Deny")
                && let Some(n) = s.attribute("name")
            {
                deny_default.push(n.to_string());
            }
        }
    }
    let locations: Vec<roxmltree::Node<'_, '_>> = root
        .children()
        .filter(|n| n.has_tag_name("location"))
        .collect();
    let mut pools: HashMap<String, String> = HashMap::new();
    if let Some(ap) = descend(root, "system.applicationHost/applicationPools") {
        for add in ap.children().filter(|c| c.has_tag_name("add")) {
            if let (Some(name), Some(pm)) = (add.attribute("name"), child(add, "processModel"))
                && pm.attribute("identityType") == Some("SpecificUser")
                && let Some(user) = pm.attribute("userName")
            {
                pools.insert(name.to_string(), user.to_string());
            }
        }
    }
    let default_pool = descend(root, "system.applicationHost/sites/applicationDefaults")
        .and_then(|a| a.attribute("applicationPool"))
        .map(str::to_string);
    let mut apps = Vec::new();
    if let Some(sites) = descend(root, "system.applicationHost/sites") {
        for site in sites.children().filter(|c| c.has_tag_name("site")) {
            let Some(site_name) = site.attribute("name") else {
                continue;
            };
            let bindings: Vec<String> = child(site, "bindings")
                .map(|b| {
                    b.children()
                        .filter_map(|c| c.attribute("protocol"))
                        .map(str::to_ascii_lowercase)
                        .collect()
                })
                .unwrap_or_default();
            for app in site.children().filter(|c| c.has_tag_name("application")) {
                let path = app.attribute("path").unwrap_or("/");
                let full = if path == "/" {
                    site_name.to_string()
                } else {
                    format!("{site_name}{path}")
                };
                apps.push(App {
                    path: full,
                    pool: app
                        .attribute("applicationPool")
                        .map(str::to_string)
                        .or_else(|| default_pool.clone()),
                    physical: app
                        .children()
                        .find(|v| {
                            v.has_tag_name("virtualDirectory") && v.attribute("path") == Some("/")
                        })
                        .and_then(|v| v.attribute("physicalPath"))
                        .map(str::to_string),
                    vdirs: app
                        .children()
                        .filter(|v| v.has_tag_name("virtualDirectory"))
                        .filter_map(|v| Some((v.attribute("path")?, v.attribute("physicalPath")?)))
                        .filter(|(p, _)| *p != "/")
                        .map(|(p, f)| (p.to_string(), f.to_string()))
                        .collect(),
                    https: bindings.iter().any(|b| b == "https"),
                    http: bindings.iter().any(|b| b == "http"),
                    at: d.at(app),
                });
            }
        }
    }
    if let Some(scope) = scope {
        let scope = scope.trim_matches('/').to_ascii_lowercase();
        apps.retain(|a| {
            let p = a.path.to_ascii_lowercase();
            p == scope || p.starts_with(&format!("{scope}/"))
        });
        if apps.is_empty() {
            report.problems.push(InputProblem {
                file: d.src.name.clone(),
                problem: format!("no site or application {scope} in it (--site/--path)"),
            });
        }
    }
    // The root <system.webServer> (read through the configuration element that holds it): the
    // same for every application, so read once.
    let mut base = Effective::default();
    apply(d, root, &mut base, None, out);
    for app in &apps {
        let mut e = base.clone();
        // Locations from the least to the most specific path.
        let mut applicable: Vec<(usize, roxmltree::Node<'_, '_>)> = locations
            .iter()
            .filter_map(|l| {
                let p = l.attribute("path").unwrap_or("").trim_matches('/');
                let covers = p.is_empty()
                    || app.path.eq_ignore_ascii_case(p)
                    || app
                        .path
                        .to_ascii_lowercase()
                        .starts_with(&format!("{}/", p.to_ascii_lowercase()));
                covers.then_some((p.len(), *l))
            })
            .collect();
        applicable.sort_by_key(|(len, _)| *len);
        let mut unlocked: Vec<String> = Vec::new();
        for (_, l) in &applicable {
            if l.attribute("overrideMode") == Some("Allow") {
                // overrideMode applies to the sections inside this location: those are unlocked
                // for the levels below.
                for sec in l.descendants().filter(|n| n.is_element()) {
                    unlocked.push(sec.tag_name().name().to_string());
                }
            }
            apply(d, *l, &mut e, None, out);
        }
        let is_locked = |section: &str| {
            deny_default.iter().any(|s| s == section) && !unlocked.iter().any(|u| u == section)
        };
        let Some(dir) = app
            .physical
            .as_deref()
            .filter(|p| from_disk && !p.contains('%'))
            .map(Path::new)
        else {
            rules(d, &e, Some(app), &pools, out);
            continue;
        };
        // The web.config at the application's physical path, then those of its folders, each
        // over its parents (IIS's hierarchy), judged at its own URL path. A parent's
        // <location path=…> applies at that path and below, before the folder's own web.config.
        let before = e.clone();
        let root_config = dir.join("web.config");
        let located = web_config(&root_config, &mut e, "", &is_locked, out, report);
        rules(d, &e, Some(app), &pools, out);
        for (path, here) in located {
            rules(d, &here, Some(&app.below(&path)), &pools, out);
        }
        // Virtual directories: their own folder's web.config, at their URL path.
        for (vpath, vphys) in app.vdirs.iter().filter(|(_, f)| !f.contains('%')) {
            let mut here = before.clone();
            let vrel = vpath.trim_matches('/');
            web_config(&root_config, &mut here, vrel, &is_locked, out, report);
            let vconfig = Path::new(vphys).join("web.config");
            web_config(&vconfig, &mut here, "", &is_locked, out, report);
            rules(d, &here, Some(&app.below(vpath)), &pools, out);
        }
        for sub in crate::folders_with(dir, "web.config") {
            let rel = sub
                .strip_prefix(dir)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            let mut here = before.clone();
            web_config(&root_config, &mut here, &rel, &is_locked, out, report);
            let mut walked = dir.to_path_buf();
            let mut located = Vec::new();
            let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
            for (i, part) in parts.iter().enumerate() {
                walked.push(part);
                let deeper = parts[i + 1..].join("/");
                located = web_config(
                    &walked.join("web.config"),
                    &mut here,
                    &deeper,
                    &is_locked,
                    out,
                    report,
                );
            }
            let folder = app.below(&rel);
            rules(d, &here, Some(&folder), &pools, out);
            for (path, below) in located {
                rules(d, &below, Some(&folder.below(&path)), &pools, out);
            }
        }
    }
}

impl App {
    /// The URL path `rel` below this application, judged with its bindings and pool.
    fn below(&self, rel: &str) -> App {
        App {
            path: format!("{}/{}", self.path, rel.trim_matches('/')),
            pool: self.pool.clone(),
            physical: None,
            vdirs: Vec::new(),
            https: self.https,
            http: self.http,
            at: self.at.clone(),
        }
    }
}

/// Reads one web.config (when there is one) and applies it over `e`, with its
/// `<location path=…>` elements that cover `deeper` (the folder judged, relative to this one;
/// less specific first). When `deeper` is empty, returns what each of its locations makes of
/// it, with the path.
fn web_config(
    path: &Path,
    e: &mut Effective,
    deeper: &str,
    is_locked: &dyn Fn(&str) -> bool,
    out: &mut Vec<LintFinding>,
    report: &mut LintReport,
) -> Vec<(String, Effective)> {
    let Ok((text, _)) = crate::read_text(path) else {
        return Vec::new();
    };
    let name = path.display().to_string();
    let src = Source::new(name.clone(), text);
    if !report.files.iter().any(|f| f.file == name) {
        report.files.push(FileRead {
            file: name.clone(),
            kind: Kind::Iis,
            lines: src.lines(),
        });
    }
    match roxmltree::Document::parse(&src.text) {
        Ok(doc) => {
            let wd = Doc { src: &src, doc };
            let root = wd.doc.root_element();
            apply(&wd, root, e, Some(is_locked), out);
            let locations = root.children().filter(|c| c.has_tag_name("location"));
            if !deeper.is_empty() {
                let mut covering: Vec<(usize, roxmltree::Node<'_, '_>)> = locations
                    .filter_map(|l| {
                        let p = l.attribute("path").unwrap_or_default().trim_matches('/');
                        let covers = !p.is_empty()
                            && (deeper.eq_ignore_ascii_case(p)
                                || deeper
                                    .to_ascii_lowercase()
                                    .starts_with(&format!("{}/", p.to_ascii_lowercase())));
                        covers.then_some((p.len(), l))
                    })
                    .collect();
                covering.sort_by_key(|(len, _)| *len);
                for (_, l) in covering {
                    apply(&wd, l, e, Some(is_locked), out);
                }
                return Vec::new();
            }
            locations
                .map(|l| {
                    let mut here = e.clone();
                    apply(&wd, l, &mut here, Some(is_locked), out);
                    (l.attribute("path").unwrap_or_default().to_string(), here)
                })
                .collect()
        }
        Err(err) => {
            let file = format!("{name}:{}:{}", err.pos().row, err.pos().col);
            if !report.problems.iter().any(|p| p.file == file) {
                report.problems.push(InputProblem {
                    file,
                    problem: format!("not well-formed XML: {err} (IIS answers 500.19 0x8007000d)"),
                });
            }
            Vec::new()
        }
    }
}

/// The rules over what is in effect for one application (or a lone web.config).
fn rules(
    d: &Doc<'_>,
    e: &Effective,
    app: Option<&App>,
    pools: &HashMap<String, String>,
    out: &mut Vec<LintFinding>,
) {
    let fallback = || app.map(|a| a.at.clone()).or_else(|| Some(d.src.at(1, 1)));
    let where_ = app.map(|a| format!(" for {}", a.path)).unwrap_or_default();
    let mut push = |f: Finding, at: Option<Location>| {
        out.push(LintFinding {
            finding: f,
            at: at.or_else(fallback),
            also: Vec::new(),
        })
    };
    let any = e.basic.value || e.windows.value || e.digest.value || e.client_cert.value;
    if !e.anonymous.value && !any {
        push(
            Finding::new(FindingId::NO_AUTH_METHOD_ENABLED)
                .title(format!("no authentication method is enabled{where_}: every request is 401.2"))
                .evidence("anonymousAuthentication is off and Basic, Windows, Digest and client certificates are all off (schema defaults where not set)")
                .confidence(0.9),
            e.anonymous.at.clone(),
        );
    }
    if let Some(at) = &e.anon_password {
        push(
            Finding::new(FindingId::ANONYMOUS_IDENTITY_PASSWORD)
                .title("anonymousAuthentication runs as a user with a stored password: when it changes, anonymous requests get 401.1")
                .confidence(0.8),
            Some(at.clone()),
        );
    }
    if e.anonymous.value && e.windows.value {
        push(
            Finding::new(FindingId::ANONYMOUS_WITH_WINDOWS)
                .title(format!("anonymous and Windows authentication are both enabled{where_}: IIS serves anonymously and never challenges"))
                .confidence(0.7),
            e.windows.at.clone(),
        );
    }
    if e.windows.value {
        let p: Vec<String> = e
            .providers
            .value
            .iter()
            .map(|v| v.to_ascii_lowercase())
            .collect();
        let why = if p.iter().any(|v| v == "negotiate:kerberos") {
            Some(
                "Negotiate:Kerberos accepts only Kerberos: without an SPN for the site's name (or from outside the domain) every client fails",
            )
        } else if !p.iter().any(|v| v.starts_with("negotiate")) {
            Some(
                "NTLM only: Kerberos is never used (no delegation, weaker NTLM), and Negotiate-only clients cannot authenticate",
            )
        } else if p.first().is_some_and(|v| v == "ntlm") {
            Some(
                "NTLM before Negotiate: clients follow the server's order and pick NTLM, so Kerberos is never tried",
            )
        } else {
            None
        };
        if let Some(why) = why {
            push(
                Finding::new(FindingId::NEGOTIATE_PROVIDER_ORDER)
                    .title(format!(
                        "windowsAuthentication providers are {}",
                        e.providers.value.join(", ")
                    ))
                    .evidence(why)
                    .confidence(0.8),
                e.providers.at.clone(),
            );
        }
        if let Some(user) = app.and_then(|a| a.pool.as_ref()).and_then(|p| pools.get(p))
            && (user.contains('\\') || user.contains('@'))
            && e.use_kernel_mode.value
            && !e.use_app_pool_credentials.value
        {
            push(
                Finding::new(FindingId::APP_POOL_CREDENTIALS_MISMATCH)
                    .title(format!(
                        "the application pool runs as {user} but kernel-mode Windows authentication decrypts Kerberos tickets with the machine account: 401.1 for Kerberos clients"
                    ))
                    .evidence("useKernelMode is true and useAppPoolCredentials false: tickets for an SPN registered on the pool's account cannot be decrypted")
                    .confidence(0.8),
                e.use_app_pool_credentials.at.clone().or_else(|| e.windows.at.clone()),
            );
        }
        if e.token_checking.value.eq_ignore_ascii_case("Require")
            && !e.ep_flags.value.to_ascii_lowercase().contains("proxy")
        {
            push(
                Finding::new(FindingId::EXTENDED_PROTECTION_BEHIND_PROXY)
                    .title("extended protection is Required without flags=\"Proxy\": behind a TLS-offloading proxy or load balancer every Windows login is 401")
                    .confidence(0.6),
                e.token_checking.at.clone(),
            );
        }
        if app.is_some_and(|a| a.https) {
            push(
                Finding::new(FindingId::WINDOWS_AUTH_ON_HTTP2)
                    .title(format!("Windows authentication on an https binding{where_}: clients negotiating HTTP/2 are sent back to HTTP/1.1 first"))
                    .confidence(0.5),
                e.windows.at.clone(),
            );
        }
    }
    if e.basic.value && !e.ssl_flags.value.to_ascii_lowercase().contains("ssl") {
        let only_http = app.is_some_and(|a| a.http && !a.https);
        push(
            Finding::new(FindingId::BASIC_WITHOUT_SSL)
                .title(format!(
                    "Basic authentication is enabled{where_} and SSL is not required (sslFlags {}){}",
                    e.ssl_flags.value,
                    if only_http { ": the site has only http bindings" } else { "" }
                ))
                .confidence(if only_http { 0.9 } else { 0.7 }),
            e.basic.at.clone(),
        );
    }
    for at in &e.deny_unauthorized {
        push(
            Finding::new(FindingId::IP_RESTRICTION_AS_401)
                .title("an IP restriction answers 401 (denyAction=\"Unauthorized\"): blocked clients look like failed logins (401.503, 401.501)")
                .confidence(0.8),
            Some(at.clone()),
        );
    }
    for (level, allow) in e.authorization.iter().filter(|(_, r)| r.allow) {
        let Some((deny_level, deny)) = e
            .authorization
            .iter()
            .find(|(_, r)| !r.allow && r.covers(allow))
        else {
            continue;
        };
        let who = if allow.users.is_empty() {
            format!("roles {}", allow.roles.join(","))
        } else {
            format!("users {}", allow.users.join(","))
        };
        let deny_who = if deny.users.is_empty() {
            deny.roles.join(",")
        } else {
            deny.users.join(",")
        };
        let mut f = Finding::new(FindingId::URL_AUTHORIZATION_SHADOWED)
            .title(format!(
                "the Allow rule for {who} never takes effect: IIS URL Authorization applies the Deny for {deny_who} first"
            ))
            .evidence(format!(
                "deny rule at {}:{}{}",
                deny.at.file,
                deny.at.line,
                if deny_level < level { " (a parent level: parent rules come first)" } else { "" }
            ))
            .confidence(0.85);
        if deny_level == level && (deny.at.file == allow.at.file) && deny.at.line > allow.at.line {
            f = f.evidence("ASP.NET's system.web/authorization reads rules in order, first match wins: there the Allow, written first, would let them in");
        }
        out.push(LintFinding {
            finding: f,
            at: Some(allow.at.clone()),
            also: vec![deny.at.clone()],
        });
    }
    aspnet_rules(e, &where_, out);
}

/// Who a rule names, for titles.
fn who(r: &Rule) -> String {
    let users = match r.users.as_slice() {
        [] => String::new(),
        [u] if u == "*" => "everyone".into(),
        [u] if u == "?" => "anonymous users".into(),
        u => format!("users {}", u.join(",")),
    };
    match (users.is_empty(), r.roles.is_empty()) {
        (false, true) => users,
        (true, _) => format!("roles {}", r.roles.join(",")),
        (false, false) => format!("{users} and roles {}", r.roles.join(",")),
    }
}

/// ASP.NET's `system.web/authorization`: rules it never reaches (first match wins, in the order
/// written), and rules that do not protect what they seem to (static files, a removed module).
fn aspnet_rules(e: &Effective, where_: &str, out: &mut Vec<LintFinding>) {
    for (i, (level, rule)) in e.aspnet.iter().enumerate() {
        // Only an earlier rule of the same level: a child level's rules coming first is how
        // ASP.NET lets a folder open what its parent closed, on purpose.
        let Some((_, first)) = e.aspnet[..i]
            .iter()
            .find(|(l, r)| l == level && r.allow != rule.allow && r.covers(rule))
        else {
            continue;
        };
        let (what, then) = if rule.allow {
            ("<allow", "they get 401 (anonymous) or 403")
        } else {
            ("<deny", "they are let in")
        };
        out.push(LintFinding {
            finding: Finding::new(FindingId::URL_AUTHORIZATION_SHADOWED)
                .title(format!(
                    "ASP.NET never reaches {what}> for {}: the <{}> for {} written before it matches first, and {then}",
                    who(rule),
                    if first.allow { "allow" } else { "deny" },
                    who(first),
                ))
                .evidence("system.web/authorization reads rules in order, first match wins; IIS URL Authorization (system.webServer/security/authorization) would apply Deny rules first and read the same list differently")
                .confidence(0.85),
            at: Some(rule.at.clone()),
            also: vec![first.at.clone()],
        });
    }
    let Some((_, deny)) = e.aspnet.iter().find(|(_, r)| !r.allow) else {
        return;
    };
    let iis_denies = e.authorization.iter().any(|(_, r)| !r.allow);
    let module = e.aspnet_module.value;
    let (title, confidence, also) = match module {
        AspNetModule::Removed => (
            format!(
                "system.web/authorization denies {}{where_}, but the UrlAuthorization module is removed: the rule is never applied",
                who(deny)
            ),
            0.9,
            e.aspnet_module.at.clone(),
        ),
        AspNetModule::ManagedOnly if !e.run_all_managed.value && !iis_denies => (
            format!(
                "system.web/authorization denies {}{where_}, but only requests served by ASP.NET see it: static files (.html, .pdf, images) are served to anyone",
                who(deny)
            ),
            0.7,
            e.aspnet_module
                .at
                .clone()
                .or_else(|| e.run_all_managed.at.clone()),
        ),
        _ => return,
    };
    out.push(LintFinding {
        finding: Finding::new(FindingId::ASPNET_AUTHORIZATION_BYPASSED)
            .title(title)
            .evidence("in the integrated pipeline ASP.NET's UrlAuthorization module has preCondition=\"managedHandler\" (applicationHost.config): IIS's StaticFileHandler serves without it")
            .confidence(confidence),
        at: Some(deny.at.clone()),
        also: also.into_iter().collect(),
    });
}

#[cfg(test)]
mod tests {
    use crate::{Input, lint as lint_inputs};

    fn ids(name: &str, xml: &str) -> Vec<(String, usize)> {
        lint_inputs(&[Input::text(name, xml)])
            .findings
            .into_iter()
            .map(|f| (f.finding.id, f.at.map(|a| a.line).unwrap_or(0)))
            .collect()
    }

    #[test]
    fn a_lone_web_config_over_the_schema_defaults() {
        let xml = "<?xml version=\"1.0\"?>\n<configuration>\n  <system.webServer>\n    <security>\n      <authentication>\n        <anonymousAuthentication enabled=\"false\" />\n        <windowsAuthentication enabled=\"true\">\n          <providers><clear /><add value=\"NTLM\" /></providers>\n        </windowsAuthentication>\n      </authentication>\n      <ipSecurity denyAction=\"Unauthorized\" />\n    </security>\n  </system.webServer>\n</configuration>\n";
        let got = ids("web.config", xml);
        assert!(got.contains(&("section-locked".into(), 6)), "{got:?}");
        assert!(got.contains(&("section-locked".into(), 7)), "{got:?}");
        assert!(
            got.contains(&("ip-restriction-as-401".into(), 11)),
            "{got:?}"
        );
    }

    #[test]
    fn rules_over_an_application_host() {
        let xml = r#"<configuration>
  <system.applicationHost>
    <applicationPools>
      <add name="Intranet"><processModel identityType="SpecificUser" userName="CORP\svc-web" password="[enc:x:enc]" /></add>
    </applicationPools>
    <sites>
      <site name="Intranet" id="1">
        <application path="/" applicationPool="Intranet"><virtualDirectory path="/" physicalPath="C:\inetpub\intranet" /></application>
        <bindings><binding protocol="https" bindingInformation="*:443:" /></bindings>
      </site>
      <site name="Old" id="2">
        <application path="/"><virtualDirectory path="/" physicalPath="C:\inetpub\old" /></application>
        <bindings><binding protocol="http" bindingInformation="*:80:" /></bindings>
      </site>
    </sites>
  </system.applicationHost>
  <location path="Intranet">
    <system.webServer><security><authentication>
      <anonymousAuthentication enabled="false" />
      <windowsAuthentication enabled="true">
        <providers><clear /><add value="NTLM" /><add value="Negotiate" /></providers>
      </windowsAuthentication>
    </authentication></security></system.webServer>
  </location>
  <location path="Old">
    <system.webServer><security><authentication>
      <anonymousAuthentication enabled="false" userName="IUSR_OLD" password="p4ss" />
      <basicAuthentication enabled="true" />
    </authentication></security></system.webServer>
  </location>
</configuration>
"#;
        let got = ids("applicationHost.config", xml);
        for want in [
            ("negotiate-provider-order", 21),
            ("app-pool-credentials-mismatch", 20),
            ("windows-auth-on-http2", 20),
            ("anonymous-identity-password", 27),
            ("basic-without-ssl", 28),
        ] {
            assert!(
                got.contains(&(want.0.into(), want.1)),
                "{want:?} in {got:?}"
            );
        }
        assert!(
            !got.iter().any(|g| g.0 == "no-auth-method-enabled"),
            "{got:?}"
        );
        let scoped = crate::lint_with(
            &[Input::text("applicationHost.config", xml)],
            &crate::Options {
                iis_scope: Some("Old".into()),
            },
        );
        assert!(
            scoped
                .findings
                .iter()
                .all(|f| f.finding.id != "negotiate-provider-order"),
            "{:?}",
            scoped.findings
        );
        let none = xml.replace(
            "<windowsAuthentication enabled=\"true\">",
            "<windowsAuthentication enabled=\"false\">",
        );
        assert!(
            ids("applicationHost.config", &none).contains(&("no-auth-method-enabled".into(), 19))
        );
    }

    #[test]
    fn url_authorization_deny_first() {
        let xml = "<configuration>\n  <system.webServer>\n    <security>\n      <authorization>\n        <add accessType=\"Allow\" users=\"CORP\\alice\" />\n        <add accessType=\"Deny\" users=\"*\" />\n        <add accessType=\"Allow\" roles=\"Staff\" verbs=\"GET\" />\n        <add accessType=\"Deny\" roles=\"Staff\" verbs=\"POST\" />\n      </authorization>\n    </security>\n  </system.webServer>\n</configuration>\n";
        let got = ids("web.config", xml);
        assert!(
            got.contains(&("url-authorization-shadowed".into(), 5)),
            "{got:?}"
        );
        // Deny users=* also covers the Staff allow; a narrower deny would not.
        let narrow = xml.replace("users=\"*\"", "users=\"?\"");
        let got = ids("web.config", &narrow);
        assert!(
            !got.iter().any(|g| g.0 == "url-authorization-shadowed"),
            "{got:?}"
        );
    }

    #[test]
    fn aspnet_authorization_read_in_order_and_its_reach() {
        let xml = concat!(
            "<configuration>\n<system.web><authorization>\n",
            "<allow users=\"*\" />\n",
            "<deny users=\"?\" />\n",
            "</authorization></system.web>\n",
            "<location path=\"private\"><system.web><authorization><deny users=\"?\" /></authorization></system.web></location>\n",
            "</configuration>\n",
        );
        let got = ids("web.config", xml);
        // The Deny after <allow users="*"> is never reached: anonymous users are let in.
        assert!(
            got.contains(&("url-authorization-shadowed".into(), 4)),
            "{got:?}"
        );
        // The location's Deny is reached, but static files never meet it.
        assert!(
            got.contains(&("aspnet-authorization-bypassed".into(), 6)),
            "{got:?}"
        );
        // A child level's rules coming first is ASP.NET's design, not a dead rule.
        assert!(
            !got.contains(&("url-authorization-shadowed".into(), 6)),
            "{got:?}"
        );
        // The module made to run for every request: the rules do reach static files.
        let all = xml.replace(
            "<location",
            "<system.webServer><modules><remove name=\"UrlAuthorization\" /><add name=\"UrlAuthorization\" type=\"System.Web.Security.UrlAuthorizationModule\" preCondition=\"\" /></modules></system.webServer>\n<location",
        );
        assert!(
            !ids("web.config", &all)
                .iter()
                .any(|g| g.0 == "aspnet-authorization-bypassed"),
        );
        // Removed: never applied at all.
        let removed = xml.replace(
            "<location",
            "<system.webServer><modules><remove name=\"UrlAuthorization\" /></modules></system.webServer>\n<location",
        );
        let f = lint_inputs(&[Input::text("web.config", removed)]);
        let f = f
            .findings
            .iter()
            .find(|f| f.finding.id == "aspnet-authorization-bypassed")
            .expect("the removed module is a finding");
        assert!(f.finding.title.contains("removed"), "{}", f.finding.title);
    }

    #[test]
    fn locked_elements_and_locations_over_folders_below() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("docs").join("sub")).unwrap();
        let apphost = format!(
            concat!(
                "<configuration>\n",
                "  <system.applicationHost><sites><site name=\"S\" id=\"1\"><bindings><binding protocol=\"https\" bindingInformation=\"*:443:\" /></bindings><application path=\"/\"><virtualDirectory path=\"/\" physicalPath=\"{}\" /></application></site></sites></system.applicationHost>\n",
                "  <location path=\"S\" overrideMode=\"Allow\"><system.webServer><security><authentication>\n",
                "    <windowsAuthentication enabled=\"true\" lockAllAttributesExcept=\"enabled\" lockElements=\"providers\" />\n",
                "  </authentication></security></system.webServer></location>\n",
                "</configuration>\n",
            ),
            site.display(),
        );
        let host = dir.path().join("applicationHost.config");
        std::fs::write(&host, apphost).unwrap();
        std::fs::write(
            site.join("web.config"),
            concat!(
                "<configuration>\n",
                "<system.webServer><security><authentication><windowsAuthentication enabled=\"true\" useAppPoolCredentials=\"true\" /></authentication></security></system.webServer>\n",
                "<location path=\"docs\"><system.webServer><security><authorization><add accessType=\"Deny\" users=\"*\" /></authorization></security></system.webServer></location>\n",
                "</configuration>\n",
            ),
        )
        .unwrap();
        std::fs::write(
            site.join("docs").join("web.config"),
            "<configuration>\n<system.webServer><security><authentication><windowsAuthentication><providers><clear /><add value=\"Negotiate\" /></providers></windowsAuthentication></authentication></security></system.webServer>\n</configuration>\n",
        )
        .unwrap();
        std::fs::write(
            site.join("docs").join("sub").join("web.config"),
            "<configuration>\n<system.webServer><security><authorization>\n<add accessType=\"Allow\" users=\"CORP\\bob\" />\n</authorization></security></system.webServer>\n</configuration>\n",
        )
        .unwrap();
        let r = lint_inputs(&[Input::path(host.display().to_string())]);
        let got: Vec<(String, String, usize, String)> = r
            .findings
            .iter()
            .map(|f| {
                let at = f.at.as_ref().unwrap();
                let rel = at.file.replace(&dir.path().display().to_string(), "");
                (f.finding.id.clone(), rel, at.line, f.finding.title.clone())
            })
            .collect();
        let has = |id: &str, file: &str, line: usize, says: &str| {
            got.iter()
                .any(|g| g.0 == id && g.1 == file && g.2 == line && g.3.contains(says))
        };
        assert!(
            has(
                "section-locked",
                "/site/web.config",
                2,
                "lockAllAttributesExcept"
            ),
            "{got:?}"
        );
        assert!(
            has("section-locked", "/site/docs/web.config", 2, "lockElements"),
            "{got:?}"
        );
        // The root web.config's <location path="docs"> reaches docs/sub: its Deny for everyone
        // comes first there, so sub's Allow for bob is dead.
        assert!(
            has(
                "url-authorization-shadowed",
                "/site/docs/sub/web.config",
                3,
                "bob"
            ),
            "{got:?}"
        );
    }

    #[test]
    fn folder_web_configs_and_locked_attributes() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        std::fs::create_dir_all(site.join("admin")).unwrap();
        let apphost = format!(
            "<configuration>\n  <configSections><sectionGroup name=\"system.webServer\"><sectionGroup name=\"security\"><sectionGroup name=\"authentication\"><section name=\"anonymousAuthentication\" overrideModeDefault=\"Deny\" /><section name=\"windowsAuthentication\" overrideModeDefault=\"Deny\" /></sectionGroup></sectionGroup></sectionGroup></configSections>\n  <system.applicationHost><sites><site name=\"S\" id=\"1\"><application path=\"/\"><virtualDirectory path=\"/\" physicalPath=\"{}\" /><virtualDirectory path=\"/files\" physicalPath=\"{}\" /></application></site></sites></system.applicationHost>\n  <system.webServer><security><authentication><windowsAuthentication enabled=\"false\" lockAttributes=\"useKernelMode\" /></authentication></security></system.webServer>\n  <location path=\"S\" overrideMode=\"Allow\"><system.webServer><security><authentication><anonymousAuthentication /><windowsAuthentication /></authentication></security></system.webServer></location>\n</configuration>\n",
            site.display(),
            dir.path().join("files").display()
        );
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        std::fs::write(
            dir.path().join("files").join("web.config"),
            "<configuration>\n<system.webServer><security><access sslFlags=\"None\" /><authentication>\n<basicAuthentication enabled=\"true\" />\n</authentication></security></system.webServer>\n</configuration>\n",
        )
        .unwrap();
        let host = dir.path().join("applicationHost.config");
        std::fs::write(&host, apphost).unwrap();
        std::fs::write(
            site.join("web.config"),
            "<configuration>\n<system.webServer><security><authentication>\n<windowsAuthentication enabled=\"true\" useKernelMode=\"false\" />\n</authentication></security></system.webServer>\n</configuration>\n",
        )
        .unwrap();
        std::fs::write(
            site.join("admin").join("web.config"),
            concat!(
                "<configuration>\n<system.webServer><security><authentication>\n",
                "<anonymousAuthentication enabled=\"false\" />\n",
                "</authentication></security></system.webServer>\n",
                "<location path=\"reports\"><system.webServer><security><authorization>\n",
                "<add accessType=\"Allow\" users=\"CORP\\bob\" /><add accessType=\"Deny\" users=\"*\" />\n",
                "</authorization></security></system.webServer></location>\n</configuration>\n",
            ),
        )
        .unwrap();
        let r = lint_inputs(&[Input::path(host.display().to_string())]);
        let got: Vec<(String, String, usize)> = r
            .findings
            .iter()
            .map(|f| {
                let at = f.at.as_ref().unwrap();
                let rel = at.file.replace(&dir.path().display().to_string(), "");
                (f.finding.id.clone(), rel, at.line)
            })
            .collect();
        assert!(
            got.contains(&("section-locked".into(), "/site/web.config".into(), 3)),
            "{got:?}"
        );
        // The locked web.config is refused whole in IIS; lint keeps judging what the folders set:
        // admin/ turns anonymous off while Windows stays off (its enabling was refused).
        assert!(
            got.contains(&(
                "no-auth-method-enabled".into(),
                "/site/admin/web.config".into(),
                3
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&(
                "url-authorization-shadowed".into(),
                "/site/admin/web.config".into(),
                6
            )),
            "a <location> inside a web.config is judged at its path: {got:?}"
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,400}") {
            let _ = lint_inputs(&[Input::text("web.config", text.clone())]);
            let _ = lint_inputs(&[Input::text("applicationHost.config", format!("<configuration><system.applicationHost><sites><site name=\"a\"><application path=\"/\"/></site></sites></system.applicationHost>{text}</configuration>"))]);
        }
    }
}
