#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The storage suite: every test below runs twice, once on SQLite and once on PostgreSQL
//! (see `on_both_backends!` in `common/mod.rs`), against real databases.
//!
//! SQLite: a fresh file in a temporary folder per test. PostgreSQL: a fresh database
//! `bp_test_<random>` per test on the server named by `BORGERPORTAL_TEST_POSTGRES_URL`, dropped
//! afterwards (also when the test fails). Without that variable the PostgreSQL tests fail: a
//! suite that quietly skips half its backends would prove nothing about production.

use std::collections::HashSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use borgerportal::{
    demo_persons, seed_demo_data, Access, Actor, AuditCursor, AuditEvent, AuditKind, Backend,
    Channel, CompletedLogin, Conflict, ContactError, ContactInfo, ContactMethod, ContactStatus,
    Country, Database, Denied, EmailAddress, EnqueueOutcome, FailedAttempt, Language, Loa, Mailbox,
    ManageContact, MobileNumber, NationalId, NationalIdKind, NewAuditEvent, NewLoginState,
    NewNotification, NewPerson, NewSession, NordicTimeZone, NotificationStatus, Person, PersonId,
    Policy, ReadContact, ReadOwnActivity, RetryPolicy, Session, SessionToken, StoreError, Template,
    VerifyOutcome, DEFAULT_STALENESS, MAX_AUDIT_PAGE_SIZE,
};
use borgerportal::{
    seed_demo_post, BodyKind, DeliverPost, DeliveryStatus, FolderId, FolderRef, ForwardOutcome,
    Letter, LetterCursor, LetterId, LetterPage, LetterSummary, LetterView, MailboxView, ManagePost,
    NewAttachment, NewLetter, NotificationRequest, PostError, PrintPost, ReadPost,
    ReadSensitivePost, Receipt, ReceiptCursor, ReceiptKind, MAX_ATTACHMENT_BYTES,
};
use borgerportal::{
    AgencyAccess, AgencyGrants, AgencyId, ContactLookup, LookupContact, MAX_LOOKUP_BATCH,
};
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use sqlx::Connection;

#[macro_use]
mod common;
use common::{database_url, TestDb};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime, UtcOffset};

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
// Helpers for the login tests

const IDLE: Duration = Duration::minutes(30);
const LIFETIME: Duration = Duration::hours(8);

/// Runs SQL past the store (to read what is really stored, or to spoil a row), on a connection
/// of its own; returns each row's first column as text.
async fn raw_text(t: &TestDb, sqlite_sql: &str, postgres_sql: &str) -> Vec<String> {
    t.raw_text(sqlite_sql, postgres_sql).await
}

/// Runs a statement past the store (same SQL on both backends).
async fn raw_execute(t: &TestDb, sql: &str) {
    match t.backend {
        Backend::Sqlite => {
            let mut connection = sqlx::SqliteConnection::connect(&t.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
            connection.close().await.unwrap();
        }
        Backend::Postgres => {
            let mut connection = sqlx::PgConnection::connect(&t.url).await.unwrap();
            sqlx::query(sql).execute(&mut connection).await.unwrap();
            connection.close().await.unwrap();
        }
    }
}

async fn count_rows(t: &TestDb, table: &str) -> i64 {
    let sql = format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}");
    raw_text(t, &sql, &sql).await[0].parse().unwrap()
}

