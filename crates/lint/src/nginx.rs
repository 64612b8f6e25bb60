//! nginx: a configuration tree with its `include`s (followed on disk, or inside an `nginx -T`
//! dump), and the rules that find where authentication will not do what the file seems to say.
//!
//! Each file is parsed by nginx-lint-parser (positions included); what is ours is the include
//! resolution, the dump splitting, and nginx's inheritance: a directive applies at the deepest
//! level that sets it, and array directives (`add_header`, `allow`/`deny`, `proxy_set_header`)
//! are inherited only by levels that set none of their own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use why401_doctor::{Finding, FindingId};

use crate::htpasswd::{self, Hash};
use crate::{FileRead, InputProblem, Kind, LintFinding, LintReport, Location, Source};

/// The marker `nginx -T` writes before each file it dumps.
const DUMP_MARKER: &str = "# configuration file ";

/// Whether text reads as nginx configuration: an `nginx -T` dump, or the block directives and
/// `;`-terminated lines nginx uses.
pub fn looks_like_nginx(text: &str) -> bool {
    if text.lines().any(|l| l.starts_with(DUMP_MARKER)) {
        return true;
    }
    let code = crate::code_lines(text, 200);
    let blocks = [
        "http", "server", "location", "events", "upstream", "stream", "map", "if",
    ];
    let has_block = code.iter().any(|l| {
        let word = l.split([' ', '{', '\t']).next().unwrap_or_default();
        blocks.contains(&word) && l.contains('{')
    });
    let statements = code.iter().filter(|l| l.ends_with(';')).count();
    (has_block || statements >= 2) && !code.iter().any(|l| l.starts_with('<'))
}

/// A directive with its includes spliced in.
#[derive(Debug, Clone)]
pub struct Node {
    /// The directive name.
    pub name: String,
    /// Its arguments: quotes removed, variables as written (`$host`).
    pub args: Vec<String>,
    /// Index of the file in [`Tree::sources`].
    file: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based byte column.
    col: usize,
    /// The block's directives, for block directives.
    pub children: Vec<Node>,
    /// Whether it has a block.
    pub block: bool,
    /// Indexes of the children that levels below inherit ([`INHERITED`]), so that looking up
    /// what applies does not scan every child of `http` (a dump splices thousands of servers in).
    settings: Vec<usize>,
}

/// The directives the rules look up through the levels of the configuration.
const INHERITED: &[&str] = &[
    "auth_basic",
    "auth_basic_user_file",
    "auth_request",
    "satisfy",
    "root",
    "add_header",
    "allow",
    "deny",
    "proxy_set_header",
];

impl Node {
    fn new(
        name: String,
        args: Vec<String>,
        (file, line, col): (usize, usize, usize),
        children: Vec<Node>,
        block: bool,
    ) -> Self {
        Node {
            name,
            args,
            file,
            line,
            col,
            children,
            block,
            settings: Vec::new(),
        }
    }

    /// Indexes the inherited settings among the children (once the includes are spliced in).
    fn index_settings(&mut self) {
        self.settings = self
            .children
            .iter()
            .enumerate()
            .filter(|(_, c)| INHERITED.contains(&c.name.as_str()))
            .map(|(i, _)| i)
            .collect();
    }

    /// The inherited settings of this level named `name`, in order.
    fn set<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s Node> + use<'s, 'n> {
        self.settings
            .iter()
            .map(|&i| &self.children[i])
            .filter(move |c| c.name == name)
    }

    fn arg(&self, i: usize) -> &str {
        self.args.get(i).map(String::as_str).unwrap_or_default()
    }

