//! `bench-post`'s inbox part: `GET /post` (first page of 20, logged in) under `wrk -t2 -c64`,
//! on SQLite and on PostgreSQL in the same run.
//!
//! Both portals run side by side on the same generated population (20,000 persons, 300,000
//! letters, named persons with 10, 1,000 and 10,000 letters; `XTASK_BENCH_INBOX_DATA` gives
//! SQLite a data directory made earlier by `borgerportal generate-data`, PostgreSQL then still
//! gets its own generated here), each named person is logged in on both through the built-in
//! test eID, and the runs alternate: the 10-letter inbox on SQLite, then on PostgreSQL, then
//! the next mailbox. The 1,000-letter inbox is measured a second time as read by a helper: the
//! 1,000-letter person gives the 10-letter person authority to read post (`/authority/grant`
//! at `high`), and the helper chooses to act for them (`/act-for`), so every page asks the
//! policy over the register (issue 20's target: at least 90 % of the owner's rate, same run,
//! same database). Last, the static ceiling: the 10-letter page's bytes from memory.
//!
//! PostgreSQL is the server `XTASK_BENCH_POSTGRES_URL` names (default the local one), in a
//! throwaway database dropped afterwards; `none`, or `postgres` left out of
//! `XTASK_BENCH_POST_PARTS`, measures SQLite alone.

use crate::harness::http;
use crate::harness::machine::wait_for_quiet;
use crate::harness::pass;
use crate::harness::portal::{
    generate, login, login_at, named_persons, start_portal, write_config,
};
use crate::harness::server::{start_ceiling, Server};
use crate::harness::wrk::{load, Load};
use crate::site;
use crate::util::{free_port, output, Result};
use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// Target: inbox requests per second on SQLite, and p99 below this many milliseconds.
const INBOX_TARGET: f64 = 15_000.0;
const INBOX_P99_TARGET_MS: f64 = 10.0;
/// Target: the inbox on PostgreSQL reaches this share of SQLite's rate in the same run.
const POSTGRES_SHARE_TARGET: f64 = 0.5;
/// Target: a helper reading someone's inbox reaches this share of the owner's rate.
const HELPER_SHARE_TARGET: f64 = 0.9;
/// The mailbox a helper reads (the named person with this many letters gives the authority).
const HELPER_MAILBOX: u32 = 1000;

/// The generated population, as `generate-data` takes it.
const GENERATE: [&str; 6] = [
    "--persons",
    "20000",
    "--letters",
    "300000",
    "--big",
    "10000",
];

pub struct InboxRun {
    database: &'static str,
    letters: u32,
    /// Read by a helper acting for the owner, not by the owner.
    by_helper: bool,
    load: Load,
    page_bytes: usize,
}

pub struct Inbox {
    data: String,
    postgres: std::result::Result<(), String>,
    runs: Vec<InboxRun>,
    ceiling: Load,
}

/// One portal under load: which database, where, and its logged-in named persons.
struct Subject {
    database: &'static str,
    host: String,
    portal: Server,
    /// (letters, session cookie)
    sessions: Vec<(u32, String)>,
    /// A helper's session acting for the [`HELPER_MAILBOX`] person.
    helper: Option<String>,
}

/// A throwaway PostgreSQL database, dropped when this goes.
struct ThrowawayDatabase {
    server: String,
    name: String,
}

impl ThrowawayDatabase {
    fn create(server: &str) -> Result<(ThrowawayDatabase, String)> {
        let name = format!("bench_inbox_{}", std::process::id());
        psql(
            server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )?;
        psql(server, &format!("CREATE DATABASE {name}"))?;
        let (base, _) = server.rsplit_once('/').ok_or("bad PostgreSQL URL")?;
        let url = format!("{base}/{name}");
        let database = ThrowawayDatabase {
            server: server.to_owned(),
            name,
        };
        Ok((database, url))
    }
}

