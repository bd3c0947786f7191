//! Moments as pages show them: the text for `<time datetime>` and Nordic local time written
//! the way each language writes it.
//!
//! Written out number by number rather than with `format!`, `strftime` or `time`'s formats: a
//! mailbox page writes forty of these, and those paid more for parsing their patterns and
//! padding than for the writing.

use serde::{Deserialize, Serialize};

/// A moment, for `<time datetime>` and for people.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct When {
    /// UTC to the second (`2026-07-05T08:03:59Z`).
    pub iso: String,
    /// Local time as the language writes it (`05.07.2026 10:03`, `5 Jul 2026, 10:03`).
    pub display: String,
}

#[cfg(feature = "ssr")]
impl When {
    /// `at` for a page in `lang`.
    pub fn new(at: time::OffsetDateTime, lang: &str) -> When {
        When {
            iso: iso(at),
            display: local_time(at, lang),
        }
    }

    /// `at` for a list read at `now`: today's and yesterday's by the word and the time
    /// ([`local_time_near`]), older ones as [`When::new`].
    pub fn near(at: time::OffsetDateTime, now: time::OffsetDateTime, lang: &str) -> When {
        When {
            iso: iso(at),
            display: local_time_near(at, now, lang),
        }
    }
}

/// `at` in UTC to the second, as `<time datetime>` takes it: `2026-07-05T08:03:59Z`.
#[cfg(feature = "ssr")]
pub fn iso(at: time::OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    // (The date's fields at once: each of `month()` and `day()` works them out anew.)
    let (year, month, day) = at.to_calendar_date();
    let (hour, minute, second) = at.to_hms();
    let mut text = String::with_capacity(20);
    push_number(&mut text, year.unsigned_abs(), 4);
    text.push('-');
    push_number(&mut text, u32::from(u8::from(month)), 2);
    text.push('-');
    push_number(&mut text, u32::from(day), 2);
    text.push('T');
    push_number(&mut text, u32::from(hour), 2);
    text.push(':');
    push_number(&mut text, u32::from(minute), 2);
    text.push(':');
    push_number(&mut text, u32::from(second), 2);
    text.push('Z');
    text
}

/// A day as `YYYY-MM-DD`.
#[cfg(feature = "ssr")]
pub fn iso_date(date: time::Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// A day in words for `lang`: `31 Dec 2030` in English, `31.12.2030` otherwise.
#[cfg(feature = "ssr")]
pub fn date_in_words(date: time::Date, lang: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = u8::from(date.month());
    if lang == "en" {
        let name = MONTHS.get(usize::from(month) - 1).unwrap_or(&"");
        format!("{} {name} {}", date.day(), date.year())
    } else {
        format!("{:02}.{month:02}.{}", date.day(), date.year())
    }
}

/// Nordic local time (Oslo and Copenhagen share the rules), written the way the language does:
/// `05.07.2026 10:03`, in English `5 Jul 2026, 10:03`.
#[cfg(feature = "ssr")]
pub fn local_time(at: time::OffsetDateTime, lang: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let Ok(timestamp) = jiff::Timestamp::from_second(at.unix_timestamp()) else {
        return String::new();
    };
    let Some(zone) = nordic_zone() else {
        return timestamp.to_string();
    };
    let local = offset_at(zone, timestamp).to_datetime(timestamp);
    let number = |value: i8| u32::try_from(value).unwrap_or_default();
    let year = u32::try_from(local.year()).unwrap_or_default();
    let mut text = String::with_capacity(18);
    if lang == "en" {
        push_number(&mut text, number(local.day()), 1);
        text.push(' ');
        let month = usize::try_from(local.month() - 1).unwrap_or_default();
        text.push_str(MONTHS.get(month).unwrap_or(&""));
        text.push(' ');
        push_number(&mut text, year, 4);
        text.push_str(", ");
    } else {
        push_number(&mut text, number(local.day()), 2);
        text.push('.');
        push_number(&mut text, number(local.month()), 2);
        text.push('.');
        push_number(&mut text, year, 4);
        text.push(' ');
    }
    push_number(&mut text, number(local.hour()), 2);
    text.push(':');
    push_number(&mut text, number(local.minute()), 2);
    text
}

/// `at` as a list shows it beside `now`, in Nordic local time: on the same day `i dag 10:03`
/// (English `today, 10:03`), on the day before `i går 10:03` (`yesterday, 10:03`), otherwise
/// as [`local_time`].
#[cfg(feature = "ssr")]
pub fn local_time_near(at: time::OffsetDateTime, now: time::OffsetDateTime, lang: &str) -> String {
    let (Ok(then), Ok(now)) = (
        jiff::Timestamp::from_second(at.unix_timestamp()),
        jiff::Timestamp::from_second(now.unix_timestamp()),
    ) else {
        return local_time(at, lang);
    };
    let Some(zone) = nordic_zone() else {
        return local_time(at, lang);
    };
    let local = offset_at(zone, then).to_datetime(then);
    let today = offset_at(zone, now).to_datetime(now).date();
    let word = if local.date() == today {
        if lang == "en" {
            "today, "
        } else {
            "i dag "
        }
    } else if local.date().tomorrow().ok() == Some(today) {
        if lang == "en" {
            "yesterday, "
        } else {
            "i går "
        }
    } else {
        return local_time(at, lang);
    };
    let number = |value: i8| u32::try_from(value).unwrap_or_default();
    let mut text = String::with_capacity(18);
    text.push_str(word);
    push_number(&mut text, number(local.hour()), 2);
    text.push(':');
    push_number(&mut text, number(local.minute()), 2);
    text
}

/// Oslo's zone (Copenhagen's rules are the same), looked up once: a page shows up to 20 times,
/// each a look-up by name otherwise.
#[cfg(feature = "ssr")]
fn nordic_zone() -> Option<&'static jiff::tz::TimeZone> {
    static ZONE: std::sync::OnceLock<Option<jiff::tz::TimeZone>> = std::sync::OnceLock::new();
    ZONE.get_or_init(|| jiff::tz::TimeZone::get("Europe/Oslo").ok())
        .as_ref()
}

