//! The server processes a benchmark starts: each is waited for until it listens, can be
//! asked questions on its stdin, and is killed when the benchmark ends.

use crate::Error;
use std::{
    io::{BufRead, BufReader, Write},
    path::Path,
    process::{Child, ChildStdout, Command, Stdio},
    sync::mpsc::{self, Receiver, RecvTimeoutError, Sender},
    thread,
    time::Duration,
};

/// How long a server may take from spawn to `listening on`.
const STARTUP_DEADLINE: Duration = Duration::from_secs(15);

/// How long a server may take to answer a question.
const ANSWER_DEADLINE: Duration = Duration::from_secs(5);

/// The prefix of the stdout line that answers a question.
pub const ANSWER: &str = "answer ";

/// Server processes, killed when this is dropped: at the end of the run, on an error, or
/// while a panic unwinds.
#[derive(Debug, Default)]
pub struct Servers {
    children: Vec<Child>,
    /// Per server, in the order they started, the answers it prints.
    answers: Vec<Receiver<String>>,
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
        let (answers, answered) = mpsc::channel();
        self.answers.push(answered);
        let reader_name = name.to_owned();
        thread::spawn(move || read_stdout(&reader_name, stdout, &sender, &answers));
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

    /// Writes `question` as a line to the stdin of the `index`th server started, and
    /// returns the rest of the line it prints that starts with [`ANSWER`].
    pub fn ask(&mut self, index: usize, question: &str) -> Result<String, Error> {
        let (Some(child), Some(answers)) = (self.children.get_mut(index), self.answers.get(index)) else {
            return Err(format!("no server number {index}").into());
        };
        let stdin = child.stdin.as_mut().ok_or("the server's stdin is not a pipe")?;
        writeln!(stdin, "{question}")
            .and_then(|()| stdin.flush())
            .map_err(|e| format!("cannot ask the server: {e}"))?;
        answers.recv_timeout(ANSWER_DEADLINE).map_err(|_| format!("the server did not answer `{question}`").into())
    }
}

/// Reads the stdout of the server `name` and sends the URL of its `listening on` line, or
/// why there is none; then reads on, so that a server logging an error never blocks on a
/// full pipe or dies of a broken one. Answers go to `answers`; every other line goes to
/// stderr after `name`.
fn read_stdout(name: &str, stdout: ChildStdout, url: &Sender<Result<String, String>>, answers: &Sender<String>) {
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
            match line.strip_prefix(ANSWER) {
                Some(answer) => {
                    let _ = answers.send(answer.to_owned());
                }
                None => eprintln!("{name}: {line}"),
            }
        }
    }
}

/// How long a server may take to exit once its stdin closes, before it is killed.
const EXIT_DEADLINE: Duration = Duration::from_secs(3);

impl Drop for Servers {
    fn drop(&mut self) {
        // Closing stdin asks each server to exit, so that what runs at exit runs (a
        // profiler writing its report, say); one still there at the deadline is killed.
        for child in &mut self.children {
            drop(child.stdin.take());
        }
        let deadline = std::time::Instant::now() + EXIT_DEADLINE;
        for child in &mut self.children {
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                thread::sleep(Duration::from_millis(10));
            }
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

    #[test]
    fn a_question_gets_the_answer_the_server_prints_among_its_other_lines() {
        let mut servers = Servers::default();
        let mut server =
            shell("echo 'listening on http://127.0.0.1:1'; while read q; do echo noise; echo \"answer to $q\"; done");
        server.stdin(Stdio::piped());
        servers.start("echo", &mut server).unwrap();
        assert_eq!(servers.ask(0, "one").unwrap(), "to one");
        assert_eq!(servers.ask(0, "two").unwrap(), "to two");
        assert!(servers.ask(1, "three").is_err());
    }
}
