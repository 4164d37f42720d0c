//! The layered TOML config: prices, budgets and settings.
//!
//! Layers, later wins: the defaults compiled into every binary (`config/prices.toml`, `config/tt.toml`),
//! `$XDG_CONFIG_HOME/tt/config.toml`, the nearest `tt.toml` in the current directory or its parents,
//! `$TT_CONFIG`, then `--config PATH`. Settings are replaced key by key; a model entry is replaced whole by a
//! later layer's entry of the same name; budgets accumulate, a later budget replacing an earlier one of the same
//! name. Every file is parsed strictly: an unknown key, a wrong type or a negative price is an error naming the
//! file, the line and the key — never a silently ignored setting.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use chrono::Weekday;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde::de::{self, Deserializer};

use crate::budget::default_warn_at;
use crate::error::{Error, Result, Warned};
use crate::money::{self, MAX_AMOUNT};
use crate::period::{Calendar, parse_tz};
use crate::price::{MAX_RATE, ModelEntry, PriceSet, PriceTable, Tier};
use toml::Spanned;

/// The embedded default price table.
pub const DEFAULT_PRICES: &str = include_str!("../../../config/prices.toml");
/// The embedded default settings.
pub const DEFAULT_SETTINGS: &str = include_str!("../../../config/tt.toml");

/// Default sane maximum for one token count in one record.
pub const DEFAULT_MAX_TOKENS: u64 = 100_000_000;

/// The largest `max_tokens` a config may set: 10^12 tokens in one field of one record. Far beyond any real
/// request, and small enough that readers' sums over millions of records stay exact.
pub const MAX_MAX_TOKENS: u64 = 1_000_000_000_000;

/// The budget types, named here too because a [`Config`] holds its budgets; their home (and their rules) is
/// [`crate::budget`].
pub use crate::budget::{Budget, BudgetPeriod};

/// The effective configuration after all layers.
#[derive(Debug, Clone)]
pub struct Config {
    /// The log path from config (already resolved against the defining file's directory).
    pub log: Option<PathBuf>,
    /// IANA time zone name for calendar periods.
    pub tz: String,
    /// First day of the week.
    pub week_start: Weekday,
    /// Largest token count accepted in one field of one record.
    pub max_tokens: u64,
    /// The merged price table.
    pub prices: PriceTable,
    /// The merged budgets, in definition order, each checked against [`crate::budget::rules`] when loaded.
    pub budgets: Vec<Budget>,
    /// The layers that were read, in order ("builtin" for the embedded defaults).
    pub layers: Vec<String>,
    /// The `[optimize]` rules tt-optimize applies.
    pub optimize: OptimizeSettings,
    /// How long a reservation (`tt-budget --reserve`) holds its amount when it is neither settled nor released.
    pub reservation_ttl: chrono::Duration,
    /// Whether tt-log says on stderr when a record moves a budget across a level (`budget_alerts`).
    pub budget_alerts: bool,
}

/// The `[optimize]` table: the rules behind tt-optimize's suggestions (defaults in `config/tt.toml`).
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizeSettings {
    /// Right-sizing: a request is "small" when its output is at most this many tokens …
    pub small_output_tokens: u64,
    /// … and its whole prompt (input + cache) at most this many.
    pub small_prompt_tokens: u64,
    /// Right-sizing: fewest small requests of one agent on one model worth a suggestion.
    pub rightsize_min_records: u64,
    /// Caching: fewest requests of a session on one model worth a suggestion.
    pub cache_min_requests: u64,
    /// Caching: the smallest repeated prefix (uncached input of the session's smallest request) worth caching.
    pub cache_min_prefix_tokens: u64,
    /// Caching: sessions whose cache hit ratio (cache read / prompt) is below this fraction are candidates.
    pub cache_max_hit_ratio: Decimal,
    /// Caching: the cache's lifetime — a request reads the cached prefix only when it comes at most this long
    /// after the previous request of its session and model; a longer pause starts a new run that writes it again.
    pub cache_max_gap: chrono::Duration,
    /// Outliers: a record or session is an outlier above `max(p<outlier_percentile>, outlier_factor × median)`.
    pub outlier_factor: Decimal,
    /// Outliers: the percentile (1–100).
    pub outlier_percentile: u32,
    /// Outliers: fewest priced records (or sessions) an agent needs before its "normal" cost means anything.
    pub outlier_min_records: u64,
    /// Budget advice: the recommended limit is this percentile (1–100) of past complete periods.
    pub budget_percentile: u32,
    /// The next cheaper model of the same provider, by canonical model name (`claude-opus-4-5` →
    /// `claude-sonnet-4-5`). Models not listed fall back to a model derived from the price table.
    pub cheaper: BTreeMap<String, String>,
}

