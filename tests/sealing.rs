#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Sealing on both databases (see `on_both_backends!` in `common/mod.rs`): a job every signer
//! signed is claimed with a lease, completed exactly once with its sealed documents, the
//! agency told, and each signer for themself (not one signing for someone else) gets the
//! sealed documents as a letter; a sealing that dies before it completes is claimed again
//! once its lease has run out, and a stale completion is refused.

#[macro_use]
mod common;
use common::people::{own, signing_agency as agency};
use common::TestDb;

use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::post::pdf::minimal_pdf;
use borgerportal::signing::{seal_text, SealedLetterWords, SignatureEvidence, SignerIdentity};
use borgerportal::{
    Actor, FolderRef, GrantAuthority, JobState, Language, Loa, MailboxView, NewSigner,
    NewSigningDocument, NewSigningJob, OnBehalfOf, Person, ReadPost, ReadSensitivePost,
    SignDocuments, SignerNaming, SigningCursor, SigningError, SigningJobStatus,
    SigningNotifications,
};
use time::macros::{date, datetime};
use time::{Duration, OffsetDateTime};

/// The injected clock.
const NOW: OffsetDateTime = datetime!(2026-05-04 10:00 UTC);

/// A person with a verified e-mail address (a day before the clock).
async fn reachable(t: &TestDb, n: u16, given_name: &str) -> borgerportal::Person {
    common::people::reachable(t, n, given_name, NOW - Duration::days(1)).await
}

const LEASE: Duration = Duration::minutes(5);

/// The sealed letter's words (the server words them in the job's language).
fn words() -> SealedLetterWords {
    SealedLetterWords {
        title: "Signert: Kjøpekontrakt for Storgata 1".into(),
        safe_title: "Signerte dokumenter".into(),
        body: "Alle har signert.".into(),
    }
}

/// A two-document job; each signer with their order and for whom they sign.
async fn create(t: &TestDb, job_id: &str, signers: &[(&Person, OnBehalfOf)]) -> SigningJobStatus {
    create_with(t, job_id, signers, false).await
}

async fn create_with(
    t: &TestDb,
    job_id: &str,
    signers: &[(&Person, OnBehalfOf)],
    helpers_may_sign: bool,
) -> SigningJobStatus {
    let job = NewSigningJob {
        agency_job_id: job_id.into(),
        title: "Kjøpekontrakt for Storgata 1".into(),
        non_sensitive_title: "Et dokument til signering".into(),
        description: None,
        documents: ["Kontrakt", "Vedlegg"]
            .into_iter()
            .map(|title| NewSigningDocument {
                title: title.into(),
                file_name: format!("{}.pdf", title.to_lowercase()),
                content: minimal_pdf(title),
            })
            .collect(),
        signers: signers
            .iter()
            .map(|(person, on_behalf_of)| NewSigner {
                national_id: person.national_id.clone(),
                order: 0,
                on_behalf_of: *on_behalf_of,
            })
            .collect(),
        level: "substantial".into(),
        opens_at: None,
        deadline: NOW + Duration::days(14),
        naming: Some(SignerNaming::NameAndBirthDate.code().into()),
        notifications: SigningNotifications::default(),
        helpers_may_sign,
        language: None,
    };
    let valid = job.validate(NOW, Language::Nb).unwrap();
    t.db.create_signing_job(&agency("nav"), "NAV", valid, NOW)
        .await
        .unwrap()
}

fn evidence() -> SignatureEvidence {
    SignatureEvidence {
        loa: Loa::Substantial,
        auth_time: NOW - Duration::seconds(30),
        requested_at: NOW - Duration::minutes(1),
        eid: "idporten".into(),
        name: "Navn Fra Eid".into(),
        id_token: "header.payload.signature".into(),
    }
}

async fn sign(t: &TestDb, person: &Person, status: &SigningJobStatus) -> JobState {
    let access = own::<SignDocuments>(person, Loa::Substantial);
    t.db.sign_job(&access, status.id, &evidence(), NOW)
        .await
        .unwrap()
}

