//! The contact and reservation forms (`app/src/routes/contact.rs` shows them).
//!
//! Each form posts here. The handler asks the policy for the logged-in citizen's proof, reads
//! the form, calls the contact register and answers:
//! - done: `303 See Other` to the next page, with `?done=<code>` for its success message
//!   (never a value in the address: it would end up in logs and history);
//! - refused input: `422` with the same page rendered again, its errors and what was typed
//!   ([`FormOutcome`] in the request's extensions), so nothing is lost and nothing changed;
//! - not logged in: `303` to the login page, which comes back to the form.
//!
//! The same handlers serve JavaScript-off and hydrated browsers: the forms are plain HTML.

use app::routes::contact::FormOutcome;
use axum::{
    extract::{Request, State},
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::post,
    Extension, Router,
};
use borgerportal::{
    access::{Access, Capability, Denied, ManageContact, Policy, ReadContact},
    contact::{ContactError, ContactMethod, EmailAddress, Mailbox, MobileNumber, VerifyOutcome},
    person::Language,
    storage::ContactRegister,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::error_page::{render_message_page, MessagePage};
use crate::language::{is_local_path, language_cookie, request_language};
use crate::pages::PageRenderer;
use crate::AppState;

/// The form routes. The pages at the same paths are the app's (GET); these are their POSTs.
pub fn routes(pages: PageRenderer) -> Router<AppState> {
    Router::new()
        .route("/contact/email", post(change_email))
        .route("/contact/mobile", post(change_mobile))
        .route(
            "/contact/email/remove",
            post(|s, r| remove(s, r, ContactMethod::Email)),
        )
        .route(
            "/contact/mobile/remove",
            post(|s, r| remove(s, r, ContactMethod::Mobile)),
        )
        .route(
            "/contact/verify/email",
            post(|s, p, r| verify(s, p, r, ContactMethod::Email)),
        )
        .route(
            "/contact/verify/mobile",
            post(|s, p, r| verify(s, p, r, ContactMethod::Mobile)),
        )
        .route(
            "/contact/verify/email/resend",
            post(|s, p, r| resend(s, p, r, ContactMethod::Email)),
        )
        .route(
            "/contact/verify/mobile/resend",
            post(|s, p, r| resend(s, p, r, ContactMethod::Mobile)),
        )
        .route(
            "/contact/verify/email/cancel",
            post(|s, r| cancel(s, r, ContactMethod::Email)),
        )
        .route(
            "/contact/verify/mobile/cancel",
            post(|s, r| cancel(s, r, ContactMethod::Mobile)),
        )
        .route("/contact/confirm", post(confirm))
        .route("/contact/reservation", post(reservation))
        .route("/contact/mailbox", post(mailbox))
        .route("/contact/language", post(language))
        .layer(Extension(pages))
}

// ---------------------------------------------------------------------------------------------
// What every handler does first

/// The logged-in citizen's proofs, or the response that sends them to log in.
struct Citizen {
    read: Access<ReadContact>,
    manage: Access<ManageContact>,
}

/// A request whose form was read: its head (to render the page again) and the citizen.
struct Posted<F> {
    parts: Parts,
    citizen: Citizen,
    form: F,
}

/// Reads the session and the form. Not logged in: off to log in, back to `return_to`.
async fn posted<F: for<'de> Deserialize<'de>>(
    state: &AppState,
    request: Request,
    return_to: &str,
) -> Result<Posted<F>, Response> {
    let (parts, manage, form) = posted_form::<ManageContact, F>(state, request, return_to).await?;
    let Ok(read) = Policy::authorize::<ReadContact>(manage.actor(), manage.subject()) else {
        return Err(bad_request(state, &parts));
    };
    Ok(Posted {
        parts,
        citizen: Citizen { read, manage },
        form,
    })
}

/// What every form handler does first: the session's proof for capability `C` on the
/// person's own data, and the form. Not logged in: off to log in (back to `return_to`); too
/// low a level: off to step up; a form that is not one of ours: 400.
pub(crate) async fn posted_form<C: Capability, F: for<'de> Deserialize<'de>>(
    state: &AppState,
    request: Request,
    return_to: &str,
) -> Result<(Parts, Access<C>, F), Response> {
    let (parts, body) = request.into_parts();
    let Some(ctx) = parts.extensions.get::<app::auth::SessionContext>().cloned() else {
        return Err(see_other(&app::auth::login_href(return_to, None)));
    };
    let access = match Policy::authorize::<C>(&ctx.session.actor(), ctx.session.person) {
        Ok(access) => access,
        Err(Denied::NeedsStepUp { .. }) => {
            return Err(see_other(&app::auth::step_up_href(
                &ctx.session.provider,
                return_to,
            )))
        }
        Err(_) => return Err(bad_request(state, &parts)),
    };
    // Forms here are a few short fields; anything bigger is not one of ours.
    let Ok(bytes) = axum::body::to_bytes(body, 16 * 1024).await else {
        return Err(bad_request(state, &parts));
    };
    let Ok(form) = serde_urlencoded::from_bytes::<F>(&bytes) else {
        return Err(bad_request(state, &parts));
    };
    Ok((parts, access, form))
}

pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

pub(crate) fn bad_request(state: &AppState, parts: &Parts) -> Response {
    render_message_page(
        StatusCode::BAD_REQUEST,
        MessagePage::BadRequest,
        request_language(&parts.headers),
        None,
        &state.assets.stylesheet,
    )
}

/// The database failed: nothing was changed, and the person is told to try again.
fn unavailable(state: &AppState, parts: &Parts, error: &ContactError) -> Response {
    tracing::error!(%error, "a contact change could not be carried out");
    render_message_page(
        StatusCode::SERVICE_UNAVAILABLE,
        MessagePage::InternalError,
        request_language(&parts.headers),
        parts
            .headers
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        &state.assets.stylesheet,
    )
}

/// Whole minutes, rounded up, for "try again in N minutes".
fn minutes(duration: time::Duration) -> u32 {
    let seconds = duration.whole_seconds().max(1);
    u32::try_from((seconds + 59) / 60).unwrap_or(u32::MAX)
}

/// A refusal the person can act on, as the field error to show; `None` for a failure that is
/// not theirs (the database).
fn field_error(field: &str, error: &ContactError, typed: Option<&str>) -> Option<FormOutcome> {
    let (code, count) = match error {
        ContactError::Input(input) => (input.code(), None),
        ContactError::RateLimited { retry_after } => {
            ("contact.rate_limited", Some(minutes(*retry_after)))
        }
        ContactError::Unchanged => ("contact.unchanged", None),
        ContactError::NothingToConfirm => ("contact.nothing_to_confirm", None),
        _ => return None,
    };
    Some(FormOutcome::error(field, code, count, typed))
}

// ---------------------------------------------------------------------------------------------
// E-mail and mobile

#[derive(Deserialize)]
struct EmailForm {
    #[serde(default)]
    email: String,
}

#[derive(Deserialize)]
struct MobileForm {
    #[serde(default)]
    mobile: String,
}

async fn change_email(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let posted = match posted::<EmailForm>(&state, request, "/contact/email").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let typed = posted.form.email.as_str();
    let result = match EmailAddress::parse(typed) {
        Ok(email) => {
            state
                .db
                .request_email_change(&posted.citizen.manage, email, OffsetDateTime::now_utc())
                .await
        }
        Err(input) => Err(ContactError::Input(input)),
    };
    match result {
        Ok(_) => see_other("/contact/verify/email?done=code_sent"),
        Err(error) => match field_error("email", &error, Some(typed)) {
            Some(outcome) => pages.again(posted.parts, outcome).await,
            None => unavailable(&state, &posted.parts, &error),
        },
    }
}

async fn change_mobile(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let posted = match posted::<MobileForm>(&state, request, "/contact/mobile").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let typed = posted.form.mobile.as_str();
    let now = OffsetDateTime::now_utc();
    let result = async {
        // The person's country decides how a number without `+` is read.
        let info = state.db.find_contact_info(&posted.citizen.read).await?;
        let mobile = MobileNumber::parse(typed, info.country)?;
        state
            .db
            .request_mobile_change(&posted.citizen.manage, mobile, now)
            .await
    }
    .await;
    match result {
        Ok(_) => see_other("/contact/verify/mobile?done=code_sent"),
        Err(error) => match field_error("mobile", &error, Some(typed)) {
            Some(outcome) => pages.again(posted.parts, outcome).await,
            None => unavailable(&state, &posted.parts, &error),
        },
    }
}

#[derive(Deserialize)]
struct NoFields {}

async fn remove(
    State(state): State<AppState>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let here = match method {
        ContactMethod::Email => "/contact/email",
        ContactMethod::Mobile => "/contact/mobile",
    };
    let posted = match posted::<NoFields>(&state, request, here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match state
        .db
        .remove_contact_method(&posted.citizen.manage, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => see_other(&format!("/contact?done={}_removed", method.code())),
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

// ---------------------------------------------------------------------------------------------
// Codes

#[derive(Deserialize)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

fn verify_path(method: ContactMethod) -> &'static str {
    match method {
        ContactMethod::Email => "/contact/verify/email",
        ContactMethod::Mobile => "/contact/verify/mobile",
    }
}

async fn verify(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let posted = match posted::<CodeForm>(&state, request, verify_path(method)).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let outcome = state
        .db
        .verify_code(
            &posted.citizen.manage,
            method,
            &posted.form.code,
            OffsetDateTime::now_utc(),
        )
        .await;
    let refused = |code: &str, count| FormOutcome::error("code", code, count, None);
    match outcome {
        Ok(VerifyOutcome::Verified) => {
            see_other(&format!("/contact?done={}_verified", method.code()))
        }
        Ok(VerifyOutcome::NoPending) => see_other("/contact"),
        Ok(other @ VerifyOutcome::WrongCode { attempts_left }) => {
            pages
                .again(posted.parts, refused(other.code(), Some(attempts_left)))
                .await
        }
        Ok(other) => pages.again(posted.parts, refused(other.code(), None)).await,
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

async fn resend(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let posted = match posted::<NoFields>(&state, request, verify_path(method)).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match state
        .db
        .resend_code(&posted.citizen.manage, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => see_other(&format!("{}?done=code_sent", verify_path(method))),
        Err(ContactError::NothingPending) => see_other("/contact"),
        Err(error) => match field_error("resend", &error, None) {
            Some(outcome) => pages.at(posted.parts, verify_path(method), outcome).await,
            None => unavailable(&state, &posted.parts, &error),
        },
    }
}

async fn cancel(
    State(state): State<AppState>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let posted = match posted::<NoFields>(&state, request, verify_path(method)).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match state
        .db
        .cancel_change(&posted.citizen.manage, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => see_other("/contact?done=cancelled"),
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

// ---------------------------------------------------------------------------------------------
// Confirming, reservation, mailbox, language

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    return_to: String,
}

async fn confirm(State(state): State<AppState>, request: Request) -> Response {
    let posted = match posted::<ConfirmForm>(&state, request, "/contact").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    match state
        .db
        .confirm_contact_info(&posted.citizen.manage, OffsetDateTime::now_utc())
        .await
    {
        // From the question after login: on to where the person was going.
        Ok(_) if is_local_path(&posted.form.return_to) => see_other(&posted.form.return_to),
        Ok(_) => see_other("/contact?done=confirmed"),
        // Nothing registered (removed in another tab): the overview says so.
        Err(ContactError::NothingToConfirm) => see_other("/contact"),
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

#[derive(Deserialize)]
struct ReservationForm {
    #[serde(default)]
    reserved: String,
}

async fn reservation(State(state): State<AppState>, request: Request) -> Response {
    let posted = match posted::<ReservationForm>(&state, request, "/contact/reservation").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let reserved = match posted.form.reserved.as_str() {
        "true" => true,
        "false" => false,
        _ => return bad_request(&state, &posted.parts),
    };
    match state
        .db
        .set_reservation(&posted.citizen.manage, reserved, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) if reserved => see_other("/contact?done=reserved"),
        Ok(_) => see_other("/contact?done=unreserved"),
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

/// `mailbox`: `portal`, or `external:<id>` for one of the configured providers.
#[derive(Deserialize)]
struct MailboxForm {
    #[serde(default)]
    mailbox: String,
}

async fn mailbox(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let posted = match posted::<MailboxForm>(&state, request, "/contact/mailbox").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let form = &posted.form;
    // Only a provider the portal forwards to: any other would send the letters to paper.
    let offered = |id: &&str| state.mailbox_providers.name_of(id).is_some();
    let chosen = match form.mailbox.as_str() {
        "portal" => Some(Mailbox::Portal),
        other => other
            .strip_prefix(app::routes::contact::EXTERNAL_MAILBOX)
            .filter(offered)
            .and_then(|id| Mailbox::external(id).ok()),
    };
    let Some(chosen) = chosen else {
        let outcome = FormOutcome::error("mailbox-portal", "contact.choice_missing", None, None);
        return pages.again(posted.parts, outcome).await;
    };
    match state
        .db
        .set_mailbox(&posted.citizen.manage, chosen, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => see_other("/contact?done=mailbox"),
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    language: String,
}

async fn language(
    State(state): State<AppState>,
    Extension(pages): Extension<PageRenderer>,
    request: Request,
) -> Response {
    let posted = match posted::<LanguageForm>(&state, request, "/contact/language").await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(language) = Language::from_code(&posted.form.language) else {
        let outcome = FormOutcome::error("language", "contact.choice_missing", None, None);
        return pages.again(posted.parts, outcome).await;
    };
    match state
        .db
        .set_language(&posted.citizen.manage, language, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => {
            // The preferred language is the interface's too, from now on.
            let mut response = see_other("/contact?done=language");
            if let Some(cookie) = language_cookie(language.code(), state.security.hsts) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(error) => unavailable(&state, &posted.parts, &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_whole_minutes_rounded_up() {
        assert_eq!(minutes(time::Duration::seconds(1)), 1);
        assert_eq!(minutes(time::Duration::seconds(60)), 1);
        assert_eq!(minutes(time::Duration::seconds(61)), 2);
        assert_eq!(minutes(time::Duration::ZERO), 1);
    }
}
