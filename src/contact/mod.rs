//! The contact and reservation register (as Norway's KRR): each person's e-mail address and
//! mobile number, whether they reserve themselves against digital communication, which
//! digital mailbox they use, and the language they want to be written to in.
//!
//! - [`EmailAddress`] and [`MobileNumber`]: validated, normalised values. Their `Debug` and
//!   `Display` are masked (`k***@example.no`, `+47 *** ** 567`), so a value that ends up in a
//!   log line says which one it was without saying what it is; the value itself comes out
//!   through `as_str`.
//! - [`ContactInfo`]: one person's entry as stored, with the rules that decide whether the
//!   person may be notified ([`ContactInfo::can_be_notified`]) and whether they should be
//!   asked to confirm it ([`ContactInfo::is_stale`]).
//! - Changing an address is a two-step affair: the new value waits in a pending verification
//!   (a 6-digit code sent to it, stored only as a salted hash) and the old value stays in
//!   force until the code comes back ([`VerifyOutcome`]).
//!
//! The storage side is the contact register: reading takes an
//! [`Access<ReadContact>`](crate::ReadContact), changing an
//! [`Access<ManageContact>`](crate::ManageContact). A server function asks the policy, parses
//! the input with the person's country, and calls the register:
//!
//! ```no_run
//! use borgerportal::{
//!     Actor, ContactError, Database, ManageContact, MobileNumber, Policy,
//!     ReadContact,
//! };
//! use time::OffsetDateTime;
//!
//! async fn change_mobile(db: &Database, actor: &Actor, typed: &str) -> Result<(), ContactError> {
//!     let Actor::Citizen { person, .. } = actor else { return Ok(()) };
//!     // A real server function maps `Denied` to its own error (step-up, no authority).
//!     let (Ok(read), Ok(manage)) = (
//!         Policy::authorize::<ReadContact>(actor, *person),
//!         Policy::authorize::<ManageContact>(actor, *person),
//!     ) else {
//!         return Ok(());
//!     };
//!     let info = db.find_contact_info(&read).await?;
//!     let mobile = MobileNumber::parse(typed, info.country)?;
//!     let sent = db.request_mobile_change(&manage, mobile, OffsetDateTime::now_utc()).await?;
//!     // The SMS with the code is already queued; show "code sent, valid until …".
//!     let _ = sent.expires_at;
//!     Ok(())
//! }
//! ```
//!
//! A proof for one capability does not stand in for the other:
//!
//! ```compile_fail
//! use borgerportal::{Actor, Database, Loa, ManageContact, Policy, ReadContact};
//!
//! async fn reserve(db: &Database, actor: &Actor) {
//!     let me = match actor { Actor::Citizen { person, .. } => *person, _ => return };
//!     let read_only = Policy::authorize::<ReadContact>(actor, me).unwrap();
//!     // error[E0308]: expected `&Access<ManageContact>`, found `&Access<ReadContact>`
//!     db.set_reservation(&read_only, true, time::OffsetDateTime::now_utc()).await;
//! }
//! ```

mod address;
mod codes;

use std::fmt;

pub use address::{ContactInputError, EmailAddress, MobileNumber};
pub use codes::{
    check_code, code_wait, verified_change, CodeCheck, VerificationCode, VerifiedChange,
    WaitingCode,
};
pub(crate) use codes::{code_hash, code_salt};
use time::{Duration, OffsetDateTime};

use crate::error::StoreError;
use crate::identity::Country;
use crate::person::{Language, PersonId};

