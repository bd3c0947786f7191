//! Why a signing operation was refused or failed: [`SigningError`], each rule with a stable code.

use crate::error::StoreError;

/// Why a signing operation failed. The `Display` text is for logs; the API and the UI use the
/// stable [`code`](SigningError::code).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SigningError {
    /// The agency's job id is empty, too long, or has characters outside `A-Za-z0-9._:-`.
    #[error("the job id must be 1 to 100 characters A-Z, a-z, 0-9, '.', '_', ':', '-'")]
    InvalidJobId,
    /// No title.
    #[error("the title is missing")]
    TitleMissing,
    /// The title is longer than 80 characters or has control characters.
    #[error("the title is longer than 80 characters or has control characters")]
    TitleInvalid,
    /// No non-sensitive title.
    #[error("the non-sensitive title is missing")]
    SafeTitleMissing,
    /// The non-sensitive title is longer than 80 characters or has control characters.
    #[error("the non-sensitive title is longer than 80 characters or has control characters")]
    SafeTitleInvalid,
    /// The description is longer than 220 characters or has control characters other than
    /// line breaks.
    #[error("the description is longer than 220 characters or has control characters")]
    DescriptionInvalid,
    /// No document.
    #[error("a job needs at least one document")]
    NoDocuments,
    /// More than 20 documents.
    #[error("more than 20 documents")]
    TooManyDocuments,
    /// A document's title or file name is empty, too long or unsafe.
    #[error("document {index} has an empty, too long or unsafe title or file name")]
    DocumentNameInvalid {
        /// Which document (from 0).
        index: usize,
    },
    /// A document is not a PDF (by content).
    #[error("document {index} is not a PDF file")]
    DocumentNotPdf {
        /// Which document (from 0).
        index: usize,
    },
    /// A document is a PDF by its first bytes, but encrypted, damaged or without pages: it
    /// could not be sealed once signed.
    #[error("document {index} is encrypted, damaged or has no pages, and cannot be sealed")]
    DocumentUnusable {
        /// Which document (from 0).
        index: usize,
    },
    /// A document is larger than 10 MB.
    #[error("document {index} is larger than 10 MB")]
    DocumentTooLarge {
        /// Which document (from 0).
        index: usize,
    },
    /// The documents together are larger than 50 MB.
    #[error("the documents are larger than 50 MB together")]
    DocumentsTooLarge,
    /// No signer.
    #[error("a job needs at least one signer")]
    NoSigners,
    /// More than 10 signers.
    #[error("more than 10 signers")]
    TooManySigners,
    /// The same national id twice among the signers.
    #[error("signer {index} is named twice")]
    DuplicateSigner {
        /// The second mention (from 0).
        index: usize,
    },
    /// A signing order outside 0 to 9.
    #[error("signer {index} has an order outside 0 to 9")]
    OrderInvalid {
        /// Which signer (from 0).
        index: usize,
    },
    /// The level is neither `substantial` nor `high`.
    #[error("the level of assurance is `substantial` or `high`")]
    LevelInvalid,
    /// Neither `name`, `name_and_birth_date` nor `name_and_national_id`.
    #[error("signers are named by `name`, `name_and_birth_date` or `name_and_national_id`")]
    NamingInvalid,
    /// A language that is not one of the portal's (`nb`, `nn`, `da`, `en`).
    #[error("the language is `nb`, `nn`, `da` or `en`")]
    LanguageInvalid,
    /// The job opens more than a year ahead.
    #[error("the job opens more than a year ahead")]
    OpensTooLate,
    /// The deadline is not after the opening (and after now), or more than 90 days after it.
    #[error("the deadline must be after the opening, and at most 90 days later")]
    DeadlineInvalid,
    /// A notification channel that is neither `email` nor `sms`, or one named twice.
    #[error("notification channels are `email` and `sms`, each at most once")]
    NotificationChannelInvalid,
    /// A cursor that this store did not give out.
    #[error("the cursor is not valid")]
    InvalidCursor,
    /// No such job for this agency or this signer (also: someone else's, or not yet their
    /// turn): one answer, so an id tells nothing about jobs one may not see.
    #[error("not found")]
    NotFound,
    /// The job has ended (completed, declined, cancelled or expired): nothing more to do.
    #[error("the job has ended")]
    JobEnded,
    /// This signer has already signed or declined.
    #[error("already signed or declined")]
    AlreadyDone,
    /// The signature needs a fresh login at a level the session does not have, or a login
    /// that happened before the click.
    #[error("the signature needs a fresh login at the job's level")]
    NeedsFreshLogin,
    /// The job's documents need a login at a higher level than the session's: step up.
    #[error("the job's documents need a higher level of assurance")]
    NeedsStepUp,
    /// A helper tried to sign a job that does not allow signing for someone else.
    #[error("this job must be signed by the signer in person")]
    HelpersNotAllowed,
    /// The reason for declining is longer than 500 characters or has control characters.
    #[error("the reason is longer than 500 characters or has control characters")]
    ReasonInvalid,
    /// The sealed documents are not there yet (the job has not completed).
    #[error("the job has no sealed documents (yet)")]
    NotSealed,
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SigningError {
    /// Stable, machine-readable code (the agency API's `type` and the UI's translation key).
    pub fn code(&self) -> &'static str {
        match self {
            SigningError::InvalidJobId => "signing.invalid_job_id",
            SigningError::TitleMissing => "signing.title_missing",
            SigningError::TitleInvalid => "signing.title_invalid",
            SigningError::SafeTitleMissing => "signing.safe_title_missing",
            SigningError::SafeTitleInvalid => "signing.safe_title_invalid",
            SigningError::DescriptionInvalid => "signing.description_invalid",
            SigningError::NoDocuments => "signing.no_documents",
            SigningError::TooManyDocuments => "signing.too_many_documents",
            SigningError::DocumentNameInvalid { .. } => "signing.document_name_invalid",
            SigningError::DocumentNotPdf { .. } => "signing.document_not_pdf",
            SigningError::DocumentUnusable { .. } => "signing.document_unusable",
            SigningError::DocumentTooLarge { .. } => "signing.document_too_large",
            SigningError::DocumentsTooLarge => "signing.documents_too_large",
            SigningError::NoSigners => "signing.no_signers",
            SigningError::TooManySigners => "signing.too_many_signers",
            SigningError::DuplicateSigner { .. } => "signing.duplicate_signer",
            SigningError::OrderInvalid { .. } => "signing.order_invalid",
            SigningError::LevelInvalid => "signing.level_invalid",
            SigningError::NamingInvalid => "signing.naming_invalid",
            SigningError::LanguageInvalid => "signing.language_invalid",
            SigningError::OpensTooLate => "signing.opens_too_late",
            SigningError::DeadlineInvalid => "signing.deadline_invalid",
            SigningError::NotificationChannelInvalid => "signing.notification_channel_invalid",
            SigningError::InvalidCursor => "signing.invalid_cursor",
            SigningError::NotFound => "signing.not_found",
            SigningError::JobEnded => "signing.job_ended",
            SigningError::AlreadyDone => "signing.already_done",
            SigningError::NeedsFreshLogin => "signing.needs_fresh_login",
            SigningError::NeedsStepUp => "signing.needs_step_up",
            SigningError::HelpersNotAllowed => "signing.helpers_not_allowed",
            SigningError::ReasonInvalid => "signing.reason_invalid",
            SigningError::NotSealed => "signing.not_sealed",
            SigningError::Store(_) => "signing.unavailable",
        }
    }

    /// Whether the request was refused for its content (a 4xx), as opposed to a failure of
    /// the portal or a state the caller cannot change by editing the request.
    pub fn is_rejection(&self) -> bool {
        !matches!(
            self,
            SigningError::Store(_)
                | SigningError::NotFound
                | SigningError::InvalidCursor
                | SigningError::JobEnded
                | SigningError::NotSealed
                | SigningError::AlreadyDone
                | SigningError::NeedsFreshLogin
                | SigningError::NeedsStepUp
                | SigningError::HelpersNotAllowed
        )
    }
}
