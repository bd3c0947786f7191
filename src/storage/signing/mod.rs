//! The signing register's statements: jobs, their documents and signers, and the status
//! changes agencies poll.
//!
//! Every change runs in one transaction that locks the job's row (PostgreSQL `FOR UPDATE`;
//! SQLite's write transaction holds the lock), reads its signers, asks the rules
//! (`crate::signing::progress`) and writes what they say with a status event for each change.
//! So of two signers of one order signing at the same moment, the second sees the first's
//! signature, and exactly one of them moves the job to sealing.

mod notices;
mod seal;
mod signer;

pub use seal::SealingDone;

use time::OffsetDateTime;

use super::contact::rows as contact_rows;
use super::sql::{is_unique_violation, Dialect, Ex, Row, Val};
use super::{stored_instant, Database, StoreError};
use crate::access::{AgencyAccess, Loa, SendForSigning};
use crate::agency::AgencyId;
use crate::identity::NationalId;
use crate::signing::notice::SigningNotice;
use crate::signing::progress::{self, Changes, Reach};
use crate::signing::{
    AgencyJobId, JobState, OnBehalfOf, SignerId, SignerStatus, SignerView, SigningCursor,
    SigningError, SigningEvent, SigningEventPage, SigningJobId, SigningJobStatus, ValidSigningJob,
    MAX_EVENT_PAGE_SIZE,
};

/// The signing register: agencies' side.
impl Database {
    /// Stores a job the rules accepted, from the proof's agency, and answers its status.
    /// Idempotent on the agency's job id: a repeated creation (also one racing the first)
    /// answers the first job's status with `replayed` set and stores nothing.
    ///
    /// Each signer for themself is checked against the contact register now: one who is
    /// reserved or cannot be reached fails the job at once, with that status for them.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %access.agency()))]
    pub async fn create_signing_job(
        &self,
        access: &AgencyAccess<SendForSigning>,
        sender_name: &str,
        job: ValidSigningJob,
        now: OffsetDateTime,
    ) -> Result<SigningJobStatus, SigningError> {
        let now = stored_instant(now);
        match self
            .insert_signing_job(access, sender_name, &job, now, false)
            .await
        {
            Ok(status) => Ok(status),
            // A creation with the same job id committed between our check and our insert.
            Err(SigningError::Store(error)) if is_unique_violation(&error) => self
                .existing_job(access.agency(), &job.agency_job_id)
                .await?
                .ok_or(SigningError::Store(error)),
            Err(error) => Err(error),
        }
    }

    /// The demo data's jobs (`signing::demo`): as [`create_signing_job`](Database::create_signing_job),
    /// with every signer counted as reachable (the demo persons have no contact entry).
    #[cfg(feature = "dev")]
    pub(crate) async fn create_demo_signing_job(
        &self,
        access: &AgencyAccess<SendForSigning>,
        sender_name: &str,
        job: ValidSigningJob,
        now: OffsetDateTime,
    ) -> Result<SigningJobStatus, SigningError> {
        self.insert_signing_job(access, sender_name, &job, stored_instant(now), true)
            .await
    }

