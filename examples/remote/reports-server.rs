//! Serves the reports component, its jobs on NATS JetStream, until Ctrl-C or SIGTERM.
//!
//! `NATS_URL` (and `NATS_CREDS`, `NATS_USER`/`NATS_PASSWORD` or `NATS_TOKEN`) say where
//! the queue is; `COURIER_NATS_ACK_WAIT_MS` how long a job stays with a worker that
//! stopped reporting on it, and `COURIER_NATS_MAX_ATTEMPTS` how many times a job runs at most; `COURIER_DRAIN_MS` how long a stopping server lets its running
//! jobs finish before it gives them back to the queue (default 10 s). `COURIER_BIND` sets the address (default `127.0.0.1:0`); the
//! URL it serves on is printed as `listening on <url>` once it takes calls. Every process
//! on the same NATS shares one queue: a job submitted to any of them runs on whichever
//! has a free worker, and any of them answers for it.

use courier::{jobs::NatsQueueBuilder, prelude::*};
use courier_samples::ReportsComponent;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Report> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let bind = std::env::var("COURIER_BIND").unwrap_or_else(|_| "127.0.0.1:0".into());
    let mut queue = NatsQueueBuilder::from_env();
    if let Some(ack_wait) = std::env::var("COURIER_NATS_ACK_WAIT_MS").ok().and_then(|ms| ms.parse().ok()) {
        queue = queue.ack_wait(Duration::from_millis(ack_wait));
    }
    if let Some(attempts) = std::env::var("COURIER_NATS_MAX_ATTEMPTS").ok().and_then(|n| n.parse().ok()) {
        queue = queue.max_attempts(attempts);
    }
    let mut builder = Server::builder();
    if let Some(drain) = std::env::var("COURIER_DRAIN_MS").ok().and_then(|ms| ms.parse().ok()) {
        builder = builder.drain_timeout(Duration::from_millis(drain));
    }
    let server = builder.bind(bind).jobs(queue.connect().await?).component(ReportsComponent).start().await?;
    println!("listening on {}", server.url());
    server.run_until_stopped().await?;
    Ok(())
}
