//! Signing for agencies: `POST /api/v1/signing/jobs` (send documents for signing),
//! `GET /api/v1/signing/jobs/{signing_job_id}` (a job's status and its signers'),
//! `POST /api/v1/signing/jobs/{signing_job_id}/cancel`, `GET /api/v1/signing/events`
//! (status changes since a cursor, as post receipts are polled), and
//! `GET /api/v1/signing/jobs/{signing_job_id}/documents/{position}/sealed` (a sealed PDF once
//! the job has completed).
//!
//! The request is one JSON document with the PDFs in base64, as a letter is. Every rule on the
//! job is the domain's ([`NewSigningJob::validate`]): a refused job is a problem whose `type`
//! is the rule's stable code (`signing.deadline_invalid`, …) and stores nothing. A request that
//! is not a job at all (not JSON, a malformed national id, broken base64) is refused here.
//!
//! Needs the agency capability `signing`. Another agency's job is the same 404 as no job.
//! Logs name the agency, the job and the outcome; never a national id, a title or a document.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use borgerportal::person::Language;
use borgerportal::signing::{
    MAX_DOCUMENTS, MAX_DOCUMENT_BYTES, MAX_SIGNERS, MAX_TOTAL_DOCUMENT_BYTES,
};
use borgerportal::{
    JobState, NationalId, NewSigner, NewSigningDocument, NewSigningJob, OnBehalfOf, SendForSigning,
    SigningCursor, SigningError, SigningEventPage, SigningJobId, SigningJobStatus,
    SigningNotifications, StoreError,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

mod schema;

pub use schema::*;

use super::auth::AgencyCaller;
use super::contact::json_body;
use super::problem::{Problem, ProblemDocument};
use crate::AppState;

/// The largest job request read: the documents' total cap in base64 (4/3) and 1 MB for the
/// rest. A larger `Content-Length` is refused with 413 before the body is read.
pub const MAX_JOB_REQUEST_BYTES: usize = MAX_TOTAL_DOCUMENT_BYTES / 3 * 4 + 1024 * 1024;

/// Status changes per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 100;

/// What the 403 says this capability is.
const WHAT: &str = "send documents for signing";

/// Send documents for signing.
///
/// Needs the `signing` capability. The job is committed before the answer. Idempotent on
/// (agency, `job_id`): the first call answers `201 Created`, any later call with the same job
/// id (also one racing the first) `200 OK` with the job's status, storing nothing. Each signer
/// for themself is checked against the contact register at once: a reserved signer, or one
/// without usable contact information, fails the job (status `failed`, that signer
/// `reserved` or `contact_information_missing`). Signers are told through their mailbox's
/// notifications; nobody but the signers whose turn has come can see the job.
#[utoipa::path(
    post,
    path = "/api/v1/signing/jobs",
    tag = "signing",
    request_body(content = JobRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Created; `Location` names the job", body = JobStatusResponse,
            headers(("Location" = String, description = "/api/v1/signing/jobs/{signing_job_id}"))),
        (status = 200, description = "A retry of an earlier creation with this job id: that job's status; nothing new stored", body = JobStatusResponse),
        (status = 400, description = "The body is not JSON of the documented shape, or a document is not base64", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not send documents for signing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The request, a document (10 MB) or all documents (50 MB) are too large (`signing.document_too_large`, `signing.documents_too_large`, `body-too-large`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken: `invalid-national-id` or `signing.*` (see the type; `signing.document_unusable`: a PDF that is encrypted, damaged or has no pages, which could not be sealed)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "Temporarily unavailable; retry with the same job id", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn create(
    caller: AgencyCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let access = caller.authorize::<SendForSigning>(WHAT)?;
    let sender_name = state
        .api
        .registry
        .name(&caller.agency)
        .unwrap_or(caller.agency.as_str())
        .to_owned();
    let bytes = json_body(&headers, body, MAX_JOB_REQUEST_BYTES).await?;
    let now = OffsetDateTime::now_utc();
    // Decoding and hashing up to 50 MB of documents: on the blocking pool.
    let valid = tokio::task::spawn_blocking(move || {
        let job = new_job(parse_job(&bytes)?)?;
        let valid = job.validate(now, Language::Nb).map_err(signing_problem)?;
        // A document the seal could not take (encrypted, damaged, no pages) is refused now,
        // not found out once everyone has signed.
        for (index, document) in valid.documents.iter().enumerate() {
            if pades::check_sealable(&document.content).is_err() {
                return Err(signing_problem(SigningError::DocumentUnusable { index }));
            }
        }
        Ok(valid)
    })
    .await
    .map_err(|error| {
        tracing::error!(%error, "reading a signing job failed");
        Problem::internal()
    })??;
    let status = state
        .db
        .create_signing_job(&access, &sender_name, valid, now)
        .await
        .map_err(signing_problem)?;
    tracing::info!(
        agency = %caller.agency,
        signing_job.id = %status.id,
        status = status.state.api_code(),
        replayed = status.replayed,
        "signing job creation answered"
    );
    let code = if status.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let location = format!("/api/v1/signing/jobs/{}", status.id);
    let mut response = (code, Json(status_response(status))).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// One of your jobs: its status and each signer's.
///
/// Needs the `signing` capability. Another agency's job is the same 404 as no job.
#[utoipa::path(
    get,
    path = "/api/v1/signing/jobs/{signing_job_id}",
    tag = "signing",
    params(("signing_job_id" = String, Path, description = "The `signing_job_id` of the creation's answer")),
    responses(
        (status = 200, description = "The job's status", body = JobStatusResponse),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not send documents for signing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No job of yours with this id (`signing.not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn job(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> Result<Json<JobStatusResponse>, Problem> {
    let access = caller.authorize::<SendForSigning>(WHAT)?;
    let status = state
        .db
        .signing_job_status(&access, job_id(&job)?)
        .await
        .map_err(signing_problem)?;
    Ok(Json(status_response(status)))
}

/// Cancel one of your jobs that is in progress: every signer who has not signed is
/// `cancelled` and the job `failed`.
///
/// Needs the `signing` capability. A job that has ended (completed, failed) cannot be
/// cancelled: 409 `signing.job_ended`.
#[utoipa::path(
    post,
    path = "/api/v1/signing/jobs/{signing_job_id}/cancel",
    tag = "signing",
    params(("signing_job_id" = String, Path, description = "The job")),
    responses(
        (status = 200, description = "Cancelled: the job's status", body = JobStatusResponse),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not send documents for signing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No job of yours with this id (`signing.not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The job has ended already (`signing.job_ended`)", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn cancel(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path(job): Path<String>,
) -> Result<Json<JobStatusResponse>, Problem> {
    let access = caller.authorize::<SendForSigning>(WHAT)?;
    let status = state
        .db
        .cancel_signing_job(&access, job_id(&job)?, OffsetDateTime::now_utc())
        .await
        .map_err(signing_problem)?;
    tracing::info!(agency = %caller.agency, signing_job.id = %status.id, "signing job cancelled by its agency");
    Ok(Json(status_response(status)))
}

/// Your jobs' status changes since a cursor.
///
/// Needs the `signing` capability. Poll with the `next_cursor` of the previous page: no change
/// is skipped or repeated.
#[utoipa::path(
    get,
    path = "/api/v1/signing/events",
    tag = "signing",
    params(EventQuery),
    responses(
        (status = 200, description = "Status changes after the cursor, oldest first", body = EventPageResponse),
        (status = 400, description = "A cursor this portal did not give out (`signing.invalid_cursor`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not send documents for signing", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn events(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Query(query): Query<EventQuery>,
) -> Result<Json<EventPageResponse>, Problem> {
    let access = caller.authorize::<SendForSigning>(WHAT)?;
    let after = match query.after.as_deref() {
        Some(text) => SigningCursor::decode(text).map_err(signing_problem)?,
        None => SigningCursor::START,
    };
    let page = state
        .db
        .signing_events(&access, after, query.limit.unwrap_or(DEFAULT_PAGE))
        .await
        .map_err(signing_problem)?;
    Ok(Json(event_page_response(page)))
}

/// The sealed copy of one of your job's documents, as `application/pdf`: the original, a front
/// page listing every signer, their evidence embedded, and the portal's PAdES seal (B-T: a
/// timestamp from the configured authority).
///
/// Needs the `signing` capability. Another agency's job is the same 404 as no job; until the
/// job has completed (`completed_successfully`) the answer is 409 `signing.not_sealed`.
#[utoipa::path(
    get,
    path = "/api/v1/signing/jobs/{signing_job_id}/documents/{position}/sealed",
    tag = "signing",
    params(
        ("signing_job_id" = String, Path, description = "The job"),
        ("position" = u32, Path, description = "The document's position in your job, from 0"),
    ),
    responses(
        (status = 200, description = "The sealed PDF", body = Vec<u8>, content_type = "application/pdf"),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not send documents for signing", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No job of yours with this id, or no such document (`signing.not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 409, description = "The job has not completed: nothing sealed yet (`signing.not_sealed`)", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn sealed_document(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path((job, position)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let access = caller.authorize::<SendForSigning>(WHAT)?;
    let job = job_id(&job)?;
    let position: u32 = position.parse().map_err(|_| not_found())?;
    let (info, content) = state
        .db
        .sealed_document(&access, job, position)
        .await
        .map_err(signing_problem)?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        super::post::percent_encode(&info.file_name)
    );
    let mut response = content.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

fn event_page_response(page: SigningEventPage) -> EventPageResponse {
    EventPageResponse {
        events: page
            .events
            .into_iter()
            .map(|event| EventResponse {
                signing_job_id: event.job.as_uuid(),
                job_id: event.agency_job_id.as_str().to_owned(),
                signer_id: event.signer.map(|s| s.as_uuid()),
                status: event.status,
                at: event.at,
            })
            .collect(),
        next_cursor: page.cursor.encode(),
    }
}

fn status_response(status: SigningJobStatus) -> JobStatusResponse {
    // Completion writes every sealed copy in the same transaction.
    let sealed_documents = if status.state == JobState::Completed {
        (0..status.documents.len())
            .map(|position| {
                format!(
                    "/api/v1/signing/jobs/{}/documents/{position}/sealed",
                    status.id
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    JobStatusResponse {
        sealed_documents,
        signing_job_id: status.id.as_uuid(),
        job_id: status.agency_job_id.as_str().to_owned(),
        status: status.state.api_code().to_owned(),
        created_at: status.created_at,
        opens_at: status.opens_at,
        deadline: status.deadline,
        ended_at: status.ended_at,
        signers: status
            .signers
            .into_iter()
            .map(|signer| SignerStatusResponse {
                signer_id: signer.id.as_uuid(),
                national_id: signer.national_id.expose().to_owned(),
                order: signer.order,
                on_behalf_of: signer.on_behalf_of.code().to_owned(),
                status: signer.status.code().to_owned(),
                since: signer.since,
                reason: signer.reason,
            })
            .collect(),
        documents: status.documents,
    }
}

/// The body's JSON shape (400). serde_json's messages can quote the input, so only the
/// position goes into the answer.
fn parse_job(bytes: &[u8]) -> Result<JobRequest, Problem> {
    serde_json::from_slice(bytes).map_err(|error| {
        let what = if error.is_syntax() || error.is_eof() {
            "The body is not valid JSON"
        } else {
            "The body is not a signing job of the documented shape (see JobRequest in \
             /api/v1/openapi.json)"
        };
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Malformed request body",
            format!("{what} (line {}, column {}).", error.line(), error.column()),
        )
    })
}

/// The domain's job: the signers' national ids parsed and the documents decoded; every other
/// rule is the domain's.
fn new_job(request: JobRequest) -> Result<NewSigningJob, Problem> {
    let mut signers = Vec::with_capacity(request.signers.len().min(MAX_SIGNERS + 1));
    for (index, signer) in request.signers.into_iter().enumerate() {
        let national_id = NationalId::parse(&signer.national_id).map_err(|error| {
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-national-id",
                "Malformed national identity number",
                format!(
                    "`signers[{index}].national_id` is not a national identity number ({}).",
                    error.code()
                ),
            )
        })?;
        signers.push(NewSigner {
            national_id,
            order: signer.order,
            on_behalf_of: match signer.on_behalf_of {
                Some(OnBehalfParam::Other) => OnBehalfOf::Other,
                Some(OnBehalfParam::Myself) | None => OnBehalfOf::Myself,
            },
        });
    }
    // More documents than allowed is the domain's refusal, before any is decoded.
    let too_many = request.documents.len() > MAX_DOCUMENTS;
    let mut documents = Vec::with_capacity(request.documents.len().min(MAX_DOCUMENTS + 1));
    for (index, document) in request.documents.into_iter().enumerate() {
        // A document whose base64 is longer than 10 MB could be is the domain's
        // `signing.document_too_large`, without decoding it.
        let content = if too_many {
            Vec::new()
        } else if document.content_base64.len() > MAX_DOCUMENT_BYTES / 3 * 4 + 4 {
            vec![0; MAX_DOCUMENT_BYTES + 1]
        } else {
            STANDARD
                .decode(document.content_base64.as_bytes())
                .map_err(|_| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "invalid-document-encoding",
                        "Document not in base64",
                        format!("documents[{index}].content_base64 is not standard base64."),
                    )
                })?
        };
        documents.push(NewSigningDocument {
            title: document.title,
            file_name: document.filename,
            content,
        });
    }
    let notification = request.notification.unwrap_or_default();
    let notifications =
        SigningNotifications::parse(notification.channels.as_deref(), notification.reminders)
            .map_err(signing_problem)?;
    Ok(NewSigningJob {
        agency_job_id: request.job_id,
        title: request.title,
        non_sensitive_title: request.non_sensitive_title,
        description: request.description,
        documents,
        signers,
        level: match request.required_loa {
            Some(LoaParam::High) => "high",
            Some(LoaParam::Substantial) | None => "substantial",
        }
        .to_owned(),
        opens_at: request.opens_at,
        deadline: request.deadline,
        naming: request.signer_naming.map(|naming| {
            match naming {
                NamingParam::Name => "name",
                NamingParam::NameAndBirthDate => "name_and_birth_date",
                NamingParam::NameAndNationalId => "name_and_national_id",
            }
            .to_owned()
        }),
        notifications,
        helpers_may_sign: request.helpers_may_sign,
        language: request.language,
    })
}

/// A domain error as a problem: its stable code is the type.
fn signing_problem(error: SigningError) -> Problem {
    let status = match &error {
        SigningError::Store(StoreError::Unavailable(_)) => {
            tracing::warn!(%error, "signing: database unavailable");
            return Problem::unavailable();
        }
        SigningError::Store(_) => {
            tracing::error!(%error, "signing failed");
            return Problem::internal();
        }
        SigningError::NotFound => StatusCode::NOT_FOUND,
        SigningError::InvalidCursor => StatusCode::BAD_REQUEST,
        SigningError::JobEnded | SigningError::AlreadyDone | SigningError::NotSealed => {
            StatusCode::CONFLICT
        }
        SigningError::DocumentTooLarge { .. } | SigningError::DocumentsTooLarge => {
            StatusCode::PAYLOAD_TOO_LARGE
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::CONFLICT => "Conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        _ => "Signing job refused",
    };
    // The domain's `Display` names the rule and the index, never the content.
    Problem::new(status, error.code(), title, format!("{error}."))
}

/// A job id from the path; anything that is not one is the same 404 as an unknown job.
fn job_id(text: &str) -> Result<SigningJobId, Problem> {
    text.parse().map_err(|_| not_found())
}

fn not_found() -> Problem {
    Problem::new(
        StatusCode::NOT_FOUND,
        "signing.not_found",
        "Not found",
        "There is no such signing job.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_become_problems_with_the_domains_code() {
        let refused = signing_problem(SigningError::DeadlineInvalid);
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.name(), "signing.deadline_invalid");
        assert_eq!(
            signing_problem(SigningError::JobEnded).status(),
            StatusCode::CONFLICT
        );
        assert_eq!(
            signing_problem(SigningError::DocumentTooLarge { index: 0 }).status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(job_id("nope").unwrap_err().status(), StatusCode::NOT_FOUND);
    }
}
