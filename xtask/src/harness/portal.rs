//! The portal under test: its configuration (a data directory or a PostgreSQL database, the
//! test eID, `AGENCIES` agencies allowed to deliver), started on a given `host:port` and waited
//! for; its own commands (`generate-data`, `api-token`); and logging a person in through the
//! built-in test eID as a browser does.

use super::http;
use super::server::Server;
use crate::site;
use crate::util::{output, wait_for_http, workspace_root, Result};
use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Instant,
};

/// Agencies in the configuration (`bench-1` …), each with a key pair made at first start.
pub const AGENCIES: usize = 4;

/// The configuration the benchmark's portal runs with: release build, test eID (for logins
/// and the agencies' demo keys), no demo data, logs at `warn`, the notification worker off
/// (the outbox rows are still written in each delivery's transaction; sending them is not
/// part of accepting a letter), and `AGENCIES` agencies allowed to deliver.
pub fn write_config(dir: &Path, host: &str, database_url: &str) -> Result<PathBuf> {
    let data = dir.join("data");
    let mut toml = format!(
        "listen = \"{host}\"\npublic_url = \"http://{host}\"\ndata_dir = \"{}\"\n\
         database_url = \"{database_url}\"\ndemo_data = false\n\n[log]\nformat = \"json\"\n\
         filter = \"warn\"\n\n[test_eid]\nenabled = true\n\n[mail]\ntransport = \"file\"\n\
         from = \"Borgerportal <ikke-svar@borgerportal.invalid>\"\n\n[sms]\ngateway = \"file\"\n\n\
         [notify]\nenabled = false\n",
        data.display()
    );
    for n in 1..=AGENCIES {
        let _ = write!(
            toml,
            "\n[[agencies]]\nid = \"bench-{n}\"\nname = \"Benchmark agency {n}\"\n\
             algorithm = \"ES256\"\npublic_key_file = \"{}\"\ngenerate_key_pair = true\n\
             capabilities = [\"deliver_post\"]\n",
            data.join(format!("agency-{n}/public.pem")).display()
        );
    }
    let path = dir.join("bench.toml");
    fs::write(&path, toml).map_err(|e| e.to_string())?;
    Ok(path)
}

/// The portal binary with `config` and the built site.
fn portal_command(built: &site::Built, config: &Path) -> Command {
    let mut command = Command::new(&built.server);
    command
        .current_dir(workspace_root())
        .env("BORGERPORTAL_CONFIG", config)
        .env("BORGERPORTAL_SITE_ROOT", &built.site_root)
        .env("RUST_LOG", "warn")
        .env("RUST_BACKTRACE", "1");
    command
}

/// The portal with `config`, listening on `host`, its log in `dir`: once it is ready.
pub fn start_portal(built: &site::Built, config: &Path, host: &str, dir: &Path) -> Result<Server> {
    start(&mut portal_command(built, config), host, dir, 120)
}

/// The portal with the development configuration (`config/development.toml`: the test eID,
/// demo data) listening on `host`, its data and log in `dir`: once it is ready.
pub fn start_development_portal(built: &site::Built, host: &str, dir: &Path) -> Result<Server> {
    let mut command = portal_command(built, &workspace_root().join("config/development.toml"));
    command
        .env("BORGERPORTAL_DATA_DIR", dir.join("data"))
        .env("BORGERPORTAL_LISTEN", host)
        .env("BORGERPORTAL_PUBLIC_URL", format!("http://{host}"))
        .env("BORGERPORTAL_DEMO_DATA", "true")
        .env("BORGERPORTAL_LOG__FILTER", "warn");
    start(&mut command, host, dir, 60)
}

/// Starts `command` as the portal (its log `dir/portal.log`) and waits up to `seconds` for
/// `/readyz`.
fn start(command: &mut Command, host: &str, dir: &Path, seconds: u64) -> Result<Server> {
    let mut portal = Server::spawn("portal", command, &dir.join("portal.log"))?;
    wait_for_http(host, "/readyz", seconds).map_err(|e| portal.failed(e))?;
    Ok(portal)
}

