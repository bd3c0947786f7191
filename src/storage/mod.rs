//! Storage: one interface, two databases.
//!
//! SQLite is the embedded default (a fresh clone runs with no server); PostgreSQL is the
//! production store that many portal instances share. [`Database`] is the handle to either.
//! Every register reaches both through one query layer (`sql/`): one SQL text per statement,
//! values bound in each database's encoding, rows read by the same getters; where the SQL
//! really differs (row locks, arrays, full-text search) the statement is a named `Dialect`
//! with both texts side by side. Callers see one API and the shared test suite
//! (`tests/storage.rs`) runs it against both:
//!
//! - `person.rs`: the person register, who the portal knows.
//! - `session.rs`: logged-in sessions (by the hash of their cookie), pending logins (OIDC
//!   `state`), the token ids already seen (logout tokens, agency API tokens: replay
//!   protection on every instance), and the login callback's unit of work.
//! - `audit.rs`: each person's activity log, read through an
//!   [`Access`](crate::access::Access) proof.
//! - `contact/`: contact information, reservation, mailbox and language (KRR), with codes to
//!   verify new addresses; every change is audited in the same transaction.
//! - `post/`: digital post: delivery by agencies (with receipts and a print queue) and the
//!   citizen's mailbox (folders, trash, search).
//! - `outbox/`: e-mails and SMS queued durably (often in the same transaction as the change
//!   they are about) and claimed by workers with a lease.
//! - `delegation.rs`: delegations (grant, request, approve, decline, revoke, change), their
//!   scopes and history; each change audited in the giver's and the holder's logs in its
//!   transaction, state changes as conditional updates so racing ones leave one state.
//! - `delegation_notices.rs`: what the giver and the holder are told about a change, queued
//!   in its transaction, and the job that tells both when a delegation ends within 14 days.
//! - `guardian.rs`: guardianships of minors, imported from the population register's extract.
//! - `authority.rs`: the facts the access policy decides over, read for one (holder, giver)
//!   pair in one query on every request (`Database::decide_access`), and the persons a
//!   holder can act for.
//!
//! Time: operations that decide by time (expiry) take `now` from the caller, so that tests and
//! background jobs can say what "now" is; rows the store creates get the clock's time. All
//! times are kept in UTC to the microsecond (PostgreSQL keeps no more), so a value read back
//! equals the value written.
//!
//! Queries are checked at run time (`sqlx::query` with `bind`), not by the compile-time macros,
//! so building needs no database. They name their columns; the column types differ by database
//! (see `migrations/README.md`), which the query layer's bindings and getters absorb. On
//! SQLite, the short reads every logged-in page makes (session, person, mailbox page, unread
//! count, activity page, contact entry) run on synchronous reader connections (`readers.rs`)
//! instead of sqlx's, through the same SQL and the same layer; on PostgreSQL the same reads
//! run on a few connections that all requests share, their statements pipelined
//! (`pg_readers.rs`).
//!
//! Operations that read, decide and write (a contact change with its audit event and its
//! message) run in one transaction (`Tx`): `BEGIN IMMEDIATE` on SQLite (the write lock is
//! taken at the start, so a read cannot go stale before the write), and row locks
//! (`FOR UPDATE`) on PostgreSQL. The decision is written once, in Rust, over the
//! transaction's statements.

mod acting;
mod audit;
mod authority;
mod contact;
mod delegation;
mod delegation_notices;
#[cfg(feature = "dev")]
mod generate;
mod guardian;
mod outbox;
mod person;
mod pg_readers;
mod post;
mod readers;
mod session;
mod signing;
mod sql;
mod staff;

use std::str::FromStr;
use std::time::Duration;

pub use crate::error::{Conflict, DatabaseCause, StoreError};

#[cfg(feature = "dev")]
pub use generate::{GenerateError, GeneratePlan, GenerateReport, NamedPerson};
pub use guardian::GuardianImport;
pub use outbox::MAX_CLAIM_BATCH;
pub use person::PersonPage;
pub use post::writer::GroupCommitStats;
pub use post::ReminderRun;
pub use signing::SealingDone;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub(crate) use crate::clock::{now_utc_micros, stored_instant};
use crate::contact::DEFAULT_STALENESS;
use sql::{Conn, Tx};

