//! What the parties to a delegation are told, and when, as pure decisions: which template goes
//! to whom for each change ([`Notice`]), the messages for one recipient
//! ([`notice_notifications`]), and when a delegation's end is near enough to say so
//! ([`end_notice_due`]). Storage queues the messages in the transaction of the change they
//! report (`storage/delegation_notices.rs`), so a change that rolls back tells no one.
//!
//! The messages carry no link and no national id: the other party's name and what happened,
//! then "log in to Borgerportal to see it" (the texts are in `locales/*.json`, section
//! `notify`, rendered by the sender in the recipient's language). They go by every channel the
//! recipient may be notified on (a verified or recently confirmed e-mail address and mobile
//! number, not reserved against digital communication), as new letters do by default; someone
//! who cannot be notified sees the change when they next log in.

use time::{Date, Duration, OffsetDateTime};

use super::model::DelegationId;
use crate::contact::ContactInfo;
use crate::notify::NordicTimeZone;
use crate::outbox::{NewNotification, NotificationError, Template};

/// How many days before its last end date both parties are told that a delegation ends: a
/// delegation whose last day is 14 days away or less gets the notice.
pub const END_NOTICE_DAYS: i64 = 14;

/// The longest name put into a notice (in characters); a longer one is cut there. Names come
/// from the person register, so this only keeps a message short.
pub const MAX_NOTICE_NAME_CHARS: usize = 100;

/// Which side of a delegation a recipient is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Party {
    /// The person whose authority it is.
    Giver,
    /// The person who may act.
    Holder,
}

impl Party {
    /// `giver` or `holder`: in idempotency keys and in the `role` parameter.
    pub fn code(self) -> &'static str {
        match self {
            Party::Giver => "giver",
            Party::Holder => "holder",
        }
    }
}

/// What happened to a delegation that one of its parties is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// The holder asked for it: the giver is told.
    Requested,
    /// The giver granted it, or approved the holder's request: the holder is told.
    Granted,
    /// The giver ended a delegation in force: the holder is told.
    RevokedByGiver,
    /// The holder gave up a delegation in force: the giver is told.
    GivenUpByHolder,
    /// Its last end date (`ends_on`) is [`END_NOTICE_DAYS`] away or less: both are told, each
    /// with their own text (`to`).
    Ending {
        /// The last day it is in force.
        ends_on: Date,
        /// Who this message is for.
        to: Party,
    },
    /// The holder used it for the first time: the giver is told.
    FirstUse,
}

impl Notice {
    /// The template the message is rendered from.
    pub fn template(self) -> Template {
        match self {
            Notice::Requested => Template::DelegationRequested,
            Notice::Granted => Template::DelegationGranted,
            Notice::RevokedByGiver => Template::DelegationRevoked,
            Notice::GivenUpByHolder => Template::DelegationGivenUp,
            Notice::Ending { .. } => Template::DelegationEnding,
            Notice::FirstUse => Template::DelegationFirstUse,
        }
    }

    /// Who is told: the party the message goes to.
    pub fn recipient(self) -> Party {
        match self {
            Notice::Requested | Notice::GivenUpByHolder | Notice::FirstUse => Party::Giver,
            Notice::Granted | Notice::RevokedByGiver => Party::Holder,
            Notice::Ending { to, .. } => to,
        }
    }

    /// The idempotency key's stem: the same event about the same delegation is queued once,
    /// also when the transaction that queues it is retried. An end notice is keyed by its end
    /// date, so a delegation extended to a later end is told again.
    fn key(self, delegation: DelegationId) -> String {
        match self {
            Notice::Ending { ends_on, to } => {
                let ends_on = iso_date(ends_on);
                format!("delegation.ending:{delegation}:{ends_on}:{}", to.code())
            }
            other => format!("delegation.{}:{delegation}", other.template().code()),
        }
    }
}

/// The revocation notice for a delegation in force ended by `by` (the giver or the holder):
/// the other party is told.
pub fn revocation_notice(by: Party) -> Notice {
    match by {
        Party::Giver => Notice::RevokedByGiver,
        Party::Holder => Notice::GivenUpByHolder,
    }
}

