//! The outbox's statements. Claiming differs by database (row locks that skip what another
//! worker holds on PostgreSQL; the single write lock of `BEGIN IMMEDIATE` on SQLite), so those
//! two statements are [`Dialect`]s; the rest is one text for both.

use time::OffsetDateTime;

use super::{ClaimedParts, NotificationRow, RecordParts, RetryParts};
use crate::outbox::{NotificationId, EXPIRED_ERROR};
use crate::storage::sql::{Dialect, Ex, Row, Val};
use crate::storage::StoreError;

/// The columns a [`ClaimedParts`] is read from.
macro_rules! claimed_columns {
    () => {
        "id, recipient_id, channel, address, template, params, idempotency_key, attempts, \
         lease_until, quiet_zone"
    };
}

/// The columns a [`RecordParts`] is read from.
macro_rules! record_columns {
    () => {
        "id, recipient_id, channel, template, idempotency_key, status, attempts, last_error, \
         not_before, created_at, sent_at, failed_at"
    };
}

const INSERT_HEAD: &str = "INSERT INTO notifications (id, recipient_id, channel, address, \
     template, params, idempotency_key, status, attempts, not_before, send_by, quiet_zone, \
     created_at)";

/// A new message's values, in the order of [`INSERT_HEAD`].
fn values<'a>(row: &'a NotificationRow<'a>) -> Vec<Val<'a>> {
    let notification = row.notification;
    vec![
        Val::Uuid(row.id.as_uuid()),
        Val::Uuid(notification.recipient().as_uuid()),
        Val::Text(notification.to().channel().code()),
        Val::Text(notification.to().as_str()),
        Val::Text(notification.template().code()),
        Val::Json(&row.params),
        Val::Text(notification.idempotency_key()),
        Val::Text("pending"),
        Val::Int(0),
        Val::Time(notification.earliest()),
        Val::OptTime(notification.latest()),
        Val::OptText(notification.quiet_zone().map(|zone| zone.iana_name())),
        Val::Time(row.created_at),
    ]
}

/// Queues one message; `None` when its idempotency key is taken (nothing is written).
pub(super) async fn insert(
    ex: &mut Ex<'_>,
    row: &NotificationRow<'_>,
) -> Result<Option<NotificationId>, StoreError> {
    let inserted = ex
        .fetch_optional(
            "INSERT INTO notifications (id, recipient_id, channel, address, template, params, \
             idempotency_key, status, attempts, not_before, send_by, quiet_zone, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            &values(row),
        )
        .await?;
    inserted
        .map(|row| {
            row.uuid("id", "notification.id")
                .map(NotificationId::from_uuid)
        })
        .transpose()
}

