//! The account corner of the header: "Log in", or who is logged in (name and level), a link to
//! their activity and a logout button. The logout is a real form post, so it works without
//! JavaScript.

use crate::auth::{use_current_user, UserView};
use crate::components::nav_link::NavLink;
use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;

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
    match use_current_user() {
        Some(user) => view! { <LoggedIn user /> }.into_any(),
        None => {
            let here = crate::request::path();
            let href = if here.starts_with("/login") || here == "/logged-out" {
                "/login".to_owned()
            } else {
                crate::auth::login_href(&here, None)
            };
            view! {
                <a class="button" href=href>
                    {t_string!(i18n, user.log_in)}
                </a>
            }
            .into_any()
        }
    }
}

#[component]
fn LoggedIn(user: UserView) -> impl IntoView {
    let i18n = use_i18n();
    let unread = user
        .unread
        .filter(|n| *n > 0)
        .map(|n| format!(" ({} {})", unread_shown(n), t_string!(i18n, user.unread)));
    let to_sign = user
        .to_sign
        .filter(|n| *n > 0)
        .map(|n| format!(" ({n} {})", t_string!(i18n, signing.waiting)));
    view! {
        <nav class="user-menu" aria-label=t_string!(i18n, user.menu_label)>
            <p class="user-name">
                <span class="muted">{t_string!(i18n, user.logged_in_as)} " "</span>
                <strong>{user.name}</strong>
                <span class="muted">
                    " (" {t_string!(i18n, user.level)} ": " {loa_name(i18n, &user.loa)} ")"
                </span>
            </p>
            <NavLink href="/post">{t_string!(i18n, user.post)} {unread}</NavLink>
            <NavLink href="/signing">{t_string!(i18n, signing.nav)} {to_sign}</NavLink>
            <NavLink href="/contact">{t_string!(i18n, user.contact)}</NavLink>
            <NavLink href="/authority">{t_string!(i18n, user.authority)}</NavLink>
            <NavLink href="/activity">{t_string!(i18n, user.activity)}</NavLink>
            {(user.may_act_for && user.acting_for.is_none())
                .then(|| {
                    view! {
                        <NavLink href=super::acting::ACT_FOR>
                            {t_string!(i18n, acting.menu_link)}
                        </NavLink>
                    }
                })}
            <form method="post" action="/auth/logout">
                <button type="submit" class="button button-secondary">
                    {t_string!(i18n, user.log_out)}
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
