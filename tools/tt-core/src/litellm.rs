//! Price tables in and out: LiteLLM's `model_prices_and_context_window.json` → tt TOML, and tt entries as
//! TOML or JSON (for `tt-price --list`).
//!
//! LiteLLM quotes USD *per token* (`3e-06`); tt quotes USD per *million* tokens (`3`). The conversion is exact:
//! the JSON number's own text is parsed as a decimal and its point moved six places — no floats involved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::config::{toml_key, toml_str};
use crate::error::{Error, Result};
use crate::money;
use crate::price::{MAX_RATE, ModelEntry, PriceSet, Tier};
use crate::record::Service;

/// LiteLLM modes that are priced per token like chat models (embeddings: input only).
const TEXT_MODES: &[&str] = &["chat", "completion", "responses", "embedding"];

/// A per-token price as USD per million tokens: `Ok(None)` when absent or not a non-negative number (the entry
/// is then skipped, as LiteLLM's own placeholders are), an error when it is a number too large to be a price.
fn per_mtok(model: &str, key: &str, v: Option<&Value>) -> Result<Option<Decimal>> {
    let text = match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => return Ok(None),
    };
    let too_large = || {
        Error::data(format!(
            "model {model:?}: `{key}` = {text} is not a plausible price (at most {} USD per token)",
            MAX_RATE / money::MILLION
        ))
    };
    let Some(d) = money::parse_decimal(&text) else {
        // A number a Decimal cannot hold is far too large; anything else is not a price.
        return match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() && f.abs() >= 1.0 => Err(too_large()),
            _ => Ok(None),
        };
    };
    if d < Decimal::ZERO {
        return Ok(None);
    }
    let m = d.checked_mul(money::MILLION).filter(|m| *m <= MAX_RATE).ok_or_else(too_large)?;
    Ok(Some(m.normalize()))
}

/// The LiteLLM price keys tt reads, without their tier and service-tier suffixes, and the price they are.
const DIMENSIONS: [(&str, Dim); 5] = [
    ("input_cost_per_token", Dim::Input),
    ("output_cost_per_token", Dim::Output),
    ("cache_read_input_token_cost", Dim::CacheRead),
    ("cache_creation_input_token_cost", Dim::CacheWrite),
    ("cache_creation_input_token_cost_above_1hr", Dim::CacheWrite1h),
];

/// One price of a set.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Dim {
    Input,
    Output,
    CacheRead,
    CacheWrite,
    CacheWrite1h,
}

/// LiteLLM's service-tier suffixes.
const SERVICES: [(&str, Service); 3] =
    [("_batches", Service::Batch), ("_flex", Service::Flex), ("_priority", Service::Priority)];

/// Split a LiteLLM price key into its price, long-context threshold and service tier:
/// `input_cost_per_token_above_272k_tokens_priority` → (input, Some(272000), Some(priority)). `None` for keys tt
/// does not price (images, audio, `_above_12hr` writes, other service tiers).
fn split_key(key: &str) -> Option<(Dim, Option<u64>, Option<Service>)> {
    let mut k = key;
    let mut service = None;
    for (suffix, s) in SERVICES {
        if let Some(rest) = k.strip_suffix(suffix) {
            k = rest;
            service = Some(s);
            break;
        }
    }
    let mut threshold = None;
    if let Some(rest) = k.strip_suffix("_tokens")
        && let Some(i) = rest.rfind("_above_")
        && let Some(th) = crate::price::tier_threshold(&rest[i + 1..])
    {
        threshold = Some(th);
        k = &rest[..i];
    }
    let dim = DIMENSIONS.iter().find(|(name, _)| *name == k)?.1;
    Some((dim, threshold, service))
}

