#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The signing register on both databases (see `on_both_backends!` in `common/mod.rs`):
//! creation and its idempotency, reserved and unreachable signers, orders signing in turn,
//! decline, cancel and expiry with an injected clock, the evidence a signature keeps, helpers,
//! racing signatures, and that nobody sees a job that is not theirs (yet).

#[macro_use]
mod common;
use common::people::{own, register, signing_agency as agency};
use common::TestDb;

use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::post::pdf::minimal_pdf;
use borgerportal::signing::{SignatureEvidence, MAX_OPEN_PERIOD};
use borgerportal::{
    Actor, AuditKind, GrantAuthority, JobState, Language, Loa, ManageContact, NewSigner,
    NewSigningDocument, NewSigningJob, OnBehalfOf, Person, ReadOwnActivity, SignDocuments,
    SignerStatus, SigningCursor, SigningError, SigningEvent, SigningJobStatus,
    SigningNotifications,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

/// The injected clock.
const NOW: OffsetDateTime = datetime!(2026-05-04 10:00 UTC);
/// The jobs' non-sensitive title (what notifications and the activity log call them).
const NON_SENSITIVE_TITLE: &str = "Et dokument til signering";

/// A person with a verified e-mail address (a day before the clock).
async fn reachable(t: &TestDb, n: u16, given_name: &str) -> borgerportal::Person {
    common::people::reachable(t, n, given_name, NOW - Duration::days(1)).await
}

// ---------------------------------------------------------------------------------------------
// Persons, agencies and proofs

fn job(job_id: &str, signers: &[(&Person, i64)]) -> NewSigningJob {
    NewSigningJob {
        agency_job_id: job_id.into(),
        title: "Kjøpekontrakt for Storgata 1".into(),
        non_sensitive_title: NON_SENSITIVE_TITLE.into(),
        description: Some("Signer innen fristen.".into()),
        documents: vec![
            NewSigningDocument {
                title: "Kontrakt".into(),
                file_name: "kontrakt.pdf".into(),
                content: minimal_pdf("Kontrakt"),
            },
            NewSigningDocument {
                title: "Vedlegg".into(),
                file_name: "vedlegg.pdf".into(),
                content: minimal_pdf("Vedlegg"),
            },
        ],
        signers: signers
            .iter()
            .map(|(person, order)| NewSigner {
                national_id: person.national_id.clone(),
                order: *order,
                on_behalf_of: OnBehalfOf::Myself,
            })
            .collect(),
        level: "substantial".into(),
        opens_at: None,
        deadline: NOW + Duration::days(14),
        naming: None,
        notifications: SigningNotifications::default(),
        helpers_may_sign: false,
        language: None,
    }
}

async fn create(t: &TestDb, new_job: NewSigningJob) -> SigningJobStatus {
    let valid = new_job.validate(NOW, Language::Nb).unwrap();
    t.db.create_signing_job(&agency("nav"), "NAV", valid, NOW)
        .await
        .unwrap()
}

/// A fresh login at `loa` a minute after the click, as the server would read it.
fn evidence(loa: Loa, at: OffsetDateTime) -> SignatureEvidence {
    SignatureEvidence {
        loa,
        auth_time: at - Duration::seconds(30),
        requested_at: at - Duration::minutes(1),
        eid: "idporten".into(),
        name: "Kari Signer".into(),
        id_token: "header.payload.signature".into(),
    }
}

async fn sign(
    t: &TestDb,
    person: &Person,
    status: &SigningJobStatus,
    at: OffsetDateTime,
) -> JobState {
    let access = own::<SignDocuments>(person, Loa::Substantial);
    t.db.sign_job(&access, status.id, &evidence(Loa::Substantial, at), at)
        .await
        .unwrap()
}

fn statuses(status: &SigningJobStatus) -> Vec<SignerStatus> {
    status.signers.iter().map(|s| s.status).collect()
}

/// The agency's status changes after `after`, polled until `want` have come (PostgreSQL shows
/// a change only once every older transaction of the cluster has ended, the other tests' too,
/// so a poll may come back short; the cursor must still never skip one), then checked that no
/// more follow.
async fn drain_events(
    t: &TestDb,
    after: SigningCursor,
    want: usize,
) -> (Vec<SigningEvent>, SigningCursor) {
    let nav = agency("nav");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (mut events, mut cursor) = (Vec::new(), after);
    while events.len() < want && std::time::Instant::now() < deadline {
        let page = t.db.signing_events(&nav, cursor, 1).await.unwrap();
        if page.events.is_empty() {
            assert_eq!(page.cursor, cursor, "an empty poll keeps the cursor");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        events.extend(page.events);
        cursor = page.cursor;
    }
    assert_eq!(events.len(), want, "{events:?}");
    let more = t.db.signing_events(&nav, cursor, 100).await.unwrap();
    assert_eq!((more.events, more.cursor), (vec![], cursor));
    (events, cursor)
}

async fn count(t: &TestDb, table: &str) -> i64 {
    t.scalar(&format!("SELECT COUNT(*) FROM {table}")).await
}

// ---------------------------------------------------------------------------------------------
// Tests

async fn a_job_is_created_once_per_agency_job_id(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let first = create(t, job("sak-1", &[(&kari, 0), (&ola, 1)])).await;
    assert!(!first.replayed);
    assert_eq!(first.state, JobState::InProgress);
    assert_eq!(first.agency_job_id.as_str(), "sak-1");
    assert_eq!(
        statuses(&first),
        [SignerStatus::Waiting, SignerStatus::Waiting]
    );
    assert_eq!(first.documents, ["Kontrakt", "Vedlegg"]);
    assert_eq!(first.signers[1].order, 1);
    assert_eq!(first.deadline, NOW + Duration::days(14));

    // The same job id again (even with other content): the first job, nothing new stored.
    let mut again = job("sak-1", &[(&kari, 0)]);
    again.title = "Noe annet".into();
    let replay = create(t, again).await;
    assert!(replay.replayed);
    assert_eq!(replay.id, first.id);
    assert_eq!(statuses(&replay), statuses(&first));
    assert_eq!(count(t, "signing_jobs").await, 1);
    assert_eq!(count(t, "signing_documents").await, 2);
    assert_eq!(count(t, "signing_signers").await, 2);

    // Another agency may use the same id for its own job, and never sees this one.
    let other = agency("skatteetaten");
    let valid = job("sak-1", &[(&kari, 0)])
        .validate(NOW, Language::Nb)
        .unwrap();
    let theirs =
        t.db.create_signing_job(&other, "Skatteetaten", valid, NOW)
            .await
            .unwrap();
    assert_ne!(theirs.id, first.id);
    let refused = t.db.signing_job_status(&other, first.id).await.unwrap_err();
    assert!(matches!(refused, SigningError::NotFound));
    let refused =
        t.db.cancel_signing_job(&other, first.id, NOW)
            .await
            .unwrap_err();
    assert!(matches!(refused, SigningError::NotFound));
    assert_eq!(
        t.db.signing_job_status(&agency("nav"), first.id)
            .await
            .unwrap()
            .state,
        JobState::InProgress
    );
}

async fn reserved_and_unreachable_signers_fail_the_job_at_once(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let reserved = reachable(t, 2, "Reservert").await;
    t.db.set_reservation(
        &own::<ManageContact>(&reserved, Loa::Substantial),
        true,
        NOW,
    )
    .await
    .unwrap();
    let no_contact = register(t, 3, "Uten").await;
    let status = create(
        t,
        job("sak-2", &[(&kari, 0), (&reserved, 0), (&no_contact, 1)]),
    )
    .await;
    assert_eq!(status.state, JobState::Failed);
    assert_eq!(
        statuses(&status),
        [
            SignerStatus::NotApplicable,
            SignerStatus::Reserved,
            SignerStatus::ContactInformationMissing
        ]
    );
    assert!(status.ended_at.is_some());
    // Nobody is asked.
    let kari_jobs =
        t.db.signing_jobs(&own::<SignDocuments>(&kari, Loa::Substantial), NOW)
            .await;
    assert_eq!(kari_jobs.unwrap(), []);
    // The agency is told each status, then the job's.
    let (events, _) = drain_events(t, SigningCursor::START, 4).await;
    let told: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(
        told,
        [
            "not_applicable",
            "reserved",
            "contact_information_missing",
            "failed"
        ]
    );
    assert!(events[3].signer.is_none());
    assert_eq!(events[3].agency_job_id.as_str(), "sak-2");

    // A signer for someone else is not checked against the register.
    let mut for_other = job("sak-3", &[(&no_contact, 0)]);
    for_other.signers[0].on_behalf_of = OnBehalfOf::Other;
    let status = create(t, for_other).await;
    assert_eq!(status.state, JobState::InProgress);
}

async fn orders_sign_in_turn_and_the_last_signature_seals(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let per = reachable(t, 3, "Per").await;
    let status = create(t, job("sak-4", &[(&per, 1), (&kari, 0), (&ola, 0)])).await;
    let nav = agency("nav");
    let for_per = own::<SignDocuments>(&per, Loa::Substantial);
    // Per's turn has not come: no job, and the job's id is "not found" for him.
    assert_eq!(t.db.signing_jobs(&for_per, NOW).await.unwrap(), []);
    assert!(matches!(
        t.db.signing_job(&for_per, status.id, NOW)
            .await
            .unwrap_err(),
        SigningError::NotFound
    ));
    assert!(matches!(
        t.db.signing_document(&for_per, status.id, 0, NOW)
            .await
            .unwrap_err(),
        SigningError::NotFound
    ));
    drain_events(t, SigningCursor::START, 0).await;

    // Kari sees the job: documents, the others by name and order, never their ids.
    let for_kari = own::<SignDocuments>(&kari, Loa::Substantial);
    let listed = t.db.signing_jobs(&for_kari, NOW).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].awaits_signer());
    assert_eq!(
        listed[0].title_at(Loa::Substantial),
        "Kjøpekontrakt for Storgata 1"
    );
    assert_eq!(t.db.signing_jobs_waiting(&for_kari, NOW).await.unwrap(), 1);
    let seen = t.db.signing_job(&for_kari, status.id, NOW).await.unwrap();
    let names: Vec<_> = seen
        .parties
        .iter()
        .map(|p| (p.name.clone().unwrap(), p.order, p.is_subject))
        .collect();
    assert_eq!(
        names,
        [
            ("Per Signer".to_owned(), 1, false),
            ("Kari Signer".to_owned(), 0, true),
            ("Ola Signer".to_owned(), 0, false)
        ]
    );
    assert_eq!(seen.documents.len(), 2);
    assert_eq!(seen.description, "Signer innen fristen.");
    let (info, content) =
        t.db.signing_document(&for_kari, status.id, 1, NOW)
            .await
            .unwrap();
    assert_eq!(
        (info.file_name.as_str(), content),
        ("vedlegg.pdf", minimal_pdf("Vedlegg"))
    );

    // Order 0 signs, in parallel; Per's turn comes with the second signature.
    let at = NOW + Duration::hours(1);
    assert_eq!(sign(t, &kari, &status, at).await, JobState::InProgress);
    assert_eq!(t.db.signing_jobs(&for_per, at).await.unwrap(), []);
    assert_eq!(sign(t, &ola, &status, at).await, JobState::InProgress);
    assert_eq!(t.db.signing_jobs(&for_per, at).await.unwrap().len(), 1);
    // Signing twice is refused and changes nothing.
    let again =
        t.db.sign_job(&for_kari, status.id, &evidence(Loa::Substantial, at), at)
            .await;
    assert!(matches!(again.unwrap_err(), SigningError::AlreadyDone));
    assert_eq!(t.db.signing_jobs_waiting(&for_kari, at).await.unwrap(), 0);

    let (events, cursor) = drain_events(t, SigningCursor::START, 2).await;
    let told: Vec<&str> = events.iter().map(|e| e.status.as_str()).collect();
    assert_eq!(told, ["signed", "signed"]);
    assert_eq!(events[0].signer, Some(status.signers[1].id));

    // The last signature: sealing (still in progress for the agency, no event yet).
    assert_eq!(sign(t, &per, &status, at).await, JobState::Sealing);
    let now = t.db.signing_job_status(&nav, status.id).await.unwrap();
    assert_eq!(now.state, JobState::Sealing);
    assert_eq!(now.state.api_code(), "in_progress");
    assert_eq!(statuses(&now), [SignerStatus::Signed; 3]);
    let (later, _) = drain_events(t, cursor, 1).await;
    assert_eq!(later[0].signer, Some(status.signers[0].id));

    // The evidence kept with Kari's signature, and her log.
    let evidence_json = t
        .raw_text(
            "SELECT evidence FROM signing_signers WHERE signing_order = 0 ORDER BY position LIMIT 1",
            "SELECT evidence::text FROM signing_signers WHERE signing_order = 0 ORDER BY position LIMIT 1",
        )
        .await
        .remove(0);
    let record: serde_json::Value = serde_json::from_str(&evidence_json).unwrap();
    assert_eq!(record["national_id"], kari.national_id.expose());
    assert_eq!(record["level"], "substantial");
    assert_eq!(record["id_token"], "header.payload.signature");
    assert_eq!(record["documents"][0]["sha256"].as_str().unwrap().len(), 64);
    assert_eq!(record["signed_for_by_helper"], serde_json::Value::Null);
    let log =
        t.db.list_events(&own::<ReadOwnActivity>(&kari, Loa::Substantial), None, 10)
            .await
            .unwrap();
    // The log names the job by its non-sensitive title.
    let signed = log
        .events
        .iter()
        .find(|e| e.kind == AuditKind::DocumentsSigned)
        .unwrap();
    assert_eq!(signed.about.as_deref(), Some(NON_SENSITIVE_TITLE));
}