    fn kids<'s, 'n>(&'s self, name: &'n str) -> impl Iterator<Item = &'s Node> + use<'s, 'n> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// A configuration with every file it read.
#[derive(Debug, Clone)]
pub struct Tree {
    sources: Vec<Source>,
    /// The top-level directives.
    pub root: Vec<Node>,
    /// Read from disk (so files it names can be checked on disk).
    from_disk: bool,
    /// nginx's prefix for relative paths: the main file's directory.
    prefix: PathBuf,
    /// The files of a dump, parsed ahead on every core; taken as the includes reach them.
    parsed: HashMap<String, Parsed>,
}

/// A dump's file read ahead: its text indexed, and its parse.
type Parsed = (Source, FileParse);

impl Tree {
    fn at(&self, n: &Node) -> Location {
        self.sources[n.file].at(n.line, n.col)
    }
}

/// Where the files of a tree come from.
enum Files {
    /// On disk.
    Disk,
    /// Inside an `nginx -T` dump: each file's path (their texts are parsed ahead, in the tree).
    Dump(Vec<String>),
    /// Text alone (stdin): includes cannot be followed.
    Alone,
}

/// Reads `name`'s `text` (and what it includes) into a tree.
pub(crate) fn load(name: &str, text: &str, from_disk: bool, report: &mut LintReport) -> Tree {
    let (main_name, main_text, files, parsed) = match split_dump(text) {
        Some(dump) if !dump.is_empty() => {
            let names: Vec<String> = dump.iter().map(|(n, _)| n.clone()).collect();
            // Every file of the dump parsed ahead on every core; taken as includes reach them.
            let parsed: HashMap<String, Parsed> = dump
                .into_par_iter()
                .map(|(n, t)| {
                    let src = Source::new(n.clone(), t);
                    let parsed = parse(&src);
                    (n, (src, parsed))
                })
                .collect();
            (names[0].clone(), String::new(), Files::Dump(names), parsed)
        }
        _ if from_disk => (
            name.to_string(),
            text.to_string(),
            Files::Disk,
            HashMap::new(),
        ),
        _ => (
            name.to_string(),
            text.to_string(),
            Files::Alone,
            HashMap::new(),
        ),
    };
    let prefix = Path::new(&main_name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut tree = Tree {
        sources: Vec::new(),
        root: Vec::new(),
        from_disk: matches!(files, Files::Disk),
        prefix,
        parsed,
    };
    let mut stack = Vec::new();
    tree.root = parse_file(&mut tree, &files, &main_name, main_text, report, &mut stack);
    tree
}

/// The files of an `nginx -T` dump, in order; `None` when the text is not one.
fn split_dump(text: &str) -> Option<Vec<(String, String)>> {
    if !text.lines().any(|l| l.starts_with(DUMP_MARKER)) {
        return None;
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(DUMP_MARKER) {
            let path = rest.trim_end().trim_end_matches(':').to_string();
            files.push((path, String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
        // Lines before the first marker are nginx -T's own messages ("syntax is ok").
    }
    Some(files)
}

fn parse_file(
    tree: &mut Tree,
    files: &Files,
    name: &str,
    text: String,
    report: &mut LintReport,
    stack: &mut Vec<String>,
) -> Vec<Node> {
    let file = tree.sources.len();
    let (src, parsed) = match tree.parsed.remove(name) {
        Some(p) => p,
        None => {
            let src = Source::new(name, text);
            let parsed = parse(&src);
            (src, parsed)
        }
    };
    report.files.push(FileRead {
        file: name.to_string(),
        kind: Kind::Nginx,
        lines: src.lines(),
    });
    for (offset, message) in parsed.errors.iter().take(5) {
        let (line, col) = src.line_col(*offset);
        let at = src.at(line, col);
        report.problems.push(InputProblem {
            file: format!("{}:{}:{}", at.file, at.line, at.column),
            problem: format!("nginx syntax: {message} (nginx -t would refuse it)"),
        });
    }
    tree.sources.push(src);
    stack.push(name.to_string());
    let nodes = splice(tree, files, parsed.nodes, file, report, stack);
    stack.pop();
    nodes
}

/// A file's directives with their file set and every `include` replaced by what it includes.
fn splice(
    tree: &mut Tree,
    files: &Files,
    nodes: Vec<Node>,
    file: usize,
    report: &mut LintReport,
    stack: &mut Vec<String>,
) -> Vec<Node> {
    let mut out = Vec::with_capacity(nodes.len());
    for mut n in nodes {
        if n.name == "include" && !n.block {
            let at = tree.sources[file].at(n.line, n.col);
            let pattern = n.arg(0).to_string();
            out.extend(include(tree, files, &pattern, at, report, stack));
            continue;
        }
        let children = std::mem::take(&mut n.children);
        n.children = splice(tree, files, children, file, report, stack);
        n.file = file;
        n.index_settings();
        out.push(n);
    }
    out
}

/// One file's directives as parsed, includes left as directives: for comparing the parse with
/// other parsers (crossplane). `Err` carries the first syntax error.
pub fn outline(text: &str) -> Result<Vec<Node>, String> {
    let src = Source::new("", text);
    let parsed = parse(&src);
    match parsed.errors.first() {
        Some((offset, message)) => Err(format!("line {}: {message}", src.line_col(*offset).0)),
        None => Ok(parsed.nodes),
    }
}

/// A file's directives as written (includes not yet followed), and its syntax errors as
/// (byte offset, message).
#[derive(Debug, Clone)]
struct FileParse {
    nodes: Vec<Node>,
    errors: Vec<(usize, String)>,
}

/// nginx's grammar over nginx-lint-parser's lexer: words separated by whitespace or comments,
/// `;` ending a directive, `{`…`}` a block. Written here rather than taking the crate's syntax
/// tree and AST because building those (three trees per file) cost most of a large dump's lint
/// time; the tokens are the crate's, and the result is checked against crossplane.
fn parse(src: &Source) -> FileParse {
    let tokens = nginx_lint_parser::lexer_rowan::tokenize(&src.text);
    let mut p = Parser {
        src,
        tokens,
        at: 0,
        offset: 0,
        errors: Vec::new(),
    };
    let nodes = p.block(0);
    if p.at < p.tokens.len() {
        // A stray `}` at the top: nginx refuses the file.
        let off = p.offset;
        p.errors.push((off, "unexpected \"}\"".into()));
    }
    FileParse {
        nodes,
        errors: p.errors,
    }
}

struct Parser<'s> {
    src: &'s Source,
    tokens: Vec<(nginx_lint_parser::syntax_kind::SyntaxKind, &'s str)>,
    at: usize,
    /// Byte offset of `tokens[at]`.
    offset: usize,
    errors: Vec<(usize, String)>,
}

/// What ends a run of words.
enum End {
    Semicolon,
    Open,
    Close,
    Eof,
}

impl<'s> Parser<'s> {
    fn bump(&mut self) {
        if let Some((_, t)) = self.tokens.get(self.at) {
            self.offset += t.len();
            self.at += 1;
        }
    }

    /// Words up to `;`, `{`, `}` or the end, each with its byte offset; adjacent tokens (no
    /// space between) make one word, as in nginx (`http://x/$uri`).
    fn words(&mut self) -> (Vec<(usize, String)>, End) {
        use nginx_lint_parser::syntax_kind::SyntaxKind as K;
        let mut words: Vec<(usize, String)> = Vec::new();
        let mut joined = false;
        while let Some(&(kind, text)) = self.tokens.get(self.at) {
            let start = self.offset;
            match kind {
                K::SEMICOLON => {
                    self.bump();
                    return (words, End::Semicolon);
                }
                K::L_BRACE => {
                    self.bump();
                    return (words, End::Open);
                }
                K::R_BRACE => return (words, End::Close),
                K::WHITESPACE | K::NEWLINE | K::COMMENT => joined = false,
                K::ERROR if text.trim().is_empty() => joined = false,
                _ => {
                    let piece = match kind {
                        K::DOUBLE_QUOTED_STRING | K::SINGLE_QUOTED_STRING => unquote(text),
                        _ => text.to_string(),
                    };
                    match words.last_mut() {
                        Some((_, w)) if joined => w.push_str(&piece),
                        _ => words.push((start, piece)),
                    }
                    joined = true;
                }
            }
            self.bump();
        }
        (words, End::Eof)
    }

    /// Directives until the `}` that closes this block (depth > 0) or the end of the file.
    fn block(&mut self, depth: usize) -> Vec<Node> {
        let mut out = Vec::new();
        loop {
            let (words, end) = self.words();
            let mut words = words.into_iter();
            let Some((offset, name)) = words.next() else {
                match end {
                    End::Semicolon => continue, // a stray `;`
                    End::Open => {
                        self.errors
                            .push((self.offset, "a block without a directive".into()));
                        let _ = self.block(depth + 1);
                        continue;
                    }
                    End::Close if depth > 0 => {
                        self.bump();
                        return out;
                    }
                    End::Close => return out,
                    End::Eof => {
                        if depth > 0 {
                            self.errors.push((
                                self.offset,
                                "unexpected end of file, expecting \"}\"".into(),
                            ));
                        }
                        return out;
                    }
                }
            };
            let mut args: Vec<String> = words.map(|(_, w)| w).collect();
            if name == "if" {
                if let Some(first) = args.first_mut() {
                    *first = first.strip_prefix('(').unwrap_or(first).to_string();
                }
                if let Some(last) = args.last_mut() {
                    *last = last.strip_suffix(')').unwrap_or(last).to_string();
                }
                args.retain(|a| !a.is_empty());
            }
            let (line, col) = self.src.line_col(offset);
            match end {
                End::Semicolon => {
                    out.push(Node::new(name, args, (0, line, col), Vec::new(), false))
                }
                End::Open => {
                    let children = if nginx_lint_parser::is_raw_block_directive(&name) {
                        self.skip_raw();
                        Vec::new()
                    } else {
                        self.block(depth + 1)
                    };
                    out.push(Node::new(name, args, (0, line, col), children, true));
                }
                End::Close | End::Eof => {
                    self.errors.push((
                        offset,
                        format!("directive \"{name}\" is not terminated by \";\""),
                    ));
                    if matches!(end, End::Close) && depth > 0 {
                        self.bump();
                    }
                    return out;
                }
            }
        }
    }

    /// A raw block's content (Lua code): tokens up to the matching `}`.
    fn skip_raw(&mut self) {
        use nginx_lint_parser::syntax_kind::SyntaxKind as K;
        let mut depth = 1;
        while let Some(&(kind, _)) = self.tokens.get(self.at) {
            self.bump();
            match kind {
                K::L_BRACE => depth += 1,
                K::R_BRACE => {
                    depth -= 1;
                    if depth == 0 {
                        return;
                    }
                }
                _ => {}
            }
        }
    }
}

/// A quoted word's content with nginx's unescaping (`\"`, `\'`, `\\`, `\t`, `\r`, `\n`).
fn unquote(token: &str) -> String {
    let inner = token
        .get(1..)
        .unwrap_or_default()
        .strip_suffix(|c| c == '"' || c == '\'')
        .unwrap_or_else(|| token.get(1..).unwrap_or_default());
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            let rep = match chars.peek() {
                Some(&q @ ('"' | '\'' | '\\')) => Some(q),
                Some('t') => Some('\t'),
                Some('r') => Some('\r'),
                Some('n') => Some('\n'),
                _ => None,
            };
            if let Some(r) = rep {
                out.push(r);
                chars.next();
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// The directives of the files `pattern` names, spliced where the `include` stood.
fn include(
    tree: &mut Tree,
    files: &Files,
    pattern: &str,
    at: Location,
    report: &mut LintReport,
    stack: &mut Vec<String>,
) -> Vec<Node> {
    let full = if Path::new(pattern).is_absolute() {
        pattern.to_string()
    } else {
        tree.prefix.join(pattern).display().to_string()
    };
    let wildcard = pattern.contains(['*', '?', '[']);
    let names: Vec<(String, Option<String>)> = match files {
        Files::Alone => {
            report.problems.push(InputProblem {
                file: format!("{}:{}:{}", at.file, at.line, at.column),
                problem: format!(
                    "include {pattern} not followed: the configuration came without its files; give its path, or lint `nginx -T` output"
                ),
            });
            return Vec::new();
        }
        Files::Dump(dump) => {
            let pat = glob::Pattern::new(&full).ok();
            dump.iter()
                .filter(|p| {
                    **p == full || *p == pattern || pat.as_ref().is_some_and(|m| m.matches(p))
                })
                // The text was parsed ahead; a file included twice is parsed again from its
                // source kept in the tree.
                .map(|p| {
                    let again = match tree.parsed.contains_key(p) {
                        true => None,
                        false => tree
                            .sources
                            .iter()
                            .find(|s| s.name == *p)
                            .map(|s| s.text.clone()),
                    };
                    (p.clone(), Some(again.unwrap_or_default()))
                })
                .collect()
        }
        Files::Disk => {
            let mut v: Vec<String> = glob::glob(&full)
                .map(|g| g.flatten().map(|p| p.display().to_string()).collect())
                .unwrap_or_default();
            v.sort();
            v.into_iter().map(|p| (p, None)).collect()
        }
    };
    if names.is_empty() && !wildcard {
        report.problems.push(InputProblem {
            file: format!("{}:{}:{}", at.file, at.line, at.column),
            problem: format!("include {pattern}: no such file ({full}); nginx would not start"),
        });
    }
    let mut out = Vec::new();
    for (name, text) in names {
        if stack.contains(&name) || stack.len() > 32 {
            report.problems.push(InputProblem {
                file: format!("{}:{}:{}", at.file, at.line, at.column),
                problem: format!("include {name} includes itself (a loop nginx would refuse)"),
            });
            continue;
        }
        let text = match text {
            Some(t) => t,
            None => match crate::read_text(Path::new(&name)) {
                Ok((t, _)) => t,
                Err(e) => {
                    report.problems.push(InputProblem {
                        file: name.clone(),
                        problem: format!(
                            "included at {}:{}, cannot read it: {e}",
                            at.file, at.line
                        ),
                    });
                    continue;
                }
            },
        };
        out.extend(parse_file(tree, files, &name, text, report, stack));
    }
    out
}

/// Lints an nginx configuration (or `nginx -T` dump).
pub(crate) fn lint(name: &str, text: &str, from_disk: bool, report: &mut LintReport) {
    let tree = load(name, text, from_disk, report);
    let mut rules = Rules {
        tree: &tree,
        out: Vec::new(),
        user_files: Vec::new(),
    };
    let mut chain = Vec::new();
    rules.walk(&tree.root, &mut chain);
    rules.servers(&tree.root);
    let Rules {
        mut out,
        user_files,
        ..
    } = rules;
    user_file_checks(&tree, &user_files, &mut out, report);
    report.findings.extend(out);
    // A dump's tree is a hundred thousand nodes: freed on another thread, off the caller's time.
    if tree.sources.len() > 64 {
        std::thread::spawn(move || drop(tree));
    }
}

/// A level of the configuration: a block directive (`http`, `server`, `location`, `if`, …).
type Chain<'a> = Vec<&'a Node>;

struct Rules<'a> {
    tree: &'a Tree,
    out: Vec<LintFinding>,
    /// `auth_basic_user_file` directives in effect somewhere, with the chain's `root`.
    user_files: Vec<(&'a Node, Option<&'a Node>)>,
}

/// The directive `name` that applies at the end of `chain`: the last one at the deepest level
/// that sets it.
fn effective<'a>(chain: &[&'a Node], name: &str) -> Option<&'a Node> {
    chain.iter().rev().find_map(|level| level.set(name).last())
}

/// An array directive's entries at the end of `chain`: those of the deepest level that has any
/// of `names` (nginx inherits such arrays only into levels that define none).
fn effective_all<'a>(chain: &[&'a Node], names: &[&str]) -> Vec<&'a Node> {
    for level in chain.iter().rev() {
        let here: Vec<&Node> = level
            .settings
            .iter()
            .map(|&i| &level.children[i])
            .filter(|c| names.contains(&c.name.as_str()))
            .collect();
        if !here.is_empty() {
            return here;
        }
    }
    Vec::new()
}

