//! Apache httpd: `httpd.conf`/`apache2.conf` with `Include`/`IncludeOptional`, `Define` and
//! `${VAR}`, sections, the `.htaccess` files that apply, and the rules that find where
//! authentication will not do what the configuration seems to say.
//!
//! Apache's configuration syntax (a directive per line, `\` continuations, `<Section>` blocks) is
//! read here by hand: no maintained crate parses it. `<IfModule>` and `<IfDefine>` are read as if
//! true (both branches of a negation alike): lint cannot know the modules a server loads, and a
//! mistake in either branch is worth saying.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use why401_doctor::{Finding, FindingId};

use crate::htpasswd;
use crate::{FileRead, InputProblem, Kind, LintFinding, LintReport, Location, Source};

/// Whether text reads as an Apache configuration (or an `.htaccess`).
pub fn looks_like_apache(name: &str, text: &str) -> bool {
    if name.ends_with(".htaccess") {
        return true;
    }
    let words = [
        "<Directory",
        "<VirtualHost",
        "<Location",
        "<Files",
        "LoadModule",
        "ServerRoot",
        "DocumentRoot",
        "AuthType",
        "AuthUserFile",
        "Require",
        "AllowOverride",
        "IncludeOptional",
    ];
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#'))
        .take(400)
        .filter(|l| words.iter().any(|w| l.starts_with(w)))
        .count()
        >= 1
        && !text.lines().any(|l| l.trim_end().ends_with('{'))
}

/// A directive or section, with includes spliced in.
#[derive(Debug, Clone)]
pub struct Node {
    /// The directive name as written (Apache's are case-insensitive; compare with `is`).
    pub name: String,
    /// Its arguments, quotes removed, `${VAR}` substituted.
    pub args: Vec<String>,
    file: usize,
    /// 1-based line.
    pub line: usize,
    col: usize,
    /// A section's directives.
    pub children: Vec<Node>,
    /// `<Name …>` … `</Name>`.
    pub section: bool,
}

impl Node {
    fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }

    fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or_default()
    }

    fn kids<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s Node> + use<'s, 'n> {
        self.children.iter().filter(move |c| c.is(name))
    }
}

struct Loader {
    sources: Vec<Source>,
    defines: HashMap<String, String>,
    server_root: Option<PathBuf>,
    main_dir: PathBuf,
    from_disk: bool,
    stack: Vec<String>,
}

/// Splits a line into words: whitespace-separated, `"…"` and `'…'` quoted (with `\"` inside).
fn words(line: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut chars = line.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            while let Some((_, d)) = chars.next() {
                match d {
                    '\\' if chars.peek().is_some_and(|&(_, n)| n == c || n == '\\') => {
                        w.push(chars.next().map(|(_, n)| n).unwrap_or(d));
                    }
                    d if d == c => break,
                    d => w.push(d),
                }
            }
        } else {
            while let Some(&(_, d)) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                w.push(d);
                chars.next();
            }
        }
        out.push((start, w));
    }
    out
}

