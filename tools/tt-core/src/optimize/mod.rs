//! tt-optimize's analyses: where the money goes and evidenced, priced ways to spend less.
//!
//! Records stream through an [`Analyzer`] once (pass 1), which keeps per-group state only — per agent, per
//! task, per session, per (agent, model) and per budget period — never per record. Record-level outliers need
//! each agent's "normal" cost first, so a second pass ([`Analyzer::second_pass`], then [`SecondPass::observe`]
//! for every record) re-reads the same records and compares each with its agent's threshold; the same pass
//! finds the ids of the first records of the sessions that make a caching suggestion, which pass 1 does not
//! keep. The tool re-reads its files for that (standard input and other pipes are spooled to a temporary file
//! first). Both passes can be split between threads: [`Analyzer::merge`] and [`SecondPass::merge`] combine the
//! states of disjoint parts of the input, and the result does not depend on how the input was split.
//!
//! Memory: a log can have as many sessions (and tasks) as records — every record its own session — so the
//! per-session state is what grows. It is kept small (`sessions`): names back to back in one arena with a
//! 4-byte index slot each (`names`), a session seen in one record only as that record's 80-byte part, and
//! no id strings; about 100 bytes a session plus its name, against 1.7 KB before (1,000,000 single-record
//! sessions: 125 MB peak instead of 1.6 GB). Nothing is estimated or dropped for it: every figure stays exact.
//!
//! Every [`Suggestion`] is computed from the records and the price table: a `saving` that is an exact decimal
//! (a re-pricing of the very records in its evidence), or `None` with a stated reason. Suggestions are ranked
//! by saving (largest first, those without one last), ties broken by type then by a key naming the group, so
//! the same input always gives the same report.
//!
//! The analyses, one module each: [`rightsize`] (a cheaper model of the same provider for small requests),
//! [`caching`] (sessions resending a prompt prefix without caching it), [`outliers`] (records and sessions far
//! above their agent's normal cost), [`budgets`] (trend, forecast and a recommended limit per budget), plus the
//! efficiency tables built here. [`report`] renders the result.

pub mod budgets;
pub mod caching;
mod names;
pub mod outliers;
pub mod report;
pub mod rightsize;
mod sessions;
pub mod stats;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::aggregate::{FxMap, FxSet};
use crate::config::{Config, OptimizeSettings};
use crate::error::{Error, Result};
use crate::period::{Calendar, Window};
use crate::price::{ModelEntry, cost_with};
use crate::record::{Record, Tokens};
use crate::scan::{Field, View};
use names::NameTable;
use sessions::{Contribution, Slot};
use stats::sat_add;

/// What the analyses read from a usage record: implemented for the owned [`Record`] and for the zero-copy
/// [`View`], so the analyses never care how a line was parsed.
pub trait Usage {
    /// The record id.
    fn id(&self) -> &str;
    /// When it happened.
    fn ts(&self) -> DateTime<Utc>;
    /// Who spent it.
    fn agent(&self) -> &str;
    /// The model as logged.
    fn model(&self) -> &str;
    /// The session, if any.
    fn session(&self) -> Option<&str>;
    /// The task, if any.
    fn task(&self) -> Option<&str>;
    /// Token counts.
    fn tokens(&self) -> Tokens;
    /// The logged cost, if the record was priced when written.
    fn cost_usd(&self) -> Option<Decimal>;
    /// Service tier, fast mode and tool calls.
    fn billing(&self) -> crate::record::Billing;
    /// True when the scope field `name` (`agent`, `project`, `tag:KEY`, …) has the value `value`.
    fn has(&self, name: &str, value: &str) -> bool;
}

/// The accessors are the same field reads on both types (a `View`'s fields borrow the line, a `Record`'s are
/// owned, and both deref to the same shapes), so one macro writes them; only `has` differs.
macro_rules! usage_fields {
    () => {
        fn id(&self) -> &str {
            &self.id
        }
        fn ts(&self) -> DateTime<Utc> {
            self.ts
        }
        fn agent(&self) -> &str {
            &self.agent
        }
        fn model(&self) -> &str {
            &self.model
        }
        fn session(&self) -> Option<&str> {
            self.session.as_deref()
        }
        fn task(&self) -> Option<&str> {
            self.task.as_deref()
        }
        fn tokens(&self) -> Tokens {
            self.tokens
        }
        fn cost_usd(&self) -> Option<Decimal> {
            self.cost_usd
        }
        fn billing(&self) -> crate::record::Billing {
            self.billing
        }
    };
}

impl Usage for Record {
    usage_fields!();
    fn has(&self, name: &str, value: &str) -> bool {
        self.field(name) == Some(value)
    }
}

impl Usage for View<'_> {
    usage_fields!();
    fn has(&self, name: &str, value: &str) -> bool {
        Field::parse(name).is_some_and(|f| self.get(&f).is_some_and(|v| v == value))
    }
}

/// The kinds of suggestion, in the order ties are broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Type {
    /// Small requests on an expensive model that a cheaper model of the same provider would do.
    Rightsize,
    /// Sessions resending a large prompt without reading it from the prompt cache.
    Caching,
    /// Records far above their agent's normal cost.
    Outlier,
    /// Sessions far above their agent's normal session cost.
    SessionOutlier,
    /// A recommended limit for a configured budget.
    Budget,
}