    async fn insert_signing_job(
        &self,
        access: &AgencyAccess<SendForSigning>,
        sender_name: &str,
        job: &ValidSigningJob,
        now: OffsetDateTime,
        everyone_reachable: bool,
    ) -> Result<SigningJobStatus, SigningError> {
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        if let Some(id) = job_id_of(&mut ex, access.agency(), &job.agency_job_id).await? {
            let (_, status) = read_status(&mut ex, id)
                .await?
                .ok_or(SigningError::NotFound)?;
            return Ok(SigningJobStatus {
                replayed: true,
                ..status
            });
        }
        let ids: Vec<&str> = job.signers.iter().map(|s| s.national_id.expose()).collect();
        let mut entries = Vec::new();
        for parts in contact_rows::find_by_national_ids(&mut ex, &ids).await? {
            let national_id = parts.national_id.clone();
            entries.push((national_id, parts.into_contact_info()?));
        }
        let reach: Vec<(u8, Reach)> = job
            .signers
            .iter()
            .map(|signer| {
                let entry = entries
                    .iter()
                    .find(|(id, _)| id == signer.national_id.expose())
                    .map(|(_, info)| info);
                let reach = if everyone_reachable {
                    Reach::Reachable
                } else {
                    Reach::of(signer.on_behalf_of, entry, now, self.contact_staleness)
                };
                (signer.order, reach)
            })
            .collect();
        let (statuses, state) = progress::at_creation(&reach);
        let id = SigningJobId::new();
        let agency = access.agency();
        let ended_at = state.has_ended().then_some(now);
        let remind_at = job
            .notifications
            .reminders
            .then(|| progress::reminder_at(job.opens_at, job.deadline))
            .flatten();
        ex.execute(
            "INSERT INTO signing_jobs (id, agency_id, agency_job_id, sender_name, title, \
             non_sensitive_title, description, required_loa, naming, notify_channels, reminders, \
             helpers_may_sign, state, created_at, opens_at, deadline, ended_at, remind_at, \
             language) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19)",
            &[
                Val::Uuid(id.as_uuid()),
                Val::Text(agency.as_str()),
                Val::Text(job.agency_job_id.as_str()),
                Val::Text(sender_name),
                Val::Text(&job.title),
                Val::Text(&job.non_sensitive_title),
                Val::Text(&job.description),
                Val::Text(job.level.as_str()),
                Val::Text(job.naming.code()),
                Val::Text(job.notifications.channels_code()),
                Val::Bool(job.notifications.reminders),
                Val::Bool(job.helpers_may_sign),
                Val::Text(state.code()),
                Val::Time(now),
                Val::Time(job.opens_at),
                Val::Time(job.deadline),
                Val::OptTime(ended_at),
                Val::OptTime(remind_at),
                Val::Text(job.language.code()),
            ],
        )
        .await?;
        for (position, document) in job.documents.iter().enumerate() {
            ex.execute(
                "INSERT INTO signing_documents (job_id, position, title, file_name, sha256, size, \
                 content) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                &[
                    Val::Uuid(id.as_uuid()),
                    Val::Int(position as i64),
                    Val::Text(&document.title),
                    Val::Text(&document.file_name),
                    Val::Bytes(&document.sha256),
                    Val::Int(document.content.len() as i64),
                    Val::Bytes(&document.content),
                ],
            )
            .await?;
        }
        let mut first_turn = Vec::new();
        for (position, (signer, (status, active))) in job.signers.iter().zip(statuses).enumerate() {
            let signer_id = SignerId::new();
            if active {
                first_turn.push((signer_id, signer.national_id.expose().to_owned()));
            }
            ex.execute(
                "INSERT INTO signing_signers (id, job_id, position, national_id, signing_order, \
                 on_behalf_of, status, status_since, activated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                &[
                    Val::Uuid(signer_id.as_uuid()),
                    Val::Uuid(id.as_uuid()),
                    Val::Int(position as i64),
                    Val::Text(signer.national_id.expose()),
                    Val::Int(i64::from(signer.order)),
                    Val::Text(signer.on_behalf_of.code()),
                    Val::Text(status.code()),
                    Val::Time(now),
                    Val::OptTime(active.then_some(job.opens_at)),
                ],
            )
            .await?;
            if status != SignerStatus::Waiting {
                insert_event(&mut ex, agency, id, Some(signer_id), status.code(), now).await?;
            }
        }
        if state.has_ended() {
            insert_event(&mut ex, agency, id, None, state.api_code(), now).await?;
        }
        // The first order is told now (or at the opening), in this transaction.
        let facts = notices::notice_facts(&mut ex, id).await?;
        let staleness = self.contact_staleness;
        let told = SigningNotice::Requested;
        notices::queue_signer_notices(&mut tx, &facts, &first_turn, told, job.opens_at, staleness)
            .await?;
        let mut ex = tx.ex();
        let (_, status) = read_status(&mut ex, id)
            .await?
            .ok_or(SigningError::NotFound)?;
        tx.commit().await?;
        tracing::info!(signing_job.id = %id, state = state.code(), "signing job created");
        Ok(status)
    }

    /// The status of the job the agency created with this job id, marked as a replay.
    async fn existing_job(
        &self,
        agency: &AgencyId,
        agency_job_id: &AgencyJobId,
    ) -> Result<Option<SigningJobStatus>, SigningError> {
        let mut conn = self.conn().await?;
        let mut ex = conn.ex();
        let Some(id) = job_id_of(&mut ex, agency, agency_job_id).await? else {
            return Ok(None);
        };
        let status = read_status(&mut ex, id).await?;
        Ok(status.map(|(_, status)| SigningJobStatus {
            replayed: true,
            ..status
        }))
    }

    /// One of the proof's agency's jobs; [`SigningError::NotFound`] for another agency's (the
    /// same answer as for no job at all).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %access.agency()))]
    pub async fn signing_job_status(
        &self,
        access: &AgencyAccess<SendForSigning>,
        id: SigningJobId,
    ) -> Result<SigningJobStatus, SigningError> {
        let mut conn = self.conn().await?;
        let mut ex = conn.ex();
        read_status(&mut ex, id)
            .await?
            .filter(|(owner, _)| owner == access.agency())
            .map(|(_, status)| status)
            .ok_or(SigningError::NotFound)
    }

    /// The agency cancels a job in progress: everyone who has not signed is cancelled and the
    /// job fails. A job that has ended already is refused ([`SigningError::JobEnded`]).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %access.agency()))]
    pub async fn cancel_signing_job(
        &self,
        access: &AgencyAccess<SendForSigning>,
        id: SigningJobId,
        now: OffsetDateTime,
    ) -> Result<SigningJobStatus, SigningError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let job = lock_job(&mut ex, id)
            .await?
            .filter(|job| &job.agency == access.agency())
            .ok_or(SigningError::NotFound)?;
        let signers = signers_of(&mut ex, id, now).await?;
        let changes = progress::cancel(job.state, &rule_view(&signers))?;
        apply(&mut ex, &job, &changes, now).await?;
        let (_, status) = read_status(&mut ex, id)
            .await?
            .ok_or(SigningError::NotFound)?;
        tx.commit().await?;
        tracing::info!(signing_job.id = %id, "signing job cancelled");
        Ok(status)
    }

    /// The proof's agency's status changes after `after` (oldest first, at most `limit`,
    /// clamped to 1..=[`MAX_EVENT_PAGE_SIZE`]). Poll with the returned cursor: none is
    /// skipped, also on PostgreSQL with many writers (as post receipts).
    pub async fn signing_events(
        &self,
        access: &AgencyAccess<SendForSigning>,
        after: SigningCursor,
        limit: u32,
    ) -> Result<SigningEventPage, SigningError> {
        let limit = i64::from(limit.clamp(1, MAX_EVENT_PAGE_SIZE));
        let mut conn = self.conn().await?;
        let mut ex = conn.ex();
        let sql = ex.dialect(&EVENTS_AFTER);
        let rows = ex
            .fetch_all(
                sql,
                &[
                    Val::Text(access.agency().as_str()),
                    Val::Text(&after.txid.to_string()),
                    Val::Int(after.seq),
                    Val::Int(limit),
                ],
            )
            .await?;
        let mut events = Vec::with_capacity(rows.len());
        let mut cursor = after;
        for row in rows {
            let what = "signing_events";
            events.push(SigningEvent {
                job: SigningJobId::from_uuid(row.uuid("job_id", what)?),
                agency_job_id: AgencyJobId::parse(row.str("agency_job_id", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                signer: row.opt_uuid("signer_id", what)?.map(SignerId::from_uuid),
                status: row.text("status", what)?,
                at: row.time("at", what)?,
            });
            cursor = SigningCursor {
                txid: row.int("txid", what)?,
                seq: row.int("seq", what)?,
            };
        }
        Ok(SigningEventPage { events, cursor })
    }

    /// Ends the jobs whose deadline has passed (at most `limit`, oldest deadline first): their
    /// active signers who have not signed expire, and the jobs fail. The number ended.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn expire_signing_jobs(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<u64, SigningError> {
        let now = stored_instant(now);
        let due = {
            let mut conn = self.conn().await?;
            let rows = conn
                .ex()
                .fetch_all(
                    "SELECT id FROM signing_jobs WHERE state = 'in_progress' AND deadline <= $1 \
                     ORDER BY deadline LIMIT $2",
                    &[Val::Time(now), Val::Int(i64::from(limit))],
                )
                .await?;
            rows.iter()
                .map(|row| row.uuid("id", "signing_jobs.id"))
                .collect::<Result<Vec<_>, _>>()?
        };
        let mut ended = 0;
        for id in due {
            let id = SigningJobId::from_uuid(id);
            let mut tx = self.begin_tx().await?;
            let mut ex = tx.ex();
            let Some(job) = lock_job(&mut ex, id).await? else {
                continue;
            };
            // Signed or ended since the list was read: nothing to do.
            if job.state != JobState::InProgress || job.deadline > now {
                continue;
            }
            let signers = signers_of(&mut ex, id, now).await?;
            let changes = progress::expire(job.state, &rule_view(&signers))?;
            apply(&mut ex, &job, &changes, now).await?;
            tx.commit().await?;
            ended += 1;
        }
        if ended > 0 {
            tracing::info!(jobs = ended, "signing jobs expired");
        }
        Ok(ended)
    }
}

