//! The notification outbox: e-mails and SMS the portal has promised to send, stored durably
//! before anyone is told "sent", and handed to workers one at a time.
//!
//! Why an outbox: a change and the message about it (a verification code, "your e-mail was
//! changed", "you have a new letter") are written in the same database transaction, so
//! neither exists without the other; sending happens afterwards, from the table, by any
//! portal instance. Delivery is *at least once*: a worker that crashes between sending and
//! [`mark_sent`](crate::Database::mark_sent) leaves a lease that runs out, and another worker
//! sends again. Each message carries an [`idempotency_key`](NewNotification::idempotency_key)
//! that senders pass to the gateway, which drops the duplicate.
//!
//! Privacy: a row holds the address (it is needed to send) and small template parameters,
//! which for [`Template::VerifyCode`] include the one-time code and for the delegation
//! notices the other party's name (never a national id). The parameters are replaced by `{}`
//! as soon as the row is sent or finally failed, so they live in the table only while it is
//! queued. `Debug` of these types masks the address and hides the parameters.
//!
//! SMS quiet hours ([`crate::notify`]) are applied when a message is queued and again when it
//! is claimed and when a retry is scheduled, so no SMS goes out between 22:00 and 08:00 local
//! time even when it was queued at 21:59 or failed at 21:50.

use std::fmt;
use std::str::FromStr;

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::contact::{EmailAddress, MobileNumber};
use crate::notify::{next_allowed_sms_time, NordicTimeZone};
use crate::person::PersonId;

/// Largest template parameters accepted, as JSON text: a notification holds no letter text.
pub const MAX_PARAMS_BYTES: usize = 2048;
/// Longest idempotency key.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;
/// Longest error code kept with a failed attempt.
const MAX_ERROR_CODE_LEN: usize = 64;
/// What an unusable error code is stored as.
const UNSPECIFIED_ERROR: &str = "unspecified";
/// The error code of a message whose `send_by` passed before it could be sent.
pub const EXPIRED_ERROR: &str = "expired";
/// The most records one [`list_failed`](crate::Database::list_failed) page returns.
pub const MAX_NOTIFICATION_PAGE_SIZE: u32 = 200;

/// The id of a queued notification: UUID version 7, so later ones sort later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NotificationId(Uuid);

impl NotificationId {
    /// A fresh, time-ordered id.
    pub(crate) fn new() -> NotificationId {
        NotificationId(Uuid::now_v7())
    }

    /// Wraps an id read from storage.
    pub fn from_uuid(id: Uuid) -> NotificationId {
        NotificationId(id)
    }

    /// The UUID inside.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl fmt::Display for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl FromStr for NotificationId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(NotificationId)
    }
}

/// How a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// E-mail.
    Email,
    /// SMS to a mobile number.
    Sms,
}

impl Channel {
    /// `email` or `sms`, as stored.
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// The channel for a code from [`code`](Channel::code); `None` otherwise.
    pub fn from_code(code: &str) -> Option<Channel> {
        [Channel::Email, Channel::Sms]
            .into_iter()
            .find(|channel| channel.code() == code)
    }
}

/// Where a notification goes: the channel follows from the kind of address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Address {
    /// An e-mail address.
    Email(EmailAddress),
    /// A mobile number, for SMS.
    Sms(MobileNumber),
}

impl Address {
    /// The channel this address is reached by.
    pub fn channel(&self) -> Channel {
        match self {
            Address::Email(_) => Channel::Email,
            Address::Sms(_) => Channel::Sms,
        }
    }

    /// The address as the gateway wants it (`kari@example.no`, `+4791234567`).
    pub fn as_str(&self) -> &str {
        match self {
            Address::Email(email) => email.as_str(),
            Address::Sms(mobile) => mobile.as_str(),
        }
    }

    /// Masked, for logs and support pages.
    pub fn masked(&self) -> String {
        match self {
            Address::Email(email) => email.masked(),
            Address::Sms(mobile) => mobile.masked(),
        }
    }
}