impl Type {
    /// Every type, for help texts.
    pub const NAMES: &'static [&'static str] = &["rightsize", "caching", "outlier", "session_outlier", "budget"];

    /// The name written in JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            Type::Rightsize => "rightsize",
            Type::Caching => "caching",
            Type::Outlier => "outlier",
            Type::SessionOutlier => "session_outlier",
            Type::Budget => "budget",
        }
    }

    /// Parse a `--type` value.
    pub fn parse(s: &str) -> Option<Type> {
        Some(match s.trim() {
            "rightsize" | "right-size" | "model" => Type::Rightsize,
            "caching" | "cache" => Type::Caching,
            "outlier" | "outliers" => Type::Outlier,
            "session_outlier" | "session-outlier" => Type::SessionOutlier,
            "budget" | "budgets" => Type::Budget,
            _ => return None,
        })
    }
}

/// One evidenced suggestion.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    /// What kind of suggestion.
    pub kind: Type,
    /// The estimated saving in USD, exact; `None` when the suggestion has no dollar value.
    pub saving: Option<Decimal>,
    /// Why there is no saving (set exactly when `saving` is `None`).
    pub no_saving_reason: Option<String>,
    /// One sentence for people.
    pub message: String,
    /// Where the numbers come from: agents, models, sessions, record ids, the rule applied.
    pub evidence: Map<String, Value>,
    /// A short evidence line for the table (`records: a, b, c (+12 more)`).
    pub brief: String,
    /// Deterministic tie-break inside a type (agent, session, model …).
    pub key: String,
}

impl Suggestion {
    /// The JSON object of the suggestion (`rank` is its 1-based place in the ranking).
    pub fn to_json(&self, rank: usize) -> Value {
        let mut m = Map::new();
        m.insert("kind".into(), "suggestion".into());
        m.insert("rank".into(), rank.into());
        m.insert("type".into(), self.kind.as_str().into());
        m.insert("saving_usd".into(), stats::opt_json(self.saving));
        if let Some(r) = &self.no_saving_reason {
            m.insert("no_saving_reason".into(), r.clone().into());
        }
        m.insert("evidence".into(), Value::Object(self.evidence.clone()));
        m.insert("message".into(), self.message.clone().into());
        Value::Object(m)
    }
}

/// Rank suggestions: saving descending (none last), then type, then key.
pub fn rank(s: &mut [Suggestion]) {
    s.sort_by(|a, b| {
        let by_saving = match (a.saving, b.saving) {
            (Some(x), Some(y)) => y.cmp(&x),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        };
        by_saving.then(a.kind.cmp(&b.kind)).then_with(|| a.key.cmp(&b.key))
    });
}

/// Token sums of a group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenSums {
    /// Uncached input.
    pub input: u64,
    /// Output.
    pub output: u64,
    /// Cache reads.
    pub cache_read: u64,
    /// Cache writes (5-minute and 1-hour).
    pub cache_write: u64,
}

/// Token sums saturate instead of wrapping or panicking: each is a part of the [`Analyzer`]'s exact grand total,
/// which is checked, so a saturated sum is an error, never a reported number.
impl TokenSums {
    fn merge(&mut self, o: &TokenSums) {
        self.input = self.input.saturating_add(o.input);
        self.output = self.output.saturating_add(o.output);
        self.cache_read = self.cache_read.saturating_add(o.cache_read);
        self.cache_write = self.cache_write.saturating_add(o.cache_write);
    }
    fn add(&mut self, t: &Tokens) {
        self.input = self.input.saturating_add(t.input);
        self.output = self.output.saturating_add(t.output);
        self.cache_read = self.cache_read.saturating_add(t.cache_read);
        self.cache_write = self.cache_write.saturating_add(t.cache_write).saturating_add(t.cache_write_1h);
    }
    /// The whole prompt: input + cache read + cache write.
    pub fn prompt(&self) -> u64 {
        self.input.saturating_add(self.cache_read).saturating_add(self.cache_write)
    }
    /// Every token.
    pub fn total(&self) -> u64 {
        self.prompt().saturating_add(self.output)
    }
    /// Output per prompt token, 4 places.
    pub fn output_ratio(&self) -> Option<Decimal> {
        stats::ratio(Decimal::from(self.output), Decimal::from(self.prompt()), 4)
    }
    /// Cache read per prompt token, 4 places.
    pub fn cache_hit_ratio(&self) -> Option<Decimal> {
        stats::ratio(Decimal::from(self.cache_read), Decimal::from(self.prompt()), 4)
    }
}

/// One agent's row of the efficiency table.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEfficiency {
    /// The agent.
    pub agent: String,
    /// Records in the window.
    pub records: u64,
    /// Records with neither a logged cost nor a known model (their dollars are unknown, not zero).
    pub unpriced_records: u64,
    /// Distinct tasks: a record's `task`, else its `session`, else the record itself.
    pub tasks: u64,
    /// Token sums.
    pub tokens: TokenSums,
    /// Exact cost of the priced records (`cost_usd: null` and "—" when every record is unpriced: unknown, not
    /// $0).
    pub cost: Decimal,
    /// Tokens per task, 1 place.
    pub tokens_per_task: Option<Decimal>,
    /// Cost per task, 6 places.
    pub cost_per_task: Option<Decimal>,
    /// Cost per task divided by the median agent's, 2 places (1 = typical, 2 = twice as dear per task).
    pub relative_cost_per_task: Option<Decimal>,
}