/// An instant as the store keeps it: cut to whole microseconds.
fn whole_micros(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_microsecond(at.microsecond()).unwrap()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn completed_login(n: u16, names: Option<(&str, &str)>, loa: Loa) -> CompletedLogin {
    let (given, family) = names.unwrap_or(("", ""));
    CompletedLogin {
        person: new_person(n, given, family),
        names_sent: names.is_some(),
        loa,
        auth_time: OffsetDateTime::now_utc() - Duration::seconds(2),
        provider: "idporten".to_owned(),
        subject_claim: format!("sub-{n}"),
        sid: Some(format!("sid-{n}")),
        id_token: SecretString::from(format!("header.claims-{n}.signature")),
        absolute_lifetime: LIFETIME,
        previous: None,
        idle_timeout: IDLE,
        continues_visit: false,
    }
}

async fn a_completed_login_registers_starts_and_records_in_one_unit(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    let first =
        t.db.complete_login(
            completed_login(70, Some(("Kari", "Nordmann")), Loa::Substantial),
            now,
        )
        .await
        .unwrap();
    assert!(!first.stepped_up);
    assert_eq!(first.person.given_name, "Kari");
    assert_eq!(first.session.person, first.person.id);
    let found =
        t.db.find_session(&first.token, now, IDLE)
            .await
            .unwrap()
            .unwrap();
    assert_same_session(&found, &first.session);
    assert_eq!(
        audit_kinds(t, first.person.id).await,
        [AuditKind::LoginSucceeded]
    );

    // Again at `high` from the same browser: a step-up. The old session is gone, a new one
    // (a new token) runs, and the provider sent no names this time: the register's stay.
    let mut again = completed_login(70, None, Loa::High);
    again.previous = Some(first.token.clone());
    let second = t.db.complete_login(again, now).await.unwrap();
    assert!(second.stepped_up);
    assert_eq!(second.person.id, first.person.id);
    assert_eq!(second.person.given_name, "Kari");
    assert_ne!(
        second.token.as_cookie_value(),
        first.token.as_cookie_value()
    );
    assert!(t
        .db
        .find_session(&first.token, now, IDLE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        t.db.find_session(&second.token, now, IDLE)
            .await
            .unwrap()
            .unwrap()
            .loa,
        Loa::High
    );
    assert_eq!(
        audit_kinds(t, first.person.id).await,
        [AuditKind::LoginSucceeded, AuditKind::SteppedUp]
    );

    // Another person in the same browser: the first one's session ends, no step-up for anyone.
    let mut other = completed_login(71, None, Loa::High);
    other.previous = Some(second.token.clone());
    let third = t.db.complete_login(other, now).await.unwrap();
    assert!(!third.stepped_up);
    assert_eq!(
        third.person.given_name, "",
        "a new person without names from the eID"
    );
    assert!(t
        .db
        .find_session(&second.token, now, IDLE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        audit_kinds(t, third.person.id).await,
        [AuditKind::LoginSucceeded]
    );
}

async fn a_login_that_cannot_finish_leaves_nothing_behind(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    let first =
        t.db.complete_login(
            completed_login(72, Some(("Ola", "Nordmann")), Loa::Substantial),
            now,
        )
        .await
        .unwrap();
    // The unit's last step (the activity log) fails for a step-up: nothing before it stays.
    match t.backend {
        Backend::Sqlite => {
            raw_execute(
                t,
                "CREATE TRIGGER refuse_step_up BEFORE INSERT ON audit_events \
                 WHEN NEW.kind = 'login.stepped_up' BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .await
        }
        Backend::Postgres => {
            raw_execute(
                t,
                "CREATE FUNCTION refuse_step_up() RETURNS trigger LANGUAGE plpgsql AS \
                 $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
            )
            .await;
            raw_execute(
                t,
                "CREATE TRIGGER refuse_step_up BEFORE INSERT ON audit_events FOR EACH ROW \
                 WHEN (NEW.kind = 'login.stepped_up') EXECUTE FUNCTION refuse_step_up()",
            )
            .await
        }
    }
    let mut step_up = completed_login(72, Some(("Olav", "Nordmann")), Loa::High);
    step_up.previous = Some(first.token.clone());
    assert!(t.db.complete_login(step_up, now).await.is_err());
    // The previous session still runs, the names are the old ones, and no second session
    // or event exists.
    assert!(t
        .db
        .find_session(&first.token, now, IDLE)
        .await
        .unwrap()
        .is_some());
    let person = t.db.find_person(first.person.id).await.unwrap().unwrap();
    assert_eq!(person.given_name, "Ola");
    assert_eq!(count_rows(t, "sessions").await, 1);
    assert_eq!(
        audit_kinds(t, first.person.id).await,
        [AuditKind::LoginSucceeded]
    );
}

async fn registered_person(t: &TestDb, n: u16) -> Person {
    t.db.create_person(new_person(n, "Test", &format!("Person {n}")))
        .await
        .unwrap()
}

fn new_session(person: PersonId, provider: &str, sub: &str, sid: Option<&str>) -> NewSession {
    NewSession {
        person,
        loa: Loa::Substantial,
        auth_time: OffsetDateTime::now_utc() - Duration::seconds(3),
        provider: provider.to_owned(),
        subject_claim: sub.to_owned(),
        sid: sid.map(str::to_owned),
        id_token: SecretString::from(format!("header.claims-for-{sub}.signature")),
        absolute_lifetime: LIFETIME,
    }
}

fn assert_same_session(found: &Session, expected: &Session) {
    assert_eq!(found.person, expected.person);
    assert_eq!(found.loa, expected.loa);
    assert_eq!(found.auth_time, expected.auth_time);
    assert_eq!(found.provider, expected.provider);
    assert_eq!(found.subject_claim, expected.subject_claim);
    assert_eq!(found.sid, expected.sid);
    assert_eq!(
        found.id_token.expose_secret(),
        expected.id_token.expose_secret()
    );
    assert_eq!(found.created_at, expected.created_at);
    assert_eq!(found.last_seen_at, expected.last_seen_at);
    assert_eq!(found.expires_at, expected.expires_at);
}

fn new_login_state(state: &str, expires_at: OffsetDateTime) -> NewLoginState {
    NewLoginState {
        state: state.to_owned(),
        nonce: "nonce-value".to_owned(),
        pkce_verifier: SecretString::from("pkce-verifier-value"),
        provider: "idporten".to_owned(),
        requested_loa: Loa::High,
        return_to: "/post?folder=inbox".to_owned(),
        reauthenticate: false,
        signs: None,
        expires_at,
    }
}

fn own_activity(person: PersonId) -> borgerportal::Access<ReadOwnActivity> {
    let actor = Actor::Citizen {
        person,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ReadOwnActivity>(&actor, person).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Sessions

async fn session_is_created_and_found_by_its_cookie(t: &TestDb) {
    let person = registered_person(t, 10).await;
    let before = OffsetDateTime::now_utc() - Duration::seconds(1);
    let mut request = new_session(person.id, "idporten", "sub-10", Some("sid-10"));
    request.loa = Loa::High;
    request.auth_time = OffsetDateTime::now_utc().to_offset(UtcOffset::from_hms(1, 0, 0).unwrap());
    let (token, created) = t.db.create_session(request.clone()).await.unwrap();
    let after = OffsetDateTime::now_utc() + Duration::seconds(1);

    assert_eq!(created.person, person.id);
    assert_eq!(created.loa, Loa::High);
    assert_eq!(created.provider, "idporten");
    assert_eq!(created.subject_claim, "sub-10");
    assert_eq!(created.sid.as_deref(), Some("sid-10"));
    assert_eq!(
        created.id_token.expose_secret(),
        request.id_token.expose_secret()
    );
    assert!(created.created_at > before && created.created_at < after);
    assert_eq!(created.last_seen_at, created.created_at);
    assert_eq!(created.expires_at, created.created_at + LIFETIME);
    // Stored in UTC to the microsecond: what is read back equals what was returned.
    assert_eq!(created.auth_time.offset(), UtcOffset::UTC);
    assert_eq!(created.auth_time.nanosecond() % 1_000, 0);
    assert_eq!(
        created.actor(),
        Actor::Citizen {
            person: person.id,
            loa: Loa::High
        }
    );

    // The browser sends the cookie back; any instance finds the session by it.
    let cookie = token.as_cookie_value();
    let from_cookie = SessionToken::from_cookie_value(&cookie).unwrap();
    let found =
        t.db.find_session(&from_cookie, OffsetDateTime::now_utc(), IDLE)
            .await
            .unwrap()
            .unwrap();
    assert_same_session(&found, &created);
    let reopened = t.reopen().await;
    let found_elsewhere = reopened
        .find_session(&token, OffsetDateTime::now_utc(), IDLE)
        .await
        .unwrap()
        .unwrap();
    assert_same_session(&found_elsewhere, &created);
    reopened.close().await;

    // A session without sid round-trips too.
    let (_, without_sid) =
        t.db.create_session(new_session(person.id, "mitid", "sub-10b", None))
            .await
            .unwrap();
    assert_eq!(without_sid.sid, None);

    // A well-formed cookie that names no session.
    let unknown = SessionToken::generate();
    assert!(t
        .db
        .find_session(&unknown, OffsetDateTime::now_utc(), IDLE)
        .await
        .unwrap()
        .is_none());
}

async fn session_table_holds_only_hashes(t: &TestDb) {
    let person = registered_person(t, 11).await;
    let (token, _) =
        t.db.create_session(new_session(person.id, "idporten", "sub-11", Some("sid-11")))
            .await
            .unwrap();
    let cookie = token.as_cookie_value();
    let raw = URL_SAFE_NO_PAD.decode(&cookie).unwrap();
    assert_eq!(raw.len(), 32);

    let stored_hash = raw_text(
        t,
        "SELECT lower(hex(token_hash)) FROM sessions",
        "SELECT encode(token_hash, 'hex') FROM sessions",
    )
    .await;
    assert_eq!(stored_hash, [sha256_hex(&raw)]);
    // The whole row, every column as text: neither the cookie nor its bytes are there.
    let whole_rows = raw_text(
        t,
        "SELECT lower(hex(token_hash)) || '|' || person_id || '|' || loa || '|' || auth_time \
         || '|' || provider || '|' || subject_claim || '|' || coalesce(sid, '') || '|' || \
         id_token || '|' || created_at || '|' || last_seen_at || '|' || expires_at FROM sessions",
        "SELECT sessions::text FROM sessions",
    )
    .await;
    assert_eq!(whole_rows.len(), 1);
    let row = &whole_rows[0];
    assert!(row.contains("sub-11"), "the query saw the row: {row}");
    assert!(!row.contains(&cookie), "{row}");
    let raw_hex: String = raw.iter().map(|byte| format!("{byte:02x}")).collect();
    assert!(!row.contains(&raw_hex), "{row}");

    // The same for a pending login's state.
    let state = "state-value-that-must-not-be-stored";
    t.db.create_login_state(new_login_state(
        state,
        OffsetDateTime::now_utc() + Duration::minutes(10),
    ))
    .await
    .unwrap();
    let stored_state = raw_text(
        t,
        "SELECT lower(hex(state_hash)) || '|' || nonce || '|' || provider || '|' || \
         requested_loa || '|' || return_to || '|' || expires_at FROM login_states",
        "SELECT login_states::text FROM login_states",
    )
    .await;
    assert_eq!(stored_state.len(), 1);
    assert!(!stored_state[0].contains(state), "{}", stored_state[0]);
    assert!(stored_state[0].contains(&sha256_hex(state.as_bytes())));
}

async fn idle_session_expires_and_is_deleted(t: &TestDb) {
    let person = registered_person(t, 12).await;
    let (token, session) =
        t.db.create_session(new_session(person.id, "idporten", "sub-12", None))
            .await
            .unwrap();
    let seen = session.last_seen_at;

    let just_in_time = seen + IDLE - Duration::seconds(1);
    assert!(t
        .db
        .find_session(&token, just_in_time, IDLE)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        count_rows(t, "sessions").await,
        1,
        "finding does not delete"
    );

    assert!(t
        .db
        .find_session(&token, seen + IDLE, IDLE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        count_rows(t, "sessions").await,
        0,
        "the expired session is gone"
    );
    // Gone for good: not even a look with an earlier clock or a longer timeout brings it back.
    assert!(t
        .db
        .find_session(&token, seen, Duration::days(1))
        .await
        .unwrap()
        .is_none());
    assert!(!t.db.touch_session(&token, seen).await.unwrap());
}

async fn absolute_expiry_ends_even_an_active_session(t: &TestDb) {
    let person = registered_person(t, 13).await;
    let mut request = new_session(person.id, "idporten", "sub-13", None);
    request.absolute_lifetime = Duration::hours(1);
    let (token, session) = t.db.create_session(request).await.unwrap();
    assert_eq!(session.expires_at, session.created_at + Duration::hours(1));

    // Used every 20 minutes: never idle.
    let mut now = session.created_at;
    for _ in 0..2 {
        now += Duration::minutes(20);
        assert!(t
            .db
            .find_session(&token, now, IDLE)
            .await
            .unwrap()
            .is_some());
        assert!(t.db.touch_session(&token, now).await.unwrap());
    }
    let last_minute = session.expires_at - Duration::seconds(1);
    assert!(t
        .db
        .find_session(&token, last_minute, IDLE)
        .await
        .unwrap()
        .is_some());
    assert!(t
        .db
        .find_session(&token, session.expires_at, IDLE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(count_rows(t, "sessions").await, 0);
}

async fn touch_restarts_the_idle_timeout_and_never_goes_back(t: &TestDb) {
    let person = registered_person(t, 14).await;
    let (token, session) =
        t.db.create_session(new_session(person.id, "idporten", "sub-14", None))
            .await
            .unwrap();
    let start = session.last_seen_at;

    let later = start + Duration::minutes(20);
    assert!(t.db.touch_session(&token, later).await.unwrap());
    let found =
        t.db.find_session(&token, start + Duration::minutes(40), IDLE)
            .await
            .unwrap()
            .expect("touched 20 minutes ago: still valid at 40");
    assert_eq!(found.last_seen_at, later);

    // A late, slower request with an older clock does not move it back.
    assert!(t
        .db
        .touch_session(&token, start + Duration::minutes(10))
        .await
        .unwrap());
    let found =
        t.db.find_session(&token, start + Duration::minutes(45), IDLE)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(found.last_seen_at, later);
    assert_eq!(found.created_at, session.created_at);
    assert_eq!(found.expires_at, session.expires_at);

    assert!(!t
        .db
        .touch_session(&SessionToken::generate(), later)
        .await
        .unwrap());
}

async fn delete_session_ends_only_that_session(t: &TestDb) {
    let person = registered_person(t, 15).await;
    let (phone, _) =
        t.db.create_session(new_session(person.id, "idporten", "sub-15", Some("a")))
            .await
            .unwrap();
    let (laptop, _) =
        t.db.create_session(new_session(person.id, "idporten", "sub-15", Some("b")))
            .await
            .unwrap();
    assert_ne!(phone.as_cookie_value(), laptop.as_cookie_value());

    assert!(t.db.delete_session(&phone).await.unwrap());
    assert!(!t.db.delete_session(&phone).await.unwrap(), "already gone");
    let now = OffsetDateTime::now_utc();
    assert!(t
        .db
        .find_session(&phone, now, IDLE)
        .await
        .unwrap()
        .is_none());
    assert!(t
        .db
        .find_session(&laptop, now, IDLE)
        .await
        .unwrap()
        .is_some());
}

async fn sessions_end_by_provider_sid_and_subject(t: &TestDb) {
    let anna = registered_person(t, 16).await;
    let bjorn = registered_person(t, 17).await;
    let (anna_1, _) =
        t.db.create_session(new_session(anna.id, "idporten", "sub-anna", Some("sid-1")))
            .await
            .unwrap();
    let (anna_2, _) =
        t.db.create_session(new_session(anna.id, "idporten", "sub-anna", Some("sid-2")))
            .await
            .unwrap();
    // The same sid value from another provider is another session.
    let (anna_mitid, _) =
        t.db.create_session(new_session(anna.id, "mitid", "sub-anna", Some("sid-1")))
            .await
            .unwrap();
    let (bjorn_1, _) =
        t.db.create_session(new_session(bjorn.id, "idporten", "sub-bjorn", None))
            .await
            .unwrap();
    let alive = |token: SessionToken| {
        let db = t.db.clone();
        async move {
            db.find_session(&token, OffsetDateTime::now_utc(), IDLE)
                .await
                .unwrap()
                .is_some()
        }
    };

    let ended =
        t.db.delete_sessions_by_sid("idporten", "sid-1")
            .await
            .unwrap();
    assert_eq!(
        ended,
        vec![anna.id],
        "whose session ended, for the activity log"
    );
    assert!(!alive(anna_1.clone()).await);
    assert!(alive(anna_2.clone()).await);
    assert!(alive(anna_mitid.clone()).await);
    assert!(t
        .db
        .delete_sessions_by_sid("idporten", "sid-1")
        .await
        .unwrap()
        .is_empty());

    assert_eq!(
        t.db.delete_sessions_by_subject("idporten", "sub-anna")
            .await
            .unwrap(),
        vec![anna.id]
    );
    assert!(!alive(anna_2).await);
    assert!(alive(anna_mitid.clone()).await, "other provider untouched");
    assert!(alive(bjorn_1.clone()).await, "other person untouched");
    assert_eq!(
        t.db.delete_sessions_by_subject("mitid", "sub-anna")
            .await
            .unwrap(),
        vec![anna.id]
    );
    assert!(!alive(anna_mitid).await);
    assert!(alive(bjorn_1).await);
}

async fn expired_sessions_are_swept(t: &TestDb) {
    let person = registered_person(t, 18).await;
    let (idle, idle_session) =
        t.db.create_session(new_session(person.id, "idporten", "sub-18", None))
            .await
            .unwrap();
    let mut short = new_session(person.id, "idporten", "sub-18", None);
    short.absolute_lifetime = Duration::minutes(40);
    let (ended, _) = t.db.create_session(short).await.unwrap();
    let (active, _) =
        t.db.create_session(new_session(person.id, "idporten", "sub-18", None))
            .await
            .unwrap();

    let now = idle_session.created_at + Duration::minutes(45);
    // `active` and `ended` were both used 5 minutes ago, but `ended` had only 40 minutes.
    t.db.touch_session(&active, now - Duration::minutes(5))
        .await
        .unwrap();
    t.db.touch_session(&ended, now - Duration::minutes(5))
        .await
        .unwrap();

    assert_eq!(t.db.delete_expired_sessions(now, IDLE).await.unwrap(), 2);
    assert_eq!(count_rows(t, "sessions").await, 1);
    assert!(t
        .db
        .find_session(&active, now, IDLE)
        .await
        .unwrap()
        .is_some());
    assert!(t.db.find_session(&idle, now, IDLE).await.unwrap().is_none());
    assert_eq!(t.db.delete_expired_sessions(now, IDLE).await.unwrap(), 0);
}

async fn session_needs_a_registered_person(t: &TestDb) {
    // No session for a person the register does not know.
    let error =
        t.db.create_session(new_session(PersonId::new(), "idporten", "sub-x", None))
            .await
            .unwrap_err();
    assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    assert_eq!(count_rows(t, "sessions").await, 0);
}

// ---------------------------------------------------------------------------------------------
// Pending logins and logout tokens

async fn login_state_is_taken_once(t: &TestDb) {
    let started = whole_micros(OffsetDateTime::now_utc());
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(10);
    let request = new_login_state("state-1", expires_at);
    t.db.create_login_state(request.clone()).await.unwrap();
    let job = borgerportal::SigningJobId::new();
    let step_up = NewLoginState {
        reauthenticate: true,
        signs: Some(job),
        ..new_login_state("state-2", expires_at)
    };
    t.db.create_login_state(step_up).await.unwrap();
    let created = OffsetDateTime::now_utc();

    let now = OffsetDateTime::now_utc();
    let taken =
        t.db.take_login_state("state-1", now)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(taken.state, "state-1");
    assert_eq!(taken.nonce, request.nonce);
    assert_eq!(
        taken.pkce_verifier.expose_secret(),
        request.pkce_verifier.expose_secret()
    );
    assert_eq!(taken.provider, "idporten");
    assert_eq!(taken.requested_loa, Loa::High);
    assert_eq!(taken.return_to, "/post?folder=inbox");
    assert_eq!(taken.expires_at, whole_micros(expires_at));
    assert!(!taken.reauthenticate);
    assert_eq!(taken.signs, None);
    assert!(
        (started..=created).contains(&taken.started_at),
        "{started} <= {} <= {created}",
        taken.started_at
    );

    assert!(t
        .db
        .take_login_state("state-1", now)
        .await
        .unwrap()
        .is_none());
    assert!(t
        .db
        .take_login_state("never-made", now)
        .await
        .unwrap()
        .is_none());
    // The other pending login is untouched, and it asked for a new authentication.
    let step_up =
        t.db.take_login_state("state-2", now)
            .await
            .unwrap()
            .unwrap();
    assert!(step_up.reauthenticate);
    assert_eq!(step_up.signs, Some(job), "a login to sign keeps its job");
    assert_eq!(count_rows(t, "login_states").await, 0);
}

async fn expired_login_state_is_refused_and_swept(t: &TestDb) {
    let now = OffsetDateTime::now_utc();
    t.db.create_login_state(new_login_state("late", now + Duration::minutes(10)))
        .await
        .unwrap();
    assert!(t
        .db
        .take_login_state("late", now + Duration::minutes(10))
        .await
        .unwrap()
        .is_none());
    // Taken all the same: it cannot be used afterwards with a kinder clock.
    assert!(t.db.take_login_state("late", now).await.unwrap().is_none());

    t.db.create_login_state(new_login_state("abandoned", now - Duration::seconds(1)))
        .await
        .unwrap();
    t.db.create_login_state(new_login_state("pending", now + Duration::minutes(5)))
        .await
        .unwrap();
    assert_eq!(t.db.delete_expired_login_states(now).await.unwrap(), 1);
    assert_eq!(t.db.delete_expired_login_states(now).await.unwrap(), 0);
    assert!(t
        .db
        .take_login_state("pending", now)
        .await
        .unwrap()
        .is_some());
}

async fn concurrent_takes_give_the_state_to_exactly_one(t: &TestDb) {
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(10);
    for round in 0..5 {
        let state = format!("raced-state-{round}");
        t.db.create_login_state(new_login_state(&state, expires_at))
            .await
            .unwrap();
        let racers: Vec<_> = (0..4)
            .map(|_| {
                let db = t.db.clone();
                let state = state.clone();
                tokio::spawn(
                    async move { db.take_login_state(&state, OffsetDateTime::now_utc()).await },
                )
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            if racer.await.unwrap().unwrap().is_some() {
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}");
    }
    assert_eq!(count_rows(t, "login_states").await, 0);
}

async fn reused_login_state_is_a_conflict(t: &TestDb) {
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(10);
    let state = "reused-state-value";
    t.db.create_login_state(new_login_state(state, expires_at))
        .await
        .unwrap();
    let error =
        t.db.create_login_state(new_login_state(state, expires_at))
            .await
            .unwrap_err();
    assert!(
        matches!(error, StoreError::Conflict(Conflict::LoginStateTaken)),
        "{error:?}"
    );
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(state), "{shown}");
}

async fn logout_token_is_accepted_once(t: &TestDb) {
    let issuer = "https://idporten.example/";
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(2);
    assert!(t
        .db
        .remember_logout_token(issuer, "jti-1", expires_at)
        .await
        .unwrap());
    assert!(
        !t.db
            .remember_logout_token(issuer, "jti-1", expires_at)
            .await
            .unwrap(),
        "a replay"
    );
    assert!(
        t.db.remember_logout_token("https://mitid-broker.example/", "jti-1", expires_at)
            .await
            .unwrap(),
        "jti is unique per issuer only"
    );

    // Two instances receive the same token at once: exactly one accepts it.
    let (first, second) = tokio::join!(
        t.db.remember_logout_token(issuer, "jti-2", expires_at),
        t.db.remember_logout_token(issuer, "jti-2", expires_at),
    );
    assert!(first.unwrap() ^ second.unwrap());

    assert_eq!(
        t.db.forget_expired_logout_tokens(expires_at - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        t.db.forget_expired_logout_tokens(expires_at).await.unwrap(),
        3
    );
    assert_eq!(count_rows(t, "logout_tokens").await, 0);
}

// ---------------------------------------------------------------------------------------------
// The activity log

async fn audit_events_round_trip(t: &TestDb) {
    let person = registered_person(t, 20).await;
    let at = OffsetDateTime::now_utc() - Duration::minutes(1);
    let mut recorded = Vec::new();
    for (n, kind) in AuditKind::ALL.into_iter().enumerate() {
        let mut new_event = NewAuditEvent::new(person.id, kind);
        new_event.at = at + Duration::seconds(n as i64);
        if n % 2 == 0 {
            new_event = new_event.by(person.id).at_loa(Loa::High).via("idporten");
        }
        let event = t.db.record_event(new_event.clone()).await.unwrap();
        assert_eq!(event.subject, person.id);
        assert_eq!(event.kind, kind);
        assert_eq!(event.actor, new_event.actor);
        assert_eq!(event.loa, new_event.loa);
        assert_eq!(event.provider, new_event.provider);
        assert_eq!(event.at.nanosecond() % 1_000, 0);
        assert_eq!(event.id.get_version_num(), 7);
        recorded.push(event);
    }
    let page =
        t.db.list_events(&own_activity(person.id), None, 50)
            .await
            .unwrap();
    recorded.reverse();
    assert_eq!(page.events, recorded, "read back exactly, newest first");
    assert_eq!(page.next, None);
}

async fn audit_pages_newest_first_across_equal_timestamps(t: &TestDb) {
    let person = registered_person(t, 21).await;
    let same_time = whole_micros(OffsetDateTime::now_utc() - Duration::hours(1));
    let mut recorded: Vec<AuditEvent> = Vec::new();
    // Five events in the same microsecond, one before and one after.
    for offset in [0, 0, -1, 0, 1, 0, 0] {
        let mut new_event = NewAuditEvent::new(person.id, AuditKind::LoginSucceeded);
        new_event.at = same_time + Duration::seconds(offset);
        recorded.push(t.db.record_event(new_event).await.unwrap());
    }
    let mut expected = recorded.clone();
    expected.sort_by_key(|event| std::cmp::Reverse((event.at, event.id)));

    let access = own_activity(person.id);
    let mut seen = Vec::new();
    let mut page_sizes = Vec::new();
    let mut before = None;
    loop {
        let page = t.db.list_events(&access, before, 2).await.unwrap();
        page_sizes.push(page.events.len());
        seen.extend(page.events.iter().cloned());
        match page.next {
            // The cursor goes out in a link and comes back in the next request.
            Some(next) => before = Some(AuditCursor::from_param(&next.to_param()).unwrap()),
            None => break,
        }
    }
    assert_eq!(page_sizes, [2, 2, 2, 1]);
    assert_eq!(seen, expected);
    assert_eq!(seen.first().unwrap().at, same_time + Duration::seconds(1));
    assert_eq!(seen.last().unwrap().at, same_time - Duration::seconds(1));

    // A page that ends exactly at the oldest event says there is no next page.
    let whole = t.db.list_events(&access, None, 7).await.unwrap();
    assert_eq!(whole.events, expected);
    assert_eq!(whole.next, None);
    // Zero is read as one; too many is cut to the maximum.
    assert_eq!(
        t.db.list_events(&access, None, 0)
            .await
            .unwrap()
            .events
            .len(),
        1
    );
    assert_eq!(
        t.db.list_events(&access, None, u32::MAX)
            .await
            .unwrap()
            .events
            .len(),
        7
    );
    // An event recorded while paging does not shift the older pages.
    let first_page = t.db.list_events(&access, None, 2).await.unwrap();
    t.db.record_event(NewAuditEvent::new(person.id, AuditKind::LoggedOut))
        .await
        .unwrap();
    let second_page = t.db.list_events(&access, first_page.next, 2).await.unwrap();
    assert_eq!(second_page.events, expected[2..4]);
}

async fn audit_page_size_is_capped(t: &TestDb) {
    let person = registered_person(t, 26).await;
    for _ in 0..=MAX_AUDIT_PAGE_SIZE {
        t.db.record_event(NewAuditEvent::new(person.id, AuditKind::LoginSucceeded))
            .await
            .unwrap();
    }
    let access = own_activity(person.id);
    let page = t.db.list_events(&access, None, u32::MAX).await.unwrap();
    assert_eq!(page.events.len(), MAX_AUDIT_PAGE_SIZE as usize);
    let rest =
        t.db.list_events(&access, page.next, u32::MAX)
            .await
            .unwrap();
    assert_eq!(rest.events.len(), 1);
    assert_eq!(rest.next, None);
}

async fn audit_log_is_scoped_to_the_proofs_subject(t: &TestDb) {
    let anna = registered_person(t, 22).await;
    let bjorn = registered_person(t, 23).await;
    for _ in 0..3 {
        t.db.record_event(NewAuditEvent::new(anna.id, AuditKind::LoginSucceeded).by(anna.id))
            .await
            .unwrap();
        t.db.record_event(NewAuditEvent::new(bjorn.id, AuditKind::LoggedOut).by(bjorn.id))
            .await
            .unwrap();
    }

    let anna_actor = Actor::Citizen {
        person: anna.id,
        loa: Loa::High,
    };
    // Anna cannot get a proof for Bjørn's log, at any level.
    assert_eq!(
        Policy::authorize::<ReadOwnActivity>(&anna_actor, bjorn.id).unwrap_err(),
        Denied::NoAuthority
    );
    let anna_access = Policy::authorize::<ReadOwnActivity>(&anna_actor, anna.id).unwrap();
    let annas = t.db.list_events(&anna_access, None, 50).await.unwrap();
    assert_eq!(annas.events.len(), 3);
    assert!(annas.events.iter().all(|event| event.subject == anna.id));

    // A cursor from Bjørn's log, pasted into Anna's request, still shows only Anna's events.
    let bjorns =
        t.db.list_events(&own_activity(bjorn.id), None, 1)
            .await
            .unwrap();
    let pasted =
        t.db.list_events(&anna_access, bjorns.next, 50)
            .await
            .unwrap();
    assert!(pasted.events.iter().all(|event| event.subject == anna.id));

    // Someone with no events has an empty log.
    let carl = registered_person(t, 24).await;
    let empty =
        t.db.list_events(&own_activity(carl.id), None, 50)
            .await
            .unwrap();
    assert!(empty.events.is_empty());
    assert_eq!(empty.next, None);
}

// ---------------------------------------------------------------------------------------------
// Errors keep secrets out

async fn store_errors_never_show_a_national_id_or_token(t: &TestDb) {
    let person = registered_person(t, 25).await;
    let national_id = person.national_id.expose().to_owned();

    // A session whose claims carry the national id (as an id_token's `pid` does), for a
    // person the register does not know: the database refuses it.
    let mut request = new_session(
        PersonId::new(),
        "idporten",
        &national_id,
        Some(&national_id),
    );
    request.id_token = SecretString::from(format!("header.{{\"pid\":\"{national_id}\"}}.sig"));
    let error = t.db.create_session(request).await.unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(&national_id), "{shown}");
    assert!(!shown.contains(&national_id[6..]), "{shown}");

    // A stored session that no longer reads back: the error names the column, not the row.
    let mut request = new_session(person.id, "idporten", &national_id, None);
    request.id_token = SecretString::from(format!("header.{{\"pid\":\"{national_id}\"}}.sig"));
    let (token, session) = t.db.create_session(request).await.unwrap();
    raw_execute(t, "UPDATE sessions SET loa = 'low'").await;
    let error =
        t.db.find_session(&token, OffsetDateTime::now_utc(), IDLE)
            .await
            .unwrap_err();
    assert!(
        matches!(
            error,
            StoreError::Corrupt {
                what: "session.loa"
            }
        ),
        "{error:?}"
    );
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(&national_id), "{shown}");
    assert!(!shown.contains(&token.as_cookie_value()), "{shown}");

    // Nor do the values' own Debug forms (what a `?session` in a log line prints).
    let shown = format!("{session:?} {token:?}");
    assert!(!shown.contains(&national_id), "{shown}");
    assert!(!shown.contains(&token.as_cookie_value()), "{shown}");

    // An audit event for an unknown subject is refused without naming anyone.
    let error =
        t.db.record_event(NewAuditEvent::new(PersonId::new(), AuditKind::LoginFailed))
            .await
            .unwrap_err();
    let shown = format!("{error} / {error:?}");
    assert!(!shown.contains(&national_id), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Contact register: helpers

/// A weekday at 12:00 in Oslo (summer time): codes and notices go out at once.
const T0: OffsetDateTime = datetime!(2025-06-02 10:00 UTC);

fn manage(person: PersonId) -> Access<ManageContact> {
    let actor = Actor::Citizen {
        person,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ManageContact>(&actor, person).unwrap()
}

fn read(person: PersonId) -> Access<ReadContact> {
    let actor = Actor::Citizen {
        person,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ReadContact>(&actor, person).unwrap()
}

fn email(text: &str) -> EmailAddress {
    EmailAddress::parse(text).unwrap()
}

fn mobile(text: &str) -> MobileNumber {
    MobileNumber::parse(text, Country::Norway).unwrap()
}

/// A registered person whose e-mail address `address` is verified at `at`.
async fn person_with_email(t: &TestDb, n: u16, address: &str, at: OffsetDateTime) -> Person {
    let person = registered_person(t, n).await;
    let sent =
        t.db.request_email_change(&manage(person.id), email(address), at)
            .await
            .unwrap();
    let outcome =
        t.db.verify_code(
            &manage(person.id),
            ContactMethod::Email,
            sent.code.expose(),
            at,
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
    person
}

/// The subject's audit kinds, oldest first.
async fn audit_kinds(t: &TestDb, person: PersonId) -> Vec<AuditKind> {
    let page =
        t.db.list_events(&own_activity(person), None, MAX_AUDIT_PAGE_SIZE)
            .await
            .unwrap();
    page.events.iter().rev().map(|event| event.kind).collect()
}

/// Every outbox row, oldest first: (template, channel, address, params as JSON text, status).
async fn outbox_rows(t: &TestDb) -> Vec<(String, String, String, serde_json::Value, String)> {
    let sqlite = "SELECT template || '|' || channel || '|' || address || '|' || status || '|' \
                  || params FROM notifications ORDER BY id";
    let postgres = "SELECT template || '|' || channel || '|' || address || '|' || status || '|' \
                    || params::text FROM notifications ORDER BY id";
    raw_text(t, sqlite, postgres)
        .await
        .into_iter()
        .map(|row| {
            let parts: Vec<&str> = row.splitn(5, '|').collect();
            (
                parts[0].to_owned(),
                parts[1].to_owned(),
                parts[2].to_owned(),
                serde_json::from_str(parts[4]).unwrap(),
                parts[3].to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Contact register: the life of a change

async fn contact_info_starts_not_registered(t: &TestDb) {
    let danish =
        t.db.create_person(NewPerson::new(
            NationalId::parse("230972-1846").unwrap(),
            "Mette",
            "Nielsen",
            Language::Da,
        ))
        .await
        .unwrap();
    let info = t.db.find_contact_info(&read(danish.id)).await.unwrap();
    assert_eq!(
        info,
        ContactInfo::not_registered(danish.id, Country::Denmark, Language::Da)
    );
    assert!(!info.can_be_notified(T0, DEFAULT_STALENESS));
    assert_eq!(
        count_rows(t, "contact_info").await,
        0,
        "reading writes nothing"
    );

    // The country decides how a number without `+` is read.
    let number = MobileNumber::parse("20 12 34 56", info.country).unwrap();
    assert_eq!(number.as_str(), "+4520123456");

    // A proof for someone the register does not know finds nothing.
    let error =
        t.db.find_contact_info(&read(PersonId::new()))
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::UnknownPerson), "{error:?}");
    assert_eq!(error.code(), "contact.unknown_person");
}

async fn email_change_is_verified_by_code(t: &TestDb) {
    let person = registered_person(t, 30).await;
    let access = manage(person.id);
    let sent =
        t.db.request_email_change(&access, email(" Kari@Example.NO "), T0)
            .await
            .unwrap();
    assert_eq!(sent.method, ContactMethod::Email);
    assert_eq!(sent.expires_at, T0 + Duration::minutes(10));
    assert_eq!(sent.next_code_at, T0 + Duration::seconds(60));
    assert!(!format!("{sent:?}").contains(sent.code.expose()));

    // Waiting: nothing in force yet.
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.status, ContactStatus::NotRegistered);
    assert_eq!(info.email, None);
    let pending = info.pending_email.unwrap();
    assert_eq!(pending.new_value.as_str(), "Kari@example.no");
    assert_eq!(pending.sent_at, T0);
    assert_eq!(pending.expires_at, T0 + Duration::minutes(10));
    assert_eq!(pending.attempts_left, 5);

    // The code went to the outbox, addressed to the new address; the register keeps a hash.
    let rows = outbox_rows(t).await;
    assert_eq!(rows.len(), 1);
    let (template, channel, address, params, status) = &rows[0];
    assert_eq!(
        (
            template.as_str(),
            channel.as_str(),
            address.as_str(),
            status.as_str()
        ),
        ("verify_code", "email", "Kari@example.no", "pending")
    );
    assert_eq!(params["code"], sent.code.expose());
    assert_eq!(params["language"], "nb");
    let stored = raw_text(
        t,
        "SELECT new_value || ' ' || hex(code_salt) || ' ' || hex(code_hash) \
         FROM contact_verifications",
        "SELECT new_value || ' ' || encode(code_salt, 'hex') || ' ' || encode(code_hash, 'hex') \
         FROM contact_verifications",
    )
    .await;
    assert_eq!(stored.len(), 1);
    let stored = stored[0].to_ascii_lowercase();
    assert!(!stored.contains(sent.code.expose()), "{stored}");
    assert!(!stored.contains(&sha256_hex(sent.code.expose().as_bytes())));
    let parts: Vec<&str> = stored.split(' ').collect();
    assert_eq!(parts[1].len(), 32, "16-byte salt");
    assert_eq!(parts[2].len(), 64, "32-byte hash");

    // The right code, typed with spaces, a minute later.
    let typed = format!(
        " {} {} ",
        &sent.code.expose()[..3],
        &sent.code.expose()[3..]
    );
    let at = T0 + Duration::minutes(1);
    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, &typed, at)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.status, ContactStatus::Active);
    let in_force = info.email.clone().unwrap();
    assert_eq!(in_force.value.as_str(), "Kari@example.no");
    assert_eq!(in_force.updated_at, at);
    assert_eq!(in_force.verified_at, Some(at));
    assert_eq!(info.pending_email, None);
    assert!(info.can_be_notified(at, DEFAULT_STALENESS));
    assert_eq!(count_rows(t, "contact_verifications").await, 0);

    // The same code again: nothing is waiting any more.
    let again =
        t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
            .await
            .unwrap();
    assert_eq!(again, VerifyOutcome::NoPending);

    assert_eq!(
        audit_kinds(t, person.id).await,
        [
            AuditKind::ContactEmailCodeSent,
            AuditKind::ContactEmailChanged
        ]
    );
    let events =
        t.db.list_events(&own_activity(person.id), None, 10)
            .await
            .unwrap();
    assert!(events
        .events
        .iter()
        .all(|event| event.actor == Some(person.id) && event.loa == Some(Loa::Substantial)));
    assert_eq!(events.events[0].at, at);
    // No notice: there was no old address to tell.
    assert_eq!(outbox_rows(t).await.len(), 1);
}

async fn old_value_stays_in_force_until_the_new_one_is_verified(t: &TestDb) {
    let person = person_with_email(t, 31, "old@example.no", T0).await;
    let access = manage(person.id);
    let later = T0 + Duration::days(30);
    let sent =
        t.db.request_email_change(&access, email("new@example.no"), later)
            .await
            .unwrap();
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(
        info.email.as_ref().unwrap().value.as_str(),
        "old@example.no"
    );
    assert_eq!(
        info.pending_email.as_ref().unwrap().new_value.as_str(),
        "new@example.no"
    );
    assert_eq!(
        info.fresh_email(later, DEFAULT_STALENESS)
            .map(EmailAddress::as_str),
        Some("old@example.no")
    );

    // A wrong code changes nothing in force.
    let wrong = wrong_code(sent.code.expose());
    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, &wrong, later)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::WrongCode { attempts_left: 4 });
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(
        info.email.as_ref().unwrap().value.as_str(),
        "old@example.no"
    );
    assert_eq!(info.pending_email.as_ref().unwrap().attempts_left, 4);

    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), later)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(
        info.email.as_ref().unwrap().value.as_str(),
        "new@example.no"
    );
    assert_eq!(info.email.as_ref().unwrap().updated_at, later);

    // The old address is told, without the new one.
    let rows = outbox_rows(t).await;
    let notice = rows.iter().find(|row| row.0 == "contact_changed").unwrap();
    assert_eq!(notice.2, "old@example.no");
    assert_eq!(
        notice.3,
        serde_json::json!({"method": "email", "language": "nb"})
    );

    // Asking for the address already in force is refused; re-verifying goes by "confirm".
    let error =
        t.db.request_email_change(&access, email("new@example.no"), later + Duration::hours(1))
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::Unchanged), "{error:?}");
    assert_eq!(error.code(), "contact.unchanged");
}

/// A six-digit code other than `code`.
fn wrong_code(code: &str) -> String {
    let number: u32 = code.parse().unwrap();
    format!("{:06}", (number + 1) % 1_000_000)
}

async fn mobile_change_and_notice_to_the_old_number_wait_for_morning(t: &TestDb) {
    let person = registered_person(t, 32).await;
    let access = manage(person.id);
    // 23:30 in Oslo: the code the person asked for goes at once.
    let night = datetime!(2025-06-02 21:30 UTC);
    let sent =
        t.db.request_mobile_change(&access, mobile("912 34 567"), night)
            .await
            .unwrap();
    let code =
        t.db.find_notification_by_key(&format!(
            "contact.verify_code:{}",
            raw_text(
                t,
                "SELECT id FROM contact_verifications",
                "SELECT id::text FROM contact_verifications"
            )
            .await[0]
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(code.channel, Channel::Sms);
    assert_eq!(code.not_before, night);
    t.db.verify_code(&access, ContactMethod::Mobile, sent.code.expose(), night)
        .await
        .unwrap();

    // Changing it again at night: the notice to the old number waits until 08:00.
    let next_night = night + Duration::days(1);
    let sent =
        t.db.request_mobile_change(&access, mobile("+47 412 34 567"), next_night)
            .await
            .unwrap();
    t.db.verify_code(
        &access,
        ContactMethod::Mobile,
        sent.code.expose(),
        next_night,
    )
    .await
    .unwrap();
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.mobile.as_ref().unwrap().value.as_str(), "+4741234567");
    let rows = outbox_rows(t).await;
    let notice = rows.iter().find(|row| row.0 == "contact_changed").unwrap();
    assert_eq!(
        (notice.1.as_str(), notice.2.as_str()),
        ("sms", "+4791234567")
    );
    let waiting = raw_text(
        t,
        "SELECT not_before FROM notifications WHERE template = 'contact_changed'",
        "SELECT to_char(not_before AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
         FROM notifications WHERE template = 'contact_changed'",
    )
    .await;
    assert_eq!(waiting, ["2025-06-04T06:00:00.000000Z"]);
    assert_eq!(
        audit_kinds(t, person.id).await,
        [
            AuditKind::ContactMobileCodeSent,
            AuditKind::ContactMobileChanged,
            AuditKind::ContactMobileCodeSent,
            AuditKind::ContactMobileChanged,
        ]
    );
}

async fn five_wrong_codes_kill_the_code(t: &TestDb) {
    let person = registered_person(t, 33).await;
    let access = manage(person.id);
    let sent =
        t.db.request_email_change(&access, email("kari@example.no"), T0)
            .await
            .unwrap();
    let wrong = wrong_code(sent.code.expose());
    // Not six digits: no try is used up.
    for typed in ["", "12345", "abcdef", "1234567"] {
        let outcome =
            t.db.verify_code(&access, ContactMethod::Email, typed, T0)
                .await
                .unwrap();
        assert_eq!(
            outcome,
            VerifyOutcome::WrongCode { attempts_left: 5 },
            "{typed:?}"
        );
    }
    for left in (0..5).rev() {
        let outcome =
            t.db.verify_code(&access, ContactMethod::Email, &wrong, T0)
                .await
                .unwrap();
        assert_eq!(
            outcome,
            VerifyOutcome::WrongCode {
                attempts_left: left
            }
        );
    }
    // The right code no longer helps.
    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), T0)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::TooManyAttempts);
    assert_eq!(outcome.code(), "contact.verify.too_many_attempts");
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.email, None);
    assert_eq!(info.pending_email.unwrap().attempts_left, 0);
    assert_eq!(
        audit_kinds(t, person.id).await,
        [
            AuditKind::ContactEmailCodeSent,
            AuditKind::ContactVerificationLocked
        ]
    );

    // A new code (after the minute) starts afresh; the old one is dead.
    let resent =
        t.db.resend_code(&access, ContactMethod::Email, T0 + Duration::minutes(1))
            .await
            .unwrap();
    let at = T0 + Duration::minutes(2);
    if resent.code != sent.code {
        let outcome =
            t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
                .await
                .unwrap();
        assert_eq!(outcome, VerifyOutcome::WrongCode { attempts_left: 4 });
    }
    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, resent.code.expose(), at)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
}

async fn codes_expire_after_ten_minutes(t: &TestDb) {
    let person = registered_person(t, 34).await;
    let access = manage(person.id);
    let sent =
        t.db.request_email_change(&access, email("kari@example.no"), T0)
            .await
            .unwrap();
    let outcome =
        t.db.verify_code(
            &access,
            ContactMethod::Email,
            sent.code.expose(),
            T0 + Duration::minutes(10),
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Expired);
    // Expired even with a wrong code: no try is counted.
    let outcome =
        t.db.verify_code(
            &access,
            ContactMethod::Email,
            &wrong_code(sent.code.expose()),
            T0 + Duration::hours(3),
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Expired);
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.email, None);
    assert_eq!(info.pending_email.as_ref().unwrap().attempts_left, 5);

    // Just in time works.
    let at = T0 + Duration::hours(4);
    let sent =
        t.db.resend_code(&access, ContactMethod::Email, at)
            .await
            .unwrap();
    let just_in_time = at + Duration::minutes(10) - Duration::microseconds(1);
    let outcome =
        t.db.verify_code(
            &access,
            ContactMethod::Email,
            sent.code.expose(),
            just_in_time,
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);

    // The housekeeping job deletes changes whose code expired long ago.
    t.db.request_email_change(&access, email("other@example.no"), at + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(
        t.db.delete_expired_verifications(at + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        t.db.delete_expired_verifications(at + Duration::days(1))
            .await
            .unwrap(),
        1
    );
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.pending_email, None);
}

async fn codes_are_limited_per_minute_and_hour_and_channel(t: &TestDb) {
    let person = registered_person(t, 35).await;
    let access = manage(person.id);
    let error =
        t.db.resend_code(&access, ContactMethod::Email, T0)
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::NothingPending), "{error:?}");

    t.db.request_email_change(&access, email("kari@example.no"), T0)
        .await
        .unwrap();
    // Not twice within a minute (a new request counts like a resend).
    let error =
        t.db.resend_code(&access, ContactMethod::Email, T0 + Duration::seconds(30))
            .await
            .unwrap_err();
    match error {
        ContactError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Duration::seconds(30))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        t.db.request_email_change(
            &access,
            email("other@example.no"),
            T0 + Duration::seconds(59)
        )
        .await
        .unwrap_err()
        .code(),
        "contact.code_rate_limited"
    );
    // The other channel has its own limit.
    t.db.request_mobile_change(&access, mobile("91234567"), T0 + Duration::seconds(30))
        .await
        .unwrap();

    // Five within an hour: at 0, 1, 2, 3 and 4 minutes.
    for minute in 1..5 {
        t.db.resend_code(
            &access,
            ContactMethod::Email,
            T0 + Duration::minutes(minute),
        )
        .await
        .unwrap();
    }
    let error =
        t.db.resend_code(&access, ContactMethod::Email, T0 + Duration::minutes(10))
            .await
            .unwrap_err();
    match error {
        ContactError::RateLimited { retry_after } => {
            assert_eq!(retry_after, Duration::minutes(50))
        }
        other => panic!("{other:?}"),
    }
    // Refused requests wrote nothing.
    assert_eq!(count_rows(t, "notifications").await, 6);
    assert_eq!(audit_kinds(t, person.id).await.len(), 6);
    // When the first send leaves the window, one more is allowed.
    t.db.resend_code(
        &access,
        ContactMethod::Email,
        T0 + Duration::minutes(60) + Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(count_rows(t, "notifications").await, 7);
}

async fn confirming_renews_verified_at_and_staleness_follows(t: &TestDb) {
    let person = person_with_email(t, 36, "kari@example.no", T0).await;
    let access = manage(person.id);
    let limit = T0 + DEFAULT_STALENESS;
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert!(info.can_be_notified(limit - Duration::seconds(1), DEFAULT_STALENESS));
    assert!(!info.can_be_notified(limit, DEFAULT_STALENESS));
    assert!(info.is_stale(limit, DEFAULT_STALENESS));

    let confirmed = t.db.confirm_contact_info(&access, limit).await.unwrap();
    let email = confirmed.email.clone().unwrap();
    assert_eq!(email.verified_at, Some(limit));
    assert_eq!(email.updated_at, T0, "confirming is not changing");
    assert!(confirmed.can_be_notified(limit, DEFAULT_STALENESS));
    assert!(!confirmed.is_stale(limit, DEFAULT_STALENESS));
    assert_eq!(
        t.db.find_contact_info(&read(person.id)).await.unwrap(),
        confirmed
    );
    assert_eq!(
        audit_kinds(t, person.id).await.last(),
        Some(&AuditKind::ContactConfirmed)
    );

    // Nothing to confirm for someone with nothing registered.
    let empty = registered_person(t, 37).await;
    let error =
        t.db.confirm_contact_info(&manage(empty.id), T0)
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::NothingToConfirm), "{error:?}");
    assert!(audit_kinds(t, empty.id).await.is_empty());
}

