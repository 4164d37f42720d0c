//! The HTML report in a real browser: headless Chromium (Debian's `chromium`) loads the fixture's page and
//! must see no console message, the bars and gauges the fixture makes, tt-sum's total, and no element a
//! hostile name could have added; a desktop and a phone screenshot and a printed PDF are written.
//!
//! How Chromium is driven, without a WebDriver crate: one headless run per question, each with a fresh
//! `--user-data-dir` in the test's temp dir, `--no-sandbox` (CI runs as root, where the sandbox refuses to
//! start), and a 60-second limit after which the whole process group is killed.
//! * the DOM: `--dump-dom` prints the document as parsed and laid out (the page has no script, so this is what
//!   a reader's browser builds from the bytes — the check that escaping held is made on the browser's tree);
//! * the console: `--enable-logging=stderr --v=0` logs every console message as a `…:CONSOLE…` line on
//!   stderr, whatever its level (a CSP violation, a blocked load, an uncaught error). The page has no
//!   script, so any such line is a failure. A control page that breaks its own CSP must produce one, so a
//!   Chromium whose logging changed fails the test instead of passing it blind;
//! * screenshots: `--screenshot=PATH --window-size=W,H` (the PNG's size is checked), and `--print-to-pdf`.
//!
//! Chromium absent: one `skipped: …` line (`common::skipped`), or a failure under `TT_TEST_REQUIRE_TOOLS=1`
//! (`.ci/run` installs `chromium` and sets it). When a check fails, the screenshots, the DOM and Chromium's
//! stderr are copied to `target/test-artifacts/browser/` (the failure message says so) for CI to keep.
mod common;
use common::*;
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The fixture's day and "generated" stamp, as in `tests/html_report.rs` (so this is the golden page).
const TODAY: &str = "2026-11-19";
const EPOCH: &str = "1795111200";
/// How long one Chromium run may take before its process group is killed.
const LIMIT: Duration = Duration::from_secs(60);

/// Chromium's launcher on PATH, if installed.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// One headless Chromium run on `url` with `args`; its stdout and stderr (each written to a file in `dir`, so
/// a chatty browser can never block on a full pipe). Killed with its process group after [`LIMIT`].
fn run_chromium(exe: &Path, dir: &Path, name: &str, args: &[String], url: &str) -> (String, String) {
    let profile = dir.join(format!("profile-{name}"));
    let (out, err) = (dir.join(format!("{name}.stdout")), dir.join(format!("{name}.stderr")));
    let mut child = Command::new(exe)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .env("HOME", dir)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        // Its own process group: the renderer and GPU processes go with it when it is killed.
        .process_group(0)
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > LIMIT {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.wait();
            panic!("chromium ({name}) still running after {LIMIT:?}: killed");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let (stdout, stderr) = (std::fs::read_to_string(&out).unwrap(), std::fs::read_to_string(&err).unwrap());
    assert!(status.success(), "chromium ({name}) failed: {status}\n{stderr}");
    (stdout, stderr)
}

/// The console messages in Chromium's stderr.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// A PNG's width and height (from its IHDR chunk).
fn png_size(path: &Path) -> (u32, u32) {
    let b = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(b.starts_with(b"\x89PNG\r\n\x1a\n") && b.len() > 24, "{}: not a PNG", path.display());
    let be = |i: usize| u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    (be(16), be(20))
}

/// The value of the first `attr="…"` in `html`.
fn attr<'a>(html: &'a str, attr: &str) -> &'a str {
    let at = html.find(&format!("{attr}=\"")).unwrap_or_else(|| panic!("no {attr} in the DOM"));
    let rest = &html[at + attr.len() + 2..];
    &rest[..rest.find('"').unwrap()]
}

/// Where a failed run's pictures go for CI to keep (`target/test-artifacts/browser/`).
fn keep_artifacts(dir: &Path) -> PathBuf {
    let to = bin_dir().parent().unwrap().join("test-artifacts/browser");
    std::fs::create_dir_all(&to).unwrap();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if [".png", ".pdf", ".html", ".stdout", ".stderr"].iter().any(|x| name.ends_with(x)) {
            let _ = std::fs::copy(e.path(), to.join(&name));
        }
    }
    to
}