impl Default for OptimizeSettings {
    fn default() -> Self {
        OptimizeSettings {
            small_output_tokens: 1_000,
            small_prompt_tokens: 20_000,
            rightsize_min_records: 3,
            cache_min_requests: 3,
            cache_min_prefix_tokens: 1_024,
            cache_max_hit_ratio: Decimal::new(1, 1),
            cache_max_gap: chrono::Duration::minutes(5),
            outlier_factor: Decimal::from(3),
            outlier_percentile: 95,
            outlier_min_records: 10,
            budget_percentile: 90,
            cheaper: BTreeMap::new(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    log: Option<Spanned<String>>,
    tz: Option<Spanned<String>>,
    week_start: Option<Spanned<String>>,
    max_tokens: Option<Spanned<u64>>,
    reservation_ttl: Option<Spanned<String>>,
    budget_alerts: Option<bool>,
    #[serde(default)]
    models: BTreeMap<String, RawModel>,
    #[serde(default)]
    budget: Vec<RawBudget>,
    optimize: Option<RawOptimize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOptimize {
    small_output_tokens: Option<u64>,
    small_prompt_tokens: Option<u64>,
    rightsize_min_records: Option<u64>,
    cache_min_requests: Option<u64>,
    cache_min_prefix_tokens: Option<u64>,
    cache_max_hit_ratio: Option<Spanned<Price>>,
    cache_max_gap: Option<Spanned<String>>,
    outlier_factor: Option<Spanned<Price>>,
    outlier_percentile: Option<Spanned<u32>>,
    outlier_min_records: Option<u64>,
    budget_percentile: Option<Spanned<u32>>,
    #[serde(default)]
    cheaper: BTreeMap<String, Spanned<String>>,
}

/// A model's table. Not `deny_unknown_fields`: keys it does not name land in `more`, where only long-context
/// tiers (`above_272k`, `above_131072`) are accepted ([`more_tiers`] refuses anything else).
#[derive(Deserialize)]
struct RawModel {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBudget {
    name: Spanned<String>,
    period: String,
    #[serde(default)]
    scope: BTreeMap<String, String>,
    limit_usd: Option<Price>,
    limit_tokens: Option<u64>,
    warn_at: Option<Vec<Price>>,
}

/// A non-negative exact decimal read from a TOML float, integer or string, at most [`MAX_AMOUNT`].
#[derive(Clone, Copy)]
struct Price(Decimal);

fn too_large<E: de::Error>(max: Decimal, unit: &str) -> E {
    E::custom(format!("too large: at most {max}{unit}"))
}

fn bounded<E: de::Error>(d: Option<Decimal>, finite: bool, max: Decimal, unit: &str) -> Result<Decimal, E> {
    match d {
        Some(d) if d < Decimal::ZERO => Err(E::custom("must not be negative")),
        Some(d) if d > max => Err(too_large(max, unit)),
        Some(d) => Ok(d),
        None if finite => Err(too_large(max, unit)),
        None => Err(E::custom("must be a finite number")),
    }
}

fn decimal_visitor<'de, D: Deserializer<'de>>(d: D, max: Decimal, unit: &'static str) -> Result<Decimal, D::Error> {
    struct V(Decimal, &'static str);
    impl de::Visitor<'_> for V {
        type Value = Decimal;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a non-negative number")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            bounded(Some(Decimal::from(v)), true, self.0, self.1)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            bounded(Some(Decimal::from(v)), true, self.0, self.1)
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
            let d = money::decimal_from_f64(v);
            // A TOML float is read as an f64, whose shortest text is kept exactly (3.75 is 3.75). Below what a
            // decimal holds it would silently become 0: refuse that rather than price at $0.
            if v != 0.0 && v.abs() < 1.0 && d.is_none_or(|d| d.is_zero()) {
                return Err(E::custom(format!("too small to hold exactly: {v:e} (write it as a string, \"0.0…\")")));
            }
            bounded(d, v.is_finite(), self.0, self.1)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
            match money::parse_decimal(v) {
                Some(d) => bounded(Some(d), true, self.0, self.1),
                // Text that is a number, just not one a Decimal holds (`"1e40"`), is too large, not "not a number".
                None if v.trim().parse::<f64>().is_ok_and(|f| f.is_finite() && f.abs() >= 1.0) => {
                    Err(too_large(self.0, self.1))
                }
                None => Err(E::custom(format!("not a decimal number: {v:?}"))),
            }
        }
    }
    d.deserialize_any(V(max, unit))
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, MAX_AMOUNT, "").map(Price)
    }
}

/// A price in USD per million tokens: a [`Price`] of at most [`MAX_RATE`] (a dollar a token), the bound that
/// keeps every cost exact.
#[derive(Clone, Copy)]
struct Rate(Decimal);

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, MAX_RATE, " USD per million tokens").map(Rate)
    }
}

/// A per-call fee in USD, or the fast-mode factor: at most [`crate::price::MAX_FEE`].
#[derive(Clone, Copy)]
struct Fee(Decimal);

impl<'de> Deserialize<'de> for Fee {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        decimal_visitor(d, crate::price::MAX_FEE, "").map(Fee)
    }
}

/// Where in a config file something is, for errors of the form `file:line: key `a.b`: message`.
#[derive(Clone, Copy)]
struct Place<'a> {
    name: &'a str,
    text: &'a str,
    /// The offsets of `text`'s newlines, so a line number is a binary search (every model and alias records
    /// where it was written: counting from the start each time made loading quadratic in the file's size).
    newlines: &'a [usize],
}

