//! The shared `main` of every tool: parse, run, map the outcome to an exit code.
//!
//! Every tool's `main.rs` is one call: `tt_core::cli::main("tt-sum", tt_sum::command, tt_sum::run)`.
//! That is the one place where errors are printed (`tt-sum: error: …`, one line, no backtrace) and where a
//! closed stdout becomes a quiet exit 0. Panics are not expected anywhere, but if one happens anyway it is
//! reported as one line with exit 2 rather than Rust's multi-line message and exit 101.
//!
//! Under GitHub Actions (`GITHUB_ACTIONS=true`, or a tool's own flag, see [`Options`]) every exit-2 error is
//! also written as an `::error title=tool::…` workflow command, so a failed step says why in the run's
//! annotations and not only deep in its log; a tool can also have the error appended to the job summary.

use std::io::Write;
use std::process::ExitCode;

use crate::error::{Error, Result};

/// Run a tool. `command` builds its clap definition; `run` does the work with the parsed matches: `Ok` is exit
/// 0; an error is reported and exits with its kind's code — 1 for the condition the user asked to fail on
/// (`Error::condition`, returned after the report was printed, so a gate fails *after* saying why), 2 for any
/// other.
pub fn main(name: &'static str, command: fn() -> clap::Command, run: fn(&clap::ArgMatches) -> Result<()>) -> ExitCode {
    main_with(name, command, run, Options::default())
}

/// What a tool adds to the shared [`main`]'s error reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The id of a boolean flag of the tool that means "GitHub Actions" as `GITHUB_ACTIONS=true` does
    /// (tt-budget's `--github`). It counts once the arguments are parsed: a usage error is annotated only
    /// under `GITHUB_ACTIONS=true`.
    pub github_flag: Option<&'static str>,
    /// Under GitHub Actions, append a section to the job summary (`$GITHUB_STEP_SUMMARY`) on exit 2: for a
    /// tool whose verdict the summary reports (the budget gate), "no verdict" must be there too.
    pub summary_on_error: Option<ErrorSummary>,
}

/// The job summary section [`Options::summary_on_error`] appends: `### HEADING`, then `**LEAD:** message`.
#[derive(Debug, Clone, Copy)]
pub struct ErrorSummary {
    /// The section's heading, e.g. `Token budgets`.
    pub heading: &'static str,
    /// What the error means for the step, e.g. `The budget gate could not decide`.
    pub lead: &'static str,
}

/// Whether exit-2 errors are also written as GitHub workflow commands: `GITHUB_ACTIONS=true`, or the tool's
/// [`Options::github_flag`] once parsed. Set by [`main_with`], read by the panic hook and [`report`].
static GITHUB: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The options [`main_with`] was given, for the panic hook and [`report`].
static OPTIONS: std::sync::OnceLock<Options> = std::sync::OnceLock::new();

/// [`main`] with [`Options`]: `tt_core::cli::main_with("tt-budget", command, run, Options { … })`.
pub fn main_with(
    name: &'static str,
    command: fn() -> clap::Command,
    run: fn(&clap::ArgMatches) -> Result<()>,
    options: Options,
) -> ExitCode {
    let _ = OPTIONS.set(options);
    GITHUB.store(crate::github::active(), std::sync::atomic::Ordering::Relaxed);
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        error_line(name, &format!("internal error: {msg}"));
    }));
    // Never colour: help and usage errors are plain text on a terminal too, as all of tt's output is (NO_COLOR
    // always holds, and nothing tt prints carries escape codes).
    let matches = match command().color(clap::ColorChoice::Never).try_get_matches() {
        Ok(m) => m,
        Err(e) => {
            use clap::error::ErrorKind as K;
            let code = match e.kind() {
                K::DisplayHelp | K::DisplayVersion | K::DisplayHelpOnMissingArgumentOrSubcommand => 0,
                _ => 2,
            };
            if code == 0 {
                // Help and version go to stdout; a failed write (closed pipe) is not our problem.
                let _ = e.print();
            } else {
                // Usage errors: one line in the tt form, not clap's multi-line block.
                let msg = one_line_clap_error(&e.render().to_string());
                error_line(name, &format!("{msg} (see {name} --help)"));
            }
            return ExitCode::from(code);
        }
    };
    if let Some(flag) = options.github_flag
        && matches.try_get_one::<bool>(flag).ok().flatten() == Some(&true)
    {
        GITHUB.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&matches)));
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => report(name, &e),
        Err(_) => ExitCode::from(2),
    }
}

