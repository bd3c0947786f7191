//! The person register's statements: who the portal knows.

use crate::identity::NationalId;
use crate::person::{Language, NewPerson, Person, PersonId};

use super::sql::{Ex, Row, Val};
use super::{now_utc_micros, Database, StoreError, MAX_PAGE_SIZE};

/// One page of persons, in id order (about the order they were registered).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPage {
    /// The persons on this page.
    pub persons: Vec<Person>,
    /// Pass as `after` to get the next page; `None` on the last page.
    pub next_after: Option<PersonId>,
}

/// The person register: who the portal knows.
impl Database {
    /// Registers a new person with a fresh id.
    ///
    /// Fails with [`Conflict::NationalIdTaken`](crate::error::Conflict::NationalIdTaken) if the national id is already registered.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn create_person(&self, new_person: NewPerson) -> Result<Person, StoreError> {
        let person = insert(
            &mut self.conn().await?.ex(),
            &new_person,
            now_utc_micros(),
            false,
        )
        .await?;
        tracing::debug!(person.id = %person.id, "person registered");
        Ok(person)
    }

    /// The person with this id, if registered.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %id))]
    pub async fn find_person(&self, id: PersonId) -> Result<Option<Person>, StoreError> {
        find(&mut self.quick_read().await?.ex(), id).await
    }

    /// The person with this national id, if registered.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn find_person_by_national_id(
        &self,
        national_id: &NationalId,
    ) -> Result<Option<Person>, StoreError> {
        find_by_national_id(&mut self.conn().await?.ex(), national_id).await
    }

    /// At login: registers the person if new, otherwise updates their names to what the eID
    /// says now (names change at marriage, and the register should follow). The stored
    /// language is kept: it is the person's own choice in the portal and wins over the
    /// default. One atomic statement, so two logins at once cannot make two persons.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn upsert_person_by_national_id(
        &self,
        new_person: NewPerson,
    ) -> Result<Person, StoreError> {
        let person = insert(
            &mut self.conn().await?.ex(),
            &new_person,
            now_utc_micros(),
            true,
        )
        .await?;
        tracing::debug!(person.id = %person.id, "person registered or updated at login");
        Ok(person)
    }

    /// How many persons are registered.
    pub async fn count_persons(&self) -> Result<u64, StoreError> {
        let count = count_rows(&mut self.conn().await?.ex()).await?;
        u64::try_from(count).map_err(|_| StoreError::Corrupt {
            what: "person count",
        })
    }

    /// Up to `limit` persons (clamped to 1..=[`MAX_PAGE_SIZE`]) with ids after `after`, in id
    /// order. Keyset paging: pages stay correct and fast while persons are added.
    pub async fn list_persons(
        &self,
        limit: u32,
        after: Option<PersonId>,
    ) -> Result<PersonPage, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        // One row more than asked tells whether there is a next page.
        let fetch = i64::from(limit) + 1;
        let mut persons = list(&mut self.conn().await?.ex(), fetch, after).await?;
        let has_more = persons.len() > limit as usize;
        persons.truncate(limit as usize);
        let next_after = if has_more {
            persons.last().map(|person| person.id)
        } else {
            None
        };
        Ok(PersonPage {
            persons,
            next_after,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Statements

/// The columns a [`Person`] is read from.
macro_rules! person_columns {
    () => {
        "id, national_id, given_name, family_name, birth_date, language, created_at"
    };
}

/// A new person's row, its values in the order of [`new_person_values`].
macro_rules! insert_person {
    () => {
        "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, language, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7)"
    };
}

/// A new person's values, with a fresh id, registered at `now`.
fn new_person_values(new_person: &NewPerson, now: time::OffsetDateTime) -> [Val<'_>; 7] {
    [
        Val::Uuid(PersonId::new().as_uuid()),
        Val::Text(new_person.national_id.expose()),
        Val::Text(&new_person.given_name),
        Val::Text(&new_person.family_name),
        Val::Date(new_person.national_id.birth_date()),
        Val::Text(new_person.language.code()),
        Val::Time(now),
    ]
}

/// The new person's row, or (`upsert`) the existing one with its names brought up to date.
pub(super) async fn insert(
    ex: &mut Ex<'_>,
    new_person: &NewPerson,
    now: time::OffsetDateTime,
    upsert: bool,
) -> Result<Person, StoreError> {
    const INSERT: &str = concat!(insert_person!(), " RETURNING ", person_columns!());
    const UPSERT: &str = concat!(
        insert_person!(),
        " ON CONFLICT (national_id) DO UPDATE SET given_name = excluded.given_name, \
         family_name = excluded.family_name, updated_at = excluded.updated_at RETURNING ",
        person_columns!()
    );
    let row = ex
        .fetch_one(
            if upsert { UPSERT } else { INSERT },
            &new_person_values(new_person, now),
        )
        .await?;
    person_from_row(&row)
}

/// The person with this national id as the register has them; registered now (with
/// `new_person`'s names) if new. Two logins at once make one person: the second insert does
/// nothing and both read the same row.
pub(super) async fn insert_or_keep(
    ex: &mut Ex<'_>,
    new_person: &NewPerson,
    now: time::OffsetDateTime,
) -> Result<Person, StoreError> {
    ex.execute(
        concat!(insert_person!(), " ON CONFLICT (national_id) DO NOTHING"),
        &new_person_values(new_person, now),
    )
    .await?;
    find_by_national_id(ex, &new_person.national_id)
        .await?
        .ok_or(StoreError::Corrupt {
            what: "persons.national_id",
        })
}

/// The person with this id.
pub(super) async fn find(ex: &mut Ex<'_>, id: PersonId) -> Result<Option<Person>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!("SELECT ", person_columns!(), " FROM persons WHERE id = $1"),
            &[Val::Uuid(id.as_uuid())],
        )
        .await?;
    row.as_ref().map(person_from_row).transpose()
}

/// The person with this national id.
pub(super) async fn find_by_national_id(
    ex: &mut Ex<'_>,
    national_id: &NationalId,
) -> Result<Option<Person>, StoreError> {
    let row = ex
        .fetch_optional(
            concat!(
                "SELECT ",
                person_columns!(),
                " FROM persons WHERE national_id = $1"
            ),
            &[Val::Text(national_id.expose())],
        )
        .await?;
    row.as_ref().map(person_from_row).transpose()
}

pub(super) async fn count_rows(ex: &mut Ex<'_>) -> Result<i64, StoreError> {
    ex.fetch_one("SELECT COUNT(*) AS persons FROM persons", &[])
        .await?
        .int("persons", "person count")
}

/// Up to `fetch` persons with ids after `after`, in id order.
pub(super) async fn list(
    ex: &mut Ex<'_>,
    fetch: i64,
    after: Option<PersonId>,
) -> Result<Vec<Person>, StoreError> {
    let rows = match after {
        None => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    person_columns!(),
                    " FROM persons ORDER BY id LIMIT $1"
                ),
                &[Val::Int(fetch)],
            )
            .await?
        }
        Some(after) => {
            ex.fetch_all(
                concat!(
                    "SELECT ",
                    person_columns!(),
                    " FROM persons WHERE id > $1 ORDER BY id LIMIT $2"
                ),
                &[Val::Uuid(after.as_uuid()), Val::Int(fetch)],
            )
            .await?
        }
    };
    rows.iter().map(person_from_row).collect()
}

fn person_from_row(row: &Row) -> Result<Person, StoreError> {
    let national_id = row.str("national_id", "person.national_id")?;
    let language = row.str("language", "person.language")?;
    Ok(Person {
        id: PersonId::from_uuid(row.uuid("id", "person.id")?),
        national_id: NationalId::parse(national_id).map_err(|_| StoreError::Corrupt {
            what: "person.national_id",
        })?,
        given_name: row.text("given_name", "person.given_name")?,
        family_name: row.text("family_name", "person.family_name")?,
        birth_date: row.date("birth_date", "person.birth_date")?,
        language: Language::from_code(language).ok_or(StoreError::Corrupt {
            what: "person.language",
        })?,
        created_at: row.time("created_at", "person.created_at")?,
    })
}
