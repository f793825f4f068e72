//! Tracing and metrics of the calls a server answers: a tower layer around the dispatch
//! endpoint that continues the caller's trace, opens a span per call, runs the call with
//! its trace context current (so calls the method makes carry the same trace id), and
//! measures it. It reads only the path, the headers and the response's status, so the
//! dispatch endpoint itself knows nothing of it.

mod endpoints;

pub(crate) use endpoints::Endpoints;

use crate::grpc::GrpcOutcome;
use axum::{extract::Request, response::Response};
use courier_core::{
    telemetry::{self, CallMeter, Side},
    TraceContext,
};
use futures_util::future::BoxFuture;
use std::{
    convert::Infallible,
    future::Future,
    sync::Arc,
    task::{Context, Poll},
};
use tower::{Layer, Service};
use tracing::Instrument;

/// Wraps the dispatch endpoint in [`Observe`].
#[derive(Debug, Clone)]
pub(crate) struct ObserveLayer {
    endpoints: Arc<Endpoints>,
}

impl ObserveLayer {
    pub(crate) fn new(endpoints: Endpoints) -> Self {
        Self { endpoints: Arc::new(endpoints) }
    }

    /// What calls are labelled with.
    pub(crate) fn endpoints(&self) -> &Arc<Endpoints> {
        &self.endpoints
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner, endpoints: Arc::clone(&self.endpoints) }
    }
}

/// The dispatch endpoint, traced and measured.
#[derive(Debug, Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    endpoints: Arc<Endpoints>,
}

impl<S> Service<Request> for Observe<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // The clone takes the place of the service that was polled ready, which serves.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let endpoints = Arc::clone(&self.endpoints);
        Box::pin(async move {
            let answered = observe(&endpoints, request, |request| async move {
                match inner.call(request).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            });
            Ok(answered.await)
        })
    }
}

/// Answers `request` with `call`, traced and measured as a call to the endpoint it names.
pub(crate) async fn observe<F, A>(endpoints: &Endpoints, request: Request, call: F) -> Response
where
    F: FnOnce(Request) -> A,
    A: Future<Output = Response>,
{
    let (labels, instance) = endpoints.labels(&request);
    let parent =
        request.headers().get(TraceContext::HEADER).and_then(|value| value.to_str().ok()).and_then(TraceContext::parse);
    let (span, context) = telemetry::server_span(&labels, instance, parent.as_ref());
    let meter = CallMeter::start(Side::Server, labels);
    let response = context.scope(call(request)).instrument(span.clone()).await;
    let outcome = match response.extensions().get::<GrpcOutcome>() {
        Some(GrpcOutcome(outcome)) => outcome,
        None => {
            let method_error = response.headers().contains_key(courier_core::wire::ERROR_HEADER);
            telemetry::response_outcome(response.status().as_u16(), method_error)
        }
    };
    span.record("outcome", outcome);
    meter.finish(outcome);
    response
}
