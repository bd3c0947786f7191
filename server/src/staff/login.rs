//! The staff login's three routes: start, callback, logout (see the module above).

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap},
    response::{IntoResponse, Redirect, Response},
};
use borgerportal::staff::{
    decide_login, CompletedStaffLogin, NewStaffLoginState, StaffAuditEvent, StaffAuditKind,
    StaffRefusal,
};
use serde::Deserialize;
use serde_json::Value;
use time::{Duration, OffsetDateTime};

use crate::language::request_language;
use crate::AppState;

/// A pending staff login may wait this long at the provider.
const LOGIN_STATE_LIFETIME: Duration = Duration::minutes(10);

/// Where a staff login failure sends the browser: `/staff`, which says why in plain words.
fn failure(reason: &str) -> Response {
    Redirect::to(&format!("/staff?failed={reason}")).into_response()
}

/// `GET /staff/login/{municipality}`: start a staff login at the municipality's provider.
/// Always with `prompt=login`: the desk PC is shared, so the provider must ask who is there
/// rather than reuse someone's single sign-on.
pub async fn login_start(
    State(state): State<AppState>,
    Path(municipality_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let staff = &state.staff;
    let Some(municipality) = staff.municipality(&municipality_id).cloned() else {
        return failure("unknown_municipality");
    };
    let start = match municipality
        .provider
        .start_with(
            municipality.acr_values.as_deref(),
            true,
            request_language(&headers),
        )
        .await
    {
        Ok(start) => start,
        Err(error) => {
            tracing::error!(%error, municipality = %municipality.id, "could not start a staff login");
            return failure("unavailable");
        }
    };
    let binding = staff
        .cookies
        .login_cookie(&start.state, LOGIN_STATE_LIFETIME);
    let pending = NewStaffLoginState {
        state: start.state,
        nonce: start.nonce,
        pkce_verifier: start.pkce_verifier,
        municipality: municipality.id.clone(),
        expires_at: OffsetDateTime::now_utc() + LOGIN_STATE_LIFETIME,
    };
    if let Err(error) = state.db.create_staff_login_state(pending).await {
        tracing::error!(%error, "could not store the pending staff login");
        return failure("unavailable");
    }
    tracing::info!(municipality = %municipality.id, "staff login started");
    let mut response = Redirect::to(&start.url).into_response();
    if let Some(cookie) = binding {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Deserialize)]
pub struct StaffCallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /staff/callback`: finish the staff login.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<StaffCallbackQuery>,
) -> Response {
    let now = OffsetDateTime::now_utc();
    let mut response = outcome(&state, &headers, query, now).await;
    // The pending login is over, whatever the outcome: drop the browser binding.
    if let Some(clear) = state.staff.cookies.login_cookie("", Duration::ZERO) {
        response.headers_mut().append(header::SET_COOKIE, clear);
    }
    response
}

async fn outcome(
    state: &AppState,
    headers: &HeaderMap,
    query: StaffCallbackQuery,
    now: OffsetDateTime,
) -> Response {
    let staff = &state.staff;
    // One-time, server-side, bound to this browser: missing, unknown, replayed, expired or
    // started elsewhere all end here.
    let pending = match query.state.as_deref() {
        Some(value) if !value.is_empty() && staff.cookies.started_here(headers, value) => {
            state.db.take_staff_login_state(value, now).await
        }
        _ => Ok(None),
    };
    let pending = match pending {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            tracing::warn!("staff login callback with a missing, unknown, used or expired state");
            return failure("expired");
        }
        Err(error) => {
            tracing::error!(%error, "could not read the pending staff login");
            return failure("unavailable");
        }
    };
    let Some(municipality) = staff.municipality(pending.municipality.as_str()).cloned() else {
        return failure(StaffRefusal::UnknownMunicipality.as_code());
    };
    let provider = &municipality.provider;
    if let Err(error) = provider.check_callback_issuer(query.iss.as_deref()).await {
        tracing::warn!(%error, municipality = %municipality.id, "staff login refused");
        return failure("failed");
    }
    if let Some(error) = query.error.as_deref() {
        tracing::info!(municipality = %municipality.id, error, "the provider ended the staff login");
        return failure(if error == "access_denied" {
            "cancelled"
        } else {
            "failed"
        });
    }
    let Some(code) = query.code.as_deref() else {
        return failure("failed");
    };
    // Every login here asked for `prompt=login`: a token whose `auth_time` is older than the
    // click (or missing) is someone's earlier login, and refused.
    let verified = match provider
        .verify(
            code,
            &pending.pkce_verifier,
            &pending.nonce,
            Some(pending.started_at),
        )
        .await
    {
        Ok(verified) => verified,
        Err(error) => {
            tracing::warn!(%error, municipality = %municipality.id, "staff login refused");
            let reason = match error {
                crate::auth::oidc::LoginError::Discovery(_) => "unavailable",
                _ => "failed",
            };
            return failure(reason);
        }
    };
    let member = match decide_login(Some(&municipality.rules), &verified.all_claims) {
        Ok(member) => member,
        Err(refusal) => {
            tracing::warn!(%refusal, municipality = %municipality.id, "staff login refused by the municipality's rules");
            record_refusal(
                state,
                &municipality.rules.municipality,
                &verified.all_claims,
                refusal,
                now,
            )
            .await;
            return failure(refusal.as_code());
        }
    };
    let Some(id_token) = staff.seal.seal(&verified.id_token) else {
        tracing::error!("could not seal the staff id_token");
        return failure("unavailable");
    };
    let login = CompletedStaffLogin {
        member,
        sid: verified
            .all_claims
            .get("sid")
            .and_then(Value::as_str)
            .map(str::to_owned),
        id_token,
        absolute_lifetime: staff.absolute_lifetime,
        // A new token at every login: a staff cookie planted before it is worthless after.
        previous: staff.token(headers),
    };
    let (token, session) = match state.db.complete_staff_login(login, now).await {
        Ok(done) => done,
        Err(error) => {
            tracing::error!(%error, "could not complete the staff login");
            return failure("unavailable");
        }
    };
    tracing::info!(municipality = %session.member.municipality, role = session.member.role.as_str(), "staff logged in");
    let mut response = Redirect::to("/staff").into_response();
    if let Some(cookie) = staff.cookies.session_cookie(&token.as_cookie_value(), None) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// Writes a refused staff login to the municipality's staff log (the provider vouched for the
/// person; the municipality's rules did not admit them). A failure to write is logged only.
async fn record_refusal(
    state: &AppState,
    municipality: &borgerportal::staff::MunicipalityId,
    claims: &serde_json::Map<String, Value>,
    refusal: StaffRefusal,
    now: OffsetDateTime,
) {
    let text = |key: &str| {
        claims
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let event = StaffAuditEvent {
        municipality: municipality.clone(),
        subject: text("sub"),
        name: text("name"),
        role: None,
        kind: StaffAuditKind::LoginRefused,
        reason: Some(refusal.as_code().to_owned()),
        at: now,
    };
    if let Err(error) = state.db.record_staff_event(&event).await {
        tracing::error!(%error, "could not record the refused staff login");
    }
}

/// `POST /staff/logout`: end the staff session here (and in the staff log), then at the
/// municipality's provider, which comes back to `/staff`.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let staff = &state.staff;
    let clear = staff.cookies.session_cookie("", Some(Duration::ZERO));
    let mut target = "/staff".to_owned();
    if let Some(token) = staff.token(&headers) {
        match state
            .db
            .end_staff_session(&token, OffsetDateTime::now_utc())
            .await
        {
            Ok(Some(session)) => {
                tracing::info!(municipality = %session.member.municipality, "staff logged out");
                if let Some(url) = end_session_url(&state, &session, &headers).await {
                    target = url;
                }
            }
            Ok(None) => {}
            Err(error) => tracing::error!(%error, "could not end the staff session"),
        }
    }
    let mut response = Redirect::to(&target).into_response();
    if let Some(clear) = clear {
        response.headers_mut().insert(header::SET_COOKIE, clear);
    }
    response
}

/// The provider's end-session URL for `session`, with the id_token hint, if it has one.
async fn end_session_url(
    state: &AppState,
    session: &borgerportal::staff::StaffSession,
    headers: &HeaderMap,
) -> Option<String> {
    use secrecy::ExposeSecret;
    let staff = &state.staff;
    let municipality = staff.municipality(session.member.municipality.as_str())?;
    let endpoint = municipality.provider.end_session_endpoint().await?;
    let mut url = url::Url::parse(&endpoint).ok()?;
    if let Some(id_token) = staff.seal.open(&session.id_token) {
        url.query_pairs_mut()
            .append_pair("id_token_hint", id_token.expose_secret());
    }
    url.query_pairs_mut()
        .append_pair(
            "post_logout_redirect_uri",
            &format!("{}/staff", staff.public_url),
        )
        .append_pair("state", &uuid::Uuid::new_v4().simple().to_string())
        .append_pair("ui_locales", request_language(headers));
    Some(url.to_string())
}
