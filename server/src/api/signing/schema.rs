//! The signing API's request and response documents, as the OpenAPI document describes them.

use super::*;

/// A signing job as the agency sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "job_id": "nav-sign-2026-000123",
    "title": "Avtale om oppfølging",
    "non_sensitive_title": "Et dokument fra NAV til signering",
    "description": "Les avtalen og signer innen fristen.",
    "documents": [{"title": "Avtale", "filename": "avtale.pdf", "content_base64": "JVBERi0xLjQK..."}],
    "signers": [{"national_id": "01817512345", "order": 0}],
    "required_loa": "substantial",
    "deadline": "2026-12-31T23:00:00Z",
    "signer_naming": "name_and_birth_date",
    "language": "nb"
}))]
pub struct JobRequest {
    /// Your own id for this job: 1 to 100 characters `A-Za-z0-9._:-`. The idempotency key:
    /// sending the same id again returns the first job's status and stores nothing.
    pub job_id: String,
    /// The title (may be sensitive), at most 80 characters; shown at the job's level.
    pub title: String,
    /// A title that gives nothing away (at most 80), used in notifications and shown below
    /// the job's level.
    pub non_sensitive_title: String,
    /// A message to the signers, at most 220 characters.
    #[serde(default)]
    pub description: Option<String>,
    /// 1 to 20 PDF files, at most 10 MB each and 50 MB together (checked by content).
    #[schema(min_items = 1, max_items = 20)]
    pub documents: Vec<DocumentRequest>,
    /// 1 to 10 signers, each named once.
    #[schema(min_items = 1, max_items = 10)]
    pub signers: Vec<SignerRequest>,
    /// The login level each signature needs: `substantial` (default) or `high`. The signer
    /// logs in again at this level to sign.
    #[serde(default)]
    pub required_loa: Option<LoaParam>,
    /// When the job opens (RFC 3339), at most a year ahead. Absent or past: now.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opens_at: Option<OffsetDateTime>,
    /// When signers who have not signed expire and the job fails (RFC 3339): after the
    /// opening, and at most 90 days after it.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub deadline: OffsetDateTime,
    /// How signers are named on the sealed document's front page. Default: `name`.
    #[serde(default)]
    pub signer_naming: Option<NamingParam>,
    /// How signers are told. Absent: by e-mail and SMS, with a reminder before the deadline.
    #[serde(default)]
    pub notification: Option<SigningNotificationParam>,
    /// Whether a helper whose delegation from a signer has the `documents.sign` scope may
    /// sign for them (the sealed document then names both). Default: no.
    #[serde(default)]
    pub helpers_may_sign: bool,
    /// The language the portal writes the job's sealed documents (front page, the signers'
    /// line on every page, the evidence files' names) and the letter that brings them in:
    /// `nb` (default), `nn`, `da` or `en`. The signers' notifications follow each signer's own
    /// language.
    #[serde(default)]
    #[schema(example = "nb")]
    pub language: Option<String>,
}

/// One document.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentRequest {
    /// The title the signer sees, at most 200 characters.
    pub title: String,
    /// The file name for downloads (no `/`, `\` or `"`), at most 200 characters.
    pub filename: String,
    /// The PDF file, base64 (standard alphabet, with padding).
    pub content_base64: String,
}

/// One signer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignerRequest {
    /// The signer's national identity number.
    pub national_id: String,
    /// 0 to 9 (default 0): signers with the same order sign in parallel; the next order is
    /// asked when every lower one has signed.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 9)]
    pub order: i64,
    /// `self` (default): for themself, checked against the reservation register (a reserved
    /// signer, or one without usable contact information, fails the job at once with that
    /// status). `other`: in a role for someone else, not checked.
    #[serde(default)]
    pub on_behalf_of: Option<OnBehalfParam>,
}

/// `self` or `other`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnBehalfParam {
    /// For themself.
    #[serde(rename = "self")]
    Myself,
    /// In a role for someone else.
    Other,
}

/// `substantial` or `high`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoaParam {
    /// eIDAS substantial.
    Substantial,
    /// eIDAS high.
    High,
}

/// How signers are named in the sealed document.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NamingParam {
    /// The name only.
    Name,
    /// The name and the date of birth.
    NameAndBirthDate,
    /// The name and the national identity number.
    NameAndNationalId,
}

/// Notification wishes. Notifications never carry a link, use only the non-sensitive title,
/// and an SMS is never sent between 22:00 and 08:00.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningNotificationParam {
    /// `"email"` and/or `"sms"`, each at most once; `[]`: none. Absent: both.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// A reminder before the deadline (1 to 5 days before, by the length of the open
    /// period). Default: yes.
    #[serde(default)]
    pub reminders: Option<bool>,
}

/// A job's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobStatusResponse {
    /// The portal's id for the job.
    #[schema(value_type = String)]
    pub signing_job_id: Uuid,
    /// Your id for the job.
    pub job_id: String,
    /// `in_progress`, `completed_successfully` or `failed` (tolerate values added later).
    pub status: String,
    /// When the job was created.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// When it opens (or opened).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opens_at: OffsetDateTime,
    /// Its deadline.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub deadline: OffsetDateTime,
    /// When it completed or failed.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
    /// The signers, in your order.
    pub signers: Vec<SignerStatusResponse>,
    /// The documents' titles, in your order.
    pub documents: Vec<String>,
    /// Once the job is `completed_successfully`: where to fetch each document's sealed copy,
    /// in your order (`/api/v1/signing/jobs/{signing_job_id}/documents/{position}/sealed`);
    /// empty before.
    pub sealed_documents: Vec<String>,
}

/// One signer's status.
#[derive(Debug, Serialize, ToSchema)]
pub struct SignerStatusResponse {
    /// The portal's id of this signer on this job (named in status changes).
    #[schema(value_type = String)]
    pub signer_id: Uuid,
    /// The national identity number you named them by.
    pub national_id: String,
    /// Their order.
    pub order: u8,
    /// `self` or `other`.
    pub on_behalf_of: String,
    /// `waiting`, `signed`, `rejected`, `cancelled`, `expired`, `reserved`,
    /// `contact_information_missing` or `not_applicable` (tolerate values added later).
    pub status: String,
    /// Since when.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    /// Why they declined, if they said.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `?after=<cursor>&limit=<n>`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// The `next_cursor` of the previous page; absent: from the first change.
    pub after: Option<String>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

/// A page of status changes.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventPageResponse {
    /// Oldest first.
    pub events: Vec<EventResponse>,
    /// Pass as `after` next time (also when `events` is empty).
    pub next_cursor: String,
}

/// One status change.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventResponse {
    /// The portal's id for the job.
    #[schema(value_type = String)]
    pub signing_job_id: Uuid,
    /// Your id for the job.
    pub job_id: String,
    /// The signer whose status changed; absent when the job's own status changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub signer_id: Option<Uuid>,
    /// The new status: a signer status, or for the job `completed_successfully` or `failed`.
    pub status: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}
