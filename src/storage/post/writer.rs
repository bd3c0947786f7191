//! Group commit for SQLite: deliveries and agency token ids (`jti`) are written by one task
//! that commits whatever is queued in one transaction, and answers each caller only after
//! that commit.
//!
//! Why: SQLite has one writer. With every call in its own transaction, each call pays one
//! `fsync` of the WAL (`synchronous = FULL`) and a delivery call two (its `jti`, its letter);
//! and writers on different connections do not queue for the lock, they sleep in SQLite's
//! busy handler (1, 2, 5, 10 … 100 ms) and retry, so the lock stands idle while they sleep.
//! Here the writes queue in a channel instead, and a batch of N calls costs one `BEGIN
//! IMMEDIATE` and one `fsync`.
//!
//! What stays as it was:
//! - durable before the answer: a caller's future resolves after the batch's `COMMIT`
//!   returned (`synchronous = FULL`), never before;
//! - each call is its own unit: it runs inside a `SAVEPOINT`; a call that fails is rolled back
//!   to its savepoint (nothing of it stays) and gets its error, the others go on. If the
//!   `COMMIT` itself fails, every call of the batch gets an error and none was stored;
//! - idempotency: a retry of a message id finds the first delivery's row, also when both are in
//!   the same batch (the second runs after the first's savepoint, in the same transaction)
//!   and answers `replayed` only once that row is committed;
//! - a `jti` seen before is refused: the insert finds the key (within the batch too).
//!
//! The batch's connection comes from the database's one-connection write pool, which every
//! other SQLite write transaction (`Database::begin_tx`) takes in turn, so writers wait in a
//! queue rather than in the busy handler.

use sqlx::sqlite::SqlitePool;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

use super::super::{stored_instant, DatabaseCause, StoreError, Tx};
use super::sql::Val;
use super::{log_delivered, Delivery};
use crate::agency::AgencyId;
use crate::post::{DeliveryReceipt, PostError, ValidLetter};
use crate::storage::Database;

/// Calls committed together at most.
const MAX_BATCH: usize = 256;
/// Calls waiting at most; a caller beyond waits for room (back-pressure).
const QUEUE: usize = 4_096;

/// The handle: send a call, await its answer.
#[derive(Clone)]
pub(in crate::storage) struct GroupWriter {
    jobs: mpsc::Sender<Job>,
}

enum Job {
    Token {
        agency: AgencyId,
        jti: String,
        expires_at: OffsetDateTime,
        reply: oneshot::Sender<Result<bool, StoreError>>,
    },
    Deliver {
        agency: AgencyId,
        letter: Box<ValidLetter>,
        now: OffsetDateTime,
        force_mailbox: bool,
        span: tracing::Span,
        reply: oneshot::Sender<Result<DeliveryReceipt, PostError>>,
    },
}

/// A call done inside the transaction, waiting for the commit to be answered.
enum Done {
    Token(
        oneshot::Sender<Result<bool, StoreError>>,
        Result<bool, StoreError>,
    ),
    Deliver(
        oneshot::Sender<Result<DeliveryReceipt, PostError>>,
        Result<(DeliveryReceipt, Option<usize>), PostError>,
        tracing::Span,
    ),
}

/// The error every call of a batch gets when the batch could not be committed (the cause
/// itself is logged once).
fn batch_failed() -> StoreError {
    StoreError::Database(DatabaseCause::Sqlx(sqlx::Error::Protocol(
        "the group commit failed".into(),
    )))
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable(DatabaseCause::Sqlx(sqlx::Error::PoolClosed))
}

impl GroupWriter {
    /// Starts the writer task on `write` (a one-connection pool). The task ends when the last
    /// handle is dropped.
    pub(in crate::storage) fn start(write: SqlitePool) -> GroupWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        tokio::spawn(run(write, queue));
        GroupWriter { jobs }
    }

    /// Records a token id; `false` if this agency used it before.
    pub(in crate::storage) async fn remember_token(
        &self,
        agency: &AgencyId,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Token {
            agency: agency.clone(),
            jti: jti.to_owned(),
            expires_at,
            reply,
        };
        self.jobs.send(job).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }

    /// Delivers a checked letter (as `Database::deliver_valid`).
    pub(in crate::storage) async fn deliver(
        &self,
        agency: &AgencyId,
        letter: ValidLetter,
        now: OffsetDateTime,
        force_mailbox: bool,
    ) -> Result<DeliveryReceipt, PostError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Deliver {
            agency: agency.clone(),
            letter: Box::new(letter),
            now,
            force_mailbox,
            span: tracing::Span::current(),
            reply,
        };
        self.jobs.send(job).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

