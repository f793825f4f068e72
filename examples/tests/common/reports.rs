//! What the tests of queued methods check on every queue.

use courier::{
    jobs::{JobQueue, JobState},
    prelude::*,
    ErrorCode,
};
use courier_samples::{ReportError, ReportSpec, Reports, ReportsComponent};
use courier_test_support::wait_until;
use std::time::Duration;

/// A report of `pages` pages that take `page_ms` each.
pub(crate) fn spec(title: &str, pages: u32, page_ms: u64) -> ReportSpec {
    ReportSpec { title: title.into(), pages, page_ms }
}

/// On every remote channel: a queued call returns its result and its method's error,
/// and a submitted job waits for, and reports, the same.
pub(crate) async fn results_and_errors_on_every_channel(services: &ServiceManager) {
    for channel in ChannelKind::REMOTE.iter().copied() {
        let reports = services.proxy::<dyn Reports>().channel(channel).build().unwrap();
        let report = reports.render(spec("Q1", 2, 1)).await.unwrap_or_else(|error| panic!("{channel}: {error}"));
        assert_eq!((report.title.as_str(), report.pages, report.attempt), ("Q1", 2, 1), "{channel}");
        let refused = reports.render(spec("refuse", 1, 1)).await.unwrap_err();
        assert_eq!(refused, ReportError::Refused("refuse".into()), "{channel}");

        let job = reports.submit_render(spec("Q2", 1, 1)).await.unwrap();
        assert_eq!(job.wait().await.unwrap().title, "Q2", "{channel}");
        assert_eq!(job.status().await.unwrap().state, JobState::Succeeded, "{channel}");
        let failed = reports.submit_render(spec("refuse", 1, 1)).await.unwrap();
        assert_eq!(failed.wait().await.unwrap_err(), ReportError::Refused("refuse".into()), "{channel}");
        assert_eq!(failed.status().await.unwrap().state, JobState::Failed, "{channel}");
    }
}

/// On a `queue` that keeps results briefly: a job's result is there once it ends, then,
/// within `expiry`, the job is `expired` to its handle and 410 to plain HTTP.
pub(crate) async fn results_expire(queue: impl JobQueue, expiry: Duration) {
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).jobs(queue).component(ReportsComponent).start().await.unwrap();
    let reports = ServiceManager::new(registry).get::<dyn Reports>().unwrap();
    let job = reports.submit_render(spec("brief", 1, 1)).await.unwrap();
    assert_eq!(job.wait().await.unwrap().title, "brief");
    wait_until(expiry, "the job's result expires", || async { job.status().await.unwrap().state == JobState::Expired })
        .await;
    let error = job.wait().await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Expired), "{error:?}");
    let answer = reqwest::get(format!("{}/jobs/{}", server.url(), job.id())).await.unwrap();
    assert_eq!(answer.status(), 410);
    assert_eq!(answer.json::<serde_json::Value>().await.unwrap()["code"], "expired");
    server.shutdown().await.unwrap();
}
