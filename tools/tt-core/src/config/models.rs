//! The model-entry parser: a `[models.NAME]` table read and merged over the earlier layers' entry (`unset`,
//! tiers, service tiers, dated history, aliases), and the catalogue entries built the same way.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, OnceLock};

use rust_decimal::Decimal;
use serde::Deserialize;
use toml::Spanned;

use super::Builder;
use super::values::{Fee, Place, Rate, first_at, line_of, start};
use crate::error::{Error, Result};
use crate::price::{ModelEntry, PriceSet, Tier};

/// A model's table. Not `deny_unknown_fields`: keys it does not name land in `more`, where only long-context
/// tiers (`above_272k`, `above_131072`) are accepted ([`more_tiers`] refuses anything else).
#[derive(Deserialize)]
pub(super) struct RawModel {
    provider: Option<Spanned<String>>,
    /// Added to the earlier layers' aliases (`unset = ["aliases"]` drops those first).
    aliases: Option<Vec<Spanned<String>>>,
    /// What of the earlier layers' entry to drop before this layer's fields are merged in (see [`UNSET_KEYS`]).
    #[serde(default)]
    unset: Vec<Spanned<String>>,
    #[serde(default)]
    history: Vec<RawHistory>,
    input: Option<Spanned<Rate>>,
    output: Option<Spanned<Rate>>,
    cache_read: Option<Spanned<Rate>>,
    cache_write: Option<Spanned<Rate>>,
    cache_write_1h: Option<Spanned<Rate>>,
    above_200k: Option<RawTier>,
    /// Fast mode: the factor a `speed: "fast"` request's token cost is multiplied by.
    fast: Option<Spanned<Fee>>,
    /// USD per server-side web search.
    web_search: Option<Spanned<Fee>>,
    /// USD per server-side web fetch.
    web_fetch: Option<Spanned<Fee>>,
    /// USD per code-execution session.
    code_execution: Option<Spanned<Fee>>,
    /// Prices of the batch, flex and priority service tiers.
    batch: Option<Spanned<toml::Value>>,
    flex: Option<Spanned<toml::Value>>,
    priority: Option<Spanned<toml::Value>>,
    #[serde(flatten)]
    more: BTreeMap<String, toml::Value>,
}

impl RawModel {
    /// True when the table gives aliases and nothing else.
    fn only_aliases(&self) -> bool {
        self.aliases.as_ref().is_some_and(|a| !a.is_empty())
            && self.provider.is_none()
            && self.unset.is_empty()
            && self.history.is_empty()
            && [&self.input, &self.output, &self.cache_read, &self.cache_write, &self.cache_write_1h]
                .iter()
                .all(|r| r.is_none())
            && self.above_200k.is_none()
            && [&self.fast, &self.web_search, &self.web_fetch, &self.code_execution].iter().all(|f| f.is_none())
            && self.batch.is_none()
            && self.flex.is_none()
            && self.priority.is_none()
            && self.more.is_empty()
    }
}

/// A service tier's prices (`batch = { input = …, output = …, above_272k = { … } }`), read from its value.
#[derive(Deserialize)]
struct PlainService {
    input: Option<Rate>,
    output: Option<Rate>,
    cache_read: Option<Rate>,
    cache_write: Option<Rate>,
    cache_write_1h: Option<Rate>,
    #[serde(flatten)]
    more: BTreeMap<String, toml::Value>,
}

/// A long-context tier written under a key the model table does not name (`above_272k`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PlainTier {
    threshold: Option<u64>,
    input: Option<Rate>,
    output: Option<Rate>,
    cache_read: Option<Rate>,
    cache_write: Option<Rate>,
    cache_write_1h: Option<Rate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTier {
    threshold: Option<Spanned<u64>>,
    input: Option<Spanned<Rate>>,
    output: Option<Spanned<Rate>>,
    cache_read: Option<Spanned<Rate>>,
    cache_write: Option<Spanned<Rate>>,
    cache_write_1h: Option<Spanned<Rate>>,
}

#[derive(Deserialize)]
struct RawHistory {
    from: Option<Spanned<toml::value::Datetime>>,
    until: Option<Spanned<toml::value::Datetime>>,
    input: Option<Spanned<Rate>>,
    output: Option<Spanned<Rate>>,
    cache_read: Option<Spanned<Rate>>,
    cache_write: Option<Spanned<Rate>>,
    cache_write_1h: Option<Spanned<Rate>>,
    above_200k: Option<RawTier>,
    #[serde(flatten)]
    more: BTreeMap<String, toml::Value>,
}

