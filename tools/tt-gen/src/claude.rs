//! `tt-gen claude-tree`: a realistic Claude Code config tree (`projects/<project>/<session>.jsonl`, with some
//! `<session>/subagents/agent-*.jsonl`) for the import benchmark.
//!
//! The lines have the shape of real Claude Code 2.x transcripts: user lines carrying tool results twice (in
//! `message.content` and in `toolUseResult`, as Claude Code writes them), assistant messages written once per
//! content block (thinking, text, tool_use) with the same `message.id` + `requestId` — the earlier copies with
//! a small `output_tokens`, the last with the final count, as streaming leaves them — plus summaries, file
//! history snapshots, system lines, the odd `<synthetic>` line, and 1-hour cache writes on some sessions. Text
//! is drawn from a pool of code-like lines with JSON escapes, so parsers do real string work.
//!
//! On stdout: one JSON object with what was written and the token totals two ways — keeping the copy of each
//! request with the most tokens (`max`, the true usage) and keeping the first copy (`first`, what a reader
//! that keeps the first line of a streamed message counts). Deterministic for a seed.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use tt_core::error::{Error, Result};

use crate::rng::Rng;

/// Options of `tt-gen claude-tree`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The directory to create (it becomes a Claude config dir: `DIR/projects/…`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// How many transcript files (sessions and subagent files).
    #[arg(long, default_value_t = 400)]
    files: u64,
    /// About how many megabytes in all.
    #[arg(long, default_value_t = 800)]
    mb: u64,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

const PROJECTS: &[&str] = &["shop", "api-gateway", "infra", "docs-site", "ml-pipeline", "mobile-app", "tt", "billing"];
const BRANCHES: &[&str] = &["main", "main", "main", "feat/checkout", "fix/race", "release/2.3", "wip/refactor"];
const MODELS: &[(&str, u64)] = &[
    ("claude-sonnet-4-5-20250929", 45),
    ("claude-opus-4-5-20251101", 20),
    ("claude-haiku-4-5-20251001", 15),
    ("claude-opus-4-6", 12),
    ("claude-sonnet-4-20250514", 8),
];
const WORDS: &[&str] = &[
    "let",
    "fn",
    "return",
    "self",
    "config",
    "value",
    "error",
    "result",
    "match",
    "Some",
    "None",
    "Ok",
    "Err",
    "impl",
    "struct",
    "pub",
    "use",
    "mod",
    "async",
    "await",
    "const",
    "static",
    "vec",
    "map",
    "filter",
    "iter",
    "collect",
    "into",
    "from",
    "String",
    "u64",
    "usize",
    "&str",
    "Option",
    "Vec",
    "HashMap",
    "the",
    "a",
    "is",
    "test",
    "assert_eq!",
    "println!",
    "format!",
    "path",
    "file",
    "line",
    "record",
    "tokens",
    "price",
    "budget",
];

/// Token totals of the generated requests.
#[derive(Default, Clone, Copy)]
struct Totals {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write: u64,
    requests: u64,
}

impl Totals {
    fn add(&mut self, u: &Usage) {
        self.input += u.input;
        self.output += u.output;
        self.cache_read += u.cache_read;
        self.cache_write += u.cache_write_5m + u.cache_write_1h;
        self.requests += 1;
    }
    fn json(&self) -> String {
        format!(
            r#"{{"requests":{},"input":{},"output":{},"cache_read":{},"cache_write":{},"total":{}}}"#,
            self.requests,
            self.input,
            self.output,
            self.cache_read,
            self.cache_write,
            self.input + self.output + self.cache_read + self.cache_write
        )
    }
}

#[derive(Clone, Copy)]
struct Usage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_write_5m: u64,
    cache_write_1h: u64,
}

/// A pool of JSON-escaped code-like lines; texts are runs of consecutive pool lines.
struct Pool {
    lines: Vec<String>,
}

