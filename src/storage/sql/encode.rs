//! How values are written in SQLite's columns (see `migrations/README.md`): ids as hyphenated
//! lower-case UUID text, dates as `YYYY-MM-DD`, timestamps as fixed-width RFC 3339 UTC text
//! with microseconds (`2025-01-31T12:00:00.000000Z`) so that text order is time order in
//! `WHERE`/`ORDER BY`, booleans as 0/1, SHA-256 hashes as 32-byte `BLOB`s. PostgreSQL keeps
//! the native types, so nothing here is needed there.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};
use uuid::Uuid;

use crate::storage::StoreError;

const TIMESTAMP_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");
const DATE_FORMAT: &[BorrowedFormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// The most values one statement may bind: `SQLITE_MAX_VARIABLE_NUMBER` of the bundled
/// SQLite. Multi-row statements are cut into chunks below it.
pub(in crate::storage) const MAX_VARIABLES: usize = 32_766;

/// A UUID as SQLite stores it: hyphenated text (written without the formatting machinery:
/// every id a query binds passes here).
pub(in crate::storage) fn encode_uuid(id: Uuid) -> String {
    id.hyphenated()
        .encode_lower(&mut Uuid::encode_buffer())
        .to_owned()
}

pub(in crate::storage) fn encode_date(date: Date) -> Result<String, StoreError> {
    date.format(DATE_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "date" })
}

/// The date in [`encode_date`]'s text; `None` for any other text.
pub(in crate::storage) fn decode_date(text: &str) -> Option<Date> {
    Date::parse(text, DATE_FORMAT).ok()
}

/// Fixed-width UTC text, so that comparing the text compares the instants.
pub(in crate::storage) fn encode_timestamp(at: OffsetDateTime) -> Result<String, StoreError> {
    at.to_offset(time::UtcOffset::UTC)
        .format(TIMESTAMP_FORMAT)
        .map_err(|_| StoreError::Corrupt { what: "timestamp" })
}

/// The instant in [`encode_timestamp`]'s text (`2025-03-01T12:04:05.000100Z`); `None` for
/// any other text. Read field by field: a page reads a few dozen of these, and `time`'s
/// parser builds its format anew on every call (about ten times the work).
pub(in crate::storage) fn decode_timestamp(text: &str) -> Option<OffsetDateTime> {
    let text = text.as_bytes();
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ];
    if text.len() != 27 || separators.iter().any(|&(at, sep)| text[at] != sep) {
        return None;
    }
    let number = |from: usize, to: usize| -> Option<u32> {
        text.get(from..to)?.iter().try_fold(0u32, |n, digit| {
            digit
                .is_ascii_digit()
                .then(|| n * 10 + u32::from(digit - b'0'))
        })
    };
    let small = |from: usize, to: usize| u8::try_from(number(from, to)?).ok();
    let date = Date::from_calendar_date(
        i32::try_from(number(0, 4)?).ok()?,
        time::Month::try_from(small(5, 7)?).ok()?,
        small(8, 10)?,
    )
    .ok()?;
    let time = time::Time::from_hms_micro(
        small(11, 13)?,
        small(14, 16)?,
        small(17, 19)?,
        number(20, 26)?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn only_a_stored_timestamp_is_read_as_one() {
        assert_eq!(
            decode_timestamp("1999-12-31T23:59:59.999999Z"),
            Some(datetime!(1999-12-31 23:59:59.999999 UTC))
        );
        for bad in [
            "",
            "2025-03-01T12:04:05.000100",
            "2025-03-01T12:04:05.000100Z ",
            "2025-03-01 12:04:05.000100Z",
            "2025-03-01T12:04:05,000100Z",
            "2025-13-01T12:04:05.000100Z",
            "2025-02-29T12:04:05.000100Z",
            "2025-03-01T24:00:00.000000Z",
            "2025-03-01T12:60:05.000100Z",
            "2025-03-01T12:04:60.000100Z",
            "2025-03-0aT12:04:05.000100Z",
            "+025-03-01T12:04:05.000100Z",
            "2025-03-01T12:04:05.-00100Z",
            "2025-03-01T12:04:05.000100+",
        ] {
            assert_eq!(decode_timestamp(bad), None, "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_instant_reads_back_as_time_itself_reads_it(
            micros in 0i64..253_402_300_799_999_999,
        ) {
            let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(micros) * 1000)
                .expect("in range");
            let text = encode_timestamp(at).expect("encoded");
            let by_time = PrimitiveDateTime::parse(&text, TIMESTAMP_FORMAT)
                .expect("time reads it")
                .assume_utc();
            proptest::prop_assert_eq!(decode_timestamp(&text), Some(by_time));
            proptest::prop_assert_eq!(by_time, at);
        }
    }

    #[test]
    fn timestamps_are_fixed_width_utc_and_round_trip() {
        let at = datetime!(2025-03-01 13:04:05.000100 +01:00);
        let text = encode_timestamp(at).unwrap();
        assert_eq!(text, "2025-03-01T12:04:05.000100Z");
        assert_eq!(decode_timestamp(&text), Some(at));
        let later = encode_timestamp(datetime!(2025-03-01 12:04:05.1 UTC)).unwrap();
        assert!(later > text, "text order is time order");
    }
}