/// The entry of the catalogue model named `name` (lower-case), built from its line on first use and kept for
/// the process (`&'static`: a run prices with a handful of models). A line the loader refuses (a catalogue
/// written by hand, not by the script) is no entry: its model counts as unpriced. This is the
/// [`crate::price::CatalogueReader`] of every table the loader builds.
pub fn catalogue_model(name: &str) -> Option<&'static ModelEntry> {
    static BUILT: OnceLock<Mutex<HashMap<String, Option<&'static ModelEntry>>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    if let Some(e) = built.lock().ok()?.get(name) {
        return *e;
    }
    let source = crate::catalogue::source();
    let e = crate::catalogue::line(name).and_then(|l| catalogue_entry(source, name, l).ok());
    let e: Option<&'static ModelEntry> = e.map(|e| &*Box::leak(Box::new(e)));
    built.lock().ok()?.insert(name.to_string(), e);
    e
}

/// Build the catalogue entry `name` from its line (see [`crate::catalogue`]): the line is read as a config layer
/// of its own, so it means what the same TOML in a config would.
pub fn catalogue_entry(source: &str, name: &str, line: &str) -> Result<ModelEntry> {
    let mut b = Builder { no_catalogue: true, ..Builder::default() };
    b.layer(source, &format!("[models]\n{line}\n"), None)?;
    b.models.remove(name).ok_or_else(|| Error::config(format!("{source}: no entry {name:?} in its line")))
}

impl Builder {
    /// Merge one `[models.M]` table of this layer. `in_this_file` holds the models this file has given so far
    /// (by lower-case name: the name as written and where), to refuse one written twice.
    pub(super) fn model_layer(
        &mut self,
        model: String,
        mut rm: RawModel,
        place: Place,
        in_this_file: &mut BTreeMap<String, (String, Option<usize>)>,
    ) -> Result<()> {
        let text = place.text;
        let key = model.to_ascii_lowercase();
        let at = model_offset(&rm, text, &model);
        if let Err(m) = config_name("model name", &model) {
            return Err(place.err(at, &format!("models.{model}"), m));
        }
        if let Some((first, first_at)) = in_this_file.get(&key) {
            let line = first_at.map(|o| format!(" (line {})", line_of(text, o))).unwrap_or_default();
            return Err(place.err(
                at,
                &format!("models.{model}"),
                format!("the same model as `models.{first}`{line}: model names ignore case"),
            ));
        }
        in_this_file.insert(key.clone(), (model.clone(), at));
        // A later layer merges into the earlier entry field by field, after dropping what it `unset`s.
        // A model no earlier layer has starts from the catalogue's entry, so a layer that gives some of its
        // prices keeps the others (tiers, service tiers, fees).
        let mut old = self.models.get(&key).cloned();
        if old.is_none() && !self.no_catalogue && crate::catalogue::line(&key).is_some() {
            if rm.only_aliases() {
                return self.lazy_aliases_layer(&model, &key, &rm, place, at);
            }
            let mut e = catalogue_model(&key).cloned();
            if let (Some(e), Some(lazy)) = (e.as_mut(), self.lazy_aliases.remove(&key)) {
                e.aliases = lazy.aliases;
            }
            old = e;
        }
        let unset = std::mem::take(&mut rm.unset);
        apply_unset(old.as_mut(), &unset, place, &format!("models.{model}.unset"))?;
        let written_aliases = rm.aliases.take();
        if let (Some(w), Some(o)) = (&written_aliases, &old)
            && w.is_empty()
            && !o.aliases.is_empty()
        {
            let at = header_at(text, "models", &model).or(at);
            return Err(place.err(
                at,
                &format!("models.{model}.aliases"),
                "`aliases = []` adds no alias (a layer's aliases add to the earlier ones): to drop them, write \
                 `unset = [\"aliases\"]`",
            ));
        }
        let entry =
            build_model(&key, &model, rm, written_aliases.unwrap_or_default(), old, place, at, &mut self.alias_at)?;
        self.model_at.insert(key.clone(), place.at(at));
        self.models.insert(key, entry);
        Ok(())
    }

