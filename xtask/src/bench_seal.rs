//! `cargo xtask bench-seal`: sealing under load, measured (never asserted). Builds the pades
//! crate's `bench_seal` example in release (the workspace's release profile: fat LTO, one
//! codegen unit) and runs it: a 1 MB, 10-page PDF with two signers, prepared and sealed PAdES
//! B-T with a timestamp from a loopback TSA (`openssl ts -reply`, as in the pades tests), one
//! document at a time for the cost split (prepare, hash, seal, timestamp), then as many in
//! flight as `BENCH_SEAL_CONCURRENCY` (default 2 per core) for `XTASK_BENCH_SECONDS` (default
//! 10) for documents/s. Target (issue 21): 50 documents/s. The report goes to
//! `$CARGO_TARGET_DIR/bench-seal-report.md`.

use crate::harness::env_number;
use crate::harness::machine::{cpu_count, cpu_model, git_commit, wait_for_quiet};
use crate::util::{output, step, target_dir, workspace_root, Result};
use std::process::Command;

pub fn run() -> Result<()> {
    let openssl = Command::new("openssl").arg("version").output();
    if !openssl.is_ok_and(|o| o.status.success()) {
        return Err("`openssl` is missing: the loopback TSA runs `openssl ts -reply`".into());
    }
    step("build (release): pades' bench_seal example");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::util::run(Command::new(&cargo).current_dir(workspace_root()).args([
        "build",
        "--release",
        "-p",
        "pades",
        "--example",
        "bench_seal",
    ]))?;
    let seconds = env_number("XTASK_BENCH_SECONDS", 10);
    wait_for_quiet(env_number("XTASK_BENCH_QUIET_WAIT", 300));
    step("sealing");
    let binary = target_dir().join("release/examples/bench_seal");
    let mut command = Command::new(binary);
    command.env("BENCH_SEAL_SECONDS", seconds.to_string());
    let said = output(&mut command)?;
    let report = format!(
        "# bench-seal\n\ncommit {}, {} ({} cores), release build\n\n{said}",
        git_commit(),
        cpu_model(),
        cpu_count()
    );
    println!("{report}");
    let path = target_dir().join("bench-seal-report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}
