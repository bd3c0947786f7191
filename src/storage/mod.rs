//! Storage: one interface, two databases.
//!
//! SQLite is the embedded default (a fresh clone runs with no server); PostgreSQL is the
//! production store that many portal instances share. [`Database`] is the handle to either;
//! the registers are traits that `Database` implements by dispatching to the `sqlite` or
//! `postgres` module, so callers see one API and the shared test suite (`tests/storage.rs`)
//! runs it against both:
//!
//! - [`PersonRegister`]: who the portal knows.
//! - [`SessionStore`]: logged-in sessions (by the hash of their cookie), and the logout tokens
//!   already seen (replay protection for back-channel logout).
//! - [`LoginStateStore`]: logins sent to the eID provider and not back yet (OIDC `state`).
//! - [`AuditLog`]: each person's activity log, read through an [`Access`] proof.
//! - [`ContactRegister`]: contact information, reservation, mailbox and language (KRR), with
//!   codes to verify new addresses; every change is audited in the same transaction.
//! - [`AgencyTokenStore`]: the token ids (`jti`) of agency API calls already accepted, so
//!   that a replayed token is refused on every instance.
//! - [`PostOffice`] and [`PostBox`]: digital post: delivery by agencies (with receipts and a
//!   print queue) and the citizen's mailbox (folders, trash, search).
//! - [`Outbox`]: e-mails and SMS queued durably (often in the same transaction as the change
//!   they are about) and claimed by workers with a lease.
//!
//! Time: operations that decide by time (expiry) take `now` from the caller, so that tests and
//! background jobs can say what "now" is; rows the store creates get the clock's time. All
//! times are kept in UTC to the microsecond (PostgreSQL keeps no more), so a value read back
//! equals the value written.
//!
//! Queries are checked at run time (`sqlx::query` with `bind`), not by the compile-time macros,
//! so building needs no database. They name their columns and are kept per backend, because
//! the column types differ (see `migrations/README.md`). On SQLite, the short reads every
//! logged-in page makes (session, person, mailbox page, unread count, activity page, contact
//! entry) run on synchronous reader connections (`readers.rs`) instead of sqlx's, through the
//! same SQL (`post/sql.rs`).
//!
//! Operations that read, decide and write (a contact change with its audit event and its
//! message) run in one transaction (`Tx`): `BEGIN IMMEDIATE` on SQLite (the write lock is
//! taken at the start, so a read cannot go stale before the write), and row locks
//! (`FOR UPDATE`) on PostgreSQL. The decision is written once, in Rust, over the
//! transaction's primitive reads and writes, which dispatch to the backend modules.

mod contact;
mod error;
#[cfg(feature = "dev")]
mod generate;
mod outbox;
mod post;
mod postgres;
mod readers;
mod sqlite;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use time::OffsetDateTime;
use uuid::Uuid;

pub use contact::ContactRegister;
pub use error::{Conflict, DatabaseCause, StoreError};
#[cfg(feature = "dev")]
pub use generate::{GenerateError, GeneratePlan, GenerateReport, NamedPerson};
pub use outbox::{Outbox, MAX_CLAIM_BATCH};
pub use post::writer::GroupCommitStats;
pub use post::{MailboxForwarding, PostBox, PostOffice, ReminderRun};

