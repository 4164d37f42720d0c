//! A record from what a user typed: `tt-log`'s flags, its seed form, its environment defaults, a provider
//! response on stdin (`--from`) or a text to estimate (`--estimate-from`).
//!
//! A [`Draft`] is the flags as given — every value still text — and [`Draft::build`] makes the one [`Record`]
//! they describe, priced, or the one-line error that says why not. The rules, in one place:
//!
//! * The numbers come from one place: arguments and flags, a response, or an estimate. A flag that
//!   contradicts the response or the estimate is refused, never silently overridden.
//! * A value given twice (seed argument and flag) must agree. Flags beat `TT_*` environment defaults; a
//!   response's model beats `TT_MODEL`, and an explicit model must price as the response's.
//! * Names are trimmed and checked like agent and model (`record::check_name`); a note may hold newlines.
//! * Branch and commit come from the repository in the current directory unless given (or `no_git`); what
//!   tt finds on its own is kept only when it is a valid name — it is context, not something typed wrong.
//! * An unknown model is logged unpriced with a warning, or refused with `strict`.
//!
//! Warnings are returned with the record, for the tool to print; the core never prints.

use std::path::Path;

use chrono::Utc;

use crate::args::{parse_duration, parse_tokens};
use crate::error::{Error, Result};
use crate::period::parse_when;
use crate::provider::{self, Iteration, Provider};
use crate::track::{self, Pricing};
use crate::{Billing, Config, Record, Tokens};

/// The longest note accepted, in characters.
pub const MAX_NOTE_LEN: usize = 4096;

/// The most text `--estimate-from` reads: 16 MiB is about 4M tokens, beyond any model's context. More is not
/// a prompt, and an endless file such as /dev/zero must not be read until memory runs out.
const MAX_PROMPT: u64 = 16 * 1024 * 1024;

/// The seed form's positional arguments: `AGENT MODEL INPUT OUTPUT [NOTE]`.
#[derive(Debug, Clone, Default)]
pub struct Seed {
    /// AGENT.
    pub agent: Option<String>,
    /// MODEL.
    pub model: Option<String>,
    /// INPUT.
    pub input: Option<String>,
    /// OUTPUT.
    pub output: Option<String>,
    /// NOTE.
    pub note: Option<String>,
}

