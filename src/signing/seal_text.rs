//! What a sealed document says about its signers, and the letter that brings it to them:
//! decisions, not wording. [`seal_text`] turns a finished job's facts into a [`SealText`]
//! (language-neutral: names, dates, levels and codes), which the server words and lays out as
//! the front page; [`sealed_letter`] is the letter each signer for themself gets.

use time::{Date, OffsetDateTime};

use super::{OnBehalfOf, SignerId, SignerNaming, SigningJobId};
use crate::access::Loa;
use crate::identity::NationalId;
use crate::person::Language;
use crate::post::{BodyKind, NewAttachment, NewLetter, NotificationRequest};

/// One signer of a finished job, as storage read them for sealing.
#[derive(Clone)]
pub struct SealingSigner {
    /// The signer.
    pub id: SignerId,
    /// Who the job named.
    pub national_id: NationalId,
    /// Their name in the person register (`None`: not registered; the eID's name is used).
    pub name: Option<String>,
    /// For themself or in a role for someone else.
    pub on_behalf_of: OnBehalfOf,
    /// The evidence kept with the signature (JSON, as `sign_job` wrote it).
    pub evidence: String,
    /// The name of the helper who signed for them under a delegation, if one did.
    pub helper_name: Option<String>,
}

impl std::fmt::Debug for SealingSigner {
    /// Without the national id and the evidence (it holds the id_token).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingSigner")
            .field("id", &self.id)
            .field("on_behalf_of", &self.on_behalf_of)
            .finish_non_exhaustive()
    }
}

/// One document of a job to seal: the original as the agency sent it.
#[derive(Clone)]
pub struct SealingDocument {
    /// Its place in the job (from 0).
    pub position: u32,
    /// Its title.
    pub title: String,
    /// The agency's file name.
    pub file_name: String,
    /// The original PDF.
    pub content: Vec<u8>,
}

impl std::fmt::Debug for SealingDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingDocument")
            .field("position", &self.position)
            .field("bytes", &self.content.len())
            .finish_non_exhaustive()
    }
}

/// A job every signer has signed, claimed for sealing: everything the seal needs.
#[derive(Debug, Clone)]
pub struct SealingJob {
    /// The job.
    pub id: SigningJobId,
    /// The agency that sent it.
    pub agency: crate::agency::AgencyId,
    /// The sender's name as the signers saw it.
    pub sender_name: String,
    /// The title.
    pub title: String,
    /// The level every signature needed.
    pub level: Loa,
    /// How signers are named in the sealed document.
    pub naming: SignerNaming,
    /// The language of the front page and the letter.
    pub language: Language,
    /// Which attempt at sealing this claim is (from 1); see [`needs_operator`](super::needs_operator).
    pub attempts: u32,
    /// The documents, in the agency's order.
    pub documents: Vec<SealingDocument>,
    /// The signers who signed (all of them), in the agency's order.
    pub signers: Vec<SealingSigner>,
    /// Until when this claim holds; after it another round may seal the job again.
    pub claimed_until: OffsetDateTime,
}

/// How a signer is identified on the front page, as the job's naming asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignerIdentity {
    /// The name only.
    Name,
    /// The name and the date of birth (from the national id).
    BirthDate(Date),
    /// The name and the national id (digits as the job named them).
    NationalId(String),
}

/// One signer's entry on the front page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealSignerText {
    /// The signer's name.
    pub name: String,
    /// What else identifies them.
    pub identity: SignerIdentity,
    /// When they signed.
    pub signed_at: OffsetDateTime,
    /// The level their eID vouched for.
    pub level: Loa,
    /// Which eID (`idporten`, `mitid`, …).
    pub eid: String,
    /// Signed in a role for someone else.
    pub for_other: bool,
    /// Signed for them by this helper, under a delegation with the signing scope.
    pub helper: Option<String>,
}