impl Loader {
    fn substitute(&self, s: &str) -> String {
        let mut out = s.to_string();
        for (k, v) in &self.defines {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    /// Parses `text` as file `name`, following includes.
    fn file(&mut self, name: &str, text: String, report: &mut LintReport) -> Vec<Node> {
        let file = self.sources.len();
        let src = Source::new(name, text);
        report.files.push(FileRead {
            file: name.to_string(),
            kind: Kind::Apache,
            lines: src.lines(),
        });
        // Logical lines: a trailing backslash joins the next line.
        let mut logical: Vec<(usize, usize, String)> = Vec::new();
        let mut pending: Option<(usize, usize, String)> = None;
        for (i, raw) in src.text.lines().enumerate() {
            let raw = raw.trim_end_matches('\r');
            let (n, col, mut acc) = match pending.take() {
                Some(p) => p,
                None => {
                    let trimmed = raw.trim_start();
                    (i + 1, raw.len() - trimmed.len() + 1, String::new())
                }
            };
            let body = if acc.is_empty() {
                raw.trim_start()
            } else {
                raw
            };
            if let Some(cont) = body.strip_suffix('\\') {
                acc.push_str(cont);
                acc.push(' ');
                pending = Some((n, col, acc));
            } else {
                acc.push_str(body);
                logical.push((n, col, acc));
            }
        }
        if let Some(p) = pending {
            logical.push(p);
        }
        self.sources.push(src);
        self.stack.push(name.to_string());
        let mut at = 0;
        let nodes = self.block(file, &logical, &mut at, None, report);
        self.stack.pop();
        nodes
    }

    fn block(
        &mut self,
        file: usize,
        lines: &[(usize, usize, String)],
        at: &mut usize,
        open: Option<&str>,
        report: &mut LintReport,
    ) -> Vec<Node> {
        let mut out = Vec::new();
        while let Some((line, col, text)) = lines.get(*at) {
            *at += 1;
            let t = text.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            if let Some(close) = t.strip_prefix("</") {
                let name = close.trim_end_matches('>').trim();
                match open {
                    Some(o) if o.eq_ignore_ascii_case(name) => return out,
                    _ => {
                        self.problem(
                            file,
                            *line,
                            *col,
                            format!("</{name}> closes no open <{name}>"),
                            report,
                        );
                        continue;
                    }
                }
            }
            if let Some(rest) = t.strip_prefix('<') {
                let inner = rest.trim_end().trim_end_matches('>');
                let mut w = words(inner).into_iter().map(|(_, s)| s);
                let name = w.next().unwrap_or_default();
                let args: Vec<String> = w.map(|a| self.substitute(&a)).collect();
                let children = self.block(file, lines, at, Some(&name), report);
                // IfModule / IfDefine / IfVersion / IfFile: read as true, their content spliced,
                // and said (lint cannot know the modules or defines of the running server).
                if name.to_ascii_lowercase().starts_with("if") {
                    if !children.is_empty() {
                        let at = self.sources[file].at(*line, *col);
                        report.notes.push(InputProblem {
                            file: format!("{}:{}:{}", at.file, at.line, at.column),
                            problem: format!(
                                "<{name} {}> read as true: its {} directive(s) are judged as if they apply",
                                args.join(" "),
                                children.len()
                            ),
                        });
                    }
                    out.extend(children);
                } else {
                    out.push(Node {
                        name,
                        args,
                        file,
                        line: *line,
                        col: *col,
                        children,
                        section: true,
                    });
                }
                continue;
            }
            let mut w = words(t).into_iter().map(|(_, s)| s);
            let name = w.next().unwrap_or_default();
            let args: Vec<String> = w.map(|a| self.substitute(&a)).collect();
            if name.eq_ignore_ascii_case("Define")
                && let Some(k) = args.first()
            {
                self.defines
                    .insert(k.clone(), args.get(1).cloned().unwrap_or_default());
            }
            if name.eq_ignore_ascii_case("ServerRoot") {
                self.server_root = args.first().map(PathBuf::from);
            }
            if name.eq_ignore_ascii_case("Include") || name.eq_ignore_ascii_case("IncludeOptional")
            {
                let optional = name.eq_ignore_ascii_case("IncludeOptional");
                let pattern = args.first().cloned().unwrap_or_default();
                out.extend(self.include(file, *line, *col, &pattern, optional, report));
                continue;
            }
            out.push(Node {
                name,
                args,
                file,
                line: *line,
                col: *col,
                children: Vec::new(),
                section: false,
            });
        }
        if let Some(o) = open {
            let (line, col) = lines.last().map(|(l, c, _)| (*l, *c)).unwrap_or((1, 1));
            self.problem(file, line, col, format!("<{o}> is never closed"), report);
        }
        out
    }

    fn problem(
        &self,
        file: usize,
        line: usize,
        col: usize,
        problem: String,
        report: &mut LintReport,
    ) {
        let at = self.sources[file].at(line, col);
        report.problems.push(InputProblem {
            file: format!("{}:{}:{}", at.file, at.line, at.column),
            problem,
        });
    }

    fn include(
        &mut self,
        file: usize,
        line: usize,
        col: usize,
        pattern: &str,
        optional: bool,
        report: &mut LintReport,
    ) -> Vec<Node> {
        if !self.from_disk {
            self.problem(
                file,
                line,
                col,
                format!("Include {pattern} not followed: the configuration came without its files; give its path"),
                report,
            );
            return Vec::new();
        }
        let base = self
            .server_root
            .clone()
            .unwrap_or_else(|| self.main_dir.clone());
        let full = if Path::new(pattern).is_absolute() {
            PathBuf::from(pattern)
        } else {
            base.join(pattern)
        };
        let mut paths: Vec<PathBuf> = if full.is_dir() {
            std::fs::read_dir(&full)
                .map(|d| {
                    d.flatten()
                        .map(|e| e.path())
                        .filter(|p| p.is_file())
                        .collect()
                })
                .unwrap_or_default()
        } else {
            glob::glob(&full.display().to_string())
                .map(|g| g.flatten().collect())
                .unwrap_or_default()
        };
        paths.sort();
        if paths.is_empty() && !optional && !pattern.contains(['*', '?', '[']) {
            self.problem(
                file,
                line,
                col,
                format!(
                    "Include {pattern}: no such file ({}); apachectl -t would refuse it",
                    full.display()
                ),
                report,
            );
        }
        let mut out = Vec::new();
        for p in paths {
            let name = p.display().to_string();
            if self.stack.contains(&name) || self.stack.len() > 32 {
                self.problem(
                    file,
                    line,
                    col,
                    format!("Include {name} includes itself"),
                    report,
                );
                continue;
            }
            match crate::read_text(&p) {
                Ok((t, _)) => out.extend(self.file(&name, t, report)),
                Err(e) => self.problem(file, line, col, format!("Include {name}: {e}"), report),
            }
        }
        out
    }
}

/// The access directives of Apache 2.2 (mod_access_compat).
const OLD_ACCESS: &[&str] = &["Order", "Allow", "Deny", "Satisfy"];
/// The directives that set up authentication in a section or .htaccess.
const AUTH: &[&str] = &[
    "AuthType",
    "AuthName",
    "AuthUserFile",
    "AuthBasicProvider",
    "AuthDigestProvider",
    "Require",
];

struct Ctx<'a> {
    sources: &'a [Source],
    out: Vec<LintFinding>,
    from_disk: bool,
}

impl Ctx<'_> {
    fn at(&self, n: &Node) -> Location {
        self.sources[n.file].at(n.line, n.col)
    }

