//! Portable bundles and reading tt files for a merge: how usage moves between machines.
//!
//! A bundle is a tt JSONL log with one metadata line in front, so every JSONL tool can still read it and
//! `tail -n +2` gives back a plain log:
//!
//! ```text
//! {"kind":"bundle","bundle_version":1,"exported_at":"…","exported_by":"alice","host":"laptop",
//!  "tool":"tt-export 0.1.0","branch":"main","commit":"…","filter":{"agent":["ATLAS"]},"records":2,
//!  "checksum":"sha256:…"}
//! {"v":1,"id":"…",…}
//! {"v":1,"id":"…",…}
//! ```
//!
//! The checksum is the SHA-256 of every byte after the first line — exactly what
//! `tail -n +2 FILE | sha256sum` prints — so a bundle can be checked without tt, and a record edited,
//! added or dropped after export is caught on import. It guards against accidents and casual edits; it is not a
//! signature (whoever edits the records can recompute it).
//!
//! [`read_tt_file`] reads either a bundle or a plain log, validating every line without stopping at the first
//! bad one, so an import can report all of them and append nothing.

use std::collections::HashSet;

use crate::id::{IdKey, id_key};
use std::io::BufRead;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, Warned};
use crate::input::Source;
use crate::money;
use crate::record::{Record, push_json_string};

/// The bundle format version this build writes and reads.
pub const BUNDLE_VERSION: u64 = 1;

/// The metadata line of a bundle.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Header {
    /// When it was written (RFC 3339 UTC).
    pub exported_at: String,
    /// Who wrote it (user name), when known.
    pub exported_by: Option<String>,
    /// On which machine, when known.
    pub host: Option<String>,
    /// Which tool and version wrote it (`tt-export 0.1.0`).
    pub tool: String,
    /// Git branch of the directory it was exported from, if any.
    pub branch: Option<String>,
    /// Git commit of the directory it was exported from, if any.
    pub commit: Option<String>,
    /// The filter the records were selected with (empty: everything).
    pub filter: Map<String, Value>,
    /// How many records follow.
    pub records: u64,
    /// `sha256:HEX` of the bytes after the header line.
    pub checksum: String,
}

impl Header {
    /// The header as one JSON line (no newline).
    pub fn to_json(&self) -> String {
        let mut s = String::with_capacity(512);
        s.push_str("{\"kind\":\"bundle\",\"bundle_version\":");
        s.push_str(&BUNDLE_VERSION.to_string());
        let field = |s: &mut String, k: &str, v: &str| {
            s.push_str(",\"");
            s.push_str(k);
            s.push_str("\":");
            push_json_string(s, v);
        };
        field(&mut s, "exported_at", &self.exported_at);
        for (k, v) in [("exported_by", &self.exported_by), ("host", &self.host)] {
            if let Some(v) = v {
                field(&mut s, k, v);
            }
        }
        field(&mut s, "tool", &self.tool);
        for (k, v) in [("branch", &self.branch), ("commit", &self.commit)] {
            if let Some(v) = v {
                field(&mut s, k, v);
            }
        }
        s.push_str(",\"filter\":");
        s.push_str(&Value::Object(self.filter.clone()).to_string());
        s.push_str(",\"records\":");
        s.push_str(&self.records.to_string());
        field(&mut s, "checksum", &self.checksum);
        s.push('}');
        s
    }

    /// Parse a header line that is already known to be `"kind":"bundle"`.
    pub fn from_map(map: &Map<String, Value>) -> Result<Header> {
        let text = |k: &str| -> Result<Option<String>> {
            match map.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(Error::data(format!("bundle header: field `{k}`: expected a string"))),
            }
        };
        let required = |k: &str| -> Result<String> {
            text(k)?.ok_or_else(|| Error::data(format!("bundle header: missing `{k}`")))
        };
        match map.get("bundle_version").and_then(Value::as_u64) {
            Some(BUNDLE_VERSION) => {}
            Some(v) => {
                return Err(Error::data(format!(
                    "bundle version {v} is not supported (this tt reads version {BUNDLE_VERSION})"
                )));
            }
            None => return Err(Error::data("bundle header: missing `bundle_version`")),
        }
        let records = map
            .get("records")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::data("bundle header: `records` must be a non-negative integer"))?;
        let checksum = required("checksum")?;
        if !checksum.starts_with("sha256:") {
            return Err(Error::data(format!("bundle header: unsupported checksum {checksum:?} (want sha256:HEX)")));
        }
        let filter = match map.get("filter") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(Error::data("bundle header: `filter` must be an object")),
        };
        Ok(Header {
            exported_at: required("exported_at")?,
            exported_by: text("exported_by")?,
            host: text("host")?,
            tool: text("tool")?.unwrap_or_default(),
            branch: text("branch")?,
            commit: text("commit")?,
            filter,
            records,
            checksum,
        })
    }
}

