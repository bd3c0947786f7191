//! The language switcher. Without JavaScript it is a plain form that posts to `/language`
//! (the server sets the cookie and redirects back). With JavaScript it is an island: it posts
//! the same form in the background and puts the page that comes back, in the new language, in
//! place of the old one, without a page load (see `switch_in_place`).
//!
//! The page is rendered on the server only (Leptos islands): the texts come in as props, so the
//! browser's WASM holds no translations.

use crate::i18n::*;
use leptos::prelude::*;

/// Every locale, in the order they are offered.
pub const ALL_LOCALES: [Locale; 4] = [Locale::nb, Locale::nn, Locale::da, Locale::en];

/// The language's own name for itself (the same in every interface language, so a lost reader
/// can always find their own).
fn endonym(i18n: leptos_i18n::I18nContext<Locale>, locale: Locale) -> &'static str {
    match locale {
        Locale::nb => t_string!(i18n, language.nb),
        Locale::nn => t_string!(i18n, language.nn),
        Locale::da => t_string!(i18n, language.da),
        Locale::en => t_string!(i18n, language.en),
    }
}

/// The switcher with the request's language, texts and path (server side). The form's fields
/// are rendered here, on the server, as the island's children: the island itself only takes
/// over the submit, so nothing of the form travels as island props (serialised as JSON into
/// an attribute on every page).
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let return_to = crate::request::path_and_query();
    let current = i18n.get_locale_untracked();
    view! {
        <LanguageSwitcherForm>
            <input type="hidden" name="return_to" value=return_to />
            <label for="language-select">{t_string!(i18n, language.label)}</label>
            <select id="language-select" name="lang">
                {ALL_LOCALES
                    .into_iter()
                    .map(|locale| {
                        view! {
                            <option
                                value=locale.as_str()
                                lang=locale.as_str()
                                selected=locale == current
                            >
                                {endonym(i18n, locale)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button button-secondary">
                {t_string!(i18n, language.change)}
            </button>
        </LanguageSwitcherForm>
    }
}

/// The form itself, hydrated in the browser: its fields are the server-rendered children.
#[island]
fn LanguageSwitcherForm(children: Children) -> impl IntoView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        #[cfg(target_arch = "wasm32")]
        {
            use wasm_bindgen::JsCast;
            if let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            {
                ev.prevent_default();
                switch_in_place(&form);
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = ev;
    };
    view! {
        <form class="language-switcher" method="post" action="/language" on:submit=on_submit>
            {children()}
        </form>
    }
}

// Post the form in the background; the server sets the cookie and redirects to the same page,
// which the browser fetches in the new language. That page's body, title and `<html lang>`
// replace the current ones, and its islands are hydrated (by the loader in `shell.rs`). If
// anything goes wrong the form is submitted the ordinary way.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(inline_js = r#"
export function switch_in_place(form) {
  fetch(form.action, { method: 'POST', body: new URLSearchParams(new FormData(form)) })
    .then((r) => (r.ok && r.redirected ? r.text() : Promise.reject(r.status)))
    .then((html) => {
      const page = new DOMParser().parseFromString(html, 'text/html');
      document.documentElement.lang = page.documentElement.lang;
      document.title = page.title;
      document.body.replaceWith(page.body);
      window.__borgerportalIslands?.(document.body);
    })
    .catch(() => form.submit());
}
"#)]
extern "C" {
    fn switch_in_place(form: &web_sys::HtmlFormElement);
}
