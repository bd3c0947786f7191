//! Demo signing jobs for the demo persons, so that "documents to sign" has something to show
//! in a development run. The server calls [`seed_demo_signing`] after the demo persons and
//! letters when demo data is switched on.

use time::{Duration, OffsetDateTime};

use super::{NewSigner, NewSigningDocument, NewSigningJob, OnBehalfOf, SigningError};
use super::{SigningNotifications, MAX_OPEN_PERIOD};
use crate::access::{Actor, AgencyGrants, Policy, SendForSigning};
use crate::agency::AgencyId;
use crate::demo::demo_persons;
use crate::post::pdf;
use crate::storage::Database;

/// (agency job id, agency, sender, title, non-sensitive title, level, helpers may sign,
/// signers as (demo person's given name, order)).
type DemoJob = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    bool,
    &'static [(&'static str, i64)],
);

const JOBS: [DemoJob; 3] = [
    (
        "demo-sign-1",
        "nav",
        "NAV",
        "Aktivitetsplan: avtale om oppfølging",
        "Et dokument fra NAV til signering",
        "substantial",
        false,
        &[("Ingrid", 0), ("Aksel", 1)],
    ),
    (
        "demo-sign-2",
        "helse-vest",
        "Helse Vest",
        "Samtykke til behandling",
        "Et dokument fra Helse Vest til signering",
        "high",
        true,
        &[("Torbjørn", 0)],
    ),
    (
        "demo-sign-3",
        "kobenhavns-kommune",
        "Københavns Kommune",
        "Lejekontrakt for kommunal bolig",
        "Et dokument fra Københavns Kommune",
        "substantial",
        false,
        &[("Mette", 0)],
    ),
];

/// Creates the demo jobs that are missing and returns how many it added. Safe at every start:
/// each job has a fixed agency job id, so a second run finds it and adds nothing. Jobs whose
/// signers the register does not have are skipped.
#[tracing::instrument(skip_all)]
pub async fn seed_demo_signing(db: &Database, now: OffsetDateTime) -> Result<usize, SigningError> {
    let persons = demo_persons();
    let mut added = 0;
    for (job_id, agency, sender, title, safe_title, level, helpers, signers) in JOBS {
        let Ok(agency) = AgencyId::parse(agency) else {
            continue;
        };
        let mut named = Vec::with_capacity(signers.len());
        for (given_name, order) in signers {
            let Some(person) = persons.iter().find(|p| p.given_name == *given_name) else {
                continue;
            };
            if db
                .find_person_by_national_id(&person.national_id)
                .await?
                .is_none()
            {
                continue;
            }
            named.push(NewSigner {
                national_id: person.national_id.clone(),
                order: *order,
                on_behalf_of: OnBehalfOf::Myself,
            });
        }
        if named.len() != signers.len() {
            continue;
        }
        let job = NewSigningJob {
            agency_job_id: job_id.to_owned(),
            title: title.to_owned(),
            non_sensitive_title: safe_title.to_owned(),
            description: Some("Les dokumentet nøye før du signerer.".to_owned()),
            documents: vec![NewSigningDocument {
                title: title.to_owned(),
                file_name: format!("{job_id}.pdf"),
                content: pdf::minimal_pdf(title),
            }],
            signers: named,
            level: level.to_owned(),
            opens_at: None,
            deadline: now + Duration::days(30).min(MAX_OPEN_PERIOD),
            naming: Some("name_and_birth_date".to_owned()),
            notifications: SigningNotifications::default(),
            helpers_may_sign: helpers,
            language: None,
        };
        let actor = Actor::Agency {
            agency,
            grants: AgencyGrants::SIGNING,
        };
        let Ok(access) = Policy::authorize_agency::<SendForSigning>(&actor) else {
            continue;
        };
        let status = db
            .create_demo_signing_job(
                &access,
                sender,
                job.validate(now, crate::person::Language::Nb)?,
                now,
            )
            .await?;
        if !status.replayed {
            added += 1;
        }
    }
    tracing::info!(added, "demo signing jobs seeded");
    Ok(added)
}
