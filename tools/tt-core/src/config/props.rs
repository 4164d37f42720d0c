//! Property tests (issue 11): the config loader on arbitrary text and on mutated pieces of the built-in files.

use super::*;
use crate::provider::props::{apply, config, edit};
use crate::record::Tokens;
use proptest::prelude::*;

/// Bits of TOML that make configs interesting when dropped in anywhere.
const SNIPPETS: &[&str] = &[
    "\n",
    "=",
    "\"",
    "'''",
    "[",
    "]",
    "{",
    "}",
    ",",
    "#",
    ".",
    "-1",
    "0",
    "1e400",
    "nan",
    "inf",
    "1.2345678901234567",
    "18446744073709551616",
    "2026-02-30",
    "\n[models.x]\ninput = 1\noutput = 2\n",
    "\n[models.\"a b\"]\naliases = [\"opus\"]\n",
    "\n[models.claude-opus-4-6]\naliases = [\"sonnet\"]\n",
    "\n[models.opus]\ninput = 1\n",
    "\nabove_200k = { input = 1 }\n",
    "\nabove_0k = { input = 1 }\n",
    "\nunset = [\"above_200k\", \"cache_write_1h\"]\n",
    "\n[[models.x.history]]\nfrom = 2026-01-01\nuntil = 2025-01-01\ninput = 1\n",
    "\nfast = 6\n",
    "\nbatch = { input = 0.5 }\n",
    "\nweb_search = 0.01\n",
    "\n[[budget]]\nname = \"b\"\nperiod = \"month\"\nlimit_usd = 10\n",
    "\nwarn_at = [0.5, 2]\n",
    "\nmax_tokens = 0\n",
    "\nmax_tokens = 1000000000001\n",
    "\ntz = \"Mars/Base\"\n",
    "\nweek_start = \"sun\"\n",
    "\nlog = \"/tmp/x\"\n",
    "\n[optimize]\n",
    "\n[optimize.cheaper]\nclaude-opus-4-6 = \"claude-haiku-4-5\"\n",
    "\n[optimize.cheaper]\nclaude-haiku-4-5 = \"claude-opus-4-6\"\n",
    "\nreservation_ttl = \"0s\"\n",
    "\u{e9}",
    "\u{feff}",
    "\\u0000",
];

const NAME: &str = "fuzz.toml";

/// One layer: `Ok` gives a config whose prices resolve and price; `Err` is a config error naming the layer.
fn load(text: &str) {
    match Config::from_str_layer(NAME, text) {
        Ok(c) => {
            c.timezone().expect("an accepted tz is valid");
            assert!(c.max_tokens > 0 && c.max_tokens <= MAX_MAX_TOKENS, "max_tokens {}", c.max_tokens);
            let ts = "2026-06-01T00:00:00Z".parse().expect("a time");
            let m = c.max_tokens;
            let shapes = [
                Tokens { input: 1, output: 1, ..Default::default() },
                Tokens { input: m, output: m, cache_read: m, cache_write: m, cache_write_1h: m },
            ];
            let billing = crate::record::Billing { fast: true, web_search: m, web_fetch: 1, ..Default::default() };
            for e in c.prices.entries() {
                let found = c.prices.resolve(&e.name).unwrap_or_else(|| panic!("{} does not resolve", e.name));
                assert_eq!(found.name, e.name);
                for a in &e.aliases {
                    assert!(c.prices.resolve(a).is_some(), "alias {a} of {} does not resolve", e.name);
                }
                for t in &shapes {
                    let _ = crate::price::try_price_with(e, ts, t, &crate::record::Billing::default());
                    let _ = crate::price::try_price_with(e, ts, t, &billing);
                }
            }
        }
        Err(e) => {
            assert_eq!(e.kind(), crate::error::Kind::Config, "{}", e.message());
            assert!(
                e.message().starts_with(&format!("{NAME}:")),
                "an error that does not start with the layer's name: {}",
                e.message()
            );
        }
    }
}

/// A window of `lines` lines of a built-in file, from line `from` (wrapping).
fn window(text: &str, from: usize, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    let from = from % all.len();
    all[from..(from + lines).min(all.len())].join("\n") + "\n"
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn arbitrary_text(text in "\\PC{0,200}") {
        load(&text);
    }

    #[test]
    fn arbitrary_toml_ish_text(text in "[a-z_\\[\\]=\"'{}., 0-9\n#-]{0,200}") {
        load(&text);
    }

    #[test]
    fn mutated_built_in_files(
        settings in any::<bool>(),
        from in any::<usize>(),
        lines in 1..40usize,
        edits in proptest::collection::vec(edit(), 0..6),
    ) {
        let text = window(if settings { DEFAULT_SETTINGS } else { DEFAULT_PRICES }, from, lines);
        let text = apply(text.as_bytes(), &edits, SNIPPETS);
        load(&String::from_utf8_lossy(&text));
    }

    #[test]
    fn snippets_put_together(parts in proptest::collection::vec(0..SNIPPETS.len(), 0..8)) {
        let text: String = parts.iter().map(|&k| SNIPPETS[k]).collect();
        load(&text);
    }
}
