//! Interoperability of the eID login with real, independent OpenID Connect software from npm:
//!
//! - `oidc-provider` (a certified OpenID provider), shaped like ID-porten or a MitID broker by
//!   `end2end/oidc/provider.mjs`: login, step-up, RP-initiated and back-channel logout, and a
//!   provider that answers a lower level than asked;
//! - `oauth2-mock-server`, wrapped by `end2end/oidc/mock.mjs`: validly signed id_tokens with
//!   wrong claims, and hand-made bad ones (unsigned, foreign key, HMAC).
//!
//! Each test runs its own portal in-process (real SQLite, real listener) and its own node
//! process, and plays the browser itself: cookies (shared across ports on 127.0.0.1, as in a
//! browser), redirects followed one by one. Needs `npm install` in `end2end/` (`cargo xtask test`
//! does it).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod oidc_harness;
use oidc_harness::*;

use borgerportal::access::Loa;
use reqwest::{Client, StatusCode};
use url::Url;

// ---------------------------------------------------------------------------------------------
// A. oidc-provider as ID-porten

#[tokio::test]
async fn provider_login_at_substantial_works_end_to_end() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let callback = portal
        .login(&browser, None, Some("person:substantial"))
        .await;

    // What the portal asked for: code flow, PKCE S256, state, nonce, substantial.
    let asked = &callback.authorize;
    assert_eq!(query_value(asked, "response_type").unwrap(), "code");
    assert_eq!(query_value(asked, "code_challenge_method").unwrap(), "S256");
    assert!(query_value(asked, "code_challenge").is_some());
    assert!(query_value(asked, "state").is_some() && query_value(asked, "nonce").is_some());
    assert_eq!(
        query_value(asked, "acr_values").unwrap(),
        "idporten-loa-substantial"
    );
    assert_eq!(query_value(asked, "prompt"), None, "no forced login");
    // The provider answered with RFC 9207's iss.
    assert_eq!(
        query_value(&callback.callback_url, "iss").unwrap(),
        portal.idp.issuer
    );

    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.expect("a stored session");
    assert_eq!(session.loa, Loa::Substantial);
    assert_eq!(session.provider, PROVIDER_ID);
    assert!(
        session.sid.is_some(),
        "the provider's sid is kept for logout"
    );
    let id_token = jwt_claims(&portal.id_token_of(&session));
    assert_eq!(
        id_token["pid"],
        Profile::Idporten.person().national_id.expose()
    );
    assert_eq!(id_token["acr"], "idporten-loa-substantial");

    let page = portal.front_page(&browser).await;
    let name = Profile::Idporten.person().full_name();
    assert!(page.contains(&name), "the front page names {name}");

    // The same callback again (a replayed authorization response) is refused.
    let replay = browser.get(callback.callback_url.as_str()).await;
    assert_eq!(location(&replay), "/login/failed?reason=expired");
    assert_eq!(new_session_cookie(&replay), None);
    assert!(portal.log_text().contains("logged in"));
}

/// `private_key_jwt` (what ID-porten recommends): the portal signs a client assertion with its
/// own key, and the provider accepts it only against the public key registered for the client.
#[tokio::test]
async fn provider_login_with_private_key_jwt_client_authentication() {
    let portal = Portal::start(Idp::ProviderPrivateKeyJwt, Profile::Idporten).await;
    let browser = Browser::new();
    let callback = portal
        .login(&browser, None, Some("person:substantial"))
        .await;
    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.expect("a stored session");
    assert_eq!(session.loa, Loa::Substantial);
    let page = portal.front_page(&browser).await;
    assert!(page.contains(&Profile::Idporten.person().full_name()));
}

