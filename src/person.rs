//! The person register's model: who the portal knows, by an internal [`PersonId`] so that the
//! national identity number stays in one table and out of URLs, sessions and logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::identity::{Country, NationalId};

/// The portal's own id for a person. Not secret, stable for life, and the only way other
/// tables (post, delegations, audit) refer to a person.
///
/// New ids are UUID version 7 (time-ordered), so that index pages fill in order and a listing
/// by id comes out in about the order people were registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonId(Uuid);

impl PersonId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        PersonId(Uuid::now_v7())
    }

    /// Wraps an id read from storage or a trusted token.
    pub fn from_uuid(id: Uuid) -> Self {
        PersonId(id)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for PersonId {
    fn default() -> Self {
        PersonId::new()
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for PersonId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(PersonId)
    }
}

/// The language a person wants the portal, letters and notifications in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Norwegian bokmål.
    Nb,
    /// Norwegian nynorsk: the language act gives it the same standing as bokmål.
    Nn,
    /// Danish.
    Da,
    /// English.
    En,
}

impl Language {
    /// Every language the portal ships, in the order a language picker shows them.
    pub const ALL: [Language; 4] = [Language::Nb, Language::Nn, Language::Da, Language::En];

    /// BCP 47 code, as stored and as used by the translation files: `nb`, `nn`, `da`, `en`.
    pub fn code(self) -> &'static str {
        match self {
            Language::Nb => "nb",
            Language::Nn => "nn",
            Language::Da => "da",
            Language::En => "en",
        }
    }

    /// The language for a code from [`Language::code`]; `None` for anything else.
    pub fn from_code(code: &str) -> Option<Language> {
        Language::ALL
            .into_iter()
            .find(|language| language.code() == code)
    }

    /// The language to start with for someone registered in `country`, until they choose.
    pub fn default_for(country: Country) -> Language {
        match country {
            Country::Norway => Language::Nb,
            Country::Denmark => Language::Da,
        }
    }
}

/// A person in the register.
///
/// `Debug` shows only the id, the masked national id's country, the language and when the person
/// was registered: names and birth dates are personal data and have no place in logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Person {
    /// The portal's id for this person.
    pub id: PersonId,
    /// The national identity number the person logs in with.
    pub national_id: NationalId,
    /// Given name(s), as the eID or the national register gave them.
    pub given_name: String,
    /// Family name. May be empty: some people have only one name.
    pub family_name: String,
    /// Birth date, from the national identity number; kept in its own column so that age
    /// rules (guardianship of minors, 15+ for Danish fuldmagt) can be queried.
    pub birth_date: Date,
    /// The language the person chose (or the default for their country).
    pub language: Language,
    /// When the person was first registered in the portal (UTC).
    pub created_at: OffsetDateTime,
}

impl Person {
    /// Given and family name as one line, for greetings and lists.
    pub fn full_name(&self) -> String {
        join_names(&self.given_name, &self.family_name)
    }
}

impl fmt::Debug for Person {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Person")
            .field("id", &self.id)
            .field("national_id", &self.national_id)
            .field("language", &self.language)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// What is needed to register a person: the birth date comes from the national id, the id and
/// timestamps from the register.
#[derive(Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// The national identity number the person logs in with.
    pub national_id: NationalId,
    /// Given name(s).
    pub given_name: String,
    /// Family name (may be empty).
    pub family_name: String,
    /// The language to start with.
    pub language: Language,
}

impl NewPerson {
    /// A new person with names trimmed of surrounding white space (eID providers and paper
    /// forms both send stray spaces).
    pub fn new(
        national_id: NationalId,
        given_name: impl AsRef<str>,
        family_name: impl AsRef<str>,
        language: Language,
    ) -> Self {
        NewPerson {
            national_id,
            given_name: given_name.as_ref().trim().to_owned(),
            family_name: family_name.as_ref().trim().to_owned(),
            language,
        }
    }

    /// Given and family name as one line.
    pub fn full_name(&self) -> String {
        join_names(&self.given_name, &self.family_name)
    }
}

impl fmt::Debug for NewPerson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewPerson")
            .field("national_id", &self.national_id)
            .field("language", &self.language)
            .finish_non_exhaustive()
    }
}

/// Given and family name as one line (either may be empty).
pub(crate) fn join_names(given_name: &str, family_name: &str) -> String {
    match (given_name.is_empty(), family_name.is_empty()) {
        (false, false) => format!("{given_name} {family_name}"),
        (false, true) => given_name.to_owned(),
        _ => family_name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_codes_round_trip() {
        for language in Language::ALL {
            assert_eq!(Language::from_code(language.code()), Some(language));
        }
        assert_eq!(Language::from_code("se"), None);
        assert_eq!(Language::from_code("NB"), None);
    }

    #[test]
    fn person_ids_are_time_ordered_and_parse_back() {
        let first = PersonId::new();
        let second = PersonId::new();
        assert!(first < second);
        assert_eq!(first.to_string().parse::<PersonId>().unwrap(), first);
    }

    #[test]
    fn debug_hides_names_and_number() {
        let national_id = NationalId::parse("17848512397").unwrap();
        let new_person = NewPerson::new(national_id, " Ingrid ", "Solberg ", Language::Nb);
        assert_eq!(new_person.given_name, "Ingrid");
        assert_eq!(new_person.full_name(), "Ingrid Solberg");
        let debug = format!("{new_person:?}");
        assert!(!debug.contains("Ingrid"), "{debug}");
        assert!(!debug.contains("17848512397"), "{debug}");
        assert!(!debug.contains("12397"), "{debug}");
    }
}
