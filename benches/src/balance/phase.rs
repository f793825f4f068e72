//! One measurement of one selector: warm-up, then timed calls from concurrent callers,
//! with the calls each instance served.

use crate::{counters::Counters, Error};
use courier_benches::stats::{median, percentile};
use courier_samples::Greeter;
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// Calls before measuring, to open connections.
    pub(crate) warmup: usize,
    /// Calls timed.
    pub(crate) calls: usize,
    /// Tasks calling at once, sharing the proxy.
    pub(crate) callers: usize,
}

#[derive(Debug, Clone)]
pub(crate) struct Sample {
    /// Timed calls each instance answered, in the order of the fleet.
    pub(crate) served: Vec<f64>,
    pub(crate) p50_ms: f64,
    pub(crate) p99_ms: f64,
    pub(crate) calls_per_sec: f64,
}

impl Sample {
    /// Each figure's median over `samples` (not empty), taken figure by figure.
    pub(crate) fn median(samples: &[Sample]) -> Sample {
        let instances = samples.first().map_or(0, |sample| sample.served.len());
        Sample {
            served: (0..instances).map(|i| median(samples.iter().map(|s| s.served[i]))).collect(),
            p50_ms: median(samples.iter().map(|s| s.p50_ms)),
            p99_ms: median(samples.iter().map(|s| s.p99_ms)),
            calls_per_sec: median(samples.iter().map(|s| s.calls_per_sec)),
        }
    }
}

/// Warms up, then times `settings.calls` calls and counts where they went.
pub(crate) async fn run(greeter: &Arc<dyn Greeter>, counters: &Counters, settings: &Settings) -> Result<Sample, Error> {
    call(greeter, settings.warmup, settings.callers).await?;

    let before = counters.hello_calls().await?;
    let start = Instant::now();
    let latencies = call(greeter, settings.calls, settings.callers).await?;
    let elapsed = start.elapsed();
    let after = counters.hello_calls().await?;

    // A server counts a call before its reply leaves, so every timed call is counted
    // by now; a call tried on a second instance would be counted twice.
    let served = after
        .iter()
        .zip(&before)
        .map(|(after, before)| {
            after.checked_sub(*before).ok_or("a server's request counter went back: did it restart?")
        })
        .collect::<Result<Vec<u64>, _>>()?;
    let counted: u64 = served.iter().sum();
    if counted != settings.calls as u64 {
        return Err(format!("the servers counted {counted} `hello` calls, not the {} made", settings.calls).into());
    }
    Ok(Sample {
        served: served.into_iter().map(|calls| calls as f64).collect(),
        p50_ms: millis(percentile(&latencies, 50.0)),
        p99_ms: millis(percentile(&latencies, 99.0)),
        calls_per_sec: settings.calls as f64 / elapsed.as_secs_f64(),
    })
}

/// `calls` calls of `hello`, made by `callers` tasks each taking the next call as soon as
/// its last one returns; the duration of each, sorted.
async fn call(greeter: &Arc<dyn Greeter>, calls: usize, callers: usize) -> Result<Vec<Duration>, Error> {
    let taken = Arc::new(AtomicUsize::new(0));
    let callers: Vec<_> = (0..callers.min(calls))
        .map(|_| {
            let greeter = Arc::clone(greeter);
            let taken = Arc::clone(&taken);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let number = taken.fetch_add(1, Ordering::Relaxed);
                    if number >= calls {
                        return Ok::<_, Error>(latencies);
                    }
                    // A name per call, so that a reply to some other call fails the check.
                    let name = format!("caller {number}");
                    let expected = format!("Hello, {name}!");
                    let start = Instant::now();
                    let reply = greeter.hello(name).await?;
                    latencies.push(start.elapsed());
                    if reply != expected {
                        return Err(format!("`hello` answered `{reply}`, not `{expected}`").into());
                    }
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(calls);
    for caller in callers {
        latencies.extend(caller.await??);
    }
    latencies.sort_unstable();
    Ok(latencies)
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_are_taken_figure_by_figure() {
        let sample = |served: [f64; 2], p50_ms, p99_ms, calls_per_sec| Sample {
            served: served.to_vec(),
            p50_ms,
            p99_ms,
            calls_per_sec,
        };
        let samples = [sample([1.0, 9.0], 3.0, 30.0, 100.0), sample([3.0, 7.0], 1.0, 10.0, 300.0)];
        let median = Sample::median(&samples);
        assert_eq!(median.served, [2.0, 8.0]);
        assert_eq!((median.p50_ms, median.p99_ms, median.calls_per_sec), (2.0, 20.0, 200.0));
    }
}