/// The messages telling `info`'s person about `notice` on `delegation`, where `other_name` is
/// the other party's full name: one per channel the person may be notified on at `now`
/// (`staleness` as for letters), in their language, SMS not within quiet hours. Empty when
/// they cannot be notified.
pub fn notice_notifications(
    info: &ContactInfo,
    notice: Notice,
    delegation: DelegationId,
    other_name: &str,
    now: OffsetDateTime,
    staleness: Duration,
) -> Result<Vec<NewNotification>, NotificationError> {
    if !info.can_be_notified(now, staleness) {
        return Ok(Vec::new());
    }
    let name: String = other_name.chars().take(MAX_NOTICE_NAME_CHARS).collect();
    let mut params = serde_json::json!({
        "language": info.language.code(),
        "name": name,
    });
    if let Notice::Ending { ends_on, to } = notice {
        params["ends_on"] = serde_json::Value::String(iso_date(ends_on));
        params["role"] = serde_json::Value::String(to.code().to_owned());
    }
    let template = notice.template();
    let key = notice.key(delegation);
    let mut messages = Vec::new();
    if let Some(email) = info.fresh_email(now, staleness) {
        messages.push(NewNotification::email(
            info.person,
            email,
            template,
            params.clone(),
            format!("{key}:email"),
            now,
        )?);
    }
    if let Some(mobile) = info.fresh_mobile(now, staleness) {
        messages.push(NewNotification::sms(
            info.person,
            mobile,
            template,
            params,
            format!("{key}:sms"),
            now,
            NordicTimeZone::for_country(info.country),
        )?);
    }
    Ok(messages)
}

