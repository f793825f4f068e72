//! A component's workers: each slot asks the component's gate, pulls one job from the
//! queue when it says yes, runs the method with the job in its `CallContext`, reports on
//! it while it runs, and records its outcome.

use courier_core::{
    jobs::{JobContext, JobOutcome, JobQueue, Lease},
    telemetry, CallContext, Component, Dispatch, ServiceError,
};
use futures_util::FutureExt;
use std::{collections::HashMap, panic::AssertUnwindSafe, sync::Arc, time::Duration};
use tokio::{sync::watch, task::JoinSet, time::Instant};

/// How long one pull waits for a job before the slot asks its gate again.
const PULL_WAIT: Duration = Duration::from_secs(5);
/// How soon a gate that said no is asked again.
const GATE_RETRY: Duration = Duration::from_millis(100);
/// How long a cancelled job's method has to stop before its future is dropped.
const CANCEL_GRACE: Duration = Duration::from_secs(5);
/// How often the queue's depth is read for `courier_jobs_queued`.
const DEPTH_EVERY: Duration = Duration::from_secs(1);

/// By service and method name, the dispatcher of each queued method and its index.
pub(crate) type QueuedMethods = HashMap<(&'static str, &'static str), (Arc<dyn Dispatch>, usize)>;

/// What one component's workers run.
pub(crate) struct Crew {
    pub(crate) component: Arc<dyn Component>,
    pub(crate) queue: Arc<dyn JobQueue>,
    /// By service and method name, the dispatcher and the method's index.
    pub(crate) methods: QueuedMethods,
}

