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
//! 3. **Inbox** (`GET /post`, first page of 20, logged in) on a generated database
//!    (`XTASK_BENCH_INBOX_DATA`: a data directory made by `borgerportal generate-data`; else a
//!    small one is made here): for the named persons with 10, 1,000 and 10,000 letters
//!    (`named-persons.tsv`), each logged in through the built-in test eID as a browser does
//!    (login → the eID's form → callback → session cookie), then `wrk -t2 -c64`; and the
//!    static ceiling with the 10-letter page's bytes.
//!
//! Settings: `XTASK_BENCH_SECONDS` (each measured run, default 10), `XTASK_BENCH_QUIET_WAIT`
//! (default 300), `XTASK_BENCH_INBOX_DATA`, `XTASK_BENCH_POST_PARTS` (`sqlite,postgres,inbox`
//! by default; name fewer to run fewer), `XTASK_BENCH_POSTGRES_URL` (a server URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`; default that one; `none` skips
//! PostgreSQL). The report goes to `$CARGO_TARGET_DIR/bench-post-report.md`.

use crate::bench::{
    build_ceiling, cpu_count, cpu_model, ensure_wrk, env_number, git_commit, in_work_dir, load,
    pass, process_ticks, start_ceiling, step, wait_for_quiet, CpuSnapshot, Load, Server,
};
use crate::site;
use crate::tools;
use crate::util::{free_port, output, target_dir, wait_for_http, workspace_root, Result};
use std::{
    fmt::Write as _,
    fs,
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicUsize, Ordering},
    sync::Mutex,
    time::{Duration, Instant},
};

/// Target: small letters per second on SQLite.
const DELIVERY_TARGET: f64 = 2_000.0;
/// Target: inbox requests per second, and p99 below this many milliseconds.
const INBOX_TARGET: f64 = 15_000.0;
const INBOX_P99_TARGET_MS: f64 = 10.0;
/// Agencies in the several-agencies runs.
const AGENCIES: usize = 4;

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
    inbox: Result<Inbox>,
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
        inbox(built, ceiling_bin, work, settings)
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
// The portal under test

/// The configuration the benchmark's portal runs with: release build, test eID (for logins
/// and the agencies' demo keys), no demo data, logs at `warn`, the notification worker off
/// (the outbox rows are still written in each delivery's transaction; sending them is not
/// part of accepting a letter), and `AGENCIES` agencies allowed to deliver.
pub(crate) fn write_config(dir: &Path, host: &str, database_url: &str) -> Result<PathBuf> {
    let data = dir.join("data");
    let mut toml = format!(
        "listen = \"{host}\"\npublic_url = \"http://{host}\"\ndata_dir = \"{}\"\n\
         database_url = \"{database_url}\"\ndemo_data = false\n\n[log]\nformat = \"json\"\n\
         filter = \"warn\"\n\n[test_eid]\nenabled = true\n\n[mail]\ntransport = \"file\"\n\
         from = \"Borgerportal <ikke-svar@borgerportal.invalid>\"\n\n[sms]\ngateway = \"file\"\n\n\
         [notify]\nenabled = false\n",
        data.display()
    );
    for n in 1..=AGENCIES {
        let _ = write!(
            toml,
            "\n[[agencies]]\nid = \"bench-{n}\"\nname = \"Benchmark agency {n}\"\n\
             algorithm = \"ES256\"\npublic_key_file = \"{}\"\ngenerate_key_pair = true\n\
             capabilities = [\"deliver_post\"]\n",
            data.join(format!("agency-{n}/public.pem")).display()
        );
    }
    let path = dir.join("bench.toml");
    fs::write(&path, toml).map_err(|e| e.to_string())?;
    Ok(path)
}

fn portal_command(built: &site::Built, config: &Path) -> Command {
    let mut command = Command::new(&built.server);
    command
        .current_dir(workspace_root())
        .env("BORGERPORTAL_CONFIG", config)
        .env("BORGERPORTAL_SITE_ROOT", &built.site_root)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1");
    command
}

/// The portal with `config`, listening on `host`, its log in `dir`: once it is ready.
pub(crate) fn start_portal(
    built: &site::Built,
    config: &Path,
    host: &str,
    dir: &Path,
) -> Result<Server> {
    let mut portal = Server::spawn(
        "portal",
        &mut portal_command(built, config),
        &dir.join("portal.log"),
    )?;
    wait_for_http(host, "/readyz", 120).map_err(|e| portal.failed(e))?;
    Ok(portal)
}

