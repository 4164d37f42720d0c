//! Price tables in and out: LiteLLM's `model_prices_and_context_window.json` → tt TOML, and tt entries as
//! TOML or JSON (for `tt-price --list`).
//!
//! LiteLLM quotes USD *per token* (`3e-06`); tt quotes USD per *million* tokens (`3`). The conversion is exact:
//! the JSON number's own text is parsed as a decimal and its point moved six places — no floats involved.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::Decimal;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::money;
use crate::price::{MAX_RATE, ModelEntry, PriceSet};

/// LiteLLM modes that are priced per token like chat models.
const TEXT_MODES: &[&str] = &["chat", "completion", "responses"];

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

/// The TOML LiteLLM's prices convert to, and what was left out.
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    /// The name, lower-case (tt model names ignore case).
    pub name: String,
    /// LiteLLM's `litellm_provider`, if any.
    pub provider: Option<String>,
    /// Uncached input, USD per million tokens.
    pub input: Decimal,
    /// Output.
    pub output: Decimal,
    /// Cache read.
    pub cache_read: Option<Decimal>,
    /// 5-minute cache write.
    pub cache_write: Option<Decimal>,
    /// 1-hour cache write.
    pub cache_write_1h: Option<Decimal>,
    /// `above_200k`: input, output, cache read, cache write (no threshold is written).
    pub tier: Option<(Decimal, Decimal, Option<Decimal>, Option<Decimal>)>,
}

impl Model {
    /// The model's TOML table.
    pub fn toml(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "[models.{}]", toml_key(&self.name));
        if let Some(p) = &self.provider {
            let _ = writeln!(s, "provider = {}", toml_str(p));
        }
        let _ = writeln!(s, "input = {}", price_toml(self.input));
        let _ = writeln!(s, "output = {}", price_toml(self.output));
        for (tt_key, d) in [
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("cache_write_1h", self.cache_write_1h),
        ] {
            if let Some(d) = d {
                let _ = writeln!(s, "{tt_key} = {}", price_toml(d));
            }
        }
        if let Some((ti, to, cr, cw)) = self.tier {
            let mut parts = vec![format!("input = {}", price_toml(ti)), format!("output = {}", price_toml(to))];
            for (tt_key, d) in [("cache_read", cr), ("cache_write", cw)] {
                if let Some(d) = d {
                    parts.push(format!("{tt_key} = {}", price_toml(d)));
                }
            }
            let _ = writeln!(s, "above_200k = {{ {} }}", parts.join(", "));
        }
        s
    }
}

/// Convert LiteLLM's JSON to tt TOML. `providers` filters by `litellm_provider` (empty: all).
///
/// tt model names are case-insensitive, so LiteLLM names that differ only in case (`"X"` and `"x"`) would be
/// the same entry: the first in the file's order is kept, the others are skipped, counted and warned about.
/// Names and providers the config would refuse (empty, control or invisible format characters, surrounding
/// whitespace, longer than 200 characters) are skipped, counted and warned about too. Only text models are
/// converted, and their prices checked: an image or audio entry is skipped whatever its prices say.
/// Errors name the file (`name`), and the line for bad JSON.
///
/// An entry priced 0 for both input and output says nothing was known (LiteLLM writes 0.0 where it has no price):
/// it is skipped and counted — tt counts such a model's records as unpriced, never as free — unless
/// `zero_is_free` (the user's word that those models cost nothing).
pub fn to_toml(name: &str, json: &str, providers: &[String], zero_is_free: bool) -> Result<Converted> {
    let doc: Value = serde_json::from_str(json).map_err(|e| crate::record::json_doc_error(name, json, &e))?;
    convert(&doc, providers, zero_is_free).map_err(|e| e.context(name))
}

/// A price as TOML: a number, or a string when it has more significant digits than a TOML float (read as an
/// f64) keeps — config prices given as strings are read exactly.
fn price_toml(d: rust_decimal::Decimal) -> String {
    let t = money::canonical(d);
    let digits = t.trim_start_matches(['0', '.']).chars().filter(char::is_ascii_digit).count();
    if digits > 15 { format!("\"{t}\"") } else { t }
}

