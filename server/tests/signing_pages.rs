//! The signer's pages end to end, in-process, with the built-in test eID as a real OpenID
//! Connect provider: the list and the job's page, its documents, signing with a fresh login at
//! the job's level (the signature recorded by the callback with the id_token), a login started
//! any other way never signing, declining with a reason, a high job below its level, and a
//! helper signing for the giver only where the job allows it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use borgerportal::access::{
    Actor, AgencyGrants, GrantAuthority, Loa, ManageContact, Policy, SendForSigning,
};
use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::person::{Language, Person};
use borgerportal::post::pdf::minimal_pdf;
use borgerportal::{
    AgencyId, ContactMethod, EmailAddress, JobState, NewSigner, NewSigningDocument, NewSigningJob,
    OnBehalfOf, SignerStatus, SigningJobId, SigningJobStatus, SigningNotifications,
};
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

const TITLE: &str = "Avtale om oppfølging";
const SAFE_TITLE: &str = "Et dokument til signering";

fn own<C: borgerportal::access::Capability>(person: &Person) -> borgerportal::access::Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

fn nav() -> borgerportal::AgencyAccess<SendForSigning> {
    let actor = Actor::Agency {
        agency: AgencyId::parse("nav").unwrap(),
        grants: AgencyGrants::SIGNING,
    };
    Policy::authorize_agency::<SendForSigning>(&actor).unwrap()
}

/// The demo persons, each with a verified e-mail address (so a job can reach them).
async fn world() -> TestServer {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    for (n, alias) in ["ingrid", "torbjørn", "aksel"].into_iter().enumerate() {
        let person = server.person(alias).await.unwrap();
        let manage = own::<ManageContact>(&person);
        let now = OffsetDateTime::now_utc();
        let email = EmailAddress::parse(&format!("demo{n}@example.no")).unwrap();
        let sent = server
            .db
            .request_email_change(&manage, email, now)
            .await
            .unwrap();
        server
            .db
            .verify_code(&manage, ContactMethod::Email, sent.code.expose(), now)
            .await
            .unwrap();
    }
    server
}

async fn job(
    server: &TestServer,
    id: &str,
    signers: &[(&Person, i64)],
    level: &str,
    helpers_may_sign: bool,
) -> SigningJobStatus {
    let job = NewSigningJob {
        agency_job_id: id.to_owned(),
        title: TITLE.to_owned(),
        non_sensitive_title: SAFE_TITLE.to_owned(),
        description: Some("Les avtalen og signer.".to_owned()),
        documents: vec![NewSigningDocument {
            title: "Avtalen".to_owned(),
            file_name: "avtale.pdf".to_owned(),
            content: minimal_pdf("Avtale"),
        }],
        signers: signers
            .iter()
            .map(|(person, order)| NewSigner {
                national_id: person.national_id.clone(),
                order: *order,
                on_behalf_of: OnBehalfOf::Myself,
            })
            .collect(),
        level: level.to_owned(),
        opens_at: None,
        deadline: OffsetDateTime::now_utc() + Duration::days(14),
        naming: None,
        notifications: SigningNotifications::default(),
        helpers_may_sign,
        language: None,
    };
    let now = OffsetDateTime::now_utc();
    let valid = job.validate(now, Language::Nb).unwrap();
    let status = server
        .db
        .create_signing_job(&nav(), "NAV", valid, now)
        .await
        .unwrap();
    assert_eq!(status.state, JobState::InProgress);
    status
}

async fn statuses(server: &TestServer, id: SigningJobId) -> Vec<SignerStatus> {
    let status = server.db.signing_job_status(&nav(), id).await.unwrap();
    status.signers.iter().map(|s| s.status).collect()
}

async fn text(server: &TestServer, browser: &Browser, path: &str) -> String {
    server.page(browser, path).await.replace("<!>", "")
}

