//! `POST /api/v1/authority/check`: may holder H act for giver G under scope S now? Up to 100
//! questions in one call, answered permit or deny with the basis and its last day.

use axum::{body::Body, extract::State, http::HeaderMap, http::StatusCode, Json};
use borgerportal::{
    AgencyId, AuthorityAnswer, AuthorityQuestion, CheckAuthority, CheckBasis, NationalId, Scope,
    ServiceScopeId, StoreError, MAX_AUTHORITY_CHECKS,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::AgencyCaller;
use super::contact::{json_body, reason_text};
use super::problem::{InvalidId, Problem, ProblemDocument};
use crate::AppState;

/// The largest request body read: 100 questions with room for formatting.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// What the agency asks.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"questions": [
    {"holder": "01817512345", "giver": "230972-1846", "scope": "post.read"},
    {"holder": "01817512345", "giver": "230972-1846", "scope": "service:nav.dagpenger"}
]}))]
pub struct CheckRequest {
    /// 1 to 100 questions.
    #[schema(min_items = 1, max_items = 100)]
    pub questions: Vec<CheckQuestion>,
}

/// One question: may `holder` act for `giver` under `scope` now?
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckQuestion {
    /// The national id of the person who would act (fødselsnummer, D-nummer or CPR).
    #[schema(value_type = String)]
    pub holder: serde_json::Value,
    /// The national id of the person they would act for.
    #[schema(value_type = String)]
    pub giver: serde_json::Value,
    /// A scope code: `post.read`, `post.read_all`, `post.manage`, `contact.manage`,
    /// `documents.sign`, `activity.read`, or `service:<id>` for a service scope in the
    /// portal's configuration.
    #[schema(value_type = String)]
    pub scope: serde_json::Value,
}

/// The answers, one per question in the order asked.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// One per question, in order.
    pub answers: Vec<CheckAnswer>,
}

/// Permit or deny.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The holder may act for the giver under the scope now.
    Permit,
    /// No authority in force for that scope (also when either person is unknown).
    Deny,
}

/// On what grounds a permit is given.
#[derive(Debug, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AnswerBasis {
    /// A delegation (fullmakt) from the giver with this scope.
    Delegation,
    /// The holder is the giver's guardian and the giver is under 18 (any scope: the agency
    /// applies its own rules to what a guardian may do).
    Guardian,
}

/// The answer to one question.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckAnswer {
    /// `permit` or `deny`.
    pub decision: Decision,
    /// For a permit: `delegation` or `guardian`; null for a deny.
    pub basis: Option<AnswerBasis>,
    /// For a permit: the last day it holds (inclusive, `YYYY-MM-DD`, Norwegian/Danish local
    /// time); null for a deny.
    #[schema(value_type = Option<String>, format = Date)]
    pub ends_on: Option<String>,
}

