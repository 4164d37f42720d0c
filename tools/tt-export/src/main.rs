fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-export", tt_export::command, tt_export::run)
}
