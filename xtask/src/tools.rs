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

/// The aiosmtpd version the notification tests' SMTP server runs (PyPI).
pub const AIOSMTPD_VERSION: &str = "1.4.6";

/// The environment variable that tells the tests which Python has aiosmtpd.
pub const TEST_PYTHON_VARIABLE: &str = "BORGERPORTAL_TEST_PYTHON";

/// A Python virtual environment with aiosmtpd (for `end2end/sinks/sink.py`, the SMTP and SMS
/// stand-ins), made once in `~/.cache/borgerportal/venv`; returns its `python`.
pub fn ensure_sink_python() -> Result<std::path::PathBuf> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let venv = std::path::PathBuf::from(home).join(".cache/borgerportal/venv");
    let python = venv.join("bin/python");
    let check =
        format!("import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '{AIOSMTPD_VERSION}')");
    if Command::new(&python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(python);
    }
    if !have("python3") {
        util::apt_install(&["python3", "python3-venv"])?;
    }
    if !python.exists() && run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).is_err() {
        // Debian's python3 leaves venv (ensurepip) to a package of its own.
        util::apt_install(&["python3-venv"])?;
        let _ = std::fs::remove_dir_all(&venv);
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    }
    println!(
        "xtask: installing aiosmtpd {AIOSMTPD_VERSION} into {}",
        venv.display()
    );
    run(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("aiosmtpd=={AIOSMTPD_VERSION}"),
    ]))?;
    Ok(python)
}

/// pyHanko, the PAdES validator the `pades` crate's tests run (PyPI). Its command line is a
/// package of its own, pinned with it.
pub const PYHANKO_VERSION: &str = "0.38.0";
/// The pyHanko command line (`pyhanko sign validate`, `adesverify`) matching [`PYHANKO_VERSION`].
pub const PYHANKO_CLI_VERSION: &str = "0.6.0";

/// pyHanko and its command line in the test venv (`ensure_sink_python`'s), when missing or
/// another version. The `pades` tests find them next to `BORGERPORTAL_TEST_PYTHON`.
pub fn ensure_pyhanko(python: &std::path::Path) -> Result<()> {
    let check = format!(
        "import sys\n\
         from importlib.metadata import version, PackageNotFoundError\n\
         try:\n    \
             ok = version('pyhanko') == '{PYHANKO_VERSION}' \
             and version('pyhanko-cli') == '{PYHANKO_CLI_VERSION}'\n\
         except PackageNotFoundError:\n    ok = False\n\
         sys.exit(0 if ok else 1)"
    );
    if Command::new(python)
        .args(["-c", &check])
        .output()
        .is_ok_and(|o| o.status.success())
    {
        return Ok(());
    }
    println!(
        "xtask: installing pyhanko {PYHANKO_VERSION} and pyhanko-cli {PYHANKO_CLI_VERSION} \
         into the test venv (about a minute, once)"
    );
    run(Command::new(python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("pyhanko=={PYHANKO_VERSION}"),
        &format!("pyhanko-cli=={PYHANKO_CLI_VERSION}"),
    ]))
}

/// The cargo-deny that `cargo xtask test` checks licences, bans and sources with (`deny.toml`).
/// 0.20.2 needs rustc 1.88 or later.
pub const CARGO_DENY_VERSION: &str = "0.20.2";

/// cargo-deny from crates.io, when it is missing or another version. Built without its fat
/// LTO and single codegen unit (its manifest's release profile): the install is the cost here,
/// and a check of this tree takes seconds either way.
pub fn ensure_cargo_deny() -> Result<()> {
    let installed = output(Command::new("cargo").args(["deny", "--version"])).unwrap_or_default();
    if installed
        .split_whitespace()
        .any(|word| word == CARGO_DENY_VERSION)
    {
        return Ok(());
    }
    println!("xtask: installing cargo-deny {CARGO_DENY_VERSION} (about 4 minutes of CPU, once)");
    run(Command::new("cargo").args([
        "install",
        "cargo-deny",
        "--locked",
        "--version",
        CARGO_DENY_VERSION,
        "--config",
        "profile.release.lto=false",
        "--config",
        "profile.release.codegen-units=16",
    ]))
}

/// Chromium for the browser tests, PostgreSQL's server binaries, the end2end npm packages,
/// the Python with aiosmtpd for the notification sinks and pyHanko for the PAdES tests,
/// cargo-deny, and the PDF tools and openssl the PAdES tests run (qpdf, poppler's pdfsig,
/// pdftotext and pdfdetach, `openssl ts` as their timestamp authority).
pub fn ensure_test_tools() -> Result<()> {
    let python = ensure_sink_python()?;
    ensure_pyhanko(&python)?;
    ensure_cargo_deny()?;
    let mut missing = Vec::new();
    if !std::path::Path::new("/usr/bin/chromium").exists() {
        missing.extend(["chromium", "fonts-dejavu-core"]);
    }
    if crate::postgres::server_bin_dir().is_none() {
        missing.push("postgresql");
    }
    for (program, package) in [
        ("qpdf", "qpdf"),
        ("pdfsig", "poppler-utils"),
        ("openssl", "openssl"),
    ] {
        if util::find_on_path(program).is_none() {
            missing.push(package);
        }
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
