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
//! The storage side is [`PostOffice`](crate::PostOffice) (agencies, print provider,
//! housekeeping) and [`PostBox`](crate::PostBox) (the citizen, through access proofs).

#[cfg(feature = "dev")]
pub mod demo;
pub mod pdf;
pub mod sanitize;

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::access::Loa;
use crate::agency::AgencyId;
use crate::identity::NationalId;
use crate::storage::StoreError;

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
/// How long a letter stays in the trash before [`purge_trash`](crate::PostOffice::purge_trash)
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

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id (UUID version 7).
            pub fn new() -> $name {
                $name(Uuid::now_v7())
            }

            /// Wraps an id read from storage or a URL.
            pub fn from_uuid(id: Uuid) -> $name {
                $name(id)
            }

            /// The UUID inside.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The id as text, hyphenated (as `Display` writes it, without the formatting
            /// machinery: a mailbox page writes twenty).
            pub fn to_text(&self) -> String {
                self.0
                    .hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
                    .to_owned()
            }
        }

        impl Default for $name {
            fn default() -> $name {
                $name::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    };
}

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

/// What kind of body an agency sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// Plain text: escaped, line breaks kept.
    Text,
    /// HTML from the allowed subset: sanitized.
    Html,
}

impl BodyKind {
    /// `text` or `html`, as stored and as the API names it.
    pub fn code(self) -> &'static str {
        match self {
            BodyKind::Text => "text",
            BodyKind::Html => "html",
        }
    }

    /// The kind for a code from [`code`](BodyKind::code).
    pub fn from_code(code: &str) -> Option<BodyKind> {
        [BodyKind::Text, BodyKind::Html]
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// An attachment as an agency sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct NewAttachment {
    /// The file name shown to the citizen (and in `Content-Disposition`).
    pub filename: String,
    /// The PDF file.
    pub content: Vec<u8>,
}

impl fmt::Debug for NewAttachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAttachment")
            .field("filename", &self.filename)
            .field("bytes", &self.content.len())
            .finish()
    }
}

/// A letter as an agency delivers it, before any check.
#[derive(Clone, PartialEq, Eq)]
pub struct NewLetter {
    /// Who it is for.
    pub recipient: NationalId,
    /// The agency's id for this message (idempotency key).
    pub message_id: String,
    /// The sender's name as the citizen sees it (the agency's display name).
    pub sender_name: String,
    /// The title; may be sensitive.
    pub title: String,
    /// A title that gives nothing away, shown below the required level of assurance.
    pub safe_title: String,
    /// Text or HTML.
    pub body_kind: BodyKind,
    /// The body as sent.
    pub body: String,
    /// PDF attachments (0 to 20).
    pub attachments: Vec<NewAttachment>,
    /// The level of assurance needed to read the content.
    pub required_loa: Loa,
    /// Not shown (nor notified) before this; `None`: at once.
    pub effective_at: Option<OffsetDateTime>,
    /// Whether the agency wants an `opened` receipt.
    pub wants_opening_receipt: bool,
    /// Whether it is a decision (vedtak): opening is recorded, reminders follow.
    pub is_decision: bool,
    /// When the agency wrote it.
    pub created_at: OffsetDateTime,
    /// The agency's notification wishes, unchecked (default: every channel, no repeat).
    pub notification: NotificationRequest,
}

/// The agency's notification wishes as sent, before any check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationRequest {
    /// `email` and/or `sms`, each at most once; empty: no notification at all; `None`: both.
    pub channels: Option<Vec<String>>,
    /// One repeat if the letter is still unread this many days after it was shown (1 to 30).
    pub repeat_after_days: Option<i64>,
}

/// Checked notification wishes: what is stored on the letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NotificationWish {
    /// Notify by e-mail (to a fresh address).
    pub email: bool,
    /// Notify by SMS (to a fresh number).
    pub sms: bool,
    /// One repeat after this many days if still unread.
    pub repeat_after_days: Option<u8>,
}

