//! The app's pages: what the server reads for a page before Leptos renders it, and their routes.
//!
//! Every page is rendered by [`PageRenderer::render`], whether it is a `GET`, a form shown
//! again with its errors (`contact`, `post_pages`) or the 404 page. It first reads what the
//! page shows and puts it in the request's extensions, then renders:
//! - every page: the logged-in citizen for the header and the idle warning
//!   ([`app::auth::CurrentUser`]);
//! - `/post`: the page of the mailbox the address asks for;
//! - `/post/letter/{id}`: the letter, opened;
//! - `/post/folders`: the citizen's own folders;
//! - `/activity`: a page of the citizen's activity log;
//! - `/contact` and its sub-pages: the citizen's contact entry.
//!
//! Each page's data goes in as [`Loaded`] and its component takes it out with
//! `app::auth::take_loaded`.
//!
//! The components read these as plain values. Pages are rendered on the server only (islands),
//! so a resource and its `Suspense` would only be waited on once and thrown away; reading
//! first and rendering at once made a logged-in page half again as fast (docs/benchmarks.md).
//! Pages not listed read their own data through resources, as before.

use std::{future::Future, pin::Pin, sync::Arc};

use app::auth::{load_current_user, Loaded, ProviderChoices, SessionContext};
use app::routes::activity::{load_activity, ActivityQuery, AgencyNames};
use app::routes::contact::{load_contact, FormOutcome};
use app::routes::post::{load_folders, load_letter, load_mailbox, MailboxQuery};
use axum::{
    body::Body,
    extract::{Query, Request},
    http::{header, request::Parts, Method, StatusCode},
    response::Response,
    routing::get,
    Router,
};
use borgerportal::storage::Database;

use crate::AppState;

/// A rendered page, later.
pub type PageFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// Leptos' render of the app for a request.
pub type Render = Arc<dyn Fn(Request) -> PageFuture + Send + Sync>;

/// Renders the app's pages (see the module's documentation).
#[derive(Clone)]
pub struct PageRenderer {
    render: Render,
    db: Database,
    /// The eIDs' and the agencies' names, for the activity log.
    providers: ProviderChoices,
    agencies: AgencyNames,
    /// How old contact data may be before it must be confirmed.
    staleness: time::Duration,
}

impl PageRenderer {
    pub fn new(
        render: Render,
        db: Database,
        providers: ProviderChoices,
        agencies: AgencyNames,
        staleness: time::Duration,
    ) -> Self {
        Self {
            render,
            db,
            providers,
            agencies,
            staleness,
        }
    }

    /// The page at the request's path, with what it shows read first.
    pub async fn render(&self, mut request: Request) -> Response {
        let session = request.extensions().get::<SessionContext>().cloned();
        let user = load_current_user(&self.db, session.as_ref()).await;
        request.extensions_mut().insert(user);
        let lang = crate::language::request_language(request.headers());
        let session = session.as_ref();
        let db = &self.db;
        let outcome = request.extensions().get::<FormOutcome>().cloned();
        match Page::of(request.uri().path()) {
            Some(Page::Mailbox) => {
                let query = Query::<MailboxQuery>::try_from_uri(request.uri())
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                let mailbox = load_mailbox(db, session, query, lang).await;
                request.extensions_mut().insert(Loaded(mailbox));
            }
            Some(Page::Letter(id)) => {
                let letter = load_letter(db, session, &id, lang, outcome).await;
                request.extensions_mut().insert(Loaded(letter));
            }
            Some(Page::Folders) => {
                let folders = load_folders(db, session, outcome).await;
                request.extensions_mut().insert(Loaded(folders));
            }
            Some(Page::Activity) => {
                let query = Query::<ActivityQuery>::try_from_uri(request.uri())
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                let activity =
                    load_activity(db, session, query, lang, &self.providers, &self.agencies).await;
                request.extensions_mut().insert(Loaded(activity));
            }
            Some(Page::Contact) => {
                let contact = load_contact(db, session, lang, self.staleness, outcome).await;
                request.extensions_mut().insert(Loaded(contact));
            }
            None => {}
        }
        (self.render)(request).await
    }

