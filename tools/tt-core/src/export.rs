//! Export: records (or tt-sum summary rows) in the formats other tools read — CSV, JSON, JSONL, Prometheus —
//! plus the filter, totals and atomic file writing `tt-export` needs.
//!
//! Invariants:
//! * Money stays exact: costs are summed as decimals and written as their exact decimal text in every format.
//! * A record without `cost_usd` is priced on the fly exactly as `tt-price` would; an unknown model stays
//!   unpriced (empty cost) and is counted, never taken as $0.
//! * Every CSV text cell goes through [`crate::output::csv_safe`], so a cell never starts a spreadsheet formula.
//! * `-o FILE` output is written to a temporary file in the same directory and renamed over `FILE`, so a reader
//!   (node_exporter's textfile collector, a dashboard) never sees a half-written file. A symlink is followed to
//!   the file it names; a FIFO or device (`/dev/…`) is written directly, never replaced.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Map, Value};

use crate::aggregate::{Summary, Totals};
use crate::error::{Error, Result};
use crate::money;
use crate::output::csv_safe;
use crate::period::Window;
use crate::price::PriceTable;
use crate::record::{Record, field};

/// "Now" for metadata: `$SOURCE_DATE_EPOCH` when set (reproducible output, see reproducible-builds.org), else
/// the clock.
pub fn now() -> DateTime<Utc> {
    std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .and_then(|secs| Utc.timestamp_opt(secs, 0).single())
        .unwrap_or_else(Utc::now)
}

/// RFC 3339 UTC seconds, the form export metadata uses.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Which records to export: a time window and field matches (values of one field are alternatives; different
/// fields must all match).
#[derive(Debug, Clone)]
pub struct Filter {
    /// The time window.
    pub window: Window,
    /// `(field, values)`: `agent`, `model`, `project`, `tag:KEY`, …
    pub fields: Vec<(String, Vec<String>)>,
    /// The flags as given, for metadata (`{"since":"2026-11-01","agent":["ATLAS"]}`).
    pub described: Map<String, Value>,
    /// Whether a logged model name is one a model filter asks for, by (wanted, logged): resolution tries many
    /// spellings and the catalogue, so each pair is resolved once, not once per record.
    same_model: std::cell::RefCell<std::collections::HashMap<String, std::collections::HashMap<String, bool>>>,
}

impl Filter {
    /// A filter that lets everything through.
    pub fn all(window: Window) -> Filter {
        Filter { window, fields: Vec::new(), described: Map::new(), same_model: Default::default() }
    }

    /// tt-export's filter from its flags: the window (`window`, resolved from `given`), `--agent`, `--model` and
    /// `--where FIELD=VALUE` (a record passes when each field named has one of its values). `described` keeps
    /// the flags as given and the resolved bounds, so a document says which instants "week" or "2026-11-01"
    /// meant.
    pub fn from_flags(
        window: Window,
        given: &crate::period::WindowArgs,
        agents: &[String],
        models: &[String],
        wheres: &[String],
    ) -> Result<Filter> {
        let mut f = Filter::all(window);
        let mut described = Map::new();
        let flags = [("period", &given.period), ("since", &given.since), ("until", &given.until)];
        for (k, v) in flags {
            if let Some(v) = v {
                described.insert(k.into(), Value::String(v.clone()));
            }
        }
        for (k, v) in [("start", f.window.start_text()), ("end", f.window.end_text())] {
            if let Some(v) = v {
                described.insert(k.into(), Value::String(v));
            }
        }
        for a in agents {
            f.add("agent", a)?;
        }
        for m in models {
            f.add("model", m)?;
        }
        for w in wheres {
            let (k, v) =
                w.split_once('=').ok_or_else(|| Error::usage(format!("--where wants FIELD=VALUE, got {w:?}")))?;
            f.add(k.trim(), v)?;
        }
        for (field, values) in &f.fields {
            described.insert(field.clone(), Value::Array(values.iter().cloned().map(Value::String).collect()));
        }
        f.described = described;
        Ok(f)
    }

