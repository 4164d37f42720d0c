//! Issue 11, items 11 and 13a–c: text from a log stays inert in every output (workflow commands in text, markup
//! in markdown, formulas in CSV, with an exact CSV for databases), and the config and flags refuse what they
//! would otherwise change silently (a duplicate budget, a price with more digits than a float holds, a limit
//! past the config's bound).
mod common;
use common::Scenario;

fn rec(i: usize, agent: &str, extra: &str) -> String {
    let agent = serde_json::to_string(agent).unwrap();
    format!(
        "{{\"v\":1,\"id\":\"r{i}\",\"ts\":\"2026-11-10T12:00:00Z\",\"agent\":{agent},\"model\":\"sonnet-4.5\",\
         \"input_tokens\":1000,\"output_tokens\":0,\"cost_usd\":1{extra}}}\n"
    )
}

/// A log with one record per agent name.
fn log_of(agents: &[&str]) -> Scenario {
    let sc = Scenario::new();
    let log: String = agents.iter().enumerate().map(|(i, a)| rec(i, a, "")).collect();
    sc.write("usage.jsonl", log);
    sc
}

const COMMANDS: [&str; 5] = ["::add-mask::x", "::stop-commands::y", "::error ::z", "  ::warning::w", "##[error]v"];

/// What the GitHub Actions runner would take as a workflow command: a line starting with `::` once leading
/// blanks are trimmed, or holding `##[` (its older syntax) anywhere.
fn assert_no_command(out: &str) {
    for line in out.lines() {
        assert!(!line.trim_start().starts_with("::"), "a workflow command line: {line:?}\n{out}");
        assert!(!line.contains("##["), "a workflow command line: {line:?}\n{out}");
    }
}

#[test]
fn table_cells_never_start_a_workflow_command() {
    let sc = log_of(&COMMANDS);
    for columns in [None, Some("40")] {
        let mut run = sc.cmd("tt-sum").args(["--period", "all", "--by", "agent", "--format", "table"]);
        if let Some(c) = columns {
            run = run.env("COLUMNS", c);
        }
        let out = run.succeeds();
        assert_no_command(&out.stdout);
        // Shown, with a visible backslash, not dropped.
        assert!(out.stdout.contains("\\::add-mask::x"), "{}", out.stdout);
        assert!(out.stdout.contains("##\\[error]v"), "{}", out.stdout);
    }
    // The JSONL rows keep the values as they are.
    let rows = sc.cmd("tt-sum").args(["--period", "all", "--by", "agent"]).succeeds().jsonl();
    assert!(rows.iter().any(|r| r["group"]["agent"] == "::add-mask::x"));
    // A session column in the middle of a line is safe, but a first column left empty is not: `--by
    // project,agent` puts "(none)" first, so check a grouping whose first cell is the name itself too.
    let out = sc.cmd("tt-sum").args(["--period", "all", "--by", "agent,model", "--format", "table"]).succeeds();
    assert_no_command(&out.stdout);
}

#[test]
fn budget_tables_never_start_a_workflow_command() {
    let sc = log_of(&["::add-mask::x"]);
    for name in ["::stop-commands::y", "::error ::z"] {
        let out = sc
            .cmd("tt-budget")
            .args(["--limit-usd", "10", "--period", "total", "--scope", "agent=::add-mask::x", "--name", name])
            .args(["--format", "table"])
            .succeeds();
        assert_no_command(&out.stdout);
        assert!(out.stdout.contains(&format!("\\{name}")), "{}", out.stdout);
    }
}

const HOSTILE: [&str; 4] =
    ["<script>alert(1)</script>", "[x](javascript:alert(1))", "<img src=x onerror=alert(1)>", "a`b|c"];

/// Markdown in which none of the hostile values is live: every `<`, `[`, `]` and backtick is escaped (no tag,
/// no link, no code span).
fn assert_inert(md: &str) {
    let b = md.as_bytes();
    for (i, c) in b.iter().enumerate() {
        if matches!(c, b'<' | b'[' | b']' | b'`') {
            let backslashes = b[..i].iter().rev().take_while(|&&x| x == b'\\').count();
            assert!(backslashes % 2 == 1, "{:?} at {i} is live in:\n{md}", *c as char);
        }
    }
}