/// The letters in a person's inbox: (title, attachments).
async fn inbox(t: &TestDb, person: &Person) -> Vec<(String, u32)> {
    let read = own::<ReadPost>(person, Loa::High);
    let sensitive = own::<ReadSensitivePost>(person, Loa::High);
    let page =
        t.db.list_letters(
            &read,
            Some(&sensitive),
            MailboxView::Folder(FolderRef::Inbox),
            None,
            50,
            NOW + Duration::days(1),
        )
        .await
        .unwrap();
    page.letters
        .into_iter()
        .map(|letter| (letter.title, letter.attachment_count))
        .collect()
}

fn sealed_pdfs(tag: &str) -> Vec<Vec<u8>> {
    vec![
        minimal_pdf(&format!("Kontrakt sealed {tag}")),
        minimal_pdf(&format!("Vedlegg sealed {tag}")),
    ]
}

async fn job_completed_events(t: &TestDb) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page =
            t.db.signing_events(&agency("nav"), SigningCursor::START, 1000)
                .await
                .unwrap();
        let completed = page
            .events
            .iter()
            .filter(|e| e.signer.is_none() && e.status == "completed_successfully")
            .count();
        if completed > 0 || std::time::Instant::now() > deadline {
            return completed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

async fn a_signed_job_is_claimed_once_and_completed_once(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let status = create(
        t,
        "seal-1",
        &[(&kari, OnBehalfOf::Myself), (&ola, OnBehalfOf::Other)],
    )
    .await;
    let nav = agency("nav");
    // Nothing to seal while a signature is missing.
    assert!(t.db.claim_sealing_job(NOW, LEASE).await.unwrap().is_none());
    assert_eq!(sign(t, &kari, &status).await, JobState::InProgress);
    assert_eq!(sign(t, &ola, &status).await, JobState::Sealing);
    // Not sealed yet: the agency's fetch is a conflict, not a 404.
    assert!(matches!(
        t.db.sealed_document(&nav, status.id, 0).await.unwrap_err(),
        SigningError::NotSealed
    ));

    let claimed = t.db.claim_sealing_job(NOW, LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.id, status.id);
    assert_eq!(claimed.claimed_until, NOW + LEASE);
    assert_eq!(claimed.naming, SignerNaming::NameAndBirthDate);
    assert_eq!(claimed.sender_name, "NAV");
    assert_eq!(claimed.documents.len(), 2);
    assert_eq!(claimed.documents[1].content, minimal_pdf("Vedlegg"));
    let names: Vec<_> = claimed.signers.iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        names,
        [
            Some("Kari Signer".to_owned()),
            Some("Ola Signer".to_owned())
        ]
    );
    assert!(claimed.signers[0]
        .evidence
        .contains("header.payload.signature"));
    // The lease holds: nobody else claims it meanwhile.
    assert!(t
        .db
        .claim_sealing_job(NOW + Duration::minutes(1), LEASE)
        .await
        .unwrap()
        .is_none());

    let done =
        t.db.complete_sealing(claimed.id, &sealed_pdfs("a"), &words(), NOW)
            .await
            .unwrap();
    assert_eq!(done.letters, 1, "only Kari signs for herself");
    let completed = t.db.signing_job_status(&nav, status.id).await.unwrap();
    assert_eq!(completed.state, JobState::Completed);
    assert_eq!(completed.ended_at, Some(NOW));
    assert_eq!(job_completed_events(t).await, 1);
    let (info, pdf) = t.db.sealed_document(&nav, status.id, 1).await.unwrap();
    assert_eq!(pdf, sealed_pdfs("a")[1]);
    assert_eq!(info.file_name, "vedlegg-signert.pdf");
    assert_eq!(info.size, pdf.len() as u64);

    // A second completion is refused and changes nothing; nothing is left to claim.
    assert!(matches!(
        t.db.complete_sealing(claimed.id, &sealed_pdfs("b"), &words(), NOW)
            .await
            .unwrap_err(),
        SigningError::JobEnded
    ));
    assert_eq!(
        t.db.sealed_document(&nav, status.id, 1).await.unwrap().1,
        sealed_pdfs("a")[1]
    );
    assert!(t
        .db
        .claim_sealing_job(NOW + Duration::hours(1), LEASE)
        .await
        .unwrap()
        .is_none());
    assert_eq!(job_completed_events(t).await, 1);

    // Kari has the letter with both sealed documents; Ola, who signed for someone else, none.
    assert_eq!(
        inbox(t, &kari).await,
        [("Signert: Kjøpekontrakt for Storgata 1".to_owned(), 2)]
    );
    assert_eq!(inbox(t, &ola).await, []);
    assert_eq!(t.scalar("SELECT COUNT(*) FROM letters").await, 1);
    assert_eq!(
        t.scalar(
            "SELECT COUNT(*) FROM letters WHERE safe_title = 'Signerte dokumenter' \
             AND sender_name = 'NAV' AND agency_id = 'nav'"
        )
        .await,
        1
    );

    // Another agency: the same 404 as no job; a missing document: 404.
    assert!(matches!(
        t.db.sealed_document(&agency("skatt"), status.id, 0)
            .await
            .unwrap_err(),
        SigningError::NotFound
    ));
    assert!(matches!(
        t.db.sealed_document(&nav, status.id, 2).await.unwrap_err(),
        SigningError::NotFound
    ));
}

