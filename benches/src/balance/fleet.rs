//! The `greeter-server` processes, started with their delays and killed with the driver.

use crate::Error;
use courier_benches::processes::Servers;
use std::{
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

/// One instance to run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Spec {
    /// Its `COURIER_INSTANCE`, and its name in the table.
    pub(crate) name: &'static str,
    /// How long its `hello` sleeps: its `COURIER_HELLO_DELAY_MS`.
    pub(crate) delay_ms: u64,
}

/// Running servers, killed when this is dropped: at the end of the run, on an error, or
/// while a panic unwinds.
#[derive(Debug, Default)]
pub(crate) struct Fleet {
    servers: Servers,
    urls: Vec<String>,
}

impl Fleet {
    /// One server per spec, each listening once this returns.
    pub(crate) fn start(specs: &[Spec]) -> Result<Self, Error> {
        let exe = server_executable()?;
        let mut fleet = Self::default();
        for spec in specs {
            let url = fleet.servers.start(spec.name, &mut command(&exe, spec))?;
            fleet.urls.push(url);
        }
        Ok(fleet)
    }

    /// The servers' URLs, in the order of the specs.
    pub(crate) fn urls(&self) -> &[String] {
        &self.urls
    }
}

/// The command that runs `greeter-server` as `spec` says.
fn command(exe: &Path, spec: &Spec) -> Command {
    let mut command = Command::new(exe);
    command
        .env("COURIER_INSTANCE", spec.name)
        .env("COURIER_HELLO_DELAY_MS", spec.delay_ms.to_string())
        // Three servers cannot share one fixed address.
        .env_remove("COURIER_BIND")
        // The proxies are told the URLs; a Consul registration would only outlive a
        // killed server.
        .env_remove("CONSUL_HTTP_ADDR")
        // The server logs to stdout: per-call logging would slow the servers down
        // and could bury the `listening on` line.
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// `greeter-server`, next to this executable: cargo puts the binaries of a profile in
/// one directory.
fn server_executable() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    let dir = exe.parent().ok_or_else(|| format!("{} has no parent directory", exe.display()))?;
    let server = dir.join(format!("greeter-server{}", std::env::consts::EXE_SUFFIX));
    if server.is_file() {
        return Ok(server);
    }
    let release = if cfg!(debug_assertions) { "" } else { " --release" };
    Err(format!(
        "{} is missing: build it first, in this benchmark's profile, with\n\n    \
         cargo build{release} -p courier-examples --bin greeter-server",
        server.display()
    )
    .into())
}
