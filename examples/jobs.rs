//! Queued calls: a method that runs as a job on a worker with a free slot, called
//! through a proxy that waits for it, and as a job handle with a token, status,
//! progress and cancellation. `cargo run --example jobs`

use courier::prelude::*;
use courier_samples::{ReportSpec, Reports, ReportsComponent};
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Report> {
    // The jobs wait in this server's memory, and its one worker runs them in turn.
    let mut server = Server::builder().component(ReportsComponent).start().await?;
    let reports = ServiceManager::default().get::<dyn Reports>()?;

    // A plain call submits a job and waits for its result without holding a request open.
    let spec = ReportSpec { title: "Q3".into(), pages: 3, page_ms: 20 };
    let report = reports.render(spec.clone()).await?;
    println!("rendered {} ({} pages) on attempt {}", report.title, report.pages, report.attempt);
    assert_eq!(report.pages, 3);

    // A job handle: a token to keep, a status with progress, the result later.
    let job = reports.submit_render(ReportSpec { title: "Q4".into(), pages: 10, page_ms: 50 }).await?;
    println!("submitted job {}", job.id());
    let again = reports.attach_render(&job.id())?; // as another process would, from the token
    loop {
        let status = again.status().await?;
        if let Some(progress) = status.progress {
            println!("  {} {:.0}% {}", status.state, progress * 100.0, status.message.unwrap_or_default());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    println!("job {} rendered {} pages", job.id(), job.wait().await?.pages);

    // A job cancelled while it waits for the worker never runs.
    let long = reports.submit_render(ReportSpec { title: "Annual".into(), pages: 100, page_ms: 50 }).await?;
    let waiting = reports.submit_render(spec).await?;
    let cancelled = waiting.cancel().await?;
    println!("job {} is {}", waiting.id(), cancelled.state);
    assert_eq!(cancelled.state, courier::jobs::JobState::Cancelled);
    long.cancel().await?;

    server.shutdown().await?;
    Ok(())
}
