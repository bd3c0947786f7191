//! Pages the server answers with itself, outside the Leptos app: the translated error page for
//! a failure (a panic, an unreadable request) and the bad-request page. Nothing internal is
//! ever shown: the cause goes to the log, the citizen gets a calm text and the request id.

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};

use crate::texts::{escape, html_text, page};

/// Which server-made page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessagePage {
    InternalError,
    BadRequest,
    TooManyRequests,
    /// A server-served resource (an attachment) that is not there, or not the reader's.
    NotFound,
}

/// Render a server-made page in `lang` as a response.
pub fn render_message_page(
    status: StatusCode,
    which: MessagePage,
    lang: &str,
    reference: Option<&str>,
    stylesheet: &str,
) -> Response {
    html_response(
        status,
        message_page_html(which, lang, reference, stylesheet),
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

/// The HTML of a server-made page.
pub fn message_page_html(
    which: MessagePage,
    lang: &str,
    reference: Option<&str>,
    stylesheet: &str,
) -> String {
    let (title_key, text_key) = match which {
        MessagePage::InternalError => ("error.title", "error.text"),
        MessagePage::BadRequest => ("error.bad_request_title", "error.bad_request_text"),
        MessagePage::TooManyRequests => ("error.too_many_title", "error.too_many_text"),
        MessagePage::NotFound => ("not_found.title", "not_found.text"),
    };
    let title = html_text(lang, title_key);
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
        html_text(lang, text_key),
        html_text(lang, "error.home_link"),
    );
    page(lang, &title, None, &body, stylesheet)
}

#[cfg(test)]
mod tests {
    use super::*;

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
