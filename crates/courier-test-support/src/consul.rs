use std::fs;
use std::path::PathBuf;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::consul_process::{self, AgentConfig};

static NEXT_AGENT: AtomicUsize = AtomicUsize::new(0);

/// A `consul agent -dev` of its own for one test, on free loopback ports,
/// started the same way as `cargo xtask consul up`. Killed on drop.
///
/// ```no_run
/// # async fn example() {
/// use courier_test_support::ConsulAgent;
///
/// let Some(consul) = ConsulAgent::start().await else {
///     return; // no consul binary: skipped (panics under CI instead)
/// };
/// let url = format!("{}/v1/status/leader", consul.http_url());
/// # }
/// ```
#[derive(Debug)]
pub struct ConsulAgent {
    bin: PathBuf,
    config: AgentConfig,
    log: PathBuf,
    child: Option<Child>,
}

impl ConsulAgent {
    /// Starts an agent and waits until it has a leader and lists its own node.
    ///
    /// Returns `None` (after one skip line on stderr) when no consul binary is
    /// found: `COURIER_CONSUL_BIN`, then `PATH`, then the build cached by
    /// `cargo xtask consul install`. Under CI that panics instead.
    ///
    /// # Panics
    ///
    /// When the agent does not become ready within 20 s; the message carries
    /// the end of its log.
    pub async fn start() -> Option<Self> {
        Self::launch(None).await
    }

    /// Like [`ConsulAgent::start`], with ACLs enabled, a default policy of
    /// `deny` and `management_token` as the initial management token.
    pub async fn start_with_acl(management_token: &str) -> Option<Self> {
        Self::launch(Some(management_token.to_owned())).await
    }

    async fn launch(acl_token: Option<String>) -> Option<Self> {
        let root = crate::workspace_root();
        let Some(bin) = consul_process::find_binary(root) else {
            crate::skip_or_panic("consul not found — run `cargo xtask consul install` (or `cargo xtask test`)");
            return None;
        };
        let node = format!("courier-test-{}-{}", std::process::id(), NEXT_AGENT.fetch_add(1, Ordering::Relaxed));
        let log = root.join("target/tools/consul-test-logs").join(format!("{node}.log"));
        // The free ports were free when picked; another process may take one before the
        // agent binds it. Then the agent starts again, on other ports.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let config = AgentConfig::new(node.clone(), None, acl_token.clone()).expect("cannot pick ports for consul");
            let _ = fs::remove_file(&log);
            let mut agent = Self { bin: bin.clone(), config, log: log.clone(), child: None };
            match agent.try_spawn().await {
                Ok(()) => return Some(agent),
                Err(_)
                    if attempts < 3
                        && fs::read_to_string(&log).is_ok_and(|log| log.contains("address already in use")) =>
                {
                    eprintln!("consul agent {node}: a port was taken before it bound it; starting it on others");
                }
                Err(error) => panic!("{error}"),
            }
        }
    }

    /// `host:port` of the HTTP API, e.g. `127.0.0.1:8512`. Unchanged by restarts.
    pub fn http_addr(&self) -> String {
        self.config.http_addr()
    }

    /// `http://host:port` of the HTTP API.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.config.http_addr())
    }

    /// The consul binary the agent runs, for driving Consul's own CLI.
    pub fn binary(&self) -> &std::path::Path {
        &self.bin
    }

    /// The agent's node name.
    pub fn node_name(&self) -> &str {
        &self.config.node
    }

    /// The initial management token when started with ACLs.
    pub fn management_token(&self) -> Option<&str> {
        self.config.acl_token.as_deref()
    }

    /// Kills the agent and waits for it to exit. Its address, ports and node
    /// name are kept for [`ConsulAgent::restart`]. Dev agents keep no state,
    /// so registrations are gone after a restart, as after a real outage.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the agent if it runs, then starts it again on the same ports and
    /// waits until it is ready.
    ///
    /// # Panics
    ///
    /// When the agent does not become ready within 20 s.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    async fn spawn(&mut self) {
        if let Err(error) = self.try_spawn().await {
            panic!("{error}");
        }
    }

    async fn try_spawn(&mut self) -> Result<(), String> {
        let bin = self.bin.clone();
        let config = self.config.clone();
        let log = self.log.clone();
        let started = tokio::task::spawn_blocking(move || {
            let command = config.command(&bin, &log).map_err(|e| format!("cannot open {}: {e}", log.display()))?;
            consul_process::start(command, &config, &log)
        })
        .await
        .expect("starting consul panicked");
        self.child = Some(started?);
        Ok(())
    }
}

impl Drop for ConsulAgent {
    fn drop(&mut self) {
        self.stop();
        if std::thread::panicking() {
            eprintln!("consul agent log kept in {}", self.log.display());
        } else {
            let _ = fs::remove_file(&self.log);
        }
    }
}
