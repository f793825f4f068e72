//! What the end-to-end tests share: greeter servers in this process and in others, how
//! to tell that every instance answers, and the checks of the queued-method tests.

#[allow(dead_code, reason = "only the tests of queued methods use it")]
pub(crate) mod reports;

use courier::{prelude::*, server::ServerError};
use courier_samples::{Greeter, GreeterComponent, Polite};
use std::{
    collections::BTreeSet,
    future::Future,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

/// Starts a greeter whose `whoami` answers `name`, registered in `registry`.
#[allow(dead_code, reason = "only the tests of live instances start greeters in process")]
pub(crate) async fn greeter_named(registry: impl ComponentRegistry, name: &str) -> Result<Server, ServerError> {
    Server::builder()
        .registry(registry)
        .component(GreeterComponent)
        .service::<dyn Greeter>(Polite::named(name))
        .start()
        .await
}

/// Whether `count` different instances answer within `2 * count` calls of `ask`, which
/// answers with the name of the instance that took the call (or nothing, if it failed).
#[allow(dead_code, reason = "only the tests of live instances count them")]
pub(crate) async fn all_answer<F, Fut>(count: usize, ask: F) -> bool
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<String>>,
{
    let mut seen = BTreeSet::new();
    for _ in 0..2 * count {
        seen.extend(ask().await);
    }
    seen.len() == count
}

/// Runs a greeter client binary (`greeter-client`, `greeter-blocking-client`) for
/// `calls` calls as it is set up, and returns the instance that answered each,
/// after checking that it succeeded and greeted first.
#[allow(dead_code, reason = "only the tests of the example clients run them")]
pub(crate) fn instances_answering(client: &mut Command, calls: usize) -> Vec<String> {
    let output = client.arg(calls.to_string()).output().expect("run a greeter client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "client failed: {}", String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"Hello, caller!"), "{stdout}");
    let answered: Vec<String> =
        lines[1..].iter().filter_map(|line| line.split("answered by ").nth(1)).map(str::to_owned).collect();
    assert_eq!(answered.len(), calls, "{stdout}");
    answered
}

/// A `greeter-server` process, killed when dropped.
pub(crate) struct ServerProcess {
    child: Child,
    /// Where it serves.
    #[allow(dead_code, reason = "not every test binary calls a server process by its URL")]
    pub(crate) url: String,
}

impl ServerProcess {
    /// Starts `greeter-server` named `instance`, and waits until it serves.
    #[allow(dead_code, reason = "not every test binary starts servers without a registry")]
    pub(crate) fn start(instance: &str) -> Self {
        Self::start_with(instance, &[])
    }

    /// Starts `greeter-server` named `instance` with more environment variables.
    pub(crate) fn start_with(instance: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_greeter-server"));
        command.env("COURIER_INSTANCE", instance).envs(env.iter().copied());
        Self::spawn(command)
    }

    /// Starts a server binary, and waits until it prints `listening on <url>`.
    pub(crate) fn spawn(mut command: Command) -> Self {
        let mut child = command.stdout(Stdio::piped()).spawn().expect("spawn a server binary");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = sender.send(url.to_owned());
                }
            }
        });
        let url = receiver.recv_timeout(Duration::from_secs(30)).expect("the server prints its URL within 30 s");
        Self { child, url }
    }
}

impl ServerProcess {
    /// Asks the process to stop gracefully, as `kill -TERM` does.
    #[allow(dead_code, reason = "not every test binary stops servers")]
    pub(crate) fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        assert!(status.is_ok_and(|status| status.success()), "kill -TERM");
    }

    /// Whether the process still runs.
    #[allow(dead_code, reason = "not every test binary watches servers die")]
    pub(crate) fn is_running(&mut self) -> bool {
        self.child.try_wait().is_ok_and(|status| status.is_none())
    }

    /// Kills the process at once, as a crash or `kill -9` would.
    #[allow(dead_code, reason = "not every test binary kills servers")]
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
