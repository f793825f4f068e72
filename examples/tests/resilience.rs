//! Instances that are busy, slow, stopping or dead cost no call: limits refuse with 503
//! and the client goes elsewhere, deadlines stop work on both sides, and a run of 20,000
//! calls survives one instance stopped gracefully and another killed.

mod common;

use common::{all_answer, ServerProcess};
use courier::{client::Selection, prelude::*, registry::ConsulRegistry, ErrorCode};
use courier_samples::Greeter;
use courier_test_support::{wait_until, ConsulAgent};
use reqwest::{header, StatusCode};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

const DEADLINE: Duration = Duration::from_secs(30);

/// Work that takes a while.
#[service(name = "workshop")]
pub trait Workshop {
    /// Works for `millis`, then says who worked.
    async fn work(&self, millis: u64) -> Result<String, ServiceError>;
}

#[component(name = "workshop", services = [Workshop], max_concurrent = 1)]
#[derive(Debug)]
pub struct WorkshopComponent;

/// Counts work begun, and work abandoned before it finished.
#[derive(Debug, Default)]
struct Counts {
    started: AtomicUsize,
    abandoned: AtomicUsize,
}

struct Worker {
    name: &'static str,
    counts: Arc<Counts>,
}

/// Counts the work as abandoned unless it finishes.
struct Abandon<'a>(&'a Counts, bool);

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if !self.1 {
            self.0.abandoned.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[implementation(manual)]
impl Workshop for Worker {
    async fn work(&self, millis: u64) -> Result<String, ServiceError> {
        self.counts.started.fetch_add(1, Ordering::SeqCst);
        let mut abandon = Abandon(&self.counts, false);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        abandon.1 = true;
        Ok(self.name.to_owned())
    }
}

async fn workshop(registry: &LocalRegistry, name: &'static str, counts: &Arc<Counts>) -> Server {
    Server::builder()
        .registry(registry.clone())
        .component(WorkshopComponent)
        .service::<dyn Workshop>(Arc::new(Worker { name, counts: Arc::clone(counts) }))
        .start()
        .await
        .expect("server starts")
}

#[tokio::test]
async fn a_component_at_its_cap_answers_503_with_retry_after_and_the_call_lands_elsewhere() {
    let registry = LocalRegistry::new();
    let (busy_counts, idle_counts) = (Arc::new(Counts::default()), Arc::new(Counts::default()));
    let busy = workshop(&registry, "busy", &busy_counts).await;
    let _idle = workshop(&registry, "idle", &idle_counts).await;
    let http = reqwest::Client::new();
    let url = format!("{}/invoke/workshop/workshop/work", busy.url());
    let long = tokio::spawn(
        http.post(&url).header(header::CONTENT_TYPE, "application/json").body(r#"{"millis":2000}"#).send(),
    );
    wait_until(DEADLINE, "the busy instance works", || async { busy_counts.started.load(Ordering::SeqCst) == 1 }).await;

    let refused = http
        .post(&url)
        .header(header::CONTENT_TYPE, "application/json")
        .body(r#"{"millis":0}"#)
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(body["code"], "unavailable", "{body}");

    // The busy instance is first in the registry, so `First` picks it first every time.
    let shop =
        ServiceManager::new(registry).proxy::<dyn Workshop>().selection(Selection::First).build().expect("proxy");
    assert_eq!(shop.work(0).await.expect("the call fails over"), "idle");
    assert_eq!(busy_counts.started.load(Ordering::SeqCst), 1, "the refused calls never ran on the busy instance");
    assert_eq!(long.await.expect("task").expect("the long call").status(), StatusCode::OK);
}

#[tokio::test]
async fn a_call_past_its_deadline_times_out_and_the_server_stops_the_work() {
    let registry = LocalRegistry::new();
    let counts = Arc::new(Counts::default());
    let _server = workshop(&registry, "slow", &counts).await;
    let shop = ServiceManager::new(registry)
        .proxy::<dyn Workshop>()
        .timeout(Duration::from_millis(300))
        .build()
        .expect("proxy");
    let started = Instant::now();
    let error = shop.work(10_000).await.expect_err("the deadline passes first");
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
    assert!(started.elapsed() < Duration::from_secs(5), "the caller waited {:?}", started.elapsed());
    wait_until(DEADLINE, "the server abandons the work", || async { counts.abandoned.load(Ordering::SeqCst) == 1 })
        .await;

    let deadline = CallContext::default().with_deadline(Instant::now() + Duration::from_millis(200));
    let error = deadline.scope(shop.work(10_000)).await.expect_err("a per-call deadline too");
    assert_eq!(error.code, ErrorCode::Timeout, "{error}");
}

#[tokio::test]
async fn a_draining_server_refuses_new_calls_and_finishes_the_ones_it_took() {
    let registry = LocalRegistry::new();
    let counts = Arc::new(Counts::default());
    let mut server = workshop(&registry, "draining", &counts).await;
    let url = format!("{}/invoke/workshop/workshop/work", server.url());
    let http = reqwest::Client::new();
    let taken = tokio::spawn(
        http.post(&url).header(header::CONTENT_TYPE, "application/json").body(r#"{"millis":1500}"#).send(),
    );
    wait_until(DEADLINE, "the call is taken", || async { counts.started.load(Ordering::SeqCst) == 1 }).await;
    let shutdown = tokio::spawn(async move { server.shutdown().await });
    wait_until(DEADLINE, "new calls are refused while the taken one runs", || async {
        let answer =
            http.post(&url).header(header::CONTENT_TYPE, "application/json").body(r#"{"millis":0}"#).send().await;
        answer.is_ok_and(|answer| answer.status() == StatusCode::SERVICE_UNAVAILABLE)
    })
    .await;
    let finished = taken.await.expect("task").expect("the taken call is answered");
    assert_eq!(finished.status(), StatusCode::OK);
    shutdown.await.expect("task").expect("clean shutdown");
    assert_eq!(counts.abandoned.load(Ordering::SeqCst), 0);
}

/// What the run counted.
#[derive(Debug, Default)]
struct Tally {
    idempotent_ok: AtomicUsize,
    other_ok: AtomicUsize,
    maybe_executed: AtomicUsize,
    lost: std::sync::Mutex<Vec<String>>,
}

/// 20,000 calls at concurrency 32 over three server processes: one is stopped
/// gracefully after a quarter of the calls, another killed after half.
async fn survive_a_stop_and_a_kill(servers: &mut [ServerProcess], greeter: Arc<dyn Greeter>) {
    const CALLS: usize = 20_000;
    const CALLERS: usize = 32;
    let next = Arc::new(AtomicUsize::new(0));
    let tally = Arc::new(Tally::default());
    let callers: Vec<_> = (0..CALLERS)
        .map(|_| {
            let (greeter, next, tally) = (Arc::clone(&greeter), Arc::clone(&next), Arc::clone(&tally));
            tokio::spawn(async move {
                loop {
                    let call = next.fetch_add(1, Ordering::SeqCst);
                    if call >= CALLS {
                        return;
                    }
                    let name = format!("caller-{call}");
                    if call % 2 == 0 {
                        match greeter.hello(name.clone()).await {
                            Ok(reply) if reply == format!("Hello, {name}!") => {
                                tally.idempotent_ok.fetch_add(1, Ordering::SeqCst)
                            }
                            other => {
                                tally.lost.lock().expect("lock").push(format!("hello #{call}: {other:?}"));
                                0
                            }
                        };
                    } else {
                        match greeter.greet(name.clone(), true).await {
                            Ok(reply) if reply == format!("Hello, {name}!") => {
                                tally.other_ok.fetch_add(1, Ordering::SeqCst)
                            }
                            Err(courier_samples::GreetingError::Courier(error))
                                if error.code == ErrorCode::MaybeExecuted =>
                            {
                                tally.maybe_executed.fetch_add(1, Ordering::SeqCst)
                            }
                            other => {
                                tally.lost.lock().expect("lock").push(format!("greet #{call}: {other:?}"));
                                0
                            }
                        };
                    }
                }
            })
        })
        .collect();
    wait_until(DEADLINE, "a quarter of the calls are made", || async { next.load(Ordering::SeqCst) >= CALLS / 4 })
        .await;
    servers[0].terminate();
    wait_until(DEADLINE, "half of the calls are made", || async { next.load(Ordering::SeqCst) >= CALLS / 2 }).await;
    servers[1].kill();
    for caller in callers {
        caller.await.expect("caller");
    }
    let lost = tally.lost.lock().expect("lock");
    let (idempotent, other, maybe) = (
        tally.idempotent_ok.load(Ordering::SeqCst),
        tally.other_ok.load(Ordering::SeqCst),
        tally.maybe_executed.load(Ordering::SeqCst),
    );
    eprintln!("idempotent ok {idempotent}, non-idempotent ok {other}, may have executed {maybe}, lost {}", lost.len());
    assert!(lost.is_empty(), "silently lost calls: {:?}", &lost[..lost.len().min(10)]);
    assert_eq!(idempotent, CALLS / 2, "every idempotent call succeeds");
    assert_eq!(other + maybe, CALLS / 2, "every other call succeeds or says it may have executed");
}

#[tokio::test]
async fn no_call_is_lost_when_instances_stop_or_die_with_the_in_process_registry() {
    let mut servers: Vec<_> = ["a", "b", "c"].into_iter().map(ServerProcess::start).collect();
    let registry = LocalRegistry::new();
    for server in &servers {
        registry.add_peer("greeter-component", &server.url);
    }
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    survive_a_stop_and_a_kill(&mut servers, greeter).await;
}

#[tokio::test]
async fn no_call_is_lost_when_instances_stop_or_die_over_http1_connections() {
    let mut servers: Vec<_> = ["a", "b", "c"].into_iter().map(ServerProcess::start).collect();
    let registry = LocalRegistry::new();
    for server in &servers {
        registry.add_peer("greeter-component", &server.url);
    }
    let client = courier::client::HttpClient::builder().multiplex(false).build();
    let greeter = ServiceManager::builder().registry(registry).http_client(client).build().get::<dyn Greeter>();
    survive_a_stop_and_a_kill(&mut servers, greeter.expect("proxy")).await;
}

#[tokio::test]
async fn no_call_is_lost_when_instances_stop_or_die_with_consul() {
    let Some(agent) = ConsulAgent::start().await else { return };
    let address = agent.http_addr();
    let env = [("CONSUL_HTTP_ADDR", address.as_str())];
    let mut servers: Vec<_> = ["a", "b", "c"].into_iter().map(|name| ServerProcess::start_with(name, &env)).collect();
    let registry = ConsulRegistry::builder().address(&address).build().expect("registry");
    let greeter = ServiceManager::new(registry).get::<dyn Greeter>().expect("proxy");
    wait_until(DEADLINE, "the proxy knows all three instances", || {
        all_answer(3, || async { greeter.whoami().await.ok() })
    })
    .await;
    survive_a_stop_and_a_kill(&mut servers, greeter).await;
}
