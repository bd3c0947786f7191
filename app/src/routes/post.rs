//! Digital post: the mailbox (folders, paging, search), a letter, and the citizen's folders.
//!
//! What the pages show is read by the server before the page is rendered ([`load_mailbox`],
//! [`load_letter`], [`load_folders`], called by `server/src/pages.rs`); every change (mark unread, move, delete, restore, folders)
//! is a plain form posted to `server/src/post_pages.rs`, which answers with a redirect or the
//! page again with its errors, as the contact pages do. Attachments are served by the server
//! (`/post/letter/{id}/attachment/{n}`), with a sandboxing CSP.

use crate::auth::{login_href, step_up_href};
use crate::components::acting::Refusal;
use crate::components::form::FormOutcome;
use crate::components::nav_link::NavLink;
use crate::error::AppError;
use crate::i18n::*;
use crate::when::When;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// A line in the mailbox.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LetterLine {
    pub id: String,
    pub sender: String,
    pub title: String,
    /// Only the non-sensitive title is shown: the content needs `high`.
    pub locked: bool,
    pub unread: bool,
    pub decision: bool,
    pub at: When,
    pub attachments: u32,
}

/// One page of a folder, the trash, or a search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxData {
    /// `inbox`, `archive`, `trash` or an own folder's id.
    pub view: String,
    /// The citizen's own folders: (id, name).
    pub folders: Vec<(String, String)>,
    pub letters: Vec<LetterLine>,
    /// The cursor of the next (older) page.
    pub next: Option<String>,
    /// The search, when this is one.
    pub query: Option<String>,
    /// A search that could not be run (too long, no words).
    pub query_refused: bool,
}

/// An attachment as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentLine {
    pub position: u32,
    pub filename: String,
    pub size: String,
}

/// A letter as its page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LetterData {
    Open {
        line: LetterLine,
        /// Sanitized at delivery (ammonia): the only form of the body ever put in a page.
        body_html: String,
        attachments: Vec<AttachmentLine>,
        folder: String,
        trashed: bool,
        folders: Vec<(String, String)>,
        /// Helpers who opened it for the recipient: name and when.
        opened_by: Vec<(String, When)>,
        outcome: Option<FormOutcome>,
    },
    /// Needs `high`: only the non-sensitive title, and a step-up (`why` is
    /// [`AppError::NeedsStepUp`]), or, for a helper whose authority does not cover such
    /// letters, what to do instead.
    NeedsStepUp {
        line: LetterLine,
        provider: String,
        why: AppError,
    },
}

/// Letters per page.
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 20;

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use super::*;
    use borgerportal::access::{Access, ReadPost, ReadSensitivePost};
    use borgerportal::post::{LetterSummary, PostError};

    pub(crate) struct Reader {
        pub read: Access<ReadPost>,
        pub sensitive: Option<Access<ReadSensitivePost>>,
        pub sensitive_refused: Option<AppError>,
        pub provider: String,
    }

    /// The session's proofs for the post of the person the pages show: reading (or why
    /// not), and the sensitive content only at `high` and, for a helper, with the scope for
    /// it (`sensitive_refused` says why not, so a letter that needs it offers the right step).
    pub(crate) async fn reader_for(
        db: &borgerportal::storage::Database,
        ctx: Option<&crate::auth::SessionContext>,
    ) -> Result<Reader, AppError> {
        let ctx = ctx.ok_or(AppError::NotLoggedIn)?;
        let read = ctx.access::<ReadPost>(db).await?;
        let (sensitive, sensitive_refused) = match ctx.access::<ReadSensitivePost>(db).await {
            Ok(sensitive) => (Some(sensitive), None),
            Err(refused) => (None, Some(refused)),
        };
        Ok(Reader {
            read,
            sensitive,
            sensitive_refused,
            provider: ctx.session.provider.clone(),
        })
    }

    /// The person's own folders as (id, name).
    pub(super) async fn own_folders(
        db: &borgerportal::storage::Database,
        read: &Access<ReadPost>,
    ) -> Result<Vec<(String, String)>, AppError> {
        Ok(db
            .list_folders(read)
            .await
            .map_err(unavailable)?
            .into_iter()
            .map(|f| (f.id.to_string(), f.name))
            .collect())
    }

    /// A letter as the pages show it (its texts moved, not copied).
    pub(crate) fn line(letter: LetterSummary, lang: &str) -> LetterLine {
        LetterLine {
            id: letter.id.to_text(),
            sender: letter.sender_name,
            title: letter.title,
            locked: letter.locked,
            unread: letter.unread,
            decision: letter.is_decision,
            at: When::near(letter.shown_at, time::OffsetDateTime::now_utc(), lang),
            attachments: letter.attachment_count,
        }
    }

    pub(crate) fn unavailable(error: PostError) -> AppError {
        tracing::error!(%error, "could not read the mailbox");
        AppError::Unavailable
    }
}

