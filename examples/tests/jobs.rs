//! Queued methods on the in-process queue, over real sockets: results and domain errors
//! on every remote channel, job handles (token, status, progress, reattaching, waiting,
//! cancelling), and the plain-HTTP flow a `curl` user sees.

#[path = "common/reports.rs"]
mod reports;

use courier::{
    jobs::{JobState, JobStatus},
    prelude::*,
    ErrorCode,
};
use courier_samples::{ReportError, Reports, ReportsComponent};
use courier_test_support::wait_until;
use reports::{results_and_errors_on_every_channel, results_expire, spec};
use std::time::Duration;

async fn server() -> (Server, ServiceManager) {
    let registry = LocalRegistry::new();
    let server = Server::builder().registry(registry.clone()).component(ReportsComponent).start().await.unwrap();
    (server, ServiceManager::new(registry))
}

#[tokio::test]
async fn a_queued_method_returns_its_result_and_its_error_on_every_remote_channel() {
    let (mut server, services) = server().await;
    results_and_errors_on_every_channel(&services).await;
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_job_reports_progress_is_found_by_its_token_and_the_timeout_bounds_only_the_waiting() {
    let (mut server, services) = server().await;
    let reports = services.get::<dyn Reports>().unwrap();
    let job = reports.submit_render(spec("long", 40, 25)).await.unwrap();
    let token = job.id();
    let elsewhere = ServiceManager::new(server_registry(&server)).get::<dyn Reports>().unwrap();
    let found = elsewhere.attach_render(&token).unwrap();
    wait_until(Duration::from_secs(10), "the job reports progress", || async {
        let status = found.status().await.unwrap();
        status.state == JobState::Running && status.progress.is_some_and(|progress| progress > 0.0)
    })
    .await;
    let status = found.status().await.unwrap();
    assert!(status.message.as_deref().is_some_and(|message| message.starts_with("page ")), "{status:?}");
    assert_eq!(status.attempts, 1);

    // A proxy timeout shorter than the job: the caller stops waiting, the job goes on.
    let impatient = services.proxy::<dyn Reports>().timeout(Duration::from_millis(200)).build().unwrap();
    let error = impatient.render(spec("slow", 2, 25)).await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Timeout), "{error:?}");

    assert_eq!(found.wait().await.unwrap().pages, 40);
    assert!("0123".parse::<courier::jobs::JobId>().is_err());
    assert!(
        matches!(elsewhere.attach_render("not a token"), Err(ReportError::Courier(fault)) if fault.code == ErrorCode::BadRequest)
    );
    server.shutdown().await.unwrap();
}

/// A registry of another process's: it knows the server only by its URL.
fn server_registry(server: &Server) -> LocalRegistry {
    let registry = LocalRegistry::new();
    registry.add_peer("reports-component", server.url());
    registry
}

#[tokio::test]
async fn cancelling_a_queued_job_keeps_it_from_running_and_a_running_one_sees_it() {
    let (mut server, services) = server().await;
    let reports = services.get::<dyn Reports>().unwrap();
    let running = reports.submit_render(spec("running", 400, 25)).await.unwrap();
    let queued = reports.submit_render(spec("queued", 1, 1)).await.unwrap();
    wait_until(Duration::from_secs(10), "the first job runs", || async {
        running.status().await.unwrap().state == JobState::Running
    })
    .await;
    assert_eq!(queued.status().await.unwrap().state, JobState::Queued, "one worker: the second waits");

    assert_eq!(queued.cancel().await.unwrap().state, JobState::Cancelled);
    assert_eq!(running.cancel().await.unwrap().state, JobState::Cancelled);
    let error = running.wait().await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Cancelled), "{error:?}");
    wait_until(Duration::from_secs(10), "the running job's method sees the cancellation", || async {
        reports.counts().await.unwrap().stopped == 1
    })
    .await;
    // The worker is free again, and the cancelled queued job never ran.
    assert_eq!(reports.render(spec("after", 1, 1)).await.unwrap().title, "after");
    assert_eq!(reports.counts().await.unwrap().rendered, 1);
    assert_eq!(queued.status().await.unwrap().state, JobState::Cancelled);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn results_are_kept_for_the_retention_time_then_expired() {
    results_expire(
        courier::jobs::InProcessQueue::with_limits(Duration::from_millis(300), 3, 100),
        Duration::from_secs(10),
    )
    .await;
}

#[tokio::test]
async fn a_job_whose_method_panics_runs_again() {
    let (mut server, services) = server().await;
    let reports = services.get::<dyn Reports>().unwrap();
    let report = reports.render(spec("panic", 1, 1)).await.unwrap();
    assert_eq!(report.attempt, 2);
    server.shutdown().await.unwrap();
}

