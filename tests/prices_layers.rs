//! Config layers merge a model's prices field by field (issue 10, item 3): a later layer changes the fields it
//! gives and keeps the rest (cache prices, the long-context tier, aliases, dated history); `unset` removes.
mod common;
use common::*;

/// The built-in prices of claude-sonnet-4-5 (config/prices.toml), in hundredths of a dollar per million tokens.
const SONNET: [u64; 5] = [300, 1500, 30, 375, 600]; // input, output, cache_read, cache_write, cache_write_1h
/// Its long-context tier (above 200,000 prompt tokens), likewise.
const SONNET_TIER: [u64; 5] = [600, 2250, 60, 750, 1200];

/// The exact cost in dollars of `tokens` (input, output, cache_read, cache_write, cache_write_1h) at `prices`
/// (hundredths of a dollar per million tokens), written like tt writes it (no trailing zeros).
fn cost(tokens: [u64; 5], prices: [u64; 5]) -> String {
    let units: u64 = tokens.iter().zip(prices).map(|(t, p)| t * p).sum(); // 1e-8 dollars
    let s = format!("{}.{:08}", units / 100_000_000, units % 100_000_000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `tt-price --quote` of `tokens` for `model`, as a bare value.
fn quote(sc: &Scenario, model: &str, tokens: [u64; 5]) -> String {
    let t = tokens.map(|n| n.to_string());
    let out = sc
        .cmd("tt-price")
        .args(["--quote", model, &t[0], &t[1], "--cache-read", &t[2], "--cache-write", &t[3]])
        .args(["--cache-write-1h", &t[4], "--format", "value"])
        .succeeds();
    out.stdout.trim_end().to_string()
}

/// The `tt-price --list` entry of `model` as JSON.
fn listed(sc: &Scenario, model: &str) -> serde_json::Value {
    let out = sc.cmd("tt-price").args(["--list", "--format", "jsonl"]).succeeds();
    out.jsonl().into_iter().find(|e| e["model"] == model).unwrap()
}

fn user_config(sc: &Scenario, text: &str) -> std::path::PathBuf {
    sc.write(".config/tt/config.toml", text)
}

/// A prompt of 411,000 tokens: past the 200,000 threshold, so the whole request is priced at the tier.
const LONG: [u64; 5] = [300_000, 1_000, 100_000, 10_000, 1_000];
/// A prompt of 111,100 tokens: below it.
const SHORT: [u64; 5] = [100_000, 1_000, 10_000, 1_000, 100];

#[test]
fn a_layer_changing_only_input_keeps_output_cache_and_tier_prices() {
    let sc = Scenario::new();
    // Built in: 300,000 × 6 + 1,000 × 22.5 + 100,000 × 0.6 + 10,000 × 7.5 + 1,000 × 12 = 1,969,500 → $1.9695.
    assert_eq!(cost(LONG, SONNET_TIER), "1.9695");
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), "1.9695");
    user_config(&sc, "[models.claude-sonnet-4-5]\ninput = 3.5\n");
    // The tier is untouched, so the long request costs the same to the digit…
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), "1.9695");
    assert_eq!(quote(&sc, "sonnet-4.5", [300_000, 1_000, 0, 0, 0]), "1.8225");
    // … and a short one changes only by its input: 100,000 × 3.5 + 1,000 × 15 + 10,000 × 0.3 + 1,000 × 3.75
    // + 100 × 6 = 372,350 → $0.37235.
    let mine = [350, 1500, 30, 375, 600];
    assert_eq!(cost(SHORT, mine), "0.37235");
    assert_eq!(quote(&sc, "sonnet-4.5", SHORT), "0.37235");
    let e = listed(&sc, "claude-sonnet-4-5");
    assert_eq!(
        e.to_string(),
        format!(
            "{{\"model\":\"claude-sonnet-4-5\",\"provider\":\"anthropic\",\"input\":3.5,\"output\":15,\"cache_read\":0.3,\
             \"cache_write\":3.75,\"cache_write_1h\":6,\"above_200k\":{{\"threshold\":200000,\"input\":6,\"output\":22.5,\
             \"cache_read\":0.6,\"cache_write\":7.5,\"cache_write_1h\":12}},\"batch\":{{\"input\":1.5,\"output\":7.5,\
             \"cache_read\":0.15,\"cache_write\":1.875}},\"web_search\":0.01,\"aliases\":[\"sonnet-4.5\",\
             \"claude-sonnet-4.5\"],\"history\":0,\"source\":\"{}\"}}",
            sc.path().join(".config/tt/config.toml").display()
        )
    );
}

