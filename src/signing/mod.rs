//! Signing: agencies send documents to be signed, citizens sign them with their eID, and the
//! portal seals one PDF per document when every signer has signed.
//!
//! - A job ([`NewSigningJob`], checked by [`NewSigningJob::validate`]): 1 to 20 PDF documents,
//!   1 to 10 signers by national id, each with an order (0 to 9: the same order signs in
//!   parallel, the next order starts when every lower one has signed), the level of assurance
//!   a signature needs, when it opens and its deadline (at most 90 days later), how signers are
//!   named in the sealed document. Every rule is a typed [`SigningError`] with a stable code.
//! - Who may sign when, and how a job ends, is [`progress`]: a pure function of the signers'
//!   statuses, so the storage transaction that signs, declines, cancels or expires asks it and
//!   writes what it says.
//! - Agencies follow their jobs through status changes ([`SigningEvent`]) polled with a
//!   [`SigningCursor`], as they poll post receipts.
//!
//! - When the last signer has signed the job is `sealing`: what each sealed document's front
//!   page says of its signers ([`seal_text`]) and the letter that brings the sealed documents
//!   to each signer for themself ([`sealed_letter`]) are decided here; the server words the
//!   page, makes the PDF (crate `pades`) and storage completes the job exactly once.
//!
//! The signer's side (the pages, the fresh eID login a signature needs) and the sealing of the
//! signed PDF live in the server; they take their decisions from here.

#[cfg(feature = "dev")]
pub mod demo;
mod error;
mod evidence;
mod job;
pub mod notice;
pub mod progress;
mod seal_text;
mod status;
mod view;

pub use error::SigningError;
pub use evidence::{SignatureEvidence, CLOCK_SKEW, FRESH_LOGIN_WINDOW};
pub use job::{
    decline_reason, AgencyJobId, NewSigner, NewSigningDocument, NewSigningJob, SignerNaming,
    SigningNotifications, ValidSigner, ValidSigningDocument, ValidSigningJob,
};
pub use seal_text::{
    embedded_evidence, seal_text, sealed_file_name, sealed_letter, SealSignerText, SealText,
    SealTextError, SealedLetterWords, SealingDocument, SealingJob, SealingSigner, SignerIdentity,
};
pub use status::{
    JobState, OnBehalfOf, SignerStatus, SignerView, SigningCursor, SigningEvent, SigningEventPage,
    SigningJobStatus,
};
pub use view::{SignerJob, SignerJobSummary, SigningDocumentInfo, SigningParty};

use time::Duration;

/// The most documents one job may carry.
pub const MAX_DOCUMENTS: usize = 20;
/// The largest document: 10 MB.
pub const MAX_DOCUMENT_BYTES: usize = 10 * 1024 * 1024;
/// The most all documents of one job may weigh together: 50 MB.
pub const MAX_TOTAL_DOCUMENT_BYTES: usize = 50 * 1024 * 1024;
/// The most signers one job may have.
pub const MAX_SIGNERS: usize = 10;
/// The highest signing order (orders are 0 to 9).
pub const MAX_ORDER: u8 = 9;
/// The longest title and non-sensitive title, in characters.
pub const MAX_JOB_TITLE_CHARS: usize = 80;
/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 220;
/// The longest document title and file name, in characters.
pub const MAX_DOCUMENT_NAME_CHARS: usize = 200;
/// The longest reason a signer may give for declining, in characters.
pub const MAX_DECLINE_REASON_CHARS: usize = 500;
/// The longest a job may stay open: its deadline is at most this long after it opens.
pub const MAX_OPEN_PERIOD: Duration = Duration::days(90);
/// How far ahead a job may be set to open.
pub const MAX_OPENING_DELAY: Duration = Duration::days(366);
/// The most status changes one poll returns.
pub const MAX_EVENT_PAGE_SIZE: u32 = 1000;
/// From this attempt at sealing a job on, each failure is reported to the operator as an error:
/// the earlier ones may be a timestamp authority's short outage, which the next round (when the
/// claim's lease has run out) rides over; a third in a row is something retrying will not mend
/// by itself (the seal key, a certificate, the authority's address).
pub const SEAL_ATTEMPTS_BEFORE_ALERT: u32 = 3;

/// Whether a failure of sealing attempt number `attempt` (from 1) must reach the operator.
pub fn needs_operator(attempt: u32) -> bool {
    attempt >= SEAL_ATTEMPTS_BEFORE_ALERT
}

uuid_id!(
    /// A signing job's id in the portal (not the agency's job id).
    SigningJobId
);
uuid_id!(
    /// One signer of one job.
    SignerId
);
