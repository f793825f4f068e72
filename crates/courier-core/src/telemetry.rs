//! What courier measures and traces, in one place: the metric names (recorded through
//! the `metrics` facade, so they land in whatever recorder the process installed), and
//! the `tracing` spans of calls, both sides alike.
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `courier_server_requests_total` | counter | service, method, channel, outcome |
//! | `courier_server_request_duration_seconds` | histogram | service, method, channel, outcome |
//! | `courier_server_requests_in_flight` | gauge | service, method, channel |
//! | `courier_client_requests_total` | counter | service, method, channel, outcome |
//! | `courier_client_request_duration_seconds` | histogram | service, method, channel, outcome |
//! | `courier_client_requests_in_flight` | gauge | service, method, channel |
//! | `courier_client_selections_total` | counter | component, channel, instance |
//! | `courier_registry_watch_updates_total` | counter | registry, component, channel |
//! | `courier_registry_instances` | gauge | registry, component, channel |
//! | `courier_jobs_submitted_total` | counter | component, service, method |
//! | `courier_jobs_total` | counter | component, service, method, outcome |
//! | `courier_job_duration_seconds` | histogram | component, service, method |
//! | `courier_jobs_queued` | gauge | component |
//! | `courier_jobs_running` | gauge | component |
//! | `courier_job_redeliveries_total` | counter | component |
//!
//! `outcome` is `ok`, `method_error` (the method returned its own error), `cancelled`
//! (the caller went away), or the [`ErrorCode`] of a fault, such as
//! `not_found` or `unavailable`.

use crate::{ChannelKind, ErrorCode, Outcome, Reply, ServiceError, TraceContext};
use foldhash::HashMap;
use metrics::{
    counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram, Counter, Gauge, Histogram, Unit,
};
use std::{
    sync::{Arc, LazyLock, RwLock},
    time::Instant,
};
use tracing::{field::Empty, Span};

/// Calls a server answered.
pub const SERVER_REQUESTS: &str = "courier_server_requests_total";
/// How long a server took to answer, from request head to response head.
pub const SERVER_DURATION: &str = "courier_server_request_duration_seconds";
/// Calls a server is answering now.
pub const SERVER_IN_FLIGHT: &str = "courier_server_requests_in_flight";
/// Calls a proxy made.
pub const CLIENT_REQUESTS: &str = "courier_client_requests_total";
/// How long a proxy's calls took, instance selection and decoding included.
pub const CLIENT_DURATION: &str = "courier_client_request_duration_seconds";
/// Calls proxies are waiting on now.
pub const CLIENT_IN_FLIGHT: &str = "courier_client_requests_in_flight";
/// Times a proxy picked an instance for a call.
pub const CLIENT_SELECTIONS: &str = "courier_client_selections_total";
/// Changes to the instances a registry reports to watching proxies.
pub const WATCH_UPDATES: &str = "courier_registry_watch_updates_total";
/// The instances a registry reports now.
pub const INSTANCES: &str = "courier_registry_instances";

/// Jobs a server queued.
pub const JOBS_SUBMITTED: &str = "courier_jobs_submitted_total";
/// Jobs a server's workers ended, by outcome (`succeeded`, `failed`, `cancelled`).
pub const JOBS_ENDED: &str = "courier_jobs_total";
/// How long a job's method ran, on the worker.
pub const JOB_DURATION: &str = "courier_job_duration_seconds";
/// Jobs waiting for a worker, as the queue last said.
pub const JOBS_QUEUED: &str = "courier_jobs_queued";
/// Jobs a server's workers run now.
pub const JOBS_RUNNING: &str = "courier_jobs_running";
/// Jobs a worker took that an earlier worker had taken and not ended.
pub const JOB_REDELIVERIES: &str = "courier_job_redeliveries_total";

/// The suffix of every histogram, for exporters that need buckets per metric.
pub const DURATION_SUFFIX: &str = "_duration_seconds";

