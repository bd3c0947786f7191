//! The translated pages shown instead of the one asked for: the error page (rendering or the
//! domain failed), the bad-request page and the too-many-attempts page. They never show
//! internal details: the cause goes to the server log, the citizen gets a calm text and, for
//! a failure, a reference.

use crate::components::nav_link::NavLink;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// Which page is shown instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// Something failed on our side; nothing was changed. Shows the request's reference.
    Error,
    /// What was sent is not a request the portal takes (a form not its own).
    BadRequest,
    /// Too many login attempts from the network in a short time.
    TooManyRequests,
    /// The policy refused a form: what the authority acted under does not cover, or that it
    /// ended, or that it is only for oneself ([`Refusal`](crate::components::acting::Refusal)).
    Refused(crate::error::AppError),
}

/// The error page with status 500, for a page whose rendering failed.
#[component]
pub fn ErrorPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
    }
    view! { <MessagePage message=Message::Error /> }
}

/// The page for `message` (the server sets its status).
#[component]
pub fn MessagePage(message: Message) -> impl IntoView {
    let i18n = use_i18n();
    let (title, text) = match message {
        Message::Error => (t_string!(i18n, error.title), t_string!(i18n, error.text)),
        Message::BadRequest => (
            t_string!(i18n, error.bad_request_title),
            t_string!(i18n, error.bad_request_text),
        ),
        Message::TooManyRequests => (
            t_string!(i18n, error.too_many_title),
            t_string!(i18n, error.too_many_text),
        ),
        Message::Refused(error) => return view! { <RefusedPage error /> }.into_any(),
    };
    let reference = (message == Message::Error)
        .then(request_reference)
        .flatten();
    view! {
        <Title text=title />
        <article class="prose">
            <h1>{title}</h1>
            <p>{text}</p>
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
    .into_any()
}

/// A form the policy refused: what to do instead.
#[component]
fn RefusedPage(error: crate::error::AppError) -> impl IntoView {
    let i18n = use_i18n();
    let title = t_string!(i18n, error.refused_title);
    let here = crate::request::path();
    view! {
        <Title text=title />
        <article class="prose">
            <h1>{title}</h1>
            <crate::components::acting::Refusal error here />
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
