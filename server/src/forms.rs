//! What every form handler shares (the contact forms, the mailbox's forms): reading the posted
//! form with the session's proof, and answering.
//!
//! A handler reads the request ([`Posted::read`]), calls the domain with the proof, and turns
//! the result into an [`Answer`]:
//! - done: `303 See Other` to the next page, with `?done=<code>` for its success message
//!   (never a value in the address: it would end up in logs and history);
//! - refused input the person can act on: `422` with the page rendered again, its errors and
//!   what was typed ([`FormOutcome`]), so nothing is lost and nothing changed;
//! - not logged in: `303` to the login page, which comes back to the form; too low a level:
//!   off to step up; acting for someone whose authority does not allow it: `403` with what to
//!   do instead; a form that is not one of ours: `400`.
//!
//! The same handlers serve JavaScript-off and hydrated browsers: the forms are plain HTML.

use app::components::form::FormOutcome;
use app::error::AppError;
use app::routes::error::Message;
use axum::{
    extract::Request,
    http::{header, request::Parts, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use borgerportal::access::{Access, Capability};
use serde::Deserialize;

use crate::AppState;

/// Forms here are a few short fields; anything bigger is not one of ours.
const MAX_FORM_BYTES: usize = 16 * 1024;

/// A posted form, read: the request's head (to render the page again), the session's proof
/// for capability `C` on the person's own data, and the form's fields.
pub(crate) struct Posted<C: Capability, F> {
    pub parts: Parts,
    pub access: Access<C>,
    pub form: F,
}

/// Whose data a form changes.
#[derive(Clone, Copy)]
enum Whose {
    /// The session's subject: the person acted for, else the one logged in.
    Subject,
    /// Always the logged-in person's own (managing one's own authority, whom to act for).
    Own,
}

impl<C: Capability, F: for<'de> Deserialize<'de>> Posted<C, F> {
    /// The session's proof for the person whose data the pages show (the one acted for, if
    /// any) and the form, or the answer instead: not logged in, off to log in (back to
    /// `return_to`); too low a level, off to step up; what the authority acted under does not
    /// allow, `403` with what to do instead; a form that is not one of ours, `400`.
    pub async fn read(
        state: &AppState,
        request: Request,
        return_to: &str,
    ) -> Result<Self, Response> {
        Self::read_for(state, request, return_to, Whose::Subject).await
    }

    /// As [`read`](Posted::read), for the logged-in person's own data whoever they act for.
    pub async fn read_own(
        state: &AppState,
        request: Request,
        return_to: &str,
    ) -> Result<Self, Response> {
        Self::read_for(state, request, return_to, Whose::Own).await
    }

    async fn read_for(
        state: &AppState,
        request: Request,
        return_to: &str,
        whose: Whose,
    ) -> Result<Self, Response> {
        let (parts, body) = request.into_parts();
        let Some(ctx) = parts.extensions.get::<app::auth::SessionContext>().cloned() else {
            return Err(see_other(&app::auth::login_href(return_to, None)));
        };
        let access = match whose {
            Whose::Subject => ctx.access::<C>(&state.db).await,
            Whose::Own => ctx.own_access::<C>(),
        };
        let access = match access {
            Ok(access) => access,
            Err(AppError::NeedsStepUp) => {
                return Err(see_other(&app::auth::step_up_href(
                    &ctx.session.provider,
                    return_to,
                )))
            }
            Err(AppError::NotLoggedIn) => {
                return Err(see_other(&app::auth::login_href(return_to, None)))
            }
            Err(AppError::Unavailable) => {
                return Err(Answer::Unavailable.respond(state, parts).await)
            }
            Err(refused) => {
                let status = StatusCode::FORBIDDEN;
                let message = Message::Refused(refused);
                return Err(state.pages.message(parts, status, message).await);
            }
        };
        let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
            return Err(bad_request(state, parts).await);
        };
        let Ok(form) = serde_urlencoded::from_bytes::<F>(&bytes) else {
            return Err(bad_request(state, parts).await);
        };
        // A helper's form, read, is a use of the delegation acted under ("last used", and the giver
        // is told of the first). Not recording it does not stop the action.
        if access.basis().is_for_someone_else() {
            let now = time::OffsetDateTime::now_utc();
            if let Err(error) = state.db.record_delegation_use(&access, now).await {
                tracing::warn!(%error, "could not record the use of a delegation");
            }
        }
        Ok(Self {
            parts,
            access,
            form,
        })
    }
}

/// For a `GET` that is not a page (a letter's attachment, a document to sign): the session
/// and its proof for capability `C` on the subject's data, or the answer instead (off to log
/// in and back to `return_to`; `503`; `403` saying why, as a page would).
pub(crate) async fn read_access<C: Capability>(
    state: &AppState,
    parts: Parts,
    return_to: &str,
) -> Result<(Parts, app::auth::SessionContext, Access<C>), Response> {
    let Some(ctx) = parts.extensions.get::<app::auth::SessionContext>().cloned() else {
        return Err(see_other(&app::auth::login_href(return_to, None)));
    };
    match ctx.access::<C>(&state.db).await {
        Ok(access) => Ok((parts, ctx, access)),
        Err(AppError::Unavailable) => {
            let status = StatusCode::SERVICE_UNAVAILABLE;
            Err(state.pages.message(parts, status, Message::Error).await)
        }
        Err(refused) => {
            let message = Message::Refused(refused);
            Err(state
                .pages
                .message(parts, StatusCode::FORBIDDEN, message)
                .await)
        }
    }
}

/// A form without fields (a button).
#[derive(Deserialize)]
pub(crate) struct NoFields {}

/// How a form handler answers.
pub(crate) enum Answer {
    /// Done: `303 See Other` to this address.
    Done(String),
    /// Refused input: the page at the form's own path again, with the outcome, `422`.
    Again(FormOutcome),
    /// Refused input shown on the page at another path (a form on one page whose errors show
    /// on another), `422`.
    AgainAt(String, FormOutcome),
    /// Not a request this form takes: `400`.
    BadRequest,
    /// Nothing there, or not the person's: `404`.
    NotFound,
    /// The domain failed (logged by the handler): nothing changed, try again later.
    Unavailable,
}

impl Answer {
    /// Done: `303 See Other` to `location`.
    pub fn done(location: impl Into<String>) -> Self {
        Answer::Done(location.into())
    }

    /// The response, for the request whose head is `parts`.
    pub async fn respond(self, state: &AppState, parts: Parts) -> Response {
        match self {
            Answer::Done(location) => see_other(&location),
            Answer::Again(outcome) => state.pages.again(parts, outcome).await,
            Answer::AgainAt(path, outcome) => state.pages.at(parts, &path, outcome).await,
            Answer::BadRequest => bad_request(state, parts).await,
            Answer::NotFound => state.pages.not_found(parts).await,
            Answer::Unavailable => {
                let status = StatusCode::SERVICE_UNAVAILABLE;
                state.pages.message(parts, status, Message::Error).await
            }
        }
    }
}

/// `303 See Other` to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// `400`: the translated bad-request page.
pub(crate) async fn bad_request(state: &AppState, parts: Parts) -> Response {
    let status = StatusCode::BAD_REQUEST;
    state
        .pages
        .message(parts, status, Message::BadRequest)
        .await
}
