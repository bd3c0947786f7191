//! The contact and reservation pages end to end, in-process: a real server with the built-in
//! test eID, a real SQLite database, and a client that plays a browser. The forms are posted
//! as a browser posts them; the answers (redirects, pages shown again with errors) and the
//! register's state are both checked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use borgerportal::{
    access::{Actor, Loa, ManageContact, Policy, ReadContact},
    audit::AuditKind,
    contact::{ContactInfo, ContactMethod, EmailAddress},
    outbox::Template,
    person::Person,
};
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

const TORBJORN: &str = "torbjørn";

/// A same-origin form post, as the browser sends it.
async fn post(server: &TestServer, browser: &Browser, path: &str, form: &[(&str, &str)]) -> Reply {
    server.form(browser, path, form).await
}

async fn contact_of(server: &TestServer, person: &Person) -> ContactInfo {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::Substantial,
    };
    let access = Policy::authorize::<ReadContact>(&actor, person.id).unwrap();
    server.db.find_contact_info(&access).await.unwrap()
}

fn manage(person: &Person) -> borgerportal::access::Access<ManageContact> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::Substantial,
    };
    Policy::authorize::<ManageContact>(&actor, person.id).unwrap()
}

/// The newest verification code queued to `to`, read from the outbox as the worker would.
async fn code_sent_to(server: &TestServer, to: &str) -> String {
    let claimed = server
        .db
        .claim_due(OffsetDateTime::now_utc(), "test", 100, Duration::minutes(1))
        .await
        .unwrap();
    claimed
        .iter()
        .rev()
        .find(|n| n.template == Template::VerifyCode && n.to.as_str() == to)
        .and_then(|n| n.params["code"].as_str().map(str::to_owned))
        .expect("a code was queued")
}

async fn logged_in(server: &TestServer, alias: &str) -> (Browser, Person) {
    let browser = Browser::new();
    server.login(&browser, alias, "substantial").await;
    let person = server.person(alias).await.unwrap();
    (browser, person)
}