/// The workers of every component of a server.
pub(crate) struct Workers {
    /// Stop pulling.
    stop: watch::Sender<bool>,
    /// Give back the jobs still running.
    abandon: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Workers {
    /// Starts `workers` slots per crew.
    pub(crate) fn spawn(crews: Vec<(Crew, usize)>) -> Self {
        let (stop, _) = watch::channel(false);
        let (abandon, _) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for (crew, workers) in crews {
            let crew = Arc::new(crew);
            for _ in 0..workers {
                tasks.spawn(slot(Arc::clone(&crew), stop.subscribe(), abandon.subscribe()));
            }
            tasks.spawn(measure_depth(crew, stop.subscribe()));
        }
        Self { stop, abandon, tasks }
    }

    /// Stops pulling, lets running jobs end for up to `drain`, then gives the rest back
    /// to the queue, to run elsewhere.
    pub(crate) async fn stop(mut self, drain: Duration) {
        self.stop.send_replace(true);
        let drained = tokio::time::timeout(drain, async { while self.tasks.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(?drain, "jobs still running at the drain timeout were given back to the queue");
            self.abandon.send_replace(true);
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

async fn measure_depth(crew: Arc<Crew>, mut stop: watch::Receiver<bool>) {
    let name = crew.component.descriptor().name;
    let gauge = metrics::gauge!(telemetry::JOBS_QUEUED, "component" => name);
    while !*stop.borrow() {
        if let Ok(depth) = crew.queue.depth(name).await {
            gauge.set(depth as f64);
        }
        let _ = tokio::time::timeout(DEPTH_EVERY, stop.changed()).await;
    }
}

async fn slot(crew: Arc<Crew>, mut stop: watch::Receiver<bool>, abandon: watch::Receiver<bool>) {
    let name = crew.component.descriptor().name;
    while !*stop.borrow() {
        if !crew.component.ready().await {
            let _ = tokio::time::timeout(GATE_RETRY, stop.changed()).await;
            continue;
        }
        let pulled = tokio::select! {
            pulled = crew.queue.pull(name, PULL_WAIT) => pulled,
            _ = stop.changed() => return,
        };
        match pulled {
            Ok(Some(lease)) => run(&crew, lease, abandon.clone()).await,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(component = name, %error, "cannot pull jobs; trying again in a second");
                let _ = tokio::time::timeout(Duration::from_secs(1), stop.changed()).await;
            }
        }
    }
}

/// Runs one job to its end, or until the server gives it back.
async fn run(crew: &Crew, mut lease: Box<dyn Lease>, mut abandon: watch::Receiver<bool>) {
    let request = lease.request().clone();
    let component = crew.component.descriptor().name;
    let labels =
        [("component", component.to_owned()), ("service", request.service.clone()), ("method", request.method.clone())];
    if lease.attempt() > 1 {
        metrics::counter!(telemetry::JOB_REDELIVERIES, "component" => component).increment(1);
    }
    let Some((dispatcher, index)) = crew.methods.get(&(request.service.as_str(), request.method.as_str())) else {
        let error = ServiceError::new(
            courier_core::ErrorCode::NotFound,
            format!("component `{component}` has no queued method {}.{}", request.service, request.method),
        );
        finish(lease, JobOutcome::Fault(error), &labels).await;
        return;
    };
    let (job, mut control) = JobContext::new(request.id, lease.attempt());
    let mut context = CallContext::default().with_principal(request.principal.clone()).with_job(job);
    for (key, value) in &request.metadata {
        context = context.with_metadata(key, value);
    }
    let span = tracing::info_span!("courier.job", job = %request.id, service = %request.service, method = %request.method, attempt = lease.attempt());
    let method = context.scope(dispatcher.dispatch(*index, request.format, request.body.clone()));
    let method = tracing::Instrument::instrument(AssertUnwindSafe(method).catch_unwind(), span);
    tokio::pin!(method);
    let running = metrics::gauge!(telemetry::JOBS_RUNNING, "component" => component);
    running.increment(1.0);
    let started = Instant::now();
    let every = crew.queue.heartbeat_interval();
    let mut beat = tokio::time::interval_at(Instant::now() + every, every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut cancelled_at: Option<Instant> = None;
    let answered = loop {
        let grace = async {
            match cancelled_at {
                Some(at) => tokio::time::sleep_until(at + CANCEL_GRACE).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            answered = &mut method => break Some(answered),
            _ = beat.tick() => match lease.heartbeat(control.take_progress()).await {
                Ok(true) if cancelled_at.is_none() => {
                    control.cancel();
                    cancelled_at = Some(Instant::now());
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(job = %request.id, %error, "cannot report on a running job"),
            },
            () = grace => break None,
            () = signalled(&mut abandon) => {
                running.decrement(1.0);
                if let Err(error) = lease.release("the worker's server stopped".into()).await {
                    tracing::warn!(job = %request.id, %error, "cannot give a job back");
                }
                return;
            }
        }
    };
    running.decrement(1.0);
    metrics::histogram!(telemetry::JOB_DURATION, &labels).record(started.elapsed().as_secs_f64());
    match answered {
        // Cancelled, and its method did not stop: the job ended as cancelled already.
        None => tracing::warn!(job = %request.id, "a cancelled job's method did not stop in time; dropped"),
        Some(Ok(dispatched)) => finish(lease, JobOutcome::of(dispatched, &request), &labels).await,
        Some(Err(_)) => {
            tracing::error!(job = %request.id, "a queued method panicked; the job goes back to the queue");
            if let Err(error) = lease.release("the method panicked".into()).await {
                tracing::warn!(job = %request.id, %error, "cannot give a job back");
            }
        }
    }
}

async fn finish(lease: Box<dyn Lease>, outcome: JobOutcome, labels: &[(&'static str, String); 3]) {
    let label = outcome.state().as_str();
    match lease.finish(outcome).await {
        Ok(true) => {
            let mut labels = labels.to_vec();
            labels.push(("outcome", label.to_owned()));
            metrics::counter!(telemetry::JOBS_ENDED, &labels).increment(1);
        }
        // Cancelled meanwhile, or another run ended it first: that outcome stands.
        Ok(false) => tracing::debug!("the job had ended already; this run's outcome is not recorded"),
        Err(error) => tracing::warn!(%error, "cannot record a job's outcome; it will run again"),
    }
}

/// Completes when `signal` turns true.
async fn signalled(signal: &mut watch::Receiver<bool>) {
    if signal.wait_for(|set| *set).await.is_err() {
        std::future::pending::<()>().await;
    }
}
