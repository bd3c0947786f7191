//! `POST /api/v1/contact-info/lookup`: an agency looks up the contact and reservation status
//! of up to 1,000 persons by national id.

use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    Json,
};
use borgerportal::{
    AgencyId, ContactError, ContactLookup, ContactValue, LookupContact, Mailbox, NationalId,
    StoreError, MAX_LOOKUP_BATCH,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

use super::auth::AgencyCaller;
use super::problem::{InvalidId, Problem, ProblemDocument};
use crate::AppState;

/// The largest request body read: 1,000 ids with room for formatting, far from a megabyte.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the agency asks for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"national_ids": ["01817512345", "230972-1846"]}))]
pub struct LookupRequest {
    /// 1 to 1,000 national identity numbers: Norwegian fødselsnummer or D-nummer (11 digits)
    /// or Danish CPR (10 digits, with or without the dash).
    #[schema(value_type = Vec<String>, min_items = 1, max_items = 1000)]
    pub national_ids: Vec<serde_json::Value>,
}

/// The answer: one entry per requested id, in the same order.
#[derive(Debug, Serialize, ToSchema)]
pub struct LookupResponse {
    /// One per requested id, in the order asked.
    pub persons: Vec<PersonContact>,
    /// The staleness limit applied to `can_be_notified`, in days.
    pub staleness_limit_days: u32,
}

/// KRR's status of a person's entry.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisterStatus {
    /// Has contact information registered.
    Active,
    /// Had contact information and removed all of it.
    Deleted,
    /// Never registered any, or not known to the register at all.
    NotRegistered,
}

/// One person's register fields.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonContact {
    /// The national id as asked, normalised (digits only).
    pub national_id: String,
    /// Registered or not.
    pub status: RegisterStatus,
    /// Reserved against digital communication: send on paper.
    pub reserved: bool,
    /// When the reservation was last set or withdrawn (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reservation_changed_at: Option<OffsetDateTime>,
    /// The e-mail address in force.
    pub email: Option<ContactPoint>,
    /// The mobile number in force (E.164).
    pub mobile: Option<ContactPoint>,
    /// Whether the person may be notified now: false when reserved, or when no contact value
    /// was verified or confirmed within the staleness limit.
    pub can_be_notified: bool,
    /// Where digital post goes; null for an id the register does not know.
    pub mailbox: Option<MailboxInfo>,
    /// Preferred language (`nb`, `nn`, `da`, `en`); null for an id the register does not know.
    pub language: Option<String>,
}

/// An e-mail address or mobile number, with KRR's two timestamps.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactPoint {
    /// The address, or the number in E.164 (`+4791234567`).
    pub value: String,
    /// When it was last changed (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// When it was last verified or confirmed by the person (RFC 3339).
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub verified_at: Option<OffsetDateTime>,
}

/// The person's digital mailbox.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxInfo {
    /// `portal` (this portal's own) or `external`.
    pub kind: String,
    /// The external provider's name, e.g. `digipost`.
    pub provider: Option<String>,
}