async fn reservation_mailbox_and_language_are_set_and_audited(t: &TestDb) {
    let person = person_with_email(t, 38, "kari@example.no", T0).await;
    let access = manage(person.id);
    let at = T0 + Duration::hours(1);

    let reserved = t.db.set_reservation(&access, true, at).await.unwrap();
    assert!(reserved.reserved);
    assert_eq!(reserved.reservation_changed_at, Some(at));
    assert!(!reserved.can_be_notified(at, DEFAULT_STALENESS));
    // Setting it again changes nothing and logs nothing.
    let again =
        t.db.set_reservation(&access, true, at + Duration::hours(1))
            .await
            .unwrap();
    assert_eq!(again.reservation_changed_at, Some(at));
    let withdrawn =
        t.db.set_reservation(&access, false, at + Duration::hours(2))
            .await
            .unwrap();
    assert!(!withdrawn.reserved);
    assert!(withdrawn.can_be_notified(at + Duration::hours(2), DEFAULT_STALENESS));

    let mailbox =
        t.db.set_mailbox(
            &access,
            Mailbox::External {
                provider: " Digipost ".to_owned(),
            },
            at + Duration::hours(3),
        )
        .await
        .unwrap();
    assert_eq!(
        mailbox.mailbox,
        Mailbox::External {
            provider: "digipost".to_owned()
        }
    );
    let error =
        t.db.set_mailbox(
            &access,
            Mailbox::External {
                provider: "<b>evil</b>".to_owned(),
            },
            at,
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), "contact.mailbox_provider_invalid");

    let language =
        t.db.set_language(&access, Language::Nn, at + Duration::hours(4))
            .await
            .unwrap();
    assert_eq!(language.language, Language::Nn);
    assert_eq!(
        t.db.find_person(person.id).await.unwrap().unwrap().language,
        Language::Nn,
        "one language for the portal and the letters"
    );
    t.db.set_language(&access, Language::Nn, at).await.unwrap();

    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.mailbox, mailbox.mailbox);
    assert_eq!(info.language, Language::Nn);
    assert!(!info.reserved);
    assert_eq!(
        audit_kinds(t, person.id).await[2..],
        [
            AuditKind::ContactReserved,
            AuditKind::ContactReservationWithdrawn,
            AuditKind::ContactMailboxChanged,
            AuditKind::ContactLanguageChanged,
        ]
    );
    // None of these sends a message.
    assert_eq!(count_rows(t, "notifications").await, 1);
}

async fn removing_contact_methods_deletes_the_entry(t: &TestDb) {
    let person = person_with_email(t, 39, "kari@example.no", T0).await;
    let access = manage(person.id);
    let sent =
        t.db.request_mobile_change(&access, mobile("91234567"), T0)
            .await
            .unwrap();
    t.db.verify_code(&access, ContactMethod::Mobile, sent.code.expose(), T0)
        .await
        .unwrap();
    t.db.request_email_change(&access, email("new@example.no"), T0 + Duration::minutes(5))
        .await
        .unwrap();

    let at = T0 + Duration::hours(1);
    let info =
        t.db.remove_contact_method(&access, ContactMethod::Email, at)
            .await
            .unwrap();
    assert_eq!(info.email, None);
    assert_eq!(info.pending_email, None, "the waiting change goes too");
    assert_eq!(info.status, ContactStatus::Active);
    assert!(info.can_be_notified(at, DEFAULT_STALENESS), "by SMS");
    let info =
        t.db.remove_contact_method(&access, ContactMethod::Mobile, at)
            .await
            .unwrap();
    assert_eq!(info.status, ContactStatus::Deleted);
    assert!(!info.can_be_notified(at, DEFAULT_STALENESS));
    // Removing what is not there changes nothing.
    let again =
        t.db.remove_contact_method(&access, ContactMethod::Mobile, at)
            .await
            .unwrap();
    assert_eq!(again, info);
    assert_eq!(
        t.db.find_contact_info(&read(person.id)).await.unwrap(),
        info
    );
    let kinds = audit_kinds(t, person.id).await;
    assert_eq!(
        kinds[kinds.len() - 2..],
        [
            AuditKind::ContactEmailRemoved,
            AuditKind::ContactMobileRemoved
        ]
    );

    // Registering again makes the entry active again.
    let sent =
        t.db.request_email_change(&access, email("kari@example.no"), at)
            .await
            .unwrap();
    t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
        .await
        .unwrap();
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.status, ContactStatus::Active);
}

// ---------------------------------------------------------------------------------------------
// Contact register: all or nothing

/// Makes inserts into `table` fail (for contact kinds only, on audit_events).
async fn refuse_inserts(t: &TestDb, table: &str) {
    match t.backend {
        Backend::Sqlite => {
            raw_execute(
                t,
                &format!(
                    "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                     BEGIN SELECT RAISE(ABORT, 'refused by test'); END"
                ),
            )
            .await
        }
        Backend::Postgres => {
            raw_execute(
                t,
                "CREATE OR REPLACE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql \
                 AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$",
            )
            .await;
            raw_execute(
                t,
                &format!(
                    "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION refuse_insert()"
                ),
            )
            .await;
        }
    }
}

async fn allow_inserts(t: &TestDb, table: &str) {
    let sql = match t.backend {
        Backend::Sqlite => format!("DROP TRIGGER refuse_{table}"),
        Backend::Postgres => format!("DROP TRIGGER refuse_{table} ON {table}"),
    };
    raw_execute(t, &sql).await;
}

async fn change_audit_and_message_are_written_together_or_not_at_all(t: &TestDb) {
    let person = person_with_email(t, 40, "old@example.no", T0).await;
    let access = manage(person.id);
    let before = t.db.find_contact_info(&read(person.id)).await.unwrap();
    let rows_before = outbox_rows(t).await.len();
    let at = T0 + Duration::hours(1);

    // The audit event is written last: when it fails, the code's row, the send count and the
    // queued message written before it in the same transaction are gone too.
    refuse_inserts(t, "audit_events").await;
    let error =
        t.db.request_email_change(&access, email("new@example.no"), at)
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::Store(_)), "{error:?}");
    assert_eq!(error.code(), "contact.failed");
    assert!(!format!("{error} {error:?}").contains("new@example.no"));
    assert_eq!(
        t.db.find_contact_info(&read(person.id)).await.unwrap(),
        before
    );
    assert_eq!(outbox_rows(t).await.len(), rows_before);
    assert_eq!(count_rows(t, "contact_verifications").await, 0);
    assert_eq!(count_rows(t, "contact_code_sends").await, 1);
    for refused in [
        t.db.set_reservation(&access, true, at).await.unwrap_err(),
        t.db.confirm_contact_info(&access, at).await.unwrap_err(),
        t.db.remove_contact_method(&access, ContactMethod::Email, at)
            .await
            .unwrap_err(),
        t.db.set_language(&access, Language::En, at)
            .await
            .unwrap_err(),
    ] {
        assert!(matches!(refused, ContactError::Store(_)), "{refused:?}");
    }
    assert_eq!(
        t.db.find_contact_info(&read(person.id)).await.unwrap(),
        before
    );
    assert_eq!(
        t.db.find_person(person.id).await.unwrap().unwrap().language,
        Language::Nb
    );
    allow_inserts(t, "audit_events").await;

    // A message that cannot be queued takes the change and its audit event with it.
    refuse_inserts(t, "notifications").await;
    let kinds_before = audit_kinds(t, person.id).await;
    t.db.request_email_change(&access, email("new@example.no"), at)
        .await
        .unwrap_err();
    assert_eq!(count_rows(t, "contact_verifications").await, 0);
    assert_eq!(audit_kinds(t, person.id).await, kinds_before);
    allow_inserts(t, "notifications").await;

    // With both allowed again the same calls go through, each with its event and message.
    let sent =
        t.db.request_email_change(&access, email("new@example.no"), at)
            .await
            .unwrap();
    assert_eq!(outbox_rows(t).await.len(), rows_before + 1);
    refuse_inserts(t, "notifications").await;
    // Verifying sends a notice to the old address: refused, so the change is not made either.
    t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
        .await
        .unwrap_err();
    let info = t.db.find_contact_info(&read(person.id)).await.unwrap();
    assert_eq!(info.email.unwrap().value.as_str(), "old@example.no");
    assert!(info.pending_email.is_some());
    allow_inserts(t, "notifications").await;
    let outcome =
        t.db.verify_code(&access, ContactMethod::Email, sent.code.expose(), at)
            .await
            .unwrap();
    assert_eq!(outcome, VerifyOutcome::Verified);
    assert_eq!(
        audit_kinds(t, person.id).await[kinds_before.len()..],
        [
            AuditKind::ContactEmailCodeSent,
            AuditKind::ContactEmailChanged
        ]
    );
}

