//! GitHub Actions: workflow commands and the job summary, the pieces every tool shares.
//!
//! The runner reads workflow commands (`::error title=…::message`) from a step's stdout and stderr; tt writes
//! them on stderr so stdout stays data. Their text must be escaped the way the runner unescapes it, or a `%`
//! or a newline in a message (a file name, say) would be garbled or end the command early. The job summary is
//! the markdown file named by `$GITHUB_STEP_SUMMARY`, which steps append to.

use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// True under GitHub Actions: `GITHUB_ACTIONS=true`, as the runner sets it for every step.
pub fn active() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// A workflow command's data (the message after `::`) escaped: `%` → `%25`, CR → `%0D`, LF → `%0A`.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A workflow command's property value (`title=…`) escaped: as [`escape_data`], and also `:` → `%3A` and
/// `,` → `%2C`, which would otherwise end the value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The `::error title=TITLE::MESSAGE` command, both parts escaped, without a newline.
pub fn error_command(title: &str, message: &str) -> String {
    format!("::error title={}::{}", escape_property(title), escape_data(message))
}

/// The job summary file: `$GITHUB_STEP_SUMMARY` when it is set and not empty.
pub fn summary_path() -> Option<PathBuf> {
    std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()).map(PathBuf::from)
}

/// Append `markdown` to the job summary file, if there is one (steps share the file, so never truncate it).
pub fn append_summary(markdown: &str) -> Result<()> {
    let Some(p) = summary_path() else { return Ok(()) };
    let mut f =
        std::fs::OpenOptions::new().create(true).append(true).open(&p).map_err(|e| Error::io(p.display(), e))?;
    f.write_all(markdown.as_bytes()).map_err(|e| Error::io(p.display(), e))
}

/// The job summary section for an error that left a step without an answer: `### HEADING`, then
/// `**LEAD:** message`, the message as markdown in which its backtick spans stay code (`tt-sum --by agent`).
pub fn error_section(heading: &str, lead: &str, message: &str) -> String {
    format!(
        "### {}\n\n**{}:** {}\n\n",
        crate::output::markdown_text(heading),
        crate::output::markdown_text(lead),
        crate::output::markdown_with_code(message)
    )
}

/// The budget gate's workflow commands, one line each: an `::error` per failure, a `::warning` (or `::error`
/// when over) per budget at warning or above that did not fail, a `::warning` per note (a budget not checked,
/// spend not priced). Text from the log is escaped, so a name never ends a command early.
pub fn gate_commands(
    evals: &[crate::budget::Evaluation],
    failures: &[crate::budget::gate::Failure],
    notes: &[crate::budget::gate::Note],
) -> String {
    use crate::budget::Level;
    use std::fmt::Write as _;
    let title = |name: &str| format!("tt budget {}", escape_property(name));
    let mut out = String::new();
    for f in failures {
        let _ = writeln!(out, "::error title={}::{}", title(&f.budget), escape_data(&f.message));
    }
    for e in evals.iter().filter(|e| e.level >= Level::Warning && !failures.iter().any(|f| f.budget == e.name)) {
        let cmd = if e.level == Level::Over { "error" } else { "warning" };
        let mut msg = format!("budget {} is {} at {}%: {}", e.name, e.level.as_str(), e.percent(), e.spent_text());
        if let Some(f) = &e.forecast
            && f.level == Level::Over
        {
            msg.push_str(&format!("; projected {}", e.projected_text()));
        }
        let _ = writeln!(out, "::{cmd} title={}::{}", title(&e.name), escape_data(&msg));
    }
    for n in notes {
        let t = n.budget.as_deref().map_or_else(|| "tt budget".to_string(), title);
        let _ = writeln!(out, "::warning title={t}::{}", escape_data(&n.message));
    }
    out
}

/// The budget gate's job summary section: the budgets as a markdown table, the chart of the most used budget
/// when there is one (a Mermaid `xychart-beta`, see `crate::chart::mermaid`), then the warnings and, when it
/// failed, why — every message as markdown in which its backtick spans stay code.
pub fn gate_summary(
    evals: &[crate::budget::Evaluation],
    failures: &[crate::budget::gate::Failure],
    notes: &[crate::budget::gate::Note],
    chart: Option<&crate::chart::Chart>,
) -> Result<String> {
    use crate::output::markdown_with_code;
    let mut md = Vec::new();
    writeln!(md, "### Token budgets\n")?;
    if evals.is_empty() {
        writeln!(md, "No budget was checked (see the job log for why).")?;
    } else {
        crate::budget::render::table(evals).render_markdown(&mut md)?;
    }
    writeln!(md)?;
    if let Some(c) = chart {
        crate::chart::mermaid::write(&mut md, c)?;
        writeln!(md)?;
    }
    if !notes.is_empty() {
        writeln!(md, "Warnings (budgets not checked, spend that could not be priced):\n")?;
        for n in notes {
            writeln!(md, "- {}", markdown_with_code(&n.message))?;
        }
        writeln!(md)?;
    }
    if !failures.is_empty() {
        writeln!(md, "**The budget gate failed:**\n")?;
        for f in failures {
            writeln!(md, "- {}", markdown_with_code(&f.message))?;
        }
        writeln!(md)?;
    }
    Ok(String::from_utf8_lossy(&md).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_and_properties_are_escaped_as_the_runner_unescapes_them() {
        assert_eq!(escape_data("100% of a\r\nb: c, d"), "100%25 of a%0D%0Ab: c, d");
        assert_eq!(escape_property("100% of a\r\nb: c, d"), "100%25 of a%0D%0Ab%3A c%2C d");
        // `%` first, so an escape is never escaped again.
        assert_eq!(escape_data("%0A"), "%250A");
        assert_eq!(error_command("tt-sum", "a:b, 5%"), "::error title=tt-sum::a:b, 5%25");
        assert_eq!(error_command("x: y, z", "m"), "::error title=x%3A y%2C z::m");
    }

    #[test]
    fn error_sections_keep_command_hints_as_code() {
        assert_eq!(
            error_section("Token budgets", "The budget gate could not decide", "run `tt-sum --by agent` on *rows*"),
            "### Token budgets\n\n**The budget gate could not decide:** run `tt-sum --by agent` on \\*rows\\*\n\n"
        );
    }
}