/// A day as `YYYY-MM-DD`, as the `ends_on` parameter and the key carry it.
fn iso_date(day: Date) -> String {
    format!(
        "{:04}-{:02}-{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The days whose delegations get the end notice on the day it is at `now` (Nordic wall
/// clock): a last end date from today through [`END_NOTICE_DAYS`] days ahead. A delegation
/// ending on day 15 is not told yet; one that has ended is not told at all.
pub fn end_notice_window(now: OffsetDateTime) -> (Date, Date) {
    let today = super::today(now);
    let last = today
        .checked_add(Duration::days(END_NOTICE_DAYS))
        .unwrap_or(Date::MAX);
    (today, last)
}

/// Whether a delegation in force whose last day is `ends_on`, told before for `told_for` (the
/// end date of the last notice, if any), gets the end notice at `now`: its end is within
/// [`end_notice_window`], and no notice was sent for this very end date (a change that moved
/// the end makes a new notice due).
pub fn end_notice_due(ends_on: Date, told_for: Option<Date>, now: OffsetDateTime) -> bool {
    let (first, last) = end_notice_window(now);
    (first..=last).contains(&ends_on) && told_for != Some(ends_on)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{ContactStatus, ContactValue, EmailAddress, MobileNumber};
    use crate::identity::Country;
    use crate::person::{Language, PersonId};
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2026-05-01 10:00 UTC);
    const STALENESS: Duration = Duration::days(548);

    fn reachable(language: Language) -> ContactInfo {
        let mut info = ContactInfo::not_registered(PersonId::new(), Country::Denmark, language);
        info.status = ContactStatus::Active;
        info.email = Some(ContactValue {
            value: EmailAddress::parse("kari@example.dk").unwrap(),
            updated_at: NOW - Duration::days(3),
            verified_at: Some(NOW - Duration::days(3)),
        });
        info.mobile = Some(ContactValue {
            value: MobileNumber::parse("+4520123456", Country::Denmark).unwrap(),
            updated_at: NOW - Duration::days(3),
            verified_at: Some(NOW - Duration::days(3)),
        });
        info
    }

    #[test]
    fn each_change_tells_the_other_party() {
        assert_eq!(Notice::Requested.recipient(), Party::Giver);
        assert_eq!(Notice::Granted.recipient(), Party::Holder);
        assert_eq!(revocation_notice(Party::Giver).recipient(), Party::Holder);
        assert_eq!(revocation_notice(Party::Holder).recipient(), Party::Giver);
        assert_eq!(Notice::FirstUse.recipient(), Party::Giver);
        let ending = |to| Notice::Ending {
            ends_on: date!(2026 - 05 - 15),
            to,
        };
        assert_eq!(ending(Party::Holder).recipient(), Party::Holder);
        assert_eq!(ending(Party::Giver).template(), Template::DelegationEnding);
    }

    #[test]
    fn a_notice_goes_by_every_fresh_channel_in_the_persons_language() {
        let info = reachable(Language::Da);
        let delegation = DelegationId::new();
        let long_name = "Å".repeat(300);
        let messages = notice_notifications(
            &info,
            Notice::Requested,
            delegation,
            &long_name,
            NOW,
            STALENESS,
        )
        .unwrap();
        assert_eq!(messages.len(), 2);
        for message in &messages {
            assert_eq!(message.recipient(), info.person);
            assert_eq!(message.template(), Template::DelegationRequested);
            assert_eq!(message.params()["language"], "da");
            let name = message.params()["name"].as_str().unwrap();
            assert_eq!(name.chars().count(), MAX_NOTICE_NAME_CHARS);
        }
        assert_eq!(
            messages[0].idempotency_key(),
            format!("delegation.delegation_requested:{delegation}:email")
        );
        assert_eq!(
            messages[1].idempotency_key(),
            format!("delegation.delegation_requested:{delegation}:sms")
        );
        // The end notice names its date and the recipient's side, and is keyed by both.
        let ending = Notice::Ending {
            ends_on: date!(2026 - 05 - 15),
            to: Party::Holder,
        };
        let messages =
            notice_notifications(&info, ending, delegation, "Ola", NOW, STALENESS).unwrap();
        assert_eq!(messages[0].params()["ends_on"], "2026-05-15");
        assert_eq!(messages[0].params()["role"], "holder");
        assert_eq!(
            messages[0].idempotency_key(),
            format!("delegation.ending:{delegation}:2026-05-15:holder:email")
        );
    }

    #[test]
    fn no_notice_for_someone_who_cannot_be_notified() {
        let mut reserved = reachable(Language::Nb);
        reserved.reserved = true;
        let mut stale = reachable(Language::Nb);
        let email = stale.email.as_mut().unwrap();
        email.verified_at = Some(NOW - Duration::days(600));
        email.updated_at = NOW - Duration::days(600);
        stale.mobile = None;
        let nobody = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
        for info in [reserved, stale, nobody] {
            let messages = notice_notifications(
                &info,
                Notice::Granted,
                DelegationId::new(),
                "Ola",
                NOW,
                STALENESS,
            )
            .unwrap();
            assert!(messages.is_empty());
        }
    }

    #[test]
    fn the_end_notice_is_due_from_fourteen_days_before_once_per_end_date() {
        let ends_on = date!(2026 - 06 - 30);
        // 10:00 UTC is noon in Oslo: the day is the calendar day.
        let on = |day: Date| day.with_hms(10, 0, 0).unwrap().assume_utc();
        assert!(
            !end_notice_due(ends_on, None, on(date!(2026 - 06 - 15))),
            "day 15"
        );
        assert!(
            end_notice_due(ends_on, None, on(date!(2026 - 06 - 16))),
            "day 14"
        );
        assert!(end_notice_due(ends_on, None, on(ends_on)), "the last day");
        assert!(
            !end_notice_due(ends_on, None, on(date!(2026 - 07 - 01))),
            "ended"
        );
        assert!(!end_notice_due(
            ends_on,
            Some(ends_on),
            on(date!(2026 - 06 - 20))
        ));
        // Told for an earlier end, then extended: the new end is due in its turn.
        let later = date!(2026 - 07 - 10);
        assert!(end_notice_due(
            later,
            Some(ends_on),
            on(date!(2026 - 06 - 28))
        ));
        // The day turns at midnight in Oslo, not in UTC (summer time: UTC+2).
        assert!(!end_notice_due(
            ends_on,
            None,
            datetime!(2026-06-15 21:59 UTC)
        ));
        assert!(end_notice_due(
            ends_on,
            None,
            datetime!(2026-06-15 22:00 UTC)
        ));
    }
}
