//! The signing register for signers: the jobs whose turn has come for the proof's subject,
//! their documents, signing and declining.
//!
//! A signer is found by the subject's national id (agencies name signers by it, and a signer
//! need not have logged in before the job was made). A job the subject is not a signer of, or
//! whose turn has not come, is [`SigningError::NotFound`]: the same answer as no job at all.

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::super::audit::citizen_event_about;
use super::super::sql::{Ex, Row, Val};
use super::super::{stored_instant, Database, StoreError};
use super::{apply, lock_job, notices, rule_view, signer_status, signers_of};
use crate::access::{Access, Basis, Loa, SignDocuments};
use crate::audit::AuditKind;
use crate::signing::notice::SigningNotice;
use crate::signing::progress;
use crate::signing::{
    decline_reason, JobState, SignatureEvidence, SignerId, SignerJob, SignerJobSummary,
    SigningDocumentInfo, SigningError, SigningJobId, SigningParty,
};

/// The columns of a list entry, from `signing_jobs j` and `signing_signers s`.
const SUMMARY_COLUMNS: &str = "j.id AS job_id, j.sender_name, j.title, j.non_sensitive_title, \
     j.required_loa, j.deadline, j.state, s.status";

/// The signers' side of the register.
impl Database {
    /// The jobs whose turn has come for the subject, those waiting for them first, then by
    /// deadline.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn signing_jobs(
        &self,
        access: &Access<SignDocuments>,
        now: OffsetDateTime,
    ) -> Result<Vec<SignerJobSummary>, SigningError> {
        let mut conn = self.conn().await?;
        let rows = conn
            .ex()
            .fetch_all(
                &format!(
                    "SELECT {SUMMARY_COLUMNS} FROM persons p \
                     JOIN signing_signers s ON s.national_id = p.national_id \
                     JOIN signing_jobs j ON j.id = s.job_id \
                     WHERE p.id = $1 AND s.activated_at <= $2 \
                     ORDER BY CASE WHEN j.state = 'in_progress' AND s.status = 'waiting' \
                     THEN 0 ELSE 1 END, j.deadline, j.id"
                ),
                &[Val::Uuid(access.subject().as_uuid()), Val::Time(now)],
            )
            .await?;
        Ok(rows.iter().map(summary).collect::<Result<_, _>>()?)
    }

    /// How many jobs wait for the subject's signature (the header's and home page's count).
    pub async fn signing_jobs_waiting(
        &self,
        access: &Access<SignDocuments>,
        now: OffsetDateTime,
    ) -> Result<u64, SigningError> {
        let mut conn = self.conn().await?;
        let row = conn
            .ex()
            .fetch_one(
                "SELECT COUNT(*) AS n FROM persons p \
                 JOIN signing_signers s ON s.national_id = p.national_id \
                 JOIN signing_jobs j ON j.id = s.job_id \
                 WHERE p.id = $1 AND s.activated_at <= $2 AND s.status = 'waiting' \
                 AND j.state = 'in_progress'",
                &[Val::Uuid(access.subject().as_uuid()), Val::Time(now)],
            )
            .await?;
        let n = row.int("n", "signing count")?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// One job as its signer sees it.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn signing_job(
        &self,
        access: &Access<SignDocuments>,
        job: SigningJobId,
        now: OffsetDateTime,
    ) -> Result<SignerJob, SigningError> {
        let mut conn = self.conn().await?;
        let mut ex = conn.ex();
        let row = ex
            .fetch_optional(
                &format!(
                    "SELECT {SUMMARY_COLUMNS}, s.id AS signer_id, j.description, \
                     j.helpers_may_sign FROM persons p \
                     JOIN signing_signers s ON s.national_id = p.national_id \
                     JOIN signing_jobs j ON j.id = s.job_id \
                     WHERE p.id = $1 AND s.job_id = $2 AND s.activated_at <= $3"
                ),
                &[
                    Val::Uuid(access.subject().as_uuid()),
                    Val::Uuid(job.as_uuid()),
                    Val::Time(now),
                ],
            )
            .await?
            .ok_or(SigningError::NotFound)?;
        let what = "signing_jobs";
        let signer = SignerId::from_uuid(row.uuid("signer_id", what)?);
        let parties = ex
            .fetch_all(
                "SELECT s.id, s.signing_order, s.status, p.given_name, p.family_name \
                 FROM signing_signers s LEFT JOIN persons p ON p.national_id = s.national_id \
                 WHERE s.job_id = $1 ORDER BY s.position",
                &[Val::Uuid(job.as_uuid())],
            )
            .await?
            .iter()
            .map(|row| party(row, signer))
            .collect::<Result<_, _>>()?;
        let summary = summary(&row)?;
        // Below the job's level only what its non-sensitive title says may be shown.
        let locked = !at_level(access, summary.level);
        Ok(SignerJob {
            description: if locked {
                String::new()
            } else {
                row.text("description", what)?
            },
            documents: if locked {
                Vec::new()
            } else {
                documents(&mut ex, job).await?
            },
            summary,
            signer,
            parties,
            helpers_may_sign: row.bool("helpers_may_sign", what)?,
            locked,
        })
    }

    /// One document of a job the subject may see, with its content (the original, as the
    /// agency sent it). [`SigningError::NeedsStepUp`] below the job's level.
    pub async fn signing_document(
        &self,
        access: &Access<SignDocuments>,
        job: SigningJobId,
        position: u32,
        now: OffsetDateTime,
    ) -> Result<(SigningDocumentInfo, Vec<u8>), SigningError> {
        let mut conn = self.conn().await?;
        let row = conn
            .ex()
            .fetch_optional(
                "SELECT d.position, d.title, d.file_name, d.size, d.content, j.required_loa \
                 FROM persons p JOIN signing_signers s ON s.national_id = p.national_id \
                 JOIN signing_jobs j ON j.id = s.job_id \
                 JOIN signing_documents d ON d.job_id = s.job_id \
                 WHERE p.id = $1 AND s.job_id = $2 AND s.activated_at <= $3 AND d.position = $4",
                &[
                    Val::Uuid(access.subject().as_uuid()),
                    Val::Uuid(job.as_uuid()),
                    Val::Time(now),
                    Val::Int(i64::from(position)),
                ],
            )
            .await?
            .ok_or(SigningError::NotFound)?;
        let level = Loa::from_str_name(row.str("required_loa", "signing_jobs")?).ok_or(
            StoreError::Corrupt {
                what: "signing_jobs.required_loa",
            },
        )?;
        if !at_level(access, level) {
            return Err(SigningError::NeedsStepUp);
        }
        Ok((
            document_info(&row)?,
            row.bytes("content", "signing_documents")?,
        ))
    }

    /// The subject signs `job` with the evidence of a fresh eID login (checked here: the job's
    /// level, after the click, recent). A helper may sign only a job that allows it. The
    /// signature, its evidence, the status event and the audit event are one transaction: the
    /// signature is durable before the signer is told. Returns the job's state after: sealing
    /// when this was the last signature.
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn sign_job(
        &self,
        access: &Access<SignDocuments>,
        job: SigningJobId,
        evidence: &SignatureEvidence,
        now: OffsetDateTime,
    ) -> Result<JobState, SigningError> {
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let (locked, me) = lock_for_signer(&mut ex, access, job, now).await?;
        if access.basis().is_for_someone_else() && !locked.helpers_may_sign {
            return Err(SigningError::HelpersNotAllowed);
        }
        evidence.check(locked.level, now)?;
        let signers = signers_of(&mut ex, job, now).await?;
        let changes = progress::sign(locked.state, &rule_view(&signers), me)?;
        let national_id = signers
            .iter()
            .find(|s| s.rules.id == me)
            .map(|s| s.national_id.clone())
            .unwrap_or_default();
        let record = evidence_record(&mut ex, access, job, me, &national_id, evidence, now).await?;
        let (signed_by, delegation) = match (access.actor(), access.basis()) {
            (crate::access::Actor::Citizen { person, .. }, basis) => (
                Some(person.as_uuid()),
                match basis {
                    Basis::Delegation { delegation, .. } => Some(delegation.as_uuid()),
                    _ => None,
                },
            ),
            (crate::access::Actor::Agency { .. }, _) => (None, None),
        };
        ex.execute(
            "UPDATE signing_signers SET signed_by = $2, delegation_id = $3, evidence = $4 \
             WHERE id = $1",
            &[
                Val::Uuid(me.as_uuid()),
                Val::OptUuid(signed_by),
                Val::OptUuid(delegation),
                Val::Json(&record),
            ],
        )
        .await?;
        apply(&mut ex, &locked, &changes, now).await?;
        // The next order's turn has come: they are told in this transaction.
        let next: Vec<(SignerId, String)> = signers
            .iter()
            .filter(|s| changes.activate.contains(&s.rules.id))
            .map(|s| (s.rules.id, s.national_id.clone()))
            .collect();
        if !next.is_empty() {
            let facts = notices::notice_facts(&mut ex, job).await?;
            let staleness = self.contact_staleness;
            let told = SigningNotice::Requested;
            notices::queue_signer_notices(&mut tx, &facts, &next, told, now, staleness).await?;
        }
        let about = locked.non_sensitive_title.clone();
        tx.insert_audit_event(&citizen_event_about(
            access,
            AuditKind::DocumentsSigned,
            about,
            now,
        ))
        .await?;
        tx.commit().await?;
        let state = changes.job.unwrap_or(locked.state);
        tracing::info!(signing_job.id = %job, state = state.code(), "signing job signed");
        Ok(state)
    }

    /// The subject declines `job`, with an optional reason the agency sees: the job fails and
    /// nobody else is asked. Needs no fresh login (declining commits to nothing).
    #[tracing::instrument(skip_all, fields(backend = self.backend().name(), person.id = %access.subject()))]
    pub async fn decline_job(
        &self,
        access: &Access<SignDocuments>,
        job: SigningJobId,
        reason: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<(), SigningError> {
        let reason = decline_reason(reason)?;
        let now = stored_instant(now);
        let mut tx = self.begin_tx().await?;
        let mut ex = tx.ex();
        let (locked, me) = lock_for_signer(&mut ex, access, job, now).await?;
        if access.basis().is_for_someone_else() && !locked.helpers_may_sign {
            return Err(SigningError::HelpersNotAllowed);
        }
        let signers = signers_of(&mut ex, job, now).await?;
        let changes = progress::decline(locked.state, &rule_view(&signers), me)?;
        ex.execute(
            "UPDATE signing_signers SET reason = $2 WHERE id = $1",
            &[Val::Uuid(me.as_uuid()), Val::OptText(reason.as_deref())],
        )
        .await?;
        apply(&mut ex, &locked, &changes, now).await?;
        let about = locked.non_sensitive_title.clone();
        tx.insert_audit_event(&citizen_event_about(
            access,
            AuditKind::SigningDeclined,
            about,
            now,
        ))
        .await?;
        tx.commit().await?;
        tracing::info!(signing_job.id = %job, "signing job declined");
        Ok(())
    }
}

