//! The shared `main` of every tool: parse, run, map the outcome to an exit code.
//!
//! Every tool's `main.rs` is one call: `tt_core::cli::main("tt-sum", tt_sum::command, tt_sum::run)`.
//! That is the one place where errors are printed (`tt-sum: error: …`, one line, no backtrace) and where a
//! closed stdout becomes a quiet exit 0. Panics are not expected anywhere, but if one happens anyway it is
//! reported as one line with exit 2 rather than Rust's multi-line message and exit 101.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use crate::error::{Error, Result};

/// What a tool's `run` returns on success: 0, or 1 when the user's fail condition holds but the report was
/// still printed (so the gate fails *after* telling everyone why).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Exit 0.
    Ok,
    /// Exit 1: the condition the user asked to fail on.
    Fail,
}

/// Run a tool. `command` builds its clap definition; `run` does the work with the parsed matches.
pub fn main(
    name: &'static str,
    command: fn() -> clap::Command,
    run: fn(&clap::ArgMatches) -> Result<Outcome>,
) -> ExitCode {
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let _ = writeln!(std::io::stderr(), "{name}: error: internal error: {msg}");
    }));
    let matches = match command().try_get_matches() {
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
                let text = e.render().to_string();
                let first = text.lines().next().unwrap_or("invalid arguments");
                let msg = first.trim_start_matches("error: ");
                let _ = writeln!(std::io::stderr(), "{name}: error: {msg} (see {name} --help)");
            }
            return ExitCode::from(code);
        }
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&matches))) {
        Ok(Ok(Outcome::Ok)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::Fail)) => ExitCode::from(1),
        Ok(Err(e)) => report(name, &e),
        Err(_) => ExitCode::from(2),
    }
}

/// Print an error the tt way and give its exit code.
pub fn report(name: &str, e: &Error) -> ExitCode {
    if e.is_broken_pipe() {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(std::io::stderr(), "{name}: error: {e}");
    ExitCode::from(e.exit_code())
}

/// Print a warning (`tool: warning: …`) on stderr. Warnings never change the exit code.
pub fn warn(name: &str, message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{name}: warning: {message}");
}

/// True when colour may be used on stdout: a terminal, and `NO_COLOR` unset or empty (see no-color.org).
pub fn color_stdout() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// Read a `--format` style value from matches, defaulting to table on a terminal and JSONL in a pipe.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Flags every tool takes: where the config and the log are.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonArgs {
    /// Read this config file last, after the built-in defaults, ~/.config/tt/config.toml, the nearest tt.toml
    /// and $TT_CONFIG.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<std::path::PathBuf>,
    /// The usage log [default: $TT_LOG, else config `log`, else ~/.local/share/tt/usage.jsonl].
    #[arg(long, value_name = "PATH", global = true)]
    pub log: Option<std::path::PathBuf>,
}

impl CommonArgs {
    /// Load the layered config.
    pub fn config(&self) -> Result<crate::Config> {
        crate::Config::load(self.config.as_deref())
    }
    /// Resolve the log path with the config.
    pub fn log_path(&self, config: &crate::Config) -> Result<std::path::PathBuf> {
        crate::log::log_path(self.log.as_deref(), config)
    }
}

/// Parse derive-based args out of the matches `main` produced.
pub fn parse_args<T: clap::FromArgMatches>(m: &clap::ArgMatches) -> Result<T> {
    T::from_arg_matches(m).map_err(|e| Error::usage(e.to_string().trim().trim_start_matches("error: ").to_string()))
}

/// The shared footer of every tool's `--help`: exit codes and environment.
pub const HELP_FOOTER: &str = "\
Exit status: 0 ok · 1 the condition you asked to fail on · 2 any error (bad input, usage, config).
Environment: TT_LOG (usage log), TT_CONFIG (extra config file), NO_COLOR, XDG_CONFIG_HOME, XDG_DATA_HOME.";
