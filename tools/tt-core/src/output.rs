//! Where results go: formats, tables, and a stdout that treats a closed pipe as the end, not an error.
//!
//! Default format: a human table when stdout is a terminal, JSONL in a pipe; `--format` overrides. Tables
//! align numbers right and text left. Output is never coloured (so `NO_COLOR` always holds, and piped or
//! captured output never carries escape codes). Table and markdown cells show control and invisible format
//! characters escaped (`\n`, `\u{1b}`, `\u{202e}`): a value read from a log (a session id, a note) can never
//! break a table's rows, move the cursor or send escape codes to the terminal.

use std::io::{BufWriter, Stdout, Write};

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
            None if crate::cli::stdout_is_terminal() => Ok(Format::Table),
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
}

impl Table {
    /// A table with these headers; columns whose header is in `right` align right.
    pub fn new(headers: &[&str], right: &[&str]) -> Table {
        Table {
            headers: headers.iter().map(|s| s.to_string()).collect(),
            align: headers.iter().map(|h| if right.contains(h) { Align::Right } else { Align::Left }).collect(),
            rows: Vec::new(),
            rules_before: Vec::new(),
        }
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
        let mut w: Vec<usize> = self.headers.iter().map(|h| cell_text(h).chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < w.len() {
                    w[i] = w[i].max(cell_text(c).chars().count());
                }
            }
        }
        w
    }

    /// Render as aligned text.
    pub fn render_text(&self, out: &mut impl Write) -> Result<()> {
        let w = self.widths();
        let line = |out: &mut dyn Write, cells: &[String]| -> Result<()> {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let c = cell_text(c);
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

    /// Render as a GitHub-flavoured markdown table.
    pub fn render_markdown(&self, out: &mut impl Write) -> Result<()> {
        let esc = |s: &str| cell_text(s).replace('|', "\\|");
        writeln!(out, "| {} |", self.headers.iter().map(|h| esc(h)).collect::<Vec<_>>().join(" | "))?;
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

/// Neutralise a CSV cell against spreadsheet formula injection: cells starting with `=`, `+`, `-`, `@`, tab or
/// CR get a leading `'` — unless the cell is a plain number (negative amounts must stay numbers).
pub fn csv_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => {
            if cell.starts_with('-') && crate::money::parse_decimal(cell).is_some() && !cell.contains(['e', 'E']) {
                std::borrow::Cow::Borrowed(cell)
            } else {
                std::borrow::Cow::Owned(format!("'{cell}"))
            }
        }
        _ => std::borrow::Cow::Borrowed(cell),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(md.contains("| x\\ny\\u{1b}[31m | 1 |\n| a\\|b | 22 |\n"), "{md}");
    }
}
