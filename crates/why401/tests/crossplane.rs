//! The nginx parser under `why401 lint` agrees with crossplane (NGINX's own Python parser) on
//! every fixture: our lint fixtures and gixy's test configurations in ../shared/fixtures/nginx.
//! Directive names, arguments (quotes removed), lines and nesting are compared one by one.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use why401_lint::nginx::{Node, outline};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "conf") {
            out.push(p);
        }
    }
}

/// crossplane's parse of each file (includes not followed; the grammar only, since gixy's
/// fixtures are fragments that nginx would refuse for their context), or its error; one Python
/// process for all.
fn crossplane(paths: &[PathBuf]) -> Vec<Result<Vec<Value>, String>> {
    const PARSE: &str = "import crossplane, json, sys; print(json.dumps([crossplane.parse(p, single=True, check_ctx=False, check_args=False, catch_errors=True) for p in sys.argv[1:]]))";
    let out = Command::new("python3")
        .args(["-c", PARSE])
        .args(paths)
        .output()
        .expect("python3 with crossplane (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "crossplane did not run: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    all.iter()
        .map(|j| {
            let file = &j["config"][0];
            if file["status"] != "ok" {
                Err(file["errors"].to_string())
            } else {
                Ok(file["parsed"].as_array().cloned().unwrap_or_default())
            }
        })
        .collect()
}

/// nginx's own unescaping of a word (ngx_conf_read_token: `\"`, `\'`, `\\`, `\t`, `\r`,
/// `\n`), which crossplane leaves as written.
fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek().copied() {
                Some(q @ ('"' | '\'' | '\\')) => {
                    out.push(q);
                    chars.next();
                    continue;
                }
                Some('t') => {
                    out.push('\t');
                    chars.next();
                    continue;
                }
                Some('r') => {
                    out.push('\r');
                    chars.next();
                    continue;
                }
                Some('n') => {
                    out.push('\n');
                    chars.next();
                    continue;
                }
                _ => {}
            }
        }
        out.push(c);
    }
    out
}

fn compare(ours: &[Node], theirs: &[Value], at: &str, diffs: &mut Vec<String>) {
    if ours.len() != theirs.len() {
        diffs.push(format!(
            "{at}: {} directives here, crossplane {}",
            ours.len(),
            theirs.len()
        ));
        return;
    }
    for (o, t) in ours.iter().zip(theirs) {
        let args: Vec<String> = t["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| unescape(a.as_str().unwrap()))
            .collect();
        let line = t["line"].as_u64().unwrap() as usize;
        if o.name != t["directive"].as_str().unwrap() || o.args != args || o.line != line {
            diffs.push(format!(
                "{at}: ours {} {:?} line {}, crossplane {} {:?} line {line}",
                o.name, o.args, o.line, t["directive"], args
            ));
            continue;
        }
        let kids = t["block"].as_array().cloned().unwrap_or_default();
        compare(&o.children, &kids, &format!("{at} > {}", o.name), diffs);
    }
}

/// Compares every `.conf` under `dirs`; panics listing each difference.
fn agree(dirs: &[PathBuf], at_least: usize) {
    let mut all = Vec::new();
    for d in dirs {
        assert!(d.is_dir(), "{} is missing", d.display());
        files(d, &mut all);
    }
    all.sort();
    assert!(all.len() >= at_least, "{} fixtures", all.len());
    let mut diffs = Vec::new();
    let mut compared = 0;
    for (path, theirs) in all.iter().zip(crossplane(&all)) {
        let text = std::fs::read_to_string(path).unwrap();
        match (outline(&text), theirs) {
            (Ok(ours), Ok(theirs)) => {
                compared += 1;
                compare(&ours, &theirs, &path.display().to_string(), &mut diffs);
            }
            (Err(_), Err(_)) => {} // both refuse it: agreement
            (Ok(_), Err(e)) => diffs.push(format!(
                "{}: crossplane refuses it ({e}), we do not",
                path.display()
            )),
            (Err(e), Ok(_)) => diffs.push(format!(
                "{}: we refuse it ({e}), crossplane does not",
                path.display()
            )),
        }
    }
    assert!(
        diffs.is_empty(),
        "{} of {} files differ:\n{}",
        diffs.len(),
        all.len(),
        diffs.join("\n")
    );
    assert!(compared >= at_least, "{compared} compared");
}

#[test]
#[ignore = "needs crossplane (PyPI): run by scripts/test.sh"]
fn our_nginx_parse_agrees_with_crossplane_on_our_fixtures() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    agree(&[here.join("tests/fixtures/lint/nginx")], 2);
}

#[test]
#[ignore = "needs crossplane (PyPI) and ../shared/fixtures: run by scripts/test.sh"]
fn our_nginx_parse_agrees_with_crossplane_on_shared_fixtures() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    agree(&[here.join("../../../shared/fixtures/nginx")], 80);
}