    /// A table that only gives aliases to catalogue model `key` (written `model`, at `at`): the aliases are
    /// kept as names, and the model's line is read when one is used.
    fn lazy_aliases_layer(
        &mut self,
        model: &str,
        key: &str,
        rm: &RawModel,
        place: Place,
        at: Option<usize>,
    ) -> Result<()> {
        let name = place.name;
        let lazy = self.lazy_aliases.entry(key.to_string()).or_insert_with(|| crate::price::CatalogueAliases {
            model: key.to_string(),
            aliases: Vec::new(),
            source: name.to_string(),
        });
        lazy.source = name.to_string();
        for a in rm.aliases.iter().flatten() {
            let akey = format!("models.{model}.aliases");
            config_name("alias", a.get_ref()).map_err(|m| place.err(a.span().start, &akey, m))?;
            let lower = a.get_ref().to_ascii_lowercase();
            self.alias_at.insert((key.to_string(), lower.clone()), place.at(a.span().start));
            if !lazy.aliases.contains(&lower) {
                lazy.aliases.push(lower);
            }
        }
        self.model_at.insert(key.to_string(), place.at(at));
        Ok(())
    }
}

/// The prices of one set (the base prices, a dated history entry, or a service tier's prices) as written.
struct RawSet {
    input: Option<Spanned<Rate>>,
    output: Option<Spanned<Rate>>,
    cache_read: Option<Spanned<Rate>>,
    cache_write: Option<Spanned<Rate>>,
    cache_write_1h: Option<Spanned<Rate>>,
    /// Long-context tiers: their key (`above_200k`) and prices.
    tiers: Vec<(String, RawTier)>,
}

fn rate(v: Option<Spanned<Rate>>) -> Option<Decimal> {
    v.map(|v| v.get_ref().0)
}

/// A value read without its own position, placed at `at` (its table's) for errors.
fn placed<T>(v: Option<T>, at: Option<usize>) -> Option<Spanned<T>> {
    let at = at.unwrap_or(0);
    v.map(|v| Spanned::new(at..at, v))
}

/// The long-context tiers among a table's other keys (`above_272k = { … }`): any other key is an error naming
/// what the table accepts. `at` is the table's place, `key` its dotted key.
fn more_tiers(
    more: BTreeMap<String, toml::Value>,
    accepts: &str,
    place: Place,
    at: Option<usize>,
    key: &str,
) -> Result<Vec<(String, RawTier)>> {
    let mut out = Vec::new();
    for (k, v) in more {
        if crate::price::tier_threshold(&k).is_none() {
            return Err(place.err(at, &format!("{key}.{k}"), format!("unknown key: want one of {accepts}")));
        }
        let t = PlainTier::deserialize(v).map_err(|e| place.err(at, &format!("{key}.{k}"), e.message()))?;
        let tier = RawTier {
            threshold: placed(t.threshold, at),
            input: placed(t.input, at),
            output: placed(t.output, at),
            cache_read: placed(t.cache_read, at),
            cache_write: placed(t.cache_write, at),
            cache_write_1h: placed(t.cache_write_1h, at),
        };
        out.push((k, tier));
    }
    Ok(out)
}

/// What a model table accepts besides tiers, for the error about a key it does not.
const MODEL_KEYS: &str = "provider, aliases, unset, history, input, output, cache_read, cache_write, cache_write_1h, \
                          above_<N>k, batch, flex, priority, fast, web_search, web_fetch, code_execution";

/// A service tier's prices as a [`RawSet`].
fn service_set(v: Spanned<toml::Value>, place: Place, key: &str) -> Result<RawSet> {
    let at = Some(v.span().start);
    let s = PlainService::deserialize(v.into_inner()).map_err(|e| place.err(at, key, e.message()))?;
    Ok(RawSet {
        input: placed(s.input, at),
        output: placed(s.output, at),
        cache_read: placed(s.cache_read, at),
        cache_write: placed(s.cache_write, at),
        cache_write_1h: placed(s.cache_write_1h, at),
        tiers: more_tiers(
            s.more,
            "input, output, cache_read, cache_write, cache_write_1h, above_<N>k",
            place,
            at,
            key,
        )?,
    })
}

