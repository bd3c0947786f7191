//! `borgerportal`: start one portal instance. `borgerportal api-token [--count N] [agency]`
//! prints short-lived agency API tokens for a development demo agency instead;
//! `borgerportal generate-data [...]` fills the database with synthetic volume for the
//! benchmarks (`server/src/generate_data.rs`; only in a build with the `dev` feature);
//! `borgerportal import-guardians <file>` imports a population register extract.
//!
//! A build without `dev` (the production build) whose configuration asks for the test eID or
//! demo data, or that is asked to generate data, says why and exits with a failure, having
//! started nothing.

use borgerportal::storage::Database;

use secrecy::ExposeSecret;
use server::{
    config::Config, notify, routes, serve::Workers, telemetry, with_http_stack, AppState, Site,
};
use std::io::Write as _;
use std::process::ExitCode;

/// mimalloc instead of glibc's malloc: rendering a page allocates many small, short-lived
/// values, and glibc's `malloc`/`free` took about a quarter of the CPU under load
/// (docs/benchmarks.md). The binary only: tests and the library keep the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What `--help` prints.
const USAGE: &str = "\
Usage: borgerportal [COMMAND]

Starts one portal instance (no command), configured by the TOML file named in
BORGERPORTAL_CONFIG and BORGERPORTAL_* variables (config/production.example.toml).

Commands:
  api-token [--count N] [agency]   tokens for a development demo agency
  generate-data [options]          fill the database with synthetic data (development builds)
  import-guardians <file>          import guardianships from a population register extract
                                   (JSON lines; format in src/delegation/extract.rs)
  -h, --help                       this text
";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("api-token" | "generate-data" | "import-guardians") => {}
        Some("-h" | "--help") => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        // Never repeated: an argument may be a mistyped secret.
        Some(_) => {
            eprintln!("borgerportal: unknown argument; see `borgerportal --help`");
            return ExitCode::from(2);
        }
    }
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("borgerportal: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(refused) = config.check_dev_only(server::config::DEV_BUILD) {
        eprintln!("borgerportal: refusing to start: {refused}");
        return ExitCode::FAILURE;
    }
    match args.first().map(String::as_str) {
        // `borgerportal api-token [--count N] [agency]`: tokens for a development demo agency.
        Some("api-token") => return api_tokens(&config, &args[1..]),
        Some("import-guardians") => return import_guardians(&config, &args[1..]).await,
        #[cfg(not(feature = "dev"))]
        Some("generate-data") => {
            let refused = server::config::DevOnlyError::Command(
                "the data generator (`borgerportal generate-data`)",
            );
            eprintln!("borgerportal generate-data: refusing to start: {refused}");
            return ExitCode::FAILURE;
        }
        #[cfg(feature = "dev")]
        Some("generate-data") => {
            return match server::generate_data::parse(&args[1..]) {
                Ok(options) => match server::generate_data::run(&config, options).await {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(error) => {
                        eprintln!("borgerportal generate-data: {error}");
                        ExitCode::FAILURE
                    }
                },
                Err(error) => {
                    eprintln!("borgerportal generate-data: {error}");
                    ExitCode::FAILURE
                }
            };
        }
        _ => {}
    }
    telemetry::init(&config.log);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "borgerportal stopped");
            ExitCode::FAILURE
        }
    }
}

