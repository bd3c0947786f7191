//! Letters for citizens with an external mailbox provider: the forwarding queue
//! (`mailbox_forwarding`, see `migrations/sqlite/0006_*`), claimed with a lease by the
//! forwarding worker like the outbox, at least once (the letter id is the idempotency key the
//! provider sees). The provider accepting it is a `forwarded` receipt; a permanent refusal,
//! an unknown provider or too many failures put the letter in the print queue with a
//! `returned_to_paper` receipt.

use time::{Duration, OffsetDateTime};

use super::super::sql::{Dialect, Ex, Val};
use super::{attachment_info_from_row, Conn, Database, ReceiptKind, StoreError};
use crate::access::Loa;
use crate::agency::AgencyId;
use crate::identity::NationalId;
use crate::outbox::RetryPolicy;
use crate::post::{Attachment, ForwardJob, ForwardOutcome, LetterId};
use crate::storage::stored_instant;

/// The forwarding worker's side of the queue.
/// The due forwarding jobs with their letters. PostgreSQL locks the jobs it takes and skips
/// those another worker is taking; SQLite's transaction holds the write lock.
const CLAIM_DUE: Dialect = Dialect {
    sqlite: "SELECT f.letter_id, f.provider, f.attempts, l.recipient_national_id, l.agency_id, \
             l.agency_message_id, l.sender_name, l.title, l.safe_title, l.required_loa, \
             l.body_html, l.is_decision, l.delivered_at FROM mailbox_forwarding f \
             JOIN letters l ON l.id = f.letter_id \
             WHERE f.status = 'pending' AND f.next_attempt_at <= $1 \
             AND (f.lease_until IS NULL OR f.lease_until <= $1) \
             ORDER BY f.next_attempt_at LIMIT $2",
    postgres: "SELECT f.letter_id, f.provider, f.attempts, l.recipient_national_id, l.agency_id, \
               l.agency_message_id, l.sender_name, l.title, l.safe_title, l.required_loa, \
               l.body_html, l.is_decision, l.delivered_at FROM mailbox_forwarding f \
               JOIN letters l ON l.id = f.letter_id \
               WHERE f.status = 'pending' AND f.next_attempt_at <= $1 \
               AND (f.lease_until IS NULL OR f.lease_until <= $1) \
               ORDER BY f.next_attempt_at LIMIT $2 FOR UPDATE OF f SKIP LOCKED",
};

/// A claimed job's attempts, locked for the transaction on PostgreSQL.
const LOCK_CLAIMED: Dialect = Dialect {
    sqlite: "SELECT attempts FROM mailbox_forwarding \
             WHERE letter_id = $1 AND claimed_by = $2 AND status = 'pending'",
    postgres: "SELECT attempts FROM mailbox_forwarding \
               WHERE letter_id = $1 AND claimed_by = $2 AND status = 'pending' FOR UPDATE",
};

/// At most this many letters per claim (each carries its attachments).
const MAX_FORWARD_BATCH: u32 = 50;

/// A short code as stored: ASCII letters, digits and `._-`, at most 40.
fn storable(error: &str) -> String {
    error
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .take(40)
        .collect()
}

async fn attachments_of(ex: &mut Ex<'_>, letter: LetterId) -> Result<Vec<Attachment>, StoreError> {
    let rows = ex
        .fetch_all(
            "SELECT position, filename, size, content FROM letter_attachments \
             WHERE letter_id = $1 ORDER BY position",
            &[Val::Uuid(letter.as_uuid())],
        )
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Attachment {
                info: attachment_info_from_row(row)?,
                content: row.bytes("content", "letter_attachments.content")?,
            })
        })
        .collect()
}