/// Which message to send. The sender renders it in the recipient's language from
/// [`code`](Template::code) and the parameters; no text is stored in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Template {
    /// "Your code is 123456" (parameters: `code`, `language`). Asked for by the person this
    /// minute, so not held back by quiet hours: holding it until 08:00 would only let it
    /// expire. Never send it later than its `send_by`.
    VerifyCode,
    /// "Your e-mail address / mobile number in the portal was changed", to the old address
    /// (parameters: `method`, `language`). Tells the owner if someone else did it.
    ContactChanged,
    /// "You have a new letter" (no link, no sensitive text; parameters chosen by the post
    /// module).
    NewLetter,
    /// "You have an unread message" (no link; the title only when the letter does not need
    /// `high`): the one reminder for a decision unread after 7 days, or the agency's repeat.
    UnreadReminder,
    /// "X asks for authority to act for you", to the giver of a new request (parameters:
    /// `name`, the asker's, and `language`).
    DelegationRequested,
    /// "X has given you authority to act for them", to the holder of a delegation granted, or
    /// of a request approved (parameters: `name`, the giver's, and `language`).
    DelegationGranted,
    /// "X has ended your authority to act for them", to the holder of a delegation the giver
    /// revoked (parameters: `name`, the giver's, and `language`).
    DelegationRevoked,
    /// "X has given up the authority you gave them", to the giver of a delegation the holder
    /// ended (parameters: `name`, the holder's, and `language`).
    DelegationGivenUp,
    /// "The authority … ends on D", to the giver and to the holder of a delegation whose last
    /// end date is 14 days away or less (parameters: `name`, the other party's, `ends_on` as
    /// `YYYY-MM-DD`, `role`, `giver` or `holder`, and `language`).
    DelegationEnding,
    /// "X has used the authority you gave them for the first time", to the giver (parameters:
    /// `name`, the holder's, and `language`).
    DelegationFirstUse,
    /// "X has sent you a document to sign; the deadline is D", to a signer whose turn has come
    /// (parameters: `name`, the sending agency's, `date`, the deadline's local day as
    /// `YYYY-MM-DD`, and `language`). No link and no title.
    SigningRequested,
    /// "A document from X waits for your signature; the deadline is D": the reminder before
    /// the deadline (the same parameters).
    SigningReminder,
}

impl Template {
    /// Every template, in the order they were added.
    pub const ALL: [Template; 12] = [
        Template::VerifyCode,
        Template::ContactChanged,
        Template::NewLetter,
        Template::UnreadReminder,
        Template::DelegationRequested,
        Template::DelegationGranted,
        Template::DelegationRevoked,
        Template::DelegationGivenUp,
        Template::DelegationEnding,
        Template::DelegationFirstUse,
        Template::SigningRequested,
        Template::SigningReminder,
    ];

    /// Stable code: stored, and the key the senders' texts are looked up by.
    pub fn code(self) -> &'static str {
        match self {
            Template::VerifyCode => "verify_code",
            Template::ContactChanged => "contact_changed",
            Template::NewLetter => "new_letter",
            Template::UnreadReminder => "unread_reminder",
            Template::DelegationRequested => "delegation_requested",
            Template::DelegationGranted => "delegation_granted",
            Template::DelegationRevoked => "delegation_revoked",
            Template::DelegationGivenUp => "delegation_given_up",
            Template::DelegationEnding => "delegation_ending",
            Template::DelegationFirstUse => "delegation_first_use",
            Template::SigningRequested => "signing_requested",
            Template::SigningReminder => "signing_reminder",
        }
    }

    /// The template for a code from [`code`](Template::code); `None` otherwise.
    pub fn from_code(code: &str) -> Option<Template> {
        Template::ALL
            .into_iter()
            .find(|template| template.code() == code)
    }

    /// Whether an SMS of this kind waits out the quiet hours (all but what the person asked
    /// for this minute).
    pub fn respects_quiet_hours(self) -> bool {
        !matches!(self, Template::VerifyCode)
    }
}

/// Why a notification could not be queued. Codes for logs and the agency API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum NotificationError {
    /// The idempotency key is empty, longer than 200 bytes, or holds control characters.
    #[error("the idempotency key is empty, too long or holds control characters")]
    InvalidIdempotencyKey,
    /// The parameters are not a JSON object, or longer than 2 KiB as JSON.
    #[error("the template parameters must be a JSON object of at most 2 KiB")]
    InvalidParams,
}

impl NotificationError {
    /// Stable, machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            NotificationError::InvalidIdempotencyKey => "notification.invalid_idempotency_key",
            NotificationError::InvalidParams => "notification.invalid_params",
        }
    }
}

