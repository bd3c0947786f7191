//! The rules a new or changed delegation must keep, as pure functions: both parties adults, no
//! delegation to oneself, an end date on every scope and none past the configured maximum, one
//! open request per pair.

use time::Date;

use super::scope::{Scope, ScopeGrant, ServiceScope};
use crate::error::StoreError;
use crate::identity::{Country, NationalId};

/// The rules' settings (the server's `[delegation]` configuration section).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegationRules {
    /// The youngest a giver or holder registered in Norway may be (default 18).
    pub min_age_norway: u8,
    /// The youngest a giver or holder registered in Denmark may be (default 15, as Digital
    /// Fuldmagt).
    pub min_age_denmark: u8,
    /// The longest a scope may run, in years from the day it is granted (default 5).
    pub max_years: u8,
    /// The service scopes agencies defined (none by default).
    pub service_scopes: Vec<ServiceScope>,
}

impl Default for DelegationRules {
    fn default() -> Self {
        DelegationRules {
            min_age_norway: 18,
            min_age_denmark: 15,
            max_years: 5,
            service_scopes: Vec::new(),
        }
    }
}

impl DelegationRules {
    /// The minimum age for a person registered in `country`.
    pub fn min_age(&self, country: Country) -> u8 {
        match country {
            Country::Norway => self.min_age_norway,
            Country::Denmark => self.min_age_denmark,
        }
    }

    /// The latest end date a scope granted on `today` may have.
    pub fn latest_end(&self, today: Date) -> Date {
        add_years(today, i32::from(self.max_years))
    }
}

/// Why a delegation (or a change to one) was refused. The `Display` text is for logs; the UI
/// translates [`code`](DelegationError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DelegationError {
    /// Giver and holder are the same person.
    #[error("a delegation to oneself is not possible")]
    ToOneself,
    /// The giver is younger than the minimum age.
    #[error("the giver is not old enough to give authority")]
    GiverTooYoung,
    /// The holder is younger than the minimum age.
    #[error("the holder is not old enough to hold authority")]
    HolderTooYoung,
    /// No scopes were given.
    #[error("a delegation needs at least one scope")]
    NoScopes,
    /// The same scope was given twice.
    #[error("a scope was given twice")]
    DuplicateScope,
    /// A service scope not in the configuration.
    #[error("unknown service scope")]
    UnknownServiceScope,
    /// An end date before today.
    #[error("an end date has passed")]
    EndDatePassed,
    /// An end date past the configured maximum.
    #[error("an end date is later than the longest allowed")]
    EndDateTooLate,
    /// There is already an open request from this holder to this giver.
    #[error("a request to this person is already waiting")]
    RequestAlreadyOpen,
    /// No such delegation for this person (also: it is someone else's).
    #[error("no such delegation")]
    NotFound,
    /// The delegation is not in a state that allows this (approving an active one, changing a
    /// revoked one, approving a lapsed request).
    #[error("the delegation cannot be changed in its current state")]
    WrongState,
    /// A person named is not registered.
    #[error("no such person")]
    UnknownPerson,
    /// The register failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl DelegationError {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(&self) -> &'static str {
        match self {
            DelegationError::ToOneself => "delegation.to_oneself",
            DelegationError::GiverTooYoung => "delegation.giver_too_young",
            DelegationError::HolderTooYoung => "delegation.holder_too_young",
            DelegationError::NoScopes => "delegation.no_scopes",
            DelegationError::DuplicateScope => "delegation.duplicate_scope",
            DelegationError::UnknownServiceScope => "delegation.unknown_service_scope",
            DelegationError::EndDatePassed => "delegation.end_date_passed",
            DelegationError::EndDateTooLate => "delegation.end_date_too_late",
            DelegationError::RequestAlreadyOpen => "delegation.request_already_open",
            DelegationError::NotFound => "delegation.not_found",
            DelegationError::WrongState => "delegation.wrong_state",
            DelegationError::UnknownPerson => "delegation.unknown_person",
            DelegationError::Store(_) => "store",
        }
    }
}

