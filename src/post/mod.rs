//! Digital post: letters that agencies deliver and citizens read, file and search.
//!
//! - Delivery ([`NewLetter`], checked by [`NewLetter::validate`]): every rule is a typed
//!   [`PostError`] with a stable [`code`](PostError::code), checked before anything is
//!   stored. HTML bodies are sanitized once, at delivery ([`sanitize`]); attachments must be
//!   PDF by their content ([`pdf`]).
//! - Where a letter goes is decided in the delivery's transaction from the contact register:
//!   an active, unreserved entry gets it in the mailbox ([`DeliveryStatus::Delivered`]), or
//!   at the external mailbox provider it chose ([`DeliveryStatus::Forwarding`]), anyone else
//!   (reserved, not registered, deleted, unknown) on paper through the print queue
//!   ([`DeliveryStatus::ReturnedToPaper`]).
//! - The agency's [`NotificationRequest`] chooses the channels of the new-letter
//!   notification and one repeat; decisions are reminded once after
//!   [`DECISION_REMINDER_AFTER`] ([`NotificationWish::remind_at`]).
//! - Agencies poll [`Receipt`]s with a [`ReceiptCursor`], or read one letter's
//!   [`LetterStatus`].
//! - The citizen's mailbox: folders ([`FolderRef`]), pages newest first with a keyset
//!   [`LetterCursor`], a trash that empties after [`TRASH_RETENTION`], search.
//!
//! The storage side is the post office (agencies, print provider,
//! housekeeping) and the mailbox (the citizen, through access proofs).

#[cfg(feature = "dev")]
pub mod demo;
mod error;
mod letter;
mod mailbox;
pub mod pdf;
pub mod plan;
mod receipts;
pub mod sanitize;

pub use error::PostError;
pub use letter::{
    BodyKind, NewAttachment, NewLetter, NotificationRequest, NotificationWish, ValidLetter,
};
pub use mailbox::{
    folder_name, Attachment, AttachmentInfo, Folder, FolderRef, HelperOpening, Letter,
    LetterCursor, LetterPage, LetterSummary, LetterView, MailboxView,
};
pub(crate) use mailbox::{query_words, search_config};
pub use receipts::{
    DeliveryReceipt, DeliveryStatus, ForwardJob, ForwardOutcome, LetterStatus, PrintJob, Receipt,
    ReceiptCursor, ReceiptKind, ReceiptPage,
};

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::{Duration, OffsetDateTime};

use crate::access::Loa;
use crate::agency::AgencyId;
use crate::error::StoreError;
use crate::identity::NationalId;

/// The most attachments one letter may carry.
pub const MAX_ATTACHMENTS: usize = 20;
/// The largest attachment: 10 MB.
pub const MAX_ATTACHMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most all attachments of one letter may weigh together: 50 MB.
pub const MAX_TOTAL_ATTACHMENT_BYTES: usize = 50 * 1024 * 1024;
/// The longest title (and non-sensitive title), in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest sender name, in characters.
pub const MAX_SENDER_NAME_CHARS: usize = 200;
/// The largest body, as sent (text or HTML): 1 MB. Longer documents go as PDF.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The longest agency message id.
pub const MAX_MESSAGE_ID_LEN: usize = 100;
/// The longest attachment file name, in characters.
pub const MAX_FILENAME_CHARS: usize = 200;
/// How far ahead an effective time may lie.
pub const MAX_EFFECTIVE_DELAY: Duration = Duration::days(366);
/// How long a letter stays in the trash before [`purge_trash`](crate::Database::purge_trash)
/// deletes it for good.
pub const TRASH_RETENTION: Duration = Duration::days(30);
/// The unread count stops counting here: a result of this many means "this many or more" (the
/// header then says "99+"). So counting costs the same for a citizen with thousands of unread
/// letters as for one with a hundred, instead of walking every unread letter on every page.
pub const UNREAD_COUNT_LIMIT: u64 = 100;
/// The longest own folder name, in characters.
pub const MAX_FOLDER_NAME_CHARS: usize = 60;
/// The most own folders one person may have.
pub const MAX_FOLDERS: usize = 100;
/// The most letters one mailbox or search page returns.
pub const MAX_LETTER_PAGE_SIZE: u32 = 100;
/// The earliest and latest repeat an agency may ask for, in days.
pub const REPEAT_AFTER_DAYS: std::ops::RangeInclusive<i64> = 1..=30;
/// When an unread decision is reminded (counted from when it was shown).
pub const DECISION_REMINDER_AFTER: Duration = Duration::days(7);
/// The most receipts or print jobs one poll returns.
pub const MAX_RECEIPT_PAGE_SIZE: u32 = 1000;
/// The longest search query, in characters.
pub const MAX_QUERY_CHARS: usize = 200;

uuid_id!(
    /// A letter's id in the portal (not the agency's message id).
    LetterId
);
uuid_id!(
    /// A person's own folder.
    FolderId
);

