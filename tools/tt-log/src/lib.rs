//! `tt-log`: append usage records to the JSONL usage log.
//!
//! The CLI glue only: building a [`Record`] from arguments, environment or a provider response, validating it,
//! pricing it and appending it under the log lock all use `tt-core`.

use std::io::Write;
use std::path::PathBuf;

use chrono::Utc;
use clap::{CommandFactory, Parser};
use tt_core::args::{parse_duration, parse_tokens, parse_when};
use tt_core::cli::{CommonArgs, HELP_FOOTER, Outcome};
use tt_core::error::{Error, Result};
use tt_core::provider::{self, Provider};
use tt_core::track::Pricing;
use tt_core::{Config, Record, Tokens, money};

mod enforce;
mod import;
mod merge;
mod repair;

const EXAMPLES: &str = "\
Examples:
  tt-log ATLAS sonnet-4.5 50000 15000 \"Built TokenTracker\"
      logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750
  tt-log --agent ci-review --model gpt-4o --input 12000 --output 800 --cache-read 4000 --tag pr=142
  curl … https://api.anthropic.com/v1/messages | tt-log --from anthropic --agent reviewer
  claude -p --output-format json \"…\" | tt-log --from anthropic --agent ATLAS
  tt-log --agent docs --model haiku-4.5 --estimate-from README.md
  TT_AGENT=builder TT_MODEL=opus-4.5 tt-log --input 1200 --output 300 --print
  tt-log --import laptop.ttb desktop-usage.jsonl --dry-run   merge other machines' bundles / logs (new ids only)
  tt-log --import claude-code                   Claude Code transcripts, new requests only
  tt-log --import codex ~/.codex --dry-run      Codex CLI rollouts: preview
  tt-log --import claude-code ~/old/claude --finished   finished sessions: all at once
  tt-log --repair                               move lines readers refuse to usage.jsonl.rejected";

