//! Synthetic volume for benchmarks: persons with contact entries and millions of letters,
//! written through the same schema (the migrations) as the portal's own writes, so that the
//! server runs on the result unchanged (`borgerportal generate-data`, docs/benchmarks.md).
//!
//! What it writes, per person: a `persons` row (a synthetic Norwegian fødselsnummer, with
//! the month plus 80, or a Danish CPR number, made and checked by [`NationalId`]), and
//! usually a `contact_info` row (active, a few reserved or deleted, e-mail and mobile of
//! varying age). Per letter: the `letters` row as
//! [`Database::deliver_letter`](crate::Database::deliver_letter) writes it (digital for active,
//! unreserved persons; paper with a print-queue row otherwise), its search entry (SQLite's
//! `letters_fts` with the same owner token, sender, title and search text as a delivery;
//! PostgreSQL's `search` vector), its attachment (about one letter in twelve has a small
//! PDF), and its receipt. Not written: audit events and notifications (the mailbox never
//! reads them).
//!
//! The content is real: every letter's title, body, sanitized HTML and search text come from a
//! pool of letters passed through [`NewLetter::validate`], as a delivery's are. Letters are
//! spread over five years in delivery order (so one person's letters lie scattered through
//! the table, as they would), with shown times in the past, most older letters read, a fifth
//! of the read ones archived, a few in the trash, one in twenty needing `high`.
//!
//! Named persons come first: Norwegian, active, not reserved, with exactly the asked number
//! of letters, all in the inbox (none archived or trashed, about one in ten unread), for the
//! inbox benchmark at 10, 1,000 and 10,000 letters.
//!
//! Speed: one connection taken out of the pool and closed afterwards (so its settings never
//! reach the pool), multi-row inserts (64 rows a statement), 50,000 letters per transaction;
//! on SQLite `synchronous = OFF` and a 1 GiB page cache on that connection while generating
//! (a benchmark's file: a crash means generating again), on PostgreSQL
//! `synchronous_commit = off` for the session and `ANALYZE` at the end. On PostgreSQL the
//! search vector is computed in the insert exactly as a delivery computes it.

mod letters;
mod persons;

use letters::{content_pool, letter_row, spread_letters, write_letters, LetterInput};
use persons::{make_persons, write_persons};

use std::collections::HashSet;
use std::time::{Duration as StdDuration, Instant};

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteConnection;
use sqlx::Connection as _;
use time::{Duration, OffsetDateTime};

use super::sql::{Ex, Val};
use super::{stored_instant, Database, Pool, StoreError};
use crate::identity::{Country, NationalId};
use crate::person::{Language, PersonId};
use crate::post::{BodyKind, PostError};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GeneratePlan {
    /// Persons in all, named ones included.
    pub persons: u32,
    /// Letters in all, the named persons' included.
    pub letters: u64,
    /// One named person per entry, with exactly that many letters (in the inbox).
    pub named: Vec<u32>,
    /// The random generator's seed: the same plan and seed give the same content.
    pub seed: u64,
    /// "Now": every letter is shown before it.
    pub now: OffsetDateTime,
}

/// A named person: who, and how many letters they got.
#[derive(Debug, Clone)]
pub struct NamedPerson {
    /// The person's national id (synthetic).
    pub national_id: NationalId,
    /// The person's id in the register.
    pub person: PersonId,
    /// How many letters (all in the inbox).
    pub letters: u32,
    /// How many of them are unread.
    pub unread: u32,
}

/// What was written.
#[derive(Debug, Clone)]
pub struct GenerateReport {
    /// Persons added.
    pub persons: u64,
    /// Letters added (digital and paper).
    pub letters: u64,
    /// Of which on paper (print queue).
    pub paper: u64,
    /// Attachments added.
    pub attachments: u64,
    /// The named persons, in the plan's order.
    pub named: Vec<NamedPerson>,
    /// Up to 1,000 other persons who get digital post (for a delivery benchmark's
    /// recipients), spread over the register.
    pub sample: Vec<NationalId>,
    /// How long it took.
    pub elapsed: StdDuration,
}

