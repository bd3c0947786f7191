//! eID login end to end, in-process: a real server on a loopback port with the built-in test
//! eID switched on (the relying party talks to it over HTTP, exactly as to ID-porten), a real
//! SQLite database, and a real HTTP client that follows no redirect by itself and keeps its
//! cookies by name and path, as a browser does.
//!
//! Covers the happy path, step-up, every refusal at the callback
//! (state missing, tampered, replayed, expired, started in another browser; wrong `iss`; level
//! too low; cancel), open redirects, session fixation, cross-site writes and the test eID's own
//! checks. Logout and the provider's key rollover are `logout.rs`. Each test starts its own server and asserts against the
//! database as well as the pages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine as _};
use borgerportal::{
    access::Loa,
    audit::AuditKind,
    session::{NewLoginState, SessionToken},
};
use reqwest::StatusCode;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

mod common;
use common::*;

// ---------------------------------------------------------------------------------------------
// 1. The happy path
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn login_creates_the_person_a_session_and_an_activity_entry() {
    let server = start().await;
    let browser = Browser::new();
    assert!(server.person(INGRID).await.is_none(), "not registered yet");
    let front = server.page(&browser, "/").await;
    assert!(!front.contains(INGRID_NAME));

    let response = server
        .get(
            &browser,
            &format!("/auth/login/{PROVIDER}?loa=substantial&return_to=/activity"),
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let authorize = location(&response);
    // The authorization request ID-porten requires: code flow, PKCE S256, state, nonce, acr.
    assert!(authorize.starts_with(&format!("{}/authorize?", server.issuer())));
    assert_eq!(param(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert!(param(&authorize, "code_challenge").is_some_and(|c| c.len() == 43));
    let state = param(&authorize, "state").unwrap();
    assert!(state.len() >= 16);
    assert!(param(&authorize, "nonce").is_some_and(|s| s.len() >= 16));
    assert_eq!(
        param(&authorize, "acr_values").as_deref(),
        Some("idporten-loa-substantial")
    );
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(format!("{}/auth/callback", server.base))
    );
    assert_eq!(
        param(&authorize, "prompt"),
        None,
        "no forced login at first"
    );
    // The pending login is bound to this browser by a cookie only the callback sees.
    let binding = set_cookie(&response, LOGIN_COOKIE).expect("the browser binding");
    assert_eq!(cookie_value(&binding), state);
    let binding_attributes = attributes(&binding);
    for wanted in ["Path=/auth/callback", "HttpOnly", "SameSite=Lax"] {
        assert!(
            binding_attributes.iter().any(|a| a == wanted),
            "{wanted} in {binding}"
        );
    }

    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    assert_eq!(param(&callback, "iss"), Some(server.issuer()));
    assert_eq!(param(&callback, "state"), Some(state));
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/activity");
    let session_set = set_cookie(&response, SESSION_COOKIE).expect("a session cookie");
    let session_attributes = attributes(&session_set);
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            session_attributes.iter().any(|a| a == wanted),
            "{wanted} in {session_set}"
        );
    }
    assert!(
        !session_attributes
            .iter()
            .any(|a| a.eq_ignore_ascii_case("Secure")),
        "no Secure over http: {session_set}"
    );
    let value = cookie_value(&session_set);
    assert!(SessionToken::from_cookie_value(&value).is_some());
    assert_eq!(
        browser.cookie(LOGIN_COOKIE),
        None,
        "the binding is cleared once used"
    );

    // The register has her, with the names from the id_token.
    let ingrid = server.person(INGRID).await.expect("registered at login");
    assert_eq!(ingrid.full_name(), INGRID_NAME);
    // The session is hers, at the level asked for, keyed for logout by the provider's sid.
    let session = server.session(&value).await.expect("a live session");
    assert_eq!(session.person, ingrid.id);
    assert_eq!(session.loa, Loa::Substantial);
    assert_eq!(session.provider, PROVIDER);
    assert!(session.sid.is_some());
    // Its id_token is kept for the logout hint, sealed: no national id, no usable token.
    let stored = session.id_token.expose_secret();
    assert!(stored.starts_with("sealed.v1."), "{stored}");
    assert!(!stored.contains("eyJ"), "{stored}");
    assert!(
        !stored.contains(ingrid.national_id.expose()),
        "no national id in the row"
    );

    // The activity log: one login, shown on her page.
    let events = server.events(&ingrid).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, AuditKind::LoginSucceeded);
    assert_eq!(events[0].loa, Some(Loa::Substantial));
    assert_eq!(events[0].provider.as_deref(), Some(PROVIDER));
    assert_eq!(events[0].actor, Some(ingrid.id));
    let activity = server.page(&browser, "/activity").await;
    assert!(activity.contains(INGRID_NAME), "{activity}");
    assert!(activity.contains("<table class=\"activity\""), "{activity}");
    assert_eq!(activity.matches("<tr>").count(), 2, "header + one row");
    assert!(activity.contains("Logget inn"), "{activity}");
    assert!(activity.contains("Test eID (ID-porten)"), "{activity}");
    let anonymous = server.page(&Browser::new(), "/activity").await;
    assert!(!anonymous.contains("<table class=\"activity\""));

    // The front page greets her by name, with her level.
    let front = server.page(&browser, "/").await;
    assert!(front.contains(INGRID_NAME), "{front}");
    assert!(front.contains("betydelig"), "the level in the header");
}