    fn push(&mut self, f: Finding, at: &Node, also: &[&Node]) {
        let finding = LintFinding {
            finding: f,
            at: Some(self.at(at)),
            also: also.iter().map(|n| self.at(n)).collect(),
        };
        self.out.push(finding);
    }
}

/// Lints an Apache configuration (or `.htaccess`).
pub(crate) fn lint(name: &str, text: &str, from_disk: bool, report: &mut LintReport) {
    let main_dir = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut loader = Loader {
        sources: Vec::new(),
        defines: HashMap::new(),
        server_root: None,
        main_dir,
        from_disk,
        stack: Vec::new(),
    };
    let root = loader.file(name, text.to_string(), report);
    let mut ctx = Ctx {
        sources: &loader.sources,
        out: Vec::new(),
        from_disk,
    };
    let mut sections = Vec::new();
    sections_of(&root, &mut sections);
    // The top level (server config) is a section too.
    let top = Node {
        name: "server config".into(),
        args: Vec::new(),
        file: 0,
        line: 1,
        col: 1,
        children: root.clone(),
        section: true,
    };
    for s in std::iter::once(&top).chain(sections.iter().copied()) {
        mixed_syntax(&mut ctx, s);
        forbidden_on_failure(&mut ctx, s);
        digest_files(&mut ctx, s, report);
    }
    authmerging(&mut ctx, &sections);
    auth_without_require(&mut ctx, &sections);
    plain_http_basic(&mut ctx, &root);
    user_file_in_docroot(&mut ctx, &root);
    if from_disk {
        htaccess(&mut ctx, &root, &sections, report);
    }
    report.findings.extend(ctx.out);
}

fn sections_of<'a>(nodes: &'a [Node], out: &mut Vec<&'a Node>) {
    for n in nodes {
        if n.section {
            out.push(n);
            sections_of(&n.children, out);
        }
    }
}

/// 2.2 `Order/Allow/Deny/Satisfy` beside 2.4 `Require` in one section.
fn mixed_syntax(ctx: &mut Ctx<'_>, s: &Node) {
    let old = s
        .children
        .iter()
        .find(|c| OLD_ACCESS.iter().any(|o| c.is(o)));
    let new = s.kids("Require").next();
    if let (Some(old), Some(new)) = (old, new) {
        ctx.push(
            Finding::new(FindingId::APACHE_MIXED_ACCESS_SYNTAX)
                .title(format!(
                    "{} (Apache 2.2) and Require (2.4) in one <{}>: the result depends on module order, not on what the lines say",
                    old.name, s.name
                ))
                .confidence(0.85),
            old,
            &[new],
        );
    }
}

