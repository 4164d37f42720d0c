//! tt-log: the seed examples, every flag, provider responses, validation, concurrency.
mod common;
use common::*;

#[test]
fn seed_example_logs_and_prices_exactly() {
    let sc = Scenario::new();
    sc.cmd("tt-log")
        .args(["ATLAS", "sonnet-4.5", "50000", "15000", "Built TokenTracker"])
        .succeeds()
        .stdout_is("")
        .stderr_is("logged 65,000 tokens (sonnet-4.5) for ATLAS - $0.3750\n");
    let r = &sc.records()[0];
    assert_eq!(r["cost_usd"].to_string(), "0.375");
    assert_eq!(r["agent"], "ATLAS");
    assert_eq!(r["notes"], "Built TokenTracker");
    assert_eq!(r["price"], "claude-sonnet-4-5");
    assert_eq!(r["v"], 1);
}
