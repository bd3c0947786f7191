//! `cargo xtask bench`: measured, not asserted. Builds in release mode, starts the portal on
//! loopback and reports
//!
//! - the first-load transfer of the front page with brotli: HTML + CSS + JS + WASM, in bytes,
//!   against the target of under 200 KB (204,800 bytes);
//! - server-side rendering throughput and p50/p99 latency of the front page (`wrk`), and in
//!   the same run the same bytes answered from memory by a plain axum handler (the ceiling,
//!   `server/examples/static_ceiling.rs`), as a ratio against the target of at least 30 %;
//! - the throughput of the front page, the WASM and the CSS as served in production to a
//!   browser (`Accept-Encoding: br`: the page compressed on the fly, the assets precompressed).
//!
//! A missed target is reported as MISS, not as a failure: the numbers are for comparing
//! changes (see `docs/benchmarks.md`). Error answers under load and panics in the servers'
//! logs are reported too. The summary also goes to `$CARGO_TARGET_DIR/bench-report.md`.
//!
//! Settings: `XTASK_BENCH_SECONDS` (each measured `wrk` run, default 10),
//! `XTASK_BENCH_ROUNDS` (alternating SSR/ceiling rounds, median shown, default 1),
//! `XTASK_BENCH_QUIET_WAIT` (seconds to wait for other processes to leave the CPU before
//! measuring, default 300). Every run also reports how much CPU other processes took.

