fn main() -> std::process::ExitCode {
    use tt_core::cli::{ErrorSummary, Options, main_with};
    let summary = ErrorSummary { heading: "Token budgets", lead: "The budget gate could not decide" };
    main_with(
        "tt-budget",
        tt_budget::command,
        tt_budget::run,
        Options { github_flag: Some("github"), summary_on_error: Some(summary) },
    )
}
