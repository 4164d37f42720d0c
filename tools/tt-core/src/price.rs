//! The price table and exact pricing.
//!
//! Prices are USD per million tokens. A record is priced with the entry its model resolves to (exact name,
//! alias, or the base model of a dated/prefixed id such as `gpt-4o-2024-08-06`, `anthropic/claude-sonnet-4-5`,
//! `claude-sonnet-4-5@20250929`), at the prices in force at its timestamp (dated `history`), and at the
//! long-context tier when its whole prompt (input + cache read + cache writes) exceeds the tier's threshold —
//! in which case the *whole* request is priced at the tier.
//!
//! Missing cache prices fall back sensibly: cache reads and writes at the input price (providers that do not
//! charge for cache writes bill those tokens as input), 1-hour writes at the 5-minute write price.
//!
//! Beyond tokens, a record's [`Billing`] picks the prices too: its service tier (`batch`, `flex`, `priority`) is
//! priced with the entry's prices for that tier when it has them (else at the standard prices), fast mode
//! multiplies the token cost by the entry's `fast` factor, and server-side tool calls (web search, web fetch,
//! code execution) add the entry's per-call fee.
//!
//! Entries come from the config layers first and then from the built-in LiteLLM catalogue
//! ([`crate::catalogue`]), which is only read for the names the config does not know.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::record::{Billing, Service, Tokens};

/// One set of prices, possibly limited to a time range.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceSet {
    /// Uncached input.
    pub input: Decimal,
    /// Output.
    pub output: Decimal,
    /// Cache read (defaults to input).
    pub cache_read: Option<Decimal>,
    /// 5-minute cache write (defaults to input).
    pub cache_write: Option<Decimal>,
    /// 1-hour cache write (defaults to the 5-minute write price).
    pub cache_write_1h: Option<Decimal>,
    /// Long-context tiers, by ascending threshold: a request is priced whole at the highest one its prompt
    /// exceeds.
    pub tiers: Vec<Tier>,
    /// Prices of the other service tiers (their own tiers included), used for records of that tier.
    pub services: Vec<(Service, PriceSet)>,
    /// Fast mode: the factor the token cost of a `speed: "fast"` request is multiplied by.
    pub fast: Option<Decimal>,
    /// Per-call fees of server-side tools.
    pub fees: Fees,
    /// In force from (inclusive).
    pub from: Option<DateTime<Utc>>,
    /// In force until (exclusive).
    pub until: Option<DateTime<Utc>>,
}

/// Per-call fees of server-side tools, USD per call (`None`: not priced, the calls add nothing).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fees {
    /// One web search.
    pub web_search: Option<Decimal>,
    /// One web fetch.
    pub web_fetch: Option<Decimal>,
    /// One code-execution session.
    pub code_execution: Option<Decimal>,
}

impl Fees {
    /// The fees of `b`'s tool calls, exactly; `None` on overflow.
    fn of(&self, b: &Billing) -> Option<Decimal> {
        let mut sum = Decimal::ZERO;
        for (n, fee) in
            [(b.web_search, self.web_search), (b.web_fetch, self.web_fetch), (b.code_execution, self.code_execution)]
        {
            if let Some(fee) = fee.filter(|_| n != 0) {
                sum = sum.checked_add(Decimal::from(n).checked_mul(fee)?)?;
            }
        }
        Some(sum)
    }
}

/// The largest per-call tool fee or fast-mode factor the config accepts.
pub const MAX_FEE: Decimal = Decimal::from_parts(1_000, 0, 0, false, 0);

/// Long-context prices, used for the whole request when its prompt exceeds `threshold` tokens.
#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// Prompt tokens above which the tier applies.
    pub threshold: u64,
    /// Input.
    pub input: Decimal,
    /// Output.
    pub output: Decimal,
    /// Cache read.
    pub cache_read: Option<Decimal>,
    /// Cache write.
    pub cache_write: Option<Decimal>,
    /// 1-hour cache write.
    pub cache_write_1h: Option<Decimal>,
}

/// Effective per-MTok rates after defaults were applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rates {
    /// Uncached input.
    pub input: Decimal,
    /// Output.
    pub output: Decimal,
    /// Cache read.
    pub cache_read: Decimal,
    /// 5-minute cache write.
    pub cache_write: Decimal,
    /// 1-hour cache write.
    pub cache_write_1h: Decimal,
}

/// The largest price the config accepts, in USD per million tokens (a dollar a token). With every rate at most
/// this and every token count a `u64`, a request's cost is below 10^26 and [`Rates::cost`] cannot overflow
/// `Decimal` (whose maximum is about 7.9 × 10^28).
pub const MAX_RATE: Decimal = Decimal::from_parts(1_000_000, 0, 0, false, 0);

impl Rates {
    /// The exact cost of `t` at these rates, or `None` when it does not fit in a `Decimal` (only possible
    /// with rates above [`MAX_RATE`], which the config refuses).
    pub fn checked_cost(&self, t: &Tokens) -> Option<Decimal> {
        let mut sum = Decimal::ZERO;
        for (n, rate) in [
            (t.input, self.input),
            (t.output, self.output),
            (t.cache_read, self.cache_read),
            (t.cache_write, self.cache_write),
            (t.cache_write_1h, self.cache_write_1h),
        ] {
            sum = sum.checked_add(Decimal::from(n).checked_mul(rate)?)?;
        }
        Some(per_million(sum))
    }

    /// The exact cost of `t` at these rates. Rates from a config are at most [`MAX_RATE`], for which this is
    /// always exact; should a hand-built table hold larger ones, a cost that overflows saturates at
    /// `Decimal::MAX` instead of panicking ([`Rates::checked_cost`] and [`try_price_with`] report it).
    pub fn cost(&self, t: &Tokens) -> Decimal {
        self.checked_cost(t).unwrap_or(Decimal::MAX)
    }
}