async fn contact_calls_are_scoped_to_the_proofs_subject(t: &TestDb) {
    let anna = person_with_email(t, 41, "anna@example.no", T0).await;
    let bjorn = registered_person(t, 42).await;
    let anna_actor = Actor::Citizen {
        person: anna.id,
        loa: Loa::High,
    };
    // Anna gets no proof for Bjørn's entry, to read or to change.
    assert_eq!(
        Policy::authorize::<ReadContact>(&anna_actor, bjorn.id).unwrap_err(),
        Denied::NoAuthority
    );
    assert_eq!(
        Policy::authorize::<ManageContact>(&anna_actor, bjorn.id).unwrap_err(),
        Denied::NoAuthority
    );

    // Anna's waiting change and code are hers alone.
    let sent =
        t.db.request_email_change(
            &manage(anna.id),
            email("anna.new@example.no"),
            T0 + Duration::minutes(5),
        )
        .await
        .unwrap();
    let outcome =
        t.db.verify_code(
            &manage(bjorn.id),
            ContactMethod::Email,
            sent.code.expose(),
            T0 + Duration::minutes(6),
        )
        .await
        .unwrap();
    assert_eq!(outcome, VerifyOutcome::NoPending);
    assert_eq!(
        t.db.resend_code(
            &manage(bjorn.id),
            ContactMethod::Email,
            T0 + Duration::hours(1)
        )
        .await
        .unwrap_err()
        .code(),
        "contact.nothing_pending"
    );
    t.db.set_reservation(&manage(bjorn.id), true, T0)
        .await
        .unwrap();

    let annas = t.db.find_contact_info(&read(anna.id)).await.unwrap();
    assert_eq!(annas.person, anna.id);
    assert!(!annas.reserved);
    assert_eq!(annas.email.unwrap().value.as_str(), "anna@example.no");
    assert!(annas.pending_email.is_some());
    let bjorns = t.db.find_contact_info(&read(bjorn.id)).await.unwrap();
    assert_eq!(bjorns.person, bjorn.id);
    assert!(bjorns.reserved);
    assert_eq!(bjorns.email, None);
    assert_eq!(bjorns.pending_email, None);
    assert!(audit_kinds(t, bjorn.id)
        .await
        .iter()
        .all(|kind| *kind == AuditKind::ContactReserved));
}

// ---------------------------------------------------------------------------------------------
// Outbox

const LEASE: Duration = Duration::minutes(2);

fn letter_email(person: PersonId, key: &str, now: OffsetDateTime) -> NewNotification {
    NewNotification::email(
        person,
        &email("kari@example.no"),
        Template::NewLetter,
        serde_json::json!({"sender": "NAV", "code": "secret-ish"}),
        key,
        now,
    )
    .unwrap()
}

async fn outbox_queues_once_per_key_and_claims_only_what_is_due(t: &TestDb) {
    let person = registered_person(t, 50).await;
    let first =
        t.db.enqueue(letter_email(person.id, "letter:1:email", T0))
            .await
            .unwrap();
    let EnqueueOutcome::Queued(id) = first else {
        panic!("{first:?}")
    };
    let again =
        t.db.enqueue(letter_email(person.id, "letter:1:email", T0))
            .await
            .unwrap();
    assert_eq!(again, EnqueueOutcome::AlreadyQueued(id));
    t.db.enqueue(letter_email(person.id, "letter:2:email", T0).not_before(T0 + Duration::hours(1)))
        .await
        .unwrap();
    assert_eq!(count_rows(t, "notifications").await, 2);

    let claimed = t.db.claim_due(T0, "worker-a", 10, LEASE).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let message = &claimed[0];
    assert_eq!(message.id, id);
    assert_eq!(message.recipient, person.id);
    assert_eq!(message.to.as_str(), "kari@example.no");
    assert_eq!(message.to.channel(), Channel::Email);
    assert_eq!(message.template, Template::NewLetter);
    assert_eq!(message.params["sender"], "NAV");
    assert_eq!(message.idempotency_key, "letter:1:email");
    assert_eq!(message.attempt, 1);
    assert_eq!(message.lease_until, T0 + LEASE);
    let debug = format!("{message:?}");
    assert!(
        !debug.contains("kari@") && !debug.contains("secret-ish"),
        "{debug}"
    );

    // Leased: nobody else gets it, and the later one is not due yet.
    assert!(t
        .db
        .claim_due(T0 + Duration::seconds(1), "worker-b", 10, LEASE)
        .await
        .unwrap()
        .is_empty());
    // Sent: the parameters are redacted, and a second mark is a no-op.
    assert!(t
        .db
        .mark_sent(id, "worker-a", T0 + Duration::seconds(2))
        .await
        .unwrap());
    assert!(!t
        .db
        .mark_sent(id, "worker-a", T0 + Duration::seconds(3))
        .await
        .unwrap());
    let record = t.db.find_notification(id).await.unwrap().unwrap();
    assert_eq!(record.status, NotificationStatus::Sent);
    assert_eq!(record.sent_at, Some(T0 + Duration::seconds(2)));
    assert_eq!(record.attempts, 0);
    let rows = outbox_rows(t).await;
    assert_eq!(rows[0].3, serde_json::json!({}));
    assert_eq!(rows[0].4, "sent");
    assert_eq!(rows[1].3["code"], "secret-ish", "unsent rows keep theirs");

    // Later, the second one comes due.
    let claimed =
        t.db.claim_due(T0 + Duration::hours(1), "worker-b", 10, LEASE)
            .await
            .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].idempotency_key, "letter:2:email");
    assert_eq!(
        t.db.find_notification_by_key("letter:2:email")
            .await
            .unwrap()
            .unwrap()
            .status,
        NotificationStatus::Pending
    );
    assert_eq!(
        t.db.find_notification_by_key("letter:3:email")
            .await
            .unwrap(),
        None
    );
}

async fn expired_lease_makes_a_message_claimable_again(t: &TestDb) {
    let person = registered_person(t, 51).await;
    let id =
        t.db.enqueue(letter_email(person.id, "letter:9:email", T0))
            .await
            .unwrap()
            .id();
    let first = t.db.claim_due(T0, "worker-a", 5, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    // Worker A dies. Just before the lease ends, the message is still A's.
    let almost = T0 + LEASE - Duration::microseconds(1);
    assert!(t
        .db
        .claim_due(almost, "worker-b", 5, LEASE)
        .await
        .unwrap()
        .is_empty());
    let second =
        t.db.claim_due(T0 + LEASE, "worker-b", 5, LEASE)
            .await
            .unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, id);
    assert_eq!(
        second[0].idempotency_key, first[0].idempotency_key,
        "same key for the gateway"
    );
    // A comes back: it no longer holds the message, whatever it reports.
    assert!(!t.db.mark_sent(id, "worker-a", T0 + LEASE).await.unwrap());
    assert_eq!(
        t.db.mark_failed_attempt(
            id,
            "worker-a",
            T0 + LEASE,
            "smtp.451",
            &RetryPolicy::default()
        )
        .await
        .unwrap(),
        FailedAttempt::NotClaimed
    );
    assert!(t.db.mark_sent(id, "worker-b", T0 + LEASE).await.unwrap());
}

async fn failed_sends_back_off_then_give_up_visibly(t: &TestDb) {
    let person = registered_person(t, 52).await;
    let id =
        t.db.enqueue(letter_email(person.id, "letter:5:email", T0))
            .await
            .unwrap()
            .id();
    let policy = RetryPolicy {
        max_attempts: 4,
        ..RetryPolicy::default()
    };
    let mut now = T0;
    for (attempt, wait) in [
        (1, Duration::seconds(30)),
        (2, Duration::minutes(2)),
        (3, Duration::minutes(10)),
    ] {
        let claimed = t.db.claim_due(now, "worker-a", 5, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1, "attempt {attempt}");
        assert_eq!(claimed[0].attempt, attempt);
        let outcome =
            t.db.mark_failed_attempt(id, "worker-a", now, "smtp.451", &policy)
                .await
                .unwrap();
        assert_eq!(outcome, FailedAttempt::RetryAt(now + wait));
        // Not before the backoff is over.
        assert!(t
            .db
            .claim_due(now + wait - Duration::microseconds(1), "worker-a", 5, LEASE)
            .await
            .unwrap()
            .is_empty());
        now += wait;
    }
    let record = t.db.find_notification(id).await.unwrap().unwrap();
    assert_eq!(record.status, NotificationStatus::Pending);
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("smtp.451"));

    t.db.claim_due(now, "worker-a", 5, LEASE).await.unwrap();
    // Free text from a gateway (which may quote the address) is not stored.
    let outcome =
        t.db.mark_failed_attempt(
            id,
            "worker-a",
            now,
            "550 <kari@example.no> unknown",
            &policy,
        )
        .await
        .unwrap();
    assert_eq!(outcome, FailedAttempt::GaveUp);
    let record = t.db.find_notification(id).await.unwrap().unwrap();
    assert_eq!(record.status, NotificationStatus::Failed);
    assert_eq!(record.attempts, 4);
    assert_eq!(record.failed_at, Some(now));
    assert_eq!(record.last_error.as_deref(), Some("unspecified"));
    assert_eq!(outbox_rows(t).await[0].3, serde_json::json!({}), "redacted");
    assert!(t
        .db
        .claim_due(now + Duration::days(1), "worker-a", 5, LEASE)
        .await
        .unwrap()
        .is_empty());

    // Support sees the failed ones, paged by id.
    for n in 0..3 {
        let key = format!("letter:fail-{n}:email");
        let id =
            t.db.enqueue(letter_email(person.id, &key, now))
                .await
                .unwrap()
                .id();
        t.db.claim_due(now, "w", 5, LEASE).await.unwrap();
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        assert_eq!(
            t.db.mark_failed_attempt(id, "w", now, "sms.rejected", &once)
                .await
                .unwrap(),
            FailedAttempt::GaveUp
        );
    }
    let page = t.db.list_failed(None, 2).await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0].id, id);
    let rest = t.db.list_failed(Some(page[1].id), 50).await.unwrap();
    assert_eq!(rest.len(), 2);
    assert!(rest
        .iter()
        .all(|record| record.status == NotificationStatus::Failed));

    // Housekeeping drops finished messages older than asked.
    assert_eq!(t.db.delete_finished_notifications(now).await.unwrap(), 0);
    assert_eq!(
        t.db.delete_finished_notifications(now + Duration::seconds(1))
            .await
            .unwrap(),
        4
    );
}

async fn default_policy_gives_up_after_eight_attempts(t: &TestDb) {
    let person = registered_person(t, 53).await;
    let id =
        t.db.enqueue(letter_email(person.id, "letter:8:email", T0))
            .await
            .unwrap()
            .id();
    let policy = RetryPolicy::default();
    let mut now = T0;
    let mut waits = Vec::new();
    loop {
        let claimed = t.db.claim_due(now, "w", 5, LEASE).await.unwrap();
        assert_eq!(claimed.len(), 1);
        match t
            .db
            .mark_failed_attempt(id, "w", now, "gateway.timeout", &policy)
            .await
            .unwrap()
        {
            FailedAttempt::RetryAt(at) => {
                waits.push(at - now);
                now = at;
            }
            FailedAttempt::GaveUp => break,
            FailedAttempt::NotClaimed => panic!("lost the claim"),
        }
    }
    assert_eq!(
        waits,
        [
            Duration::seconds(30),
            Duration::minutes(2),
            Duration::minutes(10),
            Duration::hours(1),
            Duration::hours(2),
            Duration::hours(4),
            Duration::hours(8),
        ]
    );
    assert_eq!(
        t.db.find_notification(id).await.unwrap().unwrap().attempts,
        8
    );
}

async fn sms_is_never_sent_in_quiet_hours(t: &TestDb) {
    let person = registered_person(t, 54).await;
    let number = mobile("91234567");
    let sms = |key: &str, at: OffsetDateTime| {
        NewNotification::sms(
            person.id,
            &number,
            Template::NewLetter,
            serde_json::json!({}),
            key,
            at,
            NordicTimeZone::Oslo,
        )
        .unwrap()
    };
    // Queued at 21:59:30 (allowed), claimed at 22:00:30: handed back until 08:00.
    let evening = datetime!(2025-06-02 19:59:30 UTC);
    let id =
        t.db.enqueue(sms("letter:1:sms", evening))
            .await
            .unwrap()
            .id();
    let late = datetime!(2025-06-02 20:00:30 UTC);
    assert!(t
        .db
        .claim_due(late, "w", 5, LEASE)
        .await
        .unwrap()
        .is_empty());
    let record = t.db.find_notification(id).await.unwrap().unwrap();
    assert_eq!(record.not_before, datetime!(2025-06-03 06:00 UTC));
    assert_eq!(record.status, NotificationStatus::Pending);
    let morning =
        t.db.claim_due(datetime!(2025-06-03 06:00 UTC), "w", 5, LEASE)
            .await
            .unwrap();
    assert_eq!(morning.len(), 1);
    // A retry that would fall in the night waits for the morning.
    let outcome =
        t.db.mark_failed_attempt(
            id,
            "w",
            datetime!(2025-06-03 06:00 UTC),
            "sms.busy",
            &RetryPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        FailedAttempt::RetryAt(datetime!(2025-06-03 06:00:30 UTC))
    );
    t.db.claim_due(datetime!(2025-06-03 19:59:00 UTC), "w", 5, LEASE)
        .await
        .unwrap();
    let outcome =
        t.db.mark_failed_attempt(
            id,
            "w",
            datetime!(2025-06-03 19:59:00 UTC),
            "sms.busy",
            &RetryPolicy::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        outcome,
        FailedAttempt::RetryAt(datetime!(2025-06-04 06:00 UTC))
    );

    // Queued on the nights the clocks change, stored for the right morning.
    for (key, at, zone, morning) in [
        (
            "dst:spring",
            datetime!(2025-03-29 22:30 UTC),
            NordicTimeZone::Oslo,
            datetime!(2025-03-30 06:00 UTC),
        ),
        (
            "dst:autumn",
            datetime!(2025-10-25 21:30 UTC),
            NordicTimeZone::Copenhagen,
            datetime!(2025-10-26 07:00 UTC),
        ),
    ] {
        let message = NewNotification::sms(
            person.id,
            &number,
            Template::NewLetter,
            serde_json::json!({}),
            key,
            at,
            zone,
        )
        .unwrap();
        let id = t.db.enqueue(message).await.unwrap().id();
        let record = t.db.find_notification(id).await.unwrap().unwrap();
        assert_eq!(record.not_before, morning, "{key}");
        assert!(t
            .db
            .claim_due(morning - Duration::microseconds(1), "w", 5, LEASE)
            .await
            .unwrap()
            .iter()
            .all(|claimed| claimed.id != id));
    }
}

async fn codes_not_sent_in_time_are_given_up(t: &TestDb) {
    let person = registered_person(t, 55).await;
    let sent =
        t.db.request_mobile_change(&manage(person.id), mobile("91234567"), T0)
            .await
            .unwrap();
    // The gateway was down for the code's whole life.
    let late = sent.expires_at;
    assert!(t
        .db
        .claim_due(late, "w", 5, LEASE)
        .await
        .unwrap()
        .is_empty());
    let failed = t.db.list_failed(None, 10).await.unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].template, Template::VerifyCode);
    assert_eq!(failed[0].last_error.as_deref(), Some("expired"));
    assert_eq!(failed[0].failed_at, Some(late));
    let rows = outbox_rows(t).await;
    assert_eq!(
        rows[0].3,
        serde_json::json!({}),
        "the code is gone from the table"
    );
}