impl Drop for ThrowawayDatabase {
    fn drop(&mut self) {
        let dropped = psql(
            &self.server,
            &format!("DROP DATABASE {} WITH (FORCE)", self.name),
        );
        if let Err(error) = dropped {
            println!("  WARNING: could not drop {}: {error}", self.name);
        }
    }
}

fn psql(server: &str, sql: &str) -> Result<String> {
    output(Command::new("psql").args([server, "-X", "-A", "-t", "-c", sql]))
}

/// Logs every named person in on `portal` and checks their inbox answers.
fn log_in(
    database: &'static str,
    host: String,
    mut portal: Server,
    named: &[(u32, String)],
    first_page: &mut Option<Vec<u8>>,
) -> Result<Subject> {
    let mut sessions = Vec::new();
    for (letters, national_id) in named {
        let cookie = login(&host, national_id).map_err(|e| portal.failed(e))?;
        let page = http::request(&host, "GET", "/post", &[("Cookie", &cookie)], "")
            .map_err(|e| portal.failed(e))?;
        if page.status != 200 {
            return Err(portal.failed(format!(
                "GET /post as the {letters}-letter person on {database}: {}",
                page.status
            )));
        }
        first_page.get_or_insert_with(|| page.body.clone());
        sessions.push((*letters, cookie));
    }
    let helper = act_for(&host, named).map_err(|e| portal.failed(e))?;
    Ok(Subject {
        database,
        host,
        portal,
        sessions,
        helper,
    })
}