use crate::access::{Access, ReadOwnActivity};
use crate::agency::AgencyId;
use crate::audit::{AuditCursor, AuditEvent, AuditPage, EventFilter, NewAuditEvent};
use crate::contact::DEFAULT_STALENESS;
use crate::identity::NationalId;
use crate::person::{NewPerson, Person, PersonId};
use crate::session::{sha256, LoginState, NewLoginState, NewSession, Session, SessionToken};

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
/// The most persons one page of [`PersonRegister::list_persons`] returns.
pub const MAX_PAGE_SIZE: u32 = 500;
/// The most events one page of [`AuditLog::list_events`] returns: a screenful or two for a
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
        Ok(Database {
            pool: Pool::Postgres(pool),
            write: None,
            writer: None,
            readers: None,
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
    /// on SQLite the short reads in it (the person, the unread count, the folders, a page of
    /// letters or events, the contact entry) share one connection and one read transaction,
    /// so they see one snapshot and pay SQLite's per-transaction locking once
    /// (`readers.rs`). On PostgreSQL, and on an in-memory SQLite, they run as they would alone.
    ///
    /// Only for reads: a write in `reads` (through the pools) is not seen by the reads after
    /// it in the same scope, until [`end_read_together`](Database::end_read_together). Inside
    /// another such scope (the session middleware's, for a page), `reads` joins it.
    pub async fn read_together<F: std::future::Future>(&self, reads: F) -> F::Output {
        match &self.readers {
            Some(readers) => readers.together(reads).await,
            None => reads.await,
        }
    }

    /// Ends the snapshot of the [`read_together`](Database::read_together) scope the task is
    /// in: the reads after this run alone and see every write made before them. A page calls
    /// it when its reads are done, before anything that may write. Outside a scope, nothing.
    pub fn end_read_together(&self) {
        if let Some(readers) = &self.readers {
            readers.end_together();
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

/// One page of persons, in id order (about the order they were registered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPage {
    /// The persons on this page.
    pub persons: Vec<Person>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next_after: Option<PersonId>,
}

/// The person register: who the portal knows.
///
/// Implemented by [`Database`] for both backends. An `async_trait` (not inherent methods) so
/// that the app can hold an `Arc<dyn PersonRegister>` and tests above this layer can stand in
/// their own.
#[async_trait]
pub trait PersonRegister: Send + Sync {
    /// Registers a new person with a fresh id.
    ///
    /// Fails with [`Conflict::NationalIdTaken`] if the national id is already registered.
    async fn create_person(&self, new_person: NewPerson) -> Result<Person, StoreError>;

    /// The person with this id, if registered.
    async fn find_person(&self, id: PersonId) -> Result<Option<Person>, StoreError>;

    /// The person with this national id, if registered.
    async fn find_person_by_national_id(
        &self,
        national_id: &NationalId,
    ) -> Result<Option<Person>, StoreError>;

    /// At login: registers the person if new, otherwise updates their names to what the eID
    /// says now (names change at marriage, and the register should follow). The stored
    /// language is kept: it is the person's own choice in the portal and wins over the
    /// default. One atomic statement, so two logins at once cannot make two persons.
    async fn upsert_person_by_national_id(
        &self,
        new_person: NewPerson,
    ) -> Result<Person, StoreError>;

    /// How many persons are registered.
    async fn count_persons(&self) -> Result<u64, StoreError>;

    /// Up to `limit` persons (clamped to 1..=[`MAX_PAGE_SIZE`]) with ids after `after`, in id
    /// order. Keyset paging: pages stay correct and fast while persons are added.
    async fn list_persons(
        &self,
        limit: u32,
        after: Option<PersonId>,
    ) -> Result<PersonPage, StoreError>;
}

#[async_trait]
impl PersonRegister for Database {
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn create_person(&self, new_person: NewPerson) -> Result<Person, StoreError> {
        let person = match &self.pool {
            Pool::Sqlite(pool) => sqlite::create_person(pool, &new_person).await?,
            Pool::Postgres(pool) => postgres::create_person(pool, &new_person).await?,
        };
        tracing::debug!(person.id = %person.id, "person registered");
        Ok(person)
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %id))]
    async fn find_person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        match &self.pool {
            Pool::Sqlite(_) => sqlite::find_person(&mut self.quick_read().await?.ex(), id).await,
            Pool::Postgres(pool) => postgres::find_person(pool, id).await,
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn find_person_by_national_id(
        &self,
        national_id: &NationalId,
    ) -> Result<Option<Person>, StoreError> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::find_person_by_national_id(pool, national_id).await,
            Pool::Postgres(pool) => postgres::find_person_by_national_id(pool, national_id).await,
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn upsert_person_by_national_id(
        &self,
        new_person: NewPerson,
    ) -> Result<Person, StoreError> {
        let person = match &self.pool {
            Pool::Sqlite(pool) => sqlite::upsert_person(pool, &new_person).await?,
            Pool::Postgres(pool) => postgres::upsert_person(pool, &new_person).await?,
        };
        tracing::debug!(person.id = %person.id, "person registered or updated at login");
        Ok(person)
    }

    async fn count_persons(&self) -> Result<u64, StoreError> {
        let count = match &self.pool {
            Pool::Sqlite(pool) => sqlite::count_persons(pool).await?,
            Pool::Postgres(pool) => postgres::count_persons(pool).await?,
        };
        u64::try_from(count).map_err(|_| StoreError::Corrupt {
            what: "person count",
        })
    }

    async fn list_persons(
        &self,
        limit: u32,
        after: Option<PersonId>,
    ) -> Result<PersonPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        // One row more than asked tells whether there is a next page.
        let fetch = i64::from(limit) + 1;
        let mut persons = match &self.pool {
            Pool::Sqlite(pool) => sqlite::list_persons(pool, fetch, after).await?,
            Pool::Postgres(pool) => postgres::list_persons(pool, fetch, after).await?,
        };
        let has_more = persons.len() > limit as usize;
        persons.truncate(limit as usize);
        let next_after = if has_more {
            persons.last().map(|person| person.id)
        } else {
            None
        };
        Ok(PersonPage {
            persons,
            next_after,
        })
    }
}

/// Server-side sessions, and the logout tokens already seen.
///
/// Sessions are found by the SHA-256 of their token, never by the token itself: the table holds
/// no live cookie. Expiry is decided here, from the caller's `now` and idle timeout, so every
/// instance applies the same rule: a session is valid while `now < expires_at` and
/// `now < last_seen_at + idle_timeout` (see [`Session::is_expired`]).
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Starts a session for a completed login: a fresh token (returned once, for the cookie;
    /// only its hash is stored), `created_at` and `last_seen_at` now, and `expires_at` now plus
    /// `absolute_lifetime`. Timestamps are cut to whole microseconds.
    ///
    /// After a step-up, create a new session and delete the old one rather than changing the
    /// old one's level: a fresh token at every change of privilege.
    async fn create_session(
        &self,
        new_session: NewSession,
    ) -> Result<(SessionToken, Session), StoreError>;

    /// The session for this token, if it exists and has not expired at `now`. An expired
    /// session (idle for `idle_timeout`, or past its absolute end) is deleted and `None`
    /// returned, so it cannot come back. Does not update `last_seen_at`: see
    /// [`touch_session`](SessionStore::touch_session).
    async fn find_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<Option<Session>, StoreError>;

    /// Records that the session was used at `now`, restarting its idle timeout (never moving
    /// `last_seen_at` back). A write per request would be too many: callers touch only when
    /// the stored `last_seen_at` is older than a minute or so. `false` when there is no such
    /// session.
    async fn touch_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Ends the session (logout). `false` when there was none.
    async fn delete_session(&self, token: &SessionToken) -> Result<bool, StoreError>;

    /// Ends every session the provider knows as `sid` (front- and back-channel logout).
    /// Returns whose sessions ended (one entry per session), for their activity logs.
    async fn delete_sessions_by_sid(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Vec<PersonId>, StoreError>;

    /// Ends every session of the provider's subject `subject_claim` (a back-channel logout
    /// token without `sid`). Returns whose sessions ended (one entry per session).
    async fn delete_sessions_by_subject(
        &self,
        provider: &str,
        subject_claim: &str,
    ) -> Result<Vec<PersonId>, StoreError>;

    /// Deletes every session expired at `now` (by either rule). For a periodic job; safe to run
    /// from several instances at once. Returns how many.
    async fn delete_expired_sessions(
        &self,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<u64, StoreError>;

    /// Remembers a verified logout token's `jti` from `issuer` until `expires_at` (the token's
    /// `exp`). `true` the first time; `false` if it was seen before (a replay), also when the
    /// other instance that saw it did so a moment ago: the database's unique rule decides.
    async fn remember_logout_token(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Forgets logout tokens whose `expires_at` has passed at `now` (they would be refused as
    /// expired anyway). For a periodic job. Returns how many.
    async fn forget_expired_logout_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Agency API tokens already accepted, by agency and token id (`jti`): the replay check.
#[async_trait]
pub trait AgencyTokenStore: Send + Sync {
    /// Remembers a verified token's `jti` from `agency` until `expires_at` (the token's
    /// `exp`). `true` the first time; `false` if it was seen before (a replay), also when
    /// another instance saw it a moment ago: the database's unique key decides.
    async fn remember_agency_token(
        &self,
        agency: &AgencyId,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    /// Forgets token ids whose `expires_at` has passed at `now` (such a token is refused as
    /// expired anyway). For the housekeeping job; returns how many.
    async fn forget_expired_agency_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

#[async_trait]
impl AgencyTokenStore for Database {
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %agency))]
    async fn remember_agency_token(
        &self,
        agency: &AgencyId,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        if let Some(writer) = &self.writer {
            return writer.remember_token(agency, jti, expires_at).await;
        }
        let expires_at = stored_instant(expires_at);
        let inserted = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlite::insert_agency_token_id(pool, agency, jti, expires_at).await
            }
            Pool::Postgres(pool) => {
                postgres::insert_agency_token_id(pool, agency, jti, expires_at).await
            }
        };
        match inserted {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(Conflict::AgencyTokenSeen)) => Ok(false),
            Err(error) => Err(error),
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn forget_expired_agency_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_expired_agency_token_ids(pool, now).await,
            Pool::Postgres(pool) => postgres::delete_expired_agency_token_ids(pool, now).await,
        }
    }
}

/// Pending logins: what the OIDC callback needs, stored under the hash of `state`.
#[async_trait]
pub trait LoginStateStore: Send + Sync {
    /// Stores a pending login. Fails with [`Conflict::LoginStateTaken`] if the state is in use.
    async fn create_login_state(&self, new_login_state: NewLoginState) -> Result<(), StoreError>;

    /// Takes the pending login for `state`: deletes it and returns it, in one statement, so
    /// that of two callbacks with the same state (a replay, a double click) exactly one gets
    /// it. `None` when there is none, and when it expired at `now` (it is deleted all the
    /// same).
    async fn take_login_state(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LoginState>, StoreError>;

    /// Deletes pending logins expired at `now` (abandoned at the eID). For a periodic job.
    /// Returns how many.
    async fn delete_expired_login_states(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Each person's activity log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Adds an event to its subject's log, with a fresh id (UUID v7); `at` is cut to whole
    /// microseconds. Returns the event as stored.
    async fn record_event(&self, new_event: NewAuditEvent) -> Result<AuditEvent, StoreError>;

    /// Up to `limit` (clamped to 1..=[`MAX_AUDIT_PAGE_SIZE`]) events from the log of
    /// `access.subject()`, newest first, older than `before` if given. Keyset paging on
    /// (`at`, `id`): events with the same time keep a fixed order and none is skipped or shown
    /// twice while new ones arrive.
    async fn list_events(
        &self,
        access: &Access<ReadOwnActivity>,
        before: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        self.list_events_of(access, EventFilter::All, before, limit)
            .await
    }

    /// As [`list_events`](AuditLog::list_events), only the events `kinds` lets through (the
    /// cursor of such a page only pages on within the same filter).
    async fn list_events_of(
        &self,
        access: &Access<ReadOwnActivity>,
        kinds: EventFilter,
        before: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError>;
}

#[async_trait]
impl SessionStore for Database {
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn create_session(
        &self,
        new_session: NewSession,
    ) -> Result<(SessionToken, Session), StoreError> {
        let token = SessionToken::generate();
        let now = now_utc_micros();
        let expires_at = stored_instant(now.saturating_add(new_session.absolute_lifetime));
        let row = NewSessionRow {
            token_hash: token.hash(),
            new_session: &new_session,
            auth_time: stored_instant(new_session.auth_time),
            now,
            expires_at,
        };
        let session = match &self.pool {
            Pool::Sqlite(pool) => sqlite::insert_session(pool, &row).await?,
            Pool::Postgres(pool) => postgres::insert_session(pool, &row).await?,
        };
        tracing::debug!(person.id = %session.person, loa = %session.loa, "session created");
        Ok((token, session))
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn find_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<Option<Session>, StoreError> {
        let hash = token.hash();
        let now = stored_instant(now);
        let session = match &self.pool {
            Pool::Sqlite(_) => {
                sqlite::find_session(&mut self.quick_read().await?.ex(), &hash).await?
            }
            Pool::Postgres(pool) => postgres::find_session(pool, &hash).await?,
        };
        let Some(session) = session else {
            return Ok(None);
        };
        if !session.is_expired(now, idle_timeout) {
            return Ok(Some(session));
        }
        // Deleted only if still expired by the same rule, so that a touch from another
        // instance in between is not undone.
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_session_if_expired(pool, &hash, now, idle_cutoff)
                .await
                .map(drop)?,
            Pool::Postgres(pool) => {
                postgres::delete_session_if_expired(pool, &hash, now, idle_cutoff)
                    .await
                    .map(drop)?
            }
        }
        tracing::debug!(person.id = %session.person, "expired session ended");
        Ok(None)
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn touch_session(
        &self,
        token: &SessionToken,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let hash = token.hash();
        let now = stored_instant(now);
        let touched = match &self.pool {
            Pool::Sqlite(pool) => sqlite::touch_session(pool, &hash, now).await?,
            Pool::Postgres(pool) => postgres::touch_session(pool, &hash, now).await?,
        };
        Ok(touched > 0)
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn delete_session(&self, token: &SessionToken) -> Result<bool, StoreError> {
        let hash = token.hash();
        let deleted = match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_session(pool, &hash).await?,
            Pool::Postgres(pool) => postgres::delete_session(pool, &hash).await?,
        };
        Ok(deleted > 0)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), provider = %provider)
    )]
    async fn delete_sessions_by_sid(
        &self,
        provider: &str,
        sid: &str,
    ) -> Result<Vec<PersonId>, StoreError> {
        let ended = match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_sessions_by_sid(pool, provider, sid).await?,
            Pool::Postgres(pool) => postgres::delete_sessions_by_sid(pool, provider, sid).await?,
        };
        tracing::debug!(deleted = ended.len(), "sessions ended by sid");
        Ok(ended)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), provider = %provider)
    )]
    async fn delete_sessions_by_subject(
        &self,
        provider: &str,
        subject_claim: &str,
    ) -> Result<Vec<PersonId>, StoreError> {
        let ended = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlite::delete_sessions_by_subject(pool, provider, subject_claim).await?
            }
            Pool::Postgres(pool) => {
                postgres::delete_sessions_by_subject(pool, provider, subject_claim).await?
            }
        };
        tracing::debug!(deleted = ended.len(), "sessions ended by subject");
        Ok(ended)
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn delete_expired_sessions(
        &self,
        now: OffsetDateTime,
        idle_timeout: time::Duration,
    ) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        let idle_cutoff = stored_instant(now.saturating_sub(idle_timeout));
        let deleted = match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_expired_sessions(pool, now, idle_cutoff).await?,
            Pool::Postgres(pool) => {
                postgres::delete_expired_sessions(pool, now, idle_cutoff).await?
            }
        };
        tracing::debug!(deleted, "expired sessions deleted");
        Ok(deleted)
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn remember_logout_token(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let expires_at = stored_instant(expires_at);
        let inserted = match &self.pool {
            Pool::Sqlite(pool) => sqlite::insert_logout_token(pool, issuer, jti, expires_at).await,
            Pool::Postgres(pool) => {
                postgres::insert_logout_token(pool, issuer, jti, expires_at).await
            }
        };
        match inserted {
            Ok(()) => Ok(true),
            Err(StoreError::Conflict(Conflict::LogoutTokenSeen)) => {
                tracing::info!("logout token replayed");
                Ok(false)
            }
            Err(error) => Err(error),
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn forget_expired_logout_tokens(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_expired_logout_tokens(pool, now).await,
            Pool::Postgres(pool) => postgres::delete_expired_logout_tokens(pool, now).await,
        }
    }
}

