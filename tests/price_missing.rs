//! tt-price --missing: the models records name without a price, and the --fail-missing gate.
mod common;
use common::*;

/// Priced (`sonnet-4.5`), unknown in two spellings (`claude-quill-9`), a typo one edit from an alias
/// (`sonet-4.5`), and records that carry their own cost (`house-model`, and one `claude-quill-9`): those are
/// priced whatever their model, and not listed.
const MIXED: &str = r#"{"v":1,"id":"r1","ts":"2026-03-01T09:00:00Z","agent":"A","model":"sonnet-4.5","input_tokens":1000,"output_tokens":10}
{"v":1,"id":"r2","ts":"2026-03-01T09:01:00Z","agent":"A","model":"claude-quill-9","input_tokens":500,"output_tokens":50,"cache_read_tokens":2000}
{"v":1,"id":"r3","ts":"2026-03-02T10:00:00Z","agent":"B","model":"sonet-4.5","input_tokens":100,"output_tokens":20}
{"v":1,"id":"r4","ts":"2026-03-03T11:30:00Z","agent":"B","model":"Claude-Quill-9","input_tokens":300,"output_tokens":30,"cache_write_tokens":400}
{"v":1,"id":"r5","ts":"2026-03-04T12:00:00Z","agent":"B","model":"house-model","input_tokens":9999999,"output_tokens":1,"cost_usd":1.5}
{"v":1,"id":"r6","ts":"2026-02-28T08:00:00Z","agent":"B","model":"sonet-4.5","input_tokens":7,"output_tokens":3}
{"v":1,"id":"r7","ts":"2026-03-05T08:00:00Z","agent":"B","model":"claude-quill-9","input_tokens":8888888,"output_tokens":1,"cost_usd":0.25}
"#;

const JSONL: &str = r#"{"kind":"missing_price","model":"Claude-Quill-9","records":2,"input_tokens":800,"output_tokens":80,"cache_read_tokens":2000,"cache_write_tokens":400,"total_tokens":3280,"first_ts":"2026-03-01T09:01:00.000Z","last_ts":"2026-03-03T11:30:00.000Z","did_you_mean":[]}
{"kind":"missing_price","model":"sonet-4.5","records":2,"input_tokens":107,"output_tokens":23,"cache_read_tokens":0,"cache_write_tokens":0,"total_tokens":130,"first_ts":"2026-02-28T08:00:00.000Z","last_ts":"2026-03-02T10:00:00.000Z","did_you_mean":["sonnet-4.5"]}
"#;

#[test]
fn missing_lists_unpriced_models_from_a_file_most_tokens_first() {
    let sc = Scenario::new();
    let f = sc.write("in.jsonl", MIXED);
    sc.cmd("tt-price").arg("--missing").arg(&f).succeeds().stdout_is(JSONL).stderr_is("");
}

#[test]
fn missing_reads_stdin_and_the_default_log() {
    let sc = Scenario::new();
    sc.cmd("tt-price").arg("--missing").pipe_in(MIXED).succeeds().stdout_is(JSONL).stderr_is("");
    // No file and nothing piped: the usage log, where tt-log wrote these.
    sc.write("usage.jsonl", MIXED);
    sc.cmd("tt-price").arg("--missing").succeeds().stdout_is(JSONL);
    // `-` is stdin, also among files.
    let f = sc.write("more.jsonl", MIXED.lines().next().unwrap().to_string() + "\n");
    sc.cmd("tt-price").args(["--missing", "-"]).arg(&f).pipe_in(MIXED).succeeds().stdout_is(JSONL);
}

