//! Authority to act for others, the giver's and the holder's pages: `/authority` (what the
//! citizen has given, the requests waiting for their answer, what they hold),
//! `/authority/grant` (give someone authority: needs `high`) and `/authority/request` (ask
//! someone for it).
//!
//! Every change is a plain HTML form posted to the server (`server/src/authority.rs`), which
//! builds the proof through the policy, calls the delegation register and answers with a
//! redirect or this page again with the errors and what was typed, as the contact pages do.
//! What the pages show is read by `load_authority` (`data.rs`); the forms are in `forms.rs`.

mod data;
mod forms;

#[cfg(feature = "ssr")]
pub use crate::when::{date_in_words, iso_date};
#[cfg(feature = "ssr")]
pub use data::{load_authority, AuthorityRules};
pub use data::{AuthorityData, AuthorityView, DelegationLine, ScopeChoice, ScopeLine};
pub use forms::{ChangePage, GrantPage, RequestPage};

use crate::auth::{login_href, step_up_href};
use crate::components::form::{ErrorSummary, FieldError};
use crate::error::AppError;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;

/// Shows `render(view)` with the page's data, or what to do instead (log in, try later).
fn with_authority(
    here: &'static str,
    data: AuthorityData,
    render: impl FnOnce(AuthorityView) -> AnyView,
) -> AnyView {
    let i18n = use_i18n();
    match data {
        Ok(view) => render(view),
        Err(AppError::NotLoggedIn) => view! {
            <p>{t_string!(i18n, authority.not_logged_in)}</p>
            <p>
                <a class="button" href=login_href(here, None)>
                    {t_string!(i18n, user.log_in)}
                </a>
            </p>
        }
        .into_any(),
        Err(_) => view! { <p>{t_string!(i18n, common.unavailable)}</p> }.into_any(),
    }
}

/// A scope's name: a service scope's configured one, else the translated portal scope.
pub(crate) fn scope_name(i18n: I18nContext<Locale>, code: &str, name: Option<String>) -> String {
    if let Some(name) = name {
        return name;
    }
    match code {
        "post.read" => t_string!(i18n, scope.post_read),
        "post.read_all" => t_string!(i18n, scope.post_read_all),
        "post.manage" => t_string!(i18n, scope.post_manage),
        "contact.manage" => t_string!(i18n, scope.contact_manage),
        "documents.sign" => t_string!(i18n, scope.documents_sign),
        "activity.read" => t_string!(i18n, scope.activity_read),
        other => return other.to_owned(),
    }
    .to_owned()
}

/// A delegation's state in words.
fn state_text(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "requested" => t_string!(i18n, authority.state_requested),
        "active" => t_string!(i18n, authority.state_active),
        "declined" => t_string!(i18n, authority.state_declined),
        "revoked" => t_string!(i18n, authority.state_revoked),
        _ => t_string!(i18n, authority.state_expired),
    }
}

/// The translated message for a refused field ([`ErrorText`](crate::components::form::ErrorText)).
fn error_view(i18n: I18nContext<Locale>, error: &FieldError) -> AnyView {
    let n = error.count.unwrap_or(0);
    if error.code == "delegation.end_date_too_late" {
        return t!(i18n, authority_errors.end_date_too_late, count = move || n).into_any();
    }
    let text = match error.code.as_str() {
        "authority.person_not_matched" => t_string!(i18n, authority_errors.person_not_matched),
        "authority.national_id_invalid" => t_string!(i18n, authority_errors.national_id_invalid),
        "authority.name_empty" => t_string!(i18n, authority_errors.name_empty),
        "authority.end_date_invalid" => t_string!(i18n, authority_errors.end_date_invalid),
        "delegation.to_oneself" => t_string!(i18n, authority_errors.to_oneself),
        "delegation.giver_too_young" => t_string!(i18n, authority_errors.giver_too_young),
        "delegation.holder_too_young" => t_string!(i18n, authority_errors.holder_too_young),
        "delegation.no_scopes" => t_string!(i18n, authority_errors.no_scopes),
        "delegation.duplicate_scope" => t_string!(i18n, authority_errors.duplicate_scope),
        "delegation.unknown_service_scope" => {
            t_string!(i18n, authority_errors.unknown_service_scope)
        }
        "delegation.end_date_passed" => t_string!(i18n, authority_errors.end_date_passed),
        "delegation.request_already_open" => {
            t_string!(i18n, authority_errors.request_already_open)
        }
        "delegation.not_found" => t_string!(i18n, authority_errors.not_found),
        "delegation.wrong_state" => t_string!(i18n, authority_errors.wrong_state),
        "access.missing_scope" => t_string!(i18n, access.missing_scope),
        _ => t_string!(i18n, authority_errors.other),
    };
    text.into_any()
}