/// The status changes after a cursor. SQLite has one writer, so `seq` alone orders commits
/// (its cursors' transaction id is always 0);
/// PostgreSQL orders by the writing transaction and reads only transactions older than every
/// one still running, so a late commit is never skipped.
const EVENTS_AFTER: Dialect = Dialect {
    sqlite: "SELECT e.seq, 0 AS txid, e.job_id, j.agency_job_id, e.signer_id, e.status, e.at \
             FROM signing_events e JOIN signing_jobs j ON j.id = e.job_id \
             WHERE e.agency_id = $1 AND CAST($2 AS INTEGER) = 0 AND e.seq > $3 \
             ORDER BY e.seq LIMIT $4",
    postgres: "SELECT e.seq, e.txid::text::bigint AS txid, e.job_id, j.agency_job_id, \
               e.signer_id, e.status, e.at \
               FROM signing_events e JOIN signing_jobs j ON j.id = e.job_id \
               WHERE e.agency_id = $1 AND (e.txid, e.seq) > ($2::text::xid8, $3) \
               AND e.txid < pg_snapshot_xmin(pg_current_snapshot()) \
               ORDER BY e.txid, e.seq LIMIT $4",
};

/// A job's row, locked for a change.
const LOCK_JOB: Dialect = Dialect {
    sqlite: "SELECT id, agency_id, state, required_loa, helpers_may_sign, deadline, \
             non_sensitive_title FROM signing_jobs WHERE id = $1",
    postgres: "SELECT id, agency_id, state, required_loa, helpers_may_sign, deadline, \
               non_sensitive_title FROM signing_jobs WHERE id = $1 FOR UPDATE",
};

