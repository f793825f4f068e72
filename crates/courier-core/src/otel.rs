//! OpenTelemetry export (feature `otel`): courier's call spans, on both sides, sent over
//! OTLP to a collector, with the trace ids and parent links that `traceparent` carries.
//!
//! [`Otel::from_env`] reads the standard variables — `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
//! `OTEL_EXPORTER_OTLP_HEADERS` — and exports with OTLP over HTTP and protobuf; its
//! [`layer`](Otel::layer) joins the program's `tracing` subscriber:
//!
//! ```no_run
//! # use courier_core as courier;
//! use courier::otel::Otel;
//! use tracing_subscriber::prelude::*;
//!
//! # fn main() -> Result<(), courier::ServiceError> {
//! let otel = Otel::from_env()?; // None without an endpoint: nothing is exported
//! tracing_subscriber::registry().with(otel.as_ref().map(Otel::layer)).init();
//! // ... serve and call; dropping `otel` sends what is left.
//! # Ok(()) }
//! ```
//!
//! Every `courier.client` and `courier.server` span becomes an OTel span of kind
//! client or server, named `<service>/<method>`, with the span's fields as attributes:
//! `service`, `method`, `channel`, `instance`, `outcome`. Its trace id and span id are
//! the ones courier sends as `traceparent`, so a trace stays one trace across processes,
//! whether or not every process exports; spans of the program's own nest under
//! courier's as usual.

use crate::{ServiceError, TraceContext};
use opentelemetry::{
    trace::{SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _},
    Context,
};
use opentelemetry_sdk::{trace::SdkTracerProvider, Resource};
use tracing::Span;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};

/// The variable that turns export on: where the OTLP collector listens.
pub const ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The variable that names the endpoint for traces alone.
const TRACES_ENDPOINT_VARIABLE: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";

/// An OTLP exporter of the process's spans. Dropping it sends the spans still queued.
#[derive(Debug)]
pub struct Otel {
    provider: SdkTracerProvider,
}

/// The layer that hands a subscriber's spans to OpenTelemetry.
pub type OtelLayer<S> = OpenTelemetryLayer<S, opentelemetry_sdk::trace::Tracer>;

impl Otel {
    /// An exporter to the collector the environment names; `None` when neither
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` nor `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set.
    pub fn from_env() -> Result<Option<Self>, ServiceError> {
        if std::env::var_os(ENDPOINT_VARIABLE).is_none() && std::env::var_os(TRACES_ENDPOINT_VARIABLE).is_none() {
            return Ok(None);
        }
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|error| ServiceError::internal(format!("{ENDPOINT_VARIABLE}: cannot export there: {error}")))?;
        let provider = SdkTracerProvider::builder()
            .with_resource(Resource::builder().build())
            .with_batch_exporter(exporter)
            .build();
        Ok(Some(Self { provider }))
    }

    /// The `tracing` layer that exports spans through this exporter.
    pub fn layer<S>(&self) -> OtelLayer<S>
    where
        S: tracing::Subscriber + for<'span> tracing_subscriber::registry::LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("courier"))
    }

    /// Sends the spans queued so far, and waits until they are sent.
    pub fn flush(&self) -> Result<(), ServiceError> {
        self.provider.force_flush().map_err(|error| ServiceError::unavailable(format!("cannot export spans: {error}")))
    }
}

impl Drop for Otel {
    fn drop(&mut self) {
        if let Err(error) = self.provider.shutdown() {
            tracing::warn!(%error, "spans still queued were not exported");
        }
    }
}

/// Makes `span` the OTel span of a call, and gives the call's trace context: a child of
/// the span it runs in, or of `parent` (the caller's context, or its `traceparent` on a
/// server) when that span is not of `parent`'s trace. `None` when no OTel layer records
/// the span: courier then makes its own ids.
pub(crate) fn adopt(span: &Span, parent: Option<&TraceContext>, kind: SpanKind, name: &str) -> Option<TraceContext> {
    let inherited = span.context().span().span_context().trace_id();
    if let Some(parent) = parent.filter(|parent| TraceId::from(parent.trace_id()) != inherited) {
        let flags = if parent.sampled() { TraceFlags::SAMPLED } else { TraceFlags::default() };
        let parent = SpanContext::new(
            TraceId::from(parent.trace_id()),
            SpanId::from(parent.span_id()),
            flags,
            true,
            TraceState::default(),
        );
        span.set_parent(Context::new().with_remote_span_context(parent));
    }
    let context = span.context();
    let own = context.span().span_context().clone();
    if !own.is_valid() {
        return None;
    }
    span.record("otel.kind", format!("{kind:?}").to_lowercase());
    span.record("otel.name", name);
    Some(TraceContext::from_parts(
        u128::from_be_bytes(own.trace_id().to_bytes()),
        u64::from_be_bytes(own.span_id().to_bytes()),
        own.is_sampled(),
    ))
}
