//! The HTTP stack in-process: a real server on a loopback port, a real SQLite database, and a
//! real HTTP client. Covers health checks, security headers and the CSP nonce, the language
//! form, cross-site refusal, the translated 404 and error pages, and static assets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::{routing::get, Router};
use borgerportal::storage::Database;
use reqwest::{header, redirect::Policy, Client, StatusCode};
use server::{config::Config, routes, with_http_stack, AppState, Site};
use std::path::Path;

struct TestServer {
    base: String,
    client: Client,
    db: Database,
    _dir: tempfile::TempDir,
}

const CSS_HASH: &str = "0123456789abcdef0123";

/// A minimal built site: hash.txt and the hashed files it names (with a brotli copy).
fn fake_site(root: &Path) {
    let pkg = root.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(
        root.join("hash.txt"),
        format!("js: aaaa\nwasm: bbbb\ncss: {CSS_HASH}\n"),
    )
    .unwrap();
    std::fs::write(
        pkg.join(format!("borgerportal.{CSS_HASH}.css")),
        "body{color:#000}",
    )
    .unwrap();
    std::fs::write(
        pkg.join(format!("borgerportal.{CSS_HASH}.css.br")),
        b"fake-brotli",
    )
    .unwrap();
    std::fs::write(
        root.join("favicon.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
}

async fn start_with(config_toml: &str, extra: Router<AppState>) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let site_root = dir.path().join("site");
    fake_site(&site_root);
    // The portal's own files (the id_token key) in the test's folder, not the working one.
    let config = Config::from_toml(&format!(
        "data_dir = '{}'\n{config_toml}",
        dir.path().join("data").display()
    ))
    .unwrap();
    let db = Database::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    db.migrate().await.unwrap();
    let state = AppState::new(&config, Site::load(&site_root).unwrap(), db.clone()).unwrap();
    let app = with_http_stack(extra.merge(routes(&state)), state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer {
        base: format!("http://{addr}"),
        client: Client::builder().redirect(Policy::none()).build().unwrap(),
        db,
        _dir: dir,
    }
}

async fn start() -> TestServer {
    start_with("", Router::new()).await
}

impl TestServer {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }
}

fn nonce_in_csp(response: &reqwest::Response) -> String {
    let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    let start = csp.find("'nonce-").expect("a nonce in the CSP") + "'nonce-".len();
    csp[start..].split('\'').next().unwrap().to_owned()
}

#[tokio::test]
async fn health_and_readiness() {
    let server = start().await;
    let live = server.get("/healthz").await;
    assert_eq!(live.status(), StatusCode::OK);
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    server.db.close().await;
    let ready = server.get("/readyz").await;
    assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        !ready.text().await.unwrap().contains("sqlite"),
        "no internals in the answer"
    );
    assert_eq!(server.get("/healthz").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn the_front_page_carries_the_security_headers_and_a_fresh_nonce() {
    let server = start().await;
    let first = server.get("/").await;
    assert_eq!(first.status(), StatusCode::OK);
    let headers = first.headers().clone();
    for name in [
        "x-content-type-options",
        "referrer-policy",
        "permissions-policy",
        "x-frame-options",
        "x-request-id",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    assert!(
        !headers.contains_key(header::STRICT_TRANSPORT_SECURITY),
        "no HSTS over http"
    );
    let nonce = nonce_in_csp(&first);
    let csp = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    let html = first.text().await.unwrap();
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\">")),
        "{html}"
    );
    // Every inline script carries this response's nonce.
    for script in html.split("<script").skip(1) {
        assert!(
            script.starts_with(&format!(" type=\"module\" nonce=\"{nonce}\""))
                || script.starts_with(&format!(" nonce=\"{nonce}\""))
                || script.starts_with("></script>"),
            "script without the nonce: {script:.80}"
        );
    }
    assert!(html.contains(&format!("/pkg/borgerportal.{CSS_HASH}.css")));
    let second = server.get("/").await;
    assert_ne!(
        nonce_in_csp(&second),
        nonce,
        "a new nonce for every response"
    );
}

