//! Demo persons for development and the built-in test eID.
//!
//! The Norwegian numbers are synthetic (month + 80, as Tenor/TestID numbers) with correct check
//! digits, so they can never be a real person's. Denmark has no synthetic marker: the CPR
//! numbers here fail the old mod-11 check, which every number issued before 2007 passes, so at
//! least the two adults' numbers cannot be real. The set covers what the flows need: an adult
//! in each country, a minor in each (guardianship), an elderly person in each (delegation to a
//! grown child), a D-number holder, and each of the portal's languages.

use crate::identity::NationalId;
use crate::person::{Language, NewPerson};
use crate::storage::{Conflict, Database, StoreError};

/// (national id, given name, family name, language).
const DEMO_PERSONS: [(&str, &str, &str, Language); 8] = [
    // Born 1985-04-17: an adult with bokmål.
    ("17848512397", "Ingrid", "Solberg", Language::Nb),
    // Born 1941-11-02: elderly, writes nynorsk.
    ("02914141284", "Torbjørn", "Aasen", Language::Nn),
    // Born 2018-06-30: a minor; her guardians act for her.
    ("30861851245", "Sigrid", "Lunde", Language::Nb),
    // Born 2001-09-05: a young adult with nynorsk.
    ("05890163469", "Aksel", "Brekke", Language::Nn),
    // Born 1990-02-28: a synthetic D-number (day + 40), working in Norway, prefers English.
    ("68829027112", "Anna", "Lindqvist", Language::En),
    // Born 1972-09-23: an adult in Denmark.
    ("230972-1846", "Mette", "Kjærgaard Nielsen", Language::Da),
    // Born 1938-02-14: elderly, in Denmark.
    ("140238-2517", "Søren", "Østergaard", Language::Da),
    // Born 2019-12-05: a minor in Denmark.
    ("051219-5128", "Freja", "Holm", Language::Da),
];

/// The demo persons, in a fixed order. Numbers that do not parse are left out (a test checks
/// that none is), so this cannot fail at run time.
pub fn demo_persons() -> Vec<NewPerson> {
    DEMO_PERSONS
        .iter()
        .filter_map(|(number, given_name, family_name, language)| {
            let national_id = NationalId::parse(number).ok()?;
            Some(NewPerson::new(
                national_id,
                given_name,
                family_name,
                *language,
            ))
        })
        .collect()
}

/// The demo guardianships, by index into the demo persons: (guardian, minor). Sigrid (Norway)
/// has two guardians, Ingrid and Aksel; Freja (Denmark) has one, Mette.
const DEMO_GUARDIANS: [(usize, usize); 3] = [(0, 2), (3, 2), (5, 7)];

/// Registers the demo persons that are missing and returns how many it added; lists the demo
/// guardianships (a minor with two guardians and one with one), again at every start.
///
/// Runs at every start (when demo data is switched on): persons already there are left as they
/// are, names and chosen language included, and a second instance seeding at the same time is
/// harmless (its conflicts count as "already there").
#[tracing::instrument(skip_all)]
pub async fn seed_demo_data(register: &Database) -> Result<usize, StoreError> {
    let mut added = 0;
    for new_person in demo_persons() {
        if register
            .find_person_by_national_id(&new_person.national_id)
            .await?
            .is_some()
        {
            continue;
        }
        match register.create_person(new_person).await {
            Ok(person) => {
                tracing::debug!(person.id = %person.id, "demo person added");
                added += 1;
            }
            Err(StoreError::Conflict(Conflict::NationalIdTaken)) => {}
            Err(error) => return Err(error),
        }
    }
    let persons = demo_persons();
    for (guardian, minor) in DEMO_GUARDIANS {
        let (Some(guardian), Some(minor)) = (persons.get(guardian), persons.get(minor)) else {
            continue;
        };
        let guardian = register
            .find_person_by_national_id(&guardian.national_id)
            .await?;
        let minor = register
            .find_person_by_national_id(&minor.national_id)
            .await?;
        if let (Some(guardian), Some(minor)) = (guardian, minor) {
            register
                .add_guardianship(guardian.id, minor.id, time::OffsetDateTime::now_utc())
                .await?;
        }
    }
    tracing::info!(added, "demo persons seeded");
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{Country, NationalIdKind};
    use std::collections::HashSet;
    use time::macros::date;

    #[test]
    fn every_demo_number_parses() {
        for (number, ..) in DEMO_PERSONS {
            let parsed = NationalId::parse(number);
            assert!(
                parsed.is_ok(),
                "demo number {number} does not parse: {parsed:?}"
            );
        }
        assert_eq!(demo_persons().len(), DEMO_PERSONS.len());
    }

    #[test]
    fn norwegian_demo_numbers_are_synthetic() {
        for person in demo_persons() {
            if person.national_id.country() == Country::Norway {
                assert!(person.national_id.is_synthetic(), "{}", person.full_name());
            }
        }
    }

    #[test]
    fn demo_set_covers_the_flows() {
        let persons = demo_persons();
        // A fixed date keeps this test stable (the demo minors come of age in 2036 and 2037).
        let today = date!(2026 - 01 - 01);
        let age = |person: &NewPerson| {
            let born = person.national_id.birth_date();
            let had_birthday = (today.month(), today.day()) >= (born.month(), born.day());
            today.year() - born.year() - if had_birthday { 0 } else { 1 }
        };
        for country in [Country::Norway, Country::Denmark] {
            let here: Vec<_> = persons
                .iter()
                .filter(|person| person.national_id.country() == country)
                .collect();
            assert!(
                here.iter().any(|person| age(person) < 18),
                "a minor in {country:?}"
            );
            assert!(
                here.iter().any(|person| age(person) >= 80),
                "an elderly person in {country:?}"
            );
            assert!(
                here.iter().any(|person| (18..80).contains(&age(person))),
                "an adult in {country:?}"
            );
        }
        assert!(persons
            .iter()
            .any(|person| person.national_id.kind() == NationalIdKind::DNumber));
        let languages: HashSet<_> = persons.iter().map(|person| person.language).collect();
        assert_eq!(languages.len(), Language::ALL.len());
        let numbers: HashSet<_> = persons
            .iter()
            .map(|person| person.national_id.expose())
            .collect();
        assert_eq!(numbers.len(), persons.len(), "demo numbers are unique");
    }

    #[test]
    fn demo_guardians_are_adults_and_their_minors_minors() {
        let persons = demo_persons();
        let today = date!(2026 - 01 - 01);
        for (guardian, minor) in DEMO_GUARDIANS {
            let age =
                |n: usize| crate::delegation::age_on(persons[n].national_id.birth_date(), today);
            assert!(age(guardian) >= 18 && age(minor) < 18);
        }
    }

    #[test]
    fn danish_demo_numbers_fail_the_old_mod11_check() {
        const WEIGHTS: [u32; 10] = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1];
        for person in demo_persons() {
            if person.national_id.country() == Country::Denmark {
                let sum: u32 = person
                    .national_id
                    .expose()
                    .bytes()
                    .zip(WEIGHTS)
                    .map(|(digit, weight)| u32::from(digit - b'0') * weight)
                    .sum();
                assert_ne!(sum % 11, 0, "{}", person.full_name());
            }
        }
    }
}