#[test]
fn missing_table_fits_80_columns() {
    let sc = Scenario::new();
    sc.cmd("tt-price")
        .args(["--missing", "--format", "table"])
        .env("COLUMNS", "80")
        .pipe_in(MIXED)
        .succeeds()
        .stdout_is(
            "\
model           records  total tokens  last seen         did you mean
─────────────────────────────────────────────────────────────────────
Claude-Quill-9        2         3,280  2026-03-03 11:30
sonet-4.5             2           130  2026-03-02 10:00  sonnet-4.5
",
        );
    // Wide enough, every column; without a hint anywhere, no hint column.
    sc.cmd("tt-price")
        .args(["--missing", "--format", "table"])
        .env("COLUMNS", "200")
        .pipe_in(MIXED.replace("sonet-4.5", "mystery"))
        .succeeds()
        .stdout_is(
            "\
model           records  input  output  cache read  cache write  total tokens  first seen        last seen
─────────────────────────────────────────────────────────────────────────────────────────────────────────────────
Claude-Quill-9        2    800      80       2,000          400         3,280  2026-03-01 09:01  2026-03-03 11:30
mystery               2    107      23           0            0           130  2026-02-28 08:00  2026-03-02 10:00
",
        );
}

#[test]
fn missing_csv_json_and_markdown() {
    let sc = Scenario::new();
    sc.cmd("tt-price").args(["--missing", "--format", "csv"]).pipe_in(MIXED).succeeds().stdout_is(
        "\
model,records,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,first_ts,last_ts,did_you_mean
Claude-Quill-9,2,800,80,2000,400,3280,2026-03-01T09:01:00.000Z,2026-03-03T11:30:00.000Z,
sonet-4.5,2,107,23,0,0,130,2026-02-28T08:00:00.000Z,2026-03-02T10:00:00.000Z,sonnet-4.5
",
    );
    let json = sc.cmd("tt-price").args(["--missing", "--format", "json"]).pipe_in(MIXED).succeeds();
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let lines: Vec<serde_json::Value> = JSONL.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(doc, serde_json::Value::Array(lines));
    sc.cmd("tt-price").args(["--missing", "--format", "markdown"]).pipe_in(MIXED).succeeds().stdout_is(
        "\
| model | records | input | output | cache read | cache write | total tokens | first seen | last seen | did you mean |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |
| Claude-Quill-9 | 2 | 800 | 80 | 2,000 | 400 | 3,280 | 2026-03-01 09:01 | 2026-03-03 11:30 |  |
| sonet-4.5 | 2 | 107 | 23 | 0 | 0 | 130 | 2026-02-28 08:00 | 2026-03-02 10:00 | sonnet-4.5 |
",
    );
}

#[test]
fn every_model_priced_prints_nothing() {
    let sc = Scenario::new();
    // The priced record, and the two that carry a cost (one of an unknown model).
    let priced: String = MIXED
        .lines()
        .filter(|l| l.contains("cost_usd") || !(l.to_lowercase().contains("quill") || l.contains("sonet")))
        .map(|l| format!("{l}\n"))
        .collect();
    for format in ["jsonl", "table", "markdown"] {
        sc.cmd("tt-price")
            .args(["--missing", "--format", format])
            .pipe_in(&priced)
            .succeeds()
            .stdout_is("")
            .stderr_is("");
    }
    // Machine formats still give a document.
    sc.cmd("tt-price").args(["--missing", "--format", "json"]).pipe_in(&priced).succeeds().stdout_is("[\n]\n");
    sc.cmd("tt-price").args(["--missing", "--format", "csv"]).pipe_in(&priced).succeeds().stdout_is(
        "model,records,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,total_tokens,first_ts,last_ts,did_you_mean\n",
    );
    // A log that does not exist yet has no models.
    sc.cmd("tt-price").arg("--missing").succeeds().stdout_is("").stderr_is("");
}

