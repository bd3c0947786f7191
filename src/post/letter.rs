//! A letter as an agency sends it ([`NewLetter`]), its checks ([`NewLetter::validate`]) and
//! the checked letter ([`ValidLetter`]), with the agency's notification wishes.

use super::*;
use crate::text::check_line;

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
