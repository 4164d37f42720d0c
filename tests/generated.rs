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
        files.push((format!("man/{name}.1"), man_page(name, &cmd)));
    }
    files
}

/// A man page with the usual sections: clap_mangen's NAME, SYNOPSIS, DESCRIPTION and OPTIONS, then EXAMPLES
/// and NOTES from the tool's `--help` epilogue, EXIT STATUS, ENVIRONMENT and FILES from tt-core's lists
/// (`tt_core::cli`), SEE ALSO and VERSION. clap_mangen alone would put the whole epilogue under "EXTRA".
fn man_page(name: &str, cmd: &clap::Command) -> Vec<u8> {
    // The version without the commit and date of this build, so the committed page does not change with them.
    let epilogue = cmd.get_after_help().map(|h| h.to_string()).unwrap_or_default();
    let cmd = cmd.clone().version(env!("CARGO_PKG_VERSION")).after_help(None::<&str>);
    let man = clap_mangen::Man::new(cmd);
    let mut w = Vec::new();
    man.render_title(&mut w).unwrap();
    man.render_name_section(&mut w).unwrap();
    man.render_synopsis_section(&mut w).unwrap();
    man.render_description_section(&mut w).unwrap();
    man.render_options_section(&mut w).unwrap();

    // The epilogue: "Examples:", the example lines (indented), then notes paragraphs, then the shared footer.
    let body = epilogue.split(tt_core::cli::HELP_FOOTER).next().unwrap_or_default();
    let body = body.trim_end().strip_prefix("Examples:\n").unwrap_or_else(|| panic!("{name}: no Examples:"));
    let (examples, notes) = match body.find("\n\n") {
        Some(at) => (&body[..at], body[at + 2..].trim()),
        None => (body, ""),
    };
    let mut page = String::from(".SH EXAMPLES\n.nf\n");
    for line in examples.lines() {
        page += &roff(line.strip_prefix("  ").unwrap_or(line));
        page.push('\n');
    }
    page += ".fi\n";
    if !notes.is_empty() {
        page += ".SH NOTES\n";
        for para in notes.split("\n\n") {
            page += &format!(".PP\n{}\n", roff(&para.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
    }
    for (title, items) in [
        ("EXIT STATUS", tt_core::cli::EXIT_STATUS),
        ("ENVIRONMENT", tt_core::cli::ENVIRONMENT),
        ("FILES", tt_core::cli::FILES),
    ] {
        page += &if title.contains(' ') { format!(".SH \"{title}\"\n") } else { format!(".SH {title}\n") };
        for (term, text) in items {
            let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
            page += &format!(".TP\n\\fB{}\\fR\n{}\n", roff(term), roff(&text));
        }
    }
    let others: Vec<String> =
        tools().iter().map(|(n, _)| *n).filter(|n| *n != name).map(|n| format!("\\fB{}\\fR(1)", roff(n))).collect();
    page += &format!(".SH \"SEE ALSO\"\n{}\n", others.join(", "));
    w.extend_from_slice(page.as_bytes());
    man.render_version_section(&mut w).unwrap();
    w
}

/// Text as roff prints it: backslashes and hyphens escaped, and a line starting with `.` or `'` (a request)
/// guarded with a zero-width `\&`.
fn roff(text: &str) -> String {
    let s = text.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with('.') || s.starts_with('\'') { format!("\\&{s}") } else { s }
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
        // The version names the commit and the build date: `tt-sum 0.1.0 (commit 0a5d34d1e2f3, built 2026-12-04)`.
        let version = sc.cmd(name).arg("--version").succeeds().stdout;
        let rest = version
            .strip_prefix(&format!("{name} {} (commit ", env!("CARGO_PKG_VERSION")))
            .unwrap_or_else(|| panic!("{version}"));
        let (commit, date) = rest
            .trim_end()
            .strip_suffix(')')
            .and_then(|r| r.split_once(", built "))
            .unwrap_or_else(|| panic!("{version}"));
        assert!(
            commit == "unknown" || (commit.len() == 12 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
            "{version}"
        );
        let shape = date.len() == 10
            && date.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
        assert!(shape, "{version}");
    }
}

/// Every enumerated flag completes to its words, not to file names (bash, zsh and fish scripts alike).
#[test]
fn completions_offer_the_words_of_enumerated_flags() {
    let root = common::repo_root();
    for (tool, flag, words) in [
        ("tt-sum", "--period", "today yesterday week last-week month last-month year all"),
        (
            "tt-sum",
            "--by",
            "agent model provider session task project branch host user commit source hour day week month",
        ),
        ("tt-sum", "--format", "table json jsonl csv markdown"),
        ("tt-budget", "--fail-at", "info warning critical over"),
        ("tt-budget", "--period", "day week month year total session"),
        ("tt-budget", "--format", "table json jsonl csv markdown"),
        ("tt-optimize", "--type", "rightsize caching outlier session_outlier budget"),
        ("tt-log", "--import", "claude-code codex"),
        ("tt-price", "--service-tier", "standard batch flex priority"),
    ] {
        let bash = std::fs::read_to_string(root.join(format!("completions/{tool}.bash"))).unwrap();
        let case = format!("{flag})\n                    COMPREPLY=($(compgen -W \"{words}\" -- \"${{cur}}\"))");
        assert!(bash.contains(&case), "{tool} {flag}: bash completion does not offer {words:?}");
        let fish = std::fs::read_to_string(root.join(format!("completions/{tool}.fish"))).unwrap();
        let first = words.split(' ').next().unwrap();
        assert!(
            fish.lines().any(|l| l.contains(&format!("-l {}", &flag[2..])) && l.contains(first)),
            "{tool} {flag}: fish completion does not offer {first}"
        );
        let zsh = std::fs::read_to_string(root.join(format!("completions/_{tool}"))).unwrap();
        assert!(zsh.lines().any(|l| l.contains(&format!("{flag}=[")) && l.contains(first)), "{tool} {flag}: zsh");
    }
}

/// The man pages have the usual sections, in the usual order, and no "EXTRA".
#[test]
fn man_pages_have_the_usual_sections() {
    for (name, cmd) in tools() {
        let page = String::from_utf8(man_page(name, &cmd)).unwrap();
        let sections: Vec<&str> = page.lines().filter_map(|l| l.strip_prefix(".SH ")).collect();
        let want = [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXAMPLES",
            "\"EXIT STATUS\"",
            "ENVIRONMENT",
            "FILES",
            "\"SEE ALSO\"",
            "VERSION",
        ];
        let got: Vec<&str> = sections.iter().copied().filter(|s| *s != "NOTES").collect();
        assert_eq!(got, want, "{name}");
        assert!(page.contains("\\fBTT_LOG\\fR") && page.contains("\\fB2\\fR"), "{name}");
    }
}
