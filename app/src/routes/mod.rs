//! One module per page.

pub mod accessibility;
pub mod error;
pub mod home;
pub mod not_found;
pub mod privacy;