/// How long a verification code is valid after it is sent.
pub const CODE_LIFETIME: Duration = Duration::minutes(10);
/// Wrong codes allowed per code; after that the code is dead and a new one must be sent.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// The shortest time between two codes sent to the same person on the same channel.
pub const CODE_RESEND_INTERVAL: Duration = Duration::seconds(60);
/// The most codes sent to one person on one channel within [`CODE_WINDOW`].
pub const MAX_CODES_PER_WINDOW: usize = 5;
/// The sliding window for [`MAX_CODES_PER_WINDOW`].
pub const CODE_WINDOW: Duration = Duration::hours(1);
/// Contact information not confirmed for this long must not be used to notify about
/// decisions (KRR's rule: 18 months; here 548 days, 18 average months).
pub const DEFAULT_STALENESS: Duration = Duration::days(548);

/// Longest e-mail address accepted (RFC 5321's path limit less the angle brackets).
const MAX_EMAIL_LEN: usize = 254;
/// Longest local part (before the `@`), RFC 5321.
const MAX_LOCAL_PART_LEN: usize = 64;
/// Longest domain name in its ASCII form, and longest label in it.
const MAX_DOMAIN_LEN: usize = 253;
const MAX_LABEL_LEN: usize = 63;
/// Longest text looked at before giving up: stops a megabyte of input from reaching IDNA.
const MAX_INPUT_LEN: usize = 512;
/// Characters allowed in a dot-atom local part besides ASCII letters and digits (RFC 5322
/// `atext`; the same set the browser's `<input type="email">` allows).
const LOCAL_PART_SPECIALS: &str = "!#$%&'*+/=?^_`{|}~-";
/// E.164: at most 15 digits after the `+`; the shortest real numbers (small island states)
/// have 7.
const E164_MAX_DIGITS: usize = 15;
const E164_MIN_DIGITS: usize = 7;
/// Norwegian and Danish subscriber numbers have 8 digits.
const NORDIC_NATIONAL_DIGITS: usize = 8;
/// Longest mailbox provider name.
const MAX_PROVIDER_LEN: usize = 64;
/// Digits in a verification code.
pub const CODE_DIGITS: usize = 6;
/// Random bytes salted into each code's hash.
pub(crate) const CODE_SALT_BYTES: usize = 16;
/// Domain separation for the code hash: a hash from here is useless anywhere else.
const CODE_HASH_CONTEXT: &[u8] = b"borgerportal.contact-code.v1";

// ---------------------------------------------------------------------------------------------
// The register's model

/// The two ways to reach a person in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactMethod {
    /// An e-mail address.
    Email,
    /// A mobile number (reached by SMS).
    Mobile,
}

impl ContactMethod {
    /// Both, in the order a page shows them.
    pub const ALL: [ContactMethod; 2] = [ContactMethod::Email, ContactMethod::Mobile];

    /// `email` or `mobile`: as stored and as put in forms and URLs.
    pub fn code(self) -> &'static str {
        match self {
            ContactMethod::Email => "email",
            ContactMethod::Mobile => "mobile",
        }
    }

    /// The method for a code from [`code`](ContactMethod::code); `None` otherwise.
    pub fn from_code(code: &str) -> Option<ContactMethod> {
        ContactMethod::ALL
            .into_iter()
            .find(|method| method.code() == code)
    }
}

/// KRR's status of a person's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactStatus {
    /// The person has registered (and verified) at least one contact method.
    Active,
    /// The person had contact information and removed all of it.
    Deleted,
    /// The person never registered any.
    NotRegistered,
}

impl ContactStatus {
    /// `active`, `deleted` or `not_registered`: as stored and as agencies will see it.
    pub fn code(self) -> &'static str {
        match self {
            ContactStatus::Active => "active",
            ContactStatus::Deleted => "deleted",
            ContactStatus::NotRegistered => "not_registered",
        }
    }

    /// The status for a code from [`code`](ContactStatus::code); `None` otherwise.
    pub fn from_code(code: &str) -> Option<ContactStatus> {
        [
            ContactStatus::Active,
            ContactStatus::Deleted,
            ContactStatus::NotRegistered,
        ]
        .into_iter()
        .find(|status| status.code() == code)
    }
}