#[async_trait]
impl LoginStateStore for Database {
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn create_login_state(&self, new_login_state: NewLoginState) -> Result<(), StoreError> {
        let row = NewLoginStateRow {
            state_hash: sha256(new_login_state.state.as_bytes()),
            new_login_state: &new_login_state,
            now: now_utc_micros(),
            expires_at: stored_instant(new_login_state.expires_at),
        };
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::insert_login_state(pool, &row).await,
            Pool::Postgres(pool) => postgres::insert_login_state(pool, &row).await,
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn take_login_state(
        &self,
        state: &str,
        now: OffsetDateTime,
    ) -> Result<Option<LoginState>, StoreError> {
        let hash = sha256(state.as_bytes());
        let taken = match &self.pool {
            Pool::Sqlite(pool) => sqlite::take_login_state(pool, &hash, state).await?,
            Pool::Postgres(pool) => postgres::take_login_state(pool, &hash, state).await?,
        };
        match taken {
            Some(login_state) if stored_instant(now) < login_state.expires_at => {
                Ok(Some(login_state))
            }
            Some(_) => {
                tracing::debug!("expired pending login taken and dropped");
                Ok(None)
            }
            None => Ok(None),
        }
    }

    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    async fn delete_expired_login_states(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let now = stored_instant(now);
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::delete_expired_login_states(pool, now).await,
            Pool::Postgres(pool) => postgres::delete_expired_login_states(pool, now).await,
        }
    }
}