/// One task's row (the most expensive tasks).
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEfficiency {
    /// The agent.
    pub agent: String,
    /// The task (or session) name; the record id when `lone`.
    pub task: String,
    /// A record with neither task nor session: a task of its own, named by its id.
    pub lone: bool,
    /// Records.
    pub records: u64,
    /// Of which unpriced.
    pub unpriced_records: u64,
    /// Token sums.
    pub tokens: TokenSums,
    /// Exact cost of its priced records.
    pub cost: Decimal,
}

impl AgentEfficiency {
    /// The cost, unless no record could be priced (then it is unknown, not $0).
    pub fn known_cost(&self) -> Option<Decimal> {
        (self.records == 0 || self.unpriced_records < self.records).then_some(self.cost)
    }
}

impl TaskEfficiency {
    /// The cost, unless no record could be priced (then it is unknown, not $0).
    pub fn known_cost(&self) -> Option<Decimal> {
        (self.records == 0 || self.unpriced_records < self.records).then_some(self.cost)
    }
}

/// The order of the most expensive tasks: cost, then tokens (both largest first), then agent, named tasks
/// before lone records, then name — a total order, so the list is the same for the same input.
fn task_order(x: (Decimal, u64, &str, bool, &str), y: (Decimal, u64, &str, bool, &str)) -> std::cmp::Ordering {
    y.0.cmp(&x.0).then(y.1.cmp(&x.1)).then_with(|| (x.2, x.3, x.4).cmp(&(y.2, y.3, y.4)))
}

fn task_key(t: &TaskEfficiency) -> (Decimal, u64, &str, bool, &str) {
    (t.cost, t.tokens.total(), &t.agent, t.lone, &t.task)
}

/// The most expensive tasks, bounded: only the `n` first in [`task_order`] are kept, so the list is the same
/// whatever order the tasks are offered in. Used while streaming for the records that are tasks of their own
/// (no task, no session), and at the end for the named tasks (a log where every record has its own session
/// has a task per record: they are offered one by one, never all listed).
#[derive(Debug, Default)]
struct TopTasks {
    n: usize,
    items: Vec<TaskEfficiency>,
}

impl TopTasks {
    /// Offer a record with neither task nor session: a task of its own, named by its id.
    fn offer_lone(&mut self, agent: &str, id: &str, t: &Tokens, cost: Option<Decimal>) {
        let mut tokens = TokenSums::default();
        tokens.add(t);
        let stats =
            TaskStats { records: 1, unpriced: u64::from(cost.is_none()), tokens, cost: cost.unwrap_or_default() };
        self.offer(agent, id, true, &stats);
    }

    /// Offer a task; allocates only when it makes the list.
    fn offer(&mut self, agent: &str, task: &str, lone: bool, t: &TaskStats) {
        let key = (t.cost, t.tokens.total(), agent, lone, task);
        if self.items.len() >= self.n
            && self.items.last().is_none_or(|last| task_order(key, task_key(last)) != std::cmp::Ordering::Less)
        {
            return;
        }
        self.insert(TaskEfficiency {
            agent: agent.to_string(),
            task: task.to_string(),
            lone,
            records: t.records,
            unpriced_records: t.unpriced,
            tokens: t.tokens,
            cost: t.cost,
        });
    }

    fn insert(&mut self, t: TaskEfficiency) {
        let at = self.items.partition_point(|x| task_order(task_key(x), task_key(&t)) == std::cmp::Ordering::Less);
        if at >= self.n {
            return;
        }
        self.items.insert(at, t);
        self.items.truncate(self.n);
    }

    fn merge(&mut self, o: TopTasks) {
        for t in o.items {
            self.insert(t);
        }
    }
}

/// Everything tt-optimize found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The window analysed.
    pub window: Window,
    /// Records in the window.
    pub records: u64,
    /// Of which unpriced.
    pub unpriced_records: u64,
    /// Ranked suggestions.
    pub suggestions: Vec<Suggestion>,
    /// Agents, most efficient (cheapest per task) first.
    pub agents: Vec<AgentEfficiency>,
    /// The most expensive tasks, dearest first.
    pub tasks: Vec<TaskEfficiency>,
}

/// A model a record names, resolved once per distinct spelling.
#[derive(Debug, Clone, Copy)]
pub struct ModelInfo<'c> {
    /// Its price entry.
    pub entry: &'c ModelEntry,
    /// The next cheaper model of the same provider, if any.
    pub cheaper: Option<&'c ModelEntry>,
}

#[derive(Debug, Default, Clone, Copy)]
struct TaskStats {
    records: u64,
    unpriced: u64,
    tokens: TokenSums,
    cost: Decimal,
}

impl TaskStats {
    fn merge(&mut self, o: TaskStats) {
        self.records += o.records;
        self.unpriced += o.unpriced;
        self.tokens.merge(&o.tokens);
        sat_add(&mut self.cost, o.cost);
    }
}

/// Merge `from` into `into` key by key.
fn merge_maps<V: Default>(into: &mut FxMap<String, V>, from: FxMap<String, V>, mut f: impl FnMut(&mut V, V)) {
    for (k, v) in from {
        f(into.entry(k).or_default(), v);
    }
}

#[derive(Debug, Default)]
struct AgentState<'c> {
    records: u64,
    unpriced: u64,
    tokens: TokenSums,
    cost: Decimal,
    /// Records with neither task nor session: each is its own task.
    untasked: u64,
    /// Tasks and sessions by name (a name can be both), compactly: on a log where every record has its own
    /// session this is nearly all of the memory.
    names: NameTable<Slot<'c>>,
    rightsize: BTreeMap<String, rightsize::Group>,
    sample: stats::Sample,
}