/// The prices of one LiteLLM entry as a tt price set, or `None` when it has no input or output price. Long-context
/// tiers and service tiers without both an input and an output price are left out (a tier needs both).
fn price_set(name: &str, m: &serde_json::Map<String, Value>, embedding: bool) -> Result<Option<PriceSet>> {
    type Parts = [Option<Decimal>; 5];
    // (service, threshold) → prices; threshold 0 is the set's own.
    let mut parts: BTreeMap<(Option<Service>, u64), Parts> = BTreeMap::new();
    for (key, v) in m {
        let Some((dim, threshold, service)) = split_key(key) else { continue };
        let Some(price) = per_mtok(name, key, Some(v))? else { continue };
        parts.entry((service, threshold.unwrap_or(0))).or_default()[dim as usize] = Some(price);
    }
    let set_of = |p: &Parts| -> Option<PriceSet> {
        let output = p[Dim::Output as usize].or(embedding.then_some(Decimal::ZERO))?;
        let mut s = PriceSet::flat(p[Dim::Input as usize]?, output);
        s.cache_read = p[Dim::CacheRead as usize];
        s.cache_write = p[Dim::CacheWrite as usize];
        s.cache_write_1h = p[Dim::CacheWrite1h as usize];
        Some(s)
    };
    let tiers_of = |service: Option<Service>| -> Vec<Tier> {
        parts
            .iter()
            .filter(|((s, th), _)| *s == service && *th > 0)
            .filter_map(|((_, th), p)| {
                Some(Tier {
                    threshold: *th,
                    input: p[Dim::Input as usize]?,
                    output: p[Dim::Output as usize]?,
                    cache_read: p[Dim::CacheRead as usize],
                    cache_write: p[Dim::CacheWrite as usize],
                    cache_write_1h: p[Dim::CacheWrite1h as usize],
                })
            })
            .collect()
    };
    let Some(mut base) = parts.get(&(None, 0)).and_then(set_of) else { return Ok(None) };
    base.tiers = tiers_of(None);
    for s in Service::PRICED {
        if let Some(mut set) = parts.get(&(Some(s), 0)).and_then(set_of) {
            set.tiers = tiers_of(Some(s));
            base.services.push((s, set));
        }
    }
    let fee = |v: Option<&Value>| -> Option<Decimal> {
        let text = match v? {
            Value::Number(n) => n.to_string(),
            _ => return None,
        };
        money::parse_decimal(&text)
            .filter(|d| *d >= Decimal::ZERO && *d <= crate::price::MAX_FEE)
            .map(|d| d.normalize())
    };
    // OpenAI's web search costs by context size; `medium` is the API's default. Anthropic's sizes are one price.
    base.fees.web_search =
        fee(m.get("search_context_cost_per_query").and_then(|q| q.get("search_context_size_medium")));
    base.fees.code_execution = fee(m.get("code_interpreter_cost_per_session"));
    base.fast = fee(m.get("provider_specific_entry").and_then(|p| p.get("fast")));
    Ok(Some(base))
}

/// The TOML LiteLLM's prices convert to, and what was left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Converted {
    /// The TOML config text.
    pub toml: String,
    /// One line per model left out for a reason worth telling (names that differ only in case, names or
    /// providers tt cannot use).
    pub warnings: Vec<String>,
    /// The converted models, by name, exactly as `toml` writes them (for `tt-price --diff`).
    pub models: Vec<Model>,
}

/// One converted model: the prices its TOML table writes (a price left out is `None`: a layer that does not
/// write a price keeps the earlier layers' one).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The name, lower-case (tt model names ignore case).
    pub name: String,
    /// LiteLLM's `litellm_provider`, if any.
    pub provider: Option<String>,
    /// The prices: per million tokens, tiers, service tiers, fast factor and tool fees.
    pub set: PriceSet,
}

impl Model {
    /// The model's TOML table.
    pub fn toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "[models.{}]", toml_key(&self.name));
        if let Some(p) = &self.provider {
            let _ = writeln!(s, "provider = {}", toml_str(p));
        }
        for part in set_parts(&self.set) {
            let _ = writeln!(s, "{part}");
        }
        s
    }

    /// The model as one line of the built-in catalogue: `"name" = { provider = …, input = …, … }`.
    pub fn catalogue_line(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.provider {
            parts.push(format!("provider = {}", toml_str(p)));
        }
        parts.extend(set_parts(&self.set));
        format!("{} = {{ {} }}", toml_str(&self.name), parts.join(", "))
    }
}

