//! Queued methods on the NATS JetStream queue, with a real nats-server: results on every
//! remote channel, jobs shared by several worker processes (one job at a time each, a
//! gate that holds a worker back), a worker killed mid-job, a restart of nats-server, and
//! a job found by its token from another process.

mod common;

use common::{
    reports::{results_and_errors_on_every_channel, results_expire, spec},
    ServerProcess,
};
use courier::{
    jobs::NatsQueue,
    jobs::{JobQueue, JobRecord, JobState},
    prelude::*,
    ErrorCode,
};
use courier_samples::{Report, ReportError, Reports, ReportsComponent};
use courier_test_support::{wait_until, NatsServer};
use futures_util::{future::join_all, StreamExt};
use std::{collections::BTreeSet, path::PathBuf, process::Command, time::Duration};

const COMPONENT: &str = "reports-component";
/// How long a job stays with a worker that stopped reporting, in these tests.
const ACK_WAIT_MS: &str = "2000";

/// A `reports-server` process on the test's NATS, killed when dropped.
fn worker(instance: &str, nats: &NatsServer, gate: Option<&PathBuf>) -> ServerProcess {
    ServerProcess::spawn(worker_command(instance, nats, gate))
}

/// The command that starts a `reports-server` on the test's NATS.
fn worker_command(instance: &str, nats: &NatsServer, gate: Option<&PathBuf>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reports-server"));
    command
        .env("COURIER_INSTANCE", instance)
        .env("NATS_URL", nats.url())
        .env("COURIER_NATS_ACK_WAIT_MS", ACK_WAIT_MS)
        .env_remove("CONSUL_HTTP_ADDR")
        .env_remove("COURIER_PEERS")
        .env_remove("COURIER_GATE_FILE");
    if let Some(gate) = gate {
        command.env("COURIER_GATE_FILE", gate);
    }
    command
}

/// A proxy that knows the component at these URLs only.
fn reports_at(urls: &[&str]) -> Arc<dyn Reports> {
    let registry = LocalRegistry::new();
    for url in urls {
        registry.add_peer(COMPONENT, url);
    }
    ServiceManager::new(registry).get::<dyn Reports>().unwrap()
}

/// A gate file that exists until it is removed.
fn gate_file(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("courier-nats-gate-{}-{name}", std::process::id()));
    std::fs::write(&path, b"closed").unwrap();
    path
}

/// Submits `count` jobs, `at_once` at a time, and waits for each.
async fn render_all(reports: &dyn Reports, title: &str, count: usize, at_once: usize, page_ms: u64) -> Vec<Report> {
    let mut reports_done = Vec::new();
    for chunk in (0..count).collect::<Vec<_>>().chunks(at_once) {
        let submitted =
            join_all(chunk.iter().map(|index| reports.submit_render(spec(&format!("{title}-{index}"), 1, page_ms))))
                .await;
        let jobs: Vec<_> = submitted.into_iter().map(|job| job.unwrap()).collect();
        for report in join_all(jobs.iter().map(|job| job.wait())).await {
            reports_done.push(report.unwrap());
        }
    }
    reports_done
}

