//! One call's way through the server, whichever channel brought it — dispatch, gRPC or
//! REST: its caller is authenticated and checked against the method's rule, admitted
//! past the server's drain and the component's limit, and only then are its arguments
//! read; a `#[queued]` method's call becomes a job, any other runs until the caller's
//! deadline, a panic in the method answering as an internal fault.

use crate::{
    admission::{Gate, Limit},
    context::admit,
    jobs::{self, QueuedMethod},
};
use axum::body::Body;
use bytes::Bytes;
use courier_core::{
    auth::{Access, Authenticator},
    jobs::{JobQueue, JobStatus},
    rest::{RestRequest, RestResponse},
    BoxFuture, Dispatch, Dispatched, ErrorCode, Format, ServiceError,
};
use futures_util::{future::Either, FutureExt};
use http::request::Parts;
use http_body_util::{LengthLimitError, Limited};
use std::{future::Future, panic::AssertUnwindSafe, sync::Arc, time::Duration};

/// What every call of a server passes through.
pub(crate) struct Pipeline {
    authenticator: Option<Arc<dyn Authenticator>>,
    gate: Arc<Gate>,
    queue: Arc<dyn JobQueue>,
    max_body_bytes: usize,
}

/// One method, as calls reach it.
pub(crate) struct Target {
    dispatcher: Arc<dyn Dispatch>,
    method: usize,
    access: Access,
    /// Its component's limit on calls at once, if it has one.
    limit: Option<Arc<Limit>>,
    /// For a `#[queued]` method: submitted as a job instead of run.
    queued: Option<QueuedMethod>,
}

/// What a call came to.
pub(crate) enum Answer<T> {
    /// The method ran, and answered this.
    Ran(T),
    /// The call was queued as this job.
    Queued(JobStatus),
}

/// A call's arguments, as one channel carries them.
pub(crate) trait Arguments: Send + 'static {
    /// What the method's answer is, on this channel.
    type Reply;

    /// The arguments as a job keeps them: their format and bytes, and whether they came
    /// as a REST request.
    fn into_job(self, target: &Target) -> Result<(Format, Bytes, bool), ServiceError>;

    /// Runs the method with them.
    fn run(self, target: &Target) -> BoxFuture<'static, Self::Reply>;
}

/// Arguments encoded in one codec: a dispatch or gRPC call's body.
pub(crate) struct Encoded {
    pub(crate) format: Format,
    pub(crate) body: Bytes,
}

impl Arguments for Encoded {
    type Reply = Dispatched;

    fn into_job(self, _: &Target) -> Result<(Format, Bytes, bool), ServiceError> {
        Ok((self.format, self.body, false))
    }

    fn run(self, target: &Target) -> BoxFuture<'static, Dispatched> {
        target.dispatcher.dispatch(target.method, self.format, self.body)
    }
}

impl Arguments for RestRequest {
    type Reply = RestResponse;

    fn into_job(self, target: &Target) -> Result<(Format, Bytes, bool), ServiceError> {
        Ok((Format::Json, target.dispatcher.rest_arguments(target.method, self)?.into(), true))
    }

    fn run(self, target: &Target) -> BoxFuture<'static, RestResponse> {
        target.dispatcher.rest(target.method, self)
    }
}

impl Target {
    pub(crate) fn new(
        dispatcher: Arc<dyn Dispatch>,
        method: &courier_core::MethodDescriptor,
        limit: Option<Arc<Limit>>,
        queued: Option<QueuedMethod>,
    ) -> Self {
        Self { dispatcher, method: method.index, access: method.access, limit, queued }
    }

    /// Whether its calls become jobs.
    pub(crate) fn is_queued(&self) -> bool {
        self.queued.is_some()
    }
}

impl Pipeline {
    pub(crate) fn new(
        authenticator: Option<Arc<dyn Authenticator>>,
        gate: Arc<Gate>,
        queue: Arc<dyn JobQueue>,
        max_body_bytes: usize,
    ) -> Self {
        Self { authenticator, gate, queue, max_body_bytes }
    }

    /// Who authenticates callers, if anyone.
    pub(crate) fn authenticator(&self) -> Option<&dyn Authenticator> {
        self.authenticator.as_deref()
    }

    /// The largest arguments a call may carry.
    pub(crate) fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Takes a call to `target` with head `parts` through every step; `arguments` reads
    /// its arguments, once the caller is admitted.
    pub(crate) async fn call<A: Arguments>(
        &self,
        target: &Target,
        parts: &Parts,
        arguments: impl Future<Output = Result<A, ServiceError>>,
    ) -> Result<Answer<A::Reply>, ServiceError> {
        let context = admit(&parts.headers, &parts.extensions, target.access, self.authenticator()).await?;
        let _pass = self.gate.admit(target.limit.as_deref()).await?;
        let arguments = arguments.await?;
        if let Some(queued) = target.queued {
            let (format, body, rest) = arguments.into_job(target)?;
            // Boxed: a queue's future is larger than a call's, and only queued calls wait on it.
            let submitted = Box::pin(jobs::submit(&*self.queue, queued, format, body, rest, &context));
            return Ok(Answer::Queued(submitted.await?));
        }
        let remaining = context.remaining();
        let method = context.scope(arguments.run(target));
        match within(remaining, AssertUnwindSafe(method).catch_unwind()).await? {
            Ok(reply) => Ok(Answer::Ran(reply)),
            Err(_) => {
                tracing::error!(path = %parts.uri.path(), "service method panicked");
                Err(ServiceError::internal("the method panicked"))
            }
        }
    }
}

/// Runs a call until the caller's deadline, if it sent one; past it the work is dropped.
/// Not an `async fn`: one would hold the call's future twice, as its argument and as
/// what it awaits.
fn within<F: Future>(remaining: Option<Duration>, call: F) -> impl Future<Output = Result<F::Output, ServiceError>> {
    let Some(remaining) = remaining else { return Either::Left(call.map(Ok)) };
    Either::Right(tokio::time::timeout(remaining, call).map(move |done| {
        done.map_err(|_| {
            tracing::info!(
                deadline_ms = remaining.as_millis(),
                "the caller's deadline passed: work on the call stopped"
            );
            ServiceError::new(ErrorCode::Timeout, "the call's deadline passed before it finished")
        })
    }))
}

/// A request's whole body, up to `limit` bytes.
pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ServiceError> {
    let too_large = || ServiceError::new(ErrorCode::PayloadTooLarge, format!("request body exceeds {limit} bytes"));
    match crate::body::whole(Limited::new(body, limit)).await {
        Ok(whole) => Ok(whole),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(error) => Err(ServiceError::bad_request(format!("cannot read request body: {error}"))),
    }
}