fn is_auth_header(n: &Node) -> bool {
    n.name == "add_header" && n.arg(0).eq_ignore_ascii_case("www-authenticate")
}

/// The authentication module in effect at the end of `chain`, if any.
fn auth_on(chain: &[&Node]) -> Option<&'static str> {
    let on = |name| effective(chain, name).is_some_and(|n| n.arg(0) != "off");
    if on("auth_basic") {
        Some("auth_basic")
    } else if on("auth_request") {
        Some("auth_request")
    } else {
        None
    }
}

impl<'a> Rules<'a> {
    fn push(&mut self, f: Finding, at: &Node, also: &[&Node]) {
        self.out.push(LintFinding {
            finding: f,
            at: Some(self.tree.at(at)),
            also: also.iter().map(|n| self.tree.at(n)).collect(),
        });
    }

    /// Every directive, with the levels above it.
    fn walk(&mut self, nodes: &'a [Node], chain: &mut Chain<'a>) {
        for n in nodes {
            if is_auth_header(n) && !n.args.iter().any(|a| a == "always") {
                self.push(
                    Finding::new(FindingId::NGINX_AUTH_HEADER_NOT_ALWAYS)
                        .title("add_header WWW-Authenticate without `always` is never sent with a 401")
                        .evidence("nginx adds add_header fields only to 200, 201, 204, 206, 301, 302, 303, 304, 307 and 308 responses unless `always` is given")
                        .confidence(0.95),
                    n,
                    &[],
                );
            }
            if n.name == "auth_basic_user_file" {
                let root = effective(chain, "root");
                self.user_files.push((n, root));
            }
            if n.block {
                chain.push(n);
                self.level(chain);
                self.walk(&n.children, chain);
                chain.pop();
            }
        }
    }