/// An incremental SHA-256 of record lines, in the `sha256:HEX` form bundles carry.
#[derive(Default, Clone)]
pub struct Checksum(Sha256);

impl Checksum {
    /// A fresh checksum.
    pub fn new() -> Self {
        Checksum(Sha256::new())
    }
    /// Feed bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// `sha256:` and the lower-case hex digest.
    pub fn finish(self) -> String {
        let digest = self.0.finalize();
        let mut s = String::with_capacity(7 + 64);
        s.push_str("sha256:");
        for b in digest {
            s.push_str(&format!("{b:02x}"));
        }
        s
    }
}

/// One line of an imported file that is not a valid record.
#[derive(Debug)]
pub struct Invalid {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub error: Error,
}

/// A tt log or bundle, read and validated for a merge.
#[derive(Debug)]
pub struct TtFile {
    /// The file's name as given (`<stdin>` for standard input).
    pub name: String,
    /// The bundle header, when the file is a bundle.
    pub header: Option<Header>,
    /// The valid records, in file order, as canonical JSON lines (no newline) with their ids.
    pub records: Vec<(String, String)>,
    /// Lines that are not valid records.
    pub invalid: Vec<Invalid>,
    /// What is wrong with the file as a whole (a bad header, checksum or count mismatch), if anything.
    pub problem: Option<String>,
    /// True when the file's first line is a bundle header (even one that could not be read).
    pub is_bundle: bool,
}

impl TtFile {
    /// True when the file can be imported as it is.
    pub fn is_ok(&self) -> bool {
        self.invalid.is_empty() && self.problem.is_none()
    }

    /// Check a bundle's whole (nothing for a plain log): the header's record count against the
    /// `lines_after_header` the file holds (`torn`: the line number of an incomplete last line), then the
    /// checksum `sum` of the lines after the header.
    fn check_bundle(&mut self, lines_after_header: u64, torn: Option<u64>, sum: Checksum) {
        let Some(h) = &self.header else { return };
        let (want, checksum) = (h.records, h.checksum.clone());
        // The count first: a bundle cut short (an interrupted copy or download) is told as such, not as a
        // checksum mismatch, which would suggest someone changed it.
        let complete = lines_after_header - u64::from(torn.is_some());
        let records = |n: u64| crate::money::plural(n, "record");
        if torn.is_some() && complete < want {
            // The torn line is the truncation itself, not one more bad line to list.
            self.invalid.retain(|bad| Some(bad.line) != torn);
            self.problem = Some(format!(
                "the bundle is truncated: the header says {}, the file holds {} and an incomplete last line \
                 (an interrupted copy?)",
                records(want),
                records(complete)
            ));
        } else if want > lines_after_header {
            self.problem = Some(format!(
                "the bundle is truncated: the header says {}, the file holds {} (an interrupted copy?)",
                records(want),
                records(lines_after_header)
            ));
        } else if want < lines_after_header {
            self.problem = Some(format!(
                "the bundle header says {}, the file holds {}: lines were added after export",
                records(want),
                records(lines_after_header)
            ));
        } else {
            let got = sum.finish();
            if got != checksum {
                self.problem = Some(format!(
                    "bundle checksum mismatch: the header says {}, the records are {got}: the bundle was changed \
                     or damaged after export",
                    checksum
                ));
            }
        }
    }
}

