//! The production build of the server, optimised with a profile of its own work (profile-guided
//! optimisation, PGO): `cargo xtask build --release --pgo`, and `cargo xtask bench-post --pgo`.
//!
//! 1. An instrumented release build (`-Cprofile-generate`) in `$CARGO_TARGET_DIR/pgo-generate`,
//!    with the development-only code (the generator and the test eID drive the training run),
//!    turned on by `--cfg` rather than `--features dev` (`util::with_dev_code_by_cfg` says why).
//! 2. A training run: that server on its own small generated database (not the benchmark's),
//!    asked for every page a logged-in citizen reaches from the mailbox, searches, the
//!    anonymous pages, and letters delivered through the agency API, a few seconds each; then
//!    stopped with SIGTERM, so that it writes its profile as it exits.
//! 3. The profile merged with `llvm-profdata` of rustc's own LLVM version (rustup's
//!    `llvm-tools`, or Debian's `llvm-N`, installed when missing and root).
//! 4. The release build again with `-Cprofile-use`, in `$CARGO_TARGET_DIR/pgo-use`: the
//!    production build, without the development-only code (or, for `bench-post --pgo`, which
//!    logs in through the test eID, with it as in step 1, in `pgo-use-dev`).
//!
//! Only the server binary is built this way; build scripts and proc macros are built for the
//! host without the flags (`--target` given explicitly). Takes about three release builds'
//! time. The code is the same; the compiler lays out and inlines the hot paths by the profile
//! (docs/benchmarks.md has what it changed).

use crate::harness::delivery::{base64, deliver_load, pdf_of, DeliverLoad, MODES};
use crate::harness::http;
use crate::harness::portal::{
    generate, login, named_persons, recipients, start_portal, write_config,
};
use crate::harness::wrk::wrk_quietly;
use crate::site;
use crate::util::{
    apt_install, find_on_path, free_port, output, run, step, target_dir, with_dev_code_by_cfg,
    workspace_root, Result,
};
use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// Seconds of load on each page of the training run.
const SECONDS_PER_PAGE: u64 = 2;
/// At most this many of the paths linked from the mailbox are asked for.
const MOST_PATHS: usize = 24;
/// Searches, which are a form on the mailbox and not a link (words in the generated titles
/// and bodies, Norwegian and Danish).
const SEARCHES: [&str; 2] = ["/post?q=vedtak", "/post?q=afg%C3%B8relse"];

/// Build the site and the profile-optimised server: the production build, or
/// (`site::Code::Development`) the same with the development-only code, for the benchmark.
pub fn build(code: site::Code) -> Result<site::Built> {
    let site_root = target_dir().join("site-release");
    site::build_site(true, &site_root)?;
    let rustc = Rustc::read()?;
    let profdata = llvm_profdata(&rustc)?;
    let data = target_dir().join("pgo-data");
    let raw = data.join("raw");
    // A fresh start: no profile from an earlier run may be merged into this one.
    let _ = fs::remove_dir_all(&data);
    fs::create_dir_all(&raw).map_err(|e| format!("{}: {e}", raw.display()))?;

    step("PGO 1/4: the instrumented server");
    let instrumented = build_server(
        &rustc,
        "pgo-generate",
        &format!("-Cprofile-generate={}", raw.display()),
        site::Code::Development,
    )?;
    step("PGO 2/4: the training run");
    let training = site::Built {
        site_root: site_root.clone(),
        server: instrumented,
    };
    let work = data.join("train");
    fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    train(&training, &work)?;
    let _ = fs::remove_dir_all(&work);

    step("PGO 3/4: merging the profile");
    let profiles: Vec<PathBuf> = fs::read_dir(&raw)
        .map_err(|e| e.to_string())?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "profraw"))
        .collect();
    if profiles.is_empty() {
        return Err("the training run wrote no profile (did the server exit cleanly?)".into());
    }
    let merged = data.join("merged.profdata");
    run(Command::new(&profdata)
        .arg("merge")
        .arg("-o")
        .arg(&merged)
        .args(&profiles))?;
    // Named by its content: cargo rebuilds when RUSTFLAGS change, not when a file they name
    // does, and every crate must be optimised with the new profile.
    let bytes = fs::read(&merged).map_err(|e| format!("{}: {e}", merged.display()))?;
    let named = data.join(format!("{}.profdata", site::content_hash(&bytes)));
    fs::rename(&merged, &named).map_err(|e| e.to_string())?;

    step("PGO 4/4: the server built with the profile");
    let server = build_server(
        &rustc,
        match code {
            site::Code::Production => "pgo-use",
            site::Code::Development => "pgo-use-dev",
        },
        &format!("-Cprofile-use={}", named.display()),
        code,
    )?;
    Ok(site::Built { site_root, server })
}