/// Convert LiteLLM's JSON to tt TOML. `providers` filters by `litellm_provider` (empty: all).
///
/// tt model names are case-insensitive, so LiteLLM names that differ only in case (`"X"` and `"x"`) would be
/// the same entry: the first in the file's order is kept, the others are skipped, counted and warned about.
/// Names and providers the config would refuse (empty, control or invisible format characters, surrounding
/// whitespace, longer than 200 characters) are skipped, counted and warned about too. Only text and embedding
/// models are converted, and their prices checked: an image or audio entry is skipped whatever its prices say.
/// Errors name the file (`name`), and the line for bad JSON.
///
/// Every price dimension tt bills is converted: long-context tiers at any threshold (`*_above_272k_tokens`),
/// 5-minute and 1-hour cache writes, the batch, flex and priority service tiers (`*_batches`, `*_flex`,
/// `*_priority`, with their own tiers), the fast-mode factor (`provider_specific_entry.fast`), and per-call fees
/// of web search (`search_context_cost_per_query`, at the default medium context) and code execution
/// (`code_interpreter_cost_per_session`).
///
/// An entry priced 0 for both input and output says nothing was known (LiteLLM writes 0.0 where it has no price):
/// it is skipped and counted — tt counts such a model's records as unpriced, never as free — unless
/// `zero_is_free` (the user's word that those models cost nothing).
pub fn to_toml(name: &str, json: &str, providers: &[String], zero_is_free: bool) -> Result<Converted> {
    let doc: Value = serde_json::from_str(json).map_err(|e| crate::record::json_doc_error(name, json, &e))?;
    convert(&doc, providers, zero_is_free, true).map_err(|e| e.context(name))
}