/// Look up contact and reservation status.
///
/// Needs an agency token with the `lookup_contact` capability (every agency has it unless its
/// configuration says otherwise). Every person found
/// gets an audit event naming the agency in their activity log, written before the answer.
#[utoipa::path(
    post,
    path = "/api/v1/contact-info/lookup",
    tag = "contact",
    request_body(content = LookupRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "One entry per requested id, in order; unknown ids have status `not_registered`", body = LookupResponse),
        (status = 400, description = "The body is not JSON of the documented shape", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 401, description = "Missing, malformed, expired, replayed or wrongly signed token; wrong audience; unknown agency", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 403, description = "The agency's access is switched off, or it may not look up", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 413, description = "More than 1,000 ids, or a body over 64 KiB", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 415, description = "The body is not `application/json`", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 422, description = "No ids, or malformed national ids (listed by index)", body = ProblemDocument, content_type = "application/problem+json"),
        (status = 503, description = "The register is temporarily unavailable", body = ProblemDocument, content_type = "application/problem+json"),
    ),
    security(("agency_jwt" = []))
)]
pub async fn lookup(
    caller: AgencyCaller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<LookupResponse>, Problem> {
    let access = caller.authorize::<LookupContact>("look up contact information")?;
    let national_ids = read_request(&headers, body).await?;
    let now = OffsetDateTime::now_utc();
    let staleness = state.api.staleness;
    let answers = state
        .db
        .lookup_contact_info(&access, &national_ids, now, staleness)
        .await
        .map_err(|error| lookup_failed(&caller.agency, error))?;
    let persons = national_ids
        .iter()
        .zip(answers)
        .map(|(national_id, answer)| person_contact(national_id, answer))
        .collect();
    Ok(Json(LookupResponse {
        persons,
        staleness_limit_days: state.api.staleness_days,
    }))
}

/// Content type, size, JSON shape, count, then every id: the first problem found, or the ids.
async fn read_request(headers: &HeaderMap, body: Body) -> Result<Vec<NationalId>, Problem> {
    let bytes = json_body(headers, body, MAX_BODY_BYTES).await?;
    // serde_json's messages can quote the input (a number that is a national id), so only the
    // position and the category go into the answer.
    let request: LookupRequest = serde_json::from_slice(&bytes).map_err(|error| {
        let what = if error.is_syntax() || error.is_eof() {
            "The body is not valid JSON"
        } else {
            "The body is not of the form {\"national_ids\": [\"…\", …]}"
        };
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-body",
            "Malformed request body",
            format!("{what} (line {}, column {}).", error.line(), error.column()),
        )
    })?;
    if request.national_ids.is_empty() {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "no-national-ids",
            "No national ids",
            "`national_ids` is empty: give 1 to 1,000 ids.",
        ));
    }
    if request.national_ids.len() > MAX_LOOKUP_BATCH {
        return Err(Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-many-national-ids",
            "Too many national ids",
            format!(
                "`national_ids` has {} entries; at most {MAX_LOOKUP_BATCH} may be looked up at \
                 once. Split the list.",
                request.national_ids.len()
            ),
        ));
    }
    let mut national_ids = Vec::with_capacity(request.national_ids.len());
    let mut invalid = Vec::new();
    for (index, value) in request.national_ids.iter().enumerate() {
        let parsed = match value.as_str() {
            Some(text) => NationalId::parse(text).map_err(|error| error.code().to_owned()),
            None => Err("not_a_string".to_owned()),
        };
        match parsed {
            Ok(national_id) => national_ids.push(national_id),
            Err(reason) => invalid.push(InvalidId {
                index,
                field: None,
                reason,
            }),
        }
    }
    if let Some(first) = invalid.first() {
        let detail = format!(
            "{} of the national ids are malformed; the first is national_ids[{}] ({}). \
             None was looked up.",
            invalid.len(),
            first.index,
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
    Ok(national_ids)
}

/// The body of a JSON request: `application/json`, at most `max_bytes` (413 beyond), as bytes.
pub(super) async fn json_body(
    headers: &HeaderMap,
    body: Body,
    max_bytes: usize,
) -> Result<axum::body::Bytes, Problem> {
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
            "Send the body as `application/json`.",
        ));
    }
    let too_large = || {
        Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "Request too large",
            format!("The body is over {max_bytes} bytes."),
        )
    };
    // A larger declared length is refused before a byte is read.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > max_bytes as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max_bytes)
        .await
        .map_err(|_| too_large())
}

/// A reason code in words, for the detail line.
pub(super) fn reason_text(reason: &str) -> &'static str {
    match reason {
        "identity.empty" => "empty",
        "identity.not_digits" => "not only digits",
        "identity.wrong_length" => "11 digits for Norway or 10 for Denmark expected",
        "identity.invalid_date" => "the birth date is not a real date",
        "identity.invalid_individual_number" => "the individual number does not fit the year",
        "identity.checksum" => "the check digits do not match",
        "not_a_string" => "not a JSON string",
        _ => "not a national identity number",
    }
}

fn lookup_failed(agency: &AgencyId, error: ContactError) -> Problem {
    match error {
        ContactError::Store(StoreError::Unavailable(_)) => {
            tracing::warn!(%agency, %error, "contact look-up: database unavailable");
            Problem::unavailable()
        }
        error => {
            tracing::error!(%agency, %error, "contact look-up failed");
            Problem::internal()
        }
    }
}

fn person_contact(national_id: &NationalId, answer: ContactLookup) -> PersonContact {
    use borgerportal::ContactStatus;
    PersonContact {
        national_id: national_id.expose().to_owned(),
        status: match answer.status {
            ContactStatus::Active => RegisterStatus::Active,
            ContactStatus::Deleted => RegisterStatus::Deleted,
            ContactStatus::NotRegistered => RegisterStatus::NotRegistered,
        },
        reserved: answer.reserved,
        reservation_changed_at: answer.reservation_changed_at,
        email: answer
            .email
            .map(|email| contact_point(email, |value| value.as_str())),
        mobile: answer
            .mobile
            .map(|mobile| contact_point(mobile, |value| value.as_str())),
        can_be_notified: answer.can_be_notified,
        mailbox: answer.mailbox.map(|mailbox| match mailbox {
            Mailbox::Portal => MailboxInfo {
                kind: "portal".to_owned(),
                provider: None,
            },
            Mailbox::External { provider } => MailboxInfo {
                kind: "external".to_owned(),
                provider: Some(provider),
            },
        }),
        language: answer.language.map(|language| language.code().to_owned()),
    }
}

fn contact_point<T>(value: ContactValue<T>, text: impl Fn(&T) -> &str) -> ContactPoint {
    ContactPoint {
        value: text(&value.value).to_owned(),
        updated_at: value.updated_at,
        verified_at: value.verified_at,
    }
}