impl<'c> AgentState<'c> {
    /// `o` is the state of the part of the input that follows this one's (the caching runs need the order).
    fn merge(&mut self, o: AgentState<'c>, gap: chrono::Duration) {
        self.records += o.records;
        self.unpriced += o.unpriced;
        self.tokens.merge(&o.tokens);
        sat_add(&mut self.cost, o.cost);
        self.untasked += o.untasked;
        self.names.merge(o.names, |a, b| a.merge(b, gap));
        for (k, g) in o.rightsize {
            self.rightsize.entry(k).or_default().merge(g);
        }
        self.sample.merge(o.sample);
    }
}

/// Resolves model names once per distinct spelling, with the cheaper model of each.
#[derive(Debug, Clone)]
struct Models<'c> {
    config: &'c Config,
    cache: FxMap<String, Option<ModelInfo<'c>>>,
    cheaper: FxMap<String, &'c ModelEntry>,
    /// Models named only as a target of `[optimize.cheaper]`: the bottom of their ladder, nothing is derived.
    ladder_bottom: FxSet<String>,
}

impl<'c> Models<'c> {
    fn new(config: &'c Config) -> Models<'c> {
        let mut cheaper = FxMap::default();
        let mut ladder_bottom = FxSet::default();
        for (from, to) in &config.optimize.cheaper {
            // The user's entries were checked when the config was loaded; a built-in one that does not hold for
            // this price table (a model overridden or missing) is left out.
            if crate::config::cheaper_problem(&config.prices, from, to).is_some() {
                continue;
            }
            if let (Some(a), Some(b)) = (config.prices.resolve(from), config.prices.resolve(to)) {
                cheaper.insert(a.name.clone(), b);
                ladder_bottom.insert(b.name.clone());
            }
        }
        ladder_bottom.retain(|m| !cheaper.contains_key(m));
        Models { config, cache: FxMap::default(), cheaper, ladder_bottom }
    }

    fn get(&mut self, model: &str) -> Option<ModelInfo<'c>> {
        if let Some(m) = self.cache.get(model) {
            return *m;
        }
        let info = self.config.prices.resolve(model).map(|entry| ModelInfo {
            entry,
            cheaper: match self.cheaper.get(&entry.name) {
                Some(c) => Some(*c),
                None if self.ladder_bottom.contains(&entry.name) => None,
                None => rightsize::derive_cheaper(&self.config.prices, entry),
            },
        });
        self.cache.insert(model.to_string(), info);
        info
    }

    /// The cost the analyses use: the logged `cost_usd`, else the price table's; `None` when unpriced.
    fn cost_of(&mut self, u: &impl Usage, t: &Tokens) -> (Option<ModelInfo<'c>>, Option<Decimal>) {
        let info = self.get(u.model());
        let cost = u.cost_usd().or_else(|| info.map(|i| cost_with(i.entry, u.ts(), t, &u.billing())));
        (info, cost)
    }
}

/// A caching suggestion's session and model, whose first record's id the second pass looks for.
#[derive(Debug, Clone)]
struct FirstRecord {
    agent: String,
    model: String,
    /// The group's first instant: the first record is the one with the smallest id at it.
    ts: DateTime<Utc>,
    id: Option<String>,
}

impl FirstRecord {
    fn offer(&mut self, id: &str) {
        if self.id.as_deref().is_none_or(|best| id < best) {
            self.id = Some(id.to_string());
        }
    }
}

/// The second pass over the records: every record compared with its agent's outlier threshold, and the ids
/// of the first records of the sessions that make a caching suggestion (pass 1 keeps no record ids per
/// session: on a log where every record has its own session that would be one string per record).
#[derive(Debug, Clone)]
pub struct SecondPass<'c> {
    window: Window,
    models: Models<'c>,
    pass: outliers::RecordPass,
    /// By session name: the groups whose first record is wanted (one per caching suggestion).
    firsts: FxMap<String, Vec<FirstRecord>>,
}

impl SecondPass<'_> {
    /// Look at one record again (records outside the window are skipped).
    pub fn observe(&mut self, u: &impl Usage) {
        if !self.window.contains(u.ts()) {
            return;
        }
        if self.pass.is_needed() {
            let t = u.tokens();
            if let (_, Some(c)) = self.models.cost_of(u, &t) {
                self.pass.observe(u, c);
            }
        }
        if !self.firsts.is_empty()
            && let Some(session) = u.session()
            && let Some(wanted) = self.firsts.get_mut(session)
        {
            // The same records as the group had in pass 1: the agent's, in the window, whose model resolves
            // to the group's price entry.
            let model = self.models.get(u.model()).map(|i| i.entry.name.as_str());
            for f in wanted {
                if f.ts == u.ts() && f.agent == u.agent() && model == Some(f.model.as_str()) {
                    f.offer(u.id());
                }
            }
        }
    }

    /// Combine with the pass over another part of the input (made from the same [`Analyzer::second_pass`]).
    pub fn merge(&mut self, o: SecondPass<'_>) {
        self.pass.merge(o.pass);
        for (session, theirs) in o.firsts {
            if let Some(mine) = self.firsts.get_mut(&session) {
                for (m, t) in mine.iter_mut().zip(theirs) {
                    if let Some(id) = t.id {
                        m.offer(&id);
                    }
                }
            }
        }
    }

    /// The first record of a session's group, once the pass is over.
    fn first_id(&self, agent: &str, session: &str, model: &str) -> Option<&str> {
        let wanted = self.firsts.get(session)?;
        wanted.iter().find(|f| f.agent == agent && f.model == model).and_then(|f| f.id.as_deref())
    }
}