impl Default for NotificationWish {
    /// Both channels, no repeat: what letters got before agencies could choose.
    fn default() -> NotificationWish {
        NotificationWish {
            email: true,
            sms: true,
            repeat_after_days: None,
        }
    }
}

impl NotificationWish {
    /// Whether any channel is wanted.
    pub fn any(&self) -> bool {
        self.email || self.sms
    }

    /// The channels as stored: `email,sms`, `email`, `sms` or empty.
    pub fn channels_code(&self) -> &'static str {
        match (self.email, self.sms) {
            (true, true) => "email,sms",
            (true, false) => "email",
            (false, true) => "sms",
            (false, false) => "",
        }
    }

    /// The wish for stored columns; `None` for an unknown channel code.
    pub fn from_stored(channels: &str, repeat_after_days: Option<i64>) -> Option<NotificationWish> {
        let (email, sms) = match channels {
            "email,sms" => (true, true),
            "email" => (true, false),
            "sms" => (false, true),
            "" => (false, false),
            _ => return None,
        };
        Some(NotificationWish {
            email,
            sms,
            repeat_after_days: repeat_after_days.and_then(|days| u8::try_from(days).ok()),
        })
    }

    /// The channels' names, as the API lists them.
    pub fn channel_names(&self) -> Vec<&'static str> {
        [(self.email, "email"), (self.sms, "sms")]
            .into_iter()
            .filter_map(|(wanted, name)| wanted.then_some(name))
            .collect()
    }

    /// When the one reminder is due for a letter shown at `shown_at`: a decision after
    /// [`DECISION_REMINDER_AFTER`] (or the agency's earlier repeat), another letter after the
    /// agency's repeat if it asked for one; never when no channel is wanted.
    pub fn remind_at(&self, is_decision: bool, shown_at: OffsetDateTime) -> Option<OffsetDateTime> {
        if !self.any() {
            return None;
        }
        let repeat = self
            .repeat_after_days
            .map(|days| Duration::days(i64::from(days)));
        let after = if is_decision {
            Some(repeat.map_or(DECISION_REMINDER_AFTER, |repeat| {
                repeat.min(DECISION_REMINDER_AFTER)
            }))
        } else {
            repeat
        };
        after.map(|after| shown_at + after)
    }
}

impl NotificationRequest {
    /// Checks the wishes: known channels, each once; a repeat of 1 to 30 days and only with a
    /// channel to send it by.
    pub fn validate(&self) -> Result<NotificationWish, PostError> {
        let (email, sms) = match &self.channels {
            None => (true, true),
            Some(channels) => {
                let (mut email, mut sms) = (false, false);
                for channel in channels {
                    let seen = match channel.as_str() {
                        "email" => &mut email,
                        "sms" => &mut sms,
                        _ => return Err(PostError::NotificationChannelInvalid),
                    };
                    if *seen {
                        return Err(PostError::NotificationChannelInvalid);
                    }
                    *seen = true;
                }
                (email, sms)
            }
        };
        let repeat_after_days = match self.repeat_after_days {
            None => None,
            Some(days) if REPEAT_AFTER_DAYS.contains(&days) && (email || sms) => {
                Some(u8::try_from(days).map_err(|_| PostError::NotificationRepeatInvalid)?)
            }
            Some(_) => return Err(PostError::NotificationRepeatInvalid),
        };
        Ok(NotificationWish {
            email,
            sms,
            repeat_after_days,
        })
    }
}

/// Hand-written: no body, title or national id in logs.
impl fmt::Debug for NewLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewLetter")
            .field("recipient", &self.recipient)
            .field("message_id", &self.message_id)
            .field("body_kind", &self.body_kind)
            .field("attachments", &self.attachments.len())
            .field("required_loa", &self.required_loa)
            .finish_non_exhaustive()
    }
}