/// Check authority to act for others.
///
/// Needs an agency token with the `check_authority` capability (not granted by default).
/// Every question whose giver the register knows writes an event naming the agency in the
/// giver's activity log, before the answer. Persons the register does not know are denied.
#[utoipa::path(
    post,
    path = "/api/v1/authority/check",
    tag = "authority",
    request_body(content = CheckRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "One answer per question, in order", body = CheckResponse),
        (status = 400, description = "The body is not JSON of the documented shape", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed, expired, replayed or wrongly signed token; wrong audience; unknown agency", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency's access is switched off, or it may not check authority", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 100 questions, or a body over 32 KiB", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "No questions, malformed national ids (listed by question index and field), or an unknown scope", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "The register is temporarily unavailable", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn check(
    caller: AgencyCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<CheckResponse>, Problem> {
    let access = caller.authorize::<CheckAuthority>("check authority")?;
    let questions = read_request(&headers, body, &state.api.service_scopes).await?;
    let answers = state
        .db
        .check_authority(&access, &questions, OffsetDateTime::now_utc())
        .await
        .map_err(|error| check_failed(&caller.agency, error))?;
    Ok(Json(CheckResponse {
        answers: answers.into_iter().map(check_answer).collect(),
    }))
}

/// Content type, size, JSON shape, count, every id, then every scope: the first problem
/// found, or the questions.
async fn read_request(
    headers: &HeaderMap,
    body: Body,
    service_scopes: &[ServiceScopeId],
) -> Result<Vec<AuthorityQuestion>, Problem> {
    let bytes = json_body(headers, body, MAX_BODY_BYTES).await?;
    // serde_json's messages can quote the input, so only the position goes into the answer.
    let request: CheckRequest = serde_json::from_slice(&bytes).map_err(|error| {
        let what = if error.is_syntax() || error.is_eof() {
            "The body is not valid JSON"
        } else {
            "The body is not of the form {\"questions\": [{\"holder\": \"…\", \"giver\": \"…\", \
             \"scope\": \"…\"}, …]}"
        };
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Malformed request body",
            format!("{what} (line {}, column {}).", error.line(), error.column()),
        )
    })?;
    if request.questions.is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-questions",
            "No questions",
            "`questions` is empty: ask 1 to 100 questions.",
        ));
    }
    if request.questions.len() > MAX_AUTHORITY_CHECKS {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-questions",
            "Too many questions",
            format!(
                "`questions` has {} entries; at most {MAX_AUTHORITY_CHECKS} may be asked at \
                 once. Split the list.",
                request.questions.len()
            ),
        ));
    }
    let mut invalid = Vec::new();
    let mut parsed = Vec::with_capacity(request.questions.len());
    for (index, question) in request.questions.iter().enumerate() {
        let holder = national_id(&question.holder, index, "holder", &mut invalid);
        let giver = national_id(&question.giver, index, "giver", &mut invalid);
        parsed.push((holder, giver));
    }
    if let Some(first) = invalid.first() {
        let detail = format!(
            "{} of the national ids are malformed; the first is questions[{}].{} ({}). \
             No question was answered.",
            invalid.len(),
            first.index,
            first.field.unwrap_or("holder"),
            reason_text(&first.reason)
        );
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-national-id",
            "Malformed national identity number",
            detail,
        )
        .with_invalid_ids(invalid));
    }
    let mut questions = Vec::with_capacity(parsed.len());
    for (index, (question, (holder, giver))) in request.questions.iter().zip(parsed).enumerate() {
        let scope = question
            .scope
            .as_str()
            .and_then(Scope::from_code)
            .filter(|scope| match scope {
                Scope::Service(id) => service_scopes.contains(id),
                _ => true,
            })
            .ok_or_else(|| {
                Problem::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "unknown-scope",
                    "Unknown scope",
                    format!(
                        "questions[{index}].scope is not a scope this portal knows: use \
                         post.read, post.read_all, post.manage, contact.manage, \
                         documents.sign, activity.read or service:<id> of a configured \
                         service scope. No question was answered."
                    ),
                )
            })?;
        if let (Some(holder), Some(giver)) = (holder, giver) {
            questions.push(AuthorityQuestion {
                holder,
                giver,
                scope,
            });
        }
    }
    Ok(questions)
}

/// One id of a question, or its problem noted in `invalid`.
fn national_id(
    value: &serde_json::Value,
    index: usize,
    field: &'static str,
    invalid: &mut Vec<InvalidId>,
) -> Option<NationalId> {
    let parsed = match value.as_str() {
        Some(text) => NationalId::parse(text).map_err(|error| error.code().to_owned()),
        None => Err("not_a_string".to_owned()),
    };
    match parsed {
        Ok(national_id) => Some(national_id),
        Err(reason) => {
            invalid.push(InvalidId {
                index,
                field: Some(field),
                reason,
            });
            None
        }
    }
}

fn check_failed(agency: &AgencyId, error: StoreError) -> Problem {
    match error {
        StoreError::Unavailable(_) => {
            tracing::warn!(%agency, %error, "authority check: database unavailable");
            Problem::unavailable()
        }
        error => {
            tracing::error!(%agency, %error, "authority check failed");
            Problem::internal()
        }
    }
}

fn check_answer(answer: AuthorityAnswer) -> CheckAnswer {
    match answer {
        AuthorityAnswer::Permit { basis, ends_on } => CheckAnswer {
            decision: Decision::Permit,
            basis: Some(match basis {
                CheckBasis::Delegation(_) => AnswerBasis::Delegation,
                CheckBasis::Guardian => AnswerBasis::Guardian,
            }),
            ends_on: Some(ends_on.to_string()),
        },
        AuthorityAnswer::Deny => CheckAnswer {
            decision: Decision::Deny,
            basis: None,
            ends_on: None,
        },
    }
}
