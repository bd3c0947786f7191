//! The person register on PostgreSQL: native `UUID`, `DATE` and `TIMESTAMPTZ` columns.

use sqlx::postgres::{PgPool, PgRow};
use sqlx::Row;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{now_utc_micros, write_error, StoreError};
use crate::identity::NationalId;
use crate::person::{Language, NewPerson, Person, PersonId};

macro_rules! person_columns {
    () => {
        "id, national_id, given_name, family_name, birth_date, language, created_at"
    };
}

pub(super) async fn create_person(
    pool: &PgPool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
        person_columns!()
    ))
    .bind(PersonId::new().as_uuid())
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(new_person.national_id.birth_date())
    .bind(new_person.language.code())
    .bind(now_utc_micros())
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn find_person(pool: &PgPool, id: PersonId) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE id = $1"
    ))
    .bind(id.as_uuid())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn find_person_by_national_id(
    pool: &PgPool,
    national_id: &NationalId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE national_id = $1"
    ))
    .bind(national_id.expose())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn upsert_person(
    pool: &PgPool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT ON CONSTRAINT persons_national_id_unique DO UPDATE \
         SET given_name = excluded.given_name, family_name = excluded.family_name, \
         updated_at = excluded.updated_at RETURNING ",
        person_columns!()
    ))
    .bind(PersonId::new().as_uuid())
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(new_person.national_id.birth_date())
    .bind(new_person.language.code())
    .bind(now_utc_micros())
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn count_persons(pool: &PgPool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(pool)
        .await
        .map_err(StoreError::from_query)
}

pub(super) async fn list_persons(
    pool: &PgPool,
    fetch: i64,
    after: Option<PersonId>,
) -> Result<Vec<Person>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons ORDER BY id LIMIT $1"
            ))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons WHERE id > $1 ORDER BY id LIMIT $2"
            ))
            .bind(after.as_uuid())
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(person_from_row).collect()
}

fn person_from_row(row: &PgRow) -> Result<Person, StoreError> {
    let id: Uuid = row.try_get("id").map_err(StoreError::from_query)?;
    let national_id: String = row.try_get("national_id").map_err(StoreError::from_query)?;
    let birth_date: Date = row.try_get("birth_date").map_err(StoreError::from_query)?;
    let language: String = row.try_get("language").map_err(StoreError::from_query)?;
    let created_at: OffsetDateTime = row.try_get("created_at").map_err(StoreError::from_query)?;
    Ok(Person {
        id: PersonId::from_uuid(id),
        national_id: NationalId::parse(&national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.try_get("given_name").map_err(StoreError::from_query)?,
        family_name: row.try_get("family_name").map_err(StoreError::from_query)?,
        birth_date,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at,
    })
}
