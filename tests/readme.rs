//! The README's quick start runs as written (documentation cannot rot).
mod common;
use common::*;

#[test]
fn quick_start_runs_as_written() {
    let script = readme_sh_block("## Quick start");
    let sc = Scenario::new();
    let out = sc.bash(&format!("set -euo pipefail\n{script}")).succeeds();
    assert!(out.stderr.contains("logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750"), "{}", out.stderr);
    assert_eq!(sc.records().len(), 3);
}
