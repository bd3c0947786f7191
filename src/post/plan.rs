//! Every decision of a delivery, in one place and without the database: where a letter goes
//! (the mailbox, an external provider, paper), which receipts it gets, its audit event and the
//! messages that tell the recipient ([`plan_delivery`]); and what a message about a letter may
//! say ([`letter_notifications`], also for the unread reminders). Storage carries out a
//! [`DeliveryPlan`] as it is, one delivery per transaction or a batch in multi-row statements.

use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    search_config, DeliveryReceipt, DeliveryStatus, LetterId, MessageId, NotificationWish,
    ReceiptKind, ValidLetter,
};
use crate::access::Loa;
use crate::agency::AgencyId;
use crate::audit::{AuditEvent, AuditKind};
use crate::clock::stored_instant;
use crate::contact::{ContactInfo, ContactStatus, Mailbox};
use crate::notify::NordicTimeZone;
use crate::outbox::{NewNotification, NotificationError, Template};
use crate::person::PersonId;

/// A new delivery as decided by [`plan_delivery`], before anything is written: every row it
/// needs. Both write paths take it as it is: one delivery in its own transaction
/// (PostgreSQL, and SQLite's fallback) and a batch of them in multi-row statements (SQLite's
/// group writer).
pub struct DeliveryPlan {
    pub id: LetterId,
    pub status: DeliveryStatus,
    /// The recipient, when the portal knows them.
    pub person: Option<PersonId>,
    /// PostgreSQL's text search configuration for the recipient's language.
    pub search_config: &'static str,
    /// `Some("inbox")` for a letter in the portal's mailbox.
    pub folder: Option<&'static str>,
    pub effective_at: OffsetDateTime,
    pub shown_at: OffsetDateTime,
    pub remind_at: Option<OffsetDateTime>,
    /// `now`, as the store keeps it.
    pub delivered_at: OffsetDateTime,
    /// The external mailbox provider that gets the letter (the forwarding queue).
    pub forward_to: Option<String>,
    /// The letter goes to the print queue.
    pub print: bool,
    /// The receipt written now (none while a provider has yet to take it).
    pub receipt: Option<ReceiptKind>,
    /// `post.delivered`, for a letter in the mailbox.
    pub audit: Option<AuditEvent>,
    /// The `new_letter` messages.
    pub notifications: Vec<NewNotification>,
    /// The agency wanted the recipient notified and nothing can be sent (no channel it asked
    /// for that the person has fresh): a `notification_failed` receipt after `receipt`.
    pub notification_failed: bool,
}

impl DeliveryPlan {
    /// The receipts written with the letter, in order.
    pub fn receipts(&self) -> impl Iterator<Item = ReceiptKind> {
        self.receipt.into_iter().chain(
            self.notification_failed
                .then_some(ReceiptKind::NotificationFailed),
        )
    }

    /// Whether the letter lands in the portal's mailbox (so it gets a search entry).
    pub fn in_mailbox(&self) -> bool {
        self.status == DeliveryStatus::Delivered
    }

    /// The owner token of the letter's SQLite search entry (the person's own word, so a
    /// search only meets their letters).
    pub fn search_owner(&self) -> Option<String> {
        self.person
            .map(|person| format!("p{}", person.as_uuid().simple()))
    }

    /// The answer to the agency once this plan is committed.
    pub fn receipt(&self, message_id: MessageId) -> DeliveryReceipt {
        DeliveryReceipt {
            letter: self.id,
            message_id,
            status: self.status,
            delivered_at: self.delivered_at,
            replayed: false,
        }
    }
}

/// What [`plan_delivery`] decided.
pub enum Decision {
    /// The message id was delivered before: answer its first receipt, write nothing.
    Replay(DeliveryReceipt),
    /// A new letter: write these rows.
    New(Box<DeliveryPlan>),
}

