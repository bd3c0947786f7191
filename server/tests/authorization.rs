//! The authorization matrix for the pages: every route in the page table (`Page::routes()`)
//! for every kind of actor, each with the answer it must get. A route with no row fails the
//! test, so a page cannot be added without deciding who may see it.
//!
//! The actors: a visitor, the person themself (Torbjørn, the giver), a helper whose delegation
//! has every portal scope, a helper whose delegation has none the pages use, a helper whose
//! delegation expired, one revoked after choosing, one whose request was never approved, a
//! guardian (acting for the minor Sigrid), a former guardian (the "minor" is grown up), and
//! another citizen with no authority at all. Where no flow can make a session act for
//! someone (the choice is refused), the session row is set directly, as an attacker who
//! somehow got there would have it: the policy must still refuse on every request.
//!
//! Borgerservice staff are actors too, logged in through the built-in test staff provider with
//! a staff cookie only: a caseworker and a supervisor of one municipality and a caseworker of
//! another. Every citizen page and form treats them as a visitor (a staff session is no
//! citizen's), and the staff desk shows each their own name; every citizen gets the signed-out
//! desk (a citizen's session is no staff session).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::*;

use app::routes::Page;
use borgerportal::access::{Actor, GrantAuthority, Loa, ManageAuthority, Policy};
use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::identity::NationalId;
use borgerportal::person::Person;
use reqwest::StatusCode;
use sqlx::Connection as _;
use time::{Date, Duration, OffsetDateTime};

/// What a page must answer an actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// The page, for anyone.
    Public,
    /// Log in first: nothing of anyone's data.
    LogIn,
    /// The subject's data (the giver's, or the minor's for the guardian).
    Shows,
    /// The logged-in person's own page (never the subject's data).
    Own,
    /// "Your authority does not cover this".
    MissingScope,
    /// "As a guardian you cannot do this".
    GuardianMissing,
    /// "You can no longer act for …".
    NoAuthority,
    /// The staff desk for the logged-in member of staff: their name, no municipality list.
    StaffDesk,
    /// The signed-out staff desk: the municipalities to log in with, and no one's name.
    StaffSignedOut,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Visitor,
    Person,
    HelperWithScopes,
    HelperWithoutScopes,
    HelperExpired,
    HelperRevoked,
    Requested,
    Guardian,
    FormerGuardian,
    OtherCitizen,
    /// Borgerservice staff (a staff session, no citizen's).
    Caseworker,
    Supervisor,
    /// A caseworker of another municipality.
    OtherMunicipalityStaff,
}

impl Who {
    fn is_staff(self) -> bool {
        matches!(
            self,
            Who::Caseworker | Who::Supervisor | Who::OtherMunicipalityStaff
        )
    }
}

const EVERYONE: [Who; 13] = [
    Who::Visitor,
    Who::Person,
    Who::HelperWithScopes,
    Who::HelperWithoutScopes,
    Who::HelperExpired,
    Who::HelperRevoked,
    Who::Requested,
    Who::Guardian,
    Who::FormerGuardian,
    Who::OtherCitizen,
    Who::Caseworker,
    Who::Supervisor,
    Who::OtherMunicipalityStaff,
];

/// The capability a page needs, as far as the answer depends on it.
#[derive(Clone, Copy, Debug)]
enum Needs {
    /// Nothing: a public page.
    Nothing,
    /// A session, and then only the person's own things (their authority, whom to act for).
    OwnOnly,
    /// The home page: a session; its cards follow the authority (never refused as a whole).
    Home,
    /// The subject's post (guardians may).
    Post,
    /// The subject's contact entry (guardians may).
    Contact,
    /// The subject's activity log (guardians may not).
    Activity,
    /// The subject's documents to sign (helpers with the signing scope may; guardians may not).
    Sign,
    /// The staff desk: a staff session's own; never a citizen's.
    StaffDesk,
}

