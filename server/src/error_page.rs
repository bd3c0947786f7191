//! The last-resort error page, for a request whose handler panicked (`lib.rs`'s `error_pages`).
//! Every other page, the error and bad-request pages too, is rendered by the app's shell
//! (`pages.rs`); this one is made from the small shared template (`texts::page`) without
//! Leptos, whose render may be what failed. Nothing internal is ever shown: the cause goes to
//! the log, the citizen gets a calm, translated text and the request's reference.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use crate::texts::{escape, html_text, page};

/// `500` with the error page in `lang`, showing `reference` (the request id).
pub fn internal_error(lang: &str, reference: Option<&str>, stylesheet: &str) -> Response {
    html_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        internal_error_html(lang, reference, stylesheet),
    )
}

/// An HTML response that is never cached.
pub fn html_response(status: StatusCode, html: String) -> Response {
    let mut response = (status, html).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The HTML of the last-resort error page.
fn internal_error_html(lang: &str, reference: Option<&str>, stylesheet: &str) -> String {
    let title = html_text(lang, "error.title");
    let reference = reference
        .map(|r| {
            format!(
                "<p>{} <code>{}</code></p>",
                html_text(lang, "error.reference"),
                escape(r)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<article class=\"prose\"><h1>{title}</h1><p>{}</p>{reference}\
         <p><a href=\"/\">{}</a></p></article>",
        html_text(lang, "error.text"),
        html_text(lang, "error.home_link"),
    );
    page(lang, &title, None, &body, stylesheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_is_translated_and_escaped() {
        let html = internal_error_html("da", Some("<script>alert(1)</script>"), "/pkg/x.css");
        assert!(html.contains("<html lang=\"da\">"));
        assert!(html.contains("Noget gik galt"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
    }
}