#[tokio::test]
async fn change_and_verify_the_email_address_through_the_forms() {
    let server = start().await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;

    let page = server.page(&browser, "/contact").await;
    assert!(page.contains("Kontaktinformasjon"), "{page}");
    assert!(page.contains("Ikke registrert"));

    let sent = post(
        &server,
        &browser,
        "/contact/email",
        &[("email", " Kari@Example.NO ")],
    )
    .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&sent), "/contact/verify/email?done=code_sent");
    // Waiting for the code: nothing in force yet.
    let info = contact_of(&server, &ingrid).await;
    assert!(info.email.is_none());
    assert_eq!(
        info.pending_email.as_ref().map(|p| p.new_value.as_str()),
        Some("Kari@example.no")
    );
    let page = server
        .page(&browser, "/contact/verify/email?done=code_sent")
        .await;
    assert!(page.contains("Kari@example.no"), "{page}");
    assert!(page.contains("autocomplete=\"one-time-code\""));

    // A wrong code: shown again with the error and the tries left; nothing changes.
    let code = code_sent_to(&server, "Kari@example.no").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = post(
        &server,
        &browser,
        "/contact/verify/email",
        &[("code", wrong)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Koden er feil"), "{}", refused.body);
    assert!(refused.body.contains("aria-invalid=\"true\""));
    assert!(refused.body.contains("role=\"alert\""));
    assert!(contact_of(&server, &ingrid).await.email.is_none());

    // The right one: in force and verified, and the history says so.
    let done = post(
        &server,
        &browser,
        "/contact/verify/email",
        &[("code", &code)],
    )
    .await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/contact?done=email_verified");
    let info = contact_of(&server, &ingrid).await;
    let email = info.email.expect("in force");
    assert_eq!(email.value.as_str(), "Kari@example.no");
    assert!(email.verified_at.is_some());
    let page = server.page(&browser, "/contact?done=email_verified").await;
    assert!(page.contains("role=\"status\""), "{page}");
    assert!(page.contains("Kari@example.no"));
    let kinds = server.event_kinds(INGRID).await;
    assert!(kinds.contains(&AuditKind::ContactEmailChanged), "{kinds:?}");
    let history = server.page(&browser, "/activity?only=contact").await;
    assert!(
        history.contains("Historikk for kontaktinformasjon"),
        "{history}"
    );
    assert!(
        !history.contains("Logget inn"),
        "only contact changes: {history}"
    );
}

/// Two external mailboxes the portal forwards to (nothing listens at their addresses: no
/// letter is delivered in these tests).
const MAILBOX_PROVIDERS: &str = r#"
[[mailbox_providers]]
id = "digipost"
name = "Digipost"
url = "http://127.0.0.1:9/digipost"
token = "digipost-test-token"

[[mailbox_providers]]
id = "e-boks"
name = "e-Boks"
url = "http://127.0.0.1:9/e-boks"
token = "e-boks-test-token"
"#;

#[tokio::test]
async fn the_mailbox_page_offers_the_configured_providers_only() {
    let server = start_with(MAILBOX_PROVIDERS).await;
    let (browser, _) = logged_in(&server, INGRID).await;
    let page = server.page(&browser, "/contact/mailbox").await;
    for (value, name) in [
        ("external:digipost", "Digipost"),
        ("external:e-boks", "e-Boks"),
    ] {
        assert!(page.contains(&format!("value=\"{value}\"")), "{page}");
        assert!(page.contains(&format!(">{name}</label>")), "{page}");
    }
    assert!(
        page.contains(r#"value="portal" checked"#),
        "the portal's mailbox is chosen: {page}"
    );
    assert!(!page.contains("name=\"provider\""), "no free text: {page}");

    // Without providers: the portal's mailbox only, and the page says so.
    let server = start().await;
    let (browser, _) = logged_in(&server, INGRID).await;
    let page = server.page(&browser, "/contact/mailbox").await;
    assert!(!page.contains("external:"), "{page}");
    assert!(
        page.contains("Det finnes ingen andre postkasseleverandører her"),
        "{page}"
    );
}

#[tokio::test]
async fn refused_input_is_shown_again_translated_and_changes_nothing() {
    let server = start_with(MAILBOX_PROVIDERS).await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;

    let refused = post(
        &server,
        &browser,
        "/contact/email",
        &[("email", "kari@@example")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = &refused.body;
    assert!(body.contains("Skriv e-postadressen slik"), "{body}");
    // What was typed comes back, so it need not be typed again.
    assert!(body.contains("value=\"kari@@example\""), "{body}");
    assert!(
        body.contains("href=\"#email\""),
        "the summary links to the field"
    );
    let info = contact_of(&server, &ingrid).await;
    assert!(info.pending_email.is_none() && info.email.is_none());

    let refused = post(
        &server,
        &browser,
        "/contact/mobile",
        &[("mobile", "22 33 44 55")],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("ikke et mobilnummer"),
        "{}",
        refused.body
    );
    assert!(contact_of(&server, &ingrid).await.pending_mobile.is_none());

    // Only the providers the portal forwards to: another name (the form's old free text, or
    // one made up) is refused, and nothing of it is shown back.
    for mailbox in [
        "external:netpost",
        "external:<script>",
        "external",
        "digipost",
        "",
    ] {
        let refused = post(
            &server,
            &browser,
            "/contact/mailbox",
            &[("mailbox", mailbox), ("provider", "digipost")],
        )
        .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{mailbox}"
        );
        assert!(
            refused.body.contains("Velg ett av alternativene."),
            "{mailbox}"
        );
        assert!(!refused.body.contains("<script>"), "{mailbox}");
        assert_eq!(
            contact_of(&server, &ingrid).await.mailbox,
            borgerportal::contact::Mailbox::Portal,
            "{mailbox}"
        );
    }

    // The same refusal in English for an English-speaking browser.
    browser.set("i18n_pref_locale", "en", "/");
    let refused = post(&server, &browser, "/contact/email", &[("email", "")]).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("Enter the e-mail address."),
        "{}",
        refused.body
    );
    // The title says there is an error, and the summary takes the focus as the page loads.
    assert!(
        refused
            .body
            .contains("<title>Error: E-mail address – Borgerportal</title>"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("tabindex=\"-1\" autofocus"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn an_expired_code_is_refused_and_a_new_one_can_be_sent() {
    let server = start().await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;
    // Asked for eleven minutes ago: the code has run out.
    let long_ago = OffsetDateTime::now_utc() - Duration::minutes(11);
    let sent = server
        .db
        .request_email_change(
            &manage(&ingrid),
            EmailAddress::parse("ingrid@example.no").unwrap(),
            long_ago,
        )
        .await
        .unwrap();
    let code = sent.code.expose().to_owned();
    let refused = post(
        &server,
        &browser,
        "/contact/verify/email",
        &[("code", &code)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Koden er utløpt"), "{}", refused.body);
    assert!(contact_of(&server, &ingrid).await.email.is_none());

    let resent = post(&server, &browser, "/contact/verify/email/resend", &[]).await;
    assert_eq!(resent.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&resent), "/contact/verify/email?done=code_sent");
    // At once again: the resend limit answers on the same page, translated.
    let limited = post(&server, &browser, "/contact/verify/email/resend", &[]).await;
    assert_eq!(limited.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        limited.body.contains("Du har bedt om mange koder"),
        "{}",
        limited.body
    );
    assert!(
        limited.body.contains(">1<!> min. og prøv igjen"),
        "{}",
        limited.body
    );

    let cancelled = post(&server, &browser, "/contact/verify/email/cancel", &[]).await;
    assert_eq!(location(&cancelled), "/contact?done=cancelled");
    assert!(contact_of(&server, &ingrid).await.pending_email.is_none());
}

#[tokio::test]
async fn reservation_mailbox_and_language_are_saved_and_recorded() {
    let server = start_with(MAILBOX_PROVIDERS).await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;

    let page = server.page(&browser, "/contact/reservation").await;
    assert!(page.contains("Ja, reserver meg"), "{page}");
    let reserved = post(
        &server,
        &browser,
        "/contact/reservation",
        &[("reserved", "true")],
    )
    .await;
    assert_eq!(location(&reserved), "/contact?done=reserved");
    assert!(contact_of(&server, &ingrid).await.reserved);
    let page = server.page(&browser, "/contact/reservation").await;
    assert!(page.contains("Ja, trekk tilbake reservasjonen"), "{page}");
    let withdrawn = post(
        &server,
        &browser,
        "/contact/reservation",
        &[("reserved", "false")],
    )
    .await;
    assert_eq!(location(&withdrawn), "/contact?done=unreserved");
    assert!(!contact_of(&server, &ingrid).await.reserved);
    // Anything else is not a choice this form offers.
    let odd = post(
        &server,
        &browser,
        "/contact/reservation",
        &[("reserved", "maybe")],
    )
    .await;
    assert_eq!(odd.status(), StatusCode::BAD_REQUEST);

    let saved = post(
        &server,
        &browser,
        "/contact/mailbox",
        &[("mailbox", "external:digipost")],
    )
    .await;
    assert_eq!(location(&saved), "/contact?done=mailbox");
    assert_eq!(
        contact_of(&server, &ingrid).await.mailbox,
        borgerportal::contact::Mailbox::External {
            provider: "digipost".to_owned()
        }
    );
    // The overview names the provider as the configuration does, not by its id.
    let page = server.page(&browser, "/contact?done=mailbox").await;
    assert!(page.contains("<strong>Digipost</strong>"), "{page}");
    assert!(!page.contains("<strong>digipost</strong>"), "{page}");

    let saved = post(
        &server,
        &browser,
        "/contact/language",
        &[("language", "en")],
    )
    .await;
    assert_eq!(location(&saved), "/contact?done=language");
    let cookie = set_cookie(&saved, "i18n_pref_locale").expect("the interface follows");
    assert_eq!(cookie_value(&cookie), "en");
    assert_eq!(
        contact_of(&server, &ingrid).await.language,
        borgerportal::person::Language::En
    );
    let page = server.page(&browser, "/contact?done=language").await;
    assert!(page.contains("The language is saved."), "{page}");

    let kinds = server.event_kinds(INGRID).await;
    for kind in [
        AuditKind::ContactReserved,
        AuditKind::ContactReservationWithdrawn,
        AuditKind::ContactMailboxChanged,
        AuditKind::ContactLanguageChanged,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} in {kinds:?}");
    }
}

#[tokio::test]
async fn removing_the_last_method_says_what_it_means() {
    let server = start().await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;
    let now = OffsetDateTime::now_utc();
    let sent = server
        .db
        .request_email_change(
            &manage(&ingrid),
            EmailAddress::parse("ingrid@example.no").unwrap(),
            now,
        )
        .await
        .unwrap();
    server
        .db
        .verify_code(
            &manage(&ingrid),
            ContactMethod::Email,
            sent.code.expose(),
            now,
        )
        .await
        .unwrap();

    let page = server.page(&browser, "/contact/email").await;
    assert!(page.contains("eneste måten vi kan varsle deg"), "{page}");
    let removed = post(&server, &browser, "/contact/email/remove", &[]).await;
    assert_eq!(location(&removed), "/contact?done=email_removed");
    assert!(contact_of(&server, &ingrid).await.email.is_none());
    let page = server.page(&browser, "/contact?done=email_removed").await;
    assert!(page.contains("du får ikke varsel"), "{page}");
}

#[tokio::test]
async fn stale_contact_data_is_asked_about_after_login_until_confirmed() {
    let server = start().await;
    // Ingrid registered and verified her address two years ago.
    let ingrid = {
        let browser = Browser::new();
        server.login(&browser, INGRID, "substantial").await;
        server.person(INGRID).await.unwrap()
    };
    let then = OffsetDateTime::now_utc() - Duration::days(730);
    let sent = server
        .db
        .request_email_change(
            &manage(&ingrid),
            EmailAddress::parse("ingrid@example.no").unwrap(),
            then,
        )
        .await
        .unwrap();
    server
        .db
        .verify_code(
            &manage(&ingrid),
            ContactMethod::Email,
            sent.code.expose(),
            then,
        )
        .await
        .unwrap();

    // Logging in now stops at the question, remembering where she was going.
    let browser = Browser::new();
    let authorize = server
        .start_login(&browser, "loa=substantial&return_to=/activity")
        .await;
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let answer = browser.get(&callback).await;
    assert_eq!(location(&answer), "/contact/check?return_to=/activity");
    let page = server
        .page(&browser, "/contact/check?return_to=/activity")
        .await;
    assert!(page.contains("ingrid@example.no"), "{page}");
    assert!(page.contains("Spør meg neste gang"));
    assert!(
        page.contains("href=\"/activity\""),
        "postponing goes on: {page}"
    );

    // Confirming: on to /activity, and the next login goes straight there.
    let confirmed = post(
        &server,
        &browser,
        "/contact/confirm",
        &[("return_to", "/activity")],
    )
    .await;
    assert_eq!(location(&confirmed), "/activity");
    let info = contact_of(&server, &ingrid).await;
    assert!(!info.must_be_confirmed(OffsetDateTime::now_utc(), Duration::days(548)));
    let again = Browser::new();
    server.login(&again, INGRID, "substantial").await;

    // A return path to elsewhere is never followed.
    let confirmed = post(
        &server,
        &browser,
        "/contact/confirm",
        &[("return_to", "//evil.example/")],
    )
    .await;
    assert_eq!(location(&confirmed), "/contact?done=confirmed");
}

#[tokio::test]
async fn forms_need_a_login_and_a_same_site_post() {
    let server = start().await;
    let stranger = Browser::new();
    let answer = post(
        &server,
        &stranger,
        "/contact/email",
        &[("email", "x@example.no")],
    )
    .await;
    assert_eq!(answer.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), "/login?return_to=/contact/email");
    let page = server.page(&stranger, "/contact").await;
    assert!(page.contains("Du må logge inn"), "{page}");

    let (browser, ingrid) = logged_in(&server, INGRID).await;
    let cross = browser
        .post(
            &server.url("/contact/reservation"),
            &[("reserved".to_owned(), "true".to_owned())],
            &[
                ("origin", "https://evil.example"),
                ("sec-fetch-site", "cross-site"),
            ],
        )
        .await;
    assert_eq!(cross.status(), StatusCode::FORBIDDEN);
    assert!(!contact_of(&server, &ingrid).await.reserved);
}

#[tokio::test]
async fn one_citizen_never_sees_or_changes_another_s_settings() {
    let server = start_with(MAILBOX_PROVIDERS).await;
    let (ingrid_browser, ingrid) = logged_in(&server, INGRID).await;
    let (torbjorn_browser, torbjorn) = logged_in(&server, TORBJORN).await;

    post(
        &server,
        &ingrid_browser,
        "/contact/mailbox",
        &[("mailbox", "external:e-boks")],
    )
    .await;
    post(
        &server,
        &ingrid_browser,
        "/contact/reservation",
        &[("reserved", "true")],
    )
    .await;
    // Forms carry no person: a made-up field naming someone else is ignored.
    post(
        &server,
        &torbjorn_browser,
        "/contact/mailbox",
        &[("mailbox", "portal"), ("person", &ingrid.id.to_string())],
    )
    .await;

    assert!(contact_of(&server, &ingrid).await.reserved);
    assert_eq!(
        contact_of(&server, &ingrid).await.mailbox,
        borgerportal::contact::Mailbox::External {
            provider: "e-boks".to_owned()
        }
    );
    assert!(!contact_of(&server, &torbjorn).await.reserved);
    let page = server.page(&torbjorn_browser, "/contact").await;
    assert!(!page.contains("e-boks"), "{page}");
    assert!(page.contains("Du har ikke reservert deg"));
    let _ = server.db.find_person(torbjorn.id).await.unwrap();
}

#[tokio::test]
async fn a_look_up_by_an_agency_shows_in_the_activity_log_by_its_name() {
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/test-only-rsa-public.pem"
    );
    let server = start_with(&format!(
        "[[agencies]]\nid = \"nav\"\nname = \"Arbeids- og velferdsetaten\"\n\
         algorithm = \"RS256\"\npublic_key_file = \"{key}\"\n"
    ))
    .await;
    let (browser, ingrid) = logged_in(&server, INGRID).await;
    let agency = borgerportal::AgencyId::parse("nav").unwrap();
    server
        .db
        .record_event(
            borgerportal::audit::NewAuditEvent::new(ingrid.id, AuditKind::ContactLookedUpByAgency)
                .by_agency(agency),
        )
        .await
        .unwrap();
    let page = server.page(&browser, "/activity").await;
    let row = page
        .split("<tr>")
        .find(|row| row.contains("slått opp av en offentlig virksomhet"))
        .expect("the look-up is listed");
    assert!(row.contains("Arbeids- og velferdsetaten"), "{row}");
}
