//! The authority pages end to end, in-process: grant at `high` (and the step-up offered at
//! `substantial`), the one error for an unknown number and a wrong name, revoke, ask for
//! authority and approve or decline, one open request per pair, an expired delegation shown as
//! expired, and nobody acting on someone else's delegation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use borgerportal::access::{Actor, GrantAuthority, Loa, ManageAuthority, Policy};
use borgerportal::delegation::{DelegationEntry, DelegationRules, Scope, ScopeGrant, StoredState};
use borgerportal::person::Person;
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

/// Aksel Brekke (born 2001), another demo person at the Norwegian test eID.
const AKSEL: &str = "aksel";
const AKSEL_NUMBER: &str = "05890163469";
const AKSEL_NAME: &str = "Aksel Brekke";
const INGRID_NUMBER: &str = "17848512397";

/// A page's HTML without Leptos' text-node markers (`<!>`), as a reader sees the text.
async fn page(server: &TestServer, browser: &Browser, path: &str) -> String {
    server.page(browser, path).await.replace("<!>", "")
}

/// A server with the demo persons, and Ingrid logged in at `loa`.
async fn ingrid_at(loa: &str) -> (TestServer, Browser) {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    let browser = Browser::new();
    server.login(&browser, INGRID, loa).await;
    (server, browser)
}

fn in_years(years: i64) -> String {
    let date = (OffsetDateTime::now_utc() + Duration::days(365 * years)).date();
    format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

fn proof<C: borgerportal::access::Capability>(person: &Person) -> borgerportal::access::Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

async fn given(server: &TestServer, alias: &str) -> Vec<DelegationEntry> {
    let person = server.person(alias).await.unwrap();
    server
        .db
        .delegations_given(&proof::<ManageAuthority>(&person))
        .await
        .unwrap()
}

async fn grant_to_aksel(server: &TestServer, browser: &Browser) -> Reply {
    let ends_on = in_years(1);
    server
        .form(
            browser,
            "/authority/grant",
            &[
                ("national_id", AKSEL_NUMBER),
                ("name", "aksel  brekke"),
                ("scope", "post.read"),
                ("scope", "contact.manage"),
                ("ends_on", &ends_on),
            ],
        )
        .await
}

#[tokio::test]
async fn each_section_says_when_it_is_empty_and_the_menu_links_here() {
    let (server, browser) = ingrid_at("substantial").await;
    let html = page(&server, &browser, "/authority").await;
    assert!(html.contains("<h1>Fullmakter</h1>"), "{html}");
    for empty in [
        "Ingen forespørsler venter på svar fra deg.",
        "Du har ikke gitt noen fullmakt.",
        "Ingen har gitt deg fullmakt.",
    ] {
        assert!(html.contains(empty), "{empty} in {html}");
    }
    assert!(html.contains("href=\"/authority\""), "the account menu");
    assert!(html.contains("href=\"/authority/grant\""));
    assert!(html.contains("href=\"/authority/request\""));
}

#[tokio::test]
async fn a_visitor_is_asked_to_log_in() {
    let server = start().await;
    let html = page(&server, &Browser::new(), "/authority").await;
    assert!(html.contains("/login?return_to=/authority"), "{html}");
    let response = server
        .form(&Browser::new(), "/authority/grant", &[("name", "x")])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/login?"));
}

#[tokio::test]
async fn granting_at_substantial_offers_a_step_up_instead_of_the_form() {
    let (server, browser) = ingrid_at("substantial").await;
    let html = page(&server, &browser, "/authority/grant").await;
    assert!(html.contains("loa=high"), "{html}");
    assert!(!html.contains("name=\"national_id\""), "{html}");
    // Posting anyway is sent off to step up, and nothing is stored.
    let response = grant_to_aksel(&server, &browser).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&response).contains("loa=high"),
        "{}",
        location(&response)
    );
    assert!(given(&server, INGRID).await.is_empty());
    // Asking for authority needs no step-up.
    let html = page(&server, &browser, "/authority/request").await;
    assert!(html.contains("name=\"national_id\""), "{html}");
}