/// Many new messages in one statement (the group writer's batch of deliveries): a plain
/// `INSERT`, so a message whose idempotency key is taken fails the statement (the caller then
/// falls back to [`insert`] one by one).
pub(in crate::storage) async fn insert_many(
    ex: &mut Ex<'_>,
    rows: &[NotificationRow<'_>],
) -> Result<(), StoreError> {
    let rows: Vec<Vec<Val<'_>>> = rows.iter().map(values).collect();
    ex.insert_rows(INSERT_HEAD, &rows).await.map(drop)
}

pub(super) async fn find_id_by_key(
    ex: &mut Ex<'_>,
    key: &str,
) -> Result<Option<NotificationId>, StoreError> {
    ex.fetch_optional(
        "SELECT id FROM notifications WHERE idempotency_key = $1",
        &[Val::Text(key)],
    )
    .await?
    .map(|row| {
        row.uuid("id", "notification.id")
            .map(NotificationId::from_uuid)
    })
    .transpose()
}

/// Fails the pending messages past their `send_by` that no lease holds (rows another worker is
/// claiming right now are skipped on PostgreSQL, not waited for; a later claim expires them).
const EXPIRE_OVERDUE: Dialect = Dialect {
    sqlite: "UPDATE notifications SET status = 'failed', failed_at = $1, last_error = $2, \
             params = '{}', claimed_by = NULL, lease_until = NULL \
             WHERE status = 'pending' AND send_by IS NOT NULL AND send_by <= $1 \
             AND (lease_until IS NULL OR lease_until <= $1)",
    postgres: "UPDATE notifications SET status = 'failed', failed_at = $1, last_error = $2, \
               params = '{}', claimed_by = NULL, lease_until = NULL WHERE id IN (\
               SELECT id FROM notifications WHERE status = 'pending' \
               AND send_by IS NOT NULL AND send_by <= $1 \
               AND (lease_until IS NULL OR lease_until <= $1) FOR UPDATE SKIP LOCKED)",
};

pub(super) async fn expire_overdue(
    ex: &mut Ex<'_>,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    let sql = ex.dialect(&EXPIRE_OVERDUE);
    ex.execute(sql, &[Val::Time(now), Val::Text(EXPIRED_ERROR)])
        .await
}

/// Leases up to `$2` due messages. PostgreSQL: `FOR UPDATE SKIP LOCKED` passes over rows being
/// claimed by another worker's transaction instead of waiting, and a row locked here is
/// re-checked against the `WHERE` after the lock, so a row leased by a transaction that just
/// committed is not taken again. SQLite: one statement in a `BEGIN IMMEDIATE` transaction, so
/// no other writer runs between the choice of rows and their lease.
const CLAIM: Dialect = Dialect {
    sqlite: concat!(
        "UPDATE notifications SET claimed_by = $3, lease_until = $4 WHERE id IN (\
         SELECT id FROM notifications WHERE status = 'pending' AND not_before <= $1 \
         AND (lease_until IS NULL OR lease_until <= $1) ORDER BY not_before, id LIMIT $2) \
         RETURNING ",
        claimed_columns!()
    ),
    postgres: concat!(
        "UPDATE notifications SET claimed_by = $3, lease_until = $4 WHERE id IN (\
         SELECT id FROM notifications WHERE status = 'pending' AND not_before <= $1 \
         AND (lease_until IS NULL OR lease_until <= $1) ORDER BY not_before, id LIMIT $2 \
         FOR UPDATE SKIP LOCKED) RETURNING ",
        claimed_columns!()
    ),
};

pub(super) async fn claim(
    ex: &mut Ex<'_>,
    now: OffsetDateTime,
    worker: &str,
    limit: i64,
    lease_until: OffsetDateTime,
) -> Result<Vec<ClaimedParts>, StoreError> {
    let sql = ex.dialect(&CLAIM);
    ex.fetch_all(
        sql,
        &[
            Val::Time(now),
            Val::Int(limit),
            Val::Text(worker),
            Val::Time(lease_until),
        ],
    )
    .await?
    .iter()
    .map(claimed_from_row)
    .collect()
}

/// Hands a claimed message back, to be sent at `not_before` (an SMS in its quiet hours).
pub(super) async fn release(
    ex: &mut Ex<'_>,
    id: NotificationId,
    worker: &str,
    not_before: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE notifications SET claimed_by = NULL, lease_until = NULL, not_before = $3 \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        &[
            Val::Uuid(id.as_uuid()),
            Val::Text(worker),
            Val::Time(not_before),
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn mark_sent(
    ex: &mut Ex<'_>,
    id: NotificationId,
    worker: &str,
    now: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "UPDATE notifications SET status = 'sent', sent_at = $3, params = '{}', \
         claimed_by = NULL, lease_until = NULL \
         WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
        &[Val::Uuid(id.as_uuid()), Val::Text(worker), Val::Time(now)],
    )
    .await
}

/// The claimed message's retry state, locked for the transaction on PostgreSQL (on SQLite the
/// transaction holds the write lock).
const LOCK_CLAIMED: Dialect = Dialect {
    sqlite: "SELECT attempts, quiet_zone FROM notifications \
             WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
    postgres: "SELECT attempts, quiet_zone FROM notifications \
               WHERE id = $1 AND claimed_by = $2 AND status = 'pending' FOR UPDATE",
};

pub(super) async fn lock_claimed(
    ex: &mut Ex<'_>,
    id: NotificationId,
    worker: &str,
) -> Result<Option<RetryParts>, StoreError> {
    let sql = ex.dialect(&LOCK_CLAIMED);
    let Some(row) = ex
        .fetch_optional(sql, &[Val::Uuid(id.as_uuid()), Val::Text(worker)])
        .await?
    else {
        return Ok(None);
    };
    Ok(Some(RetryParts {
        attempts: attempts(&row)?,
        quiet_zone: row.opt_text("quiet_zone", "notification.quiet_zone")?,
    }))
}

pub(super) async fn schedule_retry(
    ex: &mut Ex<'_>,
    id: NotificationId,
    attempts: i32,
    not_before: OffsetDateTime,
    error_code: &str,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE notifications SET attempts = $2, not_before = $3, last_error = $4, \
         claimed_by = NULL, lease_until = NULL WHERE id = $1",
        &[
            Val::Uuid(id.as_uuid()),
            Val::Int(i64::from(attempts)),
            Val::Time(not_before),
            Val::Text(error_code),
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn give_up(
    ex: &mut Ex<'_>,
    id: NotificationId,
    attempts: i32,
    error_code: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "UPDATE notifications SET status = 'failed', attempts = $2, last_error = $3, \
         failed_at = $4, params = '{}', claimed_by = NULL, lease_until = NULL WHERE id = $1",
        &[
            Val::Uuid(id.as_uuid()),
            Val::Int(i64::from(attempts)),
            Val::Text(error_code),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn find(
    ex: &mut Ex<'_>,
    id: NotificationId,
) -> Result<Option<RecordParts>, StoreError> {
    ex.fetch_optional(
        concat!(
            "SELECT ",
            record_columns!(),
            " FROM notifications WHERE id = $1"
        ),
        &[Val::Uuid(id.as_uuid())],
    )
    .await?
    .as_ref()
    .map(record_from_row)
    .transpose()
}

pub(super) async fn find_by_key(
    ex: &mut Ex<'_>,
    key: &str,
) -> Result<Option<RecordParts>, StoreError> {
    ex.fetch_optional(
        concat!(
            "SELECT ",
            record_columns!(),
            " FROM notifications WHERE idempotency_key = $1"
        ),
        &[Val::Text(key)],
    )
    .await?
    .as_ref()
    .map(record_from_row)
    .transpose()
}

pub(super) async fn list_failed(
    ex: &mut Ex<'_>,
    after: Option<NotificationId>,
    limit: i64,
) -> Result<Vec<RecordParts>, StoreError> {
    let rows = match after {
        None => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    record_columns!(),
                    " FROM notifications WHERE status = 'failed' ORDER BY id LIMIT $1"
                ),
                &[Val::Int(limit)],
            )
            .await?
        }
        Some(after) => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    record_columns!(),
                    " FROM notifications WHERE status = 'failed' AND id > $1 ORDER BY id \
                     LIMIT $2"
                ),
                &[Val::Uuid(after.as_uuid()), Val::Int(limit)],
            )
            .await?
        }
    };
    rows.iter().map(record_from_row).collect()
}

