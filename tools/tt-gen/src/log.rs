//! `tt-gen log`: realistic usage records.
//!
//! Records arrive session by session (a session is 5–60 requests of one agent on one model, a few seconds to
//! minutes apart) over `--days` days ending at `--end`, from a dozen agents on the models of the built-in price
//! table, with cache reads and writes, projects, branches, hosts and the odd tag. Most records are priced
//! exactly as tt-log prices them; `--unpriced-pct` of them carry no `cost_usd` (so readers price them on the
//! fly) and a few use a model the price table does not know. `--shape` varies the layout for benchmarks that
//! must not depend on it: sessions interleaved, or long free-text notes. The output is deterministic for a seed.

use std::io::Write;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use tt_core::error::{Error, Result};
use tt_core::{Config, Record, Tokens};

use crate::rng::Rng;

/// Options of `tt-gen log`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// How many records.
    #[arg(long, default_value_t = 1000)]
    records: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The last day covered (records end the day before it).
    #[arg(long, default_value = "2026-11-23")]
    end: String,
    /// How many days the records span.
    #[arg(long, default_value_t = 90)]
    days: i64,
    /// Percentage of records without `cost_usd`.
    #[arg(long, default_value_t = 10)]
    unpriced_pct: u64,
    /// How the records are laid out.
    #[arg(long, value_enum, default_value_t = Shape::Sessions)]
    shape: Shape,
}

/// How the records of `tt-gen log` are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Shape {
    /// One session after another, each 5–60 requests of one agent on one model.
    Sessions,
    /// Up to 64 sessions of 1–20 requests open at once (about three times as many sessions), their records
    /// interleaved.
    Interleaved,
    /// Sessions one after another; a third of the records carry a `notes` of 100–2,000 bytes with escapes
    /// and non-ASCII text (lines of about 480 bytes on average, the longest about 2,400).
    Notes,
}

const AGENTS: &[&str] = &[
    "ATLAS",
    "BOLT",
    "ci-review",
    "docs-bot",
    "builder",
    "planner",
    "triage",
    "refactorer",
    "tester",
    "release",
    "support",
    "research",
];
const MODELS: &[(&str, u64)] = &[
    ("claude-sonnet-4-5", 30),
    ("claude-haiku-4-5", 20),
    ("claude-opus-4-5", 8),
    ("gpt-4o", 12),
    ("gpt-5", 10),
    ("gpt-4.1", 5),
    ("gemini-2.5-pro", 8),
    ("gemini-2.5-flash", 6),
    ("fable-7-preview", 1),
];
const PROJECTS: &[&str] = &["api", "web", "mobile", "infra", "docs", "data-pipeline"];
const BRANCHES: &[&str] = &["main", "feature/billing", "fix/login-timeout", "release/2.4", "chore/deps"];
const HOSTS: &[&str] = &["ci-runner-01", "ci-runner-02", "dev-laptop-ana", "dev-laptop-raj", "build-box"];
const USERS: &[&str] = &["ana", "raj", "ci", "mei", "tom"];
const TASKS: &[&str] = &["review", "implement", "summarise", "triage", "test", "plan"];

fn model(rng: &mut Rng) -> &'static str {
    let total: u64 = MODELS.iter().map(|m| m.1).sum();
    let mut r = rng.below(total);
    for (m, w) in MODELS {
        if r < *w {
            return m;
        }
        r -= w;
    }
    MODELS[0].0
}

/// One session's fixed fields and state.
struct Session {
    agent: &'static str,
    model: &'static str,
    project: &'static str,
    branch: &'static str,
    host: &'static str,
    user: &'static str,
    task: &'static str,
    id: String,
    pr: Option<String>,
    with_git: bool,
    /// Requests left.
    left: u64,
    /// The cached prompt prefix, growing with each cache write.
    prefix: u64,
}

impl Session {
    fn new(rng: &mut Rng, session_no: u64, shape: Shape) -> Session {
        let agent = *rng.pick(AGENTS);
        let model = model(rng);
        let project = *rng.pick(PROJECTS);
        let branch = *rng.pick(BRANCHES);
        let host = *rng.pick(HOSTS);
        let user = *rng.pick(USERS);
        let task = *rng.pick(TASKS);
        let id = format!("{:016x}", rng.next() ^ session_no);
        let pr = rng.chance(20).then(|| (100 + rng.below(900)).to_string());
        let with_git = rng.chance(10);
        let left = if shape == Shape::Interleaved { 1 + rng.below(20) } else { 5 + rng.below(56) };
        let prefix = 2_000 + rng.skewed(0, 60_000);
        Session { agent, model, project, branch, host, user, task, id, pr, with_git, left, prefix }
    }
}

