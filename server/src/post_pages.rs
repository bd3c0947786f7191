//! The mailbox's forms and attachments (`app/src/routes/post.rs` shows the pages).
//!
//! - `GET /post/letter/{id}/attachment/{n}`: the PDF, only to its recipient (another person's
//!   letter is the same 404 as one that does not exist), with `Content-Disposition`,
//!   `nosniff`, `no-store` and a sandboxing CSP, so nothing in it can script this origin.
//! - `POST /post/letter/{id}/{unread|move|trash|restore}` and the folder forms: a redirect when
//!   done, or the page again with the error, as every form answers (`forms.rs`).

use app::components::form::FormOutcome;
use axum::{
    body::Body,
    extract::{Path, Query, Request, State},
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Router,
};
use borgerportal::{
    access::{Access, ManagePost, ReadPost, ReadSensitivePost},
    post::{FolderId, FolderRef, LetterId, PostError},
};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::forms::{read_access, see_other, Answer, NoFields, Posted};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/post/letter/{id}/attachment/{position}", get(attachment))
        .route("/post/letter/{id}/unread", post(mark_unread))
        .route("/post/letter/{id}/move", post(move_letter))
        .route("/post/letter/{id}/trash", post(trash))
        .route("/post/letter/{id}/restore", post(restore))
        .route("/post/folders", post(create_folder))
        .route("/post/folders/{id}/rename", post(rename_folder))
        .route("/post/folders/{id}/delete", post(delete_folder))
}

#[derive(Deserialize)]
pub(crate) struct AttachmentQuery {
    #[serde(default)]
    pub(crate) download: Option<String>,
}

async fn attachment(
    State(state): State<AppState>,
    Path((id, position)): Path<(String, u32)>,
    Query(query): Query<AttachmentQuery>,
    request: Request,
) -> Response {
    let (parts, _body) = request.into_parts();
    let here = format!("/post/letter/{id}");
    let (parts, ctx, read) = match read_access::<ReadPost>(&state, parts, &here).await {
        Ok(read) => read,
        Err(response) => return response,
    };
    let sensitive = ctx.access::<ReadSensitivePost>(&state.db).await.ok();
    let Ok(letter) = id.parse::<LetterId>() else {
        return state.pages.not_found(parts).await;
    };
    let found = state
        .db
        .read_attachment(
            &read,
            sensitive.as_ref(),
            letter,
            position,
            OffsetDateTime::now_utc(),
        )
        .await;
    let attachment = match found {
        Ok(attachment) => attachment,
        Err(PostError::NotFound) => return state.pages.not_found(parts).await,
        Err(PostError::NeedsStepUp) => {
            return see_other(&app::auth::step_up_href(&ctx.session.provider, &here))
        }
        Err(error) => return unavailable(&error).respond(&state, parts).await,
    };
    pdf_response(
        attachment.content,
        &attachment.info.filename,
        query.download.is_some(),
    )
}

/// A PDF for its reader, inline or (`download`) as a file: with `Content-Disposition`,
/// `nosniff`, `no-store` and a sandboxing CSP, so nothing in it can script this origin.
pub(crate) fn pdf_response(content: Vec<u8>, filename: &str, download: bool) -> Response {
    let disposition = if download { "attachment" } else { "inline" };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (
                header::CONTENT_DISPOSITION,
                content_disposition(disposition, filename),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "sandbox; default-src 'none'; object-src 'none'; frame-ancestors 'none'",
                ),
            ),
        ],
        Body::from(content),
    )
        .into_response()
}

