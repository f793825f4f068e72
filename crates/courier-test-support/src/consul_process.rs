//! Finding, starting and probing a `consul agent -dev`, with std only.
//!
//! `xtask` compiles this file directly (`#[path]`) so that `cargo xtask consul up`
//! and the tests start Consul the same way without xtask depending on tokio.
//! Everything here blocks; the async side runs it on tokio's blocking pool.

use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::process_util::{self, free_ports, http_get};

pub(crate) const CONSUL_VERSION: &str = "1.16.2";

/// Where `cargo xtask consul install` caches the binary it builds.
pub(crate) fn cached_binary(workspace_root: &Path) -> PathBuf {
    workspace_root.join("target/tools").join(format!("consul-{CONSUL_VERSION}")).join("consul")
}

/// `COURIER_CONSUL_BIN`, then `consul` on `PATH`, then the cached build.
pub(crate) fn find_binary(workspace_root: &Path) -> Option<PathBuf> {
    process_util::find_binary("COURIER_CONSUL_BIN", "consul", cached_binary(workspace_root))
}

/// One dev agent's identity: its node name and every port it listens on. Kept
/// across restarts so that clients see the same agent come back.
#[derive(Debug, Clone)]
pub(crate) struct AgentConfig {
    pub(crate) node: String,
    pub(crate) http_port: u16,
    serf_lan_port: u16,
    serf_wan_port: u16,
    server_port: u16,
    grpc_port: u16,
    grpc_tls_port: u16,
    /// With ACLs on (default deny), the initial management token.
    pub(crate) acl_token: Option<String>,
}

impl AgentConfig {
    pub(crate) fn new(node: String, http_port: Option<u16>, acl_token: Option<String>) -> io::Result<Self> {
        let ports = free_ports(6)?;
        Ok(Self {
            node,
            http_port: http_port.unwrap_or(ports[0]),
            serf_lan_port: ports[1],
            serf_wan_port: ports[2],
            server_port: ports[3],
            grpc_port: ports[4],
            grpc_tls_port: ports[5],
            acl_token,
        })
    }

    pub(crate) fn http_addr(&self) -> String {
        format!("127.0.0.1:{}", self.http_port)
    }

    pub(crate) fn args(&self) -> Vec<String> {
        let mut args: Vec<String> =
            ["agent", "-dev", "-bind", "127.0.0.1", "-client", "127.0.0.1", "-node", &self.node, "-dns-port", "-1"]
                .iter()
                .map(|s| s.to_string())
                .collect();
        for (flag, port) in [
            ("-http-port", self.http_port),
            ("-serf-lan-port", self.serf_lan_port),
            ("-serf-wan-port", self.serf_wan_port),
            ("-server-port", self.server_port),
            ("-grpc-port", self.grpc_port),
            ("-grpc-tls-port", self.grpc_tls_port),
        ] {
            args.push(flag.to_string());
            args.push(port.to_string());
        }
        if let Some(token) = &self.acl_token {
            args.push("-hcl".to_string());
            args.push(format!(
                r#"acl {{ enabled = true default_policy = "deny" tokens {{ initial_management = "{token}" }} }}"#
            ));
        }
        args
    }

    /// The agent's command line with stdin closed and its output appended to `log`.
    pub(crate) fn command(&self, bin: &Path, log: &Path) -> io::Result<Command> {
        process_util::logged_command(bin, self.args(), log)
    }
}

/// Spawns `command` and waits until the agent is ready. On failure the agent
/// is killed and the error carries the end of its log.
pub(crate) fn start(command: Command, config: &AgentConfig, log: &Path) -> Result<Child, String> {
    let what = format!("consul agent {} on {}", config.node, config.http_addr());
    process_util::start_until_ready(command, &what, log, || check_ready(config))
}

/// Readiness as Consul's own test server (sdk/testutil) checks it: a leader is
/// known, then the catalog, answered with a known leader, lists this node.
fn check_ready(config: &AgentConfig) -> Result<(), String> {
    let addr = config.http_addr();
    let headers: Vec<(&str, &str)> = config.acl_token.iter().map(|token| ("X-Consul-Token", token.as_str())).collect();
    let node_entry = format!(r#""Node":"{}""#, config.node);
    match http_get(&addr, "/v1/status/leader", &headers) {
        Ok(leader) if leader.status == 200 && !matches!(leader.body.trim(), "" | r#""""#) => {
            match http_get(&addr, "/v1/catalog/nodes", &headers) {
                Ok(nodes)
                    if nodes.status == 200
                        && nodes.header("X-Consul-KnownLeader") == Some("true")
                        && strip_spaces(&nodes.body).contains(&node_entry) =>
                {
                    Ok(())
                }
                Ok(nodes) => Err(format!("catalog: {nodes}")),
                Err(e) => Err(format!("catalog: {e}")),
            }
        }
        Ok(leader) => Err(format!("leader: {leader}")),
        Err(e) => Err(format!("leader: {e}")),
    }
}

fn strip_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
