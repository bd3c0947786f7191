//! `cargo xtask bench`: measured, not asserted. (Filled in below.)

use crate::util::Result;

pub fn run() -> Result<()> {
    Err("bench: not yet".into())
}
