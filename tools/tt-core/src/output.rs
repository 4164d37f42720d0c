//! Where results go: formats, tables, and a stdout that treats a closed pipe as the end, not an error.
//!
//! Default format: a human table when stdout is a terminal, JSONL in a pipe; `--format` overrides. Tables
//! align numbers right and text left. Output is never coloured, but for charts on a terminal
//! (`crate::chart::terminal`, which honours `NO_COLOR`), so piped or captured output never carries escape codes. Table and markdown cells show control and invisible format
//! characters escaped (`\n`, `\u{1b}`, `\u{202e}`): a value read from a log (a session id, a note) can never
//! break a table's rows, move the cursor or send escape codes to the terminal.
//!
//! Text from a log is also inert for the CI that reads the output ([`text_cell`]): the GitHub Actions runner
//! takes a line that starts, after blanks, with `::` (`::add-mask::…`, `::stop-commands::…`, `::error::…`) or
//! that holds `##[` anywhere as a workflow command, so a table cell starting with `::` is shown as `\::…` and a
//! `##[` in a cell as `##\[` — a visible backslash (a leading blank would not do: the runner trims it), added
//! only where it matters. Every markdown cell goes through the one escaper, [`markdown_text`] (tt-sum, tt-budget
//! and its job summary, tt-export's report, tt-optimize, tt-price alike). CSV cells go through [`csv_safe`],
//! unless the tool was asked for exact CSV ([`set_csv_exact`], `--csv-exact`).
//!
//! Text tables fit the screen ([`table_width`]): each table says which columns may be left out (least important
//! first) and which text columns may be cut with `…`; numbers are never cut and key columns never left out, so a
//! very narrow screen gets a table wider than itself rather than one that lost what it is about. Markdown is
//! never fitted: it goes to files and job summaries, not to a screen.

use std::io::{BufWriter, IsTerminal, Stdout, Write};

use crate::error::{Error, Result};

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for people.
    Table,
    /// One JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// RFC 4180 CSV with a header row.
    Csv,
    /// A GitHub-flavoured markdown table.
    Markdown,
}

impl Format {
    /// Parse a `--format` value.
    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s {
            "table" => Format::Table,
            "json" => Format::Json,
            "jsonl" | "ndjson" => Format::Jsonl,
            "csv" => Format::Csv,
            "markdown" | "md" => Format::Markdown,
            _ => return Err(Error::usage(format!("unknown format {s:?} (table, json, jsonl, csv, markdown)"))),
        })
    }

    /// The `--format` name of this format.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Csv => "csv",
            Format::Markdown => "markdown",
        }
    }

    /// The `--format` value if given, else table on a terminal and JSONL in a pipe.
    pub fn choose(flag: Option<&str>) -> Result<Format> {
        match flag {
            Some(s) => Format::parse(s),
            None if stdout_is_terminal() => Ok(Format::Table),
            None => Ok(Format::Jsonl),
        }
    }
}

/// `a, b or c`.
pub fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => one.to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A write to stdout beside work that goes on whatever happens to it (tt-log's `--print`: the records are logged
/// anyway). A reader that has gone (a broken pipe: `--print | head -1`) only ends the printing: `Ok(false)`;
/// `Ok(true)` when written; any other failure is the error.
pub fn printed(r: std::io::Result<()>) -> std::io::Result<bool> {
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(e),
        Ok(()) => Ok(true),
    }
}

/// True when stdout is a terminal: formats default to a table there and to JSONL in a pipe.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Buffered stdout. Write errors come back as [`Error`]s whose broken-pipe case the shared `main` silences.
pub fn stdout() -> BufWriter<Stdout> {
    BufWriter::with_capacity(64 * 1024, std::io::stdout())
}

