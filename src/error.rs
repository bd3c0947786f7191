//! The registers' one error type: what a database call can fail with. Storage returns it; the
//! domain's errors wrap it (`ContactError::Store`, `PostError::Store`) without depending on
//! storage.
//!
//! Rule: no variant's text carries a national identity number, a name or a connection string.
//! The database's own error is kept as `source` for the logs, but through [`DatabaseCause`],
//! which leaves out PostgreSQL's `DETAIL` line because that line quotes the offending values
//! (`Key (national_id)=(…) already exists`).

use std::fmt;

/// Why a storage call failed.
///
/// The edge maps these to responses: [`Conflict`](StoreError::Conflict) to a user error,
/// [`Unavailable`](StoreError::Unavailable) to "try again later" (503), the rest to a generic
/// internal error with the cause logged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no database this portal can use (only `sqlite:` and `postgres://`).
    #[error("unsupported database URL: expected sqlite:… or postgres://…")]
    UnsupportedUrl,
    /// The URL has the right scheme but could not be read. The URL itself is not repeated: it
    /// may hold a password.
    #[error("the database URL could not be read")]
    InvalidUrl(#[source] DatabaseCause),
    /// The database cannot be reached now (refused, timed out, pool closed). Usually passes.
    #[error("the database is not reachable")]
    Unavailable(#[source] DatabaseCause),
    /// Applying the embedded migrations failed; the portal must not start.
    #[error("database migration failed")]
    Migration(#[source] DatabaseCause),
    /// A unique rule would be broken, e.g. the national id is already registered.
    #[error("{0}")]
    Conflict(Conflict),
    /// A stored row could not be turned back into a domain value (e.g. a stored national id
    /// that no longer parses). Points to a bug or to hand-edited data.
    #[error("a stored {what} could not be read back")]
    Corrupt {
        /// Which kind of value, e.g. `"person.national_id"`; never the value itself.
        what: &'static str,
    },
    /// Any other database failure.
    #[error("database error")]
    Database(#[source] DatabaseCause),
}

/// Which unique rule a write would have broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// A person with this national identity number is already registered.
    #[error("a person with this national identity number is already registered")]
    NationalIdTaken,
    /// The person id is already in use (should not happen with fresh ids).
    #[error("the person id is already in use")]
    PersonIdTaken,
    /// A new session token is already in use (should not happen with 256 random bits).
    #[error("the session token is already in use")]
    SessionTokenTaken,
    /// A pending login with this OIDC `state` already exists: the caller reused a state value
    /// instead of making a fresh random one.
    #[error("a pending login with this state already exists")]
    LoginStateTaken,
    /// This logout token (issuer and `jti`) was seen before: a replay.
    /// [`Database::remember_logout_token`](crate::Database::remember_logout_token)
    /// answers `false` for it rather than failing.
    #[error("this logout token was already used")]
    LogoutTokenSeen,
    /// This agency API token (agency and `jti`) was seen before: a replay.
    /// [`Database::remember_agency_token`](crate::Database::remember_agency_token)
    /// answers `false` for it rather than failing.
    #[error("this agency token was already used")]
    AgencyTokenSeen,
}

impl StoreError {
    /// Wraps a driver error from a query, sorting out "cannot reach the database" from the rest.
    pub(crate) fn from_query(error: sqlx::Error) -> StoreError {
        match error {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed => StoreError::Unavailable(DatabaseCause::Sqlx(error)),
            other => StoreError::Database(DatabaseCause::Sqlx(other)),
        }
    }

    /// Wraps a failure to apply migrations.
    pub(crate) fn from_migration(error: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migration(DatabaseCause::Migrate(error))
    }
}

/// The database driver's error, kept for logs with the values it may quote left out.
///
/// `Display` and `Debug` give the driver's message and error code (`UNIQUE constraint failed:
/// persons.national_id (2067)`), never PostgreSQL's `DETAIL`. `source()` is deliberately empty
/// so that error reporters walking the chain cannot reach the raw driver error.
pub enum DatabaseCause {
    /// From a query or a connection attempt.
    Sqlx(sqlx::Error),
    /// From applying migrations.
    Migrate(sqlx::migrate::MigrateError),
    /// From a synchronous SQLite reader (`storage/readers.rs`).
    Sqlite(rusqlite::Error),
    /// From PostgreSQL's read path (`storage/pg_readers.rs`).
    Postgres(tokio_postgres::Error),
}

impl DatabaseCause {
    /// The SQLSTATE (PostgreSQL) or extended result code (SQLite), when the database gave one.
    pub fn code(&self) -> Option<String> {
        if let DatabaseCause::Sqlite(rusqlite::Error::SqliteFailure(error, _)) = self {
            return Some(error.extended_code.to_string());
        }
        if let DatabaseCause::Postgres(error) = self {
            return error.code().map(|code| code.code().to_owned());
        }
        self.database_error()
            .and_then(|error| error.code())
            .map(|code| code.into_owned())
    }

    fn database_error(&self) -> Option<&dyn sqlx::error::DatabaseError> {
        let sqlx_error = match self {
            DatabaseCause::Sqlx(error) => error,
            DatabaseCause::Migrate(
                sqlx::migrate::MigrateError::Execute(error)
                | sqlx::migrate::MigrateError::ExecuteMigration(error, _),
            ) => error,
            DatabaseCause::Migrate(_) | DatabaseCause::Sqlite(_) | DatabaseCause::Postgres(_) => {
                return None
            }
        };
        match sqlx_error {
            sqlx::Error::Database(error) => Some(error.as_ref()),
            _ => None,
        }
    }
}

impl fmt::Display for DatabaseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(error) = self.database_error() {
            if let DatabaseCause::Migrate(sqlx::migrate::MigrateError::ExecuteMigration(
                _,
                version,
            )) = self
            {
                write!(f, "while executing migration {version}: ")?;
            }
            f.write_str(error.message())?;
            if let Some(code) = error.code() {
                write!(f, " ({code})")?;
            }
            return Ok(());
        }
        match self {
            DatabaseCause::Sqlx(error) => fmt::Display::fmt(error, f),
            DatabaseCause::Migrate(error) => fmt::Display::fmt(error, f),
            DatabaseCause::Sqlite(error) => match error {
                rusqlite::Error::SqliteFailure(code, message) => write!(
                    f,
                    "{} ({})",
                    message.as_deref().unwrap_or("SQLite error"),
                    code.extended_code
                ),
                other => fmt::Display::fmt(other, f),
            },
            // The message and the SQLSTATE, never the `DETAIL` that `Display` would add.
            DatabaseCause::Postgres(error) => match error.as_db_error() {
                Some(db) => write!(f, "{} ({})", db.message(), db.code().code()),
                None => fmt::Display::fmt(error, f),
            },
        }
    }
}

impl fmt::Debug for DatabaseCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseCause({:?})", self.to_string())
    }
}

impl std::error::Error for DatabaseCause {}
