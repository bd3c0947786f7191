//! Verification codes and the rules for them: making a code, its stored hash, when another
//! may be sent ([`code_wait`]), what a typed code does ([`check_code`]) and what the entry
//! becomes once a new value is verified ([`verified_change`]). Pure functions: storage reads
//! the rows, asks these, and writes what they decided.

use std::fmt;

use rand::Rng as _;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use super::{
    ContactInfo, ContactStatus, ContactValue, CODE_DIGITS, CODE_HASH_CONTEXT, CODE_RESEND_INTERVAL,
    CODE_SALT_BYTES, CODE_WINDOW, MAX_CODES_PER_WINDOW, MAX_CODE_ATTEMPTS,
};
use crate::audit::AuditKind;
use crate::outbox::Address;

/// A freshly made verification code: 6 digits, to be sent to the new address and typed back.
///
/// Only the contact register's request calls make one, and they hand it
/// out once. The register keeps only a salted hash; the queued message that carries it has it
/// until it is sent (see the outbox). `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct VerificationCode(pub(super) String);

impl VerificationCode {
    /// A random code from the operating system's random source, leading zeros kept.
    pub(crate) fn generate() -> VerificationCode {
        let number: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
        VerificationCode(format!("{number:06}"))
    }

    /// The digits, to put into the message.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VerificationCode(…)")
    }
}

/// A code as typed back: white space removed; `None` unless exactly 6 ASCII digits remain.
pub(crate) fn normalise_typed_code(typed: &str) -> Option<String> {
    let code: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    (code.len() == CODE_DIGITS && code.bytes().all(|b| b.is_ascii_digit())).then_some(code)
}

/// A fresh random salt for one code.
pub(crate) fn code_salt() -> [u8; CODE_SALT_BYTES] {
    let mut salt = [0_u8; CODE_SALT_BYTES];
    rand::rngs::OsRng.fill(&mut salt);
    salt
}

/// The stored form of a code: SHA-256 over a fixed context, the row's random salt and the code.
///
/// Why not a slow hash: a 6-digit code has a million values, so no hash can keep it from
/// someone holding the table; what protects it is that it lives 10 minutes and allows 5 tries.
/// The salt keeps equal codes from looking equal and makes a hash useless for any other row.
pub(crate) fn code_hash(salt: &[u8], code: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(CODE_HASH_CONTEXT);
    hasher.update(salt);
    hasher.update(code.as_bytes());
    hasher.finalize().into()
}

/// Compares two hashes in time independent of where they differ.
pub(crate) fn hashes_match(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0_u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The wait before another code may be sent, given the times codes were sent within the
/// window (oldest first); `None` when one may be sent now.
pub fn code_wait(sent: &[OffsetDateTime], now: OffsetDateTime) -> Option<Duration> {
    let mut wait = Duration::ZERO;
    if let Some(last) = sent.last() {
        wait = wait.max(*last + CODE_RESEND_INTERVAL - now);
    }
    if sent.len() >= MAX_CODES_PER_WINDOW {
        let index = sent.len() - MAX_CODES_PER_WINDOW;
        if let Some(oldest_counted) = sent.get(index) {
            wait = wait.max(*oldest_counted + CODE_WINDOW - now);
        }
    }
    (wait > Duration::ZERO).then_some(wait)
}

/// A change waiting for its code, as [`check_code`] needs it.
#[derive(Debug, Clone, Copy)]
pub struct WaitingCode<'a> {
    /// Wrong codes typed so far.
    pub attempts: u32,
    /// When the code stops working.
    pub expires_at: OffsetDateTime,
    /// The code's salt and salted hash.
    pub salt: &'a [u8],
    pub hash: &'a [u8],
}

/// What a typed code does to the change waiting for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the new value comes into force.
    Right,
    /// Not 6 digits: no try is used up.
    NotACode,
    /// Wrong: the count of wrong codes becomes `attempts`; at
    /// [`MAX_CODE_ATTEMPTS`] the code is locked (and that is audited).
    Wrong {
        /// Wrong codes typed, this one included.
        attempts: u32,
    },
    /// Too late, whatever was typed.
    Expired,
    /// Locked before this try.
    TooManyAttempts,
}

/// Checks a typed code against the change waiting for it, at `now`. The locks come first: a
/// locked or expired code is not compared at all.
pub fn check_code(waiting: WaitingCode<'_>, typed: &str, now: OffsetDateTime) -> CodeCheck {
    if waiting.attempts >= MAX_CODE_ATTEMPTS {
        return CodeCheck::TooManyAttempts;
    }
    if now >= waiting.expires_at {
        return CodeCheck::Expired;
    }
    let Some(typed) = normalise_typed_code(typed) else {
        return CodeCheck::NotACode;
    };
    if hashes_match(&code_hash(waiting.salt, &typed), waiting.hash) {
        CodeCheck::Right
    } else {
        CodeCheck::Wrong {
            attempts: waiting.attempts.saturating_add(1),
        }
    }
}

/// The entry once `address` (the value a code was sent to) is verified at `now`.
#[derive(Debug, Clone)]
pub struct VerifiedChange {
    /// The entry to write: the value in force and verified now, the entry active.
    pub changed: ContactInfo,
    /// The address the value replaced, to be told of the change (`None` when there was none,
    /// or the value is the same one verified again).
    pub tell: Option<Address>,
    /// The audit event's kind: changed, or verified again.
    pub kind: AuditKind,
}