/// What the address asks the mailbox for: a folder (`view`, `inbox` by default) or the trash,
/// a search (`q`), and the page (`after`, a cursor).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MailboxQuery {
    pub view: Option<String>,
    pub after: Option<String>,
    pub q: Option<String>,
}

/// One page of the mailbox: a folder (`inbox` by default), the trash, or a search.
#[cfg(feature = "ssr")]
pub async fn load_mailbox(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    query: MailboxQuery,
    lang: &str,
) -> Result<MailboxData, AppError> {
    use borgerportal::post::{FolderRef, LetterCursor, MailboxView};

    let MailboxQuery { view, after, q } = query;
    let reader = server::reader_for(db, session).await?;
    let db = db.clone();
    let now = time::OffsetDateTime::now_utc();
    let folders = server::own_folders(&db, &reader.read).await?;
    let after = after.as_deref().and_then(|c| LetterCursor::decode(c).ok());
    let query = q.map(|q| q.trim().to_owned()).filter(|q| !q.is_empty());
    let view_code = view.unwrap_or_else(|| "inbox".to_owned());
    let result = match &query {
        Some(query) => {
            db.search_letters(
                &reader.read,
                reader.sensitive.as_ref(),
                query,
                after,
                PAGE_SIZE,
                now,
            )
            .await
        }
        None => {
            let chosen = if view_code == "trash" {
                MailboxView::Trash
            } else {
                MailboxView::Folder(FolderRef::from_code(&view_code).unwrap_or(FolderRef::Inbox))
            };
            db.list_letters(
                &reader.read,
                reader.sensitive.as_ref(),
                chosen,
                after,
                PAGE_SIZE,
                now,
            )
            .await
        }
    };
    let (page, query_refused) = match result {
        Ok(page) => (Some(page), false),
        Err(borgerportal::post::PostError::InvalidQuery) => (None, true),
        Err(error) => return Err(server::unavailable(error)),
    };
    let next = page.as_ref().and_then(|p| p.next);
    Ok(MailboxData {
        view: view_code,
        folders,
        letters: page
            .map(|p| {
                p.letters
                    .into_iter()
                    .map(|l| server::line(l, lang))
                    .collect()
            })
            .unwrap_or_default(),
        next: next.map(|c| c.encode()),
        query,
        query_refused,
    })
}