async fn a_sealing_that_dies_is_sealed_again_after_its_lease_and_completes_once(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let ola = reachable(t, 2, "Ola").await;
    let status = create(
        t,
        "seal-2",
        &[(&kari, OnBehalfOf::Myself), (&ola, OnBehalfOf::Myself)],
    )
    .await;
    sign(t, &kari, &status).await;
    sign(t, &ola, &status).await;

    // The first worker claims it and dies (its claim is dropped, nothing completed).
    let first = t.db.claim_sealing_job(NOW, LEASE).await.unwrap().unwrap();
    assert_eq!((first.attempts, first.language), (1, Language::Nb));
    drop(first);
    assert!(t
        .db
        .claim_sealing_job(NOW + LEASE - Duration::seconds(1), LEASE)
        .await
        .unwrap()
        .is_none());
    // After the lease another round claims it again and completes it.
    let later = NOW + LEASE + Duration::seconds(1);
    let second = t.db.claim_sealing_job(later, LEASE).await.unwrap().unwrap();
    assert_eq!(second.id, status.id);
    assert_eq!(second.claimed_until, later + LEASE);
    assert_eq!(second.attempts, 2, "each claim counts an attempt");
    assert!(!borgerportal::signing::needs_operator(second.attempts));
    assert!(borgerportal::signing::needs_operator(second.attempts + 1));
    let done =
        t.db.complete_sealing(second.id, &sealed_pdfs("second"), &words(), later)
            .await
            .unwrap();
    assert_eq!(done.letters, 2);
    // A slow first round finishing late is refused: one sealed set.
    assert!(matches!(
        t.db.complete_sealing(status.id, &sealed_pdfs("first"), &words(), later)
            .await
            .unwrap_err(),
        SigningError::JobEnded
    ));
    let nav = agency("nav");
    assert_eq!(
        t.db.sealed_document(&nav, status.id, 0).await.unwrap().1,
        sealed_pdfs("second")[0]
    );
    assert_eq!(job_completed_events(t).await, 1);
    for person in [&kari, &ola] {
        assert_eq!(inbox(t, person).await.len(), 1);
    }
    assert_eq!(t.scalar("SELECT COUNT(*) FROM letters").await, 2);
    assert_eq!(
        t.scalar("SELECT COUNT(*) FROM signing_jobs WHERE seal_claimed_until IS NOT NULL")
            .await,
        0
    );
}

