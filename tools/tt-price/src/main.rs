fn main() -> std::process::ExitCode {
    tt_core::cli::main("tt-price", tt_price::command, tt_price::run)
}
