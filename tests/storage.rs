#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The storage suite: every test below runs twice, once on SQLite and once on PostgreSQL
//! (see `on_both_backends!` at the end), against real databases.
//!
//! SQLite: a fresh file in a temporary folder per test. PostgreSQL: a fresh database
//! `bp_test_<random>` per test on the server named by `BORGERPORTAL_TEST_POSTGRES_URL`, dropped
//! afterwards (also when the test fails). Without that variable the PostgreSQL tests fail: a
//! suite that quietly skips half its backends would prove nothing about production.

use std::collections::HashSet;

use borgerportal::{
    demo_persons, seed_demo_data, Backend, Conflict, Database, Language, NationalId,
    NationalIdKind, NewPerson, PersonId, PersonRegister, StoreError,
};
use sqlx::Connection;
use time::macros::date;
use time::{Duration, OffsetDateTime, UtcOffset};

const POSTGRES_URL_VARIABLE: &str = "BORGERPORTAL_TEST_POSTGRES_URL";

// ---------------------------------------------------------------------------------------------
// A fresh database per test

struct TestDb {
    db: Database,
    url: String,
    backend: Backend,
    /// Dropped last: removes the SQLite folder or the PostgreSQL database.
    _scratch: Scratch,
}

/// Held only for its `Drop`, which cleans up.
#[allow(dead_code)]
enum Scratch {
    Sqlite(tempfile::TempDir),
    Postgres(PostgresScratch),
}