async fn a_signature_needs_a_fresh_login_at_the_jobs_level(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let mut high = job("sak-5", &[(&kari, 0)]);
    high.level = "high".into();
    let status = create(t, high).await;
    let access = own::<SignDocuments>(&kari, Loa::Substantial);
    // Below the job's level: its non-sensitive title only, no description, no documents.
    let seen = t.db.signing_job(&access, status.id, NOW).await.unwrap();
    assert!(seen.locked);
    assert_eq!((seen.description.as_str(), seen.documents.len()), ("", 0));
    assert_eq!(
        seen.summary.title_at(Loa::Substantial),
        "Et dokument til signering"
    );
    let document = t.db.signing_document(&access, status.id, 0, NOW).await;
    assert!(matches!(document.unwrap_err(), SigningError::NeedsStepUp));
    let stepped_up = own::<SignDocuments>(&kari, Loa::High);
    let seen = t.db.signing_job(&stepped_up, status.id, NOW).await.unwrap();
    assert!(!seen.locked);
    assert_eq!(seen.documents.len(), 2);
    assert!(t
        .db
        .signing_document(&stepped_up, status.id, 0, NOW)
        .await
        .is_ok());
    let at = NOW + Duration::minutes(5);
    for refused in [
        evidence(Loa::Substantial, at),
        SignatureEvidence {
            auth_time: at - Duration::minutes(3),
            ..evidence(Loa::High, at)
        },
    ] {
        let error =
            t.db.sign_job(&access, status.id, &refused, at)
                .await
                .unwrap_err();
        assert!(matches!(error, SigningError::NeedsFreshLogin), "{error:?}");
    }
    let unchanged =
        t.db.signing_job_status(&agency("nav"), status.id)
            .await
            .unwrap();
    assert_eq!(statuses(&unchanged), [SignerStatus::Waiting]);
    let signed =
        t.db.sign_job(&access, status.id, &evidence(Loa::High, at), at)
            .await;
    assert_eq!(signed.unwrap(), JobState::Sealing);
}

