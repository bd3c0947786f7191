//! What a person types as contact information, checked and normalised: e-mail addresses
//! ([`EmailAddress`], IDNA domains) and mobile numbers ([`MobileNumber`], E.164 with a Nordic
//! default country), each refusal a [`ContactInputError`] with a stable code.

use super::*;

// ---------------------------------------------------------------------------------------------
// Input errors

/// Why a typed-in contact value was refused.
///
/// Each variant has a stable [`code`](ContactInputError::code) that the UI translates; the
/// `Display` text is for developers and never repeats the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum ContactInputError {
    /// No e-mail address was given (or only white space).
    #[error("no e-mail address was given")]
    EmailEmpty,
    /// Not an e-mail address a mail server would accept (no `@`, a bad character, a domain
    /// without a dot...).
    #[error("not a valid e-mail address")]
    EmailInvalid,
    /// Longer than 254 characters (or a local part over 64).
    #[error("the e-mail address is too long")]
    EmailTooLong,
    /// No mobile number was given.
    #[error("no mobile number was given")]
    MobileEmpty,
    /// Something other than digits, spaces, dashes, dots, brackets and a leading `+`, or a
    /// number that cannot exist (country code 0, a Danish number starting with 0 or 1).
    #[error("not a valid mobile number")]
    MobileInvalid,
    /// Too few or too many digits (8 in Norway and Denmark, 7 to 15 in all with a country
    /// code).
    #[error("the mobile number has the wrong number of digits")]
    MobileWrongLength,
    /// A Norwegian number that is not a mobile number (those start with 4 or 9): an SMS to a
    /// land line never arrives.
    #[error("the number is not a mobile number")]
    MobileNotMobile,
    /// A mailbox provider name that is empty, too long, or holds other than letters, digits,
    /// `.`, `_` and `-`.
    #[error("not a known kind of mailbox provider name")]
    MailboxProviderInvalid,
}

impl ContactInputError {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(self) -> &'static str {
        match self {
            ContactInputError::EmailEmpty => "contact.email_empty",
            ContactInputError::EmailInvalid => "contact.email_invalid",
            ContactInputError::EmailTooLong => "contact.email_too_long",
            ContactInputError::MobileEmpty => "contact.mobile_empty",
            ContactInputError::MobileInvalid => "contact.mobile_invalid",
            ContactInputError::MobileWrongLength => "contact.mobile_wrong_length",
            ContactInputError::MobileNotMobile => "contact.mobile_not_mobile",
            ContactInputError::MailboxProviderInvalid => "contact.mailbox_provider_invalid",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// E-mail

/// A validated e-mail address: `local@domain`.
///
/// Normalised: surrounding white space removed; the domain lower-cased and, when it has
/// letters such as `æøå`, converted to its ASCII (IDNA) form, which is what mail servers
/// route on. The local part keeps its case (RFC 5321 leaves its meaning to the receiving
/// server). Only dot-atom local parts are accepted (no quoted strings, comments or IP
/// literals): what people type, and what the browser's `<input type="email">` checks too.
///
/// `Debug` and `Display` mask it (`k***@example.no`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Reads an address as typed by a person.
    pub fn parse(input: &str) -> Result<EmailAddress, ContactInputError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ContactInputError::EmailEmpty);
        }
        if input.len() > MAX_INPUT_LEN {
            return Err(ContactInputError::EmailTooLong);
        }
        let (local, domain) = input
            .rsplit_once('@')
            .ok_or(ContactInputError::EmailInvalid)?;
        if local.len() > MAX_LOCAL_PART_LEN {
            return Err(ContactInputError::EmailTooLong);
        }
        if !is_dot_atom(local) {
            return Err(ContactInputError::EmailInvalid);
        }
        let domain = normalise_domain(domain)?;
        let address = format!("{local}@{domain}");
        if address.len() > MAX_EMAIL_LEN {
            return Err(ContactInputError::EmailTooLong);
        }
        Ok(EmailAddress(address))
    }

    /// The address, for sending and storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address for its owner to read: the domain in Unicode (`kari@blåbær.no` rather than
    /// `kari@xn--blbr-roah.no`).
    pub fn for_display(&self) -> String {
        let (local, domain) = self.split();
        let (unicode, result) = idna::domain_to_unicode(domain);
        if result.is_ok() {
            format!("{local}@{unicode}")
        } else {
            self.0.clone()
        }
    }

    /// `k***@example.no`: the first character of the local part and the domain.
    pub fn masked(&self) -> String {
        let (local, domain) = self.split();
        let first: String = local.chars().take(1).collect();
        format!("{first}***@{domain}")
    }

    fn split(&self) -> (&str, &str) {
        self.0.rsplit_once('@').unwrap_or(("", &self.0))
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.masked())
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

fn is_dot_atom(local: &str) -> bool {
    !local.is_empty()
        && local.split('.').all(|atom| {
            !atom.is_empty()
                && atom
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || LOCAL_PART_SPECIALS.contains(c))
        })
}

/// Lower-cases (and for non-ASCII, IDNA-converts) a mail domain and checks it is a host name
/// with at least two labels, each letters, digits and inner hyphens, and a top-level domain
/// that is not all digits (so no IP addresses, no `localhost`).
fn normalise_domain(domain: &str) -> Result<String, ContactInputError> {
    let ascii = if domain.is_ascii() {
        domain.to_ascii_lowercase()
    } else {
        idna::domain_to_ascii_strict(domain).map_err(|_| ContactInputError::EmailInvalid)?
    };
    if ascii.len() > MAX_DOMAIN_LEN {
        return Err(ContactInputError::EmailTooLong);
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    let well_formed = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.bytes().all(|b| b.is_ascii_digit()));
    if well_formed {
        Ok(ascii)
    } else {
        Err(ContactInputError::EmailInvalid)
    }
}

