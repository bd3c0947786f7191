//! A signing job as an agency sends it ([`NewSigningJob`]) and as the rules leave it
//! ([`ValidSigningJob`]).

use std::fmt;

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::{
    OnBehalfOf, SigningError, MAX_DESCRIPTION_CHARS, MAX_DOCUMENTS, MAX_DOCUMENT_BYTES,
    MAX_DOCUMENT_NAME_CHARS, MAX_JOB_TITLE_CHARS, MAX_OPENING_DELAY, MAX_OPEN_PERIOD, MAX_ORDER,
    MAX_SIGNERS, MAX_TOTAL_DOCUMENT_BYTES,
};
use crate::access::Loa;
use crate::identity::NationalId;
use crate::person::Language;
use crate::post::pdf::looks_like_pdf;
use crate::text::check_line;

/// The longest agency job id.
const MAX_JOB_ID_LEN: usize = 100;

/// The agency's own id for a job: the idempotency key of a creation, unique per agency.
/// 1 to 100 ASCII letters, digits and `. _ : -`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgencyJobId(String);

impl AgencyJobId {
    /// Checks an id from an agency.
    pub fn parse(text: &str) -> Result<AgencyJobId, SigningError> {
        let valid = !text.is_empty()
            && text.len() <= MAX_JOB_ID_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if valid {
            Ok(AgencyJobId(text.to_owned()))
        } else {
            Err(SigningError::InvalidJobId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgencyJobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How signers are named on the sealed document's front page. The national id is shown only
/// when the job asks for it (every signer is addressed by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignerNaming {
    /// The name only.
    Name,
    /// The name and the date of birth.
    NameAndBirthDate,
    /// The name and the national id.
    NameAndNationalId,
}

impl SignerNaming {
    /// Every naming.
    pub const ALL: [SignerNaming; 3] = [
        SignerNaming::Name,
        SignerNaming::NameAndBirthDate,
        SignerNaming::NameAndNationalId,
    ];

    /// As stored and in the API.
    pub fn code(self) -> &'static str {
        match self {
            SignerNaming::Name => "name",
            SignerNaming::NameAndBirthDate => "name_and_birth_date",
            SignerNaming::NameAndNationalId => "name_and_national_id",
        }
    }

    /// The naming for a code.
    pub fn from_code(code: &str) -> Option<SignerNaming> {
        SignerNaming::ALL.into_iter().find(|n| n.code() == code)
    }
}

/// The channels the signers are told by ("a document to sign", reminders before the deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SigningNotifications {
    /// By e-mail.
    pub email: bool,
    /// By SMS (never at night).
    pub sms: bool,
    /// Reminders before the deadline, planned from its length (see `progress::reminder_at`).
    pub reminders: bool,
}

impl Default for SigningNotifications {
    fn default() -> SigningNotifications {
        SigningNotifications {
            email: true,
            sms: true,
            reminders: true,
        }
    }
}

impl SigningNotifications {
    /// `email,sms`, `email`, `sms` or `` as stored.
    pub fn channels_code(&self) -> &'static str {
        match (self.email, self.sms) {
            (true, true) => "email,sms",
            (true, false) => "email",
            (false, true) => "sms",
            (false, false) => "",
        }
    }

    /// The wishes from their stored form.
    pub fn from_stored(channels: &str, reminders: bool) -> Option<SigningNotifications> {
        let (email, sms) = match channels {
            "email,sms" => (true, true),
            "email" => (true, false),
            "sms" => (false, true),
            "" => (false, false),
            _ => return None,
        };
        Some(SigningNotifications {
            email,
            sms,
            reminders,
        })
    }

    /// From the API's list of channel names (`None`: both) and reminder wish (`None`: yes).
    pub fn parse(
        channels: Option<&[String]>,
        reminders: Option<bool>,
    ) -> Result<SigningNotifications, SigningError> {
        let mut wish = SigningNotifications {
            email: channels.is_none(),
            sms: channels.is_none(),
            reminders: reminders.unwrap_or(true),
        };
        for name in channels.unwrap_or_default() {
            let slot = match name.as_str() {
                "email" => &mut wish.email,
                "sms" => &mut wish.sms,
                _ => return Err(SigningError::NotificationChannelInvalid),
            };
            if *slot {
                return Err(SigningError::NotificationChannelInvalid);
            }
            *slot = true;
        }
        Ok(wish)
    }
}