pub(super) async fn delete_finished(
    ex: &mut Ex<'_>,
    before: OffsetDateTime,
) -> Result<u64, StoreError> {
    ex.execute(
        "DELETE FROM notifications WHERE (status = 'sent' AND sent_at < $1) \
         OR (status = 'failed' AND failed_at < $1)",
        &[Val::Time(before)],
    )
    .await
}

fn attempts(row: &Row) -> Result<i32, StoreError> {
    i32::try_from(row.int("attempts", "notification.attempts")?).map_err(|_| StoreError::Corrupt {
        what: "notification.attempts",
    })
}

fn claimed_from_row(row: &Row) -> Result<ClaimedParts, StoreError> {
    const WHAT: &str = "notification";
    Ok(ClaimedParts {
        id: row.uuid("id", "notification.id")?,
        recipient: row.uuid("recipient_id", "notification.recipient_id")?,
        channel: row.text("channel", WHAT)?,
        address: row.text("address", WHAT)?,
        template: row.text("template", WHAT)?,
        params: row.json("params", "notification.params")?,
        idempotency_key: row.text("idempotency_key", WHAT)?,
        attempts: attempts(row)?,
        lease_until: row.time("lease_until", "notification.lease_until")?,
        quiet_zone: row.opt_text("quiet_zone", WHAT)?,
    })
}

fn record_from_row(row: &Row) -> Result<RecordParts, StoreError> {
    const WHAT: &str = "notification";
    Ok(RecordParts {
        id: row.uuid("id", "notification.id")?,
        recipient: row.uuid("recipient_id", "notification.recipient_id")?,
        channel: row.text("channel", WHAT)?,
        template: row.text("template", WHAT)?,
        idempotency_key: row.text("idempotency_key", WHAT)?,
        status: row.text("status", WHAT)?,
        attempts: attempts(row)?,
        last_error: row.opt_text("last_error", WHAT)?,
        not_before: row.time("not_before", "notification.not_before")?,
        created_at: row.time("created_at", "notification.created_at")?,
        sent_at: row.opt_time("sent_at", "notification.sent_at")?,
        failed_at: row.opt_time("failed_at", "notification.failed_at")?,
    })
}