/// `POST /signing/{id}/sign`, then the fresh login at the test eID as `hint`: where the
/// callback sends the browser.
async fn sign(server: &TestServer, browser: &Browser, id: SigningJobId, hint: &str) -> String {
    let response = server
        .form(browser, &format!("/signing/{id}/sign"), &[])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
    let authorize = location(&response);
    assert!(
        authorize.starts_with(&format!("{}/authorize?", server.issuer())),
        "{authorize}"
    );
    assert_eq!(
        param(&authorize, "prompt").as_deref(),
        Some("login"),
        "a fresh login"
    );
    let callback = server.authorize_as(browser, &authorize, hint).await;
    let done = browser.get(&callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    location(&done)
}

#[tokio::test]
async fn a_signer_signs_with_a_fresh_login_and_the_id_token_is_kept() {
    let server = world().await;
    let ingrid = server.person("ingrid").await.unwrap();
    let aksel = server.person("aksel").await.unwrap();
    let status = job(
        &server,
        "sak-1",
        &[(&ingrid, 0), (&aksel, 1)],
        "substantial",
        false,
    )
    .await;
    let id = status.id;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;

    // The header and the home page count it; the list and the job's page: documents, who
    // else signs in which order, the forms.
    let home = text(&server, &browser, "/").await;
    assert!(home.contains("Signering (1 venter)"), "{home}");
    assert!(home.contains("Dokumenter som venter på signaturen din: 1"));
    let list = text(&server, &browser, "/signing").await;
    assert!(list.contains(TITLE), "{list}");
    assert!(list.contains("Venter på signatur"));
    let page = text(&server, &browser, &format!("/signing/{id}")).await;
    assert!(page.contains("Les avtalen og signer."));
    assert!(page.contains(&format!("/signing/{id}/document/0")));
    assert!(page.contains("Aksel Brekke – tur 2"), "{page}");
    assert!(page.contains("Deg – tur 1"));
    assert!(page.contains("Signer med eID"));
    assert!(
        !page.contains(aksel.national_id.expose()),
        "no one's national id"
    );
    // The document, with the headers that keep it from scripting the portal.
    let pdf = server
        .get(&browser, &format!("/signing/{id}/document/0"))
        .await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    assert!(pdf.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .starts_with("sandbox"));
    // Aksel's turn has not come: no job for him yet.
    let aksels = Browser::new();
    server.login(&aksels, "aksel", "substantial").await;
    let reply = server.get(&aksels, &format!("/signing/{id}")).await;
    // Aksel writes nynorsk: his pages are in nynorsk after login.
    assert!(reply.body.contains("Fann ikkje dokumentet"));

    // Signing: a fresh login, and back on the job's page with the signature recorded.
    let back = sign(&server, &browser, id, INGRID).await;
    assert_eq!(back, format!("/signing/{id}?done=signed"));
    assert_eq!(
        statuses(&server, id).await,
        [SignerStatus::Signed, SignerStatus::Waiting]
    );
    let page = text(&server, &browser, &back).await;
    assert!(page.contains("Du har signert"), "{page}");
    assert!(
        !page.contains("Signering (1 venter)"),
        "nothing waits any more"
    );
    assert!(!page.contains("Signer med eID"));
    let seen = server
        .db
        .signing_job(&own(&ingrid), id, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(seen.summary.status, SignerStatus::Signed);
    // The evidence holds the id_token as the test eID signed it (a JWS: three parts), the
    // level and the eID, and the login came after the click.
    use sqlx::Connection;
    let url = format!("sqlite://{}", server.sqlite_path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let evidence: String =
        sqlx::query_scalar("SELECT evidence FROM signing_signers WHERE evidence IS NOT NULL")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.unwrap();
    let evidence: serde_json::Value = serde_json::from_str(&evidence).unwrap();
    assert_eq!(evidence["id_token"].as_str().unwrap().split('.').count(), 3);
    assert_eq!(evidence["eid"], PROVIDER);
    assert_eq!(evidence["level"], "substantial");
    assert_eq!(evidence["national_id"], ingrid.national_id.expose());
    assert!(evidence["auth_time"].as_str().unwrap() >= evidence["requested_at"].as_str().unwrap());
    // Now Aksel's turn has come.
    let page = text(&server, &aksels, &format!("/signing/{id}")).await;
    assert!(page.contains("Signer med eID"));
}

#[tokio::test]
async fn a_login_started_any_other_way_never_signs() {
    let server = world().await;
    let ingrid = server.person("ingrid").await.unwrap();
    let status = job(&server, "sak-2", &[(&ingrid, 0)], "substantial", false).await;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    // A link that sends a logged-in citizen to log in again "back to the job": a login, not a
    // signature.
    let authorize = server
        .start_login(
            &browser,
            &format!("loa=substantial&return_to=/signing/{}", status.id),
        )
        .await;
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let done = browser.get(&callback).await;
    assert_eq!(location(&done), format!("/signing/{}", status.id));
    assert_eq!(statuses(&server, status.id).await, [SignerStatus::Waiting]);
    // Someone who is not a signer cannot start a signing login for the job.
    let aksel = Browser::new();
    server.login(&aksel, "aksel", "substantial").await;
    let response = server
        .form(&aksel, &format!("/signing/{}/sign", status.id), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_high_job_below_its_level_and_a_decline_with_a_reason() {
    let server = world().await;
    let ingrid = server.person("ingrid").await.unwrap();
    let high = job(&server, "sak-3", &[(&ingrid, 0)], "high", false).await;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    let page = text(&server, &browser, &format!("/signing/{}", high.id)).await;
    assert!(page.contains(SAFE_TITLE));
    assert!(
        !page.contains(TITLE),
        "the sensitive title waits for the level"
    );
    assert!(!page.contains("/document/0"));
    let pdf = server
        .get(&browser, &format!("/signing/{}/document/0", high.id))
        .await;
    assert_eq!(pdf.status(), StatusCode::SEE_OTHER);
    assert!(location(&pdf).contains("loa=high"));
    // Signing asks the eID for high, and the signature is at high.
    let response = server
        .form(&browser, &format!("/signing/{}/sign", high.id), &[])
        .await;
    let authorize = location(&response);
    assert!(
        param(&authorize, "acr_values").unwrap().contains("high"),
        "{authorize}"
    );

    let other = job(&server, "sak-4", &[(&ingrid, 0)], "substantial", false).await;
    let decline = format!("/signing/{}/decline", other.id);
    let long = "x".repeat(501);
    let refused = server.form(&browser, &decline, &[("reason", &long)]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("høyst 500 tegn"));
    assert_eq!(statuses(&server, other.id).await, [SignerStatus::Waiting]);
    let done = server
        .form(&browser, &decline, &[("reason", "Feil beløp")])
        .await;
    assert_eq!(
        location(&done),
        format!("/signing/{}?done=declined", other.id)
    );
    let status = server
        .db
        .signing_job_status(&nav(), other.id)
        .await
        .unwrap();
    assert_eq!(status.state, JobState::Failed);
    assert_eq!(status.signers[0].reason.as_deref(), Some("Feil beløp"));
}

#[tokio::test]
async fn a_helper_signs_for_the_giver_only_where_the_job_allows_it() {
    let server = world().await;
    let torbjorn = server.person("torbjørn").await.unwrap();
    let ingrid = server.person("ingrid").await.unwrap();
    server
        .db
        .grant_delegation(
            &own::<GrantAuthority>(&torbjorn),
            ingrid.id,
            &[ScopeGrant {
                scope: Scope::SignDocuments,
                ends_on: (OffsetDateTime::now_utc() + Duration::days(100)).date(),
            }],
            &DelegationRules::default(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let in_person = job(&server, "sak-5", &[(&torbjorn, 0)], "substantial", false).await;
    let allowed = job(&server, "sak-6", &[(&torbjorn, 0)], "substantial", true).await;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    let chosen = server
        .form(
            &browser,
            "/act-for",
            &[("person", &torbjorn.id.to_string())],
        )
        .await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);

    let page = text(&server, &browser, &format!("/signing/{}", in_person.id)).await;
    assert!(page.contains("må signeres av personen selv"), "{page}");
    let response = server
        .form(&browser, &format!("/signing/{}/sign", in_person.id), &[])
        .await;
    assert_eq!(
        location(&response),
        format!("/signing/{}", in_person.id),
        "no login"
    );

    let back = sign(&server, &browser, allowed.id, INGRID).await;
    assert_eq!(back, format!("/signing/{}?done=signed", allowed.id));
    assert_eq!(statuses(&server, allowed.id).await, [SignerStatus::Signed]);
    assert_eq!(
        statuses(&server, in_person.id).await,
        [SignerStatus::Waiting]
    );
    // The giver's log says the helper signed.
    let events = server.events(&torbjorn).await;
    let signed = events
        .iter()
        .find(|e| e.kind == borgerportal::AuditKind::DocumentsSigned)
        .unwrap();
    assert_eq!(signed.actor, Some(ingrid.id));
}
