//! Borgerportal's user interface: the page shell, one module per route, shared components and
//! the translations. Rendered on the server (feature `ssr`) and hydrated in the browser (feature
//! `hydrate`) as Leptos islands: only the few interactive components are hydrated. Every page
//! must work before the WASM arrives and with JavaScript turned off, so forms post to real
//! endpoints and the islands only make things nicer.

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
pub mod request;
pub mod routes;
pub mod shell;
pub mod when;

pub use shell::{shell, App, AssetManifest};

/// The browser entry point, called by the loader in `shell.rs` before it hydrates the islands.
/// Only the islands (`#[island]`: the language switcher and the idle-timeout warning) are in
/// the WASM; every other component is rendered on the server alone.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    #[cfg(target_arch = "wasm32")]
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