/// SQLite has one writer at a time whatever the pool size; a few connections let readers run
/// beside it. Sized for a small (2-core) machine.
const SQLITE_MAX_CONNECTIONS: u32 = 4;
/// PostgreSQL connections per portal instance. Many instances share one server, so keep this
/// modest; the server's `max_connections` must cover instances × this.
const POSTGRES_MAX_CONNECTIONS: u32 = 8;
/// How long a request waits for a free connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long SQLite waits for the write lock before giving up with "database is locked".
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// The most persons one page of [`Database::list_persons`](crate::Database::list_persons) returns.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The most events one page of [`Database::list_events`](crate::Database::list_events) returns: a screenful or two for a
/// person, not an export.
pub const MAX_AUDIT_PAGE_SIZE: u32 = 100;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database a [`Database`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// An SQLite file on this machine.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// `sqlite` or `postgres`, for logs and health output.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A handle to the portal's database: a connection pool. Cheap to clone; clones share the pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool,
    /// SQLite on a file: a pool of one connection that every write transaction takes in turn
    /// (so writers queue here instead of sleeping in SQLite's busy handler), and the group
    /// writer on it for deliveries and agency token ids (`post/writer.rs`). `None` on
    /// PostgreSQL and for an in-memory SQLite database (whose second connection would be
    /// another database).
    write: Option<SqlitePool>,
    writer: Option<post::writer::GroupWriter>,
    /// SQLite on a file: synchronous readers for the reads every logged-in page makes
    /// (`readers.rs`). `None` where `write` is.
    readers: Option<std::sync::Arc<readers::Readers>>,
    /// PostgreSQL: the shared read connections for the same reads (`pg_readers.rs`).
    pg_readers: Option<std::sync::Arc<pg_readers::PgReaders>>,
    /// The contact staleness limit for letters' notifications and reminders
    /// ([`Database::with_contact_staleness`]).
    contact_staleness: time::Duration,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Hand-written so that connection options (which hold the password) never reach a log.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Opens a pool to the database at `url`:
    /// `sqlite://path?mode=rwc`, `sqlite:path` (the file and its folder are created if
    /// missing) or `postgres://user@host:port/database`.
    ///
    /// SQLite runs with WAL (readers do not block the writer), foreign keys on, a busy timeout,
    /// and `synchronous=FULL`: an acknowledged letter or signature must survive a power cut.
    /// Connects eagerly, so a wrong URL or a missing server fails at start-up, not at the first
    /// request.
    pub async fn connect(url: &str) -> Result<Database, StoreError> {
        if url.starts_with("sqlite:") {
            Self::connect_sqlite(url).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url).await
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }

    async fn connect_sqlite(url: &str) -> Result<Database, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|error| StoreError::InvalidUrl(DatabaseCause::Sqlx(error)))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Full);
        let in_memory = create_parent_folder(&options)?;
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_MAX_CONNECTIONS)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            // sqlx pings a connection before lending it by default: a round trip to the
            // connection's worker thread for every query. A SQLite file has no network link
            // that could have dropped, and a broken connection fails the query anyway.
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(StoreError::from_query)?;
        let write = if in_memory {
            None
        } else {
            Some(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    // The group writer's connection leaves checkpoints to its checkpoint task
                    // (`post/writer.rs`), so that no caller waits for one.
                    .connect_with(options.clone().pragma("wal_autocheckpoint", "0"))
                    .await
                    .map_err(StoreError::from_query)?,
            )
        };
        let writer = write
            .clone()
            .map(|write| post::writer::GroupWriter::start(write, pool.clone()));
        let readers = if in_memory {
            None
        } else {
            Some(std::sync::Arc::new(readers::Readers::open(
                options.get_filename().to_owned(),
            )?))
        };
        Ok(Database {
            pool: Pool::Sqlite(pool),
            write,
            writer,
            readers,
            pg_readers: None,
            contact_staleness: DEFAULT_STALENESS,
        })
    }

    async fn connect_postgres(url: &str) -> Result<Database, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| StoreError::InvalidUrl(DatabaseCause::Sqlx(error)))?;
        let pool = PgPoolOptions::new()
            .max_connections(POSTGRES_MAX_CONNECTIONS)
            .min_connections(0)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(StoreError::from_query)?;
        let pg_readers = pg_readers::PgReaders::open(url).await?;
        Ok(Database {
            pool: Pool::Postgres(pool),
            write: None,
            writer: None,
            readers: None,
            pg_readers: Some(std::sync::Arc::new(pg_readers)),
            contact_staleness: DEFAULT_STALENESS,
        })
    }

    /// The same database with `staleness` as the limit after which contact information may
    /// not be used to notify a letter's recipient (delivery's `new_letter` messages and the
    /// unread reminders; the configuration's `[contact] staleness_days`, as for the agency
    /// look-up). [`DEFAULT_STALENESS`] until set.
    pub fn with_contact_staleness(mut self, staleness: time::Duration) -> Database {
        self.contact_staleness = staleness;
        self
    }

    /// What SQLite's group writer (deliveries and agency token ids, `post/writer.rs`) did
    /// since this handle was opened; `None` where there is none (PostgreSQL, in-memory
    /// SQLite).
    pub fn group_commit_stats(&self) -> Option<GroupCommitStats> {
        self.writer.as_ref().map(post::writer::GroupWriter::stats)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the embedded migrations this database has not seen yet (a no-op when it is up
    /// to date). Safe to run at every start and from several instances at once: sqlx takes a
    /// lock on PostgreSQL, and SQLite has one writer.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await,
            Pool::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await,
        }
        .map_err(StoreError::from_migration)
    }

    /// Runs `reads`, the reads a page makes before it is shown, as reads that belong together:
    /// on SQLite the short reads in it (the session, the person, the unread count, the folders,
    /// a page of letters or events, the contact entry) share one connection and one read
    /// transaction, so they see one snapshot and pay SQLite's per-transaction locking once
    /// (`readers.rs`). On PostgreSQL, and on an in-memory SQLite, they run as they would alone
    /// (on PostgreSQL, pipelined with other requests' reads: `pg_readers.rs`).
    /// The scope ends when `reads` returns; inside another scope, `reads` joins it.
    ///
    /// Only for reads: a write in `reads` (through the pools) is not seen by the reads after
    /// it in the same scope.
    pub async fn read_together<F: std::future::Future>(&self, reads: F) -> F::Output {
        match &self.readers {
            Some(readers) => readers.together(reads).await,
            None => reads.await,
        }
    }

    /// Readiness: one round trip (`SELECT 1`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            Pool::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(StoreError::from_query)
    }

    /// Closes every connection, waiting for those in use to be returned. Call at shutdown so
    /// that SQLite checkpoints its WAL into the main file.
    pub async fn close(&self) {
        if let Some(write) = &self.write {
            write.close().await;
        }
        if let Some(readers) = &self.pg_readers {
            readers.close().await;
        }
        match &self.pool {
            Pool::Sqlite(pool) => pool.close().await,
            Pool::Postgres(pool) => pool.close().await,
        }
    }

    /// Starts a read-decide-write transaction ([`Tx::begin`]); on SQLite on the write pool's
    /// one connection, so that writers queue for it.
    async fn begin_tx(&self) -> Result<Tx, StoreError> {
        match &self.write {
            Some(write) => write
                .begin_with("BEGIN IMMEDIATE")
                .await
                .map(Tx::Sqlite)
                .map_err(StoreError::from_query),
            None => Tx::begin(&self.pool).await,
        }
    }

    /// A connection from the pool, for one call's statements.
    async fn conn(&self) -> Result<Conn<'static>, StoreError> {
        Conn::acquire(&self.pool).await
    }

    /// A connection for a short, index-bounded read: a synchronous reader on SQLite (no
    /// hand-off to sqlx's connection thread), a shared pipelined connection on PostgreSQL
    /// (`pg_readers.rs`), the pool for an in-memory SQLite.
    async fn quick_read(&self) -> Result<Conn<'_>, StoreError> {
        if let Some(readers) = &self.readers {
            return readers.get().map(Conn::Reader);
        }
        if let Some(readers) = &self.pg_readers {
            return readers.get().await.map(Conn::PgReader);
        }
        Conn::acquire(&self.pool).await
    }

    /// The SQLite pool, for tests that check connection settings.
    #[cfg(test)]
    pub(crate) fn sqlite_pool(&self) -> Option<&SqlitePool> {
        match &self.pool {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }
}

