//! Borgerportal's server: configuration, startup, the HTTP stack (request ids, tracing,
//! security headers, compression, static assets) and the Leptos pages.

mod acting;
pub mod api;
pub mod auth;
pub mod authority;
pub mod config;
pub mod contact;
pub mod cookies;
pub mod error_page;
mod forms;
#[cfg(feature = "dev")]
pub mod generate_data;
pub mod language;
pub mod notify;
pub mod page_cache;
pub mod pages;
pub mod post_pages;
mod private_file;
pub mod rate_limit;
pub mod seal_words;
pub mod security;
pub mod serve;
pub mod signing_pages;
pub mod signing_worker;
pub mod staff;
pub mod telemetry;
#[cfg(feature = "dev")]
pub mod test_eid;
pub mod texts;

use app::AssetManifest;
use axum::{
    body::Body,
    extract::{FromRef, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use borgerportal::storage::Database;
use leptos::prelude::*;
use leptos_axum::LeptosRoutes;
use std::{path::Path, sync::Arc};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    services::ServeDir,
    set_header::SetResponseHeaderLayer,
    trace::{DefaultOnResponse, TraceLayer},
};

use crate::config::Config;
use crate::security::SecurityPolicy;

/// Everything a request handler may need: one shared [`AppStateInner`]. Cloning is one
/// reference count: the middlewares and handlers take a copy on every request (with the fields
/// cloned one by one that was ~6 % of a rendered page's CPU time, docs/benchmarks.md).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

impl std::ops::Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

/// What [`AppState`] holds.
pub struct AppStateInner {
    pub leptos_options: LeptosOptions,
    pub db: Database,
    pub assets: Arc<AssetManifest>,
    pub security: SecurityPolicy,
    pub auth: Arc<auth::Auth>,
    /// The borgerservice staff's login, apart from citizens' (`staff/`).
    pub staff: Arc<staff::StaffAuth>,
    /// The built-in test eID, when configured.
    #[cfg(feature = "dev")]
    pub test_eid: Option<test_eid::TestEid>,
    /// Per-address limit on starting and finishing logins.
    pub login_rate_limit: rate_limit::AddressRateLimit,
    /// Per-address limit on back-channel logout calls.
    pub backchannel_rate_limit: rate_limit::AddressRateLimit,
    /// Contact data older than this must be confirmed (and is not used to notify).
    pub contact_staleness: time::Duration,
    /// The agency API: registered agencies and their keys.
    pub api: Arc<api::ApiState>,
    /// The agencies' names by id, for the activity log.
    pub agency_names: app::routes::activity::AgencyNames,
    /// The external mailbox providers a citizen may choose (`[[mailbox_providers]]`).
    pub mailbox_providers: app::routes::contact::MailboxProviders,
    /// Renders every page: a page's `GET`, a form shown again, the 404.
    pub pages: pages::PageRenderer,
    /// The delegation rules (`[delegation]`): ages, the longest end date, service scopes.
    pub delegation_rules: Arc<borgerportal::delegation::DelegationRules>,
}

/// Why the portal could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    DevOnly(#[from] config::DevOnlyError),
    #[cfg(feature = "dev")]
    #[error(transparent)]
    TestEid(#[from] test_eid::TestEidError),
    #[error("the HTTP client for the eID providers could not be built: {0}")]
    HttpClient(#[from] reqwest::Error),
    #[error(transparent)]
    AgencyKey(#[from] api::AgencyKeyError),
    #[error(transparent)]
    IdTokenKey(#[from] auth::seal::SealKeyError),
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Why the built site could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SiteError {
    #[error("the built site is missing at {0} (run `cargo xtask build` first): {1}")]
    Missing(String, std::io::Error),
    #[error("the site's hash.txt names no {0} hash")]
    NoHash(&'static str),
}

/// The built site: where it is, the Leptos options pointing at its hashed files, and the
/// stylesheet's name.
pub struct Site {
    pub leptos_options: LeptosOptions,
    pub assets: AssetManifest,
}

/// The name under which the build writes the JS, WASM and CSS (`pkg/borgerportal.<hash>.*`).
pub const OUTPUT_NAME: &str = "borgerportal";

impl Site {
    /// Read `hash.txt` (written by `cargo xtask build`) from `site_root`.
    pub fn load(site_root: &Path) -> Result<Self, SiteError> {
        let root = site_root
            .canonicalize()
            .map_err(|e| SiteError::Missing(site_root.display().to_string(), e))?;
        let hash_file = root.join("hash.txt");
        let hashes = std::fs::read_to_string(&hash_file)
            .map_err(|e| SiteError::Missing(hash_file.display().to_string(), e))?;
        let hash_of = |kind: &'static str| {
            hashes
                .lines()
                .filter_map(|line| line.split_once(':'))
                .find(|(k, _)| k.trim() == kind)
                .map(|(_, v)| v.trim().to_owned())
                .ok_or(SiteError::NoHash(kind))
        };
        let css = hash_of("css")?;
        let js = hash_of("js")?;
        let wasm = hash_of("wasm")?;
        // The shell names the hashed files itself (`AssetManifest`), so Leptos is not told to
        // hash: with `hash_files` its `HydrationScripts` read hash.txt on every request.
        let leptos_options = LeptosOptions::builder()
            .output_name(OUTPUT_NAME)
            .site_root(root.display().to_string())
            .site_pkg_dir("pkg")
            .build();
        Ok(Self {
            leptos_options,
            assets: AssetManifest::new(
                format!("/pkg/{OUTPUT_NAME}.{css}.css"),
                format!("/pkg/{OUTPUT_NAME}.{js}.js"),
                format!("/pkg/{OUTPUT_NAME}.{wasm}.wasm"),
            ),
        })
    }
}

impl AppState {
    pub fn new(config: &Config, site: Site, db: Database) -> Result<Self, StartupError> {
        // A build without the `dev` feature refuses the test eID and demo data.
        config.check_dev_only(config::DEV_BUILD)?;
        #[cfg(feature = "dev")]
        let test_eid = if config.test_eid.enabled {
            tracing::warn!("the built-in TEST eID is enabled: never do this in production");
            Some(test_eid::TestEid::load_or_create(
                &config.data_dir,
                &config.public_url,
            )?)
        } else {
            None
        };
        #[cfg(feature = "dev")]
        let extra = test_eid.as_ref().map(|t| t.providers()).unwrap_or_default();
        #[cfg(not(feature = "dev"))]
        let extra = Vec::new();
        let form_targets = security::FormTargets::default();
        let seal = auth::seal::IdTokenSeal::load_or_create(
            &config.session.id_token_key_path(&config.data_dir),
        )?;
        let auth = auth::Auth::new(config, extra, form_targets.clone(), seal)?;
        #[cfg(feature = "dev")]
        let extra_staff = test_eid
            .as_ref()
            .map(|t| t.staff_municipalities())
            .unwrap_or_default();
        #[cfg(not(feature = "dev"))]
        let extra_staff = Vec::new();
        // The same key seals staff sessions' id_tokens (the file is read once more).
        let staff_seal = auth::seal::IdTokenSeal::load_or_create(
            &config.session.id_token_key_path(&config.data_dir),
        )?;
        let staff = Arc::new(staff::StaffAuth::new(
            config,
            extra_staff,
            form_targets.clone(),
            staff_seal,
        )?);
        let api = api::ApiState::load(config)?;
        // Letters' notifications follow the same staleness limit as the look-up API.
        let db = db.with_contact_staleness(config.contact.staleness());
        let auth = Arc::new(auth);
        let assets = Arc::new(site.assets);
        #[allow(unused_mut)]
        let mut names: Vec<(String, String)> = config
            .agencies
            .iter()
            .map(|a| (a.id.clone(), a.name.clone()))
            .collect();
        // The demo letters' agencies are not configured; their names still show.
        #[cfg(feature = "dev")]
        for (id, name) in borgerportal::post::demo::demo_agencies() {
            if !names.iter().any(|(known, _)| known == id) {
                names.push((id.to_owned(), name.to_owned()));
            }
        }
        let agency_names = app::routes::activity::AgencyNames(names.into());
        let mailbox_providers = app::routes::contact::MailboxProviders(
            config
                .mailbox_providers
                .iter()
                .map(|p| (p.id.clone(), p.name.clone()))
                .collect(),
        );
        // Checked when the configuration was read (`Config::validate`).
        let delegation_rules = Arc::new(config.delegation.rules().unwrap_or_default());
        let pages = pages::PageRenderer::new(
            db.clone(),
            auth.clone(),
            assets.clone(),
            app::auth::ProviderChoices(auth.provider_choices().into()),
            agency_names.clone(),
            mailbox_providers.clone(),
            config.contact.staleness(),
        )
        .with_authority(app::routes::authority::AuthorityRules(
            delegation_rules.clone(),
        ))
        .with_staff(staff.clone());
        Ok(Self(Arc::new(AppStateInner {
            leptos_options: site.leptos_options,
            db,
            assets,
            security: SecurityPolicy {
                public_origin: Arc::from(config.public_origin()),
                hsts: config.is_https(),
                form_targets,
            },
            auth,
            staff,
            #[cfg(feature = "dev")]
            test_eid,
            login_rate_limit: rate_limit::AddressRateLimit::per_minute(
                config.login_rate_limit_per_minute,
            ),
            backchannel_rate_limit: rate_limit::AddressRateLimit::per_minute(
                config.backchannel_logout_rate_limit_per_minute,
            ),
            contact_staleness: config.contact.staleness(),
            api: Arc::new(api),
            agency_names,
            mailbox_providers,
            pages,
            delegation_rules,
        })))
    }
}

/// Every route: health checks, the language form, static files and the Leptos pages (with
/// the app's 404 page for anything else).
pub fn routes(state: &AppState) -> Router<AppState> {
    let site_root = std::path::PathBuf::from(state.leptos_options.site_root.to_string());
    // Every page is rendered through `pages` (it reads what a page shows first), also a form
    // shown again with its errors and the 404 page.
    let pages = state.pages.clone();
    // Anything the router does not know: a public file if there is one, else the app's 404.
    let not_found = {
        let pages = pages.clone();
        move |request: Request| async move { pages.render(request).await }
    };
    let public_files = ServeDir::new(&site_root)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(axum::handler::HandlerWithoutStateExt::into_service(
            not_found,
        ));

    // Hashed names never change content: a file found is cached for a year. A name not found
    // (an old page asking for a removed build, a typo) may exist after the next deploy, so its
    // 404 is not kept at all.
    let pkg = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            |response: &Response<_>| {
                Some(HeaderValue::from_static(
                    if response.status().is_success() {
                        "public, max-age=31536000, immutable"
                    } else {
                        "no-store"
                    },
                ))
            },
        ))
        .service(
            ServeDir::new(site_root.join("pkg"))
                .precompressed_br()
                .precompressed_gzip(),
        );

    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/language", post(language::change_language))
        .merge(
            Router::new()
                .route("/auth/login/{provider}", get(auth::login_start))
                .route("/auth/callback", get(auth::callback))
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    rate_limit::limit_logins,
                )),
        )
        .route("/auth/logout", post(auth::logout))
        .route(
            "/auth/backchannel-logout",
            post(auth::backchannel_logout).route_layer(middleware::from_fn_with_state(
                state.clone(),
                rate_limit::limit_backchannel_logouts,
            )),
        )
        .route("/auth/frontchannel-logout", get(auth::frontchannel_logout))
        .merge(dev_routes())
        .merge(pages::routes(&pages))
        .merge(contact::routes())
        .merge(authority::routes())
        .merge(acting::routes())
        .merge(post_pages::routes())
        .merge(signing_pages::routes())
        .merge(staff::routes(state))
        .nest("/api", api::routes())
        .nest_service("/pkg", pkg)
        // The islands' server functions (the pages are routed above; Leptos' own page routes
        // are none).
        .leptos_routes(state, Vec::new(), || ())
        .fallback_service(public_files)
}

/// The development-only routes: the test eID's.
#[cfg(feature = "dev")]
fn dev_routes() -> Router<AppState> {
    test_eid::routes()
}

/// A build without the `dev` feature has no development-only routes.
#[cfg(not(feature = "dev"))]
fn dev_routes() -> Router<AppState> {
    Router::new()
}

/// The layers every response passes through, outermost first: a request id on every request
/// and response; a tracing span per request; compression; cross-site writes refused and
/// security headers set; a failing handler becomes the translated error page; the language and
/// the session are resolved for the pages; anonymous pages that are the same for everyone come
/// from `page_cache`; a panic becomes a 500 for `error_pages`.
///
/// They wrap the router as one service rather than being added with `Router::layer`, which
/// puts a copy of them on every route: then each request cloned its route's whole stack and
/// Leptos handler (~5 % of a cached page's CPU time, docs/benchmarks.md), and a page from the
/// cache still went through routing first.
pub fn with_http_stack(router: Router<AppState>, state: AppState) -> Router {
    let stack = ServiceBuilder::new()
        .map_request(drop_malformed_request_id)
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(telemetry::make_span::<Body>)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            state.security.clone(),
            security::secure,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), error_pages))
        .map_request(language::resolve_language)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::load_session,
        ))
        // Pages that are the same for every visitor without a session: from memory.
        .layer(middleware::from_fn_with_state(
            page_cache::PageCache::new(state.auth.cookie_name()),
            page_cache::serve,
        ))
        .layer(CatchPanicLayer::custom(
            |_panic: Box<dyn std::any::Any + Send>| {
                let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
                response.extensions_mut().insert(InternalFailure);
                response
            },
        ))
        .service(router.with_state(state));
    Router::new().fallback_service(stack)
}

