//! Digital post on both backends: delivery, receipts and the print queue
//! ([`PostOffice`]), and the citizen's mailbox ([`PostBox`]).
//!
//! Every change runs in one transaction (`BEGIN IMMEDIATE` on SQLite): a delivery writes the
//! letter, its attachments, its search entry, its receipt, its audit event and its
//! notifications together, or nothing. Reads (pages, counts, search) use a pooled connection
//! and no write lock. The rules are written once here; `sql.rs` binds and reads the values
//! in each backend's encoding.

mod batch;
mod delivery;
mod forward;
mod mailbox;
mod office;
mod write;
pub(super) mod writer;

use delivery::{log_delivered, plan_corrupt, Delivery};

pub use forward::MailboxForwarding;

use async_trait::async_trait;
use time::OffsetDateTime;
use uuid::Uuid;

use super::sql::Conn;
use super::sql::{Columns, Row};
use super::{Database, StoreError};
use crate::access::{
    Access, Actor, AgencyAccess, Capability, DeliverPost, Loa, ManagePost, PrintPost, ReadPost,
    ReadSensitivePost,
};
use crate::agency::AgencyId;
use crate::audit::{AuditEvent, AuditKind};
use crate::post::{
    Attachment, AttachmentInfo, DeliveryReceipt, Folder, FolderId, FolderRef, LetterCursor,
    LetterId, LetterPage, LetterStatus, LetterSummary, LetterView, MailboxView, NewLetter,
    PostError, PrintJob, Receipt, ReceiptCursor, ReceiptKind, ReceiptPage, MAX_LETTER_PAGE_SIZE,
};

/// The agencies' side of digital post, and its housekeeping.
#[async_trait]
pub trait PostOffice: Send + Sync {
    /// Delivers a letter from the proof's agency, durably (committed) before it returns.
    ///
    /// Checks every rule first ([`NewLetter::validate`]); a refused letter stores nothing but a
    /// `rejected` receipt naming the error code (when its message id is readable). Then, in
    /// one transaction: a message id this agency used before answers the first delivery's
    /// receipt with `replayed` and stores nothing (also when two deliveries race); a recipient
    /// who is active and not reserved in the contact register gets the letter in the inbox, a
    /// `delivered` receipt, an audit event, and — if they can be notified — a `new_letter`
    /// e-mail and/or SMS, not before the effective time and without the title when the letter
    /// needs `high`; one who chose an external mailbox provider gets it there: the forwarding
    /// queue (see [`MailboxForwarding`]), status [`DeliveryStatus::Forwarding`](crate::post::DeliveryStatus::Forwarding) and no receipt
    /// until the provider has it; anyone else (reserved, not registered, deleted, unknown
    /// national id) gets it on paper: the print queue and a `returned_to_paper` receipt.
    async fn deliver_letter(
        &self,
        access: &AgencyAccess<DeliverPost>,
        letter: NewLetter,
        now: OffsetDateTime,
    ) -> Result<DeliveryReceipt, PostError>;

    /// The proof's agency's receipts after `after` (oldest first, at most `limit`, clamped to
    /// 1..=[`MAX_RECEIPT_PAGE_SIZE`](crate::post::MAX_RECEIPT_PAGE_SIZE)). Poll with the returned cursor: no receipt is skipped,
    /// also on PostgreSQL with many writers (see `migrations/postgres/0005_post.sql`).
    async fn list_receipts(
        &self,
        access: &AgencyAccess<DeliverPost>,
        after: Option<ReceiptCursor>,
        limit: u32,
    ) -> Result<ReceiptPage, PostError>;

    /// Letters waiting for print, oldest first, after the letter `after`.
    async fn list_print_queue(
        &self,
        access: &AgencyAccess<PrintPost>,
        limit: u32,
    ) -> Result<Vec<PrintJob>, PostError>;

    /// One attachment of a letter in the print queue (acknowledged or not).
    async fn print_attachment(
        &self,
        access: &AgencyAccess<PrintPost>,
        letter: LetterId,
        position: u32,
    ) -> Result<Attachment, PostError>;

