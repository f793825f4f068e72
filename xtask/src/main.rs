//! `cargo xtask <task>`: the project's own tooling, so that a machine with
//! only Rust, Go and Python can prepare everything and run the tests.

// The tests start Consul and NATS through the same code; compiled in here
// rather than depended upon so that xtask stays free of tokio and builds in
// seconds.
#[path = "../../crates/courier-test-support/src/consul_process.rs"]
mod consul_process;
#[path = "../../crates/courier-test-support/src/nats_process.rs"]
mod nats_process;
#[path = "../../crates/courier-test-support/src/process_util.rs"]
mod process_util;

mod bench;
mod browser;
mod ci;
mod consul;
mod daemon;
mod go;
mod instructions;
mod nats;
mod test;

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  consul install             build consul v1.16.2 into target/tools (no-op when present)
  consul up [--http-port N] [--acl]
                             start a background dev agent on 127.0.0.1, print CONSUL_HTTP_ADDR
  consul down                stop the agent started by `consul up`
  nats install               build nats-server v2.14.10 into target/tools (no-op when present)
  nats up [--port N]         start a background nats-server with JetStream on 127.0.0.1 (file
                             storage in target/tools/nats-dev), print NATS_URL
  nats down                  stop the server started by `nats up`
  test [cargo test args]     install consul, nats-server and the Python packages, then run every test
  ci                         fmt check, clippy, then `test`
  bench [args]               run the roundtrip benchmark (release build)
  instructions [STACK,...]   count each side's instructions per call of the roundtrip stacks
                             with valgrind's callgrind: exact where timings are noisy
  proto                      write the .proto schemas of the examples' services to proto/
  hash-password              read a password on stdin, print its argon2id hash for a users file";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => {
            eprintln!("{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let result = match task {
        "consul" => consul::run(rest),
        "nats" => nats::run(rest),
        "test" => test::run(rest),
        "ci" => ci::run(rest),
        "bench" => bench::run(rest),
        "instructions" => instructions::run(rest),
        "proto" => run(Command::new(env!("CARGO")).current_dir(workspace_root()).args([
            "run",
            "--quiet",
            "-p",
            "courier-examples",
            "--example",
            "proto",
            "--",
            "proto",
        ])),
        "hash-password" => run(Command::new(env!("CARGO")).current_dir(workspace_root()).args([
            "run",
            "--quiet",
            "-p",
            "courier-auth",
            "--example",
            "hash_password",
        ])),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask sits one level below the workspace root")
}

/// Where xtask keeps what it installs and runs: `target/tools`.
fn tools_dir() -> PathBuf {
    workspace_root().join("target/tools")
}

/// Progress goes to stderr so that stdout carries only what scripts may
/// capture, such as `CONSUL_HTTP_ADDR=...` or `NATS_URL=...`.
fn step(message: impl std::fmt::Display) {
    eprintln!("[xtask] {message}");
}

/// The cargo that runs xtask, in the workspace root.
fn cargo() -> Command {
    let mut command = Command::new(env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

/// Runs `command` to completion and fails unless it exits successfully.
fn run(command: &mut Command) -> Result {
    let status = command.status().map_err(|e| format!("cannot run `{}`: {e}", describe(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` failed ({status})", describe(command)).into())
    }
}

fn describe(command: &Command) -> String {
    let program = Path::new(command.get_program()).file_name().unwrap_or(command.get_program());
    std::iter::once(program).chain(command.get_args()).map(|part| part.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

fn format_elapsed(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs >= 60 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{:.1}s", elapsed.as_secs_f64())
    }
}
