//! Text tables fit the screen: `COLUMNS` (or the terminal) sets the width, each tool's tables leave out their
//! least important columns and cut long text with `…` to fit, never cutting a number or leaving out a key
//! column; a table in a pipe is whole unless `COLUMNS` is set, and markdown is never cut. (The harness clears
//! `COLUMNS`, so every command here that wants a width sets it.)
mod common;
use common::*;

/// Three records of November 2026: long session ids, a long project, and one unknown model (an UNPRICED column).
const LOG: &str = r#"{"v":1,"id":"a1","ts":"2026-11-20T10:00:00Z","agent":"claude-code","model":"sonnet-4.5","input_tokens":50000,"output_tokens":15000,"cache_read_tokens":1200000,"cache_write_tokens":30000,"cost_usd":0.82,"session":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b","project":"payments-service"}
{"v":1,"id":"a2","ts":"2026-11-21T10:00:00Z","agent":"codex","model":"gpt-4.1","input_tokens":20000,"output_tokens":3000,"cache_read_tokens":5000,"cost_usd":0.0665,"session":"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c","project":"payments-service"}
{"v":1,"id":"a3","ts":"2026-11-22T10:00:00Z","agent":"review-bot","model":"claude-quill-9","input_tokens":700,"output_tokens":90}
"#;

const BUDGETS: &str = r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 5

[[budget]]
name = "payments"
period = "month"
scope = { project = "payments-service", agent = "claude-code" }
limit_usd = 1
"#;

fn scenario() -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", LOG);
    sc
}