#[tokio::test]
async fn hsts_is_sent_when_served_over_https() {
    let server = start_with(r#"public_url = "https://portal.example""#, Router::new()).await;
    let response = server.get("/").await;
    assert!(response.headers()[header::STRICT_TRANSPORT_SECURITY]
        .to_str()
        .unwrap()
        .contains("max-age="));
}

#[tokio::test]
async fn the_language_follows_accept_language_then_the_cookie() {
    let server = start().await;
    let html = server.get("/").await.text().await.unwrap();
    assert!(
        html.starts_with("<!DOCTYPE html><html lang=\"nb\" dir=\"ltr\">"),
        "bokmål by default, written left to right: {html:.80}"
    );
    let english = server
        .client
        .get(server.url("/"))
        .header(header::ACCEPT_LANGUAGE, "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("<html lang=\"en\" dir=\"ltr\">"));
    assert!(english.contains("Welcome to Borgerportal"));
    let danish = server
        .client
        .get(server.url("/"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .header(header::COOKIE, "i18n_pref_locale=da")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(danish.contains("lang=\"da\"") && danish.contains("Skift sprog"));
}

#[tokio::test]
async fn the_language_form_sets_the_cookie_and_goes_back() {
    let server = start().await;
    let response = server
        .client
        .post(server.url("/language"))
        .form(&[("lang", "nn"), ("return_to", "/privacy?x=1")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()[header::LOCATION], "/privacy?x=1");
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("i18n_pref_locale=nn;"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax") && cookie.contains("Path=/"));
    assert!(!cookie.contains("Secure"), "not over plain http");
}

#[tokio::test]
async fn bad_language_input_changes_nothing_and_says_so_in_the_right_language() {
    let server = start().await;
    for form in [
        [("lang", "xx"), ("return_to", "/")],
        [("lang", "en"), ("return_to", "//evil.example/")],
        [("lang", "en"), ("return_to", "https://evil.example/")],
    ] {
        let response = server
            .client
            .post(server.url("/language"))
            .header(header::ACCEPT_LANGUAGE, "da")
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert!(!response.headers().contains_key(header::SET_COOKIE));
        assert!(!response.headers().contains_key(header::LOCATION));
        let html = response.text().await.unwrap();
        assert!(
            html.contains("Vi kunne ikke forstå forespørgslen"),
            "{html}"
        );
    }
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let server = start().await;
    let cross_site = server
        .client
        .post(server.url("/language"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    assert!(!cross_site.headers().contains_key(header::SET_COOKIE));
    let other_origin = server
        .client
        .post(server.url("/language"))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(other_origin.status(), StatusCode::FORBIDDEN);
    let same_origin = server
        .client
        .post(server.url("/language"))
        .header(header::ORIGIN, "http://127.0.0.1:3000")
        .header("sec-fetch-site", "same-origin")
        .form(&[("lang", "en")])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn unknown_pages_get_the_translated_404() {
    let server = start().await;
    let response = server.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY));
    let html = response.text().await.unwrap();
    assert!(html.contains("Vi fant ikke siden"), "{html}");
    let english = server
        .client
        .get(server.url("/missing"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    assert_eq!(english.status(), StatusCode::NOT_FOUND);
    assert!(english
        .text()
        .await
        .unwrap()
        .contains("We could not find that page"));
}

#[tokio::test]
async fn a_page_is_sent_whole_with_its_length_in_the_request_language() {
    let server = start().await;
    // A rendered page (the query keeps it out of the page cache), the 404 and the login page,
    // each with its own title in the head.
    for (path, status, title) in [
        ("/?x=1", StatusCode::OK, "<title>Borgerportal</title>"),
        (
            "/no/such/page",
            StatusCode::NOT_FOUND,
            "<title>Vi kunne ikke finde siden – Borgerportal</title>",
        ),
        (
            "/login?return_to=/post",
            StatusCode::OK,
            "<title>Log ind – Borgerportal</title>",
        ),
    ] {
        let response = server
            .client
            .get(server.url(path))
            .header(header::ACCEPT_LANGUAGE, "da")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), status, "{path}");
        assert!(
            !response.headers().contains_key(header::TRANSFER_ENCODING),
            "{path}: not streamed in chunks"
        );
        let length: usize = response.headers()[header::CONTENT_LENGTH]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        let html = response.text().await.unwrap();
        assert_eq!(html.len(), length, "{path}");
        assert!(
            html.starts_with("<!DOCTYPE html><html lang=\"da\" dir=\"ltr\">"),
            "{path}: {html:.120}"
        );
        let head = &html[..html.find("</head>").expect("a head")];
        assert!(head.contains(title), "{path}: {title} in {head}");
        assert_eq!(html.matches("<title>").count(), 1, "{path}: one title");
    }
}

#[tokio::test]
async fn a_failing_handler_gives_the_translated_error_page_without_internals() {
    async fn explode() -> &'static str {
        panic!("database password is hunter2");
    }
    let server = start_with("", Router::new().route("/explode", get(explode))).await;
    let response = server
        .client
        .get(server.url("/explode"))
        .header(header::ACCEPT_LANGUAGE, "nn")
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["x-request-id"], "req-123");
    assert!(response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY));
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"nn\">"));
    assert!(html.contains("Noko gjekk gale"));
    assert!(
        html.contains("req-123"),
        "the reference support can look up"
    );
    assert!(!html.contains("hunter2") && !html.contains("panic"));
}

