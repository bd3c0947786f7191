//! Reusable pieces of the page chrome.

pub mod idle_warning;
pub mod language_switcher;
pub mod nav_link;
pub mod user_menu;
