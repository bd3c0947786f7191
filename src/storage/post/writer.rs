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
//! How a batch is written: first all of it at once (`batched`, inside `SAVEPOINT batch`):
//! one query for every (agency, message id) of the batch already delivered, one for every
//! recipient's contact entry, then the decisions for each delivery in call order by
//! `plan_delivery` (the same function PostgreSQL's one-at-a-time path uses), then each
//! table's rows for the whole batch in one multi-row statement (`batch.rs`): token ids,
//! letters, search entries, attachments, forwarding and print queue, receipts, audit events,
//! messages, their links. About a dozen statements per batch instead of about fifteen per
//! call, and each statement is a round trip to sqlx's SQLite worker thread on the one
//! writer's critical path. If anything in it fails, the batch is rolled back to its
//! savepoint and its calls run one at a time (`one_by_one`, each in its own `SAVEPOINT`,
//! as before), so that a call that fails by itself fails alone.
//!
//! What stays as it was:
//! - durable before the answer: a caller's future resolves after the batch's `COMMIT`
//!   returned (`synchronous = FULL`), never before;
//! - each call is its own unit: a call that fails is rolled back (nothing of it stays) and
//!   gets its error, the others go on: in the batch path nothing can fail for one call alone
//!   (any error undoes the whole batch, which then runs one call at a time, each in its own
//!   savepoint). If the `COMMIT` itself fails, every call of the batch gets an error and none
//!   was stored;
//! - idempotency: a retry of a message id delivered before gets the first delivery's receipt,
//!   `replayed`; within one batch the first call with a message id is the delivery and the
//!   later ones answer its receipt, `replayed`, all only once that row is committed;
//! - a `jti` seen before is refused: the insert finds the key; within one batch the first
//!   call with an (agency, jti) inserts it and the later ones are refused.
//!
//! The batch's connection comes from the database's one-connection write pool, which every
//! other SQLite write transaction (`Database::begin_tx`) takes in turn, so writers wait in a
//! queue rather than in the busy handler.
//!
//! **Checkpoints off the writer's path.** SQLite copies the write-ahead log back into the
//! database file (a checkpoint) in whichever connection commits when the log is over 1,000
//! pages: with deliveries coming in, that was the writer, every few batches, reading back and
//! writing out thousands of pages and `fsync`ing the database file while every caller waited.
//! The write pool's connection therefore runs with `wal_autocheckpoint = 0`, and a task beside
//! the writer ([`checkpoints`]) runs `PRAGMA wal_checkpoint(PASSIVE)` twice a second on the
//! database's other pool: a passive checkpoint copies what no reader still needs and waits for
//! nobody, and the writer goes on appending meanwhile (measured: 1,778 → 2,409 small
//! letters/s, docs/benchmarks.md). Durability is the log's: a commit is answered after its
//! frames are `fsync`ed, whether or not they were copied back yet. Every SQLite write
//! transaction takes the write pool's connection (`Database::begin_tx`), so this task is what
//! keeps the log short; a checkpoint that fails is logged and tried again at the next round.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use sqlx::sqlite::SqlitePool;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tracing::Instrument as _;

use super::super::sql::{Ex, Val};
use super::super::{stored_instant, DatabaseCause, StoreError, Tx};
use super::write::Planned;
use super::{batch, log_delivered, plan_corrupt, Delivery};
use crate::agency::AgencyId;
use crate::post::plan::{plan_delivery, Decision};
use crate::post::{DeliveryReceipt, PostError, ValidLetter};
use crate::storage::Database;

/// Calls committed together at most.
const MAX_BATCH: usize = 256;
/// Calls waiting at most; a caller beyond waits for room (back-pressure).
const QUEUE: usize = 4_096;
/// How often the log is checkpointed (see the module's documentation).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// The handle: send a call, await its answer.
#[derive(Clone)]
pub(in crate::storage) struct GroupWriter {
    jobs: mpsc::Sender<Job>,
    counters: Arc<Counters>,
}

