//! The query layer every register uses: one SQL text for both databases where the dialects
//! agree (`$1` placeholders work on both), values bound in each backend's encoding (see
//! `migrations/README.md` and [`encode`]: UUIDs, dates and timestamps as text on SQLite,
//! native on PostgreSQL), and rows read back through the same getters.
//!
//! Where the SQL really differs (row locks, `SKIP LOCKED`, arrays, full-text search), the
//! query is a [`Dialect`] constant: both texts side by side, named, in the register that runs
//! it. Nothing else in storage looks at which database it is on.

pub(in crate::storage) mod encode;
mod reader;
mod row;

pub(in crate::storage) use self::row::Columns;

use std::fmt::Write as _;

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use self::encode::{encode_date, encode_timestamp, encode_uuid};
use self::reader::{reader_bind, reader_each, reader_rows, ReaderRow};
use super::{Conflict, Pool, StoreError};

/// A value to bind.
#[derive(Clone, Copy)]
pub(in crate::storage) enum Val<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Uuid(Uuid),
    OptUuid(Option<Uuid>),
    Time(OffsetDateTime),
    OptTime(Option<OffsetDateTime>),
    Date(Date),
    Bool(bool),
    Int(i64),
    OptInt(Option<i64>),
    Bytes(&'a [u8]),
    /// A JSON document (text on SQLite, `JSONB` on PostgreSQL).
    Json(&'a str),
    /// A list of texts as one value: a JSON array on SQLite (for `json_each`), a `text[]` on
    /// PostgreSQL (for `= ANY`). Used through a [`Dialect`] query.
    TextList(&'a [&'a str]),
}

/// A list of texts as the JSON array SQLite's `json_each` reads.
fn json_list(texts: &[&str]) -> Result<String, StoreError> {
    serde_json::to_string(texts).map_err(|_| StoreError::Corrupt {
        what: "a list of texts",
    })
}

/// A query whose text differs by database: the one place such a difference is written.
pub(in crate::storage) struct Dialect {
    pub(in crate::storage) sqlite: &'static str,
    pub(in crate::storage) postgres: &'static str,
}

/// A connection of either backend: a transaction's or one from the pool, or a synchronous
/// SQLite reader (`storage/readers.rs`), on which every call finishes without waiting.
pub(in crate::storage) enum Ex<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
    Reader(&'c mut rusqlite::Connection),
    /// A shared PostgreSQL read connection (`storage/pg_readers.rs`), for short reads.
    PgReader(&'c super::pg_readers::PgRead),
}

/// An open transaction on either backend. Dropped without [`commit`](Tx::commit), it rolls
/// back: a failed step leaves nothing half-written (no audit event without its change, no
/// message without its audit event).
pub(in crate::storage) enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    /// Starts a read-decide-write transaction on `pool`. SQLite: `BEGIN IMMEDIATE`, so the
    /// write lock is held from the first read (a deferred transaction that reads and then
    /// writes fails with `SQLITE_BUSY` when another writer got in between, and waits for
    /// nothing).
    pub(in crate::storage) async fn begin(pool: &Pool) -> Result<Tx, StoreError> {
        match pool {
            Pool::Sqlite(pool) => pool.begin_with("BEGIN IMMEDIATE").await.map(Tx::Sqlite),
            Pool::Postgres(pool) => pool.begin().await.map(Tx::Postgres),
        }
        .map_err(StoreError::from_query)
    }

    pub(in crate::storage) async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Sqlite(tx) => tx.commit().await,
            Tx::Postgres(tx) => tx.commit().await,
        }
        .map_err(StoreError::from_query)
    }

    pub(in crate::storage) fn ex(&mut self) -> Ex<'_> {
        match self {
            Tx::Sqlite(tx) => Ex::Sqlite(tx),
            Tx::Postgres(tx) => Ex::Postgres(tx),
        }
    }
}

/// A connection lent by a pool (or a synchronous SQLite reader), for one call's statements.
pub(in crate::storage) enum Conn<'r> {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    /// A synchronous SQLite reader (`storage/readers.rs`), for short index-bounded reads.
    Reader(super::readers::Reader<'r>),
    /// A shared PostgreSQL read connection (`storage/pg_readers.rs`).
    PgReader(super::pg_readers::PgRead),
}

impl Conn<'_> {
    pub(in crate::storage) async fn acquire(pool: &Pool) -> Result<Conn<'static>, StoreError> {
        match pool {
            Pool::Sqlite(pool) => pool.acquire().await.map(Conn::Sqlite),
            Pool::Postgres(pool) => pool.acquire().await.map(Conn::Postgres),
        }
        .map_err(StoreError::from_query)
    }

    pub(in crate::storage) fn ex(&mut self) -> Ex<'_> {
        match self {
            Conn::Sqlite(conn) => Ex::Sqlite(conn),
            Conn::Postgres(conn) => Ex::Postgres(conn),
            Conn::Reader(reader) => Ex::Reader(reader.conn()),
            Conn::PgReader(reader) => Ex::PgReader(reader),
        }
    }
}

