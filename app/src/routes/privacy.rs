//! Privacy and cookies: what the portal stores and why.

use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PrivacyPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, privacy.title) />
        <article class="prose">
            <h1>{t!(i18n, privacy.title)}</h1>
            <p class="lead">{t!(i18n, privacy.intro)}</p>
            <h2>{t!(i18n, privacy.data_heading)}</h2>
            <p>{t!(i18n, privacy.data_text)}</p>
            <h2>{t!(i18n, privacy.logs_heading)}</h2>
            <p>{t!(i18n, privacy.logs_text)}</p>
            <h2>{t!(i18n, privacy.cookies_heading)}</h2>
            <p>{t!(i18n, privacy.cookies_text)}</p>
            <h2>{t!(i18n, privacy.rights_heading)}</h2>
            <p>{t!(i18n, privacy.rights_text)}</p>
        </article>
    }
}
