//! `POST /api/v1/authority/check` end to end, in-process: a real server on a loopback port,
//! real signed tokens, on SQLite and (when `BORGERPORTAL_TEST_POSTGRES_URL` is set) on a
//! fresh PostgreSQL database. The delegations and guardianships are set up through storage,
//! with past dates injected where a test needs an expiry; the API answers at the real clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use borgerportal::storage::Database;
use borgerportal::{
    delegation::{DelegationRules, Scope, ScopeGrant, ServiceScope, ServiceScopeId},
    Access, Actor, AuditKind, Capability, GrantAuthority, Language, Loa, ManageAuthority,
    NationalId, NewPerson, Person, Policy, ReadOwnActivity,
};
use common::agency::{es256_pair, LogCapture, PostgresScratch};
use common::{fake_site, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use time::{macros::date, Date, Duration, OffsetDateTime};

const CHECK: &str = "/api/v1/authority/check";

struct Api {
    base: String,
    audience: String,
    db: Database,
    /// An agency granted `check_authority`.
    checker: String,
    /// An agency with the default capabilities only.
    nav: String,
    log: LogCapture,
    client: Client,
    _log_guard: tracing::subscriber::DefaultGuard,
    _postgres: Option<PostgresScratch>,
    _dir: tempfile::TempDir,
}

async fn start_on(postgres: Option<&str>) -> Api {
    let log = LogCapture::default();
    let log_guard = log.install();
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let (checker, checker_public) = es256_pair();
    let (nav, nav_public) = es256_pair();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_toml(&format!(
        r#"
public_url = "http://{addr}"
data_dir = "{data}"

[[delegation.service_scopes]]
id = "nav.dagpenger"
name_nb = "Dagpenger"
name_nn = "Dagpengar"
name_da = "Dagpenge"
name_en = "Unemployment benefit"

[[agencies]]
id = "bank"
name = "Banken"
algorithm = "ES256"
public_key = """{checker_public}"""
capabilities = ["check_authority"]

[[agencies]]
id = "nav"
name = "NAV"
algorithm = "ES256"
public_key = """{nav_public}"""
"#,
        data = dir.path().join("data").display(),
    ))
    .unwrap();
    let (scratch, url) = match postgres {
        Some(server) => {
            let (scratch, url) = PostgresScratch::create(server).await;
            (Some(scratch), url)
        }
        None => (
            None,
            format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display()),
        ),
    };
    let db = Database::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    serve(listener, &config, &site_root, &db);
    Api {
        base: format!("http://{addr}"),
        audience: format!("http://{addr}"),
        db,
        checker,
        nav,
        log,
        client: Client::new(),
        _log_guard: log_guard,
        _postgres: scratch,
        _dir: dir,
    }
}