/// Build a price set over `old` (the earlier layers' set it changes, if any): a price written here replaces
/// the old one, a price not written keeps it. Tiers merge by threshold the same way: a tier at a threshold the
/// old set has changes that tier's prices, one at a new threshold is added. `at` is where its table is (for
/// errors) and `key` its dotted key.
fn build_set(raw: RawSet, old: Option<&PriceSet>, place: Place, at: Option<usize>, key: &str) -> Result<PriceSet> {
    let input = rate(raw.input).or(old.map(|o| o.input)).ok_or_else(|| place.err(at, key, "missing `input` price"))?;
    let output =
        rate(raw.output).or(old.map(|o| o.output)).ok_or_else(|| place.err(at, key, "missing `output` price"))?;
    let mut tiers: Vec<Tier> = old.map(|o| o.tiers.clone()).unwrap_or_default();
    for (name, t) in raw.tiers {
        let tat = first_at([
            start(&t.threshold),
            start(&t.input),
            start(&t.output),
            start(&t.cache_read),
            start(&t.cache_write),
            start(&t.cache_write_1h),
        ])
        .or(at);
        let tkey = format!("{key}.{name}");
        // The threshold is the key's (`above_272k`: 272,000) unless the tier writes its own.
        let threshold = match t.threshold.map(Spanned::into_inner).or_else(|| crate::price::tier_threshold(&name)) {
            Some(th) if th > 0 => th,
            _ => return Err(place.err(tat, &tkey, "the threshold must be more than 0 tokens")),
        };
        let same = tiers.iter().position(|o| o.threshold == threshold);
        let was = same.map(|i| tiers[i].clone());
        let was = was.as_ref();
        let ti =
            rate(t.input).or(was.map(|o| o.input)).ok_or_else(|| place.err(tat, &tkey, "missing `input` price"))?;
        let to =
            rate(t.output).or(was.map(|o| o.output)).ok_or_else(|| place.err(tat, &tkey, "missing `output` price"))?;
        let tier = Tier {
            threshold,
            input: ti,
            output: to,
            cache_read: rate(t.cache_read).or(was.and_then(|o| o.cache_read)),
            cache_write: rate(t.cache_write).or(was.and_then(|o| o.cache_write)),
            cache_write_1h: rate(t.cache_write_1h).or(was.and_then(|o| o.cache_write_1h)),
        };
        match same {
            Some(i) => tiers[i] = tier,
            None => tiers.push(tier),
        }
    }
    tiers.sort_by_key(|t| t.threshold);
    Ok(PriceSet {
        input,
        output,
        cache_read: rate(raw.cache_read).or(old.and_then(|o| o.cache_read)),
        cache_write: rate(raw.cache_write).or(old.and_then(|o| o.cache_write)),
        cache_write_1h: rate(raw.cache_write_1h).or(old.and_then(|o| o.cache_write_1h)),
        tiers,
        services: old.map(|o| o.services.clone()).unwrap_or_default(),
        fast: old.and_then(|o| o.fast),
        fees: old.map(|o| o.fees).unwrap_or_default(),
        from: old.and_then(|o| o.from),
        until: old.and_then(|o| o.until),
    })
}

/// Where a model's table is: its first value, else its header.
fn model_offset(rm: &RawModel, text: &str, written: &str) -> Option<usize> {
    first_at([
        start(&rm.provider),
        start(&rm.input),
        start(&rm.output),
        start(&rm.cache_read),
        start(&rm.cache_write),
        start(&rm.cache_write_1h),
        rm.aliases.as_ref().and_then(|a| a.first()).map(|a| a.span().start),
        rm.unset.first().map(|u| u.span().start),
    ])
    .or_else(|| header_at(text, "models", written))
}

/// A name the config gives (model, alias, provider), checked like the names in records (non-empty, at most
/// 200 characters, no control or invisible format characters), and written without surrounding whitespace:
/// it reaches records, tables and converted TOML as it is.
fn config_name(what: &str, value: &str) -> std::result::Result<(), String> {
    crate::record::check_name(what, value).map_err(|e| e.message().to_string())?;
    if value.trim() != value {
        return Err(format!("{what} must not start or end with whitespace: {value:?}"));
    }
    Ok(())
}