impl TestDb {
    async fn sqlite() -> TestDb {
        let folder = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            folder.path().join("portal.db").display()
        );
        TestDb::open(url, Backend::Sqlite, Scratch::Sqlite(folder)).await
    }

    async fn postgres() -> TestDb {
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

    async fn open(url: String, backend: Backend, scratch: Scratch) -> TestDb {
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
    async fn reopen(&self) -> Database {
        let db = Database::connect(&self.url).await.unwrap();
        db.migrate().await.unwrap();
        db
    }

    async fn finish(self) {
        self.db.close().await;
    }
}

/// The server URL with its database swapped for `name` (query parameters kept).
fn database_url(server_url: &str, name: &str) -> String {
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

struct PostgresScratch {
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

// ---------------------------------------------------------------------------------------------
// Test persons

/// A synthetic Norwegian number, distinct for each `n` (born `n` days after 1 January 1980).
fn synthetic_national_id(n: u16) -> NationalId {
    let birth_date = date!(1980 - 01 - 01) + Duration::days(i64::from(n));
    (0..500)
        .find_map(|individual| NationalId::new_synthetic_norwegian(birth_date, individual).ok())
        .unwrap()
}

fn new_person(n: u16, given_name: &str, family_name: &str) -> NewPerson {
    NewPerson::new(
        synthetic_national_id(n),
        given_name,
        family_name,
        Language::Nb,
    )
}

// ---------------------------------------------------------------------------------------------
// The tests, each taking a fresh, migrated database

async fn migrations_are_idempotent(t: &TestDb) {
    assert_eq!(t.db.backend(), t.backend);
    t.db.migrate().await.unwrap();
    t.db.migrate().await.unwrap();
    t.db.ping().await.unwrap();
    assert_eq!(t.db.count_persons().await.unwrap(), 0);
}

async fn created_person_is_found_by_id_and_national_id(t: &TestDb) {
    let before = OffsetDateTime::now_utc() - Duration::seconds(1);
    let created =
        t.db.create_person(new_person(1, "Ingrid", "Solberg"))
            .await
            .unwrap();
    let after = OffsetDateTime::now_utc() + Duration::seconds(1);

    assert_eq!(created.national_id, synthetic_national_id(1));
    assert_eq!(created.given_name, "Ingrid");
    assert_eq!(created.family_name, "Solberg");
    assert_eq!(created.birth_date, created.national_id.birth_date());
    assert_eq!(created.language, Language::Nb);
    assert!(created.created_at > before && created.created_at < after);
    assert_eq!(created.created_at.offset(), UtcOffset::UTC);

    let by_id = t.db.find_person(created.id).await.unwrap();
    assert_eq!(by_id.as_ref(), Some(&created));
    let by_national_id =
        t.db.find_person_by_national_id(&created.national_id)
            .await
            .unwrap();
    assert_eq!(by_national_id.as_ref(), Some(&created));
    // Any way of typing the number finds the same person.
    let typed = format!(
        "{}-{}",
        &created.national_id.expose()[..6],
        &created.national_id.expose()[6..]
    );
    let typed = NationalId::parse(&typed).unwrap();
    assert_eq!(
        t.db.find_person_by_national_id(&typed).await.unwrap(),
        Some(created)
    );
}

async fn unknown_person_is_none(t: &TestDb) {
    t.db.create_person(new_person(1, "Ola", "Haugen"))
        .await
        .unwrap();
    assert_eq!(t.db.find_person(PersonId::new()).await.unwrap(), None);
    assert_eq!(
        t.db.find_person_by_national_id(&synthetic_national_id(2))
            .await
            .unwrap(),
        None
    );
}

async fn duplicate_national_id_is_a_conflict(t: &TestDb) {
    let first =
        t.db.create_person(new_person(3, "Kari", "Berg"))
            .await
            .unwrap();
    let error =
        t.db.create_person(new_person(3, "Kari", "Berg-Olsen"))
            .await
            .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(Conflict::NationalIdTaken)),
        "{error:?}"
    );
    // Neither the message nor the debug form (what a log would get) names the number.
    let secret = first.national_id.expose();
    assert!(!error.to_string().contains(secret));
    assert!(!format!("{error:?}").contains(secret));
    assert!(!format!("{error:?}").contains(&secret[6..]));
    assert_eq!(t.db.count_persons().await.unwrap(), 1);
    assert_eq!(
        t.db.find_person(first.id)
            .await
            .unwrap()
            .unwrap()
            .family_name,
        "Berg"
    );
}

async fn upsert_creates_then_updates_names_and_keeps_id_and_language(t: &TestDb) {
    let created =
        t.db.upsert_person_by_national_id(new_person(4, "Nora", "Dahl"))
            .await
            .unwrap();
    assert_eq!(t.db.count_persons().await.unwrap(), 1);

    // She married and now logs in with English as the eID's language.
    let mut renamed = new_person(4, "Nora", "Dahl Moen");
    renamed.language = Language::En;
    let updated = t.db.upsert_person_by_national_id(renamed).await.unwrap();

    assert_eq!(updated.id, created.id);
    assert_eq!(updated.family_name, "Dahl Moen");
    assert_eq!(
        updated.language,
        Language::Nb,
        "the chosen language is kept"
    );
    assert_eq!(updated.created_at, created.created_at);
    assert_eq!(t.db.count_persons().await.unwrap(), 1);
    assert_eq!(t.db.find_person(created.id).await.unwrap(), Some(updated));
}

async fn simultaneous_logins_make_one_person(t: &TestDb) {
    let login = || {
        t.db.upsert_person_by_national_id(new_person(5, "Even", "Strand"))
    };
    let (a, b, c, d) = tokio::join!(login(), login(), login(), login());
    let ids: HashSet<_> = [a, b, c, d]
        .into_iter()
        .map(|result| result.unwrap().id)
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(t.db.count_persons().await.unwrap(), 1);
}

async fn persons_are_listed_in_keyset_pages(t: &TestDb) {
    let mut created = Vec::new();
    for n in 0..7 {
        let person =
            t.db.create_person(new_person(100 + n, "Person", &format!("Nummer {n}")))
                .await
                .unwrap();
        created.push(person.id);
    }
    assert_eq!(t.db.count_persons().await.unwrap(), 7);

    let mut seen = Vec::new();
    let mut after = None;
    let mut page_sizes = Vec::new();
    loop {
        let page = t.db.list_persons(3, after).await.unwrap();
        page_sizes.push(page.persons.len());
        seen.extend(page.persons.iter().map(|person| person.id));
        match page.next_after {
            Some(next) => {
                assert_eq!(Some(next), page.persons.last().map(|person| person.id));
                after = Some(next);
            }
            None => break,
        }
    }
    assert_eq!(page_sizes, [3, 3, 1]);
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(seen, sorted, "pages come in id order");
    // Ids are time-ordered, so the order is the order of registration.
    assert_eq!(seen, created);

    // A page that ends exactly at the last person says there is no next page.
    let whole = t.db.list_persons(7, None).await.unwrap();
    assert_eq!(whole.persons.len(), 7);
    assert_eq!(whole.next_after, None);
    // Zero is read as one; too many is cut to the maximum.
    assert_eq!(t.db.list_persons(0, None).await.unwrap().persons.len(), 1);
    assert_eq!(
        t.db.list_persons(u32::MAX, None)
            .await
            .unwrap()
            .persons
            .len(),
        7
    );
    // After the last id: an empty last page.
    let past_the_end = t.db.list_persons(3, seen.last().copied()).await.unwrap();
    assert!(past_the_end.persons.is_empty());
    assert_eq!(past_the_end.next_after, None);
}

async fn every_language_and_kind_of_number_round_trips(t: &TestDb) {
    let numbers = [
        ("17848512397", "Ingrid Marie", "Solberg", Language::Nb),
        ("02914141284", "Torbjørn", "Åsheim Ødegård", Language::Nn),
        ("55050176508", "Anna", "Lindqvist", Language::En),
        ("230972-1846", "Mette", "Kjærgaard Nielsen", Language::Da),
        ("2902004234", "Freja", "", Language::Da),
    ];
    for (number, given_name, family_name, language) in numbers {
        let national_id = NationalId::parse(number).unwrap();
        let kind = national_id.kind();
        let created =
            t.db.create_person(NewPerson::new(
                national_id.clone(),
                given_name,
                family_name,
                language,
            ))
            .await
            .unwrap();
        let found =
            t.db.find_person_by_national_id(&national_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(found, created);
        assert_eq!(found.national_id.kind(), kind);
        assert_eq!(found.given_name, given_name);
        assert_eq!(found.family_name, family_name);
        assert_eq!(found.language, language);
        assert_eq!(found.birth_date, national_id.birth_date());
    }
    let d_number = NationalId::parse("55050176508").unwrap();
    assert_eq!(d_number.kind(), NationalIdKind::DNumber);
    assert_eq!(t.db.count_persons().await.unwrap(), 5);
}

async fn demo_seed_is_idempotent(t: &TestDb) {
    let demo = demo_persons();
    assert_eq!(seed_demo_data(&t.db).await.unwrap(), demo.len());
    assert_eq!(seed_demo_data(&t.db).await.unwrap(), 0);
    assert_eq!(t.db.count_persons().await.unwrap(), demo.len() as u64);
    for expected in demo {
        let found =
            t.db.find_person_by_national_id(&expected.national_id)
                .await
                .unwrap()
                .unwrap();
        assert_eq!(found.full_name(), expected.full_name());
        assert_eq!(found.language, expected.language);
    }
}

async fn demo_seed_adds_only_missing_persons(t: &TestDb) {
    let demo = demo_persons();
    // One demo person logged in before the seed ran, under a new name.
    let mut first = demo[0].clone();
    first.family_name = "Solberg Haug".to_owned();
    t.db.upsert_person_by_national_id(first.clone())
        .await
        .unwrap();

    assert_eq!(seed_demo_data(&t.db).await.unwrap(), demo.len() - 1);
    let kept =
        t.db.find_person_by_national_id(&first.national_id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(kept.family_name, "Solberg Haug");
    assert_eq!(t.db.count_persons().await.unwrap(), demo.len() as u64);
}

async fn person_survives_reopening(t: &TestDb) {
    let created =
        t.db.create_person(new_person(6, "Sigrid", "Lunde"))
            .await
            .unwrap();
    t.db.close().await;
    assert!(
        matches!(t.db.ping().await, Err(StoreError::Unavailable(_))),
        "a closed pool is unavailable, not an internal error"
    );

    let reopened = t.reopen().await;
    reopened.ping().await.unwrap();
    assert_eq!(
        reopened.find_person(created.id).await.unwrap(),
        Some(created)
    );
    assert_eq!(reopened.count_persons().await.unwrap(), 1);
    reopened.close().await;
}

/// Writes a row past the domain's checks, as a hand edit or a buggy migration would.
async fn insert_raw_person(
    t: &TestDb,
    national_id: &str,
    language: &str,
) -> Result<PersonId, sqlx::Error> {
    let id = PersonId::new();
    match t.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&t.url).await?;
            sqlx::query(
                "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, \
                 language, created_at, updated_at) VALUES (?1, ?2, 'Test', 'Person', \
                 '1970-01-01', ?3, '2025-01-01T00:00:00.000000Z', '2025-01-01T00:00:00.000000Z')",
            )
            .bind(id.to_string())
            .bind(national_id)
            .bind(language)
            .execute(&mut connection)
            .await?;
            connection.close().await?;
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&t.url).await?;
            sqlx::query(
                "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, \
                 language, created_at, updated_at) VALUES ($1, $2, 'Test', 'Person', \
                 DATE '1970-01-01', $3, now(), now())",
            )
            .bind(id.as_uuid())
            .bind(national_id)
            .bind(language)
            .execute(&mut connection)
            .await?;
            connection.close().await?;
        }
    }
    Ok(id)
}