/// Where the person's digital post goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Mailbox {
    /// The portal's own mailbox (the default).
    Portal,
    /// A mailbox run by a provider outside the portal (Digipost, e-Boks...).
    External {
        /// The provider's name, normalised as [`Mailbox::external`] does: lower case
        /// letters, digits, `.`, `_`, `-`.
        provider: String,
    },
}

impl Mailbox {
    /// An external mailbox, with the provider's name trimmed and lower-cased (`" e-Boks "` is
    /// `e-boks`). Refused when empty, longer than 64, or holding other characters.
    pub fn external(provider: &str) -> Result<Mailbox, ContactInputError> {
        let provider = provider.trim().to_ascii_lowercase();
        let valid = !provider.is_empty()
            && provider.len() <= MAX_PROVIDER_LEN
            && provider.bytes().all(|b| {
                b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
            })
            && provider
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphanumeric());
        if valid {
            Ok(Mailbox::External { provider })
        } else {
            Err(ContactInputError::MailboxProviderInvalid)
        }
    }

    /// Checks a mailbox built by hand (the variant's field is public): the same rule as
    /// [`Mailbox::external`], giving the normalised value.
    pub fn validated(&self) -> Result<Mailbox, ContactInputError> {
        match self {
            Mailbox::Portal => Ok(Mailbox::Portal),
            Mailbox::External { provider } => Mailbox::external(provider),
        }
    }
}

/// A contact value in force, with KRR's two timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactValue<T> {
    /// The address or number.
    pub value: T,
    /// When the value was last changed (set to this value).
    pub updated_at: OffsetDateTime,
    /// When the person last proved or confirmed it is right: a code came back, or they
    /// confirmed it unchanged. `None` only for values from outside the portal that were never
    /// verified here.
    pub verified_at: Option<OffsetDateTime>,
}

impl<T> ContactValue<T> {
    /// Whether the value was verified or confirmed less than `staleness` before `now`.
    pub fn is_fresh(&self, now: OffsetDateTime, staleness: Duration) -> bool {
        self.verified_at
            .is_some_and(|verified_at| now - verified_at < staleness)
    }
}

/// A change waiting for its code: the new value is not in force yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingChange<T> {
    /// The value that takes effect when the code comes back.
    pub new_value: T,
    /// When the last code was sent.
    pub sent_at: OffsetDateTime,
    /// When that code stops working.
    pub expires_at: OffsetDateTime,
    /// Wrong codes still allowed (0: send a new code).
    pub attempts_left: u32,
}

/// One person's entry in the contact and reservation register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfo {
    /// Whose entry this is.
    pub person: PersonId,
    /// The country of the person's national id: the default for numbers typed without `+`
    /// (see [`MobileNumber::parse`]) and the zone of their SMS quiet hours.
    pub country: Country,
    /// Active, deleted or never registered.
    pub status: ContactStatus,
    /// The e-mail address in force, if any.
    pub email: Option<ContactValue<EmailAddress>>,
    /// The mobile number in force, if any.
    pub mobile: Option<ContactValue<MobileNumber>>,
    /// An e-mail change waiting for its code.
    pub pending_email: Option<PendingChange<EmailAddress>>,
    /// A mobile change waiting for its code.
    pub pending_mobile: Option<PendingChange<MobileNumber>>,
    /// Reserved against digital communication: the person gets post on paper.
    pub reserved: bool,
    /// When the reservation was last set or withdrawn (`None`: never touched).
    pub reservation_changed_at: Option<OffsetDateTime>,
    /// Where digital post goes.
    pub mailbox: Mailbox,
    /// The language letters and notifications are written in (the person's portal language).
    pub language: Language,
}

impl ContactInfo {
    /// The entry of someone who has registered nothing.
    pub fn not_registered(person: PersonId, country: Country, language: Language) -> ContactInfo {
        ContactInfo {
            person,
            country,
            status: ContactStatus::NotRegistered,
            email: None,
            mobile: None,
            pending_email: None,
            pending_mobile: None,
            reserved: false,
            reservation_changed_at: None,
            mailbox: Mailbox::Portal,
            language,
        }
    }

