//! Where records come from, the same way in every tool.
//!
//! * Paths given as arguments are read in order; `-` is standard input.
//! * With no paths but a log named on the command line (`--log`), that log is read and standard input is never
//!   looked at: a tool run inside `while read task; do tt-sum --log "$L"; done < tasks.txt` has the loop's
//!   input on its stdin, which is not records. `TT_LOG` does not count: set for a whole session or CI job, it
//!   must not stop `tt-log … | tt-sum` from reading the pipe. See [`choose`].
//! * With no paths and no `--log`, standard input is read when it holds data: a pipe, a socket or a regular file that yields
//!   something other than whitespace. A terminal, `/dev/null`, a closed stdin and an empty or blank pipe (one
//!   whose writer closed without writing — how GitHub Actions and many process runners start every step — or
//!   wrote only blank lines) count as "nothing on stdin" and the default log is read, so `tt-sum` and `tt-budget --fail-over` work the same in a shell, in
//!   cron and in CI. To tell an empty pipe from a pipe with data, the first block is read ahead; every reader
//!   of standard input goes through [`stdin`], which hands those bytes out first.
//!
//! Lines are read into one reused buffer and handed out with their 1-based line number so every error can say
//! `file:line`. Blank lines are skipped; a trailing `\r` is tolerated.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// One input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Standard input.
    Stdin,
    /// A file.
    File(PathBuf),
    /// A team ledger (PostgreSQL), read as the JSONL log it holds (see [`crate::ledger`]).
    Ledger(crate::ledger::Target),
}

impl Source {
    /// The source a path argument or a log setting names: `-` is stdin, a `postgresql://` URI a ledger, anything
    /// else a file.
    pub fn from_arg(arg: &str) -> Result<Source> {
        Ok(if arg == "-" {
            Source::Stdin
        } else if crate::ledger::is_uri(arg) {
            Source::Ledger(crate::ledger::Target::parse(arg)?)
        } else {
            Source::File(PathBuf::from(arg))
        })
    }

    /// How many bytes the source holds, when that is known before reading it: a regular file's length (not a
    /// pipe's, stdin's or a ledger's).
    pub fn size(&self) -> Option<u64> {
        match self {
            Source::File(p) => std::fs::metadata(p).ok().filter(std::fs::Metadata::is_file).map(|m| m.len()),
            Source::Stdin | Source::Ledger(_) => None,
        }
    }

    /// The bytes all of `sources` hold, when each one's [`size`](Source::size) is known (a progress bar's
    /// total).
    pub fn total_size(sources: &[Source]) -> Option<u64> {
        sources.iter().map(Source::size).sum()
    }

    /// How the source is named in messages: `<stdin>`, the path as given, or the ledger's URI without its
    /// password.
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".into(),
            Source::File(p) => p.display().to_string(),
            Source::Ledger(t) => t.name().to_string(),
        }
    }

    /// Open for reading, with a large buffer.
    pub fn open(&self) -> Result<Box<dyn BufRead>> {
        Ok(Box::new(BufReader::with_capacity(256 * 1024, self.reader()?)))
    }

    /// [`Source::open`], adding every byte read through it to `read`: what a progress bar's share of the
    /// sources' [`Source::total_size`] is, exactly (a reader's lines leave out their `\r`, a BOM and blank
    /// lines, so counting lines would fall short of it).
    pub fn open_counted<'a>(&self, read: &'a std::cell::Cell<u64>) -> Result<Counted<'a, Box<dyn BufRead>>> {
        Ok(Counted { inner: self.open()?, read })
    }

    /// Open for reading, unbuffered (for readers that bring their own buffer).
    pub fn reader(&self) -> Result<Box<dyn Read + Send>> {
        Ok(match self {
            Source::Stdin => Box::new(stdin()),
            Source::File(p) => Box::new(File::open(p).map_err(|e| Error::io(p.display(), e))?),
            Source::Ledger(t) => Box::new(crate::ledger::Ledger::open(t)?.lines()?),
        })
    }
}

/// What [`stdin_has_data`] read ahead of the readers, handed out first by [`stdin`].
static READ_AHEAD: Mutex<Vec<u8>> = Mutex::new(Vec::new());

/// Standard input, for every reader in tt: the bytes [`stdin_has_data`] read ahead come first, then the rest.
pub fn stdin() -> Stdin {
    Stdin { ahead: std::mem::take(&mut *READ_AHEAD.lock().unwrap_or_else(|e| e.into_inner())), at: 0 }
}

/// Standard input after the bytes read ahead of it (see [`stdin`]).
pub struct Stdin {
    ahead: Vec<u8>,
    at: usize,
}