/// Free text for `--shape notes`: words, punctuation that JSON escapes, and non-ASCII.
fn note(rng: &mut Rng) -> String {
    const WORDS: &[&str] = &[
        "refactor",
        "the",
        "parser",
        "\"quoted\"",
        "path\\to\\file",
        "line\nbreak",
        "tab\there",
        "naïve",
        "café",
        "→",
        "数据",
        "✓",
        "emoji 🚀",
        "retry",
        "after",
        "timeout",
        "{json: [1, 2]}",
        "<tag>",
        "50%",
    ];
    let len = 100 + rng.skewed(0, 1_900) as usize;
    let mut s = String::with_capacity(len + 16);
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        let word: &&str = rng.pick(WORDS);
        s.push_str(word);
    }
    s
}

/// Write `--records` records to stdout.
pub fn run(a: &Args) -> Result<()> {
    let config = Config::builtin()?;
    let end = NaiveDate::parse_from_str(&a.end, "%Y-%m-%d")
        .map_err(|_| Error::usage(format!("--end: not a date: {:?}", a.end)))?;
    let end: DateTime<Utc> = end.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let start = end - Duration::days(a.days.max(1));
    let span_ms = (end - start).num_milliseconds().max(1) as u64;
    let mut rng = Rng::new(a.seed);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    // Time advances evenly on average so the records fill the span in order.
    let step_ms = (span_ms / a.records.max(1)).max(1);
    let mut t_ms: u64 = 0;
    let mut written = 0u64;
    let mut session_no = 0u64;
    // The sessions open at once: one, or up to 64 for `--shape interleaved`.
    let open_max = if a.shape == Shape::Interleaved { 64 } else { 1 };
    let mut open: Vec<Session> = Vec::with_capacity(open_max);
    while written < a.records {
        while open.len() < open_max {
            session_no += 1;
            open.push(Session::new(&mut rng, session_no, a.shape));
        }
        let k = if open_max > 1 { rng.below(open.len() as u64) as usize } else { 0 };
        let s = &mut open[k];
        t_ms = (t_ms + rng.below(2 * step_ms)).min(span_ms - 1);
        let ts = start + Duration::milliseconds(t_ms as i64);
        let cached = rng.chance(70);
        let tokens = Tokens {
            input: 50 + rng.skewed(0, 8_000),
            output: 20 + rng.skewed(0, 4_000),
            cache_read: if cached { s.prefix } else { 0 },
            cache_write: if cached { rng.skewed(0, 3_000) } else { 0 },
            cache_write_1h: 0,
        };
        s.prefix += tokens.cache_write;
        let id = tt_core::id::derived_id(ts, &format!("{}:{written}", a.seed));
        let mut r = Record::new(id, ts, s.agent.to_string(), s.model.to_string(), tokens);
        // Field mix of real logs: hand-logged records carry provider, git and machine fields, imported ones
        // mostly a session and a project; on average a line is about 275 bytes.
        r.session = Some(s.id.clone());
        r.project = Some(s.project.to_string());
        if s.with_git {
            r.branch = Some(s.branch.to_string());
            r.task = Some(s.task.to_string());
            r.host = Some(s.host.to_string());
            r.user = Some(s.user.to_string());
        }
        if let Some(pr) = &s.pr {
            r.tags.insert("pr".into(), pr.clone());
        }
        if let Some(e) = config.prices.resolve(s.model) {
            if s.with_git {
                r.provider = e.provider.clone();
            }
            if !rng.chance(a.unpriced_pct) {
                r.cost_usd = Some(tt_core::price::price_with(e, ts, &r.tokens, &r.billing).cost);
            }
        }
        if a.shape == Shape::Notes && rng.chance(33) {
            r.notes = Some(note(&mut rng));
        }
        writeln!(out, "{}", r.to_json()).map_err(|e| Error::io("stdout", e))?;
        written += 1;
        s.left -= 1;
        if s.left == 0 {
            open.swap_remove(k);
        }
    }
    out.flush().map_err(|e| Error::io("stdout", e))?;
    Ok(())
}
