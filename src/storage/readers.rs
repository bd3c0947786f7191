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
//! (the runtime's workers) and the pages being read ([`Readers::together`]).
//!
//! **Reads that belong together** ([`Readers::together`], `Database::read_together`): the
//! reads a page makes before it is rendered (the person, the unread count, the folders, a
//! page of letters) run on one connection in one read transaction. They see one snapshot, so
//! the unread count in the header and the letters below it agree, and SQLite takes its shared
//! lock on the log once instead of once per statement (each round is a few system calls on
//! the log's index and a check of the page cache; measured at about a sixth of a page's CPU
//! time). The scope's connection is kept in a task-local; a read inside the scope borrows it,
//! and a second read at the same time (not awaited in turn) gets a connection of its own. The
//! transaction starts with the scope's first read, so a scope without reads (a visitor's
//! page) costs nothing.
//!
//! The page renderer opens the one scope a page has (`server/src/pages.rs`): the session and
//! everything the page shows are read inside it, and the scope (with its transaction) ends
//! when those reads return, before anything that may write (opening a letter records it).
//! A scope inside a scope joins it.

use std::cell::RefCell;
use std::future::Future;
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

tokio::task_local! {
    /// The [`Readers::together`] scope the task is in.
    static TOGETHER: RefCell<Scope>;
}

/// A [`Readers::together`] scope's connection.
enum Scope {
    /// No read yet: no connection, no transaction.
    Unopened,
    /// Inside its read transaction, between reads.
    Idle(Connection),
    /// Lent to one of the scope's reads.
    Lent,
}

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

