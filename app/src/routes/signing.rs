//! Documents to sign: `/signing` (the jobs whose turn has come for the person the pages show)
//! and `/signing/{id}` (one job: its documents, who else signs and in which order, the
//! deadline, and the "sign" and "decline" forms). The forms and the documents are served by
//! `server/src/signing_pages.rs`; signing itself asks for a fresh eID login at the job's level.

use crate::auth::{login_href, step_up_href};
use crate::components::acting::Refusal;
use crate::components::form::{ErrorSummary, FieldError, FormOutcome};
use crate::components::nav_link::NavLink;
use crate::error::AppError;
use crate::i18n::*;
use crate::when::When;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;

/// A job in the list and at the top of its page.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningLine {
    pub id: String,
    pub sender: String,
    /// The title the session may see (the non-sensitive one below the job's level).
    pub title: String,
    pub deadline: When,
    /// The signer's status code (`waiting`, `signed`, `rejected`, …).
    pub status: &'static str,
    /// Whether the job waits for this signer.
    pub awaits: bool,
}

/// One document of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentLine {
    pub position: u32,
    pub title: String,
    pub filename: String,
    pub size: String,
}

/// A signer as the others see them: name and turn.
#[derive(Clone, Debug, PartialEq)]
pub struct PartyLine {
    pub name: Option<String>,
    pub order: u8,
    pub status: &'static str,
    pub is_subject: bool,
}

/// `/signing/{id}` as the server read it.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningJobData {
    pub line: SigningLine,
    pub description: String,
    pub documents: Vec<DocumentLine>,
    pub parties: Vec<PartyLine>,
    /// `substantial` or `high`: the level the signature needs.
    pub level: &'static str,
    /// The session is below the job's level: step up to see the documents.
    pub locked: bool,
    /// The pages are for someone else and the job must be signed in person.
    pub in_person_only: bool,
    /// The eID the session used (for the step-up link).
    pub provider: String,
    /// The refused decline form, shown again.
    pub outcome: Option<FormOutcome>,
}

#[cfg(feature = "ssr")]
mod server {
    use super::*;
    use borgerportal::access::{Access, SignDocuments};
    use borgerportal::signing::{SignerJobSummary, SigningError};

    pub(super) async fn access(
        db: &borgerportal::storage::Database,
        ctx: Option<&crate::auth::SessionContext>,
    ) -> Result<Access<SignDocuments>, AppError> {
        ctx.ok_or(AppError::NotLoggedIn)?
            .access::<SignDocuments>(db)
            .await
    }

    pub(super) fn line(job: SignerJobSummary, loa: borgerportal::Loa, lang: &str) -> SigningLine {
        SigningLine {
            id: job.job.to_text(),
            awaits: job.awaits_signer(),
            title: job.title_at(loa).to_owned(),
            sender: job.sender_name,
            deadline: When::new(job.deadline, lang),
            status: job.status.code(),
        }
    }

    pub(super) fn unavailable(error: SigningError) -> AppError {
        tracing::error!(%error, "could not read the signing jobs");
        AppError::Unavailable
    }
}

/// The jobs whose turn has come for the person the pages show, those waiting first.
#[cfg(feature = "ssr")]
pub async fn load_signing_list(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    lang: &str,
) -> Result<Vec<SigningLine>, AppError> {
    let access = server::access(db, session).await?;
    let loa = access
        .actor()
        .loa()
        .unwrap_or(borgerportal::Loa::Substantial);
    let jobs = db
        .signing_jobs(&access, time::OffsetDateTime::now_utc())
        .await
        .map_err(server::unavailable)?;
    Ok(jobs
        .into_iter()
        .map(|job| server::line(job, loa, lang))
        .collect())
}

/// One job for its signer; `None` when there is none for them (or not yet their turn).
#[cfg(feature = "ssr")]
pub async fn load_signing_job(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    id: &str,
    lang: &str,
    outcome: Option<FormOutcome>,
) -> Result<Option<SigningJobData>, AppError> {
    use borgerportal::signing::SigningError;

    let access = server::access(db, session).await?;
    let Ok(job) = id.parse::<borgerportal::SigningJobId>() else {
        return Ok(None);
    };
    let job = match db
        .signing_job(&access, job, time::OffsetDateTime::now_utc())
        .await
    {
        Ok(job) => job,
        Err(SigningError::NotFound) => return Ok(None),
        Err(error) => return Err(server::unavailable(error)),
    };
    let loa = access
        .actor()
        .loa()
        .unwrap_or(borgerportal::Loa::Substantial);
    let level = job.summary.level.as_str();
    Ok(Some(SigningJobData {
        line: server::line(job.summary, loa, lang),
        description: job.description,
        documents: job
            .documents
            .into_iter()
            .map(|d| DocumentLine {
                position: d.position,
                title: d.title,
                filename: d.file_name,
                size: crate::when::size_in_words(d.size, lang),
            })
            .collect(),
        parties: job
            .parties
            .into_iter()
            .map(|p| PartyLine {
                name: p.name,
                order: p.order,
                status: p.status.code(),
                is_subject: p.is_subject,
            })
            .collect(),
        level,
        locked: job.locked,
        in_person_only: access.basis().is_for_someone_else() && !job.helpers_may_sign,
        provider: session
            .map(|s| s.session.provider.clone())
            .unwrap_or_default(),
        outcome,
    }))
}

