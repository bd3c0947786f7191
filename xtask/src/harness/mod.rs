//! The portal harness that `cargo xtask bench`, `cargo xtask bench-post` and the PGO training
//! run (`pgo.rs`) share: a built portal started on a free port with a given configuration and
//! database, waited for, logged into through the built-in test eID, loaded (`wrk`, or the
//! delivery API's own load generator), and stopped; what else used the CPU meanwhile.
//!
//! - [`server`]: a child process with its log, stopped on drop or by SIGTERM; the static ceiling
//! - [`portal`]: the portal's configuration, start, `generate-data`, `api-token`, test-eID login
//! - [`http`]: a minimal HTTP/1.1 client for loopback
//! - [`wrk`]: `wrk` runs and their parsing
//! - [`delivery`]: the delivery API's load generator (agency JWTs, keep-alive connections)
//! - [`machine`]: CPU counters, waiting for a quiet machine, what the reports say of it
//!
//! The submodules import nothing from this file or from the commands that use them.

pub mod delivery;
pub mod http;
pub mod machine;
pub mod portal;
pub mod server;
pub mod wrk;

use crate::util::{target_dir, Result};
use std::{fs, path::Path};

/// Runs `measure` in a fresh work folder under the target dir (removed afterwards, also on
/// failure), then prints its markdown report and writes it to `report` in the target dir.
pub fn in_work_dir(
    prefix: &str,
    report: &str,
    measure: impl FnOnce(&Path) -> Result<String>,
) -> Result<()> {
    let work = target_dir().join(format!("{prefix}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let result = measure(&work);
    let _ = fs::remove_dir_all(&work);
    let text = result?;
    print!("\n{text}");
    let path = target_dir().join(report);
    fs::write(&path, &text).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("\nxtask: report written to {}", path.display());
    Ok(())
}

/// A positive number from the environment variable `name`, else `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// A target met or missed, as the reports say it.
pub fn pass(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}
