//! The layered TOML config: prices, budgets and settings.
//!
//! Layers, later wins: the defaults compiled into every binary (`config/prices.toml`, `config/tt.toml`),
//! `$XDG_CONFIG_HOME/tt/config.toml`, the nearest `tt.toml` in the current directory or its parents,
//! `$TT_CONFIG`, then `--config PATH`. Settings are replaced key by key; a model entry is replaced whole by a
//! later layer's entry of the same name; budgets accumulate, a later budget replacing an earlier one of the same
//! name. Every file is parsed strictly: an unknown key, a wrong type or a negative price is an error naming the
//! file, the line and the key — never a silently ignored setting.
//!
//! The parts: this module holds [`Config`], its loading (layers, files, XDG paths) and its top-level
//! settings; `values` the TOML value types (exact decimals) and error placement; `models` the model-entry
//! parser and merge, and the catalogue entries built with it; `budgets` the `[[budget]]` tables; `settings` the
//! `[optimize]` table.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::Weekday;
use serde::Deserialize;

use crate::error::{Error, Result, Warned};
use crate::money;
use crate::period::{Calendar, parse_tz};
use crate::price::{ModelEntry, PriceTable};
use toml::Spanned;

use budgets::RawBudget;
use models::RawModel;
use settings::RawOptimize;
use values::{Place, key_at, line_of, long_float, toml_error};

/// The embedded default price table.
pub const DEFAULT_PRICES: &str = include_str!("../../../../config/prices.toml");
/// The embedded default settings.
pub const DEFAULT_SETTINGS: &str = include_str!("../../../../config/tt.toml");

/// Default sane maximum for one token count in one record.
pub const DEFAULT_MAX_TOKENS: u64 = 100_000_000;

/// The largest `max_tokens` a config may set: 10^12 tokens in one field of one record. Far beyond any real
/// request, and small enough that readers' sums over millions of records stay exact.
pub const MAX_MAX_TOKENS: u64 = 1_000_000_000_000;

/// The budget types, named here too because a [`Config`] holds its budgets; their home (and their rules) is
/// [`crate::budget`].
pub use crate::budget::{Budget, BudgetPeriod};

mod budgets;
mod models;
#[cfg(test)]
mod props;
mod settings;
mod values;

pub use models::{catalogue_entry, catalogue_model};
pub use settings::{OptimizeSettings, cheaper_problem};

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

pub use crate::machine::xdg_dir;

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