fn token(private_pem: &str, agency: &str, audience: &str) -> String {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let claims = json!({
        "iss": agency, "aud": audience, "iat": now, "exp": now + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &key).unwrap()
}

impl Api {
    async fn post_as(&self, private_pem: &str, agency: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{CHECK}", self.base))
            .bearer_auth(token(private_pem, agency, &self.audience))
            .header(header::CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        if status != StatusCode::OK {
            let media = response.headers()[header::CONTENT_TYPE].to_str().unwrap();
            assert_eq!(media, "application/problem+json");
        }
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The bank's questions: (holder, giver, scope) each.
    async fn ask(&self, questions: &[(&Person, &Person, &str)]) -> Vec<Value> {
        let body = json!({ "questions": questions.iter().map(|(holder, giver, scope)| json!({
            "holder": holder.national_id.expose(),
            "giver": giver.national_id.expose(),
            "scope": scope,
        })).collect::<Vec<_>>() });
        let (status, answer) = self.post_as(&self.checker, "bank", &body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer["answers"].as_array().unwrap().clone()
    }

    async fn register(&self, born: Date, n: u16, name: &str) -> Person {
        let national_id = (n..1000)
            .find_map(|individual| NationalId::new_synthetic_norwegian(born, individual).ok())
            .unwrap();
        let person = NewPerson::new(national_id, name, "Test", Language::Nb);
        self.db.create_person(person).await.unwrap()
    }

    async fn checks_in_log(&self, person: &Person) -> usize {
        let access = own::<ReadOwnActivity>(person);
        let page = self.db.list_events(&access, None, 100).await.unwrap();
        page.events
            .iter()
            .filter(|event| {
                event.kind == AuditKind::AuthorityCheckedByAgency
                    && event.agency.as_ref().map(|agency| agency.as_str()) == Some("bank")
            })
            .count()
    }
}

fn own<C: Capability>(person: &Person) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).unwrap()
}

fn permit(answer: &Value, basis: &str, ends_on: &str) {
    assert_eq!(answer["decision"], "permit", "{answer}");
    assert_eq!(answer["basis"], basis);
    assert_eq!(answer["ends_on"], ends_on);
}

fn deny(answer: &Value) {
    assert_eq!(answer["decision"], "deny", "{answer}");
    assert_eq!(answer["basis"], Value::Null);
    assert_eq!(answer["ends_on"], Value::Null);
}

async fn scenario(postgres: Option<&str>) {
    let api = start_on(postgres).await;
    let now = OffsetDateTime::now_utc();
    let giver = api.register(date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let holder = api.register(date!(1975 - 03 - 14), 2, "Kari").await;
    let stranger = api.register(date!(1980 - 01 - 20), 3, "Ola").await;
    let former = api.register(date!(1990 - 06 - 01), 4, "Per").await;
    let ends = (now + Duration::days(200)).date();
    let service = "service:nav.dagpenger";
    let rules = DelegationRules {
        service_scopes: vec![ServiceScope {
            id: ServiceScopeId::parse("nav.dagpenger").unwrap(),
            name_nb: "Dagpenger".to_owned(),
            name_nn: "Dagpengar".to_owned(),
            name_da: "Dagpenge".to_owned(),
            name_en: "Unemployment benefit".to_owned(),
        }],
        ..DelegationRules::default()
    };

    // Permit under a delegation, with its end date; deny for a scope not granted, for the
    // other direction, and for a stranger.
    let delegation = api
        .db
        .grant_delegation(
            &own::<GrantAuthority>(&giver),
            holder.id,
            &[
                ScopeGrant {
                    scope: Scope::ReadPost,
                    ends_on: ends,
                },
                ScopeGrant {
                    scope: Scope::from_code(service).unwrap(),
                    ends_on: ends,
                },
            ],
            &rules,
            now,
        )
        .await
        .unwrap();
    let answers = api
        .ask(&[
            (&holder, &giver, "post.read"),
            (&holder, &giver, service),
            (&holder, &giver, "documents.sign"),
            (&giver, &holder, "post.read"),
            (&stranger, &giver, "post.read"),
        ])
        .await;
    permit(&answers[0], "delegation", &ends.to_string());
    permit(&answers[1], "delegation", &ends.to_string());
    deny(&answers[2]);
    deny(&answers[3]);
    deny(&answers[4]);
    // Every question about a known giver is in that giver's log, naming the agency.
    assert_eq!(api.checks_in_log(&giver).await, 4);
    assert_eq!(api.checks_in_log(&holder).await, 1);

    // Revoked: denied at once.
    api.db
        .revoke_delegation(&own::<ManageAuthority>(&giver), delegation.id, now)
        .await
        .unwrap();
    deny(&api.ask(&[(&holder, &giver, "post.read")]).await[0]);

    // Expired: granted two years ago until last year.
    let then = now - Duration::days(730);
    api.db
        .grant_delegation(
            &own::<GrantAuthority>(&giver),
            former.id,
            &[ScopeGrant {
                scope: Scope::ReadPost,
                ends_on: (now - Duration::days(365)).date(),
            }],
            &DelegationRules::default(),
            then,
        )
        .await
        .unwrap();
    deny(&api.ask(&[(&former, &giver, "post.read")]).await[0]);

    // A guardian: permitted for a minor until the day before the 18th birthday, denied for
    // someone already 18 (the guardianship ends by itself).
    let minor_born = (now - Duration::days(365 * 10)).date();
    let minor = api.register(minor_born, 5, "Emma").await;
    let adult = api.register(date!(2007 - 01 - 10), 6, "Jonas").await;
    api.db
        .add_guardianship(holder.id, minor.id, now)
        .await
        .unwrap();
    api.db
        .add_guardianship(holder.id, adult.id, now)
        .await
        .unwrap();
    let answers = api
        .ask(&[
            (&holder, &minor, "post.read"),
            (&holder, &adult, "post.read"),
            (&stranger, &minor, "post.read"),
        ])
        .await;
    let eighteenth = borgerportal::delegation::coming_of_age(minor_born);
    permit(
        &answers[0],
        "guardian",
        &eighteenth.previous_day().unwrap().to_string(),
    );
    deny(&answers[1]);
    deny(&answers[2]);

    // Unknown persons: denied like anyone without authority, nothing written.
    let unknown = (500..1000)
        .find_map(|n| NationalId::new_synthetic_norwegian(date!(1960 - 02 - 02), n).ok())
        .unwrap();
    let body = json!({"questions": [
        {"holder": unknown.expose(), "giver": giver.national_id.expose(), "scope": "post.read"},
        {"holder": holder.national_id.expose(), "giver": unknown.expose(), "scope": "post.read"},
    ]});
    let (status, answer) = api.post_as(&api.checker, "bank", &body).await;
    assert_eq!(status, StatusCode::OK);
    deny(&answer["answers"][0]);
    deny(&answer["answers"][1]);

    // The log never holds a national id.
    let log = api.log.text();
    for person in [&giver, &holder, &minor] {
        assert!(!log.contains(person.national_id.expose()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permits_and_denials_on_both_databases() {
    scenario(None).await;
    if let Ok(server) = std::env::var("BORGERPORTAL_TEST_POSTGRES_URL") {
        scenario(Some(&server)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_agencies_without_the_capability_are_refused() {
    let api = start_on(None).await;
    let giver = api.register(date!(1941 - 11 - 02), 1, "Torbjørn").await;
    let holder = api.register(date!(1975 - 03 - 14), 2, "Kari").await;
    let question = json!({
        "holder": holder.national_id.expose(),
        "giver": giver.national_id.expose(),
        "scope": "post.read",
    });

    // An agency without `check_authority` (the defaults do not include it): 403.
    let body = json!({ "questions": [question.clone()] });
    let (status, problem) = api.post_as(&api.nav, "nav", &body).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(problem["type"], "urn:borgerportal:problem:forbidden");

    // 101 questions: 413; 100 are answered.
    let body = json!({ "questions": vec![question.clone(); 101] });
    let (status, problem) = api.post_as(&api.checker, "bank", &body).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        problem["type"],
        "urn:borgerportal:problem:too-many-questions"
    );
    let body = json!({ "questions": vec![question.clone(); 100] });
    let (status, answer) = api.post_as(&api.checker, "bank", &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["answers"].as_array().unwrap().len(), 100);

    // A malformed national id: 422 naming the question and field, never the value.
    let mut bad = question.clone();
    bad["giver"] = json!("01817512346");
    let body = json!({ "questions": [question.clone(), bad] });
    let (status, problem) = api.post_as(&api.checker, "bank", &body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problem["type"],
        "urn:borgerportal:problem:invalid-national-id"
    );
    assert_eq!(problem["invalid_ids"][0]["index"], 1);
    assert_eq!(problem["invalid_ids"][0]["field"], "giver");
    assert!(!problem.to_string().contains("01817512346"));

    // An unknown scope, and a service scope not configured: 422.
    for scope in ["post.everything", "service:skatt.melding", ""] {
        let mut bad = question.clone();
        bad["scope"] = json!(scope);
        let body = json!({ "questions": [bad] });
        let (status, problem) = api.post_as(&api.checker, "bank", &body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{scope}");
        assert_eq!(problem["type"], "urn:borgerportal:problem:unknown-scope");
    }

    // No questions, and the wrong shape.
    let (status, problem) = api
        .post_as(&api.checker, "bank", &json!({ "questions": [] }))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "urn:borgerportal:problem:no-questions");
    let (status, _) = api
        .post_as(&api.checker, "bank", &json!({ "national_ids": [] }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Nothing refused reached anyone's log; the 100 answered did.
    let access = own::<ReadOwnActivity>(&giver);
    let page = api.db.list_events(&access, None, 200).await.unwrap();
    let checks = page
        .events
        .iter()
        .filter(|event| event.kind == AuditKind::AuthorityCheckedByAgency)
        .count();
    assert_eq!(checks, 100);
}

#[test]
fn the_check_is_in_the_openapi_document() {
    let document: Value = serde_json::from_str(server::api::openapi::json()).unwrap();
    assert!(document["paths"][CHECK]["post"].is_object());
    assert!(document["components"]["schemas"]["CheckResponse"].is_object());
}
