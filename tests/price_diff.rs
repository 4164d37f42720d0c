//! `tt-price --diff`: what LiteLLM's prices would add or change over the effective price table.

mod common;
use common::Scenario;

/// A LiteLLM-shaped file: one built-in model repriced (input and the long-context output), one priced as the
/// built-in table prices it, one the table prices and a user config reprices, one new model, and entries that
/// are never converted (the spec, an image model, one priced 0).
const LITELLM: &str = r#"{
  "sample_spec": {"input_cost_per_token": 0.0, "output_cost_per_token": 0.0, "litellm_provider": "example"},
  "claude-sonnet-4-5": {
    "litellm_provider": "anthropic", "mode": "chat",
    "input_cost_per_token": 3.3e-06, "output_cost_per_token": 1.5e-05,
    "cache_read_input_token_cost": 3e-07, "cache_creation_input_token_cost": 3.75e-06,
    "input_cost_per_token_above_200k_tokens": 6e-06, "output_cost_per_token_above_200k_tokens": 2.4e-05,
    "cache_read_input_token_cost_above_200k_tokens": 6e-07
  },
  "Claude-Haiku-4-5": {
    "litellm_provider": "anthropic", "mode": "chat",
    "input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06,
    "cache_read_input_token_cost": 1e-07, "cache_creation_input_token_cost": 1.25e-06
  },
  "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05},
  "acme-small": {
    "litellm_provider": "acme", "mode": "chat",
    "input_cost_per_token": 1e-07, "output_cost_per_token": 4e-07, "cache_read_input_token_cost": 2.5e-08
  },
  "acme-free": {"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 0, "output_cost_per_token": 0},
  "acme-draw": {"litellm_provider": "acme", "mode": "image_generation", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06}
}"#;

const SONNET: &str = r#"{"model":"claude-sonnet-4-5","provider":"anthropic","change":"changed","fields":{"input":{"old":3,"new":3.3},"above_200k.output":{"old":22.5,"new":24}}}"#;
const ACME: &str = r#"{"model":"acme-small","provider":"acme","change":"added","fields":{"input":{"old":null,"new":0.1},"output":{"old":null,"new":0.4},"cache_read":{"old":null,"new":0.025}}}"#;

/// How many entries the effective price table has (the count line depends on the built-in table).
fn entries(sc: &Scenario) -> usize {
    sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds().stdout.lines().count()
}

#[test]
fn diff_lists_changed_and_added_models_with_exact_prices() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    // In a pipe: JSONL, one object per model, by name; the unchanged haiku and gpt-4o are left out, and
    // there is no summary (the rows are the whole answer).
    sc.cmd("tt-price")
        .args(["--diff", "prices.json"])
        .succeeds()
        .stdout_is(&format!("{ACME}\n{SONNET}\n"))
        .stderr_is("");
    // A file with nothing new: nothing at all in JSONL.
    sc.write("same.json", r#"{"gpt-4o": {"litellm_provider": "openai", "input_cost_per_token": 2.5e-06, "output_cost_per_token": 1e-05}}"#);
    sc.cmd("tt-price").args(["--diff", "same.json"]).succeeds().stdout_is("").stderr_is("");
}

#[test]
fn diff_compares_with_the_effective_table_user_config_included() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    // The user's config already reprices gpt-4o's input and already has acme-small at the file's prices.
    sc.write(
        ".config/tt/config.toml",
        "[models.gpt-4o]\ninput = 2\n\n[models.acme-small]\ninput = 0.1\noutput = 0.4\ncache_read = 0.025\n",
    );
    let gpt = r#"{"model":"gpt-4o","provider":"openai","change":"changed","fields":{"input":{"old":2,"new":2.5}}}"#;
    sc.cmd("tt-price").args(["--diff", "prices.json"]).succeeds().stdout_is(&format!("{SONNET}\n{gpt}\n"));
    // --config is a layer too.
    sc.write("more.toml", "[models.claude-sonnet-4-5]\ninput = 3.3\nabove_200k = { output = 24 }\n");
    sc.cmd("tt-price")
        .args(["--config", "more.toml", "--diff", "prices.json"])
        .succeeds()
        .stdout_is(&format!("{gpt}\n"));
}

#[test]
fn diff_new_prices_are_what_the_import_loads() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    sc.write(".config/tt/config.toml", "[models.gpt-4o]\ninput = 2\n");
    let diff = sc.cmd("tt-price").args(["--diff", "prices.json"]).succeeds().jsonl();
    let toml = sc.cmd("tt-price").args(["--import-litellm", "prices.json"]).succeeds().stdout;
    sc.write("litellm.toml", toml);
    let after = sc.cmd("tt-price").args(["--config", "litellm.toml", "--list", "--format", "jsonl"]).succeeds().jsonl();
    assert_eq!(diff.len(), 3);
    for d in &diff {
        let e = after.iter().find(|e| e["model"] == d["model"]).unwrap();
        for (field, v) in d["fields"].as_object().unwrap() {
            let now = match field.strip_prefix("above_200k.") {
                Some(f) => &e["above_200k"][f],
                None => &e[field.as_str()],
            };
            assert_eq!(now.to_string(), v["new"].to_string(), "{} {field}", d["model"]);
        }
    }
}

