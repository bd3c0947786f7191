//! Sealing, exactly once: a worker claims a job in `sealing` with a lease
//! (`signing_jobs.seal_claimed_until`; PostgreSQL skips rows another instance has locked),
//! reads what the seal needs, makes the sealed PDFs outside any transaction, and
//! [`Database::complete_sealing`] writes them in one transaction that completes the job only if
//! it is still `sealing`: the sealed documents, the state `completed`, the agency's
//! `completed_successfully` event and a letter with the sealed documents to each signer for
//! themself (through the post delivery's plan, so reservation, paper and notifications apply).
//!
//! A worker that dies after its claim leaves the job `sealing`; when the lease has run out the
//! next round claims and seals it again. Two rounds racing (a slow one whose lease ran out)
//! both seal, and the first completion wins: the second finds the job completed and writes
//! nothing. So one sealed set, never two and never none.

use time::{Duration, OffsetDateTime};

use super::super::post::delivery::{log_delivered, Delivery};
use super::super::sql::{Dialect, Ex, Row, Val};
use super::super::{stored_instant, Database, StoreError};
use super::{agency_of, apply, lock_job};
use crate::access::{AgencyAccess, Loa, SendForSigning};
use crate::agency::AgencyId;
use crate::identity::NationalId;
use crate::person::Language;
use crate::post::PostError;
use crate::signing::progress::Changes;
use crate::signing::{
    sealed_file_name, sealed_letter, JobState, OnBehalfOf, SealedLetterWords, SealingDocument,
    SealingJob, SealingSigner, SignerId, SignerNaming, SigningDocumentInfo, SigningError,
    SigningJobId,
};

/// One job in `sealing` whose lease (if any) has run out, oldest first; PostgreSQL skips a row
/// another instance is claiming right now. SQLite's write transaction holds the lock.
const NEXT_TO_SEAL: Dialect = Dialect {
    sqlite: "SELECT id FROM signing_jobs WHERE state = 'sealing' \
             AND (seal_claimed_until IS NULL OR seal_claimed_until <= $1) \
             ORDER BY created_at LIMIT 1",
    postgres: "SELECT id FROM signing_jobs WHERE state = 'sealing' \
               AND (seal_claimed_until IS NULL OR seal_claimed_until <= $1) \
               ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED",
};

/// What [`Database::complete_sealing`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealingDone {
    /// Letters delivered with the sealed documents (one per signer for themself).
    pub letters: usize,
}

impl Database {
    /// Claims the oldest job waiting to be sealed whose lease (if any) has run out, for
    /// `lease` from `now`, and reads what its seal needs. `None`: nothing to seal.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name()))]
    pub async fn claim_sealing_job(
        &self,
        now: OffsetDateTime,
        lease: Duration,
    ) -> Result<Option<SealingJob>, SigningError> {
        let now = stored_instant(now);
        let claimed_until = stored_instant(now + lease);
        let id = {
            let mut tx = self.begin_tx().await?;
            let mut ex = tx.ex();
            let sql = ex.dialect(&NEXT_TO_SEAL);
            let Some(row) = ex.fetch_optional(sql, &[Val::Time(now)]).await? else {
                return Ok(None);
            };
            let id = SigningJobId::from_uuid(row.uuid("id", "signing_jobs.id")?);
            ex.execute(
                "UPDATE signing_jobs SET seal_claimed_until = $2, seal_attempts = seal_attempts + 1 \
                 WHERE id = $1",
                &[Val::Uuid(id.as_uuid()), Val::Time(claimed_until)],
            )
            .await?;
            tx.commit().await?;
            id
        };
        let mut conn = self.conn().await?;
        let mut ex = conn.ex();
        let job = read_sealing_job(&mut ex, id, claimed_until, true).await?;
        tracing::info!(signing_job.id = %id, documents = job.documents.len(), "signing job claimed for sealing");
        Ok(Some(job))
    }

