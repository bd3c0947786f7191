//! The HTML document around every page, the page itself and its chrome (skip link, header,
//! language switcher, main landmark, footer).

use crate::auth::CurrentUser;
use crate::components::{
    acting::ActingBanner,
    idle_warning::IdleWarning,
    language_switcher::LanguageSwitcher,
    nav_link::{aria_current, NavLink},
    user_menu::UserMenu,
};
use crate::i18n::*;
use crate::routes::{
    accessibility::AccessibilityPage,
    act_for::ActForPage,
    activity::ActivityPage,
    authority::{AuthorityPage, ChangePage, GrantPage, RequestPage},
    contact::{
        ChangeEmailPage, ChangeMobilePage, ContactCheckPage, ContactLanguagePage, ContactPage,
        MailboxPage, ReservationPage, VerifyEmailPage, VerifyMobilePage,
    },
    error::{ErrorPage, MessagePage},
    home::HomePage,
    login::{LoggedOutPage, LoginFailedPage, LoginPage},
    not_found::NotFoundPage,
    post::{FoldersPage, LetterPage, PostPage},
    privacy::PrivacyPage,
    signing::{SigningJobPage, SigningListPage},
    staff::StaffPage,
    AuthorityForm, ContactForm, PageData,
};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Meta, MetaTags, Title};

/// The cookie that remembers the chosen language (leptos_i18n's default name).
pub const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

/// Per-request CSP nonce, put into the request's extensions by the server.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Names of the built, content-hashed assets (from the build's manifest), given to the shell
/// by the server. Read once at start: the page names them without touching the disk (Leptos'
/// `HydrationScripts` re-read the manifest on every request, 7 of the 10 system calls a page
/// made).
#[derive(Clone, Debug, Default)]
pub struct AssetManifest {
    /// Path of the stylesheet, e.g. `/pkg/borgerportal.3f2a….css`.
    pub stylesheet: String,
    /// Path of the wasm-bindgen JS glue, e.g. `/pkg/borgerportal.9c1d….js`.
    pub script: String,
    /// Path of the WASM, e.g. `/pkg/borgerportal.51e0….wasm`.
    pub wasm: String,
    /// The inline module that loads the glue and the WASM and starts hydration (built once
    /// from the two paths by [`AssetManifest::new`]).
    pub loader: String,
}

impl AssetManifest {
    /// The manifest for the stylesheet, JS glue and WASM at these paths.
    pub fn new(stylesheet: String, script: String, wasm: String) -> Self {
        let loader = ISLANDS_LOADER
            .replace("SCRIPT", &format!("{script:?}"))
            .replace("WASM", &format!("{wasm:?}"));
        Self {
            stylesheet,
            script,
            wasm,
            loader,
        }
    }
}

/// Loads the JS glue and the WASM, then hydrates every island (`<leptos-island>`) in the page,
/// as Leptos' own islands script does but at once rather than when the browser is idle, and
/// marks `<html data-hydrated>` when done (the browser tests wait for it). The language
/// switcher calls `__borgerportalIslands` again after it put a new page body in place.
/// `SCRIPT` and `WASM` become the quoted paths (hex hashes: nothing to escape).
const ISLANDS_LOADER: &str = r#"import(SCRIPT).then(async (mod) => {
  await mod.default({ module_or_path: WASM });
  mod.hydrate();
  const stack = [];
  const walk = async (node) => {
    if (node.nodeType !== Node.ELEMENT_NODE) return;
    const tag = node.tagName.toLowerCase();
    if (tag === 'leptos-island') {
      const island = mod[node.dataset.component];
      if (island) {
        stack[stack.length - 1]?.();
        await island(node);
      } else {
        console.warn(`the module has no function for the island ${node.dataset.component}`);
      }
    } else if (tag === 'leptos-children') {
      stack.push(node.$$on_hydrate);
      for (const child of node.children) await walk(child);
      stack.pop();
      return;
    }
    for (const child of node.children) await walk(child);
  };
  window.__borgerportalIslands = walk;
  await walk(document.body);
  document.documentElement.setAttribute('data-hydrated', 'true');
});"#;

