//! Contact information and reservation (KRR): see and change e-mail and mobile (verified with a
//! one-time code), confirm that they are still right, reserve against digital post, choose the
//! mailbox and the language, and see the history of changes.
//!
//! Every change is a plain HTML form that posts to the server (`server/src/contact.rs`), which
//! checks the policy, calls the domain and answers with a redirect (success) or this same page
//! again with the errors and the typed values (`FormOutcome`, shown with the shared form
//! pieces of `components/form.rs`). So each form works the same with JavaScript off and
//! hydrated, and adds nothing to the WASM but its markup. What the pages show is read by
//! `load_contact` (`data.rs`).

mod data;

#[cfg(feature = "ssr")]
pub use data::load_contact;
pub use data::{
    ContactData, ContactView, MailboxProviders, PendingView, ValueView, EXTERNAL_MAILBOX,
};

use crate::auth::login_href;
use crate::components::acting::Refusal;
use crate::components::form::{ErrorSummary, FieldError, TextField};
use crate::components::language_switcher::ALL_LOCALES;
use crate::components::nav_link::NavLink;
use crate::error::AppError;
use crate::i18n::*;
use crate::when::When;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_meta::Title;

/// Shows `render(view)` with the page's data, or what to do instead (log in, try later).
fn with_contact(
    here: &'static str,
    data: ContactData,
    render: impl FnOnce(ContactView) -> AnyView,
) -> AnyView {
    let i18n = use_i18n();
    match data {
        Ok(view) => render(view),
        Err(AppError::NotLoggedIn) => view! {
            <p>{t_string!(i18n, contact.not_logged_in)}</p>
            <p>
                <a class="button" href=login_href(here, None)>
                    {t_string!(i18n, user.log_in)}
                </a>
            </p>
        }
        .into_any(),
        Err(error) => view! { <Refusal error here /> }.into_any(),
    }
}

/// The frame of every contact sub-page: the head title, a way back, the heading, an optional
/// introduction, the success message, and `render(view)` once the data is there.
fn sub_page(
    title: impl Fn(I18nContext<Locale>) -> &'static str + Copy + Send + Sync + 'static,
    here: &'static str,
    intro: Option<fn(I18nContext<Locale>) -> &'static str>,
    data: ContactData,
    render: impl FnOnce(ContactView) -> AnyView,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        // The head's title is a plain string (see the shell); the page's text follows the language.
        <Title text=title(i18n) />
        <article class="prose contact">
            <p><NavLink href="/contact" exact=true>{t!(i18n, contact.back)}</NavLink></p>
            <h1>{move || title(i18n)}</h1>
            {intro.map(|intro| view! { <p>{move || intro(i18n)}</p> })}
            <DoneNotice />
            {with_contact(here, data, render)}
        </article>
    }
}

/// The translated message for a refused field ([`ErrorText`](crate::components::form::ErrorText)).
fn error_view(i18n: I18nContext<Locale>, error: &FieldError) -> AnyView {
    let count = error.count.unwrap_or(0);
    match error.code.as_str() {
        "contact.rate_limited" => {
            return t!(i18n, contact_errors.rate_limited, count = move || count).into_any()
        }
        "contact.verify.wrong_code" if count > 0 => {
            return t!(i18n, contact_errors.wrong_code, count = move || count).into_any()
        }
        _ => {}
    }
    let code = error.code.clone();
    (move || error_text(i18n, &code)).into_any()
}

/// The translated message for a refusal without a number in it.
fn error_text(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "contact.email_empty" => t_string!(i18n, contact_errors.email_empty),
        "contact.email_invalid" => t_string!(i18n, contact_errors.email_invalid),
        "contact.email_too_long" => t_string!(i18n, contact_errors.email_too_long),
        "contact.mobile_empty" => t_string!(i18n, contact_errors.mobile_empty),
        "contact.mobile_invalid" => t_string!(i18n, contact_errors.mobile_invalid),
        "contact.mobile_wrong_length" => {
            t_string!(i18n, contact_errors.mobile_wrong_length)
        }
        "contact.mobile_not_mobile" => t_string!(i18n, contact_errors.mobile_not_mobile),
        "contact.mailbox_provider_invalid" => {
            t_string!(i18n, contact_errors.mailbox_provider_invalid)
        }
        "contact.unchanged" => t_string!(i18n, contact_errors.unchanged),
        "contact.verify.wrong_code" => t_string!(i18n, contact_errors.wrong_code_last),
        "contact.verify.expired" => t_string!(i18n, contact_errors.code_expired),
        "contact.verify.too_many_attempts" => {
            t_string!(i18n, contact_errors.too_many_attempts)
        }
        "contact.nothing_to_confirm" => {
            t_string!(i18n, contact_errors.nothing_to_confirm)
        }
        "contact.choice_missing" => t_string!(i18n, contact_errors.choice_missing),
        _ => t_string!(i18n, contact_errors.other),
    }
}

