//! Guardianship: a guardian acts for a minor with [`GUARDIAN_SCOPES`] and no delegation. The
//! facts come from the population register (an extract, `extract.rs`); a guardianship ends by
//! itself on the minor's 18th birthday, computed from the minor's national id, with no job.

use time::{Date, OffsetDateTime};

use super::rules::add_years;
use super::scope::GUARDIAN_SCOPES;
use super::today;
use crate::person::PersonId;

/// The age at which a guardianship ends (in Norway and Denmark alike).
pub const AGE_OF_MAJORITY: i32 = 18;

/// The day a person born on `born` comes of age: their 18th birthday (1 March for someone born
/// on 29 February, in a year without one). The guardianship is over from that day on.
pub fn coming_of_age(born: Date) -> Date {
    add_years(born, AGE_OF_MAJORITY)
}

/// A guardian's authority over a minor, as the register keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Guardianship {
    /// Who acts.
    pub guardian: PersonId,
    /// For whom.
    pub minor: PersonId,
    /// The minor's birth date (from their national id).
    pub minor_born: Date,
    /// When the register stopped listing it (a later extract without it), if it did.
    pub ended_at: Option<OffsetDateTime>,
}

impl Guardianship {
    /// The last day it is in force: the day before the minor's 18th birthday.
    pub fn last_day(&self) -> Date {
        coming_of_age(self.minor_born)
            .previous_day()
            .unwrap_or(Date::MIN)
    }

    /// Whether it is in force at `now`: listed in the register, and the minor is under 18
    /// (Nordic local time).
    pub fn in_force(&self, now: OffsetDateTime) -> bool {
        self.ended_at.is_none_or(|ended| now < ended) && today(now) < coming_of_age(self.minor_born)
    }

    /// What the guardian may do.
    pub fn scopes(&self) -> &'static [super::Scope] {
        &GUARDIAN_SCOPES
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn it_ends_on_the_18th_birthday_in_local_time() {
        let guardianship = Guardianship {
            guardian: PersonId::new(),
            minor: PersonId::new(),
            minor_born: date!(2008 - 06 - 30),
            ended_at: None,
        };
        assert_eq!(guardianship.last_day(), date!(2026 - 06 - 29));
        // Midnight in Oslo on 30 June 2026 is 22:00 UTC the day before (summer time).
        assert!(guardianship.in_force(datetime!(2026-06-29 21:59:59 UTC)));
        assert!(!guardianship.in_force(datetime!(2026-06-29 22:00 UTC)));
        assert!(!guardianship.in_force(datetime!(2030-01-01 00:00 UTC)));
    }

    #[test]
    fn a_leap_day_child_comes_of_age_on_1_march() {
        assert_eq!(coming_of_age(date!(2008 - 02 - 29)), date!(2026 - 03 - 01));
        assert_eq!(coming_of_age(date!(2012 - 02 - 29)), date!(2030 - 03 - 01));
        assert_eq!(coming_of_age(date!(2010 - 01 - 31)), date!(2028 - 01 - 31));
    }

    #[test]
    fn it_ends_when_the_register_ended_it() {
        let ended = datetime!(2026-01-01 12:00 UTC);
        let guardianship = Guardianship {
            guardian: PersonId::new(),
            minor: PersonId::new(),
            minor_born: date!(2018 - 06 - 30),
            ended_at: Some(ended),
        };
        assert!(guardianship.in_force(datetime!(2026-01-01 11:59 UTC)));
        assert!(!guardianship.in_force(ended));
        assert_eq!(guardianship.scopes().len(), 3);
    }
}
