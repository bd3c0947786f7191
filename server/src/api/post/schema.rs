//! The delivery API's request and response documents, as the OpenAPI document describes them.

use super::*;

/// A letter as the agency sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "recipient": "01817512345",
    "message_id": "nav-2026-000123",
    "title": "Vedtak om dagpenger",
    "non_sensitive_title": "Du har fått et brev fra NAV",
    "body": "<p>Du har fått innvilget dagpenger.</p>",
    "body_kind": "html",
    "required_loa": "substantial",
    "opening_receipt": true,
    "is_decision": true,
    "attachments": [{"filename": "vedtak.pdf", "content_base64": "JVBERi0xLjQK..."}]
}))]
pub struct LetterRequest {
    /// The recipient's national identity number (fødselsnummer, D-nummer or CPR).
    pub recipient: String,
    /// Your own id for this message: 1 to 100 characters `A-Za-z0-9._:-`. The idempotency
    /// key: sending the same id again returns the first result and stores nothing.
    pub message_id: String,
    /// The title (may be sensitive), at most 200 characters.
    pub title: String,
    /// A title that gives nothing away, shown (and notified) instead of `title` when the
    /// reader's login is below `required_loa`.
    pub non_sensitive_title: String,
    /// The body: plain text, or HTML (a safe subset is kept; scripts, styles, event handlers
    /// and unsafe links are removed). At most 1 MB.
    pub body: String,
    /// `text` or `html`.
    pub body_kind: BodyKindParam,
    /// The login level needed to read the content: `substantial` (default) or `high`.
    #[serde(default)]
    pub required_loa: Option<LoaParam>,
    /// Not shown to the citizen (nor notified) before this time (RFC 3339); at most a year
    /// ahead. Absent or past: at once.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub effective_at: Option<OffsetDateTime>,
    /// Whether you want an `opened` receipt when the citizen first opens the letter.
    #[serde(default)]
    pub opening_receipt: bool,
    /// Whether it is a decision (vedtak): marked as such in the mailbox, and reminded once
    /// (by the channels in `notification`) if still never opened 7 days after it was shown.
    #[serde(default)]
    pub is_decision: bool,
    /// When you wrote it (RFC 3339); default: now. Not more than 5 minutes in the future.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub created_at: Option<OffsetDateTime>,
    /// 0 to 20 PDF files, at most 10 MB each and 50 MB together (checked by content).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub attachments: Vec<AttachmentRequest>,
    /// How the citizen is told about the letter. Absent: by e-mail and SMS, no repeat.
    #[serde(default)]
    pub notification: Option<NotificationParam>,
}

/// Notification wishes. Notifications go only to contact information the citizen confirmed
/// within the last 18 months, never to a reserved citizen, and never carry a link or (for a
/// letter that needs `high`) the title.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"channels": ["email"], "repeat_after_days": 3}))]
pub struct NotificationParam {
    /// `"email"` and/or `"sms"`, each at most once; `[]`: no notification (and no reminder).
    /// Absent: both. Anything else is `post.notification_channel_invalid`.
    #[serde(default)]
    pub channels: Option<Vec<String>>,
    /// One repeat of the notification if the letter is still never opened this many days
    /// after it was shown: 1 to 30 and only with a channel, else
    /// `post.notification_repeat_invalid`. A decision is reminded after 7 days anyway (or
    /// after this many days if fewer). If none of the channels can be used when the letter
    /// is delivered, or when the repeat is due, you get a `notification_failed` receipt.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 30)]
    pub repeat_after_days: Option<i64>,
}

/// `text` or `html`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BodyKindParam {
    /// Plain text; line breaks are kept.
    Text,
    /// A restricted HTML subset, sanitized at delivery.
    Html,
}

/// `substantial` or `high`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoaParam {
    /// eIDAS substantial (MinID, MitID substantial).
    Substantial,
    /// eIDAS high (BankID, Buypass, Commfides, MitID high).
    High,
}

