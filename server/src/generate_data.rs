//! `borgerportal generate-data`: fills the configured database with synthetic volume for the
//! benchmarks (persons, contact entries, millions of letters, named persons with exact
//! mailbox sizes), through the domain crate's generator (`Database::generate_data`), after
//! applying the migrations as the server does (SQLite or PostgreSQL, as configured).
//!
//! ```text
//! borgerportal generate-data [--persons 100000] [--letters 5000000] [--big 10000]
//!                            [--seed 1] [--named-out FILE]
//! ```
//!
//! The named persons get exactly 10, 1,000 and `--big` letters. Their national ids (synthetic
//! numbers, but national ids all the same) are written to `--named-out` (default
//! `<data_dir>/named-persons.tsv`: letters, unread, national id per line), and a sample of
//! up to 1,000 other recipients of digital post to `<data_dir>/sample-persons.txt` (for the
//! delivery benchmark), never to the terminal or a log.

use std::io::Write as _;
use std::time::Instant;

use borgerportal::storage::{Database, GeneratePlan};
use secrecy::ExposeSecret as _;

use crate::config::Config;

/// The options, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub persons: u32,
    pub letters: u64,
    pub big: u32,
    pub seed: u64,
    pub named_out: Option<std::path::PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            persons: 100_000,
            letters: 5_000_000,
            big: 10_000,
            seed: 1,
            named_out: None,
        }
    }
}

/// Reads `--name value` pairs.
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(name) = args.next() {
        let value = args.next().ok_or_else(|| format!("{name} needs a value"))?;
        let number = || {
            value
                .replace(['_', ','], "")
                .parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {value}"))
        };
        let small = |n: u64| u32::try_from(n).map_err(|_| format!("{name}: too large"));
        match name.as_str() {
            "--persons" => options.persons = small(number()?)?,
            "--letters" => options.letters = number()?,
            "--big" => options.big = small(number()?)?,
            "--seed" => options.seed = number()?,
            "--named-out" => options.named_out = Some(value.into()),
            _ => return Err(format!("unknown option {name}")),
        }
    }
    Ok(options)
}

/// Runs the generator against the configured database.
pub async fn run(config: &Config, options: Options) -> Result<(), String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| e.to_string())?;
    let db = Database::connect(config.effective_database_url().expose_secret())
        .await
        .map_err(|e| e.to_string())?;
    db.migrate().await.map_err(|e| e.to_string())?;
    let plan = GeneratePlan {
        persons: options.persons,
        letters: options.letters,
        named: vec![10, 1_000, options.big],
        seed: options.seed,
        now: time::OffsetDateTime::now_utc(),
    };
    println!(
        "generate-data: {} persons, {} letters (named persons with 10, 1000 and {} letters)",
        plan.persons, plan.letters, options.big
    );
    let started = Instant::now();
    let mut last = Instant::now();
    let report = db
        .generate_data(&plan, |done| {
            if last.elapsed().as_secs() >= 10 || done == plan.letters {
                let seconds = started.elapsed().as_secs_f64();
                println!(
                    "  {done} letters in {seconds:.0} s ({:.0} letters/s)",
                    done as f64 / seconds.max(0.001)
                );
                last = Instant::now();
            }
        })
        .await
        .map_err(|e| e.to_string())?;
    db.close().await;
    let named_out = options
        .named_out
        .unwrap_or_else(|| config.data_dir.join("named-persons.tsv"));
    let mut file =
        std::fs::File::create(&named_out).map_err(|e| format!("{}: {e}", named_out.display()))?;
    for named in &report.named {
        writeln!(
            file,
            "{}\t{}\t{}",
            named.letters,
            named.unread,
            named.national_id.expose()
        )
        .map_err(|e| e.to_string())?;
    }
    let sample_out = config.data_dir.join("sample-persons.txt");
    let sample: Vec<&str> = report.sample.iter().map(|id| id.expose()).collect();
    std::fs::write(&sample_out, sample.join("\n") + "\n")
        .map_err(|e| format!("{}: {e}", sample_out.display()))?;
    println!(
        "generate-data: {} persons, {} letters ({} on paper, {} attachments) in {:.1} s; \
         named persons in {}",
        report.persons,
        report.letters,
        report.paper,
        report.attachments,
        report.elapsed.as_secs_f64(),
        named_out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn options_are_read_with_defaults() {
        let args: Vec<String> = ["--letters", "5_000", "--big", "100"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let options = parse(&args).unwrap();
        assert_eq!(options.letters, 5_000);
        assert_eq!(options.big, 100);
        assert_eq!(options.persons, 100_000);
        assert!(parse(&["--persons".to_string()]).is_err());
        assert!(parse(&["--what".to_string(), "1".to_string()]).is_err());
    }
}
