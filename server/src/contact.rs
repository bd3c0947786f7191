//! The contact and reservation forms (`app/src/routes/contact.rs` shows them).
//!
//! Each form posts here. The handler reads the form with the logged-in citizen's proofs, calls
//! the contact register and answers as every form does (`forms.rs`): a redirect when done, the
//! page again with its errors and what was typed when refused.

use app::components::form::FormOutcome;
use axum::{
    extract::{Request, State},
    http::header,
    response::Response,
    routing::post,
    Router,
};
use borgerportal::{
    access::{Access, ManageContact, ReadContact},
    contact::{ContactError, ContactMethod, EmailAddress, Mailbox, MobileNumber, VerifyOutcome},
    person::Language,
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::forms::{bad_request, see_other, Answer, NoFields, Posted};
use crate::language::{is_local_path, language_cookie};
use crate::AppState;

/// The form routes. The pages at the same paths are the app's (GET); these are their POSTs.
pub fn routes() -> Router<AppState> {
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
            post(|s, r| verify(s, r, ContactMethod::Email)),
        )
        .route(
            "/contact/verify/mobile",
            post(|s, r| verify(s, r, ContactMethod::Mobile)),
        )
        .route(
            "/contact/verify/email/resend",
            post(|s, r| resend(s, r, ContactMethod::Email)),
        )
        .route(
            "/contact/verify/mobile/resend",
            post(|s, r| resend(s, r, ContactMethod::Mobile)),
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
}

// ---------------------------------------------------------------------------------------------
// What every handler does first

/// A contact form, read, with the proof to read the entry too (a mobile number is read in
/// the person's country).
struct Citizen<F> {
    posted: Posted<ManageContact, F>,
    read: Access<ReadContact>,
}

/// Reads the session and the form (see [`Posted::read`]).
async fn posted<F: for<'de> Deserialize<'de>>(
    state: &AppState,
    request: Request,
    return_to: &str,
) -> Result<Citizen<F>, Response> {
    let posted = Posted::<ManageContact, F>::read(state, request, return_to).await?;
    let manage = &posted.access;
    // The same policy as the proof just made (both need the contact scope for a helper).
    let now = time::OffsetDateTime::now_utc();
    let read = match state
        .db
        .decide_access::<ReadContact>(manage.actor(), manage.subject(), now)
        .await
    {
        Ok(Ok(read)) => read,
        Ok(Err(_)) => return Err(bad_request(state, posted.parts).await),
        Err(error) => {
            tracing::error!(%error, "could not read the authority register");
            return Err(Answer::Unavailable.respond(state, posted.parts).await);
        }
    };
    Ok(Citizen { posted, read })
}

/// The database failed: nothing was changed, and the person is told to try again.
fn unavailable(error: &ContactError) -> Answer {
    tracing::error!(%error, "a contact change could not be carried out");
    Answer::Unavailable
}

/// Whole minutes, rounded up, for "try again in N minutes".
fn minutes(duration: time::Duration) -> u32 {
    let seconds = duration.whole_seconds().max(1);
    u32::try_from((seconds + 59) / 60).unwrap_or(u32::MAX)
}

/// A refusal the person can act on, as the field error to show (on the page at `at`, else
/// the form's own); the database's failure otherwise.
fn refused(
    field: &str,
    error: &ContactError,
    typed: Option<&str>,
    at: Option<&'static str>,
) -> Answer {
    let (code, count) = match error {
        ContactError::Input(input) => (input.code(), None),
        ContactError::RateLimited { retry_after } => {
            ("contact.rate_limited", Some(minutes(*retry_after)))
        }
        ContactError::Unchanged => ("contact.unchanged", None),
        ContactError::NothingToConfirm => ("contact.nothing_to_confirm", None),
        _ => return unavailable(error),
    };
    let outcome = FormOutcome::error(field, code, count, typed);
    match at {
        Some(path) => Answer::AgainAt(path.to_owned(), outcome),
        None => Answer::Again(outcome),
    }
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

async fn change_email(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, .. } = match posted::<EmailForm>(&state, request, "/contact/email").await
    {
        Ok(citizen) => citizen,
        Err(response) => return response,
    };
    let typed = posted.form.email.as_str();
    let result = match EmailAddress::parse(typed) {
        Ok(email) => {
            state
                .db
                .request_email_change(&posted.access, email, OffsetDateTime::now_utc())
                .await
        }
        Err(input) => Err(ContactError::Input(input)),
    };
    let answer = match result {
        Ok(_) => Answer::done("/contact/verify/email?done=code_sent"),
        Err(error) => refused("email", &error, Some(typed), None),
    };
    answer.respond(&state, posted.parts).await
}

async fn change_mobile(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, read } =
        match posted::<MobileForm>(&state, request, "/contact/mobile").await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let typed = posted.form.mobile.as_str();
    let now = OffsetDateTime::now_utc();
    let result = async {
        // The person's country decides how a number without `+` is read.
        let info = state.db.find_contact_info(&read).await?;
        let mobile = MobileNumber::parse(typed, info.country)?;
        state
            .db
            .request_mobile_change(&posted.access, mobile, now)
            .await
    }
    .await;
    let answer = match result {
        Ok(_) => Answer::done("/contact/verify/mobile?done=code_sent"),
        Err(error) => refused("mobile", &error, Some(typed), None),
    };
    answer.respond(&state, posted.parts).await
}