/// What `unset = [...]` in a `[models.NAME]` table may name: the earlier layers' value is dropped before this
/// layer's fields are merged in (so `unset` plus a new value replaces instead of merging). `input` and `output`
/// cannot be unset: every price set has them. Besides these, any tier (`above_272k`) and its cache prices
/// (`above_272k.cache_read`).
const UNSET_KEYS: &[&str] = &[
    "provider",
    "aliases",
    "cache_read",
    "cache_write",
    "cache_write_1h",
    "above_<N>k",
    "above_<N>k.cache_read",
    "above_<N>k.cache_write",
    "above_<N>k.cache_write_1h",
    "batch",
    "flex",
    "priority",
    "fast",
    "web_search",
    "web_fetch",
    "code_execution",
    "history",
];

/// Drop from `old` (the earlier layers' entry, if any) what `unset` names; unknown names are errors.
fn apply_unset(mut old: Option<&mut ModelEntry>, unset: &[Spanned<String>], place: Place, key: &str) -> Result<()> {
    for u in unset {
        let name = u.get_ref().as_str();
        let (head, field) = match name.split_once('.') {
            Some((h, f)) => (h, Some(f)),
            None => (name, None),
        };
        let tier = crate::price::tier_threshold(head);
        let known = match (tier, field) {
            (Some(_), None | Some("cache_read" | "cache_write" | "cache_write_1h")) => true,
            (None, None) => UNSET_KEYS.contains(&name) && !name.contains('<'),
            _ => false,
        };
        if !known {
            let why = if name == "input" || name == "output" {
                format!("`{name}` cannot be unset (every model has one): give a new price instead")
            } else {
                format!("cannot unset {name:?}: want one of {}", UNSET_KEYS.join(", "))
            };
            return Err(place.err(u.span().start, key, why));
        }
        let Some(e) = old.as_deref_mut() else { continue };
        let b = &mut e.base;
        if let Some(th) = tier {
            match field {
                None => b.tiers.retain(|t| t.threshold != th),
                Some(f) => {
                    for t in b.tiers.iter_mut().filter(|t| t.threshold == th) {
                        match f {
                            "cache_read" => t.cache_read = None,
                            "cache_write" => t.cache_write = None,
                            _ => t.cache_write_1h = None,
                        }
                    }
                }
            }
            continue;
        }
        match name {
            "provider" => e.provider = None,
            "aliases" => e.aliases.clear(),
            "history" => e.history.clear(),
            "cache_read" => b.cache_read = None,
            "cache_write" => b.cache_write = None,
            "cache_write_1h" => b.cache_write_1h = None,
            "fast" => b.fast = None,
            "web_search" => b.fees.web_search = None,
            "web_fetch" => b.fees.web_fetch = None,
            "code_execution" => b.fees.code_execution = None,
            service => {
                if let Some(sv) = crate::record::Service::parse(service) {
                    b.services.retain(|(s, _)| *s != sv);
                }
            }
        }
    }
    Ok(())
}

/// The key of history entry `i` in errors.
fn hk_of(hkey: &str, i: usize) -> String {
    format!("{hkey} (#{})", i + 1)
}

/// A dated price written in this layer: its index among the model's `history` entries here, and its offset.
type Written = (usize, Option<usize>);

/// Build a model's entry from one layer's table over `old`, the earlier layers' entry (already `unset`).
#[allow(clippy::too_many_arguments)]
fn build_model(
    name: &str,
    written: &str,
    rm: RawModel,
    aliases: Vec<Spanned<String>>,
    old: Option<ModelEntry>,
    place: Place,
    at: Option<usize>,
    alias_at: &mut BTreeMap<(String, String), String>,
) -> Result<ModelEntry> {
    let key = format!("models.{written}");
    if let Some(p) = &rm.provider
        && let Err(m) = config_name("provider", p.get_ref())
    {
        return Err(place.err(p.span().start, &format!("{key}.provider"), m));
    }
    let mut tiers: Vec<(String, RawTier)> = rm.above_200k.map(|t| ("above_200k".to_string(), t)).into_iter().collect();
    tiers.extend(more_tiers(rm.more, MODEL_KEYS, place, at, &key)?);
    let mut base = build_set(
        RawSet {
            input: rm.input,
            output: rm.output,
            cache_read: rm.cache_read,
            cache_write: rm.cache_write,
            cache_write_1h: rm.cache_write_1h,
            tiers,
        },
        old.as_ref().map(|o| &o.base),
        place,
        at,
        &key,
    )?;
    let services = [
        (crate::record::Service::Batch, rm.batch),
        (crate::record::Service::Flex, rm.flex),
        (crate::record::Service::Priority, rm.priority),
    ];
    merge_services(&mut base, services, place, &key)?;
    let fee = |f: Option<Spanned<Fee>>| f.map(|f| f.get_ref().0);
    base.fast = fee(rm.fast).or(base.fast);
    base.fees.web_search = fee(rm.web_search).or(base.fees.web_search);
    base.fees.web_fetch = fee(rm.web_fetch).or(base.fees.web_fetch);
    base.fees.code_execution = fee(rm.code_execution).or(base.fees.code_execution);
    let history = merge_history(old.as_ref().map_or(&[][..], |o| &o.history), rm.history, place, &key)?;
    let all_aliases = merge_aliases(old.as_ref(), &aliases, name, place, &key, alias_at)?;
    Ok(ModelEntry {
        name: name.to_string(),
        provider: rm.provider.map(Spanned::into_inner).or(old.as_ref().and_then(|o| o.provider.clone())),
        aliases: all_aliases,
        base,
        history,
        source: place.name.to_string(),
    })
}

