//! The interface language on the server side: which language a request wants, and the
//! no-JavaScript language switcher (`POST /language`), which sets the same cookie the
//! hydrated switcher sets and sends the citizen back to where they were.

use app::routes::error::Message;
use app::shell::LANGUAGE_COOKIE;
use axum::{
    extract::{Form, State},
    http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use serde::Deserialize;

use crate::AppState;

/// The interface languages, in the order of preference when nothing else decides.
pub const LANGUAGES: [&str; 4] = ["nb", "nn", "da", "en"];

/// The language of a request: the cookie if it names one we have, else the best match in
/// `Accept-Language` (`no` counts as bokmål), else bokmål.
pub fn request_language(headers: &HeaderMap) -> &'static str {
    cookie_language(headers)
        .or_else(|| accept_language(headers))
        .unwrap_or(LANGUAGES[0])
}

/// The language the browser's visitor chose with the switcher (the cookie), if any: unlike
/// `Accept-Language`, a choice.
pub fn cookie_language(headers: &HeaderMap) -> Option<&'static str> {
    crate::cookies::cookie(headers, LANGUAGE_COOKIE).and_then(known_language)
}

fn known_language(tag: &str) -> Option<&'static str> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let primary = if primary == "no" {
        "nb".to_owned()
    } else {
        primary
    };
    LANGUAGES.into_iter().find(|l| *l == primary)
}

fn accept_language(headers: &HeaderMap) -> Option<&'static str> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, &'static str)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("").trim();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(language) = known_language(tag) {
            if best.is_none_or(|(q, _)| quality > q) {
                best = Some((quality, language));
            }
        }
    }
    best.filter(|(q, _)| *q > 0.0).map(|(_, l)| l)
}

/// Middleware (a plain map of the request, `ServiceBuilder::map_request`: nothing to await and
/// nothing to do on the way back): decide the request's language once (cookie, else
/// `Accept-Language`, else bokmål) and hand it to the renderer as the request's only accepted
/// language, so the pages, `<html lang>` and the server's own pages all agree.
pub fn resolve_language(mut request: axum::extract::Request) -> axum::extract::Request {
    let language = request_language(request.headers());
    request
        .headers_mut()
        .insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static(language));
    request
}

pub use app::auth::is_local_path;

#[derive(Deserialize)]
pub struct LanguageForm {
    lang: String,
    #[serde(default)]
    return_to: String,
}

/// The cookie that remembers the interface language for a year.
pub fn language_cookie(language: &str, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{LANGUAGE_COOKIE}={language}; Path=/; Max-Age=31536000; SameSite=Lax{secure}"
    ))
    .ok()
}

/// `POST /language`: remember the chosen language and go back.
pub async fn change_language(
    State(state): State<AppState>,
    parts: Parts,
    Form(form): Form<LanguageForm>,
) -> Response {
    let Some(language) = LANGUAGES.into_iter().find(|l| *l == form.lang) else {
        return bad_request(&state, parts).await;
    };
    let return_to = if form.return_to.is_empty() {
        "/"
    } else if is_local_path(&form.return_to) {
        form.return_to.as_str()
    } else {
        return bad_request(&state, parts).await;
    };
    let (Some(cookie), Ok(location)) = (
        language_cookie(language, state.security.hsts),
        HeaderValue::from_str(return_to),
    ) else {
        return bad_request(&state, parts).await;
    };
    let mut response = StatusCode::SEE_OTHER.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response.headers_mut().insert(header::LOCATION, location);
    response
}

/// The bad-request page, in the language the request already had.
async fn bad_request(state: &AppState, parts: Parts) -> Response {
    let status = StatusCode::BAD_REQUEST;
    state
        .pages
        .message(parts, status, Message::BadRequest)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn cookie_wins_over_accept_language() {
        let mut h = with("cookie", "a=b; i18n_pref_locale=da");
        h.insert("accept-language", HeaderValue::from_static("en"));
        assert_eq!(request_language(&h), "da");
    }

    #[test]
    fn accept_language_picks_the_best_known() {
        assert_eq!(
            request_language(&with("accept-language", "de, en;q=0.8, nn;q=0.9")),
            "nn"
        );
        assert_eq!(request_language(&with("accept-language", "no")), "nb");
        assert_eq!(request_language(&with("accept-language", "da-DK")), "da");
        assert_eq!(request_language(&with("accept-language", "fr, de")), "nb");
        assert_eq!(request_language(&HeaderMap::new()), "nb");
    }

    #[test]
    fn unknown_cookie_values_are_ignored() {
        assert_eq!(
            request_language(&with("cookie", "i18n_pref_locale=xx")),
            "nb"
        );
    }

    #[test]
    fn only_local_paths_are_return_targets() {
        assert!(is_local_path("/"));
        assert!(is_local_path("/privacy?x=1"));
        assert!(!is_local_path("//evil.example"));
        assert!(!is_local_path("/\\evil.example"));
        assert!(!is_local_path("https://evil.example"));
        assert!(!is_local_path("/a\r\nSet-Cookie: x=y"));
        assert!(!is_local_path(""));
    }
}