async fn unreadable_rows_are_reported_not_hidden(t: &TestDb) {
    // Eleven digits, so the schema's format check lets it in, but no valid number.
    let bad_number = insert_raw_person(t, "00000000000", "nb").await.unwrap();
    let error = t.db.find_person(bad_number).await.unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Corrupt {
                what: "person.national_id"
            }
        ),
        "{error:?}"
    );
    assert!(!error.to_string().contains("00000000000"));

    let bad_language = insert_raw_person(t, "17848512397", "tlh").await.unwrap();
    assert!(matches!(
        t.db.find_person(bad_language).await,
        Err(StoreError::Corrupt {
            what: "person.language"
        })
    ));
    // Listing fails as a whole rather than quietly leaving people out.
    assert!(t.db.list_persons(10, None).await.is_err());
}

async fn schema_refuses_malformed_national_ids(t: &TestDb) {
    for malformed in ["123", "0101701234x", "010170-1234"] {
        let error = insert_raw_person(t, malformed, "nb").await.unwrap_err();
        let database_error = error.as_database_error().unwrap();
        assert_eq!(
            database_error.kind(),
            sqlx::error::ErrorKind::CheckViolation
        );
        if t.backend == Backend::Postgres {
            // The reason for `DatabaseCause`: the driver's own error quotes the row (DETAIL).
            assert!(format!("{error:?}").contains(malformed));
        }
        // What the storage layer keeps for logs names the rule, not the row.
        let cause = borgerportal::DatabaseCause::Sqlx(error);
        assert!(!cause.to_string().contains(malformed), "{cause}");
        assert!(!format!("{cause:?}").contains(malformed), "{cause:?}");
        assert!(cause.to_string().contains("persons_national_id_format") || cause.code().is_some());
    }
    assert_eq!(t.db.count_persons().await.unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// SQLite only: the two URL forms the configuration may use open the same file.

#[tokio::test]
async fn sqlite_url_forms_open_the_same_file() {
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("data").join("portal.db");
    let long_form = Database::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    long_form.migrate().await.unwrap();
    let created = long_form
        .create_person(new_person(7, "Aksel", "Brekke"))
        .await
        .unwrap();
    long_form.close().await;
    assert!(path.exists());

    let short_form = Database::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    assert_eq!(short_form.backend(), Backend::Sqlite);
    short_form.migrate().await.unwrap();
    assert_eq!(
        short_form.find_person(created.id).await.unwrap(),
        Some(created)
    );
    short_form.close().await;
}

#[test]
fn database_url_swaps_only_the_database() {
    assert_eq!(
        database_url("postgres://postgres@127.0.0.1:5432/postgres", "bp_test_x"),
        "postgres://postgres@127.0.0.1:5432/bp_test_x"
    );
    assert_eq!(
        database_url("postgres://u:p@db:5432?sslmode=disable", "bp_test_x"),
        "postgres://u:p@db:5432/bp_test_x?sslmode=disable"
    );
}

// ---------------------------------------------------------------------------------------------
// Each test above, once per backend.

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

on_both_backends!(
    migrations_are_idempotent,
    created_person_is_found_by_id_and_national_id,
    unknown_person_is_none,
    duplicate_national_id_is_a_conflict,
    upsert_creates_then_updates_names_and_keeps_id_and_language,
    simultaneous_logins_make_one_person,
    persons_are_listed_in_keyset_pages,
    every_language_and_kind_of_number_round_trips,
    demo_seed_is_idempotent,
    demo_seed_adds_only_missing_persons,
    person_survives_reopening,
    unreadable_rows_are_reported_not_hidden,
    schema_refuses_malformed_national_ids,
);