/// Append usage records to the tt usage log.
#[derive(Debug, Parser)]
#[command(
    name = "tt-log",
    version = tt_core::cli::VERSION,
    about = "Append usage records to the tt usage log",
    long_about = "Append one usage record to the JSONL usage log: from arguments, from a provider API response \
on stdin (--from), or from a text whose tokens are estimated (--estimate-from). The record is validated, \
priced with the price table and appended under an exclusive lock; a confirmation goes to stderr.",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Agent name (seed form: AGENT MODEL INPUT OUTPUT [NOTE]).
    #[arg(value_name = "AGENT")]
    pos_agent: Option<String>,
    /// Model name or alias.
    #[arg(value_name = "MODEL")]
    pos_model: Option<String>,
    /// Uncached input tokens.
    #[arg(value_name = "INPUT", allow_negative_numbers = true)]
    pos_input: Option<String>,
    /// Output tokens.
    #[arg(value_name = "OUTPUT", allow_negative_numbers = true)]
    pos_output: Option<String>,
    /// A note.
    #[arg(value_name = "NOTE")]
    pos_note: Option<String>,

    /// Agent name [env: TT_AGENT].
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Model name or alias [env: TT_MODEL].
    #[arg(long, value_name = "NAME")]
    model: Option<String>,
    /// Uncached input tokens.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    input: Option<String>,
    /// Output tokens (reasoning included).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    output: Option<String>,
    /// Prompt-cache read tokens.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    cache_read: Option<String>,
    /// Prompt-cache write tokens (5-minute cache).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    cache_write: Option<String>,
    /// Prompt-cache write tokens (1-hour cache).
    #[arg(long = "cache-write-1h", value_name = "N", allow_negative_numbers = true)]
    cache_write_1h: Option<String>,
    /// Reasoning tokens (informational: already counted in output).
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    reasoning: Option<String>,
    /// Session id [env: TT_SESSION].
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Task name [env: TT_TASK].
    #[arg(long, value_name = "NAME")]
    task: Option<String>,
    /// Project name [env: TT_PROJECT].
    #[arg(long, value_name = "NAME")]
    project: Option<String>,
    /// Provider (default: the price table's provider for the model).
    #[arg(long, value_name = "NAME")]
    provider: Option<String>,
    /// Git branch [env: TT_BRANCH] (default: read from the repository in the current directory; on a detached
    /// HEAD, from CI: GITHUB_HEAD_REF, GITHUB_REF_NAME, CI_COMMIT_REF_NAME).
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// Git commit (default: read from the repository in the current directory).
    #[arg(long, value_name = "SHA")]
    commit: Option<String>,
    /// A label, KEY=VALUE (repeatable).
    #[arg(long = "tag", value_name = "KEY=VALUE")]
    tags: Vec<String>,
    /// A note.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Wall time of the request: milliseconds, or with a unit (250ms, 1.5s, 2m).
    // Hyphen values are taken so `--duration -1s` gets the duration's own message, not clap's `-- -1s` tip.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    duration: Option<String>,
    /// When it happened: RFC 3339, or a date / date-time in the configured time zone, as tt-sum --since takes
    /// them; 2000 or later [default: now].
    #[arg(long, value_name = "TIME")]
    ts: Option<String>,
    /// Where the numbers came from [default: cli, or the provider with --from].
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Read a provider API response from stdin: the response, its bare usage object, or a captured stream as a
    /// JSON array of events (one response: a capture of several is refused). bedrock: Converse (the model
    /// from --model); xai: chat reasoning counted on top of completion tokens; openrouter: cache writes, and
    /// its usage.cost kept as provider_cost_usd (a warning when tt's price differs by more than 1%); azure:
    /// Azure OpenAI. Service tier, fast mode, server-tool calls and Anthropic's iterations are priced.
    #[arg(long, value_name = "PROVIDER", value_parser = ["anthropic", "openai", "gemini", "bedrock", "xai", "openrouter", "azure"])]
    from: Option<String>,
    /// Estimate input tokens from a text file (or - for stdin) at about 4 characters a token.
    #[arg(long, value_name = "FILE", conflicts_with = "from")]
    estimate_from: Option<String>,
    /// Refuse a record of an unknown model (exit 2, nothing appended) instead of logging it unpriced; either way
    /// a name one edit from a known one gets a "did you mean" hint.
    #[arg(long)]
    strict: bool,
    /// Also write the appended record to stdout.
    #[arg(long)]
    print: bool,
    /// Validate and print the record, but append nothing (with --import FILE: report and print the records that
    /// would be added).
    #[arg(long)]
    dry_run: bool,
    /// Import usage instead of logging one record: `claude-code [DIR…]` or `codex [DIR]` transcripts, or tt
    /// JSONL logs / bundles (`FILE…`). Idempotent: records already in the log are skipped.
    #[arg(long, value_name = "SOURCE", num_args = 1.., conflicts_with_all = ["from", "estimate_from"],
          value_parser = tt_core::cli::Words(&["claude-code", "codex"]), hide_possible_values = true)]
    pub import: Option<Vec<String>>,
    /// With --import of transcripts: their sessions are over (a copy, an archive, a backup, whose fresh mtimes
    /// say nothing), so no request is held back as still being written. Not for live sessions: a request still
    /// streaming would be logged with the tokens it has so far, and its final count dropped as a duplicate.
    #[arg(long, requires = "import")]
    finished: bool,
    /// Refuse the record (exit 1, nothing appended) if it would push a configured budget over its limit.
    #[arg(long)]
    pub enforce: bool,
    /// The real usage of a reservation (`tt-budget --estimate-usd X --reserve` printed ID): the record carries
    /// it and replaces the hold in the same append.
    #[arg(long, value_name = "ID", env = "TT_RESERVATION", hide_env_values = true)]
    settle: Option<String>,
    /// Move the lines the readers refuse (invalid JSON, a block of NULs left by a crash, a half line) out of the
    /// log into `<log>.rejected`, each after a `# line N …` comment, byte for byte; valid lines keep their bytes
    /// and order. The one command that rewrites the log (under its lock). With --dry-run: list them, change
    /// nothing.
    #[arg(long, conflicts_with_all = [
        "pos_agent", "pos_model", "pos_input", "pos_output", "pos_note", "agent", "model", "input", "output",
        "cache_read", "cache_write", "cache_write_1h", "reasoning", "session", "task", "project", "provider",
        "branch", "commit", "tags", "note", "duration", "ts", "source", "from", "estimate_from", "strict", "print",
        "import", "finished", "enforce", "no_git",
    ])]
    repair: bool,
    /// No confirmation on stderr.
    #[arg(short, long)]
    quiet: bool,
    /// Do not read git branch and commit from the current directory.
    #[arg(long)]
    no_git: bool,

    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition (for `main`, completions and man pages).
pub fn command() -> clap::Command {
    Cli::command()
}