#[tokio::test]
async fn provider_step_up_to_high_forces_a_new_login_and_a_new_session() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    // The login hint names the person only: the provider logs in at the level asked for.
    let step_up = portal.login(&browser, Some("high"), Some("person")).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    assert_eq!(
        query_value(&step_up.authorize, "acr_values").unwrap(),
        "idporten-loa-high"
    );
    let seen = portal.idp.test_data("interactions").await;
    let last = seen.last().expect("the provider saw the step-up");
    assert_eq!(last["prompt"], "login");
    assert_eq!(last["params"]["prompt"], "login");
    assert_eq!(last["params"]["acr_values"], "idporten-loa-high");
    assert_eq!(last["had_session"], true, "the provider had a session");
    assert!(
        last["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "login_prompt"),
        "re-authentication because of prompt=login: {last}"
    );

    let second = step_up.assert_logged_in();
    assert_ne!(second, first, "a new session id at the step-up");
    assert!(
        portal.session(&first).await.is_none(),
        "the old session is gone"
    );
    let session = portal.session(&second).await.unwrap();
    assert_eq!(session.loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
    assert!(portal.log_text().contains("stepped_up=true"));
}

#[tokio::test]
async fn provider_rp_initiated_logout_ends_at_the_portal() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    let id_token = portal.id_token_of(&portal.session(&cookie).await.unwrap());

    let logout = browser
        .post_form(&portal.url("/auth/logout"), &[], Some(&portal.base))
        .await;
    assert_eq!(logout.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        browser.cookie(SESSION_COOKIE),
        None,
        "the cookie is cleared"
    );
    assert!(
        portal.session(&cookie).await.is_none(),
        "ended here at once"
    );
    let end_session = Url::parse(location(&logout)).unwrap();
    assert!(
        end_session
            .as_str()
            .starts_with(&format!("{}/session/end?", portal.idp.issuer)),
        "{end_session}"
    );
    // The hint is the provider's own token, opened again from its sealed copy.
    assert_eq!(
        query_value(&end_session, "id_token_hint").unwrap(),
        id_token
    );
    assert_eq!(
        query_value(&end_session, "post_logout_redirect_uri").unwrap(),
        portal.url("/logged-out")
    );
    let state = query_value(&end_session, "state").expect("a state");

    // oidc-provider asks the person to confirm; say yes.
    let confirm_page = browser.get(end_session.as_str()).await;
    assert_eq!(confirm_page.status(), StatusCode::OK);
    let (action, xsrf) = logout_form(&confirm_page.text().await.unwrap());
    let confirmed = browser
        .post_form(&action, &[("xsrf", &xsrf), ("logout", "yes")], None)
        .await;
    assert!(
        confirmed.status().is_redirection(),
        "{}",
        confirmed.status()
    );
    let back = Url::parse(location(&confirmed)).unwrap();
    assert_eq!(back.path(), "/logged-out");
    assert!(back.as_str().starts_with(&portal.base));
    assert_eq!(query_value(&back, "state").unwrap(), state);
    let logged_out = browser.get(back.as_str()).await;
    assert_eq!(logged_out.status(), StatusCode::OK);

    // The provider also told the portal over the back channel, and the portal accepted it.
    let sent = portal.idp.test_data("backchannel").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["status"], 200, "{sent:?}");
}