#[tokio::test]
async fn a_queued_method_returns_its_result_on_every_remote_channel_through_nats() {
    let Some(nats) = NatsServer::start().await else { return };
    let queue = NatsQueue::builder().url(nats.url()).connect().await.unwrap();
    assert!(!format!("{queue:?}").is_empty());
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).jobs(queue).component(ReportsComponent).start().await.unwrap();
    let services = ServiceManager::new(registry);
    results_and_errors_on_every_channel(&services).await;

    // A run that stops without an answer gives the job back, and the next run answers.
    let reports = services.get::<dyn Reports>().unwrap();
    assert_eq!(reports.render(spec("panic", 1, 1)).await.unwrap().attempt, 2);

    // A running job that is cancelled ends as cancelled, and its method sees it.
    let running = reports.submit_render(spec("running", 400, 25)).await.unwrap();
    wait_until(Duration::from_secs(20), "the job runs", || async {
        running.status().await.unwrap().state == JobState::Running
    })
    .await;
    assert_eq!(running.cancel().await.unwrap().state, JobState::Cancelled);
    let error = running.wait().await.unwrap_err();
    assert!(matches!(&error, ReportError::Courier(fault) if fault.code == ErrorCode::Cancelled), "{error:?}");
    wait_until(Duration::from_secs(20), "the method sees the cancellation", || async {
        reports.counts().await.unwrap().stopped == 1
    })
    .await;
    assert_eq!(reports.render(spec("after", 1, 1)).await.unwrap().title, "after");
    server.shutdown().await.unwrap();

    // A queue that runs a job once gives up on it when that run stops without an answer.
    let strict = NatsQueue::builder().url(nats.url()).prefix("strict").max_attempts(1).connect().await.unwrap();
    let registry = LocalRegistry::new();
    let mut server =
        Server::builder().registry(registry.clone()).jobs(strict).component(ReportsComponent).start().await.unwrap();
    let reports = ServiceManager::new(registry).get::<dyn Reports>().unwrap();
    let error = reports.render(spec("panic", 1, 1)).await.unwrap_err();
    assert!(
        matches!(&error, ReportError::Courier(fault) if fault.message.contains("gave up after 1 attempts")),
        "{error:?}"
    );
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn jobs_spread_over_worker_processes_one_at_a_time_and_a_closed_gate_holds_a_worker_back() {
    let Some(nats) = NatsServer::start().await else { return };
    let workers: Vec<_> = ["w1", "w2", "w3"].iter().map(|name| worker(name, &nats, None)).collect();
    let urls: Vec<&str> = workers.iter().map(|worker| worker.url.as_str()).collect();
    let reports = reports_at(&urls);

    let done = render_all(&*reports, "spread", 200, 50, 20).await;
    assert_eq!(done.len(), 200);
    let titles: BTreeSet<_> = done.iter().map(|report| report.title.clone()).collect();
    assert_eq!(titles.len(), 200, "every job answered with its own report");
    assert!(done.iter().all(|report| report.running_here == 1), "a worker ran two jobs at once");
    let took: BTreeSet<_> = done.iter().map(|report| report.worker.as_str()).collect();
    assert_eq!(took, BTreeSet::from(["w1", "w2", "w3"]), "every worker took jobs");

    let gate = gate_file("spread");
    let gated = worker("gated", &nats, Some(&gate));
    let done = render_all(&*reports, "closed", 40, 20, 50).await;
    assert!(done.iter().all(|report| report.worker != "gated"), "a worker behind a closed gate took a job");

    std::fs::remove_file(&gate).unwrap();
    let everywhere = reports_at(&[urls[0], urls[1], urls[2], gated.url.as_str()]);
    wait_until(Duration::from_secs(60), "the worker whose gate opened takes jobs", || async {
        render_all(&*everywhere, "open", 8, 8, 200).await.iter().any(|report| report.worker == "gated")
    })
    .await;
}

#[tokio::test]
async fn a_job_whose_worker_is_killed_completes_on_another_with_one_outcome() {
    let Some(nats) = NatsServer::start().await else { return };
    let gate = gate_file("killed");
    let mut doomed = worker("doomed", &nats, None);
    let survivor = worker("survivor", &nats, Some(&gate));
    let reports = reports_at(&[survivor.url.as_str()]);

    let job = reports.submit_render(spec("long", 30, 100)).await.unwrap();
    wait_until(Duration::from_secs(20), "the doomed worker runs the job", || async {
        job.status().await.unwrap().state == JobState::Running
    })
    .await;
    std::fs::remove_file(&gate).unwrap();
    doomed.kill();

    let report = job.wait_timeout(Duration::from_secs(60)).await.unwrap();
    assert_eq!((report.worker.as_str(), report.attempt, report.pages), ("survivor", 2, 30));

    let client = async_nats::connect(nats.url()).await.unwrap();
    let kv = async_nats::jetstream::new(client).get_key_value("courier_jobs").await.unwrap();
    let mut history = kv.history(job.id()).await.unwrap();
    let mut records = Vec::new();
    while let Some(entry) = history.next().await {
        records.push(rmp_serde::from_slice::<JobRecord>(&entry.unwrap().value).unwrap());
    }
    let states: Vec<_> = records.iter().map(|record| record.status.state).collect();
    assert_eq!(states.iter().filter(|state| state.is_done()).count(), 1, "{states:?}");
    let last = records.last().unwrap();
    assert_eq!((last.status.state, last.status.attempts), (JobState::Succeeded, 2), "{states:?}");
}

