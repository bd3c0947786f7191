//! Digital post for agencies: `POST /api/v1/letters` (deliver one letter),
//! `GET /api/v1/letters/{letter_id}` (one letter's status and receipts),
//! `GET /api/v1/receipts` (poll receipts since a cursor), and the print provider's queue under
//! `/api/v1/print/letters`.
//!
//! The request is one JSON document with the attachments in base64, not multipart: one schema
//! in the OpenAPI document that every agency's tooling can generate a client from, one parser
//! with exact error positions, and no second body format to keep safe. The price is a third
//! more bytes on the wire for attachments; the limit below allows for it.
//!
//! Every rule on the letter is the domain's ([`NewLetter::validate`]): a refused letter is a
//! problem whose `type` ends in the domain's stable code (`post.title_missing`, …), and the
//! domain stores nothing for it but a `rejected` receipt (when the message id is readable), so
//! an agency polling receipts sees the refusal too. A request that is not a letter at all (not
//! JSON, a malformed national id, broken base64) is refused here, before the domain, and
//! leaves no receipt.
//!
//! Logs name the agency, the letter id and the outcome; never the national id, the title or
//! the content.

use axum::{
    body::Body,
    extract::{Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use borgerportal::{
    BodyKind, DeliverPost, DeliveryReceipt, LetterStatus, Loa, NationalId, NewAttachment,
    NewLetter, NotificationRequest, PostError, PrintPost, Receipt, ReceiptCursor, StoreError,
    MAX_ATTACHMENTS, MAX_ATTACHMENT_BYTES, MAX_TOTAL_ATTACHMENT_BYTES,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

mod schema;

pub use schema::*;

use super::auth::AgencyCaller;
use super::problem::{Problem, ProblemDocument};
use crate::AppState;

/// The largest delivery request read: the attachments' total cap in base64 (4/3), plus room
/// for a 1 MB body even when every character of it is JSON-escaped, and the other fields.
/// A larger `Content-Length` is refused with 413 before the body is read; a body without one
/// is read only up to this.
pub const MAX_DELIVERY_BYTES: usize = MAX_TOTAL_ATTACHMENT_BYTES / 3 * 4 + 8 * 1024 * 1024;

/// Receipts and print jobs per page unless `limit` says otherwise.
const DEFAULT_PAGE: u32 = 100;

/// Deliver one letter.
///
/// Needs an agency token with the `deliver_post` capability (the default). The letter is
/// committed before the answer. Idempotent on (agency, `message_id`): the first delivery
/// answers `201 Created`; any later call with the same message id (also one racing the first)
/// answers `200 OK` with the same body and stores nothing. A refused letter is a problem whose
/// type ends in the rule's code (`post.title_missing`, `post.attachment_not_pdf`, …); it stores
/// no letter, only a `rejected` receipt with that code as the reason.
#[utoipa::path(
    post,
    path = "/api/v1/letters",
    tag = "post",
    request_body(content = LetterRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Delivered (or sent to print); `Location` names the letter", body = DeliveryResponse,
            headers(("Location" = String, description = "/api/v1/letters/{letter_id}: the letter's status and receipts"))),
        (status = 200, description = "A retry of an earlier delivery with this message id: its first result; nothing new stored", body = DeliveryResponse),
        (status = 400, description = "The body is not JSON of the documented shape, or an attachment is not base64", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not deliver post, or is switched off", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "The request, the body, an attachment (10 MB) or all attachments (50 MB) are too large (`post.body_too_large`, `post.attachment_too_large`, `post.attachments_too_large`, `body-too-large`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "A rule is broken: `invalid-national-id` or `post.*` (see the type), including the notification wishes (`post.notification_channel_invalid`, `post.notification_repeat_invalid`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "Temporarily unavailable; retry with the same message id", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn deliver(
    caller: AgencyCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Problem> {
    let access = caller.authorize::<DeliverPost>("deliver post")?;
    let sender_name = state
        .api
        .registry
        .name(&caller.agency)
        .unwrap_or(caller.agency.as_str())
        .to_owned();
    let bytes = read_body(&headers, body).await?;
    let now = OffsetDateTime::now_utc();
    // A letter with attachments takes milliseconds to parse and decode (a full-size one about
    // a tenth of a second): on the blocking pool, so the worker's other connections go on
    // (`crate::serve`: a worker's requests are not taken over by another thread).
    let letter = if bytes.len() > PARSE_INLINE_BYTES {
        tokio::task::spawn_blocking(move || letter_from_body(&bytes, sender_name, now))
            .await
            .map_err(|error| {
                tracing::error!(%error, "parsing a delivered letter failed");
                Problem::internal()
            })??
    } else {
        letter_from_body(&bytes, sender_name, now)?
    };
    let receipt = state
        .db
        .deliver_letter(&access, letter, now)
        .await
        .map_err(|error| post_problem(&caller, error))?;
    tracing::info!(
        agency = %caller.agency,
        letter.id = %receipt.letter,
        status = receipt.status.code(),
        replayed = receipt.replayed,
        "letter delivery answered"
    );
    Ok(delivery_response(receipt))
}

fn delivery_response(receipt: DeliveryReceipt) -> Response {
    let status = if receipt.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let location = format!("/api/v1/letters/{}", receipt.letter);
    let body = DeliveryResponse {
        letter_id: receipt.letter.as_uuid(),
        message_id: receipt.message_id.as_str().to_owned(),
        status: receipt.status.code().to_owned(),
        accepted_at: receipt.delivered_at,
    };
    let mut response = (status, Json(body)).into_response();
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

/// A delivery body of at most this many bytes is parsed on the request's own thread: a
/// letter without attachments parses in microseconds, less than a hand-over would cost.
const PARSE_INLINE_BYTES: usize = 64 * 1024;

/// The letter's body, read whole: its content type (415), its size (413, before reading when
/// `Content-Length` is too large). Its JSON shape is `parse_letter`'s.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes, Problem> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            "Unsupported media type",
            "Send the letter as `application/json`, attachments in base64.",
        ));
    }
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request too large",
            format!(
                "The request is over {MAX_DELIVERY_BYTES} bytes: attachments may be at most \
                 {MAX_ATTACHMENT_BYTES} bytes each and {MAX_TOTAL_ATTACHMENT_BYTES} together."
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > MAX_DELIVERY_BYTES as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, MAX_DELIVERY_BYTES)
        .await
        .map_err(|_| too_large())
}

/// The domain's letter from the body: parsed, the recipient read and the attachments decoded.
fn letter_from_body(
    bytes: &[u8],
    sender_name: String,
    now: OffsetDateTime,
) -> Result<NewLetter, Problem> {
    new_letter(parse_letter(bytes)?, sender_name, now)
}

/// The body's JSON shape (400).
fn parse_letter(bytes: &[u8]) -> Result<LetterRequest, Problem> {
    // serde_json's messages can quote the input, so only the position goes into the answer.
    serde_json::from_slice(bytes).map_err(|error| {
        let what = if error.is_syntax() || error.is_eof() {
            "The body is not valid JSON"
        } else {
            "The body is not a letter of the documented shape (see LetterRequest in \
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

/// The domain's letter: the recipient parsed and the attachments decoded; every other rule is
/// the domain's.
fn new_letter(
    request: LetterRequest,
    sender_name: String,
    now: OffsetDateTime,
) -> Result<NewLetter, Problem> {
    let recipient = NationalId::parse(&request.recipient).map_err(|error| {
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-national-id",
            "Malformed national identity number",
            format!(
                "`recipient` is not a national identity number ({}).",
                error.code()
            ),
        )
    })?;
    // Counted before any is decoded. More than the domain allows is the domain's refusal
    // (`post.too_many_attachments`, with its `rejected` receipt): it counts them before it
    // looks at any content, so it gets their names only, and such a request costs no decoding
    // (nor a base64 error from the 21st file).
    let too_many = request.attachments.len() > MAX_ATTACHMENTS;
    let mut attachments = Vec::with_capacity(request.attachments.len());
    for (index, attachment) in request.attachments.into_iter().enumerate() {
        let content = if too_many {
            Vec::new()
        } else {
            STANDARD
                .decode(attachment.content_base64.as_bytes())
                .map_err(|_| {
                    Problem::new(
                        StatusCode::BAD_REQUEST,
                        "invalid-attachment-encoding",
                        "Attachment not in base64",
                        format!("attachments[{index}].content_base64 is not standard base64."),
                    )
                })?
        };
        attachments.push(NewAttachment {
            filename: attachment.filename,
            content,
        });
    }
    Ok(NewLetter {
        recipient,
        message_id: request.message_id,
        sender_name,
        title: request.title,
        safe_title: request.non_sensitive_title,
        body_kind: match request.body_kind {
            BodyKindParam::Text => BodyKind::Text,
            BodyKindParam::Html => BodyKind::Html,
        },
        body: request.body,
        attachments,
        required_loa: match request.required_loa {
            Some(LoaParam::High) => Loa::High,
            Some(LoaParam::Substantial) | None => Loa::Substantial,
        },
        effective_at: request.effective_at,
        wants_opening_receipt: request.opening_receipt,
        is_decision: request.is_decision,
        created_at: request.created_at.unwrap_or(now),
        notification: request
            .notification
            .map(|wish| NotificationRequest {
                channels: wish.channels,
                repeat_after_days: wish.repeat_after_days,
            })
            .unwrap_or_default(),
    })
}

/// A domain error as a problem: its stable code is the type.
fn post_problem(caller: &AgencyCaller, error: PostError) -> Problem {
    let status = match &error {
        PostError::Store(StoreError::Unavailable(_)) => {
            tracing::warn!(agency = %caller.agency, %error, "digital post: database unavailable");
            return Problem::unavailable();
        }
        PostError::Store(_) => {
            tracing::error!(agency = %caller.agency, %error, "digital post failed");
            return Problem::internal();
        }
        PostError::NotFound => StatusCode::NOT_FOUND,
        PostError::InvalidCursor => StatusCode::BAD_REQUEST,
        PostError::BodyTooLarge
        | PostError::AttachmentTooLarge { .. }
        | PostError::AttachmentsTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::BAD_REQUEST => "Bad request",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        _ => "Letter refused",
    };
    // The domain's `Display` names the rule and the attachment's index, never the content.
    Problem::new(status, error.code(), title, format!("{error}."))
}

/// One letter you delivered: where it went, its notification wishes and its receipts.
///
/// Needs the `deliver_post` capability. Another agency's letter is the same 404 as a letter
/// that does not exist. No content is returned.
#[utoipa::path(
    get,
    path = "/api/v1/letters/{letter_id}",
    tag = "post",
    params(("letter_id" = String, Path, description = "The `letter_id` of the delivery (the `Location` of its 201)")),
    responses(
        (status = 200, description = "The letter's status and receipts", body = LetterStatusResponse),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not deliver post", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No letter of yours with this id (`post.not_found`)", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn letter(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path(letter): Path<String>,
) -> Result<Json<LetterStatusResponse>, Problem> {
    let access = caller.authorize::<DeliverPost>("deliver post")?;
    let letter = letter_id(&letter)?;
    let status = state
        .db
        .letter_status(&access, letter)
        .await
        .map_err(|error| post_problem(&caller, error))?;
    Ok(Json(letter_status_response(status)))
}

fn letter_status_response(status: LetterStatus) -> LetterStatusResponse {
    LetterStatusResponse {
        letter_id: status.letter.as_uuid(),
        message_id: status.message_id.as_str().to_owned(),
        status: status.status.code().to_owned(),
        accepted_at: status.accepted_at,
        effective_at: status.effective_at,
        is_decision: status.is_decision,
        notification: NotificationStatus {
            channels: status
                .notification
                .channel_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            repeat_after_days: status.notification.repeat_after_days,
        },
        receipts: status.receipts.into_iter().map(receipt_response).collect(),
    }
}

/// The calling agency's receipts since a cursor.
///
/// Needs the `deliver_post` capability. Poll with the `next_cursor` of the previous page: no
/// receipt is skipped or repeated.
#[utoipa::path(
    get,
    path = "/api/v1/receipts",
    tag = "post",
    params(ReceiptQuery),
    responses(
        (status = 200, description = "Receipts after the cursor, oldest first", body = ReceiptPageResponse),
        (status = 400, description = "A cursor this portal did not give out (`post.invalid_cursor`)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency may not deliver post", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn receipts(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Query(query): Query<ReceiptQuery>,
) -> Result<Json<ReceiptPageResponse>, Problem> {
    let access = caller.authorize::<DeliverPost>("deliver post")?;
    let after = query
        .after
        .as_deref()
        .map(ReceiptCursor::decode)
        .transpose()
        .map_err(|error| post_problem(&caller, error))?;
    let page = state
        .db
        .list_receipts(&access, after, query.limit.unwrap_or(DEFAULT_PAGE))
        .await
        .map_err(|error| post_problem(&caller, error))?;
    Ok(Json(ReceiptPageResponse {
        receipts: page.receipts.into_iter().map(receipt_response).collect(),
        next_cursor: page.cursor.map(|cursor| cursor.encode()),
    }))
}

fn receipt_response(receipt: Receipt) -> ReceiptResponse {
    ReceiptResponse {
        message_id: receipt.message_id,
        letter_id: receipt.letter.map(|letter| letter.as_uuid()),
        kind: receipt.kind.code().to_owned(),
        reason: receipt.reason,
        at: receipt.at,
    }
}

/// The letters waiting for print.
///
/// For the print provider: an agency entry granted the `print` capability. A letter stays in
/// the list until it is acknowledged.
#[utoipa::path(
    get,
    path = "/api/v1/print/letters",
    tag = "print",
    params(PrintQuery),
    responses(
        (status = 200, description = "Unacknowledged letters, oldest first", body = PrintQueueResponse),
        (status = 401, description = "Missing or refused token", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency is not the print provider", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn print_queue(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Query(query): Query<PrintQuery>,
) -> Result<Json<PrintQueueResponse>, Problem> {
    let access = caller.authorize::<PrintPost>("use the print queue")?;
    let jobs = state
        .db
        .list_print_queue(&access, query.limit.unwrap_or(DEFAULT_PAGE))
        .await
        .map_err(|error| post_problem(&caller, error))?;
    let letters = jobs
        .into_iter()
        .map(|job| PrintLetter {
            letter_id: job.letter.as_uuid(),
            recipient: job.recipient.expose().to_owned(),
            agency: job.agency.as_str().to_owned(),
            sender_name: job.sender_name,
            title: job.title,
            body_html: job.body_html,
            attachments: job
                .attachments
                .into_iter()
                .map(|info| PrintAttachment {
                    position: info.position,
                    filename: info.filename,
                    size: info.size,
                })
                .collect(),
            queued_at: job.queued_at,
        })
        .collect();
    Ok(Json(PrintQueueResponse { letters }))
}

/// One attachment of a letter in the print queue, as `application/pdf`.
#[utoipa::path(
    get,
    path = "/api/v1/print/letters/{letter_id}/attachments/{position}",
    tag = "print",
    params(
        ("letter_id" = String, Path, description = "The letter"),
        ("position" = u32, Path, description = "The attachment's position, from 0"),
    ),
    responses(
        (status = 200, description = "The PDF", body = Vec<u8>, content_type = "application/pdf"),
        (status = 403, description = "The agency is not the print provider", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "No such letter in the print queue, or no such attachment", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn print_attachment(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path((letter, position)): Path<(String, String)>,
) -> Result<Response, Problem> {
    let access = caller.authorize::<PrintPost>("use the print queue")?;
    let letter = letter_id(&letter)?;
    let position: u32 = position.parse().map_err(|_| Problem::not_found())?;
    let attachment = state
        .db
        .print_attachment(&access, letter, position)
        .await
        .map_err(|error| post_problem(&caller, error))?;
    let disposition = format!(
        "attachment; filename*=UTF-8''{}",
        percent_encode(&attachment.info.filename)
    );
    let mut response = attachment.content.into_response();
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

/// The print provider has the letter: it leaves the queue.
#[utoipa::path(
    post,
    path = "/api/v1/print/letters/{letter_id}/ack",
    tag = "print",
    params(("letter_id" = String, Path, description = "The letter")),
    responses(
        (status = 204, description = "Acknowledged (also when it already was)"),
        (status = 403, description = "The agency is not the print provider", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 404, description = "The letter was never in the print queue", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn acknowledge(
    caller: AgencyCaller,
    State(state): State<AppState>,
    Path(letter): Path<String>,
) -> Result<StatusCode, Problem> {
    let access = caller.authorize::<PrintPost>("use the print queue")?;
    let letter = letter_id(&letter)?;
    state
        .db
        .acknowledge_print(&access, letter, OffsetDateTime::now_utc())
        .await
        .map_err(|error| post_problem(&caller, error))?;
    tracing::info!(agency = %caller.agency, letter.id = %letter, "print acknowledged");
    Ok(StatusCode::NO_CONTENT)
}

fn letter_id(text: &str) -> Result<borgerportal::LetterId, Problem> {
    text.parse().map_err(|_| {
        Problem::new(
            StatusCode::NOT_FOUND,
            "post.not_found",
            "Not found",
            "There is no such letter.",
        )
    })
}

/// RFC 5987 encoding of a file name (everything but unreserved characters escaped).
pub(crate) fn percent_encode(name: &str) -> String {
    name.bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect()
}