/// A success message from the `done` query parameter set by the form handler's redirect.
#[component]
fn DoneNotice() -> impl IntoView {
    let i18n = use_i18n();
    let done = crate::request::query_param("done");
    done.and_then(|code| {
        let text = match code.as_str() {
            "email_verified" => t_string!(i18n, contact_done.email_verified),
            "mobile_verified" => t_string!(i18n, contact_done.mobile_verified),
            "email_removed" => t_string!(i18n, contact_done.email_removed),
            "mobile_removed" => t_string!(i18n, contact_done.mobile_removed),
            "confirmed" => t_string!(i18n, contact_done.confirmed),
            "reserved" => t_string!(i18n, contact_done.reserved),
            "unreserved" => t_string!(i18n, contact_done.unreserved),
            "mailbox" => t_string!(i18n, contact_done.mailbox),
            "language" => t_string!(i18n, contact_done.language),
            "cancelled" => t_string!(i18n, contact_done.cancelled),
            "code_sent" => t_string!(i18n, contact_done.code_sent),
            _ => return None,
        };
        Some(view! { <p class="notice notice-success" role="status">{text}</p> })
    })
}

fn language_name(i18n: I18nContext<Locale>, code: &str) -> &'static str {
    match code {
        "nn" => t_string!(i18n, language.nn),
        "da" => t_string!(i18n, language.da),
        "en" => t_string!(i18n, language.en),
        _ => t_string!(i18n, language.nb),
    }
}

/// A `<time>` element.
fn time_view(when: When) -> impl IntoView {
    view! { <time datetime=when.iso>{when.display}</time> }
}

// ---------------------------------------------------------------------------------------------
// The overview

#[component]
pub fn ContactPage(data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, contact.title) />
        <article class="prose wide contact">
            <h1>{t!(i18n, contact.title)}</h1>
            <p class="lead">{t!(i18n, contact.intro)}</p>
            <DoneNotice />
            {with_contact("/contact", data, |view| view! { <Overview view /> }.into_any())}
        </article>
    }
}

#[component]
fn Overview(view: ContactView) -> impl IntoView {
    let i18n = use_i18n();
    let has_any = view.email.is_some() || view.mobile.is_some();
    let warn_unreachable = !view.reserved && !view.can_be_notified;
    let language = view.language.clone();
    // The provider by the name the configuration gives it (its id if it is no longer
    // configured: the letters then go on paper, and the citizen can choose again).
    let provider = view.mailbox_provider.clone().map(|id| {
        use_context::<MailboxProviders>()
            .and_then(|providers| providers.name_of(&id).map(str::to_owned))
            .unwrap_or(id)
    });
    view! {
        <ErrorSummary outcome=view.outcome.clone() text=error_view />
        {view
            .must_confirm
            .then(|| {
                view! {
                    <div class="notice notice-warning">
                        <h2>{t!(i18n, contact.stale_title)}</h2>
                        <p>{t!(i18n, contact.stale_text)}</p>
                    </div>
                }
            })}
        {(warn_unreachable && !view.must_confirm)
            .then(|| {
                view! {
                    <div class="notice notice-warning">
                        <p>{t!(i18n, contact.unreachable)}</p>
                    </div>
                }
            })}
        <section aria-labelledby="email-title" class="contact-section">
            <h2 id="email-title">{t!(i18n, contact.email_title)}</h2>
            <MethodSummary value=view.email.clone() pending=view.pending_email.clone() method="email" />
        </section>
        <section aria-labelledby="mobile-title" class="contact-section">
            <h2 id="mobile-title">{t!(i18n, contact.mobile_title)}</h2>
            <MethodSummary value=view.mobile.clone() pending=view.pending_mobile.clone() method="mobile" />
        </section>
        {has_any
            .then(|| {
                view! {
                    <section aria-labelledby="confirm-title" class="contact-section">
                        <h2 id="confirm-title">{t!(i18n, contact.confirm_title)}</h2>
                        <p>{t!(i18n, contact.confirm_text)}</p>
                        <form method="post" action="/contact/confirm">
                            <button type="submit" class="button">{t!(i18n, contact.confirm_button)}</button>
                        </form>
                    </section>
                }
            })}
        <section aria-labelledby="reservation-title" class="contact-section">
            <h2 id="reservation-title">{t!(i18n, contact.reservation_title)}</h2>
            <p>
                {if view.reserved {
                    t!(i18n, contact.reserved_yes).into_any()
                } else {
                    t!(i18n, contact.reserved_no).into_any()
                }}
            </p>
            {view
                .reservation_changed
                .clone()
                .map(|when| {
                    view! {
                        <p class="muted">{t!(i18n, contact.changed)} " " {time_view(when)}</p>
                    }
                })}
            <p>
                <NavLink href="/contact/reservation">
                    {if view.reserved {
                        t!(i18n, contact.reservation_withdraw_link).into_any()
                    } else {
                        t!(i18n, contact.reservation_link).into_any()
                    }}
                </NavLink>
            </p>
        </section>
        <section aria-labelledby="mailbox-title" class="contact-section">
            <h2 id="mailbox-title">{t!(i18n, contact.mailbox_title)}</h2>
            <p>
                {match provider {
                    None => t!(i18n, contact.mailbox_portal).into_any(),
                    Some(name) => {
                        view! { {t!(i18n, contact.mailbox_external)} " " <strong>{name}</strong> }
                            .into_any()
                    }
                }}
            </p>
            <p><NavLink href="/contact/mailbox">{t!(i18n, contact.mailbox_link)}</NavLink></p>
        </section>
        <section aria-labelledby="language-title" class="contact-section">
            <h2 id="language-title">{t!(i18n, contact.language_title)}</h2>
            <p>{move || language_name(i18n, &language)}</p>
            <p><NavLink href="/contact/language">{t!(i18n, contact.language_link)}</NavLink></p>
        </section>
        <p><NavLink href="/activity?only=contact">{t!(i18n, contact.history_link)}</NavLink></p>
    }
}