    /// Completes a job with its sealed documents (`sealed[i]` for the document at position
    /// `i`), in one transaction and only if it is still `sealing`: the sealed PDFs, the state
    /// `completed`, the agency's event, and a letter with the sealed documents (worded as
    /// `words`) to each signer for themself. [`SigningError::JobEnded`] if it is not `sealing`
    /// any more (another round completed it): nothing is written.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), signing_job.id = %job))]
    pub async fn complete_sealing(
        &self,
        job: SigningJobId,
        sealed: &[Vec<u8>],
        words: &SealedLetterWords,
        now: OffsetDateTime,
    ) -> Result<SealingDone, SigningError> {
        let now = stored_instant(now);
        let staleness = self.contact_staleness;
        let mut tx = self.begin_tx().await?;
        let (facts, attachments) = {
            let mut ex = tx.ex();
            let locked = lock_job(&mut ex, job)
                .await?
                .ok_or(SigningError::NotFound)?;
            if locked.state != JobState::Sealing {
                return Err(SigningError::JobEnded);
            }
            let facts = read_sealing_job(&mut ex, job, now, false).await?;
            if facts.documents.len() != sealed.len() {
                return Err(StoreError::Corrupt {
                    what: "sealed documents: not one per document",
                }
                .into());
            }
            for (document, pdf) in facts.documents.iter().zip(sealed) {
                ex.execute(
                    "UPDATE signing_documents SET sealed = $3 WHERE job_id = $1 AND position = $2",
                    &[
                        Val::Uuid(job.as_uuid()),
                        Val::Int(i64::from(document.position)),
                        Val::Bytes(pdf),
                    ],
                )
                .await?;
            }
            ex.execute(
                "UPDATE signing_jobs SET seal_claimed_until = NULL WHERE id = $1",
                &[Val::Uuid(job.as_uuid())],
            )
            .await?;
            let completed = Changes {
                job: Some(JobState::Completed),
                ..Changes::default()
            };
            apply(&mut ex, &locked, &completed, now).await?;
            let attachments: Vec<(String, Vec<u8>)> = facts
                .documents
                .iter()
                .zip(sealed)
                .map(|(document, pdf)| (sealed_file_name(&document.file_name), pdf.clone()))
                .collect();
            (facts, attachments)
        };
        let mut delivered = Vec::new();
        // One letter at a time, so one copy of the sealed PDFs is held for the letter being
        // written, not one per signer.
        let letters = facts.signers.iter().filter_map(|signer| {
            sealed_letter(
                job,
                words,
                &facts.sender_name,
                facts.level,
                signer,
                &attachments,
                now,
            )
        });
        for mut letter in letters {
            // The sealed PDFs are the portal's own; they may outgrow an agency's attachment
            // limits (a 10 MB original plus its front page and seal), so they are checked
            // apart from the rest of the letter.
            let attachments = std::mem::take(&mut letter.attachments);
            let mut valid = letter.validate(now).map_err(letter_refused)?;
            valid.attachments = attachments;
            match Database::deliver_in(&mut tx, &facts.agency, valid, now, false, staleness)
                .await
                .map_err(letter_refused)?
            {
                Delivery::New(receipt, attachments) => delivered.push((receipt, attachments)),
                // Delivered before: cannot happen while the job was still sealing.
                Delivery::Replayed(_) => {}
                Delivery::Raced(_) => {
                    return Err(StoreError::Corrupt {
                        what: "a sealed letter's message id was taken",
                    }
                    .into())
                }
            }
        }
        tx.commit().await?;
        for (receipt, attachments) in &delivered {
            log_delivered(receipt, *attachments);
        }
        tracing::info!(
            signing_job.id = %job,
            documents = sealed.len(),
            letters = delivered.len(),
            "signing job sealed and completed"
        );
        Ok(SealingDone {
            letters: delivered.len(),
        })
    }

    /// A sealed document of one of the proof's agency's jobs, with its information (the
    /// original's title and file name, the sealed copy's size). [`SigningError::NotFound`]
    /// for another agency's job or no such document; [`SigningError::NotSealed`] while the
    /// job has not completed.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), agency = %access.agency()))]
    pub async fn sealed_document(
        &self,
        access: &AgencyAccess<SendForSigning>,
        job: SigningJobId,
        position: u32,
    ) -> Result<(SigningDocumentInfo, Vec<u8>), SigningError> {
        let mut conn = self.conn().await?;
        let row = conn
            .ex()
            .fetch_optional(
                "SELECT j.agency_id, j.state, d.position, d.title, d.file_name, d.sealed \
                 FROM signing_jobs j JOIN signing_documents d ON d.job_id = j.id \
                 WHERE j.id = $1 AND d.position = $2",
                &[Val::Uuid(job.as_uuid()), Val::Int(i64::from(position))],
            )
            .await?
            .ok_or(SigningError::NotFound)?;
        if &agency_of(&row)? != access.agency() {
            return Err(SigningError::NotFound);
        }
        let what = "signing_documents";
        let state = JobState::from_code(row.str("state", what)?).ok_or(StoreError::Corrupt {
            what: "signing_jobs.state",
        })?;
        if state != JobState::Completed {
            return Err(SigningError::NotSealed);
        }
        let sealed = row.bytes("sealed", what)?;
        let info = SigningDocumentInfo {
            position: u32::try_from(row.int("position", what)?)
                .map_err(|_| StoreError::Corrupt { what })?,
            title: row.text("title", what)?,
            file_name: sealed_file_name(&row.text("file_name", what)?),
            size: sealed.len() as u64,
        };
        Ok((info, sealed))
    }
}

