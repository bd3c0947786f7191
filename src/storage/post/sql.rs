//! A thin layer for the post register's queries: one SQL text for both databases where the
//! dialects agree (`$1` placeholders work on both), values bound in each backend's encoding
//! (see `migrations/README.md`: UUIDs and timestamps as text on SQLite, native on
//! PostgreSQL), and rows read back through the same getters.

use sqlx::postgres::{PgConnection, PgRow};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::Row as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::sqlite::{decode_timestamp, encode_timestamp, encode_uuid};
use super::super::{StoreError, Tx};

/// A value to bind.
#[derive(Clone, Copy)]
pub(in crate::storage) enum Val<'a> {
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

/// A connection of either backend: a transaction's or one from the pool, or a synchronous
/// SQLite reader (`storage/readers.rs`), on which every call finishes without waiting.
pub(in crate::storage) enum Ex<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
    Reader(&'c mut rusqlite::Connection),
}

impl Tx {
    pub(in crate::storage) fn ex(&mut self) -> Ex<'_> {
        match self {
            Tx::Sqlite(tx) => Ex::Sqlite(tx),
            Tx::Postgres(tx) => Ex::Postgres(tx),
        }
    }
}

/// A row of either backend.
pub(in crate::storage) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
    Reader(ReaderRow),
}

/// A row read by a synchronous reader: its values by column name. The row's texts and blobs
/// are kept in one buffer each (a mailbox row has nine texts: one allocation, not nine), and
/// read back as borrowed slices, so parsing an id or a time allocates nothing.
pub(in crate::storage) struct ReaderRow {
    columns: std::sync::Arc<[String]>,
    cells: Vec<Cell>,
    text: String,
    blobs: Vec<u8>,
    /// Where the next column is looked for first: the one after the last found. Rows are
    /// mostly read in the order of their columns, so a lookup is then one comparison.
    next: std::cell::Cell<usize>,
}

/// A value of a [`ReaderRow`]: texts and blobs as ranges of the row's buffers.
#[derive(Clone, Copy)]
enum Cell {
    Null,
    Int(i64),
    Real,
    Text(usize, usize),
    Blob(usize, usize),
}

impl ReaderRow {
    /// Copies the current row of a query out of SQLite.
    /// `text_capacity`: room for the row's texts (the previous row's size: the rows of a
    /// query are alike, so its texts are then copied without growing the buffer).
    fn read(
        columns: &std::sync::Arc<[String]>,
        row: &rusqlite::Row<'_>,
        text_capacity: usize,
    ) -> Result<ReaderRow, StoreError> {
        use rusqlite::types::ValueRef;
        let mut read = ReaderRow {
            columns: columns.clone(),
            cells: Vec::with_capacity(columns.len()),
            text: String::with_capacity(text_capacity),
            blobs: Vec::new(),
            next: std::cell::Cell::new(0),
        };
        for at in 0..columns.len() {
            let value = row.get_ref(at).map_err(super::super::readers::read_error)?;
            let cell = match value {
                ValueRef::Null => Cell::Null,
                ValueRef::Integer(value) => Cell::Int(value),
                ValueRef::Real(_) => Cell::Real,
                ValueRef::Text(bytes) => {
                    let text = std::str::from_utf8(bytes).map_err(|_| StoreError::Corrupt {
                        what: "a text that is not UTF-8",
                    })?;
                    let start = read.text.len();
                    read.text.push_str(text);
                    Cell::Text(start, read.text.len())
                }
                ValueRef::Blob(bytes) => {
                    let start = read.blobs.len();
                    read.blobs.extend_from_slice(bytes);
                    Cell::Blob(start, read.blobs.len())
                }
            };
            read.cells.push(cell);
        }
        Ok(read)
    }

    /// The cell of `column`: the one after the last found if that is it (one comparison for a
    /// row read in column order), else found by name.
    fn get(&self, column: &str) -> Option<Cell> {
        let next = self.next.get();
        let at = if self.columns.get(next).is_some_and(|name| name == column) {
            next
        } else {
            self.columns.iter().position(|name| name == column)?
        };
        self.next.set(at + 1);
        self.cells.get(at).copied()
    }
}

