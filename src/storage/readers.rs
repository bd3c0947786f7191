//! Synchronous SQLite readers for the reads every logged-in page makes (the session, the
//! person, the mailbox's folders, letters and unread count, a page of the activity log, the
//! contact entry and its pending codes).
//!
//! Why not sqlx for these: sqlx's SQLite driver runs each connection on its own thread and
//! hands every statement (and its rows) across to it and back. Each hand-off wakes a sleeping
//! thread, and under load that, not SQLite, was most of the cost of a page: a profile of
//! `GET /post` showed about 45 % of the CPU in the kernel switching threads, for five reads
//! that SQLite itself answers in tens of microseconds from its page cache (the query plans
//! are in docs/benchmarks.md). Here a read runs on the calling thread, on a connection of its
//! own, with prepared statements kept per connection.
//!
//! What that asks of the callers: only short, index-bounded reads come here (a session by its
//! hash, a person by id, one keyset page of letters or events, a count bounded by a limit);
//! they take about as long as rendering a few lines of the page, on the same thread. Anything that can
//! scan (search) or write stays on sqlx's pools. In WAL mode a reader never waits for the
//! writer, and these connections are `query_only`, so a mistake that tries to write through
//! one fails instead of taking the write lock.
//!
//! The connections are opened on demand and kept (at most [`MAX_IDLE`]); there is no upper
//! bound on how many are open at once beyond the threads that can call in at the same time
//! (the runtime's workers), since a reader is held only for the duration of a synchronous call.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::{DatabaseCause, StoreError};

/// Connections kept open between reads.
const MAX_IDLE: usize = 8;
/// Statements kept prepared per connection (the hot reads are a handful).
const STATEMENT_CACHE: usize = 32;
/// A reader waits this long at most: in WAL mode readers wait only in rare moments (a
/// checkpoint resetting the log), and a page should rather fail than hang.
const BUSY_TIMEOUT: Duration = Duration::from_millis(500);

/// The pool of reader connections to one SQLite file.
pub(super) struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readers").finish_non_exhaustive()
    }
}

/// A reader lent out; goes back to the pool when dropped.
pub(super) struct Reader<'p> {
    conn: Option<Connection>,
    readers: &'p Readers,
}

impl Readers {
    /// Readers for the database file at `path` (which the sqlx pools have already opened,
    /// migrated and put in WAL mode). Opens one connection now so that a wrong path fails at
    /// start-up.
    pub(super) fn open(path: PathBuf) -> Result<Readers, StoreError> {
        let readers = Readers {
            path,
            idle: Mutex::new(Vec::new()),
        };
        let first = readers.connect()?;
        readers.idle_list().push(first);
        Ok(readers)
    }

    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(unavailable)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(unavailable)?;
        conn.pragma_update(None, "query_only", true)
            .map_err(unavailable)?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }

    fn idle_list(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // A panic while the lock was held cannot leave the list half-changed (push and pop
        // only), so a poisoned lock is still a good list.
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A reader: an idle connection, or a new one.
    pub(super) fn get(&self) -> Result<Reader<'_>, StoreError> {
        let idle = self.idle_list().pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Reader {
            conn: Some(conn),
            readers: self,
        })
    }
}

impl Reader<'_> {
    // The connection is `Some` from `get` until `drop` takes it back to the pool; the `Option`
    // exists only so that `drop` can move it out. No caller can observe `None`.
    #[allow(clippy::expect_used)]
    pub(super) fn conn(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .expect("a reader holds its connection until dropped")
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        // A connection left inside a transaction (a read that failed half-way cannot, as
        // reads here are single statements, but be safe) is not lent out again.
        if !conn.is_autocommit() {
            return;
        }
        let mut idle = self.readers.idle_list();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }
}

/// A reader that could not be opened: the database is not usable now.
fn unavailable(error: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(DatabaseCause::Sqlite(error))
}

/// A failed read.
pub(super) fn read_error(error: rusqlite::Error) -> StoreError {
    StoreError::Database(DatabaseCause::Sqlite(error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::post::sql::{Ex, Val};

    fn readers_on_a_new_file() -> (tempfile::TempDir, Readers) {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("r.db");
        let setup = Connection::open(&path).expect("database file");
        setup
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (a INTEGER, b TEXT, c BLOB);
                 INSERT INTO t VALUES (1, 'one', x'01'), (2, 'two', NULL);",
            )
            .expect("table");
        (dir, Readers::open(path).expect("readers"))
    }

    #[tokio::test]
    async fn placeholders_are_bound_by_their_number_not_their_position() {
        let (_dir, readers) = readers_on_a_new_file();
        let mut reader = readers.get().expect("reader");
        let mut ex = Ex::Reader(reader.conn());
        let row = ex
            .fetch_optional(
                "SELECT b, $2 AS second, $1 AS first FROM t WHERE a = $2",
                &[Val::Text("x"), Val::Int(2)],
            )
            .await
            .expect("query")
            .expect("a row");
        assert_eq!(row.text("b", "b").expect("b"), "two");
        assert_eq!(row.int("second", "second").expect("second"), 2);
        assert_eq!(row.text("first", "first").expect("first"), "x");
    }

    #[tokio::test]
    async fn rows_come_back_with_their_values_and_nulls() {
        let (_dir, readers) = readers_on_a_new_file();
        let mut reader = readers.get().expect("reader");
        let rows = Ex::Reader(reader.conn())
            .fetch_all("SELECT a, b, c FROM t ORDER BY a", &[])
            .await
            .expect("query");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].bytes("c", "c").expect("blob"), vec![1]);
        assert_eq!(rows[1].opt_text("c", "c").expect("null"), None);
        assert!(
            rows[1].text("a", "a").is_err(),
            "an integer is not read as text"
        );
        assert!(rows[0].int("missing", "missing").is_err());
    }

    #[tokio::test]
    async fn a_reader_cannot_write() {
        let (_dir, readers) = readers_on_a_new_file();
        let mut reader = readers.get().expect("reader");
        let refused = Ex::Reader(reader.conn())
            .execute("DELETE FROM t", &[])
            .await;
        assert!(refused.is_err(), "query_only refuses writes");
        drop(reader);
        let mut reader = readers.get().expect("the same reader, back from the pool");
        let rows = Ex::Reader(reader.conn())
            .fetch_all("SELECT a FROM t", &[])
            .await
            .expect("query");
        assert_eq!(rows.len(), 2, "nothing was deleted");
    }

    #[test]
    fn readers_are_reused_and_a_busy_pool_opens_more() {
        let (_dir, readers) = readers_on_a_new_file();
        let first = readers.get().expect("reader");
        let second = readers
            .get()
            .expect("a second reader while the first is out");
        drop(first);
        drop(second);
        assert_eq!(readers.idle_list().len(), 2, "both went back to the pool");
    }
}
