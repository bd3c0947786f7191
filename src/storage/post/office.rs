//! the post office on both databases: what agencies, the print provider and the housekeeping
//! jobs do with letters (delivery, receipts, status, print queue, reminders, trash).

use time::OffsetDateTime;

use super::super::sql::Conn;
use super::super::sql::{Dialect, Val};
use super::super::{stored_instant, Database, StoreError};
use super::{attachment_info_from_row, plan_corrupt, receipt_from_row, ReminderRun};
use crate::access::{AgencyAccess, DeliverPost, Loa, PrintPost};
use crate::agency::AgencyId;
use crate::identity::NationalId;
use crate::outbox::Template;
use crate::person::PersonId;
use crate::post::plan::{letter_notifications, LetterNotice};
use crate::post::{
    Attachment, DeliveryReceipt, DeliveryStatus, LetterId, LetterStatus, MessageId, NewLetter,
    NotificationWish, PostError, PrintJob, ReceiptCursor, ReceiptKind, ReceiptPage,
    MAX_RECEIPT_PAGE_SIZE, TRASH_RETENTION,
};

/// The letters whose reminder is due; PostgreSQL locks those it takes and skips those another
/// instance is taking (SQLite's transaction holds the write lock).
const DUE_REMINDERS: Dialect = Dialect {
    sqlite: "SELECT id, recipient_id, agency_id, agency_message_id, sender_name, title, \
             required_loa, notify_channels, repeat_after_days, opened_at, trashed_at \
             FROM letters WHERE remind_at IS NOT NULL AND reminded_at IS NULL \
             AND remind_at <= $1 ORDER BY remind_at LIMIT $2",
    postgres: "SELECT id, recipient_id, agency_id, agency_message_id, sender_name, title, \
               required_loa, notify_channels, repeat_after_days, opened_at, trashed_at \
               FROM letters WHERE remind_at IS NOT NULL AND reminded_at IS NULL \
               AND remind_at <= $1 ORDER BY remind_at LIMIT $2 FOR UPDATE SKIP LOCKED",
};

