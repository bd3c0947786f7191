//! The signer's forms and documents (`app/src/routes/signing.rs` shows the pages).
//!
//! - `GET /signing/{id}/document/{n}`: the agency's PDF, only to a signer whose turn has come
//!   (anyone else gets the same 404 as for no job), at the job's level, with the same safe
//!   headers as letter attachments.
//! - `POST /signing/{id}/sign`: checks that the job waits for this signer (and, for a helper,
//!   that the job allows it), then sends them to their eID to log in again at the job's level
//!   (`prompt=login`). The login state remembers the job, so the callback
//!   (`sign_after_login`) records the signature with the id_token the eID just signed; a
//!   login started any other way never signs anything.
//! - `POST /signing/{id}/decline`: declines, with an optional reason for the agency.

use app::auth::SessionContext;
use app::components::form::FormOutcome;
use axum::{
    extract::{Path, Query, Request, State},
    response::Response,
    routing::{get, post},
    Router,
};
use borgerportal::access::SignDocuments;
use borgerportal::signing::{SignatureEvidence, SigningError};
use borgerportal::{SessionToken, SigningJobId};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::forms::{read_access, see_other, Answer, NoFields, Posted};
use crate::post_pages::{pdf_response, AttachmentQuery};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signing/{id}/document/{position}", get(document))
        .route("/signing/{id}/sign", post(sign))
        .route("/signing/{id}/decline", post(decline))
}

/// A job id from the path; a malformed one is the same 404 as an unknown one.
fn job_id(id: &str) -> Option<SigningJobId> {
    id.parse().ok()
}

fn unavailable(error: &SigningError) -> Answer {
    tracing::error!(%error, "a signing request failed");
    Answer::Unavailable
}

async fn document(
    State(state): State<AppState>,
    Path((id, position)): Path<(String, u32)>,
    Query(query): Query<AttachmentQuery>,
    request: Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    let here = format!("/signing/{id}");
    let (parts, ctx, access) = match read_access::<SignDocuments>(&state, parts, &here).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let Some(job) = job_id(&id) else {
        return state.pages.not_found(parts).await;
    };
    let now = OffsetDateTime::now_utc();
    match state.db.signing_document(&access, job, position, now).await {
        Ok((info, content)) => pdf_response(content, &info.file_name, query.download.is_some()),
        Err(SigningError::NotFound) => state.pages.not_found(parts).await,
        Err(SigningError::NeedsStepUp) => {
            see_other(&app::auth::step_up_href(&ctx.session.provider, &here))
        }
        Err(error) => unavailable(&error).respond(&state, parts).await,
    }
}

async fn sign(State(state): State<AppState>, Path(id): Path<String>, request: Request) -> Response {
    let here = format!("/signing/{id}");
    let posted = match Posted::<SignDocuments, NoFields>::read(&state, request, &here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(job) = job_id(&id) else {
        return Answer::NotFound.respond(&state, posted.parts).await;
    };
    let now = OffsetDateTime::now_utc();
    let seen = match state.db.signing_job(&posted.access, job, now).await {
        Ok(seen) => seen,
        Err(SigningError::NotFound) => return Answer::NotFound.respond(&state, posted.parts).await,
        Err(error) => return unavailable(&error).respond(&state, posted.parts).await,
    };
    // Nothing to sign (signed, declined, ended) or not for a helper: back to the page, which
    // says so; no login is started.
    if !seen.summary.awaits_signer()
        || (posted.access.basis().is_for_someone_else() && !seen.helpers_may_sign)
    {
        return see_other(&here);
    }
    let Some(ctx) = posted.parts.extensions.get::<SessionContext>() else {
        return see_other(&app::auth::login_href(&here, None));
    };
    let Some(provider) = state.auth.provider(&ctx.session.provider).cloned() else {
        return Answer::Unavailable.respond(&state, posted.parts).await;
    };
    tracing::info!(signing_job.id = %job, "signing: fresh login asked for");
    crate::auth::begin_login(
        &state,
        &provider,
        seen.summary.level,
        here,
        true,
        Some(job),
        &posted.parts.headers,
    )
    .await
}

#[derive(Deserialize)]
struct DeclineForm {
    #[serde(default)]
    reason: String,
}

async fn decline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let here = format!("/signing/{id}");
    let posted = match Posted::<SignDocuments, DeclineForm>::read(&state, request, &here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let Some(job) = job_id(&id) else {
        return Answer::NotFound.respond(&state, posted.parts).await;
    };
    let reason = posted.form.reason.as_str();
    let now = OffsetDateTime::now_utc();
    let answer = match state
        .db
        .decline_job(&posted.access, job, Some(reason), now)
        .await
    {
        Ok(()) => Answer::done(format!("{here}?done=declined")),
        Err(SigningError::ReasonInvalid) => Answer::AgainAt(
            here.clone(),
            FormOutcome::error(
                "reason",
                SigningError::ReasonInvalid.code(),
                None,
                Some(reason),
            ),
        ),
        Err(SigningError::NotFound) => Answer::NotFound,
        Err(
            error @ (SigningError::JobEnded
            | SigningError::AlreadyDone
            | SigningError::HelpersNotAllowed),
        ) => Answer::done(format!("{here}?problem={}", error.code())),
        Err(error) => unavailable(&error),
    };
    answer.respond(&state, posted.parts).await
}

/// The login callback's part of signing: the new session's proof for the person its pages
/// show (a helper's step-up keeps whom they act for), and the signature with the fresh login's
/// evidence. Where to go next: the job's page, saying whether it was recorded.
pub(crate) async fn sign_after_login(
    state: &AppState,
    token: &SessionToken,
    job: SigningJobId,
    evidence: &SignatureEvidence,
    now: OffsetDateTime,
) -> String {
    let here = format!("/signing/{job}");
    let session = match state
        .db
        .find_session(token, now, state.auth.idle_timeout)
        .await
    {
        Ok(Some(session)) => session,
        Ok(None) => return format!("{here}?problem=signing.unavailable"),
        Err(error) => {
            tracing::error!(%error, "signing: could not read the new session");
            return format!("{here}?problem=signing.unavailable");
        }
    };
    let ctx = SessionContext {
        session: std::sync::Arc::new(session),
        idle_timeout_seconds: state.auth.idle_timeout.whole_seconds(),
        authority: std::sync::Arc::default(),
    };
    let access = match ctx.access::<SignDocuments>(&state.db).await {
        Ok(access) => access,
        Err(refused) => {
            tracing::info!(
                ?refused,
                "signing: the new login may not sign for this person"
            );
            return format!("{here}?problem=signing.not_allowed");
        }
    };
    match state.db.sign_job(&access, job, evidence, now).await {
        Ok(state) => {
            tracing::info!(signing_job.id = %job, state = state.code(), "signing: signed");
            format!("{here}?done=signed")
        }
        Err(SigningError::Store(error)) => {
            tracing::error!(%error, "signing: could not record the signature");
            format!("{here}?problem=signing.unavailable")
        }
        Err(error) => {
            tracing::info!(code = error.code(), "signing: signature refused");
            format!("{here}?problem={}", error.code())
        }
    }
}
