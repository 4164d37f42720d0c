//! `tt-gen`: generate realistic tt data for benchmarks and tests. Not installed; a development tool.
//!
//! One subcommand per kind of data, each in its own module; this file only dispatches.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod catalogue;
mod claude;
mod log;
mod rng;

/// Generate realistic tt data for benchmarks and tests.
#[derive(Debug, Parser)]
#[command(name = "tt-gen", version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Usage-log records (JSONL) on stdout.
    Log(log::Args),
    /// A Claude Code config tree of transcripts (for the import benchmark); totals on stdout.
    ClaudeTree(claude::Args),
    /// tt's built-in price catalogue from LiteLLM's price map, on stdout.
    Catalogue(catalogue::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.cmd {
        Cmd::Log(a) => log::run(&a),
        Cmd::ClaudeTree(a) => claude::run(&a),
        Cmd::Catalogue(a) => catalogue::run(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => tt_core::cli::report("tt-gen", &e),
    }
}
