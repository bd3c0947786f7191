//! The agency API end to end, in-process: a real server on a loopback port, a real SQLite
//! database, real signed tokens (ES256 keys made here, an RS256 test key in `fixtures/`), and
//! a real HTTP client sending what an agency's system would, without browser headers.
//!
//! Covers a valid look-up (known, unknown, reserved), each bad input, each refused token
//! (missing, replayed, wrong audience, expired, too long-lived, unknown or disabled agency,
//! wrong key, `alg: none`, HS256 with the public key as the secret), the 1,000-id limit, the
//! audit events, the logs (no national id), and the OpenAPI document.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::{engine::general_purpose, Engine as _};
use borgerportal::{
    access::{Actor, Loa, Policy, ReadOwnActivity},
    audit::AuditKind,
    identity::NationalId,
    person::{Language, NewPerson, Person},
    storage::Database,
    ContactMethod, EmailAddress, ManageContact,
};
use common::agency::{es256_pair, LogCapture};
use common::{fake_site, serve};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{header, Client, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use time::{macros::date, Duration, OffsetDateTime};

const LOOKUP: &str = "/api/v1/contact-info/lookup";
const RSA_PRIVATE: &str = include_str!("fixtures/test-only-rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("fixtures/test-only-rsa-public.pem");

// ---------------------------------------------------------------------------------------------
// Keys and tokens

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Good claims for `agency` at `audience`; tests change what they test.
fn claims(agency: &str, audience: &str) -> Value {
    json!({
        "iss": agency,
        "aud": audience,
        "iat": now(),
        "exp": now() + 120,
        "jti": uuid::Uuid::new_v4().to_string(),
    })
}

fn sign_es256(private_pem: &str, claims: &Value) -> String {
    let key = EncodingKey::from_ec_pem(private_pem.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::ES256), claims, &key).unwrap()
}

fn sign_rs256(claims: &Value) -> String {
    let key = EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap();
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), claims, &key).unwrap()
}

/// A token with `{"alg":"none"}` and no signature.
fn unsigned(claims: &Value) -> String {
    let b64 = |value: &Value| general_purpose::URL_SAFE_NO_PAD.encode(value.to_string());
    format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT"})),
        b64(claims)
    )
}

// ---------------------------------------------------------------------------------------------
// The server

struct Api {
    base: String,
    audience: String,
    db: Database,
    /// NAV's private key (ES256, enabled).
    nav: String,
    /// NAV's public key, as registered.
    nav_public: String,
    /// A disabled agency's private key.
    closed: String,
    log: LogCapture,
    client: Client,
    _log_guard: tracing::subscriber::DefaultGuard,
    _dir: tempfile::TempDir,
}

async fn start() -> Api {
    let log = LogCapture::default();
    let log_guard = log.install();
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    let rsa_file = dir.path().join("skatt.pem");
    std::fs::write(&rsa_file, RSA_PUBLIC).unwrap();
    let (nav, nav_public) = es256_pair();
    let (closed, closed_public) = es256_pair();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = Config::from_toml(&format!(
        r#"
public_url = "http://{addr}"
data_dir = "{data}"

[[agencies]]
id = "nav"
name = "NAV"
algorithm = "ES256"
public_key = """{nav_public}"""

[[agencies]]
id = "skatteetaten"
name = "Skatteetaten"
algorithm = "RS256"
public_key_file = "{rsa}"

[[agencies]]
id = "closed"
name = "Closed agency"
algorithm = "ES256"
public_key = """{closed_public}"""
enabled = false
"#,
        data = dir.path().join("data").display(),
        rsa = rsa_file.display(),
    ))
    .unwrap();
    let db = Database::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    db.migrate().await.unwrap();
    serve(listener, &config, &site_root, &db);
    Api {
        base: format!("http://{addr}"),
        audience: format!("http://{addr}"),
        db,
        nav,
        nav_public,
        closed,
        log,
        client: Client::new(),
        _log_guard: log_guard,
        _dir: dir,
    }
}

/// A response: status, headers, body as JSON (or `Null`).
struct Reply {
    status: StatusCode,
    headers: header::HeaderMap,
    body: Value,
}