/// A row of either backend.
pub(in crate::storage) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
    Reader(ReaderRow),
    PgReader(tokio_postgres::Row),
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
            Val::Uuid(id) => query.bind(encode_uuid(id)),
            Val::OptUuid(id) => query.bind(id.map(encode_uuid)),
            Val::Time(at) => query.bind(encode_timestamp(at)?),
            Val::OptTime(at) => query.bind(at.map(encode_timestamp).transpose()?),
            Val::Date(date) => query.bind(encode_date(date)?),
            Val::Json(json) => query.bind(json),
            Val::TextList(texts) => query.bind(json_list(texts)?),
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
) -> Result<sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>, StoreError> {
    let mut query = sqlx::query(sql);
    for arg in args {
        query = match *arg {
            Val::Date(date) => query.bind(date),
            Val::TextList(texts) => query.bind(texts),
            Val::Json(json) => query.bind(sqlx::types::Json(
                serde_json::from_str::<serde_json::Value>(json).map_err(|_| {
                    StoreError::Corrupt {
                        what: "a JSON value",
                    }
                })?,
            )),
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
    Ok(query)
}

impl Ex<'_> {
    /// `sqlite` on SQLite, `postgres` on PostgreSQL.
    fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Ex::Sqlite(_) | Ex::Reader(_) => sqlite,
            Ex::Postgres(_) | Ex::PgReader(_) => postgres,
        }
    }

    pub(in crate::storage) fn is_sqlite(&self) -> bool {
        matches!(self, Ex::Sqlite(_) | Ex::Reader(_))
    }

    /// This database's text of a query that differs by database.
    pub(in crate::storage) fn dialect(&self, query: &Dialect) -> &'static str {
        self.pick(query.sqlite, query.postgres)
    }

    /// One row that must be there (an `INSERT … RETURNING`, a count).
    pub(in crate::storage) async fn fetch_one(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Row, StoreError> {
        self.fetch_optional(sql, args)
            .await?
            .ok_or(StoreError::Corrupt {
                what: "a row the statement returns",
            })
    }

    /// Inserts many rows in one statement: `head` is `INSERT INTO t (a, b, …)`, each row gives
    /// the same number of values, and the statement is cut into chunks that stay under
    /// SQLite's limit on bound values (PostgreSQL's is higher). The number of rows inserted.
    pub(in crate::storage) async fn insert_rows(
        &mut self,
        head: &str,
        rows: &[Vec<Val<'_>>],
    ) -> Result<u64, StoreError> {
        let width = rows.first().map_or(0, Vec::len);
        if width == 0 {
            return Ok(0);
        }
        let plain = plain_row(width);
        let mut inserted = 0;
        for chunk in rows.chunks(chunk_rows(width)) {
            let (sql, args) = multi_row(head, &plain, chunk, "");
            inserted += self.execute_once(&sql, &args).await?;
        }
        Ok(inserted)
    }

    /// As [`insert_rows`](Ex::insert_rows), with each row's group written from `row` (`{k}`
    /// for the row's k-th value, so a value may be used twice or inside an expression) and
    /// `tail` after the values (`ON CONFLICT …`, `RETURNING …`); the rows `RETURNING` gives.
    pub(in crate::storage) async fn insert_rows_returning(
        &mut self,
        head: &str,
        row: &str,
        rows: &[Vec<Val<'_>>],
        tail: &str,
    ) -> Result<Vec<Row>, StoreError> {
        let width = rows.first().map_or(0, Vec::len);
        let mut returned = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(chunk_rows(width)) {
            let (sql, args) = multi_row(head, row, chunk, tail);
            returned.extend(self.fetch_all_once(&sql, &args).await?);
        }
        Ok(returned)
    }

    /// A query over a list of value rows: `head`, then `VALUES (…), (…)` (columns `column1`,
    /// `column2`, … on both databases), then `tail`; cut into chunks as
    /// [`insert_rows`](Ex::insert_rows) is. Every chunk's result rows.
    pub(in crate::storage) async fn select_values(
        &mut self,
        head: &str,
        rows: &[Vec<Val<'_>>],
        tail: &str,
    ) -> Result<Vec<Row>, StoreError> {
        let plain = plain_row(rows.first().map_or(0, Vec::len));
        self.insert_rows_returning(head, &plain, rows, tail).await
    }

    /// As [`execute`](Ex::execute), for a text made for this one call: not kept as a prepared
    /// statement (a multi-row insert's text depends on its row count).
    async fn execute_once(&mut self, sql: &str, args: &[Val<'_>]) -> Result<u64, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .persistent(false)
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Postgres(conn) => postgres_query(sql, args)?
                .persistent(false)
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Reader(_) | Ex::PgReader(_) => return self.execute(sql, args).await,
        }
        .map_err(write_error)
    }

    /// As [`fetch_all`](Ex::fetch_all), for a text made for this one call.
    async fn fetch_all_once(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .persistent(false)
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Ex::Postgres(conn) => postgres_query(sql, args)?
                .persistent(false)
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
            Ex::Reader(_) | Ex::PgReader(_) => return self.fetch_all(sql, args).await,
        }
        .map_err(write_error)
    }

    /// Runs a statement; the number of rows it touched.
    pub(in crate::storage) async fn execute(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<u64, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Postgres(conn) => postgres_query(sql, args)?
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Reader(conn) => {
                use super::readers::read_error;
                let mut statement = conn.prepare_cached(sql).map_err(read_error)?;
                reader_bind(&mut statement, args)?;
                return statement
                    .raw_execute()
                    .map(|changed| changed as u64)
                    .map_err(read_error);
            }
            Ex::PgReader(reader) => return reader.execute(sql, args).await,
        }
        .map_err(write_error)
    }

    pub(in crate::storage) async fn fetch_all(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Vec<Row>, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Ex::Postgres(conn) => postgres_query(sql, args)?
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
            Ex::Reader(conn) => return reader_rows(conn, sql, args, usize::MAX),
            Ex::PgReader(reader) => {
                let rows = reader.query(sql, args).await?;
                return Ok(rows.into_iter().map(Row::PgReader).collect());
            }
        }
        .map_err(write_error)
    }

    /// Every row of a query, each decoded by `decode` from its [`Columns`]: on a reader by
    /// position, with nothing copied but what `decode` keeps.
    pub(in crate::storage) async fn fetch_decoded<T>(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
        decode: impl Fn(Columns<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        match self {
            // By position, where the row is: the hot lists (a mailbox page's letters) skip
            // the copied `ReaderRow` and its lookups by name.
            Ex::Reader(conn) => reader_each(conn, sql, args, usize::MAX, |row| {
                decode(Columns::Reader(row))
            }),
            _ => self
                .fetch_all(sql, args)
                .await?
                .iter()
                .map(|row| decode(Columns::Named(row)))
                .collect(),
        }
    }

    pub(in crate::storage) async fn fetch_optional(
        &mut self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Option<Row>, StoreError> {
        match self {
            Ex::Sqlite(conn) => sqlite_query(sql, args)?
                .fetch_optional(&mut **conn)
                .await
                .map(|row| row.map(Row::Sqlite)),
            Ex::Postgres(conn) => postgres_query(sql, args)?
                .fetch_optional(&mut **conn)
                .await
                .map(|row| row.map(Row::Postgres)),
            Ex::Reader(conn) => return Ok(reader_rows(conn, sql, args, 1)?.pop()),
            Ex::PgReader(reader) => {
                let rows = reader.query(sql, args).await?;
                return Ok(rows.into_iter().next().map(Row::PgReader));
            }
        }
        .map_err(write_error)
    }
}

/// Rows of `width` values per statement: under SQLite's limit on bound values.
fn chunk_rows(width: usize) -> usize {
    (encode::MAX_VARIABLES / width.max(1)).max(1)
}

/// A row group of `width` plain placeholders: `({0}, {1}, …)`.
fn plain_row(width: usize) -> String {
    let mut row = String::from("(");
    for k in 0..width {
        if k > 0 {
            row.push_str(", ");
        }
        let _ = write!(row, "{{{k}}}");
    }
    row.push(')');
    row
}

/// `head VALUES <row>, <row>, … tail` with each row's `{k}` numbered in turn, and the values
/// in that order.
fn multi_row<'v>(
    head: &str,
    row: &str,
    rows: &[Vec<Val<'v>>],
    tail: &str,
) -> (String, Vec<Val<'v>>) {
    let mut sql = String::with_capacity(head.len() + tail.len() + rows.len() * (row.len() + 8));
    sql.push_str(head);
    sql.push_str(" VALUES ");
    let mut args = Vec::with_capacity(rows.iter().map(Vec::len).sum());
    for (n, values) in rows.iter().enumerate() {
        if n > 0 {
            sql.push_str(", ");
        }
        let first = args.len();
        let mut rest = row;
        while let Some(open) = rest.find('{') {
            sql.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after
                .find('}')
                .and_then(|close| Some((close, after[..close].parse::<usize>().ok()?)))
            {
                Some((close, k)) => {
                    let _ = write!(sql, "${}", first + k + 1);
                    rest = &after[close + 1..];
                }
                None => {
                    sql.push('{');
                    rest = after;
                }
            }
        }
        sql.push_str(rest);
        args.extend_from_slice(values);
    }
    sql.push_str(tail);
    (sql, args)
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
pub(in crate::storage) fn write_error(error: sqlx::Error) -> StoreError {
    match conflict_of(&error) {
        Some(conflict) => StoreError::Conflict(conflict),
        None => StoreError::from_query(error),
    }
}

/// Whether a failed write broke a unique rule (SQLite `SQLITE_CONSTRAINT_UNIQUE`, 2067;
/// PostgreSQL `unique_violation`, 23505).
pub(in crate::storage) fn is_unique_violation(error: &StoreError) -> bool {
    match error {
        StoreError::Database(cause) => {
            matches!(cause.code().as_deref(), Some("2067") | Some("23505"))
        }
        _ => false,
    }
}