/// The widest line, in characters: tables hold `…`, `–` and rules of `─`, several bytes each.
fn widest(s: &str) -> usize {
    s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

/// `tool args` at `COLUMNS=columns`.
fn at(sc: &Scenario, columns: &str, tool: &str, args: &[&str]) -> String {
    sc.cmd(tool).env("COLUMNS", columns).args(args).succeeds().stdout
}

#[test]
fn tt_sum_leaves_out_sessions_cache_and_records_at_80_columns() {
    let sc = scenario();
    let args = ["--by", "agent,model", "--format", "table"];
    let whole = sc.cmd("tt-sum").args(args).succeeds().stdout;
    assert_eq!(widest(&whole), 120);
    let fitted = at(&sc, "80", "tt-sum", &args);
    assert_eq!(
        fitted,
        "all time
AGENT        MODEL            INPUT  OUTPUT  TOTAL TOKENS     COST  UNPRICED
────────────────────────────────────────────────────────────────────────────
claude-code  sonnet-4.5      50,000  15,000     1,295,000  $0.8200         0
codex        gpt-4.1         20,000   3,000        28,000  $0.0665         0
review-bot   claude-quill-9     700      90           790        –         1
────────────────────────────────────────────────────────────────────────────
TOTAL                        70,700  18,090     1,323,790  $0.8865         1
"
    );
    assert!(widest(&fitted) <= 80);
    // Wide enough: every column, exactly as unfitted.
    assert_eq!(at(&sc, "120", "tt-sum", &args), whole);
    assert_eq!(at(&sc, "200", "tt-sum", &args), whole);
    // 119: one column goes, the least important.
    assert!(!at(&sc, "119", "tt-sum", &args).contains("SESSIONS"));
    // Session ids are the key: never cut, never left out.
    let by_session = at(&sc, "80", "tt-sum", &["--by", "session", "--format", "table"]);
    assert!(by_session.contains("\n0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b  50,000     1,295,000  $0.8200         0\n"));
    assert!(widest(&by_session) <= 80, "{by_session}");
}

#[test]
fn a_very_narrow_screen_still_gets_the_key_columns() {
    // Decided: the groups, the total tokens, the cost and what could not be priced are what a tt-sum table is
    // about; at COLUMNS=40 the table is wider than 40 rather than without them (a terminal wraps the lines).
    let sc = scenario();
    let narrow = at(&sc, "40", "tt-sum", &["--by", "agent,model", "--format", "table"]);
    assert_eq!(
        narrow,
        "all time
AGENT        MODEL           TOTAL TOKENS     COST  UNPRICED
────────────────────────────────────────────────────────────
claude-code  sonnet-4.5         1,295,000  $0.8200         0
codex        gpt-4.1               28,000  $0.0665         0
review-bot   claude-quill-9           790        –         1
────────────────────────────────────────────────────────────
TOTAL                           1,323,790  $0.8865         1
"
    );
    assert_eq!(at(&sc, "1", "tt-sum", &["--by", "agent,model", "--format", "table"]), narrow);
    // The budget table keeps which budget, how much of which limit and the level.
    sc.write("tt.toml", BUDGETS);
    assert_eq!(
        at(&sc, "40", "tt-budget", &["--today", "2026-11-25", "--format", "table"]),
        "BUDGET          SPENT  UNPRICED  LIMIT    USED  LEVEL
───────────────────────────────────────────────────────
team-monthly  $0.8865         1  $5.00  17.73%  ok
payments      $0.8200         -  $1.00     82%  warning
"
    );
}

#[test]
fn tt_budget_cuts_the_scope_then_leaves_out_dates_forecast_scope_and_window() {
    let sc = scenario();
    sc.write("tt.toml", BUDGETS);
    let args = ["--today", "2026-11-25", "--format", "table"];
    let whole = sc.cmd("tt-budget").args(args).succeeds().stdout;
    assert_eq!(
        whole,
        "BUDGET        SCOPE                                       WINDOW                   SPENT  UNPRICED  LIMIT     LEFT    USED  LEVEL    FORECAST  LIMIT ON
───────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
team-monthly  -                                           month from 2026-11-01  $0.8865         1  $5.00    $4.11  17.73%  ok          $1.06  -
payments      agent=claude-code,project=payments-service  month from 2026-11-01  $0.8200         -  $1.00  $0.1800     82%  warning   $0.9840  -
"
    );
    assert_eq!(at(&sc, "151", "tt-budget", &args), whole);
    // 120: the scope is cut before any column goes (at 16 characters it would still be too wide, so LIMIT ON
    // goes and the scope gets back what is left).
    assert_eq!(
        at(&sc, "120", "tt-budget", &args),
        "BUDGET        SCOPE                  WINDOW                   SPENT  UNPRICED  LIMIT     LEFT    USED  LEVEL    FORECAST
────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
team-monthly  -                      month from 2026-11-01  $0.8865         1  $5.00    $4.11  17.73%  ok          $1.06
payments      agent=claude-code,pr…  month from 2026-11-01  $0.8200         -  $1.00  $0.1800     82%  warning   $0.9840
"
    );
    let fitted = at(&sc, "80", "tt-budget", &args);
    assert_eq!(
        fitted,
        "BUDGET          SPENT  UNPRICED  LIMIT     LEFT    USED  LEVEL
────────────────────────────────────────────────────────────────
team-monthly  $0.8865         1  $5.00    $4.11  17.73%  ok
payments      $0.8200         -  $1.00  $0.1800     82%  warning
"
    );
    assert!(widest(&fitted) <= 80);
    // What is left out is only left out: nothing more on stdout or stderr than in a wide table.
    let wide = sc.cmd("tt-budget").args(args).run();
    let narrow = sc.cmd("tt-budget").env("COLUMNS", "80").args(args).run();
    assert_eq!((narrow.code, &narrow.stderr), (wide.code, &wide.stderr));
    // The job summary and --format markdown are files, never cut.
    let md = sc.cmd("tt-budget").args(["--today", "2026-11-25", "--format", "markdown"]).succeeds().stdout;
    assert_eq!(at(&sc, "40", "tt-budget", &["--today", "2026-11-25", "--format", "markdown"]), md);
    assert!(md.contains("agent=claude-code,project=payments-service"));
}

#[test]
fn tt_price_list_keeps_the_model_and_its_main_prices() {
    let sc = Scenario::new();
    sc.write(
        "tt.toml",
        r#"
[models.acme-reasoner-large-2026]
provider = "acme"
input = 12.5
output = 100
cache_read = 1.25
aliases = ["reasoner", "acme-reasoner", "acme-reasoner-large", "big-thinker"]

[models.acme-mini]
provider = "acme"
input = 0.05
output = 0.4
"#,
    );
    let args = ["--list", "--format", "table"];
    // The acme lines and the table's head; the built-in models fill the rest.
    let ours =
        |s: &str| s.lines().take(3).chain(s.lines().filter(|l| l.starts_with("acme"))).collect::<Vec<_>>().join("\n");
    let whole = sc.cmd("tt-price").args(args).succeeds().stdout;
    assert!(widest(&whole) > 150, "{whole}");
    let fitted = at(&sc, "80", "tt-price", &args);
    assert!(widest(&fitted) <= 80, "{fitted}");
    assert_eq!(
        ours(&fitted),
        "USD per million tokens
model                     input  output  cache read  cache write  long context
────────────────────────────────────────────────────────────────────────────────
acme-mini                  0.05     0.4           -            -
acme-reasoner-large-2026   12.5     100        1.25            -"
    );
    // 120: the source goes and the aliases are cut.
    let wider = at(&sc, "120", "tt-price", &args);
    assert!(widest(&wider) <= 120, "{wider}");
    assert_eq!(
        ours(&wider),
        "USD per million tokens
model                     provider   input  output  cache read  cache write  write 1h  long context    aliases
────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────
acme-mini                 acme        0.05     0.4           -            -         -
acme-reasoner-large-2026  acme        12.5     100        1.25            -         -                  reasoner, acme-r…"
    );
    assert_eq!(at(&sc, "1000", "tt-price", &args), whole);
    // The quote's table is narrow already.
    let quote = ["--quote", "sonnet-4.5", "10000", "30000", "--format", "table"];
    assert_eq!(at(&sc, "40", "tt-price", &quote), sc.cmd("tt-price").args(quote).succeeds().stdout);
}

#[test]
fn tt_optimize_tables_leave_out_ratios_and_counts() {
    let sc = scenario();
    let args = ["--format", "table"];
    let tables = |s: &str| s[s.find("Agent efficiency").unwrap()..].to_string();
    let whole = tables(&sc.cmd("tt-optimize").args(args).succeeds().stdout);
    assert_eq!(widest(&whole), 100);
    let fitted = tables(&at(&sc, "80", "tt-optimize", &args));
    assert_eq!(
        fitted,
        "Agent efficiency (cheapest per task first)
agent        records  unpriced  tasks  cost/task     cost  vs median
────────────────────────────────────────────────────────────────────
codex              1         0      1    $0.0665  $0.0665      1.00×
claude-code        1         0      1    $0.8200  $0.8200     12.33×
review-bot         1         1      1          —        —          —

Most expensive tasks
agent        task                                  records     tokens     cost
──────────────────────────────────────────────────────────────────────────────
claude-code  0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b        1  1,295,000  $0.8200
codex        0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c        1     28,000  $0.0665
review-bot   (record a3)                                 1        790        —
"
    );
    assert!(widest(&fitted) <= 80);
    assert_eq!(tables(&at(&sc, "100", "tt-optimize", &args)), whole);
}

#[test]
fn a_table_in_a_pipe_is_whole_unless_columns_is_set() {
    let sc = scenario();
    let args = ["--by", "agent,model", "--format", "table"];
    let whole = sc.cmd("tt-sum").args(args).succeeds().stdout;
    assert_eq!(widest(&whole), 120);
    // Not a positive integer: not a width (stdout is a pipe here, so no terminal width either).
    for not_a_width in ["", "0", "-80", "80x", "wide"] {
        assert_eq!(at(&sc, not_a_width, "tt-sum", &args), whole, "COLUMNS={not_a_width:?}");
    }
    // Markdown is for files and summaries: never cut.
    let md = ["--by", "agent,model", "--format", "markdown"];
    assert_eq!(at(&sc, "40", "tt-sum", &md), sc.cmd("tt-sum").args(md).succeeds().stdout);
    // JSONL is not a table.
    assert_eq!(at(&sc, "40", "tt-sum", &["--by", "agent"]), sc.cmd("tt-sum").args(["--by", "agent"]).succeeds().stdout);
}