/// Every decision of a delivery, in one place and without the database: from the checked
/// letter, the receipt of an earlier delivery with its message id (if any) and the
/// recipient's contact entry (if the portal knows them), what to store. A recipient who is
/// active and not reserved (or any known person, for demo letters: `force_mailbox`) gets the
/// letter in the inbox with a `delivered` receipt, an audit event and the `new_letter`
/// messages by the wished channels that are fresh within `staleness`; one who chose an
/// external mailbox gets it through the forwarding queue; anyone else on paper.
pub fn plan_delivery(
    agency: &AgencyId,
    letter: &ValidLetter,
    existing: Option<DeliveryReceipt>,
    recipient: Option<&ContactInfo>,
    now: OffsetDateTime,
    force_mailbox: bool,
    staleness: Duration,
) -> Result<Decision, NotificationError> {
    if let Some(first) = existing {
        return Ok(Decision::Replay(first));
    }
    let now = stored_instant(now);
    let digital = recipient.is_some_and(|info| {
        force_mailbox || (info.status == ContactStatus::Active && !info.reserved)
    });
    // A citizen who chose an external mailbox gets the letter there (the forwarding queue),
    // not in the portal's; demo letters always go to the portal's.
    let forward_to = recipient.and_then(|info| match &info.mailbox {
        Mailbox::External { provider } if digital && !force_mailbox => Some(provider.clone()),
        _ => None,
    });
    let status = match (&forward_to, digital) {
        (Some(_), _) => DeliveryStatus::Forwarding,
        (None, true) => DeliveryStatus::Delivered,
        (None, false) => DeliveryStatus::ReturnedToPaper,
    };
    let in_mailbox = status == DeliveryStatus::Delivered;
    let id = LetterId::new();
    let effective_at = stored_instant(letter.effective_at);
    let shown_at = effective_at.max(now);
    let language = recipient.map_or(crate::person::Language::Nb, |info| info.language);
    let remind_at = if in_mailbox {
        letter
            .notification
            .remind_at(letter.is_decision, shown_at)
            .map(stored_instant)
    } else {
        None
    };
    let receipt = match status {
        // The receipt comes when the provider has it (or it goes on paper).
        DeliveryStatus::Forwarding => None,
        DeliveryStatus::Delivered => Some(ReceiptKind::Delivered),
        _ => Some(ReceiptKind::ReturnedToPaper),
    };
    let (audit, notifications) = match recipient {
        Some(info) if in_mailbox => {
            let audit = AuditEvent {
                id: Uuid::now_v7(),
                subject: info.person,
                actor: None,
                agency: Some(agency.clone()),
                kind: AuditKind::PostDelivered,
                loa: None,
                provider: None,
                at: now,
                acted_under: None,
                about: Some(letter.safe_title.clone()),
            };
            let about = LetterNotice {
                id,
                sender_name: &letter.sender_name,
                title: (letter.required_loa != Loa::High).then_some(letter.title.as_str()),
                wish: letter.notification,
                not_before: letter.effective_at,
            };
            let notifications =
                letter_notifications(info, &about, Template::NewLetter, now, staleness)?;
            (Some(audit), notifications)
        }
        _ => (None, Vec::new()),
    };
    let notification_failed = in_mailbox && letter.notification.any() && notifications.is_empty();
    Ok(Decision::New(Box::new(DeliveryPlan {
        id,
        status,
        person: recipient.map(|info| info.person),
        search_config: search_config(language),
        folder: in_mailbox.then_some("inbox"),
        effective_at,
        shown_at,
        remind_at,
        delivered_at: now,
        print: status == DeliveryStatus::ReturnedToPaper,
        forward_to,
        receipt,
        audit,
        notifications,
        notification_failed,
    })))
}

/// What a notification about a letter may say, and how the agency wants it sent.
pub struct LetterNotice<'a> {
    pub id: LetterId,
    pub sender_name: &'a str,
    /// `None` when the letter needs `high`: its title is not put in a notification.
    pub title: Option<&'a str>,
    pub wish: NotificationWish,
    pub not_before: OffsetDateTime,
}

