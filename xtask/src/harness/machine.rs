//! The machine the benchmarks share: CPU time counters (Linux `/proc`), waiting until other
//! processes leave the CPU alone, and what the reports say of the machine and the commit.

use crate::util::workspace_root;
use std::{fs, process::Command, time::Duration};

/// A run during which others used more of the CPU than this is marked as disturbed.
pub const DISTURBED: f64 = 0.05;

/// Wait until other processes have used less than [`DISTURBED`] of the CPU for three seconds
/// in a row, or `max_seconds` have passed (then measure anyway: the report shows it).
pub fn wait_for_quiet(max_seconds: u64) {
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

/// CPU time counters (Linux `/proc`, in clock ticks): the whole machine, the server under
/// test, and this process with its finished children (so wrk once it has exited).
pub struct CpuSnapshot {
    machine_busy: u64,
    machine_all: u64,
    ours: u64,
}

impl CpuSnapshot {
    pub fn take(server: Option<u32>) -> Option<Self> {
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
    pub fn others_until(&self, later: &Self) -> f64 {
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
pub fn process_ticks(path: &str, children: bool) -> Option<u64> {
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

/// The number of CPU cores this process may use.
pub fn cpu_count() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}

/// The CPU's model name from `/proc/cpuinfo`.
pub fn cpu_model() -> String {
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

/// The short commit hash, marked when the work tree has uncommitted changes.
pub fn git_commit() -> String {
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
pub fn command_line(program: &str, args: &[&str]) -> String {
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