/// Gives every metric its help text and unit; call once the recorder is installed.
pub fn describe() {
    describe_counter!(SERVER_REQUESTS, Unit::Count, "Calls a courier server answered.");
    describe_histogram!(SERVER_DURATION, Unit::Seconds, "How long a courier server took to answer a call.");
    describe_gauge!(SERVER_IN_FLIGHT, Unit::Count, "Calls a courier server is answering now.");
    describe_counter!(CLIENT_REQUESTS, Unit::Count, "Calls courier proxies made.");
    describe_histogram!(CLIENT_DURATION, Unit::Seconds, "How long calls of courier proxies took.");
    describe_gauge!(CLIENT_IN_FLIGHT, Unit::Count, "Calls courier proxies are waiting on now.");
    describe_counter!(CLIENT_SELECTIONS, Unit::Count, "Times a courier proxy picked this instance for a call.");
    describe_counter!(WATCH_UPDATES, Unit::Count, "Changes to the instances a registry reports to proxies.");
    describe_gauge!(INSTANCES, Unit::Count, "The instances a registry reports now.");
    describe_counter!(JOBS_SUBMITTED, Unit::Count, "Jobs a courier server queued.");
    describe_counter!(JOBS_ENDED, Unit::Count, "Jobs a courier server's workers ended, by outcome.");
    describe_histogram!(JOB_DURATION, Unit::Seconds, "How long a job's method ran on a courier worker.");
    describe_gauge!(JOBS_QUEUED, Unit::Count, "Jobs waiting for a worker, as the queue last said.");
    describe_gauge!(JOBS_RUNNING, Unit::Count, "Jobs a courier server's workers run now.");
    describe_counter!(JOB_REDELIVERIES, Unit::Count, "Jobs a worker took again after an earlier run stopped.");
}

/// Which end of a call is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The proxy.
    Client,
    /// The server.
    Server,
}

impl Side {
    /// The names of the side's requests counter, duration histogram and in-flight gauge.
    const fn names(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Client => (CLIENT_REQUESTS, CLIENT_DURATION, CLIENT_IN_FLIGHT),
            Self::Server => (SERVER_REQUESTS, SERVER_DURATION, SERVER_IN_FLIGHT),
        }
    }
}

/// What a call is labelled with. Every value is bounded: a server labels calls to
/// paths it does not serve `unknown`, whatever the peer sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallLabels {
    /// The service called.
    pub service: &'static str,
    /// The method called.
    pub method: &'static str,
    /// The channel it came or went on.
    pub channel: &'static str,
}

/// One call, measured: in flight from [`start`](Self::start) until
/// [`finish`](Self::finish), or until dropped, which counts as `cancelled`.
#[derive(Debug)]
pub struct CallMeter {
    side: Side,
    labels: CallLabels,
    handles: Arc<Handles>,
    started: Instant,
    done: bool,
}

impl CallMeter {
    /// Counts the call in flight.
    pub fn start(side: Side, labels: CallLabels) -> Self {
        let handles = Handles::of(side, labels);
        handles.in_flight.increment(1.0);
        Self { side, labels, handles, started: Instant::now(), done: false }
    }

    /// Records the call's outcome and how long it took.
    pub fn finish(mut self, outcome: &'static str) {
        self.record(outcome);
    }

    fn record(&mut self, outcome: &'static str) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        self.handles.in_flight.decrement(1.0);
        let elapsed = self.started.elapsed().as_secs_f64();
        if outcome == OK {
            self.handles.ok.increment(1);
            self.handles.ok_duration.record(elapsed);
            return;
        }
        let (requests, duration, _) = self.side.names();
        let CallLabels { service, method, channel } = self.labels;
        let labels = [("service", service), ("method", method), ("channel", channel), ("outcome", outcome)];
        counter!(requests, &labels).increment(1);
        histogram!(duration, &labels).record(elapsed);
    }
}

/// The outcome of a call that went well.
const OK: &str = "ok";

