use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Instant;

use crate::daemon::{self, State};
use crate::nats_process::{self, ServerConfig, NATS_VERSION};
use crate::{format_elapsed, go, step, tools_dir, workspace_root, Result};

const USAGE: &str = "usage: cargo xtask nats <install | up [--port N] | down>";
const MODULE: &str = "github.com/nats-io/nats-server/v2";
const PROGRAM: &str = "nats-server";
const STATE_ADDR_KEY: &str = "url";

pub(crate) fn run(args: &[String]) -> Result {
    match args.split_first() {
        Some((cmd, [])) if cmd == "install" => install().map(drop),
        Some((cmd, rest)) if cmd == "up" => up(rest),
        Some((cmd, [])) if cmd == "down" => down(),
        _ => Err(USAGE.into()),
    }
}

/// Returns a usable nats-server binary, building the pinned version into
/// `target/tools/nats-server-<version>/nats-server` when there is none yet.
pub(crate) fn install() -> Result<PathBuf> {
    let root = workspace_root();
    if let Some(bin) = nats_process::find_binary(root) {
        step(format!("nats-server: using {}", bin.display()));
        return Ok(bin);
    }
    let target = nats_process::cached_binary(root);
    go::build_binary(PROGRAM, MODULE, NATS_VERSION, &target)?;
    Ok(target)
}

fn up(args: &[String]) -> Result {
    let mut port = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a port number")?;
                port = Some(value.parse::<u16>().map_err(|e| format!("--port {value}: {e}"))?);
            }
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }

    if let Some(state) = State::read(&state_path(), STATE_ADDR_KEY)? {
        if daemon::is_running(state.pid, PROGRAM) {
            return Err(format!(
                "a nats-server is already running (pid {} on {}): run `cargo xtask nats down` first",
                state.pid, state.addr
            )
            .into());
        }
        fs::remove_file(state_path())?;
    }

    let bin =
        nats_process::find_binary(workspace_root()).ok_or("nats-server not found: run `cargo xtask nats install`")?;
    // Streams outlive `down` and `up`, as they would on a real server.
    let config = ServerConfig::new(port, tools_dir().join("nats-dev"))?;
    let log = tools_dir().join("nats-server.log");
    let _ = fs::remove_file(&log);
    let mut command = config.command(&bin, &log)?;
    // A group of its own: a Ctrl-C in the shell that ran `up` must not reach it.
    command.process_group(0);
    step(format!(
        "starting {} with JetStream on {} (store: {}, monitoring: http://127.0.0.1:{}, log: {})",
        bin.display(),
        config.url(),
        config.store_dir.display(),
        config.monitor_port,
        log.display()
    ));
    let started = Instant::now();
    let child = nats_process::start(command, &config, &log)?;
    State { pid: child.id(), addr: config.url() }.write(&state_path(), STATE_ADDR_KEY)?;
    step(format!(
        "nats-server ready in {} (pid {}); stop it with `cargo xtask nats down`",
        format_elapsed(started.elapsed()),
        child.id()
    ));
    println!("NATS_URL={}", config.url());
    Ok(())
}

fn down() -> Result {
    let path = state_path();
    let Some(state) = State::read(&path, STATE_ADDR_KEY)? else {
        step(format!("no nats-server recorded in {}: nothing to stop", path.display()));
        return Ok(());
    };
    if daemon::is_running(state.pid, PROGRAM) {
        daemon::stop(state.pid, PROGRAM, PROGRAM)?;
        step(format!("stopped nats-server (pid {} on {})", state.pid, state.addr));
    } else {
        step(format!("nats-server {} had already exited", state.pid));
    }
    fs::remove_file(path)?;
    Ok(())
}

/// What `up` leaves for `down`.
fn state_path() -> PathBuf {
    tools_dir().join("nats-server.json")
}