#[async_trait]
impl AuditLog for Database {
    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), kind = new_event.kind.code())
    )]
    async fn record_event(&self, new_event: NewAuditEvent) -> Result<AuditEvent, StoreError> {
        let event = AuditEvent {
            id: Uuid::now_v7(),
            subject: new_event.subject,
            actor: new_event.actor,
            agency: new_event.agency,
            kind: new_event.kind,
            loa: new_event.loa,
            provider: new_event.provider,
            at: stored_instant(new_event.at),
        };
        match &self.pool {
            Pool::Sqlite(pool) => sqlite::insert_audit_event(pool, &event).await?,
            Pool::Postgres(pool) => postgres::insert_audit_event(pool, &event).await?,
        }
        Ok(event)
    }

    #[tracing::instrument(
        skip_all,
        fields(backend = self.backend().name(), person.id = %access.subject())
    )]
    async fn list_events_of(
        &self,
        access: &Access<ReadOwnActivity>,
        kinds: EventFilter,
        before: Option<AuditCursor>,
        limit: u32,
    ) -> Result<AuditPage, StoreError> {
        let limit = limit.clamp(1, MAX_AUDIT_PAGE_SIZE);
        // One row more than asked tells whether there is a next page.
        let fetch = i64::from(limit) + 1;
        let subject = access.subject();
        let mut events = match &self.pool {
            Pool::Sqlite(_) => {
                sqlite::list_audit_events(
                    &mut self.quick_read().await?.ex(),
                    subject,
                    kinds,
                    before,
                    fetch,
                )
                .await?
            }
            Pool::Postgres(pool) => {
                postgres::list_audit_events(pool, subject, kinds, before, fetch).await?
            }
        };
        let has_more = events.len() > limit as usize;
        events.truncate(limit as usize);
        let next = if has_more {
            events.last().map(AuditCursor::after)
        } else {
            None
        };
        Ok(AuditPage { events, next })
    }
}

