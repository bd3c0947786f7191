//! Rebuild when a translation changes: `leptos_i18n::load_locales!` reads `/locales` at compile
//! time, and a proc macro's reads are not tracked by cargo on their own.
fn main() {
    println!("cargo:rerun-if-changed=../locales");
    println!("cargo:rerun-if-changed=Cargo.toml");
}