/// `borgerportal generate-data` into the configured database.
pub(crate) fn generate(built: &site::Built, config: &Path, args: &[&str]) -> Result<String> {
    let started = Instant::now();
    let text = output(
        portal_command(built, config)
            .arg("generate-data")
            .args(args),
    )?;
    let last = text.lines().last().unwrap_or("").to_owned();
    println!(
        "  {last} (command took {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(last)
}

fn tokens(built: &site::Built, config: &Path, agency: usize, count: usize) -> Result<Vec<String>> {
    let text = output(portal_command(built, config).args([
        "api-token",
        "--count",
        &count.to_string(),
        &format!("bench-{agency}"),
    ]))?;
    Ok(text.lines().map(str::to_owned).collect())
}

// ---------------------------------------------------------------------------------------------
// Delivery

struct DeliveryMode {
    name: &'static str,
    agencies: usize,
    connections_per_agency: usize,
    attachment: bool,
}

const MODES: [DeliveryMode; 5] = [
    DeliveryMode {
        name: "small, 1 agency, 1 connection (one at a time)",
        agencies: 1,
        connections_per_agency: 1,
        attachment: false,
    },
    DeliveryMode {
        name: "small, 1 agency, 64 connections",
        agencies: 1,
        connections_per_agency: 64,
        attachment: false,
    },
    DeliveryMode {
        name: "small, 4 agencies × 16 connections",
        agencies: AGENCIES,
        connections_per_agency: 16,
        attachment: false,
    },
    DeliveryMode {
        name: "100 KB PDF, 1 agency, 16 connections",
        agencies: 1,
        connections_per_agency: 16,
        attachment: true,
    },
    DeliveryMode {
        name: "100 KB PDF, 4 agencies × 4 connections",
        agencies: AGENCIES,
        connections_per_agency: 4,
        attachment: true,
    },
];

struct DeliveryRun {
    mode: &'static str,
    accepted: u64,
    other: Vec<(u16, u64)>,
    failed: u64,
    seconds: f64,
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    others_cpu: Option<f64>,
    /// CPU the portal and the load generator (this process) used, in cores.
    server_cores: Option<f64>,
    client_cores: Option<f64>,
    tokens_ran_out: bool,
}

/// The recipients: a sample of generated persons' national ids.
fn recipients(data: &Path) -> Result<Vec<String>> {
    let path = data.join("sample-persons.txt");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ids: Vec<String> = text.lines().map(str::to_owned).collect();
    if ids.is_empty() {
        return Err("no sample persons".into());
    }
    Ok(ids)
}

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
        // Enough tokens for the run at up to 6,000 letters/s (small) or 1,000/s (100 KB).
        let per_second = if mode.attachment { 1_000 } else { 6_000 };
        let budget = (per_second * settings.seconds as usize) / mode.agencies + 200;
        let mut lists = Vec::new();
        for agency in 1..=mode.agencies {
            lists.push(tokens(built, &config, agency, budget).map_err(|e| portal.failed(e))?);
        }
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
    portal.stop();
    portal.keep_log_if_it_panicked();
    for problem in portal.problems() {
        println!("  WARNING: portal: {problem}");
    }
    Ok(runs)
}

/// For the PGO training run (`pgo.rs`): small letters and letters with a PDF from every
/// agency through the API of the portal at `host`, `seconds` each.
pub(crate) fn train_deliveries(
    built: &site::Built,
    config: &Path,
    host: &str,
    data: &Path,
    seconds: u64,
) -> Result<()> {
    let recipients = recipients(data)?;
    let pdf = base64(&pdf_of(100 * 1024));
    for (index, mode) in MODES.iter().enumerate().skip(2).step_by(2) {
        let per_second = if mode.attachment { 1_000 } else { 6_000 };
        let budget = (per_second * seconds as usize) / mode.agencies + 200;
        let mut lists = Vec::new();
        for agency in 1..=mode.agencies {
            lists.push(tokens(built, config, agency, budget)?);
        }
        deliver_load(&DeliverLoad {
            host,
            mode,
            run: index,
            tokens: lists,
            recipients: &recipients,
            attachment: mode.attachment.then_some(pdf.as_str()),
            seconds,
            server: None,
        })?;
    }
    Ok(())
}