/// What `rustc -vV` says about the host and rustc's LLVM.
struct Rustc {
    host: String,
    llvm_major: String,
}

impl Rustc {
    fn read() -> Result<Self> {
        Self::parse(&output(Command::new("rustc").arg("-vV"))?)
    }

    fn parse(text: &str) -> Result<Self> {
        let field = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name))
                .map(|value| value.trim().to_owned())
                .ok_or_else(|| format!("`rustc -vV` has no `{name}` line"))
        };
        let llvm = field("LLVM version:")?;
        let llvm_major = llvm.split('.').next().unwrap_or_default();
        if llvm_major.is_empty() || !llvm_major.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "`rustc -vV`: LLVM version {llvm:?} is not a number"
            ));
        }
        Ok(Self {
            host: field("host:")?,
            llvm_major: llvm_major.to_owned(),
        })
    }
}

/// An `llvm-profdata` that reads what rustc's LLVM writes: rustup's `llvm-tools`, or
/// `llvm-profdata-N` for rustc's LLVM major version N (Debian's `llvm-N`, installed if missing).
fn llvm_profdata(rustc: &Rustc) -> Result<PathBuf> {
    let sysroot = output(Command::new("rustc").args(["--print", "sysroot"]))?;
    let rustup = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(&rustc.host)
        .join("bin/llvm-profdata");
    if rustup.is_file() {
        return Ok(rustup);
    }
    let versioned = format!("llvm-profdata-{}", rustc.llvm_major);
    if let Some(found) = find_on_path(&versioned) {
        return Ok(found);
    }
    println!(
        "xtask: installing llvm-{} for {versioned} (rustc's LLVM)",
        rustc.llvm_major
    );
    apt_install(&[&format!("llvm-{}", rustc.llvm_major)]).map_err(|e| {
        format!(
            "PGO needs {versioned}: `rustup component add llvm-tools`, or install \
             Debian's llvm-{} ({e})",
            rustc.llvm_major
        )
    })?;
    find_on_path(&versioned).ok_or_else(|| format!("{versioned} is still not on PATH"))
}

/// `cargo build --release` of the server for the host, with `flags` added to RUSTFLAGS, in
/// `$CARGO_TARGET_DIR/<dir>`: the binary's path. `code`: with the development-only code or
/// without; never by `--features dev`, so that both have the same symbol names.
fn build_server(rustc: &Rustc, dir: &str, flags: &str, code: site::Code) -> Result<PathBuf> {
    let target = target_dir().join(dir);
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(given) if !given.trim().is_empty() => format!("{given} {flags}"),
        _ => flags.to_owned(),
    };
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command
        .current_dir(workspace_root())
        .args([
            "build",
            "-p",
            "server",
            "--bin",
            "borgerportal",
            "--release",
        ])
        .args(["--target", &rustc.host])
        .env("CARGO_TARGET_DIR", &target)
        .env("RUSTFLAGS", &rustflags);
    if code == site::Code::Development {
        with_dev_code_by_cfg(&mut command, &target, &rustflags)?;
    }
    run(&mut command)?;
    Ok(target
        .join(&rustc.host)
        .join("release")
        .join("borgerportal"))
}