/// What `curl` sees: 202 with a Location, a status to poll, the result; errors as
/// `{code, message}` with their status.
#[tokio::test]
async fn plain_http_callers_submit_poll_and_cancel_with_json() {
    let (mut server, _) = server().await;
    let http = reqwest::Client::new();
    let base = server.url().to_owned();
    for (submit, body) in [
        (
            format!("{base}/invoke/reports-component/reports/render"),
            r#"{"spec":{"title":"curl","pages":3,"page_ms":30}}"#,
        ),
        (format!("{base}/reports/render"), r#"{"title":"curl","pages":3,"page_ms":30}"#),
    ] {
        let accepted = http.post(&submit).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(accepted.status(), 202, "{submit}");
        let location = accepted.headers()["location"].to_str().unwrap().to_owned();
        let status: JobStatus = accepted.json().await.unwrap();
        assert_eq!(location, format!("/jobs/{}", status.id));
        assert_eq!(status.state, JobState::Queued);

        let poll = http.get(format!("{base}{location}")).send().await.unwrap();
        assert!(poll.status() == 202 || poll.status() == 200, "{}", poll.status());
        let done = http.get(format!("{base}{location}?wait=10000")).send().await.unwrap();
        assert_eq!(done.status(), 200);
        assert_eq!(done.headers()["courier-job-state"], "succeeded");
        let report: serde_json::Value = done.json().await.unwrap();
        assert_eq!((report["title"].as_str(), report["pages"].as_u64()), (Some("curl"), Some(3)), "{report}");
    }

    let refused = http
        .post(format!("{base}/reports/render"))
        .json(&serde_json::json!({"title": "refuse", "pages": 1, "page_ms": 1}))
        .send()
        .await
        .unwrap();
    let location = refused.headers()["location"].to_str().unwrap().to_owned();
    let failed = http.get(format!("{base}{location}?wait=10000")).send().await.unwrap();
    assert_eq!((failed.status().as_u16(), failed.headers()["courier-error"].to_str().unwrap()), (500, "method"));
    assert_eq!(failed.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"Refused": "refuse"}));

    let long = http
        .post(format!("{base}/reports/render"))
        .json(&serde_json::json!({"title": "long", "pages": 400, "page_ms": 25}))
        .send()
        .await
        .unwrap();
    let location = long.headers()["location"].to_str().unwrap().to_owned();
    let cancelled = http.delete(format!("{base}{location}")).send().await.unwrap();
    assert_eq!(cancelled.status(), 200);
    assert_eq!(cancelled.json::<JobStatus>().await.unwrap().state, JobState::Cancelled);
    let gone = http.get(format!("{base}{location}")).send().await.unwrap();
    assert_eq!(gone.status(), 409);
    assert_eq!(gone.json::<serde_json::Value>().await.unwrap()["code"], "cancelled");

    let unknown = courier::jobs::JobId::generate();
    for (path, status, code) in [
        (format!("/jobs/{unknown}"), 404, "not_found"),
        ("/jobs/nope".into(), 400, "bad_request"),
        ("/jobs/%FF".into(), 400, "bad_request"),
    ] {
        let answer = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(answer.status(), status, "{path}");
        let body: serde_json::Value = answer.json().await.unwrap();
        assert_eq!(body["code"], code, "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|message| !message.is_empty()), "{body}");
    }
    // The OpenAPI document says the same.
    let document: serde_json::Value =
        http.get(format!("{base}/openapi.json")).send().await.unwrap().json().await.unwrap();
    let render = &document["paths"]["/reports/render"]["post"]["responses"];
    assert_eq!(render["202"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/JobStatus");
    assert!(render.get("200").is_none(), "{render}");
    assert_eq!(document["paths"]["/reports/counts"]["get"]["responses"]["200"]["description"], "the result");
    for (verb, id) in [("get", "jobs.get"), ("delete", "jobs.cancel")] {
        assert_eq!(document["paths"]["/jobs/{id}"][verb]["operationId"], id, "{document}");
    }

    let bad_wait = http.get(format!("{base}/jobs/{unknown}?wait=soon")).send().await.unwrap();
    assert_eq!(bad_wait.status(), 400);
    // MessagePack callers get their errors in MessagePack.
    let packed =
        http.get(format!("{base}/jobs/{unknown}")).header("accept", "application/msgpack").send().await.unwrap();
    assert_eq!(packed.headers()["content-type"], "application/msgpack");
    let error: ServiceError = rmp_serde::from_slice(&packed.bytes().await.unwrap()).unwrap();
    assert_eq!(error.code, ErrorCode::NotFound);
    server.shutdown().await.unwrap();
}