/// The [`HELPER_MAILBOX`] person grants the person with the fewest letters authority to read
/// post (logged in at `high`, as granting needs), and that helper, logged in, chooses to act
/// for them: the helper's session cookie. `None` without two named persons.
fn act_for(host: &str, named: &[(u32, String)]) -> Result<Option<String>> {
    let Some((_, giver)) = named.iter().find(|(letters, _)| *letters == HELPER_MAILBOX) else {
        return Ok(None);
    };
    let Some((_, holder)) = named.iter().min_by_key(|(letters, _)| *letters) else {
        return Ok(None);
    };
    if giver == holder {
        return Ok(None);
    }
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    // Logging in gives the test eID's name to everyone it logs in.
    let giver_cookie = login_at(host, giver, "high")?;
    let helper_cookie = login(host, holder)?;
    let year = 1970
        + std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs()
            / 31_556_952;
    let body = format!(
        "national_id={holder}&name=Test+Testesen&scope=post.read&ends_on={}-06-30",
        year + 1
    );
    let headers = [form[0], ("Cookie", giver_cookie.as_str())];
    let granted = http::request(host, "POST", "/authority/grant", &headers, &body)?;
    if granted.status != 303 {
        return Err(format!("POST /authority/grant: {}", granted.status));
    }
    let helper = [("Cookie", helper_cookie.as_str())];
    let home = http::request(host, "GET", "/", &helper, "")?;
    let text = String::from_utf8_lossy(&home.body);
    let giver_id = text
        .split("id=\"person-")
        .skip(1)
        .find(|rest| !rest.starts_with("me\""))
        .and_then(|rest| rest.split("value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .ok_or("the helper's home page offers no one to act for")?
        .to_owned();
    let headers = [form[0], helper[0]];
    let body = format!("person={giver_id}&return_to=/post");
    let chosen = http::request(host, "POST", "/act-for", &headers, &body)?;
    if chosen.status != 303 {
        return Err(format!("POST /act-for: {}", chosen.status));
    }
    let page = http::request(host, "GET", "/post", &helper, "")?;
    let text = String::from_utf8_lossy(&page.body);
    if page.status != 200 || !text.contains("acting-banner") {
        return Err(format!(
            "GET /post as the helper: {} without the banner",
            page.status
        ));
    }
    Ok(Some(helper_cookie))
}

/// The SQLite portal: on the given data directory, or on one generated here.
fn sqlite_portal(built: &site::Built, dir: &Path) -> Result<(Server, String, PathBuf, String)> {
    let host = format!("127.0.0.1:{}", free_port()?);
    let config = write_config(dir, &host, "")?;
    let given = std::env::var("XTASK_BENCH_INBOX_DATA")
        .ok()
        .filter(|d| !d.is_empty());
    let (data_dir, data) = match given {
        Some(data) => {
            // The given data directory instead of the temporary one.
            let text = fs::read_to_string(&config).map_err(|e| e.to_string())?;
            let text = text.replace(
                &format!("data_dir = \"{}\"", dir.join("data").display()),
                &format!("data_dir = \"{data}\""),
            );
            fs::write(&config, text).map_err(|e| e.to_string())?;
            (PathBuf::from(&data), data)
        }
        None => {
            println!("  SQLite: generating 20,000 persons and 300,000 letters");
            generate(built, &config, &GENERATE)?;
            (
                dir.join("data"),
                "generated here: 20,000 persons, 300,000 letters".to_owned(),
            )
        }
    };
    let portal = start_portal(built, &config, &host, dir)?;
    Ok((portal, host, data_dir, data))
}

/// The PostgreSQL portal, on its own generated population in `database`.
fn postgres_portal(built: &site::Built, dir: &Path, url: &str) -> Result<(Server, String)> {
    let host = format!("127.0.0.1:{}", free_port()?);
    let config = write_config(dir, &host, url)?;
    println!("  PostgreSQL: generating 20,000 persons and 300,000 letters");
    generate(built, &config, &GENERATE)?;
    let portal = start_portal(built, &config, &host, dir)?;
    Ok((portal, host))
}

/// Both portals, logged in, then the runs alternated between them; then the ceiling.
pub fn inbox(
    built: &site::Built,
    ceiling_bin: &Path,
    work: &Path,
    seconds: u64,
    quiet_wait: u64,
    postgres_server: std::result::Result<String, String>,
) -> Result<Inbox> {
    let dir = work.join("inbox");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let (portal, host, data_dir, data) = sqlite_portal(built, &dir)?;
    let named = named_persons(&data_dir)?;
    let mut first_page = None;
    let mut subjects = vec![log_in("SQLite", host, portal, &named, &mut first_page)?];

    let mut throwaway = None;
    let postgres = postgres_server.and_then(|server| {
        let pg_dir = work.join("inbox-postgres");
        fs::create_dir_all(&pg_dir).map_err(|e| e.to_string())?;
        let (database, url) = ThrowawayDatabase::create(&server)?;
        throwaway = Some(database);
        let (portal, host) = postgres_portal(built, &pg_dir, &url)?;
        let named = named_persons(&pg_dir.join("data"))?;
        subjects.push(log_in("PostgreSQL", host, portal, &named, &mut None)?);
        Ok(())
    });
    if let Err(error) = &postgres {
        println!("  PostgreSQL inbox: {error}");
    }

    let mut runs = Vec::new();
    for (index, (letters, _)) in named.iter().enumerate() {
        for subject in &mut subjects {
            let Some((_, cookie)) = subject.sessions.get(index) else {
                continue;
            };
            let mut readers = vec![(false, cookie.clone())];
            if *letters == HELPER_MAILBOX {
                readers.extend(subject.helper.clone().map(|helper| (true, helper)));
            }
            for (by_helper, cookie) in readers {
                let who = if by_helper { ", read by a helper" } else { "" };
                println!("  the {letters}-letter inbox on {}{who}", subject.database);
                let page = http::request(&subject.host, "GET", "/post", &[("Cookie", &cookie)], "")
                    .map_err(|e| subject.portal.failed(e))?;
                wait_for_quiet(quiet_wait);
                let header = format!("Cookie: {cookie}");
                let measured = load(
                    &format!("http://{}/post", subject.host),
                    seconds,
                    &[&header],
                    subject.portal.id(),
                )
                .map_err(|e| subject.portal.failed(e))?;
                runs.push(InboxRun {
                    database: subject.database,
                    letters: *letters,
                    by_helper,
                    load: measured,
                    page_bytes: page.body.len(),
                });
            }
        }
    }
    for subject in &mut subjects {
        subject.portal.stop_and_report();
    }
    drop(throwaway);

    let page_file = dir.join("inbox-page.html");
    fs::write(&page_file, first_page.unwrap_or_default()).map_err(|e| e.to_string())?;
    let (mut ceiling, ceiling_host) = start_ceiling(ceiling_bin, &page_file, &dir)?;
    wait_for_quiet(quiet_wait);
    let top = load(
        &format!("http://{ceiling_host}/"),
        seconds,
        &[],
        ceiling.id(),
    )
    .map_err(|e| ceiling.failed(e))?;
    ceiling.stop();
    Ok(Inbox {
        data,
        postgres,
        runs,
        ceiling: top,
    })
}

/// The report's inbox section.
pub fn report(md: &mut String, inbox: &Result<Inbox>) {
    let _ = writeln!(md, "\n## Inbox (`GET /post`, logged in, wrk -t2 -c64)\n");
    let inbox = match inbox {
        Ok(inbox) => inbox,
        Err(error) => {
            let _ = writeln!(md, "Not measured: {error}");
            return;
        }
    };
    let _ = writeln!(md, "SQLite's database: {}", inbox.data);
    match &inbox.postgres {
        Ok(()) => {
            let _ = writeln!(
                md,
                "PostgreSQL's: generated here, the same sizes; runs alternated.\n"
            );
        }
        Err(error) => {
            let _ = writeln!(md, "PostgreSQL not measured: {error}\n");
        }
    }
    let _ = writeln!(
        md,
        "| mailbox | database | req/s | p50 | p99 | page bytes | errors | others' CPU | target |"
    );
    let _ = writeln!(md, "|---:|---|---:|---:|---:|---:|---:|---:|---|");
    for run in &inbox.runs {
        let owner = |database: &str| {
            inbox.runs.iter().find(|other| {
                !other.by_helper && other.database == database && other.letters == run.letters
            })
        };
        let ok = if run.by_helper {
            owner(run.database).is_some_and(|owner| {
                run.load.requests_per_sec >= HELPER_SHARE_TARGET * owner.load.requests_per_sec
            })
        } else if run.database == "SQLite" {
            run.load.requests_per_sec >= INBOX_TARGET && run.load.p99_ms < INBOX_P99_TARGET_MS
        } else {
            owner("SQLite").is_some_and(|sqlite| {
                run.load.requests_per_sec >= POSTGRES_SHARE_TARGET * sqlite.load.requests_per_sec
            })
        };
        let _ = writeln!(
            md,
            "| {} letters{} | {} | {:.0} | {:.2} ms | {:.2} ms | {} | {} | {} | {} |",
            run.letters,
            if run.by_helper {
                ", read by a helper"
            } else {
                ""
            },
            run.database,
            run.load.requests_per_sec,
            run.load.p50_ms,
            run.load.p99_ms,
            run.page_bytes,
            run.load.errors,
            others(&run.load),
            pass(ok)
        );
    }
    let _ = writeln!(
        md,
        "| ceiling (same bytes from memory) | | {:.0} | {:.2} ms | {:.2} ms | | {} | {} | |",
        inbox.ceiling.requests_per_sec,
        inbox.ceiling.p50_ms,
        inbox.ceiling.p99_ms,
        inbox.ceiling.errors,
        others(&inbox.ceiling),
    );
    let _ = writeln!(
        md,
        "\nTargets: on SQLite at least {INBOX_TARGET:.0} req/s with p99 under \
         {INBOX_P99_TARGET_MS:.0} ms, the same at every mailbox size; on PostgreSQL at least \
         {:.0} % of SQLite's rate for the same mailbox in the same run; read by a helper \
         acting for its owner, at least {:.0} % of the owner's rate on the same database. \
         PostgreSQL's own processes count as others' CPU.",
        POSTGRES_SHARE_TARGET * 100.0,
        HELPER_SHARE_TARGET * 100.0
    );
}

fn others(load: &Load) -> String {
    load.others
        .map(|o| format!("{:.0} %", o * 100.0))
        .unwrap_or_else(|| "?".into())
}