/// One document as an agency sends it.
#[derive(Clone)]
pub struct NewSigningDocument {
    /// What the signer sees as the document's name.
    pub title: String,
    /// The file name for downloads (the content decides that it is a PDF).
    pub file_name: String,
    /// The PDF.
    pub content: Vec<u8>,
}

impl fmt::Debug for NewSigningDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewSigningDocument")
            .field("bytes", &self.content.len())
            .finish_non_exhaustive()
    }
}

/// One signer as an agency names them.
#[derive(Debug, Clone)]
pub struct NewSigner {
    /// Who signs.
    pub national_id: NationalId,
    /// 0 to 9: the same order signs in parallel; the next starts when every lower one signed.
    pub order: i64,
    /// For themself, or in a role for someone else.
    pub on_behalf_of: OnBehalfOf,
}

/// A job as an agency sends it, not yet checked.
#[derive(Debug, Clone)]
pub struct NewSigningJob {
    /// The agency's own id (idempotency key).
    pub agency_job_id: String,
    /// The title (≤ 80), shown at the job's level.
    pub title: String,
    /// The title shown in notifications and below the job's level (≤ 80).
    pub non_sensitive_title: String,
    /// A message to the signers (≤ 220), optional.
    pub description: Option<String>,
    /// 1 to 20 PDFs.
    pub documents: Vec<NewSigningDocument>,
    /// 1 to 10 signers.
    pub signers: Vec<NewSigner>,
    /// `substantial` or `high`.
    pub level: String,
    /// When it opens; `None`: now.
    pub opens_at: Option<OffsetDateTime>,
    /// When unsigned signers expire and the job fails.
    pub deadline: OffsetDateTime,
    /// `name`, `name_and_birth_date` or `name_and_national_id`; `None`: `name`.
    pub naming: Option<String>,
    /// Notification channels and reminders.
    pub notifications: SigningNotifications,
    /// Whether a helper whose delegation has the signing scope may sign for a signer.
    pub helpers_may_sign: bool,
    /// The language of what the portal writes about the job (the sealed document's front page,
    /// the letter with it): `nb`, `nn`, `da` or `en`; `None`: the portal's default.
    pub language: Option<String>,
}

/// A checked document: its content, size and SHA-256 (the hash each signature covers).
#[derive(Clone)]
pub struct ValidSigningDocument {
    /// The title.
    pub title: String,
    /// The file name.
    pub file_name: String,
    /// The PDF.
    pub content: Vec<u8>,
    /// SHA-256 of the content.
    pub sha256: [u8; 32],
}

impl fmt::Debug for ValidSigningDocument {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ValidSigningDocument")
            .field("bytes", &self.content.len())
            .finish_non_exhaustive()
    }
}

/// A checked signer.
#[derive(Debug, Clone)]
pub struct ValidSigner {
    /// Who signs.
    pub national_id: NationalId,
    /// 0 to 9.
    pub order: u8,
    /// For themself or for someone else.
    pub on_behalf_of: OnBehalfOf,
}

/// A job every rule accepted: what is stored.
#[derive(Debug, Clone)]
pub struct ValidSigningJob {
    /// The agency's id.
    pub agency_job_id: AgencyJobId,
    /// The title.
    pub title: String,
    /// The non-sensitive title.
    pub non_sensitive_title: String,
    /// The description, `""` if none.
    pub description: String,
    /// The documents, in the agency's order.
    pub documents: Vec<ValidSigningDocument>,
    /// The signers, in the agency's order.
    pub signers: Vec<ValidSigner>,
    /// The level every signature needs.
    pub level: Loa,
    /// When it opens.
    pub opens_at: OffsetDateTime,
    /// Its deadline.
    pub deadline: OffsetDateTime,
    /// How signers are named in the sealed document.
    pub naming: SignerNaming,
    /// Notifications and reminders.
    pub notifications: SigningNotifications,
    /// Whether helpers may sign.
    pub helpers_may_sign: bool,
    /// The language of the sealed document's front page and the letter with it.
    pub language: Language,
}

/// A document title or file name: 1 to 200 characters, no control characters, and for file
/// names no path separators.
fn check_name(text: &str, index: usize, is_file: bool) -> Result<String, SigningError> {
    let invalid = SigningError::DocumentNameInvalid { index };
    let text = text.trim();
    let unsafe_char = |c: char| c.is_control() || (is_file && matches!(c, '/' | '\\' | '"'));
    if text.is_empty()
        || text.chars().count() > MAX_DOCUMENT_NAME_CHARS
        || text.chars().any(unsafe_char)
    {
        return Err(invalid);
    }
    Ok(text.to_owned())
}

