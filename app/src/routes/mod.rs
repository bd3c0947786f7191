//! One module per page.

pub mod accessibility;
pub mod activity;
pub mod contact;
pub mod error;
pub mod home;
pub mod login;
pub mod not_found;
pub mod post;
pub mod privacy;