/// `zone`'s offset from UTC at `at`. The offset is kept with the span of time it holds for
/// (from the zone's last transition up to its next): a page's letters mostly fall in one span,
/// and working the offset out from the zone's rules for each of them was most of what writing
/// their times cost.
#[cfg(feature = "ssr")]
fn offset_at(zone: &jiff::tz::TimeZone, at: jiff::Timestamp) -> jiff::tz::Offset {
    type Span = (jiff::Timestamp, jiff::Timestamp, jiff::tz::Offset);
    thread_local! {
        /// The span last looked up on this thread: from (inclusive), until (exclusive), offset.
        static SPAN: std::cell::Cell<Option<Span>> = const { std::cell::Cell::new(None) };
    }
    if let Some((from, until, offset)) = SPAN.get() {
        if from <= at && at < until {
            return offset;
        }
    }
    let offset = zone.to_offset(at);
    // A transition exactly at `at` starts the span (`preceding` gives earlier ones only).
    let from = at
        .checked_add(jiff::SignedDuration::from_nanos(1))
        .ok()
        .and_then(|after| zone.preceding(after).next())
        .map_or(jiff::Timestamp::MIN, |transition| transition.timestamp());
    let until = zone
        .following(at)
        .next()
        .map_or(jiff::Timestamp::MAX, |transition| transition.timestamp());
    SPAN.set(Some((from, until, offset)));
    offset
}

