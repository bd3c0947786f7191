//! "My activity": the citizen's own audit events (logins, logouts, step-ups…), newest first,
//! paged with a cursor in the address so paging works without JavaScript. The page is read by
//! the server before it is rendered ([`load_activity`], called by `server/src/pages.rs`).

use crate::auth::{login_href, step_up_href, use_current_user};
use crate::components::acting::Refusal;
use crate::components::nav_link::NavLink;
use crate::components::user_menu::loa_name;
use crate::error::AppError;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// One line of the activity log, ready to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityItem {
    /// RFC 3339, for `<time datetime>`.
    pub at: String,
    /// Local time for people, e.g. `24.11.2026 07:52`.
    pub at_display: String,
    /// The event kind's code, e.g. `login.succeeded`.
    pub kind: String,
    pub loa: Option<String>,
    /// Through which eID (a login) or by which agency (a look-up), by name.
    pub provider: Option<String>,
    /// Who did it, when someone other than the person did (a helper, a guardian, a giver).
    pub by: Option<String>,
    /// The authority a helper acted under: `delegation` or `guardian`.
    pub acted_under: Option<String>,
    /// What it was about: a letter's non-sensitive title, a folder's name, a signing job's
    /// non-sensitive title (as they were then).
    #[serde(default)]
    pub about: Option<String>,
}

/// The registered agencies: (id, name). Provided by the server.
#[cfg(feature = "ssr")]
#[derive(Clone, Debug, Default)]
pub struct AgencyNames(pub std::sync::Arc<[(String, String)]>);

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub items: Vec<ActivityItem>,
    /// The cursor for the next (older) page.
    pub older: Option<String>,
}

/// Events per page.
#[cfg(feature = "ssr")]
const PAGE_SIZE: u32 = 20;

/// What the address asks the activity page for: older than `before` (a cursor), and
/// `only=contact` for the history of contact changes.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ActivityQuery {
    pub before: Option<String>,
    pub only: Option<String>,
}

/// The logged-in citizen's activity, one page, older than `before`, with the eIDs' and the
/// agencies' names.
#[cfg(feature = "ssr")]
pub async fn load_activity(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    query: ActivityQuery,
    lang: &str,
    providers: &crate::auth::ProviderChoices,
    agencies: &AgencyNames,
) -> Result<ActivityPage, AppError> {
    use borgerportal::access::ReadOwnActivity;
    use borgerportal::audit::AuditCursor;
    let ActivityQuery { before, only } = query;
    let ctx = session.ok_or(AppError::NotLoggedIn)?;
    let access = ctx.access::<ReadOwnActivity>(db).await?;
    let cursor = before.as_deref().and_then(AuditCursor::from_param);
    let page = db
        .list_events_of(&access, filter_of(only.as_deref()), cursor, PAGE_SIZE)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read the activity log");
            AppError::Unavailable
        })?;
    let items = page
        .events
        .iter()
        .cloned()
        .map(|event| ActivityItem {
            at: crate::when::iso(event.at),
            at_display: crate::when::local_time(event.at, lang),
            kind: event.kind.code().to_owned(),
            loa: event.loa.map(|l| l.as_str().to_owned()),
            provider: match (event.provider, event.agency) {
                (Some(id), _) => Some(name_of(&providers.0, id)),
                (None, Some(agency)) => Some(name_of(&agencies.0, agency.as_str().to_owned())),
                (None, None) => None,
            },
            by: event.actor.and_then(|actor| {
                page.others
                    .iter()
                    .find(|(other, _)| *other == actor)
                    .map(|(_, name)| name.clone())
            }),
            acted_under: event.acted_under.map(|basis| basis.code().to_owned()),
            about: event.about,
        })
        .collect();
    Ok(ActivityPage {
        items,
        older: page.next.map(|c| c.to_param()),
    })
}

/// The display name for an id, or the id itself when it is not (or no longer) configured.
#[cfg(feature = "ssr")]
fn name_of(names: &[(String, String)], id: String) -> String {
    names
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| name.clone())
        .unwrap_or(id)
}

