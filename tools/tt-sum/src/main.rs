fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-sum", tt_sum::command, tt_sum::run)
}
