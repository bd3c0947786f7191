//! The app's pages: what the server reads for a page, and how Leptos renders it.
//!
//! Every page is rendered by [`PageRenderer::render`], whether it is a `GET`, a form shown
//! again with its errors (`contact`, `post_pages`) or the 404 page. Which page a path shows is
//! decided by [`Page::of`] (in the app, next to the pages). The renderer first reads what the
//! page shows and puts it in the request's extensions:
//! - every page: the logged-in citizen for the header and the idle warning
//!   ([`app::auth::CurrentUser`]);
//! - `/post`: the page of the mailbox the address asks for;
//! - `/post/letter/{id}`: the letter, opened;
//! - `/post/folders`: the citizen's own folders;
//! - `/activity`: a page of the citizen's activity log;
//! - `/contact` and its sub-pages: the citizen's contact entry.
//!
//! Each page's data goes in as [`Loaded`] and its component takes it out with
//! `app::request::take_loaded`. Then Leptos renders the page in one synchronous pass
//! (`PageRenderer::render_html`).
//!
//! The components read these as plain values. Pages are rendered on the server only (islands),
//! so a resource and its `Suspense` would only be waited on once and thrown away, and a
//! router would only repeat what axum did: reading first and rendering at once is what makes
//! a page cheap (docs/benchmarks.md).

use std::sync::Arc;