/// The row of the table for each page route. A route not here fails the test.
fn needs(route: &str) -> Option<Needs> {
    Some(match route {
        "/accessibility" | "/privacy" | "/login" | "/login/failed" | "/logged-out" => {
            Needs::Nothing
        }
        "/" => Needs::Home,
        "/activity" => Needs::Activity,
        "/contact"
        | "/contact/email"
        | "/contact/mobile"
        | "/contact/verify/email"
        | "/contact/verify/mobile"
        | "/contact/reservation"
        | "/contact/mailbox"
        | "/contact/language"
        | "/contact/check" => Needs::Contact,
        "/post" | "/post/folders" | "/post/letter/{id}" => Needs::Post,
        "/authority"
        | "/authority/grant"
        | "/authority/request"
        | "/authority/{id}/change"
        | "/act-for" => Needs::OwnOnly,
        "/signing" | "/signing/{id}" => Needs::Sign,
        "/staff" => Needs::StaffDesk,
        _ => return None,
    })
}

fn expect(needs: Needs, who: Who) -> Expect {
    use Expect::*;
    match (needs, who) {
        (Needs::StaffDesk, who) if who.is_staff() => StaffDesk,
        (Needs::StaffDesk, _) => StaffSignedOut,
        (Needs::Nothing, _) => Public,
        // A staff session is no citizen's session.
        (_, Who::Visitor | Who::Caseworker | Who::Supervisor | Who::OtherMunicipalityStaff) => {
            LogIn
        }
        (Needs::OwnOnly | Needs::Home, _) => Own,
        (_, Who::Person | Who::HelperWithScopes) => Shows,
        // The helper "without scopes" holds exactly the signing scope.
        (Needs::Sign, Who::HelperWithoutScopes) => Shows,
        (Needs::Sign, Who::Guardian) => GuardianMissing,
        (_, Who::HelperWithoutScopes) => MissingScope,
        (Needs::Post | Needs::Contact, Who::Guardian) => Shows,
        (Needs::Activity, Who::Guardian) => GuardianMissing,
        (
            _,
            Who::HelperExpired
            | Who::HelperRevoked
            | Who::Requested
            | Who::FormerGuardian
            | Who::OtherCitizen,
        ) => NoAuthority,
    }
}

/// A person by a synthetic number, logged in through the test eID at `substantial`.
async fn log_in_number(server: &TestServer, national_id: &NationalId) -> Browser {
    let browser = Browser::new();
    server.login_number(&browser, national_id.expose()).await;
    browser
}

fn synthetic(n: u16) -> NationalId {
    let born = Date::from_calendar_date(1970, time::Month::March, 3).unwrap();
    (n..1000)
        .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
        .unwrap()
}

fn own<C: borgerportal::access::Capability>(person: &Person) -> borgerportal::access::Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

fn scopes(list: &[Scope], ends_on: Date) -> Vec<ScopeGrant> {
    list.iter()
        .map(|&scope| ScopeGrant { scope, ends_on })
        .collect()
}