// ---------------------------------------------------------------------------------------------
// 2. Step-up
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn step_up_forces_a_new_login_at_high_and_replaces_the_session() {
    let server = start().await;
    let browser = Browser::new();
    let first = server.login(&browser, INGRID, "substantial").await;
    // The header names the session's level (the page below may offer a step-up to "høyt").
    let front = server.page(&browser, "/").await;
    let header = front.split("<main").next().unwrap();
    assert!(
        header.contains("betydelig") && !header.contains("høyt"),
        "{header}"
    );

    let authorize = server
        .start_login(&browser, "loa=high&return_to=/activity")
        .await;
    assert_eq!(param(&authorize, "prompt").as_deref(), Some("login"));
    assert_eq!(
        param(&authorize, "acr_values").as_deref(),
        Some("idporten-loa-high")
    );
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let response = browser.get(&callback).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/activity");
    let second = cookie_value(&set_cookie(&response, SESSION_COOKIE).expect("a new cookie"));
    assert_ne!(second, first, "a fresh session id at every change of level");
    assert!(server.session(&first).await.is_none(), "the old one ended");
    let session = server.session(&second).await.expect("the new session");
    assert_eq!(session.loa, Loa::High);

    let ingrid = server.person(INGRID).await.unwrap();
    let events = server.events(&ingrid).await;
    let kinds: Vec<AuditKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [AuditKind::SteppedUp, AuditKind::LoginSucceeded]);
    assert_eq!(events[0].loa, Some(Loa::High));

    let activity = server.page(&browser, "/activity").await;
    assert!(
        activity.contains("Logget inn på nytt på høyere nivå"),
        "{activity}"
    );
    let front = server.page(&browser, "/").await;
    assert!(front.contains("høyt"), "the header shows the new level");
    assert_eq!(server.drain_sessions().await, 1, "only the stepped-up one");
}

// ---------------------------------------------------------------------------------------------
// 3. Attacks on the callback and the login start: refused, and no session made
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn a_callback_without_state_is_refused() {
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let binding = browser.cookie(LOGIN_COOKIE).unwrap();
    for stateless in [
        with_param(&callback, "state", None),
        with_param(&callback, "state", Some("")),
    ] {
        browser.set(LOGIN_COOKIE, &binding, "/auth/callback");
        let response = browser.get(&stateless).await;
        assert_refused(&response, "expired");
    }
    assert_eq!(server.drain_sessions().await, 0);
    assert!(server.person(INGRID).await.is_none(), "nobody registered");
}

#[tokio::test]
async fn a_tampered_state_is_refused() {
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let state = param(&callback, "state").unwrap();
    let mut tampered: Vec<char> = state.chars().collect();
    tampered[5] = if tampered[5] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    // Tampered in the URL only, and in the URL and the binding cookie alike.
    for binding in [&state, &tampered] {
        browser.set(LOGIN_COOKIE, binding, "/auth/callback");
        let response = browser
            .get(&with_param(&callback, "state", Some(&tampered)))
            .await;
        assert_refused(&response, "expired");
    }
    assert_eq!(server.drain_sessions().await, 0);
    // The control: the genuine answer still works, so only the state was wrong.
    browser.set(LOGIN_COOKIE, &state, "/auth/callback");
    let genuine = browser.get(&callback).await;
    assert_eq!(location(&genuine), "/");
    assert!(set_cookie(&genuine, SESSION_COOKIE).is_some());
}