/// SQLite creates the file but not its folder; a fresh clone has no `data/` yet. Returns
/// whether the database is in memory (then there is no folder).
fn create_parent_folder(options: &SqliteConnectOptions) -> Result<bool, StoreError> {
    let filename = options.get_filename();
    let in_memory =
        filename.as_os_str().is_empty() || filename.to_string_lossy().contains(":memory:");
    if in_memory {
        return Ok(true);
    }
    match filename.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => std::fs::create_dir_all(folder)
            .map(|()| false)
            .map_err(|error| StoreError::Unavailable(DatabaseCause::Sqlx(sqlx::Error::Io(error)))),
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agency::AgencyId;
    use time::OffsetDateTime;

    #[tokio::test]
    async fn sqlite_connections_use_wal_foreign_keys_and_full_sync() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", folder.path().join("new/portal.db").display());
        let database = Database::connect(&url).await.unwrap();
        let pool = database.sqlite_pool().unwrap();
        let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(pool)
            .await
            .unwrap();
        let foreign_keys: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(pool)
            .await
            .unwrap();
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(pool)
            .await
            .unwrap();
        let busy_timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(foreign_keys, 1);
        assert_eq!(synchronous, 2, "FULL");
        assert_eq!(busy_timeout, 5000);
        database.close().await;
    }

    #[tokio::test]
    async fn the_group_writer_never_checkpoints_and_the_checkpoint_task_does() {
        let folder = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", folder.path().join("portal.db").display());
        let database = Database::connect(&url).await.unwrap();
        database.migrate().await.unwrap();
        let autocheckpoint = |pool: SqlitePool| async move {
            sqlx::query_scalar::<_, i64>("PRAGMA wal_autocheckpoint")
                .fetch_one(&pool)
                .await
                .unwrap()
        };
        let write = database.write.clone().unwrap();
        let others = database.sqlite_pool().unwrap().clone();
        assert_eq!(autocheckpoint(write).await, 0, "the writer's connection");
        assert_eq!(
            autocheckpoint(others).await,
            1000,
            "SQLite's default elsewhere"
        );
        let before = database.group_commit_stats().unwrap().checkpoints;
        // Writes through the group writer put frames in the log ...
        let agency = AgencyId::parse("checkpoint-test").unwrap();
        let expires = OffsetDateTime::now_utc() + time::Duration::minutes(5);
        for n in 0..50 {
            let jti = format!("jti-{n}");
            assert!(database
                .remember_agency_token(&agency, &jti, expires)
                .await
                .unwrap());
        }
        // ... which the task copies back within a few of its rounds.
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while database.group_commit_stats().unwrap().checkpoints == before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        database.close().await;
    }

    #[tokio::test]
    async fn unknown_scheme_is_refused_without_echoing_the_url() {
        let error = Database::connect("mysql://root:hunter2@localhost/portal")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::UnsupportedUrl));
        assert!(!error.to_string().contains("hunter2"));
    }

    #[tokio::test]
    async fn unreachable_server_is_unavailable_and_the_password_stays_out() {
        // `.invalid` never resolves (RFC 2606), so this fails at once. (A refused connection is
        // retried until the acquire timeout, which lets the portal start before its database.)
        let error = Database::connect("postgres://portal:hunter2@portal-db.invalid/portal")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::Unavailable(_)), "{error:?}");
        let shown = format!("{error} / {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[tokio::test]
    async fn unreadable_url_is_invalid_and_not_repeated() {
        let error = Database::connect("postgres://portal:hunter2@db:notaport/portal")
            .await
            .unwrap_err();
        assert!(matches!(error, StoreError::InvalidUrl(_)), "{error:?}");
        let shown = format!("{error} / {error:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
