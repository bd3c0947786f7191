//! Acting for someone else, as every page shows it: the banner that names whom the helper acts
//! for and on what basis, with "switch" and "stop acting" (a plain form: it works without
//! JavaScript), and what a page shows instead of its content when the policy refused it.

use crate::auth::{login_href, step_up_href, use_current_user, ActingView};
use crate::error::AppError;
use crate::i18n::*;
use leptos::prelude::*;

/// Where the chooser and the stop control post.
pub const ACT_FOR: &str = "/act-for";

/// The banner shown on every page while acting for someone. Not an island: it is part of the
/// page the server renders, so it is there with JavaScript off and never goes away.
#[component]
pub fn ActingBanner(acting: ActingView) -> impl IntoView {
    let i18n = use_i18n();
    let basis = match (acting.basis.as_deref(), acting.until) {
        (Some("guardian"), Some(until)) => {
            Some(format!("{} {until}", t_string!(i18n, acting.as_guardian)))
        }
        (Some(_), Some(until)) => {
            Some(format!("{} {until}", t_string!(i18n, acting.by_delegation)))
        }
        _ => None,
    };
    let ended = basis.is_none();
    view! {
        <section class="acting-banner" aria-label=t_string!(i18n, acting.banner_label)>
            <div class="page-width acting-inner">
                <p>
                    {t_string!(i18n, acting.banner_prefix)} " " <strong>{acting.name}</strong>
                    {basis.map(|basis| format!(" ({basis})"))}
                    {ended.then(|| view! { " " {t_string!(i18n, acting.banner_ended)} })}
                </p>
                <div class="acting-actions">
                    <a href=ACT_FOR>{t_string!(i18n, acting.switch)}</a>
                    <StopActing />
                </div>
            </div>
        </section>
    }
}

/// "Stop acting": back to one's own pages, on the home page.
#[component]
pub fn StopActing() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <form method="post" action=ACT_FOR class="inline-form">
            <input type="hidden" name="person" value="" />
            <button type="submit" class="button button-secondary">
                {t_string!(i18n, acting.stop)}
            </button>
        </form>
    }
}

/// What a page shows instead of its content: log in, step up, what the authority acted under
/// does not cover (and how to get it), that it ended, that it is only for oneself; or try
/// later. `here` is the page's own address, to come back to.
#[component]
pub fn Refusal(error: AppError, #[prop(into)] here: String) -> impl IntoView {
    let i18n = use_i18n();
    let user = use_current_user();
    let acting = user.as_ref().and_then(|user| user.acting_for.as_ref());
    let name = acting.map(|acting| acting.name.clone()).unwrap_or_default();
    // A guardian's authority comes from the register, not from the minor: nothing to ask for.
    let guardian = acting.is_some_and(|acting| acting.basis.as_deref() == Some("guardian"));
    match error {
        AppError::NotLoggedIn => view! {
            <p>{t_string!(i18n, user.must_log_in)}</p>
            <p>
                <a class="button" href=login_href(&here, None)>
                    {t_string!(i18n, user.log_in)}
                </a>
            </p>
        }
        .into_any(),
        AppError::NeedsStepUp => {
            let provider = user.map(|user| user.provider).unwrap_or_default();
            view! {
                <h2>{t_string!(i18n, login.step_up_title)}</h2>
                <p>{t_string!(i18n, login.step_up_text)}</p>
                <a class="button" href=step_up_href(&provider, &here) rel="external">
                    {t_string!(i18n, login.step_up_button)}
                </a>
            }
            .into_any()
        }
        AppError::MissingScope(scope) if guardian => view! {
            <div class="notice" role="status">
                <p>
                    {t!(i18n, acting.guardian_missing, name = name.clone())} " "
                    <strong>{crate::routes::authority::scope_name(i18n, &scope, None)}</strong>
                </p>
                <p>{t_string!(i18n, acting.guardian_missing_next)}</p>
                <p class="actions"><StopActing /></p>
            </div>
        }
        .into_any(),
        AppError::MissingScope(scope) => view! {
            <div class="notice" role="status">
                <p>
                    {t!(i18n, acting.missing_scope, name = name.clone())} " "
                    <strong>{crate::routes::authority::scope_name(i18n, &scope, None)}</strong>
                </p>
                <p>{t_string!(i18n, acting.missing_scope_next)}</p>
                <p class="actions">
                    <a class="button" href="/authority/request">{t_string!(i18n, acting.ask_link)}</a>
                    <StopActing />
                </p>
            </div>
        }
        .into_any(),
        AppError::NoAuthority => view! {
            <div class="notice" role="status">
                <p>{t!(i18n, acting.no_authority, name = name.clone())}</p>
                <p class="actions"><StopActing /></p>
            </div>
        }
        .into_any(),
        AppError::OwnOnly => view! {
            <div class="notice" role="status">
                <p>{t!(i18n, acting.own_only, name = name.clone())}</p>
                <p class="actions"><StopActing /></p>
            </div>
        }
        .into_any(),
        AppError::Unavailable | AppError::Transport(_) => {
            view! { <p role="alert">{t_string!(i18n, common.unavailable)}</p> }.into_any()
        }
    }
}