impl Place<'_> {
    /// `file:line` of the byte offset `at` (just `file` when the place is unknown).
    fn at(&self, at: impl Into<Option<usize>>) -> String {
        match at.into() {
            Some(at) => format!("{}:{}", self.name, self.newlines.partition_point(|&n| n < at) + 1),
            None => self.name.to_string(),
        }
    }
    /// A config error at byte offset `at` about `key`.
    fn err(&self, at: impl Into<Option<usize>>, key: &str, msg: impl std::fmt::Display) -> Error {
        Error::config(format!("{}: key `{key}`: {msg}", self.at(at)))
    }
}

/// The first of some values' offsets: where a table is, told by the values written in it. (Tables themselves
/// carry no reliable span: one that exists only as the parent of `[a.b]` has none at all.)
fn first_at(spans: impl IntoIterator<Item = Option<usize>>) -> Option<usize> {
    spans.into_iter().flatten().min()
}

fn start<T>(v: &Option<Spanned<T>>) -> Option<usize> {
    v.as_ref().map(|v| v.span().start)
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    memchr::memchr_iter(b'\n', &text.as_bytes()[..at.min(text.len())]).count() + 1
}

/// Where the XDG config and data directories are.
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(v) if !v.is_empty() && Path::new(&v).is_absolute() => Some(PathBuf::from(v)),
        _ => std::env::var_os("HOME").filter(|h| !h.is_empty()).map(|h| PathBuf::from(h).join(fallback)),
    }
}

/// The default log path: `$XDG_DATA_HOME/tt/usage.jsonl`.
pub fn default_log_path() -> Option<PathBuf> {
    xdg_dir("XDG_DATA_HOME", ".local/share").map(|d| d.join("tt").join("usage.jsonl"))
}

/// A TOML bare key if possible, else a quoted one.
pub fn toml_key(k: &str) -> String {
    if !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        k.to_string()
    } else {
        toml_str(k)
    }
}

/// A TOML basic string (a JSON string is one).
pub fn toml_str(s: &str) -> String {
    let mut out = String::new();
    crate::record::push_json_string(&mut out, s);
    out
}

/// The nearest `tt.toml` in `dir` or its parents.
pub fn find_project_config(dir: &Path) -> Option<PathBuf> {
    let mut d = Some(dir);
    while let Some(cur) = d {
        let p = cur.join("tt.toml");
        if p.is_file() {
            return Some(p);
        }
        d = cur.parent();
    }
    None
}

impl Config {
    /// Load every layer, with `explicit` (from `--config`) last.
    pub fn load(explicit: Option<&Path>) -> Result<Config> {
        Config::load_with_layer(explicit, None)
    }

    /// [`Config::load`], with one more layer on top: `(name, text)` (what `tt-price --diff` would load).
    pub fn load_with_layer(explicit: Option<&Path>, extra: Option<(&str, &str)>) -> Result<Config> {
        let mut b = Builder::default();
        b.layer("builtin:prices.toml", DEFAULT_PRICES, None)?;
        b.layer("builtin:tt.toml", DEFAULT_SETTINGS, None)?;
        if let Some(dir) = xdg_dir("XDG_CONFIG_HOME", ".config") {
            b.file(&dir.join("tt").join("config.toml"), false)?;
        }
        if let Ok(cwd) = std::env::current_dir()
            && let Some(p) = find_project_config(&cwd)
        {
            b.file(&p, true)?;
        }
        if let Some(p) = std::env::var_os("TT_CONFIG").filter(|v| !v.is_empty()) {
            b.file(Path::new(&p), true)?;
        }
        if let Some(p) = explicit {
            b.file(p, true)?;
        }
        if let Some((name, text)) = extra {
            b.layer(name, text, None)?;
        }
        b.finish()
    }

    /// The built-in defaults only (for tests and `tt-price --list --builtin`).
    pub fn builtin() -> Result<Config> {
        let mut b = Builder::default();
        b.layer("builtin:prices.toml", DEFAULT_PRICES, None)?;
        b.layer("builtin:tt.toml", DEFAULT_SETTINGS, None)?;
        b.finish()
    }

    /// Parse one TOML text as a single layer on top of the built-in defaults (for tests and tools).
    pub fn from_str_layer(name: &str, text: &str) -> Result<Config> {
        Config::from_str_layers(&[(name, text)])
    }

    /// Parse TOML texts as layers, in order, on top of the built-in defaults (for tests and tools).
    pub fn from_str_layers(layers: &[(&str, &str)]) -> Result<Config> {
        let mut b = Builder::default();
        b.layer("builtin:prices.toml", DEFAULT_PRICES, None)?;
        b.layer("builtin:tt.toml", DEFAULT_SETTINGS, None)?;
        for (name, text) in layers {
            b.layer(name, text, None)?;
        }
        b.finish()
    }

