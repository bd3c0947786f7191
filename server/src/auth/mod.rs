//! National eID login: the OpenID Connect relying party, server-side sessions, step-up and
//! logout (local, at the provider, back-channel and front-channel).
//!
//! Routes:
//! - `GET /auth/login/{provider}?loa=&return_to=` starts a login (or a step-up) at a provider;
//! - `GET /auth/callback` finishes it: every check, a new session (never the old id), the audit
//!   event, and back to where the citizen was;
//! - `POST /auth/logout` ends the session here and at the provider;
//! - `POST /auth/backchannel-logout` and `GET /auth/frontchannel-logout` let the provider end
//!   sessions it started.

pub mod logout_token;
pub mod oidc;
pub mod seal;

use app::auth::SessionContext;
use app::routes::Page;
use axum::{
    extract::{Form, Path, Query, Request, State},
    http::{header, HeaderMap, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use borgerportal::{
    access::Loa,
    audit::{AuditKind, NewAuditEvent},
    person::{Language, NewPerson},
    session::{CompletedLogin, LoginRecord, NewLoginState, SessionToken},
    storage::Database,
};
use serde::Deserialize;
use std::{collections::HashMap, sync::Arc, time::Duration as StdDuration};
use time::{Duration, OffsetDateTime};

use crate::config::{Config, ProviderConfig};
use crate::cookies::SessionCookies;
use crate::language::{cookie_language, is_local_path, language_cookie, request_language};
use crate::AppState;
use oidc::{LoginError, Provider};

/// A pending login may wait this long at the provider.
const LOGIN_STATE_LIFETIME: Duration = Duration::minutes(10);
/// `last_seen` is written at most this often per session (not on every request).
const TOUCH_INTERVAL: Duration = Duration::seconds(60);

/// Everything login needs.
pub struct Auth {
    providers: Vec<Arc<Provider>>,
    by_id: HashMap<String, Arc<Provider>>,
    pub idle_timeout: Duration,
    absolute_lifetime: Duration,
    /// The session cookie and the pending login's cookie.
    pub cookies: SessionCookies,
    public_url: String,
    /// Seals the id_token a session keeps for logout.
    seal: seal::IdTokenSeal,
}

impl Auth {
    /// The configured providers plus any the test eID adds.
    pub fn new(
        config: &Config,
        extra: Vec<ProviderConfig>,
        form_targets: crate::security::FormTargets,
        seal: seal::IdTokenSeal,
    ) -> Result<Self, reqwest::Error> {
        // Never follow redirects from a provider's back channel (token, discovery, keys).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(StdDuration::from_secs(10))
            .build()?;
        let public_url = config.public_url.trim_end_matches('/').to_owned();
        let redirect_uri = format!("{public_url}/auth/callback");
        let providers: Vec<Arc<Provider>> = config
            .oidc
            .providers
            .iter()
            .cloned()
            .chain(extra)
            .map(|p| {
                Arc::new(Provider::new(
                    p,
                    redirect_uri.clone(),
                    http.clone(),
                    form_targets.clone(),
                ))
            })
            .collect();
        let by_id = providers
            .iter()
            .map(|p| (p.config.id.clone(), p.clone()))
            .collect();
        Ok(Self {
            providers,
            by_id,
            idle_timeout: Duration::minutes(i64::from(config.session.idle_timeout_minutes)),
            absolute_lifetime: Duration::hours(i64::from(config.session.absolute_lifetime_hours)),
            cookies: SessionCookies::new(
                config.is_https(),
                ["__Host-borgerportal_session", "borgerportal_session"],
                ["__Secure-borgerportal_login", "borgerportal_login"],
                "/auth/callback",
            ),
            public_url,
            seal,
        })
    }

    /// (id, name) of each provider, in configuration order, for the login page.
    pub fn provider_choices(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|p| (p.config.id.clone(), p.config.name.clone()))
            .collect()
    }

    pub(crate) fn provider(&self, id: &str) -> Option<&Arc<Provider>> {
        self.by_id.get(id)
    }

    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        self.cookies.session_name()
    }

    pub(crate) fn session_token(&self, headers: &HeaderMap) -> Option<SessionToken> {
        self.cookies
            .session_value(headers)
            .and_then(SessionToken::from_cookie_value)
    }
}