    /// The page at the request's path (a GET of it), with `outcome` for the page to show, as
    /// `422 Unprocessable Content`.
    pub(crate) async fn again(&self, mut parts: Parts, outcome: FormOutcome) -> Response {
        parts.method = Method::GET;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.extensions.insert(outcome);
        let mut response = self.render(Request::from_parts(parts, Body::empty())).await;
        if response.status().is_success() {
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        response
    }

    /// As [`again`](PageRenderer::again), for another path (a form on one page whose errors
    /// show on another).
    pub(crate) async fn at(
        &self,
        mut parts: Parts,
        path: &'static str,
        outcome: FormOutcome,
    ) -> Response {
        parts.uri = axum::http::Uri::from_static(path);
        self.again(parts, outcome).await
    }
}

/// The pages whose data is read here, by their path.
#[derive(Debug, PartialEq, Eq)]
enum Page {
    /// `/post`: a page of a folder, the trash or a search.
    Mailbox,
    /// `/post/letter/{id}`: a letter (opening it records it as read).
    Letter(String),
    /// `/post/folders`: the citizen's own folders.
    Folders,
    /// `/activity`: a page of the citizen's activity log.
    Activity,
    /// `/contact` and its sub-pages: the citizen's contact entry.
    Contact,
}

impl Page {
    /// The page at `path`, if its data is read here. Only the paths the app's router matches
    /// to these pages (with or without one trailing slash): any other path is the 404 page,
    /// which reads nothing (and opens no letter).
    fn of(path: &str) -> Option<Page> {
        let path = path
            .strip_suffix('/')
            .filter(|path| !path.is_empty())
            .unwrap_or(path);
        match path {
            "/post" => Some(Page::Mailbox),
            "/post/folders" => Some(Page::Folders),
            "/activity" => Some(Page::Activity),
            "/contact"
            | "/contact/email"
            | "/contact/mobile"
            | "/contact/verify/email"
            | "/contact/verify/mobile"
            | "/contact/reservation"
            | "/contact/mailbox"
            | "/contact/language"
            | "/contact/check" => Some(Page::Contact),
            _ => path
                .strip_prefix("/post/letter/")
                .filter(|id| !id.is_empty() && !id.contains('/'))
                .map(|id| Page::Letter(id.to_owned())),
        }
    }
}

/// A `GET` route for each of the app's pages (the paths of its router).
pub fn routes<'p>(
    paths: impl IntoIterator<Item = &'p str>,
    pages: &PageRenderer,
) -> Router<AppState> {
    paths.into_iter().fold(Router::new(), |router, path| {
        let pages = pages.clone();
        router.route(
            path,
            get(move |request: Request| async move { pages.render(request).await }),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::Page;

    #[test]
    fn only_the_routes_own_paths_read_data() {
        assert_eq!(Page::of("/post"), Some(Page::Mailbox));
        assert_eq!(Page::of("/post/folders"), Some(Page::Folders));
        assert_eq!(Page::of("/activity"), Some(Page::Activity));
        assert_eq!(Page::of("/contact"), Some(Page::Contact));
        assert_eq!(Page::of("/contact/verify/mobile"), Some(Page::Contact));
        assert_eq!(
            Page::of("/post/letter/abc"),
            Some(Page::Letter("abc".to_owned()))
        );
        for other in [
            "/",
            "/post//",
            "/post/letter/",
            "/post/letter/a/b",
            "/postbox",
        ] {
            assert_eq!(Page::of(other), None, "{other}");
        }
    }

    #[test]
    fn a_trailing_slash_is_the_same_page_as_the_router_says() {
        assert_eq!(Page::of("/post/"), Some(Page::Mailbox));
        assert_eq!(Page::of("/activity/"), Some(Page::Activity));
        assert_eq!(
            Page::of("/post/letter/abc/"),
            Some(Page::Letter("abc".to_owned()))
        );
    }
}