/// The metrics every call of one side and set of labels records, looked up in the
/// recorder once rather than on every call: its in-flight gauge, and its requests
/// counter and duration histogram for the outcome `ok`.
#[derive(Debug)]
struct Handles {
    in_flight: Gauge,
    ok: Counter,
    ok_duration: Histogram,
}

/// Metric handles looked up so far, by key, and the recorder they belong to: a program
/// that installs another recorder gets handles from that one.
#[derive(Debug)]
struct ByRecorder<K, V> {
    recorder: usize,
    values: HashMap<K, V>,
}

impl<K, V> Default for ByRecorder<K, V> {
    fn default() -> Self {
        Self { recorder: 0, values: HashMap::default() }
    }
}

impl<K: Eq + std::hash::Hash, V: Clone> ByRecorder<K, V> {
    /// The value of `key` in the current recorder, made by `look_up` the first time.
    /// Past `bound` values, all are let go in one sweep.
    fn get<Q>(cache: &RwLock<Self>, key: &Q, bound: usize, look_up: impl FnOnce() -> V) -> V
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + std::hash::Hash + ToOwned<Owned = K> + ?Sized,
    {
        let recorder = recorder();
        {
            let cache = crate::sync::read(cache);
            if let Some(value) = cache.values.get(key).filter(|_| cache.recorder == recorder) {
                return value.clone();
            }
        }
        let value = look_up();
        let mut cache = crate::sync::write(cache);
        if cache.recorder != recorder || cache.values.len() >= bound {
            *cache = Self { recorder, values: HashMap::default() };
        }
        cache.values.insert(key.to_owned(), value.clone());
        value
    }
}

/// The handles of every side and set of labels looked up so far.
type HandleCache = RwLock<ByRecorder<(Side, CallLabels), Arc<Handles>>>;

static HANDLES: LazyLock<HandleCache> = LazyLock::new(RwLock::default);

impl Handles {
    /// The handles of `side` and `labels` in the current recorder.
    fn of(side: Side, labels: CallLabels) -> Arc<Self> {
        // The labels are the methods' own names: as many as there are methods.
        ByRecorder::get(&HANDLES, &(side, labels), usize::MAX, || Arc::new(Self::look_up(side, labels)))
    }

    fn look_up(side: Side, labels: CallLabels) -> Self {
        let (requests, duration, in_flight) = side.names();
        let CallLabels { service, method, channel } = labels;
        let ok = [("service", service), ("method", method), ("channel", channel), ("outcome", OK)];
        Self {
            in_flight: gauge!(in_flight, "service" => service, "method" => method, "channel" => channel),
            ok: counter!(requests, &ok),
            ok_duration: histogram!(duration, &ok),
        }
    }
}

impl Drop for CallMeter {
    fn drop(&mut self) {
        self.record("cancelled");
    }
}

/// The outcome label of a proxy's call.
pub fn reply_outcome(result: &Result<Reply, ServiceError>) -> &'static str {
    match result {
        Ok(reply) if reply.outcome == Outcome::MethodError => "method_error",
        Ok(_) => OK,
        Err(error) => error.code.as_str(),
    }
}

/// The outcome label of a server's answer: its status, and whether the body is the
/// method's own error.
pub fn response_outcome(status: u16, method_error: bool) -> &'static str {
    match (status, method_error) {
        (200..=299, _) => OK,
        (_, true) => "method_error",
        (status, false) => ErrorCode::from_status(status).as_str(),
    }
}

/// The span of a proxy's call, and the call's trace context: a child of `parent`, the
/// caller's, or a new trace. The channel records `instance` once it has picked one, and
/// the caller records `outcome`.
pub fn client_span(labels: &CallLabels, parent: Option<&TraceContext>) -> (Span, TraceContext) {
    let span = tracing::info_span!(
        "courier.client",
        service = labels.service,
        method = labels.method,
        channel = labels.channel,
        instance = Empty,
        outcome = Empty,
        trace_id = Empty,
        span_id = Empty,
        parent_span_id = Empty,
        otel.name = Empty,
        otel.kind = Empty,
    );
    let context = identify(&span, labels, parent, Side::Client);
    (span, context)
}