#[test]
fn tt_sum_markdown_escapes_log_values() {
    let sc = log_of(&HOSTILE);
    let md = sc.cmd("tt-sum").args(["--period", "all", "--by", "agent", "--format", "markdown"]).succeeds().stdout;
    assert_inert(&md);
    assert!(md.contains("| \\<script\\>alert(1)\\</script\\> |"), "{md}");
    assert!(md.contains("| \\[x\\](javascript:alert(1)) |"), "{md}");
    assert!(md.contains("| a\\`b\\|c |"), "{md}");
    // Every table line has the table's cells: no value split a row.
    let cells: Vec<usize> =
        md.lines().filter(|l| l.starts_with('|')).map(|l| l.replace("\\|", "").matches('|').count()).collect();
    assert!(cells.windows(2).all(|w| w[0] == w[1]), "{md}");
}

#[test]
fn tt_budget_markdown_and_job_summary_escape_log_values() {
    let sc = log_of(&HOSTILE);
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"[x](javascript:alert(1))\"\nperiod = \"total\"\nlimit_usd = 100\n\
         scope = { agent = \"<script>alert(1)</script>\" }\n\n\
         [[budget]]\nname = \"<img src=x onerror=alert(1)>\"\nperiod = \"total\"\nlimit_usd = 100\n",
    );
    let md = sc.cmd("tt-budget").args(["--format", "markdown"]).succeeds().stdout;
    assert_inert(&md);
    assert!(md.contains("\\[x\\](javascript:alert(1))"), "{md}");
    assert!(md.contains("\\<script\\>alert(1)\\</script\\>"), "{md}");
    // The job summary is the same table.
    let summary = sc.write("summary.md", "");
    sc.cmd("tt-budget")
        .args(["--format", "jsonl"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .succeeds();
    let written = sc.read("summary.md");
    assert!(written.contains("### Token budgets"), "{written}");
    assert_inert(&written);
    assert!(written.contains("\\<img src=x onerror=alert(1)\\>"), "{written}");
}

/// The CSV cell of the one group of `tt-sum --by KEY --format csv` (column 5).
fn group_cell(sc: &Scenario, key: &str, extra: &[&str]) -> String {
    let out = sc.cmd("tt-sum").args(["--period", "all", "--by", key, "--format", "csv"]).args(extra).succeeds();
    csv_rows(&out.stdout)[1][4].clone()
}

/// RFC 4180 rows (quoted fields may hold `,`, `""` and line breaks).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let (mut rows, mut row, mut cell) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => row.push(std::mem::take(&mut cell)),
            '\n' if !quoted => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            c => cell.push(c),
        }
    }
    rows
}

#[test]
fn csv_neutralises_formulas_behind_whitespace() {
    for agent in [" =1+1", "  @SUM(A1)", " -2+3", " +x", "\u{a0}=1+1"] {
        let sc = log_of(&[agent]);
        assert_eq!(group_cell(&sc, "agent", &[]), format!("'{agent}"), "{agent:?}");
    }
    // Numbers stay numbers; plain names are untouched.
    let sc = log_of(&["plain name"]);
    assert_eq!(group_cell(&sc, "agent", &[]), "plain name");
}

#[test]
fn csv_exact_writes_values_unchanged() {
    let sc = Scenario::new();
    sc.write("usage.jsonl", rec(1, "A", ",\"project\":\"-home-dev-proj0\""));
    assert_eq!(group_cell(&sc, "project", &[]), "'-home-dev-proj0");
    assert_eq!(group_cell(&sc, "project", &["--csv-exact"]), "-home-dev-proj0");
    // tt-budget too: its name and scope cells.
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "10", "--period", "total", "--scope", "project=-home-dev-proj0", "--name", "=x"])
        .args(["--format", "csv", "--csv-exact"])
        .succeeds();
    assert!(out.stdout.contains("\n=x,total,project=-home-dev-proj0,"), "{}", out.stdout);
    let out = sc
        .cmd("tt-budget")
        .args(["--limit-usd", "10", "--period", "total", "--scope", "project=-home-dev-proj0", "--name", "=x"])
        .args(["--format", "csv"])
        .succeeds();
    assert!(out.stdout.contains("\n'=x,total,project=-home-dev-proj0,"), "{}", out.stdout);
    // Only with CSV; and the help says what it is for.
    for tool in ["tt-sum", "tt-budget"] {
        sc.cmd(tool).args(["--csv-exact", "--format", "table"]).fails_with(2).stderr_has("--csv-exact");
        sc.cmd(tool).arg("--help").succeeds().stdout_has("--csv-exact").stdout_has("exactly as it is");
    }
}

