//! The block reader behind [`fold`] and [`fold_lines`]: a source read in 256 KiB `read`s into one reused buffer,
//! each block's whole lines validated as UTF-8 at once, and a big regular file split on line boundaries between a
//! few threads whose states come back in file order. A big ledger is split too, into ranges of its table's pages
//! each streamed over a connection of its own (`Ledger::lines_in_parts`): the states come back in the order the
//! records are stored, which readers that merge their states (all of tt's) do not see. Memory is the buffers plus
//! the states, whatever the input's size.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};

use memchr::memchr;

use super::{Bad, View, parse_line, rejected};
use crate::error::{Error, Result};
use crate::input::Source;

/// Size of each reader's buffer: big enough to make reads cheap, small enough to stay in cache.
const BUF: usize = 256 * 1024;
/// Files smaller than this are read by one thread.
const PARALLEL_MIN: u64 = 8 * 1024 * 1024;
/// Ledgers of fewer records than this are read over one connection (each more costs a connection's set-up).
const LEDGER_PARALLEL_MIN: u64 = 20_000;

/// Lines of `source` folded into states. Each non-blank line (trailing `\r` removed) is passed to `step`
/// with the state of the chunk it belongs to; large files are split between threads, and the states come
/// back in file order (a big ledger's in the order its records are stored: callers merge them). An error names
/// `source:line` of the first bad line in file order (a ledger's: in the order its records were added).
pub fn fold_lines<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &[u8]) -> Result<()> + Sync,
{
    fold_text(source, init, |st, line, _| step(st, line))
}

/// [`fold_lines`], with each line also as text when the block it was read in is valid UTF-8 (validating a
/// block at once is cheaper than line by line).
fn fold_text<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &[u8], Option<&str>) -> Result<()> + Sync,
{
    let name = source.name();
    let hint = |e| match source {
        Source::File(p) => crate::input::with_repair_hint(p, e),
        Source::Stdin | Source::Ledger(_) => e,
    };
    let ctx = |(line, e): (u64, Error)| if line == 0 { e } else { hint(e.context(format!("{name}:{line}"))) };
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(4);
    match source {
        Source::Stdin => {
            let mut st = init();
            chunk(source.reader()?, &name, false, u64::MAX, &mut st, &step).map_err(ctx)?;
            Ok(vec![st])
        }
        // A ledger gives its records in parts, one stream each, read at once (as a file's chunks): as the table
        // stores them, since every state folded from them merges in any order to the same sums; a bad line is
        // named by its place in the order the records were added, which a second read in that order finds.
        Source::Ledger(t) => {
            use crate::ledger::{Ledger, Order};
            let read = |order| -> Result<Vec<ChunkResult<S>>> {
                let parts = Ledger::open(t)?.lines_in_parts(threads, LEDGER_PARALLEL_MIN, order)?;
                Ok(std::thread::scope(|scope| {
                    let handles: Vec<_> = parts
                        .into_iter()
                        .map(|part| {
                            let (init, step, name) = (&init, &step, &name);
                            scope.spawn(move || {
                                let mut st = init();
                                let n = chunk(part, name, false, u64::MAX, &mut st, step)?;
                                Ok((st, n))
                            })
                        })
                        .collect();
                    joined(handles)
                }))
            };
            let results = read(Order::Stored)?;
            if results.iter().all(|r| r.is_ok()) {
                return in_order(results, ctx);
            }
            drop(results);
            in_order(read(Order::Seq)?, ctx)
        }
        Source::File(p) => {
            let mut f = File::open(p).map_err(|e| Error::io(p.display(), e))?;
            let meta = f.metadata().map_err(|e| Error::io(p.display(), e))?;
            if threads < 2 || !meta.is_file() || meta.len() < PARALLEL_MIN {
                let mut st = init();
                chunk(&mut f, &name, false, u64::MAX, &mut st, &step).map_err(ctx)?;
                return Ok(vec![st]);
            }
            let len = meta.len();
            let bounds: Vec<u64> = (0..=threads as u64).map(|k| len * k / threads as u64).collect();
            let results: Vec<ChunkResult<S>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|k| {
                        let (from, to) = (bounds[k], bounds[k + 1]);
                        let (init, step, name) = (&init, &step, &name);
                        scope.spawn(move || {
                            let mut st = init();
                            let mut f = File::open(p).map_err(|e| (0, Error::io(p.display(), e)))?;
                            // Start one byte early and skip to the first newline: a line belongs to the chunk
                            // its first byte is in.
                            let seek = from.saturating_sub(1);
                            f.seek(SeekFrom::Start(seek)).map_err(|e| (0, Error::io(p.display(), e)))?;
                            let n = chunk(f, name, from > 0, to - seek, &mut st, step)?;
                            Ok((st, n))
                        })
                    })
                    .collect();
                joined(handles)
            });
            in_order(results, ctx)
        }
    }
}

/// What the reader of one chunk gives: its state and its number of lines, or the 1-based line (within the
/// chunk; 0 for no line) of its first error.
type ChunkResult<S> = std::result::Result<(S, u64), (u64, Error)>;

/// The results of the threads that read consecutive chunks, in their order.
fn joined<S>(handles: Vec<std::thread::ScopedJoinHandle<'_, ChunkResult<S>>>) -> Vec<ChunkResult<S>> {
    handles
        .into_iter()
        .map(|h| h.join().unwrap_or_else(|_| Err((0, Error::data("internal error: reader thread failed")))))
        .collect()
}