/// The span of a call a server answers, as instance `instance`, and the call's trace
/// context: a child of `parent`, the caller's `traceparent`, or a new trace. The caller
/// records `outcome`.
pub fn server_span(labels: &CallLabels, instance: &str, parent: Option<&TraceContext>) -> (Span, TraceContext) {
    let span = tracing::info_span!(
        "courier.server",
        service = labels.service,
        method = labels.method,
        channel = labels.channel,
        instance,
        outcome = Empty,
        trace_id = Empty,
        span_id = Empty,
        parent_span_id = Empty,
        otel.name = Empty,
        otel.kind = Empty,
    );
    let context = identify(&span, labels, parent, Side::Server);
    (span, context)
}

/// The trace context of the call `span` stands for, recorded on it: the ids
/// OpenTelemetry gives the span when it exports (feature `otel`), courier's own else.
fn identify(span: &Span, labels: &CallLabels, parent: Option<&TraceContext>, side: Side) -> TraceContext {
    #[cfg(feature = "otel")]
    let adopted = {
        let kind = match side {
            Side::Client => opentelemetry::trace::SpanKind::Client,
            Side::Server => opentelemetry::trace::SpanKind::Server,
        };
        crate::otel::adopt(span, parent, kind, &format!("{}/{}", labels.service, labels.method))
    };
    #[cfg(not(feature = "otel"))]
    let adopted = {
        let _ = (labels, side);
        None
    };
    let context = adopted.unwrap_or_else(|| parent.map_or_else(TraceContext::root, TraceContext::child));
    span.record("trace_id", format_args!("{:032x}", context.trace_id()));
    span.record("span_id", format_args!("{:016x}", context.span_id()));
    if let Some(parent) = parent {
        span.record("parent_span_id", format_args!("{:016x}", parent.span_id()));
    }
    context
}

/// The selections of a component's instances on one channel, counted per instance with
/// handles looked up in the recorder once rather than on every call.
#[derive(Debug)]
pub struct Selections {
    component: String,
    channel: ChannelKind,
    /// The handle of each instance so far.
    counters: RwLock<ByRecorder<String, Counter>>,
}

impl Selections {
    /// Counts the selections of `component`'s instances on `channel`.
    pub fn new(component: &str, channel: ChannelKind) -> Self {
        Self { component: component.to_owned(), channel, counters: RwLock::default() }
    }

    /// Counts a call sent to `instance`.
    pub fn count(&self, instance: &str) {
        // Instances come and go: past the bound, the handles of those long gone go too.
        let counter = ByRecorder::get(&self.counters, instance, MAX_SELECTION_HANDLES, || {
            counter!(
                CLIENT_SELECTIONS,
                "component" => self.component.clone(),
                "channel" => self.channel.name(),
                "instance" => instance.to_owned(),
            )
        });
        counter.increment(1);
    }
}

/// The most instances whose selection counters [`Selections`] keeps at once.
const MAX_SELECTION_HANDLES: usize = 4096;

/// Which recorder is installed: handles looked up in one do not count in another.
fn recorder() -> usize {
    metrics::with_recorder(|recorder| std::ptr::from_ref(recorder).cast::<()>() as usize)
}

/// Counts a change to the instances `registry` reports for a component on a channel.
pub fn watch_updated(registry: &'static str, component: &str, channel: ChannelKind, instances: usize) {
    let labels = [
        ("registry", registry.to_owned()),
        ("component", component.to_owned()),
        ("channel", channel.name().to_owned()),
    ];
    counter!(WATCH_UPDATES, &labels).increment(1);
    gauge!(INSTANCES, &labels).set(instances as f64);
}