/// The streaming analysis.
pub struct Analyzer<'c> {
    settings: &'c OptimizeSettings,
    cal: Calendar,
    window: Window,
    models: Models<'c>,
    agents: FxMap<String, AgentState<'c>>,
    /// The dearest records with neither task nor session, each a task of its own.
    lone: TopTasks,
    budgets: Vec<budgets::BudgetState<'c>>,
    records: u64,
    unpriced: u64,
    /// Every token of every record in the window, exactly: every token sum of the analyses is a part of it, so
    /// when it fits in a `u64` none of them overflowed.
    grand_tokens: u128,
    /// Every dollar of every priced record, exactly; `None` once it overflowed (then so may have a part).
    grand_cost: Option<Decimal>,
}

/// Add a record that names `name` in `roles` to the agent's names.
fn add_name<'c>(names: &mut NameTable<Slot<'c>>, name: &str, c: &Contribution<'c>, roles: u8, gap: chrono::Duration) {
    match names.get_mut(name) {
        Ok(slot) => slot.add(c, roles, gap),
        Err(vacant) => {
            // A full table is reported by `finish`.
            names.insert(vacant, name, Slot::new(c, roles));
        }
    }
}

impl<'c> Analyzer<'c> {
    /// An analysis of the records inside `window`, with `config`'s prices, budgets and `[optimize]` rules,
    /// listing the `top_tasks` most expensive tasks.
    pub fn new(config: &'c Config, cal: Calendar, window: Window, top_tasks: usize) -> Analyzer<'c> {
        Analyzer {
            settings: &config.optimize,
            cal,
            window,
            models: Models::new(config),
            agents: FxMap::default(),
            lone: TopTasks { n: top_tasks, items: Vec::new() },
            budgets: config.budgets.iter().map(budgets::BudgetState::new).collect(),
            records: 0,
            unpriced: 0,
            grand_tokens: 0,
            grand_cost: Some(Decimal::ZERO),
        }
    }

    /// Combine with the analysis of another part of the input (same config, calendar and window): the part
    /// that follows this one's in the log, so that merging the parts in order is the same as one pass.
    pub fn merge(&mut self, o: Analyzer<'c>) {
        self.records += o.records;
        self.unpriced += o.unpriced;
        self.grand_tokens = self.grand_tokens.saturating_add(o.grand_tokens);
        self.grand_cost = self.grand_cost.zip(o.grand_cost).and_then(|(a, b)| a.checked_add(b));
        let gap = self.settings.cache_max_gap;
        merge_maps(&mut self.agents, o.agents, |a, b| a.merge(b, gap));
        self.lone.merge(o.lone);
        for (b, ob) in self.budgets.iter_mut().zip(o.budgets) {
            b.merge(ob);
        }
    }

    /// Pass 1: take one record into account (records outside the window are skipped).
    pub fn observe(&mut self, u: &impl Usage) {
        let ts = u.ts();
        if !self.window.contains(ts) {
            return;
        }
        self.records += 1;
        let t = u.tokens();
        let (info, cost) = self.models.cost_of(u, &t);
        self.grand_tokens = self.grand_tokens.saturating_add(t.total_exact());
        match cost {
            Some(c) => self.grand_cost = self.grand_cost.and_then(|g| g.checked_add(c)),
            None => self.unpriced += 1,
        }
        for b in &mut self.budgets {
            b.observe(u, &self.cal, cost, t.total());
        }
        let settings = self.settings;
        let a = match self.agents.get_mut(u.agent()) {
            Some(a) => a,
            None => self.agents.entry(u.agent().to_string()).or_default(),
        };
        a.records += 1;
        a.tokens.add(&t);
        match cost {
            Some(c) => {
                sat_add(&mut a.cost, c);
                a.sample.offer(u.id(), c);
            }
            None => a.unpriced += 1,
        }
        let billing = u.billing();
        let c = Contribution {
            ts,
            tokens: t,
            cost: cost.unwrap_or_default(),
            priced: cost.is_some(),
            model: info.map(|i| i.entry),
            service: billing.service,
            fast: billing.fast,
            roles: 0,
        };
        let gap = settings.cache_max_gap;
        // The task is the record's `task`, else its `session`; one name in both roles is one entry.
        match (u.task(), u.session()) {
            (None, None) => {
                a.untasked += 1;
                self.lone.offer_lone(u.agent(), u.id(), &t, cost);
            }
            (Some(task), Some(session)) if task != session => {
                add_name(&mut a.names, task, &c, sessions::TASK, gap);
                add_name(&mut a.names, session, &c, sessions::SESSION, gap);
            }
            (Some(task), None) => add_name(&mut a.names, task, &c, sessions::TASK, gap),
            (_, Some(session)) => add_name(&mut a.names, session, &c, sessions::TASK | sessions::SESSION, gap),
        }
        if let Some(i) = info
            && let Some(cheaper) = i.cheaper
            && t.output <= settings.small_output_tokens
            && t.prompt() <= settings.small_prompt_tokens
        {
            let g = match a.rightsize.get_mut(&i.entry.name) {
                Some(g) => g,
                None => a.rightsize.entry(i.entry.name.clone()).or_default(),
            };
            g.observe(i.entry, cheaper, u, &t);
        }
    }

    /// After pass 1: the second pass, with each agent's record-cost threshold fixed from its sample and the
    /// sessions whose first record is wanted; `None` when it has nothing to find (it can be skipped).
    pub fn second_pass(&self) -> Option<SecondPass<'c>> {
        let s = self.settings;
        let pass = outliers::RecordPass::new(s, self.agents.iter().map(|(name, a)| (name.as_str(), &a.sample)));
        let mut firsts: FxMap<String, Vec<FirstRecord>> = FxMap::default();
        for (agent, a) in &self.agents {
            for (session, slot) in a.names.iter() {
                slot.suggesting_groups(s, |g| {
                    firsts.entry(session.to_string()).or_default().push(FirstRecord {
                        agent: agent.clone(),
                        model: g.model().name.clone(),
                        ts: g.first_ts(),
                        id: None,
                    });
                });
            }
        }
        (pass.is_needed() || !firsts.is_empty()).then(|| SecondPass {
            window: self.window.clone(),
            models: self.models.clone(),
            pass,
            firsts,
        })
    }