/// The training run (see the module's documentation).
fn train(built: &site::Built, work: &Path) -> Result<()> {
    let host = format!("127.0.0.1:{}", free_port()?);
    let config = write_config(work, &host, "")?;
    generate(
        built,
        &config,
        &[
            "--persons",
            "3000",
            "--letters",
            "40000",
            "--big",
            "3000",
            "--seed",
            "7",
        ],
    )?;
    let named = named_persons(&work.join("data"))?;
    let mut portal = start_portal(built, &config, &host, work)?;
    let mut asked = 0;
    for path in ["/", "/accessibility", "/privacy", "/post"] {
        wrk_quietly(&format!("http://{host}{path}"), SECONDS_PER_PAGE, &[])
            .map_err(|e| portal.failed(e))?;
        asked += 1;
    }
    for (_, national_id) in &named {
        let cookie = login(&host, national_id).map_err(|e| portal.failed(e))?;
        let header = format!("Cookie: {cookie}");
        let mailbox = http::request(&host, "GET", "/post", &[("Cookie", &cookie)], "")
            .map_err(|e| portal.failed(e))?;
        let paths = linked_paths(&String::from_utf8_lossy(&mailbox.body));
        for path in paths.iter().map(String::as_str).chain(SEARCHES) {
            wrk_quietly(
                &format!("http://{host}{path}"),
                SECONDS_PER_PAGE,
                &[&header],
            )
            .map_err(|e| portal.failed(e))?;
            asked += 1;
        }
    }
    train_deliveries(
        built,
        &config,
        &host,
        &work.join("data"),
        SECONDS_PER_PAGE * 2,
    )
    .map_err(|e| portal.failed(e))?;
    portal.terminate().map_err(|e| portal.failed(e))?;
    let problems = portal.problems();
    if !problems.is_empty() {
        portal.keep_log_if_it_panicked();
        return Err(format!(
            "the training run's portal: {}",
            problems.join("; ")
        ));
    }
    println!("  {asked} paths and the delivery API, {SECONDS_PER_PAGE} s each");
    Ok(())
}

/// Small letters and letters with a PDF from every agency through the API of the portal at
/// `host`, `seconds` each.
fn train_deliveries(
    built: &site::Built,
    config: &Path,
    host: &str,
    data: &Path,
    seconds: u64,
) -> Result<()> {
    let recipients = recipients(data)?;
    let pdf = base64(&pdf_of(100 * 1024));
    for (index, mode) in MODES.iter().enumerate().skip(2).step_by(2) {
        deliver_load(&DeliverLoad {
            host,
            mode,
            run: index,
            tokens: mode.tokens(built, config, seconds)?,
            recipients: &recipients,
            attachment: mode.attachment.then_some(pdf.as_str()),
            seconds,
            server: None,
        })?;
    }
    Ok(())
}

/// The distinct local paths a page links to with `href="/…"` (not the assets under `/pkg/`),
/// the page's own first: at most `MOST_PATHS`.
fn linked_paths(page: &str) -> Vec<String> {
    let mut paths = vec!["/post".to_owned()];
    for piece in page.split("href=\"").skip(1) {
        let Some(end) = piece.find('"') else { continue };
        let path = piece[..end].replace("&amp;", "&");
        if path.starts_with('/')
            && !path.starts_with("//")
            && !path.starts_with("/pkg/")
            && !paths.contains(&path)
        {
            paths.push(path);
        }
        if paths.len() == MOST_PATHS {
            break;
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn rustc_host_and_llvm_major_version_are_read() {
        let rustc = Rustc::parse(
            "rustc 1.95.0 (59807616e 2026-04-14)\nbinary: rustc\n\
             host: x86_64-unknown-linux-gnu\nrelease: 1.95.0\nLLVM version: 22.1.2\n",
        )
        .unwrap();
        assert_eq!(rustc.host, "x86_64-unknown-linux-gnu");
        assert_eq!(rustc.llvm_major, "22");
        assert!(Rustc::parse("host: x86_64-unknown-linux-gnu\n").is_err());
        assert!(Rustc::parse("host: x\nLLVM version: unknown\n").is_err());
    }

    #[test]
    fn linked_paths_are_local_distinct_unescaped_and_not_assets() {
        let page = r#"<a href="/post?view=archive&amp;after=x">a</a><a href="/contact">c</a>
            <link href="/pkg/borgerportal.abc.css"><a href="https://example.org/">x</a>
            <a href="//evil.example/">y</a><a href="/contact">again</a><a href="/post">p</a>"#;
        assert_eq!(
            linked_paths(page),
            ["/post", "/post?view=archive&after=x", "/contact"]
        );
    }
}
