//! A thin layer for the post register's queries: one SQL text for both databases where the
//! dialects agree (`$1` placeholders work on both), values bound in each backend's encoding
//! (see `migrations/README.md`: UUIDs and timestamps as text on SQLite, native on
//! PostgreSQL), and rows read back through the same getters.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::sqlite::{decode_timestamp, encode_timestamp};
use super::super::{StoreError, Tx};

/// A value to bind.
#[derive(Clone, Copy)]
pub(super) enum Val<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Time(OffsetDateTime),
    OptTime(Option<OffsetDateTime>),
    Bool(bool),
    Int(i64),
    OptInt(Option<i64>),
    Bytes(&'a [u8]),
}

/// A connection of either backend: a transaction's or one from the pool.
pub(super) enum Ex<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

impl Tx {
    pub(super) fn ex(&mut self) -> Ex<'_> {
        match self {
            Tx::Sqlite(tx) => Ex::Sqlite(tx),
            Tx::Postgres(tx) => Ex::Postgres(tx),
        }
    }
}

/// A row of either backend.
pub(super) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

fn sqlite_query<'q>(
    sql: &'q str,
    args: &[Val<'q>],
) -> Result<sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>, StoreError> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match *arg {
            Val::Text(text) => query.bind(text),
            Val::OptText(text) => query.bind(text),
            Val::Uuid(id) => query.bind(id.hyphenated().to_string()),
            Val::OptUuid(id) => query.bind(id.map(|id| id.hyphenated().to_string())),
            Val::Time(at) => query.bind(encode_timestamp(at)?),
            Val::OptTime(at) => query.bind(at.map(encode_timestamp).transpose()?),
            Val::Bool(value) => query.bind(i64::from(value)),
            Val::Int(value) => query.bind(value),
            Val::OptInt(value) => query.bind(value),
            Val::Bytes(bytes) => query.bind(bytes),
        };
    }
    Ok(query)
}

fn postgres_query<'q>(
    sql: &'q str,
    args: &[Val<'q>],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match *arg {
            Val::Text(text) => query.bind(text),
            Val::OptText(text) => query.bind(text),
            Val::Uuid(id) => query.bind(id),
            Val::OptUuid(id) => query.bind(id),
            Val::Time(at) => query.bind(at),
            Val::OptTime(at) => query.bind(at),
            Val::Bool(value) => query.bind(value),
            Val::Int(value) => query.bind(value),
            Val::OptInt(value) => query.bind(value),
            Val::Bytes(bytes) => query.bind(bytes),
        };
    }
    query
}

impl Ex<'_> {
    /// `sqlite` on SQLite, `postgres` on PostgreSQL.
    pub(super) fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Ex::Sqlite(_) => sqlite,
            Ex::Postgres(_) => postgres,
        }
    }

    pub(super) fn is_sqlite(&self) -> bool {
        matches!(self, Ex::Sqlite(_))
    }

    /// Runs a statement; the number of rows it touched.
    pub(super) async fn execute(&mut self, sql: &str, args: &[Val<'_>]) -> Result<u64, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Postgres(conn) => postgres_query(sql, args)
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
        }
        .map_err(StoreError::from_query)
    }

    pub(super) async fn fetch_all(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Ex::Postgres(conn) => postgres_query(sql, args)
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
        }
        .map_err(StoreError::from_query)
    }

    pub(super) async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Option<Row>, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .fetch_optional(&mut **conn)
                .await
                .map(|row| row.map(Row::Sqlite)),
            Ex::Postgres(conn) => postgres_query(sql, args)
                .fetch_optional(&mut **conn)
                .await
                .map(|row| row.map(Row::Postgres)),
        }
        .map_err(StoreError::from_query)
    }
}

fn corrupt(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |_| StoreError::Corrupt { what }
}

impl Row {
    pub(super) fn text(&self, column: &str, what: &'static str) -> Result<String, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get(column),
            Row::Postgres(row) => row.try_get(column),
        }
        .map_err(corrupt(what))
    }

    pub(super) fn opt_text(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<String>, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get(column),
            Row::Postgres(row) => row.try_get(column),
        }
        .map_err(corrupt(what))
    }

    pub(super) fn uuid(&self, column: &str, what: &'static str) -> Result<Uuid, StoreError> {
        match self {
            Row::Sqlite(row) => {
                let text: String = row.try_get(column).map_err(corrupt(what))?;
                Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt { what })
            }
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
        }
    }

    pub(super) fn opt_uuid(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<Uuid>, StoreError> {
        match self {
            Row::Sqlite(row) => {
                let text: Option<String> = row.try_get(column).map_err(corrupt(what))?;
                text.map(|text| Uuid::parse_str(&text).map_err(|_| StoreError::Corrupt { what }))
                    .transpose()
            }
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
        }
    }

    pub(super) fn time(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<OffsetDateTime, StoreError> {
        self.opt_time(column, what)?
            .ok_or(StoreError::Corrupt { what })
    }

    pub(super) fn opt_time(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        match self {
            Row::Sqlite(row) => {
                let text: Option<String> = row.try_get(column).map_err(corrupt(what))?;
                text.map(|text| decode_timestamp(&text).ok_or(StoreError::Corrupt { what }))
                    .transpose()
            }
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
        }
    }

    pub(super) fn bool(&self, column: &str, what: &'static str) -> Result<bool, StoreError> {
        match self {
            Row::Sqlite(row) => row
                .try_get::<i64, _>(column)
                .map(|value| value != 0)
                .map_err(corrupt(what)),
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
        }
    }

    /// A nullable integer column.
    pub(super) fn opt_int(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get::<Option<i64>, _>(column).map_err(corrupt(what)),
            Row::Postgres(row) => row
                .try_get::<Option<i64>, _>(column)
                .or_else(|_| {
                    row.try_get::<Option<i32>, _>(column)
                        .map(|value| value.map(i64::from))
                })
                .map_err(corrupt(what)),
        }
    }

    /// An integer column (INTEGER on SQLite; INTEGER or BIGINT on PostgreSQL).
    pub(super) fn int(&self, column: &str, what: &'static str) -> Result<i64, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get::<i64, _>(column).map_err(corrupt(what)),
            Row::Postgres(row) => row
                .try_get::<i64, _>(column)
                .or_else(|_| row.try_get::<i32, _>(column).map(i64::from))
                .map_err(corrupt(what)),
        }
    }

    pub(super) fn bytes(&self, column: &str, what: &'static str) -> Result<Vec<u8>, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get(column),
            Row::Postgres(row) => row.try_get(column),
        }
        .map_err(corrupt(what))
    }
}

/// Whether a failed write broke a unique rule (SQLite `SQLITE_CONSTRAINT_UNIQUE`, 2067;
/// PostgreSQL `unique_violation`, 23505).
pub(super) fn is_unique_violation(error: &StoreError) -> bool {
    match error {
        StoreError::Database(cause) => {
            matches!(cause.code().as_deref(), Some("2067") | Some("23505"))
        }
        _ => false,
    }
}