/// Whether the proof's login (the helper's own, when acting) reaches `level`.
fn at_level(access: &Access<SignDocuments>, level: Loa) -> bool {
    access.actor().loa().is_some_and(|loa| loa >= level)
}

/// The job's row, locked, and the subject's signer on it if their turn has come; a job past
/// its deadline has ended even before the expiry job has run.
async fn lock_for_signer(
    ex: &mut Ex<'_>,
    access: &Access<SignDocuments>,
    job: SigningJobId,
    now: OffsetDateTime,
) -> Result<(super::LockedJob, SignerId), SigningError> {
    let locked = lock_job(ex, job).await?.ok_or(SigningError::NotFound)?;
    let row = ex
        .fetch_optional(
            "SELECT s.id FROM persons p JOIN signing_signers s ON s.national_id = p.national_id \
             WHERE p.id = $1 AND s.job_id = $2 AND s.activated_at <= $3",
            &[
                Val::Uuid(access.subject().as_uuid()),
                Val::Uuid(job.as_uuid()),
                Val::Time(now),
            ],
        )
        .await?
        .ok_or(SigningError::NotFound)?;
    let me = SignerId::from_uuid(row.uuid("id", "signing_signers.id")?);
    if locked.state == JobState::InProgress && locked.deadline <= now {
        return Err(SigningError::JobEnded);
    }
    Ok((locked, me))
}

