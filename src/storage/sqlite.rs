//! The person register on SQLite.
//!
//! Column encodings (see `migrations/README.md`): ids as hyphenated lower-case UUID text,
//! dates as `YYYY-MM-DD`, timestamps as fixed-width RFC 3339 UTC text with microseconds
//! (`2025-01-31T12:00:00.000000Z`) so that text order is time order in `WHERE`/`ORDER BY`.

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::{now_utc_micros, write_error, StoreError};
use crate::identity::NationalId;
use crate::person::{Language, NewPerson, Person, PersonId};

const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

macro_rules! person_columns {
    () => {
        "id, national_id, given_name, family_name, birth_date, language, created_at"
    };
}

pub(super) async fn create_person(
    pool: &SqlitePool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let now = encode_timestamp(now_utc_micros())?;
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) RETURNING ",
        person_columns!()
    ))
    .bind(encode_id(PersonId::new()))
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(encode_date(new_person.national_id.birth_date())?)
    .bind(new_person.language.code())
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn find_person(
    pool: &SqlitePool,
    id: PersonId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE id = ?1"
    ))
    .bind(encode_id(id))
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn find_person_by_national_id(
    pool: &SqlitePool,
    national_id: &NationalId,
) -> Result<Option<Person>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        person_columns!(),
        " FROM persons WHERE national_id = ?1"
    ))
    .bind(national_id.expose())
    .fetch_optional(pool)
    .await
    .map_err(StoreError::from_query)?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn upsert_person(
    pool: &SqlitePool,
    new_person: &NewPerson,
) -> Result<Person, StoreError> {
    let now = encode_timestamp(now_utc_micros())?;
    let row = sqlx::query(concat!(
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) \
         ON CONFLICT (national_id) DO UPDATE SET given_name = excluded.given_name, \
         family_name = excluded.family_name, updated_at = excluded.updated_at RETURNING ",
        person_columns!()
    ))
    .bind(encode_id(PersonId::new()))
    .bind(new_person.national_id.expose())
    .bind(&new_person.given_name)
    .bind(&new_person.family_name)
    .bind(encode_date(new_person.national_id.birth_date())?)
    .bind(new_person.language.code())
    .bind(now)
    .fetch_one(pool)
    .await
    .map_err(write_error)?;
    person_from_row(&row)
}

pub(super) async fn count_persons(pool: &SqlitePool) -> Result<i64, StoreError> {
    sqlx::query_scalar("SELECT COUNT(*) FROM persons")
        .fetch_one(pool)
        .await
        .map_err(StoreError::from_query)
}

pub(super) async fn list_persons(
    pool: &SqlitePool,
    fetch: i64,
    after: Option<PersonId>,
) -> Result<Vec<Person>, StoreError> {
    let rows = match after {
        None => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons ORDER BY id LIMIT ?1"
            ))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
        Some(after) => {
            sqlx::query(concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons WHERE id > ?1 ORDER BY id LIMIT ?2"
            ))
            .bind(encode_id(after))
            .bind(fetch)
            .fetch_all(pool)
            .await
        }
    }
    .map_err(StoreError::from_query)?;
    rows.iter().map(person_from_row).collect()
}

fn person_from_row(row: &SqliteRow) -> Result<Person, StoreError> {
    let id: String = row.try_get("id").map_err(StoreError::from_query)?;
    let national_id: String = row.try_get("national_id").map_err(StoreError::from_query)?;
    let birth_date: String = row.try_get("birth_date").map_err(StoreError::from_query)?;
    let language: String = row.try_get("language").map_err(StoreError::from_query)?;
    let created_at: String = row.try_get("created_at").map_err(StoreError::from_query)?;
    Ok(Person {
        id: id
            .parse()
            .map_err(|_| StoreError::Corrupt { what: "person.id" })?,
        national_id: NationalId::parse(&national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.try_get("given_name").map_err(StoreError::from_query)?,
        family_name: row.try_get("family_name").map_err(StoreError::from_query)?,
        birth_date: Date::parse(&birth_date, DATE_FORMAT).map_err(|_| StoreError::Corrupt {
            what: "person.birth_date",
        })?,
        language: Language::from_code(&language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at: decode_timestamp(&created_at).ok_or(StoreError::Corrupt {
            what: "person.created_at",
        })?,
    })
}

fn encode_id(id: PersonId) -> String {
    id.as_uuid().hyphenated().to_string()
}

fn encode_date(date: Date) -> Result<String, StoreError> {
    date.format(DATE_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "date" })
}

/// Fixed-width UTC text, so that comparing the text compares the instants.
pub(super) fn encode_timestamp(at: OffsetDateTime) -> Result<String, StoreError> {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "timestamp" })
}

pub(super) fn decode_timestamp(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text, TIMESTAMP_FORMAT)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn timestamps_are_fixed_width_utc_and_round_trip() {
        let at = datetime!(2025-03-01 13:04:05.000100 +01:00);
        let text = encode_timestamp(at).unwrap();
        assert_eq!(text, "2025-03-01T12:04:05.000100Z");
        assert_eq!(decode_timestamp(&text), Some(at));
        let later = encode_timestamp(datetime!(2025-03-01 12:04:05.1 UTC)).unwrap();
        assert!(later > text, "text order is time order");
    }
}
