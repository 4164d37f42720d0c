//! `tt-log`: append usage records to the JSONL usage log.
//!
//! The CLI glue only: building a [`Record`] from arguments, environment or a provider response, validating it,
//! pricing it and appending it under the log lock all use `tt-core`.

use std::io::Write;

use clap::parser::ValueSource;
use clap::{CommandFactory, Parser};
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::draft::{Append, Draft, Seed};
use tt_core::error::{Error, Result};
use tt_core::{Config, Record};

mod import;
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
    /// JSONL logs / bundles (`FILE…`). Idempotent: records already in the log are skipped. One that takes more
    /// than about a second shows a progress bar on a terminal's stderr (not under CI, not with --quiet).
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
    /// Push the records this machine kept in its spool while the ledger (the log) was out of reach, and log
    /// nothing (the next write to the ledger pushes them too).
    #[arg(long, conflicts_with_all = [
        "pos_agent", "pos_model", "pos_input", "pos_output", "pos_note", "agent", "model", "input", "output",
        "cache_read", "cache_write", "cache_write_1h", "reasoning", "session", "task", "project", "provider",
        "branch", "commit", "tags", "note", "duration", "ts", "source", "from", "estimate_from", "strict", "print",
        "import", "finished", "enforce", "no_git", "repair", "dry_run",
    ])]
    push_spool: bool,
    /// No confirmation on stderr (with --import: no summary line and no progress bar).
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
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let config = cli.common.config()?;
    let given = |flag: &str| given(m, flag);
    if cli.repair {
        if given("--settle") {
            return Err(Error::usage("--settle describes one logged record; it cannot be used with --repair"));
        }
        return repair::run(&cli.common.log_path(&config)?, cli.dry_run, cli.quiet);
    }
    if cli.push_spool {
        return push_spool(&cli, &config);
    }
    if let Some(import) = &cli.import {
        let (source, paths) = import.split_first().ok_or_else(|| Error::usage("--import needs a SOURCE"))?;
        tt_core::import::refuse_flags(source, &given)?;
        return match tt_core::import::target(source)? {
            Some(source) => import::transcripts(&cli, &config, source, paths),
            None => import::merge(&cli, &config, import),
        };
    }
    let log = cli.common.log_path(&config)?;
    let (mut record, warnings) = build_record(&cli, &config)?;
    let from_env = m.value_source("settle") == Some(ValueSource::EnvVariable);
    let how = Append {
        dry_run: cli.dry_run,
        enforce: cli.enforce,
        alerts: !cli.quiet,
        settle: tt_core::reserve::settle_id(cli.settle.as_deref(), from_env)?,
    };
    let warn = &mut |w: String| tt_core::cli::warn("tt-log", w);
    let (line, notes) = tt_core::draft::append_record(&log, &config, &mut record, &how, warn)?;
    report(&cli, &record, &line, warnings.into_iter().chain(notes))
}

/// `--push-spool`: push what this machine spooled for the ledger that is the log.
fn push_spool(cli: &Cli, config: &Config) -> Result<()> {
    let log = tt_core::store::Log::at(&cli.common.log_path(config)?)?;
    let tt_core::store::Log::Ledger(target) = &log else {
        return Err(Error::usage(format!("--push-spool is for a ledger log; {} is a file", log.name())));
    };
    let spool = log.side_file(tt_core::spool::SPOOL);
    let note = tt_core::spool::push(target, &spool)?.report(|w| tt_core::cli::warn("tt-log", w));
    if !cli.quiet {
        let said = note.unwrap_or_else(|| format!("nothing spooled for {}", target.name()));
        let _ = writeln!(std::io::stderr(), "tt-log: {said}");
    }
    Ok(())
}

/// True when `flag` (`--model`, as typed) was given on the command line — not taken from the environment.
fn given(m: &clap::ArgMatches, flag: &str) -> bool {
    let arg = Cli::command().get_arguments().find(|a| a.get_long() == flag.strip_prefix("--")).cloned();
    debug_assert!(arg.is_some(), "tt-log has no flag {flag}");
    arg.is_some_and(|a| m.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
}

/// What `tt-log` says after logging one record: warnings and notes on stderr, the line on stdout with --print
/// or --dry-run, and the confirmation.
fn report(cli: &Cli, record: &Record, line: &str, notes: impl Iterator<Item = String>) -> Result<()> {
    for n in notes {
        tt_core::cli::warn("tt-log", n);
    }
    if cli.print || cli.dry_run {
        let mut out = tt_core::output::stdout();
        // A closed pipe is the reader's choice: quiet, as everywhere (the confirmation still follows).
        match tt_core::output::printed(writeln!(out, "{line}").and_then(|()| out.flush())) {
            Ok(_) => {}
            // The record is in the log: say so, so that a retry does not log it twice.
            Err(e) if !cli.dry_run => {
                let what = format!("the record was logged (id {}), but --print could not write it", record.id);
                return Err(Error::io(what, e));
            }
            Err(e) => return Err(e.into()),
        }
    }
    if !cli.quiet {
        let _ = writeln!(std::io::stderr(), "{}", tt_core::draft::confirmation(record, cli.dry_run));
    }
    Ok(())
}

impl Cli {
    /// The seed form's positional arguments that were given. With `--import` they are more paths:
    /// in `--import codex --dry-run DIR`, clap takes DIR for the seed form's AGENT.
    fn positional(&self) -> impl Iterator<Item = &String> {
        [&self.pos_agent, &self.pos_model, &self.pos_input, &self.pos_output, &self.pos_note].into_iter().flatten()
    }
}

/// The record the flags describe, as the core's [`Draft`] builds it.
fn build_record(cli: &Cli, config: &Config) -> Result<(Record, Vec<String>)> {
    Draft {
        seed: Seed {
            agent: cli.pos_agent.clone(),
            model: cli.pos_model.clone(),
            input: cli.pos_input.clone(),
            output: cli.pos_output.clone(),
            note: cli.pos_note.clone(),
        },
        agent: cli.agent.clone(),
        model: cli.model.clone(),
        input: cli.input.clone(),
        output: cli.output.clone(),
        cache_read: cli.cache_read.clone(),
        cache_write: cli.cache_write.clone(),
        cache_write_1h: cli.cache_write_1h.clone(),
        reasoning: cli.reasoning.clone(),
        session: cli.session.clone(),
        task: cli.task.clone(),
        project: cli.project.clone(),
        provider: cli.provider.clone(),
        branch: cli.branch.clone(),
        commit: cli.commit.clone(),
        tags: cli.tags.clone(),
        note: cli.note.clone(),
        duration: cli.duration.clone(),
        ts: cli.ts.clone(),
        source: cli.source.clone(),
        from: cli.from.clone(),
        estimate_from: cli.estimate_from.clone(),
        strict: cli.strict,
        no_git: cli.no_git,
    }
    .build(config)
}
