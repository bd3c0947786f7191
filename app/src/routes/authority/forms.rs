//! `/authority/grant` and `/authority/request`: the same form (a person by national id and
//! name, scopes, an end date), posted to a different handler. Granting needs `high`: at
//! `substantial` the page offers a step-up instead of the form.

use super::{
    error_view, scope_name, with_authority, AuthorityData, AuthorityView, DelegationLine,
    ScopeChoice,
};
use crate::auth::step_up_href;
use crate::components::form::{ErrorSummary, FormOutcome, TextField};
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// Which of the two forms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Grant,
    Request,
}

#[component]
pub fn GrantPage(data: AuthorityData) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, authority.grant_title) />
        <article class="prose authority">
            <p><a href="/authority">{t!(i18n, authority.back)}</a></p>
            <h1>{t!(i18n, authority.grant_title)}</h1>
            <p class="lead">{t!(i18n, authority.grant_intro)}</p>
            {with_authority(
                "/authority/grant",
                data,
                |view| {
                    if view.can_grant {
                        view! { <PersonForm view kind=Kind::Grant /> }.into_any()
                    } else {
                        view! {
                            <div class="notice">
                                <h2>{t!(i18n, login.step_up_title)}</h2>
                                <p>{t!(i18n, authority.grant_needs_high)}</p>
                                <a
                                    class="button"
                                    href=step_up_href(&view.provider, "/authority/grant")
                                    rel="external"
                                >
                                    {t!(i18n, login.step_up_button)}
                                </a>
                            </div>
                        }
                            .into_any()
                    }
                },
            )}
        </article>
    }
}

#[component]
pub fn RequestPage(data: AuthorityData) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, authority.request_title) />
        <article class="prose authority">
            <p><a href="/authority">{t!(i18n, authority.back)}</a></p>
            <h1>{t!(i18n, authority.request_title)}</h1>
            <p class="lead">{t!(i18n, authority.request_intro)}</p>
            {with_authority(
                "/authority/request",
                data,
                |view| view! { <PersonForm view kind=Kind::Request /> }.into_any(),
            )}
        </article>
    }
}

/// `/authority/{id}/change`: the giver changes the scopes and the end date of a delegation they
/// gave (extending it, or bringing an expired one back). Needs `high`, as granting does.
#[component]
pub fn ChangePage(id: String, data: AuthorityData) -> impl IntoView {
    let i18n = use_i18n();
    let here = format!("/authority/{id}/change");
    view! {
        <Title text=t_string!(i18n, authority.change_title) />
        <article class="prose authority">
            <p><a href="/authority">{t!(i18n, authority.back)}</a></p>
            <h1>{t!(i18n, authority.change_title)}</h1>
            {with_authority(
                "/authority",
                data,
                move |view| {
                    let line = view
                        .given
                        .iter()
                        .find(|line| line.id == id && matches!(line.state.as_str(), "active" | "expired"))
                        .cloned();
                    match line {
                        None => view! { <p>{t!(i18n, authority.change_not_found)}</p> }.into_any(),
                        Some(_) if !view.can_grant => {
                            view! {
                                <div class="notice">
                                    <h2>{t!(i18n, login.step_up_title)}</h2>
                                    <p>{t!(i18n, authority.change_needs_high)}</p>
                                    <a class="button" href=step_up_href(&view.provider, &here) rel="external">
                                        {t!(i18n, login.step_up_button)}
                                    </a>
                                </div>
                            }
                                .into_any()
                        }
                        Some(line) => view! { <ChangeForm view line /> }.into_any(),
                    }
                },
            )}
        </article>
    }
}

/// The delegation's scopes and end date, as they are (or as typed, when refused).
#[component]
fn ChangeForm(view: AuthorityView, line: DelegationLine) -> impl IntoView {
    let i18n = use_i18n();
    let AuthorityView {
        scopes,
        outcome,
        latest_end,
        max_years,
        ..
    } = view;
    let outcome = outcome.unwrap_or_else(|| FormOutcome {
        errors: Vec::new(),
        values: line
            .scopes
            .iter()
            .filter(|scope| scope.in_force)
            .map(|scope| ("scope".to_owned(), scope.code.clone()))
            .chain(
                line.scopes
                    .iter()
                    .map(|scope| scope.ends_iso.clone())
                    .max()
                    .map(|end| ("ends_on".to_owned(), end)),
            )
            .collect(),
    });
    let checked = checked_scopes(&outcome);
    let ends_hint = t_string!(i18n, authority.ends_on_hint)
        .replace("%years%", &max_years.to_string())
        .replace("%latest%", &latest_end);
    let action = format!("/authority/{}/change", line.id);
    view! {
        <p class="lead">{t!(i18n, authority.change_intro)} " " <strong>{line.name}</strong></p>
        <ErrorSummary outcome=Some(outcome.clone()) text=error_view />
        <form method="post" action=action novalidate=true>
            <ScopeFields scopes checked outcome=outcome.clone() ends_hint />
            <button type="submit" class="button">{t_string!(i18n, authority.change_button)}</button>
        </form>
    }
}