/// Write an exit-2 error: the `tool: error: …` line, and under GitHub Actions its `::error` command and the
/// job summary section the tool asked for. The annotation holds the line's own one-line text, so both say
/// the same, and a newline in a file name cannot end the command early.
fn error_line(name: &str, message: &str) {
    let text = one_line(message);
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{name}: error: {text}");
    if !GITHUB.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let _ = writeln!(err, "{}", crate::github::error_command(name, &text));
    if let Some(s) = OPTIONS.get().and_then(|o| o.summary_on_error)
        && let Err(e) = crate::github::append_summary(&crate::github::error_section(s.heading, s.lead, &text))
    {
        let _ = writeln!(err, "{name}: warning: cannot write the job summary: {}", one_line(e.message()));
    }
}

/// clap's multi-line error block as one line that keeps what matters: the message, the arguments it lists
/// (`… not provided: --quote <MODEL> <INPUT> <OUTPUT>`), the possible values and clap's tip.
pub fn one_line_clap_error(rendered: &str) -> String {
    let mut lines = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty());
    let mut msg = lines.next().unwrap_or("invalid arguments").trim_start_matches("error: ").to_string();
    let (mut items, mut notes) = (Vec::new(), Vec::new());
    for l in lines {
        if let Some(v) = l.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            notes.push(v.to_string());
        } else if l.starts_with("tip:") {
            notes.push(l.to_string());
        } else {
            items.push(l);
        }
    }
    if !items.is_empty() {
        msg.push(' ');
        msg.push_str(&items.join(", "));
    }
    for n in notes {
        msg.push_str(&format!(" ({n})"));
    }
    msg
}

/// A message as one line: control characters (a newline in a file name, say) are escaped as `\n`, `\u{1b}`.
pub fn one_line(msg: &str) -> std::borrow::Cow<'_, str> {
    if !msg.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(msg);
    }
    let mut out = String::with_capacity(msg.len() + 8);
    for c in msg.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Print an error the tt way and give its exit code. Only exit-2 errors are annotated under GitHub Actions:
/// an exit 1 is the condition the user asked to fail on, which the tool reports in its own words.
pub fn report(name: &str, e: &Error) -> ExitCode {
    if e.is_broken_pipe() {
        return ExitCode::SUCCESS;
    }
    if e.exit_code() == 2 {
        error_line(name, e.message());
    } else {
        let _ = writeln!(std::io::stderr(), "{name}: error: {}", one_line(e.message()));
    }
    ExitCode::from(e.exit_code())
}

/// Print a warning (`tool: warning: …`, one line) on stderr. Warnings never change the exit code. The core
/// returns its warnings with its results ([`crate::error::Warned`]); the tool prints them here.
pub fn warn(name: &str, message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{name}: warning: {}", one_line(&message.to_string()));
}

/// The tools define their flags against this module (`CommonArgs`, `Words`); the words' home is
/// [`crate::args`], where `period`'s window flags reach them too.
pub use crate::args::{REPORT_FORMATS, Words};

/// Flags every tool takes: where the config and the log are.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml
    /// and $TT_CONFIG.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<std::path::PathBuf>,
    /// The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl]. Given here, a
    /// tool reading records reads it and never stdin.
    // Deliberately no `env = "TT_LOG"`: only the flag on the command line keeps stdin unread (see
    // `input::choose`); `TT_LOG` is resolved in `Config::log_path`.
    #[arg(long, value_name = "PATH", global = true)]
    pub log: Option<std::path::PathBuf>,
}