use crate::site;
use crate::tools;
use crate::util::{self, free_port, output, target_dir, wait_for_http, workspace_root, Result};
use std::{
    fmt::Write as _,
    fs,
    io::{Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// First-load target: under 200 KB of brotli.
const FIRST_LOAD_TARGET: usize = 200 * 1024;
/// SSR throughput target: at least this share of the static ceiling.
const RATIO_TARGET: f64 = 0.30;
/// The brotli quality tower-http's `CompressionLayer` uses by default (0.6: `Precise(4)`).
const ON_THE_FLY_BROTLI_QUALITY: i32 = 4;
/// wrk's load: two threads, 64 connections (as in BUILD.md's measurements).
const WRK_THREADS: &str = "2";
const WRK_CONNECTIONS: &str = "64";
const WARM_UP_SECONDS: u64 = 3;
/// A run during which others used more of the CPU than this is marked as disturbed.
const DISTURBED: f64 = 0.05;

pub fn run() -> Result<()> {
    tools::ensure_build_tools()?;
    let built = site::build(true)?;
    ensure_wrk()?;
    let ceiling_bin = build_ceiling()?;
    let settings = Settings {
        seconds: env_number("XTASK_BENCH_SECONDS", 10),
        rounds: env_number("XTASK_BENCH_ROUNDS", 1),
        quiet_wait: env_number("XTASK_BENCH_QUIET_WAIT", 300),
    };

    in_work_dir("tmp-bench", "bench-report.md", |work| {
        measure(&built, &ceiling_bin, work, &settings)
    })
}

/// Runs `measure` in a fresh work folder under the target dir (removed afterwards, also on
/// failure), then prints its markdown report and writes it to `report` in the target dir.
pub(crate) fn in_work_dir(
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

/// How long and how often to measure.
struct Settings {
    /// Length of each measured wrk run (`XTASK_BENCH_SECONDS`, default 10).
    seconds: u64,
    /// SSR and ceiling runs, alternating; the median of each counts (`XTASK_BENCH_ROUNDS`,
    /// default 1). More rounds steady the ratio on a machine that is not quiet.
    rounds: u64,
    /// Before measuring, wait up to this many seconds for other processes to leave the CPU
    /// alone (`XTASK_BENCH_QUIET_WAIT`, default 300).
    quiet_wait: u64,
}

pub(crate) fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(default)
}

/// Start the servers, measure, stop them (the guards kill them on every path), and return the
/// report as markdown.
fn measure(
    built: &site::Built,
    ceiling_bin: &Path,
    work: &Path,
    settings: &Settings,
) -> Result<String> {
    let root = workspace_root();
    let port = free_port()?;
    let host = format!("127.0.0.1:{port}");
    let data = work.join("data");
    let mut portal = Server::spawn(
        "portal",
        Command::new(&built.server)
            .current_dir(&root)
            .env("BORGERPORTAL_CONFIG", root.join("config/development.toml"))
            .env("BORGERPORTAL_SITE_ROOT", &built.site_root)
            .env("BORGERPORTAL_DATA_DIR", &data)
            .env("BORGERPORTAL_LISTEN", &host)
            .env("BORGERPORTAL_PUBLIC_URL", format!("http://{host}"))
            .env("BORGERPORTAL_DEMO_DATA", "true")
            .env("BORGERPORTAL_LOG__FILTER", "warn")
            .env("RUST_LOG", "warn")
            .env("RUST_BACKTRACE", "1"),
        &work.join("portal.log"),
    )?;
    wait_for_http(&host, "/readyz", 60).map_err(|e| portal.failed(e))?;

    step("first-load transfer of the front page (brotli)");
    let first_load = first_load(&host, &built.site_root).map_err(|e| portal.failed(e))?;
    for part in &first_load.parts {
        println!("  {:<5} {:>9} bytes  {}", part.kind, part.bytes, part.url);
    }
    println!(
        "  total {:>9} bytes  (target < {FIRST_LOAD_TARGET}): {}",
        first_load.total(),
        pass(first_load.total() < FIRST_LOAD_TARGET)
    );

    // The exact bytes the load generator will get: no Accept-Encoding, as wrk sends.
    let page = http_get(&host, "/", &[]).map_err(|e| portal.failed(e))?;
    let page_file = work.join("front-page.html");
    fs::write(&page_file, &page.body).map_err(|e| e.to_string())?;

    // The ceiling runs beside the portal (idle while the other is measured), so that the two
    // runs compared follow each other closely.
    let (mut ceiling, ceiling_host) = start_ceiling(ceiling_bin, &page_file, work)?;
    let copy = http_get(&ceiling_host, "/", &[]).map_err(|e| ceiling.failed(e))?;
    if copy.body != page.body {
        return Err(ceiling.failed("the ceiling does not answer the front page's bytes".into()));
    }

    wait_for_quiet(settings.quiet_wait);
    let seconds = settings.seconds;
    println!(
        "\nxtask: wrk ({WRK_THREADS} threads, {WRK_CONNECTIONS} connections, {seconds} s after a \
         {WARM_UP_SECONDS} s warm-up) and the server under test share this machine's {} CPU \
         cores: every throughput below is bounded by that. \"others\" is the CPU that \
         neither wrk nor the server used during the run (other processes, the hypervisor's \
         steal).",
        cpu_count()
    );
    step("server-side rendering of the front page (portal) against the ceiling");
    let front = format!("http://{host}/");
    let top_url = format!("http://{ceiling_host}/");
    let mut ssr_runs = Vec::new();
    let mut ceiling_runs = Vec::new();
    for round in 1..=settings.rounds {
        if settings.rounds > 1 {
            println!("  round {round} of {}", settings.rounds);
        }
        ssr_runs.push(load(&front, seconds, &[], portal.id()).map_err(|e| portal.failed(e))?);
        ceiling_runs
            .push(load(&top_url, seconds, &[], ceiling.id()).map_err(|e| ceiling.failed(e))?);
    }
    ceiling.stop();
    let ssr = median(ssr_runs);
    let top = median(ceiling_runs);
    let ratio = ssr.requests_per_sec / top.requests_per_sec;
    println!(
        "\n  SSR / ceiling = {:.1} % (target >= {:.0} %): {}",
        ratio * 100.0,
        RATIO_TARGET * 100.0,
        pass(ratio >= RATIO_TARGET)
    );

    step("as served in production (Accept-Encoding: br): the front page, WASM, CSS");
    wait_for_quiet(settings.quiet_wait);
    let mut assets = Vec::new();
    for kind in ["html", "wasm", "css"] {
        let Some(part) = first_load.parts.iter().find(|p| p.kind == kind) else {
            continue;
        };
        let url = format!("http://{host}{}", part.url);
        let measured = load(&url, seconds, &["Accept-Encoding: br"], portal.id())
            .map_err(|e| portal.failed(e))?;
        assets.push((kind, part.url.clone(), part.bytes, measured));
    }
    portal.stop();
    portal.keep_log_if_it_panicked();
    let mut problems: Vec<String> = portal
        .problems()
        .into_iter()
        .map(|p| format!("portal: {p}"))
        .collect();
    problems.extend(
        ceiling
            .problems()
            .into_iter()
            .map(|p| format!("static_ceiling: {p}")),
    );
    for problem in &problems {
        println!("  WARNING: {problem}");
    }

    Ok(report(&Report {
        first_load: &first_load,
        page_bytes: page.body.len(),
        portal_head_bytes: page.head_len,
        ceiling_head_bytes: copy.head_len,
        ssr: &ssr,
        ceiling: &top,
        ratio,
        assets: &assets,
        settings,
        problems: &problems,
    }))
}

/// Starts the static ceiling answering `page_file`'s bytes on a free port (its log in
/// `work`), once it answers: the server and its `host:port`.
pub(crate) fn start_ceiling(
    ceiling_bin: &Path,
    page_file: &Path,
    work: &Path,
) -> Result<(Server, String)> {
    let host = format!("127.0.0.1:{}", free_port()?);
    let mut ceiling = Server::spawn(
        "static_ceiling",
        Command::new(ceiling_bin).arg(page_file).arg(&host),
        &work.join("ceiling.log"),
    )?;
    wait_for_http(&host, "/", 30).map_err(|e| ceiling.failed(e))?;
    Ok((ceiling, host))
}

/// Wait until other processes have used less than [`DISTURBED`] of the CPU for three seconds
/// in a row, or `max_seconds` have passed (then measure anyway: the report shows it).
pub(crate) fn wait_for_quiet(max_seconds: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(max_seconds);
    let mut quiet_seconds = 0;
    let mut said = false;
    while quiet_seconds < 3 {
        let before = CpuSnapshot::take(None);
        std::thread::sleep(Duration::from_secs(1));
        let Some(busy) = before
            .zip(CpuSnapshot::take(None))
            .map(|(b, a)| b.others_until(&a))
        else {
            return;
        };
        if busy < DISTURBED {
            quiet_seconds += 1;
            continue;
        }
        quiet_seconds = 0;
        if std::time::Instant::now() >= deadline {
            println!(
                "xtask: the machine is still busy ({:.0} % CPU); measuring anyway",
                busy * 100.0
            );
            return;
        }
        if !said {
            println!(
                "xtask: other processes are using {:.0} % of the CPU; waiting up to {max_seconds} s \
                 for quiet (XTASK_BENCH_QUIET_WAIT)",
                busy * 100.0
            );
            said = true;
        }
    }
    if said {
        println!("xtask: quiet now");
    }
}

/// The run with the median throughput (the lower middle one of an even count).
fn median(mut runs: Vec<Load>) -> Load {
    runs.sort_by(|a, b| a.requests_per_sec.total_cmp(&b.requests_per_sec));
    let middle = runs.len().saturating_sub(1) / 2;
    runs.swap_remove(middle)
}

// ---------------------------------------------------------------------------------------------
// First-load transfer

struct Part {
    kind: &'static str,
    url: String,
    bytes: usize,
}

struct FirstLoad {
    parts: Vec<Part>,
    /// The HTML compressed here at tower-http's default quality (a cross-check).
    html_local_q4: usize,
    /// The HTML's size without compression.
    html_raw: usize,
}

impl FirstLoad {
    fn total(&self) -> usize {
        self.parts.iter().map(|p| p.bytes).sum()
    }
}

/// Fetch the front page with `Accept-Encoding: br` (compressed on the fly by the server's
/// `CompressionLayer`), then every hashed asset it names, with brotli, checking that each
/// comes back precompressed with exactly the size of the `.br` file the build wrote.
fn first_load(host: &str, site_root: &Path) -> Result<FirstLoad> {
    let br = [("Accept-Encoding", "br")];
    let html = http_get(host, "/", &br)?;
    if html.header("content-encoding") != Some("br") {
        return Err(format!(
            "GET / with Accept-Encoding: br came back as {:?}, not br",
            html.header("content-encoding")
        ));
    }
    let plain = http_get(host, "/", &[])?;
    let text = String::from_utf8_lossy(&plain.body).into_owned();
    let html_local_q4 = brotli_size(&plain.body, ON_THE_FLY_BROTLI_QUALITY)?;

    let hashes = fs::read_to_string(site_root.join("hash.txt"))
        .map_err(|e| format!("{}: {e}", site_root.join("hash.txt").display()))?;
    let mut parts = vec![Part {
        kind: "html",
        url: "/".into(),
        bytes: html.body.len(),
    }];
    for kind in ["css", "js", "wasm"] {
        let hash = hashes
            .lines()
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.trim() == kind)
            .map(|(_, v)| v.trim())
            .ok_or_else(|| format!("hash.txt names no {kind} hash"))?;
        let url = format!("/pkg/borgerportal.{hash}.{kind}");
        if !text.contains(&url) {
            return Err(format!("the front page does not reference {url}"));
        }
        parts.push(asset(host, site_root, kind, &url)?);
    }
    // wasm-bindgen snippets are JS modules the glue imports: part of the first load too.
    let snippets = site_root.join("pkg/snippets");
    if snippets.exists() {
        let mut files = Vec::new();
        list_files(&snippets, &mut files)?;
        for file in files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "js"))
        {
            let relative = file
                .strip_prefix(site_root)
                .map_err(|e| e.to_string())?
                .to_string_lossy()
                .replace('\\', "/");
            parts.push(asset(host, site_root, "js", &format!("/{relative}"))?);
        }
    }
    Ok(FirstLoad {
        parts,
        html_local_q4,
        html_raw: plain.body.len(),
    })
}

