//! National identity numbers: the Norwegian fødselsnummer and D-nummer, and the Danish CPR
//! number.
//!
//! A [`NationalId`] can only be made by parsing (or by [`NationalId::new_synthetic_norwegian`]),
//! so holding one means the number has the right shape, a real birth date and, for Norway,
//! correct check digits. The numbers are treated as secrets: neither `Debug` nor `Display`
//! prints a digit, [`NationalId::masked`] shows only the birth date part, and the digits come
//! out only through the deliberately named [`NationalId::expose`].
//!
//! Input is forgiving in what a person types: surrounding and inner white space is ignored, and
//! one dash directly after the six birth-date digits is accepted for both countries
//! (`010170-12345`, `010170-1234`).

use std::fmt;
use std::str::FromStr;

use time::{Date, Month};

/// Weights of the first Norwegian check digit (k1), over the first nine digits.
const K1_WEIGHTS: [u32; 9] = [3, 7, 6, 1, 8, 9, 4, 5, 2];
/// Weights of the second Norwegian check digit (k2), over the first ten digits.
const K2_WEIGHTS: [u32; 10] = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];

/// Length of a Norwegian number in digits.
const NORWEGIAN_LEN: usize = 11;
/// Length of a Danish CPR number in digits.
const DANISH_LEN: usize = 10;

/// The country that issued a national identity number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Country {
    /// Norway: fødselsnummer or D-nummer, from Folkeregisteret.
    Norway,
    /// Denmark: CPR number, from Det Centrale Personregister.
    Denmark,
}

impl Country {
    /// ISO 3166-1 alpha-2 code, `NO` or `DK`.
    pub fn code(self) -> &'static str {
        match self {
            Country::Norway => "NO",
            Country::Denmark => "DK",
        }
    }
}

/// Which kind of national identity number a [`NationalId`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NationalIdKind {
    /// Norwegian fødselsnummer: given at birth or immigration.
    Fnr,
    /// Norwegian D-nummer: given to people who are not (yet) residents; the first digit is
    /// the birth day's first digit plus 4.
    DNumber,
    /// Danish CPR number.
    Cpr,
}

impl NationalIdKind {
    /// The country whose register issues this kind of number.
    pub fn country(self) -> Country {
        match self {
            NationalIdKind::Fnr | NationalIdKind::DNumber => Country::Norway,
            NationalIdKind::Cpr => Country::Denmark,
        }
    }
}

/// Why a text is not a national identity number.
///
/// Each variant has a stable [`code`](IdentityError::code) that the UI translates for the
/// citizen; the `Display` text is for developers and logs and never repeats the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// Nothing (or only white space) was given.
    #[error("no national identity number was given")]
    Empty,
    /// Something other than digits, white space or a dash after the birth date.
    #[error(
        "a national identity number holds only digits (and optionally a dash after the birth date)"
    )]
    NotDigits,
    /// Too few or too many digits for the country (11 in Norway, 10 in Denmark).
    #[error("a national identity number has 11 digits (Norway) or 10 digits (Denmark)")]
    WrongLength,
    /// The first six digits are not a real calendar date (also after removing the D-number and
    /// synthetic markers).
    #[error("the birth date part of the national identity number is not a real date")]
    InvalidDate,
    /// The Norwegian individual number does not belong to any century for this birth year.
    #[error("the individual number does not fit the birth year")]
    InvalidIndividualNumber,
    /// The Norwegian check digits do not match (a typing error, most likely).
    #[error("the check digits of the national identity number do not match")]
    Checksum,
}

impl IdentityError {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(self) -> &'static str {
        match self {
            IdentityError::Empty => "identity.empty",
            IdentityError::NotDigits => "identity.not_digits",
            IdentityError::WrongLength => "identity.wrong_length",
            IdentityError::InvalidDate => "identity.invalid_date",
            IdentityError::InvalidIndividualNumber => "identity.invalid_individual_number",
            IdentityError::Checksum => "identity.checksum",
        }
    }
}