    /// KRR's notification status: whether the person may be notified at `now` about a letter
    /// or a decision. No when they are reserved, and no when neither the e-mail address nor
    /// the mobile number was verified or confirmed within `staleness` (usually
    /// [`DEFAULT_STALENESS`]): old contact information must not be used.
    pub fn can_be_notified(&self, now: OffsetDateTime, staleness: Duration) -> bool {
        !self.reserved
            && self.status == ContactStatus::Active
            && (self.fresh_email(now, staleness).is_some()
                || self.fresh_mobile(now, staleness).is_some())
    }

    /// The e-mail address, if it may be used for notifications at `now` (not reserved, and
    /// confirmed within `staleness`).
    pub fn fresh_email(&self, now: OffsetDateTime, staleness: Duration) -> Option<&EmailAddress> {
        self.email
            .as_ref()
            .filter(|email| !self.reserved && email.is_fresh(now, staleness))
            .map(|email| &email.value)
    }

    /// The mobile number, if it may be used for notifications at `now`.
    pub fn fresh_mobile(&self, now: OffsetDateTime, staleness: Duration) -> Option<&MobileNumber> {
        self.mobile
            .as_ref()
            .filter(|mobile| !self.reserved && mobile.is_fresh(now, staleness))
            .map(|mobile| &mobile.value)
    }

    /// Whether to stop the person after login and ask them to confirm or update their
    /// contact information: they have some, and none of it was verified or confirmed within
    /// `staleness` — so none of it may be used to notify them. (Reservation does not matter
    /// here: a reserved person's e-mail and mobile are still theirs to keep right.)
    pub fn must_be_confirmed(&self, now: OffsetDateTime, staleness: Duration) -> bool {
        let has_any = self.email.is_some() || self.mobile.is_some();
        let any_fresh = self
            .email
            .as_ref()
            .is_some_and(|email| email.is_fresh(now, staleness))
            || self
                .mobile
                .as_ref()
                .is_some_and(|mobile| mobile.is_fresh(now, staleness));
        has_any && !any_fresh
    }

    /// Whether to ask the person to confirm their contact information ("is this still
    /// right?"): some value they have is older than `staleness` at `now`. Pass
    /// [`DEFAULT_STALENESS`] for the hard limit, or less to ask before it is reached.
    /// Someone with nothing registered has nothing to confirm (`false`).
    pub fn is_stale(&self, now: OffsetDateTime, staleness: Duration) -> bool {
        let email_stale = self
            .email
            .as_ref()
            .is_some_and(|email| !email.is_fresh(now, staleness));
        let mobile_stale = self
            .mobile
            .as_ref()
            .is_some_and(|mobile| !mobile.is_fresh(now, staleness));
        email_stale || mobile_stale
    }
}

/// What a request for a code gives back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    /// The code, for the caller that needs it (tests, a development mail catcher). The message
    /// carrying it is already queued in the outbox: callers need not send it themselves.
    pub code: VerificationCode,
    /// Which method it was sent for.
    pub method: ContactMethod,
    /// When the code stops working.
    pub expires_at: OffsetDateTime,
    /// The earliest time another code may be asked for on this channel.
    pub next_code_at: OffsetDateTime,
}

/// What became of a typed-back code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VerifyOutcome {
    /// Right: the new value is in force and verified from now.
    Verified,
    /// Wrong (or not 6 digits); this many tries remain for this code (0: send a new one).
    WrongCode {
        /// Tries left.
        attempts_left: u32,
    },
    /// The code was right or wrong, but too late: more than 10 minutes old. Send a new one.
    Expired,
    /// Five wrong codes were already typed for this code: send a new one.
    TooManyAttempts,
    /// No change is waiting for a code on this channel.
    NoPending,
}

