//! Why a post operation was refused or failed: [`PostError`], each rule with a stable code.

use super::*;

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