/// A notification to queue. Build it with [`NewNotification::email`] or
/// [`NewNotification::sms`] (which apply the quiet hours); the fields are readable, and
/// settable only through the builder methods, so a queued message is always valid.
#[derive(Clone, PartialEq, Eq)]
pub struct NewNotification {
    pub(crate) recipient: PersonId,
    pub(crate) to: Address,
    pub(crate) template: Template,
    pub(crate) params: serde_json::Value,
    pub(crate) idempotency_key: String,
    pub(crate) not_before: OffsetDateTime,
    pub(crate) send_by: Option<OffsetDateTime>,
    pub(crate) quiet_zone: Option<NordicTimeZone>,
}

impl NewNotification {
    /// An e-mail to `recipient` at `to`, to go out from `now` on.
    ///
    /// `params` must be a JSON object of at most [`MAX_PARAMS_BYTES`]; `idempotency_key`
    /// names the message for its whole life (e.g. `letter:<id>:email`): queuing the same key
    /// twice queues it once.
    pub fn email(
        recipient: PersonId,
        to: &EmailAddress,
        template: Template,
        params: serde_json::Value,
        idempotency_key: impl Into<String>,
        now: OffsetDateTime,
    ) -> Result<NewNotification, NotificationError> {
        NewNotification::new(
            recipient,
            Address::Email(to.clone()),
            template,
            params,
            idempotency_key.into(),
            now,
            None,
        )
    }

    /// An SMS to `recipient` at `to`, to go out from `now` on, but not within the quiet hours
    /// of `zone` (22:00–08:00) unless the template is exempt
    /// ([`Template::respects_quiet_hours`]): then `not_before` is the next 08:00.
    pub fn sms(
        recipient: PersonId,
        to: &MobileNumber,
        template: Template,
        params: serde_json::Value,
        idempotency_key: impl Into<String>,
        now: OffsetDateTime,
        zone: NordicTimeZone,
    ) -> Result<NewNotification, NotificationError> {
        let quiet_zone = template.respects_quiet_hours().then_some(zone);
        NewNotification::new(
            recipient,
            Address::Sms(to.clone()),
            template,
            params,
            idempotency_key.into(),
            now,
            quiet_zone,
        )
    }

    fn new(
        recipient: PersonId,
        to: Address,
        template: Template,
        params: serde_json::Value,
        idempotency_key: String,
        now: OffsetDateTime,
        quiet_zone: Option<NordicTimeZone>,
    ) -> Result<NewNotification, NotificationError> {
        if idempotency_key.is_empty()
            || idempotency_key.len() > MAX_IDEMPOTENCY_KEY_LEN
            || idempotency_key.chars().any(char::is_control)
        {
            return Err(NotificationError::InvalidIdempotencyKey);
        }
        let size = serde_json::to_string(&params)
            .map(|json| json.len())
            .unwrap_or(usize::MAX);
        if !params.is_object() || size > MAX_PARAMS_BYTES {
            return Err(NotificationError::InvalidParams);
        }
        let mut notification = NewNotification {
            recipient,
            to,
            template,
            params,
            idempotency_key,
            not_before: now,
            send_by: None,
            quiet_zone,
        };
        notification.not_before = notification.allowed_from(now);
        Ok(notification)
    }

    /// Not before `at` (a reminder for later); quiet hours still apply to SMS.
    pub fn not_before(mut self, at: OffsetDateTime) -> NewNotification {
        self.not_before = self.allowed_from(at);
        self
    }

    /// Give up (final failure with error [`EXPIRED_ERROR`]) if not sent by `at`: for messages
    /// that are useless late, such as a code that expires.
    pub fn send_by(mut self, at: OffsetDateTime) -> NewNotification {
        self.send_by = Some(at);
        self
    }

    /// The first instant at or after `at` when this message may go out.
    fn allowed_from(&self, at: OffsetDateTime) -> OffsetDateTime {
        match self.quiet_zone {
            Some(zone) => next_allowed_sms_time(at, zone),
            None => at,
        }
    }

    /// Who the message is about and for.
    pub fn recipient(&self) -> PersonId {
        self.recipient
    }

    /// Where it goes.
    pub fn to(&self) -> &Address {
        &self.to
    }

    /// Which message.
    pub fn template(&self) -> Template {
        self.template
    }

    /// The template parameters.
    pub fn params(&self) -> &serde_json::Value {
        &self.params
    }

    /// The key that makes queuing (and the gateway) idempotent.
    pub fn idempotency_key(&self) -> &str {
        &self.idempotency_key
    }

    /// The earliest time it may be sent (quiet hours applied).
    pub fn earliest(&self) -> OffsetDateTime {
        self.not_before
    }

    /// The latest time it may be sent, if any.
    pub fn latest(&self) -> Option<OffsetDateTime> {
        self.send_by
    }