/// The states of consecutive chunks, in order; or the first error in the input's order, its line counted from
/// the start of the input (`ctx` names the place).
fn in_order<S>(results: Vec<ChunkResult<S>>, ctx: impl Fn((u64, Error)) -> Error) -> Result<Vec<S>> {
    let mut states = Vec::with_capacity(results.len());
    let mut lines_before = 0u64;
    for r in results {
        match r {
            Ok((st, n)) => {
                states.push(st);
                lines_before += n;
            }
            Err((line, e)) => return Err(ctx((lines_before + line, e))),
        }
    }
    Ok(states)
}

/// [`fold_lines`] with every line parsed into a [`View`].
pub fn fold<S, I, F>(source: &Source, init: I, step: F) -> Result<Vec<S>>
where
    S: Send,
    I: Fn() -> S + Sync,
    F: Fn(&mut S, &View<'_>) -> Result<()> + Sync,
{
    fold_text(source, init, |st, line, text| match parse_line(line, text) {
        // Matched here rather than through `View::parse`, so the view is not moved between two `Result`s.
        Ok(v) => step(st, &v),
        Err(Bad) => Err(rejected(line)),
    })
}

/// Read lines from `r` until the first line starting at or after byte `limit` (relative to where `r` starts).
/// With `skip_first`, the bytes up to and including the first newline belong to the previous chunk. Returns
/// the number of lines read (for line numbers of later chunks) or the 1-based line of the first error.
// Long on purpose: one read loop whose buffer state (`buf`, `filled`, `pos`, `skipping`, `eof`, `lines`) every
// step changes — refill, skip the previous chunk's line, hand out whole lines, keep the tail; split, that state
// would be threaded through each helper by `&mut`, on the loop every bulk read runs.
fn chunk<S, F>(
    mut r: impl Read,
    name: &str,
    skip_first: bool,
    limit: u64,
    st: &mut S,
    step: &F,
) -> std::result::Result<u64, (u64, Error)>
where
    F: Fn(&mut S, &[u8], Option<&str>) -> Result<()>,
{
    let mut buf = vec![0u8; BUF];
    let mut filled = 0usize;
    let mut pos = 0u64; // offset of buf[0] from the start of `r`
    let mut skipping = skip_first;
    let mut eof = false;
    let mut lines = 0u64;
    let mut handle = |line: &[u8], text: Option<&str>, lines: &mut u64| -> std::result::Result<(), (u64, Error)> {
        *lines += 1;
        let (mut l, mut t) = (line, text);
        // A UTF-8 byte order mark at the very start of the input (only there) is not part of the first line.
        if *lines == 1 && !skip_first && l.starts_with(b"\xEF\xBB\xBF") {
            (l, t) = (&l[3..], t.and_then(|t| t.strip_prefix('\u{FEFF}')));
        }
        if let [rest @ .., b'\r'] = l {
            l = rest;
            t = t.and_then(|t| t.strip_suffix('\r'));
        }
        if l.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        step(st, l, t).map_err(|e| (*lines, e))
    };
    loop {
        if !eof {
            if filled == buf.len() {
                // One line longer than the buffer: grow it, up to the longest line a reader takes (and one byte
                // more, to tell a line of exactly that length from a longer one).
                if filled > crate::input::MAX_LINE {
                    return Err((lines + 1, crate::input::line_too_long()));
                }
                buf.resize((buf.len() * 2).min(crate::input::MAX_LINE + 1), 0);
            }
            match r.read(&mut buf[filled..]) {
                Ok(0) => eof = true,
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err((0, Error::io(name, e))),
            }
        }
        let mut at = 0usize;
        if skipping {
            match memchr(b'\n', &buf[..filled]) {
                Some(k) => {
                    at = k + 1;
                    skipping = false;
                }
                None if eof => return Ok(lines),
                None => {
                    pos += filled as u64;
                    filled = 0;
                    continue;
                }
            }
        }
        // The whole lines of the block, validated as UTF-8 at once (`None` when some line is not: each line
        // is then checked on its own, and the bad one reported).
        let base = at;
        let whole = if eof { filled } else { memchr::memrchr(b'\n', &buf[at..filled]).map_or(at, |k| at + k) };
        let block = std::str::from_utf8(&buf[base..whole]).ok();
        loop {
            if pos + at as u64 >= limit {
                return Ok(lines);
            }
            match memchr(b'\n', &buf[at..filled]) {
                Some(k) => {
                    let text = block.and_then(|t| t.get(at - base..at - base + k));
                    handle(&buf[at..at + k], text, &mut lines)?;
                    at += k + 1;
                }
                None if eof => {
                    if at < filled {
                        if filled - at > crate::input::MAX_LINE {
                            return Err((lines + 1, crate::input::line_too_long()));
                        }
                        // The last line, without its newline: a record still being appended (readers take no
                        // lock) is not yet in the file and is left out; a whole one counts.
                        let text = block.and_then(|t| t.get(at - base..));
                        let line = &buf[at..filled];
                        if let Err(e) = handle(line, text, &mut lines) {
                            if crate::input::still_being_written(line.strip_suffix(b"\r").unwrap_or(line)) {
                                return Ok(lines);
                            }
                            return Err(e);
                        }
                    }
                    return Ok(lines);
                }
                None => break,
            }
        }
        buf.copy_within(at..filled, 0);
        pos += at as u64;
        filled -= at;
    }
}
