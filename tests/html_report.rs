//! `tt-export --format html`: the page against its golden file, the committed sample report, totals equal to
//! tt-sum's, hostile names inert, nothing external, `-o`, and what it refuses.
//!
//! The fixture (`tests/fixtures/html/`) is a small log — four agents, five models, a week of days, a record
//! after `--today` — with budgets of every period kind, and names that are markup (an agent `<script>…`, a
//! session `</svg><img …>`, a task `' onmouseover='…`, a model `"onload=…`, a budget `…</h3><script>…`).
//! `TT_BLESS=1 cargo test --test html_report` rewrites the golden file and the sample report from the current
//! output instead of comparing (review the diff). The page in a real browser: `tests/browser.rs`.
mod common;
use common::*;
use serde_json::Value;

/// The day the fixture's reports are pinned to (a Thursday: the week and month are still running).
pub const TODAY: &str = "2026-11-19";
/// `$SOURCE_DATE_EPOCH` for the page's "generated" stamp: 2026-11-19T18:00:00Z.
pub const EPOCH: &str = "1795111200";

/// A scenario with the fixture's log as the usage log and its budgets as the project config (`./tt.toml`).
fn fixture_scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", std::fs::read(fixture("html/usage.jsonl")).unwrap());
    sc.write("tt.toml", std::fs::read(fixture("html/tt.toml")).unwrap());
    sc
}

/// The HTML report of the fixture with `args` added, as tt-export writes it on stdout.
fn report(sc: &Scenario, args: &[&str]) -> String {
    sc.cmd("tt-export")
        .args(["--format", "html", "--today", TODAY])
        .args(args)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .succeeds()
        .stdout
}

/// The value of the first `attr="…"` in `html`.
fn attr<'a>(html: &'a str, attr: &str) -> &'a str {
    let at = html.find(&format!("{attr}=\"")).unwrap_or_else(|| panic!("no {attr} in the page"));
    let rest = &html[at + attr.len() + 2..];
    &rest[..rest.find('"').unwrap()]
}

/// tt-sum's total row (`--format json`) for the same window, and the group rows when `by` is given.
fn tt_sum(sc: &Scenario, args: &[&str]) -> Vec<Value> {
    let out = sc.cmd("tt-sum").args(["--format", "json", "--today", TODAY]).args(args).succeeds();
    serde_json::from_str::<Value>(&out.stdout).unwrap().as_array().unwrap().clone()
}

fn total_row(rows: &[Value]) -> &Value {
    rows.iter().find(|r| r["group"].as_object().unwrap().is_empty()).unwrap()
}

/// The fixture's report is its golden file, `docs/sample-report.html`, the sample README links: it cannot go
/// stale.
#[test]
fn the_report_of_the_fixture_is_the_sample_in_docs() {
    let sc = fixture_scenario();
    let html = report(&sc, &[]);
    golden_file("docs/sample-report.html", &html);
    // A pure function of the log, the config, --today and SOURCE_DATE_EPOCH.
    assert_eq!(report(&sc, &[]), html);
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    assert!(readme.contains("(docs/sample-report.html)"), "README.md does not link docs/sample-report.html");
}

#[test]
fn totals_are_tt_sums_for_the_same_window_and_filter() {
    let sc = fixture_scenario();
    for window in
        [&[][..], &["--period", "month"], &["--period", "all"], &["--since", "2026-11-17", "--until", "2026-11-18"]]
    {
        let html = report(&sc, window);
        // tt-export's report defaults to this week; tt-sum to all time.
        let sum_window: &[&str] = if window.is_empty() { &["--period", "week"] } else { window };
        let rows = tt_sum(&sc, sum_window);
        let t = total_row(&rows);
        assert_eq!(attr(&html, "data-total"), t["cost_usd"].to_string(), "{window:?}");
        assert_eq!(attr(&html, "data-tokens"), t["total_tokens"].to_string(), "{window:?}");
        assert_eq!(attr(&html, "data-records"), t["records"].to_string(), "{window:?}");
    }
    // A filter: the agent's group row of tt-sum --by agent.
    let html = report(&sc, &["--agent", "ATLAS"]);
    let rows = tt_sum(&sc, &["--period", "week", "--by", "agent"]);
    let atlas = rows.iter().find(|r| r["group"]["agent"] == "ATLAS").unwrap();
    assert_eq!(attr(&html, "data-total"), atlas["cost_usd"].to_string());
    assert!(html.contains("Only records with agent = ATLAS."));
}

/// One bar per (day, model) and (day, agent) with priced spend — what tt-sum sums for the same keys — and one
/// gauge per budget.
#[test]
fn bars_and_gauges_are_one_per_priced_group_and_per_budget() {
    let sc = fixture_scenario();
    let html = report(&sc, &[]);
    let priced = |by: &str| {
        tt_sum(&sc, &["--period", "week", "--by", by])
            .iter()
            .filter(|r| !r["group"].as_object().unwrap().is_empty() && r["cost_usd"].as_f64().unwrap() > 0.0)
            .count()
    };
    let want = priced("day,model") + priced("day,agent");
    assert_eq!(want, expected_bars());
    assert_eq!(html.matches("<rect data-bar ").count(), want);
    assert_eq!(html.matches("data-gauge=").count(), 4);
    assert_eq!(html.matches("<li data-suggestion=").count(), 8);
}

/// The fixture's bars (`tests/browser.rs` counts them in the rendered DOM too): by model, Mon–Thu have 3 priced
/// models each (Thursday's fourth is unpriced); by agent 2, 3, 3 and 3 agents with priced spend.
pub fn expected_bars() -> usize {
    3 + 3 + 3 + 3 + 2 + 3 + 3 + 3
}

