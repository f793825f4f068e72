//! `roundtrip`: request/response round trips on loopback, with server and client in
//! separate processes, comparing courier's channels with tarpc (the peer framework),
//! tonic (the peer gRPC framework, beside courier's gRPC), a hand-written axum + reqwest
//! JSON service, a hand-written hyper + MessagePack echo (the
//! least a MessagePack service costs), and a raw hyper echo that marks the floor any
//! HTTP/1 stack pays.
//!
//! `roundtrip [flags]` is the driver: it starts one server process per stack (itself, as
//! `roundtrip serve courier|courier-tls|axum|hyper|hyper-msgpack|tarpc|tonic`), measures every stack in
//! alternating rounds, and prints two markdown tables of the medians over rounds:
//!
//! - every stack with the standard payload (a tree of 13 nodes): latency, throughput, and
//!   what a call costs in CPU time and allocations on each side;
//! - how throughput grows for a few stacks, with payloads from 1 node to a 1 MiB blob
//!   and with 1 to 512 callers, each beside the floor.
//!
//! Flags: `--rounds N` (default 5), `--calls N` sequential calls per round (3000),
//! `--seconds S` of concurrent calls per round (2), `--callers N` concurrent callers
//! (64), `--warmup N` calls before each measurement (500),
//! `--only courier-msgpack,courier-http1,courier-tls,courier-tls-http1,courier-protobuf,courier-json,courier-rest,courier-grpc,tonic,hyper-msgpack,axum,tarpc,floor`
//! to pick the stacks of the first table, and `--growth STACK,...` those of the second
//! (`courier-msgpack,courier-protobuf,hyper-msgpack,tarpc,floor`; `--growth none` skips it).

mod clients;
mod growth;
mod measure;
mod payload;
mod servers;
mod table;
mod tarpc_echo;
mod tonic_echo;
mod usage;

use clients::{Client, Stack};
use courier_benches::{cli, processes::Servers, rounds::turns, with_causes, Error};
use measure::{Sample, Settings};
use payload::Payload;
use servers::ServerKind;
use std::{process::ExitCode, sync::Arc, time::Duration};
use usage::Usage;

const USAGE: &str = "\
usage: roundtrip [--rounds N] [--calls N] [--seconds S] [--callers N] [--warmup N] [--only STACK,...] [--growth STACK,...|none]
       roundtrip serve courier|courier-tls|axum|hyper|hyper-msgpack|tarpc|tonic

stacks: courier-msgpack, courier-http1, courier-tls, courier-tls-http1, courier-protobuf, courier-json, courier-rest, courier-grpc, tonic, hyper-msgpack, axum, tarpc, floor";

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
    /// The stacks of the growth table.
    growth: Vec<Stack>,
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
        growth: vec![Stack::CourierMsgpack, Stack::CourierProtobuf, Stack::HyperMsgpack, Stack::Tarpc, Stack::Floor],
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
            "--growth" if value == "none" => options.growth.clear(),
            "--growth" => options.growth = stacks(value)?,
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
    // One server per stack of either table, in table order.
    let mut all = options.stacks.clone();
    all.extend(options.growth.iter().filter(|stack| !options.stacks.contains(stack)));
    all.sort_by_key(|stack| Stack::ALL.iter().position(|s| s == stack));
    let mut servers = Servers::default();
    let mut urls = Vec::new();
    for &stack in &all {
        let kind = stack.server();
        urls.push(servers.start(kind.name(), &mut kind.command()?)?);
    }
    let fleet = Fleet { stacks: all, urls };

    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    let tables = runtime.block_on(async {
        let main = main_table(options, &fleet, &mut servers).await?;
        let growth = match options.growth.is_empty() {
            true => String::new(),
            false => growth::table(options.rounds, &options.settings, &options.growth, &fleet).await?,
        };
        Ok::<_, Error>(format!("{main}\n{growth}"))
    });
    drop(servers);
    if fleet.stacks.iter().any(|stack| stack.server() == ServerKind::CourierTls) {
        let _ = std::fs::remove_dir_all(&servers::pki().folder);
    }
    print!("{}", tables?);
    Ok(())
}