fn forbidden_on_failure(ctx: &mut Ctx<'_>, s: &Node) {
    if let Some(n) = s
        .kids("AuthzSendForbiddenOnFailure")
        .find(|n| n.arg(0).eq_ignore_ascii_case("on"))
    {
        ctx.push(
            Finding::new(FindingId::APACHE_FORBIDDEN_ON_FAILURE)
                .title("AuthzSendForbiddenOnFailure On: a logged-in user who is not allowed gets 403, and no chance to log in as someone else")
                .confidence(0.8),
            n,
            &[],
        );
    }
}

/// `AuthType Digest`: the user file must be htdigest, with the realm of `AuthName`.
fn digest_files(ctx: &mut Ctx<'_>, s: &Node, report: &mut LintReport) {
    let Some(auth_type) = s.kids("AuthType").last() else {
        return;
    };
    let Some(file) = s.kids("AuthUserFile").last() else {
        return;
    };
    if !ctx.from_disk {
        return;
    }
    let path = PathBuf::from(file.arg(0));
    let text = match crate::read_text(&path) {
        Ok((t, _)) => t,
        Err(e) => {
            ctx.push(
                Finding::new(FindingId::MISSING_HTPASSWD_FILE)
                    .title(format!(
                        "AuthUserFile {} cannot be read ({e}): Apache answers 500 once credentials arrive",
                        path.display()
                    ))
                    .confidence(0.95),
                file,
                &[],
            );
            return;
        }
    };
    let digest = auth_type.arg(0).eq_ignore_ascii_case("digest");
    let kind = if htpasswd::looks_like_htdigest(&text) {
        Kind::Htdigest
    } else {
        Kind::Htpasswd
    };
    if !report
        .files
        .iter()
        .any(|f| f.file == path.display().to_string())
    {
        htpasswd::lint(
            &Source::new(path.display().to_string(), text.clone()),
            kind,
            report,
        );
    }
    if digest && kind == Kind::Htpasswd {
        ctx.push(
            Finding::new(FindingId::APACHE_DIGEST_FILE_FORMAT)
                .title(format!(
                    "AuthType Digest with {}, an htpasswd file: every login fails",
                    path.display()
                ))
                .evidence("Digest needs user:realm:MD5(user:realm:password) lines, written by htdigest, not htpasswd")
                .confidence(0.9),
            file,
            &[auth_type],
        );
        return;
    }
    if digest {
        let realm = s.kids("AuthName").last().map(|n| n.arg(0).to_string());
        let entries = htpasswd::entries(&text, Kind::Htdigest);
        if let Some(realm) = realm
            && !entries.is_empty()
            && !entries
                .iter()
                .any(|e| e.realm.as_deref() == Some(realm.as_str()))
        {
            let theirs: Vec<String> = entries
                .iter()
                .filter_map(|e| e.realm.clone())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let name = s.kids("AuthName").last().unwrap_or(file);
            ctx.push(
                Finding::new(FindingId::APACHE_DIGEST_REALM_MISMATCH)
                    .title(format!(
                        "AuthName \"{realm}\" but the htdigest file's realms are {}: every login fails",
                        theirs.join(", ")
                    ))
                    .evidence("the realm is part of the hashed secret: MD5(user:realm:password) made for another realm never matches")
                    .confidence(0.95),
                name,
                &[file],
            );
        }
    }
}

/// A `<Directory>`/`<Location>` section's family (`directory`, `location`), the path it covers
/// and whether it is a regex one (`<DirectoryMatch>`, `<Location ~ …>`): for a regex, the
/// literal path its `^` anchor starts with (`^/admin/(a|b)` covers `/admin/`), `None` when the
/// regex is not anchored on a literal.
fn section_path(s: &Node) -> Option<(&'static str, String, bool)> {
    let name = s.name.to_ascii_lowercase();
    let (family, regex) = match name.as_str() {
        "directory" => ("directory", s.arg(0) == "~"),
        "location" => ("location", s.arg(0) == "~"),
        "directorymatch" => ("directory", true),
        "locationmatch" => ("location", true),
        _ => return None,
    };
    let raw = if s.arg(0) == "~" { s.arg(1) } else { s.arg(0) };
    if !regex {
        return Some((family, raw.trim_end_matches('/').to_string(), false));
    }
    let body = raw.strip_prefix('^')?;
    let literal: String = body
        .chars()
        .take_while(|c| !"\\.[]()*+?{}|$^".contains(*c))
        .collect();
    (!literal.is_empty()).then(|| (family, literal.trim_end_matches('/').to_string(), true))
}