/// Write JSON documents (each already one line of JSON) as one indented JSON array.
pub fn write_json_array(out: &mut impl Write, items: impl ExactSizeIterator<Item = String>) -> Result<()> {
    writeln!(out, "[")?;
    let n = items.len();
    for (i, item) in items.enumerate() {
        writeln!(out, "  {item}{}", if i + 1 < n { "," } else { "" })?;
    }
    writeln!(out, "]")?;
    Ok(())
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A simple table: headers, rows of cells, alignment per column.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column headers.
    pub headers: Vec<String>,
    /// Alignment per column.
    pub align: Vec<Align>,
    /// Rows.
    pub rows: Vec<Vec<String>>,
    /// Row indexes after which a rule is drawn (e.g. before a total row).
    pub rules_before: Vec<usize>,
    /// Columns that may be left out to fit the width, least important first (see [`Table::may_drop`]).
    pub drop_order: Vec<usize>,
    /// Text columns whose long cells may be cut with `…` to fit the width (see [`Table::may_abbreviate`]).
    pub abbreviable: Vec<usize>,
    /// The cells are markdown already, each value in them escaped by its maker with [`markdown_text`] (the
    /// team report's `**Total**` and status cells): [`Table::render_markdown`] then only escapes `|` and
    /// control characters. Off, every cell is text and escaped whole.
    pub markup: bool,
}

/// A cut cell keeps at least this many characters (its `…` included), or its header's width if wider: shorter
/// than that a name or a scope no longer says anything, and leaving the column out is the better choice.
pub const MIN_CUT: usize = 16;

/// The width text tables are fitted to: `COLUMNS` when it is a positive integer (so scripts and tests can pin
/// it), else the terminal's width when stdout is one, else none — a table forced with `--format table` into a
/// pipe or a file is printed whole.
pub fn table_width() -> Option<usize> {
    let pinned = std::env::var("COLUMNS").ok().and_then(|s| s.trim().parse::<usize>().ok()).filter(|&n| n > 0);
    if pinned.is_some() {
        return pinned;
    }
    if !stdout_is_terminal() {
        return None;
    }
    terminal_size::terminal_size_of(std::io::stdout()).map(|(w, _)| usize::from(w.0)).filter(|&n| n > 0)
}

