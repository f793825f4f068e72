use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::time::Instant;

use crate::consul_process::{self, AgentConfig, CONSUL_VERSION};
use crate::daemon::{self, State};
use crate::{format_elapsed, go, step, tools_dir, workspace_root, Result};

const USAGE: &str = "usage: cargo xtask consul <install | up [--http-port N] [--acl] | down>";
const MODULE: &str = "github.com/hashicorp/consul";
const DEV_NODE: &str = "courier-dev";
const DEV_TOKEN: &str = "root";
const STATE_ADDR_KEY: &str = "http_addr";

pub(crate) fn run(args: &[String]) -> Result {
    match args.split_first() {
        Some((cmd, [])) if cmd == "install" => install().map(drop),
        Some((cmd, rest)) if cmd == "up" => up(rest),
        Some((cmd, [])) if cmd == "down" => down(),
        _ => Err(USAGE.into()),
    }
}

/// Returns a usable consul binary, building the pinned version into
/// `target/tools/consul-<version>/consul` when there is none yet.
pub(crate) fn install() -> Result<PathBuf> {
    let root = workspace_root();
    if let Some(bin) = consul_process::find_binary(root) {
        step(format!("consul: using {}", bin.display()));
        return Ok(bin);
    }
    let target = consul_process::cached_binary(root);
    go::build_binary("consul", MODULE, CONSUL_VERSION, &target)?;
    Ok(target)
}

fn up(args: &[String]) -> Result {
    let mut http_port = None;
    let mut acl = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--http-port" => {
                let port = args.next().ok_or("--http-port needs a port number")?;
                http_port = Some(port.parse::<u16>().map_err(|e| format!("--http-port {port}: {e}"))?);
            }
            "--acl" => acl = true,
            other => return Err(format!("unknown argument `{other}`\n{USAGE}").into()),
        }
    }

    if let Some(state) = State::read(&state_path(), STATE_ADDR_KEY)? {
        if daemon::is_running(state.pid, "consul") {
            return Err(format!(
                "a consul agent is already running (pid {} on {}): run `cargo xtask consul down` first",
                state.pid, state.addr
            )
            .into());
        }
        fs::remove_file(state_path())?;
    }

    let bin =
        consul_process::find_binary(workspace_root()).ok_or("consul not found: run `cargo xtask consul install`")?;
    let config = AgentConfig::new(DEV_NODE.to_string(), http_port, acl.then(|| DEV_TOKEN.to_string()))?;
    let log = tools_dir().join("consul-agent.log");
    let _ = fs::remove_file(&log);
    let mut command = config.command(&bin, &log)?;
    // A group of its own: a Ctrl-C in the shell that ran `up` must not reach it.
    command.process_group(0);
    step(format!(
        "starting {} agent -dev on {}{} (log: {})",
        bin.display(),
        config.http_addr(),
        if acl { " with ACLs" } else { "" },
        log.display()
    ));
    let started = Instant::now();
    let child = consul_process::start(command, &config, &log)?;
    State { pid: child.id(), addr: config.http_addr() }.write(&state_path(), STATE_ADDR_KEY)?;
    step(format!(
        "consul agent ready in {} (pid {}); stop it with `cargo xtask consul down`",
        format_elapsed(started.elapsed()),
        child.id()
    ));
    println!("CONSUL_HTTP_ADDR={}", config.http_addr());
    if let Some(token) = &config.acl_token {
        println!("CONSUL_HTTP_TOKEN={token}");
    }
    Ok(())
}

fn down() -> Result {
    let path = state_path();
    let Some(state) = State::read(&path, STATE_ADDR_KEY)? else {
        step(format!("no consul agent recorded in {}: nothing to stop", path.display()));
        return Ok(());
    };
    if daemon::is_running(state.pid, "consul") {
        daemon::stop(state.pid, "consul", "consul agent")?;
        step(format!("stopped consul agent (pid {} on {})", state.pid, state.addr));
    } else {
        step(format!("consul agent {} had already exited", state.pid));
    }
    fs::remove_file(path)?;
    Ok(())
}

/// What `up` leaves for `down`.
fn state_path() -> PathBuf {
    tools_dir().join("consul-agent.json")
}