/// Divide by one million exactly by moving the decimal point.
pub fn per_million(mut d: Decimal) -> Decimal {
    if d.scale() + 6 <= 28 {
        // Cannot fail: the scale stays within rust_decimal's maximum.
        let _ = d.set_scale(d.scale() + 6);
        d
    } else {
        d / crate::money::MILLION
    }
}

/// What priced a request: the rates, and which service tier, long-context tier and speed chose them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The per-MTok rates (before the fast-mode factor).
    pub rates: Rates,
    /// The service tier whose own prices were used (`None`: the standard prices).
    pub service: Option<Service>,
    /// The threshold of the long-context tier used, if any.
    pub tier: Option<u64>,
    /// The fast-mode factor applied, if any.
    pub fast: Option<Decimal>,
}

impl Tier {
    /// Its prices by the names the config gives them (`None`: not set, the set's own applies).
    pub fn named(&self) -> [(&'static str, Option<Decimal>); 5] {
        [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("cache_write_1h", self.cache_write_1h),
        ]
    }
}

impl PriceSet {
    /// Its token prices by the names the config gives them (`None`: not set, the default applies).
    pub fn named(&self) -> [(&'static str, Option<Decimal>); 5] {
        [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_read", self.cache_read),
            ("cache_write", self.cache_write),
            ("cache_write_1h", self.cache_write_1h),
        ]
    }

    /// The fast-mode factor and the tool fees by their config names.
    pub fn named_extras(&self) -> [(&'static str, Option<Decimal>); 4] {
        [
            ("fast", self.fast),
            ("web_search", self.fees.web_search),
            ("web_fetch", self.fees.web_fetch),
            ("code_execution", self.fees.code_execution),
        ]
    }

    /// A set with just input and output prices.
    pub fn flat(input: Decimal, output: Decimal) -> PriceSet {
        PriceSet {
            input,
            output,
            cache_read: None,
            cache_write: None,
            cache_write_1h: None,
            tiers: Vec::new(),
            services: Vec::new(),
            fast: None,
            fees: Fees::default(),
            from: None,
            until: None,
        }
    }

    /// The prices of `service`: its own set when this one has it, else this one.
    pub fn service(&self, service: Service) -> (&PriceSet, Option<Service>) {
        match self.services.iter().find(|(s, _)| *s == service) {
            Some((s, p)) => (p, Some(*s)),
            None => (self, None),
        }
    }

    /// The tier a request whose prompt is `prompt` tokens is priced at: the highest threshold it exceeds.
    pub fn tier_for(&self, prompt: u64) -> Option<&Tier> {
        self.tiers.iter().rev().find(|t| prompt > t.threshold)
    }

    /// This set's own rates, the defaults applied (no tier): cache reads and writes at the input price, 1-hour
    /// writes at the 5-minute write price.
    fn own_rates(&self) -> Rates {
        let cache_write = self.cache_write.unwrap_or(self.input);
        Rates {
            input: self.input,
            output: self.output,
            cache_read: self.cache_read.unwrap_or(self.input),
            cache_write,
            cache_write_1h: self.cache_write_1h.unwrap_or(cache_write),
        }
    }

    fn choose(&self, t: &Tokens, b: &Billing) -> Choice {
        let (set, service) = self.service(b.service);
        let base = set.own_rates();
        let fast = self.fast.filter(|_| b.fast);
        match set.tier_for(t.prompt()) {
            Some(tier) => {
                let cw = tier.cache_write.unwrap_or(base.cache_write);
                Choice {
                    rates: Rates {
                        input: tier.input,
                        output: tier.output,
                        cache_read: tier.cache_read.unwrap_or(base.cache_read),
                        cache_write: cw,
                        cache_write_1h: tier.cache_write_1h.unwrap_or(base.cache_write_1h),
                    },
                    service,
                    tier: Some(tier.threshold),
                    fast,
                }
            }
            None => Choice { rates: base, service, tier: None, fast },
        }
    }

    /// The exact cost of a request (tokens, fast mode, tool fees), `None` on overflow.
    fn checked_cost(&self, c: &Choice, t: &Tokens, b: &Billing) -> Option<Decimal> {
        let mut cost = c.rates.checked_cost(t)?;
        if let Some(f) = c.fast {
            cost = cost.checked_mul(f)?;
        }
        cost.checked_add(self.fees.of(b)?)
    }
    fn in_force(&self, ts: DateTime<Utc>) -> bool {
        self.from.is_none_or(|f| ts >= f) && self.until.is_none_or(|u| ts < u)
    }
}

/// One model's prices.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelEntry {
    /// Canonical (lower-case) name.
    pub name: String,
    /// `anthropic`, `openai`, `google`, …
    pub provider: Option<String>,
    /// Other names (lower-case).
    pub aliases: Vec<String>,
    /// The current prices.
    pub base: PriceSet,
    /// Dated prices that override `base` inside their range.
    pub history: Vec<PriceSet>,
    /// The last config layer that set or changed the entry (layers merge by field).
    pub source: String,
}

impl ModelEntry {
    /// The price set in force at `ts`.
    pub fn set_at(&self, ts: DateTime<Utc>) -> &PriceSet {
        self.history.iter().find(|h| h.in_force(ts)).unwrap_or(&self.base)
    }
}

/// What pricing one request gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Priced {
    /// Exact cost in USD.
    pub cost: Decimal,
    /// Which entry, tier and version priced it, e.g. `claude-sonnet-4-5`, `claude-sonnet-4-5:above_200k`,
    /// `gpt-4o@2024-01-01` (a dated price from that day), `gpt-4o@until-2024-01-01` (the dated price that has
    /// no start and ends that day).
    pub label: String,
}

/// How a table reads the entry of a model of the built-in catalogue ([`crate::catalogue`]) by its name,
/// `&'static` because each is built once per process. A catalogue line is config TOML, so the config loader
/// parses it and hands this to the table it builds ([`PriceTable::with_catalogue`]): the table needs no
/// knowledge of the config to fall back on the catalogue.
pub type CatalogueReader = fn(&str) -> Option<&'static ModelEntry>;

/// The merged price table.
#[derive(Debug, Clone, Default)]
pub struct PriceTable {
    entries: Vec<ModelEntry>,
    /// Aliases the config gives catalogue models it does not otherwise change.
    lazy: Vec<CatalogueAliases>,
    by_name: HashMap<String, Target>,
    /// Where catalogue models come from; none, a table of its entries only.
    catalogue: Option<CatalogueReader>,
}

/// What a name in the table stands for.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// A config entry, by index.
    Entry(usize),
    /// A catalogue model a config layer only gave aliases, by index in `lazy`.
    Catalogue(usize),
}