/// A letter that passed every check, with its safe HTML: what the store writes.
#[derive(Clone)]
pub struct ValidLetter {
    pub(crate) recipient: NationalId,
    pub(crate) message_id: MessageId,
    pub(crate) sender_name: String,
    pub(crate) title: String,
    pub(crate) safe_title: String,
    pub(crate) body_kind: BodyKind,
    pub(crate) body: String,
    pub(crate) body_html: String,
    pub(crate) search_text: String,
    pub(crate) attachments: Vec<NewAttachment>,
    pub(crate) required_loa: Loa,
    pub(crate) effective_at: OffsetDateTime,
    pub(crate) wants_opening_receipt: bool,
    pub(crate) is_decision: bool,
    pub(crate) created_at: OffsetDateTime,
    pub(crate) notification: NotificationWish,
}

impl fmt::Debug for ValidLetter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidLetter")
            .field("message_id", &self.message_id)
            .finish_non_exhaustive()
    }
}

impl ValidLetter {
    /// The agency's message id.
    pub fn message_id(&self) -> &MessageId {
        &self.message_id
    }

    /// The sanitized body.
    pub fn body_html(&self) -> &str {
        &self.body_html
    }
}

fn check_line(
    text: &str,
    max: usize,
    empty: PostError,
    too_long: PostError,
) -> Result<String, PostError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(empty);
    }
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(too_long);
    }
    Ok(text.to_owned())
}

impl NewLetter {
    /// The message id, if it is one: a rejection can name it in its receipt.
    pub fn parsed_message_id(&self) -> Option<MessageId> {
        MessageId::parse(&self.message_id).ok()
    }

    /// Checks every rule (in a fixed order, the first broken one is the answer) and
    /// sanitizes the body. `now` is the portal's time of delivery.
    pub fn validate(self, now: OffsetDateTime) -> Result<ValidLetter, PostError> {
        let message_id = MessageId::parse(&self.message_id)?;
        let sender_name = check_line(
            &self.sender_name,
            MAX_SENDER_NAME_CHARS,
            PostError::SenderNameMissing,
            PostError::SenderNameInvalid,
        )?;
        let title = check_line(
            &self.title,
            MAX_TITLE_CHARS,
            PostError::TitleMissing,
            PostError::TitleInvalid,
        )?;
        let safe_title = check_line(
            &self.safe_title,
            MAX_TITLE_CHARS,
            PostError::SafeTitleMissing,
            PostError::SafeTitleInvalid,
        )?;
        if self.body.trim().is_empty() {
            return Err(PostError::BodyEmpty);
        }
        if self.body.len() > MAX_BODY_BYTES {
            return Err(PostError::BodyTooLarge);
        }
        let (body_html, search_text) = match self.body_kind {
            BodyKind::Text => (sanitize::text_to_html(&self.body), self.body.clone()),
            BodyKind::Html => (
                sanitize::sanitize_html(&self.body),
                sanitize::html_to_search_text(&self.body),
            ),
        };
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(PostError::TooManyAttachments);
        }
        let mut total = 0usize;
        let mut attachments = Vec::with_capacity(self.attachments.len());
        for (index, attachment) in self.attachments.into_iter().enumerate() {
            let filename = attachment.filename.trim();
            if filename.is_empty()
                || filename.chars().count() > MAX_FILENAME_CHARS
                || filename
                    .chars()
                    .any(|c| c.is_control() || matches!(c, '/' | '\\' | '"'))
            {
                return Err(PostError::AttachmentNameInvalid { index });
            }
            if attachment.content.len() > MAX_ATTACHMENT_BYTES {
                return Err(PostError::AttachmentTooLarge { index });
            }
            if !pdf::looks_like_pdf(&attachment.content) {
                return Err(PostError::AttachmentNotPdf { index });
            }
            total = total.saturating_add(attachment.content.len());
            if total > MAX_TOTAL_ATTACHMENT_BYTES {
                return Err(PostError::AttachmentsTooLarge);
            }
            attachments.push(NewAttachment {
                filename: filename.to_owned(),
                content: attachment.content,
            });
        }
        let effective_at = match self.effective_at {
            Some(at) if at > now + MAX_EFFECTIVE_DELAY => return Err(PostError::EffectiveTooLate),
            Some(at) if at > now => at,
            _ => now,
        };
        if self.created_at > now + Duration::minutes(5) {
            return Err(PostError::CreatedInFuture);
        }
        let notification = self.notification.validate()?;
        Ok(ValidLetter {
            recipient: self.recipient,
            message_id,
            sender_name,
            title,
            safe_title,
            body_kind: self.body_kind,
            body: self.body,
            body_html,
            search_text,
            attachments,
            required_loa: self.required_loa,
            effective_at,
            wants_opening_receipt: self.wants_opening_receipt,
            is_decision: self.is_decision,
            created_at: self.created_at,
            notification,
        })
    }
}

