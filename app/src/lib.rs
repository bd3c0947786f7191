//! Borgerportal's user interface: the page shell, one module per route, shared components and
//! the translations. Rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`). Every page must work before the WASM arrives and with JavaScript turned off, so
//! forms post to real endpoints and hydration only makes things nicer.

#![recursion_limit = "256"]

/// The translations, generated at compile time from `locales/*.json`. (The macro is marked
/// deprecated in favour of a build script that generates the same module; it still works and
/// keeps the build simpler.)
#[allow(deprecated)]
mod translations {
    leptos_i18n::load_locales!();
}
pub use translations::i18n;

pub mod auth;
pub mod components;
pub mod error;
pub mod routes;
pub mod shell;

pub use shell::{shell, App, AssetManifest};

/// The browser entry point: attach to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    #[cfg(target_arch = "wasm32")]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // Lets the browser tests (and curious people) see that the page is interactive now.
    #[cfg(target_arch = "wasm32")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