/// A letter, opened (recorded as read, and the opening receipt on the first time), with the
/// refused form being shown again (`outcome`), if any.
#[cfg(feature = "ssr")]
pub async fn load_letter(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    id: &str,
    lang: &str,
    outcome: Option<FormOutcome>,
) -> Result<Option<LetterData>, AppError> {
    use borgerportal::post::{LetterId, LetterView, PostError};

    let reader = server::reader_for(db, session).await?;
    let Ok(id) = id.parse::<LetterId>() else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc();
    let view = match db
        .open_letter(&reader.read, reader.sensitive.as_ref(), id, now)
        .await
    {
        Ok(view) => view,
        Err(PostError::NotFound) => return Ok(None),
        Err(error) => return Err(server::unavailable(error)),
    };
    // A helper opening a letter uses the delegation ("last used"; the giver is told of the
    // first use). Not recording it does not stop the reading.
    if reader.read.basis().is_for_someone_else() {
        if let Err(error) = db.record_delegation_use(&reader.read, now).await {
            tracing::warn!(%error, "could not record the use of a delegation");
        }
    }
    let folders = server::own_folders(db, &reader.read).await?;
    Ok(Some(match view {
        LetterView::Open(letter) => LetterData::Open {
            line: server::line(letter.summary.clone(), lang),
            body_html: letter.body_html.clone(),
            attachments: letter
                .attachments
                .iter()
                .map(|a| AttachmentLine {
                    position: a.position,
                    filename: a.filename.clone(),
                    size: crate::when::size_in_words(a.size, lang),
                })
                .collect(),
            folder: letter.summary.folder.code(),
            trashed: letter.summary.trashed_at.is_some(),
            folders,
            opened_by: letter
                .opened_by
                .iter()
                .map(|opening| (opening.name.clone(), When::new(opening.at, lang)))
                .collect(),
            outcome,
        },
        LetterView::NeedsStepUp { summary, .. } => LetterData::NeedsStepUp {
            line: server::line(summary, lang),
            provider: reader.provider,
            why: reader.sensitive_refused.unwrap_or(AppError::NeedsStepUp),
        },
    }))
}

/// What to show instead of the page: log in, what the authority acted under does not allow,
/// or try later.
fn refusal(i18n: I18nContext<Locale>, error: AppError, here: String) -> AnyView {
    match error {
        AppError::NotLoggedIn => view! {
            <p>{t_string!(i18n, post.not_logged_in)}</p>
            <p><a class="button" href=login_href(&here, None)>{t_string!(i18n, user.log_in)}</a></p>
        }
        .into_any(),
        error => view! { <Refusal error here /> }.into_any(),
    }
}

fn folder_name(i18n: I18nContext<Locale>, code: &str, own: &[(String, String)]) -> String {
    match code {
        "inbox" => t_string!(i18n, post.inbox).to_owned(),
        "archive" => t_string!(i18n, post.archive).to_owned(),
        "trash" => t_string!(i18n, post.trash).to_owned(),
        other => own
            .iter()
            .find(|(id, _)| id == other)
            .map(|(_, name)| name.clone())
            .unwrap_or_else(|| t_string!(i18n, post.inbox).to_owned()),
    }
}

// ---------------------------------------------------------------------------------------------
// The mailbox

/// `/post`: the page of the mailbox the server read ([`load_mailbox`]), or why not.
#[component]
pub fn PostPage(data: Result<MailboxData, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, post.title) />
        <article class="prose wide post">
            <h1>{t_string!(i18n, post.title)}</h1>
            {match data {
                Ok(data) => view! { <Mailbox data /> }.into_any(),
                Err(error) => refusal(i18n, error, "/post".to_owned()),
            }}
        </article>
    }
}