/// Read and validate a tt log or bundle. I/O errors are returned; bad lines, a bad bundle header and a bad
/// checksum are recorded in the result so the caller can report all of them. A record with a token count above
/// `max_tokens` (the receiving config's limit, which tt-log applies to everything it appends) is invalid, and so
/// is one whose counts add up to more than 64 bits hold: sums of them would overflow. `progress` hears the lines
/// and bytes read so far now and then ([`PROGRESS_EVERY`] lines), and once at the end.
pub fn read_tt_file(source: &Source, max_tokens: u64, progress: &mut dyn FnMut(u64, u64)) -> Result<TtFile> {
    let name = source.name();
    let mut reader = source.open()?;
    let mut file = TtFile {
        name: name.clone(),
        header: None,
        records: Vec::new(),
        invalid: Vec::new(),
        problem: None,
        is_bundle: false,
    };
    let mut sum = Checksum::new();
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    let mut lines_after_header = 0u64;
    let mut bytes = 0u64;
    // The last non-blank line had no newline and was not a valid record: a copy cut short.
    let mut torn: Option<u64> = None;
    loop {
        buf.clear();
        let got = reader.read_until(b'\n', &mut buf).map_err(|e| Error::io(&name, e))?;
        if got == 0 {
            break;
        }
        n += 1;
        bytes += got as u64;
        if n.is_multiple_of(PROGRESS_EVERY) {
            progress(n, bytes);
        }
        if n > 1 {
            sum.update(&buf);
        }
        let terminated = buf.ends_with(b"\n");
        let mut line = &buf[..];
        while let [rest @ .., b'\n' | b'\r'] = line {
            line = rest;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines_after_header += u64::from(n > 1);
        match parse_line(line, n == 1) {
            Ok(Line::Header(h)) => {
                file.header = Some(*h);
                file.is_bundle = true;
            }
            Ok(Line::BadHeader(e)) => {
                file.is_bundle = true;
                file.problem = Some(format!("bad bundle header: {}", e.message()));
            }
            Ok(Line::Record(r)) => match plausible(&r, max_tokens) {
                Ok(()) => {
                    let json = r.to_json();
                    file.records.push((r.id, json));
                }
                Err(error) => file.invalid.push(Invalid { line: n, error }),
            },
            Err(error) => {
                if !terminated && n > 1 {
                    torn = Some(n);
                }
                file.invalid.push(Invalid { line: n, error });
            }
        }
    }
    progress(n, bytes);
    file.check_bundle(lines_after_header, torn, sum);
    Ok(file)
}

/// How often [`read_tt_file`] tells its progress callback how far it is, in lines.
pub const PROGRESS_EVERY: u64 = 4096;

enum Line {
    Header(Box<Header>),
    /// A first line that says it is a bundle header but is not a readable one (a version or checksum type
    /// this tt does not know, a missing field): the file is a bad bundle, not a log with a bad line.
    BadHeader(Error),
    Record(Box<Record>),
}

/// Refuse token counts a merge must not append: above `max` in a field, or adding up past `u64::MAX`.
fn plausible(r: &Record, max: u64) -> Result<()> {
    let t = &r.tokens;
    use crate::record::field;
    let [cache_read, cache_write, cache_write_1h] = t.cache_fields();
    let fields = [
        (field::INPUT_TOKENS, t.input),
        (field::OUTPUT_TOKENS, t.output),
        cache_read,
        cache_write,
        cache_write_1h,
        (field::REASONING_TOKENS, r.reasoning_tokens.unwrap_or(0)),
    ];
    if let Some((k, n)) = fields.iter().find(|(_, n)| *n > max) {
        return Err(Error::data(format!(
            "field `{k}`: {} exceeds the maximum of {} per record (raise `max_tokens` in the config if this is real)",
            crate::money::thousands(*n),
            crate::money::thousands(max)
        )));
    }
    if fields[..5].iter().try_fold(0u64, |a, (_, n)| a.checked_add(*n)).is_none() {
        return Err(Error::data("the token counts add up to more than 2^64"));
    }
    Ok(())
}

fn parse_line(line: &[u8], first: bool) -> Result<Line> {
    let text = crate::input::utf8(line)?;
    let value: Value = serde_json::from_str(text).map_err(|e| Error::data(crate::record::json_error_message(&e)))?;
    let Value::Object(map) = value else { return Err(Error::data("expected a JSON object")) };
    match map.get("kind").and_then(Value::as_str) {
        Some("bundle") if first => {
            return Ok(match Header::from_map(&map) {
                Ok(h) => Line::Header(Box::new(h)),
                Err(e) => Line::BadHeader(e),
            });
        }
        Some("bundle") => return Err(Error::data("a bundle header is only allowed on the first line")),
        Some("summary") => {
            return Err(Error::data("a tt-sum summary row, not a usage record (import logs or bundles)"));
        }
        _ => {}
    }
    Ok(Line::Record(Box::new(Record::from_map(map)?)))
}

/// What merging one file would do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FilePlan {
    /// Records whose ids are new to the log (and to the files before this one).
    pub added: u64,
    /// Records already in the log, or repeated in the import.
    pub present: u64,
}