impl Read for Stdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.ahead.len() {
            let n = buf.len().min(self.ahead.len() - self.at);
            buf[..n].copy_from_slice(&self.ahead[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        io::stdin().lock().read(buf)
    }
}

/// True when stdin holds data to read: a pipe, socket or regular file with something other than whitespace
/// in it — not a terminal, `/dev/null`, a closed stdin, an empty pipe or one of blank lines only. A pipe is
/// told apart by reading it ahead up to its first non-blank byte (waiting for the writer, as reading it
/// would); [`stdin`] hands those bytes out again.
pub fn stdin_has_data() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::FileTypeExt;
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    let Ok(fd) = stdin.as_fd().try_clone_to_owned() else { return false };
    let Ok(meta) = File::from(fd).metadata() else { return false };
    let t = meta.file_type();
    if t.is_file() && meta.len() == 0 {
        return false;
    }
    if !(t.is_file() || t.is_fifo() || t.is_socket()) {
        return false;
    }
    let mut ahead = READ_AHEAD.lock().unwrap_or_else(|e| e.into_inner());
    if ahead.iter().any(|b| !b.is_ascii_whitespace()) {
        return true;
    }
    // Read until something that is not whitespace arrives: blank lines alone (`echo | tt-budget`, an empty
    // `$rows` echoed into a pipe) are no more input than an empty pipe. What was read is kept for the readers,
    // blank lines included, so line numbers stay right.
    let mut block = vec![0u8; 64 * 1024];
    loop {
        match stdin.lock().read(&mut block) {
            Ok(0) => return false,
            Ok(n) => {
                ahead.extend_from_slice(&block[..n]);
                if block[..n].iter().any(|b| !b.is_ascii_whitespace()) {
                    return true;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // An unreadable stdin is not data; the reader that would use it reports nothing either.
            Err(_) => return false,
        }
    }
}

/// The sources a tool reads, and whether they are the usage log — in this order:
///
/// 1. the paths given as arguments, in order (`-` is stdin);
/// 2. else the log named on the command line (`explicit_log`, the `--log` flag): stdin is never looked at;
/// 3. else stdin, when it holds data ([`stdin_has_data`]);
/// 4. else the default log, which `default_log` resolves (`TT_LOG`, config `log`, the default path) only then,
///    so a missing HOME is no error for a tool that reads a pipe.
///
/// A log that does not exist yet is an empty log: no sources, and `true`.
pub fn choose(
    paths: &[String],
    explicit_log: Option<&Path>,
    default_log: impl FnOnce() -> Result<PathBuf>,
) -> Result<(Vec<Source>, bool)> {
    if !paths.is_empty() {
        return Ok((sources(paths, Path::new(""))?, false));
    }
    let log = match explicit_log {
        Some(p) => p.to_path_buf(),
        None if stdin_has_data() => return Ok((vec![Source::Stdin], false)),
        None => default_log()?,
    };
    Ok((log_source(&log)?.into_iter().collect(), true))
}

/// What reading the usage log at `log` reads: a ledger, the file, or nothing when the file does not exist yet
/// (an empty log).
pub fn log_source(log: &Path) -> Result<Option<Source>> {
    match log.to_str().filter(|s| crate::ledger::is_uri(s)) {
        Some(uri) => Ok(Some(Source::Ledger(crate::ledger::Target::parse(uri)?))),
        None => Ok(log.exists().then(|| Source::File(log.to_path_buf()))),
    }
}

/// The sources for path arguments, else stdin when it has data, else `default_log` (used as it is, existing or
/// not). It does not know about `--log`, which must keep stdin unread: tools choose with [`choose`].
pub fn sources(paths: &[String], default_log: &Path) -> Result<Vec<Source>> {
    if paths.is_empty() {
        if stdin_has_data() {
            Ok(vec![Source::Stdin])
        } else {
            Source::from_arg(&default_log.to_string_lossy()).map(|s| vec![s])
        }
    } else {
        paths.iter().map(|p| Source::from_arg(p)).collect()
    }
}

/// The longest line any reader takes: 16 MiB (without its newline). A record is a few hundred bytes; a longer
/// "line" is not a record (a file of NULs, `/dev/zero`, a binary file) and reading it whole could exhaust memory,
/// so it is a `file:line: line longer than 16 MiB` error instead.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// The error for a line longer than [`MAX_LINE`] (the caller adds `file:line`).
pub fn line_too_long() -> Error {
    Error::data("line longer than 16 MiB")
}

/// True when `line`, the last line of an input without its newline, is still being written: it is not one whole
/// JSON value. A reader takes no lock, so a record being appended can be read half-written; such a line is not
/// yet in the file and is left out (a prefix of a JSON object is never a whole JSON value). A whole record that
/// only lacks its newline is read like any other line, and one that is whole JSON but not a valid record is an
/// error like on any other line.
pub fn still_being_written(line: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(line).is_err()
}

/// A buffered reader that adds the bytes consumed through it to a counter ([`Source::open_counted`]).
pub struct Counted<'a, R> {
    inner: R,
    read: &'a std::cell::Cell<u64>,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.set(self.read.get() + n as u64);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<'_, R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.inner.consume(n);
        self.read.set(self.read.get() + n as u64);
    }
}