#[tokio::test]
async fn a_stopping_worker_gives_its_running_job_back_and_another_finishes_it() {
    let Some(nats) = NatsServer::start().await else { return };
    let gate = gate_file("stopping");
    let mut command = worker_command("stopping", &nats, None);
    command.env("COURIER_DRAIN_MS", "300");
    let stopping = ServerProcess::spawn(command);
    let survivor = worker("taker", &nats, Some(&gate));
    let reports = reports_at(&[survivor.url.as_str()]);

    let job = reports.submit_render(spec("handed-over", 40, 50)).await.unwrap();
    wait_until(Duration::from_secs(20), "the stopping worker runs the job", || async {
        job.status().await.unwrap().state == JobState::Running
    })
    .await;
    std::fs::remove_file(&gate).unwrap();
    // SIGTERM: the job outlasts the drain timeout, so it goes back to the queue at once.
    stopping.terminate();
    let report = job.wait_timeout(Duration::from_secs(60)).await.unwrap();
    assert_eq!((report.worker.as_str(), report.attempt, report.pages), ("taker", 2, 40));
}

#[tokio::test]
async fn a_job_that_kills_every_worker_that_runs_it_ends_failed_after_its_attempts() {
    let Some(nats) = NatsServer::start().await else { return };
    // A server that takes jobs and runs none: the caller's way in while workers die. It
    // opens the component's consumer first, so its ack wait is the one that counts.
    let ack_wait = Duration::from_millis(ACK_WAIT_MS.parse().unwrap());
    let front = NatsQueue::builder().url(nats.url()).ack_wait(ack_wait).connect().await.unwrap();
    let registry = LocalRegistry::new();
    let mut server = Server::builder()
        .registry(registry.clone())
        .jobs(front)
        .workers(COMPONENT, 0)
        .component(ReportsComponent)
        .start()
        .await
        .unwrap();
    let mut workers: Vec<_> = ["a1", "a2", "a3"]
        .iter()
        .map(|name| {
            let mut command = worker_command(name, &nats, None);
            command.env("COURIER_NATS_MAX_ATTEMPTS", "2");
            ServerProcess::spawn(command)
        })
        .collect();
    let reports = ServiceManager::new(registry).get::<dyn Reports>().unwrap();
    let job = reports.submit_render(spec("abort", 1, 1)).await.unwrap();
    let error = job.wait_timeout(Duration::from_secs(60)).await.unwrap_err();
    let ReportError::Courier(fault) = &error else { panic!("{error:?}") };
    assert_eq!(fault.code, ErrorCode::Internal, "{fault}");
    assert!(fault.message.contains("gave up after 2 attempts"), "{fault}");
    assert_eq!(job.status().await.unwrap().state, JobState::Failed);
    let died = workers.iter_mut().map(ServerProcess::is_running).filter(|running| !running).count();
    assert_eq!(died, 2, "each of the two attempts ended the process that ran it");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn results_are_kept_for_the_retention_time_then_expired() {
    let Some(nats) = NatsServer::start().await else { return };
    let queue = NatsQueue::builder().url(nats.url()).retention(Duration::from_secs(1)).connect().await.unwrap();
    results_expire(queue, Duration::from_secs(30)).await;
}

#[tokio::test]
async fn queued_jobs_survive_a_restart_of_nats_server() {
    let Some(mut nats) = NatsServer::start().await else { return };
    let gate = gate_file("restart");
    let workers: Vec<_> = ["r1", "r2"].iter().map(|name| worker(name, &nats, Some(&gate))).collect();
    let reports = reports_at(&[workers[0].url.as_str(), workers[1].url.as_str()]);
    let mut jobs = Vec::new();
    for index in 0..20 {
        jobs.push(reports.submit_render(spec(&format!("kept-{index}"), 1, 10)).await.unwrap());
    }
    assert_eq!(jobs[0].status().await.unwrap().state, JobState::Queued);
    let queue = NatsQueue::builder().url(nats.url()).connect().await.unwrap();
    assert_eq!(queue.depth(COMPONENT).await.unwrap(), 20, "gated workers take nothing");

    nats.stop();
    let id = jobs[0].id().parse().unwrap();
    let outage = queue.get(id, None).await.unwrap_err();
    assert_eq!(outage.code, ErrorCode::Unavailable, "{outage}");
    nats.restart().await;
    wait_until(Duration::from_secs(30), "the restarted server still holds every queued job", || async {
        queue.depth(COMPONENT).await.is_ok_and(|depth| depth == 20)
    })
    .await;
    std::fs::remove_file(&gate).unwrap();

    wait_until(Duration::from_secs(60), "every job queued before the restart succeeds", || async {
        let mut succeeded = 0;
        for job in &jobs {
            // Answers fail while the servers reconnect: ask again on the next round.
            if job.status().await.is_ok_and(|status| status.state == JobState::Succeeded) {
                succeeded += 1;
            }
        }
        succeeded == jobs.len()
    })
    .await;
    assert_eq!(queue.depth(COMPONENT).await.unwrap(), 0);
    for (index, job) in jobs.iter().enumerate() {
        assert_eq!(job.wait().await.unwrap().title, format!("kept-{index}"));
    }
}

#[tokio::test]
async fn a_job_submitted_by_a_client_that_left_is_found_by_its_token_on_every_instance() {
    let Some(nats) = NatsServer::start().await else { return };
    let workers: Vec<_> = ["t1", "t2"].iter().map(|name| worker(name, &nats, None)).collect();

    // A client process submits to one instance, prints the token and exits; another,
    // which knows only the other instance, waits for the job by its token.
    let client = |peer: &str, args: &[&str]| {
        let output = Command::new(env!("CARGO_BIN_EXE_reports-client"))
            .args(args)
            .env("COURIER_PEERS", format!("{COMPONENT}={peer}"))
            .env_remove("CONSUL_HTTP_ADDR")
            .output()
            .expect("run reports-client");
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        assert!(output.status.success(), "reports-client {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        stdout
    };
    let token = client(&workers[0].url, &["submit", "left", "5", "50"]);
    assert!(token.parse::<courier::jobs::JobId>().is_ok(), "{token}");
    let waited = client(&workers[1].url, &["wait", &token]);
    assert!(waited.starts_with("rendered left (5 pages) on t"), "{waited}");

    // In this process too, through the other instance alone.
    let elsewhere = reports_at(&[workers[1].url.as_str()]);
    let report = elsewhere.attach_render(&token).unwrap().wait_timeout(Duration::from_secs(30)).await.unwrap();
    assert_eq!((report.title.as_str(), report.pages), ("left", 5));

    let http = reqwest::Client::new();
    for worker in &workers {
        let answer = http.get(format!("{}/jobs/{token}", worker.url)).send().await.unwrap();
        assert_eq!(answer.status(), 200, "{}", worker.url);
        assert_eq!(answer.headers()["courier-job-state"], "succeeded");
        // In the codec it was submitted in: the client's default, MessagePack.
        assert_eq!(answer.headers()["content-type"], "application/msgpack");
        let answered: Report = rmp_serde::from_slice(&answer.bytes().await.unwrap()).unwrap();
        assert_eq!(answered, report);
    }
}