/// Why generating failed.
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The plan cannot be met.
    #[error("impossible plan: {0}")]
    Plan(&'static str),
    /// A letter of the content pool was refused (a bug in the pool).
    #[error("a generated letter was refused: {0}")]
    Letter(#[from] PostError),
    /// The database refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Letters per transaction.
const LETTERS_PER_TRANSACTION: usize = 50_000;
/// Rows per multi-row `INSERT`.
const ROWS_PER_INSERT: usize = 64;
/// How far back delivery times go.
const HISTORY_DAYS: i64 = 5 * 365;

impl Database {
    /// Fills the database as the plan says (see the module docs); `progress` is called after
    /// each transaction with the letters written so far.
    pub async fn generate_data(
        &self,
        plan: &GeneratePlan,
        mut progress: impl FnMut(u64),
    ) -> Result<GenerateReport, GenerateError> {
        let started = Instant::now();
        let named_total: u64 = plan.named.iter().map(|n| u64::from(*n)).sum();
        if named_total > plan.letters {
            return Err(GenerateError::Plan(
                "the named persons' letters exceed the total",
            ));
        }
        if u64::from(plan.persons) <= plan.named.len() as u64 {
            return Err(GenerateError::Plan(
                "there must be more persons than named ones",
            ));
        }
        let mut conn = match &self.pool {
            Pool::Sqlite(pool) => Sink::Sqlite(
                pool.acquire()
                    .await
                    .map_err(StoreError::from_query)?
                    .detach(),
            ),
            Pool::Postgres(pool) => Sink::Postgres(
                pool.acquire()
                    .await
                    .map_err(StoreError::from_query)?
                    .detach(),
            ),
        };
        let result = generate_on(&mut conn, plan, &mut progress).await;
        let closed = conn.close().await;
        let mut report = result?;
        closed?;
        report.elapsed = started.elapsed();
        Ok(report)
    }
}

/// A person as generated.
struct GenPerson {
    id: PersonId,
    national_id: NationalId,
    given_name: &'static str,
    family_name: &'static str,
    language: Language,
    /// Digital post (active, not reserved): else paper.
    digital: bool,
    /// The search owner token (`p` + the id's hex).
    owner: String,
    id_text: String,
}

/// One letter's content, validated once and used for many letters.
struct Content {
    agency: &'static str,
    sender: String,
    title: String,
    safe_title: String,
    body_kind: BodyKind,
    body: String,
    body_html: String,
    search_text: String,
    pdf: Option<(String, Vec<u8>, [u8; 32])>,
    high: bool,
    decision: bool,
}

/// The generator's own connection, taken out of the pool (closed afterwards, so that its
/// settings never reach the pool).
enum Sink {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Sink {
    fn is_sqlite(&self) -> bool {
        matches!(self, Sink::Sqlite(_))
    }

    fn ex(&mut self) -> Ex<'_> {
        match self {
            Sink::Sqlite(conn) => Ex::Sqlite(conn),
            Sink::Postgres(conn) => Ex::Postgres(conn),
        }
    }

    async fn exec(&mut self, sql: &str) -> Result<(), StoreError> {
        self.ex().execute(sql, &[]).await.map(drop)
    }

    /// The one text column of every row of `sql`.
    async fn texts(&mut self, sql: &str) -> Result<Vec<String>, StoreError> {
        self.ex()
            .fetch_all(sql, &[])
            .await?
            .iter()
            .map(|row| row.text("value", "a generated value"))
            .collect()
    }

    /// A multi-row `INSERT`: `head`, then `VALUES` with one group per row from `row` (the
    /// backend's template, `{k}` for the row's k-th value; ids and times are bound as text
    /// and cast on PostgreSQL), the rows' values in order.
    async fn insert(
        &mut self,
        head: &str,
        row: &str,
        rows: usize,
        values: &[Val<'_>],
    ) -> Result<(), StoreError> {
        if rows == 0 {
            return Ok(());
        }
        let per_row = values.len() / rows;
        let rows: Vec<Vec<Val<'_>>> = values.chunks(per_row).map(<[Val<'_>]>::to_vec).collect();
        self.ex()
            .insert_rows_returning(head, row, &rows, "")
            .await
            .map(drop)
    }

    async fn close(self) -> Result<(), StoreError> {
        match self {
            Sink::Sqlite(conn) => conn.close().await,
            Sink::Postgres(conn) => conn.close().await,
        }
        .map_err(StoreError::from_query)
    }
}

async fn generate_on(
    conn: &mut Sink,
    plan: &GeneratePlan,
    progress: &mut impl FnMut(u64),
) -> Result<GenerateReport, GenerateError> {
    if conn.is_sqlite() {
        conn.exec("PRAGMA synchronous = OFF").await?;
        conn.exec("PRAGMA cache_size = -1048576").await?;
        conn.exec("PRAGMA temp_store = MEMORY").await?;
    } else {
        conn.exec("SET synchronous_commit = off").await?;
    }
    let mut rng = StdRng::seed_from_u64(plan.seed);
    let now = stored_instant(plan.now);

    // Taken: the register's numbers, and the demo persons' (seeded at a later start).
    let mut taken: HashSet<String> = conn
        .texts("SELECT national_id AS value FROM persons")
        .await?
        .into_iter()
        .collect();
    taken.extend(
        crate::demo::demo_persons()
            .into_iter()
            .map(|person| person.national_id.expose().to_owned()),
    );
    let mut persons = make_persons(&mut rng, plan, taken)?;
    write_persons(conn, &mut rng, &mut persons, plan.named.len(), now).await?;

    let pools = [
        content_pool(&mut rng, Country::Norway, &persons[0].national_id, now)?,
        content_pool(&mut rng, Country::Denmark, &persons[0].national_id, now)?,
    ];
    let recipients = spread_letters(&mut rng, plan, persons.len());
    let mut report = GenerateReport {
        persons: persons.len() as u64,
        letters: 0,
        paper: 0,
        attachments: 0,
        named: Vec::new(),
        sample: Vec::new(),
        elapsed: StdDuration::ZERO,
    };
    let others = &persons[plan.named.len()..];
    let step = (others.len() / 1_000).max(1);
    report.sample = others
        .iter()
        .step_by(step)
        .filter(|person| person.digital)
        .take(1_000)
        .map(|person| person.national_id.clone())
        .collect();
    let mut named_unread = vec![0u32; plan.named.len()];
    let first_doc: i64 = if conn.is_sqlite() {
        conn.texts("SELECT CAST(COALESCE(MAX(doc), 0) AS TEXT) AS value FROM letters")
            .await?
            .first()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    } else {
        0 // no doc numbers on PostgreSQL
    };
    let start = now - Duration::days(HISTORY_DAYS);
    let span = (now - Duration::hours(1) - start).whole_microseconds();
    let total = recipients.len().max(1) as i128;
    for (chunk_index, chunk) in recipients.chunks(LETTERS_PER_TRANSACTION).enumerate() {
        let base = chunk_index * LETTERS_PER_TRANSACTION;
        let mut rows = Vec::with_capacity(chunk.len());
        for (offset, &recipient) in chunk.iter().enumerate() {
            let position = base + offset;
            let person = &persons[recipient as usize];
            let named = (recipient as usize) < plan.named.len();
            let at_micros = span * position as i128 / total;
            let delivered_at = start
                + Duration::microseconds(i64::try_from(at_micros).unwrap_or(0))
                + Duration::microseconds(rng.gen_range(0..1_000_000));
            let delivered_at = stored_instant(delivered_at.min(now - Duration::minutes(30)));
            let country = person.national_id.country();
            let pool = match country {
                Country::Norway => &pools[0],
                Country::Denmark => &pools[1],
            };
            let content = &pool[rng.gen_range(0..pool.len())];
            let row = letter_row(
                &mut rng,
                LetterInput {
                    doc: first_doc + 1 + position as i64,
                    person,
                    content,
                    delivered_at,
                    now,
                    named,
                },
            );
            if named && row.unread {
                if let Some(count) = named_unread.get_mut(recipient as usize) {
                    *count += 1;
                }
            }
            rows.push(row);
        }
        conn.exec("BEGIN").await?;
        let written = write_letters(conn, &rows).await?;
        conn.exec("COMMIT").await?;
        report.letters += rows.len() as u64;
        report.paper += written.paper;
        report.attachments += written.attachments;
        progress(report.letters);
    }
    if conn.is_sqlite() {
        conn.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    } else {
        conn.exec("ANALYZE").await?;
    }
    report.named = plan
        .named
        .iter()
        .zip(&persons)
        .zip(named_unread)
        .map(|((letters, person), unread)| NamedPerson {
            national_id: person.national_id.clone(),
            person: person.id,
            letters: *letters,
            unread,
        })
        .collect();
    Ok(report)
}
