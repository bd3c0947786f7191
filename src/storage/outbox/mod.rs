//! The notification outbox on both backends.
//!
//! Claiming is safe with any number of workers on any number of instances: on PostgreSQL the
//! due rows are picked with `FOR UPDATE SKIP LOCKED` (a row another worker is claiming is
//! passed over, not waited for) and leased in the same statement; on SQLite the claim is one
//! `UPDATE … RETURNING` inside `BEGIN IMMEDIATE`, which holds the database's single write lock.
//! A lease that runs out (the worker died) makes the row claimable again: at-least-once.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

mod rows;

pub(super) use rows::insert_many;

use super::sql::Tx;
use super::{now_utc_micros, stored_instant, Database, StoreError};
use crate::contact::{EmailAddress, MobileNumber};
use crate::notify::{next_allowed_sms_time, NordicTimeZone};
use crate::outbox::{
    storable_error_code, Address, Channel, ClaimedNotification, EnqueueOutcome, FailedAttempt,
    NewNotification, NotificationId, NotificationRecord, NotificationStatus, RetryPolicy, Template,
    MAX_NOTIFICATION_PAGE_SIZE,
};
use crate::person::PersonId;

/// The most messages one [`Database::claim_due`](crate::Database::claim_due) call hands out.
pub const MAX_CLAIM_BATCH: u32 = 100;

// ---------------------------------------------------------------------------------------------
// Rows, as the backend modules read and write them

/// A message row to insert.
pub(super) struct NotificationRow<'a> {
    pub id: NotificationId,
    pub notification: &'a NewNotification,
    pub params: String,
    pub created_at: OffsetDateTime,
}

/// A claimed row as read back.
pub(super) struct ClaimedParts {
    pub id: Uuid,
    pub recipient: Uuid,
    pub channel: String,
    pub address: String,
    pub template: String,
    pub params: String,
    pub idempotency_key: String,
    pub attempts: i32,
    pub lease_until: OffsetDateTime,
    pub quiet_zone: Option<String>,
}

impl ClaimedParts {
    fn decode(self) -> Result<(ClaimedNotification, Option<NordicTimeZone>), StoreError> {
        let channel = Channel::from_code(&self.channel).ok_or(StoreError::Corrupt {
            what: "notification.channel",
        })?;
        let to = decode_address(channel, &self.address)?;
        let params = serde_json::from_str(&self.params).map_err(|_| StoreError::Corrupt {
            what: "notification.params",
        })?;
        let quiet_zone = decode_zone(self.quiet_zone)?;
        let claimed = ClaimedNotification {
            id: NotificationId::from_uuid(self.id),
            recipient: PersonId::from_uuid(self.recipient),
            to,
            template: decode_template(&self.template)?,
            params,
            idempotency_key: self.idempotency_key,
            attempt: decode_attempts(self.attempts)?.saturating_add(1),
            lease_until: self.lease_until,
        };
        Ok((claimed, quiet_zone))
    }
}

/// A status row as read back.
pub(super) struct RecordParts {
    pub id: Uuid,
    pub recipient: Uuid,
    pub channel: String,
    pub template: String,
    pub idempotency_key: String,
    pub status: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub not_before: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub sent_at: Option<OffsetDateTime>,
    pub failed_at: Option<OffsetDateTime>,
}

impl RecordParts {
    pub(super) fn decode(self) -> Result<NotificationRecord, StoreError> {
        Ok(NotificationRecord {
            id: NotificationId::from_uuid(self.id),
            recipient: PersonId::from_uuid(self.recipient),
            channel: Channel::from_code(&self.channel).ok_or(StoreError::Corrupt {
                what: "notification.channel",
            })?,
            template: decode_template(&self.template)?,
            idempotency_key: self.idempotency_key,
            status: NotificationStatus::from_code(&self.status).ok_or(StoreError::Corrupt {
                what: "notification.status",
            })?,
            attempts: decode_attempts(self.attempts)?,
            last_error: self.last_error,
            not_before: self.not_before,
            created_at: self.created_at,
            sent_at: self.sent_at,
            failed_at: self.failed_at,
        })
    }
}

/// A claimed row's retry state, read under lock by `mark_failed_attempt`.
pub(super) struct RetryParts {
    pub attempts: i32,
    pub quiet_zone: Option<String>,
}

fn decode_address(channel: Channel, address: &str) -> Result<Address, StoreError> {
    let corrupt = StoreError::Corrupt {
        what: "notification.address",
    };
    match channel {
        Channel::Email => EmailAddress::parse(address)
            .map(Address::Email)
            .map_err(|_| corrupt),
        Channel::Sms => MobileNumber::from_e164(address)
            .map(Address::Sms)
            .map_err(|_| corrupt),
    }
}