/// Why a post operation failed. The `Display` text is for logs; the API and the UI use the
/// stable [`code`](PostError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PostError {
    /// The agency message id is empty, too long, or has characters outside `A-Za-z0-9._:-`.
    #[error("the message id must be 1 to 100 characters A-Z, a-z, 0-9, '.', '_', ':', '-'")]
    InvalidMessageId,
    /// No sender name.
    #[error("the sender name is missing")]
    SenderNameMissing,
    /// The sender name is too long or has control characters.
    #[error("the sender name is longer than 200 characters or has control characters")]
    SenderNameInvalid,
    /// No title.
    #[error("the title is missing")]
    TitleMissing,
    /// The title is too long or has control characters.
    #[error("the title is longer than 200 characters or has control characters")]
    TitleInvalid,
    /// No non-sensitive title.
    #[error("the non-sensitive title is missing")]
    SafeTitleMissing,
    /// The non-sensitive title is too long or has control characters.
    #[error("the non-sensitive title is longer than 200 characters or has control characters")]
    SafeTitleInvalid,
    /// The body is empty.
    #[error("the body is empty")]
    BodyEmpty,
    /// The body is larger than 1 MB.
    #[error("the body is larger than 1 MB")]
    BodyTooLarge,
    /// More than 20 attachments.
    #[error("more than 20 attachments")]
    TooManyAttachments,
    /// An attachment's file name is empty, too long or has forbidden characters.
    #[error("attachment {index} has an empty, too long or unsafe file name")]
    AttachmentNameInvalid {
        /// Which attachment (from 0).
        index: usize,
    },
    /// An attachment is not a PDF (by content).
    #[error("attachment {index} is not a PDF file")]
    AttachmentNotPdf {
        /// Which attachment (from 0).
        index: usize,
    },
    /// An attachment is larger than 10 MB.
    #[error("attachment {index} is larger than 10 MB")]
    AttachmentTooLarge {
        /// Which attachment (from 0).
        index: usize,
    },
    /// The attachments together are larger than 50 MB.
    #[error("the attachments are larger than 50 MB together")]
    AttachmentsTooLarge,
    /// The effective time is more than a year ahead.
    #[error("the effective time is more than a year ahead")]
    EffectiveTooLate,
    /// The letter claims to be written in the future.
    #[error("the creation time is in the future")]
    CreatedInFuture,
    /// A notification channel that is neither `email` nor `sms`, or one named twice.
    #[error("notification channels are `email` and `sms`, each at most once")]
    NotificationChannelInvalid,
    /// A repeat outside 1 to 30 days, or a repeat with no channel to send it by.
    #[error("a notification repeat is 1 to 30 days, and needs a channel")]
    NotificationRepeatInvalid,
    /// The letter needs a login at `high`: step up first.
    #[error("the letter needs a login at level of assurance high")]
    NeedsStepUp,
    /// No such letter, folder or attachment for this person (also: someone else's).
    #[error("not found")]
    NotFound,
    /// A folder name that is empty, too long, or has control characters.
    #[error("a folder name is 1 to 60 characters without control characters")]
    FolderNameInvalid,
    /// The person already has a folder with this name (or it is a built-in one's).
    #[error("a folder with this name exists")]
    FolderNameTaken,
    /// A folder that still holds letters cannot be deleted.
    #[error("the folder is not empty")]
    FolderNotEmpty,
    /// The person has as many folders as allowed.
    #[error("too many folders")]
    TooManyFolders,
    /// A search query that is empty (no words) or too long.
    #[error("the search query is empty or too long")]
    InvalidQuery,
    /// A cursor that this store did not give out.
    #[error("the cursor is not valid")]
    InvalidCursor,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PostError {
    /// Stable, machine-readable code (the agency API's `type` and the UI's translation key).
    pub fn code(&self) -> &'static str {
        match self {
            PostError::InvalidMessageId => "post.invalid_message_id",
            PostError::SenderNameMissing => "post.sender_name_missing",
            PostError::SenderNameInvalid => "post.sender_name_invalid",
            PostError::TitleMissing => "post.title_missing",
            PostError::TitleInvalid => "post.title_invalid",
            PostError::SafeTitleMissing => "post.safe_title_missing",
            PostError::SafeTitleInvalid => "post.safe_title_invalid",
            PostError::BodyEmpty => "post.body_empty",
            PostError::BodyTooLarge => "post.body_too_large",
            PostError::TooManyAttachments => "post.too_many_attachments",
            PostError::AttachmentNameInvalid { .. } => "post.attachment_name_invalid",
            PostError::AttachmentNotPdf { .. } => "post.attachment_not_pdf",
            PostError::AttachmentTooLarge { .. } => "post.attachment_too_large",
            PostError::AttachmentsTooLarge => "post.attachments_too_large",
            PostError::EffectiveTooLate => "post.effective_too_late",
            PostError::CreatedInFuture => "post.created_in_future",
            PostError::NotificationChannelInvalid => "post.notification_channel_invalid",
            PostError::NotificationRepeatInvalid => "post.notification_repeat_invalid",
            PostError::NeedsStepUp => "post.needs_step_up",
            PostError::NotFound => "post.not_found",
            PostError::FolderNameInvalid => "post.folder_name_invalid",
            PostError::FolderNameTaken => "post.folder_name_taken",
            PostError::FolderNotEmpty => "post.folder_not_empty",
            PostError::TooManyFolders => "post.too_many_folders",
            PostError::InvalidQuery => "post.invalid_query",
            PostError::InvalidCursor => "post.invalid_cursor",
            PostError::Store(_) => "post.unavailable",
        }
    }

    /// Whether the delivery was refused for its content (a `rejected` receipt and a 4xx), as
    /// opposed to a failure of the portal.
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            PostError::Store(_)
                | PostError::NotFound
                | PostError::InvalidCursor
                | PostError::NeedsStepUp
        )
    }
}