/// The stacks measured, each with the URL of its server, in the order the servers started.
pub(crate) struct Fleet {
    stacks: Vec<Stack>,
    urls: Vec<String>,
}

impl Fleet {
    /// The URL of `stack`'s server, and the server's index among those started.
    pub(crate) fn server(&self, stack: Stack) -> Result<(usize, &str), Error> {
        let index =
            self.stacks.iter().position(|s| *s == stack).ok_or_else(|| format!("no server for {}", stack.name()))?;
        Ok((index, &self.urls[index]))
    }
}

/// The first table: every stack with the standard payload.
async fn main_table(options: &Options, fleet: &Fleet, servers: &mut Servers) -> Result<String, Error> {
    let tree = Payload::STANDARD.node();
    let samples = rounds(options, fleet, servers).await?;
    let settings = &options.settings;
    let header = format!(
        "Payload: {} ({} B msgpack, {} B JSON). Medians over {} rounds; each round: {} warm-up calls, \
         {} sequential calls, {} callers for {:?}. CPU per call is measured while the callers run, \
         allocations per call over the sequential calls; the driver's side includes cloning the \
         tree it sends and decoding the reply ({} allocations per clone).",
        Payload::STANDARD.label(),
        rmp_serde::to_vec(&tree)?.len(),
        serde_json::to_vec(&tree)?.len(),
        options.rounds,
        settings.warmup,
        settings.calls,
        settings.callers,
        settings.duration,
        clone_allocations(&tree),
    );
    let rows: Vec<(Stack, Sample)> =
        options.stacks.iter().copied().zip(samples.iter().map(|s| Sample::median(s))).collect();
    Ok(table::render(&header, settings.callers, &rows))
}

/// How many allocations cloning `tree` makes.
fn clone_allocations(tree: &courier_samples::Node) -> u64 {
    let before = Usage::now();
    let clone = std::hint::black_box(tree.clone());
    let allocations = (Usage::now() - before).allocations;
    drop(clone);
    allocations
}

/// Runs every stack once per round, starting each round one stack later, so drift in
/// the machine's speed spreads over all stacks instead of favouring whichever runs first.
async fn rounds(options: &Options, fleet: &Fleet, servers: &mut Servers) -> Result<Vec<Vec<Sample>>, Error> {
    let tree = Payload::STANDARD.node();
    let mut clients = Vec::with_capacity(options.stacks.len());
    for &stack in &options.stacks {
        let (index, url) = fleet.server(stack)?;
        clients.push((index, Arc::new(Client::new(stack, url, &tree).await?)));
    }
    let mut samples = vec![Vec::with_capacity(options.rounds); clients.len()];
    for (round, turn) in turns(options.rounds, clients.len()) {
        let stack = options.stacks[turn];
        let (index, client) = &clients[turn];
        let mut server_usage = || Usage::from_answer(&servers.ask(*index, usage::QUESTION)?);
        let sample = measure::run(client, &options.settings, &mut server_usage)
            .await
            .map_err(|error| format!("{}: {}", stack.name(), with_causes(&*error)))?;
        eprintln!(
            "round {}/{}  {:<16} p50 {:>8.1} µs  p99 {:>8.1} µs  {:>9.0} calls/s  {:>5.1} + {:>5.1} µs CPU  {:>5.1} + {:>5.1} allocations",
            round + 1,
            options.rounds,
            stack.name(),
            sample.p50_us,
            sample.p99_us,
            sample.calls_per_sec,
            sample.cpu_us.client,
            sample.cpu_us.server,
            sample.allocations.client,
            sample.allocations.server,
        );
        samples[turn].push(sample);
    }
    Ok(samples)
}