/// Binds `args` to a reader's statement. Placeholders are `$N` (as in every SQL text here:
/// SQLite numbers named parameters in the order they first appear, so each one is looked up
/// by its name) or `?N`.
fn reader_bind(
    statement: &mut rusqlite::CachedStatement<'_>,
    args: &[Val<'_>],
) -> Result<(), StoreError> {
    use rusqlite::types::{ToSqlOutput, Value as V};
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.get(1..))
            .and_then(|digits| digits.parse::<usize>().ok())
            .unwrap_or(index);
        let arg = args
            .get(number.wrapping_sub(1))
            .ok_or(StoreError::Corrupt {
                what: "a query's parameters",
            })?;
        let value: ToSqlOutput<'_> = match *arg {
            Val::Text(text) => ToSqlOutput::from(text),
            Val::OptText(text) => text.map_or(ToSqlOutput::Owned(V::Null), ToSqlOutput::from),
            Val::Uuid(id) => ToSqlOutput::Owned(V::Text(encode_uuid(id))),
            Val::OptUuid(id) => {
                ToSqlOutput::Owned(id.map_or(V::Null, |id| V::Text(encode_uuid(id))))
            }
            Val::Time(at) => ToSqlOutput::Owned(V::Text(encode_timestamp(at)?)),
            Val::OptTime(at) => ToSqlOutput::Owned(match at {
                Some(at) => V::Text(encode_timestamp(at)?),
                None => V::Null,
            }),
            Val::Bool(value) => ToSqlOutput::Owned(V::Integer(i64::from(value))),
            Val::Int(value) => ToSqlOutput::Owned(V::Integer(value)),
            Val::OptInt(value) => ToSqlOutput::Owned(value.map_or(V::Null, V::Integer)),
            Val::Bytes(bytes) => ToSqlOutput::from(bytes),
        };
        statement
            .raw_bind_parameter(index, value)
            .map_err(super::super::readers::read_error)?;
    }
    Ok(())
}

/// Distinct query texts whose column names a thread keeps (the readers' queries are a few
/// dozen fixed texts; past this the list starts again).
const KEPT_COLUMN_LISTS: usize = 128;

thread_local! {
    /// The column names of each query text this thread has run on a reader, so that a query
    /// does not copy its names again for every call (a dozen small allocations each).
    /// (Fx, not SipHash: the keys are the program's own query texts, hashed on every query.)
    static COLUMN_NAMES: std::cell::RefCell<rustc_hash::FxHashMap<String, std::sync::Arc<[String]>>> =
        std::cell::RefCell::new(rustc_hash::FxHashMap::default());
}

/// The names of `statement`'s columns (prepared from `sql`).
fn column_names(sql: &str, statement: &rusqlite::Statement<'_>) -> std::sync::Arc<[String]> {
    COLUMN_NAMES.with(|kept| {
        let mut kept = kept.borrow_mut();
        // (The same text has the same columns: no reader query selects `*`. The count is
        // checked all the same.)
        if let Some(names) = kept.get(sql) {
            if names.len() == statement.column_count() {
                return names.clone();
            }
        }
        let names: std::sync::Arc<[String]> = statement
            .column_names()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if kept.len() >= KEPT_COLUMN_LISTS {
            kept.clear();
        }
        kept.insert(sql.to_owned(), names.clone());
        names
    })
}

/// Rows a reader's query makes room for at first (a page of letters is 21).
const ROWS_CAPACITY: usize = 32;
/// Room for the texts of a query's first row (a letter's list columns are about 150 bytes).
const FIRST_ROW_TEXT: usize = 256;

/// Runs a reader's query and turns each of its rows (at most `limit`) into a `T` with `each`,
/// where the row is: what is kept is `each`'s to copy.
fn reader_each<T>(
    conn: &mut rusqlite::Connection,
    sql: &str,
    args: &[Val<'_>],
    limit: usize,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    use super::super::readers::read_error;
    let mut statement = conn.prepare_cached(sql).map_err(read_error)?;
    reader_bind(&mut statement, args)?;
    let mut rows = statement.raw_query();
    let mut out = Vec::with_capacity(limit.min(ROWS_CAPACITY));
    while out.len() < limit {
        let Some(row) = rows.next().map_err(read_error)? else {
            break;
        };
        out.push(each(row)?);
    }
    Ok(out)
}

/// Runs a reader's query and collects its rows (at most `limit`), each copied into a
/// [`ReaderRow`] to be read by column name.
fn reader_rows(
    conn: &mut rusqlite::Connection,
    sql: &str,
    args: &[Val<'_>],
    limit: usize,
) -> Result<Vec<Row>, StoreError> {
    let mut columns = None;
    // The first row's texts are sized by a guess, the next ones by the rows before them.
    let mut text_capacity = FIRST_ROW_TEXT;
    reader_each(conn, sql, args, limit, |row| {
        let columns = columns.get_or_insert_with(|| column_names(sql, row.as_ref()));
        let row = ReaderRow::read(columns, row, text_capacity)?;
        text_capacity = text_capacity.max(row.text.len());
        Ok(Row::Reader(row))
    })
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
    pub(in crate::storage) fn pick<'s>(&self, sqlite: &'s str, postgres: &'s str) -> &'s str {
        match self {
            Ex::Sqlite(_) | Ex::Reader(_) => sqlite,
            Ex::Postgres(_) => postgres,
        }
    }

    pub(in crate::storage) fn is_sqlite(&self) -> bool {
        matches!(self, Ex::Sqlite(_) | Ex::Reader(_))
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
            Ex::Postgres(conn) => postgres_query(sql, args)
                .execute(&mut **conn)
                .await
                .map(|done| done.rows_affected()),
            Ex::Reader(conn) => {
                use super::super::readers::read_error;
                let mut statement = conn.prepare_cached(sql).map_err(read_error)?;
                reader_bind(&mut statement, args)?;
                return statement
                    .raw_execute()
                    .map(|changed| changed as u64)
                    .map_err(read_error);
            }
        }
        .map_err(StoreError::from_query)
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
            Ex::Postgres(conn) => postgres_query(sql, args)
                .fetch_all(&mut **conn)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
            Ex::Reader(conn) => return reader_rows(conn, sql, args, usize::MAX),
        }
        .map_err(StoreError::from_query)
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
            Ex::Postgres(conn) => postgres_query(sql, args)
                .fetch_optional(&mut **conn)
                .await
                .map(|row| row.map(Row::Postgres)),
            Ex::Reader(conn) => return Ok(reader_rows(conn, sql, args, 1)?.pop()),
        }
        .map_err(StoreError::from_query)
    }
}