/// Where a delivered letter went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    /// Into the citizen's mailbox in the portal.
    Delivered,
    /// To the print queue: the recipient is reserved, not registered, or unknown.
    ReturnedToPaper,
    /// To the external mailbox provider the recipient chose: queued for forwarding; a
    /// `forwarded` receipt follows when the provider accepts it, or `returned_to_paper` when
    /// it cannot (unknown provider, permanent refusal, too many failures).
    Forwarding,
}

impl DeliveryStatus {
    /// `delivered` or `returned_to_paper`, as stored.
    pub fn code(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::ReturnedToPaper => "returned_to_paper",
            DeliveryStatus::Forwarding => "forwarding",
        }
    }

    /// The status for a stored code.
    pub fn from_code(code: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Delivered,
            DeliveryStatus::ReturnedToPaper,
            DeliveryStatus::Forwarding,
        ]
        .into_iter()
        .find(|status| status.code() == code)
    }
}

/// The answer to a delivery (the same for a retry as for the first call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReceipt {
    /// The portal's id for the letter.
    pub letter: LetterId,
    /// The agency's message id.
    pub message_id: MessageId,
    /// Mailbox or paper.
    pub status: DeliveryStatus,
    /// When the portal accepted it (the first time).
    pub delivered_at: OffsetDateTime,
    /// `true` when this call was a retry of an earlier delivery and stored nothing.
    pub replayed: bool,
}