    /// Add a field match (`field` must be a scope field such as `agent` or `tag:team`).
    pub fn add(&mut self, field: &str, value: &str) -> Result<()> {
        if !crate::record::is_scope_field(field) {
            return Err(Error::usage(format!(
                "cannot filter on {field:?} (agent, model, provider, session, task, project, branch, commit, \
                 host, user, source or tag:KEY)"
            )));
        }
        match self.fields.iter_mut().find(|(f, _)| f == field) {
            Some((_, values)) => values.push(value.to_string()),
            None => self.fields.push((field.to_string(), vec![value.to_string()])),
        }
        Ok(())
    }

    /// True when no record would be filtered out.
    pub fn is_empty(&self) -> bool {
        self.window.is_unbounded() && self.fields.is_empty()
    }

    /// True when `r` passes. Models also match through the price table, so `--model sonnet-4.5` selects
    /// records logged as `claude-sonnet-4-5-20250929`.
    pub fn matches(&self, r: &Record, prices: &PriceTable) -> bool {
        if !self.window.contains(r.ts) {
            return false;
        }
        self.fields.iter().all(|(field, values)| {
            let Some(have) = r.field(field) else { return false };
            values.iter().any(|want| want == have || (field == "model" && self.same_model(prices, want, have)))
        })
    }
}

impl Filter {
    /// True when the logged model `have` resolves to the entry `want` does (cached per pair).
    fn same_model(&self, prices: &PriceTable, want: &str, have: &str) -> bool {
        if let Some(&same) = self.same_model.borrow().get(want).and_then(|m| m.get(have)) {
            return same;
        }
        let same = prices.resolve(want).zip(prices.resolve(have)).is_some_and(|(a, b)| std::ptr::eq(a, b));
        self.same_model.borrow_mut().entry(want.to_string()).or_default().insert(have.to_string(), same);
        same
    }
}

/// Give a record without `cost_usd` its price, as tt-price would. Returns false when the model is unknown.
pub fn price_missing(r: &mut Record, prices: &PriceTable) -> bool {
    if r.cost_usd.is_some() {
        return true;
    }
    match prices.price(&r.model, r.ts, &r.tokens, &r.billing) {
        Some(p) => {
            r.cost_usd = Some(p.cost);
            r.price = Some(p.label);
            true
        }
        None => false,
    }
}

/// Count one (already priced, if it can be) record into `t`.
pub fn add_record(t: &mut Totals, r: &Record) {
    t.add(&r.tokens, r.cost_usd, r.session.as_deref());
}

/// Sums from a tt-sum summary row (sessions cannot be re-counted from a row and are left out).
pub fn totals_of_row(row: &Summary) -> Totals {
    let mut t = Totals::default();
    t.records = row.records;
    t.input = row.input_tokens;
    t.output = row.output_tokens;
    t.cache_read = row.cache_read_tokens;
    t.cache_write = row.cache_write_tokens;
    t.cost = row.cost_usd;
    t.unpriced = row.unpriced_records;
    t
}

/// Totals as a JSON object with the summary row's field names (cost an exact decimal number).
pub fn totals_json(t: &Totals) -> String {
    format!(
        "{{\"records\":{},\"sessions\":{}{},\"input_tokens\":{},\"output_tokens\":{},\"cache_read_tokens\":{},\
         \"cache_write_tokens\":{},\"total_tokens\":{},\"cost_usd\":{},\"unpriced_records\":{}}}",
        t.records,
        t.sessions(),
        if t.sessions_estimated() { ",\"sessions_estimated\":true" } else { "" },
        t.input,
        t.output,
        t.cache_read,
        t.cache_write,
        t.total_tokens(),
        money::canonical(t.cost),
        t.unpriced
    )
}