fn status_text(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "waiting" => t_string!(i18n, signing.status_waiting),
        "signed" => t_string!(i18n, signing.status_signed),
        "rejected" => t_string!(i18n, signing.status_rejected),
        "cancelled" => t_string!(i18n, signing.status_cancelled),
        "expired" => t_string!(i18n, signing.status_expired),
        _ => t_string!(i18n, signing.status_ended),
    }
}

fn refusal(i18n: I18nContext<Locale>, error: AppError, here: String) -> AnyView {
    match error {
        AppError::NotLoggedIn => view! {
            <p>{t_string!(i18n, signing.not_logged_in)}</p>
            <p><a class="button" href=login_href(&here, None)>{t_string!(i18n, user.log_in)}</a></p>
        }
        .into_any(),
        error => view! { <Refusal error here /> }.into_any(),
    }
}

/// `/signing`: the jobs whose turn has come.
#[component]
pub fn SigningListPage(data: Result<Vec<SigningLine>, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, signing.title) />
        <article class="prose wide signing">
            <h1>{t!(i18n, signing.title)}</h1>
            <p class="lead">{t!(i18n, signing.intro)}</p>
            {match data {
                Ok(jobs) if jobs.is_empty() => view! { <p>{t!(i18n, signing.none)}</p> }.into_any(),
                Ok(jobs) => view! {
                    <ul class="letter-list">
                        {jobs
                            .into_iter()
                            .map(|job| {
                                let href = format!("/signing/{}", job.id);
                                let status = status_text(i18n, job.status);
                                view! {
                                    <li class="letter-line" class:unread=job.awaits>
                                        <a href=href>{job.title}</a>
                                        <p class="muted">
                                            {job.sender} " · " {t!(i18n, signing.deadline)} " "
                                            <time datetime=job.deadline.iso>{job.deadline.display}</time>
                                            " · " {status}
                                        </p>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                .into_any(),
                Err(error) => refusal(i18n, error, "/signing".to_owned()),
            }}
        </article>
    }
}

/// `/signing/{id}`: one job.
#[component]
pub fn SigningJobPage(id: String, data: Result<Option<SigningJobData>, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let title = match &data {
        Ok(Some(job)) => job.line.title.clone(),
        Ok(None) => t_string!(i18n, signing.not_found_title).to_owned(),
        Err(_) => t_string!(i18n, signing.title).to_owned(),
    };
    view! {
        <Title text=title />
        <article class="prose wide signing">
            <p><NavLink href="/signing" exact=true>{t_string!(i18n, signing.back)}</NavLink></p>
            {match data {
                Ok(Some(job)) => view! { <JobBody job /> }.into_any(),
                Ok(None) => view! {
                    <h1>{t_string!(i18n, signing.not_found_title)}</h1>
                    <p>{t_string!(i18n, signing.not_found_text)}</p>
                }
                .into_any(),
                Err(error) => refusal(i18n, error, format!("/signing/{id}")),
            }}
        </article>
    }
}

/// A message from the address: `?done=` after a form, `?problem=` after a signature that could
/// not be recorded.
#[component]
fn Outcome() -> impl IntoView {
    let i18n = use_i18n();
    let done = crate::request::query_param("done").and_then(|code| {
        let text = match code.as_str() {
            "signed" => t_string!(i18n, signing.done_signed),
            "declined" => t_string!(i18n, signing.done_declined),
            _ => return None,
        };
        Some(view! { <p class="notice notice-success" role="status">{text}</p> })
    });
    let problem = crate::request::query_param("problem").map(|code| {
        let text = match code.as_str() {
            "signing.needs_fresh_login" => t_string!(i18n, signing.problem_fresh_login),
            "signing.job_ended" => t_string!(i18n, signing.problem_ended),
            "signing.already_done" => t_string!(i18n, signing.problem_already),
            _ => t_string!(i18n, signing.problem_other),
        };
        view! { <p class="notice notice-error" role="alert">{text}</p> }
    });
    (done, problem)
}

fn reason_error(i18n: I18nContext<Locale>, _error: &FieldError) -> AnyView {
    t_string!(i18n, signing.reason_invalid).into_any()
}

#[component]
fn JobBody(job: SigningJobData) -> impl IntoView {
    let i18n = use_i18n();
    let base = format!("/signing/{}", job.line.id);
    let level = if job.level == "high" {
        t_string!(i18n, signing.level_high)
    } else {
        t_string!(i18n, signing.level_substantial)
    };
    let reason_invalid = job
        .outcome
        .as_ref()
        .and_then(|o| o.error_for("reason").cloned());
    let typed_reason = job.outcome.as_ref().and_then(|o| o.value_of("reason"));
    let status = status_text(i18n, job.line.status);
    view! {
        <h1>{job.line.title.clone()}</h1>
        <p class="muted">
            {job.line.sender.clone()} " · " {t!(i18n, signing.deadline)} " "
            <time datetime=job.line.deadline.iso.clone()>{job.line.deadline.display.clone()}</time>
        </p>
        <Outcome />
        <ErrorSummary outcome=job.outcome.clone() text=reason_error />
        {(!job.description.is_empty()).then(|| view! { <p class="description">{job.description.clone()}</p> })}
        {if job.locked {
            view! {
                <div class="notice">
                    <h2>{t!(i18n, login.step_up_title)}</h2>
                    <p>{t!(i18n, signing.step_up_text)}</p>
                    <a class="button" href=step_up_href(&job.provider, &base) rel="external">
                        {t!(i18n, login.step_up_button)}
                    </a>
                </div>
            }
            .into_any()
        } else {
            let documents_base = base.clone();
            view! {
                <section aria-labelledby="documents-title" class="contact-section">
                    <h2 id="documents-title">{t!(i18n, signing.documents)}</h2>
                    <ul class="attachments">
                        {job
                            .documents
                            .iter()
                            .map(|d| {
                                let open = format!("{documents_base}/document/{}", d.position);
                                let download = format!("{open}?download=1");
                                view! {
                                    <li>
                                        <a href=open rel="external">{d.title.clone()}</a>
                                        " (" {t!(i18n, post.pdf)} ", " {d.size.clone()} ") · "
                                        <a href=download rel="external">
                                            {t!(i18n, post.download)}
                                            <span class="sr-only">" " {d.filename.clone()}</span>
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </section>
            }
            .into_any()
        }}
        <section aria-labelledby="parties-title" class="contact-section">
            <h2 id="parties-title">{t!(i18n, signing.parties)}</h2>
            <ol class="parties">
                {job
                    .parties
                    .iter()
                    .map(|p| {
                        let name = match (&p.name, p.is_subject) {
                            (_, true) => t_string!(i18n, signing.you).to_owned(),
                            (Some(name), false) => name.clone(),
                            (None, false) => t_string!(i18n, signing.unnamed).to_owned(),
                        };
                        let turn = u32::from(p.order) + 1;
                        let status = status_text(i18n, p.status);
                        view! {
                            <li>
                                {name} " – " {t!(i18n, signing.turn, n = turn)} " – " {status}
                            </li>
                        }
                    })
                    .collect_view()}
            </ol>
        </section>
        <section aria-labelledby="sign-title" class="contact-section">
            <h2 id="sign-title">{t!(i18n, signing.your_signature)}</h2>
            {if !job.line.awaits {
                view! { <p>{t!(i18n, signing.your_status)} " " {status}</p> }.into_any()
            } else if job.in_person_only {
                view! { <p>{t!(i18n, signing.in_person_only)}</p> }.into_any()
            } else {
                let sign = format!("{base}/sign");
                let decline = format!("{base}/decline");
                view! {
                    <p>{t!(i18n, signing.sign_explained, level = move || level)}</p>
                    <form method="post" action=sign>
                        <button type="submit" class="button">{t!(i18n, signing.sign_button)}</button>
                    </form>
                    <details class="decline" open=reason_invalid.is_some()>
                        <summary>{t!(i18n, signing.decline_open)}</summary>
                        <form method="post" action=decline>
                            <div class="field" class:field-invalid=reason_invalid.is_some()>
                                <label for="reason">{t!(i18n, signing.reason_label)}</label>
                                <p class="hint" id="reason-hint">{t!(i18n, signing.reason_hint)}</p>
                                {reason_invalid.clone().map(|_| view! {
                                    <p class="field-error" id="reason-error">
                                        <span class="sr-only">{t!(i18n, form.error_prefix)} " "</span>
                                        {t!(i18n, signing.reason_invalid)}
                                    </p>
                                })}
                                <textarea
                                    id="reason"
                                    name="reason"
                                    rows="3"
                                    maxlength="500"
                                    aria-describedby=if reason_invalid.is_some() { "reason-hint reason-error" } else { "reason-hint" }
                                    aria-invalid=reason_invalid.is_some().then_some("true")
                                >{typed_reason}</textarea>
                            </div>
                            <button type="submit" class="button button-secondary">{t!(i18n, signing.decline_button)}</button>
                        </form>
                    </details>
                }
                .into_any()
            }}
        </section>
    }
}
