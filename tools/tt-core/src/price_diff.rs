//! `tt-price --diff`: what loading LiteLLM's converted prices as one more config layer would change in the
//! effective price table.
//!
//! The models are [`crate::litellm`]'s conversion (the very TOML `--import-litellm` writes), loaded by the
//! config loader itself as one more layer on top of the user's ([`crate::Config::load_with_layer`]) — so the
//! merge rule (a price the layer writes replaces the old one, one it leaves out is kept, tiers merge) has one
//! home. The tables before and after are compared model by model. Dated prices (`history`) are untouched by a
//! layer that writes none, so only the current (base) prices are compared. A layer never removes an entry:
//! entries the file does not name are counted, not listed.

use std::collections::HashMap;
use std::io::Write;

use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::litellm::Model;
use crate::money;
use crate::output::{Format, Table, csv_safe};
use crate::price::{ModelEntry, PriceSet, PriceTable};

/// Every price of a set by the dotted key the config gives it: `input`, `above_272k.input`, `batch.input`,
/// `batch.above_272k.output`, `fast`, `web_search`, …
pub fn fields(s: &PriceSet) -> Vec<(String, Decimal)> {
    fn prices(out: &mut Vec<(String, Decimal)>, prefix: &str, s: &PriceSet) {
        let tiers = s.tiers.iter().flat_map(|t| {
            let name = crate::price::tier_name(t.threshold);
            t.named().map(|(k, d)| (format!("{name}.{k}"), d))
        });
        let all = s.named().map(|(k, d)| (k.to_string(), d)).into_iter().chain(tiers);
        out.extend(all.filter_map(|(k, d)| d.map(|d| (format!("{prefix}{k}"), d))));
    }
    let mut out = Vec::new();
    prices(&mut out, "", s);
    for (service, set) in &s.services {
        prices(&mut out, &format!("{}.", service.as_str()), set);
    }
    out.extend(s.named_extras().into_iter().filter_map(|(k, d)| d.map(|d| (k.to_string(), d))));
    out
}

/// One model the file would add or change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The model's name (lower-case).
    pub model: String,
    /// Its provider after the change.
    pub provider: Option<String>,
    /// True when the table has no entry of that name.
    pub added: bool,
    /// Each field that differs: its dotted key (see [`fields`]), the old price (`None`: not set) and the new one.
    pub fields: Vec<(String, Option<Decimal>, Decimal)>,
}

impl Change {
    /// `added` or `changed`.
    pub fn kind(&self) -> &'static str {
        if self.added { "added" } else { "changed" }
    }

    /// One JSON object: `{"model":…,"provider":…,"change":…,"fields":{"input":{"old":3,"new":3.5},…}}`.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\"model\":");
        crate::record::push_json_string(&mut s, &self.model);
        if let Some(p) = &self.provider {
            s.push_str(",\"provider\":");
            crate::record::push_json_string(&mut s, p);
        }
        s.push_str(",\"change\":\"");
        s.push_str(self.kind());
        s.push_str("\",\"fields\":{");
        for (i, (f, old, new)) in self.fields.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            let old = old.map(money::canonical).unwrap_or_else(|| "null".into());
            s.push_str(&format!("\"{f}\":{{\"old\":{old},\"new\":{}}}", money::canonical(*new)));
        }
        s.push_str("}}");
        s
    }
}

/// The whole comparison.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diff {
    /// Models added or changed, by name.
    pub changes: Vec<Change>,
    /// Models in the file whose prices are already the table's.
    pub unchanged: usize,
    /// Entries of the table the file does not name (a layer does not remove them).
    pub not_in_file: usize,
    /// Models left out, one line each: a name that is another entry's alias (loading the file would fail).
    pub warnings: Vec<String>,
}

/// The TOML layer of the converted `models` that can load over `table`, and the warnings for those left out: a
/// name that is an alias of another entry would make the layer fail to load.
pub fn layer(table: &PriceTable, models: &[Model]) -> (String, Vec<Model>, Vec<String>) {
    let by_name: HashMap<&str, &ModelEntry> = table.entries().iter().map(|e| (e.name.as_str(), e)).collect();
    let by_alias: HashMap<&str, &ModelEntry> =
        table.entries().iter().flat_map(|e| e.aliases.iter().map(move |a| (a.as_str(), e))).collect();
    let (mut toml, mut kept, mut warnings) = (String::new(), Vec::new(), Vec::new());
    for m in models {
        if !by_name.contains_key(m.name.as_str())
            && let Some(e) = by_alias.get(m.name.as_str())
        {
            warnings.push(format!(
                "{:?} left out: it is an alias of the entry {:?} ({}), so the file would not load over this table",
                m.name, e.name, e.source
            ));
            continue;
        }
        toml.push_str(&m.toml());
        toml.push('\n');
        kept.push(m.clone());
    }
    (toml, kept, warnings)
}

