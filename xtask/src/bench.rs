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

use crate::harness::http;
use crate::harness::machine::{
    command_line, cpu_count, cpu_model, git_commit, wait_for_quiet, DISTURBED,
};
use crate::harness::portal::start_development_portal;
use crate::harness::server::{build_ceiling, start_ceiling};
use crate::harness::wrk::{
    ensure_wrk, load, Load, MIB, WARM_UP_SECONDS, WRK_CONNECTIONS, WRK_THREADS,
};
use crate::harness::{env_number, in_work_dir, pass};
use crate::site;
use crate::tools;
use crate::util::{free_port, step, Result};
use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

/// First-load target: under 200 KB of brotli.
const FIRST_LOAD_TARGET: usize = 200 * 1024;
/// SSR throughput target: at least this share of the static ceiling.
const RATIO_TARGET: f64 = 0.30;
/// The brotli quality tower-http's `CompressionLayer` uses by default (0.6: `Precise(4)`).
const ON_THE_FLY_BROTLI_QUALITY: i32 = 4;

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

/// Start the servers, measure, stop them (the guards kill them on every path), and return the
/// report as markdown.
fn measure(
    built: &site::Built,
    ceiling_bin: &Path,
    work: &Path,
    settings: &Settings,
) -> Result<String> {
    let host = format!("127.0.0.1:{}", free_port()?);
    let mut portal = start_development_portal(built, &host, work)?;

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
    let page = http::get(&host, "/", &[]).map_err(|e| portal.failed(e))?;
    let page_file = work.join("front-page.html");
    fs::write(&page_file, &page.body).map_err(|e| e.to_string())?;

    // The ceiling runs beside the portal (idle while the other is measured), so that the two
    // runs compared follow each other closely.
    let (mut ceiling, ceiling_host) = start_ceiling(ceiling_bin, &page_file, work)?;
    let copy = http::get(&ceiling_host, "/", &[]).map_err(|e| ceiling.failed(e))?;
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
    let mut problems: Vec<String> = portal
        .stop_and_report()
        .into_iter()
        .map(|p| format!("portal: {p}"))
        .collect();
    for problem in ceiling.problems() {
        println!("  WARNING: static_ceiling: {problem}");
        problems.push(format!("static_ceiling: {problem}"));
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
    let html = http::get(host, "/", &br)?;
    if html.header("content-encoding") != Some("br") {
        return Err(format!(
            "GET / with Accept-Encoding: br came back as {:?}, not br",
            html.header("content-encoding")
        ));
    }
    let plain = http::get(host, "/", &[])?;
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
    let response = http::get(host, url, &[("Accept-Encoding", "br")])?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_are_separated_by_commas() {
        assert_eq!(thousands(204_800), "204,800");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