/// `inline; filename="brev.pdf"; filename*=UTF-8''br%C3%A6v.pdf`: an ASCII fallback without
/// quotes or control characters, and the real name percent-encoded (RFC 6266).
fn content_disposition(disposition: &str, filename: &str) -> HeaderValue {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in filename.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    HeaderValue::from_str(&format!(
        "{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

// ---------------------------------------------------------------------------------------------
// Forms

/// The letter id from the path; a malformed one is the same 404 as an unknown one.
fn letter_id(id: &str) -> Option<LetterId> {
    id.parse().ok()
}

/// The database failed: nothing was changed, and the person is told to try again.
fn unavailable(error: &PostError) -> Answer {
    tracing::error!(%error, "a mailbox request failed");
    Answer::Unavailable
}

/// A refusal the person can act on, shown on the folders page again (with `typed`, if kept).
fn folder_refusal(error: PostError, typed: Option<&str>) -> Answer {
    match error {
        PostError::FolderNameInvalid
        | PostError::FolderNameTaken
        | PostError::FolderNotEmpty
        | PostError::TooManyFolders => {
            let outcome = FormOutcome::error("name", error.code(), None, typed);
            Answer::AgainAt("/post/folders".to_owned(), outcome)
        }
        error => unavailable(&error),
    }
}

/// A letter's action form: `back=mailbox` (the undo of a deletion, on the mailbox's page) leads
/// back to the mailbox instead of the letter.
#[derive(Deserialize)]
struct LetterForm {
    #[serde(default)]
    back: String,
}

/// A letter action: done, the person lands where `done` says, which tells what happened
/// (`?done=`, shown by the mailbox page with an undo where undoing is safe).
async fn letter_action(
    state: AppState,
    id: String,
    request: Request,
    act: impl AsyncFnOnce(&AppState, &Access<ManagePost>, LetterId) -> Result<(), PostError>,
    done: impl FnOnce(LetterId) -> String,
) -> Response {
    let here = format!("/post/letter/{id}");
    let posted = match Posted::<ManagePost, LetterForm>::read(&state, request, &here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let back_to_mailbox = posted.form.back == "mailbox";
    let answer = match letter_id(&id) {
        None => Answer::NotFound,
        Some(letter) => match act(&state, &posted.access, letter).await {
            Ok(()) if back_to_mailbox => Answer::done("/post?done=restored"),
            Ok(()) => Answer::done(done(letter)),
            Err(PostError::NotFound) => Answer::NotFound,
            Err(error) => unavailable(&error),
        },
    };
    answer.respond(&state, posted.parts).await
}

async fn mark_unread(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    letter_action(
        state,
        id,
        request,
        async |state, manage, letter| {
            state
                .db
                .mark_unread(manage, letter, OffsetDateTime::now_utc())
                .await
        },
        |_| "/post?done=unread".to_owned(),
    )
    .await
}

async fn trash(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    letter_action(
        state,
        id,
        request,
        async |state, manage, letter| {
            state
                .db
                .trash_letter(manage, letter, OffsetDateTime::now_utc())
                .await
        },
        |letter| format!("/post?done=trashed&letter={letter}"),
    )
    .await
}

async fn restore(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    letter_action(
        state,
        id,
        request,
        async |state, manage, letter| {
            state
                .db
                .restore_letter(manage, letter, OffsetDateTime::now_utc())
                .await
        },
        |letter| format!("/post/letter/{letter}"),
    )
    .await
}

#[derive(Deserialize)]
struct MoveForm {
    #[serde(default)]
    to: String,
    /// The folder the letter was in, as the letter's page showed it: the undo moves it back.
    #[serde(default)]
    from: String,
}

async fn move_letter(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let here = format!("/post/letter/{id}");
    let posted = match Posted::<ManagePost, MoveForm>::read(&state, request, &here).await {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let answer = match (letter_id(&id), FolderRef::from_code(&posted.form.to)) {
        (Some(letter), Some(to)) => {
            let view = match &to {
                FolderRef::Inbox => "inbox".to_owned(),
                FolderRef::Archive => "archive".to_owned(),
                FolderRef::Own(folder) => folder.to_string(),
            };
            // The undo needs where it was; a `from` that is no folder code is left out.
            let from = FolderRef::from_code(&posted.form.from)
                .filter(|from| *from != to)
                .map(|from| format!("&from={}", from.code()))
                .unwrap_or_default();
            match state
                .db
                .move_letter(&posted.access, letter, to, OffsetDateTime::now_utc())
                .await
            {
                Ok(()) => Answer::done(format!(
                    "/post?view={view}&done=moved&letter={letter}{from}"
                )),
                Err(PostError::NotFound) => Answer::NotFound,
                Err(error) => unavailable(&error),
            }
        }
        _ => Answer::BadRequest,
    };
    answer.respond(&state, posted.parts).await
}

#[derive(Deserialize)]
struct FolderForm {
    #[serde(default)]
    name: String,
}

async fn create_folder(State(state): State<AppState>, request: Request) -> Response {
    let posted =
        match Posted::<ManagePost, FolderForm>::read(&state, request, "/post/folders").await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let name = posted.form.name.as_str();
    let answer = match state
        .db
        .create_folder(&posted.access, name, OffsetDateTime::now_utc())
        .await
    {
        Ok(_) => Answer::done("/post/folders"),
        Err(error) => folder_refusal(error, Some(name)),
    };
    answer.respond(&state, posted.parts).await
}

async fn rename_folder(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let posted =
        match Posted::<ManagePost, FolderForm>::read(&state, request, "/post/folders").await {
            Ok(posted) => posted,
            Err(response) => return response,
        };
    let answer = match id.parse::<FolderId>() {
        Err(_) => Answer::NotFound,
        Ok(folder) => match state
            .db
            .rename_folder(
                &posted.access,
                folder,
                &posted.form.name,
                OffsetDateTime::now_utc(),
            )
            .await
        {
            Ok(_) => Answer::done("/post/folders"),
            Err(PostError::NotFound) => Answer::NotFound,
            Err(error) => folder_refusal(error, None),
        },
    };
    answer.respond(&state, posted.parts).await
}

async fn delete_folder(
    State(state): State<AppState>,
    Path(id): Path<String>,
    request: Request,
) -> Response {
    let posted = match Posted::<ManagePost, NoFields>::read(&state, request, "/post/folders").await
    {
        Ok(posted) => posted,
        Err(response) => return response,
    };
    let answer = match id.parse::<FolderId>() {
        Err(_) => Answer::NotFound,
        Ok(folder) => match state
            .db
            .delete_folder(&posted.access, folder, OffsetDateTime::now_utc())
            .await
        {
            Ok(()) => Answer::done("/post/folders"),
            Err(PostError::NotFound) => Answer::NotFound,
            Err(error) => folder_refusal(error, None),
        },
    };
    answer.respond(&state, posted.parts).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_cannot_break_out_of_the_header() {
        let value = content_disposition("inline", "brev \"x\";\r\nSet-Cookie: a=b.pdf");
        let text = value.to_str().unwrap_or_default();
        assert!(
            text.starts_with("inline; filename=\"brev _x____Set-Cookie_ a_b.pdf\""),
            "{text}"
        );
        assert!(!text.contains('\n') && !text.contains('\r'));
        let value = content_disposition("attachment", "vedtak æøå.pdf");
        assert_eq!(
            value.to_str().unwrap_or_default(),
            "attachment; filename=\"vedtak ___.pdf\"; filename*=UTF-8''vedtak%20%C3%A6%C3%B8%C3%A5.pdf"
        );
    }

    #[test]
    fn only_ids_parse_as_letters() {
        assert!(letter_id("not-an-id").is_none());
        assert!(letter_id("01a20d94-24b2-7177-8cfd-10441c44ec5e").is_some());
    }
}