/// Summary rows as tt-export's JSON document: the head of a report (when, which tool, the rows' window, no
/// filter), the totals — the total row's, or the groups' sums when the rows carry no total — and the rows.
pub fn rows_json(rows: &[Summary]) -> Result<String> {
    let total = rows.iter().rev().find(|r| r.is_total());
    let mut totals = Totals::default();
    match total {
        Some(t) => totals = totals_of_row(t),
        None => {
            for r in rows {
                if totals.records.checked_add(r.records).is_none() {
                    return Err(Error::data(format!(
                        "the sums are too large to be exact (records past {}): is a summary row wrong?",
                        u64::MAX
                    )));
                }
                totals.merge(totals_of_row(r));
            }
            totals.check("the sums")?;
        }
    }
    let mut s = String::from("{\n  \"kind\": \"report\",\n  \"generated_at\": ");
    s.push_str(&Value::String(stamp(now())).to_string());
    s.push_str(&format!(",\n  \"tool\": \"tt-export {}\",\n  \"window\": ", env!("CARGO_PKG_VERSION")));
    match rows.first() {
        Some(r) => {
            // The window object exactly as the row has it.
            let line = r.to_json();
            let v: Value = serde_json::from_str(&line).map_err(|e| Error::data(e.to_string()))?;
            s.push_str(&v["window"].to_string());
        }
        None => s.push_str("null"),
    }
    // Rows were selected by tt-sum (filter flags are refused for them): nothing was filtered here.
    s.push_str(",\n  \"filter\": {}");
    s.push_str(",\n  \"totals\": ");
    let mut t = totals_json(&totals);
    if let Some(tr) = total {
        // A row knows its distinct sessions; sums of rows cannot.
        t = t.replacen("\"sessions\":0", &format!("\"sessions\":{}", tr.sessions), 1);
    }
    s.push_str(&t);
    s.push_str(",\n  \"rows\": [\n");
    let lines: Vec<String> = rows.iter().map(|r| format!("    {}", r.to_json())).collect();
    s.push_str(&lines.join(",\n"));
    s.push_str("\n  ]\n}\n");
    Ok(s)
}

/// Summary rows as a Prometheus exposition: refused unless they are every group of the whole log by agent and
/// model, because counters must only go up (a window, `--top` or other keys would make series vanish).
pub fn rows_prometheus(rows: &[Summary]) -> Result<String> {
    // Every series is labelled by agent and model: rows grouped otherwise would be merged into series
    // with wrong (empty) labels, so they are refused.
    let groups: Vec<&Summary> = rows.iter().filter(|r| !r.is_total()).collect();
    if let Some(bad) =
        groups.iter().find(|r| r.group.len() != 2 || r.value("agent").is_none() || r.value("model").is_none())
    {
        let keys: Vec<&str> = bad.group.iter().map(|(k, _)| k.as_str()).collect();
        return Err(Error::usage(format!(
            "prometheus needs records or tt-sum rows grouped by agent and model (tt-sum --by agent,model); \
             these rows are grouped by {}",
            keys.join(",")
        )));
    }
    // Counters must only go up: rows of a time window lose their series when the window moves on.
    if let Some(r) = rows.iter().find(|r| r.window.start.is_some() || r.window.end.is_some()) {
        return Err(Error::usage(format!(
            "prometheus exports the whole log, but these rows cover a {} window: its series would disappear \
             when the window moves on and counters go down (run tt-sum without --period/--since/--until)",
            r.window.period
        )));
    }
    // Counters must only go up: rows cut by --top leave series out, which a scraper reads as a reset.
    if let Some(n) = rows.iter().filter_map(|r| r.omitted_groups).find(|&n| n > 0) {
        return Err(Error::usage(format!(
            "prometheus needs every group, but these rows were cut by --top ({n} group{} left out): \
             series would disappear and counters go down (run tt-sum without --top)",
            if n == 1 { "" } else { "s" }
        )));
    }
    // No records at all (an empty log, a quiet window): an exposition without samples, as from records.
    if groups.is_empty() && rows.iter().all(|r| r.records == 0) {
        return Prometheus::default().render();
    }
    if groups.is_empty() {
        return Err(Error::usage(
            "prometheus needs records or tt-sum rows grouped by agent and model (tt-sum --by agent,model); \
             these are totals only",
        ));
    }
    let mut p = Prometheus::default();
    for r in groups {
        let get = |k: &str| r.value(k).flatten().unwrap_or("").to_string();
        p.add_totals(&get("agent"), &get("model"), totals_of_row(r))?;
    }
    p.render()
}

