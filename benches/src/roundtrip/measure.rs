//! What one round measures for one stack: latency of calls one after another, and
//! throughput of many callers at once, with what each call costs on both sides.

use crate::{clients::Client, usage::Usage, Error};
use courier_benches::stats::{median, percentile};
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Calls before measuring, to open connections and warm caches.
    pub(crate) warmup: usize,
    /// Sequential calls timed for latency.
    pub(crate) calls: usize,
    /// How long the concurrent callers run.
    pub(crate) duration: Duration,
    /// How many callers run concurrently.
    pub(crate) callers: usize,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Sample {
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) calls_per_sec: f64,
    /// CPU time per call while the callers ran, in µs.
    pub(crate) cpu_us: Sides,
    /// Allocations per sequential call.
    pub(crate) allocations: Sides,
}

/// A figure in the driver, which makes the calls, and in the server, which answers them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sides {
    pub(crate) client: f64,
    pub(crate) server: f64,
}

impl Sides {
    /// What each side spent between `before` and `after`, per call of `calls`.
    fn per_call(before: (Usage, Usage), after: (Usage, Usage), calls: u64, figure: fn(Usage) -> f64) -> Self {
        let calls = calls.max(1) as f64;
        Self { client: figure(after.0 - before.0) / calls, server: figure(after.1 - before.1) / calls }
    }

    fn median(sides: impl Iterator<Item = Sides> + Clone) -> Self {
        Self { client: median(sides.clone().map(|s| s.client)), server: median(sides.map(|s| s.server)) }
    }
}

impl Sample {
    /// Each figure's median over `samples`, taken figure by figure.
    pub(crate) fn median(samples: &[Sample]) -> Sample {
        Sample {
            p50_us: median(samples.iter().map(|s| s.p50_us)),
            p99_us: median(samples.iter().map(|s| s.p99_us)),
            calls_per_sec: median(samples.iter().map(|s| s.calls_per_sec)),
            cpu_us: Sides::median(samples.iter().map(|s| s.cpu_us)),
            allocations: Sides::median(samples.iter().map(|s| s.allocations)),
        }
    }
}

/// Warms up, then measures latency and throughput, and what they cost: `server` tells
/// the server's usage so far.
pub(crate) async fn run(
    client: &Arc<Client>,
    settings: &Settings,
    server: &mut dyn FnMut() -> Result<Usage, Error>,
) -> Result<Sample, Error> {
    warm_up(client, settings).await?;
    let start = (Usage::now(), server()?);
    let latencies = latencies(client, settings.calls).await?;
    let sequential = (Usage::now(), server()?);
    let (calls_per_sec, calls) = throughput(client, settings.callers, settings.duration).await?;
    let concurrent = (Usage::now(), server()?);
    Ok(Sample {
        p50_us: micros(percentile(&latencies, 50.0)),
        p99_us: micros(percentile(&latencies, 99.0)),
        calls_per_sec,
        cpu_us: Sides::per_call(sequential, concurrent, calls, |usage| micros(usage.cpu)),
        allocations: Sides::per_call(start, sequential, settings.calls as u64, |usage| usage.allocations as f64),
    })
}

/// Warms up, then measures throughput alone.
pub(crate) async fn rate(client: &Arc<Client>, settings: &Settings) -> Result<f64, Error> {
    warm_up(client, settings).await?;
    Ok(throughput(client, settings.callers, settings.duration).await?.0)
}

/// Sequential calls, then a burst from every caller: the burst opens the connections the
/// concurrent phase needs, so their handshakes are not counted against it.
async fn warm_up(client: &Arc<Client>, settings: &Settings) -> Result<(), Error> {
    for _ in 0..settings.warmup {
        client.round_trip().await?;
    }
    let per_caller = settings.warmup.div_ceil(settings.callers);
    let callers: Vec<_> = (0..settings.callers)
        .map(|_| {
            let client = Arc::clone(client);
            tokio::spawn(async move {
                for _ in 0..per_caller {
                    client.round_trip().await?;
                }
                Ok::<_, Error>(())
            })
        })
        .collect();
    for caller in callers {
        caller.await??;
    }
    Ok(())
}

/// The duration of each of `calls` calls made one after another, sorted.
async fn latencies(client: &Client, calls: usize) -> Result<Vec<Duration>, Error> {
    let mut durations = Vec::with_capacity(calls);
    for _ in 0..calls {
        let start = Instant::now();
        client.round_trip().await?;
        durations.push(start.elapsed());
    }
    durations.sort_unstable();
    Ok(durations)
}

/// Calls per second of `callers` tasks calling back to back until `duration` is up, and
/// how many calls they made.
async fn throughput(client: &Arc<Client>, callers: usize, duration: Duration) -> Result<(f64, u64), Error> {
    let start = Instant::now();
    let deadline = start + duration;
    let callers: Vec<_> = (0..callers)
        .map(|_| {
            let client = Arc::clone(client);
            tokio::spawn(async move {
                let mut calls = 0_u64;
                while Instant::now() < deadline {
                    client.round_trip().await?;
                    calls += 1;
                }
                Ok::<_, Error>(calls)
            })
        })
        .collect();
    let mut calls = 0;
    for caller in callers {
        calls += caller.await??;
    }
    // Calls in flight at the deadline finish after it; they count, and so does the time
    // they took.
    Ok((calls as f64 / start.elapsed().as_secs_f64(), calls))
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
