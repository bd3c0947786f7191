//! Servers under test: a child process with its log, killed when dropped so that none outlives
//! a run, or stopped with SIGTERM; and the static ceiling (`server/examples/static_ceiling.rs`),
//! a plain axum handler answering a page's bytes from memory.

use crate::util::{self, free_port, target_dir, wait_for_http, workspace_root, Result};
use std::{
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A child process that is killed when dropped, so no server outlives the benchmark.
pub struct Server {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Server {
    pub fn spawn(name: &'static str, command: &mut Command, log: &Path) -> Result<Self> {
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

    pub fn id(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGTERM, then wait up to 30 s for the process to exit (it finishes what it is doing
    /// and, when instrumented, writes its profile); killed if it does not.
    pub fn terminate(&mut self) -> Result<()> {
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

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server; when it panicked, keeps its log and says each panic. Its panics.
    pub fn stop_and_report(&mut self) -> Vec<String> {
        self.stop();
        self.keep_log_if_it_panicked();
        let problems = self.problems();
        for problem in &problems {
            println!("  WARNING: {}: {problem}", self.name);
        }
        problems
    }

    /// When the server panicked: its log (with the backtraces, `RUST_BACKTRACE=1`) copied
    /// beside the reports, since the working folder is removed at the end. Prints where.
    pub fn keep_log_if_it_panicked(&self) {
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
    pub fn problems(&self) -> Vec<String> {
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
    pub fn failed(&mut self, error: String) -> String {
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

/// `cargo build --release` of the static ceiling: its path.
pub fn build_ceiling() -> Result<PathBuf> {
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

/// Starts the static ceiling answering `page_file`'s bytes on a free port (its log in
/// `work`), once it answers: the server and its `host:port`.
pub fn start_ceiling(
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
