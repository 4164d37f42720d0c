//! A [`Chart`] as a Mermaid `xychart-beta` in a fenced block, for markdown: tt-sum's `--format markdown
//! --chart` and tt-budget's GitHub job summary (GitHub renders Mermaid in job summaries and markdown files,
//! GitLab in markdown).
//!
//! ````text
//! ```mermaid
//! xychart-beta
//!     title "team-monthly: spend per day of the month from 2026-11-01"
//!     x-axis "day" ["11-01", "11-02"]
//!     y-axis "USD" 0 --> 12
//!     bar [1.5, 10]
//!     line [1.6667, 1.6667]
//! ```
//! ````
//!
//! One bar series of the buckets' totals (Mermaid draws several bar series side by side, not stacked) and, with
//! a budget, a line of its share per bucket. Amounts are written exactly to four places (tokens whole).
//!
//! Text from a log or a config goes only into the title, inside quotes that Mermaid cannot escape: it keeps
//! letters, digits, blanks and plain punctuation, and anything else (`"`, newlines, `#`, `;`, `%`, backticks,
//! markup) becomes a blank, so a name can neither end the string nor start a directive, an entity or HTML.

use std::io::Write;

use rust_decimal::Decimal;

use super::{Chart, Measure};
use crate::error::Result;
use crate::money;
use crate::period::Unit;

/// A title for a Mermaid string: one line of letters, digits, blanks and `- _ . , : / ( ) + = @ $ € → …`,
/// anything else a blank, blanks squeezed, at most 100 characters.
pub fn quote_safe(s: &str) -> String {
    let kept: String =
        s.chars().map(|c| if c.is_alphanumeric() || "-_.,:/()+=@$€→…'".contains(c) { c } else { ' ' }).collect();
    let squeezed = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    match squeezed.char_indices().nth(100) {
        Some((i, _)) => format!("{}…", &squeezed[..i]),
        None => squeezed,
    }
}

/// An amount for Mermaid: dollars rounded half away from zero to four places, tokens whole, no exponent and no
/// trailing zeros.
fn number(measure: Measure, d: Decimal) -> String {
    let places = if measure == Measure::Usd { 4 } else { 0 };
    money::canonical(d.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero))
}

/// The top of the y axis: the largest amount rounded up to 1, 2 or 5 times a power of ten (at least 1), so the
/// axis has round ticks and the tallest bar or line stays inside.
pub fn axis_top(max: Decimal) -> Decimal {
    // The HTML chart's rule (1, 2 or 5 times a power of ten), from $1 up.
    super::nice_top(max.max(Decimal::ONE)).0
}

/// A bucket's key as an axis label: days without their year when every bucket is in the same year.
fn tick(chart: &Chart, key: &str) -> String {
    let one_year = chart.buckets.first().zip(chart.buckets.last()).is_some_and(|(a, b)| a.key[..4] == b.key[..4]);
    match chart.unit {
        Unit::Day | Unit::Week if one_year && key.len() == 10 => key[5..].to_string(),
        _ => key.to_string(),
    }
}

/// The chart as a fenced `mermaid` block (with its closing fence and a newline).
pub fn write(out: &mut impl Write, chart: &Chart) -> Result<()> {
    let axis = match chart.measure {
        Measure::Usd => "USD",
        Measure::Tokens => "tokens",
    };
    let list = |items: Vec<String>| items.join(", ");
    writeln!(out, "```mermaid")?;
    writeln!(out, "xychart-beta")?;
    writeln!(out, "    title \"{}\"", quote_safe(&chart.title))?;
    let ticks: Vec<String> = chart.buckets.iter().map(|b| format!("\"{}\"", tick(chart, &b.key))).collect();
    writeln!(out, "    x-axis \"{}\" [{}]", chart.unit.as_str(), list(ticks))?;
    writeln!(out, "    y-axis \"{axis}\" 0 --> {}", number(chart.measure, axis_top(chart.max())))?;
    writeln!(out, "    bar [{}]", list(chart.buckets.iter().map(|b| number(chart.measure, b.total())).collect()))?;
    if chart.buckets.iter().any(|b| b.limit.is_some()) {
        let line = chart.buckets.iter().map(|b| number(chart.measure, b.limit.unwrap_or_default())).collect();
        writeln!(out, "    line [{}]", list(line))?;
    }
    writeln!(out, "```")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_cannot_end_their_string_or_start_anything() {
        assert_eq!(quote_safe("team \"x\"\n%%{init}%% <b>#quot;; `y`"), "team x init b quot y");
        assert_eq!(quote_safe("ATLAS: spend per day, 2026-11-01 → (UTC)"), "ATLAS: spend per day, 2026-11-01 → (UTC)");
        assert_eq!(quote_safe(&"x".repeat(150)).chars().count(), 101);
    }

    #[test]
    fn axis_tops_are_round_and_hold_the_largest() {
        let d = |s: &str| money::parse_decimal(s).unwrap();
        for (max, top) in
            [("0", "1"), ("0.3", "1"), ("1", "1"), ("1.01", "2"), ("12.34", "20"), ("60", "100"), ("4999", "5000")]
        {
            assert_eq!(money::canonical(axis_top(d(max))), top, "{max}");
        }
    }
}
