//! The translation files: every key exists in every language (nb, nn, da, en), no text is
//! empty, and every key is used somewhere (so a removed page does not leave texts behind).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;
use std::{collections::BTreeMap, path::Path};

const LANGUAGES: [&str; 4] = ["nb", "nn", "da", "en"];

fn locales_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../locales"))
}

/// Dotted key → text.
fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        Value::String(text) => {
            out.insert(prefix.to_owned(), text.clone());
        }
        other => panic!("{prefix}: translations must be strings, found {other}"),
    }
}

fn load(lang: &str) -> BTreeMap<String, String> {
    let path = locales_dir().join(format!("{lang}.json"));
    let text = std::fs::read_to_string(&path).unwrap();
    let value: Value = serde_json::from_str(&text).unwrap();
    let mut out = BTreeMap::new();
    flatten("", &value, &mut out);
    out
}

#[test]
fn every_language_has_every_key() {
    let reference = load("en");
    assert!(reference.len() > 20, "the English file looks truncated");
    for lang in LANGUAGES {
        let texts = load(lang);
        let missing: Vec<_> = reference
            .keys()
            .filter(|k| !texts.contains_key(*k))
            .collect();
        let extra: Vec<_> = texts
            .keys()
            .filter(|k| !reference.contains_key(*k))
            .collect();
        assert!(missing.is_empty(), "{lang} is missing {missing:?}");
        assert!(
            extra.is_empty(),
            "{lang} has keys no other language has: {extra:?}"
        );
        let empty: Vec<_> = texts.iter().filter(|(_, t)| t.trim().is_empty()).collect();
        assert!(empty.is_empty(), "{lang} has empty texts: {empty:?}");
    }
}

#[test]
fn the_languages_are_really_translated() {
    // Product and language names are the same everywhere; most texts must differ.
    let english = load("en");
    for lang in ["nb", "nn", "da"] {
        let texts = load(lang);
        let same = english
            .iter()
            .filter(|(k, t)| texts.get(*k) == Some(t))
            .count();
        assert!(
            same * 4 < english.len(),
            "{lang}: {same} of {} texts are identical to English",
            english.len()
        );
    }
}

fn source_text() -> String {
    let mut text = String::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in [root.join("src"), root.join("../server/src")] {
        collect(&dir, &mut text);
    }
    text
}

fn collect(dir: &Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
}

#[test]
fn every_key_is_used() {
    let source = source_text();
    let unused: Vec<_> = load("en")
        .into_keys()
        .filter(|key| {
            let macro_use = format!("i18n, {key}");
            let quoted = format!("\"{key}\"");
            !source.contains(&macro_use) && !source.contains(&quoted)
        })
        .collect();
    assert!(
        unused.is_empty(),
        "translation keys no code uses: {unused:?}"
    );
}