/// The CSV columns of a record export, in order.
pub const CSV_COLUMNS: &[&str] = &[
    field::ID,
    field::TS,
    field::AGENT,
    field::MODEL,
    field::PROVIDER,
    field::INPUT_TOKENS,
    field::OUTPUT_TOKENS,
    field::CACHE_READ_TOKENS,
    field::CACHE_WRITE_TOKENS,
    field::CACHE_WRITE_1H_TOKENS,
    field::REASONING_TOKENS,
    "total_tokens", // derived: the sum of the counts, not a field of the log
    field::COST_USD,
    field::PRICE,
    field::SESSION,
    field::TASK,
    field::PROJECT,
    field::BRANCH,
    field::COMMIT,
    field::HOST,
    field::USER,
    field::DURATION_MS,
    field::SOURCE,
    field::ESTIMATED,
    field::NOTES,
    field::TAGS,
];

/// One record as CSV cells, in [`CSV_COLUMNS`] order. Missing values are empty cells (NULL in DuckDB and in
/// PostgreSQL's `\copy … csv`); text cells are neutralised against formula injection; tags are a JSON object.
pub fn csv_row(r: &Record) -> Vec<String> {
    let text = |s: &Option<String>| s.as_deref().map(|s| csv_safe(s).into_owned()).unwrap_or_default();
    let num = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let tags = if r.tags.is_empty() {
        String::new()
    } else {
        let mut s = String::from("{");
        for (i, (k, v)) in r.tags.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            crate::record::push_json_string(&mut s, k);
            s.push(':');
            crate::record::push_json_string(&mut s, v);
        }
        s.push('}');
        s
    };
    vec![
        csv_safe(&r.id).into_owned(),
        csv_safe(&r.ts_text).into_owned(),
        csv_safe(&r.agent).into_owned(),
        csv_safe(&r.model).into_owned(),
        text(&r.provider),
        r.tokens.input.to_string(),
        r.tokens.output.to_string(),
        r.tokens.cache_read.to_string(),
        r.tokens.cache_write.to_string(),
        r.tokens.cache_write_1h.to_string(),
        num(r.reasoning_tokens),
        r.tokens.total_exact().to_string(),
        r.cost_usd.map(money::canonical).unwrap_or_default(),
        text(&r.price),
        text(&r.session),
        text(&r.task),
        text(&r.project),
        text(&r.branch),
        text(&r.commit),
        text(&r.host),
        text(&r.user),
        num(r.duration_ms),
        text(&r.source),
        r.estimated.map(|b| b.to_string()).unwrap_or_default(),
        text(&r.notes),
        tags,
    ]
}

pub use crate::output::{csv_error, csv_writer};

/// Per (agent, model) sums for the Prometheus exposition.
#[derive(Debug, Default)]
pub struct Prometheus {
    series: BTreeMap<(String, String), Totals>,
}

