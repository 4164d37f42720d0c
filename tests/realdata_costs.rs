//! Issue 10, "Done means": on `../shared/realdata` every imported record is priced and the costs equal an
//! independent computation from LiteLLM's price map.
//!
//! The expected figures come from `bench/realdata_totals.py --costs`, a Python implementation of the pricing
//! rules written from LiteLLM's JSON alone (exact `Decimal`s parsed from the JSON number text, no floats), plus
//! the two hand prices tt keeps in config/prices.toml for what LiteLLM 1.110.2 lacks (claude-sonnet-4, and the
//! long-context tier of claude-sonnet-4-5), listed in the script. Reproduce them with:
//!
//! ```sh
//! pip download litellm==1.110.2 --no-deps -d /tmp/ll && (cd /tmp/ll && unzip -o litellm-*.whl \
//!     litellm/model_prices_and_context_window_backup.json)
//! bench/realdata_totals.py --costs /tmp/ll/litellm/model_prices_and_context_window_backup.json ../shared/realdata
//! ```
//!
//! The test is skipped when `../shared/realdata` is absent (it is not part of the project).
#![allow(clippy::unwrap_used)]
mod common;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use common::*;
use rust_decimal::Decimal;

/// Per model: (model, requests, tokens, cost in USD), as printed by the script above (LiteLLM 1.110.2, the
/// realdata of this writing: 17 files). 63 Codex requests run at the priority service tier (gpt-5.6-sol 55,
/// gpt-5.6-terra 8: they follow a `thread_settings_applied` event with `service_tier: "priority"`) and cost
/// twice the standard price ($9.5193112 instead of $4.7596556). No request's prompt exceeds a long-context
/// tier (the largest: 221,764 tokens, claude-opus-4-8, which has none; sonnet-4 and sonnet-4-5 stay under
/// 200k, the gpt-5.x models under 272k).
const EXPECTED: &[(&str, u64, u64, &str)] = &[
    ("claude-fable-5", 57, 4_040_646, "7.952691"),
    ("claude-haiku-4-5-20251001", 11, 458_848, "0.1646794"),
    ("claude-opus-4-5-20251101", 77, 6_424_843, "5.5277305"),
    ("claude-opus-4-6", 207, 18_576_159, "13.8891665"),
    ("claude-opus-4-7", 94, 11_437_648, "15.6349005"),
    ("claude-opus-4-8", 79, 11_494_196, "10.487411"),
    ("claude-sonnet-4-20250514", 197, 4_331_308, "2.81752335"),
    ("claude-sonnet-4-5-20250929", 103, 10_529_916, "6.4685118"),
    ("gpt-5.4", 257, 30_723_496, "13.9341015"),
    ("gpt-5.5", 19, 871_254, "1.564825"),
    ("gpt-5.6-sol", 94, 9_790_117, "10.967144"),
    ("gpt-5.6-terra", 15, 721_120, "0.533894"),
];

/// The script's `## total:` line: 1210 requests, 109,399,551 tokens, $89.94257855, 0 unpriced.
const TOTAL_COST: &str = "89.94257855";
const TOTAL_REQUESTS: u64 = 1210;
const TOTAL_TOKENS: u64 = 109_399_551;

fn realdata() -> Option<PathBuf> {
    common::realdata(&["claude/projects", "codex"])
}

/// Copy a tree of transcripts (writable copies) and put their mtimes an hour back: finished sessions, whose
/// last requests count as complete.
fn copy_idle(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_idle(&e.path(), &to);
        } else {
            std::fs::write(&to, std::fs::read(e.path()).unwrap()).unwrap();
            let ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
            std::fs::File::options().write(true).open(&to).unwrap().set_modified(ago).unwrap();
        }
    }
}

/// A cost as an exact decimal: the JSON number's own text (serde_json keeps it with `arbitrary_precision`).
fn cost(v: &serde_json::Value) -> Decimal {
    let text = v.to_string();
    Decimal::from_str(text.trim_matches('"')).unwrap_or_else(|e| panic!("cost {text}: {e}")).normalize()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap().normalize()
}

#[test]
fn real_transcripts_are_all_priced_as_litellm_prices_them() {
    // The table adds up to the script's total (a typo in either shows here, whatever tt does).
    assert_eq!(EXPECTED.iter().map(|e| dec(e.3)).sum::<Decimal>(), dec(TOTAL_COST));
    assert_eq!(EXPECTED.iter().map(|e| e.1).sum::<u64>(), TOTAL_REQUESTS);
    assert_eq!(EXPECTED.iter().map(|e| e.2).sum::<u64>(), TOTAL_TOKENS);
    let Some(data) = realdata() else { return };
    let sc = Scenario::new();
    let tree = sc.path().join("real");
    for (source, var, dir) in [("claude-code", "CLAUDE_CONFIG_DIR", "claude"), ("codex", "CODEX_HOME", "codex")] {
        copy_idle(&data.join(dir), &tree.join(dir));
        let out = sc.cmd("tt-log").args(["--import", source]).env(var, tree.join(dir)).succeeds();
        assert!(!out.stderr.contains("unpriced"), "{source}: {}", out.stderr);
        assert!(!out.stderr.contains("unknown model"), "{source}: {}", out.stderr);
    }
    for r in sc.records() {
        assert!(r.get("cost_usd").is_some(), "a record logged unpriced: {r}");
    }

    let out = sc.cmd("tt-sum").args(["--by", "model", "--format", "json"]).succeeds();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let (total, groups): (Vec<_>, Vec<_>) = rows.iter().partition(|r| r["group"].as_object().unwrap().is_empty());
    assert_eq!(total.len(), 1, "one total row in {}", out.stdout);
    let total = total[0];

    // Per model, every difference at once (so a failure names each model that is off, and by how much).
    let mut got: Vec<(String, u64, u64, Decimal, u64)> = groups
        .iter()
        .map(|r| {
            (
                r["group"]["model"].as_str().unwrap().to_string(),
                r["records"].as_u64().unwrap(),
                r["total_tokens"].as_u64().unwrap(),
                cost(&r["cost_usd"]),
                r["unpriced_records"].as_u64().unwrap(),
            )
        })
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    let want: Vec<(String, u64, u64, Decimal, u64)> =
        EXPECTED.iter().map(|&(m, n, t, c)| (m.to_string(), n, t, dec(c), 0)).collect();
    let diffs: Vec<String> = want
        .iter()
        .filter(|w| !got.contains(w))
        .map(|w| {
            let g = got.iter().find(|g| g.0 == w.0);
            let delta = g.map(|g| format!(", cost off by {}", g.3 - w.3)).unwrap_or_default();
            format!("{}: want {:?}, got {:?}{delta}", w.0, w, g)
        })
        .chain(got.iter().filter(|g| !want.iter().any(|w| w.0 == g.0)).map(|g| format!("unexpected model {g:?}")))
        .collect();
    assert!(diffs.is_empty(), "per-model differences from bench/realdata_totals.py --costs:\n{}", diffs.join("\n"));

    assert_eq!(total["unpriced_records"].as_u64(), Some(0), "{total}");
    assert_eq!(total["records"].as_u64(), Some(TOTAL_REQUESTS), "{total}");
    assert_eq!(total["total_tokens"].as_u64(), Some(TOTAL_TOKENS), "{total}");
    assert_eq!(cost(&total["cost_usd"]), dec(TOTAL_COST), "{total}");
}
