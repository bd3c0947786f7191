//! What a signer is told through the outbox: "a document to sign" when their turn comes, and
//! one reminder before the deadline (planned by [`reminder_at`](super::progress::reminder_at)).
//! No link and no title: the sending agency's name and the deadline only, so a message seen by
//! someone else gives nothing away; an SMS waits out the quiet hours.

use time::{Duration, OffsetDateTime};

use super::{SignerId, SigningNotifications};
use crate::contact::ContactInfo;
use crate::notify::NordicTimeZone;
use crate::outbox::{NewNotification, NotificationError, Template};

/// The longest sender name a message carries (longer ones are cut).
pub const MAX_SENDER_CHARS: usize = 100;

/// Which message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningNotice {
    /// The signer's turn has come.
    Requested,
    /// The reminder before the deadline.
    Reminder,
}

impl SigningNotice {
    fn template(self) -> Template {
        match self {
            SigningNotice::Requested => Template::SigningRequested,
            SigningNotice::Reminder => Template::SigningReminder,
        }
    }

    /// The idempotency key's stem: one message of each kind per signer and channel.
    fn key(self, signer: SignerId) -> String {
        match self {
            SigningNotice::Requested => format!("signing-requested:{signer}"),
            SigningNotice::Reminder => format!("signing-reminder:{signer}"),
        }
    }
}

/// The messages telling `info`'s person about `notice` for signer `signer`, from `sender`,
/// with the job's `deadline`: one per channel the job asked for on which the person may be
/// notified at `at` (`staleness` as for letters), in their language, not before `at` (a job
/// that opens later is told at its opening), an SMS not within quiet hours. Empty when they
/// cannot be notified (also: reserved since the job was made).
#[allow(clippy::too_many_arguments)]
pub fn signer_notifications(
    info: &ContactInfo,
    notice: SigningNotice,
    signer: SignerId,
    sender: &str,
    deadline: OffsetDateTime,
    wish: SigningNotifications,
    at: OffsetDateTime,
    staleness: Duration,
) -> Result<Vec<NewNotification>, NotificationError> {
    if !info.can_be_notified(at, staleness) {
        return Ok(Vec::new());
    }
    let zone = NordicTimeZone::for_country(info.country);
    let day = zone.local_date(deadline);
    let params = serde_json::json!({
        "language": info.language.code(),
        "name": sender.chars().take(MAX_SENDER_CHARS).collect::<String>(),
        "date": format!("{:04}-{:02}-{:02}", day.year(), u8::from(day.month()), day.day()),
    });
    let (template, key) = (notice.template(), notice.key(signer));
    let mut messages = Vec::new();
    if let Some(email) = info.fresh_email(at, staleness).filter(|_| wish.email) {
        messages.push(NewNotification::email(
            info.person,
            email,
            template,
            params.clone(),
            format!("{key}:email"),
            at,
        )?);
    }
    if let Some(mobile) = info.fresh_mobile(at, staleness).filter(|_| wish.sms) {
        messages.push(NewNotification::sms(
            info.person,
            mobile,
            template,
            params,
            format!("{key}:sms"),
            at,
            zone,
        )?);
    }
    Ok(messages)
}