impl Table {
    /// A table with these headers; columns whose header is in `right` align right.
    pub fn new(headers: &[&str], right: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            align: headers.iter().map(|h| if right.contains(h) { Align::Right } else { Align::Left }).collect(),
            rows: Vec::new(),
            rules_before: Vec::new(),
            drop_order: Vec::new(),
            abbreviable: Vec::new(),
            markup: false,
        }
    }

    /// Columns (by header) that may be left out when the table is too wide, least important first. Headers not
    /// in the table are skipped, so a table can name a column it only sometimes has; columns not named here are
    /// the table's key and are always shown.
    pub fn may_drop(&mut self, headers: &[&str]) {
        for i in self.columns(headers) {
            if !self.drop_order.contains(&i) {
                self.drop_order.push(i);
            }
        }
    }

    /// Text columns (by header) whose long cells may be cut with `…` when the table is too wide, never below
    /// [`MIN_CUT`] characters. Right-aligned columns are numbers and are never cut, even if named here.
    pub fn may_abbreviate(&mut self, headers: &[&str]) {
        for i in self.columns(headers) {
            if self.align[i] == Align::Left && !self.abbreviable.contains(&i) {
                self.abbreviable.push(i);
            }
        }
    }

    fn columns(&self, headers: &[&str]) -> Vec<usize> {
        headers.iter().filter_map(|h| self.headers.iter().position(|x| x == h)).collect()
    }

    /// Add a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// Draw a rule before the next row added.
    pub fn rule(&mut self) {
        self.rules_before.push(self.rows.len());
    }

    fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.headers.iter().map(|h| text_cell(h).chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < w.len() {
                    w[i] = w[i].max(text_cell(c).chars().count());
                }
            }
        }
        w
    }

    /// The table fitted to `width` columns. Cutting comes before leaving out (a shortened scope says more than
    /// none): with the first `k` droppable columns gone (`k` = 0, 1, …), the abbreviable columns still shown are
    /// cut, widest first and none below its floor ([`MIN_CUT`] or its header), and the first `k` that fits
    /// wins, cut no more than it needs. If nothing fits, every droppable column is gone, the abbreviable ones
    /// are at their floor and the table is wider than `width`: key columns are never left out, numbers never cut.
    pub fn fit(&self, width: usize) -> Table {
        let natural = self.widths();
        let n = natural.len();
        let span =
            |cols: &[usize], w: &[usize]| cols.iter().map(|&i| w[i]).sum::<usize>() + 2 * cols.len().saturating_sub(1);
        let mut dropped = 0;
        loop {
            let gone = &self.drop_order[..dropped];
            let shown: Vec<usize> = (0..n).filter(|i| !gone.contains(i)).collect();
            let mut w = natural.clone();
            let floor = |i: usize| natural[i].min(MIN_CUT.max(text_cell(&self.headers[i]).chars().count()));
            let mut over = span(&shown, &w).saturating_sub(width);
            // One character at a time off the widest column that can still give one: even cuts, no column
            // shortened while a wider one is whole.
            while over > 0 {
                let widest = shown
                    .iter()
                    .copied()
                    .filter(|&i| self.abbreviable.contains(&i) && w[i] > floor(i))
                    .max_by_key(|&i| (w[i], std::cmp::Reverse(i)));
                let Some(i) = widest else { break };
                w[i] -= 1;
                over -= 1;
            }
            if over == 0 || dropped == self.drop_order.len() {
                return self.project(&shown, &w);
            }
            dropped += 1;
        }
    }

    /// The columns `shown`, text cells of abbreviable columns cut to `w`.
    fn project(&self, shown: &[usize], w: &[usize]) -> Table {
        let cut = |i: usize, c: &String| -> String {
            let text = text_cell(c);
            if !self.abbreviable.contains(&i) || text.chars().count() <= w[i] {
                return c.clone();
            }
            // No space left dangling before the `…`.
            let mut s: String = text.chars().take(w[i].saturating_sub(1)).collect();
            s.truncate(s.trim_end().len());
            s.push('…');
            s
        };
        Table {
            headers: shown.iter().map(|&i| self.headers[i].clone()).collect(),
            align: shown.iter().map(|&i| self.align[i]).collect(),
            rows: self
                .rows
                .iter()
                .map(|r| shown.iter().filter_map(|&i| r.get(i).map(|c| cut(i, c))).collect())
                .collect(),
            rules_before: self.rules_before.clone(),
            drop_order: Vec::new(),
            abbreviable: Vec::new(),
            markup: self.markup,
        }
    }

    /// Render as aligned text, fitted to the screen ([`table_width`]).
    pub fn render_text(&self, out: &mut impl Write) -> Result<()> {
        self.render_text_width(out, table_width())
    }

    /// Render as aligned text, fitted to `width` columns if given (see [`Table::fit`]), else whole.
    pub fn render_text_width(&self, out: &mut impl Write, width: Option<usize>) -> Result<()> {
        match width {
            Some(width) => self.fit(width).write_text(out),
            None => self.write_text(out),
        }
    }

    fn write_text(&self, out: &mut impl Write) -> Result<()> {
        let w = self.widths();
        let line = |out: &mut dyn Write, cells: &[String]| -> Result<()> {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let c = text_cell(c);
                let pad = w[i].saturating_sub(c.chars().count());
                if i > 0 {
                    s.push_str("  ");
                }
                match self.align[i] {
                    Align::Right => {
                        s.extend(std::iter::repeat_n(' ', pad));
                        s.push_str(&c);
                    }
                    Align::Left => {
                        s.push_str(&c);
                        if i + 1 < cells.len() {
                            s.extend(std::iter::repeat_n(' ', pad));
                        }
                    }
                }
            }
            writeln!(out, "{}", s.trim_end())?;
            Ok(())
        };
        line(out, &self.headers)?;
        let total: usize = w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
        writeln!(out, "{}", "─".repeat(total))?;
        for (i, r) in self.rows.iter().enumerate() {
            if self.rules_before.contains(&i) {
                writeln!(out, "{}", "─".repeat(total))?;
            }
            line(out, r)?;
        }
        Ok(())
    }

    /// Render as a GitHub-flavoured markdown table: every cell inert text through [`markdown_text`], `|`
    /// escaped — or, for a [`Table::markup`] table, cells as their maker escaped them. Headers are the tool's own
    /// words (a header made from data is escaped by its maker): only `|` and control characters are escaped.
    pub fn render_markdown(&self, out: &mut impl Write) -> Result<()> {
        let esc = |s: &str| {
            let s = if self.markup { cell_text(s).into_owned() } else { markdown_text(s) };
            s.replace('|', "\\|")
        };
        let head = |s: &str| cell_text(s).replace('|', "\\|");
        writeln!(out, "| {} |", self.headers.iter().map(|h| head(h)).collect::<Vec<_>>().join(" | "))?;
        let seps: Vec<&str> = self.align.iter().map(|a| if *a == Align::Right { "---:" } else { "---" }).collect();
        writeln!(out, "|{}|", seps.iter().map(|s| format!(" {s} ")).collect::<Vec<_>>().join("|"))?;
        for r in &self.rows {
            writeln!(out, "| {} |", r.iter().map(|c| esc(c)).collect::<Vec<_>>().join(" | "))?;
        }
        Ok(())
    }
}