/// What a receipt tells the agency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReceiptKind {
    /// In the citizen's mailbox.
    Delivered,
    /// The citizen opened it (only for letters that asked for an opening receipt).
    Opened,
    /// The "new letter" e-mail or SMS could not be sent.
    NotificationFailed,
    /// Sent to print instead.
    ReturnedToPaper,
    /// Refused at delivery; `reason` says why.
    Rejected,
    /// The recipient's external mailbox provider accepted the letter.
    Forwarded,
}

impl ReceiptKind {
    /// Every kind.
    pub const ALL: [ReceiptKind; 6] = [
        ReceiptKind::Delivered,
        ReceiptKind::Opened,
        ReceiptKind::NotificationFailed,
        ReceiptKind::ReturnedToPaper,
        ReceiptKind::Rejected,
        ReceiptKind::Forwarded,
    ];

    /// Stable code, as stored and as the API names it.
    pub fn code(self) -> &'static str {
        match self {
            ReceiptKind::Delivered => "delivered",
            ReceiptKind::Opened => "opened",
            ReceiptKind::NotificationFailed => "notification_failed",
            ReceiptKind::ReturnedToPaper => "returned_to_paper",
            ReceiptKind::Rejected => "rejected",
            ReceiptKind::Forwarded => "forwarded",
        }
    }

    /// The kind for a stored code.
    pub fn from_code(code: &str) -> Option<ReceiptKind> {
        ReceiptKind::ALL
            .into_iter()
            .find(|kind| kind.code() == code)
    }
}

/// One receipt for an agency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The agency's message id.
    pub message_id: String,
    /// The letter, unless it was rejected.
    pub letter: Option<LetterId>,
    /// What happened.
    pub kind: ReceiptKind,
    /// For a rejection: the error code.
    pub reason: Option<String>,
    /// When.
    pub at: OffsetDateTime,
}

/// One letter as the agency that delivered it sees it: where it went and its receipts.
/// Nothing the receipts do not already tell (an unasked-for opening stays hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterStatus {
    /// The letter.
    pub letter: LetterId,
    /// The agency's message id.
    pub message_id: MessageId,
    /// Mailbox or paper.
    pub status: DeliveryStatus,
    /// When the portal accepted it.
    pub accepted_at: OffsetDateTime,
    /// Not shown (nor notified) before this.
    pub effective_at: OffsetDateTime,
    /// Whether it is a decision.
    pub is_decision: bool,
    /// The notification wishes it was delivered with.
    pub notification: NotificationWish,
    /// Its receipts, oldest first.
    pub receipts: Vec<Receipt>,
}

/// Where an agency's receipt polling stopped; opaque text for the API (`?after=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptCursor {
    /// PostgreSQL: the writing transaction's id; SQLite: 0.
    pub(crate) txid: i64,
    pub(crate) seq: i64,
}

impl ReceiptCursor {
    /// The cursor as URL-safe text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.txid, self.seq))
    }

    /// A cursor from [`encode`](ReceiptCursor::encode).
    pub fn decode(text: &str) -> Result<ReceiptCursor, PostError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PostError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| PostError::InvalidCursor)?;
        let (txid, seq) = text.split_once('.').ok_or(PostError::InvalidCursor)?;
        Ok(ReceiptCursor {
            txid: txid.parse().map_err(|_| PostError::InvalidCursor)?,
            seq: seq.parse().map_err(|_| PostError::InvalidCursor)?,
        })
    }
}

/// A page of receipts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptPage {
    /// Oldest first.
    pub receipts: Vec<Receipt>,
    /// Pass as `after` next time (also when this page is empty: it is where polling stands).
    pub cursor: Option<ReceiptCursor>,
}

