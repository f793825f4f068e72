//! What starting a local tool for the tests takes, whichever tool it is:
//! finding a program, free ports, probing over HTTP and the end of a log.
//!
//! `xtask` compiles this file directly (`#[path]`), like the `*_process.rs`
//! files that use it, so it is std only and everything here blocks.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a tool may take to become ready once started.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(20);

const POLL_INTERVAL: Duration = Duration::from_millis(100);
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// `env_var` when it names a file, then `program` on `PATH`, then `cached`
/// when it exists.
pub(crate) fn find_binary(env_var: &str, program: &str, cached: PathBuf) -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os(env_var).filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        if bin.is_file() {
            return Some(bin);
        }
    }
    find_on_path(program).or_else(|| cached.is_file().then_some(cached))
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

/// `bin args...` with stdin closed and its output appended to `log`.
pub(crate) fn logged_command(bin: &Path, args: Vec<String>, log: &Path) -> io::Result<Command> {
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir)?;
    }
    let out = OpenOptions::new().create(true).append(true).open(log)?;
    let err = out.try_clone()?;
    let mut command = Command::new(bin);
    command.args(args).stdin(Stdio::null()).stdout(out).stderr(err);
    Ok(command)
}

/// Spawns `command` and polls `ready` until it returns `Ok`, for at most
/// [`READY_TIMEOUT`]. `ready` returns what its last check saw otherwise. On
/// failure the process is killed and the error, naming it `what`, carries the
/// end of its `log`.
pub(crate) fn start_until_ready(
    mut command: Command,
    what: &str,
    log: &Path,
    mut ready: impl FnMut() -> Result<(), String>,
) -> Result<Child, String> {
    let mut child = command.spawn().map_err(|e| format!("cannot run {:?}: {e}", command.get_program()))?;
    let started = Instant::now();
    let reason = loop {
        match child.try_wait() {
            Ok(None) => {}
            Ok(Some(status)) => break format!("exited early ({status})"),
            Err(e) => break e.to_string(),
        }
        let last = match ready() {
            Ok(()) => return Ok(child),
            Err(last) => last,
        };
        if started.elapsed() >= READY_TIMEOUT {
            break format!("not ready after {:.1?} (last check: {last})", started.elapsed());
        }
        thread::sleep(POLL_INTERVAL);
    };
    let _ = child.kill();
    let _ = child.wait();
    Err(format!("{what}: {reason}\n--- end of {} ---\n{}", log.display(), log_tail(log, 30)))
}

pub(crate) struct Response {
    pub(crate) status: u16,
    head: String,
    pub(crate) body: String,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
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

/// A minimal GET for probing a local server. HTTP/1.0 keeps the response
/// unchunked and delimited by the connection closing.
pub(crate) fn http_get(addr: &str, path: &str, headers: &[(&str, &str)]) -> io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(PROBE_TIMEOUT))?;
    stream.set_write_timeout(Some(PROBE_TIMEOUT))?;
    let mut request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
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
