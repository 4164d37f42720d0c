//! The real `tt-log` binary runs. This test also makes `cargo test --workspace` build the binary into
//! `target/debug/`, where the workspace's integration tests in `tests/` run it.

#[test]
fn binary_runs() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tt-log")).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("tt-log "));
}