#[test]
fn the_report_renders_in_chromium_as_the_log_says() {
    let Some(exe) = chromium() else {
        return skipped("browser test: chromium not installed", "apt-get install -y chromium");
    };
    let sc = Scenario::new();
    sc.write("usage.jsonl", std::fs::read(fixture("html/usage.jsonl")).unwrap());
    sc.write("tt.toml", std::fs::read(fixture("html/tt.toml")).unwrap());
    sc.cmd("tt-export")
        .args(["--format", "html", "--today", TODAY, "-o", "report.html"])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .succeeds();
    let dir = sc.path().to_path_buf();
    let url = format!("file://{}", dir.join("report.html").display());

    // What the page must show, from tt-sum: the total, and one bar per (day, model) and (day, agent) with priced
    // spend.
    let sum = |by: Option<&str>| -> Vec<Value> {
        let mut c = sc.cmd("tt-sum").args(["--format", "json", "--today", TODAY, "--period", "week"]);
        if let Some(by) = by {
            c = c.args(["--by", by]);
        }
        serde_json::from_str::<Value>(&c.succeeds().stdout).unwrap().as_array().unwrap().clone()
    };
    let total = sum(None)[0]["cost_usd"].to_string();
    let priced = |by| {
        sum(Some(by))
            .iter()
            .filter(|r| !r["group"].as_object().unwrap().is_empty() && r["cost_usd"].as_f64().unwrap() > 0.0)
            .count()
    };
    let bars = priced("day,model") + priced("day,agent");
    let gauges = 4;

    // Pictures first, so a failing check below has them to keep.
    let shots = [("desktop", 1280u32, 2400u32), ("phone", 390, 1800)];
    let mut steps: Vec<(String, String)> = Vec::new();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        for (name, w, h) in shots {
            let png = dir.join(format!("report-{name}.png"));
            let args = [format!("--screenshot={}", png.display()), format!("--window-size={w},{h}")];
            let (_, err) = run_chromium(&exe, &dir, name, &args, &url);
            steps.push((name.to_string(), err));
            assert_eq!(png_size(&png), (w, h), "{name} screenshot");
        }
        let pdf = dir.join("report.pdf");
        let args = [format!("--print-to-pdf={}", pdf.display()), "--no-pdf-header-footer".to_string()];
        let (_, err) = run_chromium(&exe, &dir, "print", &args, &url);
        steps.push(("print".into(), err));
        let bytes = std::fs::read(&pdf).unwrap();
        assert!(bytes.starts_with(b"%PDF-") && bytes.len() > 10_000, "printing made no PDF");

        let (dom, err) = run_chromium(&exe, &dir, "dom", &["--dump-dom".to_string()], &url);
        std::fs::write(dir.join("report-dom.html"), &dom).unwrap();
        steps.push(("dom".into(), err));
        assert_eq!(dom.matches("<rect data-bar=\"\"").count(), bars, "bars in the DOM");
        assert_eq!(bars, 23, "the fixture's bars (tests/html_report.rs: expected_bars)");
        assert_eq!(dom.matches(" data-gauge=\"").count(), gauges, "gauges in the DOM");
        assert_eq!(attr(&dom, "data-total"), total, "the total shown is tt-sum's");
        // The hostile names stayed text: the browser made no element of them.
        for element in ["<script", "<img", "<iframe", "<object"] {
            assert!(!dom.contains(element), "the DOM has a {element} element");
        }
        assert!(dom.contains("&lt;script&gt;alert(\"tt\")&lt;/script&gt;"), "the hostile agent is not shown as text");
        assert_eq!(dom.matches("<li data-suggestion=").count(), 8, "suggestions in the DOM");

        for (name, err) in &steps {
            let lines = console_lines(err);
            assert!(lines.is_empty(), "console messages while {name}:\n{}", lines.join("\n"));
        }
    }));
    if let Err(e) = outcome {
        let why = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        let kept = keep_artifacts(&dir);
        panic!("{why}\n(screenshots, DOM and chromium's stderr kept in {})", kept.display());
    }

    // The control: a page that breaks the same policy must show on the console, or the check above saw nothing.
    sc.write(
        "control.html",
        "<!DOCTYPE html><meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src \
         'unsafe-inline'; img-src data:\"><title>control</title><img src=\"http://example.invalid/x.png\">",
    );
    let control = format!("file://{}", dir.join("control.html").display());
    let (_, err) = run_chromium(&exe, &dir, "control", &["--dump-dom".to_string()], &control);
    assert!(
        !console_lines(&err).is_empty(),
        "a CSP violation left no CONSOLE line on chromium's stderr: the console check would miss errors\n{err}"
    );
}