#[tokio::test]
async fn grant_at_high_is_listed_and_revoked_at_once() {
    let (server, browser) = ingrid_at("high").await;
    let html = page(&server, &browser, "/authority/grant").await;
    assert!(html.contains("<h1>Gi fullmakt</h1>"), "{html}");
    assert!(html.contains("for=\"national_id\""));
    assert!(html.contains("type=\"checkbox\""));

    let response = grant_to_aksel(&server, &browser).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
    assert_eq!(location(&response), "/authority?done=granted");
    let stored = given(&server, INGRID).await;
    assert_eq!(stored.len(), 1);
    let delegation = &stored[0].delegation;
    assert_eq!(delegation.scopes.len(), 2);

    let html = page(&server, &browser, "/authority?done=granted").await;
    assert!(html.contains("Fullmakten er gitt."), "{html}");
    assert!(html.contains(AKSEL_NAME), "{html}");
    assert!(!html.contains(AKSEL_NUMBER), "never the full national id");
    assert!(html.contains("Lese posten"), "{html}");
    assert!(html.contains("Gyldig"), "{html}");
    let revoke = format!("/authority/{}/revoke", delegation.id);
    assert!(html.contains(&revoke), "{html}");

    // Aksel sees it as authority he holds.
    let aksel = Browser::new();
    server.login(&aksel, AKSEL, "substantial").await;
    let held = page(&server, &aksel, "/authority").await;
    assert!(held.contains("Ingrid Solberg"), "{held}");

    // Revoking works at any level, and counts at once.
    let response = server.form(&browser, &revoke, &[]).await;
    assert_eq!(location(&response), "/authority?done=revoked");
    let stored = given(&server, INGRID).await;
    assert_eq!(stored[0].delegation.stored_state, StoredState::Revoked);
    let html = page(&server, &browser, "/authority").await;
    assert!(html.contains("Trukket tilbake"), "{html}");
    assert!(!html.contains(&revoke), "no second revoke button");
    // The activity log names both.
    let log = page(&server, &browser, "/activity").await;
    assert!(log.contains("Fullmakt gitt"), "{log}");
    assert!(log.contains("Fullmakt trukket tilbake"), "{log}");
}

#[tokio::test]
async fn an_unknown_number_and_a_wrong_name_get_the_same_error_and_store_nothing() {
    let (server, browser) = ingrid_at("high").await;
    let ends_on = in_years(1);
    // A valid (synthetic) number no one in the register has.
    let unknown = server
        .form(
            &browser,
            "/authority/grant",
            &[
                ("national_id", "15887010002"),
                ("name", "Nobody Here"),
                ("scope", "post.read"),
                ("ends_on", &ends_on),
            ],
        )
        .await;
    let wrong_name = server
        .form(
            &browser,
            "/authority/grant",
            &[
                ("national_id", AKSEL_NUMBER),
                ("name", "Aksel Someone"),
                ("scope", "post.read"),
                ("ends_on", &ends_on),
            ],
        )
        .await;
    let message = "Vi fant ingen person med dette fødselsnummeret og navnet.";
    for response in [&unknown, &wrong_name] {
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.body.contains(message), "{}", response.body);
        assert!(response
            .body
            .contains("aria-describedby=\"national_id-hint national_id-error\""));
    }
    assert!(given(&server, INGRID).await.is_empty());
    // The page says nothing about the person behind a number.
    assert!(!wrong_name.body.contains(AKSEL_NAME));
    let errors = |body: &str| body.split("field-error").count();
    assert_eq!(errors(&unknown.body), errors(&wrong_name.body));
}

#[tokio::test]
async fn refusals_of_the_rules_are_shown_on_the_form() {
    let (server, browser) = ingrid_at("high").await;
    let too_late = in_years(6);
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("national_id", INGRID_NUMBER),
                ("name", INGRID_NAME),
                ("scope", "post.read"),
                ("ends_on", &too_late),
            ],
            "høyst 5 år",
        ),
        (
            &[
                ("national_id", AKSEL_NUMBER),
                ("name", AKSEL_NAME),
                ("ends_on", "2030-01-01"),
            ],
            "Velg minst ett område.",
        ),
        (
            &[
                ("national_id", AKSEL_NUMBER),
                ("name", AKSEL_NAME),
                ("scope", "post.read"),
                ("ends_on", "2001-01-01"),
            ],
            "Sluttdatoen har allerede vært.",
        ),
    ];
    for (form, text) in cases {
        let response = server.form(&browser, "/authority/grant", form).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = response.body.replace("<!>", "");
        assert!(body.contains(text), "{text}: {body}");
    }
    let to_self = server
        .form(
            &browser,
            "/authority/grant",
            &[
                ("national_id", INGRID_NUMBER),
                ("name", INGRID_NAME),
                ("scope", "post.read"),
                ("ends_on", &in_years(1)),
            ],
        )
        .await;
    assert!(
        to_self
            .body
            .contains("Du kan ikke gi fullmakt til deg selv."),
        "{}",
        to_self.body
    );
    assert!(given(&server, INGRID).await.is_empty());
}