async fn a_decline_ends_the_job_and_later_orders_are_never_asked(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let status = create(t, job("sak-6", &[(&kari, 0), (&ola, 1)])).await;
    let for_kari = own::<SignDocuments>(&kari, Loa::Substantial);
    let too_long = "x".repeat(501);
    let refused =
        t.db.decline_job(&for_kari, status.id, Some(&too_long), NOW)
            .await;
    assert!(matches!(refused.unwrap_err(), SigningError::ReasonInvalid));
    t.db.decline_job(&for_kari, status.id, Some("  Feil beløp  "), NOW)
        .await
        .unwrap();
    let after =
        t.db.signing_job_status(&agency("nav"), status.id)
            .await
            .unwrap();
    assert_eq!(after.state, JobState::Failed);
    assert_eq!(
        statuses(&after),
        [SignerStatus::Rejected, SignerStatus::NotApplicable]
    );
    assert_eq!(after.signers[0].reason.as_deref(), Some("Feil beløp"));
    let for_ola = own::<SignDocuments>(&ola, Loa::Substantial);
    assert_eq!(
        t.db.signing_jobs(&for_ola, NOW + Duration::days(1))
            .await
            .unwrap(),
        []
    );
    // Kari still sees the job she declined, as declined; she cannot sign it now.
    let listed = t.db.signing_jobs(&for_kari, NOW).await.unwrap();
    assert_eq!(
        (listed[0].status, listed[0].awaits_signer()),
        (SignerStatus::Rejected, false)
    );
    let late =
        t.db.sign_job(&for_kari, status.id, &evidence(Loa::High, NOW), NOW)
            .await;
    assert!(matches!(late.unwrap_err(), SigningError::JobEnded));
}