    /// The usage log's path: `flag` (`--log`), else `$TT_LOG`, else the config's `log`, else
    /// `$XDG_DATA_HOME/tt/usage.jsonl`.
    pub fn log_path(&self, flag: Option<&Path>) -> Result<PathBuf> {
        if let Some(p) = flag {
            return Ok(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os("TT_LOG").filter(|v| !v.is_empty()) {
            return Ok(PathBuf::from(p));
        }
        if let Some(p) = &self.log {
            return Ok(p.clone());
        }
        default_log_path().ok_or_else(|| Error::usage("cannot find the usage log: set --log, TT_LOG or HOME"))
    }

    /// The time zone for calendar periods.
    pub fn timezone(&self) -> Result<chrono_tz::Tz> {
        parse_tz(&self.tz)
    }

    /// The calendar a tool runs in: zone `tz` (`--tz`), else the config's `tz`; weeks from the config's
    /// `week_start`; "now" from `today` (`--today`), else the clock — with the warning for a `--today` local
    /// time in a daylight-saving gap or fold (see [`Calendar::from_flags`]).
    pub fn calendar(&self, tz: Option<&str>, today: Option<&str>) -> Result<Warned<Calendar>> {
        Calendar::from_flags(parse_tz(tz.unwrap_or(&self.tz))?, self.week_start, today)
    }
}

#[derive(Default)]
struct Builder {
    log: Option<PathBuf>,
    tz: Option<String>,
    week_start: Option<Weekday>,
    max_tokens: Option<u64>,
    reservation_ttl: Option<chrono::Duration>,
    budget_alerts: Option<bool>,
    models: BTreeMap<String, ModelEntry>,
    budgets: Vec<Budget>,
    layers: Vec<String>,
    optimize: OptimizeSettings,
    /// Where (`file:line`) each `optimize.cheaper` entry was set, to name it when the entry is checked against
    /// the prices; built-in entries start with `builtin:`.
    cheaper_source: BTreeMap<String, String>,
    /// Where (`file:line`) each model's alias was written, by (model, alias), to name both places of a clash.
    alias_at: BTreeMap<(String, String), String>,
    /// Where (`file:line`) each model's entry was written, by name.
    model_at: BTreeMap<String, String>,
    /// Aliases given to catalogue models by tables that only give aliases, by model (see
    /// [`crate::price::CatalogueAliases`]): the model's line is not read at load.
    lazy_aliases: BTreeMap<String, crate::price::CatalogueAliases>,
    /// True while building a catalogue entry: a model not in an earlier layer starts empty, not from the
    /// catalogue (see [`catalogue_entry`]).
    no_catalogue: bool,
}

/// What is wrong with `[optimize.cheaper]`'s `from = to`, if anything: a model not in the price table, two
/// providers, or a `to` that is not cheaper on both input and output.
pub fn cheaper_problem(prices: &PriceTable, from: &str, to: &str) -> Option<String> {
    match (prices.resolve(from), prices.resolve(to)) {
        (None, _) => Some(format!("model `{from}` is not in the price table")),
        (_, None) => Some(format!("model `{to}` is not in the price table")),
        (Some(a), Some(b)) if a.provider.is_some() && b.provider.is_some() && a.provider != b.provider => {
            Some(format!("`{to}` is not a model of the same provider as `{from}`"))
        }
        (Some(a), Some(b)) => {
            let (pa, pb) = (&a.base, &b.base);
            (pb.input > pa.input || pb.output > pa.output || (pb.input == pa.input && pb.output == pa.output))
                .then(|| format!("`{to}` is not cheaper than `{from}`"))
        }
    }
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

/// The most a config file may hold: 16 MiB. The built-in table with every catalogue model is far less; more is
/// not a config (`/dev/zero`, a log given by mistake) and is not read whole.
const MAX_CONFIG: u64 = 16 * 1024 * 1024;

/// Why a config file could not be read: the system's error (a missing optional layer is no error), or tt's.
enum ConfigRead {
    Io(std::io::Error),
    Refused(Error),
}

/// The bytes of config file `path`: a regular file of at most [`MAX_CONFIG`] bytes (or `/dev/null`, an empty
/// config). It is opened without blocking, so a FIFO with no writer cannot hang the open, and its type is
/// checked on the open file before anything is read: a FIFO, socket or device is refused (a config is a
/// regular file; `--config <(…)` must be written to a file first). The read stops one byte past the bound.
fn read_config_file(path: &Path, name: &str) -> std::result::Result<Vec<u8>, ConfigRead> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let refused = |why: String| ConfigRead::Refused(Error::config(format!("config {name}: {why}")));
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(ConfigRead::Io)?;
    let meta = f.metadata().map_err(ConfigRead::Io)?;
    let t = meta.file_type();
    if !t.is_file() {
        let null = std::fs::metadata("/dev/null").is_ok_and(|n| (n.dev(), n.ino()) == (meta.dev(), meta.ino()));
        if null {
            return Ok(Vec::new());
        }
        let what = if t.is_dir() {
            "a directory"
        } else if std::os::unix::fs::FileTypeExt::is_fifo(&t) {
            "a FIFO (a pipe)"
        } else if std::os::unix::fs::FileTypeExt::is_socket(&t) {
            "a socket"
        } else {
            "a device"
        };
        return Err(refused(format!("is {what}, not a regular file (a config is read from a file)")));
    }
    let too_big = || refused(format!("is larger than {} MiB: not a config", MAX_CONFIG >> 20));
    if meta.len() > MAX_CONFIG {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    f.take(MAX_CONFIG + 1).read_to_end(&mut bytes).map_err(ConfigRead::Io)?;
    if bytes.len() as u64 > MAX_CONFIG {
        return Err(too_big());
    }
    Ok(bytes)
}

impl Builder {
    fn file(&mut self, path: &Path, required: bool) -> Result<()> {
        let name = path.display().to_string();
        match read_config_file(path, &name) {
            Ok(mut bytes) => {
                if bytes.starts_with(b"\xEF\xBB\xBF") {
                    bytes.drain(..3); // a UTF-8 byte order mark at the very start is not part of the TOML
                }
                let text = String::from_utf8(bytes).map_err(|e| {
                    let at = e.utf8_error().valid_up_to();
                    let line = line_of(&String::from_utf8_lossy(&e.as_bytes()[..at]), at);
                    Error::config(format!("{name}:{line}: invalid UTF-8 at byte {at} (a config is UTF-8 text)"))
                })?;
                self.layer(&name, &text, path.parent())
            }
            Err(ConfigRead::Io(e)) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(()),
            Err(ConfigRead::Io(e)) => Err(Error::io(format!("config {name}"), e).with_kind_config()),
            Err(ConfigRead::Refused(e)) => Err(e),
        }
    }

    fn layer(&mut self, name: &str, text: &str, dir: Option<&Path>) -> Result<()> {
        let mut raw: RawFile = toml::from_str(text).map_err(|e| toml_error(name, text, &e))?;
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        let place = Place { name, text, newlines: &newlines };
        if let Some((at, float, digits)) = long_float(text) {
            let key = key_at(text, at).unwrap_or_else(|| "?".into());
            return Err(place.err(
                at,
                &key,
                format!(
                    "{float} has {digits} significant digits, more than a TOML float holds exactly (15): write it \
                     as a string, \"{}\", to keep every digit",
                    float.replace('_', "")
                ),
            ));
        }
        self.settings_layer(&mut raw, place, dir)?;
        // Model names ignore case: `[models.M]` and `[models.m]` in one file are one model written twice.
        let mut in_this_file: BTreeMap<String, (String, Option<usize>)> = BTreeMap::new();
        for (model, rm) in std::mem::take(&mut raw.models) {
            self.model_layer(model, rm, place, &mut in_this_file)?;
        }
        self.budgets_layer(std::mem::take(&mut raw.budget), place)?;
        if let Some(ro) = raw.optimize {
            self.optimize_layer(ro, place)
                .map_err(|(at, m)| Error::config(format!("{}: key `optimize.{m}", place.at(at))))?;
        }
        self.layers.push(name.to_string());
        Ok(())
    }

    /// Take one layer's top-level settings (`log`, `tz`, `week_start`, `max_tokens`, `reservation_ttl`,
    /// `budget_alerts`), each checked; a relative `log` is relative to the file's directory `dir`.
    fn settings_layer(&mut self, raw: &mut RawFile, place: Place, dir: Option<&Path>) -> Result<()> {
        if let Some(log) = raw.log.take() {
            if log.get_ref().trim().is_empty() {
                return Err(place.err(
                    log.span().start,
                    "log",
                    "must not be empty (leave `log` out for the default ~/.local/share/tt/usage.jsonl)",
                ));
            }
            let p = PathBuf::from(expand_home(log.get_ref()));
            self.log = Some(match dir {
                Some(d) if p.is_relative() => d.join(p),
                _ => p,
            });
        }
        if let Some(tz) = raw.tz.take() {
            parse_tz(tz.get_ref()).map_err(|e| place.err(tz.span().start, "tz", e.message()))?;
            self.tz = Some(tz.into_inner());
        }
        if let Some(ws) = raw.week_start.take() {
            let day = ws
                .get_ref()
                .parse::<Weekday>()
                .map_err(|_| place.err(ws.span().start, "week_start", format!("not a week day: {:?}", ws.get_ref())))?;
            self.week_start = Some(day);
        }
        if let Some(m) = raw.max_tokens.take() {
            if *m.get_ref() == 0 {
                return Err(place.err(m.span().start, "max_tokens", "must be positive"));
            }
            if *m.get_ref() > MAX_MAX_TOKENS {
                return Err(place.err(
                    m.span().start,
                    "max_tokens",
                    format!("too large: at most {} (10^12)", money::thousands(MAX_MAX_TOKENS)),
                ));
            }
            self.max_tokens = Some(m.into_inner());
        }
        if let Some(t) = raw.reservation_ttl.take() {
            let ms = crate::args::parse_duration(t.get_ref())
                .ok()
                .filter(|ms| *ms > 0 && *ms <= 366 * 86_400_000)
                .ok_or_else(|| {
                    place.err(
                        t.span().start,
                        "reservation_ttl",
                        format!("want a duration such as \"1h\" or \"30m\" (at most a year), got {:?}", t.get_ref()),
                    )
                })?;
            self.reservation_ttl = Some(chrono::Duration::milliseconds(ms as i64));
        }
        if let Some(a) = raw.budget_alerts.take() {
            self.budget_alerts = Some(a);
        }
        Ok(())
    }

    /// Merge one `[models.M]` table of this layer. `in_this_file` holds the models this file has given so far
    /// (by lower-case name: the name as written and where), to refuse one written twice.
    fn model_layer(
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

    /// Add one layer's `[[budget]]` tables; a budget replaces an earlier layer's of the same name.
    fn budgets_layer(&mut self, budgets: Vec<RawBudget>, place: Place) -> Result<()> {
        // Within one file a name is given once: a second `[[budget]]` of the same name is a mistake (a copied
        // block), not a replacement — that is what a later layer does.
        let mut named: BTreeMap<String, usize> = BTreeMap::new();
        for (i, rb) in budgets.into_iter().enumerate() {
            let at = rb.name.span().start;
            if let Some(&first) = named.get(rb.name.get_ref()) {
                return Err(place.err(
                    at,
                    "budget",
                    format!(
                        "duplicate name {:?} (#{}), already given at {} (one file names a budget once; a later \
                         config layer may replace it)",
                        rb.name.get_ref(),
                        i + 1,
                        place.at(first)
                    ),
                ));
            }
            named.insert(rb.name.get_ref().clone(), at);
            let b = build_budget(rb, place.name)
                .map_err(|m| Error::config(format!("{}: key `budget` (#{}): {m}", place.at(at), i + 1)))?;
            self.budgets.retain(|old| old.name != b.name);
            self.budgets.push(b);
        }
        Ok(())
    }

    /// Merge one layer's `[optimize]` table key by key; `cheaper` entries merge by model (`""` removes one).
    /// Errors carry the byte offset of the offending value when known.
    fn optimize_layer(&mut self, ro: RawOptimize, place: Place) -> std::result::Result<(), (Option<usize>, String)> {
        let o = &mut self.optimize;
        let percentile = |key: &str, v: Option<Spanned<u32>>, into: &mut u32| match v {
            Some(p) if !(1..=100).contains(p.get_ref()) => {
                Err((Some(p.span().start), format!("{key}`: must be between 1 and 100, got {}", p.get_ref())))
            }
            Some(p) => {
                *into = p.into_inner();
                Ok(())
            }
            None => Ok(()),
        };
        percentile("outlier_percentile", ro.outlier_percentile, &mut o.outlier_percentile)?;
        percentile("budget_percentile", ro.budget_percentile, &mut o.budget_percentile)?;
        if let Some(r) = ro.cache_max_hit_ratio {
            if r.get_ref().0 > Decimal::ONE {
                return Err((
                    Some(r.span().start),
                    "cache_max_hit_ratio`: is a fraction between 0 and 1 (0.1 means 10%)".into(),
                ));
            }
            o.cache_max_hit_ratio = r.get_ref().0;
        }
        if let Some(g) = ro.cache_max_gap {
            let bad = |m: String| (Some(g.span().start), format!("cache_max_gap`: {m}"));
            let ms = crate::args::parse_duration(g.get_ref()).map_err(|e| bad(e.message().to_string()))?;
            // A prompt cache lives 5 minutes or an hour: a longer gap would count reads no cache gives.
            if !(1000..=3_600_000).contains(&ms) {
                return Err(bad(format!(
                    "must be between \"1s\" and \"1h\" (the 5-minute cache is \"5m\"), got {:?}",
                    g.get_ref()
                )));
            }
            o.cache_max_gap = chrono::Duration::milliseconds(ms as i64);
        }
        if let Some(f) = ro.outlier_factor {
            if f.get_ref().0 < Decimal::ONE {
                return Err((Some(f.span().start), "outlier_factor`: must be at least 1".into()));
            }
            o.outlier_factor = f.get_ref().0;
        }
        for (v, into) in [
            (ro.small_output_tokens, &mut o.small_output_tokens),
            (ro.small_prompt_tokens, &mut o.small_prompt_tokens),
            (ro.rightsize_min_records, &mut o.rightsize_min_records),
            (ro.cache_min_requests, &mut o.cache_min_requests),
            (ro.cache_min_prefix_tokens, &mut o.cache_min_prefix_tokens),
            (ro.outlier_min_records, &mut o.outlier_min_records),
        ] {
            if let Some(v) = v {
                *into = v;
            }
        }
        for (from, to) in ro.cheaper {
            let at = place.at(to.span().start);
            let from = from.trim().to_ascii_lowercase();
            let to = to.get_ref().trim().to_ascii_lowercase();
            if to.is_empty() {
                o.cheaper.remove(&from);
                self.cheaper_source.remove(&from);
            } else {
                o.cheaper.insert(from.clone(), to);
                self.cheaper_source.insert(from, at);
            }
        }
        Ok(())
    }

    /// Every `optimize.cheaper` entry must name two priced models of the same provider, the second cheaper on
    /// both input and output: a mapping that would suggest a dearer model is a config error, not a suggestion.
    /// A *built-in* entry that a user's own prices have made invalid (say haiku repriced above sonnet) is
    /// dropped instead: the user wrote nothing wrong, and tt-log must not fail over a tt-optimize default.
    /// Check the user's `[optimize.cheaper]` entries against the prices: an entry that names an unknown model,
    /// one of another provider or one that is not cheaper is an error naming where it was written. The built-in
    /// entries are not checked here (that would read a dozen catalogue lines at every start): `tt-optimize` drops
    /// those that do not hold ([`cheaper_problem`]).
    fn check_cheaper(&mut self, prices: &PriceTable) -> Result<()> {
        for (from, to) in &self.optimize.cheaper {
            let source = self.cheaper_source.get(from).map(String::as_str).unwrap_or("config");
            if source.starts_with("builtin:") {
                continue;
            }
            if let Some(m) = cheaper_problem(prices, from, to) {
                return Err(Error::config(format!("{source}: key `optimize.cheaper.{from}`: {m}")));
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<Config> {
        let lazy = std::mem::take(&mut self.lazy_aliases).into_values().collect();
        let prices =
            PriceTable::with_aliases(std::mem::take(&mut self.models).into_values().collect(), lazy).map_err(|c| {
                let alias_at = |model: &str, source: &str| {
                    self.alias_at.get(&(model.to_string(), c.alias.clone())).cloned().unwrap_or_else(|| source.into())
                };
                if !c.name_clash {
                    // Name the alias written in the later layer first: that is the one that moved.
                    let layer_of = |at: &str| self.layers.iter().rposition(|l| at.starts_with(&format!("{l}:")));
                    let (first, second) = ((&c.first, &c.sources.0), (&c.second, &c.sources.1));
                    let (first, second) =
                        if layer_of(&alias_at(first.0, first.1)) > layer_of(&alias_at(second.0, second.1)) {
                            (second, first)
                        } else {
                            (first, second)
                        };
                    return Error::config(format!(
                        "{}: key `models.{}.aliases`: alias `{}` is already claimed by `{}` ({})",
                        alias_at(second.0, second.1),
                        second.0,
                        c.alias,
                        first.0,
                        alias_at(first.0, first.1)
                    ));
                }
                // `first` is a model named like `second`'s alias: name the place of the later layer first.
                let model_at = self.model_at.get(&c.first).cloned().unwrap_or_else(|| c.sources.0.clone());
                let layer = |source: &str| self.layers.iter().position(|l| l == source);
                if layer(&c.sources.0) >= layer(&c.sources.1) {
                    Error::config(format!(
                        "{model_at}: key `models.{}`: `{}` is already an alias of `{}` ({}): a model name must not be \
                     another model's alias (to change `{}`'s prices, write [models.{}])",
                        c.first,
                        c.alias,
                        c.second,
                        alias_at(&c.second, &c.sources.1),
                        c.second,
                        toml_key(&c.second)
                    ))
                } else {
                    Error::config(format!(
                        "{}: key `models.{}.aliases`: alias `{}` is already the name of the model `{}` ({model_at})",
                        alias_at(&c.second, &c.sources.1),
                        c.second,
                        c.alias,
                        c.first
                    ))
                }
            })?;
        // The table falls back on the built-in catalogue, whose lines this loader parses.
        let prices = prices.with_catalogue(catalogue_model);
        self.check_cheaper(&prices)?;
        Ok(Config {
            log: self.log,
            tz: self.tz.unwrap_or_else(|| "UTC".into()),
            week_start: self.week_start.unwrap_or(Weekday::Mon),
            max_tokens: self.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            prices,
            budgets: self.budgets,
            layers: self.layers,
            optimize: self.optimize,
            reservation_ttl: self.reservation_ttl.unwrap_or(chrono::Duration::hours(1)),
            budget_alerts: self.budget_alerts.unwrap_or(true),
        })
    }
}

impl Error {
    fn with_kind_config(self) -> Error {
        Error::config(self.message().to_string())
    }
}

fn expand_home(p: &str) -> String {
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => format!("{home}/{rest}"),
        _ => p.to_string(),
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

fn build_budget(rb: RawBudget, source: &str) -> std::result::Result<Budget, String> {
    let name = rb.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err("`name` must not be empty".into());
    }
    let period = BudgetPeriod::parse(&rb.period).ok_or_else(|| {
        format!("{name}: `period` must be day, week, month, year, total or session, got {:?}", rb.period)
    })?;
    for k in rb.scope.keys() {
        if !crate::record::is_scope_field(k) {
            return Err(format!("{name}: scope key `{k}` is not a record field"));
        }
    }
    let budget = Budget {
        name,
        period,
        scope: rb.scope,
        limit_usd: rb.limit_usd.map(|p| p.0),
        limit_tokens: rb.limit_tokens,
        // Checked as written, never sorted: `[0.9, 0.5]` is a mistake to report, not to guess at.
        warn_at: rb.warn_at.map_or_else(default_warn_at, |v| v.into_iter().map(|p| p.0).collect()),
        source: source.to_string(),
    };
    crate::budget::rules(&budget).map_err(|e| format!("{}: {e}", budget.name))?;
    Ok(budget)
}

/// A toml error as `file:line: key `a.b`: message`.
fn toml_error(name: &str, text: &str, e: &toml::de::Error) -> Error {
    let msg = e.message().trim().replace('\n', " ");
    match e.span() {
        Some(span) => {
            let line_no = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let key = key_at(text, span.start);
            match key {
                Some(k) => Error::config(format!("{name}:{line_no}: key `{k}`: {msg}")),
                None => Error::config(format!("{name}:{line_no}: {msg}")),
            }
        }
        None => Error::config(format!("{name}: {msg}")),
    }
}

/// The most significant digits a TOML float keeps exactly: an f64 holds any decimal of 15 digits.
const FLOAT_DIGITS: usize = 15;

/// The first float value written in `text` with more than [`FLOAT_DIGITS`] significant digits (leading and
/// trailing zeros of its digits do not count): its byte offset, its text and its number of digits. TOML reads
/// a float as an f64, so such a price would change silently; strings, comments, keys, dates and times are
/// skipped (the text is valid TOML: the parser has read it).
fn long_float(text: &str) -> Option<(usize, &str, usize)> {
    let b = text.as_bytes();
    let mut i = 0;
    // Inside a value (after `=`, until the end of its line outside brackets) and how deep in brackets.
    let (mut value, mut depth) = (false, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            q @ (b'"' | b'\'') => {
                let multi = b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"\'\'\'" });
                i += if multi { 3 } else { 1 };
                while i < b.len() {
                    if q == b'"' && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if multi && b[i..].starts_with(if q == b'"' { b"\"\"\"" } else { b"\'\'\'" }) {
                        // A closing fence may have up to two more quotes before it ("""a"""").
                        i += 3;
                        while i < b.len() && b[i] == q {
                            i += 1;
                        }
                        break;
                    }
                    if !multi && (b[i] == q || b[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'=' => value = true,
            b'[' | b'{' if value => depth += 1,
            b']' | b'}' if value => depth = depth.saturating_sub(1),
            b'\n' if depth == 0 => value = false,
            c if value && (c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.' | b'_' | b':')) => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'+' | b'-' | b'.' | b'_' | b':'))
                {
                    i += 1;
                }
                let token = &text[start..i];
                if let Some(digits) = float_digits(token)
                    && digits > FLOAT_DIGITS
                {
                    return Some((start, token, digits));
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The significant digits of a TOML float token (`-1_234.5e-3`), `None` for anything else (integers, dates,
/// `inf`, `nan`, keys).
fn float_digits(token: &str) -> Option<usize> {
    let t = token.strip_prefix(['+', '-']).unwrap_or(token);
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    if exp.is_none() && !mantissa.contains('.') {
        return None;
    }
    if let Some(e) = exp {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        if e.is_empty() || !e.bytes().all(|c| c.is_ascii_digit() || c == b'_') {
            return None;
        }
    }
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let ok = |p: &str| p.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    if int.is_empty() || !int.as_bytes()[0].is_ascii_digit() || !ok(int) || !ok(frac) {
        return None;
    }
    let digits: String = format!("{int}{frac}").chars().filter(char::is_ascii_digit).collect();
    Some(digits.trim_start_matches('0').trim_end_matches('0').len())
}

/// The dotted key the byte offset `at` belongs to: the nearest table header above it plus the key on its line.
fn key_at(text: &str, at: usize) -> Option<String> {
    let at = at.min(text.len());
    let line_start = text[..at].rfind('\n').map(|i| i + 1).unwrap_or(0);
    let line_end = text[at..].find('\n').map(|i| at + i).unwrap_or(text.len());
    let line = text[line_start..line_end].trim();
    let mut table = String::new();
    for l in text[..line_start].lines().rev() {
        let l = l.trim();
        if l.starts_with('[') {
            table = l.trim_matches(|c| c == '[' || c == ']').trim().replace('"', "").to_string();
            break;
        }
    }
    let key = if line.starts_with('[') { None } else { line.split_once('=').map(|(k, _)| k.trim().replace('"', "")) };
    match (table.is_empty(), key) {
        (_, None) if table.is_empty() => None,
        (_, None) => Some(table),
        (true, Some(k)) => Some(k),
        (false, Some(k)) => Some(format!("{table}.{k}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_digits_count_what_an_f64_must_hold() {
        for (token, want) in [
            ("3.75", Some(3)),
            ("-1_234.5e-3", Some(5)),
            ("0.000000000000000001", Some(1)),
            ("1.50000000000000000000", Some(2)),
            ("3.0000000000000001", Some(17)),
            ("1e16", Some(1)),
            ("12", None),
            ("2026-11-01", None),
            ("07:32:00.12345678901234567", None),
            ("inf", None),
            ("gpt-4.1", None),
        ] {
            assert_eq!(float_digits(token), want, "{token}");
        }
    }

    #[test]
    fn long_floats_are_found_only_in_values() {
        let text = "# 1.2345678901234567\n[a]\nk = \"1.2345678901234567\"\nl = '''\n1.2345678901234567'''\n\
                    m = [1.5, { x = 2.0 }]\nn = 1.2345678901234567\n";
        let (at, float, digits) = long_float(text).unwrap();
        assert_eq!((line_of(text, at), float, digits), (7, "1.2345678901234567", 17));
        assert_eq!(long_float("x = 1.23456789012345\ny = [\n 1.0,\n 2.5e-7,\n]\n"), None);
    }

    #[test]
    fn built_in_tables_hold_no_long_floats() {
        assert_eq!(long_float(DEFAULT_PRICES), None);
        assert_eq!(long_float(DEFAULT_SETTINGS), None);
        assert_eq!(long_float(crate::catalogue::TEXT), None);
    }
}

/// Property tests (issue 11): the config loader on arbitrary text and on mutated pieces of the built-in files.
#[cfg(test)]
mod props {
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
}