// ---------------------------------------------------------------------------------------------
// Mobile numbers

/// A validated mobile number in E.164 form: `+` and 7 to 15 digits, e.g. `+4791234567`.
///
/// Norwegian (`+47`) numbers must be mobile numbers (8 digits starting with 4 or 9); Danish
/// (`+45`) numbers have 8 digits and do not start with 0 or 1 (Denmark has no separate mobile
/// ranges any more). Numbers from elsewhere are checked for E.164 shape only.
///
/// `Debug` and `Display` mask it (`+47 *** ** 567`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobileNumber(String);

impl MobileNumber {
    /// Reads a number as typed by a person. With a `+` or `00` in front it is international;
    /// without, it is a national number of `default_country` (the person's own country:
    /// `912 34 567` is `+4791234567` for someone registered in Norway). Spaces, dashes, dots
    /// and brackets between digits are ignored.
    pub fn parse(input: &str, default_country: Country) -> Result<MobileNumber, ContactInputError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ContactInputError::MobileEmpty);
        }
        if input.len() > MAX_INPUT_LEN {
            return Err(ContactInputError::MobileWrongLength);
        }
        let (plus, rest) = match input.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, input),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '\u{a0}' | '-' | '.' | '(' | ')' => {}
                _ => return Err(ContactInputError::MobileInvalid),
            }
        }
        if digits.is_empty() {
            return Err(ContactInputError::MobileInvalid);
        }
        if plus {
            international(&digits)
        } else if let Some(rest) = digits.strip_prefix("00") {
            international(rest)
        } else {
            national(&digits, default_country)
        }
    }

    /// Reads a stored number (E.164, as [`as_str`](MobileNumber::as_str) gives it) back.
    pub fn from_e164(stored: &str) -> Result<MobileNumber, ContactInputError> {
        let digits = stored
            .strip_prefix('+')
            .ok_or(ContactInputError::MobileInvalid)?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ContactInputError::MobileInvalid);
        }
        international(digits)
    }

    /// The number in E.164 (`+4791234567`), for sending and storing.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country the number belongs to, when it is Norwegian or Danish.
    pub fn country(&self) -> Option<Country> {
        if self.0.starts_with("+47") {
            Some(Country::Norway)
        } else if self.0.starts_with("+45") {
            Some(Country::Denmark)
        } else {
            None
        }
    }

    /// The number for its owner to read, grouped as each country writes it:
    /// `+47 912 34 567`, `+45 12 34 56 78`; other countries' numbers as stored.
    pub fn for_display(&self) -> String {
        let digits = self.national_digits();
        match (
            self.country(),
            digits.get(0..3),
            digits.get(3..5),
            digits.get(5..8),
        ) {
            (Some(Country::Norway), Some(a), Some(b), Some(c)) => format!("+47 {a} {b} {c}"),
            (Some(Country::Denmark), ..) => {
                let pairs: Vec<&str> = (0..digits.len())
                    .step_by(2)
                    .filter_map(|start| digits.get(start..start + 2))
                    .collect();
                format!("+45 {}", pairs.join(" "))
            }
            _ => self.0.clone(),
        }
    }

    /// `+47 *** ** 567`: the country code (when Nordic) and the last three digits.
    pub fn masked(&self) -> String {
        let last: String = self
            .0
            .chars()
            .skip(self.0.len().saturating_sub(3))
            .collect();
        match self.country() {
            Some(Country::Norway) => format!("+47 *** ** {last}"),
            Some(Country::Denmark) => format!("+45 *** ** {last}"),
            None => format!("+*** ** {last}"),
        }
    }

    /// The digits after the Nordic country code (all digits for other countries).
    fn national_digits(&self) -> &str {
        match self.country() {
            Some(_) => self.0.get(3..).unwrap_or_default(),
            None => self.0.get(1..).unwrap_or_default(),
        }
    }
}

impl fmt::Debug for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobileNumber({})", self.masked())
    }
}

impl fmt::Display for MobileNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

/// `digits` follow a `+` (or `00`): the country code first.
fn international(digits: &str) -> Result<MobileNumber, ContactInputError> {
    if let Some(national_digits) = digits.strip_prefix("47") {
        return national(national_digits, Country::Norway);
    }
    if let Some(national_digits) = digits.strip_prefix("45") {
        return national(national_digits, Country::Denmark);
    }
    if digits.starts_with('0') {
        return Err(ContactInputError::MobileInvalid);
    }
    if !(E164_MIN_DIGITS..=E164_MAX_DIGITS).contains(&digits.len()) {
        return Err(ContactInputError::MobileWrongLength);
    }
    Ok(MobileNumber(format!("+{digits}")))
}

/// A national number of `country` (no country code).
fn national(digits: &str, country: Country) -> Result<MobileNumber, ContactInputError> {
    if digits.len() != NORDIC_NATIONAL_DIGITS {
        return Err(ContactInputError::MobileWrongLength);
    }
    match (country, digits.as_bytes().first()) {
        (Country::Norway, Some(b'4' | b'9')) => Ok(MobileNumber(format!("+47{digits}"))),
        (Country::Norway, _) => Err(ContactInputError::MobileNotMobile),
        (Country::Denmark, Some(b'2'..=b'9')) => Ok(MobileNumber(format!("+45{digits}"))),
        (Country::Denmark, _) => Err(ContactInputError::MobileInvalid),
    }
}