/// Compare the table `before` with `after` (the same with [`layer`]'s TOML of `models` loaded on top), for the
/// `models` the layer holds.
pub fn diff(before: &PriceTable, after: &PriceTable, models: &[Model], warnings: Vec<String>) -> Result<Diff> {
    let by_name: HashMap<&str, &ModelEntry> = before.entries().iter().map(|e| (e.name.as_str(), e)).collect();
    let new: HashMap<&str, &ModelEntry> = after.entries().iter().map(|e| (e.name.as_str(), e)).collect();
    let mut d = Diff { warnings, ..Diff::default() };
    let mut named = 0usize;
    for m in models {
        let in_config = by_name.get(m.name.as_str()).copied();
        // Counted as `tt-price --list` lists: the config's entries and the catalogue models it gives aliases.
        if in_config.is_some() || before.catalogue_aliases().iter().any(|l| l.model == m.name) {
            named += 1;
        }
        // A model the config does not list may be the built-in catalogue's: the layer changes that entry.
        let old = in_config.or_else(|| crate::config::catalogue_model(&m.name));
        let Some(now) = new.get(m.name.as_str()) else {
            return Err(Error::data(format!("{}: not in the table the layer loads to", m.name)));
        };
        let before: HashMap<String, Decimal> = old.map(|e| fields(&e.base)).unwrap_or_default().into_iter().collect();
        let fields: Vec<_> = fields(&now.base)
            .into_iter()
            .filter_map(|(f, a)| {
                let b = before.get(&f).copied();
                (b != Some(a)).then_some((f, b, a))
            })
            .collect();
        if fields.is_empty() {
            d.unchanged += 1;
            continue;
        }
        d.changes.push(Change { model: m.name.clone(), provider: now.provider.clone(), added: old.is_none(), fields });
    }
    d.not_in_file = (before.entries().len() + before.catalogue_aliases().len()).saturating_sub(named);
    Ok(d)
}

/// Write the changes in `format`. Tables, markdown and CSV have one row per changed price; JSON and JSONL one
/// object per model. No changes: nothing in JSONL, a table or markdown; an empty array in JSON and the header
/// alone in CSV.
pub fn render(out: &mut impl Write, format: Format, d: &Diff) -> Result<()> {
    let old = |o: &Option<Decimal>| o.map(money::canonical).unwrap_or_else(|| "-".into());
    match format {
        Format::Jsonl => {
            for c in &d.changes {
                writeln!(out, "{}", c.to_json())?;
            }
        }
        Format::Json => crate::output::write_json_array(out, d.changes.iter().map(Change::to_json))?,
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["model", "provider", "change", "field", "old", "new"]).map_err(crate::output::csv_error)?;
            for c in &d.changes {
                for (f, o, n) in &c.fields {
                    w.write_record([
                        csv_safe(&c.model).into_owned(),
                        csv_safe(c.provider.as_deref().unwrap_or("")).into_owned(),
                        c.kind().to_string(),
                        f.to_string(),
                        o.map(money::canonical).unwrap_or_default(),
                        money::canonical(*n),
                    ])
                    .map_err(crate::output::csv_error)?;
                }
            }
            let bytes = w.into_inner().map_err(|e| Error::data(format!("csv: {e}")))?;
            out.write_all(&bytes)?;
        }
        Format::Table | Format::Markdown => {
            if d.changes.is_empty() {
                return Ok(());
            }
            let mut t = Table::new(&["model", "provider", "change", "field", "old", "new"], &["old", "new"]);
            // On a narrow screen the model, the price and its old and new values stay.
            t.may_drop(&["provider", "change"]);
            t.may_abbreviate(&["model", "provider"]);
            for c in &d.changes {
                for (i, (f, o, n)) in c.fields.iter().enumerate() {
                    // On a screen the model's name and change are on its first row only, as a group; markdown
                    // repeats them, so every row of a rendered (or re-sorted) table still says whose price it is.
                    let (model, provider, kind) = if i == 0 || format == Format::Markdown {
                        (c.model.clone(), c.provider.clone().unwrap_or_default(), c.kind().to_string())
                    } else {
                        Default::default()
                    };
                    t.row(vec![model, provider, kind, f.to_string(), old(o), money::canonical(*n)]);
                }
            }
            if format == Format::Markdown {
                t.render_markdown(out)?;
            } else {
                writeln!(out, "USD per million tokens")?;
                t.render_text(out)?;
            }
        }
    }
    Ok(())
}