/// A validated national identity number.
///
/// Equal numbers compare equal whatever way they were typed (`010170-1234` and `0101701234`).
/// `Debug` and `Display` never print the digits: use [`masked`](NationalId::masked) to show it
/// to its owner and [`expose`](NationalId::expose) to store or send it to a register.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct NationalId {
    /// Normalised: ASCII digits only, 11 for Norway and 10 for Denmark.
    digits: String,
    kind: NationalIdKind,
    birth_date: Date,
    is_synthetic: bool,
}

impl NationalId {
    /// Parses a Norwegian or a Danish number, telling them apart by the number of digits
    /// (11: Norway, 10: Denmark).
    pub fn parse(input: &str) -> Result<Self, IdentityError> {
        let digits = normalise(input)?;
        match digits.len() {
            NORWEGIAN_LEN => norwegian_from_digits(&digits),
            DANISH_LEN => danish_from_digits(&digits),
            _ => Err(IdentityError::WrongLength),
        }
    }

    /// Parses a Norwegian fødselsnummer or D-nummer, including synthetic test numbers
    /// (Tenor/TestID: month + 80).
    pub fn parse_norwegian(input: &str) -> Result<Self, IdentityError> {
        let digits = normalise(input)?;
        if digits.len() != NORWEGIAN_LEN {
            return Err(IdentityError::WrongLength);
        }
        norwegian_from_digits(&digits)
    }

    /// Parses a Danish CPR number, with or without the dash. There is no mod-11 requirement:
    /// CPR numbers without it have been issued since 2007.
    pub fn parse_danish(input: &str) -> Result<Self, IdentityError> {
        let digits = normalise(input)?;
        if digits.len() != DANISH_LEN {
            return Err(IdentityError::WrongLength);
        }
        danish_from_digits(&digits)
    }

    /// Makes a synthetic Norwegian fødselsnummer (month + 80, as Tenor/TestID numbers) for a
    /// birth date and a three-digit individual number, computing the check digits.
    ///
    /// For the built-in test eID and tests: real people never get such a number. About one
    /// individual number in six has no valid check digit (remainder 1): that gives
    /// [`IdentityError::Checksum`] and the caller tries the next one. An individual number
    /// that does not fit the birth year gives [`IdentityError::InvalidIndividualNumber`].
    pub fn new_synthetic_norwegian(
        birth_date: Date,
        individual_number: u16,
    ) -> Result<Self, IdentityError> {
        let year = birth_date.year();
        if individual_number > 999 || !(1854..=2039).contains(&year) {
            return Err(IdentityError::InvalidIndividualNumber);
        }
        let yy = u8::try_from(year.rem_euclid(100)).map_err(|_| IdentityError::InvalidDate)?;
        if norwegian_century(individual_number, yy) != Some(year - i32::from(yy)) {
            return Err(IdentityError::InvalidIndividualNumber);
        }
        let month = u8::from(birth_date.month()) + 80;
        let text = format!(
            "{:02}{:02}{:02}{:03}",
            birth_date.day(),
            month,
            yy,
            individual_number
        );
        let mut digits = to_digit_values(&text);
        let k1 = mod11_check_digit(&digits, &K1_WEIGHTS).ok_or(IdentityError::Checksum)?;
        digits.push(k1);
        let k2 = mod11_check_digit(&digits, &K2_WEIGHTS).ok_or(IdentityError::Checksum)?;
        digits.push(k2);
        norwegian_from_digits(&digits)
    }

    /// Which country issued the number.
    pub fn country(&self) -> Country {
        self.kind.country()
    }

    /// Fødselsnummer, D-nummer or CPR.
    pub fn kind(&self) -> NationalIdKind {
        self.kind
    }

    /// The birth date the number encodes.
    pub fn birth_date(&self) -> Date {
        self.birth_date
    }

    /// Whether this is a synthetic test number (Norway: month + 80). Such numbers belong to no
    /// real person; production may refuse them. Denmark has no such marker, so a CPR number is
    /// never reported as synthetic.
    pub fn is_synthetic(&self) -> bool {
        self.is_synthetic
    }

    /// The number as its owner may see it: the birth date part, the rest hidden
    /// (`010170 *****` for Norway, `010170-****` for Denmark).
    pub fn masked(&self) -> String {
        let birth_part = self.digits.get(..6).unwrap_or_default();
        match self.country() {
            Country::Norway => format!("{birth_part} *****"),
            Country::Denmark => format!("{birth_part}-****"),
        }
    }

