#![allow(clippy::unwrap_used, clippy::expect_used)]
//! National identity numbers, tested from the outside.
//!
//! The generators below compute check digits and centuries with their own small
//! implementation (an oracle independent of `src/identity.rs`), so a shared mistake would
//! have to be made twice.

use borgerportal::{Country, IdentityError, NationalId, NationalIdKind};
use proptest::prelude::*;
use time::macros::date;
use time::{Date, Month};

// ---------------------------------------------------------------------------------------------
// The oracle

fn oracle_check(digits: &[u32], weights: &[u32]) -> Option<u32> {
    let sum: u32 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    match sum % 11 {
        0 => Some(0),
        1 => None,
        r => Some(11 - r),
    }
}

/// Appends the two check digits to nine digits; `None` when either remainder is 1.
fn oracle_with_checks(first_nine: &str) -> Option<String> {
    let mut digits: Vec<u32> = first_nine
        .chars()
        .map(|c| c.to_digit(10).unwrap())
        .collect();
    let k1 = oracle_check(&digits, &[3, 7, 6, 1, 8, 9, 4, 5, 2])?;
    digits.push(k1);
    let k2 = oracle_check(&digits, &[5, 4, 3, 2, 7, 6, 5, 4, 3, 2])?;
    Some(format!("{first_nine}{k1}{k2}"))
}

/// A Norwegian individual number (000–999) that gives `year`'s century, picked by `seed`.
fn individual_number_for(year: i32, seed: u16) -> u16 {
    match year {
        1854..=1899 => 500 + seed % 250,
        1900..=1939 => seed % 500,
        1940..=1999 => {
            let pick = seed % 600;
            if pick < 500 {
                pick
            } else {
                900 + (pick - 500)
            }
        }
        2000..=2039 => 500 + seed % 500,
        _ => unreachable!("no Norwegian century for {year}"),
    }
}

#[derive(Debug, Clone)]
struct GeneratedFnr {
    text: String,
    birth_date: Date,
    kind: NationalIdKind,
    synthetic: bool,
}

fn date_in(years: std::ops::RangeInclusive<i32>) -> impl Strategy<Value = Date> {
    (years, 1u8..=12, 1u8..=31).prop_filter_map("a real calendar date", |(year, month, day)| {
        Date::from_calendar_date(year, Month::try_from(month).unwrap(), day).ok()
    })
}