    /// The zone whose quiet hours hold it back (SMS that respect them), if any.
    pub fn quiet_zone(&self) -> Option<NordicTimeZone> {
        self.quiet_zone
    }
}

impl fmt::Debug for NewNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewNotification")
            .field("recipient", &self.recipient)
            .field("to", &self.to)
            .field("template", &self.template)
            .field("idempotency_key", &self.idempotency_key)
            .field("not_before", &self.not_before)
            .field("send_by", &self.send_by)
            .finish_non_exhaustive()
    }
}

/// What queuing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnqueueOutcome {
    /// Queued as a new message.
    Queued(NotificationId),
    /// A message with this idempotency key was already queued (or sent): nothing was added.
    AlreadyQueued(NotificationId),
}

impl EnqueueOutcome {
    /// The message's id either way.
    pub fn id(self) -> NotificationId {
        match self {
            EnqueueOutcome::Queued(id) | EnqueueOutcome::AlreadyQueued(id) => id,
        }
    }
}

/// A message handed to one worker to send, until `lease_until`.
#[derive(Clone, PartialEq, Eq)]
pub struct ClaimedNotification {
    /// The message's id: pass it back to `mark_sent` / `mark_failed_attempt`.
    pub id: NotificationId,
    /// Who it is for.
    pub recipient: PersonId,
    /// Where to send it.
    pub to: Address,
    /// Which message.
    pub template: Template,
    /// The template parameters (may hold a one-time code: never log them).
    pub params: serde_json::Value,
    /// Pass to the gateway, so a resend after a crash is recognised as the same message.
    pub idempotency_key: String,
    /// Which try this is: 1 for the first.
    pub attempt: u32,
    /// The claim's end: finish (mark sent or failed) before it, or another worker may send the
    /// message again.
    pub lease_until: OffsetDateTime,
}

impl fmt::Debug for ClaimedNotification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClaimedNotification")
            .field("id", &self.id)
            .field("recipient", &self.recipient)
            .field("to", &self.to)
            .field("template", &self.template)
            .field("idempotency_key", &self.idempotency_key)
            .field("attempt", &self.attempt)
            .field("lease_until", &self.lease_until)
            .finish_non_exhaustive()
    }
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationStatus {
    /// Waiting to be sent (or being sent, or waiting for a retry).
    Pending,
    /// Handed to the gateway.
    Sent,
    /// Given up: too many failed attempts, or too late ([`EXPIRED_ERROR`]).
    Failed,
}

impl NotificationStatus {
    /// `pending`, `sent` or `failed`, as stored and as agencies will see it.
    pub fn code(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Failed => "failed",
        }
    }

    /// The status for a code from [`code`](NotificationStatus::code); `None` otherwise.
    pub fn from_code(code: &str) -> Option<NotificationStatus> {
        [
            NotificationStatus::Pending,
            NotificationStatus::Sent,
            NotificationStatus::Failed,
        ]
        .into_iter()
        .find(|status| status.code() == code)
    }
}

/// A message's status, for support and (later) the agency API: no address, no parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// The message's id.
    pub id: NotificationId,
    /// Who it is for.
    pub recipient: PersonId,
    /// How it travels.
    pub channel: Channel,
    /// Which message.
    pub template: Template,
    /// The caller's key.
    pub idempotency_key: String,
    /// Pending, sent or failed.
    pub status: NotificationStatus,
    /// Failed attempts so far.
    pub attempts: u32,
    /// The error code of the last failed attempt (a code from the sender, e.g. `smtp.550`).
    pub last_error: Option<String>,
    /// The earliest time of the next try (pending), or of the last one.
    pub not_before: OffsetDateTime,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// When it was sent.
    pub sent_at: Option<OffsetDateTime>,
    /// When it was given up.
    pub failed_at: Option<OffsetDateTime>,
}

/// How failed sends are retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failed attempts after which a message is given up (status `failed`).
    pub max_attempts: u32,
    /// The wait after the 1st, 2nd, ... failed attempt; the last entry repeats.
    pub backoff: Vec<Duration>,
}

impl Default for RetryPolicy {
    /// 8 attempts over about a day: 30 s, 2 min, 10 min, 1 h, 2 h, 4 h, 8 h between them.
    /// Short waits first, for a gateway's brief hiccup; long ones later, for an outage.
    fn default() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 8,
            backoff: vec![
                Duration::seconds(30),
                Duration::minutes(2),
                Duration::minutes(10),
                Duration::hours(1),
                Duration::hours(2),
                Duration::hours(4),
                Duration::hours(8),
            ],
        }
    }
}

