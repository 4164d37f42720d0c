//! A [`Chart`] as horizontal bars on a terminal: one line per bucket — its key, its bar, its amount — with the
//! budget's share drawn in as a rule across the bars.
//!
//! ```text
//! 2026-11-04  ████████▌         │             $4.20
//! 2026-11-05  ██████████████████│██████▍     $11.85
//! ```
//!
//! Bars are scaled to the largest amount drawn (a bucket's total or its budget share), so the longest bar or
//! the budget rule reaches the right edge. A bar is whole cells and a last cell of eighths (`▏▎▍▌▋▊▉`); an
//! amount that is not 0 never draws as nothing. Stacked bars are whole cells per series, cut at the rounded
//! running sums so the bar's length is its total's; series are told apart by glyph (`█▓▒░▚`) or, on a
//! terminal that takes colour, by colour. The budget's share is a `│` in the cell where it ends, drawn across
//! a bar that passes it; the share of the bucket gone by (the current one) a `┆`.
//!
//! Without UTF-8 ([`Style::detect`]: `--ascii`, or a locale that is not UTF-8) the glyphs are ASCII: `#` for
//! bars (`#=+~.` per series), `|` and `:` for the rules. Colour only when stdout is a terminal, `NO_COLOR` is
//! unset or empty and `TERM` is set and not `dumb`. Lines never exceed the width: amounts are left out before
//! bars become unreadable, and any line still too long is cut.

use std::io::Write;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::{Chart, MAX_SERIES, label};
use crate::error::Result;

/// The narrowest width `--width` takes.
pub const MIN_WIDTH: usize = 20;

/// `--width`, checked: a usage error below [`MIN_WIDTH`], saying what could not be drawn (`what`: "a chart",
/// "the gauges").
pub fn check_width(width: Option<usize>, what: &str) -> Result<()> {
    match width {
        Some(w) if w < MIN_WIDTH => {
            Err(crate::error::Error::usage(format!("--width {w} is too narrow for {what} (at least {MIN_WIDTH})")))
        }
        _ => Ok(()),
    }
}

/// How to draw: glyphs, colour, width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Unicode blocks and rules (else ASCII).
    pub unicode: bool,
    /// ANSI colour.
    pub color: bool,
    /// Columns to fit.
    pub width: usize,
}

impl Style {
    /// The style for stdout: Unicode unless `ascii` or the locale is not UTF-8 ([`locale_is_utf8`]), colour when
    /// [`color_allowed`], `width` if given, else `COLUMNS` or the terminal's width, else 80.
    pub fn detect(ascii: bool, width: Option<usize>) -> Style {
        Style {
            unicode: !ascii && locale_is_utf8(),
            color: color_allowed(),
            width: width.or_else(crate::output::table_width).unwrap_or(80),
        }
    }
}

/// True when the locale's character set is UTF-8: the first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set and not
/// empty decides, as the C library reads them; none set is the C locale, which is ASCII.
pub fn locale_is_utf8() -> bool {
    ["LC_ALL", "LC_CTYPE", "LANG"].iter().find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty())).is_some_and(
        |v| {
            let v = v.to_ascii_lowercase();
            v.contains("utf-8") || v.contains("utf8")
        },
    )
}

/// True when colour may be used: stdout is a terminal, `NO_COLOR` is unset or empty (no-color.org), and `TERM`
/// names a terminal that is not `dumb`.
pub fn color_allowed() -> bool {
    crate::output::stdout_is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").is_ok_and(|t| !t.is_empty() && t != "dumb")
}

