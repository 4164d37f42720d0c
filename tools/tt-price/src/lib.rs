//! `tt-price`: price records, quote a price, list the price table, import LiteLLM's prices (or show what
//! importing them would change), list the models without a price.
//!
//! CLI glue over `tt_core::price` and `tt_core::config`; the LiteLLM conversion lives in
//! `tt_core::litellm`, the comparison of `--diff` in `tt_core::price_diff`.

use std::io::Write;

use clap::{CommandFactory, Parser};
use tt_core::cli::{CommonArgs, HELP_FOOTER};
use tt_core::error::{Error, Result};
use tt_core::output::Format;
use tt_core::price::ModelEntry;

const EXAMPLES: &str = "\
Examples:
  tt-price usage.jsonl > priced.jsonl            price records (existing costs kept)
  tt-price --reprice < usage.jsonl               price every record again with today's table
  tt-price --quote sonnet-4.5 50000 15000        what would this cost? → $0.3750
  tt-price --quote opus-4.5 200000 4000 --cache-read 150000 --format value
  tt-price --quote gpt-5.5 300000 1000 --service-tier flex   a long-context tier at the flex rates
  tt-price --list                                the effective price table and where each entry came from
  tt-price --list --all --format jsonl           every model of the built-in LiteLLM catalogue too
  tt-price --missing --fail-missing              models logged without a price; exit 1 if there are any
  tt-price --import-litellm model_prices_and_context_window.json > litellm.toml
  tt-price --diff model_prices_and_context_window.json --provider anthropic
                                                 which prices that file would add or change
  tt-price --import-litellm model_prices_and_context_window.json --update
                                                 merge what differs into ~/.config/tt/config.toml";

/// Price records, quote prices, list and import price tables.
#[derive(Debug, Parser)]
#[command(
    name = "tt-price",
    version = tt_core::cli::VERSION,
    about = "Price usage records, quote a price, list and import price tables",
    long_about = "Without a mode flag, tt-price is a filter: it reads usage records (files, `-`, stdin, or the \
default log) and writes them back with `cost_usd` and `price` set from the price table. Records that already carry \
a cost keep it unless --reprice. Records of unknown models pass through unpriced, with one warning per model.

--missing lists instead the models of records that have no cost and no price in the table: one row per model with \
its records, tokens, first and last time seen and the known name one edit away, most tokens first. Nothing is \
printed when every model is priced; --fail-missing then exits 0, and 1 when a model is listed.

--diff FILE shows what loading FILE's --import-litellm conversion as one more config layer would change in the \
effective price table (built-in prices and your config): each model it would add, and each model whose prices \
it would change, with every changed price old → new (USD per million tokens, exact). Models whose prices would \
stay are left out, and entries the file does not name are kept by such a layer, so they are only counted: a \
table ends with that count on stderr. --provider and --zero-is-free select models as for --import-litellm. \
Exit 0 whatever the differences.

