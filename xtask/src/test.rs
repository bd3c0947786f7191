//! `cargo xtask test`: every check, in the order that fails fastest. Prints one closing line
//! `tests: N passed, M failed` summing the Rust and browser test runs.

use crate::postgres::Cluster;
use crate::site;
use crate::tools;
use crate::util::{
    describe, free_port, run, step, target_dir, wait_for_http, workspace_root, Result, DEV_FEATURES,
};
use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

/// Everything, or (`browser_only`, a developer's shortcut: `cargo xtask test --browser-only`)
/// only the browser tests. `XTASK_PLAYWRIGHT_ARGS` passes more arguments to Playwright, e.g. a
/// spec file or `--project=no-js`.
pub fn run_all(browser_only: bool) -> Result<()> {
    tools::ensure_build_tools()?;
    tools::ensure_test_tools()?;
    let python = tools::ensure_sink_python()?;
    let root = workspace_root();
    let cargo = || {
        let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
        c.current_dir(&root);
        c
    };

    let mut tally = Tally::default();
    if !browser_only {
        rust_checks_and_tests(&cargo, &python, &mut tally)?;
    }
    browser_tests(&root, &python, &mut tally)
}

/// Formatting, the dependency checks (cargo deny), clippy, the WASM tree check, the
/// documentation (warnings denied) and every Rust test.
fn rust_checks_and_tests(
    cargo: &dyn Fn() -> Command,
    python: &std::path::Path,
    tally: &mut Tally,
) -> Result<()> {
    step("formatting");
    run(cargo().args(["fmt", "--all", "--", "--check"]))?;

    // `advisories` is left out: it fetches the RustSec database from GitHub, which the
    // machines this runs on cannot reach (deny.toml).
    step("dependencies: licences, banned and duplicate crates, sources (cargo deny)");
    run(cargo().args([
        "deny",
        "--workspace",
        "check",
        "bans",
        "licenses",
        "sources",
    ]))?;

    // With and without the development-only code, so dead code in either is caught.
    step("clippy: server build (with the dev feature)");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--features",
        DEV_FEATURES,
        "--",
        "-D",
        "warnings",
    ]))?;
    step("clippy: server build (production, without dev)");
    run(cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    step("clippy: browser (WASM) build");
    run(cargo().args([
        "clippy",
        "-p",
        "app",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--features",
        "hydrate",
        "--",
        "-D",
        "warnings",
    ]))?;

    step("the WASM build holds no server-side crate");
    for forbidden in ["sqlx", "borgerportal", "axum", "tokio"] {
        let out = cargo()
            .args([
                "tree",
                "-p",
                "app",
                "--features",
                "hydrate",
                "--target",
                "wasm32-unknown-unknown",
                "-e",
                "normal",
                "-i",
                forbidden,
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() && !out.stdout.is_empty() {
            return Err(format!(
                "`{forbidden}` is in the WASM build:\n{}",
                String::from_utf8_lossy(&out.stdout)
            ));
        }
    }

    step("documentation: cargo doc, warnings denied");
    let rustdocflags = match std::env::var("RUSTDOCFLAGS") {
        Ok(given) if !given.trim().is_empty() => format!("{given} -D warnings"),
        _ => "-D warnings".to_owned(),
    };
    run(cargo()
        .args(["doc", "--no-deps", "--workspace"])
        .env("RUSTDOCFLAGS", rustdocflags))?;

    step("unit and integration tests (SQLite and PostgreSQL)");
    let external = std::env::var("DATABASE_URL")
        .ok()
        .filter(|u| u.starts_with("postgres://") || u.starts_with("postgresql://"));
    let (postgres_url, _cluster) = match external {
        Some(url) => {
            println!("xtask: using the PostgreSQL server in DATABASE_URL");
            (url, None)
        }
        None => {
            let cluster = Cluster::start()?;
            (cluster.url(), Some(cluster))
        }
    };
    counted(
        cargo()
            .args([
                "test",
                "--workspace",
                "--no-fail-fast",
                "--features",
                DEV_FEATURES,
            ])
            .env("BORGERPORTAL_TEST_POSTGRES_URL", &postgres_url)
            .env(tools::TEST_PYTHON_VARIABLE, python),
        tally,
    )?;
    step("the production build (without dev) refuses the test eID, demo data, generate-data");
    counted(
        cargo().args(["test", "-p", "server", "--test", "production_build"]),
        tally,
    )
}

/// The site build, the portal with its stand-ins (OIDC provider, mail and SMS sink), and
/// Playwright.
fn browser_tests(
    root: &std::path::Path,
    python: &std::path::Path,
    tally: &mut Tally,
) -> Result<()> {
    step("browser tests (Chromium, JavaScript off and on, axe-core)");
    let built = site::build(false)?;
    let port = free_port()?;
    let data = tempdir("e2e")?;
    let log_path = data.join("server.log");
    let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
    // An independent OpenID Connect provider (npm oidc-provider) beside the built-in test eID,
    // so the browser tests log in through both.
    let (mut provider, issuer) = start_interop_provider(root, port, &data)?;
    // The SMTP server and SMS gateway stand-ins: the portal sends to them, the browser tests
    // read what arrived from SINK_DIR (format in end2end/README.md).
    let sink_dir = data.join("sink");
    let (mut sink, smtp_port, sms_port) = start_sink(root, python, &sink_dir, &data)?;
    let config = data.join("e2e.toml");
    let development =
        std::fs::read_to_string(root.join("config/development.toml")).map_err(|e| e.to_string())?;
    std::fs::write(
        &config,
        format!(
            "{development}\n[[oidc.providers]]\nid = \"interop\"\nname = \"{INTEROP_NAME}\"\n\
             issuer = \"{issuer}\"\nclient_id = \"portal-e2e\"\n\
             client_auth = {{ method = \"client_secret\", secret = \"{INTEROP_SECRET}\" }}\n\
             profile = \"idporten\"\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let mut server = Command::new(&built.server)
        .current_dir(root)
        .env("BORGERPORTAL_CONFIG", &config)
        .env("BORGERPORTAL_SITE_ROOT", &built.site_root)
        .env("BORGERPORTAL_DATA_DIR", &data)
        .env("BORGERPORTAL_LISTEN", format!("127.0.0.1:{port}"))
        // Many logins from one address in a few seconds: that is the test, not an attack.
        .env("BORGERPORTAL_LOGIN_RATE_LIMIT_PER_MINUTE", "10000")
        // Notifications by SMTP and HTTP to the sink, looked for every 200 ms. Environment
        // variables rather than appended TOML: development.toml already has these tables.
        .env("BORGERPORTAL_MAIL__TRANSPORT", "smtp")
        .env("BORGERPORTAL_MAIL__SMTP_HOST", "127.0.0.1")
        .env("BORGERPORTAL_MAIL__SMTP_PORT", smtp_port.to_string())
        .env("BORGERPORTAL_MAIL__SMTP_TLS", "none")
        .env("BORGERPORTAL_SMS__GATEWAY", "http")
        .env(
            "BORGERPORTAL_SMS__URL",
            format!("http://127.0.0.1:{sms_port}/sms"),
        )
        .env("BORGERPORTAL_SMS__TOKEN", "e2e-sms-token")
        .env("BORGERPORTAL_NOTIFY__POLL_INTERVAL_MS", "200")
        .env(
            "BORGERPORTAL_PUBLIC_URL",
            format!("http://127.0.0.1:{port}"),
        )
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        .spawn()
        .map_err(|e| e.to_string())?;
    let e2e = wait_for_http(&format!("127.0.0.1:{port}"), "/readyz", 60).and_then(|()| {
        counted(
            Command::new("npx")
                .args(["playwright", "test"])
                .args(
                    std::env::var("XTASK_PLAYWRIGHT_ARGS")
                        .unwrap_or_default()
                        .split_whitespace(),
                )
                .current_dir(root.join("end2end"))
                .env("BASE_URL", format!("http://127.0.0.1:{port}"))
                .env("INTEROP_PROVIDER_NAME", INTEROP_NAME)
                .env("SINK_DIR", &sink_dir)
                // The portal's SQLite database is `PORTAL_DATA_DIR/borgerportal.db`: the tests
                // age rows in it to stand in for time passing (a code expiring).
                .env("PORTAL_DATA_DIR", &data)
                // The demo agency's key (development.toml: made at first start), for tests
                // that deliver letters through the agency API.
                .env("DEMO_AGENCY_KEY", root.join("data/demo-agency/private.pem")),
            tally,
        )
    });
    let _ = server.kill();
    let _ = server.wait();
    let _ = provider.kill();
    let _ = provider.wait();
    let _ = sink.kill();
    let _ = sink.wait();
    if e2e.is_err() {
        if let Ok(text) = std::fs::read_to_string(&log_path) {
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            eprintln!("--- last lines of the server's log ---");
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
    let _ = std::fs::remove_dir_all(&data);
    println!("tests: {} passed, {} failed", tally.passed, tally.failed);
    e2e?;
    if tally.failed > 0 {
        return Err(format!("{} tests failed", tally.failed));
    }
    Ok(())
}

/// The name the independent provider has on the login page (the browser tests click it).
const INTEROP_NAME: &str = "Interop eID (oidc-provider)";
const INTEROP_SECRET: &str = "e2e-interop-secret-0123456789abcdef";

/// Start `end2end/oidc/provider.mjs` for a portal on `port`; return it and its issuer.
fn start_interop_provider(
    root: &std::path::Path,
    port: u16,
    data: &std::path::Path,
) -> Result<(std::process::Child, String)> {
    let stderr = std::fs::File::create(data.join("provider.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new("node")
        .arg(root.join("end2end/oidc/provider.mjs"))
        .args([
            "--port",
            "0",
            "--client-id",
            "portal-e2e",
            "--client-secret",
            INTEROP_SECRET,
        ])
        .arg("--client-redirect")
        .arg(format!("http://127.0.0.1:{port}/auth/callback"))
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("could not start the interop provider: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or("no stdout from the interop provider")?;
    let mut lines = BufReader::new(stdout).lines();
    match lines.next() {
        Some(Ok(line)) if line.starts_with("ready ") => {
            let issuer = line.trim_start_matches("ready ").trim().to_owned();
            // Keep draining its output so it never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines.map_while(|l| l.ok()) {});
            Ok((child, issuer))
        }
        other => {
            let _ = child.kill();
            Err(format!(
                "the interop provider did not start: {other:?} (see {})",
                data.join("provider.log").display()
            ))
        }
    }
}

/// Start `end2end/sinks/sink.py` (aiosmtpd SMTP + an HTTP SMS gateway stand-in) writing into
/// `sink_dir`; return it with its SMTP and HTTP ports.
fn start_sink(
    root: &std::path::Path,
    python: &std::path::Path,
    sink_dir: &std::path::Path,
    data: &std::path::Path,
) -> Result<(std::process::Child, u16, u16)> {
    let stderr = std::fs::File::create(data.join("sink.log")).map_err(|e| e.to_string())?;
    let mut child = Command::new(python)
        .arg(root.join("end2end/sinks/sink.py"))
        .arg("--dir")
        .arg(sink_dir)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("could not start the notification sink: {e}"))?;
    let stdout = child.stdout.take().ok_or("no stdout from the sink")?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = match lines.next() {
        Some(Ok(line)) => line,
        other => {
            let _ = child.kill();
            return Err(format!(
                "the notification sink did not start: {other:?} (see {})",
                data.join("sink.log").display()
            ));
        }
    };
    std::thread::spawn(move || for _ in lines.map_while(|l| l.ok()) {});
    let port = |name: &str| {
        ready
            .split_whitespace()
            .find_map(|part| part.strip_prefix(name))
            .and_then(|p| p.parse::<u16>().ok())
    };
    match (port("smtp="), port("http=")) {
        (Some(smtp), Some(http)) => Ok((child, smtp, http)),
        _ => {
            let _ = child.kill();
            Err(format!(
                "the notification sink said {ready:?}, not its ports"
            ))
        }
    }
}

fn tempdir(purpose: &str) -> Result<std::path::PathBuf> {
    let dir = target_dir().join(format!("tmp-{purpose}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Run a test command, echo its output, and add up the passed/failed counts it reports
/// (cargo's `test result:` lines and Playwright's `N passed` / `N failed`).
fn counted(command: &mut Command, tally: &mut Tally) -> Result<()> {
    let description = describe(command);
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{description}`: {e}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(|l| l.ok()) {
            println!("{line}");
            let clean = strip_ansi(&line);
            let text = clean.trim();
            if let Some(rest) = text.strip_prefix("test result: ") {
                tally.passed += number_before(rest, " passed");
                tally.failed += number_before(rest, " failed");
            } else if text.ends_with(" passed") || text.contains(" passed (") {
                tally.passed += number_before(text, " passed");
            } else if text.ends_with(" failed") {
                tally.failed += number_before(text, " failed");
            }
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{description}` failed ({status})"))
    }
}

/// The number just before `marker` in `text` (e.g. "3" in "ok. 3 passed;").
fn number_before(text: &str, marker: &str) -> u64 {
    text.find(marker)
        .and_then(|end| {
            text[..end]
                .rsplit(|c: char| !c.is_ascii_digit())
                .next()
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
