//! Logging in and out: the choice of eID, the calm page when a login did not complete, and the
//! page after logout.

use crate::components::nav_link::NavLink;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// `/login?return_to=&loa=`: choose an eID provider.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let return_to = crate::request::query_param("return_to")
        .filter(|path| crate::auth::is_local_path(path))
        .unwrap_or_else(|| "/".to_owned());
    let loa = match crate::request::query_param("loa").as_deref() {
        Some("high") => "high",
        _ => "substantial",
    };
    let link = move |id: &str| {
        format!(
            "/auth/login/{}?loa={loa}&return_to={}",
            crate::auth::encode(id),
            crate::auth::encode(&return_to)
        )
    };
    let providers = provider_choices();
    view! {
        <Title text=t_string!(i18n, login.title) />
        <article class="prose">
            <h1>{t_string!(i18n, login.title)}</h1>
            <p class="lead">{t_string!(i18n, login.intro)}</p>
            <h2>{t_string!(i18n, login.choose)}</h2>
            {if providers.is_empty() {
                view! { <p>{t_string!(i18n, common.unavailable)}</p> }.into_any()
            } else {
                view! {
                    <ul class="provider-list">
                        {providers
                            .iter()
                            .map(|(id, name)| {
                                view! {
                                    <li>
                                        <a class="button" href=link(id)>
                                            {name.clone()}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </article>
    }
}

/// The eIDs to choose from, as the server configured them (none in the browser build).
fn provider_choices() -> std::sync::Arc<[(String, String)]> {
    #[cfg(feature = "ssr")]
    return use_context::<crate::auth::ProviderChoices>()
        .unwrap_or_default()
        .0;
    #[cfg(not(feature = "ssr"))]
    return std::sync::Arc::new([]);
}

/// `/login/failed?reason=&loa=&return_to=`: a login did not complete. Says what happened in
/// plain words (a step-up to `high` answered at a lower level says so), whether the person is
/// still logged in as before and at which level, and offers to try again at the same level,
/// back to the page that asked; never a stack trace.
#[component]
pub fn LoginFailedPage() -> impl IntoView {
    let i18n = use_i18n();
    let high = crate::request::query_param("loa").as_deref() == Some("high");
    let return_to = crate::request::query_param("return_to")
        .filter(|path| crate::auth::is_local_path(path))
        .unwrap_or_else(|| "/".to_owned());
    let retry = format!(
        "/login?loa={}&return_to={}",
        if high { "high" } else { "substantial" },
        crate::auth::encode(&return_to)
    );
    let text = match crate::request::query_param("reason").as_deref() {
        Some("cancelled") => t_string!(i18n, login_failed.cancelled),
        Some("expired") => t_string!(i18n, login_failed.expired),
        Some("level") if high => t_string!(i18n, login_failed.level_high),
        Some("level") => t_string!(i18n, login_failed.level),
        Some("no_national_id") => t_string!(i18n, login_failed.no_national_id),
        Some("unavailable") => t_string!(i18n, login_failed.unavailable),
        _ => t_string!(i18n, login_failed.failed),
    };
    let still = crate::auth::use_current_user().map(|user| {
        if user.loa == "high" {
            t_string!(i18n, login_failed.still_high)
        } else {
            t_string!(i18n, login_failed.still_substantial)
        }
    });
    view! {
        <Title text=t_string!(i18n, login_failed.title) />
        <article class="prose">
            <h1>{t_string!(i18n, login_failed.title)}</h1>
            <p>{text}</p>
            {still.map(|still| view! { <p>{still}</p> })}
            <p class="actions">
                <a class="button" href=retry>
                    {t_string!(i18n, login_failed.try_again)}
                </a>
                <NavLink href="/">{t_string!(i18n, not_found.home_link)}</NavLink>
            </p>
        </article>
    }
}

/// `/logged-out`: where the citizen lands after logging out (also after the provider's logout).
#[component]
pub fn LoggedOutPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, logged_out.title) />
        <article class="prose">
            <h1>{t!(i18n, logged_out.title)}</h1>
            <p>{t!(i18n, logged_out.text)}</p>
            <p>
                <NavLink href="/">{t!(i18n, not_found.home_link)}</NavLink>
            </p>
        </article>
    }
}
