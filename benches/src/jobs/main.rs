//! `jobs`: what queuing a call costs. A `Reports` server in this process, on loopback;
//! jobs that do no work of their own, so the figures are courier's and the queue's:
//!
//! - jobs/s with 64 callers, each submitting a job and waiting for its result, for 1 and
//!   8 workers;
//! - submit-to-start latency (from just before `submit_render` to the method's first
//!   instruction) and submit-to-result latency, for one caller at a time;
//! - the same work as a plain, unqueued call (`preview`), beside them.
//!
//! `cargo run --release -p courier-benches --bin jobs -- [--jobs N] [--nats nats://127.0.0.1:4222]`
//! (`--nats` adds the rows of the NATS JetStream queue; `cargo xtask nats up` starts one).

use courier::prelude::*;
use courier_benches::{
    cli::{self, parse_flags, positive},
    stats::percentile,
    Error,
};
use courier_samples::{ReportSpec, Reports, ReportsComponent};
use std::{
    process::ExitCode,
    sync::Arc,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

const USAGE: &str = "usage: jobs [--jobs N (2000)] [--sequential N (300)] [--callers N (64)] [--nats URL]";

struct Options {
    jobs: usize,
    sequential: usize,
    callers: usize,
    nats: Option<String>,
}

fn main() -> ExitCode {
    let defaults = Options { jobs: 2000, sequential: 300, callers: 64, nats: None };
    cli::main(
        "jobs",
        USAGE,
        |args| {
            parse_flags(args, defaults, |options, flag, value| {
                match flag {
                    "--jobs" => options.jobs = positive(flag, value)?,
                    "--sequential" => options.sequential = positive(flag, value)?,
                    "--callers" => options.callers = positive(flag, value)?,
                    "--nats" => options.nats = Some(value.to_owned()),
                    _ => return Ok(false),
                }
                Ok(true)
            })
        },
        |options| tokio::runtime::Runtime::new()?.block_on(run(options)),
    )
}

/// One row of the table.
struct Row {
    what: String,
    per_second: f64,
    to_start: Option<Duration>,
    to_result: Duration,
}

async fn run(options: Options) -> Result<(), Error> {
    let mut rows = Vec::new();
    let mut backends: Vec<(&str, Option<String>)> = vec![("in-process", None)];
    if let Some(url) = &options.nats {
        backends.push(("nats", Some(url.clone())));
    }
    for (backend, nats) in backends {
        for workers in [1, 8] {
            let registry = LocalRegistry::new();
            let builder = Server::builder().registry(registry.clone()).component(ReportsComponent);
            let builder = builder.workers("reports-component", workers);
            let builder = match &nats {
                Some(url) => with_nats(builder, url).await?,
                None => builder,
            };
            let mut server = builder.start().await?;
            let reports = ServiceManager::new(registry).get::<dyn Reports>()?;
            rows.push(measure(&format!("{backend}, {workers} worker(s)"), &options, &reports, true).await?);
            if workers == 1 && backend == "in-process" {
                rows.push(measure("plain call (preview), same work", &options, &reports, false).await?);
            }
            server.shutdown().await?;
        }
    }
    println!("| what | calls/s at {} callers | submit→start p50 | submit→result p50 |", options.callers);
    println!("|---|---:|---:|---:|");
    for row in rows {
        let start = row.to_start.map_or("—".to_owned(), |start| format!("{:.0} µs", start.as_micros()));
        println!("| {} | {:.0} | {start} | {:.0} µs |", row.what, row.per_second, row.to_result.as_micros());
    }
    Ok(())
}

/// The builder with a NATS queue of its own: names no other run uses, so each run starts empty.
async fn with_nats(
    builder: courier::server::ServerBuilder,
    url: &str,
) -> Result<courier::server::ServerBuilder, Error> {
    let prefix = format!("bench{}", now_us());
    Ok(builder.jobs(courier::jobs::NatsQueue::builder().url(url).prefix(prefix).connect().await?))
}

async fn measure(what: &str, options: &Options, reports: &Arc<dyn Reports>, queued: bool) -> Result<Row, Error> {
    let spec = ReportSpec { title: "bench".into(), pages: 0, page_ms: 0 };
    let call = move |reports: Arc<dyn Reports>, spec: ReportSpec| async move {
        match queued {
            true => reports.render(spec).await,
            false => reports.preview(spec).await,
        }
    };
    // Warm up connections and the queue.
    for _ in 0..50 {
        call(Arc::clone(reports), spec.clone()).await?;
    }
    let mut to_start = Vec::with_capacity(options.sequential);
    let mut to_result = Vec::with_capacity(options.sequential);
    for _ in 0..options.sequential {
        let submitted = now_us();
        let started = Instant::now();
        let report = call(Arc::clone(reports), spec.clone()).await?;
        to_result.push(started.elapsed());
        to_start.push(Duration::from_micros(report.started_us.saturating_sub(submitted)));
    }
    to_start.sort();
    to_result.sort();
    let started = Instant::now();
    let per_caller = options.jobs.div_ceil(options.callers);
    let mut callers = tokio::task::JoinSet::new();
    for _ in 0..options.callers {
        let (reports, spec) = (Arc::clone(reports), spec.clone());
        callers.spawn(async move {
            for _ in 0..per_caller {
                call(Arc::clone(&reports), spec.clone()).await?;
            }
            Ok::<_, courier_samples::ReportError>(())
        });
    }
    while let Some(done) = callers.join_next().await {
        done??;
    }
    let per_second = (per_caller * options.callers) as f64 / started.elapsed().as_secs_f64();
    Ok(Row {
        what: what.to_owned(),
        per_second,
        to_start: queued.then(|| percentile(&to_start, 50.0)),
        to_result: percentile(&to_result, 50.0),
    })
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| since.as_micros() as u64)
}