#[tokio::test]
async fn a_replayed_callback_is_refused() {
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let callback = server.authorize_as(&browser, &authorize, INGRID).await;
    let binding = browser.cookie(LOGIN_COOKIE).unwrap();
    let first = browser.get(&callback).await;
    assert_eq!(location(&first), "/");
    assert!(set_cookie(&first, SESSION_COOKIE).is_some());
    // The same state and authorization code again: as the browser has it now (the binding
    // cleared), and with the binding put back (a replay by someone who copied both). Only the
    // server's one-time state stops the second.
    let again = Browser::new();
    for binding in [None, Some(&binding)] {
        if let Some(binding) = binding {
            again.set(LOGIN_COOKIE, binding, "/auth/callback");
        }
        let replay = again.get(&callback).await;
        assert_refused(&replay, "expired");
    }
    assert_eq!(server.drain_sessions().await, 1, "only the first login's");
}

#[tokio::test]
async fn a_callback_finished_in_another_browser_is_refused() {
    // Login CSRF: an attacker logs in as themselves and hands the victim the callback URL, so
    // the victim would be working in the attacker's account.
    let server = start().await;
    let attacker = Browser::new();
    let authorize = server.start_login(&attacker, "loa=substantial").await;
    let callback = server.authorize_as(&attacker, &authorize, INGRID).await;
    let victim = Browser::new();
    let refused = victim.get(&callback).await;
    assert_refused(&refused, "expired");
    // Also when the victim has a pending login of their own.
    server.start_login(&victim, "loa=substantial").await;
    let refused = victim.get(&callback).await;
    assert_refused(&refused, "expired");
    assert_eq!(victim.cookie(SESSION_COOKIE), None);
    assert!(server.person(INGRID).await.is_none(), "nobody registered");
    // The control: in the browser that started it, the same URL logs in.
    let own = attacker.get(&callback).await;
    assert!(set_cookie(&own, SESSION_COOKIE).is_some());
    assert_eq!(server.drain_sessions().await, 1);
}