/// `borgerportal generate-data` into the configured database.
pub fn generate(built: &site::Built, config: &Path, args: &[&str]) -> Result<String> {
    let started = Instant::now();
    let text = output(
        portal_command(built, config)
            .arg("generate-data")
            .args(args),
    )?;
    let last = text.lines().last().unwrap_or("").to_owned();
    println!(
        "  {last} (command took {:.1} s)",
        started.elapsed().as_secs_f64()
    );
    Ok(last)
}

/// `count` fresh JWTs of the agency `bench-<agency>` (`borgerportal api-token`).
pub fn tokens(
    built: &site::Built,
    config: &Path,
    agency: usize,
    count: usize,
) -> Result<Vec<String>> {
    let text = output(portal_command(built, config).args([
        "api-token",
        "--count",
        &count.to_string(),
        &format!("bench-{agency}"),
    ]))?;
    Ok(text.lines().map(str::to_owned).collect())
}

/// The recipients: a sample of generated persons' national ids.
pub fn recipients(data: &Path) -> Result<Vec<String>> {
    let path = data.join("sample-persons.txt");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let ids: Vec<String> = text.lines().map(str::to_owned).collect();
    if ids.is_empty() {
        return Err("no sample persons".into());
    }
    Ok(ids)
}

/// `letters \t unread \t national id` per line, as `generate-data` writes them.
pub fn named_persons(data: &Path) -> Result<Vec<(u32, String)>> {
    let path = data.join("named-persons.tsv");
    let text = fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            match fields.as_slice() {
                [letters, _, id] => Ok((
                    letters
                        .parse()
                        .map_err(|_| format!("{}: bad line", path.display()))?,
                    (*id).to_owned(),
                )),
                _ => Err(format!("{}: bad line", path.display())),
            }
        })
        .collect()
}

/// Logs in as a browser does, through the built-in test eID (ID-porten flavour, "another
/// person" with the national id typed in): the session cookie (`name=value`).
pub fn login(host: &str, national_id: &str) -> Result<String> {
    login_at(host, national_id, "substantial")
}

/// As [`login`], at the level of assurance `level` (`substantial` or `high`).
pub fn login_at(host: &str, national_id: &str, level: &str) -> Result<String> {
    let start = http::request(
        host,
        "GET",
        &format!("/auth/login/testid-no?loa={level}&return_to=/post"),
        &[],
        "",
    )?;
    let authorize = start
        .location()
        .ok_or_else(|| format!("login start: {} without a Location", start.status))?;
    let binding = start.cookies();
    let (path_and_query, query) = local(&authorize)
        .split_once('?')
        .map(|(p, q)| (p.to_owned(), q.to_owned()))
        .ok_or("the authorize URL has no query")?;
    let form = format!("{query}&person=other&other_id={national_id}&level={level}&action=login");
    let submitted = http::request(
        host,
        "POST",
        &path_and_query,
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )?;
    let callback = submitted
        .location()
        .ok_or_else(|| format!("test eID: {} without a Location", submitted.status))?;
    let done = http::request(host, "GET", local(&callback), &[("Cookie", &binding)], "")?;
    let session = done
        .cookies()
        .split("; ")
        .find(|c| c.starts_with("borgerportal_session="))
        .map(str::to_owned)
        .ok_or_else(|| format!("callback: {} without a session cookie", done.status))?;
    Ok(session)
}

/// The path and query of an absolute URL on this host.
fn local(url: &str) -> &str {
    url.strip_prefix("http://")
        .and_then(|rest| rest.find('/').map(|at| &rest[at..]))
        .unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_become_local_paths() {
        assert_eq!(local("http://127.0.0.1:3000/a/b?c=d"), "/a/b?c=d");
        assert_eq!(local("/x"), "/x");
    }
}