#[test]
fn a_layer_adds_a_tier_at_a_new_threshold() {
    let sc = Scenario::new();
    // claude-haiku-4-5 has no tier built in: input 1, output 5, cache read 0.1, writes 1.25 / 2.
    let haiku = [100, 500, 10, 125, 200];
    let t = [150_000, 1_000, 0, 0, 0];
    assert_eq!(quote(&sc, "claude-haiku-4-5", t), cost(t, haiku));
    user_config(&sc, "[models.claude-haiku-4-5]\nabove_200k = { threshold = 100000, input = 2, output = 10 }\n");
    // Past 100,000 the whole request is at the tier; the tier's cache prices fall back to the base ones.
    let tier = [200, 1000, 10, 125, 200];
    assert_eq!(cost(t, tier), "0.31");
    assert_eq!(quote(&sc, "claude-haiku-4-5", t), "0.31");
    let t = [150_000, 1_000, 10_000, 1_000, 100];
    assert_eq!(quote(&sc, "claude-haiku-4-5", t), cost(t, tier));
    let t = [50_000, 1_000, 10_000, 1_000, 100];
    assert_eq!(quote(&sc, "claude-haiku-4-5", t), cost(t, haiku));
    assert_eq!(listed(&sc, "claude-haiku-4-5")["output"], 5);
    // A tier at another threshold is added beside the built-in one, and being new it needs its own prices.
    let cfg = user_config(&sc, "[models.claude-sonnet-4-5]\n\nabove_200k = { threshold = 100000, output = 30 }\n");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(&format!("{}:3: key `models.claude-sonnet-4-5.above_200k`: missing `input` price", cfg.display()));
    user_config(&sc, "[models.claude-sonnet-4-5]\nabove_200k = { threshold = 100000, input = 7, output = 30 }\n");
    let tier = [700, 3000, 30, 375, 600];
    let t = [150_000, 1_000, 10_000, 1_000, 100];
    // 150,000 × 7 + 1,000 × 30 + 10,000 × 0.3 + 1,000 × 3.75 + 100 × 6 = 1,087,350 → $1.08735.
    assert_eq!(cost(t, tier), "1.08735");
    assert_eq!(quote(&sc, "sonnet-4.5", t), "1.08735");
    assert_eq!(
        listed(&sc, "claude-sonnet-4-5")["above_100k"].to_string(),
        r#"{"threshold":100000,"input":7,"output":30}"#
    );
    // Above 200k the built-in tier still prices the request: the highest tier exceeded wins.
    assert_eq!(listed(&sc, "claude-sonnet-4-5")["above_200k"]["input"], 6);
}

