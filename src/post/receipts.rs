//! What agencies learn of their letters: where each went, receipts and their cursor, the
//! print queue's and the forwarding queue's jobs.

use super::*;

/// Where a delivered letter went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Into the citizen's mailbox in the portal.
    Delivered,
    /// To the print queue: the recipient is reserved, not registered, or unknown.
    ReturnedToPaper,
    /// To the external mailbox provider the recipient chose: queued for forwarding; a
    /// `forwarded` receipt follows when the provider accepts it, or `returned_to_paper` when
    /// it cannot (unknown provider, permanent refusal, too many failures).
    Forwarding,
}

impl DeliveryStatus {
    /// `delivered` or `returned_to_paper`, as stored.
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::ReturnedToPaper => "returned_to_paper",
            DeliveryStatus::Forwarding => "forwarding",
        }
    }

    /// The status for a stored code.
    pub fn from_code(code: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Delivered,
            DeliveryStatus::ReturnedToPaper,
            DeliveryStatus::Forwarding,
        ]
        .into_iter()
        .find(|status| status.code() == code)
    }
}

/// The answer to a delivery (the same for a retry as for the first call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The portal's id for the letter.
    pub letter: LetterId,
    /// The agency's message id.
    pub message_id: MessageId,
    /// Mailbox or paper.
    pub status: DeliveryStatus,
    /// When the portal accepted it (the first time).
    pub delivered_at: OffsetDateTime,
    /// `true` when this call was a retry of an earlier delivery and stored nothing.
    pub replayed: bool,
}

/// What a receipt tells the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// In the citizen's mailbox.
    Delivered,
    /// The citizen opened it (only for letters that asked for an opening receipt).
    Opened,
    /// The "new letter" e-mail or SMS could not be sent.
    NotificationFailed,
    /// Sent to print instead.
    ReturnedToPaper,
    /// Refused at delivery; `reason` says why.
    Rejected,
    /// The recipient's external mailbox provider accepted the letter.
    Forwarded,
}

impl ReceiptKind {
    /// Every kind.
    pub const ALL: [ReceiptKind; 6] = [
        ReceiptKind::Delivered,
        ReceiptKind::Opened,
        ReceiptKind::NotificationFailed,
        ReceiptKind::ReturnedToPaper,
        ReceiptKind::Rejected,
        ReceiptKind::Forwarded,
    ];

    /// Stable code, as stored and as the API names it.
    pub fn code(self) -> &'static str {
        match self {
            ReceiptKind::Delivered => "delivered",
            ReceiptKind::Opened => "opened",
            ReceiptKind::NotificationFailed => "notification_failed",
            ReceiptKind::ReturnedToPaper => "returned_to_paper",
            ReceiptKind::Rejected => "rejected",
            ReceiptKind::Forwarded => "forwarded",
        }
    }

    /// The kind for a stored code.
    pub fn from_code(code: &str) -> Option<ReceiptKind> {
        ReceiptKind::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// One receipt for an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The agency's message id.
    pub message_id: String,
    /// The letter, unless it was rejected.
    pub letter: Option<LetterId>,
    /// What happened.
    pub kind: ReceiptKind,
    /// For a rejection: the error code.
    pub reason: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// One letter as the agency that delivered it sees it: where it went and its receipts.
/// Nothing the receipts do not already tell (an unasked-for opening stays hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterStatus {
    /// The letter.
    pub letter: LetterId,
    /// The agency's message id.
    pub message_id: MessageId,
    /// Mailbox or paper.
    pub status: DeliveryStatus,
    /// When the portal accepted it.
    pub accepted_at: OffsetDateTime,
    /// Not shown (nor notified) before this.
    pub effective_at: OffsetDateTime,
    /// Whether it is a decision.
    pub is_decision: bool,
    /// The notification wishes it was delivered with.
    pub notification: NotificationWish,
    /// Its receipts, oldest first.
    pub receipts: Vec<Receipt>,
}

/// Where an agency's receipt polling stopped; opaque text for the API (`?after=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptCursor {
    /// PostgreSQL: the writing transaction's id; SQLite: 0.
    pub(crate) txid: i64,
    pub(crate) seq: i64,
}

impl ReceiptCursor {
    /// The cursor as URL-safe text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.txid, self.seq))
    }

    /// A cursor from [`encode`](ReceiptCursor::encode).
    pub fn decode(text: &str) -> Result<ReceiptCursor, PostError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PostError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| PostError::InvalidCursor)?;
        let (txid, seq) = text.split_once('.').ok_or(PostError::InvalidCursor)?;
        Ok(ReceiptCursor {
            txid: txid.parse().map_err(|_| PostError::InvalidCursor)?,
            seq: seq.parse().map_err(|_| PostError::InvalidCursor)?,
        })
    }
}

/// A page of receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPage {
    /// Oldest first.
    pub receipts: Vec<Receipt>,
    /// Pass as `after` next time (also when this page is empty: it is where polling stands).
    pub cursor: Option<ReceiptCursor>,
}

/// A letter waiting to be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PrintJob {
    /// The letter.
    pub letter: LetterId,
    /// Who it is for: the print provider finds the postal address by it.
    pub recipient: NationalId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The sender's name.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The sanitized body.
    pub body_html: String,
    /// The attachments (fetch each with [`Database::print_attachment`](crate::Database::print_attachment)).
    pub attachments: Vec<AttachmentInfo>,
    /// When it was queued.
    pub queued_at: OffsetDateTime,
}

impl fmt::Debug for PrintJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrintJob")
            .field("letter", &self.letter)
            .field("recipient", &self.recipient)
            .field("agency", &self.agency)
            .finish_non_exhaustive()
    }
}

/// A letter to forward to an external mailbox provider, as the forwarding worker claimed it.
#[derive(Clone, PartialEq, Eq)]
pub struct ForwardJob {
    /// The letter (also the idempotency key the provider sees).
    pub letter: LetterId,
    /// The provider's id, as the citizen chose it.
    pub provider: String,
    /// Who it is for: the provider finds the mailbox by it.
    pub recipient: NationalId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The agency's message id.
    pub message_id: String,
    /// The sender's name.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The non-sensitive title.
    pub safe_title: String,
    /// The level of assurance the content needs.
    pub required_loa: Loa,
    /// The sanitized body.
    pub body_html: String,
    /// Whether it is a decision.
    pub is_decision: bool,
    /// The attachments, with their content.
    pub attachments: Vec<Attachment>,
    /// When the portal accepted it.
    pub delivered_at: OffsetDateTime,
    /// This is try number (from 1).
    pub attempt: u32,
}

impl fmt::Debug for ForwardJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardJob")
            .field("letter", &self.letter)
            .field("provider", &self.provider)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// What became of a failed forwarding attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardOutcome {
    /// Tried again at this time.
    RetryAt(OffsetDateTime),
    /// Given up: the letter is in the print queue, the agency has `returned_to_paper`.
    ReturnedToPaper,
    /// This worker no longer held the letter (its lease ran out): nothing recorded.
    NotClaimed,
}