#[test]
fn a_duplicate_budget_name_in_one_file_is_an_error() {
    let sc = log_of(&["A"]);
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 10\n\n\
         [[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 20\n",
    );
    sc.cmd("tt-budget")
        .args(["--format", "jsonl"])
        .fails_with(2)
        .one_error_line("tt-budget")
        .stderr_has("tt.toml:7: key `budget`: duplicate name \"team\"")
        .stderr_has("tt.toml:2");
    // Across layers a later one still replaces an earlier one of the same name.
    sc.write("tt.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 20\n");
    sc.write(".config/tt/config.toml", "[[budget]]\nname = \"team\"\nperiod = \"month\"\nlimit_usd = 10\n");
    let rows = sc.cmd("tt-budget").args(["--format", "jsonl", "--today", "2026-11-15"]).succeeds().jsonl();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["limit_usd"], 20);
}

#[test]
fn a_price_float_with_more_than_15_digits_is_an_error() {
    let sc = Scenario::new();
    sc.write("tt.toml", "# prices\n[models.claude-sonnet-4-5]\ninput = 3.0000000000000001\noutput = 15\n");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1000000", "0"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("tt.toml:3: key `models.claude-sonnet-4-5.input`")
        .stderr_has("17 significant digits")
        .stderr_has("\"3.0000000000000001\"");
    // As a string every digit is kept; 15 digits in a float are exact.
    sc.write("tt.toml", "[models.claude-sonnet-4-5]\ninput = \"3.0000000000000001\"\noutput = 15\n");
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "1000", "0"]).succeeds().stdout_has("0.0030000000000000001");
    sc.write("tt.toml", "[models.claude-sonnet-4-5]\ninput = 3.00000000000001 # 1.2345678901234567\noutput = 15.0\n");
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "1000", "0"]).succeeds().stdout_has("0.00300000000000001");
    // Budget limits and thresholds are floats too.
    sc.write("tt.toml", "[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 12.345678901234567\n");
    sc.cmd("tt-budget").fails_with(2).one_error_line("tt-budget").stderr_has("tt.toml:4: key `budget.limit_usd`");
}

#[test]
fn limit_usd_has_the_configs_bound() {
    let sc = log_of(&["A"]);
    for v in ["1e16", "1000000000000000.01", "$10000000000000000"] {
        sc.cmd("tt-budget")
            .args(["--limit-usd", v, "--format", "jsonl"])
            .fails_with(2)
            .one_error_line("tt-budget")
            .stderr_has("--limit-usd is too large: at most 1000000000000000");
    }
    let rows = sc.cmd("tt-budget").args(["--limit-usd", "1e15", "--format", "jsonl"]).succeeds().jsonl();
    assert_eq!(rows[0]["limit_usd"], serde_json::json!(1_000_000_000_000_000u64));
    sc.cmd("tt-budget")
        .args(["--limit-usd", "1", "--estimate-usd", "1e16", "--format", "jsonl"])
        .fails_with(2)
        .stderr_has("--estimate-usd is too large");
}

/// tt-export takes `--csv-exact` like tt-sum and tt-budget: values unchanged, for databases; refused with any
/// other format.
#[test]
fn tt_export_csv_exact_writes_values_unchanged() {
    let sc = Scenario::new();
    let line = r#"{"v":1,"id":"r1","ts":"2026-11-02T10:00:00Z","agent":"A","model":"sonnet-4.5","input_tokens":1,"output_tokens":1,"project":"-home-dev-proj0"}"#;
    let f = sc.write("u.jsonl", format!("{line}\n"));
    let guarded = sc.cmd("tt-export").arg(&f).args(["--format", "csv"]).succeeds().stdout;
    assert!(guarded.contains(",'-home-dev-proj0,"), "{guarded}");
    let exact = sc.cmd("tt-export").arg(&f).args(["--format", "csv", "--csv-exact"]).succeeds().stdout;
    assert!(exact.contains(",-home-dev-proj0,") && !exact.contains('\''), "{exact}");
    sc.cmd("tt-export").arg(&f).args(["--format", "jsonl", "--csv-exact"]).fails_with(2).one_error_line("tt-export");
}
