//! tt-export: every format with exact expected output, Prometheus checked by promtool, CSV loaded by DuckDB,
//! formula neutralisation, summary rows, filters, bundles, atomic -o, errors.
//!
//! The promtool checks (Debian package `prometheus`) and the DuckDB loads (Python's `duckdb` module) run when
//! the tool is installed and print one `skipped: …` line when it is not; `.ci/run` installs both and sets
//! `TT_TEST_REQUIRE_TOOLS=1`, which turns a missing tool into a failure (see `common::skipped`).
mod common;
use common::*;
use std::process::Command;

/// The usage log of the export tests: two weeks, a record without a cost (priced on the fly), an unpriced model,
/// text that needs CSV quoting, and an agent name that is a spreadsheet formula.
const LOG: &str = include_str!("fixtures/export/usage.jsonl");

/// Budgets for the markdown report: one at info, one over, one ok.
const BUDGETS: &str = r#"
[[budget]]
name = "team-monthly"
period = "month"
limit_usd = 1

[[budget]]
name = "reviewer-weekly"
period = "week"
scope = { agent = "reviewer" }
limit_usd = 0.04

[[budget]]
name = "atlas-daily-tokens"
period = "day"
scope = { agent = "ATLAS" }
limit_tokens = 100000
"#;

/// tt-sum rows (the summary-row contract) for agent × model over November.
const ROWS: &str = r#"{"kind":"summary","window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"group":{"agent":"ATLAS","model":"opus-4.5"},"records":1,"sessions":1,"input_tokens":10000,"output_tokens":2000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":12000,"cost_usd":0.1,"unpriced_records":0}
{"kind":"summary","window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"group":{"agent":"ATLAS","model":"sonnet-4.5"},"records":2,"sessions":2,"input_tokens":70000,"output_tokens":20000,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":90000,"cost_usd":0.51,"unpriced_records":0}
{"kind":"summary","window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"group":{"agent":"+reviewer","model":"gpt-4o"},"records":1,"sessions":0,"input_tokens":12000,"output_tokens":800,"cache_read_tokens":4000,"cache_write_tokens":0,"total_tokens":16800,"cost_usd":0.043,"unpriced_records":0}
{"kind":"summary","window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"},"group":{},"records":4,"sessions":2,"input_tokens":92000,"output_tokens":22800,"cache_read_tokens":4000,"cache_write_tokens":0,"total_tokens":118800,"cost_usd":0.653,"unpriced_records":0}
"#;

fn with_log() -> Scenario {
    let sc = Scenario::new();
    sc.write("usage.jsonl", LOG);
    sc
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap().trim().to_string()
}

