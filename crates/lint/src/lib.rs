//! Server authentication configuration, read for the causes of 401s before users meet them:
//! nginx (a config tree with its includes, or an `nginx -T` dump), Apache httpd (with its
//! includes and the `.htaccess` files that apply), IIS (`applicationHost.config` with each
//! site's `web.config`) and htpasswd/htdigest files. Each file is
//! recognised by its name and content; each finding points at `file:line:column` with the line as
//! written, and carries a catalogue id that `why401 explain` explains.
//!
//! Nothing in a configuration is executed or fetched: files are read, includes are followed on
//! disk (or inside an `nginx -T` dump), and that is all.
//!
//! ```
//! use why401_lint::{Input, lint};
//!
//! let conf = "http { server { listen 443 ssl;
//!     location /admin/ { auth_basic \"admin\";
//!         add_header WWW-Authenticate 'Basic realm=\"admin\"'; } } }";
//! let report = lint(&[Input::text("nginx.conf", conf)]);
//! let f = &report.findings[0];
//! assert_eq!(f.finding.id, "nginx-auth-header-not-always");
//! let at = f.at.as_ref().unwrap();
//! assert_eq!((at.file.as_str(), at.line, at.column), ("nginx.conf", 3, 9));
//! assert_eq!(report.exit_code(), 1);
//! ```

pub mod apache;
pub mod htpasswd;
pub mod iis;
pub mod nginx;
pub mod sarif;

use std::path::{Path, PathBuf};

use serde::Serialize;
use why401_catalogue::Severity;
use why401_doctor::Finding;

/// Where a finding points: a file, a 1-based line and column, and that line as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// The file as given or found (an include's path as resolved).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// The source line, without its line ending.
    pub quote: String,
}

/// A finding about a configuration, at a place in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LintFinding {
    /// The catalogue finding made specific (id, severity, title, evidence, fix).
    #[serde(flatten)]
    pub finding: Finding,
    /// The line at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<Location>,
    /// Other lines that take part (the parent whose setting is lost, the file referred to).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<Location>,
}

/// What kind of file an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// An nginx configuration, or an `nginx -T` dump.
    Nginx,
    /// An Apache httpd configuration or `.htaccess`.
    Apache,
    /// An IIS `applicationHost.config` or `web.config`.
    Iis,
    /// An Apache htpasswd file (`user:hash`).
    Htpasswd,
    /// An Apache htdigest file (`user:realm:md5`).
    Htdigest,
}

/// One input as read.
#[derive(Debug, Clone)]
pub struct Input {
    /// The path as given (`-` for stdin).
    pub name: String,
    /// The content, when already read (stdin); otherwise it is read from `name`.
    pub text: Option<String>,
}

impl Input {
    /// A file to read.
    pub fn path(name: impl Into<String>) -> Self {
        Input {
            name: name.into(),
            text: None,
        }
    }

    /// Content already in hand (stdin, tests), named `name`.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        Input {
            name: name.into(),
            text: Some(text.into()),
        }
    }
}

/// An input that could not be linted, and why (exit 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputProblem {
    /// The input or the file it led to.
    pub file: String,
    /// What went wrong, in plain words.
    pub problem: String,
}

/// A file that was read, and as what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileRead {
    /// The path.
    pub file: String,
    /// What it was read as.
    pub kind: Kind,
    /// Its lines.
    pub lines: usize,
}

/// Everything `lint` found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LintReport {
    /// The files read (includes and referenced password files among them).
    pub files: Vec<FileRead>,
    /// The findings, most severe first, then by file and line.
    pub findings: Vec<LintFinding>,
    /// Inputs or referenced files that could not be read or recognised.
    pub problems: Vec<InputProblem>,
    /// How something was read that the reader should know (`<IfModule>` read as true).
    pub notes: Vec<InputProblem>,
}

impl LintReport {
    /// 0 clean (notes at most), 1 a finding at warning or above, 2 an input that could not be
    /// read (which wins: the lint is incomplete).
    pub fn exit_code(&self) -> u8 {
        if !self.problems.is_empty() {
            2
        } else if self
            .findings
            .iter()
            .any(|f| f.finding.severity != Severity::Info)
        {
            1
        } else {
            0
        }
    }

    /// Keeps the findings at `min` or above.
    pub fn keep_at_least(&mut self, min: Severity) {
        self.findings
            .retain(|f| rank(f.finding.severity) >= rank(min));
    }

    fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            rank(b.finding.severity)
                .cmp(&rank(a.finding.severity))
                .then_with(|| place(a).cmp(&place(b)))
        });
    }
}

/// Where a finding points, for ordering (no allocation: a dump has thousands).
fn place(f: &LintFinding) -> (&str, usize, usize) {
    f.at.as_ref()
        .map(|l| (l.file.as_str(), l.line, l.column))
        .unwrap_or_default()
}

fn rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 2,
        Severity::Warning => 1,
        _ => 0,
    }
}

/// A file's text with its lines indexed, for quoting.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    pub(crate) name: String,
    pub(crate) text: String,
    starts: Vec<usize>,
}

impl Source {
    pub(crate) fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text: String = text.into();
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Source {
            name: name.into(),
            text,
            starts,
        }
    }

    pub(crate) fn lines(&self) -> usize {
        self.starts.len() - usize::from(self.text.ends_with('\n') || self.text.is_empty())
    }

    /// The line `n` (1-based) without its ending.
    pub(crate) fn line(&self, n: usize) -> &str {
        let Some(&start) = self.starts.get(n.saturating_sub(1)) else {
            return "";
        };
        let end = self.starts.get(n).copied().unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or_default()
            .trim_end_matches(['\n', '\r'])
    }

    /// The 1-based line and byte column of a byte offset.
    pub(crate) fn line_col(&self, offset: usize) -> (usize, usize) {
        let i = self.starts.partition_point(|&s| s <= offset).max(1);
        (i, offset - self.starts[i - 1] + 1)
    }

    /// A location at line `n`, byte column `byte_col` (1-based), counted in characters.
    pub(crate) fn at(&self, n: usize, byte_col: usize) -> Location {
        let line = self.line(n);
        let column = line
            .get(..byte_col.saturating_sub(1).min(line.len()))
            .map_or(byte_col, |s| s.chars().count() + 1);
        Location {
            file: self.name.clone(),
            line: n,
            column,
            quote: line.to_string(),
        }
    }
}

/// The first `max` lines that are neither blank nor `#` comments, trimmed: what the
/// recognisers look at.
pub(crate) fn code_lines(text: &str, max: usize) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .take(max)
        .collect()
}

/// The folders below `dir` (not `dir` itself) that hold a file named `name` (IIS's web.config,
/// Apache's .htaccess), in path order; bounded (six levels, 200 folders) and skipping build
/// output, packages and version control, where no server configuration lives.
pub(crate) fn folders_with(dir: &Path, name: &str) -> Vec<PathBuf> {
    fn walk(d: &Path, name: &str, depth: usize, out: &mut Vec<PathBuf>) {
        if depth > 6 || out.len() >= 200 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(d) else {
            return;
        };
        let mut dirs: Vec<PathBuf> = entries
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| e.path())
            .filter(|p| {
                let n = p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                !matches!(n.as_str(), "bin" | "obj" | "node_modules" | ".git" | ".svn")
            })
            .collect();
        dirs.sort();
        for sub in dirs {
            if sub.join(name).is_file() && out.len() < 200 {
                out.push(sub.clone());
            }
            walk(&sub, name, depth + 1, out);
        }
    }
    let mut out = Vec::new();
    walk(dir, name, 0, &mut out);
    out
}

/// Reads a file as text; a non-UTF-8 byte is replaced and said.
pub(crate) fn read_text(path: &Path) -> Result<(String, bool), String> {
    let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
    match String::from_utf8(bytes) {
        Ok(s) => Ok((s.trim_start_matches('\u{feff}').to_string(), false)),
        Err(e) => Ok((String::from_utf8_lossy(e.as_bytes()).into_owned(), true)),
    }
}

/// What an input is, by its name and content; `None` when neither says.
pub fn classify(name: &str, text: &str) -> Option<Kind> {
    let base = Path::new(name)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(name)
        .to_ascii_lowercase();
    if base.contains("htdigest") || htpasswd::looks_like_htdigest(text) {
        return Some(Kind::Htdigest);
    }
    if base.contains("htpasswd") || base == ".htpasswd" || htpasswd::looks_like_htpasswd(text) {
        return Some(Kind::Htpasswd);
    }
    if iis::looks_like_iis(name, text) {
        return Some(Kind::Iis);
    }
    if nginx::looks_like_nginx(text) {
        return Some(Kind::Nginx);
    }
    if apache::looks_like_apache(&base, text) {
        return Some(Kind::Apache);
    }
    None
}

/// Where to evaluate.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// IIS: only this site (`Intranet`) or application (`Intranet/app`), as `--site`/`--path`
    /// name it; every site and application when `None`.
    pub iis_scope: Option<String>,
}