/// A client's `X-Request-Id` is kept (logged, echoed, shown as the error page's reference)
/// only if it is 1 to 64 characters of `A-Z a-z 0-9 . _ -` (a UUID is one); any other is
/// dropped, and the next layer makes a new UUID. So a client cannot put odd text into the
/// logs or the error page, nor pass a huge value along.
fn drop_malformed_request_id(mut request: Request) -> Request {
    let well_formed = |id: &[u8]| {
        (1..=64).contains(&id.len())
            && id
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    };
    let headers = request.headers_mut();
    let ids = headers.get_all("x-request-id");
    let mut ids = ids.iter();
    let keep = matches!((ids.next(), ids.next()), (Some(id), None) if well_formed(id.as_bytes()));
    if !keep {
        headers.remove("x-request-id");
    }
    request
}

/// Marks a response whose handler failed (panicked); `error_pages` turns it into the
/// translated error page.
#[derive(Clone, Copy, Debug)]
pub struct InternalFailure;

/// Replace a failed handler's bare 500 with the translated error page in the request's
/// language, carrying the request id as a reference.
async fn error_pages(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let is_api = api::is_api_path(request.uri().path());
    let lang = language::request_language(request.headers());
    let reference = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response: Response<Body> = next.run(request).await;
    if response.extensions().get::<InternalFailure>().is_some() {
        if is_api {
            // Agencies' systems get a problem document, never an HTML page.
            tracing::error!("an API handler failed; answered with a problem document");
            return api::Problem::internal().into_response();
        }
        tracing::error!("a request handler failed; answered with the error page");
        return error_page::internal_error(lang, reference.as_deref(), &state.assets.stylesheet);
    }
    response
}

/// Liveness: the process is up and answering.
async fn healthz() -> &'static str {
    "ok"
}

/// Readiness: the database answers. Load balancers stop sending traffic when it does not.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.db.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}
