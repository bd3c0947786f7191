//! `cargo xtask`: the project's own build tool, so a fresh clone needs two commands.
//!
//! - `cargo xtask run`   install what is missing, build, and start the portal on :3000
//! - `cargo xtask test`  every check: fmt, clippy (server and WASM), unit and integration
//!   tests against SQLite and PostgreSQL, and the browser tests (`--browser-only`: just those,
//!   for a developer; `XTASK_PLAYWRIGHT_ARGS` narrows them, e.g. to one spec file)
//! - `cargo xtask build [--release [--pgo]]`  build the site (WASM, JS, CSS) and the server
//!   without the development-only code (the `dev` feature: test eID, demo data, generator),
//!   which `run`, `test` and the benchmarks build with; `--pgo`: the production build,
//!   optimised with a profile of a training run (`pgo.rs`)
//! - `cargo xtask bench`  release build, then first-load size and throughput numbers
//! - `cargo xtask bench-post [--pgo]`  release build (`--pgo`: the profile-optimised one),
//!   then digital post: fsync rate, delivery letters/s (SQLite, PostgreSQL), inbox pages at
//!   10, 1,000 and 10,000 letters
//! - `cargo xtask bench-seal`  release build, then sealing: a 1 MB, 10-page PDF, two signers,
//!   PAdES B-T with a loopback TSA; the cost split and documents/s (`bench_seal.rs`)
//! - `cargo xtask bench-policy`  release build, then the access policy's cost for a helper
//!   holding 1,000 delegations beside one holding one (`bench_policy.rs`)
//!
//! Build output goes to `CARGO_TARGET_DIR` (default `target/`); point it outside the clone to
//! reuse builds between fresh clones, as `.ci/run` does.

mod bench;
mod bench_inbox;
mod bench_policy;
mod bench_post;
mod bench_seal;
mod harness;
mod pgo;
mod postgres;
mod site;
mod test;
mod tools;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = args.first().map(String::as_str).unwrap_or("help");
    let release = args.iter().any(|a| a == "--release");
    let pgo = args.iter().any(|a| a == "--pgo");
    let result = match command {
        "run" => run(release),
        "build" if pgo && !release => Err("--pgo is a release build: add --release".into()),
        "build" if pgo => tools::ensure_build_tools().and_then(|()| {
            pgo::build(site::Code::Production)
                .map(|built| println!("xtask: server at {}", built.server.display()))
        }),
        "build" => tools::ensure_build_tools()
            .and_then(|()| site::build_as(release, site::Code::Production).map(|_| ())),
        "test" => test::run_all(args.iter().any(|a| a == "--browser-only")),
        "bench" => bench::run(),
        "bench-post" => bench_post::run(pgo),
        "bench-seal" => bench_seal::run(),
        "bench-policy" => bench_policy::run(),
        "setup" => tools::ensure_build_tools().and_then(|()| tools::ensure_test_tools()),
        _ => {
            eprintln!(
                "usage: cargo xtask <run|test [--browser-only]|build [--release [--pgo]]|bench|bench-post [--pgo]|bench-seal|bench-policy|setup>\n\
                 run    build and start the portal at http://127.0.0.1:3000 (demo data, test eID)\n\
                 test   every check and test (what CI runs)\n\
                 build  build the site and the server without the dev code (--release --pgo: profile-optimised)\n\
                 bench  release build, then first-load size and throughput\n\
                 bench-post  release build, then delivery and inbox throughput (digital post)\n\
                 bench-seal  release build, then sealing throughput (signing, PAdES B-T)\n\
                 bench-policy  release build, then the policy's cost with 1,000 delegations held\n\
                 setup  install the tools the build and the tests need"
            );
            return if command == "help" {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            };
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Build everything and start the portal in the foreground with the development config.
fn run(release: bool) -> util::Result<()> {
    tools::ensure_build_tools()?;
    let built = site::build(release)?;
    let root = util::workspace_root();
    println!("xtask: starting Borgerportal at http://127.0.0.1:3000 (Ctrl-C stops it)");
    util::run(
        std::process::Command::new(&built.server)
            .current_dir(&root)
            .env("BORGERPORTAL_CONFIG", root.join("config/development.toml"))
            .env("BORGERPORTAL_SITE_ROOT", &built.site_root),
    )
}