Prices come from the config layers first, then from the built-in catalogue: every model with token prices in \
LiteLLM's price map (its version: tt-price --list --all shows it as each entry's source), with long-context tiers, \
batch/flex/priority service tiers, the fast-mode factor and per-call tool fees. Records logged while their model \
had no price carry no cost: every reader prices them with the table it has, so adding the price prices them; the \
log is never rewritten.",
    after_help = format!("{EXAMPLES}\n\n{HELP_FOOTER}"),
)]
pub struct Cli {
    /// Record files to price (`-` for stdin) [default: stdin if piped, else the usage log].
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Price every record again, replacing existing costs.
    #[arg(long)]
    reprice: bool,
    /// Quote the cost of MODEL with INPUT and OUTPUT tokens.
    #[arg(long, num_args = 3, allow_negative_numbers = true, value_names = ["MODEL", "INPUT", "OUTPUT"], conflicts_with_all = ["list", "import_litellm", "diff", "files"])]
    quote: Option<Vec<String>>,
    /// With --quote: prompt-cache read tokens.
    // Negative numbers are taken as values so `--cache-read -5` gets the token count's own message.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    cache_read: Option<String>,
    /// With --quote: 5-minute cache write tokens.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    cache_write: Option<String>,
    /// With --quote: 1-hour cache write tokens.
    #[arg(long = "cache-write-1h", value_name = "N", allow_negative_numbers = true)]
    cache_write_1h: Option<String>,
    /// With --quote: price at this time instead of now (RFC 3339, or a date / date-time in the configured time
    /// zone).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// With --quote: the service tier (standard, batch, flex, priority).
    #[arg(long = "service-tier", value_name = "TIER",
          value_parser = tt_core::cli::Words(&["standard", "batch", "flex", "priority"]), hide_possible_values = true)]
    service_tier: Option<String>,
    /// With --quote: fast mode (`speed: "fast"`).
    #[arg(long)]
    fast: bool,
    /// With --quote: server-side web searches.
    #[arg(long = "web-searches", value_name = "N")]
    web_searches: Option<u64>,
    /// Show the effective price table: the config's entries and the aliased catalogue models (--all: every
    /// model of the built-in LiteLLM catalogue too).
    #[arg(long, conflicts_with_all = ["import_litellm", "diff", "files"])]
    list: bool,
    /// With --list: every model of the built-in catalogue, not only the config's.
    #[arg(long)]
    all: bool,
    /// Convert LiteLLM's model_prices_and_context_window.json to tt's TOML on stdout.
    #[arg(long, value_name = "FILE", conflicts_with = "files")]
    import_litellm: Option<String>,
    /// With --import-litellm: merge the prices that differ from the built-in table into your config file
    /// (--config PATH, else ~/.config/tt/config.toml), in one block each update rewrites; models the file prices
    /// by hand are left alone.
    #[arg(long)]
    update: bool,
    /// Show which models and prices LiteLLM's FILE would add or change if its conversion were loaded over the
    /// current price table.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "import_litellm"])]
    diff: Option<String>,
    /// With --import-litellm or --diff: only these providers (comma-separated LiteLLM provider names).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    provider: Vec<String>,
    /// With --import-litellm or --diff: entries priced 0 for input and output are free (by default they are
    /// unknown: skipped, so their records stay unpriced rather than $0).
    #[arg(long)]
    zero_is_free: bool,
    /// List the models of records that have no cost and that the price table does not know.
    #[arg(long, conflicts_with_all = ["quote", "list", "import_litellm", "diff"])]
    missing: bool,
    /// With --missing: exit 1 when some model has no price (a CI check).
    #[arg(long)]
    fail_missing: bool,
    /// Filter: refuse records of unknown models instead of passing them through unpriced.
    #[arg(long)]
    strict: bool,
    /// Output format: --list: table|json|jsonl|toml; --quote: table|json|jsonl|value; --missing and --diff:
    /// table|json|jsonl|csv|markdown (json: one document, jsonl: one object a line) [default: table on a terminal,
    /// else jsonl]. The filter always writes JSONL records.
    #[arg(long, value_name = "FORMAT",
          value_parser = tt_core::cli::Words(&["table", "json", "jsonl", "csv", "markdown", "toml", "value"]), hide_possible_values = true)]
    format: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

/// The clap definition.
pub fn command() -> clap::Command {
    Cli::command()
}

/// Which job a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Filter,
    Quote,
    List,
    ImportLitellm,
    Diff,
    Missing,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Filter => "the filter (records in, priced records out)",
            Mode::Quote => "--quote",
            Mode::List => "--list",
            Mode::ImportLitellm => "--import-litellm",
            Mode::Diff => "--diff",
            Mode::Missing => "--missing",
        }
    }
}

