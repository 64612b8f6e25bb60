//! The README's first two commands are the contract with a newcomer on a fresh clone: the first
//! runs the main job (the lab) with no setup, the second runs every test. They are read from the
//! README itself, so an edit there cannot silently break them.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The commands of the README's first fenced block, comments and blank lines dropped.
fn first_block_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let mut lines = readme.lines();
    lines
        .by_ref()
        .find(|l| l.starts_with("```"))
        .expect("the README has a fenced block");
    lines
        .take_while(|l| !l.starts_with("```"))
        .map(|l| l.split(" #").next().unwrap_or("").trim().to_string())
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn the_first_block_runs_the_lab_then_every_test() {
    let cmds = first_block_commands();
    assert_eq!(cmds.len(), 2, "{cmds:?}");
    assert!(
        cmds[0].starts_with("cargo run ") && cmds[0].ends_with(" lab"),
        "the first command runs the lab: {cmds:?}"
    );
    assert_eq!(cmds[1], "bash scripts/test.sh");
    // CI runs exactly the README's test command.
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(
        ci.lines().any(|l| l.trim() == format!("exec {}", cmds[1])),
        ".ci/run must call `{}`:\n{ci}",
        cmds[1]
    );
}

#[test]
#[ignore = "builds the release binary with cargo, as a newcomer would: run by scripts/test.sh"]
fn the_first_command_works_verbatim() {
    let cmds = first_block_commands();
    let out = Command::new("sh")
        .arg("-c")
        .arg(&cmds[0])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "`{}` failed ({:?}):\n{stdout}\n{}",
        cmds[0],
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let tally = stdout
        .lines()
        .find_map(|l| {
            l.split(" scenarios diagnosed as expected")
                .next()
                .filter(|_| l.contains("scenarios diagnosed"))
        })
        .and_then(|l| l.split_whitespace().last())
        .expect("the lab prints its tally");
    let (found, all) = tally.split_once('/').expect("found/all");
    assert_eq!(found, all, "{stdout}");
    assert!(all.parse::<u32>().unwrap() >= 16, "{stdout}");
}