/// What a change needs of a job's row.
struct LockedJob {
    id: SigningJobId,
    agency: AgencyId,
    state: JobState,
    level: Loa,
    helpers_may_sign: bool,
    deadline: OffsetDateTime,
    /// What the signer's activity log calls the job.
    non_sensitive_title: String,
}

async fn lock_job(ex: &mut Ex<'_>, id: SigningJobId) -> Result<Option<LockedJob>, StoreError> {
    let sql = ex.dialect(&LOCK_JOB);
    let Some(row) = ex.fetch_optional(sql, &[Val::Uuid(id.as_uuid())]).await? else {
        return Ok(None);
    };
    let what = "signing_jobs";
    Ok(Some(LockedJob {
        id,
        agency: agency_of(&row)?,
        state: job_state(&row)?,
        level: Loa::from_str_name(row.str("required_loa", what)?)
            .ok_or(StoreError::Corrupt { what })?,
        helpers_may_sign: row.bool("helpers_may_sign", what)?,
        deadline: row.time("deadline", what)?,
        non_sensitive_title: row.text("non_sensitive_title", what)?,
    }))
}

fn agency_of(row: &Row) -> Result<AgencyId, StoreError> {
    AgencyId::parse(row.str("agency_id", "signing_jobs.agency_id")?).map_err(|_| {
        StoreError::Corrupt {
            what: "signing_jobs.agency_id",
        }
    })
}

