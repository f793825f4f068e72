//! `roundtrip`: request/response round trips on loopback, with server and client in
//! separate processes, comparing courier's channels with tarpc (the peer framework),
//! tonic (the peer gRPC framework, beside courier's gRPC), a hand-written axum + reqwest
//! JSON service, a hand-written hyper + MessagePack echo (the
//! least a MessagePack service costs), and a raw hyper echo that marks the floor any
//! HTTP/1 stack pays.
//!
//! `roundtrip [flags]` is the driver: it starts one server process per stack (itself, as
//! `roundtrip serve courier|courier-tls|axum|hyper|hyper-msgpack|tarpc|tonic`), measures every stack in
//! alternating rounds, and prints a markdown table of the medians over rounds.
//!
//! Flags: `--rounds N` (default 5), `--calls N` sequential calls per round (3000),
//! `--seconds S` of concurrent calls per round (2), `--callers N` concurrent callers
//! (64), `--warmup N` calls before each measurement (500), and
//! `--only courier-msgpack,courier-http1,courier-tls,courier-tls-http1,courier-protobuf,courier-json,courier-rest,courier-grpc,tonic,hyper-msgpack,axum,tarpc,floor`
//! to pick stacks.

mod clients;
mod measure;
mod servers;
mod table;
mod tarpc_echo;
mod tonic_echo;

use clients::{Client, Stack};
use courier_benches::{cli, processes::Servers, rounds::turns, with_causes, Error};
use courier_examples::Node;
use measure::{Sample, Settings};
use servers::ServerKind;
use std::{process::ExitCode, sync::Arc, time::Duration};

const USAGE: &str = "\
usage: roundtrip [--rounds N] [--calls N] [--seconds S] [--callers N] [--warmup N] [--only STACK,...]
       roundtrip serve courier|courier-tls|axum|hyper|hyper-msgpack|tarpc

stacks: courier-msgpack, courier-http1, courier-tls, courier-tls-http1, courier-protobuf, courier-json, courier-rest, hyper-msgpack, axum, tarpc, floor";

fn main() -> ExitCode {
    cli::main("roundtrip", USAGE, parse, |command| match command {
        Command::Serve(kind) => servers::serve(kind),
        Command::Bench(options) => drive(&options),
    })
}

enum Command {
    Serve(ServerKind),
    Bench(Options),
}

struct Options {
    rounds: usize,
    settings: Settings,
    stacks: Vec<Stack>,
}

/// What the command line asks for, or `None` when it asks for help.
fn parse(args: &[String]) -> Result<Option<Command>, Error> {
    if let [first, rest @ ..] = args {
        if first == "serve" {
            return match rest {
                [kind] => ServerKind::from_name(kind).map(|kind| Some(Command::Serve(kind))).ok_or_else(|| {
                    format!("no server kind `{kind}`: use courier, axum, hyper or hyper-msgpack").into()
                }),
                _ => Err("`serve` takes one argument: courier, axum, hyper or hyper-msgpack".into()),
            };
        }
    }
    let defaults = Options {
        rounds: 5,
        settings: Settings { warmup: 500, calls: 3000, duration: Duration::from_secs(2), callers: 64 },
        stacks: Stack::ALL.to_vec(),
    };
    let options = cli::parse_flags(args, defaults, |options, flag, value| {
        match flag {
            "--rounds" => options.rounds = cli::positive(flag, value)?,
            "--calls" => options.settings.calls = cli::positive(flag, value)?,
            "--callers" => options.settings.callers = cli::positive(flag, value)?,
            "--warmup" => options.settings.warmup = cli::count(flag, value)?,
            "--seconds" => {
                options.settings.duration = value
                    .parse::<f64>()
                    .ok()
                    .filter(|seconds| *seconds > 0.0)
                    .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
                    .ok_or_else(|| format!("`{flag}` takes a positive number of seconds, not `{value}`"))?
            }
            "--only" => options.stacks = stacks(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    Ok(options.map(Command::Bench))
}

fn stacks(list: &str) -> Result<Vec<Stack>, Error> {
    let mut picked = Vec::new();
    for name in list.split(',').map(str::trim).filter(|name| !name.is_empty()) {
        let stack = Stack::from_name(name).ok_or_else(|| format!("no stack `{name}`"))?;
        if !picked.contains(&stack) {
            picked.push(stack);
        }
    }
    if picked.is_empty() {
        return Err("`--only` names no stack".into());
    }
    // Table rows keep one order whatever order the flag lists them in.
    picked.sort_by_key(|stack| Stack::ALL.iter().position(|s| s == stack));
    Ok(picked)
}

fn drive(options: &Options) -> Result<(), Error> {
    let tree = Node::tree(2, 3);
    let msgpack = rmp_serde::to_vec(&tree)?.len();
    let json = serde_json::to_vec(&tree)?.len();

    let mut servers = Servers::default();
    let mut urls = Vec::new();
    for &stack in &options.stacks {
        let kind = stack.server();
        urls.push(servers.start(kind.name(), &mut kind.command()?)?);
    }

    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    let samples = runtime.block_on(rounds(options, &urls, &tree));
    drop(servers);
    if options.stacks.iter().any(|stack| stack.server() == ServerKind::CourierTls) {
        let _ = std::fs::remove_dir_all(&servers::pki().folder);
    }
    let samples = samples?;

    let settings = &options.settings;
    let header = format!(
        "Payload `Node::tree(2, 3)` ({} nodes): {msgpack} B msgpack, {json} B JSON. \
         Medians over {} rounds; each round: {} warm-up calls, {} sequential calls, {} callers for {:?}.",
        tree.count(),
        options.rounds,
        settings.warmup,
        settings.calls,
        settings.callers,
        settings.duration,
    );
    let rows: Vec<(Stack, Sample)> =
        options.stacks.iter().copied().zip(samples.iter().map(|s| Sample::median(s))).collect();
    print!("{}", table::render(&header, settings.callers, &rows));
    Ok(())
}

/// Runs every stack once per round, starting each round one stack later, so drift in
/// the machine's speed spreads over all stacks instead of favouring whichever runs first.
async fn rounds(options: &Options, urls: &[String], tree: &Node) -> Result<Vec<Vec<Sample>>, Error> {
    let mut clients = Vec::with_capacity(options.stacks.len());
    for (&stack, url) in options.stacks.iter().zip(urls) {
        clients.push(Arc::new(Client::new(stack, url, tree).await?));
    }
    let mut samples = vec![Vec::with_capacity(options.rounds); clients.len()];
    for (round, index) in turns(options.rounds, clients.len()) {
        let stack = options.stacks[index];
        let sample = measure::run(&clients[index], &options.settings)
            .await
            .map_err(|error| format!("{}: {}", stack.name(), with_causes(&*error)))?;
        eprintln!(
            "round {}/{}  {:<16} p50 {:>8.1} µs  p99 {:>8.1} µs  {:>9.0} calls/s",
            round + 1,
            options.rounds,
            stack.name(),
            sample.p50_us,
            sample.p99_us,
            sample.calls_per_sec,
        );
        samples[index].push(sample);
    }
    Ok(samples)
}
