//! The translations and the one small template for the pages the server makes without the
//! app's shell (the last-resort error page, the test eID) and for the notifications. They come
//! from the same `locales/*.json` files as the Leptos app, so every text exists in every
//! language (`app/tests/translations.rs` proves it).

use serde_json::Value;
use std::{collections::HashMap, sync::OnceLock};

/// The translation files, compiled in; the first is the fallback.
const LOCALE_FILES: [(&str, &str); 4] = [
    ("nb", include_str!("../../locales/nb.json")),
    ("nn", include_str!("../../locales/nn.json")),
    ("da", include_str!("../../locales/da.json")),
    ("en", include_str!("../../locales/en.json")),
];

fn translations() -> &'static HashMap<&'static str, Value> {
    static PARSED: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    PARSED.get_or_init(|| {
        LOCALE_FILES
            .iter()
            .filter_map(|(lang, text)| serde_json::from_str(text).ok().map(|v| (*lang, v)))
            .collect()
    })
}

/// A translated text by dotted key; falls back to bokmål, then to the key itself (never seen in
/// practice: the translation tests prove every key exists in every language).
pub fn text(lang: &str, key: &str) -> String {
    let lookup = |lang: &str| {
        let mut value = translations().get(lang)?;
        for part in key.split('.') {
            value = value.get(part)?;
        }
        value.as_str().map(str::to_owned)
    };
    lookup(lang)
        .or_else(|| lookup(LOCALE_FILES[0].0))
        .unwrap_or_else(|| key.to_owned())
}

/// `template` with each `{{ name }}` (leptos_i18n's variable syntax) replaced by its value, in
/// one pass: a value is never read for placeholders itself. Unknown placeholders stay as they
/// are.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{ ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 3..];
        let value = after.find(" }}").and_then(|end| {
            let name = &after[..end];
            let value = values.iter().find(|(key, _)| *key == name)?.1;
            Some((value, end + 3))
        });
        match value {
            Some((value, consumed)) => {
                out.push_str(value);
                rest = &after[consumed..];
            }
            None => {
                out.push_str("{{ ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `text`, HTML-escaped.
pub fn html_text(lang: &str, key: &str) -> String {
    escape(&text(lang, key))
}

/// Escape for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A whole server-made page: the same chrome as the app (brand, skip link, main landmark), the
/// stylesheet, no scripts. `banner` is shown above the header (the test eID uses it).
pub fn page(lang: &str, title: &str, banner: Option<&str>, body: &str, stylesheet: &str) -> String {
    let app = html_text(lang, "app_name");
    let skip = html_text(lang, "skip_to_content");
    let banner = banner
        .map(|b| format!("<div class=\"test-banner\" role=\"note\">{b}</div>"))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – {app}</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body>\
         <a class=\"skip-link\" href=\"#main\">{skip}</a>{banner}\
         <header class=\"site-header\"><div class=\"page-width header-inner\">\
         <a class=\"brand\" href=\"/\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>\
         <span class=\"brand-name\">{app}</span></a></div></header>\
         <main id=\"main\" class=\"page-width main\" tabindex=\"-1\">{body}</main></body></html>",
        lang = escape(lang),
        stylesheet = escape(stylesheet),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_server_texts() {
        for (lang, _) in LOCALE_FILES {
            for key in [
                "error.title",
                "error.text",
                "error.bad_request_title",
                "app_name",
            ] {
                assert_ne!(text(lang, key), key, "{lang} lacks {key}");
            }
        }
        assert_ne!(text("da", "error.title"), text("en", "error.title"));
    }

    #[test]
    fn fill_replaces_each_placeholder_once() {
        assert_eq!(
            fill(
                "{{ a }} og {{ b }}, {{ a }}; {{ c }} {{ ",
                &[("a", "{{ b }}"), ("b", "æ")]
            ),
            "{{ b }} og æ, {{ b }}; {{ c }} {{ "
        );
        assert_eq!(fill("ingen", &[("a", "x")]), "ingen");
    }

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
