fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-optimize", tt_optimize::command, tt_optimize::run)
}
