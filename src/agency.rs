//! Agencies: the public bodies whose systems call the portal's agency API (look up contact
//! and reservation status, later deliver digital post), and what a look-up gives them.
//!
//! An agency is registered in configuration with a public key; the server checks its signed
//! tokens and then acts as [`Actor::Agency`](crate::Actor::Agency). The domain knows it only by
//! its [`AgencyId`], which is also what the audit log records as the actor of a look-up.

use std::fmt;

use time::{Duration, OffsetDateTime};

use crate::contact::{
    ContactInfo, ContactStatus, ContactValue, EmailAddress, Mailbox, MobileNumber,
};
use crate::person::Language;

/// The most national ids one contact look-up may name (KRR's limit too).
pub const MAX_LOOKUP_BATCH: usize = 1_000;

/// Longest agency id.
const MAX_AGENCY_ID_LEN: usize = 64;

/// A registered agency's id, e.g. `nav` or `skatteetaten`: 1 to 64 lower-case ASCII letters,
/// digits and inner hyphens. It is the `iss` of the agency's tokens and the actor of the audit
/// events it causes, so it is short, stable and safe to log.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyId(String);

/// Why a text is not an agency id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("an agency id is 1 to 64 lower-case letters a-z, digits and inner hyphens")]
pub struct InvalidAgencyId;

impl AgencyId {
    /// Checks an id from configuration or storage.
    pub fn parse(text: &str) -> Result<AgencyId, InvalidAgencyId> {
        let valid = !text.is_empty()
            && text.len() <= MAX_AGENCY_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if valid {
            Ok(AgencyId(text.to_owned()))
        } else {
            Err(InvalidAgencyId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgencyId({})", self.0)
    }
}

impl fmt::Display for AgencyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One person's entry as an agency sees it: the register fields KRR publishes, with the
/// notification rule already applied at the time of the look-up.
///
/// Changes waiting for a code are not part of it (they are not in force).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactLookup {
    /// Active, deleted, or never registered (also for ids the portal does not know at all).
    pub status: ContactStatus,
    /// Reserved against digital communication: send on paper.
    pub reserved: bool,
    /// When the reservation was last set or withdrawn.
    pub reservation_changed_at: Option<OffsetDateTime>,
    /// The e-mail address in force, with when it was changed and last verified.
    pub email: Option<ContactValue<EmailAddress>>,
    /// The mobile number in force, with its timestamps.
    pub mobile: Option<ContactValue<MobileNumber>>,
    /// Whether the person may be notified now: not reserved, and some contact value verified
    /// or confirmed within the staleness limit ([`ContactInfo::can_be_notified`]).
    pub can_be_notified: bool,
    /// Where digital post goes; `None` for an id the portal does not know.
    pub mailbox: Option<Mailbox>,
    /// The person's language; `None` for an id the portal does not know.
    pub language: Option<Language>,
}

impl ContactLookup {
    /// The answer for an id no person in the register has.
    pub fn unknown() -> ContactLookup {
        ContactLookup {
            status: ContactStatus::NotRegistered,
            reserved: false,
            reservation_changed_at: None,
            email: None,
            mobile: None,
            can_be_notified: false,
            mailbox: None,
            language: None,
        }
    }

    /// The answer for a known person's entry at `now`, with contact information older than
    /// `staleness` counting as unusable for notifications.
    pub fn from_info(info: ContactInfo, now: OffsetDateTime, staleness: Duration) -> ContactLookup {
        let can_be_notified = info.can_be_notified(now, staleness);
        ContactLookup {
            status: info.status,
            reserved: info.reserved,
            reservation_changed_at: info.reservation_changed_at,
            email: info.email,
            mobile: info.mobile,
            can_be_notified,
            mailbox: Some(info.mailbox),
            language: Some(info.language),
        }
    }

    /// Whether the id belongs to a person the portal knows (and whose log records the look-up).
    pub fn is_known_person(&self) -> bool {
        self.language.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agency_ids_are_short_lower_case_names() {
        for good in ["nav", "skatteetaten", "demo-agency", "a", "k0mmune-0301"] {
            assert_eq!(AgencyId::parse(good).unwrap().as_str(), good);
        }
        let too_long = "a".repeat(65);
        for bad in [
            "",
            "NAV",
            "-nav",
            "nav-",
            "na v",
            "nav/1",
            "nav.no",
            too_long.as_str(),
        ] {
            assert_eq!(AgencyId::parse(bad), Err(InvalidAgencyId), "{bad:?}");
        }
        assert_eq!(AgencyId::parse("nav").unwrap().to_string(), "nav");
    }

    #[test]
    fn unknown_ids_are_not_registered_and_cannot_be_notified() {
        let unknown = ContactLookup::unknown();
        assert_eq!(unknown.status, ContactStatus::NotRegistered);
        assert!(!unknown.can_be_notified);
        assert!(!unknown.is_known_person());
    }
}
