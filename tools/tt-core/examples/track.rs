//! Track spend from a Rust program, without spawning a tool: price a request, append it to the usage log and
//! check the budgets — what `tt-log` and `tt-budget --fail-over` do in a build script.
//!
//! ```text
//! cargo run -p tt-core --example track -- ATLAS sonnet-4.5 20000 5000
//! ```
//!
//! The log is the one every tool uses (`$TT_LOG`, else the config's `log`, else
//! `~/.local/share/tt/usage.jsonl`). Exit status as the tools': 0 ok, 1 a budget is over, 2 an error.

use std::process::ExitCode;

use tt_core::track::{self, Pricing};
use tt_core::{Config, Record, Tokens};

fn run(args: &[String]) -> tt_core::Result<ExitCode> {
    let [agent, model, input, output] = args else {
        return Err(tt_core::Error::usage("usage: track AGENT MODEL INPUT OUTPUT"));
    };
    let count = |what: &str, s: &str| {
        s.parse::<u64>().map_err(|_| tt_core::Error::usage(format!("{what}: not a token count: {s:?}")))
    };
    let config = Config::load(None)?;
    let log = config.log_path(None)?;

    let now = chrono::Utc::now();
    let tokens = Tokens { input: count("INPUT", input)?, output: count("OUTPUT", output)?, ..Tokens::default() };
    let mut record = Record::new(tt_core::id::new_id(now), now, agent.clone(), model.clone(), tokens);
    if let Pricing::UnknownModel { .. } = track::price(&config, &mut record)? {
        eprintln!("track: warning: unknown model {model:?}: logged unpriced");
    }
    // A torn last line (a crashed writer's) is moved aside when the lock is taken: say so.
    for w in track::append(&log, std::slice::from_ref(&record))?.warnings {
        eprintln!("track: warning: {w}");
    }
    let cost = record.cost_usd.map_or("unpriced".to_string(), |c| format!("${}", c.normalize()));
    println!("logged {} tokens for {agent}: {cost}", record.tokens.total());

    let mut over = false;
    for e in track::budgets(&log, &config)? {
        println!("{:<20} {:<8} {}, {}", e.name, e.level.as_str(), e.spent_text(), e.left_text());
        over |= e.level.as_str() == "over";
    }
    Ok(if over { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    run(&args).unwrap_or_else(|e| {
        eprintln!("track: error: {e}");
        ExitCode::from(2)
    })
}
