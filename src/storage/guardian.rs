//! The guardianship register's statements: guardian -> minor, imported from the population
//! register's extract (`delegation/extract.rs`).

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::delegation::Extract;
use crate::person::{Language, NewPerson, PersonId};

use super::sql::{Ex, Val};
use super::{stored_instant, Database, StoreError};

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GuardianImport {
    /// Persons in the extract (registered if new, names brought up to date otherwise).
    pub persons: usize,
    /// Guardianships the extract lists (new or confirmed).
    pub listed: usize,
    /// Guardianships the portal held that the extract no longer lists, now ended.
    pub ended: u64,
}

/// Guardianships of minors, from the population register.
impl Database {
    /// Imports a complete extract at `now`, in one transaction: every person in it is
    /// registered (a new person gets their country's default language) or has their names
    /// brought up to date; every guardianship it lists is stored (or confirmed, or listed again
    /// after having ended); every guardianship no longer listed is ended. Nothing is stored
    /// about coming of age: that is computed from the minor's birth date on every read.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), persons = extract.persons.len()))]
    pub async fn import_guardians(
        &self,
        extract: &Extract,
        now: OffsetDateTime,
    ) -> Result<GuardianImport, StoreError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let mut ids: HashMap<usize, PersonId> = HashMap::with_capacity(extract.persons.len());
        for (n, person) in extract.persons.iter().enumerate() {
            let new_person = NewPerson::new(
                person.national_id.clone(),
                &person.given_name,
                &person.family_name,
                Language::default_for(person.national_id.country()),
            );
            let stored = super::person::insert(&mut ex, &new_person, now, true).await?;
            ids.insert(n, stored.id);
        }
        let pairs = extract.guardianships();
        for &(guardian, minor) in &pairs {
            let (Some(&guardian), Some(&minor)) = (ids.get(&guardian), ids.get(&minor)) else {
                continue;
            };
            upsert(&mut ex, guardian, minor, now).await?;
        }
        let ended = ex
            .execute(
                "UPDATE guardianships SET ended_at = $1 \
                 WHERE ended_at IS NULL AND confirmed_at < $1",
                &[Val::Time(now)],
            )
            .await?;
        tx.commit().await?;
        let report = GuardianImport {
            persons: extract.persons.len(),
            listed: pairs.len(),
            ended,
        };
        tracing::info!(listed = report.listed, ended, "guardianships imported");
        Ok(report)
    }

    /// Lists one guardianship (or lists it again) at `now`, leaving every other as it is: for
    /// demo data and tests; the population register's route is
    /// [`import_guardians`](Database::import_guardians).
    pub async fn add_guardianship(
        &self,
        guardian: PersonId,
        minor: PersonId,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        upsert(
            &mut self.conn().await?.ex(),
            guardian,
            minor,
            stored_instant(now),
        )
        .await
    }
}

/// New, confirmed, or listed again after having ended.
async fn upsert(
    ex: &mut Ex<'_>,
    guardian: PersonId,
    minor: PersonId,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    ex.execute(
        "INSERT INTO guardianships (guardian_id, minor_id, listed_at, confirmed_at, ended_at) \
         VALUES ($1, $2, $3, $3, NULL) ON CONFLICT (guardian_id, minor_id) \
         DO UPDATE SET confirmed_at = excluded.confirmed_at, ended_at = NULL",
        &[
            Val::Uuid(guardian.as_uuid()),
            Val::Uuid(minor.as_uuid()),
            Val::Time(now),
        ],
    )
    .await
    .map(drop)
}