/// What verifying `address` at `now` makes of `info`: a new value's `updated_at` is now; the
/// same value verified again keeps its `updated_at` and tells no one.
pub fn verified_change(
    info: &ContactInfo,
    address: Address,
    now: OffsetDateTime,
) -> VerifiedChange {
    fn put<T: PartialEq + Clone>(
        slot: &mut Option<ContactValue<T>>,
        value: T,
        now: OffsetDateTime,
    ) -> (Option<T>, bool) {
        let old = slot.take();
        let is_new = old.as_ref().is_none_or(|old| old.value != value);
        *slot = Some(ContactValue {
            value,
            updated_at: match &old {
                Some(old) if !is_new => old.updated_at,
                _ => now,
            },
            verified_at: Some(now),
        });
        (old.map(|old| old.value), is_new)
    }
    let mut changed = info.clone();
    let (tell, is_new, kind) = match address {
        Address::Email(value) => {
            let (old, is_new) = put(&mut changed.email, value, now);
            (
                old.map(Address::Email),
                is_new,
                AuditKind::ContactEmailChanged,
            )
        }
        Address::Sms(value) => {
            let (old, is_new) = put(&mut changed.mobile, value, now);
            (
                old.map(Address::Sms),
                is_new,
                AuditKind::ContactMobileChanged,
            )
        }
    };
    changed.status = ContactStatus::Active;
    VerifiedChange {
        changed,
        tell: tell.filter(|_| is_new),
        kind: if is_new {
            kind
        } else {
            AuditKind::ContactVerified
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{EmailAddress, MobileNumber};
    use crate::identity::Country;
    use crate::person::{Language, PersonId};
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2025-05-01 12:00 UTC);

    #[test]
    fn code_wait_follows_both_limits() {
        assert_eq!(code_wait(&[], T0), None);
        assert_eq!(
            code_wait(&[T0], T0 + Duration::seconds(20)),
            Some(Duration::seconds(40))
        );
        assert_eq!(code_wait(&[T0], T0 + Duration::seconds(60)), None);
        let five: Vec<_> = (0..5).map(|i| T0 + Duration::minutes(i)).collect();
        assert_eq!(
            code_wait(&five, T0 + Duration::minutes(10)),
            Some(Duration::minutes(50))
        );
        assert_eq!(code_wait(&five[1..], T0 + Duration::minutes(10)), None);
    }

    #[test]
    fn a_code_is_checked_after_its_locks_and_counts_wrong_tries() {
        let salt = code_salt();
        let hash = code_hash(&salt, "123456");
        let waiting = |attempts| WaitingCode {
            attempts,
            expires_at: T0 + Duration::minutes(10),
            salt: &salt,
            hash: &hash,
        };
        assert_eq!(check_code(waiting(0), " 123 456 ", T0), CodeCheck::Right);
        assert_eq!(
            check_code(waiting(0), "654321", T0),
            CodeCheck::Wrong { attempts: 1 }
        );
        assert_eq!(
            check_code(waiting(4), "654321", T0),
            CodeCheck::Wrong { attempts: 5 }
        );
        assert_eq!(
            check_code(waiting(4), "12345", T0),
            CodeCheck::NotACode,
            "not six digits uses no try"
        );
        assert_eq!(
            check_code(waiting(5), "123456", T0),
            CodeCheck::TooManyAttempts,
            "the right code no longer works once locked"
        );
        assert_eq!(
            check_code(waiting(0), "123456", T0 + Duration::minutes(10)),
            CodeCheck::Expired
        );
    }

    #[test]
    fn a_verified_value_replaces_the_old_one_and_tells_it() {
        let mut info = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
        let old = EmailAddress::parse("old@example.no").unwrap();
        info.email = Some(ContactValue {
            value: old.clone(),
            updated_at: T0 - Duration::days(100),
            verified_at: None,
        });
        let new = EmailAddress::parse("new@example.no").unwrap();
        let change = verified_change(&info, Address::Email(new.clone()), T0);
        let email = change.changed.email.as_ref().unwrap();
        assert_eq!(email.value, new);
        assert_eq!((email.updated_at, email.verified_at), (T0, Some(T0)));
        assert_eq!(change.changed.status, ContactStatus::Active);
        assert_eq!(change.tell, Some(Address::Email(old.clone())));
        assert_eq!(change.kind, AuditKind::ContactEmailChanged);

        // The same value verified again: its age stays, no one is told.
        let again = verified_change(&info, Address::Email(old), T0);
        let email = again.changed.email.as_ref().unwrap();
        assert_eq!(email.updated_at, T0 - Duration::days(100));
        assert_eq!(email.verified_at, Some(T0));
        assert_eq!(again.tell, None);
        assert_eq!(again.kind, AuditKind::ContactVerified);

        // A first mobile number: nothing to tell.
        let mobile = MobileNumber::parse("+4791234567", Country::Norway).unwrap();
        let first = verified_change(&info, Address::Sms(mobile), T0);
        assert_eq!(first.tell, None);
        assert_eq!(first.kind, AuditKind::ContactMobileChanged);
    }
}
