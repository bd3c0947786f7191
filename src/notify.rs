//! When a notification may reach a person's phone: quiet hours for SMS.
//!
//! The rule (from the national signing and post services the portal mirrors): never an SMS
//! between 22:00 and 08:00 local time. "Local" is Nordic wall-clock time with its summer time,
//! so the rule is applied with the real time-zone rules (`jiff` with its bundled tz database:
//! the answer does not depend on the machine's `/usr/share/zoneinfo`), never with a fixed
//! offset. Europe/Oslo and Europe/Copenhagen have shared the EU rules since 1980, but the zone
//! is still named per country so that a third country would be one more variant, not a bug.
//!
//! E-mail has no quiet hours: it waits in the inbox without waking anyone.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use time::{OffsetDateTime, UtcOffset};

use crate::identity::Country;

/// The first hour of the day at which an SMS may be sent (08:00 local time).
pub const SMS_DAY_STARTS: i8 = 8;
/// The hour at which quiet hours begin (22:00 local time): from 22:00:00 on, nothing is sent.
pub const SMS_DAY_ENDS: i8 = 22;

/// A Nordic time zone whose wall clock decides the quiet hours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NordicTimeZone {
    /// Norway: `Europe/Oslo`.
    Oslo,
    /// Denmark: `Europe/Copenhagen`.
    Copenhagen,
}

impl NordicTimeZone {
    /// Every zone, in a fixed order.
    pub const ALL: [NordicTimeZone; 2] = [NordicTimeZone::Oslo, NordicTimeZone::Copenhagen];

    /// The zone of a person registered in `country`.
    pub fn for_country(country: Country) -> NordicTimeZone {
        match country {
            Country::Norway => NordicTimeZone::Oslo,
            Country::Denmark => NordicTimeZone::Copenhagen,
        }
    }

    /// The IANA name (`Europe/Oslo`), as stored with a queued SMS.
    pub fn iana_name(self) -> &'static str {
        match self {
            NordicTimeZone::Oslo => "Europe/Oslo",
            NordicTimeZone::Copenhagen => "Europe/Copenhagen",
        }
    }

    /// The zone for a name from [`iana_name`](NordicTimeZone::iana_name); `None` otherwise.
    pub fn from_iana_name(name: &str) -> Option<NordicTimeZone> {
        NordicTimeZone::ALL
            .into_iter()
            .find(|zone| zone.iana_name() == name)
    }

    /// The calendar date on the zone's wall clock at `at` (its local "today"). Instants the
    /// rules cannot represent (far past year 9999) fall back to the UTC date.
    pub fn local_date(self, at: OffsetDateTime) -> time::Date {
        let local = || {
            let instant = Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()?;
            let date = instant.to_zoned(self.rules()).date();
            let month = time::Month::try_from(u8::try_from(date.month()).ok()?).ok()?;
            time::Date::from_calendar_date(
                i32::from(date.year()),
                month,
                u8::try_from(date.day()).ok()?,
            )
            .ok()
        };
        local().unwrap_or_else(|| at.to_offset(UtcOffset::UTC).date())
    }

    /// The zone's rules. The tz database is compiled in (`tzdb-bundle-always`), so the look-up
    /// cannot miss; should it ever, central European standard time is the fallback (a unit
    /// test proves the real rules load).
    fn rules(self) -> TimeZone {
        TimeZone::get(self.iana_name()).unwrap_or_else(|_| TimeZone::fixed(jiff::tz::offset(1)))
    }
}

/// The earliest instant at or after `at` when an SMS may be sent in `zone`: `at` itself
/// between 08:00:00 and 21:59:59.999… local time, otherwise the next 08:00 local time.
///
/// Summer time is honoured: 08:00 on the last Sunday of March is 06:00 UTC, 08:00 on the last
/// Sunday of October is 07:00 UTC. (The clocks change at 02:00–03:00, so 08:00 always exists
/// exactly once.) The answer is in UTC.
///
/// Instants outside what the time-zone rules can represent (far past year 9999) come back
/// unchanged: no such time is ever stored.
pub fn next_allowed_sms_time(at: OffsetDateTime, zone: NordicTimeZone) -> OffsetDateTime {
    let at = at.to_offset(UtcOffset::UTC);
    next_allowed(at, zone.rules()).unwrap_or(at)
}

/// Whether an SMS may be sent at `at` in `zone` (not within the quiet hours).
pub fn is_sms_allowed_at(at: OffsetDateTime, zone: NordicTimeZone) -> bool {
    next_allowed_sms_time(at, zone) == at.to_offset(UtcOffset::UTC)
}

fn next_allowed(at: OffsetDateTime, rules: TimeZone) -> Option<OffsetDateTime> {
    let instant = Timestamp::from_nanosecond(at.unix_timestamp_nanos()).ok()?;
    let local = instant.to_zoned(rules.clone());
    let hour = local.hour();
    if (SMS_DAY_STARTS..SMS_DAY_ENDS).contains(&hour) {
        return Some(at);
    }
    let day = if hour >= SMS_DAY_ENDS {
        local.date().tomorrow().ok()?
    } else {
        local.date()
    };
    let morning = day.at(SMS_DAY_STARTS, 0, 0, 0).to_zoned(rules).ok()?;
    OffsetDateTime::from_unix_timestamp_nanos(morning.timestamp().as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn bundled_rules_load_for_every_zone() {
        for zone in NordicTimeZone::ALL {
            let rules = TimeZone::get(zone.iana_name()).unwrap();
            assert_eq!(rules.iana_name(), Some(zone.iana_name()));
            assert_eq!(NordicTimeZone::from_iana_name(zone.iana_name()), Some(zone));
        }
        assert_eq!(NordicTimeZone::from_iana_name("Europe/Stockholm"), None);
    }

    #[test]
    fn day_time_passes_and_night_waits_for_eight() {
        let zone = NordicTimeZone::Oslo;
        // 12:00 CET in winter.
        let noon = datetime!(2025-01-15 11:00 UTC);
        assert_eq!(next_allowed_sms_time(noon, zone), noon);
        // 23:30 CET → 08:00 CET next day.
        assert_eq!(
            next_allowed_sms_time(datetime!(2025-01-15 22:30 UTC), zone),
            datetime!(2025-01-16 07:00 UTC)
        );
        // Offsets given in other zones are read as the same instant.
        assert_eq!(
            next_allowed_sms_time(datetime!(2025-01-15 23:30 +01:00), zone),
            datetime!(2025-01-16 07:00 UTC)
        );
    }
}