/// The whole HTML document for `page`, with what the server read for it, for `user` (the
/// logged-in citizen, if any), rendered on the server (the browser hydrates only the islands in
/// it). The server provides the request's `Parts` and leptos_meta's context first.
pub fn shell(
    assets: std::sync::Arc<AssetManifest>,
    user: CurrentUser,
    page: PageData,
) -> impl IntoView {
    #[cfg(feature = "ssr")]
    provide_request_nonce();
    #[cfg(feature = "ssr")]
    provide_server_i18n();
    provide_meta_context();
    let locale = use_i18n().get_locale_untracked();
    // Islands: the page is plain HTML apart from the islands, so no hydration markers outside
    // them (as Leptos' `HydrationScripts` does in islands mode).
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let nonce = leptos::nonce::use_nonce();
    // All four languages are written left to right. (leptos_i18n's `direction()` gives `auto`
    // for bokmål and nynorsk, which its locale data does not know, and `ltr` for the others.)
    view! {
        <!DOCTYPE html>
        <html lang=locale.as_str() dir="ltr">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=assets.stylesheet.clone() />
                // The hydration tags, as Leptos' `HydrationScripts` writes them in islands
                // mode, from names read once at start.
                <link rel="modulepreload" href=assets.script.clone() crossorigin="anonymous" />
                <link
                    rel="preload"
                    href=assets.wasm.clone()
                    r#as="fetch"
                    r#type="application/wasm"
                    crossorigin="anonymous"
                />
                <script type="module" nonce=nonce>
                    {assets.loader.clone()}
                </script>
                <MetaTags />
            </head>
            <body>
                <App user page />
            </body>
        </html>
    }
}