/// Run promtool's linter on exposition text (skipped, visibly, when promtool is not installed).
fn promtool_check(text: &str) {
    use std::io::Write;
    if !tool_present("promtool", &["--version"]) {
        return skipped("promtool check metrics: promtool not installed", "apt-get install -y prometheus");
    }
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool not found: install Debian's `prometheus` package (apt-get install -y prometheus)");
    child.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success() && out.stdout.is_empty() && out.stderr.is_empty(),
        "promtool check metrics failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// True when Python's duckdb module can be imported; otherwise says the DuckDB checks are skipped.
fn have_duckdb() -> bool {
    let ok = tool_present("python3", &["-c", "import duckdb"]);
    if !ok {
        skipped("DuckDB loads: Python's duckdb module not installed", "python3 -m pip install duckdb");
    }
    ok
}

/// Run a DuckDB query from Python (callers check [`have_duckdb`] first).
fn duckdb(dir: &std::path::Path, sql: &str) -> String {
    let script = format!("import duckdb\nfor row in duckdb.connect().sql({sql:?}).fetchall(): print(*row, sep='|')");
    // DuckDB shows times with a zone in the machine's time zone: pinned, so the expected text holds anywhere.
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .env("TZ", "UTC")
        .current_dir(dir)
        .output()
        .expect("python3 not found");
    assert!(
        out.status.success(),
        "duckdb query failed (pip install duckdb):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const CSV: &str = r#"id,ts,agent,model,provider,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cache_write_1h_tokens,reasoning_tokens,total_tokens,cost_usd,price,session,task,project,branch,commit,host,user,duration_ms,source,estimated,notes,tags
019a6b00-0000-7000-8000-000000000001,2026-11-09T15:00:00.000Z,ATLAS,sonnet-4.5,,20000,5000,0,0,0,,25000,0.135,claude-sonnet-4-5,s1,,,,,laptop,,,cli,,,
019a8b00-0000-7000-8000-000000000002,2026-11-16T09:00:00.000Z,ATLAS,sonnet-4.5,,50000,15000,0,0,0,,65000,0.375,claude-sonnet-4-5,s2,,tt,,,laptop,,,cli,,"Built TokenTracker, ""fast""
second line","{""pr"":""142""}"
019a8b00-0000-7000-8000-000000000003,2026-11-17T10:30:00.000Z,ATLAS,opus-4.5,,10000,2000,0,0,0,,12000,0.1,claude-opus-4-5,s2,,tt,,,laptop,,,cli,,,
019a8b00-0000-7000-8000-000000000004,2026-11-18T11:00:00.000Z,reviewer,gpt-4o,openai,12000,800,4000,0,0,0,16800,0.043,gpt-4o,,,,,,ci,,2300,openai,,,
019a8b00-0000-7000-8000-000000000005,2026-11-19T08:00:00.000Z,"'=HYPERLINK(""http://x.invalid"",""a\b"")",mystery-model,,1000,100,0,0,0,,1100,,,,,'@ops,,,,,,estimate,true,'-2+3,
"#;

#[test]
fn csv_has_a_header_quotes_per_rfc_4180_and_neutralises_formulas() {
    let sc = with_log();
    sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout_is(CSV).stderr_is("");
    // Same from stdin and from a file argument; an empty input is the header alone.
    sc.cmd("tt-export").args(["--format", "csv"]).pipe_in(LOG).succeeds().stdout_is(CSV);
    sc.cmd("tt-export").args(["--format", "csv", "usage.jsonl"]).succeeds().stdout_is(CSV);
    sc.write("empty.jsonl", "");
    sc.cmd("tt-export")
        .args(["--format", "csv", "empty.jsonl"])
        .succeeds()
        .stdout_is(&(CSV.lines().next().unwrap().to_string() + "\n"));
}

#[test]
fn csv_loads_as_is_in_duckdb_with_exact_totals() {
    if !have_duckdb() {
        return;
    }
    let sc = with_log();
    sc.cmd("tt-export").args(["--format", "csv", "-o", "usage.csv"]).succeeds().stdout_is("");
    // Auto-detected types: integers, a timestamp, a boolean; NULL for missing values.
    assert_eq!(
        duckdb(
            sc.path(),
            "SELECT count(*), sum(input_tokens), sum(total_tokens), count(cost_usd), count(reasoning_tokens), \
             sum(CASE WHEN estimated THEN 1 ELSE 0 END), min(ts)::VARCHAR FROM 'usage.csv'"
        ),
        "5|93000|119900|4|1|1|2026-11-09 15:00:00+00\n"
    );
    // Exact money with a DECIMAL column: the same total tt computes.
    assert_eq!(
        duckdb(
            sc.path(),
            "SELECT sum(cost_usd)::VARCHAR FROM read_csv('usage.csv', types={'cost_usd': 'DECIMAL(38,10)'})"
        ),
        "0.6530000000\n"
    );
    // Text survives quoting (comma, quotes, newline) and formula cells arrive neutralised.
    assert_eq!(
        duckdb(sc.path(), "SELECT notes FROM 'usage.csv' WHERE id LIKE '%2'"),
        "Built TokenTracker, \"fast\"\nsecond line\n"
    );
    assert_eq!(
        duckdb(sc.path(), "SELECT agent, project, notes FROM 'usage.csv' WHERE model = 'mystery-model'"),
        "'=HYPERLINK(\"http://x.invalid\",\"a\\b\")|'@ops|'-2+3\n"
    );
    assert_eq!(
        duckdb(sc.path(), "SELECT agent, sum(total_tokens) FROM 'usage.csv' GROUP BY agent ORDER BY agent"),
        "'=HYPERLINK(\"http://x.invalid\",\"a\\b\")|1100\nATLAS|102000\nreviewer|16800\n"
    );
}

#[test]
fn jsonl_is_the_filtered_records_priced() {
    let sc = with_log();
    let lines: Vec<&str> = LOG.lines().collect();
    // Record 3 has no cost in the log: the export prices it (as tt-price would).
    let priced3 = lines[2].replace(r#""source":"cli"}"#, r#""source":"cli","cost_usd":0.1,"price":"claude-opus-4-5"}"#);
    sc.cmd("tt-export")
        .args([
            "--agent",
            "ATLAS",
            "--model",
            "opus-4.5",
            "--model",
            "claude-sonnet-4-5-20250929",
            "--where",
            "project=tt",
        ])
        .succeeds()
        .stdout_is(&format!("{}\n{priced3}\n", lines[1]));
    sc.cmd("tt-export")
        .args(["--format", "jsonl", "--since", "2026-11-18"])
        .succeeds()
        .stdout_is(&format!("{}\n{}\n", lines[3], lines[4]));
    sc.cmd("tt-export").args(["--where", "tag:pr=142"]).succeeds().stdout_is(&format!("{}\n", lines[1]));
    sc.cmd("tt-export")
        .args(["--period", "last-week", "--today", "2026-11-19"])
        .succeeds()
        .stdout_is(&format!("{}\n", lines[0]));
}

#[test]
fn json_is_one_report_document_with_metadata_and_totals() {
    let sc = with_log();
    let lines: Vec<&str> = LOG.lines().collect();
    let priced3 = lines[2].replace(r#""source":"cli"}"#, r#""source":"cli","cost_usd":0.1,"price":"claude-opus-4-5"}"#);
    let expected = format!(
        r#"{{
  "kind": "report",
  "generated_at": "2026-11-23T08:00:00Z",
  "tool": "tt-export {version}",
  "window": {{"period":"custom","start":"2026-11-16T00:00:00Z","end":"2026-11-19T00:00:00Z"}},
  "filter": {{"since":"2026-11-16","until":"2026-11-18","start":"2026-11-16T00:00:00Z","end":"2026-11-19T00:00:00Z"}},
  "totals": {{"records":3,"sessions":1,"input_tokens":72000,"output_tokens":17800,"cache_read_tokens":4000,"cache_write_tokens":0,"total_tokens":93800,"cost_usd":0.518,"unpriced_records":0}},
  "records": [
    {},
    {priced3},
    {}
  ]
}}
"#,
        lines[1],
        lines[3],
        version = env!("CARGO_PKG_VERSION")
    );
    let out = sc
        .cmd("tt-export")
        .args(["--format", "json", "--since", "2026-11-16", "--until", "2026-11-18"])
        .env("SOURCE_DATE_EPOCH", "1795420800")
        .succeeds()
        .stdout_is(&expected);
    // It is one valid JSON document, money exact.
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["totals"]["cost_usd"].to_string(), "0.518");
    assert_eq!(doc["records"].as_array().unwrap().len(), 3);
    // Unpriced records are counted, never $0.
    let all: serde_json::Value =
        serde_json::from_str(&sc.cmd("tt-export").args(["--format", "json"]).succeeds().stdout).unwrap();
    assert_eq!(all["totals"]["unpriced_records"], 1);
    assert_eq!(all["totals"]["cost_usd"].to_string(), "0.653");
}

const MARKDOWN: &str = r#"## Token usage: week of 2026-11-16 – 2026-11-22

### Budgets

| Budget | Window | Spent | Limit | Used | Projected | Status |
| --- | --- | ---: | ---: | ---: | ---: | --- |
| team-monthly | 2026-11-01 – 2026-11-30 | $0.6530 + 1 unpriced | $1.00 | 65.3% | $1.03 | ℹ️ info |
| reviewer-weekly (agent=reviewer) | 2026-11-16 – 2026-11-22 | $0.0430 | $0.0400 | 107.5% | $0.0752 | 🛑 **over** |
| atlas-daily-tokens (agent=ATLAS) | 2026-11-19 | 0 tokens | 100,000 tokens | 0% | 0 tokens | ✅ ok |

Unpriced records (unknown model, no `cost_usd`) are not in the dollars: the spend of team-monthly is a lower bound.

### This week

**4 records · 94,900 tokens · $0.5180** (1 record unpriced, not in the cost)

#### By agent

| Agent | Records | Input | Output | Cache read | Cache write | Tokens | Cost | Share |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ATLAS | 2 | 60,000 | 17,000 | 0 | 0 | 77,000 | $0.4750 | 91.7% |
| reviewer | 1 | 12,000 | 800 | 4,000 | 0 | 16,800 | $0.0430 | 8.3% |
| =HYPERLINK("http://x.invalid","a\\b") | 1 | 1,000 | 100 | 0 | 0 | 1,100 | – | – |
| **Total** | 4 | 73,000 | 17,900 | 4,000 | 0 | 94,900 | $0.5180 + 1 unpriced | 100% |

#### By model

| Model | Records | Input | Output | Cache read | Cache write | Tokens | Cost | Share |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| sonnet-4.5 | 1 | 50,000 | 15,000 | 0 | 0 | 65,000 | $0.3750 | 72.4% |
| opus-4.5 | 1 | 10,000 | 2,000 | 0 | 0 | 12,000 | $0.1000 | 19.3% |
| gpt-4o | 1 | 12,000 | 800 | 4,000 | 0 | 16,800 | $0.0430 | 8.3% |
| mystery-model | 1 | 1,000 | 100 | 0 | 0 | 1,100 | – | – |
| **Total** | 4 | 73,000 | 17,900 | 4,000 | 0 | 94,900 | $0.5180 + 1 unpriced | 100% |

"#;

#[test]
fn markdown_is_the_weekly_team_report() {
    let sc = with_log();
    sc.write("tt.toml", BUDGETS);
    sc.cmd("tt-export").args(["--format", "markdown", "--today", "2026-11-19"]).succeeds().stdout_is(MARKDOWN);
    // Appended to the CI summary file with -o? No: -o replaces; scripts append with >> (see tt_report).
    sc.cmd("tt-export").args(["--format", "md", "--today", "2026-11-19", "-o", "report.md"]).succeeds().stdout_is("");
    assert_eq!(sc.read("report.md"), MARKDOWN);
    // Without budgets, and for a quiet week.
    let sc = with_log();
    sc.cmd("tt-export")
        .args(["--format", "markdown", "--today", "2026-12-02"])
        .succeeds()
        .stdout_is("## Token usage: week of 2026-11-30 – 2026-12-06\n\n### Budgets\n\nNo budgets configured (see `[[budget]]` in tt.toml).\n\n### This week\n\n**0 records · 0 tokens · $0.0000**\n\n");
}

const PROMETHEUS: &str = r#"# HELP tt_tokens_total Tokens used, by agent, model and token type.
# TYPE tt_tokens_total counter
tt_tokens_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model",type="input"} 1000
tt_tokens_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model",type="output"} 100
tt_tokens_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model",type="cache_read"} 0
tt_tokens_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model",type="cache_write"} 0
tt_tokens_total{agent="ATLAS",model="opus-4.5",type="input"} 10000
tt_tokens_total{agent="ATLAS",model="opus-4.5",type="output"} 2000
tt_tokens_total{agent="ATLAS",model="opus-4.5",type="cache_read"} 0
tt_tokens_total{agent="ATLAS",model="opus-4.5",type="cache_write"} 0
tt_tokens_total{agent="ATLAS",model="sonnet-4.5",type="input"} 70000
tt_tokens_total{agent="ATLAS",model="sonnet-4.5",type="output"} 20000
tt_tokens_total{agent="ATLAS",model="sonnet-4.5",type="cache_read"} 0
tt_tokens_total{agent="ATLAS",model="sonnet-4.5",type="cache_write"} 0
tt_tokens_total{agent="reviewer",model="gpt-4o",type="input"} 12000
tt_tokens_total{agent="reviewer",model="gpt-4o",type="output"} 800
tt_tokens_total{agent="reviewer",model="gpt-4o",type="cache_read"} 4000
tt_tokens_total{agent="reviewer",model="gpt-4o",type="cache_write"} 0
# HELP tt_cost_usd_total Priced cost in US dollars, by agent and model (records of models without a price are not in it: see tt_unpriced_records_total).
# TYPE tt_cost_usd_total counter
tt_cost_usd_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model"} 0
tt_cost_usd_total{agent="ATLAS",model="opus-4.5"} 0.1
tt_cost_usd_total{agent="ATLAS",model="sonnet-4.5"} 0.51
tt_cost_usd_total{agent="reviewer",model="gpt-4o"} 0.043
# HELP tt_records_total Usage records, by agent and model.
# TYPE tt_records_total counter
tt_records_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model"} 1
tt_records_total{agent="ATLAS",model="opus-4.5"} 1
tt_records_total{agent="ATLAS",model="sonnet-4.5"} 2
tt_records_total{agent="reviewer",model="gpt-4o"} 1
# HELP tt_unpriced_records_total Usage records whose model has no price, by agent and model.
# TYPE tt_unpriced_records_total counter
tt_unpriced_records_total{agent="=HYPERLINK(\"http://x.invalid\",\"a\\b\")",model="mystery-model"} 1
tt_unpriced_records_total{agent="ATLAS",model="opus-4.5"} 0
tt_unpriced_records_total{agent="ATLAS",model="sonnet-4.5"} 0
tt_unpriced_records_total{agent="reviewer",model="gpt-4o"} 0
"#;

#[test]
fn prometheus_exposition_passes_promtool_and_escapes_labels() {
    let sc = with_log();
    let out = sc.cmd("tt-export").args(["--format", "prometheus"]).succeeds().stdout_is(PROMETHEUS);
    promtool_check(&out.stdout);
}

#[test]
fn prometheus_file_is_replaced_atomically() {
    let sc = with_log();
    std::fs::create_dir(sc.path().join("textfile")).unwrap();
    sc.write("textfile/tt.prom", "old contents\n");
    sc.cmd("tt-export").args(["--format", "prometheus", "-o", "textfile/tt.prom"]).succeeds().stdout_is("");
    assert_eq!(sc.read("textfile/tt.prom"), PROMETHEUS);
    // Nothing else is left in the collector's directory (the temporary file was renamed, not copied).
    let names: Vec<String> = std::fs::read_dir(sc.path().join("textfile"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["tt.prom"]);
    // A failed export leaves the old file alone and no temporary file behind.
    sc.write("bad.jsonl", "{\"v\":1}\n");
    sc.cmd("tt-export")
        .args(["--format", "prometheus", "-o", "textfile/tt.prom", "bad.jsonl"])
        .fails_with(2)
        .one_error_line("tt-export");
    assert_eq!(sc.read("textfile/tt.prom"), PROMETHEUS);
    assert_eq!(std::fs::read_dir(sc.path().join("textfile")).unwrap().count(), 1);
    // A directory that does not exist is an error naming the file the user gave (not the temporary one).
    for (format, target) in [("prometheus", "nowhere/tt.prom"), ("csv", "nodir/x.csv")] {
        sc.cmd("tt-export")
            .args(["--format", format, "-o", target])
            .fails_with(2)
            .one_error_line("tt-export")
            .stderr_is(&format!(
                "tt-export: error: -o {target}: no such directory: {}\n",
                target.split_once('/').unwrap().0
            ));
    }
    sc.cmd("tt-export")
        .args(["--bundle", "-o", "nodir/x.ttb"])
        .fails_with(2)
        .stderr_is("tt-export: error: -o nodir/x.ttb: no such directory: nodir\n");
}

#[test]
fn summary_rows_export_in_every_format() {
    let sc = Scenario::new();
    sc.write("rows.jsonl", ROWS);
    sc.cmd("tt-export").args(["--format", "jsonl", "rows.jsonl"]).succeeds().stdout_is(ROWS);
    sc.cmd("tt-export").args(["--format", "csv", "rows.jsonl"]).succeeds().stdout_is(
        "kind,period,start,end,agent,model,records,sessions,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups
group,month,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,ATLAS,opus-4.5,1,1,10000,2000,0,0,12000,0.1,0,
group,month,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,ATLAS,sonnet-4.5,2,2,70000,20000,0,0,90000,0.51,0,
group,month,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,'+reviewer,gpt-4o,1,0,12000,800,4000,0,16800,0.043,0,
total,month,2026-11-01T00:00:00Z,2026-12-01T00:00:00Z,,,4,2,92000,22800,4000,0,118800,0.653,0,0
",
    );
    let rows: Vec<String> = ROWS.lines().map(|l| format!("    {l}")).collect();
    sc.cmd("tt-export")
        .args(["--format", "json", "rows.jsonl"])
        .env("SOURCE_DATE_EPOCH", "1795420800")
        .succeeds()
        .stdout_is(&format!(
            "{{\n  \"kind\": \"report\",\n  \"generated_at\": \"2026-11-23T08:00:00Z\",\n  \"tool\": \"tt-export {}\",\n  \
             \"window\": {{\"period\":\"month\",\"start\":\"2026-11-01T00:00:00Z\",\"end\":\"2026-12-01T00:00:00Z\"}},\n  \
             \"filter\": {{}},\n  \
             \"totals\": {{\"records\":4,\"sessions\":2,\"input_tokens\":92000,\"output_tokens\":22800,\"cache_read_tokens\":4000,\"cache_write_tokens\":0,\"total_tokens\":118800,\"cost_usd\":0.653,\"unpriced_records\":0}},\n  \
             \"rows\": [\n{}\n  ]\n}}\n",
            env!("CARGO_PKG_VERSION"),
            rows.join(",\n")
        ));
    sc.write("tt.toml", BUDGETS);
    sc.cmd("tt-export").args(["--format", "markdown", "--today", "2026-11-19", "rows.jsonl"]).succeeds().stdout_is(
        "## Token usage: month 2026-11-01 – 2026-11-30

### Budgets

| Budget | Window | Spent | Limit | Used | Projected | Status |
| --- | --- | ---: | ---: | ---: | ---: | --- |
| team-monthly | 2026-11-01 – 2026-11-30 | $0.6530 | $1.00 | 65.3% | $1.03 | ℹ️ info |

### Usage

| Agent | Model | Records | Input | Output | Cache read | Cache write | Tokens | Cost |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ATLAS | opus-4.5 | 1 | 10,000 | 2,000 | 0 | 0 | 12,000 | $0.1000 |
| ATLAS | sonnet-4.5 | 2 | 70,000 | 20,000 | 0 | 0 | 90,000 | $0.5100 |
| +reviewer | gpt-4o | 1 | 12,000 | 800 | 4,000 | 0 | 16,800 | $0.0430 |
| **Total** |  | 4 | 92,000 | 22,800 | 4,000 | 0 | 118,800 | $0.6530 |
",
    );
    // Prometheus takes all-time rows only: a month's series would vanish when the month ends (a counter reset).
    sc.cmd("tt-export")
        .args(["--format", "prometheus", "rows.jsonl"])
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_has("these rows cover a month window");
    let all_time = ROWS.replace(
        r#""window":{"period":"month","start":"2026-11-01T00:00:00Z","end":"2026-12-01T00:00:00Z"}"#,
        r#""window":{"period":"all","start":null,"end":null}"#,
    );
    sc.write("rows-all.jsonl", &all_time);
    let out = sc.cmd("tt-export").args(["--format", "prometheus", "rows-all.jsonl"]).succeeds();
    assert!(out.stdout.contains("tt_cost_usd_total{agent=\"ATLAS\",model=\"sonnet-4.5\"} 0.51\n"), "{}", out.stdout);
    assert!(out.stdout.contains("tt_tokens_total{agent=\"+reviewer\",model=\"gpt-4o\",type=\"cache_read\"} 4000\n"));
    promtool_check(&out.stdout);
}

#[test]
fn bundle_has_metadata_checksum_and_the_records_as_logged() {
    let sc = with_log();
    let out = sc
        .cmd("tt-export")
        .args(["--bundle", "--period", "week", "--today", "2026-11-19", "--agent", "ATLAS"])
        .env("SOURCE_DATE_EPOCH", "1795420800")
        .succeeds();
    let lines: Vec<&str> = LOG.lines().collect();
    // Records go into a bundle exactly as logged (record 3 stays unpriced: the receiving side prices it).
    let body = format!("{}\n{}\n", lines[1], lines[2]);
    let sum = {
        use std::io::Write;
        let mut c = Command::new("sha256sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        String::from_utf8(c.wait_with_output().unwrap().stdout).unwrap()[..64].to_string()
    };
    assert_eq!(
        out.stdout,
        format!(
            "{{\"kind\":\"bundle\",\"bundle_version\":1,\"exported_at\":\"2026-11-23T08:00:00Z\",\"exported_by\":\"tester\",\
             \"host\":\"{}\",\"tool\":\"tt-export {}\",\"filter\":{{\"period\":\"week\",\"start\":\"2026-11-16T00:00:00Z\",\
             \"end\":\"2026-11-23T00:00:00Z\",\"agent\":[\"ATLAS\"]}},\"records\":2,\"checksum\":\"sha256:{sum}\"}}\n{body}",
            host(),
            env!("CARGO_PKG_VERSION")
        )
    );
}

#[test]
fn bundle_to_a_file_leaves_nothing_else_behind() {
    let sc = with_log();
    std::fs::create_dir(sc.path().join("out")).unwrap();
    let stdout = sc.cmd("tt-export").args(["--bundle"]).env("SOURCE_DATE_EPOCH", "1795420800").succeeds().stdout;
    sc.cmd("tt-export")
        .args(["--bundle", "-o", "out/all.ttb"])
        .env("SOURCE_DATE_EPOCH", "1795420800")
        .succeeds()
        .stdout_is("");
    assert_eq!(sc.read("out/all.ttb"), stdout);
    assert_eq!(stdout.lines().count(), 6);
    let names: Vec<String> = std::fs::read_dir(sc.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["all.ttb"]);
}

#[test]
fn bad_input_is_refused_with_file_and_line() {
    let sc = with_log();
    sc.write("bad.jsonl", format!("{}\n{{\"v\":1,\"id\":\"x\"}}\n", LOG.lines().next().unwrap()));
    sc.cmd("tt-export")
        .args(["--format", "csv", "bad.jsonl"])
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_is("tt-export: error: bad.jsonl:2: missing field `ts` (tt-log --repair moves bad lines aside)\n");
    sc.write("rows.jsonl", ROWS);
    sc.cmd("tt-export")
        .args(["--format", "csv", "--agent", "ATLAS", "rows.jsonl"])
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_has("rows.jsonl:1: --period/--since/--until/--agent/--model/--where select records");
    sc.cmd("tt-export").args(["--bundle", "rows.jsonl"]).fails_with(2).stderr_has("bundles carry usage records");
    sc.write("mixed.jsonl", format!("{}{ROWS}", LOG.lines().next().unwrap().to_string() + "\n"));
    sc.cmd("tt-export").args(["mixed.jsonl"]).fails_with(2).stderr_is(
        "tt-export: error: mixed.jsonl:2: a tt-sum summary row among usage records: export one or the other (tt-log --repair moves bad lines aside)\n",
    );
    sc.cmd("tt-export").args(["--where", "cost_usd=1"]).fails_with(2).one_error_line("tt-export");
    sc.cmd("tt-export").args(["--format", "xml"]).fails_with(2);
}

#[test]
fn tt_sum_rows_pipe_into_tt_export() {
    let sc = with_log();
    let out = sc.bash("set -euo pipefail\ntt-sum --by agent,model --format jsonl | tt-export --format csv").succeeds();
    let lines: Vec<&str> = out.stdout.lines().collect();
    // The same CSV as tt-sum's own (one writer, `tt_core::aggregate::write_csv`).
    assert_eq!(
        lines[0],
        "kind,period,start,end,agent,model,records,sessions,input_tokens,output_tokens,cache_read_tokens,\
         cache_write_tokens,total_tokens,cost_usd,unpriced_records,omitted_groups"
    );
    let direct = sc.cmd("tt-sum").args(["--by", "agent,model", "--format", "csv"]).succeeds().stdout;
    assert_eq!(out.stdout, direct);
    assert!(lines.contains(&"group,all,,,ATLAS,sonnet-4.5,2,2,70000,20000,0,0,90000,0.51,0,"), "{}", out.stdout);
    assert_eq!(*lines.last().unwrap(), "total,all,,,,,5,2,93000,22900,4000,0,119900,0.653,1,0");
    // The Prometheus counters of the rows equal those of the records.
    let from_rows =
        sc.bash("set -euo pipefail\ntt-sum --by agent,model --format jsonl | tt-export --format prometheus").succeeds();
    assert_eq!(from_rows.stdout, PROMETHEUS);
}

#[test]
fn o_follows_a_symlink_and_keeps_it_a_link() {
    use std::os::unix::fs::symlink;
    let sc = with_log();
    std::fs::create_dir(sc.path().join("textfile")).unwrap();
    sc.write("textfile/real.prom", "old contents\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(sc.path().join("textfile/real.prom"), std::fs::Permissions::from_mode(0o640)).unwrap();
    symlink("real.prom", sc.path().join("textfile/link.prom")).unwrap();
    sc.cmd("tt-export").args(["--format", "prometheus", "-o", "textfile/link.prom"]).succeeds().stdout_is("");
    // The file the link names is replaced (atomically, next to itself); the link is still a link.
    let link = std::fs::symlink_metadata(sc.path().join("textfile/link.prom")).unwrap();
    assert!(link.file_type().is_symlink());
    assert_eq!(sc.read("textfile/real.prom"), PROMETHEUS);
    // with the permissions it had.
    let mode = std::fs::metadata(sc.path().join("textfile/real.prom")).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o640);
    // A link to a file that does not exist yet creates that file.
    symlink("later.prom", sc.path().join("textfile/dangling.prom")).unwrap();
    sc.cmd("tt-export").args(["--format", "prometheus", "-o", "textfile/dangling.prom"]).succeeds();
    assert!(std::fs::symlink_metadata(sc.path().join("textfile/dangling.prom")).unwrap().file_type().is_symlink());
    assert_eq!(sc.read("textfile/later.prom"), PROMETHEUS);
    let mut names: Vec<String> = std::fs::read_dir(sc.path().join("textfile"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["dangling.prom", "later.prom", "link.prom", "real.prom"]);
}

#[test]
fn o_writes_into_a_fifo_or_a_device_instead_of_replacing_it() {
    use std::os::unix::fs::FileTypeExt;
    let sc = with_log();
    // A FIFO (a reader waiting on it): written to, still a FIFO afterwards.
    let out = sc
        .bash(
            "set -euo pipefail\nmkfifo pipe.prom\ntimeout 20 cat pipe.prom > got.prom &\n\
             tt-export --format prometheus -o pipe.prom\nwait\necho done",
        )
        .succeeds()
        .stdout_is("done\n");
    assert_eq!(out.stderr, "");
    assert!(std::fs::symlink_metadata(sc.path().join("pipe.prom")).unwrap().file_type().is_fifo());
    assert_eq!(sc.read("got.prom"), PROMETHEUS);
    // /dev/stdout and /dev/fd/1 are the process's standard output, not files to replace (which as root would
    // replace the device node, and otherwise fails on /dev/.stdout.tmp).
    sc.cmd("tt-export").args(["--format", "prometheus", "-o", "/dev/stdout"]).succeeds().stdout_is(PROMETHEUS);
    sc.cmd("tt-export").args(["--format", "prometheus", "-o", "/dev/fd/1"]).succeeds().stdout_is(PROMETHEUS);
    let bundle = sc.cmd("tt-export").args(["--bundle", "-o", "/dev/stdout"]).succeeds().stdout;
    assert_eq!(bundle.lines().count(), 6);
    assert!(std::fs::symlink_metadata("/dev/stdout").unwrap().file_type().is_symlink());
}

#[test]
fn csv_neutralises_tab_and_cr_cells_too() {
    let sc = Scenario::new();
    let rec = |n: u64, notes: &str| {
        format!(
            r#"{{"v":1,"id":"019a8b00-0000-7000-8000-00000000010{n}","ts":"2026-11-18T10:00:00.000Z","agent":"ATLAS","model":"mystery-model","input_tokens":1,"output_tokens":1,"notes":{}}}
"#,
            serde_json::Value::String(notes.to_string())
        )
    };
    sc.write(
        "usage.jsonl",
        [
            rec(1, "\t=cmd()"),
            rec(2, "\r=cmd()"),
            rec(3, "=1+1"),
            rec(4, "+1"),
            rec(5, "-1+1"),
            rec(6, "@SUM(A1)"),
            rec(7, "-12.5"),
            rec(8, "plain"),
        ]
        .concat(),
    );
    let out = sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout;
    // Each row ends `…,source,estimated,notes,tags` with source, estimated and tags empty: notes is the cell
    // between `,,` and the final `,`.
    let note = |row: &str| row.strip_suffix(',').unwrap().rsplit_once(",,").unwrap().1.to_string();
    assert_eq!(
        out.split_terminator('\n').skip(1).map(note).collect::<Vec<_>>(),
        ["'\t=cmd()", "\"'\r=cmd()\"", "'=1+1", "'+1", "'-1+1", "'@SUM(A1)", "-12.5", "plain"]
    );
}

#[test]
fn a_bundle_made_in_a_git_repository_names_its_branch_and_commit() {
    let sc = with_log();
    let git = |args: &str| {
        let out = sc
            .bash(&format!(
                "cd repo && git -c user.name=t -c user.email=t@example.invalid -c init.defaultBranch=trunk {args}"
            ))
            .succeeds();
        out.stdout.trim().to_string()
    };
    std::fs::create_dir(sc.path().join("repo")).unwrap();
    git("init -q");
    git("commit -q --allow-empty -m first");
    git("checkout -q -b feature/export");
    git("commit -q --allow-empty -m second");
    let commit = git("rev-parse HEAD");
    let header = |sc: &Scenario| -> serde_json::Value {
        let out = sc
            .cmd("tt-export")
            .args(["--bundle", "--log"])
            .arg(sc.path().join("usage.jsonl"))
            .current_dir(sc.path().join("repo"))
            .succeeds();
        serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap()
    };
    let h = header(&sc);
    assert_eq!((h["branch"].as_str(), h["commit"].as_str()), (Some("feature/export"), Some(commit.as_str())));
    // From a subdirectory, with the refs packed (as `git gc` leaves them), and on a detached HEAD (commit only).
    git("pack-refs --all");
    std::fs::create_dir(sc.path().join("repo/sub")).unwrap();
    let out = sc
        .cmd("tt-export")
        .args(["--bundle", "--log"])
        .arg(sc.path().join("usage.jsonl"))
        .current_dir(sc.path().join("repo/sub"))
        .succeeds();
    let h: serde_json::Value = serde_json::from_str(out.stdout.lines().next().unwrap()).unwrap();
    assert_eq!((h["branch"].as_str(), h["commit"].as_str()), (Some("feature/export"), Some(commit.as_str())));
    git("checkout -q --detach HEAD~1");
    let first = git("rev-parse HEAD");
    let h = header(&sc);
    assert_eq!((h.get("branch"), h["commit"].as_str()), (None, Some(first.as_str())));
    // Outside a repository: neither.
    let h: serde_json::Value =
        serde_json::from_str(sc.cmd("tt-export").args(["--bundle"]).succeeds().stdout.lines().next().unwrap()).unwrap();
    assert_eq!((h.get("branch"), h.get("commit")), (None, None));
}

#[test]
fn prometheus_refuses_rows_not_grouped_by_agent_and_model() {
    let sc = with_log();
    // Rows by day would be merged into one series with empty labels: refused, saying what to run instead.
    sc.bash("tt-sum --by day --format jsonl 2>/dev/null | tt-export --format prometheus")
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_is(
            "tt-export: error: prometheus needs records or tt-sum rows grouped by agent and model (tt-sum --by \
             agent,model); these rows are grouped by day\n",
        );
    sc.bash("tt-sum --by agent --format jsonl 2>/dev/null | tt-export --format prometheus")
        .fails_with(2)
        .stderr_has("these rows are grouped by agent\n");
    sc.bash("tt-sum --by day,agent,model --format jsonl 2>/dev/null | tt-export --format prometheus")
        .fails_with(2)
        .stderr_has("these rows are grouped by day,agent,model\n");
    sc.bash("tt-sum --format jsonl 2>/dev/null | tt-export --format prometheus -o tt.prom")
        .fails_with(2)
        .stderr_has("these are totals only\n");
    assert!(!sc.path().join("tt.prom").exists());
    // Grouped by model,agent (either order) is fine.
    let out = sc.bash("tt-sum --by model,agent --format jsonl 2>/dev/null | tt-export --format prometheus").succeeds();
    assert_eq!(out.stdout, PROMETHEUS);
}

/// A record line of `model` with `input` tokens (no cost: priced on the fly, or unpriced).
fn rec(n: u64, agent: &str, model: &str, input: &str) -> String {
    format!(
        r#"{{"v":1,"id":"019a8b00-0000-7000-8000-0000000002{n:02}","ts":"2026-11-18T10:00:00.000Z","agent":"{agent}","model":"{model}","input_tokens":{input},"output_tokens":1}}
"#
    )
}

#[test]
fn sums_too_large_to_be_exact_are_exit_2_in_every_summing_format() {
    let sc = Scenario::new();
    // Each record is valid; their sum (2.7e19 tokens) is not a u64. tt-sum refuses it, and so must every
    // format that prints sums — never saturated, never with the record that did not fit left out.
    let big = "9000000000000000000";
    sc.write(
        "usage.jsonl",
        [rec(1, "A", "sonnet-4.5", big), rec(2, "A", "sonnet-4.5", big), rec(3, "A", "sonnet-4.5", big)].concat(),
    );
    sc.cmd("tt-sum").fails_with(2).stderr_has("too large to be exact");
    let err = format!(
        "tt-export: error: the sums are too large to be exact (tokens past {}, or dollars past {}): is a record's \
         count or cost wrong?\n",
        u64::MAX,
        "79228162514264337593543950335"
    );
    for format in ["json", "markdown", "prometheus"] {
        sc.cmd("tt-export")
            .args(["--format", format, "--period", "all", "-o", "out"])
            .fails_with(2)
            .one_error_line("tt-export")
            .stderr_is(&err);
        assert!(!sc.path().join("out").exists(), "{format}");
    }
    // Each record alone is exact: the per-record formats still export them.
    assert_eq!(sc.cmd("tt-export").args(["--format", "csv"]).succeeds().stdout.lines().count(), 4);
    sc.cmd("tt-export").succeeds();
    // Rows of two tt-sum runs whose sums together overflow: refused too (json sums rows without a total).
    let row = |agent: &str| {
        format!(
            r#"{{"kind":"summary","window":{{"period":"all","start":null,"end":null}},"group":{{"agent":"{agent}","model":"m"}},"records":1,"sessions":0,"input_tokens":10000000000000000000,"output_tokens":0,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":10000000000000000000,"cost_usd":0,"unpriced_records":1}}
"#
        )
    };
    sc.write("rows.jsonl", [row("A"), row("A")].concat());
    for format in ["json", "prometheus"] {
        sc.cmd("tt-export")
            .args(["--format", format, "rows.jsonl"])
            .fails_with(2)
            .one_error_line("tt-export")
            .stderr_is(&err);
    }
    sc.write("rows2.jsonl", [row("A"), row("B")].concat());
    sc.cmd("tt-export").args(["--format", "prometheus", "rows2.jsonl"]).succeeds();
}

#[test]
fn unpriced_is_never_shown_as_zero_dollars_in_the_report() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            rec(1, "ghost", "mystery-model", "1000"),
            rec(2, "ghost", "mystery-model", "2000"),
            rec(3, "ATLAS", "sonnet-4.5", "100000"),
            rec(4, "ATLAS", "mystery-model", "500"),
        ]
        .concat(),
    );
    // From tt-sum rows: an all-unpriced group is "–", a partly unpriced one says what its dollars leave out.
    let out = sc.bash("tt-sum --by agent --format jsonl 2>/dev/null | tt-export --format markdown").succeeds();
    assert_eq!(
        out.stdout,
        "## Token usage: all time

| Agent | Records | Input | Output | Cache read | Cache write | Tokens | Cost |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ATLAS | 2 | 100,500 | 2 | 0 | 0 | 100,502 | $0.3000 + 1 unpriced |
| ghost | 2 | 3,000 | 2 | 0 | 0 | 3,002 | – |
| **Total** | 4 | 103,500 | 4 | 0 | 0 | 103,504 | $0.3000 + 3 unpriced |

3 records unpriced, not in the cost.
"
    );
    // A budget whose window holds only unpriced records: no "$0.0000 … ok" without a word — the spend is "–"
    // with the count, and the report says the dollars are a lower bound (as tt-budget warns).
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"team-monthly\"\nperiod = \"month\"\nlimit_usd = 1\n\n\
         [[budget]]\nname = \"ghost-monthly\"\nperiod = \"month\"\nscope = { agent = \"ghost\" }\nlimit_usd = 1\n",
    );
    let out = sc.cmd("tt-export").args(["--format", "markdown", "--today", "2026-11-19"]).succeeds();
    assert!(
        out.stdout.contains(
            "| team-monthly | 2026-11-01 – 2026-11-30 | $0.3000 + 3 unpriced | $1.00 | 30% | $0.4737 | ✅ ok |\n\
             | ghost-monthly (agent=ghost) | 2026-11-01 – 2026-11-30 | – (2 unpriced) | $1.00 | 0% | – | ✅ ok |\n\n\
             Unpriced records (unknown model, no `cost_usd`) are not in the dollars: the spend of team-monthly, \
             ghost-monthly is a lower bound.\n"
        ),
        "{}",
        out.stdout
    );
    // The same budgets from rows.
    let out = sc
        .bash("tt-sum --period month --today 2026-11-19 --by agent --format jsonl 2>/dev/null | tt-export --format md --today 2026-11-19")
        .succeeds();
    assert!(
        out.stdout.contains("| ghost-monthly (agent=ghost) | 2026-11-01 – 2026-11-30 | – (2 unpriced) |"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("the spend of team-monthly, ghost-monthly is a lower bound"), "{}", out.stdout);
    // A week of only unpriced records: the headline's dollars are "–" too.
    sc.write("ghost.jsonl", [rec(1, "ghost", "mystery-model", "1000")].concat());
    let out =
        sc.cmd("tt-export").args(["--format", "markdown", "--today", "2026-11-19", "--log", "ghost.jsonl"]).succeeds();
    assert!(
        out.stdout.contains("**1 record · 1,001 tokens · –** (1 record unpriced, not in the cost)\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("| ghost | 1 | 1,000 | 1 | 0 | 0 | 1,001 | – | 100.0% |\n"), "{}", out.stdout);
    // Prometheus keeps the priced cost (0) and counts the rest; its HELP says so.
    let out = sc.cmd("tt-export").args(["--format", "prometheus"]).succeeds();
    assert!(out.stdout.contains("tt_cost_usd_total{agent=\"ghost\",model=\"mystery-model\"} 0\n"));
    assert!(out.stdout.contains("tt_unpriced_records_total{agent=\"ghost\",model=\"mystery-model\"} 2\n"));
    assert!(out.stdout.contains("# HELP tt_cost_usd_total Priced cost in US dollars"));
    promtool_check(&out.stdout);
}

/// The exposition of no records: every family's HELP and TYPE, no samples.
fn empty_exposition() -> String {
    PROMETHEUS.lines().filter(|l| l.starts_with('#')).map(|l| format!("{l}\n")).collect()
}

#[test]
fn prometheus_from_rows_refuses_top_and_writes_an_empty_exposition_for_no_records() {
    let sc = with_log();
    // Rows cut by --top would make series disappear and counters go down: refused, nothing written.
    sc.bash("tt-sum --by agent,model --top 2 --format jsonl 2>/dev/null | tt-export --format prometheus -o tt.prom")
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_is(
            "tt-export: error: prometheus needs every group, but these rows were cut by --top (2 groups left out): \
             series would disappear and counters go down (run tt-sum without --top)\n",
        );
    assert!(!sc.path().join("tt.prom").exists());
    // Other formats show a --top cut as it is.
    sc.bash("set -o pipefail; tt-sum --by agent,model --top 2 --format jsonl 2>/dev/null | tt-export --format csv")
        .succeeds();
    // A fresh install (no log yet) and a quiet window: the rows hold only a total of 0 records, and the
    // exposition is the same valid, empty one the records path writes — a cron pipeline must not fail.
    let empty = empty_exposition();
    let fresh = Scenario::new();
    fresh.cmd("tt-export").args(["--format", "prometheus"]).succeeds().stdout_is(&empty);
    fresh
        .bash("set -euo pipefail\ntt-sum --by agent,model --format jsonl | tt-export --format prometheus -o tt.prom")
        .succeeds()
        .stdout_is("");
    assert_eq!(fresh.read("tt.prom"), empty);
    promtool_check(&empty);
    // A time window is refused, for records and rows alike: its series would vanish when the window moves on.
    sc.bash(
        "set -euo pipefail\ntt-sum --by agent,model --since 2027-01-01 --format jsonl | tt-export --format prometheus",
    )
    .fails_with(2)
    .stderr_has("these rows cover a custom window");
    sc.cmd("tt-export")
        .args(["--format", "prometheus", "--period", "month"])
        .fails_with(2)
        .one_error_line("tt-export")
        .stderr_has("prometheus exports the whole log");
    sc.cmd("tt-export").args(["--format", "prometheus", "--period", "all"]).succeeds();
    // Totals of real records are still refused: they cannot be labelled by agent and model.
    sc.bash("tt-sum --format jsonl 2>/dev/null | tt-export --format prometheus")
        .fails_with(2)
        .stderr_has("these are totals only\n");
}

#[test]
fn help_duckdb_example_reads_money_as_decimal() {
    let sc = with_log();
    let help = sc.cmd("tt-export").arg("--help").succeeds().stdout;
    let at = help.find("duckdb -c \"").expect("no duckdb example in --help") + "duckdb -c \"".len();
    // The SQL between the double quotes (it spans two lines, as a shell reads it).
    let sql = &help[at..at + help[at..].find('"').unwrap()];
    assert!(sql.contains("types = {'cost_usd': 'DECIMAL(38,10)'}"), "{sql}");
    // It runs as written and gives tt's exact total.
    sc.cmd("tt-export").args(["--format", "csv", "-o", "usage.csv"]).succeeds();
    if !have_duckdb() {
        return;
    }
    assert_eq!(duckdb(sc.path(), &format!("SELECT sum(c)::VARCHAR FROM ({sql}) AS t(a, c)")), "0.6530000000\n");
}

/// With `--today`, the json document says where counting stopped: the window's bounds stay the period's, and
/// `counted_until` is the pinned "now" (records after it are left out, as in tt-sum).
#[test]
fn the_json_document_says_where_today_cut_the_window() {
    let sc = Scenario::new();
    sc.write(
        "usage.jsonl",
        [
            "{\"v\":1,\"id\":\"a\",\"ts\":\"2026-11-18T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":1}\n",
            "{\"v\":1,\"id\":\"b\",\"ts\":\"2026-11-21T10:00:00Z\",\"agent\":\"A\",\"model\":\"m\",\"input_tokens\":1,\"output_tokens\":1,\"cost_usd\":2}\n",
        ]
        .concat(),
    );
    let out = sc.cmd("tt-export").args(["--format", "json", "--period", "week", "--today", "2026-11-20"]).succeeds();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        doc["window"].to_string(),
        r#"{"period":"week","start":"2026-11-16T00:00:00Z","end":"2026-11-23T00:00:00Z","counted_until":"2026-11-21T00:00:00Z"}"#
    );
    assert_eq!(doc["totals"]["records"], 1);
    let out = sc.cmd("tt-export").args(["--format", "json", "--period", "week", "--today", "2026-11-22"]).succeeds();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(doc["totals"]["records"], 2);
}