#[tokio::test]
async fn a_request_is_approved_or_declined_and_one_is_open_per_pair() {
    let (server, ingrid) = ingrid_at("high").await;
    let aksel = Browser::new();
    server.login(&aksel, AKSEL, "substantial").await;
    let ends_on = in_years(2);
    let ask = || async {
        server
            .form(
                &aksel,
                "/authority/request",
                &[
                    ("national_id", INGRID_NUMBER),
                    ("name", INGRID_NAME),
                    ("scope", "post.read"),
                    ("ends_on", ends_on.as_str()),
                ],
            )
            .await
    };
    let response = ask().await;
    assert_eq!(
        location(&response),
        "/authority?done=requested",
        "{}",
        response.body
    );
    let again = ask().await;
    assert_eq!(again.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        again
            .body
            // Aksel writes nynorsk: his pages are in nynorsk after login.
            .contains("Du har alt ein førespurnad som ventar"),
        "{}",
        again.body
    );

    // Ingrid sees it waiting, on the home page too.
    let home = page(&server, &ingrid, "/").await;
    assert!(
        home.contains("1 forespørsler om fullmakt venter på svar fra deg"),
        "{home}"
    );
    let html = page(&server, &ingrid, "/authority").await;
    assert!(html.contains("Forespørsel fra Aksel Brekke"), "{html}");
    let id = given(&server, INGRID).await[0].delegation.id;

    // Aksel cannot approve or decline it himself: it is not his to answer (refused, and
    // nothing changes).
    let stepped = Browser::new();
    server.login(&stepped, AKSEL, "high").await;
    let field = "ends_on.post.read";
    let response = server
        .form(
            &stepped,
            &format!("/authority/{id}/approve"),
            &[(field, ends_on.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let response = server
        .form(&stepped, &format!("/authority/{id}/decline"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        given(&server, INGRID).await[0].delegation.stored_state,
        StoredState::Requested
    );

    // Ingrid approves with her own end date.
    let chosen = in_years(1);
    let response = server
        .form(
            &ingrid,
            &format!("/authority/{id}/approve"),
            &[(field, chosen.as_str())],
        )
        .await;
    assert_eq!(
        location(&response),
        "/authority?done=approved",
        "{}",
        response.body
    );
    let delegation = &given(&server, INGRID).await[0].delegation;
    assert_eq!(delegation.stored_state, StoredState::Active);
    assert_eq!(delegation.scopes[0].scope, Scope::ReadPost);

    // A second request, declined.
    assert_eq!(location(&ask().await), "/authority?done=requested");
    let waiting = given(&server, INGRID).await;
    let second = waiting
        .iter()
        .find(|e| e.delegation.stored_state == StoredState::Requested)
        .unwrap()
        .delegation
        .id;
    let response = server
        .form(&ingrid, &format!("/authority/{second}/decline"), &[])
        .await;
    assert_eq!(location(&response), "/authority?done=declined");
    let html = page(&server, &ingrid, "/authority").await;
    assert!(
        html.contains("Ingen forespørsler venter på svar fra deg."),
        "{html}"
    );
    // Declining it again changes nothing and says why.
    let response = server
        .form(&ingrid, &format!("/authority/{second}/decline"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn an_expired_delegation_is_shown_as_expired() {
    let (server, browser) = ingrid_at("substantial").await;
    let ingrid = server.person(INGRID).await.unwrap();
    let aksel = server.person(AKSEL).await.unwrap();
    let then = OffsetDateTime::now_utc() - Duration::days(400);
    server
        .db
        .grant_delegation(
            &proof::<GrantAuthority>(&ingrid),
            aksel.id,
            &[ScopeGrant {
                scope: Scope::ReadPost,
                ends_on: (then + Duration::days(30)).date(),
            }],
            &DelegationRules::default(),
            then,
        )
        .await
        .unwrap();
    let html = page(&server, &browser, "/authority").await;
    assert!(html.contains("Utløpt"), "{html}");
    assert!(!html.contains("Gyldig"), "never shown as valid: {html}");
}

#[tokio::test]
async fn another_citizen_cannot_revoke_someone_elses_delegation() {
    let (server, ingrid) = ingrid_at("high").await;
    assert_eq!(
        location(&grant_to_aksel(&server, &ingrid).await),
        "/authority?done=granted"
    );
    let id = given(&server, INGRID).await[0].delegation.id;
    let anna = Browser::new();
    server.login(&anna, "anna", "high").await;
    let response = server
        .form(&anna, &format!("/authority/{id}/revoke"), &[])
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = server.form(&anna, "/authority/not-an-id/revoke", &[]).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        given(&server, INGRID).await[0].delegation.stored_state,
        StoredState::Active
    );
}

#[tokio::test]
async fn the_holder_gives_up_a_delegation_and_withdraws_a_request() {
    let (server, ingrid) = ingrid_at("high").await;
    assert_eq!(
        location(&grant_to_aksel(&server, &ingrid).await),
        "/authority?done=granted"
    );
    let id = given(&server, INGRID).await[0].delegation.id;
    let aksel = Browser::new();
    server.login(&aksel, AKSEL, "substantial").await;
    let held = page(&server, &aksel, "/authority").await;
    let give_up = format!("/authority/{id}/revoke");
    assert!(held.contains(&give_up), "{held}");
    assert!(held.contains("Gje frå deg fullmakta") || held.contains("Gi fra deg fullmakten"));

    // Giving it up works at any level, counts at once, and the giver sees it revoked.
    let response = server.form(&aksel, &give_up, &[]).await;
    assert_eq!(location(&response), "/authority?done=revoked");
    assert_eq!(
        given(&server, INGRID).await[0].delegation.stored_state,
        StoredState::Revoked
    );
    let held = page(&server, &aksel, "/authority").await;
    assert!(!held.contains(&give_up), "no second button: {held}");

    // A request he made is withdrawn the same way, and is then no longer waiting for Ingrid.
    let ends_on = in_years(1);
    let response = server
        .form(
            &aksel,
            "/authority/request",
            &[
                ("national_id", INGRID_NUMBER),
                ("name", INGRID_NAME),
                ("scope", "post.read"),
                ("ends_on", &ends_on),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
    let waiting = page(&server, &ingrid, "/authority").await;
    assert!(waiting.contains("Forespørsel fra"), "{waiting}");
    let request = given(&server, INGRID)
        .await
        .into_iter()
        .find(|entry| entry.delegation.stored_state == StoredState::Requested)
        .unwrap()
        .delegation
        .id;
    let held = page(&server, &aksel, "/authority").await;
    let withdraw = format!("/authority/{request}/revoke");
    assert!(held.contains(&withdraw), "{held}");
    let response = server.form(&aksel, &withdraw, &[]).await;
    assert_eq!(location(&response), "/authority?done=revoked");
    let waiting = page(&server, &ingrid, "/authority").await;
    assert!(!waiting.contains("Forespørsel fra"), "{waiting}");
}

#[tokio::test]
async fn the_giver_changes_and_extends_a_delegation_at_high_only() {
    let (server, ingrid) = ingrid_at("high").await;
    assert_eq!(
        location(&grant_to_aksel(&server, &ingrid).await),
        "/authority?done=granted"
    );
    let id = given(&server, INGRID).await[0].delegation.id;
    let change = format!("/authority/{id}/change");
    let overview = page(&server, &ingrid, "/authority").await;
    assert!(
        overview.contains(&format!("href=\"{change}\"")),
        "{overview}"
    );

    // The form as the delegation is: its scopes ticked, its end date filled in.
    let form = page(&server, &ingrid, &change).await;
    assert!(form.contains("<h1>Endre fullmakt</h1>"), "{form}");
    assert!(form.contains(AKSEL_NAME), "{form}");
    assert!(
        form.contains(&format!("value=\"{}\"", in_years(1))),
        "{form}"
    );
    let ticked = form.matches("checked").count();
    assert_eq!(ticked, 2, "{form}");

    // A refused change (no scope) is shown on the form and changes nothing.
    let later = in_years(2);
    let response = server
        .form(&ingrid, &change, &[("ends_on", later.as_str())])
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(given(&server, INGRID).await[0].delegation.scopes.len(), 2);

    // Extended, with one scope fewer.
    let response = server
        .form(
            &ingrid,
            &change,
            &[("scope", "post.read"), ("ends_on", later.as_str())],
        )
        .await;
    assert_eq!(location(&response), "/authority?done=changed");
    let stored = &given(&server, INGRID).await[0].delegation;
    assert_eq!(stored.scopes.len(), 1);
    assert_eq!(stored.scopes[0].scope, Scope::ReadPost);
    let ends_on = stored.scopes[0].ends_on;
    let ends_on = format!(
        "{:04}-{:02}-{:02}",
        ends_on.year(),
        u8::from(ends_on.month()),
        ends_on.day()
    );
    assert_eq!(ends_on, later);
    let html = page(&server, &ingrid, "/authority?done=changed").await;
    assert!(html.contains("Fullmakten er endret."), "{html}");

    // Someone else cannot change it, nor open its form.
    let anna = Browser::new();
    server.login(&anna, "anna", "high").await;
    let response = server
        .form(
            &anna,
            &change,
            &[("scope", "post.read_all"), ("ends_on", later.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = page(&server, &anna, &change).await;
    assert!(
        // Anna prefers English.
        html.contains("There is no such authority given by you to change."),
        "{html}"
    );
    assert_eq!(given(&server, INGRID).await[0].delegation.scopes.len(), 1);

    // At substantial the page offers a step-up, and a post is sent off to step up.
    let low = Browser::new();
    server.login(&low, INGRID, "substantial").await;
    let html = page(&server, &low, &change).await;
    assert!(html.contains("loa=high"), "{html}");
    let response = server
        .form(
            &low,
            &change,
            &[("scope", "post.read"), ("ends_on", later.as_str())],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).contains("loa=high"));
}