async fn run(write: SqlitePool, mut queue: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&write, std::mem::take(&mut batch)).await;
    }
}

/// Runs `sql` (a savepoint statement) on the transaction.
async fn control(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
    tx.ex().execute(sql, &[]).await.map(drop)
}

async fn commit_batch(write: &SqlitePool, jobs: Vec<Job>) {
    let mut tx = match write.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => Tx::Sqlite(tx),
        Err(error) => {
            tracing::error!(%error, "group commit: could not begin");
            fail_all(Vec::new(), jobs);
            return;
        }
    };
    let mut done = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(error) = control(&mut tx, "SAVEPOINT call").await {
            tracing::error!(%error, "group commit: savepoint failed");
            fail_all(done, std::iter::once(job).chain(jobs).collect());
            return;
        }
        let (ok, finished) = match job {
            Job::Token {
                agency,
                jti,
                expires_at,
                reply,
            } => {
                let result = insert_token(&mut tx, &agency, &jti, expires_at).await;
                (result.is_ok(), Done::Token(reply, result))
            }
            Job::Deliver {
                agency,
                letter,
                now,
                force_mailbox,
                span,
                reply,
            } => {
                let result = deliver(&mut tx, &agency, *letter, now, force_mailbox)
                    .instrument(span.clone())
                    .await;
                (result.is_ok(), Done::Deliver(reply, result, span))
            }
        };
        let closed = if ok {
            control(&mut tx, "RELEASE call").await
        } else {
            match control(&mut tx, "ROLLBACK TO call").await {
                Ok(()) => control(&mut tx, "RELEASE call").await,
                Err(error) => Err(error),
            }
        };
        done.push(finished);
        if let Err(error) = closed {
            tracing::error!(%error, "group commit: releasing a savepoint failed");
            fail_all(done, jobs.collect());
            return;
        }
    }
    if let Err(error) = tx.commit().await {
        tracing::error!(%error, "group commit: COMMIT failed; no call of the batch was stored");
        fail_all(done, Vec::new());
        return;
    }
    for finished in done {
        match finished {
            Done::Token(reply, result) => {
                let _ = reply.send(result);
            }
            Done::Deliver(reply, result, span) => {
                let result = result.map(|(receipt, attachments)| {
                    if let Some(attachments) = attachments {
                        span.in_scope(|| log_delivered(&receipt, attachments));
                    }
                    receipt
                });
                let _ = reply.send(result);
            }
        }
    }
}

/// Answers every call with an error: those done (rolled back with the transaction) and those
/// not started.
fn fail_all(done: Vec<Done>, waiting: Vec<Job>) {
    for finished in done {
        match finished {
            Done::Token(reply, _) => {
                let _ = reply.send(Err(batch_failed()));
            }
            Done::Deliver(reply, _, _) => {
                let _ = reply.send(Err(PostError::Store(batch_failed())));
            }
        }
    }
    for job in waiting {
        match job {
            Job::Token { reply, .. } => {
                let _ = reply.send(Err(batch_failed()));
            }
            Job::Deliver { reply, .. } => {
                let _ = reply.send(Err(PostError::Store(batch_failed())));
            }
        }
    }
}

async fn insert_token(
    tx: &mut Tx,
    agency: &AgencyId,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let inserted = tx
        .ex()
        .execute(
            "INSERT INTO agency_token_ids (agency_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (agency_id, jti) DO NOTHING",
            &[
                Val::Text(agency.as_str()),
                Val::Text(jti),
                Val::Time(stored_instant(expires_at)),
            ],
        )
        .await?;
    Ok(inserted == 1)
}

/// One delivery in the batch: the receipt, and for a new letter the number of attachments
/// (for the log line written after the commit).
async fn deliver(
    tx: &mut Tx,
    agency: &AgencyId,
    letter: ValidLetter,
    now: OffsetDateTime,
    force_mailbox: bool,
) -> Result<(DeliveryReceipt, Option<usize>), PostError> {
    match Database::deliver_in(tx, agency, letter, now, force_mailbox).await? {
        Delivery::New(receipt, attachments) => Ok((receipt, Some(attachments))),
        Delivery::Replayed(receipt) => Ok((receipt, None)),
        // The insert found the key although the look-up before it did not: impossible with
        // the write lock held, but answer from the row rather than fail.
        Delivery::Raced(message_id) => {
            let first = Database::existing_delivery(&mut tx.ex(), agency, &message_id)
                .await?
                .ok_or(StoreError::Corrupt {
                    what: "letters.agency_message_id",
                })?;
            Ok((first, None))
        }
    }
}
