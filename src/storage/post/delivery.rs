//! Delivery: one letter in its own transaction (PostgreSQL, and SQLite without its group
//! writer): the plan (`crate::post::plan`), then its rows; and the messages about letters.

use time::{Duration, OffsetDateTime};

use super::super::contact::{rows as contact_rows, ContactParts};
use super::super::sql::Tx;
use super::super::sql::{Ex, Val};
use super::super::{stored_instant, Database, StoreError};
use super::write::{self, Planned};
use crate::agency::AgencyId;
use crate::contact::ContactInfo;
use crate::identity::NationalId;
use crate::outbox::{NewNotification, NotificationId};
use crate::person::PersonId;
use crate::post::plan::{plan_delivery, Decision, DeliveryPlan};
use crate::post::{
    DeliveryReceipt, DeliveryStatus, LetterId, MessageId, PostError, ReceiptKind, ValidLetter,
};

// ---------------------------------------------------------------------------------------------
// Delivery

impl Database {
    /// The contact entry of the person with this national id, if the portal knows them.
    pub(super) async fn recipient(
        tx: &mut Tx,
        national_id: &NationalId,
    ) -> Result<Option<ContactInfo>, StoreError> {
        let ids = [national_id.expose()];
        let found = contact_rows::find_by_national_ids(&mut tx.ex(), &ids).await?;
        found
            .into_iter()
            .next()
            .map(ContactParts::into_contact_info)
            .transpose()
    }

    /// The receipt of the letter this agency delivered with this message id, if any.
    pub(super) async fn existing_delivery(
        ex: &mut Ex<'_>,
        agency: &AgencyId,
        message_id: &MessageId,
    ) -> Result<Option<DeliveryReceipt>, StoreError> {
        let row = ex
            .fetch_optional(
                "SELECT id, outcome, delivered_at FROM letters \
                 WHERE agency_id = $1 AND agency_message_id = $2",
                &[Val::Text(agency.as_str()), Val::Text(message_id.as_str())],
            )
            .await?;
        row.map(|row| {
            Ok(DeliveryReceipt {
                letter: LetterId::from_uuid(row.uuid("id", "letters.id")?),
                message_id: message_id.clone(),
                status: DeliveryStatus::from_code(row.str("outcome", "letters.outcome")?).ok_or(
                    StoreError::Corrupt {
                        what: "letters.outcome",
                    },
                )?,
                delivered_at: row.time("delivered_at", "letters.delivered_at")?,
                replayed: true,
            })
        })
        .transpose()
    }

    pub(super) async fn insert_receipt(
        ex: &mut Ex<'_>,
        agency: &AgencyId,
        message_id: &str,
        letter: Option<LetterId>,
        kind: ReceiptKind,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        ex.execute(
            "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, reason, at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Val::Text(agency.as_str()),
                Val::Text(message_id),
                Val::OptUuid(letter.map(|id| id.as_uuid())),
                Val::Text(kind.code()),
                Val::OptText(reason),
                Val::Time(now),
            ],
        )
        .await
        .map(drop)
    }

    /// A refused delivery: a `rejected` receipt, alone in its transaction.
    pub(super) async fn record_rejection(
        &self,
        agency: &AgencyId,
        message_id: &MessageId,
        reason: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_tx().await?;
        Self::insert_receipt(
            &mut tx.ex(),
            agency,
            message_id.as_str(),
            None,
            ReceiptKind::Rejected,
            Some(reason),
            now,
        )
        .await?;
        tx.commit().await
    }

    /// Delivery after the checks; `force_mailbox` only for demo data (whose persons have no
    /// contact entry). SQLite: through the group writer (`writer.rs`); PostgreSQL: its own
    /// transaction (the server groups concurrent commits' WAL flushes itself).
    pub(crate) async fn deliver_valid(
        &self,
        agency: &AgencyId,
        letter: ValidLetter,
        now: OffsetDateTime,
        force_mailbox: bool,
    ) -> Result<DeliveryReceipt, PostError> {
        if let Some(writer) = &self.writer {
            return writer
                .deliver(agency, letter, now, force_mailbox, self.contact_staleness)
                .await;
        }
        let mut tx = self.begin_tx().await?;
        let staleness = self.contact_staleness;
        match Self::deliver_in(&mut tx, agency, letter, now, force_mailbox, staleness).await? {
            Delivery::Replayed(first) => Ok(first),
            Delivery::New(receipt, attachments) => {
                tx.commit().await?;
                log_delivered(&receipt, attachments);
                Ok(receipt)
            }
            Delivery::Raced(message_id) => {
                // A delivery with the same message id committed while this one ran
                // (PostgreSQL waited for it, then did nothing): answer its receipt.
                drop(tx);
                let mut tx = self.begin_tx().await?;
                let first = Self::existing_delivery(&mut tx.ex(), agency, &message_id)
                    .await?
                    .ok_or(StoreError::Corrupt {
                        what: "letters.agency_message_id",
                    })?;
                tracing::info!("concurrent retry of a delivery: first receipt returned");
                Ok(first)
            }
        }
    }

    /// One delivery in `tx`, which the caller commits (for [`Delivery::New`]): the look-ups,
    /// [`plan_delivery`], then [`Database::write_delivery`].
    pub(in crate::storage) async fn deliver_in(
        tx: &mut Tx,
        agency: &AgencyId,
        letter: ValidLetter,
        now: OffsetDateTime,
        force_mailbox: bool,
        staleness: Duration,
    ) -> Result<Delivery, PostError> {
        let existing = Self::existing_delivery(&mut tx.ex(), agency, &letter.message_id).await?;
        let recipient = match existing {
            Some(_) => None,
            None => Self::recipient(tx, &letter.recipient).await?,
        };
        let decision = plan_delivery(
            agency,
            &letter,
            existing,
            recipient.as_ref(),
            now,
            force_mailbox,
            staleness,
        )
        .map_err(plan_corrupt)?;
        match decision {
            Decision::Replay(first) => {
                tracing::info!("delivery retried: first receipt returned");
                Ok(Delivery::Replayed(first))
            }
            Decision::New(plan) => Self::write_delivery(tx, agency, letter, *plan).await,
        }
    }

    /// Writes a planned delivery, one statement per row. [`Delivery::Raced`] when the letter's
    /// insert found its message id taken (nothing written).
    pub(super) async fn write_delivery(
        tx: &mut Tx,
        agency: &AgencyId,
        letter: ValidLetter,
        plan: DeliveryPlan,
    ) -> Result<Delivery, PostError> {
        let (id, now) = (plan.id, plan.delivered_at);
        let one = [Planned {
            agency,
            letter: &letter,
            plan,
        }];
        let mut ex = tx.ex();
        if write::insert_letters(&mut ex, &one, true).await?.is_empty() {
            return Ok(Delivery::Raced(letter.message_id));
        }
        write::insert_attachments(&mut ex, &one).await?;
        write::insert_queues(&mut ex, &one).await?;
        write::insert_receipts(&mut ex, &one).await?;
        let [Planned { plan, .. }] = one;
        if let Some(event) = &plan.audit {
            tx.insert_audit_event(event).await?;
        }
        for notification in &plan.notifications {
            Self::enqueue_for_letter(tx, notification, id, now).await?;
        }
        let attachments = letter.attachments.len();
        Ok(Delivery::New(plan.receipt(letter.message_id), attachments))
    }
}