fn postgres_server() -> Option<String> {
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

struct DeliverLoad<'a> {
    host: &'a str,
    mode: &'a DeliveryMode,
    run: usize,
    tokens: Vec<Vec<String>>,
    recipients: &'a [String],
    attachment: Option<&'a str>,
    seconds: u64,
    server: Option<u32>,
}

/// What one call saw.
struct Shot {
    status: u16,
    micros: u64,
}

/// One thread per connection, each on its own keep-alive connection, each taking the next
/// token of its agency: a closed loop (a new call when the answer is in).
fn deliver_load(load: &DeliverLoad<'_>) -> Result<DeliveryRun> {
    let DeliverLoad {
        host,
        mode,
        run,
        tokens,
        recipients,
        attachment,
        seconds,
        server,
    } = load;
    let next: Vec<AtomicUsize> = tokens.iter().map(|_| AtomicUsize::new(0)).collect();
    let shots = Mutex::new(Vec::<Shot>::new());
    let failures = AtomicUsize::new(0);
    let ran_out = AtomicUsize::new(0);
    let first_error = Mutex::new(None::<String>);
    let deadline = Instant::now() + Duration::from_secs(*seconds);
    let before = CpuSnapshot::take(*server);
    let server_stat = server.map(|pid| format!("/proc/{pid}/stat"));
    let ticks = || {
        (
            server_stat
                .as_deref()
                .and_then(|path| process_ticks(path, false)),
            process_ticks("/proc/self/stat", false),
        )
    };
    let ticks_before = ticks();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (agency, list) in tokens.iter().enumerate() {
            for _ in 0..mode.connections_per_agency {
                let next = &next[agency];
                let shots = &shots;
                let failures = &failures;
                let ran_out = &ran_out;
                let first_error = &first_error;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    let mut connection: Option<Connection> = None;
                    while Instant::now() < deadline {
                        let index = next.fetch_add(1, Ordering::Relaxed);
                        let Some(token) = list.get(index) else {
                            ran_out.fetch_add(1, Ordering::Relaxed);
                            break;
                        };
                        let body = letter_json(
                            &format!("r{run}-a{}-{index}", agency + 1),
                            &recipients[(index * 7_919 + agency * 104_729) % recipients.len()],
                            *attachment,
                        );
                        let sent = Instant::now();
                        let answer = match connection.as_mut() {
                            Some(c) => c.post(host, "/api/v1/letters", token, &body),
                            None => Connection::open(host).and_then(|mut c| {
                                let answer = c.post(host, "/api/v1/letters", token, &body);
                                connection = Some(c);
                                answer
                            }),
                        };
                        match answer {
                            Ok(status) => mine.push(Shot {
                                status,
                                micros: sent.elapsed().as_micros() as u64,
                            }),
                            Err(error) => {
                                failures.fetch_add(1, Ordering::Relaxed);
                                connection = None;
                                if let Ok(mut first) = first_error.lock() {
                                    first.get_or_insert(error);
                                }
                            }
                        }
                    }
                    if let Ok(mut all) = shots.lock() {
                        all.extend(mine);
                    }
                });
            }
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let ticks_after = ticks();
    // Clock ticks are 1/100 s on Linux.
    let cores = |a: Option<u64>, b: Option<u64>| {
        a.zip(b)
            .map(|(a, b)| b.saturating_sub(a) as f64 / 100.0 / elapsed)
    };
    let server_cores = cores(ticks_before.0, ticks_after.0);
    let client_cores = cores(ticks_before.1, ticks_after.1);
    let others_cpu = before
        .zip(CpuSnapshot::take(*server))
        .map(|(b, a)| b.others_until(&a));
    let shots = shots.into_inner().map_err(|_| "a load thread panicked")?;
    let mut latencies: Vec<u64> = shots
        .iter()
        .filter(|s| s.status == 201)
        .map(|s| s.micros)
        .collect();
    latencies.sort_unstable();
    let accepted = latencies.len() as u64;
    let mut other: Vec<(u16, u64)> = Vec::new();
    for shot in shots.iter().filter(|s| s.status != 201) {
        match other.iter_mut().find(|(status, _)| *status == shot.status) {
            Some((_, n)) => *n += 1,
            None => other.push((shot.status, 1)),
        }
    }
    let percentile = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let at = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[at] as f64 / 1000.0
    };
    let result = DeliveryRun {
        mode: mode.name,
        accepted,
        other,
        failed: failures.load(Ordering::Relaxed) as u64,
        seconds: elapsed,
        per_second: accepted as f64 / elapsed,
        p50_ms: percentile(0.50),
        p99_ms: percentile(0.99),
        others_cpu,
        server_cores,
        client_cores,
        tokens_ran_out: ran_out.load(Ordering::Relaxed) > 0,
    };
    println!(
        "  {}: {:.0} letters/s accepted (201), p50 {:.2} ms, p99 {:.2} ms, {} in {:.1} s, \
         CPU: portal {}, load generator {}{}{}{}",
        result.mode,
        result.per_second,
        result.p50_ms,
        result.p99_ms,
        result.accepted,
        result.seconds,
        show_cores(result.server_cores),
        show_cores(result.client_cores),
        result
            .others_cpu
            .map(|o| format!(", others {:.0} % CPU", o * 100.0))
            .unwrap_or_default(),
        if result.other.is_empty() && result.failed == 0 {
            String::new()
        } else {
            format!(
                "; WARNING: other answers {:?}, {} failed calls{}",
                result.other,
                result.failed,
                first_error
                    .into_inner()
                    .ok()
                    .flatten()
                    .map(|e| format!(" (first: {e})"))
                    .unwrap_or_default()
            )
        },
        if result.tokens_ran_out {
            "; tokens ran out before the time was up"
        } else {
            ""
        }
    );
    Ok(result)
}

