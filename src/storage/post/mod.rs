//! Digital post on both backends: delivery, receipts and the print queue
//! (the post office), and the citizen's mailbox (the mailbox).
//!
//! Every change runs in one transaction (`BEGIN IMMEDIATE` on SQLite): a delivery writes the
//! letter, its attachments, its search entry, its receipt, its audit event and its
//! notifications together, or nothing. Reads (pages, counts, search) use a pooled connection
//! and no write lock. The rules are written once here; `sql.rs` binds and reads the values
//! in each backend's encoding.

mod batch;
pub(super) mod delivery;
mod forward;
mod mailbox;
mod office;
mod opening;
mod write;
pub(super) mod writer;

use delivery::{log_delivered, plan_corrupt, Delivery};

use super::sql::Conn;
use super::sql::{Columns, Row};
use super::{Database, StoreError};
use crate::access::{Access, Loa, ReadPost, ReadSensitivePost};
use crate::agency::AgencyId;
use crate::post::{
    AttachmentInfo, FolderRef, LetterCursor, LetterId, LetterPage, LetterSummary, Receipt,
    ReceiptKind, MAX_LETTER_PAGE_SIZE,
};

/// What one run of [`Database::queue_unread_reminders`](crate::Database::queue_unread_reminders) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReminderRun {
    /// Letters that got a reminder queued.
    pub reminded: u32,
    /// Letters whose recipient could not be notified: a `notification_failed` receipt.
    pub unreachable: u32,
    /// Letters opened or trashed by then: nothing sent.
    pub skipped: u32,
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