/// What one sealed document's front page says, before wording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealText {
    /// The document's title.
    pub document_title: String,
    /// The job's title.
    pub job_title: String,
    /// Who sent the job.
    pub sender: String,
    /// The level every signature needed.
    pub level: Loa,
    /// Every signer, in the job's order.
    pub signers: Vec<SealSignerText>,
}

/// Why the facts could not be made into a front page (stored data the signature wrote is
/// broken: a bug or a damaged row).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signer {index}'s evidence cannot be read: {what}")]
pub struct SealTextError {
    /// Which signer (from 0).
    pub index: usize,
    /// What was wrong.
    pub what: &'static str,
}

/// The evidence embedded in the sealed PDF for `signer`, which every signer of the job receives:
/// as the register keeps it when the job names signers by national id; otherwise without the
/// national id, and with the id_token (whose claims hold it too) replaced by its SHA-256, which
/// still ties the copy to the token the register keeps.
pub fn embedded_evidence(
    index: usize,
    signer: &SealingSigner,
    naming: SignerNaming,
) -> Result<String, SealTextError> {
    use sha2::{Digest, Sha256};
    use std::fmt::Write as _;

    if naming == SignerNaming::NameAndNationalId {
        return Ok(signer.evidence.clone());
    }
    let broken = |what| SealTextError { index, what };
    let mut evidence: serde_json::Value =
        serde_json::from_str(&signer.evidence).map_err(|_| broken("not JSON"))?;
    let fields = evidence.as_object_mut().ok_or(broken("not an object"))?;
    fields.remove("national_id");
    if let Some(serde_json::Value::String(token)) = fields.remove("id_token") {
        let mut hash = String::with_capacity(64);
        for byte in Sha256::digest(token.as_bytes()) {
            let _ = write!(hash, "{byte:02x}");
        }
        fields.insert(
            "id_token_sha256".to_owned(),
            serde_json::Value::String(hash),
        );
    }
    Ok(evidence.to_string())
}

/// The front page's facts for one document of a finished job: each signer named as `naming`
/// says (the name; with the date of birth computed from the national id; or with the national
/// id itself), when and at which level they signed with which eID (from their evidence), and
/// a helper who signed for them.
pub fn seal_text(
    document_title: &str,
    job_title: &str,
    sender: &str,
    level: Loa,
    naming: SignerNaming,
    signers: &[SealingSigner],
) -> Result<SealText, SealTextError> {
    let mut lines = Vec::with_capacity(signers.len());
    for (index, signer) in signers.iter().enumerate() {
        let broken = |what| SealTextError { index, what };
        let evidence: serde_json::Value =
            serde_json::from_str(&signer.evidence).map_err(|_| broken("not JSON"))?;
        let text = |key: &str| evidence.get(key).and_then(serde_json::Value::as_str);
        let signed_at = text("signed_at")
            .and_then(|at| {
                OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).ok()
            })
            .ok_or_else(|| broken("signed_at"))?;
        let signer_level = text("level")
            .and_then(Loa::from_str_name)
            .ok_or_else(|| broken("level"))?;
        let eid = text("eid").ok_or_else(|| broken("eid"))?.to_owned();
        let name = match &signer.name {
            Some(name) => name.clone(),
            None => text("name").ok_or_else(|| broken("name"))?.to_owned(),
        };
        let by_helper = evidence
            .get("signed_for_by_helper")
            .is_some_and(|helper| !helper.is_null());
        let helper = by_helper.then(|| {
            signer
                .helper_name
                .clone()
                .or_else(|| text("name").map(str::to_owned))
                .unwrap_or_default()
        });
        let identity = match naming {
            SignerNaming::Name => SignerIdentity::Name,
            SignerNaming::NameAndBirthDate => {
                SignerIdentity::BirthDate(signer.national_id.birth_date())
            }
            SignerNaming::NameAndNationalId => {
                SignerIdentity::NationalId(signer.national_id.expose().to_owned())
            }
        };
        lines.push(SealSignerText {
            name,
            identity,
            signed_at,
            level: signer_level,
            eid,
            for_other: signer.on_behalf_of == OnBehalfOf::Other,
            helper,
        });
    }
    Ok(SealText {
        document_title: document_title.to_owned(),
        job_title: job_title.to_owned(),
        sender: sender.to_owned(),
        level,
        signers: lines,
    })
}

