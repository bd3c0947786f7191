//! The translated error page shown when rendering a page fails. It never shows internal
//! details: the cause goes to the server log, the citizen gets a calm text and a reference.

use crate::components::nav_link::NavLink;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ErrorPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    let i18n = use_i18n();
    let reference = request_reference();
    view! {
        <Title text=t_string!(i18n, error.title) />
        <article class="prose">
            <h1>{t!(i18n, error.title)}</h1>
            <p>{t!(i18n, error.text)}</p>
            {reference
                .map(|reference| {
                    view! {
                        <p>
                            {t!(i18n, error.reference)} " " <code>{reference}</code>
                        </p>
                    }
                })}
            <p>
                <NavLink href="/">{t!(i18n, error.home_link)}</NavLink>
            </p>
        </article>
    }
}

/// The request id the server gave this request, so support can find the log lines.
fn request_reference() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        with_context::<http::request::Parts, _>(|parts| {
            parts
                .headers
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .flatten()
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}