impl CommonArgs {
    /// Load the layered config.
    pub fn config(&self) -> Result<crate::Config> {
        crate::Config::load(self.config.as_deref())
    }
    /// The config with one more layer on top of every other (see [`crate::Config::load_with_layer`]).
    pub fn config_with_layer(&self, name: &str, text: &str) -> Result<crate::Config> {
        crate::Config::load_with_layer(self.config.as_deref(), Some((name, text)))
    }
    /// Resolve the log path with the config (see [`crate::Config::log_path`]).
    pub fn log_path(&self, config: &crate::Config) -> Result<std::path::PathBuf> {
        config.log_path(self.log.as_deref())
    }
    /// Where a tool reads records from, and whether it is the log: `files` (`-` is stdin), else `--log`
    /// (stdin untouched), else stdin when it has data, else the default log (see [`crate::input::choose`]).
    pub fn sources(&self, files: &[String], config: &crate::Config) -> Result<(Vec<crate::input::Source>, bool)> {
        crate::input::choose(files, self.log.as_deref(), || self.log_path(config))
    }
}

/// Parse derive-based args out of the matches `main` produced.
pub fn parse_args<T: clap::FromArgMatches>(m: &clap::ArgMatches) -> Result<T> {
    T::from_arg_matches(m).map_err(|e| Error::usage(e.to_string().trim().trim_start_matches("error: ").to_string()))
}

/// What `--version` prints after the tool's name: the version, the commit and the build date, e.g.
/// `0.1.0 (commit 0a5d34d1e2f3, built 2026-12-04)` (see `build.rs`).
pub const VERSION: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("TT_BUILD_COMMIT"), ", built ", env!("TT_BUILD_DATE"), ")");

/// The shared footer of every tool's `--help`: exit codes and environment.
pub const HELP_FOOTER: &str = "\
Exit status: 0 ok · 1 the condition you asked to fail on · 2 any error (bad input, usage, config).
Environment: TT_LOG (usage log), TT_CONFIG (extra config file), NO_COLOR, XDG_CONFIG_HOME, XDG_DATA_HOME,
GITHUB_ACTIONS=true (errors also as ::error annotations).";

/// The exit codes, for the man pages' EXIT STATUS (the help footer says the same in one line).
pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "Success."),
    (
        "1",
        "The condition the user asked to fail on holds (a budget over its limit with --fail-over, a level \
           reached with --fail-at, a projection over with --fail-projected, an estimate refused, a record over \
           a budget under --enforce, unpriced models with --fail-unpriced). The report is printed first.",
    ),
    (
        "2",
        "Any error: bad input (one `tool: error: FILE:LINE: …` line), a usage error, an unreadable or invalid \
           config, a gate that could not decide. Nothing is appended to the log on exit 2.",
    ),
];