/// The agency's own id for a message: the idempotency key of a delivery, unique per agency.
/// 1 to 100 ASCII letters, digits and `. _ : -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(String);

impl MessageId {
    /// Checks an id from an agency.
    pub fn parse(text: &str) -> Result<MessageId, PostError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_MESSAGE_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid {
            Ok(MessageId(text.to_owned()))
        } else {
            Err(PostError::InvalidMessageId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2025-05-01 12:00 UTC);

    fn letter() -> NewLetter {
        NewLetter {
            recipient: NationalId::parse("17848512397").unwrap(),
            message_id: "nav-2025-0001".to_owned(),
            sender_name: "NAV".to_owned(),
            title: "Vedtak om dagpenger".to_owned(),
            safe_title: "Brev fra NAV".to_owned(),
            body_kind: BodyKind::Html,
            body: "<p>Hei</p><script>alert(1)</script>".to_owned(),
            attachments: vec![NewAttachment {
                filename: "vedtak.pdf".to_owned(),
                content: pdf::minimal_pdf("Vedtak"),
            }],
            required_loa: Loa::Substantial,
            effective_at: None,
            wants_opening_receipt: true,
            is_decision: true,
            created_at: NOW,
            notification: NotificationRequest::default(),
        }
    }

    fn code_of(letter: NewLetter) -> &'static str {
        letter.validate(NOW).unwrap_err().code()
    }

    #[test]
    fn a_good_letter_passes_and_is_sanitized() {
        let valid = letter().validate(NOW).unwrap();
        assert_eq!(valid.body_html(), "<p>Hei</p>");
        assert_eq!(valid.message_id().as_str(), "nav-2025-0001");
        assert_eq!(valid.effective_at, NOW);
        assert_eq!(valid.search_text, "Hei");
    }

    #[test]
    fn every_rule_has_its_code() {
        let mut l = letter();
        l.message_id = "has space".to_owned();
        assert_eq!(code_of(l), "post.invalid_message_id");
        let mut l = letter();
        l.message_id = "x".repeat(101);
        assert_eq!(code_of(l), "post.invalid_message_id");
        let mut l = letter();
        l.sender_name = " ".to_owned();
        assert_eq!(code_of(l), "post.sender_name_missing");
        let mut l = letter();
        l.title = String::new();
        assert_eq!(code_of(l), "post.title_missing");
        let mut l = letter();
        l.title = "x".repeat(201);
        assert_eq!(code_of(l), "post.title_invalid");
        let mut l = letter();
        l.title = "a\u{7}b".to_owned();
        assert_eq!(code_of(l), "post.title_invalid");
        let mut l = letter();
        l.safe_title = String::new();
        assert_eq!(code_of(l), "post.safe_title_missing");
        let mut l = letter();
        l.body = "  \n".to_owned();
        assert_eq!(code_of(l), "post.body_empty");
        let mut l = letter();
        l.body = "x".repeat(MAX_BODY_BYTES + 1);
        assert_eq!(code_of(l), "post.body_too_large");
        let mut l = letter();
        l.attachments = vec![l.attachments[0].clone(); 21];
        assert_eq!(code_of(l), "post.too_many_attachments");
        // Counted before any content is looked at: the API gives the domain names only when
        // there are too many, and decodes none (server/src/api/post).
        let mut l = letter();
        l.attachments = vec![
            NewAttachment {
                filename: "a.pdf".to_owned(),
                content: Vec::new()
            };
            21
        ];
        assert_eq!(code_of(l), "post.too_many_attachments");
        let mut l = letter();
        l.attachments[0].filename = "../etc/passwd".to_owned();
        assert_eq!(code_of(l), "post.attachment_name_invalid");
        let mut l = letter();
        l.attachments[0].content = b"PK\x03\x04 not a pdf".to_vec();
        let error = l.validate(NOW).unwrap_err();
        assert!(matches!(error, PostError::AttachmentNotPdf { index: 0 }));
        assert_eq!(error.code(), "post.attachment_not_pdf");
        let mut l = letter();
        let mut big = pdf::minimal_pdf("big");
        big.splice(9..9, std::iter::repeat_n(b' ', MAX_ATTACHMENT_BYTES));
        l.attachments[0].content = big;
        assert_eq!(code_of(l), "post.attachment_too_large");
        let mut l = letter();
        let mut nine = pdf::minimal_pdf("nine");
        nine.splice(9..9, std::iter::repeat_n(b' ', 9 * 1024 * 1024));
        l.attachments = vec![
            NewAttachment {
                filename: "a.pdf".to_owned(),
                content: nine,
            };
            6
        ];
        assert_eq!(code_of(l), "post.attachments_too_large");
        let mut l = letter();
        l.effective_at = Some(NOW + Duration::days(400));
        assert_eq!(code_of(l), "post.effective_too_late");
        let mut l = letter();
        l.created_at = NOW + Duration::hours(1);
        assert_eq!(code_of(l), "post.created_in_future");
        for channels in [vec!["fax"], vec!["email", "email"], vec!["EMAIL"]] {
            let mut l = letter();
            l.notification.channels = Some(channels.into_iter().map(str::to_owned).collect());
            assert_eq!(code_of(l), "post.notification_channel_invalid");
        }
        for (channels, days) in [(None, 0), (None, 31), (None, -1), (Some(vec![]), 3)] {
            let mut l = letter();
            l.notification = NotificationRequest {
                channels,
                repeat_after_days: Some(days),
            };
            assert_eq!(code_of(l), "post.notification_repeat_invalid");
        }
    }