fn show_cores(cores: Option<f64>) -> String {
    cores
        .map(|c| format!("{c:.2} cores"))
        .unwrap_or_else(|| "?".into())
}

/// A letter as an agency's system sends it.
fn letter_json(message_id: &str, recipient: &str, attachment: Option<&str>) -> String {
    let attachments = match attachment {
        Some(pdf) => format!("[{{\"filename\": \"vedtak.pdf\", \"content_base64\": \"{pdf}\"}}]"),
        None => "[]".to_owned(),
    };
    format!(
        "{{\"recipient\": \"{recipient}\", \"message_id\": \"{message_id}\", \
         \"title\": \"Vedtak om bostøtte\", \"non_sensitive_title\": \"Brev fra Husbanken\", \
         \"body\": \"<h2>Vedtak</h2><p>Du har fått innvilget bostøtte fra 1. desember. \
         Begrunnelsen står i vedlegget. Du kan klage innen seks uker.</p>\
         <p>Med vennlig hilsen<br>Husbanken</p>\", \"body_kind\": \"html\", \
         \"opening_receipt\": true, \"is_decision\": true, \"attachments\": {attachments}}}"
    )
}

/// A PDF of about `size` bytes that passes the portal's content check.
fn pdf_of(size: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n".to_vec();
    while pdf.len() + 64 < size {
        pdf.extend_from_slice(b"% filler line of a benchmark attachment, not a real page....\n");
    }
    pdf.extend_from_slice(b"startxref\n9\n%%EOF\n");
    pdf
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A keep-alive HTTP/1.1 connection for the load generator.
struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Connection {
    fn open(host: &str) -> std::result::Result<Connection, String> {
        let stream = TcpStream::connect(host).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
        let writer = stream.try_clone().map_err(|e| e.to_string())?;
        Ok(Connection {
            reader: BufReader::new(stream),
            writer,
        })
    }

    /// Sends the letter, reads the whole answer; its status.
    fn post(
        &mut self,
        host: &str,
        path: &str,
        token: &str,
        body: &str,
    ) -> std::result::Result<u16, String> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer
            .write_all(head.as_bytes())
            .and_then(|()| self.writer.write_all(body.as_bytes()))
            .map_err(|e| e.to_string())?;
        let mut line = String::new();
        self.reader
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("no status line: {line:?}"))?;
        let mut length = 0usize;
        let mut close = false;
        loop {
            line.clear();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection")
                    && value.trim().eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        let mut body = vec![0; length];
        self.reader
            .read_exact(&mut body)
            .map_err(|e| e.to_string())?;
        if close {
            return Err(format!(
                "the server closed the connection (status {status})"
            ));
        }
        Ok(status)
    }
}

