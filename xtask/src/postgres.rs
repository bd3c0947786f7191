//! A throwaway PostgreSQL cluster for the test run, when `DATABASE_URL` does not name a
//! server: `initdb` into a temporary directory, start on a free loopback port, stop and delete
//! on drop. Durability settings are relaxed (it is thrown away); benchmarks use a real server.

use crate::util::{free_port, is_root, output, run, Result};
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// Debian's server binaries (`/usr/lib/postgresql/<major>/bin`), newest major first.
pub fn server_bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let major = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("pg_ctl").exists().then_some((major, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin)
}

/// A running throwaway cluster.
pub struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Cluster {
    pub fn start() -> Result<Self> {
        let bin = server_bin_dir()
            .ok_or("PostgreSQL's server binaries are missing (apt-get install postgresql)")?;
        let port = free_port()?;
        let dir =
            std::env::temp_dir().join(format!("borgerportal-pg-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        // initdb refuses to run as root: run the server as the `postgres` user Debian creates.
        let as_postgres = is_root();
        if as_postgres {
            run(Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&dir))?;
        }
        let cluster = Self {
            dir,
            bin,
            port,
            as_postgres,
        };
        let data = cluster.dir.join("data");
        output(
            cluster
                .command("initdb")
                .args([
                    "--auth=trust",
                    "--username=postgres",
                    "--encoding=UTF8",
                    "--no-locale",
                    "-D",
                ])
                .arg(&data),
        )?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            cluster.dir.display()
        );
        output(
            cluster
                .command("pg_ctl")
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-o", &options, "start"]),
        )?;
        println!("xtask: throwaway PostgreSQL running on 127.0.0.1:{port}");
        Ok(cluster)
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command.current_dir(&self.dir);
            command
        } else {
            Command::new(path)
        }
    }

    /// A URL for the server's `postgres` database; tests create their own databases from it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data_dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data_dir().join("data");
        let _ = self
            .command("pg_ctl")
            .args(["-D"])
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
