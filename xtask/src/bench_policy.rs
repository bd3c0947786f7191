//! `cargo xtask bench-policy`: the access policy's cost for a helper who holds 1,000
//! delegations beside one who holds one, measured (never asserted). Builds the domain crate's
//! `bench_policy` example in release and runs it on SQLite and on the PostgreSQL server
//! `XTASK_BENCH_POSTGRES_URL` names (as `bench-post`: default the local one, `none` skips it;
//! the example makes and drops its own database there). What it measures: `examples/
//! bench_policy.rs`. The report goes to `$CARGO_TARGET_DIR/bench-policy-report.md`.

use crate::harness::env_number;
use crate::harness::machine::{cpu_count, cpu_model, git_commit, wait_for_quiet};
use crate::util::{output, step, target_dir, workspace_root, Result};
use std::process::Command;

pub fn run() -> Result<()> {
    step("build (release): the domain's bench_policy example");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    crate::util::run(Command::new(&cargo).current_dir(workspace_root()).args([
        "build",
        "--release",
        "-p",
        "borgerportal",
        "--example",
        "bench_policy",
    ]))?;
    wait_for_quiet(env_number("XTASK_BENCH_QUIET_WAIT", 300));
    step("the policy with 1 and with 1,000 delegations held");
    let mut command = Command::new(target_dir().join("release/examples/bench_policy"));
    if let Some(server) = crate::bench_post::postgres_server() {
        command.env("BENCH_POLICY_POSTGRES_URL", server);
    }
    let said = output(&mut command)?;
    let report = format!(
        "# bench-policy\n\ncommit {}, {} ({} cores), release build\n\n{said}",
        git_commit(),
        cpu_model(),
        cpu_count()
    );
    println!("{report}");
    let path = target_dir().join("bench-policy-report.md");
    std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("report: {}", path.display());
    Ok(())
}
