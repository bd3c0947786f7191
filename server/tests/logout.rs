//! Logout end to end, in-process (as `login.rs`: a real server with the built-in test eID over
//! HTTP, a real SQLite database, a client that keeps cookies as a browser does): here and at
//! the provider, without a session, back-channel logout tokens (bad ones refused, claims
//! checked, a good one honoured, junk never making the portal fetch keys each time) and
//! front-channel logout by issuer and `sid`; and logins across the provider's key rollover.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use borgerportal::{access::Loa, audit::AuditKind, session::SessionToken};
use reqwest::{header, StatusCode};
use serde_json::{json, Value};
use time::OffsetDateTime;

mod common;
use common::*;

/// ID-porten rolls its signing keys over; the portal read the old ones at discovery. A login
/// signed with the new key must still work (the keys are read again), and logins signed with a
/// key the provider never published must still be refused.
#[tokio::test]
async fn logins_go_on_working_after_the_provider_rolls_its_keys_over() {
    let server = start().await;
    let first = server.login(&Browser::new(), INGRID, "substantial").await;
    let kid_before = published_kid(&server).await;

    let rollover = Browser::new()
        .post(&server.url("/test-eid/rotate-key"), &[], &[])
        .await;
    assert_eq!(rollover.status(), StatusCode::NO_CONTENT);
    assert_ne!(
        published_kid(&server).await,
        kid_before,
        "a new key is published"
    );

    let browser = Browser::new();
    let second = server.login(&browser, INGRID, "substantial").await;
    assert_ne!(second, first);
    let session = server
        .session(&second)
        .await
        .expect("a session after the rollover");
    assert_eq!(session.loa, Loa::Substantial);
    let page = server.page(&browser, "/activity").await;
    assert!(page.contains("Ingrid"), "{page}");
}