/// Sets the session of `browser` to act for `subject` in the database itself.
async fn force_acting_for(server: &TestServer, browser: &Browser, subject: &Person) {
    let token = borgerportal::session::SessionToken::from_cookie_value(
        &browser.cookie(SESSION_COOKIE).unwrap(),
    )
    .unwrap();
    let session = server
        .db
        .find_session(&token, OffsetDateTime::now_utc(), IDLE)
        .await
        .unwrap()
        .unwrap();
    let url = format!("sqlite://{}", server.sqlite_path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("UPDATE sessions SET acting_for = ?1 WHERE person_id = ?2")
        .bind(subject.id.to_string())
        .bind(session.person.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

async fn choose(server: &TestServer, browser: &Browser, subject: &Person) {
    let response = server
        .form(browser, "/act-for", &[("person", &subject.id.to_string())])
        .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.body
    );
}

/// A person registered by their first login.
async fn person(server: &TestServer, national_id: &NationalId) -> Person {
    server
        .db
        .find_person_by_national_id(national_id)
        .await
        .unwrap()
        .unwrap()
}

/// The server with every actor logged in (and acting for whom they act for), a letter of the
/// giver's and of the minor's, and one of the giver's delegations.
struct World {
    server: TestServer,
    actors: Vec<(Who, Browser)>,
    giver_letter: String,
    minor_letter: String,
    delegation: borgerportal::delegation::DelegationId,
}

async fn world() -> World {
    let server = start().await;
    borgerportal::seed_demo_data(&server.db).await.unwrap();
    let now = OffsetDateTime::now_utc();
    borgerportal::seed_demo_post(&server.db, now).await.unwrap();
    let giver = server.person("torbjørn").await.unwrap();
    let sigrid = server.person("sigrid").await.unwrap();
    let anna = server.person("anna").await.unwrap();
    let rules = DelegationRules::default();
    let in_a_year = (now + Duration::days(365)).date();
    let grant = |holder: Person, list: &'static [Scope]| {
        let server = &server;
        let giver = &giver;
        let rules = &rules;
        async move {
            server
                .db
                .grant_delegation(
                    &own::<GrantAuthority>(giver),
                    holder.id,
                    &scopes(list, in_a_year),
                    rules,
                    now,
                )
                .await
                .unwrap()
        }
    };

    let mut actors: Vec<(Who, Browser)> = Vec::new();
    actors.push((Who::Visitor, Browser::new()));
    let person_browser = Browser::new();
    server.login(&person_browser, "torbjørn", "high").await;
    actors.push((Who::Person, person_browser));

    // Every portal scope (reading letters that need high also needs a high login: this
    // helper is at substantial, so such a letter asks for a step-up, as for the giver).
    let with = log_in_number(&server, &synthetic(1)).await;
    grant(person(&server, &synthetic(1)).await, &Scope::PORTAL).await;
    choose(&server, &with, &giver).await;
    actors.push((Who::HelperWithScopes, with));

    let without = log_in_number(&server, &synthetic(2)).await;
    grant(
        person(&server, &synthetic(2)).await,
        &[Scope::SignDocuments],
    )
    .await;
    choose(&server, &without, &giver).await;
    actors.push((Who::HelperWithoutScopes, without));

    let expired = log_in_number(&server, &synthetic(3)).await;
    let delegation = grant(person(&server, &synthetic(3)).await, &Scope::PORTAL).await;
    choose(&server, &expired, &giver).await;
    let url = format!("sqlite://{}", server.sqlite_path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let yesterday = (now - Duration::days(1)).date().to_string();
    sqlx::query("UPDATE delegation_scopes SET ends_on = ?1 WHERE delegation_id = ?2")
        .bind(&yesterday)
        .bind(delegation.id.to_string())
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    actors.push((Who::HelperExpired, expired));

    let revoked = log_in_number(&server, &synthetic(4)).await;
    let delegation = grant(person(&server, &synthetic(4)).await, &Scope::PORTAL).await;
    choose(&server, &revoked, &giver).await;
    server
        .db
        .revoke_delegation(&own::<ManageAuthority>(&giver), delegation.id, now)
        .await
        .unwrap();
    actors.push((Who::HelperRevoked, revoked));

    let requested = log_in_number(&server, &synthetic(5)).await;
    let asker = person(&server, &synthetic(5)).await;
    server
        .db
        .request_delegation(
            &own::<ManageAuthority>(&asker),
            giver.id,
            &scopes(&Scope::PORTAL, in_a_year),
            &rules,
            now,
        )
        .await
        .unwrap();
    force_acting_for(&server, &requested, &giver).await;
    actors.push((Who::Requested, requested));

    let guardian = Browser::new();
    server.login(&guardian, INGRID, "substantial").await;
    choose(&server, &guardian, &sigrid).await;
    actors.push((Who::Guardian, guardian));

    let former = log_in_number(&server, &synthetic(6)).await;
    server
        .db
        .add_guardianship(person(&server, &synthetic(6)).await.id, anna.id, now)
        .await
        .unwrap();
    force_acting_for(&server, &former, &anna).await;
    actors.push((Who::FormerGuardian, former));

    let other = log_in_number(&server, &synthetic(7)).await;
    force_acting_for(&server, &other, &giver).await;
    actors.push((Who::OtherCitizen, other));

    for (who, municipality, hint) in [
        (Who::Caseworker, TEST_OSLO, "kari"),
        (Who::Supervisor, TEST_OSLO, "per"),
        (Who::OtherMunicipalityStaff, TEST_AARHUS, "mette"),
    ] {
        let staff = Browser::new();
        let done = server.staff_login(&staff, municipality, hint).await;
        assert_eq!(location(&done), "/staff", "{who:?} logged in");
        actors.push((who, staff));
    }

    // A letter of the giver's (and of the minor's, for the guardian) that needs only
    // substantial, and one of the giver's delegations.
    let giver_letter = tax_letter(&server, &giver, now).await;
    let minor_letter = tax_letter(&server, &sigrid, now).await;
    let delegation = server
        .db
        .delegations_given(&own::<ManageAuthority>(&giver))
        .await
        .unwrap()[0]
        .delegation
        .id;
    World {
        server,
        actors,
        giver_letter,
        minor_letter,
        delegation,
    }
}

#[tokio::test]
async fn every_page_answers_every_actor_as_the_table_says() {
    let World {
        server,
        actors,
        giver_letter,
        minor_letter,
        delegation,
    } = world().await;
    let mut failures = Vec::new();
    for route in Page::routes() {
        let Some(needs) = needs(route) else {
            failures.push(format!("{route}: no row in the table"));
            continue;
        };
        for (who, browser) in &actors {
            let letter = if *who == Who::Guardian {
                &minor_letter
            } else {
                &giver_letter
            };
            let path = route
                .replace("/post/letter/{id}", &format!("/post/letter/{letter}"))
                .replace("{id}", &delegation.to_string());
            let expected = expect(needs, *who);
            let reply = server.get(browser, &path).await;
            let html = reply.body.replace("<!>", "");
            if let Err(why) = check(expected, reply.status(), &html, route) {
                failures.push(format!("{route} as {who:?}: expected {expected:?}, {why}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Each actor is on the table.
    assert_eq!(actors.len(), EVERYONE.len());
}

/// The id of `person`'s demo letter from the tax office (it needs only substantial).
async fn tax_letter(server: &TestServer, person: &Person, now: OffsetDateTime) -> String {
    let page = server
        .db
        .list_letters(
            &own::<borgerportal::access::ReadPost>(person),
            None,
            borgerportal::post::MailboxView::Folder(borgerportal::post::FolderRef::Inbox),
            None,
            20,
            now,
        )
        .await
        .unwrap();
    page.letters
        .iter()
        .find(|letter| !letter.locked && letter.title == SUBJECTS_LETTER)
        .unwrap()
        .id
        .to_text()
}

/// Texts that say the page is refused for the authority acted under.
const MISSING_SCOPE: &str = "gjelder ikke dette:";
const GUARDIAN_MISSING: &str = "Som verge kan du ikke gjøre dette";
const NO_AUTHORITY: &str = "Du kan ikke lenger handle for";
/// What only the subject's post shows (Torbjørn's and Sigrid's demo letters alike).
const SUBJECTS_LETTER: &str = "Skattemeldingen for 2024 er klar";

/// The demo staff who are actors here: the staff desk shows each their own name, and no one
/// else any of them.
const STAFF_NAMES: [&str; 3] = ["Kari Saksbehandler", "Per Leder", "Mette Sagsbehandler"];

fn check(expected: Expect, status: StatusCode, html: &str, route: &str) -> Result<(), String> {
    let refused = [MISSING_SCOPE, GUARDIAN_MISSING, NO_AUTHORITY]
        .into_iter()
        .find(|text| html.contains(text));
    let post = route.starts_with("/post") && route != "/post/folders";
    let shows_post = if route == "/post/letter/{id}" {
        html.contains("letter-body")
    } else {
        html.contains(SUBJECTS_LETTER)
    };
    let fail = |what: &str| Err(format!("got {status} {what}"));
    if status != StatusCode::OK {
        return fail("");
    }
    match expected {
        Expect::Public => Ok(()),
        Expect::StaffDesk | Expect::StaffSignedOut => {
            let signed_in = html.contains("action=\"/staff/logout\"");
            let lists = html.contains("/staff/login/");
            let citizen = html.contains("action=\"/auth/logout\"");
            let named = STAFF_NAMES
                .iter()
                .filter(|name| html.contains(*name))
                .count();
            match (expected, signed_in, lists, citizen) {
                (_, _, _, true) => fail("with a citizen's menu"),
                (Expect::StaffDesk, true, false, _) if named == 1 => Ok(()),
                (Expect::StaffSignedOut, false, true, _) if named == 0 => Ok(()),
                _ => fail(&format!("signed in {signed_in}, listing {lists}")),
            }
        }
        Expect::LogIn | Expect::Own => {
            if let Some(text) = refused {
                return fail(&format!("with {text:?}"));
            }
            if post && shows_post {
                return fail("with the subject's post");
            }
            if expected == Expect::LogIn && !html.contains("/login?return_to=") {
                return fail("without a way to log in");
            }
            Ok(())
        }
        Expect::Shows => match refused {
            Some(text) => fail(&format!("with {text:?}")),
            None if post && !shows_post => fail("without the subject's post"),
            None => Ok(()),
        },
        Expect::MissingScope | Expect::GuardianMissing | Expect::NoAuthority => {
            let text = match expected {
                Expect::MissingScope => MISSING_SCOPE,
                Expect::GuardianMissing => GUARDIAN_MISSING,
                _ => NO_AUTHORITY,
            };
            if !html.contains(text) {
                return fail(&format!("without {text:?}"));
            }
            if shows_post {
                return fail("with the subject's post");
            }
            Ok(())
        }
    }
}

#[test]
fn every_actor_has_an_answer_for_every_kind_of_page() {
    // The table is total: a new actor or kind is a compile error in `expect`, and every page
    // route has a row (checked against the live route list above).
    for who in EVERYONE {
        for needs in [
            Needs::Nothing,
            Needs::OwnOnly,
            Needs::Home,
            Needs::Post,
            Needs::Contact,
            Needs::Activity,
            Needs::Sign,
            Needs::StaffDesk,
        ] {
            let _ = expect(needs, who);
        }
    }
    assert!(needs("/a-page-nobody-decided-about").is_none());
}

/// What a route other than a page must answer, by what it needs.
#[derive(Clone, Copy, Debug)]
enum Guards {
    /// Anyone (health, the login flow, the language, the test eID): any answer but a failure.
    Open,
    /// A session, then the person's own things only (their authority, whom to act for).
    OwnOnly,
    /// The subject's post (guardians may).
    Post,
    /// The subject's contact entry (guardians may).
    Contact,
    /// The agency API: an agency's token, never a citizen's session.
    Agency,
    /// The subject's documents to sign (helpers with the signing scope; not guardians).
    Sign,
}

/// The row for each route that is not a page, by method and path. Every route the server's
/// source declares must have one (`declared_routes`).
fn guards(method: &str, path: &str) -> Option<Guards> {
    Some(match (method, path) {
        (_, "/healthz" | "/readyz" | "/language" | "/api/v1/openapi.json") => Guards::Open,
        (_, path) if path.starts_with("/auth/") || path.starts_with("/test-eid/") => Guards::Open,
        // The staff login: open to anyone (its own tests: staff_login.rs, staff_interop.rs).
        ("GET", "/staff/login/{municipality}" | "/staff/callback") | ("POST", "/staff/logout") => {
            Guards::Open
        }
        (_, path) if path.starts_with("/test-eid-staff/") => Guards::Open,
        ("POST", path) if path.starts_with("/authority/") => Guards::OwnOnly,
        ("POST", "/act-for") => Guards::OwnOnly,
        (_, path) if path.starts_with("/signing/") => Guards::Sign,
        (_, path) if path.starts_with("/post/") => Guards::Post,
        ("POST", path) if path.starts_with("/contact/") => Guards::Contact,
        (_, path) if path.starts_with("/api/") => Guards::Agency,
        _ => return None,
    })
}

/// Every `.route("…", …)` the server declares, with its methods, read from its source: a
/// route added anywhere there without a row here fails the test.
fn declared_routes() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = [
        ("lib.rs", ""),
        ("contact.rs", ""),
        ("post_pages.rs", ""),
        ("authority.rs", ""),
        ("acting.rs", ""),
        ("signing_pages.rs", ""),
        ("api/mod.rs", "/api"),
        ("test_eid/mod.rs", ""),
        ("test_eid/staff.rs", ""),
        ("staff/mod.rs", ""),
    ];
    let mut routes = Vec::new();
    for (file, prefix) in files {
        let source = std::fs::read_to_string(dir.join(file)).unwrap();
        let calls: Vec<&str> = source.split(".route(").skip(1).collect();
        assert!(!calls.is_empty(), "{file} declares no route");
        for call in calls {
            let call = call.split(".route_layer(").next().unwrap_or(call);
            let path = call
                .trim_start()
                .strip_prefix('"')
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("a route in {file} without a written path: {call}"));
            for method in ["get", "post"] {
                let called = call.contains(&format!(" {method}("))
                    || call.contains(&format!("({method}("))
                    || call.contains(&format!(".{method}("))
                    || call.contains(&format!("routing::{method}("));
                if called {
                    routes.push((method.to_uppercase(), format!("{prefix}{path}")));
                }
            }
        }
    }
    routes
}

fn guard_expect(guards: Guards, who: Who) -> Expect {
    use Expect::*;
    match (guards, who) {
        (Guards::Open, _) => Public,
        // The agency API answers every citizen, logged in or not, with 401.
        (Guards::Agency, _) => NoAuthority,
        // A staff session is no citizen's session.
        (_, Who::Visitor | Who::Caseworker | Who::Supervisor | Who::OtherMunicipalityStaff) => {
            LogIn
        }
        (Guards::OwnOnly, _) => Own,
        (_, Who::Person | Who::HelperWithScopes) => Shows,
        (Guards::Sign, Who::HelperWithoutScopes) => Shows,
        (Guards::Sign, Who::Guardian) => GuardianMissing,
        (_, Who::HelperWithoutScopes) => MissingScope,
        (Guards::Post | Guards::Contact, Who::Guardian) => Shows,
        (_, _) => NoAuthority,
    }
}

#[tokio::test]
async fn every_form_and_api_route_answers_every_actor_as_the_table_says() {
    let World { server, actors, .. } = world().await;
    let routes = declared_routes();
    assert!(routes.len() > 30, "{routes:?}");
    let mut failures = Vec::new();
    // The logout last: it ends the session it is sent with.
    let (last, first): (Vec<_>, Vec<_>) = routes
        .into_iter()
        .partition(|(_, path)| path == "/auth/logout");
    for (method, route) in first.into_iter().chain(last) {
        let Some(guards) = guards(&method, &route) else {
            failures.push(format!("{method} {route}: no row in the table"));
            continue;
        };
        if matches!(guards, Guards::Open) {
            continue; // decided: open to anyone; their own tests cover them
        }
        // Ids no one has: a request the policy lets through then finds nothing (404).
        let path = route
            .replace("{position}", "1")
            .replace("{letter_id}", &uuid::Uuid::now_v7().to_string())
            .replace("{id}", &uuid::Uuid::now_v7().to_string());
        for (who, browser) in &actors {
            let expected = guard_expect(guards, *who);
            let reply = if method == "GET" {
                server.get(browser, &path).await
            } else {
                // `person=x` is no one: the act-for form refuses it and changes nothing.
                server.form(browser, &path, &[("person", "x")]).await
            };
            let status = reply.status();
            let to_login =
                status == StatusCode::SEE_OTHER && location(&reply).starts_with("/login");
            let ok = match expected {
                Expect::LogIn => to_login,
                // Past the policy: whatever the form says of the (empty) input or the unknown
                // id, but never refused for authority and never sent to log in.
                Expect::Own | Expect::Shows => {
                    status != StatusCode::FORBIDDEN
                        && status != StatusCode::UNAUTHORIZED
                        && !to_login
                }
                Expect::NoAuthority if matches!(guards, Guards::Agency) => {
                    status == StatusCode::UNAUTHORIZED
                }
                Expect::MissingScope | Expect::GuardianMissing | Expect::NoAuthority => {
                    status == StatusCode::FORBIDDEN
                }
                Expect::Public => true,
                // No form or API route is the staff desk.
                Expect::StaffDesk | Expect::StaffSignedOut => false,
            };
            if !ok {
                failures.push(format!(
                    "{method} {route} as {who:?}: expected {expected:?}, got {status}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
