fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-budget", tt_budget::command, tt_budget::run)
}