/// One record as the user described it, every value as typed (see the module docs for the rules).
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// The positional seed form.
    pub seed: Seed,
    /// `--agent`.
    pub agent: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--input`.
    pub input: Option<String>,
    /// `--output`.
    pub output: Option<String>,
    /// `--cache-read`.
    pub cache_read: Option<String>,
    /// `--cache-write`.
    pub cache_write: Option<String>,
    /// `--cache-write-1h`.
    pub cache_write_1h: Option<String>,
    /// `--reasoning`.
    pub reasoning: Option<String>,
    /// `--session`.
    pub session: Option<String>,
    /// `--task`.
    pub task: Option<String>,
    /// `--project`.
    pub project: Option<String>,
    /// `--provider`.
    pub provider: Option<String>,
    /// `--branch`.
    pub branch: Option<String>,
    /// `--commit`.
    pub commit: Option<String>,
    /// `--tag KEY=VALUE`, in order.
    pub tags: Vec<String>,
    /// `--note`.
    pub note: Option<String>,
    /// `--duration`.
    pub duration: Option<String>,
    /// `--ts`.
    pub ts: Option<String>,
    /// `--source`.
    pub source: Option<String>,
    /// `--from PROVIDER`: the response is read from stdin.
    pub from: Option<String>,
    /// `--estimate-from FILE` (`-` is stdin).
    pub estimate_from: Option<String>,
    /// `--strict`: an unknown model is an error.
    pub strict: bool,
    /// `--no-git`: branch and commit are not read from the current directory.
    pub no_git: bool,
}

/// The counts and billing a draft's numbers give, before the context is added.
#[derive(Default)]
struct Numbers {
    tokens: Tokens,
    reasoning: Option<u64>,
    billing: Billing,
    iterations: Vec<Iteration>,
    /// The provider's own cost (OpenRouter's `usage.cost`) and whether it covers only part of the request.
    provider_cost: Option<(serde_json::Number, bool)>,
    /// The model the response names.
    model: Option<String>,
    source: Option<String>,
    estimated: Option<bool>,
}

impl Draft {
    /// The record this draft describes, priced, with the warnings to print (an unknown model logged unpriced,
    /// a provider's cost that differs from tt's).
    pub fn build(&self, config: &Config) -> Result<(Record, Vec<String>)> {
        // A model given twice is the first thing wrong with a draft, as the seed form reads left to right.
        let model = one("model", &self.seed.model, &self.model)?;
        self.check_sources()?;
        let mut n = Numbers::default();
        if let Some(p) = &self.from {
            n = self.response_numbers(config, p, model.as_deref())?;
        }
        if let Some(path) = &self.estimate_from {
            n.tokens.input = estimate(path, config.max_tokens)?;
            n.estimated = Some(true);
            n.source.get_or_insert_with(|| "estimate".to_string());
        }
        self.flag_numbers(&mut n, config.max_tokens)?;
        let mut warnings = Vec::new();
        let mut r = self.record(config, model, &mut n, &mut warnings)?;
        if let Some(w) = self.price(config, &mut r, &n.iterations)? {
            warnings.push(w);
        }
        if let Some((theirs, partial)) = n.provider_cost {
            warnings.extend(cost_check(&r, &theirs, partial));
            r.extra.insert("provider_cost_usd".into(), serde_json::Value::Number(theirs));
        }
        Ok((r, warnings))
    }

    /// Flags that contradict where the numbers come from are refused, not silently overridden.
    fn check_sources(&self) -> Result<()> {
        let input_given = self.seed.input.is_some() || self.input.is_some();
        if self.from.is_some() {
            let token_flags = [
                ("INPUT / --input", input_given),
                ("OUTPUT / --output", self.seed.output.is_some() || self.output.is_some()),
                ("--cache-read", self.cache_read.is_some()),
                ("--cache-write", self.cache_write.is_some()),
                ("--cache-write-1h", self.cache_write_1h.is_some()),
                ("--reasoning", self.reasoning.is_some()),
            ];
            if let Some((flag, _)) = token_flags.iter().find(|(_, set)| *set) {
                return Err(Error::usage(format!(
                    "{flag} contradicts --from: the token counts come from the response"
                )));
            }
        }
        if self.estimate_from.is_some() && input_given {
            return Err(Error::usage("INPUT / --input contradicts --estimate-from: the input tokens are the estimate"));
        }
        Ok(())
    }

    /// `--from`: the counts, billing and model of the response on stdin.
    fn response_numbers(&self, config: &Config, p: &str, mine: Option<&str>) -> Result<Numbers> {
        let provider = Provider::parse(p)?;
        // A terminal, /dev/null or a closed stdin is "nothing on stdin", like everywhere: never wait on a terminal.
        let text = if crate::input::stdin_has_data() { read_stdin()? } else { String::new() };
        if text.trim().is_empty() {
            return Err(Error::data(format!(
                "nothing on stdin: --from {p} reads an API response (or its usage object) from stdin"
            )));
        }
        // A byte-order mark (what some Windows tools write first) is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let doc = provider::parse_response("<stdin>", text)?;
        let u = provider::usage_from(provider, &doc).map_err(|e| e.context("<stdin>"))?;
        for (name, n) in [
            ("input", u.tokens.input),
            ("output", u.tokens.output),
            ("cache read", u.tokens.cache_read),
            ("cache write", u.tokens.cache_write),
            ("cache write 1h", u.tokens.cache_write_1h),
        ] {
            parse_tokens(name, &n.to_string(), config.max_tokens).map_err(|e| e.context("<stdin>"))?;
        }
        if u.model.is_none()
            && mine.is_none()
            && env("TT_MODEL").is_none()
            && let Some(mu) = doc.get("modelUsage").and_then(|m| m.as_object()).filter(|m| m.len() > 1)
        {
            // `claude -p` with subagents or a small helper model names several; which one the top-level usage
            // belongs to is the user's call, not a guess.
            let names: Vec<&str> = mu.keys().map(String::as_str).collect();
            return Err(Error::usage(format!(
                "<stdin>: the response names {} models in modelUsage ({}): give the one its usage is priced at \
                 with MODEL, --model or TT_MODEL",
                names.len(),
                names.join(", ")
            )));
        }
        // The response's model wins over TT_MODEL (a default). An explicit MODEL / --model must agree with it
        // (price as the same entry); then the spelling the user chose is kept.
        if let (Some(mine), Some(theirs)) = (mine, &u.model) {
            check_model_agrees(config, mine, theirs)?;
        }
        Ok(Numbers {
            tokens: u.tokens,
            reasoning: u.reasoning,
            billing: u.billing,
            iterations: u.iterations,
            provider_cost: u.provider_cost.map(|c| (c, u.provider_cost_partial)),
            model: u.model,
            source: Some(self.source.clone().unwrap_or_else(|| provider.source().to_string())),
            estimated: None,
        })
    }

    /// The counts given as arguments and flags, on top of what a response or an estimate gave.
    fn flag_numbers(&self, n: &mut Numbers, max: u64) -> Result<()> {
        if let Some(s) = one("input", &self.seed.input, &self.input)? {
            n.tokens.input = parse_tokens("input", &s, max)?;
        }
        if let Some(s) = one("output", &self.seed.output, &self.output)? {
            n.tokens.output = parse_tokens("output", &s, max)?;
        }
        for (name, flag, field) in [
            ("cache read", &self.cache_read, &mut n.tokens.cache_read),
            ("cache write", &self.cache_write, &mut n.tokens.cache_write),
            ("cache write 1h", &self.cache_write_1h, &mut n.tokens.cache_write_1h),
        ] {
            if let Some(s) = flag {
                *field = parse_tokens(name, s, max)?;
            }
        }
        if let Some(s) = &self.reasoning {
            let r = parse_tokens("reasoning", s, max)?;
            if r > n.tokens.output {
                return Err(Error::data(format!(
                    "reasoning tokens ({r}) cannot exceed output tokens ({})",
                    n.tokens.output
                )));
            }
            n.reasoning = Some(r);
        }
        if self.seed.input.is_some() && self.seed.output.is_none() && self.output.is_none() {
            return Err(Error::usage(
                "no OUTPUT: the seed form is AGENT MODEL INPUT OUTPUT [NOTE] (give 0 for no output tokens)",
            ));
        }
        let manual = self.from.is_none() && self.estimate_from.is_none();
        let counts = [&self.seed.input, &self.input, &self.seed.output, &self.output];
        if manual && counts.iter().all(|c| c.is_none()) {
            return Err(Error::usage(
                "no token counts: give AGENT MODEL INPUT OUTPUT, --input/--output, --from PROVIDER or --estimate-from FILE (see --help)",
            ));
        }
        Ok(())
    }

    /// The record: who, what, when, and the context (session, task, project, tags, git, machine). A `--ts` in a
    /// daylight-saving gap or fold is taken with a warning, added to `warnings`.
    fn record(
        &self,
        config: &Config,
        model: Option<String>,
        n: &mut Numbers,
        warnings: &mut Vec<String>,
    ) -> Result<Record> {
        let agent = one("agent", &self.seed.agent, &self.agent)?
            .or_else(|| env("TT_AGENT"))
            .ok_or_else(|| Error::usage("no agent: give it as the first argument, --agent NAME or TT_AGENT"))?;
        let model = model
            .or_else(|| n.model.take())
            .or_else(|| env("TT_MODEL"))
            .ok_or_else(|| Error::usage("no model: give it as the second argument, --model NAME or TT_MODEL"))?;
        let (agent, model) = (name_field("agent", &agent)?, name_field("model", &model)?);
        let ts = match &self.ts {
            Some(s) => parse_when(s, config.timezone()?)?.warn_into(warnings),
            None => Utc::now(),
        };
        let mut r = Record::new(crate::id::new_id(ts), ts, agent, model, n.tokens);
        r.reasoning_tokens = n.reasoning;
        r.billing = std::mem::take(&mut n.billing);
        r.estimated = n.estimated;
        let source = self.source.clone().or_else(|| n.source.take());
        r.source = Some(opt_name("source", source.as_deref())?.unwrap_or_else(|| "cli".to_string()));
        r.session = opt_name("session", self.session.clone().or_else(|| env("TT_SESSION")).as_deref())?;
        r.task = opt_name("task", self.task.clone().or_else(|| env("TT_TASK")).as_deref())?;
        r.project = opt_name("project", self.project.clone().or_else(|| env("TT_PROJECT")).as_deref())?;
        r.provider = opt_name("provider", self.provider.as_deref())?;
        r.notes = match one("note", &self.seed.note, &self.note)? {
            Some(n) => note_field(&n)?,
            None => None,
        };
        for t in &self.tags {
            let (k, v) = t.split_once('=').ok_or_else(|| Error::usage(format!("--tag wants KEY=VALUE, got {t:?}")))?;
            let k = name_field("tag key", k)?;
            let v = name_field(&format!("tag {k}"), v)?;
            if let Some(old) = r.tags.get(&k) {
                return Err(Error::usage(format!(
                    "--tag {k} given twice ({old:?} and {v:?}): a tag key has one value"
                )));
            }
            r.tags.insert(k, v);
        }
        if let Some(d) = &self.duration {
            r.duration_ms = Some(parse_duration(d)?);
        }
        self.git_and_machine(&mut r)?;
        Ok(r)
    }

    /// Branch and commit (flags, `TT_BRANCH`, else the repository here) and the host and user.
    fn git_and_machine(&self, r: &mut Record) -> Result<()> {
        // TT_BRANCH is the user's word for the branch, as --branch is: it beats what git says (and a detached
        // HEAD's CI variables), and is checked as a flag's value is.
        let branch = opt_name("branch", self.branch.clone().or_else(|| env("TT_BRANCH")).as_deref())?;
        let commit = opt_name("commit", self.commit.as_deref())?;
        if (branch.is_none() || commit.is_none())
            && !self.no_git
            && let Ok(cwd) = std::env::current_dir()
        {
            let head = crate::machine::head(&cwd);
            r.branch = found(crate::machine::branch(&head));
            r.commit = found(head.commit);
        }
        if branch.is_some() {
            r.branch = branch;
        }
        if commit.is_some() {
            r.commit = commit;
        }
        r.host = found(crate::machine::host());
        r.user = found(crate::machine::user());
        Ok(())
    }

    /// Price the record; the warning to print when it stays unpriced (an error under `strict`).
    fn price(&self, config: &Config, r: &mut Record, iterations: &[Iteration]) -> Result<Option<String>> {
        Ok(match track::price_with_iterations(config, r, iterations)? {
            Pricing::Priced => None,
            Pricing::Unpriced(why) if self.strict => {
                return Err(Error::data(format!("{why} (--strict): add it to the price table")));
            }
            Pricing::Unpriced(why) => Some(format!("{why}: logged unpriced")),
            Pricing::UnknownModel { hint } if self.strict => {
                let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
                return Err(Error::data(format!(
                    "unknown model {:?} (--strict{hint}): add it to the price table (see tt-price --list)",
                    r.model
                )));
            }
            Pricing::UnknownModel { hint } => {
                let hint = hint.map(|h| format!(" ({h})")).unwrap_or_default();
                Some(format!(
                    "unknown model {:?}{hint}: logged unpriced (add it to the price table; tt-price --list shows it)",
                    r.model
                ))
            }
        })
    }
}

/// How `tt-log` appends the record a [`Draft`] built.
#[derive(Debug, Clone, Default)]
pub struct Append {
    /// Validate (and with `enforce`, check), append nothing.
    pub dry_run: bool,
    /// `--enforce`: refuse a record that would push a configured budget over its limit.
    pub enforce: bool,
    /// Tell the budget level alerts the record sets off (not with `--quiet`).
    pub alerts: bool,
    /// The reservation the record settles ([`crate::reserve::settle_id`]).
    pub settle: Option<String>,
}

/// Append `record` to the log at `log` as `tt-log` does: it carries the reservation it settles, and under the
/// log lock it is checked against the budgets (`enforce`), appended, and the hold it settles ended. Returns its
/// JSON line and the notes to tell after the draft's own warnings, in order: what taking the lock repaired,
/// what became of the reservation, the level alerts. `warn` gets what is said at once: `--enforce` with no
/// budget to enforce, an index the append could not bring up to date (the record is logged all the same).
pub fn append_record(
    log: &Path,
    config: &Config,
    record: &mut Record,
    how: &Append,
    warn: &mut dyn FnMut(String),
) -> Result<(String, Vec<String>)> {
    if let Some(id) = &how.settle {
        record.extra.insert(crate::reserve::FIELD.into(), serde_json::Value::String(id.clone()));
    }
    let line = record.to_json();
    let enforcing = how.enforce
        && match crate::enforce::no_budgets(config) {
            Some(w) => {
                warn(w.to_string());
                false
            }
            None => true,
        };
    let mut notes = Vec::new();
    let at = crate::store::Log::at(log)?;
    let now = Utc::now();
    if how.dry_run {
        // The same check, appending nothing: a dry run answers what the real call would do.
        if enforcing {
            match &at {
                crate::store::Log::File(_) => crate::enforce::check_dry_run(log, config, record)?,
                crate::store::Log::Ledger(t) => {
                    crate::enforce::ledger::check(&mut crate::ledger::Ledger::open(t)?, config, record, now, true)
                        .map(drop)?
                }
            }
        }
        return Ok((line, notes));
    }
    // A ledger out of reach keeps the record in this machine's spool, pushed with the next write; not when a
    // gate must check it first (`--enforce`, `--settle`): a check that cannot be made fails closed.
    let mut writer = if how.enforce || how.settle.is_some() {
        // What the check and the settle read, locked: in a ledger, the budget windows and the reservation.
        let mut parts = if enforcing { crate::enforce::ledger::window_locks(config, record, now)? } else { Vec::new() };
        parts.extend(how.settle.as_deref().map(crate::reserve::lock));
        at.lock_parts(&crate::ledger::Locks::Only(parts))?.warn_into(&mut notes)
    } else {
        match at.lock_or_spool(&format!("{line}\n"))?.warn_into(&mut notes) {
            Some(w) => w,
            None => return Ok((line, notes)),
        }
    };
    let state = match &how.settle {
        Some(id) => Some(crate::reserve::read_from(&mut writer)?.state(id, Utc::now())),
        None => None,
    };
    let mut alerts = match &mut writer {
        // Under the locks of the windows it reads, which every machine takes: the check and the append are one
        // step team-wide.
        crate::store::Writer::Ledger(ledger) => {
            let passed = if enforcing {
                Some(crate::enforce::ledger::check(ledger, config, record, now, false)?)
            } else if how.alerts {
                // A plain append's alerts: the windows' spend as seen before it, from the sums the ledger
                // keeps (no lock: see `enforce::ledger::watch`).
                crate::enforce::ledger::watch(ledger, config, record, now)
            } else {
                None
            };
            ledger.append(&format!("{line}\n"))?;
            passed.map(|p| p.alerts(config, record)).unwrap_or_default()
        }
        crate::store::Writer::File(locked) => {
            let passed = if enforcing { Some(crate::enforce::check(locked, config, record)?) } else { None };
            // Level alerts compare with the index as it stood before the append: --enforce's own, or a watch.
            let watch = if passed.is_none() && how.alerts { crate::enforce::watch(locked, config) } else { None };
            locked.append(&format!("{line}\n"))?;
            match (passed, watch) {
                // The record is already logged, so an index not caught up is only a warning (the next call
                // rebuilds it).
                (Some(p), _) => p.appended(locked).unwrap_or_else(|e| {
                    warn(format!("--enforce index not updated: {e}"));
                    Vec::new()
                }),
                (None, Some(w)) => w.alerts(locked, config),
                (None, None) => Vec::new(),
            }
        }
    };
    if !how.alerts {
        alerts.clear();
    }
    if let (Some(id), Some(state)) = (&how.settle, state) {
        notes.extend(crate::reserve::settled(&mut writer, id, state));
    }
    notes.extend(alerts);
    Ok((line, notes))
}

/// The confirmation `tt-log` ends with: `logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750` (`dry_run`:
/// "would log"; a record without a price says `unpriced`, never $0).
pub fn confirmation(record: &Record, dry_run: bool) -> String {
    let cost = record.cost_usd.map(crate::money::usd4).unwrap_or_else(|| "unpriced".to_string());
    let verb = if dry_run { "would log" } else { "logged" };
    let n = record.tokens.total();
    let tokens = if n == 1 { "token" } else { "tokens" };
    format!("{verb} {} {tokens} ({}) for {} - {cost}", crate::money::thousands(n), record.model, record.agent)
}

/// A provider's own cost that differs from tt's by more than the tolerance: the warning (see
/// [`provider::cost_mismatch`]). A partial cost (it covers only part of the request) is not compared.
fn cost_check(r: &Record, theirs: &serde_json::Number, partial: bool) -> Option<String> {
    let (cost, label) = (r.cost_usd?, r.price.clone()?);
    let d = crate::money::parse_decimal(&theirs.to_string())?;
    if partial {
        return None;
    }
    let ours = crate::price::Priced { cost, label };
    provider::cost_mismatch(r.source.as_deref().unwrap_or("the provider"), &ours, d, &r.model)
}

/// `--estimate-from`: the input tokens of a text at about 4 characters a token. Text of unknown encoding is
/// decoded the same lossy way from a file and from stdin; a FIFO (`<(…)`) is read like stdin.
fn estimate(path: &str, max: u64) -> Result<u64> {
    if path.is_empty() {
        return Err(Error::usage("--estimate-from needs a file name (or - for stdin), got an empty one"));
    }
    let (what, reader): (&str, Box<dyn std::io::Read>) = if path == "-" {
        ("<stdin>", Box::new(crate::input::stdin()))
    } else {
        (path, Box::new(std::fs::File::open(path).map_err(|e| Error::io(path, e))?))
    };
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(reader, MAX_PROMPT + 1), &mut bytes)
        .map_err(|e| Error::io(what, e))?;
    if bytes.len() as u64 > MAX_PROMPT {
        return Err(Error::data(format!(
            "--estimate-from {what}: larger than {} MiB, not a prompt to estimate",
            MAX_PROMPT >> 20
        )));
    }
    let text = String::from_utf8_lossy(&bytes);
    if text.trim().is_empty() {
        let what = if path == "-" { "stdin" } else { path };
        return Err(Error::data(format!("nothing to estimate: {what} holds no text")));
    }
    let input = (text.chars().count() as u64).div_ceil(4);
    parse_tokens("input", &input.to_string(), max)
}

/// `--from`: an explicit MODEL / `--model` that prices differently from the model the response names is a
/// contradiction, not an override (the response says what was used). Spellings of one price entry agree; two
/// unknown models agree only when they are the same name.
fn check_model_agrees(config: &Config, mine: &str, theirs: &str) -> Result<()> {
    let (a, b) = (config.prices.resolve(mine), config.prices.resolve(theirs));
    let agree = match (a, b) {
        (Some(a), Some(b)) => a.name == b.name,
        (None, None) => mine.trim().eq_ignore_ascii_case(theirs.trim()),
        _ => false,
    };
    if agree {
        return Ok(());
    }
    Err(Error::usage(format!(
        "--model {mine} contradicts the response's model {theirs}{}: leave --model out (the response says which \
         model ran)",
        match (a, b) {
            (Some(a), Some(b)) => format!(" ({} is priced as {}, the response's as {})", mine, a.name, b.name),
            _ => String::new(),
        }
    )))
}

/// A `TT_*` default from the environment; empty is unset.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|s| !s.is_empty())
}

/// Pick the one value given for a field; the positional and the flag must not disagree.
fn one(field: &str, pos: &Option<String>, flag: &Option<String>) -> Result<Option<String>> {
    match (pos, flag) {
        (Some(a), Some(b)) if a != b => {
            Err(Error::usage(format!("{field} given twice: as an argument ({a:?}) and as --{field} ({b:?})")))
        }
        (Some(a), _) => Ok(Some(a.clone())),
        (None, b) => Ok(b.clone()),
    }
}

/// A string field as it goes into the record: leading and trailing whitespace trimmed, then validated like
/// agent and model (non-empty, at most 200 characters, no control or invisible format characters).
fn name_field(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    crate::record::check_name(field, v)?;
    Ok(v.to_string())
}

/// [`name_field`] for an optional value.
fn opt_name(field: &str, v: Option<&str>) -> Result<Option<String>> {
    v.map(|v| name_field(field, v)).transpose()
}

/// A value tt found on its own (git, the machine): kept when it is a valid name, else left out.
fn found(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| crate::record::check_name("value", s).is_ok())
}

/// A note: trimmed, at most [`MAX_NOTE_LEN`] characters; newlines and tabs are allowed, other control and
/// invisible format characters are not. An empty note is no note.
fn note_field(n: &str) -> Result<Option<String>> {
    let n = n.trim();
    if n.chars().count() > MAX_NOTE_LEN {
        return Err(Error::data(format!("note is longer than {MAX_NOTE_LEN} characters")));
    }
    if n.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || crate::record::is_format_char(c)) {
        return Err(Error::data("note must not contain control or invisible format characters"));
    }
    Ok((!n.is_empty()).then(|| n.to_string()))
}

/// Read stdin whole as UTF-8 text; invalid UTF-8 is an error naming the line.
fn read_stdin() -> Result<String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut crate::input::stdin(), &mut bytes).map_err(|e| Error::io("<stdin>", e))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::data(format!("<stdin>:{line}: invalid UTF-8 at byte {at}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::builtin().unwrap()
    }

    fn seed(agent: &str, model: &str, input: &str, output: &str) -> Draft {
        Draft {
            seed: Seed {
                agent: Some(agent.into()),
                model: Some(model.into()),
                input: Some(input.into()),
                output: Some(output.into()),
                note: None,
            },
            no_git: true,
            ..Draft::default()
        }
    }

    #[test]
    fn the_seed_form_makes_a_priced_record() {
        let (r, warnings) = seed(" ATLAS ", "sonnet-4.5", "20000", "5,000").build(&config()).unwrap();
        assert_eq!((r.agent.as_str(), r.tokens.input, r.tokens.output), ("ATLAS", 20_000, 5_000));
        assert_eq!(r.cost_usd.map(|c| c.normalize().to_string()).as_deref(), Some("0.135"));
        assert_eq!((r.source.as_deref(), warnings.len()), (Some("cli"), 0));
    }

    #[test]
    fn a_value_given_twice_must_agree() {
        let mut d = seed("A", "sonnet-4.5", "1", "1");
        d.input = Some("2".into());
        let e = d.build(&config()).unwrap_err();
        assert_eq!(e.message(), "input given twice: as an argument (\"1\") and as --input (\"2\")");
        d.input = Some("1".into());
        assert!(d.build(&config()).is_ok());
    }

    #[test]
    fn unknown_models_warn_or_fail_under_strict() {
        let mut d = seed("A", "sonet-4.5", "1", "1");
        let (r, warnings) = d.build(&config()).unwrap();
        assert!(r.cost_usd.is_none());
        assert!(warnings[0].starts_with("unknown model \"sonet-4.5\" (did you mean"), "{warnings:?}");
        d.strict = true;
        assert!(d.build(&config()).unwrap_err().message().contains("(--strict; did you mean"));
    }

    #[test]
    fn reasoning_cannot_exceed_output_and_tags_have_one_value() {
        let mut d = seed("A", "sonnet-4.5", "1", "5");
        d.reasoning = Some("6".into());
        assert_eq!(d.build(&config()).unwrap_err().message(), "reasoning tokens (6) cannot exceed output tokens (5)");
        d.reasoning = None;
        d.tags = vec!["pr=1".into(), "pr=2".into()];
        assert!(d.build(&config()).unwrap_err().message().starts_with("--tag pr given twice"));
    }

    /// The confirmation names the tokens, model, agent and cost, or says the record is unpriced.
    #[test]
    fn confirmations() {
        let (mut r, _) = seed("ATLAS", "sonnet-4.5", "50000", "15000").build(&config()).unwrap();
        assert_eq!(confirmation(&r, false), "logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750");
        r.cost_usd = None;
        r.tokens = Tokens { input: 1, ..Tokens::default() };
        assert_eq!(confirmation(&r, true), "would log 1 token (sonnet-4.5) for ATLAS - unpriced");
    }

    /// A record appended settling a reservation carries it; a dry run appends nothing; `--enforce` without a
    /// budget says so at once and logs the record.
    #[test]
    fn append_records() {
        let d = tempfile::tempdir().unwrap();
        let log = d.path().join("usage.jsonl");
        let config = config();
        let (mut r, _) = seed("A", "sonnet-4.5", "1", "1").build(&config).unwrap();
        let mut said = Vec::new();
        let id = crate::reserve::new_id();
        let how = Append { dry_run: true, enforce: true, alerts: true, settle: Some(id.clone()) };
        let (line, notes) = append_record(&log, &config, &mut r, &how, &mut |w| said.push(w)).unwrap();
        assert!(line.contains(&format!("\"reservation\":\"{id}\"")), "{line}");
        assert!(notes.is_empty() && !log.exists());
        assert_eq!(said, [crate::enforce::no_budgets(&config).unwrap()]);
        let how = Append { dry_run: false, ..how };
        let (line, notes) = append_record(&log, &config, &mut r, &how, &mut |w| said.push(w)).unwrap();
        assert_eq!(std::fs::read_to_string(&log).unwrap(), format!("{line}\n"));
        assert_eq!(notes, [format!("no reservation {id} in this log: logged, nothing to settle")]);
        assert_eq!(said.len(), 2);
    }

    #[test]
    fn notes_keep_newlines_and_refuse_control_characters() {
        assert_eq!(note_field(" a\nb ").unwrap().as_deref(), Some("a\nb"));
        assert_eq!(note_field("   ").unwrap(), None);
        assert!(note_field("a\u{7}").is_err());
        assert!(note_field(&"x".repeat(MAX_NOTE_LEN + 1)).is_err());
    }
}
