//! The front page: what a citizen can do in Borgerportal.

use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text="" />
        <section class="hero" aria-labelledby="home-title">
            <h1 id="home-title">{t!(i18n, home.title)}</h1>
            <p class="lead">{t!(i18n, home.intro)}</p>
        </section>
        <section aria-labelledby="tasks-heading">
            <h2 id="tasks-heading">{t!(i18n, home.tasks_heading)}</h2>
            <ul class="task-list">
                <li class="task">
                    <h3>{t!(i18n, home.contact_title)}</h3>
                    <p>{t!(i18n, home.contact_text)}</p>
                </li>
                <li class="task">
                    <h3>{t!(i18n, home.post_title)}</h3>
                    <p>{t!(i18n, home.post_text)}</p>
                </li>
                <li class="task">
                    <h3>{t!(i18n, home.signing_title)}</h3>
                    <p>{t!(i18n, home.signing_text)}</p>
                </li>
                <li class="task">
                    <h3>{t!(i18n, home.delegation_title)}</h3>
                    <p>{t!(i18n, home.delegation_text)}</p>
                </li>
                <li class="task">
                    <h3>{t!(i18n, home.helper_title)}</h3>
                    <p>{t!(i18n, home.helper_text)}</p>
                </li>
            </ul>
        </section>
        <section class="notice" aria-labelledby="security-heading">
            <h2 id="security-heading">{t!(i18n, home.security_heading)}</h2>
            <p>{t!(i18n, home.security_text)}</p>
        </section>
    }
}