impl Api {
    fn nav_token(&self) -> String {
        sign_es256(&self.nav, &claims("nav", &self.audience))
    }

    /// POST `body` (JSON text) with `token` as the bearer token.
    async fn post_raw(&self, token: Option<&str>, content_type: &str, body: String) -> Reply {
        let mut request = self
            .client
            .post(format!("{}{LOOKUP}", self.base))
            .header(header::CONTENT_TYPE, content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.unwrap()).await
    }

    async fn lookup_with(&self, token: &str, ids: &[&str]) -> Reply {
        self.post_raw(
            Some(token),
            "application/json",
            json!({ "national_ids": ids }).to_string(),
        )
        .await
    }

    async fn lookup(&self, ids: &[&str]) -> Reply {
        self.lookup_with(&self.nav_token(), ids).await
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    Reply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// A problem document with this status and type name.
fn assert_problem(reply: &Reply, status: StatusCode, name: &str) {
    assert_eq!(reply.status, status, "{}", reply.body);
    assert_eq!(
        reply.headers[header::CONTENT_TYPE],
        "application/problem+json",
        "{}",
        reply.body
    );
    assert_eq!(
        reply.body["type"],
        format!("urn:borgerportal:problem:{name}"),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["status"], status.as_u16());
    assert!(reply.body["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(reply.body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    if status == StatusCode::UNAUTHORIZED {
        assert!(reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }
}

/// A synthetic Norwegian number, different for each `n`.
fn synthetic(n: u16) -> NationalId {
    let birth_date = date!(1975 - 01 - 01) + Duration::days(i64::from(n));
    (0..500)
        .find_map(|individual| NationalId::new_synthetic_norwegian(birth_date, individual).ok())
        .unwrap()
}

async fn person(db: &Database, n: u16) -> Person {
    db.create_person(NewPerson::new(synthetic(n), "Test", "Person", Language::Nn))
        .await
        .unwrap()
}

/// A person with a verified e-mail address.
async fn person_with_email(db: &Database, n: u16, address: &str) -> Person {
    let person = person(db, n).await;
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::Substantial,
    };
    let manage = Policy::authorize::<ManageContact>(&actor, person.id).unwrap();
    let at = OffsetDateTime::now_utc();
    let sent = db
        .request_email_change(&manage, EmailAddress::parse(address).unwrap(), at)
        .await
        .unwrap();
    db.verify_code(&manage, ContactMethod::Email, sent.code.expose(), at)
        .await
        .unwrap();
    person
}

async fn lookups_in_log_of(db: &Database, person: &Person) -> Vec<String> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::Substantial,
    };
    let access = Policy::authorize::<ReadOwnActivity>(&actor, person.id).unwrap();
    db.list_events(&access, None, 100)
        .await
        .unwrap()
        .events
        .into_iter()
        .filter(|event| event.kind == AuditKind::ContactLookedUpByAgency)
        .map(|event| event.agency.unwrap().to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Look-ups

#[tokio::test]
async fn valid_lookup_of_known_and_unknown_ids_is_answered_in_order_and_audited() {
    let api = start().await;
    let kari = person_with_email(&api.db, 1, "kari@example.no").await;
    let quiet = person(&api.db, 2).await;
    let unknown = synthetic(3);
    // Danish CPR with the dash, as agencies may send it.
    let ids = [
        kari.national_id.expose(),
        unknown.expose(),
        quiet.national_id.expose(),
        "230972-1846",
    ];
    let reply = api.lookup(&ids).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
    let persons = reply.body["persons"].as_array().unwrap();
    assert_eq!(persons.len(), 4);
    assert_eq!(reply.body["staleness_limit_days"], 548);

    let first = &persons[0];
    assert_eq!(first["national_id"], kari.national_id.expose());
    assert_eq!(first["status"], "active");
    assert_eq!(first["reserved"], false);
    assert_eq!(first["can_be_notified"], true);
    assert_eq!(first["email"]["value"], "kari@example.no");
    assert!(first["email"]["updated_at"]
        .as_str()
        .unwrap()
        .ends_with('Z'));
    assert!(first["email"]["verified_at"].is_string());
    assert_eq!(first["mobile"], Value::Null);
    assert_eq!(first["mailbox"]["kind"], "portal");
    assert_eq!(first["language"], "nn");

    for unknown in [&persons[1], &persons[3]] {
        assert_eq!(unknown["status"], "not_registered", "not an error");
        assert_eq!(unknown["can_be_notified"], false);
        assert_eq!(unknown["mailbox"], Value::Null);
        assert_eq!(unknown["language"], Value::Null);
    }
    assert_eq!(persons[3]["national_id"], "2309721846", "normalised");
    assert_eq!(persons[2]["status"], "not_registered");
    assert_eq!(
        persons[2]["language"], "nn",
        "known, but nothing registered"
    );

    // Both persons found see the look-up, with the agency named.
    assert_eq!(lookups_in_log_of(&api.db, &kari).await, ["nav"]);
    assert_eq!(lookups_in_log_of(&api.db, &quiet).await, ["nav"]);
}

#[tokio::test]
async fn an_rs256_agency_is_served_and_audited_under_its_own_id() {
    let api = start().await;
    let kari = person_with_email(&api.db, 1, "kari@example.no").await;
    let token = sign_rs256(&claims("skatteetaten", &api.audience));
    let reply = api.lookup_with(&token, &[kari.national_id.expose()]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(lookups_in_log_of(&api.db, &kari).await, ["skatteetaten"]);
}

#[tokio::test]
async fn a_thousand_ids_are_fine_and_one_more_is_refused() {
    let api = start().await;
    let ids: Vec<NationalId> = (0..1000).map(|n| synthetic(100 + n)).collect();
    let texts: Vec<&str> = ids.iter().map(NationalId::expose).collect();
    let reply = api.lookup(&texts).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["persons"].as_array().unwrap().len(), 1000);

    let extra = synthetic(1200);
    let mut too_many = texts.clone();
    too_many.push(extra.expose());
    let reply = api.lookup(&too_many).await;
    assert_problem(
        &reply,
        StatusCode::PAYLOAD_TOO_LARGE,
        "too-many-national-ids",
    );
    assert!(reply.body["detail"].as_str().unwrap().contains("1001"));
}

#[tokio::test]
async fn each_bad_input_is_a_clear_problem() {
    let api = start().await;
    let good = synthetic(1);
    // The checksum broken: the last digit changed.
    let mut broken = good.expose().to_owned();
    let last = broken.pop().unwrap();
    broken.push(if last == '9' { '0' } else { '9' });

    let reply = api.lookup(&[good.expose(), &broken, "12ab"]).await;
    assert_problem(
        &reply,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-national-id",
    );
    let detail = reply.body["detail"].as_str().unwrap();
    assert!(detail.contains("national_ids[1]"), "{detail}");
    assert_eq!(
        reply.body["invalid_ids"],
        json!([
            {"index": 1, "reason": "identity.checksum"},
            {"index": 2, "reason": "identity.not_digits"},
        ])
    );
    assert!(
        !reply.body.to_string().contains(&broken),
        "the malformed id is not echoed"
    );

    let reply = api.lookup(&[]).await;
    assert_problem(&reply, StatusCode::UNPROCESSABLE_ENTITY, "no-national-ids");

    let token = api.nav_token();
    let not_json = api
        .post_raw(
            Some(&token),
            "application/json",
            "{\"national_ids\": [".into(),
        )
        .await;
    assert_problem(&not_json, StatusCode::BAD_REQUEST, "invalid-body");

    // A number instead of a string: serde would quote it in its message; the answer must not.
    let token = api.nav_token();
    let number = api
        .post_raw(
            Some(&token),
            "application/json",
            format!("{{\"national_ids\": [\"{}\", 31817512345]}}", good.expose()),
        )
        .await;
    assert_problem(
        &number,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid-national-id",
    );
    assert_eq!(
        number.body["invalid_ids"],
        json!([{"index": 1, "reason": "not_a_string"}])
    );
    assert!(!number.body.to_string().contains("31817512345"));

    let token = api.nav_token();
    let wrong_shape = api
        .post_raw(
            Some(&token),
            "application/json",
            json!({"ids": [good.expose()]}).to_string(),
        )
        .await;
    assert_problem(&wrong_shape, StatusCode::BAD_REQUEST, "invalid-body");
    assert!(!wrong_shape.body.to_string().contains(good.expose()));

    let token = api.nav_token();
    let form = api
        .post_raw(
            Some(&token),
            "application/x-www-form-urlencoded",
            format!("national_ids={}", good.expose()),
        )
        .await;
    assert_problem(
        &form,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    );

    let token = api.nav_token();
    let huge = api
        .post_raw(
            Some(&token),
            "application/json",
            format!("{{\"national_ids\": [\"{}\"]}}", " ".repeat(70_000)),
        )
        .await;
    assert_problem(&huge, StatusCode::PAYLOAD_TOO_LARGE, "body-too-large");

    // With a charset parameter, JSON is still JSON.
    let token = api.nav_token();
    let ok = api
        .post_raw(
            Some(&token),
            "application/json; charset=utf-8",
            json!({"national_ids": [good.expose()]}).to_string(),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[tokio::test]
async fn a_missing_or_malformed_token_is_401_with_a_challenge() {
    let api = start().await;
    let body = json!({"national_ids": [synthetic(1).expose()]}).to_string();
    let missing = api.post_raw(None, "application/json", body.clone()).await;
    assert_problem(&missing, StatusCode::UNAUTHORIZED, "missing-token");
    assert_eq!(missing.headers[header::WWW_AUTHENTICATE], "Bearer");
    let garbage = api
        .post_raw(Some("not.a.jwt"), "application/json", body)
        .await;
    assert_problem(&garbage, StatusCode::UNAUTHORIZED, "invalid-token");
}

#[tokio::test]
async fn a_replayed_jti_is_refused() {
    let api = start().await;
    let id = synthetic(1);
    let token = api.nav_token();
    assert_eq!(
        api.lookup_with(&token, &[id.expose()]).await.status,
        StatusCode::OK
    );
    let replay = api.lookup_with(&token, &[id.expose()]).await;
    assert_problem(&replay, StatusCode::UNAUTHORIZED, "replayed-token");

    // A token without a jti is refused outright.
    let mut no_jti = claims("nav", &api.audience);
    no_jti.as_object_mut().unwrap().remove("jti");
    let reply = api
        .lookup_with(&sign_es256(&api.nav, &no_jti), &[id.expose()])
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-token");
}

#[tokio::test]
async fn a_token_is_remembered_as_long_as_it_can_be_accepted() {
    let api = start().await;
    let id = synthetic(1);
    // Expired ten seconds ago: still inside the 30 s leeway, so accepted once.
    let mut late = claims("nav", &api.audience);
    late["iat"] = json!(now() - 70);
    late["exp"] = json!(now() - 10);
    let token = sign_es256(&api.nav, &late);
    assert_eq!(
        api.lookup_with(&token, &[id.expose()]).await.status,
        StatusCode::OK
    );
    // Housekeeping forgets the token ids whose time is up; this one's is not.
    api.db
        .forget_expired_agency_tokens(time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    let replay = api.lookup_with(&token, &[id.expose()]).await;
    assert_problem(&replay, StatusCode::UNAUTHORIZED, "replayed-token");
}

#[tokio::test]
async fn extreme_times_in_a_signed_token_are_refused_not_a_crash() {
    let api = start().await;
    let id = synthetic(1);
    for (iat, exp) in [
        (json!(i64::MIN), json!(now() + 60)),
        (json!(now() - 1_000_000), json!(now() + 60)),
        (json!(now()), json!(i64::MAX)),
    ] {
        let mut token_claims = claims("nav", &api.audience);
        token_claims["iat"] = iat.clone();
        token_claims["exp"] = exp.clone();
        let reply = api
            .lookup_with(&sign_es256(&api.nav, &token_claims), &[id.expose()])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "iat {iat}, exp {exp}"
        );
    }
}

#[tokio::test]
async fn wrong_audience_expired_and_long_lived_tokens_are_refused() {
    let api = start().await;
    let id = synthetic(1);
    let cases = [
        (
            json!({"aud": "https://other-portal.example"}),
            "invalid-audience",
        ),
        (
            json!({"iat": now() - 600, "exp": now() - 300}),
            "expired-token",
        ),
        (json!({"iat": now(), "exp": now() + 3600}), "token-lifetime"),
        (
            json!({"iat": now() + 600, "exp": now() + 700}),
            "invalid-token",
        ),
        (json!({"nbf": now() + 600}), "invalid-token"),
    ];
    for (changes, name) in cases {
        let mut token_claims = claims("nav", &api.audience);
        for (key, value) in changes.as_object().unwrap() {
            token_claims[key] = value.clone();
        }
        let reply = api
            .lookup_with(&sign_es256(&api.nav, &token_claims), &[id.expose()])
            .await;
        assert_problem(&reply, StatusCode::UNAUTHORIZED, name);
    }
    // No aud or exp at all.
    for missing in ["aud", "exp", "iat"] {
        let mut token_claims = claims("nav", &api.audience);
        token_claims.as_object_mut().unwrap().remove(missing);
        let reply = api
            .lookup_with(&sign_es256(&api.nav, &token_claims), &[id.expose()])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "without {missing}");
    }
}

#[tokio::test]
async fn unknown_and_disabled_agencies_are_refused() {
    let api = start().await;
    let id = synthetic(1);
    let (stranger, _) = es256_pair();
    let unknown = sign_es256(&stranger, &claims("stranger", &api.audience));
    let reply = api.lookup_with(&unknown, &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "unknown-agency");

    let closed = sign_es256(&api.closed, &claims("closed", &api.audience));
    let reply = api.lookup_with(&closed, &[id.expose()]).await;
    assert_problem(&reply, StatusCode::FORBIDDEN, "agency-disabled");

    // The disabled agency's name is no use without its key: the signature comes first.
    let forged = sign_es256(&stranger, &claims("closed", &api.audience));
    let reply = api.lookup_with(&forged, &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-signature");
}

#[tokio::test]
async fn wrong_keys_and_algorithm_tricks_are_refused() {
    let api = start().await;
    let id = synthetic(1);
    let good = claims("nav", &api.audience);

    // Signed with another ES256 key, claiming to be NAV.
    let (other, _) = es256_pair();
    let reply = api
        .lookup_with(&sign_es256(&other, &good), &[id.expose()])
        .await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-signature");

    // `alg: none`, no signature.
    let reply = api.lookup_with(&unsigned(&good), &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-token");

    // The classic confusion: HS256 with NAV's public key (which anyone may have) as the secret.
    let key = EncodingKey::from_secret(api.nav_public.as_bytes());
    let confused = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &good, &key).unwrap();
    let reply = api.lookup_with(&confused, &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-token");

    // An RS256 token for an ES256 agency: not its registered algorithm.
    let reply = api.lookup_with(&sign_rs256(&good), &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-token");

    // A valid signature on a token whose payload was changed afterwards.
    let token = sign_es256(&api.nav, &good);
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut tampered = good.clone();
    tampered["aud"] = json!(api.audience.clone());
    tampered["jti"] = json!("tampered");
    parts[1] = general_purpose::URL_SAFE_NO_PAD.encode(tampered.to_string());
    let reply = api.lookup_with(&parts.join("."), &[id.expose()]).await;
    assert_problem(&reply, StatusCode::UNAUTHORIZED, "invalid-signature");
}

// ---------------------------------------------------------------------------------------------
// The rest of /api, logs, OpenAPI

#[tokio::test]
async fn the_api_answers_in_json_everywhere_and_machines_pass_the_csrf_check() {
    let api = start().await;
    let get = reply(
        api.client
            .get(format!("{}{LOOKUP}", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&get, StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed");
    let nowhere = reply(
        api.client
            .get(format!("{}/api/v1/nothing-here", api.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&nowhere, StatusCode::NOT_FOUND, "not-found");

    // A browser page on another site calling the API: refused, in the API's format.
    let cross_site = reply(
        api.client
            .post(format!("{}{LOOKUP}", api.base))
            .header("sec-fetch-site", "cross-site")
            .header(header::CONTENT_TYPE, "application/json")
            .bearer_auth(api.nav_token())
            .body(json!({"national_ids": [synthetic(1).expose()]}).to_string())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(&cross_site, StatusCode::FORBIDDEN, "cross-site-request");
    // The same call from a server (no browser headers) goes through: see every test above.
}

#[tokio::test]
async fn no_national_id_reaches_the_logs() {
    let api = start().await;
    let kari = person_with_email(&api.db, 1, "kari@example.no").await;
    let unknown = synthetic(2);
    let mut broken = unknown.expose().to_owned();
    broken.pop();
    broken.push('x');
    assert_eq!(
        api.lookup(&[kari.national_id.expose(), unknown.expose()])
            .await
            .status,
        StatusCode::OK
    );
    api.lookup(&[&broken]).await;
    let token = api.nav_token();
    api.post_raw(
        Some(&token),
        "application/json",
        format!("{{\"national_ids\": [{}]}}", unknown.expose()),
    )
    .await;
    let replayed = api.lookup_with(&token, &[unknown.expose()]).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED);

    let log = api.log.text();
    assert!(
        log.contains("contact look-up by an agency answered and audited"),
        "the capture works: {log}"
    );
    assert!(log.contains("agency API call refused"));
    for secret in [
        kari.national_id.expose(),
        unknown.expose(),
        broken.as_str(),
        token.as_str(),
        "kari@example.no",
    ] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
    // Nor the birth-date part alone (the first six digits), in case of partial formatting.
    assert!(!log.contains(&kari.national_id.expose()[..6]));
}

#[tokio::test]
async fn the_openapi_document_describes_the_endpoint_and_its_security() {
    let api = start().await;
    let response = api
        .client
        .get(format!("{}/api/v1/openapi.json", api.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    let operation = &document["paths"][LOOKUP]["post"];
    assert!(operation.is_object(), "{document}");
    for status in ["200", "400", "401", "403", "413", "415", "422"] {
        assert!(operation["responses"][status].is_object(), "{status}");
    }
    assert!(operation["responses"]["401"]["content"]["application/problem+json"].is_object());
    assert_eq!(operation["security"][0]["agency_jwt"], json!([]));
    let scheme = &document["components"]["securitySchemes"]["agency_jwt"];
    assert_eq!(scheme["scheme"], "bearer");
    assert_eq!(scheme["bearerFormat"], "JWT");
    for schema in [
        "LookupRequest",
        "LookupResponse",
        "PersonContact",
        "ProblemDocument",
    ] {
        assert!(
            document["components"]["schemas"][schema].is_object(),
            "{schema}"
        );
    }
    // The same document is what the code generates.
    assert_eq!(
        document,
        serde_json::from_str::<Value>(server::api::openapi::json()).unwrap()
    );
}

#[tokio::test]
async fn the_demo_agency_key_pair_is_made_once_and_its_tokens_work() {
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("demo-agency/public.pem");
    let config = Config::from_toml(&format!(
        "[test_eid]\nenabled = true\n[[agencies]]\nid = \"demo-agency\"\nname = \"Demo\"\n\
         algorithm = \"ES256\"\npublic_key_file = \"{}\"\ngenerate_key_pair = true\n",
        public.display()
    ))
    .unwrap();
    let token = server::api::auth::mint_demo_token(&config, None).unwrap();
    let first = std::fs::read_to_string(&public).unwrap();
    assert!(first.starts_with("-----BEGIN PUBLIC KEY-----"));
    server::api::auth::mint_demo_token(&config, Some("demo-agency")).unwrap();
    assert_eq!(
        std::fs::read_to_string(&public).unwrap(),
        first,
        "made once, then kept"
    );
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::ES256);
    let key = jsonwebtoken::DecodingKey::from_ec_pem(first.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(Algorithm::ES256);
    validation.set_audience(&[config.api_audience()]);
    let data = jsonwebtoken::decode::<Value>(&token, &key, &validation).unwrap();
    assert_eq!(data.claims["iss"], "demo-agency");
    assert!(server::api::auth::mint_demo_token(&config, Some("other")).is_err());
}
