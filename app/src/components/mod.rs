//! Reusable pieces of the page chrome.

pub mod idle_warning;
pub mod language_switcher;
pub mod user_menu;