/// A UUID as SQLite stores it (hyphenated text); `Corrupt` naming `what` if it is not one.
fn uuid_from_text(text: &str, what: &'static str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(text).map_err(|_| StoreError::Corrupt { what })
}

/// A time as SQLite stores it (`encode_timestamp`); `Corrupt` naming `what` if it is not one.
fn time_from_text(text: &str, what: &'static str) -> Result<OffsetDateTime, StoreError> {
    decode_timestamp(text).ok_or_else(|| StoreError::Corrupt { what })
}

fn corrupt(what: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |_| StoreError::Corrupt { what }
}

impl ReaderRow {
    /// The column's value: `None` for NULL; `Corrupt` when there is no such column or the
    /// value has another storage class than `pick` takes. (Errors are made only when one
    /// occurs: this runs for every column of every row a page reads.)
    #[inline]
    fn value<T>(
        &self,
        column: &str,
        what: &'static str,
        pick: impl FnOnce(Cell) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        match self.get(column) {
            None => Err(StoreError::Corrupt { what }),
            Some(Cell::Null) => Ok(None),
            Some(cell) => match pick(cell) {
                Some(value) => Ok(Some(value)),
                None => Err(StoreError::Corrupt { what }),
            },
        }
    }

    fn opt_str(&self, column: &str, what: &'static str) -> Result<Option<&str>, StoreError> {
        self.value(column, what, |cell| match cell {
            Cell::Text(start, end) => self.text.get(start..end),
            _ => None,
        })
    }

    fn opt_int(&self, column: &str, what: &'static str) -> Result<Option<i64>, StoreError> {
        self.value(column, what, |cell| match cell {
            Cell::Int(value) => Some(value),
            _ => None,
        })
    }
}

impl Row {
    pub(in crate::storage) fn text(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<String, StoreError> {
        self.str(column, what).map(str::to_owned)
    }

    pub(in crate::storage) fn opt_text(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<String>, StoreError> {
        Ok(self.opt_str(column, what)?.map(str::to_owned))
    }

    /// A text column, borrowed from the row (for parsing: nothing is copied).
    pub(in crate::storage) fn str(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<&str, StoreError> {
        self.opt_str(column, what)?
            .ok_or_else(|| StoreError::Corrupt { what })
    }

    /// A nullable text column, borrowed from the row.
    pub(in crate::storage) fn opt_str(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<&str>, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get(column).map_err(corrupt(what)),
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            Row::Reader(row) => row.opt_str(column, what),
        }
    }

    pub(in crate::storage) fn uuid(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Uuid, StoreError> {
        self.opt_uuid(column, what)?
            .ok_or_else(|| StoreError::Corrupt { what })
    }

    pub(in crate::storage) fn opt_uuid(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<Uuid>, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            _ => self
                .opt_str(column, what)?
                .map(|text| uuid_from_text(text, what))
                .transpose(),
        }
    }

    pub(in crate::storage) fn time(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<OffsetDateTime, StoreError> {
        self.opt_time(column, what)?
            .ok_or_else(|| StoreError::Corrupt { what })
    }

    pub(in crate::storage) fn opt_time(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            _ => self
                .opt_str(column, what)?
                .map(|text| time_from_text(text, what))
                .transpose(),
        }
    }

    pub(in crate::storage) fn bool(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            _ => self.int(column, what).map(|value| value != 0),
        }
    }

    /// A nullable integer column.
    pub(in crate::storage) fn opt_int(
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
            Row::Reader(row) => row.opt_int(column, what),
        }
    }

