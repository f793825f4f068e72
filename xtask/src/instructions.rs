//! `cargo xtask instructions`: how many instructions each side of a stack executes per
//! call, counted by valgrind's callgrind. Unlike the timings of `roundtrip`, the count
//! is the same from one run to the next, whatever else the machine is doing, so a
//! change of a few percent shows.
//!
//! Each stack runs twice under callgrind, with 1,000 and then 5,000 sequential calls;
//! the difference, over the 4,000 calls between them, leaves out starting up and
//! warming up. The driver is the client; the server is its `roundtrip serve` child.

use crate::{cargo, step, workspace_root, Result};
use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

/// The stacks counted when none are named.
const STACKS: &str = "courier-msgpack,courier-protobuf,courier-json,courier-rest,hyper-msgpack,tarpc,floor";

/// The sequential calls of the short and the long run.
const CALLS: (u64, u64) = (1_000, 5_000);

/// Counts the stacks in `args` (`STACK,...`; all of `STACKS` when empty).
pub(crate) fn run(args: &[String]) -> Result {
    let stacks = match args {
        [] => STACKS.to_owned(),
        [stacks] => stacks.clone(),
        _ => return Err("usage: cargo xtask instructions [STACK,...]".into()),
    };
    step("building the roundtrip benchmark (release)");
    crate::run(cargo().args(["build", "--release", "-p", "courier-benches", "--bin", "roundtrip"]))?;
    let binary = workspace_root().join("target/release/roundtrip");
    let mut rows = Vec::new();
    for stack in stacks.split(',') {
        step(format!("counting {stack} under callgrind"));
        let short = count(&binary, stack, CALLS.0)?;
        let long = count(&binary, stack, CALLS.1)?;
        let per_call = |long: u64, short: u64| long.saturating_sub(short) / (CALLS.1 - CALLS.0);
        rows.push((stack.to_owned(), per_call(long.0, short.0), per_call(long.1, short.1)));
    }
    println!("Instructions per sequential call (callgrind; 13-node tree):\n");
    println!("| stack | client | server | total |\n|---|---:|---:|---:|");
    for (stack, client, server) in rows {
        println!("| {stack} | {client} | {server} | {} |", client + server);
    }
    Ok(())
}

/// The instructions the driver and its server executed in one run of `calls` calls.
fn count(binary: &Path, stack: &str, calls: u64) -> Result<(u64, u64)> {
    let dir = workspace_root().join(format!("target/callgrind/{stack}-{calls}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir)?;
    let calls = calls.to_string();
    let mut command = Command::new("valgrind");
    command
        .current_dir(&dir)
        .args(["--tool=callgrind", "--trace-children=yes", "--callgrind-out-file=out.%p"])
        .arg(binary)
        .args(["--only", stack, "--rounds", "1", "--warmup", "100", "--calls", &calls])
        .args(["--seconds", "0.001", "--growth", "none"])
        .stdout(std::process::Stdio::null());
    crate::run(&mut command).map_err(|error| format!("{error} (is valgrind installed?)"))?;
    let (mut client, mut server) = (0, 0);
    for file in fs::read_dir(&dir)? {
        let (is_server, total) = totals(&file?.path())?;
        *if is_server { &mut server } else { &mut client } += total;
    }
    Ok((client, server))
}

/// Whether the callgrind output at `path` is of a server process, and its total.
fn totals(path: &PathBuf) -> Result<(bool, u64)> {
    let text = fs::read_to_string(path)?;
    let line = |prefix: &str| text.lines().find_map(|line| line.strip_prefix(prefix)).map(str::trim);
    let is_server = line("cmd:").is_some_and(|cmd| cmd.split_whitespace().nth(1) == Some("serve"));
    let total = line("totals:")
        .and_then(|total| total.parse().ok())
        .ok_or_else(|| format!("{} has no total", path.display()))?;
    Ok((is_server, total))
}
