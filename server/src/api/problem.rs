//! RFC 9457 problem details: every error the agency API gives is `application/problem+json`
//! with a stable `type`, a short `title` and a `detail` that says what to fix.
//!
//! Rule: no detail quotes what the client sent (a national id, a token, a JSON fragment):
//! it names the place (`national_ids[3]`) and the rule instead.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Serialize;
use utoipa::ToSchema;

/// The media type of problem documents.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type`: a URN, since these are names, not pages to fetch.
const TYPE_PREFIX: &str = "urn:borgerportal:problem:";

/// A problem document (RFC 9457).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:borgerportal:problem:invalid-national-id",
    "title": "Malformed national identity number",
    "status": 422,
    "detail": "national_ids[3]: the check digits do not match.",
    "invalid_ids": [{"index": 3, "reason": "identity.checksum"}]
}))]
pub struct ProblemDocument {
    /// What kind of problem: `urn:borgerportal:problem:<name>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, fixed summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and what to do about it.
    pub detail: String,
    /// For malformed national ids: which entries (by index) and why. The ids are not repeated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invalid_ids: Option<Vec<InvalidId>>,
}

/// One malformed entry in `national_ids`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InvalidId {
    /// Its position in `national_ids` (in an authority check: in `questions`), from 0.
    pub index: usize,
    /// In an authority check: which id of the question (`holder` or `giver`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
    /// Why: `identity.wrong_length`, `identity.not_digits`, `identity.checksum`,
    /// `identity.invalid_date`, `identity.invalid_individual_number`, `identity.empty`, or
    /// `not_a_string`.
    pub reason: String,
}

/// An API error on its way to becoming a response.
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    name: &'static str,
    title: &'static str,
    detail: String,
    invalid_ids: Option<Vec<InvalidId>>,
    /// For 401: the `WWW-Authenticate` challenge (RFC 6750).
    challenge: Option<&'static str>,
}

impl Problem {
    /// A problem with a status, a type name, a fixed title and a detail.
    pub fn new(
        status: StatusCode,
        name: &'static str,
        title: &'static str,
        detail: impl Into<String>,
    ) -> Problem {
        Problem {
            status,
            name,
            title,
            detail: detail.into(),
            invalid_ids: None,
            challenge: None,
        }
    }

    /// 401: the token is missing or not acceptable. `error` is RFC 6750's code.
    pub fn unauthorized(name: &'static str, detail: impl Into<String>) -> Problem {
        let mut problem = Problem::new(StatusCode::UNAUTHORIZED, name, "Not authenticated", detail);
        problem.challenge = Some(if name == "missing-token" {
            "Bearer"
        } else {
            "Bearer error=\"invalid_token\""
        });
        problem
    }

    /// 422 with the list of malformed ids.
    pub fn with_invalid_ids(mut self, invalid_ids: Vec<InvalidId>) -> Problem {
        self.invalid_ids = Some(invalid_ids);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The problem's short name (the end of its `type`), for logs.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The document as sent.
    pub fn document(&self) -> ProblemDocument {
        ProblemDocument {
            problem_type: format!("{TYPE_PREFIX}{}", self.name),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            invalid_ids: self.invalid_ids.clone(),
        }
    }

    /// 500: something on our side; the cause is in the log under the request id.
    pub fn internal() -> Problem {
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal error",
            "The request could not be completed. Try again later; if it keeps failing, \
             give the x-request-id of the response to the portal's operators.",
        )
    }

    /// 503: the database is not reachable now.
    pub fn unavailable() -> Problem {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "Temporarily unavailable",
            "The register cannot be reached right now. Try again in a little while.",
        )
    }

    /// 404 for any path under `/api/` that is not an endpoint.
    pub fn not_found() -> Problem {
        Problem::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "No such endpoint",
            "There is no endpoint at this path. The endpoints are described at \
             /api/v1/openapi.json.",
        )
    }

    /// 405 for a known path with the wrong method.
    pub fn method_not_allowed() -> Problem {
        Problem::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "Method not allowed",
            "This endpoint does not take this HTTP method; see /api/v1/openapi.json.",
        )
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.document()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if let Some(challenge) = self.challenge {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
        }
        response
    }
}

/// Fallback for `/api/...` paths that are no endpoint: a problem, not the portal's HTML page.
pub async fn not_found() -> Problem {
    Problem::not_found()
}

/// Fallback for a wrong method on an endpoint.
pub async fn method_not_allowed() -> Problem {
    Problem::method_not_allowed()
}