impl VerifyOutcome {
    /// Stable, machine-readable code for the UI's message (`contact.verify.wrong_code`...).
    pub fn code(self) -> &'static str {
        match self {
            VerifyOutcome::Verified => "contact.verify.verified",
            VerifyOutcome::WrongCode { .. } => "contact.verify.wrong_code",
            VerifyOutcome::Expired => "contact.verify.expired",
            VerifyOutcome::TooManyAttempts => "contact.verify.too_many_attempts",
            VerifyOutcome::NoPending => "contact.verify.no_pending",
        }
    }
}

/// Why a contact register call was refused or failed.
///
/// The `Display` text is for logs and names no address or number; the UI translates
/// [`code`](ContactError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContactError {
    /// The value typed in was refused.
    #[error(transparent)]
    Input(#[from] ContactInputError),
    /// Too many codes asked for on this channel: wait `retry_after` and try again.
    #[error("too many codes asked for; try again later")]
    RateLimited {
        /// How long until a code may be sent again.
        retry_after: Duration,
    },
    /// The new value is the one already in force (to re-verify it, confirm instead).
    #[error("the value is already the one in force")]
    Unchanged,
    /// A resend was asked for, but no change is waiting for a code on this channel.
    #[error("no change is waiting for a code")]
    NothingPending,
    /// "Confirm my contact information" with no contact information to confirm.
    #[error("there is no contact information to confirm")]
    NothingToConfirm,
    /// The proof's subject is not in the person register (should not happen).
    #[error("the person is not registered")]
    UnknownPerson,
    /// An agency look-up named more national ids than one look-up may
    /// ([`MAX_LOOKUP_BATCH`](crate::MAX_LOOKUP_BATCH)).
    #[error("too many national ids in one look-up")]
    LookupTooLarge,
    /// The database failed; nothing was changed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ContactError {
    /// Stable, machine-readable code; the UI's translation files are keyed on it.
    pub fn code(&self) -> &'static str {
        match self {
            ContactError::Input(error) => error.code(),
            ContactError::RateLimited { .. } => "contact.code_rate_limited",
            ContactError::Unchanged => "contact.unchanged",
            ContactError::NothingPending => "contact.nothing_pending",
            ContactError::NothingToConfirm => "contact.nothing_to_confirm",
            ContactError::UnknownPerson => "contact.unknown_person",
            ContactError::LookupTooLarge => "contact.lookup_too_large",
            ContactError::Store(StoreError::Unavailable(_)) => "contact.unavailable",
            ContactError::Store(_) => "contact.failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::codes::{hashes_match, normalise_typed_code};
    use super::*;

    #[test]
    fn codes_are_six_digits_and_hashes_depend_on_salt_and_code() {
        for _ in 0..50 {
            let code = VerificationCode::generate();
            assert_eq!(code.expose().len(), CODE_DIGITS);
            assert!(code.expose().bytes().all(|b| b.is_ascii_digit()));
        }
        let salt = code_salt();
        let other_salt = code_salt();
        assert_ne!(salt, other_salt);
        let hash = code_hash(&salt, "123456");
        assert!(hashes_match(&hash, &code_hash(&salt, "123456")));
        assert!(!hashes_match(&hash, &code_hash(&salt, "123457")));
        assert!(!hashes_match(&hash, &code_hash(&other_salt, "123456")));
        assert!(!hashes_match(&hash, &hash[..31]));
        assert_eq!(
            format!("{:?}", VerificationCode("123456".into())),
            "VerificationCode(…)"
        );
    }

    #[test]
    fn typed_codes_are_normalised() {
        assert_eq!(normalise_typed_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalise_typed_code("012345").as_deref(), Some("012345"));
        for bad in ["", "12345", "1234567", "12345a", "１２３４５６"] {
            assert_eq!(normalise_typed_code(bad), None, "{bad}");
        }
    }
}
