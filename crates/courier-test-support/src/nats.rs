use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::nats_process::{self, ServerConfig};

static NEXT_SERVER: AtomicUsize = AtomicUsize::new(0);

/// How long [`NatsServer::stop`] waits after SIGTERM before it kills.
const STOP_GRACE: Duration = Duration::from_secs(10);

/// A `nats-server` with JetStream of its own for one test, on free loopback
/// ports and with file storage in a fresh folder, started the same way as
/// `cargo xtask nats up`. Killed, and its storage removed, on drop.
///
/// ```no_run
/// # async fn example() {
/// use courier_test_support::NatsServer;
///
/// let Some(mut nats) = NatsServer::start().await else {
///     return; // no nats-server binary: skipped (panics under CI instead)
/// };
/// let url = nats.url(); // nats://127.0.0.1:PORT
/// // ... create streams, publish ...
/// nats.restart().await; // same port, same storage: the streams are still there
/// # }
/// ```
#[derive(Debug)]
pub struct NatsServer {
    bin: PathBuf,
    config: ServerConfig,
    log: PathBuf,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts a server and waits until it accepts clients with JetStream enabled.
    ///
    /// Returns `None` (after one skip line on stderr) when no nats-server
    /// binary is found: `COURIER_NATS_BIN`, then `PATH`, then the build cached
    /// by `cargo xtask nats install`. Under CI that panics instead.
    ///
    /// # Panics
    ///
    /// When the server does not become ready within 20 s; the message carries
    /// the end of its log.
    pub async fn start() -> Option<Self> {
        let root = crate::workspace_root();
        let Some(bin) = nats_process::find_binary(root) else {
            crate::skip_or_panic("nats-server not found — run `cargo xtask nats install` (or `cargo xtask test`)");
            return None;
        };
        let name = format!("courier-test-{}-{}", std::process::id(), NEXT_SERVER.fetch_add(1, Ordering::Relaxed));
        let store_dir = root.join("target/tools/nats-test-data").join(&name);
        // A pid seen before may have left its folder behind; start empty.
        let _ = fs::remove_dir_all(&store_dir);
        let config = ServerConfig::new(None, store_dir).expect("cannot pick ports for nats-server");
        let log = root.join("target/tools/nats-test-logs").join(format!("{name}.log"));
        let _ = fs::remove_file(&log);
        let mut server = Self { bin, config, log, child: None };
        server.spawn().await;
        Some(server)
    }

    /// `nats://127.0.0.1:PORT`, for NATS clients. Unchanged by restarts.
    pub fn url(&self) -> String {
        self.config.url()
    }

    /// The client port. Unchanged by restarts.
    pub fn port(&self) -> u16 {
        self.config.port
    }

    /// `http://127.0.0.1:PORT` of the monitoring endpoints (`/healthz`,
    /// `/jsz`, `/varz`...). Unchanged by restarts.
    pub fn monitor_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.config.monitor_port)
    }

    /// Where JetStream keeps its files. Kept across restarts; removed on drop.
    pub fn store_dir(&self) -> &Path {
        &self.config.store_dir
    }

    /// The nats-server binary the server runs.
    pub fn binary(&self) -> &Path {
        &self.bin
    }

    /// Whether the server process is running (it may still be starting up).
    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Shuts the server down as an operator would: SIGTERM, then up to 10 s
    /// for it to exit before it is killed. Its ports and storage are kept for
    /// [`NatsServer::restart`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            terminate(&mut child, STOP_GRACE);
        }
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it to
    /// exit. What JetStream acknowledged is on disk and comes back with
    /// [`NatsServer::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the server if it runs (as [`NatsServer::stop`] does), then
    /// starts it again on the same port with the same storage and waits until
    /// it accepts clients with JetStream, and the streams it recovered, enabled.
    ///
    /// # Panics
    ///
    /// When the server does not become ready within 20 s.
    pub async fn restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            tokio::task::spawn_blocking(move || terminate(&mut child, STOP_GRACE))
                .await
                .expect("stopping nats-server panicked");
        }
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        let bin = self.bin.clone();
        let config = self.config.clone();
        let log = self.log.clone();
        let started = tokio::task::spawn_blocking(move || {
            let command = config.command(&bin, &log).map_err(|e| format!("cannot open {}: {e}", log.display()))?;
            nats_process::start(command, &config, &log)
        })
        .await
        .expect("starting nats-server panicked");
        match started {
            Ok(child) => self.child = Some(child),
            Err(e) => panic!("{e}"),
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.config.store_dir);
        if std::thread::panicking() {
            eprintln!("nats-server log kept in {}", self.log.display());
        } else {
            let _ = fs::remove_file(&self.log);
        }
    }
}

/// SIGTERM, up to `grace` for `child` to exit, then SIGKILL.
fn terminate(child: &mut Child, grace: Duration) {
    if !matches!(child.try_wait(), Ok(None)) {
        return;
    }
    // std can only send SIGKILL; every POSIX shell has `kill`.
    let asked = Command::new("sh")
        .arg("-c")
        .arg(format!("kill -TERM {}", child.id()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if asked {
        let started = Instant::now();
        while started.elapsed() < grace {
            if !matches!(child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}