/// A sealed letter refused by the post's rules: the job's own title or sender broke a letter's
/// rule (a bug: the job's rules are stricter). The job stays `sealing` and is retried.
fn letter_refused(error: PostError) -> SigningError {
    match error {
        PostError::Store(error) => SigningError::Store(error),
        other => {
            tracing::error!(error = %other, "a sealed letter was refused");
            SigningError::Store(StoreError::Corrupt {
                what: "the sealed letter",
            })
        }
    }
}

/// Everything the seal of `id` needs: the job, its originals, the signers who signed with
/// their names and evidence.
/// Without `with_content` the documents' content is left empty (completion needs only their
/// names).
async fn read_sealing_job(
    ex: &mut Ex<'_>,
    id: SigningJobId,
    claimed_until: OffsetDateTime,
    with_content: bool,
) -> Result<SealingJob, StoreError> {
    let what = "signing_jobs";
    let job = ex
        .fetch_one(
            "SELECT agency_id, sender_name, title, required_loa, naming, language, \
             seal_attempts FROM signing_jobs WHERE id = $1",
            &[Val::Uuid(id.as_uuid())],
        )
        .await?;
    let agency: AgencyId = agency_of(&job)?;
    let documents = ex
        .fetch_all(
            if with_content {
                "SELECT position, title, file_name, content FROM signing_documents \
                 WHERE job_id = $1 ORDER BY position"
            } else {
                "SELECT position, title, file_name FROM signing_documents \
                 WHERE job_id = $1 ORDER BY position"
            },
            &[Val::Uuid(id.as_uuid())],
        )
        .await?
        .iter()
        .map(|row| {
            let what = "signing_documents";
            Ok(SealingDocument {
                position: u32::try_from(row.int("position", what)?)
                    .map_err(|_| StoreError::Corrupt { what })?,
                title: row.text("title", what)?,
                file_name: row.text("file_name", what)?,
                content: if with_content {
                    row.bytes("content", what)?
                } else {
                    Vec::new()
                },
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let signers = ex
        .fetch_all(
            "SELECT s.id, s.national_id, s.on_behalf_of, s.evidence, \
             p.given_name, p.family_name, h.given_name AS helper_given, \
             h.family_name AS helper_family \
             FROM signing_signers s \
             LEFT JOIN persons p ON p.national_id = s.national_id \
             LEFT JOIN persons h ON h.id = s.signed_by AND s.delegation_id IS NOT NULL \
             WHERE s.job_id = $1 AND s.status = 'signed' ORDER BY s.position",
            &[Val::Uuid(id.as_uuid())],
        )
        .await?
        .iter()
        .map(sealing_signer)
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(SealingJob {
        id,
        agency,
        sender_name: job.text("sender_name", what)?,
        title: job.text("title", what)?,
        level: Loa::from_str_name(job.str("required_loa", what)?)
            .ok_or(StoreError::Corrupt { what })?,
        naming: SignerNaming::from_code(job.str("naming", what)?)
            .ok_or(StoreError::Corrupt { what })?,
        language: Language::from_code(job.str("language", what)?)
            .ok_or(StoreError::Corrupt { what })?,
        attempts: u32::try_from(job.int("seal_attempts", what)?)
            .map_err(|_| StoreError::Corrupt { what })?,
        documents,
        signers,
        claimed_until,
    })
}

fn full_name(given: Option<String>, family: Option<String>) -> Option<String> {
    given.map(|given| match family.as_deref() {
        Some(family) if !family.is_empty() => format!("{given} {family}"),
        _ => given,
    })
}

fn sealing_signer(row: &Row) -> Result<SealingSigner, StoreError> {
    let what = "signing_signers";
    let corrupt = || StoreError::Corrupt { what };
    Ok(SealingSigner {
        id: SignerId::from_uuid(row.uuid("id", what)?),
        national_id: NationalId::parse(row.str("national_id", what)?).map_err(|_| corrupt())?,
        name: full_name(
            row.opt_text("given_name", what)?,
            row.opt_text("family_name", what)?,
        ),
        on_behalf_of: OnBehalfOf::from_code(row.str("on_behalf_of", what)?).ok_or_else(corrupt)?,
        evidence: row.json("evidence", what)?,
        helper_name: full_name(
            row.opt_text("helper_given", what)?,
            row.opt_text("helper_family", what)?,
        ),
    })
}
