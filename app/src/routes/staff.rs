//! `/staff`: the borgerservice staff's desk. Signed out, the municipalities to log in with (and
//! why a login did not complete); signed in, who is logged in, for which municipality, in which
//! role, and a log-out button. Its own header (`shell::StaffChrome`): no citizen navigation.

use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// What the server read for `/staff`.
#[derive(Clone, Debug, Default)]
pub struct StaffDesk {
    /// (id, name) of each municipality whose staff log in here.
    pub municipalities: Vec<(String, String)>,
    /// The member of staff this browser's staff session is for, if any.
    pub signed_in: Option<StaffView>,
}

/// A logged-in member of staff, as the desk shows them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffView {
    pub name: String,
    pub municipality: String,
    pub role: StaffRoleView,
}

/// The member of staff's role (the domain's `StaffRole`, which the browser build cannot see).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StaffRoleView {
    Caseworker,
    Supervisor,
}

/// `/staff` (`?failed=<reason>` after a login that did not complete).
#[component]
pub fn StaffPage(data: StaffDesk) -> impl IntoView {
    let i18n = use_i18n();
    match data.signed_in {
        Some(member) => view! { <SignedIn member /> }.into_any(),
        None => {
            let failed = crate::request::query_param("failed").map(|reason| {
                let text = match reason.as_str() {
                    "level" => t_string!(i18n, staff.failed_level),
                    "no_role" => t_string!(i18n, staff.failed_no_role),
                    "unknown_municipality" => t_string!(i18n, staff.failed_unknown),
                    "cancelled" => t_string!(i18n, staff.failed_cancelled),
                    "expired" => t_string!(i18n, staff.failed_expired),
                    "unavailable" => t_string!(i18n, staff.failed_unavailable),
                    _ => t_string!(i18n, staff.failed_other),
                };
                view! {
                    <div class="notice notice-warning" role="alert">
                        <h2>{t_string!(i18n, staff.failed_title)}</h2>
                        <p>{text}</p>
                    </div>
                }
            });
            view! {
                <Title text=t_string!(i18n, staff.title) />
                <article class="prose">
                    <h1>{t_string!(i18n, staff.title)}</h1>
                    {failed}
                    <p class="lead">{t_string!(i18n, staff.intro)}</p>
                    <h2>{t_string!(i18n, staff.choose)}</h2>
                    {if data.municipalities.is_empty() {
                        view! { <p>{t_string!(i18n, common.unavailable)}</p> }.into_any()
                    } else {
                        view! {
                            <ul class="provider-list">
                                {data
                                    .municipalities
                                    .into_iter()
                                    .map(|(id, name)| {
                                        let href = format!(
                                            "/staff/login/{}",
                                            crate::auth::encode(&id),
                                        );
                                        view! {
                                            <li>
                                                <a class="button" href=href>
                                                    {name}
                                                </a>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                        }
                            .into_any()
                    }}
                    <p>{t_string!(i18n, staff.citizens)} " " <a href="/">{t_string!(i18n, staff.citizens_link)}</a></p>
                </article>
            }
                .into_any()
        }
    }
}

/// Who is logged in at the desk, and the log-out button.
#[component]
fn SignedIn(member: StaffView) -> impl IntoView {
    let i18n = use_i18n();
    let role = match member.role {
        StaffRoleView::Caseworker => t_string!(i18n, staff.role_caseworker),
        StaffRoleView::Supervisor => t_string!(i18n, staff.role_supervisor),
    };
    view! {
        <Title text=t_string!(i18n, staff.signed_in_title) />
        <article class="prose">
            <h1>{t_string!(i18n, staff.signed_in_title)}</h1>
            <dl class="facts">
                <dt>{t_string!(i18n, staff.name)}</dt>
                <dd>{member.name}</dd>
                <dt>{t_string!(i18n, staff.municipality)}</dt>
                <dd>{member.municipality}</dd>
                <dt>{t_string!(i18n, staff.role)}</dt>
                <dd>{role}</dd>
            </dl>
            <p>{t_string!(i18n, staff.idle_note)}</p>
            <form method="post" action="/staff/logout">
                <button type="submit" class="button button-secondary">
                    {t_string!(i18n, staff.log_out)}
                </button>
            </form>
        </article>
    }
}