/// Two workers claim in a loop, each with its own connection pool (as two instances would),
/// until the queue is empty: every message is handed out exactly once.
async fn concurrent_workers_never_claim_the_same_message(t: &TestDb) {
    let person = registered_person(t, 56).await;
    let mut queued = HashSet::new();
    for n in 0..200 {
        let id =
            t.db.enqueue(letter_email(person.id, &format!("bulk:{n}"), T0))
                .await
                .unwrap()
                .id();
        queued.insert(id);
    }
    let other_instance = t.reopen().await;
    let workers: Vec<_> = [("worker-a", t.db.clone()), ("worker-b", other_instance)]
        .into_iter()
        .map(|(worker, db)| {
            tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut idle_rounds = 0;
                while idle_rounds < 3 {
                    let now = OffsetDateTime::now_utc();
                    let batch = db
                        .claim_due(now, worker, 7, Duration::minutes(10))
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        idle_rounds += 1;
                        tokio::task::yield_now().await;
                        continue;
                    }
                    for message in batch {
                        assert!(db.mark_sent(message.id, worker, now).await.unwrap());
                        mine.push(message.id);
                    }
                }
                mine
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut per_worker = Vec::new();
    for worker in workers {
        let mine = worker.await.unwrap();
        per_worker.push(mine.len());
        for id in mine {
            assert!(seen.insert(id), "{id} was claimed twice");
        }
    }
    assert_eq!(seen, queued, "every message claimed once");
    assert_eq!(per_worker.iter().sum::<usize>(), 200);
    let sent = raw_text(
        t,
        "SELECT CAST(COUNT(*) AS TEXT) FROM notifications WHERE status = 'sent'",
        "SELECT CAST(COUNT(*) AS TEXT) FROM notifications WHERE status = 'sent'",
    )
    .await;
    assert_eq!(sent, ["200"]);
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

// ---------------------------------------------------------------------------------------------
// PostgreSQL only: the page reads' shared connections (`src/storage/pg_readers.rs`).

/// Ends the portal's read connections from the server's side, as a restart or a fail-over
/// would; the number ended.
async fn end_read_connections(t: &TestDb) -> usize {
    raw_text(
        t,
        "",
        "SELECT CAST(pg_terminate_backend(pid) AS TEXT) FROM pg_stat_activity \
         WHERE application_name = 'borgerportal-reader' AND datname = current_database()",
    )
    .await
    .len()
}

#[tokio::test]
async fn postgres_page_reads_survive_the_server_ending_their_connections() {
    let t = TestDb::postgres().await;
    let person =
        t.db.create_person(new_person(8, "Astrid", "Moe"))
            .await
            .unwrap();
    // Every shared connection used once (they are lent in turn), so that each has a
    // statement prepared on it when it is ended.
    for _ in 0..16 {
        assert_eq!(
            t.db.find_person(person.id).await.unwrap().as_ref(),
            Some(&person)
        );
    }
    assert!(end_read_connections(&t).await >= 1);
    // A read on an ended connection is tried again on a new one: no read fails.
    for _ in 0..16 {
        assert_eq!(
            t.db.find_person(person.id).await.unwrap().as_ref(),
            Some(&person)
        );
    }
    t.finish().await;
}

#[tokio::test]
async fn postgres_read_connections_are_closed_with_the_database() {
    let t = TestDb::postgres().await;
    let person =
        t.db.create_person(new_person(9, "Nils", "Haug"))
            .await
            .unwrap();
    assert!(t.db.find_person(person.id).await.unwrap().is_some());
    t.db.close().await;
    assert!(matches!(
        t.db.find_person(person.id).await,
        Err(StoreError::Unavailable(_))
    ));
    // The server notices a closed connection a moment after the client closed it.
    let mut open = Vec::new();
    for _ in 0..50 {
        open = raw_text(
            &t,
            "",
            "SELECT application_name FROM pg_stat_activity \
             WHERE application_name = 'borgerportal-reader' AND datname = current_database()",
        )
        .await;
        if open.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        open.is_empty(),
        "read connections still open: {}",
        open.len()
    );
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
// Agency API: contact look-ups and token replay

fn agency_lookup(agency: &str) -> AgencyAccess<LookupContact> {
    let actor = Actor::Agency {
        agency: AgencyId::parse(agency).unwrap(),
        grants: AgencyGrants::LOOKUP_CONTACT,
    };
    Policy::authorize_agency::<LookupContact>(&actor).unwrap()
}

/// The subject's events, oldest first.
async fn audit_events_of(t: &TestDb, person: PersonId) -> Vec<AuditEvent> {
    let page =
        t.db.list_events(&own_activity(person), None, MAX_AUDIT_PAGE_SIZE)
            .await
            .unwrap();
    page.events.into_iter().rev().collect()
}

async fn agency_lookup_answers_in_order_and_audits_each_person_once(t: &TestDb) {
    let notifiable = person_with_email(t, 60, "kari@example.no", T0).await;
    let reserved = person_with_email(t, 61, "ola@example.no", T0).await;
    t.db.set_reservation(&manage(reserved.id), true, T0)
        .await
        .unwrap();
    let nothing_registered = registered_person(t, 62).await;
    let unknown = synthetic_national_id(63);
    let at = T0 + Duration::hours(1);

    let ids = [
        notifiable.national_id.clone(),
        unknown.clone(),
        reserved.national_id.clone(),
        notifiable.national_id.clone(),
        nothing_registered.national_id.clone(),
    ];
    let answers =
        t.db.lookup_contact_info(&agency_lookup("nav"), &ids, at, DEFAULT_STALENESS)
            .await
            .unwrap();
    assert_eq!(answers.len(), 5, "one answer per id, in order");

    let kari = &answers[0];
    assert_eq!(kari.status, ContactStatus::Active);
    assert!(kari.can_be_notified && !kari.reserved);
    let kari_email = kari.email.as_ref().unwrap();
    assert_eq!(kari_email.value.as_str(), "kari@example.no");
    assert_eq!(kari_email.updated_at, T0);
    assert_eq!(kari_email.verified_at, Some(T0));
    assert_eq!(kari.mobile, None);
    assert_eq!(kari.mailbox, Some(Mailbox::Portal));
    assert_eq!(kari.language, Some(Language::Nb));
    assert_eq!(&answers[3], kari, "the same id twice, the same answer");

    assert_eq!(
        answers[1],
        ContactLookup::unknown(),
        "unknown: not registered"
    );
    assert!(!answers[1].is_known_person());

    assert!(answers[2].reserved);
    assert_eq!(answers[2].reservation_changed_at, Some(T0));
    assert!(!answers[2].can_be_notified, "reserved: never notified");

    assert_eq!(answers[4].status, ContactStatus::NotRegistered);
    assert!(answers[4].is_known_person());
    assert!(!answers[4].can_be_notified);

    // Each person looked up sees it once, with the agency as the actor.
    for person in [&notifiable, &reserved, &nothing_registered] {
        let lookups: Vec<AuditEvent> = audit_events_of(t, person.id)
            .await
            .into_iter()
            .filter(|event| event.kind == AuditKind::ContactLookedUpByAgency)
            .collect();
        assert_eq!(lookups.len(), 1, "{}", person.id);
        assert_eq!(lookups[0].agency, Some(AgencyId::parse("nav").unwrap()));
        assert_eq!(lookups[0].actor, None);
        assert_eq!(lookups[0].loa, None);
        assert_eq!(lookups[0].at, at);
    }
    let sqlite = "SELECT kind || '|' || agency_id FROM audit_events \
                  WHERE kind = 'api.contact_lookup' ORDER BY id";
    assert_eq!(
        raw_text(t, sqlite, sqlite).await,
        vec!["api.contact_lookup|nav".to_owned(); 3]
    );
    assert_eq!(
        AuditKind::ContactLookedUpByAgency.code(),
        "api.contact_lookup"
    );
}

async fn agency_lookup_applies_the_staleness_limit(t: &TestDb) {
    let person = person_with_email(t, 64, "kari@example.no", T0).await;
    let ids = [person.national_id.clone()];
    let access = agency_lookup("skatteetaten");
    let later = T0 + Duration::days(600);

    let stale =
        t.db.lookup_contact_info(&access, &ids, later, DEFAULT_STALENESS)
            .await
            .unwrap();
    assert!(!stale[0].can_be_notified, "older than 18 months");
    assert!(stale[0].email.is_some(), "the value is still reported");

    let longer_limit =
        t.db.lookup_contact_info(&access, &ids, later, Duration::days(700))
            .await
            .unwrap();
    assert!(longer_limit[0].can_be_notified, "the limit is configurable");
}

async fn agency_lookup_takes_a_thousand_ids_in_one_batch(t: &TestDb) {
    let mut known = Vec::new();
    for n in 0..20 {
        known.push(registered_person(t, 100 + n).await);
    }
    let ids: Vec<NationalId> = (0..MAX_LOOKUP_BATCH)
        .map(|i| synthetic_national_id(100 + u16::try_from(i).unwrap()))
        .collect();
    let answers =
        t.db.lookup_contact_info(&agency_lookup("nav"), &ids, T0, DEFAULT_STALENESS)
            .await
            .unwrap();
    assert_eq!(answers.len(), MAX_LOOKUP_BATCH);
    assert_eq!(
        answers.iter().filter(|a| a.is_known_person()).count(),
        known.len()
    );
    assert!(answers[..20].iter().all(ContactLookup::is_known_person));
    let sqlite = "SELECT kind FROM audit_events WHERE kind = 'api.contact_lookup'";
    assert_eq!(raw_text(t, sqlite, sqlite).await.len(), known.len());

    // One more is refused before anything is read or written.
    let mut too_many = ids.clone();
    too_many.push(synthetic_national_id(1200));
    let error =
        t.db.lookup_contact_info(&agency_lookup("nav"), &too_many, T0, DEFAULT_STALENESS)
            .await
            .unwrap_err();
    assert!(matches!(error, ContactError::LookupTooLarge), "{error:?}");
    assert_eq!(error.code(), "contact.lookup_too_large");
    assert_eq!(raw_text(t, sqlite, sqlite).await.len(), known.len());

    // No ids: an empty answer, nothing written.
    let none =
        t.db.lookup_contact_info(&agency_lookup("nav"), &[], T0, DEFAULT_STALENESS)
            .await
            .unwrap();
    assert!(none.is_empty());
}

async fn agency_token_is_accepted_once(t: &TestDb) {
    let nav = AgencyId::parse("nav").unwrap();
    let other = AgencyId::parse("skatteetaten").unwrap();
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(5);
    assert!(t
        .db
        .remember_agency_token(&nav, "jti-1", expires_at)
        .await
        .unwrap());
    assert!(
        !t.db
            .remember_agency_token(&nav, "jti-1", expires_at)
            .await
            .unwrap(),
        "a replay"
    );
    assert!(
        t.db.remember_agency_token(&other, "jti-1", expires_at)
            .await
            .unwrap(),
        "jti is unique per agency only"
    );
    let (first, second) = tokio::join!(
        t.db.remember_agency_token(&nav, "jti-2", expires_at),
        t.db.remember_agency_token(&nav, "jti-2", expires_at),
    );
    assert!(first.unwrap() ^ second.unwrap(), "exactly one accepts it");
    assert_eq!(
        t.db.forget_expired_agency_tokens(expires_at - Duration::seconds(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        t.db.forget_expired_agency_tokens(expires_at).await.unwrap(),
        3
    );
    assert_eq!(count_rows(t, "agency_token_ids").await, 0);
}

// ---------------------------------------------------------------------------------------------
// Digital post

fn deliver_access(agency: &str) -> AgencyAccess<DeliverPost> {
    let actor = Actor::Agency {
        agency: AgencyId::parse(agency).unwrap(),
        grants: AgencyGrants::DELIVER_POST,
    };
    Policy::authorize_agency::<DeliverPost>(&actor).unwrap()
}

fn print_access() -> AgencyAccess<PrintPost> {
    let actor = Actor::Agency {
        agency: AgencyId::parse("print-provider").unwrap(),
        grants: AgencyGrants::PRINT,
    };
    Policy::authorize_agency::<PrintPost>(&actor).unwrap()
}

fn citizen(person: PersonId, loa: Loa) -> Actor {
    Actor::Citizen { person, loa }
}

fn read_post(person: PersonId) -> Access<ReadPost> {
    Policy::authorize::<ReadPost>(&citizen(person, Loa::Substantial), person).unwrap()
}

fn read_sensitive(person: PersonId) -> Access<ReadSensitivePost> {
    Policy::authorize::<ReadSensitivePost>(&citizen(person, Loa::High), person).unwrap()
}

fn manage_post(person: PersonId) -> Access<ManagePost> {
    Policy::authorize::<ManagePost>(&citizen(person, Loa::Substantial), person).unwrap()
}

fn test_pdf(text: &str) -> Vec<u8> {
    borgerportal::post::pdf::minimal_pdf(text)
}

fn letter_to(person: &Person, message_id: &str, title: &str) -> NewLetter {
    NewLetter {
        recipient: person.national_id.clone(),
        message_id: message_id.to_owned(),
        sender_name: "NAV".to_owned(),
        title: title.to_owned(),
        safe_title: "Brev fra NAV".to_owned(),
        body_kind: BodyKind::Html,
        body: format!("<p>Om {title}</p><script>alert(1)</script>"),
        attachments: vec![NewAttachment {
            filename: "vedtak.pdf".to_owned(),
            content: test_pdf(title),
        }],
        required_loa: Loa::Substantial,
        effective_at: None,
        wants_opening_receipt: true,
        is_decision: false,
        created_at: T0,
        notification: NotificationRequest::default(),
    }
}

/// Polls `agency`'s receipts after `after`, `page` at a time, until `want` have come (or 10 s
/// passed). On PostgreSQL a receipt shows once every transaction older than it has ended, in
/// the whole cluster (the other tests' too), so a poll may come back short: the cursor must
/// still never skip one.
async fn drain_receipts(
    t: &TestDb,
    agency: &str,
    mut after: Option<ReceiptCursor>,
    want: usize,
    page: u32,
) -> (Vec<Receipt>, Option<ReceiptCursor>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut receipts = Vec::new();
    while receipts.len() < want && std::time::Instant::now() < deadline {
        let next =
            t.db.list_receipts(&deliver_access(agency), after, page)
                .await
                .unwrap();
        if next.receipts.is_empty() {
            assert_eq!(next.cursor, after, "an empty poll keeps the cursor");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        receipts.extend(next.receipts);
        after = next.cursor;
    }
    (receipts, after)
}

async fn all_receipts(t: &TestDb, agency: &str, want: usize) -> Vec<Receipt> {
    let (receipts, cursor) = drain_receipts(t, agency, None, want, 1000).await;
    assert_eq!(receipts.len(), want, "{receipts:?}");
    // And nothing more.
    let more =
        t.db.list_receipts(&deliver_access(agency), cursor, 1000)
            .await
            .unwrap();
    assert!(more.receipts.is_empty(), "{:?}", more.receipts);
    receipts
}

fn opened(view: LetterView) -> Letter {
    match view {
        LetterView::Open(letter) => *letter,
        other => panic!("expected an open letter, got {other:?}"),
    }
}

async fn inbox(t: &TestDb, person: PersonId, now: OffsetDateTime) -> Vec<LetterSummary> {
    t.db.list_letters(
        &read_post(person),
        None,
        MailboxView::Folder(FolderRef::Inbox),
        None,
        100,
        now,
    )
    .await
    .unwrap()
    .letters
}

async fn post_delivery_to_an_active_person_lands_in_the_inbox_and_notifies(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    let receipt =
        t.db.deliver_letter(&nav, letter_to(&kari, "m-1", "Vedtak om dagpenger"), T0)
            .await
            .unwrap();
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    assert!(!receipt.replayed);
    assert_eq!(receipt.message_id.as_str(), "m-1");

    let mut sensitive = letter_to(&kari, "m-2", "Sykmelding");
    sensitive.required_loa = Loa::High;
    t.db.deliver_letter(&nav, sensitive, T0 + Duration::seconds(1))
        .await
        .unwrap();

    let letters = inbox(t, kari.id, T0 + Duration::seconds(2)).await;
    assert_eq!(letters.len(), 2);
    assert_eq!(
        letters[0].title, "Brev fra NAV",
        "high letter shows its safe title"
    );
    assert!(letters[0].locked);
    assert_eq!(letters[1].title, "Vedtak om dagpenger");
    assert!(letters[1].unread);
    assert_eq!(letters[1].attachment_count, 1);
    assert_eq!(letters[1].sender_name, "NAV");

    // Receipts, audit, and one new-letter e-mail each; no title for the sensitive one.
    let receipts = all_receipts(t, "nav", 2).await;
    assert_eq!(
        receipts.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReceiptKind::Delivered, ReceiptKind::Delivered]
    );
    assert_eq!(receipts[0].letter, Some(receipt.letter));
    let kinds = audit_kinds(t, kari.id).await;
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == AuditKind::PostDelivered)
            .count(),
        2
    );
    let letters_mail: Vec<_> = outbox_rows(t)
        .await
        .into_iter()
        .filter(|row| row.0 == "new_letter")
        .collect();
    assert_eq!(letters_mail.len(), 2);
    assert_eq!(letters_mail[0].2, "kari@example.no");
    assert_eq!(letters_mail[0].3["title"], "Vedtak om dagpenger");
    assert_eq!(letters_mail[0].3["sender"], "NAV");
    assert!(
        letters_mail[1].3.get("title").is_none(),
        "{:?}",
        letters_mail[1]
    );
    // Nothing went to print.
    assert!(t
        .db
        .list_print_queue(&print_access(), 10)
        .await
        .unwrap()
        .is_empty());

    // The stored body is sanitized; the original is kept.
    let letter = opened(
        t.db.open_letter(
            &read_post(kari.id),
            None,
            receipt.letter,
            T0 + Duration::minutes(1),
        )
        .await
        .unwrap(),
    );
    assert_eq!(letter.body_html, "<p>Om Vedtak om dagpenger</p>");
    assert_eq!(letter.body_kind, BodyKind::Html);
    let original = raw_text(
        t,
        "SELECT body FROM letters WHERE agency_message_id = 'm-1'",
        "SELECT body FROM letters WHERE agency_message_id = 'm-1'",
    )
    .await;
    assert!(original[0].contains("<script>"));
}

async fn post_delivery_is_idempotent_also_when_retries_race(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    let first =
        t.db.deliver_letter(&nav, letter_to(&kari, "once", "Vedtak"), T0)
            .await
            .unwrap();
    let again =
        t.db.deliver_letter(
            &nav,
            letter_to(&kari, "once", "Vedtak"),
            T0 + Duration::hours(1),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(again.letter, first.letter);
    assert_eq!(again.delivered_at, first.delivered_at);
    // The same message id from another agency is another letter.
    let other =
        t.db.deliver_letter(
            &deliver_access("skatteetaten"),
            letter_to(&kari, "once", "Skatt"),
            T0,
        )
        .await
        .unwrap();
    assert!(!other.replayed);
    assert_ne!(other.letter, first.letter);

    // Ten racing deliveries of one new message: one letter, one receipt, one e-mail.
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let db = t.db.clone();
        let letter = letter_to(&kari, "race", "Racet brev");
        tasks.push(tokio::spawn(async move {
            db.deliver_letter(&deliver_access("nav"), letter, T0).await
        }));
    }
    let mut ids = HashSet::new();
    let mut fresh = 0;
    for task in tasks {
        let receipt = task.await.unwrap().unwrap();
        ids.insert(receipt.letter);
        if !receipt.replayed {
            fresh += 1;
        }
    }
    assert_eq!(ids.len(), 1);
    assert_eq!(fresh, 1);
    assert_eq!(count_rows(t, "letters").await, 3);
    assert_eq!(count_rows(t, "letter_attachments").await, 3);
    assert_eq!(count_rows(t, "post_receipts").await, 3);
    let new_letter_mails = outbox_rows(t)
        .await
        .into_iter()
        .filter(|row| row.0 == "new_letter")
        .count();
    assert_eq!(new_letter_mails, 3);
}

async fn post_reserved_unregistered_and_unknown_recipients_go_to_print(t: &TestDb) {
    let reserved = person_with_email(t, 1, "ola@example.no", T0).await;
    t.db.set_reservation(&manage(reserved.id), true, T0)
        .await
        .unwrap();
    let unregistered = registered_person(t, 2).await;
    let unknown = new_person(3, "Ukjent", "Person");
    let nav = deliver_access("nav");
    let mut letter_ids = Vec::new();
    for (n, national_id) in [
        reserved.national_id.clone(),
        unregistered.national_id.clone(),
        unknown.national_id.clone(),
    ]
    .into_iter()
    .enumerate()
    {
        let mut letter = letter_to(&reserved, &format!("paper-{n}"), "Papirbrev");
        letter.recipient = national_id;
        let receipt = t.db.deliver_letter(&nav, letter, T0).await.unwrap();
        assert_eq!(receipt.status, DeliveryStatus::ReturnedToPaper);
        letter_ids.push(receipt.letter);
    }
    // Not in anyone's mailbox, no notification.
    assert!(inbox(t, reserved.id, T0 + Duration::hours(1))
        .await
        .is_empty());
    assert!(inbox(t, unregistered.id, T0 + Duration::hours(1))
        .await
        .is_empty());
    assert!(outbox_rows(t).await.iter().all(|row| row.0 != "new_letter"));
    assert!(all_receipts(t, "nav", 3)
        .await
        .iter()
        .all(|r| r.kind == ReceiptKind::ReturnedToPaper));

    // The print provider sees all three, oldest first, with the national id and attachments.
    let jobs = t.db.list_print_queue(&print_access(), 10).await.unwrap();
    assert_eq!(jobs.len(), 3);
    assert_eq!(jobs[2].recipient, unknown.national_id);
    assert_eq!(jobs[0].attachments.len(), 1);
    assert_eq!(jobs[0].body_html, "<p>Om Papirbrev</p>");
    let pdf =
        t.db.print_attachment(&print_access(), jobs[0].letter, 0)
            .await
            .unwrap();
    assert_eq!(pdf.content, test_pdf("Papirbrev"));
    assert_eq!(pdf.info.size, pdf.content.len() as u64);

    // Acknowledging is idempotent; an unknown letter is not found.
    t.db.acknowledge_print(&print_access(), jobs[0].letter, T0)
        .await
        .unwrap();
    t.db.acknowledge_print(&print_access(), jobs[0].letter, T0)
        .await
        .unwrap();
    assert!(matches!(
        t.db.acknowledge_print(&print_access(), LetterId::new(), T0)
            .await,
        Err(PostError::NotFound)
    ));
    let left = t.db.list_print_queue(&print_access(), 10).await.unwrap();
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|job| job.letter != jobs[0].letter));
    // A citizen cannot fetch a paper letter's attachment through the mailbox.
    assert!(matches!(
        t.db.read_attachment(
            &read_post(reserved.id),
            None,
            letter_ids[0],
            0,
            T0 + Duration::hours(1)
        )
        .await,
        Err(PostError::NotFound)
    ));
}

async fn post_refused_letters_store_nothing_but_a_rejected_receipt(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    let mut not_pdf = letter_to(&kari, "bad-1", "Vedtak");
    not_pdf.attachments[0].content = b"<html>not a pdf</html>".to_vec();
    let error = t.db.deliver_letter(&nav, not_pdf, T0).await.unwrap_err();
    assert_eq!(error.code(), "post.attachment_not_pdf");

    let mut too_big = letter_to(&kari, "bad-2", "Vedtak");
    let mut big = test_pdf("big");
    big.splice(9..9, std::iter::repeat_n(b' ', MAX_ATTACHMENT_BYTES));
    too_big.attachments[0].content = big;
    let error = t.db.deliver_letter(&nav, too_big, T0).await.unwrap_err();
    assert_eq!(error.code(), "post.attachment_too_large");

    let mut no_title = letter_to(&kari, "bad-3", "Vedtak");
    no_title.title = " ".to_owned();
    assert_eq!(
        t.db.deliver_letter(&nav, no_title, T0)
            .await
            .unwrap_err()
            .code(),
        "post.title_missing"
    );
    // An unreadable message id: refused, and no receipt can name it.
    let bad_id = letter_to(&kari, "not ok", "Vedtak");
    assert_eq!(
        t.db.deliver_letter(&nav, bad_id, T0)
            .await
            .unwrap_err()
            .code(),
        "post.invalid_message_id"
    );

    assert_eq!(count_rows(t, "letters").await, 0);
    assert_eq!(count_rows(t, "letter_attachments").await, 0);
    assert!(outbox_rows(t).await.iter().all(|row| row.0 != "new_letter"));
    let receipts = all_receipts(t, "nav", 3).await;
    assert_eq!(
        receipts
            .iter()
            .map(|r| (r.message_id.as_str(), r.kind, r.reason.as_deref(), r.letter))
            .collect::<Vec<_>>(),
        [
            (
                "bad-1",
                ReceiptKind::Rejected,
                Some("post.attachment_not_pdf"),
                None
            ),
            (
                "bad-2",
                ReceiptKind::Rejected,
                Some("post.attachment_too_large"),
                None
            ),
            (
                "bad-3",
                ReceiptKind::Rejected,
                Some("post.title_missing"),
                None
            ),
        ]
    );
    // A corrected retry with the same id is accepted.
    let fixed =
        t.db.deliver_letter(&nav, letter_to(&kari, "bad-1", "Vedtak"), T0)
            .await
            .unwrap();
    assert!(!fixed.replayed);
}

async fn post_receipts_are_polled_with_a_cursor(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    let mut ids = Vec::new();
    for n in 0..5 {
        let receipt =
            t.db.deliver_letter(&nav, letter_to(&kari, &format!("r-{n}"), "Brev"), T0)
                .await
                .unwrap();
        ids.push(receipt.letter);
    }
    // Another agency's receipts are not in NAV's feed.
    t.db.deliver_letter(
        &deliver_access("skatteetaten"),
        letter_to(&kari, "s-1", "Skatt"),
        T0,
    )
    .await
    .unwrap();

    // Two at a time: every receipt once, in order, none skipped.
    let (seen, cursor) = drain_receipts(t, "nav", None, 5, 2).await;
    assert_eq!(
        seen.iter().map(|r| r.letter.unwrap()).collect::<Vec<_>>(),
        ids
    );
    // Polling at the end gives nothing and keeps the cursor; new receipts come after it.
    let idle = t.db.list_receipts(&nav, cursor, 10).await.unwrap();
    assert!(idle.receipts.is_empty());
    assert_eq!(idle.cursor, cursor);
    let cursor = ReceiptCursor::decode(&idle.cursor.unwrap().encode()).unwrap();

    // Opening (once) and a failed notification become receipts.
    let me = read_post(kari.id);
    t.db.open_letter(&me, None, ids[0], T0 + Duration::minutes(1))
        .await
        .unwrap();
    t.db.open_letter(&me, None, ids[0], T0 + Duration::minutes(2))
        .await
        .unwrap();
    let claimed =
        t.db.claim_due(T0 + Duration::minutes(3), "w", 100, LEASE)
            .await
            .unwrap();
    let mail = claimed
        .iter()
        .find(|c| c.template == Template::NewLetter)
        .unwrap();
    let once = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    let gave_up =
        t.db.mark_failed_attempt(mail.id, "w", T0 + Duration::minutes(3), "smtp.550", &once)
            .await
            .unwrap();
    assert_eq!(gave_up, FailedAttempt::GaveUp);
    let (news, _) = drain_receipts(t, "nav", Some(cursor), 2, 10).await;
    let kinds: Vec<_> = news.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [ReceiptKind::Opened, ReceiptKind::NotificationFailed]
    );
    assert_eq!(news[0].letter, Some(ids[0]));
    assert!(matches!(
        ReceiptCursor::decode("not a cursor"),
        Err(PostError::InvalidCursor)
    ));
}

