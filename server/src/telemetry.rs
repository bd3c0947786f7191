//! Structured logs with `tracing`. Every request gets a span with its request id, method and
//! path (never the query string: it could carry something personal), so every log line in it
//! carries the id too.

use crate::config::{LogConfig, LogFormat};
use axum::http::Request;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Install the global subscriber. `RUST_LOG` overrides the configured filter.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let result = match config.format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
    if result.is_err() {
        // Already installed (tests start several servers in one process): keep the first.
    }
}

/// The span for one request: its id, method and path.
pub fn make_span<B>(request: &Request<B>) -> tracing::Span {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}