/// A reader lent out; goes back to the pool (or to its scope) when dropped.
pub(super) struct Reader<'p> {
    conn: Option<Connection>,
    readers: &'p Readers,
    /// Borrowed from the task's [`Readers::together`] scope.
    together: bool,
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

    /// A reader: the connection of the task's [`together`](Readers::together) scope if it
    /// is in one, else an idle connection, or a new one.
    pub(super) fn get(&self) -> Result<Reader<'_>, StoreError> {
        let scoped = TOGETHER
            .try_with(|scope| {
                let mut scope = scope.borrow_mut();
                match std::mem::replace(&mut *scope, Scope::Lent) {
                    Scope::Idle(conn) => Some(conn),
                    Scope::Unopened => match self.begin() {
                        Ok(conn) => Some(conn),
                        Err(_) => {
                            // Read alone, and try again with the next read.
                            *scope = Scope::Unopened;
                            None
                        }
                    },
                    // Another read has it: read alone.
                    Scope::Lent => None,
                }
            })
            .ok()
            .flatten();
        if let Some(conn) = scoped {
            return Ok(Reader {
                conn: Some(conn),
                readers: self,
                together: true,
            });
        }
        Ok(Reader {
            conn: Some(self.idle_or_new()?),
            readers: self,
            together: false,
        })
    }

    fn idle_or_new(&self) -> Result<Connection, StoreError> {
        let idle = self.idle_list().pop();
        match idle {
            Some(conn) => Ok(conn),
            None => self.connect(),
        }
    }

    /// A connection inside a (deferred) transaction: its first read starts the snapshot.
    fn begin(&self) -> Result<Connection, StoreError> {
        let conn = self.idle_or_new()?;
        conn.prepare_cached("BEGIN")
            .and_then(|mut begin| begin.execute([]))
            .map_err(read_error)?;
        Ok(conn)
    }

    /// Runs `reads` with the reads in it on one connection, in one read transaction (see the
    /// module's documentation). Only for reads: nothing in the scope may expect to see a write
    /// made in the scope (a write goes through sqlx's pools, which the snapshot does not see).
    /// Inside another scope, `reads` joins it.
    /// If no connection can be had, the reads run as they would alone.
    pub(super) async fn together<F: Future>(&self, reads: F) -> F::Output {
        if TOGETHER.try_with(|_| ()).is_ok() {
            return reads.await;
        }
        let (output, scope) = TOGETHER
            .scope(RefCell::new(Scope::Unopened), async {
                let output = reads.await;
                (
                    output,
                    TOGETHER.with(|scope| scope.replace(Scope::Unopened)),
                )
            })
            .await;
        if let Scope::Idle(conn) = scope {
            self.end_transaction(conn);
        }
        output
    }

    /// Commits a scope's read transaction and gives the connection back. A connection that
    /// cannot (or that a read inside the scope kept, which none does) is not lent out again.
    fn end_transaction(&self, conn: Connection) {
        let ended = conn
            .prepare_cached("COMMIT")
            .and_then(|mut commit| commit.execute([]));
        if ended.is_ok() && conn.is_autocommit() {
            self.give_back(conn);
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = self.idle_list();
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
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
        if self.together {
            // Back to its scope for the next read. (Dropped outside the scope, which a reader
            // never is, it would be closed.)
            let _ = TOGETHER.try_with(|scope| *scope.borrow_mut() = Scope::Idle(conn));
            return;
        }
        // A connection left inside a transaction (a read that failed half-way cannot, as
        // reads here are single statements, but be safe) is not lent out again.
        if !conn.is_autocommit() {
            return;
        }
        self.readers.give_back(conn);
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
    use crate::storage::sql::{Ex, Val};

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
    async fn columns_are_found_in_any_order() {
        let (_dir, readers) = readers_on_a_new_file();
        let mut reader = readers.get().expect("reader");
        let rows = Ex::Reader(reader.conn())
            .fetch_all(
                "SELECT a, b, a + 10 AS c, b || '!' AS d FROM t ORDER BY a",
                &[],
            )
            .await
            .expect("query");
        let row = &rows[1];
        // In order, backwards, twice the same, from the middle round to the start.
        let read = |names: &[&str]| -> Vec<String> {
            names
                .iter()
                .map(|name| match *name {
                    "a" | "c" => row.int(name, "t").expect("int").to_string(),
                    _ => row.text(name, "t").expect("text"),
                })
                .collect()
        };
        assert_eq!(read(&["a", "b", "c", "d"]), ["2", "two", "12", "two!"]);
        assert_eq!(read(&["d", "c", "b", "a"]), ["two!", "12", "two", "2"]);
        assert_eq!(
            read(&["b", "b", "c", "a", "d"]),
            ["two", "two", "12", "2", "two!"]
        );
        assert!(row.int("e", "t").is_err(), "no such column");
        assert_eq!(read(&["c"]), ["12"], "found again after a miss");
        assert_eq!(rows[0].text("d", "t").expect("text"), "one!");
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

    async fn count(readers: &Readers) -> i64 {
        let mut reader = readers.get().expect("reader");
        let row = Ex::Reader(reader.conn())
            .fetch_optional("SELECT count(*) AS n FROM t", &[])
            .await
            .expect("query")
            .expect("a row");
        row.int("n", "n").expect("count")
    }

    #[tokio::test]
    async fn reads_that_belong_together_see_one_snapshot() {
        let (dir, readers) = readers_on_a_new_file();
        let writer = Connection::open(dir.path().join("r.db")).expect("writer");
        let seen = readers
            .together(async {
                let before = count(&readers).await;
                writer
                    .execute("INSERT INTO t VALUES (3, 'three', NULL)", [])
                    .expect("a write from elsewhere");
                let after = count(&readers).await;
                (before, after)
            })
            .await;
        assert_eq!(
            seen,
            (2, 2),
            "the second read sees the first one's snapshot"
        );
        assert_eq!(
            count(&readers).await,
            3,
            "a read after the scope sees the write"
        );
        // Alone, each read is its own snapshot.
        let before = count(&readers).await;
        writer
            .execute("INSERT INTO t VALUES (4, 'four', NULL)", [])
            .expect("another write");
        assert_eq!((before, count(&readers).await), (3, 4));
    }

    #[tokio::test]
    async fn a_scope_lends_one_connection_and_gives_it_back() {
        let (_dir, readers) = readers_on_a_new_file();
        assert_eq!(readers.idle_list().len(), 1);
        readers
            .together(async {
                for _ in 0..3 {
                    count(&readers).await;
                }
                assert_eq!(readers.idle_list().len(), 0, "the scope has the connection");
                // Two reads at once: the second has a connection of its own.
                let first = readers.get().expect("the scope's reader");
                let second = readers.get().expect("another reader");
                assert!(first.together && !second.together);
                drop((first, second));
                assert_eq!(readers.idle_list().len(), 1, "the other one went back");
            })
            .await;
        let mut idle = readers.idle_list();
        assert_eq!(idle.len(), 2, "the scope's connection is back in the pool");
        assert!(
            idle.iter().all(Connection::is_autocommit),
            "its read transaction ended"
        );
        idle.clear();
    }

    #[tokio::test]
    async fn a_scope_inside_a_scope_joins_its_snapshot() {
        let (dir, readers) = readers_on_a_new_file();
        let writer = Connection::open(dir.path().join("r.db")).expect("writer");
        let seen = readers
            .together(async {
                let outer = count(&readers).await;
                writer
                    .execute("INSERT INTO t VALUES (3, 'three', NULL)", [])
                    .expect("a write from elsewhere");
                let inner = readers.together(count(&readers)).await;
                let after_inner = count(&readers).await;
                (outer, inner, after_inner)
            })
            .await;
        assert_eq!(
            seen,
            (2, 2, 2),
            "the inner scope read the outer one's snapshot, and did not end it"
        );
        assert_eq!(count(&readers).await, 3);
    }

    #[tokio::test]
    async fn a_scope_without_reads_takes_no_connection() {
        let (_dir, readers) = readers_on_a_new_file();
        readers
            .together(async {
                assert_eq!(readers.idle_list().len(), 1, "nothing taken before a read");
            })
            .await;
        assert_eq!(readers.idle_list().len(), 1);
        assert!(readers.idle_list().iter().all(Connection::is_autocommit));
    }

    #[tokio::test]
    async fn nothing_in_a_scope_can_write() {
        let (_dir, readers) = readers_on_a_new_file();
        let refused = readers
            .together(async {
                let mut reader = readers.get().expect("reader");
                Ex::Reader(reader.conn())
                    .execute("DELETE FROM t", &[])
                    .await
            })
            .await;
        assert!(refused.is_err(), "query_only refuses writes in a scope too");
        assert_eq!(count(&readers).await, 2);
    }

    #[test]
    fn the_built_sqlite_does_not_serialise_its_readers() {
        let (_dir, readers) = readers_on_a_new_file();
        let mut reader = readers.get().expect("reader");
        let options: Vec<String> = reader
            .conn()
            .prepare("PRAGMA compile_options")
            .expect("pragma")
            .query_map([], |row| row.get(0))
            .expect("options")
            .collect::<Result<_, _>>()
            .expect("options");
        // .cargo/config.toml (LIBSQLITE3_FLAGS): one global page-cache mutex for every
        // connection, and a global mutex on each allocation, are what these two would add.
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
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
