//! A component's life: startup hooks run in order before anything is registered, a
//! failing one fails `start()` and leaves nothing behind, and shutdown deregisters,
//! drains in-flight calls up to a deadline, then runs the shutdown hooks in reverse.
//! Each component's status follows, on `Server::status` and `/health`.

use courier::{
    health::ComponentStatus,
    prelude::*,
    registry::{Instances, Registration},
    server::ServerError,
    ErrorCode,
};
use courier_test_support::wait_until;
use std::{
    sync::Mutex,
    time::{Duration, Instant},
};
use tokio::sync::{watch, Semaphore};

const DEADLINE: Duration = Duration::from_secs(10);

/// What happened, in order, across hooks, the registry and a service method.
#[derive(Debug, Clone, Default)]
struct Events(Arc<Mutex<Vec<String>>>);

impl Events {
    fn push(&self, event: impl Into<String>) {
        self.0.lock().expect("events").push(event.into());
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().expect("events").clone()
    }

    fn contains(&self, event: &str) -> bool {
        self.all().iter().any(|seen| seen == event)
    }
}

/// Holds each call until the test lets it through.
#[service(name = "lifecycle-gate")]
trait Gate {
    async fn pass(&self) -> Result<(), ServiceError>;
}

struct Door {
    events: Events,
    open: Semaphore,
}

impl Door {
    fn new(events: &Events) -> Arc<Self> {
        Arc::new(Self { events: events.clone(), open: Semaphore::new(0) })
    }
}

/// Records a call that ended without finishing: it was cut off.
struct CutOff(Option<Events>);

impl Drop for CutOff {
    fn drop(&mut self) {
        if let Some(events) = self.0.take() {
            events.push("call cut off");
        }
    }
}

#[implementation(manual)]
impl Gate for Door {
    async fn pass(&self) -> Result<(), ServiceError> {
        self.events.push("call started");
        let mut cut_off = CutOff(Some(self.events.clone()));
        let _permit = self.open.acquire().await.map_err(|_| ServiceError::internal("door closed"))?;
        cut_off.0 = None;
        self.events.push("call finished");
        Ok(())
    }
}

#[component(name = "lifecycle-first", services = [Gate], startup = Self::start, shutdown = Self::stop)]
struct First {
    events: Events,
}

impl First {
    async fn start(&self) -> Result<(), ServiceError> {
        self.events.push("start lifecycle-first");
        Ok(())
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        self.events.push("stop lifecycle-first");
        Ok(())
    }
}

#[component(name = "lifecycle-second", services = [Gate], startup = Self::start, shutdown = Self::stop)]
struct Second {
    events: Events,
    fail: bool,
}

impl Second {
    async fn start(&self) -> Result<(), ServiceError> {
        self.events.push("start lifecycle-second");
        match self.fail {
            true => Err(ServiceError::unavailable("the database is unreachable")),
            false => Ok(()),
        }
    }

    async fn stop(&self) -> Result<(), ServiceError> {
        self.events.push("stop lifecycle-second");
        Ok(())
    }
}

#[component(name = "lifecycle-third", services = [Gate], startup = Self::start)]
struct Third {
    events: Events,
}

impl Third {
    async fn start(&self) -> Result<(), ServiceError> {
        self.events.push("start lifecycle-third");
        Ok(())
    }
}

#[component(name = "lifecycle-brittle", services = [Gate], shutdown = Self::stop)]
struct Brittle;

impl Brittle {
    async fn stop(&self) -> Result<(), ServiceError> {
        Err(ServiceError::internal("the journal cannot be flushed"))
    }
}

/// `GET <url>/health`: the HTTP status and the report.
async fn health(url: &str) -> (u16, serde_json::Value) {
    let response = reqwest::get(format!("{url}/health")).await.expect("the server answers /health");
    (response.status().as_u16(), response.json().await.expect("a JSON report"))
}

