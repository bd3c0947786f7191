//! The binary's command line: `--help` prints the usage and starts nothing; an argument it does
//! not know is refused with a clear error and a failure, and starts nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What the binary did with `args` within a few seconds: its exit code (`None`: still running,
/// so it started a server, and was stopped), stdout and stderr.
fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_borgerportal"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BORGERPORTAL_") {
            command.env_remove(name);
        }
    }
    let mut child = command
        .env("BORGERPORTAL_DATA_DIR", dir.join("data"))
        .env("BORGERPORTAL_SITE_ROOT", dir.join("site"))
        .env("BORGERPORTAL_LISTEN", "127.0.0.1:0")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = child.wait_with_output().unwrap();
    (
        code,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn help_prints_the_usage_and_starts_nothing() {
    for flag in ["--help", "-h"] {
        let dir = tempfile::tempdir().unwrap();
        let (code, stdout, _) = run(dir.path(), &[flag]);
        assert_eq!(code, Some(0), "{flag} started a server");
        assert!(stdout.contains("Usage: borgerportal"), "{stdout}");
        assert!(stdout.contains("api-token") && stdout.contains("generate-data"));
        assert!(
            !dir.path().join("data").exists(),
            "{flag} made the data directory"
        );
    }
}

#[test]
fn an_unknown_argument_is_refused_and_starts_nothing() {
    for args in [
        &["--port", "80"][..],
        &["serve"],
        &["postgres://user:secret@db/portal"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (code, _, stderr) = run(dir.path(), args);
        assert_eq!(
            code,
            Some(2),
            "{args:?} started a server or failed otherwise"
        );
        assert!(stderr.contains("unknown argument"), "{stderr}");
        assert!(stderr.contains("--help"), "{stderr}");
        assert!(
            !stderr.contains("secret"),
            "an argument is never repeated: {stderr}"
        );
        assert!(!dir.path().join("data").exists());
    }
}