/// The evidence kept with a signature (JSON): the documents' hashes, who signed for whom at
/// which level with which eID and when, and the id_token as the eID signed it.
async fn evidence_record(
    ex: &mut Ex<'_>,
    access: &Access<SignDocuments>,
    job: SigningJobId,
    signer: SignerId,
    national_id: &str,
    evidence: &SignatureEvidence,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let rows = ex
        .fetch_all(
            "SELECT position, title, sha256 FROM signing_documents WHERE job_id = $1 \
             ORDER BY position",
            &[Val::Uuid(job.as_uuid())],
        )
        .await?;
    let mut documents = Vec::with_capacity(rows.len());
    for row in &rows {
        let what = "signing_documents";
        let mut sha256 = String::with_capacity(64);
        for byte in row.bytes("sha256", what)? {
            let _ = write!(sha256, "{byte:02x}");
        }
        documents.push(serde_json::json!({
            "position": row.int("position", what)?,
            "title": row.text("title", what)?,
            "sha256": sha256,
        }));
    }
    let rfc3339 = |at: OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let helper = match (access.actor(), access.basis()) {
        (crate::access::Actor::Citizen { person, .. }, Basis::Delegation { delegation, .. }) => {
            serde_json::json!({ "person": person.to_string(), "delegation": delegation.to_string() })
        }
        _ => serde_json::Value::Null,
    };
    let record = serde_json::json!({
        "job": job.to_string(),
        "signer": signer.to_string(),
        "national_id": national_id,
        "name": evidence.name,
        "signed_at": rfc3339(now),
        "documents": documents,
        "level": evidence.loa.as_str(),
        "eid": evidence.eid,
        "auth_time": rfc3339(evidence.auth_time),
        "requested_at": rfc3339(evidence.requested_at),
        "id_token": evidence.id_token,
        "signed_for_by_helper": helper,
    });
    Ok(record.to_string())
}