/// A [`LocalRegistry`] that records what the server asks of it.
#[derive(Debug, Clone)]
struct Recording {
    inner: LocalRegistry,
    events: Events,
}

#[async_trait::async_trait]
impl ComponentRegistry for Recording {
    async fn register(&self, registration: &Registration) -> Result<(), ServiceError> {
        self.events.push(format!("register {}", registration.component));
        self.inner.register(registration).await
    }

    async fn deregister(&self, registration: &Registration) -> Result<(), ServiceError> {
        self.events.push(format!("deregister {}", registration.component));
        self.inner.deregister(registration).await
    }

    fn watch(&self, component: &str, channel: ChannelKind) -> watch::Receiver<Instances> {
        self.inner.watch(component, channel)
    }
}

fn registered(registry: &LocalRegistry, component: &str) -> bool {
    ChannelKind::REMOTE.iter().any(|&channel| !registry.instances(component, channel).is_empty())
}

#[tokio::test]
async fn a_failing_startup_hook_fails_start_with_its_error_and_registers_nothing() {
    let events = Events::default();
    let registry = LocalRegistry::new();
    let recording = Recording { inner: registry.clone(), events: events.clone() };
    let error = Server::builder()
        .registry(recording)
        .component(First { events: events.clone() })
        .component(Second { events: events.clone(), fail: true })
        .component(Third { events: events.clone() })
        .service::<dyn Gate>(Door::new(&events))
        .start()
        .await
        .expect_err("the second component's startup hook fails");

    let ServerError::Hook { component, stage, source } = &error else { panic!("expected a hook error, got {error}") };
    assert_eq!((*component, *stage), ("lifecycle-second", "start"));
    assert_eq!(source.code, ErrorCode::Unavailable);
    assert!(error.to_string().contains("the database is unreachable"), "{error}");
    assert_eq!(
        events.all(),
        ["start lifecycle-first", "start lifecycle-second", "stop lifecycle-first"],
        "hooks run in order, stop at the failure, and the started one is shut down again"
    );
    for component in ["lifecycle-first", "lifecycle-second", "lifecycle-third"] {
        assert!(!registered(&registry, component), "{component} is not registered");
    }
}

#[tokio::test]
async fn shutdown_deregisters_then_drains_in_flight_calls_then_runs_the_hooks_in_reverse() {
    let events = Events::default();
    let registry = LocalRegistry::new();
    let door = Door::new(&events);
    let mut server = Server::builder()
        .registry(Recording { inner: registry.clone(), events: events.clone() })
        .component(First { events: events.clone() })
        .component(Second { events: events.clone(), fail: false })
        .service::<dyn Gate>(door.clone())
        .start()
        .await
        .expect("server starts");
    assert_eq!(server.status("lifecycle-first"), Some(ComponentStatus::Running));
    assert_eq!(server.status("lifecycle-second"), Some(ComponentStatus::Running));
    assert!(registered(&registry, "lifecycle-first") && registered(&registry, "lifecycle-second"));
    let url = server.url().to_owned();
    let (status, report) = health(&url).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["components"][0], serde_json::json!({"name": "lifecycle-first", "status": "running"}));

    let gate = ServiceManager::new(registry.clone()).proxy::<dyn Gate>().component("lifecycle-first").build();
    let gate = gate.expect("proxy");
    let call = tokio::spawn(async move { gate.pass().await });
    wait_until(DEADLINE, "the call is in flight", || async { events.contains("call started") }).await;

    let stopping = tokio::spawn(async move {
        let stopped = server.shutdown().await;
        (server, stopped)
    });
    wait_until(DEADLINE, "both components are deregistered", || async {
        events.contains("deregister lifecycle-second")
    })
    .await;
    assert!(!registered(&registry, "lifecycle-first") && !registered(&registry, "lifecycle-second"));
    assert!(!events.contains("stop lifecycle-second"), "the hooks wait for the in-flight call: {:?}", events.all());
    // Draining, the server says so to whatever checks its health: 503, each component stopping.
    let (status, report) = health(&url).await;
    assert_eq!(status, 503, "{report}");
    assert_eq!(report["status"], "ERROR", "{report}");
    assert_eq!(report["components"][1], serde_json::json!({"name": "lifecycle-second", "status": "stopping"}));

    door.open.add_permits(1);
    call.await.expect("call task").expect("the in-flight call completes");
    let (server, stopped) = stopping.await.expect("shutdown task");
    stopped.expect("clean shutdown");
    assert_eq!(
        events.all(),
        [
            "start lifecycle-first",
            "start lifecycle-second",
            "register lifecycle-first",
            "register lifecycle-second",
            "call started",
            "deregister lifecycle-first",
            "deregister lifecycle-second",
            "call finished",
            "stop lifecycle-second",
            "stop lifecycle-first",
        ]
    );
    assert_eq!(server.status("lifecycle-first"), Some(ComponentStatus::Stopped));
    assert_eq!(server.status("lifecycle-second"), Some(ComponentStatus::Stopped));
}

