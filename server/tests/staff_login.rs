//! Borgerservice staff log in end to end, in-process, through the built-in TEST staff provider
//! (a real OpenID Connect provider reached over HTTP, like a municipality's): the staff cookie
//! and session, the desk page, each refusal (no role, no second factor, an unknown
//! municipality, a replayed or foreign callback), logout here and at the provider, the idle
//! timeout, the staff log, and that staff and citizen sessions never mix, also in one browser.
//! The relying-party attack cases against a foreign provider are in `staff_interop.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use borgerportal::staff::{MunicipalityId, StaffAuditKind, StaffRole, StaffToken};
use reqwest::StatusCode;
use sqlx::Connection as _;
use time::{Duration, OffsetDateTime};

const STAFF_IDLE: Duration = Duration::minutes(15);

async fn staff_log(server: &TestServer, municipality: &str) -> Vec<StaffAuditKind> {
    server
        .db
        .list_staff_events(&MunicipalityId::parse(municipality).unwrap(), 50)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

async fn logged_in_staff(server: &TestServer, municipality: &str, hint: &str) -> Browser {
    let browser = Browser::new();
    let done = server.staff_login(&browser, municipality, hint).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/staff");
    browser
}

#[tokio::test]
async fn a_caseworker_logs_in_sees_the_desk_and_logs_out() {
    let server = start().await;
    let browser = Browser::new();
    let desk = server.page(&browser, "/staff").await;
    assert!(desk.contains("/staff/login/test-oslo") && desk.contains("/staff/login/test-aarhus"));
    assert!(desk.contains("Oslo kommune (TEST)"));

    let authorize = server.start_staff_login(&browser, TEST_OSLO).await;
    // The relying party's request: code flow, PKCE S256, state, nonce, and a fresh login
    // (a shared desk PC).
    assert_eq!(param(&authorize, "response_type").as_deref(), Some("code"));
    assert_eq!(
        param(&authorize, "code_challenge_method").as_deref(),
        Some("S256")
    );
    assert_eq!(param(&authorize, "prompt").as_deref(), Some("login"));
    assert!(param(&authorize, "nonce").is_some_and(|n| n.len() >= 16));
    assert_eq!(
        param(&authorize, "redirect_uri"),
        Some(format!("{}/staff/callback", server.base))
    );
    assert_eq!(
        browser.cookie(STAFF_LOGIN_COOKIE),
        param(&authorize, "state"),
        "bound to this browser"
    );
    let back = browser.get(&format!("{authorize}&login_hint=kari")).await;
    let done = browser.get(&location(&back)).await;
    assert_eq!(location(&done), "/staff");
    let set = set_cookie(&done, STAFF_COOKIE).expect("a staff cookie");
    for wanted in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(attributes(&set).iter().any(|a| a == wanted), "{set}");
    }
    assert!(
        set_cookie(&done, SESSION_COOKIE).is_none(),
        "never a citizen's session"
    );
    assert_eq!(browser.cookie(STAFF_LOGIN_COOKIE), None, "binding cleared");
    let token = StaffToken::from_cookie_value(&cookie_value(&set)).unwrap();
    let session = server
        .db
        .find_staff_session(&token, OffsetDateTime::now_utc(), STAFF_IDLE)
        .await
        .unwrap()
        .expect("a staff session");
    assert_eq!(session.member.role, StaffRole::Caseworker);
    assert_eq!(session.member.municipality.as_str(), TEST_OSLO);

    let desk = server.get(&browser, "/staff").await;
    assert_eq!(desk.status(), StatusCode::OK);
    assert_eq!(
        desk.headers().get("cache-control").unwrap(),
        "no-store",
        "the desk is never cached"
    );
    assert!(desk.body.contains("Kari Saksbehandler"), "{}", desk.body);
    assert!(desk.body.contains("Saksbehandler") && desk.body.contains("Oslo kommune (TEST)"));
    assert!(desk.body.contains("action=\"/staff/logout\""));
    assert!(!desk.body.contains("/auth/logout"), "no citizen's menu");
    assert_eq!(staff_log(&server, TEST_OSLO).await, [StaffAuditKind::Login]);

    // Logout: here, then at the provider, which comes back to the desk.
    let out = server.form(&browser, "/staff/logout", &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let at_provider = location(&out);
    assert!(
        at_provider.starts_with(&format!(
            "{}/test-eid-staff/test-oslo/end-session?",
            server.base
        )),
        "{at_provider}"
    );
    assert!(param(&at_provider, "id_token_hint").is_some());
    assert_eq!(browser.cookie(STAFF_COOKIE), None, "cookie cleared");
    let back = browser.get(&at_provider).await;
    assert_eq!(location(&back), format!("{}/staff", server.base));
    assert!(server
        .db
        .find_staff_session(&token, OffsetDateTime::now_utc(), STAFF_IDLE)
        .await
        .unwrap()
        .is_none());
    let desk = server.page(&browser, "/staff").await;
    assert!(!desk.contains("Kari Saksbehandler"));
    assert_eq!(
        staff_log(&server, TEST_OSLO).await,
        [StaffAuditKind::Logout, StaffAuditKind::Login]
    );
}

#[tokio::test]
async fn a_supervisor_is_a_supervisor_and_each_municipality_has_its_own() {
    let server = start().await;
    let per = logged_in_staff(&server, TEST_OSLO, "per").await;
    let desk = server.page(&per, "/staff").await;
    assert!(desk.contains("Per Leder") && desk.contains("Leder"));
    let lars = logged_in_staff(&server, TEST_AARHUS, "lars").await;
    let desk = server.page(&lars, "/staff").await;
    assert!(desk.contains("Lars Leder") && desk.contains("Aarhus Kommune (TEST)"));
    // Oslo's staff are not Aarhus's: each provider knows only its own.
    let browser = Browser::new();
    let authorize = server.start_staff_login(&browser, TEST_AARHUS).await;
    let refused = browser.get(&format!("{authorize}&login_hint=per")).await;
    assert_eq!(
        refused.status(),
        StatusCode::OK,
        "the provider's form, not a login"
    );
    assert!(browser.cookie(STAFF_COOKIE).is_none());
}

#[tokio::test]
async fn no_staff_role_and_no_second_factor_are_refused_logged_and_explained() {
    let server = start().await;
    let browser = Browser::new();
    let refused = server.staff_login(&browser, TEST_OSLO, "ola").await;
    assert_eq!(location(&refused), "/staff?failed=no_role");
    assert!(set_cookie(&refused, STAFF_COOKIE).is_none());
    let page = server.page(&browser, "/staff?failed=no_role").await;
    assert!(page.contains("role=\"alert\""), "{page}");
    assert!(!page.contains("Ola Uten Rolle"));

    let refused = server.staff_login(&browser, TEST_AARHUS, "jens").await;
    assert_eq!(location(&refused), "/staff?failed=level");
    assert!(set_cookie(&refused, STAFF_COOKIE).is_none());
    assert!(browser.cookie(STAFF_COOKIE).is_none());

    let oslo = server
        .db
        .list_staff_events(&MunicipalityId::parse(TEST_OSLO).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(oslo[0].kind, StaffAuditKind::LoginRefused);
    assert_eq!(oslo[0].reason.as_deref(), Some("no_role"));
    let aarhus = server
        .db
        .list_staff_events(&MunicipalityId::parse(TEST_AARHUS).unwrap(), 10)
        .await
        .unwrap();
    assert_eq!(aarhus[0].reason.as_deref(), Some("level"));
    // No one was registered as a citizen by any of it.
    assert!(server.person(INGRID).await.is_none());
}

#[tokio::test]
async fn an_unknown_municipality_a_replay_and_another_browser_s_callback_are_refused() {
    let server = start().await;
    let browser = Browser::new();
    let unknown = server.get(&browser, "/staff/login/nowhere").await;
    assert_eq!(location(&unknown), "/staff?failed=unknown_municipality");

    // Another browser finishing this browser's login (login CSRF): refused.
    let authorize = server.start_staff_login(&browser, TEST_OSLO).await;
    let back = browser.get(&format!("{authorize}&login_hint=kari")).await;
    let callback = location(&back);
    let other = Browser::new();
    let refused = other.get(&callback).await;
    assert_eq!(location(&refused), "/staff?failed=expired");
    assert!(set_cookie(&refused, STAFF_COOKIE).is_none());

    // The right browser, once; the same callback again: refused.
    let done = browser.get(&callback).await;
    assert_eq!(location(&done), "/staff");
    let first = browser.cookie(STAFF_COOKIE).unwrap();
    browser.set(
        STAFF_LOGIN_COOKIE,
        &param(&callback, "state").unwrap(),
        "/staff/callback",
    );
    let replay = browser.get(&callback).await;
    assert_eq!(location(&replay), "/staff?failed=expired");
    assert_eq!(browser.cookie(STAFF_COOKIE), Some(first), "still logged in");

    // A citizen's login state is no staff login state.
    let citizen = Browser::new();
    let citizen_authorize = server.start_login(&citizen, "loa=substantial").await;
    let state = param(&citizen_authorize, "state").unwrap();
    citizen.set(STAFF_LOGIN_COOKIE, &state, "/staff/callback");
    let crossed = citizen
        .get(&format!(
            "{}/staff/callback?state={state}&code=x",
            server.base
        ))
        .await;
    assert_eq!(location(&crossed), "/staff?failed=expired");
}

#[tokio::test]
async fn a_staff_session_and_a_citizen_session_never_mix_also_in_one_browser() {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    let staff = logged_in_staff(&server, TEST_OSLO, "kari").await;
    // A staff cookie opens no citizen page.
    let post = server.get(&staff, "/post").await;
    assert!(
        post.body.contains("/login?return_to="),
        "asked to log in as a citizen"
    );
    let front = server.page(&staff, "/").await;
    assert!(!front.contains("Kari Saksbehandler"));
    let form = server
        .form(&staff, "/contact/email", &[("email", "x@example.org")])
        .await;
    assert!(
        location(&form).starts_with("/login"),
        "a citizen's form: log in first"
    );
    // The staff cookie's value under the citizens' name is no session either.
    let planted = Browser::with_session(&staff.cookie(STAFF_COOKIE).unwrap());
    assert!(server
        .get(&planted, "/post")
        .await
        .body
        .contains("/login?return_to="));

    // A citizen's cookie opens no staff page.
    let citizen = Browser::new();
    server.login(&citizen, INGRID, "substantial").await;
    let desk = server.page(&citizen, "/staff").await;
    assert!(
        desk.contains("/staff/login/test-oslo"),
        "the signed-out desk"
    );
    assert!(!desk.contains(INGRID_NAME), "no citizen on the staff desk");
    let planted = Browser::new();
    planted.set(STAFF_COOKIE, &citizen.cookie(SESSION_COOKIE).unwrap(), "/");
    assert!(!server.page(&planted, "/staff").await.contains(INGRID_NAME));

    // One browser with both: each page sees only its own kind.
    server.login(&staff, INGRID, "substantial").await;
    let desk = server.page(&staff, "/staff").await;
    assert!(desk.contains("Kari Saksbehandler") && !desk.contains(INGRID_NAME));
    let front = server.page(&staff, "/").await;
    assert!(front.contains(INGRID_NAME) && !front.contains("Kari Saksbehandler"));
    // The citizen's logout leaves the staff session, and the staff logout the citizen's.
    server.form(&staff, "/staff/logout", &[]).await;
    assert!(server.page(&staff, "/").await.contains(INGRID_NAME));
    assert!(!server
        .page(&staff, "/staff")
        .await
        .contains("Kari Saksbehandler"));
    // Staff logins are in no citizen's activity log.
    let kinds = server.event_kinds(INGRID).await;
    assert!(kinds
        .iter()
        .all(|k| !format!("{k:?}").to_lowercase().contains("staff")));
}

#[tokio::test]
async fn a_staff_session_ends_after_fifteen_idle_minutes() {
    let server = start().await;
    let staff = logged_in_staff(&server, TEST_OSLO, "kari").await;
    assert!(server
        .page(&staff, "/staff")
        .await
        .contains("Kari Saksbehandler"));
    let t = OffsetDateTime::now_utc() - Duration::minutes(16);
    let url = format!("sqlite://{}", server.sqlite_path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    // As SQLite keeps instants: fixed-width RFC 3339 in UTC with microseconds.
    let stamp = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.000000Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    sqlx::query("UPDATE staff_sessions SET last_seen_at = ?1")
        .bind(&stamp)
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let desk = server.page(&staff, "/staff").await;
    assert!(!desk.contains("Kari Saksbehandler"), "logged out when idle");
    assert!(desk.contains("/staff/login/test-oslo"));
}
