//! The committed shell completions (`completions/`) and man pages (`man/`) must match the flags.
//!
//! They are generated from each tool's clap definition. When this test fails, regenerate them with
//! `TT_REGENERATE=1 cargo test --test generated` and commit the result.
mod common;

use clap_complete::Shell;

fn tools() -> Vec<(&'static str, clap::Command)> {
    vec![
        ("tt-log", tt_log::command()),
        ("tt-price", tt_price::command()),
        ("tt-sum", tt_sum::command()),
        ("tt-budget", tt_budget::command()),
        ("tt-export", tt_export::command()),
        ("tt-optimize", tt_optimize::command()),
    ]
}

fn expected() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for (name, cmd) in tools() {
        for (shell, file) in [
            (Shell::Bash, format!("completions/{name}.bash")),
            (Shell::Zsh, format!("completions/_{name}")),
            (Shell::Fish, format!("completions/{name}.fish")),
            (Shell::Elvish, format!("completions/{name}.elv")),
            (Shell::PowerShell, format!("completions/_{name}.ps1")),
        ] {
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd.clone(), name, &mut buf);
            files.push((file, buf));
        }
        let mut buf = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut buf).expect("render man page");
        files.push((format!("man/{name}.1"), buf));
    }
    files
}

#[test]
fn completions_and_man_pages_are_fresh() {
    let root = common::repo_root();
    let regenerate = std::env::var_os("TT_REGENERATE").is_some();
    let mut stale = Vec::new();
    for (rel, content) in expected() {
        let path = root.join(&rel);
        if regenerate {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &content).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&content[..]) {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "stale generated files (run `TT_REGENERATE=1 cargo test --test generated` and commit): {stale:?}"
    );
}

#[test]
fn every_tool_has_help_with_examples_and_version() {
    for (name, _) in tools() {
        let sc = common::Scenario::new();
        let out = sc.cmd(name).arg("--help").succeeds();
        assert!(out.stdout.contains("Examples:"), "{name} --help has no examples");
        assert!(out.stdout.contains("Exit status:"), "{name} --help does not explain exit codes");
        sc.cmd(name).arg("--version").succeeds().stdout_has(env!("CARGO_PKG_VERSION"));
    }
}