/// GET one asset with brotli; its body must be the build's `.br` file.
fn asset(host: &str, site_root: &Path, kind: &'static str, url: &str) -> Result<Part> {
    let response = http_get(host, url, &[("Accept-Encoding", "br")])?;
    if response.status != 200 || response.header("content-encoding") != Some("br") {
        return Err(format!(
            "GET {url} with Accept-Encoding: br: status {}, content-encoding {:?} \
             (expected 200, br)",
            response.status,
            response.header("content-encoding")
        ));
    }
    let file = site_root.join(format!("{}.br", url.trim_start_matches('/')));
    let on_disk = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    if on_disk != response.body {
        return Err(format!(
            "GET {url} sent {} bytes of brotli, but {} holds {} bytes",
            response.body.len(),
            file.display(),
            on_disk.len()
        ));
    }
    Ok(Part {
        kind,
        url: url.to_owned(),
        bytes: response.body.len(),
    })
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            list_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

fn brotli_size(bytes: &[u8], quality: i32) -> Result<usize> {
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        ..Default::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).map_err(|e| e.to_string())?;
    Ok(out.len())
}

// ---------------------------------------------------------------------------------------------
// A minimal HTTP/1.1 client (loopback only)

pub(crate) struct HttpResponse {
    pub(crate) status: u16,
    /// Bytes of the status line and headers, including the blank line.
    head_len: usize,
    pub(crate) headers: Vec<(String, String)>,
    /// The body with any chunked transfer encoding removed (content encoding kept).
    pub(crate) body: Vec<u8>,
}