/// Flags that only one mode reads are refused in the others: a flag silently ignored is a wrong answer the
/// user cannot see.
fn check_flags(cli: &Cli, mode: Mode) -> Result<()> {
    const LITELLM: &[Mode] = &[Mode::ImportLitellm, Mode::Diff];
    let only: [(&str, bool, &[Mode]); 14] = [
        ("--cache-read", cli.cache_read.is_some(), &[Mode::Quote]),
        ("--cache-write", cli.cache_write.is_some(), &[Mode::Quote]),
        ("--cache-write-1h", cli.cache_write_1h.is_some(), &[Mode::Quote]),
        ("--at", cli.at.is_some(), &[Mode::Quote]),
        ("--service-tier", cli.service_tier.is_some(), &[Mode::Quote]),
        ("--fast", cli.fast, &[Mode::Quote]),
        ("--all", cli.all, &[Mode::List]),
        ("--web-searches", cli.web_searches.is_some(), &[Mode::Quote]),
        ("--provider", !cli.provider.is_empty(), LITELLM),
        ("--zero-is-free", cli.zero_is_free, LITELLM),
        ("--update", cli.update, &[Mode::ImportLitellm]),
        ("--reprice", cli.reprice, &[Mode::Filter]),
        ("--strict", cli.strict, &[Mode::Filter]),
        ("--fail-missing", cli.fail_missing, &[Mode::Missing]),
    ];
    if let Some((flag, _, wants)) = only.iter().find(|(_, set, wants)| *set && !wants.contains(&mode)) {
        let also: Vec<&str> = wants[1..].iter().map(|w| w.name()).collect();
        let also = if also.is_empty() { String::new() } else { format!(" ({} takes it too)", also.join(", ")) };
        return Err(Error::usage(format!("{flag} applies only to {}, not to {}{also}", wants[0].name(), mode.name())));
    }
    if mode == Mode::ImportLitellm && cli.format.is_some() {
        return Err(Error::usage("--format does not apply to --import-litellm (it writes TOML)"));
    }
    Ok(())
}

/// Run `tt-price`.
pub fn run(m: &clap::ArgMatches) -> Result<()> {
    let cli: Cli = tt_core::cli::parse_args(m)?;
    let mode = if cli.import_litellm.is_some() {
        Mode::ImportLitellm
    } else if cli.diff.is_some() {
        Mode::Diff
    } else if cli.quote.is_some() {
        Mode::Quote
    } else if cli.list {
        Mode::List
    } else if cli.missing {
        Mode::Missing
    } else {
        Mode::Filter
    };
    check_flags(&cli, mode)?;
    if let Some(path) = &cli.import_litellm {
        let converted = convert_litellm(&cli, path)?;
        if cli.update {
            // Into the user's config file (see `tt_core::price_diff::update_file`), atomically.
            let from = if path == "-" { "<stdin>" } else { path };
            let warn = &mut |w: String| tt_core::cli::warn("tt-price", w);
            let done = tt_core::price_diff::update_file(cli.common.config.as_deref(), &converted.models, from, warn)?;
            eprintln!("tt-price: {done}");
            return Ok(());
        }
        let mut out = tt_core::output::stdout();
        out.write_all(converted.toml.as_bytes())?;
        out.flush()?;
        return Ok(());
    }
    let config = cli.common.config()?;
    if let Some(path) = &cli.diff {
        return diff(&cli, &config, path);
    }
    if let Some(q) = &cli.quote {
        return quote(&cli, &config, q);
    }
    if cli.list {
        return list(&cli, &config);
    }
    if cli.missing {
        return missing(&cli, &config);
    }
    filter(&cli, &config)
}

/// Read LiteLLM's JSON from `path` (`-`: stdin) and convert it, with the conversion's warnings on stderr.
fn convert_litellm(cli: &Cli, path: &str) -> Result<tt_core::litellm::Converted> {
    let (name, text) = if path == "-" {
        ("<stdin>".to_string(), tt_core::input::read_all("<stdin>", tt_core::input::stdin())?)
    } else {
        (path.to_string(), std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?)
    };
    // A byte-order mark is not part of the JSON.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let converted = tt_core::litellm::to_toml(&name, text, &cli.provider, cli.zero_is_free)?;
    for w in &converted.warnings {
        tt_core::cli::warn("tt-price", format!("{name}: {w}"));
    }
    Ok(converted)
}