async fn remove(
    State(state): State<AppState>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let here = match method {
        ContactMethod::Email => "/contact/email",
        ContactMethod::Mobile => "/contact/mobile",
    };
    let Citizen { posted, .. } = match posted::<NoFields>(&state, request, here).await {
        Ok(citizen) => citizen,
        Err(response) => return response,
    };
    let answer = match state
        .db
        .remove_contact_method(&posted.access, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Answer::done(format!("/contact?done={}_removed", method.code())),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
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
    request: Request,
    method: ContactMethod,
) -> Response {
    let Citizen { posted, .. } =
        match posted::<CodeForm>(&state, request, verify_path(method)).await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let outcome = state
        .db
        .verify_code(
            &posted.access,
            method,
            &posted.form.code,
            OffsetDateTime::now_utc(),
        )
        .await;
    let wrong = |code: &str, count| Answer::Again(FormOutcome::error("code", code, count, None));
    let answer = match outcome {
        Ok(VerifyOutcome::Verified) => {
            Answer::done(format!("/contact?done={}_verified", method.code()))
        }
        Ok(VerifyOutcome::NoPending) => Answer::done("/contact"),
        Ok(other @ VerifyOutcome::WrongCode { attempts_left }) => {
            wrong(other.code(), Some(attempts_left))
        }
        Ok(other) => wrong(other.code(), None),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
}

async fn resend(
    State(state): State<AppState>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let Citizen { posted, .. } =
        match posted::<NoFields>(&state, request, verify_path(method)).await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let answer = match state
        .db
        .resend_code(&posted.access, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Answer::done(format!("{}?done=code_sent", verify_path(method))),
        Err(ContactError::NothingPending) => Answer::done("/contact"),
        Err(error) => refused("resend", &error, None, Some(verify_path(method))),
    };
    answer.respond(&state, posted.parts).await
}

async fn cancel(
    State(state): State<AppState>,
    request: Request,
    method: ContactMethod,
) -> Response {
    let Citizen { posted, .. } =
        match posted::<NoFields>(&state, request, verify_path(method)).await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let answer = match state
        .db
        .cancel_change(&posted.access, method, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Answer::done("/contact?done=cancelled"),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
}

// ---------------------------------------------------------------------------------------------
// Confirming, reservation, mailbox, language

#[derive(Deserialize)]
struct ConfirmForm {
    #[serde(default)]
    return_to: String,
}

async fn confirm(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, .. } = match posted::<ConfirmForm>(&state, request, "/contact").await {
        Ok(citizen) => citizen,
        Err(response) => return response,
    };
    let answer = match state
        .db
        .confirm_contact_info(&posted.access, OffsetDateTime::now_utc())
        .await
    {
        // From the question after login: on to where the person was going.
        Ok(_) if is_local_path(&posted.form.return_to) => Answer::done(&*posted.form.return_to),
        Ok(_) => Answer::done("/contact?done=confirmed"),
        // Nothing registered (removed in another tab): the overview says so.
        Err(ContactError::NothingToConfirm) => Answer::done("/contact"),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
}

#[derive(Deserialize)]
struct ReservationForm {
    #[serde(default)]
    reserved: String,
}

async fn reservation(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, .. } =
        match posted::<ReservationForm>(&state, request, "/contact/reservation").await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let reserved = match posted.form.reserved.as_str() {
        "true" => true,
        "false" => false,
        _ => return Answer::BadRequest.respond(&state, posted.parts).await,
    };
    let answer = match state
        .db
        .set_reservation(&posted.access, reserved, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) if reserved => Answer::done("/contact?done=reserved"),
        Ok(_) => Answer::done("/contact?done=unreserved"),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
}

/// `mailbox`: `portal`, or `external:<id>` for one of the configured providers.
#[derive(Deserialize)]
struct MailboxForm {
    #[serde(default)]
    mailbox: String,
}

async fn mailbox(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, .. } =
        match posted::<MailboxForm>(&state, request, "/contact/mailbox").await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    // Only a provider the portal forwards to: any other would send the letters to paper.
    let offered = |id: &&str| state.mailbox_providers.name_of(id).is_some();
    let chosen = match posted.form.mailbox.as_str() {
        "portal" => Some(Mailbox::Portal),
        other => other
            .strip_prefix(app::routes::contact::EXTERNAL_MAILBOX)
            .filter(offered)
            .and_then(|id| Mailbox::external(id).ok()),
    };
    let answer = match chosen {
        None => Answer::Again(FormOutcome::error(
            "mailbox-portal",
            "contact.choice_missing",
            None,
            None,
        )),
        Some(chosen) => match state
            .db
            .set_mailbox(&posted.access, chosen, OffsetDateTime::now_utc())
            .await
        {
            Ok(_) => Answer::done("/contact?done=mailbox"),
            Err(error) => unavailable(&error),
        },
    };
    answer.respond(&state, posted.parts).await
}

#[derive(Deserialize)]
struct LanguageForm {
    #[serde(default)]
    language: String,
}

async fn language(State(state): State<AppState>, request: Request) -> Response {
    let Citizen { posted, .. } =
        match posted::<LanguageForm>(&state, request, "/contact/language").await {
            Ok(citizen) => citizen,
            Err(response) => return response,
        };
    let Some(language) = Language::from_code(&posted.form.language) else {
        let outcome = FormOutcome::error("language", "contact.choice_missing", None, None);
        return Answer::Again(outcome).respond(&state, posted.parts).await;
    };
    match state
        .db
        .set_language(&posted.access, language, OffsetDateTime::now_utc())
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
        Err(error) => unavailable(&error).respond(&state, posted.parts).await,
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