/// The person (national id and name), the scopes and the end date.
#[component]
fn PersonForm(view: AuthorityView, kind: Kind) -> impl IntoView {
    let i18n = use_i18n();
    let AuthorityView {
        scopes,
        outcome,
        today,
        latest_end,
        max_years,
        ..
    } = view;
    let outcome = outcome.unwrap_or_default();
    let (action, id_label, name_label, submit) = match kind {
        Kind::Grant => (
            "/authority/grant",
            t_string!(i18n, authority.holder_national_id),
            t_string!(i18n, authority.holder_name),
            t_string!(i18n, authority.grant_button),
        ),
        Kind::Request => (
            "/authority/request",
            t_string!(i18n, authority.giver_national_id),
            t_string!(i18n, authority.giver_name),
            t_string!(i18n, authority.request_button),
        ),
    };
    let checked = checked_scopes(&outcome);
    let ends_hint = t_string!(i18n, authority.ends_on_hint)
        .replace("%years%", &max_years.to_string())
        .replace("%latest%", &latest_end);
    let _ = today;
    view! {
        <ErrorSummary outcome=Some(outcome.clone()) text=error_view />
        <form method="post" action=action novalidate=true>
            <TextField
                id="national_id"
                label=id_label.to_owned()
                hint=t_string!(i18n, authority.national_id_hint).to_owned()
                input_type="text"
                autocomplete="off"
                inputmode="numeric"
                value=outcome.value_of("national_id")
                error=outcome.error_for("national_id").cloned()
                text=error_view
            />
            <TextField
                id="name"
                label=name_label.to_owned()
                hint=t_string!(i18n, authority.name_hint).to_owned()
                input_type="text"
                autocomplete="off"
                value=outcome.value_of("name")
                error=outcome.error_for("name").cloned()
                text=error_view
            />
            <ScopeFields scopes checked outcome=outcome.clone() ends_hint=ends_hint.clone() />
            <button type="submit" class="button">{submit}</button>
        </form>
    }
}

/// The scope codes ticked in a form (as typed, or as the delegation has them).
fn checked_scopes(outcome: &FormOutcome) -> Vec<String> {
    outcome
        .values
        .iter()
        .filter(|(field, _)| field == "scope")
        .map(|(_, value)| value.clone())
        .collect()
}

/// The scopes to choose (those in `checked` ticked) and the one end date, with their errors:
/// the grant, request and change forms' common part.
#[component]
fn ScopeFields(
    scopes: Vec<ScopeChoice>,
    checked: Vec<String>,
    outcome: FormOutcome,
    ends_hint: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let scopes_error = outcome.error_for("scopes").cloned();
    let scopes_invalid = scopes_error.is_some();
    let scopes_described = scopes_error.as_ref().map(|_| "scopes-error");
    view! {
        <fieldset
            id="scopes"
            class="field"
            class:field-invalid=scopes_invalid
            aria-describedby=scopes_described
        >
            <legend>{t!(i18n, authority.scopes_legend)}</legend>
            {scopes_error
                .map(|error| {
                    view! {
                        <p class="field-error" id="scopes-error">
                            <span class="sr-only">{t!(i18n, form.error_prefix)} " "</span>
                            {error_view(i18n, &error)}
                        </p>
                    }
                })}
            {scopes
                .into_iter()
                .enumerate()
                .map(|(n, scope)| {
                    let input_id = format!("scope-{n}");
                    let is_checked = checked.contains(&scope.code);
                    let name = scope_name(i18n, &scope.code, scope.name);
                    view! {
                        <div class="checkbox">
                            <input
                                type="checkbox"
                                id=input_id.clone()
                                name="scope"
                                value=scope.code
                                checked=is_checked
                            />
                            <label for=input_id>{name}</label>
                        </div>
                    }
                })
                .collect_view()}
        </fieldset>
        <TextField
            id="ends_on"
            label=t_string!(i18n, authority.ends_on).to_owned()
            hint=ends_hint
            input_type="date"
            autocomplete="off"
            value=outcome.value_of("ends_on")
            error=outcome.error_for("ends_on").cloned()
            text=error_view
        />
    }
}
