//! Finding, starting and probing a `consul agent -dev`, with std only.
//!
//! `xtask` compiles this file directly (`#[path]`) so that `cargo xtask consul up`
//! and the tests start Consul the same way without xtask depending on tokio.
//! Everything here blocks; the async side runs it on tokio's blocking pool.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

pub(crate) const CONSUL_VERSION: &str = "1.16.2";

/// How long an agent may take to elect itself leader and register its node.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(20);

const POLL_INTERVAL: Duration = Duration::from_millis(100);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where `cargo xtask consul install` caches the binary it builds.
pub(crate) fn cached_binary(workspace_root: &Path) -> PathBuf {
    workspace_root.join("target/tools").join(format!("consul-{CONSUL_VERSION}")).join("consul")
}

/// `COURIER_CONSUL_BIN`, then `consul` on `PATH`, then the cached build.
pub(crate) fn find_binary(workspace_root: &Path) -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("COURIER_CONSUL_BIN").filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Some(bin);
        }
    }
    find_on_path("consul").or_else(|| {
        let cached = cached_binary(workspace_root);
        cached.is_file().then_some(cached)
    })
}

pub(crate) fn find_on_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join(program)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Picks `count` distinct loopback ports that are free for both TCP and UDP
/// (Serf listens on both). The probe sockets are all held until the end so the
/// kernel cannot hand out the same port twice.
pub(crate) fn free_ports(count: usize) -> io::Result<Vec<u16>> {
    let mut held = Vec::new();
    let mut ports = Vec::with_capacity(count);
    for _ in 0..count * 20 {
        if ports.len() == count {
            break;
        }
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        if let Ok(udp) = UdpSocket::bind(("127.0.0.1", port)) {
            ports.push(port);
            held.push((listener, Some(udp)));
        } else {
            held.push((listener, None));
        }
    }
    if ports.len() < count {
        return Err(io::Error::other("could not find enough free loopback ports"));
    }
    Ok(ports)
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
        if let Some(dir) = log.parent() {
            fs::create_dir_all(dir)?;
        }
        let out = OpenOptions::new().create(true).append(true).open(log)?;
        let err = out.try_clone()?;
        let mut command = Command::new(bin);
        command.args(self.args()).stdin(Stdio::null()).stdout(out).stderr(err);
        Ok(command)
    }
}

/// Spawns `command` and waits until the agent is ready. On failure the agent
/// is killed and the error carries the end of its log.
pub(crate) fn start(mut command: Command, config: &AgentConfig, log: &Path) -> Result<Child, String> {
    let mut child = command.spawn().map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    match wait_ready(&mut child, config) {
        Ok(()) => Ok(child),
        Err(reason) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!(
                "consul agent {} on {}: {reason}\n--- end of {} ---\n{}",
                config.node,
                config.http_addr(),
                log.display(),
                log_tail(log, 30)
            ))
        }
    }
}

/// Readiness as Consul's own test server (sdk/testutil) checks it: a leader is
/// known, then the catalog, answered with a known leader, lists this node.
fn wait_ready(child: &mut Child, config: &AgentConfig) -> Result<(), String> {
    let started = Instant::now();
    let addr = config.http_addr();
    let token = config.acl_token.as_deref();
    let node_entry = format!(r#""Node":"{}""#, config.node);
    loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            return Err(format!("exited early ({status})"));
        }
        let last = match http_get(&addr, "/v1/status/leader", token) {
            Ok(leader) if leader.status == 200 && !matches!(leader.body.trim(), "" | r#""""#) => {
                match http_get(&addr, "/v1/catalog/nodes", token) {
                    Ok(nodes)
                        if nodes.status == 200
                            && nodes.header("X-Consul-KnownLeader") == Some("true")
                            && strip_spaces(&nodes.body).contains(&node_entry) =>
                    {
                        return Ok(())
                    }
                    Ok(nodes) => format!("catalog: {nodes}"),
                    Err(e) => format!("catalog: {e}"),
                }
            }
            Ok(leader) => format!("leader: {leader}"),
            Err(e) => format!("leader: {e}"),
        };
        if started.elapsed() >= READY_TIMEOUT {
            return Err(format!("not ready after {:.1?} (last check: {last})", started.elapsed()));
        }
        thread::sleep(POLL_INTERVAL);
    }
}

fn strip_spaces(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

struct Response {
    status: u16,
    head: String,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim().eq_ignore_ascii_case(name).then_some(value.trim())
        })
    }
}

impl std::fmt::Display for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.body.trim())
    }
}

/// A minimal GET for probing a local agent. HTTP/1.0 keeps the response
/// unchunked and delimited by the connection closing.
fn http_get(addr: &str, path: &str, token: Option<&str>) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    if let Some(token) = token {
        request.push_str(&format!("X-Consul-Token: {token}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").ok_or_else(|| io::Error::other("truncated HTTP response"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line: {head:?}")))?;
    Ok(Response { status, head: head.to_string(), body: body.to_string() })
}

pub(crate) fn log_tail(log: &Path, lines: usize) -> String {
    let mut bytes = Vec::new();
    if File::open(log).and_then(|mut f| f.read_to_end(&mut bytes)).is_err() {
        return String::from("(no log)");
    }
    let text = String::from_utf8_lossy(&bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