/// The words of the letter that brings the sealed documents, in the job's language: worded by
/// the server (the job's title and the sealed files' names already in them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedLetterWords {
    /// The title.
    pub title: String,
    /// The non-sensitive title (notifications, and below the job's level).
    pub safe_title: String,
    /// The body (plain text).
    pub body: String,
}

/// The letter a signer gets with the sealed documents: from the job's agency and sender, at
/// the job's level, worded as `words`, the sealed PDFs attached, announced as the signer's other
/// letters are. Its message id (`signing:<job>:<signer>`) makes a repeated delivery a replay.
/// Only signers for themself get one: one who signed in a role for someone else gets no copy in
/// their own mailbox.
pub fn sealed_letter(
    job: SigningJobId,
    words: &SealedLetterWords,
    sender: &str,
    level: Loa,
    signer: &SealingSigner,
    sealed: &[(String, Vec<u8>)],
    now: OffsetDateTime,
) -> Option<NewLetter> {
    if signer.on_behalf_of != OnBehalfOf::Myself {
        return None;
    }
    Some(NewLetter {
        recipient: signer.national_id.clone(),
        message_id: format!("signing:{job}:{}", signer.id),
        sender_name: sender.to_owned(),
        title: words.title.clone(),
        safe_title: words.safe_title.clone(),
        body_kind: BodyKind::Text,
        body: words.body.clone(),
        attachments: sealed
            .iter()
            .map(|(filename, content)| NewAttachment {
                filename: filename.clone(),
                content: content.clone(),
            })
            .collect(),
        required_loa: level,
        effective_at: None,
        wants_opening_receipt: false,
        is_decision: false,
        created_at: now,
        notification: NotificationRequest::default(),
    })
}