// ---------------------------------------------------------------------------------------------
// Inbox

struct InboxRun {
    letters: u32,
    load: Load,
    page_bytes: usize,
}

struct Inbox {
    data: String,
    runs: Vec<InboxRun>,
    ceiling: Load,
}

fn inbox(
    built: &site::Built,
    ceiling_bin: &Path,
    work: &Path,
    settings: &Settings,
) -> Result<Inbox> {
    let dir = work.join("inbox");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let host = format!("127.0.0.1:{}", free_port()?);
    let given = std::env::var("XTASK_BENCH_INBOX_DATA")
        .ok()
        .filter(|d| !d.is_empty());
    let config = write_config(&dir, &host, "")?;
    let data_dir = match &given {
        Some(data) => {
            // The given data directory instead of the temporary one.
            let text = fs::read_to_string(&config).map_err(|e| e.to_string())?;
            let text = text.replace(
                &format!("data_dir = \"{}\"", dir.join("data").display()),
                &format!("data_dir = \"{data}\""),
            );
            fs::write(&config, text).map_err(|e| e.to_string())?;
            PathBuf::from(data)
        }
        None => {
            println!(
                "  no XTASK_BENCH_INBOX_DATA: generating 20,000 persons and 300,000 letters here"
            );
            generate(
                built,
                &config,
                &[
                    "--persons",
                    "20000",
                    "--letters",
                    "300000",
                    "--big",
                    "10000",
                ],
            )?;
            dir.join("data")
        }
    };
    let named = named_persons(&data_dir)?;
    let mut portal = start_portal(built, &config, &host, &dir)?;
    let mut runs = Vec::new();
    let mut first_page = None;
    for (letters, national_id) in &named {
        let cookie = login(&host, national_id).map_err(|e| portal.failed(e))?;
        let page = http(&host, "GET", "/post", &[("Cookie", &cookie)], "")
            .map_err(|e| portal.failed(e))?;
        if page.status != 200 {
            return Err(portal.failed(format!(
                "GET /post as the {letters}-letter person: {}",
                page.status
            )));
        }
        first_page.get_or_insert_with(|| page.body.clone());
        println!(
            "  the {letters}-letter person's inbox: {} bytes",
            page.body.len()
        );
        wait_for_quiet(settings.quiet_wait);
        let header = format!("Cookie: {cookie}");
        let measured = load(
            &format!("http://{host}/post"),
            settings.seconds,
            &[&header],
            portal.id(),
        )
        .map_err(|e| portal.failed(e))?;
        runs.push(InboxRun {
            letters: *letters,
            load: measured,
            page_bytes: page.body.len(),
        });
    }
    portal.stop();
    portal.keep_log_if_it_panicked();
    for problem in portal.problems() {
        println!("  WARNING: portal: {problem}");
    }
    let page_file = dir.join("inbox-page.html");
    fs::write(&page_file, first_page.unwrap_or_default()).map_err(|e| e.to_string())?;
    let (mut ceiling, ceiling_host) = start_ceiling(ceiling_bin, &page_file, &dir)?;
    wait_for_quiet(settings.quiet_wait);
    let top = load(
        &format!("http://{ceiling_host}/"),
        settings.seconds,
        &[],
        ceiling.id(),
    )
    .map_err(|e| ceiling.failed(e))?;
    ceiling.stop();
    Ok(Inbox {
        data: given.unwrap_or_else(|| "generated here: 20,000 persons, 300,000 letters".into()),
        runs,
        ceiling: top,
    })
}

/// `letters \t unread \t national id` per line, as `generate-data` writes them.
pub(crate) fn named_persons(data: &Path) -> Result<Vec<(u32, String)>> {
    let path = data.join("named-persons.tsv");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                [letters, _, id] => Ok((
                    letters
                        .parse()
                        .map_err(|_| format!("{}: bad line", path.display()))?,
                    (*id).to_owned(),
                )),
                _ => Err(format!("{}: bad line", path.display())),
            }
        })
        .collect()
}

