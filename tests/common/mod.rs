//! The test harness: an isolated scenario per test, running the real binaries.
//!
//! `Scenario::new()` makes a temp dir that is HOME, XDG_CONFIG_HOME, XDG_DATA_HOME and the working directory,
//! with `TT_LOG` pointing at `usage.jsonl` inside it and every other `TT_*` / CI variable removed, so tests
//! never see the developer's own config or log. `sc.cmd("tt-sum").args([...]).pipe_in("...").run()` gives an
//! [`Out`] with chainable assertions in the style of uutils' test harness.
#![allow(dead_code, clippy::unwrap_used)]

pub mod pg;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The directory holding the workspace's binaries (target/debug), found from the test executable.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    deps.parent().unwrap().to_path_buf()
}

/// The path of one tool's binary.
pub fn bin(tool: &str) -> PathBuf {
    let p = bin_dir().join(tool);
    assert!(p.exists(), "{} not built: run `cargo test --workspace`", p.display());
    p
}

/// An outside prerequisite of some checks (promtool, Python's duckdb, `../shared/realdata`) is missing.
///
/// Under `TT_TEST_REQUIRE_TOOLS=1` (`.ci/run` sets it) that fails the test, so CI cannot silently stop
/// checking. Otherwise one `skipped: …` line goes straight to the terminal's stderr — past the test harness's
/// output capture, so it shows even though the test passes — and the caller skips the check.
pub fn skipped(what: &str, hint: &str) {
    let line = format!("skipped: {what} ({hint})");
    if std::env::var_os("TT_TEST_REQUIRE_TOOLS").is_some_and(|v| !v.is_empty() && v != "0") {
        panic!("{line}, and TT_TEST_REQUIRE_TOOLS is set");
    }
    // Once per test binary and line, and straight to the stderr handle: `eprintln!` would be captured.
    static SAID: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if !said.contains(&line) {
        let _ = writeln!(std::io::stderr().lock(), "{line}");
        said.push(line);
    }
}

/// True when `program args…` runs and exits 0 (a probe for an outside tool), cached per probe.
pub fn tool_present(program: &str, args: &[&str]) -> bool {
    static SEEN: std::sync::Mutex<Vec<(String, bool)>> = std::sync::Mutex::new(Vec::new());
    let key = format!("{program} {}", args.join(" "));
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, ok)) = seen.iter().find(|(k, _)| *k == key) {
        return *ok;
    }
    let ok = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    seen.push((key, ok));
    ok
}

/// The real transcripts beside the project (`../shared/realdata`), when they are there with the sub-folders
/// `need` names; otherwise [`skipped`] says so and this is `None`.
pub fn realdata(need: &[&str]) -> Option<PathBuf> {
    let p = repo_root().join("../shared/realdata");
    if need.iter().all(|d| p.join(d).is_dir()) {
        Some(p)
    } else {
        skipped(
            &format!("real-transcript test: {} has no {}", p.display(), need.join(" or ")),
            "the transcripts live beside the project in ../shared; see CONTRIBUTING.md",
        );
        None
    }
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The fixtures dir.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures").join(rel)
}

/// An isolated temp dir environment.
pub struct Scenario {
    pub dir: tempfile::TempDir,
}

impl Default for Scenario {
    fn default() -> Self {
        Self::new()
    }
}

impl Scenario {
    pub fn new() -> Scenario {
        Scenario { dir: tempfile::Builder::new().prefix("tt-test-").tempdir().unwrap() }
    }

    /// The temp dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The scenario's usage log (TT_LOG).
    pub fn log_path(&self) -> PathBuf {
        self.path().join("usage.jsonl")
    }

    /// The log's contents ("" when it does not exist).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// The log's records as JSON values.
    pub fn records(&self) -> Vec<serde_json::Value> {
        self.log().lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Write a file inside the scenario (parents created) and return its path.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path().join(rel);
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).unwrap();
        }
        std::fs::write(&p, content).unwrap();
        p
    }

    /// Read a file inside the scenario.
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap()
    }

    /// A command for `tool`, isolated in this scenario.
    pub fn cmd(&self, tool: &str) -> Run {
        let mut c = Command::new(bin(tool));
        c.current_dir(self.path());
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            // What the tools (or the bash helpers, or git and clap under them) read from the environment: a CI
            // runner's own variables (GitHub's, GitLab's `CI_*`), a repository a git hook runs in (`GIT_*`), a
            // terminal width for help text (`COLUMNS`), a build date for bundles (`SOURCE_DATE_EPOCH`).
            if k.starts_with("TT_")
                || k.starts_with("GITHUB_")
                || k.starts_with("GITLAB_")
                || k.starts_with("CI_")
                || k.starts_with("GIT_")
                || k.starts_with("XDG_")
                // libpq's variables (PGHOST, PGPASSWORD, …) would point a ledger test at the developer's server.
                || k.starts_with("PG")
                || k == "CLAUDE_CONFIG_DIR"
                || k == "CODEX_HOME"
                || k == "CI"
                || k == "COLUMNS"
                || k == "LINES"
                || k == "SOURCE_DATE_EPOCH"
            {
                c.env_remove(&k);
            }
        }
        c.env("HOME", self.path())
            .env("XDG_CONFIG_HOME", self.path().join(".config"))
            .env("XDG_DATA_HOME", self.path().join(".local/share"))
            .env("TT_LOG", self.log_path())
            .env("NO_COLOR", "1")
            .env("USER", "tester")
            .env("RUST_BACKTRACE", "0");
        Run { cmd: c, stdin: None }
    }

    /// A bash command run in this scenario with the tools on PATH.
    pub fn bash(&self, script: &str) -> Run {
        let mut r = self.cmd("tt-log");
        let mut c = Command::new("bash");
        c.arg("-c").arg(script);
        // Copy the isolated environment of `r` onto the bash command.
        for (k, v) in r.cmd.get_envs() {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
        c.env("PATH", path).current_dir(self.path());
        r.cmd = c;
        r
    }
}

