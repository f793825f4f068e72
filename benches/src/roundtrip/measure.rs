//! What one round measures for one stack: latency of calls one after another, and
//! throughput of many callers at once.

use crate::{clients::Client, Error};
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
}

impl Sample {
    /// Each figure's median over `samples`, taken figure by figure.
    pub(crate) fn median(samples: &[Sample]) -> Sample {
        Sample {
            p50_us: median(samples.iter().map(|s| s.p50_us)),
            p99_us: median(samples.iter().map(|s| s.p99_us)),
            calls_per_sec: median(samples.iter().map(|s| s.calls_per_sec)),
        }
    }
}

/// Warms up, then measures latency and throughput.
pub(crate) async fn run(client: &Arc<Client>, settings: &Settings) -> Result<Sample, Error> {
    warm_up(client, settings).await?;
    let latencies = latencies(client, settings.calls).await?;
    let calls_per_sec = throughput(client, settings.callers, settings.duration).await?;
    Ok(Sample {
        p50_us: micros(percentile(&latencies, 50.0)),
        p99_us: micros(percentile(&latencies, 99.0)),
        calls_per_sec,
    })
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

/// Calls per second of `callers` tasks calling back to back until `duration` is up.
async fn throughput(client: &Arc<Client>, callers: usize, duration: Duration) -> Result<f64, Error> {
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
    Ok(calls as f64 / start.elapsed().as_secs_f64())
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
