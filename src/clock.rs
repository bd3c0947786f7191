//! Instants as the portal keeps them: in UTC, cut to whole microseconds (PostgreSQL keeps no
//! more). Every time a decision writes or compares with passes here, so that both databases
//! decide alike and a value read back equals the value written.

use time::OffsetDateTime;

/// `at` in UTC, cut to whole microseconds.
pub fn stored_instant(at: OffsetDateTime) -> OffsetDateTime {
    let at = at.to_offset(time::UtcOffset::UTC);
    at.replace_microsecond(at.microsecond()).unwrap_or(at)
}

/// Now, as [`stored_instant`] keeps it.
pub fn now_utc_micros() -> OffsetDateTime {
    stored_instant(OffsetDateTime::now_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn microsecond_cut_is_exact_and_in_utc() {
        let now = now_utc_micros();
        assert_eq!(now.nanosecond() % 1_000, 0);
        let at = stored_instant(datetime!(2025-03-01 13:04:05.123456789 +01:00));
        assert_eq!(at, datetime!(2025-03-01 12:04:05.123456 UTC));
        assert_eq!(at.offset(), time::UtcOffset::UTC);
    }
}