fn decode_template(code: &str) -> Result<Template, StoreError> {
    Template::from_code(code).ok_or(StoreError::Corrupt {
        what: "notification.template",
    })
}

fn decode_attempts(attempts: i32) -> Result<u32, StoreError> {
    u32::try_from(attempts).map_err(|_| StoreError::Corrupt {
        what: "notification.attempts",
    })
}

fn decode_zone(zone: Option<String>) -> Result<Option<NordicTimeZone>, StoreError> {
    zone.map(|zone| {
        NordicTimeZone::from_iana_name(&zone).ok_or(StoreError::Corrupt {
            what: "notification.quiet_zone",
        })
    })
    .transpose()
}

/// Stored attempts count from a policy's number (the column is a 32-bit integer).
fn encode_attempts(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

// ---------------------------------------------------------------------------------------------
// The transaction's primitives for the outbox

impl Tx {
    /// Queues `notification` in this transaction (with the change it is about).
    pub(super) async fn enqueue(
        &mut self,
        notification: &NewNotification,
        now: OffsetDateTime,
    ) -> Result<EnqueueOutcome, StoreError> {
        let row = NotificationRow {
            id: NotificationId::new(),
            notification,
            params: serde_json::to_string(notification.params()).map_err(|_| {
                StoreError::Corrupt {
                    what: "notification.params",
                }
            })?,
            created_at: stored_instant(now),
        };
        let inserted = rows::insert(&mut self.ex(), &row).await?;
        if let Some(id) = inserted {
            return Ok(EnqueueOutcome::Queued(id));
        }
        let key = notification.idempotency_key();
        let existing = rows::find_id_by_key(&mut self.ex(), key).await?;
        existing
            .map(EnqueueOutcome::AlreadyQueued)
            .ok_or(StoreError::Corrupt {
                what: "notification.idempotency_key",
            })
    }
}

/// The durable queue of e-mails and SMS.
///
/// Queuing is for the system (the contact register, letter delivery, signing reminders): it
/// takes no access proof, and the recipient is whoever the message is for. Reading statuses
/// is for support and, later, the agency API.
impl Database {
    #[tracing::instrument(
        skip_all,
        fields(
            backend = self.backend().name(),
            person.id = %notification.recipient(),
            template = notification.template().code(),
        )
    )]
    /// Queues a message. Idempotent on its key: queuing the same key again adds nothing and
    /// answers [`EnqueueOutcome::AlreadyQueued`] with the first one's id.
    pub async fn enqueue(
        &self,
        notification: NewNotification,
    ) -> Result<EnqueueOutcome, StoreError> {
        let mut tx = self.begin_tx().await?;
        let outcome = tx.enqueue(&notification, now_utc_micros()).await?;
        tx.commit().await?;
        tracing::debug!(notification.id = %outcome.id(), "notification queued");
        Ok(outcome)
    }

    /// Hands up to `limit` (clamped to 1..=[`MAX_CLAIM_BATCH`]) due messages to `worker` until
    /// `now + lease`: pending, `not_before <= now`, and not leased to anyone (or their lease ran
    /// out). No two workers get the same message while a lease holds. In the same transaction:
    /// messages past their `send_by` are failed (error `expired`), and an SMS that would go out
    /// within its quiet hours is handed back with `not_before` at the next 08:00.
    ///
    /// `worker` names the claimant (e.g. `host:pid:task`); pass the same name to `mark_*`.
    /// Choose `lease` longer than a send can take (the gateway's timeout and then some).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), worker = %worker))]
    pub async fn claim_due(
        &self,
        now: OffsetDateTime,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedNotification>, StoreError> {
        let now = stored_instant(now);
        let lease_until = stored_instant(now.saturating_add(lease));
        let limit = i64::from(limit.clamp(1, MAX_CLAIM_BATCH));
        let mut tx = self.begin_tx().await?;
        let expired = rows::expire_overdue(&mut tx.ex(), now).await?;
        let due = rows::claim(&mut tx.ex(), now, worker, limit, lease_until).await?;
        let mut claimed = Vec::with_capacity(due.len());
        let mut held_back = 0_u32;
        for row in due {
            let (notification, quiet_zone) = row.decode()?;
            let allowed_at = quiet_zone.map_or(now, |zone| next_allowed_sms_time(now, zone));
            if allowed_at > now {
                let id = notification.id;
                rows::release(&mut tx.ex(), id, worker, allowed_at).await?;
                held_back += 1;
            } else {
                claimed.push(notification);
            }
        }
        tx.commit().await?;
        claimed.sort_by_key(|notification| notification.id);
        if expired > 0 || held_back > 0 || !claimed.is_empty() {
            tracing::debug!(
                claimed = claimed.len(),
                expired,
                held_back,
                "notifications claimed"
            );
        }
        Ok(claimed)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), notification.id = %id, worker = %worker)
    )]
    /// Records that `worker` handed the message to the gateway: status `sent`, parameters
    /// replaced by `{}` (they may hold a one-time code). `false` when `worker` no longer holds
    /// it (the lease ran out and another worker took it, or it is finished); the other worker
    /// will then send it too, and the gateway drops the duplicate by its idempotency key.
    pub async fn mark_sent(
        &self,
        id: NotificationId,
        worker: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = stored_instant(now);
        let updated = rows::mark_sent(&mut self.conn().await?.ex(), id, worker, now).await?;
        if updated == 0 {
            tracing::info!("sent notification was no longer claimed by this worker");
        }
        Ok(updated > 0)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), notification.id = %id, worker = %worker)
    )]
    /// Records a failed send by `worker` with a short error code (`smtp.550`,
    /// `gateway.timeout`; anything that is not lower-case letters, digits, `.`, `_`, `-` and at
    /// most 64 long is stored as `unspecified`, so no gateway text reaches the table). Below
    /// `policy.max_attempts` the message is retried after the policy's backoff (and, for SMS,
    /// not within quiet hours); at it, the message is `failed` for good and its parameters are
    /// redacted.
    pub async fn mark_failed_attempt(
        &self,
        id: NotificationId,
        worker: &str,
        now: OffsetDateTime,
        error_code: &str,
        policy: &RetryPolicy,
    ) -> Result<FailedAttempt, StoreError> {
        let now = stored_instant(now);
        let error_code = storable_error_code(error_code);
        let mut tx = self.begin_tx().await?;
        let retry = rows::lock_claimed(&mut tx.ex(), id, worker).await?;
        let Some(retry) = retry else {
            tracing::info!("failed notification was no longer claimed by this worker");
            return Ok(FailedAttempt::NotClaimed);
        };
        let attempts = decode_attempts(retry.attempts)?.saturating_add(1);
        let outcome = if attempts >= policy.max_attempts {
            let stored = encode_attempts(attempts);
            rows::give_up(&mut tx.ex(), id, stored, &error_code, now).await?;
            // A "new letter" message given up on is a receipt for the sending agency.
            tx.record_notification_failed(id, now).await?;
            FailedAttempt::GaveUp
        } else {
            let mut next = stored_instant(now.saturating_add(policy.delay_after(attempts)));
            if let Some(zone) = decode_zone(retry.quiet_zone)? {
                next = stored_instant(next_allowed_sms_time(next, zone));
            }
            let stored = encode_attempts(attempts);
            rows::schedule_retry(&mut tx.ex(), id, stored, next, &error_code).await?;
            FailedAttempt::RetryAt(next)
        };
        tx.commit().await?;
        match outcome {
            FailedAttempt::GaveUp => {
                tracing::warn!(attempts, error = %error_code, "notification given up")
            }
            _ => tracing::info!(attempts, error = %error_code, "notification send failed"),
        }
        Ok(outcome)
    }

    /// A message's status, by id.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), notification.id = %id))]
    pub async fn find_notification(
        &self,
        id: NotificationId,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        let parts = rows::find(&mut self.conn().await?.ex(), id).await?;
        parts.map(RecordParts::decode).transpose()
    }

    /// A message's status, by the key it was queued with.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn find_notification_by_key(
        &self,
        idempotency_key: &str,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        let parts = rows::find_by_key(&mut self.conn().await?.ex(), idempotency_key).await?;
        parts.map(RecordParts::decode).transpose()
    }

    /// Up to `limit` (clamped to 1..=[`MAX_NOTIFICATION_PAGE_SIZE`]) messages given up on, in
    /// id order, after `after`: what support (and agencies, as "notification failed") see.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn list_failed(
        &self,
        after: Option<NotificationId>,
        limit: u32,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let limit = i64::from(limit.clamp(1, MAX_NOTIFICATION_PAGE_SIZE));
        let failed = rows::list_failed(&mut self.conn().await?.ex(), after, limit).await?;
        failed.into_iter().map(RecordParts::decode).collect()
    }

    /// Deletes messages sent or given up on before `before` (keep them long enough to answer
    /// status questions). For a periodic job; returns how many.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn delete_finished_notifications(
        &self,
        before: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let before = stored_instant(before);
        let deleted = rows::delete_finished(&mut self.conn().await?.ex(), before).await?;
        tracing::debug!(deleted, "finished notifications deleted");
        Ok(deleted)
    }
}