    /// Finish: the efficiency tables and the ranked suggestions, with what the second pass found (`None`
    /// when [`Self::second_pass`] said there was nothing to find). An error when the sums are too large to
    /// be exact.
    pub fn finish(self, second: Option<SecondPass<'_>>) -> Result<Report> {
        if self.grand_tokens > u128::from(u64::MAX) || self.grand_cost.is_none() {
            return Err(Error::data(format!(
                "the sums are too large to be exact (tokens past {}, or dollars past {}); is a record's count or \
                 cost wrong?",
                u64::MAX,
                Decimal::MAX
            )));
        }
        if self.agents.values().any(|a| a.names.overflowed()) {
            return Err(Error::data("an agent has more tasks and sessions than tt-optimize can count (4 billion)"));
        }
        let s = self.settings;
        let mut names: Vec<&String> = self.agents.keys().collect();
        names.sort();
        let (mut suggestions, mut tasks, task_counts) = self.agent_pass(&names, second.as_ref())?;
        if let Some(p) = &second {
            suggestions.extend(p.pass.suggestions(s));
        }
        for b in &self.budgets {
            suggestions.extend(b.suggestion(s, &self.cal)?);
        }
        rank(&mut suggestions);
        let agents = self.efficiency(&names, &task_counts);
        tasks.merge(self.lone);

        Ok(Report {
            window: self.window,
            records: self.records,
            unpriced_records: self.unpriced,
            suggestions,
            agents,
            tasks: tasks.items,
        })
    }

    /// Go through every agent (`names`, sorted) once: its rightsizing, caching and session-outlier suggestions,
    /// its tasks offered to the list of the dearest, and how many named tasks it has.
    fn agent_pass<'a>(
        &'a self,
        names: &[&'a String],
        second: Option<&SecondPass<'_>>,
    ) -> Result<(Vec<Suggestion>, TopTasks, FxMap<&'a str, u64>)> {
        let s = self.settings;
        let mut suggestions = Vec::new();
        let mut tasks = TopTasks { n: self.lone.n, items: Vec::new() };
        let mut task_counts: FxMap<&str, u64> = FxMap::default();
        // A session whose first record the second pass did not find: the log changed between the two reads.
        let mut lost: Option<String> = None;
        for name in names {
            let a = &self.agents[*name];
            for (model, g) in &a.rightsize {
                suggestions.extend(g.suggestion(s, name, model));
            }
            // Every name of the agent once: tasks counted and offered to the list of the dearest, sessions'
            // caching suggestions made and their costs kept for the session outliers. Suggestions are ranked
            // later by a key naming agent, session and model, so the order here does not matter.
            let mut named_tasks = 0u64;
            let mut session_costs: Vec<Decimal> = Vec::new();
            for (task, slot) in a.names.iter() {
                if let Some(t) = slot.task() {
                    named_tasks += 1;
                    tasks.offer(name, task, false, &t);
                }
                if let Some(cost) = slot.session() {
                    session_costs.extend(cost);
                    slot.suggesting_groups(s, |g| match second.and_then(|p| p.first_id(name, task, &g.model().name)) {
                        Some(first) => suggestions.extend(g.suggestion(s, name, task, first)),
                        None => {
                            lost.get_or_insert_with(|| format!("session {task:?} of {name}"));
                        }
                    });
                }
            }
            task_counts.insert(name.as_str(), named_tasks);
            session_costs.sort();
            let priced_sessions = a.names.iter().filter_map(|(sid, slot)| Some((sid, slot.session()??)));
            suggestions.extend(outliers::session_outliers(s, name, &session_costs, priced_sessions));
        }
        if let Some(what) = lost {
            return Err(Error::data(format!(
                "{what} was not found again when the records were read a second time; was the log changed while \
                 tt-optimize read it?"
            )));
        }
        Ok((suggestions, tasks, task_counts))
    }