#[tokio::test]
async fn provider_back_channel_logout_ends_the_session_once() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, None, Some("person:substantial"))
        .await
        .assert_logged_in();
    let sid = portal.session(&cookie).await.unwrap().sid.unwrap();

    // The person logs out at the provider (another tab, another service): the provider's own
    // end-session page, confirmed. It then POSTs a logout token to the portal.
    let end_session = format!("{}/session/end?client_id={CLIENT_ID}", portal.idp.issuer);
    let page = browser.get(&end_session).await;
    assert_eq!(page.status(), StatusCode::OK);
    let (action, xsrf) = logout_form(&page.text().await.unwrap());
    let confirmed = browser
        .post_form(&action, &[("xsrf", &xsrf), ("logout", "yes")], None)
        .await;
    assert!(
        confirmed.status().is_redirection(),
        "{}",
        confirmed.status()
    );

    let sent = portal.idp.test_data("backchannel").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0]["url"], portal.url("/auth/backchannel-logout"));
    assert_eq!(sent[0]["status"], 200, "the portal accepted it: {sent:?}");
    let token = sent[0]["logout_token"].as_str().unwrap().to_owned();
    assert_eq!(jwt_claims(&token)["sid"], sid);

    assert!(
        portal.session(&cookie).await.is_none(),
        "the session is gone"
    );
    assert!(
        !portal
            .front_page(&browser)
            .await
            .contains(&Profile::Idporten.person().full_name()),
        "no longer logged in"
    );

    let post_token = |token: String| {
        let client = Client::new();
        let url = portal.url("/auth/backchannel-logout");
        async move {
            client
                .post(url)
                .form(&[("logout_token", token)])
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    // A tampered token (a changed signature) is refused, and does not use up the jti.
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(post_token(tampered).await, StatusCode::BAD_REQUEST);
    // The same token again: a replay.
    assert_eq!(post_token(token).await, StatusCode::BAD_REQUEST);
    let log = portal.log_text();
    assert!(log.contains("logout token refused"), "{log}");
    assert!(log.contains("logout token replayed"), "{log}");
}

#[tokio::test]
async fn provider_answering_a_lower_level_than_asked_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    // High asked, substantial answered.
    let browser = Browser::new();
    let callback = portal
        .login(&browser, Some("high"), Some("person:substantial"))
        .await;
    assert_eq!(
        query_value(&callback.authorize, "acr_values").unwrap(),
        "idporten-loa-high"
    );
    callback.assert_refused("level");
    assert!(!portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
    // Substantial asked, low answered.
    let browser = Browser::new();
    portal
        .login(&browser, None, Some("person:low"))
        .await
        .assert_refused("level");
}

#[tokio::test]
async fn provider_callback_without_its_iss_is_refused() {
    // oidc-provider announces RFC 9207, so an authorization response without `iss` (a mix-up
    // attempt that strips it) must be refused; the code is then never exchanged.
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    let start = browser
        .get(&portal.url(&format!("/auth/login/{PROVIDER_ID}")))
        .await;
    let mut authorize = Url::parse(location(&start)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "person:substantial");
    let callback_prefix = portal.url("/auth/callback?");
    let mut callback_url = browser
        .follow(authorize.as_str(), |url| {
            url.as_str().starts_with(&callback_prefix)
        })
        .await;
    let kept: Vec<(String, String)> = callback_url
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(
        kept.len() < callback_url.query_pairs().count(),
        "iss was sent"
    );
    callback_url.query_pairs_mut().clear().extend_pairs(kept);
    let response = browser.get(callback_url.as_str()).await;
    assert!(crate::common::is_failure_page(
        location(&response),
        "failed"
    ));
    assert_eq!(new_session_cookie(&response), None);
    assert!(portal.log_text().contains("iss parameter"));
}

/// Login CSRF: an attacker starts a login, authenticates as themself and hands the callback URL
/// (their own code and state) to the victim's browser. The pending login is bound to the browser
/// that started it (a cookie scoped to the callback), so the victim's browser is refused.
#[tokio::test]
async fn provider_callback_in_another_browser_is_refused() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let attacker = Browser::new();
    let start = attacker
        .get(&portal.url(&format!("/auth/login/{PROVIDER_ID}")))
        .await;
    let mut authorize = Url::parse(location(&start)).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("login_hint", "person:substantial");
    let callback_prefix = portal.url("/auth/callback?");
    let callback_url = attacker
        .follow(authorize.as_str(), |url| {
            url.as_str().starts_with(&callback_prefix)
        })
        .await;
    let victim = Browser::new();
    let response = victim.get(callback_url.as_str()).await;
    assert_eq!(
        new_session_cookie(&response),
        None,
        "the victim's browser must not be logged in as the attacker"
    );
    assert!(location(&response).starts_with("/login/failed?reason="));
}

#[tokio::test]
async fn provider_cancelled_login_is_refused_calmly() {
    let portal = Portal::start(Idp::Provider, Profile::Idporten).await;
    let browser = Browser::new();
    portal
        .login(&browser, None, Some("cancel"))
        .await
        .assert_refused("cancelled");
}

// ---------------------------------------------------------------------------------------------
// B. oauth2-mock-server: validly signed but wrong, and hand-made bad tokens

/// A login through mock.mjs with `scenario`, the portal asking for `loa`.
async fn mock_login(scenario: &str, loa: Option<&str>) -> (Portal, Browser, Callback) {
    mock_login_as(Profile::Idporten, scenario, loa).await
}

/// `scenario` is refused with `reason`, and the portal's log says why (`because`).
async fn mock_refuses(scenario: &str, loa: Option<&str>, reason: &str, because: &str) {
    mock_refuses_as(Profile::Idporten, scenario, loa, reason, because).await;
}

// The attack cases the staff login runs too (`staff_interop.rs`).
attack_cases!(Profile::Idporten);

#[tokio::test]
async fn mock_valid_token_is_accepted() {
    // The control: the mock's unchanged tokens log in, so every refusal below is the change's.
    let (portal, browser, callback) = mock_login("valid", Some("high")).await;
    let cookie = callback.assert_logged_in();
    assert_eq!(portal.session(&cookie).await.unwrap().loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::Idporten.person().full_name()));
}

