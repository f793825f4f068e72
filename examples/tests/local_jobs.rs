//! Queued methods on the local channel, in a test binary of its own: the local channel
//! is the process's, so no other test's server may take its place.

#[path = "common/reports.rs"]
#[allow(dead_code, reason = "this test needs only `spec`")]
mod reports;

use courier::{jobs::JobState, prelude::*, ErrorCode};
use courier_samples::{ReportError, Reports, ReportsComponent};
use courier_test_support::wait_until;
use reports::spec;
use std::time::Duration;

#[tokio::test]
async fn in_process_callers_go_through_the_queue_too_so_the_workers_capacity_holds() {
    let mut server =
        Server::builder().registry(LocalRegistry::new()).component(ReportsComponent).start().await.unwrap();
    let local = ServiceManager::default().proxy::<dyn Reports>().channel(ChannelKind::Local).build().unwrap();
    let reports =
        futures_util::future::join_all((0..8).map(|index| local.render(spec(&format!("local-{index}"), 2, 5)))).await;
    for report in reports {
        let report = report.unwrap();
        assert_eq!((report.running_here, report.attempt), (1, 1), "{report:?}");
    }
    assert_eq!(local.render(spec("refuse", 1, 1)).await.unwrap_err(), ReportError::Refused("refuse".into()));
    assert_eq!(local.counts().await.unwrap().rendered, 8);

    let job = local.submit_render(spec("local job", 400, 25)).await.unwrap();
    let found = local.attach_render(&job.id()).unwrap();
    wait_until(Duration::from_secs(10), "the local job runs", || async {
        found.status().await.unwrap().state == JobState::Running
    })
    .await;
    assert_eq!(found.cancel().await.unwrap().state, JobState::Cancelled);
    let error = job.wait().await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Cancelled), "{error:?}");
    server.shutdown().await.unwrap();

    // Its server gone, a local call fails at once instead of waiting for workers.
    let error = local.render(spec("late", 1, 1)).await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Unavailable), "{error:?}");
}