/// Run `tt-log`.
pub fn run(m: &clap::ArgMatches) -> Result<Outcome> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    if cli.repair {
        if cli.settle.is_some() && m.value_source("settle") == Some(clap::parser::ValueSource::CommandLine) {
            return Err(Error::usage("--settle describes one logged record; it cannot be used with --repair"));
        }
        return repair::run(&cli.common.log_path(&config)?, cli.dry_run, cli.quiet).map(|()| Outcome::Ok);
    }
    if let Some(import) = &cli.import {
        // Imported records carry their own numbers and context: a flag meant for one hand-logged record would be
        // silently ignored, so it is refused instead.
        let record_only = [
            ("--model", cli.model.is_some()),
            ("--input", cli.input.is_some()),
            ("--output", cli.output.is_some()),
            ("--cache-read", cli.cache_read.is_some()),
            ("--cache-write", cli.cache_write.is_some()),
            ("--cache-write-1h", cli.cache_write_1h.is_some()),
            ("--reasoning", cli.reasoning.is_some()),
            ("--session", cli.session.is_some()),
            ("--task", cli.task.is_some()),
            ("--project", cli.project.is_some()),
            ("--provider", cli.provider.is_some()),
            ("--branch", cli.branch.is_some()),
            ("--commit", cli.commit.is_some()),
            ("--tag", !cli.tags.is_empty()),
            ("--note", cli.note.is_some()),
            ("--duration", cli.duration.is_some()),
            ("--ts", cli.ts.is_some()),
            ("--source", cli.source.is_some()),
            ("--enforce", cli.enforce),
            (
                "--settle",
                cli.settle.is_some() && m.value_source("settle") == Some(clap::parser::ValueSource::CommandLine),
            ),
        ];
        if let Some((flag, _)) = record_only.iter().find(|(_, set)| *set) {
            return Err(Error::usage(format!("{flag} describes one logged record; it cannot be used with --import")));
        }
        let (source, paths) = import.split_first().ok_or_else(|| Error::usage("--import needs a SOURCE"))?;
        if matches!(source.as_str(), "claude-code" | "codex") {
            // Transcripts carry their own branch (Claude Code's gitBranch, Codex's session_meta): tt never reads
            // the current repository for them, so --no-git would silently mean nothing.
            if cli.no_git {
                return Err(Error::usage(
                    "--no-git does not apply to --import of transcripts: the branch comes from the transcript itself",
                ));
            }
        } else {
            // tt logs and bundles are merged exactly as they are: nothing re-checks, re-labels or re-reads git.
            let merge_ignores = [
                ("--strict", cli.strict),
                ("--no-git", cli.no_git),
                ("--agent", cli.agent.is_some()),
                ("--finished", cli.finished),
            ];
            if let Some((flag, _)) = merge_ignores.iter().find(|(_, set)| *set) {
                return Err(Error::usage(format!(
                    "{flag} does not apply to --import of tt logs and bundles: their records are merged as they are"
                )));
            }
        }
        return import::run(&cli, &config, source, paths);
    }
    let log = cli.common.log_path(&config)?;
    let (mut record, warnings) = build_record(&cli, &config)?;
    let settle = match cli.settle.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) if !tt_core::reserve::is_id(id) => {
            let from_env = m.value_source("settle") == Some(clap::parser::ValueSource::EnvVariable);
            let what = if from_env { "TT_RESERVATION" } else { "--settle" };
            return Err(Error::usage(format!(
                "{what} wants the id tt-budget --reserve printed (r-…), got {id:?}{}",
                if from_env { "; unset it, or set it to such an id" } else { "" }
            )));
        }
        Some(id) => {
            record.extra.insert(tt_core::reserve::FIELD.into(), serde_json::Value::String(id.to_string()));
            Some(id.to_string())
        }
        None => None,
    };
    let line = record.to_json();
    let mut settled_note = None;
    let mut alerts = Vec::new();
    if !cli.dry_run {
        let mut locked = tt_core::log::LockedLog::open(&log)?;
        let state = match &settle {
            Some(id) => Some(tt_core::reserve::read(&log)?.state(id, chrono::Utc::now())),
            None => None,
        };
        let passed = if cli.enforce { enforce::check(&mut locked, &config, &record)? } else { None };
        // Level alerts compare with the index as it stood before the append: --enforce's own, or a watch.
        let watch = if passed.is_none() && !cli.quiet { tt_core::enforce::watch(&mut locked, &config) } else { None };
        locked.append(&format!("{line}\n"))?;
        alerts = match (passed, watch) {
            (Some(p), _) => enforce::appended(p, &mut locked),
            (None, Some(w)) => w.alerts(&mut locked, &config),
            (None, None) => Vec::new(),
        };
        if cli.quiet {
            alerts.clear();
        }
        if let (Some(id), Some(state)) = (&settle, state) {
            settled_note = tt_core::reserve::settled(&log, id, state);
        }
    } else if cli.enforce {
        enforce::dry_run(&log, &config, &record)?;
    }
    for w in warnings {
        tt_core::cli::warn("tt-log", w);
    }
    if let Some(n) = settled_note {
        tt_core::cli::warn("tt-log", n);
    }
    for a in alerts {
        tt_core::cli::warn("tt-log", a);
    }
    if cli.print || cli.dry_run {
        let mut out = tt_core::output::stdout();
        let printed = writeln!(out, "{line}").and_then(|()| out.flush());
        match printed {
            // A closed pipe is the reader's choice: quiet, as everywhere (the confirmation still follows).
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            // The record is in the log: say so, so that a retry does not log it twice.
            Err(e) if !cli.dry_run => {
                return Err(Error::io(
                    format!("the record was logged (id {}), but --print could not write it", record.id),
                    e,
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !cli.quiet {
        let cost = record.cost_usd.map(money::usd4).unwrap_or_else(|| "unpriced".to_string());
        let verb = if cli.dry_run { "would log" } else { "logged" };
        let _ = writeln!(
            std::io::stderr(),
            "{verb} {} token{} ({}) for {} - {cost}",
            money::thousands(record.tokens.total()),
            if record.tokens.total() == 1 { "" } else { "s" },
            record.model,
            record.agent
        );
    }
    Ok(Outcome::Ok)
}

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
    tt_core::record::check_name(field, v)?;
    Ok(v.to_string())
}

/// [`name_field`] for an optional value.
fn opt_name(field: &str, v: Option<&str>) -> Result<Option<String>> {
    v.map(|v| name_field(field, v)).transpose()
}

/// A value tt found on its own (git, the machine): kept when it is a valid name, else left out — it is
/// context, not something the user typed wrong.
fn found(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| tt_core::record::check_name("value", s).is_ok())
}

/// The longest note accepted, in characters.
const MAX_NOTE_LEN: usize = 4096;

/// A note: trimmed, at most [`MAX_NOTE_LEN`] characters; newlines and tabs are allowed, other control and
/// invisible format characters are not. An empty note is no note.
fn note_field(n: &str) -> Result<Option<String>> {
    let n = n.trim();
    if n.chars().count() > MAX_NOTE_LEN {
        return Err(Error::data(format!("note is longer than {MAX_NOTE_LEN} characters")));
    }
    if n.chars().any(|c| (c.is_control() && c != '\n' && c != '\t') || tt_core::record::is_format_char(c)) {
        return Err(Error::data("note must not contain control or invisible format characters"));
    }
    Ok((!n.is_empty()).then(|| n.to_string()))
}

/// Read stdin whole, as text; `lossy` replaces invalid UTF-8 (for estimates) instead of refusing it.
fn read_stdin(lossy: bool) -> Result<String> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut tt_core::input::stdin(), &mut bytes).map_err(|e| Error::io("<stdin>", e))?;
    if lossy {
        return Ok(String::from_utf8_lossy(&bytes).into_owned());
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        Error::data(format!("<stdin>:{line}: invalid UTF-8 at byte {at}"))
    })
}

