//! The report's pictures as inline SVG: stacked bars of spend over time, and budget gauges.
//!
//! Both are plain functions of exact values: amounts come in as `Decimal`s and every coordinate is computed in
//! decimals and rounded to two places once, at the end — so the same data always draws the same bytes (golden
//! files stay stable) and no float ever touches money. Stacks are drawn from their running sums (each segment
//! ends where the exact sum so far ends), so rounding never opens a gap or an overlap between segments.
//!
//! Colours are CSS classes (`s0` … `s7`, `lvl-…`) that the document's stylesheet defines, so a legend swatch and
//! its bars are one colour by construction. Every element the browser test counts carries a data attribute:
//! `data-bar` on each drawn segment, `data-gauge` on each gauge. Text inside (tooltips, labels) is escaped
//! with [`super::escape`] by this module; callers pass raw strings.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::escape;
use crate::money;

/// How many series a chart colours apart; the rest are summed into one "other" series (the legend names them).
pub const SERIES: usize = 7;

/// One series of a stacked chart: its name and one amount per bucket (same length as the chart's labels).
#[derive(Debug, Clone)]
pub struct Series {
    /// Shown in the legend and the tooltips.
    pub name: String,
    /// One amount per bucket.
    pub values: Vec<Decimal>,
}

/// The drawing area of a chart, in viewBox units.
const WIDTH: i64 = 640;
const LEFT: i64 = 56;
const RIGHT: i64 = 8;
const TOP: i64 = 10;
const PLOT: i64 = 180;
const HEIGHT: i64 = TOP + PLOT + 28;

/// A decimal as an SVG number: two places at most, no trailing zeros (`12.5`, `3`).
fn num(d: Decimal) -> String {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero).normalize().to_string()
}

/// A tick label: dollars with as few places as the value needs (`$0`, `$0.25`, `$1,000`).
fn tick_label(v: Decimal) -> String {
    let v = v.normalize();
    let places = v.scale().max(if v.fract().is_zero() { 0 } else { 2 });
    let s = money::fixed(v, places);
    format!("${s}")
}

/// A stacked bar chart: one column per label, one segment per series with a non-zero amount there. `title`
/// names the chart for screen readers; `labels` are the buckets' axis texts, `tips` their full names (for
/// tooltips). Returns the `<svg>` element, or `None` when there is nothing above zero to draw.
pub fn stacked_bars(title: &str, labels: &[String], tips: &[String], series: &[Series]) -> Option<String> {
    let n = labels.len();
    let sums: Vec<Decimal> =
        (0..n).map(|i| series.iter().filter_map(|s| s.values.get(i)).fold(Decimal::ZERO, |a, v| a + *v)).collect();
    let max = sums.iter().copied().max().filter(|m| *m > Decimal::ZERO)?;
    let (top, step) = crate::chart::nice_top(max);
    let mut s = String::with_capacity(2048 + n * series.len() * 160);
    let _ = write!(
        s,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\">",
        escape(title)
    );
    // Grid lines and their dollar labels.
    let plot = Decimal::from(PLOT);
    let bottom = Decimal::from(TOP + PLOT);
    let mut tick = Decimal::ZERO;
    while tick <= top {
        let y = num(bottom - tick * plot / top);
        let _ = write!(
            s,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/><text class=\"tick\" x=\"{}\" \
             y=\"{y}\" dy=\"3\" text-anchor=\"end\">{}</text>",
            WIDTH - RIGHT,
            LEFT - 4,
            escape(&tick_label(tick))
        );
        tick += step;
    }
    let slot = Decimal::from(WIDTH - LEFT - RIGHT) / Decimal::from(n.max(1) as u64);
    let bar = (slot * Decimal::new(7, 1)).min(Decimal::from(48));
    // Axis labels: at most about a dozen, evenly spaced, so they never overlap.
    let every = n.div_ceil(12).max(1);
    for (i, label) in labels.iter().enumerate() {
        let x0 = Decimal::from(LEFT) + slot * Decimal::from(i as u64) + (slot - bar) / Decimal::TWO;
        let mut below = Decimal::ZERO;
        for (k, ser) in series.iter().enumerate() {
            let v = ser.values.get(i).copied().unwrap_or_default();
            if v <= Decimal::ZERO {
                continue;
            }
            let y_low = bottom - below * plot / top;
            below += v;
            let y_high = bottom - below * plot / top;
            let tip =
                format!("{} · {} · {}", tips.get(i).map_or(label.as_str(), String::as_str), ser.name, money::usd(v));
            let _ = write!(
                s,
                "<rect data-bar class=\"s{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
                k.min(SERIES),
                num(x0),
                num(y_high),
                num(bar),
                // From the rounded ends, so stacked segments meet exactly.
                num(num_dec(y_low) - num_dec(y_high)),
                escape(&tip)
            );
        }
        if i % every == 0 {
            let _ = write!(
                s,
                "<text class=\"label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num(x0 + bar / Decimal::TWO),
                TOP + PLOT + 16,
                escape(label)
            );
        }
    }
    let _ = write!(
        s,
        "<line class=\"axis\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
        WIDTH - RIGHT,
        TOP + PLOT,
        TOP + PLOT
    );
    s.push_str("</svg>");
    Some(s)
}

