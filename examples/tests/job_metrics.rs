//! The job metrics on `/metrics`, in a test binary of their own: the recorder is the
//! process's, and the counts must be this test's alone.

use courier::prelude::*;
use courier_samples::{ReportSpec, Reports, ReportsComponent};
use courier_test_support::wait_until;
use std::time::Duration;

fn spec(title: &str, pages: u32, page_ms: u64) -> ReportSpec {
    ReportSpec { title: title.into(), pages, page_ms }
}

#[tokio::test]
async fn job_metrics_count_submissions_outcomes_durations_and_redeliveries() {
    let registry = LocalRegistry::new();
    let mut server = Server::builder().registry(registry.clone()).component(ReportsComponent).start().await.unwrap();
    let services = ServiceManager::new(registry);
    let reports = services.get::<dyn Reports>().unwrap();
    let before = scrape(&server).await;
    for _ in 0..3 {
        reports.render(spec("counted", 1, 1)).await.unwrap();
    }
    reports.render(spec("refuse", 1, 1)).await.unwrap_err();
    reports.render(spec("panic", 1, 1)).await.unwrap();
    let queued = reports.submit_render(spec("blocker", 400, 25)).await.unwrap();
    let waiting = reports.submit_render(spec("waiting", 1, 1)).await.unwrap();
    wait_until(Duration::from_secs(10), "the queue depth shows the waiting job", || async {
        sample(&scrape(&server).await, "courier_jobs_queued", &[COMPONENT]) == Some(1.0)
    })
    .await;
    waiting.cancel().await.unwrap();
    queued.cancel().await.unwrap();
    let after = scrape(&server).await;
    let method = [COMPONENT, "service=\"reports\"", "method=\"render\""];
    let grew = |metric: &str, labels: &[&str]| {
        sample(&after, metric, labels).unwrap_or_default() - sample(&before, metric, labels).unwrap_or_default()
    };
    assert_eq!(grew("courier_jobs_submitted_total", &method), 7.0);
    assert_eq!(grew("courier_jobs_total", &[&method[..], &["outcome=\"succeeded\""]].concat()), 4.0);
    assert_eq!(grew("courier_jobs_total", &[&method[..], &["outcome=\"failed\""]].concat()), 1.0);
    assert_eq!(grew("courier_job_redeliveries_total", &[COMPONENT]), 1.0);
    assert!(grew("courier_job_duration_seconds_count", &method) >= 5.0);
    // Jobs run for minutes: their buckets reach an hour, not the ten seconds of calls.
    assert!(sample(&after, "courier_job_duration_seconds_bucket", &[&method[..], &["le=\"3600\""]].concat()).is_some());
    assert!(sample(&after, "courier_server_request_duration_seconds_bucket", &["le=\"3600\""]).is_none());
    server.shutdown().await.unwrap();
}

async fn scrape(server: &Server) -> String {
    reqwest::get(format!("{}/metrics", server.url())).await.unwrap().text().await.unwrap()
}

const COMPONENT: &str = "component=\"reports-component\"";

/// The value of the sample of `metric` that has every one of `labels` (`name="value"`).
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(metric)?.strip_prefix('{')?;
        let (found, value) = rest.split_once("} ")?;
        let found: Vec<&str> = found.split(',').collect();
        labels.iter().all(|label| found.contains(label)).then(|| value.trim().parse().ok())?
    })
}
