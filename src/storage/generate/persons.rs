//! The generator's persons: Nordic names, valid synthetic national ids, and their rows
//! (persons and contact entries).

use std::collections::HashSet;

use rand::rngs::StdRng;
use rand::Rng as _;
use time::{Date, Duration, Month, OffsetDateTime};

use super::super::sql::encode::encode_timestamp;
use super::super::sql::Val;
use super::super::StoreError;
use super::{GenPerson, GenerateError, GeneratePlan, Sink, HISTORY_DAYS, ROWS_PER_INSERT};
use crate::contact::{EmailAddress, MobileNumber};
use crate::identity::{Country, NationalId};
use crate::person::{Language, PersonId};

pub(super) const NORWEGIAN_GIVEN: [&str; 24] = [
    "Ola", "Kari", "Nora", "Emma", "Jakob", "Emil", "Sofie", "Lukas", "Ingrid", "Henrik", "Sara",
    "Magnus", "Ida", "Filip", "Maja", "Oskar", "Thea", "Aksel", "Hedda", "Sander", "Åse", "Bjørn",
    "Ragnhild", "Øystein",
];
pub(super) const NORWEGIAN_FAMILY: [&str; 20] = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
];
pub(super) const DANISH_GIVEN: [&str; 20] = [
    "Mette", "Lars", "Anne", "Jens", "Kirsten", "Peter", "Hanne", "Michael", "Susanne", "Søren",
    "Freja", "William", "Ida", "Noah", "Clara", "Oscar", "Alma", "Karl", "Ella", "Mads",
];
pub(super) const DANISH_FAMILY: [&str; 16] = [
    "Nielsen",
    "Jensen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Poulsen",
];

pub(super) fn pick<T: Copy>(rng: &mut StdRng, items: &[T]) -> T {
    items[rng.gen_range(0..items.len())]
}