/// `date` plus `years` years; 29 February becomes 1 March in a year without it (as Norwegian
/// and Danish law count a birthday).
pub fn add_years(date: Date, years: i32) -> Date {
    let year = date.year() + years;
    date.replace_year(year).unwrap_or_else(|_| {
        Date::from_calendar_date(year, time::Month::March, 1).unwrap_or(Date::MAX)
    })
}

/// Whole years of age on `today` of someone born on `born`.
pub fn age_on(born: Date, today: Date) -> i32 {
    let had_birthday = (today.month() as u8, today.day()) >= (born.month() as u8, born.day());
    today.year() - born.year() - if had_birthday { 0 } else { 1 }
}

/// Whether the person with this national id has reached `min_age` on `today` (from the birth
/// date in the number; 29 February birthdays count from 1 March in other years).
pub fn is_of_age(national_id: &NationalId, min_age: u8, today: Date) -> bool {
    today >= add_years(national_id.birth_date(), i32::from(min_age))
}

/// The parties of a new delegation: both adults (by the minimum age of the country that issued
/// each one's number), and not the same person.
pub fn check_parties(
    giver: &NationalId,
    holder: &NationalId,
    rules: &DelegationRules,
    today: Date,
) -> Result<(), DelegationError> {
    if giver == holder {
        return Err(DelegationError::ToOneself);
    }
    if !is_of_age(giver, rules.min_age(giver.country()), today) {
        return Err(DelegationError::GiverTooYoung);
    }
    if !is_of_age(holder, rules.min_age(holder.country()), today) {
        return Err(DelegationError::HolderTooYoung);
    }
    Ok(())
}

/// The scopes of a delegation granted, requested, approved or changed on `today`: at least
/// one, none twice, service scopes only from the configuration, every end date from today to
/// the configured maximum.
pub fn check_scopes(
    scopes: &[ScopeGrant],
    rules: &DelegationRules,
    today: Date,
) -> Result<(), DelegationError> {
    if scopes.is_empty() {
        return Err(DelegationError::NoScopes);
    }
    let latest = rules.latest_end(today);
    for (n, grant) in scopes.iter().enumerate() {
        if scopes[..n].iter().any(|other| other.scope == grant.scope) {
            return Err(DelegationError::DuplicateScope);
        }
        if let Scope::Service(id) = grant.scope {
            if !rules.service_scopes.iter().any(|known| known.id == id) {
                return Err(DelegationError::UnknownServiceScope);
            }
        }
        if grant.ends_on < today {
            return Err(DelegationError::EndDatePassed);
        }
        if grant.ends_on > latest {
            return Err(DelegationError::EndDateTooLate);
        }
    }
    Ok(())
}

