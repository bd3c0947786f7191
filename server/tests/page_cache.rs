//! The anonymous pages kept in memory (`server::page_cache`): every answer carries its own CSP
//! nonce (the one in its header, never an earlier request's), is otherwise the page the
//! renderer gives, follows the language, and a logged-in visitor never gets the kept copy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{start, Browser, INGRID, INGRID_NAME};
use reqwest::StatusCode;

/// The nonce in a response's Content-Security-Policy.
fn csp_nonce(reply: &common::Reply) -> String {
    let csp = reply
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    let start = csp.find("'nonce-").unwrap() + "'nonce-".len();
    let end = start + csp[start..].find('\'').unwrap();
    csp[start..end].to_owned()
}

#[tokio::test]
async fn kept_pages_carry_their_own_nonce_and_follow_language_and_session() {
    let server = start().await;
    let anonymous = Browser::new();
    let mut pages = Vec::new();
    for _ in 0..3 {
        let reply = server.get(&anonymous, "/").await;
        assert_eq!(reply.status(), StatusCode::OK);
        let nonce = csp_nonce(&reply);
        assert!(
            reply.body.contains(&format!("nonce=\"{nonce}\"")),
            "the page's script carries the header's nonce"
        );
        pages.push((nonce, reply.body));
    }
    // Fresh nonces, and apart from them the same page each time (the first was rendered).
    assert_ne!(pages[0].0, pages[1].0);
    assert_ne!(pages[1].0, pages[2].0);
    let without = |(nonce, body): &(String, String)| body.replace(nonce.as_str(), "NONCE");
    assert!(!pages[2].1.contains(&pages[1].0));
    assert_eq!(without(&pages[0]), without(&pages[1]));
    assert_eq!(without(&pages[1]), without(&pages[2]));
    // A query string is rendered, not taken from the copy: the switcher's return path shows it.
    let with_query = server.page(&anonymous, "/?from=test").await;
    assert!(with_query.contains("/?from=test"));

    // The language is part of the key.
    let english = Browser::new();
    english.set("i18n_pref_locale", "en", "/");
    for _ in 0..2 {
        let page = server.page(&english, "/").await;
        assert!(page.contains("Welcome to Borgerportal"));
    }
    assert!(server
        .page(&anonymous, "/")
        .await
        .contains("Velkommen til Borgerportal"));

    // A logged-in citizen gets their own page, with their name, never the anonymous copy.
    let citizen = Browser::new();
    server.login(&citizen, INGRID, "substantial").await;
    let page = server.page(&citizen, "/").await;
    assert!(page.contains(INGRID_NAME));
    assert!(!server.page(&anonymous, "/").await.contains(INGRID_NAME));
}
