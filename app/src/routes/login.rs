//! Logging in and out: the choice of eID, the calm page when a login did not complete, and the
//! page after logout.

use crate::auth::login_providers;
use crate::components::nav_link::NavLink;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `/login?return_to=&loa=`: choose an eID provider.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let providers = Resource::new_blocking(|| (), |_| login_providers());
    let link = move |id: &str| {
        let q = query.read();
        let return_to = q
            .get("return_to")
            .filter(|p| p.starts_with('/') && !p.starts_with("//"))
            .unwrap_or_else(|| "/".to_owned());
        let loa = q
            .get("loa")
            .filter(|l| l == "high")
            .unwrap_or_else(|| "substantial".to_owned());
        format!(
            "/auth/login/{}?loa={loa}&return_to={}",
            crate::auth::encode(id),
            crate::auth::encode(&return_to)
        )
    };
    view! {
        <Title text=t_string!(i18n, login.title) />
        <article class="prose">
            <h1>{t!(i18n, login.title)}</h1>
            <p class="lead">{t!(i18n, login.intro)}</p>
            <h2>{t!(i18n, login.choose)}</h2>
            <Suspense>
                {move || {
                    providers
                        .get()
                        .map(|result| match result {
                            Ok(list) => {
                                view! {
                                    <ul class="provider-list">
                                        {list
                                            .into_iter()
                                            .map(|(id, name)| {
                                                view! {
                                                    <li>
                                                        // `external`: a server route, not a page of
                                                        // the app, so the router must not take it.
                                                        <a class="button" href=link(&id) rel="external">
                                                            {name}
                                                        </a>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ul>
                                }
                                    .into_any()
                            }
                            Err(_) => view! { <p>{t!(i18n, common.unavailable)}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </article>
    }
}

/// `/login/failed?reason=`: a login did not complete. Says what happened in plain words and
/// offers a way back; never a stack trace.
#[component]
pub fn LoginFailedPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let reason = move || query.read().get("reason").unwrap_or_default();
    let text = move || match reason().as_str() {
        "cancelled" => t_string!(i18n, login_failed.cancelled),
        "expired" => t_string!(i18n, login_failed.expired),
        "level" => t_string!(i18n, login_failed.level),
        "no_national_id" => t_string!(i18n, login_failed.no_national_id),
        "unavailable" => t_string!(i18n, login_failed.unavailable),
        _ => t_string!(i18n, login_failed.failed),
    };
    view! {
        <Title text=t_string!(i18n, login_failed.title) />
        <article class="prose">
            <h1>{t!(i18n, login_failed.title)}</h1>
            <p>{text}</p>
            <p class="actions">
                <a class="button" href="/login">
                    {t!(i18n, login_failed.try_again)}
                </a>
                <NavLink href="/">{t!(i18n, not_found.home_link)}</NavLink>
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
