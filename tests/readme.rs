//! The README's quick start runs as written (documentation cannot rot).
mod common;
use common::*;

/// The first ```sh block after a heading.
fn sh_block_after(readme: &str, heading: &str) -> String {
    let start = readme.find(heading).unwrap_or_else(|| panic!("README has no {heading:?}"));
    let rest = &readme[start..];
    let open = rest.find("```sh\n").unwrap() + 6;
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}

#[test]
fn quick_start_runs_as_written() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let script = sh_block_after(&readme, "## Quick start");
    let sc = Scenario::new();
    let out = sc.bash(&format!("set -euo pipefail\n{script}")).succeeds();
    assert!(out.stderr.contains("logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750"), "{}", out.stderr);
    assert_eq!(sc.records().len(), 3);
}
