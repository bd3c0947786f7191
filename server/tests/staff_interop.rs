//! The staff login against real, independent OpenID Connect software from npm, shared with the
//! citizens' interoperability suite (`oidc_harness/`): `oidc-provider` configured as a
//! municipality's provider (OS2faktor's `loa` and a `roles` claim, `provider.mjs --profile
//! os2faktor`), and every relying-party attack case of `mock.mjs` that the citizens' login is
//! refused on, run against `/staff/callback` (`attack_cases!`), plus those only a staff login
//! meets: a login without a second factor, an account without a borgerservice role, and a
//! provider that ignores `prompt=login`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod oidc_harness;
use oidc_harness::*;

use borgerportal::staff::{MunicipalityId, StaffAuditKind, StaffRole, StaffToken};
use reqwest::StatusCode;

async fn staff_session(portal: &Portal, cookie: &str) -> Option<borgerportal::staff::StaffSession> {
    portal
        .db
        .find_staff_session(
            &StaffToken::from_cookie_value(cookie).expect("a staff token"),
            time::OffsetDateTime::now_utc(),
            time::Duration::minutes(15),
        )
        .await
        .unwrap()
}

async fn staff_log(portal: &Portal) -> Vec<borgerportal::staff::StaffAuditEvent> {
    portal
        .db
        .list_staff_events(&MunicipalityId::parse(PROVIDER_ID).unwrap(), 20)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_caseworker_logs_in_through_oidc_provider_as_a_municipal_provider_and_out_again() {
    let portal = Portal::start(Idp::Provider, Profile::Os2faktor).await;
    let browser = Browser::new();
    let callback = portal.login(&browser, None, Some("person")).await;
    // What the portal asked for: code flow, PKCE S256, state, nonce, and a fresh login.
    let asked = &callback.authorize;
    assert_eq!(query_value(asked, "response_type").unwrap(), "code");
    assert_eq!(query_value(asked, "code_challenge_method").unwrap(), "S256");
    assert!(query_value(asked, "state").is_some() && query_value(asked, "nonce").is_some());
    assert_eq!(query_value(asked, "prompt").as_deref(), Some("login"));
    assert_eq!(query_value(asked, "acr_values"), None);
    assert_eq!(
        query_value(&callback.callback_url, "iss").unwrap(),
        portal.idp.issuer,
        "RFC 9207"
    );
    let cookie = callback.assert_logged_in();
    let session = staff_session(&portal, &cookie)
        .await
        .expect("a staff session");
    assert_eq!(session.member.role, StaffRole::Caseworker);
    assert_eq!(session.member.name, STAFF_NAME);
    assert!(session.sid.is_some(), "the provider's sid is kept");
    let desk = portal.front_page(&browser).await;
    assert!(desk.contains(STAFF_NAME) && desk.contains("Interop kommune"));
    // No citizen's session came of it.
    assert_eq!(browser.cookie(SESSION_COOKIE), None);

    // The same callback again is refused.
    let replay = browser.get(callback.callback_url.as_str()).await;
    assert_eq!(location(&replay), "/staff?failed=expired");
    assert_eq!(new_cookie(&replay, STAFF_COOKIE), None);

    // Logout: here, then at the provider with the id_token hint, which comes back to /staff.
    let out = browser
        .post_form(&portal.url("/staff/logout"), &[], Some(&portal.base))
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let end_session = url::Url::parse(location(&out)).unwrap();
    assert!(end_session.as_str().starts_with(&portal.idp.issuer));
    assert!(query_value(&end_session, "id_token_hint").is_some());
    assert_eq!(
        query_value(&end_session, "post_logout_redirect_uri").unwrap(),
        portal.url("/staff")
    );
    assert!(staff_session(&portal, &cookie).await.is_none());
    let kinds: Vec<_> = staff_log(&portal).await.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [StaffAuditKind::Logout, StaffAuditKind::Login]);
    portal.log_text();
}

#[tokio::test]
async fn a_login_without_a_second_factor_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Os2faktor).await;
    let browser = Browser::new();
    // `loa` "2": the person logged in with a password alone.
    let callback = portal.login(&browser, None, Some("person:2")).await;
    callback.assert_refused("level");
    let log = staff_log(&portal).await;
    assert_eq!(log[0].kind, StaffAuditKind::LoginRefused);
    assert_eq!(log[0].reason.as_deref(), Some("level"));
}

#[tokio::test]
async fn an_account_without_a_borgerservice_role_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Os2faktorWithoutRole).await;
    let browser = Browser::new();
    portal
        .login(&browser, None, Some("person"))
        .await
        .assert_refused("no_role");
    assert!(!portal.front_page(&browser).await.contains(STAFF_NAME));
    assert_eq!(
        staff_log(&portal).await[0].reason.as_deref(),
        Some("no_role")
    );
}

#[tokio::test]
async fn a_staff_callback_finished_in_another_browser_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Os2faktor).await;
    let attacker = Browser::new();
    let start = attacker
        .get(&portal.url(&Profile::Os2faktor.login_path()))
        .await;
    let mut authorize = url::Url::parse(location(&start)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "person");
    let prefix = portal.url("/staff/callback?");
    let callback = attacker
        .follow(authorize.as_str(), |url| url.as_str().starts_with(&prefix))
        .await;
    let victim = Browser::new();
    let response = victim.get(callback.as_str()).await;
    assert_eq!(location(&response), "/staff?failed=expired");
    assert_eq!(new_cookie(&response, STAFF_COOKIE), None);
}

#[tokio::test]
async fn a_cancelled_staff_login_is_refused_calmly() {
    let portal = Portal::start(Idp::Provider, Profile::Os2faktor).await;
    portal
        .login(&Browser::new(), None, Some("cancel"))
        .await
        .assert_refused("cancelled");
}

#[tokio::test]
async fn mock_valid_staff_token_is_accepted() {
    // The control: the mock's unchanged tokens log staff in, so each refusal is its change's.
    let (portal, browser, callback) = mock_login_as(Profile::Os2faktor, "valid", None).await;
    let cookie = callback.assert_logged_in();
    assert!(staff_session(&portal, &cookie).await.is_some());
    assert!(portal.front_page(&browser).await.contains(STAFF_NAME));
}

#[tokio::test]
async fn mock_low_or_missing_level_is_refused() {
    mock_refuses_as(
        Profile::Os2faktor,
        "acr-low",
        None,
        "level",
        "level of assurance",
    )
    .await;
    mock_refuses_as(
        Profile::Os2faktor,
        "acr-missing",
        None,
        "level",
        "level of assurance",
    )
    .await;
}

/// Every staff login asks for `prompt=login`: a provider that answers with an older
/// authentication (someone's single sign-on on a shared desk PC), or does not say when it
/// authenticated, is refused.
#[tokio::test]
async fn mock_provider_ignoring_prompt_login_is_refused() {
    mock_refuses_as(
        Profile::Os2faktor,
        "auth-time-old",
        None,
        "failed",
        "asked to authenticate again and did not",
    )
    .await;
    mock_refuses_as(
        Profile::Os2faktor,
        "auth-time-missing",
        None,
        "failed",
        "did not say when",
    )
    .await;
}

// The relying-party attack cases of the citizens' login (`interop.rs`), against the staff one.
attack_cases!(Profile::Os2faktor);
