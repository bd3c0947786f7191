//! Reusable pieces of the page chrome.

pub mod language_switcher;
