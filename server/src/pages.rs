//! The app's pages: what the server reads for a page, and how Leptos renders it.
//!
//! Every page is rendered by [`PageRenderer`], whether it is a `GET`, a form shown again with
//! its errors (`forms.rs`), the 404 page or a page shown instead of the one asked for (the
//! error, bad-request and too-many-attempts pages, `PageRenderer::message`). Which page a path
//! shows is decided by [`Page::of`] (in the app, next to the pages). The renderer first reads, in one snapshot:
//! - the session (for a page's `GET`: `auth::load_session` leaves it to the page) and the
//!   logged-in citizen for the header and the idle warning ([`app::auth::CurrentUser`]);
//! - `/post`: the page of the mailbox the address asks for;
//! - `/post/folders`: the citizen's own folders;
//! - `/activity`: a page of the citizen's activity log;
//! - `/contact` and its sub-pages: the citizen's contact entry;
//! - `/authority` and its forms: the delegations the citizen has given, holds and is asked for;
//! - `/staff`: the staff desk, from the staff cookie alone (never a citizen's session);
//!
//! and then, after the snapshot, opens a letter (`/post/letter/{id}`: a write). What was read
//! becomes a [`PageData`], made by matching on the [`Page`], and the shell is given it: a page
//! can only get the data of its own type. Then Leptos renders the page in one synchronous pass
//! (`PageRenderer::render_html`).
//!
//! The components read these as plain values. Pages are rendered on the server only (islands),
//! so a resource and its `Suspense` would only be waited on once and thrown away, and a
//! router would only repeat what axum did: reading first and rendering at once is what makes
//! a page cheap (docs/benchmarks.md).

use std::sync::Arc;