    /// The normalised digits (no dash, no spaces), for storage and for calls to national
    /// registers. Named so that every place the secret leaves this type is easy to find.
    pub fn expose(&self) -> &str {
        &self.digits
    }
}

impl FromStr for NationalId {
    type Err = IdentityError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        NationalId::parse(input)
    }
}

impl fmt::Debug for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NationalId({}, ******)", self.country().code())
    }
}

/// Prints the country and stars only: a number that slips into a log line or a template by
/// accident gives nothing away.
impl fmt::Display for NationalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let stars = match self.country() {
            Country::Norway => "***********",
            Country::Denmark => "**********",
        };
        write!(f, "{}:{stars}", self.country().code())
    }
}

/// Strips what people type around the digits and returns the digit values.
fn normalise(input: &str) -> Result<Vec<u8>, IdentityError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(IdentityError::Empty);
    }
    let mut digits = Vec::with_capacity(NORWEGIAN_LEN);
    let mut dash_seen = false;
    for c in trimmed.chars() {
        match c {
            '0'..='9' => {
                // Bound the work on absurd input; the length is wrong anyway.
                if digits.len() == NORWEGIAN_LEN {
                    return Err(IdentityError::WrongLength);
                }
                digits.push(c as u8 - b'0');
            }
            '-' if !dash_seen && digits.len() == 6 => dash_seen = true,
            c if c.is_whitespace() => {}
            _ => return Err(IdentityError::NotDigits),
        }
    }
    Ok(digits)
}

/// Digit values of an ASCII digit string (only called on strings this module formatted).
fn to_digit_values(text: &str) -> Vec<u8> {
    text.bytes().map(|b| b.wrapping_sub(b'0')).collect()
}