/// The token types of `tt_tokens_total` (the summary row's columns: cache writes of both lifetimes together).
type TokenType = (&'static str, fn(&Totals) -> u64);

const TOKEN_TYPES: &[TokenType] = &[
    ("input", |t| t.input),
    ("output", |t| t.output),
    ("cache_read", |t| t.cache_read),
    ("cache_write", |t| t.cache_write),
];

impl Prometheus {
    /// Count a record. A sum that overflows is remembered and refused by [`Prometheus::render`].
    pub fn add(&mut self, r: &Record) {
        match self.series.get_mut(&(r.agent.clone(), r.model.clone())) {
            Some(t) => add_record(t, r),
            None => {
                let mut t = Totals::default();
                add_record(&mut t, r);
                self.series.insert((r.agent.clone(), r.model.clone()), t);
            }
        }
    }

    /// Add already summed totals for one agent and model (from tt-sum rows). Record counts past `u64::MAX`
    /// are an error here; token and dollar sums that overflow are refused by [`Prometheus::render`].
    pub fn add_totals(&mut self, agent: &str, model: &str, t: Totals) -> Result<()> {
        let sums = self.series.entry((agent.to_string(), model.to_string())).or_default();
        if sums.records.checked_add(t.records).is_none() || sums.unpriced.checked_add(t.unpriced).is_none() {
            return Err(too_many_records());
        }
        sums.merge(t);
        Ok(())
    }

    /// The text exposition format (version 0.0.4), every family with HELP and TYPE, series sorted. An error
    /// when a series' sums went past what their types hold (a counter must never show a wrong value).
    pub fn render(&self) -> Result<String> {
        for t in self.series.values() {
            t.check("the sums")?;
        }
        let mut s = String::new();
        let labels = |agent: &str, model: &str| format!("agent=\"{}\",model=\"{}\"", label(agent), label(model));
        s.push_str("# HELP tt_tokens_total Tokens used, by agent, model and token type.\n");
        s.push_str("# TYPE tt_tokens_total counter\n");
        for ((agent, model), t) in &self.series {
            for (ty, get) in TOKEN_TYPES {
                let _ = writeln!(s, "tt_tokens_total{{{},type=\"{ty}\"}} {}", labels(agent, model), get(t));
            }
        }
        s.push_str(
            "# HELP tt_cost_usd_total Priced cost in US dollars, by agent and model (records of models without a \
             price are not in it: see tt_unpriced_records_total).\n",
        );
        s.push_str("# TYPE tt_cost_usd_total counter\n");
        for ((agent, model), t) in &self.series {
            let _ = writeln!(s, "tt_cost_usd_total{{{}}} {}", labels(agent, model), money::canonical(t.cost));
        }
        s.push_str("# HELP tt_records_total Usage records, by agent and model.\n");
        s.push_str("# TYPE tt_records_total counter\n");
        for ((agent, model), t) in &self.series {
            let _ = writeln!(s, "tt_records_total{{{}}} {}", labels(agent, model), t.records);
        }
        s.push_str("# HELP tt_unpriced_records_total Usage records whose model has no price, by agent and model.\n");
        s.push_str("# TYPE tt_unpriced_records_total counter\n");
        for ((agent, model), t) in &self.series {
            let _ = writeln!(s, "tt_unpriced_records_total{{{}}} {}", labels(agent, model), t.unpriced);
        }
        Ok(s)
    }
}

/// The error for record counts past `u64::MAX` (sums of rows; records are counted one by one).
fn too_many_records() -> Error {
    Error::data(format!("the sums are too large to be exact (records past {}): is a summary row wrong?", u64::MAX))
}

/// Escape a Prometheus label value: backslash, double quote and newline.
pub fn label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// Where output goes: stdout, or a file replaced atomically when done.
pub enum Sink {
    /// Buffered stdout.
    Stdout(BufWriter<std::io::Stdout>),
    /// A temporary file next to the target, renamed over it by [`Sink::finish`] (or, for a target that is not
    /// a regular file, the target itself).
    File(AtomicFile),
}

impl Sink {
    /// stdout for `None`, `-` or `/dev/stdout`, else an atomic file.
    pub fn open(path: Option<&Path>) -> Result<Sink> {
        match path {
            None => Ok(Sink::Stdout(crate::output::stdout())),
            Some(p) if p.as_os_str() == "-" || p.as_os_str() == "/dev/stdout" => {
                Ok(Sink::Stdout(crate::output::stdout()))
            }
            Some(p) => Ok(Sink::File(AtomicFile::create(p)?)),
        }
    }

    /// Flush (and for a file, rename it into place).
    pub fn finish(self) -> Result<()> {
        match self {
            Sink::Stdout(mut w) => Ok(w.flush()?),
            Sink::File(f) => f.commit(),
        }
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::File(f) => f.out.write(buf),
        }
    }
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::File(f) => f.out.write_all(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::File(f) => f.out.flush(),
        }
    }
}