fn build_record(cli: &Cli, config: &Config) -> Result<(Record, Vec<String>)> {
    let max = config.max_tokens;
    let tz = config.timezone()?;
    let mut tokens = Tokens::default();
    let mut billing = tt_core::Billing::default();
    let mut iterations = Vec::new();
    let mut provider_cost = None;
    let mut reasoning = None;
    let mut model = one("model", &cli.pos_model, &cli.model)?;
    let mut source = cli.source.clone();
    let mut estimated = None;

    // Flags that contradict where the numbers come from are refused, not silently overridden.
    let input_given = cli.pos_input.is_some() || cli.input.is_some();
    if cli.from.is_some() {
        let token_flags = [
            ("INPUT / --input", input_given),
            ("OUTPUT / --output", cli.pos_output.is_some() || cli.output.is_some()),
            ("--cache-read", cli.cache_read.is_some()),
            ("--cache-write", cli.cache_write.is_some()),
            ("--cache-write-1h", cli.cache_write_1h.is_some()),
            ("--reasoning", cli.reasoning.is_some()),
        ];
        if let Some((flag, _)) = token_flags.iter().find(|(_, set)| *set) {
            return Err(Error::usage(format!("{flag} contradicts --from: the token counts come from the response")));
        }
    }
    if cli.estimate_from.is_some() && input_given {
        return Err(Error::usage("INPUT / --input contradicts --estimate-from: the input tokens are the estimate"));
    }

    if let Some(p) = &cli.from {
        let provider = Provider::parse(p)?;
        // A terminal, /dev/null or a closed stdin is "nothing on stdin", like everywhere: never wait on a terminal.
        let text = if tt_core::input::stdin_has_data() { read_stdin(false)? } else { String::new() };
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
            parse_tokens(name, &n.to_string(), max).map_err(|e| e.context("<stdin>"))?;
        }
        tokens = u.tokens;
        reasoning = u.reasoning;
        billing = u.billing;
        iterations = u.iterations;
        provider_cost = u.provider_cost.map(|c| (c, u.provider_cost_partial));
        if u.model.is_none()
            && model.is_none()
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
        if let Some(theirs) = u.model {
            // The response's model wins over TT_MODEL (a default). An explicit MODEL / --model must agree with it
            // (price as the same entry); then the spelling the user chose is kept.
            match &model {
                Some(mine) => check_model_agrees(config, mine, &theirs)?,
                None => model = Some(theirs),
            }
        }
        source.get_or_insert_with(|| provider.source().to_string());
    }
    if let Some(path) = &cli.estimate_from {
        if path.is_empty() {
            return Err(Error::usage("--estimate-from needs a file name (or - for stdin), got an empty one"));
        }
        // Text of unknown encoding: decoded the same lossy way from a file and from stdin, and read up to 16 MiB
        // (about 4M tokens, beyond any model's context): more is not a prompt, and an endless file such as
        // /dev/zero must not be read until memory runs out. A FIFO (`<(…)`) is read like stdin.
        const MAX_PROMPT: u64 = 16 * 1024 * 1024;
        let (what, reader): (&str, Box<dyn std::io::Read>) = if path == "-" {
            ("<stdin>", Box::new(tt_core::input::stdin()))
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
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if text.trim().is_empty() {
            let what = if path == "-" { "stdin".to_string() } else { path.clone() };
            return Err(Error::data(format!("nothing to estimate: {what} holds no text")));
        }
        let chars = text.chars().count() as u64;
        tokens.input = chars.div_ceil(4);
        parse_tokens("input", &tokens.input.to_string(), max)?;
        estimated = Some(true);
        source.get_or_insert_with(|| "estimate".to_string());
    }
    if let Some(s) = one("input", &cli.pos_input, &cli.input)? {
        tokens.input = parse_tokens("input", &s, max)?;
    }
    if let Some(s) = one("output", &cli.pos_output, &cli.output)? {
        tokens.output = parse_tokens("output", &s, max)?;
    }
    if let Some(s) = &cli.cache_read {
        tokens.cache_read = parse_tokens("cache read", s, max)?;
    }
    if let Some(s) = &cli.cache_write {
        tokens.cache_write = parse_tokens("cache write", s, max)?;
    }
    if let Some(s) = &cli.cache_write_1h {
        tokens.cache_write_1h = parse_tokens("cache write 1h", s, max)?;
    }
    if let Some(s) = &cli.reasoning {
        let r = parse_tokens("reasoning", s, max)?;
        if r > tokens.output {
            return Err(Error::data(format!("reasoning tokens ({r}) cannot exceed output tokens ({})", tokens.output)));
        }
        reasoning = Some(r);
    }
    if cli.pos_input.is_some() && cli.pos_output.is_none() && cli.output.is_none() {
        return Err(Error::usage(
            "no OUTPUT: the seed form is AGENT MODEL INPUT OUTPUT [NOTE] (give 0 for no output tokens)",
        ));
    }
    let manual = cli.from.is_none() && cli.estimate_from.is_none();
    if manual && cli.pos_input.is_none() && cli.input.is_none() && cli.pos_output.is_none() && cli.output.is_none() {
        return Err(Error::usage(
            "no token counts: give AGENT MODEL INPUT OUTPUT, --input/--output, --from PROVIDER or --estimate-from FILE (see --help)",
        ));
    }

    let agent = one("agent", &cli.pos_agent, &cli.agent)?
        .or_else(|| env("TT_AGENT"))
        .ok_or_else(|| Error::usage("no agent: give it as the first argument, --agent NAME or TT_AGENT"))?;
    let model = model
        .or_else(|| env("TT_MODEL"))
        .ok_or_else(|| Error::usage("no model: give it as the second argument, --model NAME or TT_MODEL"))?;
    let agent = name_field("agent", &agent)?;
    let model = name_field("model", &model)?;

    let ts = match &cli.ts {
        Some(s) => parse_when(s, tz)?,
        None => Utc::now(),
    };
    let mut r = Record::new(tt_core::id::new_id(ts), ts, agent, model, tokens);
    r.reasoning_tokens = reasoning;
    r.billing = billing;
    r.estimated = estimated;
    r.source = Some(opt_name("source", source.as_deref())?.unwrap_or_else(|| "cli".to_string()));
    r.session = opt_name("session", cli.session.clone().or_else(|| env("TT_SESSION")).as_deref())?;
    r.task = opt_name("task", cli.task.clone().or_else(|| env("TT_TASK")).as_deref())?;
    r.project = opt_name("project", cli.project.clone().or_else(|| env("TT_PROJECT")).as_deref())?;
    let provider_flag = opt_name("provider", cli.provider.as_deref())?;
    // TT_BRANCH is the user's word for the branch, as --branch is: it beats what git says (and a detached
    // HEAD's CI variables), and is checked as a flag's value is.
    let branch_flag = opt_name("branch", cli.branch.clone().or_else(|| env("TT_BRANCH")).as_deref())?;
    let commit_flag = opt_name("commit", cli.commit.as_deref())?;
    r.notes = match one("note", &cli.pos_note, &cli.note)? {
        Some(n) => note_field(&n)?,
        None => None,
    };
    for t in &cli.tags {
        let (k, v) = t.split_once('=').ok_or_else(|| Error::usage(format!("--tag wants KEY=VALUE, got {t:?}")))?;
        let k = name_field("tag key", k)?;
        let v = name_field(&format!("tag {k}"), v)?;
        if let Some(old) = r.tags.get(&k) {
            return Err(Error::usage(format!("--tag {k} given twice ({old:?} and {v:?}): a tag key has one value")));
        }
        r.tags.insert(k, v);
    }
    if let Some(d) = &cli.duration {
        r.duration_ms = Some(parse_duration(d)?);
    }
    if (branch_flag.is_none() || commit_flag.is_none())
        && !cli.no_git
        && let Ok(cwd) = std::env::current_dir()
    {
        let head = tt_core::machine::head(&cwd);
        r.branch = found(tt_core::machine::branch(&head));
        r.commit = found(head.commit);
    }
    if branch_flag.is_some() {
        r.branch = branch_flag;
    }
    if commit_flag.is_some() {
        r.commit = commit_flag;
    }
    r.host = found(tt_core::machine::host());
    r.user = found(tt_core::machine::user());

    let mut warnings = Vec::new();
    if provider_flag.is_some() {
        r.provider = provider_flag;
    }
    match tt_core::track::price_with_iterations(config, &mut r, &iterations)? {
        Pricing::Priced => {}
        Pricing::Unpriced(why) if cli.strict => {
            return Err(Error::data(format!("{why} (--strict): add it to the price table")));
        }
        Pricing::Unpriced(why) => warnings.push(format!("{why}: logged unpriced")),
        Pricing::UnknownModel { hint } if cli.strict => {
            let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
            return Err(Error::data(format!(
                "unknown model {:?} (--strict{hint}): add it to the price table (see tt-price --list)",
                r.model
            )));
        }
        Pricing::UnknownModel { hint } => {
            let hint = hint.map(|h| format!(" ({h})")).unwrap_or_default();
            warnings.push(format!(
                "unknown model {:?}{hint}: logged unpriced (add it to the price table; tt-price --list shows it)",
                r.model
            ));
        }
    }
    if let Some((theirs, partial)) = provider_cost {
        if let (Some(cost), Some(label), Some(d)) =
            (r.cost_usd, r.price.clone(), tt_core::money::parse_decimal(&theirs.to_string()))
            && !partial
        {
            let ours = tt_core::price::Priced { cost, label };
            let source = r.source.as_deref().unwrap_or("the provider");
            warnings.extend(provider::cost_mismatch(source, &ours, d, &r.model));
        }
        r.extra.insert("provider_cost_usd".into(), serde_json::Value::Number(theirs));
    }
    Ok((r, warnings))
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

/// Where `tt-log` would write by default (used by tests and docs).
pub fn default_log() -> Option<PathBuf> {
    tt_core::config::default_log_path()
}
