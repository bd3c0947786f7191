//! The account corner of the header: "Log in", or who is logged in (name and level), a link to
//! their activity and a logout button. The logout is a real form post, so it works without
//! JavaScript.

use crate::auth::{use_current_user, UserView};
use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::{components::A, hooks::use_location};

/// The translated name of a level of assurance.
pub fn loa_name(i18n: I18nContext<Locale>, loa: &str) -> &'static str {
    if loa == "high" {
        t_string!(i18n, loa.high)
    } else {
        t_string!(i18n, loa.substantial)
    }
}

#[component]
pub fn UserMenu() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let Some(current) = use_current_user() else {
        return ().into_any();
    };
    view! {
        <Suspense>
            {move || {
                current
                    .0
                    .get()
                    .map(|user| match user {
                        Ok(Some(user)) => view! { <LoggedIn user /> }.into_any(),
                        _ => {
                            let here = location.pathname.get();
                            let href = if here.starts_with("/login") || here == "/logged-out" {
                                "/login".to_owned()
                            } else {
                                crate::auth::login_href(&here, None)
                            };
                            view! {
                                <a class="button" href=href>
                                    {t!(i18n, user.log_in)}
                                </a>
                            }
                                .into_any()
                        }
                    })
            }}
        </Suspense>
    }
    .into_any()
}

#[component]
fn LoggedIn(user: UserView) -> impl IntoView {
    let i18n = use_i18n();
    let loa = user.loa.clone();
    view! {
        <nav class="user-menu" aria-label=move || t_string!(i18n, user.menu_label)>
            <p class="user-name">
                <span class="muted">{t!(i18n, user.logged_in_as)} " "</span>
                <strong>{user.name.clone()}</strong>
                <span class="muted">
                    " (" {t!(i18n, user.level)} ": " {move || loa_name(i18n, &loa)} ")"
                </span>
            </p>
            <A href="/post">
                {t!(i18n, user.post)}
                {user
                    .unread
                    .filter(|n| *n > 0)
                    .map(|n| view! { " (" {unread_shown(n)} " " {t!(i18n, user.unread)} ")" })}
            </A>
            <A href="/contact">{t!(i18n, user.contact)}</A>
            <A href="/activity">{t!(i18n, user.activity)}</A>
            <form method="post" action="/auth/logout">
                <button type="submit" class="button button-secondary">
                    {t!(i18n, user.log_out)}
                </button>
            </form>
        </nav>
    }
}

/// The storage counts unread letters up to this many, meaning "this many or more"
/// (`borgerportal::post::UNREAD_COUNT_LIMIT`; the browser build does not link the domain crate).
pub const UNREAD_COUNT_LIMIT: u64 = 100;

/// The unread count as the header shows it: "99+" once the count reached its limit.
fn unread_shown(count: u64) -> String {
    if count >= UNREAD_COUNT_LIMIT {
        format!("{}+", UNREAD_COUNT_LIMIT - 1)
    } else {
        count.to_string()
    }
}

#[cfg(test)]
mod unread_tests {
    use super::*;

    #[test]
    fn a_count_at_the_limit_reads_as_more_than_ninety_nine() {
        assert_eq!(unread_shown(1), "1");
        assert_eq!(unread_shown(99), "99");
        assert_eq!(unread_shown(100), "99+");
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_limit_is_the_storage_limit() {
        assert_eq!(UNREAD_COUNT_LIMIT, borgerportal::post::UNREAD_COUNT_LIMIT);
    }
}
