//! A progress bar on stderr for work that takes a while: records, bytes, rate and time left, redrawn in place.
//!
//! Imports of transcripts (`importing`), merges of logs and bundles (`merging`), exports (`exporting`) and
//! pushes (`pushing`) draw one. The core below only counts (its loops hand the counts to a callback now and
//! then); this module decides whether and when to draw. The rules:
//!
//! * **Only for a person watching**: drawn when stderr is a terminal, never into a pipe or a file, never under
//!   CI (`CI` set, as every CI service sets it: a log full of redraws helps nobody), never with `--quiet`
//!   ([`allowed`]). A tool whose output goes to the same terminal as it works passes `quiet` too: the bar
//!   would be drawn over the output.
//! * **Only for work that takes a while**: nothing before about a second has passed ([`DELAY`]), so a quick run
//!   looks exactly as it did without one, then at most ten redraws a second ([`EVERY`]), whatever the rate of
//!   updates ([`due`]). `TT_PROGRESS_DELAY_MS` replaces the delay; it is for tests, which draw at once.
//! * **Gone at the end**: [`Progress::finish`] (or dropping it, an error included) blanks the line, so what is
//!   printed next (the summary, an error) starts on a clean line.
//!
//! It is written with `\r` and spaces only, no terminal escape codes, so any terminal shows it. This module
//! prints, which is why it sits beside `cli`, above the core that only reports.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How long work runs before a bar appears.
pub const DELAY: Duration = Duration::from_secs(1);

/// The least time between two redraws (about 10 a second).
pub const EVERY: Duration = Duration::from_millis(100);

/// Whether a bar may be drawn at all: not `quiet`, stderr a terminal, and not under CI (`ci` is the value of
/// `CI`; set to anything but empty, `0` or `false`, it means CI).
pub fn allowed(quiet: bool, stderr_is_terminal: bool, ci: Option<&str>) -> bool {
    let in_ci = ci.is_some_and(|v| !v.is_empty() && v != "0" && !v.eq_ignore_ascii_case("false"));
    !quiet && stderr_is_terminal && !in_ci
}

/// The variable that replaces [`DELAY`], in milliseconds (for tests: `0` draws at the first update).
pub const DELAY_VAR: &str = "TT_PROGRESS_DELAY_MS";

/// Whether to redraw now: `elapsed` since the work began, the last redraw `since_last` ago (`None`: never).
pub fn due(elapsed: Duration, since_last: Option<Duration>) -> bool {
    due_after(DELAY, elapsed, since_last)
}

/// [`due`] with another delay before the first drawing.
fn due_after(delay: Duration, elapsed: Duration, since_last: Option<Duration>) -> bool {
    elapsed >= delay && since_last.is_none_or(|d| d >= EVERY)
}

/// The delay before a bar appears: [`DELAY`], or `TT_PROGRESS_DELAY_MS` when that is a number.
fn delay(var: Option<&str>) -> Duration {
    var.and_then(|v| v.trim().parse().ok()).map_or(DELAY, Duration::from_millis)
}

/// A progress bar (see the module docs).
pub struct Progress {
    label: String,
    total_bytes: Option<u64>,
    show: bool,
    delay: Duration,
    start: Instant,
    last: Option<Instant>,
    /// The width of what is on the line now (0: nothing drawn).
    drawn: usize,
}

impl Progress {
    /// A bar for work named `label` (`pushing`), `total_bytes` long when that is known (for the percentage and
    /// the time left); it shows only when [`allowed`] with this process's stderr and environment.
    pub fn new(label: &str, total_bytes: Option<u64>, quiet: bool) -> Progress {
        let ci = std::env::var("CI").ok();
        let show = allowed(quiet, std::io::stderr().is_terminal(), ci.as_deref());
        let delay = delay(std::env::var(DELAY_VAR).ok().as_deref());
        Progress { label: label.to_string(), total_bytes, show, delay, start: Instant::now(), last: None, drawn: 0 }
    }

    /// Whether this bar may be drawn at all (else [`Progress::update`] does nothing): a caller can skip work
    /// done only for the bar, such as finding how many bytes there are to read.
    pub fn shown(&self) -> bool {
        self.show
    }

