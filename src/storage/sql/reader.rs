//! Rows read by a synchronous SQLite reader (`storage/readers.rs`): statements bound from
//! [`Val`]s, rows copied into a [`ReaderRow`] or decoded where they are ([`reader_each`]).

use super::encode::{encode_date, encode_timestamp, encode_uuid};
use super::{Row, Val};
use crate::storage::readers::read_error;
use crate::storage::StoreError;

/// A row read by a synchronous reader: its values by column name. The row's texts and blobs
/// are kept in one buffer each (a mailbox row has nine texts: one allocation, not nine), and
/// read back as borrowed slices, so parsing an id or a time allocates nothing.
pub(in crate::storage) struct ReaderRow {
    columns: std::sync::Arc<[String]>,
    cells: Vec<Cell>,
    text: String,
    pub(super) blobs: Vec<u8>,
    /// Where the next column is looked for first: the one after the last found. Rows are
    /// mostly read in the order of their columns, so a lookup is then one comparison.
    next: std::cell::Cell<usize>,
}

/// A value of a [`ReaderRow`]: texts and blobs as ranges of the row's buffers.
#[derive(Clone, Copy)]
pub(super) enum Cell {
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
            let value = row.get_ref(at).map_err(read_error)?;
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
pub(super) fn reader_bind(
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
            Val::Date(date) => ToSqlOutput::Owned(V::Text(encode_date(date)?)),
            Val::Json(json) => ToSqlOutput::from(json),
            Val::TextList(texts) => ToSqlOutput::Owned(V::Text(super::json_list(texts)?)),
            Val::Bool(value) => ToSqlOutput::Owned(V::Integer(i64::from(value))),
            Val::Int(value) => ToSqlOutput::Owned(V::Integer(value)),
            Val::OptInt(value) => ToSqlOutput::Owned(value.map_or(V::Null, V::Integer)),
            Val::Bytes(bytes) => ToSqlOutput::from(bytes),
        };
        statement
            .raw_bind_parameter(index, value)
            .map_err(read_error)?;
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
pub(super) fn reader_each<T>(
    conn: &mut rusqlite::Connection,
    sql: &str,
    args: &[Val<'_>],
    limit: usize,
    mut each: impl FnMut(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    use read_error;
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
pub(super) fn reader_rows(
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

impl ReaderRow {
    /// The column's value: `None` for NULL; `Corrupt` when there is no such column or the
    /// value has another storage class than `pick` takes. (Errors are made only when one
    /// occurs: this runs for every column of every row a page reads.)
    #[inline]
    pub(super) fn value<T>(
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

    pub(super) fn opt_str(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<&str>, StoreError> {
        self.value(column, what, |cell| match cell {
            Cell::Text(start, end) => self.text.get(start..end),
            _ => None,
        })
    }

    pub(super) fn opt_int(
        &self,
        column: &str,
        what: &'static str,
    ) -> Result<Option<i64>, StoreError> {
        self.value(column, what, |cell| match cell {
            Cell::Int(value) => Some(value),
            _ => None,
        })
    }
}