/// The sealed copy's file name: the original's, with `-signert` before `.pdf`.
pub fn sealed_file_name(original: &str) -> String {
    let stem = original
        .strip_suffix(".pdf")
        .or_else(|| original.strip_suffix(".PDF"))
        .unwrap_or(original);
    format!("{stem}-signert.pdf")
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn signer(on_behalf_of: OnBehalfOf, helper: bool) -> SealingSigner {
        let national_id = (0..100)
            .find_map(|i| NationalId::new_synthetic_norwegian(date!(1980 - 02 - 01), i).ok())
            .unwrap();
        let evidence = serde_json::json!({
            "name": "Eid Navn",
            "signed_at": "2026-05-04T10:00:00Z",
            "level": "high",
            "eid": "idporten",
            "signed_for_by_helper": if helper {
                serde_json::json!({"person": "p", "delegation": "d"})
            } else {
                serde_json::Value::Null
            },
        });
        SealingSigner {
            id: SignerId::new(),
            national_id,
            name: Some("Kari Nordmann".into()),
            on_behalf_of,
            evidence: evidence.to_string(),
            helper_name: helper.then(|| "Hjelper Hansen".into()),
        }
    }

    #[test]
    fn signers_are_named_as_the_job_asks() {
        let signers = [signer(OnBehalfOf::Myself, false)];
        let name = seal_text("D", "J", "NAV", Loa::High, SignerNaming::Name, &signers).unwrap();
        assert_eq!(name.signers[0].identity, SignerIdentity::Name);
        assert_eq!(name.signers[0].name, "Kari Nordmann");
        assert_eq!(name.signers[0].signed_at, datetime!(2026-05-04 10:00 UTC));
        assert_eq!(name.signers[0].level, Loa::High);
        assert_eq!(name.signers[0].helper, None);
        let born = seal_text(
            "D",
            "J",
            "NAV",
            Loa::High,
            SignerNaming::NameAndBirthDate,
            &signers,
        )
        .unwrap();
        assert_eq!(
            born.signers[0].identity,
            SignerIdentity::BirthDate(date!(1980 - 02 - 01))
        );
        let id = seal_text(
            "D",
            "J",
            "NAV",
            Loa::High,
            SignerNaming::NameAndNationalId,
            &signers,
        )
        .unwrap();
        assert_eq!(
            id.signers[0].identity,
            SignerIdentity::NationalId(signers[0].national_id.expose().to_owned())
        );
    }

    #[test]
    fn the_embedded_evidence_follows_the_naming_rule() {
        let signer = SealingSigner {
            id: SignerId::new(),
            national_id: NationalId::parse("17848512397").unwrap(),
            name: Some("Ingrid Solberg".into()),
            on_behalf_of: OnBehalfOf::Myself,
            evidence: serde_json::json!({
                "national_id": "17848512397",
                "id_token": "h.p.s",
                "level": "high",
            })
            .to_string(),
            helper_name: None,
        };
        let full = embedded_evidence(0, &signer, SignerNaming::NameAndNationalId).unwrap();
        assert_eq!(full, signer.evidence);
        for naming in [SignerNaming::Name, SignerNaming::NameAndBirthDate] {
            let copy: serde_json::Value =
                serde_json::from_str(&embedded_evidence(0, &signer, naming).unwrap()).unwrap();
            assert!(copy.get("national_id").is_none() && copy.get("id_token").is_none());
            assert_eq!(copy["id_token_sha256"].as_str().unwrap().len(), 64);
            assert_eq!(copy["level"], "high");
        }
        let broken = SealingSigner {
            evidence: "[]".into(),
            ..signer
        };
        assert!(embedded_evidence(3, &broken, SignerNaming::Name).is_err());
    }

    #[test]
    fn a_helper_and_a_role_are_said_and_broken_evidence_is_refused() {
        let text = seal_text(
            "D",
            "J",
            "NAV",
            Loa::Substantial,
            SignerNaming::Name,
            &[signer(OnBehalfOf::Other, true)],
        )
        .unwrap();
        assert!(text.signers[0].for_other);
        assert_eq!(text.signers[0].helper.as_deref(), Some("Hjelper Hansen"));
        let mut broken = signer(OnBehalfOf::Myself, false);
        broken.evidence = "{}".into();
        let error = seal_text("D", "J", "N", Loa::High, SignerNaming::Name, &[broken]);
        assert_eq!(error.unwrap_err().what, "signed_at");
    }

    #[test]
    fn only_signers_for_themself_get_the_letter() {
        let job = SigningJobId::new();
        let sealed = [("avtale-signert.pdf".to_owned(), b"%PDF-1.7".to_vec())];
        let me = signer(OnBehalfOf::Myself, false);
        let words = SealedLetterWords {
            title: "Signert: Avtale".into(),
            safe_title: "Signerte dokumenter".into(),
            body: "Alle har signert.".into(),
        };
        let letter = sealed_letter(
            job,
            &words,
            "NAV",
            Loa::High,
            &me,
            &sealed,
            datetime!(2026-05-04 10:00 UTC),
        )
        .unwrap();
        assert_eq!(
            (letter.title.as_str(), letter.safe_title.as_str()),
            ("Signert: Avtale", "Signerte dokumenter")
        );
        assert_eq!(letter.body, "Alle har signert.");
        assert_eq!(letter.required_loa, Loa::High);
        assert_eq!(letter.attachments.len(), 1);
        assert!(letter.message_id.len() <= crate::post::MAX_MESSAGE_ID_LEN);
        let other = signer(OnBehalfOf::Other, false);
        assert!(sealed_letter(
            job,
            &words,
            "NAV",
            Loa::High,
            &other,
            &sealed,
            datetime!(2026-05-04 10:00 UTC)
        )
        .is_none());
        assert_eq!(sealed_file_name("avtale.pdf"), "avtale-signert.pdf");
        assert_eq!(sealed_file_name("x"), "x-signert.pdf");
    }
}