async fn post_mailbox_pages_newest_first_and_hides_letters_before_their_time(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    for n in 0..7 {
        t.db.deliver_letter(
            &nav,
            letter_to(&kari, &format!("p-{n}"), &format!("Brev {n}")),
            T0 + Duration::minutes(n),
        )
        .await
        .unwrap();
    }
    let mut later = letter_to(&kari, "later", "Kommer i morgen");
    later.effective_at = Some(T0 + Duration::days(1));
    t.db.deliver_letter(&nav, later, T0 + Duration::minutes(10))
        .await
        .unwrap();

    let now = T0 + Duration::hours(1);
    let me = read_post(kari.id);
    let mut titles = Vec::new();
    let mut after = None;
    loop {
        let page =
            t.db.list_letters(
                &me,
                None,
                MailboxView::Folder(FolderRef::Inbox),
                after,
                3,
                now,
            )
            .await
            .unwrap();
        titles.extend(page.letters.iter().map(|l| l.title.clone()));
        match page.next {
            Some(next) => after = Some(LetterCursor::decode(&next.encode()).unwrap()),
            None => break,
        }
    }
    assert_eq!(
        titles,
        ["Brev 6", "Brev 5", "Brev 4", "Brev 3", "Brev 2", "Brev 1", "Brev 0"]
    );
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 7);
    // The letter before its effective time does not exist for the mailbox.
    let hidden: LetterId = raw_text(
        t,
        "SELECT id FROM letters WHERE agency_message_id = 'later'",
        "SELECT id::text FROM letters WHERE agency_message_id = 'later'",
    )
    .await[0]
        .parse()
        .unwrap();
    assert!(matches!(
        t.db.open_letter(&me, None, hidden, now).await,
        Err(PostError::NotFound)
    ));
    // Its notification waits too.
    let tomorrow = T0 + Duration::days(1);
    let first = inbox(t, kari.id, tomorrow).await;
    assert_eq!(first[0].title, "Kommer i morgen");
    assert_eq!(first[0].shown_at, tomorrow);
    assert_eq!(t.db.unread_count(&me, tomorrow).await.unwrap(), 8);
    let due_now = t.db.claim_due(now, "w", 100, LEASE).await.unwrap();
    assert_eq!(
        due_now
            .iter()
            .filter(|c| c.template == Template::NewLetter)
            .count(),
        7
    );
}

async fn post_unread_count_stops_at_its_limit(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let limit = borgerportal::post::UNREAD_COUNT_LIMIT;
    // Concurrent deliveries (on SQLite they share the group writer's batches).
    let mut tasks = Vec::new();
    for n in 0..=limit {
        let db = t.db.clone();
        let letter = letter_to(&kari, &format!("u-{n}"), &format!("Brev {n}"));
        tasks.push(tokio::spawn(async move {
            db.deliver_letter(&deliver_access("nav"), letter, T0).await
        }));
    }
    for task in tasks {
        assert_eq!(
            task.await.unwrap().unwrap().status,
            DeliveryStatus::Delivered
        );
    }
    let now = T0 + Duration::minutes(1);
    let me = read_post(kari.id);
    // One more than the limit is unread: the count says "the limit or more".
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), limit);
    // Below the limit it is exact again.
    let page =
        t.db.list_letters(
            &me,
            None,
            MailboxView::Folder(FolderRef::Inbox),
            None,
            2,
            now,
        )
        .await
        .unwrap();
    for letter in &page.letters {
        t.db.open_letter(&me, None, letter.id, now).await.unwrap();
    }
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), limit - 1);
}

async fn post_newest_unread_letters_are_the_home_pages(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let other = person_with_email(t, 2, "ola@example.no", T0).await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let mut letter = letter_to(&kari, &format!("h-{n}"), &format!("Brev {n}"));
        if n == 3 {
            letter.required_loa = Loa::High;
        }
        let at = T0 + Duration::minutes(n);
        let delivered =
            t.db.deliver_letter(&deliver_access("nav"), letter, at)
                .await
                .unwrap();
        ids.push(delivered.letter);
    }
    // One not shown yet, and one to someone else: neither is on the page.
    let mut later = letter_to(&kari, "h-later", "Senere");
    later.effective_at = Some(T0 + Duration::days(1));
    t.db.deliver_letter(&deliver_access("nav"), later, T0)
        .await
        .unwrap();
    t.db.deliver_letter(
        &deliver_access("nav"),
        letter_to(&other, "h-x", "Ikke ditt"),
        T0,
    )
    .await
    .unwrap();
    let now = T0 + Duration::hours(1);
    let me = read_post(kari.id);
    // Read, trashed or filed: read and trashed ones go; a filed unread one stays.
    t.db.open_letter(&me, None, ids[4], now).await.unwrap();
    t.db.trash_letter(&manage_post(kari.id), ids[0], now)
        .await
        .unwrap();
    t.db.move_letter(&manage_post(kari.id), ids[1], FolderRef::Archive, now)
        .await
        .unwrap();

    let newest = t.db.newest_unread(&me, None, 10, now).await.unwrap();
    let shown: Vec<_> = newest.iter().map(|l| l.id).collect();
    assert_eq!(shown, [ids[3], ids[2], ids[1]], "newest first");
    assert!(newest.iter().all(|l| l.unread));
    // The letter that needs `high` shows its non-sensitive title, unless the proof allows more.
    assert_eq!(newest[0].title, "Brev fra NAV");
    assert!(newest[0].locked);
    let with_high =
        t.db.newest_unread(&me, Some(&read_sensitive(kari.id)), 10, now)
            .await
            .unwrap();
    assert_eq!(with_high[0].title, "Brev 3");
    // At most `limit`.
    let two = t.db.newest_unread(&me, None, 2, now).await.unwrap();
    assert_eq!(two.len(), 2);
}

/// The count the triggers keep for `person` (migration 0007), and the count of their letters
/// that it stands for, read straight from the letters.
async fn kept_and_counted_unread(t: &TestDb, person: PersonId) -> (i64, i64) {
    let kept = raw_text(
        t,
        &format!("SELECT CAST(unread AS TEXT) FROM unread_counts WHERE person_id = '{person}'"),
        &format!("SELECT unread::text FROM unread_counts WHERE person_id = '{person}'"),
    )
    .await
    .first()
    .map_or(0, |n| n.parse().unwrap());
    let counted = raw_text(
        t,
        &format!(
            "SELECT CAST(COUNT(*) AS TEXT) FROM letters WHERE recipient_id = '{person}' \
             AND unread = 1 AND trashed_at IS NULL AND outcome = 'delivered'"
        ),
        &format!(
            "SELECT COUNT(*)::text FROM letters WHERE recipient_id = '{person}' \
             AND unread AND trashed_at IS NULL AND outcome = 'delivered'"
        ),
    )
    .await[0]
        .parse()
        .unwrap();
    (kept, counted)
}

async fn post_kept_unread_count_follows_every_change(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let ola = person_with_email(t, 2, "ola@example.no", T0).await;
    let nav = deliver_access("nav");
    let mut letters = Vec::new();
    for n in 0..3 {
        let letter = letter_to(&kari, &format!("k-{n}"), &format!("Brev {n}"));
        letters.push(t.db.deliver_letter(&nav, letter, T0).await.unwrap().letter);
    }
    t.db.deliver_letter(&nav, letter_to(&ola, "o-0", "Til Ola"), T0)
        .await
        .unwrap();
    let now = T0 + Duration::minutes(1);
    let me = read_post(kari.id);
    let manage = manage_post(kari.id);
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 3);
    assert_eq!(t.db.unread_count(&read_post(ola.id), now).await.unwrap(), 1);

    // Open, mark unread, trash, restore: the kept count follows each one.
    let [a, b, c] = letters[..] else {
        unreachable!()
    };
    opened(t.db.open_letter(&me, None, a, now).await.unwrap());
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 2);
    opened(t.db.open_letter(&me, None, a, now).await.unwrap());
    assert_eq!(
        t.db.unread_count(&me, now).await.unwrap(),
        2,
        "opened twice"
    );
    t.db.mark_unread(&manage, a, now).await.unwrap();
    t.db.mark_unread(&manage, a, now).await.unwrap();
    assert_eq!(
        t.db.unread_count(&me, now).await.unwrap(),
        3,
        "marked twice"
    );
    t.db.trash_letter(&manage, b, now).await.unwrap();
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 2);
    t.db.restore_letter(&manage, b, now).await.unwrap();
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 3);
    // A letter read in the trash comes back read; the purge of the trash changes nothing.
    t.db.trash_letter(&manage, c, now).await.unwrap();
    t.db.move_letter(&manage, a, FolderRef::Archive, now)
        .await
        .unwrap();
    assert_eq!(
        t.db.unread_count(&me, now).await.unwrap(),
        2,
        "a moved letter counts"
    );
    t.db.purge_trash(now + borgerportal::post::TRASH_RETENTION + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 2);
    assert_eq!(kept_and_counted_unread(t, kari.id).await, (2, 2));
    assert_eq!(kept_and_counted_unread(t, ola.id).await, (1, 1));

    // Many letters waiting for their effective time: the count of those shown is still right
    // (it is counted instead), and they count once their time has come.
    let tomorrow = T0 + Duration::days(1);
    let waiting = 210;
    let mut tasks = Vec::new();
    for n in 0..waiting {
        let db = t.db.clone();
        let mut letter = letter_to(&kari, &format!("later-{n}"), &format!("Senere {n}"));
        letter.attachments.clear();
        letter.effective_at = Some(tomorrow);
        tasks.push(tokio::spawn(async move {
            db.deliver_letter(&deliver_access("nav"), letter, T0).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 2);
    assert_eq!(
        t.db.unread_count(&me, tomorrow).await.unwrap(),
        borgerportal::post::UNREAD_COUNT_LIMIT,
        "212 unread: the limit or more"
    );
    assert_eq!(kept_and_counted_unread(t, kari.id).await, (212, 212));
    assert_eq!(
        t.db.unread_count(&read_post(ola.id), tomorrow)
            .await
            .unwrap(),
        1
    );
}

async fn post_folders_moves_unread_trash_restore_and_purge(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    let a =
        t.db.deliver_letter(&nav, letter_to(&kari, "a", "A"), T0)
            .await
            .unwrap()
            .letter;
    let b =
        t.db.deliver_letter(&nav, letter_to(&kari, "b", "B"), T0 + Duration::seconds(1))
            .await
            .unwrap()
            .letter;
    let now = T0 + Duration::minutes(1);
    let me = read_post(kari.id);
    let manage = manage_post(kari.id);

    let tax = t.db.create_folder(&manage, " Skatt ", now).await.unwrap();
    assert_eq!(tax.name, "Skatt");
    assert!(matches!(
        t.db.create_folder(&manage, "Skatt", now).await,
        Err(PostError::FolderNameTaken)
    ));
    let other = t.db.create_folder(&manage, "Helse", now).await.unwrap();
    assert!(matches!(
        t.db.rename_folder(&manage, other.id, "Skatt", now).await,
        Err(PostError::FolderNameTaken)
    ));
    t.db.rename_folder(&manage, other.id, "Lege", now)
        .await
        .unwrap();
    let folders = t.db.list_folders(&me).await.unwrap();
    assert_eq!(
        folders.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(),
        ["Lege", "Skatt"]
    );

    t.db.move_letter(&manage, a, FolderRef::Own(tax.id), now)
        .await
        .unwrap();
    t.db.move_letter(&manage, b, FolderRef::Archive, now)
        .await
        .unwrap();
    assert!(inbox(t, kari.id, now).await.is_empty());
    let in_tax =
        t.db.list_letters(
            &me,
            None,
            MailboxView::Folder(FolderRef::Own(tax.id)),
            None,
            10,
            now,
        )
        .await
        .unwrap();
    assert_eq!(in_tax.letters.len(), 1);
    assert_eq!(in_tax.letters[0].folder, FolderRef::Own(tax.id));
    assert!(matches!(
        t.db.delete_folder(&manage, tax.id, now).await,
        Err(PostError::FolderNotEmpty)
    ));
    assert!(matches!(
        t.db.move_letter(&manage, a, FolderRef::Own(FolderId::new()), now)
            .await,
        Err(PostError::NotFound)
    ));

    // Opening reads; mark unread brings it back.
    opened(t.db.open_letter(&me, None, a, now).await.unwrap());
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 1);
    t.db.mark_unread(&manage, a, now).await.unwrap();
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 2);

    // Trash: out of the folder and the count, into the trash; restore puts it back.
    t.db.trash_letter(&manage, a, now).await.unwrap();
    assert_eq!(t.db.unread_count(&me, now).await.unwrap(), 1);
    let trash =
        t.db.list_letters(&me, None, MailboxView::Trash, None, 10, now)
            .await
            .unwrap();
    assert_eq!(trash.letters.len(), 1);
    assert_eq!(trash.letters[0].trashed_at, Some(now));
    assert!(matches!(
        t.db.move_letter(&manage, a, FolderRef::Inbox, now).await,
        Err(PostError::NotFound)
    ));
    t.db.restore_letter(&manage, a, now).await.unwrap();
    let in_tax =
        t.db.list_letters(
            &me,
            None,
            MailboxView::Folder(FolderRef::Own(tax.id)),
            None,
            10,
            now,
        )
        .await
        .unwrap();
    assert_eq!(in_tax.letters.len(), 1);

    // A folder whose letters are only in the trash may go; they come back to the inbox.
    t.db.trash_letter(&manage, a, now).await.unwrap();
    t.db.delete_folder(&manage, tax.id, now).await.unwrap();
    t.db.restore_letter(&manage, a, now).await.unwrap();
    assert_eq!(inbox(t, kari.id, now).await.len(), 1);

    // Trash empties after 30 days, attachments and search entries with it.
    t.db.trash_letter(&manage, b, now).await.unwrap();
    assert_eq!(t.db.purge_trash(now + Duration::days(29)).await.unwrap(), 0);
    assert_eq!(t.db.purge_trash(now + Duration::days(30)).await.unwrap(), 1);
    assert_eq!(count_rows(t, "letters").await, 1);
    assert_eq!(count_rows(t, "letter_attachments").await, 1);
    assert!(matches!(
        t.db.open_letter(&me, None, b, now).await,
        Err(PostError::NotFound)
    ));
    let found =
        t.db.search_letters(&me, None, "nav", None, 10, now + Duration::days(30))
            .await
            .unwrap();
    assert_eq!(found.letters.len(), 1);

    // Every change is in the activity log, by the citizen, at their level; the refused ones
    // (a taken name, a folder not empty, an unknown folder, a letter in the trash) are not.
    let post_events: Vec<AuditEvent> = audit_events_of(t, kari.id)
        .await
        .into_iter()
        .filter(|event| {
            event.kind.code().starts_with("post.")
                && !matches!(event.kind, AuditKind::PostDelivered | AuditKind::PostOpened)
        })
        .collect();
    assert_eq!(
        post_events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [
            AuditKind::PostFolderCreated,
            AuditKind::PostFolderCreated,
            AuditKind::PostFolderRenamed,
            AuditKind::PostMoved,
            AuditKind::PostMoved,
            AuditKind::PostMarkedUnread,
            AuditKind::PostTrashed,
            AuditKind::PostRestored,
            AuditKind::PostTrashed,
            AuditKind::PostFolderDeleted,
            AuditKind::PostRestored,
            AuditKind::PostTrashed,
        ]
    );
    for event in &post_events {
        assert_eq!(event.actor, Some(kari.id));
        assert_eq!(event.loa, Some(Loa::Substantial));
        assert_eq!(event.agency, None);
    }
    // Each names what it was about as Kari knows it: the folder by its name then, the letter by
    // its non-sensitive title (never its title).
    let letter = Some("Brev fra NAV");
    assert_eq!(
        post_events
            .iter()
            .map(|e| e.about.as_deref())
            .collect::<Vec<_>>(),
        [
            Some("Skatt"),
            Some("Helse"),
            Some("Lege"),
            letter,
            letter,
            letter,
            letter,
            letter,
            letter,
            Some("Skatt"),
            letter,
            letter,
        ]
    );
    let all = audit_events_of(t, kari.id).await;
    for kind in [AuditKind::PostDelivered, AuditKind::PostOpened] {
        let event = all.iter().find(|e| e.kind == kind).unwrap();
        assert_eq!(event.about.as_deref(), letter, "{kind:?}");
    }
    assert!(all
        .iter()
        .filter(|e| !e.kind.code().starts_with("post."))
        .all(|e| e.about.is_none()));
}

async fn post_mailbox_changes_are_audited_in_their_transaction(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let ola = person_with_email(t, 2, "ola@example.no", T0).await;
    let letter =
        t.db.deliver_letter(&deliver_access("nav"), letter_to(&kari, "a", "A"), T0)
            .await
            .unwrap()
            .letter;
    let now = T0 + Duration::minutes(1);
    let before = audit_kinds(t, kari.id).await.len();
    // Someone else's proof changes nothing and records nothing, in either log.
    let ola_manage = manage_post(ola.id);
    assert!(matches!(
        t.db.trash_letter(&ola_manage, letter, now).await,
        Err(PostError::NotFound)
    ));
    assert!(matches!(
        t.db.mark_unread(&ola_manage, letter, now).await,
        Err(PostError::NotFound)
    ));
    assert_eq!(audit_kinds(t, kari.id).await.len(), before);
    assert!(!audit_kinds(t, ola.id)
        .await
        .iter()
        .any(|kind| kind.code().starts_with("post.")));
    // A change whose audit event cannot be written is not made (one transaction).
    refuse_inserts(t, "audit_events").await;
    let manage = manage_post(kari.id);
    assert!(t.db.trash_letter(&manage, letter, now).await.is_err());
    assert!(t.db.create_folder(&manage, "Skatt", now).await.is_err());
    allow_inserts(t, "audit_events").await;
    assert_eq!(
        t.db.list_letters(&read_post(kari.id), None, MailboxView::Trash, None, 10, now)
            .await
            .unwrap()
            .letters
            .len(),
        0
    );
    assert!(t
        .db
        .list_folders(&read_post(kari.id))
        .await
        .unwrap()
        .is_empty());
    t.db.trash_letter(&manage, letter, now).await.unwrap();
    assert_eq!(
        audit_kinds(t, kari.id).await.last(),
        Some(&AuditKind::PostTrashed)
    );
}

/// A registered person with a verified e-mail address and mobile number, both at `at`.
async fn person_with_email_and_mobile(t: &TestDb, n: u16, at: OffsetDateTime) -> Person {
    let person = person_with_email(t, n, &format!("p{n}@example.no"), at).await;
    let access = manage(person.id);
    let sent =
        t.db.request_mobile_change(&access, mobile(&format!("9{:07}", n)), at)
            .await
            .unwrap();
    t.db.verify_code(&access, ContactMethod::Mobile, sent.code.expose(), at)
        .await
        .unwrap();
    person
}

fn wish(channels: Option<&[&str]>, repeat_after_days: Option<i64>) -> NotificationRequest {
    NotificationRequest {
        channels: channels.map(|c| c.iter().map(|s| (*s).to_owned()).collect()),
        repeat_after_days,
    }
}