/// One cell: a character and its colour (an SGR code).
#[derive(Debug, Clone, Copy)]
pub(super) struct Cell(pub(super) char, pub(super) Option<&'static str>);

/// Partial blocks, one to seven eighths of a cell.
pub(super) const EIGHTHS: [char; 8] = [' ', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const SERIES_UNICODE: [char; MAX_SERIES] = ['█', '▓', '▒', '░', '▚'];
const SERIES_ASCII: [char; MAX_SERIES] = ['#', '=', '+', '~', '.'];
/// Blue, yellow, magenta, cyan, green; red is the budget's.
const SERIES_COLORS: [&str; MAX_SERIES] = ["34", "33", "35", "36", "32"];
const LIMIT_COLOR: &str = "31";
const SO_FAR_COLOR: &str = "90";

impl Style {
    fn series_glyph(&self, i: usize) -> Cell {
        let i = i.min(MAX_SERIES - 1);
        let color = self.color.then_some(SERIES_COLORS[i]);
        match (self.unicode, self.color) {
            (true, true) => Cell('█', color),
            (true, false) => Cell(SERIES_UNICODE[i], None),
            (false, _) => Cell(SERIES_ASCII[i], color),
        }
    }
    fn limit(&self) -> Cell {
        Cell(if self.unicode { '│' } else { '|' }, self.color.then_some(LIMIT_COLOR))
    }
    fn so_far(&self) -> Cell {
        Cell(if self.unicode { '┆' } else { ':' }, self.color.then_some(SO_FAR_COLOR))
    }
}

/// `v` of `max` in eighths of `cells` cells, rounded half up; an amount above 0 is at least one eighth.
pub fn eighths(v: Decimal, max: Decimal, cells: usize) -> usize {
    if v <= Decimal::ZERO || max <= Decimal::ZERO {
        return 0;
    }
    let all = cells * 8;
    let e = v
        .checked_mul(Decimal::from(all))
        .and_then(|x| x.checked_div(max))
        .map(|x| x.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
        .and_then(|x| x.to_usize())
        .unwrap_or(all);
    e.clamp(1, all)
}

/// The cell in which `v` of `max` ends over `cells` cells: a rule drawn there is passed by any bar of `v` or more.
pub fn rule_cell(v: Decimal, max: Decimal, cells: usize) -> usize {
    if max <= Decimal::ZERO || cells == 0 {
        return 0;
    }
    let at = v.checked_mul(Decimal::from(cells)).and_then(|x| x.checked_div(max)).map(|x| x.ceil());
    at.and_then(|x| x.to_usize()).unwrap_or(cells).clamp(1, cells) - 1
}

/// The bar of one bucket, `cells` wide (padded with blanks).
fn bar(values: &[Decimal], max: Decimal, cells: usize, style: &Style) -> Vec<Cell> {
    let mut out = Vec::with_capacity(cells);
    if values.len() <= 1 {
        let e = eighths(values.first().copied().unwrap_or_default(), max, cells);
        let (full, part) = if style.unicode { (e / 8, e % 8) } else { (((e + 4) / 8).max(usize::from(e > 0)), 0) };
        out.extend(std::iter::repeat_n(style.series_glyph(0), full));
        if part > 0 {
            out.push(Cell(EIGHTHS[part], None));
        }
    } else {
        // Whole cells per series, cut at the rounded running sums: the bar is as long as its total's.
        let mut sum = Decimal::ZERO;
        let mut done = 0;
        for (i, v) in values.iter().enumerate() {
            sum += *v;
            let upto = (eighths(sum, max, cells) + 4) / 8;
            let upto = if sum > Decimal::ZERO { upto.max(1) } else { 0 };
            out.extend(std::iter::repeat_n(style.series_glyph(i), upto.saturating_sub(done)));
            done = done.max(upto);
        }
    }
    out.truncate(cells);
    out.resize(cells, Cell(' ', None));
    out
}

pub(super) fn text_cells(s: &str) -> Vec<Cell> {
    s.chars().map(|c| Cell(c, None)).collect()
}

/// Cells as a line: colour runs opened and closed, trailing blanks dropped, at most `width` cells (a line cut
/// ends in `…`, or `~` in an ASCII line).
pub(super) fn line(mut cells: Vec<Cell>, width: usize) -> String {
    if cells.len() > width {
        let mark = if cells.iter().all(|c| c.0.is_ascii()) { '~' } else { '…' };
        cells.truncate(width.saturating_sub(1));
        cells.push(Cell(mark, None));
    }
    while cells.last().is_some_and(|c| c.0 == ' ' && c.1.is_none()) {
        cells.pop();
    }
    let mut s = String::new();
    let mut open: Option<&str> = None;
    for Cell(c, color) in cells {
        if color != open {
            if open.is_some() {
                s.push_str("\x1b[0m");
            }
            if let Some(code) = color {
                s.push_str(&format!("\x1b[{code}m"));
            }
            open = color;
        }
        s.push(c);
    }
    if open.is_some() {
        s.push_str("\x1b[0m");
    }
    s
}

/// Text after `lead` (a glyph and a blank, or nothing) in lines of at most `width` cells, broken between words;
/// the lines after the first are indented as far as the text starts. A word longer than a line is cut.
fn wrapped(lead: Vec<Cell>, text: &str, width: usize) -> Vec<String> {
    let indent = lead.len();
    let mut out = Vec::new();
    let mut row = lead;
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let n = word.chars().count();
        if !empty && row.len() + 1 + n > width {
            out.push(line(std::mem::take(&mut row), width));
            row = vec![Cell(' ', None); indent];
            empty = true;
        }
        if !empty {
            row.push(Cell(' ', None));
        }
        row.extend(text_cells(word));
        empty = false;
    }
    out.push(line(row, width));
    out
}

/// Text for a line in `style`: as it is in Unicode; in ASCII, `→` as `->`, `…` as `...` and any other character
/// that is not ASCII as `?` (a terminal that is not UTF-8 would show its bytes as garbage).
pub(super) fn styled(style: &Style, s: &str) -> String {
    if style.unicode || s.is_ascii() {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '→' => out.push_str("->"),
            '…' => out.push_str("..."),
            c if c.is_ascii() => out.push(c),
            _ => out.push('?'),
        }
    }
    out
}

/// The chart's lines, without newlines.
pub fn lines(chart: &Chart, style: &Style) -> Vec<String> {
    let width = style.width.max(1);
    let label = |s: &str| styled(style, &label(s));
    let mut out = wrapped(Vec::new(), &label(&chart.title), width);
    if chart.buckets.is_empty() {
        out.extend(wrapped(Vec::new(), "nothing to chart: no records in this window", width));
        return out;
    }
    // The legend of the series, as many to a line as fit.
    if !chart.series.is_empty() {
        let mut row: Vec<Cell> = Vec::new();
        for (i, name) in chart.series.iter().enumerate() {
            let mut item = vec![style.series_glyph(i), Cell(' ', None)];
            item.extend(text_cells(&label(name)));
            if !row.is_empty() && row.len() + 2 + item.len() > width {
                out.push(line(std::mem::take(&mut row), width));
            }
            if !row.is_empty() {
                row.extend(text_cells("  "));
            }
            row.extend(item);
        }
        out.push(line(row, width));
    }
    let labels: Vec<String> = chart.buckets.iter().map(|b| label(&b.key)).collect();
    let amounts: Vec<String> = chart.buckets.iter().map(|b| chart.measure.text(b.total())).collect();
    let lw = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let vw = amounts.iter().map(|a| a.chars().count()).max().unwrap_or(0);
    // Bars of at least 10 cells: amounts give way first (a chart without its numbers still shows the shape).
    let (cells, show_amounts) = match width.checked_sub(lw + vw + 4) {
        Some(c) if c >= 10 => (c, true),
        _ => (width.saturating_sub(lw + 2).max(1), false),
    };
    let max = chart.max();
    for ((b, l), a) in chart.buckets.iter().zip(&labels).zip(&amounts) {
        let mut cells_of = bar(&b.values, max, cells, style);
        if let Some(so_far) = b.so_far {
            cells_of[rule_cell(so_far, max, cells)] = style.so_far();
        }
        if let Some(limit) = b.limit {
            cells_of[rule_cell(limit, max, cells)] = style.limit();
        }
        let mut row = text_cells(&format!("{l:<lw$}  "));
        row.extend(cells_of);
        if show_amounts {
            row.extend(text_cells(&format!("  {a:>vw$}")));
        }
        out.push(line(row, width));
    }
    if let Some(bl) = &chart.budget {
        let name = label(&bl.name);
        let limits: Vec<Decimal> = chart.buckets.iter().filter_map(|b| b.limit).collect();
        let per = match limits.first() {
            Some(first) if limits.iter().all(|l| l == first) && *first != bl.limit => {
                format!(": {} a {}", chart.measure.text(*first), chart.unit.as_str())
            }
            Some(first) if *first == bl.limit && limits.iter().all(|l| l == first) => String::new(),
            _ => format!(", pro-rated per {}", chart.unit.as_str()),
        };
        let text = format!("budget {name}: {} a {}{per}", chart.measure.text(bl.limit), bl.period.as_str());
        out.extend(wrapped(vec![style.limit(), Cell(' ', None)], &text, width));
        if chart.buckets.iter().any(|b| b.so_far.is_some()) {
            let text = format!("its share of the {} gone by", chart.unit.as_str());
            out.extend(wrapped(vec![style.so_far(), Cell(' ', None)], &text, width));
        }
        if let Some((spent, pace)) = bl.window {
            let pct = if bl.limit > Decimal::ZERO {
                (spent * Decimal::from(100) / bl.limit).trunc().to_i128().unwrap_or(0)
            } else {
                0
            };
            let how = if spent > pace { "over" } else { "within" };
            let text = format!(
                "{name} this {}: {} of {} ({pct}%); pro-rated to now {}, {how} the pace",
                bl.period.as_str(),
                chart.measure.text(spent),
                chart.measure.text(bl.limit),
                chart.measure.text(pace),
            );
            out.extend(wrapped(Vec::new(), &styled(style, &text), width));
        }
    }
    out
}

/// Write the chart, a newline after each line.
pub fn write(out: &mut impl Write, chart: &Chart, style: &Style) -> Result<()> {
    for l in lines(chart, style) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Bucket, Measure};
    use crate::period::Unit;

    fn d(s: &str) -> Decimal {
        crate::money::parse_decimal(s).unwrap()
    }

    fn chart(values: &[&[&str]], series: &[&str]) -> Chart {
        let t = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        Chart {
            title: "spend per day".into(),
            measure: Measure::Usd,
            unit: Unit::Day,
            series: series.iter().map(|s| s.to_string()).collect(),
            buckets: values
                .iter()
                .enumerate()
                .map(|(i, v)| Bucket {
                    key: format!("2026-11-{:02}", i + 1),
                    start: t,
                    end: t,
                    values: v.iter().map(|x| d(x)).collect(),
                    limit: None,
                    so_far: None,
                })
                .collect(),
            budget: None,
        }
    }

    const PLAIN: Style = Style { unicode: true, color: false, width: 80 };

    #[test]
    fn scaling_is_exact() {
        // The largest fills every cell; half of it exactly half; a third rounds to the nearest eighth.
        assert_eq!(eighths(d("12.34"), d("12.34"), 10), 80);
        assert_eq!(eighths(d("6.17"), d("12.34"), 10), 40);
        assert_eq!(eighths(d("1"), d("3"), 10), 27);
        // Not 0 is never nothing; 0 is.
        assert_eq!(eighths(d("0.0000001"), d("1000000"), 10), 1);
        assert_eq!(eighths(Decimal::ZERO, d("1"), 10), 0);
        assert_eq!(rule_cell(d("1"), d("1"), 10), 9);
        assert_eq!(rule_cell(d("0.5"), d("1"), 10), 4);
        assert_eq!(rule_cell(d("0.51"), d("1"), 10), 5);
    }

    #[test]
    fn bars_use_eighths_and_never_pass_the_width() {
        let c = chart(&[&["1"], &["0.5"], &["0.3"], &["0"]], &[]);
        let l = lines(&c, &Style { width: 40, ..PLAIN });
        assert_eq!(
            l,
            [
                "spend per day",
                "2026-11-01  ███████████████████    $1.00",
                "2026-11-02  █████████▌           $0.5000",
                "2026-11-03  █████▊               $0.3000",
                "2026-11-04                            $0",
            ]
        );
        for w in [1, 5, 12, 20, 33, 80, 200] {
            for line in lines(&c, &Style { width: w, ..PLAIN }) {
                assert!(line.chars().count() <= w, "{w}: {line:?}");
            }
        }
    }

    #[test]
    fn stacked_bars_are_as_long_as_their_total() {
        let c = chart(&[&["1", "1", "2"], &["0.5", "0", "0"]], &["a", "b", "c"]);
        let l = lines(&c, &Style { width: 30, unicode: false, color: false });
        assert_eq!(l[1], "# a  = b  + c");
        // 30 columns leave bars of 9 cells beside the amounts: too short, so the amounts give way. 4 is the largest
        // total: its bar fills the 18 cells, cut at 1/4 (4.5, rounded half up) and 2/4; 0.5 is 2.25 cells.
        assert_eq!(l[2], "2026-11-01  #####====+++++++++");
        assert_eq!(l[3], "2026-11-02  ##");
    }
}