/// A letter waiting to be printed.
#[derive(Clone, PartialEq, Eq)]
pub struct PrintJob {
    /// The letter.
    pub letter: LetterId,
    /// Who it is for: the print provider finds the postal address by it.
    pub recipient: NationalId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The sender's name.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The sanitized body.
    pub body_html: String,
    /// The attachments (fetch each with [`PostOffice::print_attachment`](crate::PostOffice::print_attachment)).
    pub attachments: Vec<AttachmentInfo>,
    /// When it was queued.
    pub queued_at: OffsetDateTime,
}

impl fmt::Debug for PrintJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrintJob")
            .field("letter", &self.letter)
            .field("recipient", &self.recipient)
            .field("agency", &self.agency)
            .finish_non_exhaustive()
    }
}

/// A letter to forward to an external mailbox provider, as the forwarding worker claimed it.
#[derive(Clone, PartialEq, Eq)]
pub struct ForwardJob {
    /// The letter (also the idempotency key the provider sees).
    pub letter: LetterId,
    /// The provider's id, as the citizen chose it.
    pub provider: String,
    /// Who it is for: the provider finds the mailbox by it.
    pub recipient: NationalId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The agency's message id.
    pub message_id: String,
    /// The sender's name.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The non-sensitive title.
    pub safe_title: String,
    /// The level of assurance the content needs.
    pub required_loa: Loa,
    /// The sanitized body.
    pub body_html: String,
    /// Whether it is a decision.
    pub is_decision: bool,
    /// The attachments, with their content.
    pub attachments: Vec<Attachment>,
    /// When the portal accepted it.
    pub delivered_at: OffsetDateTime,
    /// This is try number (from 1).
    pub attempt: u32,
}

impl fmt::Debug for ForwardJob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForwardJob")
            .field("letter", &self.letter)
            .field("provider", &self.provider)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

/// What became of a failed forwarding attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardOutcome {
    /// Tried again at this time.
    RetryAt(OffsetDateTime),
    /// Given up: the letter is in the print queue, the agency has `returned_to_paper`.
    ReturnedToPaper,
    /// This worker no longer held the letter (its lease ran out): nothing recorded.
    NotClaimed,
}

/// A folder of the mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FolderRef {
    /// Where new letters arrive.
    Inbox,
    /// The built-in archive.
    Archive,
    /// One of the person's own folders.
    Own(FolderId),
}

impl FolderRef {
    /// As stored in `letters.folder`: `inbox`, `archive` or the folder's id.
    pub fn code(&self) -> String {
        match self {
            FolderRef::Inbox => "inbox".to_owned(),
            FolderRef::Archive => "archive".to_owned(),
            FolderRef::Own(id) => id.to_string(),
        }
    }

    /// The folder for a stored code.
    pub fn from_code(code: &str) -> Option<FolderRef> {
        match code {
            "inbox" => Some(FolderRef::Inbox),
            "archive" => Some(FolderRef::Archive),
            other => other.parse().ok().map(FolderRef::Own),
        }
    }
}

/// Which letters a mailbox page lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MailboxView {
    /// The letters in a folder (not in the trash).
    Folder(FolderRef),
    /// The trash.
    Trash,
}

/// A person's own folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Its id.
    pub id: FolderId,
    /// Its name.
    pub name: String,
    /// When it was made.
    pub created_at: OffsetDateTime,
}

/// Checks a folder name: trimmed, 1 to 60 characters, no control characters, not the name
/// of a built-in folder.
pub fn folder_name(name: &str) -> Result<String, PostError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_FOLDER_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(PostError::FolderNameInvalid);
    }
    Ok(name.to_owned())
}

/// A line in the mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterSummary {
    /// The letter.
    pub id: LetterId,
    /// The sending agency.
    pub agency: AgencyId,
    /// The sender's name.
    pub sender_name: String,
    /// The title, or the non-sensitive title when the reader may not see the content.
    pub title: String,
    /// Whether the title shown is the non-sensitive one (the content needs a step-up).
    pub locked: bool,
    /// The level of assurance the content needs.
    pub required_loa: Loa,
    /// Not opened yet, or marked unread.
    pub unread: bool,
    /// A decision.
    pub is_decision: bool,
    /// The date shown (delivery, or the effective time if later).
    pub shown_at: OffsetDateTime,
    /// How many attachments.
    pub attachment_count: u32,
    /// Where it is filed.
    pub folder: FolderRef,
    /// In the trash since, if it is there.
    pub trashed_at: Option<OffsetDateTime>,
}

