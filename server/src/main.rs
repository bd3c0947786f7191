//! `borgerportal`: start one portal instance.

use borgerportal::storage::Database;
use secrecy::ExposeSecret;
use server::{build_app, config::Config, telemetry, Site};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("borgerportal: {error}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(&config.log);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!(%error, "borgerportal stopped");
            ExitCode::FAILURE
        }
    }
}

async fn run(config: Config) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(?config, "starting");
    std::fs::create_dir_all(&config.data_dir)?;
    let site = Site::load(&config.site_root)?;
    let db = Database::connect(config.effective_database_url().expose_secret()).await?;
    db.migrate().await?;
    if config.demo_data {
        let added = borgerportal::demo::seed_demo_data(&db).await?;
        tracing::info!(added, "demo data loaded");
    }
    let app = build_app(&config, site, db)?;
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    tracing::info!(address = %listener.local_addr()?, public_url = %config.public_url, "listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopped gracefully");
    Ok(())
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