/// The outbox rows of one template: (channel, address, params).
async fn messages_of(t: &TestDb, template: &str) -> Vec<(String, String, serde_json::Value)> {
    outbox_rows(t)
        .await
        .into_iter()
        .filter(|row| row.0 == template)
        .map(|row| (row.1, row.2, row.3))
        .collect()
}

async fn post_notification_wishes_choose_the_channels(t: &TestDb) {
    let kari = person_with_email_and_mobile(t, 1, T0).await;
    let nav = deliver_access("nav");
    let send = |id: &'static str, wish: NotificationRequest| {
        let mut letter = letter_to(&kari, id, "Brev");
        letter.notification = wish;
        letter
    };
    t.db.deliver_letter(&nav, send("both", wish(None, None)), T0)
        .await
        .unwrap();
    assert_eq!(
        messages_of(t, "new_letter")
            .await
            .iter()
            .map(|m| m.0.as_str())
            .collect::<Vec<_>>(),
        ["email", "sms"]
    );
    t.db.deliver_letter(&nav, send("sms", wish(Some(&["sms"]), None)), T0)
        .await
        .unwrap();
    t.db.deliver_letter(&nav, send("email", wish(Some(&["email"]), Some(2))), T0)
        .await
        .unwrap();
    t.db.deliver_letter(&nav, send("none", wish(Some(&[]), None)), T0)
        .await
        .unwrap();
    let channels: Vec<String> = messages_of(t, "new_letter")
        .await
        .into_iter()
        .map(|m| m.0)
        .collect();
    assert_eq!(channels, ["email", "sms", "sms", "email"]);

    // A wish that breaks a rule refuses the letter: nothing stored but the rejection.
    let letters_before = count_rows(t, "letters").await;
    let error =
        t.db.deliver_letter(&nav, send("bad", wish(Some(&["fax"]), None)), T0)
            .await
            .unwrap_err();
    assert_eq!(error.code(), "post.notification_channel_invalid");
    let error =
        t.db.deliver_letter(&nav, send("bad2", wish(None, Some(31))), T0)
            .await
            .unwrap_err();
    assert_eq!(error.code(), "post.notification_repeat_invalid");
    assert_eq!(count_rows(t, "letters").await, letters_before);
    assert_eq!(messages_of(t, "new_letter").await.len(), 4);

    // The agency reads its wishes back with the letter's status and receipts.
    let receipts = all_receipts(t, "nav", 6).await;
    let email_only = receipts
        .iter()
        .find(|r| r.message_id == "email")
        .and_then(|r| r.letter)
        .unwrap();
    let status = t.db.letter_status(&nav, email_only).await.unwrap();
    assert_eq!(status.message_id.as_str(), "email");
    assert_eq!(status.status, DeliveryStatus::Delivered);
    assert!(status.notification.email && !status.notification.sms);
    assert_eq!(status.notification.repeat_after_days, Some(2));
    assert_eq!(
        status.receipts.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReceiptKind::Delivered]
    );
    // Another agency's letter is not found, like one that does not exist.
    assert!(matches!(
        t.db.letter_status(&deliver_access("skatteetaten"), email_only)
            .await,
        Err(PostError::NotFound)
    ));
    assert!(matches!(
        t.db.letter_status(&nav, LetterId::new()).await,
        Err(PostError::NotFound)
    ));
}

async fn post_unread_decisions_are_reminded_once_after_seven_days(t: &TestDb) {
    let kari = person_with_email_and_mobile(t, 1, T0).await;
    // Confirmed 600 days before: too old to notify about decisions.
    let stale = person_with_email(t, 2, "stale@example.no", T0 - Duration::days(600)).await;
    let nav = deliver_access("nav");
    let deliver = |person: &Person, id: &'static str, decision: bool| {
        let mut letter = letter_to(person, id, "Vedtak om dagpenger");
        letter.is_decision = decision;
        letter
    };
    let unread =
        t.db.deliver_letter(&nav, deliver(&kari, "unread", true), T0)
            .await
            .unwrap()
            .letter;
    let read =
        t.db.deliver_letter(&nav, deliver(&kari, "read", true), T0)
            .await
            .unwrap()
            .letter;
    t.db.deliver_letter(&nav, deliver(&kari, "plain", false), T0)
        .await
        .unwrap();
    let mut high = deliver(&kari, "high", true);
    high.required_loa = Loa::High;
    high.notification = wish(Some(&["sms"]), None);
    let high = t.db.deliver_letter(&nav, high, T0).await.unwrap().letter;
    let mut later = deliver(&kari, "later", true);
    later.effective_at = Some(T0 + Duration::days(2));
    t.db.deliver_letter(&nav, later, T0).await.unwrap();
    let mut silent = deliver(&kari, "silent", true);
    silent.notification = wish(Some(&[]), None);
    t.db.deliver_letter(&nav, silent, T0).await.unwrap();
    let mut repeat = deliver(&kari, "repeat", false);
    repeat.notification = wish(Some(&["email"]), Some(3));
    t.db.deliver_letter(&nav, repeat, T0).await.unwrap();
    let stale_letter =
        t.db.deliver_letter(&nav, deliver(&stale, "stale", true), T0)
            .await
            .unwrap()
            .letter;
    // Reserved: the letter goes on paper, and paper letters are never reminded.
    let reserved = registered_person(t, 3).await;
    t.db.set_reservation(&manage(reserved.id), true, T0)
        .await
        .unwrap();
    t.db.deliver_letter(&nav, deliver(&reserved, "paper", true), T0)
        .await
        .unwrap();
    // Nine letters, and the stale person's: nothing could announce it (its contact entry is
    // too old), which the agency hears at once, right after `delivered`.
    let after_delivery = all_receipts(t, "nav", 10).await;
    let stale_receipts: Vec<_> = after_delivery
        .iter()
        .filter(|r| r.letter == Some(stale_letter))
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        stale_receipts,
        [ReceiptKind::Delivered, ReceiptKind::NotificationFailed]
    );
    assert_eq!(
        after_delivery
            .iter()
            .filter(|r| r.kind == ReceiptKind::NotificationFailed)
            .count(),
        1,
        "the silent letter asked for nothing, and the paper one is not in the mailbox"
    );

    // Opened before the job runs: no reminder.
    opened(
        t.db.open_letter(&read_post(kari.id), None, read, T0 + Duration::days(1))
            .await
            .unwrap(),
    );

    // Day 3: the agency's repeat; nothing for the decisions yet.
    let run =
        t.db.queue_unread_reminders(T0 + Duration::days(3) - Duration::seconds(1), 100)
            .await
            .unwrap();
    assert_eq!(run, Default::default());
    let run =
        t.db.queue_unread_reminders(T0 + Duration::days(3), 100)
            .await
            .unwrap();
    assert_eq!((run.reminded, run.unreachable, run.skipped), (1, 0, 0));
    assert_eq!(
        messages_of(t, "unread_reminder")
            .await
            .iter()
            .map(|m| m.0.as_str())
            .collect::<Vec<_>>(),
        ["email"]
    );
    // One second before 7 days: still nothing more.
    let run =
        t.db.queue_unread_reminders(T0 + Duration::days(7) - Duration::seconds(1), 100)
            .await
            .unwrap();
    assert_eq!(run, Default::default());

    // Day 7: the unread decisions (not the opened one, not the silent one, not the one shown
    // later); the stale person cannot be notified: the agency hears so.
    let day7 = T0 + Duration::days(7);
    let run = t.db.queue_unread_reminders(day7, 100).await.unwrap();
    assert_eq!((run.reminded, run.unreachable), (2, 1));
    let reminders = messages_of(t, "unread_reminder").await;
    let mut channels: Vec<&str> = reminders.iter().map(|m| m.0.as_str()).collect();
    channels.sort_unstable();
    assert_eq!(channels, ["email", "email", "sms", "sms"], "{reminders:?}");
    // No title for the letter that needs `high` (its only message is the SMS it asked for).
    let with_title = reminders
        .iter()
        .filter(|m| m.2.get("title").is_some())
        .count();
    assert_eq!(with_title, 3, "{reminders:?}");
    assert!(reminders
        .iter()
        .all(|m| m.2["sender"] == "NAV" && m.2["language"] == "nb"));
    // The opening receipt of the read one, and the failed notification.
    let (new_receipts, _) = drain_receipts(t, "nav", None, after_delivery.len() + 2, 1000).await;
    let failed: Vec<_> = new_receipts
        .iter()
        .filter(|r| r.kind == ReceiptKind::NotificationFailed)
        .collect();
    assert_eq!(
        failed.len(),
        2,
        "at delivery and for the reminder: {new_receipts:?}"
    );
    assert!(failed.iter().all(|r| r.letter == Some(stale_letter)));
    let status = t.db.letter_status(&nav, unread).await.unwrap();
    assert_eq!(status.receipts.len(), 1, "a reminder queued is no receipt");
    let _ = high;

    // Once: later runs find nothing, also much later.
    let run =
        t.db.queue_unread_reminders(day7 + Duration::days(30), 100)
            .await
            .unwrap();
    // Except the one shown two days late, due on day 9.
    assert_eq!((run.reminded, run.unreachable), (1, 0));
    let run =
        t.db.queue_unread_reminders(day7 + Duration::days(60), 100)
            .await
            .unwrap();
    assert_eq!(run, Default::default());
    assert_eq!(messages_of(t, "unread_reminder").await.len(), 6);
}

async fn post_external_mailbox_letters_are_forwarded_or_returned_to_paper(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    t.db.set_mailbox(&manage(kari.id), Mailbox::external("Digipost").unwrap(), T0)
        .await
        .unwrap();
    let nav = deliver_access("nav");
    let policy = RetryPolicy {
        max_attempts: 2,
        backoff: vec![Duration::minutes(5)],
    };
    let lease = Duration::minutes(2);
    let mut decision = letter_to(&kari, "ext-1", "Vedtak");
    decision.is_decision = true;
    let first = t.db.deliver_letter(&nav, decision, T0).await.unwrap();
    assert_eq!(first.status, DeliveryStatus::Forwarding);
    // Not in the portal's mailbox, no notification from the portal, no reminder, and no
    // receipt until the provider has it.
    assert!(inbox(t, kari.id, T0 + Duration::days(30)).await.is_empty());
    assert!(messages_of(t, "new_letter").await.is_empty());
    assert_eq!(
        t.db.queue_unread_reminders(T0 + Duration::days(30), 10)
            .await
            .unwrap(),
        Default::default()
    );
    assert!(t
        .db
        .list_receipts(&nav, None, 100)
        .await
        .unwrap()
        .receipts
        .is_empty());
    // A retry answers the first result.
    let again =
        t.db.deliver_letter(&nav, letter_to(&kari, "ext-1", "Vedtak"), T0)
            .await
            .unwrap();
    assert!(again.replayed);
    assert_eq!(again.status, DeliveryStatus::Forwarding);

    // Claimed once (a lease), with what the provider needs.
    let jobs = t.db.claim_forwarding(T0, "w1", 10, lease).await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].letter, first.letter);
    assert_eq!(jobs[0].provider, "digipost");
    assert_eq!(jobs[0].recipient, kari.national_id);
    assert_eq!(jobs[0].attempt, 1);
    assert_eq!(jobs[0].attachments.len(), 1);
    assert!(borgerportal::post::pdf::looks_like_pdf(
        &jobs[0].attachments[0].content
    ));
    assert!(t
        .db
        .claim_forwarding(T0, "w2", 10, lease)
        .await
        .unwrap()
        .is_empty());
    assert!(!t.db.mark_forwarded(first.letter, "w2", T0).await.unwrap());
    assert!(t.db.mark_forwarded(first.letter, "w1", T0).await.unwrap());
    assert!(
        !t.db.mark_forwarded(first.letter, "w1", T0).await.unwrap(),
        "once"
    );
    let receipts = all_receipts(t, "nav", 1).await;
    assert_eq!(receipts[0].kind, ReceiptKind::Forwarded);
    assert_eq!(receipts[0].letter, Some(first.letter));
    // Even after its lease would have run out, a forwarded letter is not claimed again.
    assert!(t
        .db
        .claim_forwarding(T0 + Duration::hours(1), "w2", 10, lease)
        .await
        .unwrap()
        .is_empty());

    // Temporary failures back off, then the letter goes on paper.
    let second =
        t.db.deliver_letter(&nav, letter_to(&kari, "ext-2", "Brev"), T0)
            .await
            .unwrap()
            .letter;
    let job = t.db.claim_forwarding(T0, "w1", 10, lease).await.unwrap();
    assert_eq!(job.len(), 1);
    let retry =
        t.db.mark_forward_failed(second, "w1", T0, "forward.http.503", false, &policy)
            .await
            .unwrap();
    assert_eq!(retry, ForwardOutcome::RetryAt(T0 + Duration::minutes(5)));
    assert!(t
        .db
        .claim_forwarding(T0 + Duration::minutes(4), "w1", 10, lease)
        .await
        .unwrap()
        .is_empty());
    let job =
        t.db.claim_forwarding(T0 + Duration::minutes(5), "w1", 10, lease)
            .await
            .unwrap();
    assert_eq!(job[0].attempt, 2);
    assert_eq!(
        t.db.mark_forward_failed(second, "w2", T0, "x", false, &policy)
            .await
            .unwrap(),
        ForwardOutcome::NotClaimed
    );
    let later = T0 + Duration::minutes(6);
    assert_eq!(
        t.db.mark_forward_failed(second, "w1", later, "forward.timeout", false, &policy)
            .await
            .unwrap(),
        ForwardOutcome::ReturnedToPaper
    );
    // A permanent refusal goes on paper at once.
    let third =
        t.db.deliver_letter(&nav, letter_to(&kari, "ext-3", "Brev"), later)
            .await
            .unwrap()
            .letter;
    t.db.claim_forwarding(later, "w1", 10, lease).await.unwrap();
    assert_eq!(
        t.db.mark_forward_failed(third, "w1", later, "forward.http.400", true, &policy)
            .await
            .unwrap(),
        ForwardOutcome::ReturnedToPaper
    );
    let printing = t.db.list_print_queue(&print_access(), 10).await.unwrap();
    assert_eq!(
        printing.iter().map(|job| job.letter).collect::<Vec<_>>(),
        [second, third]
    );
    let status = t.db.letter_status(&nav, second).await.unwrap();
    assert_eq!(status.status, DeliveryStatus::Forwarding);
    assert_eq!(
        status.receipts.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReceiptKind::ReturnedToPaper]
    );
    assert!(t
        .db
        .claim_forwarding(later + Duration::days(1), "w1", 10, lease)
        .await
        .unwrap()
        .is_empty());
}

async fn post_reminders_are_queued_once_by_racing_workers(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let nav = deliver_access("nav");
    for n in 0..20 {
        let mut letter = letter_to(&kari, &format!("d-{n}"), "Vedtak");
        letter.is_decision = true;
        t.db.deliver_letter(&nav, letter, T0).await.unwrap();
    }
    let day7 = T0 + Duration::days(7);
    let mut runs = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let db = t.db.clone();
        runs.spawn(async move { db.queue_unread_reminders(day7, 7).await.unwrap() });
    }
    let mut reminded = 0;
    while let Some(run) = runs.join_next().await {
        reminded += run.unwrap().reminded;
    }
    // Whatever the interleaving, each letter once (what the racing runs left, the next takes).
    reminded +=
        t.db.queue_unread_reminders(day7, 100)
            .await
            .unwrap()
            .reminded;
    assert_eq!(reminded, 20);
    assert_eq!(messages_of(t, "unread_reminder").await.len(), 20);
}

async fn post_other_peoples_letters_are_not_found(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let ola = person_with_email(t, 2, "ola@example.no", T0).await;
    let letter =
        t.db.deliver_letter(
            &deliver_access("nav"),
            letter_to(&kari, "k", "Kari sitt brev"),
            T0,
        )
        .await
        .unwrap()
        .letter;
    let now = T0 + Duration::minutes(1);
    let missing = LetterId::new();
    for id in [letter, missing] {
        assert!(matches!(
            t.db.open_letter(&read_post(ola.id), Some(&read_sensitive(ola.id)), id, now)
                .await,
            Err(PostError::NotFound)
        ));
        assert!(matches!(
            t.db.read_attachment(
                &read_post(ola.id),
                Some(&read_sensitive(ola.id)),
                id,
                0,
                now
            )
            .await,
            Err(PostError::NotFound)
        ));
        for result in [
            t.db.move_letter(&manage_post(ola.id), id, FolderRef::Archive, now)
                .await,
            t.db.trash_letter(&manage_post(ola.id), id, now).await,
            t.db.restore_letter(&manage_post(ola.id), id, now).await,
            t.db.mark_unread(&manage_post(ola.id), id, now).await,
        ] {
            assert!(matches!(result, Err(PostError::NotFound)), "{result:?}");
        }
    }
    // A sensitive proof for someone else does not unlock anything.
    let mut high = letter_to(&kari, "h", "Hemmelig");
    high.required_loa = Loa::High;
    let high =
        t.db.deliver_letter(&deliver_access("nav"), high, T0)
            .await
            .unwrap()
            .letter;
    let view =
        t.db.open_letter(
            &read_post(kari.id),
            Some(&read_sensitive(ola.id)),
            high,
            now,
        )
        .await
        .unwrap();
    assert!(matches!(view, LetterView::NeedsStepUp { .. }));
    assert!(inbox(t, ola.id, now).await.is_empty());
    assert!(t
        .db
        .search_letters(&read_post(ola.id), None, "brev", None, 10, now)
        .await
        .unwrap()
        .letters
        .is_empty());
    // Ola's folders are not Kari's.
    let folder =
        t.db.create_folder(&manage_post(kari.id), "Mine", now)
            .await
            .unwrap();
    assert!(matches!(
        t.db.delete_folder(&manage_post(ola.id), folder.id, T0)
            .await,
        Err(PostError::NotFound)
    ));
    assert!(matches!(
        t.db.rename_folder(&manage_post(ola.id), folder.id, "Hans", T0)
            .await,
        Err(PostError::NotFound)
    ));
}

async fn post_high_letters_need_the_sensitive_proof(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let mut high = letter_to(&kari, "h", "Sykmelding fra legen");
    high.required_loa = Loa::High;
    let id =
        t.db.deliver_letter(&deliver_access("nav"), high, T0)
            .await
            .unwrap()
            .letter;
    let now = T0 + Duration::minutes(1);
    let me = read_post(kari.id);
    match t.db.open_letter(&me, None, id, now).await.unwrap() {
        LetterView::NeedsStepUp { summary, required } => {
            assert_eq!(required, Loa::High);
            assert_eq!(summary.title, "Brev fra NAV");
            assert!(summary.locked);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        t.db.read_attachment(&me, None, id, 0, now).await,
        Err(PostError::NeedsStepUp)
    ));
    // Nothing recorded by the locked view.
    assert!(!audit_kinds(t, kari.id)
        .await
        .contains(&AuditKind::PostOpened));
    assert!(t
        .db
        .search_letters(&me, None, "sykmelding", None, 10, now)
        .await
        .unwrap()
        .letters
        .is_empty());

    let sensitive = read_sensitive(kari.id);
    let letter = opened(
        t.db.open_letter(&me, Some(&sensitive), id, now)
            .await
            .unwrap(),
    );
    assert_eq!(letter.summary.title, "Sykmelding fra legen");
    assert_eq!(letter.opened_at, Some(now));
    assert_eq!(letter.attachments.len(), 1);
    let attachment =
        t.db.read_attachment(&me, Some(&sensitive), id, 0, now)
            .await
            .unwrap();
    assert_eq!(attachment.info.filename, "vedtak.pdf");
    assert_eq!(attachment.content, test_pdf("Sykmelding fra legen"));
    let again = opened(
        t.db.open_letter(&me, Some(&sensitive), id, now + Duration::hours(1))
            .await
            .unwrap(),
    );
    assert_eq!(again.opened_at, Some(now), "the first opening is kept");
    let opened_events = audit_kinds(t, kari.id)
        .await
        .into_iter()
        .filter(|k| *k == AuditKind::PostOpened)
        .count();
    assert_eq!(opened_events, 1);
    let found =
        t.db.search_letters(&me, Some(&sensitive), "sykmelding", None, 10, now)
            .await
            .unwrap();
    assert_eq!(found.letters.len(), 1);
}

