//! The agency API under `/api/v1`: JSON for agencies' systems, authenticated by short-lived
//! JWTs signed with each agency's registered key ([`auth`]), errors as RFC 9457 problem
//! documents ([`problem`]), described by an OpenAPI document generated from this code
//! ([`openapi`], served at `/api/v1/openapi.json`).
//!
//! Endpoints: `POST /api/v1/contact-info/lookup` ([`contact`]); digital post ([`post`](mod@post)):
//! `POST /api/v1/letters`, `GET /api/v1/letters/{letter_id}`, `GET /api/v1/receipts`, and for the print provider
//! `GET /api/v1/print/letters`, `GET .../{letter_id}/attachments/{position}` and
//! `POST .../{letter_id}/ack`; authority checks, `POST /api/v1/authority/check` ([`authority`]);
//! signing ([`signing`]): `POST /api/v1/signing/jobs`, `GET .../{signing_job_id}`,
//! `POST .../{signing_job_id}/cancel` and `GET /api/v1/signing/events`. What each agency may
//! call is its configured capabilities (`lookup_contact`, `deliver_post`, `print`,
//! `check_authority`, `signing`), checked by `Policy::authorize_agency`. Every path under `/api/`
//! answers in JSON, also when there is no such endpoint or the method is wrong, and the
//! portal's HTML error pages never reach an agency.

pub mod auth;
pub mod authority;
pub mod contact;
pub mod openapi;
pub mod post;
pub mod problem;
pub mod signing;

use axum::{extract::DefaultBodyLimit, routing::get, routing::post, Router};

use crate::config::Config;
use crate::AppState;

pub use auth::{AgencyCaller, AgencyKeyError, AgencyRegistry};
pub use problem::Problem;

/// What the API needs besides the database.
pub struct ApiState {
    /// The registered agencies and their keys.
    pub registry: AgencyRegistry,
    /// The staleness limit for `can_be_notified`.
    pub staleness: time::Duration,
    /// The same in days, as reported in answers.
    pub staleness_days: u32,
    /// The service scopes configured (`[[delegation.service_scopes]]`), which an authority
    /// check may name.
    pub service_scopes: Vec<borgerportal::ServiceScopeId>,
}

impl ApiState {
    /// Loads the agencies' keys from configuration.
    pub fn load(config: &Config) -> Result<ApiState, AgencyKeyError> {
        Ok(ApiState {
            registry: AgencyRegistry::load(config)?,
            staleness: config.contact.staleness(),
            staleness_days: config.contact.staleness_days,
            // Checked when the configuration was loaded.
            service_scopes: config
                .delegation
                .rules()
                .map(|rules| rules.service_scopes.iter().map(|scope| scope.id).collect())
                .unwrap_or_default(),
        })
    }
}

/// The API's routes, to be nested at `/api`. Anything else under `/api/` is a 404 problem.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/contact-info/lookup",
            // The handler reads at most `MAX_BODY_BYTES` itself and answers 413 as a problem.
            post(contact::lookup).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/authority/check",
            // The handler reads at most `authority::MAX_BODY_BYTES` and answers 413 itself.
            post(authority::check).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/v1/letters",
            // The handler refuses a large `Content-Length` with 413 before reading, and reads
            // at most `post::MAX_DELIVERY_BYTES`.
            post(post::deliver).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/letters/{letter_id}", get(post::letter))
        .route("/v1/receipts", get(post::receipts))
        .route("/v1/print/letters", get(post::print_queue))
        .route(
            "/v1/print/letters/{letter_id}/attachments/{position}",
            get(post::print_attachment),
        )
        .route("/v1/print/letters/{letter_id}/ack", post(post::acknowledge))
        .route(
            "/v1/signing/jobs",
            // The handler refuses a large `Content-Length` with 413 before reading, and reads
            // at most `signing::MAX_JOB_REQUEST_BYTES`.
            post(signing::create).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/signing/jobs/{signing_job_id}", get(signing::job))
        .route(
            "/v1/signing/jobs/{signing_job_id}/cancel",
            post(signing::cancel),
        )
        .route(
            "/v1/signing/jobs/{signing_job_id}/documents/{position}/sealed",
            get(signing::sealed_document),
        )
        .route("/v1/signing/events", get(signing::events))
        .route("/v1/openapi.json", get(openapi::document))
        .method_not_allowed_fallback(problem::method_not_allowed)
        .fallback(problem::not_found)
}

/// Whether a request path belongs to the API (and so gets problem documents, not HTML).
pub fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/")
}