fn diff(cli: &Cli, config: &tt_core::Config, path: &str) -> Result<()> {
    let format = Format::choose(cli.format.as_deref())?;
    let converted = convert_litellm(cli, path)?;
    let name = if path == "-" { "<stdin>" } else { path };
    // The file's prices loaded by the config loader itself, as one more layer over the user's.
    let (toml, kept, warnings) = tt_core::price_diff::layer(&config.prices, &converted.models);
    let after = cli.common.config_with_layer(&format!("{name} (converted)"), &toml)?;
    let d = tt_core::price_diff::diff(&config.prices, &after.prices, &kept, warnings)?;
    for w in &d.warnings {
        tt_core::cli::warn("tt-price", format!("{name}: {w}"));
    }
    let mut out = tt_core::output::stdout();
    tt_core::price_diff::render(&mut out, format, &d)?;
    out.flush()?;
    // Under a table only (a person reading): in the other formats the rows are the whole answer.
    if format == Format::Table {
        let _ = writeln!(std::io::stderr(), "tt-price: {}", tt_core::price_diff::summary(&d));
    }
    Ok(())
}

fn missing(cli: &Cli, config: &tt_core::Config) -> Result<()> {
    let format = Format::choose(cli.format.as_deref())?;
    let tz = config.timezone()?;
    // The same sources as the filter, tt-sum and tt-export: files given, else `--log`, else stdin when it has
    // data, else the usage log (one that does not exist yet has no models).
    let (sources, _) = cli.common.sources(&cli.files, config)?;
    let rows = tt_core::unpriced::find(&sources, &config.prices)?;
    let mut out = tt_core::output::stdout();
    tt_core::unpriced::render(&mut out, format, &rows, tz)?;
    out.flush()?;
    // Said only to a person at a terminal: in a pipe, no rows is the whole answer.
    if rows.is_empty() && format == Format::Table && tt_core::output::stdout_is_terminal() {
        let _ = writeln!(std::io::stderr(), "tt-price: every model is priced");
    }
    if cli.fail_missing { tt_core::unpriced::fail(&rows) } else { Ok(()) }
}

fn quote(cli: &Cli, config: &tt_core::Config, q: &[String]) -> Result<()> {
    let [model, input, output] = q else { return Err(Error::usage("--quote needs MODEL INPUT OUTPUT")) };
    let ask = tt_core::quote::Ask {
        model,
        input,
        output,
        cache_read: cli.cache_read.as_deref(),
        cache_write: cli.cache_write.as_deref(),
        cache_write_1h: cli.cache_write_1h.as_deref(),
        at: cli.at.as_deref(),
        service_tier: cli.service_tier.as_deref(),
        fast: cli.fast,
        web_searches: cli.web_searches,
    };
    let q = tt_core::quote::Quote::asked(config, &ask, |w| tt_core::cli::warn("tt-price", w))?;
    let mut out = tt_core::output::stdout();
    q.write(&mut out, cli.format.as_deref())?;
    out.flush()?;
    Ok(())
}

fn list(cli: &Cli, config: &tt_core::Config) -> Result<()> {
    let mut out = tt_core::output::stdout();
    let listed = config.prices.listed(cli.all);
    let entries: Vec<&ModelEntry> = listed.iter().collect();
    tt_core::litellm::write_entries(&mut out, cli.format.as_deref(), &entries)?;
    out.flush()?;
    Ok(())
}

fn filter(cli: &Cli, config: &tt_core::Config) -> Result<()> {
    if cli.format.is_some() {
        return Err(Error::usage("--format applies to --list and --quote; the filter writes JSONL records"));
    }
    // Files given, else `--log`, else stdin when it has data, else the usage log; a log that does not exist yet
    // is an empty log, as in tt-sum, tt-export and tt-optimize.
    let (sources, _) = cli.common.sources(&cli.files, config)?;
    let mut out = tt_core::output::stdout();
    let warn = &mut |w: String| tt_core::cli::warn("tt-price", w);
    tt_core::price::filter(&sources, &config.prices, cli.reprice, cli.strict, &mut out, warn)
}