/// A command about to run.
pub struct Run {
    pub cmd: Command,
    stdin: Option<Vec<u8>>,
}

impl Run {
    pub fn arg(mut self, a: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.arg(a);
        self
    }
    pub fn args<I, S>(mut self, a: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(a);
        self
    }
    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }
    pub fn env_remove(mut self, k: &str) -> Self {
        self.cmd.env_remove(k);
        self
    }
    pub fn current_dir(mut self, d: impl AsRef<Path>) -> Self {
        self.cmd.current_dir(d);
        self
    }
    /// Feed this on stdin (otherwise stdin is /dev/null, which tt treats as "nothing on stdin").
    pub fn pipe_in(mut self, s: impl AsRef<[u8]>) -> Self {
        self.stdin = Some(s.as_ref().to_vec());
        self
    }
    pub fn run(mut self) -> Out {
        self.cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        self.cmd.stdin(if self.stdin.is_some() { Stdio::piped() } else { Stdio::null() });
        let mut child = self.cmd.spawn().unwrap();
        if let Some(data) = self.stdin.take() {
            let mut si = child.stdin.take().unwrap();
            std::thread::spawn(move || {
                let _ = si.write_all(&data);
            });
        }
        let o = child.wait_with_output().unwrap();
        Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
    pub fn succeeds(self) -> Out {
        self.run().success()
    }
    pub fn fails_with(self, code: i32) -> Out {
        self.run().code(code)
    }
}

/// What a command did.
/// Start every command first (stdin closed), then wait for them all: they run at once, as racing agents do.
pub fn run_all(runs: Vec<Run>) -> Vec<Out> {
    let children: Vec<_> = runs
        .into_iter()
        .map(|mut r| {
            r.cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
            r.cmd.spawn().unwrap()
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let o = c.wait_with_output().unwrap();
            Out {
                code: o.status.code(),
                stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            }
        })
        .collect()
}

#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn success(self) -> Self {
        assert_eq!(self.code, Some(0), "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
    pub fn code(self, c: i32) -> Self {
        assert_eq!(self.code, Some(c), "expected exit {c}\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
    pub fn stdout_is(self, s: &str) -> Self {
        assert_eq!(self.stdout, s, "stdout differs\nstderr:\n{}", self.stderr);
        self
    }
    pub fn stderr_is(self, s: &str) -> Self {
        assert_eq!(self.stderr, s, "stderr differs\nstdout:\n{}", self.stdout);
        self
    }
    pub fn stdout_has(self, s: &str) -> Self {
        assert!(self.stdout.contains(s), "stdout lacks {s:?}:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
    pub fn stderr_has(self, s: &str) -> Self {
        assert!(self.stderr.contains(s), "stderr lacks {s:?}:\n{}", self.stderr);
        self
    }
    /// Exactly one line on stderr, of the tt error form `tool: error: …`.
    pub fn one_error_line(self, tool: &str) -> Self {
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "want one stderr line, got:\n{}", self.stderr);
        assert!(lines[0].starts_with(&format!("{tool}: error: ")), "not an error line: {}", lines[0]);
        self
    }
    /// stdout is the golden file `tests/golden/NAME` (see [`golden`]).
    pub fn stdout_golden(self, name: &str) -> Self {
        golden(name, &self.stdout);
        self
    }
    /// stdout parsed as JSON lines.
    pub fn jsonl(&self) -> Vec<serde_json::Value> {
        self.stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
    }
}

/// Copy a fixture tree. The transcripts are finished sessions: their mtimes are put an hour back, past the
/// time after which an idle transcript's last request counts as complete.
pub fn copy_tree(src: &Path, dst: &Path) {
    copy_files(src, dst, true);
}

/// Copy a tree of transcripts (writable copies, whatever the permissions of the source), idle or fresh.
pub fn copy_files(src: &Path, dst: &Path, idle_files: bool) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_files(&e.path(), &to, idle_files);
        } else {
            std::fs::write(&to, std::fs::read(e.path()).unwrap()).unwrap();
            if idle_files {
                idle(&to);
            }
        }
    }
}

/// Make a transcript look left alone for an hour (as a finished session is).
pub fn idle(path: &Path) {
    let ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(ago).unwrap();
}

/// `got` must be the golden file `tests/golden/NAME`, byte for byte; with `TT_BLESS=1` the file is written from
/// `got` instead (review the diff before committing it).
pub fn golden(name: &str, got: &str) {
    golden_file(&format!("tests/golden/{name}"), got);
}

/// [`golden`] for any committed file, `rel` from the repository's root (a sample in `docs/`, say). A mismatch
/// names the first line that differs, then shows both texts.
pub fn golden_file(rel: &str, got: &str) {
    let path = repo_root().join(rel);
    if std::env::var_os("TT_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e} (TT_BLESS=1 cargo test writes it)"));
    if want != got {
        let line = want.lines().zip(got.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "{rel} differs at line {} (TT_BLESS=1 rewrites it; review the diff)\n want: {}\n  got: {}\n--- got:\n{got}",
            line + 1,
            want.lines().nth(line).unwrap_or(""),
            got.lines().nth(line).unwrap_or("")
        );
    }
}
