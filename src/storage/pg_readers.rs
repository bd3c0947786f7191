//! PostgreSQL's read path: the reads every logged-in page makes (the session, the person, the
//! mailbox's folders, letters and unread count, a page of the activity log, the contact
//! entry), on a few connections shared by every request, with their statements pipelined.
//!
//! Why not sqlx's pool for these: a pooled connection carries one query at a time. Each of a
//! page's five reads borrowed a connection, pinged it (`SELECT 1`, sqlx's check before
//! lending), ran its statement and gave it back: ten round trips, each a wake-up of the
//! server's task, of the connection's PostgreSQL backend and of the network stack, for reads
//! PostgreSQL answers from its cache in microseconds. Under load that, not PostgreSQL's work,
//! was the page's cost (the inbox at a fifth of SQLite's rate, docs/benchmarks.md).
//!
//! Here a read is one message sequence on a connection that many requests share
//! (`tokio-postgres`): the statements of concurrent requests are written to the socket
//! together and their answers read back together, in order, so a backend and the server
//! each wake once for a batch of reads, not once per read. Each connection keeps its
//! statements prepared ([`STATEMENT_CACHE`]), so a read is a `Bind`/`Execute`, no parse.
//! There is no ping: a connection that the server closed is noticed (the client reports
//! itself closed) and replaced at the next read.
//!
//! What that asks of the callers is what SQLite's readers ask (`readers.rs`): only short,
//! index-bounded reads come here; anything that can scan, and every write, stays on sqlx's
//! pool. The connections are opened read-only (`default_transaction_read_only`), so a
//! mistake that writes through one fails instead of writing outside a transaction.
//! Reads here do not share a snapshot: `Database::read_together` has no effect on PostgreSQL.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_postgres::types::{to_sql_checked, IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::sql::Val;
use super::{DatabaseCause, StoreError};

/// Prepared statements kept per connection (the hot reads are a handful; the bound keeps a
/// caller that makes texts on the fly from growing it without end).
const STATEMENT_CACHE: usize = 64;
/// Connections at most, whatever the core count.
const MAX_CONNECTIONS: usize = 8;

/// The shared read connections to one PostgreSQL database.
pub(super) struct PgReaders {
    config: Config,
    /// Each slot's connection, opened on demand and replaced when closed.
    slots: Vec<Mutex<Option<Arc<PgReader>>>>,
    /// Round robin over the slots.
    next: AtomicUsize,
    /// Each connection's task, which ends when its client is dropped.
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// Set by [`close`](PgReaders::close): no read after it.
    closed: AtomicBool,
}

impl std::fmt::Debug for PgReaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgReaders")
            .field("connections", &self.slots.len())
            .finish_non_exhaustive()
    }
}

/// A read connection lent for one call's reads: if the server closed it (a restart, a
/// fail-over, an idle connection cut), a read is tried once more on a new connection in
/// its slot. Only reads come here, so trying again is safe.
pub(in crate::storage) struct PgRead {
    readers: Arc<PgReaders>,
    slot: usize,
    reader: Arc<PgReader>,
}

/// One shared read connection and its prepared statements.
struct PgReader {
    client: Client,
    statements: Mutex<HashMap<(String, Vec<Type>), Statement>>,
}

impl PgReaders {
    /// Read connections for the database at `url` (a `postgres://` URL, as sqlx's pool has
    /// it), one per core up to [`MAX_CONNECTIONS`], at least two. Opens the first now, so
    /// that a URL this driver cannot use fails at start-up.
    pub(super) async fn open(url: &str) -> Result<PgReaders, StoreError> {
        let mut config = Config::from_str(url)
            .map_err(|error| StoreError::InvalidUrl(DatabaseCause::Postgres(error)))?;
        config.options("-c default_transaction_read_only=on");
        config.application_name("borgerportal-reader");
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let slots = (0..cores.clamp(2, MAX_CONNECTIONS))
            .map(|_| Mutex::new(None))
            .collect();
        let readers = PgReaders {
            config,
            slots,
            next: AtomicUsize::new(0),
            tasks: Mutex::new(Vec::new()),
            closed: AtomicBool::new(false),
        };
        let first = readers.connect().await?;
        *lock(&readers.slots[0]) = Some(Arc::new(first));
        Ok(readers)
    }