#[component]
fn Mailbox(data: MailboxData) -> impl IntoView {
    let i18n = use_i18n();
    let mut views: Vec<String> = vec!["inbox".into(), "archive".into()];
    views.extend(data.folders.iter().map(|(id, _)| id.clone()));
    views.push("trash".into());
    let searching = data.query.is_some();
    let heading = if searching {
        t_string!(i18n, post.search_results).to_owned()
    } else {
        folder_name(i18n, &data.view, &data.folders)
    };
    let next_href = data.next.clone().map(|cursor| {
        let mut href = format!("/post?after={}", crate::auth::encode(&cursor));
        match &data.query {
            Some(q) => href.push_str(&format!("&q={}", crate::auth::encode(q))),
            None => href.push_str(&format!("&view={}", crate::auth::encode(&data.view))),
        }
        href
    });
    let folders = data.folders.clone();
    let current = data.view.clone();
    let done = super::post_done::Done::from_query(&data.folders)
        .map(|done| view! { <super::post_done::DoneNotice done view=data.view.clone() /> });
    view! {
        {done}
        <form method="get" action="/post" role="search" class="search">
            <label for="q">{t_string!(i18n, post.search_label)}</label>
            <div class="actions">
                <input type="search" id="q" name="q" value=data.query.clone() maxlength="200" />
                <button type="submit" class="button">{t_string!(i18n, post.search_button)}</button>
            </div>
        </form>
        <nav aria-label=t_string!(i18n, post.folders_label) class="folders">
            <ul>
                {views
                    .into_iter()
                    .map(|code| {
                        let name = folder_name(i18n, &code, &folders);
                        let href = ["/post?view=", &crate::auth::encode(&code)].concat();
                        let here = !searching && code == current;
                        view! {
                            <li>
                                <a href=href aria-current=here.then_some("page")>{name}</a>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <p><NavLink href="/post/folders">{t_string!(i18n, post.manage_folders)}</NavLink></p>
        </nav>
        <h2>{heading}</h2>
        {data
            .query_refused
            .then(|| view! { <p class="field-error" role="alert">{t_string!(i18n, post.search_refused)}</p> })}
        {if data.letters.is_empty() {
            view! { <p>{t_string!(i18n, post.empty)}</p> }.into_any()
        } else {
            view! {
                <ul class="letters">
                    {data
                        .letters
                        .into_iter()
                        .map(|letter| letter_item(i18n, letter))
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        {next_href
            .map(|href| {
                view! {
                    <nav class="pager" aria-label=t_string!(i18n, post.title)>
                        <a href=href>{t_string!(i18n, post.older)}</a>
                    </nav>
                }
            })}
    }
}

/// A letter in the mailbox's list. (A function, not a component: a page has twenty, and each
/// looked up the translations' context again.)
pub(crate) fn letter_item(i18n: I18nContext<Locale>, letter: LetterLine) -> impl IntoView {
    // (`concat`, not `format!`: twenty to a page, and the formatting machinery costs more.)
    let href = ["/post/letter/", &letter.id].concat();
    let attachments = letter.attachments;
    view! {
        <li class="letter" class:unread=letter.unread>
            <a href=href>
                <span class="letter-title">
                    {letter
                        .unread
                        .then(|| view! { <span class="tag">{t_string!(i18n, post.unread)}</span> " " })}
                    {letter
                        .decision
                        .then(|| view! { <span class="tag tag-warning">{t_string!(i18n, post.decision)}</span> " " })}
                    {letter.title}
                    {letter
                        .locked
                        .then(|| view! { " " <span class="muted">"(" {t_string!(i18n, post.locked)} ")"</span> })}
                </span>
            </a>
            <span class="letter-meta">
                {letter.sender} " · " <time datetime=letter.at.iso>{letter.at.display}</time>
                {(attachments > 0)
                    .then(|| {
                        view! { " · " {t!(i18n, post.attachments_count, count = move || attachments)} }
                    })}
            </span>
        </li>
    }
}

// ---------------------------------------------------------------------------------------------
// A letter

/// `/post/letter/{id}`: the letter `id`, as the server read (and opened) it ([`load_letter`]).
#[component]
pub fn LetterPage(id: String, data: Result<Option<LetterData>, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    // The tab and the history say which letter: its title (the non-sensitive one when the
    // content needs a higher level).
    let title = match &data {
        Ok(Some(LetterData::Open { line, .. } | LetterData::NeedsStepUp { line, .. })) => {
            line.title.clone()
        }
        Ok(None) => t_string!(i18n, post.not_found_title).to_owned(),
        Err(_) => t_string!(i18n, post.letter_title).to_owned(),
    };
    view! {
        <Title text=title />
        <article class="prose wide post">
            <p><NavLink href="/post" exact=true>{t_string!(i18n, post.back)}</NavLink></p>
            {match data {
                Ok(Some(data)) => view! { <LetterBody data /> }.into_any(),
                Ok(None) => {
                    view! {
                        <h1>{t_string!(i18n, post.not_found_title)}</h1>
                        <p>{t_string!(i18n, post.not_found_text)}</p>
                    }
                        .into_any()
                }
                Err(error) => refusal(i18n, error, format!("/post/letter/{id}")),
            }}
        </article>
    }
}

#[component]
fn LetterBody(data: LetterData) -> impl IntoView {
    let i18n = use_i18n();
    match data {
        LetterData::NeedsStepUp {
            line,
            provider,
            why,
        } => {
            let here = format!("/post/letter/{}", line.id);
            if why != AppError::NeedsStepUp {
                return view! {
                    <h1>{line.title}</h1>
                    <p class="muted">{line.sender} " · " <time datetime=line.at.iso>{line.at.display}</time></p>
                    <Refusal error=why here />
                }
                .into_any();
            }
            view! {
                <h1>{line.title}</h1>
                <p class="muted">{line.sender} " · " <time datetime=line.at.iso>{line.at.display}</time></p>
                <div class="notice">
                    <h2>{t!(i18n, login.step_up_title)}</h2>
                    <p>{t!(i18n, post.step_up_text)}</p>
                    <a class="button" href=step_up_href(&provider, &here) rel="external">
                        {t!(i18n, login.step_up_button)}
                    </a>
                </div>
            }
            .into_any()
        }
        LetterData::Open {
            line,
            body_html,
            attachments,
            folder,
            trashed,
            folders,
            opened_by,
            outcome,
        } => {
            let base = format!("/post/letter/{}", line.id);
            let move_error = outcome.and_then(|o| o.errors.into_iter().next());
            view! {
                <h1>{line.title}</h1>
                <p class="muted">
                    {line.sender} " · " <time datetime=line.at.iso>{line.at.display}</time>
                    {line.decision.then(|| view! { " " <span class="tag tag-warning">{t!(i18n, post.decision)}</span> })}
                </p>
                {opened_by
                    .into_iter()
                    .map(|(name, at)| {
                        view! {
                            <p class="muted opened-by">
                                {t!(i18n, acting.opened_by, name = move || name.clone())} " "
                                <time datetime=at.iso>{at.display}</time>
                            </p>
                        }
                    })
                    .collect_view()}
                <div class="letter-body" inner_html=body_html></div>
                {(!attachments.is_empty())
                    .then(|| {
                        let base = base.clone();
                        view! {
                            <section aria-labelledby="attachments-title" class="contact-section">
                                <h2 id="attachments-title">{t!(i18n, post.attachments)}</h2>
                                <ul class="attachments">
                                    {attachments
                                        .into_iter()
                                        .map(|a| {
                                            let open = format!("{base}/attachment/{}", a.position);
                                            let download = format!("{open}?download=1");
                                            view! {
                                                <li>
                                                    <a href=open rel="external">{a.filename.clone()}</a>
                                                    " (" {t!(i18n, post.pdf)} ", " {a.size} ") · "
                                                    <a href=download rel="external">
                                                        {t!(i18n, post.download)}
                                                        <span class="sr-only">" " {a.filename}</span>
                                                    </a>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            </section>
                        }
                    })}
                <section aria-labelledby="actions-title" class="contact-section">
                    <h2 id="actions-title">{t!(i18n, post.actions)}</h2>
                    {move_error.map(|_| view! { <p class="field-error" role="alert">{t!(i18n, post.action_failed)}</p> })}
                    {if trashed {
                        view! {
                            <form method="post" action=format!("{base}/restore")>
                                <button type="submit" class="button">{t!(i18n, post.restore)}</button>
                            </form>
                        }
                            .into_any()
                    } else {
                        view! {
                            <form method="post" action=format!("{base}/move") class="move-form">
                                <input type="hidden" name="from" value=folder.clone() />
                                <label for="to">{t!(i18n, post.move_to)}</label>
                                <div class="actions">
                                    <select id="to" name="to">
                                        {[("inbox".to_owned(), t_string!(i18n, post.inbox).to_owned()), ("archive".to_owned(), t_string!(i18n, post.archive).to_owned())]
                                            .into_iter()
                                            .chain(folders)
                                            .map(|(code, name)| {
                                                let selected = code == folder;
                                                view! { <option value=code selected=selected>{name}</option> }
                                            })
                                            .collect_view()}
                                    </select>
                                    <button type="submit" class="button button-secondary">{t!(i18n, post.move_button)}</button>
                                </div>
                            </form>
                            <div class="actions">
                                <form method="post" action=format!("{base}/unread")>
                                    <button type="submit" class="button button-secondary">{t!(i18n, post.mark_unread)}</button>
                                </form>
                                <form method="post" action=format!("{base}/trash")>
                                    <button type="submit" class="button button-secondary">{t!(i18n, post.delete)}</button>
                                </form>
                            </div>
                        }
                            .into_any()
                    }}
                </section>
            }
            .into_any()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Own folders

/// `/post/folders`: the citizen's own folders as the server read them ([`load_folders`]).
#[component]
pub fn FoldersPage(data: Result<FoldersData, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, post.folders_title) />
        <article class="prose post">
            <p><NavLink href="/post" exact=true>{t_string!(i18n, post.back)}</NavLink></p>
            <h1>{t_string!(i18n, post.folders_title)}</h1>
            {match data {
                Ok((folders, outcome)) => view! { <Folders folders outcome /> }.into_any(),
                Err(error) => refusal(i18n, error, "/post/folders".to_owned()),
            }}
        </article>
    }
}

/// The citizen's own folders, (id, name), and the refused folder form being shown again.
pub type FoldersData = (Vec<(String, String)>, Option<FormOutcome>);

/// The citizen's own folders, (id, name), with the refused form being shown again.
#[cfg(feature = "ssr")]
pub async fn load_folders(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    outcome: Option<FormOutcome>,
) -> Result<FoldersData, AppError> {
    let reader = server::reader_for(db, session).await?;
    Ok((server::own_folders(db, &reader.read).await?, outcome))
}

fn folder_error(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "post.folder_name_taken" => t_string!(i18n, post.folder_name_taken),
        "post.folder_not_empty" => t_string!(i18n, post.folder_not_empty),
        "post.too_many_folders" => t_string!(i18n, post.too_many_folders),
        _ => t_string!(i18n, post.folder_name_invalid),
    }
}

#[component]
fn Folders(folders: Vec<(String, String)>, outcome: Option<FormOutcome>) -> impl IntoView {
    let i18n = use_i18n();
    let error = outcome.as_ref().and_then(|o| o.error_for("name").cloned());
    let typed = outcome.as_ref().and_then(|o| o.value_of("name"));
    view! {
        {error
            .clone()
            .map(|e| {
                view! {
                    <div class="error-summary" role="alert" tabindex="-1">
                        <p>{move || folder_error(i18n, &e.code)}</p>
                    </div>
                }
            })}
        {if folders.is_empty() {
            view! { <p>{t!(i18n, post.no_folders)}</p> }.into_any()
        } else {
            view! {
                <ul class="folder-list">
                    {folders
                        .into_iter()
                        .map(|(id, name)| {
                            let label_id = format!("rename-{id}");
                            view! {
                                <li>
                                    <form method="post" action=format!("/post/folders/{id}/rename") class="actions">
                                        <label for=label_id.clone() class="sr-only">{t!(i18n, post.rename_label)} " " {name.clone()}</label>
                                        <input type="text" id=label_id name="name" value=name.clone() maxlength="60" />
                                        <button type="submit" class="button button-secondary">{t!(i18n, post.rename)}</button>
                                    </form>
                                    <form method="post" action=format!("/post/folders/{id}/delete")>
                                        <button type="submit" class="button button-secondary">
                                            {t!(i18n, post.delete_folder)} <span class="sr-only">" " {name}</span>
                                        </button>
                                    </form>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
                .into_any()
        }}
        <form method="post" action="/post/folders">
            <div class="field" class:field-invalid=error.is_some()>
                <label for="name">{t!(i18n, post.new_folder)}</label>
                <input type="text" id="name" name="name" maxlength="60" value=typed aria-invalid=error.is_some().then_some("true") />
            </div>
            <button type="submit" class="button">{t!(i18n, post.create_folder)}</button>
        </form>
    }
}