/// The translation context for a server render (what `use_i18n` finds), in the language the
/// server chose for the request: its language middleware leaves that one language in
/// `Accept-Language` (after the cookie and the browser's wishes), and the page, `<html lang>`
/// and the server's own pages agree on it. Read in place from the request; leptos_i18n's own
/// cookie handling is off, since the cookie is set only by `POST /language`.
///
/// The context is made in a child owner whose effects never run. Why: leptos_i18n's context
/// keeps its cookie signal in step through an isomorphic effect (also with the cookie off),
/// which on the server is a spawned task. Under load that task can first run after the render
/// finished and the request's reactive owner was disposed; reading the disposed locale signal
/// then panics ("Tried to access a reactive value that has already been disposed", seen about
/// once in 100,000 renders, with a backtrace written to the log each time). On the server the
/// effect has nothing to do: the language was decided from the request before the render, and
/// the cookie is set only by `POST /language`. A paused owner skips its effects; the child
/// owner lives as long as the render's owner.
#[cfg(feature = "ssr")]
fn provide_server_i18n() {
    let Some(owner) = Owner::current() else {
        return;
    };
    let i18n_owner = owner.child();
    let language = || {
        with_context::<http::request::Parts, _>(|parts| {
            parts
                .headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
        .flatten()
    };
    let options = leptos_i18n::context::I18nContextOptions::<Locale>::default()
        .enable_cookie(false)
        .ssr_lang_header_getter(
            leptos_i18n::context::UseLocalesOptions::default().ssr_lang_header_getter(language),
        );
    let context =
        i18n_owner.with(|| leptos_i18n::context::init_i18n_context_with_options::<Locale>(options));
    i18n_owner.pause();
    provide_context(context);
    on_cleanup(move || drop(i18n_owner));
}

/// Read the nonce the security middleware chose for this response and provide it to Leptos, so
/// that the hydration script and streaming scripts carry it.
#[cfg(feature = "ssr")]
fn provide_request_nonce() {
    if let Some(CspNonce(nonce)) = crate::request::extension::<CspNonce>() {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// The page inside its chrome, for `user` (the header and the idle warning show them). The
/// staff desk has the staff's own header, and never a citizen's.
#[component]
pub fn App(user: CurrentUser, page: PageData) -> impl IntoView {
    let staff = matches!(page, PageData::Staff(_));
    provide_context(if staff { CurrentUser::default() } else { user });
    view! { <Chrome staff>{page_view(page)}</Chrome> }
}

/// The view of a page, given the data read for it.
fn page_view(page: PageData) -> AnyView {
    match page {
        PageData::Home(data) => view! { <HomePage data /> }.into_any(),
        PageData::Accessibility => view! { <AccessibilityPage /> }.into_any(),
        PageData::Privacy => view! { <PrivacyPage /> }.into_any(),
        PageData::Login => view! { <LoginPage /> }.into_any(),
        PageData::LoginFailed => view! { <LoginFailedPage /> }.into_any(),
        PageData::LoggedOut => view! { <LoggedOutPage /> }.into_any(),
        PageData::Activity(data) => view! { <ActivityPage data /> }.into_any(),
        PageData::Contact(form, data) => match form {
            ContactForm::Overview => view! { <ContactPage data /> }.into_any(),
            ContactForm::Email => view! { <ChangeEmailPage data /> }.into_any(),
            ContactForm::Mobile => view! { <ChangeMobilePage data /> }.into_any(),
            ContactForm::VerifyEmail => view! { <VerifyEmailPage data /> }.into_any(),
            ContactForm::VerifyMobile => view! { <VerifyMobilePage data /> }.into_any(),
            ContactForm::Reservation => view! { <ReservationPage data /> }.into_any(),
            ContactForm::Mailbox => view! { <MailboxPage data /> }.into_any(),
            ContactForm::Language => view! { <ContactLanguagePage data /> }.into_any(),
            ContactForm::Check => view! { <ContactCheckPage data /> }.into_any(),
        },
        PageData::Authority(form, data) => match form {
            AuthorityForm::Overview => view! { <AuthorityPage data /> }.into_any(),
            AuthorityForm::Grant => view! { <GrantPage data /> }.into_any(),
            AuthorityForm::Request => view! { <RequestPage data /> }.into_any(),
        },
        PageData::AuthorityChange(id, data) => view! { <ChangePage id data /> }.into_any(),
        PageData::ActFor(data) => view! { <ActForPage data /> }.into_any(),
        PageData::Mailbox(data) => view! { <PostPage data /> }.into_any(),
        PageData::Folders(data) => view! { <FoldersPage data /> }.into_any(),
        PageData::Letter(id, data) => view! { <LetterPage id data /> }.into_any(),
        PageData::Signing(data) => view! { <SigningListPage data /> }.into_any(),
        PageData::SigningJob(id, data) => view! { <SigningJobPage id data /> }.into_any(),
        PageData::Staff(data) => view! { <StaffPage data /> }.into_any(),
        PageData::NotFound => view! { <NotFoundPage /> }.into_any(),
        PageData::Message(message) => view! { <MessagePage message /> }.into_any(),
    }
}

/// Skip link, header, main landmark and footer around every page. `staff`: the staff desk's
/// header (its name, the language; no citizen's menu, banner or idle warning).
#[component]
fn Chrome(staff: bool, children: Children) -> impl IntoView {
    let i18n = use_i18n();
    // Head texts are read when `<MetaTags/>` renders, possibly after this component's reactive
    // owner is gone (under load that panicked), so they are plain strings taken now.
    let app_name = t_string!(i18n, app_name);
    let error_prefix = t_string!(i18n, form.error_prefix);
    let refused = crate::components::form::FormRefused::default();
    provide_context(refused.clone());
    view! {
        <Title formatter=move |page: String| {
            let title = if page.is_empty() {
                app_name.to_string()
            } else {
                format!("{page} – {app_name}")
            };
            if refused.is_set() { format!("{error_prefix} {title}") } else { title }
        } />
        <Meta name="description" content=t_string!(i18n, tagline) />
        <a class="skip-link" href="#main">
            {t_string!(i18n, skip_to_content)}
        </a>
        {if staff {
            view! {
                <header class="site-header staff-header">
                    <div class="page-width header-inner">
                        <a href="/staff" class="brand" aria-current=aria_current("/staff", true)>
                            <span class="brand-mark" aria-hidden="true"></span>
                            <span class="brand-name">{t_string!(i18n, staff.header)}</span>
                        </a>
                        <div class="header-tools">
                            <LanguageSwitcher />
                        </div>
                    </div>
                </header>
            }
                .into_any()
        } else {
            view! {
                <header class="site-header">
                    <div class="page-width header-inner">
                        <a href="/" class="brand" aria-current=aria_current("/", true)>
                            <span class="brand-mark" aria-hidden="true"></span>
                            <span class="brand-name">{app_name}</span>
                        </a>
                        // On a phone the language and the menu fold into one control (a
                        // disclosure, so it works without JavaScript); on a wide screen they are
                        // shown as they are.
                        <details class="header-menu">
                            <summary class="button button-secondary">
                                {t_string!(i18n, header_menu)}
                            </summary>
                            <div class="header-menu-body">
                                <LanguageSwitcher />
                                <UserMenu />
                            </div>
                        </details>
                    </div>
                </header>
                {crate::auth::use_current_user()
                    .and_then(|user| user.acting_for)
                    .map(|acting| view! { <ActingBanner acting /> })}
                <IdleWarning />
            }
                .into_any()
        }}
        <main id="main" class="page-width main" tabindex="-1">
            <ErrorBoundary fallback=|_errors| view! { <ErrorPage /> }>{children()}</ErrorBoundary>
        </main>
        <footer class="site-footer">
            <div class="page-width">
                <nav aria-label=t_string!(i18n, footer.label)>
                    <ul class="footer-links">
                        <li>
                            <NavLink href="/accessibility">
                                {t_string!(i18n, footer.accessibility)}
                            </NavLink>
                        </li>
                        <li>
                            <NavLink href="/privacy">{t_string!(i18n, footer.privacy)}</NavLink>
                        </li>
                    </ul>
                </nav>
                <p class="footer-operator">{t_string!(i18n, footer.operator)}</p>
            </div>
        </footer>
    }
}