/// Nested `<Directory>` or `<Location>` sections (and the regex forms, merged after them): a
/// `Require` in the inner one replaces the outer one's unless `AuthMerging And|Or` says otherwise.
fn authmerging(ctx: &mut Ctx<'_>, sections: &[&Node]) {
    for inner in sections {
        let Some(req) = inner.kids("Require").next() else {
            continue;
        };
        if inner.kids("AuthMerging").next().is_some() {
            continue;
        }
        let Some((family, path, regex)) = section_path(inner) else {
            continue;
        };
        let outer = sections
            .iter()
            .filter(|o| !std::ptr::eq(**o, *inner))
            .find(|o| {
                let Some((f, op, o_regex)) = section_path(o) else {
                    return false;
                };
                // A regex section's path is only what its anchor starts with: it can be the
                // inner one, merged later, never the outer one.
                f == family
                    && !o_regex
                    && (path.starts_with(&op)
                        && path.len() > op.len()
                        && path.as_bytes().get(op.len()) == Some(&b'/')
                        || op.is_empty() && !path.is_empty()
                        || regex && path == op)
                    && o.kids("Require")
                        .any(|r| !r.arg(0).eq_ignore_ascii_case("all"))
            });
        if let Some(outer) = outer {
            let outer_req = outer.kids("Require").next().unwrap_or(outer);
            ctx.push(
                Finding::new(FindingId::APACHE_AUTHMERGING_REPLACED)
                    .title(format!(
                        "Require {} in <{} {}> replaces, not adds to, Require {} of <{} {}>",
                        req.args.join(" "),
                        inner.name,
                        inner.args.join(" "),
                        outer_req.args.join(" "),
                        outer.name,
                        outer.arg(0)
                    ))
                    .evidence(if regex {
                        "AuthMerging is Off by default, and regex sections are merged after the plain ones: for the paths it matches, its authorization replaces the outer section's"
                    } else {
                        "AuthMerging is Off by default: a section with its own authorization ignores its parent's"
                    })
                    .confidence(if regex { 0.7 } else { 0.8 }),
                req,
                &[outer_req],
            );
        }
    }
}

/// AuthType and friends with no `Require` in the section: nothing asks for the credentials.
fn auth_without_require(ctx: &mut Ctx<'_>, sections: &[&Node]) {
    for s in sections {
        let Some(t) = s.kids("AuthType").next() else {
            continue;
        };
        if t.arg(0).eq_ignore_ascii_case("none") || s.kids("Require").next().is_some() {
            continue;
        }
        ctx.push(
            Finding::new(FindingId::APACHE_AUTHTYPE_WITHOUT_REQUIRE)
                .title(format!(
                    "AuthType {} in <{} {}> without a Require: Apache 2.4 answers 500 here (AH01627), or serves it without asking when a Require all granted is inherited",
                    t.arg(0),
                    s.name,
                    s.arg(0)
                ))
                .confidence(0.8),
            t,
            &[],
        );
    }
}

fn find_all<'a>(nodes: &'a [Node], f: &mut impl FnMut(&'a Node)) {
    for n in nodes {
        f(n);
        find_all(&n.children, f);
    }
}

/// Basic authentication in a virtual host (or the main server) that has no TLS.
fn plain_http_basic(ctx: &mut Ctx<'_>, root: &[Node]) {
    let tls = |nodes: &[Node]| {
        nodes
            .iter()
            .any(|n| n.is("SSLEngine") && n.arg(0).eq_ignore_ascii_case("on"))
    };
    let basic_in = |nodes: &'_ [Node]| {
        let mut found = None;
        find_all(nodes, &mut |n: &Node| {
            if found.is_none() && n.is("AuthType") && n.arg(0).eq_ignore_ascii_case("basic") {
                found = Some(n.clone());
            }
        });
        found
    };
    for vhost in root.iter().filter(|n| n.is("VirtualHost")) {
        if let (Some(b), false) = (basic_in(&vhost.children), tls(&vhost.children)) {
            ctx.push(
                Finding::new(FindingId::BASIC_OVER_HTTP)
                    .title(format!(
                        "Basic authentication in <VirtualHost {}>, which has no SSLEngine on",
                        vhost.args.join(" ")
                    ))
                    .evidence(
                        "the Base64 password crosses the network readable by anyone on the path",
                    )
                    .confidence(0.8),
                vhost,
                &[&b],
            );
        }
    }
    let outside: Vec<Node> = root
        .iter()
        .filter(|n| !n.is("VirtualHost"))
        .cloned()
        .collect();
    if let (Some(b), false) = (basic_in(&outside), tls(root)) {
        ctx.push(
            Finding::new(FindingId::BASIC_OVER_HTTP)
                .title("Basic authentication in the main server, which has no SSLEngine on")
                .evidence("the Base64 password crosses the network readable by anyone on the path")
                .confidence(0.7),
            &b,
            &[],
        );
    }
}