use app::auth::{load_current_user, CurrentUser, ProviderChoices, SessionContext};
use app::components::form::FormOutcome;
use app::routes::activity::{load_activity, ActivityQuery, AgencyNames};
use app::routes::authority::{load_authority, AuthorityRules};
use app::routes::contact::{load_contact, MailboxProviders};
use app::routes::home::load_home;
use app::routes::post::{load_folders, load_letter, load_mailbox, MailboxQuery};
use app::routes::staff::{StaffDesk, StaffRoleView, StaffView};
use app::routes::{error::Message, Page, PageData};
use app::AssetManifest;
use axum::{
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

use crate::auth::{find_session, page_reads_session, Auth};
use crate::language::request_language;
use crate::AppState;

/// What a page's HTML is written into at first; a longer page grows it.
const PAGE_CAPACITY: usize = 32 * 1024;

/// Renders the app's pages (see the module's documentation).
#[derive(Clone)]
pub struct PageRenderer {
    db: Database,
    /// Reads a page's session (its cookie's name, the idle timeout).
    auth: Arc<Auth>,
    /// The built assets' names, for the document's head.
    assets: Arc<AssetManifest>,
    /// The eIDs' and the agencies' names, for the login page and the activity log.
    providers: ProviderChoices,
    agencies: AgencyNames,
    /// The external mailboxes a citizen may choose, for `/contact/mailbox`.
    mailboxes: MailboxProviders,
    /// How old contact data may be before it must be confirmed.
    staleness: time::Duration,
    /// The delegation rules and service scopes, for the authority pages.
    authority: AuthorityRules,
    /// The staff login, for the staff desk (`/staff`).
    staff: Option<Arc<crate::staff::StaffAuth>>,
}

/// What a page shows as read in the snapshot, or the letter to open after it.
#[allow(clippy::large_enum_variant)] // moved once, as `PageData` is
enum Read {
    Page(PageData),
    /// Opening a letter records it (a write): the letter's id, and the form shown again.
    OpenLetter(String, Option<FormOutcome>),
}

impl PageRenderer {
    pub fn new(
        db: Database,
        auth: Arc<Auth>,
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
            auth,
            assets,
            providers,
            agencies,
            mailboxes,
            staleness,
            authority: AuthorityRules::default(),
            staff: None,
        }
    }

    /// With the staff login, whose session and municipalities the staff desk shows.
    pub fn with_staff(mut self, staff: Arc<crate::staff::StaffAuth>) -> Self {
        self.staff = Some(staff);
        self
    }

    /// With the delegation rules and service scopes the authority pages show.
    pub fn with_authority(mut self, authority: AuthorityRules) -> Self {
        self.authority = authority;
        self
    }

    /// The page at the request's path, with what it shows read first.
    pub async fn render(&self, request: Request) -> Response {
        let (parts, _body) = request.into_parts();
        let page = Page::of(parts.uri.path());
        let staff = page == Page::Staff;
        let mut response = self.show(parts, page, None).await;
        if staff {
            // About a member of staff when logged in; kept by no cache either way.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }

    /// Reads what `page` shows (with `outcome`, a form shown again), then renders it.
    async fn show(&self, parts: Parts, page: Page, outcome: Option<FormOutcome>) -> Response {
        let lang = request_language(&parts.headers);
        // The session and what the page shows, read in one snapshot (`Database::read_together`,
        // one SQLite read transaction): the header's unread count agrees with the letters below
        // it. The snapshot is this scope: it ends with the reads, before anything that writes.
        let (session, user, read) = self
            .db
            .read_together(async {
                let session = match parts.extensions.get::<SessionContext>() {
                    // The staff desk never reads nor shows a citizen's session.
                    _ if page == Page::Staff => None,
                    // Read by `auth::load_session` (a form's `POST`, the 404 page).
                    Some(session) => Some(session.clone()),
                    None if page_reads_session(&parts.method, parts.uri.path()) => {
                        find_session(&self.auth, &self.db, &parts.headers).await
                    }
                    None => None,
                };
                let user = load_current_user(&self.db, session.as_ref(), lang).await;
                let read = self
                    .read(page, &parts, session.as_ref(), lang, outcome)
                    .await;
                (session, user, read)
            })
            .await;
        let data = match read {
            Read::Page(data) => data,
            Read::OpenLetter(id, outcome) => {
                let letter = load_letter(&self.db, session.as_ref(), &id, lang, outcome).await;
                PageData::Letter(id, letter)
            }
        };
        self.render_html(parts, user, data).await
    }

    /// Reads what `page` shows (but a letter, which is opened after the snapshot).
    async fn read(
        &self,
        page: Page,
        parts: &Parts,
        session: Option<&SessionContext>,
        lang: &'static str,
        outcome: Option<FormOutcome>,
    ) -> Read {
        let db = &self.db;
        Read::Page(match page {
            Page::Home => PageData::Home(load_home(db, session, lang, self.staleness).await),
            Page::Accessibility => PageData::Accessibility,
            Page::Privacy => PageData::Privacy,
            Page::Login => PageData::Login,
            Page::LoginFailed => PageData::LoginFailed,
            Page::LoggedOut => PageData::LoggedOut,
            Page::NotFound => PageData::NotFound,
            Page::Mailbox => {
                let query = Query::<MailboxQuery>::try_from_uri(&parts.uri)
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                PageData::Mailbox(load_mailbox(db, session, query, lang).await)
            }
            Page::Folders => PageData::Folders(load_folders(db, session, outcome).await),
            Page::Activity => {
                let query = Query::<ActivityQuery>::try_from_uri(&parts.uri)
                    .map(|Query(query)| query)
                    .unwrap_or_default();
                let activity =
                    load_activity(db, session, query, lang, &self.providers, &self.agencies).await;
                PageData::Activity(activity)
            }
            Page::Contact(form) => {
                let contact = load_contact(db, session, lang, self.staleness, outcome).await;
                PageData::Contact(form, contact)
            }
            Page::Authority(form) => {
                let data = load_authority(db, session, lang, &self.authority, outcome).await;
                PageData::Authority(form, data)
            }
            Page::AuthorityChange(id) => {
                let data = load_authority(db, session, lang, &self.authority, outcome).await;
                PageData::AuthorityChange(id, data)
            }
            Page::ActFor => PageData::ActFor(
                app::routes::act_for::load_act_for(db, session, lang, outcome).await,
            ),
            Page::Letter(id) => return Read::OpenLetter(id, outcome),
            Page::Signing => {
                PageData::Signing(app::routes::signing::load_signing_list(db, session, lang).await)
            }
            Page::SigningJob(id) => {
                let job =
                    app::routes::signing::load_signing_job(db, session, &id, lang, outcome).await;
                PageData::SigningJob(id, job)
            }
            Page::Staff => PageData::Staff(self.staff_desk(&parts.headers).await),
        })
    }

    /// The staff desk: the municipalities, and the member of staff the request's staff cookie
    /// names (as the staff policy lets them see the desk).
    async fn staff_desk(&self, headers: &axum::http::HeaderMap) -> StaffDesk {
        use borgerportal::staff::{StaffPolicy, StaffRole, ViewStaffDesk};
        let Some(staff) = &self.staff else {
            return StaffDesk::default();
        };
        let session = crate::staff::find_staff_session(staff, &self.db, headers).await;
        let signed_in = session
            .and_then(|session| StaffPolicy::authorize::<ViewStaffDesk>(&session.member).ok())
            .map(|access| StaffView {
                name: access.member().name.clone(),
                municipality: staff.municipality_name(access.municipality()),
                role: match access.member().role {
                    StaffRole::Caseworker => StaffRoleView::Caseworker,
                    StaffRole::Supervisor => StaffRoleView::Supervisor,
                },
            });
        StaffDesk {
            municipalities: staff.choices(),
            signed_in,
        }
    }

    /// Leptos renders `page` for the request in `parts`, all at once: everything it shows
    /// was read before, so nothing in it waits (no resource, no `Suspense`).
    ///
    /// What Leptos' own axum integration would do for a request, minus what this app does
    /// not use: its router (axum has routed the request and [`Page::of`] chose the page), a
    /// render streamed as a chain of futures (here one `String`, sent with its length), and
    /// a copy of the request for the router's location.
    async fn render_html(&self, parts: Parts, user: CurrentUser, page: PageData) -> Response {
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
            app::shell(self.assets.clone(), user, page).to_html_with_buf(
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
        let page = Page::of(parts.uri.path());
        let mut response = self.show(parts, page, Some(outcome)).await;
        if response.status().is_success() {
            *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        }
        response
    }

    /// The 404 page, for something that is not there or not the person's (a resource the
    /// server serves itself, a form's target).
    pub(crate) async fn not_found(&self, parts: Parts) -> Response {
        self.show(parts, Page::NotFound, None).await
    }

    /// `message`'s page, shown instead of the one asked for, as `status` (never cached).
    pub(crate) async fn message(
        &self,
        parts: Parts,
        status: StatusCode,
        message: Message,
    ) -> Response {
        // After a failure the database may be what failed: the header then shows no one.
        let user = match parts.extensions.get::<SessionContext>() {
            Some(session) if message != Message::Error => {
                let lang = request_language(&parts.headers);
                let user = load_current_user(&self.db, Some(session), lang);
                self.db.read_together(user).await
            }
            _ => CurrentUser::default(),
        };
        let mut response = self
            .render_html(parts, user, PageData::Message(message))
            .await;
        *response.status_mut() = status;
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }

    /// As [`again`](PageRenderer::again), for another path (a form on one page whose errors
    /// show on another).
    pub(crate) async fn at(&self, mut parts: Parts, path: &str, outcome: FormOutcome) -> Response {
        match path.parse() {
            Ok(uri) => parts.uri = uri,
            Err(_) => return self.not_found(parts).await,
        }
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
