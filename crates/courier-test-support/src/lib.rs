//! Shared pieces for courier's integration tests: a throwaway Consul agent,
//! a throwaway NATS server with JetStream, certificate authorities, polling with a deadline, free ports
//! and the interop tests' Python.
//!
//! External tools follow one rule: when one is missing, the test is skipped
//! with a single loud line on stderr, except under CI (`CI` set), where a
//! skipped test would hide a broken setup, so it panics instead.
//! `cargo xtask test` installs everything and runs the tests with it.

mod browser;
mod consul;
mod consul_process;
mod nats;
mod nats_process;
mod pki;
mod process_util;

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use browser::{Browser, Element};
pub use consul::ConsulAgent;
pub use nats::NatsServer;
pub use pki::{Issued, TestCa};

const WAIT_POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Polls `condition` every 50 ms until it returns true.
///
/// # Panics
///
/// When `deadline` passes first, naming `what` and the time waited.
pub async fn wait_until<F, Fut>(deadline: Duration, what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    // tokio's clock, so tests that pause time still reach the deadline.
    let started = tokio::time::Instant::now();
    loop {
        if condition().await {
            return;
        }
        if started.elapsed() >= deadline {
            panic!("timed out waiting until {what} (waited {:.1?}, deadline {deadline:?})", started.elapsed());
        }
        tokio::time::sleep(WAIT_POLL_INTERVAL).await;
    }
}

/// A loopback TCP port that was free a moment ago.
pub fn free_port() -> u16 {
    process_util::free_ports(1).expect("no free loopback port")[0]
}

/// The Python interpreter that has the interop tests' packages (protobuf,
/// grpcio-tools, prometheus-client): `COURIER_PYTHON`, else the venv that
/// `cargo xtask test` creates in `target/tools/venv`.
///
/// Returns `None` (after one skip line) when there is none; panics under CI.
pub fn python() -> Option<PathBuf> {
    if let Some(python) = std::env::var_os("COURIER_PYTHON").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(python));
    }
    let venv = workspace_root().join("target/tools/venv/bin/python");
    if venv.is_file() {
        return Some(venv);
    }
    skip_or_panic(
        "python with the interop packages not found — run `cargo xtask test` \
         (it creates target/tools/venv)",
    );
    None
}

pub(crate) fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/courier-test-support sits two levels below the workspace root")
}

pub(crate) fn skip_or_panic(missing: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("{missing}\n(CI is set, so this test fails instead of being skipped)");
    }
    // Straight to the process's stderr: the test harness captures `eprintln!`
    // and would only show the line for failing tests.
    let _ = writeln!(std::io::stderr(), "SKIPPED: {missing}");
}