impl HttpResponse {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn http_get(host: &str, path: &str, headers: &[(&str, &str)]) -> Result<HttpResponse> {
    let fail = |e: std::io::Error| format!("GET http://{host}{path}: {e}");
    let mut stream = TcpStream::connect(host).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(fail)?;
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        let _ = write!(request, "{name}: {value}\r\n");
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(fail)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(fail)?;
    parse_response(&raw).map_err(|e| format!("GET http://{host}{path}: {e}"))
}

pub(crate) fn parse_response(raw: &[u8]) -> Result<HttpResponse> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers in the response")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut response = HttpResponse {
        status,
        head_len: end + 4,
        headers,
        body: Vec::new(),
    };
    let rest = &raw[end + 4..];
    response.body = if response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        dechunk(rest)?
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length.parse().map_err(|_| "bad content-length")?;
        if rest.len() < length {
            return Err(format!("body cut short: {} of {length} bytes", rest.len()));
        }
        rest[..length].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("chunked body: no chunk size line")?;
        let line = String::from_utf8_lossy(&rest[..line_end]).into_owned();
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("chunked body: bad chunk size {size_text:?}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        if rest.len() < size + 2 {
            return Err("chunked body cut short".into());
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

// ---------------------------------------------------------------------------------------------
// Servers under test

/// A child process that is killed when dropped, so no server outlives the benchmark.
pub(crate) struct Server {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    pub(crate) fn spawn(name: &'static str, command: &mut Command, log: &Path) -> Result<Self> {
        let file = fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(file.try_clone().map_err(|e| e.to_string())?)
            .stderr(file)
            .spawn()
            .map_err(|e| format!("could not start `{}`: {e}", util::describe(command)))?;
        Ok(Self {
            name,
            child: Some(child),
            log: log.to_owned(),
        })
    }

    pub(crate) fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then wait up to 30 s for the process to exit (it finishes what it is doing
    /// and, when instrumented, writes its profile); killed if it does not.
    pub(crate) fn terminate(&mut self) -> Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("{} exited with {status}", self.name)),
                Ok(None) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("{} did not exit within 30 s of SIGTERM", self.name));
                }
            }
        }
    }

    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// When the server panicked: its log (with the backtraces, `RUST_BACKTRACE=1`) copied
    /// beside the reports, since the working folder is removed at the end. Prints where.
    pub(crate) fn keep_log_if_it_panicked(&self) {
        if self.problems().is_empty() {
            return;
        }
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let kept = target_dir().join(format!("bench-{}-{seconds}.log", self.name));
        match fs::copy(&self.log, &kept) {
            Ok(_) => println!(
                "  {} panicked: its log is kept in {}",
                self.name,
                kept.display()
            ),
            Err(error) => println!(
                "  {} panicked; its log could not be kept: {error}",
                self.name
            ),
        }
    }

    /// The distinct panic messages in the server's log (at most a few).
    pub(crate) fn problems(&self) -> Vec<String> {
        let text = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let mut problems: Vec<String> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            if let Some(at) = line.find("panicked at ") {
                let place = line[at + "panicked at ".len()..].trim_end_matches(':');
                let message = lines.get(i + 1).copied().unwrap_or("").trim();
                let problem = format!("panic at {place}: {message}");
                if !problems.contains(&problem) && problems.len() < 5 {
                    problems.push(problem);
                }
            }
        }
        problems
    }

    /// Stop the server and show its panics and the end of its log with `error`.
    pub(crate) fn failed(&mut self, error: String) -> String {
        self.stop();
        let error = match self.problems() {
            problems if problems.is_empty() => error,
            problems => format!("{error}\n{}: {}", self.name, problems.join("\n")),
        };
        let tail = fs::read_to_string(&self.log)
            .map(|text| {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(30)..].join("\n")
            })
            .unwrap_or_default();
        if tail.is_empty() {
            error
        } else {
            format!(
                "{error}\n--- last lines of the {} log ---\n{tail}",
                self.name
            )
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

pub(crate) fn build_ceiling() -> Result<PathBuf> {
    util::run(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(workspace_root())
            .args([
                "build",
                "--release",
                "-p",
                "server",
                "--example",
                "static_ceiling",
            ]),
    )?;
    Ok(target_dir().join("release/examples/static_ceiling"))
}

// ---------------------------------------------------------------------------------------------
// The load generator

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

pub(crate) fn ensure_wrk() -> Result<()> {
    if find_on_path("wrk").is_none() {
        println!("xtask: installing wrk (the load generator)");
        util::apt_install(&["wrk"])?;
    }
    Ok(())
}

pub(crate) struct Load {
    pub(crate) requests_per_sec: f64,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    /// wrk's Transfer/sec: response bytes including headers, per second.
    bytes_per_sec: f64,
    requests: u64,
    /// Answers other than 2xx/3xx, and socket errors (connect, read, write, timeout).
    pub(crate) errors: u64,
    /// Share of the machine's CPU time that neither wrk nor the server used during the
    /// measured run (other processes, the hypervisor's steal), if it could be read.
    pub(crate) others: Option<f64>,
}

/// A warm-up run, then the measured run; both must see only 2xx/3xx answers. `server` is the
/// process id of the server under test, to tell its CPU use from everybody else's.
pub(crate) fn load(url: &str, seconds: u64, headers: &[&str], server: Option<u32>) -> Result<Load> {
    wrk(url, WARM_UP_SECONDS, headers)?;
    let before = CpuSnapshot::take(server);
    let mut measured = wrk(url, seconds, headers)?;
    let after = CpuSnapshot::take(server);
    measured.others = before.zip(after).map(|(b, a)| b.others_until(&a));
    let others = measured
        .others
        .map(|o| format!(", others {:.0} % CPU", o * 100.0))
        .unwrap_or_default();
    println!(
        "  {url}: {:.0} req/s, p50 {:.2} ms, p99 {:.2} ms, {:.1} MiB/s ({} requests{others})",
        measured.requests_per_sec,
        measured.p50_ms,
        measured.p99_ms,
        measured.bytes_per_sec / MIB,
        measured.requests
    );
    if measured.errors > 0 {
        println!(
            "  WARNING: {} of these answers were errors (non-2xx/3xx or socket errors)",
            measured.errors
        );
    }
    Ok(measured)
}

/// CPU time counters (Linux `/proc`, in clock ticks): the whole machine, the server under
/// test, and this process with its finished children (so wrk once it has exited).
pub(crate) struct CpuSnapshot {
    machine_busy: u64,
    machine_all: u64,
    ours: u64,
}

impl CpuSnapshot {
    pub(crate) fn take(server: Option<u32>) -> Option<Self> {
        let stat = fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().find(|l| l.starts_with("cpu "))?;
        let ticks: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(8)
            .filter_map(|n| n.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal. Busy is everything but idle and
        // iowait: the kernel charges the softirq time of our loopback traffic to the process
        // it interrupted, so it shows up in the processes' own times too.
        let [_, _, _, idle, iowait, ..] = ticks.as_slice() else {
            return None;
        };
        let machine_all: u64 = ticks.iter().sum();
        let server_ticks = match server {
            Some(pid) => process_ticks(&format!("/proc/{pid}/stat"), false)?,
            None => 0,
        };
        Some(Self {
            machine_busy: machine_all - idle - iowait,
            machine_all,
            ours: server_ticks + process_ticks("/proc/self/stat", true)?,
        })
    }

    /// The share of all CPU time between `self` and `later` that was busy but not ours.
    pub(crate) fn others_until(&self, later: &Self) -> f64 {
        let all = later.machine_all.saturating_sub(self.machine_all);
        let busy = later.machine_busy.saturating_sub(self.machine_busy);
        let ours = later.ours.saturating_sub(self.ours);
        if all == 0 {
            0.0
        } else {
            busy.saturating_sub(ours) as f64 / all as f64
        }
    }
}

/// utime + stime of a process (and cutime + cstime of its reaped children if asked).
pub(crate) fn process_ticks(path: &str, children: bool) -> Option<u64> {
    let stat = fs::read_to_string(path).ok()?;
    // Fields after the command name in parentheses, starting with field 3 (state).
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    let [utime, stime, cutime, cstime] = fields.as_slice() else {
        return None;
    };
    Some(if children {
        utime + stime + cutime + cstime
    } else {
        utime + stime
    })
}

fn wrk(url: &str, seconds: u64, headers: &[&str]) -> Result<Load> {
    let mut command = Command::new("wrk");
    command.args([
        "-t",
        WRK_THREADS,
        "-c",
        WRK_CONNECTIONS,
        "-d",
        &format!("{seconds}s"),
        "--latency",
    ]);
    for header in headers {
        command.args(["-H", header]);
    }
    command.arg(url);
    let text = output(&mut command)?;
    parse_wrk(&text).map_err(|e| format!("{e} in wrk's output for {url}:\n{text}"))
}

/// Load on `url` for `seconds`, without a warm-up or a report: for the PGO training run, which
/// wants the work done, not measured. A page that answers with errors is said, not fatal.
pub(crate) fn wrk_quietly(url: &str, seconds: u64, headers: &[&str]) -> Result<()> {
    let load = wrk(url, seconds, headers)?;
    if load.errors > 0 {
        println!("  {url}: {} error answers", load.errors);
    }
    Ok(())
}

const MIB: f64 = 1024.0 * 1024.0;

fn parse_wrk(text: &str) -> Result<Load> {
    let mut requests_per_sec = None;
    let mut p50_ms = None;
    let mut p99_ms = None;
    let mut bytes_per_sec = None;
    let mut requests = None;
    let mut errors = 0;
    for line in text.lines().map(str::trim) {
        let mut words = line.split_whitespace();
        match (words.next(), words.next()) {
            (Some("Requests/sec:"), Some(v)) => requests_per_sec = v.parse().ok(),
            (Some("Transfer/sec:"), Some(v)) => bytes_per_sec = parse_bytes(v),
            (Some("50%"), Some(v)) => p50_ms = parse_duration_ms(v),
            (Some("99%"), Some(v)) => p99_ms = parse_duration_ms(v),
            (Some(n), Some("requests")) => requests = n.parse().ok(),
            // `Non-2xx or 3xx responses: 26`, `Socket errors: connect 0, read 1, write 0, timeout 0`
            (Some("Non-2xx" | "Socket"), _) => {
                let counts = line.split_once(':').map_or("", |(_, counts)| counts);
                errors += counts
                    .split(|c: char| !c.is_ascii_digit())
                    .filter_map(|n| n.parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    let requests: u64 = requests.ok_or("no request count")?;
    if requests == 0 {
        return Err("no request succeeded".into());
    }
    Ok(Load {
        requests_per_sec: requests_per_sec.ok_or("no Requests/sec")?,
        p50_ms: p50_ms.ok_or("no 50% latency")?,
        p99_ms: p99_ms.ok_or("no 99% latency")?,
        bytes_per_sec: bytes_per_sec.ok_or("no Transfer/sec")?,
        requests,
        errors,
        others: None,
    })
}

/// wrk's durations: `812.00us`, `1.23ms`, `2.00s`, `1.00m`.
fn parse_duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some(number * factor)
}

/// wrk's byte counts are binary: `812.00B`, `1.50KB`, `80.21MB`, `1.02GB`.
fn parse_bytes(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => MIB,
        "GB" => MIB * 1024.0,
        "TB" => MIB * MIB,
        _ => return None,
    };
    Some(number * factor)
}

// ---------------------------------------------------------------------------------------------
// The report

struct Report<'a> {
    first_load: &'a FirstLoad,
    page_bytes: usize,
    portal_head_bytes: usize,
    ceiling_head_bytes: usize,
    ssr: &'a Load,
    ceiling: &'a Load,
    ratio: f64,
    assets: &'a [(&'static str, String, usize, Load)],
    settings: &'a Settings,
    /// Panics in the servers' logs.
    problems: &'a [String],
}

fn report(r: &Report) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Borgerportal benchmark\n");
    let _ = writeln!(
        md,
        "- date: {}",
        command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
    );
    let _ = writeln!(md, "- machine: {} CPU cores, {}", cpu_count(), cpu_model());
    let _ = writeln!(md, "- commit: {}", git_commit());
    let _ = writeln!(
        md,
        "- tools: {}, {}",
        command_line("rustc", &["--version"]),
        command_line("wrk", &["-v"])
            .lines()
            .next()
            .unwrap_or("wrk")
            .split(" Copyright")
            .next()
            .unwrap_or("wrk")
    );
    let rounds = match r.settings.rounds {
        1 => String::new(),
        n => format!("; SSR and ceiling in {n} alternating rounds, the median of each shown"),
    };
    let _ = writeln!(
        md,
        "- load: `wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{}s --latency` after a \
         {WARM_UP_SECONDS} s warm-up, on loopback; wrk and the server share the same {} \
         cores{rounds}",
        r.settings.seconds,
        cpu_count()
    );

    let fl = r.first_load;
    let _ = writeln!(md, "\n## First-load transfer of the front page (brotli)\n");
    let _ = writeln!(md, "| part | URL | bytes |");
    let _ = writeln!(md, "|---|---|---:|");
    for part in &fl.parts {
        let _ = writeln!(
            md,
            "| {} | `{}` | {} |",
            part.kind,
            part.url,
            thousands(part.bytes)
        );
    }
    let total = fl.total();
    let _ = writeln!(
        md,
        "| **total** | | **{}** ({:.1} KiB) |",
        thousands(total),
        total as f64 / 1024.0
    );
    let _ = writeln!(
        md,
        "\nTarget: under {} bytes (200 KB): **{}**. The HTML is compressed on the fly by the \
         server (tower-http `CompressionLayer`, brotli quality {ON_THE_FLY_BROTLI_QUALITY}); \
         uncompressed it is {} bytes, compressed here at the same quality {} bytes. CSS, JS \
         and WASM are the build's precompressed `.br` files (quality 11), checked byte for \
         byte against what the server sent.",
        thousands(FIRST_LOAD_TARGET),
        pass(total < FIRST_LOAD_TARGET),
        thousands(fl.html_raw),
        thousands(fl.html_local_q4)
    );

    let _ = writeln!(md, "\n## Throughput on loopback\n");
    let _ = writeln!(
        md,
        "| what | req/s | p50 | p99 | MiB/s | errors | others' CPU |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|");
    let row = |md: &mut String, what: &str, l: &Load| {
        let others = l
            .others
            .map(|o| format!("{:.0} %", o * 100.0))
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            md,
            "| {what} | {} | {:.2} ms | {:.2} ms | {:.1} | {} | {others} |",
            thousands(l.requests_per_sec.round() as usize),
            l.p50_ms,
            l.p99_ms,
            l.bytes_per_sec / MIB,
            l.errors
        );
    };
    row(
        &mut md,
        &format!(
            "front page, SSR (portal, {} B HTML)",
            thousands(r.page_bytes)
        ),
        r.ssr,
    );
    row(
        &mut md,
        "same bytes from memory (plain axum, the ceiling)",
        r.ceiling,
    );
    for (kind, _url, bytes, l) in r.assets {
        let what = if *kind == "html" {
            format!(
                "front page, SSR, as browsers get it (brotli on the fly, {} B)",
                thousands(*bytes)
            )
        } else {
            format!(
                "{} as served (precompressed brotli, {} B)",
                kind.to_uppercase(),
                thousands(*bytes)
            )
        };
        row(&mut md, &what, l);
    }
    let _ = writeln!(
        md,
        "\nSSR / ceiling: **{:.1} %** (target at least {:.0} %): **{}**. Uncompressed (wrk sends \
         no Accept-Encoding). Response headers: {} bytes from the portal (security headers, \
         request id), {} from the ceiling. MiB/s is wrk's Transfer/sec (headers included). \
         \"Others' CPU\" is the share of the machine's CPU time that neither wrk nor the \
         server used during the run: above a few per cent, the run was disturbed.",
        r.ratio * 100.0,
        RATIO_TARGET * 100.0,
        pass(r.ratio >= RATIO_TARGET),
        r.portal_head_bytes,
        r.ceiling_head_bytes
    );
    let worst = [r.ssr, r.ceiling]
        .into_iter()
        .chain(r.assets.iter().map(|(_, _, _, l)| l))
        .filter_map(|l| l.others)
        .fold(0.0_f64, f64::max);
    let errors: u64 = [r.ssr, r.ceiling]
        .into_iter()
        .chain(r.assets.iter().map(|(_, _, _, l)| l))
        .map(|l| l.errors)
        .sum();
    if errors > 0 || !r.problems.is_empty() {
        let _ = writeln!(
            md,
            "\n**Errors:** {errors} answers in the measured runs were errors (non-2xx/3xx or \
             socket errors); the numbers include them. The servers' logs:\n"
        );
        for problem in r.problems {
            let _ = writeln!(md, "- `{problem}`");
        }
    }
    if worst > DISTURBED {
        let _ = writeln!(
            md,
            "\n**Disturbed:** other processes used up to {:.0} % of the CPU during a run; \
             these throughputs are low. Repeat on a quiet machine (`XTASK_BENCH_ROUNDS=3` \
             helps).",
            worst * 100.0
        );
    }
    md
}

