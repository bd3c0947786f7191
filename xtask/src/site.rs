//! Builds the site the server serves: the hydration WASM and its JS glue (wasm-bindgen), the
//! stylesheet (Tailwind), and the public files, under content-hashed names with brotli and
//! gzip copies next to them; then the server binary.
//!
//! `site/hash.txt` records the hashes; the server reads it to name the files in each page.

use crate::util::{run, target_dir, workspace_root, Result};
use sha2::{Digest, Sha256};
use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::Command,
};

/// The name the server expects (`server::OUTPUT_NAME`).
const OUTPUT_NAME: &str = "borgerportal";

/// What a build produced.
pub struct Built {
    pub site_root: PathBuf,
    pub server: PathBuf,
}

/// Which code the server binary holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Code {
    /// With the development-only code (the `dev` feature: the test eID, the demo data,
    /// `generate-data`): `cargo xtask run`, `test` and the benchmarks, which drive the portal
    /// with them.
    Development,
    /// Without it: what is shipped, `cargo xtask build [--release [--pgo]]`.
    Production,
}

/// Build the site and the server to run here, with the development-only code
/// ([`Code::Development`]). `release` gives the size-optimised WASM and an optimised,
/// LTO-linked server.
pub fn build(release: bool) -> Result<Built> {
    build_as(release, Code::Development)
}

/// Build the site and the server with `code`.
pub fn build_as(release: bool, code: Code) -> Result<Built> {
    let site_root = target_dir().join(if release { "site-release" } else { "site" });
    build_site(release, &site_root)?;
    let server = build_server(release, code)?;
    Ok(Built { site_root, server })
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn build_server(release: bool, code: Code) -> Result<PathBuf> {
    let mut command = cargo();
    command.args(["build", "-p", "server", "--bin", "borgerportal"]);
    if release {
        command.arg("--release");
    }
    if code == Code::Development {
        command.args(["--features", "dev"]);
    }
    run(&mut command)?;
    Ok(target_dir()
        .join(if release { "release" } else { "debug" })
        .join("borgerportal"))
}

/// Build the browser side into `site_root`.
pub fn build_site(release: bool, site_root: &Path) -> Result<()> {
    let root = workspace_root();
    let profile = if release { "wasm-release" } else { "dev" };
    run(cargo().args([
        "build",
        "-p",
        "app",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--features",
        "hydrate",
        "--profile",
        profile,
    ]))?;
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let wasm_in = target_dir()
        .join("wasm32-unknown-unknown")
        .join(profile_dir)
        .join("app.wasm");

    let staging = target_dir().join(format!("site-staging-{profile}"));
    let _ = fs::remove_dir_all(&staging);
    fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--out-name",
            OUTPUT_NAME,
            "--out-dir",
        ])
        .arg(&staging)
        .arg(&wasm_in))?;
    let wasm = staging.join(format!("{OUTPUT_NAME}_bg.wasm"));
    if release {
        let optimised = staging.join("optimised.wasm");
        run(Command::new(root.join("node_modules/.bin/wasm-opt"))
            .args([
                "-Oz",
                "--enable-bulk-memory",
                "--enable-nontrapping-float-to-int",
                "--enable-sign-ext",
                "--enable-reference-types",
                "--enable-multivalue",
                "--enable-mutable-globals",
            ])
            .arg(&wasm)
            .arg("-o")
            .arg(&optimised))?;
        fs::rename(&optimised, &wasm).map_err(|e| e.to_string())?;
    }
    let css = staging.join(format!("{OUTPUT_NAME}.css"));
    run(Command::new(root.join("node_modules/.bin/tailwindcss"))
        .current_dir(&root)
        .args(["--input", "style/main.css", "--minify", "--output"])
        .arg(&css))?;

    // Lay out the site afresh so no stale hashed file lingers.
    let _ = fs::remove_dir_all(site_root);
    let pkg = site_root.join("pkg");
    fs::create_dir_all(&pkg).map_err(|e| e.to_string())?;
    let js_hash = place(&staging.join(format!("{OUTPUT_NAME}.js")), &pkg, "js")?;
    let wasm_hash = place(&wasm, &pkg, "wasm")?;
    let css_hash = place(&css, &pkg, "css")?;
    let snippets = staging.join("snippets");
    if snippets.exists() {
        copy_tree(&snippets, &pkg.join("snippets"))?;
    }
    copy_tree(&root.join("public"), site_root)?;
    fs::write(
        site_root.join("hash.txt"),
        format!("js: {js_hash}\nwasm: {wasm_hash}\ncss: {css_hash}\n"),
    )
    .map_err(|e| e.to_string())?;
    println!("xtask: site built in {}", site_root.display());
    Ok(())
}

/// Copy `file` into `dir` as `borgerportal.<hash>.<ext>` with `.br` and `.gz` beside it;
/// return the hash.
fn place(file: &Path, dir: &Path, ext: &str) -> Result<String> {
    let bytes = fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let hash = content_hash(&bytes);
    let name = dir.join(format!("{OUTPUT_NAME}.{hash}.{ext}"));
    fs::write(&name, &bytes).map_err(|e| e.to_string())?;
    compress_beside(&name, &bytes)?;
    Ok(hash)
}

/// A name for `bytes` that changes when they do: the first 10 bytes of their SHA-256, in hex.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(10)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Write `<file>.br` (best brotli) and `<file>.gz` (best gzip).
fn compress_beside(file: &Path, bytes: &[u8]) -> Result<()> {
    let mut br = Vec::new();
    {
        let params = brotli::enc::BrotliEncoderParams {
            quality: 11,
            lgwin: 22,
            ..Default::default()
        };
        brotli::BrotliCompress(&mut &bytes[..], &mut br, &params).map_err(|e| e.to_string())?;
    }
    fs::write(with_suffix(file, "br"), br).map_err(|e| e.to_string())?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(|e| e.to_string())?;
    fs::write(
        with_suffix(file, "gz"),
        gz.finish().map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())
}

fn with_suffix(file: &Path, suffix: &str) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// Copy a directory tree; text files also get brotli and gzip copies.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to).map_err(|e| e.to_string())?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path();
        let dest = to.join(entry.file_name());
        if path.is_dir() {
            copy_tree(&path, &dest)?;
        } else {
            let bytes = fs::read(&path).map_err(|e| e.to_string())?;
            fs::write(&dest, &bytes).map_err(|e| e.to_string())?;
            let compressible = matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("svg" | "js" | "css" | "txt" | "json" | "html" | "xml")
            );
            if compressible {
                compress_beside(&dest, &bytes)?;
            }
        }
    }
    Ok(())
}
