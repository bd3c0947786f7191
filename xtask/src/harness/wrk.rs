//! The load generator for pages: `wrk`, installed from Debian when missing, its runs measured
//! against the CPU counters and its output parsed.

use super::machine::CpuSnapshot;
use crate::util::{self, find_on_path, output, Result};
use std::process::Command;

/// wrk's load: two threads, 64 connections (as in BUILD.md's measurements).
pub const WRK_THREADS: &str = "2";
pub const WRK_CONNECTIONS: &str = "64";
pub const WARM_UP_SECONDS: u64 = 3;

pub const MIB: f64 = 1024.0 * 1024.0;

/// `wrk` from Debian, when it is not on PATH.
pub fn ensure_wrk() -> Result<()> {
    if find_on_path("wrk").is_none() {
        println!("xtask: installing wrk (the load generator)");
        util::apt_install(&["wrk"])?;
    }
    Ok(())
}

/// One measured `wrk` run.
pub struct Load {
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// wrk's Transfer/sec: response bytes including headers, per second.
    pub bytes_per_sec: f64,
    requests: u64,
    /// Answers other than 2xx/3xx, and socket errors (connect, read, write, timeout).
    pub errors: u64,
    /// Share of the machine's CPU time that neither wrk nor the server used during the
    /// measured run (other processes, the hypervisor's steal), if it could be read.
    pub others: Option<f64>,
}

/// A warm-up run, then the measured run; both must see only 2xx/3xx answers. `server` is the
/// process id of the server under test, to tell its CPU use from everybody else's.
pub fn load(url: &str, seconds: u64, headers: &[&str], server: Option<u32>) -> Result<Load> {
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
pub fn wrk_quietly(url: &str, seconds: u64, headers: &[&str]) -> Result<()> {
    let load = wrk(url, seconds, headers)?;
    if load.errors > 0 {
        println!("  {url}: {} error answers", load.errors);
    }
    Ok(())
}

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
}