pub(super) fn random_birth_date(rng: &mut StdRng) -> Date {
    let year = rng.gen_range(1935..=2007);
    let month = Month::try_from(rng.gen_range(1u8..=12)).unwrap_or(Month::January);
    let day = rng.gen_range(1u8..=28);
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

/// A synthetic Norwegian fødselsnummer or a Danish CPR number not yet taken.
pub(super) fn new_national_id(
    rng: &mut StdRng,
    country: Country,
    taken: &mut HashSet<String>,
) -> Result<NationalId, GenerateError> {
    for _ in 0..10_000 {
        let birth = random_birth_date(rng);
        let made = match country {
            Country::Norway => {
                let individual = if birth.year() >= 2000 {
                    rng.gen_range(500..=999)
                } else {
                    rng.gen_range(0..=499)
                };
                NationalId::new_synthetic_norwegian(birth, individual).ok()
            }
            Country::Denmark => {
                let serial: u16 = if birth.year() >= 2000 {
                    rng.gen_range(4000..=4999)
                } else {
                    rng.gen_range(0..=3999)
                };
                let text = format!(
                    "{:02}{:02}{:02}{:04}",
                    birth.day(),
                    u8::from(birth.month()),
                    birth.year().rem_euclid(100),
                    serial
                );
                NationalId::parse_danish(&text)
                    .ok()
                    .filter(|id| id.birth_date() == birth)
            }
        };
        if let Some(id) = made {
            if taken.insert(id.expose().to_owned()) {
                return Ok(id);
            }
        }
    }
    Err(GenerateError::Plan("ran out of national ids"))
}

pub(super) fn make_persons(
    rng: &mut StdRng,
    plan: &GeneratePlan,
    mut taken: HashSet<String>,
) -> Result<Vec<GenPerson>, GenerateError> {
    let mut persons = Vec::with_capacity(plan.persons as usize);
    for index in 0..plan.persons as usize {
        let named = index < plan.named.len();
        let country = if named || rng.gen_bool(0.7) {
            Country::Norway
        } else {
            Country::Denmark
        };
        let national_id = new_national_id(rng, country, &mut taken)?;
        let (given_name, family_name) = match country {
            Country::Norway => (pick(rng, &NORWEGIAN_GIVEN), pick(rng, &NORWEGIAN_FAMILY)),
            Country::Denmark => (pick(rng, &DANISH_GIVEN), pick(rng, &DANISH_FAMILY)),
        };
        let language = match (country, rng.gen_range(0..100)) {
            (_, 0..=2) if !named => Language::En,
            (Country::Norway, 3..=12) if !named => Language::Nn,
            (Country::Norway, _) => Language::Nb,
            (Country::Denmark, _) => Language::Da,
        };
        let id = PersonId::new();
        persons.push(GenPerson {
            owner: format!("p{}", id.as_uuid().simple()),
            id_text: id.as_uuid().hyphenated().to_string(),
            id,
            national_id,
            given_name,
            family_name,
            language,
            digital: true,
        });
    }
    Ok(persons)
}

pub(super) fn ts(at: OffsetDateTime) -> Result<String, StoreError> {
    encode_timestamp(at)
}

pub(super) async fn write_persons(
    conn: &mut Sink,
    rng: &mut StdRng,
    persons: &mut [GenPerson],
    named: usize,
    now: OffsetDateTime,
) -> Result<(), GenerateError> {
    let row = if conn.is_sqlite() {
        "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {6})"
    } else {
        "({0}::uuid, {1}, {2}, {3}, {4}::date, {5}, {6}::timestamptz, {6}::timestamptz)"
    };
    conn.exec("BEGIN").await?;
    for chunk in persons.chunks(ROWS_PER_INSERT) {
        let mut texts = Vec::with_capacity(chunk.len());
        for person in chunk {
            let created = ts(now - Duration::days(rng.gen_range(30..HISTORY_DAYS + 400)))?;
            let birth = person.national_id.birth_date();
            let birth = format!(
                "{:04}-{:02}-{:02}",
                birth.year(),
                u8::from(birth.month()),
                birth.day()
            );
            texts.push((birth, created));
        }
        let mut values = Vec::with_capacity(chunk.len() * 7);
        for (person, (birth, created)) in chunk.iter().zip(&texts) {
            values.extend([
                Val::Text(&person.id_text),
                Val::Text(person.national_id.expose()),
                Val::Text(person.given_name),
                Val::Text(person.family_name),
                Val::Text(birth),
                Val::Text(person.language.code()),
                Val::Text(created),
            ]);
        }
        conn.insert(
            "INSERT INTO persons (id, national_id, given_name, family_name, birth_date, \
             language, created_at, updated_at)",
            row,
            chunk.len(),
            &values,
        )
        .await?;
    }
    conn.exec("COMMIT").await?;

    // Contact entries: most active with e-mail and mobile of varying age, a few reserved,
    // deleted or never registered (no row).
    let mut rows = Vec::new();
    for (index, person) in persons.iter_mut().enumerate() {
        let roll = rng.gen_range(0..1000);
        if index >= named && roll < 10 {
            person.digital = false; // not registered: no contact row, paper
            continue;
        }
        let (status, reserved) = match roll {
            _ if index < named => ("active", false),
            10..=14 => ("deleted", false),
            15..=34 => ("active", true),
            _ => ("active", false),
        };
        person.digital = status == "active" && !reserved;
        let updated = now - Duration::days(rng.gen_range(1..900));
        let verified = updated + Duration::minutes(rng.gen_range(1..30));
        let domain = match person.national_id.country() {
            Country::Norway => "eksempel.no",
            Country::Denmark => "eksempel.dk",
        };
        let email = rng.gen_bool(0.8).then(|| {
            EmailAddress::parse(&format!(
                "{}.{}{}@{domain}",
                person.given_name.to_lowercase(),
                person.family_name.to_lowercase(),
                index
            ))
            .ok()
        });
        let mobile = rng.gen_bool(0.85).then(|| {
            let (prefix, country) = match person.national_id.country() {
                Country::Norway => ("+479", Country::Norway),
                Country::Denmark => ("+452", Country::Denmark),
            };
            MobileNumber::parse(
                &format!("{prefix}{:07}", rng.gen_range(0..10_000_000)),
                country,
            )
            .ok()
        });
        rows.push(ContactRow {
            person: person.id_text.clone(),
            status,
            email: email.flatten().map(|e| e.as_str().to_owned()),
            mobile: mobile.flatten().map(|m| m.as_str().to_owned()),
            reserved,
            updated: ts(updated)?,
            verified: ts(verified)?,
        });
    }
    let row = if conn.is_sqlite() {
        "({0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}, {9}, 'portal', NULL, {10}, {10})"
    } else {
        "({0}::uuid, {1}, {2}, {3}::timestamptz, {4}::timestamptz, {5}, {6}::timestamptz, \
         {7}::timestamptz, {8}, {9}::timestamptz, 'portal', NULL, {10}::timestamptz, \
         {10}::timestamptz)"
    };
    conn.exec("BEGIN").await?;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut values = Vec::with_capacity(chunk.len() * 11);
        for c in chunk {
            let email_at = c.email.is_some();
            let mobile_at = c.mobile.is_some();
            values.extend([
                Val::Text(&c.person),
                Val::Text(c.status),
                Val::OptText(c.email.as_deref()),
                Val::OptText(email_at.then_some(c.updated.as_str())),
                Val::OptText(email_at.then_some(c.verified.as_str())),
                Val::OptText(c.mobile.as_deref()),
                Val::OptText(mobile_at.then_some(c.updated.as_str())),
                Val::OptText(mobile_at.then_some(c.verified.as_str())),
                Val::Bool(c.reserved),
                Val::OptText(c.reserved.then_some(c.updated.as_str())),
                Val::Text(&c.updated),
            ]);
        }
        conn.insert(
            "INSERT INTO contact_info (person_id, status, email, email_updated_at, \
             email_verified_at, mobile, mobile_updated_at, mobile_verified_at, reserved, \
             reservation_changed_at, mailbox, mailbox_provider, created_at, updated_at)",
            row,
            chunk.len(),
            &values,
        )
        .await?;
    }
    conn.exec("COMMIT").await?;
    Ok(())
}

pub(super) struct ContactRow {
    pub(super) person: String,
    pub(super) status: &'static str,
    pub(super) email: Option<String>,
    pub(super) mobile: Option<String>,
    pub(super) reserved: bool,
    pub(super) updated: String,
    pub(super) verified: String,
}
