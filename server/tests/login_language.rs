//! The language at login, end to end in-process (the test eID over HTTP, a real SQLite
//! database): a visitor's chosen language becomes a new person's, and at every later login the
//! person's saved language wins over whatever the browser had.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use app::shell::LANGUAGE_COOKIE;
use borgerportal::person::Language;

mod common;
use common::*;

#[tokio::test]
async fn the_saved_language_wins_at_login() {
    let server = start().await;

    // Chosen before the first login: the new person keeps it.
    let browser = Browser::new();
    browser.set(LANGUAGE_COOKIE, "en", "/");
    server.login(&browser, INGRID, "substantial").await;
    assert_eq!(server.person(INGRID).await.unwrap().language, Language::En);
    assert_eq!(browser.cookie(LANGUAGE_COOKIE).as_deref(), Some("en"));

    // Another browser, in Danish: logging in brings the saved English back, and the pages
    // after the login speak it; the login does not change what is saved.
    let danish = Browser::new();
    danish.set(LANGUAGE_COOKIE, "da", "/");
    assert!(server
        .page(&danish, "/")
        .await
        .contains("<html lang=\"da\""));
    server.login(&danish, INGRID, "substantial").await;
    assert_eq!(danish.cookie(LANGUAGE_COOKIE).as_deref(), Some("en"));
    let activity = server.page(&danish, "/activity").await;
    assert!(activity.contains("<html lang=\"en\""), "{activity}");
    assert_eq!(server.person(INGRID).await.unwrap().language, Language::En);

    // No choice before the first login: the country's language (Ingrid is Norwegian), and the
    // browser's Accept-Language does not count as a choice.
    let other = start().await;
    let plain = Browser::new();
    other.login(&plain, INGRID, "substantial").await;
    assert_eq!(other.person(INGRID).await.unwrap().language, Language::Nb);
    assert_eq!(plain.cookie(LANGUAGE_COOKIE).as_deref(), Some("nb"));
}