fn convert(doc: &Value, providers: &[String], zero_is_free: bool) -> Result<Converted> {
    let obj = doc.as_object().ok_or_else(|| Error::data("expected a JSON object of models"))?;
    // A LiteLLM name that is an alias of a built-in entry (`chatgpt-4o-latest` of gpt-4o) cannot also be an
    // entry of its own: the file would not load. Such names are left to the built-in entry, with a warning.
    let builtin = crate::config::Config::builtin()?;
    let aliases: BTreeMap<String, String> = builtin
        .prices
        .entries()
        .iter()
        .flat_map(|e| e.aliases.iter().map(move |a| (a.to_ascii_lowercase(), e.name.clone())))
        .collect();
    let mut taken = 0usize;
    let mut models: BTreeMap<String, Model> = BTreeMap::new();
    let mut written_as: BTreeMap<String, String> = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut skipped = 0usize;
    let mut duplicates = 0usize;
    let mut bad_names = 0usize;
    let mut zero = 0usize;
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
            skipped += 1;
            continue;
        }
        if let Some(why) = unusable(name, provider) {
            bad_names += 1;
            warnings.push(format!("{name:?} skipped: {why}"));
            continue;
        }
        let price = |key: &str| per_mtok(name, key, m.get(key));
        let (Some(input), Some(output)) = (price("input_cost_per_token")?, price("output_cost_per_token")?) else {
            skipped += 1;
            continue;
        };
        if input.is_zero() && output.is_zero() && !zero_is_free {
            zero += 1;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if let Some(entry) = aliases.get(&lower) {
            taken += 1;
            warnings.push(format!("{name:?} skipped: it is an alias of the built-in entry {entry:?}"));
            continue;
        }
        if let Some(first) = written_as.get(&lower) {
            duplicates += 1;
            warnings.push(format!("{name:?} skipped: tt model names ignore case, and {first:?} came first"));
            continue;
        }
        // Read in the order the TOML writes them, so the first bad price is the one an error names.
        let cache_read = price("cache_read_input_token_cost")?;
        let cache_write = price("cache_creation_input_token_cost")?;
        let cache_write_1h = price("cache_creation_input_token_cost_above_1hr")?;
        let tier =
            match (price("input_cost_per_token_above_200k_tokens")?, price("output_cost_per_token_above_200k_tokens")?)
            {
                (Some(ti), Some(to)) => Some((
                    ti,
                    to,
                    price("cache_read_input_token_cost_above_200k_tokens")?,
                    price("cache_creation_input_token_cost_above_200k_tokens")?,
                )),
                _ => None,
            };
        let model = Model {
            name: lower.clone(),
            provider: (!provider.is_empty()).then(|| provider.to_string()),
            input,
            output,
            cache_read,
            cache_write,
            cache_write_1h,
            tier,
        };
        written_as.insert(lower.clone(), name.clone());
        models.insert(lower, model);
    }
    let mut out = String::from(
        "# Converted from LiteLLM's model_prices_and_context_window.json by `tt-price --import-litellm`.\n\
         # Prices in USD per million tokens.\n",
    );
    let mut dup =
        if duplicates > 0 { format!(", {duplicates} duplicate names (differing only in case)") } else { String::new() };
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
    let _ = writeln!(
        out,
        "# {} models converted, {skipped} skipped (not text models, or no per-token prices){dup}.\n",
        models.len()
    );
    for m in models.values() {
        out.push_str(&m.toml());
        out.push('\n');
    }
    Ok(Converted { toml: out, warnings, models: models.into_values().collect() })
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

/// A TOML bare key if possible, else a quoted one.
pub fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        k.to_string()
    } else {
        toml_str(k)
    }
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::new();
    crate::record::push_json_string(&mut out, s);
    out
}

fn set_fields(s: &PriceSet) -> Vec<(&'static str, Decimal)> {
    let mut v = vec![("input", s.input), ("output", s.output)];
    for (k, d) in [("cache_read", s.cache_read), ("cache_write", s.cache_write), ("cache_write_1h", s.cache_write_1h)] {
        if let Some(d) = d {
            v.push((k, d));
        }
    }
    v
}

fn tier_inline(s: &PriceSet) -> Option<String> {
    let t = s.tier.as_ref()?;
    let mut parts = Vec::new();
    if t.threshold != 200_000 {
        parts.push(format!("threshold = {}", t.threshold));
    }
    parts.push(format!("input = {}", price_toml(t.input)));
    parts.push(format!("output = {}", price_toml(t.output)));
    for (k, d) in [("cache_read", t.cache_read), ("cache_write", t.cache_write), ("cache_write_1h", t.cache_write_1h)] {
        if let Some(d) = d {
            parts.push(format!("{k} = {}", price_toml(d)));
        }
    }
    Some(format!("{{ {} }}", parts.join(", ")))
}

/// One entry as a TOML table (round-trips through the config parser).
pub fn entry_toml(e: &ModelEntry) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# from {}", e.source);
    let _ = writeln!(s, "[models.{}]", toml_key(&e.name));
    if let Some(p) = &e.provider {
        let _ = writeln!(s, "provider = {}", toml_str(p));
    }
    for (k, d) in set_fields(&e.base) {
        let _ = writeln!(s, "{k} = {}", price_toml(d));
    }
    if let Some(t) = tier_inline(&e.base) {
        let _ = writeln!(s, "above_200k = {t}");
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
        if let Some(t) = tier_inline(h) {
            let _ = writeln!(s, "above_200k = {t}");
        }
    }
    s
}

/// One entry as a JSON line (prices as exact JSON numbers).
pub fn entry_json(e: &ModelEntry) -> String {
    let mut s = String::from("{\"model\":");
    crate::record::push_json_string(&mut s, &e.name);
    if let Some(p) = &e.provider {
        s.push_str(",\"provider\":");
        crate::record::push_json_string(&mut s, p);
    }
    for (k, d) in set_fields(&e.base) {
        let _ = write!(s, ",\"{k}\":{}", money::canonical(d));
    }
    if let Some(t) = &e.base.tier {
        let _ = write!(
            s,
            ",\"above_200k\":{{\"threshold\":{},\"input\":{},\"output\":{}",
            t.threshold,
            money::canonical(t.input),
            money::canonical(t.output)
        );
        for (k, d) in
            [("cache_read", t.cache_read), ("cache_write", t.cache_write), ("cache_write_1h", t.cache_write_1h)]
        {
            if let Some(d) = d {
                let _ = write!(s, ",\"{k}\":{}", money::canonical(d));
            }
        }
        s.push('}');
    }
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