/// The one-line summary: `2 added, 1 changed, 3 unchanged; 40 entries of the table not in the file`.
pub fn summary(d: &Diff) -> String {
    let added = d.changes.iter().filter(|c| c.added).count();
    let changed = d.changes.len() - added;
    let entries = if d.not_in_file == 1 { "entry" } else { "entries" };
    format!(
        "{added} added, {changed} changed, {} unchanged; {} {entries} of the table not in the file (kept)",
        d.unchanged, d.not_in_file
    )
}

/// The first line of the block `tt-price --import-litellm FILE --update` keeps in a config file.
pub const BLOCK_START: &str = "# >>> tt-price --update: LiteLLM prices that differ from tt's built-in table >>>";
/// The block's last line.
pub const BLOCK_END: &str = "# <<< tt-price --update <<<";

/// What [`update`] made of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The file's new text: the old text without its old block, and the new block at the end.
    pub text: String,
    /// Models the block writes (added to or changed from the built-in table).
    pub written: usize,
    /// Models the file's own tables price by hand: left to them, not written.
    pub by_hand: Vec<String>,
    /// Models whose prices are the built-in table's already: nothing to write.
    pub unchanged: usize,
    /// Models left out for a reason worth telling (see [`layer`]).
    pub warnings: Vec<String>,
}

/// `text` without the block [`update`] wrote (from [`BLOCK_START`] to [`BLOCK_END`]); an error when only one of
/// the two lines is there (a block edited by hand: what to replace is not known).
pub fn strip_block(name: &str, text: &str) -> Result<String> {
    let line_at = |marker: &str| text.lines().position(|l| l.trim_end() == marker);
    match (line_at(BLOCK_START), line_at(BLOCK_END)) {
        (None, None) => Ok(text.to_string()),
        (Some(a), Some(b)) if a < b => {
            let lines: Vec<&str> = text.lines().collect();
            let mut out: Vec<&str> = lines[..a].to_vec();
            out.extend_from_slice(&lines[b + 1..]);
            let mut out = out.join("\n");
            if !out.is_empty() {
                out.push('\n');
            }
            Ok(out)
        }
        _ => Err(Error::config(format!(
            "{name}: the `tt-price --update` block has lost its first or last line ({BLOCK_START:?} … {BLOCK_END:?}): \
             restore it or delete the block"
        ))),
    }
}

/// The config text `name` (its current `old` text, empty when the file does not exist) with LiteLLM's
/// converted `models` merged in: one block at the end, rewritten by each update, holding the models whose prices
/// differ from tt's built-in table (the catalogue is LiteLLM's prices already, so usually only what changed since
/// its snapshot). A model the file prices in a table of its own is the user's word and is left alone. The new
/// text is checked to load as a config before it is returned. `from` names the source in the block's header.
pub fn update(name: &str, old: &str, models: &[Model], from: &str) -> Result<Update> {
    let kept_text = strip_block(name, old)?;
    let doc: toml::Table = kept_text.parse().map_err(|e: toml::de::Error| {
        Error::config(format!("{name}: {} (fix the file before updating it)", e.message()))
    })?;
    let by_hand: std::collections::BTreeSet<String> = doc
        .get("models")
        .and_then(toml::Value::as_table)
        .map(|t| t.keys().map(|k| k.to_ascii_lowercase()).collect())
        .unwrap_or_default();
    let builtin = crate::Config::builtin()?;
    let (toml, kept, warnings) = layer(&builtin.prices, models);
    let after = crate::Config::from_str_layers(&[(from, &toml)])?;
    let d = diff(&builtin.prices, &after.prices, &kept, warnings)?;
    let changed: std::collections::BTreeSet<&str> = d.changes.iter().map(|c| c.model.as_str()).collect();
    let mut block =
        format!("{BLOCK_START}\n# from {from}; rewritten by each `tt-price --import-litellm FILE --update`.\n\n");
    let (mut written, mut hand) = (0usize, Vec::new());
    for m in kept.iter().filter(|m| changed.contains(m.name.as_str())) {
        if by_hand.contains(&m.name) {
            hand.push(m.name.clone());
            continue;
        }
        block.push_str(&m.toml());
        block.push('\n');
        written += 1;
    }
    block.push_str(BLOCK_END);
    block.push('\n');
    let head = kept_text.trim_end();
    let text = if head.is_empty() { block } else { format!("{head}\n\n{block}") };
    crate::Config::from_str_layer(name, &text).map_err(|e| e.context("the updated config would not load"))?;
    Ok(Update { text, written, by_hand: hand, unchanged: d.unchanged, warnings: d.warnings })
}