impl NewSigningJob {
    /// The agency's job id, if it is one.
    pub fn parsed_job_id(&self) -> Option<AgencyJobId> {
        AgencyJobId::parse(&self.agency_job_id).ok()
    }

    /// Checks every rule (in a fixed order: the first broken one is the answer) and hashes
    /// the documents. `now` is the portal's time of creation.
    /// `default_language` stands when the agency names none.
    pub fn validate(
        self,
        now: OffsetDateTime,
        default_language: Language,
    ) -> Result<ValidSigningJob, SigningError> {
        let agency_job_id = AgencyJobId::parse(&self.agency_job_id)?;
        let title = check_line(
            &self.title,
            MAX_JOB_TITLE_CHARS,
            SigningError::TitleMissing,
            SigningError::TitleInvalid,
        )?;
        let non_sensitive_title = check_line(
            &self.non_sensitive_title,
            MAX_JOB_TITLE_CHARS,
            SigningError::SafeTitleMissing,
            SigningError::SafeTitleInvalid,
        )?;
        let description = self.description.as_deref().unwrap_or("").trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION_CHARS
            || description.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(SigningError::DescriptionInvalid);
        }
        let documents = check_documents(self.documents)?;
        let signers = check_signers(self.signers)?;
        let level = Loa::from_str_name(&self.level).ok_or(SigningError::LevelInvalid)?;
        let naming = match self.naming.as_deref() {
            None => SignerNaming::Name,
            Some(code) => SignerNaming::from_code(code).ok_or(SigningError::NamingInvalid)?,
        };
        let language = match self.language.as_deref() {
            None => default_language,
            Some(code) => Language::from_code(code).ok_or(SigningError::LanguageInvalid)?,
        };
        let opens_at = self.opens_at.unwrap_or(now).max(now);
        if opens_at > now + MAX_OPENING_DELAY {
            return Err(SigningError::OpensTooLate);
        }
        if self.deadline <= opens_at || self.deadline > opens_at + MAX_OPEN_PERIOD {
            return Err(SigningError::DeadlineInvalid);
        }
        Ok(ValidSigningJob {
            agency_job_id,
            title,
            non_sensitive_title,
            description,
            documents,
            signers,
            level,
            opens_at,
            deadline: self.deadline,
            naming,
            notifications: self.notifications,
            helpers_may_sign: self.helpers_may_sign,
            language,
        })
    }
}

/// A signer's reason for declining, as typed: trimmed, empty is none, at most 500 characters
/// without control characters other than line breaks.
pub fn decline_reason(text: Option<&str>) -> Result<Option<String>, SigningError> {
    let text = text.map(str::trim).unwrap_or("");
    if text.is_empty() {
        return Ok(None);
    }
    let bad = |c: char| c.is_control() && c != '\n' && c != '\r';
    if text.chars().count() > super::MAX_DECLINE_REASON_CHARS || text.chars().any(bad) {
        return Err(SigningError::ReasonInvalid);
    }
    Ok(Some(text.to_owned()))
}

fn check_documents(
    documents: Vec<NewSigningDocument>,
) -> Result<Vec<ValidSigningDocument>, SigningError> {
    if documents.is_empty() {
        return Err(SigningError::NoDocuments);
    }
    if documents.len() > MAX_DOCUMENTS {
        return Err(SigningError::TooManyDocuments);
    }
    let mut total = 0usize;
    let mut checked = Vec::with_capacity(documents.len());
    for (index, document) in documents.into_iter().enumerate() {
        let title = check_name(&document.title, index, false)?;
        let file_name = check_name(&document.file_name, index, true)?;
        if document.content.len() > MAX_DOCUMENT_BYTES {
            return Err(SigningError::DocumentTooLarge { index });
        }
        if !looks_like_pdf(&document.content) {
            return Err(SigningError::DocumentNotPdf { index });
        }
        total += document.content.len();
        if total > MAX_TOTAL_DOCUMENT_BYTES {
            return Err(SigningError::DocumentsTooLarge);
        }
        let sha256 = Sha256::digest(&document.content).into();
        checked.push(ValidSigningDocument {
            title,
            file_name,
            content: document.content,
            sha256,
        });
    }
    Ok(checked)
}