use app::auth::{load_current_user, ProviderChoices, SessionContext};
use app::request::Loaded;
use app::routes::activity::{load_activity, ActivityQuery, AgencyNames};
use app::routes::contact::{load_contact, FormOutcome, MailboxProviders};
use app::routes::post::{load_folders, load_letter, load_mailbox, MailboxQuery};
use app::routes::Page;
use app::AssetManifest;
use axum::{
    body::Body,
    extract::{Query, Request},
    http::{header, request::Parts, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use borgerportal::storage::Database;
use futures::StreamExt;
use hydration_context::{SharedContext, SsrSharedContext};
use leptos::prelude::{provide_context, Owner, RenderHtml};
use leptos::tachys::view::Position;
use leptos_axum::ResponseOptions;
use leptos_meta::ServerMetaContext;

use crate::AppState;

/// What a page's HTML is written into at first; a longer page grows it.
const PAGE_CAPACITY: usize = 32 * 1024;

/// Renders the app's pages (see the module's documentation).
#[derive(Clone)]
pub struct PageRenderer {
    db: Database,
    /// The built assets' names, for the document's head.
    assets: Arc<AssetManifest>,
    /// The eIDs' and the agencies' names, for the login page and the activity log.
    providers: ProviderChoices,
    agencies: AgencyNames,
    /// The external mailboxes a citizen may choose, for `/contact/mailbox`.
    mailboxes: MailboxProviders,
    /// How old contact data may be before it must be confirmed.
    staleness: time::Duration,
}

impl PageRenderer {
    pub fn new(
        db: Database,
        assets: Arc<AssetManifest>,
        providers: ProviderChoices,
        agencies: AgencyNames,
        mailboxes: MailboxProviders,
        staleness: time::Duration,
    ) -> Self {
        // Leptos spawns its tasks (and leptos_meta waits a tick) on this runtime.
        let _ = any_spawner::Executor::init_tokio();
        Self {
            db,
            assets,
            providers,
            agencies,
            mailboxes,
            staleness,
        }
    }

    /// The page at the request's path, with what it shows read first.
    pub async fn render(&self, mut request: Request) -> Response {
        let page = Page::of(request.uri().path());
        // What the page shows, read in one snapshot (`Database::read_together`): the header's
        // unread count agrees with the letters below it. For a `GET` the snapshot is the one
        // the session was read in (`auth::load_session`); it ends here, with the reads.
        self.db.read_together(self.read(&page, &mut request)).await;
        self.db.end_read_together();
        // Opening a letter records it (a write), so it is read after the snapshot.
        if let Page::Letter(id) = &page {
            let session = request.extensions().get::<SessionContext>();
            let lang = crate::language::request_language(request.headers());
            let outcome = request.extensions().get::<FormOutcome>().cloned();
            let letter = load_letter(&self.db, session, id, lang, outcome).await;
            request.extensions_mut().insert(Loaded(letter));
        }
        let (parts, _body) = request.into_parts();
        self.render_html(parts, page).await
    }

    /// Reads what `page` shows (but a letter, which is opened apart) into the request's
    /// extensions: the logged-in citizen for every page, and the page's own data.
    async fn read(&self, page: &Page, request: &mut Request) {
        let session = request.extensions().get::<SessionContext>().cloned();
        let user = load_current_user(&self.db, session.as_ref()).await;
        request.extensions_mut().insert(user);
        let lang = crate::language::request_language(request.headers());
        let session = session.as_ref();
        let db = &self.db;
        let outcome = request.extensions().get::<FormOutcome>().cloned();
        match page {
            Page::Mailbox => {
                let query = Query::<MailboxQuery>::try_from_uri(request.uri())
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                let mailbox = load_mailbox(db, session, query, lang).await;
                request.extensions_mut().insert(Loaded(mailbox));
            }
            Page::Folders => {
                let folders = load_folders(db, session, outcome).await;
                request.extensions_mut().insert(Loaded(folders));
            }
            Page::Activity => {
                let query = Query::<ActivityQuery>::try_from_uri(request.uri())
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                let activity =
                    load_activity(db, session, query, lang, &self.providers, &self.agencies).await;
                request.extensions_mut().insert(Loaded(activity));
            }
            Page::Contact(_) => {
                let contact = load_contact(db, session, lang, self.staleness, outcome).await;
                request.extensions_mut().insert(Loaded(contact));
            }
            Page::Letter(_)
            | Page::Home
            | Page::Accessibility
            | Page::Privacy
            | Page::Login
            | Page::LoginFailed
            | Page::LoggedOut
            | Page::NotFound => {}
        }
    }

    /// Leptos renders `page` for the request in `parts`, all at once: everything it shows
    /// was read before, so nothing in it waits (no resource, no `Suspense`).
    ///
    /// What Leptos' own axum integration would do for a request, minus what this app does
    /// not use: its router (axum has routed the request and [`Page::of`] chose the page), a
    /// render streamed as a chain of futures (here one `String`, sent with its length), and
    /// a copy of the request for the router's location.
    async fn render_html(&self, parts: Parts, page: Page) -> Response {
        // The islands' props and hydration ids need a shared context.
        let shared: Arc<dyn SharedContext + Send + Sync> = Arc::new(SsrSharedContext::new());
        let owner = Owner::new_root(Some(shared.clone()));
        let (meta, head) = ServerMetaContext::new();
        let options = ResponseOptions::default();
        let (mut html, nonce) = owner.with(|| {
            provide_context(parts);
            provide_context(meta);
            provide_context(options.clone());
            provide_context(self.providers.clone());
            provide_context(self.mailboxes.clone());
            // Room for a whole page from the start (the mailbox is about 12 kB): grown bit
            // by bit from Leptos' estimate, the page was copied some forty times.
            let mut html = String::with_capacity(PAGE_CAPACITY);
            app::shell(self.assets.clone(), page).to_html_with_buf(
                &mut html,
                &mut Position::FirstChild,
                true,
                false,
                Vec::new(),
            );
            (html, leptos::nonce::use_nonce())
        });
        // The shared context's scripts, which the islands' hydration reads (it fails where
        // they are missing): with nothing loaded in the browser, empty lists. Added before
        // the head's tags, while the buffer has room: leptos_meta copies the page once into a
        // buffer of its exact size, which another push would have to copy again.
        if let Some(scripts) = shared.pending_data() {
            for script in scripts.collect::<Vec<_>>().await {
                html.push_str("<script");
                if let Some(nonce) = &nonce {
                    html.push_str(" nonce=\"");
                    html.push_str(nonce);
                    html.push('"');
                }
                html.push('>');
                html.push_str(&script);
                html.push_str("</script>");
            }
        }
        // The title and the meta tags the page asked for go into the head (the one chunk
        // comes back with them).
        let injected = head
            .inject_meta_context(futures::stream::iter([html]))
            .await;
        let html = std::pin::pin!(injected).next().await.unwrap_or_default();
        owner.unset_with_forced_cleanup();
        let mut response = html.into_response();
        let mut options = options.0.write().unwrap_or_else(|e| e.into_inner());
        if let Some(status) = options.status {
            *response.status_mut() = status;
        }
        response
            .headers_mut()
            .extend(std::mem::take(&mut options.headers));
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
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

/// A `GET` route for each of the app's pages ([`Page::routes`]).
pub fn routes(pages: &PageRenderer) -> Router<AppState> {
    Page::routes().fold(Router::new(), |router, path| {
        let pages = pages.clone();
        router.route(
            path,
            get(move |request: Request| async move { pages.render(request).await }),
        )
    })
}