#[test]
fn diff_provider_and_zero_is_free_select_as_the_import_does() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    sc.cmd("tt-price").args(["--diff", "prices.json", "--provider", "acme"]).succeeds().stdout_is(&format!("{ACME}\n"));
    sc.cmd("tt-price")
        .args(["--diff", "prices.json", "--provider", "openai,anthropic"])
        .succeeds()
        .stdout_is(&format!("{SONNET}\n"));
    let free = r#"{"model":"acme-free","provider":"acme","change":"added","fields":{"input":{"old":null,"new":0},"output":{"old":null,"new":0}}}"#;
    sc.cmd("tt-price")
        .args(["--diff", "prices.json", "--provider", "acme", "--zero-is-free"])
        .succeeds()
        .stdout_is(&format!("{free}\n{ACME}\n"));
    // From stdin too.
    sc.cmd("tt-price")
        .args(["--diff", "-", "--provider", "acme"])
        .pipe_in(LITELLM)
        .succeeds()
        .stdout_is(&format!("{ACME}\n"));
}

#[test]
fn diff_formats() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    let n = entries(&sc) - 3;
    let summary =
        format!("tt-price: 1 added, 1 changed, 2 unchanged; {n} entries of the table not in the file (kept)\n");
    sc.cmd("tt-price")
        .args(["--diff", "prices.json", "--format", "table"])
        .succeeds()
        .stdout_is(
            "USD per million tokens\n\
             model              provider   change   field               old    new\n\
             ─────────────────────────────────────────────────────────────────────\n\
             acme-small         acme       added    input                 -    0.1\n\
             \x20                                      output                -    0.4\n\
             \x20                                      cache_read            -  0.025\n\
             claude-sonnet-4-5  anthropic  changed  input                 3    3.3\n\
             \x20                                      above_200k.output  22.5     24\n",
        )
        .stderr_is(&summary);
    // On a narrow screen the provider and the change go first.
    sc.cmd("tt-price").args(["--diff", "prices.json", "--format", "table"]).env("COLUMNS", "50").succeeds().stdout_is(
        "USD per million tokens\n\
             model              field               old    new\n\
             ─────────────────────────────────────────────────\n\
             acme-small         input                 -    0.1\n\
             \x20                  output                -    0.4\n\
             \x20                  cache_read            -  0.025\n\
             claude-sonnet-4-5  input                 3    3.3\n\
             \x20                  above_200k.output  22.5     24\n",
    );
    sc.cmd("tt-price").args(["--diff", "prices.json", "--format", "csv"]).succeeds().stderr_is("").stdout_is(
        "model,provider,change,field,old,new\n\
         acme-small,acme,added,input,,0.1\n\
         acme-small,acme,added,output,,0.4\n\
         acme-small,acme,added,cache_read,,0.025\n\
         claude-sonnet-4-5,anthropic,changed,input,3,3.3\n\
         claude-sonnet-4-5,anthropic,changed,above_200k.output,22.5,24\n",
    );
    sc.cmd("tt-price").args(["--diff", "prices.json", "--format", "markdown"]).succeeds().stdout_is(
        "| model | provider | change | field | old | new |\n\
         | --- | --- | --- | --- | ---: | ---: |\n\
         | acme-small | acme | added | input | - | 0.1 |\n\
         | acme-small | acme | added | output | - | 0.4 |\n\
         | acme-small | acme | added | cache\\_read | - | 0.025 |\n\
         | claude-sonnet-4-5 | anthropic | changed | input | 3 | 3.3 |\n\
         | claude-sonnet-4-5 | anthropic | changed | above\\_200k.output | 22.5 | 24 |\n",
    );
    sc.cmd("tt-price")
        .args(["--diff", "prices.json", "--format", "json"])
        .succeeds()
        .stdout_is(&format!("[\n  {ACME},\n  {SONNET}\n]\n"));
    // Nothing to change: an empty document where a parser expects one, and the summary under a table.
    sc.write("none.json", "{}");
    sc.cmd("tt-price").args(["--diff", "none.json", "--format", "json"]).succeeds().stdout_is("[\n]\n");
    sc.cmd("tt-price")
        .args(["--diff", "none.json", "--format", "csv"])
        .succeeds()
        .stdout_is("model,provider,change,field,old,new\n");
    sc.cmd("tt-price").args(["--diff", "none.json", "--format", "table"]).succeeds().stdout_is("").stderr_is(&format!(
        "tt-price: 0 added, 0 changed, 0 unchanged; {} entries of the table not in the file (kept)\n",
        n + 3
    ));
}