async fn post_search_finds_sender_title_and_body_in_the_own_mailbox(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0).await;
    let ola = person_with_email(t, 2, "ola@example.no", T0).await;
    let mut tax = letter_to(&kari, "tax", "Skattemeldingen er klar");
    tax.sender_name = "Skatteetaten".to_owned();
    tax.body_kind = BodyKind::Text;
    tax.body = "Husk å levere innen fristen i april.".to_owned();
    t.db.deliver_letter(&deliver_access("skatteetaten"), tax, T0)
        .await
        .unwrap();
    let mut html = letter_to(&kari, "html", "Vedtak om barnetrygd");
    html.body =
        "<p>Utbetalingen starter i <b>juni</b>.</p><script>hemmeligord()</script>".to_owned();
    t.db.deliver_letter(&deliver_access("nav"), html, T0 + Duration::seconds(1))
        .await
        .unwrap();
    t.db.deliver_letter(
        &deliver_access("nav"),
        letter_to(&ola, "ola", "Skattemeldingen til Ola"),
        T0,
    )
    .await
    .unwrap();
    let now = T0 + Duration::minutes(1);
    let me = read_post(kari.id);
    let titles = |page: LetterPage| {
        page.letters
            .into_iter()
            .map(|l| l.title)
            .collect::<Vec<_>>()
    };

    let by_sender =
        t.db.search_letters(&me, None, "skatteetaten", None, 10, now)
            .await
            .unwrap();
    assert_eq!(titles(by_sender), ["Skattemeldingen er klar"]);
    let by_title =
        t.db.search_letters(&me, None, "skattemeldingen", None, 10, now)
            .await
            .unwrap();
    assert_eq!(titles(by_title), ["Skattemeldingen er klar"], "not Ola's");
    let by_body =
        t.db.search_letters(&me, None, "juni", None, 10, now)
            .await
            .unwrap();
    assert_eq!(titles(by_body), ["Vedtak om barnetrygd"]);
    let prefix =
        t.db.search_letters(&me, None, "barnetr", None, 10, now)
            .await
            .unwrap();
    assert_eq!(titles(prefix), ["Vedtak om barnetrygd"]);
    let both_words =
        t.db.search_letters(&me, None, "fristen april", None, 10, now)
            .await
            .unwrap();
    assert_eq!(titles(both_words), ["Skattemeldingen er klar"]);
    let script =
        t.db.search_letters(&me, None, "hemmeligord", None, 10, now)
            .await
            .unwrap();
    assert!(
        script.letters.is_empty(),
        "removed script text is not indexed"
    );
    // Paged: newest first.
    let nav_page =
        t.db.search_letters(&me, None, "nav", None, 1, now)
            .await
            .unwrap();
    assert_eq!(nav_page.letters.len(), 1);
    assert!(
        nav_page.next.is_none() || {
            let rest =
                t.db.search_letters(&me, None, "nav", nav_page.next, 1, now)
                    .await
                    .unwrap();
            rest.letters.iter().all(|l| l.id != nav_page.letters[0].id)
        }
    );
    // Query syntax is not passed through.
    let odd =
        t.db.search_letters(&me, None, "\"juni\" OR * NEAR(", None, 10, now)
            .await
            .unwrap();
    assert!(odd.letters.len() <= 1);
    assert!(matches!(
        t.db.search_letters(&me, None, " *** ", None, 10, now).await,
        Err(PostError::InvalidQuery)
    ));
}

async fn post_demo_letters_are_seeded_once(t: &TestDb) {
    seed_demo_data(&t.db).await.unwrap();
    let added = seed_demo_post(&t.db, T0).await.unwrap();
    assert!(added >= 20, "{added}");
    assert_eq!(seed_demo_post(&t.db, T0).await.unwrap(), 0);
    let ingrid =
        t.db.find_person_by_national_id(&demo_persons()[0].national_id)
            .await
            .unwrap()
            .unwrap();
    let letters = inbox(t, ingrid.id, T0 + Duration::minutes(1)).await;
    assert_eq!(letters.len(), 4);
    assert!(letters
        .iter()
        .any(|l| l.required_loa == Loa::High && l.locked));
    assert!(letters.iter().any(|l| l.attachment_count == 1));
    let with_pdf = letters
        .iter()
        .find(|l| l.attachment_count == 1 && !l.locked)
        .unwrap();
    let pdf =
        t.db.read_attachment(
            &read_post(ingrid.id),
            None,
            with_pdf.id,
            0,
            T0 + Duration::minutes(1),
        )
        .await
        .unwrap();
    assert!(borgerportal::post::pdf::looks_like_pdf(&pdf.content));
}

/// The configured staleness limit (`Database::with_contact_staleness`, the configuration's
/// `[contact] staleness_days`) decides whether a letter's recipient is notified, at delivery
/// and for the reminder, not the built-in default.
async fn post_notifications_follow_the_configured_staleness(t: &TestDb) {
    let kari = person_with_email(t, 1, "kari@example.no", T0 - Duration::days(60)).await;
    let strict = t.db.clone().with_contact_staleness(Duration::days(30));
    let nav = deliver_access("nav");
    let receipt = strict
        .deliver_letter(&nav, letter_to(&kari, "stale-1", "Brev"), T0)
        .await
        .unwrap();
    assert_eq!(receipt.status, DeliveryStatus::Delivered);
    assert!(
        messages_of(t, "new_letter").await.is_empty(),
        "confirmed 60 days ago, limit 30: not notified"
    );
    let mut decision = letter_to(&kari, "stale-2", "Vedtak");
    decision.is_decision = true;
    t.db.deliver_letter(&nav, decision, T0).await.unwrap();
    assert_eq!(
        messages_of(t, "new_letter").await.len(),
        1,
        "the default limit (548 days) lets it through"
    );
    let run = strict
        .queue_unread_reminders(T0 + Duration::days(8), 10)
        .await
        .unwrap();
    assert_eq!(run.unreachable, 1, "{run:?}");
    assert_eq!(run.reminded, 0, "{run:?}");
}

// ---------------------------------------------------------------------------------------------
// Many deliveries at once (SQLite: one group-commit batch)

/// Where each of the batch tests' recipients stands.
struct Recipients {
    /// Active, with a verified e-mail address: the mailbox.
    active: Vec<Person>,
    /// Reserved: paper.
    reserved: Person,
    /// An external mailbox: forwarding.
    external: Person,
}

async fn batch_recipients(t: &TestDb) -> Recipients {
    let mut active = Vec::new();
    for n in 1..=4 {
        active.push(person_with_email(t, n, &format!("p{n}@example.no"), T0).await);
    }
    let reserved = person_with_email(t, 5, "reserved@example.no", T0).await;
    t.db.set_reservation(&manage(reserved.id), true, T0)
        .await
        .unwrap();
    let external = person_with_email(t, 6, "external@example.no", T0).await;
    t.db.set_mailbox(
        &manage(external.id),
        Mailbox::external("Digipost").unwrap(),
        T0,
    )
    .await
    .unwrap();
    Recipients {
        active,
        reserved,
        external,
    }
}

/// The letter for message id number `m` of the batch tests: to an active person for most,
/// to the reserved person for every 10th, to the external mailbox for every 10th + 1, to a
/// national id nobody has for every 10th + 2.
fn batch_letter(to: &Recipients, m: usize) -> NewLetter {
    let mut letter = letter_to(
        &to.active[m % 4],
        &format!("batch-{m}"),
        &format!("Brev {m}"),
    );
    match m % 10 {
        0 => letter.recipient = to.reserved.national_id.clone(),
        1 => letter.recipient = to.external.national_id.clone(),
        2 => letter.recipient = synthetic_national_id(900),
        // Notice by SMS only, to people with no mobile: `notification_failed` at once.
        3 => letter.notification = wish(Some(&["sms"]), None),
        _ => {}
    }
    letter
}

/// 200 deliveries at once, every message id four times, with 100 agency token ids among them
/// (every `jti` four times): each message id is stored once and every call for it gets the
/// same letter, exactly one of them not `replayed`; exactly one call per `jti` is accepted.
/// On SQLite they go through the group writer in few batches and none falls back to one call
/// at a time.
async fn post_concurrent_deliveries_and_tokens_share_batches(t: &TestDb) {
    let to = batch_recipients(t).await;
    let nav = AgencyId::parse("nav").unwrap();
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(5);
    let before = t.db.group_commit_stats();
    let mut deliveries = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..200 {
        let db = t.db.clone();
        let letter = batch_letter(&to, i % 50);
        deliveries.push((
            i % 50,
            tokio::spawn(
                async move { db.deliver_letter(&deliver_access("nav"), letter, T0).await },
            ),
        ));
        if i % 2 == 0 {
            let db = t.db.clone();
            let nav = nav.clone();
            let jti = format!("jti-{}", (i / 2) % 25);
            tokens.push((
                jti.clone(),
                tokio::spawn(async move { db.remember_agency_token(&nav, &jti, expires_at).await }),
            ));
        }
    }
    let mut by_message: std::collections::HashMap<usize, Vec<borgerportal::DeliveryReceipt>> =
        Default::default();
    for (m, task) in deliveries {
        by_message
            .entry(m)
            .or_default()
            .push(task.await.unwrap().unwrap());
    }
    let mut accepted: std::collections::HashMap<String, usize> = Default::default();
    for (jti, task) in tokens {
        *accepted.entry(jti).or_default() += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(accepted.len(), 25);
    assert!(accepted.values().all(|&count| count == 1), "{accepted:?}");
    assert_eq!(count_rows(t, "agency_token_ids").await, 25);

    assert_eq!(by_message.len(), 50);
    for (m, receipts) in &by_message {
        assert_eq!(receipts.len(), 4);
        let first: Vec<_> = receipts.iter().filter(|r| !r.replayed).collect();
        assert_eq!(first.len(), 1, "message {m}: {receipts:?}");
        for receipt in receipts {
            assert_eq!(receipt.letter, first[0].letter, "message {m}");
            assert_eq!(receipt.status, first[0].status, "message {m}");
            assert_eq!(receipt.delivered_at, first[0].delivered_at, "message {m}");
            assert_eq!(receipt.message_id.as_str(), format!("batch-{m}"));
        }
        let want = match m % 10 {
            0 | 2 => DeliveryStatus::ReturnedToPaper,
            1 => DeliveryStatus::Forwarding,
            _ => DeliveryStatus::Delivered,
        };
        assert_eq!(first[0].status, want, "message {m}");
    }
    let letters: HashSet<_> = by_message
        .values()
        .map(|receipts| receipts[0].letter)
        .collect();
    assert_eq!(letters.len(), 50, "a letter per message id");

    // Each stored once, with everything that belongs to it: 35 in mailboxes, 10 on paper, 5
    // forwarded (no receipt yet).
    assert_eq!(count_rows(t, "letters").await, 50);
    assert_eq!(count_rows(t, "letter_attachments").await, 50);
    assert_eq!(count_rows(t, "print_queue").await, 10);
    assert_eq!(count_rows(t, "mailbox_forwarding").await, 5);
    // And the 5 of the 35 whose SMS-only notice no one can get: `notification_failed`.
    let receipts = all_receipts(t, "nav", 50).await;
    let receipt_letters: HashSet<_> = receipts.iter().map(|r| r.letter.unwrap()).collect();
    assert_eq!(receipt_letters.len(), 45);
    let of_kind = |kind: ReceiptKind| receipts.iter().filter(|r| r.kind == kind).count();
    assert_eq!(of_kind(ReceiptKind::Delivered), 35);
    assert_eq!(of_kind(ReceiptKind::NotificationFailed), 5);
    assert!(receipts
        .iter()
        .filter(|r| r.kind == ReceiptKind::NotificationFailed)
        .all(|r| r.message_id.ends_with('3')));
    assert_eq!(messages_of(t, "new_letter").await.len(), 30);
    assert_eq!(count_rows(t, "letter_notifications").await, 30);
    let mut in_mailboxes = 0;
    for person in &to.active {
        let letters = inbox(t, person.id, T0 + Duration::seconds(1)).await;
        let delivered = audit_kinds(t, person.id)
            .await
            .into_iter()
            .filter(|kind| *kind == AuditKind::PostDelivered)
            .count();
        assert_eq!(letters.len(), delivered);
        in_mailboxes += letters.len();
        // The search entry is written with the letter.
        let found =
            t.db.search_letters(
                &read_post(person.id),
                None,
                "brev",
                None,
                100,
                T0 + Duration::seconds(1),
            )
            .await
            .unwrap();
        assert_eq!(found.letters.len(), letters.len());
    }
    assert_eq!(in_mailboxes, 35);
    assert!(inbox(t, to.reserved.id, T0 + Duration::seconds(1))
        .await
        .is_empty());

    // Again, with new message ids among them: the stored ones answer their first letter.
    let mut again = Vec::new();
    for m in 40..60 {
        let db = t.db.clone();
        let letter = batch_letter(&to, m);
        again.push((
            m,
            tokio::spawn(async move {
                db.deliver_letter(&deliver_access("nav"), letter, T0 + Duration::hours(1))
                    .await
            }),
        ));
    }
    for (m, task) in again {
        let receipt = task.await.unwrap().unwrap();
        if m < 50 {
            assert!(receipt.replayed, "message {m}");
            assert_eq!(receipt.letter, by_message[&m][0].letter, "message {m}");
            assert_eq!(receipt.delivered_at, by_message[&m][0].delivered_at);
        } else {
            assert!(!receipt.replayed, "message {m}");
            assert!(!letters.contains(&receipt.letter));
        }
    }
    assert_eq!(count_rows(t, "letters").await, 60);

    if let (Some(before), Some(after)) = (before, t.db.group_commit_stats()) {
        assert_eq!(after.calls - before.calls, 200 + 100 + 20);
        assert!(
            after.batches - before.batches < 50,
            "calls share batches: {before:?} → {after:?}"
        );
        assert_eq!(
            after.one_by_one, before.one_by_one,
            "no batch fell back to one call at a time"
        );
    }
}

/// SQLite only (the group writer): one delivery of a batch fails in the database (a trigger
/// refuses its letter). It gets an error and stores nothing; every other call of the batch
/// (deliveries and token ids) is stored and answered as if it had been alone.
#[tokio::test]
async fn sqlite_batch_with_one_failing_delivery_stores_the_others() {
    let t = TestDb::sqlite().await;
    let to = batch_recipients(&t).await;
    raw_execute(
        &t,
        "CREATE TRIGGER poison BEFORE INSERT ON letters WHEN NEW.title = 'poison' \
         BEGIN SELECT RAISE(ABORT, 'poison'); END",
    )
    .await;
    let nav = AgencyId::parse("nav").unwrap();
    let expires_at = OffsetDateTime::now_utc() + Duration::minutes(5);
    let before = t.db.group_commit_stats().unwrap();
    let mut deliveries = Vec::new();
    let mut tokens = Vec::new();
    for m in 0..30 {
        let db = t.db.clone();
        let mut letter = batch_letter(&to, m);
        if m == 13 {
            letter.title = "poison".to_owned();
        }
        // The same message id twice: the second answers the first's letter.
        let twice = (m == 14).then(|| letter.clone());
        deliveries.push((
            m,
            tokio::spawn(
                async move { db.deliver_letter(&deliver_access("nav"), letter, T0).await },
            ),
        ));
        if let Some(letter) = twice {
            let db = t.db.clone();
            deliveries.push((
                m,
                tokio::spawn(
                    async move { db.deliver_letter(&deliver_access("nav"), letter, T0).await },
                ),
            ));
        }
        let db = t.db.clone();
        let nav = nav.clone();
        let jti = format!("jti-{}", m % 20);
        tokens.push(tokio::spawn(async move {
            db.remember_agency_token(&nav, &jti, expires_at).await
        }));
    }
    let mut fourteen = Vec::new();
    for (m, task) in deliveries {
        let result = task.await.unwrap();
        if m == 13 {
            let error = result.unwrap_err();
            assert!(matches!(error, PostError::Store(_)), "{error:?}");
        } else {
            let receipt = result.unwrap_or_else(|error| panic!("message {m}: {error:?}"));
            if m == 14 {
                fourteen.push(receipt);
            }
        }
    }
    assert_eq!(fourteen.len(), 2);
    assert_eq!(fourteen[0].letter, fourteen[1].letter);
    assert_eq!(fourteen.iter().filter(|r| r.replayed).count(), 1);
    let mut accepted = 0;
    for task in tokens {
        accepted += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(accepted, 20, "one accepted per jti");

    assert_eq!(count_rows(&t, "letters").await, 29);
    assert_eq!(count_rows(&t, "letter_attachments").await, 29);
    assert!(raw_text(
        &t,
        "SELECT id FROM letters WHERE agency_message_id = 'batch-13'",
        ""
    )
    .await
    .is_empty());
    // 29 letters, 3 forwarded (no receipt yet), and batch-3's and batch-23's
    // `notification_failed` (batch-13 was refused, its receipts too).
    let receipts = all_receipts(&t, "nav", 28).await;
    assert!(receipts.iter().all(|r| r.message_id != "batch-13"));
    assert_eq!(
        receipts
            .iter()
            .filter(|r| r.kind == ReceiptKind::NotificationFailed)
            .count(),
        2
    );
    let after = t.db.group_commit_stats().unwrap();
    assert!(
        after.one_by_one > before.one_by_one,
        "the failing batch ran one call at a time: {after:?}"
    );

    // Nothing of the failed call stayed: once the database lets it, it is a new letter.
    raw_execute(&t, "DROP TRIGGER poison").await;
    let mut letter = batch_letter(&to, 13);
    letter.title = "poison".to_owned();
    let receipt =
        t.db.deliver_letter(&deliver_access("nav"), letter, T0 + Duration::minutes(1))
            .await
            .unwrap();
    assert!(!receipt.replayed);
    assert_eq!(count_rows(&t, "letters").await, 30);
    t.finish().await;
}

// ---------------------------------------------------------------------------------------------
// Each test above, once per backend (`on_both_backends!` is in `common/mod.rs`).

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
    session_is_created_and_found_by_its_cookie,
    a_completed_login_registers_starts_and_records_in_one_unit,
    a_login_that_cannot_finish_leaves_nothing_behind,
    session_table_holds_only_hashes,
    idle_session_expires_and_is_deleted,
    absolute_expiry_ends_even_an_active_session,
    touch_restarts_the_idle_timeout_and_never_goes_back,
    delete_session_ends_only_that_session,
    sessions_end_by_provider_sid_and_subject,
    expired_sessions_are_swept,
    session_needs_a_registered_person,
    login_state_is_taken_once,
    expired_login_state_is_refused_and_swept,
    concurrent_takes_give_the_state_to_exactly_one,
    reused_login_state_is_a_conflict,
    logout_token_is_accepted_once,
    audit_events_round_trip,
    audit_pages_newest_first_across_equal_timestamps,
    audit_page_size_is_capped,
    audit_log_is_scoped_to_the_proofs_subject,
    store_errors_never_show_a_national_id_or_token,
    contact_info_starts_not_registered,
    email_change_is_verified_by_code,
    old_value_stays_in_force_until_the_new_one_is_verified,
    mobile_change_and_notice_to_the_old_number_wait_for_morning,
    five_wrong_codes_kill_the_code,
    codes_expire_after_ten_minutes,
    codes_are_limited_per_minute_and_hour_and_channel,
    confirming_renews_verified_at_and_staleness_follows,
    reservation_mailbox_and_language_are_set_and_audited,
    removing_contact_methods_deletes_the_entry,
    change_audit_and_message_are_written_together_or_not_at_all,
    contact_calls_are_scoped_to_the_proofs_subject,
    outbox_queues_once_per_key_and_claims_only_what_is_due,
    expired_lease_makes_a_message_claimable_again,
    failed_sends_back_off_then_give_up_visibly,
    default_policy_gives_up_after_eight_attempts,
    sms_is_never_sent_in_quiet_hours,
    codes_not_sent_in_time_are_given_up,
    concurrent_workers_never_claim_the_same_message,
    agency_lookup_answers_in_order_and_audits_each_person_once,
    agency_lookup_applies_the_staleness_limit,
    agency_lookup_takes_a_thousand_ids_in_one_batch,
    agency_token_is_accepted_once,
    post_delivery_to_an_active_person_lands_in_the_inbox_and_notifies,
    post_delivery_is_idempotent_also_when_retries_race,
    post_reserved_unregistered_and_unknown_recipients_go_to_print,
    post_refused_letters_store_nothing_but_a_rejected_receipt,
    post_receipts_are_polled_with_a_cursor,
    post_mailbox_pages_newest_first_and_hides_letters_before_their_time,
    post_unread_count_stops_at_its_limit,
    post_newest_unread_letters_are_the_home_pages,
    post_kept_unread_count_follows_every_change,
    post_folders_moves_unread_trash_restore_and_purge,
    post_mailbox_changes_are_audited_in_their_transaction,
    post_notification_wishes_choose_the_channels,
    post_unread_decisions_are_reminded_once_after_seven_days,
    post_reminders_are_queued_once_by_racing_workers,
    post_external_mailbox_letters_are_forwarded_or_returned_to_paper,
    post_other_peoples_letters_are_not_found,
    post_high_letters_need_the_sensitive_proof,
    post_search_finds_sender_title_and_body_in_the_own_mailbox,
    post_demo_letters_are_seeded_once,
    post_concurrent_deliveries_and_tokens_share_batches,
    post_notifications_follow_the_configured_staleness,
);