    /// The total, once known (an import learns how much is left to read only after it has looked).
    pub fn set_total(&mut self, total_bytes: Option<u64>) {
        self.total_bytes = total_bytes;
    }

    /// The work done so far: redrawn when [`due`]. Cheap when it is not, so callers may call it often.
    pub fn update(&mut self, records: u64, bytes: u64) {
        if !self.show {
            return;
        }
        let now = Instant::now();
        if !due_after(self.delay, now - self.start, self.last.map(|l| now - l)) {
            return;
        }
        self.last = Some(now);
        let width = terminal_size::terminal_size_of(std::io::stderr()).map(|(w, _)| usize::from(w.0)).unwrap_or(80);
        let line = render(&self.label, records, bytes, self.total_bytes, now - self.start, width.saturating_sub(1));
        let chars = line.chars().count();
        let pad = self.drawn.saturating_sub(chars);
        let _ = write!(std::io::stderr(), "\r{line}{:pad$}", "");
        self.drawn = chars;
    }

    /// Blank the line if a bar was drawn (also done when dropped).
    pub fn finish(&mut self) {
        if self.drawn > 0 {
            let _ = write!(std::io::stderr(), "\r{:w$}\r", "", w = self.drawn);
            self.drawn = 0;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

/// One line of the bar, at most `width` characters: `pushing [=====>    ] 41% 412,000 records, 118.2 of
/// 287.0 MB, 96,000 records/s, 3 s left` (no bar, percentage or time left when the total is not known).
pub fn render(label: &str, records: u64, bytes: u64, total: Option<u64>, elapsed: Duration, width: usize) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = (records as f64 / secs) as u64;
    let mb = |b: u64| format!("{:.1}", b as f64 / 1e6);
    let counts = format!("{} records", crate::money::thousands(records));
    let mut parts = Vec::new();
    match total.filter(|&t| t > 0) {
        Some(t) => {
            let done = (bytes as f64 / t as f64).min(1.0);
            let left = if bytes == 0 { None } else { Some((t.saturating_sub(bytes)) as f64 * secs / bytes as f64) };
            parts.push(format!("{counts}, {} of {} MB", mb(bytes), mb(t)));
            parts.push(format!("{} records/s", crate::money::thousands(rate)));
            if let Some(left) = left {
                parts.push(format!("{} left", duration(left)));
            }
            let text = format!("{:>3}% {}", (done * 100.0) as u64, parts.join(", "));
            // The bar takes what room is left, up to 30 columns; none when the line is narrow.
            let room = width.saturating_sub(label.chars().count() + text.chars().count() + 4).min(30);
            if room >= 10 {
                let filled = ((room as f64) * done) as usize;
                let arrow = if filled < room { ">" } else { "" };
                let bar = format!("{}{arrow}{}", "=".repeat(filled), " ".repeat(room - filled - arrow.len()));
                return cut(format!("{label} [{bar}] {text}"), width);
            }
            cut(format!("{label} {text}"), width)
        }
        None => {
            parts.push(format!("{counts}, {} MB", mb(bytes)));
            parts.push(format!("{} records/s", crate::money::thousands(rate)));
            cut(format!("{label} {}", parts.join(", ")), width)
        }
    }
}

/// A time left, rounded: `7 s`, `2 min 5 s`, `1 h 3 min`.
fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

fn cut(s: String, width: usize) -> String {
    if s.chars().count() <= width { s } else { s.chars().take(width).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_only_to_a_person_at_a_terminal() {
        assert!(allowed(false, true, None));
        assert!(!allowed(true, true, None), "--quiet");
        assert!(!allowed(false, false, None), "a pipe or a file");
        assert!(!allowed(false, true, Some("true")), "CI");
        assert!(!allowed(false, true, Some("1")));
        assert!(!allowed(false, true, Some("woodpecker")));
        // Set but saying no: not CI.
        assert!(allowed(false, true, Some("")));
        assert!(allowed(false, true, Some("0")));
        assert!(allowed(false, true, Some("false")));
    }

    #[test]
    fn drawn_after_a_second_at_most_ten_times_a_second() {
        let ms = Duration::from_millis;
        assert!(!due(ms(0), None));
        assert!(!due(ms(999), None), "a quick job never shows a bar");
        assert!(due(ms(1000), None));
        assert!(!due(ms(1050), Some(ms(50))), "throttled");
        assert!(due(ms(1100), Some(ms(100))));
        assert!(due(ms(60_000), Some(ms(5_000))));
    }

    #[test]
    fn the_line_says_records_bytes_rate_and_time_left() {
        let s = Duration::from_secs;
        let line = render("pushing", 250_000, 100_000_000, Some(400_000_000), s(2), 200);
        assert_eq!(
            line,
            "pushing [=======>                      ]  25% 250,000 records, 100.0 of 400.0 MB, 125,000 records/s, \
             6 s left"
        );
        // Narrow: no bar, and never wider than the terminal.
        let narrow = render("pushing", 250_000, 100_000_000, Some(400_000_000), s(2), 60);
        assert_eq!(narrow, "pushing  25% 250,000 records, 100.0 of 400.0 MB, 125,000 rec");
        // Unknown total (stdin, a ledger): no percentage, no time left.
        let open = render("pushing", 3_000, 1_500_000, None, s(3), 200);
        assert_eq!(open, "pushing 3,000 records, 1.5 MB, 1,000 records/s");
        // Done.
        let full = render("pushing", 10, 1000, Some(1000), s(1), 100);
        assert!(full.starts_with("pushing [==============================] 100% 10 records"), "{full}");
        assert_eq!(duration(125.4), "2 min 5 s");
        assert_eq!(duration(3780.0), "1 h 3 min");
    }

    /// The line at each point of the work, for fixed inputs: what a person sees from the first redraw to the
    /// last (`check` is the whole expected line).
    #[test]
    fn the_line_from_start_to_end() {
        let check = |label: &str, records, bytes, total, ms, want: &str| {
            let got = render(label, records, bytes, total, Duration::from_millis(ms), 119);
            assert_eq!(got, want, "{label} {records} {bytes} {total:?} {ms} ms");
            assert!(got.chars().count() <= 119);
        };
        // The first redraw: nothing read yet, so no time left.
        check(
            "importing",
            0,
            0,
            Some(52_428_800),
            1000,
            "importing [>                             ]   0% 0 records, 0.0 of 52.4 MB, 0 records/s",
        );
        // Part-way: the time left is the bytes left at the rate so far.
        check(
            "merging",
            120_000,
            13_107_200,
            Some(52_428_800),
            1500,
            "merging [=======>                      ]  25% 120,000 records, 13.1 of 52.4 MB, 80,000 records/s, 5 s \
             left",
        );
        check(
            "exporting",
            1_234_567,
            400_000_000,
            Some(500_000_000),
            61_000,
            "exporting [========================>     ]  80% 1,234,567 records, 400.0 of 500.0 MB, 20,238 records/s, \
             15 s left",
        );
        // A long way to go: minutes, then hours.
        check(
            "importing",
            1_000,
            1_000_000,
            Some(1_000_000_000),
            2000,
            "importing [>                             ]   0% 1,000 records, 1.0 of 1000.0 MB, 500 records/s, 33 min 18 \
             s left",
        );
        // Stdin or a ledger: how much is not known, so neither bar, percentage nor time left.
        check("merging", 42, 8_400, None, 2000, "merging 42 records, 0.0 MB, 21 records/s");
        // All read (the bytes may pass a total taken before a file grew): full, never past 100%.
        check(
            "importing",
            500,
            2_000_000,
            Some(1_500_000),
            1000,
            "importing [==============================] 100% 500 records, 2.0 of 1.5 MB, 500 records/s, 0 s left",
        );
    }

    #[test]
    fn tests_may_draw_at_once() {
        let ms = Duration::from_millis;
        assert_eq!(delay(None), DELAY);
        assert_eq!(delay(Some("0")), ms(0));
        assert_eq!(delay(Some(" 250 ")), ms(250));
        assert_eq!(delay(Some("soon")), DELAY, "not a number: the usual delay");
        assert!(due_after(ms(0), ms(0), None));
        assert!(!due_after(ms(0), ms(30), Some(ms(30))), "still at most ten a second");
    }
}
