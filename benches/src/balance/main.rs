//! `balance`: how far `Selection::LeastLoaded` (the less loaded of two random instances,
//! by calls in flight) steers calls away from a slow instance, set against
//! `Selection::RoundRobin`.
//!
//! It starts three `greeter-server` processes: `fast-1` and `fast-2`, whose `hello`
//! sleeps 2 ms, and `slow`, which sleeps 20 ms. For each selector, a proxy calls `hello`
//! from many concurrent callers; the selectors take turns over several rounds, and a
//! markdown table reports the medians over rounds. Which instance served each call comes
//! from the servers' own `courier_server_requests_total` counters, read before and after
//! each timed phase: replies do not say who sent them, and the selector does not report
//! its picks per call.
//!
//! `greeter-server` is another package's binary, which cargo cannot build as a
//! dependency: build it first, in the same profile, so that it lands next to this one:
//!
//! ```sh
//! cargo build --release -p courier-examples --bin greeter-server && cargo run --release -p courier-benches --bin balance
//! ```
//!
//! Flags: `--rounds N` (default 3), `--calls N` timed calls per selector and round
//! (3000), `--callers N` concurrent callers (32), `--warmup N` calls before each timed
//! phase (300).

mod counters;
mod fleet;
mod phase;
mod report;

use counters::Counters;
use courier::{client::Selection, registry::LocalRegistry, service::Component, ServiceManager};
use courier_benches::{cli, rounds::turns, with_causes, Error};
use courier_samples::{Greeter, GreeterComponent};
use fleet::{Fleet, Spec};
use phase::{Sample, Settings};
use std::{future::Future, process::ExitCode};

/// The instances, in the order of the table's columns: the slow one first.
const INSTANCES: [Spec; 3] =
    [Spec { name: "slow", delay_ms: 20 }, Spec { name: "fast-1", delay_ms: 2 }, Spec { name: "fast-2", delay_ms: 2 }];

/// The selectors compared, with their names in the table; the first is set against the
/// second in the ratios.
const SELECTORS: [(&str, Selection); 2] =
    [("least-loaded", Selection::LeastLoaded), ("round-robin", Selection::RoundRobin)];

const USAGE: &str = "usage: balance [--rounds N] [--calls N] [--callers N] [--warmup N]";

fn main() -> ExitCode {
    cli::main("balance", USAGE, parse, |options| drive(&options))
}

#[derive(Debug)]
struct Options {
    rounds: usize,
    settings: Settings,
}

/// The options, or `None` when help was asked for.
fn parse(args: &[String]) -> Result<Option<Options>, Error> {
    let defaults = Options { rounds: 3, settings: Settings { warmup: 300, calls: 3000, callers: 32 } };
    cli::parse_flags(args, defaults, |options, flag, value| {
        match flag {
            "--rounds" => options.rounds = cli::positive(flag, value)?,
            "--calls" => options.settings.calls = cli::positive(flag, value)?,
            "--callers" => options.settings.callers = cli::positive(flag, value)?,
            "--warmup" => options.settings.warmup = cli::count(flag, value)?,
            _ => return Ok(false),
        }
        Ok(true)
    })
}

fn drive(options: &Options) -> Result<(), Error> {
    let fleet = Fleet::start(&INSTANCES)?;
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the tokio runtime: {e}"))?;
    let samples = runtime.block_on(until_stopped(rounds(options, &fleet)))?;
    drop(fleet);

    let rows: Vec<(&str, Sample)> =
        SELECTORS.iter().zip(&samples).map(|((name, _), samples)| (*name, Sample::median(samples))).collect();
    print!("{}", report::render(&INSTANCES, options.rounds, &options.settings, &rows));
    Ok(())
}

/// Runs every selector once per round, the first one changing each round, so that drift
/// in the machine's speed does not favour whichever runs first.
async fn rounds(options: &Options, fleet: &Fleet) -> Result<Vec<Vec<Sample>>, Error> {
    let registry = LocalRegistry::new();
    for url in fleet.urls() {
        registry.add_peer(GreeterComponent.descriptor().name, url);
    }
    // A manager per proxy: each selector gets a connection pool of its own, as it would
    // in a process of its own.
    let proxies = SELECTORS
        .iter()
        .map(|&(_, selection)| {
            ServiceManager::new(registry.clone()).proxy::<dyn Greeter>().selection(selection).build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let counters = Counters::new(fleet.urls());

    let mut samples = vec![Vec::with_capacity(options.rounds); proxies.len()];
    for (round, index) in turns(options.rounds, proxies.len()) {
        let name = SELECTORS[index].0;
        let sample = phase::run(&proxies[index], &counters, &options.settings)
            .await
            .map_err(|error| format!("{name}: {}", with_causes(&*error)))?;
        let served = INSTANCES.iter().zip(&sample.served).map(|(spec, calls)| format!("{} {calls:>5}", spec.name));
        eprintln!(
            "round {}/{}  {name:<12}  {}  p50 {:>6.2} ms  p99 {:>6.2} ms  {:>7.0} calls/s",
            round + 1,
            options.rounds,
            served.collect::<Vec<_>>().join("  "),
            sample.p50_ms,
            sample.p99_ms,
            sample.calls_per_sec,
        );
        samples[index].push(sample);
    }
    Ok(samples)
}

/// `work`, unless Ctrl-C or SIGTERM comes first: either way the caller returns, and the
/// server processes end with it instead of outliving the benchmark.
async fn until_stopped<T>(work: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
    tokio::select! {
        result = work => result,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
        stopped = terminated() => Err(match stopped {
            Ok(()) => "terminated".into(),
            Err(error) => error,
        }),
    }
}

#[cfg(unix)]
async fn terminated() -> Result<(), Error> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    terminate.recv().await;
    Ok(())
}

#[cfg(not(unix))]
async fn terminated() -> Result<(), Error> {
    std::future::pending().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_defaults() {
        let args: Vec<String> = ["--rounds", "5", "--calls=100", "--warmup", "0"].map(String::from).to_vec();
        let options = parse(&args).unwrap().unwrap();
        assert_eq!((options.rounds, options.settings.calls, options.settings.callers), (5, 100, 32));
        assert_eq!(options.settings.warmup, 0);
    }

    #[test]
    fn counts_must_be_positive() {
        assert!(parse(&["--callers".to_owned(), "0".to_owned()]).is_err());
        assert!(parse(&["--calls".to_owned()]).is_err());
        assert!(parse(&["--bogus=1".to_owned()]).is_err());
    }
}
