//! `/`: for a visitor, what Borgerportal is for and a way to log in; for a logged-in citizen,
//! their overview: what is waiting for them (codes to enter, contact data to confirm), their
//! newest unread letters, their contact entry and level of assurance, each card a link to the
//! page that handles it.
//!
//! Only what the portal does today is shown: a feature that does not exist yet is not
//! advertised, and a card comes with its feature.

use crate::auth::{login_href, step_up_href, use_current_user};
use crate::error::AppError;
use crate::i18n::*;
use crate::routes::contact::{ContactView, ValueView};
use crate::routes::post::{letter_item, LetterLine};
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;
use serde::{Deserialize, Serialize};

/// Unread letters on the home page, newest first.
#[cfg(feature = "ssr")]
const HOME_LETTERS: u32 = 3;

/// What a logged-in citizen's home page shows: their own overview, or, while they act for
/// someone, that person's as far as the authority allows (a card the authority does not cover
/// is left out).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeView {
    /// The newest unread letters (at most three), in any folder but the trash.
    pub letters: Option<Vec<LetterLine>>,
    /// Their contact entry.
    pub contact: Option<ContactView>,
    /// Whether their activity log may be read.
    pub activity: bool,
    /// Requests for authority waiting for their answer (one's own only).
    pub authority_requests: u32,
    /// Whom they can act for, when they hold authority and act for themself: the choice
    /// comes first on the page after login (themself chosen).
    pub act_for: Option<crate::routes::act_for::ActForView>,
}

/// What the home page is given: `None` for a visitor, else the citizen's overview or why it
/// cannot be read.
pub type HomeData = Option<Result<HomeView, AppError>>;

/// The overview of the session's citizen; `None` without a session.
#[cfg(feature = "ssr")]
pub async fn load_home(
    db: &borgerportal::storage::Database,
    session: Option<&crate::auth::SessionContext>,
    lang: &str,
    staleness: time::Duration,
) -> HomeData {
    use crate::routes::contact::load_contact;
    use crate::routes::post::server::{line, reader_for, unavailable};
    use borgerportal::access::ReadOwnActivity;

    let session = session?;
    let read = async {
        let now = time::OffsetDateTime::now_utc();
        let letters = match allowed(reader_for(db, Some(session)).await)? {
            Some(reader) => {
                let letters = db
                    .newest_unread(&reader.read, reader.sensitive.as_ref(), HOME_LETTERS, now)
                    .await
                    .map_err(unavailable)?;
                Some(letters.into_iter().map(|l| line(l, lang)).collect())
            }
            None => None,
        };
        let contact = allowed(load_contact(db, Some(session), lang, staleness, None).await)?;
        let activity = allowed(session.access::<ReadOwnActivity>(db).await)?.is_some();
        let authority_requests = authority_requests(db, session, now).await?;
        let act_for = if session.is_acting() {
            None
        } else {
            allowed(crate::routes::act_for::load_act_for(db, Some(session), lang, None).await)?
                .filter(|choice| !choice.choices.is_empty())
        };
        Ok(HomeView {
            letters,
            contact,
            activity,
            authority_requests,
            act_for,
        })
    };
    Some(read.await)
}

/// A card's data, `None` when the policy does not allow it (acting for someone whose
/// authority does not cover it); a failure to read stays one.
#[cfg(feature = "ssr")]
fn allowed<T>(read: Result<T, AppError>) -> Result<Option<T>, AppError> {
    match read {
        Ok(value) => Ok(Some(value)),
        Err(AppError::Unavailable) => Err(AppError::Unavailable),
        Err(_) => Ok(None),
    }
}

/// How many requests for authority wait for the citizen's answer.
#[cfg(feature = "ssr")]
async fn authority_requests(
    db: &borgerportal::storage::Database,
    session: &crate::auth::SessionContext,
    now: time::OffsetDateTime,
) -> Result<u32, AppError> {
    use borgerportal::access::ManageAuthority;
    // One's own requests only: while acting for someone, theirs are not shown.
    let Ok(access) = session.access::<ManageAuthority>(db).await else {
        return Ok(0);
    };
    let waiting = db
        .delegation_requests_waiting(&access, now)
        .await
        .map_err(|error| {
            tracing::error!(%error, "could not read the requests for authority");
            AppError::Unavailable
        })?;
    Ok(u32::try_from(waiting.len()).unwrap_or(u32::MAX))
}

