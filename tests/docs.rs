//! The examples in the docs are tests: every fenced block of README.md, CONTRIBUTING.md and docs/*.md is
//! checked here, by its language, so the docs cannot go stale. CONTRIBUTING.md ("Examples are tests") states
//! the rules for writers; in short:
//!
//! - ` ```console `: a terminal session. A `$ ` line is a command (a trailing `\` continues it on the next
//!   line); the lines up to the next `$ ` are what the terminal shows, stdout and stderr as they interleave.
//!   The commands run one after another in one bash, under a pseudo-terminal (`script`, COLUMNS=120), and
//!   their output must be exactly what the block shows (the scenario's directory shows as `/home/me`). A
//!   command may exit non-zero only when the next one is `echo $?`, which shows the exit code.
//! - ` ```sh `: a script, run with `bash -euo pipefail` (output to a pipe, stdin empty); it must exit 0.
//! - ` ```toml `: a config; `tt-price --list --config FILE` must load it.
//! - ` ```json `: one JSON document, or one per line.
//! - ` ```yaml `: a CI recipe (`github-actions` or `gitlab-ci`): parsed, and its jobs run step by step with a
//!   stand-in `tt/install.sh` that links the debug binaries (the real one is a release build of minutes).
//! - ` ```sql `: `duckdb-csv`: run by DuckDB over CSV tt-export wrote; `postgres-csv`: the table's columns
//!   must be the CSV's (there is no server to run it).
//! - anything else (` ```text `): only skipped, with a reason — output is shown in `console` blocks, which check it.
//!
//! Each block runs in a fresh [`Scenario`]: HOME, working directory and `TT_LOG=usage.jsonl` in a temp dir, no
//! config, the debug binaries first on PATH, TZ=UTC, LC_ALL=C.UTF-8. An HTML comment on the line before the
//! fence changes that: `<!-- doc: NAME -->` names a setup (files, fixtures) and extra checks in [`setup`] and [`check`],
//! and `<!-- doc: skip: REASON -->` marks a block that cannot run here (a `sh` block then still has to parse,
//! and the repository paths it names must exist). Every block is run or skipped with a reason, and every name
//! below is used by a block. `TT_DOCS_BLESS=1 cargo test --test docs` writes what the console commands print
//! into their blocks instead of comparing (review the diff).
mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The files whose blocks are checked (BENCHMARKS.md's blocks are written by the bench scripts: see
/// `every_benchmark_block_has_its_script`).
fn doc_files() -> Vec<String> {
    let mut files = vec!["README.md".to_string(), "CONTRIBUTING.md".to_string()];
    let mut docs: Vec<String> = std::fs::read_dir(repo_root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

#[derive(Debug, Clone, PartialEq)]
enum Tag {
    None,
    Name(String),
    Skip(String),
}

#[derive(Debug, Clone)]
struct Block {
    file: String,
    /// Line of the opening fence (1-based).
    line: usize,
    lang: String,
    tag: Tag,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }
    fn name(&self) -> Option<&str> {
        match &self.tag {
            Tag::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// The fenced blocks of one markdown file.
fn blocks_of(file: &str) -> Vec<Block> {
    let text = std::fs::read_to_string(repo_root().join(file)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        if l.trim_start().starts_with("```") && !l.starts_with("```") {
            panic!("{file}:{}: an indented fence: start blocks at column 0 so that tests/docs.rs checks them", i + 1);
        }
        if let Some(lang) = l.strip_prefix("```") {
            let lang = lang.trim().to_string();
            assert!(!lang.is_empty(), "{file}:{}: a fenced block without a language", i + 1);
            let tag = match i.checked_sub(1).map(|p| lines[p].trim()) {
                Some(c) if c.starts_with("<!-- doc:") => {
                    let inner = c.trim_start_matches("<!-- doc:").trim_end_matches("-->").trim();
                    match inner.strip_prefix("skip:") {
                        Some(reason) => Tag::Skip(reason.trim().to_string()),
                        None => Tag::Name(inner.to_string()),
                    }
                }
                _ => Tag::None,
            };
            let start = i;
            let mut body = String::new();
            i += 1;
            while i < lines.len() && lines[i] != "```" {
                body.push_str(lines[i]);
                body.push('\n');
                i += 1;
            }
            assert!(i < lines.len(), "{file}:{}: a block that is never closed", start + 1);
            out.push(Block { file: file.to_string(), line: start + 1, lang, tag, text: body });
        }
        i += 1;
    }
    out
}

fn all_blocks() -> Vec<Block> {
    doc_files().iter().flat_map(|f| blocks_of(f)).collect()
}

/// Check every block of `file`, collecting the failures so that one run shows them all. With
/// `TT_DOCS_BLESS=1`, console blocks take the output the commands gave instead (review the diff).
fn check_file(file: &str) {
    let blocks = blocks_of(file);
    let bless = std::env::var("TT_DOCS_BLESS").as_deref() == Ok("1");
    let mut failures = Vec::new();
    let mut blessed: Vec<(usize, usize, String)> = Vec::new();
    for b in blocks {
        let at = b.at();
        match std::panic::catch_unwind(|| check_block(&b, bless)) {
            Ok(Some(body)) if body != b.text => blessed.push((b.line, b.text.lines().count(), body)),
            Ok(_) => {}
            Err(e) => {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failures.push(format!("── {at} ({}) ──\n{msg}", b.lang));
            }
        }
    }
    if !blessed.is_empty() {
        let path = repo_root().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        for (fence, len, body) in blessed.into_iter().rev() {
            lines.splice(fence..fence + len, body.lines().map(str::to_string));
        }
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    assert!(failures.is_empty(), "{} block(s) failed:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn readme() {
    check_file("README.md");
}

#[test]
fn contributing() {
    check_file("CONTRIBUTING.md");
}

#[test]
fn docs() {
    let files: Vec<String> = doc_files().into_iter().filter(|f| f.starts_with("docs/")).collect();
    assert!(files.len() >= 4, "{files:?}");
    let failed: Vec<&String> = files.iter().filter(|f| std::panic::catch_unwind(|| check_file(f)).is_err()).collect();
    assert!(failed.is_empty(), "blocks failed in {failed:?} (see above)");
}

/// Check one block; a console block under `bless` returns the transcript the commands gave.
fn check_block(b: &Block, bless: bool) -> Option<String> {
    if let Tag::Skip(reason) = &b.tag {
        assert!(reason.len() >= 10, "{}: say why the block is not run", b.at());
        if b.lang == "sh" {
            sh_parses_and_paths_exist(b);
        }
        return None;
    }
    if b.name() == Some("test-command") {
        ci_runs_exactly_this_test_command(b);
        return None;
    }
    match b.lang.as_str() {
        "console" => return run_console(b, bless),
        "sh" => run_sh(b),
        "toml" => load_toml(b),
        "json" => parse_json(b),
        "yaml" => run_yaml(b),
        "sql" => run_sql(b),
        other => panic!("{}: nothing checks ```{other} blocks: show output in a console block, or skip it", b.at()),
    }
    None
}

/// The README's test command is what `.ci/run` runs, and it runs no other `cargo test` (not run here: it is
/// the command running this test).
fn ci_runs_exactly_this_test_command(b: &Block) {
    let command = b.text.trim();
    let ci = std::fs::read_to_string(repo_root().join(".ci/run")).unwrap();
    let commands: Vec<&str> = ci.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    assert!(commands.contains(&command), "{}: .ci/run does not run `{command}`", b.at());
    let tests: Vec<&&str> = commands.iter().filter(|l| l.starts_with("cargo test")).collect();
    assert_eq!(tests, [&command], "{}: .ci/run must run this test command and no other cargo test", b.at());
}

// ---- the languages --------------------------------------------------------------------------------------------

/// What a setup adds to a scenario.
#[derive(Default)]
struct Ctx {
    /// Directories put before the binaries on PATH (stand-ins for commands such as `curl`).
    path: Vec<PathBuf>,
    env: Vec<(String, String)>,
}

fn scenario(b: &Block) -> (Scenario, Ctx) {
    let sc = Scenario::new();
    let ctx = setup(b, &sc);
    (sc, ctx)
}

fn shell(sc: &Scenario, ctx: &Ctx, script: &str) -> Run {
    let mut path: Vec<String> = ctx.path.iter().map(|p| p.display().to_string()).collect();
    path.push(bin_dir().display().to_string());
    path.push(std::env::var("PATH").unwrap_or_default());
    // A UTF-8 locale whatever the tests run in: charts and gauges draw Unicode blocks in one, ASCII otherwise.
    let mut r = sc.bash(script).env("PATH", path.join(":")).env("TZ", "UTC").env("LC_ALL", "C.UTF-8");
    for (k, v) in &ctx.env {
        r = r.env(k, v);
    }
    r
}

fn run_sh(b: &Block) {
    if !block_tools_present(b) {
        return;
    }
    let (sc, ctx) = scenario(b);
    let out = shell(&sc, &ctx, &format!("set -euo pipefail\n{}", b.text)).run();
    assert_eq!(out.code, Some(0), "{}: the script failed\nstdout:\n{}\nstderr:\n{}", b.at(), out.stdout, out.stderr);
    check(b, &sc, &ctx, Some(&out));
}

/// A block that is not run still parses as bash, and the files of the repository it names exist.
fn sh_parses_and_paths_exist(b: &Block) {
    let out = std::process::Command::new("bash").arg("-n").arg("-c").arg(&b.text).output().unwrap();
    assert!(out.status.success(), "{}: not valid bash: {}", b.at(), String::from_utf8_lossy(&out.stderr));
    for word in b.text.split(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '(' || c == ')') {
        let path = word.trim_start_matches("./");
        let in_repo = ["bench/", "scripts/", "tools/", "contrib/", "tests/", "config/", ".ci/"]
            .iter()
            .any(|d| path.starts_with(d))
            || path == "install.sh";
        if in_repo && !path.contains('*') {
            assert!(repo_root().join(path).exists(), "{}: {path} does not exist", b.at());
        }
    }
}

/// `$ command` lines and the output under each.
fn console_steps(b: &Block) -> Vec<(String, String)> {
    let mut steps: Vec<(String, String)> = Vec::new();
    let mut lines = b.text.lines();
    while let Some(l) = lines.next() {
        if let Some(cmd) = l.strip_prefix("$ ") {
            let mut cmd = cmd.to_string();
            while cmd.ends_with('\\') {
                cmd.push('\n');
                cmd.push_str(lines.next().unwrap_or_else(|| panic!("{}: a `\\` on the last line", b.at())));
            }
            steps.push((cmd, String::new()));
        } else {
            let step = steps.last_mut().unwrap_or_else(|| panic!("{}: output before the first `$ `", b.at()));
            step.1.push_str(l);
            step.1.push('\n');
        }
    }
    steps
}

fn run_console(b: &Block, bless: bool) -> Option<String> {
    if !block_tools_present(b) {
        return None;
    }
    let steps = console_steps(b);
    let (sc, ctx) = scenario(b);
    // One bash runs the commands in turn; after each, a marker line (\x1e and the exit code) that splits the
    // output, and `(exit N)` so that the next command's `$?` is the command's own.
    let mut script = String::new();
    for (cmd, _) in &steps {
        script.push_str(&format!("{cmd}\n__s=$?; printf '\\036%d\\n' \"$__s\"; (exit \"$__s\")\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("console.sh");
    std::fs::write(&file, script).unwrap();
    let out = shell(&sc, &ctx, &format!("script -qec 'bash {}' /dev/null", file.display())).env("COLUMNS", "120").run();
    // The scenario's directory (HOME, the working directory) shows as /home/me, whatever the temp dir is.
    let real = std::fs::canonicalize(sc.path()).unwrap().display().to_string();
    let text = out
        .stdout
        .replace("\r\n", "\n")
        .replace(&real, "/home/me")
        .replace(&sc.path().display().to_string(), "/home/me");
    let mut parts = text.split('\x1e');
    let mut outputs = vec![parts.next().unwrap_or_default().to_string()];
    let mut codes = Vec::new();
    for p in parts {
        let (code, rest) = p.split_once('\n').unwrap_or((p, ""));
        codes.push(code.parse::<i32>().unwrap_or(-1));
        outputs.push(rest.to_string());
    }
    assert_eq!(codes.len(), steps.len(), "{}: the session stopped early:\n{text}\nstderr:\n{}", b.at(), out.stderr);
    if bless {
        let body: String = steps.iter().zip(&outputs).map(|((cmd, _), got)| format!("$ {cmd}\n{got}")).collect();
        if body != b.text {
            return Some(body);
        }
    }
    for (i, (cmd, want)) in steps.iter().enumerate() {
        assert_eq!(
            &outputs[i],
            want,
            "{}: the output of `{cmd}` differs from the block's\n--- got:\n{}--- want:\n{}",
            b.at(),
            outputs[i],
            want
        );
        let shown = steps.get(i + 1).is_some_and(|(next, _)| next == "echo $?");
        assert!(codes[i] == 0 || shown, "{}: `{cmd}` exited {} and the block does not show it", b.at(), codes[i]);
    }
    check(b, &sc, &ctx, Some(&out));
    None
}

fn load_toml(b: &Block) {
    let (sc, ctx) = scenario(b);
    sc.write("doc.toml", &b.text);
    let out = shell(&sc, &ctx, "tt-price --list --config doc.toml --format jsonl >/dev/null").run();
    assert_eq!(out.code, Some(0), "{}: the config does not load: {}", b.at(), out.stderr);
    check(b, &sc, &ctx, Some(&out));
}

fn parse_json(b: &Block) {
    if serde_json::from_str::<Value>(&b.text).is_err() {
        for (n, l) in b.text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            if let Err(e) = serde_json::from_str::<Value>(l) {
                panic!("{}: line {} of the block is not JSON: {e}", b.at(), n + 1);
            }
        }
    }
    if b.name().is_some() {
        let (sc, ctx) = scenario(b);
        check(b, &sc, &ctx, None);
    }
}

/// DuckDB statements run over CSV tt-export wrote (`duckdb-csv`), or a PostgreSQL table compared with its
/// columns (`postgres-csv`).
fn run_sql(b: &Block) {
    let (sc, ctx) = scenario(b);
    match b.name() {
        Some("duckdb-csv") => {
            if have("python3", &["-c", "import duckdb"], "Python's duckdb module (pip install duckdb)") {
                check(b, &sc, &ctx, None);
            }
        }
        Some("postgres-csv") => check(b, &sc, &ctx, None),
        _ => panic!("{}: a sql block is `<!-- doc: duckdb-csv -->` or `<!-- doc: postgres-csv -->`", b.at()),
    }
}

/// Whether a tool the check needs is installed. Missing, the check is skipped with one visible line — unless
/// `TT_TEST_REQUIRE_TOOLS=1` (CI), where it fails (see `common::skipped`).
fn have(program: &str, args: &[&str], what: &str) -> bool {
    let ok = common::tool_present(program, args);
    if !ok {
        skipped(&format!("docs: a check that needs {what}"), "not installed");
    }
    ok
}

/// Whether the outside commands a shell block runs are installed (only `jq` so far: the tools and bash are
/// always there).
fn block_tools_present(b: &Block) -> bool {
    let uses_jq = b.text.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|w| w == "jq");
    !uses_jq || have("jq", &["--version"], "jq (apt-get install jq)")
}

/// DuckDB's answer to `sql` run in `dir`, one row a line with `|` between values (times in UTC).
fn duckdb(dir: &Path, sql: &str) -> String {
    let script = format!("import duckdb\nfor row in duckdb.connect().sql({sql:?}).fetchall(): print(*row, sep='|')");
    let out = std::process::Command::new("python3").arg("-c").arg(script).env("TZ", "UTC").current_dir(dir).output();
    let out = out.expect("python3 not found");
    assert!(out.status.success(), "duckdb failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `promtool check metrics` accepts `text`.
fn promtool_accepts(text: &str) {
    if !have("promtool", &["--version"], "promtool (Debian package prometheus)") {
        return;
    }
    use std::io::Write;
    let mut child = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---- CI recipes ------------------------------------------------------------------------------------------------

fn run_yaml(b: &Block) {
    let doc = yaml::parse(&b.text).unwrap_or_else(|e| panic!("{}: not YAML tt's recipes use: {e}", b.at()));
    // A recipe gates on every configured budget: plain `tt-budget --fail…`, never rows piped in.
    let gates: Vec<&str> = b.text.lines().filter(|l| l.contains("tt-budget --fail")).collect();
    assert!(!gates.is_empty(), "{}: a recipe without a gate", b.at());
    for g in gates {
        assert!(g.trim_start_matches([' ', '-']).starts_with("tt-budget --fail"), "{}: not a plain gate: {g}", b.at());
    }
    match b.name() {
        Some("github-actions") => github_actions(b, &doc),
        Some("gitlab-ci") => gitlab_ci(b, &doc),
        _ => panic!("{}: a yaml block is `<!-- doc: github-actions -->` or `<!-- doc: gitlab-ci -->`", b.at()),
    }
}

/// The scenario a recipe runs in: a repository with tt's sources at `tt/` (a stand-in install.sh that links
/// the debug binaries into `$PREFIX/bin`), a budget in `tt.toml`, and the agent script the recipe calls.
fn ci_repository(limit_usd: &str) -> Scenario {
    let sc = Scenario::new();
    let real = repo_root().join("install.sh");
    let meta = std::fs::metadata(&real).unwrap();
    assert!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o111 != 0, "install.sh is not executable");
    let install = std::fs::read_to_string(&real).unwrap();
    assert!(install.contains("PREFIX=\"${PREFIX:-$HOME/.local}\""), "install.sh no longer takes PREFIX");
    let mut links = String::new();
    for t in ["tt-log", "tt-price", "tt-sum", "tt-budget", "tt-export", "tt-optimize"] {
        links.push_str(&format!("ln -sf '{}' \"$PREFIX/bin/{t}\"\n", bin_dir().join(t).display()));
    }
    sc.write(
        "tt/install.sh",
        format!(
            "#!/usr/bin/env bash\n# tests/docs.rs: stands in for tt's install.sh\nset -euo pipefail\n\
             PREFIX=\"${{PREFIX:-$HOME/.local}}\"\nmkdir -p \"$PREFIX/bin\" \"$PREFIX/share/tt\"\n{links}\
             cp '{}' \"$PREFIX/share/tt/tt.sh\"\n",
            repo_root().join("contrib/tt.sh").display()
        ),
    );
    sc.write(
        "scripts/review-with-agent.sh",
        "#!/usr/bin/env bash\n# the agent work: one request, logged\nset -euo pipefail\n\
         tt-log --agent reviewer --model sonnet-4.5 --input 50000 --output 15000 -q\n",
    );
    for f in ["tt/install.sh", "scripts/review-with-agent.sh"] {
        let p = sc.path().join(f);
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    }
    sc.write("tt.toml", format!("[[budget]]\nname = \"team-monthly\"\nperiod = \"month\"\nlimit_usd = {limit_usd}\n"));
    sc
}

/// PATH without the test binaries: a recipe must put tt on PATH itself.
fn system_path() -> String {
    let bins = bin_dir().display().to_string();
    std::env::var("PATH").unwrap_or_default().split(':').filter(|p| *p != bins).collect::<Vec<_>>().join(":")
}

fn github_expr(b: &Block, sc: &Scenario, s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("${{") {
        out.push_str(&rest[..i]);
        let j = rest[i..].find("}}").unwrap_or_else(|| panic!("{}: an unclosed ${{{{", b.at())) + i;
        let value = match rest[i + 3..j].trim() {
            "github.workspace" => sc.path().display().to_string(),
            "github.run_id" => "4242".to_string(),
            "runner.os" => "Linux".to_string(),
            // The scenario's own database on the test server (see `github_actions`).
            "secrets.TT_LEDGER" => std::fs::read_to_string(sc.path().join(".ledger-uri"))
                .unwrap_or_else(|_| panic!("{}: no ledger for secrets.TT_LEDGER", b.at())),
            other => panic!("{}: the test does not know `${{{{ {other} }}}}`", b.at()),
        };
        out.push_str(&value);
        rest = &rest[j + 2..];
    }
    out.push_str(rest);
    out
}

fn env_of(b: &Block, sc: &Scenario, v: Option<&Value>) -> Vec<(String, String)> {
    let Some(Value::Object(m)) = v else { return Vec::new() };
    m.iter().map(|(k, v)| (k.clone(), github_expr(b, sc, v.as_str().unwrap_or(&v.to_string())))).collect()
}

/// Runs every job of a GitHub Actions workflow step by step: `run` steps in bash as the runner runs them
/// (`bash -e`, or `-eo pipefail` with `shell: bash`), with the workflow's, job's and step's `env`, and
/// GITHUB_PATH, GITHUB_STEP_SUMMARY, GITHUB_ACTIONS as on a runner; `uses` steps (checkout, cache) do nothing
/// here. Within the budget every step passes; over it the gate step fails with 1 and an `::error`.
fn github_actions(b: &Block, doc: &Value) {
    let jobs = doc["jobs"].as_object().unwrap_or_else(|| panic!("{}: no jobs", b.at()));
    // A recipe whose log is the team ledger gets a fresh database on the test server for each run (the secret
    // holds its URI); without a server it is skipped, visibly (tests/common/pg.rs).
    let ledger = b.text.contains("secrets.TT_LEDGER");
    if ledger && pg::server().is_none() {
        return;
    }
    for (limit, over) in [("60", false), ("0.10", true)] {
        for (job_name, job) in jobs {
            let sc = ci_repository(limit);
            if ledger {
                sc.write(".ledger-uri", pg::db().unwrap().uri);
            }
            assert!(job["runs-on"].is_string(), "{}: job {job_name} has no runs-on", b.at());
            let steps = job["steps"].as_array().unwrap_or_else(|| panic!("{}: job {job_name} has no steps", b.at()));
            let summary = sc.path().join("step-summary.md");
            let gh_path = sc.path().join("github-path");
            std::fs::write(&gh_path, "").unwrap();
            let mut failed = None;
            for (n, step) in steps.iter().enumerate() {
                let uses = step["uses"].as_str();
                let Some(run) = step["run"].as_str() else {
                    assert!(uses.is_some(), "{}: step {n} of {job_name} has neither run nor uses", b.at());
                    continue;
                };
                assert!(uses.is_none(), "{}: step {n} has both run and uses", b.at());
                let flags = match step["shell"].as_str() {
                    Some("bash") => "-eo pipefail",
                    None => "-e",
                    Some(other) => panic!("{}: shell {other}", b.at()),
                };
                let added: Vec<String> =
                    std::fs::read_to_string(&gh_path).unwrap().lines().rev().map(str::to_string).collect();
                let path = added.into_iter().chain([system_path()]).collect::<Vec<_>>().join(":");
                let mut r = sc
                    .bash(&format!("exec bash --noprofile --norc {flags} -c {}", shell_quote(run)))
                    .env("PATH", path)
                    .env("GITHUB_ACTIONS", "true")
                    .env("GITHUB_WORKSPACE", sc.path())
                    .env("GITHUB_RUN_ID", "4242")
                    .env("GITHUB_STEP_SUMMARY", &summary)
                    .env("GITHUB_PATH", &gh_path)
                    .env("RUNNER_TEMP", sc.path().join("runner-temp"))
                    .env("TZ", "UTC");
                for (k, v) in env_of(b, &sc, doc.get("env"))
                    .into_iter()
                    .chain(env_of(b, &sc, job.get("env")))
                    .chain(env_of(b, &sc, step.get("env")))
                {
                    r = r.env(&k, v);
                }
                let out = r.run();
                if out.code != Some(0) {
                    failed = Some((n, run.to_string(), out));
                    break;
                }
            }
            let summary = std::fs::read_to_string(&summary).unwrap_or_default();
            match (over, failed) {
                (false, None) => {
                    assert!(
                        summary.contains("| reviewer |"),
                        "{}: the step summary lacks the report:\n{summary}",
                        b.at()
                    )
                }
                (false, Some((n, run, out))) => {
                    panic!(
                        "{}: step {n} of {job_name} failed:\n{run}\nstdout:\n{}\nstderr:\n{}",
                        b.at(),
                        out.stdout,
                        out.stderr
                    )
                }
                (true, Some((_, run, out))) => {
                    assert!(run.contains("tt-budget --fail-over"), "{}: over budget, this step failed:\n{run}", b.at());
                    assert_eq!(out.code, Some(1), "{}: the gate's exit code\n{}", b.at(), out.stderr);
                    assert!(out.stderr.contains("::error"), "{}: no annotation: {}", b.at(), out.stderr);
                }
                (true, None) => panic!("{}: over the budget, job {job_name} passed", b.at()),
            }
        }
    }
}

/// Runs every job of a GitLab CI file (a top-level key that is not a template or a keyword): `before_script`
/// (also from the template it `extends`) and `script` in one `bash -e`, with the `variables`. Within the
/// budget every job passes; over it the gate fails with 1, which only a job that allows exit code 1 may.
fn gitlab_ci(b: &Block, doc: &Value) {
    let top = doc.as_object().unwrap();
    let keywords = ["variables", "stages", "default", "include", "workflow", "image", "cache"];
    let jobs: Vec<(&String, &Value)> =
        top.iter().filter(|(k, _)| !k.starts_with('.') && !keywords.contains(&k.as_str())).collect();
    assert!(!jobs.is_empty(), "{}: no jobs", b.at());
    for (limit, over) in [("60", false), ("0.10", true)] {
        for (name, job) in &jobs {
            let sc = ci_repository(limit);
            let template = job["extends"].as_str().map(|t| &top[t]);
            let mut vars = vec![("GITLAB_CI".to_string(), "true".to_string()), ("TZ".into(), "UTC".into())];
            vars.push(("CI_PROJECT_DIR".into(), sc.path().display().to_string()));
            for scope in [doc.get("variables"), template.and_then(|t| t.get("variables")), job.get("variables")] {
                if let Some(Value::Object(m)) = scope {
                    for (k, v) in m {
                        let v = v.as_str().unwrap().replace("$CI_PROJECT_DIR", &sc.path().display().to_string());
                        vars.push((k.clone(), v));
                    }
                }
            }
            // The agent work of an earlier job: one request in the job's log.
            shell(&sc, &Ctx { env: vars.clone(), ..Ctx::default() }, "bash scripts/review-with-agent.sh").succeeds();
            let lines = |key: &str| -> Vec<String> {
                let from = job.get(key).or_else(|| template.and_then(|t| t.get(key)));
                from.and_then(Value::as_array)
                    .map(|a| a.iter().map(|l| l.as_str().unwrap().to_string()).collect())
                    .unwrap_or_default()
            };
            let script = [lines("before_script"), lines("script")].concat();
            assert!(!script.is_empty(), "{}: job {name} has no script", b.at());
            let mut r =
                sc.bash(&format!("exec bash -e -c {}", shell_quote(&script.join("\n")))).env("PATH", system_path());
            for (k, v) in &vars {
                r = r.env(k, v);
            }
            let out = r.run();
            let allowed: Vec<i64> = job["allow_failure"]["exit_codes"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_i64).collect())
                .unwrap_or_default();
            let code = out.code.unwrap_or(-1);
            match over {
                false => assert!(code == 0, "{}: job {name} failed ({code}):\n{}\n{}", b.at(), out.stdout, out.stderr),
                true => {
                    assert_eq!(code, 1, "{}: over budget, job {name}: {}", b.at(), out.stderr);
                    assert!(
                        allowed.contains(&1) || script.iter().any(|l| l.contains("tt-budget --fail-over")),
                        "{}: job {name} fails over budget without being a gate",
                        b.at()
                    );
                }
            }
        }
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The part of YAML the CI recipes use, strictly: block mappings and sequences, `|` block scalars, one-line
/// flow collections, quoted and plain scalars, comments. Anything else is an error, so a recipe that needs
/// more makes this test say so instead of checking less.
mod yaml {
    use serde_json::{Map, Value};

    pub fn parse(text: &str) -> Result<Value, String> {
        let mut p = Parser { lines: text.lines().map(str::to_string).collect(), i: 0 };
        let v = p.node(0)?;
        p.skip_blank();
        if p.i < p.lines.len() {
            return Err(format!("line {}: unexpected {:?}", p.i + 1, p.lines[p.i]));
        }
        Ok(v)
    }

    struct Parser {
        lines: Vec<String>,
        i: usize,
    }

    fn indent(l: &str) -> usize {
        l.len() - l.trim_start_matches(' ').len()
    }

    /// The line without a trailing `# comment` (a `#` after a blank, outside quotes).
    fn strip_comment(s: &str) -> &str {
        let (mut single, mut double, mut prev) = (false, false, ' ');
        for (i, c) in s.char_indices() {
            match c {
                '\'' if !double => single = !single,
                '"' if !single => double = !double,
                '#' if !single && !double && prev == ' ' => return s[..i].trim_end(),
                _ => {}
            }
            prev = c;
        }
        s.trim_end()
    }

    impl Parser {
        fn skip_blank(&mut self) {
            while self.i < self.lines.len() && {
                let t = self.lines[self.i].trim();
                t.is_empty() || t.starts_with('#')
            } {
                self.i += 1;
            }
        }

        fn err(&self, what: &str) -> String {
            format!("line {}: {what}: {:?}", self.i + 1, self.lines.get(self.i).map_or("", |l| l.as_str()))
        }

        fn node(&mut self, min: usize) -> Result<Value, String> {
            self.skip_blank();
            let Some(l) = self.lines.get(self.i) else { return Ok(Value::Null) };
            if l.contains('\t') {
                return Err(self.err("a tab"));
            }
            let ind = indent(l);
            if ind < min {
                return Ok(Value::Null);
            }
            if l.trim_start().starts_with("- ") || l.trim() == "-" { self.seq(ind) } else { self.map(ind) }
        }

        fn map(&mut self, ind: usize) -> Result<Value, String> {
            let mut m = Map::new();
            loop {
                self.skip_blank();
                let Some(l) = self.lines.get(self.i).cloned() else { break };
                if indent(&l) < ind {
                    break;
                }
                if indent(&l) > ind {
                    return Err(self.err("unexpected indentation"));
                }
                let content = strip_comment(l.trim_start());
                if content.starts_with("- ") {
                    return Err(self.err("a sequence item where a key was expected"));
                }
                let (key, rest) = split_key(content).ok_or_else(|| self.err("not `key: value`"))?;
                self.i += 1;
                let value = self.value_after(rest, ind)?;
                if m.insert(key.clone(), value).is_some() {
                    return Err(format!("key {key:?} repeated"));
                }
            }
            Ok(Value::Object(m))
        }

        fn seq(&mut self, ind: usize) -> Result<Value, String> {
            let mut a = Vec::new();
            loop {
                self.skip_blank();
                let Some(l) = self.lines.get(self.i).cloned() else { break };
                if indent(&l) < ind || !(l.trim_start().starts_with("- ") || l.trim() == "-") {
                    break;
                }
                if indent(&l) > ind {
                    return Err(self.err("unexpected indentation"));
                }
                let content = l.trim_start()[1..].trim_start();
                let content_stripped = strip_comment(content);
                if content_stripped.is_empty() {
                    self.i += 1;
                    a.push(self.node(ind + 1)?);
                } else if !content.starts_with(['"', '\'', '{', '[']) && split_key(content_stripped).is_some() {
                    // `- key: value` starts a mapping at the column of `key`.
                    let col = l.len() - content.len();
                    self.lines[self.i] = format!("{}{}", " ".repeat(col), content);
                    a.push(self.map(col)?);
                } else {
                    self.i += 1;
                    a.push(self.value_after(content_stripped, ind)?);
                }
            }
            Ok(Value::Array(a))
        }

        fn value_after(&mut self, rest: &str, ind: usize) -> Result<Value, String> {
            let rest = strip_comment(rest).trim();
            match rest {
                "" => {
                    self.skip_blank();
                    match self.lines.get(self.i) {
                        Some(l) if indent(l) > ind => self.node(ind + 1),
                        Some(l) if indent(l) == ind && l.trim_start().starts_with("- ") => self.seq(ind),
                        _ => Ok(Value::Null),
                    }
                }
                "|" | "|-" => {
                    let mut body: Vec<String> = Vec::new();
                    let mut block_ind = None;
                    while let Some(l) = self.lines.get(self.i) {
                        if !l.trim().is_empty() {
                            if indent(l) <= ind {
                                break;
                            }
                            let bi = *block_ind.get_or_insert(indent(l));
                            if indent(l) < bi {
                                return Err(self.err("a block scalar line less indented than its first"));
                            }
                            body.push(l[bi..].to_string());
                        } else {
                            body.push(String::new());
                        }
                        self.i += 1;
                    }
                    while body.last().is_some_and(String::is_empty) {
                        body.pop();
                    }
                    let mut s = body.join("\n");
                    if rest == "|" {
                        s.push('\n');
                    }
                    Ok(Value::String(s))
                }
                _ if rest.starts_with(['{', '[']) => {
                    let mut f = Flow { s: rest.as_bytes(), i: 0 };
                    let v = f.value().map_err(|e| self.err(&e))?;
                    f.ws();
                    if f.i != f.s.len() {
                        return Err(self.err("text after a flow collection"));
                    }
                    Ok(v)
                }
                _ if rest.starts_with(['>', '&', '*', '!', '%', '@', '`']) => {
                    Err(self.err("YAML the test does not take"))
                }
                _ => scalar(rest).map_err(|e| self.err(&e)),
            }
        }
    }

    /// `key: rest` (or `key:` at the end) of a mapping line.
    fn split_key(s: &str) -> Option<(String, &str)> {
        if let Some(q) = s.strip_prefix('"') {
            let end = q.find('"')?;
            let rest = q[end + 1..].strip_prefix(':')?;
            return Some((q[..end].to_string(), rest));
        }
        let i = s.find(": ").or_else(|| s.ends_with(':').then(|| s.len() - 1))?;
        let key = &s[..i];
        if key.is_empty() || key.contains(['{', '[', '"', '\'']) {
            return None;
        }
        Some((key.to_string(), &s[i + 1..]))
    }

    fn scalar(s: &str) -> Result<Value, String> {
        let s = s.trim();
        if let Some(q) = s.strip_prefix('"') {
            let body = q.strip_suffix('"').ok_or("an unclosed double quote")?;
            return Ok(Value::String(body.replace("\\\"", "\"").replace("\\\\", "\\")));
        }
        if let Some(q) = s.strip_prefix('\'') {
            let body = q.strip_suffix('\'').ok_or("an unclosed single quote")?;
            return Ok(Value::String(body.replace("''", "'")));
        }
        Ok(match s {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" | "~" => Value::Null,
            _ => match s.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => Value::String(s.to_string()),
            },
        })
    }

    struct Flow<'a> {
        s: &'a [u8],
        i: usize,
    }

    impl Flow<'_> {
        fn ws(&mut self) {
            while self.i < self.s.len() && self.s[self.i] == b' ' {
                self.i += 1;
            }
        }
        fn value(&mut self) -> Result<Value, String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b'{') => {
                    self.i += 1;
                    let mut m = Map::new();
                    loop {
                        self.ws();
                        if self.s.get(self.i) == Some(&b'}') {
                            self.i += 1;
                            return Ok(Value::Object(m));
                        }
                        let key = match self.plain(true)? {
                            Value::String(k) => k,
                            other => other.to_string(),
                        };
                        self.ws();
                        if self.s.get(self.i) != Some(&b':') {
                            return Err("a flow mapping key without `:`".into());
                        }
                        self.i += 1;
                        let v = self.value()?;
                        if m.insert(key.clone(), v).is_some() {
                            return Err(format!("key {key:?} repeated"));
                        }
                        self.sep(b'}')?;
                    }
                }
                Some(b'[') => {
                    self.i += 1;
                    let mut a = Vec::new();
                    loop {
                        self.ws();
                        if self.s.get(self.i) == Some(&b']') {
                            self.i += 1;
                            return Ok(Value::Array(a));
                        }
                        a.push(self.value()?);
                        self.sep(b']')?;
                    }
                }
                _ => self.plain(false),
            }
        }
        fn sep(&mut self, close: u8) -> Result<(), String> {
            self.ws();
            match self.s.get(self.i) {
                Some(b',') => {
                    self.i += 1;
                    Ok(())
                }
                Some(c) if *c == close => Ok(()),
                _ => Err("a flow collection without `,` between items".into()),
            }
        }
        /// A quoted or plain scalar inside a flow collection (a key stops at `:`).
        fn plain(&mut self, key: bool) -> Result<Value, String> {
            self.ws();
            let start = self.i;
            if let Some(&q) = self.s.get(self.i).filter(|c| **c == b'"' || **c == b'\'') {
                self.i += 1;
                while self.i < self.s.len() && self.s[self.i] != q {
                    self.i += 1;
                }
                self.i += 1;
                let text = std::str::from_utf8(&self.s[start..self.i.min(self.s.len())]).unwrap();
                return scalar(text);
            }
            while self.i < self.s.len() {
                let c = self.s[self.i];
                if c == b','
                    || c == b'}'
                    || c == b']'
                    || (key && c == b':')
                    || (c == b':' && self.s.get(self.i + 1) == Some(&b' '))
                {
                    break;
                }
                self.i += 1;
            }
            let text = std::str::from_utf8(&self.s[start..self.i]).unwrap().trim();
            if text.is_empty() {
                return Err("an empty flow item".into());
            }
            scalar(text)
        }
    }

    #[test]
    fn parses_what_the_recipes_use() {
        let doc = parse(
            "a: 1\nb: [x, \"y z\"]  # c\nc:\n  - run: |\n      echo 1\n\n      echo 2\n    shell: bash\n  - uses: u@v4\n    \
             with: { path: .tt, key: \"k-${{ x }}\" }\nd:\n- p\n- 'q'\n",
        )
        .unwrap();
        assert_eq!(
            doc,
            serde_json::json!({"a": 1, "b": ["x", "y z"], "c": [{"run": "echo 1\n\necho 2\n", "shell": "bash"},
                {"uses": "u@v4", "with": {"path": ".tt", "key": "k-${{ x }}"}}], "d": ["p", "q"]})
        );
        assert!(parse("a: 1\n  b: 2\n").is_err());
        assert!(parse("a: &x 1\n").is_err());
        assert!(parse("a: [1, 2\n").is_err());
    }
}

// ---- named setups and checks ------------------------------------------------------------------------------------

/// Every name a block may carry; each must be used (`every_name_is_used`).
const NAMES: &[&str] = &[
    "backup",
    "bash-helpers",
    "budgets",
    "budgets-config",
    "bundle-header",
    "charts",
    "config-errors",
    "duckdb-csv",
    "expensive-task",
    "export",
    "export-exact",
    "github-actions",
    "gitlab-ci",
    "hook",
    "merge",
    "optimize",
    "postgres-csv",
    "prices",
    "prices-update",
    "quickstart",
    "record",
    "sample",
    "tarball",
    "test-command",
    "transcripts",
    "tt-log",
    "unpriced",
];

/// Copy a file of tests/fixtures into the scenario.
fn fixture_to(sc: &Scenario, from: &str, to: &str) {
    sc.write(to, std::fs::read(fixture(from)).unwrap());
}

/// Copy a tree of tests/fixtures into the scenario; `idle`: as files nobody has written to for an hour.
fn tree_to(sc: &Scenario, from: &str, to: &str, idle: bool) {
    fn copy(src: &Path, dst: &Path, idle: bool) {
        std::fs::create_dir_all(dst).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let to = dst.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy(&e.path(), &to, idle);
            } else {
                std::fs::write(&to, std::fs::read(e.path()).unwrap()).unwrap();
                if idle {
                    let ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
                    std::fs::File::options().write(true).open(&to).unwrap().set_modified(ago).unwrap();
                }
            }
        }
    }
    copy(&fixture(from), &sc.path().join(to), idle);
}

/// An executable script in the scenario.
fn script(sc: &Scenario, rel: &str, body: &str) -> PathBuf {
    let p = sc.write(rel, format!("#!/usr/bin/env bash\n{body}"));
    std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p
}

/// The sample of the docs: six records of November 2026 in the log, and the guide's budgets in `tt.toml`.
fn sample(sc: &Scenario) {
    fixture_to(sc, "docs/usage.jsonl", "usage.jsonl");
    fixture_to(sc, "docs/tt.toml", "tt.toml");
}

/// The log of the export examples: records without a cost and of an unknown model, text that needs CSV quoting,
/// an agent named like a spreadsheet formula (tests/tt_export.rs reads it too).
fn export_log(sc: &Scenario) {
    fixture_to(sc, "export/usage.jsonl", "usage.jsonl");
}

/// Prepare the scenario of a named block.
fn setup(b: &Block, sc: &Scenario) -> Ctx {
    let mut ctx = Ctx::default();
    match b.name() {
        None
        | Some("github-actions" | "gitlab-ci" | "test-command" | "quickstart" | "record" | "bundle-header")
        | Some("hook" | "postgres-csv" | "duckdb-csv") => {}
        Some("sample" | "budgets" | "budgets-config" | "merge") => sample(sc),
        Some("tt-log") => {
            // `curl` answers with a saved OpenAI Responses API response.
            let bin = sc.path().join(".stand-ins");
            let fake = fixture("providers/openai-responses.json");
            script(sc, ".stand-ins/curl", &format!("# tests/docs.rs: stands in for curl\ncat '{}'\n", fake.display()));
            ctx.path.push(bin);
            sc.write("prompt.md", "Summarise the changes of this pull request for the release notes.\n".repeat(20));
        }
        Some("prices" | "prices-update") => {
            sample(sc);
            fixture_to(sc, "docs/prices.json", "prices.json");
        }
        Some("unpriced") => fixture_to(sc, "docs/unpriced.jsonl", "usage.jsonl"),
        Some("expensive-task") => {
            sample(sc);
            script(sc, "run-expensive-agent-task.sh", "echo 'the expensive step ran'\n");
        }
        Some("transcripts") => {
            tree_to(sc, "claude-code", ".claude", true);
            tree_to(sc, "codex", ".codex", true);
        }
        // A copy of finished sessions: fresh modification times.
        Some("backup") => tree_to(sc, "claude-code", "backup/claude", false),
        Some("export" | "export-exact") => export_log(sc),
        // A tarball of the tools as install.sh lays them out (links to the test binaries), and a runner's GITHUB_PATH.
        Some("tarball") => {
            let mut links = String::new();
            for t in ["tt-log", "tt-price", "tt-sum", "tt-budget", "tt-export", "tt-optimize"] {
                links.push_str(&format!("ln -s '{}' dist/bin/{t}\n", bin_dir().join(t).display()));
            }
            sc.bash(&format!("mkdir -p dist/bin\n{links}tar -czf tt-linux-x86_64.tar.gz -C dist . && rm -r dist"))
                .succeeds();
            ctx.env.push(("GITHUB_PATH".into(), sc.path().join("github-path").display().to_string()));
        }
        Some("charts") => {
            fixture_to(sc, "charts/usage.jsonl", "usage.jsonl");
            fixture_to(sc, "charts/tt.toml", "tt.toml");
        }
        Some("bash-helpers") => {
            sc.write(".local/share/tt/tt.sh", std::fs::read(repo_root().join("contrib/tt.sh")).unwrap());
            sc.write("tt.toml", "[[budget]]\nname = \"team-monthly\"\nperiod = \"month\"\nlimit_usd = 60\n");
        }
        Some("optimize") => {
            for f in ["usage.jsonl", "tt.toml"] {
                fixture_to(sc, &format!("optimize/{f}"), f);
                fixture_to(sc, &format!("optimize/{f}"), &format!("tests/fixtures/optimize/{f}"));
            }
        }
        Some("config-errors") => {
            sc.write("proj/tt.toml", "[models.my-model]\nprovider = \"acme\"\ninput = 1\n\noutput = \"lots\"\n");
            sc.write("tz.toml", "log = \"usage.jsonl\"\ntz = \"Mars/Base\"\n");
            sc.write(
                "overlap.toml",
                "[models.m]\ninput = 1\noutput = 2\n\n[[models.m.history]]\nuntil = 2025-10-01\ninput = 3\noutput = 4\n\n\
                 [[models.m.history]]\nfrom = 2025-09-01\ninput = 5\noutput = 6\n",
            );
        }
        Some(other) => panic!("{}: no setup named {other:?} in tests/docs.rs", b.at()),
    }
    ctx
}

/// The checks of a named block beyond its own (after it ran, with its output when it has one).
fn check(b: &Block, sc: &Scenario, ctx: &Ctx, out: Option<&Out>) {
    let stdout = out.map_or("", |o| o.stdout.as_str());
    let stderr = out.map_or("", |o| o.stderr.as_str());
    let at = b.at();
    match b.name() {
        // The quick start logs three records.
        Some("quickstart") => assert_eq!(sc.records().len(), 3, "{at}"),
        // The schema's example is a record every reader takes, and tt-price leaves it as it is.
        Some("record") => {
            sc.write("example.jsonl", &b.text);
            shell(sc, ctx, "tt-sum --format jsonl example.jsonl >/dev/null").succeeds();
            let priced = shell(sc, ctx, "tt-price --reprice example.jsonl").succeeds();
            assert_eq!(priced.stdout, b.text, "{at}: tt-price prices the example differently");
        }
        // The bundle header shown has the fields of a real one (exported in a git repository), in order.
        Some("bundle-header") => {
            sample(sc);
            let git = "git init -q && git -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m t";
            let real = shell(sc, ctx, &format!("{git} && tt-export --bundle --since 2026-11-01 | head -1")).succeeds();
            let keys = |s: &str| -> Vec<String> {
                let v: Value = serde_json::from_str(s.trim()).unwrap();
                v.as_object().unwrap().keys().cloned().collect()
            };
            assert_eq!(keys(&b.text), keys(&real.stdout), "{at}: a bundle's first line is now {}", real.stdout);
        }
        // Each line logs one record: the session falls back to "local" outside CI, the environment's defaults
        // apply, `--from` reads the response curl printed, and an estimate says so.
        Some("tt-log") => {
            let recs = sc.records();
            assert_eq!(recs.len(), 5, "{at}: {recs:?}");
            assert_eq!(recs[1]["session"], "local", "{at}");
            assert_eq!((&recs[2]["agent"], &recs[2]["project"]), (&"builder".into(), &"rlm".into()), "{at}");
            assert_eq!((&recs[3]["agent"], &recs[3]["source"]), (&"bot".into(), &"openai".into()), "{at}");
            assert_eq!(recs[4]["estimated"], true, "{at}");
        }
        // The filter, the list as a config and the LiteLLM import all give files tt reads.
        Some("prices") if b.lang == "sh" => {
            assert_eq!(sc.read("priced.jsonl").lines().count(), 6, "{at}");
            for config in ["my-prices.toml", "litellm.toml"] {
                shell(sc, ctx, &format!("tt-price --list --config {config} >/dev/null")).succeeds();
            }
            assert!(stdout.contains("\n0.375\n"), "{at}: {stdout}");
        }
        // --update merged the repriced model into the user's config, which loads.
        Some("prices-update") => {
            let config = sc.read(".config/tt/config.toml");
            assert!(config.contains("claude-sonnet-4-5") && config.contains("acme-small"), "{at}: {config}");
            shell(sc, ctx, "tt-price --list >/dev/null").succeeds();
        }
        // The budgets shown are the sample's: the same report from either.
        Some("budgets-config") => {
            let report = |config: &str| {
                shell(sc, ctx, &format!("tt-budget --today 2026-11-20 --config {config} --format jsonl"))
                    .succeeds()
                    .stdout
            };
            assert_eq!(report("doc.toml"), report("tt.toml"), "{at}: the guide's budgets differ from the sample's");
        }
        // Each form of the gate passed on the sample; the two holds were settled and released.
        Some("budgets") => {
            let recs = sc.records();
            assert_eq!(recs.len(), 8, "{at}");
            assert!(recs[6]["reservation"].as_str().is_some_and(|r| r.starts_with("r-")), "{at}: {:?}", recs[6]);
            let report = shell(sc, ctx, "tt-budget --format jsonl").succeeds();
            assert!(report.jsonl().iter().all(|r| r.get("held_usd").is_none()), "{at}: {}", report.stdout);
        }
        Some("expensive-task") => assert!(stdout.contains("the expensive step ran\n"), "{at}: {stdout}"),
        // What tests/import.rs's fixtures hold: 6 Claude Code and 5 Codex requests; the second import adds none.
        Some("transcripts") => {
            assert!(stderr.contains("claude-code: 2 files read, added 6 records"), "{at}: {stderr}");
            assert!(stderr.contains("codex: 3 files read, added 5 records"), "{at}: {stderr}");
            assert!(stderr.contains("claude-code: 2 files read (1 unchanged), added 0 records"), "{at}: {stderr}");
            assert_eq!(sc.records().len(), 11, "{at}");
            assert!(stdout.contains("2026-03-01") && stdout.contains("2026-04-11"), "{at}: {stdout}");
        }
        // Fresh copies, yet nothing is held back.
        Some("backup") => {
            assert!(stderr.contains("added 6 records") && !stderr.contains("held back"), "{at}: {stderr}");
            assert_eq!(sc.records().len(), 6, "{at}");
        }
        // The hook is where install.sh puts it.
        Some("hook") => {
            let install = std::fs::read_to_string(repo_root().join("install.sh")).unwrap();
            assert!(install.contains("contrib/claude-code-hook.sh") && install.contains("$PREFIX/share/tt/"), "{at}");
            assert!(repo_root().join("contrib/claude-code-hook.sh").exists(), "{at}");
            let v: Value = serde_json::from_str(&b.text).unwrap();
            for event in ["Stop", "SessionEnd"] {
                let command = v["hooks"][event][0]["hooks"][0]["command"].as_str().unwrap_or_default();
                assert_eq!(command, "~/.local/share/tt/claude-code-hook.sh", "{at}: {event}");
            }
        }
        // A bundle of the log itself: every record is already there, and the log is unchanged.
        Some("merge") => {
            assert!(stderr.contains("laptop.ttb: bundle from tester@"), "{at}: {stderr}");
            assert!(stderr.contains(": 6 records: 0 new, 6 already present, 0 invalid"), "{at}: {stderr}");
            assert_eq!(sc.log(), std::fs::read_to_string(fixture("docs/usage.jsonl")).unwrap(), "{at}");
        }
        // The files the commands wrote are what the formats promise.
        Some("export") => {
            let csv = shell(sc, ctx, "tt-export --format csv").succeeds().stdout;
            assert_eq!(sc.read("usage.csv"), csv, "{at}");
            assert!(sc.read("report.json").starts_with("{\n  \"kind\": \"report\""), "{at}");
            assert!(sc.read("report.html").starts_with("<!DOCTYPE html>\n"), "{at}");
            promtool_accepts(&sc.read("textfile/tt.prom"));
        }
        Some("export-exact") => {
            let csv = sc.read("usage.csv");
            assert_eq!(csv, shell(sc, ctx, "tt-export --format csv --csv-exact").succeeds().stdout, "{at}");
            assert!(csv.contains(",\"=HYPERLINK(") && !csv.contains("'=HYPERLINK"), "{at}: {csv}");
        }
        Some("tarball") => {
            let dir = sc.read("github-path");
            assert_eq!(dir, format!("{}/tt/bin\n", sc.path().display()), "{at}");
            let r = std::process::Command::new(format!("{}/tt-budget", dir.trim())).arg("--version").output().unwrap();
            assert!(r.status.success(), "{at}");
        }
        Some("duckdb-csv") => duckdb_loads_the_csv(b, sc, ctx),
        Some("postgres-csv") => postgres_table_matches_the_csv(b, sc, ctx),
        Some("bash-helpers") => {
            assert!(
                stderr.starts_with("tt-budget: ok: 1 budget within its limit; most used: team-monthly at 0% (ok)\n"),
                "{at}: {stderr}"
            );
            assert!(stdout.starts_with("go\na 200k-token Opus call costs $1.1\n"), "{at}: {stdout}");
            assert!(stdout.contains("\nthe task runs\n"), "{at}: {stdout}");
            assert!(stdout.contains("## Token usage: week of"), "{at}: {stdout}");
            let recs = sc.records();
            assert_eq!(recs.len(), 3, "{at}");
            // The reserved task's record settled its hold, and tt_settle unset TT_RESERVATION, so the next
            // record (the reviewer's) names no reservation and nothing is held any more.
            assert!(recs[1]["reservation"].as_str().is_some_and(|r| r.starts_with("r-")), "{at}: {recs:?}");
            assert_eq!(recs[2]["agent"], "reviewer", "{at}");
            assert_eq!(recs[2].get("reservation"), None, "{at}: {recs:?}");
            let report = shell(sc, ctx, "tt-budget").succeeds();
            assert_eq!(report.jsonl()[0].get("held_usd"), None, "{at}");
        }
        _ => {}
    }
}

/// The DuckDB statement of the block: columns empty in every row still get their types, and the totals are
/// exact — from the CSV as tt-export writes it by default and with `--csv-exact`.
fn duckdb_loads_the_csv(b: &Block, sc: &Scenario, ctx: &Ctx) {
    let at = b.at();
    let lines: Vec<&str> = b.text.lines().skip_while(|l| !l.starts_with("SELECT")).collect();
    let end = lines.iter().position(|l| l.ends_with(';')).unwrap_or_else(|| panic!("{at}: no SELECT … ;"));
    let sql = lines[..=end].join("\n");
    let query = format!("{} ORDER BY agent", sql.trim_end_matches(';'));
    // No reasoning_tokens, duration_ms, estimated or cost_usd anywhere: DuckDB alone would guess VARCHAR.
    let rec = |n: u64, agent: &str, input: &str| {
        format!(
            "{{\"v\":1,\"id\":\"019a8b00-0000-7000-8000-0000000002{n:02}\",\"ts\":\"2026-11-18T10:00:00.000Z\",\
             \"agent\":\"{agent}\",\"model\":\"mystery-model\",\"input_tokens\":{input},\"output_tokens\":1}}\n"
        )
    };
    sc.write("usage.jsonl", rec(1, "ghost", "1000") + &rec(2, "ATLAS", "500"));
    shell(sc, ctx, "tt-export --format csv -o usage.csv 2>/dev/null").succeeds();
    assert_eq!(duckdb(sc.path(), &query), "ATLAS|501|None\nghost|1001|None\n", "{at}");
    let from = &sql[sql.find("read_csv(").unwrap()..sql.rfind(')').unwrap() + 1];
    let types = duckdb(sc.path(), &format!("SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {from})"));
    for want in [
        "input_tokens|BIGINT",
        "cache_write_1h_tokens|BIGINT",
        "reasoning_tokens|BIGINT",
        "total_tokens|BIGINT",
        "cost_usd|DECIMAL(38,10)",
        "duration_ms|BIGINT",
        "estimated|BOOLEAN",
        "ts|TIMESTAMP WITH TIME ZONE",
    ] {
        assert!(types.lines().any(|l| l == want), "{at}: {want} not in\n{types}");
    }
    // On the export log the totals are exact; --csv-exact keeps the formula-like name as it is.
    export_log(sc);
    let totals = "ATLAS|102000|0.6100000000\nreviewer|16800|0.0430000000\n";
    let name = "=HYPERLINK(\"http://x.invalid\",\"a\\b\")|1100|None\n";
    shell(sc, ctx, "tt-export --format csv -o usage.csv 2>/dev/null").succeeds();
    assert_eq!(duckdb(sc.path(), &query), format!("'{name}{totals}"), "{at}");
    shell(sc, ctx, "tt-export --format csv --csv-exact -o usage.csv 2>/dev/null").succeeds();
    assert_eq!(duckdb(sc.path(), &query), format!("{name}{totals}"), "{at}");
}

/// The PostgreSQL table has the CSV's columns, in order (there is no server here to run it).
fn postgres_table_matches_the_csv(b: &Block, sc: &Scenario, ctx: &Ctx) {
    let at = b.at();
    let open = b.text.find("CREATE TABLE usage (").unwrap_or_else(|| panic!("{at}: no CREATE TABLE")) + 20;
    let close = open + b.text[open..].find(");").unwrap();
    let columns: Vec<String> = b.text[open..close]
        .split(',')
        .map(|c| c.split_whitespace().next().unwrap().trim_matches('"').to_string())
        .collect();
    export_log(sc);
    let csv = shell(sc, ctx, "tt-export --format csv --csv-exact 2>/dev/null").succeeds().stdout;
    let header: Vec<String> = csv.lines().next().unwrap().split(',').map(str::to_string).collect();
    assert_eq!(columns, header, "{at}");
    assert!(b.text.contains("\\copy usage FROM 'usage.csv' WITH (FORMAT csv, HEADER true)"), "{at}");
}

/// tests/tt_budget.rs checks these forms of the gate catch every budget; the docs give them.
#[test]
fn the_docs_give_the_gate_forms_the_budget_tests_check() {
    let text: String = doc_files().iter().map(|f| std::fs::read_to_string(repo_root().join(f)).unwrap()).collect();
    for form in [
        "tt-sum | tt-budget --fail-over",
        "tt-budget --fail-over",
        "tt-sum --period month --by agent | tt-budget --fail-over",
    ] {
        assert!(text.contains(form), "the docs no longer show `{form}`");
    }
}

#[test]
fn every_name_is_used() {
    let blocks = all_blocks();
    for name in NAMES {
        assert!(blocks.iter().any(|b| b.name() == Some(name)), "no block is named {name:?}");
    }
    for b in &blocks {
        if let Some(n) = b.name() {
            assert!(NAMES.contains(&n), "{}: unknown name {n:?}", b.at());
        }
    }
}

/// BENCHMARKS.md has a marked text block for every block a bench script writes (a script stops when its block is
/// missing), and no marked block that no script writes (nobody pastes figures by hand).
#[test]
fn every_benchmark_block_has_its_script() {
    let mut written: Vec<String> = Vec::new();
    for e in std::fs::read_dir(repo_root().join("bench")).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "sh") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, _) in text.match_indices("write_block(figures, \"") {
                let name = &text[i + 22..];
                written.push(name[..name.find('"').unwrap()].to_string());
            }
        }
    }
    written.sort();
    let figures = std::fs::read_to_string(repo_root().join("BENCHMARKS.md")).unwrap();
    let mut marked: Vec<String> = Vec::new();
    for (i, _) in figures.match_indices("\n<!-- bench:") {
        let rest = &figures[i + 12..];
        let (name, kind) = rest[..rest.find(" -->").unwrap()].split_once(':').unwrap();
        if kind == "start" {
            let block = &rest[rest.find("-->").unwrap() + 4..];
            let end = format!("```\n<!-- bench:{name}:end -->");
            assert!(
                block.starts_with("```text\n") && block.contains(&end),
                "BENCHMARKS.md: block {name} is not closed"
            );
            marked.push(name.to_string());
        }
    }
    marked.sort();
    assert_eq!(written, marked, "bench scripts' blocks vs BENCHMARKS.md's markers");
}

