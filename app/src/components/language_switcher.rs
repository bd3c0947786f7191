//! The language switcher. Without JavaScript it is a plain form that posts to `/language`
//! (the server sets the cookie and redirects back). Hydrated, it switches in place: the
//! translations, `<html lang>` and the cookie change without a page load.

use crate::i18n::*;
use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::hooks::use_location;

/// Every locale, in the order they are offered.
pub const ALL_LOCALES: [Locale; 4] = [Locale::nb, Locale::nn, Locale::da, Locale::en];

/// The language's own name for itself (the same in every interface language, so a lost reader
/// can always find their own).
fn endonym(i18n: I18nContext<Locale>, locale: Locale) -> &'static str {
    match locale {
        Locale::nb => t_string!(i18n, language.nb),
        Locale::nn => t_string!(i18n, language.nn),
        Locale::da => t_string!(i18n, language.da),
        Locale::en => t_string!(i18n, language.en),
    }
}

/// Keep the choice for the next page load, as the server's `/language` form does. (Written by
/// hand rather than by leptos_i18n's cookie feature, which pulls a cookie parser and a date
/// library into the WASM for this one line.)
fn remember_language(locale: Locale) {
    #[cfg(target_arch = "wasm32")]
    {
        use wasm_bindgen::JsCast;
        if let Some(document) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        {
            let secure = if document
                .location()
                .is_some_and(|l| l.protocol().ok().as_deref() == Some("https:"))
            {
                "; Secure"
            } else {
                ""
            };
            let _ = document.set_cookie(&format!(
                "{}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
                crate::shell::LANGUAGE_COOKIE,
                locale.as_str()
            ));
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = locale;
}

#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let return_to = move || {
        let path = location.pathname.get();
        let query = location.search.get();
        if query.is_empty() {
            path
        } else {
            format!("{path}?{query}")
        }
    };
    let select_ref = NodeRef::<leptos::html::Select>::new();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(select) = select_ref.get() else {
            return;
        };
        let chosen = ALL_LOCALES
            .into_iter()
            .find(|l| l.as_str() == select.value().as_str());
        if let Some(locale) = chosen {
            ev.prevent_default();
            remember_language(locale);
            i18n.set_locale(locale);
        }
    };
    view! {
        <form class="language-switcher" method="post" action="/language" on:submit=on_submit>
            <input type="hidden" name="return_to" value=return_to />
            <label for="language-select">{t!(i18n, language.label)}</label>
            <select id="language-select" name="lang" node_ref=select_ref>
                {ALL_LOCALES
                    .into_iter()
                    .map(|locale| {
                        view! {
                            <option
                                value=locale.as_str()
                                lang=locale.as_str()
                                selected=move || i18n.get_locale() == locale
                            >
                                {endonym(i18n, locale)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button button-secondary">
                {t!(i18n, language.change)}
            </button>
        </form>
    }
}
