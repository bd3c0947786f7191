//! What signers are told, queued in the outbox in the transaction that decides it: "a document
//! to sign" for the signers whose turn comes (at creation, or when the order before them has
//! signed), and the job that queues each job's one reminder before its deadline
//! ([`Database::queue_signing_reminders`]). Who is told and what the messages say is the
//! domain's (`signing::notice`); each message's idempotency key names the signer and the kind,
//! so nothing is queued twice.

use time::OffsetDateTime;

use super::super::contact::rows as contact_rows;
use super::super::sql::{Ex, Tx, Val};
use super::super::{stored_instant, Database, StoreError};
use crate::outbox::EnqueueOutcome;
use crate::signing::notice::{signer_notifications, SigningNotice};
use crate::signing::{SignerId, SigningError, SigningJobId, SigningNotifications};

/// What a job's messages need of it.
pub(super) struct NoticeFacts {
    sender: String,
    deadline: OffsetDateTime,
    wish: SigningNotifications,
}

pub(super) async fn notice_facts(
    ex: &mut Ex<'_>,
    job: SigningJobId,
) -> Result<NoticeFacts, StoreError> {
    let row = ex
        .fetch_one(
            "SELECT sender_name, deadline, notify_channels, reminders FROM signing_jobs \
             WHERE id = $1",
            &[Val::Uuid(job.as_uuid())],
        )
        .await?;
    let what = "signing_jobs";
    Ok(NoticeFacts {
        sender: row.text("sender_name", what)?,
        deadline: row.time("deadline", what)?,
        wish: SigningNotifications::from_stored(
            row.str("notify_channels", what)?,
            row.bool("reminders", what)?,
        )
        .ok_or(StoreError::Corrupt { what })?,
    })
}

/// Queues `notice` for each of `signers` (id and national id) who can be notified at `at`.
/// Returns how many messages were queued.
pub(super) async fn queue_signer_notices(
    tx: &mut Tx,
    facts: &NoticeFacts,
    signers: &[(SignerId, String)],
    notice: SigningNotice,
    at: OffsetDateTime,
    staleness: time::Duration,
) -> Result<usize, StoreError> {
    if signers.is_empty() {
        return Ok(0);
    }
    let ids: Vec<&str> = signers.iter().map(|(_, id)| id.as_str()).collect();
    let entries = contact_rows::find_by_national_ids(&mut tx.ex(), &ids).await?;
    let mut queued = 0;
    for parts in entries {
        let Some((signer, _)) = signers.iter().find(|(_, id)| *id == parts.national_id) else {
            continue;
        };
        let signer = *signer;
        let info = parts.into_contact_info()?;
        let messages = signer_notifications(
            &info,
            notice,
            signer,
            &facts.sender,
            facts.deadline,
            facts.wish,
            at,
            staleness,
        )
        // Our own keys and parameters are always valid; a failure here is a bug.
        .map_err(|_| StoreError::Corrupt {
            what: "notification.params",
        })?;
        for message in &messages {
            if let EnqueueOutcome::Queued(_) = tx.enqueue(message, at).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// The jobs whose reminder is due (the job's range).
const DUE_REMINDERS: &str = "SELECT id FROM signing_jobs \
     WHERE remind_at IS NOT NULL AND reminded_at IS NULL AND remind_at <= $1 \
     AND state = 'in_progress' ORDER BY remind_at LIMIT $2";

impl Database {
    /// Queues the reminder of each job whose reminder is due at `now` (at most `limit` jobs):
    /// to its active signers who have not signed, if they can be notified now (the contact
    /// register read again: someone reserved since is not told). Each job's reminder is taken
    /// once (`reminded_at`, a conditional update), also with several instances. The number of
    /// messages queued.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn queue_signing_reminders(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<usize, SigningError> {
        let now = stored_instant(now);
        let due = {
            let mut conn = self.conn().await?;
            let rows = conn
                .ex()
                .fetch_all(DUE_REMINDERS, &[Val::Time(now), Val::Int(i64::from(limit))])
                .await?;
            rows.iter()
                .map(|row| {
                    row.uuid("id", "signing_jobs.id")
                        .map(SigningJobId::from_uuid)
                })
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut queued = 0;
        for job in due {
            let mut tx = self.begin_tx().await?;
            let taken = tx
                .ex()
                .execute(
                    "UPDATE signing_jobs SET reminded_at = $2 WHERE id = $1 \
                     AND reminded_at IS NULL AND state = 'in_progress'",
                    &[Val::Uuid(job.as_uuid()), Val::Time(now)],
                )
                .await?;
            if taken == 0 {
                continue;
            }
            let facts = notice_facts(&mut tx.ex(), job).await?;
            let rows = tx
                .ex()
                .fetch_all(
                    "SELECT id, national_id FROM signing_signers WHERE job_id = $1 \
                     AND status = 'waiting' AND activated_at <= $2 ORDER BY position",
                    &[Val::Uuid(job.as_uuid()), Val::Time(now)],
                )
                .await?;
            let signers = rows
                .iter()
                .map(|row| {
                    let what = "signing_signers";
                    Ok((
                        SignerId::from_uuid(row.uuid("id", what)?),
                        row.text("national_id", what)?,
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            let staleness = self.contact_staleness;
            queued += queue_signer_notices(
                &mut tx,
                &facts,
                &signers,
                SigningNotice::Reminder,
                now,
                staleness,
            )
            .await?;
            tx.commit().await?;
        }
        if queued > 0 {
            tracing::info!(messages = queued, "signing reminders queued");
        }
        Ok(queued)
    }
}
