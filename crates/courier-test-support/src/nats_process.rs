//! Finding, starting and probing a `nats-server` with JetStream, with std only.
//!
//! `xtask` compiles this file directly (`#[path]`) so that `cargo xtask nats up`
//! and the tests start NATS the same way without xtask depending on tokio.
//! Everything here blocks; the async side runs it on tokio's blocking pool.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::process_util::{self, free_ports, http_get};

pub(crate) const NATS_VERSION: &str = "2.14.10";

/// Where `cargo xtask nats install` caches the binary it builds.
pub(crate) fn cached_binary(workspace_root: &Path) -> PathBuf {
    workspace_root.join("target/tools").join(format!("nats-server-{NATS_VERSION}")).join("nats-server")
}

/// `COURIER_NATS_BIN`, then `nats-server` on `PATH`, then the cached build.
pub(crate) fn find_binary(workspace_root: &Path) -> Option<PathBuf> {
    process_util::find_binary("COURIER_NATS_BIN", "nats-server", cached_binary(workspace_root))
}

/// One server's identity: its ports and where JetStream keeps its files. Kept
/// across restarts so that clients reconnect to the same address and find
/// their streams again.
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    /// The client port, for `nats://127.0.0.1:PORT`.
    pub(crate) port: u16,
    /// The HTTP monitoring port, probed for readiness.
    pub(crate) monitor_port: u16,
    /// JetStream's file storage.
    pub(crate) store_dir: PathBuf,
}

impl ServerConfig {
    /// A client port of `port`, else a free one, and a free monitoring port.
    pub(crate) fn new(port: Option<u16>, store_dir: PathBuf) -> io::Result<Self> {
        let ports = free_ports(2)?;
        Ok(Self { port: port.unwrap_or(ports[0]), monitor_port: ports[1], store_dir })
    }

    /// `nats://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn monitor_addr(&self) -> String {
        format!("127.0.0.1:{}", self.monitor_port)
    }

    /// `-a 127.0.0.1 -p PORT -m MONITOR_PORT -js -sd STORE_DIR`.
    pub(crate) fn args(&self) -> Vec<String> {
        let store_dir = self.store_dir.to_string_lossy();
        let port = self.port.to_string();
        let monitor_port = self.monitor_port.to_string();
        ["-a", "127.0.0.1", "-p", &port, "-m", &monitor_port, "-js", "-sd", &store_dir].map(String::from).to_vec()
    }

    /// The server's command line with stdin closed and its output appended to `log`.
    pub(crate) fn command(&self, bin: &Path, log: &Path) -> io::Result<Command> {
        std::fs::create_dir_all(&self.store_dir)?;
        process_util::logged_command(bin, self.args(), log)
    }
}

/// Spawns `command` and waits until the server accepts clients with JetStream
/// enabled. On failure the server is killed and the error carries the end of
/// its log.
pub(crate) fn start(command: Command, config: &ServerConfig, log: &Path) -> Result<Child, String> {
    let what = format!("nats-server on {}", config.url());
    process_util::start_until_ready(command, &what, log, || check_ready(config))
}

/// The monitoring endpoint answers 200 once the client listener is up and
/// JetStream, with the streams it recovered from the store, is enabled.
fn check_ready(config: &ServerConfig) -> Result<(), String> {
    match http_get(&config.monitor_addr(), "/healthz?js-enabled-only=true", &[]) {
        Ok(health) if health.status == 200 => Ok(()),
        Ok(health) => Err(format!("healthz: {health}")),
        Err(e) => Err(format!("healthz: {e}")),
    }
}