/// A new request from a holder to a giver: refused while another from the same holder to the
/// same giver is open (`open_requests`: how many are requested and not lapsed).
pub fn check_no_open_request(open_requests: usize) -> Result<(), DelegationError> {
    if open_requests > 0 {
        Err(DelegationError::RequestAlreadyOpen)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delegation::ServiceScopeId;
    use time::macros::date;

    fn norwegian(born: Date) -> NationalId {
        (0..1000)
            .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
            .unwrap()
    }

    fn danish(text: &str) -> NationalId {
        NationalId::parse_danish(text).unwrap()
    }

    #[test]
    fn years_are_added_with_leap_days_moved_to_march() {
        assert_eq!(add_years(date!(2026 - 05 - 17), 5), date!(2031 - 05 - 17));
        assert_eq!(add_years(date!(2008 - 02 - 29), 18), date!(2026 - 03 - 01));
        assert_eq!(add_years(date!(2008 - 02 - 29), 16), date!(2024 - 02 - 29));
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 02 - 28)), 17);
        assert_eq!(age_on(date!(2008 - 02 - 29), date!(2026 - 03 - 01)), 18);
        assert_eq!(age_on(date!(1985 - 04 - 17), date!(2026 - 04 - 16)), 40);
        assert_eq!(age_on(date!(1985 - 04 - 17), date!(2026 - 04 - 17)), 41);
    }

    #[test]
    fn both_parties_must_be_adults_by_their_countrys_age() {
        let rules = DelegationRules::default();
        let today = date!(2026 - 06 - 01);
        let adult = norwegian(date!(1985 - 04 - 17));
        let turns_18_today = norwegian(date!(2008 - 06 - 01));
        let turns_18_tomorrow = norwegian(date!(2008 - 06 - 02));
        check_parties(&adult, &turns_18_today, &rules, today).unwrap();
        check_parties(&turns_18_today, &adult, &rules, today).unwrap();
        assert!(matches!(
            check_parties(&adult, &turns_18_tomorrow, &rules, today),
            Err(DelegationError::HolderTooYoung)
        ));
        assert!(matches!(
            check_parties(&turns_18_tomorrow, &adult, &rules, today),
            Err(DelegationError::GiverTooYoung)
        ));
        // Denmark: 15. Born 2011-05-31 (a CPR number of the 2000s: digit 7 is 4).
        let danish_15 = danish("3105114000");
        let danish_14 = danish("0206114000");
        check_parties(&danish_15, &adult, &rules, today).unwrap();
        assert!(matches!(
            check_parties(&danish_14, &adult, &rules, today),
            Err(DelegationError::GiverTooYoung)
        ));
        // Configurable.
        let strict = DelegationRules {
            min_age_denmark: 18,
            ..DelegationRules::default()
        };
        assert!(check_parties(&danish_15, &adult, &strict, today).is_err());
    }

    #[test]
    fn no_delegation_to_oneself() {
        let rules = DelegationRules::default();
        let adult = norwegian(date!(1985 - 04 - 17));
        let same = NationalId::parse(adult.expose()).unwrap();
        assert!(matches!(
            check_parties(&adult, &same, &rules, date!(2026 - 01 - 01)),
            Err(DelegationError::ToOneself)
        ));
    }

    #[test]
    fn scopes_need_end_dates_within_the_maximum() {
        let nav = ServiceScopeId::parse("nav.dagpenger").unwrap();
        let rules = DelegationRules {
            service_scopes: vec![ServiceScope {
                id: nav,
                name_nb: "Dagpenger".into(),
                name_nn: "Dagpengar".into(),
                name_da: "Dagpenge".into(),
                name_en: "Unemployment benefit".into(),
            }],
            ..DelegationRules::default()
        };
        let today = date!(2026 - 06 - 01);
        let grant = |scope, ends_on| ScopeGrant { scope, ends_on };
        let check = |scopes: &[ScopeGrant]| check_scopes(scopes, &rules, today);
        check(&[
            grant(Scope::ReadPost, today),
            grant(Scope::Service(nav), date!(2031 - 06 - 01)),
        ])
        .unwrap();
        assert!(matches!(check(&[]), Err(DelegationError::NoScopes)));
        assert!(matches!(
            check(&[grant(Scope::ReadPost, date!(2026 - 05 - 31))]),
            Err(DelegationError::EndDatePassed)
        ));
        assert!(matches!(
            check(&[grant(Scope::ReadPost, date!(2031 - 06 - 02))]),
            Err(DelegationError::EndDateTooLate)
        ));
        assert!(matches!(
            check(&[grant(Scope::ReadPost, today), grant(Scope::ReadPost, today)]),
            Err(DelegationError::DuplicateScope)
        ));
        let other = ServiceScopeId::parse("skat.selvangivelse").unwrap();
        assert!(matches!(
            check(&[grant(Scope::Service(other), today)]),
            Err(DelegationError::UnknownServiceScope)
        ));
        let one_year = DelegationRules {
            max_years: 1,
            ..DelegationRules::default()
        };
        assert!(check_scopes(
            &[grant(Scope::ReadPost, date!(2027 - 06 - 02))],
            &one_year,
            today
        )
        .is_err());
    }

    #[test]
    fn one_open_request_per_pair() {
        check_no_open_request(0).unwrap();
        assert!(matches!(
            check_no_open_request(1),
            Err(DelegationError::RequestAlreadyOpen)
        ));
        assert_eq!(
            DelegationError::RequestAlreadyOpen.code(),
            "delegation.request_already_open"
        );
    }
}