/// An open transaction on either backend. Dropped without [`commit`](Tx::commit), it rolls
/// back: a failed step leaves nothing half-written (no audit event without its change, no
/// message without its audit event).
pub(super) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Starts a read-decide-write transaction. SQLite: `BEGIN IMMEDIATE`, so the write lock is
    /// held from the first read (a deferred transaction that reads and then writes fails with
    /// `SQLITE_BUSY` when another writer got in between, and waits for nothing).
    async fn begin(pool: &Pool) -> Result<Tx, StoreError> {
        match pool {
            Pool::Sqlite(pool) => pool.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Pool::Postgres(pool) => pool.begin().await.map(Tx::Postgres),
        }
        .map_err(StoreError::from_query)
    }

    async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .map_err(StoreError::from_query)
    }

    async fn insert_audit_event(&mut self, event: &AuditEvent) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => sqlite::insert_audit_event(&mut **tx, event).await,
            Tx::Postgres(tx) => postgres::insert_audit_event(&mut **tx, event).await,
        }
    }

    /// Many events in one statement.
    async fn insert_audit_events(&mut self, events: &[AuditEvent]) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => sqlite::insert_audit_events(tx, events).await,
            Tx::Postgres(tx) => postgres::insert_audit_events(tx, events).await,
        }
    }
}