impl Pool {
    fn new(rng: &mut Rng) -> Pool {
        let mut lines = Vec::with_capacity(20_000);
        for _ in 0..20_000 {
            let mut s = String::new();
            let indent = rng.below(4) * 4;
            s.extend(std::iter::repeat_n(' ', indent as usize));
            for i in 0..rng.skewed(2, 14) {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            }
            match rng.below(10) {
                0 => s.push_str(r#"("tokens: {}", \"quoted\")"#),
                1 => s.push_str(r"	// tab and a backslash \\ here"),
                2 => s.push_str(" — naïve café ✓"),
                3 => s.push_str(" { x: 1, y: [2, 3] };"),
                _ => s.push(';'),
            }
            lines.push(escape(&s));
        }
        Pool { lines }
    }

    /// About `len` bytes of escaped text (lines joined by `\n`).
    fn text(&self, rng: &mut Rng, len: u64, out: &mut String) {
        let mut i = rng.below(self.lines.len() as u64) as usize;
        let start = out.len();
        while ((out.len() - start) as u64) < len {
            out.push_str(&self.lines[i]);
            out.push_str("\\n");
            i = (i + 1) % self.lines.len();
        }
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 8);
    tt_core::record::push_json_string(&mut o, s);
    // push_json_string writes the quotes; the pool wants the inside.
    o[1..o.len() - 1].to_string()
}

fn ident(rng: &mut Rng, prefix: &str, n: usize) -> String {
    const B62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut s = String::with_capacity(prefix.len() + n);
    s.push_str(prefix);
    for _ in 0..n {
        s.push(B62[rng.below(62) as usize] as char);
    }
    s
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next(), rng.next());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn pick_model(rng: &mut Rng) -> &'static str {
    let total: u64 = MODELS.iter().map(|m| m.1).sum();
    let mut x = rng.below(total);
    for (m, w) in MODELS {
        if x < *w {
            return m;
        }
        x -= w;
    }
    MODELS[0].0
}

/// The common head of a transcript line.
struct Session<'a> {
    id: String,
    cwd: String,
    branch: &'a str,
    sidechain: bool,
    agent_id: Option<String>,
}

impl Session<'_> {
    fn head(&self, out: &mut String, parent: &str) {
        let _ = write!(
            out,
            r#"{{"parentUuid":"{parent}","isSidechain":{},"userType":"external","cwd":"{}","sessionId":"{}","version":"2.1.12","gitBranch":"{}""#,
            self.sidechain, self.cwd, self.id, self.branch
        );
        if let Some(a) = &self.agent_id {
            let _ = write!(out, r#","agentId":"{a}""#);
        }
    }
}

fn usage_json(u: &Usage, output: u64) -> String {
    format!(
        r#"{{"input_tokens":{},"cache_creation_input_tokens":{},"cache_read_input_tokens":{},"cache_creation":{{"ephemeral_5m_input_tokens":{},"ephemeral_1h_input_tokens":{}}},"output_tokens":{output},"service_tier":"standard"}}"#,
        u.input,
        u.cache_write_5m + u.cache_write_1h,
        u.cache_read,
        u.cache_write_5m,
        u.cache_write_1h
    )
}

struct Gen<'a> {
    rng: Rng,
    pool: &'a Pool,
    max: Totals,
    first: Totals,
    lines: u64,
}