/// Aliases a config layer gives a catalogue model without changing its prices (`[models.claude-opus-5-5]
/// aliases = ["opus"]`): kept as names, so the model's catalogue line is only read when one is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueAliases {
    /// The catalogue model.
    pub model: String,
    /// Its aliases (lower-case).
    pub aliases: Vec<String>,
    /// The layer that gave them.
    pub source: String,
}

/// Two entries claim the same alias (see [`PriceTable::new`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AliasClash {
    /// The alias.
    pub alias: String,
    /// The entry that claimed it first (its canonical name).
    pub first: String,
    /// The entry that claimed it second.
    pub second: String,
    /// The config layers the two came from.
    pub sources: (String, String),
    /// True when `alias` is `first`'s own name (a model named like another model's alias), not an alias of both.
    pub name_clash: bool,
}

impl std::fmt::Display for AliasClash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name_clash {
            return write!(
                f,
                "`{}` ({}) is the name of a model and an alias of `{}` ({})",
                self.alias, self.sources.0, self.second, self.sources.1
            );
        }
        write!(
            f,
            "alias `{}` is claimed by both `{}` ({}) and `{}` ({})",
            self.alias, self.first, self.sources.0, self.second, self.sources.1
        )
    }
}

impl PriceTable {
    /// Build the table; an alias claimed by two models, or one model's alias that is another model's name, is
    /// an error (either would silently decide which prices a name gets).
    pub fn new(entries: Vec<ModelEntry>) -> Result<Self, Box<AliasClash>> {
        PriceTable::with_aliases(entries, Vec::new())
    }