#[test]
fn a_layer_changes_an_existing_tiers_prices() {
    let sc = Scenario::new();
    // Without a threshold the layer means the tier that is there; with the same threshold, too.
    for tier in ["above_200k = { output = 30 }", "above_200k = { threshold = 200000, output = 30 }"] {
        user_config(&sc, &format!("[models.claude-sonnet-4-5]\n{tier}\n"));
        let mut prices = SONNET_TIER;
        prices[1] = 3000;
        // 300,000 × 6 + 1,000 × 30 + 100,000 × 0.6 + 10,000 × 7.5 + 1,000 × 12 = 1,977,000 → $1.977.
        assert_eq!(cost(LONG, prices), "1.977");
        assert_eq!(quote(&sc, "sonnet-4.5", LONG), "1.977");
        assert_eq!(quote(&sc, "sonnet-4.5", SHORT), cost(SHORT, SONNET));
        assert_eq!(
            listed(&sc, "claude-sonnet-4-5")["above_200k"].to_string(),
            r#"{"threshold":200000,"input":6,"output":30,"cache_read":0.6,"cache_write":7.5,"cache_write_1h":12}"#
        );
    }
}

#[test]
fn unset_removes_fields_the_tier_and_aliases_explicitly() {
    let sc = Scenario::new();
    // Dropping the tier prices the long request at the base prices; dropping the 1-hour write price makes
    // 1-hour writes cost the 5-minute write price.
    user_config(&sc, "[models.claude-sonnet-4-5]\nunset = [\"above_200k\", \"cache_write_1h\"]\n");
    let prices = [300, 1500, 30, 375, 375];
    // 300,000 × 3 + 1,000 × 15 + 100,000 × 0.3 + 10,000 × 3.75 + 1,000 × 3.75 = 986,250 → $0.98625.
    assert_eq!(cost(LONG, prices), "0.98625");
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), "0.98625");
    let e = listed(&sc, "claude-sonnet-4-5");
    assert!(e.get("above_200k").is_none() && e.get("cache_write_1h").is_none(), "{e}");
    // One price of the tier: its cache reads then cost the base cache-read price.
    user_config(&sc, "[models.claude-sonnet-4-5]\nunset = [\"above_200k.cache_read\"]\n");
    let mut prices = SONNET_TIER;
    prices[2] = 30;
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), cost(LONG, prices));
    // `unset` plus a new value replaces instead of merging: this tier has no cache prices of its own.
    user_config(&sc, "[models.claude-sonnet-4-5]\nunset = [\"above_200k\"]\nabove_200k = { input = 7, output = 30 }\n");
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), cost(LONG, [700, 3000, 30, 375, 600]));
    // Aliases: `unset = ["aliases"]` drops the earlier ones, the layer's own are then the only ones.
    user_config(&sc, "[models.claude-sonnet-4-5]\nunset = [\"aliases\"]\naliases = [\"mine\"]\n");
    assert_eq!(listed(&sc, "claude-sonnet-4-5")["aliases"].to_string(), r#"["mine"]"#);
    sc.cmd("tt-price").args(["--quote", "sonnet-4.5", "1", "1"]).fails_with(2).stderr_has("unknown model");
    // Only the fields that may be missing can be unset; a name that is not one is an error at its place.
    let cfg = user_config(&sc, "[models.claude-sonnet-4-5]\ninput = 3\nunset = [\"output\"]\n");
    sc.cmd("tt-price").args(["--quote", "sonnet", "1", "1"]).fails_with(2).one_error_line("tt-price").stderr_has(
        &format!(
            "{}:3: key `models.claude-sonnet-4-5.unset`: `output` cannot be unset (every model has one)",
            cfg.display()
        ),
    );
    let cfg = user_config(&sc, "[models.claude-sonnet-4-5]\nunset = [\n  \"cache_read\",\n  \"tiers\",\n]\n");
    sc.cmd("tt-price").args(["--quote", "sonnet", "1", "1"]).fails_with(2).one_error_line("tt-price").stderr_has(
        &format!("{}:4: key `models.claude-sonnet-4-5.unset`: cannot unset \"tiers\": want one of", cfg.display()),
    );
}