#[tokio::test]
async fn a_call_that_outlasts_the_drain_deadline_is_cut_off_before_the_hooks_run() {
    let events = Events::default();
    let registry = LocalRegistry::new();
    let drain = Duration::from_millis(300);
    let mut server = Server::builder()
        .registry(registry.clone())
        .component(First { events: events.clone() })
        .service::<dyn Gate>(Door::new(&events))
        .drain_timeout(drain)
        .start()
        .await
        .expect("server starts");
    let gate = ServiceManager::new(registry).proxy::<dyn Gate>().component("lifecycle-first").build().expect("proxy");
    let call = tokio::spawn(async move { gate.pass().await });
    wait_until(DEADLINE, "the call is in flight", || async { events.contains("call started") }).await;

    let started = Instant::now();
    server.shutdown().await.expect("shutdown ends at the deadline");
    assert!(started.elapsed() < drain + Duration::from_secs(5), "shutdown took {:?}", started.elapsed());
    assert_eq!(
        events.all(),
        ["start lifecycle-first", "call started", "call cut off", "stop lifecycle-first"],
        "the call is cut off, not left running under a component that has shut down"
    );
    let error = call.await.expect("call task").expect_err("the caller learns its call was cut off");
    assert_eq!(error.code, ErrorCode::MaybeExecuted, "cut off mid-call, it may have run: {error}");
}

#[tokio::test]
async fn a_failing_shutdown_hook_leaves_its_component_failed_with_the_cause() {
    let events = Events::default();
    let mut server = Server::builder()
        .registry(LocalRegistry::new())
        .component(First { events: events.clone() })
        .component(Brittle)
        .service::<dyn Gate>(Door::new(&events))
        .start()
        .await
        .expect("server starts");
    assert_eq!(server.status("lifecycle-brittle"), Some(ComponentStatus::Running));
    assert_eq!(server.status("lifecycle-unknown"), None);

    let error = server.shutdown().await.expect_err("the shutdown hook fails");
    assert!(matches!(error, ServerError::Hook { component: "lifecycle-brittle", stage: "stop", .. }), "{error}");
    let failed = ComponentStatus::Failed { cause: "shutdown: internal: the journal cannot be flushed".into() };
    assert_eq!(server.status("lifecycle-brittle"), Some(failed.clone()));
    assert_eq!(server.status("lifecycle-first"), Some(ComponentStatus::Stopped), "the other one still stops");
    let report = server.health().await;
    assert_eq!(report.component("lifecycle-brittle"), Some(&failed));
    assert_eq!(report.status, HealthStatus::Error);
    assert_eq!(
        serde_json::to_value(&report.components[1]).expect("JSON"),
        serde_json::json!({"name": "lifecycle-brittle", "status": "failed",
            "cause": "shutdown: internal: the journal cannot be flushed"})
    );
}
