//! `POST /act-for`: whom the session's person acts for (`app/src/routes/act_for.rs` shows the
//! choice; the banner's "stop acting" posts here with no one chosen).
//!
//! Only someone the person holds authority for now is stored (`Database::choose_acting_for`
//! checks it against the register); anyone else, an id that is no id included, is refused with
//! the chooser shown again and nothing changed. The choice itself grants nothing: every later
//! request asks the policy again.

use app::components::form::FormOutcome;
use axum::{extract::Request, extract::State, response::Response, routing::post, Router};
use borgerportal::{access::ManageAuthority, person::PersonId};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::forms::{Answer, Posted};
use crate::AppState;

/// The chooser's address (its page is the app's).
const ACT_FOR: &str = app::components::acting::ACT_FOR;

pub fn routes() -> Router<AppState> {
    // The path written out: the authorization test reads the routes from the source.
    Router::new().route("/act-for", post(choose))
}

#[derive(Deserialize)]
struct ChoiceForm {
    /// The person id chosen; empty: oneself.
    #[serde(default)]
    person: String,
    /// Where to go next (a local path; the home page otherwise).
    #[serde(default)]
    return_to: String,
}

async fn choose(State(state): State<AppState>, request: Request) -> Response {
    let posted =
        match Posted::<ManageAuthority, ChoiceForm>::read_own(&state, request, ACT_FOR).await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let Posted {
        parts,
        access,
        form,
    } = posted;
    let refused = || {
        let mut outcome = FormOutcome::error("person", "acting.refused", None, None);
        outcome
            .values
            .push(("return_to".to_owned(), form.return_to.clone()));
        Answer::Again(outcome)
    };
    let person = match form.person.trim() {
        "" => None,
        text => match text.parse::<uuid::Uuid>() {
            Ok(id) => Some(PersonId::from_uuid(id)),
            Err(_) => return refused().respond(&state, parts).await,
        },
    };
    let Some(token) = state.auth.session_token(&parts.headers) else {
        return Answer::BadRequest.respond(&state, parts).await;
    };
    let answer = match state
        .db
        .choose_acting_for(&token, &access, person, OffsetDateTime::now_utc())
        .await
    {
        Ok(true) => {
            let next = if app::auth::is_local_path(&form.return_to)
                && !form.return_to.starts_with(ACT_FOR)
            {
                form.return_to.clone()
            } else {
                "/".to_owned()
            };
            Answer::done(next)
        }
        Ok(false) => refused(),
        Err(error) => {
            tracing::error!(%error, "could not store whom the session acts for");
            Answer::Unavailable
        }
    };
    answer.respond(&state, parts).await
}