async fn cancel_and_expiry_end_the_job_for_everyone_who_has_not_signed(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let nav = agency("nav");
    let cancelled = create(t, job("sak-7", &[(&kari, 0), (&ola, 0)])).await;
    sign(t, &kari, &cancelled, NOW).await;
    let after =
        t.db.cancel_signing_job(&nav, cancelled.id, NOW)
            .await
            .unwrap();
    assert_eq!(after.state, JobState::Failed);
    assert_eq!(
        statuses(&after),
        [SignerStatus::Signed, SignerStatus::Cancelled]
    );
    let twice = t.db.cancel_signing_job(&nav, cancelled.id, NOW).await;
    assert!(matches!(twice.unwrap_err(), SigningError::JobEnded));

    let mut short = job("sak-8", &[(&kari, 0), (&ola, 1)]);
    short.deadline = NOW + Duration::days(2);
    let expiring = create(t, short).await;
    // Before the deadline nothing expires; a signature at the deadline is too late even before
    // the expiry job has run.
    assert_eq!(
        t.db.expire_signing_jobs(NOW + Duration::days(1), 100)
            .await
            .unwrap(),
        0
    );
    let deadline = NOW + Duration::days(2);
    let for_kari = own::<SignDocuments>(&kari, Loa::Substantial);
    let late =
        t.db.sign_job(
            &for_kari,
            expiring.id,
            &evidence(Loa::High, deadline),
            deadline,
        )
        .await;
    assert!(matches!(late.unwrap_err(), SigningError::JobEnded));
    assert_eq!(t.db.expire_signing_jobs(deadline, 100).await.unwrap(), 1);
    let after = t.db.signing_job_status(&nav, expiring.id).await.unwrap();
    assert_eq!(after.state, JobState::Failed);
    assert_eq!(
        statuses(&after),
        [SignerStatus::Expired, SignerStatus::NotApplicable]
    );
    assert_eq!(t.db.expire_signing_jobs(deadline, 100).await.unwrap(), 0);
}