/// A message the plan could not build (a bug: its parts were checked at delivery).
pub(super) fn plan_corrupt(_: crate::outbox::NotificationError) -> StoreError {
    StoreError::Corrupt {
        what: "notification.params",
    }
}

/// The log line of a committed delivery: the letter, its outcome, how many attachments;
/// never the recipient, title or content.
pub(in crate::storage) fn log_delivered(receipt: &DeliveryReceipt, attachments: usize) {
    tracing::info!(
        letter.id = %receipt.letter,
        status = receipt.status.code(),
        attachments,
        "letter delivered"
    );
}

/// What [`Database::deliver_in`] did.
pub(in crate::storage) enum Delivery {
    /// A new letter, written but not committed; with its number of attachments.
    New(DeliveryReceipt, usize),
    /// The message id was delivered before: its first receipt (nothing written).
    Replayed(DeliveryReceipt),
    /// The insert found the message id taken by a delivery that committed meanwhile
    /// (PostgreSQL): nothing written; the caller reads the first receipt anew.
    Raced(MessageId),
}

impl Database {
    /// Queues a message about a letter and links the two, so that the outbox giving up on it
    /// becomes a `notification_failed` receipt.
    pub(super) async fn enqueue_for_letter(
        tx: &mut Tx,
        notification: &NewNotification,
        letter: LetterId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let queued = tx.enqueue(notification, now).await?;
        tx.ex()
            .execute(
                "INSERT INTO letter_notifications (notification_id, letter_id) \
                 VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[
                    Val::Uuid(queued.id().as_uuid()),
                    Val::Uuid(letter.as_uuid()),
                ],
            )
            .await
            .map(drop)
    }

    /// The person's contact entry (by person id), in the transaction.
    pub(super) async fn contact_of(
        tx: &mut Tx,
        person: PersonId,
    ) -> Result<Option<ContactInfo>, StoreError> {
        let found = contact_rows::find(&mut tx.ex(), person).await?;
        found.map(|parts| parts.into_contact_info()).transpose()
    }
}

impl Tx {
    /// The outbox gave up on `notification`: if it announced a letter, the agency gets a
    /// `notification_failed` receipt (in the outbox's transaction).
    pub(in crate::storage) async fn record_notification_failed(
        &mut self,
        notification: NotificationId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        self.ex()
            .execute(
                "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, at) \
                 SELECT l.agency_id, l.agency_message_id, l.id, 'notification_failed', $2 \
                 FROM letter_notifications n JOIN letters l ON l.id = n.letter_id \
                 WHERE n.notification_id = $1",
                &[
                    Val::Uuid(notification.as_uuid()),
                    Val::Time(stored_instant(now)),
                ],
            )
            .await
            .map(drop)
    }
}