    /// The print provider has the letter: it leaves the queue. Idempotent (acknowledging
    /// again is fine); [`PostError::NotFound`] for a letter that was never queued.
    async fn acknowledge_print(
        &self,
        access: &AgencyAccess<PrintPost>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Deletes letters that have been in the trash for [`TRASH_RETENTION`](crate::post::TRASH_RETENTION) at `now`, with
    /// their attachments and search entries. For a periodic job; returns how many.
    async fn purge_trash(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// One letter of the proof's agency: where it went, its notification wishes and its
    /// receipts. Another agency's letter is [`PostError::NotFound`], like a missing one.
    async fn letter_status(
        &self,
        access: &AgencyAccess<DeliverPost>,
        letter: LetterId,
    ) -> Result<LetterStatus, PostError>;

    /// The reminder job (run periodically by the notification worker): takes up to `limit`
    /// letters whose one reminder is due at `now` (a decision 7 days after it was shown, or
    /// the agency's repeat; see [`NotificationWish::remind_at`](crate::post::NotificationWish::remind_at)) and were not taken before.
    /// For each, in one transaction with marking it taken, so it happens once also with
    /// several workers: a letter still never opened and not in the trash gets an
    /// `unread_reminder` by the channels the agency wanted and the person has fresh; if there
    /// is none (reserved, deleted, contact information not confirmed within the staleness
    /// limit), the agency gets a `notification_failed` receipt instead. A letter opened (or
    /// trashed) by then is taken without a reminder.
    async fn queue_unread_reminders(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<ReminderRun, StoreError>;
}

/// What one run of [`PostOffice::queue_unread_reminders`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderRun {
    /// Letters that got a reminder queued.
    pub reminded: u32,
    /// Letters whose recipient could not be notified: a `notification_failed` receipt.
    pub unreachable: u32,
    /// Letters opened or trashed by then: nothing sent.
    pub skipped: u32,
}

/// The citizen's mailbox. Reads take an [`Access<ReadPost>`] and, to see the content of
/// letters that need `high`, an [`Access<ReadSensitivePost>`] for the same person; changes
/// take an [`Access<ManagePost>`] and write their audit event (`post.moved`,
/// `post.marked_unread`, `post.trashed`, `post.restored`, `post.folder_created`,
/// `post.folder_renamed`, `post.folder_deleted`) in the change's transaction. Every query is scoped to the proof's subject: another
/// person's letter is [`PostError::NotFound`], exactly like a letter that does not exist.
/// Letters before their effective time do not exist for the mailbox.
#[async_trait]
pub trait PostBox: Send + Sync {
    /// A page of a folder or the trash, newest first, after `after`.
    async fn list_letters(
        &self,
        read: &Access<ReadPost>,
        sensitive: Option<&Access<ReadSensitivePost>>,
        view: MailboxView,
        after: Option<LetterCursor>,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<LetterPage, PostError>;

    /// Unread letters outside the trash (for the header), counted up to
    /// [`UNREAD_COUNT_LIMIT`](crate::post::UNREAD_COUNT_LIMIT): that many means "that many or more".
    async fn unread_count(
        &self,
        read: &Access<ReadPost>,
        now: OffsetDateTime,
    ) -> Result<u64, PostError>;

    /// The person's own folders, by name.
    async fn list_folders(&self, read: &Access<ReadPost>) -> Result<Vec<Folder>, PostError>;

    /// Opens a letter: the whole letter, recorded as read; the first opening also records
    /// the opening receipt (if asked for) and an audit event `post.opened`. A letter that
    /// needs `high` without a `sensitive` proof gives [`LetterView::NeedsStepUp`] and records
    /// nothing.
    async fn open_letter(
        &self,
        read: &Access<ReadPost>,
        sensitive: Option<&Access<ReadSensitivePost>>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<LetterView, PostError>;

    /// One attachment of one's own letter ([`PostError::NeedsStepUp`] as for opening).
    async fn read_attachment(
        &self,
        read: &Access<ReadPost>,
        sensitive: Option<&Access<ReadSensitivePost>>,
        letter: LetterId,
        position: u32,
        now: OffsetDateTime,
    ) -> Result<Attachment, PostError>;

    /// Searches sender, title and body of the letters outside the trash, newest first.
    /// Without a `sensitive` proof, letters that need `high` are left out (their words would
    /// tell what they say).
    async fn search_letters(
        &self,
        read: &Access<ReadPost>,
        sensitive: Option<&Access<ReadSensitivePost>>,
        query: &str,
        after: Option<LetterCursor>,
        limit: u32,
        now: OffsetDateTime,
    ) -> Result<LetterPage, PostError>;

    /// Makes an own folder.
    async fn create_folder(
        &self,
        manage: &Access<ManagePost>,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<Folder, PostError>;

    /// Renames an own folder.
    async fn rename_folder(
        &self,
        manage: &Access<ManagePost>,
        folder: FolderId,
        name: &str,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Deletes an own folder that holds no letters ([`PostError::FolderNotEmpty`] otherwise);
    /// letters from it waiting in the trash will be restored to the inbox.
    async fn delete_folder(
        &self,
        manage: &Access<ManagePost>,
        folder: FolderId,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Moves a letter (not in the trash) to a folder.
    async fn move_letter(
        &self,
        manage: &Access<ManagePost>,
        letter: LetterId,
        to: FolderRef,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Marks a letter unread again.
    async fn mark_unread(
        &self,
        manage: &Access<ManagePost>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Moves a letter to the trash (it is deleted for good [`TRASH_RETENTION`](crate::post::TRASH_RETENTION) later).
    async fn trash_letter(
        &self,
        manage: &Access<ManagePost>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;

    /// Takes a letter out of the trash, back to its folder.
    async fn restore_letter(
        &self,
        manage: &Access<ManagePost>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), PostError>;
}

// ---------------------------------------------------------------------------------------------
// Reading rows

const SUMMARY_COLUMNS: &str = "id, agency_id, sender_name, title, safe_title, required_loa, \
     unread, is_decision, shown_at, attachment_count, folder, trashed_at";
const SUMMARY_COLUMNS_L: &str = "l.id, l.agency_id, l.sender_name, l.title, l.safe_title, \
     l.required_loa, l.unread, l.is_decision, l.shown_at, l.attachment_count, l.folder, \
     l.trashed_at";

/// A letter's summary from a row that starts with [`SUMMARY_COLUMNS`], in their order.
fn summary_from_row(
    row: Columns<'_>,
    may_read_sensitive: bool,
) -> Result<LetterSummary, StoreError> {
    let required_loa = Loa::from_str_name(row.str(5, "required_loa", "letters.required_loa")?)
        .ok_or(StoreError::Corrupt {
            what: "letters.required_loa",
        })?;
    let locked = required_loa == Loa::High && !may_read_sensitive;
    let title = if locked {
        row.text(4, "safe_title", "letters.safe_title")?
    } else {
        row.text(3, "title", "letters.title")?
    };
    let folder = row
        .opt_str(10, "folder", "letters.folder")?
        .and_then(FolderRef::from_code)
        .ok_or(StoreError::Corrupt {
            what: "letters.folder",
        })?;
    Ok(LetterSummary {
        id: LetterId::from_uuid(row.uuid(0, "id", "letters.id")?),
        agency: AgencyId::parse(row.str(1, "agency_id", "letters.agency_id")?).map_err(|_| {
            StoreError::Corrupt {
                what: "letters.agency_id",
            }
        })?,
        sender_name: row.text(2, "sender_name", "letters.sender_name")?,
        title,
        locked,
        required_loa,
        unread: row.bool(6, "unread", "letters.unread")?,
        is_decision: row.bool(7, "is_decision", "letters.is_decision")?,
        shown_at: row.time(8, "shown_at", "letters.shown_at")?,
        attachment_count: u32::try_from(row.int(
            9,
            "attachment_count",
            "letters.attachment_count",
        )?)
        .map_err(|_| StoreError::Corrupt {
            what: "letters.attachment_count",
        })?,
        folder,
        trashed_at: row.opt_time(11, "trashed_at", "letters.trashed_at")?,
    })
}

fn receipt_from_row(row: &Row) -> Result<Receipt, StoreError> {
    let what = "post_receipts";
    Ok(Receipt {
        message_id: row.text("agency_message_id", what)?,
        letter: row.opt_uuid("letter_id", what)?.map(LetterId::from_uuid),
        kind: ReceiptKind::from_code(row.str("kind", what)?).ok_or(StoreError::Corrupt { what })?,
        reason: row.opt_text("reason", what)?,
        at: row.time("at", what)?,
    })
}

fn attachment_info_from_row(row: &Row) -> Result<AttachmentInfo, StoreError> {
    let what = "letter_attachments";
    Ok(AttachmentInfo {
        position: u32::try_from(row.int("position", what)?)
            .map_err(|_| StoreError::Corrupt { what })?,
        filename: row.text("filename", what)?,
        size: u64::try_from(row.int("size", what)?).map_err(|_| StoreError::Corrupt { what })?,
    })
}

/// Whether the sensitive proof is for the same person as the read proof.
fn sensitive_for(read: &Access<ReadPost>, sensitive: Option<&Access<ReadSensitivePost>>) -> bool {
    sensitive.is_some_and(|proof| proof.subject() == read.subject())
}

fn clamp_letters(limit: u32) -> u32 {
    limit.clamp(1, MAX_LETTER_PAGE_SIZE)
}

fn page(mut letters: Vec<LetterSummary>, limit: u32) -> LetterPage {
    let has_more = letters.len() > limit as usize;
    letters.truncate(limit as usize);
    let next = if has_more {
        letters.last().map(LetterCursor::after)
    } else {
        None
    };
    LetterPage { letters, next }
}

/// The audit event for something a citizen did through `access`.
fn citizen_event<C: Capability>(
    access: &Access<C>,
    kind: AuditKind,
    now: OffsetDateTime,
) -> AuditEvent {
    let (actor, loa) = match access.actor() {
        Actor::Citizen { person, loa } => (Some(*person), Some(*loa)),
        Actor::Agency { .. } => (None, None),
    };
    AuditEvent {
        id: Uuid::now_v7(),
        subject: access.subject(),
        actor,
        agency: None,
        kind,
        loa,
        provider: None,
        at: now,
    }
}