    /// The rules that judge one level (the end of `chain`) with what it inherits.
    fn level(&mut self, chain: &[&'a Node]) {
        let Some(&here) = chain.last() else { return };
        self.header_inheritance(chain, here);
        self.access(chain, here);
        self.return_before_auth(chain, here);
        self.upstream_leak(chain, here);
        self.ntlm_upstream(chain, here);
        self.auth_off_scope(chain, here);
    }

    /// A level with add_header of its own drops the parent's, the challenge among them.
    fn header_inheritance(&mut self, chain: &[&'a Node], here: &'a Node) {
        let mine: Vec<&Node> = here.kids("add_header").collect();
        if mine.is_empty() || mine.iter().any(|n| is_auth_header(n)) {
            return;
        }
        let parent = effective_all(&chain[..chain.len() - 1], &["add_header"]);
        if let Some(lost) = parent.iter().find(|n| is_auth_header(n)) {
            self.push(
                Finding::new(FindingId::NGINX_ADD_HEADER_INHERITANCE)
                    .title(format!(
                        "this {} sets add_header of its own, so the WWW-Authenticate header set above is not sent here",
                        here.name
                    ))
                    .evidence(format!(
                        "inherited from line {}: add_header {}",
                        lost.line,
                        lost.args.join(" ")
                    ))
                    .confidence(0.9),
                mine[0],
                &[lost],
            );
        }
    }

    /// `satisfy any` with `allow all`; `allow` lists without a `deny`.
    fn access(&mut self, chain: &[&'a Node], here: &'a Node) {
        if !here
            .children
            .iter()
            .any(|c| matches!(c.name.as_str(), "allow" | "deny" | "satisfy"))
        {
            return;
        }
        let rules = effective_all(chain, &["allow", "deny"]);
        let everyone = |n: &&Node| matches!(n.arg(0), "all" | "0.0.0.0/0" | "::/0");
        let satisfy_any = effective(chain, "satisfy").filter(|n| n.arg(0) == "any");
        let first_match_all = rules.iter().find(|n| everyone(n));
        if let (Some(s), Some(first)) = (satisfy_any, first_match_all)
            && first.name == "allow"
            && auth_on(chain).is_some()
        {
            self.push(
                Finding::new(FindingId::NGINX_SATISFY_ANY_OPEN)
                    .title("satisfy any with allow all: every client is let in without a password")
                    .evidence(format!(
                        "line {}: allow {} matches every address, and satisfy any needs only one module to agree",
                        first.line,
                        first.arg(0)
                    ))
                    .confidence(0.95),
                s,
                &[first],
            );
            return;
        }
        let allows: Vec<&&Node> = rules.iter().filter(|n| n.name == "allow").collect();
        let denies_rest = rules.iter().any(|n| n.name == "deny" && everyone(n));
        if satisfy_any.is_none()
            && !allows.is_empty()
            && !denies_rest
            && here.kids("allow").next().is_some()
        {
            self.push(
                Finding::new(FindingId::NGINX_ALLOW_WITHOUT_DENY)
                    .title("allow without a deny: every other address is allowed too")
                    .evidence("access rules are checked in order and an address no rule matches is allowed; without `deny all;` at the end the allow lines change nothing")
                    .confidence(0.85),
                allows[0],
                &[],
            );
        }
    }

    /// `return` runs in the rewrite phase, before the access phase that asks for credentials.
    fn return_before_auth(&mut self, chain: &[&'a Node], here: &'a Node) {
        let Some(module) = auth_on(chain) else {
            return;
        };
        for r in here.kids("return") {
            // `return URL` is a 302; an error status denies anyway.
            let code: u16 = r.arg(0).parse().unwrap_or(302);
            if code >= 400 {
                continue;
            }
            let auth = effective(chain, module);
            self.push(
                Finding::new(FindingId::NGINX_RETURN_BEFORE_AUTH)
                    .title(format!(
                        "return {} answers before {module} is checked: no credentials are asked here",
                        r.arg(0)
                    ))
                    .evidence("nginx runs `return` in the rewrite phase; auth_basic and auth_request run later, in the access phase, and never see this request")
                    .confidence(0.9),
                r,
                &auth.into_iter().collect::<Vec<_>>(),
            );
        }
    }

    /// Windows authentication (NTLM, Negotiate) proxied by nginx without `ntlm` in the upstream:
    /// the handshake's legs reach different upstream connections.
    fn ntlm_upstream(&mut self, chain: &[&'a Node], here: &'a Node) {
        let Some(pass) = here.kids("proxy_pass").next() else {
            return;
        };
        let target = pass.arg(0);
        let host = target
            .split_once("://")
            .map_or(target, |(_, r)| r)
            .split(['/', ':'])
            .next()
            .unwrap_or_default();
        let upstream = self
            .tree
            .root
            .iter()
            .flat_map(|n| std::iter::once(n).chain(n.children.iter()))
            .find(|n| n.name == "upstream" && n.arg(0) == host);
        if upstream.is_some_and(|u| u.kids("ntlm").next().is_some()) {
            return;
        }
        let windows = |n: &Node| {
            n.name != "ntlm"
                && n.args.iter().any(|a| {
                    let a = a.to_ascii_lowercase();
                    a.contains("ntlm") || a.contains("negotiate")
                })
        };
        let mut signal: Option<&Node> = None;
        for level in chain.iter().chain(upstream.iter()) {
            if let Some(n) = level.children.iter().find(|c| windows(c)) {
                signal = Some(n);
            }
        }
        let Some(signal) = signal else { return };
        self.push(
            Finding::new(FindingId::NGINX_NTLM_UPSTREAM)
                .title(format!(
                    "NTLM/Negotiate is proxied to {target} without a connection-pinned upstream: the handshake never completes (endless 401)"
                ))
                .evidence("NTLM and Negotiate authenticate a TCP connection; open-source nginx sends each request of the handshake on whatever upstream connection is free (and HTTP/1.0 by default), so the server sees the AUTHENTICATE on a connection that never got the CHALLENGE")
                .confidence(0.75),
            pass,
            &[signal],
        );
    }

    /// Basic credentials checked by nginx are passed on to the upstream unless removed.
    fn upstream_leak(&mut self, chain: &[&'a Node], here: &'a Node) {
        let Some(pass) = here.kids("proxy_pass").next() else {
            return;
        };
        let Some(basic) = effective(chain, "auth_basic").filter(|n| n.arg(0) != "off") else {
            return;
        };
        let cleared = effective_all(chain, &["proxy_set_header"])
            .iter()
            .any(|h| h.arg(0).eq_ignore_ascii_case("authorization"));
        if !cleared {
            self.push(
                Finding::new(FindingId::NGINX_UPSTREAM_AUTH_LEAK)
                    .title(format!(
                        "the user's Basic credentials go on to {} with every request",
                        pass.arg(0)
                    ))
                    .evidence("nginx passes the client's Authorization header upstream unless proxy_set_header Authorization replaces it: the application sees (and may log, or try to check) the password nginx already checked")
                    .confidence(0.8),
                pass,
                &[basic],
            );
        }
    }

    /// `auth_basic off` on a location that matches everything undoes the protection above.
    fn auth_off_scope(&mut self, chain: &[&'a Node], here: &'a Node) {
        let Some(off) = here.kids("auth_basic").find(|n| n.arg(0) == "off") else {
            return;
        };
        let above =
            effective(&chain[..chain.len() - 1], "auth_basic").filter(|n| n.arg(0) != "off");
        let Some(above) = above else { return };
        let whole = match here.name.as_str() {
            "server" => true,
            "location" => {
                let (op, path) = match here.args.as_slice() {
                    [op, path] => (op.as_str(), path.as_str()),
                    [path] => ("", path.as_str()),
                    _ => ("", ""),
                };
                matches!(
                    (op, path),
                    ("", "/") | ("^~", "/") | ("~" | "~*", ".*" | "." | "/" | "^/" | "^/.*" | "")
                )
            }
            _ => false,
        };
        if whole {
            self.push(
                Finding::new(FindingId::NGINX_AUTH_BASIC_OFF_SCOPE)
                    .title(format!(
                        "auth_basic off on {} {} turns authentication off for everything it matches: the whole site",
                        here.name,
                        here.args.join(" ")
                    ))
                    .evidence(format!("line {}: auth_basic \"{}\" is what it switches off", above.line, above.arg(0)))
                    .confidence(0.75),
                off,
                &[above],
            );
        }
    }

    /// Per server: Basic over plain http; auth_request targets that redirect.
    fn servers(&mut self, nodes: &'a [Node]) {
        for n in nodes {
            if n.name == "server" {
                self.server(n);
            } else if n.block {
                self.servers(&n.children);
            }
        }
    }

    fn server(&mut self, server: &'a Node) {
        let mut basic: Option<&Node> = None;
        find_all(server, &mut |n| {
            if basic.is_none() && n.name == "auth_basic" && n.arg(0) != "off" {
                basic = Some(n);
            }
        });
        let listens: Vec<&Node> = server.kids("listen").collect();
        let tls = listens
            .iter()
            .any(|l| l.args.iter().any(|a| a == "ssl" || a == "quic"))
            || server.kids("ssl").any(|n| n.arg(0) == "on");
        if let (Some(b), false) = (basic, tls) {
            let at = listens.first().copied().unwrap_or(b);
            self.push(
                Finding::new(FindingId::BASIC_OVER_HTTP)
                    .title("Basic authentication on a server that listens only on plain http")
                    .evidence("no listen … ssl in this server: the Base64 password crosses the network readable by anyone on the path")
                    .confidence(0.8),
                at,
                &[b],
            );
        }
        // auth_request targets: a subrequest answered with a redirect is a 500 for the user.
        let mut targets: Vec<&Node> = Vec::new();
        find_all(server, &mut |n| {
            if n.name == "auth_request" && n.arg(0) != "off" {
                targets.push(n);
            }
        });
        for t in targets {
            let uri = t.arg(0);
            let path = uri.split('?').next().unwrap_or(uri);
            let hit = select_location(&server.children, path).and_then(|l| {
                l.kids("return").find(|r| match r.args.as_slice() {
                    [code, ..] if code.parse::<u16>().is_ok() => {
                        matches!(code.parse::<u16>(), Ok(301 | 302 | 303 | 307 | 308))
                    }
                    // `return URL`: a 302.
                    [url] => ["http://", "https://", "$scheme"]
                        .iter()
                        .any(|s| url.starts_with(s)),
                    _ => false,
                })
            });
            if let Some(r) = hit {
                self.push(
                    Finding::new(FindingId::AUTH_REQUEST_REDIRECT)
                        .title(format!(
                            "the auth_request target {uri} answers {}: nginx turns that into a 500",
                            r.arg(0)
                        ))
                        .evidence("auth_request accepts only 2xx (allow), 401 and 403 (deny) from the subrequest; any other status is an error")
                        .confidence(0.9),
                    r,
                    &[t],
                );
            }
        }
    }
}

fn find_all<'a>(n: &'a Node, f: &mut impl FnMut(&'a Node)) {
    for c in &n.children {
        f(c);
        find_all(c, f);
    }
}

/// The location nginx picks for `uri` among `nodes` (a server's or a location's children), as
/// `ngx_http_core_find_location` does: an exact `=` match wins; else the longest prefix, whose
/// nested locations are searched first; that prefix is final when it is `^~`; else the first
/// regex (`~`, `~*`) that matches, in the order written; else the longest prefix. A regex nginx's
/// PCRE accepts and Rust's `regex` does not is taken as not matching.
fn select_location<'a>(nodes: &'a [Node], uri: &str) -> Option<&'a Node> {
    find_location(nodes, uri).map(|(l, _)| l)
}

/// [`select_location`]'s search, saying whether the match is final (exact, `^~` or regex) or a
/// plain prefix that the regexes of the levels above may still override.
fn find_location<'a>(nodes: &'a [Node], uri: &str) -> Option<(&'a Node, bool)> {
    let locations = || nodes.iter().filter(|n| n.name == "location" && n.block);
    let mut longest: Option<(&Node, usize, bool)> = None;
    for l in locations() {
        let (prefix, stop) = match l.args.as_slice() {
            [op, p] if op == "=" => {
                if p == uri {
                    return Some((l, true));
                }
                continue;
            }
            [op, p] if op == "^~" => (p, true),
            [p] if !p.starts_with('@') => (p, false),
            _ => continue,
        };
        if uri.starts_with(prefix.as_str()) && longest.is_none_or(|(_, n, _)| prefix.len() > n) {
            longest = Some((l, prefix.len(), stop));
        }
    }
    let mut found = longest.map(|(l, _, stop)| (l, stop));
    if let Some((l, stop)) = found {
        match find_location(&l.children, uri) {
            Some((inner, true)) => return Some((inner, true)),
            Some((inner, false)) => found = Some((inner, stop)),
            None => {}
        }
        if stop {
            return found;
        }
    }
    let regex = locations().find(|l| match l.args.as_slice() {
        [op, re] if op == "~" || op == "~*" => regex::RegexBuilder::new(re)
            .case_insensitive(op == "~*")
            .build()
            .is_ok_and(|r| r.is_match(uri)),
        _ => false,
    });
    match regex {
        Some(r) => Some(find_location(&r.children, uri).map_or((r, true), |(l, _)| (l, true))),
        None => found,
    }
}

/// The password files: missing (403), inside the document root, holding hashes nginx leaves to
/// libc; each one read is linted as an htpasswd file too.
fn user_file_checks(
    tree: &Tree,
    user_files: &[(&Node, Option<&Node>)],
    out: &mut Vec<LintFinding>,
    report: &mut LintReport,
) {
    let mut done: Vec<PathBuf> = Vec::new();
    for (n, root) in user_files {
        let given = n.arg(0);
        if given.contains('$') || !tree.from_disk {
            continue;
        }
        let path = if Path::new(given).is_absolute() {
            PathBuf::from(given)
        } else {
            tree.prefix.join(given)
        };
        if let Some(root) = root.filter(|r| !r.arg(0).contains('$')) {
            let root_dir = if Path::new(root.arg(0)).is_absolute() {
                PathBuf::from(root.arg(0))
            } else {
                tree.prefix.join(root.arg(0))
            };
            if path.starts_with(&root_dir) {
                out.push(LintFinding {
                    finding: Finding::new(FindingId::HTPASSWD_IN_DOCROOT)
                        .title(format!(
                            "the password file {} is inside the document root {}",
                            path.display(),
                            root_dir.display()
                        ))
                        .evidence("unless a location denies it, anyone can download the hashes and guess the passwords offline")
                        .confidence(0.8),
                    at: Some(tree.at(n)),
                    also: vec![tree.at(root)],
                });
            }
        }
        if done.contains(&path) {
            continue;
        }
        done.push(path.clone());
        let text = match crate::read_text(&path) {
            Ok((t, _)) => t,
            Err(e) => {
                out.push(LintFinding {
                    finding: Finding::new(FindingId::MISSING_HTPASSWD_FILE)
                        .title(format!(
                            "auth_basic_user_file {} cannot be read ({e}): nginx answers 403, or 500, not 401",
                            path.display()
                        ))
                        .evidence("nginx opens the file on every request; when it does not exist the answer is 403 Forbidden with \"open() … failed (2: No such file or directory)\" in the error log")
                        .confidence(0.95),
                    at: Some(tree.at(n)),
                    also: Vec::new(),
                });
                continue;
            }
        };
        let src = Source::new(path.display().to_string(), text);
        let libc: Vec<(String, Hash)> = htpasswd::entries(&src.text, Kind::Htpasswd)
            .into_iter()
            .map(|e| (e.user, Hash::of(&e.stored)))
            .filter(|(_, h)| h.needs_libc())
            .collect();
        if let Some((user, hash)) = libc.first() {
            out.push(LintFinding {
                finding: Finding::new(FindingId::NGINX_HTPASSWD_LIBC_HASH)
                    .title(format!(
                        "{} of the users in {} ({user} first) have {} hashes, which nginx leaves to the C library",
                        libc.len(),
                        path.display(),
                        hash.name()
                    ))
                    .evidence("nginx checks {PLAIN}, {SHA}, {SSHA} and $apr1$ itself and hands every other hash to crypt_r(): glibc with libxcrypt (Debian, Ubuntu, Fedora) knows bcrypt and SHA-crypt, musl (Alpine images) does not, and there every login is a 500 with \"crypt_r() failed\"")
                    .confidence(0.6),
                at: Some(tree.at(n)),
                also: Vec::new(),
            });
        }
        htpasswd::lint(&src, Kind::Htpasswd, report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Input, lint as lint_inputs};

    fn ids(conf: &str) -> Vec<(String, usize)> {
        lint_inputs(&[Input::text("nginx.conf", conf)])
            .findings
            .into_iter()
            .map(|f| (f.finding.id, f.at.map(|a| a.line).unwrap_or(0)))
            .collect()
    }

    fn has(conf: &str, id: &str, line: usize) {
        let got = ids(conf);
        assert!(
            got.contains(&(id.to_string(), line)),
            "{id} at line {line} expected in {got:?}"
        );
    }

    fn lacks(conf: &str, id: &str) {
        let got = ids(conf);
        assert!(
            !got.iter().any(|(i, _)| i == id),
            "{id} unexpected in {got:?}"
        );
    }

    #[test]
    fn add_header_challenge_needs_always() {
        let bad = "http {\n server {\n  listen 443 ssl;\n  location / {\n   auth_basic \"x\";\n   add_header WWW-Authenticate 'Basic realm=\"x\"';\n  }\n }\n}\n";
        has(bad, "nginx-auth-header-not-always", 6);
        lacks(
            &bad.replace("x\"';", "x\"' always;"),
            "nginx-auth-header-not-always",
        );
    }

    #[test]
    fn a_nested_add_header_drops_the_challenge() {
        let conf = "http {\n server {\n  listen 443 ssl;\n  add_header WWW-Authenticate 'Bearer' always;\n  location /api/ {\n   add_header X-Frame-Options DENY;\n  }\n  location /ok/ {\n   add_header X-A b;\n   add_header WWW-Authenticate 'Bearer' always;\n  }\n }\n}\n";
        has(conf, "nginx-add-header-inheritance", 6);
        let got = ids(conf);
        assert_eq!(
            got.iter()
                .filter(|(i, _)| i == "nginx-add-header-inheritance")
                .count(),
            1,
            "{got:?}"
        );
    }

    #[test]
    fn access_rules() {
        let open = "server {\n listen 443 ssl;\n location / {\n  satisfy any;\n  allow all;\n  auth_basic \"x\";\n }\n}\n";
        has(open, "nginx-satisfy-any-open", 4);
        let lan = "server {\n listen 443 ssl;\n location / {\n  satisfy any;\n  allow 10.0.0.0/8;\n  deny all;\n  auth_basic \"x\";\n }\n}\n";
        lacks(lan, "nginx-satisfy-any-open");
        lacks(lan, "nginx-allow-without-deny");
        let pointless = "server {\n listen 443 ssl;\n location /a/ {\n  allow 10.0.0.0/8;\n }\n}\n";
        has(pointless, "nginx-allow-without-deny", 4);
    }

    #[test]
    fn return_skips_the_access_phase() {
        let conf = "server {\n listen 443 ssl;\n auth_basic \"x\";\n location = /health {\n  return 200 ok;\n }\n location /gone {\n  return 403;\n }\n}\n";
        has(conf, "nginx-return-before-auth", 5);
        let got = ids(conf);
        assert!(
            !got.contains(&("nginx-return-before-auth".into(), 8)),
            "{got:?}"
        );
    }

    #[test]
    fn upstream_sees_the_password_unless_cleared() {
        let conf = "server {\n listen 443 ssl;\n location / {\n  auth_basic \"x\";\n  proxy_pass http://app;\n }\n}\n";
        has(conf, "nginx-upstream-auth-leak", 5);
        lacks(
            &conf.replace(
                "proxy_pass",
                "proxy_set_header Authorization \"\";\n  proxy_pass",
            ),
            "nginx-upstream-auth-leak",
        );
    }

    #[test]
    fn windows_auth_needs_a_pinned_upstream() {
        let conf = "http {\n upstream iis { server 10.0.0.5:80; }\n server {\n  listen 443 ssl;\n  location / {\n   proxy_pass http://iis;\n   proxy_set_header X-Auth-Hint Negotiate;\n  }\n }\n}\n";
        has(conf, "nginx-ntlm-upstream", 6);
        lacks(
            &conf.replace("server 10.0.0.5:80;", "server 10.0.0.5:80; ntlm;"),
            "nginx-ntlm-upstream",
        );
        lacks(
            &conf.replace("proxy_set_header X-Auth-Hint Negotiate;", ""),
            "nginx-ntlm-upstream",
        );
    }

    #[test]
    fn auth_basic_off_on_the_root_location() {
        let conf = "server {\n listen 443 ssl;\n auth_basic \"x\";\n location / {\n  auth_basic off;\n }\n location /public/ {\n  auth_basic off;\n }\n}\n";
        has(conf, "nginx-auth-basic-off-scope", 5);
        let got = ids(conf);
        assert!(
            !got.contains(&("nginx-auth-basic-off-scope".into(), 8)),
            "{got:?}"
        );
    }

    #[test]
    fn basic_over_plain_http_and_auth_request_redirects() {
        let conf = "server {\n listen 80;\n location / {\n  auth_request /auth;\n  auth_basic \"x\";\n }\n location = /auth {\n  return 302 https://login.example/;\n }\n}\n";
        has(conf, "basic-over-http", 2);
        has(conf, "auth-request-redirect", 8);
    }

    #[test]
    fn auth_request_targets_are_found_as_nginx_selects_locations() {
        // A regex location beats the prefix `/` and `return URL` is a 302.
        let conf = "server {\n listen 443 ssl;\n location / {\n  auth_request /_auth/check?x=1;\n }\n location ~ ^/_auth/ {\n  return https://login.example/;\n }\n}\n";
        has(conf, "auth-request-redirect", 7);
        // `^~` stops the regex search: the regex that redirects is never reached.
        let conf = "server {\n listen 443 ssl;\n location / {\n  auth_request /_auth/check;\n }\n location ^~ /_auth/ {\n  proxy_pass http://127.0.0.1:9091;\n }\n location ~ ^/_auth/ {\n  return 302 https://login.example/;\n }\n}\n";
        lacks(conf, "auth-request-redirect");
        // An exact match wins over everything; a nested location is searched in its prefix.
        let conf = "server {\n listen 443 ssl;\n location / {\n  auth_request /a/b;\n }\n location /a/ {\n  location /a/b {\n   return 307 /login;\n  }\n }\n location ~* ^/A/ {\n  proxy_pass http://127.0.0.1:9091;\n }\n}\n";
        lacks(conf, "auth-request-redirect");
        let conf = conf.replace("location ~* ^/A/", "location ~* ^/X/");
        has(&conf, "auth-request-redirect", 8);
    }

    #[test]
    fn dumps_are_split_and_includes_followed_inside_them() {
        let dump = "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok\n# configuration file /etc/nginx/nginx.conf:\nhttp {\n    include /etc/nginx/conf.d/*.conf;\n}\n\n# configuration file /etc/nginx/conf.d/site.conf:\nserver {\n    listen 443 ssl;\n    add_header WWW-Authenticate Basic;\n}\n";
        let r = lint_inputs(&[Input::text("-", dump)]);
        let f = r
            .findings
            .iter()
            .find(|f| f.finding.id == "nginx-auth-header-not-always")
            .unwrap_or_else(|| panic!("{r:?}"));
        let at = f.at.as_ref().unwrap();
        assert_eq!(
            (at.file.as_str(), at.line),
            ("/etc/nginx/conf.d/site.conf", 3)
        );
        assert!(r.problems.is_empty(), "{:?}", r.problems);
    }

    #[test]
    fn stdin_includes_are_named_not_dropped() {
        let r = lint_inputs(&[Input::text("-", "http {\n include conf.d/*.conf;\n}\n")]);
        assert_eq!(r.exit_code(), 2, "{r:?}");
        assert!(r.problems[0].problem.contains("not followed"), "{r:?}");
    }

    #[test]
    fn the_grammar_is_nginx_s() {
        let conf = "server {\r\n  return 301 https://$host$request_uri;\r\n  if ($x = \"a b\") { set $y 'it\\'s'; }\r\n  content_by_lua_block { ngx.say(\"}\") }\r\n  listen 80; # comment;\r\n}\r\n";
        let nodes = outline(conf).unwrap();
        let server = &nodes[0];
        let names: Vec<&str> = server.children.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(names, ["return", "if", "content_by_lua_block", "listen"]);
        assert_eq!(
            server.children[0].args,
            ["301", "https://$host$request_uri"]
        );
        assert_eq!(server.children[1].args, ["$x", "=", "a b"]);
        assert_eq!(server.children[1].children[0].args, ["$y", "it's"]);
        assert_eq!(
            (server.children[3].line, server.children[3].args.len()),
            (5, 1)
        );
        for (bad, why) in [
            ("server { listen 80;", "end of file"),
            ("listen 80; }", "unexpected"),
            ("listen 80", "not terminated"),
        ] {
            let e = outline(bad).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_never_panics(text in "\\PC{0,400}") {
            let _ = lint_inputs(&[Input::text("nginx.conf", text.clone())]);
            let dump = format!("{DUMP_MARKER}/a.conf:\n{text}\n{DUMP_MARKER}/b.conf:\ninclude /a.conf;\n");
            let _ = lint_inputs(&[Input::text("-", dump)]);
        }
    }
}