/// What merging a set of files into a log would do.
#[derive(Debug, Default)]
pub struct Plan {
    /// Per file, in order.
    pub files: Vec<FilePlan>,
    /// The lines to append, each ending with `\n`.
    pub lines: String,
    /// How many records `lines` holds.
    pub added: u64,
}

/// Decide which records are new: an id already in `existing` (the log's ids, or at least those of `files`'
/// records it holds), or seen earlier in the import, is skipped; both count as present. Ids
/// are the identity of a record (compared by [`IdKey`], so two machines that kept different copies of the same
/// imported request agree), and merging A into B and B into A never duplicates anything.
pub fn plan(files: &[TtFile], existing: &HashSet<IdKey>) -> Plan {
    let mut plan = Plan::default();
    let mut seen: HashSet<IdKey> = HashSet::new();
    for f in files {
        let mut fp = FilePlan::default();
        for (id, json) in &f.records {
            let key = id_key(id);
            if existing.contains(&key) || !seen.insert(key) {
                fp.present += 1;
            } else {
                fp.added += 1;
                plan.lines.push_str(json);
                plan.lines.push('\n');
            }
        }
        plan.added += fp.added;
        plan.files.push(fp);
    }
    plan
}

/// What [`merge`] did: the files as read, the plan (which records are new), the level alerts the append
/// raised, the warnings about what taking the locks repaired, and whether anything was written.
pub struct Merge {
    /// Every file as read, in the order given.
    pub read: Vec<TtFile>,
    /// The records not yet in the log, and per file how many are new or present.
    pub plan: Plan,
    /// Budget level alerts the append raised (when asked for).
    pub alerts: Vec<String>,
    /// What taking the locks of the log and its history repaired first: a torn last line moved aside.
    pub warnings: Vec<String>,
    /// False for a dry run, and when a file was refused (nothing is written then).
    pub written: bool,
}

impl Merge {
    /// True when every file was read whole: no damaged bundle, no invalid line.
    pub fn ok(&self) -> bool {
        self.read.iter().all(TtFile::is_ok)
    }

    /// One line per file: what it is and what it would add
    /// (`a.ttb: bundle from alice@laptop exported …: 3 records: 2 new, 1 already present, 0 invalid`). A
    /// damaged bundle (a bad header, count or checksum) gets none: counts of records that cannot be trusted would
    /// mislead, and [`Merge::refusal`] says what is wrong with it.
    pub fn file_lines(&self) -> Vec<String> {
        let files = self.read.iter().zip(&self.plan.files).filter(|(f, _)| f.problem.is_none());
        files
            .map(|(f, fp)| {
                let what = match &f.header {
                    Some(h) => {
                        let from: Vec<&str> =
                            [h.exported_by.as_deref(), h.host.as_deref()].into_iter().flatten().collect();
                        let from = if from.is_empty() { String::new() } else { format!(" from {}", from.join("@")) };
                        format!("bundle{from} exported {}", h.exported_at)
                    }
                    None => "log".to_string(),
                };
                format!(
                    "{}: {what}: {}: {} new, {} already present, {} invalid",
                    f.name,
                    money::plural(f.records.len() as u64 + f.invalid.len() as u64, "record"),
                    money::thousands(fp.added),
                    money::thousands(fp.present),
                    money::thousands(f.invalid.len() as u64)
                )
            })
            .collect()
    }