/// Every tag of the page is one the report writes, with attributes it writes: a name from the log that got
/// through unescaped would add a tag (`script`, `img`) or an attribute (`onerror`, `onload`).
#[test]
fn hostile_names_add_no_tag_and_no_attribute() {
    let sc = fixture_scenario();
    for args in [&[][..], &["--period", "all"]] {
        let html = report(&sc, args);
        check_inert(&html);
        // The names are there, as text.
        for shown in [
            "&lt;script&gt;alert(&quot;tt&quot;)&lt;/script&gt;",
            "&lt;/svg&gt;&lt;img src=x onerror=alert(1)&gt;",
            "&#39; onmouseover=&#39;alert(2)",
            "&quot;onload=alert(3) x=&quot;",
            "ops&lt;/h3&gt;&lt;script&gt;alert(4)&lt;/script&gt;",
        ] {
            assert!(html.contains(shown), "{shown} not shown");
        }
    }
}

/// The tags and attributes the report writes (anything else is a name that escaped).
pub fn check_inert(html: &str) {
    const TAGS: &[&str] = &[
        "!DOCTYPE", "html", "head", "meta", "link", "title", "style", "body", "header", "h1", "h2", "h3", "p", "code",
        "main", "section", "div", "span", "table", "thead", "tbody", "tr", "th", "td", "svg", "line", "text", "rect",
        "ol", "li", "br", "details", "summary", "dl", "dt", "dd", "footer",
    ];
    const ATTRS: &[&str] = &[
        "lang",
        "charset",
        "http-equiv",
        "content",
        "name",
        "rel",
        "href",
        "class",
        "id",
        "viewBox",
        "role",
        "aria-label",
        "x",
        "y",
        "x1",
        "x2",
        "y1",
        "y2",
        "dy",
        "width",
        "height",
        "rx",
        "text-anchor",
        "data-bar",
        "data-gauge",
        "data-level",
        "data-total",
        "data-tokens",
        "data-records",
        "data-suggestion",
        "html",
    ];
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        let end = rest.find('>').expect("a tag that does not close");
        let tag = &rest[..end];
        rest = &rest[end..];
        if tag.starts_with('/') {
            continue;
        }
        let mut words = attributes(tag.trim_end_matches('/'));
        let name = words.remove(0);
        assert!(TAGS.contains(&name.as_str()), "unexpected tag <{tag}>");
        for a in words {
            assert!(ATTRS.contains(&a.as_str()), "unexpected attribute {a:?} in <{tag}>");
        }
    }
    // Inline <style> holds no markup; the head's one link is the empty icon.
    assert_eq!(html.matches("href=").count(), 1);
    assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
    for never in ["http://", "https://", "xmlns", "<script", "javascript:", "url(", "@import"] {
        assert!(!html.contains(never), "the page has {never:?}");
    }
}

/// A tag's name and its attribute names (values skipped, quoted or not).
fn attributes(tag: &str) -> Vec<String> {
    let mut out = Vec::new();
    let b = tag.as_bytes();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < b.len() && !b[i].is_ascii_whitespace() && b[i] != b'=' {
            i += 1;
        }
        if i > start {
            out.push(tag[start..i].to_string());
        }
        if i < b.len() && b[i] == b'=' {
            i += 1;
            match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    i += 1;
                    while i < b.len() && b[i] != q {
                        i += 1;
                    }
                    i += 1;
                }
                _ => {
                    while i < b.len() && !b[i].is_ascii_whitespace() {
                        i += 1;
                    }
                }
            }
        }
    }
    out
}

#[test]
fn the_page_is_self_contained_responsive_and_printable() {
    let sc = fixture_scenario();
    let html = report(&sc, &[]);
    assert!(html.starts_with("<!DOCTYPE html>\n"));
    assert!(html.contains(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; \
         img-src data:\">"
    ));
    assert!(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"));
    assert!(html.contains("@media print{"));
    assert!(html.contains("svg{display:block;width:100%;height:auto}"));
    assert!(html.matches("<svg ").count() >= 6 && html.matches("<svg ").count() == html.matches("viewBox=").count());
}

#[test]
fn o_writes_the_page_atomically_and_stdout_stays_empty() {
    let sc = fixture_scenario();
    let html = report(&sc, &[]);
    sc.cmd("tt-export")
        .args(["--format", "html", "--today", TODAY, "-o", "report.html"])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .succeeds()
        .stdout_is("");
    assert_eq!(sc.read("report.html"), html);
    // Nothing left beside it (the spool of the second pass is unlinked as soon as it is made).
    let names: Vec<String> =
        std::fs::read_dir(sc.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.starts_with('.') || n == ".config" || n == ".local"), "{names:?}");
}

#[test]
fn an_empty_window_is_a_page_that_says_so() {
    let sc = fixture_scenario();
    let html = report(&sc, &["--period", "today", "--agent", "nobody"]);
    check_inert(&html);
    assert!(html.contains("No records in the window."));
    assert_eq!(attr(&html, "data-total"), "0");
    assert_eq!(html.matches("data-bar").count(), 0);
    // No config, no log at all: still a page.
    let bare = Scenario::new();
    let html = report(&bare, &[]);
    assert!(html.contains("No budgets configured"));
}

#[test]
fn summary_rows_are_refused() {
    let sc = fixture_scenario();
    sc.bash(&format!("tt-sum --by agent --today {TODAY} 2>/dev/null | tt-export --format html"))
        .fails_with(2)
        .stderr_has("the HTML report is made from usage records");
}

#[test]
fn a_closed_pipe_is_a_quiet_exit_0() {
    let sc = fixture_scenario();
    sc.bash(&format!("set -o pipefail; tt-export --format html --today {TODAY} --period all | head -c 10 >/dev/null"))
        .succeeds()
        .stderr_is("");
}