/// Call `f(line_number, line)` for every non-blank line of `reader`. `f`'s errors get `name:line:` prepended.
/// A last line without its newline that `f` refuses and that is not yet whole JSON is being written
/// ([`still_being_written`]) and is skipped; a line longer than [`MAX_LINE`] is an error.
pub fn for_each_line(name: &str, mut reader: impl BufRead, mut f: impl FnMut(u64, &[u8]) -> Result<()>) -> Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut n = 0u64;
    // A bad line of a file (not of standard input, named `<stdin>`) says how to repair it.
    let hint = |e: Error| if name == "<stdin>" { e } else { with_repair_hint(Path::new(name), e) };
    loop {
        buf.clear();
        // `read_until` with a bound: a line is at most MAX_LINE bytes and its newline.
        let mut terminated = false;
        loop {
            let avail = match reader.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(name, e)),
            };
            if avail.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i + 1, true),
                None => (avail.len(), false),
            };
            let room = MAX_LINE + 1 - buf.len();
            buf.extend_from_slice(&avail[..take.min(room)]);
            reader.consume(take.min(room));
            if buf.len() > MAX_LINE && !(done && take <= room && buf.len() == MAX_LINE + 1) {
                return Err(hint(line_too_long().context(format!("{name}:{}", n + 1))));
            }
            if done {
                terminated = true;
                break;
            }
        }
        if buf.is_empty() {
            return Ok(());
        }
        n += 1;
        let mut line = &buf[..];
        if n == 1 {
            // A UTF-8 byte order mark at the very start of the input (only there) is not part of the first line.
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        while let [rest @ .., b'\n' | b'\r'] = line {
            line = rest;
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match f(n, line) {
            Ok(()) => {}
            Err(_) if !terminated && still_being_written(line) => return Ok(()),
            Err(e) => return Err(hint(e.context(format!("{name}:{n}")))),
        }
    }
}

/// The hint the readers' error for a bad line ends with.
pub const REPAIR_HINT: &str = "tt-log --repair moves bad lines aside";

/// A reader's error for a bad line of `path` (`file:line: …`) with [`REPAIR_HINT`] appended when `path` is a
/// regular file — a log can be repaired; standard input, a pipe or a device such as `/dev/zero` cannot. Errors
/// other than bad data (I/O) are returned as they are.
pub fn with_repair_hint(path: &Path, e: Error) -> Error {
    if e.kind() != crate::error::Kind::Data || !path.is_file() {
        return e;
    }
    Error::new(e.kind(), format!("{} ({REPAIR_HINT})", e.message()))
}

/// Read all of a reader into a string (for single-document inputs such as API responses).
pub fn read_all(name: &str, mut r: impl Read) -> Result<String> {
    let mut s = String::new();
    r.read_to_string(&mut s).map_err(|e| Error::io(name, e))?;
    if s.starts_with('\u{FEFF}') {
        s.drain(..3); // a UTF-8 byte order mark at the very start is not part of the document
    }
    Ok(s)
}

/// A line as UTF-8, or a data error.
pub fn utf8(line: &[u8]) -> Result<&str> {
    std::str::from_utf8(line).map_err(|e| Error::data(format!("invalid UTF-8 at byte {}", e.valid_up_to())))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A counted read adds up to the file's size, whatever the reader leaves out of its lines (a BOM, `\r`,
    /// blank lines): a progress bar over it ends at 100%.
    #[test]
    fn a_counted_read_adds_up_to_the_size() {
        let dir = std::env::temp_dir().join(format!("tt-counted-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("crlf.jsonl");
        std::fs::write(&path, "\u{feff}{\"a\":1}\r\n\r\n\n{\"b\":2}\r\n{\"c\":3}").unwrap();
        let source = Source::File(path.clone());
        let read = std::cell::Cell::new(0u64);
        let mut lines = 0;
        for_each_line("crlf.jsonl", source.open_counted(&read).unwrap(), |_, _| {
            lines += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((lines, read.get()), (3, std::fs::metadata(&path).unwrap().len()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
