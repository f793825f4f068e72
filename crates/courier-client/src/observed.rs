//! The client side of tracing and metrics: a [`Channel`] that wraps the remote channel,
//! and gives every call a span, a trace context and its measurements.

use crate::channel::HttpChannel;
use courier_core::{
    jobs::{JobId, JobLink},
    telemetry::{self, CallLabels, CallMeter, Side},
    BoxFuture, Call, Channel, ChannelKind, MethodDescriptor, Reply, ServiceDescriptor, ServiceError, TraceContext,
};
use std::sync::Arc;
use tracing::Instrument;

/// Traces and measures the calls of the remote channel it wraps, in the same future as
/// the call itself. The call runs with a context
/// of its own as [`TraceContext::current`]: a child of the caller's, when the caller is
/// itself answering a call, so the trace goes on; a new trace otherwise. The wrapped
/// channel sends that context on as `traceparent`.
#[derive(Debug)]
pub(crate) struct Observed {
    inner: HttpChannel,
    channel: ChannelKind,
}

impl Observed {
    pub(crate) fn new(inner: HttpChannel, channel: ChannelKind) -> Self {
        Self { inner, channel }
    }
}

impl Channel for Observed {
    fn call<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Reply, ServiceError>> {
        Box::pin(async move {
            let labels =
                CallLabels { service: call.service.name, method: call.method.name, channel: self.channel.name() };
            let (span, context) = telemetry::client_span(&labels, TraceContext::current().as_ref());
            let meter = CallMeter::start(Side::Client, labels);
            let result = context.scope(self.inner.send(call)).instrument(span.clone()).await;
            let outcome = telemetry::reply_outcome(&result);
            span.record("outcome", outcome);
            meter.finish(outcome);
            result
        })
    }

    fn submit<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Arc<dyn JobLink>, ServiceError>> {
        Box::pin(async move {
            let parent = TraceContext::current();
            let context = parent.as_ref().map_or_else(TraceContext::root, TraceContext::child);
            context.scope(self.inner.submit(call)).await
        })
    }

    fn attach(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static MethodDescriptor,
        id: JobId,
    ) -> Result<Arc<dyn JobLink>, ServiceError> {
        self.inner.attach(service, method, id)
    }
}

/// Adds the current call's trace context to a request's headers, as `traceparent`.
pub(crate) fn trace(headers: &mut http::HeaderMap) {
    if let Some(value) =
        TraceContext::current().and_then(|context| http::HeaderValue::from_bytes(&context.header_bytes()).ok())
    {
        headers.insert(TraceContext::HEADER_NAME, value);
    }
}
