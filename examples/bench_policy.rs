//! The access policy's cost for a helper who holds 1,000 delegations, beside one who holds one
//! (issue 20: "report the policy decision's cost with 1,000 delegations held by one person").
//! Run by `cargo xtask bench-policy` (release build); measured, never asserted.
//!
//! On each database (SQLite in a temporary folder; PostgreSQL when `BENCH_POLICY_POSTGRES_URL`
//! names a server, in a throwaway database dropped afterwards): 1,001 givers each give the
//! *busy* helper a delegation to read their post, and the first giver also gives one to the
//! *single* helper. Then, alternating between the two helpers in rounds so that both see the
//! same machine:
//! - **decide**: what every request of a helper acting for someone asks,
//!   `Database::decide_access::<ReadPost>` (the pair's authority facts read from the register,
//!   then `Policy::decide`);
//! - **header**: `Database::may_act_for` (whether the header offers "act for someone"), read on
//!   every page of a person who holds authority;
//! - **chooser**: `Database::persons_to_act_for`, the "act for whom" list (1,000 names for the
//!   busy helper: it grows with what one holds, by design).
//!
//! `BENCH_POLICY_ITERATIONS` (default 20,000) decisions per helper and database.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use borgerportal::delegation::{DelegationRules, Scope, ScopeGrant};
use borgerportal::storage::Database;
use borgerportal::{
    Access, Actor, GrantAuthority, Language, Loa, ManageAuthority, NationalId, NewPerson, Person,
    Policy, ReadPost,
};
use sqlx::Connection as _;
use time::{Date, Month, OffsetDateTime};

/// Delegations the busy helper holds.
const HELD: usize = 1000;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let iterations: usize = std::env::var("BENCH_POLICY_ITERATIONS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let folder = tempfile::tempdir().expect("a temporary folder");
    let sqlite = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("policy.db").display()
    );
    println!("| database | operation | helper holds | mean µs | p50 µs | p99 µs | busy / single |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    measure("SQLite", &sqlite, iterations).await;
    if let Ok(server) = std::env::var("BENCH_POLICY_POSTGRES_URL") {
        let name = format!("bench_policy_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .expect("PostgreSQL answers");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("a throwaway database");
        let (base, _) = server.rsplit_once('/').expect("a PostgreSQL URL");
        measure("PostgreSQL", &format!("{base}/{name}"), iterations).await;
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("the throwaway database dropped");
    }
}

/// A synthetic Norwegian number, distinct per `n`.
fn national_id(n: usize) -> NationalId {
    let first = Date::from_calendar_date(1960, Month::January, 1).expect("a date");
    (0..)
        .map(|step| {
            (
                first + time::Duration::days((n * 7 + step / 900) as i64),
                step % 900,
            )
        })
        .find_map(|(born, individual)| {
            NationalId::new_synthetic_norwegian(born, (individual + 100) as u16).ok()
        })
        .expect("a valid number")
}

fn own<C: borgerportal::access::Capability>(person: &Person) -> Access<C> {
    let actor = Actor::Citizen {
        person: person.id,
        loa: Loa::High,
    };
    Policy::authorize::<C>(&actor, person.id).expect("one's own data")
}

async fn measure(database: &str, url: &str, iterations: usize) {
    let db = Database::connect(url).await.expect("the database opens");
    db.migrate().await.expect("migrations");
    let now = OffsetDateTime::now_utc();
    let person = |n: usize, given: &str| {
        NewPerson::new(national_id(n), given, format!("Person {n}"), Language::Nb)
    };
    let single = db
        .create_person(person(0, "Single"))
        .await
        .expect("a person");
    let busy = db.create_person(person(1, "Busy")).await.expect("a person");
    let rules = DelegationRules::default();
    let scopes = [ScopeGrant {
        scope: Scope::ReadPost,
        ends_on: now.date() + time::Duration::days(300),
    }];
    let setup = Instant::now();
    let mut first_giver = None;
    for n in 0..HELD {
        let giver = db
            .create_person(person(n + 2, "Giver"))
            .await
            .expect("a giver");
        db.grant_delegation(
            &own::<GrantAuthority>(&giver),
            busy.id,
            &scopes,
            &rules,
            now,
        )
        .await
        .expect("a delegation to the busy helper");
        first_giver.get_or_insert(giver);
    }
    let giver = first_giver.expect("a giver");
    db.grant_delegation(
        &own::<GrantAuthority>(&giver),
        single.id,
        &scopes,
        &rules,
        now,
    )
    .await
    .expect("a delegation to the single helper");
    eprintln!(
        "{database}: {} delegations granted in {:.1} s",
        HELD + 1,
        setup.elapsed().as_secs_f64()
    );

    let helpers = [(&single, 1usize), (&busy, HELD)];
    let mut decide: [Vec<Duration>; 2] = Default::default();
    let mut header: [Vec<Duration>; 2] = Default::default();
    let mut chooser: [Vec<Duration>; 2] = Default::default();
    let rounds = 20;
    for _ in 0..rounds {
        for (which, (helper, _)) in helpers.iter().enumerate() {
            let actor = Actor::Citizen {
                person: helper.id,
                loa: Loa::Substantial,
            };
            for _ in 0..iterations / rounds {
                let started = Instant::now();
                let decided = db
                    .decide_access::<ReadPost>(&actor, giver.id, now)
                    .await
                    .expect("the register answers");
                decide[which].push(started.elapsed());
                assert!(decided.is_ok(), "the helper may read the giver's post");
                let started = Instant::now();
                let offered = db.may_act_for(helper.id, now).await.expect("answers");
                header[which].push(started.elapsed());
                assert!(offered);
            }
            for _ in 0..(iterations / rounds / 100).max(1) {
                let started = Instant::now();
                let list = db
                    .persons_to_act_for(&own::<ManageAuthority>(helper), now)
                    .await
                    .expect("answers");
                chooser[which].push(started.elapsed());
                assert_eq!(list.len(), helpers[which].1);
            }
        }
    }
    for (operation, samples) in [
        ("decide (ReadPost, acting)", &mut decide),
        ("header (may act for)", &mut header),
        ("chooser (persons to act for)", &mut chooser),
    ] {
        let single_mean = mean(&samples[0]);
        for (which, (_, held)) in helpers.iter().enumerate() {
            let stats = &mut samples[which];
            stats.sort();
            let ratio = if which == 1 {
                format!("{:.2}", mean(stats) / single_mean)
            } else {
                String::new()
            };
            println!(
                "| {database} | {operation} | {held} | {:.1} | {:.1} | {:.1} | {ratio} |",
                mean(stats),
                micros(stats[stats.len() / 2]),
                micros(stats[stats.len() * 99 / 100]),
            );
        }
    }
    db.close().await;
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn mean(samples: &[Duration]) -> f64 {
    samples.iter().map(|d| micros(*d)).sum::<f64>() / samples.len() as f64
}
