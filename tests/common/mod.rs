//! What the suites on both databases share: a fresh, migrated database per test (`TestDb`) and
//! `on_both_backends!`, which runs each test once on SQLite and once on PostgreSQL.
//!
//! SQLite: a fresh file in a temporary folder per test. PostgreSQL: a fresh database
//! `bp_test_<random>` per test on the server named by `BORGERPORTAL_TEST_POSTGRES_URL`, dropped
//! afterwards (also when the test fails). Without that variable the PostgreSQL tests fail: a
//! suite that quietly skips half its backends would prove nothing about production.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod people;

use borgerportal::{Backend, Database};
use sqlx::Connection;

const POSTGRES_URL_VARIABLE: &str = "BORGERPORTAL_TEST_POSTGRES_URL";

// ---------------------------------------------------------------------------------------------
// A fresh database per test

pub struct TestDb {
    pub db: Database,
    pub url: String,
    pub backend: Backend,
    /// Dropped last: removes the SQLite folder or the PostgreSQL database.
    _scratch: Scratch,
}

/// Held only for its `Drop`, which cleans up.
#[allow(dead_code)]
pub enum Scratch {
    Sqlite(tempfile::TempDir),
    Postgres(PostgresScratch),
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let folder = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("portal.db").display()
        );
        TestDb::open(url, Backend::Sqlite, Scratch::Sqlite(folder)).await
    }

    pub async fn postgres() -> TestDb {
        let server_url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VARIABLE} is not set. The storage suite runs every test on \
                 PostgreSQL as well as SQLite; set it to a server URL such as \
                 postgres://postgres@127.0.0.1:5432/postgres (each test creates and drops its \
                 own database there). The project's test command sets it for you."
            )
        });
        let name = format!("bp_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&server_url)
            .await
            .unwrap_or_else(|error| {
                panic!("cannot reach the PostgreSQL server in {POSTGRES_URL_VARIABLE}: {error}")
            });
        sqlx::query(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let url = database_url(&server_url, &name);
        let scratch = Scratch::Postgres(PostgresScratch { server_url, name });
        TestDb::open(url, Backend::Postgres, scratch).await
    }

    pub async fn open(url: String, backend: Backend, scratch: Scratch) -> TestDb {
        let db = Database::connect(&url).await.unwrap();
        db.migrate().await.unwrap();
        TestDb {
            db,
            url,
            backend,
            _scratch: scratch,
        }
    }

    /// A second, independent handle to the same database, as after a restart.
    pub async fn reopen(&self) -> Database {
        let db = Database::connect(&self.url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }

    pub async fn finish(self) {
        self.db.close().await;
    }

    /// The text column of each row a query gives, past the store (the SQL per backend).
    pub async fn raw_text(&self, sqlite_sql: &str, postgres_sql: &str) -> Vec<String> {
        match self.backend {
            Backend::Sqlite => {
                let mut connection = sqlx::SqliteConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query_scalar(sqlite_sql)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
                connection.close().await.unwrap();
                rows
            }
            Backend::Postgres => {
                let mut connection = sqlx::PgConnection::connect(&self.url).await.unwrap();
                let rows = sqlx::query_scalar(postgres_sql)
                    .fetch_all(&mut connection)
                    .await
                    .unwrap();
                connection.close().await.unwrap();
                rows
            }
        }
    }

    /// One whole number a query gives (the same SQL on both backends), e.g. a count.
    pub async fn scalar(&self, sql: &str) -> i64 {
        let cast = format!("SELECT CAST(({sql}) AS TEXT)");
        let rows = self.raw_text(&cast, &cast).await;
        rows[0].parse().unwrap()
    }
}

/// The server URL with its database swapped for `name` (query parameters kept).
pub fn database_url(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let authority_start = base.find("://").map_or(0, |index| index + 3);
    let authority_end = base[authority_start..]
        .find('/')
        .map_or(base.len(), |index| authority_start + index);
    let mut url = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    url
}

pub struct PostgresScratch {
    server_url: String,
    name: String,
}

/// Best effort: drop the test database even when the test panicked. `Drop` cannot await, so
/// this runs on its own thread with its own small runtime.
impl Drop for PostgresScratch {
    fn drop(&mut self) {
        let server_url = self.server_url.clone();
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server_url).await {
                    let drop_sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(&drop_sql).execute(&mut admin).await;
                    let _ = admin.close().await;
                }
            });
        })
        .join();
    }
}

/// Runs each named `async fn(&TestDb)` as two tests, `sqlite::<name>` and `postgres::<name>`,
/// each on a fresh database. The functions and `TestDb` must be in scope at the crate root.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $test() {
                    let database = super::TestDb::sqlite().await;
                    super::$test(&database).await;
                    database.finish().await;
                }
            )*
        }

        mod postgres {
            $(
                #[tokio::test]
                async fn $test() {
                    let database = super::TestDb::postgres().await;
                    super::$test(&database).await;
                    database.finish().await;
                }
            )*
        }
    };
}