/// A file written in full under a temporary name in the target's directory, then renamed over the target: the
/// target is either the old file or the complete new one, never a partial one. Dropped uncommitted, the
/// temporary file is removed.
///
/// A symlink is followed first (the temporary file goes next to the file it points to, which is replaced, and
/// the link stays a link). A target that exists and is not a regular file — a FIFO, a character device, a
/// socket — or any path under `/dev` or `/proc` (`/dev/stderr`, `/dev/fd/3`) is written directly: renaming
/// over it would replace the device node or the pipe instead of writing to it.
pub struct AtomicFile {
    out: BufWriter<File>,
    /// The temporary file (random name, created `O_EXCL`, removed when dropped); `None` when writing straight
    /// to the target.
    tmp: Option<tempfile::TempPath>,
    target: PathBuf,
}

fn resolve_links(path: &Path) -> Result<PathBuf> {
    crate::fsutil::resolve_links(path).map_err(|e| e.context("-o"))
}

impl AtomicFile {
    /// Start writing `target` (its directory must exist).
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let special = target.starts_with("/dev") || target.starts_with("/proc");
        let real = if special { target.to_path_buf() } else { resolve_links(target)? };
        let direct = special || std::fs::metadata(&real).is_ok_and(|m| !m.is_file());
        if direct {
            let file = crate::fsutil::private_options()
                .write(true)
                .create(true)
                .truncate(true)
                .open(&real)
                .map_err(|e| Error::io(target.display(), e))?;
            return Ok(AtomicFile { out: BufWriter::with_capacity(64 * 1024, file), tmp: None, target: real });
        }
        let dir = real.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        let name = real.file_name().ok_or_else(|| Error::usage(format!("-o {}: not a file name", target.display())))?;
        // A leading dot keeps the textfile collector (which reads *.prom) away from the half-written file; the
        // name is random and created exclusively, so a link planted at a guessable name is never followed.
        // Errors name the file the user gave, never the temporary one they have not heard of.
        let tmp = crate::fsutil::temp_in(dir, &name.to_string_lossy()).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if !dir.is_dir() => Error::new(
                crate::error::Kind::Io,
                format!("-o {}: no such directory: {}", target.display(), dir.display()),
            ),
            _ => Error::io(target.display(), e),
        })?;
        let (file, tmp) = tmp.into_parts();
        // The new file keeps the old one's permissions (a collector may need to read it); a new one is private
        // (0600) — a file made readable by others first stays so.
        if let Ok(m) = std::fs::metadata(&real) {
            let _ = file.set_permissions(m.permissions());
        }
        Ok(AtomicFile { out: BufWriter::with_capacity(64 * 1024, file), tmp: Some(tmp), target: real })
    }

    /// Flush, sync and rename into place (a target written directly is only flushed).
    pub fn commit(mut self) -> Result<()> {
        let Some(tmp) = self.tmp.take() else {
            return self.out.flush().map_err(|e| Error::io(self.target.display(), e));
        };
        let name = self.target.display().to_string();
        self.out.flush().map_err(|e| Error::io(&name, e))?;
        self.out.get_ref().sync_all().map_err(|e| Error::io(&name, e))?;
        tmp.persist(&self.target).map_err(|e| Error::io(&name, e.error))?;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.out.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Refuse an `-o` target that is the usage log, one of the files being read, or a side file of either (the
/// enforce index, holds, import offsets, import history, torn tail): renaming over it would replace the log —
/// the one file tt never rewrites — or a cache with an export. Compared as files (device and inode, through
/// symlinks and hard links) when both exist, else as paths with links followed. `-` (stdout) is never refused.
pub fn refuse_own_files(target: &Path, log: Option<&Path>, inputs: &[PathBuf]) -> Result<()> {
    if target.as_os_str() == "-" {
        return Ok(());
    }
    // A device or FIFO (`/dev/stdout`, a pipe) is written, never replaced: only regular files and paths that do
    // not exist yet are compared, so `tt-export /dev/stdin -o /dev/tty` on one terminal is fine.
    let regular_or_missing = |p: &Path| std::fs::metadata(p).map_or(true, |m| m.is_file());
    if !regular_or_missing(target) {
        return Ok(());
    }
    let mut own: Vec<(PathBuf, String)> = Vec::new();
    for (file, what) in
        log.iter().map(|l| (*l, "the usage log")).chain(inputs.iter().map(|i| (i.as_path(), "an input file")))
    {
        own.push((file.to_path_buf(), format!("{what} ({})", file.display())));
        for side in [
            crate::log::index_path(file),
            crate::reserve::holds_path(file),
            crate::import::state::path_for(file),
            crate::bundle::history_path(file),
            crate::log::torn_path(file),
            crate::log::rejected_path(file),
        ] {
            let d = format!("a side file of {what} ({})", side.display());
            own.push((side, d));
        }
    }
    if let Some((_, what)) = own.iter().find(|(p, _)| regular_or_missing(p) && crate::fsutil::same_file(target, p)) {
        return Err(Error::usage(format!(
            "-o {}: is {what}; tt-export never replaces it (write the export elsewhere)",
            target.display()
        )));
    }
    Ok(())
}

/// Where to spool output bound for `output`: next to the file it will replace (same file system, no surprise in
/// `/tmp`'s size), or the system's temporary directory for stdout, a FIFO or a device.
pub fn spool_dir(output: Option<&Path>) -> PathBuf {
    let Some(p) = output.filter(|p| p.as_os_str() != "-" && !p.starts_with("/dev") && !p.starts_with("/proc")) else {
        return std::env::temp_dir();
    };
    match resolve_links(p) {
        Ok(real) if !std::fs::metadata(&real).is_ok_and(|m| !m.is_file()) => {
            real.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf()
        }
        _ => std::env::temp_dir(),
    }
}

/// An anonymous temporary file for output that must be written after something computed at the end (a
/// bundle's header carries the count and checksum of the records that follow it): memory stays flat however
/// large the export. The file is unlinked as soon as it is created, so nothing is left behind, even on a crash.
pub struct Spool {
    out: BufWriter<File>,
    name: String,
}

impl Spool {
    /// A spool in `dir` (the output's directory, or the system's temporary directory).
    pub fn new(dir: &Path) -> Result<Spool> {
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or(0);
        let path = dir.join(format!(".tt-export-spool.{}.{nanos}", std::process::id()));
        let name = path.display().to_string();
        let file = crate::fsutil::private_options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io(&name, e))?;
        std::fs::remove_file(&path).map_err(|e| Error::io(&name, e))?;
        Ok(Spool { out: BufWriter::with_capacity(256 * 1024, file), name })
    }

    /// Append bytes.
    pub fn write_all(&mut self, bytes: &[u8]) -> Result<()> {
        self.out.write_all(bytes).map_err(|e| Error::io(&self.name, e))
    }

    /// Everything written so far, to read back from the start (the HTML report's second pass).
    pub fn into_reader(self) -> Result<std::io::BufReader<File>> {
        use std::io::{Seek, SeekFrom};
        let name = self.name;
        let mut file = self.out.into_inner().map_err(|e| Error::io(&name, e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(|e| Error::io(&name, e))?;
        Ok(std::io::BufReader::with_capacity(256 * 1024, file))
    }

    /// Copy everything written so far to `out`.
    pub fn copy_to(self, out: &mut impl Write) -> Result<()> {
        std::io::copy(&mut self.into_reader()?, out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn csv_cells_are_neutralised() {
        let mut r = Record::new(
            "=1".into(),
            Utc::now(),
            "=HYPERLINK(\"x\")".into(),
            "@m".into(),
            crate::record::Tokens::default(),
        );
        r.notes = Some("+cmd".into());
        let row = csv_row(&r);
        assert_eq!(row[0], "'=1");
        assert_eq!(row[2], "'=HYPERLINK(\"x\")");
        assert_eq!(row[3], "'@m");
        assert_eq!(row[24], "'+cmd");
    }
}