    /// The efficiency table: each agent's tasks and cost per task, relative to the median, cheapest first.
    fn efficiency(&self, names: &[&String], task_counts: &FxMap<&str, u64>) -> Vec<AgentEfficiency> {
        let mut agents: Vec<AgentEfficiency> = names
            .iter()
            .map(|name| {
                let a = &self.agents[*name];
                let tasks = task_counts.get(name.as_str()).copied().unwrap_or(0) + a.untasked;
                AgentEfficiency {
                    agent: (*name).clone(),
                    records: a.records,
                    unpriced_records: a.unpriced,
                    tasks,
                    tokens: a.tokens,
                    cost: a.cost,
                    tokens_per_task: stats::ratio(Decimal::from(a.tokens.total()), Decimal::from(tasks), 1),
                    cost_per_task: if a.records > a.unpriced {
                        stats::ratio(a.cost, Decimal::from(tasks), 6)
                    } else {
                        None
                    },
                    relative_cost_per_task: None,
                }
            })
            .collect();
        let mut per_task: Vec<Decimal> = agents.iter().filter_map(|a| a.cost_per_task).collect();
        per_task.sort();
        if let Some(median) = stats::percentile(&per_task, 50) {
            for a in &mut agents {
                a.relative_cost_per_task = a.cost_per_task.and_then(|c| stats::ratio(c, median, 2));
            }
        }
        agents.sort_by(|x, y| match (x.cost_per_task, y.cost_per_task) {
            (Some(a), Some(b)) => a.cmp(&b).then_with(|| x.agent.cmp(&y.agent)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => x.agent.cmp(&y.agent),
        });
        agents
    }
}
/// Keep the `n` largest `(value, id)` pairs (ties: smaller id first), bounded while streaming.
#[derive(Debug, Clone, Default)]
pub struct TopIds {
    items: Vec<(Decimal, String)>,
}

/// How many record or session ids a suggestion lists as evidence.
pub const EVIDENCE_IDS: usize = 10;

impl TopIds {
    /// Offer an id; allocates only when it makes the list.
    pub fn offer(&mut self, value: Decimal, id: &str) {
        let better = |v: Decimal, i: &str, than: &(Decimal, String)| v > than.0 || (v == than.0 && i < than.1.as_str());
        if self.items.len() >= EVIDENCE_IDS {
            match self.items.last() {
                Some(last) if better(value, id, last) => {
                    self.items.pop();
                }
                _ => return,
            }
        }
        let at = self.items.iter().position(|x| better(value, id, x)).unwrap_or(self.items.len());
        self.items.insert(at, (value, id.to_string()));
    }

    /// Combine with another list (the result is the same as offering every id to one list).
    pub fn merge(&mut self, o: TopIds) {
        for (v, id) in o.items {
            self.offer(v, &id);
        }
    }

    /// The ids, largest value first.
    pub fn ids(&self) -> Vec<Value> {
        self.items.iter().map(|(_, i)| Value::from(i.clone())).collect()
    }