#[component]
pub fn HomePage(data: HomeData) -> impl IntoView {
    match data {
        None => view! { <Brochure /> }.into_any(),
        Some(Ok(home)) => view! { <Overview home /> }.into_any(),
        Some(Err(_)) => {
            let i18n = use_i18n();
            view! {
                <Title text="" />
                <h1>{t_string!(i18n, home.overview_title)}</h1>
                <p role="alert">{t_string!(i18n, common.unavailable)}</p>
            }
            .into_any()
        }
    }
}

/// A visitor's front page.
#[component]
fn Brochure() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text="" />
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">{t!(i18n, home.title)}</h1>
            <p class="lead">{t!(i18n, home.intro)}</p>
            <p><a class="button" href=login_href("/", None)>{t_string!(i18n, user.log_in)}</a></p>
        </section>
        <section aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">{t!(i18n, home.tasks_heading)}</h2>
            <ul class="task-list">
                <li class="task">
                    <h3>{t!(i18n, home.contact_title)}</h3>
                    <p>{t!(i18n, home.contact_text)}</p>
                </li>
                <li class="task">
                    <h3>{t!(i18n, home.post_title)}</h3>
                    <p>{t!(i18n, home.post_text)}</p>
                </li>
            </ul>
        </section>
        <section class="notice" aria-labelledby="security-heading">
            <h2 id="security-heading">{t!(i18n, home.security_heading)}</h2>
            <p>{t!(i18n, home.security_text)}</p>
        </section>
    }
}

/// A logged-in citizen's overview.
#[component]
fn Overview(home: HomeView) -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user();
    let name = user.as_ref().map(|u| u.name.clone()).unwrap_or_default();
    let unread_total = user.as_ref().and_then(|u| u.unread).unwrap_or(0);
    let to_sign = user.as_ref().and_then(|u| u.to_sign).unwrap_or(0);
    let step_up = user
        .as_ref()
        .filter(|u| u.loa != "high")
        .map(|u| step_up_href(&u.provider, "/"));
    let loa = match user.as_ref().map(|u| u.loa.as_str()) {
        Some("high") => t_string!(i18n, loa.high),
        _ => t_string!(i18n, loa.substantial),
    };
    let HomeView {
        letters,
        contact,
        activity,
        authority_requests,
        act_for,
    } = home;
    view! {
        <Title text="" />
        <h1>{t!(i18n, home.greeting, name = move || name.clone())}</h1>
        <p>
            {t_string!(i18n, home.level_text)} " " <strong>{loa}</strong> "."
            {step_up
                .map(|href| {
                    view! { " " <a href=href>{t_string!(i18n, home.step_up_link)}</a> }
                })}
        </p>
        {act_for
            .map(|view| {
                view! {
                    <section class="card act-for-card" aria-labelledby="act-for-heading">
                        <h2 id="act-for-heading">{t_string!(i18n, acting.title)}</h2>
                        <crate::routes::act_for::Chooser view />
                    </section>
                }
            })}
        <div class="cards">
            {waiting(i18n, contact.as_ref(), authority_requests, to_sign)}
            {letters.map(|letters| letters_card(i18n, letters, unread_total))}
            {contact.as_ref().map(|contact| contact_card(i18n, contact))}
            {activity
                .then(|| {
                    view! {
                        <section class="card" aria-labelledby="activity-heading">
                            <h2 id="activity-heading">
                                <a href="/activity">{t_string!(i18n, user.activity)}</a>
                            </h2>
                            <p>{t_string!(i18n, home.activity_text)}</p>
                        </section>
                    }
                })}
        </div>
    }
}