/// The agencies' side of digital post, and its housekeeping.
impl Database {
    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), agency = %access.agency())
    )]
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
    /// queue (see the forwarding queue), status [`DeliveryStatus::Forwarding`] and no receipt
    /// until the provider has it; anyone else (reserved, not registered, deleted, unknown
    /// national id) gets it on paper: the print queue and a `returned_to_paper` receipt.
    pub async fn deliver_letter(
        &self,
        access: &AgencyAccess<DeliverPost>,
        letter: NewLetter,
        now: OffsetDateTime,
    ) -> Result<DeliveryReceipt, PostError> {
        let message_id = letter.parsed_message_id();
        match letter.validate(now) {
            Ok(valid) => self.deliver_valid(access.agency(), valid, now, false).await,
            Err(error) => {
                tracing::info!(code = error.code(), "delivery refused");
                if let Some(message_id) = message_id {
                    self.record_rejection(
                        access.agency(),
                        &message_id,
                        error.code(),
                        stored_instant(now),
                    )
                    .await?;
                }
                Err(error)
            }
        }
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), agency = %access.agency())
    )]
    /// The proof's agency's receipts after `after` (oldest first, at most `limit`, clamped to
    /// 1..=[`MAX_RECEIPT_PAGE_SIZE`]). Poll with the returned cursor: no receipt is skipped,
    /// also on PostgreSQL with many writers (see `migrations/postgres/0005_post.sql`).
    pub async fn list_receipts(
        &self,
        access: &AgencyAccess<DeliverPost>,
        after: Option<ReceiptCursor>,
        limit: u32,
    ) -> Result<ReceiptPage, PostError> {
        let limit = i64::from(limit.clamp(1, MAX_RECEIPT_PAGE_SIZE));
        let cursor = after.unwrap_or(ReceiptCursor { txid: 0, seq: 0 });
        let mut conn = Conn::acquire(&self.pool).await?;
        let mut ex = conn.ex();
        let rows = if ex.is_sqlite() {
            ex.fetch_all(
                "SELECT seq, 0 AS txid, agency_message_id, letter_id, kind, reason, at \
                 FROM post_receipts WHERE agency_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
                &[
                    Val::Text(access.agency().as_str()),
                    Val::Int(cursor.seq),
                    Val::Int(limit),
                ],
            )
            .await?
        } else {
            ex.fetch_all(
                "SELECT seq, txid::text::bigint AS txid, agency_message_id, letter_id, kind, \
                 reason, at FROM post_receipts \
                 WHERE agency_id = $1 AND (txid, seq) > ($2::text::xid8, $3) \
                 AND txid < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY txid, seq LIMIT $4",
                &[
                    Val::Text(access.agency().as_str()),
                    Val::Text(&cursor.txid.to_string()),
                    Val::Int(cursor.seq),
                    Val::Int(limit),
                ],
            )
            .await?
        };
        let mut receipts = Vec::with_capacity(rows.len());
        let mut last = after;
        for row in rows {
            let what = "post_receipts";
            receipts.push(receipt_from_row(&row)?);
            last = Some(ReceiptCursor {
                txid: row.int("txid", what)?,
                seq: row.int("seq", what)?,
            });
        }
        Ok(ReceiptPage {
            receipts,
            cursor: last,
        })
    }

    /// Letters waiting for print, oldest first, after the letter `after`.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn list_print_queue(
        &self,
        _access: &AgencyAccess<PrintPost>,
        limit: u32,
    ) -> Result<Vec<PrintJob>, PostError> {
        let limit = i64::from(limit.clamp(1, MAX_RECEIPT_PAGE_SIZE));
        let mut conn = Conn::acquire(&self.pool).await?;
        let mut ex = conn.ex();
        let rows = ex
            .fetch_all(
                "SELECT l.id, l.recipient_national_id, l.agency_id, l.sender_name, l.title, \
                 l.body_html, q.queued_at FROM print_queue q JOIN letters l ON l.id = q.letter_id \
                 WHERE q.acknowledged_at IS NULL ORDER BY q.queued_at, q.letter_id LIMIT $1",
                &[Val::Int(limit)],
            )
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let what = "print_queue";
            let letter = LetterId::from_uuid(row.uuid("id", what)?);
            let attachments = ex
                .fetch_all(
                    "SELECT position, filename, size FROM letter_attachments \
                     WHERE letter_id = $1 ORDER BY position",
                    &[Val::Uuid(letter.as_uuid())],
                )
                .await?
                .iter()
                .map(attachment_info_from_row)
                .collect::<Result<_, _>>()?;
            jobs.push(PrintJob {
                letter,
                recipient: NationalId::parse(row.str("recipient_national_id", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                agency: AgencyId::parse(row.str("agency_id", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                sender_name: row.text("sender_name", what)?,
                title: row.text("title", what)?,
                body_html: row.text("body_html", what)?,
                attachments,
                queued_at: row.time("queued_at", what)?,
            });
        }
        Ok(jobs)
    }

    /// One attachment of a letter in the print queue (acknowledged or not).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), letter.id = %letter))]
    pub async fn print_attachment(
        &self,
        _access: &AgencyAccess<PrintPost>,
        letter: LetterId,
        position: u32,
    ) -> Result<Attachment, PostError> {
        let mut conn = Conn::acquire(&self.pool).await?;
        let row = conn
            .ex()
            .fetch_optional(
                "SELECT a.position, a.filename, a.size, a.content FROM letter_attachments a \
                 JOIN print_queue q ON q.letter_id = a.letter_id \
                 WHERE a.letter_id = $1 AND a.position = $2",
                &[Val::Uuid(letter.as_uuid()), Val::Int(i64::from(position))],
            )
            .await?
            .ok_or(PostError::NotFound)?;
        Ok(Attachment {
            info: attachment_info_from_row(&row)?,
            content: row.bytes("content", "letter_attachments.content")?,
        })
    }

    /// The print provider has the letter: it leaves the queue. Idempotent (acknowledging
    /// again is fine); [`PostError::NotFound`] for a letter that was never queued.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), letter.id = %letter))]
    pub async fn acknowledge_print(
        &self,
        _access: &AgencyAccess<PrintPost>,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), PostError> {
        let mut tx = self.begin_tx().await?;
        let touched = tx
            .ex()
            .execute(
                "UPDATE print_queue SET acknowledged_at = COALESCE(acknowledged_at, $2) \
                 WHERE letter_id = $1",
                &[Val::Uuid(letter.as_uuid()), Val::Time(stored_instant(now))],
            )
            .await?;
        if touched == 0 {
            return Err(PostError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Deletes letters that have been in the trash for [`TRASH_RETENTION`] at `now`, with
    /// their attachments and search entries. For a periodic job; returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn purge_trash(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let before = stored_instant(now - TRASH_RETENTION);
        let mut tx = self.begin_tx().await?;
        let deleted = tx
            .ex()
            .execute(
                "DELETE FROM letters WHERE trashed_at IS NOT NULL AND trashed_at <= $1",
                &[Val::Time(before)],
            )
            .await?;
        tx.commit().await?;
        tracing::info!(deleted, "trash emptied of letters older than 30 days");
        Ok(deleted)
    }
    /// One letter of the proof's agency: where it went, its notification wishes and its
    /// receipts. Another agency's letter is [`PostError::NotFound`], like a missing one.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), letter.id = %letter))]
    pub async fn letter_status(
        &self,
        access: &AgencyAccess<DeliverPost>,
        letter: LetterId,
    ) -> Result<LetterStatus, PostError> {
        let what = "letters";
        let mut conn = Conn::acquire(&self.pool).await?;
        let mut ex = conn.ex();
        let args = [
            Val::Uuid(letter.as_uuid()),
            Val::Text(access.agency().as_str()),
        ];
        let row = ex
            .fetch_optional(
                "SELECT agency_message_id, outcome, delivered_at, effective_at, is_decision, \
                 notify_channels, repeat_after_days FROM letters \
                 WHERE id = $1 AND agency_id = $2",
                &args,
            )
            .await?
            .ok_or(PostError::NotFound)?;
        let receipts = ex
            .fetch_all(
                "SELECT agency_message_id, letter_id, kind, reason, at FROM post_receipts \
                 WHERE letter_id = $1 AND agency_id = $2 ORDER BY seq",
                &args,
            )
            .await?
            .iter()
            .map(receipt_from_row)
            .collect::<Result<_, _>>()?;
        Ok(LetterStatus {
            letter,
            message_id: MessageId::parse(row.str("agency_message_id", what)?)
                .map_err(|_| StoreError::Corrupt { what })?,
            status: DeliveryStatus::from_code(row.str("outcome", what)?)
                .ok_or(StoreError::Corrupt { what })?,
            accepted_at: row.time("delivered_at", what)?,
            effective_at: row.time("effective_at", what)?,
            is_decision: row.bool("is_decision", what)?,
            notification: NotificationWish::from_stored(
                row.str("notify_channels", what)?,
                row.opt_int("repeat_after_days", what)?,
            )
            .ok_or(StoreError::Corrupt { what })?,
            receipts,
        })
    }

    /// The reminder job (run periodically by the notification worker): takes up to `limit`
    /// letters whose one reminder is due at `now` (a decision 7 days after it was shown, or
    /// the agency's repeat; see [`NotificationWish::remind_at`]) and were not taken before.
    /// For each, in one transaction with marking it taken, so it happens once also with
    /// several workers: a letter still never opened and not in the trash gets an
    /// `unread_reminder` by the channels the agency wanted and the person has fresh; if there
    /// is none (reserved, deleted, contact information not confirmed within the staleness
    /// limit), the agency gets a `notification_failed` receipt instead. A letter opened (or
    /// trashed) by then is taken without a reminder.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn queue_unread_reminders(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<ReminderRun, StoreError> {
        let now = stored_instant(now);
        let what = "letters";
        let mut run = ReminderRun::default();
        // Most rounds find nothing: look first without taking SQLite's write lock.
        let mut conn = Conn::acquire(&self.pool).await?;
        let any_due = conn
            .ex()
            .fetch_optional(
                "SELECT id FROM letters WHERE remind_at IS NOT NULL AND reminded_at IS NULL \
                 AND remind_at <= $1 LIMIT 1",
                &[Val::Time(now)],
            )
            .await?
            .is_some();
        drop(conn);
        if !any_due {
            return Ok(run);
        }
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        // The same condition as the partial index `letters_reminders_due`. PostgreSQL: rows
        // another worker is taking are skipped; SQLite's write lock serialises the workers.
        let sql = ex.dialect(&DUE_REMINDERS);
        let due = ex
            .fetch_all(
                sql,
                &[Val::Time(now), Val::Int(i64::from(limit.clamp(1, 1000)))],
            )
            .await?;
        for row in due {
            let id = LetterId::from_uuid(row.uuid("id", what)?);
            // Taken once: a second worker that read the row anyway touches nothing.
            let taken = tx
                .ex()
                .execute(
                    "UPDATE letters SET reminded_at = $2 WHERE id = $1 AND reminded_at IS NULL",
                    &[Val::Uuid(id.as_uuid()), Val::Time(now)],
                )
                .await?;
            if taken == 0 {
                continue;
            }
            let still_unread = row.opt_time("opened_at", what)?.is_none()
                && row.opt_time("trashed_at", what)?.is_none();
            let person = row.opt_uuid("recipient_id", what)?.map(PersonId::from_uuid);
            let (true, Some(person)) = (still_unread, person) else {
                run.skipped += 1;
                continue;
            };
            let agency = AgencyId::parse(row.str("agency_id", what)?)
                .map_err(|_| StoreError::Corrupt { what })?;
            let wish = NotificationWish::from_stored(
                row.str("notify_channels", what)?,
                row.opt_int("repeat_after_days", what)?,
            )
            .ok_or(StoreError::Corrupt { what })?;
            let sender_name = row.text("sender_name", what)?;
            let title = row.text("title", what)?;
            let high = row.text("required_loa", what)? == Loa::High.as_str();
            let notice = LetterNotice {
                id,
                sender_name: &sender_name,
                title: (!high).then_some(title.as_str()),
                wish,
                not_before: now,
            };
            let messages = match Self::contact_of(&mut tx, person).await? {
                Some(info) => letter_notifications(
                    &info,
                    &notice,
                    Template::UnreadReminder,
                    now,
                    self.contact_staleness,
                )
                .map_err(plan_corrupt)?,
                None => Vec::new(),
            };
            if messages.is_empty() {
                Self::insert_receipt(
                    &mut tx.ex(),
                    &agency,
                    row.str("agency_message_id", what)?,
                    Some(id),
                    ReceiptKind::NotificationFailed,
                    None,
                    now,
                )
                .await?;
                run.unreachable += 1;
                continue;
            }
            for message in &messages {
                Self::enqueue_for_letter(&mut tx, message, id, now).await?;
            }
            run.reminded += 1;
        }
        tx.commit().await?;
        if run != ReminderRun::default() {
            tracing::info!(
                reminded = run.reminded,
                unreachable = run.unreachable,
                skipped = run.skipped,
                "unread reminders queued"
            );
        }
        Ok(run)
    }
}