    /// A read connection: the next slot's, opened (again) if it has none or its connection
    /// was closed.
    pub(super) async fn get(self: &Arc<Self>) -> Result<PgRead, StoreError> {
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        let reader = self.open_slot(slot, None).await?;
        Ok(PgRead {
            readers: self.clone(),
            slot,
            reader,
        })
    }

    /// The connection in `slot`; a new one if there is none, it was closed, or it is
    /// `failed` (which a read found closed).
    async fn open_slot(
        &self,
        slot: usize,
        failed: Option<&Arc<PgReader>>,
    ) -> Result<Arc<PgReader>, StoreError> {
        if self.closed.load(Ordering::Acquire) {
            return Err(StoreError::Unavailable(DatabaseCause::Sqlx(
                sqlx::Error::PoolClosed,
            )));
        }
        let current = lock(&self.slots[slot])
            .as_ref()
            .filter(|reader| !reader.client.is_closed())
            .filter(|reader| failed.is_none_or(|failed| !Arc::ptr_eq(reader, failed)))
            .cloned();
        if let Some(reader) = current {
            return Ok(reader);
        }
        // Two reads that find the slot empty at once both connect; the later one's connection
        // stays, the other's closes when its read is done.
        let reader = Arc::new(self.connect().await?);
        *lock(&self.slots[slot]) = Some(reader.clone());
        Ok(reader)
    }

    async fn connect(&self) -> Result<PgReader, StoreError> {
        let (client, connection) = self
            .config
            .connect(NoTls)
            .await
            .map_err(StoreError::from_postgres)?;
        let task = tokio::spawn(async move {
            // Ends when the client is dropped or the server goes away; a read on the client
            // after that fails, and the next `get` opens a new connection.
            if let Err(error) = connection.await {
                tracing::warn!(error = %DatabaseCause::Postgres(error), "a PostgreSQL read connection closed");
            }
        });
        let mut tasks = lock(&self.tasks);
        tasks.retain(|task| !task.is_finished());
        tasks.push(task);
        Ok(PgReader {
            client,
            statements: Mutex::new(HashMap::new()),
        })
    }
}