/// An AuthUserFile under a DocumentRoot, unless `.ht*` files are denied and it is one.
fn user_file_in_docroot(ctx: &mut Ctx<'_>, root: &[Node]) {
    let mut roots: Vec<&Node> = Vec::new();
    let mut files: Vec<&Node> = Vec::new();
    let mut ht_denied = false;
    find_all(root, &mut |n| {
        if n.is("DocumentRoot") {
            roots.push(n);
        } else if n.is("AuthUserFile") {
            files.push(n);
        } else if (n.is("Files") || n.is("FilesMatch"))
            && n.args.iter().any(|a| a.contains(".ht"))
            && n.kids("Require")
                .any(|r| r.args.join(" ").eq_ignore_ascii_case("all denied"))
        {
            ht_denied = true;
        }
    });
    for f in files {
        let path = Path::new(f.arg(0));
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(".ht"));
        if hidden && ht_denied {
            continue;
        }
        if let Some(r) = roots
            .iter()
            .find(|r| !r.arg(0).is_empty() && path.starts_with(r.arg(0)))
        {
            ctx.push(
                Finding::new(FindingId::HTPASSWD_IN_DOCROOT)
                    .title(format!(
                        "AuthUserFile {} is inside DocumentRoot {}",
                        f.arg(0),
                        r.arg(0)
                    ))
                    .evidence(if hidden {
                        "no <Files \".ht*\"> Require all denied protects it: anyone can download the hashes"
                    } else {
                        "anyone can download the hashes and guess the passwords offline"
                    })
                    .confidence(0.8),
                f,
                &[r],
            );
        }
    }
}

