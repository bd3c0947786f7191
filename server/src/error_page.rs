//! Pages the server answers with itself, outside the Leptos app: the translated error page for
//! a failure (a panic, an unreadable request) and the bad-request page. The texts come from the
//! same translation files as the app, so they exist in every language. Nothing internal is ever
//! shown: the cause goes to the log, the citizen gets a calm text and the request id.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::Value;
use std::{collections::HashMap, sync::OnceLock};

use crate::language::LANGUAGES;

/// Which server-made page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessagePage {
    InternalError,
    BadRequest,
}

/// The translation files, compiled in.
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

/// A translated text by dotted key; falls back to bokmål, then to the key itself (the test
/// suite proves every key exists in every language, so the fallbacks are never seen).
fn text(lang: &str, key: &str) -> String {
    let lookup = |lang: &str| {
        let mut value = translations().get(lang)?;
        for part in key.split('.') {
            value = value.get(part)?;
        }
        value.as_str().map(str::to_owned)
    };
    lookup(lang)
        .or_else(|| lookup(LANGUAGES[0]))
        .unwrap_or_else(|| key.to_owned())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Render a server-made page in `lang` as a response.
pub fn render_message_page(
    status: StatusCode,
    page: MessagePage,
    lang: &str,
    reference: Option<&str>,
    stylesheet: &str,
) -> Response {
    let mut response =
        (status, message_page_html(page, lang, reference, stylesheet)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTML of a server-made page.
pub fn message_page_html(
    page: MessagePage,
    lang: &str,
    reference: Option<&str>,
    stylesheet: &str,
) -> String {
    let (title_key, text_key) = match page {
        MessagePage::InternalError => ("error.title", "error.text"),
        MessagePage::BadRequest => ("error.bad_request_title", "error.bad_request_text"),
    };
    let title = escape(&text(lang, title_key));
    let body = escape(&text(lang, text_key));
    let app = escape(&text(lang, "app_name"));
    let home = escape(&text(lang, "error.home_link"));
    let reference = reference
        .map(|r| {
            format!(
                "<p>{} <code>{}</code></p>",
                escape(&text(lang, "error.reference")),
                escape(r)
            )
        })
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} – {app}</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"{stylesheet}\"></head><body>\
         <header class=\"site-header\"><div class=\"container header-inner\">\
         <a class=\"brand\" href=\"/\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>\
         <span class=\"brand-name\">{app}</span></a></div></header>\
         <main id=\"main\" class=\"container main\"><article class=\"prose\"><h1>{title}</h1>\
         <p>{body}</p>{reference}<p><a href=\"/\">{home}</a></p></article></main></body></html>",
        lang = escape(lang),
        stylesheet = escape(stylesheet),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_has_the_error_texts() {
        for lang in LANGUAGES {
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
    fn the_page_is_translated_and_escaped() {
        let html = message_page_html(
            MessagePage::InternalError,
            "da",
            Some("<script>alert(1)</script>"),
            "/pkg/x.css",
        );
        assert!(html.contains("<html lang=\"da\">"));
        assert!(html.contains("Noget gik galt"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