#[tokio::test]
async fn logout_ends_the_session_here_and_at_the_provider() {
    let server = start().await;
    let browser = Browser::new();
    let value = server.login(&browser, INGRID, "substantial").await;
    assert!(server.session(&value).await.is_some());

    let response = browser
        .post(
            &server.url("/auth/logout"),
            &[],
            &[("origin", server.base.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The cookie is cleared...
    let cleared = set_cookie(&response, SESSION_COOKIE).expect("the cookie is cleared");
    assert_eq!(cookie_value(&cleared), "");
    assert!(
        attributes(&cleared).iter().any(|a| a == "Max-Age=0"),
        "{cleared}"
    );
    assert!(
        attributes(&cleared).iter().any(|a| a == "Path=/"),
        "{cleared}"
    );
    assert_eq!(browser.cookie(SESSION_COOKIE), None);
    // ...the session is gone from the database, so the old cookie is worth nothing...
    assert!(server.session(&value).await.is_none());
    let front = server.page(&Browser::with_session(&value), "/").await;
    assert!(
        !front.contains(INGRID_NAME),
        "anonymous with the old cookie"
    );
    // ...and the browser goes on to the provider's end-session endpoint, and back.
    let end_session = location(&response);
    assert!(
        end_session.starts_with(&format!("{}/end-session?", server.issuer())),
        "{end_session}"
    );
    assert!(param(&end_session, "id_token_hint").is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(
        param(&end_session, "post_logout_redirect_uri"),
        Some(format!("{}/logged-out", server.base))
    );
    let state = param(&end_session, "state").expect("a state");
    let back = browser.get(&end_session).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let logged_out = location(&back);
    assert_eq!(
        logged_out,
        format!("{}/logged-out?state={state}", server.base)
    );
    let page = server.page(&browser, &logged_out).await;
    assert!(page.contains("Du er logget ut"), "{page}");

    assert_eq!(
        server.event_kinds(INGRID).await,
        [AuditKind::LoggedOut, AuditKind::LoginSucceeded]
    );
    assert_eq!(server.drain_sessions().await, 0);
}

#[tokio::test]
async fn logout_without_a_session_just_clears_the_cookie() {
    let server = start().await;
    let browser = Browser::with_session(&SessionToken::generate().as_cookie_value());
    let response = browser.post(&server.url("/auth/logout"), &[], &[]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/logged-out");
    let cleared = set_cookie(&response, SESSION_COOKIE).unwrap();
    assert_eq!(cookie_value(&cleared), "");
}

// ---------------------------------------------------------------------------------------------
// Back-channel logout
// ---------------------------------------------------------------------------------------------

/// Logout-token claims for `sid`, as the test eID would send them.
fn logout_claims(server: &TestServer, sid: &str) -> Value {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    json!({
        "iss": server.issuer(),
        "aud": server::test_eid::CLIENT_ID,
        "iat": now,
        "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
        "sid": sid,
        "events": { LOGOUT_EVENT: {} },
    })
}

fn sign_es256(pkcs8: &[u8], kid: Option<&str>, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_ec_der(pkcs8);
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

fn fresh_p256_key() -> Vec<u8> {
    use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    let rng = ring::rand::SystemRandom::new();
    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .unwrap()
        .as_ref()
        .to_vec()
}

/// The `kid` the test eID publishes.
async fn published_kid(server: &TestServer) -> String {
    let jwks: Value = serde_json::from_str(
        &server
            .get(&Browser::new(), "/test-eid/idporten/jwks")
            .await
            .body,
    )
    .unwrap();
    jwks["keys"][0]["kid"].as_str().unwrap().to_owned()
}

/// The test eID's own signing key (PKCS#8), from the data directory.
fn test_eid_key(server: &TestServer) -> Vec<u8> {
    std::fs::read(server.data_dir.join("test-eid-signing-key.p8")).unwrap()
}

#[tokio::test]
async fn backchannel_logout_refuses_bad_tokens_and_honours_a_good_one() {
    let server = start().await;
    let browser = Browser::new();
    let value = server.login(&browser, INGRID, "substantial").await;
    let sid = server.session(&value).await.unwrap().sid.unwrap();
    let kid = published_kid(&server).await;

    // Not a JWT at all.
    for malformed in ["", "not-a-jwt", "a.b.c", "eyJhbGciOiJFUzI1NiJ9.e30."] {
        assert_eq!(
            server.backchannel(malformed).await,
            StatusCode::BAD_REQUEST,
            "{malformed:?}"
        );
    }
    // Well-formed, naming the test eID, but signed by a key it never published: under the
    // published kid, under another kid, and with none.
    let stranger = fresh_p256_key();
    for kid in [Some(kid.as_str()), Some("someone-elses-key"), None] {
        let token = sign_es256(&stranger, kid, &logout_claims(&server, &sid));
        assert_eq!(
            server.backchannel(&token).await,
            StatusCode::BAD_REQUEST,
            "{kid:?}"
        );
    }
    // HMAC keyed with public knowledge (the algorithm confusion attack).
    let hmac = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &logout_claims(&server, &sid),
        &jsonwebtoken::EncodingKey::from_secret(kid.as_bytes()),
    )
    .unwrap();
    assert_eq!(server.backchannel(&hmac).await, StatusCode::BAD_REQUEST);
    assert!(server.session(&value).await.is_some(), "still logged in");
    let front = server.page(&browser, "/").await;
    assert!(front.contains(INGRID_NAME));

    // The control: the same claims signed with the test eID's own key end the session, once.
    let token = sign_es256(
        &test_eid_key(&server),
        Some(&kid),
        &logout_claims(&server, &sid),
    );
    assert_eq!(server.backchannel(&token).await, StatusCode::OK);
    assert!(
        server.session(&value).await.is_none(),
        "ended by the provider"
    );
    assert_eq!(
        server.event_kinds(INGRID).await[0],
        AuditKind::LoggedOutByProvider,
        "the citizen sees that the eID service logged them out"
    );
    assert_eq!(
        server.backchannel(&token).await,
        StatusCode::BAD_REQUEST,
        "a replayed logout token"
    );
}

#[tokio::test]
async fn backchannel_logout_checks_the_claims_of_a_well_signed_token() {
    let server = start().await;
    let browser = Browser::new();
    let value = server.login(&browser, INGRID, "substantial").await;
    let sid = server.session(&value).await.unwrap().sid.unwrap();
    let kid = published_kid(&server).await;
    let key = test_eid_key(&server);
    let now = OffsetDateTime::now_utc().unix_timestamp();
    type Mutation = Box<dyn Fn(&mut Value)>;
    let mutations: [(&str, Mutation); 8] = [
        (
            "another audience",
            Box::new(|c| c["aud"] = json!("another")),
        ),
        (
            "another issuer",
            Box::new(|c| c["iss"] = json!("https://evil.example")),
        ),
        ("no logout event", Box::new(|c| c["events"] = json!({}))),
        ("a nonce", Box::new(|c| c["nonce"] = json!("n"))),
        ("no jti", Box::new(|c| c["jti"] = Value::Null)),
        ("neither sid nor sub", Box::new(|c| c["sid"] = Value::Null)),
        ("stale", Box::new(move |c| c["iat"] = json!(now - 3600))),
        ("future", Box::new(move |c| c["iat"] = json!(now + 3600))),
    ];
    for (what, mutate) in mutations {
        let mut claims = logout_claims(&server, &sid);
        mutate(&mut claims);
        let token = sign_es256(&key, Some(&kid), &claims);
        assert_eq!(
            server.backchannel(&token).await,
            StatusCode::BAD_REQUEST,
            "{what}"
        );
    }
    assert!(server.session(&value).await.is_some(), "still logged in");
}

// ---------------------------------------------------------------------------------------------
// Front-channel logout
// ---------------------------------------------------------------------------------------------

fn frontchannel(iss: Option<&str>, sid: Option<&str>) -> String {
    let mut url = url::Url::parse("http://x/auth/frontchannel-logout").unwrap();
    {
        let mut query = url.query_pairs_mut();
        if let Some(iss) = iss {
            query.append_pair("iss", iss);
        }
        if let Some(sid) = sid {
            query.append_pair("sid", sid);
        }
    }
    format!("{}?{}", url.path(), url.query().unwrap_or(""))
}

#[tokio::test]
async fn frontchannel_logout_ends_the_session_named_by_issuer_and_sid() {
    let server = start().await;
    let browser = Browser::new();
    let value = server.login(&browser, INGRID, "substantial").await;
    let sid = server.session(&value).await.unwrap().sid.unwrap();
    let issuer = server.issuer();
    // Loaded in an iframe on the provider's page: a third-party request, no session cookie.
    let provider_page = Browser::new();

    // An issuer we do not know, or none: refused, nothing ended.
    for path in [
        frontchannel(Some("https://evil.example/test-eid/idporten"), Some(&sid)),
        frontchannel(Some(&format!("{issuer}/")), Some(&sid)),
        frontchannel(None, Some(&sid)),
        frontchannel(Some(&issuer), None),
    ] {
        let response = server.get(&provider_page, &path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
    }
    // A known issuer, but not the one this session came from; and ours with another sid.
    let mitid = format!("{}/test-eid/mitid", server.base);
    for path in [
        frontchannel(Some(&mitid), Some(&sid)),
        frontchannel(Some(&issuer), Some("some-other-sid")),
    ] {
        let response = server.get(&provider_page, &path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert!(server.session(&value).await.is_some(), "still logged in");

    let response = server
        .get(&provider_page, &frontchannel(Some(&issuer), Some(&sid)))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    assert!(server.session(&value).await.is_none(), "ended");
    assert_eq!(
        server.event_kinds(INGRID).await,
        [AuditKind::LoggedOutByProvider, AuditKind::LoginSucceeded]
    );
    let front = server.page(&browser, "/").await;
    assert!(!front.contains(INGRID_NAME));
}

/// A stand-in provider that publishes discovery and an empty key set, and counts how often
/// its keys are fetched.
async fn counting_provider() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let fetches = std::sync::Arc::new(AtomicUsize::new(0));
    let discovery = json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
        "jwks_uri": format!("{base}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    });
    let counter = fetches.clone();
    let app = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || async move { axum::Json(discovery) }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || async move {
                counter.fetch_add(1, Ordering::SeqCst);
                axum::Json(json!({ "keys": [] }))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, fetches)
}

#[tokio::test]
async fn junk_logout_tokens_do_not_make_the_portal_fetch_the_provider_s_keys_each_time() {
    let (issuer, fetches) = counting_provider().await;
    let server = start_with(&format!(
        "[[oidc.providers]]\nid = \"counted\"\nname = \"Counted\"\nissuer = \"{issuer}\"\n\
         client_id = \"portal\"\nclient_auth = {{ method = \"client_secret\", secret = \"s\" }}\n\
         profile = \"idporten\"\n"
    ))
    .await;
    let stranger = fresh_p256_key();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    for n in 0..50 {
        let claims = json!({
            "iss": issuer, "aud": "portal", "iat": now, "jti": format!("junk-{n}"), "sid": "s",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
        });
        let token = sign_es256(&stranger, Some(&format!("kid-{n}")), &claims);
        assert_eq!(server.backchannel(&token).await, StatusCode::BAD_REQUEST);
    }
    let fetched = fetches.load(std::sync::atomic::Ordering::SeqCst);
    // Discovery's own fetch and the first token's; no more for 50 unknown keys within the
    // refetch interval.
    assert!(fetched <= 2, "the keys were fetched {fetched} times");
}
