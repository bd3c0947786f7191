//! What a page knows of the request it is rendered for: its path and query, and what the
//! server's middleware put in the request's extensions (the CSP nonce, a server function's
//! session). A page's own data is not here: the shell is given it ([`crate::routes::PageData`]).
//!
//! The server provides the request's `Parts` as context for the render (`server/src/pages.rs`).
//! They are read in place: taking them from context would copy all of them. In the browser
//! build, which never renders pages (only the islands, from their props), there is no request:
//! the path is empty and nothing is found.

#[cfg(feature = "ssr")]
use leptos::prelude::with_context;

/// A value the server put in the request's extensions for the render.
#[cfg(feature = "ssr")]
pub fn extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
    with_context::<http::request::Parts, _>(|parts| parts.extensions.get::<T>().cloned()).flatten()
}

/// Reads the request's URI (nothing in the browser build).
fn with_uri<R>(read: impl FnOnce(&str, Option<&str>) -> R) -> Option<R> {
    #[cfg(feature = "ssr")]
    return with_context::<http::request::Parts, _>(|parts| {
        read(parts.uri.path(), parts.uri.query())
    });
    #[cfg(not(feature = "ssr"))]
    {
        let _ = read;
        None
    }
}

/// The path of the page being shown, as the browser asked for it (`/post/letter/…`).
pub fn path() -> String {
    with_uri(|path, _| path.to_owned()).unwrap_or_default()
}

/// The path with its query, as the browser asked for it: where to come back to.
pub fn path_and_query() -> String {
    with_uri(|path, query| match query {
        Some(query) if !query.is_empty() => format!("{path}?{query}"),
        _ => path.to_owned(),
    })
    .unwrap_or_default()
}

/// The first value of the query parameter `name`, decoded (`None` if it is not there).
pub fn query_param(name: &str) -> Option<String> {
    with_uri(|_, query| first_param(query.unwrap_or(""), name)).flatten()
}

/// The first value of `name` in a URL query (`a=1&b=2`), decoded as a form is.
fn first_param(query: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::first_param;

    #[test]
    fn a_query_parameter_is_decoded_and_the_first_one_counts() {
        let query = "return_to=%2Fpost%3Fview%3Darchive&loa=high&loa=substantial&q=a+b";
        assert_eq!(
            first_param(query, "return_to").as_deref(),
            Some("/post?view=archive")
        );
        assert_eq!(first_param(query, "loa").as_deref(), Some("high"));
        assert_eq!(first_param(query, "q").as_deref(), Some("a b"));
        assert_eq!(first_param(query, "none"), None);
        assert_eq!(first_param("", "q"), None);
        assert_eq!(first_param("q", "q").as_deref(), Some(""));
    }
}