/// What is registered for one method, a waiting change, and the links to change it.
#[component]
fn MethodSummary(
    value: Option<ValueView>,
    pending: Option<PendingView>,
    method: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let change_href = format!("/contact/{method}");
    let verify_href = format!("/contact/verify/{method}");
    let has_value = value.is_some();
    view! {
        {match value {
            Some(value) => {
                view! {
                    <dl class="facts">
                        <dt>{t!(i18n, contact.registered)}</dt>
                        <dd><strong class="contact-value">{value.value}</strong></dd>
                        <dt>{t!(i18n, contact.changed)}</dt>
                        <dd>{time_view(value.changed)}</dd>
                        <dt>{t!(i18n, contact.verified)}</dt>
                        <dd>
                            {match value.verified {
                                Some(when) => time_view(when).into_any(),
                                None => t!(i18n, contact.never_verified).into_any(),
                            }}
                            {value
                                .stale
                                .then(|| {
                                    view! { " " <span class="tag tag-warning">{t!(i18n, contact.stale_tag)}</span> }
                                })}
                        </dd>
                    </dl>
                }
                    .into_any()
            }
            None => view! { <p>{t!(i18n, contact.none_registered)}</p> }.into_any(),
        }}
        {pending
            .map(|pending| {
                view! {
                    <div class="notice">
                        <p>
                            {t!(i18n, contact.pending)} " " <strong>{pending.new_value}</strong> ". "
                            {t!(i18n, contact.code_valid_until)} " " {time_view(pending.expires)} "."
                        </p>
                        <p><NavLink href=verify_href>{t!(i18n, contact.enter_code_link)}</NavLink></p>
                    </div>
                }
            })}
        <p>
            <NavLink href=change_href>
                {match (method, has_value) {
                    ("email", true) => t!(i18n, contact.change_email).into_any(),
                    ("email", false) => t!(i18n, contact.add_email).into_any(),
                    (_, true) => t!(i18n, contact.change_mobile).into_any(),
                    (_, false) => t!(i18n, contact.add_mobile).into_any(),
                }}
            </NavLink>
        </p>
    }
}

// ---------------------------------------------------------------------------------------------
// Changing e-mail or mobile

#[component]
pub fn ChangeEmailPage(data: ContactData) -> impl IntoView {
    view! { <ChangeMethod method="email" data /> }
}

#[component]
pub fn ChangeMobilePage(data: ContactData) -> impl IntoView {
    view! { <ChangeMethod method="mobile" data /> }
}