/// Merge one layer's service tiers (`[models.M.batch]` …) into `base`, the model's entry at `key`.
fn merge_services(
    base: &mut PriceSet,
    services: [(crate::record::Service, Option<Spanned<toml::Value>>); 3],
    place: Place,
    key: &str,
) -> Result<()> {
    // Service tiers merge like the base prices: fields given change, the rest (tiers included) stay.
    for (service, raw) in services {
        let Some(raw) = raw else { continue };
        let sat = Some(raw.span().start);
        let skey = format!("{key}.{}", service.as_str());
        let set = service_set(raw, place, &skey)?;
        let was = base.services.iter().position(|(s, _)| *s == service);
        let built = build_set(set, was.map(|i| &base.services[i].1), place, sat, &skey)?;
        match was {
            Some(i) => base.services[i].1 = built,
            None => base.services.push((service, built)),
        }
    }
    base.services.sort_by_key(|(s, _)| *s);
    Ok(())
}

/// Merge one layer's dated prices (`written`) into the earlier layers' (`old`) for the model at `key`.
fn merge_history(old: &[PriceSet], written: Vec<RawHistory>, place: Place, key: &str) -> Result<Vec<PriceSet>> {
    // Dated prices merge by their range: an entry with the same `from` and `until` as an earlier layer's changes
    // that entry's prices, any other is added (and must not overlap any). Each carries its number and place in
    // this file, `None` for the earlier layers'.
    let mut history: Vec<(PriceSet, Option<Written>)> = old.iter().map(|h| (h.clone(), None)).collect();
    let hkey = format!("{key}.history");
    for (i, h) in written.into_iter().enumerate() {
        let hat = first_at([
            start(&h.from),
            start(&h.until),
            start(&h.input),
            start(&h.output),
            start(&h.cache_read),
            start(&h.cache_write),
            start(&h.cache_write_1h),
        ]);
        let herr = |at: Option<usize>, m: String| place.err(at, &hkey, format!("#{}: {m}", i + 1));
        let (mut from, mut until) = (None, None);
        for (which, d, into) in [("from", &h.from, &mut from), ("until", &h.until, &mut until)] {
            if let Some(d) = d {
                *into = Some(toml_date(d.get_ref()).map_err(|m| herr(Some(d.span().start), format!("{which}: {m}")))?);
            }
        }
        if from.is_none() && until.is_none() {
            return Err(herr(hat, "needs `from` and/or `until`".into()));
        }
        if let (Some(f), Some(u)) = (from, until)
            && f >= u
        {
            return Err(herr(start(&h.from), format!("`from` ({}) must be before `until` ({})", day(f), day(u))));
        }
        let same = history.iter().position(|(o, mine)| mine.is_none() && o.from == from && o.until == until);
        let raw = history_set(h, place, hat, &hk_of(&hkey, i))?;
        let hk = format!("{hkey} (#{})", i + 1);
        if let Some(j) = same {
            let mut set = build_set(raw, Some(&history[j].0), place, hat, &hk)?;
            (set.from, set.until) = (from, until);
            history[j] = (set, Some((i, hat)));
            continue;
        }
        let mut set = build_set(raw, None, place, hat, &hk)?;
        (set.from, set.until) = (from, until);
        if let Some(which) = overlapped(&set, &history, place.text) {
            return Err(herr(hat, format!("overlaps {which}: dated prices must not overlap")));
        }
        history.push((set, Some((i, hat))));
    }
    Ok(history.into_iter().map(|(s, _)| s).collect())
}