pub(crate) fn step(name: &str) {
    println!("\n=== {name} ===");
}

pub(crate) fn pass(ok: bool) -> &'static str {
    if ok {
        "PASS"
    } else {
        "MISS"
    }
}

fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub(crate) fn cpu_count() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

pub(crate) fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

pub(crate) fn git_commit() -> String {
    let commit = command_line("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = Command::new("git")
        .current_dir(workspace_root())
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .map(|o| !o.stdout.is_empty())
        .unwrap_or(false);
    if dirty {
        format!("{commit} (with uncommitted changes)")
    } else {
        commit
    }
}

/// The first line of a command's output, or `?`.
fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .current_dir(workspace_root())
        .args(args)
        .output()
        .ok()
        .map(|o| {
            let text = if o.stdout.is_empty() {
                o.stderr
            } else {
                o.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("?")
                .trim()
                .to_owned()
        })
        .unwrap_or_else(|| "?".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_wrk_output() {
        let text = "Running 10s test @ http://127.0.0.1:3000/\n  2 threads and 64 connections\n\
            \x20 Thread Stats   Avg      Stdev     Max   +/- Stdev\n\
            \x20   Latency     1.40ms  500.00us  20.00ms   80.00%\n\
            \x20 Latency Distribution\n     50%  812.00us\n     75%    1.50ms\n\
            \x20    90%    2.00ms\n     99%    2.70ms\n\
            \x20 450123 requests in 10.00s, 800.50MB read\n\
            Requests/sec:  45012.30\nTransfer/sec:     80.05MB\n";
        let load = match parse_wrk(text) {
            Ok(load) => load,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(load.requests, 450_123);
        assert!((load.requests_per_sec - 45_012.3).abs() < 0.01);
        assert!((load.p50_ms - 0.812).abs() < 1e-9);
        assert!((load.p99_ms - 2.7).abs() < 1e-9);
        assert!((load.bytes_per_sec - 80.05 * MIB).abs() < 1.0);
        assert_eq!(load.errors, 0);
        let with_errors = text.replace(
            "Requests/sec",
            "  Socket errors: connect 0, read 2, write 0, timeout 1\n  \
             Non-2xx or 3xx responses: 5\nRequests/sec",
        );
        assert_eq!(parse_wrk(&with_errors).map(|l| l.errors), Ok(8));
    }

    #[test]
    fn reads_chunked_and_sized_responses() {
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n";
        let response = match parse_response(chunked) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"hello world");
        let sized = b"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nabc";
        let response = match parse_response(sized) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(
            (response.status, response.body.as_slice()),
            (404, &b"abc"[..])
        );
        assert_eq!(thousands(204_800), "204,800");
    }
}
