//! `cargo xtask bench-post [--pgo]`: digital post under load, measured (never asserted).
//! Release build (`--pgo`: the profile-optimised production build, `pgo.rs`), then:
//!
//! 1. **The disk**: `fsync` rate of the data directory's disk (4 KiB write + `fdatasync`, in a
//!    loop, for 3 s), the bound on any one-commit-at-a-time design.
//! 2. **Delivery** (`POST /api/v1/letters`) on SQLite (a temporary data directory with a small
//!    generated population) and on PostgreSQL (the local server at 127.0.0.1:5432, its own
//!    throwaway database, when it answers): letters/s accepted (each `201` durable), p50/p99,
//!    for one agency on one connection, one agency on 64 connections, four agencies on 16
//!    each, and with a 100 KB PDF. Every call carries a fresh agency JWT: tokens are signed
//!    before each run by `borgerportal api-token --count N` (ES256 with the agencies' demo
//!    keys; the load generator is a thread per connection in this process).
//! 3. **Inbox** (`GET /post`, first page of 20, logged in, `wrk -t2 -c64`) on SQLite and on
//!    PostgreSQL, each on a generated population, the runs alternated (`bench_inbox.rs`).
//!
//! Settings: `XTASK_BENCH_SECONDS` (each measured run, default 10), `XTASK_BENCH_QUIET_WAIT`
//! (default 300), `XTASK_BENCH_INBOX_DATA`, `XTASK_BENCH_POST_PARTS` (`sqlite,postgres,inbox`
//! by default: delivery on SQLite, delivery on PostgreSQL, the inbox on both; name fewer to
//! run fewer), `XTASK_BENCH_POSTGRES_URL` (a server URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; default that one; `none` skips
//! PostgreSQL, also in the inbox part). The report goes to `$CARGO_TARGET_DIR/bench-post-report.md`.