impl PgReaders {
    /// Closes every read connection, waiting (a few seconds at most) for reads still running
    /// on them; a read after this fails as unavailable.
    pub(super) async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        for slot in &self.slots {
            lock(slot).take();
        }
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        for task in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Nothing a panic could leave half-changed: an `Option` swapped whole, a map of prepared
    // statements (a missing one is prepared again).
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a read failed because its connection is gone (closed, or the server is ending
/// it: SQLSTATE class 08, connection exception, or 57P, operator intervention), so that the
/// same read on a new connection may succeed.
fn connection_lost(error: &tokio_postgres::Error) -> bool {
    error.is_closed()
        || error
            .code()
            .is_some_and(|code| code.code().starts_with("08") || code.code().starts_with("57P"))
}

impl PgRead {
    /// Every row of a read.
    pub(in crate::storage) async fn query(
        &self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Vec<tokio_postgres::Row>, StoreError> {
        match self.reader.query(sql, args).await {
            Err(error) if connection_lost(&error) => {
                let reader = self
                    .readers
                    .open_slot(self.slot, Some(&self.reader))
                    .await?;
                reader.query(sql, args).await
            }
            done => done,
        }
        .map_err(StoreError::from_postgres)
    }

    /// A statement's count of rows touched (a read-only connection: a write fails).
    pub(in crate::storage) async fn execute(
        &self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<u64, StoreError> {
        match self.reader.execute(sql, args).await {
            Err(error) if connection_lost(&error) => {
                let reader = self
                    .readers
                    .open_slot(self.slot, Some(&self.reader))
                    .await?;
                reader.execute(sql, args).await
            }
            done => done,
        }
        .map_err(StoreError::from_postgres)
    }
}

impl PgReader {
    /// `sql` prepared on this connection for `args`' types, from the cache if it is there.
    async fn statement(
        &self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Statement, tokio_postgres::Error> {
        let types: Vec<Type> = args.iter().map(Val::postgres_type).collect();
        let key = (sql.to_owned(), types);
        if let Some(statement) = lock(&self.statements).get(&key) {
            return Ok(statement.clone());
        }
        let statement = self.client.prepare_typed(sql, &key.1).await?;
        let mut cache = lock(&self.statements);
        if cache.len() >= STATEMENT_CACHE {
            cache.clear();
        }
        cache.insert(key, statement.clone());
        Ok(statement)
    }

    async fn query(
        &self,
        sql: &str,
        args: &[Val<'_>],
    ) -> Result<Vec<tokio_postgres::Row>, tokio_postgres::Error> {
        let statement = self.statement(sql, args).await?;
        self.client.query(&statement, &params(args)).await
    }

    async fn execute(&self, sql: &str, args: &[Val<'_>]) -> Result<u64, tokio_postgres::Error> {
        let statement = self.statement(sql, args).await?;
        self.client.execute(&statement, &params(args)).await
    }
}

fn params<'a>(args: &'a [Val<'_>]) -> Vec<&'a (dyn ToSql + Sync)> {
    args.iter().map(|arg| arg as &(dyn ToSql + Sync)).collect()
}

impl Val<'_> {
    /// The PostgreSQL type this value is bound as (as sqlx binds it on the pool's path).
    fn postgres_type(&self) -> Type {
        match self {
            Val::Text(_) | Val::OptText(_) => Type::TEXT,
            Val::Uuid(_) | Val::OptUuid(_) => Type::UUID,
            Val::Time(_) | Val::OptTime(_) => Type::TIMESTAMPTZ,
            Val::Date(_) => Type::DATE,
            Val::Bool(_) => Type::BOOL,
            Val::Int(_) | Val::OptInt(_) => Type::INT8,
            Val::Bytes(_) => Type::BYTEA,
            Val::Json(_) => Type::JSONB,
            Val::TextList(_) => Type::TEXT_ARRAY,
        }
    }
}

/// Only the kind of value: a bound value may be a national identity number.
impl std::fmt::Debug for Val<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Val({})", self.postgres_type())
    }
}

impl ToSql for Val<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut tokio_postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            Val::Text(text) => text.to_sql(ty, out),
            Val::OptText(text) => text.to_sql(ty, out),
            Val::Uuid(id) => id.to_sql(ty, out),
            Val::OptUuid(id) => id.to_sql(ty, out),
            Val::Time(at) => at.to_sql(ty, out),
            Val::OptTime(at) => at.to_sql(ty, out),
            Val::Date(date) => date.to_sql(ty, out),
            Val::Bool(value) => value.to_sql(ty, out),
            Val::Int(value) => value.to_sql(ty, out),
            Val::OptInt(value) => value.to_sql(ty, out),
            Val::Bytes(bytes) => bytes.to_sql(ty, out),
            Val::TextList(texts) => texts.to_sql(ty, out),
            Val::Json(json) => {
                // JSONB's binary form is a version byte and the text; JSON's is the text.
                if *ty == Type::JSONB {
                    out.extend_from_slice(&[1]);
                }
                out.extend_from_slice(json.as_bytes());
                Ok(IsNull::No)
            }
        }
    }

    /// Each value is bound as [`Val::postgres_type`] says; the statement is prepared with
    /// those types, so they match.
    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

impl StoreError {
    /// Wraps an error of the read path's driver: a closed connection or an I/O failure is
    /// "cannot reach the database", the rest a database error.
    pub(super) fn from_postgres(error: tokio_postgres::Error) -> StoreError {
        let io =
            std::error::Error::source(&error).is_some_and(|cause| cause.is::<std::io::Error>());
        if error.is_closed() || io {
            StoreError::Unavailable(DatabaseCause::Postgres(error))
        } else {
            StoreError::Database(DatabaseCause::Postgres(error))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The PostgreSQL server the storage suites use (`cargo xtask test` sets it).
    fn server_url() -> String {
        std::env::var("BORGERPORTAL_TEST_POSTGRES_URL").expect(
            "BORGERPORTAL_TEST_POSTGRES_URL names a PostgreSQL server for the storage tests \
             (the project's test command sets it)",
        )
    }

    async fn one_text(read: &PgRead, sql: &str) -> Result<String, StoreError> {
        let rows = read.query(sql, &[]).await?;
        Ok(rows[0].get::<_, String>(0))
    }

    #[tokio::test]
    async fn a_read_on_a_connection_the_server_ended_is_tried_again_on_a_new_one() {
        let readers = Arc::new(PgReaders::open(&server_url()).await.unwrap());
        let read = readers.get().await.unwrap();
        let pid = one_text(&read, "SELECT CAST(pg_backend_pid() AS TEXT)")
            .await
            .unwrap();

        // Lent, then ended by the server before the read runs (a restart, a fail-over).
        let (admin, connection) = server_url()
            .parse::<Config>()
            .unwrap()
            .connect(NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        admin
            .execute(&format!("SELECT pg_terminate_backend({pid})"), &[])
            .await
            .unwrap();
        for _ in 0..100 {
            if read.reader.client.is_closed() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(read.reader.client.is_closed());

        let again = one_text(&read, "SELECT CAST(pg_backend_pid() AS TEXT)")
            .await
            .unwrap();
        assert_ne!(again, pid, "read on a new connection");
        // The slot keeps the new connection for the next read.
        let next = readers.open_slot(read.slot, None).await.unwrap();
        assert!(!next.client.is_closed());
        drop((read, next));
        readers.close().await;
    }

    #[tokio::test]
    async fn the_read_connections_refuse_to_write() {
        let readers = Arc::new(PgReaders::open(&server_url()).await.unwrap());
        let read = readers.get().await.unwrap();
        let refused = read
            .execute(
                "CREATE TEMPORARY TABLE written_through_a_reader (x INT)",
                &[],
            )
            .await
            .unwrap_err();
        match refused {
            // read_only_sql_transaction
            StoreError::Database(cause) => assert_eq!(cause.code().as_deref(), Some("25006")),
            other => panic!("expected a refused write, got {other:?}"),
        }
        drop(read);
        readers.close().await;
    }

    #[tokio::test]
    async fn values_are_bound_as_their_postgres_types() {
        let readers = Arc::new(PgReaders::open(&server_url()).await.unwrap());
        let read = readers.get().await.unwrap();
        let at = time::macros::datetime!(2026-12-07 10:30:00.123456 UTC);
        let id = uuid::Uuid::now_v7();
        let rows = read
            .query(
                "SELECT pg_typeof($1)::TEXT || ' ' || pg_typeof($2)::TEXT || ' ' || \
                 pg_typeof($3)::TEXT || ' ' || pg_typeof($4)::TEXT || ' ' || pg_typeof($5)::TEXT \
                 AS types, $2 AS at, $3 AS id, $5 ->> 'a' AS json, $6 = ANY($4) AS found",
                &[
                    Val::Int(1),
                    Val::Time(at),
                    Val::Uuid(id),
                    Val::TextList(&["x", "y"]),
                    Val::Json(r#"{"a": "b"}"#),
                    Val::Text("y"),
                ],
            )
            .await
            .unwrap();
        let row = super::super::sql::Row::PgReader(rows.into_iter().next().unwrap());
        assert_eq!(
            row.text("types", "types").unwrap(),
            "bigint timestamp with time zone uuid text[] jsonb"
        );
        assert_eq!(row.time("at", "at").unwrap(), at);
        assert_eq!(row.uuid("id", "id").unwrap(), id);
        assert_eq!(row.text("json", "json").unwrap(), "b");
        assert!(row.bool("found", "found").unwrap());
        drop(read);
        readers.close().await;
    }
}