/// The environment the tools read, for the man pages' ENVIRONMENT (the help footer names the main ones).
pub const ENVIRONMENT: &[(&str, &str)] = &[
    (
        "TT_LOG",
        "The usage log, unless --log is given (then: the config's `log`, else $XDG_DATA_HOME/tt/usage.jsonl); a \
         postgresql:// URI names a team ledger.",
    ),
    (
        "PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, PGSSLROOTCERT, PGPASSFILE, PGAPPNAME, \
         PGCONNECT_TIMEOUT",
        "A ledger's settings its URI leaves out, as libpq reads them (a password also from ~/.pgpass).",
    ),
    (
        "TT_LEDGER_EXPLAIN",
        "When 1, tt-sum on a ledger says on stderr whether the server summed it, or why not; a budget check on a ledger names the locks it takes.",
    ),
    ("TT_LEDGER_PUSHDOWN", "When 0, tt-sum reads every record of a ledger instead of letting the server sum it."),
    (
        "TT_LEDGER_KEEP_AFTER",
        "For tests: how many records a budget check on a ledger reads past a kept sum before it keeps a newer one \
         (default 64).",
    ),
    ("TT_CONFIG", "A config file read after ~/.config/tt/config.toml and the nearest tt.toml, before --config."),
    (
        "TT_AGENT, TT_MODEL, TT_SESSION, TT_TASK, TT_PROJECT, TT_BRANCH",
        "Defaults for the record's fields in tt-log and for the task's context in tt-budget --estimate.",
    ),
    ("TT_RESERVATION", "tt-log: the reservation (from tt-budget --reserve) the record settles, as --settle."),
    ("TT_IMPORT_THREADS", "tt-log --import: the number of threads reading transcripts (default 2)."),
    (
        "CI",
        "When set (to anything but empty, 0 or false), no progress bar is drawn: a CI log full of redraws helps \
         nobody. Otherwise imports, merges, exports and pushes that take more than about a second draw one on \
         stderr when it is a terminal.",
    ),
    ("TT_PROGRESS_DELAY_MS", "For tests: how long work runs before its progress bar appears (default 1000)."),
    ("XDG_CONFIG_HOME", "Where the user's config.toml is (default ~/.config)."),
    ("XDG_DATA_HOME", "Where the default log is (default ~/.local/share)."),
    ("XDG_STATE_HOME", "Where a ledger's import offsets and spool are kept on this machine (default ~/.local/state)."),
    (
        "NO_COLOR",
        "Honoured always: only charts (tt-sum --chart, tt-budget's gauges) are ever coloured, and only on a \
         terminal whose TERM is not dumb, without NO_COLOR.",
    ),
    (
        "LC_ALL, LC_CTYPE, LANG",
        "The first one set decides whether charts use Unicode blocks (a UTF-8 locale) or ASCII.",
    ),
    ("GITHUB_ACTIONS", "When `true`, every exit-2 error is also written as an ::error workflow command."),
    (
        "GITHUB_STEP_SUMMARY",
        "tt-budget under GitHub Actions appends its report, with a Mermaid chart of the most used budget, (or why \
         it could not decide) here.",
    ),
];

/// The files the tools read and write, for the man pages' FILES.
pub const FILES: &[(&str, &str)] = &[
    ("~/.local/share/tt/usage.jsonl", "The default usage log (JSONL, one record a line, only ever appended to)."),
    ("~/.config/tt/config.toml", "The user's config: prices, budgets, settings (layered over the built-in defaults)."),
    ("tt.toml", "A project's config: the nearest one in the current directory or its parents."),
    ("LOG.tt-index", "The enforce index: a cache of budget windows, rebuilt whenever it cannot be proven consistent."),
    ("LOG.torn", "A torn last line (a crashed writer's) moved out of the log by the next append, with a note."),
    ("LOG.rejected", "Lines tt-log --repair moved out of the log."),
    ("LOG.tt-holds", "The budget holds of tt-budget --reserve still counting against a budget."),
    ("LOG.tt-import.json", "How far tt-log --import read each transcript (a cache: losing it costs a re-read)."),
    ("LOG.tt-history.jsonl", "The bundles and logs tt-log --import merged, so a merge is not repeated."),
    (
        "~/.local/state/tt/ledgers/",
        "Per ledger: this machine's import offsets and the spool of records written while it was out of reach.",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_become_one_line_with_their_detail() {
        let missing = "error: the following required arguments were not provided:\n  --quote <MODEL> <INPUT> <OUTPUT>\n  \
                       <FILE>\n\nUsage: tt-price --cache-read <N> --quote <MODEL> <INPUT> <OUTPUT>\n\nFor more information, \
                       try '--help'.\n";
        assert_eq!(
            one_line_clap_error(missing),
            "the following required arguments were not provided: --quote <MODEL> <INPUT> <OUTPUT>, <FILE>"
        );
        let value = "error: invalid value 'foo' for '--from <PROVIDER>'\n  [possible values: anthropic, openai, gemini]\n\n  \
                     tip: a similar value exists: 'openai'\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_clap_error(value),
            "invalid value 'foo' for '--from <PROVIDER>' (possible values: anthropic, openai, gemini) (tip: a similar \
             value exists: 'openai')"
        );
    }

    #[test]
    fn messages_are_one_line() {
        assert_eq!(one_line("plain"), "plain");
        assert_eq!(one_line("a\nb\r\u{1b}[1m"), "a\\nb\\r\\u{1b}[1m");
    }
}
