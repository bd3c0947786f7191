//! Small helpers for running commands and finding paths.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

pub type Result<T> = std::result::Result<T, String>;

/// The workspace root (the parent of `xtask/`).
///
/// From `CARGO_MANIFEST_DIR` as `cargo run` sets it for this run, not as it was when the
/// binary was compiled: clones that share one `CARGO_TARGET_DIR` (CI's fresh clone and a
/// working checkout) get the same artefact for the same sources, so a binary compiled in one
/// clone may run for another, and must then work on the clone it was run from.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

/// Where cargo puts build output.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        None => workspace_root().join("target"),
    }
}

/// A step's heading in the output.
pub fn step(name: &str) {
    println!("\n=== {name} ===");
}

/// Describe a command for messages.
pub fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Run a command with inherited output; fail unless it exits 0.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)))
    }
}

/// Run a command and return its standard output; fail unless it exits 0.
pub fn output(command: &mut Command) -> Result<String> {
    let out = command
        .output()
        .map_err(|e| format!("could not start `{}`: {e}", describe(command)))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "`{}` failed ({}): {}",
            describe(command),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Is a program on PATH (or at this path)?
pub fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The first file named `program` in a folder on PATH.
pub fn find_on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

/// Are we root (so apt-get can install what is missing)?
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u"))
        .map(|s| s.trim() == "0")
        .unwrap_or(false)
}

/// A free TCP port on loopback.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// Wait until `url` answers 200 over plain HTTP/1.1 on loopback, or fail after `seconds`.
pub fn wait_for_http(host_port: &str, path: &str, seconds: u64) -> Result<()> {
    use std::io::{Read, Write};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(host_port) {
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {host_port}\r\nConnection: close\r\n\r\n");
            if stream.write_all(request.as_bytes()).is_ok() {
                let mut response = String::new();
                if stream.read_to_string(&mut response).is_ok()
                    && response.starts_with("HTTP/1.1 200")
                {
                    return Ok(());
                }
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    Err(format!(
        "http://{host_port}{path} did not answer 200 within {seconds} s"
    ))
}

/// apt-get install, once `apt-get update` has run in this process.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    if !is_root() {
        return Err(format!(
            "missing system packages {packages:?}: install them with apt-get (needs root)"
        ));
    }
    static UPDATED: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    if UPDATED.get().is_none() {
        run(Command::new("apt-get").arg("update").arg("-q"))?;
        let _ = UPDATED.set(());
    }
    run(Command::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(packages)
        .env("DEBIAN_FRONTEND", "noninteractive"))
}

/// The cargo features that turn on the development-only code (the test eID, the demo data,
/// `generate-data`) for a whole-workspace command (`cargo test`/`clippy --workspace`).
pub const DEV_FEATURES: &str = "server/dev,borgerportal/dev";

/// Makes `command` (a `cargo build` of the server into `target`) compile the development-only
/// code as `--features dev` would, but without telling cargo: for the PGO builds (`pgo.rs`).
///
/// Cargo mixes the enabled features into each crate's `-C metadata`, and that into every
/// symbol name of the crate (and of generic code instantiated with its types); a profile is
/// matched to the code by those names. So a training binary built with `--features dev` would
/// leave the profile unmatched for all of borgerportal's, app's and the server's code in the
/// production build without it. A rustc wrapper that adds `--cfg feature="dev"` to the two
/// crates that have the feature keeps their metadata (RUSTFLAGS and wrappers do not enter it):
/// the functions both builds have keep their names, and the profile fits them. Functions that
/// only the training binary has (the test eID, the generator) and the few that differ (the
/// startup around them) find no or a mismatching profile, which is harmless: LLVM then
/// optimises them without one.
///
/// A marker in RUSTFLAGS makes cargo rebuild when a target directory switches between the two
/// (it tracks RUSTFLAGS, not the wrapper). The `dev` feature must therefore stay free of
/// optional dependencies, which this cannot turn on.
pub fn with_dev_code_by_cfg(command: &mut Command, target: &Path, rustflags: &str) -> Result<()> {
    let inner = match std::env::var("RUSTC_WRAPPER") {
        Ok(wrapper) if wrapper.contains('\'') => {
            return Err(format!("RUSTC_WRAPPER {wrapper:?}: a quote in its path"))
        }
        Ok(wrapper) if !wrapper.trim().is_empty() => format!("'{wrapper}' "),
        _ => String::new(),
    };
    let script = format!(
        "#!/bin/sh\n\
         # Written by xtask (util.rs, with_dev_code_by_cfg): rustc for the crates with the `dev`\n\
         # feature gets --cfg feature=\"dev\"; every other call is passed on as it is.\n\
         case \" $* \" in\n  \
           *\" --crate-name borgerportal \"*|*\" --crate-name server \"*)\n    \
             exec {inner}\"$@\" --cfg 'feature=\"dev\"' ;;\n\
         esac\n\
         exec {inner}\"$@\"\n"
    );
    std::fs::create_dir_all(target).map_err(|e| format!("{}: {e}", target.display()))?;
    let path = target.join("rustc-with-dev-code.sh");
    std::fs::write(&path, script).map_err(|e| format!("{}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    command.env("RUSTC_WRAPPER", &path).env(
        "RUSTFLAGS",
        format!("{rustflags} --cfg borgerportal_dev_code"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_dev_code_wrapper_adds_the_cfg_to_borgerportal_and_the_server_only() {
        if std::env::var_os("RUSTC_WRAPPER").is_some() {
            return; // the script would call it; `echo` stands in for rustc here.
        }
        let dir = std::env::temp_dir().join(format!("xtask-wrapper-{}", std::process::id()));
        let mut cargo = Command::new("cargo");
        with_dev_code_by_cfg(&mut cargo, &dir, "-Cprofile-use=x").unwrap();
        let env = |name: &str| {
            cargo
                .get_envs()
                .find(|(key, _)| *key == name)
                .and_then(|(_, value)| value)
                .map(|value| value.to_string_lossy().into_owned())
                .unwrap()
        };
        assert_eq!(
            env("RUSTFLAGS"),
            "-Cprofile-use=x --cfg borgerportal_dev_code"
        );
        let wrapper = env("RUSTC_WRAPPER");
        let said = |args: &[&str]| output(Command::new(&wrapper).arg("echo").args(args)).unwrap();
        for crate_name in ["borgerportal", "server"] {
            assert_eq!(
                said(&["--crate-name", crate_name, "--edition=2021"]),
                format!("--crate-name {crate_name} --edition=2021 --cfg feature=\"dev\"\n")
            );
        }
        assert_eq!(said(&["--crate-name", "app"]), "--crate-name app\n");
        assert_eq!(said(&["-vV"]), "-vV\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
