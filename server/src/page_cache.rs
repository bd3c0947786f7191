//! The pages that every visitor without a session gets byte for byte the same in one language
//! (the front page, the accessibility statement, the privacy page), rendered once per language
//! and path and then served from memory with the request's CSP nonce put in.
//!
//! Why: rendering a page with Leptos costs about fifteen times what handing the same bytes to
//! hyper does (docs/benchmarks.md), and the anonymous front page is most of a portal's traffic.
//! What such a page depends on is fixed for the life of the process (compiled-in translations,
//! the asset names read at start) apart from the language, the path and the nonce, so a copy
//! with the nonce cut out is exact. Anything that could make a page differ is sent to the
//! renderer instead: a session cookie, a query string, a method other than GET, a path not
//! listed. (The cookie, not the session: a page's session is read by its renderer, after this.)
//! Only a plain `200` HTML answer without cookies is kept.

use crate::language::LANGUAGES;
use crate::InternalFailure;
use app::shell::CspNonce;
use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

/// Pages that depend on nothing but the language for a visitor without a session.
const PATHS: [&str; 3] = ["/", "/accessibility", "/privacy"];

/// A kept page's key: its path and language.
type Key = (&'static str, &'static str);

/// The kept pages, by path and language, and the session cookie's name. Cheap to clone.
#[derive(Clone)]
pub struct PageCache {
    pages: Arc<RwLock<HashMap<Key, Arc<Page>>>>,
    session_cookie: &'static str,
}

impl PageCache {
    /// An empty cache for visitors without a cookie named `session_cookie`.
    pub fn new(session_cookie: &'static str) -> Self {
        Self {
            pages: Arc::default(),
            session_cookie,
        }
    }
}

/// A rendered page with the nonce cut out: `parts` joined by the nonce give the page.
#[derive(Debug, PartialEq)]
struct Page {
    parts: Vec<Bytes>,
    content_type: HeaderValue,
}

impl Page {
    /// Cut `body` at every occurrence of `nonce`; `None` when the nonce is not in it (then the
    /// page would not be the one the CSP header allows, and is not kept).
    fn split(body: &Bytes, nonce: &str, content_type: HeaderValue) -> Option<Self> {
        let needle = nonce.as_bytes();
        if needle.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        let mut start = 0;
        let mut at = 0;
        while at + needle.len() <= body.len() {
            if &body[at..at + needle.len()] == needle {
                parts.push(body.slice(start..at));
                at += needle.len();
                start = at;
            } else {
                at += 1;
            }
        }
        if parts.is_empty() {
            return None;
        }
        parts.push(body.slice(start..));
        Some(Self {
            parts,
            content_type,
        })
    }

    /// The page with `nonce` put back in.
    fn join(&self, nonce: &str) -> Vec<u8> {
        let length = self.parts.iter().map(Bytes::len).sum::<usize>()
            + nonce.len() * (self.parts.len().saturating_sub(1));
        let mut page = Vec::with_capacity(length);
        for (i, part) in self.parts.iter().enumerate() {
            if i > 0 {
                page.extend_from_slice(nonce.as_bytes());
            }
            page.extend_from_slice(part);
        }
        page
    }

    fn response(&self, nonce: &str) -> Response {
        let mut response = Response::new(Body::from(self.join(nonce)));
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type.clone());
        response
    }
}

/// The cache key of a request whose page may come from the cache: a GET without a query for
/// a listed path, without a session cookie, in one of the portal's languages (set by
/// `language::resolve_language`, which runs before this).
fn key(request: &Request, session_cookie: &str) -> Option<Key> {
    if request.method() != Method::GET || request.uri().query().is_some() {
        return None;
    }
    // The path first: the cookie is looked for only on the pages that may be kept.
    let path = PATHS.into_iter().find(|p| *p == request.uri().path())?;
    if crate::cookies::cookie(request.headers(), session_cookie).is_some() {
        return None;
    }
    let language = request.headers().get(header::ACCEPT_LANGUAGE)?;
    let language = LANGUAGES.into_iter().find(|l| language == *l)?;
    Some((path, language))
}

/// Middleware, inside the session and security layers (it needs the session and the nonce):
/// answer from the cache, or render and keep the page when it qualifies.
pub async fn serve(State(cache): State<PageCache>, request: Request, next: Next) -> Response {
    let (Some(key), Some(CspNonce(nonce))) = (
        key(&request, cache.session_cookie),
        request.extensions().get::<CspNonce>().cloned(),
    ) else {
        return next.run(request).await;
    };
    let kept = cache
        .pages
        .read()
        .ok()
        .and_then(|pages| pages.get(&key).cloned());
    if let Some(page) = kept {
        return page.response(&nonce);
    }
    let response = next.run(request).await;
    let plain = response.status() == StatusCode::OK
        && response
            .headers()
            .keys()
            .all(|name| name == header::CONTENT_TYPE);
    let Some(content_type) = response.headers().get(header::CONTENT_TYPE).cloned() else {
        return response;
    };
    if !plain || !content_type.as_bytes().starts_with(b"text/html") {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(error) => {
            tracing::error!(%error, "could not read a rendered page");
            let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            response.extensions_mut().insert(InternalFailure);
            return response;
        }
    };
    if let Some(page) = Page::split(&body, &nonce, content_type) {
        if let Ok(mut pages) = cache.pages.write() {
            pages.entry(key).or_insert_with(|| Arc::new(page));
        }
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_is_cut_at_every_nonce_and_joined_with_another() {
        let html = HeaderValue::from_static("text/html; charset=utf-8");
        let body =
            Bytes::from_static(b"<script nonce=\"AAA\">x</script><p>AA</p><style nonce=\"AAA\">");
        let page = Page::split(&body, "AAA", html.clone()).unwrap();
        assert_eq!(page.parts.len(), 3);
        assert_eq!(page.join("AAA"), body.to_vec());
        assert_eq!(
            String::from_utf8(page.join("b+/9")).unwrap(),
            "<script nonce=\"b+/9\">x</script><p>AA</p><style nonce=\"b+/9\">"
        );
        assert_eq!(Page::split(&body, "ZZZ", html.clone()), None);
        assert_eq!(Page::split(&body, "", html), None);
    }
}