use crate::harness::delivery::{
    base64, deliver_load, pdf_of, show_cores, DeliverLoad, DeliveryRun, MODES,
};
use crate::harness::machine::{cpu_count, cpu_model, git_commit, wait_for_quiet, CpuSnapshot};
use crate::harness::portal::{generate, recipients, start_portal, write_config};
use crate::harness::server::build_ceiling;
use crate::harness::wrk::ensure_wrk;
use crate::harness::{env_number, in_work_dir, pass};
use crate::site;
use crate::tools;
use crate::util::{free_port, output, step, target_dir, Result};
use std::{
    fmt::Write as _,
    fs,
    io::Write,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

/// Target: small letters per second on SQLite.
const DELIVERY_TARGET: f64 = 2_000.0;

/// Whether `XTASK_BENCH_POST_PARTS` (a comma-separated list of `sqlite`, `postgres`,
/// `inbox`; default all) names this part. The disk's fsync rate is always measured.
fn part(name: &str) -> bool {
    std::env::var("XTASK_BENCH_POST_PARTS")
        .ok()
        .filter(|parts| !parts.trim().is_empty())
        .is_none_or(|parts| parts.split(',').any(|p| p.trim() == name))
}

struct Settings {
    seconds: u64,
    quiet_wait: u64,
    /// Which build is measured, for the report.
    build: &'static str,
}

/// `pgo`: measure the profile-optimised production build (`pgo.rs`) instead of the plain
/// release build.
pub fn run(pgo: bool) -> Result<()> {
    tools::ensure_build_tools()?;
    let built = if pgo {
        crate::pgo::build(site::Code::Development)?
    } else {
        site::build(true)?
    };
    ensure_wrk()?;
    // The ceiling is plain axum and changes with nothing here: building it again would
    // rebuild the server library with the example's dev-dependency features, and the next
    // `site::build` rebuild it back (docs/benchmarks.md), minutes each on two cores.
    let ceiling_bin = target_dir().join("release/examples/static_ceiling");
    let ceiling_bin = if ceiling_bin.is_file() {
        ceiling_bin
    } else {
        build_ceiling()?
    };
    let settings = Settings {
        seconds: env_number("XTASK_BENCH_SECONDS", 10),
        quiet_wait: env_number("XTASK_BENCH_QUIET_WAIT", 300),
        build: if pgo {
            "release, profile-guided (`cargo xtask build --release --pgo`)"
        } else {
            "release (`cargo xtask build --release`)"
        },
    };
    in_work_dir("tmp-bench-post", "bench-post-report.md", |work| {
        measure(&built, &ceiling_bin, work, &settings)
    })
}

struct Sections {
    build: &'static str,
    fsync: f64,
    fsync_others: Option<f64>,
    sqlite: Vec<DeliveryRun>,
    postgres: Result<(Vec<DeliveryRun>, String)>,
    inbox: Result<crate::bench_inbox::Inbox>,
}

fn measure(
    built: &site::Built,
    ceiling_bin: &Path,
    work: &Path,
    settings: &Settings,
) -> Result<String> {
    step("the disk: fsync rate in the data directory");
    wait_for_quiet(settings.quiet_wait);
    let before = CpuSnapshot::take(None);
    let fsync = fsync_rate(work, Duration::from_secs(3))?;
    let fsync_others = before
        .zip(CpuSnapshot::take(None))
        .map(|(b, a)| b.others_until(&a));
    println!("  {fsync:.0} write+fdatasync per second");

    let sqlite = if part("sqlite") {
        step("delivery on SQLite");
        delivery(built, work, "sqlite", None, settings)?
    } else {
        Vec::new()
    };

    let postgres = match postgres_server() {
        _ if !part("postgres") => Err("skipped (XTASK_BENCH_POST_PARTS)".to_owned()),
        None => Err("skipped (XTASK_BENCH_POSTGRES_URL=none)".to_owned()),
        Some(server) => {
            step("delivery on PostgreSQL");
            delivery_postgres(built, work, &server, settings)
        }
    };
    if let Err(error) = &postgres {
        println!("  PostgreSQL: {error}");
    }

    let inbox = if part("inbox") {
        step("inbox pages on a generated database");
        let server = match postgres_server() {
            None => Err("skipped (XTASK_BENCH_POSTGRES_URL=none)".to_owned()),
            Some(server) => Ok(server),
        };
        crate::bench_inbox::inbox(
            built,
            ceiling_bin,
            work,
            settings.seconds,
            settings.quiet_wait,
            server,
        )
    } else {
        Err("skipped (XTASK_BENCH_POST_PARTS)".to_owned())
    };
    if let Err(error) = &inbox {
        println!("  inbox: {error}");
    }
    Ok(report(&Sections {
        build: settings.build,
        fsync,
        fsync_others,
        sqlite,
        postgres,
        inbox,
    }))
}

// ---------------------------------------------------------------------------------------------
// The disk

/// Appends 4 KiB and `fdatasync`s, again and again, for `time`: how many per second.
fn fsync_rate(dir: &Path, time: Duration) -> Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = fs::File::create(&path).map_err(|e| e.to_string())?;
    let block = vec![0x5a_u8; 4096];
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < time {
        file.write_all(&block).map_err(|e| e.to_string())?;
        file.sync_data().map_err(|e| e.to_string())?;
        count += 1;
    }
    let rate = count as f64 / started.elapsed().as_secs_f64();
    let _ = fs::remove_file(&path);
    Ok(rate)
}

// ---------------------------------------------------------------------------------------------
// Delivery

fn delivery(
    built: &site::Built,
    work: &Path,
    name: &str,
    database_url: Option<&str>,
    settings: &Settings,
) -> Result<Vec<DeliveryRun>> {
    let dir = work.join(format!("delivery-{name}"));
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let host = format!("127.0.0.1:{}", free_port()?);
    let config = write_config(&dir, &host, database_url.unwrap_or(""))?;
    println!("  generating a population (20,000 persons, 100,000 letters)");
    generate(
        built,
        &config,
        &["--persons", "20000", "--letters", "100000", "--big", "1000"],
    )?;
    let recipients = recipients(&dir.join("data"))?;
    let mut portal = start_portal(built, &config, &host, &dir)?;
    let pdf = base64(&pdf_of(100 * 1024));
    let mut runs = Vec::new();
    for (index, mode) in MODES.iter().enumerate() {
        let lists = mode
            .tokens(built, &config, settings.seconds)
            .map_err(|e| portal.failed(e))?;
        wait_for_quiet(settings.quiet_wait);
        let run = deliver_load(&DeliverLoad {
            host: &host,
            mode,
            run: index,
            tokens: lists,
            recipients: &recipients,
            attachment: mode.attachment.then_some(pdf.as_str()),
            seconds: settings.seconds,
            server: portal.id(),
        })
        .map_err(|e| portal.failed(e))?;
        runs.push(run);
    }
    portal.stop_and_report();
    Ok(runs)
}

