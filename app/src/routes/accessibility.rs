//! The accessibility statement (required by the EU Web Accessibility Directive, linked from
//! every page's footer).

use crate::i18n::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccessibilityPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=t_string!(i18n, accessibility.title) />
        <article class="prose">
            <h1>{t!(i18n, accessibility.title)}</h1>
            <p class="lead">{t!(i18n, accessibility.intro)}</p>
            <h2>{t!(i18n, accessibility.status_heading)}</h2>
            <p>{t!(i18n, accessibility.status_text)}</p>
            <h2>{t!(i18n, accessibility.works_heading)}</h2>
            <ul>
                <li>{t!(i18n, accessibility.works_keyboard)}</li>
                <li>{t!(i18n, accessibility.works_zoom)}</li>
                <li>{t!(i18n, accessibility.works_nojs)}</li>
                <li>{t!(i18n, accessibility.works_language)}</li>
            </ul>
            <h2>{t!(i18n, accessibility.feedback_heading)}</h2>
            <p>{t!(i18n, accessibility.feedback_text)}</p>
            <h2>{t!(i18n, accessibility.enforcement_heading)}</h2>
            <p>{t!(i18n, accessibility.enforcement_text)}</p>
            <p class="muted">{t!(i18n, accessibility.updated)}</p>
        </article>
    }
}