impl RetryPolicy {
    /// The wait after the `failed_attempts`-th failure (1-based).
    pub fn delay_after(&self, failed_attempts: u32) -> Duration {
        let index = usize::try_from(failed_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        self.backoff
            .get(index)
            .or(self.backoff.last())
            .copied()
            .unwrap_or(Duration::minutes(10))
    }
}

/// What became of a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailedAttempt {
    /// Another try is scheduled at this time (backoff, then quiet hours).
    RetryAt(OffsetDateTime),
    /// That was the last attempt: the message is `failed` for good.
    GaveUp,
    /// This worker no longer holds the message (its lease ran out and another worker took
    /// it, or it is already finished): nothing was recorded.
    NotClaimed,
}

/// An error code as stored: lower-case ASCII letters, digits, `.`, `_`, `-`, at most 64;
/// anything else becomes `unspecified`, so no gateway's free text (which may quote an
/// address) reaches the table.
pub(crate) fn storable_error_code(code: &str) -> String {
    let usable = !code.is_empty()
        && code.len() <= MAX_ERROR_CODE_LEN
        && code.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if usable {
        code.to_owned()
    } else {
        UNSPECIFIED_ERROR.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn codes_round_trip() {
        for template in Template::ALL {
            assert_eq!(Template::from_code(template.code()), Some(template));
        }
        for channel in [Channel::Email, Channel::Sms] {
            assert_eq!(Channel::from_code(channel.code()), Some(channel));
        }
        assert_eq!(Template::from_code("VERIFY_CODE"), None);
    }

    #[test]
    fn default_backoff_grows_and_repeats_its_last_step() {
        let policy = RetryPolicy::default();
        assert_eq!(policy.max_attempts, 8);
        assert_eq!(policy.delay_after(1), Duration::seconds(30));
        assert_eq!(policy.delay_after(2), Duration::minutes(2));
        assert_eq!(policy.delay_after(3), Duration::minutes(10));
        assert_eq!(policy.delay_after(4), Duration::hours(1));
        assert_eq!(policy.delay_after(7), Duration::hours(8));
        assert_eq!(policy.delay_after(20), Duration::hours(8));
        assert_eq!(policy.delay_after(0), Duration::seconds(30));
        let empty = RetryPolicy {
            max_attempts: 1,
            backoff: Vec::new(),
        };
        assert_eq!(empty.delay_after(1), Duration::minutes(10));
    }

    #[test]
    fn error_codes_are_kept_only_when_harmless() {
        assert_eq!(storable_error_code("smtp.550"), "smtp.550");
        assert_eq!(storable_error_code("gateway_timeout"), "gateway_timeout");
        for bad in ["", "550 <kari@example.no> unknown", "SMTP", &"x".repeat(65)] {
            assert_eq!(storable_error_code(bad), "unspecified", "{bad}");
        }
    }

    #[test]
    fn new_notifications_are_checked_and_sms_waits_for_morning() {
        let person = PersonId::new();
        let mobile = MobileNumber::from_e164("+4791234567").unwrap();
        let late = datetime!(2025-01-15 22:30 UTC); // 23:30 in Oslo
        let reminder = NewNotification::sms(
            person,
            &mobile,
            Template::NewLetter,
            serde_json::json!({}),
            "letter:1:sms",
            late,
            NordicTimeZone::Oslo,
        )
        .unwrap();
        assert_eq!(reminder.earliest(), datetime!(2025-01-16 07:00 UTC));
        let code = NewNotification::sms(
            person,
            &mobile,
            Template::VerifyCode,
            serde_json::json!({"code": "123456"}),
            "verify:1",
            late,
            NordicTimeZone::Oslo,
        )
        .unwrap();
        assert_eq!(code.earliest(), late);
        let debug = format!("{code:?}");
        assert!(!debug.contains("123456"), "{debug}");
        assert!(!debug.contains("91234567"), "{debug}");

        let email = EmailAddress::parse("kari@example.no").unwrap();
        for (params, key) in [
            (serde_json::json!([]), "k"),
            (serde_json::json!({"x": "y".repeat(MAX_PARAMS_BYTES)}), "k"),
            (serde_json::json!({}), ""),
            (serde_json::json!({}), "a\nb"),
        ] {
            assert!(
                NewNotification::email(person, &email, Template::NewLetter, params, key, late)
                    .is_err()
            );
        }
    }
}
