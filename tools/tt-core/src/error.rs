//! One error type for every tool.
//!
//! An [`Error`] carries a [`Kind`] that decides the process exit code, and a message that already names the
//! place (file:line, config key). The core never prints; the shared `main` in [`crate::cli`] does, once.
//!
//! Exit codes, the contract users' scripts rely on:
//! * `0` — success;
//! * `1` — a condition the user asked to fail on (`--fail-over`, `--enforce`, a threshold): [`Kind::Condition`];
//! * `2` — anything else: usage, input, data, config or I/O errors.
//!
//! A broken pipe is not an error at all: `tt-sum | head -1` must end quietly with 0, so [`Error::is_broken_pipe`]
//! is checked by the shared `main` before anything is printed.
//!
//! Warnings are not errors and are not printed by the core either: a function with something to say beside its
//! result returns it in a [`Warned`], and the tool reports it (`tool: warning: …`).

use std::fmt;

/// Result alias used across tt.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, coarsely: enough to pick an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Bad flags or arguments.
    Usage,
    /// Bad input data (a record, a transcript line, a provider response).
    Data,
    /// A malformed or inconsistent config file.
    Config,
    /// An operating-system I/O error.
    Io,
    /// The condition the user asked to fail on (over budget, threshold reached). Exit 1.
    Condition,
    /// The team ledger (a PostgreSQL server) could not be reached, refused the login, or refused a request.
    Ledger,
}

/// The one error type of tt.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
    message: String,
    io: Option<std::io::ErrorKind>,
}

impl Error {
    /// A new error of `kind` with a message that should name the place it happened.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), io: None }
    }
    /// Bad command-line usage.
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    /// Bad data.
    pub fn data(message: impl Into<String>) -> Self {
        Self::new(Kind::Data, message)
    }
    /// Bad config.
    pub fn config(message: impl Into<String>) -> Self {
        Self::new(Kind::Config, message)
    }
    /// The team ledger failed (exit 2): the message names the ledger without its password.
    pub fn ledger(message: impl Into<String>) -> Self {
        Self::new(Kind::Ledger, message)
    }
    /// The condition the user asked to fail on (exit 1).
    pub fn condition(message: impl Into<String>) -> Self {
        Self::new(Kind::Condition, message)
    }
    /// An I/O error, with what we were doing when it happened (usually a path).
    pub fn io(context: impl fmt::Display, err: std::io::Error) -> Self {
        Error { kind: Kind::Io, message: format!("{context}: {}", io_message(&err)), io: Some(err.kind()) }
    }
    /// The kind of the error.
    pub fn kind(&self) -> Kind {
        self.kind
    }
    /// The message, without the `tool: error:` prefix.
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self.kind {
            Kind::Condition => 1,
            _ => 2,
        }
    }
    /// True when this error is a closed pipe on output: the reader went away, which is not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        self.io == Some(std::io::ErrorKind::BrokenPipe)
    }
    /// Prefix the message with more context, e.g. a file name and line number.
    pub fn context(mut self, prefix: impl fmt::Display) -> Self {
        self.message = format!("{prefix}: {}", self.message);
        self
    }
}

/// `std::io::Error`'s Display appends "(os error N)"; users want the words only.
fn io_message(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    /// Bare I/O errors are output errors in practice (input errors are wrapped with their path).
    fn from(err: std::io::Error) -> Self {
        Error::io("write error", err)
    }
}

impl From<std::fmt::Error> for Error {
    fn from(_: std::fmt::Error) -> Self {
        Error::new(Kind::Io, "formatting error")
    }
}

/// Build and return early with a [`Kind::Usage`] error.
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => { return Err($crate::error::Error::usage(format!($($arg)*))) };
}

/// A value and the warnings that came with it: a local time that named no single instant (a daylight-saving gap
/// or fold), a torn last line moved out of the log. The core never prints, so what it has to say beside a
/// result travels with the result, and the tool reports it ([`crate::cli::warn`]) — there is no queue of
/// warnings on the side for a caller to forget to drain.
#[must_use = "the warnings are for the user: report them (`Warned::report`) or pass them on"]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warned<T> {
    /// The value.
    pub value: T,
    /// What to warn about, one line each, in the order it arose.
    pub warnings: Vec<String>,
}

impl<T> Warned<T> {
    /// A value with nothing to warn about.
    pub fn new(value: T) -> Warned<T> {
        Warned { value, warnings: Vec::new() }
    }

    /// A value with one warning, or none.
    pub fn with(value: T, warning: Option<String>) -> Warned<T> {
        Warned { value, warnings: warning.into_iter().collect() }
    }

    /// The value, once every warning has been handed to `report` — in a tool,
    /// `|w| tt_core::cli::warn("tt-sum", w)`.
    pub fn report(self, report: impl FnMut(String)) -> T {
        self.warnings.into_iter().for_each(report);
        self.value
    }

    /// The value, its warnings added to `into` (to be reported with others, or passed on).
    pub fn warn_into(self, into: &mut Vec<String>) -> T {
        into.extend(self.warnings);
        self.value
    }
}