/// The `.htaccess` of each `<Directory>` with a literal path: ignored under `AllowOverride None`,
/// a 500 when it holds auth directives that `AllowOverride` does not allow.
fn htaccess(ctx: &mut Ctx<'_>, root: &[Node], sections: &[&Node], report: &mut LintReport) {
    let name = root
        .iter()
        .rfind(|n| n.is("AccessFileName"))
        .map(|n| n.arg(0).to_string())
        .unwrap_or_else(|| ".htaccess".into());
    // AllowOverride by directory path, as the config sets it (Apache 2.4's default is None).
    let mut overrides: Vec<(&str, &Node)> = sections
        .iter()
        .filter(|s| s.is("Directory") && !s.args.iter().any(|a| a.starts_with('~')))
        .filter_map(|s| s.kids("AllowOverride").last().map(|o| (s.arg(0), o)))
        .collect();
    overrides.sort_by_key(|(p, _)| p.len());
    let mut dirs: Vec<String> = sections
        .iter()
        .filter(|s| s.is("Directory"))
        .map(|s| s.arg(0).to_string())
        .chain(
            root.iter()
                .filter(|n| n.is("DocumentRoot"))
                .map(|n| n.arg(0).to_string()),
        )
        .filter(|d| !d.contains(['*', '?', '~']))
        .collect();
    // Apache reads the access file of every directory on the way to the file served: those
    // below the configured ones too (a bounded walk; build and VCS folders skipped).
    let below: Vec<String> = dirs
        .iter()
        .flat_map(|d| crate::folders_with(Path::new(d), &name))
        .map(|p| p.display().to_string())
        .collect();
    dirs.extend(below);
    dirs.sort();
    dirs.dedup();
    for dir in dirs {
        let path = Path::new(&dir).join(&name);
        let Ok((text, _)) = crate::read_text(&path) else {
            continue;
        };
        let file_name = path.display().to_string();
        // Parsed as a configuration of its own (no includes in .htaccess).
        let mut sub = Loader {
            sources: Vec::new(),
            defines: HashMap::new(),
            server_root: None,
            main_dir: PathBuf::from(&dir),
            from_disk: false,
            stack: Vec::new(),
        };
        let nodes = sub.file(&file_name, text, report);
        let Some(auth) = nodes.iter().find(|n| AUTH.iter().any(|a| n.is(a))) else {
            continue;
        };
        let at = sub.sources[0].at(auth.line, auth.col);
        let governing = overrides.iter().rfind(|(p, _)| {
            let p = p.trim_end_matches('/');
            dir.trim_end_matches('/') == p || dir.starts_with(&format!("{p}/")) || p.is_empty()
        });
        let (finding, also) = match governing {
            None => (
                Finding::new(FindingId::APACHE_HTACCESS_IGNORED)
                    .title(format!(
                        "{file_name} sets up authentication, but no AllowOverride lets Apache read it (2.4's default is None): the directory is served without it"
                    ))
                    .confidence(0.7),
                Vec::new(),
            ),
            Some((_, o)) if o.args.iter().any(|a| a.eq_ignore_ascii_case("none")) => (
                Finding::new(FindingId::APACHE_HTACCESS_IGNORED)
                    .title(format!(
                        "{file_name} sets up authentication, but AllowOverride None means Apache never reads it: the directory is served without it"
                    ))
                    .confidence(0.9),
                vec![ctx.at(o)],
            ),
            Some((_, o))
                if !o.args.iter().any(|a| {
                    a.eq_ignore_ascii_case("all") || a.eq_ignore_ascii_case("authconfig")
                }) =>
            {
                (
                    Finding::new(FindingId::APACHE_HTACCESS_NOT_ALLOWED)
                        .title(format!(
                            "{} in {file_name} is not allowed by AllowOverride {}: every request there is a 500",
                            auth.name,
                            o.args.join(" ")
                        ))
                        .evidence("\"… not allowed here\" in the error log: auth directives in .htaccess need AllowOverride AuthConfig")
                        .confidence(0.9),
                    vec![ctx.at(o)],
                )
            }
            _ => continue,
        };
        ctx.out.push(LintFinding {
            finding,
            at: Some(at),
            also,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, lint as lint_inputs};

    fn ids_in(dir: &Path, conf: &str) -> Vec<(String, String, usize)> {
        let main = dir.join("httpd.conf");
        std::fs::write(&main, conf).unwrap();
        let r = lint_inputs(&[Input::path(main.display().to_string())]);
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        r.findings
            .into_iter()
            .map(|f| {
                let at = f.at.unwrap();
                let file = Path::new(&at.file)
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                (f.finding.id, file, at.line)
            })
            .collect()
    }

    #[test]
    fn words_quotes_and_continuations() {
        assert_eq!(
            words(r#"AuthName "a \"b\" c" plain"#)
                .into_iter()
                .map(|(_, w)| w)
                .collect::<Vec<_>>(),
            ["AuthName", "a \"b\" c", "plain"]
        );
        let dir = tempfile::tempdir().unwrap();
        let got = ids_in(
            dir.path(),
            "Define ROOT /srv\n<Directory ${ROOT}/a>\n  AuthType Basic \\\n     \n  AuthName x\n</Directory>\n",
        );
        assert!(
            got.contains(&(
                "apache-authtype-without-require".into(),
                "httpd.conf".into(),
                3
            )),
            "{got:?}"
        );
    }

    #[test]
    fn mixed_syntax_authmerging_and_forbidden() {
        let dir = tempfile::tempdir().unwrap();
        let conf = "<Directory /srv/www>\n  AuthType Basic\n  AuthName site\n  Require valid-user\n</Directory>\n<Directory /srv/www/admin>\n  Require ip 10.0.0.0/8\n</Directory>\n<Location /old>\n  Order deny,allow\n  Deny from all\n  Require all granted\n</Location>\n<Location /x>\n  AuthzSendForbiddenOnFailure On\n</Location>\n";
        let got = ids_in(dir.path(), conf);
        for want in [
            ("apache-authmerging-replaced", 7),
            ("apache-mixed-access-syntax", 10),
            ("apache-forbidden-on-failure", 15),
        ] {
            assert!(
                got.contains(&(want.0.into(), "httpd.conf".into(), want.1)),
                "{want:?} in {got:?}"
            );
        }
        // A regex section is merged after the plain ones: anchored on /app/api it replaces
        // /app's Require there; an unanchored one is not placed under any path.
        let regex = "<Location /app>\n  AuthType Basic\n  AuthName x\n  AuthUserFile /f\n  Require valid-user\n</Location>\n<LocationMatch \"^/app/api/(v1|v2)\">\n  Require ip 10.0.0.0/8\n</LocationMatch>\n<LocationMatch \"\\.pdf$\">\n  Require ip 10.0.0.0/8\n</LocationMatch>\n";
        let got = ids_in(dir.path(), regex);
        assert_eq!(
            got.iter()
                .filter(|g| g.0 == "apache-authmerging-replaced")
                .map(|g| g.2)
                .collect::<Vec<_>>(),
            vec![8],
            "{got:?}"
        );
        let merged = conf.replace("  Require ip 10", "  AuthMerging And\n  Require ip 10");
        let got = ids_in(dir.path(), &merged);
        assert!(
            !got.iter().any(|g| g.0 == "apache-authmerging-replaced"),
            "{got:?}"
        );
    }

    #[test]
    fn htaccess_overrides_and_digest_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Folders below a <Directory> have their access files read too (none/deep/inner).
        for sub in ["none", "fileinfo", "ok", "none/deep/inner", "ok/sub"] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
            std::fs::write(
                d.join(sub).join(".htaccess"),
                "AuthType Basic\nAuthName x\nAuthUserFile /nonexistent\nRequire valid-user\n",
            )
            .unwrap();
        }
        std::fs::write(
            d.join("digest"),
            "alice:Other realm:0123456789abcdef0123456789abcdef\n",
        )
        .unwrap();
        std::fs::write(d.join("basic"), "alice:$apr1$x$y\n").unwrap();
        let p = d.display();
        let conf = format!(
            "<Directory {p}/none>\n  AllowOverride None\n</Directory>\n<Directory {p}/fileinfo>\n  AllowOverride FileInfo\n</Directory>\n<Directory {p}/ok>\n  AllowOverride AuthConfig\n</Directory>\n<Location /d>\n  AuthType Digest\n  AuthName \"Private\"\n  AuthUserFile {p}/digest\n  Require valid-user\n</Location>\n<Location /b>\n  AuthType Digest\n  AuthName \"Private\"\n  AuthUserFile {p}/basic\n  Require valid-user\n</Location>\n"
        );
        let got = ids_in(d, &conf);
        assert!(
            got.contains(&("apache-htaccess-ignored".into(), ".htaccess".into(), 1)),
            "{got:?}"
        );
        assert!(
            got.contains(&("apache-htaccess-not-allowed".into(), ".htaccess".into(), 1)),
            "{got:?}"
        );
        assert_eq!(
            got.iter().filter(|g| g.1 == ".htaccess").count(),
            3,
            "none, fileinfo and none/deep/inner: {got:?}"
        );
        assert!(
            got.contains(&(
                "apache-digest-realm-mismatch".into(),
                "httpd.conf".into(),
                12
            )),
            "{got:?}"
        );
        assert!(
            got.contains(&("apache-digest-file-format".into(), "httpd.conf".into(), 19)),
            "{got:?}"
        );
    }

    #[test]
    fn basic_over_plain_http_and_a_user_file_in_the_docroot() {
        let dir = tempfile::tempdir().unwrap();
        let conf = "<VirtualHost *:80>\n  DocumentRoot /srv/www\n  <Location />\n    AuthType Basic\n    AuthName x\n    AuthUserFile /srv/www/users\n    Require valid-user\n  </Location>\n</VirtualHost>\n<VirtualHost *:443>\n  SSLEngine on\n  DocumentRoot /srv/tls\n  <Location />\n    AuthType Basic\n    AuthName x\n    AuthUserFile /srv/tls/.htpasswd\n    Require valid-user\n  </Location>\n</VirtualHost>\n<Files \".ht*\">\n  Require all denied\n</Files>\n";
        let got = ids_in(dir.path(), conf);
        assert!(
            got.contains(&("basic-over-http".into(), "httpd.conf".into(), 1)),
            "{got:?}"
        );
        assert_eq!(
            got.iter().filter(|g| g.0 == "basic-over-http").count(),
            1,
            "{got:?}"
        );
        assert!(
            got.contains(&("htpasswd-in-docroot".into(), "httpd.conf".into(), 6)),
            "{got:?}"
        );
        assert_eq!(
            got.iter().filter(|g| g.0 == "htpasswd-in-docroot").count(),
            1,
            "{got:?}"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,400}") {
            let mut r = LintReport::default();
            lint("httpd.conf", &text, false, &mut r);
        }
    }
}