/// The built-in catalogue's text from LiteLLM's JSON (see [`crate::catalogue`]): a header naming `version`, then
/// one line per model, sorted by name. Names that are built-in aliases are kept: the config is asked first.
pub fn to_catalogue(name: &str, json: &str, version: &str) -> Result<String> {
    let doc: Value = serde_json::from_str(json).map_err(|e| crate::record::json_doc_error(name, json, &e))?;
    let c = convert(&doc, &[], false, false).map_err(|e| e.context(name))?;
    let mut out = format!(
        "# tt's built-in price catalogue: LiteLLM {version} (model_prices_and_context_window_backup.json),\n\
         # converted by scripts/refresh-catalogue.sh. USD per million tokens. Do not edit: override in\n\
         # config/prices.toml. One model per line, sorted by name (looked up by binary search).\n\
         # models: {}\n\
         [models]\n",
        c.models.len()
    );
    // Sorted by the quoted name as written, which is what the lookup compares.
    let mut lines: Vec<(String, String)> = c.models.iter().map(|m| (toml_str(&m.name), m.catalogue_line())).collect();
    lines.sort();
    for (_, line) in lines {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// A price as TOML: a number, or a string when it has more significant digits than a TOML float (read as an
/// f64) keeps — config prices given as strings are read exactly.
fn price_toml(d: rust_decimal::Decimal) -> String {
    let t = money::canonical(d);
    let digits = t.trim_start_matches(['0', '.']).chars().filter(char::is_ascii_digit).count();
    if digits > 15 { format!("\"{t}\"") } else { t }
}

fn convert(doc: &Value, providers: &[String], zero_is_free: bool, skip_aliases: bool) -> Result<Converted> {
    let obj = doc.as_object().ok_or_else(|| Error::data("expected a JSON object of models"))?;
    // A LiteLLM name that is an alias of a built-in entry (`chatgpt-4o-latest` of gpt-4o) cannot also be an
    // entry of its own: the file would not load. Such names are left to the built-in entry, with a warning.
    let aliases = if skip_aliases { builtin_aliases()? } else { BTreeMap::new() };
    let mut models: BTreeMap<String, Model> = BTreeMap::new();
    let mut written_as: BTreeMap<String, String> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut left = LeftOut::default();
    for (name, m) in obj {
        if name == "sample_spec" {
            continue;
        }
        let Some(m) = m.as_object() else { continue };
        let provider = m.get("litellm_provider").and_then(Value::as_str).unwrap_or("");
        if !providers.is_empty() && !providers.iter().any(|p| p == provider) {
            continue;
        }
        let mode = m.get("mode").and_then(Value::as_str).unwrap_or("chat");
        if !TEXT_MODES.contains(&mode) {
            left.skipped += 1;
            continue;
        }
        if let Some(why) = unusable(name, provider) {
            left.bad_names += 1;
            warnings.push(format!("{name:?} skipped: {why}"));
            continue;
        }
        let Some(set) = price_set(name, m, mode == "embedding")? else {
            left.skipped += 1;
            continue;
        };
        if set.input.is_zero() && set.output.is_zero() && !zero_is_free {
            left.zero += 1;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if let Some(entry) = aliases.get(&lower) {
            left.taken += 1;
            warnings.push(format!("{name:?} skipped: it is an alias of the built-in entry {entry:?}"));
            continue;
        }
        if let Some(first) = written_as.get(&lower) {
            left.duplicates += 1;
            warnings.push(format!("{name:?} skipped: tt model names ignore case, and {first:?} came first"));
            continue;
        }
        let model = Model { name: lower.clone(), provider: tt_provider(provider), set };
        written_as.insert(lower.clone(), name.clone());
        models.insert(lower, model);
    }
    let mut out = String::from(
        "# Converted from LiteLLM's model_prices_and_context_window.json by `tt-price --import-litellm`.\n\
         # Prices in USD per million tokens.\n",
    );
    out.push_str(&left.note(models.len()));
    for m in models.values() {
        out.push_str(&m.toml());
        out.push('\n');
    }
    Ok(Converted { toml: out, warnings, models: models.into_values().collect() })
}

/// Every alias of the built-in table (its entries' and the catalogue models'), lower-case, with its model.
fn builtin_aliases() -> Result<BTreeMap<String, String>> {
    let builtin = crate::config::Config::builtin()?;
    let entries = builtin.prices.entries().iter().map(|e| (&e.name, &e.aliases));
    let lazy = builtin.prices.catalogue_aliases().iter().map(|l| (&l.model, &l.aliases));
    Ok(entries
        .chain(lazy)
        .flat_map(|(name, aliases)| aliases.iter().map(move |a| (a.to_ascii_lowercase(), name.clone())))
        .collect())
}

/// The LiteLLM entries a conversion left out, by why, for the note at the top of the file.
#[derive(Default)]
struct LeftOut {
    /// Not text models, or no per-token prices.
    skipped: usize,
    /// Names differing only in case from an earlier one.
    duplicates: usize,
    /// A name or provider tt cannot use.
    bad_names: usize,
    /// Aliases of built-in entries.
    taken: usize,
    /// Priced 0 (unknown, not free) without `--zero-is-free`.
    zero: usize,
}

impl LeftOut {
    /// `# N models converted, M skipped (…), ….` and a blank line.
    fn note(&self, converted: usize) -> String {
        let LeftOut { skipped, duplicates, bad_names, taken, zero } = *self;
        let mut dup = if duplicates > 0 {
            format!(", {duplicates} duplicate names (differing only in case)")
        } else {
            String::new()
        };
        if bad_names > 0 {
            dup.push_str(&format!(", {bad_names} with a name or provider tt cannot use"));
        }
        if taken > 0 {
            dup.push_str(&format!(", {taken} that are aliases of built-in entries"));
        }
        if zero > 0 {
            dup.push_str(&format!(
                ", {zero} priced 0 (unknown, not free: their records stay unpriced; --zero-is-free converts them as free)"
            ));
        }
        format!("# {converted} models converted, {skipped} skipped (not text models, or no per-token prices){dup}.\n\n")
    }
}

/// The provider tt names for LiteLLM's `litellm_provider`: Google's models are `google` (as `tt-log --from gemini`
/// writes), whether LiteLLM lists them under `gemini` or `vertex_ai-language-models`; others as LiteLLM names them.
fn tt_provider(litellm: &str) -> Option<String> {
    match litellm {
        "" => None,
        "gemini" | "vertex_ai-language-models" => Some("google".to_string()),
        p => Some(p.to_string()),
    }
}

/// Why a LiteLLM model name or provider cannot be a tt config name (see `config`'s name rules), if it cannot.
fn unusable(name: &str, provider: &str) -> Option<String> {
    let check = |what: &str, v: &str| {
        crate::record::check_name(what, v)
            .err()
            .map(|e| e.message().to_string())
            .or_else(|| (v.trim() != v).then(|| format!("{what} must not start or end with whitespace")))
    };
    check("model name", name).or_else(|| if provider.is_empty() { None } else { check("provider", provider) })
}

/// The prices that are set, by name.
fn given(named: &[(&'static str, Option<Decimal>)]) -> Vec<(&'static str, Decimal)> {
    named.iter().filter_map(|(k, d)| d.map(|d| (*k, d))).collect()
}

fn set_fields(s: &PriceSet) -> Vec<(&'static str, Decimal)> {
    given(&s.named())
}

fn tier_fields(t: &Tier) -> Vec<(&'static str, Decimal)> {
    given(&t.named())
}

fn inline(fields: &[(&str, Decimal)]) -> String {
    let parts: Vec<String> = fields.iter().map(|(k, d)| format!("{k} = {}", price_toml(*d))).collect();
    format!("{{ {} }}", parts.join(", "))
}

/// A price set as `key = value` TOML parts, in the order tt writes them: prices, long-context tiers, service
/// tiers (inline tables with their own tiers), fast factor, tool fees. Read back by the config loader.
fn set_parts(s: &PriceSet) -> Vec<String> {
    // A set's prices and tiers; a service tier's set is written the same way, inside its inline table.
    let prices_and_tiers = |s: &PriceSet| -> Vec<String> {
        let mut out: Vec<String> = set_fields(s).iter().map(|(k, d)| format!("{k} = {}", price_toml(*d))).collect();
        for t in &s.tiers {
            out.push(format!("{} = {}", crate::price::tier_name(t.threshold), inline(&tier_fields(t))));
        }
        out
    };
    let mut out = prices_and_tiers(s);
    for (service, set) in &s.services {
        out.push(format!("{} = {{ {} }}", service.as_str(), prices_and_tiers(set).join(", ")));
    }
    for (k, d) in given(&s.named_extras()) {
        out.push(format!("{k} = {}", price_toml(d)));
    }
    out
}

/// The price table as `tt-price --list` shows it on a terminal: a row per entry, USD per million tokens, with
/// its long-context tiers, aliases and where it came from.
pub fn entries_table(entries: &[&ModelEntry]) -> crate::output::Table {
    use crate::output::Table;
    let mut t = Table::new(
        &[
            "model",
            "provider",
            "input",
            "output",
            "cache read",
            "cache write",
            "write 1h",
            "long context",
            "aliases",
            "source",
        ],
        &["input", "output", "cache read", "cache write", "write 1h"],
    );
    // On a narrow screen the model and its input and output prices stay; the rarer prices and the
    // names that only say where an entry came from or what else it is called go first.
    t.may_drop(&["source", "write 1h", "provider", "aliases", "long context", "cache write", "cache read"]);
    t.may_abbreviate(&["aliases", "source"]);
    for e in entries {
        let b = &e.base;
        let opt = |d: Option<Decimal>| d.map(money::canonical).unwrap_or_else(|| "-".into());
        let tier = b
            .tiers
            .iter()
            .map(|t| {
                format!(
                    ">{}: {}/{}",
                    crate::price::tier_name(t.threshold).trim_start_matches("above_"),
                    money::canonical(t.input),
                    money::canonical(t.output)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        t.row(vec![
            e.name.clone(),
            e.provider.clone().unwrap_or_default(),
            money::canonical(b.input),
            money::canonical(b.output),
            opt(b.cache_read),
            opt(b.cache_write),
            opt(b.cache_write_1h),
            tier,
            e.aliases.join(", "),
            e.source.clone(),
        ]);
    }
    t
}

/// `tt-price --list`: `entries` in `format` — `table` (USD per million tokens, [`entries_table`]), `json` (one
/// array), `jsonl` ([`entry_json`] a line) or `toml` ([`entry_toml`], a blank line after each); none: a table on
/// a terminal, else JSONL.
pub fn write_entries(out: &mut impl std::io::Write, format: Option<&str>, entries: &[&ModelEntry]) -> Result<()> {
    let terminal = || if crate::output::stdout_is_terminal() { "table" } else { "jsonl" };
    match format.unwrap_or_else(terminal) {
        "table" => {
            writeln!(out, "USD per million tokens")?;
            entries_table(entries).render_text(out)?;
        }
        "json" => crate::output::write_json_array(out, entries.iter().map(|e| entry_json(e)))?,
        "jsonl" => {
            for e in entries {
                writeln!(out, "{}", entry_json(e))?;
            }
        }
        "toml" => {
            for e in entries {
                out.write_all(entry_toml(e).as_bytes())?;
                writeln!(out)?;
            }
        }
        other => return Err(Error::usage(format!("--list cannot write {other:?}; use table, json, jsonl or toml"))),
    }
    Ok(())
}

/// One entry as a TOML table (round-trips through the config parser).
pub fn entry_toml(e: &ModelEntry) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# from {}", e.source);
    let _ = writeln!(s, "[models.{}]", toml_key(&e.name));
    if let Some(p) = &e.provider {
        let _ = writeln!(s, "provider = {}", toml_str(p));
    }
    for part in set_parts(&e.base) {
        let _ = writeln!(s, "{part}");
    }
    if !e.aliases.is_empty() {
        let a: Vec<String> = e.aliases.iter().map(|a| toml_str(a)).collect();
        let _ = writeln!(s, "aliases = [{}]", a.join(", "));
    }
    for h in &e.history {
        let _ = writeln!(s, "[[models.{}.history]]", toml_key(&e.name));
        if let Some(f) = h.from {
            let _ = writeln!(s, "from = {}", f.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        if let Some(u) = h.until {
            let _ = writeln!(s, "until = {}", u.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        for (k, d) in set_fields(h) {
            let _ = writeln!(s, "{k} = {}", price_toml(d));
        }
        for t in &h.tiers {
            let _ = writeln!(s, "{} = {}", crate::price::tier_name(t.threshold), inline(&tier_fields(t)));
        }
    }
    s
}

/// `,"key":value` pairs of exact JSON numbers.
fn json_fields(s: &mut String, fields: &[(&str, Decimal)]) {
    for (k, d) in fields {
        let _ = write!(s, ",\"{k}\":{}", money::canonical(*d));
    }
}

/// A set's tiers as `,"above_200k":{"threshold":200000,"input":…}` members.
fn json_tiers(s: &mut String, tiers: &[Tier]) {
    for t in tiers {
        let _ = write!(s, ",\"{}\":{{\"threshold\":{}", crate::price::tier_name(t.threshold), t.threshold);
        json_fields(s, &tier_fields(t));
        s.push('}');
    }
}

/// One entry as a JSON line (prices as exact JSON numbers).
pub fn entry_json(e: &ModelEntry) -> String {
    let mut s = String::from("{\"model\":");
    crate::record::push_json_string(&mut s, &e.name);
    if let Some(p) = &e.provider {
        s.push_str(",\"provider\":");
        crate::record::push_json_string(&mut s, p);
    }
    json_fields(&mut s, &set_fields(&e.base));
    json_tiers(&mut s, &e.base.tiers);
    for (service, set) in &e.base.services {
        let _ = write!(s, ",\"{}\":{{", service.as_str());
        let mut inner = String::new();
        json_fields(&mut inner, &set_fields(set));
        json_tiers(&mut inner, &set.tiers);
        s.push_str(&inner[1..]);
        s.push('}');
    }
    json_fields(&mut s, &given(&e.base.named_extras()));
    s.push_str(",\"aliases\":[");
    for (i, a) in e.aliases.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        crate::record::push_json_string(&mut s, a);
    }
    s.push_str("],\"history\":");
    let _ = write!(s, "{}", e.history.len());
    s.push_str(",\"source\":");
    crate::record::push_json_string(&mut s, &e.source);
    s.push('}');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each format writes the entries its way; another is refused naming the four.
    #[test]
    fn list_formats() {
        let config = crate::Config::from_str_layer("t.toml", "[models.m]\ninput = 1\noutput = 2\n").unwrap();
        let listed = config.prices.listed(false);
        let m: Vec<&ModelEntry> = listed.iter().filter(|e| e.name == "m").collect();
        let write = |f: &str| {
            let mut out = Vec::new();
            write_entries(&mut out, Some(f), &m).map(|()| String::from_utf8(out).unwrap()).map_err(|e| e.to_string())
        };
        assert_eq!(write("jsonl").unwrap(), format!("{}\n", entry_json(m[0])));
        assert_eq!(write("json").unwrap(), format!("[\n  {}\n]\n", entry_json(m[0])));
        assert_eq!(write("toml").unwrap(), format!("{}\n", entry_toml(m[0])));
        assert!(write("table").unwrap().starts_with("USD per million tokens\nmodel"));
        assert_eq!(write("csv").unwrap_err(), "--list cannot write \"csv\"; use table, json, jsonl or toml");
    }
}