#[test]
fn fail_missing_exits_1_naming_the_models() {
    let sc = Scenario::new();
    let f = sc.write("in.jsonl", MIXED);
    sc.cmd("tt-price")
        .args(["--missing", "--fail-missing"])
        .arg(&f)
        .fails_with(1)
        .stdout_is(JSONL)
        .stderr_is("tt-price: error: 2 models without a price: Claude-Quill-9, sonet-4.5 (--fail-missing)\n");
    let one = sc.write("one.jsonl", MIXED.lines().nth(2).unwrap().to_string() + "\n");
    sc.cmd("tt-price")
        .args(["--missing", "--fail-missing"])
        .arg(&one)
        .fails_with(1)
        .stderr_is("tt-price: error: 1 model without a price: sonet-4.5 (--fail-missing)\n");
    let priced = sc.write("priced.jsonl", MIXED.lines().next().unwrap().to_string() + "\n");
    sc.cmd("tt-price").args(["--missing", "--fail-missing"]).arg(&priced).succeeds().stdout_is("").stderr_is("");
}

#[test]
fn missing_flags_and_bad_input_are_refused() {
    let sc = Scenario::new();
    sc.cmd("tt-price")
        .arg("--fail-missing")
        .pipe_in(MIXED)
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("--fail-missing applies only to --missing");
    sc.cmd("tt-price")
        .args(["--missing", "--reprice"])
        .pipe_in(MIXED)
        .fails_with(2)
        .stderr_has("--reprice applies only to");
    sc.cmd("tt-price").args(["--missing", "--list"]).fails_with(2).one_error_line("tt-price");
    sc.cmd("tt-price")
        .args(["--missing", "--format", "toml"])
        .pipe_in(MIXED)
        .fails_with(2)
        .stderr_is("tt-price: error: unknown format \"toml\" (table, json, jsonl, csv, markdown)\n");
    let bad = sc.write("bad.jsonl", format!("{MIXED}not json\n"));
    sc.cmd("tt-price")
        .arg("--missing")
        .arg(&bad)
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(&format!("{}:8:", bad.display()));
}

#[test]
fn help_shows_the_missing_example() {
    let sc = Scenario::new();
    sc.cmd("tt-price").arg("--help").succeeds().stdout_has("tt-price --missing --fail-missing");
}

/// Records logged while their model had no price are never rewritten: they carry no `cost_usd`, and every
/// reader prices them with the table it has. Once the price is added, tt-sum, tt-budget (whose index is
/// rebuilt: the prices are part of what it counted with) and `tt-price --missing` all see it; the log's bytes
/// never change.
#[test]
fn records_logged_unpriced_are_priced_by_readers_once_the_price_is_known() {
    let sc = Scenario::new();
    sc.write("tt.toml", "[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_usd = 10\n");
    sc.cmd("tt-log").args(["A", "acme-9", "1000000", "1000"]).succeeds().stderr_has("unknown model \"acme-9\"");
    let logged = sc.log();
    assert!(!logged.contains("cost_usd"), "{logged}");
    let budget = |sc: &Scenario| sc.cmd("tt-budget").args(["--format", "jsonl"]).succeeds().jsonl()[0].clone();
    let before = budget(&sc);
    assert_eq!((before["spent_usd"].to_string(), before["unpriced_records"].to_string()), ("0".into(), "1".into()));
    sc.cmd("tt-price").arg("--missing").succeeds().stdout_has("\"model\":\"acme-9\",\"records\":1");
    // The price becomes known: 1,000,000 × 2 + 1,000 × 8 = 2,008,000 → $2.008.
    sc.write(
        "tt.toml",
        "[[budget]]\nname = \"all\"\nperiod = \"total\"\nlimit_usd = 10\n\n[models.acme-9]\ninput = 2\noutput = 8\n",
    );
    let after = budget(&sc);
    assert_eq!((after["spent_usd"].to_string(), after["unpriced_records"].to_string()), ("2.008".into(), "0".into()));
    let sum = sc.cmd("tt-sum").args(["--format", "jsonl"]).succeeds().jsonl();
    assert_eq!(sum.last().unwrap()["cost_usd"].to_string(), "2.008");
    sc.cmd("tt-price").arg("--missing").succeeds().stdout_is("");
    // The filter writes the priced record to stdout; the log itself is untouched.
    sc.cmd("tt-price").succeeds().stdout_has("\"cost_usd\":2.008,\"price\":\"acme-9\"");
    assert_eq!(sc.log(), logged);
}
