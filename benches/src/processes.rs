//! The server processes a benchmark starts: each is waited for until it listens, and
//! killed when the benchmark ends.

use crate::Error;
use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc::{self, RecvTimeoutError, Sender},
    thread,
    time::Duration,
};

/// How long a server may take from spawn to `listening on`.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

/// Server processes, killed when this is dropped: at the end of the run, on an error, or
/// while a panic unwinds.
#[derive(Debug, Default)]
pub struct Servers {
    children: Vec<Child>,
}

impl Servers {
    /// Starts the server `name` with `command`, and returns the URL of its stdout's
    /// `listening on http://...` (or `https://...`, `tcp://...`) line once it prints it. Every other line it prints goes
    /// to stderr after its name.
    pub fn start(&mut self, name: &str, command: &mut Command) -> Result<String, Error> {
        let mut child = match command.stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn() {
            Ok(child) => child,
            Err(error) => {
                let program = Path::new(command.get_program()).display();
                return Err(format!("cannot start server {name}, {program}: {error}").into());
            }
        };
        let stdout = child.stdout.take().expect("stdout was configured as a pipe");
        // Held before waiting, so the process dies with us whatever happens next.
        self.children.push(child);

        let (sender, receiver) = mpsc::channel();
        let reader_name = name.to_owned();
        thread::spawn(move || read_stdout(&reader_name, stdout, &sender));
        let url = match receiver.recv_timeout(STARTUP_DEADLINE) {
            Ok(result) => result,
            Err(RecvTimeoutError::Timeout) => {
                Err(format!("it did not print `listening on` within {STARTUP_DEADLINE:?}"))
            }
            Err(RecvTimeoutError::Disconnected) => Err("lost the reader of its stdout".to_owned()),
        }
        .map_err(|error| format!("server {name}: {error}"))?;
        match ["http://", "https://", "tcp://"].iter().any(|scheme| url.starts_with(scheme)) {
            true => Ok(url),
            false => Err(format!("server {name} listens on `{url}`, not on an http://, https:// or tcp:// URL").into()),
        }
    }
}

/// Reads the stdout of the server `name` and sends the URL of its `listening on` line, or
/// why there is none; then reads on, so that a server logging an error never blocks on a
/// full pipe or dies of a broken one. Every other line goes to stderr after `name`.
fn read_stdout(name: &str, stdout: ChildStdout, url: &Sender<Result<String, String>>) {
    let mut lines = BufReader::new(stdout).lines();
    let listening = loop {
        match lines.next() {
            Some(Ok(line)) => match line.strip_prefix("listening on ") {
                Some(listening) => break Ok(listening.trim_end().to_owned()),
                None => eprintln!("{name}: {line}"),
            },
            Some(Err(error)) => break Err(format!("cannot read its stdout: {error}")),
            None => break Err("it exited before listening".to_owned()),
        }
    };
    let listens = listening.is_ok();
    let _ = url.send(listening);
    if listens {
        for line in lines.map_while(Result::ok) {
            eprintln!("{name}: {line}");
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.children {
            // Fails only for a process that already exited, which is what we want anyway.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn shell(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]).stdin(Stdio::null());
        command
    }

    #[test]
    fn the_url_is_the_one_the_server_prints_after_its_other_lines() {
        let mut servers = Servers::default();
        let mut server = shell("echo starting; echo 'listening on http://127.0.0.1:1'; exec sleep 30");
        assert_eq!(servers.start("test", &mut server).unwrap(), "http://127.0.0.1:1");
    }

    #[test]
    fn a_server_that_exits_or_listens_elsewhere_fails_to_start() {
        let mut servers = Servers::default();
        let error = servers.start("quitter", &mut shell("echo bye")).unwrap_err();
        assert_eq!(error.to_string(), "server quitter: it exited before listening");
        let error = servers.start("odd", &mut shell("echo 'listening on unix:/tmp/s'; exec sleep 30")).unwrap_err();
        assert_eq!(error.to_string(), "server odd listens on `unix:/tmp/s`, not on an http://, https:// or tcp:// URL");
    }
}