async fn a_helper_signs_only_where_the_job_allows_it(t: &TestDb) {
    let giver = reachable(t, 1, "Torbjørn").await;
    let helper = reachable(t, 2, "Ingrid").await;
    let grant = [ScopeGrant {
        scope: Scope::SignDocuments,
        ends_on: date!(2026 - 12 - 31),
    }];
    t.db.grant_delegation(
        &own::<GrantAuthority>(&giver, Loa::High),
        helper.id,
        &grant,
        &DelegationRules::default(),
        NOW - Duration::days(1),
    )
    .await
    .unwrap();
    let actor = Actor::Citizen {
        person: helper.id,
        loa: Loa::Substantial,
    };
    let access =
        t.db.decide_access::<SignDocuments>(&actor, giver.id, NOW)
            .await
            .unwrap()
            .unwrap();
    assert!(access.basis().is_for_someone_else());

    let in_person = create(t, job("sak-9", &[(&giver, 0)])).await;
    assert_eq!(t.db.signing_jobs(&access, NOW).await.unwrap().len(), 1);
    let refused =
        t.db.sign_job(&access, in_person.id, &evidence(Loa::High, NOW), NOW)
            .await;
    assert!(matches!(
        refused.unwrap_err(),
        SigningError::HelpersNotAllowed
    ));
    let refused = t.db.decline_job(&access, in_person.id, None, NOW).await;
    assert!(matches!(
        refused.unwrap_err(),
        SigningError::HelpersNotAllowed
    ));

    let mut allowed = job("sak-10", &[(&giver, 0)]);
    allowed.helpers_may_sign = true;
    let allowed = create(t, allowed).await;
    let state =
        t.db.sign_job(&access, allowed.id, &evidence(Loa::Substantial, NOW), NOW)
            .await;
    assert_eq!(state.unwrap(), JobState::Sealing);
    let record: serde_json::Value = serde_json::from_str(
        &t.raw_text(
            "SELECT evidence FROM signing_signers WHERE evidence IS NOT NULL",
            "SELECT evidence::text FROM signing_signers WHERE evidence IS NOT NULL",
        )
        .await[0],
    )
    .unwrap();
    assert_eq!(record["national_id"], giver.national_id.expose());
    assert_eq!(
        record["signed_for_by_helper"]["person"],
        helper.id.to_string()
    );
    // In the giver's log, by the helper.
    let log =
        t.db.list_events(&own::<ReadOwnActivity>(&giver, Loa::Substantial), None, 10)
            .await
            .unwrap();
    let signed = log
        .events
        .iter()
        .find(|e| e.kind == AuditKind::DocumentsSigned)
        .unwrap();
    assert_eq!(signed.actor, Some(helper.id));
}