/// What the group writer did since it started ([`Database::group_commit_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupCommitStats {
    /// Batches taken (one transaction each).
    pub batches: u64,
    /// Calls taken: token ids and deliveries.
    pub calls: u64,
    /// Batches whose multi-row statements failed, so that their calls ran one at a time.
    pub one_by_one: u64,
    /// Checkpoints the checkpoint task ran on a log that held frames.
    pub checkpoints: u64,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    calls: AtomicU64,
    one_by_one: AtomicU64,
    checkpoints: AtomicU64,
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
        /// The contact staleness limit for its notifications.
        staleness: time::Duration,
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
    /// Starts the writer task on `write` (a one-connection pool whose connection does not
    /// checkpoint by itself), and the checkpoint task on `others` (the database's other pool).
    /// Both end when the last handle is dropped.
    pub(in crate::storage) fn start(write: SqlitePool, others: SqlitePool) -> GroupWriter {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        tokio::spawn(run(write, queue, Arc::clone(&counters)));
        tokio::spawn(checkpoints(others, jobs.downgrade(), Arc::clone(&counters)));
        GroupWriter { jobs, counters }
    }

    pub(in crate::storage) fn stats(&self) -> GroupCommitStats {
        GroupCommitStats {
            batches: self.counters.batches.load(Ordering::Relaxed),
            calls: self.counters.calls.load(Ordering::Relaxed),
            one_by_one: self.counters.one_by_one.load(Ordering::Relaxed),
            checkpoints: self.counters.checkpoints.load(Ordering::Relaxed),
        }
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
        staleness: time::Duration,
    ) -> Result<DeliveryReceipt, PostError> {
        let (reply, answer) = oneshot::channel();
        let job = Job::Deliver {
            agency: agency.clone(),
            letter: Box::new(letter),
            now,
            force_mailbox,
            staleness,
            span: tracing::Span::current(),
            reply,
        };
        self.jobs.send(job).await.map_err(|_| writer_gone())?;
        answer.await.map_err(|_| writer_gone())?
    }
}

async fn run(write: SqlitePool, mut queue: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        counters.batches.fetch_add(1, Ordering::Relaxed);
        counters.calls.fetch_add(
            u64::try_from(batch.len()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        commit_batch(&write, std::mem::take(&mut batch), &counters).await;
    }
}

/// Copies the log back into the database file every [`CHECKPOINT_EVERY`], on `pool`, until
/// the writer's last handle is gone.
async fn checkpoints(pool: SqlitePool, writer: mpsc::WeakSender<Job>, counters: Arc<Counters>) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if writer.upgrade().is_none() || pool.is_closed() {
            return;
        }
        // (busy, frames in the log, frames checkpointed): all three -1 outside WAL mode.
        let result: Result<(i64, i64, i64), _> = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&pool)
            .await;
        match result {
            Ok((_, frames, _)) if frames > 0 => {
                counters.checkpoints.fetch_add(1, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "checkpoint of the write-ahead log failed"),
        }
    }
}

/// Runs `sql` (a savepoint statement) on the transaction.
async fn control(tx: &mut Tx, sql: &str) -> Result<(), StoreError> {
    tx.ex().execute(sql, &[]).await.map(drop)
}