fn to_text(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// Two-digit number at `index` (digits are 0..=9, so this cannot overflow).
fn pair(digits: &[u8], index: usize) -> Result<u8, IdentityError> {
    match digits.get(index..index + 2) {
        Some([tens, ones]) => Ok(tens * 10 + ones),
        _ => Err(IdentityError::WrongLength),
    }
}

/// The mod-11 check digit over `digits` with `weights`; `None` when the remainder is 1, for
/// which no check digit exists (such numbers are never issued).
fn mod11_check_digit(digits: &[u8], weights: &[u32]) -> Option<u8> {
    let sum: u32 = digits
        .iter()
        .zip(weights)
        .map(|(digit, weight)| u32::from(*digit) * weight)
        .sum();
    match sum % 11 {
        0 => Some(0),
        1 => None,
        remainder => u8::try_from(11 - remainder).ok(),
    }
}

/// The century (1800, 1900 or 2000) of a Norwegian birth year, from the individual number.
fn norwegian_century(individual_number: u16, yy: u8) -> Option<i32> {
    match individual_number {
        0..=499 => Some(1900),
        500..=749 if yy >= 54 => Some(1800),
        500..=999 if yy <= 39 => Some(2000),
        900..=999 if yy >= 40 => Some(1900),
        _ => None,
    }
}

/// The century of a Danish birth year, from the first digit of the sequence number.
fn danish_century(seventh_digit: u8, yy: u8) -> i32 {
    match seventh_digit {
        0..=3 => 1900,
        4 | 9 => {
            if yy <= 36 {
                2000
            } else {
                1900
            }
        }
        _ => {
            if yy <= 57 {
                2000
            } else {
                1800
            }
        }
    }
}

fn calendar_date(year: i32, month: u8, day: u8) -> Result<Date, IdentityError> {
    let month = Month::try_from(month).map_err(|_| IdentityError::InvalidDate)?;
    Date::from_calendar_date(year, month, day).map_err(|_| IdentityError::InvalidDate)
}

fn norwegian_from_digits(digits: &[u8]) -> Result<NationalId, IdentityError> {
    // Check digits first: a typing error is by far the most likely mistake, and the checksum
    // catches every single-digit error and every swap of neighbouring digits.
    let (body, checks) = digits
        .split_at_checked(9)
        .ok_or(IdentityError::WrongLength)?;
    let k1 = mod11_check_digit(body, &K1_WEIGHTS).ok_or(IdentityError::Checksum)?;
    let with_k1 = digits.get(..10).ok_or(IdentityError::WrongLength)?;
    let k2 = mod11_check_digit(with_k1, &K2_WEIGHTS).ok_or(IdentityError::Checksum)?;
    if checks != [k1, k2] {
        return Err(IdentityError::Checksum);
    }

    let mut day = pair(digits, 0)?;
    let mut month = pair(digits, 2)?;
    let yy = pair(digits, 4)?;
    let individual_number = match digits.get(6..9) {
        Some([a, b, c]) => u16::from(*a) * 100 + u16::from(*b) * 10 + u16::from(*c),
        _ => return Err(IdentityError::WrongLength),
    };

    let kind = if day > 40 {
        day -= 40;
        NationalIdKind::DNumber
    } else {
        NationalIdKind::Fnr
    };
    // Only the +80 of today's synthetic numbers; the old +40 "H-numbers" are not accepted.
    let is_synthetic = month > 80;
    if is_synthetic {
        month -= 80;
    }
    let century =
        norwegian_century(individual_number, yy).ok_or(IdentityError::InvalidIndividualNumber)?;
    let birth_date = calendar_date(century + i32::from(yy), month, day)?;

    Ok(NationalId {
        digits: to_text(digits),
        kind,
        birth_date,
        is_synthetic,
    })
}

fn danish_from_digits(digits: &[u8]) -> Result<NationalId, IdentityError> {
    let day = pair(digits, 0)?;
    let month = pair(digits, 2)?;
    let yy = pair(digits, 4)?;
    let seventh = *digits.get(6).ok_or(IdentityError::WrongLength)?;
    let birth_date = calendar_date(danish_century(seventh, yy) + i32::from(yy), month, day)?;
    Ok(NationalId {
        digits: to_text(digits),
        kind: NationalIdKind::Cpr,
        birth_date,
        is_synthetic: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn check_digit_remainder_one_has_no_digit() {
        // Weighted sum 3 × 4 = 12: remainder 1, for which no check digit exists.
        assert_eq!(
            mod11_check_digit(&[4, 0, 0, 0, 0, 0, 0, 0, 0], &K1_WEIGHTS),
            None
        );
        assert_eq!(
            mod11_check_digit(&[0, 0, 0, 0, 0, 0, 0, 0, 0], &K1_WEIGHTS),
            Some(0)
        );
    }

    #[test]
    fn century_table_edges() {
        assert_eq!(norwegian_century(0, 0), Some(1900));
        assert_eq!(norwegian_century(499, 99), Some(1900));
        assert_eq!(norwegian_century(500, 54), Some(1800));
        assert_eq!(norwegian_century(749, 99), Some(1800));
        assert_eq!(norwegian_century(500, 53), None);
        assert_eq!(norwegian_century(500, 39), Some(2000));
        assert_eq!(norwegian_century(999, 39), Some(2000));
        assert_eq!(norwegian_century(750, 40), None);
        assert_eq!(norwegian_century(899, 99), None);
        assert_eq!(norwegian_century(900, 40), Some(1900));
        assert_eq!(danish_century(3, 99), 1900);
        assert_eq!(danish_century(4, 36), 2000);
        assert_eq!(danish_century(9, 37), 1900);
        assert_eq!(danish_century(5, 57), 2000);
        assert_eq!(danish_century(8, 58), 1800);
    }

    #[test]
    fn synthetic_maker_matches_parser() {
        let id = NationalId::new_synthetic_norwegian(date!(1985 - 04 - 17), 123)
            .or_else(|_| NationalId::new_synthetic_norwegian(date!(1985 - 04 - 17), 124))
            .unwrap();
        assert!(id.is_synthetic());
        assert_eq!(id.birth_date(), date!(1985 - 04 - 17));
        assert_eq!(NationalId::parse(id.expose()).unwrap(), id);
        assert_eq!(
            NationalId::new_synthetic_norwegian(date!(1985 - 04 - 17), 800),
            Err(IdentityError::InvalidIndividualNumber)
        );
    }
}
