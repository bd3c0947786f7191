//! What a signer (or a helper acting for them) sees of a job.

use time::OffsetDateTime;

use super::{JobState, SignerId, SignerStatus, SigningJobId};
use crate::access::Loa;

/// A job in a signer's list ("documents to sign").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerJobSummary {
    /// The job.
    pub job: SigningJobId,
    /// The sending agency's name.
    pub sender_name: String,
    /// The title (shown at the job's level).
    pub title: String,
    /// The title shown below the job's level and in notifications.
    pub non_sensitive_title: String,
    /// The level a signature needs.
    pub level: Loa,
    /// The deadline.
    pub deadline: OffsetDateTime,
    /// Where the job stands.
    pub state: JobState,
    /// Where this signer stands.
    pub status: SignerStatus,
}

impl SignerJobSummary {
    /// Whether the signer still has to sign or decline.
    pub fn awaits_signer(&self) -> bool {
        self.state == JobState::InProgress && self.status == SignerStatus::Waiting
    }

    /// The title to show to a session at `loa`: the full title at the job's level, the
    /// non-sensitive one below it.
    pub fn title_at(&self, loa: Loa) -> &str {
        if loa >= self.level {
            &self.title
        } else {
            &self.non_sensitive_title
        }
    }
}

/// One document of a job, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningDocumentInfo {
    /// Its place in the job (from 0): how it is fetched.
    pub position: u32,
    /// Its title.
    pub title: String,
    /// Its file name.
    pub file_name: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Another signer of the job, as signers see each other: the name and the turn, never the
/// national id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningParty {
    /// The name, if the portal knows the person.
    pub name: Option<String>,
    /// 0 to 9.
    pub order: u8,
    /// Where they stand.
    pub status: SignerStatus,
    /// Whether this is the signer the page is for.
    pub is_subject: bool,
}

/// A job as its signer sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerJob {
    /// The list entry.
    pub summary: SignerJobSummary,
    /// This signer's id on the job.
    pub signer: SignerId,
    /// The agency's message to the signers.
    pub description: String,
    /// The documents, in order.
    pub documents: Vec<SigningDocumentInfo>,
    /// Every signer, in the agency's order.
    pub parties: Vec<SigningParty>,
    /// Whether a helper may sign for the signer.
    pub helpers_may_sign: bool,
    /// The session's level is below the job's: the description and documents are left out
    /// (and the list shows the non-sensitive title) until the person steps up.
    pub locked: bool,
}