#[tokio::test]
async fn an_expired_state_is_refused() {
    let server = start().await;
    // Pending logins made by hand, so one can be expired; otherwise exactly what
    // `/auth/login` stores (and the binding cookie it sets). The test eID is then driven with
    // their state, nonce and PKCE challenge, so the answer is valid in every other way.
    let now = OffsetDateTime::now_utc();
    let mut logins = Vec::new();
    for (state, expires_at) in [
        ("expired-state-0123456789abcdef", now - Duration::minutes(1)),
        ("current-state-0123456789abcdef", now + Duration::minutes(5)),
    ] {
        let verifier = format!("{state}-verifier-0123456789abcdefghijklmnop");
        let challenge = B64.encode(Sha256::digest(verifier.as_bytes()));
        let nonce = format!("{state}-nonce");
        server
            .db
            .create_login_state(NewLoginState {
                state: state.to_owned(),
                nonce: nonce.clone(),
                pkce_verifier: SecretString::from(verifier),
                provider: PROVIDER.to_owned(),
                requested_loa: Loa::Substantial,
                return_to: "/activity".to_owned(),
                reauthenticate: false,
                signs: None,
                expires_at,
            })
            .await
            .unwrap();
        let browser = Browser::new();
        browser.set(LOGIN_COOKIE, state, "/auth/callback");
        let mut authorize = url::Url::parse(&format!("{}/authorize", server.issuer())).unwrap();
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", server::test_eid::CLIENT_ID)
            .append_pair("redirect_uri", &format!("{}/auth/callback", server.base))
            .append_pair("scope", "openid profile")
            .append_pair("state", state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            .append_pair("acr_values", "idporten-loa-substantial");
        let callback = server
            .authorize_as(&browser, authorize.as_str(), INGRID)
            .await;
        logins.push((browser, callback));
    }
    let (browser, callback) = &logins[0];
    let expired = browser.get(callback).await;
    assert_refused(&expired, "expired");
    assert!(server.person(INGRID).await.is_none(), "nobody registered");
    // The control: the same made-by-hand login, not expired, goes through.
    let (browser, callback) = &logins[1];
    let current = browser.get(callback).await;
    assert_eq!(location(&current), "/activity");
    assert!(set_cookie(&current, SESSION_COOKIE).is_some());
    assert_eq!(server.drain_sessions().await, 1, "only the current one's");
}

#[tokio::test]
async fn a_callback_with_a_wrong_or_missing_iss_is_refused() {
    let server = start().await;
    let browser = Browser::new();
    let wrong_issuers = [
        Some(format!("{}/test-eid/mitid", server.base)), // another configured issuer
        Some("https://evil.example/test-eid/idporten".to_owned()),
        None, // discovery says the provider always sends `iss` (RFC 9207)
    ];
    for iss in wrong_issuers {
        let authorize = server.start_login(&browser, "loa=substantial").await;
        let callback = server.authorize_as(&browser, &authorize, INGRID).await;
        let response = browser
            .get(&with_param(&callback, "iss", iss.as_deref()))
            .await;
        assert_refused(&response, "failed");
    }
    assert_eq!(server.drain_sessions().await, 0);
    assert!(server.person(INGRID).await.is_none(), "nobody registered");
}

#[tokio::test]
async fn a_return_path_to_another_origin_is_refused_at_the_start() {
    let server = start().await;
    let browser = Browser::new();
    for evil in [
        "https://evil.example/",
        "//evil.example",
        "/%5Cevil.example",
        "%2F%2Fevil.example",
        "/%0D%0ALocation:%20https://evil.example",
    ] {
        let response = server
            .get(
                &browser,
                &format!("/auth/login/{PROVIDER}?return_to={evil}"),
            )
            .await;
        assert_refused(&response, "invalid_request");
        assert!(set_cookie(&response, LOGIN_COOKIE).is_none());
    }
    assert_eq!(
        server.drain_login_states().await,
        0,
        "no pending login kept"
    );
    // The control: a local path is accepted (and kept for after the login).
    server
        .start_login(&browser, "return_to=/activity%3Fx%3D1")
        .await;
    assert_eq!(server.drain_login_states().await, 1);
}

#[tokio::test]
async fn a_made_up_session_cookie_does_not_survive_login() {
    let server = start().await;
    let planted = SessionToken::generate().as_cookie_value();
    let browser = Browser::with_session(&planted);
    let value = server.login(&browser, INGRID, "substantial").await;
    assert_ne!(value, planted);
    assert!(server.session(&planted).await.is_none());
    let front = server.page(&Browser::with_session(&planted), "/").await;
    assert!(
        !front.contains(INGRID_NAME),
        "the planted value logs nobody in"
    );
    assert!(server.session(&value).await.is_some());
    assert_eq!(server.drain_sessions().await, 1);
}

#[tokio::test]
async fn an_earlier_session_does_not_survive_a_new_login() {
    let server = start().await;
    // Someone else's session in the same browser (or one planted by an attacker who logged in
    // themselves): the next login must not inherit it.
    let browser = Browser::new();
    let sigrid = server.login(&browser, "sigrid", "substantial").await;
    let ingrid = server.login(&browser, INGRID, "substantial").await;
    assert_ne!(ingrid, sigrid);
    assert!(
        server.session(&sigrid).await.is_none(),
        "the earlier one ended"
    );
    let front = server.page(&Browser::with_session(&sigrid), "/").await;
    assert!(!front.contains("Sigrid Lunde") && !front.contains(INGRID_NAME));
    let front = server.page(&browser, "/").await;
    assert!(front.contains(INGRID_NAME) && !front.contains("Sigrid Lunde"));
    // Another person's session is no step-up: an ordinary login.
    assert_eq!(
        server.event_kinds(INGRID).await,
        [AuditKind::LoginSucceeded]
    );
    // The same person logging in again also gets a fresh id.
    let again = server.login(&browser, INGRID, "substantial").await;
    assert_ne!(again, ingrid);
    assert!(server.session(&ingrid).await.is_none());
    assert_eq!(server.drain_sessions().await, 1);
}

#[tokio::test]
async fn a_lower_level_than_asked_is_refused_and_recorded() {
    let server = start().await;
    borgerportal::demo::seed_demo_data(&server.db)
        .await
        .unwrap();
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=high").await;
    assert_eq!(
        param(&authorize, "acr_values").as_deref(),
        Some("idporten-loa-high")
    );
    // The citizen picks the lower level on the test eID's page.
    let response = submit_test_eid_form(
        &browser,
        &authorize,
        &[
            ("person", INGRID),
            ("level", "substantial"),
            ("action", "login"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let refused = browser.get(&location(&response)).await;
    assert_refused(&refused, "level");
    // The failure page knows the level asked for and the way back: it says plainly that this
    // needs `high`, and "try again" asks for `high` and comes back to where the person was.
    assert_eq!(
        location(&refused),
        "/login/failed?reason=level&loa=high&return_to=%2F"
    );
    let page = server.page(&browser, &location(&refused)).await;
    assert!(
        page.contains("Dette krever innlogging på høyt sikkerhetsnivå"),
        "{page}"
    );
    assert!(
        page.contains("href=\"/login?loa=high&amp;return_to=/\""),
        "{page}"
    );
    assert!(!page.contains("Du er fortsatt logget inn"), "not logged in");
    let plain = server.page(&browser, "/login/failed?reason=level").await;
    assert!(plain.contains("nådde ikke sikkerhetsnivået"), "{plain}");

    let ingrid = server.person(INGRID).await.unwrap();
    let events = server.events(&ingrid).await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].kind, AuditKind::LoginFailed);
    assert_eq!(events[0].provider.as_deref(), Some(PROVIDER));
    assert_eq!(server.drain_sessions().await, 0);
}

#[tokio::test]
async fn a_step_up_answered_at_too_low_a_level_keeps_the_session_and_says_so() {
    let server = start().await;
    let browser = Browser::new();
    let first = server.login(&browser, INGRID, "substantial").await;
    let authorize = server
        .start_login(&browser, "loa=high&return_to=/activity")
        .await;
    let response = submit_test_eid_form(
        &browser,
        &authorize,
        &[
            ("person", INGRID),
            ("level", "substantial"),
            ("action", "login"),
        ],
    )
    .await;
    let refused = browser.get(&location(&response)).await;
    assert_refused(&refused, "level");
    // The session goes on as it was, and the page and its header say so.
    let session = server.session(&first).await.expect("the session lives");
    assert_eq!(session.loa, Loa::Substantial);
    let page = server.page(&browser, &location(&refused)).await;
    let (header, main) = page.split_once("<main").unwrap();
    assert!(
        header.contains("betydelig") && !header.contains("høyt"),
        "{header}"
    );
    assert!(
        main.contains("Dette krever innlogging på høyt sikkerhetsnivå"),
        "{main}"
    );
    assert!(
        main.contains("Du er fortsatt logget inn som før, på betydelig sikkerhetsnivå."),
        "{main}"
    );
    assert!(
        main.contains("href=\"/login?loa=high&amp;return_to=/activity\""),
        "{main}"
    );
}

#[tokio::test]
async fn the_level_asked_for_is_accepted_from_the_form() {
    // The control for the test above: the same form, at the level asked for, logs in.
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=high").await;
    let response = submit_test_eid_form(
        &browser,
        &authorize,
        &[("person", INGRID), ("level", "high"), ("action", "login")],
    )
    .await;
    let done = browser.get(&location(&response)).await;
    assert_eq!(location(&done), "/");
    let value = cookie_value(&set_cookie(&done, SESSION_COOKIE).unwrap());
    assert_eq!(server.session(&value).await.unwrap().loa, Loa::High);
}

#[tokio::test]
async fn cancelling_at_the_provider_is_reported_as_cancelled() {
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let response = submit_test_eid_form(
        &browser,
        &authorize,
        &[("person", INGRID), ("action", "cancel")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let callback = location(&response);
    assert_eq!(param(&callback, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&callback, "code"), None);
    let refused = browser.get(&callback).await;
    assert_refused(&refused, "cancelled");
    let page = server
        .page(&browser, "/login/failed?reason=cancelled")
        .await;
    assert!(page.contains("Du avbrøt innloggingen"), "{page}");
    assert_eq!(server.drain_sessions().await, 0);
    assert!(server.person(INGRID).await.is_none());
}

#[tokio::test]
async fn an_unknown_provider_or_level_goes_to_the_failure_page() {
    let server = start().await;
    let browser = Browser::new();
    let response = server
        .get(&browser, "/auth/login/no-such-eid?loa=high")
        .await;
    assert_refused(&response, "unknown_provider");
    let page = server.page(&browser, &location(&response)).await;
    assert!(page.contains("Du ble ikke logget inn"), "{page}");
    let response = server
        .get(&browser, &format!("/auth/login/{PROVIDER}?loa=low"))
        .await;
    assert_refused(&response, "invalid_request");
    assert_eq!(browser.cookie(LOGIN_COOKIE), None);
    assert_eq!(server.drain_login_states().await, 0);
}

// ---------------------------------------------------------------------------------------------
// 4. Cross-site writes
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn cross_site_posts_are_refused_and_the_session_lives() {
    use leptos::server_fn::ServerFn as _;
    let server = start().await;
    let browser = Browser::new();
    let value = server.login(&browser, INGRID, "substantial").await;
    let keep_alive = app::auth::KeepAlive::PATH;
    assert!(keep_alive.starts_with("/api/"), "{keep_alive}");

    for path in ["/auth/logout", keep_alive] {
        for headers in [
            [("sec-fetch-site", "cross-site")],
            [("sec-fetch-site", "same-site")],
            [("origin", "https://evil.example")],
        ] {
            let response = browser.post(&server.url(path), &[], &headers).await;
            assert_eq!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{path} {headers:?}"
            );
            assert!(set_cookie(&response, SESSION_COOKIE).is_none());
        }
    }
    assert!(server.session(&value).await.is_some(), "still logged in");
    assert_eq!(browser.cookie(SESSION_COOKIE), Some(value.clone()));

    // The controls: from our own pages both work.
    let same_origin = [
        ("sec-fetch-site", "same-origin"),
        ("origin", server.base.as_str()),
    ];
    let alive = browser
        .post(&server.url(keep_alive), &[], &same_origin)
        .await;
    assert_eq!(alive.status(), StatusCode::OK);
    assert_eq!(alive.body.trim(), "true");
    let logout = browser
        .post(&server.url("/auth/logout"), &[], &same_origin)
        .await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert!(server.session(&value).await.is_none());
}

/// The built-in test eID enforces PKCE with S256: an authorization request without a code
/// challenge, or with the `plain` method, is sent back to the client as `invalid_request`.
#[tokio::test]
async fn the_test_eid_refuses_authorization_requests_without_pkce_s256() {
    let server = start().await;
    let browser = Browser::new();
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let without: Vec<(String, String)> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .filter(|(k, _)| k != "code_challenge" && k != "code_challenge_method")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut no_pkce = url::Url::parse(&authorize).unwrap();
    no_pkce.query_pairs_mut().clear().extend_pairs(&without);
    let mut plain = no_pkce.clone();
    plain
        .query_pairs_mut()
        .append_pair("code_challenge", &"a".repeat(43))
        .append_pair("code_challenge_method", "plain");
    for url in [no_pkce, plain] {
        let response = browser
            .get(&format!("{}&login_hint=ingrid", url.as_str()))
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{url}");
        let to = location(&response);
        assert!(
            to.starts_with(&format!("{}/auth/callback?", server.base)),
            "{to}"
        );
        assert!(to.contains("error=invalid_request"), "{to}");
        assert!(!to.contains("code="), "no code without PKCE: {to}");
    }
}

#[tokio::test]
async fn the_test_eid_takes_any_synthetic_number_and_refuses_real_ones() {
    let server = start().await;
    let browser = Browser::new();
    // A synthetic number (month + 80) nobody has used: a new person logs in.
    let synthetic = "01818500005";
    let authorize = server.start_login(&browser, "loa=substantial").await;
    let response = submit_test_eid_form(
        &browser,
        &authorize,
        &[
            ("person", "other"),
            ("other_id", synthetic),
            ("level", "substantial"),
            ("action", "login"),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
    let done = browser.get(&location(&response)).await;
    assert_eq!(location(&done), "/");
    let value = cookie_value(&set_cookie(&done, SESSION_COOKIE).unwrap());
    let session = server.session(&value).await.unwrap();
    let national_id = borgerportal::identity::NationalId::parse(synthetic).unwrap();
    let person = server
        .db
        .find_person_by_national_id(&national_id)
        .await
        .unwrap()
        .expect("registered at login");
    assert_eq!(session.person, person.id);

    // A real-looking (non-synthetic) number, a Danish one at the Norwegian eID, or nonsense:
    // the form comes back marked, and no login happens.
    for refused in ["17054800045", "230972-1846", "12345"] {
        let browser = Browser::new();
        let authorize = server.start_login(&browser, "loa=substantial").await;
        let response = submit_test_eid_form(
            &browser,
            &authorize,
            &[
                ("person", "other"),
                ("other_id", refused),
                ("level", "substantial"),
                ("action", "login"),
            ],
        )
        .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{refused}"
        );
        assert!(response.body.contains("aria-invalid=\"true\""), "{refused}");
        assert!(response.body.contains("id=\"other-id-error\""));
    }
}