/// A table cell as shown: control characters and invisible format characters (bidi overrides, zero-width
/// spaces, U+2028/U+2029) escaped the way Rust writes them (`\n`, `\u{1b}`, `\u{202e}`); anything else as it is.
pub fn cell_text(s: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| c.is_control() || crate::record::is_format_char(c);
    if !s.chars().any(bad) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if bad(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// A table cell as a text table shows it: [`cell_text`], then made inert for a CI runner reading the output
/// (see the module's words): a cell that starts with `::` after blanks gets a `\` before the `::`, and every
/// `##[` becomes `##\[`. Anything else is unchanged.
pub fn text_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let s = cell_text(s);
    let body = s.trim_start();
    let command = body.starts_with("::");
    if !command && !s.contains("##[") {
        return s;
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push_str(&s[..s.len() - body.len()]);
    if command {
        out.push('\\');
    }
    out.push_str(&body.replace("##[", "##\\["));
    std::borrow::Cow::Owned(out)
}

/// A line of plain text for a terminal or a CI log, made inert as a table cell is ([`text_cell`]).
pub fn text_line(s: &str) -> std::borrow::Cow<'_, str> {
    text_cell(s)
}

/// Text from the log (agent and model names, budget names …) made inert in markdown: the characters markdown
/// would read as markup (emphasis, code, links, HTML, headings, strike-through) are backslash-escaped, and
/// control characters are shown escaped as in [`cell_text`]. (`|` is left to [`Table::render_markdown`], which
/// escapes it in cells; outside a table it is plain text.)
pub fn markdown_text(s: &str) -> String {
    let s = cell_text(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '~' | '#') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A message for markdown in which its backtick spans (`` `tt-sum --by agent` ``, the commands tt's messages
/// suggest) stay inline code, so they can be copied, and the rest is inert text as in [`markdown_text`]. A span
/// opens with a run of backticks and closes at the next run of the same length, as CommonMark reads them, so a
/// span holding a backtick is one with a longer fence (two backticks around one); spans are kept as written
/// (control characters shown escaped, as everywhere). A run that is never closed is text, escaped.
pub fn markdown_with_code(s: &str) -> String {
    let s = cell_text(s);
    let mut out = String::with_capacity(s.len() + 8);
    let mut rest: &str = &s;
    while let Some(i) = rest.find('`') {
        out.push_str(&markdown_text(&rest[..i]));
        let run = backtick_run(&rest[i..]);
        let after = &rest[i + run..];
        match find_backtick_run(after, run) {
            Some(j) => {
                // As written: the fence already differs from every backtick run inside the span.
                out.push_str(&rest[i..i + run + j + run]);
                rest = &after[j + run..];
            }
            None => {
                out.push_str(&"\\`".repeat(run));
                rest = after;
            }
        }
    }
    out.push_str(&markdown_text(rest));
    out
}

/// The length of the run of backticks `s` starts with.
fn backtick_run(s: &str) -> usize {
    s.bytes().take_while(|&b| b == b'`').count()
}

/// Where in `s` a run of exactly `n` backticks starts (a longer or shorter run does not close a span).
fn find_backtick_run(s: &str, n: usize) -> Option<usize> {
    let mut i = 0;
    while let Some(j) = s[i..].find('`') {
        let len = backtick_run(&s[i + j..]);
        if len == n {
            return Some(i + j);
        }
        i += j + len;
    }
    None
}

static CSV_EXACT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Ask for exact CSV for the rest of the run (`--csv-exact`): [`csv_safe`] then leaves every cell as it is, for
/// databases and scripts (DuckDB, PostgreSQL `\copy`), where the guard's `'` would change the value. Set once by
/// a tool before it writes; every CSV writer of the run follows it.
pub fn set_csv_exact(exact: bool) {
    CSV_EXACT.store(exact, std::sync::atomic::Ordering::Relaxed);
}

/// The `--csv-exact` help every tool with CSV output shows.
pub const CSV_EXACT_HELP: &str = "With --format csv: write every value exactly as it is, for databases and scripts \
     (DuckDB, PostgreSQL \\copy). By default a text cell that a spreadsheet would run as a formula (starting, \
     after blanks, with =, +, -, @, or with a tab or CR) gets a leading ' — which changes the value for a \
     database (-home-dev-proj0 would load as '-home-dev-proj0). Never open exact CSV from an untrusted log in a \
     spreadsheet.";

/// A tool's `--csv-exact` flag: asks for exact CSV ([`set_csv_exact`]) when given, an error unless the format
/// is CSV (it would say nothing there).
pub fn csv_exact_flag(format: Format, exact: bool) -> Result<()> {
    if exact && format != Format::Csv {
        return Err(Error::usage(format!("--csv-exact is for --format csv, not {}", format.name())));
    }
    set_csv_exact(exact);
    Ok(())
}

/// Whether exact CSV was asked for ([`set_csv_exact`]).
pub fn csv_exact() -> bool {
    CSV_EXACT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Neutralise a CSV cell against spreadsheet formula injection: a cell starting with `=`, `+`, `-`, `@`, tab or
/// CR, or with blanks (spaces, tabs, line breaks) before one of `=`, `+`, `-`, `@` (spreadsheets skip them),
/// gets a leading `'` — unless the cell is a plain number (negative amounts must stay numbers). Under
/// [`set_csv_exact`] every cell is left as it is.
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if csv_exact() {
        return std::borrow::Cow::Borrowed(cell);
    }
    csv_guard(cell)
}

/// [`csv_safe`]'s guard, whatever the run asked for.
pub fn csv_guard(cell: &str) -> std::borrow::Cow<'_, str> {
    let body = cell.trim_start_matches(|c: char| c.is_whitespace());
    let risky = matches!(cell.as_bytes().first(), Some(b'\t' | b'\r'))
        || matches!(body.as_bytes().first(), Some(b'=' | b'+' | b'-' | b'@'));
    if !risky {
        return std::borrow::Cow::Borrowed(cell);
    }
    if cell.starts_with('-') && crate::money::parse_decimal(cell).is_some() && !cell.contains(['e', 'E']) {
        std::borrow::Cow::Borrowed(cell)
    } else {
        std::borrow::Cow::Owned(format!("'{cell}"))
    }
}

/// A CSV writer with the settings every tt CSV uses (RFC 4180: `,`, `"` quoting when needed, `\n` records —
/// RFC 4180 says CRLF, but every reader that matters accepts LF and Unix tools prefer it).
pub fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(out)
}

/// Turn a csv crate error into a tt error: an I/O error stays one (so a reader that closed the pipe is a quiet
/// exit 0, as everywhere), anything else is bad data.
pub fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::from(io),
        other => Error::data(format!("CSV: {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A broken pipe ends the printing quietly; other errors stay errors.
    #[test]
    fn a_gone_reader_is_not_an_error() {
        use std::io::{Error as IoError, ErrorKind};
        assert!(printed(Ok(())).unwrap());
        assert!(!printed(Err(IoError::from(ErrorKind::BrokenPipe))).unwrap());
        assert_eq!(printed(Err(IoError::from(ErrorKind::StorageFull))).unwrap_err().kind(), ErrorKind::StorageFull);
    }

    #[test]
    fn cells_escape_control_and_format_characters() {
        assert_eq!(cell_text("plain Zürich"), "plain Zürich");
        assert_eq!(cell_text("x\ny\u{1b}[31m\t\u{202e}z"), "x\\ny\\u{1b}[31m\\t\\u{202e}z");
        let mut t = Table::new(&["session", "n"], &["n"]);
        t.row(vec!["x\ny\u{1b}[31m".into(), "1".into()]);
        t.row(vec!["a|b".into(), "22".into()]);
        let mut text = Vec::new();
        t.render_text(&mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.contains("x\\ny\\u{1b}[31m   1\n"), "{text}");
        let mut md = Vec::new();
        t.render_markdown(&mut md).unwrap();
        let md = String::from_utf8(md).unwrap();
        // In markdown the backslash of an escape is escaped in turn, so it shows as written.
        assert!(md.contains("| x\\\\ny\\\\u{1b}\\[31m | 1 |\n| a\\|b | 22 |\n"), "{md}");
    }

    #[test]
    fn text_cells_never_start_a_workflow_command() {
        assert_eq!(text_cell("::add-mask::x"), "\\::add-mask::x");
        assert_eq!(text_cell("  ::error ::z"), "  \\::error ::z");
        assert_eq!(text_cell("a ##[error]b ##[x"), "a ##\\[error]b ##\\[x");
        assert_eq!(text_cell("a::b :x"), "a::b :x");
        // Already escaped stays as it is (a cut cell is shown again).
        assert_eq!(text_cell(&text_cell("::x ##[y")), "\\::x ##\\[y");
    }

    #[test]
    fn csv_guard_sees_through_leading_blanks() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            (" =1+1", "' =1+1"),
            ("\u{a0}@x", "'\u{a0}@x"),
            ("\t x", "'\t x"),
            (" -3", "' -3"),
            ("-3.5", "-3.5"),
            ("-1e3", "'-1e3"),
            (" plain", " plain"),
            ("a=b", "a=b"),
        ] {
            assert_eq!(csv_guard(cell), want, "{cell:?}");
        }
    }

    fn text(t: &Table, width: Option<usize>) -> String {
        let mut out = Vec::new();
        t.render_text_width(&mut out, width).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// Every line's width in characters (the rule is `─`, three bytes each).
    fn widest(s: &str) -> usize {
        s.lines().map(|l| l.chars().count()).max().unwrap_or(0)
    }

    /// name (key), note (cut, then dropped), tag (dropped first), n (a number, kept).
    fn sample() -> Table {
        let mut t = Table::new(&["name", "note", "tag", "n"], &["n"]);
        t.row(vec!["alpha".into(), "a rather long note about alpha".into(), "x".into(), "1,234,567".into()]);
        t.row(vec!["beta".into(), "short".into(), "yy".into(), "8".into()]);
        t.may_drop(&["tag", "note", "not a column"]);
        t.may_abbreviate(&["note", "n"]);
        t
    }

    #[test]
    fn a_table_that_fits_is_unchanged() {
        let t = sample();
        let whole = text(&t, None);
        assert_eq!(
            whole,
            "name   note                            tag          n
─────────────────────────────────────────────────────
alpha  a rather long note about alpha  x    1,234,567
beta   short                           yy           8
"
        );
        assert_eq!(widest(&whole), 53);
        assert_eq!(text(&t, Some(53)), whole);
        assert_eq!(text(&t, Some(500)), whole);
        // Declared columns that are not in the table, and numbers named abbreviable, are ignored.
        assert_eq!((t.drop_order.as_slice(), t.abbreviable.as_slice()), (&[2, 1][..], &[1][..]));
    }

    #[test]
    fn cutting_comes_before_leaving_out() {
        let t = sample();
        // 3 over: the note loses 3 characters, its `…` included; nothing is left out.
        assert_eq!(
            text(&t, Some(50)),
            "name   note                         tag          n
──────────────────────────────────────────────────
alpha  a rather long note about a…  x    1,234,567
beta   short                        yy           8
"
        );
        // The note at its floor (16) makes 39: down to 39 it is cut, and every column stays.
        let at_floor = text(&t, Some(39));
        assert_eq!(widest(&at_floor), 39);
        assert!(at_floor.contains("  a rather long n…  x  "), "{at_floor}");
    }

    #[test]
    fn columns_are_left_out_least_important_first() {
        let t = sample();
        // 38: even a 16-character note is too wide, so the tag goes and the note gets its room back (as much
        // as fits; no space is left before the `…`).
        assert_eq!(
            text(&t, Some(38)),
            "name   note                         n
─────────────────────────────────────
alpha  a rather long note…  1,234,567
beta   short                        8
"
        );
        // 20: the note goes too; name and n are the key, a number is never cut, and what is left fits.
        assert_eq!(text(&t, Some(20)), "name           n\n────────────────\nalpha  1,234,567\nbeta           8\n");
    }

    #[test]
    fn the_key_is_never_left_out_even_when_too_wide() {
        let t = sample();
        let narrow = text(&t, Some(5));
        assert_eq!(narrow, text(&t, Some(20)));
        assert_eq!(widest(&narrow), 16);
    }

    #[test]
    fn cuts_are_even_widest_first_and_never_below_the_floor() {
        let mut t = Table::new(&["a", "b", "c"], &[]);
        t.row(vec!["x".repeat(30), "y".repeat(34), "z".repeat(10)]);
        t.may_abbreviate(&["a", "b", "c"]);
        // 78 wide; at 60 the 34 is cut to 30 first, then both are cut evenly to 23; the 10 is left alone.
        let fitted = t.fit(60);
        assert_eq!(
            fitted.rows[0],
            vec![format!("{}…", "x".repeat(22)), format!("{}…", "y".repeat(22)), "z".repeat(10)]
        );
        // At 10 both stop at their floor: 16 characters.
        let fitted = t.fit(10);
        assert_eq!(
            fitted.rows[0],
            vec![format!("{}…", "x".repeat(15)), format!("{}…", "y".repeat(15)), "z".repeat(10)]
        );
        // A header wider than 16 is the floor: headers are never cut.
        let mut t = Table::new(&["a very long header indeed", "n"], &["n"]);
        t.row(vec!["y".repeat(40), "1".into()]);
        t.may_abbreviate(&["a very long header indeed"]);
        assert_eq!(t.fit(10).rows[0], vec![format!("{}…", "y".repeat(24)), "1".into()]);
    }

    #[test]
    fn cuts_count_characters_and_keep_rules_and_escapes() {
        let mut t = Table::new(&["who", "where", "cost"], &["cost"]);
        t.row(vec!["Zoë".into(), "Zürich, Genève, Montréal, Québec".into(), "$1.00".into()]);
        t.rule();
        t.row(vec!["all".into(), "x\ny\u{1b}[31m and so on, and so on".into(), "$2.00".into()]);
        t.may_abbreviate(&["where"]);
        let out = text(&t, Some(30));
        assert_eq!(
            out,
            "who  where                cost
──────────────────────────────
Zoë  Zürich, Genève, M…  $1.00
──────────────────────────────
all  x\\ny\\u{1b}[31m an…  $2.00
"
        );
        assert_eq!(widest(&out), 30);
        // Markdown is never fitted.
        let mut md = Vec::new();
        t.render_markdown(&mut md).unwrap();
        assert!(String::from_utf8(md).unwrap().contains("Montréal, Québec"));
    }

    #[test]
    fn markdown_with_code_keeps_backtick_spans_as_code() {
        assert_eq!(
            markdown_with_code("give it `tt-sum --period today --by agent` rows, not *these*"),
            "give it `tt-sum --period today --by agent` rows, not \\*these\\*"
        );
        // Code is not escaped; a span holding a backtick gets a longer fence; an unclosed run is text.
        assert_eq!(markdown_with_code("``a ` b`` and `x_y*`"), "``a ` b`` and `x_y*`");
        assert_eq!(markdown_with_code("`` `a` ``"), "`` `a` ``");
        assert_eq!(markdown_with_code("a ` b"), "a \\` b");
        assert_eq!(markdown_with_code("``a`"), "\\`\\`a\\`");
        // Control characters are shown, inside code and out (where the backslash is escaped in turn).
        assert_eq!(markdown_with_code("`a\nb` c\n"), "`a\\nb` c\\\\n");
    }
}
