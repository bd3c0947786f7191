//! Acting for someone, end to end in-process: the choice on the home page and at `/act-for`,
//! the banner on every page, a guardian reading a minor's post (which stays unread for the
//! minor, who sees who opened it), a scope that is missing explained, a stranger refused, a
//! revocation taking effect on the helper's next request, and stopping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use borgerportal::access::{Actor, GrantAuthority, Loa, ManageAuthority, Policy, ReadPost};
use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::person::Person;
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

/// A page's HTML without Leptos' text-node markers (`<!>`), as a reader sees the text.
async fn page(server: &TestServer, browser: &Browser, path: &str) -> String {
    server.page(browser, path).await.replace("<!>", "")
}

/// The demo persons and their letters, and Ingrid (Sigrid's guardian) logged in.
async fn ingrid() -> (TestServer, Browser) {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    borgerportal::seed_demo_post(&server.db, OffsetDateTime::now_utc())
        .await
        .unwrap();
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    (server, browser)
}

fn own<C: borgerportal::access::Capability>(person: &Person) -> borgerportal::access::Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

async fn act_for(server: &TestServer, browser: &Browser, person: &str) -> Reply {
    server
        .form(
            browser,
            "/act-for",
            &[("person", person), ("return_to", "/post")],
        )
        .await
}

async fn acting_for(
    server: &TestServer,
    browser: &Browser,
) -> Option<borgerportal::person::PersonId> {
    let cookie = browser.cookie(SESSION_COOKIE).unwrap();
    server.session(&cookie).await.unwrap().acting_for
}