/// A coordinate rounded as [`num`] writes it, kept as a decimal.
fn num_dec(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// What a gauge shows: the fraction used of the (most used) limit, its level, and the projected fraction at the
/// window's end, if there is one.
#[derive(Debug, Clone)]
pub struct Gauge<'a> {
    /// The budget's name (for the attribute and the screen-reader label).
    pub name: &'a str,
    /// Fraction of the limit used (1 is the limit).
    pub fraction: Decimal,
    /// The same as a percentage, as the budget's evaluation says it (`Evaluation::percent`): the label and the
    /// page's text never disagree.
    pub percent: Decimal,
    /// `ok`, `info`, `warning`, `critical`, `over`.
    pub level: &'a str,
    /// Projected fraction at the window's end, and its percentage (`Evaluation::projected_percent`).
    pub projected: Option<(Decimal, Decimal)>,
    /// The level the projection reaches.
    pub projected_level: Option<&'a str>,
}

const GAUGE_W: i64 = 400;

/// A horizontal gauge: the track is the limit (or up to twice it when spend or the forecast passes it, with a
/// mark where the limit is), the fill what is spent, a dashed mark where the forecast lands.
pub fn gauge(g: &Gauge<'_>) -> String {
    let two = Decimal::TWO;
    let scale = g.fraction.max(g.projected.map(|p| p.0).unwrap_or_default()).clamp(Decimal::ONE, two);
    let w = Decimal::from(GAUGE_W);
    let at = |f: Decimal| num(f.clamp(Decimal::ZERO, scale) * w / scale);
    let pct = |p: Decimal| format!("{}%", p.normalize());
    let mut label = format!("{}: {} of the limit used", g.name, pct(g.percent));
    if let Some((_, p)) = g.projected {
        let _ = write!(label, ", {} projected", pct(p));
    }
    let mut s = String::with_capacity(600);
    let _ = write!(
        s,
        "<svg class=\"gauge\" data-gauge=\"{}\" data-level=\"{}\" viewBox=\"0 0 {GAUGE_W} 26\" role=\"img\" \
         aria-label=\"{}\"><rect class=\"track\" x=\"0\" y=\"5\" width=\"{GAUGE_W}\" height=\"14\" rx=\"3\"/>",
        escape(g.name),
        escape(g.level),
        escape(&label)
    );
    if g.fraction > Decimal::ZERO {
        let _ = write!(
            s,
            "<rect class=\"fill lvl-{}\" x=\"0\" y=\"5\" width=\"{}\" height=\"14\" rx=\"3\"/>",
            escape(g.level),
            at(g.fraction)
        );
    }
    if scale > Decimal::ONE {
        let x = at(Decimal::ONE);
        let _ = write!(s, "<line class=\"limit\" x1=\"{x}\" x2=\"{x}\" y1=\"1\" y2=\"23\"/>");
    }
    if let Some((p, percent)) = g.projected {
        let x = at(p);
        let _ = write!(
            s,
            "<line class=\"forecast lvl-{}\" x1=\"{x}\" x2=\"{x}\" y1=\"1\" y2=\"25\"><title>{}</title></line>",
            escape(g.projected_level.unwrap_or(g.level)),
            escape(&format!("projected: {}", pct(percent)))
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap_or_default()
    }

    #[test]
    fn axis_tops_are_nice_and_cover_the_maximum() {
        assert_eq!(crate::chart::nice_top(d("0.653")), (d("1"), d("0.2")));
        assert_eq!(crate::chart::nice_top(d("0.2")), (d("0.2"), d("0.05")));
        assert_eq!(crate::chart::nice_top(d("0.21")), (d("0.5"), d("0.1")));
        assert_eq!(crate::chart::nice_top(d("7")), (d("10"), d("2")));
        assert_eq!(crate::chart::nice_top(d("1234")), (d("2000"), d("500")));
        assert_eq!(crate::chart::nice_top(d("0.0000001")), (d("0.0000001"), d("0.00000002")));
    }

    #[test]
    fn stacks_meet_exactly_and_skip_zero_segments() {
        let series = vec![
            Series { name: "a".into(), values: vec![d("0.1"), d("0")] },
            Series { name: "b".into(), values: vec![d("0.2"), d("0.3")] },
        ];
        let svg = stacked_bars("t", &["x".into(), "y".into()], &["x".into(), "y".into()], &series).unwrap_or_default();
        assert_eq!(svg.matches("data-bar").count(), 3);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        // Nothing to draw: no chart.
        let zero = vec![Series { name: "a".into(), values: vec![d("0")] }];
        assert!(stacked_bars("t", &["x".into()], &["x".into()], &zero).is_none());
    }

    #[test]
    fn names_in_pictures_are_escaped() {
        let series = vec![Series { name: "</svg><script>x</script>".into(), values: vec![d("1")] }];
        let svg = stacked_bars("\"onload=", &["<b>".into()], &["<b>".into()], &series).unwrap_or_default();
        assert!(!svg.contains("<script") && !svg.contains("<b>") && !svg.contains("\"onload"), "{svg}");
        let g = gauge(&Gauge {
            name: "'onmouseover='x",
            fraction: d("1.5"),
            percent: d("150"),
            level: "over",
            projected: Some((d("3"), d("300"))),
            projected_level: Some("over"),
        });
        assert!(!g.contains("'onmouseover"), "{g}");
        assert_eq!(g.matches("data-gauge").count(), 1);
    }
}