#[test]
fn a_project_config_over_a_user_config_over_the_builtin_table() {
    let sc = Scenario::new();
    user_config(&sc, "[models.claude-sonnet-4-5]\ninput = 3.5\nabove_200k = { output = 25 }\naliases = [\"s45\"]\n");
    let project = sc.write("tt.toml", "[models.claude-sonnet-4-5]\noutput = 16\ncache_read = 0.35\n");
    // Short: input from the user config, output and cache read from the project, writes built in.
    // 100,000 × 3.5 + 1,000 × 16 + 10,000 × 0.35 + 1,000 × 3.75 + 100 × 6 = 373,850 → $0.37385.
    let short = [350, 1600, 35, 375, 600];
    assert_eq!(cost(SHORT, short), "0.37385");
    assert_eq!(quote(&sc, "s45", SHORT), "0.37385");
    // Long: the tier built in, with the user config's output.
    // 300,000 × 6 + 1,000 × 25 + 100,000 × 0.6 + 10,000 × 7.5 + 1,000 × 12 = 1,972,000 → $1.972.
    let long = [600, 2500, 60, 750, 1200];
    assert_eq!(cost(LONG, long), "1.972");
    assert_eq!(quote(&sc, "sonnet-4.5", LONG), "1.972");
    let e = listed(&sc, "claude-sonnet-4-5");
    assert_eq!(e["source"], project.display().to_string());
    assert_eq!(e["aliases"].to_string(), r#"["sonnet-4.5","claude-sonnet-4.5","s45"]"#);
}

#[test]
fn unknown_keys_are_still_errors_naming_file_and_line() {
    let sc = Scenario::new();
    let cfg = user_config(&sc, "# mine\n[models.claude-sonnet-4-5]\ninput = 3.5\ncahce_read = 0.2\n");
    sc.cmd("tt-price").args(["--quote", "sonnet", "1", "1"]).fails_with(2).one_error_line("tt-price").stderr_has(
        // A key the model table does not name is checked after the table is read: the error points at the table's
        // first value.
        &format!("{}:3: key `models.claude-sonnet-4-5.cahce_read`: unknown key: want one of provider", cfg.display()),
    );
    let cfg = user_config(&sc, "[models.claude-sonnet-4-5]\ninput = 3.5\nabove_200k = { outptu = 30 }\n");
    sc.cmd("tt-price")
        .args(["--quote", "sonnet-4.5", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(&format!("{}:3: key `models.claude-sonnet-4-5.above_200k`: unknown field `outptu`", cfg.display()));
    // A new model still needs both prices.
    let cfg = user_config(&sc, "[models.mine]\ninput = 1\n");
    sc.cmd("tt-price")
        .args(["--quote", "mine", "1", "1"])
        .fails_with(2)
        .one_error_line("tt-price")
        .stderr_has(&format!("{}:2: key `models.mine`: missing `output` price", cfg.display()));
}

#[test]
fn aliases_add_to_the_earlier_layers_and_a_moved_alias_is_a_clash() {
    let sc = Scenario::new();
    let prices = std::fs::read_to_string(repo_root().join("config/prices.toml")).unwrap();
    let sonnet_at = prices[..prices.find("aliases = [\"sonnet-4.5\"").unwrap()].matches('\n').count() + 1;
    user_config(&sc, "[models.claude-sonnet-4-5]\naliases = [\"my-sonnet\", \"Claude-Sonnet-4.5\"]\n");
    assert_eq!(
        listed(&sc, "claude-sonnet-4-5")["aliases"].to_string(),
        r#"["sonnet-4.5","claude-sonnet-4.5","my-sonnet"]"#
    );
    assert_eq!(quote(&sc, "my-sonnet", SHORT), cost(SHORT, SONNET));
    assert_eq!(quote(&sc, "sonnet-4.5", SHORT), cost(SHORT, SONNET));
    // Giving another model an alias claude-sonnet-4-5 still has is the clash it always was, named where it was written.
    let cfg = user_config(&sc, "[models.claude-opus-4-5]\ninput = 5\naliases = [\"claude-sonnet-4.5\"]\n");
    sc.cmd("tt-price").args(["--quote", "claude-sonnet-4.5", "1", "1"]).fails_with(2).one_error_line("tt-price").stderr_is(
        &format!(
            "tt-price: error: {}:3: key `models.claude-opus-4-5.aliases`: alias `claude-sonnet-4.5` is already claimed by \
             `claude-sonnet-4-5` (builtin:prices.toml:{sonnet_at})\n",
            cfg.display()
        ),
    );
    // Moving it takes dropping it first (with the aliases to keep written again).
    user_config(
        &sc,
        "[models.claude-sonnet-4-5]\nunset = [\"aliases\"]\naliases = [\"sonnet-4.5\"]\n\n\
         [models.claude-opus-4-5]\naliases = [\"claude-sonnet-4.5\"]\n",
    );
    assert_eq!(quote(&sc, "claude-sonnet-4.5", SHORT), quote(&sc, "claude-opus-4-5", SHORT));
    assert_eq!(quote(&sc, "sonnet-4.5", SHORT), cost(SHORT, SONNET));
}

#[test]
fn dated_history_merges_by_its_range() {
    let sc = Scenario::new();
    let at = |sc: &Scenario, when: &str| {
        sc.cmd("tt-price")
            .args(["--quote", "claude-haiku-4-5", "1000000", "0", "--at", when, "--format", "value"])
            .succeeds()
            .stdout
    };
    user_config(
        &sc,
        "[[models.claude-haiku-4-5.history]]\nuntil = 2025-10-01\ninput = 0.8\noutput = 4\n\
         [[models.claude-haiku-4-5.history]]\nfrom = 2025-10-01\nuntil = 2025-11-01\ninput = 0.9\noutput = 4.5\n",
    );
    assert_eq!(at(&sc, "2025-09-15"), "0.8\n");
    assert_eq!(at(&sc, "2025-10-15"), "0.9\n");
    assert_eq!(at(&sc, "2026-01-15"), "1\n");
    // The same range changes that entry's prices (output kept); a new range is added.
    let project = sc.write(
        "tt.toml",
        "[[models.claude-haiku-4-5.history]]\nfrom = 2025-10-01\nuntil = 2025-11-01\ninput = 0.95\n\
         [[models.claude-haiku-4-5.history]]\nfrom = 2025-11-01\nuntil = 2025-12-01\ninput = 0.97\noutput = 4.8\n",
    );
    assert_eq!(at(&sc, "2025-09-15"), "0.8\n");
    assert_eq!(at(&sc, "2025-10-15"), "0.95\n");
    assert_eq!(at(&sc, "2025-11-15"), "0.97\n");
    assert_eq!(listed(&sc, "claude-haiku-4-5")["history"], 3);
    assert_eq!(
        sc.cmd("tt-price")
            .args(["--quote", "claude-haiku-4-5", "0", "1000000", "--at", "2025-10-15", "--format", "value"])
            .succeeds()
            .stdout,
        "4.5\n"
    );
    // A range that overlaps an earlier layer's without being the same is an error.
    sc.write(
        "tt.toml",
        "[[models.claude-haiku-4-5.history]]\nfrom = 2025-10-15\nuntil = 2025-11-01\ninput = 0.95\noutput = 1\n",
    );
    sc.cmd("tt-price").args(["--quote", "haiku", "1", "1"]).fails_with(2).one_error_line("tt-price").stderr_has(
        &format!(
            "{}:2: key `models.claude-haiku-4-5.history`: #1: overlaps an earlier layer's history from 2025-10-01T00:00:00Z \
             until 2025-11-01T00:00:00Z",
            project.display()
        ),
    );
    // `unset = ["history"]` drops the earlier dated prices.
    sc.write("tt.toml", "[models.claude-haiku-4-5]\nunset = [\"history\"]\n");
    assert_eq!(at(&sc, "2025-09-15"), "1\n");
    assert_eq!(listed(&sc, "claude-haiku-4-5")["history"], 0);
}