#[test]
fn diff_refuses_what_does_not_apply() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    sc.write("in.jsonl", "");
    for (args, want) in [
        (vec!["--diff", "prices.json", "--format", "toml"], "unknown format \"toml\""),
        (vec!["--diff", "prices.json", "--list"], "cannot be used with"),
        (vec!["--diff", "prices.json", "in.jsonl"], "cannot be used with"),
        (vec!["--diff", "prices.json", "--import-litellm", "prices.json"], "cannot be used with"),
        (
            vec!["--diff", "prices.json", "--reprice"],
            "--reprice applies only to the filter (records in, priced records out), not to --diff",
        ),
        (
            vec!["--list", "--provider", "acme"],
            "--provider applies only to --import-litellm, not to --list (--diff takes it too)",
        ),
        (vec!["--diff", "missing.json"], "missing.json"),
    ] {
        let out = sc.cmd("tt-price").args(&args).fails_with(2).one_error_line("tt-price");
        assert!(out.stderr.contains(want), "{args:?}: {} !~ {want}", out.stderr);
    }
}

#[test]
fn a_model_named_like_an_alias_of_the_table_is_left_out_with_a_warning() {
    let sc = Scenario::new();
    sc.write("prices.json", LITELLM);
    sc.write(".config/tt/config.toml", "[models.acme-big]\ninput = 1\noutput = 2\naliases = [\"acme-small\"]\n");
    let cfg = sc.path().join(".config/tt/config.toml");
    sc.cmd("tt-price").args(["--diff", "prices.json", "--provider", "acme"]).succeeds().stdout_is("").stderr_is(
        &format!(
            "tt-price: warning: prices.json: \"acme-small\" left out: it is an alias of the entry \"acme-big\" ({}), so the \
             file would not load over this table\n",
            cfg.display()
        ),
    );
}

/// `--import-litellm FILE --update` keeps the prices current in one command: the user's config gets one block,
/// rewritten by each update, with the models whose prices differ from the built-in table; the user's own tables
/// (and every other line of the file) are left alone, and a block edited out of shape is refused.
#[test]
fn update_merges_what_differs_into_the_user_config() {
    let sc = Scenario::new();
    let mine = "# my prices\n[models.\"gpt-5.5\"]\ninput = 4\n";
    let cfg = sc.write(".config/tt/config.toml", mine);
    // o3 changes (built in: 2 / 8), gpt-5.5 changes but is priced by hand, claude-opus-4-8 is as built in, and
    // acme-new is new.
    sc.write(
        "l.json",
        r#"{"o3": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 3e-06, "output_cost_per_token": 8e-06},
 "gpt-5.5": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 6e-06, "output_cost_per_token": 3e-05},
 "claude-opus-4-8": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 5e-06, "output_cost_per_token": 2.5e-05},
 "acme-new": {"litellm_provider": "acme", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}"#,
    );
    sc.cmd("tt-price").args(["--import-litellm", "l.json", "--update"]).succeeds().stdout_is("").stderr_is(&format!(
        "tt-price: updated {}: 2 models priced apart from the built-in table, 1 as built in; left to your own \
         tables: gpt-5.5\n",
        cfg.display()
    ));
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert_eq!(
        text,
        "# my prices\n[models.\"gpt-5.5\"]\ninput = 4\n\n\
         # >>> tt-price --update: LiteLLM prices that differ from tt's built-in table >>>\n\
         # from l.json; rewritten by each `tt-price --import-litellm FILE --update`.\n\n\
         [models.acme-new]\nprovider = \"acme\"\ninput = 1\noutput = 2\n\n\
         [models.o3]\nprovider = \"openai\"\ninput = 3\noutput = 8\n\n\
         # <<< tt-price --update <<<\n"
    );
    // 100,000 input tokens (below gpt-5.5's 272k tier, which the hand table keeps).
    let quote = |m: &str| sc.cmd("tt-price").args(["--quote", m, "100000", "0", "--format", "value"]).succeeds().stdout;
    assert_eq!(quote("o3"), "0.3\n");
    assert_eq!(quote("acme-new"), "0.1\n");
    assert_eq!(quote("gpt-5.5"), "0.4\n");
    // o3 keeps its other built-in prices (cache read, service tiers): the block merges by field.
    let o3 = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds().stdout;
    assert!(o3.lines().any(|l| l.contains("\"model\":\"o3\"") && l.contains("\"cache_read\":0.5")), "{o3}");
    // The next update rewrites the block: acme-new is gone from the file it reads, so from the block.
    sc.write(
        "l.json",
        r#"{"o3": {"litellm_provider": "openai", "input_cost_per_token": 3e-06, "output_cost_per_token": 8e-06}}"#,
    );
    sc.cmd("tt-price").args(["--import-litellm", "l.json", "--update"]).succeeds();
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(text.starts_with(mine) && text.contains("[models.o3]") && !text.contains("acme-new"), "{text}");
    assert_eq!(text.matches("# >>> tt-price --update").count(), 1);
    // A block whose last line was deleted: refused, the file untouched.
    let broken = text.replace("# <<< tt-price --update <<<\n", "");
    sc.write(".config/tt/config.toml", &broken);
    sc.cmd("tt-price")
        .args(["--import-litellm", "l.json", "--update"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has("has lost its first or last line");
    assert_eq!(std::fs::read_to_string(&cfg).unwrap(), broken);
    // --update is --import-litellm's.
    sc.cmd("tt-price")
        .args(["--list", "--update"])
        .fails_with(2)
        .stderr_has("--update applies only to --import-litellm");
}
