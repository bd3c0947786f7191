//! The front page end to end, in-process: a visitor gets what the portal is for and a way to
//! log in; a logged-in citizen gets their overview (unread letters, what waits for them,
//! their contact entry and level), every card a link.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use reqwest::StatusCode;

/// A page's HTML without Leptos' text-node markers (`<!>`), as a reader sees the text.
async fn page(server: &TestServer, browser: &Browser, path: &str) -> String {
    server.page(browser, path).await.replace("<!>", "")
}

/// A server with the demo persons and their letters, and Ingrid logged in at `substantial`.
async fn ingrid_with_letters() -> (TestServer, Browser) {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    borgerportal::seed_demo_post(&server.db, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    (server, browser)
}

#[tokio::test]
async fn a_visitor_gets_what_the_portal_does_and_a_way_to_log_in() {
    let server = start().await;
    let page = page(&server, &Browser::new(), "/").await;
    assert!(page.contains("Velkommen til Borgerportal"), "{page}");
    assert!(page.contains("href=\"/login?return_to=/\""), "{page}");
    assert!(letters(&page).is_empty());
    // Only what exists is offered: no signing, no authority for others (yet).
    for not_yet in ["ignering", "fullmakt", "borgerservice"] {
        assert!(
            !page.to_lowercase().contains(not_yet),
            "{not_yet} in {page}"
        );
    }
}

#[tokio::test]
async fn the_overview_shows_the_newest_unread_letters_and_links_to_the_rest() {
    let (server, browser) = ingrid_with_letters().await;
    let home = page(&server, &browser, "/").await;
    assert!(home.contains("Velkommen, Ingrid Solberg"), "{home}");
    assert!(home.contains("href=\"/post\""));
    assert!(home.contains("href=\"/contact\""));
    assert!(home.contains("href=\"/activity\""));

    // The newest three of the four unread letters, as the inbox orders them.
    let inbox: Vec<String> = letters(&server.page(&browser, "/post").await)
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let shown = letters(&home);
    let shown_ids: Vec<&str> = shown.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        shown_ids,
        inbox[..3].iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert!(home.contains("Se alle 4 uleste brev"), "{home}");
    // At `substantial` the letter that needs `high` shows its non-sensitive title only.
    assert!(!home.contains("dagpenger"), "{home}");

    // An opened letter leaves the overview; the next unread one takes its place.
    let opened = &shown_ids[0];
    assert_eq!(
        server
            .get(&browser, &format!("/post/letter/{opened}"))
            .await
            .status(),
        StatusCode::OK
    );
    let home = page(&server, &browser, "/").await;
    let now_shown: Vec<String> = letters(&home).into_iter().map(|(id, _)| id).collect();
    assert_eq!(now_shown, inbox[1..4].to_vec());
    assert!(home.contains("Gå til posten din"), "{home}");
}

#[tokio::test]
async fn what_waits_for_the_citizen_links_to_where_it_is_done() {
    let server = start().await;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    let home = page(&server, &browser, "/").await;
    assert!(home.contains("Ingenting venter på deg."), "{home}");
    assert!(home.contains("Du har ingen uleste brev."), "{home}");
    assert!(home.contains("Ikke registrert"), "{home}");
    // The level, and a way up to `high`.
    assert!(home.contains("<strong>betydelig</strong>"), "{home}");
    assert!(
        home.contains("/auth/login/testid-no?loa=high&amp;return_to=/"),
        "{home}"
    );

    // A new e-mail address waits for its code: the overview says so and links to the form.
    let sent = server
        .form(
            &browser,
            "/contact/email",
            &[("email", "ingrid@example.no")],
        )
        .await;
    assert_eq!(sent.status(), StatusCode::SEE_OTHER);
    let home = page(&server, &browser, "/").await;
    assert!(home.contains("href=\"/contact/verify/email\""), "{home}");
    assert!(!home.contains("Ingenting venter på deg."));
}

#[tokio::test]
async fn the_overview_is_in_the_citizens_language() {
    let server = start().await;
    let browser = Browser::new();
    server.login(&browser, INGRID, "substantial").await;
    browser.set("i18n_pref_locale", "en", "/");
    let home = page(&server, &browser, "/").await;
    assert!(home.contains("Welcome, Ingrid Solberg"), "{home}");
    assert!(home.contains("Nothing is waiting for you."), "{home}");
}
