//! Reading rows back: [`Row`]'s getters by column name and [`Columns`]' by position, one
//! decoding for both databases (SQLite's texts parsed as `encode.rs` writes them, PostgreSQL's
//! native types read as they are).

use sqlx::Row as _;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::encode::{decode_date, decode_timestamp};
use super::reader::Cell;
use super::Row;
use crate::storage::StoreError;

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

/// As [`corrupt`], for a row of PostgreSQL's read path (`pg_readers.rs`).
fn pg_corrupt(what: &'static str) -> impl Fn(tokio_postgres::Error) -> StoreError {
    move |_| StoreError::Corrupt { what }
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
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
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
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
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
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
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
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
            _ => self.int(column, what).map(|value| value != 0),
        }
    }

    /// A nullable boolean column.
    pub(in crate::storage) fn opt_bool(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<bool>, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
            _ => Ok(self.opt_int(column, what)?.map(|value| value != 0)),
        }
    }

    pub(in crate::storage) fn date(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Date, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
            _ => decode_date(self.str(column, what)?).ok_or(StoreError::Corrupt { what }),
        }
    }

    /// A nullable date column.
    pub(in crate::storage) fn opt_date(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<Date>, StoreError> {
        match self {
            Row::Postgres(row) => row.try_get(column).map_err(corrupt(what)),
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
            _ => self
                .opt_str(column, what)?
                .map(|text| decode_date(text).ok_or(StoreError::Corrupt { what }))
                .transpose(),
        }
    }

    /// A JSON column as its text.
    pub(in crate::storage) fn json(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<String, StoreError> {
        match self {
            Row::Postgres(row) => row
                .try_get::<sqlx::types::Json<serde_json::Value>, _>(column)
                .map(|json| json.0.to_string())
                .map_err(corrupt(what)),
            Row::PgReader(row) => row
                .try_get::<_, serde_json::Value>(column)
                .map(|json| json.to_string())
                .map_err(pg_corrupt(what)),
            _ => self.text(column, what),
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
            Row::PgReader(row) => row
                .try_get::<_, Option<i64>>(column)
                .or_else(|_| {
                    row.try_get::<_, Option<i32>>(column)
                        .map(|value| value.map(i64::from))
                })
                .map_err(pg_corrupt(what)),
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
            Row::PgReader(row) => row
                .try_get::<_, i64>(column)
                .or_else(|_| row.try_get::<_, i32>(column).map(i64::from))
                .map_err(pg_corrupt(what)),
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
            Row::PgReader(row) => row.try_get(column).map_err(pg_corrupt(what)),
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