/// A provider that answers a step-up (`prompt=login`) with the old authentication: its
/// `auth_time` is from before the login started. The first login did not ask for a new
/// authentication, so the same old `auth_time` is taken there.
#[tokio::test]
async fn mock_step_up_without_a_new_authentication_is_refused() {
    let portal = Portal::start(Idp::Mock("auth-time-old"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    step_up.assert_refused("failed");
    let session = portal.session(&first).await.expect("still logged in");
    assert_eq!(session.loa, Loa::Substantial, "not stepped up");
    let log = portal.log_text();
    assert!(
        log.contains("asked to authenticate again and did not"),
        "the refusal should say why:\n{log}"
    );
}

/// A provider that answers a step-up (`prompt=login`) with an id_token without `auth_time`:
/// nothing shows it authenticated the person again, so the session is not raised to `high`.
/// The first login asked for no new authentication, and the same token is taken there.
#[tokio::test]
async fn mock_step_up_without_auth_time_is_refused() {
    let portal = Portal::start(Idp::Mock("auth-time-missing"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&first).await.unwrap().loa, Loa::Substantial);

    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    step_up.assert_refused("failed");
    let session = portal.session(&first).await.expect("still logged in");
    assert_eq!(session.loa, Loa::Substantial, "not stepped up");
    let log = portal.log_text();
    assert!(
        log.contains("asked to authenticate again and did not say when"),
        "the refusal should say why:\n{log}"
    );
}

/// The control for the two refusals above: a step-up answered with a fresh `auth_time` is
/// taken.
#[tokio::test]
async fn mock_step_up_with_a_new_authentication_is_accepted() {
    let portal = Portal::start(Idp::Mock("valid"), Profile::Idporten).await;
    let browser = Browser::new();
    let first = portal
        .login(&browser, Some("substantial"), None)
        .await
        .assert_logged_in();
    let step_up = portal.login(&browser, Some("high"), None).await;
    assert_eq!(query_value(&step_up.authorize, "prompt").unwrap(), "login");
    let second = step_up.assert_logged_in();
    assert_ne!(second, first, "a new session id at the step-up");
    assert_eq!(portal.session(&second).await.unwrap().loa, Loa::High);
}

#[tokio::test]
async fn mock_lower_acr_than_asked_is_refused() {
    mock_refuses(
        "acr-substantial",
        Some("high"),
        "level",
        "level of assurance",
    )
    .await;
}

#[tokio::test]
async fn mock_low_or_missing_acr_is_refused() {
    mock_refuses("acr-low", None, "level", "level of assurance").await;
    mock_refuses("acr-missing", None, "level", "level of assurance").await;
}

#[tokio::test]
async fn mock_missing_national_id_is_refused() {
    mock_refuses(
        "no-national-id",
        None,
        "no_national_id",
        "no usable national identity number",
    )
    .await;
}

// ---------------------------------------------------------------------------------------------
// C. A MitID broker

#[tokio::test]
async fn provider_as_mitid_broker_logs_in_with_cpr_and_nsis_level() {
    let portal = Portal::start(Idp::Provider, Profile::MitidBroker).await;
    let browser = Browser::new();
    let callback = portal.login(&browser, None, Some("person")).await;
    assert_eq!(
        query_value(&callback.authorize, "acr_values").unwrap(),
        NSIS_SUBSTANTIAL
    );
    assert!(query_value(&callback.authorize, "scope")
        .unwrap()
        .split(' ')
        .any(|s| s == "ssn"));
    let cookie = callback.assert_logged_in();
    let session = portal.session(&cookie).await.unwrap();
    assert_eq!(session.loa, Loa::Substantial);
    let claims = jwt_claims(&portal.id_token_of(&session));
    let person = Profile::MitidBroker.person();
    assert_eq!(claims["dk.cpr"], person.national_id.expose());
    assert_eq!(claims["loa"], NSIS_SUBSTANTIAL);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&person.full_name()));
    portal.log_text();
}

#[tokio::test]
async fn mock_as_mitid_broker_logs_in() {
    let portal = Portal::start(Idp::Mock("valid"), Profile::MitidBroker).await;
    let browser = Browser::new();
    let cookie = portal
        .login(&browser, Some("high"), None)
        .await
        .assert_logged_in();
    assert_eq!(portal.session(&cookie).await.unwrap().loa, Loa::High);
    assert!(portal
        .front_page(&browser)
        .await
        .contains(&Profile::MitidBroker.person().full_name()));
}