pub fn postgres_server() -> Option<String> {
    match std::env::var("XTASK_BENCH_POSTGRES_URL") {
        Ok(url) if url == "none" => None,
        Ok(url) if !url.is_empty() => Some(url),
        _ => Some("postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
    }
}

/// A throwaway database on the server, the delivery runs, then the database dropped. Returns
/// the server's durability settings with the runs.
fn delivery_postgres(
    built: &site::Built,
    work: &Path,
    server: &str,
    settings: &Settings,
) -> Result<(Vec<DeliveryRun>, String)> {
    let name = format!("bench_post_{}", std::process::id());
    let psql = |sql: &str| output(Command::new("psql").args([server, "-X", "-A", "-t", "-c", sql]));
    let durability = psql(
        "SELECT 'fsync=' || current_setting('fsync') || ', synchronous_commit=' || \
         current_setting('synchronous_commit') || ', wal_sync_method=' || \
         current_setting('wal_sync_method') || ', version ' || current_setting('server_version')",
    )?;
    println!("  server: {}", durability.trim());
    psql(&format!("CREATE DATABASE {name}"))?;
    let (base, _) = server.rsplit_once('/').ok_or("bad PostgreSQL URL")?;
    let url = format!("{base}/{name}");
    let runs = delivery(built, work, "postgres", Some(&url), settings);
    let dropped = psql(&format!("DROP DATABASE {name} WITH (FORCE)"));
    if let Err(error) = dropped {
        println!("  WARNING: could not drop {name}: {error}");
    }
    Ok((runs?, durability.trim().to_owned()))
}

// ---------------------------------------------------------------------------------------------
// The report

fn delivery_table(md: &mut String, runs: &[DeliveryRun]) {
    let _ = writeln!(
        md,
        "| run | letters/s (201) | p50 | p99 | accepted | seconds | CPU portal / load generator \
         | others' CPU | problems |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---:|---|");
    for run in runs {
        let mut problems = Vec::new();
        if !run.other.is_empty() {
            problems.push(format!("other answers {:?}", run.other));
        }
        if run.failed > 0 {
            problems.push(format!("{} failed calls", run.failed));
        }
        if run.tokens_ran_out {
            problems.push("tokens ran out".into());
        }
        let _ = writeln!(
            md,
            "| {} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.1} | {} / {} | {} | {} |",
            run.mode,
            run.per_second,
            run.p50_ms,
            run.p99_ms,
            run.accepted,
            run.seconds,
            show_cores(run.server_cores),
            show_cores(run.client_cores),
            run.others_cpu
                .map(|o| format!("{:.0} %", o * 100.0))
                .unwrap_or_else(|| "?".into()),
            if problems.is_empty() {
                "none".to_owned()
            } else {
                problems.join("; ")
            }
        );
    }
}

fn report(s: &Sections) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Borgerportal digital post benchmark\n");
    let _ = writeln!(
        md,
        "- date: {}",
        output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"]))
            .unwrap_or_default()
            .trim()
    );
    let _ = writeln!(md, "- machine: {} CPU cores, {}", cpu_count(), cpu_model());
    let _ = writeln!(md, "- commit: {}", git_commit());
    let _ = writeln!(md, "- build: {}", s.build);
    let _ = writeln!(
        md,
        "- disk: {:.0} write+fdatasync per second (4 KiB appends, 3 s, others' CPU {})\n",
        s.fsync,
        s.fsync_others
            .map(|o| format!("{:.0} %", o * 100.0))
            .unwrap_or_else(|| "?".into())
    );
    let _ = writeln!(md, "## Delivery, SQLite\n");
    if s.sqlite.is_empty() {
        let _ = writeln!(md, "Not measured: skipped (XTASK_BENCH_POST_PARTS)");
    } else {
        delivery_table(&mut md, &s.sqlite);
    }
    if let Some(best) = s
        .sqlite
        .iter()
        .filter(|r| !r.mode.starts_with("100 KB"))
        .map(|r| r.per_second)
        .reduce(f64::max)
    {
        let _ = writeln!(
            md,
            "\nBest small-letter rate {best:.0}/s against the target of {DELIVERY_TARGET:.0}/s: {}",
            pass(best >= DELIVERY_TARGET)
        );
    }
    let _ = writeln!(md, "\n## Delivery, PostgreSQL\n");
    match &s.postgres {
        Ok((runs, settings)) => {
            let _ = writeln!(md, "Server: {settings}\n");
            delivery_table(&mut md, runs);
        }
        Err(error) => {
            let _ = writeln!(md, "Not measured: {error}");
        }
    }
    crate::bench_inbox::report(&mut md, &s.inbox);
    md
}
