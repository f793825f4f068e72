//! Starting the server processes, and making sure they end with the driver.

use crate::{servers::ServerKind, Error};
use std::{
    io::{self, BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc::{self, RecvTimeoutError},
    thread,
    time::Duration,
};

/// How long a server may take from spawn to `listening on`.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

/// Server processes, killed when this is dropped: at the end of the run, or while a
/// panic unwinds.
#[derive(Debug, Default)]
pub(crate) struct Servers {
    children: Vec<Child>,
}

impl Servers {
    /// Starts `roundtrip serve <kind>` and returns the URL it listens on.
    pub(crate) fn start(&mut self, kind: ServerKind) -> Result<String, Error> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
        let mut child = Command::new(exe)
            .args(["serve", kind.name()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start the {} server: {e}", kind.name()))?;
        let stdout = child.stdout.take().expect("stdout was configured as a pipe");
        // Held before waiting, so the process dies with us whatever happens next.
        self.children.push(child);

        let (sender, receiver) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = sender.send(read);
            // Keeps reading so that a server printing more never dies of a broken pipe.
            let _ = io::copy(&mut reader, &mut io::sink());
        });
        let line = match receiver.recv_timeout(STARTUP_DEADLINE) {
            Ok(Ok(line)) => line,
            Ok(Err(error)) => return Err(format!("cannot read the {} server's stdout: {error}", kind.name()).into()),
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!("the {} server did not listen within {STARTUP_DEADLINE:?}", kind.name()).into())
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!("lost the reader of the {} server's stdout", kind.name()).into())
            }
        };
        line.trim_end()
            .strip_prefix("listening on ")
            .filter(|url| url.starts_with("http://"))
            .map(str::to_owned)
            .ok_or_else(|| match line.is_empty() {
                true => format!("the {} server exited before listening", kind.name()).into(),
                false => {
                    format!("the {} server said `{}`, not `listening on http://...`", kind.name(), line.trim_end())
                        .into()
                }
            })
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