fn job_state(row: &Row) -> Result<JobState, StoreError> {
    JobState::from_code(row.str("state", "signing_jobs.state")?).ok_or(StoreError::Corrupt {
        what: "signing_jobs.state",
    })
}

/// One signer as stored: what the rules see, and who they are.
struct StoredSigner {
    rules: progress::Signer,
    national_id: String,
}

fn rule_view(signers: &[StoredSigner]) -> Vec<progress::Signer> {
    signers.iter().map(|s| s.rules).collect()
}

/// A job's signers, in the agency's order; active when their turn came by `now`.
async fn signers_of(
    ex: &mut Ex<'_>,
    job: SigningJobId,
    now: OffsetDateTime,
) -> Result<Vec<StoredSigner>, StoreError> {
    let rows = ex
        .fetch_all(
            "SELECT id, national_id, signing_order, status, activated_at FROM signing_signers \
             WHERE job_id = $1 ORDER BY position",
            &[Val::Uuid(job.as_uuid())],
        )
        .await?;
    rows.iter()
        .map(|row| {
            let what = "signing_signers";
            Ok(StoredSigner {
                rules: progress::Signer {
                    id: SignerId::from_uuid(row.uuid("id", what)?),
                    order: u8::try_from(row.int("signing_order", what)?)
                        .map_err(|_| StoreError::Corrupt { what })?,
                    status: signer_status(row)?,
                    active: row
                        .opt_time("activated_at", what)?
                        .is_some_and(|at| at <= now),
                },
                national_id: row.text("national_id", what)?,
            })
        })
        .collect()
}

fn signer_status(row: &Row) -> Result<SignerStatus, StoreError> {
    SignerStatus::from_code(row.str("status", "signing_signers.status")?).ok_or(
        StoreError::Corrupt {
            what: "signing_signers.status",
        },
    )
}

/// Writes what the rules decided: each signer's new status and the turns that came, the job's
/// new state, and a status event for each change an agency sees.
async fn apply(
    ex: &mut Ex<'_>,
    job: &LockedJob,
    changes: &Changes,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    for (signer, status) in &changes.statuses {
        ex.execute(
            "UPDATE signing_signers SET status = $2, status_since = $3 WHERE id = $1",
            &[
                Val::Uuid(signer.as_uuid()),
                Val::Text(status.code()),
                Val::Time(now),
            ],
        )
        .await?;
        insert_event(ex, &job.agency, job.id, Some(*signer), status.code(), now).await?;
    }
    for signer in &changes.activate {
        ex.execute(
            "UPDATE signing_signers SET activated_at = $2 WHERE id = $1",
            &[Val::Uuid(signer.as_uuid()), Val::Time(now)],
        )
        .await?;
    }
    if let Some(state) = changes.job {
        ex.execute(
            "UPDATE signing_jobs SET state = $2, ended_at = $3 WHERE id = $1",
            &[
                Val::Uuid(job.id.as_uuid()),
                Val::Text(state.code()),
                Val::OptTime(state.has_ended().then_some(now)),
            ],
        )
        .await?;
        // Sealing is still "in progress" for the agency: no event until it completes.
        if matches!(state, JobState::Completed | JobState::Failed) {
            insert_event(ex, &job.agency, job.id, None, state.api_code(), now).await?;
        }
    }
    Ok(())
}