async fn commit_batch(write: &SqlitePool, jobs: Vec<Job>, counters: &Counters) {
    let mut tx = match write.begin_with("BEGIN IMMEDIATE").await {
        Ok(tx) => Tx::Sqlite(tx),
        Err(error) => {
            tracing::error!(%error, "group commit: could not begin");
            fail_all(Vec::new(), jobs);
            return;
        }
    };
    let done = match batched(&mut tx, &jobs).await {
        Ok(answers) => answered(jobs, answers),
        Err(Fallback::OneByOne(error)) => {
            // Nothing of the batch is left: each call again, alone, so that only a call that
            // fails by itself gets an error.
            tracing::warn!(%error, calls = jobs.len(), "group commit: the batch failed; one call at a time");
            counters.one_by_one.fetch_add(1, Ordering::Relaxed);
            let Some(done) = one_by_one(&mut tx, jobs).await else {
                return;
            };
            done
        }
        Err(Fallback::Broken(error)) => {
            tracing::error!(%error, "group commit: the batch failed and could not be undone");
            fail_all(Vec::new(), jobs);
            return;
        }
    };
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

/// What a call of a batch that went through [`batched`] answers.
enum Answer {
    Token(bool),
    /// The receipt, and for a new letter its number of attachments.
    Deliver(DeliveryReceipt, Option<usize>),
}

/// Pairs the calls with their answers from [`batched`] (one each, in order).
fn answered(jobs: Vec<Job>, answers: Vec<Answer>) -> Vec<Done> {
    jobs.into_iter()
        .zip(answers)
        .map(|(job, answer)| match (job, answer) {
            (Job::Token { reply, .. }, Answer::Token(new)) => Done::Token(reply, Ok(new)),
            (Job::Deliver { reply, span, .. }, Answer::Deliver(receipt, attachments)) => {
                Done::Deliver(reply, Ok((receipt, attachments)), span)
            }
            // `batched` answers each call in kind; never reached.
            (Job::Token { reply, .. }, _) => Done::Token(reply, Err(batch_failed())),
            (Job::Deliver { reply, span, .. }, _) => {
                Done::Deliver(reply, Err(PostError::Store(batch_failed())), span)
            }
        })
        .collect()
}

/// Why [`batched`] gave up.
enum Fallback {
    /// Rolled back to the batch's savepoint: nothing of it stays; run the calls one by one.
    OneByOne(StoreError),
    /// The transaction could not be brought back to before the batch: fail every call.
    Broken(StoreError),
}

/// The whole batch in a handful of statements, inside `SAVEPOINT batch`: the look-ups for all
/// its deliveries (one query for their message ids, one for their recipients), the decisions
/// ([`plan_delivery`], as for one call), then every table's rows in one multi-row statement.
/// All or nothing: on any error the savepoint is rolled back, so nothing of the batch stays.
async fn batched(tx: &mut Tx, jobs: &[Job]) -> Result<Vec<Answer>, Fallback> {
    control(tx, "SAVEPOINT batch")
        .await
        .map_err(Fallback::Broken)?;
    let result = match tx {
        Tx::Sqlite(conn) => batched_in(conn, jobs).await,
        Tx::Postgres(_) => Err(StoreError::Corrupt {
            what: "group writer on PostgreSQL",
        }),
    };
    let result = match result {
        Ok(answers) => control(tx, "RELEASE batch").await.map(|()| answers),
        Err(error) => Err(error),
    };
    match result {
        Ok(answers) => Ok(answers),
        Err(error) => match rollback_to(tx, "batch").await {
            Ok(()) => Err(Fallback::OneByOne(error)),
            Err(rollback) => {
                tracing::error!(error = %rollback, "group commit: rolling back the batch failed");
                Err(Fallback::Broken(error))
            }
        },
    }
}

async fn batched_in(
    conn: &mut sqlx::SqliteConnection,
    jobs: &[Job],
) -> Result<Vec<Answer>, StoreError> {
    let mut answers: Vec<Option<Answer>> = jobs.iter().map(|_| None).collect();

    // Token ids: the first call with an (agency, jti) may insert it; a later one in the same
    // batch is a replay of it.
    let mut first_token = HashMap::new();
    let mut tokens = Vec::new();
    for (index, job) in jobs.iter().enumerate() {
        if let Job::Token {
            agency,
            jti,
            expires_at,
            ..
        } = job
        {
            let key = (agency.as_str(), jti.as_str());
            if let Entry::Vacant(first) = first_token.entry(key) {
                first.insert(index);
                tokens.push((key.0, key.1, *expires_at));
            }
        }
    }
    let new_tokens = batch::insert_tokens(&mut Ex::Sqlite(conn), &tokens).await?;
    for (index, job) in jobs.iter().enumerate() {
        if let Job::Token { agency, jti, .. } = job {
            let key = (agency.as_str(), jti.as_str());
            let new = first_token.get(&key) == Some(&index)
                && new_tokens.contains(&(agency.as_str().to_owned(), jti.to_owned()));
            answers[index] = Some(Answer::Token(new));
        }
    }

    // Deliveries: look up every message id and every recipient of the batch at once.
    let deliveries: Vec<_> = jobs
        .iter()
        .enumerate()
        .filter_map(|(index, job)| match job {
            Job::Deliver {
                agency,
                letter,
                now,
                force_mailbox,
                staleness,
                span,
                ..
            } => Some((
                index,
                agency,
                &**letter,
                *now,
                *force_mailbox,
                *staleness,
                span,
            )),
            Job::Token { .. } => None,
        })
        .collect();
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for (_, agency, letter, ..) in &deliveries {
        let key = (agency.as_str(), letter.message_id.as_str());
        if seen.insert(key) {
            keys.push(key);
        }
    }
    let existing = batch::existing_deliveries(&mut Ex::Sqlite(conn), &keys).await?;
    let mut national_ids = Vec::new();
    let mut seen = HashSet::new();
    for (_, agency, letter, ..) in &deliveries {
        let key = (
            agency.as_str().to_owned(),
            letter.message_id.as_str().to_owned(),
        );
        if !existing.contains_key(&key) && seen.insert(letter.recipient.expose()) {
            national_ids.push(letter.recipient.expose());
        }
    }
    let recipients = batch::recipients(&mut Ex::Sqlite(conn), &national_ids).await?;

    // Decide each in call order; a message id already planned in this batch answers the
    // first's receipt, `replayed` (sent only after the commit, like every answer).
    let mut planned: Vec<Planned<'_>> = Vec::new();
    let mut first_delivery: HashMap<(&str, &str), usize> = HashMap::new();
    for (index, agency, letter, now, force_mailbox, staleness, span) in deliveries {
        let key = (agency.as_str(), letter.message_id.as_str());
        if let Some(&first) = first_delivery.get(&key) {
            let mut receipt = planned[first].plan.receipt(letter.message_id.clone());
            receipt.replayed = true;
            span.in_scope(|| tracing::info!("delivery retried: first receipt returned"));
            answers[index] = Some(Answer::Deliver(receipt, None));
            continue;
        }
        let found = existing
            .get(&(key.0.to_owned(), key.1.to_owned()))
            .map(|found| DeliveryReceipt {
                letter: found.letter,
                message_id: letter.message_id.clone(),
                status: found.status,
                delivered_at: found.delivered_at,
                replayed: true,
            });
        let recipient = recipients.get(letter.recipient.expose());
        match plan_delivery(
            agency,
            letter,
            found,
            recipient,
            now,
            force_mailbox,
            staleness,
        )
        .map_err(plan_corrupt)?
        {
            Decision::Replay(first) => {
                span.in_scope(|| tracing::info!("delivery retried: first receipt returned"));
                answers[index] = Some(Answer::Deliver(first, None));
            }
            Decision::New(plan) => {
                let receipt = plan.receipt(letter.message_id.clone());
                answers[index] = Some(Answer::Deliver(receipt, Some(letter.attachments.len())));
                first_delivery.insert(key, planned.len());
                planned.push(Planned {
                    agency,
                    letter,
                    plan: *plan,
                });
            }
        }
    }
    batch::write_deliveries(&mut Ex::Sqlite(conn), &planned).await?;
    answers
        .into_iter()
        .map(|answer| {
            answer.ok_or(StoreError::Corrupt {
                what: "group commit",
            })
        })
        .collect()
}

/// Rolls the transaction back to `savepoint` and ends the savepoint.
async fn rollback_to(tx: &mut Tx, savepoint: &str) -> Result<(), StoreError> {
    control(tx, &format!("ROLLBACK TO {savepoint}")).await?;
    control(tx, &format!("RELEASE {savepoint}")).await
}

/// The calls one at a time, each inside its own `SAVEPOINT`: a call that fails is rolled back
/// alone and gets its error. `None` when the transaction broke (every call has been answered
/// with an error then).
async fn one_by_one(tx: &mut Tx, jobs: Vec<Job>) -> Option<Vec<Done>> {
    let mut done = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(error) = control(tx, "SAVEPOINT call").await {
            tracing::error!(%error, "group commit: savepoint failed");
            fail_all(done, std::iter::once(job).chain(jobs).collect());
            return None;
        }
        let (ok, finished) = match job {
            Job::Token {
                agency,
                jti,
                expires_at,
                reply,
            } => {
                let result = insert_token(tx, &agency, &jti, expires_at).await;
                (result.is_ok(), Done::Token(reply, result))
            }
            Job::Deliver {
                agency,
                letter,
                now,
                force_mailbox,
                staleness,
                span,
                reply,
            } => {
                let result = deliver(tx, &agency, *letter, now, force_mailbox, staleness)
                    .instrument(span.clone())
                    .await;
                (result.is_ok(), Done::Deliver(reply, result, span))
            }
        };
        let closed = if ok {
            control(tx, "RELEASE call").await
        } else {
            rollback_to(tx, "call").await
        };
        done.push(finished);
        if let Err(error) = closed {
            tracing::error!(%error, "group commit: releasing a savepoint failed");
            fail_all(done, jobs.collect());
            return None;
        }
    }
    Some(done)
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
    staleness: time::Duration,
) -> Result<(DeliveryReceipt, Option<usize>), PostError> {
    match Database::deliver_in(tx, agency, letter, now, force_mailbox, staleness).await? {
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