    /// Why a merge that is not [`Merge::ok`] imports nothing: the lines to show as errors (each damaged file's
    /// problem, the first [`MAX_LISTED`] bad lines as `file:line: why`, a count of the rest), and the error that
    /// refuses the whole import.
    pub fn refusal(&self) -> (Vec<String>, Error) {
        let mut lines = Vec::new();
        let (mut listed, mut invalid) = (0, 0);
        for f in &self.read {
            if let Some(p) = &f.problem {
                lines.push(format!("{}: {p}", f.name));
            }
            for bad in &f.invalid {
                invalid += 1;
                if listed < MAX_LISTED {
                    lines.push(format!("{}:{}: {}", f.name, bad.line, bad.error));
                    listed += 1;
                }
            }
        }
        if invalid > listed {
            lines.push(format!("… and {} more invalid lines", invalid - listed));
        }
        let damaged = self.read.iter().filter(|f| f.problem.is_some()).count();
        let mut why = Vec::new();
        if invalid > 0 {
            why.push(format!("{invalid} invalid line{}", if invalid == 1 { "" } else { "s" }));
        }
        if damaged > 0 {
            why.push(format!("{damaged} damaged bundle{}", if damaged == 1 { "" } else { "s" }));
        }
        (lines, Error::data(format!("nothing imported: {} (the log is unchanged)", why.join(" and "))))
    }

    /// The line a merge ends with: `imported 3 records into LOG`, or what a dry run would import.
    pub fn summary(&self, log: &std::path::Path) -> String {
        let (verb, tail) =
            if self.written { ("imported", "") } else { ("would import", " (dry run: nothing written)") };
        format!("{verb} {} into {}{tail}", money::plural(self.plan.added, "record"), log.display())
    }
}

/// How many bad lines [`Merge::refusal`] lists before the rest are only counted.
pub const MAX_LISTED: usize = 10;

/// Merge tt logs and bundles into the log at `log`: one append of the records whose ids the log lacks, under
/// its lock (so a concurrent merge of the same file adds nothing twice), then one import-history line per
/// file. Nothing is written when any file has a problem (all or nothing) or for a `dry_run`, which plans
/// against the log as it is. `alerts`: compute the budget level alerts the append raises. `progress` hears the
/// lines and bytes read so far, of all the files, as they are read (see [`read_tt_file`]).
pub fn merge(
    log: &std::path::Path,
    sources: &[Source],
    config: &crate::Config,
    dry_run: bool,
    alerts: bool,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Merge> {
    use std::io::BufReader;
    // The counts go on from file to file: the files before this one are done.
    let (mut lines, mut bytes) = (0u64, 0u64);
    let mut read: Vec<TtFile> = Vec::with_capacity(sources.len());
    for s in sources {
        let (mut l, mut b) = (0, 0);
        read.push(read_tt_file(s, config.max_tokens, &mut |fl, fb| {
            (l, b) = (fl, fb);
            progress(lines + fl, bytes + fb);
        })?);
        (lines, bytes) = (lines + l, bytes + b);
    }
    let name = log.display().to_string();
    let at = crate::store::Log::at(log)?;
    // The plan only asks whether each record's id is in the log: a ledger is asked about these, not read whole.
    let candidates: HashSet<IdKey> = read.iter().flat_map(|f| f.records.iter().map(|(id, _)| id_key(id))).collect();
    if dry_run || !read.iter().all(TtFile::is_ok) {
        let existing = match &at {
            crate::store::Log::Ledger(t) => crate::ledger::Ledger::open(t)?.known(&candidates)?,
            crate::store::Log::File(_) => match std::fs::File::open(log) {
                Ok(f) => crate::log::log_ids(&name, BufReader::with_capacity(256 * 1024, f))?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
                Err(e) => return Err(Error::io(&name, e)),
            },
        };
        let plan = plan(&read, &existing);
        return Ok(Merge { read, plan, alerts: Vec::new(), warnings: Vec::new(), written: false });
    }
    let mut warnings = Vec::new();
    let mut writer = at.lock()?.warn_into(&mut warnings);
    let watch = match writer.file() {
        Some(locked) if alerts => crate::enforce::watch(locked, config),
        _ => None,
    };
    let existing = writer.known(&candidates)?;
    let plan = plan(&read, &existing);
    writer.append(&plan.lines)?;
    let alerts = match (watch, writer.file()) {
        (Some(w), Some(locked)) => w.alerts(locked, config),
        _ => Vec::new(),
    };
    // The history is a file beside a file log; a ledger keeps none yet.
    if let Some(log) = at.file() {
        write_history(log, sources, &read, &plan)?.warn_into(&mut warnings);
    }
    Ok(Merge { read, plan, alerts, warnings, written: true })
}

/// One history line per merged file (its canonical path, or `<stdin>`), appended beside the log.
fn write_history(log: &std::path::Path, sources: &[Source], read: &[TtFile], plan: &Plan) -> Result<Warned<()>> {
    let at = crate::record::format_ts(chrono::Utc::now());
    let mut lines = String::new();
    for ((src, f), fp) in sources.iter().zip(read).zip(&plan.files) {
        let from = match src {
            Source::Stdin => "<stdin>".to_string(),
            Source::Ledger(t) => t.name().to_string(),
            Source::File(p) => std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()).display().to_string(),
        };
        lines.push_str(&history_line(&at, &from, f, fp));
        lines.push('\n');
    }
    let Warned { value: mut history, warnings } = crate::log::LockedLog::open_lines(&history_path(log))?;
    history.append(&lines)?;
    Ok(Warned { value: (), warnings })
}

