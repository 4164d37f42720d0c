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
        let _ = writeln!(std::io::stderr(), "{name}: error: internal error: {}", one_line(&msg));
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
                let _ = writeln!(std::io::stderr(), "{name}: error: {} (see {name} --help)", one_line(&msg));
            }
            return ExitCode::from(code);
        }
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&matches)));
    for w in take_deferred() {
        warn(name, w);
    }
    match outcome {
        Ok(Ok(Outcome::Ok)) => ExitCode::SUCCESS,
        Ok(Ok(Outcome::Fail)) => ExitCode::from(1),
        Ok(Err(e)) => report(name, &e),
        Err(_) => ExitCode::from(2),
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

/// Print an error the tt way and give its exit code.
pub fn report(name: &str, e: &Error) -> ExitCode {
    if e.is_broken_pipe() {
        return ExitCode::SUCCESS;
    }
    let _ = writeln!(std::io::stderr(), "{name}: error: {}", one_line(e.message()));
    ExitCode::from(e.exit_code())
}

/// Print a warning (`tool: warning: …`, one line) on stderr. Warnings never change the exit code.
pub fn warn(name: &str, message: impl std::fmt::Display) {
    let _ = writeln!(std::io::stderr(), "{name}: warning: {}", one_line(&message.to_string()));
}

/// Warnings the core raised while it worked (the core never prints): the shared `main` prints them when the
/// tool's `run` returns, whatever its outcome.
static DEFERRED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// Queue a warning for the shared `main` to print (`tool: warning: …`) when the tool finishes.
pub fn warn_later(message: impl Into<String>) {
    if let Ok(mut v) = DEFERRED.lock() {
        v.push(message.into());
    }
}

/// The queued warnings, emptied.
pub fn take_deferred() -> Vec<String> {
    DEFERRED.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
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

    #[test]
    fn deferred_warnings_are_taken_once() {
        warn_later("one");
        warn_later("two");
        let got = take_deferred();
        assert!(got.ends_with(&["one".to_string(), "two".to_string()]));
        assert!(take_deferred().is_empty());
    }
}
