//! Installs what the build and the tests need, when it is missing. Every tool comes from a
//! package registry (rustup's target, crates.io, npm, Debian), pinned where the version matters.

use crate::util::{self, have, output, run, workspace_root, Result};
use std::process::Command;

/// The wasm-bindgen CLI must match the `wasm-bindgen` crate exactly (pinned in Cargo.toml).
pub const WASM_BINDGEN_VERSION: &str = "0.2.130";

/// WASM target, wasm-bindgen CLI, and the npm packages (Tailwind, binaryen's wasm-opt).
pub fn ensure_build_tools() -> Result<()> {
    let targets = output(Command::new("rustup").args(["target", "list", "--installed"]))?;
    if !targets
        .lines()
        .any(|t| t.trim() == "wasm32-unknown-unknown")
    {
        run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))?;
    }
    let bindgen = output(Command::new("wasm-bindgen").arg("--version")).unwrap_or_default();
    if !bindgen.contains(WASM_BINDGEN_VERSION) {
        println!(
            "xtask: installing wasm-bindgen-cli {WASM_BINDGEN_VERSION} (about 2 minutes, once)"
        );
        run(Command::new("cargo").args([
            "install",
            "wasm-bindgen-cli",
            "--version",
            WASM_BINDGEN_VERSION,
        ]))?;
    }
    npm_ci(&workspace_root())
}

/// Chromium for the browser tests, PostgreSQL's server binaries, and the end2end npm packages.
pub fn ensure_test_tools() -> Result<()> {
    let mut missing = Vec::new();
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        missing.extend(["chromium", "fonts-dejavu-core"]);
    }
    if crate::postgres::server_bin_dir().is_none() {
        missing.push("postgresql");
    }
    if !missing.is_empty() {
        util::apt_install(&missing)?;
    }
    npm_ci(&workspace_root().join("end2end"))
}

/// Install the locked npm packages when `node_modules` is missing or older than the lock file.
/// `npm install` rather than `npm ci`: npm 11 leaves other platforms' optional binaries (e.g.
/// Tailwind's oxide builds) out of the lock and then `npm ci` refuses it; `install` keeps the
/// locked versions and leaves the lock unchanged.
fn npm_ci(dir: &std::path::Path) -> Result<()> {
    if !have("npm") {
        return Err("npm is missing: install Node.js (Debian: apt-get install nodejs npm)".into());
    }
    let lock = dir.join("package-lock.json");
    let installed = dir.join("node_modules/.package-lock.json");
    let fresh = match (lock.metadata(), installed.metadata()) {
        (Ok(l), Ok(i)) => match (l.modified(), i.modified()) {
            (Ok(l), Ok(i)) => i >= l,
            _ => false,
        },
        _ => false,
    };
    if !fresh {
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(dir))?;
    }
    Ok(())
}