fn check_signers(signers: Vec<NewSigner>) -> Result<Vec<ValidSigner>, SigningError> {
    if signers.is_empty() {
        return Err(SigningError::NoSigners);
    }
    if signers.len() > MAX_SIGNERS {
        return Err(SigningError::TooManySigners);
    }
    let mut checked: Vec<ValidSigner> = Vec::with_capacity(signers.len());
    for (index, signer) in signers.into_iter().enumerate() {
        let order = u8::try_from(signer.order)
            .ok()
            .filter(|order| *order <= MAX_ORDER)
            .ok_or(SigningError::OrderInvalid { index })?;
        if checked.iter().any(|s| s.national_id == signer.national_id) {
            return Err(SigningError::DuplicateSigner { index });
        }
        checked.push(ValidSigner {
            national_id: signer.national_id,
            order,
            on_behalf_of: signer.on_behalf_of,
        });
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::post::pdf::minimal_pdf;
    use time::macros::{date, datetime};
    use time::Duration;

    const NOW: OffsetDateTime = datetime!(2026-05-04 10:00 UTC);

    fn signer(n: u16, order: i64) -> NewSigner {
        NewSigner {
            // Ten individual numbers per `n`: some fail the checksum.
            national_id: (n * 10..n * 10 + 10)
                .find_map(|i| NationalId::new_synthetic_norwegian(date!(1980 - 02 - 01), i).ok())
                .unwrap(),
            order,
            on_behalf_of: OnBehalfOf::Myself,
        }
    }

    fn document(name: &str) -> NewSigningDocument {
        NewSigningDocument {
            title: name.into(),
            file_name: format!("{name}.pdf"),
            content: minimal_pdf(name),
        }
    }

    fn job() -> NewSigningJob {
        NewSigningJob {
            agency_job_id: "sak-1".into(),
            title: "Kjøpekontrakt".into(),
            non_sensitive_title: "Et dokument".into(),
            description: None,
            documents: vec![document("kontrakt")],
            signers: vec![signer(1, 0), signer(2, 1)],
            level: "high".into(),
            opens_at: None,
            deadline: NOW + Duration::days(30),
            naming: Some("name_and_birth_date".into()),
            notifications: SigningNotifications::default(),
            helpers_may_sign: false,
            language: None,
        }
    }

    fn code_of(job: NewSigningJob) -> &'static str {
        job.validate(NOW, Language::Nb).unwrap_err().code()
    }

    #[test]
    fn a_good_job_passes_with_its_hashes() {
        let valid = job().validate(NOW, Language::Nb).unwrap();
        assert_eq!(valid.level, Loa::High);
        assert_eq!(valid.naming, SignerNaming::NameAndBirthDate);
        assert_eq!(valid.language, Language::Nb, "the portal's default stands");
        assert_eq!(valid.opens_at, NOW);
        assert_eq!(valid.description, "");
        assert_eq!(
            valid.documents[0].sha256,
            <[u8; 32]>::from(Sha256::digest(minimal_pdf("kontrakt")))
        );
        assert_eq!(valid.signers[1].order, 1);
        // An opening in the past means now.
        let mut past = job();
        past.opens_at = Some(NOW - Duration::days(3));
        assert_eq!(past.validate(NOW, Language::Nb).unwrap().opens_at, NOW);
    }

    #[test]
    fn the_agency_names_the_language_or_the_default_stands() {
        let mut danish = job();
        danish.language = Some("da".into());
        assert_eq!(
            danish.validate(NOW, Language::Nb).unwrap().language,
            Language::Da
        );
        assert_eq!(
            job().validate(NOW, Language::En).unwrap().language,
            Language::En
        );
    }

    #[test]
    fn every_rule_has_its_code() {
        type Change = Box<dyn Fn(&mut NewSigningJob)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|j| j.agency_job_id = "sak 1".into()),
                "signing.invalid_job_id",
            ),
            (
                Box::new(|j| j.agency_job_id = String::new()),
                "signing.invalid_job_id",
            ),
            (Box::new(|j| j.title = "  ".into()), "signing.title_missing"),
            (
                Box::new(|j| j.title = "x".repeat(81)),
                "signing.title_invalid",
            ),
            (
                Box::new(|j| j.title = "a\u{7}b".into()),
                "signing.title_invalid",
            ),
            (
                Box::new(|j| j.non_sensitive_title = String::new()),
                "signing.safe_title_missing",
            ),
            (
                Box::new(|j| j.non_sensitive_title = "y".repeat(81)),
                "signing.safe_title_invalid",
            ),
            (
                Box::new(|j| j.description = Some("z".repeat(221))),
                "signing.description_invalid",
            ),
            (
                Box::new(|j| j.description = Some("a\u{0}".into())),
                "signing.description_invalid",
            ),
            (Box::new(|j| j.documents.clear()), "signing.no_documents"),
            (
                Box::new(|j| j.documents = (0..21).map(|i| document(&format!("d{i}"))).collect()),
                "signing.too_many_documents",
            ),
            (
                Box::new(|j| j.documents[0].file_name = "../x.pdf".into()),
                "signing.document_name_invalid",
            ),
            (
                Box::new(|j| j.documents[0].title = String::new()),
                "signing.document_name_invalid",
            ),
            (
                Box::new(|j| j.documents[0].content = b"GIF89a".to_vec()),
                "signing.document_not_pdf",
            ),
            (
                Box::new(|j| j.documents[0].content = vec![b'%'; MAX_DOCUMENT_BYTES + 1]),
                "signing.document_too_large",
            ),
            (Box::new(|j| j.signers.clear()), "signing.no_signers"),
            (
                Box::new(|j| j.signers = (0..11).map(|i| signer(10 + i, 0)).collect()),
                "signing.too_many_signers",
            ),
            (
                Box::new(|j| j.signers.push(signer(1, 3))),
                "signing.duplicate_signer",
            ),
            (
                Box::new(|j| j.signers[0].order = 10),
                "signing.order_invalid",
            ),
            (
                Box::new(|j| j.signers[0].order = -1),
                "signing.order_invalid",
            ),
            (
                Box::new(|j| j.level = "low".into()),
                "signing.level_invalid",
            ),
            (
                Box::new(|j| j.naming = Some("nickname".into())),
                "signing.naming_invalid",
            ),
            (
                Box::new(|j| j.language = Some("sv".into())),
                "signing.language_invalid",
            ),
            (
                Box::new(|j| j.opens_at = Some(NOW + Duration::days(367))),
                "signing.opens_too_late",
            ),
            (Box::new(|j| j.deadline = NOW), "signing.deadline_invalid"),
            (
                Box::new(|j| j.deadline = NOW + Duration::days(90) + Duration::seconds(1)),
                "signing.deadline_invalid",
            ),
        ];
        for (change, code) in cases {
            let mut broken = job();
            change(&mut broken);
            assert_eq!(code_of(broken), code);
        }
        // Ninety days exactly is allowed, also counted from a later opening.
        let mut longest = job();
        longest.opens_at = Some(NOW + Duration::days(5));
        longest.deadline = NOW + Duration::days(95);
        assert!(longest.validate(NOW, Language::Nb).is_ok());
    }

    #[test]
    fn the_documents_together_are_capped() {
        let big = NewSigningDocument {
            title: "stor".into(),
            file_name: "stor.pdf".into(),
            content: {
                let mut pdf = minimal_pdf("stor");
                let tail = pdf.split_off(pdf.len() - 100);
                pdf.resize(MAX_DOCUMENT_BYTES - 100, b' ');
                pdf.extend(tail);
                pdf
            },
        };
        let mut heavy = job();
        heavy.documents = vec![big; 6];
        assert_eq!(code_of(heavy), "signing.documents_too_large");
    }

    #[test]
    fn notification_wishes_and_reasons() {
        let both = SigningNotifications::parse(None, None).unwrap();
        assert_eq!((both.channels_code(), both.reminders), ("email,sms", true));
        let sms = SigningNotifications::parse(Some(&["sms".into()]), Some(false)).unwrap();
        assert_eq!((sms.channels_code(), sms.reminders), ("sms", false));
        assert_eq!(SigningNotifications::from_stored("sms", false), Some(sms));
        let none = SigningNotifications::parse(Some(&[]), None).unwrap();
        assert_eq!(none.channels_code(), "");
        for bad in [vec!["fax".to_owned()], vec!["email".into(), "email".into()]] {
            let error = SigningNotifications::parse(Some(&bad), None).unwrap_err();
            assert_eq!(error.code(), "signing.notification_channel_invalid");
        }
        assert_eq!(decline_reason(None).unwrap(), None);
        assert_eq!(decline_reason(Some("   ")).unwrap(), None);
        assert_eq!(
            decline_reason(Some(" Feil\nbeløp ")).unwrap().unwrap(),
            "Feil\nbeløp"
        );
        assert!(decline_reason(Some(&"x".repeat(501))).is_err());
        assert!(decline_reason(Some("a\u{1b}b")).is_err());
    }
}