async fn two_signers_of_one_order_signing_at_once_complete_the_job_once(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    for round in 0..5 {
        let status = create(t, job(&format!("race-{round}"), &[(&kari, 0), (&ola, 0)])).await;
        let (a, b) = tokio::join!(sign(t, &kari, &status, NOW), sign(t, &ola, &status, NOW));
        let mut states = [a, b];
        states.sort_by_key(|s| s.code());
        assert_eq!(
            states,
            [JobState::InProgress, JobState::Sealing],
            "round {round}"
        );
    }
}

async fn deadlines_are_at_most_ninety_days_after_opening(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let mut later = job("sak-11", &[(&kari, 0)]);
    later.opens_at = Some(NOW + Duration::days(10));
    later.deadline = NOW + Duration::days(10) + MAX_OPEN_PERIOD;
    let status = create(t, later).await;
    assert_eq!(status.opens_at, NOW + Duration::days(10));
    // Not open yet: nobody sees it.
    let for_kari = own::<SignDocuments>(&kari, Loa::Substantial);
    assert_eq!(t.db.signing_jobs(&for_kari, NOW).await.unwrap(), []);
    assert_eq!(
        t.db.signing_jobs(&for_kari, NOW + Duration::days(10))
            .await
            .unwrap()
            .len(),
        1
    );
}

/// The signing messages queued, oldest first: (template, the recipient's e-mail address).
async fn signing_messages(t: &TestDb) -> Vec<(String, String)> {
    let rows = t
        .raw_text(
            "SELECT template || ' ' || address FROM notifications \
             WHERE template LIKE 'signing%' ORDER BY created_at, address",
            "SELECT template || ' ' || address FROM notifications \
             WHERE template LIKE 'signing%' ORDER BY created_at, address",
        )
        .await;
    rows.into_iter()
        .map(|row| {
            let (template, address) = row.split_once(' ').unwrap();
            (template.to_owned(), address.to_owned())
        })
        .collect()
}

