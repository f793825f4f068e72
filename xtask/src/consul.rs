use std::fs::{self, File};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::consul_process::{self, AgentConfig, CONSUL_VERSION};
use crate::{format_elapsed, step, tools_dir, workspace_root, Result};

const USAGE: &str = "usage: cargo xtask consul <install | up [--http-port N] [--acl] | down>";
const MODULE: &str = "github.com/hashicorp/consul";
const DEV_NODE: &str = "courier-dev";
const DEV_TOKEN: &str = "root";

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
    let go = consul_process::find_on_path("go")
        .ok_or("consul is not installed and `go` is not on PATH: install Go, or put a consul binary on PATH")?;
    let target = consul_process::cached_binary(root);
    let target_dir = target.parent().expect("cached binary has a folder");
    fs::create_dir_all(target_dir)?;
    let log = tools_dir().join("consul-build.log");
    step(format!(
        "building consul v{CONSUL_VERSION} from the Go module proxy (takes a few minutes cold)... \
         log: {}",
        log.display()
    ));
    let started = Instant::now();
    // Unique names: two builds at once must not share a module or a half-written binary.
    let work = std::env::temp_dir().join(format!("courier-consul-build-{}", process::id()));
    let partial = target_dir.join(format!(".consul.partial-{}", process::id()));
    let built = build(&go, &work, &partial, &log).and_then(|()| Ok(fs::rename(&partial, &target)?));
    let _ = fs::remove_dir_all(&work);
    if let Err(e) = built {
        let _ = fs::remove_file(&partial);
        return Err(format!(
            "building consul failed: {e}\n--- end of {} ---\n{}",
            log.display(),
            consul_process::log_tail(&log, 30)
        )
        .into());
    }
    step(format!("consul v{CONSUL_VERSION} built in {}: {}", format_elapsed(started.elapsed()), target.display()));
    Ok(target)
}

/// Builds consul as the main package of a throwaway module, which is how
/// `go install` would do it were consul's go.mod free of `replace` lines.
fn build(go: &Path, work: &Path, output: &Path, log: &Path) -> Result {
    let _ = fs::remove_dir_all(work);
    fs::create_dir_all(work)?;
    let log = File::create(log)?;
    let module = format!("{MODULE}@v{CONSUL_VERSION}");
    let output = output.to_string_lossy();
    for args in
        [&["mod", "init", "wrapper"][..], &["get", &module], &["build", "-mod=mod", "-trimpath", "-o", &output, MODULE]]
    {
        let mut command = Command::new(go);
        command
            .args(args)
            .current_dir(work)
            // The checksum database is not reachable from our machines; the
            // module proxy is.
            .env("GOSUMDB", "off")
            .env("GOFLAGS", "-mod=mod")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?);
        step(format!("  go {}", args.join(" ")));
        crate::run(&mut command)?;
    }
    Ok(())
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

    if let Some(state) = State::read()? {
        if is_running(state.pid) {
            return Err(format!(
                "a consul agent is already running (pid {} on {}): run `cargo xtask consul down` first",
                state.pid, state.http_addr
            )
            .into());
        }
        fs::remove_file(State::path())?;
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
    State { pid: child.id(), http_addr: config.http_addr() }.write()?;
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
    let Some(state) = State::read()? else {
        step(format!("no consul agent recorded in {}: nothing to stop", State::path().display()));
        return Ok(());
    };
    if is_running(state.pid) {
        signal(state.pid, "TERM")?;
        if !wait_for_exit(state.pid, Duration::from_secs(10)) {
            step(format!("consul agent {} ignored SIGTERM for 10 s, killing it", state.pid));
            signal(state.pid, "KILL")?;
            if !wait_for_exit(state.pid, Duration::from_secs(5)) {
                return Err(format!("consul agent {} survived SIGKILL", state.pid).into());
            }
        }
        step(format!("stopped consul agent (pid {} on {})", state.pid, state.http_addr));
    } else {
        step(format!("consul agent {} had already exited", state.pid));
    }
    fs::remove_file(State::path())?;
    Ok(())
}

/// What `up` leaves for `down`, in `target/tools/consul-agent.json`.
struct State {
    pid: u32,
    http_addr: String,
}

impl State {
    fn path() -> PathBuf {
        tools_dir().join("consul-agent.json")
    }

    fn write(&self) -> Result {
        let json = format!("{{\"pid\": {}, \"http_addr\": \"{}\"}}\n", self.pid, self.http_addr);
        fs::write(Self::path(), json)?;
        Ok(())
    }

    fn read() -> Result<Option<Self>> {
        let path = Self::path();
        let text = match fs::read_to_string(&path) {
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
        match (pid, field("http_addr")) {
            (Some(pid), Some(http_addr)) => Ok(Some(Self { pid, http_addr })),
            _ => Err(format!("{} is damaged: remove it and stop consul by hand", path.display()).into()),
        }
    }
}

/// Whether `pid` is a live consul process: not gone, not a zombie, and not
/// a recycled pid now used by something else.
fn is_running(pid: u32) -> bool {
    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
    let Ok(stat) = fs::read_to_string(proc_dir.join("stat")) else {
        return false;
    };
    let state = stat.rsplit_once(')').and_then(|(_, rest)| rest.trim_start().chars().next());
    let cmdline = fs::read(proc_dir.join("cmdline")).unwrap_or_default();
    !matches!(state, Some('Z' | 'X')) && String::from_utf8_lossy(&cmdline).contains("consul")
}

fn signal(pid: u32, signal: &str) -> Result {
    crate::run(Command::new("sh").arg("-c").arg(format!("kill -{signal} {pid}")))
}

fn wait_for_exit(pid: u32, timeout: Duration) -> bool {
    let started = Instant::now();
    while is_running(pid) {
        if started.elapsed() >= timeout {
            return false;
        }
        thread::sleep(Duration::from_millis(100));
    }
    true
}