/// Where a mailbox or search page ended: the next page starts after it. Opaque text for
/// URLs (`?after=`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LetterCursor {
    pub(crate) shown_at: OffsetDateTime,
    pub(crate) id: LetterId,
}

impl LetterCursor {
    /// The cursor after `letter`.
    pub fn after(letter: &LetterSummary) -> LetterCursor {
        LetterCursor {
            shown_at: letter.shown_at,
            id: letter.id,
        }
    }

    /// As URL-safe text.
    pub fn encode(&self) -> String {
        let nanos = self.shown_at.unix_timestamp_nanos();
        URL_SAFE_NO_PAD.encode(format!("{nanos}.{}", self.id))
    }

    /// A cursor from [`encode`](LetterCursor::encode).
    pub fn decode(text: &str) -> Result<LetterCursor, PostError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| PostError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| PostError::InvalidCursor)?;
        let (nanos, id) = text.split_once('.').ok_or(PostError::InvalidCursor)?;
        let nanos: i128 = nanos.parse().map_err(|_| PostError::InvalidCursor)?;
        Ok(LetterCursor {
            shown_at: OffsetDateTime::from_unix_timestamp_nanos(nanos)
                .map_err(|_| PostError::InvalidCursor)?,
            id: id.parse().map_err(|_| PostError::InvalidCursor)?,
        })
    }
}

/// A page of letters, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterPage {
    /// The letters.
    pub letters: Vec<LetterSummary>,
    /// The next page starts after this; `None` on the last page.
    pub next: Option<LetterCursor>,
}

/// An attachment as listed (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentInfo {
    /// Its place in the letter (from 0): the id to fetch it by.
    pub position: u32,
    /// The file name.
    pub filename: String,
    /// Its size in bytes.
    pub size: u64,
}

/// An attachment with its content.
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Name and size.
    pub info: AttachmentInfo,
    /// The PDF.
    pub content: Vec<u8>,
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

/// A whole letter as the citizen reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    /// The line in the list.
    pub summary: LetterSummary,
    /// What the agency sent: text or HTML.
    pub body_kind: BodyKind,
    /// The sanitized body: the only form of it to put in a page.
    pub body_html: String,
    /// The attachments.
    pub attachments: Vec<AttachmentInfo>,
    /// When the agency wrote it.
    pub created_at: OffsetDateTime,
    /// When the portal accepted it.
    pub delivered_at: OffsetDateTime,
    /// First opened (now, if this was the first time).
    pub opened_at: Option<OffsetDateTime>,
}

/// What opening a letter gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LetterView {
    /// The letter, now recorded as opened.
    Open(Box<Letter>),
    /// The letter needs a higher level of assurance: only its line (with the non-sensitive
    /// title); nothing was recorded. Offer a step-up to `required`.
    NeedsStepUp {
        /// The line in the list.
        summary: LetterSummary,
        /// The level to step up to.
        required: Loa,
    },
}

/// The `regconfig` PostgreSQL's full-text search uses for a language.
pub(crate) fn search_config(language: crate::person::Language) -> &'static str {
    use crate::person::Language;
    match language {
        Language::Nb | Language::Nn => "norwegian",
        Language::Da => "danish",
        Language::En => "english",
    }
}

/// The words of a search query: split on anything that is not a letter or digit, at most 10.
pub(crate) fn query_words(query: &str) -> Result<Vec<String>, PostError> {
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(PostError::InvalidQuery);
    }
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect();
    if words.is_empty() {
        return Err(PostError::InvalidQuery);
    }
    Ok(words)
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