impl Gen<'_> {
    /// Write one transcript of about `target` bytes; returns the bytes written.
    // Long on purpose: one turn after another, every value drawn from one seeded RNG stream, so the bytes of a
    // benchmark data set depend on the order of the draws; kept as one sequence, that order stays in plain sight
    // and a refactor cannot silently change the data sets the benchmarks compare against.
    fn transcript(&mut self, path: &Path, s: &Session, start: DateTime<Utc>, target: u64) -> Result<u64> {
        let file = File::create(path).map_err(|e| Error::io(path.display(), e))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let mut written = 0u64;
        let mut t = start;
        let mut parent = uuid(&mut self.rng);
        let model = pick_model(&mut self.rng);
        let one_hour = self.rng.chance(30);
        let mut line = String::with_capacity(1 << 16);
        let mut context = self.rng.skewed(8_000, 40_000);
        if !s.sidechain {
            line.push_str(r#"{"type":"summary","summary":"Generated session","leafUuid":""#);
            line.push_str(&uuid(&mut self.rng));
            line.push_str("\"}\n");
        }
        while written < target {
            // The user's turn: a prompt or a tool result (Claude Code writes the result twice).
            t += Duration::milliseconds(self.rng.skewed(500, 30_000) as i64);
            let me = uuid(&mut self.rng);
            s.head(&mut line, &parent);
            let big = self.rng.skewed(300, 24_000);
            let tool = ident(&mut self.rng, "toolu_01", 22);
            line.push_str(r#","type":"user","message":{"role":"user","content":[{"tool_use_id":""#);
            line.push_str(&tool);
            line.push_str(r#"","type":"tool_result","content":""#);
            let before = line.len();
            self.pool.text(&mut self.rng, big, &mut line);
            let copy = line[before..].to_string();
            let _ = write!(line, r#""}}]}},"uuid":"{me}","timestamp":"{}","toolUseResult":{{"stdout":""#, ts(t));
            line.push_str(&copy);
            line.push_str(r#"","stderr":"","interrupted":false,"isImage":false}}"#);
            line.push('\n');
            parent = me;

            // The assistant's reply: one request, written once per content block.
            let request = ident(&mut self.rng, "req_011C", 20);
            let message = ident(&mut self.rng, "msg_01", 22);
            context += self.rng.skewed(200, 6_000);
            if context > 180_000 {
                context = self.rng.skewed(8_000, 40_000);
            }
            let write_new = self.rng.skewed(0, 12_000);
            let mut u = Usage {
                input: self.rng.skewed(1, 40),
                output: self.rng.skewed(20, 3_000),
                cache_read: context,
                cache_write_5m: 0,
                cache_write_1h: 0,
            };
            if one_hour {
                u.cache_write_1h = write_new;
            } else {
                u.cache_write_5m = write_new;
            }
            let blocks = 1 + self.rng.below(4);
            let partial = self.rng.skewed(1, 30).min(u.output);
            for b in 0..blocks {
                t += Duration::milliseconds(self.rng.skewed(50, 4_000) as i64);
                let me = uuid(&mut self.rng);
                s.head(&mut line, &parent);
                let _ = write!(
                    line,
                    r#","message":{{"model":"{model}","id":"{message}","type":"message","role":"assistant","content":["#
                );
                match (b, blocks) {
                    (0, n) if n > 2 => {
                        line.push_str(r#"{"type":"thinking","thinking":""#);
                        let n = self.rng.skewed(100, 3_000);
                        self.pool.text(&mut self.rng, n, &mut line);
                        line.push_str(r#"","signature":""#);
                        line.push_str(&ident(&mut self.rng, "Eq", 600));
                        line.push_str("\"}");
                    }
                    (b, n) if b + 1 == n && n > 1 => {
                        let _ = write!(
                            line,
                            r#"{{"type":"tool_use","id":"{}","name":"Bash","input":{{"command":"cargo test --workspace","description":"Run the tests"}}}}"#,
                            ident(&mut self.rng, "toolu_01", 22)
                        );
                    }
                    _ => {
                        line.push_str(r#"{"type":"text","text":""#);
                        let n = self.rng.skewed(100, 4_000);
                        self.pool.text(&mut self.rng, n, &mut line);
                        line.push_str("\"}");
                    }
                }
                // Streaming: the last copy has the final output count, the earlier ones a partial one.
                let out = if b + 1 == blocks { u.output } else { partial };
                let _ = write!(
                    line,
                    r#"],"stop_reason":null,"stop_sequence":null,"usage":{}}},"requestId":"{request}","type":"assistant","uuid":"{me}","timestamp":"{}"}}"#,
                    usage_json(&u, out),
                    ts(t)
                );
                line.push('\n');
                parent = me;
            }
            self.max.add(&u);
            self.first.add(&Usage { output: if blocks > 1 { partial } else { u.output }, ..u });

            // Now and then: a file-history snapshot, a system line, a <synthetic> interruption.
            match self.rng.below(40) {
                0 => {
                    let _ = writeln!(
                        line,
                        r#"{{"type":"file-history-snapshot","messageId":"{}","snapshot":{{"messageId":"{}","trackedFileBackups":{{}},"timestamp":"{}"}},"isSnapshotUpdate":false}}"#,
                        uuid(&mut self.rng),
                        uuid(&mut self.rng),
                        ts(t)
                    );
                }
                1 => {
                    s.head(&mut line, &parent);
                    let _ = writeln!(
                        line,
                        r#","type":"system","subtype":"compact_boundary","content":"Conversation compacted","level":"info","uuid":"{}","timestamp":"{}"}}"#,
                        uuid(&mut self.rng),
                        ts(t)
                    );
                }
                2 => {
                    s.head(&mut line, &parent);
                    let _ = writeln!(
                        line,
                        r#","message":{{"id":"{}","container":null,"model":"<synthetic>","role":"assistant","stop_reason":"stop_sequence","stop_sequence":"","type":"message","usage":{{"input_tokens":0,"output_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"content":[{{"type":"text","text":"No response requested."}}]}},"type":"assistant","uuid":"{}","timestamp":"{}"}}"#,
                        uuid(&mut self.rng),
                        uuid(&mut self.rng),
                        ts(t)
                    );
                }
                _ => {}
            }
            self.lines += line.bytes().filter(|&b| b == b'\n').count() as u64;
            w.write_all(line.as_bytes()).map_err(|e| Error::io(path.display(), e))?;
            written += line.len() as u64;
            line.clear();
        }
        let file = w.into_inner().map_err(|e| Error::io(path.display(), e.into_error()))?;
        // A finished session: untouched for longer than the importer waits for a streaming message to end
        // (tt_core::import::IDLE_COMPLETE), so its last request is imported, as ccusage counts it.
        let ended = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        file.set_modified(ended).map_err(|e| Error::io(path.display(), e))?;
        Ok(written)
    }
}

/// Run `tt-gen claude-tree`.
pub fn run(a: &Args) -> Result<()> {
    if a.files == 0 {
        return Err(Error::usage("--files must be at least 1"));
    }
    let mut rng = Rng::new(a.seed);
    let pool = Pool::new(&mut rng);
    let mut g = Gen { rng, pool: &pool, max: Totals::default(), first: Totals::default(), lines: 0 };
    let per_file = a.mb * 1_000_000 / a.files;
    let end = Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).single().ok_or_else(|| Error::usage("bad end date"))?;
    let mut bytes = 0u64;
    let mut made = 0u64;
    while made < a.files {
        let project = *g.rng.pick(PROJECTS);
        let dir = a.out.join("projects").join(format!("-home-dev-{project}"));
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(dir.display(), e))?;
        let session = Session {
            id: uuid(&mut g.rng),
            cwd: format!("/home/dev/{project}"),
            branch: BRANCHES[g.rng.below(BRANCHES.len() as u64) as usize],
            sidechain: false,
            agent_id: None,
        };
        let start = end - Duration::minutes(g.rng.below(60 * 24 * 60) as i64);
        let size = per_file / 5 + g.rng.below(per_file * 8 / 5 + 1);
        bytes += g.transcript(&dir.join(format!("{}.jsonl", session.id)), &session, start, size)?;
        made += 1;
        // One session in ten ran subagents, each in its own file next to the session.
        if g.rng.chance(10) {
            let sub_dir = dir.join(&session.id).join("subagents");
            std::fs::create_dir_all(&sub_dir).map_err(|e| Error::io(sub_dir.display(), e))?;
            for _ in 0..1 + g.rng.below(2) {
                if made >= a.files {
                    break;
                }
                let agent = ident(&mut g.rng, "a", 7).to_lowercase();
                let sub = Session { sidechain: true, agent_id: Some(agent.clone()), ..session.clone_head() };
                let size = per_file / 10 + g.rng.below(per_file / 2 + 1);
                let t = start + Duration::minutes(g.rng.below(30) as i64);
                bytes += g.transcript(&sub_dir.join(format!("agent-{agent}.jsonl")), &sub, t, size)?;
                made += 1;
            }
        }
    }
    let mut out = tt_core::output::stdout();
    writeln!(
        out,
        r#"{{"files":{made},"bytes":{bytes},"lines":{},"max":{},"first":{}}}"#,
        g.lines,
        g.max.json(),
        g.first.json()
    )?;
    out.flush()?;
    Ok(())
}

impl Session<'_> {
    fn clone_head(&self) -> Self {
        Session {
            id: self.id.clone(),
            cwd: self.cwd.clone(),
            branch: self.branch,
            sidechain: self.sidechain,
            agent_id: self.agent_id.clone(),
        }
    }
}
