fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-log", tt_log::command, tt_log::run)
}