/// Lints the inputs: each is read, recognised and checked; configs pull in what they include
/// and the password files they name.
pub fn lint(inputs: &[Input]) -> LintReport {
    lint_with(inputs, &Options::default())
}

/// [`lint`] with [`Options`].
pub fn lint_with(inputs: &[Input], opts: &Options) -> LintReport {
    let mut report = LintReport::default();
    for input in expand(inputs, &mut report) {
        let (text, lossy) = match &input.text {
            Some(t) => (t.trim_start_matches('\u{feff}').to_string(), false),
            None => match read_text(Path::new(&input.name)) {
                Ok(t) => t,
                Err(e) => {
                    report.problems.push(InputProblem {
                        file: input.name.clone(),
                        problem: format!("cannot read it: {e}"),
                    });
                    continue;
                }
            },
        };
        if lossy {
            report.problems.push(InputProblem {
                file: input.name.clone(),
                problem: "not UTF-8: bytes were replaced, so quotes may differ from the file"
                    .into(),
            });
        }
        match classify(&input.name, &text) {
            Some(Kind::Nginx) => nginx::lint(&input.name, &text, input.text.is_none(), &mut report),
            Some(Kind::Iis) => iis::lint(
                &input.name,
                &text,
                input.text.is_none(),
                opts.iis_scope.as_deref(),
                &mut report,
            ),
            Some(Kind::Apache) => {
                apache::lint(&input.name, &text, input.text.is_none(), &mut report)
            }
            Some(kind @ (Kind::Htpasswd | Kind::Htdigest)) => {
                let src = Source::new(&input.name, text);
                htpasswd::lint(&src, kind, &mut report);
            }
            None => report.problems.push(InputProblem {
                file: input.name.clone(),
                problem: "not recognised as an nginx configuration, an nginx -T dump, an Apache configuration or .htaccess, an IIS applicationHost.config or web.config, or an htpasswd/htdigest file".into(),
            }),
        }
    }
    report.sort();
    report
}

/// Directories become the files under them that look like configurations; globs are expanded.
fn expand(inputs: &[Input], report: &mut LintReport) -> Vec<Input> {
    let mut out = Vec::new();
    for input in inputs {
        if input.text.is_some() {
            out.push(input.clone());
            continue;
        }
        let path = PathBuf::from(&input.name);
        if path.is_dir() {
            let mut found = Vec::new();
            walk(&path, &mut found, report, 0);
            found.sort();
            out.extend(
                found
                    .into_iter()
                    .map(|p| Input::path(p.display().to_string())),
            );
        } else if !path.exists() && input.name.contains(['*', '?', '[']) {
            match glob::glob(&input.name) {
                Ok(paths) => {
                    let mut any = false;
                    for p in paths.flatten() {
                        any = true;
                        out.push(Input::path(p.display().to_string()));
                    }
                    if !any {
                        report.problems.push(InputProblem {
                            file: input.name.clone(),
                            problem: "the pattern matches no file".into(),
                        });
                    }
                }
                Err(e) => report.problems.push(InputProblem {
                    file: input.name.clone(),
                    problem: format!("not a valid pattern: {e}"),
                }),
            }
        } else {
            out.push(input.clone());
        }
    }
    out
}

/// The files of a directory that are configurations or password files (by name): `*.conf`,
/// `nginx.conf`, `htpasswd`, `.htpasswd`, `*.htdigest`. Files only included by others are linted
/// through the including file, so a directory given whole is linted from its `nginx.conf` when it
/// has one.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, report: &mut LintReport, depth: usize) {
    if depth > 16 {
        return;
    }
    // A server's directory is linted from its main file, which includes the rest.
    for main in [
        "nginx.conf",
        "apache2.conf",
        "httpd.conf",
        "conf/httpd.conf",
    ] {
        let root = dir.join(main);
        if depth == 0 && root.is_file() {
            found.push(root);
            return;
        }
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            report.problems.push(InputProblem {
                file: dir.display().to_string(),
                problem: format!("cannot list it: {e}"),
            });
            return;
        }
    };
    for entry in entries.flatten() {
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if p.is_dir() {
            walk(&p, found, report, depth + 1);
        } else if name.ends_with(".conf")
            || name.contains("htpasswd")
            || name.contains("htdigest")
            || name == ".htaccess"
            || name == "applicationhost.config"
            || name == "web.config"
        {
            found.push(p);
        }
    }
}