/// `tt-price --import-litellm FILE --update`: merge the `models` converted from `from` into the config file
/// `target` (`--config PATH`, else `~/.config/tt/config.toml`) with [`update`], and write it atomically, making
/// its directory when missing. `warn` gets the models left out (`from: why`) before anything is written. Returns
/// the line that says what was written.
pub fn update_file(
    target: Option<&std::path::Path>,
    models: &[Model],
    from: &str,
    warn: &mut dyn FnMut(String),
) -> Result<String> {
    let target = match target {
        Some(p) => p.to_path_buf(),
        None => crate::config::xdg_dir("XDG_CONFIG_HOME", ".config")
            .ok_or_else(|| {
                Error::usage("--update: no config directory (set HOME or XDG_CONFIG_HOME, or give --config)")
            })?
            .join("tt")
            .join("config.toml"),
    };
    let name = target.display().to_string();
    let old = match std::fs::read_to_string(&target) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(Error::io(&name, e)),
    };
    let u = update(&name, &old, models, from)?;
    for w in &u.warnings {
        warn(format!("{from}: {w}"));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir.display(), e))?;
    }
    let mut f = crate::export::AtomicFile::create(&target)?;
    f.write_all(u.text.as_bytes()).map_err(|e| Error::io(&name, e))?;
    f.commit()?;
    let hand = if u.by_hand.is_empty() {
        String::new()
    } else {
        format!("; left to your own tables: {}", u.by_hand.join(", "))
    };
    Ok(format!(
        "updated {name}: {} models priced apart from the built-in table, {} as built in{hand}",
        u.written, u.unchanged
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A layer's prices replace the written ones and keep the others; a tier written without a threshold changes
    /// a tier at its own threshold (200k), beside the entry's 128k one.
    #[test]
    fn merges_as_a_config_layer() {
        let base = "[models.m1]\ninput = 1\noutput = 2\ncache_read = 0.1\n\
                    above_200k = { threshold = 128000, input = 2, output = 4, cache_write_1h = 7 }\n";
        let json = r#"{"m1": {"litellm_provider": "p", "mode": "chat", "input_cost_per_token": 1.5e-06,
            "output_cost_per_token": 2e-06, "input_cost_per_token_above_200k_tokens": 3e-06,
            "output_cost_per_token_above_200k_tokens": 5e-06},
            "m2": {"litellm_provider": "p", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06,
            "cache_creation_input_token_cost": 1.25e-06}}"#;
        let conv = crate::litellm::to_toml("x.json", json, &[], false).unwrap();
        let before = crate::Config::from_str_layer("base.toml", base).unwrap();
        let (toml, kept, warnings) = layer(&before.prices, &conv.models);
        let after = crate::Config::from_str_layers(&[("base.toml", base), ("x.json", &toml)]).unwrap();
        let d = diff(&before.prices, &after.prices, &kept, warnings).unwrap();
        assert_eq!(d.changes.len(), 2);
        let show = |c: &Change| -> Vec<String> {
            c.fields
                .iter()
                .map(|(f, o, n)| format!("{f} {} {n}", o.map(|o| o.to_string()).unwrap_or_default()))
                .collect()
        };
        // LiteLLM's `above_200k` is a tier at 200k: added beside the 128k one, which keeps its prices.
        assert_eq!(show(&d.changes[0]), ["input 1 1.5", "above_200k.input  3", "above_200k.output  5"]);
        assert!(!d.changes[0].added);
        assert_eq!(show(&d.changes[1]), ["input  1", "output  2", "cache_write  1.25"]);
        assert!(d.changes[1].added);
        assert_eq!(d.not_in_file, before.prices.entries().len() + before.prices.catalogue_aliases().len() - 1);
    }

    /// The update is written to the file given (its directory made), and its line says what went where; a model
    /// the file prices by hand is left to it.
    #[test]
    fn update_writes_the_file() {
        let json = r#"{"tt-test-model": {"litellm_provider": "p", "input_cost_per_token": 1e-06,
            "output_cost_per_token": 2e-06}}"#;
        let conv = crate::litellm::to_toml("x.json", json, &[], false).unwrap();
        let d = tempfile::tempdir().unwrap();
        let target = d.path().join("tt").join("config.toml");
        let mut warned = Vec::new();
        let line = update_file(Some(&target), &conv.models, "x.json", &mut |w| warned.push(w)).unwrap();
        let name = target.display();
        assert_eq!(line, format!("updated {name}: 1 models priced apart from the built-in table, 0 as built in"));
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(text.starts_with(BLOCK_START) && text.contains("[models.tt-test-model]"), "{text}");
        std::fs::write(&target, "[models.tt-test-model]\ninput = 1\noutput = 2\n").unwrap();
        let line = update_file(Some(&target), &conv.models, "x.json", &mut |w| warned.push(w)).unwrap();
        assert_eq!(
            line,
            format!(
                "updated {name}: 0 models priced apart from the built-in table, 0 as built in; left to your own \
                 tables: tt-test-model"
            )
        );
        assert!(warned.is_empty());
    }
}