/// A session row to insert: the caller's fields and what the store adds.
struct NewSessionRow<'a> {
    token_hash: [u8; 32],
    new_session: &'a NewSession,
    auth_time: OffsetDateTime,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// A pending-login row to insert.
struct NewLoginStateRow<'a> {
    state_hash: [u8; 32],
    new_login_state: &'a NewLoginState,
    now: OffsetDateTime,
    expires_at: OffsetDateTime,
}

/// Which conflict a unique violation stands for, from the constraint (PostgreSQL) or the
/// column list in the message (SQLite names no constraint for UNIQUE failures).
fn conflict_of(error: &sqlx::Error) -> Option<Conflict> {
    let sqlx::Error::Database(database_error) = error else {
        return None;
    };
    if database_error.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    let by_constraint = match database_error.constraint() {
        Some("persons_national_id_unique") => Some(Conflict::NationalIdTaken),
        Some("persons_pkey") => Some(Conflict::PersonIdTaken),
        Some("sessions_pkey") => Some(Conflict::SessionTokenTaken),
        Some("login_states_pkey") => Some(Conflict::LoginStateTaken),
        Some("logout_tokens_pkey") => Some(Conflict::LogoutTokenSeen),
        Some("agency_token_ids_pkey") => Some(Conflict::AgencyTokenSeen),
        _ => None,
    };
    by_constraint.or_else(|| {
        let message = database_error.message();
        if message.ends_with("persons.national_id") {
            Some(Conflict::NationalIdTaken)
        } else if message.ends_with("persons.id") {
            Some(Conflict::PersonIdTaken)
        } else if message.ends_with("sessions.token_hash") {
            Some(Conflict::SessionTokenTaken)
        } else if message.ends_with("login_states.state_hash") {
            Some(Conflict::LoginStateTaken)
        } else if message.ends_with("logout_tokens.issuer, logout_tokens.jti") {
            Some(Conflict::LogoutTokenSeen)
        } else if message.ends_with("agency_token_ids.agency_id, agency_token_ids.jti") {
            Some(Conflict::AgencyTokenSeen)
        } else {
            None
        }
    })
}

/// Maps a failed write: known unique violations become [`StoreError::Conflict`] (without the
/// driver error, whose detail would quote the national id); the rest keep their cause.
fn write_error(error: sqlx::Error) -> StoreError {
    match conflict_of(&error) {
        Some(conflict) => StoreError::Conflict(conflict),
        None => StoreError::from_query(error),
    }
}

/// The same instant cut to whole microseconds: PostgreSQL keeps no more, and a value read back
/// should equal the value written, whatever the backend.
fn now_utc_micros() -> OffsetDateTime {
    stored_instant(OffsetDateTime::now_utc())
}

/// An instant as the database keeps it: in UTC, cut to whole microseconds. Applied to every
/// time the store writes or compares with, so that both backends decide alike and a value
/// read back equals the value written.
fn stored_instant(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_microsecond(at.microsecond()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn microsecond_cut_is_exact() {
        let now = now_utc_micros();
        assert_eq!(now.nanosecond() % 1_000, 0);
    }
}