/// Middleware: find the request's session, end it when idle or too old, and hand it to the
/// handlers (request extension `SessionContext`).
///
/// Not for a page's `GET` ([`page_reads_session`]): the page renderer reads its session itself,
/// in the snapshot its own reads share (`pages.rs`), so a page reads in one SQLite read
/// transaction instead of two (docs/benchmarks.md). Anything else (an API call, a form's
/// `POST`, a login's callback) reads its session here, alone: those may write and then read.
pub async fn load_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if !page_reads_session(request.method(), request.uri().path()) {
        if let Some(session) = find_session(&state.auth, &state.db, request.headers()).await {
            request.extensions_mut().insert(session);
        }
    }
    let personal = state.auth.session_token(request.headers()).is_some()
        || request.headers().contains_key(header::AUTHORIZATION);
    let mut response = next.run(request).await;
    keep_out_of_caches(response.headers_mut(), personal);
    response
}

/// A response to a request with a session cookie or an agency's token may be about a person:
/// no cache keeps it (after logout, Back must not show a letter). Others, which the same path
/// answers differently with a session, vary by the cookie. A handler's own `Cache-Control`
/// (hashed assets, attachments) stands.
fn keep_out_of_caches(headers: &mut HeaderMap, personal: bool) {
    if headers.contains_key(header::CACHE_CONTROL) {
        return;
    }
    if personal {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        headers.append(header::VARY, HeaderValue::from_static("cookie"));
    }
}

/// Whether the page renderer reads this request's session itself (a page's `GET`), rather than
/// [`load_session`].
pub fn page_reads_session(method: &Method, path: &str) -> bool {
    matches!(*method, Method::GET | Method::HEAD) && Page::of(path) != Page::NotFound
}

/// The live session the request's cookie names, if any, with its activity recorded (at most
/// once a minute). A session past its idle or absolute timeout is none.
pub async fn find_session(
    auth: &Auth,
    db: &Database,
    headers: &HeaderMap,
) -> Option<SessionContext> {
    let token = auth.session_token(headers)?;
    let now = OffsetDateTime::now_utc();
    match db.find_session(&token, now, auth.idle_timeout).await {
        Ok(Some(session)) => {
            if now - session.last_seen_at > TOUCH_INTERVAL {
                if let Err(error) = db.touch_session(&token, now).await {
                    tracing::warn!(%error, "could not record session activity");
                }
            }
            Some(SessionContext {
                session: Arc::new(session),
                idle_timeout_seconds: auth.idle_timeout.whole_seconds(),
                authority: Arc::default(),
            })
        }
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, "could not read the session");
            None
        }
    }
}

#[derive(Deserialize)]
pub struct LoginQuery {
    loa: Option<String>,
    return_to: Option<String>,
}

/// Where a login failure sends the citizen: a calm, translated page with a way back.
fn failure(reason: &str) -> Response {
    Redirect::to(&format!("/login/failed?reason={reason}")).into_response()
}

/// A login that did not complete once its pending state was found: the failure page also gets
/// the level asked for and where the person was going, so "try again" asks for the same level
/// and comes back to the page that asked.
fn failure_of(reason: &str, pending: &borgerportal::session::LoginState) -> Response {
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("reason", reason)
        .append_pair("loa", pending.requested_loa.as_str())
        .append_pair("return_to", &pending.return_to)
        .finish();
    Redirect::to(&format!("/login/failed?{query}")).into_response()
}

/// `GET /auth/login/{provider}`: start a login, or a step-up when already logged in.
pub async fn login_start(
    State(state): State<AppState>,
    Path(provider_id): Path<String>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
    session: Option<axum::Extension<SessionContext>>,
) -> Response {
    let Some(provider) = state.auth.provider(&provider_id) else {
        return failure("unknown_provider");
    };
    let loa = match query.loa.as_deref() {
        None | Some("") => Loa::Substantial,
        Some(name) => match Loa::from_str_name(name) {
            Some(loa) => loa,
            None => return failure("invalid_request"),
        },
    };
    let return_to = match query.return_to.as_deref() {
        None | Some("") => "/".to_owned(),
        Some(path) if is_local_path(path) => path.to_owned(),
        Some(_) => return failure("invalid_request"),
    };
    // Already logged in: asking again means a step-up (or re-authentication), so force it.
    let force_login = session.is_some();
    begin_login(
        &state,
        provider,
        loa,
        return_to,
        force_login,
        None,
        &headers,
    )
    .await
}