#[tokio::test]
async fn hashed_assets_are_served_compressed_and_cached_for_a_year() {
    let server = start().await;
    let response = server
        .client
        .get(server.url(&format!("/pkg/borgerportal.{CSS_HASH}.css")))
        .header(header::ACCEPT_ENCODING, "br")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
    assert!(response.headers()[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("immutable"));
    assert_eq!(response.headers()[header::CONTENT_TYPE], "text/css");
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let plain = server
        .get(&format!("/pkg/borgerportal.{CSS_HASH}.css"))
        .await;
    assert!(!plain.headers().contains_key(header::CONTENT_ENCODING));
    assert_eq!(plain.text().await.unwrap(), "body{color:#000}");
    let favicon = server.get("/favicon.svg").await;
    assert_eq!(favicon.status(), StatusCode::OK);
    assert!(favicon.headers().contains_key(header::LAST_MODIFIED));
    // A hashed name that is not there is not cached: a later deploy may bring it.
    let missing = server.get("/pkg/borgerportal.0000000000000000.css").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.headers()[header::CACHE_CONTROL], "no-store");
}

#[tokio::test]
async fn pages_are_compressed_for_browsers_that_ask() {
    let server = start().await;
    let response = server
        .client
        .get(server.url("/accessibility"))
        .header(header::ACCEPT_ENCODING, "br, gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
}

#[tokio::test]
async fn the_request_id_is_made_when_missing() {
    let server = start().await;
    let a = server.get("/healthz").await;
    let b = server.get("/healthz").await;
    let (a, b) = (&a.headers()["x-request-id"], &b.headers()["x-request-id"]);
    assert_ne!(a, b);
    assert_eq!(a.len(), 36, "a UUID");
}

#[tokio::test]
async fn a_well_formed_client_request_id_is_kept_and_any_other_replaced() {
    let server = start().await;
    let sent = |id: header::HeaderValue| {
        let request = server
            .client
            .get(server.url("/healthz"))
            .header("x-request-id", id);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };
    for good in [
        "req-123",
        "0190c6a2-7b1e-7cc4-9f3a-2d1e5b7c9a10",
        "a.B_c-9",
        &"x".repeat(64),
    ] {
        assert_eq!(
            sent(header::HeaderValue::from_str(good).unwrap()).await,
            good
        );
    }
    // (A line break cannot arrive: HTTP/1.1 has no way to carry one in a header value.)
    for bad in [
        "".as_bytes(),
        b"has space",
        b"<script>",
        b"tab\tinside",
        b"caf\xc3\xa9",
        b"\xff\xfe",
        "y".repeat(65).as_bytes(),
        b"a/b",
    ] {
        let made = sent(header::HeaderValue::from_bytes(bad).unwrap()).await;
        assert_ne!(made.as_bytes(), bad);
        assert!(
            uuid::Uuid::parse_str(&made).is_ok(),
            "{bad:?}: a new UUID, not {made:?}"
        );
    }
}

#[tokio::test]
async fn starting_logins_is_rate_limited_per_client() {
    let server = start_with("login_rate_limit_per_minute = 2", Router::new()).await;
    for _ in 0..2 {
        let response = server.get("/auth/login/nobody").await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "within the limit");
    }
    let refused = server
        .client
        .get(server.url("/auth/callback?state=x"))
        .header(header::ACCEPT_LANGUAGE, "en")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()[header::RETRY_AFTER], "60");
    assert!(refused.text().await.unwrap().contains("Too many attempts"));
    // Other pages are not limited.
    assert_eq!(server.get("/").await.status(), StatusCode::OK);
}