/// The filter named by `?only=` (`contact`: the history of contact changes).
#[cfg(feature = "ssr")]
fn filter_of(only: Option<&str>) -> borgerportal::audit::EventFilter {
    match only {
        Some(CONTACT_ONLY) => borgerportal::audit::EventFilter::Contact,
        _ => borgerportal::audit::EventFilter::All,
    }
}

/// `?only=contact`.
const CONTACT_ONLY: &str = "contact";

fn kind_text(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "login.succeeded" => t_string!(i18n, activity.kind.login_succeeded),
        "login.failed" => t_string!(i18n, activity.kind.login_failed),
        "login.logged_out" => t_string!(i18n, activity.kind.logged_out),
        "login.stepped_up" => t_string!(i18n, activity.kind.stepped_up),
        "login.logged_out_by_provider" => t_string!(i18n, activity.kind.logged_out_by_provider),
        "contact.email_code_sent" => t_string!(i18n, activity.kind.email_code_sent),
        "contact.mobile_code_sent" => t_string!(i18n, activity.kind.mobile_code_sent),
        "contact.email_changed" => t_string!(i18n, activity.kind.email_changed),
        "contact.mobile_changed" => t_string!(i18n, activity.kind.mobile_changed),
        "contact.verified" => t_string!(i18n, activity.kind.verified),
        "contact.verification_locked" => t_string!(i18n, activity.kind.verification_locked),
        "contact.email_removed" => t_string!(i18n, activity.kind.email_removed),
        "contact.mobile_removed" => t_string!(i18n, activity.kind.mobile_removed),
        "contact.confirmed" => t_string!(i18n, activity.kind.confirmed),
        "contact.reserved" => t_string!(i18n, activity.kind.reserved),
        "contact.reservation_withdrawn" => t_string!(i18n, activity.kind.reservation_withdrawn),
        "contact.mailbox_changed" => t_string!(i18n, activity.kind.mailbox_changed),
        "contact.language_changed" => t_string!(i18n, activity.kind.language_changed),
        "api.contact_lookup" => t_string!(i18n, activity.kind.contact_lookup),
        "api.authority_check" => t_string!(i18n, authority_api.checked),
        "post.delivered" => t_string!(i18n, activity.kind.post_delivered),
        "post.opened" => t_string!(i18n, activity.kind.post_opened),
        "post.moved" => t_string!(i18n, activity.kind.post_moved),
        "post.marked_unread" => t_string!(i18n, activity.kind.post_marked_unread),
        "post.trashed" => t_string!(i18n, activity.kind.post_trashed),
        "post.restored" => t_string!(i18n, activity.kind.post_restored),
        "post.folder_created" => t_string!(i18n, activity.kind.post_folder_created),
        "post.folder_renamed" => t_string!(i18n, activity.kind.post_folder_renamed),
        "post.folder_deleted" => t_string!(i18n, activity.kind.post_folder_deleted),
        "authority.granted" => t_string!(i18n, activity.kind.authority_granted),
        "authority.requested" => t_string!(i18n, activity.kind.authority_requested),
        "authority.approved" => t_string!(i18n, activity.kind.authority_approved),
        "authority.declined" => t_string!(i18n, activity.kind.authority_declined),
        "authority.revoked" => t_string!(i18n, activity.kind.authority_revoked),
        "authority.changed" => t_string!(i18n, activity.kind.authority_changed),
        "signing.signed" => t_string!(i18n, activity.kind.documents_signed),
        "signing.declined" => t_string!(i18n, activity.kind.signing_declined),
        // A kind this page does not know yet is still shown, never mislabelled.
        _ => t_string!(i18n, activity.kind.other),
    }
}