/// A success message from the `done` query parameter set by the form handler's redirect.
#[component]
fn DoneNotice() -> impl IntoView {
    let i18n = use_i18n();
    let done = crate::request::query_param("done");
    done.and_then(|code| {
        let text = match code.as_str() {
            "granted" => t_string!(i18n, authority_done.granted),
            "revoked" => t_string!(i18n, authority_done.revoked),
            "requested" => t_string!(i18n, authority_done.requested),
            "approved" => t_string!(i18n, authority_done.approved),
            "declined" => t_string!(i18n, authority_done.declined),
            "changed" => t_string!(i18n, authority_done.changed),
            _ => return None,
        };
        Some(view! { <p class="notice notice-success" role="status">{text}</p> })
    })
}

// ---------------------------------------------------------------------------------------------
// The overview

#[component]
pub fn AuthorityPage(data: AuthorityData) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, authority.title) />
        <article class="prose wide authority">
            <h1>{t!(i18n, authority.title)}</h1>
            <p class="lead">{t!(i18n, authority.intro)}</p>
            <DoneNotice />
            {with_authority("/authority", data, |view| view! { <Overview view /> }.into_any())}
        </article>
    }
}

#[component]
fn Overview(view: AuthorityView) -> impl IntoView {
    let i18n = use_i18n();
    let AuthorityView {
        given,
        waiting,
        held,
        can_grant,
        provider,
        outcome,
        ..
    } = view;
    view! {
        <ErrorSummary outcome=outcome.clone() text=error_view />
        <p>
            <a class="button" href="/authority/grant">{t!(i18n, authority.grant_link)}</a>
            " "
            <a class="button button-secondary" href="/authority/request">
                {t!(i18n, authority.request_link)}
            </a>
        </p>
        <section aria-labelledby="waiting-title" class="authority-section">
            <h2 id="waiting-title">{t!(i18n, authority.waiting_title)}</h2>
            {if waiting.is_empty() {
                view! { <p>{t!(i18n, authority.waiting_none)}</p> }.into_any()
            } else {
                view! {
                    <ul class="delegations">
                        {waiting
                            .into_iter()
                            .map(|line| {
                                let error = outcome
                                    .as_ref()
                                    .and_then(|o| o.error_for(&format!("request-{}", line.id)))
                                    .cloned();
                                view! {
                                    <WaitingRequest line can_grant provider=provider.clone() error />
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <section aria-labelledby="given-title" class="authority-section">
            <h2 id="given-title">{t!(i18n, authority.given_title)}</h2>
            {if given.is_empty() {
                view! { <p>{t!(i18n, authority.given_none)}</p> }.into_any()
            } else {
                view! {
                    <ul class="delegations">
                        {given
                            .into_iter()
                            .map(|line| view! { <Given line /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <section aria-labelledby="held-title" class="authority-section">
            <h2 id="held-title">{t!(i18n, authority.held_title)}</h2>
            {if held.is_empty() {
                view! { <p>{t!(i18n, authority.held_none)}</p> }.into_any()
            } else {
                view! {
                    <ul class="delegations">
                        {held
                            .into_iter()
                            .map(|line| view! { <Held line /> })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <p><a href="/activity">{t!(i18n, authority.history_link)}</a></p>
    }
}

/// The scopes of a delegation with their end dates; one that has ended says so.
fn scope_list(i18n: I18nContext<Locale>, scopes: Vec<ScopeLine>) -> impl IntoView {
    view! {
        <ul class="scopes">
            {scopes
                .into_iter()
                .map(|scope| {
                    let name = scope_name(i18n, &scope.code, scope.name.clone());
                    let until = if scope.in_force {
                        t_string!(i18n, authority.until)
                    } else {
                        t_string!(i18n, authority.ended)
                    };
                    view! {
                        <li>
                            {name} " – " {until} " "
                            <time datetime=scope.ends_iso>{scope.ends_on}</time>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// A state as a tag: anything but active is marked, an expired one as a warning.
fn state_tag(i18n: I18nContext<Locale>, state: &str) -> impl IntoView {
    let class = match state {
        "active" => "tag tag-success",
        "expired" => "tag tag-warning",
        _ => "tag",
    };
    view! { <span class=class>{state_text(i18n, state)}</span> }
}

/// One delegation the citizen has given, with its revoke button.
#[component]
fn Given(line: DelegationLine) -> impl IntoView {
    let i18n = use_i18n();
    let can_revoke = matches!(line.state.as_str(), "active" | "expired");
    let action = format!("/authority/{}/revoke", line.id);
    view! {
        <li class="delegation">
            <h3>{line.name.clone()} " " {state_tag(i18n, &line.state)}</h3>
            {scope_list(i18n, line.scopes)}
            <p class="muted">
                {t!(i18n, authority.last_used)} " "
                {match line.last_used {
                    Some(when) => view! { <time datetime=when.iso>{when.display}</time> }.into_any(),
                    None => t!(i18n, authority.never_used).into_any(),
                }}
            </p>
            {can_revoke
                .then(|| {
                    let change = format!("/authority/{}/change", line.id);
                    view! {
                        <p>
                            <a href=change>
                                {t!(i18n, authority.change_link)}
                                <span class="sr-only">" " {line.name.clone()}</span>
                            </a>
                        </p>
                        <form method="post" action=action>
                            <button type="submit" class="button button-secondary">
                                {t!(i18n, authority.revoke_button)}
                                <span class="sr-only">" " {line.name.clone()}</span>
                            </button>
                        </form>
                    }
                })}
        </li>
    }
}

/// One delegation the citizen holds (or asked for), with a button to give it up (or to
/// withdraw the request): the same revocation the giver has, from the holder's side.
#[component]
fn Held(line: DelegationLine) -> impl IntoView {
    let i18n = use_i18n();
    let action = format!("/authority/{}/revoke", line.id);
    let button = match line.state.as_str() {
        "active" => Some(t_string!(i18n, authority.give_up_button)),
        "requested" => Some(t_string!(i18n, authority.withdraw_button)),
        _ => None,
    };
    view! {
        <li class="delegation">
            <h3>{line.name.clone()} " " {state_tag(i18n, &line.state)}</h3>
            {scope_list(i18n, line.scopes)}
            {button
                .map(|text| {
                    view! {
                        <form method="post" action=action>
                            <button type="submit" class="button button-secondary">
                                {text}
                                <span class="sr-only">" " {line.name.clone()}</span>
                            </button>
                        </form>
                    }
                })}
        </li>
    }
}

/// A request waiting for the citizen's answer: approve with an end date per scope, or decline.
#[component]
fn WaitingRequest(
    line: DelegationLine,
    can_grant: bool,
    provider: String,
    error: Option<FieldError>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("request-{}", line.id);
    let error_id = format!("request-{}-error", line.id);
    let approve = format!("/authority/{}/approve", line.id);
    let decline = format!("/authority/{}/decline", line.id);
    let described = error.as_ref().map(|_| error_id.clone());
    let name = line.name.clone();
    view! {
        <li class="delegation" id=id.clone()>
            <h3>{t!(i18n, authority.request_from)} " " {line.name.clone()}</h3>
            <p class="muted">
                {t!(i18n, authority.asked)} " "
                <time datetime=line.created.iso>{line.created.display}</time>
            </p>
            {error
                .map(|error| {
                    view! {
                        <p class="field-error" id=error_id.clone()>
                            <span class="sr-only">{t!(i18n, form.error_prefix)} " "</span>
                            {error_view(i18n, &error)}
                        </p>
                    }
                })}
            {if can_grant {
                view! {
                    <form method="post" action=approve>
                        <fieldset aria-describedby=described>
                            <legend>{t!(i18n, authority.approve_legend)}</legend>
                            {line
                                .scopes
                                .iter()
                                .map(|scope| {
                                    let field = format!("ends_on.{}", scope.code);
                                    let input_id = format!("{}-{}", id, scope.code.replace([':', '.'], "-"));
                                    let label = format!(
                                        "{} – {}",
                                        scope_name(i18n, &scope.code, scope.name.clone()),
                                        t_string!(i18n, authority.until),
                                    );
                                    view! {
                                        <div class="field">
                                            <label for=input_id.clone()>{label}</label>
                                            <input
                                                type="date"
                                                id=input_id
                                                name=field
                                                value=scope.ends_iso.clone()
                                                required=true
                                            />
                                        </div>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                        <button type="submit" class="button">
                            {t!(i18n, authority.approve_button)}
                            <span class="sr-only">" " {name.clone()}</span>
                        </button>
                    </form>
                }
                    .into_any()
            } else {
                view! {
                    {scope_list(i18n, line.scopes.clone())}
                    <p>
                        {t!(i18n, authority.approve_needs_high)} " "
                        <a href=step_up_href(&provider, "/authority") rel="external">
                            {t!(i18n, login.step_up_button)}
                        </a>
                    </p>
                }
                    .into_any()
            }}
            <form method="post" action=decline>
                <button type="submit" class="button button-secondary">
                    {t!(i18n, authority.decline_button)}
                    <span class="sr-only">" " {name}</span>
                </button>
            </form>
        </li>
    }
}