/// One attachment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentRequest {
    /// The file name the citizen sees (no `/`, `\` or `"`), at most 200 characters.
    pub filename: String,
    /// The PDF file, base64 (standard alphabet, with padding).
    pub content_base64: String,
}

/// The delivery's result: the same for a retry as for the first call.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryResponse {
    /// The portal's id for the letter.
    #[schema(value_type = String)]
    pub letter_id: Uuid,
    /// Your message id.
    pub message_id: String,
    /// `delivered` (in the citizen's mailbox), `returned_to_paper` (the recipient is
    /// reserved or not registered: the letter went to the print queue) or `forwarding` (the
    /// recipient chose an external mailbox provider: the portal forwards it; a `forwarded` or,
    /// if that fails, a `returned_to_paper` receipt follows).
    pub status: String,
    /// When the portal accepted it (the first time), RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: OffsetDateTime,
}

/// One letter as its agency sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LetterStatusResponse {
    /// The portal's id for the letter.
    #[schema(value_type = String)]
    pub letter_id: Uuid,
    /// Your message id.
    pub message_id: String,
    /// `delivered`, `returned_to_paper` or `forwarding`, as the delivery answered.
    pub status: String,
    /// When the portal accepted it, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub accepted_at: OffsetDateTime,
    /// Not shown to the citizen (nor notified) before this, RFC 3339.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub effective_at: OffsetDateTime,
    /// Whether it is a decision.
    pub is_decision: bool,
    /// The notification wishes it was delivered with.
    pub notification: NotificationStatus,
    /// Its receipts, oldest first (the same as in `/api/v1/receipts`).
    pub receipts: Vec<ReceiptResponse>,
}

/// The notification wishes stored on a letter.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationStatus {
    /// `email` and/or `sms`; empty: none.
    pub channels: Vec<String>,
    /// The repeat asked for, in days.
    pub repeat_after_days: Option<u8>,
}

/// `?after=&limit=` for receipts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReceiptQuery {
    /// The `next_cursor` of the previous page; absent: from the beginning.
    pub after: Option<String>,
    /// How many at most (1 to 1,000; default 100).
    pub limit: Option<u32>,
}

/// A page of receipts, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptPageResponse {
    /// The receipts after the cursor.
    pub receipts: Vec<ReceiptResponse>,
    /// Pass as `after` next time. When the page is empty it is the cursor you sent (null if
    /// you sent none and there are no receipts yet).
    pub next_cursor: Option<String>,
}

/// One receipt.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptResponse {
    /// Your message id.
    pub message_id: String,
    /// The letter, unless it was rejected.
    #[schema(value_type = Option<String>)]
    pub letter_id: Option<Uuid>,
    /// `delivered`, `opened`, `notification_failed`, `returned_to_paper`, `rejected` or
    /// `forwarded` (an external mailbox provider accepted the letter).
    pub kind: String,
    /// For `rejected`: the problem code (`post.title_missing`, …).
    pub reason: Option<String>,
    /// When (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

/// `?limit=` for the print queue.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PrintQuery {
    /// How many at most (1 to 1,000; default 100).
    pub limit: Option<u32>,
}

/// The letters waiting for print, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintQueueResponse {
    /// Each letter until it is acknowledged.
    pub letters: Vec<PrintLetter>,
}

/// A letter to print.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintLetter {
    /// The letter's id (for its attachments and the acknowledgement).
    #[schema(value_type = String)]
    pub letter_id: Uuid,
    /// The recipient's national id: the print provider finds the postal address by it.
    pub recipient: String,
    /// The sending agency's id.
    pub agency: String,
    /// The sender's name.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The sanitized body as HTML.
    pub body_html: String,
    /// The attachments, by position.
    pub attachments: Vec<PrintAttachment>,
    /// When it was queued (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub queued_at: OffsetDateTime,
}

/// An attachment of a letter to print.
#[derive(Debug, Serialize, ToSchema)]
pub struct PrintAttachment {
    /// Its position (from 0): fetch it at `.../attachments/{position}`.
    pub position: u32,
    /// The file name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
}