/// Logs in as a browser does, through the built-in test eID (ID-porten flavour, "another
/// person" with the national id typed in): the session cookie (`name=value`).
pub(crate) fn login(host: &str, national_id: &str) -> Result<String> {
    let start = http(
        host,
        "GET",
        "/auth/login/testid-no?loa=substantial&return_to=/post",
        &[],
        "",
    )?;
    let authorize = start
        .location()
        .ok_or_else(|| format!("login start: {} without a Location", start.status))?;
    let binding = start.cookies();
    let (path_and_query, query) = local(&authorize)
        .split_once('?')
        .map(|(p, q)| (p.to_owned(), q.to_owned()))
        .ok_or("the authorize URL has no query")?;
    let form =
        format!("{query}&person=other&other_id={national_id}&level=substantial&action=login");
    let submitted = http(
        host,
        "POST",
        &path_and_query,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )?;
    let callback = submitted
        .location()
        .ok_or_else(|| format!("test eID: {} without a Location", submitted.status))?;
    let done = http(host, "GET", local(&callback), &[("Cookie", &binding)], "")?;
    let session = done
        .cookies()
        .split("; ")
        .find(|c| c.starts_with("borgerportal_session="))
        .map(str::to_owned)
        .ok_or_else(|| format!("callback: {} without a session cookie", done.status))?;
    Ok(session)
}

/// The path and query of an absolute URL on this host.
fn local(url: &str) -> &str {
    url.strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or(url)
}

pub(crate) struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Answer {
    fn location(&self) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| v.clone())
    }

    /// Every `Set-Cookie`'s `name=value`, joined as a `Cookie` header.
    fn cookies(&self) -> String {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .map(str::trim)
            .collect::<Vec<_>>()
            .join("; ")
    }
}

pub(crate) fn http(
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Answer> {
    let fail = |e: std::io::Error| format!("{method} http://{host}{path}: {e}");
    let mut stream = TcpStream::connect(host).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .map_err(fail)?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).map_err(fail)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(fail)?;
    let parsed = crate::bench::parse_response(&raw)?;
    Ok(Answer {
        status: parsed.status,
        headers: parsed.headers,
        body: parsed.body,
    })
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
    let _ = writeln!(md, "\n## Inbox (`GET /post`, logged in, wrk -t2 -c64)\n");
    match &s.inbox {
        Ok(inbox) => {
            let _ = writeln!(md, "Database: {}\n", inbox.data);
            let _ = writeln!(
                md,
                "| mailbox | req/s | p50 | p99 | page bytes | errors | others' CPU | target |"
            );
            let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---|");
            for run in &inbox.runs {
                let ok = run.load.requests_per_sec >= INBOX_TARGET
                    && run.load.p99_ms < INBOX_P99_TARGET_MS;
                let _ = writeln!(
                    md,
                    "| {} letters | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
                    run.letters,
                    run.load.requests_per_sec,
                    run.load.p50_ms,
                    run.load.p99_ms,
                    run.page_bytes,
                    run.load.errors,
                    run.load
                        .others
                        .map(|o| format!("{:.0} %", o * 100.0))
                        .unwrap_or_else(|| "?".into()),
                    pass(ok)
                );
            }
            let _ = writeln!(
                md,
                "| ceiling (same bytes from memory) | {:.0} | {:.2} ms | {:.2} ms | | {} | {} | |",
                inbox.ceiling.requests_per_sec,
                inbox.ceiling.p50_ms,
                inbox.ceiling.p99_ms,
                inbox.ceiling.errors,
                inbox
                    .ceiling
                    .others
                    .map(|o| format!("{:.0} %", o * 100.0))
                    .unwrap_or_else(|| "?".into()),
            );
            let _ = writeln!(
                md,
                "\nTarget: at least {INBOX_TARGET:.0} req/s with p99 under \
                 {INBOX_P99_TARGET_MS:.0} ms, the same at every mailbox size."
            );
        }
        Err(error) => {
            let _ = writeln!(md, "Not measured: {error}");
        }
    }
    md
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base64_matches_the_standard_alphabet_with_padding() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn the_filler_pdf_has_the_size_and_the_markers() {
        let pdf = pdf_of(100 * 1024);
        assert!(pdf.len() <= 100 * 1024 && pdf.len() > 99 * 1024);
        assert!(pdf.starts_with(b"%PDF-1.4"));
        assert!(pdf.ends_with(b"%%EOF\n"));
    }

    #[test]
    fn urls_become_local_paths() {
        assert_eq!(local("http://127.0.0.1:3000/a/b?c=d"), "/a/b?c=d");
        assert_eq!(local("/x"), "/x");
    }
}
