//! Where a job and its signers stand, as stored and as agencies read it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use time::OffsetDateTime;

use super::{AgencyJobId, SignerId, SigningError, SigningJobId};
use crate::identity::NationalId;

/// Whether a signer signs for themself or in a role for someone else (a company, an estate).
/// A signer for someone else is not checked against the reservation register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnBehalfOf {
    /// For themself (the default).
    #[default]
    Myself,
    /// In a role for someone else.
    Other,
}

impl OnBehalfOf {
    /// `self` or `other`, as stored and in the API.
    pub fn code(self) -> &'static str {
        match self {
            OnBehalfOf::Myself => "self",
            OnBehalfOf::Other => "other",
        }
    }

    /// From a code.
    pub fn from_code(code: &str) -> Option<OnBehalfOf> {
        [OnBehalfOf::Myself, OnBehalfOf::Other]
            .into_iter()
            .find(|o| o.code() == code)
    }
}

/// A job's state. Agencies see [`Sealing`](JobState::Sealing) as in progress: the job is
/// complete for them when its sealed documents can be fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for signatures.
    InProgress,
    /// Every signer signed; the sealed documents are being made.
    Sealing,
    /// Sealed: the documents can be fetched.
    Completed,
    /// Declined, cancelled, expired, or a signer could not be reached digitally.
    Failed,
}

impl JobState {
    /// As stored.
    pub fn code(self) -> &'static str {
        match self {
            JobState::InProgress => "in_progress",
            JobState::Sealing => "sealing",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
        }
    }

    /// From a stored code.
    pub fn from_code(code: &str) -> Option<JobState> {
        [
            JobState::InProgress,
            JobState::Sealing,
            JobState::Completed,
            JobState::Failed,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }

    /// The agency API's status: `in_progress`, `completed_successfully` or `failed`.
    pub fn api_code(self) -> &'static str {
        match self {
            JobState::InProgress | JobState::Sealing => "in_progress",
            JobState::Completed => "completed_successfully",
            JobState::Failed => "failed",
        }
    }

    /// Whether nothing more can happen to the job's signers.
    pub fn has_ended(self) -> bool {
        !matches!(self, JobState::InProgress)
    }
}

/// A signer's status. Agencies must tolerate statuses added later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerStatus {
    /// Not signed yet (their turn may not have come).
    Waiting,
    /// Signed.
    Signed,
    /// Declined (the job failed).
    Rejected,
    /// The agency cancelled the job before they signed.
    Cancelled,
    /// Their turn came and the deadline passed before they signed.
    Expired,
    /// Reserved against digital communication: the job cannot reach them.
    Reserved,
    /// Not in the contact register, or without contact information that can be used.
    ContactInformationMissing,
    /// Left waiting when the job ended for another reason.
    NotApplicable,
}

impl SignerStatus {
    /// Every status.
    pub const ALL: [SignerStatus; 8] = [
        SignerStatus::Waiting,
        SignerStatus::Signed,
        SignerStatus::Rejected,
        SignerStatus::Cancelled,
        SignerStatus::Expired,
        SignerStatus::Reserved,
        SignerStatus::ContactInformationMissing,
        SignerStatus::NotApplicable,
    ];

    /// As stored and in the API.
    pub fn code(self) -> &'static str {
        match self {
            SignerStatus::Waiting => "waiting",
            SignerStatus::Signed => "signed",
            SignerStatus::Rejected => "rejected",
            SignerStatus::Cancelled => "cancelled",
            SignerStatus::Expired => "expired",
            SignerStatus::Reserved => "reserved",
            SignerStatus::ContactInformationMissing => "contact_information_missing",
            SignerStatus::NotApplicable => "not_applicable",
        }
    }

    /// From a code.
    pub fn from_code(code: &str) -> Option<SignerStatus> {
        SignerStatus::ALL.into_iter().find(|s| s.code() == code)
    }
}

/// One signer as the agency sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerView {
    /// The portal's id of this signer on this job.
    pub id: SignerId,
    /// Who (the agency named them by it).
    pub national_id: NationalId,
    /// 0 to 9.
    pub order: u8,
    /// For themself or for someone else.
    pub on_behalf_of: OnBehalfOf,
    /// Where they stand.
    pub status: SignerStatus,
    /// Since when.
    pub since: OffsetDateTime,
    /// A decline's reason, if they gave one.
    pub reason: Option<String>,
}

/// One job as the agency sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningJobStatus {
    /// The portal's id.
    pub id: SigningJobId,
    /// The agency's id.
    pub agency_job_id: AgencyJobId,
    /// Where the job stands.
    pub state: JobState,
    /// When it was created.
    pub created_at: OffsetDateTime,
    /// When it opens (or opened).
    pub opens_at: OffsetDateTime,
    /// Its deadline.
    pub deadline: OffsetDateTime,
    /// When it completed or failed.
    pub ended_at: Option<OffsetDateTime>,
    /// The signers, in the agency's order.
    pub signers: Vec<SignerView>,
    /// The documents' titles, in the agency's order.
    pub documents: Vec<String>,
    /// `true` when this answer is to a repeated creation and nothing new was stored.
    pub replayed: bool,
}

/// One status change an agency polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningEvent {
    /// The job.
    pub job: SigningJobId,
    /// The agency's id of the job.
    pub agency_job_id: AgencyJobId,
    /// The signer whose status changed; `None` for a change of the job's own status.
    pub signer: Option<SignerId>,
    /// The new status: a [`SignerStatus`] code for a signer, an API job status
    /// ([`JobState::api_code`]) for the job.
    pub status: String,
    /// When.
    pub at: OffsetDateTime,
}

/// Where an agency's polling of status changes stands (the same scheme as post receipts: on
/// PostgreSQL the writing transaction and a sequence number, so no late commit is skipped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SigningCursor {
    /// PostgreSQL: the writing transaction's id; SQLite: 0.
    pub(crate) txid: i64,
    pub(crate) seq: i64,
}

impl SigningCursor {
    /// The start: before every change.
    pub const START: SigningCursor = SigningCursor { txid: 0, seq: 0 };

    /// The cursor as URL-safe text.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.txid, self.seq))
    }

    /// A cursor from [`encode`](SigningCursor::encode).
    pub fn decode(text: &str) -> Result<SigningCursor, SigningError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| SigningError::InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| SigningError::InvalidCursor)?;
        let (txid, seq) = text.split_once('.').ok_or(SigningError::InvalidCursor)?;
        Ok(SigningCursor {
            txid: txid.parse().map_err(|_| SigningError::InvalidCursor)?,
            seq: seq.parse().map_err(|_| SigningError::InvalidCursor)?,
        })
    }
}

/// A page of status changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningEventPage {
    /// Oldest first.
    pub events: Vec<SigningEvent>,
    /// Pass as `after` next time (also when this page is empty: it is where polling stands).
    pub cursor: SigningCursor,
}