async fn signers_are_told_when_their_turn_comes_and_reminded_once(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let status = create(t, job("sak-12", &[(&kari, 0), (&ola, 1)])).await;
    // Only the first order is told at creation; no title, no link.
    let kari_mail = "signer1@example.no".to_owned();
    let ola_mail = "signer2@example.no".to_owned();
    assert_eq!(
        signing_messages(t).await,
        [("signing_requested".to_owned(), kari_mail.clone())]
    );
    let params = t
        .raw_text(
            "SELECT params FROM notifications WHERE template = 'signing_requested'",
            "SELECT params::text FROM notifications WHERE template = 'signing_requested'",
        )
        .await;
    let params: serde_json::Value = serde_json::from_str(&params[0]).unwrap();
    assert_eq!(params["name"], "NAV");
    assert_eq!(params["date"], "2026-05-18");
    assert!(!params.to_string().contains("Kjøpekontrakt"), "no title");
    // Kari signs: Ola's turn comes, and he is told then.
    sign(t, &kari, &status, NOW + Duration::hours(1)).await;
    assert_eq!(
        signing_messages(t).await,
        [
            ("signing_requested".to_owned(), kari_mail.clone()),
            ("signing_requested".to_owned(), ola_mail.clone())
        ]
    );
    // 14 days open: the reminder is due 3 days before the deadline, once, to whoever has not
    // signed and whose turn has come.
    let due = NOW + Duration::days(11);
    let early =
        t.db.queue_signing_reminders(due - Duration::minutes(1), 100)
            .await;
    assert_eq!(early.unwrap(), 0);
    assert_eq!(t.db.queue_signing_reminders(due, 100).await.unwrap(), 1);
    assert_eq!(
        t.db.queue_signing_reminders(due, 100).await.unwrap(),
        0,
        "once"
    );
    let messages = signing_messages(t).await;
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[2], ("signing_reminder".to_owned(), ola_mail));
    // A job that asked for no reminder gets none.
    let mut quiet = job("sak-13", &[(&kari, 0)]);
    quiet.notifications.reminders = false;
    create(t, quiet).await;
    assert_eq!(t.db.queue_signing_reminders(due, 100).await.unwrap(), 0);
}

async fn demo_jobs_are_seeded_once(t: &TestDb) {
    borgerportal::seed_demo_data(&t.db).await.unwrap();
    let seeded = borgerportal::signing::demo::seed_demo_signing(&t.db, NOW).await;
    assert_eq!(seeded.unwrap(), 3);
    let again = borgerportal::signing::demo::seed_demo_signing(&t.db, NOW).await;
    assert_eq!(again.unwrap(), 0, "a second start adds nothing");
    let demo = borgerportal::demo_persons();
    let ingrid =
        t.db.find_person_by_national_id(&demo[0].national_id)
            .await
            .unwrap()
            .unwrap();
    let jobs =
        t.db.signing_jobs(&own::<SignDocuments>(&ingrid, Loa::Substantial), NOW)
            .await
            .unwrap();
    assert_eq!(jobs.len(), 1);
    assert!(jobs[0].awaits_signer());
}

on_both_backends!(
    signers_are_told_when_their_turn_comes_and_reminded_once,
    demo_jobs_are_seeded_once,
    a_job_is_created_once_per_agency_job_id,
    reserved_and_unreachable_signers_fail_the_job_at_once,
    orders_sign_in_turn_and_the_last_signature_seals,
    a_signature_needs_a_fresh_login_at_the_jobs_level,
    a_decline_ends_the_job_and_later_orders_are_never_asked,
    cancel_and_expiry_end_the_job_for_everyone_who_has_not_signed,
    a_helper_signs_only_where_the_job_allows_it,
    two_signers_of_one_order_signing_at_once_complete_the_job_once,
    deadlines_are_at_most_ninety_days_after_opening,
);