/// `value` in decimal, padded with zeros to at least `width` digits.
#[cfg(feature = "ssr")]
fn push_number(text: &mut String, value: u32, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(value);
    for _ in digits.len()..width {
        text.push('0');
    }
    text.push_str(digits);
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::{iso, local_time, local_time_near, push_number};
    use time::macros::datetime;

    #[test]
    fn times_are_shown_in_nordic_local_time_as_each_language_writes_them() {
        // Summer time (UTC+2).
        let summer = datetime!(2026-07-05 08:03:59 UTC);
        assert_eq!(local_time(summer, "nb"), "05.07.2026 10:03");
        assert_eq!(local_time(summer, "da"), "05.07.2026 10:03");
        assert_eq!(local_time(summer, "en"), "5 Jul 2026, 10:03");
        // Winter time (UTC+1), into the next day and year.
        let new_year = datetime!(2026-12-31 23:30:00 UTC);
        assert_eq!(local_time(new_year, "nn"), "01.01.2027 00:30");
        assert_eq!(local_time(new_year, "en"), "1 Jan 2027, 00:30");
        // The hour that is skipped in spring: 01:59 UTC is 03:59 summer time.
        assert_eq!(
            local_time(datetime!(2026-03-29 01:59:00 UTC), "nb"),
            "29.03.2026 03:59"
        );
        assert_eq!(
            local_time(datetime!(2026-11-24 21:05:00 UTC), "en"),
            "24 Nov 2026, 22:05"
        );
    }

    #[test]
    fn a_list_says_today_and_yesterday_by_the_local_day() {
        let now = datetime!(2026-12-07 22:30:00 UTC); // 23:30 in Oslo
        let earlier = datetime!(2026-12-07 10:05:00 UTC);
        assert_eq!(local_time_near(earlier, now, "nb"), "i dag 11:05");
        assert_eq!(local_time_near(earlier, now, "en"), "today, 11:05");
        // 23:10 UTC the day before is already the 7th in Oslo: today.
        let late = datetime!(2026-12-06 23:10:00 UTC);
        assert_eq!(local_time_near(late, now, "da"), "i dag 00:10");
        let yesterday = datetime!(2026-12-06 08:00:00 UTC);
        assert_eq!(local_time_near(yesterday, now, "nn"), "i går 09:00");
        assert_eq!(local_time_near(yesterday, now, "en"), "yesterday, 09:00");
        let older = datetime!(2026-12-05 08:00:00 UTC);
        assert_eq!(local_time_near(older, now, "nb"), "05.12.2026 09:00");
        // After midnight in Oslo (still the 7th in UTC), the 7th's letters are yesterday's.
        let after_midnight = datetime!(2026-12-07 23:30:00 UTC);
        assert_eq!(
            local_time_near(earlier, after_midnight, "nb"),
            "i går 11:05"
        );
    }

    #[test]
    fn local_times_on_both_sides_of_a_change_of_offset_are_each_right() {
        // In turn, so that each falls after one on the other side of the change: the offset
        // kept for the last one must not be used for the next.
        let cases = [
            (datetime!(2026-03-29 00:59:59 UTC), "29.03.2026 01:59"),
            (datetime!(2026-03-29 01:00:00 UTC), "29.03.2026 03:00"),
            (datetime!(2026-03-29 00:59:59 UTC), "29.03.2026 01:59"),
            (datetime!(2026-10-25 00:59:59 UTC), "25.10.2026 02:59"),
            (datetime!(2026-10-25 01:00:00 UTC), "25.10.2026 02:00"),
            (datetime!(2026-07-05 08:03:59 UTC), "05.07.2026 10:03"),
            (datetime!(2026-10-25 01:00:00 UTC), "25.10.2026 02:00"),
            (datetime!(2026-10-25 00:59:59 UTC), "25.10.2026 02:59"),
            (datetime!(2027-03-28 01:00:00 UTC), "28.03.2027 03:00"),
            (datetime!(2026-12-31 23:30:00 UTC), "01.01.2027 00:30"),
        ];
        for (at, shown) in cases {
            assert_eq!(local_time(at, "nb"), shown, "{at}");
        }
    }

    #[test]
    fn the_machine_readable_time_is_utc_to_the_second() {
        assert_eq!(
            iso(datetime!(2026-07-05 10:03:59.999 +02:00)),
            "2026-07-05T08:03:59Z"
        );
        assert_eq!(
            iso(datetime!(0999-01-02 03:04:05 UTC)),
            "0999-01-02T03:04:05Z"
        );
        let parsed = time::OffsetDateTime::parse(
            &iso(datetime!(2026-12-31 23:59:00 UTC)),
            &time::format_description::well_known::Rfc3339,
        );
        assert_eq!(parsed.ok(), Some(datetime!(2026-12-31 23:59:00 UTC)));
    }

    #[test]
    fn numbers_are_padded_to_their_width() {
        let mut text = String::new();
        for (value, width) in [
            (0, 2),
            (7, 2),
            (42, 1),
            (2026, 4),
            (5, 4),
            (4_294_967_295, 2),
        ] {
            push_number(&mut text, value, width);
            text.push('|');
        }
        assert_eq!(text, "00|07|42|2026|0005|4294967295|");
    }
}

/// 12 kB, 1.4 MB: sizes as people read them.
pub fn size_in_words(bytes: u64, lang: &str) -> String {
    let decimal = if lang == "en" { "." } else { "," };
    if bytes < 1_000_000 {
        format!("{} kB", bytes.div_ceil(1000).max(1))
    } else {
        let tenths = bytes.div_ceil(100_000);
        format!("{}{decimal}{} MB", tenths / 10, tenths % 10)
    }
}
