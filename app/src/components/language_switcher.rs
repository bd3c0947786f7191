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

/// The switcher with the request's language, texts and path (server side).
#[component]
pub fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let return_to = crate::request::path_and_query();
    let current = i18n.get_locale_untracked();
    let options = ALL_LOCALES
        .into_iter()
        .map(|locale| LanguageOption {
            value: locale.as_str().to_owned(),
            name: endonym(i18n, locale).to_owned(),
            selected: locale == current,
        })
        .collect();
    view! {
        <LanguageSwitcherForm
            return_to
            label=t_string!(i18n, language.label).to_owned()
            change=t_string!(i18n, language.change).to_owned()
            options
        />
    }
}

/// One choice in the switcher.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LanguageOption {
    /// The language tag (`nb`, …), the form's value.
    pub value: String,
    /// The language's name for itself.
    pub name: String,
    /// The page's language.
    pub selected: bool,
}

/// The form itself, hydrated in the browser.
#[island]
fn LanguageSwitcherForm(
    return_to: String,
    label: String,
    change: String,
    options: Vec<LanguageOption>,
) -> impl IntoView {
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
            <input type="hidden" name="return_to" value=return_to />
            <label for="language-select">{label}</label>
            <select id="language-select" name="lang">
                {options
                    .into_iter()
                    .map(|option| {
                        view! {
                            <option
                                value=option.value.clone()
                                lang=option.value
                                selected=option.selected
                            >
                                {option.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit" class="button button-secondary">
                {change}
            </button>
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