    /// [`PriceTable::new`], with aliases of catalogue models (checked against the entries' names and aliases,
    /// and each other, the same way).
    pub fn with_aliases(entries: Vec<ModelEntry>, lazy: Vec<CatalogueAliases>) -> Result<Self, Box<AliasClash>> {
        let mut by_name = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            by_name.insert(e.name.clone(), Target::Entry(i));
        }
        // A catalogue model the config names is a name of the table too: an alias elsewhere must not shadow it.
        for (j, l) in lazy.iter().enumerate() {
            by_name.entry(l.model.clone()).or_insert(Target::Catalogue(j));
        }
        let named = |t: Target| match t {
            Target::Entry(i) => (&entries[i].name, &entries[i].source),
            Target::Catalogue(j) => (&lazy[j].model, &lazy[j].source),
        };
        let all = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (Target::Entry(i), &e.aliases))
            .chain(lazy.iter().enumerate().map(|(j, l)| (Target::Catalogue(j), &l.aliases)));
        for (me, aliases) in all {
            for a in aliases {
                if let Some(&other) = by_name.get(a) {
                    let (first, first_source) = named(other);
                    let (second, second_source) = named(me);
                    if first != second {
                        return Err(Box::new(AliasClash {
                            alias: a.clone(),
                            first: first.clone(),
                            second: second.clone(),
                            sources: (first_source.clone(), second_source.clone()),
                            name_clash: first == a,
                        }));
                    }
                }
                by_name.insert(a.clone(), me);
            }
        }
        Ok(PriceTable { entries, lazy, by_name, catalogue: None })
    }

    /// The table, falling back on the built-in catalogue's models read by `read` (see [`CatalogueReader`]).
    pub fn with_catalogue(self, read: CatalogueReader) -> Self {
        PriceTable { catalogue: Some(read), ..self }
    }

    /// The catalogue's entry of the model named `name` (lower-case), if this table reads the catalogue.
    fn catalogue_entry(&self, name: &str) -> Option<&'static ModelEntry> {
        self.catalogue.and_then(|read| read(name))
    }

    /// The entries a cheaper model of `provider` may be chosen from: the config's and the catalogue's (plain
    /// names only: no provider prefix, no date; see [`crate::catalogue::of_provider`]), a config entry hiding
    /// the catalogue's of its name. Parses each such catalogue line once (a few hundred for a big provider).
    pub fn candidates_of(&self, provider: &str) -> Vec<&ModelEntry> {
        let mut out: Vec<&ModelEntry> =
            self.entries.iter().filter(|e| e.provider.as_deref() == Some(provider)).collect();
        if self.catalogue.is_none() {
            return out;
        }
        let plain = crate::catalogue::of_provider(provider).filter(|n| !n.contains('/') && is_plain_name(n));
        for e in plain.filter_map(|n| self.catalogue_entry(n)) {
            if !self.by_name.contains_key(&e.name) {
                out.push(e);
            }
        }
        out
    }

    /// The entries `tt-price --list` shows, sorted by name: the config's, the catalogue models the config gives
    /// aliases (with them), and with `all` every other catalogue model too.
    pub fn listed(&self, all: bool) -> Vec<ModelEntry> {
        let mut out: Vec<ModelEntry> = self.entries.clone();
        for l in &self.lazy {
            if let Some(e) = self.catalogue_entry(&l.model) {
                let mut e = e.clone();
                e.aliases = l.aliases.clone();
                e.source = format!("{} (aliases: {})", e.source, l.source);
                out.push(e);
            }
        }
        if all {
            let have: std::collections::HashSet<String> = out.iter().map(|e| e.name.clone()).collect();
            for name in crate::catalogue::names() {
                if !have.contains(name)
                    && let Some(e) = self.catalogue_entry(name)
                {
                    out.push(e.clone());
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    /// The aliases config layers give catalogue models they do not otherwise change.
    pub fn catalogue_aliases(&self) -> &[CatalogueAliases] {
        &self.lazy
    }

    /// All entries, sorted by name.
    pub fn entries(&self) -> &[ModelEntry] {
        &self.entries
    }

    /// The entry a model id resolves to, if any: the config's entries first (every spelling below), then the
    /// built-in catalogue's ([`crate::catalogue`]) the same way, then a catalogue entry of the same name under a
    /// provider prefix (`chatgpt/gpt-5.3-codex-spark` for `gpt-5.3-codex-spark`).
    pub fn resolve(&self, model: &str) -> Option<&ModelEntry> {
        let lower = model.trim().to_ascii_lowercase();
        if let Some(e) = resolve_with(&lower, |n| self.lookup(n)) {
            return Some(e);
        }
        // A table that reads no catalogue has nothing more to find.
        self.catalogue?;
        if let Some(e) = resolve_with(&lower, |n| self.catalogue_entry(n)) {
            return Some(e);
        }
        let unprefixed = lower.rsplit('/').next().unwrap_or(&lower);
        crate::catalogue::prefixed(unprefixed).and_then(|n| self.catalogue_entry(n))
    }

    /// Up to three known names (a model's name or an alias, as the table spells it) one edit away from `model`
    /// — one character inserted, deleted or replaced, or two neighbours swapped (Damerau–Levenshtein distance
    /// 1), ignoring case, and with a version's dots and dashes either way as [`PriceTable::resolve`] reads
    /// them — at most one per entry, in table order. For the messages about a model the table does not know
    /// (a typo such as `sonet-4.5`); it reads the whole table, so call it only once resolution failed.
    pub fn suggest(&self, model: &str) -> Vec<&str> {
        let typed: Vec<char> = model.trim().to_lowercase().chars().collect();
        let mut out = Vec::new();
        let names = self
            .entries
            .iter()
            .map(|e| (Some(&e.name), &e.aliases))
            .chain(self.lazy.iter().map(|l| (None, &l.aliases)));
        for (name, aliases) in names {
            let near = name.into_iter().chain(aliases).find(|name| {
                let spellings = [Some(name.to_string()), Some(name.replace('.', "-")), dotted_versions(name)];
                spellings.iter().flatten().any(|sp| one_edit_apart(&typed, &sp.chars().collect::<Vec<char>>()))
            });
            if let Some(name) = near {
                out.push(name.as_str());
                if out.len() == 3 {
                    return out;
                }
            }
        }
        // Then the catalogue's plain names (no provider prefix, no date), in its order, when the table reads it.
        let catalogue = self.catalogue.is_some().then(crate::catalogue::names).into_iter().flatten();
        for name in catalogue.filter(|n| !n.contains('/') && is_plain_name(n)) {
            let spellings = [Some(name.to_string()), dotted_versions(name)];
            if !out.contains(&name)
                && spellings.iter().flatten().any(|sp| one_edit_apart(&typed, &sp.chars().collect::<Vec<char>>()))
            {
                out.push(name);
                if out.len() == 3 {
                    break;
                }
            }
        }
        out
    }

    /// `did you mean "sonnet-4.5"?` (or `"a", "b" or "c"`) for an unknown `model`, when [`PriceTable::suggest`]
    /// finds a name one edit away.
    pub fn did_you_mean(&self, model: &str) -> Option<String> {
        let names: Vec<String> = self.suggest(model).iter().map(|n| format!("{n:?}")).collect();
        let (last, rest) = names.split_last()?;
        Some(if rest.is_empty() {
            format!("did you mean {last}?")
        } else {
            format!("did you mean {} or {last}?", rest.join(", "))
        })
    }

    fn lookup(&self, name: &str) -> Option<&ModelEntry> {
        match *self.by_name.get(name)? {
            Target::Entry(i) => Some(&self.entries[i]),
            Target::Catalogue(j) => self.catalogue_entry(&self.lazy[j].model),
        }
    }

    /// Price `tokens` of `model` at `ts`, billed as `billing`; `None` when the model is unknown.
    pub fn price(&self, model: &str, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Option<Priced> {
        let entry = self.resolve(model)?;
        Some(price_with(entry, ts, tokens, billing))
    }
}

/// Price with a known entry, or a data error when the cost does not fit in a `Decimal` (possible only with
/// rates above [`MAX_RATE`]): what tools that write a cost use, so an absurd price is refused, not saturated.
pub fn try_price_with(
    entry: &ModelEntry,
    ts: DateTime<Utc>,
    tokens: &Tokens,
    billing: &Billing,
) -> crate::error::Result<Priced> {
    let (cost, label) = priced(entry, ts, tokens, billing);
    match cost {
        Some(cost) => Ok(Priced { cost, label }),
        None => Err(crate::error::Error::data(format!(
            "the cost of {} tokens of `{}` is too large to compute exactly (its prices must be at most {} USD per \
             million tokens)",
            crate::money::thousands(tokens.total()),
            entry.name,
            MAX_RATE
        ))),
    }
}

/// Price with a known entry (see [`Rates::cost`] for the one case it saturates).
pub fn price_with(entry: &ModelEntry, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Priced {
    let (cost, label) = priced(entry, ts, tokens, billing);
    Priced { cost: cost.unwrap_or(Decimal::MAX), label }
}

/// The name of a long-context tier: `above_200k`, or `above_131072` for a threshold not in whole thousands.
pub fn tier_name(threshold: u64) -> String {
    if threshold.is_multiple_of(1000) { format!("above_{}k", threshold / 1000) } else { format!("above_{threshold}") }
}

/// The threshold a tier name gives: `above_272k` → 272,000, `above_131072` → 131,072.
pub fn tier_threshold(name: &str) -> Option<u64> {
    let n = name.strip_prefix("above_")?;
    let (digits, scale) = match n.strip_suffix('k') {
        Some(d) => (d, 1000),
        None => (n, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) || (digits.len() > 1 && digits.starts_with('0'))
    {
        return None;
    }
    digits.parse::<u64>().ok()?.checked_mul(scale).filter(|&t| t > 0)
}

fn priced(entry: &ModelEntry, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> (Option<Decimal>, String) {
    let set = entry.set_at(ts);
    let c = set.choose(tokens, billing);
    let mut label = entry.name.clone();
    if let Some(s) = c.service {
        label.push(':');
        label.push_str(s.as_str());
    }
    if let Some(th) = c.tier {
        label.push(':');
        label.push_str(&tier_name(th));
    }
    if c.fast.is_some() {
        label.push_str(":fast");
    }
    if let Some(version) = history_version(set) {
        label.push('@');
        label.push_str(&version);
    }
    (set.checked_cost(&c, tokens, billing), label)
}

/// What names a dated price set in a label: its `from` (`2025-01-01`, or the full time when it does not start at
/// midnight UTC), or `until-<until>` for the one set that has no start. `None` for the undated base prices.
///
/// Distinct for every history entry of a model: entries never overlap, so no two share a `from`, and at most one
/// has no `from` at all (two would overlap before their ends).
fn history_version(set: &PriceSet) -> Option<String> {
    let when = |t: DateTime<Utc>| {
        if t.time() == chrono::NaiveTime::MIN {
            t.format("%Y-%m-%d").to_string()
        } else {
            t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        }
    };
    match (set.from, set.until) {
        (Some(f), _) => Some(when(f)),
        (None, Some(u)) => Some(format!("until-{}", when(u))),
        (None, None) => None,
    }
}

/// The effective rates that price `tokens` with `entry` at `ts` (service tier, long-context tier and history
/// applied; the fast-mode factor is not in them).
pub fn rates_at(entry: &ModelEntry, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Rates {
    entry.set_at(ts).choose(tokens, billing).rates
}

/// What prices `tokens` with `entry` at `ts`: rates, service tier, long-context tier, fast factor.
pub fn choice_at(entry: &ModelEntry, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Choice {
    entry.set_at(ts).choose(tokens, billing)
}

/// The exact cost of a request with a known entry, without building a label (the hot path of `tt-sum`). Saturates
/// at `Decimal::MAX` like [`Rates::cost`].
pub fn cost_with(entry: &ModelEntry, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Decimal {
    let set = entry.set_at(ts);
    // The common case skips the choice: a plain request on a set without tiers.
    if billing.is_plain() && set.tiers.is_empty() {
        return set.own_rates().cost(tokens);
    }
    let c = set.choose(tokens, billing);
    set.checked_cost(&c, tokens, billing).unwrap_or(Decimal::MAX)
}

/// Prices many records, resolving each distinct model name once: resolution lower-cases and tries several
/// spellings, which is far dearer than the multiplication itself.
#[derive(Debug)]
pub struct Pricer<'t> {
    table: &'t PriceTable,
    cache: HashMap<String, Option<&'t ModelEntry>>,
}

impl<'t> Pricer<'t> {
    /// A pricer over `table`.
    pub fn new(table: &'t PriceTable) -> Self {
        Pricer { table, cache: HashMap::new() }
    }

    /// The entry `model` resolves to, cached.
    pub fn entry(&mut self, model: &str) -> Option<&'t ModelEntry> {
        if let Some(e) = self.cache.get(model) {
            return *e;
        }
        let e = self.table.resolve(model);
        self.cache.insert(model.to_string(), e);
        e
    }

    /// The model names seen that resolve to no entry, sorted, one per name ignoring case and surrounding
    /// whitespace (as resolution does: `mystery` and `MYSTERY` are one unknown model, named as first sorted).
    pub fn unknown(&self) -> Vec<String> {
        let mut v: Vec<String> = self.cache.iter().filter(|(_, e)| e.is_none()).map(|(k, _)| k.clone()).collect();
        v.sort();
        let mut seen = std::collections::HashSet::new();
        v.retain(|m| seen.insert(m.trim().to_lowercase()));
        v
    }

    /// The exact cost, or `None` for an unknown model.
    pub fn cost(&mut self, model: &str, ts: DateTime<Utc>, tokens: &Tokens, billing: &Billing) -> Option<Decimal> {
        self.entry(model).map(|e| cost_with(e, ts, tokens, billing))
    }

    /// Price a record as `tt-price` does as a filter: a record without a cost (or every record, `reprice`) gets
    /// `cost_usd`, its `price` label and, when it names none, the entry's provider. False when its model is
    /// unknown: it stays unpriced (under `reprice` a cost it carried is removed, as the table no longer
    /// vouches for it). An error is a cost too large to compute exactly.
    pub fn price_record(&mut self, r: &mut crate::record::Record, reprice: bool) -> crate::error::Result<bool> {
        if r.cost_usd.is_some() && !reprice {
            return Ok(true);
        }
        let Some(e) = self.entry(&r.model) else {
            if reprice {
                r.cost_usd = None;
                r.price = None;
            }
            return Ok(false);
        };
        let p = try_price_with(e, r.ts, &r.tokens, &r.billing)?;
        r.cost_usd = Some(p.cost);
        r.price = Some(p.label);
        if r.provider.is_none() {
            r.provider = e.provider.clone();
        }
        Ok(true)
    }
}

/// Whether `a` and `b` are exactly one edit apart: one character inserted, deleted or replaced, or two
/// neighbours swapped (Damerau–Levenshtein distance 1). Linear: only the first difference needs looking at.
fn one_edit_apart(a: &[char], b: &[char]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let p = short.iter().zip(long).take_while(|(x, y)| x == y).count();
    match long.len() - short.len() {
        // One replaced (the rest equal), or the first difference and the next swapped.
        0 if p < short.len() => {
            short[p + 1..] == long[p + 1..]
                || (p + 1 < short.len()
                    && short[p] == long[p + 1]
                    && short[p + 1] == long[p]
                    && short[p + 2..] == long[p + 2..])
        }
        // One inserted into the shorter at the first difference.
        1 => short[p..] == long[p + 1..],
        _ => false,
    }
}

/// True for a model name without a date or version suffix (`gpt-4o-mini`, not `gpt-4o-mini-2024-07-18` or
/// `…-latest`): the names that stand for a model rather than one snapshot of it.
pub fn is_plain_name(name: &str) -> bool {
    strip_suffix_words(strip_date(name)) == name && !name.contains(['@', ':'])
}

/// Resolve `lower` (a lower-cased model id) with `lookup`, trying the spellings of one model in turn: as written;
/// without a provider prefix (`anthropic/…`, `openrouter/openai/gpt-4o`, `models/gemini-2.5-pro`); without a Vertex
/// or Bedrock version (`@20250929`, `-v1:0`) and Bedrock region (`us.anthropic.`); without a date (`-20250929`,
/// `-2024-08-06`) and a marketing suffix (`-latest`); with the version before the family written after it
/// (OpenRouter's `claude-4.6-sonnet` is `claude-sonnet-4.6`); each also with its version's dots as dashes and
/// dashes as dots.
fn resolve_with<'a>(lower: &str, lookup: impl Fn(&str) -> Option<&'a ModelEntry>) -> Option<&'a ModelEntry> {
    if let Some(e) = lookup(lower) {
        return Some(e);
    }
    // `anthropic/claude-…`, `openrouter/openai/gpt-4o`, `models/gemini-2.5-pro`
    let unprefixed = lower.rsplit('/').next().unwrap_or(lower);
    // `claude-sonnet-4-5@20250929` (Vertex), `…-v1:0` (Bedrock)
    let unversioned = unprefixed.split(['@', ':']).next().unwrap_or(unprefixed);
    // Bedrock: `anthropic.claude-…`, and cross-region inference profiles `us.anthropic.claude-…`.
    let unversioned = strip_bedrock_region(unversioned);
    let unversioned = unversioned.strip_prefix("anthropic.").unwrap_or(unversioned);
    let unversioned = strip_bedrock_version(unversioned);
    let undated = strip_suffix_words(strip_date(unversioned));
    let reordered = family_first(undated);
    let cands =
        [Some(unprefixed), Some(unversioned), Some(strip_date(unversioned)), Some(undated), reordered.as_deref()];
    for cand in cands.into_iter().flatten() {
        if let Some(e) = lookup(cand) {
            return Some(e);
        }
        // Version numbers spelled either way: `sonnet-4.5` ⇄ `sonnet-4-5`, `gpt-4-1` → `gpt-4.1`. Only a
        // separator between two digits changes, and only after the exact spelling failed.
        let dashed = cand.replace('.', "-");
        if let Some(e) = lookup(&dashed) {
            return Some(e);
        }
        if let Some(e) = dotted_versions(cand).and_then(|d| lookup(&d)) {
            return Some(e);
        }
    }
    None
}

/// `claude-4.6-sonnet` → `claude-sonnet-4.6`: Claude ids with the version before the family name (OpenRouter's,
/// and the Claude 3 era's `claude-3-5-sonnet` style) written the current way. `None` when `s` is not such an id.
fn family_first(s: &str) -> Option<String> {
    let rest = s.strip_prefix("claude-")?;
    let (version, family) = rest.rsplit_once('-')?;
    if !matches!(family, "opus" | "sonnet" | "haiku" | "fable") || !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    if !version.bytes().all(|c| c.is_ascii_digit() || c == b'.' || c == b'-') {
        return None;
    }
    Some(format!("claude-{family}-{version}"))
}

/// The geography prefixes of Bedrock's cross-region inference profiles (`us.anthropic.claude-…`).
const BEDROCK_REGIONS: &[&str] = &["us", "us-gov", "eu", "apac", "au", "ca", "jp", "global"];

/// Drop a Bedrock cross-region prefix (`us.`, `eu.`, `apac.`, `global.`, …) in front of `anthropic.`.
fn strip_bedrock_region(s: &str) -> &str {
    match s.split_once('.') {
        Some((region, rest)) if BEDROCK_REGIONS.contains(&region) && rest.starts_with("anthropic.") => rest,
        _ => s,
    }
}

/// `s` with every `-` between two digits written as `.` (`gemini-2-5-pro` → `gemini-2.5-pro`), or `None` when
/// there is none. A date's dashes (`2024-08-06`) change too, but no entry has such a name, and dates are stripped
/// before the candidates that matter.
fn dotted_versions(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = None::<Vec<u8>>;
    for i in 1..b.len().saturating_sub(1) {
        if b[i] == b'-' && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit() {
            out.get_or_insert_with(|| b.to_vec())[i] = b'.';
        }
    }
    out.and_then(|v| String::from_utf8(v).ok())
}

/// Drop a Bedrock revision suffix: `-v1`, `-v2`.
fn strip_bedrock_version(s: &str) -> &str {
    if let Some(i) = s.rfind("-v")
        && s.len() > i + 2
        && s[i + 2..].bytes().all(|c| c.is_ascii_digit())
    {
        return &s[..i];
    }
    s
}

/// Drop a trailing date: `-20250929`, `-2024-08-06`, `-0613`.
fn strip_date(s: &str) -> &str {
    let b = s.as_bytes();
    let digits_from_end =
        |n: usize| b.len() > n && b[b.len() - n - 1] == b'-' && b[b.len() - n..].iter().all(u8::is_ascii_digit);
    if digits_from_end(8) {
        return &s[..s.len() - 9];
    }
    if b.len() > 11 {
        // Bytes, not a `str` slice: 11 bytes from the end may fall inside a character (`clau\u{fffd}e-opus-4-1`).
        // Cutting before an ASCII `-` is always on a character boundary.
        let tb = &b[b.len() - 11..];
        if tb[0] == b'-'
            && tb[5] == b'-'
            && tb[8] == b'-'
            && tb[1..5].iter().all(u8::is_ascii_digit)
            && tb[6..8].iter().all(u8::is_ascii_digit)
            && tb[9..11].iter().all(u8::is_ascii_digit)
        {
            return &s[..s.len() - 11];
        }
    }
    if digits_from_end(4) {
        return &s[..s.len() - 5];
    }
    s
}

/// Drop marketing suffixes that do not change the price: `-latest`, `-preview`, `-exp`.
fn strip_suffix_words(s: &str) -> &str {
    for suf in ["-latest", "-preview", "-exp"] {
        if let Some(r) = s.strip_suffix(suf) {
            return r;
        }
    }
    s
}

/// `tt-price`'s filter: every record of `sources` written to `out` as a JSON line, priced with `table` (one
/// that carries a cost keeps it, unless `reprice`). A record of a model the table does not know is refused with
/// `strict` (an error naming it, with a "did you mean"); otherwise it passes through unpriced, with one warning
/// per model (names compared as resolution compares them: trimmed, ignoring case) and, once `out` is flushed,
/// a count of them all. Warnings go to `warn`, as they arise.
pub fn filter(
    sources: &[crate::input::Source],
    table: &PriceTable,
    reprice: bool,
    strict: bool,
    out: &mut impl std::io::Write,
    warn: &mut dyn FnMut(String),
) -> crate::error::Result<()> {
    let mut warned = std::collections::BTreeSet::new();
    let (mut unpriced, mut total) = (0u64, 0u64);
    // Each distinct model name is resolved once (resolution tries several spellings and the catalogue).
    let mut pricer = Pricer::new(table);
    for src in sources {
        crate::input::for_each_line(&src.name(), src.open()?, |_, line| {
            let mut r = crate::record::Record::parse(crate::input::utf8(line)?)?;
            total += 1;
            if !pricer.price_record(&mut r, reprice)? {
                if strict {
                    let hint = table.did_you_mean(&r.model).map(|h| format!("; {h}")).unwrap_or_default();
                    return Err(crate::error::Error::data(format!("unknown model {:?} (--strict{hint})", r.model)));
                }
                unpriced += 1;
                if warned.insert(r.model.trim().to_lowercase()) {
                    let hint = table.did_you_mean(&r.model).map(|h| format!(" ({h})")).unwrap_or_default();
                    warn(format!("unknown model {:?}{hint}: passed through unpriced", r.model));
                }
            }
            writeln!(out, "{}", r.to_json())?;
            Ok(())
        })?;
    }
    out.flush()?;
    if unpriced > 0 {
        warn(format!("{unpriced} of {total} records unpriced"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The filter prices what it can, warns once per unknown model (whatever its case) and counts the unpriced;
    /// with `strict` an unknown model is the error.
    #[test]
    fn the_filter_prices_and_warns() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("in.jsonl");
        let rec = |model: &str| {
            format!(
                "{{\"v\":1,\"id\":\"x\",\"ts\":\"2026-01-02T03:04:05Z\",\"agent\":\"A\",\"model\":\"{model}\",\
                 \"input_tokens\":100000,\"output_tokens\":0}}\n"
            )
        };
        std::fs::write(&path, [rec("sonnet-4.5"), rec("Nope-1"), rec("nope-1 ")].concat()).unwrap();
        let sources = [crate::input::Source::File(path)];
        let table = crate::Config::builtin().unwrap().prices;
        let (mut out, mut warned) = (Vec::new(), Vec::new());
        filter(&sources, &table, false, false, &mut out, &mut |w| warned.push(w)).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert_eq!(out.lines().count(), 3);
        assert!(out.lines().next().unwrap().contains("\"cost_usd\":0.3,"), "{out}");
        assert_eq!(warned, ["unknown model \"Nope-1\": passed through unpriced", "2 of 3 records unpriced"]);
        let e = filter(&sources, &table, false, true, &mut Vec::new(), &mut |_| ()).unwrap_err();
        assert!(e.to_string().contains("in.jsonl:2: unknown model \"Nope-1\" (--strict)"), "{e}");
    }

    /// Found by `config::props` (a mutated built-in file): a date suffix 11 bytes from the end that starts
    /// inside a multi-byte character once panicked with a slice off a character boundary.
    #[test]
    fn strip_date_never_cuts_inside_a_character() {
        assert_eq!(strip_date("clau\u{fffd}e-opus-4-1"), "clau\u{fffd}e-opus-4-1");
        assert_eq!(strip_date("\u{fffd}\u{fffd}\u{fffd}\u{fffd}x"), "\u{fffd}\u{fffd}\u{fffd}\u{fffd}x");
        assert_eq!(strip_date("gpt-4o-2024-08-06"), "gpt-4o");
        assert_eq!(strip_date("é-2024-08-06"), "é");
        assert_eq!(strip_date("claude-sonnet-4-5-20250929"), "claude-sonnet-4-5");
    }
    use crate::config::Config;
    use crate::money::parse_decimal;

    fn d(s: &str) -> Decimal {
        parse_decimal(s).unwrap()
    }

    #[test]
    fn seed_examples_are_exact() {
        let c = Config::builtin().unwrap();
        let ts = Utc::now();
        let t = Tokens { input: 50_000, output: 15_000, ..Default::default() };
        assert_eq!(c.prices.price("sonnet-4.5", ts, &t, &Billing::default()).unwrap().cost, d("0.375"));
        let t = Tokens { input: 10_000, output: 30_000, ..Default::default() };
        assert_eq!(c.prices.price("claude-sonnet-4-5-20250929", ts, &t, &Billing::default()).unwrap().cost, d("0.48"));
    }

    #[test]
    fn resolution() {
        let c = Config::builtin().unwrap();
        for (m, want) in [
            // A model the config names (here by its aliases) takes its dated ids before the catalogue's snapshots.
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("gpt-4o-2024-09-09", "gpt-4o"),
            ("openai/gpt-4o", "gpt-4o"),
            ("someproxy/gpt-4o", "gpt-4o"),
            ("anthropic/claude-4.6-sonnet-20260217", "claude-sonnet-4-6"),
            // Only under provider prefixes: the maker's own API is preferred to resellers'.
            ("grok-4.6", "xai/grok-4.6"),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            ("anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
            ("Sonnet-4.5", "claude-sonnet-4-5"),
            ("models/gemini-2.5-pro", "gemini-2.5-pro"),
            ("sonnet-4-5", "claude-sonnet-4-5"),
            ("opus-4-5", "claude-opus-4-5"),
            ("haiku-4-5", "claude-haiku-4-5"),
            ("gpt-4-1", "gpt-4.1"),
            ("gpt-4-1-mini", "gpt-4.1-mini"),
            ("gemini-2-5-pro", "gemini-2.5-pro"),
            ("gemini-2-5-flash-lite", "gemini-2.5-flash-lite"),
            ("sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("gpt-4-0613", "gpt-4-0613"),
            ("gpt-4-0101", "gpt-4"),
            ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "claude-sonnet-4-5"),
            ("eu.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-haiku-4-5"),
            ("apac.anthropic.claude-sonnet-4-20250514-v1:0", "claude-sonnet-4"),
            ("global.anthropic.claude-opus-4-5-20251101-v1:0", "claude-opus-4-5"),
            ("bedrock/us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku"),
        ] {
            assert_eq!(c.prices.resolve(m).map(|e| e.name.as_str()), Some(want), "{m}");
        }
        assert_eq!(c.prices.resolve("claude-fable-5").map(|e| e.name.as_str()), Some("claude-fable-5"));
        assert!(c.prices.resolve("claude-mystery-9").is_none());
        // Only a known geography is a region prefix; a version separator never becomes something else.
        for unknown in ["xx.anthropic.claude-sonnet-4-5", "sonnet-4-5-1", "gpt-4-1-0"] {
            assert!(c.prices.resolve(unknown).is_none(), "{unknown} resolved");
        }
    }

    /// Every built-in name and alias, spelled with its version's dots as dashes or its dashes as dots, resolves
    /// to its own entry — never to another one — and no two entries share a spelling.
    #[test]
    fn every_spelling_of_every_built_in_name_is_unambiguous() {
        let c = Config::builtin().unwrap();
        let mut seen: HashMap<String, String> = HashMap::new();
        for e in c.prices.entries() {
            for name in std::iter::once(&e.name).chain(&e.aliases) {
                let dashed = name.replace('.', "-");
                let dotted = dotted_versions(name).unwrap_or_else(|| name.clone());
                for spelling in [name.clone(), dashed.clone(), dotted, name.to_ascii_uppercase()] {
                    let got = c.prices.resolve(&spelling).map(|e| e.name.as_str());
                    assert_eq!(got, Some(e.name.as_str()), "{spelling} (a spelling of {name})");
                }
                if let Some(other) = seen.insert(dashed.clone(), e.name.clone()) {
                    assert_eq!(other, e.name, "{dashed} is a spelling of both {other} and {}", e.name);
                }
            }
        }
    }

    #[test]
    fn one_edit_is_insert_delete_replace_or_swap() {
        let apart = |a: &str, b: &str| {
            let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
            one_edit_apart(&a, &b) && one_edit_apart(&b, &a)
        };
        for (a, b) in [("sonet", "sonnet"), ("sonnet", "sonnett"), ("sonnet", "sonnex"), ("snonet", "sonnet")] {
            assert!(apart(a, b), "{a} {b}");
        }
        assert!(apart("", "a") && apart("ab", "ba") && apart("gpt-4o", "gpt-4"));
        for (a, b) in [("sonnet", "sonnet"), ("sonet", "sonnett"), ("abc", "cba"), ("abcd", "badc"), ("", "ab")] {
            assert!(!apart(a, b), "{a} {b}");
        }
    }

    #[test]
    fn suggestions_are_one_edit_away_in_table_order() {
        let c = Config::builtin().unwrap();
        let p = &c.prices;
        assert_eq!(p.suggest("sonet-4.5"), ["sonnet-4.5"]);
        assert_eq!(p.suggest("SONET-4.5"), ["sonnet-4.5"]);
        // Swapped neighbours; a version written with dashes matches the dotted alias and is named as written.
        assert_eq!(p.suggest("snonet-4.5"), ["sonnet-4.5"]);
        assert_eq!(p.suggest("sonet-4-5"), ["sonnet-4.5"]);
        // Several entries one edit away: each once, in table order.
        assert_eq!(p.suggest("sonnet-4.7"), ["sonnet-3.7", "sonnet-4.5", "sonnet-4.6"]);
        assert_eq!(
            p.did_you_mean("sonnet-4.7").as_deref(),
            Some(r#"did you mean "sonnet-3.7", "sonnet-4.5" or "sonnet-4.6"?"#)
        );
        assert_eq!(p.did_you_mean("haiku-4.6").as_deref(), Some(r#"did you mean "haiku-4.5"?"#));
        assert_eq!(
            p.did_you_mean("opus-4.7").as_deref(),
            Some(r#"did you mean "opus-4.1", "opus-4.5" or "opus-4.6"?"#)
        );
        assert_eq!(p.did_you_mean("sonet-4.5").as_deref(), Some(r#"did you mean "sonnet-4.5"?"#));
        assert!(p.suggest("claude-fable-5").is_empty());
        assert_eq!(p.did_you_mean("mystery-model"), None);
        // Never more than three.
        assert!(p.suggest("gpt-5").len() <= 3);
    }

    #[test]
    fn long_context_prices_the_whole_request() {
        let c = Config::builtin().unwrap();
        let t = Tokens { input: 150_000, cache_read: 60_000, output: 1_000, ..Default::default() };
        let p = c.prices.price("claude-sonnet-4-5", Utc::now(), &t, &Billing::default()).unwrap();
        // 150k*6 + 60k*0.6 + 1k*22.5 = 0.9 + 0.036 + 0.0225
        assert_eq!(p.cost, d("0.9585"));
        assert_eq!(p.label, "claude-sonnet-4-5:above_200k");
    }
}
