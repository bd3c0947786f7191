//! Reusable pieces of the page chrome and of the pages' forms.

pub mod acting;
pub mod form;
pub mod idle_warning;
pub mod language_switcher;
pub mod nav_link;
pub mod user_menu;