/// Valid Norwegian numbers of every kind: fødselsnummer, D-number, synthetic, synthetic D.
fn valid_norwegian() -> impl Strategy<Value = GeneratedFnr> {
    (
        date_in(1854..=2039),
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_filter_map(
            "check digits exist",
            |(birth_date, seed, d_number, synthetic)| {
                let individual = individual_number_for(birth_date.year(), seed);
                let day = birth_date.day() + if d_number { 40 } else { 0 };
                let month = u8::from(birth_date.month()) + if synthetic { 80 } else { 0 };
                let yy = birth_date.year().rem_euclid(100);
                let text =
                    oracle_with_checks(&format!("{day:02}{month:02}{yy:02}{individual:03}"))?;
                Some(GeneratedFnr {
                    text,
                    birth_date,
                    kind: if d_number {
                        NationalIdKind::DNumber
                    } else {
                        NationalIdKind::Fnr
                    },
                    synthetic,
                })
            },
        )
}

/// Valid Danish CPR numbers (10 digits, no dash) with their birth dates.
fn valid_cpr() -> impl Strategy<Value = (String, Date)> {
    (date_in(1858..=2057), any::<u16>(), 0u16..1000).prop_map(|(birth_date, seed, rest)| {
        let yy = birth_date.year().rem_euclid(100);
        let seventh = match birth_date.year() {
            1858..=1899 => 5 + seed % 4,                              // 5–8
            1900..=1936 => seed % 4,                                  // 0–3
            1937..=1999 => [0, 1, 2, 3, 4, 9][usize::from(seed % 6)], // 0–3, 4, 9
            2000..=2036 => [4, 5, 6, 7, 8, 9][usize::from(seed % 6)], // 4–9
            2037..=2057 => 5 + seed % 4,                              // 5–8
            _ => unreachable!(),
        };
        let text = format!(
            "{:02}{:02}{yy:02}{seventh}{rest:03}",
            birth_date.day(),
            u8::from(birth_date.month())
        );
        (text, birth_date)
    })
}

fn secret_part_has_no_digits(shown: &str) -> bool {
    !shown.chars().any(|c| c.is_ascii_digit())
}

// ---------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn valid_norwegian_numbers_parse_and_round_trip(generated in valid_norwegian()) {
        let id = NationalId::parse_norwegian(&generated.text).unwrap();
        prop_assert_eq!(id.expose(), generated.text.as_str());
        prop_assert_eq!(id.birth_date(), generated.birth_date);
        prop_assert_eq!(id.kind(), generated.kind);
        prop_assert_eq!(id.is_synthetic(), generated.synthetic);
        prop_assert_eq!(id.country(), Country::Norway);
        // The general parser decides by length and agrees; so do the typed forms.
        prop_assert_eq!(&NationalId::parse(&generated.text).unwrap(), &id);
        prop_assert_eq!(&generated.text.parse::<NationalId>().unwrap(), &id);
        let with_dash = format!("{}-{}", &generated.text[..6], &generated.text[6..]);
        prop_assert_eq!(&NationalId::parse(&with_dash).unwrap(), &id);
        let as_masked_form = format!(" {} {} ", &generated.text[..6], &generated.text[6..]);
        prop_assert_eq!(&NationalId::parse(&as_masked_form).unwrap(), &id);
        // What comes out goes back in.
        prop_assert_eq!(&NationalId::parse(id.expose()).unwrap(), &id);
        // And it is not Danish.
        prop_assert_eq!(NationalId::parse_danish(&generated.text), Err(IdentityError::WrongLength));
    }

    #[test]
    fn every_single_digit_change_is_rejected(
        generated in valid_norwegian(),
        position in 0usize..11,
        delta in 1u8..10,
    ) {
        let mut bytes = generated.text.clone().into_bytes();
        bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
        let changed = String::from_utf8(bytes).unwrap();
        prop_assert!(
            NationalId::parse_norwegian(&changed).is_err(),
            "a changed digit at {} was accepted", position
        );
    }

    #[test]
    fn swapping_neighbouring_digits_is_rejected(
        generated in valid_norwegian(),
        position in 0usize..10,
    ) {
        let mut bytes = generated.text.clone().into_bytes();
        prop_assume!(bytes[position] != bytes[position + 1]);
        bytes.swap(position, position + 1);
        let swapped = String::from_utf8(bytes).unwrap();
        // Never the original person...
        if let Ok(other) = NationalId::parse_norwegian(&swapped) {
            prop_assert_ne!(other.expose(), generated.text.as_str());
        }
        // ...and in fact never anyone: the weights differ between neighbours (mod 11) in k1
        // for the first nine digits and in k2 for the pair (individual number, k1), and a
        // swap of k1 and k2 changes k1.
        prop_assert_eq!(
            NationalId::parse_norwegian(&swapped),
            Err(IdentityError::Checksum)
        );
    }

    #[test]
    fn masked_debug_and_display_hide_the_secret_digits(generated in valid_norwegian()) {
        let id = NationalId::parse(&generated.text).unwrap();
        let last_five = &generated.text[6..];
        let masked = id.masked();
        prop_assert_eq!(&masked, &format!("{} *****", &generated.text[..6]));
        prop_assert!(secret_part_has_no_digits(&masked[6..]));
        let debug = format!("{id:?}");
        let display = id.to_string();
        let pretty = format!("{id:#?}");
        for shown in [&debug, &display, &pretty] {
            prop_assert!(secret_part_has_no_digits(shown), "{}", shown);
            prop_assert!(!shown.contains(last_five));
        }
        prop_assert_eq!(debug, "NationalId(NO, ******)");
    }

    #[test]
    fn valid_cpr_numbers_parse_with_and_without_dash((text, birth_date) in valid_cpr()) {
        let id = NationalId::parse_danish(&text).unwrap();
        prop_assert_eq!(id.expose(), text.as_str());
        prop_assert_eq!(id.birth_date(), birth_date);
        prop_assert_eq!(id.kind(), NationalIdKind::Cpr);
        prop_assert_eq!(id.country(), Country::Denmark);
        prop_assert!(!id.is_synthetic());
        let with_dash = format!("{}-{}", &text[..6], &text[6..]);
        prop_assert_eq!(&NationalId::parse(&with_dash).unwrap(), &id);
        prop_assert_eq!(&NationalId::parse_danish(&with_dash).unwrap(), &id);
        prop_assert_eq!(&NationalId::parse(&text).unwrap(), &id);
        prop_assert_eq!(&NationalId::parse(id.expose()).unwrap(), &id);
        prop_assert_eq!(NationalId::parse_norwegian(&text), Err(IdentityError::WrongLength));

        let masked = id.masked();
        prop_assert_eq!(&masked, &format!("{}-****", &text[..6]));
        prop_assert!(secret_part_has_no_digits(&masked[6..]));
        for shown in [format!("{id:?}"), id.to_string()] {
            prop_assert!(secret_part_has_no_digits(&shown), "{}", shown);
        }
    }

    #[test]
    fn random_text_never_panics(input in any::<String>()) {
        let _ = NationalId::parse(&input);
        let _ = NationalId::parse_norwegian(&input);
        let _ = NationalId::parse_danish(&input);
    }

    #[test]
    fn digit_like_text_never_panics(input in "[0-9 \\-]{0,16}") {
        if let Ok(id) = NationalId::parse(&input) {
            // Whatever parses round-trips through its normalised form.
            prop_assert_eq!(&NationalId::parse(id.expose()).unwrap(), &id);
        }
        let _ = NationalId::parse_norwegian(&input);
        let _ = NationalId::parse_danish(&input);
    }

    #[test]
    fn synthetic_maker_agrees_with_the_oracle(birth_date in date_in(1854..=2039), seed in any::<u16>()) {
        let individual = individual_number_for(birth_date.year(), seed);
        let made = NationalId::new_synthetic_norwegian(birth_date, individual);
        let yy = birth_date.year().rem_euclid(100);
        let expected = oracle_with_checks(&format!(
            "{:02}{:02}{yy:02}{individual:03}",
            birth_date.day(),
            u8::from(birth_date.month()) + 80
        ));
        match expected {
            Some(text) => {
                let made = made.unwrap();
                prop_assert_eq!(made.expose(), text.as_str());
                prop_assert!(made.is_synthetic());
                prop_assert_eq!(made.birth_date(), birth_date);
            }
            None => prop_assert_eq!(made, Err(IdentityError::Checksum)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Worked examples (check digits computed by hand with the weights, and cross-checked above)

#[test]
fn known_norwegian_numbers() {
    // Fødselsnummer, born 1 January 1970, individual number 123 (1900s).
    let id = NationalId::parse("01017012343").unwrap();
    assert_eq!(id.kind(), NationalIdKind::Fnr);
    assert_eq!(id.birth_date(), date!(1970 - 01 - 01));
    assert!(!id.is_synthetic());
    assert_eq!(id.masked(), "010170 *****");
    assert_eq!(format!("{id:?}"), "NationalId(NO, ******)");
    assert_eq!(id.to_string(), "NO:***********");

    // Born 31 December 1999, individual number 001.
    assert_eq!(
        NationalId::parse("31129900183").unwrap().birth_date(),
        date!(1999 - 12 - 31)
    );
    // Individual number 500 with year 00: 2000.
    assert_eq!(
        NationalId::parse("01010050053").unwrap().birth_date(),
        date!(2000 - 01 - 01)
    );
    // 29 February 2000 exists (leap year).
    assert_eq!(
        NationalId::parse("29020060040").unwrap().birth_date(),
        date!(2000 - 02 - 29)
    );
    // Individual number 905 with year 60: 1960 (the 900–999 range).
    assert_eq!(
        NationalId::parse("01016090588").unwrap().birth_date(),
        date!(1960 - 01 - 01)
    );
    // Individual number 600 with year 60: 1860 (the 500–749 range).
    assert_eq!(
        NationalId::parse("01016060085").unwrap().birth_date(),
        date!(1860 - 01 - 01)
    );
    // D-number: day 15 + 40, born 15 May 2001, individual number 765.
    let d_number = NationalId::parse("55050176508").unwrap();
    assert_eq!(d_number.kind(), NationalIdKind::DNumber);
    assert_eq!(d_number.birth_date(), date!(2001 - 05 - 15));
    assert_eq!(d_number.masked(), "550501 *****");
    // Synthetic (Tenor): month 4 + 80, born 17 April 1985.
    let synthetic = NationalId::parse("17848512397").unwrap();
    assert!(synthetic.is_synthetic());
    assert_eq!(synthetic.birth_date(), date!(1985 - 04 - 17));
    // Synthetic D-number: day 28 + 40 and month 2 + 80, born 28 February 1990.
    let synthetic_d = NationalId::parse("68829027112").unwrap();
    assert!(synthetic_d.is_synthetic());
    assert_eq!(synthetic_d.kind(), NationalIdKind::DNumber);
    assert_eq!(synthetic_d.birth_date(), date!(1990 - 02 - 28));
}

#[test]
fn known_danish_numbers() {
    let id = NationalId::parse("010170-1234").unwrap();
    assert_eq!(id.kind(), NationalIdKind::Cpr);
    assert_eq!(id.birth_date(), date!(1970 - 01 - 01));
    assert_eq!(id.expose(), "0101701234");
    assert_eq!(id.masked(), "010170-****");
    assert_eq!(format!("{id:?}"), "NationalId(DK, ******)");
    assert_eq!(id.to_string(), "DK:**********");
    // Seventh digit 4 with year ≤ 36: 2000s; above: 1900s.
    assert_eq!(
        NationalId::parse("0101364000").unwrap().birth_date(),
        date!(2036 - 01 - 01)
    );
    assert_eq!(
        NationalId::parse("0101374000").unwrap().birth_date(),
        date!(1937 - 01 - 01)
    );
    // Seventh digit 9 likewise.
    assert_eq!(
        NationalId::parse("0101369000").unwrap().birth_date(),
        date!(2036 - 01 - 01)
    );
    // Seventh digit 5–8 with year ≤ 57: 2000s; above: 1800s.
    assert_eq!(
        NationalId::parse("0101575000").unwrap().birth_date(),
        date!(2057 - 01 - 01)
    );
    assert_eq!(
        NationalId::parse("0101588000").unwrap().birth_date(),
        date!(1858 - 01 - 01)
    );
    // No mod-11 requirement (issued without it since 2007): 0101701235 is as good as 1234.
    assert!(NationalId::parse("0101701235").is_ok());
    // 29 February 1900 did not exist (1900 is no leap year), 29 February 2000 did.
    assert_eq!(
        NationalId::parse("2902001234"),
        Err(IdentityError::InvalidDate)
    );
    assert!(NationalId::parse("2902004234").is_ok());
}

#[test]
fn malformed_numbers_give_the_right_error() {
    use IdentityError::*;
    let cases = [
        ("", Empty),
        ("   ", Empty),
        ("0101701234x", NotDigits),
        ("01017O12343", NotDigits),
        ("0101-7012343", NotDigits),
        ("010170--12343", NotDigits),
        ("123", WrongLength),
        ("010170123", WrongLength),
        ("010170123431", WrongLength),
        ("01017012343999999999999", WrongLength),
        // Checksum first: one typo in a real number.
        ("01017012344", Checksum),
        // Old H-numbers (month + 40) are not accepted.
        ("01417012343", Checksum),
        // Day 32 with correct check digits.
        (oracle_fnr("320170123"), InvalidDate),
        // Month 13.
        (oracle_fnr("011370123"), InvalidDate),
        // H-number with correct check digits: month 41.
        (oracle_fnr("014170123"), InvalidDate),
        // 29 February 1900 (individual 000–499 means 1900s).
        (oracle_fnr("290200123"), InvalidDate),
        // Individual number 750–899 has no century for year 40–99.
        (oracle_fnr("010170800"), InvalidIndividualNumber),
        // 500–749 with year 40–53 neither.
        (oracle_fnr("010145600"), InvalidIndividualNumber),
        // Danish: day 0, month 0.
        ("0001701234", InvalidDate),
        ("0100701234", InvalidDate),
        ("3104701234", InvalidDate),
    ];
    for (input, expected) in cases {
        assert_eq!(NationalId::parse(input), Err(expected), "input {input:?}");
    }
    assert_eq!(NationalId::parse_norwegian("0101701234"), Err(WrongLength));
    assert_eq!(NationalId::parse_danish("01017012343"), Err(WrongLength));
}

/// A nine-digit body with its check digits; leaks a `&'static str` to fit the table above.
fn oracle_fnr(first_nine: &str) -> &'static str {
    let mut bump = 0u32;
    loop {
        // Bump the last individual digit until check digits exist; keeps day/month/year.
        let body: u64 = first_nine.parse::<u64>().unwrap() + u64::from(bump);
        if let Some(text) = oracle_with_checks(&format!("{body:09}")) {
            return Box::leak(text.into_boxed_str());
        }
        bump += 1;
    }
}

#[test]
fn error_codes_are_stable_distinct_and_texts_quote_nothing() {
    use IdentityError::*;
    let all = [
        Empty,
        NotDigits,
        WrongLength,
        InvalidDate,
        InvalidIndividualNumber,
        Checksum,
    ];
    let codes: std::collections::HashSet<_> = all.iter().map(|error| error.code()).collect();
    assert_eq!(codes.len(), all.len());
    assert_eq!(WrongLength.code(), "identity.wrong_length");
    assert_eq!(Checksum.code(), "identity.checksum");
    for error in all {
        assert!(error.code().starts_with("identity."));
        assert!(!error.to_string().is_empty());
    }
    // The text a failing parse gives back does not contain the input.
    let error = NationalId::parse("01017012344").unwrap_err();
    assert!(!error.to_string().contains("01017012344"));
    assert!(!format!("{error:?}").contains("0101"));
}
