//! A build without the `dev` feature (the production build) refuses what only a development
//! build holds: asked by its configuration for the test eID or the demo data, or asked to
//! generate data, the binary says why and exits with a failure before it starts anything, and
//! `AppState::new` refuses the same configuration.
//!
//! These tests run only without the feature (`cargo xtask test` runs this file so, after the
//! suite with it); built with `dev`, the file is empty.
#![cfg(not(feature = "dev"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The portal binary (built without `dev`, like this test) with only `variables` as its
/// configuration, its data directory under `dir`.
fn portal(dir: &Path, variables: &[(&str, &str)], args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_borgerportal"));
    // The test's own BORGERPORTAL_TEST_* variables would be read as (unknown) configuration.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("BORGERPORTAL_") {
            command.env_remove(name);
        }
    }
    command
        .env("BORGERPORTAL_DATA_DIR", dir.join("data"))
        .env("BORGERPORTAL_SITE_ROOT", dir.join("site"))
        .env("BORGERPORTAL_LISTEN", "127.0.0.1:0")
        .envs(variables.iter().copied())
        .args(args)
        .output()
        .unwrap()
}

/// The binary failed, said `expected` on stderr, and made no data directory (nothing started).
fn assert_refused(dir: &Path, output: &Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "it started: {stderr}");
    assert!(stderr.contains("refusing to start"), "{stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(
        stderr.contains("built without it") && stderr.contains("`dev` cargo feature"),
        "{stderr}"
    );
    assert!(!dir.join("data").exists(), "the data directory was made");
}

#[test]
fn the_binary_refuses_the_test_eid() {
    let dir = tempfile::tempdir().unwrap();
    let output = portal(
        dir.path(),
        &[("BORGERPORTAL_TEST_EID__ENABLED", "true")],
        &[],
    );
    assert_refused(dir.path(), &output, "the built-in test eID");
}

#[test]
fn the_binary_refuses_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let output = portal(dir.path(), &[("BORGERPORTAL_DEMO_DATA", "true")], &[]);
    assert_refused(dir.path(), &output, "the demo data");
}

#[test]
fn the_binary_refuses_to_generate_data() {
    let dir = tempfile::tempdir().unwrap();
    let output = portal(dir.path(), &[], &["generate-data", "--persons", "10"]);
    assert_refused(dir.path(), &output, "the data generator");
}

#[tokio::test]
async fn the_app_state_refuses_the_test_eid() {
    let dir = tempfile::tempdir().unwrap();
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("hash.txt"), "js: aaaa\nwasm: bbbb\ncss: cccc\n").unwrap();
    let config = server::config::Config::from_toml(&format!(
        "data_dir = '{}'\n[test_eid]\nenabled = true\n",
        dir.path().join("data").display()
    ))
    .unwrap();
    let db = borgerportal::storage::Database::connect(&format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("t.db").display()
    ))
    .await
    .unwrap();
    let refused = server::AppState::new(&config, server::Site::load(&site).unwrap(), db)
        .err()
        .expect("refused");
    assert!(matches!(refused, server::StartupError::DevOnly(_)));
    assert!(refused.to_string().contains("the built-in test eID"));
}