async fn insert_event(
    ex: &mut Ex<'_>,
    agency: &AgencyId,
    job: SigningJobId,
    signer: Option<SignerId>,
    status: &str,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO signing_events (agency_id, job_id, signer_id, status, at) \
         VALUES ($1, $2, $3, $4, $5)",
        &[
            Val::Text(agency.as_str()),
            Val::Uuid(job.as_uuid()),
            Val::OptUuid(signer.map(|s| s.as_uuid())),
            Val::Text(status),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}

async fn job_id_of(
    ex: &mut Ex<'_>,
    agency: &AgencyId,
    agency_job_id: &AgencyJobId,
) -> Result<Option<SigningJobId>, StoreError> {
    let row = ex
        .fetch_optional(
            "SELECT id FROM signing_jobs WHERE agency_id = $1 AND agency_job_id = $2",
            &[
                Val::Text(agency.as_str()),
                Val::Text(agency_job_id.as_str()),
            ],
        )
        .await?;
    row.map(|row| {
        row.uuid("id", "signing_jobs.id")
            .map(SigningJobId::from_uuid)
    })
    .transpose()
}

/// A job's status, with the agency that owns it (the caller checks it).
async fn read_status(
    ex: &mut Ex<'_>,
    id: SigningJobId,
) -> Result<Option<(AgencyId, SigningJobStatus)>, StoreError> {
    let Some(job) = ex
        .fetch_optional(
            "SELECT agency_id, agency_job_id, state, created_at, opens_at, deadline, ended_at \
             FROM signing_jobs WHERE id = $1",
            &[Val::Uuid(id.as_uuid())],
        )
        .await?
    else {
        return Ok(None);
    };
    let what = "signing_jobs";
    let signer_rows = ex
        .fetch_all(
            "SELECT id, national_id, signing_order, on_behalf_of, status, status_since, reason \
             FROM signing_signers WHERE job_id = $1 ORDER BY position",
            &[Val::Uuid(id.as_uuid())],
        )
        .await?;
    let mut signers = Vec::with_capacity(signer_rows.len());
    for row in &signer_rows {
        let what = "signing_signers";
        let corrupt = || StoreError::Corrupt { what };
        signers.push(SignerView {
            id: SignerId::from_uuid(row.uuid("id", what)?),
            national_id: NationalId::parse(row.str("national_id", what)?).map_err(|_| corrupt())?,
            order: u8::try_from(row.int("signing_order", what)?).map_err(|_| corrupt())?,
            on_behalf_of: OnBehalfOf::from_code(row.str("on_behalf_of", what)?)
                .ok_or_else(corrupt)?,
            status: signer_status(row)?,
            since: row.time("status_since", what)?,
            reason: row.opt_text("reason", what)?,
        });
    }
    let documents = ex
        .fetch_all(
            "SELECT title FROM signing_documents WHERE job_id = $1 ORDER BY position",
            &[Val::Uuid(id.as_uuid())],
        )
        .await?
        .iter()
        .map(|row| row.text("title", "signing_documents.title"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some((
        agency_of(&job)?,
        SigningJobStatus {
            id,
            agency_job_id: AgencyJobId::parse(job.str("agency_job_id", what)?)
                .map_err(|_| StoreError::Corrupt { what })?,
            state: job_state(&job)?,
            created_at: job.time("created_at", what)?,
            opens_at: job.time("opens_at", what)?,
            deadline: job.time("deadline", what)?,
            ended_at: job.opt_time("ended_at", what)?,
            signers,
            documents,
            replayed: false,
        },
    )))
}
