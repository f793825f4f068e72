//! Background servers that `up` leaves running for `down` to stop, found
//! again through a small JSON state file in `target/tools`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::{step, Result};

/// What `up` records: the server's pid and the address clients use.
pub(crate) struct State {
    pub(crate) pid: u32,
    pub(crate) addr: String,
}

impl State {
    /// Writes `{"pid": PID, "<addr_key>": "ADDR"}` to `path`.
    pub(crate) fn write(&self, path: &Path, addr_key: &str) -> Result {
        let json = format!("{{\"pid\": {}, \"{addr_key}\": \"{}\"}}\n", self.pid, self.addr);
        fs::write(path, json)?;
        Ok(())
    }

    pub(crate) fn read(path: &Path, addr_key: &str) -> Result<Option<Self>> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display()).into()),
        };
        let field = |name: &str| {
            let (_, rest) = text.split_once(&format!("\"{name}\":"))?;
            let value = rest.trim_start().trim_start_matches('"');
            let end = value.find(['"', ',', '}'])?;
            Some(value[..end].trim().to_string())
        };
        let pid = field("pid").and_then(|pid| pid.parse().ok());
        match (pid, field(addr_key)) {
            (Some(pid), Some(addr)) => Ok(Some(Self { pid, addr })),
            _ => Err(format!("{} is damaged: remove it and stop the server by hand", path.display()).into()),
        }
    }
}

/// Whether `pid` is a live process of `program`: not gone, not a zombie, and
/// not a recycled pid now used by something else.
pub(crate) fn is_running(pid: u32, program: &str) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    !matches!(state, Some('Z' | 'X')) && String::from_utf8_lossy(&cmdline).contains(program)
}

/// SIGTERM, up to 10 s for `pid` to exit, then SIGKILL. `what` names it in messages.
pub(crate) fn stop(pid: u32, program: &str, what: &str) -> Result {
    signal(pid, "TERM")?;
    if !wait_for_exit(pid, program, Duration::from_secs(10)) {
        step(format!("{what} {pid} ignored SIGTERM for 10 s, killing it"));
        signal(pid, "KILL")?;
        if !wait_for_exit(pid, program, Duration::from_secs(5)) {
            return Err(format!("{what} {pid} survived SIGKILL").into());
        }
    }
    Ok(())
}

fn signal(pid: u32, signal: &str) -> Result {
    crate::run(Command::new("sh").arg("-c").arg(format!("kill -{signal} {pid}")))
}

fn wait_for_exit(pid: u32, program: &str, timeout: Duration) -> bool {
    let started = Instant::now();
    while is_running(pid, program) {
        if started.elapsed() >= timeout {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
    true
}