/// The prices of one `history` entry (written at `hat`, named `hk` in errors), its range left out.
fn history_set(h: RawHistory, place: Place, hat: Option<usize>, hk: &str) -> Result<RawSet> {
    let mut tiers: Vec<(String, RawTier)> = h.above_200k.map(|t| ("above_200k".to_string(), t)).into_iter().collect();
    tiers.extend(more_tiers(
        h.more,
        "from, until, input, output, cache_read, cache_write, cache_write_1h, above_<N>k",
        place,
        hat,
        hk,
    )?);
    Ok(RawSet {
        input: h.input,
        output: h.output,
        cache_read: h.cache_read,
        cache_write: h.cache_write,
        cache_write_1h: h.cache_write_1h,
        tiers,
    })
}

/// Which of `history` the dated price `set` overlaps, in words for the error, if any.
fn overlapped(set: &PriceSet, history: &[(PriceSet, Option<Written>)], text: &str) -> Option<String> {
    // Two dated prices in force at the same instant would make the price depend on their order.
    for (other, mine) in history {
        let this_starts_before_other_ends = match (set.from, other.until) {
            (Some(f), Some(u)) => f < u,
            _ => true,
        };
        let other_starts_before_this_ends = match (other.from, set.until) {
            (Some(f), Some(u)) => f < u,
            _ => true,
        };
        if this_starts_before_other_ends && other_starts_before_this_ends {
            return Some(match mine {
                Some((j, oat)) => {
                    let line = oat.map(|o| format!(" (line {})", line_of(text, o))).unwrap_or_default();
                    format!("history #{}{line}", j + 1)
                }
                None => {
                    let range = |d: Option<chrono::DateTime<chrono::Utc>>| d.map(day).unwrap_or_else(|| "…".into());
                    format!(
                        "an earlier layer's history from {} until {} (to change its prices, give the same `from` \
                         and `until`)",
                        range(other.from),
                        range(other.until)
                    )
                }
            });
        }
    }
    None
}

/// A model's aliases: the earlier layers' (`old`) and then this layer's new ones, each checked and its place
/// kept in `alias_at`.
fn merge_aliases(
    old: Option<&ModelEntry>,
    aliases: &[Spanned<String>],
    name: &str,
    place: Place,
    key: &str,
    alias_at: &mut BTreeMap<(String, String), String>,
) -> Result<Vec<String>> {
    let mut all_aliases = old.map(|o| o.aliases.clone()).unwrap_or_default();
    for a in aliases {
        if a.get_ref().trim().is_empty() {
            return Err(place.err(a.span().start, &format!("{key}.aliases"), "empty alias"));
        }
        config_name("alias", a.get_ref()).map_err(|m| place.err(a.span().start, &format!("{key}.aliases"), m))?;
        let lower = a.get_ref().to_ascii_lowercase();
        alias_at.insert((name.to_string(), lower.clone()), place.at(a.span().start));
        if !all_aliases.contains(&lower) {
            all_aliases.push(lower);
        }
    }
    Ok(all_aliases)
}

/// The offset of the header `[table.name]` (or `[table."name"]`) in `text`, for a table written without any
/// value of its own to point at.
fn header_at(text: &str, table: &str, name: &str) -> Option<usize> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let l = line.trim();
        if let Some(inner) = l.strip_prefix('[').and_then(|l| l.split(']').next()) {
            let parts: Vec<String> = inner.split('.').map(|p| p.trim().trim_matches('"').to_string()).collect();
            if parts.len() >= 2 && parts[0] == table && parts[1] == name {
                return Some(off);
            }
        }
        off += line.len();
    }
    None
}

fn day(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A TOML date or date-time as a UTC instant (dates are midnight UTC).
fn toml_date(d: &toml::value::Datetime) -> std::result::Result<chrono::DateTime<chrono::Utc>, String> {
    let s = d.to_string();
    if let Ok(t) = crate::record::parse_ts(&s) {
        return Ok(t);
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(format!("want a date (2025-01-31) or an RFC 3339 date-time, got {s}"))
}
