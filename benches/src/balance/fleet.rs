//! The `greeter-server` processes, started with their delays and killed with the driver.

use crate::Error;
use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc::{self, RecvTimeoutError},
    thread,
    time::Duration,
};

/// How long a server may take from spawn to `listening on`.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

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
    children: Vec<Child>,
    urls: Vec<String>,
}

impl Fleet {
    /// One server per spec, each listening once this returns.
    pub(crate) fn start(specs: &[Spec]) -> Result<Self, Error> {
        let exe = server_executable()?;
        let mut fleet = Self::default();
        for spec in specs {
            let url = fleet.spawn(&exe, spec)?;
            fleet.urls.push(url);
        }
        Ok(fleet)
    }

    /// The servers' URLs, in the order of the specs.
    pub(crate) fn urls(&self) -> &[String] {
        &self.urls
    }

    fn spawn(&mut self, exe: &Path, spec: &Spec) -> Result<String, Error> {
        let name = spec.name;
        let mut child = Command::new(exe)
            .env("COURIER_INSTANCE", name)
            .env("COURIER_HELLO_DELAY_MS", spec.delay_ms.to_string())
            // Three servers cannot share one fixed address.
            .env_remove("COURIER_BIND")
            // The proxies are told the URLs; a Consul registration would only outlive a
            // killed server.
            .env_remove("CONSUL_HTTP_ADDR")
            // The server logs to stdout: per-call logging would slow the servers down
            // and could bury the `listening on` line.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        let stdout = child.stdout.take().expect("stdout was configured as a pipe");
        // Held before waiting, so the process dies with us whatever happens next.
        self.children.push(child);

        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let url = loop {
                match lines.next() {
                    Some(Ok(line)) => match line.strip_prefix("listening on ") {
                        Some(url) => break Ok(url.trim_end().to_owned()),
                        None => eprintln!("{name}: {line}"),
                    },
                    Some(Err(error)) => break Err(format!("cannot read its stdout: {error}")),
                    None => break Err("it exited before listening".to_owned()),
                }
            };
            let listening = url.is_ok();
            let _ = sender.send(url);
            if listening {
                // Keeps reading, so that a server logging an error never blocks on a full
                // pipe or dies of a broken one, and the error is seen.
                for line in lines.map_while(Result::ok) {
                    eprintln!("{name}: {line}");
                }
            }
        });
        let url = match receiver.recv_timeout(STARTUP_DEADLINE) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("it did not print `listening on` within {STARTUP_DEADLINE:?}"))
            }
            Err(RecvTimeoutError::Disconnected) => Err("lost the reader of its stdout".to_owned()),
        }
        .map_err(|error| format!("server {name}: {error}"))?;
        match url.starts_with("http://") {
            true => Ok(url),
            false => Err(format!("server {name} listens on `{url}`, not on an http:// URL").into()),
        }
    }
}

impl Drop for Fleet {
    fn drop(&mut self) {
        for child in &mut self.children {
            // Fails only for a process that already exited, which is what we want anyway.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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