/// Sends the citizen to `provider` to log in at `loa` (again, with `force_login`), coming back
/// to `return_to`; `signs`: the login is the fresh authentication that signs this job (only the
/// "sign" form passes one, `signing_pages.rs`).
pub(crate) async fn begin_login(
    state: &AppState,
    provider: &Provider,
    loa: Loa,
    return_to: String,
    force_login: bool,
    signs: Option<borgerportal::SigningJobId>,
    headers: &HeaderMap,
) -> Response {
    let provider_id = provider.config.id.clone();
    let start = match provider
        .start(loa, force_login, request_language(headers))
        .await
    {
        Ok(start) => start,
        Err(error) => {
            tracing::error!(%error, provider = %provider_id, "could not start a login");
            return failure("unavailable");
        }
    };
    let browser_binding = state
        .auth
        .cookies
        .login_cookie(&start.state, LOGIN_STATE_LIFETIME);
    let pending = NewLoginState {
        state: start.state,
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
        provider: provider_id.clone(),
        requested_loa: loa,
        return_to,
        reauthenticate: force_login,
        signs,
        expires_at: OffsetDateTime::now_utc() + LOGIN_STATE_LIFETIME,
    };
    if let Err(error) = state.db.create_login_state(pending).await {
        tracing::error!(%error, "could not store the pending login");
        return failure("unavailable");
    }
    tracing::info!(provider = %provider_id, loa = loa.as_str(), force_login, signs = signs.is_some(), "login started");
    let mut response = Redirect::to(&start.url).into_response();
    if let Some(cookie) = browser_binding {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /auth/callback`: finish the login.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let mut response = callback_outcome(&state, &headers, query, now).await;
    // The pending login is over, whatever the outcome: drop the browser binding.
    if let Some(clear) = state.auth.cookies.login_cookie("", Duration::ZERO) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

async fn callback_outcome(
    state: &AppState,
    headers: &HeaderMap,
    query: CallbackQuery,
    now: OffsetDateTime,
) -> Response {
    // The state is one-time, server-side and bound to this browser: missing, unknown,
    // replayed, expired or started elsewhere all end here.
    let pending = match query.state.as_deref() {
        Some(value) if !value.is_empty() && state.auth.cookies.started_here(headers, value) => {
            state.db.take_login_state(value, now).await
        }
        _ => Ok(None),
    };
    let pending = match pending {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            tracing::warn!("login callback with a missing, unknown, used or expired state");
            return failure("expired");
        }
        Err(error) => {
            tracing::error!(%error, "could not read the pending login");
            return failure("unavailable");
        }
    };
    let Some(provider) = state.auth.provider(&pending.provider).cloned() else {
        return failure("unknown_provider");
    };
    if let Err(error) = provider.check_callback_issuer(query.iss.as_deref()).await {
        tracing::warn!(%error, provider = %pending.provider, "login refused");
        return failure_of("failed", &pending);
    }
    if let Some(error) = query.error.as_deref() {
        tracing::info!(provider = %pending.provider, error, "the provider ended the login");
        let reason = if error == "access_denied" {
            "cancelled"
        } else {
            "failed"
        };
        return failure_of(reason, &pending);
    }
    let Some(code) = query.code.as_deref() else {
        return failure_of("failed", &pending);
    };
    let verified = match provider
        .finish(
            code,
            &pending.pkce_verifier,
            &pending.nonce,
            pending.requested_loa,
            pending.reauthenticate.then_some(pending.started_at),
        )
        .await
    {
        Ok(verified) => verified,
        Err(error) => {
            tracing::warn!(%error, provider = %pending.provider, "login refused");
            if let LoginError::LevelTooLow {
                national_id: Some(id),
            } = &error
            {
                record_failed_login(&state.db, id, &pending.provider).await;
            }
            let reason = match error {
                LoginError::LevelTooLow { .. } => "level",
                LoginError::NoNationalId => "no_national_id",
                LoginError::Discovery(_) => "unavailable",
                _ => "failed",
            };
            return failure_of(reason, &pending);
        }
    };

    // Kept for the logout hint, sealed: it holds the national id (`auth/seal.rs`).
    let Some(id_token) = state.auth.seal.seal(&verified.id_token) else {
        tracing::error!("could not seal the id_token");
        return failure("unavailable");
    };
    // A new person starts in the language they chose on the portal before logging in, else
    // their country's; a known person's saved language stands (`complete_login` keeps it).
    let language = cookie_language(headers)
        .and_then(Language::from_code)
        .unwrap_or_else(|| Language::default_for(verified.national_id.country()));
    let login = CompletedLogin {
        person: NewPerson::new(
            verified.national_id.clone(),
            verified.given_name.as_deref().unwrap_or(""),
            verified.family_name.as_deref().unwrap_or(""),
            language,
        ),
        names_sent: verified.given_name.is_some(),
        loa: verified.loa,
        auth_time: verified.auth_time.unwrap_or(now),
        provider: pending.provider.clone(),
        subject_claim: verified.subject,
        sid: verified.sid,
        id_token,
        absolute_lifetime: state.auth.absolute_lifetime,
        // A new session id at every login: a cookie planted before login is worthless after it.
        previous: state.auth.session_token(headers),
        idle_timeout: state.auth.idle_timeout,
        continues_visit: pending.signs.is_some(),
    };
    let LoginRecord {
        token,
        person,
        stepped_up,
        ..
    } = match state.db.complete_login(login, now).await {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(%error, "could not complete the login");
            return failure("unavailable");
        }
    };
    tracing::info!(person = %person.id, provider = %pending.provider, loa = verified.loa.as_str(), stepped_up, "logged in");

    let return_to = if is_local_path(&pending.return_to) {
        pending.return_to
    } else {
        "/".to_owned()
    };
    let return_to = if let Some(job) = pending.signs {
        // The fresh login the "sign" form asked for: it signs the job now, with the id_token
        // as the eID signed it, and the person goes back to the job's page.
        let evidence = borgerportal::signing::SignatureEvidence {
            loa: verified.loa,
            // A re-authentication without `auth_time` was refused above.
            auth_time: verified.auth_time.unwrap_or(pending.started_at),
            requested_at: pending.started_at,
            eid: pending.provider.clone(),
            name: [
                verified.given_name.as_deref(),
                verified.family_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
            id_token: secrecy::ExposeSecret::expose_secret(&verified.id_token).to_owned(),
        };
        crate::signing_pages::sign_after_login(state, &token, job, &evidence, now).await
    } else if !stepped_up && contact_must_be_confirmed(state, person.id, verified.loa, now).await {
        // Contact data none of which was confirmed within the limit: ask first (a step-up is
        // the same visit, so it is not asked again).
        format!("/contact/check?return_to={}", app::auth::encode(&return_to))
    } else {
        return_to
    };
    let mut response = Redirect::to(&return_to).into_response();
    if let Some(cookie) = state
        .auth
        .cookies
        .session_cookie(&token.as_cookie_value(), None)
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    // The saved language wins: the pages after login speak it, wherever the visit started.
    if let Some(cookie) = language_cookie(person.language.code(), state.auth.cookies.secure()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// Whether the person's contact data is all older than the staleness limit. A failure to read
/// it does not stop the login: the question is asked next time.
async fn contact_must_be_confirmed(
    state: &AppState,
    person: borgerportal::person::PersonId,
    loa: borgerportal::access::Loa,
    now: time::OffsetDateTime,
) -> bool {
    use borgerportal::access::{Actor, Policy, ReadContact};

    let actor = Actor::Citizen { person, loa };
    let Ok(access) = Policy::authorize::<ReadContact>(&actor, person) else {
        return false;
    };
    match state.db.find_contact_info(&access).await {
        Ok(info) => info.must_be_confirmed(now, state.contact_staleness),
        Err(error) => {
            tracing::warn!(%error, "could not read the contact register at login");
            false
        }
    }
}

async fn record_failed_login(
    db: &Database,
    id: &borgerportal::identity::NationalId,
    provider: &str,
) {
    if let Ok(Some(person)) = db.find_person_by_national_id(id).await {
        let mut event = NewAuditEvent::new(person.id, AuditKind::LoginFailed);
        event.provider = Some(provider.to_owned());
        if let Err(error) = db.record_event(event).await {
            tracing::error!(%error, "could not record the failed login");
        }
    }
}

/// `POST /auth/logout`: end the session here, then at the provider.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Option<axum::Extension<SessionContext>>,
) -> Response {
    let clear = state.auth.cookies.session_cookie("", Some(Duration::ZERO));
    let mut target = "/logged-out".to_owned();
    if let (Some(token), Some(axum::Extension(ctx))) = (state.auth.session_token(&headers), session)
    {
        if let Err(error) = state.db.delete_session(&token).await {
            tracing::error!(%error, "could not end the session");
        }
        let mut event = NewAuditEvent::new(ctx.session.person, AuditKind::LoggedOut);
        event.actor = Some(ctx.session.person);
        event.provider = Some(ctx.session.provider.clone());
        event.loa = Some(ctx.session.loa);
        if let Err(error) = state.db.record_event(event).await {
            tracing::error!(%error, "could not record the logout");
        }
        if let Some(provider) = state.auth.provider(&ctx.session.provider) {
            if let Some(endpoint) = provider.end_session_endpoint().await {
                if let Ok(mut url) = url::Url::parse(&endpoint) {
                    use secrecy::ExposeSecret;
                    match state.auth.seal.open(&ctx.session.id_token) {
                        Some(id_token) => {
                            url.query_pairs_mut()
                                .append_pair("id_token_hint", id_token.expose_secret());
                        }
                        // Sealed under another key (an instance with another key file).
                        None => tracing::warn!("the session's id_token could not be opened"),
                    }
                    url.query_pairs_mut()
                        .append_pair(
                            "post_logout_redirect_uri",
                            &format!("{}/logged-out", state.auth.public_url),
                        )
                        .append_pair("state", &uuid::Uuid::new_v4().simple().to_string())
                        .append_pair("ui_locales", request_language(&headers));
                    target = url.to_string();
                }
            }
        }
        tracing::info!(person = %ctx.session.person, "logged out");
    }
    let mut response = Redirect::to(&target).into_response();
    if let Some(clear) = clear {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

#[derive(Deserialize)]
pub struct BackchannelForm {
    #[serde(default)]
    logout_token: String,
}

/// `POST /auth/backchannel-logout`: the provider ends the sessions of one of its logins.
pub async fn backchannel_logout(
    State(state): State<AppState>,
    Form(form): Form<BackchannelForm>,
) -> Response {
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    let verified = logout_token::verify(&state.auth.providers, &form.logout_token).await;
    let token = match verified {
        Ok(token) => token,
        Err(error) => {
            tracing::warn!(%error, "logout token refused");
            return (StatusCode::BAD_REQUEST, no_store).into_response();
        }
    };
    let now = OffsetDateTime::now_utc();
    match state
        .db
        // Remember the id for as long as the token could still be accepted (its age limit plus
        // the clock skew allowed), so a replay is always recognised.
        .remember_logout_token(
            &token.issuer,
            &token.jti,
            now + logout_token::ACCEPTANCE_WINDOW,
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(provider = %token.provider, "logout token replayed");
            return (StatusCode::BAD_REQUEST, no_store).into_response();
        }
        Err(error) => {
            tracing::error!(%error, "could not check the logout token for replay");
            return (StatusCode::SERVICE_UNAVAILABLE, no_store).into_response();
        }
    }
    let ended = match (&token.sid, &token.subject) {
        (Some(sid), _) => state.db.delete_sessions_by_sid(&token.provider, sid).await,
        (None, Some(sub)) => {
            state
                .db
                .delete_sessions_by_subject(&token.provider, sub)
                .await
        }
        (None, None) => Ok(Vec::new()),
    };
    match ended {
        Ok(persons) => {
            tracing::info!(provider = %token.provider, count = persons.len(), "sessions ended by the provider");
            record_provider_logouts(&state.db, &persons, &token.provider).await;
            (StatusCode::OK, no_store).into_response()
        }
        Err(error) => {
            tracing::error!(%error, "could not end sessions for a logout token");
            (StatusCode::SERVICE_UNAVAILABLE, no_store).into_response()
        }
    }
}

/// Put "logged out by the eID service" in the activity log of each person whose session the
/// provider ended (once per person, however many sessions).
async fn record_provider_logouts(
    db: &Database,
    persons: &[borgerportal::person::PersonId],
    provider: &str,
) {
    let mut seen = std::collections::HashSet::new();
    for person in persons.iter().filter(|p| seen.insert(**p)) {
        let mut event = NewAuditEvent::new(*person, AuditKind::LoggedOutByProvider);
        event.provider = Some(provider.to_owned());
        if let Err(error) = db.record_event(event).await {
            tracing::error!(%error, "could not record a logout by the provider");
        }
    }
}

#[derive(Deserialize)]
pub struct FrontchannelQuery {
    iss: Option<String>,
    sid: Option<String>,
}

/// `GET /auth/frontchannel-logout?iss=&sid=`: the provider's page asks us to end a session.
pub async fn frontchannel_logout(
    State(state): State<AppState>,
    Query(query): Query<FrontchannelQuery>,
) -> Response {
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    let (Some(iss), Some(sid)) = (query.iss, query.sid) else {
        return (StatusCode::BAD_REQUEST, no_store).into_response();
    };
    for provider in &state.auth.providers {
        if provider.issuer().await.as_deref() == Some(iss.as_str()) {
            match state
                .db
                .delete_sessions_by_sid(&provider.config.id, &sid)
                .await
            {
                Ok(persons) => {
                    tracing::info!(provider = %provider.config.id, count = persons.len(), "front-channel logout");
                    record_provider_logouts(&state.db, &persons, &provider.config.id).await;
                }
                Err(error) => tracing::error!(%error, "front-channel logout failed"),
            }
            return (StatusCode::OK, no_store).into_response();
        }
    }
    (StatusCode::BAD_REQUEST, no_store).into_response()
}