    /// An integer column (INTEGER on SQLite; INTEGER or BIGINT on PostgreSQL).
    pub(in crate::storage) fn int(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<i64, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get::<i64, _>(column).map_err(corrupt(what)),
            Row::Postgres(row) => row
                .try_get::<i64, _>(column)
                .or_else(|_| row.try_get::<i32, _>(column).map(i64::from))
                .map_err(corrupt(what)),
            Row::Reader(row) => row
                .opt_int(column, what)?
                .ok_or_else(|| StoreError::Corrupt { what }),
        }
    }

    pub(in crate::storage) fn bytes(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Vec<u8>, StoreError> {
        match self {
            Row::Sqlite(row) => row.try_get(column).map_err(corrupt(what)),
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            Row::Reader(row) => row
                .value(column, what, |cell| match cell {
                    Cell::Blob(start, end) => row.blobs.get(start..end).map(<[u8]>::to_vec),
                    _ => None,
                })?
                .ok_or_else(|| StoreError::Corrupt { what }),
        }
    }
}

/// One row's columns for a decoder that knows the query's column order: a reader's row is
/// read by position (`at`), any other by name (`column`). Both are given, so that one decoder
/// serves both backends; debug builds (the tests) check that they name the same column.
#[derive(Clone, Copy)]
pub(in crate::storage) enum Columns<'r> {
    Named(&'r Row),
    Reader(&'r rusqlite::Row<'r>),
}

impl<'r> Columns<'r> {
    /// A reader row's value at `at` (which must be `column`).
    fn reader_value(
        row: &'r rusqlite::Row<'r>,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<rusqlite::types::ValueRef<'r>, StoreError> {
        debug_assert_eq!(
            row.as_ref().column_name(at).ok(),
            Some(column),
            "column {at} of {what}"
        );
        row.get_ref(at).map_err(|_| StoreError::Corrupt { what })
    }

    /// A nullable text column, borrowed from the row.
    pub(in crate::storage) fn opt_str(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<Option<&'r str>, StoreError> {
        use rusqlite::types::ValueRef;
        match self {
            Columns::Named(row) => row.opt_str(column, what),
            Columns::Reader(row) => match Self::reader_value(row, at, column, what)? {
                ValueRef::Null => Ok(None),
                ValueRef::Text(bytes) => std::str::from_utf8(bytes)
                    .map(Some)
                    .map_err(|_| StoreError::Corrupt { what }),
                _ => Err(StoreError::Corrupt { what }),
            },
        }
    }

    /// A text column, borrowed from the row.
    pub(in crate::storage) fn str(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<&'r str, StoreError> {
        self.opt_str(at, column, what)?
            .ok_or_else(|| StoreError::Corrupt { what })
    }

    pub(in crate::storage) fn text(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<String, StoreError> {
        self.str(at, column, what).map(str::to_owned)
    }

    pub(in crate::storage) fn uuid(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<Uuid, StoreError> {
        match self {
            Columns::Named(row) => row.uuid(column, what),
            Columns::Reader(_) => uuid_from_text(self.str(at, column, what)?, what),
        }
    }

    pub(in crate::storage) fn opt_time(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        match self {
            Columns::Named(row) => row.opt_time(column, what),
            Columns::Reader(_) => self
                .opt_str(at, column, what)?
                .map(|text| time_from_text(text, what))
                .transpose(),
        }
    }

    pub(in crate::storage) fn time(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<OffsetDateTime, StoreError> {
        self.opt_time(at, column, what)?
            .ok_or_else(|| StoreError::Corrupt { what })
    }

    /// An integer column (INTEGER on SQLite; INTEGER or BIGINT on PostgreSQL).
    pub(in crate::storage) fn int(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<i64, StoreError> {
        use rusqlite::types::ValueRef;
        match self {
            Columns::Named(row) => row.int(column, what),
            Columns::Reader(row) => match Self::reader_value(row, at, column, what)? {
                ValueRef::Integer(value) => Ok(value),
                _ => Err(StoreError::Corrupt { what }),
            },
        }
    }

    pub(in crate::storage) fn bool(
        self,
        at: usize,
        column: &str,
        what: &'static str,
    ) -> Result<bool, StoreError> {
        match self {
            Columns::Named(row) => row.bool(column, what),
            Columns::Reader(_) => self.int(at, column, what).map(|value| value != 0),
        }
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