#[component]
fn ChangeMethod(method: &'static str, data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    let is_email = method == "email";
    let here = if is_email {
        "/contact/email"
    } else {
        "/contact/mobile"
    };
    sub_page(
        move |i18n| {
            if is_email {
                t_string!(i18n, contact.email_page_title)
            } else {
                t_string!(i18n, contact.mobile_page_title)
            }
        },
        here,
        None,
        data,
        move |view| {
            let outcome = view.outcome.clone().unwrap_or_default();
            let current = if is_email {
                view.email.clone()
            } else {
                view.mobile.clone()
            };
            let other_present = if is_email {
                view.mobile.is_some()
            } else {
                view.email.is_some()
            };
            let last_method = !other_present && !view.reserved;
            let typed = outcome.value_of(method);
            let error = outcome.error_for(method).cloned();
            let removal_error = outcome.error_for("remove").cloned();
            view! {
                        <ErrorSummary outcome=view.outcome.clone() text=error_view />
                        {current
                            .as_ref()
                            .map(|current| {
                                view! {
                                    <p>
                                        {t!(i18n, contact.now_registered)} " "
                                        <strong class="contact-value">{current.value.clone()}</strong>
                                    </p>
                                }
                            })}
                        <form method="post" action=here novalidate>
                            <TextField
                                id=method
                                label=if is_email {
                                    t_string!(i18n, contact.new_email).to_owned()
                                } else {
                                    t_string!(i18n, contact.new_mobile).to_owned()
                                }
                                hint=if is_email {
                                    t_string!(i18n, contact.email_hint).to_owned()
                                } else {
                                    t_string!(i18n, contact.mobile_hint).to_owned()
                                }
                                input_type=if is_email { "email" } else { "tel" }
                                autocomplete=if is_email { "email" } else { "tel" }
                                value=typed
                                error
                                text=error_view
                            />
                            <p>{t!(i18n, contact.code_explained)}</p>
                            <div class="actions">
                                <button type="submit" class="button">{t!(i18n, contact.send_code)}</button>
                                <NavLink href="/contact" exact=true>{t!(i18n, contact.cancel)}</NavLink>
                            </div>
                        </form>
                        {current
                            .map(|_| {
                                let action = format!("{here}/remove");
                                view! {
                                    <section aria-labelledby="remove-title" class="contact-section">
                                        <h2 id="remove-title">
                                            {if is_email {
                                                t!(i18n, contact.remove_email_title).into_any()
                                            } else {
                                                t!(i18n, contact.remove_mobile_title).into_any()
                                            }}
                                        </h2>
                                        {last_method
                                            .then(|| {
                                                view! {
                                                    <p class="notice notice-warning" id="remove-warning">
                                                        {t!(i18n, contact.remove_last_warning)}
                                                    </p>
                                                }
                                            })}
                                        {removal_error
                                            .map(|error| {
                                                view! { <p class="field-error">{error_view(i18n, &error)}</p> }
                                            })}
                                        <form method="post" action=action>
                                            <button
                                                type="submit"
                                                class="button button-secondary"
                                                aria-describedby=last_method.then_some("remove-warning")
                                            >
                                                {if is_email {
                                                    t!(i18n, contact.remove_email).into_any()
                                                } else {
                                                    t!(i18n, contact.remove_mobile).into_any()
                                                }}
                                            </button>
                                        </form>
                                    </section>
                                }
                            })}
                    }
                        .into_any()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Typing back the code

#[component]
pub fn VerifyEmailPage(data: ContactData) -> impl IntoView {
    view! { <VerifyMethod method="email" data /> }
}

#[component]
pub fn VerifyMobilePage(data: ContactData) -> impl IntoView {
    view! { <VerifyMethod method="mobile" data /> }
}

#[component]
fn VerifyMethod(method: &'static str, data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    let is_email = method == "email";
    let here = if is_email {
        "/contact/verify/email"
    } else {
        "/contact/verify/mobile"
    };
    sub_page(
        |i18n| t_string!(i18n, contact.verify_title),
        here,
        None,
        data,
        move |view| {
            let pending = if is_email {
                view.pending_email.clone()
            } else {
                view.pending_mobile.clone()
            };
            let outcome = view.outcome.clone().unwrap_or_default();
            let Some(pending) = pending else {
                return view! {
                    <p>{t!(i18n, contact.nothing_pending)}</p>
                    <p><NavLink href="/contact" exact=true>{t!(i18n, contact.back)}</NavLink></p>
                }
                .into_any();
            };
            let error = outcome.error_for("code").cloned();
            let resend_error = outcome.error_for("resend").cloned();
            view! {
                        <ErrorSummary outcome=view.outcome.clone() text=error_view />
                        <p>
                            {if is_email {
                                t!(i18n, contact.code_sent_email).into_any()
                            } else {
                                t!(i18n, contact.code_sent_mobile).into_any()
                            }} " " <strong class="contact-value">{pending.new_value}</strong> ". "
                            {t!(i18n, contact.code_valid_until)} " " {time_view(pending.expires)} "."
                        </p>
                        <form method="post" action=here novalidate>
                            <TextField
                                id="code"
                                label=t_string!(i18n, contact.code_label).to_owned()
                                hint=t_string!(i18n, contact.code_hint).to_owned()
                                input_type="text"
                                autocomplete="one-time-code"
                                inputmode="numeric"
                                value=None
                                error
                                text=error_view
                            />
                            <div class="actions">
                                <button type="submit" class="button">{t!(i18n, contact.verify_button)}</button>
                            </div>
                        </form>
                        <section aria-labelledby="no-code-title" class="contact-section">
                            <h2 id="no-code-title">{t!(i18n, contact.no_code_title)}</h2>
                            {resend_error
                                .map(|error| {
                                    view! {
                                        <p class="field-error" id="resend">{error_view(i18n, &error)}</p>
                                    }
                                })}
                            <div class="actions">
                                <form method="post" action=format!("{here}/resend")>
                                    <button type="submit" class="button button-secondary">
                                        {t!(i18n, contact.resend)}
                                    </button>
                                </form>
                                <form method="post" action=format!("{here}/cancel")>
                                    <button type="submit" class="button button-secondary">
                                        {t!(i18n, contact.cancel_change)}
                                    </button>
                                </form>
                            </div>
                        </section>
                    }
                        .into_any()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Reservation, mailbox, language

#[component]
pub fn ReservationPage(data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    sub_page(
        |i18n| t_string!(i18n, contact.reservation_title),
        "/contact/reservation",
        None,
        data,
        move |view| {
            if view.reserved {
                view! {
                            <p>{t!(i18n, contact.reserved_yes)}</p>
                            <p>{t!(i18n, contact.withdraw_explained)}</p>
                            <form method="post" action="/contact/reservation">
                                <input type="hidden" name="reserved" value="false" />
                                <div class="actions">
                                    <button type="submit" class="button">{t!(i18n, contact.withdraw_button)}</button>
                                    <NavLink href="/contact" exact=true>{t!(i18n, contact.cancel)}</NavLink>
                                </div>
                            </form>
                        }
                            .into_any()
            } else {
                view! {
                            <p>{t!(i18n, contact.reserve_explained_1)}</p>
                            <ul>
                                <li>{t!(i18n, contact.reserve_point_paper)}</li>
                                <li>{t!(i18n, contact.reserve_point_notify)}</li>
                                <li>{t!(i18n, contact.reserve_point_slower)}</li>
                                <li>{t!(i18n, contact.reserve_point_undo)}</li>
                            </ul>
                            <form method="post" action="/contact/reservation">
                                <input type="hidden" name="reserved" value="true" />
                                <div class="actions">
                                    <button type="submit" class="button">{t!(i18n, contact.reserve_button)}</button>
                                    <NavLink href="/contact" exact=true>{t!(i18n, contact.cancel)}</NavLink>
                                </div>
                            </form>
                        }
                            .into_any()
            }
        },
    )
}

#[component]
pub fn MailboxPage(data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    let providers = use_context::<MailboxProviders>().unwrap_or_default();
    sub_page(
        |i18n| t_string!(i18n, contact.mailbox_title),
        "/contact/mailbox",
        Some(|i18n| t_string!(i18n, contact.mailbox_explained)),
        data,
        move |view| {
            // What the form shows chosen: what is stored (a refused choice is not one of the
            // offered values, so there is nothing posted to keep).
            let chosen = match &view.mailbox_provider {
                Some(id) => format!("{EXTERNAL_MAILBOX}{id}"),
                None => "portal".to_owned(),
            };
            let options = providers
                .0
                .iter()
                .map(|(id, name)| {
                    let value = format!("{EXTERNAL_MAILBOX}{id}");
                    let input_id = format!("mailbox-{id}");
                    let checked = chosen == value;
                    view! {
                        <div class="choice">
                            <input type="radio" id=input_id.clone() name="mailbox" value=value checked=checked />
                            <label for=input_id>{name.clone()}</label>
                        </div>
                    }
                })
                .collect_view();
            let none_other = providers.0.is_empty();
            view! {
                        <ErrorSummary outcome=view.outcome.clone() text=error_view />
                        <form method="post" action="/contact/mailbox" novalidate>
                            <fieldset>
                                <legend>{t!(i18n, contact.mailbox_legend)}</legend>
                                <div class="choice">
                                    <input type="radio" id="mailbox-portal" name="mailbox" value="portal" checked=chosen == "portal" />
                                    <label for="mailbox-portal">{t!(i18n, contact.mailbox_portal)}</label>
                                </div>
                                {options}
                            </fieldset>
                            {none_other.then(|| view! { <p class="hint">{t!(i18n, contact.no_other_mailboxes)}</p> })}
                            <div class="actions">
                                <button type="submit" class="button">{t!(i18n, contact.save)}</button>
                                <NavLink href="/contact" exact=true>{t!(i18n, contact.cancel)}</NavLink>
                            </div>
                        </form>
                    }
                        .into_any()
        },
    )
}

#[component]
pub fn ContactLanguagePage(data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    sub_page(
        |i18n| t_string!(i18n, contact.language_title),
        "/contact/language",
        Some(|i18n| t_string!(i18n, contact.language_explained)),
        data,
        move |view| {
            let current = view.language.clone();
            view! {
                        <ErrorSummary outcome=view.outcome.clone() text=error_view />
                        <form method="post" action="/contact/language">
                            <fieldset id="language">
                                <legend>{t!(i18n, contact.language_legend)}</legend>
                                {ALL_LOCALES
                                    .into_iter()
                                    .map(|locale| {
                                        let code = locale.as_str();
                                        let id = format!("language-{code}");
                                        view! {
                                            <div class="choice">
                                                <input type="radio" id=id.clone() name="language" value=code checked=current == code />
                                                <label for=id lang=code>{move || language_name(i18n, code)}</label>
                                            </div>
                                        }
                                    })
                                    .collect_view()}
                            </fieldset>
                            <div class="actions">
                                <button type="submit" class="button">{t!(i18n, contact.save)}</button>
                                <NavLink href="/contact" exact=true>{t!(i18n, contact.cancel)}</NavLink>
                            </div>
                        </form>
                    }
                        .into_any()
        },
    )
}

// ---------------------------------------------------------------------------------------------
// The question after login

/// "Is your contact information still right?" — shown after login when none of it was
/// confirmed within the staleness limit. Confirm, change, or go on (asked again next login).
#[component]
pub fn ContactCheckPage(data: ContactData) -> impl IntoView {
    let i18n = use_i18n();
    let return_to = crate::request::query_param("return_to")
        .filter(|path| crate::auth::is_local_path(path))
        .unwrap_or_else(|| "/".to_owned());
    view! {
        <Title text=t_string!(i18n, contact.check_title) />
        <article class="prose contact">
            <h1>{t!(i18n, contact.check_title)}</h1>
            <p class="lead">{t!(i18n, contact.check_intro)}</p>
            {with_contact(
                "/contact/check",
                data,
                move |view| {
                    let return_to = return_to.clone();
                    view! {
                        <ErrorSummary outcome=view.outcome.clone() text=error_view />
                        <dl class="facts">
                            <dt>{t!(i18n, contact.email_title)}</dt>
                            <dd>
                                {view
                                    .email
                                    .clone()
                                    .map(|v| v.value)
                                    .unwrap_or_else(|| t_string!(i18n, contact.none_registered).to_owned())}
                            </dd>
                            <dt>{t!(i18n, contact.mobile_title)}</dt>
                            <dd>
                                {view
                                    .mobile
                                    .clone()
                                    .map(|v| v.value)
                                    .unwrap_or_else(|| t_string!(i18n, contact.none_registered).to_owned())}
                            </dd>
                        </dl>
                        <form method="post" action="/contact/confirm">
                            <input type="hidden" name="return_to" value=return_to.clone() />
                            <div class="actions">
                                <button type="submit" class="button">{t!(i18n, contact.confirm_button)}</button>
                                <NavLink href="/contact" exact=true>{t!(i18n, contact.check_change)}</NavLink>
                                <a href=return_to.clone()>{t!(i18n, contact.check_later)}</a>
                            </div>
                        </form>
                    }
                        .into_any()
                },
            )}
        </article>
    }
}