/// `/activity`: the page of the log the server read ([`load_activity`]), or why not.
#[component]
pub fn ActivityPage(data: Result<ActivityPage, AppError>) -> impl IntoView {
    let i18n = use_i18n();
    let first_page = crate::request::query_param("before").is_none();
    let page = data;
    // Plain strings for the head (see the shell): fixed when the page is made.
    let contact_only = crate::request::query_param("only").as_deref() == Some(CONTACT_ONLY);
    let title = if contact_only {
        t_string!(i18n, activity.contact_title)
    } else {
        t_string!(i18n, activity.title)
    };
    let here = if contact_only {
        "/activity?only=contact"
    } else {
        "/activity"
    };
    view! {
        <Title text=title />
        <article class="prose wide">
            <h1>{title}</h1>
            <p class="lead">
                {if contact_only {
                    t!(i18n, activity.contact_intro).into_any()
                } else {
                    t!(i18n, activity.intro).into_any()
                }}
            </p>
            {match page {
                Ok(page) => view! { <ActivityTable page first_page contact_only /> }.into_any(),
                Err(AppError::NotLoggedIn) => {
                    view! {
                        <p>{t_string!(i18n, activity.not_logged_in)}</p>
                        <p>
                            <a class="button" href=login_href(here, None)>
                                {t_string!(i18n, user.log_in)}
                            </a>
                        </p>
                    }
                        .into_any()
                }
                Err(AppError::NeedsStepUp) => {
                    let provider = use_current_user().map(|user| user.provider).unwrap_or_default();
                    view! {
                        <h2>{t_string!(i18n, login.step_up_title)}</h2>
                        <p>{t_string!(i18n, login.step_up_text)}</p>
                        <a class="button" href=step_up_href(&provider, here) rel="external">
                            {t_string!(i18n, login.step_up_button)}
                        </a>
                    }
                        .into_any()
                }
                Err(error) => view! { <Refusal error here /> }.into_any(),
            }}
        </article>
    }
}

/// The table; on narrow screens each row becomes a small card (the CSS uses `data-label`).
#[component]
fn ActivityTable(page: ActivityPage, first_page: bool, contact_only: bool) -> impl IntoView {
    let i18n = use_i18n();
    if page.items.is_empty() {
        return view! { <p>{t!(i18n, activity.empty)}</p> }.into_any();
    }
    let older = page.older.clone();
    view! {
        <div class="table-wrap">
            <table class="activity">
                <caption class="sr-only">{t!(i18n, activity.caption)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, activity.when)}</th>
                        <th scope="col">{t!(i18n, activity.what)}</th>
                        <th scope="col">{t!(i18n, activity.about)}</th>
                        <th scope="col">{t!(i18n, activity.level)}</th>
                        <th scope="col">{t!(i18n, activity.provider)}</th>
                    </tr>
                </thead>
                <tbody>
                    {page
                        .items
                        .into_iter()
                        .map(|item| {
                            let kind = item.kind.clone();
                            let loa = item.loa.clone();
                            let by = item.by.clone().map(|name| {
                                let basis = match item.acted_under.as_deref() {
                                    Some("guardian") => {
                                        format!(" ({})", t_string!(i18n, acting.activity_guardian))
                                    }
                                    Some(_) => {
                                        format!(" ({})", t_string!(i18n, acting.activity_delegation))
                                    }
                                    None => String::new(),
                                };
                                format!(" – {} {name}{basis}", t_string!(i18n, acting.activity_by))
                            });
                            view! {
                                <tr>
                                    <td data-label=move || t_string!(i18n, activity.when)>
                                        <time datetime=item.at>{item.at_display}</time>
                                    </td>
                                    <td data-label=move || t_string!(i18n, activity.what)>
                                        {move || kind_text(i18n, &kind)}
                                        {by}
                                    </td>
                                    <td data-label=move || t_string!(i18n, activity.about)>
                                        {item.about.unwrap_or_else(|| "–".to_owned())}
                                    </td>
                                    <td data-label=move || t_string!(i18n, activity.level)>
                                        {move || loa.as_deref().map(|l| loa_name(i18n, l)).unwrap_or("–")}
                                    </td>
                                    <td data-label=move || t_string!(i18n, activity.provider)>
                                        {item.provider.unwrap_or_else(|| "–".to_owned())}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <nav class="pager" aria-label=move || t_string!(i18n, activity.title)>
            {older
                .map(|cursor| {
                    view! {
                        <NavLink href=format!(
                            "/activity?{}before={}",
                            if contact_only { "only=contact&" } else { "" },
                            crate::auth::encode(&cursor),
                        )>
                            {t!(i18n, activity.older)}
                        </NavLink>
                    }
                })}
            {(!first_page)
                .then(|| {
                    let newest = if contact_only { "/activity?only=contact" } else { "/activity" };
                    view! { <NavLink href=newest>{t!(i18n, activity.newest)}</NavLink> }
                })}
        </nav>
    }
    .into_any()
}