/// Where the import history of a log is kept: next to it, `usage.jsonl.tt-history.jsonl`.
pub fn history_path(log: &std::path::Path) -> std::path::PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(".tt-history.jsonl");
    std::path::PathBuf::from(s)
}

/// One line of the import history: when, from where, what came in.
pub fn history_line(at: &str, from: &str, file: &TtFile, fp: &FilePlan) -> String {
    let mut s = String::with_capacity(256);
    s.push_str("{\"kind\":\"import\",\"at\":");
    push_json_string(&mut s, at);
    s.push_str(",\"from\":");
    push_json_string(&mut s, from);
    s.push_str(",\"format\":");
    s.push_str(if file.header.is_some() { "\"bundle\"" } else { "\"log\"" });
    s.push_str(&format!(",\"records\":{},\"added\":{},\"present\":{}", file.records.len(), fp.added, fp.present));
    if let Some(h) = &file.header {
        s.push_str(",\"bundle\":{\"exported_at\":");
        push_json_string(&mut s, &h.exported_at);
        for (k, v) in [("exported_by", &h.exported_by), ("host", &h.host)] {
            if let Some(v) = v {
                s.push_str(&format!(",\"{k}\":"));
                push_json_string(&mut s, v);
            }
        }
        s.push_str(",\"checksum\":");
        push_json_string(&mut s, &h.checksum);
        s.push('}');
    }
    for (k, v) in [("by", crate::machine::user()), ("host", crate::machine::host())] {
        if let Some(v) = v {
            s.push_str(&format!(",\"{k}\":"));
            push_json_string(&mut s, &v);
        }
    }
    s.push('}');
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_sha256_hex() {
        let mut c = Checksum::new();
        c.update(b"abc");
        assert_eq!(c.finish(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    /// A bundle header of three records exported by alice on her laptop.
    fn header() -> Header {
        Header {
            exported_at: "2026-11-23T10:00:00Z".into(),
            exported_by: Some("alice".into()),
            host: Some("laptop".into()),
            tool: "tt-export 0.1.0".into(),
            branch: None,
            commit: None,
            filter: Map::new(),
            records: 3,
            checksum: "sha256:00".into(),
        }
    }

    #[test]
    fn header_round_trips() {
        let h = header();
        let Value::Object(m) = serde_json::from_str::<Value>(&h.to_json()).unwrap() else { panic!() };
        assert_eq!(Header::from_map(&m).unwrap(), h);
    }

    /// A file read for a merge: `records` valid ones, `invalid` bad lines (numbered from 1), maybe damaged.
    fn tt_file(name: &str, header: Option<Header>, records: usize, invalid: u64, problem: Option<&str>) -> TtFile {
        TtFile {
            name: name.into(),
            is_bundle: header.is_some(),
            header,
            records: (0..records).map(|i| (format!("id{i}"), String::new())).collect(),
            invalid: (1..=invalid).map(|line| Invalid { line, error: Error::data("invalid JSON") }).collect(),
            problem: problem.map(str::to_string),
        }
    }

    fn merge_of(read: Vec<TtFile>, files: Vec<FilePlan>, written: bool) -> Merge {
        let added = files.iter().map(|f| f.added).sum();
        let plan = Plan { files, lines: String::new(), added };
        Merge { read, plan, alerts: Vec::new(), warnings: Vec::new(), written }
    }

    /// A line per readable file says what it is and what it adds; the last line what the merge did.
    #[test]
    fn merge_report_lines() {
        let header = header();
        let read = vec![
            tt_file("a.ttb", Some(header), 3, 0, None),
            tt_file("b.jsonl", None, 1, 0, None),
            tt_file("c.ttb", None, 0, 0, Some("checksum mismatch")),
        ];
        let plans = vec![FilePlan { added: 2, present: 1 }, FilePlan { added: 1, present: 0 }, FilePlan::default()];
        let m = merge_of(read, plans, true);
        assert_eq!(
            m.file_lines(),
            [
                "a.ttb: bundle from alice@laptop exported 2026-11-23T10:00:00Z: 3 records: 2 new, 1 already \
                 present, 0 invalid",
                "b.jsonl: log: 1 record: 1 new, 0 already present, 0 invalid",
            ]
        );
        assert_eq!(m.summary(std::path::Path::new("u.jsonl")), "imported 3 records into u.jsonl");
        let dry = merge_of(vec![tt_file("b.jsonl", None, 1, 0, None)], vec![FilePlan { added: 1, present: 0 }], false);
        assert_eq!(
            dry.summary(std::path::Path::new("u.jsonl")),
            "would import 1 record into u.jsonl (dry run: nothing written)"
        );
    }

    /// A plan needs of the log's ids only those of the records merged (what a ledger is asked about): the log's
    /// other ids change nothing, and a record repeated within the merge counts as present either way.
    #[test]
    fn plans_need_only_the_merged_records_ids() {
        let mut a = tt_file("a.jsonl", None, 3, 0, None);
        a.records.push(("id1".into(), String::new()));
        let b = tt_file("b.jsonl", None, 1, 0, None);
        let files = [a, b];
        let known: HashSet<IdKey> = [id_key("id2")].into_iter().collect();
        let mut whole = known.clone();
        whole.extend((0..1000).map(|i| id_key(&format!("other{i}"))));
        let counts = |p: &Plan| p.files.iter().map(|f| (f.added, f.present)).collect::<Vec<_>>();
        let (some, all) = (plan(&files, &known), plan(&files, &whole));
        assert_eq!(counts(&some), [(2, 2), (0, 1)]);
        assert_eq!((counts(&all), all.added), (counts(&some), some.added));
    }

    /// A refusal lists each damaged file, the first bad lines and a count of the rest, and says why in one error.
    #[test]
    fn merge_refusal() {
        let read = vec![tt_file("a.jsonl", None, 0, 12, None), tt_file("c.ttb", None, 0, 0, Some("bad header"))];
        let (lines, e) = merge_of(read, vec![FilePlan::default(), FilePlan::default()], false).refusal();
        assert_eq!(lines.len(), MAX_LISTED + 2);
        assert_eq!(lines[0], "a.jsonl:1: invalid JSON");
        assert_eq!(lines[MAX_LISTED], "c.ttb: bad header");
        assert_eq!(lines[MAX_LISTED + 1], "… and 2 more invalid lines");
        assert_eq!(e.to_string(), "nothing imported: 12 invalid lines and 1 damaged bundle (the log is unchanged)");
        let (lines, e) =
            merge_of(vec![tt_file("a.jsonl", None, 2, 1, None)], vec![FilePlan::default()], false).refusal();
        assert_eq!(lines, ["a.jsonl:1: invalid JSON"]);
        assert_eq!(e.to_string(), "nothing imported: 1 invalid line (the log is unchanged)");
    }
}