async fn unread_of(server: &TestServer, person: &Person) -> u64 {
    server
        .db
        .unread_count(&own::<ReadPost>(person), OffsetDateTime::now_utc())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_guardian_chooses_the_minor_reads_her_post_and_stops() {
    let (server, browser) = ingrid().await;
    let sigrid = server.person("sigrid").await.unwrap();

    // The choice heads the home page, herself chosen; the menu offers it too.
    let home = page(&server, &browser, "/").await;
    assert!(home.contains("Hvem handler du for?"), "{home}");
    assert!(home.contains(&format!("value=\"{}\"", sigrid.id)), "{home}");
    assert!(home.contains("Sigrid Lunde"), "{home}");
    assert!(home.contains("som verge, til og med"), "{home}");
    assert!(home.contains("href=\"/act-for\""), "the menu: {home}");
    assert!(!home.contains("class=\"acting-banner\""), "{home}");

    let response = act_for(&server, &browser, &sigrid.id.to_string()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/post");
    assert_eq!(acting_for(&server, &browser).await, Some(sigrid.id));

    // Her mailbox, under a banner that names her and the basis, on every page.
    let mailbox = page(&server, &browser, "/post").await;
    assert!(mailbox.contains("class=\"acting-banner\""), "{mailbox}");
    assert!(
        mailbox.contains("Du handler for <strong>Sigrid Lunde</strong>"),
        "{mailbox}"
    );
    assert!(mailbox.contains("som verge, til og med"), "{mailbox}");
    assert!(
        mailbox.contains("Skattemeldingen for 2024 er klar"),
        "{mailbox}"
    );
    for path in ["/", "/contact", "/authority", "/activity", "/privacy"] {
        let html = page(&server, &browser, path).await;
        assert!(
            html.contains("Du handler for <strong>Sigrid Lunde</strong>"),
            "{path}"
        );
        assert!(html.contains("Slutt å handle for andre"), "{path}");
    }

    // The header names who is logged in: Ingrid, never Sigrid's number.
    assert!(mailbox.contains(INGRID_NAME), "{mailbox}");
    assert!(!mailbox.contains(sigrid.national_id.expose()), "{mailbox}");

    // Stop: her own pages again.
    let response = server.form(&browser, "/act-for", &[("person", "")]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/");
    assert_eq!(acting_for(&server, &browser).await, None);
    let mailbox = page(&server, &browser, "/post").await;
    assert!(!mailbox.contains("class=\"acting-banner\""), "{mailbox}");
}

#[tokio::test]
async fn a_letter_a_guardian_opens_stays_unread_and_shows_who_opened_it() {
    let (server, browser) = ingrid().await;
    let sigrid = server.person("sigrid").await.unwrap();
    let before = unread_of(&server, &sigrid).await;
    assert!(before > 0);
    act_for(&server, &browser, &sigrid.id.to_string()).await;
    let mailbox = page(&server, &browser, "/post").await;
    let link = mailbox
        .split("href=\"/post/letter/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a letter link")
        .to_owned();
    let letter = page(&server, &browser, &format!("/post/letter/{link}")).await;
    assert!(letter.contains("letter-body"), "{letter}");
    assert_eq!(unread_of(&server, &sigrid).await, before, "still unread");

    // Sigrid's own view: unread, "opened by Ingrid", and her log names Ingrid as guardian.
    let events = server.events(&sigrid).await;
    let opened = events
        .iter()
        .find(|event| event.kind == borgerportal::audit::AuditKind::PostOpened)
        .expect("an opening in Sigrid's log");
    let ingrid = server.person(INGRID).await.unwrap();
    assert_eq!(opened.actor, Some(ingrid.id));
    assert_eq!(
        opened.acted_under,
        Some(borgerportal::audit::ActedUnder::Guardian)
    );
    let view = server
        .db
        .open_letter(
            &own::<ReadPost>(&sigrid),
            None,
            link.parse().unwrap(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let borgerportal::post::LetterView::Open(letter) = view else {
        panic!("the letter opens for Sigrid");
    };
    assert_eq!(letter.opened_by.len(), 1);
    assert_eq!(letter.opened_by[0].name, INGRID_NAME);

    // Opening it again adds nothing to her log.
    page(&server, &browser, &format!("/post/letter/{link}")).await;
    let openings = server
        .events(&sigrid)
        .await
        .iter()
        .filter(|event| event.actor == Some(ingrid.id))
        .count();
    assert_eq!(openings, 1);
}

#[tokio::test]
async fn what_the_authority_does_not_cover_is_explained_with_the_way_forward() {
    let (server, browser) = ingrid().await;
    let sigrid = server.person("sigrid").await.unwrap();
    act_for(&server, &browser, &sigrid.id.to_string()).await;
    // A guardian does not read the activity log, nor letters that need high.
    let html = page(&server, &browser, "/activity").await;
    assert!(
        html.contains("Som verge kan du ikke gjøre dette for Sigrid Lunde:"),
        "{html}"
    );
    assert!(html.contains("Se aktivitetsloggen"), "{html}");
    // A guardianship is not asked for from the minor.
    assert!(!html.contains("href=\"/authority/request\""), "{html}");
    let mailbox = page(&server, &browser, "/post").await;
    let high = mailbox
        .split("href=\"/post/letter/")
        .skip(1)
        .find(|rest| rest.contains("Brev fra NAV"))
        .and_then(|rest| rest.split('"').next())
        .expect("the letter that needs high, by its non-sensitive title")
        .to_owned();
    let letter = page(&server, &browser, &format!("/post/letter/{high}")).await;
    assert!(letter.contains("Lese all posten"), "{letter}");
    assert!(
        !letter.contains("loa=high"),
        "no step-up that could not help: {letter}"
    );
    // The authority pages are Ingrid's own, also while she acts for Sigrid.
    let html = page(&server, &browser, "/authority").await;
    assert!(html.contains("Fullmakter"), "{html}");
    assert!(!html.contains("gjelder ikke dette"), "{html}");
}

#[tokio::test]
async fn no_one_can_be_chosen_without_authority() {
    let (server, browser) = ingrid().await;
    let aksel = server.person("aksel").await.unwrap();
    for person in [aksel.id.to_string(), "not-an-id".to_owned()] {
        let response = act_for(&server, &browser, &person).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = response.body.replace("<!>", "");
        assert!(
            html.contains("Du kan ikke handle for den personen."),
            "{html}"
        );
        assert_eq!(acting_for(&server, &browser).await, None);
    }
    // A visitor is sent to log in, and nothing is stored for anyone.
    let response = act_for(&server, &Browser::new(), &aksel.id.to_string()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?"));
}

#[tokio::test]
async fn a_revocation_counts_from_the_helpers_next_request() {
    let (server, browser) = ingrid().await;
    let torbjorn = server.person("torbjørn").await.unwrap();
    let ingrid = server.person(INGRID).await.unwrap();
    let ends_on = (OffsetDateTime::now_utc() + Duration::days(200)).date();
    let delegation = server
        .db
        .grant_delegation(
            &own::<GrantAuthority>(&torbjorn),
            ingrid.id,
            &[
                ScopeGrant {
                    scope: Scope::ManagePost,
                    ends_on,
                },
                ScopeGrant {
                    scope: Scope::ManageContact,
                    ends_on,
                },
            ],
            &DelegationRules::default(),
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let response = act_for(&server, &browser, &torbjorn.id.to_string()).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mailbox = page(&server, &browser, "/post").await;
    assert!(mailbox.contains("Torbjørn Aasen"), "{mailbox}");
    assert!(mailbox.contains("med fullmakt, til og med"), "{mailbox}");
    // A form works as it does for him: a folder made in his mailbox.
    let response = server
        .form(&browser, "/post/folders", &[("name", "Fra Ingrid")])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
    let folders = server
        .db
        .list_folders(&own::<ReadPost>(&torbjorn))
        .await
        .unwrap();
    assert!(folders.iter().any(|folder| folder.name == "Fra Ingrid"));
    // Reading his activity log is not in this delegation: the page says so and how to ask.
    let html = page(&server, &browser, "/activity").await;
    assert!(
        html.contains("Fullmakten fra Torbjørn Aasen gjelder ikke dette:"),
        "{html}"
    );
    assert!(html.contains("href=\"/authority/request\""), "{html}");
    // The form was a use of the delegation: last used set.
    let given = server
        .db
        .delegations_given(&own::<ManageAuthority>(&torbjorn))
        .await
        .unwrap();
    assert!(given[0].delegation.last_used_at.is_some(), "{given:?}");

    server
        .db
        .revoke_delegation(
            &own::<ManageAuthority>(&torbjorn),
            delegation.id,
            OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    // The very next request: no post, the banner says it ended, forms are refused.
    let mailbox = page(&server, &browser, "/post").await;
    assert!(
        mailbox.contains("Du kan ikke lenger handle for Torbjørn Aasen"),
        "{mailbox}"
    );
    assert!(!mailbox.contains("Skattemeldingen"), "{mailbox}");
    assert!(
        mailbox.contains("gjelder ikke lenger"),
        "the banner: {mailbox}"
    );
    let response = server
        .form(&browser, "/post/folders", &[("name", "Etter")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let folders = server
        .db
        .list_folders(&own::<ReadPost>(&torbjorn))
        .await
        .unwrap();
    assert!(!folders.iter().any(|folder| folder.name == "Etter"));
    // And he can no longer be chosen.
    server.form(&browser, "/act-for", &[("person", "")]).await;
    let response = act_for(&server, &browser, &torbjorn.id.to_string()).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_person_without_authority_is_not_offered_the_choice() {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    let browser = Browser::new();
    server.login(&browser, "anna", "substantial").await;
    // Anna prefers English: her pages are in English after login.
    let home = page(&server, &browser, "/").await;
    assert!(!home.contains("Whom do you act for?"), "{home}");
    assert!(!home.contains("href=\"/act-for\""), "{home}");
    let chooser = page(&server, &browser, "/act-for").await;
    assert!(
        chooser.contains("No one has given you authority that is in force now."),
        "{chooser}"
    );
}