/// Prints `--count` (default 1) fresh tokens, one a line, each with its own `jti`.
fn api_tokens(config: &Config, args: &[String]) -> ExitCode {
    let (count, agency) = match args {
        [flag, n, rest @ ..] if flag == "--count" => match n.parse::<u32>() {
            Ok(n) => (n, rest.first()),
            Err(_) => {
                eprintln!("borgerportal api-token: --count needs a number");
                return ExitCode::FAILURE;
            }
        },
        rest => (1, rest.first()),
    };
    match server::api::auth::mint_demo_tokens(config, agency.map(String::as_str), count) {
        Ok(tokens) => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for token in tokens {
                if writeln!(out, "{token}").is_err() {
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("borgerportal api-token: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `borgerportal import-guardians <file>`: reads a complete population register extract and
/// imports it (guardianships listed, those no longer listed ended). Never repeats the file's
/// content: errors name a line number.
async fn import_guardians(config: &Config, args: &[String]) -> ExitCode {
    let [path] = args else {
        eprintln!("borgerportal import-guardians: give one file (see `borgerportal --help`)");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!("borgerportal import-guardians: cannot read the file: {error}");
            return ExitCode::FAILURE;
        }
    };
    let extract = match borgerportal::delegation::parse_extract(&text) {
        Ok(extract) => extract,
        Err(error) => {
            eprintln!("borgerportal import-guardians: {error}; nothing imported");
            return ExitCode::FAILURE;
        }
    };
    let imported = async {
        let db = Database::connect(config.effective_database_url().expose_secret()).await?;
        db.migrate().await?;
        let report = db
            .import_guardians(&extract, time::OffsetDateTime::now_utc())
            .await;
        db.close().await;
        report
    };
    match imported.await {
        Ok(report) => {
            println!(
                "{} persons, {} guardianships listed, {} ended",
                report.persons, report.listed, report.ended
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("borgerportal import-guardians: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(?config, "starting");
    std::fs::create_dir_all(&config.data_dir)?;
    let site = Site::load(&config.site_root)?;
    let db = Database::connect(config.effective_database_url().expose_secret())
        .await?
        .with_contact_staleness(config.contact.staleness());
    db.migrate().await?;
    #[cfg(feature = "dev")]
    if config.demo_data {
        let added = borgerportal::demo::seed_demo_data(&db).await?;
        let now = time::OffsetDateTime::now_utc();
        let letters = borgerportal::seed_demo_post(&db, now).await?;
        let jobs = borgerportal::signing::demo::seed_demo_signing(&db, now).await?;
        tracing::info!(added, letters, jobs, "demo data loaded");
    }
    let state = AppState::new(&config, site, db.clone())?;
    let housekeeping = tokio::spawn(housekeeping(state.clone()));
    // The notification worker stops when told (after the batch in flight), not by abort: a
    // send cut off between the gateway's answer and `mark_sent` would be sent twice.
    let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
    let worker = if config.notify.enabled {
        let worker = notify::Worker::from_config(&config, db)?;
        Some(tokio::spawn(worker.run(worker_stop)))
    } else {
        tracing::info!("notification worker disabled in this instance");
        None
    };
    // The sealing worker stops when told too: a seal in flight completes or is left to the
    // next round (its lease), never half-written.
    let (stop_sealing, sealing_stop) = tokio::sync::watch::channel(false);
    let sealing = if config.signing.enabled {
        let sealer = server::signing_worker::Sealer::from_config(&config)?.map(std::sync::Arc::new);
        if sealer.is_none() {
            tracing::warn!("no seal configured ([signing]): signed jobs wait to be sealed");
        }
        Some(tokio::spawn(server::signing_worker::run(
            state.db.clone(),
            sealer,
            config.signing.clone(),
            sealing_stop,
        )))
    } else {
        tracing::info!("sealing worker disabled in this instance");
        None
    };
    let app = with_http_stack(routes(&state), state);
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let http_workers = config.http_workers();
    let mut workers = Workers::start(http_workers, app, config.http.limits())?;
    tracing::info!(
        address = %listener.local_addr()?,
        public_url = %config.public_url,
        workers = http_workers.get(),
        "listening"
    );
    workers.serve(listener, shutdown_signal()).await;
    housekeeping.abort();
    let _ = stop_worker.send(true);
    let _ = stop_sealing.send(true);
    if let Some(worker) = worker {
        if let Err(error) = worker.await {
            tracing::warn!(%error, "the notification worker ended abnormally");
        }
    }
    if let Some(sealing) = sealing {
        if let Err(error) = sealing.await {
            tracing::warn!(%error, "the sealing worker ended abnormally");
        }
    }
    // Last: database connections the workers opened are driven by their runtimes.
    workers.join();
    tracing::info!("stopped gracefully");
    Ok(())
}

/// Every few minutes: forget expired sessions (citizens' and staff's), pending logins,
/// logout-token and agency-token ids, and idle
/// rate-limit cells. Safe to run on every instance at once (plain deletes of expired rows).
async fn housekeeping(state: AppState) {
    let mut interval = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        interval.tick().await;
        let now = time::OffsetDateTime::now_utc();
        let sessions = state
            .db
            .delete_expired_sessions(now, state.auth.idle_timeout)
            .await;
        let logins = state.db.delete_expired_login_states(now).await;
        let tokens = state.db.forget_expired_logout_tokens(now).await;
        let agency_tokens = state.db.forget_expired_agency_tokens(now).await;
        match (sessions, logins, tokens, agency_tokens) {
            (Ok(sessions), Ok(logins), Ok(tokens), Ok(agency_tokens)) => {
                tracing::debug!(
                    sessions,
                    logins,
                    tokens,
                    agency_tokens,
                    "expired rows removed"
                );
            }
            (sessions, logins, tokens, agency_tokens) => {
                for error in [
                    sessions.err(),
                    logins.err(),
                    tokens.err(),
                    agency_tokens.err(),
                ]
                .into_iter()
                .flatten()
                {
                    tracing::warn!(%error, "housekeeping failed; will retry");
                }
            }
        }
        // Staff sessions and pending staff logins: their own tables, the same rule.
        let staff_sessions = state
            .db
            .delete_expired_staff_sessions(now, state.staff.idle_timeout)
            .await;
        let staff_logins = state.db.delete_expired_staff_login_states(now).await;
        for error in [staff_sessions.err(), staff_logins.err()]
            .into_iter()
            .flatten()
        {
            tracing::warn!(%error, "housekeeping of staff sessions failed; will retry");
        }
        state.login_rate_limit.forget_idle();
        state.backchannel_rate_limit.forget_idle();
    }
}

/// Ctrl-C or SIGTERM: stop accepting, finish what is in flight, then exit.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