impl Database {
    /// Claims up to `limit` letters due at `now` for `worker`, for `lease`; each with its
    /// attachments.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), worker = %worker))]
    pub async fn claim_forwarding(
        &self,
        now: OffsetDateTime,
        worker: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ForwardJob>, StoreError> {
        let now = stored_instant(now);
        let lease_until = stored_instant(now.saturating_add(lease));
        let limit = i64::from(limit.clamp(1, MAX_FORWARD_BATCH));
        let what = "mailbox_forwarding";
        // Most rounds find nothing: look first without taking SQLite's write lock.
        let mut conn = Conn::acquire(&self.pool).await?;
        let any_due = conn
            .ex()
            .fetch_optional(
                "SELECT letter_id FROM mailbox_forwarding WHERE status = 'pending' \
                 AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) LIMIT 1",
                &[Val::Time(now)],
            )
            .await?
            .is_some();
        drop(conn);
        if !any_due {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let sql = ex.dialect(&CLAIM_DUE);
        let rows = ex
            .fetch_all(sql, &[Val::Time(now), Val::Int(limit)])
            .await?;
        let mut jobs = Vec::with_capacity(rows.len());
        for row in rows {
            let letter = LetterId::from_uuid(row.uuid("letter_id", what)?);
            ex.execute(
                "UPDATE mailbox_forwarding SET claimed_by = $2, lease_until = $3 \
                 WHERE letter_id = $1",
                &[
                    Val::Uuid(letter.as_uuid()),
                    Val::Text(worker),
                    Val::Time(lease_until),
                ],
            )
            .await?;
            let attempts = u32::try_from(row.int("attempts", what)?)
                .map_err(|_| StoreError::Corrupt { what })?;
            jobs.push(ForwardJob {
                letter,
                provider: row.text("provider", what)?,
                recipient: NationalId::parse(row.str("recipient_national_id", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                agency: AgencyId::parse(row.str("agency_id", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                message_id: row.text("agency_message_id", what)?,
                sender_name: row.text("sender_name", what)?,
                title: row.text("title", what)?,
                safe_title: row.text("safe_title", what)?,
                required_loa: Loa::from_str_name(row.str("required_loa", what)?)
                    .ok_or(StoreError::Corrupt { what })?,
                body_html: row.text("body_html", what)?,
                is_decision: row.bool("is_decision", what)?,
                attachments: attachments_of(&mut ex, letter).await?,
                delivered_at: row.time("delivered_at", what)?,
                attempt: attempts.saturating_add(1),
            });
        }
        tx.commit().await?;
        Ok(jobs)
    }

    /// The provider accepted the letter: a `forwarded` receipt. `false` (nothing recorded)
    /// when `worker` no longer held it.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), letter.id = %letter))]
    pub async fn mark_forwarded(
        &self,
        letter: LetterId,
        worker: &str,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let done = ex
            .execute(
                "UPDATE mailbox_forwarding SET status = 'forwarded', finished_at = $3, \
                 claimed_by = NULL, lease_until = NULL \
                 WHERE letter_id = $1 AND claimed_by = $2 AND status = 'pending'",
                &[
                    Val::Uuid(letter.as_uuid()),
                    Val::Text(worker),
                    Val::Time(now),
                ],
            )
            .await?;
        if done == 0 {
            return Ok(false);
        }
        receipt(&mut ex, letter, ReceiptKind::Forwarded, now).await?;
        tx.commit().await?;
        tracing::info!("letter forwarded to the external mailbox provider");
        Ok(true)
    }

    /// An attempt failed with `error` (a short code). `permanent`, or the last attempt of
    /// `policy`: the letter goes to the print queue with a `returned_to_paper` receipt;
    /// otherwise it is tried again after the policy's backoff.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), letter.id = %letter))]
    pub async fn mark_forward_failed(
        &self,
        letter: LetterId,
        worker: &str,
        now: OffsetDateTime,
        error: &str,
        permanent: bool,
        policy: &RetryPolicy,
    ) -> Result<ForwardOutcome, StoreError> {
        let now = stored_instant(now);
        let error = storable(error);
        let what = "mailbox_forwarding";
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let sql = ex.dialect(&LOCK_CLAIMED);
        let Some(row) = ex
            .fetch_optional(sql, &[Val::Uuid(letter.as_uuid()), Val::Text(worker)])
            .await?
        else {
            return Ok(ForwardOutcome::NotClaimed);
        };
        let attempts = u32::try_from(row.int("attempts", what)?)
            .map_err(|_| StoreError::Corrupt { what })?
            .saturating_add(1);
        let outcome = if permanent || attempts >= policy.max_attempts {
            ex.execute(
                "UPDATE mailbox_forwarding SET status = 'returned_to_paper', attempts = $2, \
                 last_error = $3, finished_at = $4, claimed_by = NULL, lease_until = NULL \
                 WHERE letter_id = $1",
                &[
                    Val::Uuid(letter.as_uuid()),
                    Val::Int(i64::from(attempts)),
                    Val::Text(&error),
                    Val::Time(now),
                ],
            )
            .await?;
            ex.execute(
                "INSERT INTO print_queue (letter_id, queued_at) VALUES ($1, $2) \
                 ON CONFLICT DO NOTHING",
                &[Val::Uuid(letter.as_uuid()), Val::Time(now)],
            )
            .await?;
            receipt(&mut ex, letter, ReceiptKind::ReturnedToPaper, now).await?;
            ForwardOutcome::ReturnedToPaper
        } else {
            let next = stored_instant(now.saturating_add(policy.delay_after(attempts)));
            ex.execute(
                "UPDATE mailbox_forwarding SET attempts = $2, last_error = $3, \
                 next_attempt_at = $4, claimed_by = NULL, lease_until = NULL \
                 WHERE letter_id = $1",
                &[
                    Val::Uuid(letter.as_uuid()),
                    Val::Int(i64::from(attempts)),
                    Val::Text(&error),
                    Val::Time(next),
                ],
            )
            .await?;
            ForwardOutcome::RetryAt(next)
        };
        tx.commit().await?;
        match outcome {
            ForwardOutcome::ReturnedToPaper => {
                tracing::warn!(attempts, %error, "forwarding given up: the letter goes on paper");
            }
            _ => tracing::info!(attempts, %error, "forwarding failed; will retry"),
        }
        Ok(outcome)
    }
}

/// A receipt for the letter's agency.
async fn receipt(
    ex: &mut Ex<'_>,
    letter: LetterId,
    kind: ReceiptKind,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO post_receipts (agency_id, agency_message_id, letter_id, kind, at) \
         SELECT agency_id, agency_message_id, id, $2, $3 FROM letters WHERE id = $1",
        &[
            Val::Uuid(letter.as_uuid()),
            Val::Text(kind.code()),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}