/// Every relative link of the docs leads somewhere: the file exists and, with a `#fragment`, has that heading
/// (GitHub's anchors: lower case, punctuation dropped, spaces as dashes).
#[test]
fn links_between_the_docs_resolve() {
    fn anchors(text: &str) -> Vec<String> {
        let mut inside = false;
        let mut out = Vec::new();
        for l in text.lines() {
            if l.starts_with("```") {
                inside = !inside;
            } else if !inside && l.starts_with('#') {
                let title = l.trim_start_matches('#').trim();
                let slug: String = title
                    .chars()
                    .filter_map(|c| match c {
                        ' ' => Some('-'),
                        c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
                        _ => None,
                    })
                    .collect();
                out.push(slug);
            }
        }
        out
    }
    let mut files = doc_files();
    files.extend(["BENCHMARKS.md".to_string(), "CHANGELOG.md".to_string()]);
    for file in files {
        let text = std::fs::read_to_string(repo_root().join(&file)).unwrap();
        let dir = Path::new(&file).parent().unwrap().to_path_buf();
        for (i, _) in text.match_indices("](") {
            let link = &text[i + 2..];
            let link = &link[..link.find(')').unwrap()];
            if link.starts_with("http") || link.contains(' ') {
                continue;
            }
            let (path, fragment) = link.split_once('#').unwrap_or((link, ""));
            let target = if path.is_empty() { repo_root().join(&file) } else { repo_root().join(&dir).join(path) };
            assert!(target.exists(), "{file}: link to {link}: no such file");
            if !fragment.is_empty() {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                assert!(headings.iter().any(|h| h == fragment), "{file}: link to {link}: no such heading");
            }
        }
    }
}