/// The messages about a letter (`new_letter` or `unread_reminder`): one per channel the
/// agency wants and the person has fresh (verified or confirmed within `staleness`), when
/// the person may be notified at all; not before `not_before`; the title only when the letter
/// does not need `high`. Empty when nothing can be sent.
pub fn letter_notifications(
    info: &ContactInfo,
    letter: &LetterNotice<'_>,
    template: Template,
    now: OffsetDateTime,
    staleness: Duration,
) -> Result<Vec<NewNotification>, NotificationError> {
    if !info.can_be_notified(now, staleness) {
        return Ok(Vec::new());
    }
    let mut params = serde_json::json!({
        "language": info.language.code(),
        "sender": letter.sender_name,
    });
    if let Some(title) = letter.title {
        params["title"] = serde_json::Value::String(title.to_owned());
    }
    let key = match template {
        Template::UnreadReminder => "post.unread_reminder",
        _ => "post.new_letter",
    };
    let id = letter.id;
    let mut messages = Vec::new();
    if let (true, Some(email)) = (letter.wish.email, info.fresh_email(now, staleness)) {
        messages.push(
            NewNotification::email(
                info.person,
                email,
                template,
                params.clone(),
                format!("{key}:{id}:email"),
                now,
            )?
            .not_before(letter.not_before),
        );
    }
    if let (true, Some(mobile)) = (letter.wish.sms, info.fresh_mobile(now, staleness)) {
        messages.push(
            NewNotification::sms(
                info.person,
                mobile,
                template,
                params,
                format!("{key}:{id}:sms"),
                now,
                NordicTimeZone::for_country(info.country),
            )?
            .not_before(letter.not_before),
        );
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contact::{ContactValue, EmailAddress, MobileNumber};
    use crate::identity::{Country, NationalId};
    use crate::person::Language;
    use crate::post::{pdf, BodyKind, NewAttachment, NewLetter, NotificationRequest};
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-05-01 12:00 UTC);
    const STALENESS: Duration = Duration::days(548);

    fn agency() -> AgencyId {
        AgencyId::parse("nav").unwrap()
    }

    fn letter(edit: impl FnOnce(&mut NewLetter)) -> ValidLetter {
        let mut letter = NewLetter {
            recipient: NationalId::parse("17848512397").unwrap(),
            message_id: "nav-1".to_owned(),
            sender_name: "NAV".to_owned(),
            title: "Vedtak om dagpenger".to_owned(),
            safe_title: "Brev fra NAV".to_owned(),
            body_kind: BodyKind::Text,
            body: "Hei".to_owned(),
            attachments: vec![NewAttachment {
                filename: "vedtak.pdf".to_owned(),
                content: pdf::minimal_pdf("Vedtak"),
            }],
            required_loa: Loa::Substantial,
            effective_at: None,
            wants_opening_receipt: false,
            is_decision: true,
            created_at: NOW,
            notification: NotificationRequest::default(),
        };
        edit(&mut letter);
        letter.validate(NOW).unwrap()
    }

    /// An active, unreserved entry with a fresh e-mail address and mobile number.
    fn active() -> ContactInfo {
        let mut info = ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nn);
        info.status = ContactStatus::Active;
        info.email = Some(ContactValue {
            value: EmailAddress::parse("kari@example.no").unwrap(),
            updated_at: NOW - Duration::days(10),
            verified_at: Some(NOW - Duration::days(10)),
        });
        info.mobile = Some(ContactValue {
            value: MobileNumber::parse("+4791234567", Country::Norway).unwrap(),
            updated_at: NOW - Duration::days(10),
            verified_at: Some(NOW - Duration::days(10)),
        });
        info
    }

    fn planned(letter: &ValidLetter, recipient: Option<&ContactInfo>) -> DeliveryPlan {
        match plan_delivery(&agency(), letter, None, recipient, NOW, false, STALENESS).unwrap() {
            Decision::New(plan) => *plan,
            Decision::Replay(_) => panic!("a first delivery is new"),
        }
    }

    #[test]
    fn an_active_recipient_gets_the_letter_in_the_inbox_with_its_rows() {
        let info = active();
        let plan = planned(&letter(|_| {}), Some(&info));
        assert_eq!(plan.status, DeliveryStatus::Delivered);
        assert_eq!(plan.person, Some(info.person));
        assert_eq!(plan.folder, Some("inbox"));
        assert!(!plan.print);
        assert_eq!(plan.forward_to, None);
        assert_eq!(
            plan.receipts().collect::<Vec<_>>(),
            [ReceiptKind::Delivered]
        );
        let audit = plan.audit.as_ref().unwrap();
        assert_eq!(audit.subject, info.person);
        assert_eq!(audit.kind, AuditKind::PostDelivered);
        assert_eq!(audit.agency, Some(agency()));
        assert_eq!(plan.notifications.len(), 2, "e-mail and SMS");
        assert_eq!(plan.search_config, "norwegian");
        // A decision is reminded of 7 days after it was shown.
        assert_eq!(plan.remind_at, Some(NOW + Duration::days(7)));
        assert_eq!(plan.shown_at, NOW);
    }

    #[test]
    fn reserved_unregistered_and_unknown_recipients_get_paper_and_nothing_else() {
        let mut reserved = active();
        reserved.reserved = true;
        let unregistered =
            ContactInfo::not_registered(PersonId::new(), Country::Norway, Language::Nb);
        for recipient in [Some(&reserved), Some(&unregistered), None] {
            let plan = planned(&letter(|_| {}), recipient);
            assert_eq!(plan.status, DeliveryStatus::ReturnedToPaper);
            assert!(plan.print);
            assert_eq!(plan.folder, None);
            assert!(plan.audit.is_none());
            assert!(plan.notifications.is_empty());
            assert!(
                !plan.notification_failed,
                "paper is not a failed notification"
            );
            assert_eq!(plan.remind_at, None);
            assert_eq!(
                plan.receipts().collect::<Vec<_>>(),
                [ReceiptKind::ReturnedToPaper]
            );
        }
    }

    #[test]
    fn an_external_mailbox_gets_it_through_forwarding_with_no_receipt_yet() {
        let mut info = active();
        info.mailbox = Mailbox::external("e-boks").unwrap();
        let plan = planned(&letter(|_| {}), Some(&info));
        assert_eq!(plan.status, DeliveryStatus::Forwarding);
        assert_eq!(plan.forward_to.as_deref(), Some("e-boks"));
        assert_eq!(plan.receipts().count(), 0);
        assert!(plan.notifications.is_empty(), "the provider notifies");
        assert_eq!(plan.remind_at, None);
        // Demo letters always go to the portal's own mailbox.
        let Decision::New(demo) = plan_delivery(
            &agency(),
            &letter(|_| {}),
            None,
            Some(&info),
            NOW,
            true,
            STALENESS,
        )
        .unwrap() else {
            panic!("new")
        };
        assert_eq!(demo.status, DeliveryStatus::Delivered);
    }

    #[test]
    fn stale_contact_data_means_a_notification_failed_receipt_after_delivered() {
        let mut info = active();
        for value in [
            info.email.as_mut().unwrap().verified_at.as_mut(),
            info.mobile.as_mut().unwrap().verified_at.as_mut(),
        ] {
            *value.unwrap() = NOW - Duration::days(600);
        }
        info.email.as_mut().unwrap().updated_at = NOW - Duration::days(600);
        info.mobile.as_mut().unwrap().updated_at = NOW - Duration::days(600);
        let plan = planned(&letter(|_| {}), Some(&info));
        assert!(plan.notifications.is_empty());
        assert!(plan.notification_failed);
        assert_eq!(
            plan.receipts().collect::<Vec<_>>(),
            [ReceiptKind::Delivered, ReceiptKind::NotificationFailed]
        );
        // No channel wished: nothing to fail.
        let quiet = letter(|l| l.notification.channels = Some(Vec::new()));
        let plan = planned(&quiet, Some(&info));
        assert!(!plan.notification_failed);
    }

    #[test]
    fn a_high_letter_s_message_leaves_its_title_out_and_waits_for_the_effective_time() {
        let later = NOW + Duration::days(3);
        let high = letter(|l| {
            l.required_loa = Loa::High;
            l.effective_at = Some(later);
            l.notification.channels = Some(vec!["email".to_owned()]);
        });
        let plan = planned(&high, Some(&active()));
        assert_eq!(plan.shown_at, later);
        assert_eq!(plan.notifications.len(), 1);
        let message = &plan.notifications[0];
        assert_eq!(message.earliest(), later);
        assert!(message.params().get("title").is_none());
        assert_eq!(message.params()["sender"], "NAV");
        let open = letter(|l| l.notification.channels = Some(vec!["sms".to_owned()]));
        let plan = planned(&open, Some(&active()));
        assert_eq!(
            plan.notifications[0].params()["title"],
            "Vedtak om dagpenger"
        );
    }

    #[test]
    fn a_message_id_seen_before_is_a_replay_of_the_first_receipt() {
        let first = DeliveryReceipt {
            letter: LetterId::new(),
            message_id: MessageId::parse("nav-1").unwrap(),
            status: DeliveryStatus::Delivered,
            delivered_at: NOW - Duration::hours(1),
            replayed: false,
        };
        let decision = plan_delivery(
            &agency(),
            &letter(|_| {}),
            Some(first.clone()),
            Some(&active()),
            NOW,
            false,
            STALENESS,
        )
        .unwrap();
        assert!(matches!(decision, Decision::Replay(receipt) if receipt == first));
    }
}
