//! The throughput ceiling for `cargo xtask bench`: a plain axum handler that answers every GET
//! with the same bytes from memory, as `text/html; charset=utf-8`. No middleware, no rendering,
//! no compression: what this machine's HTTP stack can do at most for a response of that size.
//!
//! Usage: `static_ceiling <file> <addr>`, e.g.
//! `cargo run --release -p server --example static_ceiling -- front-page.html 127.0.0.1:3001`.

use axum::{body::Bytes, http::header, routing::get, Router};
use std::{net::SocketAddr, process::ExitCode};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, addr] = args.as_slice() else {
        eprintln!("usage: static_ceiling <file> <addr>");
        return ExitCode::FAILURE;
    };
    match serve(file, addr).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("static_ceiling: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(file: &str, addr: &str) -> Result<(), Box<dyn std::error::Error>> {
    let body = Bytes::from(std::fs::read(file).map_err(|e| format!("{file}: {e}"))?);
    let addr: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let page = move || {
        let body = body.clone();
        async move { ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], body) }
    };
    let app = Router::new()
        .route("/", get(page.clone()))
        .route("/{*path}", get(page));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