    /// The ids for a table line: `a, b, c (+12 more)` given the group's total count.
    pub fn brief(&self, total: u64) -> String {
        let shown: Vec<&str> = self.items.iter().take(3).map(|(_, i)| i.as_str()).collect();
        let more = total.saturating_sub(shown.len() as u64);
        if more > 0 {
            format!("{} (+{} more)", shown.join(", "), crate::money::thousands(more))
        } else {
            shown.join(", ")
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::period::Calendar;

    /// Records with sessions, tasks, small and large requests, cache reads, priced and unpriced.
    fn records() -> Vec<Record> {
        let agents = ["ATLAS", "BOLT", "ci"];
        let models = ["opus-4.5", "sonnet-4.5", "gpt-4o", "haiku-4.5", "in-house"];
        (0..600u64)
            .map(|i| {
                // A day per 21 records; within it, requests 100 s apart, so each session's (every third) are
                // 300 s apart — exactly the cache's lifetime — except for a 10-minute pause before the 16th.
                let pause = if i % 21 >= 15 { 600 } else { 0 };
                let ts = crate::record::parse_ts("2026-09-01T00:00:00Z").unwrap()
                    + chrono::Duration::days((i / 21) as i64)
                    + chrono::Duration::seconds(((i % 21) * 100 + pause) as i64);
                let tokens = Tokens {
                    input: 500 + (i * 7919) % 40_000,
                    // A few very long answers make outlier records and sessions.
                    output: if i % 97 == 0 { 200_000 } else { 50 + (i * 104_729) % 3_000 },
                    cache_read: if i % 3 == 0 { (i * 31) % 20_000 } else { 0 },
                    ..Default::default()
                };
                let mut r = Record::new(
                    format!("id-{i:04}"),
                    ts,
                    agents[(i % 3) as usize].into(),
                    models[((i / 21) % 5) as usize].into(),
                    tokens,
                );
                // Each agent's sessions are 7 requests on one model.
                r.session = Some(format!("s{}-{}", i % 3, i / 21));
                if i % 4 == 0 {
                    r.task = Some(format!("t{}", i % 11));
                }
                r
            })
            .collect()
    }

    fn report(config: &Config, parts: &[&[Record]]) -> String {
        let cal =
            Calendar::from_flags(config.timezone().unwrap(), config.week_start, Some("2026-11-10")).unwrap().value;
        let window = Window::all(cal.tz);
        let mut a = Analyzer::new(config, cal, window.clone(), 5);
        for p in parts {
            let mut x = Analyzer::new(config, cal, window.clone(), 5);
            p.iter().for_each(|r| x.observe(r));
            a.merge(x);
        }
        let fresh = a.second_pass();
        let mut scan = fresh.clone();
        if let (Some(all), Some(fresh)) = (&mut scan, &fresh) {
            for p in parts.iter().rev() {
                let mut x = fresh.clone();
                p.iter().for_each(|r| x.observe(r));
                all.merge(x);
            }
        }
        a.finish(scan).unwrap().to_json().to_string()
    }

    /// Sessions and tasks named by one record are kept as that record until a second one names them (a part
    /// of the input, or another part at the merge): the report is the same at every cut of the input and in
    /// any order — here also where one record alone makes a caching suggestion, whose first record id the
    /// second pass finds.
    #[test]
    fn names_seen_once_merge_like_any_other() {
        // A cache write cheaper than the input, so that a single request shows a caching saving.
        let config = Config::from_str_layer(
            "test",
            "[optimize]\ncache_min_requests = 1\ncache_min_prefix_tokens = 0\ncache_max_hit_ratio = 1\n\
             outlier_min_records = 3\n[models.claude-sonnet-4-5]\ncache_write = 1\n\
             [[budget]]\nname = \"s\"\nperiod = \"session\"\nlimit_usd = 1\n",
        )
        .unwrap();
        let base = crate::record::parse_ts("2026-09-01T00:00:00Z").unwrap();
        let rs: Vec<Record> = (0..96u64)
            .map(|i| {
                let tokens = Tokens {
                    input: 1000 + i * 100,
                    output: if i == 44 { 90_000 } else { 10 * i },
                    cache_read: if i % 5 == 0 { 500 } else { 0 },
                    ..Default::default()
                };
                // Several records at the same instant: the first record is the smallest id among them.
                let ts = base + chrono::Duration::seconds(((i * 7) % 13 * 60) as i64);
                let model = if i % 6 == 5 { "haiku-4.5" } else { "sonnet-4.5" };
                let mut r = Record::new(
                    format!("id-{:02}", 95 - i),
                    ts,
                    ["A", "B"][(i % 2) as usize].into(),
                    model.into(),
                    tokens,
                );
                // Mostly a session per record; three shared ones, some records without any.
                r.session = match i % 8 {
                    0 | 1 => Some(format!("shared-{}", i % 3)),
                    2 => None,
                    _ => Some(format!("one-{i}")),
                };
                // Tasks that are another record's session, the record's own session, or shared.
                r.task = match i % 7 {
                    0 => Some(format!("one-{}", i + 2)),
                    1 => r.session.clone(),
                    4 => Some("t".into()),
                    _ => None,
                };
                r
            })
            .collect();
        let whole = report(&config, &[&rs]);
        for cut in 0..=rs.len() {
            assert_eq!(whole, report(&config, &[&rs[..cut], &rs[cut..]]), "cut at {cut}");
        }
        let mut reversed = rs.clone();
        reversed.reverse();
        assert_eq!(whole, report(&config, &[&reversed[..17], &reversed[17..30], &reversed[30..]]));
        let v: Value = serde_json::from_str(&whole).unwrap();
        let caching: Vec<&Value> =
            v["suggestions"].as_array().unwrap().iter().filter(|s| s["type"] == "caching").collect();
        // Single-record sessions among them, each with its own record as the first.
        assert!(
            caching.iter().any(|s| s["evidence"]["session"] == "one-3" && s["evidence"]["first_record_id"] == "id-92")
        );
        assert!(caching.iter().any(|s| s["evidence"]["requests"].as_u64() > Some(1)), "{caching:?}");
        // The first record the second pass found is the earliest of the group's records (at one instant, the
        // smallest id), as the records say.
        for c in &caching {
            let e = &c["evidence"];
            let first = rs
                .iter()
                .filter(|r| {
                    r.agent == e["agent"].as_str().unwrap()
                        && r.session.as_deref() == e["session"].as_str()
                        && config.prices.resolve(&r.model).unwrap().name == e["model"].as_str().unwrap()
                })
                .map(|r| (r.ts, r.id.as_str()))
                .min()
                .unwrap();
            assert_eq!(e["first_record_id"].as_str(), Some(first.1), "{c}");
        }
        let types: std::collections::BTreeSet<&str> =
            v["suggestions"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
        assert!(types.is_superset(&["budget", "caching", "session_outlier"].into_iter().collect()), "{types:?}");
    }

    #[test]
    fn splitting_the_input_does_not_change_the_report() {
        let config = Config::from_str_layer(
            "test",
            "[[budget]]\nname = \"m\"\nperiod = \"month\"\nlimit_usd = 10\n\
             [[budget]]\nname = \"s\"\nperiod = \"session\"\nlimit_usd = 1\nscope = { agent = \"BOLT\" }\n",
        )
        .unwrap();
        let rs = records();
        let whole = report(&config, &[&rs]);
        assert_eq!(whole, report(&config, &[&rs[..100], &rs[100..101], &rs[101..]]));
        assert_eq!(whole, report(&config, &[&rs[..333], &rs[333..]]));
        // Records in any order: the same report.
        let mut shuffled = rs.clone();
        shuffled.reverse();
        shuffled.rotate_left(250);
        assert_eq!(whole, report(&config, &[&shuffled]));
        assert_eq!(whole, report(&config, &[&shuffled[..7], &shuffled[7..400], &shuffled[400..]]));
        let v: Value = serde_json::from_str(&whole).unwrap();
        let types: std::collections::BTreeSet<&str> =
            v["suggestions"].as_array().unwrap().iter().map(|s| s["type"].as_str().unwrap()).collect();
        // Every analysis has something to say about these records, so the comparison covers all of them.
        assert_eq!(
            types.into_iter().collect::<Vec<_>>(),
            ["budget", "caching", "outlier", "rightsize", "session_outlier"]
        );
    }
}