    #[test]
    fn notification_wishes_decide_channels_and_the_reminder() {
        let wish = |channels: Option<Vec<&str>>, days: Option<i64>| {
            NotificationRequest {
                channels: channels.map(|c| c.into_iter().map(str::to_owned).collect()),
                repeat_after_days: days,
            }
            .validate()
            .unwrap()
        };
        let both = wish(None, None);
        assert_eq!(both, NotificationWish::default());
        assert_eq!(both.channels_code(), "email,sms");
        assert_eq!(wish(Some(vec!["sms"]), None).channels_code(), "sms");
        assert_eq!(
            wish(Some(vec!["sms", "email"]), None).channels_code(),
            "email,sms"
        );
        let none = wish(Some(vec![]), None);
        assert!(!none.any());
        // Decisions: 7 days, or the agency's earlier repeat; never without a channel.
        assert_eq!(both.remind_at(true, NOW), Some(NOW + Duration::days(7)));
        assert_eq!(
            wish(None, Some(3)).remind_at(true, NOW),
            Some(NOW + Duration::days(3))
        );
        assert_eq!(
            wish(None, Some(20)).remind_at(true, NOW),
            Some(NOW + Duration::days(7))
        );
        assert_eq!(none.remind_at(true, NOW), None);
        // Other letters: only the agency's repeat.
        assert_eq!(both.remind_at(false, NOW), None);
        assert_eq!(
            wish(Some(vec!["email"]), Some(30)).remind_at(false, NOW),
            Some(NOW + Duration::days(30))
        );
        for stored in [both, none, wish(Some(vec!["sms"]), Some(2))] {
            assert_eq!(
                NotificationWish::from_stored(
                    stored.channels_code(),
                    stored.repeat_after_days.map(i64::from)
                ),
                Some(stored)
            );
        }
    }

    #[test]
    fn twenty_attachments_are_fine_and_effective_time_is_kept() {
        let mut l = letter();
        l.attachments = vec![l.attachments[0].clone(); 20];
        l.effective_at = Some(NOW + Duration::days(3));
        let valid = l.validate(NOW).unwrap();
        assert_eq!(valid.attachments.len(), 20);
        assert_eq!(valid.effective_at, NOW + Duration::days(3));
        // A past effective time means "now".
        let mut l = letter();
        l.effective_at = Some(NOW - Duration::days(3));
        assert_eq!(l.validate(NOW).unwrap().effective_at, NOW);
    }

    #[test]
    fn plain_text_bodies_are_escaped() {
        let mut l = letter();
        l.body_kind = BodyKind::Text;
        l.body = "<b>ikke fet</b>".to_owned();
        let valid = l.validate(NOW).unwrap();
        assert_eq!(valid.body_html(), "<p>&lt;b&gt;ikke fet&lt;/b&gt;</p>");
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        let cursor = LetterCursor {
            shown_at: datetime!(2025-05-01 12:00:00.123456 UTC),
            id: LetterId::new(),
        };
        assert_eq!(LetterCursor::decode(&cursor.encode()).unwrap(), cursor);
        let receipt = ReceiptCursor { txid: 77, seq: 12 };
        assert_eq!(ReceiptCursor::decode(&receipt.encode()).unwrap(), receipt);
        for junk in ["", "!!", "bm9wZQ"] {
            assert!(LetterCursor::decode(junk).is_err());
            assert!(ReceiptCursor::decode(junk).is_err());
        }
    }

    #[test]
    fn folder_names_and_queries_are_checked() {
        assert_eq!(folder_name("  Skatt  ").unwrap(), "Skatt");
        assert!(folder_name("").is_err());
        assert!(folder_name(&"x".repeat(61)).is_err());
        assert_eq!(
            query_words("Vedtak, dagpenger!").unwrap(),
            ["vedtak", "dagpenger"]
        );
        assert!(query_words(" - ").is_err());
        assert!(query_words(&"x".repeat(201)).is_err());
        for kind in ReceiptKind::ALL {
            assert_eq!(ReceiptKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(FolderRef::from_code("inbox"), Some(FolderRef::Inbox));
        let own = FolderRef::Own(FolderId::new());
        assert_eq!(FolderRef::from_code(&own.code()), Some(own));
    }
}