/// The newest unread letters, and a link to all of them.
fn letters_card(
    i18n: I18nContext<Locale>,
    letters: Vec<LetterLine>,
    unread_total: u64,
) -> impl IntoView {
    let shown = letters.len() as u64;
    view! {
        <section class="card" aria-labelledby="letters-heading">
            <h2 id="letters-heading">
                <a href="/post">{t_string!(i18n, home.unread_heading)}</a>
            </h2>
            {if letters.is_empty() {
                view! { <p>{t_string!(i18n, home.no_unread)}</p> }.into_any()
            } else {
                view! {
                    <ul class="letters">
                        {letters
                            .into_iter()
                            .map(|letter| letter_item(i18n, letter))
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
            <p>
                <a href="/post">
                    {if unread_total > shown {
                        t!(i18n, home.all_unread, count = move || unread_total).into_any()
                    } else {
                        t!(i18n, home.to_post).into_any()
                    }}
                </a>
            </p>
        </section>
    }
}

/// "Waiting for you": documents to sign, codes to enter, contact data to confirm and requests
/// for authority to answer, each a link to do it.
fn waiting(
    i18n: I18nContext<Locale>,
    contact: Option<&ContactView>,
    authority_requests: u32,
    to_sign: u64,
) -> impl IntoView {
    let mut items: Vec<(&'static str, &'static str)> = Vec::new();
    if let Some(contact) = contact {
        if contact.pending_email.is_some() {
            items.push((
                "/contact/verify/email",
                t_string!(i18n, home.waiting_email_code),
            ));
        }
        if contact.pending_mobile.is_some() {
            items.push((
                "/contact/verify/mobile",
                t_string!(i18n, home.waiting_mobile_code),
            ));
        }
        if contact.must_confirm {
            items.push(("/contact/check", t_string!(i18n, home.waiting_confirm)));
        }
    }
    view! {
        <section class="card" aria-labelledby="waiting-heading">
            <h2 id="waiting-heading">{t_string!(i18n, home.waiting_heading)}</h2>
            {if items.is_empty() && authority_requests == 0 && to_sign == 0 {
                view! { <p>{t_string!(i18n, home.nothing_waiting)}</p> }.into_any()
            } else {
                view! {
                    <ul class="waiting">
                        {(to_sign > 0)
                            .then(|| {
                                view! {
                                    <li>
                                        <a href="/signing">
                                            {t!(i18n, home.waiting_signing, count = move || to_sign)}
                                        </a>
                                    </li>
                                }
                            })}
                        {items
                            .into_iter()
                            .map(|(href, text)| view! { <li><a href=href>{text}</a></li> })
                            .collect_view()}
                        {(authority_requests > 0)
                            .then(|| {
                                view! {
                                    <li>
                                        <a href="/authority">
                                            {t!(i18n, home.waiting_authority, count = move || authority_requests)}
                                        </a>
                                    </li>
                                }
                            })}
                    </ul>
                }
                    .into_any()
            }}
        </section>
    }
}

/// The contact entry in brief: e-mail, mobile, reservation.
fn contact_card(i18n: I18nContext<Locale>, contact: &ContactView) -> impl IntoView {
    let none = t_string!(i18n, contact.none_registered);
    let value = |entry: &Option<ValueView>| {
        match entry {
        Some(entry) => view! {
            {entry.value.clone()}
            {entry
                .stale
                .then(|| view! { " " <span class="tag tag-warning">{t_string!(i18n, contact.stale_tag)}</span> })}
        }
        .into_any(),
        None => view! { {none} }.into_any(),
    }
    };
    let reservation = if contact.reserved {
        t_string!(i18n, contact.reserved_yes)
    } else {
        t_string!(i18n, contact.reserved_no)
    };
    view! {
        <section class="card" aria-labelledby="contact-heading">
            <h2 id="contact-heading">
                <a href="/contact">{t_string!(i18n, contact.title)}</a>
            </h2>
            <dl class="facts">
                <dt>{t_string!(i18n, contact.email_title)}</dt>
                <dd>{value(&contact.email)}</dd>
                <dt>{t_string!(i18n, contact.mobile_title)}</dt>
                <dd>{value(&contact.mobile)}</dd>
            </dl>
            <p>{reservation}</p>
        </section>
    }
}