async fn two_workers_claiming_at_once_get_different_jobs(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    let mut ids = Vec::new();
    for n in 0..4 {
        let status = create(t, &format!("seal-many-{n}"), &[(&kari, OnBehalfOf::Myself)]).await;
        sign(t, &kari, &status).await;
        ids.push(status.id);
    }
    let (a, b) = tokio::join!(
        t.db.claim_sealing_job(NOW, LEASE),
        t.db.claim_sealing_job(NOW, LEASE)
    );
    let (a, b) = (a.unwrap().unwrap(), b.unwrap().unwrap());
    assert_ne!(a.id, b.id);
    let mut claimed = vec![a.id, b.id];
    while let Some(job) = t.db.claim_sealing_job(NOW, LEASE).await.unwrap() {
        claimed.push(job.id);
    }
    claimed.sort();
    ids.sort();
    assert_eq!(claimed, ids);
}

async fn a_helpers_signature_is_named_on_the_front_page_and_the_giver_gets_the_letter(t: &TestDb) {
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
    let status = create_with(t, "seal-helper", &[(&giver, OnBehalfOf::Myself)], true).await;
    let state = t.db.sign_job(&access, status.id, &evidence(), NOW).await;
    assert_eq!(state.unwrap(), JobState::Sealing);

    let claimed = t.db.claim_sealing_job(NOW, LEASE).await.unwrap().unwrap();
    assert_eq!(claimed.signers[0].name.as_deref(), Some("Torbjørn Signer"));
    assert_eq!(
        claimed.signers[0].helper_name.as_deref(),
        Some("Ingrid Signer")
    );
    let text = seal_text(
        "Kontrakt",
        &claimed.title,
        &claimed.sender_name,
        claimed.level,
        claimed.naming,
        &claimed.signers,
    )
    .unwrap();
    assert_eq!(text.signers[0].name, "Torbjørn Signer");
    assert_eq!(text.signers[0].helper.as_deref(), Some("Ingrid Signer"));
    assert_eq!(
        text.signers[0].identity,
        SignerIdentity::BirthDate(date!(1980 - 02 - 01))
    );

    let done =
        t.db.complete_sealing(claimed.id, &sealed_pdfs("h"), &words(), NOW)
            .await
            .unwrap();
    assert_eq!(done.letters, 1);
    assert_eq!(inbox(t, &giver).await.len(), 1);
    assert_eq!(inbox(t, &helper).await, []);
}

async fn two_completions_racing_leave_one_sealed_set(t: &TestDb) {
    let kari = reachable(t, 1, "Kari").await;
    for round in 0..3 {
        let status = create(
            t,
            &format!("seal-race-{round}"),
            &[(&kari, OnBehalfOf::Myself)],
        )
        .await;
        sign(t, &kari, &status).await;
        let (first, second) = (sealed_pdfs("a"), sealed_pdfs("b"));
        let words = words();
        let (a, b) = tokio::join!(
            t.db.complete_sealing(status.id, &first, &words, NOW),
            t.db.complete_sealing(status.id, &second, &words, NOW)
        );
        let won = match (a, b) {
            (Ok(_), Err(SigningError::JobEnded)) => sealed_pdfs("a"),
            (Err(SigningError::JobEnded), Ok(_)) => sealed_pdfs("b"),
            other => panic!("round {round}: {other:?}"),
        };
        let (_, pdf) =
            t.db.sealed_document(&agency("nav"), status.id, 0)
                .await
                .unwrap();
        assert_eq!(pdf, won[0]);
    }
    assert_eq!(t.scalar("SELECT COUNT(*) FROM letters").await, 3);
}

on_both_backends!(
    a_signed_job_is_claimed_once_and_completed_once,
    a_sealing_that_dies_is_sealed_again_after_its_lease_and_completes_once,
    two_workers_claiming_at_once_get_different_jobs,
    a_helpers_signature_is_named_on_the_front_page_and_the_giver_gets_the_letter,
    two_completions_racing_leave_one_sealed_set,
);