async fn documents(
    ex: &mut Ex<'_>,
    job: SigningJobId,
) -> Result<Vec<SigningDocumentInfo>, StoreError> {
    ex.fetch_all(
        "SELECT position, title, file_name, size FROM signing_documents WHERE job_id = $1 \
         ORDER BY position",
        &[Val::Uuid(job.as_uuid())],
    )
    .await?
    .iter()
    .map(document_info)
    .collect()
}

fn document_info(row: &Row) -> Result<SigningDocumentInfo, StoreError> {
    let what = "signing_documents";
    let corrupt = || StoreError::Corrupt { what };
    Ok(SigningDocumentInfo {
        position: u32::try_from(row.int("position", what)?).map_err(|_| corrupt())?,
        title: row.text("title", what)?,
        file_name: row.text("file_name", what)?,
        size: u64::try_from(row.int("size", what)?).map_err(|_| corrupt())?,
    })
}

fn summary(row: &Row) -> Result<SignerJobSummary, StoreError> {
    let what = "signing_jobs";
    let corrupt = || StoreError::Corrupt { what };
    Ok(SignerJobSummary {
        job: SigningJobId::from_uuid(row.uuid("job_id", what)?),
        sender_name: row.text("sender_name", what)?,
        title: row.text("title", what)?,
        non_sensitive_title: row.text("non_sensitive_title", what)?,
        level: Loa::from_str_name(row.str("required_loa", what)?).ok_or_else(corrupt)?,
        deadline: row.time("deadline", what)?,
        state: JobState::from_code(row.str("state", what)?).ok_or_else(corrupt)?,
        status: signer_status(row)?,
    })
}

fn party(row: &Row, subject: SignerId) -> Result<SigningParty, StoreError> {
    let what = "signing_signers";
    let given = row.opt_text("given_name", what)?;
    let family = row.opt_text("family_name", what)?;
    let name = given.map(|given| match family.as_deref() {
        Some(family) if !family.is_empty() => format!("{given} {family}"),
        _ => given,
    });
    Ok(SigningParty {
        name,
        order: u8::try_from(row.int("signing_order", what)?)
            .map_err(|_| StoreError::Corrupt { what })?,
        status: signer_status(row)?,
        is_subject: SignerId::from_uuid(row.uuid("id", what)?) == subject,
    })
}
